// pk::Promise<T>: result types, exceptions, waiting, taking, cancelling, identity and lifetime.
#include "pktest.h"

#include <pk/errors.h>
#include <pk/promise.h>
#include <pk/promisekeeper.h>

#include <QtCore/QDeadlineTimer>
#include <QtTest/QTest>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <typeinfo>
#include <vector>

using namespace std::chrono_literals;
using pk::TaskState;

namespace {

class Calculator
{
public:
    int add(int a, int b) const { return a + b + offset; }
    void store(int value) { stored = value; }
    int offset = 100;
    int stored = 0;
};

// A task exception that is not one of the standard ones, with data of its own.
class CustomError : public std::exception
{
public:
    explicit CustomError(int code)
        : m_code(code)
    { }
    const char *what() const noexcept override { return "custom failure"; }
    int code() const noexcept { return m_code; }

private:
    int m_code;
};

enum class Thrown { LogicError, RuntimeError, Custom, Int };

// Calls \a f and returns the exception it threw, or null.
template<typename F>
std::exception_ptr thrownBy(F &&f)
{
    try {
        f();
    } catch (...) {
        return std::current_exception();
    }
    return nullptr;
}

// Whether \a error is exactly of type E (not merely derived from it).
template<typename E>
bool isExactly(const std::exception_ptr &error)
{
    if (!error)
        return false;
    try {
        std::rethrow_exception(error);
    } catch (const E &e) {
        return typeid(e) == typeid(E);
    } catch (...) { }
    return false;
}

} // namespace

Q_DECLARE_METATYPE(Thrown)

class tst_Promise : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Result types and arguments
    void intResult();
    void qstringResult();
    void voidResult();
    void moveOnlyResult();
    void referenceReturningCallableGivesCopy();
    void memberFunction();
    void stdRefArgument();
    void argumentsAreCopied();

    // Exceptions
    void exceptionKeepsItsType_data();
    void exceptionKeepsItsType();
    void exceptionOnlyWhenFailed();

    // Waiting
    void waitTimesOutWhileBlocked_data();
    void waitTimesOutWhileBlocked();
    void resultTimesOutWhileBlocked_data();
    void resultTimesOutWhileBlocked();
    void waitFromAnotherThread();

    // Taking
    void takeResultTwiceThrows();
    void resultAfterTakeResultThrows_data();
    void resultAfterTakeResultThrows();

    // Cancelling
    void cancelQueuedTask();
    void cancelWakesWaiters();
    void cancelRunningTaskFails();
    void cancelFinishedTaskFails();

    // Invalid and failed-at-submission promises
    void defaultConstructedPromise();
    void emptyCallable_data();
    void emptyCallable();

    // Lifetime and identity
    void promiseOutlivesKeeper();
    void idsUniqueAndIncreasingAcrossKeepers();
    void titleFromOptions();
    void infoOfFinishedTask();
    void infoOfFailedTask();
    void infoOfLiveTasks();
    void copiesShareState();
    void finalTaskReleasesCallable_data();
    void finalTaskReleasesCallable();
};

// ---- Result types and arguments ---------------------------------------------------------------

void tst_Promise::intResult()
{
    pk::PromiseKeeper keeper;
    pk::Promise<int> p = keeper.submit([](int a, int b) { return a * b; }, 6, 7);
    static_assert(std::is_same_v<pk::Promise<int>::ResultType, int>);
    QCOMPARE(p.result(), 42);
    QCOMPARE(p.state(), TaskState::Succeeded);
    QVERIFY(p.isReady());
    QVERIFY(p.isValid());
    QCOMPARE(p.result(), 42); // result() can be read any number of times
}

void tst_Promise::qstringResult()
{
    pk::PromiseKeeper keeper;
    auto p = keeper.submit(
        [](const QString &s) { return s + QStringLiteral(" world"); }, QStringLiteral("hello"));
    static_assert(std::is_same_v<decltype(p), pk::Promise<QString>>);
    QCOMPARE(p.result(), QStringLiteral("hello world"));
    QVERIFY(p.errorString().isEmpty());
}

void tst_Promise::voidResult()
{
    std::atomic<int> calls { 0 };
    pk::PromiseKeeper keeper;
    auto p = keeper.submit([&calls] { ++calls; });
    static_assert(std::is_same_v<decltype(p), pk::Promise<void>>);
    static_assert(std::is_void_v<decltype(p.result())>);
    p.result();
    QCOMPARE(p.state(), TaskState::Succeeded);
    QCOMPARE(calls.load(), 1);
}

