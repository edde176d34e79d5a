// pk::TaskInfo: everything known about one task at one moment, as a value.
#pragma once

#include <pk/enums.h>
#include <pk/promisekeeper_export.h>

#include <QtCore/qdatetime.h>
#include <QtCore/qlist.h>
#include <QtCore/qmetatype.h>
#include <QtCore/qstring.h>

namespace pk {

/*!
    A snapshot of one task: what the keeper's signals carry, what tasks() and Promise::info()
    return, and what the monitor shows. A plain value type, cheap to copy; reentrant.

    Timestamps are kept as nanoseconds on a monotonic clock shared by the whole process (so that
    waits and run times are exact and traces line up), and converted to wall-clock QDateTime on
    request. A timestamp that has not happened yet is 0 (Nsecs) or a null QDateTime.
*/
class PROMISEKEEPER_EXPORT TaskInfo
{
    Q_GADGET
    Q_PROPERTY(quint64 id READ id WRITE setId)
    Q_PROPERTY(QString title READ title WRITE setTitle)
    Q_PROPERTY(pk::TaskState state READ state WRITE setState)
    Q_PROPERTY(int priority READ priority WRITE setPriority)
    Q_PROPERTY(QDateTime queuedAt READ queuedAt)
    Q_PROPERTY(QDateTime startedAt READ startedAt)
    Q_PROPERTY(QDateTime finishedAt READ finishedAt)
    Q_PROPERTY(int workerIndex READ workerIndex WRITE setWorkerIndex)
    Q_PROPERTY(QString errorString READ errorString WRITE setErrorString)
    Q_PROPERTY(QString errorType READ errorType WRITE setErrorType)
    Q_PROPERTY(pk::TaskKind kind READ kind WRITE setKind)
    Q_PROPERTY(QList<quint64> inputIds READ inputIds WRITE setInputIds)
    Q_PROPERTY(QString keeperName READ keeperName WRITE setKeeperName)
    Q_PROPERTY(qint64 progressMinimum READ progressMinimum)
    Q_PROPERTY(qint64 progressMaximum READ progressMaximum)
    Q_PROPERTY(qint64 progressValue READ progressValue WRITE setProgressValue)
    Q_PROPERTY(QString progressText READ progressText WRITE setProgressText)
    Q_PROPERTY(
        bool cancellationRequested READ isCancellationRequested WRITE setCancellationRequested)

public:
    TaskInfo() = default;

    //! False for a default-constructed TaskInfo; task ids start at 1.
    bool isValid() const noexcept { return m_id != 0; }

    //! Unique in the process, across all keepers; increases with submission order.
    quint64 id() const noexcept { return m_id; }
    //! Sets id().
    void setId(quint64 id) noexcept { m_id = id; }

    /*!
        The title given in TaskOptions. A continuation given none is titled after what it
        continues: "then ← decode img-020", or "then ← task 17" if that has no title either.
    */
    QString title() const { return m_title; }
    //! Sets title().
    void setTitle(const QString &title) { m_title = title; }

    //! Whether this is a submitted task, a continuation or a combinator.
    TaskKind kind() const noexcept { return m_kind; }
    //! Sets kind().
    void setKind(TaskKind kind) noexcept { m_kind = kind; }

    /*!
        The ids of the promises this task waits for (chaining by argument, combinators) or
        continues (a continuation: its one input), in argument order; empty for a plain task.
    */
    QList<quint64> inputIds() const { return m_inputIds; }
    //! Sets inputIds().
    void setInputIds(const QList<quint64> &ids) { m_inputIds = ids; }

    /*!
        The label of the task's keeper where one is known: the keeper's objectName() in what its
        signals carry, the label a monitor feed gives it (pk::KeeperFeed,
        pk::MonitorServer::addKeeper()) in what the monitor shows and records. Empty in
        Promise::info() and PromiseKeeper::tasks(), which any thread may call.
    */
    QString keeperName() const { return m_keeperName; }
    //! Sets keeperName().
    void setKeeperName(const QString &name) { m_keeperName = name; }

    //! The task's state when this snapshot was taken.
    TaskState state() const noexcept { return m_state; }
    //! Sets state().
    void setState(TaskState state) noexcept { m_state = state; }

    //! TaskOptions::priority: a higher one starts first.
    int priority() const noexcept { return m_priority; }
    //! Sets priority().
    void setPriority(int priority) noexcept { m_priority = priority; }

    //! When the task entered the queue (for a task failed at submission: when it was submitted).
    QDateTime queuedAt() const;
    //! When a worker started it; null if it never ran.
    QDateTime startedAt() const;
    //! When it reached a final state; null while it is live.
    QDateTime finishedAt() const;

    //! queuedAt() in monotonic nanoseconds (see monotonicNowNsecs()); 0 when not reached.
    qint64 queuedAtNsecs() const noexcept { return m_queuedNs; }
    //! startedAt() in monotonic nanoseconds; 0 if it never ran.
    qint64 startedAtNsecs() const noexcept { return m_startedNs; }
    //! finishedAt() in monotonic nanoseconds; 0 while it is live.
    qint64 finishedAtNsecs() const noexcept { return m_finishedNs; }
    //! Sets queuedAtNsecs().
    void setQueuedAtNsecs(qint64 ns) noexcept { m_queuedNs = ns; }
    //! Sets startedAtNsecs().
    void setStartedAtNsecs(qint64 ns) noexcept { m_startedNs = ns; }
    //! Sets finishedAtNsecs().
    void setFinishedAtNsecs(qint64 ns) noexcept { m_finishedNs = ns; }

