// The exception types PromiseKeeper itself throws or stores in failed promises.
#pragma once

#include <pk/promisekeeper_export.h>

#include <QtCore/qprocess.h>
#include <QtCore/qstring.h>

#include <exception>
#include <stdexcept>

namespace pk {

/*!
    Base of every error PromiseKeeper raises itself. Exceptions thrown by tasks keep their own
    types; these are only the library's. Reentrant and immutable.
*/
class PROMISEKEEPER_EXPORT Error : public std::runtime_error
{
public:
    //! Makes an error whose what() is \a message in UTF-8.
    explicit Error(const QString &message);
    ~Error() override;
    //! The message as a QString (what() is its UTF-8 form).
    QString message() const;
};

//! result() of a promise whose task was cancelled before it ran. Reentrant and immutable.
class PROMISEKEEPER_EXPORT CancelledError : public Error
{
public:
    //! Makes the error with \a message; the default is the library's own wording.
    explicit CancelledError(const QString &message = QStringLiteral("the task was cancelled"));
    ~CancelledError() override;
};

/*!
    result(timeout) when the task has not finished in time (the task itself goes on), and the
    failure of a task that ran past its TaskOptions::timeout. Reentrant and immutable.
*/
class PROMISEKEEPER_EXPORT TimeoutError : public Error
{
public:
    //! Makes the error with \a message; the default is the library's own wording.
    explicit TimeoutError(
        const QString &message = QStringLiteral("timed out waiting for the task"));
    ~TimeoutError() override;
};

//! The failure of a task submitted to a keeper that is shut down. Reentrant and immutable.
class PROMISEKEEPER_EXPORT ShutdownError : public Error
{
public:
    //! Makes the error with \a message; the default is the library's own wording.
    explicit ShutdownError(const QString &message = QStringLiteral("the keeper is shut down"));
    ~ShutdownError() override;
};

/*!
    A task that cannot be run or a promise that cannot be read: an empty callable, a
    default-constructed promise, a result already taken with takeResult(). Reentrant and
    immutable.
*/
class PROMISEKEEPER_EXPORT InvalidTaskError : public Error
{
public:
    //! Makes the error with \a message, which says what was invalid.
    explicit InvalidTaskError(const QString &message);
    ~InvalidTaskError() override;
};

/*!
    The failure of a task that waited for promises passed as its arguments, when one of them
    failed or was cancelled: the task never ran. The message names the input; the input's own
    exception is nested (std::rethrow_if_nested(), rethrow_nested()) and available as cause()
    (a pk::CancelledError for a cancelled input). Along a chain of such tasks, cause() is the
    exception of the task at the head of the chain that really failed. Reentrant and immutable.
*/
class PROMISEKEEPER_EXPORT DependencyError : public Error, public std::nested_exception
{
public:
    //! Captures the exception being handled as the cause: construct it inside a catch block.
    //! \a reason is the root failure's message, kept apart so that a chain does not repeat it.
    DependencyError(const QString &message, quint64 inputId, const QString &reason);
    ~DependencyError() override;
    //! The id of the input that failed; 0 for an invalid input promise.
    quint64 inputId() const noexcept { return m_inputId; }
    //! The exception nested at construction (the root failure); null if it was made outside a
    //! catch block.
    std::exception_ptr cause() const noexcept { return nested_ptr(); }
    //! The message of the failure at the head of the chain ("cancelled" for a cancellation).
    QString reason() const { return m_reason; }

private:
    quint64 m_inputId;
    QString m_reason;
};

/*!
    The failure of a PromiseKeeper::submitToProcess() task whose child process died before it
    answered: it crashed (a signal, such as SIGSEGV), exited, was killed from outside, or could
    not be started. The child is replaced for the next task. Reentrant and immutable.
*/
class PROMISEKEEPER_EXPORT ProcessCrashedError : public Error
{
public:
    //! Makes the error for \a functionName's child, which ended with \a exitStatus and
    //! \a exitCode (for a crash, the signal's number, as QProcess reports it).
    ProcessCrashedError(const QString &message, const QString &functionName, int exitCode,
        QProcess::ExitStatus exitStatus);
    ~ProcessCrashedError() override;
    //! The child's exit code, or the signal's number if it crashed; -1 if it never started.
    int exitCode() const noexcept { return m_exitCode; }
    //! QProcess::CrashExit if a signal ended the child, QProcess::NormalExit if it exited.
    QProcess::ExitStatus exitStatus() const noexcept { return m_exitStatus; }
    //! The signal that ended the child (SIGSEGV, SIGKILL...); 0 if it exited.
    int signal() const noexcept { return m_exitStatus == QProcess::CrashExit ? m_exitCode : 0; }
    //! The name the function was registered under with PK_PROCESS_TASK.
    QString functionName() const { return m_functionName; }

private:
    QString m_functionName;
    int m_exitCode;
    QProcess::ExitStatus m_exitStatus;
};

/*!
    The failure of a PromiseKeeper::submitToProcess() task whose function threw in the child
    process. Types cannot cross a process boundary: what() is the child exception's what(), and
    typeName() its demangled type. Reentrant and immutable.
*/
class PROMISEKEEPER_EXPORT ProcessTaskError : public Error
{
public:
    //! Makes the error for an exception of type \a typeName thrown by \a functionName.
    ProcessTaskError(const QString &message, const QString &typeName, const QString &functionName);
    ~ProcessTaskError() override;
    //! The demangled type of the exception the function threw ("std::invalid_argument");
    //! "unknown exception" if it was not a std::exception and the runtime cannot tell.
    QString typeName() const { return m_typeName; }
    //! The name the function was registered under with PK_PROCESS_TASK.
    QString functionName() const { return m_functionName; }

private:
    QString m_typeName;
    QString m_functionName;
};

} // namespace pk
