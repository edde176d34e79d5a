#include <pk/tracewriter.h>

#include <QtCore/qbuffer.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qhash.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qsavefile.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <vector>

namespace pk {

namespace {

// Counter samples closer than this to the previous one update it instead of adding one, so a
// flood of tasks costs at most a thousand samples per second.
constexpr qint64 kCounterResolutionNs = 1000000;
// Worker N is on tid N + 1; tasks that ran on a thread that is not a worker (processPending() on
// a keeper with threads) are on this one.
constexpr int kOtherThreadTid = 100000;
// The queue's track, which also carries the process-wide events (counters, process metadata).
// Not tid 0: Perfetto's JSON importer takes tid 0 for "no tid" and uses the pid (1) instead,
// which is worker 0's track.
constexpr int kQueueTid = kOtherThreadTid + 1;
// write() hands the device chunks of about this size.
constexpr qsizetype kChunkBytes = 256 * 1024;
// The layout of the file, in "otherData": 2 since queue waits all have one name (1: the title).
constexpr int kFormat = 2;
// The name of every queue wait (see appendTask()).
constexpr char kQueueWaitName[] = "queued";

struct CounterSample
{
    qint64 ns = 0;
    qint64 queued = 0;
    qint64 running = 0;
};

const char *stateName(TaskState state)
{
    switch (state) {
    case TaskState::Waiting:
        return "Waiting";
    case TaskState::Queued:
        return "Queued";
    case TaskState::Running:
        return "Running";
    case TaskState::Succeeded:
        return "Succeeded";
    case TaskState::Failed:
        return "Failed";
    case TaskState::Cancelled:
        return "Cancelled";
    }
    return "Unknown";
}

// A JSON string literal: UTF-8, with quotes, backslashes and control characters escaped.
void appendString(QByteArray &out, const QString &text)
{
    static const char hex[] = "0123456789abcdef";
    out += '"';
    const QByteArray utf8 = text.toUtf8();
    for (const char ch : utf8) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            // DEL too, although JSON allows it raw: some Perfetto versions reject a string with
            // any control character in it (iscntrl()), and with it the whole file.
            if (c < 0x20 || c == 0x7f) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xf];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
}

void appendInt(QByteArray &out, qint64 value)
{
    out += QByteArray::number(value);
}

// Nanoseconds as microseconds with three decimals, exactly (no floating point on the way).
void appendMicros(QByteArray &out, qint64 ns)
{
    if (ns < 0) {
        out += '-';
        ns = -ns;
    }
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%lld.%03lld", static_cast<long long>(ns / 1000),
        static_cast<long long>(ns % 1000));
    out += buffer;
}

QString defaultProcessName()
{
    const QString name = QCoreApplication::applicationName();
    return name.isEmpty() ? QStringLiteral("PromiseKeeper") : name;
}

} // namespace

class TraceWriterPrivate
{
public:
    void apply(TaskInfo info, qint64 timeNs);
    void addSample(qint64 ns);
    void keepFinished(const TaskInfo &info);
    int tidOf(const TaskInfo &info) const;

    bool writeTo(QIODevice *device) const;
    void appendTask(QByteArray &out, const TaskInfo &info, qint64 base, qint64 endNs) const;
    void appendArgs(QByteArray &out, const TaskInfo &info) const;
    void appendMetadata(
        QByteArray &out, const char *name, int tid, const char *key, const QString &value) const;

    qsizetype maxTasks = TraceWriter::DefaultMaxTasks;
    int threadCount = -1;
    QString processName = defaultProcessName();
    QString errorString;

    // Live tasks by id, as of their last change; finished ones in the order they finished.
    QHash<quint64, TaskInfo> live;
    std::vector<TaskInfo> finished;
    quint64 droppedTasks = 0;
    quint64 droppedEvents = 0;
    quint64 droppedSamples = 0;

    std::vector<CounterSample> samples;
    qint64 queued = 0;
    qint64 running = 0;
    int maxWorker = -1;
    qint64 firstNs = std::numeric_limits<qint64>::max();
    qint64 lastNs = 0;
};

void TraceWriterPrivate::addSample(qint64 ns)
{
    if (!samples.empty() && ns - samples.back().ns < kCounterResolutionNs) {
        samples.back().queued = queued;
        samples.back().running = running;
        return;
    }
    // Samples are bounded like tasks, so that a writer attached for days stays bounded too.
    if (qsizetype(samples.size()) >= std::max<qsizetype>(2 * maxTasks, 2)) {
        ++droppedSamples;
        return;
    }
    samples.push_back({ ns, queued, running });
}

