// Inside a task: its TaskContext, cooperative cancellation, time-outs, cancelAll() and
// shutdown() with continuations, a keeper destroyed under a context continuation, and waits
// on a task of the waiter's own keeper.
#include "pktest.h"

#include <pk/combinators.h>
#include <pk/errors.h>
#include <pk/promisekeeper.h>
#include <pk/taskcontext.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <atomic>
#include <chrono>
#include <stdexcept>

using namespace std::chrono_literals;
using pk::PromiseKeeper;
using pk::TaskState;

namespace {
using pktest::awaitCancellationRequest;

enum class Ending { Throws, Ignores, FailsOtherwise };
} // namespace
Q_DECLARE_METATYPE(Ending)

class tst_Cancellation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void contextIsPassed();
    void requestCancellationBeforeStart();
    void requestCancellationWhileRunning_data();
    void requestCancellationWhileRunning();
    void requestCancellationOfFinalTask();
    void timeout_data();
    void timeout();
    void timeoutDoesNotFireForFinishedTasks();
    void manyTimeoutsOneMechanism();
    void cancelAllLetsContinuationsRun();
    void shutdownCancelPendingAsksRunningTasks();
    void destroyedKeeperKeepsSucceededContextContinuation();
    void waitOnOwnKeeperRunsQueuedTask_data();
    void waitOnOwnKeeperRunsQueuedTask();
    void waitForAllInsideTaskDoesNotWaitForItself();
};

void tst_Cancellation::contextIsPassed()
{
    PromiseKeeper keeper(2);
    // submit(), with and without further arguments.
    auto ids = keeper.submit([](pk::TaskContext &ctx) { return ctx.id(); });
    QCOMPARE(ids.result(pktest::kTimeoutMs), ids.id());
    auto sum
        = keeper.submit([](pk::TaskContext &ctx, int a, int b) { return ctx.id() + a + b; }, 2, 3);
    QCOMPARE(sum.result(pktest::kTimeoutMs), sum.id() + 5);
    // Chained by argument: the promise's value after the context.
    auto chained = keeper.submit([](pk::TaskContext &, int v) { return v * 2; }, sum);
    QCOMPARE(chained.result(pktest::kTimeoutMs), (sum.id() + 5) * 2);
    // then() on the pool.
    auto next = ids.then([](pk::TaskContext &ctx, quint64 v) { return ctx.id() > v; });
    QVERIFY(next.result(pktest::kTimeoutMs));
    // map(): each item gets its own context.
    auto mapped
        = keeper.map([](pk::TaskContext &ctx, int item) { return ctx.id() != 0 ? item : -1; },
            QList<int> { 1, 2, 3 });
    QCOMPARE(mapped.result(pktest::kTimeoutMs), (QList<int> { 1, 2, 3 }));
}

void tst_Cancellation::requestCancellationBeforeStart()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto blocker = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    std::atomic<bool> ran { false };
    auto queued = keeper.submit([&ran] { ran = true; });
    QVERIFY(queued.requestCancellation());
    QCOMPARE(queued.state(), TaskState::Cancelled); // at once, as cancel()
    QVERIFY_THROWS_EXCEPTION(pk::CancelledError, queued.result());
    gate.open();
    QVERIFY(blocker.result(pktest::kTimeoutMs));
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QVERIFY(!ran);
}

void tst_Cancellation::requestCancellationWhileRunning_data()
{
    QTest::addColumn<Ending>("ending");
    QTest::addColumn<TaskState>("expected");
    QTest::newRow("throwIfCancellationRequested") << Ending::Throws << TaskState::Cancelled;
    QTest::newRow("ignores the request") << Ending::Ignores << TaskState::Succeeded;
    QTest::newRow("throws another error") << Ending::FailsOtherwise << TaskState::Failed;
}

