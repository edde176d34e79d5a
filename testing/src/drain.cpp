#include <pk/detail/testhooks.h>
#include <pk/promisekeeper.h>
#include <pk/test/drain.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qeventloop.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qthread.h>
#include <QtCore/qtimer.h>

namespace pk::test {

Q_LOGGING_CATEGORY(lcTest, "promisekeeper.test")

namespace {
// While workers run, nothing may be posted to this thread: the loop wakes up this often to
// look again.
constexpr int kLookAgainMs = 2;

bool manualHere(PromiseKeeper *keeper)
{
    return keeper && keeper->threadCount() == 0 && keeper->thread() == QThread::currentThread();
}
} // namespace

bool runUntil(const std::function<bool()> &done, PromiseKeeper *keeper, QDeadlineTimer deadline)
{
    QTimer lookAgain;
    lookAgain.start(kLookAgainMs);
    for (;;) {
        if (manualHere(keeper))
            keeper->processPending();
        // Posted events first (the keeper's batches, continuations on a context, watcher
        // reports), then deleteLater(), as QTest's own waits do.
        QCoreApplication::sendPostedEvents();
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
        if (done())
            return true;
        if (deadline.hasExpired())
            return false;
        // Returns at the next event: a worker's batch for this thread, or the timer above.
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    }
}

bool drain(PromiseKeeper *keeper, int msecs)
{
    if (!keeper) {
        qCWarning(lcTest, "pk::test::drain(): the keeper is null");
        return false;
    }
    const bool onKeeperThread = keeper->thread() == QThread::currentThread();
    const auto quiet = [keeper, onKeeperThread] {
        return detail::isSettled(keeper)
            && (!onKeeperThread || keeper->deliveredCounts().live() == 0);
    };
    const auto drained = [&quiet] {
        if (!quiet())
            return false;
        // What a worker posted as it finished a task (a watcher's report), just before it
        // settled; it may make more work.
        QCoreApplication::sendPostedEvents();
        return quiet();
    };
    if (runUntil(drained, keeper, QDeadlineTimer(msecs)))
        return true;
    const TaskCounts counts = keeper->counts();
    QString pending = QStringLiteral("%1 waiting, %2 queued, %3 running")
                          .arg(counts.waiting)
                          .arg(counts.queued)
                          .arg(counts.running);
    if (counts.live() == 0 && !detail::isSettled(keeper))
        pending += QStringLiteral(", a worker still running a finished task's continuations");
    if (onKeeperThread && keeper->deliveredCounts().live() > 0) {
        pending += QStringLiteral(", signals not delivered yet for %1 of them")
                       .arg(keeper->deliveredCounts().live());
    }
    qCWarning(lcTest, "pk::test::drain(): still pending after %d ms on keeper '%s': %s", msecs,
        qPrintable(keeper->objectName()), qPrintable(pending));
    return false;
}

} // namespace pk::test
