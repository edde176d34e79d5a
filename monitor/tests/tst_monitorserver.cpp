// pk::MonitorServer and pk::RemoteFeed in one process, over a local socket: snapshots, updates,
// commands, reconnection, slow monitors, handshake timeouts, discovery.
#include "localsocket_p.h"
#include "pktest.h"
#include "protocol_p.h"
#include "taskcoalescer_p.h"

#include <pk/monitorserver.h>
#include <pk/promisekeeper.h>
#include <pk/remotefeed.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QPointer>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QScopeGuard>
#include <QtCore/QSet>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtCore/QtEndian>
#include <QtNetwork/QLocalServer>
#include <QtNetwork/QLocalSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <algorithm>
#include <memory>

#ifdef Q_OS_UNIX
#include <cstring>
#include <fcntl.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#endif

#include <stdexcept>

using pk::MonitorServer;
using pk::PromiseKeeper;
using pk::RemoteFeed;
using pk::TaskCounts;
using pk::TaskInfo;
using pk::TaskState;

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

QString uniqueName()
{
    static int counter = 0;
    return QStringLiteral("pk-tst-server-%1-%2")
        .arg(QCoreApplication::applicationPid())
        .arg(++counter);
}

// Where a server listening as \a name has its socket (the private directory made if needed),
// for servers that are not a MonitorServer and raw connections.
QString socketPathFor(const QString &name)
{
    QString error;
    pk::localsocket::ensureDirectory(&error);
    return pk::localsocket::socketPath(name, &error);
}

// Everything a feed said, in order, and the latest state of each task it heard of.
class FeedLog
{
public:
    explicit FeedLog(pk::MonitorFeed *feed)
    {
        QObject::connect(feed, &pk::MonitorFeed::snapshot, feed,
            [this](const QList<TaskInfo> &live, const QList<TaskInfo> &recent, int threads) {
                sequence.append(QStringLiteral("snapshot"));
                ++snapshots;
                lastLive = live;
                lastRecent = recent;
                threadCount = threads;
                for (const TaskInfo &t : recent)
                    tasks.insert(t.id(), t);
                for (const TaskInfo &t : live)
                    tasks.insert(t.id(), t);
            });
        QObject::connect(feed, &pk::MonitorFeed::updated, feed,
            [this](
                const QList<TaskInfo> &changes, const TaskCounts &c, int threads, quint64 dropped) {
                sequence.append(QStringLiteral("updated"));
                for (const TaskInfo &t : changes)
                    tasks.insert(t.id(), t);
                if (!changes.isEmpty())
                    updates.append(changes);
                counts = c;
                threadCount = threads;
                droppedDetail += dropped;
                if (!changes.isEmpty())
                    ++detailedUpdates;
            });
        QObject::connect(feed, &pk::MonitorFeed::connectionChanged, feed,
            [this](bool connected, const QString &message) {
                sequence.append(
                    connected ? QStringLiteral("connected") : QStringLiteral("disconnected"));
                messages.append(message);
            });
    }

    TaskState stateOf(quint64 id) const { return tasks.value(id).state(); }
    bool knows(quint64 id) const { return tasks.contains(id); }

    QStringList sequence;
    QStringList messages;
    int snapshots = 0;
    int detailedUpdates = 0;
    QList<TaskInfo> lastLive;
    QList<TaskInfo> lastRecent;
    QHash<quint64, TaskInfo> tasks;
    QList<QList<TaskInfo>> updates; // the changes of each update that had some
    TaskCounts counts;
    int threadCount = -1;
    quint64 droppedDetail = 0;
};

QList<quint64> idsOf(const QList<TaskInfo> &tasks)
{
    QList<quint64> ids;
    for (const TaskInfo &t : tasks)
        ids.append(t.id());
    std::sort(ids.begin(), ids.end());
    return ids;
}

const QString kWentAway = QStringLiteral("program went away — waiting for it to come back");

#ifdef Q_OS_UNIX
// The mode bits of \a path (permissions, set-id, sticky), and whether it is \a type (S_IFDIR...).
int modeOf(const QString &path, mode_t type)
{
    struct stat st = {};
    if (::lstat(QFile::encodeName(path).constData(), &st) != 0 || (st.st_mode & S_IFMT) != type)
        return -1;
    return int(st.st_mode & 07777);
}

uid_t ownerOf(const QString &path)
{
    struct stat st = {};
    return ::lstat(QFile::encodeName(path).constData(), &st) == 0 ? st.st_uid : uid_t(-1);
}

/*
    pk-tst-impostor run as the user "nobody" through runuser: a server of another user. Needs
    root, runuser and that user; skip() says which one is missing. The helper ends when its
    standard input closes (with the process object), so no signal has to cross users.
*/
class Impostor
{
public:
    // Why another user cannot be played here, or an empty string.
    static QString unavailable()
    {
        if (::geteuid() != 0)
            return QStringLiteral("needs root, to run a server as another user (runuser)");
        if (QStandardPaths::findExecutable(QStringLiteral("runuser")).isEmpty())
            return QStringLiteral("runuser is not installed");
        if (!::getpwnam("nobody"))
            return QStringLiteral("there is no user 'nobody' to run the other server as");
        return {};
    }

    static uid_t uid() { return ::getpwnam("nobody")->pw_uid; }

    ~Impostor()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.closeWriteChannel();
        if (!m_process.waitForFinished(pktest::kTimeoutMs))
            m_process.kill();
    }

    // Starts it on \a path, to send \a answer to each connection; returns its first line
    // ("LISTENING", "CANNOT-LISTEN ..."), or an empty string with the reason in \a error.
    QByteArray start(const QString &path, const QByteArray &answer, QString *error)
    {
        m_process.start(QStringLiteral("runuser"),
            { QStringLiteral("-u"), QStringLiteral("nobody"), QStringLiteral("--"),
                QStringLiteral(PK_IMPOSTOR), path, QString::fromLatin1(answer.toHex()) });
        if (!m_process.waitForStarted(pktest::kTimeoutMs)) {
            *error = m_process.errorString();
            return {};
        }
        QDeadlineTimer deadline(pktest::kTimeoutMs);
        while (!m_process.canReadLine() && m_process.state() == QProcess::Running
            && !deadline.hasExpired())
            m_process.waitForReadyRead(int(std::max<qint64>(deadline.remainingTime(), 1)));
        if (!m_process.canReadLine()) {
            m_process.waitForFinished(pktest::kTimeoutMs);
            *error = QString::fromLocal8Bit(m_process.readAllStandardError()).trimmed();
            return {};
        }
        return m_process.readLine().trimmed();
    }

    // The connections it accepted so far.
    int connections()
    {
        m_output += m_process.readAllStandardOutput();
        return int(m_output.count("CONNECTION"));
    }

private:
    QProcess m_process;
    QByteArray m_output;
};
#endif

} // namespace

class tst_MonitorServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void snapshotThenUpdates();
    void recentlyFinishedInSnapshot();
    void multipleKeepers();
    void cancelAllFromClient();
    void cancelTaskFromClient();
    void serverRestart();
    void programStartsLater();
    void bigSnapshotIsChunkedAndBounded();
    void stuckClientDoesNotBlock();
    void floodIsCapped();
    void deepQueueComesInBatches();
    void heldBackTasksThatFinishCountAsFinished();
    void lateMonitorSeesHeldBackTasksFinish();
    void handshakeTimeoutSettings();
    void silentConnectionIsClosed_data();
    void silentConnectionIsClosed();
    void floodBeforeHandshakeIsClosed();
    void feedTimesOutOnSilentProgram();
    void keeperDestroyedWhileAttached();
    void discovery();
    void nameInUse();
    void staleSocketIsReplaced();
    void socketAndRegistryArePrivate();
    void badNames();
    void foreignDirectoryIsRefused();
    void otherUserCannotTakeTheName();
    void otherUsersServerIsRefused();
    void tooManyMonitorsAreRefused();
    void stalledMonitorIsCutOff();
    void pendingConnectionsAreCapped();
    void survivesDescriptorExhaustion();
    void badKeepers();
    void liveTasksTable_data();
    void liveTasksTable();

private:
    QTemporaryDir m_runtime;
};

void tst_MonitorServer::initTestCase()
{
    // The servers register in the runtime directory: use a private one.
    QVERIFY(m_runtime.isValid());
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(m_runtime.path()));
    QVERIFY(MonitorServer::registryDirectory().startsWith(m_runtime.path()));
}

