// pk::TraceReader and pk::TraceFeed: traces written by pk::TraceWriter, read back.
#include "pktest.h"

#include <pk/promisekeeper.h>
#include <pk/tracereader.h>
#include <pk/tracewriter.h>

#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <stdexcept>

using pk::PromiseKeeper;
using pk::TaskInfo;
using pk::TaskState;
using pk::TraceReader;
using pk::TraceWriter;

namespace {

QHash<quint64, TaskInfo> byId(const QList<TaskInfo> &tasks)
{
    QHash<quint64, TaskInfo> map;
    for (const TaskInfo &t : tasks)
        map.insert(t.id(), t);
    return map;
}

/*
    \a json (written by TraceWriter) in the writer's format 1: each queue wait ("b" and "e",
    category "queue") named after its task's title, or "task <id>" if it has none.
*/
QByteArray toFormat1(const QByteArray &json)
{
    QJsonObject root = QJsonDocument::fromJson(json).object();
    QJsonObject other = root.value(QLatin1String("otherData")).toObject();
    other.insert(QLatin1String("format"), 1);
    root.insert(QLatin1String("otherData"), other);
    QJsonArray events = root.value(QLatin1String("traceEvents")).toArray();
    // Only the "b" events have the args with the title; their "e" events come right after.
    QHash<qint64, QString> nameById;
    for (qsizetype i = 0; i < events.size(); ++i) {
        QJsonObject event = events.at(i).toObject();
        const QString ph = event.value(QLatin1String("ph")).toString();
        if (event.value(QLatin1String("cat")).toString() != QLatin1String("queue"))
            continue;
        const qint64 id = event.value(QLatin1String("id")).toInteger();
        if (ph == QLatin1String("b")) {
            const QString title = event.value(QLatin1String("args"))
                                      .toObject()
                                      .value(QLatin1String("title"))
                                      .toString();
            nameById.insert(id, title.isEmpty() ? QStringLiteral("task %1").arg(id) : title);
        }
        event.insert(QLatin1String("name"), nameById.value(id));
        events.replace(i, event);
    }
    root.insert(QLatin1String("traceEvents"), events);
    return QJsonDocument(root).toJson(QJsonDocument::Compact);
}

/*
    \a json (written by TraceWriter) in the writer's format 2: pid 1, no program, keepers, keeper,
    kind, input ids or error type.
*/
QByteArray toFormat2(const QByteArray &json)
{
    QJsonObject root = QJsonDocument::fromJson(json).object();
    QJsonObject other = root.value(QLatin1String("otherData")).toObject();
    other.insert(QLatin1String("format"), 2);
    for (const char *key : { "programName", "programPid", "keepers" })
        other.remove(QLatin1String(key));
    root.insert(QLatin1String("otherData"), other);
    QJsonArray events = root.value(QLatin1String("traceEvents")).toArray();
    for (qsizetype i = 0; i < events.size(); ++i) {
        QJsonObject event = events.at(i).toObject();
        event.insert(QLatin1String("pid"), 1);
        QJsonObject args = event.value(QLatin1String("args")).toObject();
        for (const char *key : { "keeper", "kind", "inputIds", "errorType" })
            args.remove(QLatin1String(key));
        if (event.contains(QLatin1String("args")))
            event.insert(QLatin1String("args"), args);
        events.replace(i, event);
    }
    root.insert(QLatin1String("traceEvents"), events);
    return QJsonDocument(root).toJson(QJsonDocument::Compact);
}

} // namespace

class tst_TraceReader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrip();
    void runningTaskRoundTrip();
    void previousFormat();
    void waitNameIsNoTitle();
    void threadCountAndDropped();
    void foreignTrace();
    void errors();
    void valuesOutOfRange_data();
    void valuesOutOfRange();
    void timeAtTheEndOfTheRange();
    void newFieldsRoundTrip();
    void traceFeed();
    void traceFeedBadFile();
};

