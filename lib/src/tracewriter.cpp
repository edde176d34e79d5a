#include <pk/tracewriter.h>

#include <QtCore/qbuffer.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qhash.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qsavefile.h>

#include <algorithm>
#include <cstdio>
#include <initializer_list>
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
// The layout of the file, in "otherData": 3 since a track per keeper worker, the real pid and
// keeper, kind, inputs and error type in "args"; 2 since queue waits all have one name (1: the
// title).
constexpr int kFormat = 3;
// The tracks of keeper k (in the order the writer met them) are k * kKeeperTidStride + the
// tids above: keeper 0 keeps the tids of format 2.
constexpr int kKeeperTidStride = 200000;
// Keepers with tracks of their own, at most (tids up to 4096 * kKeeperTidStride fit in an int).
constexpr std::size_t kMaxKeepers = 4096;
// The grid of every "ts" and "dur": nanoseconds, written as microseconds with three decimals.
constexpr qint64 kGridNs = 1;
// The name of every queue wait (see appendTask()).
constexpr char kQueueWaitName[] = "queued";

struct CounterSample
{
    qint64 ns = 0;
    qint64 queued = 0;
    qint64 running = 0;
};

// The enumerator's own name ("Succeeded", "Continuation"), from the meta-object system.
template<typename Enum>
const char *enumName(Enum value)
{
    const char *name = QMetaEnum::fromType<Enum>().valueToKey(int(value));
    return name ? name : "Unknown";
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

// What a JSON viewer reads for appendMicros(ns): the nearest double (QByteArray::toDouble() is
// correctly rounded and ignores the locale, as JSON.parse()).
double viewerMicros(qint64 ns)
{
    QByteArray text;
    appendMicros(text, ns);
    return text.toDouble();
}

/*
    Where a slice must end by on its track, as a JSON viewer adds up what it parses: before the
    next slice that is not inside it starts, and inside the slice that it is inside (a task that
    a waiting worker ran while its outer task waited: drawn nested, as a viewer draws a call in
    its caller). \a absolute is the end as Perfetto computes it (ts + dur), \a fromOrigin as
    speedscope does (it first moves each track to 0, subtracting its first "ts").
*/
struct SliceLimit
{
    qint64 ns; // relative to the base, as the slice's start
    double absolute;
    double fromOrigin;
};

/*
    The duration to write for a slice from \a startNs to \a endNs (relative to the base) on a
    track that starts at \a trackStartNs: at most the real one, and short enough that a viewer
    adding the "ts" and "dur" it parses as doubles never lands past one of \a limits. Decimal
    sums of exact nanoseconds round either way as doubles (2 094 of 17 487 back-to-back slices
    of a demo overlapped that way), so it checks the sums as the viewers compute them and steps
    down on the grid until they fit; 0 always fits, since parsing is monotonic and no limit is
    before the start.
*/
qint64 fittedDuration(qint64 trackStartNs, qint64 startNs, qint64 endNs,
    std::initializer_list<const SliceLimit *> limits)
{
    qint64 dur = std::max<qint64>(endNs - startNs, 0);
    for (const SliceLimit *limit : limits) {
        if (limit) {
            Q_ASSERT(limit->ns >= startNs);
            dur = std::min(dur, limit->ns - startNs); // overlapping input: the limit wins
        }
    }
    const double ts = viewerMicros(startNs);
    const double origin = viewerMicros(trackStartNs);
    const auto overlaps = [&](qint64 d) {
        const double dd = viewerMicros(d);
        for (const SliceLimit *limit : limits) {
            if (limit && (ts + dd > limit->absolute || (ts - origin) + dd > limit->fromOrigin))
                return true;
        }
        return false;
    };
    qint64 step = kGridNs;
    while (dur > 0 && overlaps(dur)) {
        dur = std::max<qint64>(dur - step, 0);
        step *= 2; // far from 0 a double's spacing exceeds the grid: converge in a few steps
    }
    return dur;
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
    // One keeper's tracks.
    struct Keeper
    {
        QString name;
        int maxWorker = -1;
        int threadCount = -1; // set with setKeeperThreadCount(); else threadCount if it applies
    };
    // A run to write on a track: the slices of one track are written in start order.
    struct Run
    {
        int tid = 0;
        qint64 startNs = 0;
        qint64 endNs = 0;
        const TaskInfo *info = nullptr;
    };

    void apply(TaskInfo info, qint64 timeNs);
    void addSample(qint64 ns);
    void keepFinished(const TaskInfo &info);
    int keeperOf(const QString &name);
    int indexOfKeeper(const QString &name) const;
    int tidOf(const TaskInfo &info) const;
    QString trackName(int keeper, const QString &what) const;
    int threadsOf(int keeper) const;

    bool writeTo(QIODevice *device) const;
    void appendWait(QByteArray &out, const TaskInfo &info, qint64 base, qint64 endNs) const;
    void appendRun(QByteArray &out, const Run &run, qint64 base, qint64 durNs) const;
    void appendArgs(QByteArray &out, const TaskInfo &info) const;
    void appendMetadata(
        QByteArray &out, const char *name, int tid, const char *key, const QString &value) const;

    qsizetype maxTasks = TraceWriter::DefaultMaxTasks;
    int threadCount = -1;
    QString processName = defaultProcessName();
    qint64 processId = QCoreApplication::applicationPid();
    QString keeperName; // the keeper listened to: names tasks whose events name none
    QHash<QString, int> keeperThreads; // setKeeperThreadCount()
    QString errorString;

    // Live tasks by id, as of their last change; finished ones in the order they finished.
    QHash<quint64, TaskInfo> live;
    std::vector<TaskInfo> finished;
    quint64 droppedTasks = 0;
    quint64 droppedEvents = 0;
    quint64 droppedSamples = 0;

    // The keepers met, in order; their index makes their tids.
    std::vector<Keeper> keepers;
    QHash<QString, int> keeperIndex;

    std::vector<CounterSample> samples;
    qint64 queued = 0;
    qint64 running = 0;
    qint64 firstNs = std::numeric_limits<qint64>::max();
    qint64 lastNs = 0;
};

int TraceWriterPrivate::keeperOf(const QString &name)
{
    const auto found = keeperIndex.constFind(name);
    if (found != keeperIndex.constEnd())
        return found.value();
    // The tids of a keeper must fit in an int: past kMaxKeepers, keepers share the last tracks.
    if (keepers.size() >= kMaxKeepers)
        return int(kMaxKeepers) - 1;
    const int index = int(keepers.size());
    keepers.push_back({ name, -1, -1 });
    keeperIndex.insert(name, index);
    return index;
}

int TraceWriterPrivate::indexOfKeeper(const QString &name) const
{
    return keeperIndex.value(name, 0);
}

QString TraceWriterPrivate::trackName(int keeper, const QString &what) const
{
    const QString &name = keepers.at(std::size_t(keeper)).name;
    return name.isEmpty() ? what : QStringLiteral("%1 \u00b7 %2").arg(name, what);
}

int TraceWriterPrivate::threadsOf(int keeper) const
{
    const Keeper &k = keepers.at(std::size_t(keeper));
    int threads = keeperThreads.value(k.name, -1);
    // threadCount() is the count of the keeper listened to, or of the only one.
    if (threads < 0 && (k.name == keeperName || keepers.size() == 1))
        threads = threadCount;
    return std::max(threads, k.maxWorker + 1);
}

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
    if (info.keeperName().isEmpty())
        info.setKeeperName(keeperName);
    Keeper &keeper = keepers[std::size_t(keeperOf(info.keeperName()))];
    if (info.startedAtNsecs() != 0)
        keeper.maxWorker = std::max(keeper.maxWorker, info.workerIndex());

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
    const int base = indexOfKeeper(info.keeperName()) * kKeeperTidStride;
    return base + (info.workerIndex() >= 0 ? info.workerIndex() + 1 : kOtherThreadTid);
}