void tst_MonitorServer::snapshotThenUpdates()
{
    PromiseKeeper keeper(1);
    pktest::Gate gate;
    const auto unblock = gate.openOnExit();
    auto blocker = keeper.submit(
        pk::TaskOptions { QStringLiteral("blocker"), 0 }, [gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    QList<pk::Promise<int>> queued;
    for (int i = 0; i < 5; ++i)
        queued.append(
            keeper.submit(pk::TaskOptions { QStringLiteral("q%1").arg(i), 0 }, [i] { return i; }));

    MonitorServer server;
    server.addKeeper(&keeper, QStringLiteral("main"));
    const QString name = uniqueName();
    QVERIFY2(server.listen(name), qPrintable(server.errorString()));
    QCOMPARE(server.serverName(), name);

    RemoteFeed feed;
    FeedLog log(&feed);
    QSignalSpy counted(&server, &MonitorServer::clientCountChanged);
    QVERIFY(counted.isValid());
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);
    QCOMPARE(counted.size(), 1);
    QCOMPARE(server.clientCount(), 1);

    // First the connection, then the snapshot, then updates.
    QCOMPARE(log.sequence.at(0), QStringLiteral("connected"));
    QCOMPARE(log.sequence.at(1), QStringLiteral("snapshot"));
    QVERIFY(feed.isConnected());
    QCOMPARE(feed.keeperLabels(), QStringList { QStringLiteral("main") });
    QCOMPARE(feed.programPid(), QCoreApplication::applicationPid());
    QCOMPARE(feed.programName(), QCoreApplication::applicationName());
    QVERIFY(feed.sourceName().contains(QString::number(QCoreApplication::applicationPid())));
    QCOMPARE(log.threadCount, 1);

    // The snapshot holds what runs and what is queued.
    QCOMPARE(log.lastLive.size(), 6);
    QCOMPARE(log.stateOf(blocker.id()), TaskState::Running);
    QCOMPARE(log.tasks.value(blocker.id()).workerIndex(), 0);
    QCOMPARE(log.tasks.value(blocker.id()).title(), QStringLiteral("blocker"));
    for (const auto &p : queued)
        QCOMPARE(log.stateOf(p.id()), TaskState::Queued);
    QCOMPARE(log.lastLive.first().id(), blocker.id()); // running first
    QTRY_COMPARE(feed.counts(), keeper.counts());

    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QTRY_COMPARE(feed.counts().succeeded, 6);
    QTRY_COMPARE(feed.counts(), keeper.counts());
    QTRY_COMPARE(log.stateOf(blocker.id()), TaskState::Succeeded);
    for (const auto &p : queued) {
        QTRY_COMPARE(log.stateOf(p.id()), TaskState::Succeeded);
        TaskInfo expected = p.info();
        expected.setKeeperName(QStringLiteral("main")); // the label, from the Welcome
        QCOMPARE(log.tasks.value(p.id()), expected);
    }
    QVERIFY(log.detailedUpdates > 0);
    QCOMPARE(log.sequence.lastIndexOf(QStringLiteral("snapshot")), 1);
    QCOMPARE(log.droppedDetail, 0u);
}

void tst_MonitorServer::recentlyFinishedInSnapshot()
{
    PromiseKeeper keeper(0);
    QList<pk::Promise<void>> done;
    for (int i = 0; i < 3; ++i)
        done.append(keeper.submit([] {}));
    QCOMPARE(keeper.processPending(), 3);
    auto failed = keeper.submit([] { throw std::runtime_error("nope"); });
    QCOMPARE(keeper.processPending(), 1);
    QList<pk::Promise<void>> pending;
    for (int i = 0; i < 2; ++i)
        pending.append(keeper.submit([] {}));

    MonitorServer server;
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);

    QCOMPARE(idsOf(log.lastLive), (QList<quint64> { pending[0].id(), pending[1].id() }));
    QCOMPARE(idsOf(log.lastRecent),
        (QList<quint64> { done[0].id(), done[1].id(), done[2].id(), failed.id() }));
    QCOMPARE(log.lastRecent.last().id(), failed.id()); // oldest first
    QCOMPARE(log.tasks.value(failed.id()).errorString(), QStringLiteral("nope"));
    QCOMPARE(log.threadCount, 0);
    QCOMPARE(feed.counts(), keeper.counts());

    QCOMPARE(keeper.processPending(), 2);
    QTRY_COMPARE(feed.counts(), keeper.counts());
    QTRY_COMPARE(log.stateOf(pending[1].id()), TaskState::Succeeded);
}

void tst_MonitorServer::multipleKeepers()
{
    PromiseKeeper a(0);
    PromiseKeeper b(0);
    b.setObjectName(QStringLiteral("bee"));
    auto a1 = a.submit([] {});
    auto b1 = b.submit([]() -> int { throw std::runtime_error("no"); });
    auto b2 = b.submit([] {});
    // A continuation: its kind and input go over the wire.
    auto b1then = b1.then([](int v) { return v; });

    MonitorServer server;
    server.addKeeper(&a, QStringLiteral("a"));
    server.addKeeper(&b);
    server.addKeeper(&b, QStringLiteral("twice")); // ignored
    QCOMPARE(server.keeperLabels(), (QStringList { QStringLiteral("a"), QStringLiteral("bee") }));
    const QString name = uniqueName();
    QVERIFY(server.listen(name));

    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);
    QCOMPARE(feed.keeperLabels(), server.keeperLabels());
    QCOMPARE(log.lastLive.size(), 4); // with the continuation, waiting
    QCOMPARE(feed.counts().queued, 3);

    QCOMPARE(feed.programPid(), QCoreApplication::applicationPid());
    QVERIFY(!feed.programName().isEmpty());
    QCOMPARE(log.tasks.value(a1.id()).keeperName(), QStringLiteral("a"));
    QCOMPARE(log.tasks.value(b2.id()).keeperName(), QStringLiteral("bee"));

    a.processPending();
    QTRY_VERIFY(b.processPending() == 0 && b.counts().live() == 0);
    QTRY_COMPARE(feed.counts().finished(), 4);
    QCOMPARE(feed.counts().queued, 0);
    QCOMPARE(feed.counts().failed, b.counts().failed);
    // Keepers apart: each task names its keeper, keepers() has each keeper's exact counts.
    QTRY_COMPARE(feed.keepers().value(1).counts, b.counts());
    const QList<pk::KeeperStatus> keepers = feed.keepers();
    QCOMPARE(keepers.size(), 2);
    QCOMPARE(keepers.at(0).name, QStringLiteral("a"));
    QCOMPARE(keepers.at(1).name, QStringLiteral("bee"));
    QCOMPARE(keepers.at(0).counts, a.counts());
    QCOMPARE(keepers.at(0).counts.succeeded, 1);
    QCOMPARE(keepers.at(1).counts, b.counts());
    QCOMPARE(keepers.at(1).counts.finished(), 3);
    for (const TaskInfo &t : std::as_const(log.tasks))
        QVERIFY2(!t.keeperName().isEmpty(), qPrintable(t.title()));
    QCOMPARE(log.tasks.value(a1.id()).keeperName(), QStringLiteral("a"));
    for (const quint64 id : { b1.id(), b2.id(), b1then.id() })
        QCOMPARE(log.tasks.value(id).keeperName(), QStringLiteral("bee"));
    // The new fields of protocol version 2, as the core has them.
    const TaskInfo failed = log.tasks.value(b1.id());
    QCOMPARE(failed.state(), TaskState::Failed);
    QCOMPARE(failed.errorType(), b1.info().errorType());
    QVERIFY(failed.errorType().contains(QStringLiteral("runtime_error")));
    const TaskInfo then = log.tasks.value(b1then.id());
    QCOMPARE(then.kind(), pk::TaskKind::Continuation);
    QCOMPARE(then.inputIds(), QList<quint64> { b1.id() });
    QCOMPARE(log.tasks.value(a1.id()).kind(), pk::TaskKind::Task);
}

void tst_MonitorServer::cancelAllFromClient()
{
    PromiseKeeper keeper(1);
    pktest::Gate gate;
    const auto unblock = gate.openOnExit();
    auto blocker = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    QList<pk::Promise<void>> queued;
    for (int i = 0; i < 5; ++i)
        queued.append(keeper.submit([] {}));

    MonitorServer server;
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);

    feed.cancelAll();
    QTRY_COMPARE(keeper.cancelledCount(), 5);
    for (const auto &p : queued)
        QCOMPARE(p.state(), TaskState::Cancelled);
    QCOMPARE(blocker.state(), TaskState::Running); // running tasks go on
    QTRY_COMPARE(feed.counts().cancelled, 5);
    for (const auto &p : queued)
        QTRY_COMPARE(log.stateOf(p.id()), TaskState::Cancelled);

    gate.open();
    QTRY_COMPARE(feed.counts().succeeded, 1);
    QTRY_COMPARE(feed.counts(), keeper.counts());
}

