// pk::PromiseKeeper: runs callables on a thread pool and hands back typed promises.
#pragma once

#include <pk/detail/callablecore.h>
#include <pk/detail/diagnostics.h>
#include <pk/detail/mapstate.h>
#include <pk/detail/testhooks.h>
#include <pk/enums.h>
#include <pk/mapoptions.h>
#include <pk/processtask.h>
#include <pk/promise.h>
#include <pk/promisekeeper_export.h>
#include <pk/taskcounts.h>
#include <pk/taskinfo.h>
#include <pk/taskoptions.h>

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qlist.h>
#include <QtCore/qobject.h>

#include <chrono>
#include <memory>
#include <type_traits>
#include <typeinfo>

namespace pk {

class EventListener;
class PromiseKeeperPrivate;

/*!
    Runs submitted callables on its own QThreadPool and returns a pk::Promise for each at once.

    Tasks start in priority order, and in submission order among equal priorities. With the
    default of one thread they run one after another, as submitted. With threadCount() == 0 the
    keeper is in manual mode: nothing runs until processPending() runs the pending tasks on the
    calling thread, which makes tests deterministic.

    Every state change is recorded off the worker threads and delivered to the keeper's thread
    (the thread it lives in) in batches; the task signals below are emitted there, one per
    change, in the order each task's states changed. GUI code connects to them directly.

    Thread safety: submit(), the counts, tasks(), cancelAll(), waitForAll(), shutdown(),
    processPending() and the threadCount property are thread-safe. add/removeEventListener()
    and setHistorySize() must be called on the keeper's thread (elsewhere they warn in the
    "promisekeeper" category and do nothing). Destroy the keeper on its own thread: destruction
    cancels what is queued and waits for what runs.
*/
class PROMISEKEEPER_EXPORT PromiseKeeper : public QObject
{
    Q_OBJECT
    Q_PROPERTY(int threadCount READ threadCount WRITE setThreadCount NOTIFY threadCountChanged)
    Q_PROPERTY(bool running READ isRunning NOTIFY countsChanged)
    Q_PROPERTY(bool shutDown READ isShutdown)
    Q_PROPERTY(int historySize READ historySize WRITE setHistorySize)

public:
    //! A negative \a threadCount warns and gives the default, 1; only 0 means manual mode.
    explicit PromiseKeeper(int threadCount = 1, QObject *parent = nullptr);
    //! Cancels what is waiting or queued and waits for what runs; call it on the keeper's thread.
    ~PromiseKeeper() override;

    //! The number of worker threads; 0 in manual mode.
    int threadCount() const;
    //! Sets the number of worker threads; 0 switches to manual mode. A negative value warns and
    //! changes nothing. Lowering it lets running tasks finish; raising it starts pending ones.
    //! Returns at once whatever the count: workers start one another as they take queued tasks.
    void setThreadCount(int count);

    /*!
        Submits \a fn to be called with \a args (decay-copied into the task, as std::thread does;
        use std::ref to pass a reference) and returns its promise at once. Never blocks, never
        throws for a bad task: an empty callable gives a promise already Failed with
        pk::InvalidTaskError, and a shut-down keeper one Failed with pk::ShutdownError.
        Member functions work too: submit(&Class::method, object, args...). A result type whose
        destructor throws ends the program (std::terminate), as any exception leaving a
        destructor does.
    */
    template<typename F, typename... Args,
        std::enable_if_t<!std::is_same_v<std::decay_t<F>, TaskOptions>, int> = 0>
    auto submit(F &&fn, Args &&...args)
    {
        return submit(TaskOptions(), std::forward<F>(fn), std::forward<Args>(args)...);
    }

