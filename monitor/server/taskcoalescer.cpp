#include "taskcoalescer_p.h"

#include <algorithm>
#include <utility>

namespace pk::monitor {

TaskCoalescer::TaskCoalescer(PromiseKeeper *watched, const QString &name,
    std::function<void()> changed, std::function<void()> snapshotArrived)
    : m_keeper(watched)
    , m_label(name)
    , m_changed(std::move(changed))
    , m_snapshotArrived(std::move(snapshotArrived))
{
    Q_ASSERT(m_changed && m_snapshotArrived);
}

TaskCoalescer::~TaskCoalescer()
{
    detach();
}

void TaskCoalescer::snapshot(const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished)
{
    // Called from addEventListener() or at the end of a delivery: kept until the owner takes
    // it (a feed sends one snapshot of all its keepers).
    m_snapshotLive = live;
    m_snapshotFinished = recentlyFinished;
    m_hasSnapshot = true;
    m_snapshotArrived();
}

void TaskCoalescer::taskEvents(const TaskEvent *events, qsizetype count)
{
    if (count <= 0)
        return;
    for (const TaskEvent *e = events, *end = events + count; e != end; ++e) {
        const quint64 id = e->taskId();
        const qsizetype found = m_pendingIndex.find(id);
        if (found < 0) {
            m_pendingIndex.insert(id, qsizetype(m_pending.size()));
            const TaskState state = e->state();
            const bool unseen = state == TaskState::Waiting
                || (state == TaskState::Queued
                    && (m_sentWaiting.isEmpty() || !m_sentWaiting.contains(id)));
            m_changeLog.push_back(qint32(m_pending.size()));
            m_pending.push_back({ e->info(), qsizetype(m_changeLog.size()) - 1, unseen });
            continue;
        }
        Pending &p = m_pending[std::size_t(found)];
        Q_ASSERT(p.info.id() == id);
        p.lastChange = qsizetype(m_changeLog.size());
        m_changeLog.push_back(qint32(found));
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
    m_changed();
}

void TaskCoalescer::eventsDropped(quint64 count)
{
    m_droppedDetail += count;
    m_changed();
}

void TaskCoalescer::attach()
{
    if (!m_keeper || m_attached)
        return;
    m_attached = true;
    m_keeper->addEventListener(this); // calls snapshot() now, or at the end of a delivery
}

void TaskCoalescer::detach()
{
    if (m_keeper && m_attached)
        m_keeper->removeEventListener(this);
    m_attached = false;
}

quint64 TaskCoalescer::takeBatch(
    QList<TaskInfo> *changes, int maxFinished, int maxNewQueued, bool *heldBackLeft)
{
    // A flood: more tasks appeared and finished in this interval than views can take in
    // detail. The oldest of them are left out (and counted as dropped detail); tasks the views
    // have seen, live tasks and failures are always sent.
    const auto droppable
        = [](const Pending &p) { return isDroppableDetail(p.unseen, p.info.state()); };
    qsizetype toDrop = -qsizetype(maxFinished);
    for (const Pending &p : m_pending)
        toDrop += droppable(p);
    // A deep queue: tasks the views have not seen, still waiting or queued, past maxNewQueued
    // are held back for a later batch.
    const auto deferrable = [](const Pending &p) { return isDeferrable(p.unseen, p.info.state()); };
    int newQueuedLeft = maxNewQueued;
    std::vector<Pending> heldBack;
    changes->reserve(
        changes->size() + qsizetype(m_pending.size()) - std::max<qsizetype>(toDrop, 0));
    // The changes in the order of their last change.
    for (qsizetype position = 0; position < qsizetype(m_changeLog.size()); ++position) {
        Pending &p = m_pending[std::size_t(m_changeLog[std::size_t(position)])];
        if (p.lastChange != position)
            continue; // the entry changed again later
        if (toDrop > 0 && droppable(p)) {
            --toDrop;
            ++m_droppedDetail;
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
            m_sentWaiting.insert(p.info.id());
        else if (!m_sentWaiting.isEmpty())
            m_sentWaiting.remove(p.info.id());
        p.info.setKeeperName(m_label);
        changes->append(std::move(p.info));
    }
    // The containers are reused from batch to batch, unless a flood made them much larger
    // than what they hold now.
    if (m_pending.capacity() > 65536 && m_pending.size() < m_pending.capacity() / 8)
        std::vector<Pending>().swap(m_pending);
    m_pending.clear();
    m_pendingIndex.clear();
    if (m_changeLog.capacity() > 65536 && m_changeLog.size() < m_changeLog.capacity() / 8)
        std::vector<qint32>().swap(m_changeLog);
    m_changeLog.clear();
    // The held-back tasks open the next batch, oldest first, still unseen.
    for (Pending &p : heldBack) {
        m_pendingIndex.insert(p.info.id(), qsizetype(m_pending.size()));
        p.lastChange = qsizetype(m_changeLog.size());
        m_changeLog.push_back(qint32(m_pending.size()));
        m_pending.push_back(std::move(p));
    }
    *heldBackLeft = !heldBack.empty();

    takeStatus();
    return std::exchange(m_droppedDetail, 0);
}

void TaskCoalescer::keeperGone()
{
    m_attached = false;
    m_hasSnapshot = false;
}

void TaskCoalescer::takeStatus()
{
    if (m_keeper) {
        m_counts = m_keeper->counts();
        m_threadCount = m_keeper->threadCount();
    }
}

void TaskCoalescer::takeSnapshot(QList<TaskInfo> *live, QList<TaskInfo> *finished)
{
    m_sentWaiting.clear();
    for (TaskInfo &info : m_snapshotLive) {
        if (info.state() == TaskState::Waiting)
            m_sentWaiting.insert(info.id());
        info.setKeeperName(m_label);
        live->append(std::move(info));
    }
    for (TaskInfo &info : m_snapshotFinished) {
        info.setKeeperName(m_label);
        finished->append(std::move(info));
    }
    m_snapshotLive.clear();
    m_snapshotFinished.clear();
    m_hasSnapshot = false;
    takeStatus();
}

void TaskCoalescer::discardChanges()
{
    m_pending.clear();
    m_pendingIndex.clear();
    m_changeLog.clear();
}

} // namespace pk::monitor