void TraceWriterPrivate::appendArgs(QByteArray &out, const TaskInfo &info) const
{
    out += "\"args\":{\"id\":";
    appendInt(out, qint64(info.id()));
    out += ",\"title\":";
    appendString(out, info.title());
    out += ",\"keeper\":";
    appendString(out, info.keeperName());
    out += ",\"state\":\"";
    out += enumName(info.state());
    out += "\",\"kind\":\"";
    out += enumName(info.kind());
    out += "\",\"priority\":";
    appendInt(out, info.priority());
    out += ",\"worker\":";
    appendInt(out, info.workerIndex());
    const QList<quint64> inputs = info.inputIds();
    if (!inputs.isEmpty()) {
        out += ",\"inputIds\":[";
        for (qsizetype i = 0; i < inputs.size(); ++i) {
            if (i > 0)
                out += ',';
            appendInt(out, qint64(inputs.at(i)));
        }
        out += ']';
    }
    if (info.processId() != 0) { // the child of a submitToProcess() task
        out += ",\"childPid\":";
        appendInt(out, info.processId());
    }
    if (!info.errorType().isEmpty()) {
        out += ",\"errorType\":";
        appendString(out, info.errorType());
    }
    if (!info.errorString().isEmpty()) {
        out += ",\"error\":";
        appendString(out, info.errorString());
    }
    out += '}';
}