void tst_Promise::moveOnlyResult()
{
    pk::PromiseKeeper keeper;
    auto p = keeper.submit([] { return std::make_unique<int>(42); });
    using P = decltype(p);
    static_assert(std::is_same_v<P, pk::Promise<std::unique_ptr<int>>>);
    // result() of a move-only type can only hand out a reference to the stored value.
    static_assert(std::is_same_v<P::ResultType, const std::unique_ptr<int> &>);
    static_assert(std::is_same_v<decltype(p.result()), const std::unique_ptr<int> &>);

    const std::unique_ptr<int> &ref = p.result();
    QVERIFY(ref);
    QCOMPARE(*ref, 42);
    QCOMPARE(&p.result(), &ref); // the same stored object every time

    std::unique_ptr<int> taken = p.takeResult();
    QVERIFY(taken);
    QCOMPARE(*taken, 42);
}

void tst_Promise::referenceReturningCallableGivesCopy()
{
    QString source = QStringLiteral("before");
    pk::PromiseKeeper keeper;
    auto p = keeper.submit([&source]() -> const QString & { return source; });
    static_assert(std::is_same_v<decltype(p), pk::Promise<QString>>);
    QVERIFY(p.wait(pktest::kTimeoutMs));
    source = QStringLiteral("after"); // the task is finished: changing the source is race-free
    QCOMPARE(p.result(), QStringLiteral("before"));
}

void tst_Promise::memberFunction()
{
    Calculator calc;
    pk::PromiseKeeper keeper;
    auto sum = keeper.submit(&Calculator::add, &calc, 1, 2);
    static_assert(std::is_same_v<decltype(sum), pk::Promise<int>>);
    QCOMPARE(sum.result(), 103);

    keeper.submit(&Calculator::store, &calc, 7).result();
    QCOMPARE(calc.stored, 7);

    // An object passed by value is copied into the task like any other argument.
    auto onCopy = keeper.submit(&Calculator::store, calc, 9);
    onCopy.result();
    QCOMPARE(calc.stored, 7);
}

void tst_Promise::stdRefArgument()
{
    int counter = 0;
    pk::PromiseKeeper keeper;
    keeper.submit([](int &c) { c = 42; }, std::ref(counter)).result();
    QCOMPARE(counter, 42);
}

void tst_Promise::argumentsAreCopied()
{
    pktest::Gate gate;
    pk::PromiseKeeper keeper;
    const auto unblock = gate.openOnExit();
    auto blocker = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());

    QString text = QStringLiteral("original");
    std::vector<int> numbers { 1, 2, 3 };
    auto p = keeper.submit(
        [](const QString &t, const std::vector<int> &n) { return t + QString::number(n.size()); },
        text, numbers);
    QCOMPARE(p.state(), TaskState::Queued);
    text = QStringLiteral("changed");
    numbers.clear();

    gate.open();
    QVERIFY(blocker.result());
    QCOMPARE(p.result(), QStringLiteral("original3"));
}

// ---- Exceptions -------------------------------------------------------------------------------

void tst_Promise::exceptionKeepsItsType_data()
{
    QTest::addColumn<Thrown>("thrown");
    QTest::addColumn<QString>("expectedError");
    // The demangled type; the custom one lives in an anonymous namespace of this file.
    QTest::addColumn<QString>("expectedType");
    QTest::newRow("std::logic_error")
        << Thrown::LogicError << QStringLiteral("bad logic") << QStringLiteral("std::logic_error");
    QTest::newRow("std::runtime_error") << Thrown::RuntimeError << QStringLiteral("bad runtime")
                                        << QStringLiteral("std::runtime_error");
    QTest::newRow("custom std::exception")
        << Thrown::Custom << QStringLiteral("custom failure") << QStringLiteral("::CustomError");
    QTest::newRow("int") << Thrown::Int << QStringLiteral("unknown exception")
                         << QStringLiteral("int");
}

