// pk::MonitorServer: publishes a program's keepers over a local socket, for pk-monitor to attach.
#pragma once

#include <pk/monitorserver_export.h>

#include <QtCore/qdatetime.h>
#include <QtCore/qlist.h>
#include <QtCore/qobject.h>
#include <QtCore/qstring.h>
#include <QtCore/qstringlist.h>

#include <memory>

namespace pk {

class PromiseKeeper;
class MonitorServerPrivate;

//! A program that publishes its keepers, as found by MonitorServer::availableServers().
//! A plain value; reentrant.
struct MonitorServerInfo
{
    QString name; //!< what to attach to (RemoteFeed::connectToServer(), pk-monitor --attach)
    qint64 pid = 0; //!< its process id
    QString program; //!< the program's name
    QDateTime started; //!< when it started listening
    QStringList keepers; //!< the labels of its keepers
    //! the monitor protocol version it speaks (a RemoteFeed attaches only to its own)
    quint32 protocolVersion = 0;
};

/*!
    Lets pk-monitor (or any pk::RemoteFeed) attach to this program and watch its keepers live.

    \code
    pk::MonitorServer server;
    server.addKeeper(&keeper, QStringLiteral("images"));
    if (!server.listen(QStringLiteral("myapp")))
        qWarning() << server.errorString();
    // $ pk-monitor --list          shows "myapp"
    // $ pk-monitor --attach myapp
    \endcode

    Only the same user can attach. The socket of a plain name such as "myapp" is
    "\<runtime\>/promisekeeper-monitor/myapp.socket", in a directory of mode 0700 inside
    QStandardPaths::RuntimeLocation (XDG_RUNTIME_DIR, which Qt only uses if it is the user's and
    0700, else /tmp/runtime-\<user\>), so no other user can take the name or connect; the socket
    itself is 0700 (QLocalServer::UserAccessOption). pk::RemoteFeed checks in turn that the
    server it reaches runs as its own user. The server registers in a small JSON file of mode
    0600 in the same directory ("\<name\>.json") for availableServers(); the file goes away with
    close().

    Whatever the monitors do, what they cost is bounded: at most maxClients() are attached (a
    monitor over the limit is refused with a message that says why), each has a send buffer
    limit (clientBufferLimit()), and one that stays behind it for stalledClientTimeout() is cut
    off, with a warning that names it. At most 16 connections may be in their handshake at
    once; further ones are closed at once, with a Reject that says why (a pk::RemoteFeed
    among them tries again). If accepting a connection fails (the process is out of file
    descriptors), QLocalServer closes the listening socket: the server warns (once a minute at
    most), keeps its attached monitors and its registration, and listens again as soon as it can
    (it tries every 200 ms); isListening() is false meanwhile.

    While a monitor is attached the server is an EventListener of each keeper: it keeps the live
    tasks and the recently finished ones, coalesces changes per task and sends them about 30
    times a second (every 33 ms). The coalescing and the bounds are pk::KeeperFeed's, by the same
    code: an update is a batch of each keeper, and what the bounds leave out is dropped detail
    (only counted) or held back (sent in later updates). Each task goes with its keeper's index,
    and the monitor names it after that keeper's label (TaskInfo::keeperName()), which the
    handshake sends once. Each update carries a bounded number of new tasks per keeper
    (maxFinishedPerUpdate(), maxNewQueuedPerUpdate(), as KeeperFeed's maxFinishedPerBatch() and
    maxNewQueuedPerBatch()), so that a flood of tasks never stalls the keeper's thread for long.
    With no monitor attached it costs nothing. A slow or stuck monitor never blocks a worker or
    the keeper's thread: its output is bounded (clientBufferLimit()); above the limit it only
    gets the counts, and a fresh snapshot once it has caught up. Task titles and error messages
    are sent cut to 4096 characters. A connection that does not complete the protocol's
    handshake within handshakeTimeout() (or sends more than 64 KiB before it) is closed with a
    warning in the "promisekeeper.monitor" logging category, so that a stuck or foreign program
    connecting to the socket holds nothing for long and does not delay the monitors that do
    attach (unless it holds all 16 places).

    Thread affinity: create the server in the thread of the keepers it publishes (their event
    streams are delivered there); use it from that thread. The server does not own the keepers;
    a keeper destroyed first is dropped from it.
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT MonitorServer : public QObject
{
    Q_OBJECT
    //! The number of monitors attached now; see clientCount().
    Q_PROPERTY(int clientCount READ clientCount NOTIFY clientCountChanged)

public:
    //! Constructs a server that publishes no keeper and does not listen yet, as a child of
    //! \a parent; see addKeeper() and listen().
    explicit MonitorServer(QObject *parent = nullptr);
    /*!
        Closes the server (see close()), then gives the attached monitors at most a second to take
        their last data, so that a program that exits right after its work still shows its
        final counts. The keepers' events reach the server through their thread's event loop:
        let it run until PromiseKeeper::idle() before exiting if the monitor should see every
        task in detail.
    */
    ~MonitorServer() override;

    /*!
        Publishes \a keeper under \a label (by default its objectName(), or "keeper N"). The
        keeper must live in the server's thread. Keepers can be added while listening; a monitor
        attached then sees it when it attaches again.
    */
    void addKeeper(PromiseKeeper *keeper, const QString &label = {});
    //! The labels of the keepers published, in the order they were added.
    QStringList keeperLabels() const;