void TraceWriterPrivate::keepFinished(const TaskInfo &info)
{
    if (qsizetype(finished.size()) >= maxTasks) {
        ++droppedTasks;
        return;
    }
    finished.push_back(info);
}

void TraceWriterPrivate::apply(TaskInfo info, qint64 timeNs)
{
    const auto found = live.constFind(info.id());
    const bool known = found != live.constEnd();
    if (known) {
        const TaskInfo &previous = found.value();
        // A final event made by another thread (cancel) says -1: the run stays on its worker.
        if (info.workerIndex() < 0 && previous.startedAtNsecs() != 0)
            info.setWorkerIndex(previous.workerIndex());
        if (previous.state() == TaskState::Queued)
            --queued;
        else if (previous.state() == TaskState::Running)
            --running;
    }
    if (info.state() == TaskState::Queued)
        ++queued;
    else if (info.state() == TaskState::Running)
        ++running;
    if (info.startedAtNsecs() != 0)
        maxWorker = std::max(maxWorker, info.workerIndex());

    for (const qint64 ns :
        { info.queuedAtNsecs(), info.startedAtNsecs(), info.finishedAtNsecs(), timeNs }) {
        if (ns != 0) {
            firstNs = std::min(firstNs, ns);
            lastNs = std::max(lastNs, ns);
        }
    }
    const bool countersMoved
        = known || info.state() == TaskState::Queued || info.state() == TaskState::Running;

    if (isFinal(info.state())) {
        if (known)
            live.erase(found);
        keepFinished(info);
    } else {
        live.insert(info.id(), info);
    }
    if (countersMoved && timeNs != 0)
        addSample(timeNs);
}

int TraceWriterPrivate::tidOf(const TaskInfo &info) const
{
    return info.workerIndex() >= 0 ? info.workerIndex() + 1 : kOtherThreadTid;
}

void TraceWriterPrivate::appendArgs(QByteArray &out, const TaskInfo &info) const
{
    out += "\"args\":{\"id\":";
    appendInt(out, qint64(info.id()));
    out += ",\"title\":";
    appendString(out, info.title());
    out += ",\"state\":\"";
    out += stateName(info.state());
    out += "\",\"priority\":";
    appendInt(out, info.priority());
    out += ",\"worker\":";
    appendInt(out, info.workerIndex());
    if (!info.errorString().isEmpty()) {
        out += ",\"error\":";
        appendString(out, info.errorString());
    }
    out += '}';
}

void TraceWriterPrivate::appendTask(
    QByteArray &out, const TaskInfo &info, qint64 base, qint64 endNs) const
{
    // The wait in the queue (for a waiting task: since it was submitted), as an async slice.
    // Every wait has the same name; the task's title and id are in "args" (a viewer shows them
    // for the selected slice). Perfetto puts legacy async slices on tracks grouped by name
    // (TrackCompressor::InternLegacyAsyncTrack), so a name per task made a track per task; with
    // one name, the waits share as many rows as the queue was ever deep. chrome://tracing
    // groups async slices by title too. A plain "id" rather than "id2": Perfetto groups
    // "id2":{"local"} slices by name all the same, and every chrome://tracing version pairs
    // "b" with "e" by category and "id".
    if (info.queuedAtNsecs() != 0) {
        qint64 waitEnd
            = info.startedAtNsecs() != 0 ? info.startedAtNsecs() : info.finishedAtNsecs();
        if (waitEnd == 0)
            waitEnd = std::max(endNs, info.queuedAtNsecs());
        out += "{\"name\":\"";
        out += kQueueWaitName;
        out += "\",\"cat\":\"queue\",\"ph\":\"b\",\"pid\":1,\"tid\":";
        appendInt(out, kQueueTid);
        out += ",\"id\":";
        appendInt(out, qint64(info.id()));
        out += ",\"ts\":";
        appendMicros(out, info.queuedAtNsecs() - base);
        out += ',';
        appendArgs(out, info);
        // Perfetto ends the open slice of this name on the track of this cat and id.
        out += "},\n{\"name\":\"";
        out += kQueueWaitName;
        out += "\",\"cat\":\"queue\",\"ph\":\"e\",\"pid\":1,\"tid\":";
        appendInt(out, kQueueTid);
        out += ",\"id\":";
        appendInt(out, qint64(info.id()));
        out += ",\"ts\":";
        appendMicros(out, waitEnd - base);
        out += "},\n";
    }

    // The run, on its worker's track; a task still running ends at the last recorded time.
    // Complete events go on their thread's track whatever their name (InternThreadTrack), so
    // runs keep the title as name: that is what the viewers show on the slice.
    if (info.startedAtNsecs() != 0) {
        const QString name
            = info.title().isEmpty() ? QStringLiteral("task %1").arg(info.id()) : info.title();
        const qint64 runEnd = info.finishedAtNsecs() != 0 ? info.finishedAtNsecs()
                                                          : std::max(endNs, info.startedAtNsecs());
        out += "{\"name\":";
        appendString(out, name);
        out += ",\"cat\":\"task\",\"ph\":\"X\",\"pid\":1,\"tid\":";
        appendInt(out, tidOf(info));
        out += ",\"ts\":";
        appendMicros(out, info.startedAtNsecs() - base);
        out += ",\"dur\":";
        appendMicros(out, runEnd - info.startedAtNsecs());
        out += ',';
        appendArgs(out, info);
        out += "},\n";
    }
}

