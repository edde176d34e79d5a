#include "localsocket_p.h"
#include "protocol_p.h"
#include "taskcoalescer_p.h"
#include "updatebounds_p.h"

#include <pk/eventstream.h>
#include <pk/monitorserver.h>
#include <pk/promisekeeper.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qdir.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qhash.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qsavefile.h>
#include <QtCore/qsocketnotifier.h>
#include <QtCore/qthread.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qlocalserver.h>
#include <QtNetwork/qlocalsocket.h>

#include <algorithm>
#include <limits>
#include <vector>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <csignal>
#include <sys/types.h>
#endif

namespace pk {

using protocol::KeeperState;
using protocol::Message;
using protocol::MessageType;

namespace {

constexpr qint64 kDefaultBufferLimit = 8 * 1024 * 1024;
// A snapshot carries at most this many bytes of tasks (the rest are counted as dropped detail),
// so that it always fits well below a client's buffer limit.
constexpr qint64 kSnapshotBudget = 2 * 1024 * 1024;
// A lagging client is cut off when this many times the limit waits in its buffer.
constexpr qint64 kHardLimitFactor = 8;
// How long the destructor lets attached monitors take their last data, at most.
constexpr int kCloseWaitMs = 1000;
// What a connection may send before its handshake is done (a Hello is a few dozen bytes).
constexpr qint64 kMaxHandshakeBytes = 64 * 1024;
constexpr int kDefaultMaxClients = 8;
constexpr int kDefaultStalledTimeoutMs = 30000;
// Connections still in their handshake at once, at most: each holds a descriptor and up to
// kMaxHandshakeBytes, and a monitor needs a few milliseconds there.
constexpr int kMaxPendingConnections = 16;
// While the listening socket is lost (descriptors exhausted), how often to try it again.
constexpr int kRelistenIntervalMs = 200;
// Warnings about a lost listening socket, or refused connections, at most once in this time.
constexpr qint64 kWarningIntervalMs = 60000;

bool processAlive(qint64 pid)
{
    if (pid <= 0)
        return false;
#ifdef Q_OS_UNIX
    if (pid > std::numeric_limits<pid_t>::max())
        return false;
    return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
#else
    return true;
#endif
}

QString registryFileName(const QString &name)
{
    // A full socket path is allowed as a name: keep the file name flat.
    QString flat = name;
    for (QChar &c : flat) {
        if (c == QLatin1Char('/') || c == QLatin1Char('\\') || c == QLatin1Char(':'))
            c = QLatin1Char('_');
    }
    return flat + QStringLiteral(".json");
}

QString programName()
{
    const QString name = QCoreApplication::applicationName();
    if (!name.isEmpty())
        return name;
    return QFileInfo(QCoreApplication::applicationFilePath()).fileName();
}

// Running tasks first, then the others in submission order: what a view shows first.
void sortLive(QList<TaskInfo> &tasks)
{
    std::sort(tasks.begin(), tasks.end(), [](const TaskInfo &a, const TaskInfo &b) {
        const bool ar = a.state() == TaskState::Running;
        const bool br = b.state() == TaskState::Running;
        if (ar != br)
            return ar;
        return a.id() < b.id();
    });
}

// Packs keeper parts into messages of about kChunkTargetSize each.
class MessagePacker
{
public:
    explicit MessagePacker(Message prototype)
        : m_prototype(std::move(prototype))
    {
        m_current = m_prototype;
    }

    void add(KeeperState state)
    {
        qint64 size = 64;
        for (const TaskInfo &t : state.tasks)
            size += protocol::encodedSize(t);
        for (const TaskInfo &t : state.recentlyFinished)
            size += protocol::encodedSize(t);
        if (!m_current.keepers.isEmpty() && m_size + size > protocol::kChunkTargetSize) {
            m_messages.append(std::move(m_current));
            m_current = m_prototype;
            m_size = 0;
        }
        m_current.keepers.append(std::move(state));
        m_size += size;
    }

    QList<Message> finish()
    {
        m_messages.append(std::move(m_current));
        return std::move(m_messages);
    }

private:
    Message m_prototype;
    Message m_current;
    qint64 m_size = 0;
    QList<Message> m_messages;
};

} // namespace

/*
    Everything runs on the server's thread, which is the keepers' thread (checked by addKeeper()),
    so nothing is locked: the event stream, the sockets and the timer all come from its loop.

    Per keeper, while at least one monitor is attached, a monitor::TaskCoalescer (the one
    pk::KeeperFeed uses) listens to the event stream and keeps a mirror (live tasks, recent
    finished ones) for the snapshots of monitors that attach later or resync, and the changes
    since the last flush, coalesced per task id. With no monitor attached the coalescers are not
    listeners and hold nothing.

    Bounded updates: each flush takes every keeper's batch, bounded as KeeperFeed's are (see
    taskcoalescer_p.h): unseen finished tasks past maxFinished are dropped detail, unseen
    waiting or queued ones past maxNewQueued are held back for later batches. A task stops
    being unseen once a batch carries it, or a snapshot does (TaskCoalescer::markCarried()).
    The bounds apply to the one batch all monitors that keep up share, so they all see the same
    tasks; a monitor that joins takes the held-back tasks from its snapshot.
*/
class MonitorServerPrivate
{
public:
    struct Client
    {
        QLocalSocket *socket = nullptr;
        int id = 0; // for the warnings: "monitor connection 3 (pid 1234)"
        qint64 pid = 0; // the peer's, where the system tells it
        protocol::FrameReader reader;
        bool welcomed = false;
        bool needsSnapshot = true;
        // Valid while its buffer keeps its updates back: since when (stalledClientTimeout()).
        QElapsedTimer behindSince;
        quint64 droppedDetail = 0; // not yet reported to it
        QList<TaskCounts> sentCounts;
        QList<qint32> sentThreads;
    };

