// Where the monitor's local sockets live and who is on the other end: the private directory of
// the sockets and registration files, and the peer credentials of a connected QLocalSocket.
// Private to PromiseKeeper::MonitorServer (exported for its tests only).
#pragma once

#include <pk/monitorserver_export.h>

#include <QtCore/qstring.h>

QT_BEGIN_NAMESPACE
class QLocalSocket;
QT_END_NAMESPACE

namespace pk::localsocket {

/*!
    "<runtime>/promisekeeper-monitor": QStandardPaths::RuntimeLocation, which Qt only hands out
    owned by the user and mode 0700 (XDG_RUNTIME_DIR, or /tmp/runtime-<user> where it is unset
    or wrong), then our own directory in it. Empty if there is no runtime location. Nothing is
    created: see ensureDirectory().
*/
PROMISEKEEPER_MONITORSERVER_EXPORT QString directory();

/*!
    Creates directory() with mode 0700 if needed and checks that it is a directory of this user
    that nobody else may enter; one left with a looser mode (by an older version) is tightened.
    Returns it, or an empty string with the reason in \a error.
*/
PROMISEKEEPER_MONITORSERVER_EXPORT QString ensureDirectory(QString *error);

/*!
    The socket path for the server name \a name: "<directory()>/<name>.socket" for a plain name
    such as "myapp", or \a name itself if it is an absolute path (its directory is then the
    caller's choice). Empty, with the reason in \a error, for an empty name, a relative path,
    "." or "..", a name too long for a Unix socket address, or no runtime location.
*/
PROMISEKEEPER_MONITORSERVER_EXPORT QString socketPath(const QString &name, QString *error);

//! The process at the other end of a connected local socket, as the system tells it.
struct PeerCredentials
{
    bool known = false; //!< false where the system does not say
    qint64 uid = -1;
    qint64 pid = 0; //!< 0 where the system gives only the user
};

//! The credentials of \a socket's peer (SO_PEERCRED on Linux, getpeereid() on the BSDs).
PROMISEKEEPER_MONITORSERVER_EXPORT PeerCredentials peerCredentials(const QLocalSocket &socket);

/*!
    Whether the server at the other end of \a socket, connected to \a path, runs as this user:
    its peer credentials where the system has them, else the owner of the socket file. False,
    with the reason in \a why, for another user's server. Always true on Windows, where the
    pipe's access list (QLocalServer::UserAccessOption) keeps other users out.
*/
PROMISEKEEPER_MONITORSERVER_EXPORT bool isOwnServer(
    const QLocalSocket &socket, const QString &path, QString *why);

//! The effective user id of this process (-1 on Windows).
PROMISEKEEPER_MONITORSERVER_EXPORT qint64 currentUid();

} // namespace pk::localsocket
