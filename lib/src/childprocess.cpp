#include "childprocess_p.h"

#include <QtCore/qdeadlinetimer.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace pk::detail {

namespace {
// Reads what \a fd has now into \a into; false at end of file.
bool readAvailable(int fd, QByteArray &into)
{
    char chunk[65536];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n > 0) {
            into.append(chunk, n);
            if (size_t(n) < sizeof chunk)
                return true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        return false;
    }
}

void closeFd(int &fd)
{
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}
} // namespace

ChildProcess::~ChildProcess()
{
    if (m_pid > 0 && !m_exited) {
        kill();
        waitForFinished(-1);
    }
    closeAll();
}

bool ChildProcess::start(const QString &program, const QByteArray &argument,
    const QByteArray &extraEnvironment, QString *error)
{
    int sockets[2];
    int errPipe[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
        *error = QString::fromLocal8Bit(strerror(errno));
        return false;
    }
    if (::pipe2(errPipe, O_CLOEXEC) != 0) {
        *error = QString::fromLocal8Bit(strerror(errno));
        ::close(sockets[0]);
        ::close(sockets[1]);
        return false;
    }
    // Everything the child needs is made before fork(): after it, only async-signal-safe calls.
    const QByteArray path = program.toLocal8Bit();
    QByteArray arg = argument;
    char *argv[] = { const_cast<char *>(path.constData()), arg.data(), nullptr };
    std::vector<char *> envp;
    for (char **e = environ; e && *e; ++e)
        envp.push_back(*e);
    QByteArray extra = extraEnvironment;
    envp.push_back(extra.data());
    envp.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) {
        *error = QString::fromLocal8Bit(strerror(errno));
        for (int fd : { sockets[0], sockets[1], errPipe[0], errPipe[1] })
            ::close(fd);
        return false;
    }
    if (pid == 0) {
        // The child: its end of the socket as stdin and stdout, the pipe as stderr.
        ::dup2(sockets[1], STDIN_FILENO);
        ::dup2(sockets[1], STDOUT_FILENO);
        ::dup2(errPipe[1], STDERR_FILENO);
        ::execve(path.constData(), argv, envp.data());
        ::_exit(127);
    }
    ::close(sockets[1]);
    ::close(errPipe[1]);
    m_pid = pid;
    m_socket = sockets[0];
    m_stderr = errPipe[0];
    ::fcntl(m_socket, F_SETFL, ::fcntl(m_socket, F_GETFL) | O_NONBLOCK);
    ::fcntl(m_stderr, F_SETFL, ::fcntl(m_stderr, F_GETFL) | O_NONBLOCK);
    return true;
}

bool ChildProcess::isRunning()
{
    if (m_pid <= 0 || m_exited)
        return false;
    int status = 0;
    const pid_t r = ::waitpid(pid_t(m_pid), &status, WNOHANG);
    if (r == pid_t(m_pid))
        reaped(status);
    else if (r < 0 && errno == ECHILD)
        m_exited = true; // reaped elsewhere: its status is unknown
    return !m_exited;
}

bool ChildProcess::waitForReadyRead(int msecs)
{
    pollfd fds[2] = { { m_socket, POLLIN, 0 }, { m_stderr, POLLIN, 0 } };
    const int count = (m_socket >= 0 ? 1 : 0) + (m_stderr >= 0 ? 1 : 0);
    if (count == 0) {
        // Both closed: nothing more will come; the rest is its exit.
        waitForFinished(msecs);
        return false;
    }
    pollfd *first = m_socket >= 0 ? fds : fds + 1;
    int n;
    do {
        n = ::poll(first, nfds_t(count), msecs);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return false;
    const qsizetype before = m_out.size();
    if (m_socket >= 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
        if (!readAvailable(m_socket, m_out))
            closeFd(m_socket);
    }
    if (m_stderr >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        if (!readAvailable(m_stderr, m_err))
            closeFd(m_stderr);
    }
    return m_out.size() > before;
}

QByteArray ChildProcess::readStdout(qsizetype max)
{
    if (max < 0 || max >= m_out.size())
        return std::exchange(m_out, {});
    QByteArray taken = m_out.left(max);
    m_out.remove(0, max);
    return taken;
}

QByteArray ChildProcess::readStderr()
{
    if (m_stderr >= 0)
        readAvailable(m_stderr, m_err);
    return std::exchange(m_err, {});
}

bool ChildProcess::write(const QByteArray &data)
{
    const char *p = data.constData();
    qsizetype left = data.size();
    while (left > 0) {
        if (m_socket < 0)
            return false;
        // MSG_NOSIGNAL: a child that died gives an error here, not SIGPIPE.
        const ssize_t n = ::send(m_socket, p, size_t(left), MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            left -= n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // The child reads as we write; meanwhile take what it writes, so neither waits
            // on the other.
            pollfd out { m_socket, POLLOUT, 0 };
            ::poll(&out, 1, 100);
            if (m_stderr >= 0)
                readAvailable(m_stderr, m_err);
            if (!isRunning())
                return false;
            continue;
        }
        return false;
    }
    return true;
}

void ChildProcess::closeStdin()
{
    if (m_socket >= 0)
        ::shutdown(m_socket, SHUT_WR);
}

bool ChildProcess::waitForFinished(int msecs)
{
    if (m_pid <= 0 || m_exited)
        return true;
    QDeadlineTimer deadline(
        msecs < 0 ? QDeadlineTimer(QDeadlineTimer::Forever) : QDeadlineTimer(msecs));
    for (;;) {
        if (!isRunning())
            return true;
        if (deadline.hasExpired())
            return false;
        // Its output keeps flowing meanwhile (a child blocked on a full pipe would not exit).
        if (m_socket < 0 && m_stderr < 0) {
            const timespec pause { 0, 1'000'000 }; // 1 ms: an exiting child is reaped soon
            ::nanosleep(&pause, nullptr);
        } else {
            waitForReadyRead(1);
        }
    }
}

void ChildProcess::kill()
{
    if (m_pid > 0 && !m_exited)
        ::kill(pid_t(m_pid), SIGKILL);
}

void ChildProcess::reaped(int status)
{
    m_exited = true;
    if (WIFSIGNALED(status)) {
        m_crashed = true;
        m_exitCode = WTERMSIG(status);
    } else {
        m_exitCode = WEXITSTATUS(status);
    }
}

void ChildProcess::closeAll()
{
    closeFd(m_socket);
    closeFd(m_stderr);
}

} // namespace pk::detail
