// pk::MonitorWidget on the offscreen platform, over real keepers: counters and table follow the
// tasks, the state chips filter, Freeze keeps updates back, the buttons cancel and export.
#include "csvparser.h"
#include "pktest.h"
#include "taskstats_p.h"
#include "timelineview_p.h"

#include <pk/keeperfeed.h>
#include <pk/monitorfiltermodel.h>
#include <pk/monitormodel.h>
#include <pk/monitorwidget.h>
#include <pk/promisekeeper.h>
#include <pk/tracereader.h>

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtGui/QAction>
#include <QtGui/QClipboard>
#include <QtGui/QGuiApplication>
#include <QtGui/QTextCursor>
#include <QtGui/QTextDocument>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QFrame>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QMenu>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QScrollBar>
#include <QtWidgets/QTableView>
#include <QtWidgets/QTextBrowser>
#include <QtWidgets/QToolButton>

#include <PromiseKeeperTest>
#include <limits>
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
    QList<pk::KeeperStatus> keepers() const override { return keeperList; }
    void sendConnection(bool on) { Q_EMIT connectionChanged(on, QString()); }
    bool isLive() const override { return liveFeed; }
    QString programName() const override { return program; }
    qint64 programPid() const override { return liveFeed ? 0 : 4242; }

    void sendSnapshot(const QList<pk::TaskInfo> &live, const QList<pk::TaskInfo> &finished)
    {
        Q_EMIT snapshot(live, finished, 4);
    }
    void sendUpdate(const QList<pk::TaskInfo> &changes, const pk::TaskCounts &counts,
        quint64 dropped = 0, int threads = 4)
    {
        Q_EMIT updated(changes, counts, threads, dropped);
    }

    QList<quint64> cancelled;
    int cancelAllCalls = 0;
    QList<pk::KeeperStatus> keeperList;
    bool liveFeed = true;
    QString program;
};

pk::TaskInfo keeperTask(quint64 id, const QString &keeper, pk::TaskState state,
    pk::TaskKind kind = pk::TaskKind::Task, QList<quint64> inputs = {})
{
    pk::TaskInfo info;
    info.setId(id);
    info.setTitle(kind == pk::TaskKind::Continuation
            ? QStringLiteral("then ← %1").arg(inputs.value(0))
            : QStringLiteral("job %1").arg(id));
    info.setKeeperName(keeper);
    info.setState(state);
    info.setKind(kind);
    info.setInputIds(inputs);
    info.setQueuedAtNsecs(pk::TaskInfo::monotonicNowNsecs());
    return info;
}

QList<quint64> shownIds(const pk::MonitorWidget &widget)
{
    const QAbstractItemModel *view = widget.tableView()->model();
    QList<quint64> ids;
    for (int row = 0; row < view->rowCount(); ++row)
        ids << view->index(row, 0).data(pk::MonitorModel::IdRole).toULongLong();
    return ids;
}

// Clicks the link whose text is \a text in \a browser, with the mouse, as a user would.
bool clickLink(QTextBrowser *browser, const QString &text)
{
    QTextCursor cursor = browser->document()->find(text);
    if (cursor.isNull())
        return false;
    cursor.setPosition(cursor.selectionStart() + 1);
    browser->setTextCursor(cursor);
    browser->ensureCursorVisible();
    const QRect at = browser->cursorRect(cursor);
    // Just right of the cursor: on the link's second character.
    QTest::mouseClick(browser->viewport(), Qt::LeftButton, {}, at.center() + QPoint(2, 0));
    return true;
}

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

// Tasks in every state, with titles and errors that CSV must quote, at known times: in units of
// 2 ms from \a base, task 1 queued at 0, 2 at 1, 3 at 2 and 4 at 3 (4 queued at most), 1, 2, 3
// started at 5, 6, 7 (3 running at most), 4 cancelled at 8, then one at a time.
struct MixedTasks
{
    explicit MixedTasks(qint64 base)
    {
        const auto at = [base](int units) { return base + qint64(units) * 2'000'000; };
        const auto task = [&](quint64 id, const QString &title, int priority) {
            pk::TaskInfo info;
            info.setId(id);
            info.setTitle(title);
            info.setPriority(priority);
            return info;
        };
        const auto ran = [&](pk::TaskInfo info, int queued, int started, int ended, int worker) {
            info.setState(ended > 0 ? pk::TaskState::Succeeded : pk::TaskState::Running);
            info.setQueuedAtNsecs(at(queued));
            info.setStartedAtNsecs(at(started));
            info.setFinishedAtNsecs(ended > 0 ? at(ended) : 0);
            info.setWorkerIndex(worker);
            return info;
        };
        finished << ran(task(1, QStringLiteral("resize, photo 1"), 0), 0, 5, 11, 0);
        pk::TaskInfo failed = ran(task(2, QStringLiteral("say \"hi\""), 2), 1, 6, 16, 1);
        failed.setState(pk::TaskState::Failed);
        failed.setErrorString(QStringLiteral("out of memory\nat line 12, \"here\""));
        finished << failed;
        finished << ran(task(3, QStringLiteral("resize photo 3"), -1), 2, 7, 9, 2);
        pk::TaskInfo cancelled = task(4, QStringLiteral("photo never"), 0);
        cancelled.setState(pk::TaskState::Cancelled);
        cancelled.setQueuedAtNsecs(at(3));
        cancelled.setFinishedAtNsecs(at(8));
        finished << cancelled;
        finished << ran(task(5, QString(), 0), 20, 25, 30, 0);
        live << ran(task(6, QStringLiteral("long photo\r\njob"), 5), 35, 36, 0, 3);
        pk::TaskInfo queued = task(7, QStringLiteral("queued photo"), 0);
        queued.setState(pk::TaskState::Queued);
        queued.setQueuedAtNsecs(at(37));
        live << queued;
        pk::TaskInfo waiting = task(8, QStringLiteral("merge"), 0);
        waiting.setState(pk::TaskState::Waiting);
        waiting.setQueuedAtNsecs(at(38));
        live << waiting;
    }
    QList<pk::TaskInfo> live;
    QList<pk::TaskInfo> finished;
};

