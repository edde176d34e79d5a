// The monitor's timeline and chart by hand, on the offscreen platform: hovering a bar shows its
// task, a click selects it in the table and the table's selection is outlined on the timeline;
// the axis stands still and reads clock times while paused, with no label over another; busy
// workers whose tasks were not received in detail are drawn busy from the counts; the chart's
// axis reads in one unit; the time range control sets both views.
#include "throughputchart_p.h"
#include "timelineview_p.h"

#include <pk/monitorfeed.h>
#include <pk/monitorfiltermodel.h>
#include <pk/monitormodel.h>
#include <pk/monitorwidget.h>

#include <QtCore/QRegularExpression>
#include <QtGui/QHelpEvent>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <QtWidgets/QApplication>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QTableView>
#include <QtWidgets/QToolTip>

using pk::KeeperStatus;
using pk::TaskInfo;
using pk::TaskState;
using pk::monitor::ThroughputChart;
using pk::monitor::TimelineView;

namespace {

constexpr qint64 kSec = 1000LL * 1000 * 1000;

// All times of a test are offsets from one origin a minute in the past, so that none is in the
// future of the monotonic clock and each test says exactly where its bars are.
qint64 origin()
{
    static const qint64 t = TaskInfo::monotonicNowNsecs() - 60 * kSec;
    return t;
}

TaskInfo task(quint64 id, const QString &title, int worker, TaskState state, double queuedS,
    double startedS, double finishedS = 0)
{
    TaskInfo info;
    info.setId(id);
    info.setTitle(title);
    info.setKeeperName(QStringLiteral("images"));
    info.setWorkerIndex(worker);
    info.setState(state);
    info.setQueuedAtNsecs(origin() + qint64(queuedS * double(kSec)));
    info.setStartedAtNsecs(origin() + qint64(startedS * double(kSec)));
    if (finishedS > 0)
        info.setFinishedAtNsecs(origin() + qint64(finishedS * double(kSec)));
    return info;
}

KeeperStatus keeper(int threads, qint64 running)
{
    KeeperStatus status { QStringLiteral("images"), threads, {} };
    status.counts.running = running;
    return status;
}

// Three tasks on two workers of "images", and one running.
QList<TaskInfo> sampleTasks()
{
    return { task(1, QStringLiteral("decode img-001"), 0, TaskState::Succeeded, 0.5, 1, 4),
        task(2, QStringLiteral("resize img-002"), 1, TaskState::Failed, 1, 2, 5),
        task(3, QStringLiteral("upload img-003"), 0, TaskState::Succeeded, 4, 5, 8),
        task(4, QStringLiteral("encode img-004"), 1, TaskState::Running, 5, 6) };
}

// A feed that sends what a test tells it to.
class ScriptedFeed : public pk::MonitorFeed
{
public:
    bool isConnected() const override { return true; }
    QString sourceName() const override { return QStringLiteral("scripted"); }
    void cancelTask(quint64) override { }
    void cancelAll() override { }
    QList<KeeperStatus> keepers() const override { return keeperList; }
    void send(const QList<TaskInfo> &tasks, const pk::TaskCounts &counts, quint64 dropped = 0)
    {
        Q_EMIT updated(tasks, counts, 2, dropped);
    }
    QList<KeeperStatus> keeperList { keeper(2, 0) };
};

void showAt(QWidget &widget, QSize size)
{
    widget.resize(size);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
}

QString toolTipFor(QWidget *widget, QPoint pos)
{
    QTest::mouseMove(widget, pos);
    QHelpEvent help(QEvent::ToolTip, pos, widget->mapToGlobal(pos));
    QApplication::sendEvent(widget, &help);
    return QToolTip::text();
}

} // namespace

class tst_Timeline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void hoverShowsTheTask_data();
    void hoverShowsTheTask();
    void clickSelectsInTheTable();
    void dragDoesNotSelect();
    void selectionIsOutlined();
    void titlesOnlyInWideBars();
    void nestedTaskDrawnInsideItsWaiter_data();
    void nestedTaskDrawnInsideItsWaiter();
    void pausedAxisStandsStill();
    void pausedAxisReadsClockTimes_data();
    void pausedAxisReadsClockTimes();
    void labelsDoNotOverlap_data();
    void labelsDoNotOverlap();
    void countsShowBusyLanes_data();
    void countsShowBusyLanes();
    void busyLanesEndWithTheCounts();
    void droppedDetailDrawnBusyInTheMonitor();
    void chartAxisInOneUnit_data();
    void chartAxisInOneUnit();
    void timeRangeSetsBothViews();