void tst_Promise::exceptionKeepsItsType()
{
    QFETCH(Thrown, thrown);
    QFETCH(QString, expectedError);
    QFETCH(QString, expectedType);

    pk::PromiseKeeper keeper;
    auto p = keeper.submit([thrown]() -> int {
        switch (thrown) {
        case Thrown::LogicError:
            throw std::logic_error("bad logic");
        case Thrown::RuntimeError:
            throw std::runtime_error("bad runtime");
        case Thrown::Custom:
            throw CustomError(7);
        case Thrown::Int:
            throw 42;
        }
        return 0;
    });
    QVERIFY(p.wait(pktest::kTimeoutMs));
    QCOMPARE(p.state(), TaskState::Failed);
    QCOMPARE(p.errorString(), expectedError);
    QCOMPARE(p.info().errorString(), expectedError);
    const QString type = p.info().errorType();
    if (expectedType.startsWith(QLatin1String("::")))
        QVERIFY2(type.endsWith(expectedType), qPrintable(type));
    else
        QCOMPARE(type, expectedType);
    QVERIFY(p.exception());

    const std::exception_ptr fromResult = thrownBy([&p] { (void)p.result(); });
    QVERIFY(fromResult);
    switch (thrown) {
    case Thrown::LogicError:
        QVERIFY(isExactly<std::logic_error>(fromResult));
        QVERIFY(isExactly<std::logic_error>(p.exception()));
        break;
    case Thrown::RuntimeError:
        QVERIFY(isExactly<std::runtime_error>(fromResult));
        break;
    case Thrown::Custom:
        QVERIFY(isExactly<CustomError>(fromResult));
        try {
            std::rethrow_exception(fromResult);
        } catch (const CustomError &e) {
            QCOMPARE(e.code(), 7); // the very object, not a copy sliced to std::exception
        }
        break;
    case Thrown::Int:
        try {
            std::rethrow_exception(fromResult);
        } catch (int value) {
            QCOMPARE(value, 42);
        } catch (...) {
            QFAIL("throw 42 must be rethrown as int");
        }
        break;
    }
    if (thrown != Thrown::Int) {
        try {
            std::rethrow_exception(fromResult);
        } catch (const std::exception &e) {
            QCOMPARE(QString::fromUtf8(e.what()), p.errorString()); // errorString() is what()
        }
    }
    // takeResult() of a failed task rethrows the same way.
    QVERIFY(thrownBy([&p] { (void)p.takeResult(); }));
}

void tst_Promise::exceptionOnlyWhenFailed()
{
    pktest::Gate gate;
    pk::PromiseKeeper keeper;
    const auto unblock = gate.openOnExit();
    auto running = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    auto queued = keeper.submit([] { return 1; });
    auto cancelled = keeper.submit([] { return 2; });
    auto failing = keeper.submit([]() -> int { throw std::runtime_error("x"); });
    QVERIFY(cancelled.cancel());

    QCOMPARE(running.state(), TaskState::Running);
    QVERIFY(!running.exception());
    QVERIFY(running.errorString().isEmpty());
    QCOMPARE(queued.state(), TaskState::Queued);
    QVERIFY(!queued.exception());
    QCOMPARE(cancelled.state(), TaskState::Cancelled);
    QVERIFY(!cancelled.exception());
    QVERIFY(cancelled.errorString().isEmpty());

    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(running.state(), TaskState::Succeeded);
    QVERIFY(!running.exception());
    QCOMPARE(queued.state(), TaskState::Succeeded);
    QVERIFY(!queued.exception());
    QCOMPARE(failing.state(), TaskState::Failed);
    QVERIFY(failing.exception());
}

// ---- Waiting ----------------------------------------------------------------------------------

enum class WaitKind { IntMsecs, DeadlineTimer, Chrono };
Q_DECLARE_METATYPE(WaitKind)

static void addWaitKinds()
{
    QTest::addColumn<WaitKind>("kind");
    QTest::newRow("int msecs") << WaitKind::IntMsecs;
    QTest::newRow("QDeadlineTimer") << WaitKind::DeadlineTimer;
    QTest::newRow("std::chrono") << WaitKind::Chrono;
}

void tst_Promise::waitTimesOutWhileBlocked_data()
{
    addWaitKinds();
}

void tst_Promise::waitTimesOutWhileBlocked()
{
    QFETCH(WaitKind, kind);
    pktest::Gate gate;
    pk::PromiseKeeper keeper;
    const auto unblock = gate.openOnExit();
    auto p = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());

    const auto waitFor = [&p, kind](int msecs) {
        switch (kind) {
        case WaitKind::IntMsecs:
            return p.wait(msecs);
        case WaitKind::DeadlineTimer:
            return p.wait(QDeadlineTimer(msecs));
        case WaitKind::Chrono:
            return p.wait(std::chrono::milliseconds(msecs));
        }
        return false;
    };
    QVERIFY(!waitFor(0));
    QVERIFY(!waitFor(20));
    QCOMPARE(p.state(), TaskState::Running);

    gate.open();
    QVERIFY(waitFor(pktest::kTimeoutMs));
    QCOMPARE(p.state(), TaskState::Succeeded);
    QVERIFY(waitFor(0)); // a final task never waits
    QVERIFY(p.result());
}

