// pk::asCompleted() and pk::PromiseWatcher: promises in the order they finish, blocking and
// through signals.
#include "composetest.h"

#include <pk/ascompleted.h>
#include <pk/combinators.h>
#include <pk/errors.h>
#include <pk/promise.h>
#include <pk/promisekeeper.h>
#include <pk/promisewatcher.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QPointer>
#include <QtCore/QSet>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <algorithm>
#include <memory>
#include <thread>

using pk::PromiseKeeper;
using pk::TaskState;
using pktest::Outcome;

namespace {

enum class CancelBy { Cancel, CancelAll, ShutdownCancelPending, Destructor };
enum class DeleteWhen { NothingFinished, ReportPending, InItsOwnSlot };

void addFinishOrders()
{
    QTest::addColumn<QList<int>>("finishOrder");
    QTest::newRow("input order") << QList<int> { 0, 1, 2 };
    QTest::newRow("reversed") << QList<int> { 2, 1, 0 };
    QTest::newRow("last first") << QList<int> { 2, 0, 1 };
}

QList<int> indicesIn(const QSignalSpy &spy)
{
    QList<int> indices;
    for (const QList<QVariant> &args : spy)
        indices.append(args.at(0).toInt());
    return indices;
}

} // namespace

Q_DECLARE_METATYPE(CancelBy)
Q_DECLARE_METATYPE(DeleteWhen)

class tst_AsCompleted : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // asCompleted
    void yieldsInFinishingOrder_data();
    void yieldsInFinishingOrder();
    void yieldsEachAsItFinishes_data();
    void yieldsEachAsItFinishes();
    void duplicatesYieldedOnce();
    void cancelledPromisesYielded_data();
    void cancelledPromisesYielded();
    void nextTimesOut();
    void invalidPromiseYielded();
    void manualModeRunsPendingTasks();

    // PromiseWatcher
    void watcherReportsInFinishingOrder_data();
    void watcherReportsInFinishingOrder();
    void watcherReportsThroughEventLoop_data();
    void watcherReportsThroughEventLoop();
    void watcherDeletedWhileWatching_data();
    void watcherDeletedWhileWatching();
};

// ---- asCompleted ------------------------------------------------------------------------------

void tst_AsCompleted::yieldsInFinishingOrder_data()
{
    addFinishOrders();
}

void tst_AsCompleted::yieldsInFinishingOrder()
{
    QFETCH(QList<int>, finishOrder);
    pktest::Gate gate;
    PromiseKeeper keeper(1); // runs the tasks one after another, in submission order
    const auto unblock = gate.openOnExit();
    auto blocker = keeper.submit([gate] { gate.pass(); });
    QList<pk::Promise<int>> promises(3);
    for (int index : std::as_const(finishOrder))
        promises[index] = keeper.submit([index] { return index; });

    auto completed = pk::asCompleted(promises);
    QCOMPARE(completed.size(), 3);
    QVERIFY(completed.hasNext());
    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));

    QList<int> yielded;
    for (const pk::Promise<int> &p : completed) {
        QVERIFY(p.isReady());
        yielded.append(p.result());
    }
    QCOMPARE(yielded, finishOrder);
    QVERIFY(!completed.hasNext());
}

void tst_AsCompleted::yieldsEachAsItFinishes_data()
{
    addFinishOrders();
}

void tst_AsCompleted::yieldsEachAsItFinishes()
{
    QFETCH(QList<int>, finishOrder);
    PromiseKeeper keeper(3);
    pktest::Gates gates(3);
    QList<pk::Promise<int>> promises;
    for (int i = 0; i < 3; ++i)
        promises.append(keeper.submit([gate = gates[i], i] { return gate.pass() ? i : -1; }));
    QVERIFY(gates.waitAllArrived());

    // Each iteration blocks until the next one finishes; the loop lets the next one go.
    auto completed = pk::asCompleted(promises);
    gates[finishOrder[0]].open();
    QList<int> yielded;
    for (const pk::Promise<int> &p : completed) {
        QCOMPARE(p.state(), TaskState::Succeeded);
        yielded.append(p.result());
        if (yielded.size() < finishOrder.size())
            gates[finishOrder[yielded.size()]].open();
    }
    QCOMPARE(yielded, finishOrder);
}

