// The worker loop on the keeper's pool, the queue it takes tasks from, the thread count, and
// the threads that run pending tasks themselves (manual mode, a task's wait on its own keeper).

#include "clock_p.h"
#include "taskscheduler_p.h"

#include <pk/detail/taskcore.h>
#include <pk/detail/tsan.h>
#include <pk/promisekeeper.h>

#include <QtCore/qscopeguard.h>
#include <QtCore/qthread.h>
#include <QtCore/qthreadpool.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace pk::detail {

namespace {
// An idle worker gives its pool thread back after this long without work.
constexpr auto kWorkerIdleExpiry = std::chrono::seconds(10);
constexpr std::size_t kKeptPriorityBuckets = 8;
// How long an idle worker spins before it sleeps: about what sleeping and being woken cost
// (a futex wake and a context switch on each side), so a spin that finds nothing wastes no
// more than the wake-up it might have saved. And how many pauses before it starts to yield
// and read the clock (about a microsecond).
constexpr auto kSpinTime = std::chrono::microseconds(10);
constexpr int kSpinPauses = 64;
// No worker spins while the keeper's thread is behind: the oldest event waiting for it is older
// than two of its collect intervals, or this many events wait. Spinning makes the workers
// faster than a keeper's thread that delivers a signal per task (on two cores it also takes
// that thread's core), and the events, each holding its task, would pile up; sleeping workers
// leave it the CPU until it has caught up.
constexpr qint64 kSpinLagNs = 8'000'000;
constexpr std::size_t kSpinBacklog = 1 << 15;

// The keeper whose worker loop runs on this thread (null elsewhere), the worker's index, and
// how many of its tasks this thread is running now (more than one while a wait helps).
thread_local TaskScheduler *t_workerOf = nullptr;
thread_local int t_workerIndex = -1;
thread_local int t_running = 0;
} // namespace

bool TaskScheduler::wakeWorker_locked()
{
    if (m_threadCount == 0 || m_counts.queued == 0)
        return false;
    if (m_spinning && !m_spinnerClaimed) {
        m_spinnerClaimed = true; // it takes the task when it stops spinning: nothing to notify
        return false;
    }
    if (m_idleWorkers > 0) {
        --m_idleWorkers;
        ++m_wakeTokens;
        return true; // the caller notifies, preferably after unlocking
    }
    if (m_activeWorkers < m_threadCount)
        startWorker_locked();
    return false;
}

void TaskScheduler::startWorker_locked()
{
    if (!m_pool)
        return;
    ++m_activeWorkers;
    ref();
    // Under the mutex, so that detach() cannot take the pool away meanwhile.
    PK_TSAN_RELEASE(this); // QThreadPool hands the function over through a QMutex
    m_pool->start([this] {
        PK_TSAN_ACQUIRE(this);
        workerLoop();
        deref();
    });
}

int TaskScheduler::claimWorkerIndex_locked()
{
    auto it = std::find(m_workerSlots.begin(), m_workerSlots.end(), false);
    if (it == m_workerSlots.end())
        it = m_workerSlots.insert(it, false);
    *it = true;
    return int(it - m_workerSlots.begin());
}

TaskCore *TaskScheduler::pop_locked(std::vector<TaskCore *> &cancelled)
{
    for (auto bucket = m_queue.begin(); bucket != m_queue.end();) {
        auto &fifo = bucket->second;
        if (fifo.empty()) {
            // Empty buckets stay (a queue that drains and refills would otherwise allocate a
            // node per task), unless many priorities were used.
            bucket = m_queue.size() > kKeptPriorityBuckets ? m_queue.erase(bucket) : ++bucket;
            continue;
        }
        TaskCore *task = fifo.front();
        fifo.pop_front();
        if (task->m_state.load(std::memory_order_relaxed) == TaskState::Queued) {
            // A QFuture's cancel() has no callback to cancel the task at once, as
            // requestCancellation() does: the worker that takes it cancels it instead.
            const quint8 flags = task->m_cancelFlags.load(std::memory_order_acquire);
            if (!(flags & TaskCore::FutureLinked) || !task->futureCancelled())
                return task;
            task->m_cancelFlags.fetch_or(TaskCore::CancelledInQueue, std::memory_order_relaxed);
            cancel_locked(task, monotonicNs());
        }
        cancelled.push_back(task); // a tombstone: release its queue reference later
    }
    return nullptr;
}

