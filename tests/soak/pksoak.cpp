// pk-soak: mixed work on several keepers for a while, with cancels from another thread and
// shutdowns mid-flight, checking the invariants that must hold whatever the interleaving:
//
//  - every promise reaches exactly one final state, and keeps it;
//  - each keeper's signals match its counts, per final state, and the promises of the tasks the
//    producers submitted match the signals of those tasks;
//  - nothing is live once the work stops;
//  - memory stays flat: the resident size in the last quarter of the run is not far above the
//    one after the first quarter (warm-up).
//
// Not a unit test: run by scripts/soak (and briefly by .ci/run). Exits 1 if an invariant broke.
#include <pk/combinators.h>
#include <pk/promisekeeper.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QMutex>
#include <QtCore/QTimer>

#include <atomic>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

std::atomic<int> s_keeperWarnings { 0 };
QtMessageHandler s_previousHandler = nullptr;

// Counts the keepers' warnings (submissions refused by a keeper just shut down, rate limited)
// instead of printing them; everything else is printed as usual.
void countKeeperWarnings(QtMsgType type, const QMessageLogContext &context, const QString &text)
{
    if (type == QtWarningMsg && qstrcmp(context.category, "promisekeeper") == 0)
        ++s_keeperWarnings;
    else
        s_previousHandler(type, context, text);
}

const QString kMapTitle = QStringLiteral("soak-map");

// One keeper's life: its tallies outlive it, so the checks can run after it is gone.
struct KeeperRecord
{
    int generation = 0;
    // Written on the keeper's (the main) thread only, by its signals.
    qint64 signalled[3] = {}; // succeeded, failed, cancelled
    qint64 signalledOutsideMaps[3] = {}; // the same, without map items (no promise of ours)
    // Written by the producers: final states of the promises they got from submissions.
    std::atomic<qint64> promised[3] = {};
    pk::TaskCounts finalCounts;
    bool retired = false;
};

int stateIndex(pk::TaskState state)
{
    switch (state) {
    case pk::TaskState::Succeeded:
        return 0;
    case pk::TaskState::Failed:
        return 1;
    case pk::TaskState::Cancelled:
        return 2;
    default:
        return -1;
    }
}

qint64 residentKiB()
{
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (!statm.open(QIODevice::ReadOnly))
        return 0;
    const QList<QByteArray> fields = statm.readAll().split(' ');
    return fields.size() > 1 ? fields[1].toLongLong() * (sysconf(_SC_PAGESIZE) / 1024) : 0;
}

class Soak
{
public:
    Soak(int keepers, int producers, int seconds)
        : m_seconds(seconds)
        , m_producerCount(producers)
    {
        for (int i = 0; i < keepers; ++i)
            m_slots.push_back(makeKeeper(1 + i % 3));
    }

    int run()
    {
        QElapsedTimer elapsed;
        elapsed.start();
        std::vector<std::thread> threads;
        for (int p = 0; p < m_producerCount; ++p)
            threads.emplace_back([this, p] { produce(p); });
        threads.emplace_back([this] { cancel(); });

        // On the main thread, the keepers' thread: shutdowns mid-flight, memory samples.
        QTimer shutdowns;
        std::mt19937 random(7);
        QObject::connect(&shutdowns, &QTimer::timeout, [&] {
            const std::size_t slot = random() % m_slots.size();
            replaceKeeper(slot);
        });
        shutdowns.start(700);
        QTimer sampler;
        QObject::connect(&sampler, &QTimer::timeout, [&] {
            const qint64 kib = residentKiB();
            const qint64 ms = elapsed.elapsed();
            if (ms < m_seconds * 250)
                m_warmKiB = kib;
            else if (ms > m_seconds * 750)
                m_lateMaxKiB = std::max(m_lateMaxKiB, kib);
            m_peakKiB = std::max(m_peakKiB, kib);
        });
        sampler.start(250);
        QTimer::singleShot(m_seconds * 1000, [this] { m_stop = true; });
        QTimer quit;
        QObject::connect(&quit, &QTimer::timeout, [this] {
            retireDropped();
            if (m_producersDone.load() == m_producerCount + 1)
                QCoreApplication::quit();
        });
        quit.start(20);
        QCoreApplication::exec();
        for (std::thread &t : threads)
            t.join();
        shutdowns.stop();
        sampler.stop();

        // The rest: every keeper shut down, its events delivered, its tallies kept.
        for (std::shared_ptr<Slot> &slot : m_slots)
            std::atomic_store(&slot, std::shared_ptr<Slot>());
        QElapsedTimer retiring;
        retiring.start();
        while (m_retired < int(m_records.size()) && retiring.elapsed() < 60000) {
            retireDropped();
            QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        }

        return check(elapsed.elapsed());
    }

private:
    struct Slot
    {
        pk::PromiseKeeper *keeper;
        KeeperRecord *record;
    };