// A shown widget with MixedTasks of a second ago from a FakeFeed: where the export tests start.
struct ShownMixedTasks
{
    ShownMixedTasks()
    {
        widget.setFeed(&feed);
        widget.resize(1200, 800);
        widget.show();
        feed.sendSnapshot(tasks.live, tasks.finished);
    }
    FakeFeed feed;
    pk::MonitorWidget widget;
    const MixedTasks tasks { pk::TaskInfo::monotonicNowNsecs() - 1'000'000'000 };
};

QList<QStringList> readCsv(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QList<QStringList> records;
    QString error;
    if (!pktest::parseCsv(file.readAll(), &records, &error))
        qWarning("%s: %s", qPrintable(path), qPrintable(error));
    return records;
}

// Types \a path as the file name and presses "Save", as a user would. Not selectFile(): it
// leaves the name alone while the name field has the focus, which depends on the platform.
bool saveAs(QFileDialog *dialog, const QString &path)
{
    auto *nameEdit = dialog->findChild<QLineEdit *>(QStringLiteral("fileNameEdit"));
    if (!nameEdit)
        return false;
    nameEdit->setText(path);
    // QFileDialog::accept() is protected; QDialog's is the public slot, and virtual.
    static_cast<QDialog *>(dialog)->accept();
    return true;
}

// The exported values of a time: milliseconds with six decimals, empty if not known.
QString milliseconds(qint64 ns)
{
    return ns < 0 ? QString() : QString::number(double(ns) / 1e6, 'f', 6);
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
    void timedOutTasksAreCounted();
    void selectionStaysOnItsTask();
    void detailsShowTheSelectedTask();
    void detailsShowTheChildProcess();
    void setFeedShowsAnotherFeed();
    void keeperDestroyedBeforeWidget();
    void anyFeedWithManyTasks();
    void timelineBoundsItsLanes_data();
    void timelineBoundsItsLanes();
    void exportCsvWritesTheShownRows();
    void exportTraceHoldsEveryTask();
    void exportTraceHasTheCounters();
    void exportFailsWithAReason();
    void exportButtons();
    void keeperFilterCombo();
    void continuationsFoldUnderTheirTask();
    void detailsLinksSelectTasks();
    void filterByIdAndErrorType();
    void throughputDropsToZero();
    void throughputFollowsTheClock();
    void programGoneAndBack();
    void recordingShowsItsOwnSpan();
    void lanesPerKeeper();
    void cancellationsAreNotThroughput();
    void followPausesUnderThePointer();
    void pausedRowsStayWhenOlderRowsGo();
    void singleKeyShortcuts_data();
    void singleKeyShortcuts();
    void filterAndCancelShortcuts();
    void copyShortcuts();
    void keyboardHelpListsTheShortcuts();
    void layoutAt1024x640();
    void sortScrollsToTheTop();
    void darkPalette_data();
    void darkPalette();
    void tableCellsShowTheirRoles();
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
    QVERIFY(cancelTask->isEnabled()); // running: it is asked to stop
    cancelTask->click();
    QTRY_VERIFY(running.isCancellationRequested());
    QTRY_VERIFY(
        widget.model()->taskAt(widget.model()->rowOf(running.id())).isCancellationRequested());
    const QModelIndex state
        = widget.model()->index(widget.model()->rowOf(running.id()), pk::MonitorModel::StateColumn);
    QCOMPARE(state.data().toString(), QStringLiteral("Running — cancelling…"));
    QTRY_VERIFY(!cancelTask->isEnabled()); // asked once: cancelling until it ends
    QCOMPARE(running.state(), pk::TaskState::Running); // it does not look
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

void tst_MonitorWidget::timedOutTasksAreCounted()
{
    pk::PromiseKeeper keeper(2);
    pk::MonitorWidget widget(&keeper);
    widget.show();
    const auto *note = widget.findChild<QLabel *>(QStringLiteral("failedValueNote"));
    QVERIFY(note);
    QVERIFY(note->isHidden()); // nothing timed out: no note
    pk::TaskOptions timed;
    timed.timeout = std::chrono::milliseconds(5);
    QList<pk::Promise<int>> tasks;
    for (int i = 0; i < 2; ++i) {
        tasks << keeper.submit(timed,
            [](pk::TaskContext &ctx) { return pktest::awaitCancellationRequest(ctx) ? 1 : -1; });
    }
    auto failing = keeper.submit([]() -> int { throw std::runtime_error("not a time-out"); });
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QTRY_COMPARE(counter(widget, "failedValue"), QStringLiteral("3"));
    QTRY_VERIFY(!note->isHidden());
    QCOMPARE(note->text(), QStringLiteral("2 timed out"));
    const auto stateText = [&](quint64 id) {
        return widget.model()
            ->index(widget.model()->rowOf(id), pk::MonitorModel::StateColumn)
            .data()
            .toString();
    };
    QTRY_COMPARE(stateText(tasks[0].id()), QStringLiteral("Failed — timed out"));
    QCOMPARE(stateText(failing.id()), QStringLiteral("Failed"));
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

void tst_MonitorWidget::detailsShowTheChildProcess()
{
    // A process-isolated task whose child crashed, as a feed reports it; a thread task beside.
    FakeFeed feed;
    pk::MonitorWidget widget;
    widget.setFeed(&feed);
    widget.show();
    pk::TaskInfo crashed = keeperTask(1, QStringLiteral("images"), pk::TaskState::Failed);
    crashed.setProcessId(31337);
    crashed.setErrorType(QStringLiteral("pk::ProcessCrashedError"));
    crashed.setErrorString(QStringLiteral(
        "render: its process (pid 31337) crashed with signal 11 (Segmentation fault)"));
    const pk::TaskInfo plain = keeperTask(2, QStringLiteral("images"), pk::TaskState::Queued);
    feed.sendSnapshot({ plain }, { crashed });
    QTRY_COMPARE(widget.model()->rowCount(), 2);
    auto *details = child<QTextBrowser>(widget, "details");
    QVERIFY(details);
    widget.selectTask(1);
    // The row "Process  pid 31337", not the pid inside the error message.
    const QRegularExpression processRow(QStringLiteral("(^|\\n)Process\\s+pid 31337(\\n|$)"));
    QTRY_VERIFY2(details->toPlainText().contains(processRow), qPrintable(details->toPlainText()));
    QVERIFY(details->toPlainText().contains(QStringLiteral("pk::ProcessCrashedError")));
    widget.selectTask(2);
    QTRY_VERIFY(details->toPlainText().contains(QStringLiteral("job 2")));
    QVERIFY(
        !details->toPlainText().contains(QRegularExpression(QStringLiteral("(^|\\n)Process\\s"))));
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

void tst_MonitorWidget::timelineBoundsItsLanes_data()
{
    // Feeds other than the socket's (which checks them) can give any worker index and time.
    QTest::addColumn<int>("worker");
    QTest::addColumn<int>("lanes"); // allocated for it and worker 1
    QTest::addColumn<quint64>("undrawn");
    const int maxLanes = pk::monitor::TimelineView::kMaxLanes;
    QTest::newRow("2^31-1") << std::numeric_limits<int>::max() << 2 << quint64(2);
    QTest::newRow("10^7") << 10000000 << 2 << quint64(2);
    QTest::newRow("past the last lane") << maxLanes << 2 << quint64(2);
    QTest::newRow("the last lane") << maxLanes - 1 << maxLanes << quint64(0);
}

void tst_MonitorWidget::timelineBoundsItsLanes()
{
    QFETCH(int, worker);
    QFETCH(int, lanes);
    QFETCH(quint64, undrawn);
    FakeFeed feed;
    pk::MonitorWidget widget;
    widget.setFeed(&feed);
    widget.resize(800, 600);
    widget.show();
    // Not qobject_cast: the view's meta-object is private to the library.
    const auto *timeline
        = static_cast<const pk::monitor::TimelineView *>(child<QWidget>(widget, "timeline"));
    QVERIFY(timeline);
    const qint64 now = pk::TaskInfo::monotonicNowNsecs();
    pk::TaskInfo running = finishedTask(2, worker, now - 1000, 0, false);
    running.setState(pk::TaskState::Running);
    running.setFinishedAtNsecs(0);
    feed.sendSnapshot({ running }, { finishedTask(1, worker, now - 5000, 1000, false) });
    // Times far from now, both ways, and a thread count no view can draw.
    const qint64 max = std::numeric_limits<qint64>::max();
    feed.sendUpdate({ finishedTask(3, 1, 1, max - 1, true), finishedTask(4, 1, max / 2, 1, false) },
        pk::TaskCounts { 0, 0, 1, 3, 1, 0 }, 0, std::numeric_limits<int>::max());
    QCOMPARE(int(timeline->laneCount()), lanes);
    QCOMPARE(timeline->undrawnCount(), undrawn);
    QCOMPARE(widget.grab().isNull(), false); // paints, with the note if some are not drawn
    QCOMPARE(widget.model()->rowCount(), 4); // the table has them all
}

void tst_MonitorWidget::exportCsvWritesTheShownRows()
{
    ShownMixedTasks fixture;
    pk::MonitorWidget &widget = fixture.widget;
    QCOMPARE(widget.model()->rowCount(), 8);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());

    // Every row, in the table's order.
    const QString all = dir.filePath(QStringLiteral("all.csv"));
    QString error = QStringLiteral("stale");
    QVERIFY2(widget.exportCsv(all, &error), qPrintable(error));
    QVERIFY(error.isEmpty());
    QList<QStringList> records = readCsv(all);
    QCOMPARE(records.size(), 9);
    QCOMPARE(records.first(),
        QStringLiteral("id,title,state,priority,worker,queued_at,started_at,finished_at,wait_ms,"
                       "run_ms,error,keeper,kind,error_type")
            .split(QLatin1Char(',')));

    // What the filters leave, sorted by the view: the "photo" tasks not cancelled, newest first.
    child<QToolButton>(widget, "stateChip_Cancelled")->click();
    child<QLineEdit>(widget, "filterEdit")->setText(QStringLiteral("PHOTO"));
    widget.tableView()->sortByColumn(pk::MonitorModel::IdColumn, Qt::DescendingOrder);
    QCOMPARE(visibleRows(widget), 4);
    const QString shown = dir.filePath(QStringLiteral("shown.csv"));
    QVERIFY2(widget.exportCsv(shown, &error), qPrintable(error));
    records = readCsv(shown);
    QCOMPARE(records.size(), visibleRows(widget) + 1);
    const QAbstractItemModel *view = widget.tableView()->model();
    for (int row = 0; row < visibleRows(widget); ++row) {
        const QStringList &fields = records.at(row + 1);
        QCOMPARE(fields.size(), 14);
        const quint64 id = view->index(row, 0).data(pk::MonitorModel::IdRole).toULongLong();
        QCOMPARE(fields.at(0), QString::number(id));
        const pk::TaskInfo info = widget.model()->taskAt(widget.model()->rowOf(id));
        QCOMPARE(fields.at(1), info.title());
        QCOMPARE(fields.at(2),
            QString::fromLatin1(
                QMetaEnum::fromType<pk::TaskState>().valueToKey(int(info.state()))));
        QCOMPARE(fields.at(3), QString::number(info.priority()));
        QCOMPARE(fields.at(4),
            info.workerIndex() >= 0 ? QString::number(info.workerIndex()) : QString());
        QCOMPARE(fields.at(5).isEmpty(), info.queuedAtNsecs() == 0);
        QCOMPARE(fields.at(6).isEmpty(), info.startedAtNsecs() == 0);
        QCOMPARE(fields.at(7).isEmpty(), info.finishedAtNsecs() == 0);
        QCOMPARE(fields.at(8), milliseconds(info.waitNsecs()));
        QCOMPARE(fields.at(9), milliseconds(info.runNsecs()));
        QCOMPARE(fields.at(10), info.errorString());
    }
    QCOMPARE(records.at(1).at(0), QStringLiteral("7"));
    QCOMPARE(records.at(4).at(0), QStringLiteral("1"));
    QCOMPARE(records.at(2).at(1), QStringLiteral("long photo\r\njob"));
    QCOMPARE(records.at(3).at(9), QStringLiteral("4.000000"));
}

void tst_MonitorWidget::exportTraceHoldsEveryTask()
{
    ShownMixedTasks fixture;
    pk::MonitorWidget &widget = fixture.widget;
    // The filters only choose the rows shown: the trace has every task.
    child<QToolButton>(widget, "stateChip_Succeeded")->click();
    child<QLineEdit>(widget, "filterEdit")->setText(QStringLiteral("memory"));
    QCOMPARE(visibleRows(widget), 1);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("tasks.trace.json"));
    QString error = QStringLiteral("stale");
    QVERIFY2(widget.exportTrace(path, &error), qPrintable(error));
    QVERIFY(error.isEmpty());

    pk::TraceReader reader;
    QVERIFY2(reader.load(path), qPrintable(reader.errorString()));
    QCOMPARE(reader.threadCount(), 4); // the feed's, though only three workers ran something
    QCOMPARE(reader.droppedTaskCount(), 0u);
    const QList<pk::TaskInfo> read = reader.tasks();
    QCOMPARE(read.size(), widget.model()->rowCount());
    for (const pk::TaskInfo &info : read) {
        const int row = widget.model()->rowOf(info.id());
        QVERIFY2(row >= 0, qPrintable(QString::number(info.id())));
        // Every field, to the nanosecond.
        QCOMPARE(info, widget.model()->taskAt(row));
    }
    const pk::TaskCounts counts = reader.counts();
    QCOMPARE(counts.succeeded, 3);
    QCOMPARE(counts.failed, 1);
    QCOMPARE(counts.cancelled, 1);
    QCOMPARE(counts.running, 1);
    QCOMPARE(counts.queued, 1);
    QCOMPARE(counts.waiting, 1);
}

void tst_MonitorWidget::exportTraceHasTheCounters()
{
    // The trace's "queued" and "running" counters as they were over the tasks held, though the
    // model only has the latest state of each task.
    ShownMixedTasks fixture;
    pk::MonitorWidget &widget = fixture.widget;
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("tasks.trace.json"));
    QString error;
    QVERIFY2(widget.exportTrace(path, &error), qPrintable(error));

    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &parseError);
    QVERIFY2(document.isObject(), qPrintable(parseError.errorString()));
    QList<int> queued;
    QList<int> running;
    double lastTs = -1;
    for (const QJsonValue &value :
        document.object().value(QLatin1String("traceEvents")).toArray()) {
        const QJsonObject event = value.toObject();
        if (event.value(QLatin1String("ph")).toString() != QLatin1String("C"))
            continue;
        const QString name = event.value(QLatin1String("name")).toString();
        const int count = event.value(QLatin1String("args")).toObject().value(name).toInt(-1);
        (name == QLatin1String("queued") ? queued : running) << count;
        const double ts = event.value(QLatin1String("ts")).toDouble();
        QVERIFY(ts >= lastTs); // samples in time order
        lastTs = ts;
    }
    QVERIFY(!queued.isEmpty());
    QCOMPARE(queued.size(), running.size());
    QCOMPARE(*std::max_element(queued.cbegin(), queued.cend()), 4);
    QCOMPARE(*std::max_element(running.cbegin(), running.cend()), 3);
    QCOMPARE(*std::min_element(queued.cbegin(), queued.cend()), 0);
    // At the end: task 7 queued, task 6 running.
    QCOMPARE(queued.last(), 1);
    QCOMPARE(running.last(), 1);
}

