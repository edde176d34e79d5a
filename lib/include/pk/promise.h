// pk::Promise<T>: a typed handle on one task's outcome.
#pragma once

#include <pk/detail/callablecore.h>
#include <pk/detail/continuations.h>
#include <pk/detail/diagnostics.h>
#include <pk/errors.h>
#include <pk/promisekeeper_export.h>
#include <pk/taskinfo.h>

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qfuture.h>

#include <chrono>
#include <exception>
#include <type_traits>

namespace pk {

namespace detail {
//! A promise of what the inner promise gives, once the outer one gave it (then() whose
//! handler returns a promise); pk/detail/aggregate.h defines it.
template<typename U>
Promise<U> flatten(const Promise<Promise<U>> &outer);
} // namespace detail

/*!
    The untyped part of every pk::Promise<T>: state, waiting, errors and identity.

    A promise is a cheap handle on shared state, like QFuture or std::shared_future: copies refer
    to the same task. All member functions are thread-safe and may be called from any thread,
    also after the keeper that ran the task is gone.
*/
class PROMISEKEEPER_EXPORT PromiseBase
{
public:
    //! An invalid promise (isValid() is false).
    PromiseBase() noexcept = default;
    //! A handle on the same task as \a other.
    PromiseBase(const PromiseBase &other) noexcept;
    //! Takes over \a other's task; \a other becomes invalid.
    PromiseBase(PromiseBase &&other) noexcept
        : d(std::exchange(other.d, nullptr))
    { }
    //! Makes this a handle on \a other's task.
    PromiseBase &operator=(const PromiseBase &other) noexcept;
    //! Takes over \a other's task; \a other becomes invalid.
    PromiseBase &operator=(PromiseBase &&other) noexcept;
    //! Releases the handle; the task goes on (a promise is not its task's owner).
    ~PromiseBase();

    //! False for a default-constructed promise, which behaves as failed with InvalidTaskError.
    bool isValid() const noexcept { return d != nullptr; }

    //! The task's state now; states only move forward (see pk::TaskState).
    TaskState state() const noexcept;
    //! Whether the task reached a final state: succeeded, failed or cancelled.
    bool isReady() const noexcept { return isFinal(state()); }

    /*!
        Blocks until the task is final or the time-out passes; returns whether it is final.
        -1 waits forever. On the own thread of a keeper in manual mode (threadCount() == 0) it
        runs the keeper's pending tasks in order instead of blocking, so it cannot deadlock.
    */
    bool wait(int msecs = -1) const;
    //! As wait(int), until \a deadline.
    bool wait(QDeadlineTimer deadline) const;
    //! As wait(int), for \a timeout.
    template<typename Rep, typename Period>
    bool wait(std::chrono::duration<Rep, Period> timeout) const
    {
        return wait(QDeadlineTimer(timeout));
    }

    //! The exception the task failed with; null unless state() is Failed.
    std::exception_ptr exception() const;
    //! what() of the failure, "unknown exception" if it was not a std::exception; empty if none.
    QString errorString() const;

    //! Unique in the process across keepers; 0 for an invalid promise.
    quint64 id() const noexcept;
    //! The title given by pk::TaskOptions (or derived, for continuations); empty if none.
    QString title() const;
    //! A snapshot of everything known about the task now.
    TaskInfo info() const;

    /*!
        Cancels the task if it has not started yet (waiting or queued): the promise ends
        Cancelled, its waiters wake, and the task never runs. Returns false if it is already
        running or final: a running task is never interrupted.
    */
    bool cancel() const;

    /*!
        Asks the task to stop: one that has not started is cancelled at once, as by cancel();
        a running one has cancellation requested on its pk::TaskContext, and ends Cancelled if
        it then throws pk::CancelledError (TaskContext::throwIfCancellationRequested()), or
        normally if it ignores the request. Returns whether either happened (false once final).
    */
    bool requestCancellation() const;
    //! Whether cancellation was requested while it ran (requestCancellation(), cancelAll(),
    //! its time-out).
    bool isCancellationRequested() const noexcept;