    /*!
        Starts listening on the local socket \a name and registers it for availableServers().
        \a name is a plain name such as "myapp" (the socket goes in the user's private
        directory, see the class documentation), or a full path, whose directory is then the
        caller's to keep private. A stale socket file left by a program that crashed is
        replaced; a name in use by a live program fails, and so do a name with a '/' that is
        not a full path, a path too long for a socket, or a private directory that cannot be
        made (it exists as another user's, say). Returns false and sets errorString() on
        failure.
    */
    bool listen(const QString &name);
    //! Whether monitors can connect now: false before listen(), after close(), and while the
    //! listening socket is lost to descriptor exhaustion and not back yet.
    bool isListening() const;
    /*!
        Stops listening, unregisters, and closes the connections: each attached monitor gets
        the last changes and counts and a goodbye, and is disconnected once its data is written.
    */
    void close();
    //! The name given to listen().
    QString serverName() const;
    //! The full path of the socket (from listen() on).
    QString fullServerName() const;
    //! Why the last listen() failed, for the user; empty after a successful one.
    QString errorString() const;

    //! Monitors attached now (past the handshake).
    int clientCount() const;

    /*!
        How many bytes may wait in one monitor's send buffer before it only gets counts
        (default 8 MiB, at least 64 KiB). Past eight times this, or behind for longer than
        stalledClientTimeout(), the monitor is disconnected.
    */
    qint64 clientBufferLimit() const;
    //! Sets clientBufferLimit() to \a bytes (at least 64 KiB).
    void setClientBufferLimit(qint64 bytes);

    /*!
        How many monitors may be attached at once (default 8). One more is refused: it gets a
        Reject message that says why (pk::RemoteFeed shows it, and tries again later) and the
        program logs a warning (once a minute at most). Lowering it does not detach anyone.
        Values below 1 are taken as 1.
    */
    int maxClients() const;
    //! Sets maxClients() to \a count; it applies to the next monitor that attaches.
    void setMaxClients(int count);

    /*!
        Milliseconds an attached monitor may stay behind, its send buffer too full
        (clientBufferLimit()) for the updates, before it is disconnected with a warning that
        names it (default 30000). A monitor that reads again in time gets a fresh snapshot and
        stays; one that is stuck, or suspended, is cut off, so that it holds its buffer for a
        bounded time. pk::RemoteFeed reattaches by itself when it reads again. Values below 1
        are taken as 1.
    */
    int stalledClientTimeout() const;
    //! Sets stalledClientTimeout() to \a msecs milliseconds.
    void setStalledClientTimeout(int msecs);

    //! Interval between two batches of updates in milliseconds (default 33, as pk::KeeperFeed).
    int updateInterval() const;
    //! Sets updateInterval() to \a msecs milliseconds (at least 1).
    void setUpdateInterval(int msecs);

    /*!
        Milliseconds a new connection has, from the moment it is accepted, to send its hello
        (default 5000). A connection still without a complete hello then is closed, with a
        warning in the "promisekeeper.monitor" logging category; attached monitors are never
        timed out. A change applies to the connections accepted afterwards. Values below 1 are
        taken as 1.
    */
    int handshakeTimeout() const;
    //! Sets handshakeTimeout() to \a msecs milliseconds, for the connections accepted next.
    void setHandshakeTimeout(int msecs);

    /*!
        How many tasks that appeared and finished since the last update, never sent to a
        monitor, one update carries for each keeper (default 2000, 60000 a second at the default
        interval). In a flood the oldest others are left out and only counted (the update's
        dropped detail, "not received in detail" in pk-monitor), so that the keeper's thread
        never encodes a whole flood at once. Running tasks, failures and tasks a monitor has
        seen are always sent, and the counts stay exact. Values below 1 are taken as 1.
    */
    int maxFinishedPerUpdate() const;
    //! Sets maxFinishedPerUpdate() to \a count, for every keeper published.
    void setMaxFinishedPerUpdate(int count);

    /*!
        How many tasks never sent to a monitor and still waiting or queued one update carries
        for each keeper (default 1000). The newer ones of a deep queue are held back and sent in
        later updates, oldest first; those that finish meanwhile count as finished tasks above
        (maxFinishedPerUpdate()). A monitor's snapshot holds the live tasks: those it carried are
        seen, and their later changes are always sent. Values below 1 are taken as 1.
    */
    int maxNewQueuedPerUpdate() const;
    //! Sets maxNewQueuedPerUpdate() to \a count, for every keeper published.
    void setMaxNewQueuedPerUpdate(int count);

    /*!
        Task changes not sent in detail to some monitor because it was too slow, or left out of
        an update by maxFinishedPerUpdate(), since creation.
    */
    quint64 droppedDetailCount() const;

    /*!
        The programs of this user that publish keepers now, from the registration files; those
        whose process is gone are left out. Thread-safe.
    */
    static QList<MonitorServerInfo> availableServers();
    //! The directory the registration files (and the sockets of plain names) are in. Thread-safe.
    static QString registryDirectory();

Q_SIGNALS:
    //! Emitted in the server's thread when a monitor completes its handshake and when an
    //! attached one goes (it left, was cut off, or close()); \a count is clientCount() now.
    void clientCountChanged(int count);

private:
    friend class MonitorServerPrivate;
    std::unique_ptr<MonitorServerPrivate> d;
};

} // namespace pk
