// The exception types PromiseKeeper itself throws or stores in failed promises.
#pragma once

#include <pk/promisekeeper_export.h>

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

} // namespace pk
