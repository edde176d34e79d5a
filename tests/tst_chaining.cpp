// Chaining by argument: a pk::Promise passed to submit() makes the task wait for its value
// without holding a worker, and a failed input fails the task with pk::DependencyError.
#include "composetest.h"

#include <pk/errors.h>
#include <pk/eventstream.h>
#include <pk/promise.h>
#include <pk/promisekeeper.h>

#include <QtCore/QHash>
#include <QtCore/QRegularExpression>
#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

using pk::PromiseKeeper;
using pk::TaskState;
using pktest::isExactly;
using pktest::thrownBy;

namespace {

// Long enough to overflow any stack if a link recursed into the next (also under ASan, where
// it takes about a second and a half).
constexpr int kChainLength = 100000;

enum class Param { ByValue, ByConstRef };
enum class CancelBy { CancelAll, ShutdownCancelPending, Destructor };

// Records the states each task went through, as the event stream delivers them.
class RecordingListener : public pk::EventListener
{
public:
    void taskEvents(const pk::TaskEvent *events, qsizetype count) override
    {
        for (qsizetype i = 0; i < count; ++i)
            states[events[i].taskId()].append(events[i].state());
    }
    QHash<quint64, QList<TaskState>> states;
};

// The ids of the tasks a spy on PromiseKeeper::taskQueued saw.
QList<quint64> idsIn(const QSignalSpy &spy)
{
    QList<quint64> ids;
    for (const QList<QVariant> &args : spy)
        ids.append(args.at(0).value<pk::TaskInfo>().id());
    return ids;
}

// A copy of the pk::DependencyError in \a error; empty if it holds another type.
std::optional<pk::DependencyError> dependencyError(const std::exception_ptr &error)
{
    if (!isExactly<pk::DependencyError>(error))
        return std::nullopt;
    try {
        std::rethrow_exception(error);
    } catch (const pk::DependencyError &e) {
        return e;
    }
    return std::nullopt;
}

} // namespace

Q_DECLARE_METATYPE(Param)
Q_DECLARE_METATYPE(CancelBy)

class tst_Chaining : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Waiting for inputs
    void dependentWaitsForInput_data();
    void dependentWaitsForInput();
    void waitingTaskHoldsNoWorker();
    void queuedOnlyOnceAllInputsSucceeded();
    void mixedPromiseAndPlainArguments();
    void voidInputsAreWaitedForAndPassNothing();
    void inputsFromDifferentKeepers();
    void promiseParameterGetsThePromiseWithoutWaiting_data();
    void promiseParameterGetsThePromiseWithoutWaiting();

    // Failing inputs
    void failedInputGivesDependencyError_data();
    void failedInputGivesDependencyError();
    void cancelledInputGivesDependencyError();
    void invalidInputFailsAtOnce();

    // Deep chains
    void deepChainSucceeds();
    void deepChainFailureReachesTheEnd();

    // Cancelling and shutting down
    void cancelWaitingTask();
    void waitingTasksCancelledWithTheKeeper_data();
    void waitingTasksCancelledWithTheKeeper();
    void waitingTaskAtShutdown_data();
    void waitingTaskAtShutdown();

    // Event stream
    void waitingTaskIsListed();
    void waitingTaskEventsInOrder();
};

// ---- Waiting for inputs -----------------------------------------------------------------------

void tst_Chaining::dependentWaitsForInput_data()
{
    QTest::addColumn<Param>("param");
    QTest::newRow("by value") << Param::ByValue;
    QTest::newRow("by const reference") << Param::ByConstRef;
}

