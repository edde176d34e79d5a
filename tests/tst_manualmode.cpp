// Manual mode (threadCount() == 0): nothing runs until processPending() or a wait on the keeper's
// thread runs it, deterministically, on the calling thread.
#include "pktest.h"

#include <pk/errors.h>
#include <pk/promisekeeper.h>

#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <atomic>
#include <limits>
#include <stdexcept>
#include <thread>

using pk::PromiseKeeper;
using pk::TaskState;

class tst_ManualMode : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void nothingRunsUntilProcessPending();
    void processPendingRunsOnCallingThreadInOrder();
    void processPendingOnAnotherThread();
    void tasksSubmittedByTasksRunToo();
    void priorities_data();
    void priorities();
    void signalsEmittedBeforeProcessPendingReturns();
    void waitRunsPendingTasksInOrder_data();
    void waitRunsPendingTasksInOrder();
    void resultOfFailingTask();
    void waitForAllRunsPending();
    void waitOnOtherThreadDoesNotRunTasks();
    void workerIndex();
    void processPendingOnThreadedKeeper();
    void cancelInManualMode();
    void keeperInThreadWithoutEventLoop();
};

void tst_ManualMode::nothingRunsUntilProcessPending()
{
    std::atomic<int> ran { 0 };
    PromiseKeeper keeper(0);
    QCOMPARE(keeper.threadCount(), 0);
    QCOMPARE(keeper.processPending(), 0); // nothing pending yet

    QList<pk::Promise<void>> promises;
    for (int i = 0; i < 5; ++i)
        promises.append(keeper.submit([&ran] { ++ran; }));
    QCoreApplication::processEvents(); // event delivery alone runs nothing
    QCOMPARE(ran.load(), 0);
    for (const auto &p : promises)
        QCOMPARE(p.state(), TaskState::Queued);
    QCOMPARE(keeper.queuedCount(), 5);
    QCOMPARE(keeper.runningCount(), 0);
    QVERIFY(keeper.isRunning()); // "running" means: something is live
    QCOMPARE(keeper.tasks().size(), 5);

    QCOMPARE(keeper.processPending(), 5);
    QCOMPARE(ran.load(), 5);
    for (const auto &p : promises)
        QCOMPARE(p.state(), TaskState::Succeeded);
    QCOMPARE(keeper.succeededCount(), 5);
    QVERIFY(keeper.isIdle());
    QCOMPARE(keeper.processPending(), 0);
}

void tst_ManualMode::processPendingRunsOnCallingThreadInOrder()
{
    pktest::Recorder recorder;
    PromiseKeeper keeper(0);
    QList<pk::Promise<QThread *>> promises;
    QList<int> expected;
    for (int i = 0; i < 20; ++i) {
        promises.append(keeper.submit([&recorder, i] {
            recorder.record(i);
            return QThread::currentThread();
        }));
        expected.append(i);
    }
    QCOMPARE(keeper.processPending(), 20);
    QCOMPARE(recorder.values(), expected);
    for (const auto &p : promises)
        QCOMPARE(p.result(), QThread::currentThread());
}

void tst_ManualMode::processPendingOnAnotherThread()
{
    PromiseKeeper keeper(0);
    auto p = keeper.submit([] { return QThread::currentThread(); });
    QThread *runner = nullptr;
    int ran = 0;
    std::thread other([&] {
        runner = QThread::currentThread();
        ran = keeper.processPending();
    });
    other.join();
    QCOMPARE(ran, 1);
    QCOMPARE(p.result(), runner);
    QVERIFY(runner != QThread::currentThread());
}

void tst_ManualMode::tasksSubmittedByTasksRunToo()
{
    pktest::Recorder recorder;
    PromiseKeeper keeper(0);
    pk::Promise<int> inner;
    auto outer = keeper.submit([&] {
        recorder.record(1);
        inner = keeper.submit([&recorder] {
            recorder.record(2);
            return 2;
        });
        return 1;
    });
    auto second = keeper.submit([&recorder] { recorder.record(3); });
    QCOMPARE(keeper.processPending(), 3);
    QCOMPARE(recorder.values(), (QList<int> { 1, 3, 2 })); // the new task queued behind the rest
    QCOMPARE(outer.result(), 1);
    QCOMPARE(inner.result(), 2);
    QCOMPARE(keeper.processPending(), 0);
}

