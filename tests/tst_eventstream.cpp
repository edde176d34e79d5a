// The keeper's event stream: listeners, batching, snapshots for late listeners and the history.
#include "pktest.h"

#include <pk/combinators.h>
#include <pk/eventstream.h>
#include <pk/promise.h>
#include <pk/promisekeeper.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QEvent>
#include <QtCore/QHash>
#include <QtCore/QPair>
#include <QtCore/QSemaphore>
#include <QtCore/QSet>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <stdexcept>
#include <thread>

using pk::PromiseKeeper;
using pk::TaskState;

namespace {

struct RecordedEvent
{
    quint64 id = 0;
    TaskState state = TaskState::Queued;
    int workerIndex = -1;
    qint64 timeNsecs = 0;
    QString title;
    int priority = 0;
    pk::TaskInfo info;
};

// Copies everything it is given; the TaskEvents themselves are only valid during the call.
class RecordingListener : public pk::EventListener
{
public:
    void snapshot(
        const QList<pk::TaskInfo> &liveTasks, const QList<pk::TaskInfo> &recentlyFinished) override
    {
        ++snapshots;
        threads.insert(QThread::currentThread());
        live = liveTasks;
        recent = recentlyFinished;
    }

    void taskEvents(const pk::TaskEvent *batch, qsizetype count) override
    {
        ++batches;
        threads.insert(QThread::currentThread());
        for (qsizetype i = 0; i < count; ++i) {
            const pk::TaskEvent &e = batch[i];
            events.append({ e.taskId(), e.state(), e.workerIndex(), e.timeNsecs(), e.title(),
                e.priority(), e.info() });
        }
    }

    void eventsDropped(quint64 count) override { dropped += count; }

    QList<RecordedEvent> eventsOf(quint64 id) const
    {
        QList<RecordedEvent> list;
        for (const RecordedEvent &e : events) {
            if (e.id == id)
                list.append(e);
        }
        return list;
    }
    QList<TaskState> statesOf(quint64 id) const
    {
        QList<TaskState> states;
        for (const RecordedEvent &e : eventsOf(id))
            states.append(e.state);
        return states;
    }
    bool sawFinal(quint64 id) const
    {
        const QList<TaskState> states = statesOf(id);
        return !states.isEmpty() && isFinal(states.last());
    }

    int snapshots = 0;
    int batches = 0;
    quint64 dropped = 0;
    QSet<QThread *> threads;
    QList<pk::TaskInfo> live;
    QList<pk::TaskInfo> recent;
    QList<RecordedEvent> events;
};

// Counts the events of user types (the keeper's batch flushes) delivered to the watched object.
class UserEventCounter : public QObject
{
public:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() >= QEvent::User)
            ++count;
        return QObject::eventFilter(watched, event);
    }
    int count = 0;
};

// Counts the tasks by the last state the events gave them, and checks at every call that the
// keeper's deliveredCounts() says the same.
class CountingListener : public pk::EventListener
{
public:
    explicit CountingListener(const PromiseKeeper *watched)
        : keeper(watched)
    { }
    void taskEvents(const pk::TaskEvent *batch, qsizetype count) override
    {
        for (qsizetype i = 0; i < count; ++i)
            states.insert(batch[i].taskId(), batch[i].state());
        pk::TaskCounts fromEvents;
        for (const TaskState state : std::as_const(states))
            fromEvents.add(state);
        if (fromEvents != keeper->deliveredCounts())
            ++mismatches;
        ++calls;
    }
    const PromiseKeeper *keeper;
    QHash<quint64, TaskState> states;
    int calls = 0;
    int mismatches = 0;
};

QList<quint64> idsOf(const QList<pk::TaskInfo> &infos)
{
    QList<quint64> ids;
    for (const pk::TaskInfo &info : infos)
        ids.append(info.id());
    return ids;
}

} // namespace

class tst_EventStream : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void listenerGetsEveryEventInOrder();
    void batchesNotOneEventPerTask();
    void backlogDeliveredInSlices();
    void processPendingDeliversEverything();
    void processPendingDeliversBacklogAndNewerEvents();
    void lateListenerSnapshot_data();
    void lateListenerSnapshot();
    void historySize_data();
    void historySize();
    void removeEventListenerStopsDelivery();
    void addEventListenerTwiceIsOnce();
    void addEventListenerFromOtherThreadWarns();
    void keeperThreadCallsFromOtherThreadWarn_data();
    void keeperThreadCallsFromOtherThreadWarn();
    void addEventListenerKeepsIdleSignal();
    void addEventListenerFromSlotKeepsSignalOrder();
    void deliveredCountsFollowTheEvents();
    void deliveredCountsBehindUntilDelivered();
};

