// Header templates behind Promise<T>::then(), onFailed(), onCancelled(), finally() and future().
#pragma once

#include <pk/detail/callablecore.h>
#include <pk/errors.h>
#include <pk/taskoptions.h>

#include <QtCore/qfutureinterface.h>

QT_BEGIN_NAMESPACE
class QObject;
QT_END_NAMESPACE

namespace pk::detail {

//! When a continuation on a context runs its handler, by the input's final state.
enum class ContextMode : quint8 {
    Then, //!< on success; failure and cancellation pass on
    OnFailed, //!< on failure; the handler's value replaces the error
    OnCancelled, //!< on cancellation; the handler's value replaces it
    Finally, //!< always; the input's outcome passes on afterwards
};

//! Queues \a task (already holding \a input) on the input's keeper once the input is final.
//! An empty callable fails it at once with InvalidTaskError, as submit() does. Without
//! \a options (null) it has the input's priority and is titled after it ("then ← decode").
PROMISEKEEPER_EXPORT void submitThen(
    TaskCore *input, TaskCore *task, const TaskOptions *options, bool emptyCallable);

//! Runs \a task on \a context's thread when \a input is final, as \a mode says; if the context
//! is destroyed first the task ends Cancelled and never runs. Titled as submitThen() says.
PROMISEKEEPER_EXPORT void attachOnContext(TaskCore *input, TaskCore *task, QObject *context,
    ContextMode mode, const TaskOptions *options, bool emptyCallable);

//! The exception type a typed failure handler takes (onFailed(context, [](const MyError &) {})):
//! the decayed type of its one parameter, when that is a class other than std::exception_ptr;
//! void for other handlers (generic lambdas, std::exception_ptr, no parameter).
template<typename M>
struct FailureArgOf
{
    using type = void;
};
template<typename R, typename C, typename A>
struct FailureArgOf<R (C::*)(A) const>
{
    using type = std::decay_t<A>;
};
template<typename R, typename C, typename A>
struct FailureArgOf<R (C::*)(A)>
{
    using type = std::decay_t<A>;
};
template<typename R, typename A>
struct FailureArgOf<R (*)(A)>
{
    using type = std::decay_t<A>;
};
template<typename F, typename = void>
struct HandlerFailureArg : FailureArgOf<F>
{
};
template<typename F>
struct HandlerFailureArg<F, std::void_t<decltype(&F::operator())>>
    : FailureArgOf<decltype(&F::operator())>
{
};
template<typename F, typename E = typename HandlerFailureArg<F>::type>
inline constexpr bool isTypedFailureHandler
    = std::is_class_v<E> && !std::is_same_v<E, std::exception_ptr>;

//! What a failure handler returns (void if it cannot be called as onFailed() calls it).
template<typename Fn, typename = void>
struct FailureHandlerResult
{
    using type = typename std::conditional_t<std::is_invocable_v<Fn &, std::exception_ptr>,
        std::invoke_result<Fn &, std::exception_ptr>,
        std::conditional_t<std::is_invocable_v<Fn &>, std::invoke_result<Fn &>,
            std::enable_if<true, void>>>::type;
};
template<typename Fn>
struct FailureHandlerResult<Fn, std::enable_if_t<isTypedFailureHandler<Fn>>>
{
    using type = std::invoke_result_t<Fn &, typename HandlerFailureArg<Fn>::type &>;
};
//! Whether a handler returning \a R can replace a failure or cancellation of a Promise<T>.
template<typename T, typename R>
inline constexpr bool replacesValueOf
    = std::is_void_v<T> ? std::is_void_v<R> : std::is_convertible_v<R, T>;

//! A continuation on a context: calls Handler with the input's value (Then), its exception
//! (OnFailed: as std::exception_ptr, as the type the handler takes, or not at all) or nothing,
//! on the context's thread.
template<typename R, typename Handler, typename T, ContextMode Mode>
class ContextCore final : public ValueCore<R>
{
public:
    template<typename H>
    ContextCore(H &&handler, const Promise<T> &input)
        : m_handler(std::in_place, std::forward<H>(handler))
        , m_input(input)
    { }

protected:
    void invoke() override
    {
        Handler &h = *m_handler;
        if constexpr (Mode == ContextMode::Then) {
            if constexpr (std::is_void_v<T>)
                store([&] { return std::invoke(h); });
            else if constexpr (!std::is_invocable_v<Handler &, const T &>)
                store([&] { return std::invoke(h); });
            else
                store([&] { return std::invoke(h, valueOf(m_input)); });
        } else if constexpr (Mode == ContextMode::OnFailed) {
            if constexpr (isTypedFailureHandler<Handler>) {
                // Only for its type (and subclasses): any other failure passes on as it is.
                using E = typename HandlerFailureArg<Handler>::type;
                const std::exception_ptr error = m_input.exception();
                try {
                    std::rethrow_exception(error);
                } catch (E &e) {
                    store([&] { return std::invoke(h, e); });
                    return;
                } catch (...) { }
                this->propagateError(error);
            } else if constexpr (std::is_invocable_v<Handler &, std::exception_ptr>) {
                store([&] { return std::invoke(h, m_input.exception()); });
            } else {
                store([&] { return std::invoke(h); });
            }
        } else if constexpr (Mode == ContextMode::OnCancelled) {
            store([&] { return std::invoke(h); });
        } else {
            std::invoke(h);
            if (m_input.state() == TaskState::Failed)
                this->propagateError(m_input.exception());
            else
                passThrough(m_input.taskCore());
        }
    }
    void passThrough(const TaskCore *input) override
    {
        // then() never hands a success on (its handler makes the value, of another type).
        if constexpr (!std::is_void_v<R> && Mode != ContextMode::Then) {
            if (input->state() == TaskState::Succeeded)
                this->value.emplace(*static_cast<const ValueCore<T> *>(input)->value);
        } else {
            Q_UNUSED(input);
        }
    }
    void dropCallable() noexcept override
    {
        m_handler.reset();
        m_input = Promise<T>();
    }

private:
    template<typename Call>
    void store(Call &&call)
    {
        if constexpr (std::is_void_v<R>)
            call();
        else
            this->value.emplace(call());
    }

    std::optional<Handler> m_handler;
    Promise<T> m_input;
};

//! Finishes a QFuture with a promise.
template<typename T>
class FutureLink final : public Continuation
{
public:
    explicit FutureLink(const QFutureInterface<T> &fi)
        : m_fi(fi)
    { }
    void run(TaskCore *task) noexcept override
    {
        switch (task->state()) {
        case TaskState::Succeeded:
            if constexpr (!std::is_void_v<T>)
                m_fi.reportResult(*static_cast<ValueCore<T> *>(task)->value);
            break;
        case TaskState::Failed:
            m_fi.reportException(task->error());
            break;
        default:
            m_fi.reportCanceled();
            break;
        }
        m_fi.reportFinished();
    }

private:
    QFutureInterface<T> m_fi;
};

} // namespace pk::detail
