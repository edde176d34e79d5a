// pk-monitor: the PromiseKeeper monitor. Without arguments it runs a demo workload and shows
// it live; the options to attach to another program are wired by the socket feed.
#include "demoworkload.h"
#include "monitorwindow.h"
#include "stallmeter.h"

#include <pk/attachdialog.h>
#include <pk/monitormodel.h>
#include <pk/monitorserver.h>
#include <pk/monitorwidget.h>
#include <pk/promisekeeper.h>
#include <pk/remotefeed.h>
#include <pk/tracewriter.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtGui/QPalette>
#include <QtGui/QPixmap>
#include <QtWidgets/QApplication>
#include <QtWidgets/QTableView>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace {

// For screenshots (--dark): Fusion with a dark palette, as a dark desktop theme gives.
void useDarkPalette()
{
    QApplication::setStyle(QStringLiteral("Fusion"));
    QPalette dark;
    dark.setColor(QPalette::Window, QColor(0x2b, 0x2d, 0x31));
    dark.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::Base, QColor(0x1e, 0x1f, 0x22));
    dark.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2c));
    dark.setColor(QPalette::ToolTipBase, QColor(0x3a, 0x3d, 0x42));
    dark.setColor(QPalette::ToolTipText, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9e, 0xa6));
    dark.setColor(QPalette::Text, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::Button, QColor(0x35, 0x38, 0x3d));
    dark.setColor(QPalette::ButtonText, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::BrightText, Qt::white);
    dark.setColor(QPalette::Light, QColor(0x4a, 0x4d, 0x53));
    dark.setColor(QPalette::Midlight, QColor(0x40, 0x43, 0x48));
    dark.setColor(QPalette::Mid, QColor(0x5a, 0x5e, 0x66));
    dark.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1b));
    dark.setColor(QPalette::Shadow, Qt::black);
    dark.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xc0));
    dark.setColor(QPalette::HighlightedText, Qt::white);
    dark.setColor(QPalette::Link, QColor(0x6c, 0xb0, 0xff));
    dark.setColor(QPalette::LinkVisited, QColor(0xb3, 0x9d, 0xf0));
    for (const auto role : { QPalette::WindowText, QPalette::Text, QPalette::ButtonText })
        dark.setColor(QPalette::Disabled, role, QColor(0x80, 0x84, 0x8a));
    QApplication::setPalette(dark);
}

// "1024x640" for --size; an invalid size if it is not one.
QSize parseSize(const QString &text)
{
    const QStringList parts = text.split(QLatin1Char('x'));
    bool okWidth = false;
    bool okHeight = false;
    const int width = parts.size() == 2 ? parts.at(0).toInt(&okWidth) : 0;
    const int height = parts.size() == 2 ? parts.at(1).toInt(&okHeight) : 0;
    if (!okWidth || !okHeight || width < 200 || height < 200 || width > 10000 || height > 10000)
        return QSize();
    return QSize(width, height);
}

void printLine(const QString &line)
{
    std::fprintf(stdout, "%s\n", qPrintable(line));
    std::fflush(stdout);
}

// Whether the command line asks for --record: then no widget is made, and the application
// is a QCoreApplication, which needs no display.
bool wantsRecording(int argc, char *argv[])
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg == "--") // what follows is not an option
            return false;
        if (arg == "--record" || arg.startsWith("--record="))
            return true;
    }
    return false;
}

/*
    Records one TaskInfo received from the feed. TraceWriter::record() wants each task's states
    in order, as if it had seen the events: a task first seen past Queued or Running gets those
    steps first (from its own timestamps), the way the widget's trace export does.
*/
void recordReceived(
    pk::TraceWriter &writer, QHash<quint64, pk::TaskState> &recorded, const pk::TaskInfo &info)
{
    using pk::TaskState;
    if (!info.isValid())
        return;
    const auto found = recorded.constFind(info.id());
    const bool known = found != recorded.cend();
    const TaskState before = known ? *found : TaskState::Waiting;
    const TaskState state = info.state();
    if (known && (before == state || pk::isFinal(before)))
        return; // a snapshot after a reconnect repeats what was recorded
    if (known && state < before)
        return; // never backwards: the wire is checked, but its order is the program's
    if (state > TaskState::Queued && before < TaskState::Queued && info.queuedAtNsecs() != 0) {
        pk::TaskInfo then = info;
        then.setState(TaskState::Queued);
        then.setStartedAtNsecs(0);
        then.setFinishedAtNsecs(0);
        then.setWorkerIndex(-1);
        then.setErrorString(QString());
        writer.record(then);
    }
    if (pk::isFinal(state) && before < TaskState::Running && info.startedAtNsecs() != 0) {
        pk::TaskInfo then = info;
        then.setState(TaskState::Running);
        then.setFinishedAtNsecs(0);
        then.setErrorString(QString());
        writer.record(then);
    }
    writer.record(info);
    recorded.insert(info.id(), state);
}

