// pk::TaskContext: what a running task can ask and tell about itself.
#pragma once

#include <pk/promisekeeper_export.h>

#include <QtCore/qstring.h>

namespace pk {
namespace detail {
class TaskCore;
class ProcessRunner;
} // namespace detail

/*!
    The running task's own handle, given to a callable whose first parameter is
    <tt>pk::TaskContext &</tt>; the caller does not pass it:

    \code
    keeper.submit([](pk::TaskContext &ctx, const QStringList &files) {
        ctx.setProgressRange(0, files.size());
        for (qsizetype i = 0; i < files.size(); ++i) {
            ctx.throwIfCancellationRequested();
            convert(files[i]);
            ctx.setProgressValue(i + 1);
        }
    }, files);
    \endcode

    Works with PromiseKeeper::submit(), PromiseKeeper::map() and Promise::then() on a pool.

    Cancellation is cooperative: Promise::requestCancellation(), PromiseKeeper::cancelAll() and
    a TaskOptions::timeout only set a flag that the task reads; a thread is never interrupted.
    A task that throws pk::CancelledError after cancellation was requested ends Cancelled; a
    task that ignores the request finishes normally.

    Progress is stored at once and reaches the keeper's signals (PromiseKeeper::taskProgress()),
    its event listeners and the monitor at most once per task and batch, however often it is
    set. Only the task's own thread may use its context, and only while the callable runs; it
    cannot be copied.
*/
class PROMISEKEEPER_EXPORT TaskContext
{
public:
    //! Made by the library around the \a task it is about to run; user code does not make one.
    explicit TaskContext(detail::TaskCore *task) noexcept
        : d(task)
    { }
    TaskContext(const TaskContext &) = delete;
    TaskContext &operator=(const TaskContext &) = delete;

    //! The task's id, as Promise::id() and TaskInfo::id() give it.
    quint64 id() const noexcept;

    //! Whether cancellation was requested (Promise::requestCancellation(), cancelAll(),
    //! shutdown(CancelPending), the task's time-out). Cheap: an atomic load.
    bool isCancellationRequested() const noexcept;
    //! Throws pk::CancelledError if cancellation was requested.
    void throwIfCancellationRequested() const;

    //! The range progress values are in (as QFutureInterface's); 0, 0 until set.
    void setProgressRange(qint64 minimum, qint64 maximum);
    //! Sets the progress to \a value (not clamped to the range); the same value again is
    //! ignored.
    void setProgressValue(qint64 value);
    //! Sets the progress text to \a text, shown with the progress (TaskInfo::progressText()).
    void setProgressText(const QString &text);

private:
    friend class detail::ProcessRunner;
    detail::TaskCore *d;
};

} // namespace pk