void tst_TraceReader::roundTrip()
{
    PromiseKeeper keeper(0);
    TraceWriter writer;
    keeper.addEventListener(&writer);
    auto scope = qScopeGuard([&] { keeper.removeEventListener(&writer); });

    auto ok
        = keeper.submit(pk::TaskOptions { QStringLiteral("ok \"quoted\" ✓"), 3 }, [] { return 1; });
    auto bad = keeper.submit(pk::TaskOptions { QStringLiteral("bad"), -1 },
        []() -> int { throw std::runtime_error("broken ünïcødé"); });
    auto untitled = keeper.submit([] {});
    QCOMPARE(keeper.processPending(), 3);
    auto cancelled = keeper.submit(pk::TaskOptions { QStringLiteral("never"), 0 }, [] {});
    QCOMPARE(keeper.cancelAll(), 1);
    auto queued = keeper.submit(pk::TaskOptions { QStringLiteral("waits"), 0 }, [] {});
    QTRY_COMPARE(writer.taskCount(), 5);

    TraceReader reader;
    QVERIFY2(reader.parse(writer.toJson()), qPrintable(reader.errorString()));
    const QList<TaskInfo> tasks = reader.tasks();
    QCOMPARE(tasks.size(), 5);
    const QHash<quint64, TaskInfo> read = byId(tasks);
    // Every field, to the nanosecond.
    QCOMPARE(read.value(ok.id()), ok.info());
    QCOMPARE(read.value(bad.id()), bad.info());
    QCOMPARE(read.value(untitled.id()), untitled.info());
    QCOMPARE(read.value(cancelled.id()), cancelled.info());
    const QList<TaskInfo> live = keeper.tasks();
    QCOMPARE(live.size(), 1);
    QCOMPARE(read.value(queued.id()), live.first());
    QCOMPARE(read.value(bad.id()).errorString(), QStringLiteral("broken ünïcødé"));
    QCOMPARE(read.value(ok.id()).title(), QStringLiteral("ok \"quoted\" ✓"));

    // Sorted by id; counted by state.
    for (qsizetype i = 1; i < tasks.size(); ++i)
        QVERIFY(tasks[i - 1].id() < tasks[i].id());
    const pk::TaskCounts counts = reader.counts();
    QCOMPARE(counts.succeeded, 2);
    QCOMPARE(counts.failed, 1);
    QCOMPARE(counts.cancelled, 1);
    QCOMPARE(counts.queued, 1);
    QCOMPARE(reader.threadCount(), 1); // not written: one worker seen
    QCOMPARE(reader.droppedTaskCount(), 0u);
    // The untitled task stays untitled: the name of its queue wait ("queued") is no title.
    QVERIFY(read.value(untitled.id()).title().isEmpty());
}

