// Building blocks of the combinators: promises that no keeper runs, settled by their inputs.
#pragma once

#include <pk/detail/callablecore.h>
#include <pk/errors.h>
#include <pk/promise.h> // which includes this at its end, for flatten()

#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

#include <exception>
#include <type_traits>
#include <utility>
#include <vector>

namespace pk::detail {

//! QList<T>, or void for T = void: what a combinator over Promise<T>s gives.
template<typename T>
using ListOf = std::conditional_t<std::is_void_v<T>, void,
    QList<std::conditional_t<std::is_void_v<T>, int, T>>>;

//! A promise's state with nothing to run: a combinator settles it (claimSettlement()).
template<typename R>
class AggregateCore final : public ValueCore<R>
{
protected:
    void invoke() override { }
    void dropCallable() noexcept override { }
};

//! Calls F with the task once it is final (with null at once for an invalid promise).
template<typename F>
class FunctionLink final : public Continuation
{
public:
    explicit FunctionLink(F &&f)
        : m_f(std::move(f))
    { }
    void run(TaskCore *task) noexcept override { m_f(task); }

private:
    F m_f;
};

template<typename F>
void whenFinal(TaskCore *task, F &&f)
{
    if (!task) {
        f(nullptr);
        return;
    }
    task->addContinuation(new FunctionLink<std::decay_t<F>>(std::forward<F>(f)));
}

//! Gives a combinator's promise its id, title and inputs; continuations of it run on the first
//! input's keeper (or the default one).
PROMISEKEEPER_EXPORT void initAggregate(
    TaskCore *core, const QString &title, TaskCore *const *inputs, std::size_t count);

//! initAggregate() over the promises \a inputs.
template<typename List>
void initAggregateOf(TaskCore *core, const QString &title, const List &inputs)
{
    std::vector<TaskCore *> cores;
    cores.reserve(std::size_t(inputs.size()));
    for (const auto &p : inputs)
        cores.push_back(p.taskCore());
    initAggregate(core, title, cores.data(), cores.size());
}

//! Settles \a core with the value \a make() returns (a throw fails it instead); no-op if it was
//! settled already.
template<typename R, typename Make>
void settleWith(ValueCore<R> *core, Make &&make) noexcept
{
    if (!core->claimSettlement())
        return;
    std::exception_ptr error;
    try {
        if constexpr (std::is_void_v<R>)
            make();
        else
            core->value.emplace(make());
    } catch (...) {
        error = std::current_exception();
    }
    core->publishSettlement(error ? TaskState::Failed : TaskState::Succeeded, error);
}

//! Settles \a core as \a input ended: with its exception, cancelled, or (null input) failed
//! with pk::InvalidTaskError.
PROMISEKEEPER_EXPORT void settleLike(TaskCore *core, TaskCore *input) noexcept;

template<typename U>
Promise<U> flatten(const Promise<Promise<U>> &outer)
{
    static_assert(std::is_void_v<U> || std::is_copy_constructible_v<U>,
        "pk::Promise::then: a handler that returns pk::Promise<U> needs a copyable U (the "
        "inner promise's value is copied into the promise then() returns)");
    auto *core = new AggregateCore<U>();
    Promise<U> result = adoptPromise<U>(core);
    TaskCore *outerCore = outer.taskCore();
    initAggregate(core, outer.title(), &outerCore, 1);
    // The outer promise ends first: its failure or cancellation is the result's; its success
    // is the inner promise, whose outcome then is.
    whenFinal(outerCore, [result](TaskCore *task) {
        auto *out = static_cast<ValueCore<U> *>(result.taskCore());
        if (!task || task->state() != TaskState::Succeeded) {
            settleLike(out, task);
            return;
        }
        const Promise<U> inner = *static_cast<ValueCore<Promise<U>> *>(task)->value;
        whenFinal(inner.taskCore(), [result, inner](TaskCore *innerTask) {
            auto *to = static_cast<ValueCore<U> *>(result.taskCore());
            if (!innerTask || innerTask->state() != TaskState::Succeeded) {
                settleLike(to, innerTask);
                return;
            }
            settleWith(to, [innerTask] {
                if constexpr (!std::is_void_v<U>)
                    return *static_cast<const ValueCore<U> *>(innerTask)->value;
            });
        });
    });
    return result;
}

} // namespace pk::detail
