// pk-bench: the cost of a task through PromiseKeeper, a raw QThreadPool and QtConcurrent::run,
// measured in one process on the same machine, the memory a retained finished promise costs,
// and (when the monitor is built) what watching a keeper with the monitor costs it.
#include <QtConcurrent/qtconcurrentrun.h>
#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qeventloop.h>
#include <QtCore/qfuture.h>
#include <QtCore/qprocess.h>
#include <QtCore/qthread.h>
#include <QtCore/qthreadpool.h>

#include <PromiseKeeper>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <malloc.h>
#include <memory>
#include <vector>

#ifdef PK_BENCH_MONITOR
#include "stallmeter.h" // shared with pk-monitor --report-stalls: the same measure

#include <pk/monitormodel.h>
#include <pk/monitorserver.h>
#include <pk/monitorwidget.h>

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qregularexpression.h>
#include <QtCore/qstandardpaths.h>
#include <QtCore/qtimer.h>
#include <QtGui/qguiapplication.h>
#include <QtWidgets/qapplication.h>
#include <QtWidgets/qtableview.h>
#endif

namespace {

struct Config
{
    int tasks = 1000000;
    int threads = 2;
    int rounds = 3;
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Several rounds, in nanoseconds per task: the median, and the fastest and slowest, whose
// ratio shows whether a runner switches between modes from round to round.
struct Rounds
{
    double min = 0;
    double median = 0;
    double max = 0;
    double spread() const { return min > 0 ? max / min : 0; }
};

Rounds measure(const Config &c, const std::function<qint64()> &round)
{
    std::vector<double> perTask;
    for (int r = 0; r < c.rounds; ++r)
        perTask.push_back(double(round()) / c.tasks);
    std::sort(perTask.begin(), perTask.end());
    return { perTask.front(), perTask[perTask.size() / 2], perTask.back() };
}

// "565 (540-601) | 1.11": the median (fastest-slowest) and max/min, for a table row.
void printRow(const char *name, const Rounds &r, double ratio)
{
    std::printf("| %s | %.0f (%.0f-%.0f) | %.2f | %.2f |\n", name, r.median, r.min, r.max,
        r.spread(), ratio);
}

// The process rows: a tiny function, called one call at a time (a round trip each) in a child
// of the keeper that is reused, against a QProcess started per call.
int benchAdd(int a, int b)
{
    return a + b;
}
constexpr char kSumOption[] = "--pk-bench-sum";

qint64 processTaskRound(int calls)
{
    pk::PromiseKeeper keeper(1);
    keeper.submitToProcess(&benchAdd, 0, 0).result(); // the child is started outside the timing
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < calls; ++i) {
        if (keeper.submitToProcess(&benchAdd, i, 1).result() != i + 1)
            qFatal("pk-bench: a process task gave a wrong sum");
    }
    return timer.nsecsElapsed();
}

qint64 processPerCallRound(int calls)
{
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < calls; ++i) {
        QProcess child;
        child.start(QCoreApplication::applicationFilePath(),
            { QString::fromLatin1(kSumOption), QString::number(i), QStringLiteral("1") });
        if (!child.waitForFinished(30'000)
            || child.readAllStandardOutput().trimmed().toInt() != i + 1)
            qFatal("pk-bench: a QProcess per call gave no or a wrong sum");
    }
    return timer.nsecsElapsed();
}

void runProcessRows(int calls, int rounds)
{
    const Config c { calls, 1, rounds };
    const Rounds perCall = measure(c, [&] { return processPerCallRound(calls); });
    const Rounds keeper = measure(c, [&] { return processTaskRound(calls); });
    std::printf("\n| process-isolated call, %d calls one at a time | us/call (fastest-slowest) | "
                "max/min | vs a QProcess per call |\n|---|---:|---:|---:|\n",
        calls);
    const auto row = [](const char *name, const Rounds &r, double ratio) {
        std::printf("| %s | %.1f (%.1f-%.1f) | %.2f | %.3f |\n", name, r.median / 1000,
            r.min / 1000, r.max / 1000, r.spread(), ratio);
    };
    row("QProcess started per call", perCall, 1.0);
    row("PromiseKeeper::submitToProcess (child reused)", keeper, keeper.median / perCall.median);
}

// PromiseKeeper as a GUI program uses it: a producer thread submits, the keeper's thread runs
// its event loop, and a slot connected to taskFinished counts. The round ends when the slot has
// seen every task, so delivering the signals is part of the cost.
qint64 keeperRound(const Config &c)
{
    pk::PromiseKeeper keeper(c.threads);
    std::vector<pk::Promise<int>> promises;
    promises.reserve(std::size_t(c.tasks));
    int finished = 0;
    QEventLoop loop;
    QObject::connect(&keeper, &pk::PromiseKeeper::taskFinished, &keeper, [&](const pk::TaskInfo &) {
        if (++finished == c.tasks)
            loop.quit();
    });
    QElapsedTimer timer;
    timer.start();
    QThread *producer = QThread::create([&] {
        for (int i = 0; i < c.tasks; ++i)
            promises.push_back(keeper.submit([i] { return i; }));
    });
    producer->start();
    loop.exec();
    const qint64 ns = timer.nsecsElapsed();
    producer->wait();
    delete producer;
    return ns;
}

qint64 threadPoolRound(const Config &c)
{
    QThreadPool pool;
    pool.setMaxThreadCount(c.threads);
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < c.tasks; ++i)
        pool.start([] {});
    pool.waitForDone();
    return timer.nsecsElapsed();
}

