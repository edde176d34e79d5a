// namedqueues: keepers looked up by id, jobs with titles and arguments, their return values and
// execution times, and a keeper in manual mode that runs its pending jobs only when asked.
//
// Prints each step and what it gave, checks each against what the library promises, and ends
// with "namedqueues: all checks passed" (exit 0) or the failed checks (exit 1).
// Usage: namedqueues [--fast]   (accepted for symmetry with the other examples; it is always fast)
#include "examplecheck.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDateTime>
#include <QtCore/QMetaEnum>
#include <QtCore/QStringList>

#include <PromiseKeeper>
#include <iostream>
#include <stdexcept>

using namespace example;

namespace {

QString timeText(const QDateTime &t)
{
    return t.isNull() ? QStringLiteral("null") : t.toString(Qt::ISODateWithMs);
}

// A job that reports its arguments and returns them.
QStringList call(const QString &a, int b)
{
    const QStringList args { a, QString::number(b) };
    print(QStringLiteral("  job called with args: (%1)").arg(args.join(QStringLiteral(", "))));
    return args;
}

void jobCalled()
{
    print(QStringLiteral("  Job called."));
}

int failingJob()
{
    throw std::invalid_argument("no good input");
}

} // namespace

int main(int argc, char *argv[])
{
    // Named keepers live in the application's main thread and are deleted with the application.
    QCoreApplication app(argc, argv);

    print(QStringLiteral("== Named keepers"));
    pk::PromiseKeeper *queue = pk::PromiseKeeper::named(QStringLiteral("my.very.special.queue"));
    show("PromiseKeeper::named(\"my.very.special.queue\") == queue",
        boolText(pk::PromiseKeeper::named(QStringLiteral("my.very.special.queue")) == queue),
        QStringLiteral("true"));
    show("PromiseKeeper::named(\"my.not.so.special.queue\") == queue",
        boolText(pk::PromiseKeeper::named(QStringLiteral("my.not.so.special.queue")) == queue),
        QStringLiteral("false"));
    show("queue->threadCount()", QString::number(queue->threadCount()), QStringLiteral("1"));

    print(QStringLiteral("\n== A job with a title and arguments"));
    pk::Promise<QStringList> job
        = queue->submit(pk::TaskOptions { QStringLiteral("call") }, call, QStringLiteral("a"), 2);
    const QStringList value = job.result(); // waits for the queue's thread to run it
    show("job.result()", QStringLiteral("(%1)").arg(value.join(QStringLiteral(", "))),
        QStringLiteral("(a, 2)"));
    show("job.title()", job.title(), QStringLiteral("call"));
    const pk::TaskInfo info = job.info();
    show("job.state()", stateText(job.state()), QStringLiteral("Succeeded"));
    show("job.info().startedAt().isValid()", boolText(info.startedAt().isValid()),
        QStringLiteral("true"));
    show("job.info().finishedAt() >= job.info().startedAt()",
        boolText(info.finishedAt() >= info.startedAt()), QStringLiteral("true"));
    print(QStringLiteral("  started %1, finished %2, ran for %3 us")
              .arg(timeText(info.startedAt()), timeText(info.finishedAt()))
              .arg(double(info.runNsecs()) / 1000.0, 0, 'f', 1));

    print(QStringLiteral("\n== A keeper in manual mode (threadCount 0): nothing runs until asked"));
    pk::PromiseKeeper manual(0);
    pk::Promise<void> pending = manual.submit(jobCalled);
    pk::Promise<int> failing
        = manual.submit(pk::TaskOptions { QStringLiteral("failing") }, failingJob);
    show("pending.state()", stateText(pending.state()), QStringLiteral("Queued"));
    show(
        "pending.info().startedAt()", timeText(pending.info().startedAt()), QStringLiteral("null"));
    show("pending.title()", QStringLiteral("\"%1\"").arg(pending.title()), QStringLiteral("\"\""));
    show("manual.queuedCount()", QString::number(manual.queuedCount()), QStringLiteral("2"));

    print(QStringLiteral("manual.processPending()"));
    const int ran = manual.processPending(); // runs both on this thread, in order
    show(nullptr, QString::number(ran), QStringLiteral("2"));
    show("manual.queuedCount()", QString::number(manual.queuedCount()), QStringLiteral("0"));
    show("pending.state()", stateText(pending.state()), QStringLiteral("Succeeded"));
    show("pending.info().startedAt().isValid()", boolText(pending.info().startedAt().isValid()),
        QStringLiteral("true"));

    print(
        QStringLiteral("\n== A job that throws: the exception is kept and rethrown with its type"));
    show("failing.state()", stateText(failing.state()), QStringLiteral("Failed"));
    show("failing.errorString()", failing.errorString(), QStringLiteral("no good input"));
    QString caught = QStringLiteral("nothing");
    try {
        failing.result();
    } catch (const std::invalid_argument &e) {
        caught = QStringLiteral("std::invalid_argument: %1").arg(QString::fromUtf8(e.what()));
    }
    show("failing.result() throws", caught, QStringLiteral("std::invalid_argument: no good input"));
    show("manual.succeededCount(), manual.failedCount()",
        QStringLiteral("%1, %2").arg(manual.succeededCount()).arg(manual.failedCount()),
        QStringLiteral("1, 1"));

    print(QString());
    return finish("namedqueues");
}
