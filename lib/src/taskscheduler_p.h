// The keeper's queue, workers, counts and event buffer: everything that must outlive the
// PromiseKeeper QObject for as long as a promise of one of its tasks exists. One class, one
// mutex; its functions live by job in submission.cpp, dependencies.cpp, workers.cpp,
// statechanges.cpp, cancellation.cpp and eventbuffer.cpp (taskscheduler.cpp: its lifetime and
// what it reports about itself).
#pragma once

#include "warninglimiter_p.h"

#include <pk/detail/taskcore.h>
#include <pk/enums.h>
#include <pk/eventstream.h>
#include <pk/taskcounts.h>
#include <pk/taskinfo.h>
#include <pk/taskoptions.h>

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qlist.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

QT_BEGIN_NAMESPACE
class QThreadPool;
QT_END_NAMESPACE

namespace pk {
class PromiseKeeper;
namespace detail {
class TaskCore;
class ProcessChildren;

/*!
    The scheduler of one keeper: it queues tasks by priority, runs them on the pool's workers,
    moves them through their states and records each change for the keeper's thread.

    Reference-counted; the PromiseKeeper holds one reference, each task one for its whole life,
    each worker loop one while it runs. All state is guarded by \c mutex; functions named
    \c ..._locked expect it held. Every state change of a task happens under the mutex, so the
    counts, the queue and the event buffer always agree.

    Task references: the queue owns one reference per entry, handed to whoever pops it (worker
    or processPending()), who drops it after the task is final and its waiters are woken. Each
    buffered event owns one reference, dropped once the keeper's thread delivered it.

    Shutdown has one rule: a shut-down keeper accepts no new submission of any kind (submit,
    chaining by argument, then(), continuations on a context, map()); each fails at once with
    ShutdownError. What was accepted before goes on as the mode says: Drain runs it, including
    dependents released later and map items launched later; CancelPending cancels what has not
    started, and so what would start later.
*/
class TaskScheduler
{
public:
    TaskScheduler(PromiseKeeper *q, QThreadPool *pool, int threadCount);

    void ref() noexcept { m_ref.fetch_add(1, std::memory_order_relaxed); }
    void deref() noexcept;

    // Submission: gives the task its id, title and priority and queues it, or fails it at once
    // (empty callable, shut down).
    // \a caller names the API in warnings ("submit()", "map()", "then()").
    void enqueue(TaskCore *task, const TaskOptions &options, bool emptyCallable,
        const char *caller = "submit()");
    // A task that is part of a submission accepted earlier (a map item launched as others
    // finish): it follows the shutdown mode instead of failing as a new submission would.
    void enqueueContinued(TaskCore *task, const TaskOptions &options);
    // Submission of a task that waits for \a inputs (null entries are invalid promises): it is
    // Waiting until all succeeded, then queued, or, for a context continuation, posted by its
    // own link. A failed or cancelled input settles it according to \a mode. Returns whether
    // it was accepted (false: it is final already, failed with InvalidTaskError or
    // ShutdownError).
    bool submitDependent(TaskCore *task, const TaskOptions &options,
        const std::vector<TaskCore *> &inputs, InputFailure mode, bool emptyCallable,
        bool onContext = false, const char *caller = "submit()");
    static void inputSucceeded(TaskCore *task);
    static void inputFailed(TaskCore *task, TaskCore *input, InputFailure mode);
    // Waiting → final without running (failed or cancelled input, pass-through of a
    // continuation). False if the task was no longer waiting.
    bool settleWaiting(TaskCore *task, TaskState state, std::exception_ptr error = {});
    // A context continuation starts and ends on its context's thread, outside the queue.
    bool startOutside(TaskCore *task);
    void finishOutside(TaskCore *task);

    int processPending();
    // Runs one pending task on this thread, \a preferred first if it is queued here; false if
    // none was pending.
    bool runOnePending(TaskCore *preferred = nullptr);
    // Whether waits on this thread must run pending tasks themselves instead of blocking: the
    // keeper's thread in manual mode, and the keeper's own workers (a task waiting for another
    // task of its keeper, which may be queued behind it).
    bool waitsMustHelp() const;

