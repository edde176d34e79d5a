// pk::KeeperFeed: snapshot first, coalesced batches with the right states and counts,
// cancellation by id, and a keeper that goes away.
#include "pktest.h"

#include <pk/keeperfeed.h>
#include <pk/promisekeeper.h>

#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <stdexcept>

namespace {

using Changes = QList<pk::TaskInfo>;

Changes changesOf(const QSignalSpy &spy, qsizetype call)
{
    return spy.at(call).at(0).value<Changes>();
}

pk::TaskCounts countsOf(const QSignalSpy &spy, qsizetype call)
{
    return spy.at(call).at(1).value<pk::TaskCounts>();
}

// What the feed sends for \a info: the core's TaskInfo, named after the keeper's label.
pk::TaskInfo labelled(pk::TaskInfo info, const QString &label = QStringLiteral("keeper 1"))
{
    info.setKeeperName(label);
    return info;
}

// A feed that never sends by itself: the test calls flush().
void manualFlush(pk::KeeperFeed &feed)
{
    feed.setUpdateInterval(24 * 3600 * 1000);
}

} // namespace

class tst_KeeperFeed : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void snapshotComesFirst();
    void updatedCarriesStatesAndCounts();
    void coalescesChangesOfOneTask();
    void coalescesAcrossDeliveries();
    void ordersByLastChange();
    void timerSendsBatches();
    void floodIsCapped();
    void deepQueueComesInBatches();
    void heldBackTasksThatFinishCountAsFinished();
    void cancelTaskById();
    void cancelAll();
    void requestSnapshot();
    void keeperDestroyedFirst();
    void sourceName();
    void twoKeepersApart();
    void countsAgreeWithTheChanges();
};

void tst_KeeperFeed::initTestCase()
{
    qRegisterMetaType<pk::TaskCounts>();
    qRegisterMetaType<QList<pk::TaskInfo>>();
}

void tst_KeeperFeed::snapshotComesFirst()
{
    pk::PromiseKeeper keeper(0);
    keeper.submit(pk::TaskOptions { QStringLiteral("a"), 0 }, [] {});
    keeper.submit(pk::TaskOptions { QStringLiteral("b"), 0 }, [] {});

    pk::KeeperFeed feed(&keeper);
    QStringList order;
    connect(
        &feed, &pk::MonitorFeed::snapshot, this, [&order] { order << QStringLiteral("snapshot"); });
    connect(
        &feed, &pk::MonitorFeed::updated, this, [&order] { order << QStringLiteral("updated"); });
    QSignalSpy snapshots(&feed, &pk::MonitorFeed::snapshot);
    QVERIFY(snapshots.isValid());
    QVERIFY(feed.isConnected());

    QTRY_COMPARE(snapshots.count(), 1);
    const Changes live = snapshots.at(0).at(0).value<Changes>();
    QCOMPARE(live.size(), 2);
    QCOMPARE(live.at(0).title(), QStringLiteral("a"));
    QCOMPARE(live.at(0).state(), pk::TaskState::Queued);
    QCOMPARE(live.at(1).title(), QStringLiteral("b"));
    QCOMPARE(snapshots.at(0).at(2).toInt(), 0); // threadCount

    // Counts follow the snapshot even when nothing changes.
    QTRY_COMPARE(order, QStringList({ QStringLiteral("snapshot"), QStringLiteral("updated") }));
}

