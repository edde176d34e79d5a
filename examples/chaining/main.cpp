// chaining: three downloads on three threads, chained into a fourth task by passing their
// promises as its arguments; a failed download that stops the chain; continuations on the pool
// and on the main thread; then a shutdown that waits for everything submitted.
//
// The downloads are simulated (a short sleep, then a page of a fixed size), so it runs offline.
// Prints each step and what it gave, checks each against what the library promises, and ends
// with "chaining: all checks passed" (exit 0) or the failed checks (exit 1).
//
// Usage: chaining [--fast]   (--fast, or PK_EXAMPLE_FAST=1, sleeps 0-10 ms instead of 0-1 s)
#include "examplecheck.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QEventLoop>
#include <QtCore/QFuture>
#include <QtCore/QMetaEnum>
#include <QtCore/QRandomGenerator>
#include <QtCore/QSemaphore>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <PromiseKeeper>
#include <atomic>
#include <iostream>
#include <mutex>
#include <stdexcept>

using namespace example;

namespace {

// Set in main() before the first submit(), which publishes it to the worker threads.
int maxSleepMs = 1000;
// How many times reportTotal() ran: the failed chain must not add to it.
std::atomic<int> reportCalls { 0 };

qsizetype pageSize(const QString &host)
{
    if (host == QLatin1String("pypi.org"))
        return 21'504;
    if (host == QLatin1String("github.com"))
        return 215'337;
    if (host == QLatin1String("python.org"))
        return 50'813;
    return 4'096;
}

// The "download": sleeps a random 0-1 s, then returns a page of the host's size. An .invalid
// host (RFC 2606) is never found.
QByteArray download(const QString &host)
{
    QThread::msleep(QRandomGenerator::global()->bounded(maxSleepMs + 1));
    if (host.endsWith(QLatin1String(".invalid")))
        throw std::runtime_error("host not found");
    print(QStringLiteral("  [worker] fetched %1").arg(host));
    return QByteArray(pageSize(host), 'x');
}

// The fourth task: it takes the pages, not promises of them.
qsizetype reportTotal(const QByteArray &pypi, const QByteArray &github, const QByteArray &python)
{
    ++reportCalls;
    print(QStringLiteral("  [worker] downloaded %1 bytes from pypi.org").arg(pypi.size()));
    print(QStringLiteral("  [worker] downloaded %1 bytes from github.com").arg(github.size()));
    print(QStringLiteral("  [worker] downloaded %1 bytes from python.org").arg(python.size()));
    return pypi.size() + github.size() + python.size();
}

pk::TaskOptions titled(const QString &host)
{
    return pk::TaskOptions { QStringLiteral("download %1").arg(host) };
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (fastMode(app))
        maxSleepMs = 10;
    QThread *const mainThread = QThread::currentThread();

    pk::PromiseKeeper keeper(3); // three worker threads

    print(QStringLiteral("== Three downloads, chained into a fourth task by argument"));
    const QString pypiOrg = QStringLiteral("pypi.org");
    const QString githubCom = QStringLiteral("github.com");
    const QString pythonOrg = QStringLiteral("python.org");
    pk::Promise<QByteArray> pypi = keeper.submit(titled(pypiOrg), download, pypiOrg);
    pk::Promise<QByteArray> github = keeper.submit(titled(githubCom), download, githubCom);
    pk::Promise<QByteArray> python = keeper.submit(titled(pythonOrg), download, pythonOrg);

    // [argument]
    // reportTotal takes QByteArrays and is given promises of them: the task waits (holding no
    // thread) until all three succeeded, then gets their values.
    pk::Promise<qsizetype> total = keeper.submit(reportTotal, pypi, github, python);
    // [argument]
    print(QStringLiteral("keeper.submit(reportTotal, pypi, github, python): %1")
              .arg(stateText(total.state())));
    const qsizetype expectedTotal = pageSize(pypiOrg) + pageSize(githubCom) + pageSize(pythonOrg);
    show("total.result()", QString::number(total.result()), QString::number(expectedTotal));

    print(QStringLiteral("\n== One input fails: the task that waits for it never runs"));
    const QString nowhere = QStringLiteral("nowhere.invalid");
    pk::Promise<QByteArray> broken = keeper.submit(titled(nowhere), download, nowhere);
    // Finished promises can be passed again: pypi and python are reused as they are.
    pk::Promise<qsizetype> failedTotal = keeper.submit(reportTotal, pypi, broken, python);
    QString caught = QStringLiteral("nothing");
    QString rootCause = QStringLiteral("nothing");
    QString causePtr = QStringLiteral("nothing");
    quint64 inputId = 0;
    try {
        failedTotal.result();
    } catch (const pk::DependencyError &e) {
        caught = QStringLiteral("pk::DependencyError: %1").arg(QString::fromUtf8(e.what()));
        inputId = e.inputId();
        // The input's own exception, with its type, is nested in the DependencyError.
        try {
            e.rethrow_nested();
        } catch (const std::runtime_error &cause) {
            rootCause
                = QStringLiteral("std::runtime_error: %1").arg(QString::fromUtf8(cause.what()));
        }
        // cause() gives the same exception as a std::exception_ptr, to keep or pass on.
        try {
            std::rethrow_exception(e.cause());
        } catch (const std::runtime_error &cause) {
            causePtr = QString::fromUtf8(cause.what());
        }
    } catch (const std::exception &e) {
        caught = QStringLiteral("another exception: %1").arg(QString::fromUtf8(e.what()));
    }
    show("failedTotal.result() throws", caught,
        QStringLiteral("pk::DependencyError: input task %1 (\"download nowhere.invalid\") "
                       "failed: host not found")
            .arg(broken.id()));
    show("e.inputId() == broken.id()", boolText(inputId == broken.id()), QStringLiteral("true"));
    show("e.rethrow_nested() throws", rootCause,
        QStringLiteral("std::runtime_error: host not found"));
    show("std::rethrow_exception(e.cause()) throws", causePtr, QStringLiteral("host not found"));
    show("failedTotal.info().startedAt().isNull()",
        boolText(failedTotal.info().startedAt().isNull()), QStringLiteral("true"));
    show("times reportTotal ran", QString::number(reportCalls.load()), QStringLiteral("1"));

    print(QStringLiteral("\n== Continuations: then() on the pool, the others on this thread"));
    // [then]
    // then(fn) runs fn on a worker of the keeper once total succeeded.
    pk::Promise<QString> summary = total.then([](qsizetype bytes) {
        return QStringLiteral("%1 KiB in 3 pages").arg(double(bytes) / 1024.0, 0, 'f', 1);
    });
    // then(context, fn) runs fn on the context's thread, through its event loop: here this
    // thread, once loop.exec() below runs.
    QThread *shownOn = nullptr;
    pk::Promise<void> shown = summary.then(&app, [&shownOn](const QString &text) {
        shownOn = QThread::currentThread();
        print(QStringLiteral("  [main] then(&app, ...): %1").arg(text));
    });
    // [then]
    // [onfailed]
    // onFailed(context, fn): fn gets the exception (a std::exception_ptr, or a type, as here:
    // other failures pass on) and returns a value in place of it.
    pk::Promise<qsizetype> recovered = failedTotal.onFailed(&app, [](const pk::DependencyError &e) {
        print(QStringLiteral("  [main] onFailed(&app, ...): %1").arg(QString::fromUtf8(e.what())));
        return qsizetype(0);
    });
    // [onfailed]
    // onCancelled(context, fn): fn returns a value in place of the cancellation. The mirror's
    // download is held back until the task that waits for it is cancelled, so that cancel()
    // finds that task still waiting.
    QSemaphore gate;
    pk::Promise<QByteArray> mirror = keeper.submit([&gate] {
        gate.acquire();
        return download(QStringLiteral("mirror.example.org"));
    });
    pk::Promise<qsizetype> mirrorSize
        = keeper.submit([](const QByteArray &page) { return page.size(); }, mirror);
    show("mirrorSize.cancel()", boolText(mirrorSize.cancel()), QStringLiteral("true"));
    gate.release();
    pk::Promise<qsizetype> replaced = mirrorSize.onCancelled(&app, [] {
        print(QStringLiteral("  [main] onCancelled(&app, ...): nobody needs the mirror's size"));
        return qsizetype(-1);
    });
    // [tuple]
    // whenAll of promises of different types gives a tuple of their values (std::monostate for
    // void); finally(context, fn) runs fn whatever the outcome, here to end the event loop.
    QEventLoop loop;
    auto all = pk::whenAll(shown, recovered, replaced).finally(&loop, [&loop] { loop.quit(); });
    // [tuple]
    QTimer::singleShot(30'000, &loop, [&loop] {
        print(QStringLiteral("FAIL: the continuations did not run within 30 s"));
        ++failures;
        loop.quit();
    });
    loop.exec();

