// isolation: seed 003 (Pebble) the Qt way. Functions run in child processes, so that a crash
// in one leaves the application running; task functions whose callbacks get the task id and
// can be reassigned (to bind an object's members); and a memoised call.
//
// Usage: isolation [--fast]
#include "examplecheck.h"

#include <pk/taskfunction.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QEventLoop>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <PromiseKeeper>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <stdexcept>

using namespace example;

namespace {

// [decode]
// A decoder that aborts on corrupt data, as a buggy third-party one might.
QByteArray decode(const QByteArray &data)
{
    if (data.startsWith("corrupt"))
        std::abort();
    return data.toUpper();
}
PK_PROCESS_TASK(decode) // at namespace scope: registered by its name, in parent and children
// [decode]

int doJob(int foo, int bar)
{
    return foo + bar;
}

int one()
{
    return 1;
}

int oops()
{
    throw std::runtime_error("Ops!");
}

// Runs this thread's event loop (where the callbacks arrive) until \a done, for 30 s at most.
void runUntil(const std::function<bool()> &done)
{
    QEventLoop loop;
    QTimer poll;
    poll.callOnTimeout(&loop, [&] {
        if (done())
            loop.quit();
    });
    poll.start(5);
    QTimer::singleShot(30'000, &loop, &QEventLoop::quit);
    if (!done())
        loop.exec();
}

} // namespace

PK_PROCESS_TASK(doJob)
PK_PROCESS_TASK(one)
PK_PROCESS_TASK(oops)

// Pebble's Foo: callbacks assigned in the constructor to the object's own members.
class Foo : public QObject
{
public:
    explicit Foo(pk::PromiseKeeper *keeper)
        : doJob(pk::TaskFunction<int()>::inProcess(keeper, &one))
        , doWrongJob(pk::TaskFunction<int()>::inProcess(keeper, &oops))
    {
        // [reassign]
        doJob.setCallback(this, &Foo::taskDone);
        doWrongJob.setErrorCallback(this, &Foo::taskError);
        // [reassign]
    }
    void taskDone(quint64 taskId, int result)
    {
        Q_UNUSED(taskId);
        counter += result;
    }
    void taskError(quint64 taskId, const std::exception_ptr &error)
    {
        Q_UNUSED(taskId);
        Q_UNUSED(error);
        ++errors;
    }

    pk::TaskFunction<int()> doJob;
    pk::TaskFunction<int()> doWrongJob;
    int counter = 0;
    int errors = 0;
};

int main(int argc, char *argv[])
{
    // [worker]
    // The keeper starts its children from this executable: a child serves, then exits.
    if (pk::ProcessWorker::isRequested(argc, argv))
        return pk::ProcessWorker::exec(argc, argv);
    // [worker]
    QCoreApplication app(argc, argv);
    pk::PromiseKeeper keeper(2);

    print(QStringLiteral("== A crash in a child process leaves the application running"));
    // [crash]
    pk::Promise<QByteArray> bad = keeper.submitToProcess(&decode, QByteArray("corrupt data"));
    pk::Promise<QByteArray> good = keeper.submitToProcess(&decode, QByteArray("thumbnail"));
    int signal = 0;
    try {
        bad.result();
    } catch (const pk::ProcessCrashedError &e) {
        print(QStringLiteral("  bad.result() threw pk::ProcessCrashedError: %1").arg(e.message()));
        signal = e.signal(); // SIGABRT; the next task gets a new child
    }
    // [crash]
    show("signal == SIGABRT", boolText(signal == SIGABRT), QStringLiteral("true"));
    show("good.result()", QString::fromLatin1(good.result()), QStringLiteral("THUMBNAIL"));
    show("bad.info().processId() != good.info().processId()",
        boolText(bad.info().processId() != good.info().processId()), QStringLiteral("true"));

    print(QStringLiteral("\n== A callback per task, with the task's id"));
    int returned = 0;
    // [callback]
    auto job = pk::TaskFunction<int(int, int)>::inProcess(&keeper, &doJob);
    job.setCallback(&app, [&returned](quint64 taskId, int result) {
        print(QStringLiteral("  Task %1 has returned %2").arg(taskId).arg(result));
        ++returned;
    });
    for (int i = 0; i < 5; ++i)
        job(i, 2);
    // [callback]
    runUntil([&] { return returned == 5; });
    show("callbacks", QString::number(returned), QStringLiteral("5"));

    print(QStringLiteral("\n== Callbacks reassigned to an object's members"));
    Foo foo(&keeper);
    for (int i = 0; i < 5; ++i) {
        foo.doJob();
        foo.doWrongJob();
    }
    runUntil([&] { return foo.counter == 5 && foo.errors == 5; });
    show("foo.counter", QString::number(foo.counter), QStringLiteral("5"));
    show("foo.errors", QString::number(foo.errors), QStringLiteral("5"));

    print(QStringLiteral("\n== Memoisation: equal calls share one result"));
    std::atomic<int> runs { 0 };
    // [memo]
    pk::TaskFunction<int(int)> square(&keeper, [&runs](int x) {
        ++runs;
        return x * x;
    });
    square.setCacheSize(16);
    pk::Promise<int> first = square(12);
    pk::Promise<int> again = square(12); // pending or done, the same promise: no second run
    // [memo]
    show("first.result()", QString::number(first.result()), QStringLiteral("144"));
    show("again.id() == first.id()", boolText(again.id() == first.id()), QStringLiteral("true"));
    show("square(12).result()", QString::number(square(12).result()), QStringLiteral("144"));
    show("runs", QString::number(runs.load()), QStringLiteral("1"));
    show("square.cacheHits()", QString::number(square.cacheHits()), QStringLiteral("2"));
    show("square.cacheMisses()", QString::number(square.cacheMisses()), QStringLiteral("1"));

    print(QString());
    return finish("isolation");
}
