// Internal: the parts of pk::MonitorWidget.
#pragma once

#include "taskstats_p.h"

#include <pk/enums.h>
#include <pk/taskcounts.h>
#include <pk/taskinfo.h>

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QMetaObject>
#include <QtCore/QPointer>
#include <QtCore/QStringList>
#include <QtCore/QTimer>

#include <array>
#include <chrono>
#include <deque>

QT_BEGIN_NAMESPACE
class QAction;
class QComboBox;
class QFrame;
class QHBoxLayout;
class QKeySequence;
class QLabel;
class QLineEdit;
class QPushButton;
class QSplitter;
class QTableView;
class QTextBrowser;
class QToolButton;
class QUrl;
QT_END_NAMESPACE

namespace pk {

class KeeperFeed;
class MonitorFeed;
class MonitorFilterModel;
class MonitorModel;
class MonitorWidget;
class PromiseKeeper;

namespace monitor {
class ThroughputChart;
class TimelineView;
} // namespace monitor

class MonitorWidgetPrivate
{
public:
    explicit MonitorWidgetPrivate(MonitorWidget *widget)
        : q(widget)
    { }

    void setupUi();
    //! The state chips: on is filled with the state's colour, off is flat and dim.
    void styleChips();
    //! The not-live banner, in amber that reads on light and dark palettes.
    void styleBanner();
    //! Ctrl+F, Esc, Space, F, Del, Ctrl+C, Ctrl+Shift+C, and the "?" button that lists them.
    void setupShortcuts();
    QAction *addShortcut(const QString &objectName, const QString &text, const QKeySequence &key,
        void (MonitorWidgetPrivate::*slot)());
    void focusFilter();
    void clearFilterOrSelection();
    void toggleFrozen();
    void toggleFollowing();
    void cancelSelected();
    void copySelectedRows();
    void copyDetails();
    QString keyboardHelp() const;
    QLabel *addCounter(const QString &name, const QString &objectName, const QString &toolTip,
        const QColor &color, QLabel **note = nullptr);

    void setFeed(MonitorFeed *feed, KeeperFeed *owned);
    void onSnapshot(
        const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished, int threadCount);
    void onUpdated(const QList<TaskInfo> &changes, const TaskCounts &counts, int threadCount,
        quint64 droppedDetail);
    void onConnectionChanged(bool connected, const QString &message);
    //! Greys (false) or restores the counter tiles and the chart.
    void setCountersLive(bool live);
    //! For a recording: widens the recorded span to \a tasks' times and fits the timeline to it.
    void noteRecordingSpan(const QList<TaskInfo> &tasks);

    // The table: applied at once, or kept while frozen.
    void applySnapshot(const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished);
    void applyChanges(const QList<TaskInfo> &changes);
    void bufferChanges(const QList<TaskInfo> &changes);
    void unfreeze();
    // Runs a change of the models that may move or drop the current row; the selection then
    // goes back to its task.
    template<typename F>
    void keepingSelection(F &&change);
    void restoreSelection();
    void followNewest();
    // Follow pauses while the pointer is on the table or a row is selected (see followPause).
    enum class FollowPause { None, Pointer, Selection };
    FollowPause followPause() const;
    //! Says on the Follow button whether (and why) following is paused; resumes it if not.
    void updateFollowPause();
    void showFollowPause();
    // Runs a change of the models keeping the row at the top of the viewport where it is on
    // screen while following is paused: rows inserted or evicted above must not move the rows
    // under the pointer.
    template<typename F>
    void keepingViewport(F &&change);
    //! After a sort: the selected row in view, or the top.
    void scrollAfterSort();
    //! The details pane: shown while a task is selected, collapsed otherwise.
    void showDetailsPane(bool shown);
    // The keeper filter's items: "All keepers", then the model's keepers.
    void rebuildKeeperCombo();
    void addFeedKeepers();
    // Makes \a taskId's row shown if it is folded (expands its root).
    void revealTask(quint64 taskId);
    // A link of the details pane ("task:17") selects that task.
    void onDetailsLink(const QUrl &url);

    void onCurrentChanged();
    void refreshCounters();
    // The count tiles: the feed's counts (or the keeper filter's keeper's) and thread count.
    void showCounts();
    void sampleChart();
    void refreshDetails(bool force = false);
    void updateActions();
    void updateStatus();
    TaskInfo selectedInfo() const;

    // Export.
    enum class ExportFormat { Csv, Trace };
    //! The rows the table shows, in view order.
    QList<TaskInfo> shownTasks() const;
    //! Every task the model holds, in model order.
    QList<TaskInfo> heldTasks() const;
    //! Asks for a file (without blocking: tests drive the dialog), then exports to it.
    void chooseExportFile(ExportFormat format);
    void exportTo(ExportFormat format, const QString &fileName);
    void showNotice(const QString &text);