void tst_Chaining::dependentWaitsForInput()
{
    QFETCH(Param, param);
    std::atomic<int> calls { 0 };
    pktest::Gate gate;
    PromiseKeeper inputKeeper(1);
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();

    auto input = inputKeeper.submit([gate] {
        gate.pass();
        return QStringLiteral("value");
    });
    QVERIFY(gate.waitArrived());

    pk::Promise<QString> dependent;
    if (param == Param::ByValue) {
        dependent = keeper.submit(
            [&calls](QString s) {
                ++calls;
                return s + QStringLiteral("!");
            },
            input);
    } else {
        dependent = keeper.submit(
            [&calls](const QString &s) {
                ++calls;
                return s + QStringLiteral("!");
            },
            input);
    }
    QCOMPARE(dependent.state(), TaskState::Waiting);
    QCOMPARE(dependent.info().state(), TaskState::Waiting);
    QVERIFY(!dependent.isReady());
    QVERIFY(!dependent.wait(0));
    pk::TaskCounts counts = keeper.counts();
    QCOMPARE(counts.waiting, 1);
    QCOMPARE(counts.queued, 0);
    QCOMPARE(counts.running, 0);
    QVERIFY(keeper.isRunning()); // a waiting task is live
    QCOMPARE(calls.load(), 0);

    gate.open();
    QVERIFY(dependent.wait(pktest::kTimeoutMs));
    QCOMPARE(dependent.state(), TaskState::Succeeded);
    QCOMPARE(dependent.result(), QStringLiteral("value!"));
    QCOMPARE(calls.load(), 1);
    QVERIFY(dependent.info().startedAtNsecs() >= input.info().finishedAtNsecs());
    counts = keeper.counts();
    QCOMPARE(counts.waiting, 0);
    QCOMPARE(counts.succeeded, 1);
}

void tst_Chaining::waitingTaskHoldsNoWorker()
{
    pktest::Gate gate;
    PromiseKeeper inputKeeper(1);
    PromiseKeeper keeper(1); // one worker: a waiting task holding it would block everything
    const auto unblock = gate.openOnExit();

    auto input = inputKeeper.submit([gate] { return gate.pass() ? 1 : -1; });
    QVERIFY(gate.waitArrived());
    QList<pk::Promise<int>> dependents;
    for (int i = 0; i < 3; ++i)
        dependents.append(keeper.submit([i](int v) { return v + i; }, input));

    // The only worker of the keeper is free: an independent task runs and finishes.
    auto independent = keeper.submit([] { return QThread::currentThread(); });
    QVERIFY(independent.wait(pktest::kTimeoutMs));
    QCOMPARE(independent.state(), TaskState::Succeeded);
    QVERIFY(independent.result() != QThread::currentThread());
    for (const auto &d : std::as_const(dependents))
        QCOMPARE(d.state(), TaskState::Waiting);
    pk::TaskCounts counts = keeper.counts();
    QCOMPARE(counts.waiting, 3);
    QCOMPARE(counts.running, 0);
    QCOMPARE(counts.succeeded, 1);

    gate.open();
    for (int i = 0; i < 3; ++i) {
        QVERIFY(dependents[i].wait(pktest::kTimeoutMs));
        QCOMPARE(dependents[i].result(), 1 + i);
    }
}

void tst_Chaining::queuedOnlyOnceAllInputsSucceeded()
{
    PromiseKeeper inputKeeper(2);
    PromiseKeeper probeKeeper(1);
    PromiseKeeper keeper(1);
    pktest::Gates gates(2);
    QSignalSpy queuedSpy(&keeper, &PromiseKeeper::taskQueued);
    QSignalSpy startedSpy(&keeper, &PromiseKeeper::taskStarted);
    QVERIFY(queuedSpy.isValid());
    QVERIFY(startedSpy.isValid());

    auto a = inputKeeper.submit([gate = gates[0]] { return gate.pass() ? 1 : -1; });
    auto b = inputKeeper.submit([gate = gates[1]] { return gate.pass() ? 2 : -1; });
    QVERIFY(gates.waitAllArrived());
    auto dependent = keeper.submit([](int x, int y) { return x * 10 + y; }, a, b);
    // Attached to `a` after the dependent: once it ran, the dependent has seen `a` succeed.
    auto probe = probeKeeper.submit([](int x) { return x; }, a);

    gates[0].open();
    QVERIFY(probe.wait(pktest::kTimeoutMs));
    QCOMPARE(probe.result(), 1);
    QCOMPARE(dependent.state(), TaskState::Waiting); // `b` is still running
    QCOMPARE(keeper.counts().waiting, 1);
    QCOMPARE(keeper.counts().queued, 0);

    gates[1].open();
    QVERIFY(dependent.wait(pktest::kTimeoutMs));
    QCOMPARE(dependent.result(), 12);
    QTRY_COMPARE(idsIn(startedSpy), QList<quint64> { dependent.id() });
    QCOMPARE(idsIn(queuedSpy), QList<quint64> { dependent.id() }); // queued exactly once
}

