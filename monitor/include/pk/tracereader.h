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
    titles, states, priorities, errors, workers and the queued/started/finished times (exact to
    the nanosecond, on the writer's monotonic clock). Both layouts the writer has had are read:
    format 2, where every queue wait is named "queued", and format 1, where it was named after
    its task; either way the task's fields come from the events' "args".

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
    QString errorString() const;

    //! The tasks, by id.
    QList<TaskInfo> tasks() const;
    //! The keeper's worker count written in the file, or else the number of workers seen.
    int threadCount() const;
    //! Tasks the writer dropped (its cap was reached).
    quint64 droppedTaskCount() const;
    //! The tasks counted by state.
    TaskCounts counts() const;

private:
    std::unique_ptr<TraceReaderPrivate> d;
};

/*!
    A MonitorFeed over a trace file: the offline view. open() reads the file; the feed then
    emits, from the event loop, connectionChanged(true, ...), one snapshot() with every task of
    the trace (the finished ones as recently finished, oldest first) and one updated() with the
    counts. Nothing can be cancelled in a trace.
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT TraceFeed : public MonitorFeed
{
    Q_OBJECT
public:
    explicit TraceFeed(QObject *parent = nullptr);
    ~TraceFeed() override;

    //! Reads \a path; false (and connectionChanged(false, errorString())) if that fails.
    bool open(const QString &path);
    QString fileName() const;
    QString errorString() const;
    //! The reader holding the trace.
    const TraceReader &reader() const;

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