void tst_Cancellation::requestCancellationWhileRunning()
{
    QFETCH(Ending, ending);
    QFETCH(TaskState, expected);
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto task = keeper.submit([gate, ending](pk::TaskContext &ctx) {
        gate.pass(); // running now: the test may ask
        if (!awaitCancellationRequest(ctx))
            return -1;
        if (!gate.pass()) // still running while the test asks again
            return -1;
        switch (ending) {
        case Ending::Throws:
            ctx.throwIfCancellationRequested();
            break;
        case Ending::Ignores:
            break;
        case Ending::FailsOtherwise:
            throw std::runtime_error("gave up");
        }
        return 7;
    });
    QVERIFY(gate.waitArrived());
    gate.open();
    QVERIFY(!task.isCancellationRequested());
    QVERIFY(!task.cancel()); // cancel() keeps its meaning: only before the start
    QVERIFY(task.requestCancellation());
    QVERIFY(task.isCancellationRequested());
    QVERIFY(gate.waitArrived()); // the task saw the request and waits
    QVERIFY(task.requestCancellation()); // asked again: still true, nothing more happens
    gate.open();
    QVERIFY(task.wait(pktest::kTimeoutMs));
    QCOMPARE(task.state(), expected);
    QVERIFY(task.info().isCancellationRequested());
    switch (ending) {
    case Ending::Throws:
        QVERIFY_THROWS_EXCEPTION(pk::CancelledError, task.result());
        QVERIFY(!task.exception());
        QCOMPARE(keeper.counts().cancelled, 1);
        break;
    case Ending::Ignores:
        QCOMPARE(task.result(), 7);
        break;
    case Ending::FailsOtherwise:
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, task.result());
        break;
    }
}

void tst_Cancellation::requestCancellationOfFinalTask()
{
    PromiseKeeper keeper(1);
    auto done = keeper.submit([] { return 1; });
    QCOMPARE(done.result(pktest::kTimeoutMs), 1);
    QVERIFY(!done.requestCancellation());
    QVERIFY(!done.isCancellationRequested());
    QCOMPARE(done.state(), TaskState::Succeeded);
    QVERIFY(!pk::Promise<int>().requestCancellation());
    // A task that throws CancelledError unasked fails with it, as with any exception.
    auto unasked = keeper.submit([]() -> int { throw pk::CancelledError(); });
    QVERIFY(unasked.wait(pktest::kTimeoutMs));
    QCOMPARE(unasked.state(), TaskState::Failed);
}

void tst_Cancellation::timeout_data()
{
    QTest::addColumn<Ending>("ending");
    QTest::newRow("throwIfCancellationRequested") << Ending::Throws;
    QTest::newRow("returns a value anyway") << Ending::Ignores;
    QTest::newRow("throws another error") << Ending::FailsOtherwise;
}

void tst_Cancellation::timeout()
{
    QFETCH(Ending, ending);
    PromiseKeeper keeper(1);
    QSignalSpy failed(&keeper, &PromiseKeeper::taskFailed);
    pk::TaskOptions options;
    options.title = QStringLiteral("slow");
    options.timeout = 20ms;
    QElapsedTimer elapsed;
    elapsed.start();
    auto task = keeper.submit(options, [ending](pk::TaskContext &ctx) {
        if (!awaitCancellationRequest(ctx))
            return -1;
        if (ending == Ending::Throws)
            ctx.throwIfCancellationRequested();
        if (ending == Ending::FailsOtherwise)
            throw std::runtime_error("gave up");
        return 7;
    });
    QVERIFY(task.wait(pktest::kTimeoutMs));
    qInfo("a 20 ms time-out ended the task after %lld ms", elapsed.elapsed());
    QCOMPARE(task.state(), TaskState::Failed);
    QVERIFY_THROWS_EXCEPTION(pk::TimeoutError, task.result());
    QVERIFY(task.isCancellationRequested());
    QCOMPARE(task.info().errorType(), QStringLiteral("pk::TimeoutError"));
    QVERIFY(task.errorString().contains(QStringLiteral("20 ms")));
    QVERIFY(task.info().isTimedOut());
    QCOMPARE(keeper.counts().timedOut, 1);
    QCOMPARE(keeper.counts().failed, 1);
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, pktest::kTimeoutMs);
    QCOMPARE(
        failed.at(0).at(0).value<pk::TaskInfo>().errorType(), QStringLiteral("pk::TimeoutError"));
    QCOMPARE(keeper.deliveredCounts().timedOut, 1);
}

