// pk::MonitorWidget on the offscreen platform, over real keepers: counters and table follow the
// tasks, the state chips filter, Freeze keeps updates back, the buttons cancel.
#include "pktest.h"

#include <pk/keeperfeed.h>
#include <pk/monitorfiltermodel.h>
#include <pk/monitormodel.h>
#include <pk/monitorwidget.h>
#include <pk/promisekeeper.h>

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QTableView>
#include <QtWidgets/QTextBrowser>
#include <QtWidgets/QToolButton>

#include <stdexcept>

namespace {

QString counter(const pk::MonitorWidget &widget, const char *name)
{
    const auto *label = widget.findChild<QLabel *>(QString::fromLatin1(name));
    return label ? label->text() : QStringLiteral("<no label %1>").arg(QString::fromLatin1(name));
}

template<typename T>
T *child(const pk::MonitorWidget &widget, const char *name)
{
    return widget.findChild<T *>(QString::fromLatin1(name));
}

int visibleRows(const pk::MonitorWidget &widget)
{
    return widget.tableView()->model()->rowCount();
}

bool allInState(const pk::MonitorModel &model, pk::TaskState state)
{
    for (int row = 0; row < model.rowCount(); ++row) {
        if (model.taskAt(row).state() != state)
            return false;
    }
    return true;
}

// A feed the test drives by hand, as a program attached over a socket would.
class FakeFeed : public pk::MonitorFeed
{
public:
    bool isConnected() const override { return true; }
    QString sourceName() const override { return QStringLiteral("fake"); }
    void cancelTask(quint64 taskId) override { cancelled << taskId; }
    void cancelAll() override { ++cancelAllCalls; }

    void sendSnapshot(const QList<pk::TaskInfo> &live, const QList<pk::TaskInfo> &finished)
    {
        Q_EMIT snapshot(live, finished, 4);
    }
    void sendUpdate(
        const QList<pk::TaskInfo> &changes, const pk::TaskCounts &counts, quint64 dropped = 0)
    {
        Q_EMIT updated(changes, counts, 4, dropped);
    }

    QList<quint64> cancelled;
    int cancelAllCalls = 0;
};

pk::TaskInfo finishedTask(quint64 id, int worker, qint64 startNs, qint64 runNs, bool failed)
{
    pk::TaskInfo info;
    info.setId(id);
    info.setState(failed ? pk::TaskState::Failed : pk::TaskState::Succeeded);
    info.setQueuedAtNsecs(startNs - 1000);
    info.setStartedAtNsecs(startNs);
    info.setFinishedAtNsecs(startNs + runNs);
    info.setWorkerIndex(worker);
    if (failed)
        info.setErrorString(QStringLiteral("failed %1").arg(id));
    return info;
}

} // namespace

class tst_MonitorWidget : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void countersAndRows();
    void stateChipsHideStates();
    void textFilter();
    void freezeKeepsUpdatesBack();
    void cancelAllButton();
    void cancelTaskButton();
    void selectionStaysOnItsTask();
    void detailsShowTheSelectedTask();
    void setFeedShowsAnotherFeed();
    void keeperDestroyedBeforeWidget();
    void anyFeedWithManyTasks();
};

void tst_MonitorWidget::countersAndRows()
{
    pk::PromiseKeeper keeper(2);
    pk::MonitorWidget widget(&keeper);
    widget.resize(1200, 800);
    widget.show();
    QCOMPARE(widget.keeper(), &keeper);
    QVERIFY(qobject_cast<pk::KeeperFeed *>(widget.feed()));

    for (int i = 0; i < 17; ++i)
        keeper.submit([i] { return i; });
    for (int i = 0; i < 3; ++i)
        keeper.submit([]() -> int { throw std::runtime_error("no"); });
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));

    QTRY_COMPARE(counter(widget, "succeededValue"), QStringLiteral("17"));
    QTRY_COMPARE(counter(widget, "failedValue"), QStringLiteral("3"));
    QTRY_COMPARE(counter(widget, "cancelledValue"), QStringLiteral("0"));
    QTRY_COMPARE(counter(widget, "queuedValue"), QStringLiteral("0"));
    QTRY_COMPARE(counter(widget, "runningValue"), QStringLiteral("0 / 2"));
    QTRY_COMPARE(widget.model()->rowCount(), 20);
    QCOMPARE(visibleRows(widget), 20);
    // Percentiles over the finished tasks: something, not the "no data" dash.
    QTRY_VERIFY(counter(widget, "runTimeValue").contains(QLatin1Char('/')));
    QTRY_VERIFY(counter(widget, "waitValue").contains(QLatin1Char('/')));
}