    //! The progress value the task reported through its pk::TaskContext (0 if none).
    qint64 progressValue() const noexcept;
    //! The minimum of the task's progress range (0 if none was set).
    qint64 progressMinimum() const noexcept;
    //! The maximum of the task's progress range (0 if none was set).
    qint64 progressMaximum() const noexcept;
    //! The text the task reported with TaskContext::setProgressText() (empty if none).
    QString progressText() const;

    //! Internal: the shared state, for PromiseKeeper's templates.
    detail::TaskCore *taskCore() const noexcept { return d; }

    //! Whether \a a and \a b are handles on the same task (two invalid promises are equal).
    friend bool operator==(const PromiseBase &a, const PromiseBase &b) noexcept
    {
        return a.d == b.d;
    }
    //! Whether \a a and \a b are handles on different tasks.
    friend bool operator!=(const PromiseBase &a, const PromiseBase &b) noexcept
    {
        return a.d != b.d;
    }

    //! \cond internal
protected:
    explicit PromiseBase(detail::TaskCore *adopted) noexcept
        : d(adopted)
    { }
    // Waits for a final state and throws unless the task succeeded: TimeoutError, the task's
    // own exception, CancelledError, or InvalidTaskError for an invalid promise.
    void waitForValue(QDeadlineTimer deadline) const;
    // As waitForValue(), and claims the value for takeResult() (throws InvalidTaskError twice).
    void waitToTake() const;

    detail::TaskCore *d = nullptr;
    //! \endcond
};

namespace detail {
//! Wraps a freshly made core (owning its one reference) in its typed promise.
template<typename T>
Promise<T> adoptPromise(ValueCore<T> *core) noexcept;

// The result type of a handler given a Promise<T>'s value, or nothing if it takes none.
template<typename F, typename T, typename = void>
struct ValueHandler
{
    static constexpr bool takesValue = false;
    static constexpr bool valid = std::is_invocable_v<F &>;
    using Result = typename ResultIf<valid, F &>::type;
};
template<typename F, typename T>
struct ValueHandler<F, T,
    std::enable_if_t<!std::is_void_v<T> && std::is_invocable_v<F &, const T &>>>
{
    static constexpr bool takesValue = true;
    static constexpr bool valid = true;
    using Result = std::decay_t<std::invoke_result_t<F &, const T &>>;
};

} // namespace detail

/*!
    The continuations every Promise<T> has: the base of Promise<T>, not used on its own. A
    continuation waits for this promise without holding a thread; what it returns is a new
    promise. Thread-safe, as PromiseBase.
*/
template<typename T>
class PromiseOps : public PromiseBase
{
public:
    /*!
        Runs \a fn on this promise's keeper's pool once it succeeded, with its value (or
        nothing, for Promise<void>, or the promise itself if \a fn takes a Promise<T>). If this
        promise fails or is cancelled, the returned one fails with the same exception or is
        cancelled, and \a fn never runs. It has this promise's priority and is titled after it
        ("then ← decode img-020"); the overload with TaskOptions sets both.
    */
    template<typename F>
    auto then(F &&fn) const
    {
        return thenOnPool(nullptr, std::forward<F>(fn));
    }
    //! then(), titled and prioritised by \a options.
    template<typename F>
    auto then(const TaskOptions &options, F &&fn) const
    {
        return thenOnPool(&options, std::forward<F>(fn));
    }

    /*!
        Runs \a fn on \a context's thread (through its event loop, never inside this call) once
        this promise succeeded. If \a context is destroyed first, \a fn is never called and the
        returned promise ends Cancelled. An exception from \a fn fails the returned promise and
        makes the keeper emit callbackFailed(); it never reaches the event loop.

        Untitled, it is titled after this promise ("then ← decode img-020"); the overloads
        with TaskOptions give it a title (their priority does not apply: it never queues). The
        same holds for onFailed(), onCancelled() and finally().
    */
    template<typename F>
    auto then(QObject *context, F &&fn) const
    {
        return thenOnContext(context, nullptr, std::forward<F>(fn));
    }
    //! then(context, fn), titled by \a options.
    template<typename F>
    auto then(QObject *context, const TaskOptions &options, F &&fn) const
    {
        return thenOnContext(context, &options, std::forward<F>(fn));
    }

