// Progress reported from inside a task: on its promise, in TaskInfo, through the keeper's
// taskProgress() signal and the event stream, coalesced to one update per task per batch.
#include "pktest.h"

#include <pk/eventstream.h>
#include <pk/promisekeeper.h>
#include <pk/taskcontext.h>

#include <QtCore/QCoreApplication>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using pk::PromiseKeeper;
using pk::TaskState;

namespace {
// Counts the update events it is given, and checks they are not state changes.
class UpdateCounter : public pk::EventListener
{
public:
    void taskEvents(const pk::TaskEvent *events, qsizetype count) override
    {
        for (qsizetype i = 0; i < count; ++i) {
            if (events[i].isStateChange()) {
                ++stateChanges;
            } else {
                ++updates;
                lastUpdate = events[i].info();
            }
        }
    }
    int stateChanges = 0;
    int updates = 0;
    pk::TaskInfo lastUpdate;
};
} // namespace

class tst_Progress : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void progressReachesPromiseAndSignal();
    void updatesAreCoalescedPerBatch();
    void updatesGoThroughTheEventStream();
    void noProgressByDefault();
};

void tst_Progress::progressReachesPromiseAndSignal()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    keeper.setObjectName(QStringLiteral("converter"));
    const auto unblock = gate.openOnExit();
    QSignalSpy progress(&keeper, &PromiseKeeper::taskProgress);
    auto task = keeper.submit([gate](pk::TaskContext &ctx) {
        ctx.setProgressRange(0, 200);
        ctx.setProgressValue(50);
        ctx.setProgressText(QStringLiteral("page 50 of 200"));
        return gate.pass();
    });
    QVERIFY(gate.waitArrived());
    QCOMPARE(task.progressMinimum(), 0);
    QCOMPARE(task.progressMaximum(), 200);
    QCOMPARE(task.progressValue(), 50);
    QCOMPARE(task.progressText(), QStringLiteral("page 50 of 200"));
    QTRY_COMPARE_WITH_TIMEOUT(progress.count(), 1, pktest::kTimeoutMs);
    const auto info = progress.at(0).at(0).value<pk::TaskInfo>();
    QCOMPARE(info.id(), task.id());
    QCOMPARE(info.state(), TaskState::Running);
    QCOMPARE(info.progressMaximum(), 200);
    QCOMPARE(info.progressValue(), 50);
    QCOMPARE(info.progressText(), QStringLiteral("page 50 of 200"));
    QCOMPARE(info.keeperName(), QStringLiteral("converter"));
    gate.open();
    QVERIFY(task.result(pktest::kTimeoutMs));
    // The finished task keeps its last progress.
    QCOMPARE(task.info().progressValue(), 50);
}

void tst_Progress::updatesAreCoalescedPerBatch()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    QSignalSpy progress(&keeper, &PromiseKeeper::taskProgress);
    QSignalSpy started(&keeper, &PromiseKeeper::taskStarted);
    // 10 000 updates while this thread runs no event loop: they reach it as one.
    auto task = keeper.submit([gate](pk::TaskContext &ctx) {
        ctx.setProgressRange(0, 10000);
        for (int i = 1; i <= 10000; ++i)
            ctx.setProgressValue(i);
        return gate.pass();
    });
    QVERIFY(gate.waitArrived());
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 1, pktest::kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(progress.count(), 1, pktest::kTimeoutMs);
    QCOMPARE(progress.at(0).at(0).value<pk::TaskInfo>().progressValue(), 10000);
    // Nothing more is pending: a later update is a new one.
    gate.open();
    QVERIFY(task.result(pktest::kTimeoutMs));
    QCoreApplication::processEvents();
    QCOMPARE(progress.count(), 1);
}

void tst_Progress::updatesGoThroughTheEventStream()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    UpdateCounter counter;
    keeper.addEventListener(&counter);
    auto task = keeper.submit([gate](pk::TaskContext &ctx) {
        ctx.setProgressValue(1);
        gate.pass();
        ctx.setProgressValue(2);
        return gate.pass();
    });
    QVERIFY(gate.waitArrived());
    QTRY_COMPARE_WITH_TIMEOUT(counter.updates, 1, pktest::kTimeoutMs);
    QCOMPARE(counter.lastUpdate.progressValue(), 1);
    QCOMPARE(keeper.deliveredCounts().running, 1); // an update changes no count
    gate.open();
    QVERIFY(gate.waitArrived());
    QTRY_COMPARE_WITH_TIMEOUT(counter.updates, 2, pktest::kTimeoutMs);
    QCOMPARE(counter.lastUpdate.progressValue(), 2);
    // A cancellation request reaches listeners as an update too (the monitor shows it).
    QVERIFY(task.requestCancellation());
    QTRY_COMPARE_WITH_TIMEOUT(counter.updates, 3, pktest::kTimeoutMs);
    QVERIFY(counter.lastUpdate.isCancellationRequested());
    gate.open();
    QVERIFY(task.result(pktest::kTimeoutMs)); // it ignored the request
    QTRY_COMPARE_WITH_TIMEOUT(keeper.deliveredCounts().succeeded, 1, pktest::kTimeoutMs);
    QCOMPARE(counter.stateChanges, 3); // queued, running, succeeded
    keeper.removeEventListener(&counter);
}

void tst_Progress::noProgressByDefault()
{
    PromiseKeeper keeper(1);
    QSignalSpy progress(&keeper, &PromiseKeeper::taskProgress);
    auto task = keeper.submit([] { return 1; });
    QCOMPARE(task.result(pktest::kTimeoutMs), 1);
    QTRY_COMPARE_WITH_TIMEOUT(keeper.deliveredCounts().succeeded, 1, pktest::kTimeoutMs);
    QCOMPARE(progress.count(), 0);
    QCOMPARE(task.progressValue(), 0);
    QCOMPARE(task.progressMaximum(), 0);
    QVERIFY(task.progressText().isEmpty());
    QVERIFY(!task.info().isCancellationRequested());
}

QTEST_MAIN(tst_Progress)
#include "tst_progress.moc"