void tst_MonitorServer::cancelTaskFromClient()
{
    PromiseKeeper other(0); // task ids are unique across keepers: the server asks each
    PromiseKeeper keeper(0);
    QList<pk::Promise<void>> queued;
    for (int i = 0; i < 3; ++i)
        queued.append(keeper.submit([] {}));

    MonitorServer server;
    server.addKeeper(&other);
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);

    feed.cancelTask(queued[1].id());
    QTRY_COMPARE(queued[1].state(), TaskState::Cancelled);
    QCOMPARE(queued[0].state(), TaskState::Queued);
    QCOMPARE(queued[2].state(), TaskState::Queued);
    QTRY_COMPARE(log.stateOf(queued[1].id()), TaskState::Cancelled);

    feed.cancelTask(987654321); // unknown: nothing happens
    QCOMPARE(keeper.processPending(), 2);
    QTRY_COMPARE(feed.counts().succeeded, 2);
    QCOMPARE(feed.counts().cancelled, 1);
}

void tst_MonitorServer::serverRestart()
{
    PromiseKeeper first(0);
    first.submit([] {});
    auto server = std::make_unique<MonitorServer>();
    server->addKeeper(&first);
    const QString name = uniqueName();
    QVERIFY(server->listen(name));

    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);
    QCOMPARE(log.lastLive.size(), 1);

    // The program goes away...
    server.reset();
    QTRY_VERIFY(!feed.isConnected());
    QCOMPARE(log.sequence.last(), QStringLiteral("disconnected"));
    QCOMPARE(log.messages.last(), kWentAway);

    // ... and comes back (another run of it, with other tasks): the feed starts over.
    PromiseKeeper second(0);
    second.submit([] {});
    second.submit([] {});
    server = std::make_unique<MonitorServer>();
    server->addKeeper(&second);
    QVERIFY(server->listen(name));
    QTRY_COMPARE_WITH_TIMEOUT(log.snapshots, 2, pktest::kTimeoutMs);
    QVERIFY(feed.isConnected());
    QCOMPARE(log.lastLive.size(), 2);
    QCOMPARE(feed.counts(), second.counts());
    const qsizetype reconnected = log.sequence.lastIndexOf(QStringLiteral("connected"));
    QCOMPARE(log.sequence.at(reconnected + 1), QStringLiteral("snapshot"));

    second.processPending();
    QTRY_COMPARE(feed.counts(), second.counts());
}

void tst_MonitorServer::programStartsLater()
{
    const QString name = uniqueName();
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.messages.size(), 1);
    QVERIFY(log.messages.first().contains(name));
    QVERIFY(!feed.isConnected());

    PromiseKeeper keeper(0);
    MonitorServer server;
    server.addKeeper(&keeper);
    QVERIFY(server.listen(name));
    QTRY_COMPARE_WITH_TIMEOUT(log.snapshots, 1, pktest::kTimeoutMs);
    QVERIFY(feed.isConnected());

    feed.disconnectFromServer();
    QVERIFY(!feed.isConnected());
    QTRY_COMPARE(server.clientCount(), 0);
}

void tst_MonitorServer::bigSnapshotIsChunkedAndBounded()
{
    // 30,000 queued tasks with long titles: several megabytes, more than a snapshot carries.
    PromiseKeeper keeper(0);
    const QString padding(100, QLatin1Char('.'));
    for (int i = 0; i < 30000; ++i)
        keeper.submit(
            pk::TaskOptions { QStringLiteral("task %1 %2").arg(i).arg(padding), 0 }, [] {});

    MonitorServer server;
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE_WITH_TIMEOUT(log.snapshots, 1, pktest::kTimeoutMs);

    // Part of it in detail (in order of submission), the rest counted; the counts are exact.
    QVERIFY(log.lastLive.size() > 1000);
    QVERIFY(log.lastLive.size() < 30000);
    QCOMPARE(quint64(log.lastLive.size()) + log.droppedDetail, 30000u);
    QCOMPARE(feed.counts().queued, 30000);
    QVERIFY(server.droppedDetailCount() > 0);

    QCOMPARE(keeper.processPending(), 30000);
    QTRY_COMPARE_WITH_TIMEOUT(feed.counts(), keeper.counts(), pktest::kTimeoutMs);
}

void tst_MonitorServer::stuckClientDoesNotBlock()
{
    PromiseKeeper keeper(2);
    MonitorServer server;
    server.setClientBufferLimit(64 * 1024);
    // Far longer than the test: behind, it is kept (stalledMonitorIsCutOff() tests the limit).
    server.setStalledClientTimeout(60 * 60 * 1000);
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));

    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);

    // A monitor that handshakes, then reads nothing: its socket takes at most 4 KiB from the
    // system, so everything else piles up in the server's send buffer for it.
    QLocalSocket stuck;
    stuck.setReadBufferSize(4096);
    stuck.connectToServer(server.fullServerName());
    QVERIFY(stuck.waitForConnected(pktest::kTimeoutMs));
    stuck.write(pk::protocol::frame(pk::protocol::encode(pk::protocol::Message::hello())));
    QTRY_COMPARE(server.clientCount(), 2);

    const int taskCount = 100000;
    for (int i = 0; i < taskCount; ++i)
        keeper.submit(pk::TaskOptions { QStringLiteral("task %1").arg(i), 0 }, [i] { return i; });
    // The event loop runs meanwhile: the server sends to both monitors as the work goes on.
    QTRY_VERIFY_WITH_TIMEOUT(keeper.isIdle(), 60000);
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(keeper.succeededCount(), taskCount);

    QTRY_COMPARE_WITH_TIMEOUT(feed.counts(), keeper.counts(), pktest::kTimeoutMs);
    QVERIFY(server.droppedDetailCount() > 0); // the stuck one only got counts
    QCOMPARE(server.clientCount(), 2); // but was not cut off

    // It reads again: it catches up with a fresh snapshot and the final counts.
    stuck.setReadBufferSize(0);
    pk::protocol::FrameReader reader;
    bool welcomed = false;
    int snapshotsSeen = 0;
    bool caughtUp = false;
    quint64 droppedForIt = 0;
    const auto readAll = [&] {
        reader.append(stuck.readAll());
        for (;;) {
            QByteArray payload;
            QString error;
            const auto r = reader.next(&payload, &error);
            if (r != pk::protocol::FrameReader::Frame)
                return r == pk::protocol::FrameReader::NeedMore;
            pk::protocol::Message m;
            if (!pk::protocol::decode(payload, &m, &error))
                return false;
            if (m.type == pk::protocol::MessageType::Welcome)
                welcomed = true;
            if (m.type == pk::protocol::MessageType::Snapshot && !m.more)
                ++snapshotsSeen;
            droppedForIt += m.droppedDetail;
            if ((m.type == pk::protocol::MessageType::Snapshot
                    || m.type == pk::protocol::MessageType::Update)
                && !m.keepers.isEmpty())
                caughtUp = snapshotsSeen >= 2 && m.keepers.first().counts == keeper.counts();
        }
    };
    // At least one snapshot after the first: the 100,000 tasks came in one batch, far more
    // than its limit, so it resynchronised.
    QTRY_VERIFY_WITH_TIMEOUT(readAll() && caughtUp, 60000);
    QVERIFY(welcomed);
    QVERIFY(droppedForIt > 0);
    QCOMPARE(server.clientCount(), 2);
}

void tst_MonitorServer::floodIsCapped()
{
    PromiseKeeper keeper(0);
    MonitorServer server;
    QCOMPARE(server.maxFinishedPerUpdate(), 2000);
    server.setMaxFinishedPerUpdate(0);
    QCOMPARE(server.maxFinishedPerUpdate(), 1);
    server.setMaxFinishedPerUpdate(10);
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);

    // Five tasks the monitor has seen queued, then a flood that comes and goes within one
    // update (the keeper's thread does not return to its loop in between).
    QList<pk::Promise<void>> seen;
    for (int i = 0; i < 5; ++i)
        seen << keeper.submit([] {});
    for (const auto &p : std::as_const(seen)) {
        QTRY_VERIFY(log.knows(p.id()));
        QCOMPARE(log.stateOf(p.id()), TaskState::Queued);
    }
    QList<pk::Promise<void>> flood;
    for (int i = 0; i < 50; ++i)
        flood << keeper.submit([] {});
    auto failing = keeper.submit([] { throw std::runtime_error("x"); });
    auto cancelled = keeper.submit([] {});
    cancelled.cancel(); // before the flood ran: the oldest change
    QCOMPARE(keeper.processPending(), 56);
    // The counts may come before the changes (an update between the run and its events).
    QTRY_COMPARE(log.stateOf(failing.id()), TaskState::Failed);
    QTRY_COMPARE(feed.counts(), keeper.counts());

    // The seen ones and the failure always; of the 51 that came and went unseen, the 10 that
    // changed last. The others are counted, and the counts are exact.
    for (const auto &p : std::as_const(seen))
        QCOMPARE(log.stateOf(p.id()), TaskState::Succeeded);
    QCOMPARE(log.stateOf(failing.id()), TaskState::Failed);
    for (qsizetype i = 0; i < flood.size(); ++i)
        QCOMPARE(log.knows(flood.at(i).id()), i >= 40);
    QVERIFY(!log.knows(cancelled.id()));
    QCOMPARE(log.tasks.size(), 5 + 1 + 10);
    QCOMPARE(log.droppedDetail, 41u);
    QCOMPARE(server.droppedDetailCount(), 41u);
    QCOMPARE(feed.counts().succeeded, 55);
    QCOMPARE(feed.counts().cancelled, 1);
    QCOMPARE(feed.counts().failed, 1);
}

