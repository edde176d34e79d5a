// pk::KeeperFeed: a MonitorFeed over a keeper of this process, through its event stream.
#pragma once

#include <pk/monitorfeed.h>

#include <memory>

namespace pk {

class PromiseKeeper;
class KeeperFeedPrivate;

/*!
    Feeds a monitor view from one or more PromiseKeepers of this process. It registers as an
    EventListener of each keeper and coalesces the keeper's events into the latest TaskInfo of
    each task that changed; a timer (every 33 ms, about 30 times a second, and only while
    something changes) sends them as one updated() batch with the exact counts.

    Several keepers: the constructor's keeper is the first, addKeeper() adds more. Every TaskInfo
    the feed sends (in snapshot() and updated()) names its keeper's label in
    TaskInfo::keeperName(); keepers() gives each keeper's counts and thread count as of the last
    signal, and the signals carry their sums. A batch lists the changes keeper after keeper,
    each keeper's in the order of their last change.

    snapshot() comes first, from the event loop after construction (so that connecting right
    after constructing the feed is enough), and again after requestSnapshot() and addKeeper():
    it always holds every keeper's tasks.

    The per-event cost is one array lookup and a few stores: a million tasks a second stay
    cheap. In a flood, a batch carries at most maxFinishedPerBatch() tasks per keeper that came
    and went within the interval (the others are dropped detail: only counted) and
    maxNewQueuedPerBatch() newly queued ones per keeper (the others are held back for later
    batches), so that a view's work per batch stays small. pk::MonitorServer coalesces and bounds
    its updates by the same code, with the same defaults.

    Thread affinity: create it in the keepers' thread (the GUI thread for keepers made there),
    and call it there only; all its signals are emitted there. The feed does not own the
    keepers; a keeper destroyed first stops sending (its last counts stay in keepers()), and
    when none is left the feed disconnects (connectionChanged(false, ...)).
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT KeeperFeed : public MonitorFeed
{
    Q_OBJECT
public:
    //! The feed of \a keeper, labelled by default (see addKeeper()); a null \a keeper warns
    //! and gives a feed without keepers.
    explicit KeeperFeed(PromiseKeeper *keeper, QObject *parent = nullptr);
    //! The feed of \a keeper labelled \a label (see addKeeper()).
    KeeperFeed(PromiseKeeper *keeper, const QString &label, QObject *parent = nullptr);
    ~KeeperFeed() override;

    /*!
        Adds \a keeper to the feed, labelled \a label (by default the keeper's objectName(), or
        else "keeper N" for the Nth keeper). The keeper must live in the feed's thread; a
        keeper added twice is refused with a warning. A fresh snapshot() of every keeper
        follows, from the event loop.
    */
    void addKeeper(PromiseKeeper *keeper, const QString &label = {});

    //! The first keeper (the constructor's), or null once it is destroyed.
    PromiseKeeper *keeper() const;
    //! The keepers still alive, in the order they were added.
    QList<PromiseKeeper *> keeperList() const;

    QList<KeeperStatus> keepers() const override;

    bool isConnected() const override;
    QString sourceName() const override;

    //! Cancels the task, or asks it to stop, through PromiseKeeper::requestCancellation(quint64).
    void cancelTask(quint64 taskId) override;
    //! PromiseKeeper::cancelAll().
    void cancelAll() override;

    //! Interval of the batch timer in milliseconds (default 33, about 30 batches a second).
    int updateInterval() const;
    //! Sets the batch timer's interval to \a msecs milliseconds (at least 1).
    void setUpdateInterval(int msecs);

    /*!
        How many tasks of one keeper that appeared and finished (succeeded or cancelled) within
        one interval a batch carries at most (default 2000, that is 60000 a second: more than a
        table can show, and what keeps a view's work per batch to a few milliseconds). Past it,
        in a flood, the oldest of them are left out and counted in updated()'s droppedDetail;
        the counts stay exact, and live tasks, failures and tasks already sent are always sent.
    */
    int maxFinishedPerBatch() const;
    //! Sets maxFinishedPerBatch() to \a count (at least 1), for every keeper of the feed.
    void setMaxFinishedPerBatch(int count);

    /*!
        How many tasks of one keeper that the views have not seen yet and that are still waiting
        or queued a batch carries at most (default 1000, that is 30000 a second). Past it, with a
        deep queue, the newer ones are held back for a later batch, in order; those that finish
        meanwhile count against maxFinishedPerBatch(). Running tasks, failures and tasks already
        sent are never held back, and the counts stay exact: the table may list fewer queued
        tasks than the counter for a while.
    */
    int maxNewQueuedPerBatch() const;
    //! Sets maxNewQueuedPerBatch() to \a count (at least 1), for every keeper of the feed.
    void setMaxNewQueuedPerBatch(int count);

    //! Sends a fresh snapshot() (from the event loop), e.g. for a view that connects late.
    void requestSnapshot();

    //! Sends what is pending now instead of waiting for the timer (tests, shutdown).
    void flush();

private:
    friend class KeeperFeedPrivate;
    std::unique_ptr<KeeperFeedPrivate> d;
};

} // namespace pk
