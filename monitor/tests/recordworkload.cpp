// pk-record-workload NAME: a program with two keepers, "images" (3 threads) and "network" (2),
// published with pk::MonitorServer, for tst_record_e2e. It waits for a monitor to attach, runs
// tasks with continuations on both (some network tasks fail), prints each keeper's final
// counts on stdout as
//     COUNTS <keeper> <waiting> <queued> <running> <succeeded> <failed> <cancelled>
// and exits; destroying the server hands the monitor the last counts and a goodbye.
#include <pk/monitorserver.h>
#include <pk/promisekeeper.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QEventLoop>
#include <QtCore/QTimer>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace {
// Bounds the run of a broken test: the test itself gives up well before.
constexpr int kWaitMs = 90000;
constexpr int kImages = 40;
constexpr int kFetches = 30;

void printCounts(const pk::PromiseKeeper &keeper)
{
    const pk::TaskCounts c = keeper.counts();
    std::printf("COUNTS %s %lld %lld %lld %lld %lld %lld\n", qPrintable(keeper.objectName()),
        static_cast<long long>(c.waiting), static_cast<long long>(c.queued),
        static_cast<long long>(c.running), static_cast<long long>(c.succeeded),
        static_cast<long long>(c.failed), static_cast<long long>(c.cancelled));
}
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("pk-record-workload"));
    const QStringList args = QCoreApplication::arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: pk-record-workload NAME\n");
        return 2;
    }
    const QString name = args.at(1);

    pk::PromiseKeeper images(3);
    images.setObjectName(QStringLiteral("images"));
    pk::PromiseKeeper network(2);
    network.setObjectName(QStringLiteral("network"));
    auto server = std::make_unique<pk::MonitorServer>();
    server->addKeeper(&images);
    server->addKeeper(&network);
    if (!server->listen(name)) {
        std::fprintf(stderr, "pk-record-workload: %s\n", qPrintable(server->errorString()));
        return 2;
    }
    std::printf("LISTENING %s\n", qPrintable(name));
    std::fflush(stdout);

    {
        QEventLoop loop;
        QObject::connect(
            server.get(), &pk::MonitorServer::clientCountChanged, &loop, [&loop](int count) {
                if (count > 0)
                    loop.quit();
            });
        QTimer::singleShot(kWaitMs, &loop, &QEventLoop::quit);
        if (server->clientCount() == 0)
            loop.exec();
        if (server->clientCount() == 0) {
            std::fprintf(stderr, "pk-record-workload: no monitor attached\n");
            return 3;
        }
    }

    // Each image is decoded, then scaled by a continuation; every fifth fetch fails, and its
    // continuation with it.
    for (int i = 0; i < kImages; ++i) {
        images
            .submit(pk::TaskOptions { QStringLiteral("decode img-%1").arg(i), 0 },
                [i] { return i * 3; })
            .then([](int v) { return v + 1; });
    }
    for (int i = 0; i < kFetches; ++i) {
        network
            .submit(pk::TaskOptions { QStringLiteral("fetch %1").arg(i), 0 },
                [i] {
                    if (i % 5 == 0)
                        throw std::runtime_error("fetch failed on purpose");
                    return i;
                })
            .then([](int v) { return v * 2; });
    }

    {
        // The events flow through the event loop: run it until both keepers delivered their
        // last change (counts() is exact at once; the server has a change once it is
        // delivered). A keeper that delivered nothing yet has no live task in its delivered
        // counts either: they must equal counts(), not just have none live.
        QEventLoop loop;
        const auto settled = [](const pk::PromiseKeeper &keeper) {
            const pk::TaskCounts now = keeper.counts();
            return now.live() == 0 && keeper.deliveredCounts() == now;
        };
        const auto check = [&] {
            if (settled(images) && settled(network))
                loop.quit();
        };
        QObject::connect(&images, &pk::PromiseKeeper::idle, &loop, check);
        QObject::connect(&network, &pk::PromiseKeeper::idle, &loop, check);
        QTimer::singleShot(kWaitMs, &loop, &QEventLoop::quit);
        loop.exec();
    }
    images.waitForAll();
    network.waitForAll();
    // The last batch goes with the server's destruction, before the goodbye.
    server.reset();
    printCounts(images);
    printCounts(network);
    std::fflush(stdout);
    return 0;
}
