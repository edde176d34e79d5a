#include "localsocket_p.h"

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qstandardpaths.h>
#include <QtNetwork/qlocalsocket.h>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>
#endif

namespace pk::localsocket {

namespace {

constexpr QFileDevice::Permissions kOthersAccess = QFileDevice::ReadGroup | QFileDevice::WriteGroup
    | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::WriteOther
    | QFileDevice::ExeOther;
constexpr QFileDevice::Permissions kOwnerOnly
    = QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner;

const QLatin1String kSocketSuffix(".socket");

} // namespace

QString directory()
{
    const QString runtime = QStandardPaths::writableLocation(QStandardPaths::RuntimeLocation);
    if (runtime.isEmpty())
        return {};
    return QDir(runtime).filePath(QStringLiteral("promisekeeper-monitor"));
}

QString ensureDirectory(QString *error)
{
    const QString dir = directory();
    if (dir.isEmpty()) {
        *error = QStringLiteral("there is no runtime directory (XDG_RUNTIME_DIR) to put it in");
        return {};
    }
    // Created with its final mode: there is no moment when another user could enter it.
    if (!QFileInfo::exists(dir) && !QDir().mkdir(dir, kOwnerOnly) && !QFileInfo(dir).isDir()) {
        *error = QStringLiteral("cannot create the directory %1").arg(dir);
        return {};
    }
#ifdef Q_OS_UNIX
    const QFileInfo info(dir);
    if (info.isSymLink() || !info.isDir()) {
        *error = QStringLiteral("%1 is not a directory").arg(dir);
        return {};
    }
    if (qint64(info.ownerId()) != currentUid()) {
        *error = QStringLiteral("the directory %1 belongs to another user (uid %2, not %3)")
                     .arg(dir)
                     .arg(info.ownerId())
                     .arg(currentUid());
        return {};
    }
    // An older version made it with the umask's mode (0755): the sockets and registration
    // files in it are for this user's eyes only.
    if ((info.permissions() & kOthersAccess) && !QFile::setPermissions(dir, kOwnerOnly)) {
        *error = QStringLiteral("cannot make the directory %1 private (mode 0700)").arg(dir);
        return {};
    }
#endif
    return dir;
}

QString socketPath(const QString &name, QString *error)
{
    if (name.isEmpty()) {
        *error = QStringLiteral("no server name given");
        return {};
    }
#ifdef Q_OS_WIN
    // A named pipe: Qt's access list (UserAccessOption) keeps other users out.
    return name;
#else
    QString path;
    if (QDir::isAbsolutePath(name)) {
        path = name;
    } else {
        if (name.contains(QLatin1Char('/')) || name == QLatin1String(".")
            || name == QLatin1String("..")) {
            *error = QStringLiteral("'%1' is not a server name: give a plain name such as "
                                    "'myapp', or a full path")
                         .arg(name);
            return {};
        }
        const QString dir = directory();
        if (dir.isEmpty()) {
            *error = QStringLiteral("there is no runtime directory (XDG_RUNTIME_DIR) for the "
                                    "socket of '%1'")
                         .arg(name);
            return {};
        }
        path = QDir(dir).filePath(name + kSocketSuffix);
    }
    // The address of a Unix socket holds a limited path, with its terminating zero.
    constexpr qsizetype maxPath = qsizetype(sizeof(sockaddr_un::sun_path)) - 1;
    const qsizetype length = QFile::encodeName(path).size();
    if (length > maxPath) {
        *error = QStringLiteral("the socket path %1 is too long (%2 bytes; at most %3)")
                     .arg(path)
                     .arg(length)
                     .arg(maxPath);
        return {};
    }
    return path;
#endif
}

PeerCredentials peerCredentials(const QLocalSocket &socket)
{
    PeerCredentials credentials;
    const qintptr fd = socket.socketDescriptor();
    if (fd < 0)
        return credentials;
#if defined(Q_OS_LINUX)
    ucred cred = {};
    socklen_t length = sizeof(cred);
    if (::getsockopt(int(fd), SOL_SOCKET, SO_PEERCRED, &cred, &length) == 0
        && length == sizeof(cred)) {
        credentials.known = true;
        credentials.uid = qint64(cred.uid);
        credentials.pid = qint64(cred.pid);
    }
#elif defined(Q_OS_MACOS) || defined(Q_OS_FREEBSD) || defined(Q_OS_NETBSD) || defined(Q_OS_OPENBSD)
    uid_t uid = 0;
    gid_t gid = 0;
    if (::getpeereid(int(fd), &uid, &gid) == 0) {
        credentials.known = true;
        credentials.uid = qint64(uid);
    }
#endif
    return credentials;
}

bool isOwnServer(const QLocalSocket &socket, const QString &path, QString *why)
{
#ifdef Q_OS_UNIX
    const PeerCredentials peer = peerCredentials(socket);
    // Without peer credentials, the socket file's owner: the one who created it by listening.
    const qint64 owner = peer.known ? peer.uid : qint64(QFileInfo(path).ownerId());
    if (owner == currentUid())
        return true;
    *why = QStringLiteral("refused the server at %1: it runs as another user (uid %2, not %3)")
               .arg(path)
               .arg(owner)
               .arg(currentUid());
    return false;
#else
    Q_UNUSED(socket);
    Q_UNUSED(path);
    Q_UNUSED(why);
    return true;
#endif
}

qint64 currentUid()
{
#ifdef Q_OS_UNIX
    return qint64(::geteuid());
#else
    return -1;
#endif
}

} // namespace pk::localsocket