void tst_KeeperFeed::updatedCarriesStatesAndCounts()
{
    pk::PromiseKeeper keeper(0);
    pk::KeeperFeed feed(&keeper);
    manualFlush(feed);
    QSignalSpy updates(&feed, &pk::MonitorFeed::updated);
    QVERIFY(updates.isValid());
    feed.flush(); // the snapshot and its counts
    updates.clear();

    for (int i = 0; i < 4; ++i)
        keeper.submit([i] { return i; });
    auto failing = keeper.submit(pk::TaskOptions { QStringLiteral("boom"), 3 },
        []() -> int { throw std::runtime_error("it broke"); });
    QCOMPARE(keeper.processPending(), 5);
    feed.flush();

    QCOMPARE(updates.count(), 1);
    const Changes changes = changesOf(updates, 0);
    QCOMPARE(changes.size(), 5);
    int succeeded = 0;
    for (const pk::TaskInfo &info : changes) {
        if (info.id() == failing.id()) {
            QCOMPARE(info.state(), pk::TaskState::Failed);
            QCOMPARE(info.errorString(), QStringLiteral("it broke"));
            QCOMPARE(info.title(), QStringLiteral("boom"));
            QCOMPARE(info.priority(), 3);
        } else {
            QCOMPARE(info.state(), pk::TaskState::Succeeded);
            ++succeeded;
        }
        QVERIFY(info.startedAtNsecs() > 0);
        QVERIFY(info.finishedAtNsecs() >= info.startedAtNsecs());
        QCOMPARE(info.workerIndex(), 0); // processPending() in manual mode
    }
    QCOMPARE(succeeded, 4);
    const pk::TaskCounts counts = countsOf(updates, 0);
    QCOMPARE(counts.succeeded, 4);
    QCOMPARE(counts.failed, 1);
    QCOMPARE(counts.live(), 0);
    QCOMPARE(updates.at(0).at(3).toULongLong(), 0u); // nothing dropped

    // Nothing changed since: no batch.
    feed.flush();
    QCOMPARE(updates.count(), 1);
}

void tst_KeeperFeed::coalescesChangesOfOneTask()
{
    pk::PromiseKeeper keeper(0);
    pk::KeeperFeed feed(&keeper);
    manualFlush(feed);
    QSignalSpy updates(&feed, &pk::MonitorFeed::updated);
    feed.flush();
    updates.clear();

    auto task = keeper.submit([] { return 42; });
    keeper.processPending(); // Queued, Running and Succeeded in one delivery
    feed.flush();
    QCOMPARE(updates.count(), 1);
    const Changes changes = changesOf(updates, 0);
    QCOMPARE(changes.size(), 1);
    QCOMPARE(changes.at(0).id(), task.id());
    QCOMPARE(changes.at(0).state(), pk::TaskState::Succeeded);
    QCOMPARE(changes.at(0), labelled(task.info()));
}

void tst_KeeperFeed::coalescesAcrossDeliveries()
{
    pk::PromiseKeeper keeper(0);
    pk::KeeperFeed feed(&keeper);
    manualFlush(feed);
    QSignalSpy updates(&feed, &pk::MonitorFeed::updated);
    feed.flush();
    updates.clear();

    QSignalSpy queuedSignals(&keeper, &pk::PromiseKeeper::taskQueued);
    QList<pk::Promise<int>> tasks;
    for (int i = 0; i < 100; ++i)
        tasks << keeper.submit([i] { return i; });
    QTRY_COMPARE(queuedSignals.count(), 100); // delivered: 100 x Queued
    keeper.processPending(); // another: 100 x (Running, Succeeded)
    feed.flush();

    QCOMPARE(updates.count(), 1);
    const Changes changes = changesOf(updates, 0);
    QCOMPARE(changes.size(), 100);
    for (qsizetype i = 0; i < changes.size(); ++i) {
        QCOMPARE(changes.at(i).id(), tasks.at(i).id()); // ran in order, so changed in order
        QCOMPARE(changes.at(i), labelled(tasks.at(i).info()));
    }
}

void tst_KeeperFeed::ordersByLastChange()
{
    pk::PromiseKeeper keeper(0);
    pk::KeeperFeed feed(&keeper);
    manualFlush(feed);
    QSignalSpy updates(&feed, &pk::MonitorFeed::updated);
    feed.flush();
    updates.clear();

    QSignalSpy queuedSignals(&keeper, &pk::PromiseKeeper::taskQueued);
    QSignalSpy cancelledSignals(&keeper, &pk::PromiseKeeper::taskCancelled);
    auto first = keeper.submit([] {});
    auto second = keeper.submit([] {});
    QTRY_COMPARE(queuedSignals.count(), 2); // delivered to the feed too
    QVERIFY(first.cancel()); // the first changed last
    QTRY_COMPARE(cancelledSignals.count(), 1);
    feed.flush();

    QCOMPARE(updates.count(), 1);
    const Changes changes = changesOf(updates, 0);
    QCOMPARE(changes.size(), 2);
    QCOMPARE(changes.at(0).id(), second.id());
    QCOMPARE(changes.at(0).state(), pk::TaskState::Queued);
    QCOMPARE(changes.at(1).id(), first.id());
    QCOMPARE(changes.at(1).state(), pk::TaskState::Cancelled);
    QVERIFY(changes.at(1).finishedAtNsecs() > 0);
    QCOMPARE(countsOf(updates, 0).cancelled, 1);
    QCOMPARE(countsOf(updates, 0).queued, 1);
}

