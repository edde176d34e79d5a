// pk::MonitorWidget: the live monitor of a keeper's tasks, as a widget to embed anywhere.
#pragma once

#include <pk/monitor_export.h>

#include <QtWidgets/qwidget.h>

#include <chrono>
#include <memory>

QT_BEGIN_NAMESPACE
class QTableView;
QT_END_NAMESPACE

namespace pk {

class MonitorFeed;
class MonitorFilterModel;
class MonitorModel;
class MonitorWidgetPrivate;
class PromiseKeeper;

/*!
    Shows what a keeper does, live: counters (queued, running, finished, throughput, median
    and 95th percentile of queue wait and run time), the table of tasks (continuations folded
    under their task) with state filters, a keeper filter, a text filter, "Show continuations",
    "Follow" and "Freeze", the details of the selected task, a timeline of the
    workers (hover a bar for its task, click it to select it), and a chart of completions per
    second and queue depth over a shared time range (setTimeRange()). "Cancel task" and "Cancel
    all" act on the source. "Export" saves the rows shown as CSV or all the tasks as a Chrome
    trace (see exportCsv() and exportTrace()).

    \code
    pk::PromiseKeeper keeper(4);
    pk::MonitorWidget monitor(&keeper);
    monitor.show();
    \endcode

    It shows a keeper of this process (setKeeper(), through a pk::KeeperFeed it owns) or any
    pk::MonitorFeed (setFeed(), for instance a program attached over a socket). Updates arrive
    in batches, tens of times a second at most, whatever the number of tasks; the table keeps
    the live tasks and a bounded number of finished ones (see pk::MonitorModel).

    GUI thread only.
*/
class PROMISEKEEPER_MONITOR_EXPORT MonitorWidget : public QWidget
{
    Q_OBJECT
    //! Whether the table and the details stop changing; see isFrozen().
    Q_PROPERTY(bool frozen READ isFrozen WRITE setFrozen NOTIFY frozenChanged)
    //! Whether the table scrolls to the newest task; see isFollowing().
    Q_PROPERTY(bool following READ isFollowing WRITE setFollowing NOTIFY followingChanged)
    //! The task the details pane shows, 0 for none; see selectedTaskId().
    Q_PROPERTY(quint64 selectedTaskId READ selectedTaskId NOTIFY selectedTaskChanged)

public:
    //! Constructs a monitor showing nothing yet, as a child of \a parent; see setKeeper() and
    //! setFeed().
    explicit MonitorWidget(QWidget *parent = nullptr);
    //! Shows \a keeper (which must live in the GUI thread and outlive the widget, or be
    //! detached first with setKeeper(nullptr)).
    explicit MonitorWidget(PromiseKeeper *keeper, QWidget *parent = nullptr);
    ~MonitorWidget() override;

    //! Shows \a keeper through a KeeperFeed the widget owns; nullptr shows nothing.
    void setKeeper(PromiseKeeper *keeper);
    //! The keeper given to setKeeper(), or nullptr when showing another feed.
    PromiseKeeper *keeper() const;
    /*!
        Shows \a keeper too, beside those shown already, labelled \a label (by default its
        objectName()): its tasks carry it in the table's Keeper column, the timeline has lanes
        of its own and the counters can show it alone (KeeperFeed::addKeeper()). Without a
        keeper shown yet (or while showing another feed), the same as setKeeper(). The same
        rules of thread and lifetime apply as for setKeeper().
    */
    void addKeeper(PromiseKeeper *keeper, const QString &label = {});

    //! Shows \a feed, which the widget does not own; nullptr shows nothing.
    void setFeed(MonitorFeed *feed);
    //! The feed shown: the one given to setFeed(), the KeeperFeed made for setKeeper(), or
    //! nullptr.
    MonitorFeed *feed() const;

    //! The table's model (all tasks kept) and the filtering proxy the view shows.
    MonitorModel *model() const;
    //! The proxy over model() that the table shows: filters, sort order, folding.
    MonitorFilterModel *filterModel() const;
    //! The table of tasks, for its header, delegates or actions; the widget owns it.
    QTableView *tableView() const;

