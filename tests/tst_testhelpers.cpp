// PromiseKeeperTest: drain(), PromiseSpy and the PK_ macros, as a user's test uses them. The
// macros' failures are checked in a child process (this program run with PK_INNER_TEST set),
// whose QTest output must name the failing expression and line.
#include "pktest.h"

#include <pk/errors.h>
#include <pk/promisekeeper.h>
#include <pk/promisewatcher.h>

#include <QtCore/QProcess>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <PromiseKeeperTest>
#include <stdexcept>

struct ParseError : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

class tst_TestHelpers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void drainRunsEverything_data();
    void drainRunsEverything();
    void drainTimesOutAndSaysWhat();
    void drainOfNullKeeper();
    void spyRecordsAPromise();
    void spyRecordsAKeeper();
    void macrosPass();
    void manualClockTimesTasks();
    void manualClockFiresTimeouts();
    void manualClocksNest();
    void macrosReportFailures_data();
    void macrosReportFailures();
};

void tst_TestHelpers::drainRunsEverything_data()
{
    QTest::addColumn<int>("threads");
    QTest::newRow("manual mode") << 0;
    QTest::newRow("2 threads") << 2;
}

// A task, a continuation on this thread's context that submits another task, and a watcher:
// after drain() every promise is final, every signal was emitted and the watcher reported.
void tst_TestHelpers::drainRunsEverything()
{
    QFETCH(int, threads);
    pk::PromiseKeeper keeper(threads);
    QSignalSpy finished(&keeper, &pk::PromiseKeeper::taskFinished);
    pk::PromiseWatcher watcher;
    QSignalSpy allFinished(&watcher, &pk::PromiseWatcher::allFinished);
    pk::Promise<int> second;
    pk::Promise<int> first = keeper.submit([] { return 20; });
    pk::Promise<void> onContext = first.then(this, [&](int v) {
        second = keeper.submit([v] { return v + 1; });
        watcher.addPromise(second);
    });
    QVERIFY(pk::test::drain(&keeper));
    QVERIFY(onContext.isReady());
    QVERIFY(second.isValid());
    QCOMPARE(second.state(), pk::TaskState::Succeeded);
    QCOMPARE(second.result(), 21);
    QCOMPARE(finished.count(), 3);
    QCOMPARE(allFinished.count(), 1);
    QCOMPARE(keeper.deliveredCounts().live(), qint64(0));
}

void tst_TestHelpers::drainTimesOutAndSaysWhat()
{
    pktest::Gate gate;
    pk::PromiseKeeper keeper(1);
    keeper.setObjectName(QStringLiteral("blocked"));
    const auto unblock = gate.openOnExit();
    pk::Promise<bool> blocked = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(QStringLiteral(
            "drain\\(\\): still pending after 50 ms on keeper 'blocked': 0 waiting, 0 queued, "
            "1 running")));
    QVERIFY(!pk::test::drain(&keeper, 50));
    gate.open();
    QVERIFY(pk::test::drain(&keeper));
    QVERIFY(blocked.result());
}

void tst_TestHelpers::drainOfNullKeeper()
{
    QTest::ignoreMessage(QtWarningMsg, "pk::test::drain(): the keeper is null");
    QVERIFY(!pk::test::drain(nullptr));
}

void tst_TestHelpers::spyRecordsAPromise()
{
    pk::PromiseKeeper keeper(0);
    pk::Promise<int> ok = keeper.submit([] { return 1; });
    pk::Promise<int> bad = keeper.submit([]() -> int { throw ParseError("bad input"); });
    pk::PromiseSpy okSpy(&keeper, ok);
    pk::PromiseSpy badSpy(&keeper, bad);
    QSignalSpy recorded(&okSpy, &pk::PromiseSpy::stateRecorded);
    QCOMPARE(okSpy.states(), QList<pk::TaskState> { pk::TaskState::Queued });
    QVERIFY(!okSpy.isFinal());
    QVERIFY(okSpy.wait());
    QVERIFY(badSpy.wait());
    using S = pk::TaskState;
    QCOMPARE(okSpy.states(), (QList<S> { S::Queued, S::Running, S::Succeeded }));
    QCOMPARE(badSpy.states(), (QList<S> { S::Queued, S::Running, S::Failed }));
    QCOMPARE(recorded.count(), 2); // Running and Succeeded, after the spy was made
    QCOMPARE(okSpy.taskIds(), QList<quint64> { ok.id() });
}

