// pk::TraceWriter: the Chrome Trace Event export of a keeper's event stream.
#include "pktest.h"

#include <pk/promisekeeper.h>
#include <pk/tracewriter.h>

#include <QtCore/QBuffer>
#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRandomGenerator>
#include <QtCore/QRegularExpression>
#include <QtCore/QSet>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <algorithm>
#include <future>
#include <stdexcept>

using pk::PromiseKeeper;
using pk::TaskInfo;
using pk::TaskState;
using pk::TraceWriter;

namespace {

// The queue's track (documented in tracewriter.h).
constexpr int kQueueTid = 100001;

struct ParsedTrace
{
    QJsonObject root;
    QList<QJsonObject> events;

    QList<QJsonObject> withPhase(const QString &phase) const
    {
        QList<QJsonObject> found;
        for (const QJsonObject &e : events) {
            if (e.value(QLatin1String("ph")).toString() == phase)
                found.append(e);
        }
        return found;
    }
    QList<QJsonObject> withPhaseAndId(const QString &phase, quint64 id) const
    {
        QList<QJsonObject> found;
        for (const QJsonObject &e : withPhase(phase)) {
            if (e.value(QLatin1String("args")).toObject().value(QLatin1String("id")).toInteger()
                    == qint64(id)
                || (e.contains(QLatin1String("id"))
                    && e.value(QLatin1String("id")).toInteger() == qint64(id)))
                found.append(e);
        }
        return found;
    }
    QJsonObject other() const { return root.value(QLatin1String("otherData")).toObject(); }
    QString threadName(int tid) const
    {
        for (const QJsonObject &e : withPhase(QStringLiteral("M"))) {
            if (e.value(QLatin1String("name")).toString() == QLatin1String("thread_name")
                && e.value(QLatin1String("tid")).toInt() == tid)
                return e.value(QLatin1String("args"))
                    .toObject()
                    .value(QLatin1String("name"))
                    .toString();
        }
        return {};
    }
    //! The values of one counter, in file order.
    QList<qint64> counter(const QString &name) const
    {
        QList<qint64> values;
        for (const QJsonObject &e : withPhase(QStringLiteral("C"))) {
            if (e.value(QLatin1String("name")).toString() == name)
                values.append(e.value(QLatin1String("args")).toObject().value(name).toInteger());
        }
        return values;
    }
};

bool parse(const QByteArray &json, ParsedTrace *trace)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError) {
        qWarning("trace JSON does not parse: %s at offset %d", qPrintable(error.errorString()),
            error.offset);
        return false;
    }
    trace->root = doc.object();
    trace->events.clear();
    for (const QJsonValue &v : trace->root.value(QLatin1String("traceEvents")).toArray())
        trace->events.append(v.toObject());
    return true;
}

QString argString(const QJsonObject &event, const char *key)
{
    return event.value(QLatin1String("args")).toObject().value(QLatin1String(key)).toString();
}

// A task for record(): queued at \a queuedNs, run for 1 µs on worker 0 if it finished.
TaskInfo makeTask(quint64 id, const QString &title, TaskState state, qint64 queuedNs)
{
    TaskInfo info;
    info.setId(id);
    info.setTitle(title);
    info.setState(state);
    info.setQueuedAtNsecs(queuedNs);
    if (state >= TaskState::Running) {
        info.setStartedAtNsecs(queuedNs + 1000);
        info.setWorkerIndex(0);
    }
    if (pk::isFinal(state))
        info.setFinishedAtNsecs(queuedNs + 2000);
    return info;
}

/*
    The tracks Perfetto's JSON importer gives the async ("b"/"e") events of a trace, worked out
    the way it does (google/perfetto, src/trace_processor/importers/json/json_trace_parser.cc,
    JsonTraceParser::ParseJsonPacket, and importers/common/track_compressor.cc,
    TrackCompressor::InternLegacyAsyncTrack and GetOrCreateTrackForCookie): events in time order;
    an event's cookie is its category and "id"; the cookie's group is the name the cookie was
    first seen with (a "legacy_async_global_slice" set has the dimensions scope and name); in
    its group a cookie keeps its track, or takes one with no open slice, or gets a new one.
*/
struct AsyncTracks
{
    int groups = 0;
    int tracks = 0;
};

AsyncTracks perfettoAsyncTracks(const QList<QJsonObject> &events)
{
    QList<QJsonObject> async;
    for (const QJsonObject &e : events) {
        const QString ph = e.value(QLatin1String("ph")).toString();
        if (ph == QLatin1String("b") || ph == QLatin1String("e"))
            async.append(e);
    }
    std::stable_sort(async.begin(), async.end(), [](const QJsonObject &a, const QJsonObject &b) {
        return a.value(QLatin1String("ts")).toDouble() < b.value(QLatin1String("ts")).toDouble();
    });
    struct Track
    {
        QString cookie;
        int open = 0;
    };
    QHash<QString, QString> groupOfCookie;
    QHash<QString, QList<Track>> groups;
    for (const QJsonObject &e : std::as_const(async)) {
        const QString cookie = e.value(QLatin1String("cat")).toString() + QLatin1Char(':')
            + QString::number(e.value(QLatin1String("id")).toInteger());
        if (!groupOfCookie.contains(cookie))
            groupOfCookie.insert(cookie, e.value(QLatin1String("name")).toString());
        QList<Track> &tracks = groups[groupOfCookie.value(cookie)];
        auto track = std::find_if(
            tracks.begin(), tracks.end(), [&](const Track &t) { return t.cookie == cookie; });
        if (track == tracks.end()) {
            track = std::find_if(
                tracks.begin(), tracks.end(), [](const Track &t) { return t.open == 0; });
            if (track != tracks.end()) {
                track->cookie = cookie;
            } else {
                tracks.append({ cookie, 0 });
                track = tracks.end() - 1;
            }
        }
        if (e.value(QLatin1String("ph")).toString() == QLatin1String("b"))
            ++track->open;
        else if (track->open > 0)
            --track->open;
    }
    AsyncTracks result;
    result.groups = int(groups.size());
    for (const QList<Track> &tracks : std::as_const(groups))
        result.tracks += int(tracks.size());
    return result;
}

//! The distinct (name, category) pairs of the async events.
QSet<QString> asyncNameGroups(const QList<QJsonObject> &events)
{
    QSet<QString> groups;
    for (const QJsonObject &e : events) {
        const QString ph = e.value(QLatin1String("ph")).toString();
        if (ph == QLatin1String("b") || ph == QLatin1String("e")) {
            groups.insert(e.value(QLatin1String("name")).toString() + QLatin1Char('/')
                + e.value(QLatin1String("cat")).toString());
        }
    }
    return groups;
}