private:
    std::unique_ptr<pk::MonitorModel> m_model;
    std::unique_ptr<TimelineView> m_view;
};

void tst_Timeline::init()
{
    m_model = std::make_unique<pk::MonitorModel>();
    m_model->applyChanges(sampleTasks());
    m_view = std::make_unique<TimelineView>();
    m_view->setKeepers({ keeper(2, 1) });
    m_view->setModel(m_model.get());
    m_view->addTasks(sampleTasks());
    // One the table does not have (evicted, or come while it was frozen).
    m_view->addTasks(
        { task(10, QStringLiteral("late thumbnail"), 0, TaskState::Succeeded, 8, 8.2, 8.8) });
    // Pinned to [0 s, 10 s], with "now" at 9 s: nothing in the test depends on the clock.
    m_view->setSourceGoneAt(origin() + 9 * kSec);
    m_view->showRange(origin(), origin() + 10 * kSec);
    showAt(*m_view, { 900, 240 });
}

void tst_Timeline::cleanup()
{
    QToolTip::hideText();
    m_view.reset();
    m_model.reset();
}

void tst_Timeline::hoverShowsTheTask_data()
{
    QTest::addColumn<quint64>("id");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("succeeded") << quint64(1)
                               << QStringList { QStringLiteral("decode img-001"),
                                      QStringLiteral("images · worker 0"),
                                      QStringLiteral("Succeeded"), QStringLiteral("500 ms"),
                                      QStringLiteral("3.00 s") };
    QTest::newRow("failed") << quint64(2)
                            << QStringList { QStringLiteral("resize img-002"),
                                   QStringLiteral("images · worker 1"), QStringLiteral("Failed"),
                                   QStringLiteral("1.00 s"), QStringLiteral("3.00 s") };
    QTest::newRow("running") << quint64(4)
                             << QStringList { QStringLiteral("encode img-004"),
                                    QStringLiteral("Running"), QStringLiteral("so far") };
    QTest::newRow("not in the table")
        << quint64(10)
        << QStringList { QStringLiteral("late thumbnail"), QStringLiteral("images · worker 0"),
               QStringLiteral("finished (not in the table)"), QStringLiteral("600 ms") };
}

void tst_Timeline::hoverShowsTheTask()
{
    QFETCH(quint64, id);
    QFETCH(QStringList, expected);
    QRect bar = m_view->taskRect(id);
    if (id == 10) {
        // Without the table's times the view cannot say where the bar is: at 8.2 to 8.8 s,
        // after task 3's (5 to 8 s) on the same lane.
        QVERIFY(bar.isEmpty());
        const QRect before = m_view->taskRect(3);
        bar = QRect(before.right() + before.width() / 15, before.top(), before.width() / 5,
            before.height());
    }
    QVERIFY(!bar.isEmpty());
    QCOMPARE(m_view->taskAt(bar.center()), id);
    const QString text = toolTipFor(m_view.get(), bar.center());
    QTRY_VERIFY(QToolTip::isVisible());
    for (const QString &part : expected)
        QVERIFY2(text.contains(part), qPrintable(part + QStringLiteral(" not in ") + text));
    QVERIFY(!text.contains(QStringLiteral("Wheel")));

    // Where there is no bar: the help text.
    const QPoint empty(bar.left() - 1, m_view->height() - 2);
    QCOMPARE(m_view->taskAt(empty), quint64(0));
    QVERIFY(toolTipFor(m_view.get(), empty).contains(QStringLiteral("Wheel")));
}