void tst_MonitorWidget::exportFailsWithAReason()
{
    ShownMixedTasks fixture;
    pk::MonitorWidget &widget = fixture.widget;
    QTemporaryDir dir;
    QVERIFY(dir.isValid());

    const QString csv = dir.filePath(QStringLiteral("missing/tasks.csv"));
    QString error;
    QVERIFY(!widget.exportCsv(csv, &error));
    QVERIFY2(error.contains(csv), qPrintable(error));
    QVERIFY(!widget.exportCsv(csv)); // without a place for the reason
    const QString trace = dir.filePath(QStringLiteral("missing/tasks.trace.json"));
    error.clear();
    QVERIFY(!widget.exportTrace(trace, &error));
    QVERIFY2(error.contains(trace), qPrintable(error));
    QVERIFY(!QFile::exists(csv));
    QVERIFY(!QFile::exists(trace));
    // Nothing lost: the table still holds everything, and the next export works.
    QCOMPARE(widget.model()->rowCount(), 8);
    QVERIFY(widget.exportCsv(dir.filePath(QStringLiteral("tasks.csv")), &error));
    QVERIFY(error.isEmpty());
    QCOMPARE(readCsv(dir.filePath(QStringLiteral("tasks.csv"))).size(), 9);
}

void tst_MonitorWidget::exportButtons()
{
    ShownMixedTasks fixture;
    pk::MonitorWidget &widget = fixture.widget;
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto status = [&widget] { return child<QLabel>(widget, "statusLabel")->text(); };

    // The "Export" button's menu: CSV of the rows shown, trace of every task.
    auto *button = child<QPushButton>(widget, "exportButton");
    QVERIFY(button);
    QVERIFY(button->isVisible());
    QVERIFY(button->menu());
    auto *csvAction = widget.findChild<QAction *>(QStringLiteral("exportCsvAction"));
    auto *traceAction = widget.findChild<QAction *>(QStringLiteral("exportTraceAction"));
    QVERIFY(csvAction && traceAction);
    QCOMPARE(button->menu()->actions(), QList<QAction *>({ csvAction, traceAction }));

    // CSV: a file dialog, then the file, and a word in the status line.
    csvAction->trigger();
    QFileDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = widget.findChild<QFileDialog *>(QStringLiteral("exportCsvDialog"))));
    QTRY_VERIFY(dialog->isVisible());
    QCOMPARE(dialog->acceptMode(), QFileDialog::AcceptSave);
    const QString csv = dir.filePath(QStringLiteral("table.csv"));
    QVERIFY(saveAs(dialog, csv));
    QTRY_VERIFY(QFile::exists(csv));
    QCOMPARE(readCsv(csv).size(), 9);
    QTRY_VERIFY2(
        status().contains(QStringLiteral("Exported 8 rows to table.csv")), qPrintable(status()));

    // Trace, to where nothing can be written: a message box with the reason.
    traceAction->trigger();
    QTRY_VERIFY((dialog = widget.findChild<QFileDialog *>(QStringLiteral("exportTraceDialog"))));
    QTRY_VERIFY(dialog->isVisible());
    const QString nowhere = dir.filePath(QStringLiteral("missing/tasks.trace.json"));
    QVERIFY(saveAs(dialog, nowhere));
    QMessageBox *box = nullptr;
    QTRY_VERIFY((box = widget.findChild<QMessageBox *>(QStringLiteral("exportErrorBox"))));
    QTRY_VERIFY(box->isVisible());
    QVERIFY2(box->informativeText().contains(nowhere), qPrintable(box->informativeText()));
    QVERIFY(box->text().contains(QStringLiteral("trace")));
    QVERIFY2(status().contains(QStringLiteral("Could not export to tasks.trace.json")),
        qPrintable(status()));
    QVERIFY(!QFile::exists(nowhere));
    box->accept();
    QTRY_VERIFY(!widget.findChild<QMessageBox *>(QStringLiteral("exportErrorBox")));

    // Then to a good place; the dialog starts where the last export went.
    traceAction->trigger();
    QTRY_VERIFY((dialog = widget.findChild<QFileDialog *>(QStringLiteral("exportTraceDialog"))));
    QCOMPARE(dialog->directory().absolutePath(), QDir(dir.path()).absolutePath());
    const QString trace = dir.filePath(QStringLiteral("run.trace.json"));
    QVERIFY(saveAs(dialog, trace));
    QTRY_VERIFY(QFile::exists(trace));
    pk::TraceReader reader;
    QVERIFY2(reader.load(trace), qPrintable(reader.errorString()));
    QCOMPARE(reader.tasks().size(), 8);
    QTRY_VERIFY2(status().contains(QStringLiteral("Exported 8 tasks to run.trace.json")),
        qPrintable(status()));
}

