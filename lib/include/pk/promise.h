// pk::Promise<T>: a typed handle on one task's outcome.
#pragma once

#include <pk/detail/callablecore.h>
#include <pk/errors.h>
#include <pk/promisekeeper_export.h>
#include <pk/taskinfo.h>

#include <QtCore/qdeadlinetimer.h>

#include <chrono>
#include <exception>
#include <type_traits>

namespace pk {

/*!
    The untyped part of every pk::Promise<T>: state, waiting, errors and identity.

    A promise is a cheap handle on shared state, like QFuture or std::shared_future: copies refer
    to the same task. All member functions are thread-safe and may be called from any thread,
    also after the keeper that ran the task is gone.
*/
class PROMISEKEEPER_EXPORT PromiseBase
{
public:
    PromiseBase() noexcept = default;
    PromiseBase(const PromiseBase &other) noexcept;
    PromiseBase(PromiseBase &&other) noexcept : d(std::exchange(other.d, nullptr)) { }
    PromiseBase &operator=(const PromiseBase &other) noexcept;
    PromiseBase &operator=(PromiseBase &&other) noexcept;
    ~PromiseBase();

    //! False for a default-constructed promise, which behaves as failed with InvalidTaskError.
    bool isValid() const noexcept { return d != nullptr; }

    TaskState state() const noexcept;
    //! Whether the task reached a final state: succeeded, failed or cancelled.
    bool isReady() const noexcept { return isFinal(state()); }

    /*!
        Blocks until the task is final or the time-out passes; returns whether it is final.
        -1 waits forever. On the own thread of a keeper in manual mode (threadCount() == 0) it
        runs the keeper's pending tasks in order instead of blocking, so it cannot deadlock.
    */
    bool wait(int msecs = -1) const;
    bool wait(QDeadlineTimer deadline) const;
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
    QString title() const;
    //! A snapshot of everything known about the task now.
    TaskInfo info() const;

    /*!
        Cancels the task if it has not started yet (waiting or queued): the promise ends
        Cancelled, its waiters wake, and the task never runs. Returns false if it is already
        running or final: a running task is never interrupted.
    */
    bool cancel();

    //! Internal: the shared state, for PromiseKeeper's templates.
    detail::TaskCore *taskCore() const noexcept { return d; }

    friend bool operator==(const PromiseBase &a, const PromiseBase &b) noexcept { return a.d == b.d; }
    friend bool operator!=(const PromiseBase &a, const PromiseBase &b) noexcept { return a.d != b.d; }

protected:
    explicit PromiseBase(detail::TaskCore *adopted) noexcept : d(adopted) { }
    // Waits for a final state and throws unless the task succeeded: TimeoutError, the task's
    // own exception, CancelledError, or InvalidTaskError for an invalid promise.
    void waitForValue(QDeadlineTimer deadline) const;
    // As waitForValue(), and claims the value for takeResult() (throws InvalidTaskError twice).
    void waitToTake() const;

    detail::TaskCore *d = nullptr;
};

/*!
    The typed handle returned by PromiseKeeper::submit(). See PromiseBase for state and waiting.

    result() blocks until the task is final and returns its value, or rethrows the exception the
    task threw with its own type, or throws pk::CancelledError. It returns a copy for copyable
    types and a const reference (valid while any copy of the promise lives) for move-only types;
    takeResult() moves the value out, once. Thread-safe.
*/
template<typename T>
class Promise : public PromiseBase
{
    static_assert(!std::is_reference_v<T>, "pk::Promise<T> holds values; T cannot be a reference");

public:
    using ValueType = T;
    using ResultType = std::conditional_t<std::is_copy_constructible_v<T>, T, const T &>;

    Promise() noexcept = default;

    ResultType result() const { return resultBefore(QDeadlineTimer(QDeadlineTimer::Forever)); }
    //! As result(), but throws pk::TimeoutError if the task is not final after \a msecs.
    ResultType result(int msecs) const { return resultBefore(QDeadlineTimer(msecs)); }
    ResultType result(QDeadlineTimer deadline) const { return resultBefore(deadline); }
    template<typename Rep, typename Period>
    ResultType result(std::chrono::duration<Rep, Period> timeout) const
    {
        return resultBefore(QDeadlineTimer(timeout));
    }

    //! Waits, then moves the value out. A second call throws pk::InvalidTaskError.
    T takeResult()
    {
        waitToTake();
        return std::move(*core()->value);
    }

private:
    template<typename>
    friend class Promise;
    friend class PromiseKeeper;
    explicit Promise(detail::ValueCore<T> *adopted) noexcept : PromiseBase(adopted) { }

    ResultType resultBefore(QDeadlineTimer deadline) const
    {
        waitForValue(deadline);
        if (!core()->value) // moved out by takeResult()
            throw InvalidTaskError(QStringLiteral("the result was already taken"));
        return *core()->value;
    }
    detail::ValueCore<T> *core() const noexcept { return static_cast<detail::ValueCore<T> *>(d); }
};

//! A promise of a task that returns nothing: result() only waits and rethrows.
template<>
class Promise<void> : public PromiseBase
{
public:
    using ValueType = void;
    using ResultType = void;

    Promise() noexcept = default;

    void result() const { waitForValue(QDeadlineTimer(QDeadlineTimer::Forever)); }
    void result(int msecs) const { waitForValue(QDeadlineTimer(msecs)); }
    void result(QDeadlineTimer deadline) const { waitForValue(deadline); }
    template<typename Rep, typename Period>
    void result(std::chrono::duration<Rep, Period> timeout) const
    {
        waitForValue(QDeadlineTimer(timeout));
    }
    void takeResult() { waitToTake(); }

private:
    friend class PromiseKeeper;
    explicit Promise(detail::ValueCore<void> *adopted) noexcept : PromiseBase(adopted) { }
};

} // namespace pk