void TraceWriterPrivate::appendWait(
    QByteArray &out, const TaskInfo &info, qint64 base, qint64 endNs) const
{
    // The wait in the queue (for a waiting task: since it was submitted), as an async slice on
    // its keeper's queue track. Every wait has the same name; the task's title and id are in
    // "args" (a viewer shows them for the selected slice). Perfetto puts legacy async slices on
    // tracks grouped by name (TrackCompressor::InternLegacyAsyncTrack), so a name per task made
    // a track per task; with one name, the waits share as many rows as the queue was ever deep.
    // chrome://tracing groups async slices by title too. A plain "id" rather than "id2":
    // Perfetto groups "id2":{"local"} slices by name all the same, and every chrome://tracing
    // version pairs "b" with "e" by category and "id".
    if (info.queuedAtNsecs() == 0)
        return;
    qint64 waitEnd = info.startedAtNsecs() != 0 ? info.startedAtNsecs() : info.finishedAtNsecs();
    if (waitEnd == 0)
        waitEnd = std::max(endNs, info.queuedAtNsecs());
    const int queueTid = indexOfKeeper(info.keeperName()) * kKeeperTidStride + kQueueTid;
    out += "{\"name\":\"";
    out += kQueueWaitName;
    out += "\",\"cat\":\"queue\",\"ph\":\"b\",\"pid\":";
    appendInt(out, processId);
    out += ",\"tid\":";
    appendInt(out, queueTid);
    out += ",\"id\":";
    appendInt(out, qint64(info.id()));
    out += ",\"ts\":";
    appendMicros(out, info.queuedAtNsecs() - base);
    out += ',';
    appendArgs(out, info);
    // Perfetto ends the open slice of this name on the track of this cat and id.
    out += "},\n{\"name\":\"";
    out += kQueueWaitName;
    out += "\",\"cat\":\"queue\",\"ph\":\"e\",\"pid\":";
    appendInt(out, processId);
    out += ",\"tid\":";
    appendInt(out, queueTid);
    out += ",\"id\":";
    appendInt(out, qint64(info.id()));
    out += ",\"ts\":";
    appendMicros(out, std::max(waitEnd, info.queuedAtNsecs()) - base);
    out += "},\n";
}

void TraceWriterPrivate::appendRun(QByteArray &out, const Run &run, qint64 base, qint64 durNs) const
{
    // Complete events go on their thread's track whatever their name (InternThreadTrack), so
    // runs keep the title as name: that is what the viewers show on the slice.
    const TaskInfo &info = *run.info;
    const QString name
        = info.title().isEmpty() ? QStringLiteral("task %1").arg(info.id()) : info.title();
    out += "{\"name\":";
    appendString(out, name);
    // A run of no length is an instant event ("s":"t": on its thread's track): speedscope ends
    // a complete event of "dur" 0 before it begins when another slice begins at the same "ts"
    // (its importer sorts ends before begins of other events at one time), and then warns.
    out += durNs > 0 ? ",\"cat\":\"task\",\"ph\":\"X\",\"pid\":"
                     : ",\"cat\":\"task\",\"ph\":\"i\",\"s\":\"t\",\"pid\":";
    appendInt(out, processId);
    out += ",\"tid\":";
    appendInt(out, run.tid);
    out += ",\"ts\":";
    appendMicros(out, run.startNs - base);
    if (durNs > 0) {
        out += ",\"dur\":";
        appendMicros(out, durNs);
    }
    out += ',';
    appendArgs(out, info);
    out += "},\n";
}

