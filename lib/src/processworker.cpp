// The child's side of submitToProcess(): reads requests on stdin, runs the registered
// function, answers on what was stdout. What the function prints goes to stderr, which the
// parent logs.
#include "demangle_p.h"
#include "processprotocol_p.h"
#include "processregistry_p.h"

#include <pk/processtask.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qdatastream.h>
#include <QtCore/qendian.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <poll.h>
#include <unistd.h>

namespace pk {

namespace {

using namespace detail::process;

// Moves exactly \a size bytes with \a io (::read or ::write); false at end of file or on an
// error.
template<typename Data, typename Io>
bool transferFully(int fd, Data *data, qsizetype size, Io io)
{
    while (size > 0) {
        const ssize_t n = io(fd, data, size_t(size));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        size -= n;
    }
    return true;
}

bool readFully(int fd, char *data, qsizetype size)
{
    return transferFully(fd, data, size, ::read);
}

bool writeFully(int fd, const char *data, qsizetype size)
{
    return transferFully(fd, data, size, ::write);
}

// Waits for the next request; false if none came within \a idleMsecs.
bool waitForRequest(int fd, int idleMsecs)
{
    pollfd p { fd, POLLIN, 0 };
    for (;;) {
        const int n = ::poll(&p, 1, idleMsecs);
        if (n < 0 && errno == EINTR)
            continue;
        return n != 0;
    }
}

QByteArray run(const QByteArray &request)
{
    QDataStream in(request);
    detail::setUpProcessStream(in);
    quint64 taskId = 0;
    QByteArray name;
    QByteArray arguments;
    in >> taskId >> name >> arguments;

    QByteArray reply;
    QDataStream out(&reply, QIODevice::WriteOnly);
    detail::setUpProcessStream(out);
    out << taskId;
    QString typeName;
    QString message;
    try {
        if (in.status() != QDataStream::Ok)
            throw InvalidTaskError(QStringLiteral("the request could not be read"));
        const detail::ProcessInvoker invoker = detail::processInvoker(name);
        if (!invoker) {
            throw InvalidTaskError(
                QStringLiteral("%1 is not registered with PK_PROCESS_TASK in the child")
                    .arg(QString::fromUtf8(name)));
        }
        QByteArray result;
        QDataStream resultStream(&result, QIODevice::WriteOnly);
        detail::setUpProcessStream(resultStream);
        QDataStream argumentStream(arguments);
        detail::setUpProcessStream(argumentStream);
        invoker(argumentStream, resultStream);
        out << quint8(Status::Succeeded) << result;
        return reply;
    } catch (const std::exception &e) {
        typeName = detail::currentExceptionTypeName();
        message = QString::fromUtf8(e.what());
    } catch (...) {
        typeName = detail::currentExceptionTypeName();
        message = QStringLiteral("unknown exception");
    }
    out << quint8(Status::Threw) << typeName << message;
    return reply;
}

} // namespace

bool ProcessWorker::isRequested(int argc, char *argv[])
{
    for (int i = 1; i < argc; ++i) {
        if (argv[i] && std::strcmp(argv[i], kWorkerOption) == 0)
            return true;
    }
    return false;
}

int ProcessWorker::exec(int argc, char *argv[])
{
    // Replies go to the pipe that was stdout; the function's own prints to stdout join stderr,
    // so that nothing it prints can be taken for a reply.
    const int replies = ::dup(STDOUT_FILENO);
    if (replies < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        std::perror("pk::ProcessWorker");
        return 1;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    qunsetenv(kWorkerEnvironment); // a keeper of this process may start workers of its own
    if (!writeFully(replies, kHello, kHelloSize))
        return 0;
    // Plugins (image formats...) and QCoreApplication's paths need an application object.
    std::optional<QCoreApplication> app;
    if (!QCoreApplication::instance())
        app.emplace(argc, argv);

    bool idleSet = false;
    const int idle = qEnvironmentVariableIntValue(kIdleEnvironment, &idleSet);
    const int idleMsecs = idleSet && idle > 0 ? idle : kIdleMsecs;
    for (;;) {
        if (!waitForRequest(STDIN_FILENO, idleMsecs))
            return kIdleExitCode;
        uchar header[4];
        if (!readFully(STDIN_FILENO, reinterpret_cast<char *>(header), 4))
            return 0; // the parent closed the pipe: done
        const quint32 size = qFromBigEndian<quint32>(header);
        if (size > kMaxFrameSize) {
            std::fprintf(stderr, "pk::ProcessWorker: a request of %u bytes; giving up\n", size);
            return 1;
        }
        QByteArray request(qsizetype(size), Qt::Uninitialized);
        if (!readFully(STDIN_FILENO, request.data(), request.size()))
            return 0;
        const QByteArray reply = run(request);
        // What the function printed first, so that the parent logs it with this task.
        std::fflush(stdout);
        std::fflush(stderr);
        uchar length[4];
        qToBigEndian<quint32>(quint32(reply.size()), length);
        if (!writeFully(replies, reinterpret_cast<const char *>(length), 4)
            || !writeFully(replies, reply.constData(), reply.size())) {
            return 0; // the parent is gone
        }
    }
}

} // namespace pk
