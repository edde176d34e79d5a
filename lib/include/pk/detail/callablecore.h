// Header templates that give a TaskCore its typed result storage and its callable.
#pragma once

#include <pk/detail/taskcore.h>
#include <pk/taskcontext.h>

#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace pk {
template<typename T>
class Promise;
}

namespace pk::detail {

//! Where a task's value lives: an optional R, nothing for void.
template<typename R>
class ValueCore : public TaskCore
{
public:
    std::optional<R> value;
};

template<>
class ValueCore<void> : public TaskCore
{
};

template<typename T>
struct PromiseArg : std::false_type
{
};
template<typename T>
struct PromiseArg<Promise<T>> : std::true_type
{
};

//! The value of a finished, succeeded promise (valid while the promise lives).
template<typename U>
const U &valueOf(const Promise<U> &promise)
{
    return *static_cast<ValueCore<U> *>(promise.taskCore())->value;
}

// How one stored argument is passed when promise arguments are unwrapped: a Promise<U> gives
// its value by const reference, a Promise<void> is only waited for and passes nothing, any
// other argument is moved in.
template<typename A>
struct UnwrapArg
{
    using type = std::tuple<A &&>;
    static type get(A &a) { return type(std::move(a)); }
};
template<typename U>
struct UnwrapArg<Promise<U>>
{
    using type = std::tuple<const U &>;
    static type get(Promise<U> &p) { return type(valueOf(p)); }
};
template<>
struct UnwrapArg<Promise<void>>
{
    using type = std::tuple<>;
    static type get(Promise<void> &) { return {}; }
};

template<bool Check, typename Fn, typename Tuple>
struct ApplyInvocable : std::false_type
{
    using Result = void;
};
template<bool Invocable, typename Fn, typename... T>
struct ResultIf
{
    using type = void;
};
template<typename Fn, typename... T>
struct ResultIf<true, Fn, T...>
{
    using type = std::decay_t<std::invoke_result_t<Fn, T...>>;
};
template<typename Fn, typename... T>
struct ApplyInvocable<true, Fn, std::tuple<T...>> : std::is_invocable<Fn, T...>
{
    using Result = typename ResultIf<std::is_invocable_v<Fn, T...>, Fn, T...>::type;
};

template<typename Tuple>
struct WithContext;
template<typename... T>
struct WithContext<std::tuple<T...>>
{
    using type = std::tuple<TaskContext &, T...>;
};

/*!
    How submit() calls \a Fn with stored (decayed) \a Args. If any argument is a pk::Promise and
    the callable accepts the promises' values, the task waits for them and gets the values
    (unwrap). Otherwise the arguments are passed as they are; a callable that takes a
    Promise<U> parameter gets the promise itself, without waiting. Generic callables are tried
    with the values first. Each way is tried without, then with the running task's
    pk::TaskContext & in front (context): a callable that takes one gets it.
*/
template<typename Fn, typename... Args>
struct CallPlan
{
    static constexpr bool hasPromises = (PromiseArg<Args>::value || ...);
    using Unwrapped = decltype(std::tuple_cat(std::declval<typename UnwrapArg<Args>::type>()...));
    using UnwrapCheck = ApplyInvocable<hasPromises, Fn, Unwrapped>;
    using UnwrapContextCheck = ApplyInvocable<hasPromises && !UnwrapCheck::value, Fn,
        typename WithContext<Unwrapped>::type>;
    static constexpr bool unwrap = UnwrapCheck::value || UnwrapContextCheck::value;
    using AsIsCheck = ApplyInvocable<!unwrap, Fn, std::tuple<Args &&...>>;
    using AsIsContextCheck
        = ApplyInvocable<!unwrap && !AsIsCheck::value, Fn, std::tuple<TaskContext &, Args &&...>>;
    static constexpr bool context = UnwrapContextCheck::value || AsIsContextCheck::value;
    static constexpr bool valid = unwrap || AsIsCheck::value || AsIsContextCheck::value;
    using Result = std::conditional_t<UnwrapCheck::value, typename UnwrapCheck::Result,
        std::conditional_t<UnwrapContextCheck::value, typename UnwrapContextCheck::Result,
            std::conditional_t<AsIsCheck::value, typename AsIsCheck::Result,
                typename AsIsContextCheck::Result>>>;
};

//! A task that calls Fn with a tuple of decayed arguments, like std::thread does; with
//! \a Unwrap, promise arguments are replaced by their values, and with \a Context the task's
//! TaskContext comes first (see CallPlan).
template<typename R, bool Unwrap, bool Context, typename Fn, typename... Args>
class CallableCore final : public ValueCore<R>
{
public:
    template<typename F, typename... A>
    explicit CallableCore(F &&fn, A &&...args)
        : m_call(std::in_place, std::forward<F>(fn), std::forward<A>(args)...)
    { }

    //! The tasks behind the promise arguments (null for an invalid promise).
    std::vector<TaskCore *> inputs() const
    {
        std::vector<TaskCore *> list;
        std::apply([&list](const auto &...a) { (addInput(list, a), ...); }, m_call->args);
        return list;
    }

protected:
    void invoke() override
    {
        auto &call = *m_call;
        TaskContext context(this);
        auto callFn = [&call, &context](auto &&...args) -> decltype(auto) {
            if constexpr (Context) {
                return std::invoke(
                    std::move(call.fn), context, std::forward<decltype(args)>(args)...);
            } else {
                (void)context; // captured for the other branch
                return std::invoke(std::move(call.fn), std::forward<decltype(args)>(args)...);
            }
        };
        if constexpr (Unwrap) {
            auto passed = std::apply(
                [](auto &...a) {
                    return std::tuple_cat(UnwrapArg<std::decay_t<decltype(a)>>::get(a)...);
                },
                call.args);
            if constexpr (std::is_void_v<R>)
                std::apply(callFn, std::move(passed));
            else
                this->value.emplace(std::apply(callFn, std::move(passed)));
        } else if constexpr (std::is_void_v<R>) {
            std::apply(callFn, std::move(call.args));
        } else {
            this->value.emplace(std::apply(callFn, std::move(call.args)));
        }
    }
    void dropCallable() noexcept override { m_call.reset(); }

private:
    template<typename A>
    static void addInput(std::vector<TaskCore *> &list, const A &a)
    {
        if constexpr (PromiseArg<A>::value)
            list.push_back(a.taskCore());
    }

    struct Call
    {
        template<typename F, typename... A>
        explicit Call(F &&f, A &&...a)
            : fn(std::forward<F>(f))
            , args(std::forward<A>(a)...)
        { }
        Fn fn;
        std::tuple<Args...> args;
    };
    std::optional<Call> m_call;
};

//! The CallableCore that \a Plan (a CallPlan) says how to call.
template<typename Plan, typename Fn, typename... Args>
using PlannedCore = CallableCore<typename Plan::Result, Plan::unwrap, Plan::context, Fn, Args...>;

// Callables that can be empty: null function pointers, null member pointers, empty
// std::function. Anything else (lambdas, functors) is never empty.
template<typename F>
bool isEmptyCallable(const F &f) noexcept
{
    if constexpr (std::is_pointer_v<F> || std::is_member_pointer_v<F>)
        return f == nullptr;
    else
        return false;
}

template<typename R, typename... Sig>
bool isEmptyCallable(const std::function<R(Sig...)> &f) noexcept
{
    return !f;
}

} // namespace pk::detail