void tst_KeeperFeed::timerSendsBatches()
{
    pk::PromiseKeeper keeper(2);
    pk::KeeperFeed feed(&keeper);
    QCOMPARE(feed.updateInterval(), 33);
    QSignalSpy updates(&feed, &pk::MonitorFeed::updated);
    QList<pk::Promise<int>> tasks;
    for (int i = 0; i < 1000; ++i)
        tasks << keeper.submit([i] { return i; });
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));

    // Each task reaches Succeeded in some batch, and the counts of the last batch are exact.
    QSet<quint64> succeeded;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (; !updates.isEmpty(); updates.removeFirst()) {
                for (const pk::TaskInfo &info : updates.first().at(0).value<Changes>()) {
                    if (info.state() == pk::TaskState::Succeeded)
                        succeeded.insert(info.id());
                }
                if (updates.size() == 1 && succeeded.size() == 1000)
                    return countsOf(updates, 0).succeeded == 1000;
            }
            return false;
        }(),
        pktest::kTimeoutMs);
}

void tst_KeeperFeed::floodIsCapped()
{
    pk::PromiseKeeper keeper(0);
    pk::KeeperFeed feed(&keeper);
    manualFlush(feed);
    feed.setMaxFinishedPerBatch(10);
    QCOMPARE(feed.maxFinishedPerBatch(), 10);
    QSignalSpy updates(&feed, &pk::MonitorFeed::updated);
    feed.flush();
    updates.clear();

    // Five tasks the views have seen queued, then a flood.
    QList<pk::Promise<void>> seen;
    for (int i = 0; i < 5; ++i)
        seen << keeper.submit([] {});
    QSignalSpy queuedSignals(&keeper, &pk::PromiseKeeper::taskQueued);
    QTRY_COMPARE(queuedSignals.count(), 5);
    feed.flush();
    QCOMPARE(changesOf(updates, 0).size(), 5);
    QList<pk::Promise<void>> flood;
    for (int i = 0; i < 50; ++i)
        flood << keeper.submit([] {});
    auto failing = keeper.submit([] { throw std::runtime_error("x"); });
    auto cancelled = keeper.submit([] {});
    cancelled.cancel(); // before the flood ran: the oldest change
    keeper.processPending();
    feed.flush();

    QCOMPARE(updates.count(), 2);
    const Changes changes = changesOf(updates, 1);
    QSet<quint64> ids;
    for (const pk::TaskInfo &info : changes)
        ids.insert(info.id());
    // The seen ones and the failure always; of the 51 that came and went, the 10 that changed
    // last.
    for (const auto &p : std::as_const(seen))
        QVERIFY(ids.contains(p.id()));
    QVERIFY(ids.contains(failing.id()));
    QCOMPARE(changes.size(), 5 + 1 + 10);
    for (qsizetype i = 40; i < 50; ++i)
        QVERIFY(ids.contains(flood.at(i).id()));
    QVERIFY(!ids.contains(flood.at(39).id()));
    QVERIFY(!ids.contains(cancelled.id()));
    QCOMPARE(updates.at(1).at(3).toULongLong(), 41u); // droppedDetail
    QCOMPARE(countsOf(updates, 1).succeeded, 55); // counts stay exact
    QCOMPARE(countsOf(updates, 1).cancelled, 1);
}