void tst_Chaining::mixedPromiseAndPlainArguments()
{
    pktest::Gate gate;
    PromiseKeeper keeper(2);
    const auto unblock = gate.openOnExit();

    auto number = keeper.submit([gate] { return gate.pass() ? 6 : -1; });
    auto word = keeper.submit([] { return QStringLiteral("x"); });
    QString prefix = QStringLiteral("p");
    auto joined = keeper.submit(
        [](const QString &p, int n, const QString &w, double f) {
            return QStringLiteral("%1-%2-%3-%4").arg(p).arg(n).arg(w).arg(f);
        },
        prefix, number, word, 0.5);
    static_assert(std::is_same_v<decltype(joined), pk::Promise<QString>>);
    QVERIFY(gate.waitArrived());
    QCOMPARE(joined.state(), TaskState::Waiting);
    // The promises it waits for, in argument order; plain values are no inputs.
    QCOMPARE(joined.info().kind(), pk::TaskKind::Task);
    QCOMPARE(joined.info().inputIds(), (QList<quint64> { number.id(), word.id() }));
    prefix = QStringLiteral("changed"); // plain arguments were copied at submission

    gate.open();
    QVERIFY(joined.wait(pktest::kTimeoutMs));
    QCOMPARE(joined.result(), QStringLiteral("p-6-x-0.5"));
}

void tst_Chaining::voidInputsAreWaitedForAndPassNothing()
{
    pktest::Recorder order;
    pktest::Gate gate;
    PromiseKeeper inputKeeper(1);
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();

    auto done = inputKeeper.submit([gate, &order] {
        gate.pass();
        order.record(1);
    });
    static_assert(std::is_same_v<decltype(done), pk::Promise<void>>);
    auto number = keeper.submit([] { return 41; });
    auto plusOne = keeper.submit(
        [&order](int n) {
            order.record(2);
            return n + 1;
        },
        done, number);
    static_assert(std::is_same_v<decltype(plusOne), pk::Promise<int>>);
    auto onlyVoid = keeper.submit([&order] { order.record(3); }, done);
    static_assert(std::is_same_v<decltype(onlyVoid), pk::Promise<void>>);

    QVERIFY(gate.waitArrived());
    QVERIFY(number.wait(pktest::kTimeoutMs));
    QCOMPARE(plusOne.state(), TaskState::Waiting);
    QCOMPARE(onlyVoid.state(), TaskState::Waiting);
    QVERIFY(order.values().isEmpty());

    gate.open();
    QVERIFY(plusOne.wait(pktest::kTimeoutMs));
    QVERIFY(onlyVoid.wait(pktest::kTimeoutMs));
    QCOMPARE(plusOne.result(), 42);
    QCOMPARE(onlyVoid.state(), TaskState::Succeeded);
    QList<int> values = order.values();
    QCOMPARE(values.size(), 3);
    QCOMPARE(values.first(), 1); // the void input ran to the end before either dependent
    std::sort(values.begin(), values.end());
    QCOMPARE(values, (QList<int> { 1, 2, 3 }));
}

void tst_Chaining::inputsFromDifferentKeepers()
{
    pktest::Gate gate;
    PromiseKeeper first(1);
    PromiseKeeper second(1);
    PromiseKeeper third(1);
    const auto unblock = gate.openOnExit();

    auto a = first.submit([] { return 2; });
    auto b = second.submit([gate] { return gate.pass() ? 3 : -1; });
    auto product = third.submit([](int x, int y) { return x * y; }, a, b);
    auto back = first.submit([](int p) { return p + 1; }, product); // back to the first keeper
    QVERIFY(gate.waitArrived());
    QCOMPARE(product.state(), TaskState::Waiting);
    QCOMPARE(back.state(), TaskState::Waiting);
    QCOMPARE(third.counts().waiting, 1);
    QCOMPARE(first.counts().waiting, 1);

    gate.open();
    QVERIFY(back.wait(pktest::kTimeoutMs));
    QCOMPARE(back.result(), 7);
    QCOMPARE(product.result(), 6);
    // Each task ran on the keeper it was submitted to.
    QCOMPARE(first.counts().succeeded, 2);
    QCOMPARE(second.counts().succeeded, 1);
    QCOMPARE(third.counts().succeeded, 1);
}

