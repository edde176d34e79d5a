#include "processchildren_p.h"
#include "promisekeeper_p.h"

#include <pk/detail/testhooks.h>
#include <pk/detail/tsan.h>
#include <pk/logging.h>
#include <pk/promisekeeper.h>

#include <QtCore/qabstracteventdispatcher.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qcoreevent.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qscopeguard.h>
#include <QtCore/qthreadpool.h>

#include <algorithm>

namespace pk {

namespace {
// A range-for over events given as pointer and count (std::span is C++20).
struct Span
{
    const TaskEvent *first;
    std::size_t count;
    const TaskEvent *begin() const { return first; }
    const TaskEvent *end() const { return first + count; }
};

// A negative count is a mistake, not a request for manual mode (0): it keeps \a fallback.
int checkedThreadCount(int count, int fallback, const char *keeping)
{
    if (count >= 0)
        return count;
    qCWarning(lcPromiseKeeper, "PromiseKeeper: thread count %d is negative; keeping %s (%d)", count,
        keeping, fallback);
    return fallback;
}
} // namespace

void PromiseKeeperPrivate::releaseEvents(const TaskEvent *events, std::size_t count) noexcept
{
    for (const TaskEvent *e = events, *end = events + count; e != end; ++e) {
        if (e->m_core)
            e->m_core->deref();
    }
}

void PromiseKeeperPrivate::Backlog::releaseRest() noexcept
{
    releaseEvents(batch.events.data() + next, batch.events.size() - next);
    next = batch.events.size();
}

PromiseKeeperPrivate::PromiseKeeperPrivate(PromiseKeeper *keeper, int threadCount)
    : q(keeper)
    , pool(new QThreadPool(keeper))
    , shared(new detail::TaskScheduler(keeper, pool, threadCount))
{
    pool->setObjectName(QStringLiteral("PromiseKeeper pool"));
    pool->setMaxThreadCount(std::max(threadCount, 1));
}

PromiseKeeperPrivate::~PromiseKeeperPrivate()
{
    backlog.releaseRest();
    for (const TaskEvent &e : recent)
        e.m_core->deref();
    shared->deref();
}

void PromiseKeeperPrivate::deliver(Delivery mode)
{
    if (delivering) {
        deliverAgain = true;
        return;
    }
    QPointer<PromiseKeeper> alive(q);
    // The timer needs an event loop; without one (a keeper in a plain std::thread driven by
    // processPending()) every batch is taken on demand, and delivered whole.
    const bool canComeBack = q->thread()->eventDispatcher() != nullptr;
    const bool bounded = mode == Delivery::Bounded && canComeBack;
    QElapsedTimer slice;
    slice.start();
    delivering = true;
    do {
        deliverAgain = false;
        // A local: a slot may destroy the keeper, and this with it, during the dispatch.
        Backlog work = std::exchange(backlog, {});
        // References not dispatched yet are dropped if the keeper goes away meanwhile.
        auto dropRest = qScopeGuard([&work] { work.releaseRest(); });
        // Finishing a backlog takes nothing new: a delivery of everything goes round again.
        if (!work.done() && !bounded)
            deliverAgain = true;
        if (work.done()) {
            work = {};
            // The workers record into the vector this hands them: one that has its capacity
            // already does not grow (reallocate and copy) under the keeper's mutex.
            work.batch.events = std::exchange(spareEvents, {});
            work.joining = !joiningListeners.isEmpty();
            if (shared->collectBatch(
                    work.batch, canComeBack, work.joining ? &work.live : nullptr)) {
                if (!collectTimer.isActive() || catchingUp)
                    collectTimer.start(kCollectIntervalMs, q);
            } else if (collectTimer.isActive()) {
                collectTimer.stop();
            }
            catchingUp = false;
            if (work.batch.dropped > 0) {
                qCWarning(lcPromiseKeeper,
                    "PromiseKeeper: %llu task events were dropped because the keeper's thread "
                    "did not process events; counts are exact, signals for those are missing",
                    work.batch.dropped);
                for (EventListener *l : std::as_const(listeners))
                    l->eventsDropped(work.batch.dropped);
            }
        }
        while (!work.done()) {
            TaskEvent *chunk = work.batch.events.data() + work.next;
            const std::size_t count
                = std::min(kDeliveryChunk, work.batch.events.size() - work.next);
            work.next += count;
            auto release = qScopeGuard([chunk, count] { releaseEvents(chunk, count); });
            work.anyFinal = work.anyFinal
                || std::any_of(
                    chunk, chunk + count, [](const TaskEvent &e) { return isFinal(e.state()); });
            if (!dispatch(chunk, count))
                return; // the keeper is gone, and `delivering` with it
            if (bounded && !work.done() && slice.nsecsElapsed() >= kDeliverySliceNs) {
                // The rest once the event loop had its turn, on a zero timer: a backlog is
                // worked off at full speed between the loop's other events. (Not a posted
                // event: while posted events keep coming, the loop does not run its timers.)
                dropRest.dismiss();
                backlog = std::move(work);
                delivering = false;
                collectTimer.start(0, q);
                catchingUp = true;
                return;
            }
        }
        // The end of the batch: counts and idle as of it, and listeners join at this boundary,
        // with the live tasks as of its end: each later change reaches them exactly once.
        // Events the keeper dropped changed counts unseen: the batch's counts are exact.
        Q_ASSERT(work.batch.dropped > 0 || delivered == work.batch.counts);
        delivered = work.batch.counts;
        if (work.batch.counts != lastCounts) {
            lastCounts = work.batch.counts;
            Q_EMIT q->countsChanged();
            if (!alive)
                return;
        }
        if (work.batch.idle && work.anyFinal) {
            Q_EMIT q->idle();
            if (!alive)
                return;
        }
        if (work.joining) {
            const QList<TaskInfo> recentlyFinished = history();
            for (EventListener *l : std::exchange(joiningListeners, {})) {
                listeners.append(l);
                l->snapshot(work.live, recentlyFinished);
                if (!alive)
                    return;
            }
        }
        if (work.batch.events.capacity() <= kSpareEventCapacity) {
            spareEvents = std::move(work.batch.events);
            spareEvents.clear(); // all released
        }
        work = {};
    } while (deliverAgain);
    delivering = false;
}

bool PromiseKeeperPrivate::dispatch(TaskEvent *events, std::size_t count)
{
    // Counted before the listeners see them: inside taskEvents(), deliveredCounts() includes
    // the events passed.
    for (const TaskEvent &e : Span { events, count }) {
        if (e.m_update) {
            // Read from now on: a later change of progress buffers a new update.
            e.m_core->m_updatePending.store(false, std::memory_order_release);
            continue;
        }
        if (e.m_previous != e.m_state)
            delivered.add(e.m_previous, -1);
        delivered.add(e.m_state);
        // The flag was set before the task finished, under the mutex the batch was taken with.
        if (e.m_state == TaskState::Failed
            && (e.m_core->m_cancelFlags.load(std::memory_order_relaxed)
                & detail::TaskCore::TimedOut))
            ++delivered.timedOut;
    }
    QPointer<PromiseKeeper> alive(q);
    for (EventListener *l : std::as_const(listeners))
        l->taskEvents(events, qsizetype(count));
    emitSignals(events, count);
    if (!alive)
        return false;
    remember(events, count);
    return true;
}

void PromiseKeeperPrivate::emitSignals(const TaskEvent *events, std::size_t count)
{
    // Only build a TaskInfo for signals somebody listens to: a flood of tasks with nothing
    // connected costs no more than the event buffer.
    const auto connected
        = [this](auto signal) { return q->isSignalConnected(QMetaMethod::fromSignal(signal)); };
    const bool queued = connected(&PromiseKeeper::taskQueued);
    const bool started = connected(&PromiseKeeper::taskStarted);
    const bool succeeded = connected(&PromiseKeeper::taskSucceeded);
    const bool failed = connected(&PromiseKeeper::taskFailed);
    const bool cancelled = connected(&PromiseKeeper::taskCancelled);
    const bool finished = connected(&PromiseKeeper::taskFinished);
    const bool callbackFailed = connected(&PromiseKeeper::callbackFailed);
    const bool progress = connected(&PromiseKeeper::taskProgress);
    if (!(queued || started || succeeded || failed || cancelled || finished || callbackFailed
            || progress))
        return;

    QPointer<PromiseKeeper> alive(q);
    const QString keeperName = q->objectName(); // this is the keeper's thread
    for (const TaskEvent &e : Span { events, count }) {
        if (e.m_update) {
            // Progress (a cancellation request alone has none to tell).
            if (progress && e.m_core->extras()) {
                TaskInfo info = e.info();
                info.setKeeperName(keeperName);
                Q_EMIT q->taskProgress(info);
                if (!alive)
                    return;
            }
            continue;
        }
        const TaskState state = e.state();
        bool wanted = false;
        switch (state) {
        case TaskState::Waiting:
            break;
        case TaskState::Queued:
            wanted = queued;
            break;
        case TaskState::Running:
            wanted = started;
            break;
        case TaskState::Succeeded:
            wanted = succeeded || finished;
            break;
        case TaskState::Failed:
            wanted = failed || finished || callbackFailed;
            break;
        case TaskState::Cancelled:
            wanted = cancelled || finished;
            break;
        }
        if (!wanted)
            continue;
        TaskInfo info = e.info();
        info.setKeeperName(keeperName);
        switch (state) {
        case TaskState::Waiting:
            break;
        case TaskState::Queued:
            Q_EMIT q->taskQueued(info);
            break;
        case TaskState::Running:
            Q_EMIT q->taskStarted(info);
            break;
        case TaskState::Succeeded:
            if (succeeded)
                Q_EMIT q->taskSucceeded(info);
            break;
        case TaskState::Failed:
            if (failed)
                Q_EMIT q->taskFailed(info);
            // A continuation that ran on its context and threw (not one whose input failed).
            if (callbackFailed && alive && e.m_core->m_onContext && info.startedAtNsecs() != 0
                && !e.m_core->m_errorPropagated)
                Q_EMIT q->callbackFailed(info, info.errorString());
            break;
        case TaskState::Cancelled:
            if (cancelled)
                Q_EMIT q->taskCancelled(info);
            break;
        }
        if (!alive)
            return;
        if (isFinal(state) && finished) {
            Q_EMIT q->taskFinished(info);
            if (!alive)
                return;
        }
    }
}

void PromiseKeeperPrivate::remember(TaskEvent *events, std::size_t count)
{
    if (historySize <= 0)
        return;
    for (TaskEvent *e = events, *end = events + count; e != end; ++e) {
        if (!isFinal(e->state()))
            continue;
        recent.push_back(*e);
        e->m_core = nullptr; // its reference is the history's now
        if (recent.size() > std::size_t(historySize)) {
            recent.front().m_core->deref();
            recent.pop_front();
        }
    }
}

QList<TaskInfo> PromiseKeeperPrivate::history() const
{
    QList<TaskInfo> list;
    list.reserve(qsizetype(recent.size()));
    for (const TaskEvent &e : recent)
        list.append(e.info());
    return list;
}

PromiseKeeper::PromiseKeeper(int threadCount, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<PromiseKeeperPrivate>(
          this, checkedThreadCount(threadCount, 1, "the default")))
{
    qRegisterMetaType<pk::TaskInfo>();
}

PromiseKeeper::~PromiseKeeper()
{
    // Queued tasks end Cancelled (their waiters wake); running ones are waited for.
    d->shared->shutdown(ShutdownMode::CancelPending, QDeadlineTimer(QDeadlineTimer::Forever));
    d->shared->detach();
    d->pool->waitForDone();
    d->shared->stopProcessChildren();
    // Events not delivered yet are dropped with their references: no signal comes from a
    // keeper being destroyed.
    detail::TaskScheduler::Batch batch;
    d->shared->takeBatch(batch);
    PromiseKeeperPrivate::releaseEvents(batch.events.data(), batch.events.size());
}

int PromiseKeeper::threadCount() const
{
    return d->shared->threadCount();
}

void PromiseKeeper::setThreadCount(int count)
{
    count = checkedThreadCount(count, threadCount(), "the current count");
    if (d->shared->setThreadCount(count))
        Q_EMIT threadCountChanged(count);
}

void PromiseKeeper::enqueue(detail::TaskCore *core, const TaskOptions &options, bool emptyCallable)
{
    d->shared->enqueue(core, options, emptyCallable);
}

void PromiseKeeper::enqueueDependent(detail::TaskCore *core, const TaskOptions &options,
    const std::vector<detail::TaskCore *> &inputs, bool emptyCallable)
{
    d->shared->submitDependent(core, options, inputs, detail::InputFailure::Wrap, emptyCallable);
}

detail::TaskScheduler *PromiseKeeper::sharedState() const
{
    return d->shared;
}

int PromiseKeeper::processPending()
{
    const int ran = d->shared->processPending();
    if (thread() == QThread::currentThread())
        d->deliver(PromiseKeeperPrivate::Delivery::Everything);
    return ran;
}

bool PromiseKeeper::isRunning() const
{
    return d->shared->counts().live() > 0;
}

bool PromiseKeeper::waitForAll(int msecs)
{
    return waitForAll(QDeadlineTimer(msecs));
}

bool PromiseKeeper::waitForAll(QDeadlineTimer deadline)
{
    return d->shared->waitForAll(deadline);
}

TaskCounts PromiseKeeper::counts() const
{
    return d->shared->counts();
}

TaskCounts PromiseKeeper::deliveredCounts() const
{
    return d->delivered;
}

bool detail::isSettled(const PromiseKeeper *keeper)
{
    return keeper->d->shared->isSettled();
}

QList<TaskInfo> PromiseKeeper::tasks() const
{
    return d->shared->tasks();
}

bool PromiseKeeper::cancel(quint64 taskId)
{
    return d->shared->cancelById(taskId);
}

bool PromiseKeeper::requestCancellation(quint64 taskId)
{
    return d->shared->cancelById(taskId, true);
}

int PromiseKeeper::cancelAll()
{
    return d->shared->cancelAll();
}

bool PromiseKeeper::shutdown(ShutdownMode mode, int msecs)
{
    return shutdown(mode, QDeadlineTimer(msecs));
}

bool PromiseKeeper::shutdown(ShutdownMode mode, QDeadlineTimer deadline)
{
    return d->shared->shutdown(mode, deadline);
}

bool PromiseKeeper::isShutdown() const
{
    return d->shared->isShutdown();
}

int PromiseKeeper::maxTasksPerProcess() const
{
    return d->shared->processChildren().maxTasksPerProcess();
}

void PromiseKeeper::setMaxTasksPerProcess(int count)
{
    d->shared->processChildren().setMaxTasksPerProcess(std::max(count, 0));
}

int PromiseKeeper::historySize() const
{
    return d->historySize;
}

void PromiseKeeper::setHistorySize(int size)
{
    if (thread() != QThread::currentThread()) {
        // The history is the keeper's thread's, as the deliveries that fill it.
        qCWarning(lcPromiseKeeper, "PromiseKeeper::setHistorySize: call it on the keeper's thread");
        return;
    }
    d->historySize = std::max(size, 0);
    while (d->recent.size() > std::size_t(d->historySize)) {
        d->recent.front().m_core->deref();
        d->recent.pop_front();
    }
}

void PromiseKeeper::addEventListener(EventListener *listener)
{
    if (!listener || d->listeners.contains(listener) || d->joiningListeners.contains(listener))
        return;
    if (thread() != QThread::currentThread()) {
        qCWarning(
            lcPromiseKeeper, "PromiseKeeper::addEventListener: call it on the keeper's thread");
        return;
    }
    // Joins at the next batch boundary: now, or, when called from a slot during a delivery,
    // once the current batch is through.
    d->joiningListeners.append(listener);
    d->deliver(PromiseKeeperPrivate::Delivery::Bounded);
}

void PromiseKeeper::removeEventListener(EventListener *listener)
{
    if (thread() != QThread::currentThread()) {
        // The lists are the keeper's thread's, read by a delivery at any moment.
        qCWarning(
            lcPromiseKeeper, "PromiseKeeper::removeEventListener: call it on the keeper's thread");
        return;
    }
    d->listeners.removeAll(listener);
    d->joiningListeners.removeAll(listener);
}

bool PromiseKeeper::event(QEvent *event)
{
    PK_TSAN_ACQUIRE(event); // a flush event comes from a worker, through Qt's event queue
    if (event->type() == detail::flushEventType()
        || (event->type() == QEvent::Timer
            && static_cast<QTimerEvent *>(event)->timerId() == d->collectTimer.timerId())) {
        d->deliver(PromiseKeeperPrivate::Delivery::Bounded);
        return true;
    }
    return QObject::event(event);
}

} // namespace pk
