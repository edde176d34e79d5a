// pk::PromiseKeeper with worker threads: order, states, counts, signals, cancelling, shutting
// down, destruction, thread counts and concurrent submission.
#include "pktest.h"

#include <pk/errors.h>
#include <pk/promisekeeper.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QMetaObject>
#include <QtCore/QMetaProperty>
#include <QtCore/QSet>
#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

using pk::PromiseKeeper;
using pk::TaskState;

namespace {

// One signal the keeper emitted, as a slot connected to it saw it.
struct Emission
{
    QString signal;
    pk::TaskInfo info;
    QThread *thread = nullptr;
};

// Connects to every signal of \a keeper and records the emissions in order.
class SignalLog
{
public:
    explicit SignalLog(PromiseKeeper *keeper)
    {
        const auto add = [this, keeper](auto signal, const char *name) {
            QObject::connect(keeper, signal, keeper, [this, name](const pk::TaskInfo &info) {
                m_emissions.append({ QString::fromLatin1(name), info, QThread::currentThread() });
            });
        };
        add(&PromiseKeeper::taskQueued, "queued");
        add(&PromiseKeeper::taskStarted, "started");
        add(&PromiseKeeper::taskSucceeded, "succeeded");
        add(&PromiseKeeper::taskFailed, "failed");
        add(&PromiseKeeper::taskCancelled, "cancelled");
        add(&PromiseKeeper::taskFinished, "finished");
        QObject::connect(keeper, &PromiseKeeper::idle, keeper, [this] {
            m_emissions.append({ QStringLiteral("idle"), {}, QThread::currentThread() });
        });
    }

    const QList<Emission> &emissions() const { return m_emissions; }
    QList<Emission> of(quint64 id) const
    {
        QList<Emission> list;
        for (const Emission &e : m_emissions) {
            if (e.info.id() == id)
                list.append(e);
        }
        return list;
    }
    QStringList signalsOf(quint64 id) const
    {
        QStringList names;
        for (const Emission &e : of(id))
            names.append(e.signal);
        return names;
    }

private:
    QList<Emission> m_emissions;
};

enum class Outcome { Succeed, Fail, Cancel };

} // namespace

Q_DECLARE_METATYPE(Outcome)

namespace {
// Every kind of submission a keeper takes, for the tests of what it refuses.
enum class Submission { Submit, Chained, Then, ThenOnContext, OnFailed, OnCancelled, Finally, Map };

const char *const kSubmissionNames[]
    = { "submit", "chained", "then", "then(context)", "onFailed", "onCancelled", "finally", "map" };

/*!
    Submits \a kind to \a keeper (a continuation or a chained task of \a input, which is one of
    its promises) with the callable \a fn, which may be empty.
*/
template<typename Fn>
pk::PromiseBase submitKind(
    Submission kind, PromiseKeeper &keeper, QObject *context, const pk::Promise<int> &input, Fn fn)
{
    const std::function<int(int)> unary
        = fn ? [fn](int) { return fn(); } : std::function<int(int)>();
    switch (kind) {
    case Submission::Submit:
        return keeper.submit(fn);
    case Submission::Chained:
        return keeper.submit(unary, input);
    case Submission::Then:
        return input.then(unary);
    case Submission::ThenOnContext:
        return input.then(context, unary);
    case Submission::OnFailed:
        return input.onFailed(context, fn);
    case Submission::OnCancelled:
        return input.onCancelled(context, fn);
    case Submission::Finally:
        return input.finally(context, std::function<void()>(fn ? [] {} : std::function<void()>()));
    case Submission::Map:
        return keeper.map(unary, QList<int> { 1, 2, 3 });
    }
    return {};
}

template<typename E>
bool failedWith(const pk::PromiseBase &p)
{
    if (p.state() != TaskState::Failed)
        return false;
    try {
        std::rethrow_exception(p.exception());
    } catch (const E &e) {
        return typeid(e) == typeid(E);
    } catch (...) { }
    return false;
}
} // namespace
Q_DECLARE_METATYPE(Submission)

class tst_Keeper : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Thread count
    void defaultThreadCount();
    void threadCountProperty();
    void negativeThreadCountWarns_data();
    void negativeThreadCountWarns();

    // Order
    void fifoWithOneThread();
    void priorityOrder_data();
    void priorityOrder();

    // States, counts and signals
    void queuedAndRunningAreTruthful();
    void signalsInStateOrder_data();
    void signalsInStateOrder();
    void countsChangedAndIdle();
    void runningIdleAndWaitForAll();
    void cancelAll();
    void cancelById();

    // Shutting down and destruction
    void shutdownDrain();
    void shutdownCancelPending();
    void submitAfterShutdown_data();
    void submitAfterShutdown();
    void destroyCancelsQueuedAndWaitsForRunning();
    void everySubmissionRefusedAfterShutdown_data();
    void everySubmissionRefusedAfterShutdown();
    void everyEmptyCallableFailsAtOnce_data();
    void everyEmptyCallableFailsAtOnce();
    void refusalWarningsAreRateLimited();
    void drainRunsWhatWasSubmitted_data();
    void drainRunsWhatWasSubmitted();

    // Robustness and threads
    void exceptionsNeverEscapeWorkers();
    void twoThreadsRunConcurrently();
    void manualToThreaded();
    void threadCountZeroAndBack();
    void raisingThreadCountStartsQueued();
    void raisingThreadCountFromIdle();
    void loweringThreadCountWithIdleWorkers();
    void loweringThreadCountWhileRunning();
    void hugeThreadCountStartsWorkersAsNeeded();
    void concurrentSubmission();
};

