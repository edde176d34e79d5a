// What only some tasks have: progress and a time-out, kept apart so that every other task's
// promise stays small.
#pragma once

#include <QtCore/qfutureinterface.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

#include <atomic>

namespace pk::detail {

/*!
    Allocated by TaskCore::ensureExtras() on first need, by any thread (a compare-and-swap);
    the task deletes it. The numbers are atomics that any thread may read; the text and the
    futures are guarded by the task's wait stripe mutex; timeoutMs is written before the task
    is published.
*/
struct TaskExtras
{
    std::atomic<qint64> progressMinimum { 0 };
    std::atomic<qint64> progressMaximum { 0 };
    std::atomic<qint64> progressValue { 0 };
    QString progressText;
    QList<QFutureInterfaceBase> futures; // Promise::future()'s, under the stripe mutex too
    qint64 timeoutMs = 0; // 0: none
    std::atomic<qint64> processId { 0 }; // the child running a submitToProcess() task
};

} // namespace pk::detail
