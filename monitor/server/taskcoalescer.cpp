#include "taskcoalescer_p.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace pk::monitor {

namespace {
// What a keeper keeps of its finished tasks, for a mirror whose keeper is gone.
constexpr int kDefaultHistory = 256;
} // namespace

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

QString TaskCoalescer::labelFor(
    const PromiseKeeper *keeper, const QString &label, qsizetype position)
{
    if (!label.isEmpty())
        return label;
    if (!keeper->objectName().isEmpty())
        return keeper->objectName();
    return QStringLiteral("keeper %1").arg(position + 1);
}

void TaskCoalescer::enableMirror(std::function<void()> eventsLost)
{
    // The snapshot goes into the mirror: enabled later, the mirror would miss it.
    Q_ASSERT(!m_attached && eventsLost);
    m_mirror = std::make_unique<Mirror>();
    m_mirror->eventsLost = std::move(eventsLost);
}

void TaskCoalescer::snapshot(const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished)
{
    if (m_mirror) {
        // The monitors' snapshots are taken from the mirror, as often as they join.
        m_mirror->clear();
        for (const TaskInfo &info : live)
            m_mirror->live.insert(info.id()) = info;
        m_mirror->recent.assign(recentlyFinished.begin(), recentlyFinished.end());
        m_mirror->ready = true;
        m_snapshotArrived();
        return;
    }
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
    // Decided once per delivery, so that a coalescer without a mirror pays nothing for it.
    if (m_mirror)
        coalesce<true>(events, count);
    else
        coalesce<false>(events, count);
    m_changed();
}