void tst_Timeline::clickSelectsInTheTable()
{
    ScriptedFeed feed;
    pk::MonitorWidget monitor;
    monitor.setFeed(&feed);
    feed.send(sampleTasks(), pk::TaskCounts {});
    showAt(monitor, { 1400, 900 });
    auto *timeline = monitor.findChild<TimelineView *>(QStringLiteral("timeline"));
    QVERIFY(timeline);
    timeline->setSourceGoneAt(origin() + 9 * kSec);
    timeline->showRange(origin(), origin() + 10 * kSec);
    QSignalSpy clicked(timeline, &TimelineView::taskClicked);
    QSignalSpy selected(&monitor, &pk::MonitorWidget::selectedTaskChanged);
    QVERIFY(clicked.isValid() && selected.isValid());

    const QRect bar = timeline->taskRect(3);
    QVERIFY(!bar.isEmpty());
    QTest::mouseClick(timeline, Qt::LeftButton, {}, bar.center());
    QCOMPARE(clicked.count(), 1);
    QCOMPARE(clicked.at(0).at(0).toULongLong(), quint64(3));
    QCOMPARE(monitor.selectedTaskId(), quint64(3));
    QCOMPARE(selected.count(), 1);
    const QModelIndex current = monitor.tableView()->currentIndex();
    QCOMPARE(current.data(pk::MonitorModel::IdRole).toULongLong(), quint64(3));
    // ...and the timeline outlines it.
    QCOMPARE(timeline->selectedTask(), quint64(3));
    QVERIFY(timeline->isSelectionShown());

    // The other way: a click on a row of the table outlines that task's bar.
    QTableView *table = monitor.tableView();
    const QModelIndex row = table->model()->index(
        monitor.filterModel()->mapFromSource(monitor.model()->indexOf(2)).row(), 1);
    QVERIFY(row.isValid());
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(row).center());
    QCOMPARE(monitor.selectedTaskId(), quint64(2));
    QCOMPARE(timeline->selectedTask(), quint64(2));
    QVERIFY(timeline->isSelectionShown());
    QCOMPARE(clicked.count(), 1);
}

void tst_Timeline::dragDoesNotSelect()
{
    QSignalSpy clicked(m_view.get(), &TimelineView::taskClicked);
    const QRect bar = m_view->taskRect(1);
    const qint64 end = m_view->endTime();
    QTest::mousePress(m_view.get(), Qt::LeftButton, {}, bar.center());
    QTest::mouseMove(m_view.get(), bar.center() + QPoint(60, 0));
    QTest::mouseRelease(m_view.get(), Qt::LeftButton, {}, bar.center() + QPoint(60, 0));
    QCOMPARE(clicked.count(), 0);
    QVERIFY(m_view->endTime() < end); // it panned instead
}

void tst_Timeline::selectionIsOutlined()
{
    QVERIFY(!m_view->isSelectionShown());
    m_view->setSelectedTask(2);
    QVERIFY(m_view->isSelectionShown());
    // The outline is drawn in the palette's highlight colour around the bar.
    const QImage image = m_view->grab().toImage();
    const QRect bar = m_view->taskRect(2);
    const QColor highlight = m_view->palette().color(QPalette::Highlight);
    QCOMPARE(image.pixelColor(bar.left() - 2, bar.center().y()).rgb(), highlight.rgb());
    // Out of view: no outline.
    m_view->showRange(origin() + 20 * kSec, origin() + 30 * kSec);
    QVERIFY(!m_view->isSelectionShown());
    m_view->setSelectedTask(0);
    QVERIFY(!m_view->isSelectionShown());
}

void tst_Timeline::titlesOnlyInWideBars()
{
    // 3 s of 10 s over ~800 px: wide enough. Sampled from the bar: white title pixels in it.
    const auto hasText = [&](quint64 id) {
        const QImage image = m_view->grab().toImage();
        const QRect bar = m_view->taskRect(id);
        for (int x = bar.left(); x <= bar.right(); ++x) {
            for (int y = bar.top(); y <= bar.bottom(); ++y) {
                if (image.pixelColor(x, y).lightness() > 230)
                    return true;
            }
        }
        return false;
    };
    QVERIFY(hasText(1));
    // Zoomed out to 10 min, the same bar is a few pixels: no title.
    m_view->showRange(origin() - 590 * kSec, origin() + 10 * kSec);
    QVERIFY(m_view->taskRect(1).width() < 10);
    QVERIFY(!hasText(1));
}