void tst_Cancellation::timeoutDoesNotFireForFinishedTasks()
{
    PromiseKeeper keeper(2);
    pk::TaskOptions options;
    options.timeout = 1ms;
    // Finished long before their time: each deadline passes later and finds it final.
    QList<pk::Promise<int>> fast;
    pk::TaskOptions roomy;
    roomy.timeout = 60s;
    for (int i = 0; i < 200; ++i)
        fast.append(keeper.submit(roomy, [i] { return i; }));
    for (int i = 0; i < 200; ++i) {
        QCOMPARE(fast[i].result(pktest::kTimeoutMs), i);
        QVERIFY(!fast[i].isCancellationRequested());
    }
    // A timed task that finished: its deadline passing later changes nothing.
    auto quick = keeper.submit(options, [] { return 1; });
    QCOMPARE(quick.result(pktest::kTimeoutMs), 1);
    // A later deadline passing proves the watcher went past quick's.
    auto probe = keeper.submit(
        options, [](pk::TaskContext &ctx) { return awaitCancellationRequest(ctx); });
    QVERIFY_THROWS_EXCEPTION(pk::TimeoutError, probe.result(pktest::kTimeoutMs));
    QCOMPARE(quick.state(), TaskState::Succeeded);
    QVERIFY(!quick.isCancellationRequested());
    QCOMPARE(keeper.counts().timedOut, 1); // the probe alone
}

void tst_Cancellation::manyTimeoutsOneMechanism()
{
    // Hundreds of tasks that only end when asked: each is asked by its time-out, on a keeper
    // whose workers are all busy with them.
    PromiseKeeper keeper(4);
    pk::TaskOptions options;
    options.timeout = 2ms;
    QList<pk::Promise<int>> tasks;
    for (int i = 0; i < 300; ++i) {
        tasks.append(keeper.submit(
            options, [](pk::TaskContext &ctx) { return awaitCancellationRequest(ctx) ? 1 : -1; }));
    }
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs * 3));
    for (const auto &t : tasks)
        QVERIFY_THROWS_EXCEPTION(pk::TimeoutError, t.result());
    QCOMPARE(keeper.counts().failed, 300);
    QCOMPARE(keeper.counts().timedOut, 300);
}

void tst_Cancellation::cancelAllLetsContinuationsRun()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    QObject context;
    auto running = keeper.submit([gate](pk::TaskContext &ctx) {
        gate.pass();
        ctx.throwIfCancellationRequested();
        return 0;
    });
    QVERIFY(gate.waitArrived());
    auto queued = keeper.submit([] { return 1; });
    QStringList seen;
    auto onCancelled = queued.onCancelled(&context, [&seen] {
        seen << QStringLiteral("onCancelled");
        return -1;
    });
    auto fin = queued.finally(&context, [&seen] { seen << QStringLiteral("finally"); });
    auto batch
        = pk::whenAll(QList<pk::Promise<int>> { running, queued }).onCancelled(&context, [&seen] {
              seen << QStringLiteral("batch cancelled");
              return QList<int>();
          });

    // The queued task is cancelled, the running one asked; no continuation is counted.
    QCOMPARE(keeper.cancelAll(), 2);
    QCOMPARE(queued.state(), TaskState::Cancelled);
    QVERIFY(running.isCancellationRequested());
    gate.open();
    QVERIFY(running.wait(pktest::kTimeoutMs));
    QCOMPARE(running.state(), TaskState::Cancelled);
    QTRY_VERIFY_WITH_TIMEOUT(
        onCancelled.isReady() && fin.isReady() && batch.isReady(), pktest::kTimeoutMs);
    QCOMPARE(onCancelled.result(), -1);
    QCOMPARE(fin.state(), TaskState::Cancelled); // finally() passes the cancellation on
    QVERIFY(seen.contains(QStringLiteral("onCancelled")));
    QVERIFY(seen.contains(QStringLiteral("finally")));
    QVERIFY(seen.contains(QStringLiteral("batch cancelled")));
}