void tst_MonitorWidget::keeperFilterCombo()
{
    using S = pk::TaskState;
    FakeFeed feed;
    feed.keeperList = { { QStringLiteral("images"), 3, {} }, { QStringLiteral("network"), 2, {} } };
    pk::MonitorWidget widget;
    widget.setFeed(&feed);
    widget.resize(1200, 800);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
    feed.sendSnapshot({ keeperTask(1, QStringLiteral("images"), S::Running),
                          keeperTask(2, QStringLiteral("network"), S::Running),
                          keeperTask(3, QStringLiteral("images"), S::Queued) },
        {});
    auto *combo = child<QComboBox>(widget, "keeperFilter");
    QVERIFY(combo);
    QCOMPARE(combo->count(), 3);
    QCOMPARE(combo->itemText(0), QStringLiteral("All keepers"));
    QCOMPARE(combo->itemText(1), QStringLiteral("images"));
    QCOMPARE(combo->itemText(2), QStringLiteral("network"));
    QCOMPARE(widget.model()->indexOf(2, pk::MonitorModel::KeeperColumn).data().toString(),
        QStringLiteral("network"));

    combo->setFocus();
    QTest::keyClick(combo, Qt::Key_Down);
    QCOMPARE(widget.filterModel()->keeperFilter(), QStringLiteral("images"));
    QCOMPARE(shownIds(widget), (QList<quint64> { 1, 3 }));
    QTest::keyClick(combo, Qt::Key_Down);
    QCOMPARE(shownIds(widget), QList<quint64> { 2 });

    // A keeper that appears later becomes a choice; the chosen one stays.
    feed.sendUpdate({ keeperTask(4, QStringLiteral("disk"), S::Queued),
                        keeperTask(5, QStringLiteral("network"), S::Queued) },
        {});
    QCOMPARE(combo->count(), 4);
    QCOMPARE(combo->itemText(3), QStringLiteral("disk"));
    QCOMPARE(combo->currentText(), QStringLiteral("network"));
    QCOMPARE(shownIds(widget), (QList<quint64> { 2, 5 }));
    QTest::keyClick(combo, Qt::Key_Down);
    QCOMPARE(shownIds(widget), QList<quint64> { 4 });
    QTest::keyClick(combo, Qt::Key_Home);
    QCOMPARE(combo->currentIndex(), 0);
    QCOMPARE(shownIds(widget).size(), 5);
}

void tst_MonitorWidget::continuationsFoldUnderTheirTask()
{
    using S = pk::TaskState;
    using K = pk::TaskKind;
    FakeFeed feed;
    pk::MonitorWidget widget;
    widget.setFeed(&feed);
    widget.resize(1200, 800);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
    feed.sendSnapshot({ keeperTask(1, QString(), S::Running),
                          keeperTask(2, QString(), S::Waiting, K::Continuation, { 1 }),
                          keeperTask(3, QString(), S::Waiting, K::Continuation, { 2 }),
                          keeperTask(4, QString(), S::Running) },
        {});
    QCOMPARE(shownIds(widget), (QList<quint64> { 1, 4 }));
    const QAbstractItemModel *view = widget.tableView()->model();
    QCOMPARE(view->index(0, pk::MonitorModel::TitleColumn).data().toString(),
        QStringLiteral("job 1  (+2)"));

    auto *toggle = child<QToolButton>(widget, "continuationsButton");
    QVERIFY(toggle);
    QVERIFY(!toggle->isChecked());
    QTest::mouseClick(toggle, Qt::LeftButton);
    QVERIFY(widget.filterModel()->continuationsShown());
    QCOMPARE(shownIds(widget), (QList<quint64> { 1, 2, 3, 4 }));
    QVERIFY(view->index(1, pk::MonitorModel::TitleColumn)
                .data()
                .toString()
                .startsWith(QStringLiteral("↳ ")));
    QTest::mouseClick(toggle, Qt::LeftButton);
    QCOMPARE(shownIds(widget), (QList<quint64> { 1, 4 }));

    // A double click on the task unfolds its continuations, another folds them again.
    QTableView *table = widget.tableView();
    QPoint onFirst = table->visualRect(view->index(0, 1)).center();
    QSignalSpy doubleClicked(table, &QAbstractItemView::doubleClicked);
    // The view takes a double click after a press on the same row (QTest's double click
    // alone has no press before it in Qt 6.4). Selecting may resize the columns: the double
    // click goes where the row's title is then.
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, onFirst);
    onFirst = table->visualRect(view->index(0, 1)).center();
    QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, onFirst);
    QCOMPARE(doubleClicked.size(), 1);
    QCOMPARE(shownIds(widget), (QList<quint64> { 1, 2, 3, 4 }));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, onFirst);
    QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, onFirst);
    QCOMPARE(shownIds(widget), (QList<quint64> { 1, 4 }));

    // Selecting a folded continuation unfolds it, and the table selects its row.
    widget.selectTask(3);
    QCOMPARE(shownIds(widget), (QList<quint64> { 1, 2, 3, 4 }));
    QCOMPARE(table->currentIndex().data(pk::MonitorModel::IdRole).toULongLong(), quint64(3));
}

void tst_MonitorWidget::detailsLinksSelectTasks()
{
    using S = pk::TaskState;
    using K = pk::TaskKind;
    FakeFeed feed;
    pk::MonitorWidget widget;
    widget.setFeed(&feed);
    widget.resize(1400, 900);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
    pk::TaskInfo failed
        = keeperTask(2, QStringLiteral("images"), S::Failed, K::Continuation, { 1 });
    failed.setErrorString(QStringLiteral("cannot decode"));
    failed.setErrorType(QStringLiteral("DecodeError"));
    feed.sendSnapshot(
        { keeperTask(1, QStringLiteral("images"), S::Running),
            keeperTask(3, QStringLiteral("images"), S::Waiting, K::Continuation, { 2 }) },
        { failed });
    auto *details = child<QTextBrowser>(widget, "details");
    QVERIFY(details);

    widget.selectTask(1);
    QString text = details->toPlainText();
    QVERIFY2(text.contains(QStringLiteral("images")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("Task")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("#2 then ← 1")), qPrintable(text)); // a dependent

    // The dependent's link selects it, unfolded from under task 1.
    QVERIFY(clickLink(details, QStringLiteral("#2")));
    QCOMPARE(widget.selectedTaskId(), quint64(2));
    QCOMPARE(widget.tableView()->currentIndex().data(pk::MonitorModel::IdRole).toULongLong(),
        quint64(2));
    text = details->toPlainText();
    QVERIFY2(text.contains(QStringLiteral("Continuation")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("DecodeError")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("cannot decode")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("#3 then ← 2")), qPrintable(text));

    // Its input's link goes back to task 1.
    QVERIFY(clickLink(details, QStringLiteral("#1")));
    QCOMPARE(widget.selectedTaskId(), quint64(1));
    QCOMPARE(widget.tableView()->currentIndex().data(pk::MonitorModel::IdRole).toULongLong(),
        quint64(1));
}

void tst_MonitorWidget::filterByIdAndErrorType()
{
    using S = pk::TaskState;
    FakeFeed feed;
    pk::MonitorWidget widget;
    widget.setFeed(&feed);
    widget.show();
    pk::TaskInfo failed = keeperTask(12, QString(), S::Failed);
    failed.setErrorString(QStringLiteral("no such host"));
    failed.setErrorType(QStringLiteral("pk::NetworkError"));
    feed.sendSnapshot({ keeperTask(7, QString(), S::Running) },
        { keeperTask(3, QString(), S::Succeeded), failed });
    auto *edit = child<QLineEdit>(widget, "filterEdit");
    QVERIFY(edit);
    edit->setFocus();
    QTest::keyClicks(edit, QStringLiteral("#7"));
    QCOMPARE(shownIds(widget), QList<quint64> { 7 });
    edit->clear();
    QTest::keyClicks(edit, QStringLiteral("networkerror"));
    QCOMPARE(shownIds(widget), QList<quint64> { 12 });
    edit->clear();
    QCOMPARE(shownIds(widget).size(), 3);
}