void tst_Chaining::promiseParameterGetsThePromiseWithoutWaiting_data()
{
    QTest::addColumn<Param>("param");
    QTest::newRow("pk::Promise<int>") << Param::ByValue;
    QTest::newRow("const pk::Promise<int> &") << Param::ByConstRef;
}

void tst_Chaining::promiseParameterGetsThePromiseWithoutWaiting()
{
    QFETCH(Param, param);
    pktest::Gate gate;
    PromiseKeeper inputKeeper(1);
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();

    auto input = inputKeeper.submit([gate] { return gate.pass() ? 5 : -1; });
    QVERIFY(gate.waitArrived());

    using Seen = std::pair<quint64, TaskState>;
    pk::Promise<Seen> seen;
    if (param == Param::ByValue)
        seen = keeper.submit([](pk::Promise<int> p) { return Seen(p.id(), p.state()); }, input);
    else
        seen = keeper.submit(
            [](const pk::Promise<int> &p) { return Seen(p.id(), p.state()); }, input);
    // It runs while its input is still blocked.
    QVERIFY(seen.wait(pktest::kTimeoutMs));
    QCOMPARE(seen.state(), TaskState::Succeeded);
    QCOMPARE(seen.result().first, input.id());
    QCOMPARE(seen.result().second, TaskState::Running);
    QCOMPARE(input.state(), TaskState::Running);

    gate.open();
    QCOMPARE(input.result(), 5);
}

// ---- Failing inputs ---------------------------------------------------------------------------

void tst_Chaining::failedInputGivesDependencyError_data()
{
    QTest::addColumn<QString>("title");
    QTest::addColumn<bool>("failsFirst");
    QTest::newRow("untitled, fails while the dependent waits") << QString() << false;
    QTest::newRow("titled, fails while the dependent waits")
        << QStringLiteral("load config") << false;
    QTest::newRow("titled, failed before submit") << QStringLiteral("load config") << true;
}

void tst_Chaining::failedInputGivesDependencyError()
{
    QFETCH(QString, title);
    QFETCH(bool, failsFirst);
    std::atomic<bool> ran { false };
    pktest::Gate gate;
    PromiseKeeper inputKeeper(1);
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();

    auto input = inputKeeper.submit(pk::TaskOptions { title, 0 }, [gate]() -> int {
        gate.pass();
        throw std::out_of_range("index 7 out of range");
    });
    if (failsFirst) {
        gate.open();
        QVERIFY(input.wait(pktest::kTimeoutMs));
    }
    auto dependent = keeper.submit(
        [&ran](int v) {
            ran = true;
            return v;
        },
        input);
    if (!failsFirst) {
        QCOMPARE(dependent.state(), TaskState::Waiting);
        gate.open();
    }

    QVERIFY(dependent.wait(pktest::kTimeoutMs));
    QCOMPARE(dependent.state(), TaskState::Failed);
    QVERIFY(!ran);
    QCOMPARE(dependent.info().startedAtNsecs(), 0); // never queued, never started
    QVERIFY(isExactly<pk::DependencyError>(thrownBy([&dependent] { (void)dependent.result(); })));

    const auto error = dependencyError(dependent.exception());
    QVERIFY(error);
    const QString what = QString::fromUtf8(error->what());
    QVERIFY2(QRegularExpression(QStringLiteral("\\b%1\\b").arg(input.id())).match(what).hasMatch(),
        qPrintable(what));
    if (!title.isEmpty())
        QVERIFY2(what.contains(title), qPrintable(what));
    QVERIFY2(what.contains(QStringLiteral("index 7 out of range")), qPrintable(what));
    QCOMPARE(error->message(), what);
    QCOMPARE(dependent.errorString(), what);
    QCOMPARE(error->inputId(), input.id());
    QCOMPARE(error->reason(), QStringLiteral("index 7 out of range"));

    // The cause is the input's own exception, with its type.
    QVERIFY(isExactly<std::out_of_range>(error->cause()));
    QCOMPARE(pktest::whatOf(error->cause()), QStringLiteral("index 7 out of range"));
    QVERIFY(isExactly<std::out_of_range>(thrownBy([&error] { error->rethrow_nested(); })));
    QVERIFY(isExactly<std::out_of_range>(thrownBy([&error] { std::rethrow_if_nested(*error); })));
    QCOMPARE(keeper.counts().failed, 1);
    QCOMPARE(keeper.counts().waiting, 0);
}