    std::shared_ptr<Slot> makeKeeper(int threads)
    {
        auto *keeper = new pk::PromiseKeeper(threads);
        keeper->setHistorySize(0);
        auto *record = &m_records.emplace_back();
        record->generation = int(m_records.size());
        QObject::connect(
            keeper, &pk::PromiseKeeper::taskFinished, keeper, [record](const pk::TaskInfo &info) {
                const int i = stateIndex(info.state());
                ++record->signalled[i];
                if (!info.title().startsWith(kMapTitle))
                    ++record->signalledOutsideMaps[i];
            });
        // The last reference may go on a producer: the keeper is retired on its own thread,
        // which picks it up on a timer (retireDropped()).
        return std::shared_ptr<Slot>(new Slot { keeper, record }, [this](Slot *slot) {
            std::lock_guard lock(m_droppedMutex);
            m_dropped.push_back(slot);
        });
    }

    void retireDropped()
    {
        std::vector<Slot *> dropped;
        {
            std::lock_guard lock(m_droppedMutex);
            dropped.swap(m_dropped);
        }
        for (Slot *slot : dropped) {
            retire(*slot);
            delete slot;
        }
    }

    // On the main thread: shuts the keeper down, delivers what it still has to say, keeps its
    // counts and deletes it.
    void retire(const Slot &slot)
    {
        pk::PromiseKeeper *keeper = slot.keeper;
        keeper->shutdown(pk::ShutdownMode::CancelPending);
        // shutdown() waits for the keeper's own work; its continuations on m_context run on
        // this thread, as calls posted to m_context (a worker posts one just after its input
        // finished). Until they have run, the keeper counts them live, and one run after the
        // keeper is gone would emit no signal.
        QDeadlineTimer deadline(10000);
        if (keeper->counts().live() > 0)
            ++m_retiredWithContextWork;
        while (keeper->counts().live() > 0 && !deadline.hasExpired()) {
            QCoreApplication::sendPostedEvents(&m_context, QEvent::MetaCall);
            std::this_thread::yield();
        }
        if (keeper->counts().live() > 0)
            std::fprintf(stderr,
                "pk-soak: keeper %d still has live tasks 10 s after its shutdown\n",
                slot.record->generation);
        keeper->processPending(); // on its thread: delivers every event before it returns
        slot.record->finalCounts = keeper->counts();
        slot.record->retired = true;
        delete keeper;
        ++m_retired;
    }

    void replaceKeeper(std::size_t slot)
    {
        std::shared_ptr<Slot> old = std::atomic_exchange(&m_slots[slot], makeKeeper(2));
        // Mid-flight: queued and waiting work is cancelled while producers still submit to it.
        old->keeper->shutdown(pk::ShutdownMode::CancelPending, 0);
        ++m_shutdowns;
    }

    std::shared_ptr<Slot> pick(std::mt19937 &random)
    {
        return std::atomic_load(&m_slots[random() % m_slots.size()]);
    }

    struct Tracked
    {
        pk::PromiseBase promise;
        KeeperRecord *record; // null: not a task of a keeper (a combinator's promise)
    };