// One task run to record: [startNs, endNs] on a worker of a keeper.
struct Run
{
    qint64 startNs = 0;
    qint64 endNs = 0;
    int worker = 0;
    QString keeper;
};
using Runs = QList<Run>;

TaskInfo finishedTask(quint64 id, const Run &run)
{
    TaskInfo t;
    t.setId(id);
    t.setTitle(QStringLiteral("t%1").arg(id));
    t.setKeeperName(run.keeper);
    t.setState(TaskState::Succeeded);
    t.setWorkerIndex(run.worker);
    t.setQueuedAtNsecs(run.startNs);
    t.setStartedAtNsecs(run.startNs);
    t.setFinishedAtNsecs(run.endNs);
    return t;
}

/*
    How many X slices on one (pid, tid) overlap another as a JSON viewer reads them: ts and dur
    parsed as doubles, a slice ending at ts + dur in double arithmetic (Perfetto,
    chrome://tracing), or at (ts - the track's first ts) + dur (speedscope). A slice that
    starts inside another must end inside it too (nested, as a call in its caller); one that
    starts at or after another's end follows it.
*/
int overlapsAsDoubles(const QList<QJsonObject> &slices, QString *first)
{
    QHash<QPair<qint64, qint64>, QList<QPair<double, double>>> tracks;
    for (const QJsonObject &x : slices) {
        tracks[{ x.value(QLatin1String("pid")).toInteger(),
                   x.value(QLatin1String("tid")).toInteger() }]
            .append({ x.value(QLatin1String("ts")).toDouble(),
                x.value(QLatin1String("dur")).toDouble() });
    }
    int overlaps = 0;
    for (auto it = tracks.begin(); it != tracks.end(); ++it) {
        QList<QPair<double, double>> &track = it.value();
        // By start, the longer first: of two that start together, it holds the other.
        std::sort(track.begin(), track.end(), [](const auto &a, const auto &b) {
            return a.first != b.first ? a.first < b.first : a.second > b.second;
        });
        const double origin = track.first().first;
        struct End
        {
            double absolute;
            double fromOrigin;
        };
        std::vector<End> open; // the slices the current one may be inside
        for (const auto &[ts, dur] : std::as_const(track)) {
            const End end { ts + dur, (ts - origin) + dur };
            while (!open.empty() && ts >= open.back().absolute
                && ts - origin >= open.back().fromOrigin)
                open.pop_back();
            // A slice that starts inside the innermost open one by either reading must start
            // inside it by both, and end within it.
            bool bad = false;
            if (!open.empty()) {
                const End &outer = open.back();
                const bool byAbsolute = ts < outer.absolute;
                const bool byOrigin = ts - origin < outer.fromOrigin;
                bad = (byAbsolute || byOrigin)
                    && !(byAbsolute && byOrigin && end.absolute <= outer.absolute
                        && end.fromOrigin <= outer.fromOrigin);
            }
            if (bad && overlaps++ == 0 && first) {
                *first = QStringLiteral("tid %1: %2 + %3 = %4 crosses an end at %5")
                             .arg(it.key().second)
                             .arg(ts, 0, 'f', 6)
                             .arg(dur, 0, 'f', 6)
                             .arg(end.absolute, 0, 'f', 6)
                             .arg(open.back().absolute, 0, 'f', 6);
            }
            if (!bad)
                open.push_back(end);
        }
    }
    return overlaps;
}

// What a viewer reads for \a ns written exactly as microseconds (TraceWriter's grid).
double microsAsDouble(qint64 ns)
{
    return QStringLiteral("%1.%2")
        .arg(ns / 1000)
        .arg(ns % 1000, 3, 10, QLatin1Char('0'))
        .toDouble();
}

// Back-to-back runs on worker 0 from \a startNs, each \a durNs long, after a gap of \a gapNs.
Runs backToBack(qint64 startNs, qint64 durNs, qint64 gapNs, int count)
{
    Runs runs;
    qint64 t = startNs;
    for (int i = 0; i < count; ++i) {
        runs.append({ t, t + durNs, 0, {} });
        t += durNs + gapNs;
    }
    return runs;
}

} // namespace

Q_DECLARE_METATYPE(Run)

class tst_TraceWriter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void manualModeKeeper();
    void stringsSurvive_data();
    void stringsSurvive();
    void tasksOnTheirWorkers();
    void nestedTaskInsideItsWaiter();
    void cap();
    void counterSamplesAreCoalesced();
    void saveAndErrors();
    void emptyTrace();
    void perfettoImportRules();
    void noOverlapAsDoubles_data();
    void noOverlapAsDoubles();
    void keepersApart();
    void processIsTheProgram();
    void argsOfASlice();
};

