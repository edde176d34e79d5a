// Options of PromiseKeeper::map().
#pragma once

#include <pk/taskoptions.h>

namespace pk {

//! How PromiseKeeper::map() runs its items. A plain value type; reentrant.
struct MapOptions
{
    //! Items queued or running at once; 0 queues them all at once. A bound keeps a large input
    //! from filling the queue: the next item is submitted as one finishes.
    int maxInFlight = 0;
    //! Title and priority of each item's task (the title gets " [index]" appended).
    TaskOptions item {};
};

} // namespace pk