void tst_Timeline::nestedTaskDrawnInsideItsWaiter_data()
{
    // Outer (id 20) runs 1 to 8 s on worker 0 and waits; its worker runs inner (21) from 3 to
    // 5 s meanwhile. The changes come as they happen, or finished (a snapshot), in either order.
    QTest::addColumn<bool>("live");
    QTest::addColumn<bool>("innerFirst");
    QTest::newRow("live") << true << true;
    QTest::newRow("snapshot, inner first") << false << true;
    QTest::newRow("snapshot, outer first") << false << false;
}

void tst_Timeline::nestedTaskDrawnInsideItsWaiter()
{
    QFETCH(bool, live);
    QFETCH(bool, innerFirst);
    const TaskInfo outerRunning = task(20, QStringLiteral("outer"), 0, TaskState::Running, 0.5, 1);
    const TaskInfo innerRunning = task(21, QStringLiteral("inner"), 0, TaskState::Running, 2, 3);
    const TaskInfo outerDone
        = task(20, QStringLiteral("outer"), 0, TaskState::Succeeded, 0.5, 1, 8);
    const TaskInfo innerDone = task(21, QStringLiteral("inner"), 0, TaskState::Succeeded, 2, 3, 5);
    pk::MonitorModel model;
    TimelineView view;
    view.setKeepers({ keeper(1, 0) });
    view.setModel(&model);
    view.setSourceGoneAt(origin() + 9 * kSec);
    view.showRange(origin(), origin() + 10 * kSec);
    showAt(view, { 900, 160 });
    const auto give = [&](const TaskInfo &info) {
        model.applyChanges({ info });
        view.addTasks({ info });
    };
    // Inside: the inner bar is a band within the outer's, and each is found where it shows.
    const auto checkNested = [&] {
        const QRect outer = view.taskRect(20);
        const QRect inner = view.taskRect(21);
        QVERIFY(!outer.isEmpty() && !inner.isEmpty());
        QVERIFY2(
            outer.contains(inner) && inner.top() > outer.top() && inner.width() < outer.width(),
            qPrintable(QStringLiteral("inner %1,%2 %3x%4 in outer %5,%6 %7x%8")
                           .arg(inner.x())
                           .arg(inner.y())
                           .arg(inner.width())
                           .arg(inner.height())
                           .arg(outer.x())
                           .arg(outer.y())
                           .arg(outer.width())
                           .arg(outer.height())));
        QCOMPARE(view.taskAt(inner.center()), quint64(21));
        const QPoint outerOnly(
            outer.left() + (inner.left() - outer.left()) / 2, outer.center().y());
        QCOMPARE(view.taskAt(outerOnly), quint64(20));
        // Both show: the band is not the outer bar's colour.
        const QImage image = view.grab().toImage();
        QVERIFY(image.pixelColor(inner.center()) != image.pixelColor(outerOnly));
    };
    if (live) {
        give(outerRunning);
        give(innerRunning);
        checkNested();
        if (QTest::currentTestFailed())
            return;
        give(innerDone); // the outer runs on
        checkNested();
        if (QTest::currentTestFailed())
            return;
        give(outerDone);
    } else if (innerFirst) {
        give(innerDone);
        give(outerDone);
    } else {
        give(outerDone);
        give(innerDone);
    }
    checkNested();
    QCOMPARE(view.barCount(), std::size_t(2));
}

void tst_Timeline::pausedAxisStandsStill()
{
    // Following: the view moves with "now".
    m_view->setFollowingNow(true);
    QCOMPARE(m_view->endTime(), origin() + 9 * kSec);
    m_view->setFollowingNow(false);
    const qint64 end = m_view->endTime();
    const QList<TimelineView::AxisLabel> labels = m_view->axisLabels();
    QVERIFY(!labels.isEmpty());
    // Time passes (the source's "now" moves on): the paused view and its labels do not.
    m_view->setSourceGoneAt(origin() + 14 * kSec);
    m_view->addTasks({ task(9, QStringLiteral("late"), 0, TaskState::Succeeded, 9, 10, 13) });
    QCOMPARE(m_view->endTime(), end);
    const QList<TimelineView::AxisLabel> after = m_view->axisLabels();
    QCOMPARE(after.size(), labels.size());
    for (qsizetype i = 0; i < labels.size(); ++i) {
        QCOMPARE(after[i].time, labels[i].time);
        QCOMPARE(after[i].text, labels[i].text);
    }
    m_view->setFollowingNow(true);
    QCOMPARE(m_view->endTime(), origin() + 14 * kSec);
}

