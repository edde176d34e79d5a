// One thread that watches every running task's time-out (TaskOptions::timeout).
#pragma once

#include <QtCore/qglobal.h>
#include <queue>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace pk::detail {
class TaskCore;

/*!
    The process's one timer for task time-outs: a heap of deadlines and a thread that sleeps
    until the earliest, so that a million timed tasks cost no timer each and no keeper's event
    loop. When a deadline passes, the task's keeper asks it to stop (TaskScheduler::timedOut());
    a task that finished first is only released. Thread-safe; started on first use.
*/
class TimeoutWatcher
{
public:
    static TimeoutWatcher &instance();
    ~TimeoutWatcher();

    //! Watches \a task (taking a reference) until \a deadlineNs on the monotonic clock.
    void watch(TaskCore *task, qint64 deadlineNs);
    //! The clock was set or moved on (a test's manual clock): deadlines are looked at again.
    void clockChanged();

private:
    TimeoutWatcher() = default;
    void loop();

    struct Entry
    {
        qint64 deadlineNs;
        TaskCore *task;
        bool operator>(const Entry &other) const { return deadlineNs > other.deadlineNs; }
    };
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> m_deadlines;
    std::thread m_thread;
    bool m_stopping = false;
};

} // namespace pk::detail
