// pk::fromFuture(): a promise for code that has a QFuture.
#pragma once

#include <pk/detail/aggregate.h>
#include <pk/promise.h>

#include <QtCore/qfuture.h>

namespace pk {

/*!
    A promise that finishes with \a future: Succeeded with its (first) result, Failed with its
    exception (rethrown by result() with its own type), Cancelled if it was cancelled. No keeper
    runs it: it is settled on the thread that finishes the future (at once if it is finished),
    and its pool continuations run on the default keeper (PromiseKeeper::named()).
    cancel() and requestCancellation() on the promise cancel \a future too. Thread-safe.

    \code
    QFuture<QImage> scaled = QtConcurrent::run(scale, image);
    pk::Promise<QImage> p = pk::fromFuture(scaled, QStringLiteral("scale"));
    \endcode
*/
template<typename T>
Promise<T> fromFuture(QFuture<T> future, const QString &title = QString())
{
    auto *core = new detail::AggregateCore<T>();
    Promise<T> promise = detail::adoptPromise<T>(core);
    detail::initAggregate(core, title.isEmpty() ? QStringLiteral("QFuture") : title, nullptr, 0);
    core->ref(); // the future's continuations hold it until one of them settles it
    const auto settled = [core](TaskState state, std::exception_ptr error) {
        if (core->claimSettlement())
            core->publishSettlement(state, std::move(error));
        core->deref();
    };
    future
        .then(QtFuture::Launch::Sync,
            [core, settled](QFuture<T> done) {
                std::exception_ptr error;
                try {
                    done.waitForFinished(); // finished already: rethrows its exception
                    if constexpr (!std::is_void_v<T>) {
                        if (done.resultCount() == 0)
                            throw InvalidTaskError(QStringLiteral("the QFuture has no result"));
                        core->value.emplace(done.result());
                    }
                } catch (...) {
                    error = std::current_exception();
                }
                settled(error ? TaskState::Failed : TaskState::Succeeded, error);
            })
        .onCanceled([settled] {
            // The future was cancelled, and then() did not run.
            settled(TaskState::Cancelled, {});
        });
    // Cancelling the promise cancels the future.
    detail::whenFinal(core, [future](detail::TaskCore *task) mutable {
        if (task && task->state() == TaskState::Cancelled)
            future.cancel();
    });
    return promise;
}

} // namespace pk