void tst_Timeline::pausedAxisReadsClockTimes_data()
{
    QTest::addColumn<double>("spanS");
    QTest::addColumn<bool>("following");
    QTest::addColumn<QString>("pattern");
    QTest::newRow("paused, 10 s") << 10.0 << false << QStringLiteral("^\\d\\d:\\d\\d:\\d\\d$");
    QTest::newRow("paused, 5 min") << 300.0 << false << QStringLiteral("^\\d\\d:\\d\\d:\\d\\d$");
    QTest::newRow("paused, 0.5 s")
        << 0.5 << false << QStringLiteral("^\\d\\d:\\d\\d:\\d\\d\\.\\d\\d\\d$");
    QTest::newRow("paused, 2 ms") << 0.002 << false
                                  << QStringLiteral("^\\d\\d:\\d\\d:\\d\\d\\.\\d{6}$");
    QTest::newRow("following, 10 s") << 10.0 << true << QStringLiteral("^(now|-\\d+ s)$");
}

void tst_Timeline::pausedAxisReadsClockTimes()
{
    QFETCH(double, spanS);
    QFETCH(bool, following);
    QFETCH(QString, pattern);
    m_view->setSpan(qint64(spanS * double(kSec)));
    m_view->setFollowingNow(following);
    const QList<TimelineView::AxisLabel> labels = m_view->axisLabels();
    QVERIFY(labels.size() >= 2);
    const QRegularExpression re(pattern);
    for (const TimelineView::AxisLabel &label : labels) {
        QVERIFY2(re.match(label.text).hasMatch(), qPrintable(label.text));
        if (!following) {
            // The label is the wall-clock time of its tick, as the table shows times (which
            // are known to the millisecond: a label of microseconds may be one ahead).
            const QTime shown = QTime::fromString(label.text.left(label.text.size() == 8 ? 8 : 12),
                label.text.size() == 8 ? QStringLiteral("HH:mm:ss")
                                       : QStringLiteral("HH:mm:ss.zzz"));
            const int ahead = shown.msecsTo(TaskInfo::toDateTime(label.time).time());
            QVERIFY2(ahead >= 0 && ahead <= 1, qPrintable(label.text));
        }
    }
}

void tst_Timeline::labelsDoNotOverlap_data()
{
    QTest::addColumn<int>("width");
    QTest::addColumn<double>("spanS");
    QTest::addColumn<bool>("following");
    for (const int width : { 260, 480, 900, 1600 }) {
        for (const double span : { 0.003, 0.7, 10.0, 73.0, 300.0 }) {
            for (const bool following : { false, true }) {
                QTest::addRow("%d px, %g s, %s", width, span, following ? "following" : "paused")
                    << width << span << following;
            }
        }
    }
}

void tst_Timeline::labelsDoNotOverlap()
{
    QFETCH(int, width);
    QFETCH(double, spanS);
    QFETCH(bool, following);
    m_view->resize(width, 200);
    const qint64 span = qint64(spanS * double(kSec));
    // Paused, where the ticks fall depends on the wall clock: the window is moved through a
    // whole span in steps, so that a tick comes at each edge (one at the left edge was dropped,
    // leaving no label at all when the step was the span).
    const int phases = following ? 1 : 16;
    for (int phase = 0; phase < phases; ++phase) {
        if (!following)
            m_view->showRange(
                origin() - span + phase * span / phases, origin() + phase * span / phases);
        m_view->setSpan(span);
        m_view->setFollowingNow(following);
        const QRect note = m_view->noteRect();
        // Paused (and the source gone): the notes say so, in a place of their own.
        QVERIFY(!note.isEmpty());
        QVERIFY(m_view->rect().contains(note));
        QVERIFY(m_view->noteText().contains(QStringLiteral("paused")) != following);
        const QList<TimelineView::AxisLabel> labels = m_view->axisLabels();
        QVERIFY2(!labels.isEmpty(), qPrintable(QString::number(phase)));
        for (qsizetype i = 0; i < labels.size(); ++i) {
            QVERIFY(m_view->rect().contains(labels[i].rect));
            QVERIFY2(!labels[i].rect.intersects(note), qPrintable(labels[i].text));
            for (qsizetype j = i + 1; j < labels.size(); ++j)
                QVERIFY2(!labels[i].rect.intersects(labels[j].rect),
                    qPrintable(labels[i].text + QStringLiteral(" / ") + labels[j].text));
        }
    }
}