void tst_MonitorWidget::stateChipsHideStates()
{
    pk::PromiseKeeper keeper(0);
    pk::MonitorWidget widget(&keeper);
    widget.show();
    for (int i = 0; i < 6; ++i)
        keeper.submit([] {});
    for (int i = 0; i < 2; ++i)
        keeper.submit([] { throw std::runtime_error("no"); });
    keeper.processPending();
    keeper.submit([] {}); // stays queued
    QTRY_COMPARE(widget.model()->rowCount(), 9);
    QTRY_COMPARE(counter(widget, "failedValue"), QStringLiteral("2"));

    auto *succeeded = child<QToolButton>(widget, "stateChip_Succeeded");
    auto *queued = child<QToolButton>(widget, "stateChip_Queued");
    QVERIFY(succeeded && queued);
    QVERIFY(succeeded->isChecked());
    succeeded->click();
    QVERIFY(!widget.filterModel()->isStateVisible(pk::TaskState::Succeeded));
    QCOMPARE(visibleRows(widget), 3);
    queued->click();
    QCOMPARE(visibleRows(widget), 2);
    for (int row = 0; row < 2; ++row)
        QCOMPARE(widget.tableView()
                     ->model()
                     ->index(row, 0)
                     .data(pk::MonitorModel::StateRole)
                     .value<pk::TaskState>(),
            pk::TaskState::Failed);
    // The hidden states stay hidden as tasks change: the queued one succeeds.
    keeper.processPending();
    QTRY_COMPARE(counter(widget, "succeededValue"), QStringLiteral("7"));
    QCOMPARE(visibleRows(widget), 2);
    succeeded->click();
    queued->click();
    QCOMPARE(visibleRows(widget), 9);
}

void tst_MonitorWidget::textFilter()
{
    pk::PromiseKeeper keeper(0);
    pk::MonitorWidget widget(&keeper);
    widget.show();
    keeper.submit(pk::TaskOptions { QStringLiteral("thumbnail 1"), 0 }, [] {});
    keeper.submit(pk::TaskOptions { QStringLiteral("parse 2"), 0 }, [] {});
    keeper.submit(pk::TaskOptions { QStringLiteral("upload 3"), 0 },
        [] { throw std::runtime_error("disk full"); });
    keeper.processPending();
    QTRY_COMPARE(widget.model()->rowCount(), 3);
    auto *edit = child<QLineEdit>(widget, "filterEdit");
    QVERIFY(edit);
    edit->setText(QStringLiteral("thumb"));
    QCOMPARE(visibleRows(widget), 1);
    edit->setText(QStringLiteral("DISK"));
    QCOMPARE(visibleRows(widget), 1);
    edit->clear();
    QCOMPARE(visibleRows(widget), 3);
}

void tst_MonitorWidget::freezeKeepsUpdatesBack()
{
    pk::PromiseKeeper keeper(0);
    pk::MonitorWidget widget(&keeper);
    widget.show();
    for (int i = 0; i < 5; ++i)
        keeper.submit([] {});
    QTRY_COMPARE(widget.model()->rowCount(), 5);
    QTRY_COMPARE(counter(widget, "queuedValue"), QStringLiteral("5"));
    QVERIFY(allInState(*widget.model(), pk::TaskState::Queued));

    QSignalSpy frozen(&widget, &pk::MonitorWidget::frozenChanged);
    auto *freeze = child<QToolButton>(widget, "freezeButton");
    QVERIFY(freeze);
    freeze->click();
    QVERIFY(widget.isFrozen());
    QCOMPARE(frozen.count(), 1);

    keeper.processPending();
    for (int i = 0; i < 3; ++i)
        keeper.submit([] {});
    // The counters go on (they come with the same batches the table would take)...
    QTRY_COMPARE(counter(widget, "succeededValue"), QStringLiteral("5"));
    QTRY_COMPARE(counter(widget, "queuedValue"), QStringLiteral("3"));
    // ... while the table shows what it showed.
    QCOMPARE(widget.model()->rowCount(), 5);
    QVERIFY(allInState(*widget.model(), pk::TaskState::Queued));

    freeze->click();
    QVERIFY(!widget.isFrozen());
    QCOMPARE(widget.model()->rowCount(), 8);
    for (int row = 0; row < 5; ++row)
        QCOMPARE(widget.model()->taskAt(row).state(), pk::TaskState::Succeeded);
    for (int row = 5; row < 8; ++row)
        QCOMPARE(widget.model()->taskAt(row).state(), pk::TaskState::Queued);
}

