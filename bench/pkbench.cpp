// pk-bench: the cost of a task through PromiseKeeper, a raw QThreadPool and QtConcurrent::run,
// measured in one process on the same machine, and the memory a retained finished promise costs.
#include <QtConcurrent/qtconcurrentrun.h>
#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfuture.h>
#include <QtCore/qthread.h>
#include <QtCore/qthreadpool.h>

#include <PromiseKeeper>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <malloc.h>
#include <vector>

namespace {

struct Config
{
    int tasks = 1000000;
    int threads = 2;
    int rounds = 3;
};

// Median of several rounds, in nanoseconds per task.
double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double measure(const Config &c, const std::function<qint64()> &round)
{
    std::vector<double> perTask;
    for (int r = 0; r < c.rounds; ++r)
        perTask.push_back(double(round()) / c.tasks);
    return median(perTask);
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

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Nanoseconds per no-op task through PromiseKeeper, QThreadPool and QtConcurrent::run"));
    parser.addHelpOption();
    parser.addOption({ QStringLiteral("tasks"), QStringLiteral("Tasks per round."),
        QStringLiteral("n"), QStringLiteral("1000000") });
    parser.addOption({ QStringLiteral("threads"), QStringLiteral("Worker threads."),
        QStringLiteral("n"), QStringLiteral("2") });
    parser.addOption({ QStringLiteral("rounds"), QStringLiteral("Rounds; the median is shown."),
        QStringLiteral("n"), QStringLiteral("3") });
    parser.addOption({ QStringLiteral("only"),
        QStringLiteral("Run one throughput row: pool, concurrent or keeper."),
        QStringLiteral("runner") });
    parser.process(app);
    const QString only = parser.value(QStringLiteral("only"));
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
        std::printf("%s: %.0f ns/task\n", qPrintable(only), measure(one, round));
        return 0;
    }
    Config c;
    c.tasks = std::max(1, parser.value(QStringLiteral("tasks")).toInt());
    c.threads = std::max(1, parser.value(QStringLiteral("threads")).toInt());
    c.rounds = std::max(1, parser.value(QStringLiteral("rounds")).toInt());

    std::printf("pk-bench: %d no-op tasks, %d threads, median of %d rounds\n\n", c.tasks, c.threads,
        c.rounds);
    const double raw = measure(c, [&] { return threadPoolRound(c); });
    const double concurrent = measure(c, [&] { return concurrentRound(c); });
    const double keeper = measure(c, [&] { return keeperRound(c); });

    std::printf("| runner | ns/task | vs QtConcurrent::run |\n|---|---:|---:|\n");
    std::printf("| QThreadPool::start(lambda) | %.0f | %.2f |\n", raw, raw / concurrent);
    std::printf("| QtConcurrent::run (QFuture kept) | %.0f | 1.00 |\n", concurrent);
    std::printf("| PromiseKeeper::submit (promise kept, taskFinished slot) | %.0f | %.2f |\n",
        keeper, keeper / concurrent);

    const int links = std::min(c.tasks, 100000);
    const Config chainConfig { links, c.threads, c.rounds };
    const double keeperChain
        = measure(chainConfig, [&] { return keeperChainRound(links, c.threads); });
    const double futureChain
        = measure(chainConfig, [&] { return futureChainRound(links, c.threads); });
    std::printf(
        "\n| %d-link continuation chain | ns/link | vs QFuture::then |\n|---|---:|---:|\n", links);
    std::printf("| QFuture::then(&pool, ...) | %.0f | 1.00 |\n", futureChain);
    std::printf(
        "| pk::Promise::then(...) | %.0f | %.2f |\n", keeperChain, keeperChain / futureChain);

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
    return 0;
}