void tst_AsCompleted::duplicatesYieldedOnce()
{
    PromiseKeeper keeper(2);
    auto a = keeper.submit([] { return 1; });
    auto b = keeper.submit([] { return 2; });
    auto completed = pk::asCompleted(QList<pk::Promise<int>> { a, b, a, a, b });
    QCOMPARE(completed.size(), 2);
    QList<quint64> ids;
    for (const pk::Promise<int> &p : completed)
        ids.append(p.id());
    std::sort(ids.begin(), ids.end());
    QList<quint64> expected { a.id(), b.id() };
    std::sort(expected.begin(), expected.end());
    QCOMPARE(ids, expected);
}

void tst_AsCompleted::cancelledPromisesYielded_data()
{
    QTest::addColumn<CancelBy>("by");
    QTest::newRow("cancel()") << CancelBy::Cancel;
    QTest::newRow("cancelAll()") << CancelBy::CancelAll;
    QTest::newRow("shutdown(CancelPending)") << CancelBy::ShutdownCancelPending;
    QTest::newRow("keeper destroyed") << CancelBy::Destructor;
}

void tst_AsCompleted::cancelledPromisesYielded()
{
    QFETCH(CancelBy, by);
    pktest::Gate gate;
    auto keeper = std::make_unique<PromiseKeeper>(1);
    const auto unblock = gate.openOnExit();
    auto running = keeper->submit([gate] { return gate.pass() ? 0 : -1; });
    QVERIFY(gate.waitArrived());
    auto first = keeper->submit([] { return 1; });
    auto second = keeper->submit([] { return 2; });
    auto completed = pk::asCompleted(QList<pk::Promise<int>> { running, first, second });

    switch (by) {
    case CancelBy::Cancel:
        QVERIFY(first.cancel());
        QVERIFY(second.cancel());
        break;
    case CancelBy::CancelAll:
        QCOMPARE(keeper->cancelAll(), 3); // and `running` is asked to stop, and goes on
        break;
    case CancelBy::ShutdownCancelPending:
        QVERIFY(!keeper->shutdown(pk::ShutdownMode::CancelPending, 0)); // `running` goes on
        break;
    case CancelBy::Destructor: {
        // The destructor cancels the queue, then waits for `running`: let it go only then. A
        // waiter of `second` wakes before its continuations run, so wait for a continuation
        // attached after asCompleted's: `running` must not come before `second` in the queue.
        const auto secondSeen = pk::whenAny(second);
        std::thread opener([secondSeen, gate] {
            secondSeen.wait(pktest::kTimeoutMs);
            gate.open();
        });
        keeper.reset();
        opener.join();
        break;
    }
    }

    QSet<quint64> cancelledIds;
    for (int i = 0; i < 2; ++i) {
        const pk::Promise<int> p = completed.next(QDeadlineTimer(pktest::kTimeoutMs));
        QVERIFY(p.isValid()); // not lost
        QCOMPARE(p.state(), TaskState::Cancelled);
        cancelledIds.insert(p.id());
    }
    QCOMPARE(cancelledIds, (QSet<quint64> { first.id(), second.id() }));
    gate.open();
    const pk::Promise<int> last = completed.next(QDeadlineTimer(pktest::kTimeoutMs));
    QVERIFY(last == running);
    QCOMPARE(last.result(), 0);
    QVERIFY(!completed.hasNext());
}

