// Continuations: then() on the input's keeper, then()/onFailed()/onCancelled()/finally() on a
// context object's thread, and future().
#include "composetest.h"

#include <pk/errors.h>
#include <pk/fromfuture.h>
#include <pk/promise.h>
#include <pk/promisekeeper.h>
#include <pk/taskcontext.h>

#include <QtCore/QFuture>
#include <QtCore/QFutureWatcher>
#include <QtCore/QPromise>
#include <QtCore/QRegularExpression>
#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

using pk::PromiseKeeper;
using pk::TaskState;
using pktest::isExactly;
using pktest::kInputValue;
using pktest::Outcome;
using pktest::thrownBy;

namespace {

enum class Mode { Then, OnFailed, OnCancelled, Finally };

// What a continuation attached by attach() gives when its handler runs and returns.
constexpr int kOnFailedValue = -1;
constexpr int kOnCancelledValue = -2;

/*!
    Attaches the continuation \a mode to \a input on \a context; its handler calls \a body and
    returns: the value for then() and finally(), kOnFailedValue for onFailed(),
    kOnCancelledValue for onCancelled().
*/
template<typename Body>
pk::Promise<int> attach(const pk::Promise<int> &input, Mode mode, QObject *context, Body body)
{
    switch (mode) {
    case Mode::Then:
        return input.then(context, [body](int v) {
            body();
            return v;
        });
    case Mode::OnFailed:
        return input.onFailed(context, [body](std::exception_ptr) {
            body();
            return kOnFailedValue;
        });
    case Mode::OnCancelled:
        return input.onCancelled(context, [body] {
            body();
            return kOnCancelledValue;
        });
    case Mode::Finally:
        return input.finally(context, [body] { body(); });
    }
    return {};
}

// A context object living in a thread of its own, with a running event loop.
class ContextThread
{
public:
    ContextThread()
        : m_context(new QObject)
    {
        m_thread.setObjectName(QStringLiteral("context thread"));
        m_context->moveToThread(&m_thread);
        m_thread.start();
    }
    ~ContextThread()
    {
        m_context->deleteLater(); // deleted by the thread as it finishes
        m_thread.quit();
        m_thread.wait();
    }
    ContextThread(const ContextThread &) = delete;
    ContextThread &operator=(const ContextThread &) = delete;

    QObject *context() const { return m_context; }
    QThread *thread() { return &m_thread; }

private:
    QThread m_thread;
    QObject *m_context;
};

void addModesAndOutcomes()
{
    QTest::addColumn<Mode>("mode");
    QTest::addColumn<Outcome>("outcome");
    QTest::newRow("then, succeeded") << Mode::Then << Outcome::Succeeded;
    QTest::newRow("onFailed, failed") << Mode::OnFailed << Outcome::Failed;
    QTest::newRow("onCancelled, cancelled") << Mode::OnCancelled << Outcome::Cancelled;
    QTest::newRow("finally, succeeded") << Mode::Finally << Outcome::Succeeded;
    QTest::newRow("finally, failed") << Mode::Finally << Outcome::Failed;
    QTest::newRow("finally, cancelled") << Mode::Finally << Outcome::Cancelled;
}

} // namespace

Q_DECLARE_METATYPE(Mode)

class tst_Continuations : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // then() on the pool
    void thenRunsOnWorkerOfInputsKeeper();
    void thenChains();
    void thenOnVoidPromise();
    void thenTakingThePromise();
    void thenOnUnsuccessfulInput_data();
    void thenOnUnsuccessfulInput();
    void thenInManualModeRunsInProcessPendingOrder();

    // Any number of continuations
    void manyContinuationsOnOnePromise_data();
    void manyContinuationsOnOnePromise();

    // Continuations on a context
    void thenOnContextRunsOnContextThread_data();
    void thenOnContextRunsOnContextThread();
    void thenOnContextChangesTheType();
    void neverRunsInsideTheAttachingCall_data();
    void neverRunsInsideTheAttachingCall();
    void contextDestroyedFirst_data();
    void contextDestroyedFirst();
    void handlerRunsOrOutcomePassesOn_data();
    void handlerRunsOrOutcomePassesOn();
    void onFailedGetsTheException();
    void onFailedWithoutArgument();
    void typedOnFailed_data();
    void typedOnFailed();
    void thenReturningAPromiseIsFlattened_data();
    void thenReturningAPromiseIsFlattened();
    void exceptionInContextContinuation_data();
    void exceptionInContextContinuation();
    void handedOnFailureIsNoCallbackFailure_data();
    void handedOnFailureIsNoCallbackFailure();
    void nullContext_data();
    void nullContext();

    // What the monitor shows of continuations
    void continuationKindInputsAndTitle_data();
    void continuationKindInputsAndTitle();
    void untitledInputGivesItsId();
    void chainOfUntitledContinuationsNamesTheTask();
    void titledThenHasItsOwnPriority();
    void signalsNameTheKeeper();

    // QFuture
    void futureFinishesWithPromise_data();
    void futureFinishesWithPromise();
    void futureOfVoidPromise();
    void futureWithQtFutureContinuations();
    void futureReportsProgressAndRequestsCancellation();
    void futureCancelledWhileQueuedNeverRuns();
    void fromFuture_data();
    void fromFuture();
    void cancellingFromFuturePromiseCancelsTheFuture();
};

// ---- then() on the pool -----------------------------------------------------------------------

void tst_Continuations::thenRunsOnWorkerOfInputsKeeper()
{
    std::atomic<QThread *> inputThread { nullptr };
    PromiseKeeper keeper(1);
    auto input = keeper.submit([&inputThread] {
        inputThread = QThread::currentThread();
        return 20;
    });
    auto next = input.then([](int v) { return std::make_pair(v + 1, QThread::currentThread()); });
    QVERIFY(next.wait(pktest::kTimeoutMs));
    QCOMPARE(next.state(), TaskState::Succeeded);
    const auto [value, ranOn] = next.result();
    QCOMPARE(value, 21);
    QVERIFY(ranOn != QThread::currentThread());
    // The keeper has one worker: the one that ran the input.
    QCOMPARE(ranOn, inputThread.load());
    QCOMPARE(next.info().workerIndex(), 0);
    QCOMPARE(keeper.counts().succeeded, 2); // the continuation is a task of the input's keeper
}