// ---- Thread count -----------------------------------------------------------------------------

void tst_Keeper::defaultThreadCount()
{
    PromiseKeeper keeper;
    QCOMPARE(keeper.threadCount(), 1);
    QCOMPARE(keeper.property("threadCount").toInt(), 1);
    QVERIFY(!keeper.isShutdown());
    QCOMPARE(keeper.historySize(), 256);
    QVERIFY(keeper.isIdle());
    QCOMPARE(keeper.counts(), pk::TaskCounts());
}

void tst_Keeper::threadCountProperty()
{
    PromiseKeeper keeper;
    QSignalSpy spy(&keeper, &PromiseKeeper::threadCountChanged);
    QVERIFY(spy.isValid());

    QVERIFY(keeper.setProperty("threadCount", 3));
    QCOMPARE(keeper.threadCount(), 3);
    QCOMPARE(keeper.property("threadCount").toInt(), 3);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toInt(), 3);

    keeper.setThreadCount(3); // unchanged: no signal
    QCOMPARE(spy.count(), 1);

    keeper.setThreadCount(2);
    QCOMPARE(spy.count(), 2);
    QCOMPARE(spy.at(1).at(0).toInt(), 2);

    // The property is usable through the meta-object, as QML and the monitor use it.
    const QMetaObject *mo = keeper.metaObject();
    const QMetaProperty prop = mo->property(mo->indexOfProperty("threadCount"));
    QVERIFY(prop.isValid());
    QVERIFY(prop.hasNotifySignal());
    QCOMPARE(prop.notifySignal(), QMetaMethod::fromSignal(&PromiseKeeper::threadCountChanged));
}

void tst_Keeper::negativeThreadCountWarns_data()
{
    QTest::addColumn<bool>("inConstructor");
    QTest::newRow("constructor") << true;
    QTest::newRow("setThreadCount") << false;
}

void tst_Keeper::negativeThreadCountWarns()
{
    QFETCH(bool, inConstructor);
    pktest::MessageLog log;
    const QRegularExpression warning(QStringLiteral("thread count -5 is negative"));
    QTest::ignoreMessage(QtWarningMsg, warning);
    std::unique_ptr<PromiseKeeper> keeper;
    if (inConstructor) {
        keeper = std::make_unique<PromiseKeeper>(-5);
    } else {
        keeper = std::make_unique<PromiseKeeper>(2);
        keeper->setThreadCount(-5);
    }
    // Not manual mode (only 0 is): the default in the constructor, else the count it had.
    QCOMPARE(keeper->threadCount(), inConstructor ? 1 : 2);
    QCOMPARE(log.warningCategories(warning), QStringList { QStringLiteral("promisekeeper") });

    // The workers run it, without processPending().
    auto p = keeper->submit([] { return 4; });
    QVERIFY(p.wait(pktest::kTimeoutMs));
    QCOMPARE(p.result(), 4);
}

// ---- Order ------------------------------------------------------------------------------------

void tst_Keeper::fifoWithOneThread()
{
    pktest::Recorder recorder;
    PromiseKeeper keeper(1);
    QList<int> expected;
    for (int i = 0; i < 200; ++i) {
        keeper.submit([&recorder, i] { recorder.record(i); });
        expected.append(i);
    }
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(recorder.values(), expected);
}

void tst_Keeper::priorityOrder_data()
{
    // Priorities in submission order, and the submission indices in the order they must start.
    QTest::addColumn<QList<int>>("priorities");
    QTest::addColumn<QList<int>>("expectedOrder");
    QTest::newRow("equal") << QList<int> { 0, 0, 0, 0 } << QList<int> { 0, 1, 2, 3 };
    QTest::newRow("ascending") << QList<int> { 1, 2, 3 } << QList<int> { 2, 1, 0 };
    QTest::newRow("descending") << QList<int> { 3, 2, 1 } << QList<int> { 0, 1, 2 };
    QTest::newRow("mixed") << QList<int> { 0, 5, -1, 5, 3 } << QList<int> { 1, 3, 4, 0, 2 };
    QTest::newRow("negative") << QList<int> { -3, -1, -2 } << QList<int> { 1, 2, 0 };
    QTest::newRow("ties keep submission order")
        << QList<int> { 1, 2, 1, 2, 1, 2 } << QList<int> { 1, 3, 5, 0, 2, 4 };
    QTest::newRow("extremes") << QList<int> { 0, std::numeric_limits<int>::min(),
        std::numeric_limits<int>::max() }
                              << QList<int> { 2, 0, 1 };
    QTest::newRow("many distinct priorities") << QList<int> { 5, 11, 0, 7, 3, 9, 1, 10, 2, 8, 4,
        6 } << QList<int> { 1, 7, 5, 9, 3, 11, 0, 10, 4, 8, 6, 2 };
}

