#include "updatebounds_p.h"

#include <pk/eventstream.h>
#include <pk/keeperfeed.h>
#include <pk/promisekeeper.h>

#include <QtCore/QHash>
#include <QtCore/QLoggingCategory>
#include <QtCore/QPointer>
#include <QtCore/QSet>
#include <QtCore/QStringList>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <algorithm>
#include <vector>

namespace pk {

namespace {
Q_LOGGING_CATEGORY(lcKeeperFeed, "promisekeeper.monitor")
} // namespace

/*
    The listener half of the feed, one KeeperSource per keeper. Everything here runs on the
    keepers' thread, which is the feed's thread (checked in addKeeper()), so nothing is locked.

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

class KeeperFeedPrivate;

// One keeper of the feed: its listener, and what changed since the last batch.
class KeeperSource : public EventListener
{
public:
    KeeperSource(KeeperFeedPrivate *feed, PromiseKeeper *watched, const QString &name)
        : d(feed)
        , keeper(watched)
        , label(name)
    { }

    void snapshot(const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished) override;
    void taskEvents(const TaskEvent *events, qsizetype count) override;
    void eventsDropped(quint64 count) override;

    void attach();
    void detach();
    // Takes this keeper's batch: appends its changes (labelled) to \a changes, within the
    // bounds, and returns how many changes were dropped in detail.
    quint64 takeBatch(QList<TaskInfo> *changes, int maxFinished, int maxNewQueued);
    KeeperStatus status() const;

    struct Pending
    {
        TaskInfo info;
        qsizetype lastChange = 0; // position in changeLog
        bool unseen = false; // the task appeared in this interval: views never saw it
    };

    KeeperFeedPrivate *d;
    QPointer<PromiseKeeper> keeper;
    QString label;
    bool attached = false;

    std::vector<Pending> pending;
    IdIndex pendingIndex;
    std::vector<qint32> changeLog; // entry indexes, one per change
    quint64 droppedDetail = 0;
    // Tasks sent as Waiting and not sent since: their Queued event does not make them new.
    QSet<quint64> sentWaiting;

    // A snapshot from the keeper, waiting for the feed's combined snapshot.
    bool hasSnapshot = false;
    QList<TaskInfo> snapshotLive;
    QList<TaskInfo> snapshotFinished;

    // The keeper's counts and threads as of the last batch, kept once the keeper is gone.
    TaskCounts counts;
    int threadCount = 0;
};

class KeeperFeedPrivate
{
public:
    explicit KeeperFeedPrivate(KeeperFeed *feed)
        : q(feed)
    { }

    void changed();
    void flush();
    void emitSnapshot();
    // Whether every attached keeper has given the snapshot the feed waits for.
    bool snapshotComplete() const;
    void snapshotArrived();
    void reattachAll();

    KeeperFeed *q;
    std::vector<std::unique_ptr<KeeperSource>> sources;
    QTimer timer;
    int maxFinishedPerBatch = monitor::kDefaultMaxFinishedPerUpdate;
    int maxNewQueuedPerBatch = monitor::kDefaultMaxNewQueuedPerUpdate;
    bool dirty = false; // counts or thread count may have moved without a task change
    bool snapshotWanted = false; // a snapshot is due once every keeper has given its own
    bool snapshotQueued = false;
    QList<KeeperStatus> statuses; // what keepers() returns: as of the last signal
};

void KeeperSource::snapshot(const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished)
{
    // Called from addEventListener(), possibly before anybody could connect to the feed, or at
    // the end of a delivery: the feed's snapshot, of every keeper, goes out from the event loop
    // once all have given theirs (or from the next flush(), whichever comes first).
    snapshotLive = live;
    snapshotFinished = recentlyFinished;
    hasSnapshot = true;
    d->snapshotArrived();
}

void KeeperSource::taskEvents(const TaskEvent *events, qsizetype count)
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
        Q_ASSERT(p.info.id() == id);
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
            p.info = e->info(); // the error message and its type are only there
            break;
        }
    }
    d->changed();
}

void KeeperSource::eventsDropped(quint64 count)
{
    droppedDetail += count;
    d->changed();
}

void KeeperSource::attach()
{
    if (!keeper || attached)
        return;
    attached = true;
    keeper->addEventListener(this); // calls snapshot() now, or at the end of a delivery
}

void KeeperSource::detach()
{
    if (keeper && attached)
        keeper->removeEventListener(this);
    attached = false;
}

KeeperStatus KeeperSource::status() const
{
    return { label, threadCount, counts };
}

quint64 KeeperSource::takeBatch(QList<TaskInfo> *changes, int maxFinished, int maxNewQueued)
{
    // A flood: more tasks appeared and finished in this interval than views can take in
    // detail. The oldest of them are left out (and counted as dropped detail); tasks the views
    // have seen, live tasks and failures are always sent.
    const auto droppable
        = [](const Pending &p) { return monitor::isDroppableDetail(p.unseen, p.info.state()); };
    qsizetype toDrop = -qsizetype(maxFinished);
    for (const Pending &p : pending)
        toDrop += droppable(p);
    // A deep queue: tasks the views have not seen, still waiting or queued, past maxNewQueued
    // are held back for a later batch.
    const auto deferrable
        = [](const Pending &p) { return monitor::isDeferrable(p.unseen, p.info.state()); };
    int newQueuedLeft = maxNewQueued;
    std::vector<Pending> heldBack;
    changes->reserve(changes->size() + qsizetype(pending.size()) - std::max<qsizetype>(toDrop, 0));
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
                heldBack.push_back(std::move(p));
                continue;
            }
            --newQueuedLeft;
        }
        if (p.info.state() == TaskState::Waiting)
            sentWaiting.insert(p.info.id());
        else if (!sentWaiting.isEmpty())
            sentWaiting.remove(p.info.id());
        p.info.setKeeperName(label);
        changes->append(std::move(p.info));
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
    // The held-back tasks open the next batch, oldest first, still unseen.
    for (Pending &p : heldBack) {
        pendingIndex.insert(p.info.id(), qsizetype(pending.size()));
        p.lastChange = qsizetype(changeLog.size());
        changeLog.push_back(qint32(pending.size()));
        pending.push_back(std::move(p));
    }
    if (!heldBack.empty())
        d->dirty = true; // the timer goes on, for them

    if (keeper) {
        counts = keeper->counts();
        threadCount = keeper->threadCount();
    }
    return std::exchange(droppedDetail, 0);
}

void KeeperFeedPrivate::changed()
{
    dirty = true;
    if (!timer.isActive())
        timer.start();
}

bool KeeperFeedPrivate::snapshotComplete() const
{
    for (const auto &source : sources) {
        if (source->attached && !source->hasSnapshot)
            return false;
    }
    return true;
}

void KeeperFeedPrivate::snapshotArrived()
{
    snapshotWanted = true;
    if (snapshotQueued || !snapshotComplete())
        return;
    snapshotQueued = true;
    QMetaObject::invokeMethod(
        q, [this] { emitSnapshot(); }, Qt::QueuedConnection);
}

void KeeperFeedPrivate::reattachAll()
{
    // A view resets on a snapshot, so the feed's snapshot must hold every keeper's tasks:
    // each keeper gives a fresh one, and the feed sends them together.
    for (const auto &source : sources) {
        source->detach();
        source->hasSnapshot = false;
        // Changes not sent yet (a snapshot was still awaited) are older than the snapshot to
        // come, which holds their tasks' latest state: sent after it, they would go back.
        source->pending.clear();
        source->pendingIndex.clear();
        source->changeLog.clear();
    }
    for (const auto &source : sources)
        source->attach();
}

void KeeperFeedPrivate::emitSnapshot()
{
    snapshotQueued = false;
    if (!snapshotWanted || !snapshotComplete())
        return;
    snapshotWanted = false;
    QList<TaskInfo> live;
    QList<TaskInfo> finished;
    int threads = 0;
    statuses.clear();
    for (const auto &source : sources) {
        source->sentWaiting.clear();
        for (TaskInfo &info : source->snapshotLive) {
            if (info.state() == TaskState::Waiting)
                source->sentWaiting.insert(info.id());
            info.setKeeperName(source->label);
            live.append(std::move(info));
        }
        for (TaskInfo &info : source->snapshotFinished) {
            info.setKeeperName(source->label);
            finished.append(std::move(info));
        }
        source->snapshotLive.clear();
        source->snapshotFinished.clear();
        source->hasSnapshot = false;
        if (source->keeper) {
            source->threadCount = source->keeper->threadCount();
            source->counts = source->keeper->counts();
        }
        threads += source->threadCount;
        statuses.append(source->status());
    }
    // Oldest first across keepers, as each keeper's list is.
    if (sources.size() > 1) {
        std::stable_sort(
            finished.begin(), finished.end(), [](const TaskInfo &a, const TaskInfo &b) {
                return a.finishedAtNsecs() < b.finishedAtNsecs();
            });
    }
    Q_EMIT q->snapshot(live, finished, threads);
    // The snapshot has no counts: an update with them follows, even if nothing changes.
    changed();
}

void KeeperFeedPrivate::flush()
{
    emitSnapshot();
    if (snapshotWanted)
        return; // a keeper's snapshot is still to come: its changes follow it, not precede it
    if (!dirty) {
        timer.stop(); // nothing changed for a whole interval: sleep until the next event
        return;
    }
    dirty = false;

    QList<TaskInfo> changes;
    quint64 dropped = 0;
    TaskCounts counts;
    int threads = 0;
    statuses.clear();
    // Each keeper's changes in the order of their last change, keeper after keeper; the
    // bounds hold per keeper, so that a flood in one does not hide the others.
    for (const auto &source : sources) {
        dropped += source->takeBatch(&changes, maxFinishedPerBatch, maxNewQueuedPerBatch);
        counts.waiting += source->counts.waiting;
        counts.queued += source->counts.queued;
        counts.running += source->counts.running;
        counts.succeeded += source->counts.succeeded;
        counts.failed += source->counts.failed;
        counts.cancelled += source->counts.cancelled;
        threads += source->threadCount;
        statuses.append(source->status());
    }
    Q_EMIT q->updated(changes, counts, threads, dropped);
}

KeeperFeed::KeeperFeed(PromiseKeeper *keeper, QObject *parent)
    : MonitorFeed(parent)
    , d(std::make_unique<KeeperFeedPrivate>(this))
{
    d->timer.setInterval(monitor::kDefaultUpdateIntervalMs);
    connect(&d->timer, &QTimer::timeout, this, [this] { d->flush(); });
    if (!keeper) {
        qCWarning(lcKeeperFeed, "pk::KeeperFeed: no keeper given");
        return;
    }
    addKeeper(keeper);
}

KeeperFeed::~KeeperFeed()
{
    for (const auto &source : d->sources)
        source->detach();
}

void KeeperFeed::addKeeper(PromiseKeeper *keeper, const QString &label)
{
    if (!keeper) {
        qCWarning(lcKeeperFeed, "pk::KeeperFeed: no keeper given");
        return;
    }
    if (keeper->thread() != thread()) {
        // The event stream is delivered on the keeper's thread; the feed's signals must come
        // from the feed's thread, and the feed has no lock.
        qCWarning(lcKeeperFeed, "pk::KeeperFeed: create the feed in its keeper's thread");
        return;
    }
    for (const auto &source : d->sources) {
        if (source->keeper == keeper) {
            qCWarning(lcKeeperFeed, "pk::KeeperFeed: the keeper is in the feed already");
            return;
        }
    }
    QString name = label;
    if (name.isEmpty())
        name = keeper->objectName();
    if (name.isEmpty())
        name = QStringLiteral("keeper %1").arg(d->sources.size() + 1);
    // What the other keepers changed so far came before the new snapshot: sent first, unless
    // a snapshot is still awaited (then the new one supersedes them). No snapshot is sent from
    // here, so that connecting after the constructor and addKeeper() calls is still enough.
    if (!d->sources.empty() && !d->snapshotWanted)
        d->flush();
    d->sources.push_back(std::make_unique<KeeperSource>(d.get(), keeper, name));
    KeeperSource *source = d->sources.back().get();
    connect(keeper, &PromiseKeeper::threadCountChanged, this, [this] { d->changed(); });
    connect(keeper, &QObject::destroyed, this, [this, source] {
        // The keeper forgets its listeners with itself: nothing to remove.
        source->attached = false;
        source->hasSnapshot = false;
        d->flush();
        if (!isConnected())
            Q_EMIT connectionChanged(false, tr("The keeper was destroyed"));
    });
    if (d->sources.size() == 1)
        source->attach();
    else
        d->reattachAll();
}

PromiseKeeper *KeeperFeed::keeper() const
{
    return d->sources.empty() ? nullptr : d->sources.front()->keeper.data();
}

QList<PromiseKeeper *> KeeperFeed::keeperList() const
{
    QList<PromiseKeeper *> list;
    for (const auto &source : d->sources) {
        if (source->keeper)
            list.append(source->keeper);
    }
    return list;
}

QList<KeeperStatus> KeeperFeed::keepers() const
{
    return d->statuses;
}

bool KeeperFeed::isConnected() const
{
    for (const auto &source : d->sources) {
        if (source->keeper)
            return true;
    }
    return false;
}

QString KeeperFeed::sourceName() const
{
    if (!isConnected())
        return tr("no keeper");
    if (d->sources.size() == 1) {
        const QString name = d->sources.front()->keeper->objectName();
        return name.isEmpty() ? tr("keeper in this process") : tr("keeper '%1'").arg(name);
    }
    QStringList labels;
    for (const auto &source : d->sources)
        labels.append(source->label);
    return tr("%1 keepers (%2)").arg(d->sources.size()).arg(labels.join(QStringLiteral(", ")));
}

void KeeperFeed::cancelTask(quint64 taskId)
{
    // Task ids are unique in the process: at most one keeper has it.
    for (const auto &source : d->sources) {
        if (source->keeper && source->keeper->cancel(taskId))
            return;
    }
    qCDebug(lcKeeperFeed, "pk::KeeperFeed: task %llu is no longer queued", taskId);
}

void KeeperFeed::cancelAll()
{
    for (const auto &source : d->sources) {
        if (source->keeper)
            source->keeper->cancelAll();
    }
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
    d->reattachAll();
}

void KeeperFeed::flush()
{
    d->flush();
}

} // namespace pk