void tst_Continuations::thenChains()
{
    PromiseKeeper keeper(2);
    auto text = keeper.submit([] { return 1; })
                    .then([](int v) { return v + 1; })
                    .then([](int v) { return v * 10; })
                    .then([](int v) { return QString::number(v); });
    static_assert(std::is_same_v<decltype(text), pk::Promise<QString>>);
    QVERIFY(text.wait(pktest::kTimeoutMs));
    QCOMPARE(text.result(), QStringLiteral("20"));
}

void tst_Continuations::thenOnVoidPromise()
{
    pktest::Recorder order;
    PromiseKeeper keeper(1);
    auto done = keeper.submit([&order] { order.record(1); });
    auto five = done.then([&order] {
        order.record(2);
        return 5;
    });
    static_assert(std::is_same_v<decltype(five), pk::Promise<int>>);
    auto nothing = five.then([&order](int v) { order.record(v); });
    static_assert(std::is_same_v<decltype(nothing), pk::Promise<void>>);
    auto afterNothing = nothing.then([&order] { order.record(6); });
    QVERIFY(afterNothing.wait(pktest::kTimeoutMs));
    QCOMPARE(afterNothing.state(), TaskState::Succeeded);
    QCOMPARE(five.result(), 5);
    QCOMPARE(order.values(), (QList<int> { 1, 2, 5, 6 }));
}

void tst_Continuations::thenTakingThePromise()
{
    std::atomic<int> calls { 0 };
    PromiseKeeper keeper(1);
    auto input = keeper.submit([] { return 8; });
    using Seen = std::pair<quint64, TaskState>;
    auto seen = input.then([&calls](pk::Promise<int> p) {
        ++calls;
        return Seen(p.id(), p.state());
    });
    QVERIFY(seen.wait(pktest::kTimeoutMs));
    QCOMPARE(seen.result().first, input.id());
    QCOMPARE(seen.result().second, TaskState::Succeeded); // the input is finished when it runs
    auto value = input.then([](const pk::Promise<int> &p) { return p.result() * 2; });
    QVERIFY(value.wait(pktest::kTimeoutMs));
    QCOMPARE(value.result(), 16);

    // A failure passes on like for any then(): the callable never runs.
    auto failing = keeper.submit([]() -> int { throw std::out_of_range("no"); });
    auto afterFailure = failing.then([&calls](pk::Promise<int> p) {
        ++calls;
        return Seen(p.id(), p.state());
    });
    QVERIFY(afterFailure.wait(pktest::kTimeoutMs));
    QVERIFY(isExactly<std::out_of_range>(afterFailure.exception()));
    QCOMPARE(calls.load(), 1);
}

void tst_Continuations::thenOnUnsuccessfulInput_data()
{
    QTest::addColumn<Outcome>("outcome");
    QTest::addColumn<bool>("finishedFirst");
    QTest::newRow("fails later") << Outcome::Failed << false;
    QTest::newRow("failed before then()") << Outcome::Failed << true;
    QTest::newRow("cancelled later") << Outcome::Cancelled << false;
    QTest::newRow("cancelled before then()") << Outcome::Cancelled << true;
}

void tst_Continuations::thenOnUnsuccessfulInput()
{
    QFETCH(Outcome, outcome);
    QFETCH(bool, finishedFirst);
    std::atomic<int> calls { 0 };
    PromiseKeeper keeper(1);
    pktest::PendingInput input(keeper, outcome);
    if (finishedFirst) {
        QVERIFY(input.finish());
        QVERIFY(input.promise().wait(pktest::kTimeoutMs));
    }
    auto next = input.promise().then([&calls](int v) {
        ++calls;
        return v;
    });
    auto nextOfNext = next.then([&calls](int v) {
        ++calls;
        return v;
    });
    if (!finishedFirst) {
        QCOMPARE(next.state(), TaskState::Waiting);
        QVERIFY(input.finish());
    }
    QVERIFY(nextOfNext.wait(pktest::kTimeoutMs));
    QVERIFY(next.isReady());
    for (const auto &p : { next, nextOfNext }) {
        if (outcome == Outcome::Failed) {
            QCOMPARE(p.state(), TaskState::Failed);
            // The input's own exception, not a DependencyError.
            QVERIFY(isExactly<std::out_of_range>(p.exception()));
            QVERIFY(isExactly<std::out_of_range>(thrownBy([&p] { (void)p.result(); })));
            QCOMPARE(p.errorString(), QString::fromUtf8(pktest::kInputError));
        } else {
            QCOMPARE(p.state(), TaskState::Cancelled);
            QVERIFY(isExactly<pk::CancelledError>(thrownBy([&p] { (void)p.result(); })));
        }
    }
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(calls.load(), 0);
}

void tst_Continuations::thenInManualModeRunsInProcessPendingOrder()
{
    pktest::Recorder order;
    QList<QThread *> threads;
    PromiseKeeper keeper(0);
    auto first = keeper.submit([&order, &threads] {
        order.record(0);
        threads.append(QThread::currentThread());
        return 1;
    });
    auto plusOne = first.then([&order, &threads](int v) {
        order.record(1);
        threads.append(QThread::currentThread());
        return v + 1;
    });
    auto plusTwo = first.then([&order](int v) {
        order.record(2);
        return v + 2;
    });
    auto other = keeper.submit([&order] { order.record(3); });
    auto plusThree = plusOne.then([&order](int v) {
        order.record(4);
        return v + 3;
    });
    QCOMPARE(plusOne.state(), TaskState::Waiting);
    QCOMPARE(keeper.counts().waiting, 3);
    QCOMPARE(keeper.counts().queued, 2);
    QCoreApplication::processEvents();
    QVERIFY(order.values().isEmpty()); // nothing runs by itself

    // Continuations are queued when their input succeeds, behind what was queued before.
    QCOMPARE(keeper.processPending(), 5);
    QCOMPARE(order.values(), (QList<int> { 0, 3, 1, 2, 4 }));
    QCOMPARE(plusThree.result(), 5);
    QCOMPARE(plusTwo.result(), 3);
    QCOMPARE(other.state(), TaskState::Succeeded);
    QCOMPARE(threads, (QList<QThread *> { QThread::currentThread(), QThread::currentThread() }));
}