// The rate is taken against the caller's clock (explicit milliseconds here): no sleeps.
void tst_MonitorWidget::throughputDropsToZero()
{
    pk::monitor::TaskStats stats;
    pk::TaskCounts counts;
    stats.addCounts(counts, 0);
    counts.succeeded = 50;
    stats.addCounts(counts, 500);
    counts.succeeded = 100;
    stats.addCounts(counts, 1000);
    QVERIFY(stats.throughput(1000) > 90.0);
    QVERIFY(stats.throughput(1000) < 110.0);

    // Nothing finishes any more: the counts arrive unchanged, the rate goes down to 0 and
    // does not stay at its last value.
    for (qint64 ms = 1100; ms <= 2500; ms += 100)
        stats.addCounts(counts, ms);
    QCOMPARE(stats.throughput(2500), 0.0);
    // And with no counts at all (a source that went quiet), 0 as well.
    QCOMPARE(stats.throughput(30'000), 0.0);
}

// The widget's rate on a test's clock: 50 tasks finished in half a second are 100 / s, and
// a second and a half of nothing later the rate is gone.
void tst_MonitorWidget::throughputFollowsTheClock()
{
    using namespace std::chrono_literals;
    pk::test::ManualClock clock;
    FakeFeed feed;
    pk::MonitorWidget widget;
    widget.setFeed(&feed); // takes the first sample: nothing finished yet
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
    clock.advance(500ms);
    pk::TaskCounts counts;
    counts.succeeded = 50;
    feed.sendUpdate({}, counts);
    QTRY_COMPARE_WITH_TIMEOUT(
        counter(widget, "throughputValue"), QStringLiteral("100"), pktest::kTimeoutMs);
    clock.advance(1500ms);
    QTRY_COMPARE_WITH_TIMEOUT(
        counter(widget, "throughputValue"), QStringLiteral("0"), pktest::kTimeoutMs);
}

void tst_MonitorWidget::cancellationsAreNotThroughput()
{
    pk::monitor::TaskStats stats;
    pk::TaskCounts counts;
    stats.addCounts(counts, 0);
    counts.cancelled = 10'000; // "Cancel all" on a long queue
    stats.addCounts(counts, 500);
    QCOMPARE(stats.throughput(500), 0.0);
    counts.failed = 5;
    counts.succeeded = 5;
    stats.addCounts(counts, 1000);
    QVERIFY(stats.throughput(1000) > 5.0);
    QVERIFY(stats.throughput(1000) < 15.0);
    QCOMPARE(pk::monitor::TaskStats::completedCount(counts), qint64(10));
}

// The program goes away: a banner says so, the counters grey out, live-only actions are off and
// the timeline's "now" stops where the data stopped; on reconnect a marker and a banner line.
void tst_MonitorWidget::programGoneAndBack()
{
    FakeFeed feed;
    pk::MonitorWidget widget;
    widget.resize(1200, 800);
    widget.setFeed(&feed);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
    pk::TaskInfo running = keeperTask(1, QString(), pk::TaskState::Running);
    running.setStartedAtNsecs(pk::TaskInfo::monotonicNowNsecs());
    pk::TaskCounts counts;
    counts.running = 1;
    feed.sendUpdate({ running }, counts);

    auto *banner = child<QFrame>(widget, "connectionBanner");
    auto *bannerText = child<QLabel>(widget, "connectionBannerText");
    auto *cancelAll = child<QPushButton>(widget, "cancelAllButton");
    auto *follow = child<QToolButton>(widget, "followButton");
    auto *runningValue = child<QLabel>(widget, "runningValue");
    const auto *timeline
        = static_cast<const pk::monitor::TimelineView *>(child<QWidget>(widget, "timeline"));
    QVERIFY(banner && bannerText && cancelAll && follow && runningValue && timeline);
    QVERIFY(!banner->isVisible());
    QVERIFY(cancelAll->isEnabled());
    QCOMPARE(timeline->sourceGoneAt(), qint64(0));

    const qint64 before = pk::TaskInfo::monotonicNowNsecs();
    const auto stateText = [&widget](quint64 id) {
        pk::MonitorModel *model = widget.model();
        return model->index(model->rowOf(id), pk::MonitorModel::StateColumn).data().toString();
    };
    QCOMPARE(stateText(1), QStringLiteral("Running"));
    feed.sendConnection(false);
    // The table does not claim to know what the task does now.
    QCOMPARE(stateText(1), QStringLiteral("Running — unknown (program gone)"));
    QVERIFY(banner->isVisible());
    QVERIFY2(bannerText->text().startsWith(QStringLiteral("Program gone at ")),
        qPrintable(bannerText->text()));
    QVERIFY(!runningValue->isEnabled());
    QCOMPARE(counter(widget, "throughputValue"), QStringLiteral("—"));
    QVERIFY(!cancelAll->isEnabled());
    QVERIFY(!follow->isEnabled());
    QTest::mouseClick(cancelAll, Qt::LeftButton);
    QCOMPARE(feed.cancelAllCalls, 0);
    // The bars of running tasks end at the disconnect, however long the window stays open.
    const qint64 goneAt = timeline->sourceGoneAt();
    QVERIFY(goneAt >= before);
    QCOMPARE(timeline->currentTime(), goneAt);
    QVERIFY(timeline->markers().empty());

    feed.sendConnection(true);
    QVERIFY(banner->isVisible());
    QVERIFY2(bannerText->text().contains(QStringLiteral("Program gone at "))
            && bannerText->text().contains(QStringLiteral("Reconnected at ")),
        qPrintable(bannerText->text()));
    QCOMPARE(timeline->sourceGoneAt(), qint64(0));
    QCOMPARE(stateText(1), QStringLiteral("Running"));
    QCOMPARE(timeline->markers().size(), std::size_t(1));
    QVERIFY(timeline->markers().front() >= goneAt);
    QVERIFY(runningValue->isEnabled());
    QVERIFY(follow->isEnabled());
    QTest::mouseClick(cancelAll, Qt::LeftButton);
    QCOMPARE(feed.cancelAllCalls, 1);
}

// A recording (a feed that is not live): its own span, no cancel or follow, and tasks running at
// its end end there.
void tst_MonitorWidget::recordingShowsItsOwnSpan()
{
    FakeFeed feed;
    feed.liveFeed = false;
    feed.program = QStringLiteral("images-demo");
    pk::MonitorWidget widget;
    widget.resize(1200, 800);
    widget.setFeed(&feed);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
    // Times far in the past of this process's clock: a live "now" axis would not show them.
    const qint64 t0 = 1'000'000'000;
    pk::TaskInfo done = keeperTask(1, QString(), pk::TaskState::Succeeded);
    done.setQueuedAtNsecs(t0);
    done.setStartedAtNsecs(t0 + 100'000'000);
    done.setFinishedAtNsecs(t0 + 600'000'000);
    pk::TaskInfo unfinished = keeperTask(2, QString(), pk::TaskState::Running);
    unfinished.setQueuedAtNsecs(t0 + 200'000'000);
    unfinished.setStartedAtNsecs(t0 + 2'000'000'000);
    feed.sendSnapshot({ unfinished }, { done });

    auto *bannerText = child<QLabel>(widget, "connectionBannerText");
    QVERIFY(child<QFrame>(widget, "connectionBanner")->isVisible());
    QVERIFY2(bannerText->text().contains(QStringLiteral("Recording of images-demo (pid 4242)")),
        qPrintable(bannerText->text()));
    QVERIFY(!child<QPushButton>(widget, "cancelAllButton")->isEnabled());
    QVERIFY(!child<QToolButton>(widget, "followButton")->isEnabled());
    QTest::mouseClick(child<QPushButton>(widget, "cancelAllButton"), Qt::LeftButton);
    QCOMPARE(feed.cancelAllCalls, 0);

    const auto *timeline
        = static_cast<const pk::monitor::TimelineView *>(child<QWidget>(widget, "timeline"));
    const qint64 end = t0 + 2'000'000'000; // the latest time in the recording
    QVERIFY(!timeline->isFollowingNow());
    pk::MonitorModel *model = widget.model();
    QCOMPARE(model->index(model->rowOf(2), pk::MonitorModel::StateColumn).data().toString(),
        QStringLiteral("Running — unfinished at end of recording"));
    QCOMPARE(model->index(model->rowOf(1), pk::MonitorModel::StateColumn).data().toString(),
        QStringLiteral("Succeeded"));
    // The running task ends at the end of the recording, not at this process's "now".
    QCOMPARE(timeline->sourceGoneAt(), end);
    QCOMPARE(timeline->currentTime(), end);
    // The view holds the whole span, and not much more.
    QVERIFY(timeline->endTime() >= end);
    QVERIFY(timeline->endTime() - timeline->span() <= t0);
    QVERIFY(timeline->span() < 2 * (end - t0));
}

// Two keepers: their workers get lanes of their own, named after the keeper, and a network task
// is not drawn on an images lane.
void tst_MonitorWidget::lanesPerKeeper()
{
    FakeFeed feed;
    feed.keeperList = { { QStringLiteral("images"), 3, {} }, { QStringLiteral("network"), 2, {} } };
    pk::MonitorWidget widget;
    widget.resize(1200, 800);
    widget.setFeed(&feed);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
    const qint64 now = pk::TaskInfo::monotonicNowNsecs();
    pk::TaskInfo net = keeperTask(1, QStringLiteral("network"), pk::TaskState::Succeeded);
    net.setWorkerIndex(1);
    net.setStartedAtNsecs(now - 2'000'000);
    net.setFinishedAtNsecs(now - 1'000'000);
    feed.sendSnapshot({}, { net });

    const auto *timeline
        = static_cast<const pk::monitor::TimelineView *>(child<QWidget>(widget, "timeline"));
    QCOMPARE(timeline->laneLabel(0), QStringLiteral("images · worker 0"));
    QCOMPARE(timeline->laneLabel(2), QStringLiteral("images · worker 2"));
    QCOMPARE(timeline->laneLabel(3), QStringLiteral("network · worker 0"));
    QCOMPARE(timeline->laneLabel(4), QStringLiteral("network · worker 1"));
    QCOMPARE(timeline->laneOf(QStringLiteral("network"), 1), 4);
    QCOMPARE(timeline->laneOf(QStringLiteral("images"), 3), -1); // past its threads
    QCOMPARE(timeline->laneOf(QStringLiteral("other"), 0), -1);
    QCOMPARE(timeline->barCount(), std::size_t(1));

    // The keeper filter picks the counts the counter strip shows.
    feed.keeperList[0].counts.running = 2;
    feed.keeperList[1].counts.running = 1;
    pk::TaskCounts all;
    all.running = 3;
    feed.sendUpdate({}, all, 0, 5);
    QTRY_COMPARE(counter(widget, "runningValue"), QStringLiteral("3 / 5"));
    auto *combo = child<QComboBox>(widget, "keeperFilter");
    QVERIFY(combo);
    const int images = combo->findData(QStringLiteral("images"));
    QVERIFY(images > 0);
    combo->setFocus();
    while (combo->currentIndex() != images)
        QTest::keyClick(combo, Qt::Key_Down);
    QCOMPARE(counter(widget, "runningValue"), QStringLiteral("2 / 3"));

    // Without keepers(): today's lanes.
    FakeFeed plain;
    widget.setFeed(&plain);
    plain.sendSnapshot({}, {});
    QCOMPARE(timeline->laneLabel(0), QStringLiteral("worker 0"));
    QCOMPARE(timeline->laneOf(QString(), 2), 2);
}

// ---- by hand: follow, keyboard, copy, layout, palette -------------------------------------

namespace {

pk::TaskInfo queuedTask(quint64 id)
{
    pk::TaskInfo info;
    info.setId(id);
    info.setTitle(QStringLiteral("job %1").arg(id));
    info.setState(pk::TaskState::Queued);
    info.setQueuedAtNsecs(pk::TaskInfo::monotonicNowNsecs());
    return info;
}

QList<pk::TaskInfo> queuedTasks(quint64 first, int count)
{
    QList<pk::TaskInfo> tasks;
    for (int i = 0; i < count; ++i)
        tasks << queuedTask(first + quint64(i));
    return tasks;
}

pk::TaskCounts queuedCounts(qint64 queued)
{
    pk::TaskCounts counts;
    counts.queued = queued;
    return counts;
}

// A shown widget over a FakeFeed with \a rows queued tasks (ids 1 to rows), at 1024×640.
struct ShownQueue
{
    explicit ShownQueue(int rows)
    {
        widget.setFeed(&feed);
        widget.resize(1024, 640);
        widget.show();
        feed.sendSnapshot(queuedTasks(1, rows), {});
    }
    quint64 idAt(QPoint viewportPos) const
    {
        return widget.tableView()
            ->indexAt(viewportPos)
            .data(pk::MonitorModel::IdRole)
            .toULongLong();
    }
    FakeFeed feed;
    pk::MonitorWidget widget;
};

QString followToolTip(const pk::MonitorWidget &widget)
{
    return child<QToolButton>(widget, "followButton")->toolTip();
}

// Key events go to the active window; without a window manager (Xvfb) nothing activates it.
bool activated(QWidget &window)
{
    window.activateWindow();
    return QTest::qWaitForWindowActive(&window);
}

// Sends the key to the focused widget (the shortcut map sees it first), as a keyboard would.
void press(QWidget *focus, QKeySequence key)
{
    focus->setFocus();
    QTRY_VERIFY(focus->hasFocus());
    QTest::keySequence(focus, key);
}

} // namespace

// The pointer on the table pauses following: the rows under it stay put as tasks arrive, and
// a click selects the row the user saw there; leaving the table resumes following.
void tst_MonitorWidget::followPausesUnderThePointer()
{
    ShownQueue shown(300);
    QTableView *view = shown.widget.tableView();
    QScrollBar *scrollBar = view->verticalScrollBar();
    QVERIFY(QTest::qWaitForWindowExposed(&shown.widget));
    QVERIFY(shown.widget.isFollowing());
    QTRY_VERIFY(scrollBar->maximum() > 0);
    QTRY_COMPARE(scrollBar->value(), scrollBar->maximum());

    const QPoint middle = view->viewport()->rect().center();
    QTest::mouseMove(view->viewport(), middle);
    QTRY_VERIFY(followToolTip(shown.widget).contains(QStringLiteral("pointer on the table")));
    QVERIFY(shown.widget.isFollowing()); // paused, not turned off
    const int value = scrollBar->value();
    const quint64 underPointer = shown.idAt(middle);
    QVERIFY(underPointer != 0);

    shown.feed.sendUpdate(queuedTasks(301, 200), queuedCounts(500));
    QCOMPARE(shown.widget.model()->rowCount(), 500);
    QTRY_VERIFY(scrollBar->maximum() > value);
    QCOMPARE(scrollBar->value(), value);
    QCOMPARE(shown.idAt(middle), underPointer);
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, middle);
    QCOMPARE(shown.widget.selectedTaskId(), underPointer);
    QVERIFY(followToolTip(shown.widget).contains(QStringLiteral("a row is selected")));

    // Off the table but selected: still paused. Nothing selected: following again.
    QTest::mouseMove(child<QLineEdit>(shown.widget, "filterEdit"));
    shown.feed.sendUpdate(queuedTasks(501, 50), queuedCounts(550));
    QCOMPARE(scrollBar->value(), value);
    shown.widget.selectTask(0);
    QVERIFY(!followToolTip(shown.widget).contains(QStringLiteral("Follow paused")));
    QTRY_COMPARE(scrollBar->value(), scrollBar->maximum());
}

// While paused, finished rows evicted above the viewport do not move the rows on screen.
void tst_MonitorWidget::pausedRowsStayWhenOlderRowsGo()
{
    FakeFeed feed;
    pk::MonitorWidget widget;
    widget.setFeed(&feed);
    widget.model()->setMaxFinished(100);
    widget.resize(1024, 640);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
    QList<pk::TaskInfo> finished;
    for (quint64 id = 1; id <= 100; ++id)
        finished << finishedTask(id, 0, pk::TaskInfo::monotonicNowNsecs(), 1000, false);
    feed.sendSnapshot(queuedTasks(101, 100), finished);
    QTableView *view = widget.tableView();
    const QPoint middle = view->viewport()->rect().center();
    view->scrollTo(view->model()->index(150, 0), QAbstractItemView::PositionAtCenter);
    QTest::mouseMove(view->viewport(), middle);
    QTRY_VERIFY(followToolTip(widget).contains(QStringLiteral("pointer on the table")));
    const quint64 underPointer = view->indexAt(middle).data(pk::MonitorModel::IdRole).toULongLong();
    QVERIFY(underPointer > 100);

    // 50 more finished tasks: the 50 oldest go, above the viewport.
    QList<pk::TaskInfo> more;
    for (quint64 id = 201; id <= 250; ++id)
        more << finishedTask(id, 0, pk::TaskInfo::monotonicNowNsecs(), 1000, false);
    feed.sendUpdate(more, queuedCounts(100));
    QVERIFY(widget.model()->rowOf(1) < 0);
    QCOMPARE(view->indexAt(middle).data(pk::MonitorModel::IdRole).toULongLong(), underPointer);
}

void tst_MonitorWidget::singleKeyShortcuts_data()
{
    QTest::addColumn<int>("key");
    QTest::addColumn<QString>("property");
    QTest::newRow("Space freezes") << int(Qt::Key_Space) << QStringLiteral("frozen");
    QTest::newRow("F follows") << int(Qt::Key_F) << QStringLiteral("following");
}

// Space and F toggle their property from the table, and type into the filter instead.
void tst_MonitorWidget::singleKeyShortcuts()
{
    QFETCH(int, key);
    QFETCH(QString, property);
    ShownQueue shown(5);
    QVERIFY(activated(shown.widget));
    const QByteArray name = property.toLatin1();
    const bool before = shown.widget.property(name).toBool();
    press(shown.widget.tableView(), QKeySequence(key));
    QCOMPARE(shown.widget.property(name).toBool(), !before);
    QTest::keySequence(shown.widget.tableView(), QKeySequence(key));
    QCOMPARE(shown.widget.property(name).toBool(), before);

    auto *filter = child<QLineEdit>(shown.widget, "filterEdit");
    press(filter, QKeySequence(key));
    QCOMPARE(shown.widget.property(name).toBool(), before);
    QCOMPARE(filter->text().size(), 1);
}

// Ctrl+F goes to the filter; Esc clears it, then the selection; Del cancels the selected task
// from the table, and deletes a character in the filter.
void tst_MonitorWidget::filterAndCancelShortcuts()
{
    ShownQueue shown(5);
    QVERIFY(activated(shown.widget));
    QTableView *view = shown.widget.tableView();
    auto *filter = child<QLineEdit>(shown.widget, "filterEdit");
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {},
        view->visualRect(view->model()->index(2, 0)).center());
    QCOMPARE(shown.widget.selectedTaskId(), quint64(3));

    press(view, QKeySequence::Delete);
    QCOMPARE(shown.feed.cancelled, QList<quint64> { 3 });
    // Ctrl+click adds rows: Del cancels every one selected, the last clicked is the current.
    QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::ControlModifier,
        view->visualRect(view->model()->index(4, 0)).center());
    QCOMPARE(shown.widget.selectedTaskId(), quint64(5));
    shown.feed.cancelled.clear();
    press(view, QKeySequence::Delete);
    std::sort(shown.feed.cancelled.begin(), shown.feed.cancelled.end());
    QCOMPARE(shown.feed.cancelled, (QList<quint64> { 3, 5 }));
    shown.feed.cancelled = { 3 };
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {},
        view->visualRect(view->model()->index(2, 0)).center());
    QCOMPARE(view->selectionModel()->selectedRows().size(), 1);

    press(view, QKeySequence::Find);
    QVERIFY(filter->hasFocus());
    QTest::keyClicks(filter, QStringLiteral("job"));
    QTest::keyClick(filter, Qt::Key_Delete); // at the end: deletes nothing, cancels nothing
    QTest::keyClick(filter, Qt::Key_Home);
    QTest::keyClick(filter, Qt::Key_Delete);
    QCOMPARE(filter->text(), QStringLiteral("ob"));
    QCOMPARE(shown.feed.cancelled.size(), 1);
    QTest::keyClick(filter, Qt::Key_Escape);
    QVERIFY(filter->text().isEmpty());
    QCOMPARE(shown.widget.selectedTaskId(), quint64(3));
    QTest::keyClick(filter, Qt::Key_Escape);
    QCOMPARE(shown.widget.selectedTaskId(), quint64(0));
}

