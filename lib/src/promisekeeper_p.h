// PromiseKeeper's private part: the QObject side, which lives on the keeper's thread.
#pragma once

#include "taskscheduler_p.h"

#include <pk/eventstream.h>
#include <pk/promisekeeper.h>

#include <QtCore/qbasictimer.h>
#include <QtCore/qlist.h>

#include <deque>

QT_BEGIN_NAMESPACE
class QThreadPool;
QT_END_NAMESPACE

namespace pk {

constexpr int kCollectIntervalMs = 4;
// A delivery from the event loop returns to it after about this long...
constexpr qint64 kDeliverySliceNs = 3'000'000;
// ...checking the time after this many events.
constexpr std::size_t kDeliveryChunk = 256;
// A delivered batch's buffer is reused if it is no bigger than this (1.5 MB); a flood's is freed.
constexpr std::size_t kSpareEventCapacity = std::size_t(1) << 16;

/*!
    Keeper-thread state: the event listeners and the recent history. The keeper's signals are
    emitted by deliver(), which reads the same batches the listeners get.
*/
class PromiseKeeperPrivate
{
public:
    PromiseKeeperPrivate(PromiseKeeper *q, int threadCount);
    ~PromiseKeeperPrivate();
    static PromiseKeeperPrivate *get(PromiseKeeper *keeper) { return keeper->d.get(); }

    // Takes what the workers buffered and hands it to listeners and signals. Re-entrant calls
    // (a slot that spins the event loop) are folded into the outer one, keeping the order.
    // Bounded: from the event loop, a delivery returns to it after kDeliverySliceMs and comes
    // back for the rest, so a backlog never freezes the keeper's (often the GUI) thread.
    enum class Delivery { Bounded, Everything };
    void deliver(Delivery mode);
    // Hands events to the listeners and the signals, then keeps the final ones in the history;
    // false if a slot destroyed the keeper.
    bool dispatch(TaskEvent *events, std::size_t count);
    void emitSignals(const TaskEvent *events, std::size_t count);
    // Moves the final events into the history with their references (their m_core becomes
    // null, which releaseEvents() skips): no reference round trip per task.
    void remember(TaskEvent *events, std::size_t count);
    QList<TaskInfo> history() const;
    // Drops the task references events hold (null: moved into the history).
    static void releaseEvents(const TaskEvent *events, std::size_t count) noexcept;

    // A batch taken from the workers, dispatched in slices.
    struct Backlog
    {
        detail::TaskScheduler::Batch batch;
        std::size_t next = 0; // the first event not dispatched yet
        QList<TaskInfo> live; // for joining listeners: the live tasks at the batch's end
        bool joining = false;
        bool anyFinal = false;
        bool done() const { return next == batch.events.size(); }
        void releaseRest() noexcept;
    };

    PromiseKeeper *const q;
    QThreadPool *const pool;
    detail::TaskScheduler *const shared;
    QList<EventListener *> listeners;
    QList<EventListener *> joiningListeners; // added, waiting for a batch boundary
    std::deque<TaskEvent> recent; // finished tasks' last events, holding references
    // While events flow, the keeper takes them at this interval instead of on one posted event
    // per batch: a flood costs the GUI thread a bounded number of wake-ups per second.
    QBasicTimer collectTimer;
    bool catchingUp = false; // collectTimer runs at 0 ms for a backlog
    int historySize = 256;
    TaskCounts lastCounts; // as of the last batch: what countsChanged() announced
    TaskCounts delivered; // as of the last event dispatched (PromiseKeeper::deliveredCounts())
    Backlog backlog;
    std::vector<TaskEvent> spareEvents; // empty, with capacity: the next batch's buffer
    bool delivering = false;
    bool deliverAgain = false;
};

} // namespace pk
