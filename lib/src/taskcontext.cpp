#include <pk/detail/taskcore.h>
#include <pk/errors.h>
#include <pk/taskcontext.h>

namespace pk {

quint64 TaskContext::id() const noexcept
{
    return d->m_id;
}

bool TaskContext::isCancellationRequested() const noexcept
{
    return d->isCancellationRequested();
}

void TaskContext::throwIfCancellationRequested() const
{
    if (d->isCancellationRequested())
        throw CancelledError(QStringLiteral("cancellation was requested"));
}

void TaskContext::setProgressRange(qint64 minimum, qint64 maximum)
{
    d->setProgressRange(minimum, maximum);
}

void TaskContext::setProgressValue(qint64 value)
{
    d->setProgressValue(value);
}

void TaskContext::setProgressText(const QString &text)
{
    d->setProgressText(text);
}

} // namespace pk