// Ctrl+C: the selected rows, tab-separated, under a header of the shown columns in view order;
// Ctrl+Shift+C: the details pane as plain text.
void tst_MonitorWidget::copyShortcuts()
{
    ShownMixedTasks shown;
    QVERIFY(activated(shown.widget));
    QTableView *view = shown.widget.tableView();
    QHeaderView *header = view->horizontalHeader();
    header->moveSection(header->visualIndex(pk::MonitorModel::StateColumn), 0);
    header->hideSection(pk::MonitorModel::QueuedAtColumn);
    shown.widget.selectTask(2); // failed: its error has a line break and quotes
    QGuiApplication::clipboard()->clear();
    press(view, QKeySequence::Copy);
    const QStringList lines = QGuiApplication::clipboard()->text().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 3); // header, row, and the final line break
    const QStringList head = lines.at(0).split(QLatin1Char('\t'));
    QCOMPARE(head.size(), pk::MonitorModel::ColumnCount - 1);
    QCOMPARE(head.at(0), QStringLiteral("State"));
    QCOMPARE(head.at(1), QStringLiteral("Id"));
    QVERIFY(!head.contains(QStringLiteral("Queued at")));
    const QStringList row = lines.at(1).split(QLatin1Char('\t'));
    QCOMPARE(row.size(), head.size());
    QCOMPARE(row.at(0), QStringLiteral("Failed"));
    QCOMPARE(row.at(1), QStringLiteral("2"));
    // The cells as the table shows them (an error's first line).
    QCOMPARE(row.at(head.indexOf(QStringLiteral("Error"))),
        view->currentIndex().siblingAtColumn(pk::MonitorModel::ErrorColumn).data().toString());

    QGuiApplication::clipboard()->clear();
    press(view, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    const QString details = QGuiApplication::clipboard()->text();
    QCOMPARE(details, child<QTextBrowser>(shown.widget, "details")->toPlainText());
    QVERIFY(details.contains(QStringLiteral("say \"hi\"")));
    QVERIFY(details.contains(QStringLiteral("at line 12")));

    // Shift+click extends the selection: every row between, in the table's order.
    const QModelIndex first = view->currentIndex();
    const QModelIndex last = first.sibling(first.row() + 2, 0);
    QTest::mouseClick(
        view->viewport(), Qt::LeftButton, Qt::ShiftModifier, view->visualRect(last).center());
    QCOMPARE(view->selectionModel()->selectedRows().size(), 3);
    QGuiApplication::clipboard()->clear();
    press(view, QKeySequence::Copy);
    const QStringList three = QGuiApplication::clipboard()->text().split(QLatin1Char('\n'));
    QCOMPARE(three.size(), 5);
    QCOMPARE(three.at(0), lines.at(0));
    QCOMPARE(three.at(1), lines.at(1));
    for (int i = 0; i < 3; ++i) {
        const QString id
            = first.sibling(first.row() + i, pk::MonitorModel::IdColumn).data().toString();
        QCOMPARE(three.at(1 + i).split(QLatin1Char('\t')).at(1), id);
    }
}

