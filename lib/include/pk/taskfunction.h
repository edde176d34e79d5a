// pk::TaskFunction<R(Args...)>: a function bound to a keeper, with callbacks on a context object
// and an optional memo of its results.
#pragma once

#include <pk/detail/aggregate.h>
#include <pk/detail/callablecore.h>
#include <pk/detail/tsan.h> // a callback queued through Qt, which TSan does not see
#include <pk/errors.h>
#include <pk/logging.h>
#include <pk/promise.h>
#include <pk/promisekeeper.h>
#include <pk/taskoptions.h>

#include <QtCore/qhash.h>
#include <QtCore/qhashfunctions.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qobject.h>

#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace pk {

//! A function bound to a keeper, of the signature R(Args...): see pk::TaskFunction<R(Args...)>.
template<typename Signature>
class TaskFunction;

namespace detail {

template<typename T, typename = void>
inline constexpr bool hasEqualityOperator = false;
template<typename T>
inline constexpr bool hasEqualityOperator<T,
    std::void_t<decltype(bool(std::declval<const T &>() == std::declval<const T &>()))>> = true;

// qHashMulti() is SFINAE-friendly (its return type needs qHash(const T &)), so asking it is
// asking the lookup that hashing will do.
template<typename T, typename = void>
inline constexpr bool hasQHash = false;
template<typename T>
inline constexpr bool hasQHash<T,
    std::void_t<decltype(QT_PREPEND_NAMESPACE(qHashMulti)(
        size_t(0), std::declval<const T &>()))>> = true;

//! Whether a call's argument of the (decayed) type \a T can be part of a memo key: it is
//! copyable, with operator== and qHash().
template<typename T>
inline constexpr bool isMemoisableArgument = std::conjunction_v<std::is_copy_constructible<T>,
    std::bool_constant<hasEqualityOperator<T>>, std::bool_constant<hasQHash<T>>>;
//! Whether calls with arguments of the (decayed) types \a A can be memoised.
template<typename... A>
inline constexpr bool isMemoisable = (isMemoisableArgument<A> && ...);

//! The arguments of one call, as a key of the memo.
template<typename... A>
struct CallKey
{
    std::tuple<A...> values;

    friend bool operator==(const CallKey &a, const CallKey &b) { return a.values == b.values; }
    friend size_t qHash(const CallKey &key, size_t seed = 0)
    {
        return std::apply(
            [seed](const auto &...value) {
                if constexpr (sizeof...(value) == 0)
                    return seed; // a function of no arguments: every call is equal
                else
                    return QT_PREPEND_NAMESPACE(qHashMulti)(seed, value...);
            },
            key.values);
    }
};

/*!
    A callback queued to a context's thread. Under ThreadSanitizer it acquires \a sync (which
    the poster released) before it runs, and before it is destroyed unrun (Qt drops the calls
    queued to an object that dies), so that what it captured is seen as handed over.
*/
template<typename F>
class QueuedCallback
{
public:
    QueuedCallback(const void *sync, F fn)
        : m_sync(sync)
        , m_fn(std::move(fn))
    { }
    QueuedCallback(const QueuedCallback &) = default;
    QueuedCallback(QueuedCallback &&) noexcept = default;
    QueuedCallback &operator=(const QueuedCallback &) = delete;
    QueuedCallback &operator=(QueuedCallback &&) = delete;
    ~QueuedCallback() { acquire(); }

    void operator()() const
    {
        acquire();
        m_fn();
    }

private:
    void acquire() const { PK_TSAN_ACQUIRE(const_cast<void *>(m_sync)); }

    const void *m_sync;
    F m_fn;
};

/*!
    A callback's context object, and whether it still lives. Whether to post is decided under a
    mutex that the context's destroyed() handler takes too: a post either happens before the
    context starts dying (Qt then discards the queued call with the object) or not at all. A
    QPointer alone cannot say that for another thread. Shared by the callback and by every
    finishing task about to post to it, so that the connection outlives their posts.
*/
class CallbackContext
{
public:
    CallbackContext(const CallbackContext &) = delete;
    CallbackContext &operator=(const CallbackContext &) = delete;
    ~CallbackContext() { QObject::disconnect(m_onDestroyed); }