void tst_Keeper::priorityOrder()
{
    QFETCH(QList<int>, priorities);
    QFETCH(QList<int>, expectedOrder);

    PromiseKeeper keeper(1);
    // Two rounds on one keeper: the second one finds the queue as the first one left it.
    for (int round = 0; round < 2; ++round) {
        pktest::Gate gate;
        const auto unblock = gate.openOnExit();
        // The blocker has the lowest priority: a running task is never overtaken.
        auto blocker = keeper.submit(pk::TaskOptions { {}, std::numeric_limits<int>::min() },
            [gate] { return gate.pass(); });
        QVERIFY(gate.waitArrived());

        pktest::Recorder recorder;
        for (int i = 0; i < priorities.size(); ++i) {
            keeper.submit(
                pk::TaskOptions { {}, priorities.at(i) }, [&recorder, i] { recorder.record(i); });
        }
        QCOMPARE(keeper.queuedCount(), priorities.size());

        gate.open();
        QVERIFY(blocker.result());
        QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
        QCOMPARE(recorder.values(), expectedOrder);
    }
}

// ---- States, counts and signals ---------------------------------------------------------------

void tst_Keeper::queuedAndRunningAreTruthful()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    QSignalSpy queuedSpy(&keeper, &PromiseKeeper::taskQueued);
    QSignalSpy startedSpy(&keeper, &PromiseKeeper::taskStarted);
    QVERIFY(queuedSpy.isValid());
    QVERIFY(startedSpy.isValid());

    // Whenever taskStarted arrives, the task it names has really started.
    QList<quint64> idsStartedAtSignal;
    QHash<quint64, pk::PromiseBase> promises;
    connect(&keeper, &PromiseKeeper::taskStarted, this, [&](const pk::TaskInfo &info) {
        const pk::PromiseBase p = promises.value(info.id());
        QVERIFY(p.state() >= TaskState::Running);
        idsStartedAtSignal.append(info.id());
    });

    auto running = keeper.submit(
        pk::TaskOptions { QStringLiteral("running"), 0 }, [gate] { return gate.pass(); });
    promises.insert(running.id(), running);
    QVERIFY(gate.waitArrived());
    auto queued = keeper.submit(pk::TaskOptions { QStringLiteral("queued"), 0 }, [] { return 2; });
    promises.insert(queued.id(), queued);

    QCOMPARE(running.state(), TaskState::Running);
    QCOMPARE(queued.state(), TaskState::Queued);
    QCOMPARE(keeper.queuedCount(), 1);
    QCOMPARE(keeper.runningCount(), 1);
    pk::TaskCounts expected;
    expected.queued = 1;
    expected.running = 1;
    QCOMPARE(keeper.counts(), expected);
    QCOMPARE(keeper.counts().live(), 2);
    QVERIFY(keeper.isRunning());

    const QList<pk::TaskInfo> live = keeper.tasks();
    QCOMPARE(live.size(), 2);
    QCOMPARE(live.at(0).id(), running.id());
    QCOMPARE(live.at(0).state(), TaskState::Running);
    QCOMPARE(live.at(0).title(), QStringLiteral("running"));
    QCOMPARE(live.at(0).workerIndex(), 0);
    QCOMPARE(live.at(1).id(), queued.id());
    QCOMPARE(live.at(1).state(), TaskState::Queued);
    QCOMPARE(live.at(1).workerIndex(), -1);

    // Both are announced as queued, only the first as started, as long as it blocks.
    QTRY_COMPARE(queuedSpy.count(), 2);
    QTRY_COMPARE(startedSpy.count(), 1);
    QCOMPARE(startedSpy.at(0).at(0).value<pk::TaskInfo>().id(), running.id());
    QCoreApplication::processEvents();
    QCOMPARE(startedSpy.count(), 1);
    QCOMPARE(queued.state(), TaskState::Queued);

    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QTRY_COMPARE(startedSpy.count(), 2);
    QCOMPARE(startedSpy.at(1).at(0).value<pk::TaskInfo>().id(), queued.id());
    QCOMPARE(idsStartedAtSignal, (QList<quint64> { running.id(), queued.id() }));
    QVERIFY(keeper.tasks().isEmpty());
    expected = {};
    expected.succeeded = 2;
    QCOMPARE(keeper.counts(), expected);
}

void tst_Keeper::signalsInStateOrder_data()
{
    QTest::addColumn<Outcome>("outcome");
    QTest::addColumn<QStringList>("expectedSignals");
    QTest::addColumn<TaskState>("finalState");
    QTest::addColumn<QString>("expectedError");
    QTest::newRow("succeeded") << Outcome::Succeed
                               << QStringList { QStringLiteral("queued"), QStringLiteral("started"),
                                      QStringLiteral("succeeded"), QStringLiteral("finished") }
                               << TaskState::Succeeded << QString();
    QTest::newRow("failed") << Outcome::Fail
                            << QStringList { QStringLiteral("queued"), QStringLiteral("started"),
                                   QStringLiteral("failed"), QStringLiteral("finished") }
                            << TaskState::Failed << QStringLiteral("boom");
    QTest::newRow("cancelled") << Outcome::Cancel
                               << QStringList { QStringLiteral("queued"),
                                      QStringLiteral("cancelled"), QStringLiteral("finished") }
                               << TaskState::Cancelled << QString();
}

