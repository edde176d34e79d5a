#include "protocol_p.h"

#include <pk/tracereader.h>

#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qhash.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qlocale.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qnumeric.h>
#include <QtCore/qpointer.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace pk {

namespace {

// Traces from other producers have no monotonic base: timestamps get this one, so that a
// timestamp of 0 (which TaskInfo reads as "never") cannot occur.
constexpr qint64 kForeignBaseNs = 1000000000;
// Ids given to tasks of foreign traces, out of the way of real ones.
constexpr quint64 kForeignIdBase = quint64(1) << 48;

bool stateFromName(const QString &name, TaskState *state)
{
    static const QHash<QString, TaskState> states = {
        { QStringLiteral("Waiting"), TaskState::Waiting },
        { QStringLiteral("Queued"), TaskState::Queued },
        { QStringLiteral("Running"), TaskState::Running },
        { QStringLiteral("Succeeded"), TaskState::Succeeded },
        { QStringLiteral("Failed"), TaskState::Failed },
        { QStringLiteral("Cancelled"), TaskState::Cancelled },
    };
    const auto found = states.constFind(name);
    if (found == states.constEnd())
        return false;
    *state = found.value();
    return true;
}

bool kindFromName(const QString &name, TaskKind *kind)
{
    static const QHash<QString, TaskKind> kinds = {
        { QStringLiteral("Task"), TaskKind::Task },
        { QStringLiteral("Continuation"), TaskKind::Continuation },
        { QStringLiteral("Combinator"), TaskKind::Combinator },
    };
    const auto found = kinds.constFind(name);
    if (found == kinds.constEnd())
        return false;
    *kind = found.value();
    return true;
}

// Input ids of one task, at most (a whenAll() of a million promises is past any real program).
constexpr qsizetype kMaxInputIds = qsizetype(1) << 20;

// TraceWriter writes exact decimal microseconds, but JSON numbers are read as doubles: far from
// the base (past 2^53 ns) a time comes back rounded, by less than this, and the last times of
// the range may come back a little past it.
constexpr qint64 kRoundingNs = 2000;

/*
    \a micros (a "ts" or "dur": microseconds, a JSON number) in nanoseconds after \a base, into
    \a ns; false if that is not a timestamp a task can have (see protocol::kMaxTimestampNs).
    A file is anybody's: its numbers may be anything a double holds.
*/
bool toNs(qint64 base, const QJsonValue &micros, qint64 *ns)
{
    const double offset = std::round(micros.toDouble() * 1000.0);
    const qint64 limit = protocol::kMaxTimestampNs + kRoundingNs;
    if (!(offset >= -double(limit) && offset <= double(limit))) // also false for NaN
        return false;
    if (qAddOverflow(base, qint64(offset), ns) || *ns < 0 || *ns > limit)
        return false;
    *ns = std::min(*ns, protocol::kMaxTimestampNs); // rounded past the end: the end
    return true;
}

} // namespace

class TraceReaderPrivate
{
public:
    struct Entry
    {
        TaskInfo info;
        bool hasState = false;
        qint64 queueEndNs = 0;
    };

    void clear()
    {
        tasks.clear();
        keepers.clear();
        threadCount = 0;
        dropped = 0;
        programName.clear();
        programPid = 0;
    }
    Entry &entry(quint64 id)
    {
        Entry &e = byId[id];
        e.info.setId(id);
        return e;
    }
    QString takeArgs(Entry &e, const QJsonObject &args, const QString &name);
    QString readHeader(const QJsonObject &other, const QJsonArray &events, bool ours);

    QHash<quint64, Entry> byId;
    QList<TaskInfo> tasks;
    QList<KeeperStatus> keepers;
    int threadCount = 0;
    quint64 dropped = 0;
    QString programName;
    qint64 programPid = 0;
    QString error;
};