    //! As submit(fn, args...), with the task's title, priority and time-out from \a options.
    template<typename F, typename... Args>
    auto submit(const TaskOptions &options, F &&fn, Args &&...args)
    {
        if constexpr (detail::objectByValue<std::decay_t<F>, std::decay_t<Args>...>) {
            (void)sizeof(diagnostics::ObjectPassedByValue<
                std::decay_t<std::tuple_element_t<0, std::tuple<Args...>>>>);
            return Promise<
                typename detail::ByPointer<std::decay_t<F>, std::decay_t<Args>...>::Result>();
        } else if constexpr (!detail::CallPlan<std::decay_t<F>, std::decay_t<Args>...>::valid) {
            (void)sizeof(diagnostics::CallableDoesNotTakeTheseArguments<std::decay_t<F>,
                std::decay_t<Args>...>);
            return Promise<void>();
        } else {
            return submitPlanned(options, std::forward<F>(fn), std::forward<Args>(args)...);
        }
    }

private:
    template<typename F, typename... Args>
    auto submitPlanned(const TaskOptions &options, F &&fn, Args &&...args)
    {
        using Plan = detail::CallPlan<std::decay_t<F>, std::decay_t<Args>...>;
        using R = typename Plan::Result;
        using Core = detail::PlannedCore<Plan, std::decay_t<F>, std::decay_t<Args>...>;
        const bool empty = detail::isEmptyCallable(fn);
        auto *core = new Core(std::forward<F>(fn), std::forward<Args>(args)...);
        Promise<R> promise = detail::adoptPromise<R>(core);
        if constexpr (Plan::unwrap)
            enqueueDependent(core, options, core->inputs(), empty);
        else
            enqueue(core, options, empty);
        return promise;
    }

public:
    /*!
        Submits a call of \a fn with \a args to run in a child process, and returns its
        promise at once. The task is an ordinary task of this keeper (queue, priority, states,
        signals, continuations, promises as arguments); when a worker runs it, the call
        happens in a child process started from the application's own executable (see
        pk::ProcessWorker), so that a crash, a leak or a hang in \a fn cannot take the
        application down. \a fn must be registered with PK_PROCESS_TASK; its arguments and
        result cross the process boundary with QDataStream (a compile-time error says when
        they cannot).

        Children are started on demand and reused, at most one per worker thread (see
        setMaxTasksPerProcess()). The promise fails with pk::ProcessCrashedError if the child
        dies before it answers (it is replaced), with pk::ProcessTaskError if \a fn throws,
        with pk::TimeoutError at TaskOptions::timeout (the child is killed then), and with
        pk::InvalidTaskError if \a fn is not registered. requestCancellation() of a running
        process task kills its child and ends it Cancelled. What the child prints is logged in
        the "promisekeeper.process" category with the task id. Thread-safe.
    */
    template<typename R, typename... P, typename... Args>
    Promise<std::decay_t<R>> submitToProcess(R (*fn)(P...), Args &&...args)
    {
        return submitToProcess(TaskOptions(), fn, std::forward<Args>(args)...);
    }
    //! As submitToProcess(fn, args...), with the task's title, priority and time-out from
    //! \a options.
    template<typename R, typename... P, typename... Args>
    Promise<std::decay_t<R>> submitToProcess(
        const TaskOptions &options, R (*fn)(P...), Args &&...args)
    {
        using V = std::decay_t<R>;
        static_assert(sizeof...(P) == sizeof...(Args),
            "pk::PromiseKeeper::submitToProcess: give one argument per parameter of the "
            "function (default arguments do not cross a process boundary)");
        if constexpr (!detail::checkProcessSignature<R (*)(P...)>()) {
            return Promise<V>();
        } else {
            const char *name = detail::processTaskName(detail::processTaskKey(fn));
            if (!name) {
                const QString message = detail::unregisteredProcessTaskMessage(
                    typeid(fn).name(), detail::processTaskKey(fn));
                return submit(options, [message]() -> V { throw InvalidTaskError(message); });
            }
            return submit(
                options,
                [name](TaskContext &context, const std::decay_t<P> &...values) -> V {
                    QByteArray arguments;
                    {
                        QDataStream out(&arguments, QIODevice::WriteOnly);
                        detail::setUpProcessStream(out);
                        ((out << values), ...);
                    }
                    const QByteArray reply = detail::callInProcess(context, name, arguments);
                    if constexpr (!std::is_void_v<V>) {
                        QDataStream in(reply);
                        detail::setUpProcessStream(in);
                        V value {};
                        in >> value;
                        if (in.status() != QDataStream::Ok)
                            throw ProcessTaskError(QStringLiteral("the result could not be read"),
                                QStringLiteral("pk::ProcessTaskError"), QString::fromUtf8(name));
                        return value;
                    }
                },
                std::forward<Args>(args)...);
        }
    }

    //! How many tasks a child process of submitToProcess() runs before it is replaced by a
    //! new one (Pebble's max_tasks): 0, the default, keeps children as long as they live.
    int maxTasksPerProcess() const;
    //! Sets maxTasksPerProcess(); children that ran that many tasks end after their current
    //! one. Thread-safe.
    void setMaxTasksPerProcess(int count);