    static std::shared_ptr<CallbackContext> create(QObject *context)
    {
        std::shared_ptr<CallbackContext> made(new CallbackContext(context));
        // A weak reference: the connection must not keep the guard (and itself) alive.
        made->m_onDestroyed = QObject::connect(
            context, &QObject::destroyed, [weak = std::weak_ptr<CallbackContext>(made)] {
                if (const auto guard = weak.lock()) {
                    std::lock_guard lock(guard->m_mutex);
                    guard->m_alive = false;
                }
            });
        return made;
    }

    //! Queues \a fn to the context's thread, unless the context is gone.
    template<typename F>
    void post(F &&fn)
    {
        std::lock_guard lock(m_mutex);
        if (!m_alive)
            return;
        // Qt builds the call object and hands it over through its event queue: hidden from
        // TSan, which sees the hand-off as this release and the callback's acquire.
        PK_TSAN_RELEASE(this);
        PK_TSAN_IGNORE_BEGIN();
        QMetaObject::invokeMethod(m_context,
            QueuedCallback<std::decay_t<F>>(this, std::forward<F>(fn)), Qt::QueuedConnection);
        PK_TSAN_IGNORE_END();
    }

private:
    explicit CallbackContext(QObject *context)
        : m_context(context)
    { }

    std::mutex m_mutex;
    bool m_alive = true;
    QObject *m_context; // only handed to Qt while m_alive says it lives
    QMetaObject::Connection m_onDestroyed;
};

//! A callback and the context it runs on; empty if none is set.
template<typename Signature>
struct Callback
{
    std::shared_ptr<CallbackContext> context;
    std::function<Signature> fn;
};

//! The signature of a TaskFunction's result callback: (id, const R &), or (id) for void.
template<typename R>
struct ResultCallback
{
    using type = void(quint64, const R &);
};
template<>
struct ResultCallback<void>
{
    using type = void(quint64);
};

//! Whether \a Fn can be a TaskFunction's result callback for \a R.
template<typename Fn, typename R>
struct TakesResult : std::is_invocable<Fn &, quint64, const R &>
{
};
template<typename Fn>
struct TakesResult<Fn, void> : std::is_invocable<Fn &, quint64>
{
};

using ErrorCallback = void(quint64, const std::exception_ptr &);

//! Calls \a fn on the context's thread; an exception is logged, never let into the event loop.
template<typename F>
void runCallback(quint64 taskId, const F &fn) noexcept
{
    try {
        fn();
    } catch (const std::exception &e) {
        qCWarning(lcPromiseKeeper, "pk::TaskFunction: the callback for task %llu threw: %s",
            static_cast<unsigned long long>(taskId), e.what());
    } catch (...) {
        qCWarning(lcPromiseKeeper, "pk::TaskFunction: the callback for task %llu threw",
            static_cast<unsigned long long>(taskId));
    }
}

/*!
    The memo of a TaskFunction: calls still pending and up to capacity() succeeded ones, by
    their arguments, the least recently used first out. All members must be called with the
    owner's mutex held.
*/
template<typename R, typename... A>
class CallMemo
{
public:
    using Key = CallKey<A...>;

    int capacity() const { return m_capacity; }
    qint64 hits() const { return m_hits; }
    qint64 misses() const { return m_misses; }