    void produce(int seed)
    {
        std::mt19937 random(std::uint32_t(100 + seed));
        std::deque<Tracked> pending;
        QObject *context = &m_context; // continuations run on the main thread
        const auto settle = [this, &pending](bool all) {
            while (!pending.empty()) {
                Tracked &t = pending.front();
                if (!t.promise.isReady()) {
                    if (!all && pending.size() < 4000)
                        return;
                    if (!t.promise.wait(60000)) {
                        std::fprintf(stderr, "pk-soak: a promise never became final\n");
                        ++m_violations;
                    }
                }
                const pk::TaskState first = t.promise.state();
                if (t.record)
                    ++t.record->promised[stateIndex(first)];
                // Once final, always the same final state.
                if (t.promise.state() != first)
                    ++m_violations;
                pending.pop_front();
            }
        };
        int i = 0;
        while (!m_stop.load(std::memory_order_relaxed)) {
            const std::shared_ptr<Slot> slot = pick(random);
            pk::PromiseKeeper &keeper = *slot->keeper;
            KeeperRecord *record = slot->record;
            const auto track = [&](const pk::PromiseBase &p, KeeperRecord *r) {
                pending.push_back({ p, r });
                m_tasks.fetch_add(1, std::memory_order_relaxed);
            };
            const int n = ++i;
            pk::Promise<int> a = keeper.submit([n] {
                if (n % 17 == 0)
                    throw std::runtime_error("soak failure");
                return n;
            });
            track(a, record);
            switch (n % 6) {
            case 0: { // chained by argument, the only reference moved in
                pk::Promise<int> b = keeper.submit([](int v) { return v + 1; }, std::move(a));
                track(b, record);
                track(b.then([](int v) { return v * 2; }), record);
                break;
            }
            case 1:
                track(a.onFailed(context, [] { return -1; }), record);
                track(a.onCancelled(context, [] { return -2; }), record);
                break;
            case 2:
                track(a.finally(context, [] {}), record);
                break;
            case 3: {
                pk::Promise<int> c = keeper.submit([] { return 3; });
                track(c, record);
                track(pk::whenAll(QList<pk::Promise<int>> { a, c }), nullptr);
                break;
            }
            case 4: {
                pk::MapOptions options;
                options.maxInFlight = 2;
                options.item.title = kMapTitle;
                track(keeper.map([](int v) { return v; }, QList<int> { 1, 2, 3, 4, 5 }, options),
                    nullptr);
                break;
            }
            default:
                track(a.then([](int v) { return v - 1; }), record);
                break;
            }
            settle(false);
        }
        settle(true);
        ++m_producersDone;
    }

