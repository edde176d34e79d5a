// Internal: the coalescing that pk::KeeperFeed and pk::MonitorServer apply to each keeper they
// watch: one keeper's event stream turned into bounded batches of the latest TaskInfo of each
// task that changed, and for the server a mirror of the keeper's tasks for late snapshots.
#pragma once

#include "updatebounds_p.h"

#include <pk/eventstream.h>
#include <pk/monitorfeed.h>
#include <pk/promisekeeper.h>

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QPointer>
#include <QtCore/QSet>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

namespace pk::monitor {

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

/*
    The mirror's live tasks by id. Ids grow with submission, so a keeper's live tasks fall into
    a window from its oldest live task to its newest: slots indexed by id - base into a pool of
    TaskInfo, no hashing per event (a QHash of a deep queue's million tasks was most of what a
    MonitorServer cost its keeper's thread in a flood). Ids below the window go to a hash, and
    so do the oldest when the window would pass kMaxWindow slots (a task live for hours while
    millions of others come and go). Exported for its tests only.
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT LiveTasks
{
public:
    static constexpr std::size_t kMaxWindow = std::size_t(1) << 22; // 16 MB of slots at most

    TaskInfo *find(quint64 id);
    //! The entry of \a id, made (default) if needed.
    TaskInfo &insert(quint64 id);
    void erase(quint64 id);
    void clear();
    qsizetype size() const { return m_count + m_outside.size(); }
    //! Calls \a f with every live task, those of the window in id order first.
    template<typename F>
    void forEach(F &&f) const
    {
        for (const qint32 slot : m_slots) {
            if (slot >= 0)
                f(m_pool[std::size_t(slot)]);
        }
        for (const TaskInfo &info : m_outside)
            f(info);
    }

private:
    std::deque<qint32> m_slots; // id - m_base -> index into m_pool, -1 for none
    quint64 m_base = 0;
    std::vector<TaskInfo> m_pool;
    std::vector<qint32> m_free; // pool entries not in use
    qsizetype m_count = 0; // slots in use
    QHash<quint64, TaskInfo> m_outside;
};

/*
    An EventListener over one keeper that coalesces its events per task between two batches,
    and cuts a batch to the bounds of updatebounds_p.h: succeeded or cancelled tasks no view has
    seen past maxFinished are dropped detail (only counted), unseen waiting or queued tasks past
    maxNewQueued are held back for the next batch. The per-event cost is one IdIndex lookup and
    a few stores.

    Order: every change appends the entry's index to `changeLog` and stores its position there
    as the entry's `lastChange`, clearing the position it had before (kSuperseded); an entry
    dropped clears its position too. Walking the log and taking the positions not cleared gives
    the entries to send in the order of their last change, with no sorting and no look at the
    others: 4 bytes per event, and a batch reads only the entries it sends or holds back.

    Unseen: a task no view has been given yet. Without a mirror (pk::KeeperFeed, whose views
    all take the feed's one snapshot) a task is unseen if its first change in the interval is
    Waiting, or Queued without having been sent as Waiting. With a mirror (pk::MonitorServer,
    whose monitors join at any time and take their snapshots from it) a task is unseen if the
    mirror did not have it, or a snapshot carried it (markCarried()).

    The mirror (enableMirror()) holds the keeper's live tasks and its recently finished ones, as
    of the last event; it costs a hash lookup per event, which is why KeeperFeed has none.

    Thread safety: none. Everything runs on the keeper's thread, which must be the owner's
    thread; the callbacks are called there, from inside the keeper's event delivery.
*/
class TaskCoalescer : public EventListener
{
public:
    //! \a changed: something changed (a batch is due); \a snapshotArrived: the keeper gave the
    //! snapshot asked for by attach().
    TaskCoalescer(PromiseKeeper *watched, const QString &name, std::function<void()> changed,
        std::function<void()> snapshotArrived);
    ~TaskCoalescer() override;

    //! The label a keeper goes by: \a label, else its objectName(), else "keeper N" for the
    //! \a position (from 0) it was added at, so that every feed names keepers alike.
    static QString labelFor(const PromiseKeeper *keeper, const QString &label, qsizetype position);

    void snapshot(const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished) override;
    void taskEvents(const TaskEvent *events, qsizetype count) override;
    void eventsDropped(quint64 count) override;

    //! Registers with the keeper, which then gives a snapshot (now, or after its delivery).
    void attach();
    void detach();
    //! Detached: forgets the changes, the mirror and what views were sent, as a new coalescer.
    void reset();
    //! The keeper was destroyed: it forgot its listeners itself.
    void keeperGone();
    bool isAttached() const { return m_attached; }
    bool hasSnapshot() const { return m_hasSnapshot; }
    PromiseKeeper *keeper() const { return m_keeper.data(); }
    QString label() const { return m_label; }

    //! Moves the snapshot the keeper gave into \a live and \a finished, labelled; the batches
    //! after it build on it.
    void takeSnapshot(QList<TaskInfo> *live, QList<TaskInfo> *finished);
    //! Forgets the changes not sent: a snapshot to come holds their latest state.
    void discardChanges();
    /*!
        Appends this keeper's batch to \a changes (labelled, in the order of their last change)
        within the bounds; returns the dropped detail, of which \a eventsDropped (if given) is
        what the keeper itself dropped. \a heldBack is set if tasks wait for the next batch.
    */
    quint64 takeBatch(QList<TaskInfo> *changes, int maxFinished, int maxNewQueued, bool *heldBack,
        quint64 *eventsDropped = nullptr);
    //! The owner's maxFinished: past it, unseen finished tasks are left out as they come.
    void setMaxFinished(int count) { m_maxFinished = std::max(count, 0); }
    //! The keeper's status as of the last takeSnapshot(), takeBatch() or refreshStatus().
    KeeperStatus status() const { return { m_label, m_threadCount, m_counts }; }
    //! Takes the keeper's counts and thread count now (kept once the keeper is gone).
    void refreshStatus();