void tst_Chaining::cancelledInputGivesDependencyError()
{
    std::atomic<bool> ran { false };
    PromiseKeeper inputKeeper(1);
    PromiseKeeper keeper(1);
    pktest::PendingInput input(inputKeeper, pktest::Outcome::Cancelled);

    auto dependent = keeper.submit(
        [&ran](int v) {
            ran = true;
            return v;
        },
        input.promise());
    QCOMPARE(dependent.state(), TaskState::Waiting);
    QVERIFY(input.finish());
    QCOMPARE(input.promise().state(), TaskState::Cancelled);

    QVERIFY(dependent.wait(pktest::kTimeoutMs));
    QCOMPARE(dependent.state(), TaskState::Failed);
    QVERIFY(!ran);
    const auto error = dependencyError(dependent.exception());
    QVERIFY(error);
    const QString what = QString::fromUtf8(error->what());
    QVERIFY2(QRegularExpression(QStringLiteral("\\b%1\\b").arg(input.promise().id()))
                 .match(what)
                 .hasMatch(),
        qPrintable(what));
    QVERIFY2(what.contains(QStringLiteral("cancelled")), qPrintable(what));
    QCOMPARE(error->inputId(), input.promise().id());
    QCOMPARE(error->reason(), QStringLiteral("cancelled"));
    QVERIFY(isExactly<pk::CancelledError>(error->cause()));
    QVERIFY(isExactly<pk::CancelledError>(thrownBy([&error] { error->rethrow_nested(); })));
}

void tst_Chaining::invalidInputFailsAtOnce()
{
    std::atomic<bool> ran { false };
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto pending = keeper.submit([gate] { return gate.pass() ? 1 : -1; });
    QVERIFY(gate.waitArrived());

    const pk::Promise<int> invalid;
    auto alone = keeper.submit(
        [&ran](int v) {
            ran = true;
            return v;
        },
        invalid);
    // Even next to an input that is still running, an invalid one fails the task at once.
    auto withPending = keeper.submit(
        [&ran](int a, int b) {
            ran = true;
            return a + b;
        },
        pending, invalid);
    for (const auto &p : { alone, withPending }) {
        QCOMPARE(p.state(), TaskState::Failed);
        const auto error = dependencyError(p.exception());
        QVERIFY(error);
        QCOMPARE(error->inputId(), quint64(0));
        QVERIFY(isExactly<pk::InvalidTaskError>(error->cause()));
        QVERIFY2(
            QString::fromUtf8(error->what()).contains(QStringLiteral("invalid")), error->what());
    }
    QCOMPARE(keeper.counts().failed, 2);
    QCOMPARE(keeper.counts().waiting, 0);

    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QVERIFY(!ran);
    QCOMPARE(withPending.state(), TaskState::Failed);
}

// ---- Deep chains ------------------------------------------------------------------------------

void tst_Chaining::deepChainSucceeds()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();

    pk::Promise<int> last = keeper.submit([gate] { return gate.pass() ? 0 : -kChainLength; });
    for (int i = 0; i < kChainLength; ++i)
        last = keeper.submit([](int v) { return v + 1; }, last);
    QVERIFY(gate.waitArrived());
    QCOMPARE(keeper.counts().waiting, kChainLength); // the whole chain waits for its head

    gate.open();
    QVERIFY(last.wait(pktest::kTimeoutMs));
    QCOMPARE(last.state(), TaskState::Succeeded);
    QCOMPARE(last.result(), kChainLength);
    QCOMPARE(keeper.counts().succeeded, kChainLength + 1);
    QCOMPARE(keeper.counts().waiting, 0);
}