void tst_TraceReader::previousFormat()
{
    // The same tasks in the writer's format 2 and its format 1 read the same.
    PromiseKeeper keeper(0);
    TraceWriter writer;
    keeper.addEventListener(&writer);
    auto scope = qScopeGuard([&] { keeper.removeEventListener(&writer); });
    auto ok = keeper.submit(pk::TaskOptions { QStringLiteral("ok"), 2 }, [] { return 1; });
    auto bad = keeper.submit(pk::TaskOptions { QStringLiteral("bad \"one\""), 0 },
        []() -> int { throw std::runtime_error("boom"); });
    auto untitled = keeper.submit([] {});
    QCOMPARE(keeper.processPending(), 3);
    auto cancelled = keeper.submit(pk::TaskOptions { QStringLiteral("never"), 0 }, [] {});
    QCOMPARE(keeper.cancelAll(), 1);
    auto queued = keeper.submit([] {});
    QTRY_COMPARE(writer.taskCount(), 5);

    const QByteArray current = writer.toJson();
    QVERIFY(current.contains("\"format\":3"));
    const QByteArray previous = toFormat1(current);
    QVERIFY(previous.contains("\"format\":1"));
    QVERIFY(previous.contains(QStringLiteral("\"name\":\"task %1\"").arg(queued.id()).toUtf8()));
    QVERIFY(previous.contains("\"name\":\"never\""));

    TraceReader now;
    QVERIFY2(now.parse(current), qPrintable(now.errorString()));
    TraceReader before;
    QVERIFY2(before.parse(previous), qPrintable(before.errorString()));
    QCOMPARE(before.tasks().size(), 5);
    QCOMPARE(before.tasks(), now.tasks());
    const QHash<quint64, TaskInfo> read = byId(before.tasks());
    QCOMPARE(read.value(ok.id()), ok.info());
    QCOMPARE(read.value(bad.id()), bad.info());
    QCOMPARE(read.value(untitled.id()), untitled.info());
    QCOMPARE(read.value(cancelled.id()), cancelled.info());
    QCOMPARE(read.value(queued.id()).state(), TaskState::Queued);
    QVERIFY(read.value(queued.id()).title().isEmpty());

    // Format 2 had no error types (nor keepers, kinds, inputs, the program's pid): the rest
    // reads the same, and the pid is unknown.
    TraceReader two;
    QVERIFY2(two.parse(toFormat2(current)), qPrintable(two.errorString()));
    QCOMPARE(two.tasks().size(), 5);
    const QHash<quint64, TaskInfo> readTwo = byId(two.tasks());
    TaskInfo badThen = bad.info();
    QCOMPARE(badThen.errorType(), QStringLiteral("std::runtime_error"));
    badThen.setErrorType(QString());
    QCOMPARE(readTwo.value(bad.id()), badThen);
    QCOMPARE(readTwo.value(ok.id()), ok.info());
    QCOMPARE(two.programPid(), 0);
    QCOMPARE(two.programName(), now.programName());
    QCOMPARE(two.keepers().size(), 1);
    QCOMPARE(two.keepers().first().counts, now.counts());
    QCOMPARE(now.programPid(), QCoreApplication::applicationPid());
}

void tst_TraceReader::waitNameIsNoTitle()
{
    // A format 2 queue wait whose args lost the title (as when a tool strips args): the title
    // comes from the run's name, not from the wait's "queued".
    const QByteArray json = R"({"otherData": {"producer": "PromiseKeeper", "format": 2,
            "baseMonotonicNs": "1000000000", "threadCount": 1},
        "traceEvents": [
        {"name": "queued", "cat": "queue", "ph": "b", "pid": 1, "tid": 100001, "id": 5,
            "ts": 0, "args": {"id": 5, "state": "Succeeded"}},
        {"name": "queued", "cat": "queue", "ph": "e", "pid": 1, "tid": 100001, "id": 5,
            "ts": 1.5},
        {"name": "compile", "cat": "task", "ph": "X", "pid": 1, "tid": 1, "ts": 1.5,
            "dur": 2, "args": {"id": 5, "worker": 0}}
    ]})";
    TraceReader reader;
    QVERIFY2(reader.parse(json), qPrintable(reader.errorString()));
    QCOMPARE(reader.tasks().size(), 1);
    const TaskInfo task = reader.tasks().first();
    QCOMPARE(task.id(), 5u);
    QCOMPARE(task.title(), QStringLiteral("compile"));
    QCOMPARE(task.state(), TaskState::Succeeded);
    QCOMPARE(task.queuedAtNsecs(), 1000000000);
    QCOMPARE(task.startedAtNsecs(), 1000001500);
    QCOMPARE(task.finishedAtNsecs(), 1000003500);
    QCOMPARE(task.workerIndex(), 0);
}