void tst_Keeper::signalsInStateOrder()
{
    QFETCH(Outcome, outcome);
    QFETCH(QStringList, expectedSignals);
    QFETCH(TaskState, finalState);
    QFETCH(QString, expectedError);

    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    SignalLog log(&keeper);
    QSignalSpy idleSpy(&keeper, &PromiseKeeper::idle);
    QVERIFY(idleSpy.isValid());

    auto blocker = keeper.submit(
        pk::TaskOptions { QStringLiteral("blocker"), 0 }, [gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    auto task = keeper.submit(pk::TaskOptions { QStringLiteral("task"), 4 }, [outcome]() -> int {
        if (outcome == Outcome::Fail)
            throw std::runtime_error("boom");
        return 1;
    });
    if (outcome == Outcome::Cancel)
        QVERIFY(task.cancel());
    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));

    QVERIFY(idleSpy.wait(pktest::kTimeoutMs));
    QCOMPARE(log.signalsOf(task.id()), expectedSignals);
    QCOMPARE(log.signalsOf(blocker.id()),
        (QStringList { QStringLiteral("queued"), QStringLiteral("started"),
            QStringLiteral("succeeded"), QStringLiteral("finished") }));

    for (const Emission &e : log.of(task.id())) {
        QCOMPARE(e.thread, QThread::currentThread()); // the keeper's thread
        QCOMPARE(e.info.id(), task.id());
        QCOMPARE(e.info.title(), QStringLiteral("task"));
        QCOMPARE(e.info.priority(), 4);
        if (e.signal == QLatin1String("queued")) {
            QCOMPARE(e.info.state(), TaskState::Queued);
            QVERIFY(!e.info.startedAt().isValid());
            QCOMPARE(e.info.workerIndex(), -1);
        } else if (e.signal == QLatin1String("started")) {
            QCOMPARE(e.info.state(), TaskState::Running);
            QVERIFY(e.info.startedAt().isValid());
            QVERIFY(!e.info.finishedAt().isValid());
            QCOMPARE(e.info.workerIndex(), 0);
        } else {
            QCOMPARE(e.info.state(), finalState);
            QCOMPARE(e.info.errorString(), expectedError);
            QVERIFY(e.info.finishedAt().isValid());
        }
    }
    // The final info is what the promise reports.
    const Emission last = log.of(task.id()).last();
    QCOMPARE(last.info, task.info());

    // idle comes once, after the last task finished.
    QCOMPARE(idleSpy.count(), 1);
    QCOMPARE(log.emissions().last().signal, QStringLiteral("idle"));
    QCOMPARE(log.emissions().last().thread, QThread::currentThread());
}

void tst_Keeper::countsChangedAndIdle()
{
    PromiseKeeper keeper(2);
    QSignalSpy countsSpy(&keeper, &PromiseKeeper::countsChanged);
    QSignalSpy idleSpy(&keeper, &PromiseKeeper::idle);
    QSignalSpy finishedSpy(&keeper, &PromiseKeeper::taskFinished);
    QVERIFY(countsSpy.isValid());
    QVERIFY(idleSpy.isValid());
    QVERIFY(finishedSpy.isValid());

    // When countsChanged arrives, the keeper's counts have caught up with the signals before it.
    bool idleWhenIdleSignalled = false;
    connect(&keeper, &PromiseKeeper::idle, this,
        [&] { idleWhenIdleSignalled = keeper.isIdle() && finishedSpy.count() == 10; });

    for (int i = 0; i < 10; ++i)
        keeper.submit([i] { return i; });
    QVERIFY(idleSpy.wait(pktest::kTimeoutMs));
    QCOMPARE(finishedSpy.count(), 10);
    QVERIFY(countsSpy.count() >= 1);
    QVERIFY(idleWhenIdleSignalled);
    QCOMPARE(keeper.succeededCount(), 10);
    QCOMPARE(keeper.property("running").toBool(), false);
}

void tst_Keeper::runningIdleAndWaitForAll()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    QVERIFY(!keeper.isRunning());
    QVERIFY(keeper.isIdle());
    QVERIFY(keeper.waitForAll(0));

    auto p = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(keeper.isRunning());
    QVERIFY(!keeper.isIdle());
    QVERIFY(gate.waitArrived());
    QVERIFY(!keeper.waitForAll(0));
    QVERIFY(!keeper.waitForAll(20));
    QVERIFY(!keeper.waitForAll(std::chrono::milliseconds(20)));
    QVERIFY(!keeper.waitForAll(QDeadlineTimer(20)));
    QVERIFY(keeper.isRunning());

    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QVERIFY(p.result());
    QVERIFY(keeper.isIdle());
    QVERIFY(!keeper.isRunning());
}

void tst_Keeper::cancelById()
{
    std::atomic<int> ran { 0 };
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto running = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    auto queued = keeper.submit([&ran] { ++ran; });
    auto other = keeper.submit([&ran] { ++ran; });

    QVERIFY(!keeper.cancel(running.id())); // running: never interrupted
    QVERIFY(!keeper.cancel(0)); // unknown
    QVERIFY(keeper.cancel(queued.id()));
    QCOMPARE(queued.state(), TaskState::Cancelled);
    QVERIFY(!keeper.cancel(queued.id())); // final already
    QCOMPARE(other.state(), TaskState::Queued);

    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(ran.load(), 1);
    QCOMPARE(keeper.cancelledCount(), 1);
}