void tst_Chaining::deepChainFailureReachesTheEnd()
{
    std::atomic<int> ran { 0 };
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();

    const pk::Promise<int> head = keeper.submit([gate]() -> int {
        gate.pass();
        throw std::out_of_range("head failed");
    });
    pk::Promise<int> previous;
    pk::Promise<int> last = head;
    for (int i = 0; i < kChainLength; ++i) {
        previous = last;
        last = keeper.submit(
            [&ran](int v) {
                ++ran;
                return v + 1;
            },
            last);
    }
    QVERIFY(gate.waitArrived());
    QCOMPARE(keeper.counts().waiting, kChainLength);

    // The failure travels the whole chain (in a loop: a recursion would overflow the stack).
    gate.open();
    QVERIFY(last.wait(pktest::kTimeoutMs));
    QCOMPARE(last.state(), TaskState::Failed);
    const auto error = dependencyError(last.exception());
    QVERIFY(error);
    QCOMPARE(error->inputId(), previous.id());
    QCOMPARE(error->reason(), QStringLiteral("head failed"));
    QVERIFY(isExactly<std::out_of_range>(error->cause())); // the head's exception, not a chain
    QCOMPARE(pktest::whatOf(error->cause()), QStringLiteral("head failed"));
    // The message names the last input only, it does not grow along the chain.
    QVERIFY2(QString::fromUtf8(error->what()).size() < 200, error->what());

    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(ran.load(), 0);
    QCOMPARE(keeper.counts().failed, kChainLength + 1);
    QCOMPARE(keeper.counts().waiting, 0);
}

// ---- Cancelling and shutting down -------------------------------------------------------------

void tst_Chaining::cancelWaitingTask()
{
    std::atomic<bool> ran { false };
    pktest::Gate gate;
    PromiseKeeper inputKeeper(1);
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();

    auto input = inputKeeper.submit([gate] { return gate.pass() ? 1 : -1; });
    auto dependent = keeper.submit(
        [&ran](int v) {
            ran = true;
            return v;
        },
        input);
    // Attached to the input after the dependent: once it ran, the dependent saw the success.
    auto later = keeper.submit([](int v) { return v + 1; }, input);
    QCOMPARE(dependent.state(), TaskState::Waiting);

    QVERIFY(dependent.cancel());
    QCOMPARE(dependent.state(), TaskState::Cancelled);
    QVERIFY(!dependent.cancel()); // final already
    QCOMPARE(keeper.counts().cancelled, 1);
    QCOMPARE(keeper.counts().waiting, 1); // `later`

    gate.open();
    QVERIFY(later.wait(pktest::kTimeoutMs));
    QCOMPARE(later.result(), 2);
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(dependent.state(), TaskState::Cancelled);
    QVERIFY(!ran);
    QVERIFY(isExactly<pk::CancelledError>(thrownBy([&dependent] { (void)dependent.result(); })));
    QCOMPARE(keeper.counts().cancelled, 1);
    QCOMPARE(keeper.counts().succeeded, 1);
}

void tst_Chaining::waitingTasksCancelledWithTheKeeper_data()
{
    QTest::addColumn<CancelBy>("by");
    QTest::newRow("cancelAll()") << CancelBy::CancelAll;
    QTest::newRow("shutdown(CancelPending)") << CancelBy::ShutdownCancelPending;
    QTest::newRow("destructor") << CancelBy::Destructor;
}

void tst_Chaining::waitingTasksCancelledWithTheKeeper()
{
    QFETCH(CancelBy, by);
    std::atomic<int> ran { 0 };
    pktest::Gate gate;
    PromiseKeeper inputKeeper(1);
    auto keeper = std::make_unique<PromiseKeeper>(1);
    const auto unblock = gate.openOnExit();

    auto input = inputKeeper.submit([gate] { return gate.pass() ? 1 : -1; });
    QList<pk::Promise<int>> dependents;
    for (int i = 0; i < 3; ++i) {
        dependents.append(keeper->submit(
            [&ran](int v) {
                ++ran;
                return v;
            },
            input));
    }
    auto probe = inputKeeper.submit([](int v) { return v; }, input); // attached after them

    switch (by) {
    case CancelBy::CancelAll:
        QCOMPARE(keeper->cancelAll(), 3);
        break;
    case CancelBy::ShutdownCancelPending:
        QVERIFY(keeper->shutdown(pk::ShutdownMode::CancelPending, pktest::kTimeoutMs));
        break;
    case CancelBy::Destructor:
        keeper.reset();
        break;
    }
    // Nothing is left pending, although the input has not finished.
    for (const auto &d : std::as_const(dependents))
        QCOMPARE(d.state(), TaskState::Cancelled);
    if (keeper) {
        QCOMPARE(keeper->counts().waiting, 0);
        QCOMPARE(keeper->counts().cancelled, 3);
    }

    gate.open();
    QVERIFY(probe.wait(pktest::kTimeoutMs));
    QCOMPARE(probe.result(), 1);
    for (const auto &d : std::as_const(dependents))
        QCOMPARE(d.state(), TaskState::Cancelled);
    QCOMPARE(ran.load(), 0);
}

