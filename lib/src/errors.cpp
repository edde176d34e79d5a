#include <pk/errors.h>

namespace pk {

Error::Error(const QString &message)
    : std::runtime_error(message.toStdString())
{ }
Error::~Error() = default;
QString Error::message() const
{
    return QString::fromUtf8(what());
}

CancelledError::CancelledError(const QString &message)
    : Error(message)
{ }
CancelledError::~CancelledError() = default;

TimeoutError::TimeoutError(const QString &message)
    : Error(message)
{ }
TimeoutError::~TimeoutError() = default;

ShutdownError::ShutdownError(const QString &message)
    : Error(message)
{ }
ShutdownError::~ShutdownError() = default;

InvalidTaskError::InvalidTaskError(const QString &message)
    : Error(message)
{ }
InvalidTaskError::~InvalidTaskError() = default;

DependencyError::DependencyError(const QString &message, quint64 inputId, const QString &reason)
    : Error(message)
    , m_inputId(inputId)
    , m_reason(reason)
{ }
DependencyError::~DependencyError() = default;

ProcessCrashedError::ProcessCrashedError(const QString &message, const QString &functionName,
    int exitCode, QProcess::ExitStatus exitStatus)
    : Error(message)
    , m_functionName(functionName)
    , m_exitCode(exitCode)
    , m_exitStatus(exitStatus)
{ }
ProcessCrashedError::~ProcessCrashedError() = default;

ProcessTaskError::ProcessTaskError(
    const QString &message, const QString &typeName, const QString &functionName)
    : Error(message)
    , m_typeName(typeName)
    , m_functionName(functionName)
{ }
ProcessTaskError::~ProcessTaskError() = default;

} // namespace pk