void tst_TestHelpers::spyRecordsAKeeper()
{
    pk::PromiseKeeper keeper(2);
    pk::PromiseSpy spy(&keeper);
    QVERIFY(!spy.isFinal()); // nothing recorded yet
    pk::Promise<int> a = keeper.submit([] { return 1; });
    pk::Promise<int> b = a.then([](int v) { return v + 1; });
    QVERIFY(spy.wait());
    QVERIFY(pk::test::drain(&keeper));
    using S = pk::TaskState;
    QCOMPARE(spy.taskIds(), (QList<quint64> { a.id(), b.id() }));
    QCOMPARE(spy.states(a.id()), (QList<S> { S::Queued, S::Running, S::Succeeded }));
    QCOMPARE(spy.states(b.id()), (QList<S> { S::Waiting, S::Queued, S::Running, S::Succeeded }));
    QCOMPARE(spy.states().size(), 7);
}

void tst_TestHelpers::macrosPass()
{
    pk::PromiseKeeper keeper(0);
    pk::Promise<QString> text = keeper.submit([] { return QStringLiteral("parsed"); });
    pk::Promise<int> bad = keeper.submit([]() -> int { throw ParseError("bad input"); });
    pk::Promise<int> later = keeper.submit([] { return 2; });
    PK_COMPARE_RESULT(text, QStringLiteral("parsed"));
    PK_VERIFY_FAILED_WITH(bad, ParseError);
    PK_VERIFY_FAILED_WITH(bad, std::runtime_error); // a base class of what it threw
    PK_TRY_COMPARE_STATE(later, pk::TaskState::Succeeded, 1000);
}

// Timestamps come from the manual clock: wait and run times are what the test advanced.
void tst_TestHelpers::manualClockTimesTasks()
{
    using namespace std::chrono_literals;
    pk::test::ManualClock clock;
    const qint64 start = clock.nowNsecs();
    QCOMPARE(pk::TaskInfo::monotonicNowNsecs(), start); // it stands still
    pk::PromiseKeeper keeper(0);
    pk::Promise<int> task = keeper.submit([&clock] {
        clock.advance(250ms); // "runs" for a quarter of a second
        return 1;
    });
    clock.advance(40ms); // queued for 40 ms
    QVERIFY(pk::test::drain(&keeper));
    PK_COMPARE_RESULT(task, 1);
    const pk::TaskInfo info = task.info();
    QCOMPARE(info.queuedAtNsecs(), start);
    QCOMPARE(info.waitNsecs(), qint64(40'000'000));
    QCOMPARE(info.runNsecs(), qint64(250'000'000));
    QCOMPARE(clock.nowNsecs(), start + 290'000'000);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("is negative")));
    clock.advance(-5);
    QCOMPARE(clock.nowNsecs(), start + 290'000'000);
}

