#include "clock_p.h"
#include "keepershared_p.h"
#include "taskextras_p.h"
#include "timeoutwatcher_p.h"
#include "tsan_p.h"

#include <pk/detail/taskcore.h>
#include <pk/errors.h>
#include <pk/logging.h>
#include <pk/promisekeeper.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qscopeguard.h>
#include <QtCore/qthread.h>
#include <QtCore/qthreadpool.h>

#include <algorithm>
#include <chrono>

namespace pk::detail {

namespace {
// An idle worker gives its pool thread back after this long without work.
constexpr auto kWorkerIdleExpiry = std::chrono::seconds(10);
constexpr std::size_t kKeptPriorityBuckets = 8;

// The keeper's critical sections are a few hundred nanoseconds: under contention, spinning
// for a moment is much cheaper than sleeping in the kernel and being woken.
void lockBriefly(std::unique_lock<std::mutex> &lock)
{
    for (int i = 0; i < 100; ++i) {
        if (lock.try_lock())
            return;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    lock.lock();
}

// The keeper whose worker loop runs on this thread (null elsewhere), the worker's index, and
// how many of its tasks this thread is running now (more than one while a wait helps).
thread_local KeeperShared *t_workerOf = nullptr;
thread_local int t_workerIndex = -1;
thread_local int t_running = 0;
} // namespace

int flushEventType()
{
    static const int type = QEvent::registerEventType();
    return type;
}

KeeperShared::KeeperShared(PromiseKeeper *q, QThreadPool *pool, int threadCount)
    : m_q(q)
    , m_pool(pool)
    , m_threadCount(threadCount)
{ }

KeeperShared::~KeeperShared()
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

void KeeperShared::deref() noexcept
{
    if (m_ref.fetch_sub(1, std::memory_order_acq_rel) == 1)
        delete this;
}

void KeeperShared::releaseTombstones(std::vector<TaskCore *> &tasks) noexcept
{
    for (TaskCore *t : tasks) {
        if (t->m_cancelFlags.load(std::memory_order_relaxed) & TaskCore::CancelledInQueue) {
            t->dropCallable(); // as cancel() does
            t->completed();
        }
        t->deref();
    }
    tasks.clear();
}

// After a task became final: wake its waiters and drop the reference its runner held.
// Outside the mutex, since dropping may run the destructor of the task's value.
void KeeperShared::afterFinal(TaskCore *task) noexcept
{
    task->completed();
    task->deref();
}

void KeeperShared::record_locked(TaskCore *task, TaskState state, qint64 now, int worker)
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

Q_ALWAYS_INLINE void KeeperShared::buffer_locked(
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

void KeeperShared::recordUpdate(TaskCore *task)
{
    std::lock_guard lock(m_mutex);
    const TaskState state = task->m_state.load(std::memory_order_relaxed);
    if (isFinal(state))
        return; // its final event carries the last progress
    buffer_locked(task, state, state, monotonicNs(), task->m_worker, true);
}

Q_ALWAYS_INLINE void KeeperShared::adopt(
    TaskCore *task, const TaskOptions &options, TaskState state)
{
    task->m_id = nextTaskId();
    if (task->m_titleVerb == TitleVerb::None) // an untitled continuation has its input's
        task->m_title = options.title;
    task->m_priority = options.priority;
    if (options.timeout.count() > 0)
        task->setTimeout(qint64(options.timeout.count()));
    task->m_keeper = this;
    ref();
    task->m_state.store(state, std::memory_order_relaxed);
}

void KeeperShared::fail_locked(TaskCore *task, std::exception_ptr error, TaskState from)
{
    const qint64 now = monotonicNs();
    task->m_error = std::move(error);
    task->m_finishedNs = now;
    if (from == TaskState::Waiting) {
        --m_counts.waiting;
        m_waiting.erase(task);
    }
    ++m_counts.failed;
    record_locked(task, TaskState::Failed, now, -1);
}

void KeeperShared::queue_locked(std::unique_lock<std::mutex> &lock, TaskCore *task, qint64 now)
{
    task->ref(); // the queue's reference
    m_queue[task->m_priority].push_back(task);
    ++m_counts.queued;
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

bool KeeperShared::rejectAtSubmission_locked(
    std::unique_lock<std::mutex> &lock, TaskCore *task, bool emptyCallable, const char *caller)
{
    if (!emptyCallable && !m_shutdown)
        return false;
    fail_locked(task, rejection(emptyCallable), task->state());
    warnRejected_locked(lock, emptyCallable, caller, task->m_id, task->m_title);
    task->dropCallable();
    task->completed();
    return true;
}

void KeeperShared::warnRejected_locked(std::unique_lock<std::mutex> &lock, bool emptyCallable,
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

void KeeperShared::enqueue(
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

void KeeperShared::enqueueContinued(TaskCore *task, const TaskOptions &options)
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
        task->dropCallable();
        task->completed();
        return;
    }
    queue_locked(lock, task, now);
}

namespace {
// Attached to each input of a waiting task: counts successes, fails the task on the first
// failure or cancellation.
class DependencyLink final : public Continuation
{
public:
    DependencyLink(TaskCore *task, InputFailure mode)
        : m_task(task)
        , m_mode(mode)
    {
        task->ref();
    }
    ~DependencyLink() override { m_task->deref(); }
    void run(TaskCore *input) noexcept override
    {
        if (input->state() == TaskState::Succeeded)
            KeeperShared::inputSucceeded(m_task);
        else
            KeeperShared::inputFailed(m_task, input, m_mode);
    }

private:
    TaskCore *m_task;
    InputFailure m_mode;
};
} // namespace

bool KeeperShared::submitDependent(TaskCore *task, const TaskOptions &options,
    const std::vector<TaskCore *> &inputs, InputFailure mode, bool emptyCallable, bool onContext,
    const char *caller)
{
    adopt(task, options, TaskState::Waiting);
    task->m_onContext = onContext;
    // Chaining by argument; a continuation's caller said what it continues.
    if (mode == InputFailure::Wrap)
        task->setInputs(TaskKind::Task, inputs.data(), inputs.size());
    // One extra count until every link is attached, so that inputs finishing meanwhile cannot
    // release the task early.
    task->m_pendingInputs.store(int(inputs.size()) + 1, std::memory_order_relaxed);
    // Once the task is registered below, a concurrent cancel may drop its arguments, and with
    // them the only references to its inputs: these keep the inputs until their links are on.
    for (TaskCore *input : inputs) {
        if (input)
            input->ref();
    }
    const auto releaseInputs = qScopeGuard([&inputs] {
        for (TaskCore *input : inputs) {
            if (input)
                input->deref();
        }
    });
    {
        std::unique_lock lock(m_mutex);
        task->m_queuedNs = monotonicNs();
        ++m_counts.waiting;
        if (onContext)
            ++m_contextLive;
        m_waiting.insert(task);
        record_locked(task, TaskState::Waiting, task->m_queuedNs, -1);
        if (rejectAtSubmission_locked(lock, task, emptyCallable, caller))
            return false;
    }
    for (TaskCore *input : inputs) {
        if (input)
            input->addContinuation(new DependencyLink(task, mode));
        else
            inputFailed(task, nullptr, mode);
    }
    inputSucceeded(task);
    return true;
}

void KeeperShared::inputSucceeded(TaskCore *task)
{
    if (task->m_pendingInputs.fetch_sub(1, std::memory_order_acq_rel) != 1)
        return;
    if (task->m_onContext)
        return; // a context continuation is posted by its own link, not queued
    KeeperShared *self = task->m_keeper;
    std::unique_lock lock(self->m_mutex);
    if (task->state() != TaskState::Waiting)
        return; // cancelled or failed meanwhile
    // Accepted before any shutdown (nothing is after one). Drain runs it; CancelPending
    // cancels what would start later (a continuation released by an input that was running).
    if (self->m_shutdown && self->m_shutdownMode == ShutdownMode::CancelPending) {
        self->cancel_locked(task, monotonicNs());
        lock.unlock();
        task->dropCallable();
        task->completed();
        return;
    }
    --self->m_counts.waiting;
    self->m_waiting.erase(task);
    self->queue_locked(lock, task, monotonicNs());
}

std::exception_ptr KeeperShared::dependencyError(const TaskCore *input)
{
    const QString name = input
        ? QStringLiteral("input task %1%2")
              .arg(input->m_id)
              .arg(input->m_title.isEmpty() ? QString()
                                            : QStringLiteral(" (\"%1\")").arg(input->m_title))
        : QStringLiteral("an invalid (default-constructed) input promise");
    // Made inside a handler of the input's own failure, so that std::nested_exception
    // captures it: rethrow_nested() and cause() give the original exception back. The message
    // carries the root reason only, so that it does not grow along a chain.
    try {
        if (!input)
            throw InvalidTaskError(QStringLiteral("invalid promise"));
        if (input->state() == TaskState::Failed)
            std::rethrow_exception(input->m_error);
        throw CancelledError();
    } catch (const DependencyError &e) {
        // Nest the root cause, not the input's DependencyError: a chain of nested exceptions
        // as long as the chain of tasks would be destroyed recursively.
        const QString message = QStringLiteral("%1 failed: %2").arg(name, e.reason());
        if (!e.cause())
            return std::make_exception_ptr(DependencyError(message, input->m_id, e.reason()));
        try {
            std::rethrow_exception(e.cause());
        } catch (...) {
            return std::make_exception_ptr(DependencyError(message, input->m_id, e.reason()));
        }
    } catch (const CancelledError &e) {
        const bool cancelled = input && input->state() == TaskState::Cancelled;
        const QString reason = cancelled ? QStringLiteral("cancelled") : e.message();
        return std::make_exception_ptr(
            DependencyError(cancelled ? QStringLiteral("%1 was cancelled").arg(name)
                                      : QStringLiteral("%1 failed: %2").arg(name, reason),
                input ? input->m_id : 0, reason));
    } catch (const std::exception &e) {
        const QString reason = QString::fromUtf8(e.what());
        return std::make_exception_ptr(DependencyError(
            QStringLiteral("%1 failed: %2").arg(name, reason), input ? input->m_id : 0, reason));
    } catch (...) {
        const QString reason = QStringLiteral("unknown exception");
        return std::make_exception_ptr(DependencyError(
            QStringLiteral("%1 failed: %2").arg(name, reason), input ? input->m_id : 0, reason));
    }
}

void KeeperShared::inputFailed(TaskCore *task, TaskCore *input, InputFailure mode)
{
    std::exception_ptr error;
    TaskState state = TaskState::Failed;
    if (mode == InputFailure::Wrap || !input) {
        error = dependencyError(input);
    } else if (input->state() == TaskState::Cancelled) {
        state = TaskState::Cancelled;
    } else {
        error = input->m_error; // then(): the original exception, unchanged
    }
    task->m_keeper->settleWaiting(task, state, std::move(error));
}

bool KeeperShared::settleWaiting(TaskCore *task, TaskState state, std::exception_ptr error)
{
    {
        std::lock_guard lock(m_mutex);
        if (task->state() != TaskState::Waiting)
            return false; // the first failure wins; a cancel may have come first
        if (state == TaskState::Cancelled) {
            cancel_locked(task, monotonicNs());
        } else if (state == TaskState::Failed) {
            fail_locked(task, std::move(error), TaskState::Waiting);
        } else {
            const qint64 now = monotonicNs();
            task->m_finishedNs = now;
            --m_counts.waiting;
            m_waiting.erase(task);
            ++m_counts.succeeded;
            record_locked(task, TaskState::Succeeded, now, -1);
        }
    }
    task->dropCallable();
    task->completed();
    return true;
}

bool KeeperShared::startOutside(TaskCore *task)
{
    std::lock_guard lock(m_mutex);
    if (task->state() != TaskState::Waiting)
        return false;
    const qint64 now = monotonicNs();
    --m_counts.waiting;
    m_waiting.erase(task);
    ++m_counts.queued; // start_locked() moves it from queued to running
    start_locked(task, -1, now);
    return true;
}

void KeeperShared::finishOutside(TaskCore *task)
{
    {
        std::lock_guard lock(m_mutex);
        finish_locked(task, -1, monotonicNs());
    }
    task->completed();
}

bool KeeperShared::wakeWorker_locked()
{
    if (m_threadCount == 0 || m_counts.queued == 0)
        return false;
    if (m_idleWorkers > 0) {
        --m_idleWorkers;
        ++m_wakeTokens;
        return true; // the caller notifies, preferably after unlocking
    }
    if (m_activeWorkers < m_threadCount)
        startWorker_locked();
    return false;
}

void KeeperShared::startWorker_locked()
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

int KeeperShared::claimWorkerIndex_locked()
{
    auto it = std::find(m_workerSlots.begin(), m_workerSlots.end(), false);
    if (it == m_workerSlots.end())
        it = m_workerSlots.insert(it, false);
    *it = true;
    return int(it - m_workerSlots.begin());
}

TaskCore *KeeperShared::pop_locked(std::vector<TaskCore *> &cancelled)
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

void KeeperShared::start_locked(TaskCore *task, int worker, qint64 now)
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

void KeeperShared::finish_locked(TaskCore *task, int worker, qint64 now)
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

void KeeperShared::workerLoop()
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
    for (;;) {
        // Finishing one task and taking the next share one lock: a task costs the worker a
        // single acquisition of the mutex.
        const qint64 now
            = monotonicNs(); // one reading for both changes: a task ends, the next starts
        if (done)
            finish_locked(done, index, now);
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
            *running = 1;
            next->run();
            *running = 0;
            done = next;
            lockBriefly(lock);
            continue;
        }
        if (m_stopping || m_activeWorkers > m_threadCount)
            break;
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

bool KeeperShared::runOnePending(TaskCore *preferred)
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

int KeeperShared::processPending()
{
    int ran = 0;
    while (runOnePending())
        ++ran;
    return ran;
}

bool KeeperShared::waitsMustHelp() const
{
    if (t_workerOf == this)
        return true;
    std::lock_guard lock(m_mutex);
    return m_threadCount == 0 && m_q && m_q->thread() == QThread::currentThread();
}

void KeeperShared::cancel_locked(TaskCore *task, qint64 now)
{
    task->m_finishedNs = now;
    if (task->state() == TaskState::Waiting) {
        --m_counts.waiting;
        m_waiting.erase(task);
    } else {
        --m_counts.queued;
    }
    ++m_counts.cancelled;
    record_locked(task, TaskState::Cancelled, now, -1);
}

bool KeeperShared::cancel(TaskCore *task)
{
    {
        std::lock_guard lock(m_mutex);
        const TaskState state = task->state();
        if (state != TaskState::Queued && state != TaskState::Waiting)
            return false;
        cancel_locked(task, monotonicNs());
    }
    // A queue entry stays as a tombstone holding its reference; the callable and its
    // arguments can go now. Nothing else touches them once the task is final.
    task->dropCallable();
    task->completed();
    return true;
}

TaskCore *KeeperShared::findLive_locked(quint64 id, bool running) const
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

bool KeeperShared::cancelById(quint64 id, bool request)
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

void KeeperShared::cancelQueued_locked(
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

void KeeperShared::requestCancellation_locked(std::vector<TaskCore *> &asked)
{
    for (TaskCore *task : m_running) {
        const quint8 was = task->m_cancelFlags.fetch_or(TaskCore::CancelRequested);
        if (!(was & TaskCore::CancelRequested)) {
            task->ref(); // until the update is noted, outside the mutex
            asked.push_back(task);
        }
    }
}

void KeeperShared::settleCancelled(std::vector<TaskCore *> &entries,
    const std::vector<TaskCore *> &cancelled, std::vector<TaskCore *> &asked)
{
    for (TaskCore *task : cancelled) {
        task->dropCallable();
        task->completed();
    }
    release(entries); // the queue's references, tombstones of earlier cancels included
    for (TaskCore *task : asked)
        task->noteUpdate();
    release(asked);
}

int KeeperShared::cancelAll()
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

bool KeeperShared::requestCancellation(TaskCore *task)
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

void KeeperShared::timedOut(TaskCore *task)
{
    {
        std::lock_guard lock(m_mutex);
        if (task->state() != TaskState::Running)
            return; // finished in time
        task->m_cancelFlags.fetch_or(TaskCore::CancelRequested | TaskCore::TimedOut);
    }
    task->noteUpdate();
}

bool KeeperShared::waitForAll(QDeadlineTimer deadline, bool poolOnly)
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

bool KeeperShared::shutdown(ShutdownMode mode, QDeadlineTimer deadline)
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

bool KeeperShared::admitMap(TaskCore *result, bool emptyCallable)
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

void KeeperShared::releaseHold()
{
    std::lock_guard lock(m_mutex);
    Q_ASSERT(m_holds > 0);
    if (--m_holds == 0 && m_allDoneWaiters > 0 && m_counts.live() - m_contextLive <= m_allDoneSlack)
        m_allDone.notify_all();
}

bool KeeperShared::isShutdown() const
{
    std::lock_guard lock(m_mutex);
    return m_shutdown;
}

int KeeperShared::threadCount() const
{
    std::lock_guard lock(m_mutex);
    return m_threadCount;
}

bool KeeperShared::setThreadCount(int count)
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

TaskCounts KeeperShared::counts() const
{
    std::lock_guard lock(m_mutex);
    return m_counts;
}

QList<TaskInfo> KeeperShared::tasks_locked() const
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

QList<TaskInfo> KeeperShared::tasks() const
{
    std::lock_guard lock(m_mutex);
    return tasks_locked();
}

bool KeeperShared::collectBatch(Batch &batch, bool canComeBack, QList<TaskInfo> *live)
{
    takeBatch(batch, live);
    std::lock_guard lock(m_mutex);
    // Busy: the keeper's thread will come back on its timer, so workers need not post again.
    // Quiet: the next event posts.
    m_collectorScheduled = canComeBack && (!batch.events.empty() || !m_events.empty());
    return m_collectorScheduled;
}

void KeeperShared::takeBatch(Batch &batch, QList<TaskInfo> *live)
{
    std::lock_guard lock(m_mutex);
    batch.events.swap(m_events);
    batch.counts = m_counts;
    batch.idle = m_counts.live() == 0;
    batch.dropped = std::exchange(m_dropped, 0);
    if (live)
        *live = tasks_locked();
}

void KeeperShared::detach()
{
    std::lock_guard lock(m_mutex);
    m_q = nullptr;
    m_pool = nullptr;
    m_shutdown = true;
    m_shutdownMode = ShutdownMode::CancelPending;
    m_stopping = true;
}

} // namespace pk::detail