void tst_MonitorServer::deepQueueComesInBatches()
{
    PromiseKeeper keeper(0);
    MonitorServer server;
    QCOMPARE(server.maxNewQueuedPerUpdate(), 1000);
    server.setMaxNewQueuedPerUpdate(0);
    QCOMPARE(server.maxNewQueuedPerUpdate(), 1);
    server.setMaxNewQueuedPerUpdate(10);
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);

    QList<pk::Promise<void>> queued;
    for (int i = 0; i < 25; ++i)
        queued << keeper.submit([] {});
    // The counts are exact from the first update; the tasks come ten per update at most, oldest
    // first, each once, and the timer goes on for the held-back ones.
    QTRY_COMPARE(feed.counts().queued, 25);
    QTRY_COMPARE(log.tasks.size(), 25);
    QVERIFY(log.updates.size() >= 3);
    QList<quint64> sent;
    for (const QList<TaskInfo> &changes : std::as_const(log.updates)) {
        QVERIFY(changes.size() <= 10);
        for (const TaskInfo &info : changes) {
            QCOMPARE(info.state(), TaskState::Queued);
            sent << info.id();
        }
    }
    QCOMPARE(sent.size(), 25);
    for (int i = 0; i < 25; ++i)
        QCOMPARE(sent.at(i), queued.at(i).id());
    QCOMPARE(log.droppedDetail, 0u);

    QCOMPARE(keeper.processPending(), 25);
    QTRY_COMPARE(feed.counts(), keeper.counts());
    for (const auto &p : std::as_const(queued))
        QTRY_COMPARE(log.stateOf(p.id()), TaskState::Succeeded);
}

void tst_MonitorServer::heldBackTasksThatFinishCountAsFinished()
{
    PromiseKeeper keeper(0);
    MonitorServer server;
    // Long enough that the held-back tasks are still held when they finish.
    server.setUpdateInterval(300);
    server.setMaxNewQueuedPerUpdate(10);
    server.setMaxFinishedPerUpdate(5);
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);

    // The first update sends 10 of them queued and holds 20 back: they all run as soon as the
    // monitor has it.
    QSet<quint64> seenQueued;
    QObject::connect(
        &feed, &pk::MonitorFeed::updated, &keeper, [&](const QList<TaskInfo> &changes) {
            for (const TaskInfo &info : changes) {
                if (info.state() == TaskState::Queued)
                    seenQueued.insert(info.id());
            }
            if (!changes.isEmpty() && keeper.counts().queued > 0)
                keeper.processPending();
        });
    for (int i = 0; i < 30; ++i)
        keeper.submit([] {});
    QTRY_COMPARE(feed.counts().succeeded, 30);
    QTRY_COMPARE(log.droppedDetail + quint64(log.tasks.size()), 30u);

    // The seen ones finish in detail; of those never seen, the 5 that changed last come in
    // detail and the others are counted as dropped. (A slow machine may send one more
    // held-back batch before they run: then 10 more were seen.)
    QVERIFY2(seenQueued.size() == 10 || seenQueued.size() == 20,
        qPrintable(QString::number(seenQueued.size())));
    QCOMPARE(log.tasks.size(), seenQueued.size() + 5);
    QCOMPARE(log.droppedDetail, quint64(30 - seenQueued.size() - 5));
    for (const TaskInfo &info : std::as_const(log.tasks))
        QCOMPARE(info.state(), TaskState::Succeeded);
}

void tst_MonitorServer::lateMonitorSeesHeldBackTasksFinish()
{
    PromiseKeeper keeper(0);
    MonitorServer server;
    server.setUpdateInterval(300);
    server.setMaxNewQueuedPerUpdate(10);
    server.setMaxFinishedPerUpdate(5);
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));
    RemoteFeed early;
    FeedLog earlyLog(&early);
    early.connectToServer(name);
    QTRY_COMPARE(earlyLog.snapshots, 1);

    // While 20 of 30 new tasks are held back, a second monitor attaches: its snapshot shows
    // them all queued, and then they run.
    RemoteFeed late;
    FeedLog lateLog(&late);
    QObject::connect(&early, &pk::MonitorFeed::updated, &late, [&](const QList<TaskInfo> &changes) {
        if (!changes.isEmpty() && !late.isConnected())
            late.connectToServer(name);
    });
    QObject::connect(&late, &pk::MonitorFeed::snapshot, &keeper, [&] {
        QCOMPARE(lateLog.lastLive.size(), 30);
        keeper.processPending();
    });
    for (int i = 0; i < 30; ++i)
        keeper.submit([] {});
    QTRY_COMPARE(lateLog.snapshots, 1);
    QTRY_COMPARE(late.counts().succeeded, 30);
    QTRY_COMPARE(early.counts().succeeded, 30);

    // The late one saw every task: each must reach it finished, none stays queued. The early
    // one gets them too (they are seen now), and nothing was dropped.
    QTRY_COMPARE(lateLog.tasks.size(), 30);
    const QList<quint64> ids = lateLog.tasks.keys();
    for (const quint64 id : ids)
        QTRY_COMPARE(lateLog.stateOf(id), TaskState::Succeeded);
    QTRY_COMPARE(earlyLog.tasks.size(), 30);
    for (const TaskInfo &info : std::as_const(earlyLog.tasks))
        QCOMPARE(info.state(), TaskState::Succeeded);
    QCOMPARE(lateLog.droppedDetail, 0u);
    QCOMPARE(earlyLog.droppedDetail, 0u);
}

void tst_MonitorServer::handshakeTimeoutSettings()
{
    MonitorServer server;
    QCOMPARE(server.handshakeTimeout(), pk::protocol::kHandshakeTimeoutMs);
    QCOMPARE(server.handshakeTimeout(), 5000);
    server.setHandshakeTimeout(250);
    QCOMPARE(server.handshakeTimeout(), 250);
    server.setHandshakeTimeout(0);
    QCOMPARE(server.handshakeTimeout(), 1);

    RemoteFeed feed;
    QCOMPARE(feed.handshakeTimeout(), pk::protocol::kHandshakeTimeoutMs);
    feed.setHandshakeTimeout(250);
    QCOMPARE(feed.handshakeTimeout(), 250);
    feed.setHandshakeTimeout(-5);
    QCOMPARE(feed.handshakeTimeout(), 1);
}

void tst_MonitorServer::silentConnectionIsClosed_data()
{
    // What the connection sends before it goes quiet, and, if not 0, the interval at which it
    // then sends one more byte (the deadline is not an idle timeout).
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("trickleMs");
    const QByteArray hello
        = pk::protocol::frame(pk::protocol::encode(pk::protocol::Message::hello()));
    QByteArray bigHeader(4, Qt::Uninitialized);
    qToBigEndian<quint32>(quint32(1000), bigHeader.data());
    QTest::newRow("silent") << QByteArray() << 0;
    QTest::newRow("part of a frame header") << hello.left(2) << 0;
    QTest::newRow("part of a hello") << hello.left(hello.size() - 1) << 0;
    QTest::newRow("trickle") << bigHeader << 50;
}