void tst_MonitorWidget::cancelAllButton()
{
    pktest::Gate gate;
    pk::PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    pk::MonitorWidget widget(&keeper);
    widget.show();
    auto running = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    QList<pk::Promise<void>> queued;
    for (int i = 0; i < 5; ++i)
        queued << keeper.submit([] {});
    QTRY_COMPARE(counter(widget, "queuedValue"), QStringLiteral("5"));
    QTRY_COMPARE(counter(widget, "runningValue"), QStringLiteral("1 / 1"));

    auto *cancelAll = child<QPushButton>(widget, "cancelAllButton");
    QVERIFY(cancelAll);
    QVERIFY(cancelAll->isEnabled());
    cancelAll->click();
    QCOMPARE(keeper.cancelledCount(), 5);
    for (const auto &p : std::as_const(queued))
        QCOMPARE(p.state(), pk::TaskState::Cancelled);
    QCOMPARE(running.state(), pk::TaskState::Running);
    QTRY_COMPARE(counter(widget, "cancelledValue"), QStringLiteral("5"));
    QTRY_COMPARE(counter(widget, "queuedValue"), QStringLiteral("0"));
    gate.open();
    QVERIFY(running.wait(pktest::kTimeoutMs));
    QTRY_COMPARE(counter(widget, "succeededValue"), QStringLiteral("1"));
}

void tst_MonitorWidget::cancelTaskButton()
{
    pktest::Gate gate;
    pk::PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    pk::MonitorWidget widget(&keeper);
    widget.show();
    auto running = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    auto first = keeper.submit([] {});
    auto second = keeper.submit([] {});
    QTRY_VERIFY(widget.model()->rowOf(second.id()) >= 0);
    QTRY_COMPARE(widget.model()->taskAt(widget.model()->rowOf(running.id())).state(),
        pk::TaskState::Running);

    auto *cancelTask = child<QPushButton>(widget, "cancelTaskButton");
    QVERIFY(cancelTask);
    QVERIFY(!cancelTask->isEnabled()); // nothing selected
    widget.selectTask(running.id());
    QVERIFY(!cancelTask->isEnabled()); // running: cannot be cancelled
    widget.selectTask(first.id());
    QVERIFY(cancelTask->isEnabled());
    cancelTask->click();
    QCOMPARE(first.state(), pk::TaskState::Cancelled);
    QCOMPARE(second.state(), pk::TaskState::Queued);
    QTRY_COMPARE(widget.model()->taskAt(widget.model()->rowOf(first.id())).state(),
        pk::TaskState::Cancelled);
    QVERIFY(!cancelTask->isEnabled());
    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
}

void tst_MonitorWidget::selectionStaysOnItsTask()
{
    pk::PromiseKeeper keeper(0);
    pk::MonitorWidget widget(&keeper);
    widget.show();
    QList<pk::Promise<void>> tasks;
    for (int i = 0; i < 10; ++i)
        tasks << keeper.submit([] {});
    QTRY_COMPARE(widget.model()->rowCount(), 10);
    const quint64 chosen = tasks.at(4).id();

    // A click selects.
    QTableView *view = widget.tableView();
    QSignalSpy selected(&widget, &pk::MonitorWidget::selectedTaskChanged);
    view->setCurrentIndex(view->model()->index(4, 0));
    QCOMPARE(widget.selectedTaskId(), chosen);
    QCOMPARE(selected.count(), 1);
    const auto currentId
        = [view] { return view->currentIndex().data(pk::MonitorModel::IdRole).toULongLong(); };

    // Its row changes, rows are added, the order changes, a chip hides it and shows it again.
    keeper.processPending();
    for (int i = 0; i < 10; ++i)
        keeper.submit([] {});
    QTRY_COMPARE(widget.model()->rowCount(), 20);
    QCOMPARE(currentId(), chosen);
    widget.filterModel()->sort(pk::MonitorModel::IdColumn, Qt::DescendingOrder);
    QCOMPARE(currentId(), chosen);
    child<QToolButton>(widget, "stateChip_Succeeded")->click();
    QCOMPARE(widget.selectedTaskId(), chosen); // hidden, still the details' task
    QVERIFY(!view->currentIndex().isValid());
    child<QToolButton>(widget, "stateChip_Succeeded")->click();
    QCOMPARE(currentId(), chosen);
    QCOMPARE(widget.selectedTaskId(), chosen);
    QCOMPARE(selected.count(), 1);
}