// ---- Any number of continuations --------------------------------------------------------------

void tst_Continuations::manyContinuationsOnOnePromise_data()
{
    QTest::addColumn<bool>("finishedFirst");
    QTest::newRow("attached while running") << false;
    QTest::newRow("attached when finished") << true;
}

void tst_Continuations::manyContinuationsOnOnePromise()
{
    QFETCH(bool, finishedFirst);
    constexpr int count = 5;
    pktest::Recorder onContext;
    std::atomic<int> onPool { 0 };
    QObject context;
    PromiseKeeper keeper(1);
    pktest::PendingInput input(keeper, Outcome::Succeeded);
    if (finishedFirst) {
        QVERIFY(input.finish());
        QVERIFY(input.promise().wait(pktest::kTimeoutMs));
    }

    QList<pk::Promise<int>> contextOnes;
    QList<pk::Promise<int>> poolOnes;
    for (int i = 0; i < count; ++i) {
        contextOnes.append(input.promise().then(&context, [&onContext, i](int v) {
            onContext.record(i);
            return v + i;
        }));
        poolOnes.append(input.promise().then([&onPool, i](int v) {
            ++onPool;
            return v * i;
        }));
    }
    if (!finishedFirst)
        QVERIFY(input.finish());

    for (int i = 0; i < count; ++i) {
        QVERIFY(poolOnes[i].wait(pktest::kTimeoutMs));
        QCOMPARE(poolOnes[i].result(), kInputValue * i);
    }
    QCOMPARE(onPool.load(), count);
    // Context continuations run in the order they were attached.
    QTRY_COMPARE(onContext.values(), (QList<int> { 0, 1, 2, 3, 4 }));
    for (int i = 0; i < count; ++i) {
        QTRY_VERIFY(contextOnes[i].isReady());
        QCOMPARE(contextOnes[i].result(), kInputValue + i);
    }
}

// ---- Continuations on a context ---------------------------------------------------------------

void tst_Continuations::thenOnContextRunsOnContextThread_data()
{
    QTest::addColumn<bool>("otherThread");
    QTest::newRow("context in the test thread") << false;
    QTest::newRow("context in another thread") << true;
}

void tst_Continuations::thenOnContextRunsOnContextThread()
{
    QFETCH(bool, otherThread);
    std::optional<ContextThread> contextThread;
    QObject local;
    QObject *context = &local;
    QThread *expected = QThread::currentThread();
    if (otherThread) {
        contextThread.emplace();
        context = contextThread->context();
        expected = contextThread->thread();
    }
    std::atomic<QThread *> ranOn { nullptr };
    PromiseKeeper keeper(1);
    auto input = keeper.submit([] { return 20; });
    auto next = input.then(context, [&ranOn](int v) {
        ranOn = QThread::currentThread();
        return v + 1;
    });
    QTRY_VERIFY(next.isReady()); // the test thread's event loop must run for the local context
    QCOMPARE(next.state(), TaskState::Succeeded);
    QCOMPARE(next.result(), 21);
    QCOMPARE(ranOn.load(), expected);
    QCOMPARE(next.info().workerIndex(), -1); // not a worker of the keeper
}

void tst_Continuations::thenOnContextChangesTheType()
{
    QObject context;
    PromiseKeeper keeper(1);
    auto input = keeper.submit([] { return 20; });
    auto text = input.then(&context, [](int v) { return QString::number(v); });
    static_assert(std::is_same_v<decltype(text), pk::Promise<QString>>);
    auto withThread
        = input.then(&context, [](int v) { return std::make_pair(v, QThread::currentThread()); });
    auto done = keeper.submit([] {});
    auto fromVoid = done.then(&context, [] { return 5; });
    static_assert(std::is_same_v<decltype(fromVoid), pk::Promise<int>>);
    auto voidToVoid = done.then(&context, [] {});
    QTRY_VERIFY(text.isReady());
    QTRY_VERIFY(withThread.isReady());
    QTRY_VERIFY(fromVoid.isReady());
    QTRY_VERIFY(voidToVoid.isReady());
    QCOMPARE(text.result(), QStringLiteral("20"));
    QCOMPARE(withThread.result().second, QThread::currentThread());
    QCOMPARE(fromVoid.result(), 5);
    QCOMPARE(voidToVoid.state(), TaskState::Succeeded);
}

void tst_Continuations::neverRunsInsideTheAttachingCall_data()
{
    QTest::addColumn<Mode>("mode");
    QTest::addColumn<Outcome>("outcome");
    QTest::newRow("then") << Mode::Then << Outcome::Succeeded;
    QTest::newRow("onFailed") << Mode::OnFailed << Outcome::Failed;
    QTest::newRow("onCancelled") << Mode::OnCancelled << Outcome::Cancelled;
    QTest::newRow("finally") << Mode::Finally << Outcome::Succeeded;
}

void tst_Continuations::neverRunsInsideTheAttachingCall()
{
    QFETCH(Mode, mode);
    QFETCH(Outcome, outcome);
    bool called = false; // the handler runs on this thread
    QObject context;
    PromiseKeeper keeper(1);
    const pk::Promise<int> input = pktest::finishedInput(keeper, outcome);
    QVERIFY(input.isReady());

    const pk::Promise<int> next = attach(input, mode, &context, [&called] { called = true; });
    QVERIFY(!called);
    QCOMPARE(next.state(), TaskState::Waiting);
    QTRY_VERIFY(called);
    QTRY_VERIFY(next.isReady());
}