qint64 concurrentRound(const Config &c)
{
    QThreadPool pool;
    pool.setMaxThreadCount(c.threads);
    std::vector<QFuture<int>> futures;
    futures.reserve(std::size_t(c.tasks));
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < c.tasks; ++i)
        futures.push_back(QtConcurrent::run(&pool, [i] { return i; }));
    for (auto &f : futures)
        f.waitForFinished();
    return timer.nsecsElapsed();
}

// A chain of continuations, each adding one to its input's value: built while the head may
// already run, timed until the last link's value is read.
qint64 keeperChainRound(int links, int threads)
{
    pk::PromiseKeeper keeper(threads);
    QElapsedTimer timer;
    timer.start();
    pk::Promise<int> p = keeper.submit([] { return 0; });
    for (int i = 0; i < links; ++i)
        p = p.then([](int x) { return x + 1; });
    const int last = p.result();
    const qint64 ns = timer.nsecsElapsed();
    if (last != links)
        std::fprintf(stderr, "pk-bench: chain gave %d, not %d\n", last, links);
    return ns;
}

qint64 futureChainRound(int links, int threads)
{
    QThreadPool pool;
    pool.setMaxThreadCount(threads);
    QElapsedTimer timer;
    timer.start();
    QFuture<int> f = QtConcurrent::run(&pool, [] { return 0; });
    for (int i = 0; i < links; ++i)
        f = f.then(&pool, [](int x) { return x + 1; });
    const int last = f.result();
    const qint64 ns = timer.nsecsElapsed();
    if (last != links)
        std::fprintf(stderr, "pk-bench: QFuture chain gave %d, not %d\n", last, links);
    return ns;
}

std::size_t heapInUse()
{
    return mallinfo2().uordblks;
}

// Heap bytes per retained, finished handle: the handles' own vector is reserved beforehand, so
// only the shared states count.
template<typename Make>
double bytesPerRetained(int count, Make make)
{
    using Handle = decltype(make(0));
    std::vector<Handle> handles;
    handles.reserve(std::size_t(count));
    malloc_trim(0);
    const std::size_t before = heapInUse();
    for (int i = 0; i < count; ++i)
        handles.push_back(make(i));
    for (auto &h : handles)
        h.waitForFinishedOrResult();
    const std::size_t after = heapInUse();
    return double(after - before) / count;
}

struct KeeperHandle
{
    pk::Promise<int> p;
    void waitForFinishedOrResult() { p.wait(); }
};
struct FutureHandle
{
    QFuture<int> f;
    void waitForFinishedOrResult() { f.waitForFinished(); }
};

#ifdef PK_BENCH_MONITOR