    /*!
        Runs \a fn on \a context's thread if this promise failed: \a fn takes the
        std::exception_ptr (or nothing) and returns a replacement value. A success passes on.
        A handler that takes an exception type (`[](const ParseError &e) { ... }`) runs only
        for a failure of that type or a subclass; any other failure passes on unchanged, as in
        QFuture::onFailed().
    */
    template<typename F>
    Promise<T> onFailed(QObject *context, F &&fn) const
    {
        return onFailedOnContext(context, nullptr, std::forward<F>(fn));
    }
    //! onFailed(context, fn), titled by \a options.
    template<typename F>
    Promise<T> onFailed(QObject *context, const TaskOptions &options, F &&fn) const
    {
        return onFailedOnContext(context, &options, std::forward<F>(fn));
    }

    //! Runs \a fn (no arguments, returns a replacement value) on \a context's thread if this
    //! promise was cancelled. Success and failure pass on.
    template<typename F>
    Promise<T> onCancelled(QObject *context, F &&fn) const
    {
        return onCancelledOnContext(context, nullptr, std::forward<F>(fn));
    }
    //! onCancelled(context, fn), titled by \a options.
    template<typename F>
    Promise<T> onCancelled(QObject *context, const TaskOptions &options, F &&fn) const
    {
        return onCancelledOnContext(context, &options, std::forward<F>(fn));
    }

    //! Runs \a fn (no arguments) on \a context's thread whatever the outcome; the outcome then
    //! passes on (an exception from \a fn replaces it).
    template<typename F>
    Promise<T> finally(QObject *context, F &&fn) const
    {
        requirePassThrough();
        return onContext<T, detail::ContextMode::Finally>(context, nullptr, std::forward<F>(fn));
    }
    //! finally(context, fn), titled by \a options.
    template<typename F>
    Promise<T> finally(QObject *context, const TaskOptions &options, F &&fn) const
    {
        requirePassThrough();
        return onContext<T, detail::ContextMode::Finally>(context, &options, std::forward<F>(fn));
    }

    /*!
        A QFuture that finishes with this promise, for QFutureWatcher, QtFuture::whenAll and
        code written for QFuture. The promise's exception is reported to the future as is. The
        future reports the task's progress (clamped to int, as QFuture's is), and its cancel()
        requests cancellation: a running task sees it through its TaskContext, and one that
        has not started yet starts with it requested.
    */
    QFuture<T> future() const
    {
        QFutureInterface<T> fi;
        fi.reportStarted();
        QFuture<T> f = fi.future();
        if (this->d) {
            this->d->linkFuture(fi);
            this->d->addContinuation(new detail::FutureLink<T>(fi));
        } else {
            fi.reportException(this->exception());
            fi.reportFinished();
        }
        return f;
    }

