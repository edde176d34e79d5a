// pk::TraceWriter: records a keeper's event stream and writes it as a Chrome Trace Event file
// (opens in Perfetto and chrome://tracing).
#pragma once

#include <pk/eventstream.h>
#include <pk/promisekeeper_export.h>
#include <pk/taskinfo.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

#include <memory>

QT_BEGIN_NAMESPACE
class QIODevice;
QT_END_NAMESPACE

namespace pk {

class TraceWriterPrivate;

/*!
    An EventListener that records what a keeper's tasks do and writes it in the Chrome Trace Event
    JSON format, which Perfetto (ui.perfetto.dev), chrome://tracing and speedscope open:

    \li one process, named processName() (the program), with the program's pid, processId();
    \li per keeper, one track per worker, named after the keeper and the worker
        ("images · worker 0"; "worker 0" for a keeper without a name), and one "queue"
        track ("images · queue"). The keeper of a task is its TaskInfo::keeperName(), or
        keeperName() for tasks that name none (the keeper this writer listens to). The tracks of
        two keepers never share a tid: keeper k (in the order met) has tids k * 200000 +
        worker + 1, its queue k * 200000 + 100001;
    \li one complete event ("ph":"X") per task run, named after the task's title ("task <id>"
        if it has none), on its worker's track, with the task's id, title, keeper, final state,
        kind, priority, worker, input ids, error type and error in "args". No two slices of a
        track overlap as a viewer reads them (as doubles): "ts" and "dur" are exact
        nanoseconds, and a "dur" whose sum with "ts" would round past the next slice's "ts" is
        shortened by as little as it takes (also as speedscope computes it, from the first
        slice of the track). A run of no length is an instant event ("ph":"i", "s":"t") on
        its track instead;
    \li the time each task spent queued as an async slice ("ph":"b"/"e", category "queue",
        "id" = task id) on its keeper's queue track (never tid 0, which Perfetto reads as "no
        thread"). Every such slice is named "queued", with the task's args in its "b" event:
        viewers put the async slices of one name together, where a name per task made a track
        per task;
    \li counters ("ph":"C") "queued" and "running" over all keepers, sampled when they change,
        at most one sample per millisecond;
    \li metadata: process and thread names, and in "otherData" the producer, the layout version
        ("format": 3; 2 had pid 1 and one set of tracks; in 1 each queue wait was named after
        its task), the program's name and pid, the thread count, the keepers with their thread
        counts, and how much was dropped.

    Timestamps are microseconds (with nanosecond decimals) from the earliest recorded one; the
    monotonic base is kept in "otherData" so that pk::TraceReader gets the TaskInfo values back.

    \code
    pk::TraceWriter trace;
    trace.setKeeperName(QStringLiteral("images"));
    keeper.addEventListener(&trace); // on the keeper's thread
    ... // run tasks
    keeper.removeEventListener(&trace);
    trace.setThreadCount(keeper.threadCount());
    trace.save(QStringLiteral("run.trace.json"));
    \endcode

    Memory is bounded: at most maxTasks() finished tasks are kept (the first ones); later ones are
    counted in droppedTaskCount() and reported in the file. Tasks still live when the trace is
    written appear with their state so far (a running task ends at the last recorded time).

    Thread safety: like any listener, a TraceWriter is called on its keeper's thread; use it
    (including toJson() and save()) from that thread only, or after removing it from the keeper.
*/
class PROMISEKEEPER_EXPORT TraceWriter : public EventListener
{
public:
    //! The default of maxTasks(): a million finished tasks.
    static constexpr qsizetype DefaultMaxTasks = 1000000;

    //! Makes an empty writer that keeps at most \a maxTasks finished tasks (see setMaxTasks()).
    explicit TraceWriter(qsizetype maxTasks = DefaultMaxTasks);
    ~TraceWriter() override;
    TraceWriter(const TraceWriter &) = delete;
    TraceWriter &operator=(const TraceWriter &) = delete;

    //! How many finished tasks are kept at most; later ones are dropped and counted.
    qsizetype maxTasks() const;
    //! Sets the cap; values below 0 count as 0. Tasks already recorded are kept.
    void setMaxTasks(qsizetype maxTasks);

    /*!
        The keeper's worker count, written into the file (and read back by pk::TraceReader), and
        used to name an empty track for every worker. -1 (the default) means unknown: the tracks
        of the workers that ran something are named.
    */
    int threadCount() const;
    //! Sets threadCount() to \a threadCount; values below -1 count as -1.
    void setThreadCount(int threadCount);

    /*!
        The thread count of \a keeper (a TaskInfo::keeperName()), for a writer that records
        several keepers; -1 unsets it. Without it, threadCount() counts for the keeper of
        keeperName(), or for the only keeper recorded, and other keepers get a track for each
        worker that ran something.
    */
    void setKeeperThreadCount(const QString &keeper, int threadCount);

    //! The process name shown by trace viewers (the program's); the application name by default.
    QString processName() const;
    //! Sets processName() to \a name, for a trace that shows another program.
    void setProcessName(const QString &name);

    //! The pid of the process in the trace (the program's); this process's by default.
    qint64 processId() const;
    //! Sets processId() to \a pid, for a trace that shows another program.
    void setProcessId(qint64 pid);

    /*!
        The keeper this writer listens to: the keeper of the tasks whose events do not name one
        (see TaskInfo::keeperName()). Empty by default: its tracks are named "worker N".
    */
    QString keeperName() const;
    //! Sets keeperName() to \a name, which then names the tracks of that keeper.
    void setKeeperName(const QString &name);

    //! Tasks recorded: the finished ones kept plus the live ones.
    qsizetype taskCount() const;
    //! Finished tasks not kept because maxTasks() was reached.
    quint64 droppedTaskCount() const;
    //! Events the keeper dropped before they reached this writer (see eventsDropped()).
    quint64 droppedEventCount() const;

    /*!
        Records the state of a task given as a TaskInfo (for instance one that a monitor got
        from another process), as if the events leading to it had been seen. Calls for the same
        task must come in its state order.
    */
    void record(const TaskInfo &info);

    //! Forgets everything recorded, including the dropped counts.
    void clear();

    //! The trace as JSON. For big traces prefer save() or write(), which stream.
    QByteArray toJson() const;
    //! Writes the trace to \a device (open for writing); false on a write error.
    bool write(QIODevice *device) const;
    /*!
        Writes the trace to the file \a path, atomically (a failed write leaves an existing file
        alone). Returns false and sets errorString() on failure.
    */
    bool save(const QString &path);
    //! Why the last save() failed.
    QString errorString() const;

    // EventListener
    void snapshot(const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished) override;
    void taskEvents(const TaskEvent *events, qsizetype count) override;
    void eventsDropped(quint64 count) override;

private:
    std::unique_ptr<TraceWriterPrivate> d;
};

} // namespace pk