void tst_AsCompleted::nextTimesOut()
{
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    auto blocked = keeper.submit([gate] { return gate.pass() ? 1 : -1; });
    QVERIFY(gate.waitArrived());
    auto completed = pk::asCompleted(QList<pk::Promise<int>> { blocked });

    QVERIFY(!completed.next(QDeadlineTimer(0)).isValid());
    QVERIFY(completed.hasNext()); // a time-out is not the end
    QVERIFY(!completed.next(QDeadlineTimer(20)).isValid());
    QVERIFY(completed.hasNext());

    gate.open();
    const pk::Promise<int> p = completed.next(QDeadlineTimer(pktest::kTimeoutMs));
    QVERIFY(p == blocked);
    QCOMPARE(p.result(), 1);
    QVERIFY(!completed.hasNext());
    QVERIFY(!completed.next(QDeadlineTimer(0)).isValid()); // the end
}

void tst_AsCompleted::invalidPromiseYielded()
{
    PromiseKeeper keeper(1);
    auto valid = keeper.submit([] { return 3; });
    auto completed = pk::asCompleted(QList<pk::Promise<int>> { pk::Promise<int>(), valid });
    QCOMPARE(completed.size(), 2);
    int invalidCount = 0;
    int validCount = 0;
    for (const pk::Promise<int> &p : completed) {
        if (p.isValid()) {
            ++validCount;
            QCOMPARE(p.result(), 3);
        } else {
            ++invalidCount;
            QCOMPARE(p.state(), TaskState::Failed);
        }
    }
    QCOMPARE(invalidCount, 1);
    QCOMPARE(validCount, 1);
}

void tst_AsCompleted::manualModeRunsPendingTasks()
{
    pktest::Recorder order;
    PromiseKeeper keeper(0); // on this thread: nothing else would run the tasks
    QList<pk::Promise<int>> promises;
    for (int i = 0; i < 3; ++i) {
        promises.append(keeper.submit([&order, i] {
            order.record(i);
            return i;
        }));
    }
    auto continuation = promises[1].then([](int v) { return v + 10; });
    auto completed = pk::asCompleted(
        QList<pk::Promise<int>> { continuation, promises[2], promises[0], promises[1] });

    QList<int> yielded;
    while (completed.hasNext()) {
        const pk::Promise<int> p = completed.next(QDeadlineTimer(pktest::kTimeoutMs));
        QVERIFY(p.isValid());
        yielded.append(p.result());
    }
    // Pending tasks ran in start order; the continuation was queued when its input succeeded.
    QCOMPARE(yielded, (QList<int> { 0, 1, 2, 11 }));
    QCOMPARE(order.values(), (QList<int> { 0, 1, 2 }));
    QVERIFY(keeper.isIdle());
}

// ---- PromiseWatcher ---------------------------------------------------------------------------

void tst_AsCompleted::watcherReportsInFinishingOrder_data()
{
    addFinishOrders();
}

void tst_AsCompleted::watcherReportsInFinishingOrder()
{
    QFETCH(QList<int>, finishOrder);
    PromiseKeeper keeper(3);
    pktest::Gates gates(3);
    QList<pk::Promise<int>> promises;
    for (int i = 0; i < 3; ++i)
        promises.append(keeper.submit([gate = gates[i], i] { return gate.pass() ? i : -1; }));

    pk::PromiseWatcher watcher;
    QSignalSpy addedSpy(&watcher, &pk::PromiseWatcher::promiseAdded);
    QSignalSpy finishedSpy(&watcher, &pk::PromiseWatcher::promiseFinished);
    QSignalSpy allSpy(&watcher, &pk::PromiseWatcher::allFinished);
    QVERIFY(addedSpy.isValid());
    QVERIFY(finishedSpy.isValid());
    QVERIFY(allSpy.isValid());
    watcher.addPromises(promises);
    QCOMPARE(indicesIn(addedSpy), (QList<int> { 0, 1, 2 }));
    QCOMPARE(watcher.count(), 3);
    QCOMPARE(watcher.finishedCount(), 0);
    for (int i = 0; i < 3; ++i)
        QVERIFY(watcher.promise(i) == promises[i]);

    for (int k = 0; k < 3; ++k) {
        gates[finishOrder[k]].open();
        QTRY_COMPARE(finishedSpy.count(), k + 1);
        QCOMPARE(watcher.finishedCount(), k + 1);
        if (k < 2)
            QCOMPARE(allSpy.count(), 0);
    }
    QCOMPARE(indicesIn(finishedSpy), finishOrder);
    QTRY_COMPARE(allSpy.count(), 1);
    QCoreApplication::processEvents();
    QCOMPARE(allSpy.count(), 1); // once
    QCOMPARE(finishedSpy.count(), 3);
}

