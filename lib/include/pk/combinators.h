// Combining promises: whenAll, whenAny, whenAllSettled.
#pragma once

#include <pk/detail/aggregate.h>
#include <pk/detail/diagnostics.h>
#include <pk/promise.h>

#include <QtCore/qlist.h>

#include <atomic>
#include <memory>
#include <tuple>
#include <variant>

namespace pk {

//! What whenAny() gives: which promise finished first (its index in the input) and the promise.
//! A plain value type; reentrant.
template<typename T>
struct WhenAnyResult
{
    qsizetype index = -1; //!< The position of the first final input; -1 if default-constructed.
    Promise<T> promise; //!< That input itself, final: it may have failed or been cancelled.
};

namespace detail {
template<typename T>
using TupleElement = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template<typename T>
TupleElement<T> tupleElement(const Promise<T> &p)
{
    if constexpr (std::is_void_v<T>)
        return {};
    else
        return valueOf(p);
}

// Settles a new promise with make() once every input succeeded, or like the first input that
// fails or is cancelled.
template<typename R, typename Make>
Promise<R> gatherAll(const QString &title, std::vector<PromiseBase> inputs, Make &&make)
{
    auto *core = new AggregateCore<R>();
    Promise<R> result = adoptPromise<R>(core);
    initAggregateOf(core, title, inputs);
    if (inputs.empty()) {
        settleWith(core, make);
        return result;
    }
    struct State
    {
        State(std::size_t count, std::decay_t<Make> m, Promise<R> r)
            : remaining(count)
            , make(std::move(m))
            , result(std::move(r))
        { }
        std::atomic<std::size_t> remaining;
        std::decay_t<Make> make; // holds the inputs, so their values live until it ran
        Promise<R> result;
    };
    auto state = std::make_shared<State>(inputs.size(), std::forward<Make>(make), result);
    for (const PromiseBase &input : inputs) {
        whenFinal(input.taskCore(), [state](TaskCore *task) {
            auto *out = static_cast<ValueCore<R> *>(state->result.taskCore());
            if (!task || task->state() != TaskState::Succeeded)
                settleLike(out, task);
            else if (state->remaining.fetch_sub(1) == 1)
                settleWith(out, state->make);
        });
    }
    return result;
}
} // namespace detail

/*!
    A promise of all values of \a promises, in their order, once all succeeded (a promise of
    void for void inputs). It fails like the first input to fail (same exception), or is
    cancelled if an input is cancelled first. Thread-safe; holds no thread while it waits.
*/
template<typename T>
Promise<detail::ListOf<T>> whenAll(const QList<Promise<T>> &promises)
{
    using R = detail::ListOf<T>;
    if constexpr (!std::is_void_v<T> && !std::is_copy_constructible_v<T>) {
        (void)sizeof(diagnostics::ValuesMustBeCopyable<T>);
        return Promise<R>();
    } else {
        return detail::gatherAll<R>(QStringLiteral("whenAll"),
            std::vector<PromiseBase>(promises.begin(), promises.end()), [promises] {
                if constexpr (!std::is_void_v<T>) {
                    R values;
                    values.reserve(promises.size());
                    for (const Promise<T> &p : promises)
                        values.append(detail::valueOf(p));
                    return values;
                }
            });
    }
}

//! whenAll() of promises of different types: a promise of a std::tuple of their values
//! (std::monostate for void).
template<typename T, typename... More>
Promise<std::tuple<detail::TupleElement<T>, detail::TupleElement<More>...>> whenAll(
    const Promise<T> &first, const Promise<More> &...more)
{
    using R = std::tuple<detail::TupleElement<T>, detail::TupleElement<More>...>;
    if constexpr (
        !(std::is_copy_constructible_v<detail::TupleElement<
                T>> && (std::is_copy_constructible_v<detail::TupleElement<More>> && ...))) {
        (void)sizeof(diagnostics::ValuesMustBeCopyable<R>);
        return Promise<R>();
    } else {
        return detail::gatherAll<R>(QStringLiteral("whenAll"),
            std::vector<PromiseBase> { first, more... }, [first, more...] {
                return R(detail::tupleElement(first), detail::tupleElement(more)...);
            });
    }
}

/*!
    A promise that succeeds as soon as one of \a promises is final (succeeded, failed or
    cancelled) with that promise and its index; it never fails, except for an empty list
    (pk::InvalidTaskError).
*/
template<typename T>
Promise<WhenAnyResult<T>> whenAny(const QList<Promise<T>> &promises)
{
    using R = WhenAnyResult<T>;
    auto *core = new detail::AggregateCore<R>();
    Promise<R> result = detail::adoptPromise<R>(core);
    detail::initAggregateOf(core, QStringLiteral("whenAny"), promises);
    if (promises.isEmpty()) {
        detail::settleLike(core, nullptr);
        return result;
    }
    for (qsizetype i = 0; i < promises.size(); ++i) {
        detail::whenFinal(promises[i].taskCore(), [result, i, p = promises[i]](detail::TaskCore *) {
            detail::settleWith(static_cast<detail::ValueCore<R> *>(result.taskCore()), [&] {
                return R { i, p };
            });
        });
    }
    return result;
}

//! whenAny() of promises given one by one.
template<typename T, typename... More>
Promise<WhenAnyResult<T>> whenAny(const Promise<T> &first, const Promise<More> &...more)
{
    static_assert((std::is_same_v<T, More> && ...), "pk::whenAny: promises of one type");
    return whenAny(QList<Promise<T>> { first, more... });
}

/*!
    A promise of \a promises themselves once every one is final, whatever the outcome: it never
    fails, and each outcome can be read from its promise (state(), result(), exception()).
*/
template<typename T>
Promise<QList<Promise<T>>> whenAllSettled(const QList<Promise<T>> &promises)
{
    using R = QList<Promise<T>>;
    auto *core = new detail::AggregateCore<R>();
    Promise<R> result = detail::adoptPromise<R>(core);
    detail::initAggregateOf(core, QStringLiteral("whenAllSettled"), promises);
    auto remaining = std::make_shared<std::atomic<qsizetype>>(promises.size());
    const auto settle = [result, promises] {
        detail::settleWith(
            static_cast<detail::ValueCore<R> *>(result.taskCore()), [&] { return promises; });
    };
    if (promises.isEmpty())
        settle();
    for (const Promise<T> &p : promises) {
        detail::whenFinal(p.taskCore(), [remaining, settle](detail::TaskCore *) {
            if (remaining->fetch_sub(1) == 1)
                settle();
        });
    }
    return result;
}

} // namespace pk