// The monitor's requirement (issue 10): with a million no-op tasks flowing through one keeper
// and the monitor open and live, the workload runs no slower than 1.2 times its time without a
// monitor, and the monitor's GUI thread never stalls for more than two frames at 60 Hz.
// pk-bench shows the figures against these limits; tests, not a benchmark, decide whether a
// build is acceptable.
constexpr double kMaxSlowdown = 1.2;
constexpr qint64 kMaxStallMs = 33;

// The first paint of a window loads fonts and is slow whatever the monitor does; pk-monitor
// waits as long before it measures.
constexpr int kWarmUpMs = 500;
// After the last task, the monitor still applies its last batch (the feed sends one every
// 33 ms, the counters refresh every 100 ms): stalls in that time count too.
constexpr int kTailMs = 300;
// How long pk-monitor may take to start and attach, and to quit once detached.
constexpr int kProcessTimeoutMs = 30000;

enum class MonitorMode {
    None, // the floor: what the machine itself costs the main thread
    InProcess,
    InProcessSorted, // the table sorted by run time, which every finished task changes
    Attached,
    AttachedFloods, // kFloods floods back to back, one attached pk-monitor throughout
};
// The floods of MonitorMode::AttachedFloods.
constexpr int kFloods = 5;

struct MonitorConfig
{
    int tasks = 1000000;
    int threads = 2;
    int rounds = 3;
    QString monitorBinary;
    QString row; // only the row whose name starts with this (and the floor), for profiling
};

// One round of one configuration; -1 where nothing was measured.
struct MonitorSample
{
    qint64 workloadNs = -1; // per flood
    qint64 mainStallMs = -1; // this process's main thread: the keeper's, and the widget's
    qint64 monitorStallMs = -1; // the attached pk-monitor's GUI thread
    QString error;
};

void runEventLoopFor(int msecs)
{
    QEventLoop loop;
    QTimer::singleShot(msecs, &loop, &QEventLoop::quit);
    loop.exec();
}

// Runs this thread's event loop until ready() or the timeout; returns ready(). Polls: it only
// waits for set-up and tear-down, which are not measured.
bool runEventLoopUntil(const std::function<bool()> &ready, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    while (!ready() && !deadline.hasExpired())
        runEventLoopFor(10);
    return ready();
}

// Submits no-op tasks to keeper (which lives in this thread) from a producer thread, as
// pk-monitor --stress does, and runs this thread's event loop until the keeper's thread sees
// them all finished: by then their events went through whatever listens to the keeper (a
// monitor), which is the cost measured. Returns nanoseconds from the first submit.
qint64 monitorWorkload(pk::PromiseKeeper &keeper, int tasks)
{
    const qint64 before = keeper.counts().finished();
    QEventLoop loop;
    QElapsedTimer timer;
    qint64 ns = -1;
    QObject::connect(&keeper, &pk::PromiseKeeper::countsChanged, &loop, [&] {
        if (ns < 0 && keeper.counts().finished() - before >= tasks) {
            ns = timer.nsecsElapsed();
            loop.quit();
        }
    });
    const std::unique_ptr<QThread> producer(QThread::create([&keeper, tasks] {
        for (int i = 0; i < tasks; ++i)
            keeper.submit([] {});
    }));
    timer.start();
    producer->start();
    loop.exec();
    producer->wait();
    return ns;
}

// Starts pk-monitor attached to the server called name, and waits until the server has it as a
// client and it measures its stalls. Returns an error message, or an empty string.
QString startAttachedMonitor(
    QProcess &monitor, QByteArray &output, const pk::MonitorServer &server, const QString &binary)
{
    // Its report, read at the end, and the line that says it measures: from its stdout. Its
    // warnings go to ours.
    monitor.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    QObject::connect(&monitor, &QProcess::readyReadStandardOutput, &monitor,
        [&] { output += monitor.readAllStandardOutput(); });
    monitor.start(binary,
        { QStringLiteral("--attach"), server.serverName(), QStringLiteral("--report-stalls"),
            QStringLiteral("--quit-when-detached") });
    const bool ready = runEventLoopUntil(
        [&] {
            return monitor.state() == QProcess::NotRunning
                || (server.clientCount() > 0
                    && output.contains("pk-monitor: measuring GUI stalls"));
        },
        kProcessTimeoutMs);
    if (monitor.state() == QProcess::NotRunning) {
        return monitor.error() == QProcess::FailedToStart
            ? QStringLiteral("cannot start %1: %2").arg(binary, monitor.errorString())
            : QStringLiteral("pk-monitor exited before attaching (exit code %1)")
                  .arg(monitor.exitCode());
    }
    if (!ready)
        return QStringLiteral("pk-monitor did not attach within %1 ms").arg(kProcessTimeoutMs);
    return {};
}