    //! The promise of an equal call (a hit), or nothing (a miss, which the caller submits).
    std::optional<Promise<R>> find_locked(const Key &key)
    {
        const auto it = m_entries.find(key);
        if (it == m_entries.end()) {
            ++m_misses;
            return std::nullopt;
        }
        ++m_hits;
        if (it->succeeded)
            m_recent.splice(m_recent.begin(), m_recent, it->recent);
        return it->promise;
    }
    void addPending_locked(const Key &key, const Promise<R> &promise)
    {
        m_entries.insert(key, Entry { promise, false, {} });
    }
    //! The task of the call with \a key is final: kept if it succeeded, dropped otherwise. An
    //! entry of another task (the memo was cleared and the call made again) is left alone.
    void settled_locked(const Key &key, const TaskCore *task)
    {
        const auto it = m_entries.find(key);
        if (it == m_entries.end() || it->promise.taskCore() != task)
            return;
        if (task->state() != TaskState::Succeeded) {
            m_entries.erase(it);
            return;
        }
        it->succeeded = true;
        m_recent.push_front(key);
        it->recent = m_recent.begin();
        trim_locked();
    }
    void resize_locked(int capacity)
    {
        m_capacity = capacity;
        if (capacity == 0)
            clear_locked();
        else
            trim_locked();
    }
    void clear_locked()
    {
        m_entries.clear();
        m_recent.clear();
    }

private:
    struct Entry
    {
        Promise<R> promise;
        bool succeeded = false;
        typename std::list<Key>::iterator recent; // in m_recent, once succeeded
    };
    void trim_locked()
    {
        while (m_recent.size() > std::size_t(m_capacity)) {
            m_entries.remove(m_recent.back());
            m_recent.pop_back();
        }
    }

    QHash<Key, Entry> m_entries;
    std::list<Key> m_recent; // the keys of succeeded entries, most recently used first
    int m_capacity = 0;
    qint64 m_hits = 0;
    qint64 m_misses = 0;
};

//! What the copies of one TaskFunction share. \a A are the decayed argument types.
template<typename R, typename... A>
class TaskFunctionState
{
public:
    using Submitter = std::function<Promise<R>(const TaskOptions &, const A &...)>;
    using Memo = CallMemo<R, A...>;

    explicit TaskFunctionState(Submitter submitter)
        : submit(std::move(submitter))
    { }

    //! Calls the callback in force now for the outcome of \a task (null: an invalid promise).
    //! Runs once, on the thread that made the task final, outside the keeper's locks.
    void finished(TaskCore *task, quint64 taskId) noexcept
    {
        const TaskState state = task ? task->state() : TaskState::Failed;
        if (state == TaskState::Cancelled)
            return; // documented: neither callback
        try {
            if (state == TaskState::Succeeded)
                postResult(task, taskId);
            else
                postError(task, taskId);
        } catch (...) {
            // Copying the value or the callback threw, on a worker: nowhere to hand it to.
            qCWarning(lcPromiseKeeper,
                "pk::TaskFunction: the callback for task %llu could not be queued",
                static_cast<unsigned long long>(taskId));
        }
    }

    const Submitter submit; // set once: read without the lock
    std::mutex mutex; // guards everything below
    TaskOptions options;
    Callback<typename ResultCallback<R>::type> onResult;
    Callback<ErrorCallback> onError;
    Memo memo;

private:
    // The callback in force now: a copy, called without the lock.
    template<typename Slot>
    Slot current(const Slot &slot)
    {
        std::lock_guard lock(mutex);
        return slot;
    }
    void postResult(TaskCore *task, quint64 taskId)
    {
        auto callback = current(onResult);
        if (!callback.fn)
            return;
        if constexpr (std::is_void_v<R>) {
            callback.context->post([fn = std::move(callback.fn), taskId] {
                runCallback(taskId, [&] { fn(taskId); });
            });
        } else if constexpr (std::is_copy_constructible_v<R>) {
            // A copy: the promise's value stays for result() (and the memo).
            callback.context->post([fn = std::move(callback.fn), taskId,
                                       value = *static_cast<const ValueCore<R> *>(task)->value] {
                runCallback(taskId, [&] { fn(taskId, value); });
            });
        } else {
            Q_UNUSED(task); // setCallback() refuses a move-only R
        }
    }
    void postError(TaskCore *task, quint64 taskId)
    {
        auto callback = current(onError);
        if (!callback.fn)
            return;
        const std::exception_ptr error = task
            ? task->error()
            : std::make_exception_ptr(InvalidTaskError(QStringLiteral("the promise is invalid")));
        callback.context->post([fn = std::move(callback.fn), taskId, error] {
            runCallback(taskId, [&] { fn(taskId, error); });
        });
    }
};

} // namespace detail

