// Header templates that give a TaskCore its typed result storage and its callable.
#pragma once

#include <pk/detail/taskcore.h>

#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

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

//! A task that calls Fn with a tuple of decayed arguments, like std::thread does.
template<typename R, typename Fn, typename... Args>
class CallableCore final : public ValueCore<R>
{
public:
    template<typename F, typename... A>
    explicit CallableCore(F &&fn, A &&...args)
        : m_call(std::in_place, std::forward<F>(fn), std::forward<A>(args)...)
    {
    }

protected:
    void invoke() override
    {
        auto &call = *m_call;
        auto callFn = [&call](auto &&...args) -> decltype(auto) {
            return std::invoke(std::move(call.fn), std::forward<decltype(args)>(args)...);
        };
        if constexpr (std::is_void_v<R>)
            std::apply(callFn, std::move(call.args));
        else
            this->value.emplace(std::apply(callFn, std::move(call.args)));
    }
    void dropCallable() noexcept override { m_call.reset(); }

private:
    struct Call
    {
        template<typename F, typename... A>
        explicit Call(F &&f, A &&...a) : fn(std::forward<F>(f)), args(std::forward<A>(a)...)
        {
        }
        Fn fn;
        std::tuple<Args...> args;
    };
    std::optional<Call> m_call;
};

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

template<typename F, typename... Args>
using InvokeResult = std::decay_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;

} // namespace pk::detail
