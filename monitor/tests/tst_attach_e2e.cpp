// End to end: a separate program (pk-e2e-workload) publishes its keeper with pk::MonitorServer;
// this test attaches with pk::RemoteFeed, watches the whole workload, and checks that what it
// saw ends with the program's own final counts. And pk-monitor --attach with a name no program
// publishes yet: it says what runs instead, waits, and attaches when the program appears.
#include "pktest.h"

#include <pk/monitorserver.h>
#include <pk/promisekeeper.h>
#include <pk/remotefeed.h>

#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtCore/QProcess>
#include <QtCore/QProcessEnvironment>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using pk::TaskCounts;
using pk::TaskInfo;

namespace QTest {
template<>
char *toString(const pk::TaskCounts &c)
{
    return qstrdup(
        QStringLiteral("waiting %1 queued %2 running %3 succeeded %4 failed %5 cancelled %6")
            .arg(c.waiting)
            .arg(c.queued)
            .arg(c.running)
            .arg(c.succeeded)
            .arg(c.failed)
            .arg(c.cancelled)
            .toUtf8()
            .constData());
}
} // namespace QTest

namespace {
// Starting a program and running 20,000 tasks under the sanitizers takes a while.
constexpr int kProgramTimeoutMs = 90000;
constexpr int kTasks = 20000;
} // namespace

class tst_AttachE2E : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void attachToAProgram();
    void waitForAnUnknownName_data();
    void waitForAnUnknownName();

private:
    QTemporaryDir m_runtime;
};

void tst_AttachE2E::initTestCase()
{
    QVERIFY(m_runtime.isValid());
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(m_runtime.path()));
    QVERIFY2(QFile::exists(QStringLiteral(PK_E2E_WORKLOAD)), PK_E2E_WORKLOAD);
    QVERIFY2(QFile::exists(QStringLiteral(PK_MONITOR)), PK_MONITOR);
}

void tst_AttachE2E::attachToAProgram()
{
    const QString name = QStringLiteral("pk-tst-e2e-%1").arg(QCoreApplication::applicationPid());

    pk::RemoteFeed feed;
    QStringList sequence;
    QStringList messages;
    QHash<quint64, TaskInfo> tasks;
    quint64 dropped = 0;
    int snapshots = 0;
    connect(
        &feed, &pk::MonitorFeed::connectionChanged, this, [&](bool connected, const QString &m) {
            sequence.append(
                connected ? QStringLiteral("connected") : QStringLiteral("disconnected"));
            messages.append(m);
        });
    connect(&feed, &pk::MonitorFeed::snapshot, this,
        [&](const QList<TaskInfo> &live, const QList<TaskInfo> &recent, int) {
            sequence.append(QStringLiteral("snapshot"));
            ++snapshots;
            for (const TaskInfo &t : live + recent)
                tasks.insert(t.id(), t);
        });
    connect(&feed, &pk::MonitorFeed::updated, this,
        [&](const QList<TaskInfo> &changes, const TaskCounts &, int, quint64 d) {
            for (const TaskInfo &t : changes)
                tasks.insert(t.id(), t);
            dropped += d;
        });

    // The feed attaches as soon as the program listens (it retries every second until then);
    // the program starts its work once a monitor is attached.
    QProcess program;
    program.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    QSignalSpy finished(&program, &QProcess::finished);
    program.start(QStringLiteral(PK_E2E_WORKLOAD), { name, QString::number(kTasks) });
    QVERIFY2(program.waitForStarted(pktest::kTimeoutMs), qPrintable(program.errorString()));
    auto stop = qScopeGuard([&program] {
        if (program.state() != QProcess::NotRunning) {
            program.kill();
            program.waitForFinished(pktest::kTimeoutMs);
        }
    });
    feed.connectToServer(name);

    QVERIFY(finished.wait(kProgramTimeoutMs));
    QCOMPARE(program.exitStatus(), QProcess::NormalExit);
    QCOMPARE(program.exitCode(), 0);

    // The program's own final counts.
    const QList<QByteArray> lines = program.readAllStandardOutput().split('\n');
    QList<QByteArray> fields;
    for (const QByteArray &line : lines) {
        if (line.startsWith("COUNTS "))
            fields = line.split(' ');
    }
    QCOMPARE(fields.size(), 7);
    const TaskCounts expected { fields[1].toLongLong(), fields[2].toLongLong(),
        fields[3].toLongLong(), fields[4].toLongLong(), fields[5].toLongLong(),
        fields[6].toLongLong() };
    QCOMPARE(expected.finished(), kTasks + 100);
    QCOMPARE(expected.cancelled, 100);
    QCOMPARE(expected.failed, kTasks / 10);

    // What the monitor saw ends there, and it noticed the program leave.
    QTRY_COMPARE(feed.counts(), expected);
    QTRY_VERIFY(!feed.isConnected());
    QVERIFY(feed.isWaiting()); // for the program to come back
    QCOMPARE(sequence.mid(sequence.indexOf(QStringLiteral("connected")), 2),
        (QStringList { QStringLiteral("connected"), QStringLiteral("snapshot") }));
    QCOMPARE(sequence.last(), QStringLiteral("disconnected"));
    QCOMPARE(messages.last(), QStringLiteral("program went away — waiting for it to come back"));
    QCOMPARE(snapshots, 1);
    QCOMPARE(feed.programName(), QStringLiteral("pk-e2e-workload"));
    QCOMPARE(feed.keeperLabels(), QStringList { QStringLiteral("workload") });

    // Every task was seen in detail, unless the monitor was told it missed some.
    qint64 finals = 0;
    for (const TaskInfo &t : std::as_const(tasks))
        finals += pk::isFinal(t.state()) ? 1 : 0;
    QVERIFY2(finals + qint64(dropped) >= expected.finished(),
        qPrintable(QStringLiteral("%1 finished tasks seen, %2 dropped").arg(finals).arg(dropped)));
    feed.disconnectFromServer();
    QVERIFY(!feed.isWaiting());
    // A name that can never work is not waited for.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("is not a server name")));
    feed.connectToServer(QStringLiteral("relative/name"));
    QVERIFY(!feed.isWaiting());
}