void TraceWriterPrivate::appendMetadata(
    QByteArray &out, const char *name, int tid, const char *key, const QString &value) const
{
    out += "{\"name\":\"";
    out += name;
    out += "\",\"ph\":\"M\",\"pid\":1,\"tid\":";
    appendInt(out, tid);
    out += ",\"args\":{\"";
    out += key;
    out += "\":";
    appendString(out, value);
    out += "}},\n";
}

bool TraceWriterPrivate::writeTo(QIODevice *device) const
{
    QByteArray out;
    out.reserve(kChunkBytes + 4096);
    const auto flushIfBig = [&out, device](bool force) {
        if (out.size() < kChunkBytes && !force)
            return true;
        const bool ok = device->write(out) == out.size();
        out.clear();
        return ok;
    };

    // Timestamps are relative to the earliest one: small numbers that viewers show nicely.
    const qint64 base = firstNs == std::numeric_limits<qint64>::max() ? 0 : firstNs;
    const qint64 endNs = lastNs;

    // No "displayTimeUnit": "ms" is the default, and older Perfetto versions read "ms" as the
    // unit of the timestamps (which are microseconds), stretching the trace a thousandfold.
    out += "{\"otherData\":{\"producer\":\"PromiseKeeper\"";
    out += ",\"format\":";
    appendInt(out, kFormat);
    out += ",\"baseMonotonicNs\":\"";
    appendInt(out, base);
    out += "\",\"threadCount\":";
    appendInt(out, threadCount);
    out += ",\"recordedTasks\":";
    appendInt(out, qint64(finished.size()) + live.size());
    out += ",\"maxTasks\":";
    appendInt(out, maxTasks);
    out += ",\"droppedTasks\":";
    appendInt(out, qint64(droppedTasks));
    out += ",\"droppedEvents\":";
    appendInt(out, qint64(droppedEvents));
    out += ",\"droppedCounterSamples\":";
    appendInt(out, qint64(droppedSamples));
    out += "},\n\"traceEvents\":[\n";

    appendMetadata(out, "process_name", kQueueTid, "name", processName);
    if (droppedTasks > 0 || droppedEvents > 0) {
        appendMetadata(out, "process_labels", kQueueTid, "labels",
            QStringLiteral("%1 tasks dropped (cap %2), %3 events dropped")
                .arg(droppedTasks)
                .arg(maxTasks)
                .arg(droppedEvents));
    }
    appendMetadata(out, "thread_name", kQueueTid, "name", QStringLiteral("queue"));
    const int workers = std::max(threadCount, maxWorker + 1);
    for (int i = 0; i < workers; ++i)
        appendMetadata(out, "thread_name", i + 1, "name", QStringLiteral("worker %1").arg(i));
    const bool otherThread = std::any_of(finished.begin(), finished.end(), [](const TaskInfo &t) {
        return t.startedAtNsecs() != 0 && t.workerIndex() < 0;
    }) || std::any_of(live.begin(), live.end(), [](const TaskInfo &t) {
        return t.startedAtNsecs() != 0 && t.workerIndex() < 0;
    });
    if (otherThread) {
        appendMetadata(
            out, "thread_name", kOtherThreadTid, "name", QStringLiteral("processPending() caller"));
    }

    for (const TaskInfo &info : finished) {
        appendTask(out, info, base, endNs);
        if (!flushIfBig(false))
            return false;
    }
    QList<quint64> liveIds = live.keys();
    std::sort(liveIds.begin(), liveIds.end());
    for (const quint64 id : std::as_const(liveIds)) {
        appendTask(out, live.value(id), base, endNs);
        if (!flushIfBig(false))
            return false;
    }

    for (const CounterSample &s : samples) {
        out += "{\"name\":\"queued\",\"ph\":\"C\",\"pid\":1,\"tid\":";
        appendInt(out, kQueueTid);
        out += ",\"ts\":";
        appendMicros(out, s.ns - base);
        out += ",\"args\":{\"queued\":";
        appendInt(out, s.queued);
        out += "}},\n{\"name\":\"running\",\"ph\":\"C\",\"pid\":1,\"tid\":";
        appendInt(out, kQueueTid);
        out += ",\"ts\":";
        appendMicros(out, s.ns - base);
        out += ",\"args\":{\"running\":";
        appendInt(out, s.running);
        out += "}},\n";
        if (!flushIfBig(false))
            return false;
    }

    // Every event above ends with ",\n"; JSON wants no comma after the last one.
    out.chop(2);
    out += "\n]}\n";
    return flushIfBig(true);
}