// keyboardHelp() names every shortcut the widget has, and the "?" button shows it.
void tst_MonitorWidget::keyboardHelpListsTheShortcuts()
{
    pk::MonitorWidget widget;
    const QString help = widget.keyboardHelp();
    int shortcuts = 0;
    for (const QAction *action : widget.actions()) {
        if (action->shortcut().isEmpty())
            continue;
        ++shortcuts;
        QCOMPARE(action->shortcutContext(), Qt::WidgetWithChildrenShortcut);
        QVERIFY2(help.contains(action->shortcut().toString(QKeySequence::NativeText)),
            qPrintable(action->objectName()));
        QVERIFY(help.contains(action->text().toHtmlEscaped()));
    }
    QCOMPARE(shortcuts, 7);
    // The controls' tooltips name their keys too.
    QVERIFY(
        child<QToolButton>(widget, "freezeButton")->toolTip().endsWith(QStringLiteral("(Space)")));
    QVERIFY(child<QToolButton>(widget, "followButton")->toolTip().endsWith(QStringLiteral("(F)")));
    QVERIFY(child<QLineEdit>(widget, "filterEdit")->toolTip().endsWith(QStringLiteral("(Ctrl+F)")));
    QCOMPARE(child<QToolButton>(widget, "keyboardHelpButton")->toolTip(), help);
}

