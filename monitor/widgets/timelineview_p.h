// Internal: the timeline of the monitor, one lane per worker thread and one for the queue
// (exported for its tests only).
#pragma once

#include <pk/monitor_export.h>
#include <pk/monitorfeed.h>
#include <pk/taskinfo.h>

#include <QtCore/QHash>
#include <QtCore/QPointer>
#include <QtWidgets/QWidget>

#include <deque>
#include <vector>

namespace pk {
class MonitorModel;
}

namespace pk::monitor {

/*!
    Paints what the workers did over time: per worker a lane with a bar from start to end for
    every task it ran (running ones reach "now"), failures in red, and on top a lane with the
    queue depth. The wheel zooms around the pointer, dragging pans, a double click goes back to
    following "now".

    Per lane the bars are kept sorted by time (a worker runs one task after another); painting
    binary-searches the visible ones and merges the bars that fall into the same pixel column,
    so its cost depends on the width in pixels, not on the number of tasks: a million tasks
    draw as fast as a hundred. Memory is bounded: at most kMaxLanes lanes (what the tasks say
    about their workers never sizes more), at most kMaxBarsPerLane bars per lane, the oldest go
    first. Tasks of workers past the last lane are counted, and the count is shown, not drawn.

    Every bar knows its task's id, nothing more: the title, state and times a tooltip or a
    title inside a wide bar needs come from the model (setModel()) by id, so that a quarter of
    a million bars per lane cost no strings. Only bars wide enough for a title look it up, and
    there are at most a few per lane and pixel width. The titles of the latest tasks are kept
    besides (a bounded number), for bars the model does not have: a frozen table has not got
    them yet.

    Where the counts say a keeper runs more tasks than the lanes with a known running bar (a
    flood, where the feed dropped detail), setOccupancy() marks the other lanes busy: they are
    drawn hatched, "busy (aggregated)", for as long as the counts say so.

    GUI thread only.
*/
class PROMISEKEEPER_MONITOR_EXPORT TimelineView : public QWidget
{
    Q_OBJECT
public:
    static constexpr std::size_t kMaxBarsPerLane = 250000;
    //! How deep tasks run inside each other on a lane before the outermost is forgotten.
    static constexpr std::size_t kMaxNesting = 16;
    static constexpr std::size_t kMaxQueueSamples = 100000;
    //! Workers 0 to kMaxLanes - 1 get a lane; no keeper runs more threads than that in one view.
    static constexpr int kMaxLanes = 4096;

    explicit TimelineView(QWidget *parent = nullptr);

    //! Takes the tasks of a batch: running ones open a bar, finished ones close it.
    void addTasks(const QList<TaskInfo> &tasks);
    //! The queue depth (waiting + queued) at \a timeNs.
    void addQueueDepth(qint64 timeNs, qint64 depth);
    //! The thread count of one unnamed keeper; ignored once setKeepers() gave keepers.
    void setThreadCount(int count);
    /*!
        Lanes per keeper and worker, in the order of \a keepers: the lanes of "images" (3
        threads) then those of "network" (2). Empty: one unnamed keeper, a lane per worker
        index. Tasks are placed by TaskInfo::keeperName() and workerIndex(); those of a keeper
        not listed, or of a worker past its thread count, are counted as not drawn.
    */
    void setKeepers(const QList<KeeperStatus> &keepers);
    /*!
        Takes the running counts of \a keepers (as in setKeepers(); one with an empty name for
        the unnamed keeper) at \a timeNs, from a batch that left out \a droppedDetail task
        changes. While detail is incomplete (from a batch that dropped some until the counts
        agree with the bars again), per keeper the running tasks past those with a known
        running bar are drawn as busy (aggregated) in as many of its idle lanes. With complete
        detail the bars are the truth, and counts taken a moment apart from them are not drawn.
    */
    void setOccupancy(qint64 timeNs, const QList<KeeperStatus> &keepers, quint64 droppedDetail);
    //! How many lanes of \a keeper are busy (aggregated) now, i.e. at the last setOccupancy().
    int aggregatedLaneCount(const QString &keeper) const;
    //! Whether lane \a laneIndex is drawn busy (aggregated) at \a timeNs.
    bool isAggregatedAt(int laneIndex, qint64 timeNs) const;