// Ends pk-monitor the clean way (closing the server detaches it, and --quit-when-detached
// quits it after it took the last data) and reads the longest stall it reports.
qint64 stopAttachedMonitor(
    QProcess &monitor, QByteArray &output, pk::MonitorServer &server, QString *error)
{
    server.close();
    if (!runEventLoopUntil(
            [&] { return monitor.state() == QProcess::NotRunning; }, kProcessTimeoutMs)) {
        *error = QStringLiteral("pk-monitor did not quit once detached");
        monitor.kill();
        monitor.waitForFinished();
        return -1;
    }
    output += monitor.readAllStandardOutput();
    if (monitor.exitStatus() != QProcess::NormalExit || monitor.exitCode() != 0) {
        *error = QStringLiteral("pk-monitor failed (exit code %1)").arg(monitor.exitCode());
        return -1;
    }
    static const QRegularExpression report(QStringLiteral("max GUI stall (\\d+) ms"));
    const QRegularExpressionMatch match = report.match(QString::fromLocal8Bit(output));
    if (!match.hasMatch()) {
        *error = QStringLiteral("pk-monitor reported no stall");
        return -1;
    }
    return match.captured(1).toLongLong();
}

MonitorSample monitorRound(MonitorMode mode, const MonitorConfig &c)
{
    MonitorSample sample;
    // A fresh keeper and monitor each round: every round starts with an empty table.
    // Declared in this order so that the monitors go before the keeper they watch.
    pk::PromiseKeeper keeper(c.threads);
    keeper.setObjectName(QStringLiteral("pk-bench"));
    std::unique_ptr<pk::MonitorWidget> widget;
    pk::MonitorServer server;
    QProcess monitor;
    QByteArray monitorOutput;

    const bool attached = mode == MonitorMode::Attached || mode == MonitorMode::AttachedFloods;
    if (mode == MonitorMode::InProcess || mode == MonitorMode::InProcessSorted) {
        widget = std::make_unique<pk::MonitorWidget>(&keeper);
        widget->resize(1400, 900); // pk-monitor's window size: as much to paint
        widget->show();
        if (mode == MonitorMode::InProcessSorted) {
            widget->tableView()->sortByColumn(pk::MonitorModel::RunTimeColumn, Qt::DescendingOrder);
        }
        runEventLoopFor(kWarmUpMs);
    } else if (attached) {
        server.addKeeper(&keeper);
        // One name per process: two pk-bench runs at once do not meet.
        if (!server.listen(QStringLiteral("pk-bench-%1").arg(QCoreApplication::applicationPid()))) {
            sample.error = QStringLiteral("cannot listen: %1").arg(server.errorString());
            return sample;
        }
        sample.error = startAttachedMonitor(monitor, monitorOutput, server, c.monitorBinary);
        if (!sample.error.isEmpty()) {
            if (monitor.state() != QProcess::NotRunning) {
                monitor.kill();
                monitor.waitForFinished();
            }
            return sample;
        }
    }

    {
        const StallMeter stalls;
        const int floods = mode == MonitorMode::AttachedFloods ? kFloods : 1;
        qint64 ns = 0;
        for (int i = 0; i < floods; ++i)
            ns += monitorWorkload(keeper, c.tasks);
        sample.workloadNs = ns / floods;
        runEventLoopFor(kTailMs);
        sample.mainStallMs = stalls.maxStallMs();
    }

    if (attached)
        sample.monitorStallMs = stopAttachedMonitor(monitor, monitorOutput, server, &sample.error);
    return sample;
}