void tst_EventStream::listenerGetsEveryEventInOrder()
{
    pktest::Gate gate;
    PromiseKeeper keeper(2);
    const auto unblock = gate.openOnExit();
    RecordingListener listener;
    keeper.addEventListener(&listener);
    QCOMPARE(listener.snapshots, 1);
    QVERIFY(listener.live.isEmpty());
    QVERIFY(listener.recent.isEmpty());

    // Both workers blocked, so that queued tasks can be cancelled.
    QList<pk::Promise<bool>> blockers;
    for (int i = 0; i < 2; ++i)
        blockers.append(keeper.submit(
            pk::TaskOptions { QStringLiteral("blocker"), 0 }, [gate] { return gate.pass(); }));
    QVERIFY(gate.waitArrived(2));

    QHash<quint64, QList<TaskState>> expected;
    QHash<quint64, QString> titles;
    QHash<quint64, int> priorities;
    for (const auto &b : blockers) {
        expected.insert(b.id(), { TaskState::Queued, TaskState::Running, TaskState::Succeeded });
        titles.insert(b.id(), QStringLiteral("blocker"));
        priorities.insert(b.id(), 0);
    }
    for (int i = 0; i < 30; ++i) {
        const pk::TaskOptions options { QStringLiteral("task %1").arg(i), i % 4 };
        pk::Promise<int> p = keeper.submit(options, [i]() -> int {
            if (i % 5 == 1)
                throw std::runtime_error("failure");
            return i;
        });
        titles.insert(p.id(), options.title);
        priorities.insert(p.id(), options.priority);
        if (i % 7 == 3) {
            QVERIFY(p.cancel());
            expected.insert(p.id(), { TaskState::Queued, TaskState::Cancelled });
        } else {
            expected.insert(p.id(),
                { TaskState::Queued, TaskState::Running,
                    i % 5 == 1 ? TaskState::Failed : TaskState::Succeeded });
        }
    }
    gate.open(2);
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));

    qsizetype total = 0;
    for (const auto &states : std::as_const(expected))
        total += states.size();
    QTRY_COMPARE(listener.events.size(), total);

    QCOMPARE(listener.threads, (QSet<QThread *> { keeper.thread() }));
    QVERIFY(listener.batches >= 1);
    QCOMPARE(listener.dropped, quint64(0));
    for (auto it = expected.cbegin(); it != expected.cend(); ++it) {
        const quint64 id = it.key();
        QCOMPARE(listener.statesOf(id), it.value());
        const QList<RecordedEvent> events = listener.eventsOf(id);
        int runWorker = -1;
        for (qsizetype i = 0; i < events.size(); ++i) {
            const RecordedEvent &e = events.at(i);
            QCOMPARE(e.title, titles.value(id));
            QCOMPARE(e.priority, priorities.value(id));
            QCOMPARE(e.info.id(), id);
            QCOMPARE(e.info.state(), e.state);
            QCOMPARE(e.info.workerIndex(), e.workerIndex);
            QVERIFY(e.timeNsecs > 0);
            if (i > 0)
                QVERIFY(e.timeNsecs >= events.at(i - 1).timeNsecs);
            switch (e.state) {
            case TaskState::Queued:
            case TaskState::Cancelled:
                QCOMPARE(e.workerIndex, -1);
                break;
            case TaskState::Running:
                QVERIFY(e.workerIndex == 0 || e.workerIndex == 1);
                QCOMPARE(e.info.startedAtNsecs(), e.timeNsecs);
                runWorker = e.workerIndex;
                break;
            case TaskState::Succeeded:
            case TaskState::Failed:
                QCOMPARE(e.workerIndex, runWorker); // finished by the worker that ran it
                QCOMPARE(e.info.finishedAtNsecs(), e.timeNsecs);
                QCOMPARE(e.info.errorString().isEmpty(), e.state == TaskState::Succeeded);
                break;
            case TaskState::Waiting:
                QFAIL("no task here waits for input");
            }
        }
    }
    keeper.removeEventListener(&listener);
}

