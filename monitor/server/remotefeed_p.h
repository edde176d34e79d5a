// The private part of pk::RemoteFeed, exported for the fuzzers only.
#pragma once

#include "protocol_p.h"

#include <pk/remotefeed.h>

#include <QtCore/qtimer.h>

QT_BEGIN_NAMESPACE
class QLocalSocket;
QT_END_NAMESPACE

namespace pk {

/*
    One QLocalSocket per attempt: a failed or closed socket is dropped (later, since it may be
    inside one of its own signals) and a fresh one tries again when the retry timer fires.
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT RemoteFeedPrivate
{
public:
    enum class State { Idle, Connecting, Handshaking, Attached, Refused };

    explicit RemoteFeedPrivate(RemoteFeed *feed)
        : q(feed)
    { }

    //! The private part of \a feed (for the fuzzers, which feed it bytes without a socket).
    static RemoteFeedPrivate *get(RemoteFeed *feed) { return feed->d.get(); }

    void attempt();
    void onReadyRead();
    //! Takes bytes as read from the socket: cuts frames, decodes and handles them, until one
    //! fails (the connection is then closed with a warning).
    void receive(const QByteArray &bytes);
    bool readRest(QLocalSocket *s);
    bool handle(const protocol::Message &message);
    void lost(const QString &why, const QString &notice = {});
    void fail(const QString &why);
    void refuse(const QString &why);
    void refuseForNow(const QString &why);
    void onHandshakeTimeout();
    void dropSocket();
    void send(const protocol::Message &message);
    void applyStates(const QList<protocol::KeeperState> &states, QList<TaskInfo> *tasks,
        QList<TaskInfo> *recent);
    TaskCounts totalCounts() const;
    int totalThreads() const;

    RemoteFeed *q;
    QString name;
    QString path; // of the socket, from the name (on the first attempt)
    State state = State::Idle;
    QLocalSocket *socket = nullptr;
    protocol::FrameReader reader;
    QTimer retryTimer;
    // From connectToServer() on the socket to the Welcome: a program that accepts but never
    // answers (hung, or something else on the name) must not hold the feed forever.
    QTimer handshakeTimer;
    int handshakeTimeout = protocol::kHandshakeTimeoutMs;
    // The last connectionChanged(false, ...) message, so that a program that keeps failing the
    // same way is announced once, not at every retry. Empty while attached.
    QString announced;
    bool goodbye = false;
    QString error;

    QString program;
    qint64 pid = 0;
    QStringList labels;
    QList<TaskCounts> counts;
    QList<int> threads;

    // A snapshot arrives in chunks; it is emitted once complete.
    QList<TaskInfo> snapshotLive;
    QList<TaskInfo> snapshotRecent;
    quint64 snapshotDropped = 0;
};

} // namespace pk