/*!
    A function bound to a keeper: calling it submits the function with the arguments and returns
    the promise at once, as PromiseKeeper::submit() does. It can also report results through
    callbacks on a context object, and remember results so that equal calls share them.

    \code
    pk::TaskFunction<int(int, int)> doJob(&keeper, [](int foo, int bar) { return foo + bar; });
    doJob.setCallback(this, &Foo::taskDone); // void taskDone(quint64 taskId, int result)
    doJob.setErrorCallback(this, &Foo::taskError); // (quint64, const std::exception_ptr &)
    pk::Promise<int> p = doJob(1, 2);
    \endcode

    A TaskFunction is a cheap handle: copies share one state, so the callbacks, the options and
    the memo set through one copy hold for all.

    \b Callbacks run on their context object's thread, always through its event loop (never
    inside the call that made the task final), and never if the context is destroyed first. The
    callback in force when a task \e finishes is the one called: setting or clearing a callback
    takes effect for the tasks still running too. A task that succeeds calls the result callback
    with its id and a copy of its value; one that fails (also a refused submission, which fails
    at once with pk::ShutdownError or pk::InvalidTaskError) calls the error callback with its id
    and exception; a cancelled task calls neither. An exception thrown by a callback is logged in
    the "promisekeeper" category and goes no further. A task still running holds the callbacks,
    so they are called even if every copy of the TaskFunction is gone by then.

    \b Memoisation is off by default; setCacheSize(n) with n > 0 turns it on. A call whose
    arguments equal (operator== and qHash() of every argument) those of a call still pending
    gets that call's promise, and so does a call equal to one of the last n that succeeded
    (already succeeded, then): both are hits, counted by cacheHits(), and run no task, so they
    call no callback. Failures and cancellations are never kept: the next equal call runs
    again. Do not use Promise::takeResult() on the promises of a TaskFunction that memoises or
    has a result callback: the memo and the callback copy the value from the promise.

    Thread safety: every member function is thread-safe, and the copies of one TaskFunction may
    be used from any threads at once. The keeper must outlive the calls (the promises need not).
*/
template<typename R, typename... Args>
class TaskFunction<R(Args...)>
{
    using State = detail::TaskFunctionState<R, std::decay_t<Args>...>;
    static constexpr bool memoisable = detail::isMemoisable<std::decay_t<Args>...>;

public:
    //! What a call's promise gives, R.
    using ResultType = R;

    /*!
        Binds \a fn to \a keeper: each call submits a copy of \a fn with the call's arguments.
        \a fn takes Args (after a pk::TaskContext & if it wants the running task's context) and
        returns R; it must be copyable. With a null \a keeper every call gives an invalid
        promise, which behaves as failed with pk::InvalidTaskError.
    */
    template<typename F, std::enable_if_t<!std::is_same_v<std::decay_t<F>, TaskFunction>, int> = 0>
    TaskFunction(PromiseKeeper *keeper, F &&fn)
        : TaskFunction(submitterFor(keeper, std::forward<F>(fn)))
    { }

    /*!
        A task function whose calls run \a fn in a child process of \a keeper, as
        PromiseKeeper::submitToProcess() does: \a fn is registered with PK_PROCESS_TASK, takes
        Args and returns R. Callbacks, options and memoisation work as for any task function
        (a memoised call starts no process). With a null \a keeper every call gives an invalid
        promise.
    */
    template<typename FR, typename... P>
    static TaskFunction inProcess(PromiseKeeper *keeper, FR (*fn)(P...))
    {
        static_assert(std::is_same_v<std::decay_t<FR>, R> && sizeof...(P) == sizeof...(Args)
                && (std::is_same_v<std::decay_t<P>, std::decay_t<Args>> && ...),
            "pk::TaskFunction<R(Args...)>::inProcess: the function must take Args and return R");
        if (!keeper) {
            qCWarning(lcPromiseKeeper, "pk::TaskFunction::inProcess: the keeper is null");
            return TaskFunction(Submitter(
                [](const TaskOptions &, const std::decay_t<Args> &...) { return Promise<R>(); }));
        }
        return TaskFunction(
            Submitter([keeper, fn](const TaskOptions &options, const std::decay_t<Args> &...args) {
                return keeper->submitToProcess(options, fn, args...);
            }));
    }