void tst_Keeper::cancelAll()
{
    std::atomic<int> ran { 0 };
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    QSignalSpy cancelledSpy(&keeper, &PromiseKeeper::taskCancelled);
    QVERIFY(cancelledSpy.isValid());

    auto running = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    QList<pk::Promise<void>> queued;
    for (int i = 0; i < 5; ++i)
        queued.append(keeper.submit([&ran] { ++ran; }));
    QVERIFY(queued[2].cancel()); // one cancelled already: not counted again

    // Four queued tasks cancelled, and the running one asked to stop (it ignores that).
    QCOMPARE(keeper.cancelAll(), 5);
    for (const auto &p : queued)
        QCOMPARE(p.state(), TaskState::Cancelled);
    QCOMPARE(running.state(), TaskState::Running);
    QVERIFY(running.isCancellationRequested());
    QCOMPARE(keeper.cancelledCount(), 5);
    QCOMPARE(keeper.queuedCount(), 0);
    QCOMPARE(keeper.cancelAll(), 0); // asked once only

    gate.open();
    QVERIFY(running.result());
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(ran.load(), 0);
    QCOMPARE(keeper.succeededCount(), 1);
    QTRY_COMPARE(cancelledSpy.count(), 5);

    // The keeper goes on working afterwards.
    QCOMPARE(keeper.submit([] { return 3; }).result(), 3);
}

// ---- Shutting down and destruction ------------------------------------------------------------

void tst_Keeper::shutdownDrain()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto running = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    auto queued1 = keeper.submit([] { return 1; });
    auto queued2 = keeper.submit([] { return 2; });

    QVERIFY(!keeper.shutdown(pk::ShutdownMode::Drain, 20)); // still blocked
    QVERIFY(keeper.isShutdown());
    QCOMPARE(queued1.state(), TaskState::Queued); // Drain cancels nothing
    QCOMPARE(queued2.state(), TaskState::Queued);

    gate.open();
    QVERIFY(keeper.shutdown(pk::ShutdownMode::Drain, pktest::kTimeoutMs));
    QVERIFY(running.result());
    QCOMPARE(queued1.result(), 1);
    QCOMPARE(queued2.result(), 2);
    QCOMPARE(keeper.succeededCount(), 3);
    QCOMPARE(keeper.cancelledCount(), 0);
    QVERIFY(keeper.shutdown()); // idempotent
}

void tst_Keeper::shutdownCancelPending()
{
    std::atomic<int> ran { 0 };
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto running = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    auto queued1 = keeper.submit([&ran] { ++ran; });
    auto queued2 = keeper.submit([&ran] { ++ran; });

    QVERIFY(!keeper.shutdown(pk::ShutdownMode::CancelPending, 20)); // the running one blocks
    QVERIFY(keeper.isShutdown());
    QCOMPARE(queued1.state(), TaskState::Cancelled);
    QCOMPARE(queued2.state(), TaskState::Cancelled);
    QCOMPARE(running.state(), TaskState::Running);

    gate.open();
    QVERIFY(keeper.shutdown(pk::ShutdownMode::CancelPending, pktest::kTimeoutMs));
    QCOMPARE(running.state(), TaskState::Succeeded);
    QVERIFY(running.result());
    QCOMPARE(ran.load(), 0);
    QCOMPARE(keeper.cancelledCount(), 2);
    QCOMPARE(keeper.succeededCount(), 1);
}

void tst_Keeper::submitAfterShutdown_data()
{
    QTest::addColumn<pk::ShutdownMode>("mode");
    QTest::newRow("Drain") << pk::ShutdownMode::Drain;
    QTest::newRow("CancelPending") << pk::ShutdownMode::CancelPending;
}

void tst_Keeper::submitAfterShutdown()
{
    QFETCH(pk::ShutdownMode, mode);
    std::atomic<bool> ran { false };
    PromiseKeeper keeper(1);
    QSignalSpy failedSpy(&keeper, &PromiseKeeper::taskFailed);
    QVERIFY(failedSpy.isValid());
    QVERIFY(keeper.shutdown(mode, pktest::kTimeoutMs));
    QVERIFY(keeper.isShutdown());
    QVERIFY(keeper.property("shutDown").toBool());

    pktest::MessageLog log;
    const QRegularExpression warning(
        QStringLiteral("submit\\(\\) after shutdown\\(\\).*\"late\".*ShutdownError"));
    QTest::ignoreMessage(QtWarningMsg, warning);
    auto p = keeper.submit(pk::TaskOptions { QStringLiteral("late"), 0 }, [&ran] {
        ran = true;
        return 1;
    });
    QCOMPARE(p.state(), TaskState::Failed); // at once
    QVERIFY(p.isValid());
    QVERIFY(isFinal(p.state()));
    try {
        (void)p.result();
        QFAIL("result() must throw pk::ShutdownError");
    } catch (const pk::ShutdownError &) { }
    QCOMPARE(p.errorString(), QStringLiteral("the keeper is shut down"));
    QCOMPARE(log.warningCategories(warning), QStringList { QStringLiteral("promisekeeper") });
    QCOMPARE(keeper.failedCount(), 1);
    QTRY_COMPARE(failedSpy.count(), 1);
    QCOMPARE(failedSpy.at(0).at(0).value<pk::TaskInfo>().id(), p.id());
    QVERIFY(!ran.load());
}

void tst_Keeper::everySubmissionRefusedAfterShutdown_data()
{
    QTest::addColumn<Submission>("kind");
    for (int k = 0; k <= int(Submission::Map); ++k)
        QTest::newRow(kSubmissionNames[k]) << Submission(k);
}