// A time-out of a minute is tested in no time: it fires when the clock passes it, not before.
void tst_TestHelpers::manualClockFiresTimeouts()
{
    using namespace std::chrono_literals;
    pk::test::ManualClock clock;
    pk::PromiseKeeper keeper(2);
    pk::TaskOptions minute;
    minute.timeout = 60s;
    pk::Promise<int> slow = keeper.submit(minute,
        [](pk::TaskContext &ctx) { return pktest::awaitCancellationRequest(ctx) ? 1 : -1; });
    PK_TRY_COMPARE_STATE(slow, pk::TaskState::Running, pktest::kTimeoutMs);
    clock.advance(59s);
    // A probe whose deadline comes first: once it timed out, the time-out thread has looked at
    // the clock past 59 s, and left the slow task alone.
    pk::TaskOptions half;
    half.timeout = 500ms;
    pk::Promise<int> probe = keeper.submit(
        half, [](pk::TaskContext &ctx) { return pktest::awaitCancellationRequest(ctx) ? 1 : -1; });
    PK_TRY_COMPARE_STATE(probe, pk::TaskState::Running, pktest::kTimeoutMs);
    clock.advance(500ms);
    PK_VERIFY_FAILED_WITH(probe, pk::TimeoutError);
    QCOMPARE(slow.state(), pk::TaskState::Running);
    QVERIFY(!slow.isCancellationRequested());
    clock.advance(500ms);
    PK_VERIFY_FAILED_WITH(slow, pk::TimeoutError);
    QCOMPARE(slow.info().runNsecs(), qint64(60'000'000'000));
    QCOMPARE(probe.info().runNsecs(), qint64(500'000'000));
    QCOMPARE(keeper.counts().timedOut, 2);
}

void tst_TestHelpers::manualClocksNest()
{
    qint64 frozen = 0;
    {
        pk::test::ManualClock outer;
        {
            pk::test::ManualClock inner;
            inner.advance(1000);
            QCOMPARE(outer.nowNsecs(), inner.nowNsecs());
        }
        // Still manual: the outer one is alive.
        frozen = outer.nowNsecs();
        QCOMPARE(pk::TaskInfo::monotonicNowNsecs(), frozen);
    }
    // The real clock again: it moves on by itself.
    const qint64 real = pk::TaskInfo::monotonicNowNsecs();
    QTRY_VERIFY(pk::TaskInfo::monotonicNowNsecs() > real);
}

void tst_TestHelpers::macrosReportFailures_data()
{
    QTest::addColumn<QString>("function");
    QTest::addColumn<QString>("expected");
    QTest::newRow("wrong result")
        << "wrongResult"
        << "Compared values are not the same Actual (promise.result()): 1 "
           "Expected (2) : 2";
    QTest::newRow("failed, not succeeded")
        << "failedNotSucceeded"
        << "'promise' is Failed (ParseError: bad input), not Succeeded";
    QTest::newRow("failed with another type")
        << "failedWithAnotherType"
        << "'promise' is Failed (ParseError: bad input), not with "
           "pk::TimeoutError";
    QTest::newRow("succeeded, not failed") << "succeededNotFailed"
                                           << "'promise' is Succeeded, not Failed with ParseError";
    QTest::newRow("never final") << "neverFinal"
                                 << "'promise' is Running after 5000 ms, not final";
    QTest::newRow("state not reached")
        << "stateNotReached"
        << "Compared values are not the same Actual (promise.state()) : "
           "Running Expected (pk::TaskState::Failed): Failed";
}

// Each macro failing in a test of the child: the failure names what failed, and where.
void tst_TestHelpers::macrosReportFailures()
{
    QFETCH(QString, function);
    QFETCH(QString, expected);
    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("PK_INNER_TEST"), QStringLiteral("1"));
    child.setProcessEnvironment(env);
    child.setProcessChannelMode(QProcess::MergedChannels);
    child.start(QCoreApplication::applicationFilePath(), { function });
    QVERIFY(child.waitForFinished(4 * pktest::kTimeoutMs));
    const QString output = QString::fromUtf8(child.readAll());
    QVERIFY2(child.exitCode() == 1, qPrintable(output));
    QVERIFY2(output.contains(QStringLiteral("FAIL!  : tst_Inner::%1()").arg(function)),
        qPrintable(output));
    // Compared with its runs of spaces and line breaks as one space: QTest aligns the columns.
    QVERIFY2(output.simplified().contains(expected.simplified()), qPrintable(output));
    QVERIFY2(output.contains(QStringLiteral("tst_testhelpers.cpp(")), qPrintable(output));
}

// The child's tests: each fails on purpose, once.
class tst_Inner : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void wrongResult()
    {
        pk::PromiseKeeper keeper(0);
        pk::Promise<int> promise = keeper.submit([] { return 1; });
        PK_COMPARE_RESULT(promise, 2);
    }
    void failedNotSucceeded()
    {
        pk::PromiseKeeper keeper(0);
        pk::Promise<int> promise = keeper.submit([]() -> int { throw ParseError("bad input"); });
        PK_COMPARE_RESULT(promise, 2);
    }
    void failedWithAnotherType()
    {
        pk::PromiseKeeper keeper(0);
        pk::Promise<int> promise = keeper.submit([]() -> int { throw ParseError("bad input"); });
        PK_VERIFY_FAILED_WITH(promise, pk::TimeoutError);
    }
    void succeededNotFailed()
    {
        pk::PromiseKeeper keeper(0);
        pk::Promise<int> promise = keeper.submit([] { return 1; });
        PK_VERIFY_FAILED_WITH(promise, ParseError);
    }
    void neverFinal()
    {
        pktest::Gate gate;
        pk::PromiseKeeper keeper(1);
        const auto unblock = gate.openOnExit();
        pk::Promise<bool> promise = keeper.submit([gate] { return gate.pass(); });
        QVERIFY(gate.waitArrived());
        PK_VERIFY_FAILED_WITH(promise, ParseError);
    }
    void stateNotReached()
    {
        pktest::Gate gate;
        pk::PromiseKeeper keeper(1);
        const auto unblock = gate.openOnExit();
        pk::Promise<bool> promise = keeper.submit([gate] { return gate.pass(); });
        QVERIFY(gate.waitArrived());
        PK_TRY_COMPARE_STATE(promise, pk::TaskState::Failed, 50);
    }
};

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (qEnvironmentVariableIsSet("PK_INNER_TEST")) {
        tst_Inner inner;
        return QTest::qExec(&inner, argc, argv) == 0 ? 0 : 1;
    }
    tst_TestHelpers helpers;
    return QTest::qExec(&helpers, argc, argv);
}

#include "tst_testhelpers.moc"
