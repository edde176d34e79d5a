// The event buffer between the threads that change tasks and the keeper's thread: every change
// (and progress update) is one record, posted for in one event per batch, taken in batches.

#include "clock_p.h"
#include "taskscheduler_p.h"

#include <pk/detail/taskcore.h>
#include <pk/detail/tsan.h>
#include <pk/promisekeeper.h>

#include <QtCore/qcoreapplication.h>

namespace pk::detail {

int flushEventType()
{
    static const int type = QEvent::registerEventType();
    return type;
}

void TaskScheduler::record_locked(TaskCore *task, TaskState state, qint64 now, int worker)
{
    // The state left, for listeners that count from the events (a task's first event enters
    // the state adopt() gave it: the same).
    const TaskState previous = task->m_state.load(std::memory_order_relaxed);
    task->m_state.store(state, std::memory_order_release);
    if (isFinal(state)) {
        if (task->m_onContext)
            --m_contextLive;
        if (m_allDoneWaiters > 0 && m_counts.live() - m_contextLive <= m_allDoneSlack
            && m_holds == 0)
            m_allDone.notify_all();
    }
    buffer_locked(task, state, previous, now, worker, false);
}

Q_ALWAYS_INLINE void TaskScheduler::buffer_locked(
    TaskCore *task, TaskState state, TaskState previous, qint64 now, int worker, bool update)
{
    // Detached (the keeper is gone; a context continuation may still run): nobody delivers
    // events any more, and one would hold its task, which holds this, for ever.
    if (!m_q)
        return;
    if (m_events.size() >= kEventBufferCap) {
        ++m_dropped;
        if (update)
            task->m_updatePending.store(false, std::memory_order_relaxed); // the next may go
        return;
    }
    task->ref();
    TaskEvent &e = m_events.emplace_back();
    e.m_core = task;
    e.m_timeNs = now;
    e.m_state = state;
    e.m_previous = previous;
    e.m_worker = qint16(worker);
    e.m_update = update;
    // One posted event per batch, not per task: the keeper's thread takes everything buffered
    // when it gets to it, and while events keep coming it comes back on a timer by itself.
    if (!m_collectorScheduled && m_q) {
        m_collectorScheduled = true;
        auto *flush = new QEvent(QEvent::Type(flushEventType()));
        PK_TSAN_RELEASE(flush); // PromiseKeeper::event() acquires it
        QCoreApplication::postEvent(m_q, flush);
    }
}

void TaskScheduler::recordUpdate(TaskCore *task)
{
    std::lock_guard lock(m_mutex);
    const TaskState state = task->m_state.load(std::memory_order_relaxed);
    if (isFinal(state))
        return; // its final event carries the last progress
    buffer_locked(task, state, state, monotonicNs(), task->m_worker, true);
}

bool TaskScheduler::collectBatch(Batch &batch, bool canComeBack, QList<TaskInfo> *live)
{
    takeBatch(batch, live);
    std::lock_guard lock(m_mutex);
    // Busy: the keeper's thread will come back on its timer, so workers need not post again.
    // Quiet: the next event posts.
    m_collectorScheduled = canComeBack && (!batch.events.empty() || !m_events.empty());
    return m_collectorScheduled;
}

void TaskScheduler::takeBatch(Batch &batch, QList<TaskInfo> *live)
{
    std::lock_guard lock(m_mutex);
    batch.events.swap(m_events);
    batch.counts = m_counts;
    batch.idle = m_counts.live() == 0;
    batch.dropped = std::exchange(m_dropped, 0);
    if (live)
        *live = tasks_locked();
}

} // namespace pk::detail