TraceWriter::TraceWriter(qsizetype maxTasks)
    : d(std::make_unique<TraceWriterPrivate>())
{
    setMaxTasks(maxTasks);
}

TraceWriter::~TraceWriter() = default;

qsizetype TraceWriter::maxTasks() const
{
    return d->maxTasks;
}

void TraceWriter::setMaxTasks(qsizetype maxTasks)
{
    d->maxTasks = std::max<qsizetype>(maxTasks, 0);
}

int TraceWriter::threadCount() const
{
    return d->threadCount;
}

void TraceWriter::setThreadCount(int threadCount)
{
    d->threadCount = std::max(threadCount, -1);
}

QString TraceWriter::processName() const
{
    return d->processName;
}

void TraceWriter::setProcessName(const QString &name)
{
    d->processName = name;
}

qsizetype TraceWriter::taskCount() const
{
    return qsizetype(d->finished.size()) + d->live.size();
}

quint64 TraceWriter::droppedTaskCount() const
{
    return d->droppedTasks;
}

quint64 TraceWriter::droppedEventCount() const
{
    return d->droppedEvents;
}

void TraceWriter::record(const TaskInfo &info)
{
    if (!info.isValid())
        return;
    qint64 timeNs = info.queuedAtNsecs();
    if (isFinal(info.state()))
        timeNs = info.finishedAtNsecs();
    else if (info.state() == TaskState::Running)
        timeNs = info.startedAtNsecs();
    d->apply(info, timeNs);
}

void TraceWriter::clear()
{
    const qsizetype cap = d->maxTasks;
    const int threads = d->threadCount;
    const QString name = d->processName;
    d = std::make_unique<TraceWriterPrivate>();
    d->maxTasks = cap;
    d->threadCount = threads;
    d->processName = name;
}

QByteArray TraceWriter::toJson() const
{
    QByteArray json;
    QBuffer buffer(&json);
    buffer.open(QIODevice::WriteOnly);
    d->writeTo(&buffer);
    return json;
}

bool TraceWriter::write(QIODevice *device) const
{
    return device && device->isWritable() && d->writeTo(device);
}

bool TraceWriter::save(const QString &path)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        d->errorString = QStringLiteral("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    if (!d->writeTo(&file) || !file.commit()) {
        d->errorString = QStringLiteral("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    d->errorString.clear();
    return true;
}

QString TraceWriter::errorString() const
{
    return d->errorString;
}

void TraceWriter::snapshot(const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished)
{
    for (const TaskInfo &info : recentlyFinished)
        record(info);
    // The live tasks are the state at one instant: one counter sample for all of them.
    for (const TaskInfo &info : live) {
        const auto previous = d->live.constFind(info.id());
        if (previous != d->live.constEnd()) {
            if (previous->state() == TaskState::Queued)
                --d->queued;
            else if (previous->state() == TaskState::Running)
                --d->running;
        }
        if (info.state() == TaskState::Queued)
            ++d->queued;
        else if (info.state() == TaskState::Running)
            ++d->running;
        if (info.startedAtNsecs() != 0)
            d->maxWorker = std::max(d->maxWorker, info.workerIndex());
        if (info.queuedAtNsecs() != 0)
            d->firstNs = std::min(d->firstNs, info.queuedAtNsecs());
        d->live.insert(info.id(), info);
    }
    const qint64 now = TaskInfo::monotonicNowNsecs();
    d->firstNs = std::min(d->firstNs, now);
    d->lastNs = std::max(d->lastNs, now);
    d->addSample(now);
}

void TraceWriter::taskEvents(const TaskEvent *events, qsizetype count)
{
    for (qsizetype i = 0; i < count; ++i)
        d->apply(events[i].info(), events[i].timeNsecs());
}

void TraceWriter::eventsDropped(quint64 count)
{
    d->droppedEvents += count;
}

} // namespace pk