void tst_TraceWriter::manualModeKeeper()
{
    PromiseKeeper keeper(0);
    const QString fancy = QStringLiteral("say \"hi\" \\ — ünïcødé ✓ 日本 😀");

    // Queued before the writer is attached: it arrives through the snapshot.
    auto early = keeper.submit(pk::TaskOptions { QStringLiteral("early"), 0 }, [] { return 1; });

    TraceWriter trace;
    keeper.addEventListener(&trace);
    auto scope = qScopeGuard([&] { keeper.removeEventListener(&trace); });

    auto good = keeper.submit(pk::TaskOptions { fancy, 5 }, [] { return 2; });
    auto bad = keeper.submit(pk::TaskOptions { QStringLiteral("bad"), 0 },
        []() -> int { throw std::runtime_error("broken \"thing\""); });
    QCOMPARE(keeper.processPending(), 3);
    auto cancelled
        = keeper.submit(pk::TaskOptions { QStringLiteral("never"), 0 }, [] { return 3; });
    QCOMPARE(keeper.cancelAll(), 1);
    auto pending = keeper.submit(pk::TaskOptions { QStringLiteral("later"), 0 }, [] {});
    QCOMPARE(keeper.processPending(), 1);
    // Still queued when the trace is written.
    auto queued = keeper.submit(pk::TaskOptions { QStringLiteral("queued at the end"), 0 }, [] {});
    QTRY_COMPARE(trace.taskCount(), 6);
    trace.setThreadCount(keeper.threadCount());

    ParsedTrace t;
    QVERIFY(parse(trace.toJson(), &t));

    // One X event per task that ran, on worker 0's track (manual mode runs on "worker 0").
    const QList<QJsonObject> runs = t.withPhase(QStringLiteral("X"));
    QCOMPARE(runs.size(), 4);
    for (const QJsonObject &x : runs) {
        QCOMPARE(x.value(QLatin1String("pid")).toInteger(), QCoreApplication::applicationPid());
        QCOMPARE(x.value(QLatin1String("tid")).toInt(), 1);
        QVERIFY(x.value(QLatin1String("ts")).toDouble() >= 0);
        QVERIFY(x.value(QLatin1String("dur")).toDouble() >= 0);
        QCOMPARE(x.value(QLatin1String("cat")).toString(), QStringLiteral("task"));
    }

    const QList<QJsonObject> goodRuns = t.withPhaseAndId(QStringLiteral("X"), good.info().id());
    QCOMPARE(goodRuns.size(), 1);
    QCOMPARE(goodRuns[0].value(QLatin1String("name")).toString(), fancy);
    QCOMPARE(argString(goodRuns[0], "title"), fancy);
    QCOMPARE(argString(goodRuns[0], "state"), QStringLiteral("Succeeded"));
    QCOMPARE(goodRuns[0]
                 .value(QLatin1String("args"))
                 .toObject()
                 .value(QLatin1String("priority"))
                 .toInt(),
        5);
    // Times are exact to the nanosecond: dur is the task's run time.
    QCOMPARE(qRound64(goodRuns[0].value(QLatin1String("dur")).toDouble() * 1000),
        good.info().runNsecs());

    const QList<QJsonObject> badRuns = t.withPhaseAndId(QStringLiteral("X"), bad.info().id());
    QCOMPARE(badRuns.size(), 1);
    QCOMPARE(argString(badRuns[0], "state"), QStringLiteral("Failed"));
    QCOMPARE(argString(badRuns[0], "error"), QStringLiteral("broken \"thing\""));

    // Never ran: no X event, but its time in the queue and its state are there.
    QVERIFY(t.withPhaseAndId(QStringLiteral("X"), cancelled.info().id()).isEmpty());
    const QList<QJsonObject> cancelledWait
        = t.withPhaseAndId(QStringLiteral("b"), cancelled.info().id());
    QCOMPARE(cancelledWait.size(), 1);
    QCOMPARE(argString(cancelledWait[0], "state"), QStringLiteral("Cancelled"));

    // Every task has one queue wait: an async b/e pair with the task id, category "queue".
    for (const auto &p : { early.info(), good.info(), bad.info(), cancelled.info(), pending.info(),
             queued.info() }) {
        const QList<QJsonObject> b = t.withPhaseAndId(QStringLiteral("b"), p.id());
        const QList<QJsonObject> e = t.withPhaseAndId(QStringLiteral("e"), p.id());
        QCOMPARE(b.size(), 1);
        QCOMPARE(e.size(), 1);
        QCOMPARE(b[0].value(QLatin1String("cat")).toString(), QStringLiteral("queue"));
        QCOMPARE(e[0].value(QLatin1String("cat")).toString(), QStringLiteral("queue"));
        QCOMPARE(b[0].value(QLatin1String("id")).toInteger(), qint64(p.id()));
        QCOMPARE(e[0].value(QLatin1String("id")).toInteger(), qint64(p.id()));
        // One name for every wait (a name per task is a Perfetto track per task); the task is
        // in the args.
        QCOMPARE(b[0].value(QLatin1String("name")).toString(), QStringLiteral("queued"));
        QCOMPARE(e[0].value(QLatin1String("name")).toString(), QStringLiteral("queued"));
        QCOMPARE(argString(b[0], "title"), p.title());
        QCOMPARE(
            b[0].value(QLatin1String("args")).toObject().value(QLatin1String("id")).toInteger(),
            qint64(p.id()));
        QVERIFY(e[0].value(QLatin1String("ts")).toDouble()
            >= b[0].value(QLatin1String("ts")).toDouble());
    }
    const QList<QJsonObject> lastWait = t.withPhaseAndId(QStringLiteral("b"), queued.info().id());
    QCOMPARE(argString(lastWait[0], "state"), QStringLiteral("Queued"));

    // Metadata: the tracks are named.
    QCOMPARE(t.threadName(kQueueTid), QStringLiteral("queue"));
    QCOMPARE(t.threadName(1), QStringLiteral("worker 0"));
    QCOMPARE(t.other().value(QLatin1String("droppedTasks")).toInteger(), 0);
    QCOMPARE(t.other().value(QLatin1String("threadCount")).toInt(), 0);
    QCOMPARE(t.other().value(QLatin1String("format")).toInt(), 3);
    QCOMPARE(
        t.other().value(QLatin1String("producer")).toString(), QStringLiteral("PromiseKeeper"));

    // Counters: sampled, ending with what is queued and running now.
    const QList<qint64> queuedCounter = t.counter(QStringLiteral("queued"));
    const QList<qint64> runningCounter = t.counter(QStringLiteral("running"));
    QVERIFY(!queuedCounter.isEmpty());
    QCOMPARE(queuedCounter.size(), runningCounter.size());
    QCOMPARE(queuedCounter.last(), 1);
    QCOMPARE(runningCounter.last(), 0);
    QVERIFY(*std::max_element(queuedCounter.begin(), queuedCounter.end()) >= 1);
    for (const qint64 v : queuedCounter)
        QVERIFY(v >= 0);
}

void tst_TraceWriter::stringsSurvive_data()
{
    QTest::addColumn<QString>("title");
    QTest::addColumn<QString>("error");
    QTest::newRow("plain") << QStringLiteral("plain") << QString();
    QTest::newRow("quotes") << QStringLiteral("a \"quoted\" 'title'") << QStringLiteral("\"");
    QTest::newRow("backslashes") << QStringLiteral("C:\\path\\to\\file") << QStringLiteral("\\");
    QTest::newRow("control") << QStringLiteral("tab\tnew\nline\r\x01\x1f end")
                             << QStringLiteral("bell\x07");
    QTest::newRow("unicode") << QStringLiteral("ünïcødé ✓ 日本語 — Ελληνικά")
                             << QStringLiteral("😀 emoji (a surrogate pair)");
    QTest::newRow("json-looking") << QStringLiteral("\"},{\"ph\":\"X\"") << QStringLiteral("]}");
    QTest::newRow("empty") << QString() << QString();
}