void tst_Continuations::contextDestroyedFirst_data()
{
    QTest::addColumn<Mode>("mode");
    QTest::addColumn<Outcome>("outcome");
    QTest::addColumn<bool>("inputFinished");
    QTest::newRow("then, input finished") << Mode::Then << Outcome::Succeeded << true;
    QTest::newRow("then, input running") << Mode::Then << Outcome::Succeeded << false;
    QTest::newRow("onFailed, input running") << Mode::OnFailed << Outcome::Failed << false;
    QTest::newRow("finally, input finished") << Mode::Finally << Outcome::Failed << true;
}

void tst_Continuations::contextDestroyedFirst()
{
    QFETCH(Mode, mode);
    QFETCH(Outcome, outcome);
    QFETCH(bool, inputFinished);
    int calls = 0;
    PromiseKeeper keeper(1);
    pktest::PendingInput input(keeper, outcome);
    if (inputFinished) {
        QVERIFY(input.finish());
        QVERIFY(input.promise().wait(pktest::kTimeoutMs));
    }
    auto context = std::make_unique<QObject>();
    const pk::Promise<int> next
        = attach(input.promise(), mode, context.get(), [&calls] { ++calls; });
    context.reset();
    if (!inputFinished) {
        QCOMPARE(next.state(), TaskState::Waiting);
        QVERIFY(input.finish());
    }
    QTRY_COMPARE(next.state(), TaskState::Cancelled);
    QCoreApplication::processEvents();
    QCOMPARE(calls, 0);
    QVERIFY(isExactly<pk::CancelledError>(thrownBy([&next] { (void)next.result(); })));
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs)); // nothing left waiting in the keeper
    QCOMPARE(keeper.counts().waiting, 0);
}

void tst_Continuations::handlerRunsOrOutcomePassesOn_data()
{
    QTest::addColumn<Mode>("mode");
    QTest::addColumn<Outcome>("outcome");
    QTest::addColumn<bool>("runs");
    QTest::addColumn<TaskState>("expectedState");
    QTest::addColumn<int>("expectedValue"); // if it succeeds; a failure is the input's

    const int v = kInputValue;
    QTest::newRow("then, succeeded")
        << Mode::Then << Outcome::Succeeded << true << TaskState::Succeeded << v;
    QTest::newRow("then, failed") << Mode::Then << Outcome::Failed << false << TaskState::Failed
                                  << 0;
    QTest::newRow("then, cancelled")
        << Mode::Then << Outcome::Cancelled << false << TaskState::Cancelled << 0;
    QTest::newRow("onFailed, succeeded")
        << Mode::OnFailed << Outcome::Succeeded << false << TaskState::Succeeded << v;
    QTest::newRow("onFailed, failed")
        << Mode::OnFailed << Outcome::Failed << true << TaskState::Succeeded << kOnFailedValue;
    QTest::newRow("onFailed, cancelled")
        << Mode::OnFailed << Outcome::Cancelled << false << TaskState::Cancelled << 0;
    QTest::newRow("onCancelled, succeeded")
        << Mode::OnCancelled << Outcome::Succeeded << false << TaskState::Succeeded << v;
    QTest::newRow("onCancelled, failed")
        << Mode::OnCancelled << Outcome::Failed << false << TaskState::Failed << 0;
    QTest::newRow("onCancelled, cancelled") << Mode::OnCancelled << Outcome::Cancelled << true
                                            << TaskState::Succeeded << kOnCancelledValue;
    QTest::newRow("finally, succeeded")
        << Mode::Finally << Outcome::Succeeded << true << TaskState::Succeeded << v;
    QTest::newRow("finally, failed")
        << Mode::Finally << Outcome::Failed << true << TaskState::Failed << 0;
    QTest::newRow("finally, cancelled")
        << Mode::Finally << Outcome::Cancelled << true << TaskState::Cancelled << 0;
}

void tst_Continuations::handlerRunsOrOutcomePassesOn()
{
    QFETCH(Mode, mode);
    QFETCH(Outcome, outcome);
    QFETCH(bool, runs);
    QFETCH(TaskState, expectedState);
    QFETCH(int, expectedValue);
    QList<QThread *> ranOn;
    QObject context;
    PromiseKeeper keeper(1);
    pktest::PendingInput input(keeper, outcome);
    const pk::Promise<int> next = attach(
        input.promise(), mode, &context, [&ranOn] { ranOn.append(QThread::currentThread()); });
    QCOMPARE(next.state(), TaskState::Waiting);
    QVERIFY(input.finish());

    QTRY_VERIFY(next.isReady());
    QCoreApplication::processEvents(); // a handler that should not run has had its chance
    QCOMPARE(ranOn, runs ? QList<QThread *> { QThread::currentThread() } : QList<QThread *> {});
    QCOMPARE(next.state(), expectedState);
    switch (expectedState) {
    case TaskState::Succeeded:
        QCOMPARE(next.result(), expectedValue);
        break;
    case TaskState::Failed:
        QVERIFY(isExactly<std::out_of_range>(next.exception())); // the same exception
        QCOMPARE(next.errorString(), QString::fromUtf8(pktest::kInputError));
        break;
    default:
        QVERIFY(isExactly<pk::CancelledError>(thrownBy([&next] { (void)next.result(); })));
        break;
    }
}

void tst_Continuations::onFailedGetsTheException()
{
    QObject context;
    PromiseKeeper keeper(1);
    const pk::Promise<int> input = pktest::finishedInput(keeper, Outcome::Failed);
    QCOMPARE(input.state(), TaskState::Failed);
    auto recovered = input.onFailed(&context, [](std::exception_ptr error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::out_of_range &e) {
            return int(qstrlen(e.what()));
        } catch (...) { }
        return -1;
    });
    static_assert(std::is_same_v<decltype(recovered), pk::Promise<int>>);
    QTRY_VERIFY(recovered.isReady());
    QCOMPARE(recovered.state(), TaskState::Succeeded);
    QCOMPARE(recovered.result(), int(qstrlen(pktest::kInputError)));
}

void tst_Continuations::onFailedWithoutArgument()
{
    QObject context;
    PromiseKeeper keeper(1);
    const pk::Promise<int> input = pktest::finishedInput(keeper, Outcome::Failed);
    auto recovered = input.onFailed(&context, [] { return 98; });
    QTRY_VERIFY(recovered.isReady());
    QCOMPARE(recovered.result(), 98);
}