void tst_MonitorWidget::detailsShowTheSelectedTask()
{
    pk::PromiseKeeper keeper(0);
    pk::MonitorWidget widget(&keeper);
    widget.show();
    auto task = keeper.submit(pk::TaskOptions { QStringLiteral("resize photo"), 0 },
        [] { throw std::runtime_error("out of memory\nat line 12"); });
    QTRY_COMPARE(widget.model()->rowCount(), 1);
    auto *details = child<QTextBrowser>(widget, "details");
    QVERIFY(details);
    widget.selectTask(task.id());
    QVERIFY(details->toPlainText().contains(QStringLiteral("resize photo")));
    QVERIFY(details->toPlainText().contains(QStringLiteral("Queued")));
    keeper.processPending();
    // The pane follows the task's changes: its failure, with the whole message.
    QTRY_VERIFY(details->toPlainText().contains(QStringLiteral("at line 12")));
    QVERIFY(details->toPlainText().contains(QStringLiteral("Started")));
    QVERIFY(details->toPlainText().contains(QStringLiteral("Failed")));
}

void tst_MonitorWidget::setFeedShowsAnotherFeed()
{
    pk::PromiseKeeper first(0);
    pk::PromiseKeeper second(0);
    first.submit([] {});
    second.submit([] {});
    second.submit([] {});
    pk::KeeperFeed feed(&second); // made before the widget: its first snapshot is gone
    QSignalSpy snapshots(&feed, &pk::MonitorFeed::snapshot);
    QTRY_COMPARE(snapshots.count(), 1);
    pk::MonitorWidget widget(&first);
    widget.show();
    QTRY_COMPARE(widget.model()->rowCount(), 1);
    widget.setFeed(&feed);
    QCOMPARE(widget.feed(), &feed);
    QVERIFY(!widget.keeper());
    QTRY_COMPARE(widget.model()->rowCount(), 2);
    QTRY_COMPARE(counter(widget, "queuedValue"), QStringLiteral("2"));
    widget.setFeed(nullptr);
    QCOMPARE(widget.model()->rowCount(), 0);
}

void tst_MonitorWidget::keeperDestroyedBeforeWidget()
{
    auto keeper = std::make_unique<pk::PromiseKeeper>(0);
    pk::MonitorWidget widget(keeper.get());
    widget.show();
    keeper->submit([] {});
    QTRY_COMPARE(widget.model()->rowCount(), 1);
    keeper.reset();
    QTRY_VERIFY(!child<QPushButton>(widget, "cancelAllButton")->isEnabled());
    QVERIFY(child<QLabel>(widget, "statusLabel")->text().contains(QStringLiteral("Disconnected")));
}

void tst_MonitorWidget::anyFeedWithManyTasks()
{
    // 300000 tasks of 1 µs on four workers, in batches of 10000, through a feed that is not a
    // keeper: the table keeps its caps, and the views paint all of it (the timeline merges the
    // bars that share a pixel).
    FakeFeed feed;
    pk::MonitorWidget widget;
    widget.setFeed(&feed);
    widget.resize(1200, 800);
    widget.show();
    widget.model()->setMaxFinished(20000);
    widget.model()->setMaxFailed(1000);
    feed.sendSnapshot({}, {});
    const qint64 start = pk::TaskInfo::monotonicNowNsecs() - 2'000'000'000;
    pk::TaskCounts counts;
    quint64 id = 0;
    for (int batch = 0; batch < 30; ++batch) {
        QList<pk::TaskInfo> changes;
        for (int i = 0; i < 10000; ++i) {
            ++id;
            const bool failed = id % 100 == 0;
            const int worker = int(id % 4);
            changes << finishedTask(id, worker, start + qint64(id / 4) * 5000, 1000, failed);
            ++(failed ? counts.failed : counts.succeeded);
        }
        feed.sendUpdate(changes, counts);
        QCOMPARE(widget.grab().isNull(), false);
    }
    QVERIFY(widget.model()->finishedKept() <= 20000);
    QVERIFY(widget.model()->failedKept() <= 1000);
    QVERIFY(widget.model()->droppedCount() > 0);
    QTRY_COMPARE(counter(widget, "failedValue"), QStringLiteral("3\u202F000"));
    QVERIFY(child<QLabel>(widget, "statusLabel")->text().contains(QStringLiteral("fake")));

    // The buttons go to the feed.
    const quint64 lastId = widget.model()->taskAt(widget.model()->rowCount() - 1).id();
    pk::TaskInfo info;
    info.setId(lastId + 1);
    info.setState(pk::TaskState::Queued);
    info.setQueuedAtNsecs(pk::TaskInfo::monotonicNowNsecs());
    feed.sendUpdate({ info }, counts);
    widget.selectTask(lastId + 1);
    child<QPushButton>(widget, "cancelTaskButton")->click();
    QCOMPARE(feed.cancelled, QList<quint64>({ lastId + 1 }));
    child<QPushButton>(widget, "cancelAllButton")->click();
    QCOMPARE(feed.cancelAllCalls, 1);
}

QTEST_MAIN(tst_MonitorWidget)
#include "tst_monitorwidget.moc"