void tst_TraceWriter::stringsSurvive()
{
    QFETCH(QString, title);
    QFETCH(QString, error);

    TraceWriter trace;
    trace.setProcessName(title);
    TaskInfo info = makeTask(
        7, title, error.isEmpty() ? TaskState::Succeeded : TaskState::Failed, 1000000000);
    info.setErrorString(error);
    trace.record(info);

    ParsedTrace t;
    QVERIFY(parse(trace.toJson(), &t));
    const QList<QJsonObject> runs = t.withPhase(QStringLiteral("X"));
    QCOMPARE(runs.size(), 1);
    QCOMPARE(argString(runs[0], "title"), title);
    QCOMPARE(argString(runs[0], "error"), error);
    QCOMPARE(runs[0].value(QLatin1String("name")).toString(),
        title.isEmpty() ? QStringLiteral("task 7") : title);
    const QList<QJsonObject> waits = t.withPhase(QStringLiteral("b"));
    QCOMPARE(waits.size(), 1);
    QCOMPARE(waits[0].value(QLatin1String("name")).toString(), QStringLiteral("queued"));
    QCOMPARE(argString(waits[0], "title"), title);
    QCOMPARE(argString(waits[0], "error"), error);
    bool foundProcessName = false;
    for (const QJsonObject &m : t.withPhase(QStringLiteral("M"))) {
        if (m.value(QLatin1String("name")).toString() == QLatin1String("process_name")) {
            QCOMPARE(argString(m, "name"), title);
            foundProcessName = true;
        }
    }
    QVERIFY(foundProcessName);
}

void tst_TraceWriter::tasksOnTheirWorkers()
{
    PromiseKeeper keeper(2);
    pktest::Gate gate;
    TraceWriter trace;
    keeper.addEventListener(&trace);
    auto scope = qScopeGuard([&] { keeper.removeEventListener(&trace); });
    const auto unblock = gate.openOnExit();

    auto a
        = keeper.submit(pk::TaskOptions { QStringLiteral("a"), 0 }, [gate] { return gate.pass(); });
    auto b
        = keeper.submit(pk::TaskOptions { QStringLiteral("b"), 0 }, [gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived(2));
    // Both run: the running counter reaches 2 once the keeper's thread has the events.
    QTRY_VERIFY([&] {
        ParsedTrace t;
        return parse(trace.toJson(), &t) && t.counter(QStringLiteral("running")).last() == 2;
    }());
    gate.open(2);
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QTRY_VERIFY([&] {
        ParsedTrace t;
        return parse(trace.toJson(), &t) && t.withPhase(QStringLiteral("X")).size() == 2
            && argString(t.withPhase(QStringLiteral("X"))[0], "state") == QLatin1String("Succeeded")
            && argString(t.withPhase(QStringLiteral("X"))[1], "state")
            == QLatin1String("Succeeded");
    }());
    trace.setThreadCount(keeper.threadCount());

    ParsedTrace t;
    QVERIFY(parse(trace.toJson(), &t));
    QSet<int> tids;
    for (const QJsonObject &x : t.withPhase(QStringLiteral("X"))) {
        const int worker
            = x.value(QLatin1String("args")).toObject().value(QLatin1String("worker")).toInt();
        QCOMPARE(x.value(QLatin1String("tid")).toInt(), worker + 1);
        tids.insert(worker + 1);
    }
    QCOMPARE(tids, QSet<int>({ 1, 2 }));
    QCOMPARE(t.threadName(1), QStringLiteral("worker 0"));
    QCOMPARE(t.threadName(2), QStringLiteral("worker 1"));
    QCOMPARE(t.other().value(QLatin1String("threadCount")).toInt(), 2);
    QCOMPARE(t.counter(QStringLiteral("running")).last(), 0);
    QCOMPARE(t.counter(QStringLiteral("queued")).last(), 0);
}

void tst_TraceWriter::nestedTaskInsideItsWaiter()
{
    // One worker: the outer task waits for one queued behind it, and runs it meanwhile.
    PromiseKeeper keeper(1);
    TraceWriter trace;
    keeper.addEventListener(&trace);
    auto scope = qScopeGuard([&] { keeper.removeEventListener(&trace); });
    // The inner promise reaches the outer task through a std::future (ThreadSanitizer sees its
    // ordering; a QSemaphore's it does not).
    std::promise<pk::Promise<int>> innerSubmitted;
    std::future<pk::Promise<int>> innerOfOuter = innerSubmitted.get_future();
    auto outer = keeper.submit(pk::TaskOptions { QStringLiteral("outer"), 0 },
        [&innerOfOuter] { return innerOfOuter.get().result(pktest::kTimeoutMs) + 1; });
    innerSubmitted.set_value(
        keeper.submit(pk::TaskOptions { QStringLiteral("inner"), 0 }, [] { return 1; }));
    QCOMPARE(outer.result(pktest::kTimeoutMs), 2);
    QTRY_COMPARE(keeper.deliveredCounts().succeeded, 2);

    ParsedTrace t;
    QVERIFY(parse(trace.toJson(), &t));
    QHash<QString, QJsonObject> byName;
    for (const QJsonObject &x : t.withPhase(QStringLiteral("X")))
        byName.insert(x.value(QLatin1String("name")).toString(), x);
    QVERIFY(byName.contains(QStringLiteral("outer")) && byName.contains(QStringLiteral("inner")));
    const QJsonObject o = byName.value(QStringLiteral("outer"));
    const QJsonObject i = byName.value(QStringLiteral("inner"));
    QCOMPARE(i.value(QLatin1String("tid")).toInt(), o.value(QLatin1String("tid")).toInt());
    const auto ts = [](const QJsonObject &x) { return x.value(QLatin1String("ts")).toDouble(); };
    const auto end
        = [&](const QJsonObject &x) { return ts(x) + x.value(QLatin1String("dur")).toDouble(); };
    QVERIFY(ts(o) <= ts(i));
    QVERIFY2(end(i) <= end(o),
        qPrintable(QStringLiteral("inner ends at %1, outer at %2").arg(end(i)).arg(end(o))));
    // The outer slice keeps its whole run: it is not cut where the inner one starts.
    QCOMPARE(o.value(QLatin1String("dur")).toDouble(),
        double(outer.info().runNsecs() / 1000) + double(outer.info().runNsecs() % 1000) / 1000);
}

void tst_TraceWriter::cap()
{
    PromiseKeeper keeper(0);
    TraceWriter trace(3);
    QCOMPARE(trace.maxTasks(), 3);
    keeper.addEventListener(&trace);
    auto scope = qScopeGuard([&] { keeper.removeEventListener(&trace); });
    for (int i = 0; i < 10; ++i)
        keeper.submit([] {});
    QCOMPARE(keeper.processPending(), 10);

    QCOMPARE(trace.taskCount(), 3);
    QCOMPARE(trace.droppedTaskCount(), 7u);
    ParsedTrace t;
    QVERIFY(parse(trace.toJson(), &t));
    QCOMPARE(t.withPhase(QStringLiteral("X")).size(), 3);
    QCOMPARE(t.other().value(QLatin1String("droppedTasks")).toInteger(), 7);
    QCOMPARE(t.other().value(QLatin1String("maxTasks")).toInteger(), 3);
    bool labelled = false;
    for (const QJsonObject &m : t.withPhase(QStringLiteral("M")))
        labelled |= m.value(QLatin1String("name")).toString() == QLatin1String("process_labels");
    QVERIFY(labelled);

    trace.clear();
    QCOMPARE(trace.taskCount(), 0);
    QCOMPARE(trace.droppedTaskCount(), 0u);
    QCOMPARE(trace.maxTasks(), 3);
}

void tst_TraceWriter::counterSamplesAreCoalesced()
{
    TraceWriter trace;
    // 1000 tasks queued 100 µs apart: 100 ms, so about 100 samples, not 1000.
    const qint64 start = 5000000000;
    for (int i = 0; i < 1000; ++i)
        trace.record(makeTask(quint64(i + 1), QString(), TaskState::Queued, start + i * 100000));
    ParsedTrace t;
    QVERIFY(parse(trace.toJson(), &t));
    const QList<qint64> queued = t.counter(QStringLiteral("queued"));
    QVERIFY2(queued.size() <= 101, qPrintable(QString::number(queued.size())));
    QVERIFY(queued.size() >= 50);
    QCOMPARE(queued.last(), 1000);
    // Values only grow here, and the samples are in time order.
    double previousTs = -1;
    qint64 previous = 0;
    for (const QJsonObject &c : t.withPhase(QStringLiteral("C"))) {
        if (c.value(QLatin1String("name")).toString() != QLatin1String("queued"))
            continue;
        const double ts = c.value(QLatin1String("ts")).toDouble();
        QVERIFY(ts >= previousTs);
        previousTs = ts;
        const qint64 v
            = c.value(QLatin1String("args")).toObject().value(QLatin1String("queued")).toInteger();
        QVERIFY(v >= previous);
        previous = v;
    }
    // The queue waits of live tasks end at the last recorded time.
    QCOMPARE(t.withPhase(QStringLiteral("b")).size(), 1000);
    QCOMPARE(t.withPhase(QStringLiteral("e")).size(), 1000);
}

void tst_TraceWriter::saveAndErrors()
{
    TraceWriter trace;
    trace.record(makeTask(1, QStringLiteral("one"), TaskState::Succeeded, 1000000));
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("trace.json"));
    QVERIFY2(trace.save(path), qPrintable(trace.errorString()));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), trace.toJson());

    QBuffer buffer;
    QVERIFY(!trace.write(&buffer)); // not open
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    QVERIFY(trace.write(&buffer));
    QCOMPARE(buffer.data(), trace.toJson());

    const QString bad = dir.filePath(QStringLiteral("no/such/dir/trace.json"));
    QVERIFY(!trace.save(bad));
    QVERIFY(trace.errorString().contains(bad));
}