void tst_MonitorServer::silentConnectionIsClosed()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, trickleMs);
    // Long enough that a monitor attaches well within it even on a loaded machine (the second
    // one below must attach while the silent connection is still there).
    const int timeoutMs = 1000;

    PromiseKeeper keeper(0);
    MonitorServer server;
    server.setHandshakeTimeout(timeoutMs);
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));

    // Attached before: outlives the timeout without being touched.
    RemoteFeed early;
    FeedLog earlyLog(&early);
    early.connectToServer(name);
    QTRY_COMPARE(earlyLog.snapshots, 1);

    pktest::MessageLog messages;
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(
            QStringLiteral("closing monitor connection \\d+.*: no handshake within %1 ms")
                .arg(timeoutMs)));
    QElapsedTimer elapsed;
    elapsed.start();
    QLocalSocket silent;
    silent.connectToServer(server.fullServerName());
    QVERIFY(silent.waitForConnected(pktest::kTimeoutMs));
    silent.write(bytes);
    QTimer trickle;
    if (trickleMs > 0) {
        connect(&trickle, &QTimer::timeout, &silent, [&silent] { silent.write("x", 1); });
        trickle.start(trickleMs);
    }
    QSignalSpy closed(&silent, &QLocalSocket::disconnected);
    QVERIFY(closed.isValid());

    // The silent connection does not hold up others: a monitor attaches meanwhile.
    RemoteFeed late;
    FeedLog lateLog(&late);
    late.connectToServer(name);
    QTRY_COMPARE(lateLog.snapshots, 1);
    QCOMPARE(silent.state(), QLocalSocket::ConnectedState);
    QCOMPARE(server.clientCount(), 2); // the silent one is not counted

    QVERIFY(closed.wait(pktest::kTimeoutMs + timeoutMs));
    trickle.stop();
    // Not before its time (the timer started after ours did).
    QVERIFY2(elapsed.elapsed() >= timeoutMs, qPrintable(QString::number(elapsed.elapsed())));
    QCOMPARE(messages.warningCategories(QRegularExpression(QStringLiteral("no handshake"))),
        QStringList { QStringLiteral("promisekeeper.monitor") });

    // The monitors stay attached, and keep getting updates.
    QCOMPARE(server.clientCount(), 2);
    QVERIFY(early.isConnected());
    QVERIFY(late.isConnected());
    QVERIFY(!earlyLog.sequence.contains(QStringLiteral("disconnected")));
    QVERIFY(!lateLog.sequence.contains(QStringLiteral("disconnected")));
    keeper.submit([] {});
    QCOMPARE(keeper.processPending(), 1);
    QTRY_COMPARE(early.counts().succeeded, 1);
    QTRY_COMPARE(late.counts().succeeded, 1);
}

void tst_MonitorServer::floodBeforeHandshakeIsClosed()
{
    PromiseKeeper keeper(0);
    MonitorServer server;
    // Far beyond the test's deadline: only the size limit can close this connection in time.
    server.setHandshakeTimeout(10 * pktest::kTimeoutMs);
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));

    QLocalSocket flood;
    flood.connectToServer(server.fullServerName());
    QVERIFY(flood.waitForConnected(pktest::kTimeoutMs));
    // A frame header within kMaxFrameSize, then more than a handshake could take.
    QByteArray bytes(4, Qt::Uninitialized);
    qToBigEndian<quint32>(quint32(1024 * 1024), bytes.data());
    bytes.append(QByteArray(128 * 1024, 'x'));
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(
            QStringLiteral("closing monitor connection \\d+.*: \\d+ bytes before the "
                           "handshake")));
    flood.write(bytes);
    QSignalSpy closed(&flood, &QLocalSocket::disconnected);
    QVERIFY(closed.wait(pktest::kTimeoutMs));

    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);
}

void tst_MonitorServer::feedTimesOutOnSilentProgram()
{
    // A program that accepts monitors and says nothing, until told to answer.
    const QString name = uniqueName();
    auto fake = std::make_unique<QLocalServer>();
    QVERIFY(fake->listen(socketPathFor(name)));
    int connections = 0;
    bool answer = false;
    QList<QPointer<QLocalSocket>> peers;
    const auto serve = [&](QLocalServer *server) {
        connect(server, &QLocalServer::newConnection, server, [&, server] {
            while (QLocalSocket *peer = server->nextPendingConnection()) {
                ++connections;
                peers.append(peer);
                connect(peer, &QLocalSocket::readyRead, peer, [&, peer] {
                    peer->readAll();
                    if (!answer)
                        return;
                    pk::protocol::Message welcome;
                    welcome.type = pk::protocol::MessageType::Welcome;
                    welcome.text = QStringLiteral("fake");
                    welcome.pid = 1;
                    welcome.keeperLabels = { QStringLiteral("k") };
                    peer->write(pk::protocol::frame(pk::protocol::encode(welcome)));
                });
            }
        });
    };
    serve(fake.get());

    const int timeoutMs = 200;
    RemoteFeed feed;
    feed.setHandshakeTimeout(timeoutMs);
    feed.setRetryInterval(50);
    FeedLog log(&feed);
    pktest::MessageLog messages;
    const QString expected
        = QStringLiteral("the program '%1' did not answer the handshake within %2 ms")
              .arg(name)
              .arg(timeoutMs);
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(
            QStringLiteral("closing the connection to .*") + QRegularExpression::escape(expected)));
    QElapsedTimer elapsed;
    elapsed.start();
    feed.connectToServer(name);
    QTRY_COMPARE(log.sequence.size(), 1);
    QVERIFY2(elapsed.elapsed() >= timeoutMs, qPrintable(QString::number(elapsed.elapsed())));
    QCOMPARE(log.sequence.first(), QStringLiteral("disconnected"));
    QCOMPARE(log.messages.first(), expected + QStringLiteral(" — trying again"));
    QCOMPARE(feed.errorString(), expected);
    QVERIFY(!feed.isConnected());
    // The feed let go of the connection...
    QCOMPARE(connections, 1);
    QTRY_VERIFY(!peers.first() || peers.first()->state() == QLocalSocket::UnconnectedState);

    // ... and tries again, announcing (and warning about) the same failure only once.
    QTRY_VERIFY_WITH_TIMEOUT(connections >= 3, pktest::kTimeoutMs);
    QCOMPARE(log.sequence.size(), 1);
    QCOMPARE(messages.warningCategories(QRegularExpression(QRegularExpression::escape(expected))),
        QStringList { QStringLiteral("promisekeeper.monitor") });

    // The program goes away: that is news.
    fake.reset();
    QTRY_COMPARE(log.sequence.size(), 2);
    QCOMPARE(log.sequence.last(), QStringLiteral("disconnected"));
    QCOMPARE(
        log.messages.last(), QStringLiteral("waiting for the program '%1' to start").arg(name));

    // It comes back and answers: attached.
    answer = true;
    fake = std::make_unique<QLocalServer>();
    QVERIFY(fake->listen(socketPathFor(name)));
    serve(fake.get());
    QTRY_COMPARE_WITH_TIMEOUT(log.sequence.size(), 3, pktest::kTimeoutMs);
    QCOMPARE(log.sequence.last(), QStringLiteral("connected"));
    QVERIFY(feed.isConnected());
    QVERIFY(feed.errorString().isEmpty());
    QCOMPARE(feed.keeperLabels(), QStringList { QStringLiteral("k") });
    feed.disconnectFromServer();
}

void tst_MonitorServer::keeperDestroyedWhileAttached()
{
    auto keeper = std::make_unique<PromiseKeeper>(0);
    keeper->submit([] {});
    keeper->processPending();
    MonitorServer server;
    server.addKeeper(keeper.get());
    const QString name = uniqueName();
    QVERIFY(server.listen(name));
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);
    QTRY_COMPARE(feed.counts().succeeded, 1);

    keeper.reset();
    // The server goes on, with the last counts it had.
    RemoteFeed late;
    FeedLog lateLog(&late);
    late.connectToServer(name);
    QTRY_COMPARE(lateLog.snapshots, 1);
    QCOMPARE(late.counts().succeeded, 1);
    QCOMPARE(late.threadCount(), 0);
    QVERIFY(feed.isConnected());
}

void tst_MonitorServer::discovery()
{
    PromiseKeeper keeper(0);
    const QString name = uniqueName();
    const auto listed = [](const QString &n) {
        const QList<pk::MonitorServerInfo> servers = MonitorServer::availableServers();
        for (const pk::MonitorServerInfo &s : servers) {
            if (s.name == n)
                return s;
        }
        return pk::MonitorServerInfo();
    };
    {
        MonitorServer server;
        server.addKeeper(&keeper, QStringLiteral("disc"));
        QVERIFY(listed(name).name.isEmpty());
        QVERIFY(server.listen(name));
        const pk::MonitorServerInfo info = listed(name);
        QCOMPARE(info.name, name);
        QCOMPARE(info.pid, QCoreApplication::applicationPid());
        QCOMPARE(info.program, QCoreApplication::applicationName());
        QCOMPARE(info.keepers, QStringList { QStringLiteral("disc") });
        QCOMPARE(info.protocolVersion, pk::protocol::kVersion);
        QVERIFY(info.started.isValid());
        QVERIFY(QFile::exists(
            QDir(MonitorServer::registryDirectory()).filePath(name + QStringLiteral(".json"))));

        server.close();
        QVERIFY(!server.isListening());
        QVERIFY(listed(name).name.isEmpty());
        QVERIFY(server.listen(name));
        QCOMPARE(listed(name).name, name);
    } // the destructor unregisters too
    QVERIFY(listed(name).name.isEmpty());

    // A program that crashed left its file: not listed.
    const QString stale = uniqueName();
    QJsonObject o;
    o.insert(QStringLiteral("name"), stale);
    o.insert(QStringLiteral("pid"), 0x7ffffff0);
    o.insert(QStringLiteral("program"), QStringLiteral("crashed"));
    QFile file(QDir(MonitorServer::registryDirectory()).filePath(stale + QStringLiteral(".json")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QJsonDocument(o).toJson());
    file.close();
    QVERIFY(listed(stale).name.isEmpty());
    // Garbage files are skipped as well.
    QFile garbage(
        QDir(MonitorServer::registryDirectory()).filePath(QStringLiteral("garbage.json")));
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write("{ not json");
    garbage.close();
    QVERIFY(listed(QString()).name.isEmpty());
}

void tst_MonitorServer::nameInUse()
{
    MonitorServer a;
    const QString name = uniqueName();
    QVERIFY(a.listen(name));
    MonitorServer b;
    QVERIFY(!b.listen(name));
    QVERIFY2(b.errorString().contains(QLatin1String("in use")), qPrintable(b.errorString()));
    QVERIFY(a.isListening());
    QVERIFY(!a.listen(uniqueName())); // already listening
    QVERIFY(!b.listen(QString()));
}

void tst_MonitorServer::staleSocketIsReplaced()
{
#ifdef Q_OS_UNIX
    // A socket file nobody listens on, as a crashed program leaves it.
    const QString name = uniqueName();
    const QString dir = MonitorServer::registryDirectory();
    QVERIFY(QDir().mkpath(dir));
    const QByteArray path = QFile::encodeName(QDir(dir).filePath(name + QStringLiteral(".socket")));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    QVERIFY(fd >= 0);
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    QVERIFY(size_t(path.size()) < sizeof(address.sun_path));
    std::memcpy(address.sun_path, path.constData(), size_t(path.size()));
    QCOMPARE(::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)), 0);
    ::close(fd);
    QVERIFY(QFile::exists(QFile::decodeName(path)));

    PromiseKeeper keeper(0);
    MonitorServer server;
    server.addKeeper(&keeper);
    QVERIFY2(server.listen(name), qPrintable(server.errorString()));
    QCOMPARE(server.fullServerName(), QFile::decodeName(path));
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);
#else
    QSKIP("Unix sockets only");