void tst_EventStream::batchesNotOneEventPerTask()
{
    constexpr int taskCount = 10000;
    PromiseKeeper keeper(2);
    UserEventCounter counter;
    keeper.installEventFilter(&counter);
    QSignalSpy finishedSpy(&keeper, &PromiseKeeper::taskFinished);
    QVERIFY(finishedSpy.isValid());
    RecordingListener listener;
    keeper.addEventListener(&listener);

    for (int i = 0; i < taskCount; ++i)
        keeper.submit([] {});
    // Everything ran and was recorded before the keeper's thread looked at its events.
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(counter.count, 0);
    QCOMPARE(finishedSpy.count(), 0);

    QCoreApplication::processEvents();
    QTRY_COMPARE(finishedSpy.count(), taskCount);
    // A backlog is handed over in slices (see backlogDeliveredInSlices()), but never per task.
    QVERIFY2(counter.count < taskCount / 100,
        qPrintable(
            QStringLiteral("%1 flush events for %2 tasks").arg(counter.count).arg(taskCount)));
    QVERIFY(counter.count >= 1);
    QCOMPARE(listener.events.size(), qsizetype(3 * taskCount)); // queued, running, succeeded
    QVERIFY2(listener.batches * 64 < listener.events.size(), // 64 events a call on average
        qPrintable(QStringLiteral("%1 batches for %2 tasks").arg(listener.batches).arg(taskCount)));
    QCOMPARE(listener.dropped, quint64(0));
    keeper.removeEventListener(&listener);
}

// A slow listener: each call takes 1 ms, whatever the machine, so that delivering a big batch
// takes longer than one slice.
class SlowListener : public RecordingListener
{
public:
    void taskEvents(const pk::TaskEvent *batch, qsizetype count) override
    {
        QElapsedTimer slow;
        slow.start();
        while (slow.elapsed() < 1) { }
        RecordingListener::taskEvents(batch, count);
    }
};

void tst_EventStream::backlogDeliveredInSlices()
{
    // A backlog (the keeper's thread was busy while tasks flowed) must not freeze that thread,
    // often the GUI thread, until all of it is delivered: the event loop runs its timers (and
    // posted events, such as paint requests) in between, and everything still arrives, in
    // order, with the counts and the snapshot at its end.
    constexpr int taskCount = 5000;
    PromiseKeeper keeper(2);
    QSignalSpy countsSpy(&keeper, &PromiseKeeper::countsChanged);
    SlowListener listener;
    keeper.addEventListener(&listener);
    for (int i = 0; i < taskCount; ++i)
        keeper.submit([] {});
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    RecordingListener late;
    keeper.addEventListener(&late); // joins at the end of the backlog's batch

    int ticksDuringDelivery = 0;
    QTimer ticker;
    ticker.setTimerType(Qt::PreciseTimer);
    ticker.setInterval(1);
    connect(&ticker, &QTimer::timeout, this, [&] {
        if (!listener.events.isEmpty() && listener.events.size() < 3 * taskCount)
            ++ticksDuringDelivery;
    });
    ticker.start();
    QTRY_COMPARE(listener.events.size(), qsizetype(3 * taskCount));
    // Dozens of calls of 1 ms: many slices, each followed by the timers' turn.
    QVERIFY2(ticksDuringDelivery >= 3,
        qPrintable(
            QStringLiteral("the timer ran %1 times during the delivery").arg(ticksDuringDelivery)));
    // In order: each task's changes in its state order.
    QHash<quint64, pk::TaskState> lastState;
    for (const RecordedEvent &e : std::as_const(listener.events)) {
        const auto it = lastState.constFind(e.id);
        QVERIFY(it == lastState.cend() || *it < e.state);
        lastState.insert(e.id, e.state);
    }
    QCOMPARE(lastState.size(), taskCount);
    QTRY_VERIFY(!countsSpy.isEmpty());
    QCOMPARE(keeper.counts().succeeded, taskCount);
    QCOMPARE(late.snapshots, 1);
    QVERIFY(late.live.isEmpty());
    QVERIFY(late.events.isEmpty());
    keeper.removeEventListener(&listener);
    keeper.removeEventListener(&late);
}