void tst_Promise::resultTimesOutWhileBlocked_data()
{
    addWaitKinds();
}

void tst_Promise::resultTimesOutWhileBlocked()
{
    QFETCH(WaitKind, kind);
    pktest::Gate gate;
    pk::PromiseKeeper keeper;
    const auto unblock = gate.openOnExit();
    auto p = keeper.submit([gate] { return gate.pass() ? 5 : -1; });
    QVERIFY(gate.waitArrived());

    const auto resultWithin = [&p, kind](int msecs) {
        switch (kind) {
        case WaitKind::IntMsecs:
            return p.result(msecs);
        case WaitKind::DeadlineTimer:
            return p.result(QDeadlineTimer(msecs));
        case WaitKind::Chrono:
            return p.result(std::chrono::milliseconds(msecs));
        }
        return 0;
    };
    QVERIFY(isExactly<pk::TimeoutError>(thrownBy([&] { (void)resultWithin(20); })));
    QCOMPARE(p.state(), TaskState::Running); // the time-out does not touch the task

    gate.open();
    QCOMPARE(resultWithin(pktest::kTimeoutMs), 5);
}

void tst_Promise::waitFromAnotherThread()
{
    std::atomic<int> seen { 0 };
    pktest::Gate gate;
    pk::PromiseKeeper keeper;
    const auto unblock = gate.openOnExit();
    auto p = keeper.submit([gate] { return gate.pass() ? 11 : -1; });
    QVERIFY(gate.waitArrived());

    QSemaphore waiting;
    std::thread waiter([p, &seen, &waiting] {
        waiting.release();
        seen = p.result(); // blocks until the task is released
    });
    const bool waiterStarted = waiting.tryAcquire(1, pktest::kTimeoutMs);
    gate.open();
    waiter.join(); // before any check can return
    QVERIFY(waiterStarted);
    QCOMPARE(seen.load(), 11);
}

// ---- Taking -----------------------------------------------------------------------------------

void tst_Promise::takeResultTwiceThrows()
{
    pk::PromiseKeeper keeper;
    auto p = keeper.submit([] { return std::make_unique<int>(1); });
    auto first = p.takeResult();
    QVERIFY(first);
    QVERIFY(isExactly<pk::InvalidTaskError>(thrownBy([&p] { (void)p.takeResult(); })));

    // A copy shares the state: the value is gone for it too.
    auto copy = p;
    QVERIFY(isExactly<pk::InvalidTaskError>(thrownBy([&copy] { (void)copy.takeResult(); })));

    auto v = keeper.submit([] {});
    v.takeResult();
    QVERIFY(isExactly<pk::InvalidTaskError>(thrownBy([&v] { v.takeResult(); })));
}

void tst_Promise::resultAfterTakeResultThrows_data()
{
    QTest::addColumn<bool>("moveOnly");
    QTest::newRow("QString") << false;
    QTest::newRow("std::unique_ptr") << true;
}

void tst_Promise::resultAfterTakeResultThrows()
{
    QFETCH(bool, moveOnly);
    pk::PromiseKeeper keeper;
    std::exception_ptr error;
    if (moveOnly) {
        auto p = keeper.submit([] { return std::make_unique<int>(3); });
        QCOMPARE(*p.takeResult(), 3);
        error = thrownBy([&p] { (void)p.result(); });
    } else {
        auto p = keeper.submit([] { return QStringLiteral("value"); });
        QCOMPARE(p.takeResult(), QStringLiteral("value"));
        error = thrownBy([&p] { (void)p.result(); });
    }
    QVERIFY(isExactly<pk::InvalidTaskError>(error));
}

// ---- Cancelling -------------------------------------------------------------------------------

void tst_Promise::cancelQueuedTask()
{
    std::atomic<bool> ran { false };
    pktest::Gate gate;
    pk::PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto first = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());

    auto queued = keeper.submit([&ran] {
        ran = true;
        return 1;
    });
    QCOMPARE(queued.state(), TaskState::Queued);
    QVERIFY(queued.cancel());
    QCOMPARE(queued.state(), TaskState::Cancelled);
    QVERIFY(queued.isReady());
    QVERIFY(queued.wait(0));
    QVERIFY(!queued.cancel()); // only once
    QVERIFY(isExactly<pk::CancelledError>(thrownBy([&queued] { (void)queued.result(); })));
    QVERIFY(queued.errorString().isEmpty());
    QVERIFY(queued.info().finishedAt().isValid());
    QVERIFY(!queued.info().startedAt().isValid());
    QCOMPARE(queued.info().workerIndex(), -1);

    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QVERIFY(first.result());
    QVERIFY(!ran.load()); // the body never ran
    QCOMPARE(queued.state(), TaskState::Cancelled);
    QCOMPARE(keeper.cancelledCount(), 1);
    QCOMPARE(keeper.succeededCount(), 1);
}