    explicit MonitorServerPrivate(MonitorServer *owner)
        : q(owner)
    { }

    enum BindResult { Bound, InUse, Failed };
    BindResult bindSocket(QString *error);
    void watchListener();
    void onListenerLost();
    void relisten();
    static bool warningDue(QElapsedTimer *last);

    void onNewConnection();
    void onHandshakeTimeout(QLocalSocket *socket, int msecs);
    void onReadyRead(Client *client);
    bool handle(Client *client, const Message &message);
    void reject(Client *client, const QString &why);
    void dropClient(Client *client, const QString &why);
    void removeClient(Client *client);
    Client *clientOf(QLocalSocket *socket) const;
    int welcomedCount() const;
    static QString describe(const Client *client);

    void attachListeners();
    void detachListeners();
    bool mirrorsReady() const;
    void flush();
    void sendSnapshot(Client *client);
    void send(Client *client, const Message &message);
    void sendFrames(Client *client, const QList<QByteArray> &frames);
    QList<KeeperState> currentStates();
    void noteSent(Client *client, const QList<KeeperState> &states);
    bool countsDifferFor(const Client *client, const QList<KeeperState> &states) const;

    bool writeRegistration();
    void removeRegistration();

    MonitorServer *q;
    QLocalServer server;
    QTimer timer;
    QString name; // given to listen()
    QString path; // the socket's
    // From listen() to close(), also while the listening socket is lost and being restored.
    bool serving = false;
    QMetaObject::Connection listenerWatch;
    QString errorString;
    // The listening socket lost (see onListenerLost()): tries to get it back.
    QTimer relistenTimer;
    // Only where Qt's listener cannot be watched (see watchListener()): checks it now and then.
    QTimer listenerWatchdog;
    QElapsedTimer lastListenerWarning;
    QElapsedTimer lastPendingWarning;
    QElapsedTimer lastRejectWarning;
    bool listenerLossWarned = false; // in the current loss
    int nextClientId = 0;
    int maxClients = kDefaultMaxClients;
    int stalledTimeout = kDefaultStalledTimeoutMs;
    QString registrationPath;
    QDateTime started;
    qint64 bufferLimit = kDefaultBufferLimit;
    int handshakeTimeout = protocol::kHandshakeTimeoutMs;
    // What one update carries per keeper at most, as pk::KeeperFeed's batches.
    int maxFinishedPerUpdate = monitor::kDefaultMaxFinishedPerUpdate;
    int maxNewQueuedPerUpdate = monitor::kDefaultMaxNewQueuedPerUpdate;
    quint64 droppedTotal = 0;
    // One per keeper, its index the keeper's in the protocol; never removed (a keeper that is
    // gone stays, with its last counts).
    std::vector<std::unique_ptr<monitor::TaskCoalescer>> keepers;
    std::vector<std::unique_ptr<Client>> clients;
};

// --- the event stream ------------------------------------------------------------------------

void MonitorServerPrivate::attachListeners()
{
    // Each snapshot comes now, or at the end of the delivery in progress, into the mirror.
    for (const auto &k : keepers)
        k->attach();
}

void MonitorServerPrivate::detachListeners()
{
    // With no monitor attached the coalescers hold nothing.
    for (const auto &k : keepers) {
        k->detach();
        k->reset();
    }
}

bool MonitorServerPrivate::mirrorsReady() const
{
    return std::all_of(keepers.begin(), keepers.end(),
        [](const auto &k) { return k->mirrorReady() || !k->keeper(); });
}

// --- the listening socket --------------------------------------------------------------------

MonitorServerPrivate::BindResult MonitorServerPrivate::bindSocket(QString *error)
{
    // QLocalServer would take the name over from a live program (with access options it binds
    // elsewhere and renames the socket into place): ask first. A live program answers; a socket
    // file left by a crashed one refuses, and is replaced.
    {
        QLocalSocket probe;
        probe.connectToServer(path);
        if (probe.waitForConnected(1000)) {
            probe.abort();
            return InUse;
        }
    }
    bool ok = server.listen(path);
    if (!ok && server.serverError() == QAbstractSocket::AddressInUseError) {
        QLocalServer::removeServer(path);
        ok = server.listen(path);
    }
    if (!ok) {
        *error = server.errorString();
        return Failed;
    }
    watchListener();
    return Bound;
}

void MonitorServerPrivate::watchListener()
{
    // When accept() fails (EMFILE: the process is out of descriptors), QLocalServer closes its
    // listening socket, removes the socket file and emits nothing (Qt 6.4,
    // qlocalserver_unix.cpp); isListening() turns false. What it deletes then is its socket
    // notifier, a direct child: its destruction is the signal to get the socket back.
    QObject::disconnect(std::exchange(listenerWatch, {}));
    const QList<QSocketNotifier *> notifiers
        = server.findChildren<QSocketNotifier *>(QString(), Qt::FindDirectChildrenOnly);
    if (notifiers.size() == 1) {
        listenerWatch = QObject::connect(notifiers.first(), &QObject::destroyed, q, [this] {
            if (serving && !server.isListening())
                onListenerLost();
        });
    } else {
        // Another implementation (Windows, another Qt): look now and then instead.
        listenerWatchdog.start();
    }
}

void MonitorServerPrivate::onListenerLost()
{
    listenerWatchdog.stop();
    QObject::disconnect(std::exchange(listenerWatch, {}));
    const QString why = server.errorString();
    if (server.isListening())
        server.close();
    // The registration stays: the program is still there, and soon reachable again. Attached
    // monitors are not affected.
    listenerLossWarned = warningDue(&lastListenerWarning);
    if (listenerLossWarned) {
        qCWarning(lcMonitor,
            "pk::MonitorServer '%s': lost its listening socket (%s; is the process out of file "
            "descriptors?); no monitor can attach until it is back, tried every %d ms",
            qPrintable(name), qPrintable(why), kRelistenIntervalMs);
    } else {
        qCDebug(lcMonitor, "pk::MonitorServer '%s': lost its listening socket again (%s)",
            qPrintable(name), qPrintable(why));
    }
    relistenTimer.start();
}

void MonitorServerPrivate::relisten()
{
    if (!serving)
        return;
    QString error;
    switch (bindSocket(&error)) {
    case Bound:
        if (listenerLossWarned)
            qCInfo(lcMonitor, "pk::MonitorServer '%s': listening again", qPrintable(name));
        listenerLossWarned = false;
        return;
    case InUse:
        // Another run of the program took the name meanwhile (its registration file too).
        qCWarning(lcMonitor,
            "pk::MonitorServer '%s': the name is in use by another program now; no longer "
            "listening",
            qPrintable(name));
        serving = false;
        registrationPath.clear();
        return;
    case Failed:
        qCDebug(lcMonitor, "pk::MonitorServer '%s': cannot listen yet: %s", qPrintable(name),
            qPrintable(error));
        relistenTimer.start();
        return;
    }
}

// --- clients ---------------------------------------------------------------------------------

MonitorServerPrivate::Client *MonitorServerPrivate::clientOf(QLocalSocket *socket) const
{
    for (const auto &c : clients) {
        if (c->socket == socket)
            return c.get();
    }
    return nullptr;
}

int MonitorServerPrivate::welcomedCount() const
{
    return int(
        std::count_if(clients.begin(), clients.end(), [](const auto &c) { return c->welcomed; }));
}

// "monitor connection 3 (pid 1234)", as the warnings name it.
QString MonitorServerPrivate::describe(const Client *client)
{
    if (client->pid > 0)
        return QStringLiteral("monitor connection %1 (pid %2)").arg(client->id).arg(client->pid);
    return QStringLiteral("monitor connection %1").arg(client->id);
}

// Whether a rate-limited warning may be given now (and if so, restarts \a last).
bool MonitorServerPrivate::warningDue(QElapsedTimer *last)
{
    if (last->isValid() && last->elapsed() < kWarningIntervalMs)
        return false;
    last->start();
    return true;
}

void MonitorServerPrivate::onNewConnection()
{
    while (QLocalSocket *socket = server.nextPendingConnection()) {
        const qsizetype pendingCount = std::count_if(
            clients.begin(), clients.end(), [](const auto &c) { return !c->welcomed; });
        if (pendingCount >= kMaxPendingConnections) {
            // Each one holds a descriptor and a buffer until its deadline: a program (of this
            // user) that opens connections in a loop must not exhaust ours.
            if (warningDue(&lastPendingWarning)) {
                qCWarning(lcMonitor,
                    "pk::MonitorServer '%s': closing a new connection: %d others have not "
                    "completed their handshake yet (further ones are not warned about for a "
                    "minute)",
                    qPrintable(name), kMaxPendingConnections);
            } else {
                qCDebug(lcMonitor, "pk::MonitorServer '%s': closing a new connection: %d pending",
                    qPrintable(name), kMaxPendingConnections);
            }
            // A monitor among them is told why (before its Hello: a Reject needs none), and
            // tries again. The Reject fits in the system's buffer, so the close is immediate.
            Message reject;
            reject.type = MessageType::Reject;
            reject.version = protocol::kVersion;
            reject.text = QStringLiteral("the program has %1 connections in their handshake "
                                         "already")
                              .arg(kMaxPendingConnections);
            socket->write(protocol::frame(protocol::encode(reject)));
            QObject::connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
            socket->disconnectFromServer();
            if (socket->state() == QLocalSocket::UnconnectedState)
                socket->deleteLater();
            continue;
        }
        auto client = std::make_unique<Client>();
        client->socket = socket;
        client->id = ++nextClientId;
        client->pid = localsocket::peerCredentials(*socket).pid;
        Client *c = client.get();
        clients.push_back(std::move(client));
        QObject::connect(socket, &QLocalSocket::readyRead, q, [this, socket] {
            if (Client *found = clientOf(socket))
                onReadyRead(found);
        });
        QObject::connect(socket, &QLocalSocket::disconnected, q, [this, socket] {
            if (Client *found = clientOf(socket))
                removeClient(found);
        });
        // Until its Hello arrives a connection is anybody's (a stuck or foreign program, a
        // port scanner): without a deadline it would keep its socket and buffer forever. The
        // socket is the context, so the timer dies with a connection closed earlier; the
        // deadline runs from the connection, so sending a byte now and then does not extend it.
        QTimer::singleShot(handshakeTimeout, socket,
            [this, socket, msecs = handshakeTimeout] { onHandshakeTimeout(socket, msecs); });
        if (socket->bytesAvailable() > 0)
            onReadyRead(c);
    }
}

void MonitorServerPrivate::onHandshakeTimeout(QLocalSocket *socket, int msecs)
{
    Client *client = clientOf(socket);
    if (!client || client->welcomed)
        return;
    dropClient(client,
        QStringLiteral("no handshake within %1 ms (%2 bytes received)")
            .arg(msecs)
            .arg(client->reader.bufferedBytes()));
}

void MonitorServerPrivate::onReadyRead(Client *client)
{
    QLocalSocket *socket = client->socket;
    client->reader.append(socket->readAll());
    // A Hello takes a few dozen bytes and a monitor sends nothing else before the Welcome: a
    // stranger must not make us buffer a whole frame (kMaxFrameSize) while its deadline runs.
    if (!client->welcomed && client->reader.bufferedBytes() > kMaxHandshakeBytes) {
        dropClient(client,
            QStringLiteral("%1 bytes before the handshake").arg(client->reader.bufferedBytes()));
        return;
    }
    // Handling a message can run user code (a keeper's signals when a listener joins, our
    // clientCountChanged()) that may close the server: look the client up again each time.
    while ((client = clientOf(socket))) {
        QByteArray payload;
        QString error;
        const auto result = client->reader.next(&payload, &error);
        if (result == protocol::FrameReader::NeedMore)
            return;
        if (result == protocol::FrameReader::Error) {
            dropClient(client, error);
            return;
        }
        Message message;
        if (!protocol::decode(payload, &message, &error)) {
            dropClient(client, error);
            return;
        }
        if (!handle(client, message))
            return; // the client is gone
    }
}

bool MonitorServerPrivate::handle(Client *client, const Message &message)
{
    if (!client->welcomed) {
        if (message.type != MessageType::Hello || message.magic != protocol::magic()) {
            dropClient(client, QStringLiteral("it is not a PromiseKeeper monitor (no handshake)"));
            return false;
        }
        if (message.version != protocol::kVersion) {
            const QString text
                = protocol::versionMismatchMessage(protocol::kVersion, message.version);
            qCWarning(lcMonitor,
                "pk::MonitorServer '%s': refused a monitor speaking protocol "
                "version %u; this program speaks version %u",
                qPrintable(name), message.version, protocol::kVersion);
            reject(client, text);
            return false;
        }
        if (welcomedCount() >= maxClients) {
            // Each attached monitor costs up to its buffer limit: their number is bounded too.
            const QString text = QStringLiteral("the program has %1 monitors attached already, "
                                                "as many as it takes")
                                     .arg(welcomedCount());
            // A refused monitor tries again every second or so: warn once a minute.
            if (warningDue(&lastRejectWarning)) {
                qCWarning(lcMonitor,
                    "pk::MonitorServer '%s': refused %s: %d monitors are attached already "
                    "(MonitorServer::maxClients())",
                    qPrintable(name), qPrintable(describe(client)), welcomedCount());
            } else {
                qCDebug(lcMonitor, "pk::MonitorServer '%s': refused %s: %d monitors attached",
                    qPrintable(name), qPrintable(describe(client)), welcomedCount());
            }
            reject(client, text);
            return false;
        }
        Message welcome;
        welcome.type = MessageType::Welcome;
        welcome.version = protocol::kVersion;
        welcome.text = programName();
        welcome.pid = QCoreApplication::applicationPid();
        welcome.keeperLabels = q->keeperLabels();
        send(client, welcome);
        client->welcomed = true;
        client->needsSnapshot = true;
        QLocalSocket *socket = client->socket;
        attachListeners(); // may deliver a batch, and so emit the keepers' signals
        client = clientOf(socket);
        if (!client)
            return false;
        if (!timer.isActive())
            timer.start();
        if (mirrorsReady())
            sendSnapshot(client);
        Q_EMIT q->clientCountChanged(welcomedCount());
        return clientOf(socket) != nullptr;
    }

    switch (message.type) {
    case MessageType::CancelAll:
        for (const auto &k : keepers) {
            if (k->keeper())
                k->keeper()->cancelAll();
        }
        return true;
    case MessageType::CancelTask: {
        // Task ids are unique across keepers: at most one of them has it.
        const bool cancelled = std::any_of(keepers.begin(), keepers.end(), [&](const auto &k) {
            return k->keeper() && k->keeper()->requestCancellation(message.taskId);
        });
        if (!cancelled) {
            qCDebug(lcMonitor, "pk::MonitorServer: task %llu is not live any more", message.taskId);
        }
        return true;
    }
    default:
        dropClient(client,
            QStringLiteral("unexpected message type %1 from a monitor").arg(int(message.type)));
        return false;
    }
}

void MonitorServerPrivate::reject(Client *client, const QString &why)
{
    Message reject;
    reject.type = MessageType::Reject;
    reject.version = protocol::kVersion;
    reject.text = why;
    send(client, reject);
    // Graceful: the rejection is written before the socket closes.
    QLocalSocket *socket = client->socket;
    removeClient(client);
    socket->disconnectFromServer();
}

void MonitorServerPrivate::dropClient(Client *client, const QString &why)
{
    qCWarning(lcMonitor, "pk::MonitorServer '%s': closing %s: %s", qPrintable(name),
        qPrintable(describe(client)), qPrintable(why));
    QLocalSocket *socket = client->socket;
    removeClient(client);
    socket->abort();
    socket->deleteLater();
}

void MonitorServerPrivate::removeClient(Client *client)
{
    QLocalSocket *socket = client->socket;
    const bool wasWelcomed = client->welcomed;
    // The socket may be inside one of its own signals: delete it later, and never look at it
    // again (its signals are disconnected from us).
    QObject::disconnect(socket, nullptr, q, nullptr);
    QObject::connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
    if (socket->state() == QLocalSocket::UnconnectedState)
        socket->deleteLater();
    clients.erase(std::find_if(
        clients.begin(), clients.end(), [client](const auto &c) { return c.get() == client; }));
    if (welcomedCount() == 0) {
        timer.stop();
        detachListeners();
    }
    if (wasWelcomed)
        Q_EMIT q->clientCountChanged(welcomedCount());
}

// --- sending ---------------------------------------------------------------------------------

void MonitorServerPrivate::send(Client *client, const Message &message)
{
    client->socket->write(protocol::frame(protocol::encode(message)));
}

void MonitorServerPrivate::sendFrames(Client *client, const QList<QByteArray> &frames)
{
    for (const QByteArray &f : frames)
        client->socket->write(f);
}

QList<KeeperState> MonitorServerPrivate::currentStates()
{
    QList<KeeperState> states;
    for (std::size_t i = 0; i < keepers.size(); ++i) {
        monitor::TaskCoalescer &k = *keepers[i];
        KeeperState s;
        s.keeper = qint32(i);
        k.refreshStatus(); // the counts it had last stay, for when it is gone
        s.counts = k.status().counts;
        s.threadCount = k.keeper() ? k.keeper()->threadCount() : 0;
        states.append(s);
    }
    return states;
}

void MonitorServerPrivate::noteSent(Client *client, const QList<KeeperState> &states)
{
    client->sentCounts.clear();
    client->sentThreads.clear();
    for (const KeeperState &s : states) {
        client->sentCounts.append(s.counts);
        client->sentThreads.append(s.threadCount);
    }
}

bool MonitorServerPrivate::countsDifferFor(
    const Client *client, const QList<KeeperState> &states) const
{
    if (client->sentCounts.size() != states.size())
        return true;
    for (qsizetype i = 0; i < states.size(); ++i) {
        if (client->sentCounts[i] != states[i].counts
            || client->sentThreads[i] != states[i].threadCount)
            return true;
    }
    return false;
}

void MonitorServerPrivate::sendSnapshot(Client *client)
{
    const QList<KeeperState> states = currentStates();
    Message prototype;
    prototype.type = MessageType::Snapshot;
    prototype.more = true;
    MessagePacker packer(prototype);

    quint64 left = 0; // live tasks beyond the budget
    qint64 budget = std::min(kSnapshotBudget, bufferLimit / 2);
    for (std::size_t i = 0; i < keepers.size(); ++i) {
        monitor::TaskCoalescer &k = *keepers[i];
        QList<TaskInfo> recent;
        recent.reserve(qsizetype(k.mirrorRecent().size()));
        for (const TaskInfo &t : k.mirrorRecent()) {
            recent.append(protocol::truncated(t));
            budget -= protocol::encodedSize(recent.last());
        }
        QList<TaskInfo> live;
        live.reserve(k.mirrorLive().size());
        k.mirrorLive().forEach([&live](const TaskInfo &t) { live.append(protocol::truncated(t)); });
        sortLive(live);
        qsizetype fits = 0;
        while (fits < live.size() && budget >= protocol::encodedSize(live[fits]))
            budget -= protocol::encodedSize(live[fits++]);
        left += quint64(live.size() - fits);
        // Running tasks first, then the others by id: what it carried is the running tasks and
        // the others up to the last id that fit.
        quint64 idLimit = std::numeric_limits<quint64>::max();
        if (fits < live.size()) {
            idLimit = fits > 0 && live[fits - 1].state() != TaskState::Running ? live[fits - 1].id()
                                                                               : 0;
        }
        k.markCarried(idLimit);
        live.resize(fits);

        // The first part of each keeper carries its counts and its recent tasks; more parts
        // follow for long lists.
        KeeperState first = states[qsizetype(i)];
        first.recentlyFinished = std::move(recent);
        const QList<QList<TaskInfo>> chunks = protocol::chunked(live, protocol::kChunkTargetSize);
        if (!chunks.isEmpty())
            first.tasks = chunks.first();
        packer.add(std::move(first));
        for (qsizetype c = 1; c < chunks.size(); ++c) {
            KeeperState part = states[qsizetype(i)];
            part.tasks = chunks[c];
            packer.add(std::move(part));
        }
    }
    QList<Message> messages = packer.finish();
    messages.last().more = false;
    messages.last().droppedDetail = left + std::exchange(client->droppedDetail, 0);
    droppedTotal += left;
    for (const Message &m : std::as_const(messages))
        send(client, m);
    client->needsSnapshot = false;
    noteSent(client, states);
}

void MonitorServerPrivate::flush()
{
    // The changes since the last flush, the same for every monitor that keeps up.
    quint64 keeperDropped = 0;
    quint64 finishedDropped = 0; // left out by maxFinishedPerUpdate
    qsizetype changeCount = 0;
    qint64 batchBytes = 0;
    const QList<KeeperState> states = currentStates();
    Message prototype;
    prototype.type = MessageType::Update;
    MessagePacker packer(prototype);
    for (std::size_t i = 0; i < keepers.size(); ++i) {
        QList<TaskInfo> changes;
        // The timer runs while monitors are attached: held-back tasks need no wake-up.
        bool heldBack = false;
        quint64 eventsDropped = 0;
        const quint64 dropped = keepers[i]->takeBatch(
            &changes, maxFinishedPerUpdate, maxNewQueuedPerUpdate, &heldBack, &eventsDropped);
        keeperDropped += eventsDropped;
        finishedDropped += dropped - eventsDropped;
        changeCount += changes.size();
        for (TaskInfo &t : changes) {
            t = protocol::truncated(std::move(t));
            batchBytes += protocol::encodedSize(t);
        }
        const QList<QList<TaskInfo>> chunks
            = protocol::chunked(changes, protocol::kChunkTargetSize);
        if (chunks.isEmpty())
            packer.add(states[qsizetype(i)]);
        for (const QList<TaskInfo> &chunk : chunks) {
            KeeperState part = states[qsizetype(i)];
            part.tasks = chunk;
            packer.add(std::move(part));
        }
    }
    QList<Message> messages = packer.finish();
    // Every monitor misses the tasks the bound left out: they are no client's lag.
    droppedTotal += finishedDropped;
    keeperDropped += finishedDropped;
    messages.last().droppedDetail = keeperDropped;
    QList<QByteArray> frames; // encoded once, when the first monitor takes them

    const qint64 hardLimit = bufferLimit * kHardLimitFactor;
    // A copy: dropping a client changes the list.
    std::vector<Client *> current;
    for (const auto &c : clients)
        current.push_back(c.get());
    for (Client *client : current) {
        if (!client->welcomed)
            continue;
        const qint64 buffered = client->socket->bytesToWrite();
        if (buffered > hardLimit) {
            dropClient(
                client, QStringLiteral("it has not read %1 bytes; it seems stuck").arg(buffered));
            continue;
        }
        if (client->needsSnapshot && buffered <= bufferLimit / 2 && mirrorsReady()) {
            // Caught up (or new): a snapshot holds everything, including this flush's changes.
            sendSnapshot(client);
            client->behindSince.invalidate();
            continue;
        }
        if (client->needsSnapshot || buffered + batchBytes > bufferLimit) {
            // Its buffer holds its updates back (unless it only waits for the mirrors). Below
            // the hard limit it only gets counts, which a monitor that never reads would take
            // for ever, each holding about clientBufferLimit(): it has a time limit too.
            if (!client->needsSnapshot || buffered > bufferLimit / 2) {
                if (!client->behindSince.isValid()) {
                    client->behindSince.start();
                } else if (client->behindSince.elapsed() >= stalledTimeout) {
                    dropClient(client,
                        QStringLiteral("it has not kept up for %1 ms (%2 bytes wait to be sent to "
                                       "it); it seems stuck")
                            .arg(client->behindSince.elapsed())
                            .arg(buffered));
                    continue;
                }
            }
            // Too slow for this batch (or too big a batch): only the counts now, and a
            // snapshot once its buffer has drained.
            client->needsSnapshot = true;
            client->droppedDetail += quint64(changeCount) + keeperDropped;
            droppedTotal += quint64(changeCount);
            if (countsDifferFor(client, states)) {
                Message m;
                m.type = MessageType::Update;
                m.keepers = states;
                m.droppedDetail = std::exchange(client->droppedDetail, 0);
                send(client, m);
                noteSent(client, states);
            }
            continue;
        }
        client->behindSince.invalidate();
        if (changeCount == 0 && keeperDropped == 0 && !countsDifferFor(client, states))
            continue;
        if (frames.isEmpty()) {
            for (const Message &m : std::as_const(messages))
                frames.append(protocol::frame(protocol::encode(m)));
        }
        sendFrames(client, frames);
        noteSent(client, states);
    }
}

// --- registration ----------------------------------------------------------------------------

bool MonitorServerPrivate::writeRegistration()
{
    QString error;
    const QString dir = localsocket::ensureDirectory(&error);
    if (dir.isEmpty()) {
        qCWarning(lcMonitor, "pk::MonitorServer: %s; pk-monitor --list will not show '%s'",
            qPrintable(error), qPrintable(name));
        return false;
    }
    QJsonObject o;
    o.insert(QStringLiteral("name"), name);
    o.insert(QStringLiteral("fullServerName"), path);
    o.insert(QStringLiteral("pid"), QCoreApplication::applicationPid());
    o.insert(QStringLiteral("program"), programName());
    o.insert(QStringLiteral("started"), started.toString(Qt::ISODateWithMs));
    o.insert(QStringLiteral("protocolVersion"), qint64(protocol::kVersion));
    o.insert(QStringLiteral("keepers"), QJsonArray::fromStringList(q->keeperLabels()));
    registrationPath = QDir(dir).filePath(registryFileName(name));
    QSaveFile file(registrationPath);
    // 0600 before the data goes in, on the temporary file that commit() renames into place.
    if (!file.open(QIODevice::WriteOnly)
        || !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)
        || file.write(QJsonDocument(o).toJson()) < 0 || !file.commit()) {
        qCWarning(lcMonitor, "pk::MonitorServer: cannot write %s: %s", qPrintable(registrationPath),
            qPrintable(file.errorString()));
        registrationPath.clear();
        return false;
    }
    return true;
}

