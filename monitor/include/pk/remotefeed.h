// pk::RemoteFeed: a MonitorFeed over a program attached by name (its pk::MonitorServer).
#pragma once

#include <pk/monitorfeed.h>

#include <QtCore/qstringlist.h>

#include <memory>

namespace pk {

class RemoteFeedPrivate;

/*!
    Feeds a monitor view from another program of the same user that publishes its keepers with
    pk::MonitorServer, over a local socket.

    \code
    auto *feed = new pk::RemoteFeed(this);
    feed->connectToServer(QStringLiteral("myapp")); // see MonitorServer::availableServers()
    \endcode

    After the handshake it emits connectionChanged(true, ...), a snapshot() of what the program
    has queued and running (and recently finished), then updated() batches. If the program
    goes away it emits connectionChanged(false, "program went away — waiting for it to come
    back") and tries again every retryInterval(); when the program is back, the feed starts over
    with connectionChanged(true, ...) and a new snapshot(). A program speaking another protocol
    version is refused with a message that says so, and not retried. A program that accepts the
    connection but does not complete the handshake within handshakeTimeout() (hung, or not a
    MonitorServer) is dropped with a warning in the "promisekeeper.monitor" logging category and
    connectionChanged(false, "the program 'myapp' did not answer the handshake within 5000 ms —
    trying again"), then retried like a program that went away. A failure that repeats the same
    way is announced once, not at every retry; errorString() always has the latest.

    It attaches only to a program of its own user: a plain name is looked up in the user's
    private directory (see pk::MonitorServer), and whatever the name, the server's credentials
    are checked once connected (SO_PEERCRED on Linux, getpeereid() on the BSDs and macOS, the
    socket file's owner elsewhere). Another user's server is left before the handshake, with a
    warning in the "promisekeeper.monitor" logging category, errorString() and
    connectionChanged(false, "refused the server at PATH: it runs as another user (uid 65534,
    not 1000) — trying again"), and tried again like a program that went away. So is a program
    that refuses the monitor because it has as many attached as it takes
    (MonitorServer::maxClients()); the message gives its reason. A name that can never work (a
    relative path, a path too long for a socket) is refused at once, with the reason, and not
    retried.

    A program with several keepers keeps them apart: every task names its keeper
    (TaskInfo::keeperName(), the keeper's label from the program's Welcome), keepers() gives
    each keeper's counts and thread count as received, and the signals carry their sums.

    Thread affinity: lives in one thread (the GUI thread, usually), is used from it and emits
    its signals there.
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT RemoteFeed : public MonitorFeed
{
    Q_OBJECT
public:
    //! Constructs a feed attached to nothing, as a child of \a parent; see connectToServer().
    explicit RemoteFeed(QObject *parent = nullptr);
    ~RemoteFeed() override;

    //! Attaches to the program serving \a name, now or as soon as it appears.
    void connectToServer(const QString &name);
    //! Detaches and stops retrying.
    void disconnectFromServer();
    //! The name last given to connectToServer(), or empty.
    QString serverName() const;

    /*!
        Whether the feed is trying to attach: connectToServer() was called and it is not
        attached, not detached by disconnectFromServer() and not refused for good (a name that
        can never work, another protocol version). It then tries again every retryInterval().
    */
    bool isWaiting() const;
    bool isConnected() const override;
    //! "pid 1234 (myapp)" while attached; the server name otherwise.
    QString sourceName() const override;

    //! Asks the program to cancel the task, or to ask it to stop if it runs there.
    void cancelTask(quint64 taskId) override;
    //! Asks the program to cancel everything not started yet, in all its keepers.
    void cancelAll() override;

    //! The attached program's name and pid, and the labels of its keepers (from the handshake).
    QString programName() const override;
    //! The attached program's pid, from its handshake; 0 before the first one. Like
    //! programName() and keeperLabels(), it keeps the last program's value once detached.
    qint64 programPid() const override;
    //! The labels of the attached program's keepers, in the handshake's order.
    QStringList keeperLabels() const;

    //! Each keeper of the attached program, in the Welcome's order, as last received.
    QList<KeeperStatus> keepers() const override;

    //! The counts and the thread count last received (summed over the keepers).
    TaskCounts counts() const;
    //! The thread count last received, summed over the keepers. \sa counts()
    int threadCount() const;

    //! Why the last attempt failed or the connection ended (empty while attached).
    QString errorString() const;

    //! Milliseconds between two attempts to connect (default 1000).
    int retryInterval() const;
    //! Sets retryInterval() to \a msecs milliseconds (at least 1).
    void setRetryInterval(int msecs);

    /*!
        Milliseconds an attempt may take from connecting to the program's answer to the
        handshake (default 5000); past it the attempt is dropped and retried after
        retryInterval(). A change applies from the next attempt. Values below 1 are taken as 1.
    */
    int handshakeTimeout() const;
    //! Sets handshakeTimeout() to \a msecs milliseconds; an attempt in progress keeps its
    //! deadline.
    void setHandshakeTimeout(int msecs);

private:
    friend class RemoteFeedPrivate;
    std::unique_ptr<RemoteFeedPrivate> d;
};

} // namespace pk
