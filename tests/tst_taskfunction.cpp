// pk::TaskFunction: callbacks on a context object's thread, callbacks reassigned while tasks
// run, copies sharing one state, options, and memoisation (pending and succeeded calls, LRU
// eviction, failures never kept, many threads calling at once).
#include "pktest.h"

#include <pk/errors.h>
#include <pk/promisekeeper.h>
#include <pk/taskcontext.h>
#include <pk/taskfunction.h>

#include <QtCore/QList>
#include <QtCore/QMutex>
#include <QtCore/QRegularExpression>
#include <QtCore/QThread>
#include <QtTest/QTest>

#include <atomic>
#include <exception>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using pk::PromiseKeeper;
using pk::TaskState;
using pktest::kTimeoutMs;

namespace {

// What the failing tasks throw: the error callback must get it with its own type.
class JobError : public std::runtime_error
{
public:
    explicit JobError(int code)
        : std::runtime_error("job " + std::to_string(code) + " failed")
        , m_code(code)
    { }
    int code() const { return m_code; }

private:
    int m_code;
};

// One call of a callback: its arguments and the thread it ran on.
struct Call
{
    quint64 taskId = 0;
    int result = 0;
    std::exception_ptr error;
    QThread *thread = nullptr;
};

// A context object whose member functions are callbacks; records the calls, from any thread.
class Receiver : public QObject
{
public:
    void taskDone(quint64 taskId, int result) { record({ taskId, result, {}, current() }); }
    void taskDoneByRef(quint64 taskId, const int &result)
    {
        record({ taskId, result, {}, current() });
    }
    void voidTaskDone(quint64 taskId) { record({ taskId, 0, {}, current() }); }
    void taskFailed(quint64 taskId, const std::exception_ptr &error)
    {
        record({ taskId, 0, error, current() });
    }

    void record(const Call &call)
    {
        QMutexLocker lock(&m_mutex);
        m_calls.append(call);
    }
    QList<Call> calls() const
    {
        QMutexLocker lock(&m_mutex);
        return m_calls;
    }
    int count() const { return int(calls().size()); }

private:
    static QThread *current() { return QThread::currentThread(); }

    mutable QMutex m_mutex;
    QList<Call> m_calls;
};

// A Receiver living in a thread of its own, with a running event loop.
class ReceiverThread
{
public:
    ReceiverThread()
        : m_receiver(new Receiver)
    {
        m_thread.setObjectName(QStringLiteral("receiver thread"));
        m_receiver->moveToThread(&m_thread);
        m_thread.start();
    }
    ~ReceiverThread()
    {
        m_receiver->deleteLater(); // deleted by the thread as it finishes
        m_thread.quit();
        m_thread.wait();
    }
    ReceiverThread(const ReceiverThread &) = delete;
    ReceiverThread &operator=(const ReceiverThread &) = delete;

    Receiver *receiver() const { return m_receiver; }
    QThread *thread() { return &m_thread; }

private:
    QThread m_thread;
    Receiver *m_receiver;
};

/*!
    Waits until whatever the TaskFunction posted to \a context for \a promise's task has run: a
    finally() attached now comes after the TaskFunction's own hook (continuations run in the
    order they were attached) and posts to the same thread after it. So a callback that was not
    called by then never will be.
*/
template<typename T>
bool callbacksDelivered(const pk::Promise<T> &promise, QObject *context)
{
    const pk::Promise<T> done = promise.finally(context, [] {});
    return QTest::qWaitFor([&done] { return done.isReady(); }, kTimeoutMs);
}

//! The JobError in \a error, or a failed check.
std::optional<JobError> jobErrorOf(const std::exception_ptr &error)
{
    try {
        std::rethrow_exception(error);
    } catch (const JobError &e) {
        return e;
    } catch (...) { }
    return std::nullopt;
}

// How a success callback is given.
enum class Form { Lambda, MemberByValue, MemberByConstRef };
// What happens to the callback while the task runs.
enum class Change { Reassign, Clear, SetFirst };
// How a memoised call ends without succeeding.
enum class Unsuccessful { Failed, Cancelled, FailedWhileShared };

// A square of the task's own, counting its runs.
struct CountingSquare
{
    std::atomic<int> *runs;
    int operator()(int key) const
    {
        ++*runs;
        return key * key + 1;
    }
};

// No operator==, no qHash: a TaskFunction taking it works, unmemoised.
struct Opaque
{
    int value;
};

} // namespace

Q_DECLARE_METATYPE(Form)
Q_DECLARE_METATYPE(Change)
Q_DECLARE_METATYPE(Unsuccessful)