void tst_TraceReader::runningTaskRoundTrip()
{
    PromiseKeeper keeper(2);
    pktest::Gate gate;
    TraceWriter writer;
    keeper.addEventListener(&writer);
    auto scope = qScopeGuard([&] { keeper.removeEventListener(&writer); });
    const auto unblock = gate.openOnExit();
    auto running = keeper.submit(
        pk::TaskOptions { QStringLiteral("runs"), 0 }, [gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    QTRY_VERIFY([&] {
        TraceReader r;
        return r.parse(writer.toJson()) && r.tasks().size() == 1
            && r.tasks().first().state() == TaskState::Running;
    }());
    writer.setThreadCount(keeper.threadCount());

    TraceReader reader;
    QVERIFY(reader.parse(writer.toJson()));
    const TaskInfo read = reader.tasks().first();
    const TaskInfo now = keeper.tasks().first();
    QCOMPARE(read, now);
    QCOMPARE(read.finishedAtNsecs(), 0);
    QCOMPARE(reader.threadCount(), 2);
    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
}

void tst_TraceReader::threadCountAndDropped()
{
    PromiseKeeper keeper(0);
    TraceWriter writer(2);
    writer.setThreadCount(3);
    keeper.addEventListener(&writer);
    auto scope = qScopeGuard([&] { keeper.removeEventListener(&writer); });
    for (int i = 0; i < 5; ++i)
        keeper.submit([] {});
    QCOMPARE(keeper.processPending(), 5);

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("t.json"));
    QVERIFY(writer.save(path));
    TraceReader reader;
    QVERIFY2(reader.load(path), qPrintable(reader.errorString()));
    QCOMPARE(reader.tasks().size(), 2);
    QCOMPARE(reader.threadCount(), 3);
    QCOMPARE(reader.droppedTaskCount(), 3u);
}

void tst_TraceReader::foreignTrace()
{
    // A trace from another tool, in the bare array format: complete events become tasks.
    const QByteArray json = R"([
        {"name": "compile", "ph": "X", "pid": 7, "tid": 1, "ts": 10, "dur": 5},
        {"name": "link", "ph": "X", "pid": 7, "tid": 2, "ts": 20, "dur": 2.5},
        {"name": "thread_name", "ph": "M", "pid": 7, "tid": 1, "args": {"name": "main"}},
        {"name": "other", "ph": "B", "pid": 7, "tid": 1, "ts": 30}
    ])";
    TraceReader reader;
    QVERIFY2(reader.parse(json), qPrintable(reader.errorString()));
    const QList<TaskInfo> tasks = reader.tasks();
    QCOMPARE(tasks.size(), 2);
    QCOMPARE(tasks[0].title(), QStringLiteral("compile"));
    QCOMPARE(tasks[0].state(), TaskState::Succeeded);
    QCOMPARE(tasks[0].workerIndex(), 0);
    QCOMPARE(tasks[0].runNsecs(), 5000);
    QCOMPARE(tasks[1].title(), QStringLiteral("link"));
    QCOMPARE(tasks[1].workerIndex(), 1);
    QCOMPARE(tasks[1].runNsecs(), 2500);
    QVERIFY(tasks[0].queuedAtNsecs() != 0);
    QCOMPARE(reader.threadCount(), 2);
}

void tst_TraceReader::errors()
{
    TraceReader reader;
    QVERIFY(!reader.parse("{ nope"));
    QVERIFY(reader.errorString().contains(QLatin1String("not a JSON trace")));
    QVERIFY(!reader.parse(R"({"something": 1})"));
    QVERIFY(reader.errorString().contains(QLatin1String("traceEvents")));
    QVERIFY(reader.tasks().isEmpty());
    QVERIFY(!reader.load(QStringLiteral("/no/such/file.json")));
    QVERIFY(reader.errorString().contains(QLatin1String("/no/such/file.json")));
    QVERIFY(reader.parse(R"({"traceEvents": []})"));
    QVERIFY(reader.tasks().isEmpty());
    QVERIFY(reader.errorString().isEmpty());
}

