// The keeper's event stream: every state change of every task, delivered in batches.
#pragma once

#include <pk/enums.h>
#include <pk/promisekeeper_export.h>
#include <pk/taskinfo.h>

#include <QtCore/qlist.h>

namespace pk {
namespace detail {
class TaskScheduler;
class TaskCore;
} // namespace detail

/*!
    One state change of one task, as recorded when it happened, or an update of a running task
    (isStateChange() false: its progress changed or cancellation was requested; state() is the
    state it is in). Updates are coalesced: at most one per task per batch, read when delivered,
    so info() has the latest progress. A light view: it is only valid inside the EventListener
    call that passes it, on the keeper's thread; copy what you need with info().
*/
class PROMISEKEEPER_EXPORT TaskEvent
{
public:
    //! The id of the task, as Promise::id() and TaskInfo::id() give it.
    quint64 taskId() const noexcept;
    //! The state entered (for an update, the state the task is in).
    TaskState state() const noexcept { return m_state; }
    //! False for an update: progress or a cancellation request, no change of state.
    bool isStateChange() const noexcept { return !m_update; }
    //! When it was entered, on TaskInfo's monotonic clock.
    qint64 timeNsecs() const noexcept { return m_timeNs; }
    //! The worker that made the change (see TaskInfo::workerIndex()); -1 if none.
    int workerIndex() const noexcept { return m_worker; }
    //! The task's title as TaskInfo::title() gives it (a continuation's names what it continues).
    QString title() const;
    //! The task's priority (TaskOptions::priority).
    int priority() const noexcept;
    //! The task as it was just after this change (later state changes are not reflected;
    //! progress is the latest).
    TaskInfo info() const;

private:
    friend class detail::TaskScheduler;
    friend class PromiseKeeper;
    friend class PromiseKeeperPrivate;
    detail::TaskCore *m_core = nullptr; // holds a reference while the event is buffered
    qint64 m_timeNs = 0;
    TaskState m_state = TaskState::Queued;
    TaskState m_previous = TaskState::Queued; // the state left; m_state for a task's first
    qint16 m_worker = -1;
    bool m_update = false;
};

/*!
    A consumer of a keeper's event stream: the monitor, its socket server and the trace writer
    read the stream this way, and the keeper's own signals are emitted from it.

    Register with PromiseKeeper::addEventListener(). All calls come on the keeper's thread, in
    batches, in the order the changes happened (per task, always in its state order). A listener
    must not block; it may call any keeper function except add/removeEventListener().
*/
class PROMISEKEEPER_EXPORT EventListener
{
public:
    virtual ~EventListener();

    /*!
        Called once, at registration: the tasks live at that instant (waiting, queued, running)
        and the most recent finished ones (PromiseKeeper::historySize(), oldest first). Every
        event after them is delivered through taskEvents().
    */
    virtual void snapshot(const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished);

    //! A batch of \a count events starting at \a events.
    virtual void taskEvents(const TaskEvent *events, qsizetype count) = 0;

    /*!
        Events were dropped because the keeper's thread did not take them in time (its event
        loop did not run while the buffer filled up). Counts are never dropped; only detail is.
    */
    virtual void eventsDropped(quint64 count);
};

} // namespace pk
