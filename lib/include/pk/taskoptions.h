// Per-task options given to PromiseKeeper::submit().
#pragma once

#include <QtCore/qstring.h>

#include <chrono>

namespace pk {

/*!
    How a task is to be run. A plain value type; reentrant.

    \code
    keeper.submit(pk::TaskOptions{QStringLiteral("thumbnail"), 10}, makeThumbnail, path);
    \endcode
*/
struct TaskOptions
{
    QString title; //!< shown in signals, TaskInfo and the monitor; empty by default
    int priority = 0; //!< higher starts first; equal priorities start in submission order
    /*!
        How long the task may run, counted from its start; zero (the default) is no limit. When
        it passes, cancellation is requested on the task's pk::TaskContext, and the task ends
        Failed with pk::TimeoutError when its callable returns or throws, whatever it returned.
        A thread cannot be killed: a task that never looks at its context runs to its end.
    */
    std::chrono::milliseconds timeout { 0 };
};

} // namespace pk