void MonitorServerPrivate::removeRegistration()
{
    if (!registrationPath.isEmpty())
        QFile::remove(registrationPath);
    registrationPath.clear();
}

// --- MonitorServer ---------------------------------------------------------------------------

MonitorServer::MonitorServer(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<MonitorServerPrivate>(this))
{
    // The socket file 0700 (Unix), the pipe for this user only (Windows), whatever directory
    // it is in.
    d->server.setSocketOptions(QLocalServer::UserAccessOption);
    d->timer.setInterval(monitor::kDefaultUpdateIntervalMs);
    d->relistenTimer.setSingleShot(true);
    d->relistenTimer.setInterval(kRelistenIntervalMs);
    connect(&d->relistenTimer, &QTimer::timeout, this, [this] { d->relisten(); });
    d->listenerWatchdog.setInterval(1000);
    connect(&d->listenerWatchdog, &QTimer::timeout, this, [this] {
        if (d->serving && !d->server.isListening() && !d->relistenTimer.isActive())
            d->onListenerLost();
    });
    connect(&d->timer, &QTimer::timeout, this, [this] { d->flush(); });
    connect(&d->server, &QLocalServer::newConnection, this, [this] { d->onNewConnection(); });
}

MonitorServer::~MonitorServer()
{
    close();
    // The monitors should see how the program ended: give the sockets still writing their last
    // changes and goodbye a short, bounded time to hand them over (a stuck monitor cannot
    // delay the exit longer than that). The sockets are children of the QLocalServer.
    QDeadlineTimer deadline(kCloseWaitMs);
    const QList<QLocalSocket *> sockets = d->server.findChildren<QLocalSocket *>();
    for (QLocalSocket *socket : sockets) {
        while (socket->state() != QLocalSocket::UnconnectedState && socket->bytesToWrite() > 0
            && !deadline.hasExpired()) {
            if (!socket->waitForBytesWritten(int(std::max<qint64>(deadline.remainingTime(), 1))))
                break;
        }
    }
}