    // From another thread: cancelAll() now and then, and cancels of single tasks by id.
    void cancel()
    {
        std::mt19937 random(3);
        while (!m_stop.load(std::memory_order_relaxed)) {
            const std::shared_ptr<Slot> slot = pick(random);
            if (random() % 4 == 0) {
                slot->keeper->cancelAll();
            } else {
                const QList<pk::TaskInfo> live = slot->keeper->tasks();
                if (!live.isEmpty())
                    slot->keeper->cancel(live.at(qsizetype(random() % live.size())).id());
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        ++m_producersDone;
    }

    int check(qint64 elapsedMs)
    {
        int broken = m_violations.load();
        qint64 finished = 0;
        for (const KeeperRecord &r : m_records) {
            if (!r.retired) {
                std::fprintf(stderr, "pk-soak: keeper %d was never retired\n", r.generation);
                ++broken;
                continue;
            }
            const pk::TaskCounts &c = r.finalCounts;
            const qint64 counted[3] = { c.succeeded, c.failed, c.cancelled };
            finished += c.finished();
            if (c.live() != 0) {
                std::fprintf(stderr, "pk-soak: keeper %d has %lld live tasks at the end\n",
                    r.generation, c.live());
                ++broken;
            }
            for (int s = 0; s < 3; ++s) {
                if (r.signalled[s] != counted[s] || r.signalledOutsideMaps[s] != r.promised[s]) {
                    std::fprintf(stderr,
                        "pk-soak: keeper %d, final state %d: counts %lld, signals %lld, "
                        "signals outside maps %lld, promises %lld\n",
                        r.generation, s, counted[s], r.signalled[s], r.signalledOutsideMaps[s],
                        r.promised[s].load());
                    ++broken;
                }
            }
        }
        // Flat: the late samples may exceed the warm one by half, plus a little for the
        // allocator's own caches.
        const bool flat = m_lateMaxKiB <= m_warmKiB * 3 / 2 + 32 * 1024;
        if (!flat) {
            std::fprintf(stderr, "pk-soak: resident memory grew from %lld KiB to %lld KiB\n",
                m_warmKiB, m_lateMaxKiB);
            ++broken;
        }
        std::printf("pk-soak: %.1f s, %lld promises tracked, %lld keeper tasks finished "
                    "(%.0f per second), %d shutdowns mid-flight, %d keepers retired\n",
            double(elapsedMs) / 1000, m_tasks.load(), finished,
            double(finished) * 1000 / double(std::max<qint64>(elapsedMs, 1)), m_shutdowns,
            m_retired);
        std::printf("pk-soak: %d keepers had continuations on the context left to run after "
                    "their shutdown\n",
            m_retiredWithContextWork);
        std::printf("pk-soak: resident memory %lld KiB after warm-up, at most %lld KiB in the "
                    "last quarter, peak %lld KiB\n",
            m_warmKiB, m_lateMaxKiB, m_peakKiB);
        std::printf(
            "pk-soak: %d warnings from the keepers (rate limited)\n", s_keeperWarnings.load());
        std::printf("pk-soak: %d passed, %d failed\n", broken == 0 ? 1 : 0, broken == 0 ? 0 : 1);
        return broken == 0 ? 0 : 1;
    }

    QObject m_context; // on the main thread: the continuations' context
    int m_retiredWithContextWork = 0; // shutdowns that returned before continuations on it ran
    std::mutex m_droppedMutex;
    std::vector<Slot *> m_dropped; // keepers nobody uses any more, to retire
    const int m_seconds;
    const int m_producerCount;
    std::vector<std::shared_ptr<Slot>> m_slots; // accessed with std::atomic_load/exchange
    std::deque<KeeperRecord> m_records; // stable addresses; appended on the main thread only
    std::atomic<bool> m_stop { false };
    std::atomic<int> m_producersDone { 0 };
    std::atomic<qint64> m_tasks { 0 };
    std::atomic<int> m_violations { 0 };
    int m_shutdowns = 0;
    int m_retired = 0;
    qint64 m_warmKiB = 0;
    qint64 m_lateMaxKiB = 0;
    qint64 m_peakKiB = 0;
};

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Mixed tasks on several keepers with cancels and shutdowns mid-flight; checks that "
        "every promise ends once, signals match counts, and memory stays flat."));
    parser.addHelpOption();
    const QCommandLineOption seconds(QStringLiteral("seconds"),
        QStringLiteral("How long to run (default 60)."), QStringLiteral("n"), QStringLiteral("60"));
    const QCommandLineOption keepers(QStringLiteral("keepers"),
        QStringLiteral("How many keepers at once (default 4)."), QStringLiteral("n"),
        QStringLiteral("4"));
    const QCommandLineOption producers(QStringLiteral("producers"),
        QStringLiteral("How many submitting threads (default 3)."), QStringLiteral("n"),
        QStringLiteral("3"));
    parser.addOptions({ seconds, keepers, producers });
    parser.process(app);
    bool ok[3];
    const int s = parser.value(seconds).toInt(&ok[0]);
    const int k = parser.value(keepers).toInt(&ok[1]);
    const int p = parser.value(producers).toInt(&ok[2]);
    if (!ok[0] || !ok[1] || !ok[2] || s < 1 || k < 1 || p < 1) {
        std::fprintf(
            stderr, "pk-soak: --seconds, --keepers and --producers take positive numbers\n");
        return 2;
    }
    s_previousHandler = qInstallMessageHandler(countKeeperWarnings);
    return Soak(k, p, s).run();
}
