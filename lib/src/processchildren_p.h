// The parent's side of submitToProcess(): the child processes of one keeper.
#pragma once

#include <QtCore/qbytearray.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace pk::detail {

class TaskCore;

/*!
    A keeper's idle child processes. A worker that runs a process task takes one (or starts
    one), uses it with no lock held, and gives it back, so there are never more children than
    process tasks running at once (at most one per worker thread); whichever worker takes a child
    next uses it (a ChildProcess, not a QProcess, which would belong to one thread).
    Thread-safe.
*/
class ProcessChildren
{
public:
    struct Child;

    ProcessChildren();
    ~ProcessChildren();

    //! Runs one request in a child and returns the reply's result bytes; see callInProcess().
    QByteArray call(TaskCore *task, quint64 taskId, const char *name, const QByteArray &arguments);

    void setMaxTasksPerProcess(int count) noexcept
    {
        m_maxTasks.store(count, std::memory_order_relaxed);
    }
    int maxTasksPerProcess() const noexcept { return m_maxTasks.load(std::memory_order_relaxed); }
    //! Ends the idle children: closes their stdin and waits a moment, then kills.
    void stopAll();

private:
    std::unique_ptr<Child> take();
    void giveBack(std::unique_ptr<Child> child);

    std::mutex m_mutex;
    std::vector<std::unique_ptr<Child>> m_idle;
    std::atomic<int> m_maxTasks { 0 };
};

} // namespace pk::detail