void tst_TraceReader::valuesOutOfRange_data()
{
    // A file is anybody's: numbers a task cannot have make it unreadable, with the reason.
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("error");
    const auto ours = [](const QByteArray &other, const QByteArray &event) {
        return R"({"otherData": {"producer": "PromiseKeeper", "format": 2)" + other
            + R"(}, "traceEvents": [)" + event + "]}";
    };
    const QByteArray base = R"(, "baseMonotonicNs": "1000")";
    const auto task = [](const QByteArray &fields) {
        return R"({"name": "t", "ph": "X", "tid": 1, "ts": 1, "dur": 2, "args": {"id": 1)" + fields
            + "}}";
    };
    QTest::newRow("worker 2^31-1") << ours(base, task(R"(, "worker": 2147483647)"))
                                   << QStringLiteral("event 0: worker 2147483647 out of range");
    QTest::newRow("worker 10^12") << ours(base, task(R"(, "worker": 1e12)"))
                                  << QStringLiteral("worker 1e+12 out of range");
    QTest::newRow("worker -2") << ours(base, task(R"(, "worker": -2)"))
                               << QStringLiteral("worker -2 out of range (-1 to 4095)");
    QTest::newRow("tid -2^31") << QByteArray(R"([{"name": "a", "ph": "X", "tid": -2147483648,
                                     "ts": 1, "dur": 1}])")
                               << QStringLiteral("event 0: worker -2147483649 out of range");
    QTest::newRow("ts 1e300") << ours(
        base, R"({"name": "t", "ph": "X", "tid": 1, "ts": 1e300, "dur": 2, "args": {"id": 1}})")
                              << QStringLiteral(R"(event 0: "ts" or "dur" out of range)");
    QTest::newRow("dur -1e300") << ours(
        base, R"({"name": "t", "ph": "X", "tid": 1, "ts": 5, "dur": -1e300, "args": {"id": 1}})")
                                << QStringLiteral(R"("ts" or "dur" out of range)");
    QTest::newRow("dur past the latest time") << ours(
        base, R"({"name": "t", "ph": "X", "tid": 1, "ts": 5, "dur": 4611686018427388,
                "args": {"id": 1}})") << QStringLiteral(R"("ts" or "dur" out of range)");
    QTest::newRow("queue wait at -1e18")
        << ours(base, R"({"name": "queued", "cat": "queue", "ph": "b", "id": 3, "ts": -1e18})")
        << QStringLiteral(R"(event 0: "ts" out of range)");
    QTest::newRow("base 2^63-1") << ours(R"(, "baseMonotonicNs": "9223372036854775807")", {})
                                 << QStringLiteral(R"("baseMonotonicNs" is not a timestamp)");
    QTest::newRow("base not a number") << ours(R"(, "baseMonotonicNs": "soon")", {})
                                       << QStringLiteral(R"("baseMonotonicNs" is not a timestamp)");
    const auto ours3 = [](const QByteArray &other, const QByteArray &event) {
        return R"({"otherData": {"producer": "PromiseKeeper", "format": 3, "baseMonotonicNs": "1")"
            + other + R"(}, "traceEvents": [)" + event + "]}";
    };
    QTest::newRow("kind unknown") << ours3({}, task(R"(, "kind": "Thread")"))
                                  << QStringLiteral(R"(event 0: unknown task kind "Thread")");
    QTest::newRow("input ids not an array")
        << ours3({}, task(R"(, "inputIds": 7)")) << QStringLiteral(R"("inputIds" is not an array)");
    QTest::newRow("input id 0") << ours3({}, task(R"(, "inputIds": [3, 0])"))
                                << QStringLiteral("input id 0 out of range (1 to 2^53)");
    QTest::newRow("input id 1e300") << ours3({}, task(R"(, "inputIds": [1e300])"))
                                    << QStringLiteral("input id 1e+300 out of range");
    QTest::newRow("input id 1.5") << ours3({}, task(R"(, "inputIds": [1.5])"))
                                  << QStringLiteral("input id 1.5 out of range");
    QTest::newRow("child pid -1") << ours3({}, task(R"(, "childPid": -1)"))
                                  << QStringLiteral("child pid -1 out of range");
    QTest::newRow("child pid 1e20") << ours3({}, task(R"(, "childPid": 1e20)"))
                                    << QStringLiteral("child pid 1e+20 out of range");
    QTest::newRow("program pid -1")
        << ours3(R"(, "programPid": -1)", {}) << QStringLiteral("program pid -1 out of range");
    QTest::newRow("program pid 1e20")
        << ours3(R"(, "programPid": 1e20)", {}) << QStringLiteral("program pid 1e+20 out of range");
    QTest::newRow("keeper thread count 1e9")
        << ours3(R"(, "keepers": [{"name": "a", "threadCount": 1e9}])", {})
        << QStringLiteral("keeper thread count 1e+09 out of range (0 to 4096)");
    QTest::newRow("thread count 2^31-1") << ours(base + R"(, "threadCount": 2147483647)",
        {}) << QStringLiteral("thread count 2147483647 out of range (0 to 4096)");
}