void MonitorServer::addKeeper(PromiseKeeper *keeper, const QString &label)
{
    if (!keeper) {
        qCWarning(lcMonitor, "pk::MonitorServer::addKeeper: no keeper given");
        return;
    }
    if (keeper->thread() != thread()) {
        qCWarning(lcMonitor,
            "pk::MonitorServer::addKeeper: the keeper lives in another thread; "
            "create the server in the keeper's thread");
        return;
    }
    for (const auto &k : d->keepers) {
        if (k->keeper() == keeper)
            return;
    }
    const QString name
        = monitor::TaskCoalescer::labelFor(keeper, label, qsizetype(d->keepers.size()));
    // The server's timer runs while monitors are attached, and a monitor that joins takes its
    // snapshot once all mirrors are ready: nothing to do on a change or a keeper's snapshot.
    auto entry = std::make_unique<monitor::TaskCoalescer>(
        keeper, name, [] {}, [] {});
    entry->enableMirror([priv = d.get()] {
        for (const auto &c : priv->clients)
            c->needsSnapshot = true;
    });
    monitor::TaskCoalescer *raw = entry.get();
    raw->setMaxFinished(d->maxFinishedPerUpdate);
    // The counts it had last, for when it is gone.
    raw->refreshStatus();
    connect(keeper, &PromiseKeeper::countsChanged, this, [raw] { raw->refreshStatus(); });
    // Its destructor ran: it is no longer a source, and its listener list is gone.
    connect(keeper, &QObject::destroyed, this, [raw] { raw->keeperGone(); });
    d->keepers.push_back(std::move(entry));
    if (d->welcomedCount() > 0)
        d->attachListeners();
    if (!d->registrationPath.isEmpty())
        d->writeRegistration(); // the keeper list changed
}

