#include "childprocess_p.h"
#include "processchildren_p.h"
#include "processprotocol_p.h"
#include "taskscheduler_p.h"

#include <pk/detail/taskcore.h>
#include <pk/errors.h>
#include <pk/logging.h>
#include <pk/processtask.h>
#include <pk/taskcontext.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qendian.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace pk {

namespace detail {

using namespace process;

namespace {
// How often a worker waiting for its child looks at the task's cancellation (and so its
// time-out): the delay between a cancel and the kill.
constexpr int kPollMsecs = 10;
// How long a started child has to say it is a worker.
constexpr int kHelloMsecs = 10'000;
constexpr int kStopMsecs = 2'000;
} // namespace

struct ProcessChildren::Child
{
    std::unique_ptr<ChildProcess> process;
    qint64 pid = 0;
    int tasksRun = 0;
    QByteArray stderrLine; // a line the child has not finished yet

    ~Child() { stop(); }

    bool isRunning() const { return process && process->isRunning(); }
    void start(const char *name, quint64 taskId)
    {
        if (!QCoreApplication::instance()) {
            throw InvalidTaskError(QStringLiteral("%1: submitToProcess() needs a "
                                                  "QCoreApplication (its executable runs the "
                                                  "child)")
                                       .arg(QString::fromUtf8(name)));
        }
        const QString function = QString::fromUtf8(name);
        if (qEnvironmentVariableIsSet(kWorkerEnvironment)) {
            // Started as a worker, yet running the application: each child would start
            // another.
            throw InvalidTaskError(QStringLiteral("%1: this process was started as a worker of "
                                                  "submitToProcess(), but its main() did not "
                                                  "hand it to pk::ProcessWorker::exec()")
                                       .arg(function));
        }
        process = std::make_unique<ChildProcess>();
        QString why;
        if (!process->start(QCoreApplication::applicationFilePath(), QByteArray(kWorkerOption),
                QByteArray(kWorkerEnvironment) + "=1", &why)) {
            process.reset();
            throw ProcessCrashedError(
                QStringLiteral("%1: its process could not be started: %2").arg(function, why),
                function, -1, QProcess::NormalExit);
        }
        pid = process->pid();
        tasksRun = 0;
        // A worker says so at once; an application whose main() does not call
        // pk::ProcessWorker::exec() would run itself instead, and is stopped here.
        QByteArray hello;
        QDeadlineTimer deadline(kHelloMsecs);
        while (hello.size() < kHelloSize && !deadline.hasExpired()) {
            const bool more
                = process->waitForReadyRead(int(std::min<qint64>(deadline.remainingTime(), 100)));
            hello += process->readStdout(kHelloSize - hello.size());
            if (!more && !process->isRunning())
                break;
        }
        if (hello != QByteArray(kHello, kHelloSize)) {
            forwardStderr(taskId, true);
            kill();
            process.reset();
            throw ProcessCrashedError(
                QStringLiteral("%1: the process started for it (pid %2) did not answer as a "
                               "worker: the application's main() must return "
                               "pk::ProcessWorker::exec(argc, argv) first when "
                               "pk::ProcessWorker::isRequested(argc, argv)")
                    .arg(function)
                    .arg(pid),
                function, -1, QProcess::NormalExit);
        }
    }
    void stop() noexcept
    {
        if (!process)
            return;
        process->closeStdin(); // the child's read ends: it exits
        if (!process->waitForFinished(kStopMsecs)) {
            process->kill();
            process->waitForFinished(kStopMsecs);
        }
        process.reset();
    }
    void kill() noexcept
    {
        process->kill();
        process->waitForFinished(kStopMsecs);
    }
    // Logs the complete lines the child wrote on stderr (all with \a flush).
    void forwardStderr(quint64 taskId, bool flush)
    {
        stderrLine += process->readStderr();
        qsizetype end;
        while ((end = stderrLine.indexOf('\n')) >= 0) {
            log(taskId, stderrLine.left(end));
            stderrLine.remove(0, end + 1);
        }
        if (flush && !stderrLine.isEmpty()) {
            log(taskId, stderrLine);
            stderrLine.clear();
        }
    }
    void log(quint64 taskId, const QByteArray &line) const
    {
        qCInfo(lcProcess, "task %llu (pid %lld): %s", static_cast<unsigned long long>(taskId),
            static_cast<long long>(pid), qPrintable(QString::fromLocal8Bit(line)));
    }
    QString exitText() const
    {
        if (process->exitStatus() == QProcess::CrashExit) {
            const int signal = process->exitCode();
            return QStringLiteral("crashed with signal %1 (%2)")
                .arg(signal)
                .arg(QString::fromLocal8Bit(strsignal(signal)));
        }
        return QStringLiteral("exited with code %1").arg(process->exitCode());
    }
};

ProcessChildren::ProcessChildren() = default;

ProcessChildren::~ProcessChildren()
{
    stopAll();
}

void ProcessChildren::stopAll()
{
    std::vector<std::unique_ptr<Child>> idle;
    {
        std::lock_guard lock(m_mutex);
        idle.swap(m_idle);
    }
    idle.clear(); // each stops its child
}

std::unique_ptr<ProcessChildren::Child> ProcessChildren::take()
{
    std::unique_ptr<Child> child;
    {
        std::lock_guard lock(m_mutex);
        if (!m_idle.empty()) {
            child = std::move(m_idle.back());
            m_idle.pop_back();
        }
    }
    return child ? std::move(child) : std::make_unique<Child>();
}

void ProcessChildren::giveBack(std::unique_ptr<Child> child)
{
    const int max = maxTasksPerProcess();
    if (max > 0 && child->tasksRun >= max)
        return; // recycled: the destructor ends it
    std::lock_guard lock(m_mutex);
    m_idle.push_back(std::move(child));
}

QByteArray ProcessChildren::call(
    TaskCore *task, quint64 taskId, const char *name, const QByteArray &arguments)
{
    const QString function = QString::fromUtf8(name);
    QByteArray frame(4, Qt::Uninitialized);
    {
        QDataStream out(&frame, QIODevice::WriteOnly | QIODevice::Append);
        setUpProcessStream(out);
        out << taskId << QByteArray(name) << arguments;
    }
    qToBigEndian<quint32>(quint32(frame.size() - 4), frame.data());

    // A child that exited idle at the moment the request came read nothing: a second child
    // gets the request. Any other end of a child fails the task.
    for (int attempt = 0;; ++attempt) {
        std::unique_ptr<Child> child = take();
        if (!child->isRunning())
            child->start(name, taskId);
        task->setProcessId(child->pid);
        ChildProcess &process = *child->process;
        process.write(frame);

        QByteArray received;
        std::optional<QByteArray> reply;
        for (;;) {
            if (task->isCancellationRequested()) {
                child->kill();
                child->forwardStderr(taskId, true);
                throw CancelledError(
                    QStringLiteral("%1: cancelled; its process (pid %2) was killed")
                        .arg(function)
                        .arg(child->pid));
            }
            const bool more = process.waitForReadyRead(kPollMsecs);
            received += process.readStdout();
            child->forwardStderr(taskId, false);
            if (received.size() >= 4) {
                const quint32 size = qFromBigEndian<quint32>(received.constData());
                if (size > kMaxFrameSize) {
                    child->kill();
                    throw ProcessCrashedError(
                        QStringLiteral("%1: its process (pid %2) sent a broken reply")
                            .arg(function)
                            .arg(child->pid),
                        function, process.exitCode(), process.exitStatus());
                }
                if (received.size() >= qsizetype(size) + 4) {
                    reply = received.mid(4, size);
                    break;
                }
            }
            if (!more && !process.isRunning())
                break;
        }
        if (!reply) {
            child->forwardStderr(taskId, true);
            const bool idleExit = process.exitStatus() == QProcess::NormalExit
                && process.exitCode() == kIdleExitCode && received.isEmpty();
            if (idleExit && attempt == 0)
                continue;
            const QString message = QStringLiteral("%1: its process (pid %2) %3 before it answered")
                                        .arg(function)
                                        .arg(child->pid)
                                        .arg(child->exitText());
            qCWarning(lcProcess, "task %llu: %s", static_cast<unsigned long long>(taskId),
                qPrintable(message));
            throw ProcessCrashedError(message, function, process.exitCode(), process.exitStatus());
        }

        // What the child printed before it answered (it flushed that first) belongs to this
        // task.
        child->forwardStderr(taskId, true);
        ++child->tasksRun;

        QDataStream in(*reply);
        setUpProcessStream(in);
        quint64 repliedId = 0;
        quint8 status = 0;
        in >> repliedId >> status;
        QByteArray result;
        QString typeName;
        QString message;
        if (status == quint8(Status::Succeeded))
            in >> result;
        else
            in >> typeName >> message;
        if (in.status() != QDataStream::Ok || repliedId != taskId
            || status > quint8(Status::Threw)) {
            // Out of step with its parent: it is not given back (its destructor ends it).
            throw ProcessCrashedError(
                QStringLiteral("%1: its process (pid %2) sent a reply that could not be read")
                    .arg(function)
                    .arg(child->pid),
                function, 0, QProcess::NormalExit);
        }
        giveBack(std::move(child));
        if (status == quint8(Status::Threw))
            throw ProcessTaskError(message, typeName, function);
        return result;
    }
}

void setUpProcessStream(QDataStream &stream) noexcept
{
    stream.setVersion(QDataStream::Qt_6_0);
}

} // namespace detail

// TaskContext's task, for the process call (a friend).
class detail::ProcessRunner
{
public:
    static TaskCore *task(TaskContext &context) noexcept { return context.d; }
};

QByteArray detail::callInProcess(
    TaskContext &context, const char *name, const QByteArray &arguments)
{
    TaskCore *task = ProcessRunner::task(context);
    TaskScheduler *keeper = task->keeper();
    if (!keeper)
        throw InvalidTaskError(
            QStringLiteral("%1: a process task needs a keeper").arg(QString::fromUtf8(name)));
    return keeper->processChildren().call(task, context.id(), name, arguments);
}

} // namespace pk