    //! Time spent queued (until start, or until cancelled); -1 while still queued. Saturates
    //! at the limits of qint64 for timestamps too far apart (set by hand, or read from a file).
    qint64 waitNsecs() const noexcept;
    //! Time spent running; -1 if it has not run to the end. Saturates like waitNsecs().
    qint64 runNsecs() const noexcept;

    /*!
        Index of the worker that ran (or runs) the task: 0 to threadCount() - 1, 0 for tasks run
        by processPending() in manual mode, -1 for a task that never started or that
        processPending() ran on a keeper that has threads.
    */
    int workerIndex() const noexcept { return m_worker; }
    //! Sets workerIndex().
    void setWorkerIndex(int index) noexcept { m_worker = index; }

    //! The exception's what() for a failed task ("unknown exception" if it was not a
    //! std::exception); empty otherwise.
    QString errorString() const { return m_error; }
    //! Sets errorString().
    void setErrorString(const QString &error) { m_error = error; }
    //! The failed task's exception type, demangled ("std::runtime_error",
    //! "pk::DependencyError"); "unknown exception" if it was not a std::exception and the
    //! runtime cannot tell; empty otherwise.
    QString errorType() const { return m_errorType; }
    //! Sets errorType().
    void setErrorType(const QString &type) { m_errorType = type; }
    //! Whether the task failed with pk::TimeoutError: it ran past TaskOptions::timeout (what
    //! TaskCounts::timedOut counts), or its callable threw that error itself.
    bool isTimedOut() const;

    /*!
        The progress the task reported through its TaskContext: a value in a range, as
        QFutureInterface has, and a text. All 0 and empty for a task that reported none.
        This is the minimum of the range.
    */
    qint64 progressMinimum() const noexcept { return m_progressMinimum; }
    //! The maximum of the task's progress range (see progressMinimum()).
    qint64 progressMaximum() const noexcept { return m_progressMaximum; }
    //! The progress value the task reported last.
    qint64 progressValue() const noexcept { return m_progressValue; }
    //! The progress text the task reported last.
    QString progressText() const { return m_progressText; }
    //! Sets progressMinimum() and progressMaximum().
    void setProgressRange(qint64 minimum, qint64 maximum) noexcept
    {
        m_progressMinimum = minimum;
        m_progressMaximum = maximum;
    }
    //! Sets progressValue().
    void setProgressValue(qint64 value) noexcept { m_progressValue = value; }
    //! Sets progressText().
    void setProgressText(const QString &text) { m_progressText = text; }

    //! Whether cancellation was requested while the task ran (Promise::requestCancellation(),
    //! PromiseKeeper::cancelAll(), its time-out): it is "cancelling" until it ends.
    bool isCancellationRequested() const noexcept { return m_cancellationRequested; }
    //! Sets isCancellationRequested().
    void setCancellationRequested(bool requested) noexcept { m_cancellationRequested = requested; }

    //! The process id of the child process that runs (or ran) a task submitted with
    //! PromiseKeeper::submitToProcess(); 0 for a thread task and before its child is known.
    qint64 processId() const noexcept { return m_processId; }
    //! Sets processId().
    void setProcessId(qint64 pid) noexcept { m_processId = pid; }

    //! Nanoseconds on the monotonic clock all TaskInfo timestamps use.
    static qint64 monotonicNowNsecs() noexcept;
    //! The wall-clock time of a monotonic timestamp; null for 0, and for a timestamp too large
    //! to have one (past the end of qint64 nanoseconds since 1970).
    static QDateTime toDateTime(qint64 monotonicNsecs);

    //! Whether every field of \a a and \a b is equal.
    friend PROMISEKEEPER_EXPORT bool operator==(const TaskInfo &a, const TaskInfo &b) noexcept;
    //! Whether any field of \a a and \a b differs.
    friend bool operator!=(const TaskInfo &a, const TaskInfo &b) noexcept { return !(a == b); }

private:
    quint64 m_id = 0;
    QString m_title;
    qint64 m_queuedNs = 0;
    qint64 m_startedNs = 0;
    qint64 m_finishedNs = 0;
    QString m_error;
    QString m_errorType;
    QString m_keeperName;
    QList<quint64> m_inputIds;
    QString m_progressText;
    qint64 m_progressMinimum = 0;
    qint64 m_progressMaximum = 0;
    qint64 m_progressValue = 0;
    qint64 m_processId = 0;
    int m_priority = 0;
    int m_worker = -1;
    TaskState m_state = TaskState::Queued;
    TaskKind m_kind = TaskKind::Task;
    bool m_cancellationRequested = false;
};

} // namespace pk

Q_DECLARE_METATYPE(pk::TaskInfo)