class tst_TaskFunction : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Callbacks
    void callbackGetsIdAndResultOnContextThread_data();
    void callbackGetsIdAndResultOnContextThread();
    void callbackNeverRunsInsideTheFinishingCall();
    void errorCallbackGetsTheException_data();
    void errorCallbackGetsTheException();
    void callbackInForceWhenTheTaskFinishesIsCalled_data();
    void callbackInForceWhenTheTaskFinishesIsCalled();
    void deletedContextGetsNoCall_data();
    void deletedContextGetsNoCall();
    void cancelledTaskCallsNeither_data();
    void cancelledTaskCallsNeither();
    void voidResult();
    void throwingCallbackIsLogged();
    void nullContextWarnsAndClears();
    void nullKeeperGivesInvalidPromises();

    // The shared state
    void copiesShareCallbacksOptionsAndMemo();
    void optionsReachTheTask();

    // Memoisation
    void equalPendingCallsShareOnePromise();
    void succeededCallIsReturnedAgain();
    void leastRecentlyUsedIsEvicted_data();
    void leastRecentlyUsedIsEvicted();
    void shrinkingEvictsLeastRecentlyUsed();
    void unsuccessfulCallsAreNotMemoised_data();
    void unsuccessfulCallsAreNotMemoised();
    void clearCacheForgets();
    void cacheSizeZeroTurnsMemoisationOff();
    void argumentsWithoutQHashAreNotMemoised();
    void manyThreadsCallingAtOnce();
};

void tst_TaskFunction::callbackGetsIdAndResultOnContextThread_data()
{
    QTest::addColumn<bool>("otherThread");
    QTest::addColumn<Form>("form");
    QTest::newRow("lambda, this thread") << false << Form::Lambda;
    QTest::newRow("lambda, another thread") << true << Form::Lambda;
    QTest::newRow("method by value, this thread") << false << Form::MemberByValue;
    QTest::newRow("method by value, another thread") << true << Form::MemberByValue;
    QTest::newRow("method by const ref, this thread") << false << Form::MemberByConstRef;
    QTest::newRow("method by const ref, another thread") << true << Form::MemberByConstRef;
}

void tst_TaskFunction::callbackGetsIdAndResultOnContextThread()
{
    QFETCH(bool, otherThread);
    QFETCH(Form, form);
    PromiseKeeper keeper(2);
    Receiver local;
    std::optional<ReceiverThread> other;
    if (otherThread)
        other.emplace();
    Receiver *receiver = otherThread ? other->receiver() : &local;
    QThread *expectedThread = otherThread ? other->thread() : QThread::currentThread();

    pk::TaskFunction<int(int, int)> add(&keeper, [](int foo, int bar) { return foo + bar; });
    switch (form) {
    case Form::Lambda:
        add.setCallback(receiver, [receiver](quint64 taskId, const int &result) {
            receiver->record({ taskId, result, {}, QThread::currentThread() });
        });
        break;
    case Form::MemberByValue:
        add.setCallback(receiver, &Receiver::taskDone);
        break;
    case Form::MemberByConstRef:
        add.setCallback(receiver, &Receiver::taskDoneByRef);
        break;
    }

    const pk::Promise<int> promise = add(1, 2);
    QCOMPARE(promise.result(kTimeoutMs), 3);
    QTRY_COMPARE_WITH_TIMEOUT(receiver->count(), 1, kTimeoutMs);
    QVERIFY(callbacksDelivered(promise, receiver));
    const QList<Call> calls = receiver->calls();
    QCOMPARE(calls.size(), 1);
    QCOMPARE(calls[0].taskId, promise.id());
    QCOMPARE(calls[0].result, 3);
    QVERIFY(!calls[0].error);
    QCOMPARE(calls[0].thread, expectedThread);
}

void tst_TaskFunction::callbackNeverRunsInsideTheFinishingCall()
{
    PromiseKeeper keeper(0); // manual: the task and its hook run in processPending(), here
    Receiver receiver;
    pk::TaskFunction<int(int)> twice(&keeper, [](int v) { return 2 * v; });
    twice.setCallback(&receiver, &Receiver::taskDone);

    const pk::Promise<int> promise = twice(4);
    QCOMPARE(keeper.processPending(), 1);
    QCOMPARE(promise.state(), TaskState::Succeeded);
    QCOMPARE(receiver.count(), 0); // posted to this thread's event loop, not called inline
    QTRY_COMPARE_WITH_TIMEOUT(receiver.count(), 1, kTimeoutMs);
    QCOMPARE(receiver.calls()[0].result, 8);
}

void tst_TaskFunction::errorCallbackGetsTheException_data()
{
    QTest::addColumn<bool>("otherThread");
    QTest::addColumn<bool>("method");
    QTest::newRow("lambda, this thread") << false << false;
    QTest::newRow("lambda, another thread") << true << false;
    QTest::newRow("method, this thread") << false << true;
    QTest::newRow("method, another thread") << true << true;
}

