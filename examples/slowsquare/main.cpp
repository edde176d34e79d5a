// slowsquare: submit one slow task, do other work while it runs, then read its result.
//
// Usage: slowsquare [--fast]   (--fast, or PK_EXAMPLE_FAST=1, sleeps 0-30 ms instead of 0-3 s)
#include <QtCore/QCoreApplication>
#include <QtCore/QRandomGenerator>
#include <QtCore/QThread>

#include <PromiseKeeper>
#include <iostream>

namespace {

// Set in main() before the first submit(), which publishes it to the worker threads.
int maxSleepMs = 3000;

// The workload: sleeps a random 0-3 s, then returns x * x.
int slowSquare(int x)
{
    QThread::msleep(QRandomGenerator::global()->bounded(maxSleepMs + 1));
    return x * x;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const bool fast = app.arguments().contains(QStringLiteral("--fast"))
        || qEnvironmentVariableIntValue("PK_EXAMPLE_FAST") == 1;
    if (fast)
        maxSleepMs = 30;

    // [main]
    pk::PromiseKeeper keeper; // one worker thread

    // Doesn't block: the task is queued and its promise comes back at once.
    pk::Promise<int> promise = keeper.submit(slowSquare, 10);

    // While the promise is being processed, go on and do other work.
    while (!promise.isReady()) {
        std::cout << '.' << std::flush;
        QThread::msleep(fast ? 5 : 100);
    }
    std::cout << '\n';

    // The value; had slowSquare thrown, result() would rethrow that exception, with its own type.
    std::cout << promise.result() << '\n';
    // [main]
    return 0;
}