void tst_Promise::cancelWakesWaiters()
{
    pktest::Gate gate;
    pk::PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto first = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    auto queued = keeper.submit([] { return 1; });

    // Two threads block on the queued task; cancelling it must wake them. Their own time-out is
    // longer than the test's, so a missed wake-up fails the test instead of passing late.
    QSemaphore waiting;
    QSemaphore woken;
    std::vector<std::thread> waiters;
    for (int i = 0; i < 2; ++i) {
        waiters.emplace_back([queued, &waiting, &woken] {
            waiting.release();
            if (queued.wait(pktest::kGateTimeoutMs))
                woken.release();
        });
    }
    const bool bothWaiting = waiting.tryAcquire(2, pktest::kTimeoutMs);
    const bool cancelled = queued.cancel();
    const bool bothWoke = woken.tryAcquire(2, pktest::kTimeoutMs);
    for (std::thread &t : waiters)
        t.join(); // before any check can return
    QVERIFY(bothWaiting);
    QVERIFY(cancelled);
    QVERIFY(bothWoke);
    gate.open();
    QVERIFY(first.result());
}

void tst_Promise::cancelRunningTaskFails()
{
    pktest::Gate gate;
    pk::PromiseKeeper keeper;
    const auto unblock = gate.openOnExit();
    auto p = keeper.submit([gate] { return gate.pass() ? 8 : -1; });
    QVERIFY(gate.waitArrived());
    QCOMPARE(p.state(), TaskState::Running);
    QVERIFY(!p.cancel());
    QCOMPARE(p.state(), TaskState::Running);
    gate.open();
    QCOMPARE(p.result(), 8);
    QCOMPARE(p.state(), TaskState::Succeeded);
    QCOMPARE(keeper.cancelledCount(), 0);
}

void tst_Promise::cancelFinishedTaskFails()
{
    pk::PromiseKeeper keeper;
    auto ok = keeper.submit([] { return 1; });
    auto failed = keeper.submit([]() -> int { throw std::runtime_error("no"); });
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QVERIFY(!ok.cancel());
    QVERIFY(!failed.cancel());
    QCOMPARE(ok.state(), TaskState::Succeeded);
    QCOMPARE(failed.state(), TaskState::Failed);
    QCOMPARE(ok.result(), 1);
    QCOMPARE(keeper.cancelledCount(), 0);
}

// ---- Invalid promises -------------------------------------------------------------------------

void tst_Promise::defaultConstructedPromise()
{
    pk::Promise<int> p;
    QVERIFY(!p.isValid());
    QCOMPARE(p.state(), TaskState::Failed);
    QVERIFY(p.isReady());
    QVERIFY(p.wait());
    QVERIFY(p.wait(0));
    QVERIFY(p.wait(10ms));
    QVERIFY(!p.errorString().isEmpty());
    QCOMPARE(p.id(), quint64(0));
    QVERIFY(p.title().isEmpty());
    QVERIFY(!p.cancel());
    QVERIFY(isExactly<pk::InvalidTaskError>(thrownBy([&p] { (void)p.result(); })));
    QVERIFY(isExactly<pk::InvalidTaskError>(thrownBy([&p] { (void)p.result(10); })));
    QVERIFY(isExactly<pk::InvalidTaskError>(thrownBy([&p] { (void)p.takeResult(); })));
    QVERIFY(isExactly<pk::InvalidTaskError>(p.exception()));
    const pk::TaskInfo info = p.info();
    QVERIFY(!info.isValid());
    QCOMPARE(info.state(), TaskState::Failed);
    QCOMPARE(info.errorString(), p.errorString());

    pk::Promise<void> v;
    QVERIFY(!v.isValid());
    QVERIFY(isExactly<pk::InvalidTaskError>(thrownBy([&v] { v.result(); })));

    QVERIFY(p == pk::Promise<int>()); // two invalid promises are equal
}

enum class EmptyKind { StdFunction, FunctionPointer, MemberPointer };
Q_DECLARE_METATYPE(EmptyKind)