// One rule: after shutdown nothing new is accepted, whatever the way in; each fails at once.
void tst_Keeper::everySubmissionRefusedAfterShutdown()
{
    QFETCH(Submission, kind);
    QObject context;
    PromiseKeeper keeper(1);
    const pk::Promise<int> input = keeper.submit([] { return 1; });
    QVERIFY(keeper.shutdown(pk::ShutdownMode::Drain, pktest::kTimeoutMs));
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(QStringLiteral("after shutdown\\(\\).*pk::ShutdownError")));
    std::atomic<int> calls { 0 };
    const pk::PromiseBase p
        = submitKind(kind, keeper, &context, input, std::function<int()>([&calls] {
              ++calls;
              return 2;
          }));
    QVERIFY(failedWith<pk::ShutdownError>(p)); // at once, not later
    QCoreApplication::processEvents();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(calls.load(), 0);
}

void tst_Keeper::everyEmptyCallableFailsAtOnce_data()
{
    everySubmissionRefusedAfterShutdown_data();
}

// A null function never reaches a worker (where calling it would jump to address 0).
void tst_Keeper::everyEmptyCallableFailsAtOnce()
{
    QFETCH(Submission, kind);
    QObject context;
    PromiseKeeper keeper(1);
    const pk::Promise<int> input = keeper.submit([] { return 1; });
    QVERIFY(input.wait(pktest::kTimeoutMs));
    QTest::ignoreMessage(
        QtWarningMsg, QRegularExpression(QStringLiteral("empty callable.*pk::InvalidTaskError")));
    const pk::PromiseBase p = submitKind(kind, keeper, &context, input, std::function<int()>());
    QVERIFY(failedWith<pk::InvalidTaskError>(p));
    QCoreApplication::processEvents();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
}

// A flood of refused submissions prints a line, then at most one a second with the count of
// those in between, and the rest when the keeper goes: every refusal is counted once.
void tst_Keeper::refusalWarningsAreRateLimited()
{
    constexpr int kRefused = 1000;
    pktest::MessageLog log;
    QElapsedTimer elapsed;
    {
        PromiseKeeper keeper(1);
        QVERIFY(keeper.shutdown());
        elapsed.start();
        for (int i = 0; i < kRefused; ++i)
            keeper.submit([] {});
        QCOMPARE(keeper.failedCount(), kRefused);
    }
    const qint64 seconds = elapsed.elapsed() / 1000;
    qint64 counted = 0;
    int lines = 0;
    static const QRegularExpression more(QStringLiteral("and (\\d+) more since"));
    static const QRegularExpression rest(
        QStringLiteral("^PromiseKeeper: (\\d+) more submissions after shutdown"));
    for (const QString &w : log.warnings()) {
        if (w.startsWith(QStringLiteral("submit() after shutdown()"))) {
            ++lines;
            const auto m = more.match(w);
            counted += 1 + (m.hasMatch() ? m.captured(1).toLongLong() : 0);
        } else if (const auto m = rest.match(w); m.hasMatch()) {
            counted += m.captured(1).toLongLong();
        }
    }
    QVERIFY2(lines >= 1 && lines <= 1 + seconds, qPrintable(QString::number(lines)));
    QCOMPARE(counted, qint64(kRefused));
}

void tst_Keeper::drainRunsWhatWasSubmitted_data()
{
    QTest::addColumn<Submission>("kind");
    QTest::newRow("chained") << Submission::Chained;
    QTest::newRow("then") << Submission::Then;
    QTest::newRow("map, one in flight") << Submission::Map;
}

// Tasks accepted before shutdown(Drain) but not queued yet (waiting for an input, map items
// launched as others finish) run, and the drain waits for them.
void tst_Keeper::drainRunsWhatWasSubmitted()
{
    QFETCH(Submission, kind);
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    std::atomic<int> calls { 0 };
    const pk::Promise<int> input = keeper.submit([gate] { return gate.pass() ? 1 : -1; });
    QVERIFY(gate.waitArrived());
    const auto call = [&calls](int v) {
        ++calls;
        return v + 1;
    };
    pk::PromiseBase p;
    int expectedCalls = 1;
    if (kind == Submission::Map) {
        pk::MapOptions options;
        options.maxInFlight = 1;
        p = keeper.map(call, QList<int> { 1, 2, 3, 4 }, options);
        expectedCalls = 4;
    } else {
        p = submitKind(kind, keeper, nullptr, input, std::function<int()>([&] { return call(1); }));
    }
    QVERIFY(!keeper.shutdown(pk::ShutdownMode::Drain, 0));
    gate.open();
    QVERIFY(keeper.shutdown(pk::ShutdownMode::Drain, pktest::kTimeoutMs));
    QCOMPARE(p.state(), TaskState::Succeeded); // done by the time the drain returns
    QCOMPARE(calls.load(), expectedCalls);
    QCOMPARE(keeper.counts().failed, 0);
}