    //! A handle on the same state as \a other.
    TaskFunction(const TaskFunction &other) = default;
    //! Makes this a handle on \a other's state. (There is no move: a moved-from TaskFunction
    //! would have no state, so moving copies the handle.)
    TaskFunction &operator=(const TaskFunction &other) = default;
    //! Releases this handle; tasks still running keep what they need.
    ~TaskFunction() = default;

    /*!
        Submits the function with \a args (copied into the task) and the options(), and returns
        the task's promise; with memoisation on, it may instead return the promise of an equal
        call (see the class description). Never blocks on the task.
    */
    Promise<R> operator()(Args... args) const
    {
        std::unique_lock lock(d->mutex);
        if constexpr (memoisable) {
            if (d->memo.capacity() > 0)
                return callMemoised(lock, args...);
        }
        const TaskOptions options = d->options;
        lock.unlock();
        Promise<R> promise = d->submit(options, args...);
        watch(promise);
        return promise;
    }

    //! The options (title, priority, time-out) of every later call.
    TaskOptions options() const
    {
        std::lock_guard lock(d->mutex);
        return d->options;
    }
    //! Sets the options of every later call to \a options; tasks submitted already keep theirs.
    void setOptions(const TaskOptions &options)
    {
        std::lock_guard lock(d->mutex);
        d->options = options;
    }

    /*!
        Calls \a callback with the task's id and a copy of its value, on \a context's thread,
        for every task that succeeds from now on (also those running now), in place of the
        callback set before. \a callback takes (quint64 taskId, const R &result), or
        (quint64 taskId) if R is void. A null \a context warns and clears the callback.
    */
    template<typename F,
        std::enable_if_t<!std::is_member_function_pointer_v<std::decay_t<F>>, int> = 0>
    void setCallback(QObject *context, F &&callback)
    {
        using Fn = std::decay_t<F>;
        static_assert(std::is_void_v<R> || std::is_copy_constructible_v<R>,
            "pk::TaskFunction::setCallback: the callback gets a copy of the result, and R is "
            "not copyable; use the promises instead (or make R a std::shared_ptr)");
        if constexpr (std::is_void_v<R>) {
            static_assert(detail::TakesResult<Fn, R>::value,
                "pk::TaskFunction<void(...)>::setCallback: the callback must take "
                "(quint64 taskId)");
        } else {
            static_assert(detail::TakesResult<Fn, R>::value,
                "pk::TaskFunction<R(...)>::setCallback: the callback must take "
                "(quint64 taskId, const R &result) or (quint64 taskId, R result)");
        }
        static_assert(std::is_copy_constructible_v<Fn>,
            "pk::TaskFunction::setCallback: the callback must be copyable");
        // Only the assertion above reports a slip: no error from the code below follows it.
        if constexpr (detail::TakesResult<Fn, R>::value && std::is_copy_constructible_v<Fn>)
            setCallbackOf(d->onResult, context, std::forward<F>(callback), "setCallback");
    }
    /*!
        As setCallback(context, callback), calling \a method on \a object (a QObject, which is
        also the context): void Obj::method(quint64 taskId, R result) (or const R &), or
        void Obj::method(quint64 taskId) if R is void.
    */
    template<typename Obj, typename Method,
        std::enable_if_t<std::is_member_function_pointer_v<Method>, int> = 0>
    void setCallback(Obj *object, Method method)
    {
        static_assert(std::is_base_of_v<QObject, Obj>,
            "pk::TaskFunction::setCallback: the object must be a QObject (the callback runs on "
            "its thread)");
        if constexpr (std::is_void_v<R>) {
            constexpr bool takes = std::is_invocable_v<Method, Obj *, quint64>;
            static_assert(takes,
                "pk::TaskFunction<void(...)>::setCallback: the method must take "
                "(quint64 taskId)");
            if constexpr (takes)
                setCallback(
                    object, [object, method](quint64 id) -> void { (object->*method)(id); });
        } else {
            constexpr bool takes = std::is_invocable_v<Method, Obj *, quint64, const R &>;
            static_assert(takes,
                "pk::TaskFunction<R(...)>::setCallback: the method must take "
                "(quint64 taskId, R result) or (quint64 taskId, const R &result)");
            if constexpr (takes) {
                setCallback(object, [object, method](quint64 id, const R &result) -> void {
                    (object->*method)(id, result);
                });
            }
        }
    }
    //! No result callback from now on, also for the tasks running now.
    void clearCallback()
    {
        std::lock_guard lock(d->mutex);
        d->onResult = {};
    }