    //! Where titles, keepers, states and times of the bars' tasks come from; not owned.
    void setModel(const MonitorModel *model);
    //! The task of the bar under \a pos (widget coordinates); 0 for none.
    quint64 taskAt(const QPoint &pos) const;
    //! The task drawn outlined, as selected (0 for none).
    quint64 selectedTask() const { return m_selectedTask; }
    void setSelectedTask(quint64 taskId);
    //! Where the bars of worker lane \a laneIndex are drawn (as laneLabel() counts lanes).
    QRect laneRect(int laneIndex) const;
    //! Where the bar of \a taskId is drawn; empty if it is not in view (or not known).
    QRect taskRect(quint64 taskId) const;
    //! Whether the selected task has a bar in view, which is then drawn outlined.
    bool isSelectionShown() const;
    //! The tooltip text for \a pos: the task of the bar there, or the help text.
    QString toolTipAt(const QPoint &pos) const;

    //! A label of the time axis and where it is drawn.
    struct AxisLabel
    {
        qint64 time; // TaskInfo::monotonicNowNsecs() time
        QString text;
        QRect rect;
    };
    /*!
        The labels of the time axis as painted now: offsets from "now" ("-5 s") while
        following, wall-clock times ("14:03:25", "14:03:25.250" zoomed in) while paused. None
        overlaps another or noteRect().
    */
    QList<AxisLabel> axisLabels() const;
    //! Where the notes ("paused: double-click to follow"...) are drawn; empty without notes.
    QRect noteRect() const;
    //! The notes' text, " · " between them; empty for none.
    QString noteText() const;

    //! The lane a task of \a keeper's \a worker is drawn in; -1 for none.
    int laneOf(const QString &keeper, int worker) const;
    //! The label of lane \a laneIndex: "images · worker 0", or "worker 0" without keepers.
    QString laneLabel(int laneIndex) const;
    //! The width of the lane labels' column, in pixels.
    int labelWidth() const;
    void clear();

    //! The visible span in nanoseconds (default 10 s).
    qint64 span() const { return m_spanNs; }
    void setSpan(qint64 nsecs);
    /*!
        Marks the source as gone at \a nsecs (TaskInfo::monotonicNowNsecs() time), or live
        again with 0: while gone, "now" stands at \a nsecs, so that the bars of tasks that were
        running stop growing there instead of growing for a dead process.
    */
    void setSourceGoneAt(qint64 nsecs, const QString &note = QString());
    //! Stops following "now" and shows [\a t0, \a t1] (a recording's own span).
    void showRange(qint64 t0, qint64 t1);
    //! The time at the right edge of the view.
    qint64 endTime() const;
    //! When the source went away; 0 while it is live.
    qint64 sourceGoneAt() const { return m_sourceGoneAt; }
    //! The time the view treats as "now": sourceGoneAt() when the source is gone.
    qint64 currentTime() const;
    //! Adds a vertical marker at \a nsecs, where the source reconnected.
    void addMarker(qint64 nsecs);
    const std::vector<qint64> &markers() const { return m_markers; }

    //! Whether the right edge follows the current time (true until the user pans).
    bool isFollowingNow() const { return m_followNow; }
    void setFollowingNow(bool follow);