void tst_Timeline::countsShowBusyLanes_data()
{
    QTest::addColumn<int>("threads");
    QTest::addColumn<qint64>("running");
    QTest::addColumn<bool>("oneDetailed"); // worker 0 has a running task received in detail
    QTest::addColumn<QList<int>>("busyLanes");
    QTest::newRow("3 running, none in detail") << 4 << qint64(3) << false << QList<int> { 0, 1, 2 };
    QTest::newRow("3 running, 1 in detail") << 4 << qint64(3) << true << QList<int> { 1, 2 };
    QTest::newRow("more than the threads")
        << 4 << qint64(900) << false << QList<int> { 0, 1, 2, 3 };
    QTest::newRow("negative count") << 4 << qint64(-5) << false << QList<int> {};
    QTest::newRow("all in detail") << 4 << qint64(1) << true << QList<int> {};
}

void tst_Timeline::countsShowBusyLanes()
{
    QFETCH(int, threads);
    QFETCH(qint64, running);
    QFETCH(bool, oneDetailed);
    QFETCH(QList<int>, busyLanes);
    TimelineView view;
    view.setKeepers({ keeper(threads, running) });
    view.setSourceGoneAt(origin() + 9 * kSec);
    view.showRange(origin(), origin() + 10 * kSec);
    if (oneDetailed)
        view.addTasks({ task(5, QStringLiteral("known"), 0, TaskState::Running, 1, 2) });
    // Complete detail: the bars are the truth, the counts are not drawn.
    view.setOccupancy(origin() + 3 * kSec, { keeper(threads, running) }, 0);
    QCOMPARE(view.aggregatedLaneCount(QStringLiteral("images")), 0);
    // Detail dropped: the counts are.
    view.setOccupancy(origin() + 3 * kSec, { keeper(threads, running) }, 100);
    QCOMPARE(view.aggregatedLaneCount(QStringLiteral("images")), int(busyLanes.size()));
    for (int lane = 0; lane < threads; ++lane) {
        QCOMPARE(view.isAggregatedAt(lane, origin() + 5 * kSec), busyLanes.contains(lane));
        QVERIFY(!view.isAggregatedAt(lane, origin() + 2 * kSec)); // before the counts said so
    }
    QCOMPARE(view.noteText().contains(QStringLiteral("aggregated")), !busyLanes.isEmpty());

    // Drawn: at 6 s, each busy lane is painted, each idle one is background.
    showAt(view, { 900, 260 });
    const QImage image = view.grab().toImage();
    const QColor base = view.palette().color(QPalette::Base);
    const QColor alternate = view.palette().color(QPalette::AlternateBase);
    for (int lane = oneDetailed ? 1 : 0; lane < threads; ++lane) {
        const QRect rect = view.laneRect(lane);
        const int x = rect.left() + int(0.6 * rect.width());
        int painted = 0;
        for (int y = rect.top(); y <= rect.bottom(); ++y) {
            const QColor c = image.pixelColor(x, y);
            painted += c != base && c != alternate;
        }
        // ...and says so when pointed at.
        QCOMPARE(view.toolTipAt({ x, rect.center().y() }).contains(QStringLiteral("aggregated")),
            busyLanes.contains(lane));
        QVERIFY2((painted > rect.height() / 2) == busyLanes.contains(lane),
            qPrintable(
                QStringLiteral("lane %1: %2 of %3 px").arg(lane).arg(painted).arg(rect.height())));
    }
}