void tst_TraceWriter::emptyTrace()
{
    TraceWriter trace;
    ParsedTrace t;
    QVERIFY(parse(trace.toJson(), &t));
    QVERIFY(t.withPhase(QStringLiteral("X")).isEmpty());
    QCOMPARE(t.threadName(kQueueTid), QStringLiteral("queue"));
    QCOMPARE(t.other().value(QLatin1String("recordedTasks")).toInteger(), 0);
}

/*
    What Perfetto's JSON importer (src/trace_processor/importers/json/json_trace_tokenizer.cc and
    json_trace_parser*.cc) and chrome://tracing need, checked on a trace with every kind of event:
    tasks that succeeded, failed, were cancelled while queued, are still queued or running, a
    dropped task (so that process_labels is written), and a title with a DEL character.
*/
void tst_TraceWriter::perfettoImportRules()
{
    TraceWriter trace(5);
    trace.setThreadCount(2);
    const QString del = QStringLiteral("del\x7f char");
    const qint64 t0 = 1000000000;
    trace.record(makeTask(1, del, TaskState::Succeeded, t0));
    TaskInfo failed = makeTask(2, QStringLiteral("fails"), TaskState::Failed, t0 + 100);
    failed.setWorkerIndex(1);
    failed.setErrorString(QStringLiteral("boom"));
    trace.record(failed);
    TaskInfo cancelled = makeTask(3, QString(), TaskState::Queued, t0 + 200);
    trace.record(cancelled);
    cancelled.setState(TaskState::Cancelled);
    cancelled.setFinishedAtNsecs(t0 + 5000);
    trace.record(cancelled);
    for (quint64 id = 4; id < 8; ++id) // the last two are dropped (cap 5)
        trace.record(makeTask(
            id, QStringLiteral("t%1").arg(id), TaskState::Succeeded, t0 + 3000 * qint64(id)));
    trace.record(makeTask(8, QStringLiteral("queued"), TaskState::Queued, t0 + 30000));
    TaskInfo running = makeTask(9, QStringLiteral("running"), TaskState::Running, t0 + 40000);
    running.setWorkerIndex(1);
    trace.record(running);
    QVERIFY(trace.droppedTaskCount() > 0);

    const QByteArray json = trace.toJson();
    // Raw control characters anywhere (DEL included) fail some Perfetto versions' tokenizer.
    for (const char c : json)
        QVERIFY2(c == '\n' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f),
            qPrintable(QStringLiteral("raw control character %1").arg(int(c))));
    // Timestamps and durations: plain microseconds with at most nanosecond decimals.
    const QRegularExpression number(QStringLiteral("\"(ts|dur)\":([^,}]*)"));
    const QRegularExpression plain(QStringLiteral("^\\d+(\\.\\d{1,3})?$"));
    for (auto it = number.globalMatch(QString::fromUtf8(json)); it.hasNext();) {
        const QString value = it.next().captured(2);
        QVERIFY2(plain.match(value).hasMatch(), qPrintable(value));
    }

    ParsedTrace t;
    QVERIFY(parse(json, &t));
    // Older Perfetto versions took "displayTimeUnit": "ms" as the unit of "ts" and "dur".
    QVERIFY(!t.root.contains(QLatin1String("displayTimeUnit")));
    QVERIFY(t.root.value(QLatin1String("otherData")).isObject());

    QSet<int> runTids;
    QHash<qint64, QJsonObject> begins;
    int ends = 0;
    for (const QJsonObject &e : std::as_const(t.events)) {
        const QString ph = e.value(QLatin1String("ph")).toString();
        QCOMPARE(ph.size(), 1);
        // Integers, never 0: Perfetto reads tid 0 as "no tid" (and uses the pid), pid 0 as the
        // idle process.
        QVERIFY(e.value(QLatin1String("pid")).isDouble());
        QVERIFY(e.value(QLatin1String("tid")).isDouble());
        QCOMPARE(e.value(QLatin1String("pid")).toInteger(), QCoreApplication::applicationPid());
        const int tid = e.value(QLatin1String("tid")).toInt();
        QVERIFY2(tid > 0, QJsonDocument(e).toJson(QJsonDocument::Compact).constData());
        QVERIFY(!e.value(QLatin1String("name")).toString().isEmpty());
        if (ph != QLatin1String("M"))
            QVERIFY(e.value(QLatin1String("ts")).isDouble()); // only metadata may omit it
        if (ph == QLatin1String("X")) {
            QVERIFY(e.value(QLatin1String("dur")).toDouble(-1) >= 0);
            QVERIFY(tid != kQueueTid);
            runTids.insert(tid);
        } else if (ph == QLatin1String("b") || ph == QLatin1String("e")) {
            // Perfetto matches b and e by category and id (a number or a string), and ends the
            // slice of the same name.
            QCOMPARE(e.value(QLatin1String("cat")).toString(), QStringLiteral("queue"));
            QVERIFY(e.value(QLatin1String("id")).isDouble());
            const qint64 id = e.value(QLatin1String("id")).toInteger();
            if (ph == QLatin1String("b")) {
                QVERIFY(!begins.contains(id));
                begins.insert(id, e);
            } else {
                QVERIFY(begins.contains(id));
                QCOMPARE(
                    e.value(QLatin1String("name")), begins.value(id).value(QLatin1String("name")));
                ++ends;
            }
        } else if (ph == QLatin1String("C")) {
            // One numeric series per counter, named after it: Perfetto's track "queued queued".
            const QJsonObject args = e.value(QLatin1String("args")).toObject();
            QCOMPARE(args.size(), 1);
            QVERIFY(args.value(e.value(QLatin1String("name")).toString()).isDouble());
        } else if (ph == QLatin1String("M")) {
            const QString name = e.value(QLatin1String("name")).toString();
            const QString key = name == QLatin1String("process_labels") ? QStringLiteral("labels")
                                                                        : QStringLiteral("name");
            QVERIFY2(name == QLatin1String("process_name") || name == QLatin1String("thread_name")
                    || name == QLatin1String("process_labels"),
                qPrintable(name));
            QVERIFY(e.value(QLatin1String("args")).toObject().value(key).isString());
        } else if (ph == QLatin1String("i")) {
            // A run of no length: an instant on its thread's track ("s":"t"), with its args.
            QCOMPARE(e.value(QLatin1String("s")).toString(), QStringLiteral("t"));
            QCOMPARE(e.value(QLatin1String("cat")).toString(), QStringLiteral("task"));
            QVERIFY(e.value(QLatin1String("args")).toObject().contains(QLatin1String("id")));
        } else {
            QFAIL(qPrintable(QStringLiteral("unexpected phase %1").arg(ph)));
        }
    }
    QCOMPARE(ends, begins.size());
    QCOMPARE(begins.size(), 7); // tasks 1-5, 8 and 9
    QCOMPARE(runTids, (QSet<int> { 1, 2 }));
    // Perfetto groups the queue waits' tracks by name: one group here, with a row for each wait
    // that overlaps another: three (tasks 1 to 3 wait together).
    QCOMPARE(asyncNameGroups(t.events), QSet<QString> { QStringLiteral("queued/queue") });
    const AsyncTracks tracks = perfettoAsyncTracks(t.events);
    QCOMPARE(tracks.groups, 1);
    QCOMPARE(tracks.tracks, 3);
    // The queue has a track of its own, apart from the workers'.
    QCOMPARE(t.threadName(kQueueTid), QStringLiteral("queue"));
    QCOMPARE(t.threadName(1), QStringLiteral("worker 0"));
    QCOMPARE(t.threadName(2), QStringLiteral("worker 1"));
    QCOMPARE(argString(t.withPhaseAndId(QStringLiteral("X"), 1).value(0), "title"), del);

    // The number of async groups and tracks does not grow with the task count: tasks one after
    // the other, titled and untitled ("task <id>" was a name of its own), take one track
    // whether there are 10 or 2000 of them.
    for (const int count : { 10, 2000 }) {
        TraceWriter many;
        for (int i = 0; i < count; ++i) {
            const QString title = i % 2 ? QStringLiteral("job %1").arg(i) : QString();
            many.record(makeTask(quint64(i + 1), title, TaskState::Succeeded, t0 + 3000 * i));
        }
        ParsedTrace m;
        QVERIFY(parse(many.toJson(), &m));
        QCOMPARE(m.withPhase(QStringLiteral("b")).size(), count);
        QCOMPARE(asyncNameGroups(m.events), QSet<QString> { QStringLiteral("queued/queue") });
        const AsyncTracks sequential = perfettoAsyncTracks(m.events);
        QCOMPARE(sequential.groups, 1);
        QCOMPARE(sequential.tracks, 1);
        // Runs are on their worker's thread track (InternThreadTrack) whatever their name.
        QSet<int> tids;
        for (const QJsonObject &x : m.withPhase(QStringLiteral("X")))
            tids.insert(x.value(QLatin1String("tid")).toInt());
        QCOMPARE(tids, QSet<int> { 1 });
    }

    // Waits that overlap get a row each, in the one group: 50 tasks queued together and run one
    // by one make 50 rows, as deep as the queue got.
    TraceWriter burst;
    for (int i = 0; i < 50; ++i) {
        TaskInfo info = makeTask(quint64(i + 1), QString(), TaskState::Succeeded, t0 + i);
        info.setStartedAtNsecs(t0 + 1000 * (i + 1));
        info.setFinishedAtNsecs(t0 + 1000 * (i + 1) + 500);
        burst.record(info);
    }
    ParsedTrace b;
    QVERIFY(parse(burst.toJson(), &b));
    const AsyncTracks overlapping = perfettoAsyncTracks(b.events);
    QCOMPARE(overlapping.groups, 1);
    QCOMPARE(overlapping.tracks, 50);
}