    /*!
        Calls \a fn on every item of \a items (any container with begin() and end(); the items
        are copied) as tasks of this keeper, and returns a promise of the results in input
        order: a QList<R>, or void if \a fn returns nothing. If an item fails, the promise fails
        with the exception of the earliest failing item in input order, and items not started
        yet are cancelled. \a fn is called on several threads at once, through a const
        reference. MapOptions::maxInFlight bounds how many items are queued or running at once.
    */
    template<typename F, typename Container>
    auto map(F &&fn, const Container &items, const MapOptions &options = MapOptions())
    {
        using Item = std::decay_t<decltype(*std::begin(items))>;
        using Fn = std::decay_t<F>;
        constexpr bool plain = std::is_invocable_v<const Fn &, const Item &>;
        static_assert(plain || std::is_invocable_v<const Fn &, TaskContext &, const Item &>,
            "pk::PromiseKeeper::map: the callable must take an item (by value or const "
            "reference), after a pk::TaskContext & if it wants one, and be callable as const");
        using R = std::decay_t<
            typename std::conditional_t<plain, std::invoke_result<const Fn &, const Item &>,
                std::invoke_result<const Fn &, TaskContext &, const Item &>>::type>;
        if constexpr (!std::is_void_v<R> && !std::is_copy_constructible_v<R>) {
            (void)sizeof(diagnostics::ValuesMustBeCopyable<R>);
            return Promise<void>();
        } else {
            return mapChecked<R>(std::forward<F>(fn), items, options);
        }
    }

private:
    template<typename R, typename F, typename Container>
    auto mapChecked(F &&fn, const Container &items, const MapOptions &options)
    {
        using Item = std::decay_t<decltype(*std::begin(items))>;
        using Fn = std::decay_t<F>;
        auto state = std::make_shared<detail::MapState<Fn, Item, R>>(sharedState(),
            Fn(std::forward<F>(fn)), std::vector<Item>(std::begin(items), std::end(items)),
            options);
        return state->start();
    }

public:
    /*!
        Runs pending tasks on the calling thread, in start order, until none is left (tasks that
        become pending meanwhile run too), and returns how many ran. This is how manual mode
        (threadCount() == 0) makes progress; on the keeper's own thread the signals for them are
        emitted before it returns.
    */
    int processPending();

    //! Whether anything is waiting, queued or running.
    bool isRunning() const;
    //! Whether nothing is waiting, queued or running: !isRunning().
    bool isIdle() const { return !isRunning(); }

    //! Blocks until nothing is waiting, queued or running; returns whether that happened in time.
    //! In manual mode on the keeper's thread it runs the pending tasks instead of blocking.
    bool waitForAll(int msecs = -1);
    //! As waitForAll(int), until \a deadline.
    bool waitForAll(QDeadlineTimer deadline);
    //! As waitForAll(int), for \a timeout.
    template<typename Rep, typename Period>
    bool waitForAll(std::chrono::duration<Rep, Period> timeout)
    {
        return waitForAll(QDeadlineTimer(timeout));
    }

    //! Waiting, queued and running now, and the totals since creation, all at one instant.
    //! Thread-safe.
    TaskCounts counts() const;
    /*!
        The counts as of the last state change delivered to the event listeners and the
        signals: what a view built from them shows, change for change. counts() is ahead of it
        by the changes not delivered yet (in a flood, those of a batch or more). Inside
        EventListener::taskEvents() it includes the events passed. Keeper's thread only.
    */
    TaskCounts deliveredCounts() const;
    //! counts().queued: tasks queued now, waiting for a worker.
    qint64 queuedCount() const { return counts().queued; }
    //! counts().running: tasks running now.
    qint64 runningCount() const { return counts().running; }
    //! counts().succeeded: tasks that succeeded since the keeper was created.
    qint64 succeededCount() const { return counts().succeeded; }
    //! counts().failed: tasks that failed since the keeper was created.
    qint64 failedCount() const { return counts().failed; }
    //! counts().cancelled: tasks cancelled since the keeper was created.
    qint64 cancelledCount() const { return counts().cancelled; }

    //! The tasks waiting, queued or running now: running first, then the queue in start order.
    QList<TaskInfo> tasks() const;

    /*!
        Cancels the task with id \a taskId if it is waiting or queued here, as its promise's
        cancel() would; false if it is not (unknown, running, finished). For tools that know
        tasks by id, like the monitor; it searches the queue.
    */
    bool cancel(quint64 taskId);
    //! As Promise::requestCancellation() for the live task with id \a taskId here: cancels it
    //! if it has not started, asks it to stop if it runs; false if it is neither.
    bool requestCancellation(quint64 taskId);