void tst_Promise::emptyCallable_data()
{
    QTest::addColumn<EmptyKind>("kind");
    QTest::newRow("null std::function") << EmptyKind::StdFunction;
    QTest::newRow("null function pointer") << EmptyKind::FunctionPointer;
    QTest::newRow("null member function pointer") << EmptyKind::MemberPointer;
}

void tst_Promise::emptyCallable()
{
    QFETCH(EmptyKind, kind);
    pk::PromiseKeeper keeper;
    pktest::MessageLog log;
    const QRegularExpression warning(QStringLiteral("empty callable.*\"empty\".*InvalidTaskError"));
    QTest::ignoreMessage(QtWarningMsg, warning);

    const pk::TaskOptions options { QStringLiteral("empty"), 0 };
    pk::Promise<int> p;
    switch (kind) {
    case EmptyKind::StdFunction: {
        std::function<int()> fn;
        p = keeper.submit(options, fn);
        break;
    }
    case EmptyKind::FunctionPointer: {
        int (*fn)() = nullptr;
        p = keeper.submit(options, fn);
        break;
    }
    case EmptyKind::MemberPointer: {
        int (Calculator::*fn)(int, int) const = nullptr;
        Calculator calc;
        p = keeper.submit(options, fn, &calc, 1, 2);
        break;
    }
    }
    // Failed at once, without waiting.
    QVERIFY(p.isValid());
    QCOMPARE(p.state(), TaskState::Failed);
    QVERIFY(p.id() > 0);
    QVERIFY(isExactly<pk::InvalidTaskError>(p.exception()));
    QVERIFY(isExactly<pk::InvalidTaskError>(thrownBy([&p] { (void)p.result(); })));
    QVERIFY(!p.errorString().isEmpty());
    QCOMPARE(log.warningCategories(warning), QStringList { QStringLiteral("promisekeeper") });
    QCOMPARE(keeper.failedCount(), 1);
    QVERIFY(keeper.waitForAll(0));
}

// ---- Lifetime and identity --------------------------------------------------------------------

void tst_Promise::promiseOutlivesKeeper()
{
    pktest::Gate gate;
    auto keeper = std::make_unique<pk::PromiseKeeper>(1);
    const auto unblock = gate.openOnExit();

    auto finished = keeper->submit(
        pk::TaskOptions { QStringLiteral("finished"), 0 }, [] { return QStringLiteral("done"); });
    QVERIFY(finished.wait(pktest::kTimeoutMs));
    auto running = keeper->submit([gate] { return gate.pass() ? 1 : -1; });
    QVERIFY(gate.waitArrived());
    auto queued1
        = keeper->submit(pk::TaskOptions { QStringLiteral("queued"), 0 }, [] { return 2; });
    auto queued2 = keeper->submit([] {});

    // The destructor cancels the queued tasks, then waits for the running one; this thread lets
    // it finish once it sees the cancellation, so the order is certain.
    std::thread releaser([queued1, gate] {
        queued1.wait();
        gate.open();
    });
    keeper.reset();
    releaser.join();

    QCOMPARE(finished.state(), TaskState::Succeeded);
    QCOMPARE(finished.result(), QStringLiteral("done"));
    QCOMPARE(finished.title(), QStringLiteral("finished"));
    QCOMPARE(finished.info().state(), TaskState::Succeeded);
    QVERIFY(finished.info().finishedAt().isValid());

    QCOMPARE(running.state(), TaskState::Succeeded);
    QCOMPARE(running.result(), 1);

    for (const pk::PromiseBase &p : { pk::PromiseBase(queued1), pk::PromiseBase(queued2) }) {
        QCOMPARE(p.state(), TaskState::Cancelled);
        QVERIFY(p.wait());
        QVERIFY(!p.exception());
        QCOMPARE(p.info().state(), TaskState::Cancelled);
        QVERIFY(!p.info().startedAt().isValid());
    }
    QVERIFY(!queued1.cancel()); // no keeper to ask, and final anyway
    QVERIFY(isExactly<pk::CancelledError>(thrownBy([&queued1] { (void)queued1.result(); })));
    QVERIFY(isExactly<pk::CancelledError>(thrownBy([&queued2] { queued2.result(); })));
    QCOMPARE(queued1.title(), QStringLiteral("queued"));

    // Copies made after the keeper is gone still work and are released without it.
    auto copy = finished;
    QCOMPARE(copy.result(), QStringLiteral("done"));
}