void tst_TraceWriter::noOverlapAsDoubles_data()
{
    QTest::addColumn<Runs>("runs");
    // Whether these runs, written with their exact durations, overlap as doubles: the rows
    // that say so would fail without the writer's fitting.
    QTest::addColumn<bool>("awkward");

    // Each row starts with a run at 1 µs on worker 7: the trace's base, so that the other
    // timestamps stay as large as written.
    const Run anchor { 1000, 1000, 7, {} };
    const qint64 at2p33us = (qint64(1) << 33) * 1000; // 2^33 µs in ns
    const qint64 at2p42us = (qint64(1) << 42) * 1000;

    QTest::newRow("1 ns back to back near 2^33 us")
        << (Runs { anchor } + backToBack(at2p33us + 7, 1, 0, 500)) << true;
    QTest::newRow("999 ns back to back near 2^33 us")
        << (Runs { anchor } + backToBack(at2p33us + 123, 999, 0, 500)) << true;
    QTest::newRow("999 ns back to back near 2^42 us")
        << (Runs { anchor } + backToBack(at2p42us + 1, 999, 0, 500)) << true;
    QTest::newRow("zero length, and starting as another ends") << Runs { anchor,
        { 5000, 5000, 0, {} }, { 5000, 5000, 0, {} }, { 5000, 7001, 0, {} }, { 7001, 7001, 0, {} },
        { 7001, 9999, 0, {} }, { 9999, 9999, 0, {} } } << false;
    QTest::newRow("zero length near 2^42 us") << (Runs { anchor }
        + backToBack(at2p42us + 3, 0, 1, 50) + backToBack(at2p42us + 500, 0, 0, 5))
                                              << false;
    // Overlapping input (a feed of one's own): the next slice wins, no overlap either.
    QTest::newRow("overlapping input")
        << Runs { anchor, { 5000, 9000, 0, {} }, { 6000, 9500, 0, {} }, { 6500, 9700, 0, {} } }
        << true;
    // A worker that waited ran queued tasks meanwhile: they are inside the outer task's slice,
    // which keeps its whole length; near 2^33 us, where the sums round.
    QTest::newRow("nested runs") << Runs { anchor, { 5000, 9000, 0, {} }, { 6000, 7000, 0, {} },
        { 6500, 6500, 0, {} }, { 7000, 8999, 0, {} }, { 9000, 9500, 0, {} } }
                                 << false;
    QTest::newRow("nested runs near 2^33 us") << Runs { anchor,
        { at2p33us + 7, at2p33us + 9007, 0, {} }, { at2p33us + 1007, at2p33us + 5006, 0, {} },
        { at2p33us + 5006, at2p33us + 9007, 0, {} }, { at2p33us + 9007, at2p33us + 9999, 0, {} } }
                                              << true;

    // A demo-like sequence: four workers of two keepers, runs of 0 to 20 µs with gaps of 0
    // (most often) to 3 µs, from an awkward offset; seeded, so that a failure repeats.
    QRandomGenerator random(20261201);
    Runs mixed { anchor };
    for (int w = 0; w < 4; ++w) {
        qint64 t = at2p33us + random.bounded(1000000);
        const QString keeper = w < 2 ? QStringLiteral("images") : QStringLiteral("net");
        for (int i = 0; i < 3000; ++i) {
            const qint64 dur = random.bounded(20001);
            mixed.append({ t, t + dur, w % 2, keeper });
            t += dur + (random.bounded(4) == 0 ? random.bounded(3001) : 0);
        }
    }
    QTest::newRow("12000 random runs, seeded") << mixed << true;
}