    MonitorWidget *q;

    // Models and views.
    MonitorModel *model = nullptr;
    MonitorFilterModel *proxy = nullptr;
    QTableView *table = nullptr;
    QTextBrowser *details = nullptr;
    monitor::TimelineView *timeline = nullptr;
    monitor::ThroughputChart *chart = nullptr;
    QSplitter *mainSplitter = nullptr;
    QSplitter *topSplitter = nullptr;
    QSplitter *bottomSplitter = nullptr;
    QComboBox *timeRangeCombo = nullptr; // the timeline's and the chart's span
    std::chrono::milliseconds timeRange { 0 };
    //! Shows \a range in timeRangeCombo: one of the choices, or "… (zoomed)" for another.
    void showTimeRange(std::chrono::milliseconds range);
    //! The timeline was zoomed to \a nsecs: the chart and the control follow.
    void onTimelineZoomed(qint64 nsecs);

    // Controls.
    std::array<QToolButton *, 6> chips {};
    QLineEdit *filterEdit = nullptr;
    QComboBox *keeperCombo = nullptr;
    QToolButton *continuationsButton = nullptr;
    QToolButton *followButton = nullptr;
    QToolButton *freezeButton = nullptr;
    QPushButton *cancelTaskButton = nullptr;
    QPushButton *cancelAllButton = nullptr;
    QPushButton *exportButton = nullptr;
    QAction *exportCsvAction = nullptr;
    QAction *exportTraceAction = nullptr;
    QLabel *statusLabel = nullptr;
    QToolButton *keyboardHelpButton = nullptr;
    QList<QAction *> shortcutActions; // in the order keyboardHelp() lists them
    QAction *cancelTaskAction = nullptr;
    QAction *followAction = nullptr;

    // Counters.
    QHBoxLayout *counterStrip = nullptr;
    QLabel *queuedValue = nullptr;
    QLabel *runningValue = nullptr;
    QLabel *succeededValue = nullptr;
    QLabel *failedValue = nullptr;
    QLabel *timedOutValue = nullptr; // "2 timed out" beside failedValue; hidden at 0
    QLabel *cancelledValue = nullptr;
    QLabel *throughputValue = nullptr;
    QLabel *waitValue = nullptr;
    QLabel *runTimeValue = nullptr;

    // The source.
    QPointer<MonitorFeed> feed;
    KeeperFeed *ownedFeed = nullptr;
    QPointer<PromiseKeeper> keeper;
    QList<QMetaObject::Connection> feedConnections;
    bool connected = false;
    bool wasConnected = false; // connected once since setFeed(): a later false means "gone"
    bool recording = false; // the feed is not live (a trace file): no now, no cancel
    qint64 recordingStart = 0; // the recording's earliest and latest times, ns
    qint64 recordingEnd = 0;
    bool sourceGone = false; // disconnected after being connected, not back yet
    QStringList bannerLines; // "Program gone at …", "Reconnected at …"
    QFrame *banner = nullptr;
    QLabel *bannerLabel = nullptr;
    QString connectionMessage;

    // What the counters show.
    TaskCounts counts;
    int threadCount = 0;
    quint64 droppedDetail = 0;
    monitor::TaskStats stats;
    qint64 nowMs() const; // the library's clock (a test's pk::test::ManualClock drives it)
    std::deque<std::pair<qint64, qint64>> chartHistory; // (ms, finished) of the last second
    qint64 queuePeak = 0; // the deepest queue since the last chart sample
    bool countersDirty = true;
    //! The rate the Finished / s label shows, so that refreshCounters() knows it must still
    //! bring it down to 0.
    double shownThroughput = 0;
    QTimer refreshTimer; // counters, status: 10 Hz
    QTimer chartTimer; // one chart sample every ThroughputChart::kSampleIntervalMs
    QTimer timelineTimer; // moves "now" along while following

    // Freeze.
    bool frozen = false;
    bool frozenSnapshot = false;
    QList<TaskInfo> frozenLive;
    QList<TaskInfo> frozenFinished;
    QList<TaskInfo> frozenChanges;
    QHash<quint64, qsizetype> frozenIndex;

    // Export: where the last file went, and what the status line says about it for a while.
    QString exportDirectory;
    QString notice;
    QTimer noticeTimer;

    // Selection.
    quint64 selectedId = 0;
    TaskInfo shownInfo; // what the details pane shows, to repaint it only when it changed
    QList<quint64> shownDependents; // its dependents: they arrive while the task stays as it is
    bool restoring = false;
    bool following = true;
    bool pointerOnTable = false;
    int detailsWidth = 0; // the pane's width when last shown, to give it back
};

} // namespace pk
