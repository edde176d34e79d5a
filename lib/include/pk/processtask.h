// Process-isolated tasks: PK_PROCESS_TASK registers a function that
// PromiseKeeper::submitToProcess() runs in a child process; pk::ProcessWorker is that child's
// main loop.
#pragma once

#include <pk/detail/diagnostics.h>
#include <pk/errors.h>
#include <pk/promisekeeper_export.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qdatastream.h>
#include <QtCore/qtypeinfo.h>

#include <cstdint>
#include <tuple>
#include <type_traits>

namespace pk {

class TaskContext;

/*!
    The main loop of a child process that runs PromiseKeeper::submitToProcess() tasks.

    The keeper starts children from the application's own executable
    (QCoreApplication::applicationFilePath()) with a command-line option that
    isRequested() recognises; the application's main() hands such a process to exec() before
    it does anything else:

    \code
    int main(int argc, char *argv[])
    {
        if (pk::ProcessWorker::isRequested(argc, argv))
            return pk::ProcessWorker::exec(argc, argv);
        QApplication app(argc, argv);
        ...
    }
    \endcode

    A child reads one request at a time from its stdin (the function's name, registered with
    PK_PROCESS_TASK, and its arguments, written with QDataStream), calls the function on its
    main thread and writes the result or the exception's type and message back. What it prints
    on stdout or stderr reaches the parent's log (category "promisekeeper.process"). It exits
    when the parent closes its stdin (the keeper went away, the child was recycled, or the
    parent died) or after a minute with nothing to do. Both functions are reentrant; exec()
    runs once per process, and makes a QCoreApplication if there is none (for plugins such as
    image formats; a function that needs a QGuiApplication makes one itself).
*/
class PROMISEKEEPER_EXPORT ProcessWorker
{
public:
    //! Whether the command line is that of a child started by a keeper.
    static bool isRequested(int argc, char *argv[]);
    //! Serves the parent's requests until it closes the connection; returns the exit code for
    //! main().
    static int exec(int argc, char *argv[]);
};

namespace detail {

//! Reads a registered function's arguments from \a in, calls it and writes its result to
//! \a out; what the function throws goes through.
using ProcessInvoker = void (*)(QDataStream &in, QDataStream &out);

//! Identifies a function by its address, the same in the parent and in a child (the same
//! executable), for the registry.
template<typename F>
std::uintptr_t processTaskKey(F *fn) noexcept
{
    return reinterpret_cast<std::uintptr_t>(fn);
}

//! Records \a name, \a key and \a invoker; false (with a warning) if \a name is taken by
//! another function. Thread-safe.
PROMISEKEEPER_EXPORT bool registerProcessTask(
    const char *name, std::uintptr_t key, ProcessInvoker invoker);
//! The name registered for the function at \a key, or null.
PROMISEKEEPER_EXPORT const char *processTaskName(std::uintptr_t key) noexcept;

//! What can go to or come from a child: written and read with QDataStream.
template<typename T>
inline constexpr bool isProcessValue
    = std::is_void_v<
          T> || (QTypeTraits::has_ostream_operator_v<QDataStream, T> && QTypeTraits::has_istream_operator_v<QDataStream, T> && std::is_default_constructible_v<T>);

//! Names a type that cannot cross (its diagnostic), at the user's PK_PROCESS_TASK or
//! submitToProcess(); true if it can.
template<typename T>
constexpr bool checkProcessValue()
{
    if constexpr (!isProcessValue<T>)
        (void)sizeof(diagnostics::ValueCannotCrossAProcess<T>);
    return isProcessValue<T>;
}

//! A function's result and the values its arguments arrive as in the child.
template<typename F>
struct ProcessSignature;
template<typename R, typename... P>
struct ProcessSignature<R (*)(P...)>
{
    using Result = R;
    using Arguments = std::tuple<std::decay_t<P>...>;
    //! Whether every type can cross; each one that cannot gets its diagnostic.
    static constexpr bool check()
    {
        // Every type is named, so each one that cannot cross gets its diagnostic.
        return (
            checkProcessValue<std::decay_t<P>>() && ... && checkProcessValue<std::decay_t<R>>());
    }
};
template<typename R, typename... P>
struct ProcessSignature<R (*)(P...) noexcept> : ProcessSignature<R (*)(P...)>
{
};

template<typename F>
constexpr bool checkProcessSignature()
{
    return ProcessSignature<F>::check();
}

//! The invoker of the function \a Fn, run in the child.
template<auto Fn>
void invokeProcessTask(QDataStream &in, QDataStream &out)
{
    using Signature = ProcessSignature<decltype(Fn)>;
    typename Signature::Arguments arguments;
    std::apply([&in](auto &...a) { ((in >> a), ...); }, arguments);
    if (in.status() != QDataStream::Ok)
        throw InvalidTaskError(QStringLiteral("the arguments could not be read"));
    if constexpr (std::is_void_v<typename Signature::Result>) {
        std::apply(Fn, arguments);
    } else {
        out << std::apply(Fn, arguments);
    }
}

template<auto Fn>
bool registerProcessTaskOf(const char *name)
{
    if constexpr (checkProcessSignature<decltype(Fn)>())
        return registerProcessTask(name, processTaskKey(Fn), &invokeProcessTask<Fn>);
    else
        return false;
}

//! Runs a request in the calling worker's child process and returns the reply's result
//! bytes; throws ProcessCrashedError, ProcessTaskError, CancelledError (the child was killed
//! on request or at the time-out) or InvalidTaskError.
PROMISEKEEPER_EXPORT QByteArray callInProcess(
    TaskContext &context, const char *name, const QByteArray &arguments);
//! submitToProcess()'s error for a function no PK_PROCESS_TASK registered: its type (from
//! \a typeName, as typeid gives it) and address.
PROMISEKEEPER_EXPORT QString unregisteredProcessTaskMessage(
    const char *typeName, std::uintptr_t key);
//! The stream settings both sides use.
PROMISEKEEPER_EXPORT void setUpProcessStream(QDataStream &stream) noexcept;

} // namespace detail
} // namespace pk

#define PK_PROCESS_TASK_CONCAT_(a, b) a##b
#define PK_PROCESS_TASK_CONCAT(a, b) PK_PROCESS_TASK_CONCAT_(a, b)

/*!
    Registers the function \a fn for PromiseKeeper::submitToProcess(), at namespace scope in
    one .cpp file of the executable: `PK_PROCESS_TASK(decodeThumbnail)`. The parent and its
    children (the same executable) then know it by its name. Every argument and the result
    must have QDataStream operators: a compile-time error says so otherwise. An overloaded
    function cannot be registered by its name: give the overload a name of its own.
*/
#define PK_PROCESS_TASK(fn)                                                                        \
    namespace {                                                                                    \
    [[maybe_unused]] const bool PK_PROCESS_TASK_CONCAT(pkProcessTaskRegistered_, __LINE__)         \
        = ::pk::detail::registerProcessTaskOf<&fn>(#fn);                                           \
    }
