// What a keeper and its child processes say to each other over the child's stdin and stdout.
#pragma once

#include <QtCore/qglobal.h>

namespace pk::detail::process {

//! The command-line option that makes the application's executable a worker.
inline constexpr char kWorkerOption[] = "--pk-process-worker";

//! Set in a child's environment by its keeper, unset by ProcessWorker::exec(): a process that
//! has it and submits process tasks is a child whose main() did not hand it to exec().
inline constexpr char kWorkerEnvironment[] = "PK_PROCESS_WORKER";

//! The first bytes a child writes, as ProcessWorker::exec() starts: a process that does not is
//! not a worker (its main() did not call ProcessWorker::exec()).
inline constexpr char kHello[] = "PKPW1\n";
inline constexpr qsizetype kHelloSize = sizeof(kHello) - 1;

//! A frame is a quint32 length (big-endian) and that many bytes of QDataStream. A length past
//! this is a broken stream, not a message.
inline constexpr quint32 kMaxFrameSize = 512u * 1024 * 1024;

//! Request: quint64 task id, QByteArray function name, QByteArray arguments.
//! Reply: quint64 task id, quint8 Status, then the result's QByteArray (Succeeded) or the
//! exception's QString type name and QString message (Threw).
enum class Status : quint8 { Succeeded = 0, Threw = 1 };

//! A child with no request for this long exits with kIdleExitCode: having read nothing, a
//! request that raced with its exit is sent again to a new child. kIdleEnvironment in the
//! child's environment sets another time (for tests).
inline constexpr int kIdleMsecs = 60'000;
inline constexpr char kIdleEnvironment[] = "PK_PROCESS_IDLE_MSECS";
inline constexpr int kIdleExitCode = 75;

} // namespace pk::detail::process