void tst_Timeline::busyLanesEndWithTheCounts()
{
    TimelineView view;
    view.setKeepers({ keeper(4, 3) });
    view.setSourceGoneAt(origin() + 9 * kSec);
    view.setOccupancy(origin() + 1 * kSec, { keeper(4, 3) }, 10);
    view.setOccupancy(origin() + 2 * kSec, { keeper(4, 3) }, 0); // still incomplete
    view.setOccupancy(origin() + 3 * kSec, { keeper(4, 1) }, 0);
    QCOMPARE(view.aggregatedLaneCount(QStringLiteral("images")), 1);
    // One stretch per lane, not one per batch; the lanes past the count closed at 3 s.
    QVERIFY(view.isAggregatedAt(0, origin() + 3 * kSec / 2));
    QVERIFY(view.isAggregatedAt(0, origin() + 5 * kSec));
    QVERIFY(view.isAggregatedAt(2, origin() + 5 * kSec / 2));
    QVERIFY(!view.isAggregatedAt(2, origin() + 4 * kSec));
    // A keeper the view does not know is ignored.
    view.setOccupancy(
        origin() + 4 * kSec, { { QStringLiteral("other"), 8, { 0, 0, 8, 0, 0, 0 } } }, 10);
    QCOMPARE(view.aggregatedLaneCount(QStringLiteral("other")), 0);
    // Counts that agree with the bars again close every stretch; from then on, counts of a
    // batch with whole detail are not drawn.
    view.setOccupancy(origin() + 5 * kSec, { keeper(4, 0) }, 0);
    QVERIFY(!view.isAggregatedAt(0, origin() + 6 * kSec));
    view.setOccupancy(origin() + 6 * kSec, { keeper(4, 2) }, 0);
    QCOMPARE(view.aggregatedLaneCount(QStringLiteral("images")), 0);
    QVERIFY(!view.isAggregatedAt(0, origin() + 7 * kSec));
}

void tst_Timeline::droppedDetailDrawnBusyInTheMonitor()
{
    ScriptedFeed feed;
    feed.keeperList = { keeper(2, 2) };
    pk::MonitorWidget monitor;
    monitor.setFeed(&feed);
    pk::TaskCounts counts;
    counts.running = 2;
    feed.send({}, counts, 5000);
    const auto *timeline = monitor.findChild<TimelineView *>(QStringLiteral("timeline"));
    QVERIFY(timeline);
    QCOMPARE(timeline->aggregatedLaneCount(QStringLiteral("images")), 2);
    QVERIFY(timeline->isAggregatedAt(1, timeline->currentTime()));
}

void tst_Timeline::chartAxisInOneUnit_data()
{
    QTest::addColumn<int>("spanMs");
    QTest::addColumn<int>("width");
    QTest::addColumn<QString>("unit");
    for (const int width : { 200, 400, 800 }) {
        QTest::addRow("10 s, %d px", width) << 10000 << width << QStringLiteral(" s");
        QTest::addRow("1 min, %d px", width) << 60000 << width << QStringLiteral(" s");
        QTest::addRow("90 s, %d px", width) << 90000 << width << QStringLiteral(" s");
        QTest::addRow("5 min, %d px", width) << 300000 << width << QStringLiteral(" min");
    }
}

void tst_Timeline::chartAxisInOneUnit()
{
    QFETCH(int, spanMs);
    QFETCH(int, width);
    QFETCH(QString, unit);
    const QList<ThroughputChart::AxisTick> ticks
        = ThroughputChart::axisTicks(std::chrono::milliseconds(spanMs), width);
    QVERIFY(ticks.size() >= 3);
    QCOMPARE(ticks.front().label, QStringLiteral("now"));
    QVERIFY(ticks.size() <= width / 60 + 1); // room for each
    const double step = ticks[1].secondsAgo;
    const QList<double> niceSteps { 1, 2, 5, 10, 15, 20, 30, 60, 120, 300 };
    QVERIFY(niceSteps.contains(step));
    for (qsizetype i = 1; i < ticks.size(); ++i) {
        QVERIFY2(ticks[i].label.endsWith(unit) && ticks[i].label.startsWith(QLatin1Char('-')),
            qPrintable(ticks[i].label));
        QCOMPARE(ticks[i].secondsAgo, step * double(i));
        const double value
            = unit == QStringLiteral(" min") ? step * double(i) / 60 : step * double(i);
        QCOMPARE(ticks[i].label, QStringLiteral("-%1%2").arg(value).arg(unit));
    }
}