void tst_Chaining::waitingTaskAtShutdown_data()
{
    QTest::addColumn<pk::ShutdownMode>("mode");
    QTest::addColumn<TaskState>("expected");
    QTest::newRow("Drain runs it") << pk::ShutdownMode::Drain << TaskState::Succeeded;
    QTest::newRow("CancelPending cancels it")
        << pk::ShutdownMode::CancelPending << TaskState::Cancelled;
}

// A task chained by argument before the shutdown is part of what was submitted: Drain runs it
// once its input succeeds, CancelPending cancels it at once.
void tst_Chaining::waitingTaskAtShutdown()
{
    QFETCH(pk::ShutdownMode, mode);
    QFETCH(TaskState, expected);
    std::atomic<bool> ran { false };
    pktest::Gate gate;
    PromiseKeeper inputKeeper(1);
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();

    auto input = inputKeeper.submit([gate] { return gate.pass() ? 1 : -1; });
    auto dependent = keeper.submit(
        [&ran](int v) {
            ran = true;
            return v + 1;
        },
        input);
    QVERIFY(gate.waitArrived());
    QCOMPARE(keeper.shutdown(mode, 0), mode == pk::ShutdownMode::CancelPending);
    QVERIFY(keeper.isShutdown());

    gate.open();
    QVERIFY(keeper.shutdown(mode, pktest::kTimeoutMs)); // the wait includes the released task
    QCOMPARE(dependent.state(), expected);
    QCOMPARE(ran.load(), expected == TaskState::Succeeded);
    if (expected == TaskState::Succeeded)
        QCOMPARE(dependent.result(), 2);
    QCOMPARE(keeper.counts().failed, 0);
}

// ---- Event stream -----------------------------------------------------------------------------

void tst_Chaining::waitingTaskIsListed()
{
    pktest::Gate gate;
    PromiseKeeper inputKeeper(1);
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();

    auto input = inputKeeper.submit([gate] { return gate.pass() ? 1 : -1; });
    auto dependent = keeper.submit(
        pk::TaskOptions { QStringLiteral("dependent"), 3 }, [](int v) { return v; }, input);
    const QList<pk::TaskInfo> tasks = keeper.tasks();
    QCOMPARE(tasks.size(), 1);
    QCOMPARE(tasks.first().id(), dependent.id());
    QCOMPARE(tasks.first().state(), TaskState::Waiting);
    QCOMPARE(tasks.first().title(), QStringLiteral("dependent"));
    QCOMPARE(tasks.first().priority(), 3);
    QVERIFY(tasks.first().startedAt().isNull());
    QCOMPARE(dependent.title(), QStringLiteral("dependent"));

    gate.open();
    QVERIFY(dependent.wait(pktest::kTimeoutMs));
    QVERIFY(keeper.tasks().isEmpty());
}

void tst_Chaining::waitingTaskEventsInOrder()
{
    RecordingListener listener;
    pktest::Gate gate;
    PromiseKeeper inputKeeper(1);
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    keeper.addEventListener(&listener);
    const auto remove
        = qScopeGuard([&keeper, &listener] { keeper.removeEventListener(&listener); });
    QSignalSpy queuedSpy(&keeper, &PromiseKeeper::taskQueued);
    QVERIFY(queuedSpy.isValid());

    auto input = inputKeeper.submit([gate] { return gate.pass() ? 1 : -1; });
    auto dependent = keeper.submit([](int v) { return v + 1; }, input);
    QTRY_COMPARE(listener.states.value(dependent.id()), QList<TaskState> { TaskState::Waiting });
    QCOMPARE(queuedSpy.count(), 0); // waiting is not queued

    gate.open();
    QVERIFY(dependent.wait(pktest::kTimeoutMs));
    QTRY_COMPARE(listener.states.value(dependent.id()),
        (QList<TaskState> {
            TaskState::Waiting, TaskState::Queued, TaskState::Running, TaskState::Succeeded }));
    QCOMPARE(idsIn(queuedSpy), QList<quint64> { dependent.id() });
}

QTEST_MAIN(tst_Chaining)
#include "tst_chaining.moc"