void tst_TaskFunction::errorCallbackGetsTheException()
{
    QFETCH(bool, otherThread);
    QFETCH(bool, method);
    PromiseKeeper keeper(2);
    Receiver local;
    std::optional<ReceiverThread> other;
    if (otherThread)
        other.emplace();
    Receiver *receiver = otherThread ? other->receiver() : &local;
    QThread *expectedThread = otherThread ? other->thread() : QThread::currentThread();

    pk::TaskFunction<int(int)> job(&keeper, [](int code) -> int { throw JobError(code); });
    job.setCallback(receiver, &Receiver::taskDone); // must not be called
    if (method) {
        job.setErrorCallback(receiver, &Receiver::taskFailed);
    } else {
        job.setErrorCallback(receiver, [receiver](quint64 taskId, const std::exception_ptr &error) {
            receiver->record({ taskId, 0, error, QThread::currentThread() });
        });
    }

    const pk::Promise<int> promise = job(7);
    QVERIFY(promise.wait(kTimeoutMs));
    QCOMPARE(promise.state(), TaskState::Failed);
    QTRY_COMPARE_WITH_TIMEOUT(receiver->count(), 1, kTimeoutMs);
    QVERIFY(callbacksDelivered(promise, receiver));
    const QList<Call> calls = receiver->calls();
    QCOMPARE(calls.size(), 1);
    QCOMPARE(calls[0].taskId, promise.id());
    QCOMPARE(calls[0].thread, expectedThread);
    QVERIFY(calls[0].error);
    const std::optional<JobError> error = jobErrorOf(calls[0].error);
    QVERIFY2(error, "the error callback did not get the JobError the task threw");
    QCOMPARE(error->code(), 7);
    QCOMPARE(QString::fromUtf8(error->what()), QStringLiteral("job 7 failed"));
}

void tst_TaskFunction::callbackInForceWhenTheTaskFinishesIsCalled_data()
{
    QTest::addColumn<Change>("change");
    QTest::addColumn<int>("oldCalls");
    QTest::addColumn<int>("newCalls");
    QTest::newRow("reassigned") << Change::Reassign << 0 << 1;
    QTest::newRow("cleared") << Change::Clear << 0 << 0;
    QTest::newRow("set while running") << Change::SetFirst << 0 << 1;
}

void tst_TaskFunction::callbackInForceWhenTheTaskFinishesIsCalled()
{
    QFETCH(Change, change);
    QFETCH(int, oldCalls);
    QFETCH(int, newCalls);
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit(); // after the keeper: a failing test does not hang
    Receiver oldReceiver;
    Receiver newReceiver;
    pk::TaskFunction<int(int)> held(&keeper, [gate](int v) {
        if (!gate.pass())
            throw std::runtime_error("the gate was never opened");
        return v;
    });
    if (change != Change::SetFirst) {
        held.setCallback(&oldReceiver, &Receiver::taskDone);
        held.setErrorCallback(&oldReceiver, &Receiver::taskFailed);
    }

    const pk::Promise<int> promise = held(5);
    QVERIFY(gate.waitArrived()); // running, with the old callback in force
    switch (change) {
    case Change::Reassign:
    case Change::SetFirst:
        held.setCallback(&newReceiver, &Receiver::taskDone);
        break;
    case Change::Clear:
        held.clearCallback();
        break;
    }
    gate.open();

    QCOMPARE(promise.result(kTimeoutMs), 5);
    QVERIFY(callbacksDelivered(promise, &oldReceiver));
    QVERIFY(callbacksDelivered(promise, &newReceiver));
    QCOMPARE(oldReceiver.count(), oldCalls);
    QCOMPARE(newReceiver.count(), newCalls);
    if (newCalls > 0)
        QCOMPARE(newReceiver.calls()[0].taskId, promise.id());
}

void tst_TaskFunction::deletedContextGetsNoCall_data()
{
    QTest::addColumn<bool>("beforeFinish");
    QTest::newRow("deleted before the task finishes") << true;
    QTest::newRow("deleted with the call queued") << false;
}