void tst_Continuations::typedOnFailed_data()
{
    QTest::addColumn<int>("thrown"); // 0: std::out_of_range, 1: std::runtime_error, 2: an int
    QTest::addColumn<bool>("handled");
    QTest::newRow("its type") << 0 << true;
    QTest::newRow("another type passes on") << 1 << false;
    QTest::newRow("not a std::exception passes on") << 2 << false;
}

// A handler taking an exception type runs for that type and its subclasses (std::out_of_range
// is a std::logic_error); anything else passes on as it was, type and message.
void tst_Continuations::typedOnFailed()
{
    QFETCH(int, thrown);
    QFETCH(bool, handled);
    QObject context;
    PromiseKeeper keeper(1);
    const pk::Promise<int> input = keeper.submit([thrown]() -> int {
        if (thrown == 0)
            throw std::out_of_range("index 7");
        if (thrown == 1)
            throw std::runtime_error("disk full");
        throw 42;
    });
    QString seen;
    auto recovered = input.onFailed(&context, [&seen](const std::logic_error &e) {
        seen = QString::fromUtf8(e.what());
        return -1;
    });
    static_assert(std::is_same_v<decltype(recovered), pk::Promise<int>>);
    QTRY_VERIFY(recovered.isReady());
    if (handled) {
        QCOMPARE(recovered.result(), -1);
        QCOMPARE(seen, QStringLiteral("index 7"));
        return;
    }
    QCOMPARE(recovered.state(), TaskState::Failed);
    QVERIFY(seen.isEmpty());
    if (thrown == 1)
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, recovered.result());
    else
        QVERIFY_THROWS_EXCEPTION(int, recovered.result());
}

void tst_Continuations::thenReturningAPromiseIsFlattened_data()
{
    QTest::addColumn<bool>("onContext");
    QTest::addColumn<int>("inner"); // 0: succeeds, 1: fails, 2: cancelled before it runs
    for (bool onContext : { false, true }) {
        const char *where = onContext ? "on a context" : "on the pool";
        QTest::addRow("%s, inner succeeds", where) << onContext << 0;
        QTest::addRow("%s, inner fails", where) << onContext << 1;
        QTest::addRow("%s, inner cancelled", where) << onContext << 2;
    }
}

// A handler returning Promise<U> gives Promise<U>, final only once the inner promise is, with
// its outcome (QFuture::unwrap() and QtPromise's flattening).
void tst_Continuations::thenReturningAPromiseIsFlattened()
{
    QFETCH(bool, onContext);
    QFETCH(int, inner);
    QObject context;
    PromiseKeeper keeper(2);
    pktest::Gate gate;
    const auto unblock = gate.openOnExit();
    // Handed from the handler (a worker, or this thread's event loop) to the test.
    std::mutex handing;
    pk::Promise<int> handedInner;
    std::atomic<bool> handed { false };
    const auto handler = [&](int v) {
        pk::Promise<int> p = keeper.submit([gate, v, inner](pk::TaskContext &task) {
            gate.pass();
            task.throwIfCancellationRequested(); // ends it Cancelled
            if (inner == 1)
                throw std::runtime_error("inner failed");
            return v * 10;
        });
        std::lock_guard lock(handing);
        handedInner = p;
        handed = true;
        return p;
    };
    const pk::Promise<int> input = keeper.submit([] { return 4; });
    pk::Promise<int> flat;
    if (onContext) {
        auto p = input.then(&context, handler);
        static_assert(std::is_same_v<decltype(p), pk::Promise<int>>);
        flat = p;
    } else {
        auto p = input.then(handler);
        static_assert(std::is_same_v<decltype(p), pk::Promise<int>>);
        flat = p;
    }
    QTRY_VERIFY(handed.load()); // runs this thread's events: the handler on a context
    const pk::Promise<int> innerPromise = [&] {
        std::lock_guard lock(handing);
        return handedInner;
    }();
    QVERIFY(gate.waitArrived()); // the inner task runs: the flattened promise still waits
    QVERIFY(!flat.isReady());
    if (inner == 2) {
        // Asked while it waits at the gate: it ends Cancelled when it looks.
        QVERIFY(innerPromise.requestCancellation());
    }
    gate.open();
    QTRY_VERIFY(flat.isReady());
    switch (inner) {
    case 0:
        QCOMPARE(flat.result(), 40);
        break;
    case 1:
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, flat.result());
        break;
    default:
        QCOMPARE(innerPromise.state(), TaskState::Cancelled);
        QCOMPARE(flat.state(), TaskState::Cancelled);
        break;
    }
}

void tst_Continuations::exceptionInContextContinuation_data()
{
    addModesAndOutcomes();
}

void tst_Continuations::exceptionInContextContinuation()
{
    QFETCH(Mode, mode);
    QFETCH(Outcome, outcome);
    QObject context;
    PromiseKeeper keeper(1);
    QSignalSpy callbackFailedSpy(&keeper, &PromiseKeeper::callbackFailed);
    QVERIFY(callbackFailedSpy.isValid());
    pktest::PendingInput input(keeper, outcome);
    const pk::Promise<int> next
        = attach(input.promise(), mode, &context, [] { throw std::logic_error("callback broke"); });
    QVERIFY(input.finish());

    QTRY_VERIFY(next.isReady());
    QCOMPARE(next.state(), TaskState::Failed);
    QVERIFY(isExactly<std::logic_error>(next.exception())); // the handler's, replacing any other
    QCOMPARE(next.errorString(), QStringLiteral("callback broke"));
    QTRY_COMPARE(callbackFailedSpy.count(), 1);
    const QList<QVariant> args = callbackFailedSpy.takeFirst();
    QCOMPARE(args.at(0).value<pk::TaskInfo>().id(), next.id());
    QCOMPARE(args.at(0).value<pk::TaskInfo>().state(), TaskState::Failed);
    QCOMPARE(args.at(1).toString(), QStringLiteral("callback broke"));
    // The exception did not reach the event loop: the test thread goes on with it.
    QObject later;
    auto after = next.onFailed(&later, [] { return 1; });
    QTRY_VERIFY(after.isReady());
    QCOMPARE(after.result(), 1);
    QCOMPARE(callbackFailedSpy.count(), 0);
}

