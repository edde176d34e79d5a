// pk::KeeperFeed: a MonitorFeed over a keeper of this process, through its event stream.
#pragma once

#include <pk/monitorfeed.h>

#include <memory>

namespace pk {

class PromiseKeeper;
class KeeperFeedPrivate;

/*!
    Feeds a monitor view from a PromiseKeeper of this process. It registers as an EventListener
    of the keeper and coalesces the keeper's events into the latest TaskInfo of each task that
    changed; a timer (about 30 times a second, and only while something changes) sends them as
    one updated() batch with the keeper's exact counts.

    snapshot() comes first, from the event loop after construction (so that connecting right
    after constructing the feed is enough), and again after requestSnapshot().

    The per-event cost is one array lookup and a few stores: a million tasks a second stay
    cheap. In a flood, a batch carries at most maxFinishedPerBatch() tasks that came and went
    within the interval (the others only count) and maxNewQueuedPerBatch() newly queued ones (the
    others come in later batches), so that a view's work per batch stays small.

    Thread affinity: create it in the keeper's thread (the GUI thread for a keeper made there);
    all its signals are emitted there. The feed does not own the keeper; if the keeper is
    destroyed first the feed disconnects (connectionChanged(false, ...)).
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT KeeperFeed : public MonitorFeed
{
    Q_OBJECT
public:
    explicit KeeperFeed(PromiseKeeper *keeper, QObject *parent = nullptr);
    ~KeeperFeed() override;

    PromiseKeeper *keeper() const;

    bool isConnected() const override;
    QString sourceName() const override;

    //! Cancels the task through PromiseKeeper::cancel(quint64) (queued or waiting tasks only).
    void cancelTask(quint64 taskId) override;
    //! PromiseKeeper::cancelAll().
    void cancelAll() override;

    //! Interval of the update timer in milliseconds (default 33, about 30 batches a second).
    int updateInterval() const;
    void setUpdateInterval(int msecs);

    /*!
        How many tasks that appeared and finished (succeeded or cancelled) within one interval
        a batch carries at most (default 2000, that is 60000 a second: more than a table can
        show, and what keeps a view's work per batch to a few milliseconds). Past it, in a flood,
        the oldest of them are left out and counted in updated()'s droppedDetail; the counts stay
        exact, and live tasks, failures and tasks already sent are always sent.
    */
    int maxFinishedPerBatch() const;
    void setMaxFinishedPerBatch(int count);

    /*!
        How many tasks that the views have not seen yet and that are still waiting or queued a
        batch carries at most (default 1000, that is 30000 a second). Past it, with a deep
        queue, the newer ones wait for a later batch, in order; those that finish meanwhile
        count against maxFinishedPerBatch(). Running tasks, failures and tasks already sent are
        never held back, and the counts stay exact: the table may list fewer queued tasks than
        the counter for a while.
    */
    int maxNewQueuedPerBatch() const;
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
