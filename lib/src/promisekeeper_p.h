// PromiseKeeper's private part: the QObject side, which lives on the keeper's thread.
#pragma once

#include "keepershared_p.h"

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
    void deliver();
    // Hands one batch to the listeners and the signals; false if a slot destroyed the keeper.
    bool dispatch(const detail::KeeperShared::Batch &batch);
    void emitSignals(const std::vector<TaskEvent> &events);
    void remember(const std::vector<TaskEvent> &events);
    QList<TaskInfo> history() const;
    // Drops the task references a taken batch holds.
    static void releaseEvents(const std::vector<TaskEvent> &events) noexcept;

    PromiseKeeper *const q;
    QThreadPool *const pool;
    detail::KeeperShared *const shared;
    QList<EventListener *> listeners;
    QList<EventListener *> joiningListeners; // added, waiting for a batch boundary
    std::deque<TaskEvent> recent; // finished tasks' last events, holding references
    // While events flow, the keeper takes them at this interval instead of on one posted event
    // per batch: a flood costs the GUI thread a bounded number of wake-ups per second.
    QBasicTimer collectTimer;
    int historySize = 256;
    TaskCounts lastCounts;
    bool delivering = false;
    bool deliverAgain = false;
};

} // namespace pk