    // workerIndex() is that of the worker that ran it: 0 to 2 here, -1 for no worker.
    show("summary.info().workerIndex() >= 0", boolText(summary.info().workerIndex() >= 0),
        QStringLiteral("true"));
    show("then(&app, ...) ran on the main thread", boolText(shownOn == mainThread),
        QStringLiteral("true"));
    show("recovered.result()", QString::number(recovered.result()), QStringLiteral("0"));
    show("replaced.result()", QString::number(replaced.result()), QStringLiteral("-1"));
    show("all.state()", stateText(all.state()), QStringLiteral("Succeeded"));
    show("mirror.result().size()", QString::number(mirror.result().size()),
        QString::number(pageSize(QStringLiteral("mirror.example.org"))));

    print(QStringLiteral("\n== Titles: a continuation is titled after its input, or as given"));
    // [titles]
    auto kib = total.then(pk::TaskOptions { QStringLiteral("to KiB"), 0 },
        [](qsizetype bytes) { return double(bytes) / 1024.0; });
    auto rounded = kib.then(pk::TaskOptions { QStringLiteral("round KiB"), 1 },
        [](double value) { return qRound(value); });
    // [titles]
    show("summary.title()", summary.title(), QStringLiteral("then ← task %1").arg(total.id()));
    show("kib.title()", kib.title(), QStringLiteral("to KiB"));
    show("rounded.info().priority()", QString::number(rounded.info().priority()),
        QStringLiteral("1"));
    show("rounded.result()", QString::number(rounded.result()),
        QString::number(qRound(double(expectedTotal) / 1024.0)));

    print(QStringLiteral("\n== future(): a QFuture for code written for QFuture"));
    QFuture<qsizetype> future = total.future();
    show("total.future().result()", QString::number(future.result()),
        QString::number(expectedTotal));

    print(QStringLiteral("\n== keeper.shutdown(): runs what was submitted, then stops"));
    show("keeper.shutdown()", boolText(keeper.shutdown()), QStringLiteral("true"));
    show("keeper.isShutdown()", boolText(keeper.isShutdown()), QStringLiteral("true"));

    print(QString());
    return finish("chaining");
}