    /*!
        Cancels the tasks waiting or queued and requests cancellation of the running ones (see
        pk::TaskContext); continuations attached to them then follow their outcome, so their
        onCancelled() and finally() handlers run. Returns how many tasks it cancelled or asked.
    */
    int cancelAll();

    /*!
        Stops accepting tasks: every later submission of any kind (submit, then(), continuations
        on a context, map()) fails at once with pk::ShutdownError. Then either runs what was
        submitted (Drain: also tasks still waiting for their inputs and map items not launched
        yet) or cancels what has not started and requests cancellation of what runs
        (CancelPending), and waits for the rest until the deadline. Continuations on a context
        object are not waited for (they run on its thread, maybe this one) nor cancelled: they
        follow their input. Returns whether everything finished in time. Idempotent;
        CancelPending after Drain cancels what is still pending.
    */
    bool shutdown(ShutdownMode mode = ShutdownMode::Drain, int msecs = -1);
    //! As shutdown(ShutdownMode, int), waiting until \a deadline.
    bool shutdown(ShutdownMode mode, QDeadlineTimer deadline);
    //! Whether shutdown() was called: the keeper accepts no more tasks.
    bool isShutdown() const;

    //! How many finished tasks the event stream remembers for late listeners (default 256);
    //! set it on the keeper's thread.
    int historySize() const;
    //! Sets historySize() to \a size (at least 0); keeper's thread only.
    void setHistorySize(int size);

    //! Adds a consumer of the event stream (see EventListener); keeper's thread only.
    //! The keeper does not own it; remove it before deleting it.
    void addEventListener(EventListener *listener);
    //! Stops delivering events to \a listener; keeper's thread only. After it returns no
    //! call reaches \a listener.
    void removeEventListener(EventListener *listener);

    /*!
        The keeper registered under \a id, created (with one thread, in the application's main
        thread) on first use: the same id gives the same keeper, another id another one. The
        library owns these keepers and deletes them when the QCoreApplication is destroyed (or at
        exit). Thread-safe.
    */
    static PromiseKeeper *named(const QString &id);

Q_SIGNALS:
    //! A task entered the queue (submitted, or its inputs succeeded); \a info is as of then.
    void taskQueued(const pk::TaskInfo &info);
    //! A worker started the task (or processPending() did, in manual mode).
    void taskStarted(const pk::TaskInfo &info);
    //! The task returned a value; taskFinished() follows.
    void taskSucceeded(const pk::TaskInfo &info);
    //! The task threw (or an input failed, or it timed out): TaskInfo::errorString() says
    //! why; taskFinished() follows.
    void taskFailed(const pk::TaskInfo &info);
    //! The task was cancelled (before it started, or it stopped on request); taskFinished()
    //! follows.
    void taskCancelled(const pk::TaskInfo &info);
    //! After taskSucceeded, taskFailed or taskCancelled.
    void taskFinished(const pk::TaskInfo &info);
    /*!
        A running task reported progress (TaskContext::setProgressValue() and the like):
        at most once per task per batch however often it reports, with the latest values.
    */
    void taskProgress(const pk::TaskInfo &info);
    /*!
        A continuation run on a context object's thread (Promise::then(context, ...),
        onFailed(), onCancelled(), finally()) threw: its promise failed with \a error. The
        exception never reaches the event loop.
    */
    void callbackFailed(const pk::TaskInfo &info, const QString &error);
    //! Once per batch in which the counts changed.
    void countsChanged();
    //! When the last live task finished and nothing is waiting, queued or running.
    void idle();
    //! setThreadCount() changed the count to \a threadCount.
    void threadCountChanged(int threadCount);

    //! \cond internal
protected:
    bool event(QEvent *event) override;
    //! \endcond

private:
    void enqueue(detail::TaskCore *core, const TaskOptions &options, bool emptyCallable);
    detail::TaskScheduler *sharedState() const;
    void enqueueDependent(detail::TaskCore *core, const TaskOptions &options,
        const std::vector<detail::TaskCore *> &inputs, bool emptyCallable);

    friend class PromiseKeeperPrivate;
    friend bool detail::isSettled(const PromiseKeeper *keeper);
    std::unique_ptr<PromiseKeeperPrivate> d;
};

} // namespace pk
