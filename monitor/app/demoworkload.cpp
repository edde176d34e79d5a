#include "demoworkload.h"

#include <pk/processtask.h>
#include <pk/promisekeeper.h>

#include <QtCore/QRandomGenerator>
#include <QtCore/QStringList>
#include <QtCore/QThread>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {

constexpr int kTickMs = 300;

int randomBetween(int low, int high)
{
    return int(QRandomGenerator::global()->bounded(low, high + 1));
}

// Sleeps \a ms in slices of at most 20 ms; false if the workload stopped meanwhile.
bool work(const std::shared_ptr<std::atomic<bool>> &stopped, int ms)
{
    while (ms > 0) {
        if (stopped->load(std::memory_order_relaxed))
            return false;
        const int slice = std::min(ms, 20);
        QThread::msleep(ulong(slice));
        ms -= slice;
    }
    return true;
}

// work() in steps that report progress and stop when the task is asked to (Cancel task in the
// monitor, or its time-out): the task then ends Cancelled (or Failed, timed out).
void workWithProgress(
    const std::shared_ptr<std::atomic<bool>> &stopped, pk::TaskContext &ctx, int ms, int steps)
{
    ctx.setProgressRange(0, steps);
    for (int step = 0; step < steps; ++step) {
        ctx.setProgressText(QStringLiteral("step %1 of %2").arg(step + 1).arg(steps));
        if (!work(stopped, ms / steps))
            return;
        ctx.throwIfCancellationRequested();
        ctx.setProgressValue(step + 1);
    }
}

template<typename... Strings>
QString pick(const Strings &...choices)
{
    const QStringList list { QString::fromUtf8(choices)... };
    return list.at(randomBetween(0, int(list.size()) - 1));
}

// Run in a child process of pk-monitor (PromiseKeeper::submitToProcess): renders for \a ms,
// and a third of them crash, as a buggy renderer would; the monitor carries on.
int renderPreview(int n, int ms)
{
    QThread::msleep(ulong(ms));
    if (n % 3 == 0)
        std::abort();
    return n;
}

} // namespace

PK_PROCESS_TASK(renderPreview)

DemoWorkload::DemoWorkload(pk::PromiseKeeper *keeper, pk::PromiseKeeper *network, QObject *parent)
    : QObject(parent)
    , m_keeper(keeper)
    , m_network(network ? network : keeper)
{
    m_timer.setInterval(kTickMs);
    connect(&m_timer, &QTimer::timeout, this, &DemoWorkload::tick);
}

DemoWorkload::~DemoWorkload()
{
    stop();
}

void DemoWorkload::start()
{
    m_stopped->store(false);
    m_timer.start();
    tick();
}

void DemoWorkload::stop()
{
    m_timer.stop();
    m_stopped->store(true);
}

void DemoWorkload::tick()
{
    ++m_tick;
    // A steady trickle, and every few ticks something else.
    shortTasks(randomBetween(4, 14));
    if (m_tick % 8 == 1)
        shortTasks(randomBetween(120, 260)); // a flood
    if (m_tick % 6 == 2)
        longTasks(randomBetween(1, 2));
    if (m_tick % 4 == 3)
        failingTasks(randomBetween(1, 4));
    if (m_tick % 9 == 4)
        cancelledTasks(randomBetween(10, 30));
    if (m_tick % 7 == 5)
        urgentTasks(randomBetween(3, 6));
    if (m_tick % 3 == 0)
        chainedTasks();
    if (m_tick % 10 == 6)
        timedTasks(randomBetween(1, 3));
    if (m_tick % 5 == 1)
        nestedTasks();
    if (m_tick % 5 == 3)
        processTasks(randomBetween(1, 3));
}

void DemoWorkload::processTasks(int count)
{
    for (int i = 0; i < count; ++i) {
        const int n = ++m_serial;
        auto preview = m_keeper->submitToProcess(
            pk::TaskOptions { QStringLiteral("render preview %1 (isolated)").arg(n), 0 },
            &renderPreview, n, randomBetween(20, 120));
        preview.onFailed(this, [] { return -1; });
    }
}

void DemoWorkload::shortTasks(int count)
{
    for (int i = 0; i < count; ++i) {
        const QString title = pick(
            "thumbnail %1", "parse chunk %1", "hash block %1", "resize image %1", "decode frame %1")
                                  .arg(++m_serial);
        const int ms = randomBetween(1, 18);
        m_keeper->submit(pk::TaskOptions { title, 0 }, [stopped = m_stopped, ms] {
            work(stopped, ms);
            return ms;
        });
    }
}

void DemoWorkload::longTasks(int count)
{
    for (int i = 0; i < count; ++i) {
        const QString title = pick(
            "render report %1", "index documents %1", "compress archive %1", "train model %1")
                                  .arg(++m_serial);
        const int ms = randomBetween(700, 2200);
        m_keeper->submit(
            pk::TaskOptions { title, 0 }, [stopped = m_stopped, ms](pk::TaskContext &ctx) {
                workWithProgress(stopped, ctx, ms, randomBetween(5, 40));
            });
    }
}