void tst_AsCompleted::watcherReportsThroughEventLoop_data()
{
    QTest::addColumn<bool>("invalid");
    QTest::newRow("finished promise") << false;
    QTest::newRow("invalid promise") << true;
}

void tst_AsCompleted::watcherReportsThroughEventLoop()
{
    QFETCH(bool, invalid);
    PromiseKeeper keeper(1);
    pk::Promise<int> p;
    if (!invalid) {
        p = keeper.submit([] { return 1; });
        QVERIFY(p.wait(pktest::kTimeoutMs));
    }
    pk::PromiseWatcher watcher;
    QSignalSpy finishedSpy(&watcher, &pk::PromiseWatcher::promiseFinished);
    QSignalSpy allSpy(&watcher, &pk::PromiseWatcher::allFinished);
    QVERIFY(finishedSpy.isValid());
    QVERIFY(allSpy.isValid());

    QCOMPARE(watcher.addPromise(p), 0);
    // Not inside addPromise(), although the promise is final already.
    QCOMPARE(finishedSpy.count(), 0);
    QCOMPARE(allSpy.count(), 0);
    QCOMPARE(watcher.finishedCount(), 0);
    QTRY_COMPARE(finishedSpy.count(), 1);
    QCOMPARE(finishedSpy.at(0).at(0).toInt(), 0);
    QCOMPARE(allSpy.count(), 1);
    QCOMPARE(watcher.finishedCount(), 1);
}

void tst_AsCompleted::watcherDeletedWhileWatching_data()
{
    QTest::addColumn<DeleteWhen>("when");
    QTest::newRow("nothing finished yet") << DeleteWhen::NothingFinished;
    QTest::newRow("a report pending") << DeleteWhen::ReportPending;
    QTest::newRow("in its own promiseFinished slot") << DeleteWhen::InItsOwnSlot;
}

void tst_AsCompleted::watcherDeletedWhileWatching()
{
    QFETCH(DeleteWhen, when);
    PromiseKeeper keeper(2);
    pktest::Gates gates(2);
    QList<pk::Promise<int>> promises;
    for (int i = 0; i < 2; ++i)
        promises.append(keeper.submit([gate = gates[i], i] { return gate.pass() ? i : -1; }));
    QVERIFY(gates.waitAllArrived());

    auto *watcher = new pk::PromiseWatcher;
    QPointer<pk::PromiseWatcher> guard(watcher);
    int reports = 0;
    connect(watcher, &pk::PromiseWatcher::promiseFinished, watcher, [&reports, watcher, when] {
        ++reports;
        if (when == DeleteWhen::InItsOwnSlot)
            delete watcher;
    });
    watcher->addPromises(promises);

    switch (when) {
    case DeleteWhen::NothingFinished:
        delete watcher;
        break;
    case DeleteWhen::ReportPending: {
        // Attached after the watcher's link: once it ran, the report is posted.
        auto probe = promises[0].then([](int v) { return v; });
        gates[0].open();
        QVERIFY(probe.wait(pktest::kTimeoutMs));
        delete watcher;
        break;
    }
    case DeleteWhen::InItsOwnSlot:
        gates[0].open();
        gates[1].open();
        QTRY_VERIFY(guard.isNull());
        break;
    }
    QVERIFY(guard.isNull());

    for (int i = 0; i < 2; ++i)
        gates[i].open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCoreApplication::processEvents(); // whatever was posted finds no watcher
    QCOMPARE(reports, when == DeleteWhen::InItsOwnSlot ? 1 : 0);
    QCOMPARE(promises[0].result(), 0);
    QCOMPARE(promises[1].result(), 1);
}

QTEST_MAIN(tst_AsCompleted)
#include "tst_ascompleted.moc"
