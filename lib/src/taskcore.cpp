#include <pk/detail/taskcore.h>
#include <pk/taskinfo.h>

#include "keepershared_p.h"
#include "waitstripes_p.h"

namespace pk::detail {

TaskCore::TaskCore() noexcept = default;

TaskCore::~TaskCore()
{
    if (m_keeper)
        m_keeper->deref();
}

void TaskCore::run() noexcept
{
    try {
        invoke();
    } catch (...) {
        // Whatever the task threw stays in the promise; nothing escapes a worker thread.
        m_error = std::current_exception();
    }
    dropCallable();
}

void TaskCore::wakeWaiters() noexcept
{
    if (m_waiters.load() == 0)
        return;
    WaitStripe &stripe = waitStripeFor(this);
    // Taking the mutex orders this wake after a waiter's check of the state (see
    // waitUntilFinal()): the waiter is then either asleep or will see the final state.
    { std::lock_guard lock(stripe.mutex); }
    stripe.finished.notify_all();
}

bool TaskCore::waitUntilFinal(QDeadlineTimer deadline) noexcept
{
    if (isFinal(state()))
        return true;
    if (m_keeper && m_keeper->waitsMustHelp()) {
        // Manual mode on the keeper's thread: nothing else will run the queue.
        while (!isFinal(state()) && m_keeper->runOnePending()) { }
        if (isFinal(state()))
            return true;
    }
    WaitStripe &stripe = waitStripeFor(this);
    m_waiters.fetch_add(1); // sequentially consistent with the state store and wakeWaiters()
    std::unique_lock lock(stripe.mutex);
    const auto finalState = [this] { return isFinal(state()); };
    bool finished;
    if (deadline.isForever()) {
        stripe.finished.wait(lock, finalState);
        finished = true;
    } else {
        finished = stripe.finished.wait_until(
                lock, deadline.deadline<std::chrono::steady_clock>(), finalState);
    }
    lock.unlock();
    m_waiters.fetch_sub(1);
    return finished;
}

void TaskCore::fillInfo(TaskInfo &info, TaskState upTo) const
{
    info.setId(m_id);
    info.setTitle(m_title);
    info.setPriority(m_priority);
    info.setState(upTo);
    info.setQueuedAtNsecs(m_queuedNs);
    if (upTo >= TaskState::Running) {
        info.setStartedAtNsecs(m_startedNs);
        info.setWorkerIndex(m_worker);
    }
    if (isFinal(upTo))
        info.setFinishedAtNsecs(m_finishedNs);
    if (upTo == TaskState::Failed) {
        try {
            std::rethrow_exception(m_error);
        } catch (const std::exception &e) {
            info.setErrorString(QString::fromUtf8(e.what()));
        } catch (...) {
            info.setErrorString(QStringLiteral("unknown exception"));
        }
    }
}

} // namespace pk::detail