void DemoWorkload::timedTasks(int count)
{
    // Given 900 ms, they take 400 to 1400: about half run past their time-out.
    for (int i = 0; i < count; ++i) {
        pk::TaskOptions options { QStringLiteral("sync mailbox %1").arg(++m_serial), 0 };
        options.timeout = std::chrono::milliseconds(900);
        const int ms = randomBetween(400, 1400);
        m_network->submit(options, [stopped = m_stopped, ms](pk::TaskContext &ctx) {
            workWithProgress(stopped, ctx, ms, 10);
        });
    }
}

void DemoWorkload::nestedTasks()
{
    // A task that waits for a part it submitted to its own keeper: while it waits, its worker
    // runs the part (the timeline draws it inside).
    const QString title = QStringLiteral("assemble album %1").arg(++m_serial);
    m_keeper->submit(
        pk::TaskOptions { title, 0 }, [keeper = m_keeper, stopped = m_stopped, n = m_serial]() {
            work(stopped, randomBetween(40, 120));
            auto part = keeper->submit(
                pk::TaskOptions { QStringLiteral("cover for album %1").arg(n), 5 }, [stopped] {
                    work(stopped, randomBetween(80, 200));
                    return 1;
                });
            part.wait(5000);
            work(stopped, randomBetween(40, 120));
        });
}

void DemoWorkload::failingTasks(int count)
{
    for (int i = 0; i < count; ++i) {
        const int kind = randomBetween(0, 3);
        const int n = ++m_serial;
        QString title;
        switch (kind) {
        case 0:
            title = QStringLiteral("fetch https://example.invalid/%1").arg(n);
            break;
        case 1:
            title = QStringLiteral("query db-3 #%1").arg(n);
            break;
        case 2:
            title = QStringLiteral("open /data/missing-%1.csv").arg(n);
            break;
        default:
            title = QStringLiteral("upload part %1").arg(n);
            break;
        }
        const int ms = randomBetween(5, 60);
        // Fetches and queries go over the network; a failure is logged on this thread.
        pk::PromiseKeeper *keeper = kind <= 1 ? m_network : m_keeper;
        auto failing = keeper->submit(
            pk::TaskOptions { title, 0 }, [stopped = m_stopped, ms, kind, n]() -> int {
                work(stopped, ms);
                switch (kind) {
                case 0:
                    throw std::runtime_error("host not found: example.invalid");
                case 1:
                    throw std::runtime_error("connection refused: db-3:5432\n"
                                             "  while running SELECT * FROM orders\n"
                                             "  after 3 retries");
                case 2:
                    throw std::runtime_error(
                        "No such file or directory: /data/missing-" + std::to_string(n) + ".csv");
                default:
                    throw std::out_of_range(
                        "upload part " + std::to_string(n) + " out of range (412 > 400)");
                }
            });
        failing.onFailed(this, [] { return -1; });
    }
}

void DemoWorkload::cancelledTasks(int count)
{
    // Low priority, so that they are still queued when cancelled a moment later.
    QList<pk::PromiseBase> batch;
    for (int i = 0; i < count; ++i) {
        const QString title = QStringLiteral("prefetch page %1").arg(++m_serial);
        batch.append(m_keeper->submit(
            pk::TaskOptions { title, -5 }, [stopped = m_stopped] { work(stopped, 30); }));
    }
    QTimer::singleShot(randomBetween(50, 250), this, [batch] {
        for (const pk::PromiseBase &p : batch) {
            if (QRandomGenerator::global()->bounded(3) != 0)
                p.cancel();
        }
    });
}

void DemoWorkload::urgentTasks(int count)
{
    for (int i = 0; i < count; ++i) {
        const QString title = QStringLiteral("urgent: user click %1").arg(++m_serial);
        const int ms = randomBetween(2, 10);
        m_keeper->submit(
            pk::TaskOptions { title, 10 }, [stopped = m_stopped, ms] { work(stopped, ms); });
    }
}

void DemoWorkload::chainedTasks()
{
    // Two downloads feed a merge that waits for both (promises as arguments), then a
    // continuation on the pool.
    const int n = ++m_serial;
    auto left = m_network->submit(
        pk::TaskOptions { QStringLiteral("download left %1").arg(n), 0 }, [stopped = m_stopped] {
            work(stopped, randomBetween(30, 200));
            return randomBetween(1, 100);
        });
    auto right = m_network->submit(
        pk::TaskOptions { QStringLiteral("download right %1").arg(n), 0 }, [stopped = m_stopped] {
            work(stopped, randomBetween(30, 300));
            return randomBetween(1, 100);
        });
    auto merged = m_keeper->submit(
        pk::TaskOptions { QStringLiteral("merge %1").arg(n), 1 },
        [stopped = m_stopped](int a, int b) {
            work(stopped, randomBetween(10, 40));
            return a + b;
        },
        left, right);
    merged
        .then([stopped = m_stopped](int total) {
            work(stopped, randomBetween(5, 20));
            return total * 2;
        })
        .finally(this, [] {});
}