// Why the monitor rows cannot have a display, or an empty string. Without QT_QPA_PLATFORM
// they use the offscreen platform, which needs none; a platform chosen by the user is taken as
// it is, and only X11 without a DISPLAY is known to fail (fatally, inside QApplication).
QString monitorDisplayProblem()
{
    const QByteArray platforms = qgetenv("QT_QPA_PLATFORM");
    if (platforms.isEmpty())
        return {};
    // A list of fallbacks separated by ';', each with ':'-separated arguments.
    for (const QByteArray &platform : platforms.split(';')) {
        if (platform.split(':').constFirst() != "xcb" || !qEnvironmentVariableIsEmpty("DISPLAY"))
            return {};
    }
    return QStringLiteral("QT_QPA_PLATFORM=%1 and no DISPLAY")
        .arg(QString::fromLocal8Bit(platforms));
}

// pk-monitor: given, built next to pk-bench (the path CMake compiled in), next to this
// program, or on the PATH.
QString findMonitorBinary(const QString &given)
{
    if (!given.isEmpty())
        return given;
    const QString built = QStringLiteral(PK_MONITOR_BINARY);
    if (QFileInfo(built).isExecutable())
        return built;
    const QString here = QStandardPaths::findExecutable(
        QStringLiteral("pk-monitor"), { QCoreApplication::applicationDirPath() });
    if (!here.isEmpty())
        return here;
    const QString onPath = QStandardPaths::findExecutable(QStringLiteral("pk-monitor"));
    return onPath.isEmpty() ? built : onPath;
}

MonitorConfig monitorConfig(const QCommandLineParser &parser)
{
    MonitorConfig c;
    c.tasks = std::max(1, parser.value(QStringLiteral("monitor-tasks")).toInt());
    c.threads = std::max(1, parser.value(QStringLiteral("threads")).toInt());
    c.rounds = std::max(1, parser.value(QStringLiteral("monitor-rounds")).toInt());
    c.monitorBinary = findMonitorBinary(parser.value(QStringLiteral("monitor-binary")));
    c.row = parser.value(QStringLiteral("monitor-row"));
    return c;
}

QString verdict(bool ok)
{
    return ok ? QStringLiteral("ok") : QStringLiteral("OVER");
}

// The monitor rows of a full run: this program again with --only monitor (and the options
// that concern them), its output in ours.
void runMonitorProcess(const QCommandLineParser &parser)
{
    QStringList arguments { QStringLiteral("--only"), QStringLiteral("monitor") };
    for (const char *option :
        { "threads", "monitor-tasks", "monitor-rounds", "monitor-binary", "monitor-row" }) {
        const QString name = QString::fromLatin1(option);
        if (parser.isSet(name))
            arguments << QStringLiteral("--") + name << parser.value(name);
    }
    std::fflush(stdout); // ours first
    QProcess rows;
    rows.setProcessChannelMode(QProcess::ForwardedChannels);
    rows.start(QCoreApplication::applicationFilePath(), arguments);
    if (!rows.waitForFinished(-1) || rows.exitStatus() != QProcess::NormalExit
        || rows.exitCode() != 0) {
        std::printf("\n(monitor rows failed: %s)\n",
            qPrintable(rows.error() == QProcess::UnknownError
                    ? QStringLiteral("exit code %1").arg(rows.exitCode())
                    : rows.errorString()));
    }
}