void tst_EventStream::processPendingDeliversEverything()
{
    // Manual mode is deterministic: when processPending() returns, every change it made has
    // been delivered, however slow the listeners.
    constexpr int taskCount = 5000;
    PromiseKeeper keeper(0);
    SlowListener listener;
    keeper.addEventListener(&listener);
    QSignalSpy finishedSpy(&keeper, &PromiseKeeper::taskFinished);
    for (int i = 0; i < taskCount; ++i)
        keeper.submit([] {});
    QCOMPARE(keeper.processPending(), taskCount);
    QCOMPARE(listener.events.size(), qsizetype(3 * taskCount));
    QCOMPARE(finishedSpy.count(), taskCount);
    keeper.removeEventListener(&listener);
}

// processPending() on the keeper's thread delivers everything even while a sliced delivery has
// a backlog left: the backlog, then what was recorded meanwhile (it used to stop after the
// backlog).
void tst_EventStream::processPendingDeliversBacklogAndNewerEvents()
{
    constexpr int firstCount = 5000;
    constexpr int laterCount = 10;
    PromiseKeeper keeper(2);
    SlowListener listener;
    keeper.addEventListener(&listener);
    QSignalSpy finishedSpy(&keeper, &PromiseKeeper::taskFinished);
    for (int i = 0; i < firstCount; ++i)
        keeper.submit([] {});
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCoreApplication::sendPostedEvents(&keeper); // one bounded delivery: a slice, then a backlog
    QVERIFY(listener.events.size() < qsizetype(3 * firstCount));
    for (int i = 0; i < laterCount; ++i)
        keeper.submit([] {});
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    keeper.processPending();
    QCOMPARE(listener.events.size(), qsizetype(3 * (firstCount + laterCount)));
    QCOMPARE(finishedSpy.count(), firstCount + laterCount);
    keeper.removeEventListener(&listener);
}

void tst_EventStream::lateListenerSnapshot_data()
{
    QTest::addColumn<bool>("deliverFirst");
    QTest::newRow("finished events delivered") << true;
    QTest::newRow("finished events still buffered") << false;
}