void tst_TraceWriter::noOverlapAsDoubles()
{
    QFETCH(Runs, runs);
    QFETCH(bool, awkward);

    TraceWriter trace;
    quint64 id = 0;
    for (const Run &run : std::as_const(runs))
        trace.record(finishedTask(++id, run));
    ParsedTrace t;
    QVERIFY(parse(trace.toJson(), &t));
    // Runs of no length are instants on their tracks.
    const QList<QJsonObject> slices
        = t.withPhase(QStringLiteral("X")) + t.withPhase(QStringLiteral("i"));
    QCOMPARE(slices.size(), runs.size());

    QString first;
    const int overlaps = overlapsAsDoubles(slices, &first);
    QVERIFY2(overlaps == 0,
        qPrintable(QStringLiteral("%1 overlaps; first: %2").arg(overlaps).arg(first)));

    // Every slice starts where its task started and ends at most where it ended, as little
    // before as the doubles need (or where the next one starts, for overlapping input).
    const qint64 base = runs.first().startNs;
    QList<QJsonObject> naive;
    for (const QJsonObject &x : slices) {
        const Run &run = runs.at(
            x.value(QLatin1String("args")).toObject().value(QLatin1String("id")).toInteger() - 1);
        QCOMPARE(x.value(QLatin1String("ts")).toDouble(), microsAsDouble(run.startNs - base));
        const double dur = x.value(QLatin1String("dur")).toDouble();
        const double real = double(run.endNs - run.startNs) / 1000;
        QVERIFY2(dur <= real + 1e-9, qPrintable(QStringLiteral("%1 > %2").arg(dur).arg(real)));
        if (QByteArray(QTest::currentDataTag()) != "overlapping input")
            QVERIFY2(real - dur < 0.01, qPrintable(QStringLiteral("%1 << %2").arg(dur).arg(real)));
        QJsonObject exact = x;
        exact.insert(QLatin1String("dur"), real);
        naive.append(exact);
    }
    // The rows that say so are awkward indeed: their exact durations overlap as doubles.
    QCOMPARE(overlapsAsDoubles(naive, nullptr) > 0, awkward);
}