void runMonitorRows(const MonitorConfig &c)
{
    struct Row
    {
        MonitorMode mode;
        const char *name;
        std::vector<MonitorSample> samples;
    };
    const QByteArray floods
        = QStringLiteral("attached pk-monitor, %1 floods back to back").arg(kFloods).toUtf8();
    std::vector<Row> rows { { MonitorMode::None, "none (the floor)", {} },
        { MonitorMode::InProcess, "in-process pk::MonitorWidget", {} },
        { MonitorMode::InProcessSorted, "in-process, table sorted by run time", {} },
        { MonitorMode::Attached, "attached pk-monitor (pk::MonitorServer)", {} },
        { MonitorMode::AttachedFloods, floods.constData(), {} } };
    if (!c.row.isEmpty()) {
        rows.erase(
            std::remove_if(rows.begin() + 1, rows.end(),
                [&c](const Row &row) { return !QString::fromUtf8(row.name).startsWith(c.row); }),
            rows.end());
    }
    // A first million tasks is slower than the next ones whatever watches them (the heap grows,
    // the pool's threads start): one round that does not count.
    monitorRound(MonitorMode::None, c);
    // The configurations take turns, round after round, so that a slow spell of a shared
    // machine spreads over all of them instead of weighing on one.
    for (int r = 0; r < c.rounds; ++r) {
        for (Row &row : rows) {
            row.samples.push_back(monitorRound(row.mode, c));
            if (!row.samples.back().error.isEmpty()) {
                std::fprintf(stderr, "pk-bench: %s, round %d: %s\n", row.name, r + 1,
                    qPrintable(row.samples.back().error));
            }
        }
    }

    std::printf("\n| monitor, %d no-op tasks, %d threads (%s) | workload ms per flood (range) | vs "
                "none (limit %.1fx) | main-thread stall ms | monitor GUI stall ms (limit %lld) |\n"
                "|---|---:|---:|---:|---:|\n",
        c.tasks, c.threads, qPrintable(QGuiApplication::platformName()), kMaxSlowdown, kMaxStallMs);
    double noneMs = -1;
    for (const Row &row : rows) {
        std::vector<double> workloadMs;
        qint64 mainStall = -1;
        qint64 monitorStall = -1;
        for (const MonitorSample &s : row.samples) {
            if (s.workloadNs >= 0)
                workloadMs.push_back(double(s.workloadNs) / 1e6);
            mainStall = std::max(mainStall, s.mainStallMs);
            monitorStall = std::max(monitorStall, s.monitorStallMs);
        }
        if (workloadMs.empty()) {
            std::printf("| %s | n/a | n/a | n/a | n/a |\n", row.name);
            continue;
        }
        const double ms = median(workloadMs);
        const auto [fastest, slowest] = std::minmax_element(workloadMs.begin(), workloadMs.end());
        const QString workload = workloadMs.size() == 1 ? QString::number(ms, 'f', 0)
                                                        : QStringLiteral("%1 (%2-%3)")
                                                              .arg(ms, 0, 'f', 0)
                                                              .arg(*fastest, 0, 'f', 0)
                                                              .arg(*slowest, 0, 'f', 0);
        QString ratio;
        if (row.mode == MonitorMode::None) {
            noneMs = ms;
            ratio = QStringLiteral("1.00");
        } else if (noneMs > 0) {
            ratio = QStringLiteral("%1 %2")
                        .arg(ms / noneMs, 0, 'f', 2)
                        .arg(verdict(ms / noneMs <= kMaxSlowdown));
        } else {
            ratio = QStringLiteral("n/a");
        }
        // In-process, the monitor's GUI thread is the main thread.
        if (row.mode == MonitorMode::InProcess || row.mode == MonitorMode::InProcessSorted)
            monitorStall = mainStall;
        const QString gui = row.mode == MonitorMode::None ? QStringLiteral("-")
            : monitorStall < 0
            ? QStringLiteral("n/a")
            : QStringLiteral("%1 %2").arg(monitorStall).arg(verdict(monitorStall <= kMaxStallMs));
        std::printf("| %s | %s | %s | %lld | %s |\n", row.name, qPrintable(workload),
            qPrintable(ratio), mainStall, qPrintable(gui));
    }
    std::printf("\nWorkload: median (fastest-slowest) of %d rounds, from the first submit until "
                "the keeper's thread sees all finished (per flood where there are %d). Stalls: "
                "the worst of the rounds, the longest gap between two runs of a %d ms timer; "
                "main thread: this process's, the keeper's (with no monitor: the floor, what "
                "the machine itself costs); monitor GUI: the in-process widget's (the main "
                "thread) or the attached pk-monitor's.\n",
        c.rounds, kFloods, StallMeter::kIntervalMs);
}

#endif // PK_BENCH_MONITOR

} // namespace

PK_PROCESS_TASK(benchAdd)

