// pk-trace-sample FILE: a trace for scripts/check-trace-viewers. Two keepers of a made-up
// program, whose tasks run back to back far from the trace's start (where sums of "ts" and
// "dur" round as doubles), zero-length tasks and tasks that start the nanosecond another ends,
// tasks nested in others, and a few tasks of a real keeper.
#include <pk/promisekeeper.h>
#include <pk/tracewriter.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QRandomGenerator>

#include <cstdio>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: pk-trace-sample FILE\n");
        return 2;
    }
    pk::TraceWriter trace;
    trace.setProcessName(QStringLiteral("trace-sample"));
    trace.setProcessId(4242);

    const auto record = [&trace](quint64 id, const QString &keeper, int worker, qint64 startNs,
                            qint64 endNs, pk::TaskState state) {
        pk::TaskInfo t;
        t.setId(id);
        t.setTitle(QStringLiteral("%1 task %2").arg(keeper).arg(id));
        t.setKeeperName(keeper);
        t.setState(state);
        t.setWorkerIndex(worker);
        t.setQueuedAtNsecs(std::max<qint64>(startNs - 500, 1));
        t.setStartedAtNsecs(startNs);
        t.setFinishedAtNsecs(endNs);
        if (state == pk::TaskState::Failed) {
            t.setErrorType(QStringLiteral("std::runtime_error"));
            t.setErrorString(QStringLiteral("failed on purpose"));
        }
        trace.record(t);
    };
    quint64 id = 0;
    record(++id, QStringLiteral("images"), 3, 1000, 2000, pk::TaskState::Succeeded); // the base
    QRandomGenerator random(20261201);
    const qint64 far = (qint64(1) << 33) * 1000; // 2^33 µs after the base
    for (int k = 0; k < 2; ++k) {
        const QString keeper = k == 0 ? QStringLiteral("images") : QStringLiteral("downloads");
        for (int w = 0; w < 2; ++w) {
            qint64 t = far + random.bounded(100000);
            for (int i = 0; i < 2000; ++i) {
                const qint64 dur = i % 50 == 0 ? 0 : random.bounded(20001);
                record(++id, keeper, w, t, t + dur,
                    i % 97 == 0 ? pk::TaskState::Failed : pk::TaskState::Succeeded);
                t += dur + (random.bounded(4) == 0 ? random.bounded(3001) : 0);
            }
        }
    }
    // Worker 2 of "images": tasks run inside others (a waiting worker ran the queue), one or
    // two levels deep, some ending with their outer task, as TraceWriter nests them.
    qint64 t = far + 7;
    for (int i = 0; i < 300; ++i) {
        const qint64 dur = 3000 + random.bounded(20001);
        record(++id, QStringLiteral("images"), 2, t, t + dur, pk::TaskState::Succeeded);
        const qint64 innerStart = t + 1 + random.bounded(dur / 2);
        const qint64 innerEnd = i % 3 == 0 ? t + dur : innerStart + random.bounded(dur / 3);
        record(++id, QStringLiteral("images"), 2, innerStart, innerEnd, pk::TaskState::Succeeded);
        if (i % 5 == 0 && innerEnd - innerStart > 2) {
            record(++id, QStringLiteral("images"), 2, innerStart + 1, innerEnd - 1,
                pk::TaskState::Failed);
        }
        t += dur + random.bounded(3001);
    }
    if (!trace.save(QString::fromLocal8Bit(argv[1]))) {
        std::fprintf(stderr, "pk-trace-sample: %s\n", qPrintable(trace.errorString()));
        return 1;
    }
    return 0;
}