    //! \cond internal
protected:
    PromiseOps() noexcept = default;
    explicit PromiseOps(detail::TaskCore *adopted) noexcept
        : PromiseBase(adopted)
    { }
    //! \endcond

private:
    const Promise<T> &self() const { return static_cast<const Promise<T> &>(*this); }
    static void requirePassThrough()
    {
        static_assert(std::is_void_v<T> || std::is_copy_constructible_v<T>,
            "pk::Promise: onFailed/onCancelled/finally pass the value on and need a "
            "copyable type");
    }
    template<typename F>
    auto thenOnPool(const TaskOptions *options, F &&fn) const
    {
        using Plan = detail::CallPlan<std::decay_t<F>, Promise<T>>;
        static_assert(Plan::valid,
            "pk::Promise::then: the callable must take the promise's "
            "value (nothing for Promise<void>) or the promise itself");
        using R = typename Plan::Result;
        const bool empty = detail::isEmptyCallable(fn);
        auto *core = new detail::PlannedCore<Plan, std::decay_t<F>, Promise<T>>(
            std::forward<F>(fn), self());
        Promise<R> next = detail::adoptPromise<R>(core);
        detail::submitThen(this->d, core, options, empty);
        if constexpr (detail::PromiseArg<R>::value)
            return detail::flatten(next); // a handler that returns a promise: wait for it too
        else
            return next;
    }
    template<typename F>
    auto thenOnContext(QObject *context, const TaskOptions *options, F &&fn) const
    {
        using H = detail::ValueHandler<std::decay_t<F>, T>;
        static_assert(H::valid,
            "pk::Promise::then: the callable must take the promise's value "
            "(or nothing)");
        using R = typename H::Result;
        Promise<R> next
            = onContext<R, detail::ContextMode::Then>(context, options, std::forward<F>(fn));
        if constexpr (detail::PromiseArg<R>::value)
            return detail::flatten(next);
        else
            return next;
    }
    template<typename F>
    Promise<T> onFailedOnContext(QObject *context, const TaskOptions *options, F &&fn) const
    {
        using Fn = std::decay_t<F>;
        static_assert(
            detail::isTypedFailureHandler<
                Fn> || std::is_invocable_v<Fn &, std::exception_ptr> || std::is_invocable_v<Fn &>,
            "pk::Promise::onFailed: the callable takes std::exception_ptr, an exception type "
            "(const MyError &) or nothing");
        requirePassThrough();
        using Returned = typename detail::FailureHandlerResult<Fn>::type;
        if constexpr (!detail::replacesValueOf<T, Returned>) {
            (void)sizeof(diagnostics::HandlerMustReturnThePromisesType<T, Returned>);
            return Promise<T>();
        } else {
            return onContext<T, detail::ContextMode::OnFailed>(
                context, options, std::forward<F>(fn));
        }
    }
    template<typename F>
    Promise<T> onCancelledOnContext(QObject *context, const TaskOptions *options, F &&fn) const
    {
        using Fn = std::decay_t<F>;
        static_assert(
            std::is_invocable_v<Fn &>, "pk::Promise::onCancelled: the callable takes nothing");
        requirePassThrough();
        using Returned = std::invoke_result_t<Fn &>;
        if constexpr (!detail::replacesValueOf<T, Returned>) {
            (void)sizeof(diagnostics::HandlerMustReturnThePromisesType<T, Returned>);
            return Promise<T>();
        } else {
            return onContext<T, detail::ContextMode::OnCancelled>(
                context, options, std::forward<F>(fn));
        }
    }
    template<typename R, detail::ContextMode Mode, typename F>
    Promise<R> onContext(QObject *context, const TaskOptions *options, F &&fn) const
    {
        const bool empty = detail::isEmptyCallable(fn);
        auto *core
            = new detail::ContextCore<R, std::decay_t<F>, T, Mode>(std::forward<F>(fn), self());
        Promise<R> next = detail::adoptPromise<R>(core);
        detail::attachOnContext(this->d, core, context, Mode, options, empty);
        return next;
    }
};

/*!
    The typed handle returned by PromiseKeeper::submit(). See PromiseBase for state and waiting.

    result() blocks until the task is final and returns its value, or rethrows the exception the
    task threw with its own type, or throws pk::CancelledError. It returns a copy for copyable
    types and a const reference (valid while any copy of the promise lives) for move-only types;
    takeResult() moves the value out, once (do not mix it with result() on other threads).

    Continuations (then(), onFailed(), onCancelled(), finally()) each return a new promise, so
    chains read top to bottom; a promise takes any number of them. Thread-safe.
*/
template<typename T>
class Promise : public PromiseOps<T>
{
    static_assert(!std::is_reference_v<T>, "pk::Promise<T> holds values; T cannot be a reference");

public:
    //! The task's value type, T.
    using ValueType = T;
    //! What result() returns: T for copyable types, a const reference for move-only ones.
    using ResultType = std::conditional_t<std::is_copy_constructible_v<T>, T, const T &>;