void tst_Cancellation::shutdownCancelPendingAsksRunningTasks()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    QObject context;
    auto running = keeper.submit([gate](pk::TaskContext &ctx) {
        gate.pass();
        return awaitCancellationRequest(ctx) ? 1 : -1;
    });
    QVERIFY(gate.waitArrived());
    gate.open();
    bool finallyRan = false;
    auto fin = running.finally(&context, [&finallyRan] { finallyRan = true; });
    // The running task ends when asked (returning normally: it succeeds).
    QVERIFY(keeper.shutdown(pk::ShutdownMode::CancelPending, pktest::kTimeoutMs));
    QCOMPARE(running.result(), 1);
    QVERIFY(running.isCancellationRequested());
    QTRY_VERIFY_WITH_TIMEOUT(fin.isReady(), pktest::kTimeoutMs);
    QVERIFY(finallyRan);
}

void tst_Cancellation::destroyedKeeperKeepsSucceededContextContinuation()
{
    QObject context;
    auto keeper = std::make_unique<PromiseKeeper>(1);
    auto input = keeper->submit([] { return 20; });
    QCOMPARE(input.result(pktest::kTimeoutMs), 20);
    // Posted to this thread, not run yet: the keeper goes away meanwhile.
    auto next = input.then(&context, [](int v) { return v + 1; });
    keeper.reset();
    QTRY_VERIFY_WITH_TIMEOUT(next.isReady(), pktest::kTimeoutMs);
    QCOMPARE(next.state(), TaskState::Succeeded);
    QCOMPARE(next.result(), 21);
}

void tst_Cancellation::waitOnOwnKeeperRunsQueuedTask_data()
{
    QTest::addColumn<int>("threads");
    QTest::addColumn<QString>("how");
    // waitForAll() only with one worker: two tasks that each wait for all would wait for
    // each other.
    for (int threads : { 1, 2 }) {
        for (const char *how : { "wait", "result", "waitForAll" }) {
            if (threads == 1 || QByteArray(how) != "waitForAll")
                QTest::addRow("%d thread(s), %s", threads, how)
                    << threads << QString::fromLatin1(how);
        }
    }
}

void tst_Cancellation::waitOnOwnKeeperRunsQueuedTask()
{
    QFETCH(int, threads);
    QFETCH(QString, how);
    PromiseKeeper keeper(threads);
    pktest::Gate gate;
    const auto unblock = gate.openOnExit();
    // Every worker runs an outer task that submits an inner one and waits for it: with no
    // worker free, the inner tasks only run if the waits run them.
    QList<pk::Promise<int>> outers;
    for (int i = 0; i < threads; ++i) {
        outers.append(keeper.submit([&keeper, gate, how, i] {
            gate.pass();
            auto inner = keeper.submit([i] { return i * 10; });
            if (how == QLatin1String("wait"))
                return inner.wait(pktest::kTimeoutMs) ? inner.result() : -1;
            if (how == QLatin1String("result"))
                return inner.result(pktest::kTimeoutMs);
            return keeper.waitForAll(pktest::kTimeoutMs) ? inner.result(0) : -1;
        }));
    }
    QVERIFY(gate.waitArrived(threads)); // all workers busy
    gate.open(threads);
    for (int i = 0; i < threads; ++i)
        QCOMPARE(outers[i].result(pktest::kTimeoutMs * 2), i * 10);
}

void tst_Cancellation::waitForAllInsideTaskDoesNotWaitForItself()
{
    PromiseKeeper keeper(1);
    auto outer = keeper.submit([&keeper] {
        keeper.submit([] {});
        keeper.submit([] {});
        return keeper.waitForAll(pktest::kTimeoutMs) && keeper.counts().live() == 1;
    });
    QVERIFY(outer.result(pktest::kTimeoutMs * 2));
    QCOMPARE(keeper.counts().succeeded, 3);
}

QTEST_MAIN(tst_Cancellation)
#include "tst_cancellation.moc"
