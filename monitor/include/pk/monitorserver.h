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
struct MonitorServerInfo
{
    QString name; //!< what to attach to (RemoteFeed::connectToServer(), pk-monitor --attach)
    qint64 pid = 0;
    QString program; //!< the program's name
    QDateTime started; //!< when it started listening
    QStringList keepers; //!< the labels of its keepers
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

    It listens on a QLocalServer that only the same user may connect to, and registers in a
    small JSON file under QStandardPaths::RuntimeLocation ("promisekeeper-monitor/<name>.json")
    for availableServers(); the file goes away with close().

    While a monitor is attached the server is an EventListener of each keeper: it keeps the live
    tasks and the recently finished ones, coalesces changes per task and sends them about 25
    times a second. Each update carries a bounded number of new tasks per keeper
    (maxFinishedPerUpdate(), maxNewQueuedPerUpdate()), so that a flood of tasks never stalls the
    keeper's thread for long. With no monitor attached it costs nothing. A slow or stuck monitor
    never blocks a worker or the keeper's thread: its output is bounded (clientBufferLimit());
    above the limit it only gets the counts, and a fresh snapshot once it has caught up. Task
    titles and error messages are sent cut to 4096 characters. A connection that does not
    complete the protocol's handshake within handshakeTimeout() (or sends more than 64 KiB
    before it) is closed with a warning in the "promisekeeper.monitor" logging category, so that
    a stuck or foreign program connecting to the socket holds nothing for long and never delays
    the monitors that do attach.

    Thread affinity: create the server in the thread of the keepers it publishes (their event
    streams are delivered there); use it from that thread. The server does not own the keepers;
    a keeper destroyed first is dropped from it.
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT MonitorServer : public QObject
{
    Q_OBJECT
    Q_PROPERTY(int clientCount READ clientCount NOTIFY clientCountChanged)

public:
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
        Starts listening on the local socket \a name (a plain name such as "myapp", placed by Qt
        in the temporary directory, or a full path) and registers it for availableServers().
        A stale socket file left by a program that crashed is replaced; a name in use by a live
        program fails. Returns false and sets errorString() on failure.
    */
    bool listen(const QString &name);
    bool isListening() const;
    /*!
        Stops listening, unregisters, and closes the connections: each attached monitor gets
        the last changes and counts and a goodbye, and is disconnected once its data is written.
    */
    void close();
    //! The name given to listen().
    QString serverName() const;
    //! The full path of the socket.
    QString fullServerName() const;
    QString errorString() const;

    //! Monitors attached now (past the handshake).
    int clientCount() const;

    /*!
        How many bytes may wait in one monitor's send buffer before it only gets counts
        (default 8 MiB). Past eight times this, the monitor is disconnected.
    */
    qint64 clientBufferLimit() const;
    void setClientBufferLimit(qint64 bytes);

    //! Interval between two batches of updates in milliseconds (default 40).
    int updateInterval() const;
    void setUpdateInterval(int msecs);

    /*!
        Milliseconds a new connection has, from the moment it is accepted, to send its hello
        (default 5000). A connection still without a complete hello then is closed, with a
        warning in the "promisekeeper.monitor" logging category; attached monitors are never
        timed out. A change applies to the connections accepted afterwards. Values below 1 are
        taken as 1.
    */
    int handshakeTimeout() const;
    void setHandshakeTimeout(int msecs);

    /*!
        How many tasks that appeared and finished since the last update, never sent to a
        monitor, one update carries for each keeper (default 2000, 50000 a second at the default
        interval). In a flood the oldest others are left out and only counted (the update's
        dropped detail, "not received in detail" in pk-monitor), so that the keeper's thread
        never encodes a whole flood at once. Running tasks, failures and tasks a monitor has
        seen are always sent, and the counts stay exact. Values below 1 are taken as 1.
    */
    int maxFinishedPerUpdate() const;
    void setMaxFinishedPerUpdate(int count);

    /*!
        How many tasks never sent to a monitor and still waiting or queued one update carries
        for each keeper (default 1000). The newer ones of a deep queue are held back and sent in
        later updates, oldest first; those that finish meanwhile count as finished tasks above
        (maxFinishedPerUpdate()). A monitor's snapshot holds the live tasks: those it carried are
        seen, and their later changes are always sent. Values below 1 are taken as 1.
    */
    int maxNewQueuedPerUpdate() const;
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
    //! The directory the registration files are in.
    static QString registryDirectory();

Q_SIGNALS:
    void clientCountChanged(int count);

private:
    friend class MonitorServerPrivate;
    std::unique_ptr<MonitorServerPrivate> d;
};

} // namespace pk