void tst_Promise::idsUniqueAndIncreasingAcrossKeepers()
{
    pk::PromiseKeeper a;
    pk::PromiseKeeper b(0);
    QList<quint64> ids;
    for (int i = 0; i < 20; ++i) {
        pk::PromiseKeeper &keeper = (i % 2 == 0) ? a : b;
        ids.append(keeper.submit([] {}).id());
    }
    for (qsizetype i = 1; i < ids.size(); ++i)
        QVERIFY2(ids.at(i) > ids.at(i - 1), "ids must increase with submission order");
    QVERIFY(ids.first() > 0);
    b.processPending();
    QVERIFY(a.waitForAll(pktest::kTimeoutMs));
}

void tst_Promise::titleFromOptions()
{
    pk::PromiseKeeper keeper;
    auto titled
        = keeper.submit(pk::TaskOptions { QStringLiteral("thumbnail"), 3 }, [] { return 1; });
    auto untitled = keeper.submit([] { return 2; });
    QCOMPARE(titled.title(), QStringLiteral("thumbnail"));
    QVERIFY(untitled.title().isEmpty());
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(titled.info().title(), QStringLiteral("thumbnail"));
    QCOMPARE(titled.info().priority(), 3);
    QCOMPARE(untitled.info().priority(), 0);
}

void tst_Promise::infoOfFinishedTask()
{
    pk::PromiseKeeper keeper(2);
    auto p = keeper.submit(pk::TaskOptions { QStringLiteral("info"), 5 }, [] { return 1; });
    QCOMPARE(p.result(), 1);
    const pk::TaskInfo info = p.info();
    QVERIFY(info.isValid());
    QCOMPARE(info.id(), p.id());
    QCOMPARE(info.title(), QStringLiteral("info"));
    QCOMPARE(info.priority(), 5);
    QCOMPARE(info.state(), TaskState::Succeeded);
    QVERIFY(info.errorString().isEmpty());
    QVERIFY(info.workerIndex() >= 0);
    QVERIFY(info.workerIndex() < keeper.threadCount());

    QVERIFY(info.queuedAtNsecs() > 0);
    QVERIFY(info.queuedAtNsecs() <= info.startedAtNsecs());
    QVERIFY(info.startedAtNsecs() <= info.finishedAtNsecs());
    QVERIFY(info.queuedAt().isValid());
    QVERIFY(info.startedAt().isValid());
    QVERIFY(info.finishedAt().isValid());
    QVERIFY(info.queuedAt() <= info.startedAt());
    QVERIFY(info.startedAt() <= info.finishedAt());
    QVERIFY(info.waitNsecs() >= 0);
    QVERIFY(info.runNsecs() >= 0);
    QCOMPARE(info.waitNsecs(), info.startedAtNsecs() - info.queuedAtNsecs());
    QCOMPARE(info.runNsecs(), info.finishedAtNsecs() - info.startedAtNsecs());
    QCOMPARE(p.info(), info); // a finished task's info does not change any more
}

void tst_Promise::infoOfFailedTask()
{
    pk::PromiseKeeper keeper;
    auto p = keeper.submit(pk::TaskOptions { QStringLiteral("fails"), 0 },
        []() -> int { throw std::invalid_argument("wrong input"); });
    QVERIFY(p.wait(pktest::kTimeoutMs));
    const pk::TaskInfo info = p.info();
    QCOMPARE(info.state(), TaskState::Failed);
    QCOMPARE(info.errorString(), QStringLiteral("wrong input"));
    QCOMPARE(info.title(), QStringLiteral("fails"));
    QVERIFY(info.startedAt().isValid());
    QVERIFY(info.finishedAt().isValid());
    QVERIFY(info.runNsecs() >= 0);
    QCOMPARE(info.workerIndex(), 0);
}

void tst_Promise::infoOfLiveTasks()
{
    pktest::Gate gate;
    pk::PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto running = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    auto queued = keeper.submit([] {});

    const pk::TaskInfo r = running.info();
    QCOMPARE(r.state(), TaskState::Running);
    QVERIFY(r.startedAt().isValid());
    QVERIFY(!r.finishedAt().isValid());
    QCOMPARE(r.workerIndex(), 0);
    QVERIFY(r.waitNsecs() >= 0);
    QCOMPARE(r.runNsecs(), qint64(-1));

    const pk::TaskInfo q = queued.info();
    QCOMPARE(q.state(), TaskState::Queued);
    QVERIFY(q.queuedAt().isValid());
    QVERIFY(!q.startedAt().isValid());
    QVERIFY(!q.finishedAt().isValid());
    QCOMPARE(q.workerIndex(), -1);
    QCOMPARE(q.waitNsecs(), qint64(-1));
    QCOMPARE(q.runNsecs(), qint64(-1));

    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
}

