// A consistent snapshot of how many tasks a keeper has in each state.
#pragma once

#include <pk/enums.h>

#include <QtCore/qglobal.h>

namespace pk {

class TaskInfo;

/*!
    Counts of a keeper's tasks, all taken at one instant. The live counts (waiting, queued,
    running) are current; the final ones are totals since the keeper was created. Reentrant.
*/
struct TaskCounts
{
    qint64 waiting = 0; //!< Tasks waiting for input promises (TaskState::Waiting).
    qint64 queued = 0; //!< Tasks in the queue, waiting for a worker (TaskState::Queued).
    qint64 running = 0; //!< Tasks a worker is running (TaskState::Running).
    qint64 succeeded = 0; //!< Tasks that ended TaskState::Succeeded.
    qint64 failed = 0; //!< Tasks that ended TaskState::Failed, time-outs included.
    qint64 cancelled = 0; //!< Tasks that ended TaskState::Cancelled.
    //! Of the failed tasks, those that ran past their time-out (TaskOptions::timeout).
    qint64 timedOut = 0;

    //! Tasks that are not finished yet.
    qint64 live() const noexcept { return waiting + queued + running; }
    //! Tasks that reached a final state.
    qint64 finished() const noexcept { return succeeded + failed + cancelled; }

    //! Counts \a n more tasks in \a state (for counts made from a list of tasks, or from
    //! state changes: a negative \a n counts tasks out).
    void add(TaskState state, qint64 n = 1) noexcept
    {
        switch (state) {
        case TaskState::Waiting:
            waiting += n;
            break;
        case TaskState::Queued:
            queued += n;
            break;
        case TaskState::Running:
            running += n;
            break;
        case TaskState::Succeeded:
            succeeded += n;
            break;
        case TaskState::Failed:
            failed += n;
            break;
        case TaskState::Cancelled:
            cancelled += n;
            break;
        }
    }

    //! Counts one more task as \a info describes it (its state, and whether it timed out).
    PROMISEKEEPER_EXPORT void add(const TaskInfo &info);

    //! Adds \a other's counts (the counts of several keepers as one).
    TaskCounts &operator+=(const TaskCounts &other) noexcept
    {
        waiting += other.waiting;
        queued += other.queued;
        running += other.running;
        succeeded += other.succeeded;
        failed += other.failed;
        cancelled += other.cancelled;
        timedOut += other.timedOut;
        return *this;
    }

    //! Whether \a a and \a b hold the same counts, timedOut included.
    friend bool operator==(const TaskCounts &a, const TaskCounts &b) noexcept
    {
        return a.waiting == b.waiting && a.queued == b.queued && a.running == b.running
            && a.succeeded == b.succeeded && a.failed == b.failed && a.cancelled == b.cancelled
            && a.timedOut == b.timedOut;
    }
    //! Whether \a a and \a b differ in any count.
    friend bool operator!=(const TaskCounts &a, const TaskCounts &b) noexcept { return !(a == b); }
};

} // namespace pk
