#include "clock_p.h"
#include "taskscheduler_p.h"
#include "timeoutwatcher_p.h"

#include <pk/detail/taskcore.h>

#include <chrono>

namespace pk::detail {

TimeoutWatcher &TimeoutWatcher::instance()
{
    static TimeoutWatcher watcher;
    return watcher;
}

TimeoutWatcher::~TimeoutWatcher()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_changed.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    while (!m_deadlines.empty()) {
        m_deadlines.top().task->deref();
        m_deadlines.pop();
    }
}

void TimeoutWatcher::watch(TaskCore *task, qint64 deadlineNs)
{
    task->ref();
    bool earliest;
    {
        std::lock_guard lock(m_mutex);
        if (!m_thread.joinable())
            m_thread = std::thread([this] { loop(); });
        earliest = m_deadlines.empty() || deadlineNs < m_deadlines.top().deadlineNs;
        m_deadlines.push({ deadlineNs, task });
    }
    if (earliest)
        m_changed.notify_one();
}

void TimeoutWatcher::clockChanged()
{
    // Under the mutex: the loop reads the clock and starts waiting with it held, so the change
    // comes either before its reading or after it waits, never unseen in between.
    {
        std::lock_guard lock(m_mutex);
    }
    m_changed.notify_all();
}

void TimeoutWatcher::loop()
{
    std::unique_lock lock(m_mutex);
    std::vector<TaskCore *> due;
    while (!m_stopping) {
        if (m_deadlines.empty()) {
            m_changed.wait(lock);
            continue;
        }
        const qint64 now = monotonicNs();
        while (!m_deadlines.empty() && m_deadlines.top().deadlineNs <= now) {
            due.push_back(m_deadlines.top().task);
            m_deadlines.pop();
        }
        if (due.empty()) {
            // The monotonic clock is the steady clock (clock_p.h): wait for the difference. A
            // manual clock moves only when told, and clockChanged() says when.
            if (isClockManual())
                m_changed.wait(lock);
            else
                m_changed.wait_for(
                    lock, std::chrono::nanoseconds(m_deadlines.top().deadlineNs - now));
            continue;
        }
        lock.unlock();
        // Outside the watcher's mutex: the keeper's is taken, and watch() is called with it.
        for (TaskCore *task : due) {
            if (!isFinal(task->state()))
                task->keeper()->timedOut(task);
            task->deref();
        }
        due.clear();
        lock.lock();
    }
}

} // namespace pk::detail
