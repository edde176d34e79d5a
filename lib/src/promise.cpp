#include "taskextras_p.h"
#include "taskscheduler_p.h"
#include "waitstripes_p.h"

#include <pk/promise.h>

namespace pk {

namespace {
QString invalidPromiseMessage()
{
    return QStringLiteral("the promise is invalid (default-constructed)");
}
} // namespace

PromiseBase::PromiseBase(const PromiseBase &other) noexcept
    : d(other.d)
{
    if (d)
        d->ref();
}

PromiseBase &PromiseBase::operator=(const PromiseBase &other) noexcept
{
    if (other.d)
        other.d->ref();
    if (d)
        d->deref();
    d = other.d;
    return *this;
}

PromiseBase &PromiseBase::operator=(PromiseBase &&other) noexcept
{
    std::swap(d, other.d);
    return *this;
}

PromiseBase::~PromiseBase()
{
    if (d)
        d->deref();
}

TaskState PromiseBase::state() const noexcept
{
    return d ? d->state() : TaskState::Failed;
}

bool PromiseBase::wait(int msecs) const
{
    return wait(QDeadlineTimer(msecs));
}

bool PromiseBase::wait(QDeadlineTimer deadline) const
{
    return d ? d->waitUntilFinal(deadline) : true;
}

std::exception_ptr PromiseBase::exception() const
{
    if (!d)
        return std::make_exception_ptr(InvalidTaskError(invalidPromiseMessage()));
    return d->state() == TaskState::Failed ? d->error() : std::exception_ptr();
}

QString PromiseBase::errorString() const
{
    return d ? info().errorString() : invalidPromiseMessage();
}

quint64 PromiseBase::id() const noexcept
{
    // The id is written before the promise is handed out and never changes.
    return d ? d->m_id : 0;
}

QString PromiseBase::title() const
{
    return d ? d->displayTitle() : QString();
}

TaskInfo PromiseBase::info() const
{
    TaskInfo info;
    if (d) {
        d->fillInfo(info, d->state());
    } else {
        info.setState(TaskState::Failed);
        info.setErrorString(invalidPromiseMessage());
    }
    return info;
}

bool PromiseBase::cancel() const
{
    if (!d)
        return false;
    if (d->isDetached()) {
        if (isFinal(d->state()) || !d->claimSettlement())
            return false;
        d->publishSettlement(TaskState::Cancelled);
        return true;
    }
    return d->m_keeper && d->m_keeper->cancel(d);
}

bool PromiseBase::requestCancellation() const
{
    if (!d)
        return false;
    if (d->isDetached() || !d->m_keeper)
        return cancel();
    return d->m_keeper->requestCancellation(d);
}

bool PromiseBase::isCancellationRequested() const noexcept
{
    return d && d->isCancellationRequested();
}

qint64 PromiseBase::progressValue() const noexcept
{
    const detail::TaskExtras *extras = d ? d->extras() : nullptr;
    return extras ? extras->progressValue.load(std::memory_order_relaxed) : 0;
}

qint64 PromiseBase::progressMinimum() const noexcept
{
    const detail::TaskExtras *extras = d ? d->extras() : nullptr;
    return extras ? extras->progressMinimum.load(std::memory_order_relaxed) : 0;
}

qint64 PromiseBase::progressMaximum() const noexcept
{
    const detail::TaskExtras *extras = d ? d->extras() : nullptr;
    return extras ? extras->progressMaximum.load(std::memory_order_relaxed) : 0;
}

QString PromiseBase::progressText() const
{
    const detail::TaskExtras *extras = d ? d->extras() : nullptr;
    if (!extras)
        return QString();
    std::lock_guard lock(detail::waitStripeFor(d).mutex);
    return extras->progressText;
}

void PromiseBase::waitForValue(QDeadlineTimer deadline) const
{
    if (!d)
        throw InvalidTaskError(invalidPromiseMessage());
    if (!d->waitUntilFinal(deadline))
        throw TimeoutError();
    switch (d->state()) {
    case TaskState::Succeeded:
        return;
    case TaskState::Failed:
        std::rethrow_exception(d->error());
    default:
        throw CancelledError();
    }
}

void PromiseBase::waitToTake() const
{
    waitForValue(QDeadlineTimer(QDeadlineTimer::Forever));
    if (!d->markTaken())
        throw InvalidTaskError(QStringLiteral("the result was already taken"));
}

} // namespace pk
