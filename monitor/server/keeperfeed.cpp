#include "updatebounds_p.h"

#include <pk/eventstream.h>
#include <pk/keeperfeed.h>
#include <pk/promisekeeper.h>

#include <QtCore/QHash>
#include <QtCore/QLoggingCategory>
#include <QtCore/QPointer>
#include <QtCore/QSet>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <algorithm>
#include <vector>

namespace pk {

namespace {
Q_LOGGING_CATEGORY(lcKeeperFeed, "promisekeeper.monitor")

constexpr int kDefaultIntervalMs = 33;
} // namespace

/*
    The listener half of the feed. Everything here runs on the keeper's thread, which is the
    feed's thread (checked at construction), so nothing is locked.

    Coalescing: `pending` holds one entry per task id that changed since the last batch, found
    through an IdIndex. A new id costs one TaskEvent::info(); a known one only takes the
    event's state, time and worker (and info() again for a failure, for its message).

    Order: every change appends the entry's index to `changeLog` and stores its position there
    as the entry's `lastChange`. Walking the log and taking only the positions that are still
    some entry's last change gives the entries in the order of their last change (the order
    updated() promises), with no sorting: 4 bytes per event.
*/

/*
    Maps the ids that changed since the last batch to their entries. Task ids are dense and
    grow with submission, so the ids of one interval nearly all fall into a window: a flat array
    indexed by id - base, which costs no hashing and no cache miss per event even when a flood
    of tasks changes. Ids below the window, or too far above it, go to a hash.
*/
class IdIndex
{
public:
    static constexpr std::size_t kMaxWindow = std::size_t(1) << 22; // 16 MB of slots at most

    qsizetype find(quint64 id) const
    {
        if (id >= m_base && id - m_base < m_used)
            return m_window[std::size_t(id - m_base)];
        const auto it = m_outside.constFind(id);
        return it == m_outside.cend() ? -1 : *it;
    }
    void insert(quint64 id, qsizetype index)
    {
        if (m_used == 0)
            m_base = id;
        if (id >= m_base && id - m_base < kMaxWindow) {
            const auto offset = std::size_t(id - m_base);
            if (offset >= m_window.size())
                m_window.resize(
                    std::min(std::max(offset + 1, 2 * m_window.size()), kMaxWindow), -1);
            m_window[offset] = qint32(index);
            m_used = std::max(m_used, offset + 1);
            return;
        }
        m_outside.insert(id, index);
    }
    void clear()
    {
        std::fill(m_window.begin(), m_window.begin() + std::ptrdiff_t(m_used), -1);
        // After a flood, give the memory back.
        if (m_window.size() > 65536 && m_used < m_window.size() / 8)
            std::vector<qint32>(std::max<std::size_t>(m_used, 1024), -1).swap(m_window);
        m_used = 0;
        m_outside.clear();
    }

private:
    std::vector<qint32> m_window;
    std::size_t m_used = 0;
    quint64 m_base = 0;
    QHash<quint64, qsizetype> m_outside;
};

class KeeperFeedPrivate : public EventListener
{
public:
    explicit KeeperFeedPrivate(KeeperFeed *feed)
        : q(feed)
    { }

    void snapshot(const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished) override;
    void taskEvents(const TaskEvent *events, qsizetype count) override;
    void eventsDropped(quint64 count) override;

    void attach();
    void detach();
    void changed();
    void flush();
    void emitSnapshot();

    struct Pending
    {
        TaskInfo info;
        qsizetype lastChange = 0; // position in changeLog
        bool unseen = false; // the task appeared in this interval: views never saw it
    };

    KeeperFeed *q;
    QPointer<PromiseKeeper> keeper;
    bool attached = false;
    QTimer timer;

    std::vector<Pending> pending;
    IdIndex pendingIndex;
    std::vector<qint32> changeLog; // entry indexes, one per change
    quint64 droppedDetail = 0;
    int maxFinishedPerBatch = monitor::kDefaultMaxFinishedPerUpdate;
    int maxNewQueuedPerBatch = monitor::kDefaultMaxNewQueuedPerUpdate;
    // Tasks sent as Waiting and not sent since: their Queued event does not make them new.
    QSet<quint64> sentWaiting;
    bool dirty = false; // counts or thread count may have moved without a task change