    /*!
        Keeps a mirror of the keeper's tasks from now on (before attach()): the keeper's snapshot
        goes into it instead of waiting for takeSnapshot(). \a eventsLost is called when the
        keeper dropped events: the mirror was taken from the keeper again and the held-back tasks
        were forgotten (they may have moved on unnoticed), so every view needs a new snapshot.
    */
    void enableMirror(std::function<void()> eventsLost);
    //! The mirror holds the keeper's snapshot and what changed since (or the keeper is gone).
    bool mirrorReady() const { return m_mirror && m_mirror->ready; }
    //! The mirror's live tasks, and its recently finished tasks, oldest first.
    const LiveTasks &mirrorLive() const { return m_mirror->live; }
    const std::deque<TaskInfo> &mirrorRecent() const { return m_mirror->recent; }
    /*!
        A snapshot carried the live tasks with ids up to \a idLimit, and the running ones: a view
        shows them, so their later changes are no longer unseen detail that could be dropped or
        held back. Over-marking only costs detail sent; missing one would leave a stale row.
    */
    void markCarried(quint64 idLimit);

private:
    struct Pending
    {
        TaskInfo info;
        qsizetype lastChange = 0; // position in changeLog; -1 for none in this interval
        bool unseen = false; // the task appeared in this interval: views never saw it
        bool droppable = false; // in m_droppable: unseen, and succeeded or cancelled
        bool dropped = false; // left out already: only counted
    };
    /*
        The tasks batches held back (unseen, waiting or queued, past maxNewQueued), oldest
        first: a batch takes from the front, and appends what it holds back of its interval's
        changes, so that its cost follows the changes of its interval and what it sends, not
        the depth of the queue (moving every held-back task into each new interval cost a
        deep queue's flood up to 20 ms a batch). A held-back task that changes leaves it for
        the interval's changes; its slot is left empty (id 0: task ids start at 1).
    */
    struct HeldBack
    {
        std::deque<Pending> entries;
        quint64 popped = 0; // entries taken from the front so far: positions are absolute
        qsizetype count = 0; // entries not taken
        IdIndex index; // id -> absolute position; stale for entries taken or popped

        //! The position of \a id's entry if it is held back, else -1.
        qsizetype find(quint64 id) const;
        void push(Pending &&p);
        //! Removes the entry at \a position (from find()) and returns it.
        Pending take(qsizetype position);
        //! Drops the empty slots at the front.
        void trim();
        void clear();
    };

    struct Mirror
    {
        // Applies \a e; returns the task's latest info, and sets \a known if the mirror had it.
        const TaskInfo &apply(const TaskEvent &e, int historySize, bool *known);
        void clear();

        LiveTasks live;
        std::deque<TaskInfo> recent;
        TaskInfo lastFinished; // when no history is kept
        bool ready = false;
        std::function<void()> eventsLost;
    };

    template<bool Mirrored>
    void coalesce(const TaskEvent *events, qsizetype count);
    // Appends \a p to the interval's changes, as changed now.
    void addPending(Pending &&p);
    // Notes the entry at \a index if it became droppable, leaving the oldest out past the bound.
    void noteIfDroppable(qsizetype index);
    void forgetHeldBack();

    QPointer<PromiseKeeper> m_keeper;
    QString m_label;
    std::function<void()> m_changed;
    std::function<void()> m_snapshotArrived;
    bool m_attached = false;

    // A deque: it grows without moving its entries (a TaskInfo each), which in a flood, with a
    // hundred thousand tasks changing between two batches, a vector's regrowth did every time.
    std::deque<Pending> m_pending;
    IdIndex m_pendingIndex;
    HeldBack m_heldBack;
    /*
        The droppable entries of the interval (unseen tasks that succeeded or were cancelled,
        final, so never to change again) in the order they became so, which is the order of
        their last change: past setMaxFinished() the oldest is left out at once
        (counted, its TaskInfo freed), during the deliveries, which are sliced, rather than
        all of a flood's at the next batch.
    */
    std::deque<qint32> m_droppable;
    int m_maxFinished = kDefaultMaxFinishedPerUpdate;
    std::vector<qint32> m_changeLog; // entry indexes, one per change
    static constexpr qint32 kSuperseded = -1; // a change log position no longer an entry's last
    quint64 m_droppedDetail = 0; // left out by the bounds, in takeBatch()
    quint64 m_eventsDropped = 0; // by the keeper, since the last batch
    // Without a mirror: tasks sent as Waiting and not sent since, whose Queued event does not
    // make them new. With one, the mirror tells.
    QSet<quint64> m_sentWaiting;
    std::unique_ptr<Mirror> m_mirror;

    bool m_hasSnapshot = false;
    QList<TaskInfo> m_snapshotLive;
    QList<TaskInfo> m_snapshotFinished;

    // As of the last batch, kept once the keeper is gone.
    TaskCounts m_counts;
    int m_threadCount = 0;
};

} // namespace pk::monitor
