// Compile-time diagnostics at the user's call. Each struct is instantiated only when its check
// failed: the compiler prints the struct with the types that did not fit ("required from
// 'struct pk::diagnostics::...<int, QString>'"), then the message, and the call that failed
// goes no further, so these are the first errors, not ones from deep inside pk/detail.
#pragma once

#include <pk/detail/callablecore.h>

#include <type_traits>

namespace pk::detail {
template<typename M>
struct MemberClass
{
    using type = void;
};
template<typename R, typename C>
struct MemberClass<R C::*>
{
    using type = C;
};
//! submit(&Class::method, object, ...) with an object that cannot be copied into the task.
template<typename Fn, typename... Args>
inline constexpr bool objectByValue = false;
template<typename Fn, typename A0, typename... Rest>
inline constexpr bool
    objectByValue<Fn, A0, Rest...> = std::is_member_function_pointer_v<Fn> &&std::is_class_v<A0>
                                         &&std::is_base_of_v<typename MemberClass<Fn>::type,
                                             A0> && !std::is_copy_constructible_v<A0>;
//! What submit(&Class::method, &object, ...) would give: returned after the diagnostic, so
//! that the user's line gets no second error.
template<typename Fn, typename... Args>
struct ByPointer
{
    using Result = void;
};
template<typename Fn, typename A0, typename... Rest>
struct ByPointer<Fn, A0, Rest...>
{
    using Result = typename CallPlan<Fn, A0 *, Rest...>::Result;
};
} // namespace pk::detail

namespace pk::diagnostics {

template<typename...>
inline constexpr bool kNever = false;

template<typename Expected, typename HandlerReturns>
struct HandlerMustReturnThePromisesType
{
    static_assert(kNever<Expected, HandlerReturns>,
        "pk::Promise<T>::onFailed/onCancelled: the handler's value replaces the failure or the "
        "cancellation, so it must return T (the first type above; nothing for Promise<void>); "
        "it returns the second type above");
};

template<typename Callable, typename... Arguments>
struct CallableDoesNotTakeTheseArguments
{
    static_assert(kNever<Callable, Arguments...>,
        "pk::PromiseKeeper::submit: the callable (the first type above) cannot be called with "
        "the arguments (the other types above). A pk::Promise<U> argument is passed as its U, "
        "so U must convert to the parameter; arguments are copied into the task (use std::ref "
        "for references); pk::Promise arguments are passed either all as values or all as "
        "promises");
};

template<typename Value>
struct ValuesMustBeCopyable
{
    static_assert(kNever<Value>,
        "pk::whenAll / pk::PromiseKeeper::map: the values (the type above) are copied into "
        "the list the promise gives, so they must be copyable (wrap a move-only type in a "
        "std::shared_ptr)");
};

template<typename Value>
struct ValueCannotCrossAProcess
{
    static_assert(kNever<Value>,
        "pk::PromiseKeeper::submitToProcess / PK_PROCESS_TASK: the type above is an argument or "
        "the result of a function run in a child process, so it is copied with QDataStream: it "
        "needs QDataStream operators << and >> and a default constructor");
};

template<typename Object>
struct ObjectPassedByValue
{
    static_assert(kNever<Object>,
        "pk::PromiseKeeper::submit(&Class::method, object, ...): the object (the type above) "
        "is passed by value and cannot be copied into the task: pass a pointer, "
        "submit(&Class::method, &object, ...)");
};

} // namespace pk::diagnostics