    /*!
        Calls \a callback with the task's id and its exception, on \a context's thread, for every
        task that fails from now on (also those running now), in place of the error callback set
        before. \a callback takes (quint64 taskId, const std::exception_ptr &error). A cancelled
        task is not a failure: it calls no callback. A null \a context warns and clears it.
    */
    template<typename F,
        std::enable_if_t<!std::is_member_function_pointer_v<std::decay_t<F>>, int> = 0>
    void setErrorCallback(QObject *context, F &&callback)
    {
        using Fn = std::decay_t<F>;
        constexpr bool takes = std::is_invocable_v<Fn &, quint64, const std::exception_ptr &>;
        static_assert(takes,
            "pk::TaskFunction::setErrorCallback: the callback must take "
            "(quint64 taskId, const std::exception_ptr &error)");
        static_assert(std::is_copy_constructible_v<Fn>,
            "pk::TaskFunction::setErrorCallback: the callback must be copyable");
        if constexpr (takes && std::is_copy_constructible_v<Fn>)
            setCallbackOf(d->onError, context, std::forward<F>(callback), "setErrorCallback");
    }
    //! As setErrorCallback(context, callback), calling \a method on \a object (a QObject, also
    //! the context): void Obj::method(quint64 taskId, const std::exception_ptr &error).
    template<typename Obj, typename Method,
        std::enable_if_t<std::is_member_function_pointer_v<Method>, int> = 0>
    void setErrorCallback(Obj *object, Method method)
    {
        static_assert(std::is_base_of_v<QObject, Obj>,
            "pk::TaskFunction::setErrorCallback: the object must be a QObject (the callback "
            "runs on its thread)");
        constexpr bool takes
            = std::is_invocable_v<Method, Obj *, quint64, const std::exception_ptr &>;
        static_assert(takes,
            "pk::TaskFunction::setErrorCallback: the method must take "
            "(quint64 taskId, const std::exception_ptr &error)");
        if constexpr (takes) {
            setErrorCallback(object, [object, method](quint64 id, const std::exception_ptr &e) {
                (object->*method)(id, e);
            });
        }
    }
    //! No error callback from now on, also for the tasks running now.
    void clearErrorCallback()
    {
        std::lock_guard lock(d->mutex);
        d->onError = {};
    }

    /*!
        Memoises up to \a size succeeded results (and shares the promises of pending equal
        calls); 0, the default, turns memoisation off and forgets everything. Shrinking forgets
        the least recently used results first. A negative \a size counts as 0. Needs every
        argument type to be copyable, with operator== and qHash().
    */
    void setCacheSize(int size)
    {
        static_assert(memoisable,
            "pk::TaskFunction::setCacheSize: memoisation compares and hashes the arguments: "
            "every argument type needs operator== and qHash(const T &, size_t seed = 0), and "
            "to be copyable");
        std::lock_guard lock(d->mutex);
        d->memo.resize_locked(qMax(size, 0));
    }
    //! How many succeeded results are memoised at most; 0 when memoisation is off.
    int cacheSize() const
    {
        std::lock_guard lock(d->mutex);
        return d->memo.capacity();
    }
    //! Forgets the memoised results and the pending calls (the next equal call runs again);
    //! the counters and cacheSize() stay.
    void clearCache()
    {
        std::lock_guard lock(d->mutex);
        d->memo.clear_locked();
    }
    //! Calls answered from the memo (a pending or succeeded equal call), since construction.
    qint64 cacheHits() const
    {
        std::lock_guard lock(d->mutex);
        return d->memo.hits();
    }
    //! Calls made while memoisation was on that found no equal call, and so ran a task.
    qint64 cacheMisses() const
    {
        std::lock_guard lock(d->mutex);
        return d->memo.misses();
    }

private:
    using Submitter = typename State::Submitter;