void tst_TaskFunction::deletedContextGetsNoCall()
{
    QFETCH(bool, beforeFinish);
    std::atomic<int> calls { 0 };
    PromiseKeeper keeper(0); // manual: the hook posts inside processPending(), on this thread
    pk::TaskFunction<int(int)> f(&keeper, [](int v) { return v; });
    auto *context = new QObject;
    f.setCallback(context, [&calls](quint64, int) { ++calls; });

    const pk::Promise<int> promise = f(1);
    if (beforeFinish)
        delete context;
    QCOMPARE(keeper.processPending(), 1);
    if (!beforeFinish)
        delete context; // the call is queued now: Qt discards it with the object

    QObject marker;
    QVERIFY(callbacksDelivered(promise, &marker));
    QCOMPARE(promise.result(), 1);
    QCOMPARE(calls.load(), 0);

    // A later task with a callback on a live context still calls it.
    QObject context2;
    f.setCallback(&context2, [&calls](quint64, int) { ++calls; });
    const pk::Promise<int> next = f(2);
    QCOMPARE(keeper.processPending(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(calls.load(), 1, kTimeoutMs);
}

void tst_TaskFunction::cancelledTaskCallsNeither_data()
{
    QTest::addColumn<bool>("whileRunning");
    QTest::newRow("cancelled while queued") << false;
    QTest::newRow("cancelled while running") << true;
}

void tst_TaskFunction::cancelledTaskCallsNeither()
{
    QFETCH(bool, whileRunning);
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    Receiver receiver;
    pk::TaskFunction<int(int)> held(&keeper, [gate](pk::TaskContext &context, int v) {
        if (!gate.pass())
            throw std::runtime_error("the gate was never opened");
        context.throwIfCancellationRequested();
        return v;
    });
    held.setCallback(&receiver, &Receiver::taskDone);
    held.setErrorCallback(&receiver, &Receiver::taskFailed);

    const pk::Promise<int> first = held(1); // holds the keeper's one worker at the gate
    QVERIFY(gate.waitArrived());
    pk::Promise<int> cancelled;
    if (whileRunning) {
        cancelled = first;
        QVERIFY(cancelled.requestCancellation());
    } else {
        cancelled = held(2);
        QVERIFY(cancelled.cancel());
    }
    gate.open();

    QVERIFY(cancelled.wait(kTimeoutMs));
    QCOMPARE(cancelled.state(), TaskState::Cancelled);
    QVERIFY(first.wait(kTimeoutMs));
    QVERIFY(callbacksDelivered(cancelled, &receiver));
    QVERIFY(callbacksDelivered(first, &receiver));
    const QList<Call> calls = receiver.calls();
    for (const Call &call : calls)
        QVERIFY(call.taskId != cancelled.id());
    // Queued: the first task then succeeds and calls back; running: it was the cancelled one.
    QCOMPARE(calls.size(), whileRunning ? 0 : 1);
}

void tst_TaskFunction::voidResult()
{
    std::atomic<int> runs { 0 };
    PromiseKeeper keeper(0);
    Receiver receiver;
    pk::TaskFunction<void(int)> touch(&keeper, [&runs](int v) {
        ++runs;
        if (v < 0)
            throw JobError(v);
    });
    touch.setCallback(&receiver, &Receiver::voidTaskDone);
    touch.setErrorCallback(&receiver, &Receiver::taskFailed);

    const pk::Promise<void> ok = touch(1);
    const pk::Promise<void> failed = touch(-3);
    QCOMPARE(keeper.processPending(), 2);
    QCOMPARE(runs.load(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(receiver.count(), 2, kTimeoutMs);
    const QList<Call> calls = receiver.calls();
    QCOMPARE(calls[0].taskId, ok.id());
    QVERIFY(!calls[0].error);
    QCOMPARE(calls[1].taskId, failed.id());
    const std::optional<JobError> error = jobErrorOf(calls[1].error);
    QVERIFY(error);
    QCOMPARE(error->code(), -3);

    // A lambda taking only the id, and memoisation of a void function.
    std::atomic<int> lambdaCalls { 0 };
    touch.setCallback(&receiver, [&lambdaCalls](quint64) mutable { ++lambdaCalls; });
    touch.setCacheSize(2);
    const pk::Promise<void> a = touch(5);
    const pk::Promise<void> b = touch(5);
    QCOMPARE(b.id(), a.id());
    QCOMPARE(keeper.processPending(), 1);
    QVERIFY(touch(5).isReady());
    QTRY_COMPARE_WITH_TIMEOUT(lambdaCalls.load(), 1, kTimeoutMs);
    QVERIFY(callbacksDelivered(a, &receiver));
    QCOMPARE(lambdaCalls.load(), 1);
    QCOMPARE(touch.cacheHits(), 2);
    QCOMPARE(touch.cacheMisses(), 1);
}

void tst_TaskFunction::throwingCallbackIsLogged()
{
    pktest::MessageLog log;
    PromiseKeeper keeper(0);
    QObject context;
    std::atomic<bool> called { false };
    pk::TaskFunction<int(int)> f(&keeper, [](int v) { return v; });
    f.setCallback(&context, [&called](quint64, int) {
        called = true;
        throw std::runtime_error("boom");
    });

    const QRegularExpression warning(
        QStringLiteral("^pk::TaskFunction: the callback for task \\d+ threw: boom$"));
    QTest::ignoreMessage(QtWarningMsg, warning);
    const pk::Promise<int> promise = f(1);
    QCOMPARE(keeper.processPending(), 1);
    QVERIFY(callbacksDelivered(promise, &context));
    QVERIFY(called);
    QCOMPARE(log.warningCategories(warning), QStringList { QStringLiteral("promisekeeper") });
}

void tst_TaskFunction::nullContextWarnsAndClears()
{
    PromiseKeeper keeper(0);
    Receiver receiver;
    pk::TaskFunction<int(int)> f(&keeper, [](int v) { return v; });
    f.setCallback(&receiver, &Receiver::taskDone);
    QTest::ignoreMessage(QtWarningMsg, "pk::TaskFunction::setCallback: the context object is null");
    f.setCallback(nullptr, [](quint64, int) {});

    const pk::Promise<int> promise = f(1);
    QCOMPARE(keeper.processPending(), 1);
    QVERIFY(callbacksDelivered(promise, &receiver));
    QCOMPARE(receiver.count(), 0);
}

void tst_TaskFunction::nullKeeperGivesInvalidPromises()
{
    QTest::ignoreMessage(QtWarningMsg, "pk::TaskFunction: the keeper is null");
    pk::TaskFunction<int(int)> f(nullptr, [](int v) { return v; });
    Receiver receiver;
    f.setErrorCallback(&receiver, &Receiver::taskFailed);
    f.setCacheSize(2);

    const pk::Promise<int> promise = f(1);
    QVERIFY(!promise.isValid());
    QVERIFY(!f(1).isValid()); // not memoised
    QTRY_COMPARE_WITH_TIMEOUT(receiver.count(), 2, kTimeoutMs);
    const Call call = receiver.calls()[0];
    QCOMPARE(call.taskId, quint64(0));
    try {
        std::rethrow_exception(call.error);
    } catch (const pk::InvalidTaskError &) {
    } catch (...) {
        QFAIL("the error callback did not get a pk::InvalidTaskError");
    }
    QCOMPARE(f.cacheHits(), 0);
}

void tst_TaskFunction::copiesShareCallbacksOptionsAndMemo()
{
    std::atomic<int> runs { 0 };
    PromiseKeeper keeper(0);
    Receiver receiver;
    pk::TaskFunction<int(int)> f(&keeper, CountingSquare { &runs });
    pk::TaskFunction<int(int)> copy = f;
    copy.setCallback(&receiver, &Receiver::taskDone);
    copy.setOptions(pk::TaskOptions { QStringLiteral("squares"), 4 });
    f.setCacheSize(3);
    QCOMPARE(f.options().title, QStringLiteral("squares"));
    QCOMPARE(copy.cacheSize(), 3);

    const pk::Promise<int> promise = f(3);
    QCOMPARE(copy(3).id(), promise.id()); // the copy's memo is f's
    QCOMPARE(f.cacheHits(), 1);
    QCOMPARE(copy.cacheMisses(), 1);
    QCOMPARE(keeper.processPending(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(receiver.count(), 1, kTimeoutMs); // the copy's callback, f's call
    QCOMPARE(receiver.calls()[0].taskId, promise.id());
    QCOMPARE(receiver.calls()[0].result, 10);
    QCOMPARE(promise.title(), QStringLiteral("squares"));

    // Another TaskFunction of the same callable has a state of its own, until assigned.
    pk::TaskFunction<int(int)> other(&keeper, CountingSquare { &runs });
    QCOMPARE(other.cacheSize(), 0);
    QVERIFY(other.options().title.isEmpty());
    other = f;
    QCOMPARE(other.cacheSize(), 3);
    QCOMPARE(other(3).id(), promise.id());

    // Moving copies the handle: the source still works.
    pk::TaskFunction<int(int)> moved = std::move(copy);
    QCOMPARE(moved(3).id(), promise.id());
    QCOMPARE(copy(3).id(), promise.id()); // NOLINT(bugprone-use-after-move): documented
    QCOMPARE(runs.load(), 1);
}

void tst_TaskFunction::optionsReachTheTask()
{
    PromiseKeeper keeper(0);
    pk::TaskFunction<int(int, int)> add(&keeper, [](int foo, int bar) { return foo + bar; });
    QVERIFY(add.options().title.isEmpty());
    add.setOptions(pk::TaskOptions { QStringLiteral("add"), 7 });
    QCOMPARE(add.options().priority, 7);

    const pk::Promise<int> first = add(1, 2);
    add.setOptions(pk::TaskOptions { QStringLiteral("add again"), 1 });
    const pk::Promise<int> second = add(3, 4);
    QCOMPARE(first.title(), QStringLiteral("add")); // submitted already: keeps its options
    QCOMPARE(first.info().priority(), 7);
    QCOMPARE(second.title(), QStringLiteral("add again"));
    QCOMPARE(second.info().priority(), 1);
    QCOMPARE(keeper.processPending(), 2);
    QCOMPARE(first.result(), 3);
    QCOMPARE(second.result(), 7);
}

void tst_TaskFunction::equalPendingCallsShareOnePromise()
{
    std::atomic<int> runs { 0 };
    PromiseKeeper keeper(0); // manual: every call stays pending until processPending()
    Receiver receiver;
    pk::TaskFunction<int(int)> square(&keeper, CountingSquare { &runs });
    square.setCallback(&receiver, &Receiver::taskDone);
    square.setCacheSize(4);
    QCOMPARE(square.cacheSize(), 4);

    const pk::Promise<int> a = square(1);
    const pk::Promise<int> b = square(1);
    const pk::Promise<int> c = square(2);
    QCOMPARE(b.id(), a.id());
    QVERIFY(b == a);
    QVERIFY(c.id() != a.id());
    QCOMPARE(square.cacheHits(), 1);
    QCOMPARE(square.cacheMisses(), 2);

    QCOMPARE(keeper.processPending(), 2);
    QCOMPARE(runs.load(), 2);
    QCOMPARE(b.result(), 2);
    QCOMPARE(c.result(), 5);
    QVERIFY(callbacksDelivered(c, &receiver));
    QCOMPARE(receiver.count(), 2); // one per task: the hit ran none and called none
}

void tst_TaskFunction::succeededCallIsReturnedAgain()
{
    std::atomic<int> runs { 0 };
    PromiseKeeper keeper(0);
    Receiver receiver;
    pk::TaskFunction<int(int)> square(&keeper, CountingSquare { &runs });
    square.setCallback(&receiver, &Receiver::taskDone);
    square.setCacheSize(1);

    const pk::Promise<int> first = square(3);
    QCOMPARE(keeper.processPending(), 1);
    QCOMPARE(first.result(), 10);

    const pk::Promise<int> again = square(3);
    QCOMPARE(again.state(), TaskState::Succeeded); // at once: nothing to process
    QCOMPARE(again.id(), first.id());
    QCOMPARE(again.result(), 10);
    QCOMPARE(keeper.processPending(), 0);
    QCOMPARE(runs.load(), 1);
    QCOMPARE(square.cacheHits(), 1);
    QCOMPARE(square.cacheMisses(), 1);
    QVERIFY(callbacksDelivered(again, &receiver));
    QCOMPARE(receiver.count(), 1); // the first call's task only
}

void tst_TaskFunction::leastRecentlyUsedIsEvicted_data()
{
    QTest::addColumn<int>("usedAgain"); // 0: none
    QTest::addColumn<int>("evicted");
    QTest::addColumn<QList<int>>("kept");
    QTest::newRow("none used again: the oldest goes") << 0 << 1 << QList<int> { 2, 3 };
    QTest::newRow("the oldest used again: the next goes") << 1 << 2 << QList<int> { 1, 3 };
    QTest::newRow("the newest used again: the oldest goes") << 2 << 1 << QList<int> { 2, 3 };
}

void tst_TaskFunction::leastRecentlyUsedIsEvicted()
{
    QFETCH(int, usedAgain);
    QFETCH(int, evicted);
    QFETCH(QList<int>, kept);
    std::atomic<int> runs { 0 };
    PromiseKeeper keeper(0);
    pk::TaskFunction<int(int)> square(&keeper, CountingSquare { &runs });
    square.setCacheSize(2);

    for (int key : { 1, 2 }) {
        const pk::Promise<int> p = square(key);
        QCOMPARE(keeper.processPending(), 1);
        QCOMPARE(p.result(), key * key + 1);
    }
    if (usedAgain != 0)
        QVERIFY(square(usedAgain).isReady());
    const pk::Promise<int> third = square(3);
    QCOMPARE(keeper.processPending(), 1);
    QCOMPARE(third.result(), 10);
    QCOMPARE(runs.load(), 3);

    // The kept ones first: asking for the evicted one would evict another.
    for (int key : kept) {
        const pk::Promise<int> p = square(key);
        QVERIFY2(p.isReady(), qPrintable(QStringLiteral("key %1 was evicted").arg(key)));
        QCOMPARE(p.result(), key * key + 1);
    }
    QCOMPARE(runs.load(), 3);
    const pk::Promise<int> again = square(evicted);
    QVERIFY(!again.isReady());
    QCOMPARE(keeper.processPending(), 1);
    QCOMPARE(again.result(), evicted * evicted + 1);
    QCOMPARE(runs.load(), 4);
    QCOMPARE(square.cacheMisses(), 4);
    QCOMPARE(square.cacheHits(), qint64(kept.size()) + (usedAgain != 0 ? 1 : 0));
}

void tst_TaskFunction::shrinkingEvictsLeastRecentlyUsed()
{
    std::atomic<int> runs { 0 };
    PromiseKeeper keeper(0);
    pk::TaskFunction<int(int)> square(&keeper, CountingSquare { &runs });
    square.setCacheSize(3);
    for (int key : { 1, 2, 3 }) {
        square(key);
        QCOMPARE(keeper.processPending(), 1);
    }
    QVERIFY(square(1).isReady()); // most recently used: 1, then 3, then 2

    square.setCacheSize(1);
    QCOMPARE(square.cacheSize(), 1);
    QVERIFY(square(1).isReady());
    QVERIFY(!square(3).isReady());
    QVERIFY(!square(2).isReady());
    QCOMPARE(keeper.processPending(), 2);
    QCOMPARE(runs.load(), 5);
}

void tst_TaskFunction::unsuccessfulCallsAreNotMemoised_data()
{
    QTest::addColumn<Unsuccessful>("outcome");
    QTest::newRow("failed") << Unsuccessful::Failed;
    QTest::newRow("cancelled") << Unsuccessful::Cancelled;
    QTest::newRow("failed with an equal call sharing it") << Unsuccessful::FailedWhileShared;
}

void tst_TaskFunction::unsuccessfulCallsAreNotMemoised()
{
    QFETCH(Unsuccessful, outcome);
    std::atomic<int> runs { 0 };
    std::atomic<bool> failNext { outcome != Unsuccessful::Cancelled };
    PromiseKeeper keeper(0);
    Receiver receiver;
    pk::TaskFunction<int(int)> f(&keeper, [&runs, &failNext](int v) {
        ++runs;
        if (failNext.exchange(false))
            throw JobError(v);
        return v;
    });
    f.setErrorCallback(&receiver, &Receiver::taskFailed);
    f.setCacheSize(4);

    const pk::Promise<int> first = f(1);
    if (outcome == Unsuccessful::FailedWhileShared)
        QCOMPARE(f(1).id(), first.id());
    if (outcome == Unsuccessful::Cancelled) {
        QVERIFY(first.cancel());
        QCOMPARE(keeper.processPending(), 0);
        QCOMPARE(first.state(), TaskState::Cancelled);
    } else {
        QCOMPARE(keeper.processPending(), 1);
        QCOMPARE(first.state(), TaskState::Failed);
    }

    const pk::Promise<int> retried = f(1);
    QVERIFY(retried.id() != first.id());
    QVERIFY(!retried.isReady());
    QCOMPARE(keeper.processPending(), 1);
    QCOMPARE(retried.result(), 1);
    QCOMPARE(f(1).id(), retried.id()); // the success is kept
    QCOMPARE(runs.load(), outcome == Unsuccessful::Cancelled ? 1 : 2);
    QCOMPARE(f.cacheMisses(), 2);
    QCOMPARE(f.cacheHits(), outcome == Unsuccessful::FailedWhileShared ? 2 : 1);
    QVERIFY(callbacksDelivered(retried, &receiver));
    QCOMPARE(receiver.count(), outcome == Unsuccessful::Cancelled ? 0 : 1);
}

void tst_TaskFunction::clearCacheForgets()
{
    std::atomic<int> runs { 0 };
    std::atomic<bool> failNext { false };
    PromiseKeeper keeper(0);
    pk::TaskFunction<int(int)> square(&keeper, [&runs, &failNext](int key) {
        ++runs;
        if (failNext.exchange(false))
            throw JobError(key);
        return key * key + 1;
    });
    square.setCacheSize(4);

    const pk::Promise<int> done = square(1);
    QCOMPARE(keeper.processPending(), 1);
    const pk::Promise<int> pending = square(2);
    square.clearCache();
    QCOMPARE(square.cacheSize(), 4);

    const pk::Promise<int> one = square(1);
    const pk::Promise<int> two = square(2);
    QVERIFY(one.id() != done.id());
    QVERIFY(two.id() != pending.id()); // the pending call was forgotten too
    failNext = true; // the forgotten call runs first, and fails
    QCOMPARE(keeper.processPending(), 3);
    QCOMPARE(pending.state(), TaskState::Failed);
    QCOMPARE(runs.load(), 4);
    // The forgotten call ended after its replacement was made: its failure does not drop it.
    QCOMPARE(square(2).id(), two.id());
    QCOMPARE(square(1).id(), one.id());
    QCOMPARE(square(2).result(), 5);
    QCOMPARE(square.cacheMisses(), 4); // the counters stay
    QCOMPARE(square.cacheHits(), 3);
}

void tst_TaskFunction::cacheSizeZeroTurnsMemoisationOff()
{
    std::atomic<int> runs { 0 };
    PromiseKeeper keeper(0);
    pk::TaskFunction<int(int)> square(&keeper, CountingSquare { &runs });
    QCOMPARE(square.cacheSize(), 0); // off by default
    QVERIFY(square(1).id() != square(1).id());
    QCOMPARE(keeper.processPending(), 2);
    QCOMPARE(square.cacheMisses(), 0); // calls without memoisation are not counted
    QCOMPARE(square.cacheHits(), 0);

    square.setCacheSize(2);
    const pk::Promise<int> kept = square(1);
    QCOMPARE(keeper.processPending(), 1);
    QCOMPARE(square(1).id(), kept.id());

    square.setCacheSize(0);
    QCOMPARE(square.cacheSize(), 0);
    const pk::Promise<int> a = square(1);
    const pk::Promise<int> b = square(1);
    QVERIFY(a.id() != kept.id());
    QVERIFY(b.id() != a.id());
    QCOMPARE(keeper.processPending(), 2);
    QCOMPARE(square.cacheMisses(), 1);
    QCOMPARE(square.cacheHits(), 1);

    square.setCacheSize(2); // on again, with nothing remembered
    QVERIFY(!square(1).isReady());
    QCOMPARE(keeper.processPending(), 1);
    QCOMPARE(runs.load(), 6);

    square.setCacheSize(-1);
    QCOMPARE(square.cacheSize(), 0);
}

void tst_TaskFunction::argumentsWithoutQHashAreNotMemoised()
{
    static_assert(!pk::detail::isMemoisable<Opaque>);
    static_assert(pk::detail::isMemoisable<int, QString>);
    static_assert(pk::detail::isMemoisable<>);
    PromiseKeeper keeper(0);
    pk::TaskFunction<int(Opaque)> read(&keeper, [](Opaque o) { return o.value; });
    const pk::Promise<int> promise = read(Opaque { 4 });
    QCOMPARE(keeper.processPending(), 1);
    QCOMPARE(promise.result(), 4);
    QCOMPARE(read.cacheSize(), 0);
    QCOMPARE(read.cacheMisses(), 0);

    // A function of no arguments: with memoisation every call is equal.
    std::atomic<int> runs { 0 };
    pk::TaskFunction<int()> answer(&keeper, [&runs] { return 40 + ++runs; });
    answer.setCacheSize(1);
    QCOMPARE(answer().id(), answer().id());
    QCOMPARE(keeper.processPending(), 1);
    QCOMPARE(answer().result(), 41);
    QCOMPARE(runs.load(), 1);
}

void tst_TaskFunction::manyThreadsCallingAtOnce()
{
    constexpr int kThreads = 4;
    constexpr int kCallsPerThread = 2000;
    constexpr int kKeys = 8;
    std::atomic<int> runs { 0 };
    std::atomic<int> callbacks { 0 };
    PromiseKeeper keeper(2);
    QObject context;
    pk::TaskFunction<int(int)> square(&keeper, CountingSquare { &runs });
    square.setCallback(&context, [&callbacks](quint64, int) { ++callbacks; });
    square.setCacheSize(kKeys / 2); // fewer than the keys: evictions under contention too

    std::promise<void> start;
    const std::shared_future<void> go = start.get_future().share();
    std::vector<std::vector<std::pair<int, pk::Promise<int>>>> made(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&square, &made, go, t] {
            go.wait(); // all at once
            made[t].reserve(kCallsPerThread);
            for (int i = 0; i < kCallsPerThread; ++i) {
                const int key = (i * 7 + t) % kKeys;
                made[t].emplace_back(key, square(key));
            }
        });
    }
    start.set_value();
    for (std::thread &thread : threads)
        thread.join();

    for (const auto &calls : made) {
        for (const auto &[key, promise] : calls)
            QCOMPARE(promise.result(kTimeoutMs), key * key + 1);
    }
    QVERIFY(keeper.waitForAll(kTimeoutMs));
    const qint64 total = qint64(kThreads) * kCallsPerThread;
    QCOMPARE(square.cacheHits() + square.cacheMisses(), total);
    QVERIFY(runs.load() <= total);
    QCOMPARE(qint64(runs.load()), square.cacheMisses()); // each miss ran one task, once
    // One callback per task that ran (all succeeded), none per hit.
    QTRY_COMPARE_WITH_TIMEOUT(callbacks.load(), runs.load(), kTimeoutMs);
    QVERIFY(callbacksDelivered(made[0].back().second, &context));
    QCOMPARE(callbacks.load(), runs.load());
}

QTEST_MAIN(tst_TaskFunction)
#include "tst_taskfunction.moc"