int main(int argc, char **argv)
{
    // The children of the process rows: a keeper's worker, or one sum per QProcess.
    if (pk::ProcessWorker::isRequested(argc, argv))
        return pk::ProcessWorker::exec(argc, argv);
    if (argc == 4 && std::strcmp(argv[1], kSumOption) == 0) {
        std::printf("%d\n", std::atoi(argv[2]) + std::atoi(argv[3]));
        return 0;
    }
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Nanoseconds per no-op task through PromiseKeeper, QThreadPool and "
                       "QtConcurrent::run, and what the monitor costs a keeper"));
    parser.addHelpOption();
    parser.addOption({ QStringLiteral("tasks"), QStringLiteral("Tasks per round."),
        QStringLiteral("n"), QStringLiteral("1000000") });
    parser.addOption({ QStringLiteral("threads"), QStringLiteral("Worker threads."),
        QStringLiteral("n"), QStringLiteral("2") });
    parser.addOption({ QStringLiteral("rounds"), QStringLiteral("Rounds; the median is shown."),
        QStringLiteral("n"), QStringLiteral("3") });
    parser.addOption({ QStringLiteral("only"),
        QStringLiteral("Run one throughput row (pool, concurrent or keeper), the process rows "
                       "(process) or the monitor rows (monitor)."),
        QStringLiteral("runner") });
    parser.addOption(
        { QStringLiteral("process-calls"), QStringLiteral("Calls per round of the process rows."),
            QStringLiteral("n"), QStringLiteral("500") });
    parser.addOption(
        { QStringLiteral("monitor-tasks"), QStringLiteral("Tasks per round of the monitor rows."),
            QStringLiteral("n"), QStringLiteral("1000000") });
    parser.addOption({ QStringLiteral("monitor-rounds"),
        QStringLiteral("Rounds of the monitor rows (their times vary more than the others')."),
        QStringLiteral("n"), QStringLiteral("5") });
    parser.addOption({ QStringLiteral("monitor-row"),
        QStringLiteral("Only the monitor row whose name starts with <name> (and the floor)."),
        QStringLiteral("name") });
    parser.addOption({ QStringLiteral("monitor-binary"),
        QStringLiteral("The pk-monitor to attach (default: the one built with pk-bench)."),
        QStringLiteral("path") });

    // The monitor rows need a QApplication (pk::MonitorWidget is a widget); the other rows keep
    // the QCoreApplication their users have, so a full run runs the monitor rows in a process
    // of their own (runMonitorProcess()). Which application to create must be known before
    // it exists: the arguments are parsed once quietly here, and for real (errors, --help) by
    // process().
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));
    parser.parse(arguments);
    const QString only = parser.value(QStringLiteral("only"));
    const bool wantMonitor = only.isEmpty() || only == QLatin1String("monitor");
    std::unique_ptr<QCoreApplication> app;
#ifdef PK_BENCH_MONITOR
    const QString monitorProblem = wantMonitor ? monitorDisplayProblem() : QString();
    if (only == QLatin1String("monitor") && monitorProblem.isEmpty()) {
        // No window on the screen unless asked for (QT_QPA_PLATFORM=xcb, say): the monitor
        // does all its work but the copy to a screen, and a benchmark should not pop up
        // windows. The attached pk-monitor inherits the setting.
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        app = std::make_unique<QApplication>(argc, argv);
    }
#else
    const QString monitorProblem = QStringLiteral("pk-bench was built without the monitor "
                                                  "(PROMISEKEEPER_BUILD_MONITOR=OFF)");