void tst_Keeper::destroyCancelsQueuedAndWaitsForRunning()
{
    std::atomic<int> ran { 0 };
    pktest::Gate gate;
    auto keeper = std::make_unique<PromiseKeeper>(1);
    const auto unblock = gate.openOnExit();
    auto running = keeper->submit([gate] { return gate.pass() ? 1 : -1; });
    QVERIFY(gate.waitArrived());
    auto queued = keeper->submit([&ran] {
        ++ran;
        return 2;
    });

    // A thread blocked on the queued promise must wake when the destructor cancels it; it then
    // releases the running task, which the destructor is waiting for. If either did not happen,
    // the destructor would not return (until the gate's time-out fails the test).
    std::atomic<bool> waiterWoke { false };
    QSemaphore waiterStarted;
    std::thread waiter([queued, gate, &waiterWoke, &waiterStarted] {
        waiterStarted.release();
        waiterWoke = queued.wait();
        gate.open();
    });
    const bool waiterRuns = waiterStarted.tryAcquire(1, pktest::kTimeoutMs);
    keeper.reset();
    waiter.join();

    QVERIFY(waiterRuns);
    QVERIFY(waiterWoke.load());
    QCOMPARE(queued.state(), TaskState::Cancelled);
    QCOMPARE(running.state(), TaskState::Succeeded);
    QCOMPARE(running.result(), 1); // not -1: it passed the gate, it was not timed out
    QCOMPARE(ran.load(), 0);
}

// ---- Robustness and threads -------------------------------------------------------------------

void tst_Keeper::exceptionsNeverEscapeWorkers()
{
    PromiseKeeper keeper(2);
    constexpr int failing = 300;
    QList<pk::Promise<int>> promises;
    for (int i = 0; i < failing; ++i) {
        promises.append(keeper.submit([i]() -> int {
            if (i % 3 == 0)
                throw i;
            if (i % 3 == 1)
                throw std::runtime_error("runtime");
            throw std::bad_alloc();
        }));
    }
    auto last = keeper.submit([] { return 7; });
    QCOMPARE(last.result(), 7);
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(keeper.failedCount(), failing);
    QCOMPARE(keeper.succeededCount(), 1);
    for (const auto &p : promises)
        QCOMPARE(p.state(), TaskState::Failed);
    // And it keeps working.
    QCOMPARE(keeper.submit([] { return 8; }).result(), 8);
}

void tst_Keeper::twoThreadsRunConcurrently()
{
    pktest::Gate gate;
    PromiseKeeper keeper(2);
    const auto unblock = gate.openOnExit();
    auto a = keeper.submit([gate] { return gate.pass(); });
    auto b = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived(2)); // both are inside at the same time
    QCOMPARE(a.state(), TaskState::Running);
    QCOMPARE(b.state(), TaskState::Running);
    QCOMPARE(keeper.runningCount(), 2);
    QCOMPARE(keeper.tasks().size(), 2);
    const QSet<int> workers { a.info().workerIndex(), b.info().workerIndex() };
    QCOMPARE(workers, (QSet<int> { 0, 1 }));

    gate.open(2);
    QVERIFY(a.result());
    QVERIFY(b.result());
    QCOMPARE((QSet<int> { a.info().workerIndex(), b.info().workerIndex() }), (QSet<int> { 0, 1 }));
}

void tst_Keeper::manualToThreaded()
{
    PromiseKeeper keeper(0);
    auto p = keeper.submit([] { return QThread::currentThread(); });
    QCOMPARE(p.state(), TaskState::Queued);
    keeper.setThreadCount(1);
    QVERIFY(p.wait(pktest::kTimeoutMs));
    QVERIFY(p.result() != QThread::currentThread()); // a worker ran it
    QCOMPARE(p.info().workerIndex(), 0);
}

void tst_Keeper::threadCountZeroAndBack()
{
    PromiseKeeper keeper(1);
    QSignalSpy countSpy(&keeper, &PromiseKeeper::threadCountChanged);
    QSignalSpy idleSpy(&keeper, &PromiseKeeper::idle);
    QVERIFY(countSpy.isValid());
    QVERIFY(idleSpy.isValid());
    QCOMPARE(keeper.submit([] { return 1; }).result(), 1); // the keeper has a worker now
    QVERIFY(idleSpy.wait(pktest::kTimeoutMs)); // and the worker has nothing left to do

    keeper.setThreadCount(0);
    QCOMPARE(keeper.threadCount(), 0);
    auto p = keeper.submit([] { return QThread::currentThread(); });
    QCOMPARE(p.state(), TaskState::Queued); // manual mode: no worker takes it

    keeper.setThreadCount(1);
    QCOMPARE(countSpy.count(), 2);
    QCOMPARE(countSpy.at(0).at(0).toInt(), 0);
    QCOMPARE(countSpy.at(1).at(0).toInt(), 1);
    // Regression check: at 7082ae5 the first task's worker, still parked as an idle worker,
    // kept counting in m_activeWorkers, so setThreadCount(1) started no worker and did not wake
    // the parked one, and the task stayed queued (workers.cpp setThreadCount/workerLoop).
    QVERIFY(p.wait(pktest::kTimeoutMs));
    QVERIFY(p.result() != QThread::currentThread()); // a worker ran it
}

void tst_Keeper::raisingThreadCountStartsQueued()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto a = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    auto b = keeper.submit([gate] { return gate.pass(); });
    auto c = keeper.submit([gate] { return gate.pass(); });
    QCOMPARE(b.state(), TaskState::Queued);
    QCOMPARE(c.state(), TaskState::Queued);

    keeper.setThreadCount(3);
    // b and c start while a still runs. Regression check: at 7082ae5 setThreadCount() started
    // workers only while m_activeWorkers < m_counts.queued, counting the worker busy with a as
    // free, so c waited for a (workers.cpp setThreadCount).
    QVERIFY(gate.waitArrived(2));
    QCOMPARE(keeper.runningCount(), 3);
    QCOMPARE((QSet<int> { a.info().workerIndex(), b.info().workerIndex(), c.info().workerIndex() }),
        (QSet<int> { 0, 1, 2 }));
    gate.open(3);
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(keeper.succeededCount(), 3);
    QVERIFY(a.result() && b.result() && c.result());
}

