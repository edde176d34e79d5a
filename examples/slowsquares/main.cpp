// slowsquares: ten slow tasks on two threads. Results are read back in submission order; the
// keeper's signals report each task as it finishes.
//
// Usage: slowsquares [--fast]   (--fast, or PK_EXAMPLE_FAST=1, sleeps 0-30 ms instead of 0-3 s)
#include <QtCore/QCoreApplication>
#include <QtCore/QList>
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

    pk::PromiseKeeper keeper(2); // two worker threads this time (the default is one)

    // Emitted on this thread (the keeper's), from its event loop, in batches.
    QObject::connect(&keeper, &pk::PromiseKeeper::taskSucceeded, [](const pk::TaskInfo &info) {
        std::cout << "  " << qPrintable(info.title()) << " finished on worker "
                  << info.workerIndex() << " after " << info.runNsecs() / 1000000 << " ms\n";
    });

    // Doesn't block.
    QList<pk::Promise<int>> promises;
    for (int i = 0; i < 10; ++i) {
        const pk::TaskOptions options { QStringLiteral("slowSquare(%1)").arg(i) };
        promises.append(keeper.submit(options, slowSquare, i));
    }

    // While the tasks are being worked on, go off and do other things: here, run the event loop
    // for a moment so that the keeper's signals are delivered.
    while (keeper.isRunning()) {
        QCoreApplication::processEvents();
        QThread::msleep(fast ? 5 : 50);
    }
    QCoreApplication::processEvents(); // the signals of the last batch

    // Check the results of the work, in the order it was submitted.
    for (const pk::Promise<int> &promise : std::as_const(promises))
        std::cout << promise.result() << '\n';
    return 0;
}