    //! The task the details pane shows, 0 for none. It stays selected while its row moves;
    //! selectTask() of a folded continuation unfolds its task first.
    quint64 selectedTaskId() const;
    //! Selects the task \a taskId (0 for none): the details pane shows it, and the table
    //! selects its row if the filters show it.
    void selectTask(quint64 taskId);

    /*!
        The time the timeline and the chart show, up to "now": 10 s by default; the "Time
        range" control offers 10 s, 1 min and 5 min. Set within [2.5 s, 5 min] (the chart keeps
        five minutes of samples). Zooming the timeline with the wheel sets it too, from 1 ms to
        an hour (the control then reads "250 ms (zoomed)", the chart shows what it keeps of
        it); a recording fits the timeline to its own span when it loads.
    */
    std::chrono::milliseconds timeRange() const;
    //! Sets timeRange() to \a range, brought within [2.5 s, 5 min].
    void setTimeRange(std::chrono::milliseconds range);

    //! While frozen the table and the details stop changing; updates are kept (coalesced by
    //! task) and applied when unfrozen. Counters, timeline and chart go on.
    bool isFrozen() const;
    //! Freezes or unfreezes the table and the details (the Freeze button); see isFrozen().
    void setFrozen(bool frozen);

    /*!
        Whether the table scrolls to the newest task as tasks arrive (on by default). It
        pauses, without turning off, while the pointer is on the table or a row is selected,
        so that rows do not move under a click; the Follow button says so.
    */
    bool isFollowing() const;
    //! Turns following on or off (the Follow button); see isFollowing().
    void setFollowing(bool following);

    /*!
        The widget's keyboard shortcuts as rich text (a table of keys and what they do), for an
        application's Help → Keyboard entry, e.g. in a QMessageBox. The shortcuts work while
        the focus is anywhere in the widget (Qt::WidgetWithChildrenShortcut), so that the
        widget can be embedded; the single keys (Space, F, Del) do not act while typing in the
        text filter. The widget's "?" button shows the same text.
    */
    QString keyboardHelp() const;

    /*!
        Writes the rows the table shows (after the state and text filters, in the view's order)
        to the file \a fileName as CSV (RFC 4180, UTF-8, a header record; the columns are in
        docs/monitor.md). While frozen, the rows as frozen.

        The write is atomic: on failure an existing file is left as it was. Returns false and
        sets \a errorString (if not null) to why.
    */
    bool exportCsv(const QString &fileName, QString *errorString = nullptr) const;
    /*!
        Writes every task the table holds (filters aside: live, finished and failed ones; older
        finished tasks evicted from the model are not in it) to the file \a fileName as a
        Chrome Trace Event file (pk::TraceWriter's format, with the feed's thread count), which
        Perfetto, chrome://tracing and pk-monitor --open read. While frozen, the tasks as
        frozen.

        The write is atomic: on failure an existing file is left as it was. Returns false and
        sets \a errorString (if not null) to why.
    */
    bool exportTrace(const QString &fileName, QString *errorString = nullptr) const;

Q_SIGNALS:
    //! Emitted when isFrozen() changes, by setFrozen(), the Freeze button or its shortcut.
    void frozenChanged(bool frozen);
    //! Emitted when isFollowing() changes: setFollowing(), the Follow button or its shortcut,
    //! or scrolling the table away from the newest rows by hand (which turns it off).
    void followingChanged(bool following);
    //! Emitted when selectedTaskId() changes, by selectTask() or by the user (the table, a
    //! click on the timeline); \a taskId is 0 when nothing is selected.
    void selectedTaskChanged(quint64 taskId);
    //! Emitted when timeRange() changes: setTimeRange(), the "Time range" control, or
    //! zooming the timeline.
    void timeRangeChanged(std::chrono::milliseconds range);

protected:
    //! Restyles the counters and the banner when the palette changes (their style sheets
    //! hold colours, not palette roles).
    void changeEvent(QEvent *event) override;

private:
    friend class MonitorWidgetPrivate;
    std::unique_ptr<MonitorWidgetPrivate> d;
};

} // namespace pk
