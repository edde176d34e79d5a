// pk::MonitorModel and pk::MonitorFilterModel: batches in, consistent model signals out
// (checked by QAbstractItemModelTester), bounded memory with failures kept apart.
#include <pk/monitorfiltermodel.h>
#include <pk/monitormodel.h>

#include <QtCore/QItemSelectionModel>
#include <QtCore/QRandomGenerator>
#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <algorithm>
#include <memory>

namespace {

using Changes = QList<pk::TaskInfo>;

pk::TaskInfo task(quint64 id, pk::TaskState state, const QString &title = QString())
{
    pk::TaskInfo info;
    info.setId(id);
    info.setTitle(title.isEmpty() ? QStringLiteral("task %1").arg(id) : title);
    info.setState(state);
    const qint64 base = qint64(id) * 1000000;
    info.setQueuedAtNsecs(base + 1);
    if (state >= pk::TaskState::Running && state != pk::TaskState::Cancelled) {
        info.setStartedAtNsecs(base + 1000);
        info.setWorkerIndex(int(id % 4));
    }
    if (pk::isFinal(state))
        info.setFinishedAtNsecs(base + 5000);
    if (state == pk::TaskState::Failed)
        info.setErrorString(QStringLiteral("error of %1").arg(id));
    return info;
}

Changes tasks(quint64 firstId, int count, pk::TaskState state)
{
    Changes list;
    for (int i = 0; i < count; ++i)
        list << task(firstId + quint64(i), state);
    return list;
}

QList<quint64> idsOf(const pk::MonitorModel &model)
{
    QList<quint64> ids;
    for (int row = 0; row < model.rowCount(); ++row)
        ids << model.taskAt(row).id();
    return ids;
}

int countState(const pk::MonitorModel &model, pk::TaskState state)
{
    int n = 0;
    for (int row = 0; row < model.rowCount(); ++row)
        n += model.taskAt(row).state() == state;
    return n;
}

pk::TaskInfo continuation(quint64 id, quint64 input, pk::TaskState state = pk::TaskState::Waiting)
{
    pk::TaskInfo info = task(id, state, QStringLiteral("then ← %1").arg(input));
    info.setKind(pk::TaskKind::Continuation);
    info.setInputIds({ input });
    return info;
}

QList<quint64> shownIds(const QAbstractItemModel &filter)
{
    QList<quint64> ids;
    for (int row = 0; row < filter.rowCount(); ++row)
        ids << filter.index(row, 0).data(pk::MonitorModel::IdRole).toULongLong();
    return ids;
}

using Roots = QList<QPair<quint64, quint64>>; // (task, the root it folds under, 0 for none)

// Moves about a third of the \a live tasks on by one to three states (never back), each
// change made by \a make(id, state) and appended to \a changes; the finished leave \a live.
template<typename Make>
void advanceSome(
    QRandomGenerator &random, QHash<quint64, pk::TaskState> &live, Changes &changes, Make &&make)
{
    const QList<quint64> ids = live.keys();
    for (quint64 id : ids) {
        if (random.bounded(3) != 0)
            continue;
        const auto state = pk::TaskState(std::min(
            int(live.value(id)) + 1 + int(random.bounded(3)), int(pk::TaskState::Cancelled)));
        changes << make(id, state);
        if (pk::isFinal(state))
            live.remove(id);
        else
            live.insert(id, state);
    }
}

// The live tasks as a snapshot gives them, as after a reconnect.
Changes snapshotOf(const QHash<quint64, pk::TaskState> &live)
{
    Changes snapshot;
    for (auto it = live.cbegin(); it != live.cend(); ++it)
        snapshot << task(it.key(), it.value());
    return snapshot;
}

struct Tested
{
    Tested()
        : tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal)
    { }
    pk::MonitorModel model;
    QAbstractItemModelTester tester;
};

} // namespace

class tst_MonitorModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void columnsAndRoles();
    void snapshotResets();
    void newTasksAreOneInsertPerBatch();
    void updatesAreDataChanged();
    void mixedBatch();
    void staleChangesAreIgnored();
    void capsEvictSuccessesBeforeFailures();
    void capsEvictFailuresByTheirOwnCap();
    void floodBatchIsTrimmed();
    void liveTasksAreNeverEvicted();
    void lateTaskIsInsertedInOrder();
    void evictionWithManyRangesKeepsOrder();
    void randomBatchesUnderTheTester();
    void filterByState();
    void filterByText();
    void filterFollowsStateChanges();
    void sortsNumerically();
    void folding_data();
    void folding();
    void expandShowsOneRootsContinuations();
    void keeperColumnAndFilter();
    void dependents();
    void filterByIdAndErrorType();
    void randomFoldingStaysConsistent();
    void sortedAndFilteredUnderRandomBatches_data();
    void sortedAndFilteredUnderRandomBatches();
    void sortedFloodIsABoundedNumberOfSignals();
};

