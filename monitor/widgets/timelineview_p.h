// Internal: the timeline of the monitor, one lane per worker thread and one for the queue
// (exported for its tests only).
#pragma once

#include <pk/monitor_export.h>
#include <pk/monitorfeed.h>
#include <pk/taskinfo.h>

#include <QtCore/QHash>
#include <QtWidgets/QWidget>

#include <deque>
#include <vector>

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
*/
class PROMISEKEEPER_MONITOR_EXPORT TimelineView : public QWidget
{
    Q_OBJECT
public:
    static constexpr std::size_t kMaxBarsPerLane = 250000;
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

protected:
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
    };
    struct Lane
    {
        std::deque<Bar> bars; // finished tasks, by start
        std::deque<Bar> failures; // the failed ones again, painted over the others
        quint64 runningId = 0;
        qint64 runningStart = 0;
    };
    struct QueueSample
    {
        qint64 time;
        qint64 depth;
    };

    //! The lane of \a worker, made if needed; nullptr past the last lane.
    Lane *lane(int worker);
    static void insertSorted(std::deque<Bar> &bars, Bar bar);
    QRect plotRect() const;
    void paintAxis(QPainter &painter, const QRect &plot, qint64 t0, qint64 t1);
    void paintLane(
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
    int m_dragX = 0;
    qint64 m_dragEnd = 0;
};

} // namespace pk::monitor