void tst_KeeperFeed::deepQueueComesInBatches()
{
    pk::PromiseKeeper keeper(0);
    pk::KeeperFeed feed(&keeper);
    manualFlush(feed);
    feed.setMaxNewQueuedPerBatch(10);
    QCOMPARE(feed.maxNewQueuedPerBatch(), 10);
    feed.setMaxNewQueuedPerBatch(0);
    QCOMPARE(feed.maxNewQueuedPerBatch(), 1);
    feed.setMaxNewQueuedPerBatch(10);
    QSignalSpy updates(&feed, &pk::MonitorFeed::updated);
    feed.flush();
    updates.clear();

    QList<pk::Promise<void>> queued;
    for (int i = 0; i < 25; ++i)
        queued << keeper.submit([] {});
    QSignalSpy queuedSignals(&keeper, &pk::PromiseKeeper::taskQueued);
    QTRY_COMPARE(queuedSignals.count(), 25);

    // Ten per batch, oldest first, each task once; the counts are exact from the first batch.
    QList<quint64> sent;
    for (int batch = 0; batch < 3; ++batch) {
        feed.flush();
        QCOMPARE(updates.count(), batch + 1);
        const Changes changes = changesOf(updates, batch);
        QCOMPARE(changes.size(), batch < 2 ? 10 : 5);
        for (const pk::TaskInfo &info : changes) {
            QCOMPARE(info.state(), pk::TaskState::Queued);
            sent << info.id();
        }
        QCOMPARE(countsOf(updates, batch).queued, 25);
        QCOMPARE(updates.at(batch).at(3).toULongLong(), 0u); // nothing dropped, only later
    }
    for (int i = 0; i < 25; ++i)
        QCOMPARE(sent.at(i), queued.at(i).id());
    feed.flush();
    QCOMPARE(updates.count(), 3); // nothing left behind: nothing more to send
}

void tst_KeeperFeed::heldBackTasksThatFinishCountAsFinished()
{
    pk::PromiseKeeper keeper(0);
    pk::KeeperFeed feed(&keeper);
    manualFlush(feed);
    feed.setMaxNewQueuedPerBatch(10);
    feed.setMaxFinishedPerBatch(5);
    QSignalSpy updates(&feed, &pk::MonitorFeed::updated);
    feed.flush();
    updates.clear();

    QList<pk::Promise<void>> tasks;
    for (int i = 0; i < 30; ++i)
        tasks << keeper.submit([] {});
    QSignalSpy queuedSignals(&keeper, &pk::PromiseKeeper::taskQueued);
    QTRY_COMPARE(queuedSignals.count(), 30);
    feed.flush(); // the first 10 sent as queued, 20 held back
    QCOMPARE(changesOf(updates, 0).size(), 10);
    QCOMPARE(keeper.processPending(), 30);
    feed.flush();

    // The 10 seen finish in detail; of the 20 never seen, the 5 that changed last come in
    // detail and 15 are counted as dropped.
    const Changes changes = changesOf(updates, 1);
    QCOMPARE(changes.size(), 10 + 5);
    for (const pk::TaskInfo &info : changes)
        QCOMPARE(info.state(), pk::TaskState::Succeeded);
    QCOMPARE(updates.at(1).at(3).toULongLong(), 15u);
    QCOMPARE(countsOf(updates, 1).succeeded, 30);
}

void tst_KeeperFeed::cancelTaskById()
{
    pktest::Gate gate;
    pk::PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    pk::KeeperFeed feed(&keeper);
    auto running = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    auto queued = keeper.submit([] {});
    auto other = keeper.submit([] {});

    feed.cancelTask(queued.id());
    QCOMPARE(queued.state(), pk::TaskState::Cancelled);
    QCOMPARE(other.state(), pk::TaskState::Queued);
    // A running task cannot be cancelled: nothing happens.
    feed.cancelTask(running.id());
    QCOMPARE(running.state(), pk::TaskState::Running);
    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(other.state(), pk::TaskState::Succeeded);
}

void tst_KeeperFeed::cancelAll()
{
    pktest::Gate gate;
    pk::PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    pk::KeeperFeed feed(&keeper);
    QSignalSpy updates(&feed, &pk::MonitorFeed::updated);
    auto running = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    for (int i = 0; i < 5; ++i)
        keeper.submit([] {});
    feed.cancelAll();
    QCOMPARE(keeper.cancelledCount(), 5);
    QTRY_VERIFY(!updates.isEmpty() && countsOf(updates, updates.size() - 1).cancelled == 5);
    gate.open();
    QVERIFY(running.wait(pktest::kTimeoutMs));
}

