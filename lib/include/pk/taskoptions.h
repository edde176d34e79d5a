// Per-task options given to PromiseKeeper::submit().
#pragma once

#include <QtCore/qstring.h>

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
};

} // namespace pk
