// pk::TraceReader and pk::TraceFeed: a trace written by pk::TraceWriter, read back for the
// monitor's offline view (pk-monitor --open FILE).
#pragma once

#include <pk/monitorfeed.h>
#include <pk/monitorserver_export.h>
#include <pk/taskcounts.h>
#include <pk/taskinfo.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

#include <memory>

namespace pk {

class TraceReaderPrivate;
class TraceFeedPrivate;

/*!
    Reads a Chrome Trace Event file written by pk::TraceWriter back into TaskInfo values: ids,
    titles, states, priorities, errors and error types, kinds, input ids, keepers, workers and
    the queued/started/finished times (exact to the nanosecond, on the writer's monotonic
    clock), and the program's name and pid. Every layout the writer has had is read: format 3
    (a track per keeper worker, the program's pid), format 2, where every queue wait is named
    "queued", and format 1, where it was named after its task; either way the task's fields come
    from the events' "args" (an older file has no keeper, kind or inputs: their defaults).

    The file is untrusted: every value is checked (the bounds of the monitor's protocol, see
    docs/monitor.md), and one out of range fails parse() with the event it is in.

    Other Chrome traces load too, approximately: each complete ("X") event becomes a succeeded
    task on worker tid - 1.

    A plain value-like reader; reentrant.
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT TraceReader
{
public:
    TraceReader();
    ~TraceReader();
    TraceReader(const TraceReader &) = delete;
    TraceReader &operator=(const TraceReader &) = delete;

    //! Reads the file \a path; false (see errorString()) if it cannot be read or parsed.
    bool load(const QString &path);
    //! Reads a trace from memory.
    bool parse(const QByteArray &json);
    //! Why the last load() or parse() failed, for the user; empty after a success.
    QString errorString() const;

    //! The tasks, by id.
    QList<TaskInfo> tasks() const;
    //! The keeper's worker count written in the file, or else the number of workers seen.
    int threadCount() const;
    //! Tasks the writer dropped (its cap was reached).
    quint64 droppedTaskCount() const;
    //! The tasks counted by state.
    TaskCounts counts() const;
    /*!
        The keepers, as listed in the file (format 3) and as named by the tasks, each with its
        thread count (at least the workers its tasks ran on) and its tasks counted by state. A
        trace of an older format has one, unnamed.
    */
    QList<KeeperStatus> keepers() const;
    //! The program's name (the trace's process name), or empty.
    QString programName() const;
    //! The program's pid, or 0 if the trace does not say (before format 3, where it was 1).
    qint64 programPid() const;

private:
    std::unique_ptr<TraceReaderPrivate> d;
};

/*!
    A MonitorFeed over a trace file: the offline view. open() reads the file; the feed then
    emits, from the event loop, connectionChanged(true, ...), one snapshot() with every task of
    the trace (the finished ones as recently finished, oldest first) and one updated() with the
    counts. Nothing can be cancelled in a trace.

    Thread affinity: lives in one thread (the GUI thread, usually), is used from it and emits
    its signals there.
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT TraceFeed : public MonitorFeed
{
    Q_OBJECT
public:
    //! Constructs a feed with no trace yet, as a child of \a parent; see open().
    explicit TraceFeed(QObject *parent = nullptr);
    ~TraceFeed() override;

    //! Reads \a path; false (and connectionChanged(false, errorString())) if that fails.
    bool open(const QString &path);
    //! The path last given to open(), or empty.
    QString fileName() const;
    //! Why the last open() failed (the reader's errorString()); empty after a success.
    QString errorString() const;
    //! The reader holding the trace.
    const TraceReader &reader() const;

    QList<KeeperStatus> keepers() const override;
    //! False: a trace is a record of the past.
    bool isLive() const override;
    QString programName() const override;
    //! The recorded program's pid (TraceReader::programPid()), or 0 if none is loaded.
    qint64 programPid() const override;
    bool isConnected() const override;
    QString sourceName() const override;
    //! Does nothing: a trace is a record of the past.
    void cancelTask(quint64 taskId) override;
    //! Does nothing.
    void cancelAll() override;

private:
    std::unique_ptr<TraceFeedPrivate> d;
};

} // namespace pk