void tst_MonitorModel::columnsAndRoles()
{
    Tested t;
    t.model.applyChanges({ task(7, pk::TaskState::Failed, QStringLiteral("parse")) });
    QCOMPARE(t.model.columnCount(), int(pk::MonitorModel::ColumnCount));
    QCOMPARE(t.model.rowCount(), 1);
    const auto at = [&t](int column, int role = Qt::DisplayRole) {
        return t.model.index(0, column).data(role);
    };
    QCOMPARE(at(pk::MonitorModel::IdColumn).toULongLong(), 7u);
    QCOMPARE(at(pk::MonitorModel::TitleColumn).toString(), QStringLiteral("parse"));
    QCOMPARE(at(pk::MonitorModel::StateColumn).toString(), QStringLiteral("Failed"));
    QCOMPARE(at(pk::MonitorModel::WorkerColumn).toInt(), 3);
    QCOMPARE(at(pk::MonitorModel::ErrorColumn).toString(), QStringLiteral("error of 7"));
    QVERIFY(!at(pk::MonitorModel::WaitColumn).toString().isEmpty());
    QVERIFY(!at(pk::MonitorModel::RunTimeColumn).toString().isEmpty());
    QCOMPARE(at(0, pk::MonitorModel::IdRole).toULongLong(), 7u);
    QCOMPARE(at(0, pk::MonitorModel::StateRole).value<pk::TaskState>(), pk::TaskState::Failed);
    QCOMPARE(at(0, pk::MonitorModel::TaskInfoRole).value<pk::TaskInfo>(),
        task(7, pk::TaskState::Failed, QStringLiteral("parse")));
    QCOMPARE(at(pk::MonitorModel::RunTimeColumn, pk::MonitorModel::SortRole).toLongLong(), 4000);
    QCOMPARE(t.model.headerData(pk::MonitorModel::WaitColumn, Qt::Horizontal).toString(),
        QStringLiteral("Wait"));
    QCOMPARE(t.model.rowOf(7), 0);
    QCOMPARE(t.model.rowOf(8), -1);
}

void tst_MonitorModel::snapshotResets()
{
    Tested t;
    t.model.applyChanges(tasks(1, 5, pk::TaskState::Queued));
    QSignalSpy resets(&t.model, &QAbstractItemModel::modelReset);
    t.model.applySnapshot(
        tasks(20, 3, pk::TaskState::Running), tasks(10, 2, pk::TaskState::Succeeded));
    QCOMPARE(resets.count(), 1);
    // The finished ones first (older), then the live ones.
    QCOMPARE(idsOf(t.model), QList<quint64>({ 10, 11, 20, 21, 22 }));
    QCOMPARE(t.model.finishedKept(), 2);
}

void tst_MonitorModel::newTasksAreOneInsertPerBatch()
{
    Tested t;
    QSignalSpy inserts(&t.model, &QAbstractItemModel::rowsInserted);
    QSignalSpy resets(&t.model, &QAbstractItemModel::modelReset);
    Changes batch = tasks(1, 500, pk::TaskState::Queued);
    std::shuffle(batch.begin(), batch.end(), *QRandomGenerator::global());
    t.model.applyChanges(batch);
    QCOMPARE(inserts.count(), 1);
    QCOMPARE(inserts.at(0).at(1).toInt(), 0);
    QCOMPARE(inserts.at(0).at(2).toInt(), 499);
    // In id order, whatever order the batch had.
    QList<quint64> expected;
    for (quint64 id = 1; id <= 500; ++id)
        expected << id;
    QCOMPARE(idsOf(t.model), expected);

    t.model.applyChanges(tasks(501, 100, pk::TaskState::Queued));
    QCOMPARE(inserts.count(), 2);
    QCOMPARE(inserts.at(1).at(1).toInt(), 500);
    QCOMPARE(inserts.at(1).at(2).toInt(), 599);
    QCOMPARE(resets.count(), 0);
}

void tst_MonitorModel::updatesAreDataChanged()
{
    Tested t;
    t.model.applyChanges(tasks(1, 1000, pk::TaskState::Queued));
    QSignalSpy inserts(&t.model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&t.model, &QAbstractItemModel::dataChanged);
    QSignalSpy resets(&t.model, &QAbstractItemModel::modelReset);
    // Rows 10..19 and 900 change.
    Changes batch = tasks(11, 10, pk::TaskState::Running);
    batch << task(901, pk::TaskState::Succeeded);
    t.model.applyChanges(batch);
    QCOMPARE(inserts.count(), 0);
    QCOMPARE(resets.count(), 0);
    QVERIFY(changed.count() >= 1);
    QVERIFY(changed.count() <= 2);
    // Every changed row is covered by a range.
    QSet<int> covered;
    for (const QList<QVariant> &args : std::as_const(changed)) {
        const auto from = args.at(0).toModelIndex();
        const auto to = args.at(1).toModelIndex();
        QCOMPARE(from.column(), 0);
        QCOMPARE(to.column(), pk::MonitorModel::ColumnCount - 1);
        for (int row = from.row(); row <= to.row(); ++row)
            covered.insert(row);
    }
    for (int row = 10; row < 20; ++row)
        QVERIFY(covered.contains(row));
    QVERIFY(covered.contains(900));
    QCOMPARE(t.model.taskAt(15).state(), pk::TaskState::Running);
    QCOMPARE(t.model.taskAt(900).state(), pk::TaskState::Succeeded);
    QCOMPARE(t.model.finishedKept(), 1);
}

void tst_MonitorModel::mixedBatch()
{
    Tested t;
    t.model.applyChanges(tasks(1, 10, pk::TaskState::Queued));
    QSignalSpy inserts(&t.model, &QAbstractItemModel::rowsInserted);
    Changes batch = tasks(11, 5, pk::TaskState::Queued);
    batch << task(3, pk::TaskState::Failed) << task(12, pk::TaskState::Succeeded);
    t.model.applyChanges(batch);
    QCOMPARE(inserts.count(), 1);
    QCOMPARE(t.model.rowCount(), 15);
    QCOMPARE(t.model.taskAt(2).state(), pk::TaskState::Failed);
    // A new task twice in one batch: its latest state, once.
    QCOMPARE(t.model.taskAt(t.model.rowOf(12)).state(), pk::TaskState::Succeeded);
    QCOMPARE(t.model.failedKept(), 1);
    QCOMPARE(t.model.finishedKept(), 1);
}

void tst_MonitorModel::staleChangesAreIgnored()
{
    Tested t;
    t.model.applyChanges({ task(1, pk::TaskState::Succeeded) });
    QSignalSpy changed(&t.model, &QAbstractItemModel::dataChanged);
    t.model.applyChanges({ task(1, pk::TaskState::Running) });
    QCOMPARE(changed.count(), 0);
    QCOMPARE(t.model.taskAt(0).state(), pk::TaskState::Succeeded);
}