// Takes the task's fields from \a args (all optional); what is wrong with them, if anything.
QString TraceReaderPrivate::takeArgs(Entry &e, const QJsonObject &args, const QString &name)
{
    if (args.contains(QLatin1String("title")))
        e.info.setTitle(args.value(QLatin1String("title")).toString());
    else if (e.info.title().isEmpty())
        e.info.setTitle(name);
    if (args.contains(QLatin1String("priority")))
        e.info.setPriority(args.value(QLatin1String("priority")).toInt());
    if (args.contains(QLatin1String("error")))
        e.info.setErrorString(args.value(QLatin1String("error")).toString());
    if (args.contains(QLatin1String("childPid"))) {
        const double pid = args.value(QLatin1String("childPid")).toDouble(-1);
        if (!(pid >= 0 && pid <= double(std::numeric_limits<qint32>::max())))
            return QStringLiteral("child pid %1 out of range").arg(pid);
        e.info.setProcessId(qint64(pid));
    }
    if (args.contains(QLatin1String("errorType"))) {
        e.info.setErrorType(
            args.value(QLatin1String("errorType")).toString().left(protocol::kMaxTextLength));
    }
    if (args.contains(QLatin1String("keeper"))) {
        e.info.setKeeperName(
            args.value(QLatin1String("keeper")).toString().left(protocol::kMaxTextLength));
    }
    if (args.contains(QLatin1String("kind"))) {
        const QString written = args.value(QLatin1String("kind")).toString();
        TaskKind kind;
        if (!kindFromName(written, &kind))
            return QStringLiteral("unknown task kind \"%1\"").arg(written.left(64));
        e.info.setKind(kind);
    }
    if (args.contains(QLatin1String("inputIds"))) {
        const QJsonValue value = args.value(QLatin1String("inputIds"));
        const QJsonArray ids = value.toArray();
        if (!value.isArray() || ids.size() > kMaxInputIds) {
            return QStringLiteral("\"inputIds\" is not an array of at most %1 ids")
                .arg(kMaxInputIds);
        }
        QList<quint64> inputs;
        inputs.reserve(ids.size());
        for (const QJsonValue &id : ids) {
            const double n = id.toDouble(-1);
            if (!id.isDouble() || !(n >= 1 && n <= double(protocol::kMaxId))
                || n != std::floor(n)) {
                return QStringLiteral("input id %1 out of range (1 to 2^53)")
                    .arg(n, 0, 'g', QLocale::FloatingPointShortest);
            }
            inputs.append(quint64(n));
        }
        e.info.setInputIds(inputs);
    }
    TaskState state;
    if (stateFromName(args.value(QLatin1String("state")).toString(), &state)) {
        e.info.setState(state);
        e.hasState = true;
    }
    return {};
}

/*
    The program's name and pid and the keepers, from "otherData" (format 3) or the process_name
    metadata (any trace); what is wrong with them, if anything.
*/
QString TraceReaderPrivate::readHeader(
    const QJsonObject &other, const QJsonArray &events, bool ours)
{
    if (ours && other.contains(QLatin1String("programName"))) {
        programName
            = other.value(QLatin1String("programName")).toString().left(protocol::kMaxTextLength);
    } else {
        for (const QJsonValue &value : events) {
            const QJsonObject event = value.toObject();
            if (event.value(QLatin1String("ph")).toString() == QLatin1String("M")
                && event.value(QLatin1String("name")).toString() == QLatin1String("process_name")) {
                programName = event.value(QLatin1String("args"))
                                  .toObject()
                                  .value(QLatin1String("name"))
                                  .toString()
                                  .left(protocol::kMaxTextLength);
                break;
            }
        }
    }
    // Before format 3 the pid was always 1, not the program's: unknown.
    if (ours && other.contains(QLatin1String("programPid"))) {
        const double pid = other.value(QLatin1String("programPid")).toDouble(-1);
        if (!(pid >= 0 && pid <= double(protocol::kMaxPid)) || pid != std::floor(pid)) {
            return QStringLiteral("program pid %1 out of range (0 to %2)")
                .arg(pid, 0, 'g', QLocale::FloatingPointShortest)
                .arg(protocol::kMaxPid);
        }
        programPid = qint64(pid);
    }
    if (ours && other.contains(QLatin1String("keepers"))) {
        const QJsonArray list = other.value(QLatin1String("keepers")).toArray();
        if (list.size() > protocol::kMaxKeepers)
            return QStringLiteral("more than %1 keepers").arg(protocol::kMaxKeepers);
        for (const QJsonValue &value : list) {
            const QJsonObject keeper = value.toObject();
            KeeperStatus status;
            status.name
                = keeper.value(QLatin1String("name")).toString().left(protocol::kMaxTextLength);
            const double threads = keeper.value(QLatin1String("threadCount")).toDouble(0);
            if (!(threads >= -1 && threads <= protocol::kMaxThreadCount)) {
                return QStringLiteral("keeper thread count %1 out of range (0 to %2)")
                    .arg(threads, 0, 'g', QLocale::FloatingPointShortest)
                    .arg(protocol::kMaxThreadCount);
            }
            status.threadCount = std::max(int(threads), 0);
            const bool duplicate = std::any_of(keepers.cbegin(), keepers.cend(),
                [&status](const KeeperStatus &k) { return k.name == status.name; });
            if (!duplicate)
                keepers.append(status);
        }
    }
    return {};
}

