// pk-e2e-workload NAME [TASKS]: a program that publishes its keeper with pk::MonitorServer, for
// tst_attach_e2e. It waits for a monitor to attach, runs a workload in which some tasks fail and
// some are cancelled, prints its own final counts on stdout as
//     COUNTS <waiting> <queued> <running> <succeeded> <failed> <cancelled>
// and exits; destroying the server hands the monitor the last counts and a goodbye.
#include <pk/monitorserver.h>
#include <pk/promisekeeper.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QEventLoop>
#include <QtCore/QTimer>

#include <cstdio>
#include <stdexcept>

namespace {
// Bounds the run of a broken test: the test itself gives up well before.
constexpr int kWaitMs = 90000;
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("pk-e2e-workload"));
    const QStringList args = QCoreApplication::arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: pk-e2e-workload NAME [TASKS]\n");
        return 2;
    }
    const QString name = args.at(1);
    const int taskCount = args.size() > 2 ? args.at(2).toInt() : 20000;

    pk::PromiseKeeper keeper(4);
    pk::MonitorServer server;
    server.addKeeper(&keeper, QStringLiteral("workload"));
    if (!server.listen(name)) {
        std::fprintf(stderr, "pk-e2e-workload: %s\n", qPrintable(server.errorString()));
        return 2;
    }
    std::printf("LISTENING %s\n", qPrintable(name));
    std::fflush(stdout);

    {
        QEventLoop loop;
        QObject::connect(
            &server, &pk::MonitorServer::clientCountChanged, &loop, [&loop](int count) {
                if (count > 0)
                    loop.quit();
            });
        QTimer::singleShot(kWaitMs, &loop, &QEventLoop::quit);
        if (server.clientCount() == 0)
            loop.exec();
        if (server.clientCount() == 0) {
            std::fprintf(stderr, "pk-e2e-workload: no monitor attached\n");
            return 3;
        }
    }

    // Some tasks are cancelled before they run: queue them with no worker, cancel them.
    keeper.setThreadCount(0);
    for (int i = 0; i < 100; ++i)
        keeper.submit(pk::TaskOptions { QStringLiteral("cancelled %1").arg(i), 0 }, [] {});
    keeper.cancelAll();
    keeper.setThreadCount(4);

    // The rest run; every tenth fails.
    for (int i = 0; i < taskCount; ++i) {
        keeper.submit(pk::TaskOptions { QStringLiteral("item %1").arg(i), i % 3 }, [i] {
            if (i % 10 == 0)
                throw std::runtime_error("item failed on purpose");
            return i * 2;
        });
    }

    {
        // The keeper's event stream (and so the monitor's detail) flows through the event loop:
        // run it until the keeper says it is idle. That comes after the last task's events were
        // delivered, even if the work itself is already done.
        QEventLoop loop;
        QObject::connect(&keeper, &pk::PromiseKeeper::idle, &loop, &QEventLoop::quit);
        QTimer::singleShot(kWaitMs, &loop, &QEventLoop::quit);
        loop.exec();
    }
    keeper.waitForAll();

    const pk::TaskCounts c = keeper.counts();
    std::printf("COUNTS %lld %lld %lld %lld %lld %lld\n", static_cast<long long>(c.waiting),
        static_cast<long long>(c.queued), static_cast<long long>(c.running),
        static_cast<long long>(c.succeeded), static_cast<long long>(c.failed),
        static_cast<long long>(c.cancelled));
    std::fflush(stdout);
    return 0;
}