QStringList MonitorServer::keeperLabels() const
{
    QStringList labels;
    for (const auto &k : d->keepers)
        labels.append(k->label());
    return labels;
}

bool MonitorServer::listen(const QString &name)
{
    if (d->serving) {
        d->errorString = QStringLiteral("already listening as '%1'").arg(d->name);
        return false;
    }
    QString error;
    const QString path = localsocket::socketPath(name, &error);
    // A plain name's socket goes in the private directory, where no other user can take it.
    if (path.isEmpty()
        || (!QDir::isAbsolutePath(name) && localsocket::ensureDirectory(&error).isEmpty())) {
        d->errorString = QStringLiteral("cannot listen as '%1': %2").arg(name, error);
        return false;
    }
    // serverName() and fullServerName() keep the previous ones if this fails.
    const QString previousPath = std::exchange(d->path, path);
    switch (d->bindSocket(&error)) {
    case MonitorServerPrivate::Bound:
        break;
    case MonitorServerPrivate::InUse:
        d->path = previousPath;
        d->errorString = QStringLiteral("the name '%1' is in use by another program").arg(name);
        return false;
    case MonitorServerPrivate::Failed:
        d->path = previousPath;
        d->errorString = QStringLiteral("cannot listen as '%1': %2").arg(name, error);
        return false;
    }
    d->name = name;
    d->serving = true;
    d->started = QDateTime::currentDateTime();
    d->errorString.clear();
    d->writeRegistration();
    return true;
}

