// watched: a program that shows its own keepers in a pk::MonitorWidget and publishes them with a
// pk::MonitorServer for pk-monitor --attach, and checks that both see its tasks.
//
// Two keepers, "images" (3 threads) and "network" (2), run jobs with continuations. The window
// shows them live; a pk::RemoteFeed in the same process attaches to the server as pk-monitor
// would. Ends with "watched: all checks passed" (exit 0) or the failed checks (exit 1).
//
// Usage: watched [--fast] [--serve SECONDS] [--name NAME]
//   --fast           run one batch, check, exit (CI; scripts/check-install)
//   --serve SECONDS  keep running batches for SECONDS before checking, so that
//                    `pk-monitor --attach NAME` can watch (default name "watched")
#include "examplecheck.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QElapsedTimer>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtWidgets/QApplication>

#include <PromiseKeeperMonitor>
#include <stdexcept>

using namespace example;

namespace {

constexpr int kJobsPerBatch = 40;

// One batch: decodes on "images" continued by a scale step, fetches on "network", a few of
// which fail. Returns how many tasks it submitted, continuations included.
int submitBatch(pk::PromiseKeeper &images, pk::PromiseKeeper &network, int batch, bool fast)
{
    const int workMs = fast ? 0 : 20;
    int tasks = 0;
    for (int i = 0; i < kJobsPerBatch; ++i) {
        const QString name = QStringLiteral("img-%1-%2").arg(batch).arg(i, 3, 10, QLatin1Char('0'));
        auto decoded = images.submit(
            pk::TaskOptions { QStringLiteral("decode ") + name, 0 },
            [workMs](int n) {
                QThread::msleep(workMs);
                return n * 2;
            },
            i);
        decoded.then([](int v) { return v + 1; });
        auto fetched = network.submit(
            pk::TaskOptions { QStringLiteral("fetch ") + name, 0 },
            [workMs](int n) {
                QThread::msleep(workMs);
                if (n % 10 == 9)
                    throw std::runtime_error("connection reset");
                return n;
            },
            i);
        fetched.onFailed(&images, [] { return -1; });
        tasks += 4;
    }
    return tasks;
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOption({ QStringLiteral("fast"), QStringLiteral("One batch, check, exit.") });
    parser.addOption({ QStringLiteral("serve"), QStringLiteral("Keep running for SECONDS."),
        QStringLiteral("SECONDS"), QStringLiteral("0") });
    parser.addOption({ QStringLiteral("name"), QStringLiteral("The name to attach to."),
        QStringLiteral("NAME"), QStringLiteral("watched") });
    parser.process(app);
    const bool fast = parser.isSet(QStringLiteral("fast"));
    const int serveSeconds = parser.value(QStringLiteral("serve")).toInt();
    // Under --fast a name of its own, so that parallel runs do not collide.
    const QString name = fast && !parser.isSet(QStringLiteral("name"))
        ? QStringLiteral("watched-%1").arg(QCoreApplication::applicationPid())
        : parser.value(QStringLiteral("name"));

    pk::PromiseKeeper images(3);
    images.setObjectName(QStringLiteral("images"));
    pk::PromiseKeeper network(2);
    network.setObjectName(QStringLiteral("network"));

    pk::MonitorServer server;
    server.addKeeper(&images);
    server.addKeeper(&network);
    if (!server.listen(name)) {
        print(QStringLiteral("FAIL: cannot listen as %1: %2").arg(name, server.errorString()));
        return 1;
    }
    print(QStringLiteral("publishing keepers %1 as '%2'")
              .arg(server.keeperLabels().join(QStringLiteral(", ")), name));

    pk::MonitorWidget monitor(&images);
    monitor.resize(1200, 800);
    monitor.show();

    // What pk-monitor --attach would see.
    pk::RemoteFeed feed;
    pk::TaskCounts attachedCounts;
    QObject::connect(&feed, &pk::MonitorFeed::updated, &app,
        [&](const QList<pk::TaskInfo> &, const pk::TaskCounts &counts) {
            attachedCounts = counts;
        });
    feed.connectToServer(name);

    int submitted = 0;
    int batch = 0;
    QElapsedTimer serving;
    serving.start();
    submitted += submitBatch(images, network, batch++, fast);
    QTimer batches;
    QObject::connect(&batches, &QTimer::timeout, &app, [&] {
        if (serving.elapsed() < serveSeconds * 1000)
            submitted += submitBatch(images, network, batch++, fast);
    });
    batches.start(1000);

    // Done when the keepers are idle after the serving time, and the attached feed has the
    // final counts.
    const auto finished = [&] {
        const pk::TaskCounts a = images.counts();
        const pk::TaskCounts b = network.counts();
        return serving.elapsed() >= serveSeconds * 1000 && a.live() == 0 && b.live() == 0
            && attachedCounts.finished() == a.finished() + b.finished();
    };
    QElapsedTimer deadline;
    deadline.start();
    const qint64 limitMs = qint64(serveSeconds) * 1000 + 30000;
    while (!finished() && deadline.elapsed() < limitMs)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);

    const pk::TaskCounts a = images.counts();
    const pk::TaskCounts b = network.counts();
    show("tasks finished on both keepers", QString::number(a.finished() + b.finished()),
        QString::number(submitted));
    show("feed.keeperLabels()", feed.keeperLabels().join(QStringLiteral(", ")),
        QStringLiteral("images, network"));
    show("finished tasks the attached feed counted", QString::number(attachedCounts.finished()),
        QString::number(submitted));
    show("failed tasks (one fetch in ten)", QString::number(b.failed), QString::number(batch * 4));
    return finish("watched");
}
