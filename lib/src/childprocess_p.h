// A child process with a socket for its stdin and stdout and a pipe for its stderr, started
// with fork() and execve() by the thread that uses it.
#pragma once

#include <QtCore/qbytearray.h>
#include <QtCore/qprocess.h>
#include <QtCore/qstring.h>

namespace pk::detail {

/*!
    What ProcessChildren needs of a child process, without QProcess: a QProcess belongs to the
    thread that made it, while a keeper's children go from worker to worker; and QProcess starts
    children with vfork semantics, which ThreadSanitizer cannot follow from a worker thread (it
    takes the parent for the child afterwards). Used by one thread at a time.
*/
class ChildProcess
{
public:
    ChildProcess() = default;
    ChildProcess(const ChildProcess &) = delete;
    ChildProcess &operator=(const ChildProcess &) = delete;
    //! Kills and reaps a child still running.
    ~ChildProcess();

    //! Runs \a program with \a argument and the environment plus \a extraEnvironment
    //! ("NAME=value"); false with \a error if it could not.
    bool start(const QString &program, const QByteArray &argument,
        const QByteArray &extraEnvironment, QString *error);
    qint64 pid() const noexcept { return m_pid; }
    //! Whether it has not exited (reaps it if it has).
    bool isRunning();
    //! Waits up to \a msecs for output; reads what came. True if stdout had new bytes.
    bool waitForReadyRead(int msecs);
    //! Takes up to \a max bytes of what it wrote on stdout (all with -1).
    QByteArray readStdout(qsizetype max = -1);
    //! Takes what it wrote on stderr.
    QByteArray readStderr();
    //! Writes all of \a data to its stdin; false if it is gone.
    bool write(const QByteArray &data);
    //! Closes its stdin: a worker then exits.
    void closeStdin();
    //! Waits up to \a msecs for it to exit; true once it did (and was reaped).
    bool waitForFinished(int msecs);
    void kill();
    //! How it ended, as QProcess says it: NormalExit with the exit code, or CrashExit with the
    //! signal's number.
    QProcess::ExitStatus exitStatus() const noexcept
    {
        return m_crashed ? QProcess::CrashExit : QProcess::NormalExit;
    }
    int exitCode() const noexcept { return m_exitCode; }

private:
    void reaped(int status);
    void closeAll();

    qint64 m_pid = 0;
    int m_socket = -1; // its stdin and stdout
    int m_stderr = -1;
    bool m_exited = false;
    bool m_crashed = false;
    int m_exitCode = 0;
    QByteArray m_out;
    QByteArray m_err;
};

} // namespace pk::detail
