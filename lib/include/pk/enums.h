// The enumerations of namespace pk, registered with Qt's meta-object system.
#pragma once

#include <pk/promisekeeper_export.h>

#include <QtCore/qobjectdefs.h>

/*!
    \namespace pk
    Everything of PromiseKeeper: pk::PromiseKeeper, pk::Promise, the combinators and the
    monitor's classes. Its enumerations are registered with Qt's meta-object system
    (Q_ENUM_NS), so they print by name in qDebug() and QTest failures.
*/
namespace pk {
Q_NAMESPACE_EXPORT(PROMISEKEEPER_EXPORT)

/*!
    Where a task is in its life. The order matters: a task only ever moves to a larger value,
    and the last three are final.
*/
enum class TaskState : quint8 {
    Waiting, //!< waits for input promises (composition); holds no worker thread
    Queued, //!< in the keeper's queue, waiting for a worker
    Running, //!< a worker has started it
    Succeeded, //!< returned normally; result() gives the value
    Failed, //!< threw, or could not be started; exception() says why
    Cancelled, //!< cancelled before it ran; result() throws pk::CancelledError
};
Q_ENUM_NS(TaskState)

//! \return whether \a state is one of the final states Succeeded, Failed and Cancelled.
constexpr bool isFinal(TaskState state) noexcept
{
    return state >= TaskState::Succeeded;
}

/*!
    What a task is, for views that group tasks (the monitor folds continuations under the task
    they continue). TaskInfo::inputIds() says what a task waits for or continues.
*/
enum class TaskKind : quint8 {
    Task, //!< submitted to a keeper (submit(), chaining by argument, map() items)
    Continuation, //!< then(), onFailed(), onCancelled() or finally() of another promise
    Combinator, //!< whenAll(), whenAny(), whenAllSettled() or the result of map(): no callable
};
Q_ENUM_NS(TaskKind)

//! What PromiseKeeper::shutdown() does with tasks that have not started yet.
enum class ShutdownMode : quint8 {
    Drain, //!< run everything already submitted, then stop
    CancelPending, //!< cancel what has not started, wait for what runs
};
Q_ENUM_NS(ShutdownMode)

} // namespace pk