void tst_TraceWriter::keepersApart()
{
    // Two keepers' tasks on the same worker indexes go on tracks of their own, named after them.
    TraceWriter trace;
    trace.record(finishedTask(1, { 1000, 2000, 0, QStringLiteral("images") }));
    trace.record(finishedTask(2, { 1500, 2500, 0, QStringLiteral("net") }));
    trace.record(finishedTask(3, { 2000, 3000, 1, QStringLiteral("images") }));
    trace.record(finishedTask(4, { 3000, 4000, 1, QStringLiteral("net") }));
    ParsedTrace t;
    QVERIFY(parse(trace.toJson(), &t));
    QHash<qint64, int> tidOf;
    QHash<QString, QSet<int>> tidsOfKeeper;
    for (const QJsonObject &x : t.withPhase(QStringLiteral("X"))) {
        const QJsonObject args = x.value(QLatin1String("args")).toObject();
        const int tid = x.value(QLatin1String("tid")).toInt();
        tidOf.insert(args.value(QLatin1String("id")).toInteger(), tid);
        tidsOfKeeper[args.value(QLatin1String("keeper")).toString()].insert(tid);
    }
    QCOMPARE(tidOf.size(), 4);
    QCOMPARE(QSet<int>(tidOf.cbegin(), tidOf.cend()).size(), 4);
    QVERIFY(!tidsOfKeeper.value(QStringLiteral("images"))
                 .intersects(tidsOfKeeper.value(QStringLiteral("net"))));
    QCOMPARE(t.threadName(tidOf.value(1)), QStringLiteral("images · worker 0"));
    QCOMPARE(t.threadName(tidOf.value(2)), QStringLiteral("net · worker 0"));
    QCOMPARE(t.threadName(tidOf.value(3)), QStringLiteral("images · worker 1"));
    QCOMPARE(t.threadName(tidOf.value(4)), QStringLiteral("net · worker 1"));
    // Each keeper's queue waits on its own queue track.
    QHash<QString, int> queueTid;
    for (const QJsonObject &b : t.withPhase(QStringLiteral("b"))) {
        queueTid.insert(
            b.value(QLatin1String("args")).toObject().value(QLatin1String("keeper")).toString(),
            b.value(QLatin1String("tid")).toInt());
    }
    QCOMPARE(queueTid.size(), 2);
    QCOMPARE(
        t.threadName(queueTid.value(QStringLiteral("images"))), QStringLiteral("images · queue"));
    QCOMPARE(t.threadName(queueTid.value(QStringLiteral("net"))), QStringLiteral("net · queue"));
    const QJsonArray keepers = t.other().value(QLatin1String("keepers")).toArray();
    QCOMPARE(keepers.size(), 2);
    QCOMPARE(keepers.at(0).toObject().value(QLatin1String("threadCount")).toInt(), 2);

    // The listener path: setKeeperName() names the keeper listened to.
    PromiseKeeper keeper(0);
    TraceWriter listened;
    listened.setKeeperName(QStringLiteral("images"));
    keeper.addEventListener(&listened);
    auto scope = qScopeGuard([&] { keeper.removeEventListener(&listened); });
    auto done = keeper.submit(pk::TaskOptions { QStringLiteral("one"), 0 }, [] {});
    QCOMPARE(keeper.processPending(), 1);
    QTRY_COMPARE(listened.taskCount(), 1);
    ParsedTrace l;
    QVERIFY(parse(listened.toJson(), &l));
    const QList<QJsonObject> runs = l.withPhase(QStringLiteral("X"));
    QCOMPARE(runs.size(), 1);
    QCOMPARE(l.threadName(runs.first().value(QLatin1String("tid")).toInt()),
        QStringLiteral("images · worker 0"));
    QCOMPARE(runs.first()
                 .value(QLatin1String("args"))
                 .toObject()
                 .value(QLatin1String("keeper"))
                 .toString(),
        QStringLiteral("images"));
}

void tst_TraceWriter::processIsTheProgram()
{
    TraceWriter trace;
    QCOMPARE(trace.processId(), QCoreApplication::applicationPid());
    trace.setProcessName(QStringLiteral("myapp"));
    trace.setProcessId(31337);
    trace.record(finishedTask(1, { 1000, 2000, 0, QStringLiteral("images") }));
    ParsedTrace t;
    QVERIFY(parse(trace.toJson(), &t));
    QVERIFY(!t.events.isEmpty());
    for (const QJsonObject &e : std::as_const(t.events))
        QCOMPARE(e.value(QLatin1String("pid")).toInteger(), 31337);
    int processNames = 0;
    for (const QJsonObject &m : t.withPhase(QStringLiteral("M"))) {
        if (m.value(QLatin1String("name")).toString() == QLatin1String("process_name")) {
            ++processNames;
            QCOMPARE(
                m.value(QLatin1String("args")).toObject().value(QLatin1String("name")).toString(),
                QStringLiteral("myapp"));
        }
    }
    QCOMPARE(processNames, 1);
    QCOMPARE(t.other().value(QLatin1String("programName")).toString(), QStringLiteral("myapp"));
    QCOMPARE(t.other().value(QLatin1String("programPid")).toInteger(), 31337);
    QCOMPARE(t.other().value(QLatin1String("format")).toInt(), 3);
}

void tst_TraceWriter::argsOfASlice()
{
    TraceWriter trace;
    TaskInfo failed = finishedTask(7, { 1000, 2000, 1, QStringLiteral("net") });
    failed.setTitle(QStringLiteral("fetch"));
    failed.setState(TaskState::Failed);
    failed.setErrorType(QStringLiteral("std::runtime_error"));
    failed.setErrorString(QStringLiteral("timed out"));
    failed.setKind(pk::TaskKind::Continuation);
    failed.setInputIds({ 3, 5 });
    trace.record(failed);
    ParsedTrace t;
    QVERIFY(parse(trace.toJson(), &t));
    const QList<QJsonObject> runs = t.withPhase(QStringLiteral("X"));
    QCOMPARE(runs.size(), 1);
    const QJsonObject args = runs.first().value(QLatin1String("args")).toObject();
    QCOMPARE(args.value(QLatin1String("id")).toInteger(), 7);
    QCOMPARE(args.value(QLatin1String("title")).toString(), QStringLiteral("fetch"));
    QCOMPARE(args.value(QLatin1String("keeper")).toString(), QStringLiteral("net"));
    QCOMPARE(args.value(QLatin1String("state")).toString(), QStringLiteral("Failed"));
    QCOMPARE(
        args.value(QLatin1String("errorType")).toString(), QStringLiteral("std::runtime_error"));
    QCOMPARE(args.value(QLatin1String("error")).toString(), QStringLiteral("timed out"));
    QCOMPARE(args.value(QLatin1String("kind")).toString(), QStringLiteral("Continuation"));
    QCOMPARE(args.value(QLatin1String("inputIds")).toArray(), (QJsonArray { 3, 5 }));
    QCOMPARE(args.value(QLatin1String("worker")).toInt(), 1);
}

QTEST_MAIN(tst_TraceWriter)
#include "tst_tracewriter.moc"