void tst_ManualMode::priorities_data()
{
    QTest::addColumn<QList<int>>("priorities");
    QTest::addColumn<QList<int>>("expectedOrder");
    QTest::newRow("equal") << QList<int> { 0, 0, 0 } << QList<int> { 0, 1, 2 };
    QTest::newRow("ascending") << QList<int> { -1, 0, 1 } << QList<int> { 2, 1, 0 };
    QTest::newRow("mixed with ties")
        << QList<int> { 2, 9, 2, -4, 9 } << QList<int> { 1, 4, 0, 2, 3 };
    QTest::newRow("extremes") << QList<int> { std::numeric_limits<int>::min(), 0,
        std::numeric_limits<int>::max() }
                              << QList<int> { 2, 1, 0 };
}

void tst_ManualMode::priorities()
{
    QFETCH(QList<int>, priorities);
    QFETCH(QList<int>, expectedOrder);
    pktest::Recorder recorder;
    PromiseKeeper keeper(0);
    for (int i = 0; i < priorities.size(); ++i)
        keeper.submit(
            pk::TaskOptions { {}, priorities.at(i) }, [&recorder, i] { recorder.record(i); });

    // tasks() lists the queue in start order.
    QList<int> listedPriorities;
    for (const pk::TaskInfo &info : keeper.tasks())
        listedPriorities.append(info.priority());
    QList<int> expectedPriorities;
    for (int index : expectedOrder)
        expectedPriorities.append(priorities.at(index));
    QCOMPARE(listedPriorities, expectedPriorities);

    QCOMPARE(keeper.processPending(), priorities.size());
    QCOMPARE(recorder.values(), expectedOrder);
}

void tst_ManualMode::signalsEmittedBeforeProcessPendingReturns()
{
    PromiseKeeper keeper(0);
    QSignalSpy queuedSpy(&keeper, &PromiseKeeper::taskQueued);
    QSignalSpy startedSpy(&keeper, &PromiseKeeper::taskStarted);
    QSignalSpy succeededSpy(&keeper, &PromiseKeeper::taskSucceeded);
    QSignalSpy failedSpy(&keeper, &PromiseKeeper::taskFailed);
    QSignalSpy finishedSpy(&keeper, &PromiseKeeper::taskFinished);
    QSignalSpy countsSpy(&keeper, &PromiseKeeper::countsChanged);
    QSignalSpy idleSpy(&keeper, &PromiseKeeper::idle);
    for (const QSignalSpy *spy :
        { &queuedSpy, &startedSpy, &succeededSpy, &failedSpy, &finishedSpy, &countsSpy, &idleSpy })
        QVERIFY(spy->isValid());

    QThread *emittedOn = nullptr;
    connect(&keeper, &PromiseKeeper::taskFinished, this,
        [&emittedOn] { emittedOn = QThread::currentThread(); });

    auto a = keeper.submit([] { return 1; });
    auto b = keeper.submit([]() -> int { throw std::runtime_error("bad"); });
    auto c = keeper.submit([] { return 3; });
    QCOMPARE(finishedSpy.count(), 0);

    QCOMPARE(keeper.processPending(), 3);
    // No waiting: the signals came before processPending() returned.
    QCOMPARE(queuedSpy.count(), 3);
    QCOMPARE(startedSpy.count(), 3);
    QCOMPARE(succeededSpy.count(), 2);
    QCOMPARE(failedSpy.count(), 1);
    QCOMPARE(finishedSpy.count(), 3);
    QVERIFY(countsSpy.count() >= 1);
    QCOMPARE(idleSpy.count(), 1);
    QCOMPARE(emittedOn, QThread::currentThread());

    QCOMPARE(finishedSpy.at(0).at(0).value<pk::TaskInfo>().id(), a.id());
    QCOMPARE(finishedSpy.at(1).at(0).value<pk::TaskInfo>().id(), b.id());
    QCOMPARE(finishedSpy.at(2).at(0).value<pk::TaskInfo>().id(), c.id());
    QCOMPARE(failedSpy.at(0).at(0).value<pk::TaskInfo>().errorString(), QStringLiteral("bad"));

    // The flush event posted meanwhile finds nothing left: no signal twice.
    QCoreApplication::processEvents();
    QCOMPARE(finishedSpy.count(), 3);
    QCOMPARE(idleSpy.count(), 1);
}

