// executor: a keeper used as a thread-pool executor. map() with its results in input order,
// asCompleted() in finishing order, whenAll/whenAny/whenAllSettled, PromiseWatcher (the same
// order as signals), waitForAll(), waiting for one promise, a map that fails with its earliest
// failing item, a bound on items in flight, and a shutdown after which submits fail.
//
// Prints each step and what it gave, checks each against what the library promises, and ends
// with "executor: all checks passed" (exit 0) or the failed checks (exit 1). The submit after
// the shutdown makes the library print a warning on stderr: that is expected.
//
// Usage: executor [--fast]   (--fast, or PK_EXAMPLE_FAST=1, sleeps 0-10 ms instead of 0-500 ms)
#include "examplecheck.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QList>
#include <QtCore/QMetaEnum>
#include <QtCore/QRandomGenerator>
#include <QtCore/QSet>
#include <QtCore/QStringList>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <PromiseKeeper>
#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <stdexcept>

using namespace example;

namespace {

// Set in main() before the first submit(), which publishes it to the worker threads.
int maxSleepMs = 500;
// How many slowSquare() calls run at once now, and the most seen since the last reset.
std::atomic<int> running { 0 };
std::atomic<int> maxRunning { 0 };

QString listText(const QList<int> &values)
{
    QStringList texts;
    for (int v : values)
        texts.append(QString::number(v));
    return QStringLiteral("[%1]").arg(texts.join(QStringLiteral(", ")));
}

// The workload: sleeps a random 0-500 ms, then returns x * x.
int slowSquare(int x)
{
    const int now = ++running;
    int seen = maxRunning.load();
    while (now > seen && !maxRunning.compare_exchange_weak(seen, now)) { }
    QThread::msleep(QRandomGenerator::global()->bounded(maxSleepMs + 1));
    --running;
    return x * x;
}

// As slowSquare, but 2 fails late and 5 fails at once.
int checkedSquare(int x)
{
    if (x == 2) {
        QThread::msleep(2 * maxSleepMs);
        throw std::invalid_argument("2 is not welcome");
    }
    if (x == 5)
        throw std::domain_error("5 is out of range");
    return slowSquare(x);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (fastMode(app))
        maxSleepMs = 10;

    pk::PromiseKeeper keeper(4); // four worker threads
    const QList<int> items { 0, 1, 2, 3, 4, 5, 6, 7 };
    QList<int> squares;
    for (int x : items)
        squares.append(x * x);

    print(QStringLiteral("== map(): one task per item, results in input order"));
    pk::Promise<QList<int>> mapped = keeper.map(slowSquare, items);
    show("keeper.map(slowSquare, items).result()", listText(mapped.result()), listText(squares));

    print(QStringLiteral("\n== asCompleted(): promises in the order they finish"));
    QList<pk::Promise<int>> promises;
    for (int x : items)
        promises.append(
            keeper.submit(pk::TaskOptions { QStringLiteral("square %1").arg(x) }, slowSquare, x));
    QList<pk::Promise<int>> withDuplicate = promises;
    withDuplicate.append(promises.first()); // a promise listed twice comes once
    QElapsedTimer clock;
    clock.start();
    QSet<quint64> yielded;
    bool allReady = true;
    // [ascompleted]
    for (const pk::Promise<int> &p : pk::asCompleted(withDuplicate)) {
        print(QStringLiteral("  %1 = %2 (after %3 ms)")
                  .arg(p.title())
                  .arg(p.result())
                  .arg(clock.elapsed()));
        allReady = allReady && p.isReady();
        yielded.insert(p.id());
    }
    // [ascompleted]
    show("every promise yielded was ready", boolText(allReady), QStringLiteral("true"));
    show("distinct promises yielded", QString::number(yielded.size()),
        QString::number(promises.size()));
    // [whenall]
    // whenAll of a list: a promise of all values, in list order.
    QList<int> values = pk::whenAll(promises).result();
    // [whenall]
    show("pk::whenAll(promises).result()", listText(values), listText(squares));

    print(QStringLiteral("\n== whenAny() and whenAllSettled()"));
    const QList<pk::Promise<int>> race { keeper.submit(slowSquare, 20),
        keeper.submit(slowSquare, 21), keeper.submit(checkedSquare, 5) };
    // [whenany]
    // The first to be final, whatever its outcome, with its index.
    pk::WhenAnyResult<int> first = pk::whenAny(race).result();
    // [whenany]
    print(QStringLiteral("  first final: race[%1], %2")
              .arg(first.index)
              .arg(stateText(first.promise.state())));
    show("first.promise == race[first.index]", boolText(first.promise == race.value(first.index)),
        QStringLiteral("true"));
    // Every promise once all are final; whenAllSettled itself never fails.
    QStringList outcomes;
    for (const pk::Promise<int> &p : pk::whenAllSettled(race).result())
        outcomes.append(
            p.state() == pk::TaskState::Succeeded ? QString::number(p.result()) : p.errorString());
    show("pk::whenAllSettled(race).result()", outcomes.join(QStringLiteral(", ")),
        QStringLiteral("400, 441, 5 is out of range"));

    print(
        QStringLiteral("\n== PromiseWatcher: the order of asCompleted() as signals, no blocking"));
    QList<pk::Promise<int>> watched;
    for (int x : items)
        watched.append(keeper.submit(slowSquare, x));
    pk::PromiseWatcher watcher;
    watcher.addPromises(watched);
    QEventLoop loop;
    QObject::connect(&watcher, &pk::PromiseWatcher::promiseFinished, &loop, [&watched](int i) {
        print(QStringLiteral("  promiseFinished(%1): %2").arg(i).arg(watched[i].result()));
    });
    QObject::connect(&watcher, &pk::PromiseWatcher::allFinished, &loop, &QEventLoop::quit);
    QTimer::singleShot(30'000, &loop, [&loop] {
        print(QStringLiteral("FAIL: the watcher did not report every promise within 30 s"));
        ++failures;
        loop.quit();
    });
    loop.exec();
    show("watcher.finishedCount()", QString::number(watcher.finishedCount()),
        QString::number(watched.size()));

