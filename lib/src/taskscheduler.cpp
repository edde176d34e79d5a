// The keeper's scheduler (the state its promises, workers and QObject share): how it is made,
// kept alive and let go, and what it tells about itself (the counts, the live tasks, the thread
// count, whether it is shut down). The queue and workers, the state changes, dependencies,
// cancellation and the event buffer have files of their own.

#include "processchildren_p.h"
#include "taskscheduler_p.h"
#include "warninglimiter_p.h"

#include <pk/detail/taskcore.h>
#include <pk/logging.h>

#include <QtCore/qthreadpool.h>

#include <algorithm>

namespace pk::detail {

TaskScheduler::TaskScheduler(PromiseKeeper *q, QThreadPool *pool, int threadCount)
    : m_q(q)
    , m_pool(pool)
    , m_threadCount(threadCount)
{ }

ProcessChildren &TaskScheduler::processChildren()
{
    std::lock_guard lock(m_childrenMutex);
    if (!m_children)
        m_children = std::make_unique<ProcessChildren>();
    return *m_children;
}

void TaskScheduler::stopProcessChildren()
{
    std::lock_guard lock(m_childrenMutex);
    if (m_children)
        m_children->stopAll();
}

TaskScheduler::~TaskScheduler()
{
    for (const TaskEvent &e : m_events)
        e.m_core->deref();
    // The rest of a rate-limited flood, so that the log's count is complete.
    if (const qint64 n = m_shutdownWarnings.takeSuppressed())
        qCWarning(lcPromiseKeeper,
            "PromiseKeeper: %lld more submissions after shutdown() failed with pk::ShutdownError",
            n);
    if (const qint64 n = m_emptyWarnings.takeSuppressed())
        qCWarning(lcPromiseKeeper,
            "PromiseKeeper: %lld more submissions of an empty callable failed with "
            "pk::InvalidTaskError",
            n);
}

void TaskScheduler::deref() noexcept
{
    if (m_ref.fetch_sub(1, std::memory_order_acq_rel) == 1)
        delete this;
}

TaskCounts TaskScheduler::counts() const
{
    std::lock_guard lock(m_mutex);
    return m_counts;
}

bool TaskScheduler::isSettled() const
{
    std::lock_guard lock(m_mutex);
    return m_counts.live() == 0 && m_completing == 0;
}

QList<TaskInfo> TaskScheduler::tasks_locked() const
{
    QList<TaskInfo> list;
    list.reserve(qsizetype(m_counts.live()));
    const auto add = [&list](const TaskCore *task) {
        TaskInfo &info = list.emplace_back();
        task->fillInfo(info, task->state());
    };
    std::vector<const TaskCore *> running(m_running.begin(), m_running.end());
    std::sort(running.begin(), running.end(),
        [](const TaskCore *a, const TaskCore *b) { return a->m_startedNs < b->m_startedNs; });
    for (const TaskCore *task : running)
        add(task);
    for (const auto &bucket : m_queue) {
        for (const TaskCore *task : bucket.second) {
            if (task->state() == TaskState::Queued)
                add(task);
        }
    }
    std::vector<const TaskCore *> waiting(m_waiting.begin(), m_waiting.end());
    std::sort(waiting.begin(), waiting.end(),
        [](const TaskCore *a, const TaskCore *b) { return a->m_id < b->m_id; });
    for (const TaskCore *task : waiting)
        add(task);
    return list;
}

QList<TaskInfo> TaskScheduler::tasks() const
{
    std::lock_guard lock(m_mutex);
    return tasks_locked();
}

bool TaskScheduler::isShutdown() const
{
    std::lock_guard lock(m_mutex);
    return m_shutdown;
}

int TaskScheduler::threadCount() const
{
    std::lock_guard lock(m_mutex);
    return m_threadCount;
}

void TaskScheduler::detach()
{
    std::lock_guard lock(m_mutex);
    m_q = nullptr;
    m_pool = nullptr;
    m_shutdown = true;
    m_shutdownMode = ShutdownMode::CancelPending;
    m_stopping = true;
}

} // namespace pk::detail