    //! How many bars are kept in all (for tests).
    std::size_t barCount() const;
    //! How many worker lanes are allocated (for tests).
    std::size_t laneCount() const { return m_lanes.size(); }
    //! Tasks not drawn since the last clear(): their worker index is kMaxLanes or more.
    quint64 undrawnCount() const { return m_undrawn; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    //! A click (press and release without a drag) on the bar of \a taskId.
    void taskClicked(quint64 taskId);
    //! The user zoomed with the wheel: the span is now \a nsecs (setSpan() does not emit it).
    void spanZoomed(qint64 nsecs);

protected:
    bool event(QEvent *event) override;
    void paintEvent(QPaintEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;

private:
    struct Bar
    {
        qint64 start;
        qint64 end;
        quint64 id; // the task's: its details come from the model
    };
    struct Lane
    {
        std::deque<Bar> bars; // finished tasks, by start
        std::deque<Bar> failures; // the failed ones again, painted over the others
        // Busy (aggregated): where the counts said this lane ran a task not received in
        // detail. By start; the last one is open (end 0) while it lasts.
        std::deque<Bar> aggregated;
        // Tasks the worker ran inside another's run (it waited for a task of its keeper and
        // ran the queue meanwhile): by start, painted as a band inside their outer bar. Only
        // these may overlap each other (deeper nesting); the bars above never overlap.
        std::deque<Bar> nested;
        std::deque<Bar> nestedFailures;
        quint64 runningId = 0; // the innermost running task
        qint64 runningStart = 0;
        // The running tasks it interrupted, outermost first (end 0), at most kMaxNesting.
        std::vector<Bar> outerRunning;
    };
    //! Where things are painted, computed once for paintEvent() and the queries alike.
    struct Layout
    {
        QRect plot;
        int laneHeight = 0;
        int laneCount = 0; // the queue's lane and the workers'
        qint64 t0 = 0;
        qint64 t1 = 0;
        QRect notes;
    };
    struct QueueSample
    {
        qint64 time;
        qint64 depth;
    };

    //! The lane of \a worker, made if needed; nullptr past the last lane.
    Lane *lane(int worker);
    static void insertSorted(std::deque<Bar> &bars, Bar bar);
    //! Files a finished task's bar: among the lane's bars, or nested inside another's.
    static void addFinishedBar(Lane &lane, const Bar &bar, bool failed, bool nested);
    //! The band of a lane that nested tasks are painted in.
    static QRect nestedRect(const QRect &lane);
    QRect plotRect() const;
    Layout layout() const;
    //! The rectangle of worker lane \a worker's bars.
    QRect laneBarsRect(const Layout &layout, int worker) const;
    //! What is under a point: a worker lane (-1 for none) and a time, give or take a pixel.
    struct Point
    {
        int worker = -1;
        qint64 time = 0;
        qint64 slack = 0;
    };
    Point pointAt(const QPoint &pos) const;
    //! The bar of \a lane under time \a t, widened to a pixel's worth of \a slackNs.
    //! The bar at \a t (within \a slackNs), among the lane's bars or its \a nested ones.
    const Bar *barAt(
        const Lane &lane, qint64 t, qint64 slackNs, bool *failed, bool nested = false) const;
    //! The rectangle of \a taskId's bar where it is in view; empty if it is not.
    QRect barRect(quint64 taskId, const Layout &layout) const;
    const TaskInfo *taskInfo(quint64 taskId) const;
    //! Keeps the title of one of the latest tasks, for while the model does not have it.
    void rememberTitle(const TaskInfo &info);
    //! The title of \a taskId: the model's, a recent one, or "task 17".
    QString titleOf(quint64 taskId) const;
    void paintAxis(QPainter &painter, const Layout &layout, const QList<AxisLabel> &labels);
    void paintLane(
        QPainter &painter, const Lane &lane, const QRect &rect, qint64 t0, qint64 t1, qint64 now);
    void paintTitles(
        QPainter &painter, const Lane &lane, const QRect &rect, qint64 t0, qint64 t1, qint64 now);
    void paintQueue(QPainter &painter, const QRect &rect, qint64 t0, qint64 t1);

    std::vector<Lane> m_lanes;
    std::deque<QueueSample> m_queue;
    quint64 m_undrawn = 0;
    int m_threadCount = 1;
    qint64 m_spanNs;
    bool m_followNow = true;
    qint64 m_fixedEnd = 0; // the right edge while not following
    struct KeeperLanes
    {
        QString name;
        int first; // its first lane
        int count; // its threads
    };
    std::vector<KeeperLanes> m_keepers; // empty: one unnamed keeper
    qint64 m_sourceGoneAt = 0; // 0 while the source is live
    QString m_goneNote; // what the view says about bars after m_sourceGoneAt
    std::vector<qint64> m_markers; // reconnections
    bool m_dragging = false;
    bool m_dragged = false; // the press moved: its release is no click
    int m_dragX = 0;
    qint64 m_dragEnd = 0;
    QPointer<const MonitorModel> m_model;
    quint64 m_selectedTask = 0;
    QHash<QString, int> m_aggregatedNow; // per keeper, lanes busy (aggregated) now
    bool m_detailIncomplete = false; // a batch dropped detail, the counts have not agreed since
    // The titles of the latest kRecentTitles tasks: the bars recent enough to be drawn wide,
    // named while the table is frozen (it does not have them yet) or after it evicted them.
    static constexpr std::size_t kRecentTitles = 4096;
    QHash<quint64, QString> m_recentTitles;
    std::deque<quint64> m_recentOrder;
};

} // namespace pk::monitor