void tst_TraceReader::valuesOutOfRange()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, error);
    TraceReader reader;
    QVERIFY(!reader.parse(json));
    QVERIFY2(reader.errorString().contains(error), qPrintable(reader.errorString()));
    QVERIFY(reader.tasks().isEmpty());

    // pk-monitor --open FILE: the feed says why, and shows nothing.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("bad.trace.json"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(json);
    file.close();
    pk::TraceFeed feed;
    QSignalSpy connected(&feed, &pk::MonitorFeed::connectionChanged);
    QSignalSpy snapshots(&feed, &pk::MonitorFeed::snapshot);
    QVERIFY(!feed.open(path));
    QVERIFY(connected.wait(pktest::kTimeoutMs));
    QCOMPARE(connected.first().at(0).toBool(), false);
    QVERIFY2(connected.first().at(1).toString().contains(error),
        qPrintable(connected.first().at(1).toString()));
    QCOMPARE(snapshots.size(), 0);
}

void tst_TraceReader::timeAtTheEndOfTheRange()
{
    // The latest timestamp the monitor accepts (2^62 ns), as TraceWriter writes it: as a double
    // it reads back 96 ns past the end, which is still the end.
    const QByteArray json = R"({"otherData": {"producer": "PromiseKeeper", "format": 2,
        "baseMonotonicNs": "0"}, "traceEvents": [{"name": "t", "ph": "X", "tid": 1,
        "ts": 4611686018427387.904, "dur": 0.000, "args": {"id": 1, "worker": 0}}]})";
    TraceReader reader;
    QVERIFY2(reader.parse(json), qPrintable(reader.errorString()));
    QCOMPARE(reader.tasks().size(), 1);
    QCOMPARE(reader.tasks().first().startedAtNsecs(), qint64(1) << 62);
    QCOMPARE(reader.tasks().first().runNsecs(), 0);
}

void tst_TraceReader::newFieldsRoundTrip()
{
    // Tasks of two keepers of another program, as a monitor feed records them.
    TraceWriter writer;
    writer.setProcessName(QStringLiteral("myapp"));
    writer.setProcessId(4242);
    writer.setKeeperThreadCount(QStringLiteral("images"), 2);
    writer.setKeeperThreadCount(QStringLiteral("net"), 3);
    const auto make = [](quint64 id, const QString &keeper, int worker, qint64 startNs) {
        TaskInfo t;
        t.setId(id);
        t.setTitle(QStringLiteral("t%1").arg(id));
        t.setKeeperName(keeper);
        t.setState(TaskState::Succeeded);
        t.setWorkerIndex(worker);
        t.setQueuedAtNsecs(startNs - 100);
        t.setStartedAtNsecs(startNs);
        t.setFinishedAtNsecs(startNs + 1000);
        return t;
    };
    TaskInfo a = make(1, QStringLiteral("images"), 1, 5000);
    TaskInfo b = make(2, QStringLiteral("net"), 2, 6000);
    b.setState(TaskState::Failed);
    b.setErrorType(QStringLiteral("std::out_of_range"));
    b.setErrorString(QStringLiteral("index 3"));
    b.setProcessId(31337); // a submitToProcess() task, with its child's pid
    TaskInfo c = make(3, QStringLiteral("images"), 0, 9000);
    c.setKind(pk::TaskKind::Combinator);
    c.setInputIds({ 1, 2 });
    TaskInfo d = make(4, QStringLiteral("net"), -1, 9500);
    d.setKind(pk::TaskKind::Continuation);
    d.setInputIds({ 2 });
    d.setState(TaskState::Running);
    d.setFinishedAtNsecs(0);
    for (const TaskInfo &t : { a, b, c, d })
        writer.record(t);

    TraceReader reader;
    QVERIFY2(reader.parse(writer.toJson()), qPrintable(reader.errorString()));
    const QHash<quint64, TaskInfo> read = byId(reader.tasks());
    QCOMPARE(read.size(), 4);
    QCOMPARE(read.value(1), a);
    QCOMPARE(read.value(2), b);
    QCOMPARE(read.value(3), c);
    QCOMPARE(read.value(4), d);
    QCOMPARE(reader.programName(), QStringLiteral("myapp"));
    QCOMPARE(reader.programPid(), 4242);
    const QList<pk::KeeperStatus> keepers = reader.keepers();
    QCOMPARE(keepers.size(), 2);
    QCOMPARE(keepers[0].name, QStringLiteral("images"));
    QCOMPARE(keepers[0].threadCount, 2);
    QCOMPARE(keepers[0].counts.succeeded, 2);
    QCOMPARE(keepers[1].name, QStringLiteral("net"));
    QCOMPARE(keepers[1].threadCount, 3);
    QCOMPARE(keepers[1].counts.failed, 1);
    QCOMPARE(keepers[1].counts.running, 1);

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("two.trace.json"));
    QVERIFY(writer.save(path));
    pk::TraceFeed feed;
    QVERIFY(!feed.isLive());
    QVERIFY(feed.open(path));
    QCOMPARE(feed.programName(), QStringLiteral("myapp"));
    QCOMPARE(feed.programPid(), 4242);
    QCOMPARE(feed.keepers(), keepers);
}