void tst_KeeperFeed::requestSnapshot()
{
    pk::PromiseKeeper keeper(0);
    pk::KeeperFeed feed(&keeper);
    QSignalSpy snapshots(&feed, &pk::MonitorFeed::snapshot);
    QTRY_COMPARE(snapshots.count(), 1);
    keeper.submit([] {});
    keeper.submit([] {});
    keeper.processPending();
    keeper.submit([] {});
    feed.requestSnapshot();
    QTRY_COMPARE(snapshots.count(), 2);
    QCOMPARE(snapshots.at(1).at(0).value<Changes>().size(), 1); // live: the last one
    QCOMPARE(snapshots.at(1).at(1).value<Changes>().size(), 2); // finished: the first two
}

void tst_KeeperFeed::keeperDestroyedFirst()
{
    auto keeper = std::make_unique<pk::PromiseKeeper>(0);
    pk::KeeperFeed feed(keeper.get());
    QSignalSpy connection(&feed, &pk::MonitorFeed::connectionChanged);
    keeper->submit([] {});
    keeper.reset();
    QCOMPARE(connection.count(), 1);
    QCOMPARE(connection.at(0).at(0).toBool(), false);
    QVERIFY(!feed.isConnected());
    QVERIFY(!feed.keeper());
    feed.cancelAll(); // harmless
    feed.cancelTask(1);
    feed.flush();
}

void tst_KeeperFeed::sourceName()
{
    pk::PromiseKeeper keeper(0);
    keeper.setObjectName(QStringLiteral("images"));
    pk::KeeperFeed feed(&keeper);
    QVERIFY(feed.sourceName().contains(QStringLiteral("images")));
}

void tst_KeeperFeed::twoKeepersApart()
{
    pk::PromiseKeeper images(0);
    images.setObjectName(QStringLiteral("images"));
    pk::PromiseKeeper network(0);
    pk::PromiseKeeper third(0);
    // One task of each before the feed exists: they must come in the snapshot, labelled.
    auto early = images.submit(pk::TaskOptions { QStringLiteral("early"), 0 }, [] {});
    pk::KeeperFeed feed(&images);
    manualFlush(feed);
    feed.addKeeper(&network, QStringLiteral("network"));
    feed.addKeeper(&third); // no label, no objectName: "keeper 3"
    // Twice: refused.
    QTest::ignoreMessage(QtWarningMsg, "pk::KeeperFeed: the keeper is in the feed already");
    feed.addKeeper(&network);
    QCOMPARE(feed.keeperList(), (QList<pk::PromiseKeeper *> { &images, &network, &third }));
    QSignalSpy snapshots(&feed, &pk::MonitorFeed::snapshot);
    QSignalSpy updates(&feed, &pk::MonitorFeed::updated);
    QVERIFY(snapshots.isValid() && updates.isValid());
    QTRY_COMPARE(snapshots.count(), 1); // one snapshot of all three keepers
    const Changes live = snapshots.at(0).at(0).value<Changes>();
    QCOMPARE(live.size(), 1);
    QCOMPARE(live.at(0), labelled(early.info(), QStringLiteral("images")));
    feed.flush();
    updates.clear();

    QList<pk::Promise<int>> imageTasks;
    for (int i = 0; i < 3; ++i)
        imageTasks << images.submit([i] { return i; });
    auto netTask = network.submit([]() -> int { throw std::runtime_error("down"); });
    auto netThen = netTask.then([](int v) { return v + 1; });
    QTRY_VERIFY(images.processPending() + network.processPending() == 0
        && images.counts().live() == 0 && network.counts().live() == 0);
    feed.flush();

    QVERIFY(!updates.isEmpty());
    QHash<quint64, QString> keeperOf;
    for (const QList<QVariant> &call : std::as_const(updates)) {
        for (const pk::TaskInfo &info : call.at(0).value<Changes>()) {
            QVERIFY2(!info.keeperName().isEmpty(), qPrintable(info.title()));
            keeperOf[info.id()] = info.keeperName();
        }
    }
    QCOMPARE(keeperOf.value(early.id()), QStringLiteral("images"));
    for (const auto &t : std::as_const(imageTasks))
        QCOMPARE(keeperOf.value(t.id()), QStringLiteral("images"));
    QCOMPARE(keeperOf.value(netTask.id()), QStringLiteral("network"));
    QCOMPARE(keeperOf.value(netThen.id()), QStringLiteral("network"));

    const QList<pk::KeeperStatus> statuses = feed.keepers();
    QCOMPARE(statuses.size(), 3);
    QCOMPARE(statuses.at(0).name, QStringLiteral("images"));
    QCOMPARE(statuses.at(1).name, QStringLiteral("network"));
    QCOMPARE(statuses.at(2).name, QStringLiteral("keeper 3"));
    QCOMPARE(statuses.at(0).counts, images.counts());
    QCOMPARE(statuses.at(1).counts, network.counts());
    QCOMPARE(statuses.at(0).counts.succeeded, 4);
    QCOMPARE(statuses.at(1).counts.finished(), 2); // the failure and its continuation
    QCOMPARE(statuses.at(2).counts, pk::TaskCounts());
    const pk::TaskCounts sum = countsOf(updates, updates.count() - 1);
    QCOMPARE(sum.succeeded, images.counts().succeeded + network.counts().succeeded);
    QCOMPARE(sum.failed, images.counts().failed + network.counts().failed);
    QVERIFY(sum.failed >= 1);
    QCOMPARE(sum.cancelled, images.counts().cancelled + network.counts().cancelled);
    QVERIFY(feed.sourceName().contains(QStringLiteral("images, network, keeper 3")));

    // A keeper that goes away: the feed stays connected while another is left.
    QSignalSpy connection(&feed, &pk::MonitorFeed::connectionChanged);
    feed.requestSnapshot();
    QTRY_COMPARE(snapshots.count(), 2);
    QCOMPARE(feed.keepers().size(), 3);
    QVERIFY(feed.isConnected());
    QCOMPARE(connection.count(), 0);
}