// At 1024×640 every control reads fully and is inside the widget, every column is on screen,
// the details pane takes room only with a selection, and a sort starts from the top.
void tst_MonitorWidget::layoutAt1024x640()
{
    ShownMixedTasks shown;
    shown.widget.resize(1024, 640);
    QVERIFY(QTest::qWaitForWindowExposed(&shown.widget));
    QTRY_COMPARE(shown.widget.size(), QSize(1024, 640));
    QList<QWidget *> controls;
    for (QToolButton *button : shown.widget.findChildren<QToolButton *>()) {
        if (button->objectName().startsWith(QLatin1String("stateChip_")))
            controls << button;
    }
    QCOMPARE(controls.size(), 6);
    for (const char *name :
        { "continuationsButton", "followButton", "freezeButton", "cancelTaskButton",
            "cancelAllButton", "exportButton", "keyboardHelpButton", "keeperFilter", "filterEdit" })
        controls << child<QWidget>(shown.widget, name);
    for (QWidget *control : std::as_const(controls)) {
        QVERIFY2(control->isVisible(), qPrintable(control->objectName()));
        QVERIFY2(control->width() >= control->sizeHint().width()
                || control->objectName() == QLatin1String("filterEdit"),
            qPrintable(control->objectName()));
        const QRect inWidget(control->mapTo(&shown.widget, QPoint(0, 0)), control->size());
        QVERIFY2(shown.widget.rect().contains(inWidget), qPrintable(control->objectName()));
    }

    auto *details = child<QTextBrowser>(shown.widget, "details");
    QTableView *view = shown.widget.tableView();
    QCOMPARE(shown.widget.selectedTaskId(), quint64(0));
    QVERIFY(!details->isVisible());
    const QHeaderView *header = view->horizontalHeader();
    for (int column = 0; column < pk::MonitorModel::ColumnCount; ++column) {
        QVERIFY2(header->sectionViewportPosition(column) + header->sectionSize(column)
                <= view->viewport()->width(),
            qPrintable(view->model()->headerData(column, Qt::Horizontal).toString()));
    }
    shown.widget.selectTask(6);
    QTRY_VERIFY(details->isVisible());
    QVERIFY(details->width() > 200);
    shown.widget.selectTask(0);
    QVERIFY(!details->isVisible());
}

void tst_MonitorWidget::sortScrollsToTheTop()
{
    ShownQueue shown(300);
    QVERIFY(QTest::qWaitForWindowExposed(&shown.widget));
    shown.widget.setFollowing(false);
    QTableView *view = shown.widget.tableView();
    QScrollBar *scrollBar = view->verticalScrollBar();
    QTRY_VERIFY(scrollBar->maximum() > 0);
    view->scrollToBottom();
    QTRY_COMPARE(scrollBar->value(), scrollBar->maximum());
    QHeaderView *header = view->horizontalHeader();
    const auto clickHeader = [header](int column) {
        QTest::mouseClick(header->viewport(), Qt::LeftButton, {},
            QPoint(header->sectionViewportPosition(column) + header->sectionSize(column) / 2,
                header->height() / 2));
    };
    clickHeader(pk::MonitorModel::TitleColumn);
    QCOMPARE(header->sortIndicatorSection(), int(pk::MonitorModel::TitleColumn));
    QCOMPARE(scrollBar->value(), 0);

    // With a selection, the sort keeps its row in view instead.
    shown.widget.selectTask(150);
    clickHeader(pk::MonitorModel::IdColumn);
    const QRect row = view->visualRect(view->currentIndex());
    QVERIFY(view->viewport()->rect().contains(row));
    QCOMPARE(view->currentIndex().data(pk::MonitorModel::IdRole).toULongLong(), quint64(150));
}

void tst_MonitorWidget::darkPalette_data()
{
    QTest::addColumn<bool>("dark");
    QTest::newRow("light") << false;
    QTest::newRow("dark") << true;
}

// The banner and the chips follow the palette, set before or after the widget is made.
void tst_MonitorWidget::darkPalette()
{
    QFETCH(bool, dark);
    FakeFeed feed;
    feed.liveFeed = false; // a recording: the banner shows
    pk::MonitorWidget widget;
    widget.setFeed(&feed);
    QPalette palette = widget.palette();
    const QColor window = dark ? QColor(0x2b, 0x2d, 0x31) : QColor(0xef, 0xef, 0xef);
    palette.setColor(QPalette::Window, window);
    palette.setColor(QPalette::WindowText, dark ? QColor(0xe6, 0xe6, 0xe6) : Qt::black);
    widget.setPalette(palette);
    widget.resize(1024, 640);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));

    auto *banner = child<QFrame>(widget, "connectionBanner");
    auto *bannerText = child<QLabel>(widget, "connectionBannerText");
    QVERIFY(banner->isVisible());
    const QImage bannerImage = banner->grab().toImage();
    const QColor bannerBackground = bannerImage.pixelColor(bannerImage.width() - 4, 4);
    const QColor bannerColor = bannerText->palette().color(QPalette::WindowText);
    // The text stands out from the banner, and the banner is not a glaring box on dark.
    QVERIFY(std::abs(bannerColor.lightness() - bannerBackground.lightness()) > 120);
    QCOMPARE(bannerBackground.lightness() < 128, dark);

    // A chip on is filled (its background unlike the window's), a chip off is not.
    auto *chip = child<QToolButton>(widget, "stateChip_Running");
    // From the widget's picture: a chip's own grab() would not show what is behind it.
    const auto background = [&widget, chip] {
        const QImage image = widget.grab().toImage();
        return image.pixelColor(
            chip->mapTo(&widget, QPoint(chip->width() - 3, chip->height() / 2)));
    };
    QVERIFY(chip->isChecked());
    const QColor on = background();
    chip->click();
    QVERIFY(!chip->isChecked());
    const QColor off = background();
    QVERIFY(std::abs(off.lightness() - window.lightness()) < 10);
    QVERIFY(on != off);
    QVERIFY(on.hslHue() >= 190 && on.hslHue() <= 230); // Running's blue
}

// The table's cells are drawn from the model's roles: the text, its colour and alignment, and
// the selection's colours.
void tst_MonitorWidget::tableCellsShowTheirRoles()
{
    ShownMixedTasks shown;
    QTableView *view = shown.widget.tableView();
    QVERIFY(QTest::qWaitForWindowExposed(&shown.widget));
    const QAbstractItemModel *model = view->model();
    const auto rowOf = [model](quint64 id) {
        for (int row = 0; row < model->rowCount(); ++row) {
            if (model->index(row, 0).data(pk::MonitorModel::IdRole).toULongLong() == id)
                return row;
        }
        return -1;
    };
    // The pixels of a cell's rectangle, inside its borders, that are near a colour.
    const auto inked = [view](const QImage &image, const QRect &rect, const QColor &color) {
        int n = 0;
        for (int y = rect.top() + 1; y < rect.bottom(); ++y) {
            for (int x = rect.left() + 1; x < rect.right(); ++x) {
                const QColor c = image.pixelColor(x, y);
                if (std::abs(c.red() - color.red()) + std::abs(c.green() - color.green())
                        + std::abs(c.blue() - color.blue())
                    < 60)
                    ++n;
            }
        }
        return n;
    };
    const QPalette palette = view->palette();
    const int failed = rowOf(2);
    const int succeeded = rowOf(1);
    QVERIFY(failed >= 0 && succeeded >= 0);
    const QModelIndex error = model->index(failed, pk::MonitorModel::ErrorColumn);
    const QColor red = error.data(Qt::ForegroundRole).value<QBrush>().color();
    QImage image = view->viewport()->grab().toImage();
    QVERIFY(inked(image, view->visualRect(error), red) > 3);
    const QModelIndex title = model->index(succeeded, pk::MonitorModel::TitleColumn);
    QCOMPARE(inked(image, view->visualRect(title), red), 0);
    QVERIFY(inked(image, view->visualRect(title), palette.color(QPalette::Text)) > 3);
    // Ids are right-aligned: their ink is in the cell's right half.
    QRect id = view->visualRect(model->index(succeeded, pk::MonitorModel::IdColumn));
    QVERIFY(inked(image, id.adjusted(id.width() / 2, 0, 0, 0), palette.color(QPalette::Text)) > 3);
    QCOMPARE(inked(image, id.adjusted(0, 0, -id.width() / 2, 0), palette.color(QPalette::Text)), 0);

    // Selected: the highlight behind it, its text in the highlighted text's colour.
    shown.widget.selectTask(1);
    image = view->viewport()->grab().toImage();
    id = view->visualRect(model->index(succeeded, pk::MonitorModel::IdColumn));
    const QPalette::ColorGroup group
        = view->isActiveWindow() ? QPalette::Active : QPalette::Inactive;
    QCOMPARE(image.pixelColor(id.left() + 2, id.top() + 2).rgb(),
        palette.color(group, QPalette::Highlight).rgb());
    QVERIFY(inked(image, id, palette.color(group, QPalette::HighlightedText)) > 3);
}

QTEST_MAIN(tst_MonitorWidget)
#include "tst_monitorwidget.moc"
