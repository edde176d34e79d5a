// pk::MonitorFeed: where a monitor view gets its tasks from (a keeper in this process, or a
// program attached over a local socket).
#pragma once

#include <pk/monitorserver_export.h>
#include <pk/taskcounts.h>
#include <pk/taskinfo.h>

#include <QtCore/qlist.h>
#include <QtCore/qobject.h>
#include <QtCore/qstring.h>

namespace pk {

/*!
    A source of task updates for monitor views, in batches at a bounded rate (tens per second).
    Views never see single events: they get coalesced TaskInfo snapshots (the latest state of
    each task that changed since the last batch) plus exact counts.

    Lives in the GUI thread; all signals are emitted there.
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT MonitorFeed : public QObject
{
    Q_OBJECT
public:
    explicit MonitorFeed(QObject *parent = nullptr);
    ~MonitorFeed() override;

    //! Whether the feed currently has a source (always true in-process; attached: connected).
    virtual bool isConnected() const = 0;
    //! Human-readable name of the source ("keeper 'demo'", "pid 1234 (myapp)").
    virtual QString sourceName() const = 0;

    //! Asks the source to cancel a task not started yet. Works in-process and attached.
    virtual void cancelTask(quint64 taskId) = 0;
    //! Asks the source to cancel everything not started yet.
    virtual void cancelAll() = 0;

Q_SIGNALS:
    /*!
        Start again from this state: the tasks live now, the recently finished ones (oldest
        first), and the worker count. Sent first, and again after a reconnect.
    */
    void snapshot(const QList<pk::TaskInfo> &live, const QList<pk::TaskInfo> &recentlyFinished,
        int threadCount);
    /*!
        The tasks that changed since the last batch, each as its latest TaskInfo (in the order
        of their last change), and the counts now. \a droppedDetail is how many task changes
        were not sent in detail (a slow consumer); counts are always exact.
    */
    void updated(const QList<pk::TaskInfo> &changes, const pk::TaskCounts &counts, int threadCount,
        quint64 droppedDetail);
    //! The source appeared or went away; \a message says so for the user.
    void connectionChanged(bool connected, const QString &message);
};

} // namespace pk