    //! An invalid promise: result() throws pk::InvalidTaskError.
    Promise() noexcept = default;

    /*!
        Blocks until the task is final; returns its value, or rethrows the task's exception
        with its own type, or throws pk::CancelledError (pk::InvalidTaskError for an invalid
        promise or a value already taken by takeResult()).
    */
    ResultType result() const { return resultBefore(QDeadlineTimer(QDeadlineTimer::Forever)); }
    //! As result(), but throws pk::TimeoutError if the task is not final after \a msecs.
    ResultType result(int msecs) const { return resultBefore(QDeadlineTimer(msecs)); }
    //! As result(), but throws pk::TimeoutError if the task is not final by \a deadline.
    ResultType result(QDeadlineTimer deadline) const { return resultBefore(deadline); }
    //! As result(), but throws pk::TimeoutError if the task is not final after \a timeout.
    template<typename Rep, typename Period>
    ResultType result(std::chrono::duration<Rep, Period> timeout) const
    {
        return resultBefore(QDeadlineTimer(timeout));
    }

    //! Waits, then moves the value out. A second call throws pk::InvalidTaskError.
    T takeResult()
    {
        this->waitToTake();
        return std::move(*core()->value);
    }

private:
    friend Promise detail::adoptPromise<T>(detail::ValueCore<T> *) noexcept;
    explicit Promise(detail::ValueCore<T> *adopted) noexcept
        : PromiseOps<T>(adopted)
    { }

    ResultType resultBefore(QDeadlineTimer deadline) const
    {
        this->waitForValue(deadline);
        if (core()->isTaken())
            throw InvalidTaskError(QStringLiteral("the result was already taken"));
        return *core()->value;
    }
    detail::ValueCore<T> *core() const noexcept
    {
        return static_cast<detail::ValueCore<T> *>(this->d);
    }
};

//! A promise of a task that returns nothing: result() only waits and rethrows. Thread-safe, as
//! every Promise.
template<>
class Promise<void> : public PromiseOps<void>
{
public:
    //! void.
    using ValueType = void;
    //! void.
    using ResultType = void;

    //! An invalid promise: result() throws pk::InvalidTaskError.
    Promise() noexcept = default;

    //! Blocks until the task is final; rethrows its exception or throws pk::CancelledError.
    void result() const { waitForValue(QDeadlineTimer(QDeadlineTimer::Forever)); }
    //! As result(), but throws pk::TimeoutError if the task is not final after \a msecs.
    void result(int msecs) const { waitForValue(QDeadlineTimer(msecs)); }
    //! As result(), but throws pk::TimeoutError if the task is not final by \a deadline.
    void result(QDeadlineTimer deadline) const { waitForValue(deadline); }
    //! As result(), but throws pk::TimeoutError if the task is not final after \a timeout.
    template<typename Rep, typename Period>
    void result(std::chrono::duration<Rep, Period> timeout) const
    {
        waitForValue(QDeadlineTimer(timeout));
    }
    //! As result(), once: a second call throws pk::InvalidTaskError (as Promise<T>::takeResult()).
    void takeResult() { waitToTake(); }

private:
    friend Promise detail::adoptPromise<void>(detail::ValueCore<void> *) noexcept;
    explicit Promise(detail::ValueCore<void> *adopted) noexcept
        : PromiseOps<void>(adopted)
    { }
};

namespace detail {

template<typename T>
Promise<T> adoptPromise(ValueCore<T> *core) noexcept
{
    return Promise<T>(core);
}

} // namespace detail

} // namespace pk

// flatten() and the combinators' building blocks, which need Promise<T> complete.
#include <pk/detail/aggregate.h>