bool MonitorServer::isListening() const
{
    return d->server.isListening();
}

void MonitorServer::close()
{
    d->serving = false;
    d->relistenTimer.stop();
    d->listenerWatchdog.stop();
    QObject::disconnect(std::exchange(d->listenerWatch, {}));
    if (d->server.isListening())
        d->server.close();
    d->removeRegistration();
    if (d->clients.empty())
        return;
    // The last changes and counts, then a goodbye; each socket closes once that is written.
    d->flush();
    Message bye;
    bye.type = MessageType::Goodbye;
    bye.text = QStringLiteral("the program closed its monitor server");
    while (!d->clients.empty()) {
        MonitorServerPrivate::Client *client = d->clients.back().get();
        QLocalSocket *socket = client->socket;
        if (client->welcomed)
            d->send(client, bye);
        d->removeClient(client);
        socket->disconnectFromServer();
    }
}

QString MonitorServer::serverName() const
{
    return d->name;
}

QString MonitorServer::fullServerName() const
{
    return d->path;
}

QString MonitorServer::errorString() const
{
    return d->errorString;
}

int MonitorServer::clientCount() const
{
    return d->welcomedCount();
}

qint64 MonitorServer::clientBufferLimit() const
{
    return d->bufferLimit;
}

void MonitorServer::setClientBufferLimit(qint64 bytes)
{
    d->bufferLimit = std::max<qint64>(bytes, 64 * 1024);
}