#endif
}

void tst_MonitorServer::socketAndRegistryArePrivate()
{
#ifdef Q_OS_UNIX
    const QString dir = MonitorServer::registryDirectory();
    QCOMPARE(dir, QDir(m_runtime.path()).filePath(QStringLiteral("promisekeeper-monitor")));
    // As an older version left it: made with the umask's mode.
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(::chmod(QFile::encodeName(dir).constData(), 0755) == 0);

    PromiseKeeper keeper(0);
    MonitorServer server;
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY2(server.listen(name), qPrintable(server.errorString()));

    // The socket in a directory nobody else may enter, the socket and registration for the
    // user only.
    const QString socket = server.fullServerName();
    QCOMPARE(socket, QDir(dir).filePath(name + QStringLiteral(".socket")));
    QCOMPARE(modeOf(dir, S_IFDIR), 0700);
    QCOMPARE(ownerOf(dir), ::geteuid());
    QCOMPARE(modeOf(socket, S_IFSOCK), 0700);
    QCOMPARE(ownerOf(socket), ::geteuid());
    const QString registration = QDir(dir).filePath(name + QStringLiteral(".json"));
    QCOMPARE(modeOf(registration, S_IFREG), 0600);
    QJsonObject o = QJsonDocument::fromJson([&] {
        QFile f(registration);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }())
                        .object();
    QCOMPARE(o.value(QLatin1String("fullServerName")).toString(), socket);

    // Rewritten when a keeper joins: still 0600.
    PromiseKeeper second(0);
    server.addKeeper(&second, QStringLiteral("second"));
    QCOMPARE(modeOf(registration, S_IFREG), 0600);

    // Listing reads them, and attaching by name finds the socket.
    bool listed = false;
    const QList<pk::MonitorServerInfo> servers = MonitorServer::availableServers();
    for (const pk::MonitorServerInfo &info : servers)
        listed = listed || info.name == name;
    QVERIFY(listed);
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);

    // Nothing in the temporary directory, where anyone could have taken the name.
    QVERIFY(!QFileInfo::exists(QDir::temp().filePath(name)));
#else
    QSKIP("Unix permissions only");
#endif
}

void tst_MonitorServer::badNames()
{
    MonitorServer server;
    QVERIFY(!server.listen(QString()));
    QVERIFY2(server.errorString().contains(QLatin1String("no server name")),
        qPrintable(server.errorString()));
#ifdef Q_OS_UNIX
    for (const QString &name :
        { QStringLiteral("a/b"), QStringLiteral(".."), QStringLiteral("../up") }) {
        QVERIFY(!server.listen(name));
        QVERIFY2(server.errorString().contains(QLatin1String("is not a server name")),
            qPrintable(server.errorString()));
    }
    const QString tooLong(200, QLatin1Char('x'));
    QVERIFY(!server.listen(tooLong));
    QVERIFY2(
        server.errorString().contains(QLatin1String("too long")), qPrintable(server.errorString()));
    QVERIFY(!server.isListening());

    // The feed says so at once and does not retry: the name can never work.
    RemoteFeed feed;
    feed.setRetryInterval(10);
    FeedLog log(&feed);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("is not a server name")));
    feed.connectToServer(QStringLiteral("a/b"));
    QCOMPARE(log.sequence, QStringList { QStringLiteral("disconnected") });
    QVERIFY2(log.messages.first().contains(QLatin1String("is not a server name")),
        qPrintable(log.messages.first()));
    QCOMPARE(feed.errorString(), log.messages.first());
    QVERIFY(!feed.isConnected());
#endif
}

void tst_MonitorServer::foreignDirectoryIsRefused()
{
#ifdef Q_OS_UNIX
    if (::geteuid() != 0 || !::getpwnam("nobody"))
        QSKIP("needs root and the user 'nobody', to give a directory to another user");
    // Another user's directory where ours should be (root can make one): neither the socket
    // nor the registration goes in it.
    QTemporaryDir runtime;
    QVERIFY(runtime.isValid());
    const QByteArray previous = qgetenv("XDG_RUNTIME_DIR");
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(runtime.path()));
    const auto restore = qScopeGuard([&previous] { qputenv("XDG_RUNTIME_DIR", previous); });
    const QString dir = MonitorServer::registryDirectory();
    QVERIFY(dir.startsWith(runtime.path()));
    QVERIFY(QDir().mkdir(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
    QCOMPARE(::chown(QFile::encodeName(dir).constData(), Impostor::uid(), gid_t(-1)), 0);

    MonitorServer server;
    const QString name = uniqueName();
    QVERIFY(!server.listen(name));
    QVERIFY2(server.errorString().contains(QLatin1String("belongs to another user")),
        qPrintable(server.errorString()));
    QVERIFY(!server.isListening());
    QVERIFY(
        QDir(dir).isEmpty(QDir::AllEntries | QDir::System | QDir::Hidden | QDir::NoDotAndDotDot));
#else
    QSKIP("Unix users only");
#endif
}

void tst_MonitorServer::otherUserCannotTakeTheName()
{
#ifdef Q_OS_UNIX
    if (const QString why = Impostor::unavailable(); !why.isEmpty())
        QSKIP(qPrintable(why));
    const QString name = uniqueName();

    // Where the socket used to be, anyone could take the name first.
    Impostor squatter;
    QString error;
    const QString oldPlace = QDir::temp().filePath(name);
    const QByteArray started = squatter.start(oldPlace, QByteArray(), &error);
    if (started.isEmpty())
        QSKIP(qPrintable(QStringLiteral("runuser cannot start the helper: ") + error));
    QCOMPARE(started, QByteArray("LISTENING"));
    QCOMPARE(ownerOf(oldPlace), Impostor::uid());

    // Where it is now, another user cannot even create it.
    const QString dir = MonitorServer::registryDirectory();
    QVERIFY(QDir().mkdir(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner)
        || QFileInfo(dir).isDir());
    Impostor intruder;
    const QString newPlace = QDir(dir).filePath(name + QStringLiteral(".socket"));
    const QByteArray refused = intruder.start(newPlace, QByteArray(), &error);
    QVERIFY2(refused.startsWith("CANNOT-LISTEN"), refused.constData());
    QVERIFY(!QFileInfo::exists(newPlace));

    // The program listens under its name and the monitor reaches it, not the squatter.
    PromiseKeeper keeper(0);
    MonitorServer server;
    server.addKeeper(&keeper, QStringLiteral("real"));
    QVERIFY2(server.listen(name), qPrintable(server.errorString()));
    QCOMPARE(server.fullServerName(), newPlace);
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);
    QCOMPARE(feed.keeperLabels(), QStringList { QStringLiteral("real") });
    QCOMPARE(feed.programPid(), QCoreApplication::applicationPid());
    QCOMPARE(squatter.connections(), 0);
#else
    QSKIP("Unix users only");
#endif
}

