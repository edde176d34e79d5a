// pk-monitor --attach NAME --record FILE end to end: a program with two keepers
// (pk-record-workload), recorded without a window, the trace read back with pk::TraceReader.
#include "pktest.h"

#include <pk/taskcounts.h>
#include <pk/tracereader.h>

#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QScopeGuard>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using pk::TaskCounts;
using pk::TaskInfo;

namespace {
// The recording's duration: far longer than the workload takes, so that it is the program
// going away that ends it; the test fails if the recorder is still there after it.
constexpr int kDurationSeconds = 60;
constexpr int kProcessTimeoutMs = 90000;

// The keepers' final counts, as the program printed them ("COUNTS images 0 0 0 80 0 0").
QHash<QString, TaskCounts> countsFrom(const QByteArray &output)
{
    QHash<QString, TaskCounts> counts;
    for (const QByteArray &line : output.split('\n')) {
        const QList<QByteArray> f = line.trimmed().split(' ');
        if (f.size() != 8 || f.at(0) != "COUNTS")
            continue;
        counts.insert(QString::fromUtf8(f.at(1)),
            TaskCounts { f[2].toLongLong(), f[3].toLongLong(), f[4].toLongLong(), f[5].toLongLong(),
                f[6].toLongLong(), f[7].toLongLong() });
    }
    return counts;
}
} // namespace

class tst_RecordE2E : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void recordTwoKeepers();
    void keepersApartInTheTrace();
    void neverAttachedFails();
    void unwritableFileFails();

private:
    QTemporaryDir m_dir;
    QString m_trace; // written by recordTwoKeepers()
    QHash<QString, TaskCounts> m_counts; // the program's own
};

void tst_RecordE2E::initTestCase()
{
    QVERIFY2(QFile::exists(QStringLiteral(PK_RECORD_WORKLOAD)), PK_RECORD_WORKLOAD);
    QVERIFY2(QFile::exists(QStringLiteral(PK_MONITOR)), PK_MONITOR);
    QVERIFY(m_dir.isValid());
}

void tst_RecordE2E::recordTwoKeepers()
{
    const QString name = QStringLiteral("pk-tst-record-%1").arg(QCoreApplication::applicationPid());
    m_trace = m_dir.filePath(QStringLiteral("two-keepers.trace.json"));

    // The recorder first: it retries until the program listens, and the program starts its
    // work only once a monitor is attached, so that nothing happens unseen.
    QProcess recorder;
    recorder.setProcessChannelMode(QProcess::SeparateChannels);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("DISPLAY")); // recording needs no display
    env.remove(QStringLiteral("WAYLAND_DISPLAY"));
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    recorder.setProcessEnvironment(env);
    recorder.start(QStringLiteral(PK_MONITOR),
        { QStringLiteral("--attach"), name, QStringLiteral("--record"), m_trace,
            QStringLiteral("--duration"), QString::number(kDurationSeconds) });
    QVERIFY2(recorder.waitForStarted(pktest::kTimeoutMs), qPrintable(recorder.errorString()));
    QProcess program;
    program.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    program.start(QStringLiteral(PK_RECORD_WORKLOAD), { name });
    QVERIFY2(program.waitForStarted(pktest::kTimeoutMs), qPrintable(program.errorString()));
    auto stop = qScopeGuard([&] {
        for (QProcess *p : { &program, &recorder }) {
            if (p->state() != QProcess::NotRunning) {
                p->kill();
                p->waitForFinished(pktest::kTimeoutMs);
            }
        }
    });

    QVERIFY(program.waitForFinished(kProcessTimeoutMs));
    QCOMPARE(program.exitStatus(), QProcess::NormalExit);
    QCOMPARE(program.exitCode(), 0);
    m_counts = countsFrom(program.readAllStandardOutput());
    QCOMPARE(m_counts.size(), 2);
    const TaskCounts images = m_counts.value(QStringLiteral("images"));
    const TaskCounts network = m_counts.value(QStringLiteral("network"));
    QCOMPARE(images.finished(), 80); // 40 decodes and their continuations
    QCOMPARE(network.finished(), 60); // 30 fetches and theirs
    QCOMPARE(network.failed + network.cancelled, 12); // 6 fetches failed, their continuations too
    QCOMPARE(images.live() + network.live(), 0);

    // The program going away ends the recording, well before the duration.
    QVERIFY(recorder.waitForFinished(kProcessTimeoutMs));
    const QByteArray out = recorder.readAllStandardOutput();
    const QByteArray err = recorder.readAllStandardError();
    QVERIFY2(recorder.exitStatus() == QProcess::NormalExit && recorder.exitCode() == 0,
        (out + err).constData());
    QVERIFY2(out.contains("wrote 140 tasks"), (out + err).constData());

    // Read back as pk-monitor --open reads it: counts exact.
    pk::TraceReader reader;
    QVERIFY2(reader.load(m_trace), qPrintable(reader.errorString()));
    const QList<TaskInfo> tasks = reader.tasks();
    QCOMPARE(tasks.size(), 140);
    TaskCounts inTrace;
    for (const TaskInfo &t : tasks) {
        QVERIFY2(pk::isFinal(t.state()), qPrintable(t.title()));
        inTrace.succeeded += t.state() == pk::TaskState::Succeeded;
        inTrace.failed += t.state() == pk::TaskState::Failed;
        inTrace.cancelled += t.state() == pk::TaskState::Cancelled;
    }
    QCOMPARE(inTrace.succeeded, images.succeeded + network.succeeded);
    QCOMPARE(inTrace.failed, images.failed + network.failed);
    QCOMPARE(inTrace.cancelled, images.cancelled + network.cancelled);
    QCOMPARE(reader.droppedTaskCount(), quint64(0));
    QCOMPARE(reader.threadCount(), 5); // 3 + 2

    // The program named: the process_name metadata is the watched program's, not pk-monitor's.
    QFile file(m_trace);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonDocument json = QJsonDocument::fromJson(file.readAll());
    QString processName;
    for (const QJsonValue &e : json.object().value(QStringLiteral("traceEvents")).toArray()) {
        if (e[QStringLiteral("name")] == QStringLiteral("process_name"))
            processName = e[QStringLiteral("args")][QStringLiteral("name")].toString();
    }
    QCOMPARE(processName, QStringLiteral("pk-record-workload"));
}