void tst_Timeline::timeRangeSetsBothViews()
{
    pk::MonitorWidget monitor;
    showAt(monitor, { 1400, 900 });
    auto *combo = monitor.findChild<QComboBox *>(QStringLiteral("timeRange"));
    const auto *timeline = monitor.findChild<TimelineView *>(QStringLiteral("timeline"));
    const auto *chart = monitor.findChild<ThroughputChart *>(QStringLiteral("chart"));
    QVERIFY(combo && timeline && chart);
    QSignalSpy changed(&monitor, &pk::MonitorWidget::timeRangeChanged);
    QVERIFY(changed.isValid());
    using namespace std::chrono_literals;
    QCOMPARE(monitor.timeRange(), 10s);
    QCOMPARE(timeline->span(), 10 * kSec);
    QCOMPARE(chart->span(), 10s);

    // By hand: the keyboard moves through 10 s, 1 min, 5 min.
    combo->setFocus();
    QTest::keyClick(combo, Qt::Key_Down);
    QCOMPARE(combo->currentText(), QStringLiteral("1 min"));
    QCOMPARE(monitor.timeRange(), 1min);
    QCOMPARE(timeline->span(), 60 * kSec);
    QCOMPARE(chart->span(), 1min);
    QTest::keyClick(combo, Qt::Key_Down);
    QCOMPARE(monitor.timeRange(), 5min);
    QCOMPARE(timeline->span(), 300 * kSec);
    QCOMPARE(chart->span(), 5min);
    QCOMPARE(changed.count(), 2);

    // Through the API: the control follows.
    monitor.setTimeRange(10s);
    QCOMPARE(combo->currentText(), QStringLiteral("10 s"));
    QCOMPARE(timeline->span(), 10 * kSec);
    QCOMPARE(chart->span(), 10s);
    QCOMPARE(changed.count(), 3);
    // Out of bounds: clamped to what the chart keeps.
    monitor.setTimeRange(1h);
    QCOMPARE(monitor.timeRange(), ThroughputChart::kMaxSpan);

    // The wheel zooms the timeline: the range, the control and the chart follow.
    monitor.setTimeRange(10s);
    changed.clear();
    auto *view = const_cast<TimelineView *>(timeline);
    const QPointF at(view->width() - 4, view->height() / 2); // the right edge: still following
    const auto wheel = [view, at](int delta) {
        QWheelEvent event(at, view->mapToGlobal(at), QPoint(), QPoint(0, delta), Qt::NoButton,
            Qt::NoModifier, Qt::NoScrollPhase, false);
        QCoreApplication::sendEvent(view, &event);
    };
    wheel(120 * 3); // in: 10 s × 0.8³ = 5.12 s
    QCOMPARE(timeline->span(), qint64(5.12 * kSec));
    QCOMPARE(monitor.timeRange(), 5120ms);
    QCOMPARE(chart->span(), 5120ms);
    QCOMPARE(combo->currentText(), QStringLiteral("5.12 s (zoomed)"));
    QCOMPARE(changed.count(), 1);
    wheel(120 * 10); // in again, past what the chart keeps
    QCOMPARE(monitor.timeRange(), std::chrono::milliseconds(timeline->span() / 1000000));
    QCOMPARE(chart->span(), ThroughputChart::kMinSpan);
    QVERIFY(combo->currentText().endsWith(QStringLiteral("ms (zoomed)")));
    QCOMPARE(combo->count(), 4); // one item stands for the zoomed span
    QCOMPARE(changed.count(), 2);
    // A choice again.
    combo->setFocus();
    QTest::keyClick(combo, Qt::Key_Home);
    QCOMPARE(monitor.timeRange(), 10s);
    QCOMPARE(timeline->span(), 10 * kSec);
    QCOMPARE(changed.count(), 3);
}

QTEST_MAIN(tst_Timeline)
#include "tst_timeline.moc"