void tst_EventStream::lateListenerSnapshot()
{
    QFETCH(bool, deliverFirst);
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    QSignalSpy finishedSpy(&keeper, &PromiseKeeper::taskFinished);
    QVERIFY(finishedSpy.isValid());

    QList<quint64> finishedIds;
    for (int i = 0; i < 3; ++i)
        finishedIds.append(keeper.submit([i] { return i; }).id());
    auto failed = keeper.submit([]() -> int { throw std::runtime_error("old failure"); });
    finishedIds.append(failed.id());
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    if (deliverFirst)
        QTRY_COMPARE(finishedSpy.count(), 4);

    auto running = keeper.submit(
        pk::TaskOptions { QStringLiteral("running"), 0 }, [gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    auto queued = keeper.submit(pk::TaskOptions { QStringLiteral("queued"), 2 }, [] { return 5; });

    RecordingListener late;
    keeper.addEventListener(&late);
    QCOMPARE(late.snapshots, 1);
    QCOMPARE(late.threads, (QSet<QThread *> { keeper.thread() }));
    // Live tasks: the running one first, then the queue.
    QCOMPARE(idsOf(late.live), (QList<quint64> { running.id(), queued.id() }));
    QCOMPARE(late.live.at(0).state(), TaskState::Running);
    QCOMPARE(late.live.at(0).title(), QStringLiteral("running"));
    QCOMPARE(late.live.at(0).workerIndex(), 0);
    QCOMPARE(late.live.at(1).state(), TaskState::Queued);
    QCOMPARE(late.live.at(1).priority(), 2);
    // History: the finished ones, oldest first, in their final states.
    QCOMPARE(idsOf(late.recent), finishedIds);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(late.recent.at(i).state(), TaskState::Succeeded);
    QCOMPARE(late.recent.at(3).state(), TaskState::Failed);
    QCOMPARE(late.recent.at(3).errorString(), QStringLiteral("old failure"));
    QVERIFY(late.recent.at(0).finishedAt().isValid());
    QVERIFY(late.events.isEmpty()); // what the snapshot covers is not sent again

    // From now on, only later changes.
    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QTRY_VERIFY(late.sawFinal(queued.id()));
    QTRY_VERIFY(late.sawFinal(running.id()));
    QCOMPARE(late.statesOf(running.id()), QList<TaskState> { TaskState::Succeeded });
    QCOMPARE(late.statesOf(queued.id()),
        (QList<TaskState> { TaskState::Running, TaskState::Succeeded }));
    for (quint64 id : std::as_const(finishedIds))
        QVERIFY(late.statesOf(id).isEmpty());
    QCOMPARE(late.events.size(), qsizetype(3));
    // Signals were not lost or doubled by the hand-over: one taskFinished per task.
    QTRY_COMPARE(finishedSpy.count(), 6);
    keeper.removeEventListener(&late);
}

void tst_EventStream::historySize_data()
{
    QTest::addColumn<int>("sizeBefore"); // -1: keep the default
    QTest::addColumn<int>("tasks");
    QTest::addColumn<int>("sizeAfter"); // -1: do not change it after the tasks ran
    QTest::addColumn<int>("expectedSize");
    QTest::addColumn<int>("expectedHistory");
    QTest::newRow("default, few tasks") << -1 << 5 << -1 << 256 << 5;
    QTest::newRow("default caps at 256") << -1 << 300 << -1 << 256 << 256;
    QTest::newRow("2") << 2 << 5 << -1 << 2 << 2;
    QTest::newRow("0 keeps nothing") << 0 << 5 << -1 << 0 << 0;
    QTest::newRow("negative counts as 0") << -3 << 5 << -1 << 0 << 0;
    QTest::newRow("shrunk afterwards") << -1 << 5 << 3 << 3 << 3;
    QTest::newRow("grown afterwards") << 2 << 5 << 10 << 10 << 2;
}

void tst_EventStream::historySize()
{
    QFETCH(int, sizeBefore);
    QFETCH(int, tasks);
    QFETCH(int, sizeAfter);
    QFETCH(int, expectedSize);
    QFETCH(int, expectedHistory);

    PromiseKeeper keeper(1);
    QCOMPARE(keeper.historySize(), 256);
    QSignalSpy finishedSpy(&keeper, &PromiseKeeper::taskFinished);
    QVERIFY(finishedSpy.isValid());
    if (sizeBefore != -1)
        keeper.setHistorySize(sizeBefore);

    QList<quint64> ids;
    for (int i = 0; i < tasks; ++i)
        ids.append(keeper.submit([] {}).id());
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QTRY_COMPARE(finishedSpy.count(), tasks);
    if (sizeAfter != -1)
        keeper.setHistorySize(sizeAfter);
    QCOMPARE(keeper.historySize(), expectedSize);
    QCOMPARE(keeper.property("historySize").toInt(), expectedSize);

    RecordingListener late;
    keeper.addEventListener(&late);
    QVERIFY(late.live.isEmpty());
    QCOMPARE(idsOf(late.recent), ids.mid(ids.size() - expectedHistory)); // the newest, oldest first
    keeper.removeEventListener(&late);
}

void tst_EventStream::removeEventListenerStopsDelivery()
{
    PromiseKeeper keeper(1);
    QSignalSpy finishedSpy(&keeper, &PromiseKeeper::taskFinished);
    QVERIFY(finishedSpy.isValid());
    RecordingListener listener;
    RecordingListener stays;
    keeper.addEventListener(&listener);
    keeper.addEventListener(&stays);

    auto first = keeper.submit([] { return 1; });
    QCOMPARE(first.result(), 1);
    QTRY_VERIFY(listener.sawFinal(first.id()));
    const qsizetype seen = listener.events.size();
    const int batches = listener.batches;

    keeper.removeEventListener(&listener);
    auto second = keeper.submit([] { return 2; });
    QCOMPARE(second.result(), 2);
    QTRY_VERIFY(stays.sawFinal(second.id())); // delivered to the others
    QTRY_COMPARE(finishedSpy.count(), 2);
    QCOMPARE(listener.events.size(), seen);
    QCOMPARE(listener.batches, batches);
    QVERIFY(listener.statesOf(second.id()).isEmpty());

    keeper.removeEventListener(&listener); // removing twice is harmless
    keeper.removeEventListener(&stays);
}

void tst_EventStream::addEventListenerTwiceIsOnce()
{
    PromiseKeeper keeper(1);
    RecordingListener listener;
    keeper.addEventListener(&listener);
    keeper.addEventListener(&listener);
    QCOMPARE(listener.snapshots, 1);
    auto p = keeper.submit([] { return 1; });
    QCOMPARE(p.result(), 1);
    QTRY_VERIFY(listener.sawFinal(p.id()));
    QCOMPARE(listener.statesOf(p.id()),
        (QList<TaskState> { TaskState::Queued, TaskState::Running, TaskState::Succeeded }));
    keeper.removeEventListener(&listener);
}

void tst_EventStream::addEventListenerFromOtherThreadWarns()
{
    PromiseKeeper keeper(1);
    RecordingListener listener;
    pktest::MessageLog log;
    const QRegularExpression warning(
        QStringLiteral("addEventListener: call it on the keeper's thread"));
    QTest::ignoreMessage(QtWarningMsg, warning);
    std::thread other([&keeper, &listener] { keeper.addEventListener(&listener); });
    other.join();
    QCOMPARE(log.warningCategories(warning), QStringList { QStringLiteral("promisekeeper") });
    QCOMPARE(listener.snapshots, 0);

    // It was not added: it gets nothing.
    QSignalSpy finishedSpy(&keeper, &PromiseKeeper::taskFinished);
    QVERIFY(finishedSpy.isValid());
    QCOMPARE(keeper.submit([] { return 1; }).result(), 1);
    QVERIFY(finishedSpy.wait(pktest::kTimeoutMs));
    QVERIFY(listener.events.isEmpty());
}

void tst_EventStream::keeperThreadCallsFromOtherThreadWarn_data()
{
    QTest::addColumn<QString>("call");
    QTest::newRow("removeEventListener") << QStringLiteral("removeEventListener");
    QTest::newRow("setHistorySize") << QStringLiteral("setHistorySize");
}

// The listeners and the history are the keeper's thread's: from elsewhere these warn and change
// nothing (the listener still gets the events, the history keeps its size).
void tst_EventStream::keeperThreadCallsFromOtherThreadWarn()
{
    QFETCH(QString, call);
    PromiseKeeper keeper(1);
    RecordingListener listener;
    keeper.addEventListener(&listener);
    auto scope = qScopeGuard([&] { keeper.removeEventListener(&listener); });
    pktest::MessageLog log;
    const QRegularExpression warning(call + QStringLiteral(": call it on the keeper's thread"));
    QTest::ignoreMessage(QtWarningMsg, warning);
    std::thread other([&] {
        if (call == QLatin1String("removeEventListener"))
            keeper.removeEventListener(&listener);
        else
            keeper.setHistorySize(3);
    });
    other.join();
    QCOMPARE(log.warningCategories(warning), QStringList { QStringLiteral("promisekeeper") });
    QCOMPARE(keeper.historySize(), 256);
    auto p = keeper.submit([] { return 1; });
    QCOMPARE(p.result(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(listener.sawFinal(p.id()), pktest::kTimeoutMs);
}

void tst_EventStream::addEventListenerKeepsIdleSignal()
{
    PromiseKeeper keeper(1);
    QSignalSpy idleSpy(&keeper, &PromiseKeeper::idle);
    QSignalSpy finishedSpy(&keeper, &PromiseKeeper::taskFinished);
    QSignalSpy countsSpy(&keeper, &PromiseKeeper::countsChanged);
    QVERIFY(idleSpy.isValid());
    QVERIFY(finishedSpy.isValid());
    QVERIFY(countsSpy.isValid());

    auto p = keeper.submit([] { return 1; });
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs)); // the last task's events are buffered

    // Registering a listener now takes the buffered batch and emits its task signals ...
    RecordingListener listener;
    keeper.addEventListener(&listener);
    QCOMPARE(finishedSpy.count(), 1);
    QCoreApplication::processEvents(); // ... and the pending flush finds an empty buffer.
    QVERIFY(countsSpy.count() >= 1);
    // The batch that addEventListener() takes is delivered in full, idle() included.
    QCOMPARE(idleSpy.count(), 1);
    keeper.removeEventListener(&listener);
}

void tst_EventStream::addEventListenerFromSlotKeepsSignalOrder()
{
    // A slot on the keeper's thread may add a listener (say, a monitor window opened when a task
    // fails). Signals of one task must still come in its state order.
    PromiseKeeper keeper(0);
    QList<QPair<quint64, TaskState>> emitted;
    const auto record = [&emitted](const pk::TaskInfo &info) {
        emitted.append({ info.id(), info.state() });
    };
    connect(&keeper, &PromiseKeeper::taskQueued, this, record);
    connect(&keeper, &PromiseKeeper::taskStarted, this, record);
    connect(&keeper, &PromiseKeeper::taskSucceeded, this, record);

    auto a = keeper.submit([] { return 1; });
    auto b = keeper.submit([] { return 2; });
    RecordingListener late;
    bool added = false;
    connect(&keeper, &PromiseKeeper::taskQueued, this, [&](const pk::TaskInfo &info) {
        if (added || info.id() != a.id())
            return;
        added = true;
        keeper.processPending(); // runs a and b; its delivery is folded into the current one
        keeper.addEventListener(&late);
    });
    QCoreApplication::processEvents(); // delivers "a queued, b queued"
    QVERIFY(added);
    QCOMPARE(b.state(), TaskState::Succeeded);
    QCoreApplication::processEvents();

    QList<TaskState> statesOfB;
    for (const auto &e : std::as_const(emitted)) {
        if (e.first == b.id())
            statesOfB.append(e.second);
    }
    // Called while a batch is being emitted, addEventListener() waits for its end: the
    // newer events come after the rest of the batch.
    QCOMPARE(statesOfB,
        (QList<TaskState> { TaskState::Queued, TaskState::Running, TaskState::Succeeded }));
    QCOMPARE(late.snapshots, 1);
    keeper.removeEventListener(&late);
}

// Every path a task takes through the states (queued, run, failed, cancelled queued or waiting,
// a continuation released from waiting, an aggregate settled without running, a context
// continuation run outside the pool): deliveredCounts() is what the events delivered add up
// to, at every delivery.
void tst_EventStream::deliveredCountsFollowTheEvents()
{
    PromiseKeeper keeper(1);
    CountingListener listener(&keeper);
    keeper.addEventListener(&listener);
    QSemaphore release;
    auto blocker = keeper.submit([&release] { release.acquire(); });
    QTRY_COMPARE_WITH_TIMEOUT(blocker.state(), TaskState::Running, 5000);
    QList<pk::Promise<int>> queued;
    for (int i = 0; i < 20; ++i)
        queued.append(keeper.submit([i] { return i; }));
    auto failing = keeper.submit([]() -> int { throw std::runtime_error("boom"); });
    QVERIFY(queued.last().cancel());
    auto continued = queued.first().then([](int v) { return v + 1; });
    auto cancelledWaiting = queued.at(1).then([](int v) { return v; });
    QVERIFY(cancelledWaiting.cancel());
    auto all = pk::whenAll(queued.mid(0, 5));
    auto onContext = queued.at(2).then(&keeper, [](int v) { return v * 2; });
    release.release();
    // Not waitForAll(): the context continuation runs in this thread's event loop.
    QTRY_COMPARE_WITH_TIMEOUT(onContext.state(), TaskState::Succeeded, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(keeper.counts().live(), 0, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(keeper.deliveredCounts(), keeper.counts(), 5000);
    QCOMPARE(failing.state(), TaskState::Failed);
    QCOMPARE(all.state(), TaskState::Succeeded);
    QCOMPARE(continued.result(), 1);
    QVERIFY(listener.calls > 0);
    QCOMPARE(listener.mismatches, 0);
    QCOMPARE(keeper.deliveredCounts().cancelled, 2);
    QCOMPARE(keeper.deliveredCounts().failed, 1);
    keeper.removeEventListener(&listener);
}

// counts() is the keeper's now; deliveredCounts() stays where the delivered events left it
// until the keeper's thread delivers the rest.
void tst_EventStream::deliveredCountsBehindUntilDelivered()
{
    PromiseKeeper keeper(2);
    for (int i = 0; i < 10; ++i)
        keeper.submit([] {});
    QVERIFY(keeper.waitForAll(5000)); // this thread delivered nothing meanwhile
    QCOMPARE(keeper.counts().succeeded, 10);
    QCOMPARE(keeper.deliveredCounts(), pk::TaskCounts());
    QTRY_COMPARE_WITH_TIMEOUT(keeper.deliveredCounts().succeeded, 10, 5000);
    QCOMPARE(keeper.deliveredCounts(), keeper.counts());
}

QTEST_GUILESS_MAIN(tst_EventStream)
#include "tst_eventstream.moc"