void tst_RecordE2E::keepersApartInTheTrace()
{
    if (m_trace.isEmpty() || !QFile::exists(m_trace))
        QSKIP("recordTwoKeepers() wrote no trace");
    pk::TraceReader reader;
    QVERIFY2(reader.load(m_trace), qPrintable(reader.errorString()));
    const QList<TaskInfo> tasks = reader.tasks();
    QHash<QString, qint64> perKeeper;
    for (const TaskInfo &t : tasks)
        ++perKeeper[t.keeperName()];
    QCOMPARE(perKeeper.value(QStringLiteral("images")),
        m_counts.value(QStringLiteral("images")).finished());
    QCOMPARE(perKeeper.value(QStringLiteral("network")),
        m_counts.value(QStringLiteral("network")).finished());
    QCOMPARE(perKeeper.size(), 2);
    for (const TaskInfo &t : tasks) {
        const bool image = t.title().startsWith(QStringLiteral("decode"))
            || t.title().contains(QStringLiteral("img-"));
        const bool fetch = t.title().startsWith(QStringLiteral("fetch"))
            || t.title().contains(QStringLiteral("fetch "));
        if (image)
            QCOMPARE(t.keeperName(), QStringLiteral("images"));
        if (fetch)
            QCOMPARE(t.keeperName(), QStringLiteral("network"));
    }
}

void tst_RecordE2E::neverAttachedFails()
{
    const QString file = m_dir.filePath(QStringLiteral("never.trace.json"));
    QProcess recorder;
    recorder.start(QStringLiteral(PK_MONITOR),
        { QStringLiteral("--attach"),
            QStringLiteral("pk-tst-nobody-%1").arg(QCoreApplication::applicationPid()),
            QStringLiteral("--record"), file, QStringLiteral("--duration"),
            QStringLiteral("0.5") });
    QVERIFY(recorder.waitForFinished(kProcessTimeoutMs));
    QCOMPARE(recorder.exitStatus(), QProcess::NormalExit);
    QCOMPARE(recorder.exitCode(), 1);
    QVERIFY(recorder.readAllStandardError().contains("never attached"));
    QVERIFY(!QFile::exists(file));
}

void tst_RecordE2E::unwritableFileFails()
{
    const QString name
        = QStringLiteral("pk-tst-record-unwritable-%1").arg(QCoreApplication::applicationPid());
    const QString file = m_dir.filePath(QStringLiteral("no-such-dir/trace.json"));
    QProcess recorder;
    recorder.start(QStringLiteral(PK_MONITOR),
        { QStringLiteral("--attach"), name, QStringLiteral("--record"), file,
            QStringLiteral("--duration"), QString::number(kDurationSeconds) });
    QVERIFY2(recorder.waitForStarted(pktest::kTimeoutMs), qPrintable(recorder.errorString()));
    QProcess program;
    program.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    program.start(QStringLiteral(PK_RECORD_WORKLOAD), { name });
    auto stop = qScopeGuard([&] {
        for (QProcess *p : { &program, &recorder }) {
            if (p->state() != QProcess::NotRunning) {
                p->kill();
                p->waitForFinished(pktest::kTimeoutMs);
            }
        }
    });
    QVERIFY(program.waitForFinished(kProcessTimeoutMs));
    QCOMPARE(program.exitCode(), 0);
    QVERIFY(recorder.waitForFinished(kProcessTimeoutMs));
    QCOMPARE(recorder.exitStatus(), QProcess::NormalExit);
    QCOMPARE(recorder.exitCode(), 1);
    const QByteArray err = recorder.readAllStandardError();
    QVERIFY2(err.contains("cannot write"), err.constData());
    QVERIFY(!QFile::exists(file));
}

QTEST_GUILESS_MAIN(tst_RecordE2E)
#include "tst_record_e2e.moc"