    bool snapshotPending = false;
    QList<TaskInfo> snapshotLive;
    QList<TaskInfo> snapshotFinished;
};

void KeeperFeedPrivate::snapshot(
    const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished)
{
    // Called from addEventListener(), possibly before anybody could connect to the feed: the
    // signal goes out from the event loop (or from the next flush(), whichever comes first).
    snapshotLive = live;
    snapshotFinished = recentlyFinished;
    if (!snapshotPending) {
        snapshotPending = true;
        QMetaObject::invokeMethod(
            q, [this] { emitSnapshot(); }, Qt::QueuedConnection);
    }
}

void KeeperFeedPrivate::taskEvents(const TaskEvent *events, qsizetype count)
{
    if (count <= 0)
        return;
    for (const TaskEvent *e = events, *end = events + count; e != end; ++e) {
        const quint64 id = e->taskId();
        const qsizetype found = pendingIndex.find(id);
        if (found < 0) {
            pendingIndex.insert(id, qsizetype(pending.size()));
            const TaskState state = e->state();
            const bool unseen = state == TaskState::Waiting
                || (state == TaskState::Queued
                    && (sentWaiting.isEmpty() || !sentWaiting.contains(id)));
            changeLog.push_back(qint32(pending.size()));
            pending.push_back({ e->info(), qsizetype(changeLog.size()) - 1, unseen });
            continue;
        }
        Pending &p = pending[std::size_t(found)];
        p.lastChange = qsizetype(changeLog.size());
        changeLog.push_back(qint32(found));
        const TaskState state = e->state();
        switch (state) {
        case TaskState::Waiting:
        case TaskState::Queued:
            p.info.setState(state);
            break;
        case TaskState::Running:
            p.info.setState(state);
            p.info.setStartedAtNsecs(e->timeNsecs());
            p.info.setWorkerIndex(e->workerIndex());
            break;
        case TaskState::Succeeded:
        case TaskState::Cancelled:
            p.info.setState(state);
            p.info.setFinishedAtNsecs(e->timeNsecs());
            if (e->workerIndex() >= 0)
                p.info.setWorkerIndex(e->workerIndex());
            break;
        case TaskState::Failed:
            p.info = e->info(); // the error message is only there
            break;
        }
    }
    changed();
}

void KeeperFeedPrivate::eventsDropped(quint64 count)
{
    droppedDetail += count;
    changed();
}

void KeeperFeedPrivate::changed()
{
    dirty = true;
    if (!timer.isActive())
        timer.start();
}

void KeeperFeedPrivate::attach()
{
    if (!keeper || attached)
        return;
    attached = true;
    keeper->addEventListener(this); // calls snapshot() now, or at the end of a delivery
}

void KeeperFeedPrivate::detach()
{
    if (keeper && attached)
        keeper->removeEventListener(this);
    attached = false;
}

void KeeperFeedPrivate::emitSnapshot()
{
    if (!snapshotPending)
        return;
    snapshotPending = false;
    const QList<TaskInfo> live = std::exchange(snapshotLive, {});
    const QList<TaskInfo> finished = std::exchange(snapshotFinished, {});
    sentWaiting.clear();
    for (const TaskInfo &info : live) {
        if (info.state() == TaskState::Waiting)
            sentWaiting.insert(info.id());
    }
    Q_EMIT q->snapshot(live, finished, keeper ? keeper->threadCount() : 0);
    // The snapshot has no counts: an update with them follows, even if nothing changes.
    changed();
}

void KeeperFeedPrivate::flush()
{
    emitSnapshot();
    if (!dirty) {
        timer.stop(); // nothing changed for a whole interval: sleep until the next event
        return;
    }
    dirty = false;

    // A flood: more tasks appeared and finished in this interval than views can take in
    // detail. The oldest of them are left out (and counted as dropped detail); tasks the views
    // have seen, live tasks and failures are always sent.
    const auto droppable
        = [](const Pending &p) { return monitor::isDroppableDetail(p.unseen, p.info.state()); };
    qsizetype toDrop = -qsizetype(maxFinishedPerBatch);
    for (const Pending &p : pending)
        toDrop += droppable(p);
    // A deep queue: tasks the views have not seen, still waiting or queued, past
    // maxNewQueuedPerBatch wait for a later batch.
    const auto deferrable
        = [](const Pending &p) { return monitor::isDeferrable(p.unseen, p.info.state()); };
    int newQueuedLeft = maxNewQueuedPerBatch;
    std::vector<Pending> deferred;
    QList<TaskInfo> changes;
    changes.reserve(qsizetype(pending.size()) - std::max<qsizetype>(toDrop, 0));
    // The changes in the order of their last change.
    for (qsizetype position = 0; position < qsizetype(changeLog.size()); ++position) {
        Pending &p = pending[std::size_t(changeLog[std::size_t(position)])];
        if (p.lastChange != position)
            continue; // the entry changed again later
        if (toDrop > 0 && droppable(p)) {
            --toDrop;
            ++droppedDetail;
            continue;
        }
        if (deferrable(p)) {
            if (newQueuedLeft == 0) {
                deferred.push_back(std::move(p));
                continue;
            }
            --newQueuedLeft;
        }
        if (p.info.state() == TaskState::Waiting)
            sentWaiting.insert(p.info.id());
        else if (!sentWaiting.isEmpty())
            sentWaiting.remove(p.info.id());
        changes.append(std::move(p.info));
    }
    // The containers are reused from batch to batch, unless a flood made them much larger
    // than what they hold now.
    if (pending.capacity() > 65536 && pending.size() < pending.capacity() / 8)
        std::vector<Pending>().swap(pending);
    pending.clear();
    pendingIndex.clear();
    if (changeLog.capacity() > 65536 && changeLog.size() < changeLog.capacity() / 8)
        std::vector<qint32>().swap(changeLog);
    changeLog.clear();
    // The deferred tasks open the next batch, oldest first, still unseen.
    for (Pending &p : deferred) {
        pendingIndex.insert(p.info.id(), qsizetype(pending.size()));
        p.lastChange = qsizetype(changeLog.size());
        changeLog.push_back(qint32(pending.size()));
        pending.push_back(std::move(p));
    }
    if (!deferred.empty())
        dirty = true; // the timer goes on, for them

    const TaskCounts counts = keeper ? keeper->counts() : TaskCounts();
    const int threads = keeper ? keeper->threadCount() : 0;
    Q_EMIT q->updated(changes, counts, threads, std::exchange(droppedDetail, 0));
}

KeeperFeed::KeeperFeed(PromiseKeeper *keeper, QObject *parent)
    : MonitorFeed(parent)
    , d(std::make_unique<KeeperFeedPrivate>(this))
{
    d->keeper = keeper;
    d->timer.setInterval(kDefaultIntervalMs);
    connect(&d->timer, &QTimer::timeout, this, [this] { d->flush(); });
    if (!keeper) {
        qCWarning(lcKeeperFeed, "pk::KeeperFeed: no keeper given");
        return;
    }
    if (keeper->thread() != thread()) {
        // The event stream is delivered on the keeper's thread; the feed's signals must come
        // from the feed's thread, and the feed has no lock.
        qCWarning(lcKeeperFeed, "pk::KeeperFeed: create the feed in its keeper's thread");
        d->keeper = nullptr;
        return;
    }
    connect(keeper, &PromiseKeeper::threadCountChanged, this, [this] { d->changed(); });
    connect(keeper, &QObject::destroyed, this, [this] {
        // The keeper forgets its listeners with itself: nothing to remove.
        d->attached = false;
        d->flush();
        Q_EMIT connectionChanged(false, tr("The keeper was destroyed"));
    });
    d->attach();
}

KeeperFeed::~KeeperFeed()
{
    d->detach();
}

PromiseKeeper *KeeperFeed::keeper() const
{
    return d->keeper;
}

bool KeeperFeed::isConnected() const
{
    return d->keeper != nullptr;
}

QString KeeperFeed::sourceName() const
{
    if (!d->keeper)
        return tr("no keeper");
    const QString name = d->keeper->objectName();
    return name.isEmpty() ? tr("keeper in this process") : tr("keeper '%1'").arg(name);
}

void KeeperFeed::cancelTask(quint64 taskId)
{
    if (d->keeper && !d->keeper->cancel(taskId))
        qCDebug(lcKeeperFeed, "pk::KeeperFeed: task %llu is no longer queued", taskId);
}

void KeeperFeed::cancelAll()
{
    if (d->keeper)
        d->keeper->cancelAll();
}

int KeeperFeed::updateInterval() const
{
    return d->timer.interval();
}

void KeeperFeed::setUpdateInterval(int msecs)
{
    d->timer.setInterval(qMax(1, msecs));
}

int KeeperFeed::maxFinishedPerBatch() const
{
    return d->maxFinishedPerBatch;
}

void KeeperFeed::setMaxFinishedPerBatch(int count)
{
    d->maxFinishedPerBatch = qMax(1, count);
}

int KeeperFeed::maxNewQueuedPerBatch() const
{
    return d->maxNewQueuedPerBatch;
}

void KeeperFeed::setMaxNewQueuedPerBatch(int count)
{
    d->maxNewQueuedPerBatch = qMax(1, count);
}

void KeeperFeed::requestSnapshot()
{
    // Changes collected so far happened before the new snapshot: send them first, so that a
    // view never applies an older state after the newer snapshot.
    d->flush();
    d->detach();
    d->attach();
}

void KeeperFeed::flush()
{
    d->flush();
}

} // namespace pk
