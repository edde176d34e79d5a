// The type-erased, reference-counted state shared by a task, its promises and its keeper.
// Internal: only pk::Promise<T> and PromiseKeeper::submit() use it directly.
#pragma once

#include <pk/enums.h>
#include <pk/promisekeeper_export.h>

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qfutureinterface.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

#include <atomic>
#include <exception>

namespace pk {
class PromiseBase;
class PromiseKeeperPrivate;
class TaskContext;
class TaskEvent;
class TaskInfo;
namespace detail {
class TaskScheduler;
class TaskCore;
struct TaskExtras;

//! How a waiting task ends when an input fails or is cancelled.
enum class InputFailure : quint8 {
    Wrap, //!< Failed with pk::DependencyError naming the input (chaining by argument)
    Propagate, //!< the input's own exception, or Cancelled (then() and continuations)
};

//! What an untitled continuation's title says it does with its input.
enum class TitleVerb : quint8 { None, Then, OnFailed, OnCancelled, Finally };
//! "then", "onFailed"...: the function a verb stands for ("" for None). Internal.
const char *titleVerbName(TitleVerb verb) noexcept;

/*!
    Something to do once a task is final: release a dependent task, post a continuation to a
    context, collect a result for a combinator. Owned by the task it is attached to.
*/
class PROMISEKEEPER_EXPORT Continuation
{
public:
    Continuation() noexcept = default;
    Continuation(const Continuation &) = delete;
    Continuation &operator=(const Continuation &) = delete;
    virtual ~Continuation();
    // Called once, after \a task became final, outside every lock: on the thread that made it
    // final, or in addContinuation() if it was final already. Deleted right after.
    virtual void run(TaskCore *task) noexcept = 0;

private:
    friend class TaskCore;
    Continuation *m_next = nullptr;
};

/*!
    One task's shared state. Every field but the atomics is written by whoever owns the
    current state transition, under the keeper's mutex, before the new state is published with
    a release store; readers that acquire the state may read all fields of the states reached.

    Subclasses (header templates) add the result storage and the callable; this class and the
    keeper do all the logic.
*/
class PROMISEKEEPER_EXPORT TaskCore
{
public:
    TaskCore() noexcept;
    TaskCore(const TaskCore &) = delete;
    TaskCore &operator=(const TaskCore &) = delete;
    virtual ~TaskCore();

    void ref() noexcept { m_ref.fetch_add(1, std::memory_order_relaxed); }
    void deref() noexcept
    {
        if (m_ref.fetch_sub(1, std::memory_order_acq_rel) == 1)
            delete this;
    }

    TaskState state() const noexcept { return m_state.load(std::memory_order_acquire); }

    // Runs the callable on the calling thread and records the outcome (value or exception),
    // then destroys the callable and its arguments. Never throws.
    void run() noexcept;

    // Blocks until the state is final or the deadline passes; returns whether it is final.
    // On a manual-mode keeper's own thread it runs pending tasks instead of blocking.
    bool waitUntilFinal(QDeadlineTimer deadline) noexcept;

    // Attaches \a continuation (taking ownership); it runs once the task is final, at once if it
    // is final already. Continuations run in the order they were attached.
    void addContinuation(Continuation *continuation) noexcept;

    // The task just became final: wakes waiters and runs continuations. Chains of tasks that
    // become final because their input did are handled in a loop, not by recursion, so a
    // failure at the head of a 100,000-link chain does not overflow the stack.
    void completed() noexcept;

    // For tasks that no keeper accounts for (combinators): one caller wins the right to settle
    // (claimSettlement()), writes the value or error, then publishes the final state.
    bool claimSettlement() noexcept
    {
        return !m_settling.exchange(true, std::memory_order_acq_rel);
    }
    void publishSettlement(TaskState state, std::exception_ptr error = {}) noexcept;
    // Gives a task that no keeper accounts for its id and title; \a runner (may be null) is the
    // keeper that then() continuations of it will run on.
    void initDetached(const QString &title, TaskScheduler *runner) noexcept;
    bool isDetached() const noexcept { return m_detached; }
    TaskScheduler *keeper() const noexcept { return m_keeper; }
    int priority() const noexcept { return m_priority; }
    const QString &title() const noexcept { return m_title; }
    // The title shown: m_title, or "then ← <input's title>" for an untitled continuation.
    QString displayTitle() const
    {
        return m_titleVerb == TitleVerb::None ? m_title : continuationTitle();
    }
    // Records what the task waits for or continues, and what it is; before it is published.
    void setInputs(TaskKind kind, TaskCore *const *inputs, std::size_t count) noexcept;
    // An untitled continuation takes its title from \a input, after \a verb ("then").
    void inheritTitle(const TaskCore *input, TitleVerb verb) noexcept;
    // Runs and deletes the attached continuations, then drops the reference completed() took.
    void runContinuationsAndDeref() noexcept;

