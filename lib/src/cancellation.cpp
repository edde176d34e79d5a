// Cancelling: one task, by id, all of them, and at shutdown; asking running tasks to stop
// (requests and time-outs), which they see through their TaskContext.

#include "clock_p.h"
#include "taskscheduler_p.h"

#include <pk/detail/taskcore.h>

namespace pk::detail {

bool TaskScheduler::cancel(TaskCore *task)
{
    {
        std::lock_guard lock(m_mutex);
        const TaskState state = task->state();
        if (state != TaskState::Queued && state != TaskState::Waiting)
            return false;
        cancel_locked(task, monotonicNs());
    }
    // A queue entry stays as a tombstone holding its reference.
    settled(task);
    return true;
}

TaskCore *TaskScheduler::findLive_locked(quint64 id, bool running) const
{
    for (TaskCore *task : m_waiting) {
        if (task->m_id == id)
            return task;
    }
    for (const auto &bucket : m_queue) {
        for (TaskCore *task : bucket.second) {
            if (task->m_id == id && task->state() == TaskState::Queued)
                return task;
        }
    }
    if (running) {
        for (TaskCore *task : m_running) {
            if (task->m_id == id)
                return task;
        }
    }
    return nullptr;
}

bool TaskScheduler::cancelById(quint64 id, bool request)
{
    TaskCore *found = nullptr;
    {
        std::lock_guard lock(m_mutex);
        found = findLive_locked(id, request);
        if (!found)
            return false;
        found->ref();
    }
    const bool done = request ? requestCancellation(found) : cancel(found);
    found->deref();
    return done;
}

void TaskScheduler::cancelQueued_locked(
    std::vector<TaskCore *> &entries, std::vector<TaskCore *> &cancelled, bool poolContinuations)
{
    const qint64 now = monotonicNs();
    for (auto &bucket : m_queue) {
        for (TaskCore *task : bucket.second) {
            if (task->state() == TaskState::Queued) {
                cancel_locked(task, now);
                cancelled.push_back(task);
            }
            entries.push_back(task);
        }
    }
    m_queue.clear();
    // Waiting tasks too: their inputs may never finish, and nothing must stay pending. Waiting
    // continuations follow their inputs (onCancelled() and finally() run), except, when the
    // keeper stops, those that would run on its pool, which nothing would start.
    std::vector<TaskCore *> waiting;
    for (TaskCore *task : m_waiting) {
        if (task->m_kind == TaskKind::Task || (poolContinuations && !task->m_onContext))
            waiting.push_back(task);
    }
    for (TaskCore *task : waiting) {
        task->ref(); // released with the entries, like a queue reference
        cancel_locked(task, now);
        cancelled.push_back(task);
        entries.push_back(task);
    }
}

void TaskScheduler::requestCancellation_locked(std::vector<TaskCore *> &asked)
{
    for (TaskCore *task : m_running) {
        const quint8 was = task->m_cancelFlags.fetch_or(TaskCore::CancelRequested);
        if (!(was & TaskCore::CancelRequested)) {
            task->ref(); // until the update is noted, outside the mutex
            asked.push_back(task);
        }
    }
}

void TaskScheduler::settleCancelled(std::vector<TaskCore *> &entries,
    const std::vector<TaskCore *> &cancelled, std::vector<TaskCore *> &asked)
{
    for (TaskCore *task : cancelled) {
        settled(task);
    }
    release(entries); // the queue's references, tombstones of earlier cancels included
    for (TaskCore *task : asked)
        task->noteUpdate();
    release(asked);
}

int TaskScheduler::cancelAll()
{
    std::vector<TaskCore *> entries;
    std::vector<TaskCore *> cancelled;
    std::vector<TaskCore *> asked;
    {
        std::lock_guard lock(m_mutex);
        cancelQueued_locked(entries, cancelled, false);
        requestCancellation_locked(asked);
    }
    const int count = int(cancelled.size() + asked.size());
    settleCancelled(entries, cancelled, asked);
    return count;
}

bool TaskScheduler::requestCancellation(TaskCore *task)
{
    if (cancel(task))
        return true; // it had not started
    {
        std::lock_guard lock(m_mutex);
        // Not waiting or queued any more: running, or final.
        if (task->state() != TaskState::Running)
            return false;
        if (task->m_cancelFlags.fetch_or(TaskCore::CancelRequested) & TaskCore::CancelRequested)
            return true; // asked before
    }
    task->noteUpdate(); // the monitor shows it "cancelling"
    return true;
}

void TaskScheduler::timedOut(TaskCore *task)
{
    {
        std::lock_guard lock(m_mutex);
        if (task->state() != TaskState::Running)
            return; // finished in time
        task->m_cancelFlags.fetch_or(TaskCore::CancelRequested | TaskCore::TimedOut);
    }
    task->noteUpdate();
}

bool TaskScheduler::shutdown(ShutdownMode mode, QDeadlineTimer deadline)
{
    std::vector<TaskCore *> entries;
    std::vector<TaskCore *> cancelled;
    std::vector<TaskCore *> asked;
    {
        std::lock_guard lock(m_mutex);
        m_shutdown = true;
        m_stopping = true; // workers drain the queue, then leave
        if (mode == ShutdownMode::CancelPending) {
            m_shutdownMode = mode;
            cancelQueued_locked(entries, cancelled, true);
            requestCancellation_locked(asked);
        }
    }
    m_workAvailable.notify_all();
    settleCancelled(entries, cancelled, asked);
    // Continuations on a context run on their context's thread, which may be this one: the
    // shutdown waits for the keeper's own work.
    return waitForAll(deadline, true);
}

} // namespace pk::detail