// The program \a name did not answer: says on stderr what one could attach to instead.
void reportWaiting(const QString &name, const QList<pk::MonitorServerInfo> &available)
{
    QList<pk::MonitorServerInfo> others;
    for (const pk::MonitorServerInfo &info : available) {
        if (info.name != name)
            others << info;
    }
    if (available.isEmpty()) {
        std::fprintf(stderr,
            "pk-monitor: no program runs a pk::MonitorServer now; waiting for '%s'\n",
            qPrintable(name));
        return;
    }
    if (others.size() < available.size())
        return; // it runs: the feed's message said why it did not take the monitor
    std::fprintf(stderr,
        "pk-monitor: no program publishes '%s'; waiting for it. Programs to attach to now:\n",
        qPrintable(name));
    for (const pk::MonitorServerInfo &info : std::as_const(others))
        std::fprintf(
            stderr, "pk-monitor:   %s\n", qPrintable(pk::AttachDialog::describeServer(info)));
}

/*
    The terminal hears what the window says about attaching: why it is not attached (a name
    that cannot work, another user's server, a program with all the monitors it takes; the
    feed announces each failure once, not at every retry), what one could attach to instead,
    and when it attached. With \a quitWhenDetached, the program going away once attached ends
    pk-monitor (a failed first attempt is not a detach).
*/
void reportAttaching(MonitorWindow &window, bool quitWhenDetached)
{
    QObject::connect(&window, &MonitorWindow::connectionChanged, &window,
        [quitWhenDetached, attached = false](bool connected, const QString &message) mutable {
            std::fprintf(stderr, "pk-monitor: %s\n", qPrintable(message));
            if (connected)
                attached = true;
            else if (attached && quitWhenDetached)
                QCoreApplication::quit();
        });
    QObject::connect(&window, &MonitorWindow::waiting, &window, &reportWaiting);
}

} // namespace

/*
    pk-monitor --attach NAME --record FILE [--duration SECONDS]: no window. Attaches (retrying
    until the duration ends), records every TaskInfo received into a Chrome trace, and writes it
    when the duration ends or the program goes away. Returns 0 if it attached and wrote FILE.
*/
int recordTrace(const QString &name, const QString &file, int durationMs)
{
    pk::RemoteFeed feed;
    pk::TraceWriter writer;
    QHash<quint64, pk::TaskState> recorded;
    bool attached = false;
    bool listed = false; // what runs instead of the program, said once
    quint64 droppedDetail = 0;
    const auto recordAll = [&](const QList<pk::TaskInfo> &tasks) {
        for (const pk::TaskInfo &info : tasks)
            recordReceived(writer, recorded, info);
    };
    // Each keeper's workers get a track, the idle ones too.
    const auto recordKeepers = [&] {
        for (const pk::KeeperStatus &keeper : feed.keepers())
            writer.setKeeperThreadCount(keeper.name, keeper.threadCount);
    };
    QObject::connect(&feed, &pk::MonitorFeed::snapshot, &feed,
        [&](const QList<pk::TaskInfo> &live, const QList<pk::TaskInfo> &recent, int threads) {
            recordAll(recent); // they finished before the live ones changed last
            recordAll(live);
            writer.setThreadCount(threads);
            recordKeepers();
        });
    QObject::connect(&feed, &pk::MonitorFeed::updated, &feed,
        [&](const QList<pk::TaskInfo> &changes, const pk::TaskCounts &, int threads,
            quint64 dropped) {
            recordAll(changes);
            writer.setThreadCount(threads);
            recordKeepers();
            droppedDetail += dropped;
        });
    QObject::connect(&feed, &pk::MonitorFeed::connectionChanged, &feed,
        [&](bool connected, const QString &message) {
            if (connected) {
                attached = true;
                // The trace is named after the watched program, not after pk-monitor.
                writer.setProcessName(feed.programName());
                writer.setProcessId(feed.programPid());
                printLine(QStringLiteral("pk-monitor: recording %1 (pid %2) into %3")
                              .arg(feed.programName())
                              .arg(feed.programPid())
                              .arg(file));
                return;
            }
            std::fprintf(stderr, "pk-monitor: %s\n", qPrintable(message));
            if (attached) {
                QCoreApplication::quit(); // the program went away: the recording is complete
            } else if (!listed && feed.isWaiting()) {
                listed = true;
                reportWaiting(name, pk::MonitorServer::availableServers());
            }
        });
    if (durationMs > 0)
        QTimer::singleShot(durationMs, &feed, &QCoreApplication::quit);
    feed.connectToServer(name);
    QCoreApplication::exec();

    if (!attached) {
        std::fprintf(
            stderr, "pk-monitor: never attached to %s; nothing recorded\n", qPrintable(name));
        return 1;
    }
    if (!writer.save(file)) {
        std::fprintf(stderr, "pk-monitor: cannot write %s: %s\n", qPrintable(file),
            qPrintable(writer.errorString()));
        return 1;
    }
    printLine(QStringLiteral("pk-monitor: wrote %1 tasks of %2 to %3 (%4 not received in detail)")
                  .arg(writer.taskCount())
                  .arg(name, file)
                  .arg(droppedDetail + writer.droppedTaskCount()));
    return 0;
}