void tst_MonitorModel::capsEvictSuccessesBeforeFailures()
{
    Tested t;
    t.model.setMaxFinished(100);
    t.model.setMaxFailed(50);
    QSignalSpy dropped(&t.model, &pk::MonitorModel::droppedCountChanged);
    // The failures are the oldest tasks, then a flood of successes.
    t.model.applyChanges(tasks(1, 10, pk::TaskState::Failed));
    for (int batch = 0; batch < 20; ++batch)
        t.model.applyChanges(tasks(100 + quint64(batch) * 50, 50, pk::TaskState::Succeeded));

    QCOMPARE(t.model.failedKept(), 10); // all of them
    QVERIFY(t.model.finishedKept() <= 100);
    QVERIFY(t.model.finishedKept() >= 95); // down to 95% of the cap at most
    QCOMPARE(t.model.droppedCount(), quint64(1000 - t.model.finishedKept()));
    QVERIFY(dropped.count() >= 1);
    QCOMPARE(dropped.last().at(0).toULongLong(), t.model.droppedCount());
    QCOMPARE(countState(t.model, pk::TaskState::Failed), 10);
    // The newest successes are the ones kept.
    QCOMPARE(t.model.taskAt(t.model.rowCount() - 1).id(), quint64(100 + 999));
    for (quint64 id = 1; id <= 10; ++id)
        QVERIFY(t.model.rowOf(id) >= 0);
    QCOMPARE(t.model.rowOf(100), -1);
}

void tst_MonitorModel::capsEvictFailuresByTheirOwnCap()
{
    Tested t;
    t.model.setMaxFinished(1000);
    t.model.setMaxFailed(20);
    t.model.applyChanges(tasks(1, 50, pk::TaskState::Succeeded));
    t.model.applyChanges(tasks(100, 30, pk::TaskState::Failed));
    QCOMPARE(t.model.finishedKept(), 50);
    QCOMPARE(t.model.failedKept(), 19); // 95% of 20
    QCOMPARE(t.model.droppedCount(), 11u);
    QCOMPARE(t.model.rowOf(100), -1); // the oldest failures went
    QVERIFY(t.model.rowOf(129) >= 0);
}