    // Cooperative cancellation: set by requestCancellation(), cancelAll() and time-outs, read
    // by the running task through its TaskContext.
    bool isCancellationRequested() const noexcept
    {
        const quint8 flags = m_cancelFlags.load(std::memory_order_acquire);
        return (flags & CancelRequested) || ((flags & FutureLinked) && futureCancelled());
    }
    // A QFuture made by Promise::future(): it gets the progress, and its cancel() requests
    // cancellation (seen when the task next asks).
    void linkFuture(const QFutureInterfaceBase &future);
    // Progress, stored in extras() and announced to the keeper's thread once per batch.
    void setProgressRange(qint64 minimum, qint64 maximum) noexcept;
    void setProgressValue(qint64 value) noexcept;
    void setProgressText(const QString &text);
    // The child process running this task (submitToProcess()), by the task's own thread.
    void setProcessId(qint64 pid) noexcept;
    // The time-out (TaskOptions::timeout) to arm when the task starts; before it is published.
    void setTimeout(qint64 msecs);
    // Progress and time-out, allocated for the tasks that have either; null otherwise. Written
    // only before publication or by the task's own thread while it runs.
    TaskExtras *extras() const noexcept { return m_extras.load(std::memory_order_acquire); }

    // Used by the result accessors once the state is final.
    std::exception_ptr error() const noexcept { return m_error; }
    bool markTaken() noexcept { return !m_taken.exchange(true, std::memory_order_acq_rel); }
    bool isTaken() const noexcept { return m_taken.load(std::memory_order_acquire); }

protected:
    // Calls the callable and stores its value; may throw (the exception becomes the failure).
    virtual void invoke() = 0;
    // Destroys the callable and the arguments it holds, so a finished task keeps only its result.
    virtual void dropCallable() noexcept = 0;
    // Fails the task with its input's exception without it counting as the task's own failure
    // (finally() handing a failure on).
    void propagateError(std::exception_ptr error) noexcept
    {
        m_error = std::move(error);
        m_errorPropagated = true;
    }
    // Continuations that hand their input's value on without running (onFailed() of a task
    // that succeeded, say) copy it here from \a input, which the caller keeps alive: never
    // from a reference of their own, which a concurrent cancel may drop meanwhile.
    virtual void passThrough(const TaskCore *input) { Q_UNUSED(input); }

private:
    friend class TaskScheduler;
    friend class pk::PromiseBase;
    friend class pk::TaskEvent;
    friend class ContextLink;
    friend class pk::PromiseKeeperPrivate;
    friend class ContextJob;
    friend class pk::TaskContext;
    friend class TimeoutWatcher;

    enum CancelFlag : quint8 {
        CancelRequested = 1,
        TimedOut = 2, // the time-out passed while it ran: it ends Failed with TimeoutError
        FutureLinked = 4, // see linkFuture()
        // Cancelled when a worker took it from the queue, its QFuture cancelled: the rest of
        // the cancellation (dropping the callable, waking waiters) is done off the mutex.
        CancelledInQueue = 8,
        // The callable threw CancelledError (set by the runner's thread, read by it when the
        // task finishes). A flag, not a bool of its own: the small fields fill their word.
        ThrewCancelled = 16,
    };
    // Whether a linked QFuture was cancelled; if so, cancellation is requested from now on.
    bool futureCancelled() const noexcept;
    // Hands the progress to the linked QFutures.
    void progressToFutures();
    TaskExtras &ensureExtras();
    // Progress changed: one update event per batch reaches the keeper's thread.
    void noteUpdate() noexcept;

    // Fills \a info with what is known once the task reached \a upTo: fields of later states
    // may still be written by another thread and are not read.
    void fillInfo(TaskInfo &info, TaskState upTo) const;
    // "then ← decode img-020": the title of an untitled continuation.
    QString continuationTitle() const;
    // Wakes threads blocked in waitUntilFinal(); called after the final state is published.
    void wakeWaiters() noexcept;

    // Ordered so that the small fields share words: a retained Promise<int> stays small.
    std::atomic<int> m_ref { 1 };
    std::atomic<int> m_waiters { 0 };
    std::atomic<int> m_pendingInputs { 0 }; // inputs not yet succeeded (tasks that wait)
    int m_priority = 0;
    int m_worker = -1;
    std::atomic<TaskState> m_state { TaskState::Queued };
    std::atomic<bool> m_taken { false };
    std::atomic<bool> m_settling { false };
    bool m_detached = false; // settled by claimSettlement(), not by a keeper
    bool m_onContext = false; // a continuation run on a context object's thread
    bool m_errorPropagated = false; // m_error is an input's, handed on
    bool m_cancelAfterRun = false; // finally() of a cancelled task: ends Cancelled once run
    TaskKind m_kind = TaskKind::Task;
    // An untitled continuation: m_title is its input's, shown after this verb (displayTitle()).
    TitleVerb m_titleVerb = TitleVerb::None;
    bool m_manyInputs = false;
    std::atomic<quint8> m_cancelFlags { 0 };
    // An update event is buffered and not delivered yet (cleared by the keeper's thread).
    std::atomic<bool> m_updatePending { false };
    std::atomic<Continuation *> m_continuations { nullptr }; // newest first
    quint64 m_id = 0;
    // What the task waits for or continues (TaskInfo::inputIds()): one input's id in place, or
    // (chaining by several arguments, combinators) all of them on the heap.
    union {
        quint64 m_inputId = 0; // !m_manyInputs
        QList<quint64> *m_inputIds; // m_manyInputs
    };
    QString m_title;
    qint64 m_queuedNs = 0;
    qint64 m_startedNs = 0;
    qint64 m_finishedNs = 0;
    std::exception_ptr m_error;
    TaskScheduler *m_keeper = nullptr; // holds a reference for the task's whole life
    std::atomic<TaskExtras *> m_extras { nullptr };
};

//! Task ids: unique in the process, increasing.
PROMISEKEEPER_EXPORT quint64 nextTaskId() noexcept;

} // namespace detail
} // namespace pk