    bool cancel(TaskCore *task);
    // cancel() if it has not started; asks a running task to stop (TaskContext). Returns
    // whether either happened.
    bool requestCancellation(TaskCore *task);
    // The TimeoutWatcher's call: \a task's time-out passed; if it still runs, it is asked to
    // stop and will end Failed with TimeoutError.
    void timedOut(TaskCore *task);
    // A running task's progress changed (TaskCore::noteUpdate()): buffers an update event.
    void recordUpdate(TaskCore *task);
    // For tools that know a task by its id only (the monitor): a linear search. cancel(), or
    // with \a request, requestCancellation().
    bool cancelById(quint64 id, bool request = false);
    // Cancels the waiting and queued tasks and asks the running ones to stop; continuations
    // waiting on them follow their outcome. Returns how many tasks it cancelled or asked.
    int cancelAll();
    // With \a poolOnly, continuations on a context (run by their context's thread, maybe this
    // one) are not waited for: shutdown() waits for the keeper's own work.
    bool waitForAll(QDeadlineTimer deadline, bool poolOnly = false);
    // A submission that will still queue tasks (a map launching items as others finish) keeps
    // waitForAll() and shutdown() waiting while it holds the keeper open. admitMap() fails
    // \a result at once (false) if the keeper is shut down or the callable is empty, and
    // otherwise takes the hold that releaseHold() gives back.
    bool admitMap(TaskCore *result, bool emptyCallable);
    void releaseHold();
    bool shutdown(ShutdownMode mode, QDeadlineTimer deadline);
    bool isShutdown() const;

    int threadCount() const;
    bool setThreadCount(int count);

    TaskCounts counts() const;
    // Nothing is waiting, queued or running, and no worker is still waking the waiters and
    // running the continuations of a task it finished (counts() is final before that).
    bool isSettled() const;
    QList<TaskInfo> tasks() const;

    struct Batch
    {
        std::vector<TaskEvent> events;
        TaskCounts counts;
        quint64 dropped = 0;
        bool idle = false;
    };
    // Takes the buffered events (the caller now owns their references) with the counts as of
    // the last of them; with \a live, also a snapshot of the live tasks at that same instant.
    void takeBatch(Batch &batch, QList<TaskInfo> *live = nullptr);
    // takeBatch() for the keeper's regular delivery; returns whether the keeper's thread must
    // come back (events were flowing), in which case workers do not post again meanwhile.
    // \a canComeBack: the keeper's thread has an event loop to run its timer.
    bool collectBatch(Batch &batch, bool canComeBack, QList<TaskInfo> *live = nullptr);
    // The QObject is going away: nothing is posted to it any more and no worker is started.
    void detach();

    // The child processes that run submitToProcess() tasks, made on first use; any thread.
    ProcessChildren &processChildren();
    // Ends the idle children (the keeper is going away; its workers are done).
    void stopProcessChildren();

private:
    ~TaskScheduler();
    void workerLoop();
    // Returns once a task was queued since \a epoch, or after a short while (see workers.cpp).
    void spinForWork(quint32 epoch) const;
    // Whether an idle worker may spin now: no other spins, and the keeper's thread keeps up
    // with the events (spinning makes workers faster than it; see kSpinLagNs).
    bool maySpin_locked(qint64 now) const;
    void startWorker_locked();
    // Work is queued: claims an idle worker (true: notify m_workAvailable) or starts one.
    bool wakeWorker_locked();
    TaskCore *pop_locked(std::vector<TaskCore *> &cancelled);
    void adopt(TaskCore *task, const TaskOptions &options, TaskState state);
    void fail_locked(TaskCore *task, std::exception_ptr error, TaskState from);
    void queue_locked(std::unique_lock<std::mutex> &lock, TaskCore *task, qint64 now);
    // A new submission of an empty callable, or one after shutdown, fails at once: returns
    // true then, having unlocked and warned.
    bool rejectAtSubmission_locked(
        std::unique_lock<std::mutex> &lock, TaskCore *task, bool emptyCallable, const char *caller);
    // Unlocks, then warns that a submission was refused, rate limited (see WarningLimiter);
    // \a caller names the API ("submit()", "then()", "map()").
    void warnRejected_locked(std::unique_lock<std::mutex> &lock, bool emptyCallable,
        const char *caller, quint64 id, const QString &title);
    static std::exception_ptr dependencyError(const TaskCore *input);
    void start_locked(TaskCore *task, int worker, qint64 now);
    void finish_locked(TaskCore *task, int worker, qint64 now);
    void cancel_locked(TaskCore *task, qint64 now);
    // Cancels everything queued and the waiting tasks (with \a poolContinuations, also the
    // waiting continuations that would run on the pool); \a entries gets every queue entry
    // (with its reference), \a cancelled the tasks cancelled now.
    void cancelQueued_locked(std::vector<TaskCore *> &entries, std::vector<TaskCore *> &cancelled,
        bool poolContinuations);
    // Asks every running task to stop; \a asked gets those not asked before, with a reference.
    void requestCancellation_locked(std::vector<TaskCore *> &asked);
    // After the two above, outside the mutex: wakes the cancelled tasks' waiters, notes the
    // requests, drops the references.
    static void settleCancelled(std::vector<TaskCore *> &entries,
        const std::vector<TaskCore *> &cancelled, std::vector<TaskCore *> &asked);
    // Moves \a task to \a state and records the change for the keeper's thread.
    void record_locked(TaskCore *task, TaskState state, qint64 now, int worker);
    // Buffers one event for the keeper's thread (\a update: progress, no change of state).
    void buffer_locked(
        TaskCore *task, TaskState state, TaskState previous, qint64 now, int worker, bool update);
    QList<TaskInfo> tasks_locked() const;
    // The live task with id \a id (the running ones too with \a running), or null.
    TaskCore *findLive_locked(quint64 id, bool running) const;
    int claimWorkerIndex_locked();
    int callerWorkerIndex_locked() const { return m_threadCount == 0 ? 0 : -1; }
    static void release(std::vector<TaskCore *> &tasks) noexcept
    {
        if (!tasks.empty()) // the common case, after each task: no call
            releaseTombstones(tasks);
    }
    static void releaseTombstones(std::vector<TaskCore *> &tasks) noexcept;
    static void afterFinal(TaskCore *task) noexcept;
    // After a task became final without running, outside the mutex: its callable and
    // arguments go (nothing touches them once it is final), its waiters wake.
    static void settled(TaskCore *task) noexcept;
    void leaveWaiting_locked(TaskCore *task)
    {
        Q_ASSERT(m_waiting.count(task) == 1);
        --m_counts.waiting;
        m_waiting.erase(task);
    }