enum class WaitCall { Wait, WaitTimeout, Result, ResultTimeout };
Q_DECLARE_METATYPE(WaitCall)

void tst_ManualMode::waitRunsPendingTasksInOrder_data()
{
    // The calls without a time-out are the ones that would deadlock if the keeper's thread
    // blocked; if this regresses, ctest's time-out ends the test.
    QTest::addColumn<WaitCall>("call");
    QTest::newRow("wait()") << WaitCall::Wait;
    QTest::newRow("wait(msecs)") << WaitCall::WaitTimeout;
    QTest::newRow("result()") << WaitCall::Result;
    QTest::newRow("result(msecs)") << WaitCall::ResultTimeout;
}

void tst_ManualMode::waitRunsPendingTasksInOrder()
{
    QFETCH(WaitCall, call);
    pktest::Recorder recorder;
    PromiseKeeper keeper(0);
    auto a = keeper.submit([&recorder] {
        recorder.record(0);
        return 0;
    });
    auto b = keeper.submit([&recorder] {
        recorder.record(1);
        return QThread::currentThread();
    });
    auto c = keeper.submit([&recorder] {
        recorder.record(2);
        return 2;
    });

    // Waiting for b on the keeper's thread runs what comes before it and b, not more.
    switch (call) {
    case WaitCall::Wait:
        QVERIFY(b.wait());
        break;
    case WaitCall::WaitTimeout:
        QVERIFY(b.wait(pktest::kTimeoutMs));
        break;
    case WaitCall::Result:
        QCOMPARE(b.result(), QThread::currentThread());
        break;
    case WaitCall::ResultTimeout:
        QCOMPARE(b.result(pktest::kTimeoutMs), QThread::currentThread());
        break;
    }
    QCOMPARE(recorder.values(), (QList<int> { 0, 1 }));
    QCOMPARE(a.state(), TaskState::Succeeded);
    QCOMPARE(b.state(), TaskState::Succeeded);
    QCOMPARE(c.state(), TaskState::Queued);

    // Even with a zero time-out the keeper's own thread runs the tasks rather than failing.
    QVERIFY(c.wait(0));
    QCOMPARE(c.result(0), 2);
    QCOMPARE(recorder.values(), (QList<int> { 0, 1, 2 }));
}

void tst_ManualMode::resultOfFailingTask()
{
    PromiseKeeper keeper(0);
    auto p = keeper.submit([]() -> int { throw std::logic_error("manual failure"); });
    try {
        (void)p.result(pktest::kTimeoutMs);
        QFAIL("result() must rethrow");
    } catch (const std::logic_error &e) {
        QCOMPARE(QString::fromUtf8(e.what()), QStringLiteral("manual failure"));
    }
    QCOMPARE(p.state(), TaskState::Failed);
}

void tst_ManualMode::waitForAllRunsPending()
{
    pktest::Recorder recorder;
    PromiseKeeper keeper(0);
    for (int i = 0; i < 4; ++i)
        keeper.submit([&recorder, i] { recorder.record(i); });
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(recorder.values(), (QList<int> { 0, 1, 2, 3 }));
    QCOMPARE(keeper.succeededCount(), 4);

    keeper.submit([&recorder] { recorder.record(4); });
    QVERIFY(keeper.waitForAll(0));
    QCOMPARE(recorder.values().size(), 5);

    // shutdown(Drain) waits the same way, so it runs the queue too.
    keeper.submit([&recorder] { recorder.record(5); });
    QVERIFY(keeper.shutdown(pk::ShutdownMode::Drain, 0));
    QCOMPARE(recorder.values().size(), 6);
}