bool TaskScheduler::maySpin_locked(qint64 now) const
{
    if (m_spinning)
        return false;
    return m_events.empty()
        || (m_events.size() < kSpinBacklog && now - m_events.front().m_timeNs < kSpinLagNs);
}

void TaskScheduler::spinForWork(quint32 epoch) const
{
    // Long enough to cover the gap between two submits of a busy producer, short enough that
    // an idle keeper costs nothing; past the first microsecond it yields, so that on a machine
    // with fewer cores than threads the producer gets the core this one spins on.
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0;; ++i) {
        if (m_queuedEpoch.load(std::memory_order_acquire) != epoch)
            return;
        if (i < kSpinPauses) {
            cpuRelax();
            continue;
        }
        if (std::chrono::steady_clock::now() - start >= kSpinTime)
            return;
        std::this_thread::yield();
    }
}

void TaskScheduler::workerLoop()
{
    std::vector<TaskCore *> cancelled;
    std::unique_lock lock(m_mutex);
    const int index = claimWorkerIndex_locked();
    t_workerOf = this;
    t_workerIndex = index;
    int *const running = &t_running; // looked up once: a lookup per task cost a call
    const auto leave = qScopeGuard([] {
        t_workerOf = nullptr;
        t_workerIndex = -1;
    });
    TaskCore *done = nullptr;
    bool spun = false; // since the last task: one spin per idle spell
    bool completing = false; // counted in m_completing: afterFinal() ran since the last lock
    for (;;) {
        if (completing) {
            --m_completing;
            completing = false;
        }
        // Finishing one task and taking the next share one lock: a task costs the worker a
        // single acquisition of the mutex.
        const qint64 now
            = monotonicNs(); // one reading for both changes: a task ends, the next starts
        if (done) {
            finish_locked(done, index, now);
            // Until this worker takes the mutex again, after afterFinal(): see isSettled().
            ++m_completing;
            completing = true;
        }
        TaskCore *next = m_activeWorkers > m_threadCount ? nullptr : pop_locked(cancelled);
        if (next) {
            start_locked(next, index, now);
            // Workers start one another as work needs them, so that raising the thread count
            // with a deep queue does not start them all on the caller's thread.
            if (m_counts.queued > 0 && m_idleWorkers == 0 && m_activeWorkers < m_threadCount
                && !m_stopping)
                startWorker_locked();
        }
        if (done || !cancelled.empty()) {
            lock.unlock();
            if (done)
                afterFinal(done);
            done = nullptr;
            release(cancelled);
            if (!next) {
                lockBriefly(lock);
                continue; // look again: more may have come meanwhile
            }
        }
        if (next) {
            if (lock.owns_lock())
                lock.unlock();
            spun = false;
            *running = 1;
            next->run();
            *running = 0;
            done = next;
            lockBriefly(lock);
            continue;
        }
        if (m_stopping || m_activeWorkers > m_threadCount)
            break;
        if (!spun && maySpin_locked(now)) {
            // A producer submitting one task after another finds this worker still awake: the
            // two do not wake each other with a syscall per task.
            spun = true;
            m_spinning = true;
            const quint32 epoch = m_queuedEpoch.load(std::memory_order_relaxed);
            lock.unlock();
            spinForWork(epoch);
            lockBriefly(lock);
            m_spinning = false;
            if (std::exchange(m_spinnerClaimed, false) || m_counts.queued > 0)
                continue; // a task for this worker, or one queued as it stopped spinning
        }
        ++m_idleWorkers;
        const bool woken = m_workAvailable.wait_for(
            lock, kWorkerIdleExpiry, [this] { return m_wakeTokens > 0 || m_stopping; });
        if (m_wakeTokens > 0) {
            --m_wakeTokens; // enqueue() already took this worker off the idle count
            continue;
        }
        --m_idleWorkers;
        if (!woken)
            break; // idle too long: give the pool thread back
    }
    m_workerSlots[std::size_t(index)] = false;
    --m_activeWorkers;
    // Leaving with work queued (the count was lowered, and a wake meant for a worker came to
    // this one): hand the wake on, so the task does not wait for the next submit.
    if (wakeWorker_locked())
        m_workAvailable.notify_one();
}