TraceReader::TraceReader()
    : d(std::make_unique<TraceReaderPrivate>())
{ }
TraceReader::~TraceReader() = default;

bool TraceReader::load(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        d->clear();
        d->error = QStringLiteral("Cannot read %1: %2").arg(path, file.errorString());
        return false;
    }
    if (!parse(file.readAll())) {
        d->error = QStringLiteral("%1: %2").arg(path, d->error);
        return false;
    }
    return true;
}

bool TraceReader::parse(const QByteArray &json)
{
    d->clear();
    d->byId.clear();
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        d->error = QStringLiteral("not a JSON trace: %1 at offset %2")
                       .arg(parseError.errorString())
                       .arg(parseError.offset);
        return false;
    }
    // Both Chrome formats: {"traceEvents": [...]} and a bare array of events.
    QJsonArray events;
    QJsonObject other;
    if (doc.isArray()) {
        events = doc.array();
    } else {
        const QJsonObject root = doc.object();
        if (!root.value(QLatin1String("traceEvents")).isArray()) {
            d->error = QStringLiteral("not a Chrome trace: no \"traceEvents\" array");
            return false;
        }
        events = root.value(QLatin1String("traceEvents")).toArray();
        other = root.value(QLatin1String("otherData")).toObject();
    }

    const bool ours
        = other.value(QLatin1String("producer")).toString() == QLatin1String("PromiseKeeper");
    qint64 base = kForeignBaseNs;
    if (ours) {
        const QJsonValue written = other.value(QLatin1String("baseMonotonicNs"));
        bool ok = written.isUndefined();
        base = ok ? 0 : written.toString().toLongLong(&ok);
        if (!ok || base < 0 || base > protocol::kMaxTimestampNs) {
            d->error = QStringLiteral("\"baseMonotonicNs\" is not a timestamp (0 to %1)")
                           .arg(protocol::kMaxTimestampNs);
            return false;
        }
    }
    if (const QString why = d->readHeader(other, events, ours); !why.isEmpty()) {
        d->clear();
        d->error = why;
        return false;
    }
    const int written = other.value(QLatin1String("threadCount")).toInt(-1);
    if (written < -1 || written > protocol::kMaxThreadCount) {
        d->error = QStringLiteral("thread count %1 out of range (0 to %2)")
                       .arg(written)
                       .arg(protocol::kMaxThreadCount);
        return false;
    }
    // From format 2 on, every queue wait is named "queued" (see TraceWriter): its name is no
    // title. In format 1 it was the title, or "task <id>"; the title is in "args" in both.
    const bool waitNamedAfterTask = !ours || other.value(QLatin1String("format")).toInt(1) < 2;
    quint64 foreignId = kForeignIdBase;
    int maxWorker = -1;

    // Stops the reading with what is wrong with the event \a index.
    const auto corrupt = [this](qsizetype index, const QString &why) {
        d->byId.clear();
        d->clear();
        d->error = QStringLiteral("event %1: %2").arg(index).arg(why);
        return false;
    };
    for (qsizetype index = 0; index < events.size(); ++index) {
        const QJsonObject event = events.at(index).toObject();
        const QString phase = event.value(QLatin1String("ph")).toString();
        const QJsonObject args = event.value(QLatin1String("args")).toObject();
        const QString name = event.value(QLatin1String("name")).toString();
        // TraceWriter writes a run of no length as an instant on its track (format 3).
        const bool instantRun = phase == QLatin1String("i")
            && event.value(QLatin1String("cat")).toString() == QLatin1String("task");
        if (phase == QLatin1String("X") || instantRun) {
            const quint64 id = args.contains(QLatin1String("id"))
                ? quint64(args.value(QLatin1String("id")).toInteger())
                : ++foreignId;
            qint64 start = 0;
            qint64 finish = 0;
            if (!toNs(base, event.value(QLatin1String("ts")), &start)
                || !toNs(
                    start, instantRun ? QJsonValue(0) : event.value(QLatin1String("dur")), &finish))
                return corrupt(index, QStringLiteral("\"ts\" or \"dur\" out of range"));
            // As a double: toInt() would give 0 (a worker) for a number out of int's range.
            const double worker = args.contains(QLatin1String("worker"))
                ? args.value(QLatin1String("worker")).toDouble()
                : event.value(QLatin1String("tid")).toDouble() - 1;
            if (!(worker >= -1 && worker < protocol::kMaxThreadCount)) {
                return corrupt(index,
                    QStringLiteral("worker %1 out of range (-1 to %2)")
                        .arg(worker, 0, 'g', QLocale::FloatingPointShortest)
                        .arg(protocol::kMaxThreadCount - 1));
            }
            TraceReaderPrivate::Entry &e = d->entry(id);
            if (const QString why = d->takeArgs(e, args, name); !why.isEmpty())
                return corrupt(index, why);
            e.info.setStartedAtNsecs(start);
            e.info.setFinishedAtNsecs(finish);
            e.info.setWorkerIndex(int(worker));
            maxWorker = std::max(maxWorker, int(worker));
            if (!e.hasState) {
                e.info.setState(TaskState::Succeeded);
                e.hasState = true;
            }
        } else if ((phase == QLatin1String("b") || phase == QLatin1String("e"))
            && event.value(QLatin1String("cat")).toString() == QLatin1String("queue")) {
            const quint64 id = quint64(event.value(QLatin1String("id")).toInteger());
            if (id == 0)
                continue;
            qint64 ts = 0;
            if (!toNs(base, event.value(QLatin1String("ts")), &ts))
                return corrupt(index, QStringLiteral("\"ts\" out of range"));
            TraceReaderPrivate::Entry &e = d->entry(id);
            if (phase == QLatin1String("b")) {
                const QString why = d->takeArgs(e, args, waitNamedAfterTask ? name : QString());
                if (!why.isEmpty())
                    return corrupt(index, why);
                e.info.setQueuedAtNsecs(ts);
            } else {
                e.queueEndNs = ts;
            }
        }
    }

    d->tasks.reserve(d->byId.size());
    for (auto it = d->byId.begin(); it != d->byId.end(); ++it) {
        TraceReaderPrivate::Entry &e = it.value();
        TaskInfo &info = e.info;
        if (!e.hasState)
            info.setState(info.startedAtNsecs() != 0 ? TaskState::Succeeded : TaskState::Queued);
        // What the writer drew up to the end of the trace has not happened yet.
        if (!isFinal(info.state())) {
            info.setFinishedAtNsecs(0);
            if (info.state() != TaskState::Running) {
                info.setStartedAtNsecs(0);
                info.setWorkerIndex(-1);
            }
        } else if (info.startedAtNsecs() == 0) {
            info.setFinishedAtNsecs(e.queueEndNs); // cancelled or failed before it ran
            info.setWorkerIndex(-1);
        }
        if (info.queuedAtNsecs() == 0 && !ours)
            info.setQueuedAtNsecs(info.startedAtNsecs());
        Q_ASSERT(protocol::checkTaskInfo(info).isEmpty()); // every value was checked above
        d->tasks.append(info);
    }
    d->byId.clear();
    std::sort(d->tasks.begin(), d->tasks.end(),
        [](const TaskInfo &a, const TaskInfo &b) { return a.id() < b.id(); });

    d->threadCount = written >= 0 ? written : maxWorker + 1;
    // Each keeper's counts, and the keepers the header does not list (older formats: the one
    // keeper, unnamed) with the workers their tasks ran on.
    for (const TaskInfo &info : std::as_const(d->tasks)) {
        auto keeper = std::find_if(d->keepers.begin(), d->keepers.end(),
            [&info](const KeeperStatus &k) { return k.name == info.keeperName(); });
        if (keeper == d->keepers.end()) {
            if (d->keepers.size() >= protocol::kMaxKeepers) {
                d->clear();
                d->error = QStringLiteral("more than %1 keepers").arg(protocol::kMaxKeepers);
                return false;
            }
            KeeperStatus status;
            status.name = info.keeperName();
            status.threadCount = d->keepers.isEmpty() && written >= 0 ? written : 0;
            d->keepers.append(status);
            keeper = d->keepers.end() - 1;
        }
        keeper->threadCount = std::max(keeper->threadCount, info.workerIndex() + 1);
        keeper->counts.add(info);
    }
    d->dropped
        = quint64(std::max<qint64>(other.value(QLatin1String("droppedTasks")).toInteger(), 0));
    d->error.clear();
    return true;
}