int MonitorServer::updateInterval() const
{
    return d->timer.interval();
}

void MonitorServer::setUpdateInterval(int msecs)
{
    d->timer.setInterval(std::max(msecs, 1));
}

int MonitorServer::handshakeTimeout() const
{
    return d->handshakeTimeout;
}

void MonitorServer::setHandshakeTimeout(int msecs)
{
    d->handshakeTimeout = std::max(msecs, 1);
}

int MonitorServer::maxClients() const
{
    return d->maxClients;
}

void MonitorServer::setMaxClients(int count)
{
    d->maxClients = std::max(count, 1);
}

int MonitorServer::stalledClientTimeout() const
{
    return d->stalledTimeout;
}

void MonitorServer::setStalledClientTimeout(int msecs)
{
    d->stalledTimeout = std::max(msecs, 1);
}

int MonitorServer::maxFinishedPerUpdate() const
{
    return d->maxFinishedPerUpdate;
}

void MonitorServer::setMaxFinishedPerUpdate(int count)
{
    d->maxFinishedPerUpdate = std::max(count, 1);
    for (const auto &k : d->keepers)
        k->setMaxFinished(d->maxFinishedPerUpdate);
}

int MonitorServer::maxNewQueuedPerUpdate() const
{
    return d->maxNewQueuedPerUpdate;
}

