#include "taskcoalescer_p.h"

#include <pk/keeperfeed.h>
#include <pk/promisekeeper.h>

#include <QtCore/QLoggingCategory>
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
    One TaskCoalescer per keeper, all on the feed's thread (checked in addKeeper()), so nothing
    is locked. A batch is every keeper's batch, keeper after keeper; a snapshot is every
    keeper's snapshot, sent once all have given theirs.
*/
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
    std::vector<std::unique_ptr<monitor::TaskCoalescer>> sources;
    QTimer timer;
    int maxFinishedPerBatch = monitor::kDefaultMaxFinishedPerUpdate;
    int maxNewQueuedPerBatch = monitor::kDefaultMaxNewQueuedPerUpdate;
    bool dirty = false; // counts or thread count may have moved without a task change
    bool snapshotWanted = false; // a snapshot is due once every keeper has given its own
    bool snapshotQueued = false;
    QList<KeeperStatus> statuses; // what keepers() returns: as of the last signal
};

void KeeperFeedPrivate::changed()
{
    dirty = true;
    if (!timer.isActive())
        timer.start();
}

bool KeeperFeedPrivate::snapshotComplete() const
{
    for (const auto &source : sources) {
        if (source->isAttached() && !source->hasSnapshot())
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
        // Changes not sent yet (a snapshot was still awaited) are older than the snapshot to
        // come, which holds their tasks' latest state: sent after it, they would go back.
        source->discardChanges();
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
        source->takeSnapshot(&live, &finished);
        const KeeperStatus status = source->status();
        threads += status.threadCount;
        statuses.append(status);
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
        bool heldBack = false;
        dropped
            += source->takeBatch(&changes, maxFinishedPerBatch, maxNewQueuedPerBatch, &heldBack);
        if (heldBack)
            dirty = true; // the timer goes on, for them
        const KeeperStatus status = source->status();
        counts += status.counts;
        threads += status.threadCount;
        statuses.append(status);
    }
    Q_EMIT q->updated(changes, counts, threads, dropped);
}

KeeperFeed::KeeperFeed(PromiseKeeper *keeper, QObject *parent)
    : KeeperFeed(keeper, QString(), parent)
{ }

KeeperFeed::KeeperFeed(PromiseKeeper *keeper, const QString &label, QObject *parent)
    : MonitorFeed(parent)
    , d(std::make_unique<KeeperFeedPrivate>(this))
{
    d->timer.setInterval(monitor::kDefaultUpdateIntervalMs);
    connect(&d->timer, &QTimer::timeout, this, [this] { d->flush(); });
    if (!keeper) {
        qCWarning(lcKeeperFeed, "pk::KeeperFeed: no keeper given");
        return;
    }
    addKeeper(keeper, label);
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
        if (source->keeper() == keeper) {
            qCWarning(lcKeeperFeed, "pk::KeeperFeed: the keeper is in the feed already");
            return;
        }
    }
    const QString name
        = monitor::TaskCoalescer::labelFor(keeper, label, qsizetype(d->sources.size()));
    // What the other keepers changed so far came before the new snapshot: sent first, unless
    // a snapshot is still awaited (then the new one supersedes them). No snapshot is sent from
    // here, so that connecting after the constructor and addKeeper() calls is still enough.
    if (!d->sources.empty() && !d->snapshotWanted)
        d->flush();
    d->sources.push_back(std::make_unique<monitor::TaskCoalescer>(
        keeper, name, [this] { d->changed(); }, [this] { d->snapshotArrived(); }));
    monitor::TaskCoalescer *source = d->sources.back().get();
    source->setMaxFinished(d->maxFinishedPerBatch);
    connect(keeper, &PromiseKeeper::threadCountChanged, this, [this] { d->changed(); });
    connect(keeper, &QObject::destroyed, this, [this, source] {
        // The keeper forgets its listeners with itself: nothing to remove.
        source->keeperGone();
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
    return d->sources.empty() ? nullptr : d->sources.front()->keeper();
}

QList<PromiseKeeper *> KeeperFeed::keeperList() const
{
    QList<PromiseKeeper *> list;
    for (const auto &source : d->sources) {
        if (source->keeper())
            list.append(source->keeper());
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
        if (source->keeper())
            return true;
    }
    return false;
}

QString KeeperFeed::sourceName() const
{
    if (!isConnected())
        return tr("no keeper");
    if (d->sources.size() == 1) {
        const QString name = d->sources.front()->keeper()->objectName();
        return name.isEmpty() ? tr("keeper in this process") : tr("keeper '%1'").arg(name);
    }
    QStringList labels;
    for (const auto &source : d->sources)
        labels.append(source->label());
    return tr("%1 keepers (%2)").arg(d->sources.size()).arg(labels.join(QStringLiteral(", ")));
}

void KeeperFeed::cancelTask(quint64 taskId)
{
    // Task ids are unique in the process: at most one keeper has it.
    for (const auto &source : d->sources) {
        if (source->keeper() && source->keeper()->requestCancellation(taskId))
            return;
    }
    qCDebug(lcKeeperFeed, "pk::KeeperFeed: task %llu is not live any more", taskId);
}

void KeeperFeed::cancelAll()
{
    for (const auto &source : d->sources) {
        if (source->keeper())
            source->keeper()->cancelAll();
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
    for (const auto &source : d->sources)
        source->setMaxFinished(d->maxFinishedPerBatch);
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