template<bool Mirrored>
void TaskCoalescer::coalesce(const TaskEvent *events, qsizetype count)
{
    int historySize = kDefaultHistory;
    if constexpr (Mirrored) {
        if (m_keeper)
            historySize = std::max(m_keeper->historySize(), 0);
    }
    for (const TaskEvent *e = events, *end = events + count; e != end; ++e) {
        const quint64 id = e->taskId();
        const TaskState state = e->state();
        bool known = false;
        const TaskInfo *latest = nullptr;
        if constexpr (Mirrored)
            latest = &m_mirror->apply(*e, historySize, &known);
        qsizetype found = m_pendingIndex.find(id);
        const qsizetype heldAt = found < 0 && m_heldBack.count > 0 ? m_heldBack.find(id) : -1;
        if (heldAt >= 0) {
            // Held back by a batch: its latest state goes with this interval's changes,
            // still unseen.
            found = qsizetype(m_pending.size());
            m_pendingIndex.insert(id, found);
            m_pending.push_back(m_heldBack.take(heldAt));
            m_pending.back().lastChange = -1; // its position was in an earlier interval's log
        }
        if (found < 0) {
            m_pendingIndex.insert(id, qsizetype(m_pending.size()));
            bool unseen = false;
            if constexpr (Mirrored)
                unseen = !known;
            else
                unseen = state == TaskState::Waiting
                    || (state == TaskState::Queued
                        && (m_sentWaiting.isEmpty() || !m_sentWaiting.contains(id)));
            m_changeLog.push_back(qint32(m_pending.size()));
            m_pending.push_back(
                { latest ? *latest : e->info(), qsizetype(m_changeLog.size()) - 1, unseen });
            noteIfDroppable(qsizetype(m_pending.size()) - 1);
            continue;
        }
        Pending &p = m_pending[std::size_t(found)];
        Q_ASSERT(p.info.id() == id);
        if (p.dropped)
            continue; // left out already: only counted, whatever it does next
        if (p.lastChange >= 0)
            m_changeLog[std::size_t(p.lastChange)] = kSuperseded;
        p.lastChange = qsizetype(m_changeLog.size());
        m_changeLog.push_back(qint32(found));
        if constexpr (Mirrored) {
            p.info = *latest;
            noteIfDroppable(found);
            continue;
        }
        switch (state) {
        case TaskState::Waiting:
            p.info.setState(state);
            break;
        case TaskState::Queued:
            p.info.setState(state);
            p.info.setQueuedAtNsecs(e->timeNsecs());
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
        noteIfDroppable(found);
    }
}

TaskInfo *LiveTasks::find(quint64 id)
{
    if (id >= m_base && id - m_base < m_slots.size()) {
        const qint32 slot = m_slots[std::size_t(id - m_base)];
        return slot >= 0 ? &m_pool[std::size_t(slot)] : nullptr;
    }
    const auto it = m_outside.find(id);
    return it == m_outside.end() ? nullptr : &it.value();
}

TaskInfo &LiveTasks::insert(quint64 id)
{
    if (TaskInfo *known = find(id))
        return *known;
    if (m_slots.empty())
        m_base = id;
    if (id < m_base)
        return m_outside[id];
    // The oldest go to the hash rather than the window growing past its bound.
    while (id - m_base >= kMaxWindow) {
        const qint32 slot = m_slots.front();
        if (slot >= 0) {
            m_outside.insert(m_base, std::move(m_pool[std::size_t(slot)]));
            m_pool[std::size_t(slot)] = TaskInfo();
            m_free.push_back(slot);
            --m_count;
        }
        m_slots.pop_front();
        ++m_base;
        if (m_slots.empty()) {
            m_base = id;
            break;
        }
    }
    const auto offset = std::size_t(id - m_base);
    if (offset >= m_slots.size())
        m_slots.resize(offset + 1, -1);
    qint32 slot;
    if (m_free.empty()) {
        slot = qint32(m_pool.size());
        m_pool.emplace_back();
    } else {
        slot = m_free.back();
        m_free.pop_back();
    }
    m_slots[offset] = slot;
    ++m_count;
    return m_pool[std::size_t(slot)];
}

void LiveTasks::erase(quint64 id)
{
    if (id < m_base || id - m_base >= m_slots.size()) {
        m_outside.remove(id);
        return;
    }
    qint32 &slot = m_slots[std::size_t(id - m_base)];
    if (slot < 0)
        return;
    m_pool[std::size_t(slot)] = TaskInfo(); // its strings go now
    m_free.push_back(slot);
    slot = -1;
    --m_count;
    if (m_count == 0) {
        // After a flood, give the memory back.
        const bool large = m_pool.size() > 4096;
        m_slots.clear();
        if (large) {
            std::vector<TaskInfo>().swap(m_pool);
            std::vector<qint32>().swap(m_free);
        }
        return;
    }
    while (m_slots.front() < 0) {
        m_slots.pop_front();
        ++m_base;
    }
}

void LiveTasks::clear()
{
    m_slots.clear();
    std::vector<TaskInfo>().swap(m_pool);
    std::vector<qint32>().swap(m_free);
    m_count = 0;
    m_outside.clear();
}

const TaskInfo &TaskCoalescer::Mirror::apply(const TaskEvent &e, int historySize, bool *known)
{
    TaskInfo *found = live.find(e.taskId());
    *known = found != nullptr;
    const TaskState state = e.state();
    TaskInfo info;
    // The common steps (start, success, cancel) update the known TaskInfo in place; the others
    // (a task's first event, a queued time that changes, a failure's message) take the full
    // info from the event.
    if (found
        && (state == TaskState::Running || state == TaskState::Succeeded
            || state == TaskState::Cancelled)) {
        found->setState(state);
        if (state == TaskState::Running) {
            found->setStartedAtNsecs(e.timeNsecs());
            found->setWorkerIndex(e.workerIndex());
            return *found;
        }
        found->setFinishedAtNsecs(e.timeNsecs());
        if (e.workerIndex() >= 0)
            found->setWorkerIndex(e.workerIndex());
        info = std::move(*found);
        live.erase(e.taskId());
    } else {
        info = e.info();
        if (!isFinal(state)) {
            TaskInfo &mirrored = found ? *found : live.insert(e.taskId());
            mirrored = std::move(info);
            return mirrored;
        }
        if (found)
            live.erase(e.taskId());
    }
    // Finished: into the history, as long as the keeper's.
    Q_ASSERT(isFinal(info.state()));
    if (historySize == 0) {
        lastFinished = std::move(info);
        return lastFinished;
    }
    while (recent.size() >= std::size_t(historySize))
        recent.pop_front();
    recent.push_back(std::move(info));
    return recent.back();
}

void TaskCoalescer::Mirror::clear()
{
    live.clear();
    recent.clear();
    ready = false;
}

void TaskCoalescer::eventsDropped(quint64 count)
{
    m_eventsDropped += count;
    if (m_mirror) {
        // The mirror missed changes: take the live tasks from the keeper again. Counts were
        // never dropped. The held-back tasks may have moved on unnoticed; the snapshots the
        // views now need carry the live ones.
        forgetHeldBack();
        if (m_keeper) {
            m_mirror->live.clear();
            const QList<TaskInfo> tasks = m_keeper->tasks();
            for (const TaskInfo &info : tasks)
                m_mirror->live.insert(info.id()) = info;
        }
        m_mirror->eventsLost();
    }
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

void TaskCoalescer::reset()
{
    Q_ASSERT(!m_attached);
    discardChanges();
    m_sentWaiting.clear();
    m_snapshotLive.clear();
    m_snapshotFinished.clear();
    m_hasSnapshot = false;
    if (m_mirror)
        m_mirror->clear();
}

quint64 TaskCoalescer::takeBatch(QList<TaskInfo> *changes, int maxFinished, int maxNewQueued,
    bool *heldBackLeft, quint64 *eventsDropped)
{
    // A flood: more tasks appeared and finished in this interval than views can take in
    // detail. The oldest of them are left out (and counted as dropped detail); tasks the views
    // have seen, live tasks and failures are always sent.
    // (Most were left out as they came, past setMaxFinished(): see m_droppable.)
    const auto droppable = [](const Pending &p) { return p.droppable; };
    qsizetype toDrop = qsizetype(m_droppable.size()) - qsizetype(maxFinished);
    // A deep queue: tasks the views have not seen, still waiting or queued, past maxNewQueued
    // are held back for a later batch.
    const auto deferrable = [](const Pending &p) { return isDeferrable(p.unseen, p.info.state()); };
    int newQueuedLeft = maxNewQueued;
    changes->reserve(changes->size() + qsizetype(m_pending.size()) - std::max<qsizetype>(toDrop, 0)
        + std::min<qsizetype>(m_heldBack.count, maxNewQueued));
    const bool trackWaiting = !m_mirror;
    const auto send = [&](Pending &p) {
        if (trackWaiting) {
            if (p.info.state() == TaskState::Waiting)
                m_sentWaiting.insert(p.info.id());
            else if (!m_sentWaiting.isEmpty())
                m_sentWaiting.remove(p.info.id());
        }
        p.info.setKeeperName(m_label);
        changes->append(std::move(p.info));
    };
    // The tasks held back before open the batch, oldest first, still unseen.
    while (newQueuedLeft > 0 && m_heldBack.count > 0) {
        m_heldBack.trim();
        Pending p = m_heldBack.take(0);
        Q_ASSERT(deferrable(p));
        --newQueuedLeft;
        send(p);
    }
    m_heldBack.trim();
    // Then the interval's changes in the order of their last change.
    // A sequential walk that reads only the entries it takes: superseded positions and
    // entries left out were cleared as they went.
    for (qsizetype position = 0; position < qsizetype(m_changeLog.size()); ++position) {
        const qint32 entry = m_changeLog[std::size_t(position)];
        if (entry == kSuperseded)
            continue;
        Pending &p = m_pending[std::size_t(entry)];
        Q_ASSERT(p.lastChange == position && !p.dropped);
        if (toDrop > 0 && droppable(p)) {
            --toDrop;
            ++m_droppedDetail;
            continue;
        }
        if (deferrable(p)) {
            if (newQueuedLeft == 0) {
                m_heldBack.push(std::move(p));
                continue;
            }
            --newQueuedLeft;
        }
        send(p);
    }
    *heldBackLeft = m_heldBack.count > 0;
    // The containers are reused from batch to batch, unless a flood made the change log much
    // larger than what it holds now; the deque of entries gives its blocks back as it clears.
    m_pending.clear();
    m_pendingIndex.clear();
    m_droppable.clear();
    if (m_changeLog.capacity() > 65536 && m_changeLog.size() < m_changeLog.capacity() / 8)
        std::vector<qint32>().swap(m_changeLog);
    m_changeLog.clear();

    refreshStatus();
    if (eventsDropped)
        *eventsDropped = m_eventsDropped;
    return std::exchange(m_droppedDetail, 0) + std::exchange(m_eventsDropped, 0);
}

void TaskCoalescer::addPending(Pending &&p)
{
    m_pendingIndex.insert(p.info.id(), qsizetype(m_pending.size()));
    p.lastChange = qsizetype(m_changeLog.size());
    m_changeLog.push_back(qint32(m_pending.size()));
    m_pending.push_back(std::move(p));
}

void TaskCoalescer::noteIfDroppable(qsizetype index)
{
    Pending &p = m_pending[std::size_t(index)];
    if (p.droppable || !isDroppableDetail(p.unseen, p.info.state()))
        return;
    p.droppable = true;
    m_droppable.push_back(qint32(index));
    if (qsizetype(m_droppable.size()) <= qsizetype(m_maxFinished))
        return;
    Pending &oldest = m_pending[std::size_t(m_droppable.front())];
    m_droppable.pop_front();
    oldest.dropped = true;
    m_changeLog[std::size_t(oldest.lastChange)] = kSuperseded;
    const quint64 id = oldest.info.id();
    oldest.info = TaskInfo(); // its strings go now
    oldest.info.setId(id);
    ++m_droppedDetail;
}

void TaskCoalescer::forgetHeldBack()
{
    m_heldBack.clear();
}

qsizetype TaskCoalescer::HeldBack::find(quint64 id) const
{
    const qsizetype at = index.find(id);
    if (at < 0 || quint64(at) < popped)
        return -1; // never held back, or taken from the front since
    const auto offset = std::size_t(quint64(at) - popped);
    if (offset >= entries.size() || entries[offset].info.id() != id)
        return -1; // taken since (and maybe held back again, elsewhere)
    return qsizetype(offset);
}

void TaskCoalescer::HeldBack::push(Pending &&p)
{
    // The index holds positions as 32-bit numbers: counted from 0 again before they overflow.
    if (popped + entries.size() >= quint64(std::numeric_limits<qint32>::max())) {
        trim();
        index.clear();
        popped = 0;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            if (entries[i].info.id() != 0)
                index.insert(entries[i].info.id(), qsizetype(i));
        }
    }
    Q_ASSERT(p.info.id() != 0);
    index.insert(p.info.id(), qsizetype(popped + entries.size()));
    entries.push_back(std::move(p));
    ++count;
}

TaskCoalescer::Pending TaskCoalescer::HeldBack::take(qsizetype position)
{
    Pending &slot = entries[std::size_t(position)];
    Q_ASSERT(position >= 0 && std::size_t(position) < entries.size() && slot.info.id() != 0);
    Pending p = std::move(slot);
    slot.info = TaskInfo(); // empty: id 0
    if (--count == 0)
        clear();
    return p;
}

void TaskCoalescer::HeldBack::trim()
{
    while (!entries.empty() && entries.front().info.id() == 0) {
        entries.pop_front();
        ++popped;
    }
}

void TaskCoalescer::HeldBack::clear()
{
    entries.clear();
    popped = 0;
    count = 0;
    index.clear();
}

void TaskCoalescer::markCarried(quint64 idLimit)
{
    Q_ASSERT(m_mirror); // only a mirror's snapshots carry tasks the coalescer knows of
    for (Pending &p : m_pending) {
        const TaskState state = p.info.state();
        if (p.unseen && !isFinal(state) && (state == TaskState::Running || p.info.id() <= idLimit))
            p.unseen = false;
    }
    // Held-back tasks the snapshot carried are seen now: sent with the next batch, unbounded.
    for (std::size_t i = 0; i < m_heldBack.entries.size() && m_heldBack.count > 0; ++i) {
        const quint64 id = m_heldBack.entries[i].info.id();
        if (id == 0 || id > idLimit)
            continue;
        Pending p = m_heldBack.take(qsizetype(i));
        p.unseen = false;
        addPending(std::move(p));
    }
    m_heldBack.trim();
}

void TaskCoalescer::keeperGone()
{
    m_attached = false;
    m_hasSnapshot = false;
    if (m_mirror) {
        // Its tasks are gone with it: the held-back ones are never to be sent as still queued,
        // and the snapshots show none live.
        m_mirror->live.clear();
        forgetHeldBack();
        m_mirror->ready = true;
    }
}

void TaskCoalescer::refreshStatus()
{
    if (m_keeper) {
        // As of the last event coalesced, not the keeper's now (ahead of it by the events not
        // delivered yet): the counts a view shows beside the rows agree with them.
        m_counts = m_keeper->deliveredCounts();
        m_threadCount = m_keeper->threadCount();
    }
}

void TaskCoalescer::takeSnapshot(QList<TaskInfo> *live, QList<TaskInfo> *finished)
{
    Q_ASSERT(!m_mirror); // a mirror keeps its snapshot
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
    refreshStatus();
}

void TaskCoalescer::discardChanges()
{
    m_pending.clear();
    m_pendingIndex.clear();
    m_changeLog.clear();
    m_heldBack.clear();
    m_droppable.clear();
}

} // namespace pk::monitor