#endif
    if (!app)
        app = std::make_unique<QCoreApplication>(argc, argv);
    parser.process(*app);
    const bool runMonitor = wantMonitor && monitorProblem.isEmpty();

    if (only == QLatin1String("monitor")) {
        if (!runMonitor) {
            std::fprintf(
                stderr, "pk-bench: cannot run the monitor rows: %s\n", qPrintable(monitorProblem));
            return 1;
        }
#ifdef PK_BENCH_MONITOR
        runMonitorRows(monitorConfig(parser));
#endif
        return 0;
    }
    const int processCalls = std::max(1, parser.value(QStringLiteral("process-calls")).toInt());
    if (only == QLatin1String("process")) {
        runProcessRows(processCalls, std::max(1, parser.value(QStringLiteral("rounds")).toInt()));
        return 0;
    }
    if (!only.isEmpty()) {
        Config one;
        one.tasks = std::max(1, parser.value(QStringLiteral("tasks")).toInt());
        one.threads = std::max(1, parser.value(QStringLiteral("threads")).toInt());
        one.rounds = std::max(1, parser.value(QStringLiteral("rounds")).toInt());
        const std::function<qint64()> round = only == QLatin1String("pool")
            ? std::function<qint64()>([&] { return threadPoolRound(one); })
            : only == QLatin1String("concurrent")
            ? std::function<qint64()>([&] { return concurrentRound(one); })
            : std::function<qint64()>([&] { return keeperRound(one); });
        const Rounds r = measure(one, round);
        std::printf("%s: %.0f ns/task (%.0f-%.0f, max/min %.2f)\n", qPrintable(only), r.median,
            r.min, r.max, r.spread());
        return 0;
    }
    Config c;
    c.tasks = std::max(1, parser.value(QStringLiteral("tasks")).toInt());
    c.threads = std::max(1, parser.value(QStringLiteral("threads")).toInt());
    c.rounds = std::max(1, parser.value(QStringLiteral("rounds")).toInt());

    std::printf("pk-bench: %d no-op tasks, %d threads, median of %d rounds\n\n", c.tasks, c.threads,
        c.rounds);
    const Rounds raw = measure(c, [&] { return threadPoolRound(c); });
    const Rounds concurrent = measure(c, [&] { return concurrentRound(c); });
    const Rounds keeper = measure(c, [&] { return keeperRound(c); });

    std::printf("| runner | ns/task (fastest-slowest) | max/min | vs QtConcurrent::run |\n"
                "|---|---:|---:|---:|\n");
    printRow("QThreadPool::start(lambda)", raw, raw.median / concurrent.median);
    printRow("QtConcurrent::run (QFuture kept)", concurrent, 1.0);
    printRow("PromiseKeeper::submit (promise kept, taskFinished slot)", keeper,
        keeper.median / concurrent.median);

    const int links = std::min(c.tasks, 100000);
    const Config chainConfig { links, c.threads, c.rounds };
    const Rounds keeperChain
        = measure(chainConfig, [&] { return keeperChainRound(links, c.threads); });
    const Rounds futureChain
        = measure(chainConfig, [&] { return futureChainRound(links, c.threads); });
    std::printf("\n| %d-link continuation chain | ns/link (fastest-slowest) | max/min | vs "
                "QFuture::then |\n|---|---:|---:|---:|\n",
        links);
    printRow("QFuture::then(&pool, ...)", futureChain, 1.0);
    printRow("pk::Promise::then(...)", keeperChain, keeperChain.median / futureChain.median);

    const int retained = std::min(c.tasks, 200000);
    QThreadPool pool;
    pool.setMaxThreadCount(c.threads);
    pk::PromiseKeeper memKeeper(c.threads);
    memKeeper.setHistorySize(0);
    const double futureBytes = bytesPerRetained(retained,
        [&](int i) { return FutureHandle { QtConcurrent::run(&pool, [i] { return i; }) }; });
    // Deliver the keeper's buffered events first so that only the promises stay retained.
    const double promiseBytes = bytesPerRetained(retained, [&](int i) {
        if (i % 4096 == 0)
            QCoreApplication::processEvents();
        return KeeperHandle { memKeeper.submit([i] { return i; }) };
    });
    std::printf("\n| retained finished handle (%d) | heap bytes each |\n|---|---:|\n", retained);
    std::printf("| QFuture<int> | %.0f |\n", futureBytes);
    std::printf("| pk::Promise<int> | %.0f |\n", promiseBytes);

    runProcessRows(processCalls, c.rounds);

#ifdef PK_BENCH_MONITOR
    if (runMonitor)
        runMonitorProcess(parser);
#endif
    if (!runMonitor)
        std::printf("\n(monitor rows left out: %s)\n", qPrintable(monitorProblem));
    return 0;
}