void tst_Keeper::raisingThreadCountFromIdle()
{
    // From manual mode, with no worker busy: every queued task gets a worker at once.
    pktest::Gate gate;
    PromiseKeeper keeper(0);
    const auto unblock = gate.openOnExit();
    QList<pk::Promise<bool>> promises;
    for (int i = 0; i < 3; ++i)
        promises.append(keeper.submit([gate] { return gate.pass(); }));
    keeper.setThreadCount(3);
    QVERIFY(gate.waitArrived(3));
    QCOMPARE(keeper.runningCount(), 3);
    QSet<int> workers;
    for (const auto &p : promises)
        workers.insert(p.info().workerIndex());
    QCOMPARE(workers, (QSet<int> { 0, 1, 2 }));
    gate.open(3);
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
}

void tst_Keeper::loweringThreadCountWithIdleWorkers()
{
    pktest::Gate gate;
    PromiseKeeper keeper(2);
    const auto unblock = gate.openOnExit();
    QSignalSpy idleSpy(&keeper, &PromiseKeeper::idle);
    QVERIFY(idleSpy.isValid());
    auto a = keeper.submit([gate] { return gate.pass(); });
    auto b = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived(2)); // two workers exist
    gate.open(2);
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QVERIFY(idleSpy.wait(pktest::kTimeoutMs)); // both workers have nothing left to do

    keeper.setThreadCount(1);
    auto c = keeper.submit([] { return 3; });
    // Regression check: at 7082ae5 submit() handed its wake token to one of the two parked
    // workers, which saw m_activeWorkers (2) > m_threadCount (1) and left without taking the
    // task, while nothing woke the other one: the task stayed queued (workers.cpp
    // workerLoop, wake-token path).
    QVERIFY(c.wait(pktest::kTimeoutMs));
    QCOMPARE(c.result(), 3);
}

void tst_Keeper::loweringThreadCountWhileRunning()
{
    pktest::Gate gate;
    PromiseKeeper keeper(2);
    const auto unblock = gate.openOnExit();
    auto a = keeper.submit([gate] { return gate.pass(); });
    auto b = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived(2));
    auto c = keeper.submit([gate] { return gate.pass(); });
    auto d = keeper.submit([] { return 4; });

    keeper.setThreadCount(1); // running tasks go on; one worker is to be left afterwards
    QCOMPARE(a.state(), TaskState::Running);
    QCOMPARE(b.state(), TaskState::Running);
    gate.open(2);
    QVERIFY(a.result());
    QVERIFY(b.result());
    QVERIFY(gate.waitArrived()); // c started on the one worker left
    QCOMPARE(d.state(), TaskState::Queued); // one thread only: d waits for c
    QCOMPARE(keeper.runningCount(), 1);
    gate.open();
    QVERIFY(c.result());
    QCOMPARE(d.result(), 4);
}

// setThreadCount() starts one worker; the workers start the rest as they take tasks, so a
// huge count costs the caller nothing and a deep queue still gets a thread per task.
void tst_Keeper::hugeThreadCountStartsWorkersAsNeeded()
{
    constexpr int kTasks = 48;
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    std::vector<pk::Promise<bool>> all;
    for (int i = 0; i < kTasks; ++i)
        all.push_back(keeper.submit([gate] { return gate.pass(); }));
    QVERIFY(gate.waitArrived());
    keeper.setThreadCount(std::numeric_limits<int>::max());
    QCOMPARE(keeper.threadCount(), std::numeric_limits<int>::max());
    QVERIFY(gate.waitArrived(kTasks - 1)); // all run at once: a worker each
    QCOMPARE(keeper.runningCount(), kTasks);
    gate.open(kTasks);
    for (const pk::Promise<bool> &p : all)
        QVERIFY(p.result());
}

void tst_Keeper::concurrentSubmission()
{
    constexpr int threads = 4;
    constexpr int perThread = 1000;
    PromiseKeeper keeper(2);
    QSignalSpy finishedSpy(&keeper, &PromiseKeeper::taskFinished);
    QVERIFY(finishedSpy.isValid());

    std::vector<std::vector<pk::Promise<int>>> promises(threads);
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
        submitters.emplace_back([&keeper, &promises, t] {
            auto &mine = promises[std::size_t(t)];
            mine.reserve(perThread);
            for (int i = 0; i < perThread; ++i)
                mine.push_back(keeper.submit([](int v) { return v; }, t * perThread + i));
        });
    }
    for (std::thread &s : submitters)
        s.join();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));

    QSet<quint64> ids;
    for (int t = 0; t < threads; ++t) {
        for (int i = 0; i < perThread; ++i) {
            const auto &p = promises[std::size_t(t)][std::size_t(i)];
            QCOMPARE(p.state(), TaskState::Succeeded);
            QCOMPARE(p.result(), t * perThread + i);
            ids.insert(p.id());
        }
    }
    QCOMPARE(ids.size(), threads * perThread);
    pk::TaskCounts expected;
    expected.succeeded = threads * perThread;
    QCOMPARE(keeper.counts(), expected);
    QTRY_COMPARE(finishedSpy.count(), threads * perThread);
}

QTEST_GUILESS_MAIN(tst_Keeper)
#include "tst_keeper.moc"