void TraceWriterPrivate::appendMetadata(
    QByteArray &out, const char *name, int tid, const char *key, const QString &value) const
{
    out += "{\"name\":\"";
    out += name;
    out += "\",\"ph\":\"M\",\"pid\":";
    appendInt(out, processId);
    out += ",\"tid\":";
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

    // The runs, by track and start: each slice is fitted against what follows on its track.
    std::vector<Run> runs;
    runs.reserve(finished.size() + std::size_t(live.size()));
    const auto addRun = [&runs, endNs, this](const TaskInfo &info) {
        if (info.startedAtNsecs() == 0)
            return;
        // A task still running ends at the last recorded time.
        const qint64 end = info.finishedAtNsecs() != 0 ? info.finishedAtNsecs()
                                                       : std::max(endNs, info.startedAtNsecs());
        runs.push_back({ tidOf(info), info.startedAtNsecs(), end, &info });
    };
    for (const TaskInfo &info : finished)
        addRun(info);
    for (const TaskInfo &info : live)
        addRun(info);
    std::sort(runs.begin(), runs.end(), [](const Run &a, const Run &b) {
        if (a.tid != b.tid)
            return a.tid < b.tid;
        if (a.startNs != b.startNs)
            return a.startNs < b.startNs;
        if (a.endNs != b.endNs)
            return a.endNs > b.endNs; // of two that start together, the longer holds the other
        return a.info->id() < b.info->id();
    });

    // No "displayTimeUnit": "ms" is the default, and older Perfetto versions read "ms" as the
    // unit of the timestamps (which are microseconds), stretching the trace a thousandfold.
    out += "{\"otherData\":{\"producer\":\"PromiseKeeper\"";
    out += ",\"format\":";
    appendInt(out, kFormat);
    out += ",\"baseMonotonicNs\":\"";
    appendInt(out, base);
    out += "\",\"threadCount\":";
    appendInt(out, threadCount);
    out += ",\"programName\":";
    appendString(out, processName);
    out += ",\"programPid\":";
    appendInt(out, processId);
    out += ",\"keepers\":[";
    for (std::size_t k = 0; k < keepers.size(); ++k) {
        if (k > 0)
            out += ',';
        out += "{\"name\":";
        appendString(out, keepers[k].name);
        out += ",\"threadCount\":";
        appendInt(out, threadsOf(int(k)));
        out += ",\"tidBase\":";
        appendInt(out, qint64(k) * kKeeperTidStride);
        out += '}';
    }
    out += "],\"recordedTasks\":";
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
    // An empty trace still names the tracks of the keeper listened to.
    const std::size_t keeperCount = std::max<std::size_t>(keepers.size(), 1);
    for (std::size_t k = 0; k < keeperCount; ++k) {
        const int tidBase = int(k) * kKeeperTidStride;
        const bool known = k < keepers.size();
        const auto track
            = [&](const QString &what) { return known ? trackName(int(k), what) : what; };
        appendMetadata(
            out, "thread_name", tidBase + kQueueTid, "name", track(QStringLiteral("queue")));
        const int workers = known ? threadsOf(int(k)) : threadCount;
        for (int i = 0; i < workers; ++i) {
            appendMetadata(out, "thread_name", tidBase + i + 1, "name",
                track(QStringLiteral("worker %1").arg(i)));
        }
    }
    int lastOtherTid = -1;
    for (const Run &run : runs) {
        if (run.info->workerIndex() < 0 && run.tid != lastOtherTid) {
            lastOtherTid = run.tid;
            appendMetadata(out, "thread_name", run.tid, "name",
                trackName(indexOfKeeper(run.info->keeperName()),
                    QStringLiteral("processPending() caller")));
        }
    }

    for (const TaskInfo &info : finished) {
        appendWait(out, info, base, endNs);
        if (!flushIfBig(false))
            return false;
    }
    QList<quint64> liveIds = live.keys();
    std::sort(liveIds.begin(), liveIds.end());
    for (const quint64 id : std::as_const(liveIds)) {
        appendWait(out, live.value(id), base, endNs);
        if (!flushIfBig(false))
            return false;
    }
    // Nesting, by the real times: a run that starts inside the open run of its track and ends
    // within it is inside it (a wait that ran a queued task); any other run ends the open ones
    // it is not inside, and is the next slice that each of them must end before.
    constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> parent(runs.size(), kNone);
    std::vector<std::size_t> next(runs.size(), kNone);
    {
        std::vector<std::size_t> open;
        for (std::size_t i = 0; i < runs.size(); ++i) {
            if (i > 0 && runs[i - 1].tid != runs[i].tid)
                open.clear();
            const Run &run = runs[i];
            while (!open.empty()) {
                const Run &outer = runs[open.back()];
                if (run.startNs < outer.endNs && run.endNs <= outer.endNs)
                    break;
                next[open.back()] = i;
                open.pop_back();
            }
            parent[i] = open.empty() ? kNone : open.back();
            open.push_back(i);
        }
    }
    // Fitted in order: a parent's fitted end comes before its children's, which it bounds.
    std::vector<SliceLimit> ends(runs.size());
    qint64 trackStart = 0;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const Run &run = runs[i];
        if (i == 0 || runs[i - 1].tid != run.tid)
            trackStart = run.startNs - base;
        const qint64 start = run.startNs - base;
        SliceLimit sibling {};
        if (next[i] != kNone) {
            const qint64 nextStart = runs[next[i]].startNs - base;
            sibling = { nextStart, viewerMicros(nextStart),
                viewerMicros(nextStart) - viewerMicros(trackStart) };
        }
        const qint64 dur = fittedDuration(trackStart, start, run.endNs - base,
            { next[i] != kNone ? &sibling : nullptr,
                parent[i] != kNone ? &ends[parent[i]] : nullptr });
        const double ts = viewerMicros(start);
        ends[i] = { start + dur, ts + viewerMicros(dur),
            (ts - viewerMicros(trackStart)) + viewerMicros(dur) };
        appendRun(out, run, base, dur);
        if (!flushIfBig(false))
            return false;
    }

    for (const CounterSample &s : samples) {
        out += "{\"name\":\"queued\",\"ph\":\"C\",\"pid\":";
        appendInt(out, processId);
        out += ",\"tid\":";
        appendInt(out, kQueueTid);
        out += ",\"ts\":";
        appendMicros(out, s.ns - base);
        out += ",\"args\":{\"queued\":";
        appendInt(out, s.queued);
        out += "}},\n{\"name\":\"running\",\"ph\":\"C\",\"pid\":";
        appendInt(out, processId);
        out += ",\"tid\":";
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

qint64 TraceWriter::processId() const
{
    return d->processId;
}

void TraceWriter::setProcessId(qint64 pid)
{
    d->processId = pid;
}

QString TraceWriter::keeperName() const
{
    return d->keeperName;
}

void TraceWriter::setKeeperName(const QString &name)
{
    d->keeperName = name;
}

void TraceWriter::setKeeperThreadCount(const QString &keeper, int threadCount)
{
    d->keeperThreads.insert(keeper, std::max(threadCount, -1));
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
    auto fresh = std::make_unique<TraceWriterPrivate>();
    fresh->maxTasks = cap;
    fresh->threadCount = threads;
    fresh->processName = d->processName;
    fresh->processId = d->processId;
    fresh->keeperName = d->keeperName;
    fresh->keeperThreads = d->keeperThreads;
    d = std::move(fresh);
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
    for (TaskInfo info : live) {
        if (info.keeperName().isEmpty())
            info.setKeeperName(d->keeperName);
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
        TraceWriterPrivate::Keeper &keeper
            = d->keepers[std::size_t(d->keeperOf(info.keeperName()))];
        if (info.startedAtNsecs() != 0)
            keeper.maxWorker = std::max(keeper.maxWorker, info.workerIndex());
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
    for (qsizetype i = 0; i < count; ++i) {
        if (events[i].isStateChange()) // a trace has no progress track
            d->apply(events[i].info(), events[i].timeNsecs());
    }
}

void TraceWriter::eventsDropped(quint64 count)
{
    d->droppedEvents += count;
}

} // namespace pk