    std::atomic<int> m_ref { 1 };
    mutable std::mutex m_mutex;
    std::condition_variable m_workAvailable; // idle workers wait here
    std::condition_variable m_allDone; // waitForAll() waits here

    // Highest priority first; FIFO inside one priority. Cancelled entries stay behind as
    // tombstones (O(1) cancel) and are skipped and released by pop_locked().
    std::map<int, std::deque<TaskCore *>, std::greater<int>> m_queue;
    std::vector<TaskCore *> m_running;
    std::unordered_set<TaskCore *> m_waiting; // no references: their input links hold them
    TaskCounts m_counts;

    PromiseKeeper *m_q;
    QThreadPool *m_pool;
    int m_threadCount;
    int m_activeWorkers = 0;
    int m_idleWorkers = 0;
    int m_wakeTokens = 0; // idle workers claimed by enqueue() and not yet awake
    int m_completing = 0; // workers that finished a task and have not taken the mutex since
    // At most one idle worker spins a moment before it sleeps (spinForWork()): a submit that
    // finds it unclaimed claims it instead of waking a sleeper, which costs no syscall.
    bool m_spinning = false;
    bool m_spinnerClaimed = false;
    std::atomic<quint32> m_queuedEpoch { 0 }; // +1 per queued task: what the spinner watches
    int m_allDoneWaiters = 0;
    qint64 m_allDoneSlack = 0; // the waiters' own running tasks (see waitForAll())
    qint64 m_contextLive = 0; // live continuations on a context (counted in m_counts)
    int m_holds = 0; // see admitMap()
    std::vector<bool> m_workerSlots;
    bool m_shutdown = false;
    ShutdownMode m_shutdownMode = ShutdownMode::Drain; // CancelPending, once asked, stays
    WarningLimiter m_shutdownWarnings; // submissions refused after shutdown
    WarningLimiter m_emptyWarnings; // submissions of empty callables
    bool m_stopping = false; // workers leave once the queue is empty

    std::unique_ptr<ProcessChildren> m_children; // under m_childrenMutex until made
    std::mutex m_childrenMutex;

    std::vector<TaskEvent> m_events;
    bool m_collectorScheduled = false; // a flush event is posted or the keeper's timer runs
    quint64 m_dropped = 0;
};

inline void cpuRelax() noexcept
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// The keeper's critical sections are a few hundred nanoseconds: under contention, spinning
// for a moment is much cheaper than sleeping in the kernel and being woken. Each try is a
// read-modify-write of the mutex's cache line, so the tries back off: two threads spinning
// on one mutex would otherwise keep taking the line from its holder.
inline void lockBriefly(std::unique_lock<std::mutex> &lock)
{
    for (int pauses = 1; pauses <= 64; pauses *= 2) {
        if (lock.try_lock())
            return;
        for (int i = 0; i < pauses; ++i)
            cpuRelax();
    }
    lock.lock();
}

// Inlined into the submissions: it is on every task's path.
Q_ALWAYS_INLINE void TaskScheduler::adopt(
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

//! The event type PromiseKeeper::event() handles: "events are buffered, take them".
int flushEventType();

//! Largest number of buffered events; past it, detail is dropped and counted (counts never are).
//! A flood of a million tasks is three million events, which a keeper's thread busy with a
//! monitor server may be a whole flood behind: dropping them then costs more (the server takes
//! every live task again) than the 96 MB they take at most.
constexpr std::size_t kEventBufferCap = std::size_t(1) << 22;

} // namespace detail
} // namespace pk