void tst_MonitorServer::otherUsersServerIsRefused()
{
#ifdef Q_OS_UNIX
    if (const QString why = Impostor::unavailable(); !why.isEmpty())
        QSKIP(qPrintable(why));
    // A full path in a directory every user may write to, as a careless program might use.
    QTemporaryDir shared;
    QVERIFY(shared.isValid());
    QVERIFY(::chmod(QFile::encodeName(shared.path()).constData(), 01777) == 0);
    const QString path = QDir(shared.path()).filePath(QStringLiteral("myapp"));

    // It answers every connection with a welcome at once: a monitor that did not check
    // would attach and show what it says.
    pk::protocol::Message welcome;
    welcome.type = pk::protocol::MessageType::Welcome;
    welcome.text = QStringLiteral("impostor");
    welcome.pid = 1;
    welcome.keeperLabels = { QStringLiteral("fake") };
    Impostor impostor;
    QString error;
    const QByteArray started
        = impostor.start(path, pk::protocol::frame(pk::protocol::encode(welcome)), &error);
    if (started.isEmpty())
        QSKIP(qPrintable(QStringLiteral("runuser cannot start the helper: ") + error));
    QCOMPARE(started, QByteArray("LISTENING"));

    const QString expected
        = QStringLiteral("refused the server at %1: it runs as another user (uid %2, not %3)")
              .arg(path)
              .arg(Impostor::uid())
              .arg(::geteuid());
    pktest::MessageLog messages;
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QRegularExpression::escape(expected)));
    RemoteFeed feed;
    feed.setRetryInterval(20);
    FeedLog log(&feed);
    feed.connectToServer(path);
    QTRY_COMPARE(log.sequence.size(), 1);
    QCOMPARE(log.sequence.first(), QStringLiteral("disconnected"));
    QCOMPARE(log.messages.first(), expected + QStringLiteral(" — trying again"));
    QCOMPARE(feed.errorString(), expected);

    // It tries again (the right program may take the path later), saying it once.
    QTRY_VERIFY_WITH_TIMEOUT(impostor.connections() >= 3, pktest::kTimeoutMs);
    QVERIFY(!feed.isConnected());
    QCOMPARE(log.sequence, QStringList { QStringLiteral("disconnected") });
    QCOMPARE(log.snapshots, 0);
    QVERIFY(feed.keeperLabels().isEmpty());
    QCOMPARE(messages.warningCategories(QRegularExpression(QRegularExpression::escape(expected))),
        QStringList { QStringLiteral("promisekeeper.monitor") });
    feed.disconnectFromServer();
#else
    QSKIP("Unix users only");
#endif
}

void tst_MonitorServer::tooManyMonitorsAreRefused()
{
    PromiseKeeper keeper(0);
    MonitorServer server;
    QCOMPARE(server.maxClients(), 8);
    server.setMaxClients(0);
    QCOMPARE(server.maxClients(), 1);
    server.setMaxClients(2);
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));

    RemoteFeed first;
    FeedLog firstLog(&first);
    first.connectToServer(name);
    RemoteFeed second;
    FeedLog secondLog(&second);
    second.connectToServer(name);
    QTRY_COMPARE(firstLog.snapshots, 1);
    QTRY_COMPARE(secondLog.snapshots, 1);
    QCOMPARE(server.clientCount(), 2);

    // A third one is told why, then the connection closes.
    pktest::MessageLog messages;
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(QStringLiteral("refused monitor connection \\d+.*: 2 monitors are "
                                          "attached already")));
    QLocalSocket raw;
    raw.connectToServer(server.fullServerName());
    QVERIFY(raw.waitForConnected(pktest::kTimeoutMs));
    raw.write(pk::protocol::frame(pk::protocol::encode(pk::protocol::Message::hello())));
    QSignalSpy closed(&raw, &QLocalSocket::disconnected);
    QVERIFY(closed.isValid());
    QVERIFY(closed.wait(pktest::kTimeoutMs));
    pk::protocol::FrameReader reader;
    reader.append(raw.readAll());
    QByteArray payload;
    QString error;
    QCOMPARE(reader.next(&payload, &error), pk::protocol::FrameReader::Frame);
    pk::protocol::Message reject;
    QVERIFY2(pk::protocol::decode(payload, &reject, &error), qPrintable(error));
    QCOMPARE(reject.type, pk::protocol::MessageType::Reject);
    QCOMPARE(reject.version, pk::protocol::kVersion);
    const QString reason
        = QStringLiteral("the program has 2 monitors attached already, as many as it takes");
    QCOMPARE(reject.text, reason);
    QCOMPARE(reader.next(&payload, &error), pk::protocol::FrameReader::NeedMore);
    QCOMPARE(server.clientCount(), 2);
    QCOMPARE(messages.warningCategories(QRegularExpression(QStringLiteral("refused monitor"))),
        QStringList { QStringLiteral("promisekeeper.monitor") });

    // A feed says it, with the program's reason, and tries again; it attaches once there is
    // room. The program does not repeat its warning for every retry.
    const QString expected = QStringLiteral("the program refused the monitor: ") + reason;
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QRegularExpression::escape(expected)));
    RemoteFeed third;
    third.setRetryInterval(20);
    FeedLog thirdLog(&third);
    third.connectToServer(name);
    QTRY_COMPARE(thirdLog.sequence.size(), 1);
    QCOMPARE(thirdLog.messages.first(), expected + QStringLiteral(" — trying again"));
    QCOMPARE(third.errorString(), expected);
    QVERIFY(!third.isConnected());
    QCOMPARE(server.clientCount(), 2);
    QVERIFY(first.isConnected());
    QVERIFY(second.isConnected());

    first.disconnectFromServer();
    QTRY_COMPARE_WITH_TIMEOUT(thirdLog.snapshots, 1, pktest::kTimeoutMs);
    QVERIFY(third.isConnected());
    QCOMPARE(thirdLog.sequence.mid(0, 3),
        (QStringList { QStringLiteral("disconnected"), QStringLiteral("connected"),
            QStringLiteral("snapshot") }));
    QCOMPARE(server.clientCount(), 2);
    QCOMPARE(messages.warningCategories(QRegularExpression(QStringLiteral("refused monitor"))),
        QStringList { QStringLiteral("promisekeeper.monitor") });
}

void tst_MonitorServer::stalledMonitorIsCutOff()
{
    PromiseKeeper keeper(0);
    // Snapshots carry the recently finished tasks: few, so that one snapshot stays well below
    // the hard limit (eight times the buffer limit) and only the timeout can cut the monitor.
    keeper.setHistorySize(16);
    MonitorServer server;
    QCOMPARE(server.stalledClientTimeout(), 30000);
    server.setStalledClientTimeout(0);
    QCOMPARE(server.stalledClientTimeout(), 1);
    const int timeoutMs = 200;
    server.setStalledClientTimeout(timeoutMs);
    server.setClientBufferLimit(64 * 1024);
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));

    RemoteFeed feed;
    FeedLog log(&feed);
    feed.connectToServer(name);
    QTRY_COMPARE(log.snapshots, 1);

    // A monitor that handshakes, then reads no more than 4 KiB: what it is sent piles up in
    // the kernel's socket buffers, then in the server's buffer for it.
    pktest::MessageLog messages;
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(QStringLiteral("closing monitor connection \\d+ \\(pid %1\\): it has "
                                          "not kept up for \\d+ ms \\(\\d+ bytes wait to be sent "
                                          "to it\\); it seems stuck")
                               .arg(QCoreApplication::applicationPid())));
    QLocalSocket stuck;
    stuck.setReadBufferSize(4096);
    stuck.connectToServer(server.fullServerName());
    QVERIFY(stuck.waitForConnected(pktest::kTimeoutMs));
    stuck.write(pk::protocol::frame(pk::protocol::encode(pk::protocol::Message::hello())));
    QTRY_COMPARE(server.clientCount(), 2);
    QSignalSpy counted(&server, &MonitorServer::clientCountChanged);
    QVERIFY(counted.isValid());

    // Tasks with long titles come and go until the stuck monitor is cut off: the server's
    // buffer for it fills, it stays behind, and after the timeout it goes. An update (about
    // 20 KB) fits in the buffer limit, so the monitor that reads is never behind.
    const QString title(500, QLatin1Char('t'));
    QTimer work;
    connect(&work, &QTimer::timeout, &keeper, [&] {
        for (int i = 0; i < 5; ++i)
            keeper.submit(pk::TaskOptions { title, 0 }, [] {});
        keeper.processPending();
    });
    work.start(10);
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 1, pktest::kTimeoutMs);
    work.stop();
    QCOMPARE(counted.size(), 1);
    QCOMPARE(counted.first().first().toInt(), 1);
    QCOMPARE(messages.warningCategories(QRegularExpression(QStringLiteral("it seems stuck"))),
        QStringList { QStringLiteral("promisekeeper.monitor") });

    // The monitor that reads stays, and catches up.
    QVERIFY(feed.isConnected());
    QTRY_COMPARE_WITH_TIMEOUT(feed.counts(), keeper.counts(), pktest::kTimeoutMs);
    QVERIFY(!log.sequence.contains(QStringLiteral("disconnected")));

    // The stuck one finds its connection closed once it reads what it was sent.
    QSignalSpy closed(&stuck, &QLocalSocket::disconnected);
    QVERIFY(closed.isValid());
    stuck.setReadBufferSize(0);
    stuck.readAll();
    QTRY_VERIFY_WITH_TIMEOUT(
        (stuck.readAll(), stuck.state() == QLocalSocket::UnconnectedState), pktest::kTimeoutMs);
}

