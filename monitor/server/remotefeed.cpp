#include "localsocket_p.h"
#include "remotefeed_p.h"

#include <QtCore/qpointer.h>
#include <QtNetwork/qlocalsocket.h>

#include <algorithm>

namespace pk {

using protocol::KeeperState;
using protocol::Message;
using protocol::MessageType;

namespace {
constexpr int kDefaultRetryMs = 1000;
} // namespace

void RemoteFeedPrivate::attempt()
{
    dropSocket();
    if (name.isEmpty() || state == State::Refused)
        return;
    // Once per name: without XDG_RUNTIME_DIR, Qt warns each time it is asked for the runtime
    // directory, and the feed retries every second.
    QString why;
    if (path.isEmpty() && (path = localsocket::socketPath(name, &why)).isEmpty()) {
        // A name that can never work: say so, and do not retry.
        refuse(why);
        return;
    }
    state = State::Connecting;
    reader = protocol::FrameReader();
    goodbye = false;
    socket = new QLocalSocket(q);
    handshakeTimer.start(handshakeTimeout);
    QLocalSocket *s = socket;
    QObject::connect(s, &QLocalSocket::connected, q, [this, s] {
        if (s != socket)
            return;
        // Anyone can listen on a full path in a shared directory: a server of another user
        // could send anything, and is not the program the user means.
        QString stranger;
        if (!localsocket::isOwnServer(*s, path, &stranger)) {
            refuseForNow(stranger);
            return;
        }
        state = State::Handshaking;
        send(Message::hello());
    });
    QObject::connect(s, &QLocalSocket::readyRead, q, [this, s] {
        if (s == socket)
            onReadyRead();
    });
    // Unconnected covers both a failed attempt (no program, or a stale socket file) and a
    // closed connection. What the program wrote before closing (its last counts, its goodbye)
    // is read first.
    QObject::connect(
        s, &QLocalSocket::stateChanged, q, [this, s](QLocalSocket::LocalSocketState newState) {
            if (newState != QLocalSocket::UnconnectedState || !readRest(s))
                return;
            if (goodbye)
                lost(QStringLiteral("the program closed its monitor server"));
            else if (s->error() != QLocalSocket::UnknownSocketError)
                lost(s->errorString());
            else
                lost(QStringLiteral("the connection closed"));
        });
    s->connectToServer(path);
}

void RemoteFeedPrivate::dropSocket()
{
    if (!socket)
        return;
    handshakeTimer.stop();
    QLocalSocket *s = std::exchange(socket, nullptr);
    QObject::disconnect(s, nullptr, q, nullptr);
    s->abort();
    s->deleteLater();
}

void RemoteFeedPrivate::send(const Message &message)
{
    if (socket)
        socket->write(protocol::frame(protocol::encode(message)));
}

// The connection ended or an attempt failed because of \a why: tells the user (with \a notice
// if given, else a message of its own) unless that was said already, and tries again later.
void RemoteFeedPrivate::lost(const QString &why, const QString &notice)
{
    const State was = state;
    dropSocket();
    if (was == State::Refused || was == State::Idle)
        return;
    state = State::Connecting;
    error = why;
    const QString wentAway = QStringLiteral("program went away — waiting for it to come back");
    QString message = notice;
    if (was == State::Attached)
        message = wentAway;
    else if (message.isEmpty() && announced != wentAway)
        message = QStringLiteral("waiting for the program '%1' to start").arg(name);
    if (!message.isEmpty() && message != announced) {
        announced = message;
        QPointer<RemoteFeed> alive(q);
        Q_EMIT q->connectionChanged(false, message);
        if (!alive)
            return;
    }
    if (state == State::Connecting && !name.isEmpty())
        retryTimer.start();
}

// Not to be retried (a bad name, another protocol version): stays refused until
// connectToServer() is called again.
void RemoteFeedPrivate::refuse(const QString &why)
{
    error = why;
    qCWarning(lcMonitor, "pk::RemoteFeed: '%s': %s", qPrintable(name), qPrintable(error));
    dropSocket();
    state = State::Refused;
    announced = why;
    Q_EMIT q->connectionChanged(false, error);
}

// Not now (another user's server, a program with all the monitors it takes): said once per
// streak, and tried again every retryInterval() like a program that went away.
void RemoteFeedPrivate::refuseForNow(const QString &why)
{
    const QString notice = why + QStringLiteral(" — trying again");
    if (notice != announced)
        qCWarning(lcMonitor, "pk::RemoteFeed: '%s': %s", qPrintable(name), qPrintable(why));
    else
        qCDebug(lcMonitor, "pk::RemoteFeed: '%s': %s", qPrintable(name), qPrintable(why));
    lost(why, notice);
}

void RemoteFeedPrivate::fail(const QString &why)
{
    qCWarning(lcMonitor, "pk::RemoteFeed: closing the connection to '%s': %s", qPrintable(name),
        qPrintable(why));
    lost(why);
}

void RemoteFeedPrivate::onHandshakeTimeout()
{
    if (!socket || state == State::Attached)
        return;
    const int msecs = handshakeTimer.interval(); // this attempt's, if it changed since
    const QString why = state == State::Handshaking
        ? QStringLiteral("the program '%1' did not answer the handshake within %2 ms")
              .arg(name)
              .arg(msecs)
        : QStringLiteral("the program '%1' did not accept the connection within %2 ms")
              .arg(name)
              .arg(msecs);
    const QString notice = why + QStringLiteral(" — trying again");
    // Once per streak: a hung program is retried every retryInterval(), and would otherwise
    // fill the log.
    if (notice != announced) {
        qCWarning(lcMonitor, "pk::RemoteFeed: closing the connection to '%s': %s", qPrintable(name),
            qPrintable(why));
    } else {
        qCDebug(lcMonitor, "pk::RemoteFeed: closing the connection to '%s': %s", qPrintable(name),
            qPrintable(why));
    }
    lost(why, notice);
}

// Reads what \a s still holds; whether \a s is still the current socket (and the feed alive).
bool RemoteFeedPrivate::readRest(QLocalSocket *s)
{
    if (s != socket)
        return false;
    if (s->bytesAvailable() > 0) {
        QPointer<RemoteFeed> alive(q);
        onReadyRead();
        if (!alive)
            return false;
    }
    return s == socket;
}

void RemoteFeedPrivate::onReadyRead()
{
    receive(socket->readAll());
}

void RemoteFeedPrivate::receive(const QByteArray &bytes)
{
    QPointer<RemoteFeed> alive(q);
    QLocalSocket *s = socket;
    reader.append(bytes);
    while (alive && s == socket) {
        QByteArray payload;
        QString why;
        const auto result = reader.next(&payload, &why);
        if (result == protocol::FrameReader::NeedMore)
            return;
        if (result == protocol::FrameReader::Error) {
            fail(why);
            return;
        }
        Message message;
        if (!protocol::decode(payload, &message, &why)) {
            fail(why);
            return;
        }
        if (!handle(message))
            return;
    }
}

bool RemoteFeedPrivate::handle(const Message &message)
{
    if (state == State::Handshaking) {
        if (message.type == MessageType::Reject && message.version == protocol::kVersion) {
            // Same version: refused for another reason, which it gives (too many monitors).
            refuseForNow(message.text.isEmpty()
                    ? QStringLiteral("the program refused the monitor")
                    : QStringLiteral("the program refused the monitor: %1").arg(message.text));
            return false;
        }
        if (message.type == MessageType::Reject
            || (message.type == MessageType::Welcome && message.version != protocol::kVersion)) {
            refuse(protocol::versionMismatchMessage(message.version, protocol::kVersion));
            return false;
        }
        if (message.type != MessageType::Welcome) {
            fail(QStringLiteral("the program did not answer the handshake"));
            return false;
        }
        handshakeTimer.stop();
        state = State::Attached;
        announced.clear();
        error.clear();
        program = message.text;
        pid = message.pid;
        labels = message.keeperLabels;
        counts = QList<TaskCounts>(labels.size());
        threads = QList<int>(labels.size(), 0);
        snapshotLive.clear();
        snapshotRecent.clear();
        snapshotDropped = 0;
        Q_EMIT q->connectionChanged(true, QStringLiteral("attached to %1").arg(q->sourceName()));
        return true;
    }

    switch (message.type) {
    case MessageType::Snapshot: {
        applyStates(message.keepers, &snapshotLive, &snapshotRecent);
        snapshotDropped += message.droppedDetail;
        if (message.more)
            return true;
        QList<TaskInfo> live = std::exchange(snapshotLive, {});
        QList<TaskInfo> recent = std::exchange(snapshotRecent, {});
        // Oldest first, across keepers.
        std::stable_sort(recent.begin(), recent.end(), [](const TaskInfo &a, const TaskInfo &b) {
            return a.finishedAtNsecs() < b.finishedAtNsecs();
        });
        const quint64 dropped = std::exchange(snapshotDropped, 0);
        QPointer<RemoteFeed> alive(q);
        Q_EMIT q->snapshot(live, recent, totalThreads());
        if (!alive)
            return false;
        Q_EMIT q->updated({}, totalCounts(), totalThreads(), dropped);
        return alive;
    }
    case MessageType::Update: {
        QList<TaskInfo> changes;
        applyStates(message.keepers, &changes, nullptr);
        QPointer<RemoteFeed> alive(q);
        Q_EMIT q->updated(changes, totalCounts(), totalThreads(), message.droppedDetail);
        return alive;
    }
    case MessageType::Goodbye:
        goodbye = true;
        return true;
    default:
        fail(QStringLiteral("unexpected message type %1 from the program").arg(int(message.type)));
        return false;
    }
}

void RemoteFeedPrivate::applyStates(
    const QList<KeeperState> &states, QList<TaskInfo> *tasks, QList<TaskInfo> *recent)
{
    for (const KeeperState &s : states) {
        // A keeper added after the handshake is not part of this session.
        if (s.keeper >= labels.size())
            continue;
        Q_ASSERT(s.keeper >= 0); // the decoder checks the index
        counts[s.keeper] = s.counts;
        threads[s.keeper] = s.threadCount;
        // The wire does not repeat the label with every task: the Welcome said it once.
        const QString &label = labels.at(s.keeper);
        for (TaskInfo info : s.tasks) {
            info.setKeeperName(label);
            tasks->append(std::move(info));
        }
        if (recent) {
            for (TaskInfo info : s.recentlyFinished) {
                info.setKeeperName(label);
                recent->append(std::move(info));
            }
        }
    }
}

// The decoder bounds what these add up (kMaxKeepers keepers, each count at most kMaxTaskCount
// and each thread count at most kMaxThreadCount): the sums cannot overflow.
TaskCounts RemoteFeedPrivate::totalCounts() const
{
    TaskCounts total;
    for (const TaskCounts &c : counts)
        total += c;
    return total;
}

int RemoteFeedPrivate::totalThreads() const
{
    int total = 0;
    for (const int t : threads)
        total += t;
    return total;
}

RemoteFeed::RemoteFeed(QObject *parent)
    : MonitorFeed(parent)
    , d(std::make_unique<RemoteFeedPrivate>(this))
{
    d->retryTimer.setSingleShot(true);
    d->retryTimer.setInterval(kDefaultRetryMs);
    connect(&d->retryTimer, &QTimer::timeout, this, [this] { d->attempt(); });
    d->handshakeTimer.setSingleShot(true);
    connect(&d->handshakeTimer, &QTimer::timeout, this, [this] { d->onHandshakeTimeout(); });
}

RemoteFeed::~RemoteFeed()
{
    d->dropSocket();
}

void RemoteFeed::connectToServer(const QString &name)
{
    disconnectFromServer();
    d->name = name;
    d->path.clear();
    d->announced.clear();
    d->attempt();
}

void RemoteFeed::disconnectFromServer()
{
    d->retryTimer.stop();
    const bool wasAttached = d->state == RemoteFeedPrivate::State::Attached;
    d->dropSocket();
    d->state = RemoteFeedPrivate::State::Idle;
    if (wasAttached)
        Q_EMIT connectionChanged(false, QStringLiteral("detached"));
}

QString RemoteFeed::serverName() const
{
    return d->name;
}

bool RemoteFeed::isWaiting() const
{
    using State = RemoteFeedPrivate::State;
    return d->state == State::Connecting || d->state == State::Handshaking;
}

bool RemoteFeed::isConnected() const
{
    return d->state == RemoteFeedPrivate::State::Attached;
}

QString RemoteFeed::sourceName() const
{
    if (!isConnected())
        return d->name;
    return QStringLiteral("pid %1 (%2)").arg(d->pid).arg(d->program);
}

void RemoteFeed::cancelTask(quint64 taskId)
{
    if (!isConnected()) {
        qCInfo(lcMonitor, "pk::RemoteFeed: not attached; cannot cancel task %llu", taskId);
        return;
    }
    Message m;
    m.type = MessageType::CancelTask;
    m.taskId = taskId;
    d->send(m);
}

void RemoteFeed::cancelAll()
{
    if (!isConnected()) {
        qCInfo(lcMonitor, "pk::RemoteFeed: not attached; cannot cancel");
        return;
    }
    Message m;
    m.type = MessageType::CancelAll;
    d->send(m);
}

QList<KeeperStatus> RemoteFeed::keepers() const
{
    QList<KeeperStatus> list;
    Q_ASSERT(d->counts.size() == d->labels.size() && d->threads.size() == d->labels.size());
    for (qsizetype i = 0; i < d->labels.size(); ++i)
        list.append({ d->labels.at(i), d->threads.at(i), d->counts.at(i) });
    return list;
}

QString RemoteFeed::programName() const
{
    return d->program;
}

qint64 RemoteFeed::programPid() const
{
    return d->pid;
}

QStringList RemoteFeed::keeperLabels() const
{
    return d->labels;
}

TaskCounts RemoteFeed::counts() const
{
    return d->totalCounts();
}

int RemoteFeed::threadCount() const
{
    return d->totalThreads();
}

QString RemoteFeed::errorString() const
{
    return d->error;
}

int RemoteFeed::retryInterval() const
{
    return d->retryTimer.interval();
}

void RemoteFeed::setRetryInterval(int msecs)
{
    d->retryTimer.setInterval(std::max(msecs, 1));
}

int RemoteFeed::handshakeTimeout() const
{
    return d->handshakeTimeout;
}

void RemoteFeed::setHandshakeTimeout(int msecs)
{
    // QTimer::setInterval() on a running timer restarts it: keep the attempt in progress on
    // the deadline it started with.
    d->handshakeTimeout = std::max(msecs, 1);
}

} // namespace pk
