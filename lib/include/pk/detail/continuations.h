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

//! A continuation on a context: calls Handler with the input's value (Then), its exception
//! (OnFailed) or nothing, on the context's thread.
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
            if constexpr (std::is_invocable_v<Handler &, std::exception_ptr>)
                store([&] { return std::invoke(h, m_input.exception()); });
            else
                store([&] { return std::invoke(h); });
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