void tst_Continuations::handedOnFailureIsNoCallbackFailure_data()
{
    QTest::addColumn<Mode>("mode");
    QTest::addColumn<int>("expectedCalls");
    QTest::newRow("finally") << Mode::Finally << 1;
    QTest::newRow("then") << Mode::Then << 0;
    QTest::newRow("onCancelled") << Mode::OnCancelled << 0;
}

void tst_Continuations::handedOnFailureIsNoCallbackFailure()
{
    QFETCH(Mode, mode);
    QFETCH(int, expectedCalls);
    int calls = 0;
    QObject context;
    PromiseKeeper keeper(1);
    QSignalSpy callbackFailedSpy(&keeper, &PromiseKeeper::callbackFailed);
    QSignalSpy failedSpy(&keeper, &PromiseKeeper::taskFailed);
    QVERIFY(callbackFailedSpy.isValid());
    QVERIFY(failedSpy.isValid());
    pktest::PendingInput input(keeper, Outcome::Failed);
    const pk::Promise<int> next = attach(input.promise(), mode, &context, [&calls] { ++calls; });
    QVERIFY(input.finish());

    QTRY_VERIFY(next.isReady());
    QCOMPARE(next.state(), TaskState::Failed);
    QVERIFY(isExactly<std::out_of_range>(next.exception()));
    QCOMPARE(calls, expectedCalls);
    const auto failedIds = [&failedSpy] {
        QList<quint64> ids;
        for (const QList<QVariant> &args : std::as_const(failedSpy))
            ids.append(args.at(0).value<pk::TaskInfo>().id());
        return ids;
    };
    // Once the keeper reported the continuation's failure, callbackFailed would have come.
    QTRY_VERIFY(failedIds().contains(next.id()));
    QCOMPARE(callbackFailedSpy.count(), 0);
}

void tst_Continuations::nullContext_data()
{
    QTest::addColumn<Mode>("mode");
    QTest::newRow("then") << Mode::Then;
    QTest::newRow("onFailed") << Mode::OnFailed;
    QTest::newRow("onCancelled") << Mode::OnCancelled;
    QTest::newRow("finally") << Mode::Finally;
}

void tst_Continuations::nullContext()
{
    QFETCH(Mode, mode);
    int calls = 0;
    PromiseKeeper keeper(1);
    const pk::Promise<int> input = pktest::finishedInput(keeper, Outcome::Succeeded);
    pktest::MessageLog log;
    const QRegularExpression warning(QStringLiteral("the context object is null"));
    QTest::ignoreMessage(QtWarningMsg, warning);

    const pk::Promise<int> next = attach(input, mode, nullptr, [&calls] { ++calls; });
    QCOMPARE(next.state(), TaskState::Failed); // at once
    QVERIFY(isExactly<pk::InvalidTaskError>(next.exception()));
    QCOMPARE(log.warningCategories(warning), QStringList { QStringLiteral("promisekeeper") });
    QCoreApplication::processEvents();
    QCOMPARE(calls, 0);
}

// ---- QFuture ----------------------------------------------------------------------------------

// ---- What the monitor shows of continuations --------------------------------------------------

namespace {
// Which continuation continuationKindInputsAndTitle() attaches: on the pool or on a context,
// titled by TaskOptions or not.
enum class Attach { Then, ThenOnContext, OnFailed, OnCancelled, Finally };

} // namespace
Q_DECLARE_METATYPE(Attach)
namespace {

pk::Promise<int> attachTitled(
    const pk::Promise<int> &input, Attach how, QObject *context, const pk::TaskOptions *options)
{
    const auto value = [](int v) { return v; };
    const auto replacement = [] { return 0; };
    switch (how) {
    case Attach::Then:
        return options ? input.then(*options, value) : input.then(value);
    case Attach::ThenOnContext:
        return options ? input.then(context, *options, value) : input.then(context, value);
    case Attach::OnFailed:
        return options ? input.onFailed(context, *options, replacement)
                       : input.onFailed(context, replacement);
    case Attach::OnCancelled:
        return options ? input.onCancelled(context, *options, replacement)
                       : input.onCancelled(context, replacement);
    case Attach::Finally:
        return options ? input.finally(context, *options, [] {}) : input.finally(context, [] {});
    }
    return {};
}
} // namespace

void tst_Continuations::continuationKindInputsAndTitle_data()
{
    QTest::addColumn<Attach>("how");
    QTest::addColumn<QString>("optionsTitle"); // empty: the overload without TaskOptions
    QTest::addColumn<QString>("expectedTitle");
    const QString arrow = QStringLiteral(" \u2190 decode");
    QTest::newRow("then") << Attach::Then << QString() << (QStringLiteral("then") + arrow);
    QTest::newRow("then, context")
        << Attach::ThenOnContext << QString() << (QStringLiteral("then") + arrow);
    QTest::newRow("onFailed") << Attach::OnFailed << QString()
                              << (QStringLiteral("onFailed") + arrow);
    QTest::newRow("onCancelled") << Attach::OnCancelled << QString()
                                 << (QStringLiteral("onCancelled") + arrow);
    QTest::newRow("finally") << Attach::Finally << QString() << (QStringLiteral("finally") + arrow);
    QTest::newRow("then, titled") << Attach::Then << QStringLiteral("scale")
                                  << QStringLiteral("scale");
    QTest::newRow("then, context, titled")
        << Attach::ThenOnContext << QStringLiteral("show") << QStringLiteral("show");
    QTest::newRow("onFailed, titled")
        << Attach::OnFailed << QStringLiteral("placeholder") << QStringLiteral("placeholder");
    QTest::newRow("onCancelled, titled")
        << Attach::OnCancelled << QStringLiteral("skipped") << QStringLiteral("skipped");
    QTest::newRow("finally, titled")
        << Attach::Finally << QStringLiteral("close file") << QStringLiteral("close file");
}