bool TaskScheduler::runOnePending(TaskCore *preferred)
{
    std::vector<TaskCore *> cancelled;
    std::unique_lock lock(m_mutex);
    TaskCore *task = nullptr;
    // A worker runs the task it waits for first (manual mode keeps the start order, as
    // documented); its queue entry stays behind as a tombstone with the queue's reference,
    // and this run holds a reference of its own.
    if (preferred && t_workerOf == this && preferred->m_keeper == this
        && preferred->state() == TaskState::Queued) {
        task = preferred;
        task->ref();
    } else {
        task = pop_locked(cancelled);
    }
    const int worker = t_workerOf == this ? t_workerIndex : callerWorkerIndex_locked();
    if (task)
        start_locked(task, worker, monotonicNs());
    lock.unlock();
    release(cancelled);
    if (!task)
        return false;
    const bool nested = t_workerOf == this;
    if (nested)
        ++t_running;
    task->run();
    if (nested)
        --t_running;
    lock.lock();
    finish_locked(task, worker, monotonicNs());
    lock.unlock();
    afterFinal(task);
    return true;
}

int TaskScheduler::processPending()
{
    int ran = 0;
    while (runOnePending())
        ++ran;
    return ran;
}

bool TaskScheduler::waitsMustHelp() const
{
    if (t_workerOf == this)
        return true;
    std::lock_guard lock(m_mutex);
    return m_threadCount == 0 && m_q && m_q->thread() == QThread::currentThread();
}

bool TaskScheduler::waitForAll(QDeadlineTimer deadline, bool poolOnly)
{
    if (waitsMustHelp())
        processPending();
    // A task that waits for all others does not wait for itself (nor for the tasks its
    // waits are running on this thread).
    const qint64 own = t_workerOf == this ? t_running : 0;
    std::unique_lock lock(m_mutex);
    const auto done = [this, own, poolOnly] {
        return m_counts.live() - (poolOnly ? m_contextLive : 0) - own <= 0 && m_holds == 0;
    };
    ++m_allDoneWaiters;
    // record_locked() wakes the waiters when the live count, context continuations aside,
    // is down to this (a bound on every waiter's own tasks).
    m_allDoneSlack += own;
    bool finished;
    if (deadline.isForever()) {
        m_allDone.wait(lock, done);
        finished = true;
    } else {
        finished = m_allDone.wait_until(lock, deadline.deadline<std::chrono::steady_clock>(), done);
    }
    m_allDoneSlack -= own;
    --m_allDoneWaiters;
    return finished;
}

bool TaskScheduler::setThreadCount(int count)
{
    std::unique_lock lock(m_mutex);
    if (count == m_threadCount)
        return false;
    m_threadCount = count;
    if (m_pool)
        m_pool->setMaxThreadCount(std::max(count, 1));
    // Idle workers look again: at the queue if there are more threads now, at the count if
    // there are fewer (the extra ones leave; busy ones leave after their task).
    m_wakeTokens += m_idleWorkers;
    m_idleWorkers = 0;
    // One new worker for what is queued, whatever the busy ones are doing; it starts the next
    // as it takes work (see workerLoop()), so this returns at once whatever the count.
    if (m_activeWorkers < m_threadCount && m_counts.queued > 0 && !m_stopping)
        startWorker_locked();
    lock.unlock();
    m_workAvailable.notify_all();
    return true;
}

} // namespace pk::detail
