// What only some tasks have: progress and a time-out, kept apart so that every other task's
// promise stays small.
#pragma once

#include <QtCore/qstring.h>

#include <atomic>

namespace pk::detail {

/*!
    Allocated by TaskCore::ensureExtras() before the task is published (a time-out) or by the
    task's own thread while it runs (progress); the task deletes it. The numbers are atomics
    that any thread may read; the text is guarded by the task's wait stripe mutex.
*/
struct TaskExtras
{
    std::atomic<qint64> progressMinimum { 0 };
    std::atomic<qint64> progressMaximum { 0 };
    std::atomic<qint64> progressValue { 0 };
    QString progressText;
    qint64 timeoutMs = 0; // 0: none
};

} // namespace pk::detail