void tst_Continuations::continuationKindInputsAndTitle()
{
    QFETCH(Attach, how);
    QFETCH(QString, optionsTitle);
    QFETCH(QString, expectedTitle);

    PromiseKeeper keeper(1);
    QSignalSpy finished(&keeper, &PromiseKeeper::taskFinished);
    auto input = keeper.submit(pk::TaskOptions { QStringLiteral("decode"), 0 }, [] { return 1; });
    const pk::TaskOptions options { optionsTitle, 0 };
    auto next = attachTitled(input, how, this, optionsTitle.isEmpty() ? nullptr : &options);

    const pk::TaskInfo info = next.info();
    QCOMPARE(info.kind(), pk::TaskKind::Continuation);
    QCOMPARE(info.inputIds(), QList<quint64> { input.id() });
    QCOMPARE(info.title(), expectedTitle);
    QCOMPARE(next.title(), expectedTitle);
    QCOMPARE(input.info().kind(), pk::TaskKind::Task);
    QVERIFY(input.info().inputIds().isEmpty());

    // The same in what the keeper's signals carry, once it is final.
    QTRY_VERIFY_WITH_TIMEOUT(pk::isFinal(next.state()), pktest::kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(std::any_of(finished.cbegin(), finished.cend(),
                                 [&](const QList<QVariant> &args) {
                                     const auto i = args.at(0).value<pk::TaskInfo>();
                                     return i.id() == next.id() && i.title() == expectedTitle
                                         && i.kind() == pk::TaskKind::Continuation
                                         && i.inputIds() == QList<quint64> { input.id() };
                                 }),
        pktest::kTimeoutMs);
}

void tst_Continuations::untitledInputGivesItsId()
{
    PromiseKeeper keeper(1);
    auto input = keeper.submit([] { return 1; });
    auto next = input.then([](int v) { return v; });
    QCOMPARE(next.title(), QStringLiteral("then \u2190 task %1").arg(input.id()));
    QVERIFY(next.wait(pktest::kTimeoutMs));
}

void tst_Continuations::chainOfUntitledContinuationsNamesTheTask()
{
    PromiseKeeper keeper(1);
    auto first = keeper.submit(pk::TaskOptions { QStringLiteral("load"), 0 }, [] { return 1; });
    auto second = first.then([](int v) { return v + 1; });
    auto third = second.onFailed(this, [] { return 0; });
    // Each names the task at the head, not a title that grows along the chain...
    QCOMPARE(second.title(), QStringLiteral("then \u2190 load"));
    QCOMPARE(third.title(), QStringLiteral("onFailed \u2190 load"));
    // ...and each its own input.
    QCOMPARE(third.info().inputIds(), QList<quint64> { second.id() });
    QVERIFY(third.wait(pktest::kTimeoutMs));
}

void tst_Continuations::titledThenHasItsOwnPriority()
{
    PromiseKeeper keeper(1);
    auto input = keeper.submit(pk::TaskOptions { QStringLiteral("in"), 5 }, [] { return 1; });
    auto inherited = input.then([](int v) { return v; });
    auto own = input.then(pk::TaskOptions { QStringLiteral("mine"), -3 }, [](int v) { return v; });
    QCOMPARE(inherited.info().priority(), 5);
    QCOMPARE(own.info().priority(), -3);
    QVERIFY(own.wait(pktest::kTimeoutMs));
    QVERIFY(inherited.wait(pktest::kTimeoutMs));
}

void tst_Continuations::signalsNameTheKeeper()
{
    PromiseKeeper keeper(1);
    keeper.setObjectName(QStringLiteral("images"));
    QSignalSpy finished(&keeper, &PromiseKeeper::taskFinished);
    auto p = keeper.submit([] { return 1; });
    QVERIFY(p.wait(pktest::kTimeoutMs));
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, pktest::kTimeoutMs);
    QCOMPARE(finished.at(0).at(0).value<pk::TaskInfo>().keeperName(), QStringLiteral("images"));
    // Promise::info() may be called from any thread: it does not read the keeper's name.
    QCOMPARE(p.info().keeperName(), QString());
}

void tst_Continuations::futureFinishesWithPromise_data()
{
    QTest::addColumn<Outcome>("outcome");
    QTest::newRow("succeeded") << Outcome::Succeeded;
    QTest::newRow("failed") << Outcome::Failed;
    QTest::newRow("cancelled") << Outcome::Cancelled;
}

void tst_Continuations::futureFinishesWithPromise()
{
    QFETCH(Outcome, outcome);
    PromiseKeeper keeper(1);
    pktest::PendingInput input(keeper, outcome);
    QFuture<int> future = input.promise().future();
    QFutureWatcher<int> watcher;
    QSignalSpy finishedSpy(&watcher, &QFutureWatcherBase::finished);
    QSignalSpy canceledSpy(&watcher, &QFutureWatcherBase::canceled);
    QVERIFY(finishedSpy.isValid());
    QVERIFY(canceledSpy.isValid());
    watcher.setFuture(future);
    QVERIFY(future.isStarted());
    QVERIFY(!future.isFinished());

    QVERIFY(input.finish());
    QTRY_COMPARE(finishedSpy.count(), 1);
    QVERIFY(future.isFinished());
    switch (outcome) {
    case Outcome::Succeeded:
        QVERIFY(!future.isCanceled());
        QCOMPARE(future.resultCount(), 1);
        QCOMPARE(future.result(), kInputValue);
        QCOMPARE(watcher.result(), kInputValue);
        QCOMPARE(canceledSpy.count(), 0);
        break;
    case Outcome::Failed:
        // The same exception type comes out of the future.
        QVERIFY(isExactly<std::out_of_range>(thrownBy([&future] { (void)future.result(); })));
        QVERIFY(isExactly<std::out_of_range>(thrownBy([&future] { future.waitForFinished(); })));
        break;
    case Outcome::Cancelled:
        QVERIFY(future.isCanceled());
        QCOMPARE(future.resultCount(), 0);
        QCOMPARE(canceledSpy.count(), 1);
        break;
    }
}