void tst_ManualMode::waitOnOtherThreadDoesNotRunTasks()
{
    std::atomic<bool> ran { false };
    PromiseKeeper keeper(0);
    auto p = keeper.submit([&ran] { ran = true; });
    bool waited = true;
    bool waitedForAll = true;
    std::thread other([&] {
        waited = p.wait(20); // not the keeper's thread: it blocks (and times out)
        waitedForAll = keeper.waitForAll(20);
    });
    other.join();
    QVERIFY(!waited);
    QVERIFY(!waitedForAll);
    QVERIFY(!ran.load());
    QCOMPARE(p.state(), TaskState::Queued);
    QCOMPARE(keeper.processPending(), 1);
    QVERIFY(ran.load());
}

void tst_ManualMode::workerIndex()
{
    PromiseKeeper keeper(0);
    QSignalSpy startedSpy(&keeper, &PromiseKeeper::taskStarted);
    QVERIFY(startedSpy.isValid());
    auto a = keeper.submit([] {});
    auto b = keeper.submit([] {});
    QCOMPARE(a.info().workerIndex(), -1); // not started
    keeper.processPending();
    QCOMPARE(a.info().workerIndex(), 0);
    QCOMPARE(b.info().workerIndex(), 0);
    QCOMPARE(startedSpy.count(), 2);
    QCOMPARE(startedSpy.at(0).at(0).value<pk::TaskInfo>().workerIndex(), 0);

    auto c = keeper.submit([] {});
    QVERIFY(c.wait(pktest::kTimeoutMs));
    QCOMPARE(c.info().workerIndex(), 0);
}

void tst_ManualMode::processPendingOnThreadedKeeper()
{
    // processPending() also helps a keeper that has threads: tasks it runs have no worker index.
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto blocker = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    auto helped = keeper.submit([] { return QThread::currentThread(); });
    QCOMPARE(keeper.processPending(), 1);
    QCOMPARE(helped.result(), QThread::currentThread());
    QCOMPARE(helped.info().workerIndex(), -1);
    QCOMPARE(blocker.state(), TaskState::Running);
    gate.open();
    QVERIFY(blocker.result());
}

void tst_ManualMode::cancelInManualMode()
{
    std::atomic<int> ran { 0 };
    PromiseKeeper keeper(0);
    auto a = keeper.submit([&ran] { ++ran; });
    auto b = keeper.submit([&ran] { ++ran; });
    auto c = keeper.submit([&ran] { ++ran; });
    QVERIFY(b.cancel());
    QCOMPARE(keeper.processPending(), 2); // the cancelled one is skipped, not counted
    QCOMPARE(ran.load(), 2);
    QCOMPARE(a.state(), TaskState::Succeeded);
    QCOMPARE(b.state(), TaskState::Cancelled);
    QCOMPARE(c.state(), TaskState::Succeeded);
    QVERIFY(b.wait()); // a cancelled task does not make the keeper's thread run anything

    auto d = keeper.submit([&ran] { ++ran; });
    QCOMPARE(keeper.cancelAll(), 1);
    QCOMPARE(keeper.processPending(), 0);
    QCOMPARE(d.state(), TaskState::Cancelled);
}

void tst_ManualMode::keeperInThreadWithoutEventLoop()
{
    // Manual mode needs no event loop: a keeper that lives in a plain std::thread runs its tasks
    // and emits its signals from processPending(), quietly.
    pktest::MessageLog log;
    int ran = 0;
    int finished = 0;
    int result = 0;
    bool sameThread = false;
    std::thread owner([&] {
        PromiseKeeper keeper(0);
        QObject::connect(
            &keeper, &PromiseKeeper::taskFinished, &keeper, [&finished] { ++finished; });
        auto p = keeper.submit([] { return 1; });
        ran = keeper.processPending();
        sameThread = keeper.thread() == QThread::currentThread();
        result = p.result(0);
    });
    owner.join();
    QCOMPARE(ran, 1);
    QCOMPARE(finished, 1);
    QCOMPARE(result, 1);
    QVERIFY(sameThread);
    // No warning: without an event loop the keeper starts no timer.
    QCOMPARE(log.warnings(), QStringList());
}

QTEST_GUILESS_MAIN(tst_ManualMode)
#include "tst_manualmode.moc"