    // inProcess() builds one with PromiseKeeper::submitToProcess
    explicit TaskFunction(Submitter submitter)
        : d(std::make_shared<State>(std::move(submitter)))
    { }

    template<typename F>
    static Submitter submitterFor(PromiseKeeper *keeper, F &&fn)
    {
        using Fn = std::decay_t<F>;
        using Plan = detail::CallPlan<Fn, std::decay_t<Args>...>;
        static_assert(Plan::valid,
            "pk::TaskFunction<R(Args...)>: the callable must take Args (after a "
            "pk::TaskContext & if it wants one)");
        static_assert(std::is_same_v<typename Plan::Result, R>,
            "pk::TaskFunction<R(Args...)>: the callable must return R");
        static_assert(std::is_copy_constructible_v<Fn>,
            "pk::TaskFunction: the callable must be copyable (each call submits a copy)");
        if constexpr (!Plan::valid
            || !std::is_same_v<typename Plan::Result, R> || !std::is_copy_constructible_v<Fn>) {
            return Submitter(); // only the assertion above reports the slip
        } else {
            return submitterOf(keeper, std::forward<F>(fn));
        }
    }
    template<typename F>
    static Submitter submitterOf(PromiseKeeper *keeper, F &&fn)
    {
        using Fn = std::decay_t<F>;
        if (!keeper) {
            qCWarning(lcPromiseKeeper, "pk::TaskFunction: the keeper is null");
            return [](const TaskOptions &, const std::decay_t<Args> &...) { return Promise<R>(); };
        }
        return
            [keeper, fn = Fn(std::forward<F>(fn))](const TaskOptions &options,
                const std::decay_t<Args> &...args) { return keeper->submit(options, fn, args...); };
    }

    template<typename Slot, typename F>
    void setCallbackOf(Slot &slot, QObject *context, F &&callback, const char *name)
    {
        if (!context) {
            qCWarning(lcPromiseKeeper, "pk::TaskFunction::%s: the context object is null", name);
            std::lock_guard lock(d->mutex);
            slot = {};
            return;
        }
        // Made outside the lock: connect() takes Qt's locks.
        Slot made { detail::CallbackContext::create(context), std::forward<F>(callback) };
        std::lock_guard lock(d->mutex);
        std::swap(slot, made); // the old callback is released after the lock
    }

    // Calls the callbacks when the task of \a promise is final (at once if it is).
    void watch(const Promise<R> &promise) const
    {
        detail::whenFinal(promise.taskCore(),
            [state = d, id = promise.id()](detail::TaskCore *task) { state->finished(task, id); });
    }

    template<typename Lock>
    Promise<R> callMemoised(Lock &lock, const Args &...args) const
    {
        using Key = typename State::Memo::Key;
        Key key { std::tuple<std::decay_t<Args>...>(args...) };
        if (std::optional<Promise<R>> hit = d->memo.find_locked(key))
            return *hit;
        // Submitted under the lock, so that an equal call meanwhile finds this call's promise.
        // The keeper never calls back into us from submit(): continuations run when a task is
        // final, and the one below is attached after the lock is released.
        Promise<R> promise = d->submit(d->options, args...);
        const bool valid = promise.isValid();
        if (valid)
            d->memo.addPending_locked(key, promise);
        lock.unlock();
        if (!valid) {
            watch(promise);
            return promise;
        }
        detail::whenFinal(promise.taskCore(),
            [state = d, id = promise.id(), key = std::move(key)](detail::TaskCore *task) {
                {
                    std::lock_guard guard(state->mutex);
                    state->memo.settled_locked(key, task);
                }
                state->finished(task, id);
            });
        return promise;
    }

    std::shared_ptr<State> d; // never null
};

} // namespace pk