void tst_Continuations::futureOfVoidPromise()
{
    PromiseKeeper keeper(1);
    auto done = keeper.submit([] {});
    QFuture<void> future = done.future();
    QTRY_VERIFY(future.isFinished());
    QVERIFY(!future.isCanceled());

    auto failing = keeper.submit([] { throw std::out_of_range("void failure"); });
    QFuture<void> failed = failing.future();
    QTRY_VERIFY(failed.isFinished());
    QVERIFY(isExactly<std::out_of_range>(thrownBy([&failed] { failed.waitForFinished(); })));

    // A future of an invalid promise finishes at once, with InvalidTaskError.
    QFuture<int> invalid = pk::Promise<int>().future();
    QVERIFY(invalid.isFinished());
    QVERIFY(isExactly<pk::InvalidTaskError>(thrownBy([&invalid] { (void)invalid.result(); })));
}

void tst_Continuations::futureWithQtFutureContinuations()
{
    pktest::Gate gate;
    QObject context;
    PromiseKeeper keeper(2);
    const auto unblock = gate.openOnExit();
    auto a = keeper.submit([gate] { return gate.pass() ? 2 : -1; });
    auto b = keeper.submit([] { return 3; });

    // Not const: Qt 6.4's whenAll() does not compile with const iterators.
    QList<QFuture<int>> futures { a.future(), b.future() };
    QFuture<QList<QFuture<int>>> all = QtFuture::whenAll(futures.begin(), futures.end());
    QFuture<int> tenTimes = a.future().then([](int v) { return v * 10; });
    QFuture<QThread *> onContext
        = b.future().then(&context, [](int) { return QThread::currentThread(); });
    QVERIFY(gate.waitArrived());
    QVERIFY(!all.isFinished());
    QVERIFY(!tenTimes.isFinished());

    gate.open();
    QTRY_VERIFY(all.isFinished());
    const QList<QFuture<int>> results = all.result();
    QCOMPARE(results.size(), 2);
    QCOMPARE(results[0].result(), 2);
    QCOMPARE(results[1].result(), 3);
    QTRY_VERIFY(tenTimes.isFinished());
    QCOMPARE(tenTimes.result(), 20);
    QTRY_VERIFY(onContext.isFinished());
    QCOMPARE(onContext.result(), QThread::currentThread());
}

void tst_Continuations::futureReportsProgressAndRequestsCancellation()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto task = keeper.submit([gate](pk::TaskContext &ctx) {
        ctx.setProgressRange(0, 10);
        ctx.setProgressValue(3);
        ctx.setProgressText(QStringLiteral("three"));
        gate.pass();
        pktest::awaitCancellationRequest(ctx); // the future's cancel()
        ctx.throwIfCancellationRequested();
        return 1;
    });
    QVERIFY(gate.waitArrived());
    QFuture<int> future = task.future(); // made after the progress: it gets it at once
    QCOMPARE(future.progressMaximum(), 10);
    QCOMPARE(future.progressValue(), 3);
    QCOMPARE(future.progressText(), QStringLiteral("three"));
    gate.open();
    future.cancel();
    QVERIFY(task.wait(pktest::kTimeoutMs));
    QCOMPARE(task.state(), TaskState::Cancelled);
    QVERIFY(task.isCancellationRequested());
}

void tst_Continuations::futureCancelledWhileQueuedNeverRuns()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto blocker = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    std::atomic<bool> ran { false };
    auto queued = keeper.submit([&ran] {
        ran = true;
        return 1;
    });
    auto after = queued.then([](int v) { return v + 1; });
    QFuture<int> future = queued.future();
    future.cancel();
    QCOMPARE(queued.state(), TaskState::Queued); // no callback from QFuture: the worker sees it
    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(queued.state(), TaskState::Cancelled);
    QVERIFY(!ran);
    QCOMPARE(after.state(), TaskState::Cancelled); // its continuation followed
    QCOMPARE(keeper.counts().cancelled, 2);
    QCOMPARE(blocker.state(), TaskState::Succeeded);
}

void tst_Continuations::fromFuture_data()
{
    QTest::addColumn<TaskState>("outcome");
    QTest::newRow("succeeds") << TaskState::Succeeded;
    QTest::newRow("fails") << TaskState::Failed;
    QTest::newRow("cancelled") << TaskState::Cancelled;
}

void tst_Continuations::fromFuture()
{
    QFETCH(TaskState, outcome);
    QPromise<int> source;
    source.start();
    pk::Promise<int> p = pk::fromFuture(source.future(), QStringLiteral("from QPromise"));
    QCOMPARE(p.state(), TaskState::Waiting);
    QCOMPARE(p.title(), QStringLiteral("from QPromise"));
    QCOMPARE(p.info().kind(), pk::TaskKind::Combinator);
    switch (outcome) {
    case TaskState::Succeeded:
        source.addResult(42);
        break;
    case TaskState::Failed:
        source.setException(std::make_exception_ptr(std::out_of_range("no such page")));
        break;
    default:
        source.future().cancel();
        break;
    }
    source.finish();
    QVERIFY(p.wait(pktest::kTimeoutMs));
    QCOMPARE(p.state(), outcome);
    if (outcome == TaskState::Succeeded)
        QCOMPARE(p.result(), 42);
    else if (outcome == TaskState::Failed)
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, p.result()); // its own type
    else
        QVERIFY_THROWS_EXCEPTION(pk::CancelledError, p.result());
    // A finished future gives a finished promise at once.
    pk::Promise<void> done = pk::fromFuture(QtFuture::makeReadyFuture());
    QCOMPARE(done.state(), TaskState::Succeeded);
}

void tst_Continuations::cancellingFromFuturePromiseCancelsTheFuture()
{
    QPromise<int> source;
    source.start();
    QFuture<int> future = source.future();
    pk::Promise<int> p = pk::fromFuture(future);
    QVERIFY(p.cancel());
    QCOMPARE(p.state(), TaskState::Cancelled);
    QVERIFY(future.isCanceled());
    QVERIFY(source.isCanceled()); // what a QPromise-based producer checks
    source.finish();
}

QTEST_MAIN(tst_Continuations)
#include "tst_continuations.moc"