void tst_MonitorServer::pendingConnectionsAreCapped()
{
    PromiseKeeper keeper(0);
    MonitorServer server;
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));

    // 16 connections that never say hello hold their place until their deadline; the next
    // ones are closed as soon as they are accepted, with one warning.
    pktest::MessageLog messages;
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(QStringLiteral("closing a new connection: 16 others have not "
                                          "completed their handshake yet")));
    std::vector<std::unique_ptr<QLocalSocket>> silent;
    for (int i = 0; i < 20; ++i) {
        silent.push_back(std::make_unique<QLocalSocket>());
        silent.back()->connectToServer(server.fullServerName());
        QVERIFY(silent.back()->waitForConnected(pktest::kTimeoutMs));
    }
    const auto closedCount = [&silent] {
        return std::count_if(silent.begin(), silent.end(),
            [](const auto &s) { return s->state() == QLocalSocket::UnconnectedState; });
    };
    QTRY_COMPARE(closedCount(), 4);
    for (int i = 0; i < 16; ++i)
        QCOMPARE(silent[std::size_t(i)]->state(), QLocalSocket::ConnectedState);
    // Each closed one was told why.
    for (int i = 16; i < 20; ++i) {
        pk::protocol::FrameReader reader;
        reader.append(silent[std::size_t(i)]->readAll());
        QByteArray payload;
        QString error;
        QCOMPARE(reader.next(&payload, &error), pk::protocol::FrameReader::Frame);
        pk::protocol::Message reject;
        QVERIFY2(pk::protocol::decode(payload, &reject, &error), qPrintable(error));
        QCOMPARE(reject.type, pk::protocol::MessageType::Reject);
        QCOMPARE(reject.version, pk::protocol::kVersion);
        QCOMPARE(reject.text,
            QStringLiteral("the program has 16 connections in their handshake already"));
    }
    QCOMPARE(messages.warningCategories(QRegularExpression(QStringLiteral("closing a new"))),
        QStringList { QStringLiteral("promisekeeper.monitor") });

    // Once they are gone, monitors attach as before.
    silent.clear();
    RemoteFeed feed;
    FeedLog log(&feed);
    feed.setRetryInterval(20);
    feed.connectToServer(name);
    QTRY_COMPARE_WITH_TIMEOUT(log.snapshots, 1, pktest::kTimeoutMs);
}

void tst_MonitorServer::survivesDescriptorExhaustion()
{
#ifdef Q_OS_UNIX
    PromiseKeeper keeper(0);
    MonitorServer server;
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY(server.listen(name));
    const QString path = server.fullServerName();

    // Attached before: unaffected.
    RemoteFeed early;
    FeedLog earlyLog(&early);
    early.connectToServer(name);
    QTRY_COMPARE(earlyLog.snapshots, 1);

    // Room for a few more descriptors only, then more connections than that.
    rlimit saved = {};
    QCOMPARE(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    const auto restore = qScopeGuard([&saved] { ::setrlimit(RLIMIT_NOFILE, &saved); });
    int highest = 0;
    int open = 0;
    for (int fd = 0; fd < 4096; ++fd) {
        if (::fcntl(fd, F_GETFD) != -1) {
            highest = fd;
            ++open;
        }
    }
    rlimit low = saved;
    low.rlim_cur = rlim_t(highest + 1 + 12);
    QVERIFY(low.rlim_cur <= saved.rlim_max);
    // The free descriptors, holes below the highest included: the connections take them all
    // before the event loop lets the server accept any.
    const int free = int(low.rlim_cur) - open;

    pktest::MessageLog messages;
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(QStringLiteral("lost its listening socket .*out of file descriptors")));
    QCOMPARE(::setrlimit(RLIMIT_NOFILE, &low), 0);
    std::vector<std::unique_ptr<QLocalSocket>> crowd;
    for (int i = 0; i < free + 8; ++i) {
        crowd.push_back(std::make_unique<QLocalSocket>());
        crowd.back()->connectToServer(path);
    }
    // Accepting fails, and QLocalServer drops its listening socket: the server notices.
    QTRY_VERIFY_WITH_TIMEOUT(
        !messages.warningCategories(QRegularExpression(QStringLiteral("lost its listening")))
             .isEmpty(),
        pktest::kTimeoutMs);

    // Once there are descriptors again, it listens again and a monitor attaches.
    crowd.clear();
    QCOMPARE(::setrlimit(RLIMIT_NOFILE, &saved), 0);
    RemoteFeed late;
    FeedLog lateLog(&late);
    late.setRetryInterval(50);
    late.connectToServer(name);
    QTRY_COMPARE_WITH_TIMEOUT(lateLog.snapshots, 1, pktest::kTimeoutMs);
    QVERIFY(server.isListening());
    QCOMPARE(server.fullServerName(), path);
    QVERIFY(QFileInfo::exists(path));
    bool listed = false;
    const QList<pk::MonitorServerInfo> servers = MonitorServer::availableServers();
    for (const pk::MonitorServerInfo &info : servers)
        listed = listed || info.name == name;
    QVERIFY(listed);

    // One warning (they are rate-limited), in the monitor's category; the early monitor never
    // noticed.
    QCOMPARE(messages.warningCategories(QRegularExpression(QStringLiteral("lost its listening"))),
        QStringList { QStringLiteral("promisekeeper.monitor") });
    QVERIFY(early.isConnected());
    QVERIFY(!earlyLog.sequence.contains(QStringLiteral("disconnected")));
    keeper.submit([] {});
    QCOMPARE(keeper.processPending(), 1);
    QTRY_COMPARE(early.counts().succeeded, 1);
    QTRY_COMPARE(late.counts().succeeded, 1);
#else
    QSKIP("RLIMIT_NOFILE is Unix only");
#endif
}

void tst_MonitorServer::badKeepers()
{
    MonitorServer server;
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("addKeeper: no keeper")));
    server.addKeeper(nullptr);
    QVERIFY(server.keeperLabels().isEmpty());
}

void tst_MonitorServer::liveTasksTable_data()
{
    // Steps: a positive id is inserted (titled after itself), a negative one erased.
    QTest::addColumn<QList<qint64>>("steps");
    QTest::addColumn<QList<quint64>>("live");
    const qint64 far = qint64(pk::monitor::LiveTasks::kMaxWindow);
    QTest::newRow("in order") << QList<qint64> { 1, 2, 3, -1, 4, -3 } << QList<quint64> { 2, 4 };
    QTest::newRow("all gone, then more")
        << QList<qint64> { 5, 6, -5, -6, 7 } << QList<quint64> { 7 };
    QTest::newRow("below the window")
        << QList<qint64> { 10, 11, 3, -10 } << QList<quint64> { 3, 11 };
    QTest::newRow("an old task outlives the window") << QList<qint64> { 1, 2, -2, far + 5, far + 6,
        -(far + 5) } << QList<quint64> { 1, quint64(far) + 6 };
    QTest::newRow("erasing what is not there")
        << QList<qint64> { 4, -9, -4, -4 } << QList<quint64> {};
}

// The MonitorServer's mirror of live tasks: a window indexed by id, with a hash for the ids
// outside it.
void tst_MonitorServer::liveTasksTable()
{
    QFETCH(QList<qint64>, steps);
    QFETCH(QList<quint64>, live);
    pk::monitor::LiveTasks table;
    for (const qint64 step : std::as_const(steps)) {
        const auto id = quint64(std::abs(step));
        if (step > 0) {
            pk::TaskInfo &info = table.insert(id);
            info.setId(id);
            info.setTitle(QString::number(id));
            QCOMPARE(table.find(id), &table.insert(id)); // the same entry
        } else {
            table.erase(id);
            QVERIFY(!table.find(id));
        }
    }
    QCOMPARE(table.size(), live.size());
    QList<quint64> seen;
    table.forEach([&seen](const pk::TaskInfo &info) { seen.append(info.id()); });
    std::sort(seen.begin(), seen.end());
    QCOMPARE(seen, live);
    for (const quint64 id : std::as_const(live)) {
        QVERIFY(table.find(id));
        QCOMPARE(table.find(id)->title(), QString::number(id));
    }
    table.clear();
    QCOMPARE(table.size(), 0);
}

QTEST_MAIN(tst_MonitorServer)
#include "tst_monitorserver.moc"
