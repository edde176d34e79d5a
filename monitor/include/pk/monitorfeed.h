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

//! One keeper of a feed's source, as of the feed's last batch. A plain value; reentrant.
struct KeeperStatus
{
    QString name; //!< its label: TaskInfo::keeperName() of its tasks
    int threadCount = 0; //!< its PromiseKeeper::threadCount() (0: manual mode or unknown)
    TaskCounts counts; //!< its tasks in each state, as of the batch

    //! Whether \a a and \a b describe the same keeper with the same counts and thread count.
    friend bool operator==(const KeeperStatus &a, const KeeperStatus &b)
    {
        return a.name == b.name && a.threadCount == b.threadCount && a.counts == b.counts;
    }
    //! Whether \a a and \a b differ in name, thread count or counts.
    friend bool operator!=(const KeeperStatus &a, const KeeperStatus &b) { return !(a == b); }
};

/*!
    A source of task updates for monitor views, in batches at a bounded rate (tens per second).
    Views never see single events: they get coalesced TaskInfo snapshots (the latest state of
    each task that changed since the last batch) plus exact counts.

    A source may have several keepers: every TaskInfo a feed sends names its keeper
    (TaskInfo::keeperName()), keepers() gives each keeper's counts and thread count as of the
    last batch, and the counts and thread count the signals carry are their sums.

    Thread affinity: a feed lives in one thread, is used from it and emits all its signals
    there; a view's feed lives in the GUI thread (see each subclass).
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT MonitorFeed : public QObject
{
    Q_OBJECT
public:
    //! Constructs the feed as a child of \a parent; subclasses provide the source.
    explicit MonitorFeed(QObject *parent = nullptr);
    ~MonitorFeed() override;

    //! Whether the feed currently has a source (always true in-process; attached: connected).
    virtual bool isConnected() const = 0;
    //! Human-readable name of the source ("keeper 'demo'", "pid 1234 (myapp)").
    virtual QString sourceName() const = 0;

    /*!
        The source's keepers, in a stable order, as of the last snapshot() or updated(): set
        before either is emitted, so that a slot of theirs reads the same batch. Empty by
        default: one keeper, which the signals' counts describe.
    */
    virtual QList<KeeperStatus> keepers() const;

    //! Whether the tasks change while they are watched: false for a recorded trace, where
    //! nothing runs, nothing can be cancelled and time does not pass.
    virtual bool isLive() const { return true; }

    //! The watched program's name and process id (this process in-process; the attached
    //! program's; the recorded one's, as far as the trace says: 0 if unknown).
    //! The default is QCoreApplication::applicationName().
    virtual QString programName() const;
    //! The watched program's process id; the default is this process's
    //! (QCoreApplication::applicationPid()). \sa programName()
    virtual qint64 programPid() const;

    //! Asks the source to cancel a task not started yet, or to request cancellation of a
    //! running one (PromiseKeeper::requestCancellation()). Works in-process and attached.
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
