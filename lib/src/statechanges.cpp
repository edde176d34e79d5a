// The changes of a task's state that the keeper's mutex orders: start, finish, failure and
// cancellation, each kept in the counts (and in the running list) and recorded as an event.

#include "clock_p.h"
#include "taskextras_p.h"
#include "taskscheduler_p.h"
#include "timeoutwatcher_p.h"

#include <pk/detail/taskcore.h>
#include <pk/errors.h>

#include <algorithm>

namespace pk::detail {

// After a task became final: wake its waiters and drop the reference its runner held.
// Outside the mutex, since dropping may run the destructor of the task's value.
void TaskScheduler::afterFinal(TaskCore *task) noexcept
{
    task->completed();
    task->deref();
}

void TaskScheduler::settled(TaskCore *task) noexcept
{
    task->dropCallable();
    task->completed();
}

void TaskScheduler::releaseTombstones(std::vector<TaskCore *> &tasks) noexcept
{
    for (TaskCore *t : tasks) {
        if (t->m_cancelFlags.load(std::memory_order_relaxed) & TaskCore::CancelledInQueue) {
            settled(t); // as cancel() does
        }
        t->deref();
    }
    tasks.clear();
}

void TaskScheduler::fail_locked(TaskCore *task, std::exception_ptr error, TaskState from)
{
    const qint64 now = monotonicNs();
    task->m_error = std::move(error);
    task->m_finishedNs = now;
    if (from == TaskState::Waiting) {
        leaveWaiting_locked(task);
    }
    ++m_counts.failed;
    record_locked(task, TaskState::Failed, now, -1);
}

void TaskScheduler::start_locked(TaskCore *task, int worker, qint64 now)
{
    task->m_startedNs = now;
    task->m_worker = worker;
    --m_counts.queued;
    ++m_counts.running;
    m_running.push_back(task);
    record_locked(task, TaskState::Running, now, worker);
    if (const TaskExtras *extras = task->extras(); extras && extras->timeoutMs > 0)
        TimeoutWatcher::instance().watch(task, now + extras->timeoutMs * 1'000'000);
}

void TaskScheduler::finish_locked(TaskCore *task, int worker, qint64 now)
{
    const quint8 flags = task->m_cancelFlags.load(std::memory_order_relaxed);
    TaskState state;
    if (flags & TaskCore::TimedOut) {
        // Whatever it returned or threw: it ran past its time.
        const TaskExtras *extras = task->extras();
        task->m_error = std::make_exception_ptr(
            TimeoutError(QStringLiteral("the task ran past its time-out of %1 ms")
                             .arg(extras ? extras->timeoutMs : 0)));
        task->m_errorPropagated = false;
        state = TaskState::Failed;
    } else if (task->m_error) {
        // Cooperative cancellation seen: throwing CancelledError when asked to stop is how a
        // task ends Cancelled. An exception from finally()'s handler replaces even a
        // cancellation.
        const bool cancelled
            = (flags & TaskCore::ThrewCancelled) && (flags & TaskCore::CancelRequested);
        if (cancelled)
            task->m_error = nullptr;
        state = cancelled ? TaskState::Cancelled : TaskState::Failed;
    } else {
        state = task->m_cancelAfterRun ? TaskState::Cancelled : TaskState::Succeeded;
    }
    task->m_finishedNs = now;
    --m_counts.running;
    ++(state == TaskState::Failed           ? m_counts.failed
            : state == TaskState::Cancelled ? m_counts.cancelled
                                            : m_counts.succeeded);
    if (flags & TaskCore::TimedOut)
        ++m_counts.timedOut;
    auto it = std::find(m_running.begin(), m_running.end(), task);
    Q_ASSERT(it != m_running.end()); // start_locked() put it there
    *it = m_running.back();
    m_running.pop_back();
    record_locked(task, state, now, worker);
}

void TaskScheduler::cancel_locked(TaskCore *task, qint64 now)
{
    task->m_finishedNs = now;
    if (task->state() == TaskState::Waiting) {
        leaveWaiting_locked(task);
    } else {
        --m_counts.queued;
    }
    ++m_counts.cancelled;
    record_locked(task, TaskState::Cancelled, now, -1);
}

bool TaskScheduler::startOutside(TaskCore *task)
{
    std::lock_guard lock(m_mutex);
    if (task->state() != TaskState::Waiting)
        return false;
    const qint64 now = monotonicNs();
    leaveWaiting_locked(task);
    ++m_counts.queued; // start_locked() moves it from queued to running
    start_locked(task, -1, now);
    return true;
}

void TaskScheduler::finishOutside(TaskCore *task)
{
    {
        std::lock_guard lock(m_mutex);
        finish_locked(task, -1, monotonicNs());
    }
    task->completed();
}

} // namespace pk::detail