void MonitorServer::setMaxNewQueuedPerUpdate(int count)
{
    d->maxNewQueuedPerUpdate = std::max(count, 1);
}

quint64 MonitorServer::droppedDetailCount() const
{
    return d->droppedTotal;
}

QString MonitorServer::registryDirectory()
{
    return localsocket::directory();
}

QList<MonitorServerInfo> MonitorServer::availableServers()
{
    QList<MonitorServerInfo> servers;
    const QString dirPath = registryDirectory();
    if (dirPath.isEmpty())
        return servers;
    const QDir dir(dirPath);
    const QStringList files = dir.entryList({ QStringLiteral("*.json") }, QDir::Files, QDir::Name);
    for (const QString &fileName : files) {
        QFile file(dir.filePath(fileName));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QJsonObject o = QJsonDocument::fromJson(file.readAll()).object();
        MonitorServerInfo info;
        info.name = o.value(QLatin1String("name")).toString();
        info.pid = o.value(QLatin1String("pid")).toInteger();
        info.program = o.value(QLatin1String("program")).toString();
        info.started = QDateTime::fromString(
            o.value(QLatin1String("started")).toString(), Qt::ISODateWithMs);
        info.protocolVersion = quint32(o.value(QLatin1String("protocolVersion")).toInteger());
        const QJsonArray keepers = o.value(QLatin1String("keepers")).toArray();
        for (const QJsonValue &v : keepers)
            info.keepers.append(v.toString());
        // A program that crashed left its file behind: skip it.
        if (info.name.isEmpty() || !processAlive(info.pid))
            continue;
        servers.append(info);
    }
    return servers;
}

} // namespace pk