void tst_Promise::copiesShareState()
{
    pktest::Gate gate;
    pk::PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto blocker = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());

    auto original = keeper.submit([] { return 5; });
    pk::Promise<int> copy = original;
    QVERIFY(copy == original);
    QVERIFY(!(copy != original));
    QCOMPARE(copy.id(), original.id());
    QVERIFY(copy != blocker);

    pk::Promise<int> assigned;
    QVERIFY(assigned != original);
    assigned = copy;
    QVERIFY(assigned == original);

    // Cancelling through one copy is seen through the others.
    QVERIFY(copy.cancel());
    QCOMPARE(original.state(), TaskState::Cancelled);
    QCOMPARE(assigned.state(), TaskState::Cancelled);
    QVERIFY(!original.cancel());

    // Moving hands the state over and leaves the source invalid.
    pk::Promise<int> moved = std::move(assigned);
    QVERIFY(moved == original);
    QVERIFY(!assigned.isValid()); // NOLINT(bugprone-use-after-move): checking the moved-from state

    gate.open();
    QVERIFY(blocker.result());
    auto shared = keeper.submit([] { return 9; });
    const auto other = shared;
    QCOMPARE(shared.result(), 9);
    QCOMPARE(other.state(), TaskState::Succeeded);
    QCOMPARE(other.result(), 9);
}

enum class Ending {
    Succeeded,
    Failed,
    Cancelled,
    CancelAll,
    ShutdownCancelPending,
    KeeperDestroyed,
    SubmittedAfterShutdown
};
Q_DECLARE_METATYPE(Ending)

void tst_Promise::finalTaskReleasesCallable_data()
{
    QTest::addColumn<Ending>("ending");
    QTest::newRow("succeeded") << Ending::Succeeded;
    QTest::newRow("failed") << Ending::Failed;
    QTest::newRow("cancelled") << Ending::Cancelled;
    QTest::newRow("cancelAll") << Ending::CancelAll;
    QTest::newRow("shutdown(CancelPending)") << Ending::ShutdownCancelPending;
    QTest::newRow("keeper destroyed") << Ending::KeeperDestroyed;
    QTest::newRow("submitted after shutdown") << Ending::SubmittedAfterShutdown;
}

void tst_Promise::finalTaskReleasesCallable()
{
    // A final task keeps only its result: the callable and what it captured or was given are
    // destroyed, although the promise lives on (TaskCore::dropCallable()).
    QFETCH(Ending, ending);
    auto resource = std::make_shared<int>(1);
    const std::weak_ptr<int> watch = resource;

    pktest::Gate gate;
    auto keeper = std::make_unique<pk::PromiseKeeper>(1);
    const auto unblock = gate.openOnExit();
    pk::Promise<bool> blocker;
    // Behind a blocked task, so that the task surely still holds the resource when checked.
    if (ending != Ending::SubmittedAfterShutdown) {
        blocker = keeper->submit([gate] { return gate.pass(); });
        QVERIFY(gate.waitArrived());
    }
    if (ending == Ending::SubmittedAfterShutdown) {
        QVERIFY(keeper->shutdown());
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("after shutdown")));
    }
    auto p = keeper->submit(
        [ending](const std::shared_ptr<int> &r) {
            if (ending == Ending::Failed)
                throw std::runtime_error("failed");
            return *r;
        },
        std::move(resource));
    if (ending != Ending::SubmittedAfterShutdown)
        QVERIFY(!watch.expired()); // the task holds it

    std::thread releaser;
    switch (ending) {
    case Ending::Succeeded:
    case Ending::Failed:
        gate.open();
        QVERIFY(p.wait(pktest::kTimeoutMs));
        break;
    case Ending::Cancelled:
        QVERIFY(p.cancel());
        break;
    case Ending::CancelAll:
        QCOMPARE(keeper->cancelAll(), 2); // the task; the blocker is asked to stop
        QVERIFY(blocker.isCancellationRequested());
        break;
    case Ending::ShutdownCancelPending:
        QVERIFY(!keeper->shutdown(pk::ShutdownMode::CancelPending, 0));
        break;
    case Ending::KeeperDestroyed:
        releaser = std::thread([p, gate] {
            p.wait();
            gate.open();
        });
        keeper.reset();
        releaser.join();
        break;
    case Ending::SubmittedAfterShutdown:
        break;
    }
    QVERIFY(p.isReady());
    QVERIFY(watch.expired());
    gate.open();
}

QTEST_GUILESS_MAIN(tst_Promise)
#include "tst_promise.moc"