void tst_AttachE2E::waitForAnUnknownName_data()
{
    QTest::addColumn<bool>("another");
    QTest::newRow("another program runs") << true;
    QTest::newRow("no program runs") << false;
}

void tst_AttachE2E::waitForAnUnknownName()
{
    QFETCH(bool, another);
    const QString pid = QString::number(QCoreApplication::applicationPid());
    const QString wanted = QStringLiteral("pk-tst-wanted-%1-%2").arg(pid).arg(int(another));
    const QString otherName = QStringLiteral("pk-tst-other-%1").arg(pid);
    pk::PromiseKeeper keeper(1);
    std::unique_ptr<pk::MonitorServer> other;
    if (another) {
        other = std::make_unique<pk::MonitorServer>();
        other->addKeeper(&keeper, QStringLiteral("images"));
        QVERIFY2(other->listen(otherName), qPrintable(other->errorString()));
    }
    QCOMPARE(pk::MonitorServer::availableServers().size(), another ? 1 : 0);

    QProcess monitor;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    monitor.setProcessEnvironment(env);
    QString err;
    connect(&monitor, &QProcess::readyReadStandardError, this,
        [&] { err += QString::fromLocal8Bit(monitor.readAllStandardError()); });
    QSignalSpy finished(&monitor, &QProcess::finished);
    // Once attached, closing the server ends it: the test sees it exit by itself.
    monitor.start(QStringLiteral(PK_MONITOR),
        { QStringLiteral("--attach"), wanted, QStringLiteral("--quit-when-detached") });
    QVERIFY2(monitor.waitForStarted(pktest::kTimeoutMs), qPrintable(monitor.errorString()));
    auto stop = qScopeGuard([&monitor] {
        if (monitor.state() != QProcess::NotRunning) {
            monitor.kill();
            monitor.waitForFinished(pktest::kTimeoutMs);
        }
    });

    // It says at once what it waits for and what runs instead.
    QTRY_VERIFY2_WITH_TIMEOUT(
        err.contains(QStringLiteral("waiting for the program '%1' to start").arg(wanted)),
        qPrintable(err), kProgramTimeoutMs);
    if (another) {
        QTRY_VERIFY2_WITH_TIMEOUT(
            err.contains(QStringLiteral("no program publishes '%1'").arg(wanted)), qPrintable(err),
            kProgramTimeoutMs);
        const QString listed = QStringLiteral("pk-monitor:   %1 (%2, pid %3, keepers: images)")
                                   .arg(otherName, QCoreApplication::applicationName(), pid);
        QTRY_VERIFY2_WITH_TIMEOUT(err.contains(listed), qPrintable(err), kProgramTimeoutMs);
    } else {
        QTRY_VERIFY2_WITH_TIMEOUT(err.contains(QStringLiteral("no program runs a "
                                                              "pk::MonitorServer now; waiting "
                                                              "for '%1'")
                                                   .arg(wanted)),
            qPrintable(err), kProgramTimeoutMs);
    }
    QCOMPARE(monitor.state(), QProcess::Running);

    // The program appears: pk-monitor attaches by itself.
    pk::MonitorServer server;
    server.addKeeper(&keeper, QStringLiteral("workload"));
    QVERIFY2(server.listen(wanted), qPrintable(server.errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 1, kProgramTimeoutMs);
    const QString attached
        = QStringLiteral("attached to pid %1 (%2)").arg(pid, QCoreApplication::applicationName());
    QTRY_VERIFY2_WITH_TIMEOUT(err.contains(attached), qPrintable(err), kProgramTimeoutMs);
    // Said once, not at every retry.
    QCOMPARE(err.count(QStringLiteral("waiting for the program")), 1);

    server.close();
    QVERIFY(finished.wait(kProgramTimeoutMs));
    QCOMPARE(monitor.exitStatus(), QProcess::NormalExit);
    QCOMPARE(monitor.exitCode(), 0);
}

QTEST_MAIN(tst_AttachE2E)
#include "tst_attach_e2e.moc"
