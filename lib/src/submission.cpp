// Submission: a task gets its id, title and priority and is queued, or fails at once with a
// rate-limited warning (an empty callable, a keeper shut down).

#include "clock_p.h"
#include "taskscheduler_p.h"

#include <pk/detail/taskcore.h>
#include <pk/errors.h>
#include <pk/logging.h>

namespace pk::detail {

void TaskScheduler::queue_locked(std::unique_lock<std::mutex> &lock, TaskCore *task, qint64 now)
{
    task->ref(); // the queue's reference
    m_queue[task->m_priority].push_back(task);
    ++m_counts.queued;
    // Written under the mutex only: a store, not a read-modify-write.
    m_queuedEpoch.store(
        m_queuedEpoch.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    record_locked(task, TaskState::Queued, now, -1);
    if (wakeWorker_locked()) {
        lock.unlock();
        m_workAvailable.notify_one();
    }
}

namespace {
std::exception_ptr rejection(bool emptyCallable)
{
    return emptyCallable ? std::make_exception_ptr(
               InvalidTaskError(QStringLiteral("the callable is empty (a null function)")))
                         : std::make_exception_ptr(ShutdownError());
}
} // namespace

bool TaskScheduler::rejectAtSubmission_locked(
    std::unique_lock<std::mutex> &lock, TaskCore *task, bool emptyCallable, const char *caller)
{
    if (!emptyCallable && !m_shutdown)
        return false;
    fail_locked(task, rejection(emptyCallable), task->state());
    warnRejected_locked(lock, emptyCallable, caller, task->m_id, task->m_title);
    settled(task);
    return true;
}

void TaskScheduler::warnRejected_locked(std::unique_lock<std::mutex> &lock, bool emptyCallable,
    const char *caller, quint64 id, const QString &title)
{
    qint64 suppressed = 0;
    const bool print
        = (emptyCallable ? m_emptyWarnings : m_shutdownWarnings).admit(monotonicNs(), suppressed);
    lock.unlock();
    if (!print)
        return;
    const QString more = suppressed > 0
        ? QStringLiteral(" (and %1 more since the last such warning)").arg(suppressed)
        : QString();
    if (emptyCallable)
        qCWarning(lcPromiseKeeper,
            "%s with an empty callable: task %llu (\"%s\") failed with "
            "pk::InvalidTaskError%s",
            caller, id, qUtf8Printable(title), qUtf8Printable(more));
    else
        qCWarning(lcPromiseKeeper,
            "%s after shutdown(): task %llu (\"%s\") failed with "
            "pk::ShutdownError%s",
            caller, id, qUtf8Printable(title), qUtf8Printable(more));
}

void TaskScheduler::enqueue(
    TaskCore *task, const TaskOptions &options, bool emptyCallable, const char *caller)
{
    adopt(task, options, TaskState::Queued);
    std::unique_lock lock(m_mutex, std::defer_lock);
    lockBriefly(lock);
    // Stamped under the mutex, so that event times follow the order of the events.
    task->m_queuedNs = monotonicNs();
    if (!rejectAtSubmission_locked(lock, task, emptyCallable, caller))
        queue_locked(lock, task, task->m_queuedNs);
}

void TaskScheduler::enqueueContinued(TaskCore *task, const TaskOptions &options)
{
    adopt(task, options, TaskState::Queued);
    std::unique_lock lock(m_mutex, std::defer_lock);
    lockBriefly(lock);
    const qint64 now = monotonicNs();
    task->m_queuedNs = now;
    if (m_shutdown && m_shutdownMode == ShutdownMode::CancelPending) {
        // Accepted with its submission before the shutdown, not started: cancelled, as
        // CancelPending does to everything that has not started.
        ++m_counts.queued;
        record_locked(task, TaskState::Queued, now, -1);
        cancel_locked(task, now);
        lock.unlock();
        settled(task);
        return;
    }
    queue_locked(lock, task, now);
}

bool TaskScheduler::admitMap(TaskCore *result, bool emptyCallable)
{
    std::unique_lock lock(m_mutex);
    if (!emptyCallable && !m_shutdown) {
        ++m_holds;
        return true;
    }
    warnRejected_locked(lock, emptyCallable, "map()", result->m_id, result->title());
    result->claimSettlement();
    result->publishSettlement(TaskState::Failed, rejection(emptyCallable));
    return false;
}

void TaskScheduler::releaseHold()
{
    std::lock_guard lock(m_mutex);
    Q_ASSERT(m_holds > 0);
    if (--m_holds == 0 && m_allDoneWaiters > 0 && m_counts.live() - m_contextLive <= m_allDoneSlack)
        m_allDone.notify_all();
}

} // namespace pk::detail