void tst_TraceReader::traceFeed()
{
    PromiseKeeper keeper(0);
    TraceWriter writer;
    keeper.addEventListener(&writer);
    auto scope = qScopeGuard([&] { keeper.removeEventListener(&writer); });
    auto first = keeper.submit([] {});
    auto second = keeper.submit([] { throw std::runtime_error("x"); });
    QCOMPARE(keeper.processPending(), 2);
    auto queued = keeper.submit([] {});
    QTRY_COMPARE(writer.taskCount(), 3);
    writer.setThreadCount(0);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("run.trace.json"));
    QVERIFY(writer.save(path));

    pk::TraceFeed feed;
    QSignalSpy connected(&feed, &pk::MonitorFeed::connectionChanged);
    QSignalSpy snapshots(&feed, &pk::MonitorFeed::snapshot);
    QSignalSpy updates(&feed, &pk::MonitorFeed::updated);
    QVERIFY(feed.open(path));
    QVERIFY(feed.isConnected());
    QCOMPARE(feed.fileName(), path);
    QVERIFY(feed.sourceName().contains(QLatin1String("run.trace.json")));
    QCOMPARE(snapshots.size(), 0); // from the event loop, so that late connections get it
    QVERIFY(snapshots.wait(pktest::kTimeoutMs));
    QCOMPARE(connected.size(), 1);
    QCOMPARE(connected.first().at(0).toBool(), true);
    QCOMPARE(snapshots.size(), 1);
    const auto live = snapshots.first().at(0).value<QList<TaskInfo>>();
    const auto finished = snapshots.first().at(1).value<QList<TaskInfo>>();
    QCOMPARE(live.size(), 1);
    QCOMPARE(live.first().id(), queued.id());
    QCOMPARE(finished.size(), 2);
    QCOMPARE(finished[0], first.info()); // oldest first
    QCOMPARE(finished[1], second.info());
    QCOMPARE(snapshots.first().at(2).toInt(), 0);
    QCOMPARE(updates.size(), 1);
    const auto counts = updates.first().at(1).value<pk::TaskCounts>();
    QCOMPARE(counts.succeeded, 1);
    QCOMPARE(counts.failed, 1);
    QCOMPARE(counts.queued, 1);

    feed.cancelAll(); // nothing to cancel, nothing breaks
    feed.cancelTask(first.id());
}

void tst_TraceReader::traceFeedBadFile()
{
    pk::TraceFeed feed;
    QSignalSpy connected(&feed, &pk::MonitorFeed::connectionChanged);
    QVERIFY(!feed.open(QStringLiteral("/no/such/trace.json")));
    QVERIFY(!feed.isConnected());
    QVERIFY(connected.wait(pktest::kTimeoutMs));
    QCOMPARE(connected.first().at(0).toBool(), false);
    QCOMPARE(connected.first().at(1).toString(), feed.errorString());
}

QTEST_MAIN(tst_TraceReader)
#include "tst_tracereader.moc"