// pk-monitor --list: the programs on this machine with a MonitorServer, one per line.
int listServers()
{
    const QList<pk::MonitorServerInfo> servers = pk::MonitorServer::availableServers();
    if (servers.isEmpty()) {
        printLine(QStringLiteral("No program to attach to (none runs a pk::MonitorServer)."));
        return 0;
    }
    for (const pk::MonitorServerInfo &info : servers) {
        printLine(QStringLiteral("%1\tpid %2\t%3\tsince %4\tkeepers: %5")
                      .arg(info.name)
                      .arg(info.pid)
                      .arg(info.program, info.started.toString(Qt::ISODate),
                          info.keepers.join(QStringLiteral(", "))));
    }
    return 0;
}

int main(int argc, char *argv[])
{
    // The demo's process-isolated tasks run in children started from this executable.
    if (pk::ProcessWorker::isRequested(argc, argv))
        return pk::ProcessWorker::exec(argc, argv);
    // Recording needs no display: no QApplication (and no widget) is made for it.
    const std::unique_ptr<QCoreApplication> application = wantsRecording(argc, argv)
        ? std::make_unique<QCoreApplication>(argc, argv)
        : std::make_unique<QApplication>(argc, argv);
    QCoreApplication &app = *application;
    QApplication::setApplicationName(QStringLiteral("pk-monitor"));
    QApplication::setApplicationVersion(QStringLiteral("0.1"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The PromiseKeeper monitor: shows the tasks of a keeper live.\n"
                       "Without options it runs a built-in demo workload and shows it. In the "
                       "window, File → Attach… picks a program to attach to and File → Open "
                       "trace… opens a recording, whatever it showed before."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption demoSeconds(QStringLiteral("demo-seconds"),
        QStringLiteral("Quit after <seconds> (for scripts)."), QStringLiteral("seconds"));
    const QCommandLineOption threads(QStringLiteral("threads"),
        QStringLiteral("Worker threads of the demo's \"images\" keeper "
                       "(default 4; \"network\" has 2)."),
        QStringLiteral("count"), QStringLiteral("4"));
    const QCommandLineOption attach(QStringLiteral("attach"),
        QStringLiteral("Attach to the running program that publishes its keepers as <name> "
                       "(see --list). If none does yet, say which programs do (on stderr and "
                       "in the window) and wait for it: it attaches as soon as it appears."),
        QStringLiteral("name"));
    const QCommandLineOption record(QStringLiteral("record"),
        QStringLiteral("With --attach: show no window, record what the program does into a "
                       "Chrome trace <file> (for Perfetto, chrome://tracing, pk-monitor "
                       "--open) and quit when --duration ends or the program goes away. Exits "
                       "with 1 if it never attached or cannot write the file."),
        QStringLiteral("file"));
    const QCommandLineOption duration(QStringLiteral("duration"),
        QStringLiteral("With --record: stop recording after <seconds> (default: when the "
                       "program goes away)."),
        QStringLiteral("seconds"));
    const QCommandLineOption list(
        QStringLiteral("list"), QStringLiteral("List the programs one can attach to."));
    const QCommandLineOption open(QStringLiteral("open"),
        QStringLiteral("Open a trace recorded by a program."), QStringLiteral("file"));
    // Hidden: for scripts and measurements.
    QCommandLineOption screenshot(QStringLiteral("screenshot"),
        QStringLiteral("Save a screenshot of the window to <file>, "
                       "then quit."),
        QStringLiteral("file"));
    screenshot.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption screenshotAfter(QStringLiteral("screenshot-after"),
        QStringLiteral("When to take the screenshot (default "
                       "4000)."),
        QStringLiteral("ms"), QStringLiteral("4000"));
    screenshotAfter.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption stress(QStringLiteral("stress"),
        QStringLiteral("Instead of the demo, submit <count> no-op tasks "
                       "at once (from another thread)."),
        QStringLiteral("count"));
    stress.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption reportStalls(QStringLiteral("report-stalls"),
        QStringLiteral("Print the longest GUI stall when quitting."));
    reportStalls.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption quitWhenDetached(QStringLiteral("quit-when-detached"),
        QStringLiteral("With --attach: quit when the program, once attached, goes away."));
    quitWhenDetached.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption dark(
        QStringLiteral("dark"), QStringLiteral("Show the window with a dark Fusion palette."));
    dark.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption size(QStringLiteral("size"),
        QStringLiteral("The window's size (default 1400x900)."), QStringLiteral("WxH"),
        QStringLiteral("1400x900"));
    size.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOptions({ demoSeconds, threads, attach, record, duration, list, open, screenshot,
        screenshotAfter, stress, reportStalls, quitWhenDetached, dark, size });
    parser.process(app);

    if (parser.isSet(record)) {
        if (!parser.isSet(attach)) {
            std::fprintf(stderr, "pk-monitor: --record needs --attach NAME\n");
            return 2;
        }
        int durationMs = 0;
        if (parser.isSet(duration)) {
            bool valid = false;
            const double seconds = parser.value(duration).toDouble(&valid);
            if (!valid || seconds <= 0 || seconds > 24 * 3600 * 24) {
                std::fprintf(stderr, "pk-monitor: --duration needs a positive number\n");
                return 2;
            }
            durationMs = int(seconds * 1000);
        }
        return recordTrace(parser.value(attach), parser.value(record), durationMs);
    }
    // Past here the application is a QApplication (wantsRecording() was false).
    Q_ASSERT(qobject_cast<QApplication *>(&app));
    const QSize windowSize = parseSize(parser.value(size));
    if (!windowSize.isValid()) {
        std::fprintf(stderr, "pk-monitor: --size needs WIDTHxHEIGHT, e.g. 1024x640\n");
        return 2;
    }
    if (parser.isSet(dark))
        useDarkPalette();

    // The measurements start once the window is up (its first paint loads fonts and is slow
    // whatever the monitor does). The line printed then tells a script (pk-bench) that the
    // work it wants measured may begin.
    constexpr int kWarmUpMs = 500;
    StallMeter *stalls = nullptr;
    const auto measureStallsAfterWarmUp = [&] {
        if (!parser.isSet(reportStalls))
            return;
        QTimer::singleShot(kWarmUpMs, &app, [&stalls, &app] {
            stalls = new StallMeter(&app);
            printLine(QStringLiteral("pk-monitor: measuring GUI stalls"));
        });
    };

    if (parser.isSet(list))
        return listServers();
    if (parser.isSet(attach) || parser.isSet(open)) {
        // Another program's keepers, live over the local socket, or a saved trace offline.
        MonitorWindow window;
        reportAttaching(window, parser.isSet(quitWhenDetached));
        if (parser.isSet(attach)) {
            window.attachTo(parser.value(attach));
        } else {
            const QString path = parser.value(open);
            QString why;
            if (!window.openTrace(path, &why)) {
                std::fprintf(
                    stderr, "pk-monitor: cannot open %s: %s\n", qPrintable(path), qPrintable(why));
                return 1;
            }
        }
        window.resize(windowSize);
        window.show();
        if (parser.isSet(screenshot)) {
            const QString file = parser.value(screenshot);
            QTimer::singleShot(parser.value(screenshotAfter).toInt(), &app, [&window, file] {
                window.grab().save(file);
                QCoreApplication::quit();
            });
        }
        measureStallsAfterWarmUp();
        const int status = app.exec();
        if (stalls)
            printLine(stalls->report());
        return status;
    }

    bool ok = true;
    const int threadCount = parser.value(threads).toInt(&ok);
    if (!ok || threadCount < 1) {
        std::fprintf(stderr, "pk-monitor: --threads needs a positive number\n");
        return 2;
    }
    int quitAfterMs = -1;
    if (parser.isSet(demoSeconds)) {
        const double seconds = parser.value(demoSeconds).toDouble(&ok);
        if (!ok || seconds <= 0) {
            std::fprintf(stderr, "pk-monitor: --demo-seconds needs a positive number\n");
            return 2;
        }
        quitAfterMs = int(seconds * 1000);
    }
    qint64 stressCount = 0;
    if (parser.isSet(stress)) {
        stressCount = parser.value(stress).toLongLong(&ok);
        if (!ok || stressCount < 1) {
            std::fprintf(stderr, "pk-monitor: --stress needs a positive number\n");
            return 2;
        }
    }

    // The keeper first: the window (and its feed) goes before it.
    // The demo is a program with two keepers, "images" and "network", as the monitor shows
    // them: apart. A stress run floods one.
    pk::PromiseKeeper keeper(threadCount);
    keeper.setObjectName(stressCount > 0 ? QStringLiteral("stress") : QStringLiteral("images"));
    pk::PromiseKeeper network(2);
    network.setObjectName(QStringLiteral("network"));

    MonitorWindow window;
    window.setWindowTitle(stressCount > 0
            ? QStringLiteral("PromiseKeeper monitor — %1 no-op tasks").arg(stressCount)
            : QStringLiteral("PromiseKeeper monitor — demo workload"));
    pk::MonitorWidget *monitor = window.monitor();
    monitor->setKeeper(&keeper);
    if (stressCount == 0)
        monitor->addKeeper(&network);
    reportAttaching(window, false);
    window.resize(windowSize);
    window.show();

    measureStallsAfterWarmUp();

    DemoWorkload demo(&keeper, &network);
    // Attached to a program or showing a trace instead, the window no longer shows the demo:
    // its work stops (the keepers stay, idle, until pk-monitor quits).
    QObject::connect(&window, &MonitorWindow::sourceChanged, &demo, &DemoWorkload::stop);
    std::unique_ptr<QThread> submitter;
    if (stressCount > 0) {
        auto started = std::make_shared<QElapsedTimer>();
        submitter.reset(QThread::create([&keeper, stressCount] {
            for (qint64 i = 0; i < stressCount; ++i)
                keeper.submit([] {});
        }));
        QObject::connect(&keeper, &pk::PromiseKeeper::countsChanged, &app,
            [&keeper, started, stressCount, done = false]() mutable {
                if (done || keeper.counts().finished() < stressCount)
                    return;
                done = true;
                printLine(QStringLiteral("pk-monitor: %1 tasks finished after %2 ms")
                              .arg(stressCount)
                              .arg(started->elapsed()));
            });
        QTimer::singleShot(kWarmUpMs + 100, &app, [&submitter, started] {
            started->start();
            submitter->start();
        });
    } else {
        demo.start();
    }

    if (quitAfterMs > 0)
        QTimer::singleShot(quitAfterMs, &app, &QCoreApplication::quit);
    if (parser.isSet(screenshot)) {
        const QString file = parser.value(screenshot);
        const int after = parser.value(screenshotAfter).toInt();
        // For the picture: the details of a recent failure, in view; a crashed child process
        // if there is one.
        QTimer::singleShot(std::max(after - 800, 0), monitor, [monitor] {
            const pk::MonitorModel *model = monitor->model();
            int chosen = -1;
            for (int row = model->rowCount() - 1; row >= 0; --row) {
                const pk::TaskInfo info = model->taskAt(row);
                if (info.state() != pk::TaskState::Failed)
                    continue;
                if (chosen < 0)
                    chosen = row;
                if (info.processId() != 0) {
                    chosen = row;
                    break;
                }
            }
            if (chosen >= 0) {
                monitor->setFollowing(false);
                monitor->selectTask(model->taskAt(chosen).id());
                monitor->tableView()->scrollTo(
                    monitor->tableView()->currentIndex(), QAbstractItemView::PositionAtCenter);
            }
        });
        QTimer::singleShot(after, &window, [&window, file] {
            if (!window.grab().save(file)) {
                std::fprintf(stderr, "pk-monitor: could not save %s\n", qPrintable(file));
                QCoreApplication::exit(1);
                return;
            }
            printLine(QStringLiteral("pk-monitor: saved %1").arg(file));
            QCoreApplication::quit();
        });
    }

    const int status = app.exec();
    demo.stop();
    if (submitter)
        submitter->wait();
    if (stalls)
        printLine(stalls->report());
    return status;
}