void tst_MonitorModel::floodBatchIsTrimmed()
{
    // More finished tasks in one batch than the cap keeps: the oldest are dropped before they
    // get a row (no insert-then-remove).
    Tested t;
    t.model.setMaxFinished(100);
    t.model.applyChanges(tasks(1, 10, pk::TaskState::Succeeded));
    QSignalSpy inserts(&t.model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removes(&t.model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy dropped(&t.model, &pk::MonitorModel::droppedCountChanged);
    Changes flood = tasks(100, 1000, pk::TaskState::Succeeded);
    flood << task(50, pk::TaskState::Failed);
    t.model.applyChanges(flood);
    QCOMPARE(inserts.count(), 1);
    QCOMPARE(inserts.at(0).at(2).toInt() - inserts.at(0).at(1).toInt() + 1, 96); // 95 + 1 failure
    QCOMPARE(removes.count(), 1); // the 10 older ones
    QCOMPARE(t.model.finishedKept(), 95);
    QCOMPARE(t.model.failedKept(), 1);
    QCOMPARE(t.model.droppedCount(), quint64(1010 - 95));
    QCOMPARE(dropped.last().at(0).toULongLong(), t.model.droppedCount());
    QCOMPARE(t.model.taskAt(t.model.rowCount() - 1).id(), quint64(1099));
}

void tst_MonitorModel::liveTasksAreNeverEvicted()
{
    Tested t;
    t.model.setMaxFinished(10);
    t.model.applyChanges(tasks(1, 100, pk::TaskState::Running));
    t.model.applyChanges(tasks(1000, 100, pk::TaskState::Succeeded));
    QCOMPARE(countState(t.model, pk::TaskState::Running), 100);
    QVERIFY(t.model.finishedKept() <= 10);
    // Lowering a cap evicts at once.
    t.model.setMaxFinished(2);
    QVERIFY(t.model.finishedKept() <= 2);
    QCOMPARE(countState(t.model, pk::TaskState::Running), 100);
}

void tst_MonitorModel::lateTaskIsInsertedInOrder()
{
    // A task first seen after newer ones (dropped detail, another submitting thread) still
    // lands in id order.
    Tested t;
    t.model.applyChanges(tasks(10, 5, pk::TaskState::Queued));
    QSignalSpy inserts(&t.model, &QAbstractItemModel::rowsInserted);
    t.model.applyChanges({ task(3, pk::TaskState::Running), task(12, pk::TaskState::Running),
        task(30, pk::TaskState::Queued), task(1, pk::TaskState::Queued),
        task(20, pk::TaskState::Queued), task(12, pk::TaskState::Succeeded) });
    QCOMPARE(idsOf(t.model), QList<quint64>({ 1, 3, 10, 11, 12, 13, 14, 20, 30 }));
    QCOMPARE(inserts.count(), 2); // at the front, and at the end
    QCOMPARE(t.model.taskAt(t.model.rowOf(12)).state(), pk::TaskState::Succeeded);
}

void tst_MonitorModel::evictionWithManyRangesKeepsOrder()
{
    Tested t;
    t.model.setMaxFinished(100);
    // Interleaved: every third task failed, every fifth still running.
    t.model.applyChanges(tasks(1, 300, pk::TaskState::Queued));
    Changes batch;
    for (quint64 id = 1; id <= 300; ++id) {
        const pk::TaskState state = id % 5 == 0 ? pk::TaskState::Running
            : id % 3 == 0                       ? pk::TaskState::Failed
                                                : pk::TaskState::Succeeded;
        batch << task(id, state);
    }
    QSignalSpy removes(&t.model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserts(&t.model, &QAbstractItemModel::rowsInserted);
    t.model.applyChanges(batch);
    // Many ranges: one remove, and the kept rows inserted back.
    QCOMPARE(removes.count(), 1);
    QCOMPARE(inserts.count(), 1);
    // What is left is still in id order, with every failure and every running task.
    const QList<quint64> ids = idsOf(t.model);
    QVERIFY(std::is_sorted(ids.begin(), ids.end()));
    QCOMPARE(countState(t.model, pk::TaskState::Running), 60);
    QCOMPARE(countState(t.model, pk::TaskState::Failed), 80);
    QCOMPARE(t.model.finishedKept(), 95);
    for (int row = 0; row < t.model.rowCount(); ++row)
        QCOMPARE(t.model.rowOf(t.model.taskAt(row).id()), row);
}

void tst_MonitorModel::randomBatchesUnderTheTester()
{
    // Random batches of new and changed tasks with small caps, the tester checking every
    // signal; states only move forward.
    Tested t;
    t.model.setMaxFinished(200);
    t.model.setMaxFailed(30);
    QRandomGenerator random(1234);
    quint64 nextId = 1;
    QHash<quint64, pk::TaskState> live;
    for (int batch = 0; batch < 200; ++batch) {
        Changes changes;
        const int added = int(random.bounded(40));
        for (int i = 0; i < added; ++i) {
            const quint64 id = nextId++;
            changes << task(id, pk::TaskState::Queued);
            live.insert(id, pk::TaskState::Queued);
        }
        advanceSome(
            random, live, changes, [](quint64 id, pk::TaskState state) { return task(id, state); });
        if (batch == 100) {
            // Start again from the live tasks, as after a reconnect.
            t.model.applySnapshot(snapshotOf(live), {});
        }
        t.model.applyChanges(changes);
        QVERIFY(t.model.finishedKept() <= 200);
        QVERIFY(t.model.failedKept() <= 30);
    }
    const QList<quint64> ids = idsOf(t.model);
    QVERIFY(std::is_sorted(ids.begin(), ids.end()));
}

void tst_MonitorModel::filterByState()
{
    pk::MonitorModel model;
    pk::MonitorFilterModel filter;
    filter.setSourceModel(&model);
    QAbstractItemModelTester tester(&filter, QAbstractItemModelTester::FailureReportingMode::Fatal);
    Changes batch = tasks(1, 6, pk::TaskState::Succeeded);
    batch << tasks(10, 3, pk::TaskState::Failed) << tasks(20, 2, pk::TaskState::Queued);
    model.applyChanges(batch);
    QCOMPARE(filter.rowCount(), 11);
    QSignalSpy visibility(&filter, &pk::MonitorFilterModel::stateVisibilityChanged);
    filter.setStateVisible(pk::TaskState::Succeeded, false);
    QCOMPARE(visibility.count(), 1);
    QVERIFY(!filter.isStateVisible(pk::TaskState::Succeeded));
    QCOMPARE(filter.rowCount(), 5);
    filter.setStateVisible(pk::TaskState::Queued, false);
    QCOMPARE(filter.rowCount(), 3);
    for (int row = 0; row < filter.rowCount(); ++row)
        QCOMPARE(filter.index(row, 0).data(pk::MonitorModel::StateRole).value<pk::TaskState>(),
            pk::TaskState::Failed);
    filter.setStateVisible(pk::TaskState::Succeeded, true);
    filter.setStateVisible(pk::TaskState::Queued, true);
    QCOMPARE(filter.rowCount(), 11);
}

void tst_MonitorModel::filterByText()
{
    pk::MonitorModel model;
    pk::MonitorFilterModel filter;
    filter.setSourceModel(&model);
    QAbstractItemModelTester tester(&filter, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.applyChanges({ task(1, pk::TaskState::Succeeded, QStringLiteral("Thumbnail a")),
        task(2, pk::TaskState::Succeeded, QStringLiteral("parse b")),
        task(3, pk::TaskState::Failed, QStringLiteral("upload c")) });
    filter.setTextFilter(QStringLiteral("THUMB"));
    QCOMPARE(filter.rowCount(), 1);
    QCOMPARE(filter.index(0, 0).data(pk::MonitorModel::IdRole).toULongLong(), 1u);
    filter.setTextFilter(QStringLiteral("error of 3")); // the error message counts too
    QCOMPARE(filter.rowCount(), 1);
    QCOMPARE(filter.index(0, 0).data(pk::MonitorModel::IdRole).toULongLong(), 3u);
    filter.setTextFilter(QString());
    QCOMPARE(filter.rowCount(), 3);
}

void tst_MonitorModel::filterFollowsStateChanges()
{
    pk::MonitorModel model;
    pk::MonitorFilterModel filter;
    filter.setSourceModel(&model);
    QAbstractItemModelTester tester(&filter, QAbstractItemModelTester::FailureReportingMode::Fatal);
    filter.setStateVisible(pk::TaskState::Succeeded, false);
    model.applyChanges(tasks(1, 10, pk::TaskState::Running));
    QCOMPARE(filter.rowCount(), 10);
    model.applyChanges(tasks(1, 4, pk::TaskState::Succeeded));
    QCOMPARE(filter.rowCount(), 6);
}

void tst_MonitorModel::sortsNumerically()
{
    pk::MonitorModel model;
    pk::MonitorFilterModel filter;
    filter.setSourceModel(&model);
    QAbstractItemModelTester tester(&filter, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.applyChanges(tasks(1, 20, pk::TaskState::Queued)); // ids 1..20: "10" < "9" as text
    filter.sort(pk::MonitorModel::IdColumn, Qt::DescendingOrder);
    QCOMPARE(filter.index(0, 0).data(pk::MonitorModel::IdRole).toULongLong(), 20u);
    QCOMPARE(filter.index(11, 0).data(pk::MonitorModel::IdRole).toULongLong(), 9u);
    // A new task lands where it sorts.
    model.applyChanges({ task(21, pk::TaskState::Queued) });
    QCOMPARE(filter.index(0, 0).data(pk::MonitorModel::IdRole).toULongLong(), 21u);
}

QTEST_MAIN(tst_MonitorModel)
void tst_MonitorModel::folding_data()
{
    using S = pk::TaskState;
    QTest::addColumn<QList<Changes>>("batches");
    QTest::addColumn<int>("maxFinished"); // 0: the default
    QTest::addColumn<Roots>("roots");
    QTest::addColumn<QList<quint64>>("shown"); // folded, in the filter
    QTest::addColumn<int>("foldedUnderFirst"); // foldedCount() of the first shown row

    QTest::newRow("continuation of a task")
        << QList<Changes> { { task(1, S::Running), continuation(2, 1) } } << 0
        << Roots { { 1, 0 }, { 2, 1 } } << QList<quint64> { 1 } << 1;
    QTest::newRow("continuation of a continuation")
        << QList<Changes> { { task(1, S::Running), continuation(2, 1), continuation(3, 2) } } << 0
        << Roots { { 1, 0 }, { 2, 1 }, { 3, 1 } } << QList<quint64> { 1 } << 2;
    QTest::newRow("combinator is a root")
        << QList<Changes> { { [] {
                                 pk::TaskInfo all = task(1, S::Waiting);
                                 all.setKind(pk::TaskKind::Combinator);
                                 return all;
                             }(),
               continuation(2, 1) } }
        << 0 << Roots { { 1, 0 }, { 2, 1 } } << QList<quint64> { 1 } << 1;
    QTest::newRow("continuation of an unknown id")
        << QList<Changes> { { continuation(5, 4), continuation(6, 5) } } << 0
        << Roots { { 5, 0 }, { 6, 5 } } << QList<quint64> { 5 } << 1;
    QTest::newRow("root after its continuation in the same batch")
        << QList<Changes> { { continuation(3, 2), continuation(2, 1), task(1, S::Queued) } } << 0
        << Roots { { 1, 0 }, { 2, 1 }, { 3, 1 } } << QList<quint64> { 1 } << 2;
    QTest::newRow("root in a later batch")
        << QList<Changes> { { continuation(2, 1), continuation(3, 2), task(4, S::Running) },
               { task(1, S::Succeeded) } }
        << 0 << Roots { { 1, 0 }, { 2, 1 }, { 3, 1 }, { 4, 0 } } << QList<quint64> { 1, 4 } << 2;
    QTest::newRow("root evicted") << QList<Changes> { { task(1, S::Succeeded),
                                                          continuation(2, 1, S::Running),
                                                          continuation(3, 2) },
        { task(4, S::Succeeded) } }
                                  << 1 << Roots { { 1, 0 }, { 2, 0 }, { 3, 2 }, { 4, 0 } }
                                  << QList<quint64> { 2, 4 } << 1;
    QTest::newRow("continuation evicted, its root kept")
        << QList<Changes> { { task(1, S::Running), continuation(2, 1, S::Succeeded),
                                continuation(3, 2) },
               { task(4, S::Succeeded) } }
        << 1 << Roots { { 1, 0 }, { 2, 0 }, { 3, 1 }, { 4, 0 } } << QList<quint64> { 1, 4 } << 1;
}

void tst_MonitorModel::folding()
{
    QFETCH(QList<Changes>, batches);
    QFETCH(int, maxFinished);
    QFETCH(Roots, roots);
    QFETCH(QList<quint64>, shown);
    QFETCH(int, foldedUnderFirst);

    Tested t;
    pk::MonitorFilterModel filter;
    filter.setSourceModel(&t.model);
    QAbstractItemModelTester filterTester(
        &filter, QAbstractItemModelTester::FailureReportingMode::Fatal);
    if (maxFinished > 0)
        t.model.setMaxFinished(maxFinished);
    QSignalSpy inserted(&t.model, &QAbstractItemModel::rowsInserted);
    QVERIFY(inserted.isValid());
    for (const Changes &batch : std::as_const(batches)) {
        inserted.clear();
        t.model.applyChanges(batch);
        QCOMPARE(inserted.size(), 1); // all new rows in one go, whatever order they came in
    }
    for (const auto &[id, root] : std::as_const(roots)) {
        QCOMPARE(t.model.rootOf(id), root);
        if (t.model.rowOf(id) >= 0)
            QCOMPARE(t.model.indexOf(id).data(pk::MonitorModel::RootIdRole).toULongLong(), root);
    }
    QCOMPARE(shownIds(filter), shown);
    QCOMPARE(t.model.foldedCount(shown.first()), foldedUnderFirst);
    QCOMPARE(t.model.indexOf(shown.first()).data(pk::MonitorModel::FoldedCountRole).toInt(),
        foldedUnderFirst);
    const QString title
        = t.model.indexOf(shown.first(), pk::MonitorModel::TitleColumn).data().toString();
    QVERIFY2(title.endsWith(QStringLiteral("(+%1)").arg(foldedUnderFirst)), qPrintable(title));

    // Flat: every row.
    filter.setContinuationsShown(true);
    QCOMPARE(shownIds(filter), idsOf(t.model));
    filter.setContinuationsShown(false);
    QCOMPARE(shownIds(filter), shown);
}

void tst_MonitorModel::expandShowsOneRootsContinuations()
{
    Tested t;
    pk::MonitorFilterModel filter;
    filter.setSourceModel(&t.model);
    QAbstractItemModelTester filterTester(
        &filter, QAbstractItemModelTester::FailureReportingMode::Fatal);
    t.model.applyChanges({ task(1, pk::TaskState::Running), continuation(2, 1),
        task(3, pk::TaskState::Running), continuation(4, 3), continuation(5, 2) });
    QCOMPARE(shownIds(filter), (QList<quint64> { 1, 3 }));
    QCOMPARE(t.model.foldedUnder(1), (QList<quint64> { 2, 5 }));
    QSignalSpy expanded(&filter, &pk::MonitorFilterModel::expandedChanged);
    QVERIFY(expanded.isValid());
    filter.setExpanded(1, true);
    QCOMPARE(expanded.size(), 1);
    QVERIFY(filter.isExpanded(1));
    QCOMPARE(shownIds(filter), (QList<quint64> { 1, 2, 3, 5 }));
    // A continuation that arrives under an expanded root shows.
    t.model.applyChanges({ continuation(6, 5) });
    QCOMPARE(shownIds(filter), (QList<quint64> { 1, 2, 3, 5, 6 }));
    filter.setExpanded(1, false);
    QCOMPARE(shownIds(filter), (QList<quint64> { 1, 3 }));
    // A reset forgets what was expanded.
    filter.setExpanded(3, true);
    t.model.applySnapshot({ task(3, pk::TaskState::Running), continuation(4, 3) }, {});
    QVERIFY(!filter.isExpanded(3));
    QCOMPARE(shownIds(filter), (QList<quint64> { 3 }));
}

void tst_MonitorModel::keeperColumnAndFilter()
{
    Tested t;
    pk::MonitorFilterModel filter;
    filter.setSourceModel(&t.model);
    QSignalSpy added(&t.model, &pk::MonitorModel::keeperAdded);
    QVERIFY(added.isValid());
    const auto of = [](pk::TaskInfo info, const QString &keeper) {
        info.setKeeperName(keeper);
        return info;
    };
    t.model.applyChanges({ of(task(1, pk::TaskState::Running), QStringLiteral("images")),
        of(task(2, pk::TaskState::Queued), QStringLiteral("network")),
        of(task(3, pk::TaskState::Queued), QStringLiteral("images")),
        task(4, pk::TaskState::Queued) });
    QCOMPARE(t.model.headerData(pk::MonitorModel::KeeperColumn, Qt::Horizontal).toString(),
        QStringLiteral("Keeper"));
    QCOMPARE(t.model.indexOf(2, pk::MonitorModel::KeeperColumn).data().toString(),
        QStringLiteral("network"));
    QCOMPARE(t.model.indexOf(2, pk::MonitorModel::KeeperColumn)
                 .data(pk::MonitorModel::SortRole)
                 .toString(),
        QStringLiteral("network"));
    QCOMPARE(t.model.keeperNames(),
        (QStringList { QStringLiteral("images"), QStringLiteral("network") }));
    QCOMPARE(added.size(), 2);
    QCOMPARE(added.at(1).at(0).toString(), QStringLiteral("network"));
    t.model.applyChanges({ of(task(5, pk::TaskState::Queued), QStringLiteral("network")) });
    QCOMPARE(added.size(), 2); // seen already

    filter.setKeeperFilter(QStringLiteral("images"));
    QCOMPARE(shownIds(filter), (QList<quint64> { 1, 3 }));
    filter.setKeeperFilter(QStringLiteral("network"));
    QCOMPARE(shownIds(filter), (QList<quint64> { 2, 5 }));
    filter.setKeeperFilter(QString());
    QCOMPARE(filter.rowCount(), 5);

    // A reset brings the keepers of the snapshot, without keeperAdded.
    t.model.applySnapshot({ of(task(9, pk::TaskState::Queued), QStringLiteral("disk")) }, {});
    QCOMPARE(t.model.keeperNames(), QStringList { QStringLiteral("disk") });
    QCOMPARE(added.size(), 2);
}

void tst_MonitorModel::dependents()
{
    Tested t;
    pk::TaskInfo merge = task(3, pk::TaskState::Waiting); // takes 1 and 2 as arguments
    merge.setInputIds({ 1, 2 });
    t.model.applyChanges({ task(1, pk::TaskState::Running), task(2, pk::TaskState::Running), merge,
        continuation(4, 3), continuation(5, 1) });
    QCOMPARE(t.model.dependentsOf(1), (QList<quint64> { 3, 5 }));
    QCOMPARE(t.model.dependentsOf(2), QList<quint64> { 3 });
    QCOMPARE(t.model.dependentsOf(3), QList<quint64> { 4 });
    QVERIFY(t.model.dependentsOf(4).isEmpty());
    // A task that takes promises is a task: only continuations fold.
    QCOMPARE(t.model.rootOf(3), quint64(0));
    QCOMPARE(t.model.rootOf(4), quint64(3));

    // Evicted tasks leave the lists.
    t.model.applyChanges({ continuation(5, 1, pk::TaskState::Succeeded) });
    t.model.setMaxFinished(1);
    t.model.applyChanges({ task(6, pk::TaskState::Succeeded) });
    QCOMPARE(t.model.rowOf(5), -1);
    QCOMPARE(t.model.dependentsOf(1), QList<quint64> { 3 });
    QCOMPARE(t.model.foldedCount(1), 0);
}

void tst_MonitorModel::filterByIdAndErrorType()
{
    pk::MonitorModel model;
    pk::MonitorFilterModel filter;
    filter.setSourceModel(&model);
    pk::TaskInfo failed = task(17, pk::TaskState::Failed);
    failed.setErrorType(QStringLiteral("std::bad_alloc"));
    model.applyChanges({ task(1, pk::TaskState::Running), task(170, pk::TaskState::Running), failed,
        task(20, pk::TaskState::Queued, QStringLiteral("decode 17")) });
    filter.setTextFilter(QStringLiteral("#17"));
    QCOMPARE(shownIds(filter), QList<quint64> { 17 }); // the id alone
    filter.setTextFilter(QStringLiteral(" 17"));
    // The id, and 17 in a title ("task 170", "decode 17")
    QCOMPARE(shownIds(filter), (QList<quint64> { 17, 20, 170 }));
    filter.setTextFilter(QStringLiteral("BAD_ALLOC"));
    QCOMPARE(shownIds(filter), QList<quint64> { 17 });
    // A search looks into folded continuations.
    model.applyChanges({ continuation(21, 20) });
    filter.setTextFilter(QString());
    QVERIFY(!shownIds(filter).contains(21));
    filter.setTextFilter(QStringLiteral("#21"));
    QCOMPARE(shownIds(filter), QList<quint64> { 21 });
}

void tst_MonitorModel::randomFoldingStaysConsistent()
{
    // Random tasks and continuations (of tasks, of continuations, of evicted or late tasks),
    // some sent a few batches late, under small caps and a filter: after every batch each row
    // folds where the rules say, with the counts to match.
    Tested t;
    pk::MonitorFilterModel filter;
    filter.setSourceModel(&t.model);
    QAbstractItemModelTester filterTester(
        &filter, QAbstractItemModelTester::FailureReportingMode::Fatal);
    t.model.setMaxFinished(60);
    t.model.setMaxFailed(10);
    QRandomGenerator random(99);
    QHash<quint64, pk::TaskInfo> made;
    QList<pk::TaskInfo> late;
    quint64 nextId = 1;
    qint64 everFolded = 0; // the test folds something
    for (int batch = 0; batch < 150; ++batch) {
        Changes changes;
        std::swap(changes, late);
        for (int i = int(random.bounded(12)); i > 0; --i) {
            const quint64 id = nextId++;
            pk::TaskInfo info = id > 1 && random.bounded(2) == 0
                ? continuation(id, id - 1 - random.bounded(std::min<quint64>(id - 1, 8)))
                : task(id, pk::TaskState::Queued);
            made.insert(id, info);
            (random.bounded(6) == 0 ? late : changes) << info;
        }
        for (auto it = made.begin(); it != made.end();) {
            if (random.bounded(3) == 0) {
                it->setState(
                    random.bounded(8) == 0 ? pk::TaskState::Failed : pk::TaskState::Succeeded);
                if (t.model.rowOf(it.key()) >= 0)
                    changes << *it;
                else
                    late << *it; // not shown yet: it comes with its final state
                it = made.erase(it);
            } else {
                ++it;
            }
        }
        t.model.applyChanges(changes);

        int foldedRows = 0;
        int counted = 0;
        for (int row = 0; row < t.model.rowCount(); ++row) {
            const pk::TaskInfo &info = t.model.taskAt(row);
            const quint64 root = t.model.rootOf(info.id());
            counted += t.model.foldedCount(info.id());
            if (root != 0) {
                ++foldedRows;
                QCOMPARE(info.kind(), pk::TaskKind::Continuation);
                QVERIFY(t.model.rowOf(root) >= 0); // a root is a row
                QCOMPARE(t.model.rootOf(root), quint64(0)); // at the top level
                QVERIFY(t.model.foldedUnder(root).contains(info.id()));
            } else if (info.kind() == pk::TaskKind::Continuation) {
                // At the top level only while what it continues is not a row.
                QCOMPARE(t.model.rowOf(info.inputIds().front()), -1);
            }
            if (root != 0)
                QVERIFY(!filter.mapFromSource(t.model.index(row, 0)).isValid());
        }
        QCOMPARE(counted, foldedRows);
        QCOMPARE(filter.rowCount(), t.model.rowCount() - foldedRows);
        everFolded += foldedRows;
    }
    QVERIFY(everFolded > 0);
    QVERIFY(t.model.droppedCount() > 0); // and evicts
}

#include "tst_monitormodel.moc"

void tst_MonitorModel::sortedAndFilteredUnderRandomBatches_data()
{
    QTest::addColumn<int>("column");
    QTest::addColumn<Qt::SortOrder>("order");
    QTest::addColumn<bool>("hideSucceeded");
    QTest::addColumn<QString>("text");
    const auto up = Qt::AscendingOrder;
    const auto down = Qt::DescendingOrder;
    QTest::newRow("model's order") << -1 << up << false << QString();
    QTest::newRow("run time, descending")
        << int(pk::MonitorModel::RunTimeColumn) << down << false << QString();
    QTest::newRow("run time, no successes")
        << int(pk::MonitorModel::RunTimeColumn) << up << true << QString();
    QTest::newRow("state, text 7")
        << int(pk::MonitorModel::StateColumn) << up << false << QStringLiteral("7");
    QTest::newRow("title, descending")
        << int(pk::MonitorModel::TitleColumn) << down << false << QString();
    QTest::newRow("id, no successes")
        << int(pk::MonitorModel::IdColumn) << down << true << QString();
}

// Random batches (new tasks, state changes with random run times, evictions, a snapshot) into
// a sorted and filtered proxy, checked by the tester at every signal: after every batch the
// proxy shows exactly the rows the filters accept, in sort order (equal values in the model's
// order), and a selected row stays on its task.
void tst_MonitorModel::sortedAndFilteredUnderRandomBatches()
{
    QFETCH(int, column);
    QFETCH(Qt::SortOrder, order);
    QFETCH(bool, hideSucceeded);
    QFETCH(QString, text);
    pk::MonitorModel model;
    model.setMaxFinished(150);
    model.setMaxFailed(20);
    pk::MonitorFilterModel filter;
    filter.setSourceModel(&model);
    QAbstractItemModelTester tester(&filter, QAbstractItemModelTester::FailureReportingMode::Fatal);
    filter.sort(column, order);
    filter.setStateVisible(pk::TaskState::Succeeded, !hideSucceeded);
    filter.setTextFilter(text);
    QItemSelectionModel selection(&filter);

    QRandomGenerator random(column + 7);
    quint64 nextId = 1;
    QHash<quint64, pk::TaskState> live;
    const auto withRunTime = [&random](quint64 id, pk::TaskState state) {
        pk::TaskInfo info = task(id, state);
        if (info.startedAtNsecs() > 0 && pk::isFinal(state))
            info.setFinishedAtNsecs(info.startedAtNsecs() + qint64(random.bounded(50)) * 1000);
        return info;
    };
    for (int batch = 0; batch < 100; ++batch) {
        Changes changes;
        const int added = int(random.bounded(30));
        for (int i = 0; i < added; ++i) {
            const quint64 id = nextId++;
            const auto state = pk::TaskState(random.bounded(6));
            changes << withRunTime(id, state);
            if (!pk::isFinal(state))
                live.insert(id, state);
        }
        advanceSome(random, live, changes, withRunTime);
        if (batch == 50) {
            model.applySnapshot(snapshotOf(live), {});
        }
        if (!selection.hasSelection() && filter.rowCount() > 0) {
            selection.setCurrentIndex(filter.index(int(random.bounded(filter.rowCount())), 0),
                QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        }
        const QModelIndexList before = selection.selectedRows();
        const quint64 selectedId
            = before.isEmpty() ? 0 : before.first().data(pk::MonitorModel::IdRole).toULongLong();
        model.applyChanges(changes);

        // What the filters accept, straight from the model.
        QSet<quint64> expected;
        for (int row = 0; row < model.rowCount(); ++row) {
            const pk::TaskInfo &info = model.taskAt(row);
            if ((hideSucceeded && info.state() == pk::TaskState::Succeeded)
                || (!text.isEmpty() && !info.title().contains(text)))
                continue;
            expected.insert(info.id());
        }
        const QList<quint64> shown = shownIds(filter);
        QCOMPARE(QSet<quint64>(shown.cbegin(), shown.cend()), expected);
        QCOMPARE(shown.size(), expected.size());
        const auto compareValues = [column](const QVariant &x, const QVariant &y) {
            if (column == pk::MonitorModel::TitleColumn)
                return x.toString().compare(y.toString(), Qt::CaseInsensitive);
            const QPartialOrdering c = QVariant::compare(x, y);
            return c == QPartialOrdering::Less ? -1 : c == QPartialOrdering::Greater ? 1 : 0;
        };
        for (int row = 1; column >= 0 && row < filter.rowCount(); ++row) {
            int c = compareValues(filter.index(row - 1, column).data(pk::MonitorModel::SortRole),
                filter.index(row, column).data(pk::MonitorModel::SortRole));
            if (order == Qt::DescendingOrder)
                c = -c;
            QVERIFY2(c < 0 || (c == 0 && shown.at(row - 1) < shown.at(row)),
                qPrintable(QStringLiteral("batch %1: rows %2 and %3 out of order")
                               .arg(batch)
                               .arg(row - 1)
                               .arg(row)));
        }
        if (column < 0)
            QVERIFY(std::is_sorted(shown.cbegin(), shown.cend()));
        // The selection stays on its task as rows move; it goes if the row leaves (the model's
        // eviction may take kept rows out and back, MonitorWidget selects again by id).
        const QModelIndexList selected = selection.selectedRows();
        QVERIFY(selected.size() <= 1);
        if (!selected.isEmpty())
            QCOMPARE(selected.first().data(pk::MonitorModel::IdRole).toULongLong(), selectedId);
        if (selected.isEmpty())
            selection.clear();
    }
}

// A flood's batch into a table sorted by run time: new rows in one block, moved rows in one
// layout change, evicted rows in one block, whatever number of tasks (QSortFilterProxyModel
// emitted a signal per run of rows and a layout change per changed range).
void tst_MonitorModel::sortedFloodIsABoundedNumberOfSignals()
{
    pk::MonitorModel model;
    model.setMaxFinished(5000);
    pk::MonitorFilterModel filter;
    filter.setSourceModel(&model);
    filter.sort(pk::MonitorModel::RunTimeColumn, Qt::DescendingOrder);
    QRandomGenerator random(99);
    quint64 nextId = 1;
    QList<quint64> queued;
    QSignalSpy inserted(&filter, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&filter, &QAbstractItemModel::rowsRemoved);
    QSignalSpy layouts(&filter, &QAbstractItemModel::layoutChanged);
    for (int batch = 0; batch < 10; ++batch) {
        Changes changes;
        for (quint64 id : std::as_const(queued)) {
            pk::TaskInfo info = task(id, pk::TaskState::Succeeded);
            info.setFinishedAtNsecs(info.startedAtNsecs() + qint64(random.bounded(100000)));
            changes << info;
        }
        queued.clear();
        for (int i = 0; i < 2000; ++i) {
            pk::TaskInfo info = task(nextId++, pk::TaskState::Succeeded);
            info.setFinishedAtNsecs(info.startedAtNsecs() + qint64(random.bounded(100000)));
            changes << info;
        }
        for (int i = 0; i < 1000; ++i) {
            queued << nextId;
            changes << task(nextId++, pk::TaskState::Queued);
        }
        inserted.clear();
        removed.clear();
        layouts.clear();
        model.applyChanges(changes);
        QVERIFY2(inserted.count() <= 2, qPrintable(QString::number(inserted.count())));
        QVERIFY2(removed.count() <= 2, qPrintable(QString::number(removed.count())));
        QVERIFY2(layouts.count() <= 3, qPrintable(QString::number(layouts.count())));
    }
    QVERIFY(model.droppedCount() > 0); // evictions happened
    QCOMPARE(filter.rowCount(), model.rowCount());
}