// The counts of a batch are those of the changes it carries, not the keeper's a moment later:
// in a flood the keeper's thread delivers changes behind the workers, and counts taken "now"
// said "0 queued" beside rows still queued. A view that keeps the latest state of every task
// it was sent counts exactly what the batch says, batch after batch.
void tst_KeeperFeed::countsAgreeWithTheChanges()
{
    constexpr int taskCount = 200000; // a flood of a fraction of a second: several batches
    pk::PromiseKeeper keeper(2);
    pk::KeeperFeed feed(&keeper);
    // Bounds that keep every task in detail: no held-back or dropped task to account for.
    feed.setMaxFinishedPerBatch(taskCount);
    feed.setMaxNewQueuedPerBatch(taskCount);
    QHash<quint64, pk::TaskState> states;
    int batches = 0;
    pk::TaskCounts last;
    QStringList mismatches;
    connect(&feed, &pk::MonitorFeed::updated, this,
        [&](const Changes &changes, const pk::TaskCounts &counts, int, quint64 dropped) {
            QCOMPARE(dropped, 0u);
            for (const pk::TaskInfo &info : changes)
                states.insert(info.id(), info.state());
            pk::TaskCounts shown;
            for (const pk::TaskState state : std::as_const(states))
                shown.add(state);
            ++batches;
            last = counts;
            if (shown != counts) {
                mismatches << QStringLiteral("batch %1: rows %2 queued %3 running, counts %4 "
                                             "queued %5 running")
                                  .arg(batches)
                                  .arg(shown.queued + shown.waiting)
                                  .arg(shown.running)
                                  .arg(counts.queued + counts.waiting)
                                  .arg(counts.running);
            }
        });
    const std::unique_ptr<QThread> producer(QThread::create([&keeper] {
        for (int i = 0; i < taskCount; ++i)
            keeper.submit([] {});
    }));
    producer->start();
    QTRY_COMPARE_WITH_TIMEOUT(states.size(), qsizetype(taskCount), 30000);
    QTRY_COMPARE_WITH_TIMEOUT(last.succeeded, qint64(taskCount), 30000);
    producer->wait();
    QVERIFY(batches > 1);
    QVERIFY2(mismatches.isEmpty(), qPrintable(mismatches.mid(0, 5).join(QLatin1String("; "))));
}

QTEST_MAIN(tst_KeeperFeed)
#include "tst_keeperfeed.moc"