QString TraceReader::errorString() const
{
    return d->error;
}

QList<TaskInfo> TraceReader::tasks() const
{
    return d->tasks;
}

int TraceReader::threadCount() const
{
    return d->threadCount;
}

quint64 TraceReader::droppedTaskCount() const
{
    return d->dropped;
}

TaskCounts TraceReader::counts() const
{
    TaskCounts c;
    for (const TaskInfo &info : std::as_const(d->tasks))
        c.add(info);
    return c;
}

QList<KeeperStatus> TraceReader::keepers() const
{
    return d->keepers;
}

QString TraceReader::programName() const
{
    return d->programName;
}

qint64 TraceReader::programPid() const
{
    return d->programPid;
}

// --- TraceFeed -------------------------------------------------------------------------------

class TraceFeedPrivate
{
public:
    TraceReader reader;
    QString fileName;
    bool loaded = false;
    quint64 generation = 0; // a later open() supersedes the signals of an earlier one
};

TraceFeed::TraceFeed(QObject *parent)
    : MonitorFeed(parent)
    , d(std::make_unique<TraceFeedPrivate>())
{ }

TraceFeed::~TraceFeed() = default;

bool TraceFeed::open(const QString &path)
{
    d->fileName = path;
    d->loaded = d->reader.load(path);
    const quint64 generation = ++d->generation;
    // From the event loop, so that connecting right after open() is enough.
    QMetaObject::invokeMethod(
        this,
        [this, generation] {
            if (generation != d->generation)
                return;
            if (!d->loaded) {
                Q_EMIT connectionChanged(false, d->reader.errorString());
                return;
            }
            const QList<TaskInfo> tasks = d->reader.tasks();
            QList<TaskInfo> live;
            QList<TaskInfo> finished;
            for (const TaskInfo &t : tasks)
                (isFinal(t.state()) ? finished : live).append(t);
            std::stable_sort(
                finished.begin(), finished.end(), [](const TaskInfo &a, const TaskInfo &b) {
                    return a.finishedAtNsecs() < b.finishedAtNsecs();
                });
            const int threads = d->reader.threadCount();
            QPointer<TraceFeed> alive(this);
            Q_EMIT connectionChanged(true,
                QStringLiteral("trace %1: %2 tasks")
                    .arg(QFileInfo(d->fileName).fileName())
                    .arg(tasks.size()));
            if (!alive)
                return;
            Q_EMIT snapshot(live, finished, threads);
            if (!alive)
                return;
            Q_EMIT updated({}, d->reader.counts(), threads, d->reader.droppedTaskCount());
        },
        Qt::QueuedConnection);
    return d->loaded;
}

QString TraceFeed::fileName() const
{
    return d->fileName;
}

QString TraceFeed::errorString() const
{
    return d->reader.errorString();
}

const TraceReader &TraceFeed::reader() const
{
    return d->reader;
}

QList<KeeperStatus> TraceFeed::keepers() const
{
    return d->loaded ? d->reader.keepers() : QList<KeeperStatus>();
}

bool TraceFeed::isLive() const
{
    return false;
}

QString TraceFeed::programName() const
{
    return d->loaded ? d->reader.programName() : QString();
}

qint64 TraceFeed::programPid() const
{
    return d->loaded ? d->reader.programPid() : 0;
}

bool TraceFeed::isConnected() const
{
    return d->loaded;
}

QString TraceFeed::sourceName() const
{
    return QStringLiteral("trace %1").arg(QFileInfo(d->fileName).fileName());
}

void TraceFeed::cancelTask(quint64 taskId)
{
    qCInfo(lcMonitor, "pk::TraceFeed: task %llu is in a trace; nothing to cancel", taskId);
}

void TraceFeed::cancelAll()
{
    qCInfo(lcMonitor, "pk::TraceFeed: a trace has nothing to cancel");
}

} // namespace pk