    print(QStringLiteral("\n== waitForAll(): wait until nothing is queued or running"));
    QList<pk::Promise<int>> batch;
    for (int x : items)
        batch.append(keeper.submit(slowSquare, x));
    show("keeper.waitForAll()", boolText(keeper.waitForAll()), QStringLiteral("true"));
    show("every promise is ready",
        boolText(std::all_of(
            batch.cbegin(), batch.cend(), [](const pk::Promise<int> &p) { return p.isReady(); })),
        QStringLiteral("true"));
    show("keeper.isIdle()", boolText(keeper.isIdle()), QStringLiteral("true"));

    print(QStringLiteral("\n== wait(): wait for one promise"));
    pk::Promise<int> one = keeper.submit(slowSquare, 12);
    show("one.wait()", boolText(one.wait()), QStringLiteral("true"));
    show("one.state()", stateText(one.state()), QStringLiteral("Succeeded"));
    show("one.result()", QString::number(one.result()), QStringLiteral("144"));

    print(QStringLiteral("\n== A failing item fails the whole map, with the earliest failure"));
    // Item 5 fails at once, item 2 later: the map fails with item 2's exception all the same.
    pk::Promise<QList<int>> failedMap = keeper.map(checkedSquare, items);
    QString caught = QStringLiteral("nothing");
    try {
        failedMap.result();
    } catch (const std::invalid_argument &e) {
        caught = QStringLiteral("std::invalid_argument: %1").arg(QString::fromUtf8(e.what()));
    } catch (const std::exception &e) {
        caught = QStringLiteral("another exception: %1").arg(QString::fromUtf8(e.what()));
    }
    show("keeper.map(checkedSquare, items).result() throws", caught,
        QStringLiteral("std::invalid_argument: 2 is not welcome"));
    keeper.waitForAll(); // the items still running

    print(QStringLiteral("\n== MapOptions{maxInFlight}: at most two items queued or running"));
    maxRunning = 0;
    // [map]
    pk::MapOptions options;
    options.maxInFlight = 2;
    pk::Promise<QList<int>> bounded = keeper.map(slowSquare, items, options);
    // [map]
    show("keeper.map(slowSquare, items, options).result()", listText(bounded.result()),
        listText(squares));
    print(QStringLiteral("  at most %1 ran at once, on a keeper of %2 threads")
              .arg(maxRunning.load())
              .arg(keeper.threadCount()));
    show("at most 2 ran at once", boolText(maxRunning.load() <= 2), QStringLiteral("true"));

    print(QStringLiteral("\n== shutdown(): finish what was submitted, then accept nothing"));
    show("keeper.shutdown()", boolText(keeper.shutdown()), QStringLiteral("true"));
    pk::Promise<int> late = keeper.submit(slowSquare, 99); // the library warns on stderr
    show("late.state()", stateText(late.state()), QStringLiteral("Failed"));
    caught = QStringLiteral("nothing");
    try {
        late.result();
    } catch (const pk::ShutdownError &e) {
        caught = QStringLiteral("pk::ShutdownError: %1").arg(e.message());
    } catch (const std::exception &e) {
        caught = QStringLiteral("another exception: %1").arg(QString::fromUtf8(e.what()));
    }
    show("late.result() throws", caught,
        QStringLiteral("pk::ShutdownError: the keeper is shut down"));

    print(QString());
    return finish("executor");
}
