// The monitor's CSV writer (csvexport_p.h): RFC 4180 quoting, the values of a record, and whole
// files read back with a reader of its own.
#include "csvexport_p.h"
#include "csvparser.h"

#include <pk/taskinfo.h>

#include <QtCore/QBuffer>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <array>

using pk::TaskInfo;
using pk::TaskState;

namespace {

// A task with every field set, at fixed offsets from a fixed monotonic time.
TaskInfo sampleTask(quint64 id, const QString &title, const QString &error)
{
    const qint64 queued = 5'000'000'000;
    TaskInfo info;
    info.setId(id);
    info.setTitle(title);
    info.setPriority(-3);
    info.setState(error.isEmpty() ? TaskState::Succeeded : TaskState::Failed);
    info.setQueuedAtNsecs(queued);
    info.setStartedAtNsecs(queued + 1'000); // waited 1 µs
    info.setFinishedAtNsecs(queued + 1'000 + 2'500'123); // ran 2.500123 ms
    info.setWorkerIndex(2);
    info.setErrorString(error);
    return info;
}

// The device of a full disk: every write fails.
class FailingDevice : public QIODevice
{
protected:
    qint64 readData(char *, qint64) override { return -1; }
    qint64 writeData(const char *, qint64) override { return -1; }
};

} // namespace

class tst_CsvExport : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void field_data();
    void field();
    void roundTrip_data();
    void roundTrip();
    void header();
    void recordValues();
    void liveTaskHasEmptyValues();
    void timesAcrossSeconds();
    void manyTasksInChunks();
    void writeErrors();
    void saveIsAtomic();
};

void tst_CsvExport::field_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");

    QTest::newRow("empty") << QString() << QString();
    QTest::newRow("plain") << QStringLiteral("resize photo 12")
                           << QStringLiteral("resize photo 12");
    QTest::newRow("comma") << QStringLiteral("a,b") << QStringLiteral("\"a,b\"");
    QTest::newRow("quote") << QStringLiteral("say \"hi\"") << QStringLiteral("\"say \"\"hi\"\"\"");
    QTest::newRow("only a quote") << QStringLiteral("\"") << QStringLiteral("\"\"\"\"");
    QTest::newRow("LF") << QStringLiteral("out of memory\nat line 12")
                        << QStringLiteral("\"out of memory\nat line 12\"");
    QTest::newRow("CRLF") << QStringLiteral("one\r\ntwo") << QStringLiteral("\"one\r\ntwo\"");
    QTest::newRow("CR") << QStringLiteral("one\rtwo") << QStringLiteral("\"one\rtwo\"");
    QTest::newRow("everything") << QStringLiteral("\"x\", y\n")
                                << QStringLiteral("\"\"\"x\"\", y\n\"");
    QTest::newRow("leading blank") << QStringLiteral(" padded") << QStringLiteral("\" padded\"");
    QTest::newRow("trailing tab") << QStringLiteral("padded\t") << QStringLiteral("\"padded\t\"");
    QTest::newRow("inner blanks") << QStringLiteral("a b\tc") << QStringLiteral("a b\tc");
    QTest::newRow("semicolon") << QStringLiteral("a;b") << QStringLiteral("a;b");
    QTest::newRow("unicode") << QStringLiteral("ünïcødé ✓") << QStringLiteral("ünïcødé ✓");
}

void tst_CsvExport::field()
{
    QFETCH(QString, text);
    QFETCH(QString, expected);
    QCOMPARE(pk::monitor::csvField(text), expected);
}

void tst_CsvExport::roundTrip_data()
{
    field_data();
}

void tst_CsvExport::roundTrip()
{
    // The text as a title and as an error, read back by an independent reader: same text, and
    // the record keeps its eleven fields whatever the text holds.
    QFETCH(QString, text);
    const TaskInfo info = sampleTask(7, text, text.isEmpty() ? QString() : text);
    QBuffer buffer;
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    QVERIFY(pk::monitor::writeCsv(&buffer, { info, sampleTask(8, QStringLiteral("next"), {}) }));
    QList<QStringList> records;
    QString error;
    QVERIFY2(pktest::parseCsv(buffer.data(), &records, &error), qPrintable(error));
    QCOMPARE(records.size(), 3);
    QCOMPARE(records.at(1).size(), 14);
    QCOMPARE(records.at(1).at(0), QStringLiteral("7"));
    QCOMPARE(records.at(1).at(1), text);
    QCOMPARE(records.at(1).at(10), text);
    QCOMPARE(records.at(2).at(0), QStringLiteral("8"));
    QCOMPARE(records.at(2).at(1), QStringLiteral("next"));
}

void tst_CsvExport::header()
{
    QCOMPARE(pk::monitor::csvHeader(),
        QByteArrayLiteral("id,title,state,priority,worker,queued_at,started_at,finished_at,"
                          "wait_ms,run_ms,error,keeper,kind,error_type\r\n"));
    // Nothing to write: the header alone.
    QBuffer buffer;
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    QVERIFY(pk::monitor::writeCsv(&buffer, {}));
    QCOMPARE(buffer.data(), pk::monitor::csvHeader());
}

void tst_CsvExport::recordValues()
{
    TaskInfo info
        = sampleTask(42, QStringLiteral("upload, then \"verify\""), QStringLiteral("disk full"));
    info.setKeeperName(QStringLiteral("images, big")); // quoted: a comma
    info.setKind(pk::TaskKind::Continuation);
    info.setErrorType(QStringLiteral("std::runtime_error"));
    const QByteArray record = pk::monitor::csvRecord(info);
    QVERIFY(record.endsWith("\r\n"));
    QList<QStringList> records;
    QString error;
    QVERIFY2(pktest::parseCsv(record, &records, &error), qPrintable(error));
    QCOMPARE(records.size(), 1);
    const QStringList fields = records.first();
    QCOMPARE(fields.size(), 14);
    QCOMPARE(fields.at(0), QStringLiteral("42"));
    QCOMPARE(fields.at(1), QStringLiteral("upload, then \"verify\""));
    QCOMPARE(fields.at(2), QStringLiteral("Failed"));
    QCOMPARE(fields.at(3), QStringLiteral("-3"));
    QCOMPARE(fields.at(4), QStringLiteral("2"));
    // Times: ISO 8601 in UTC with milliseconds, within a millisecond of the task's.
    const std::array<qint64, 3> times
        = { info.queuedAtNsecs(), info.startedAtNsecs(), info.finishedAtNsecs() };
    for (std::size_t i = 0; i < times.size(); ++i) {
        const QString text = fields.at(int(5 + i));
        QVERIFY2(text.endsWith(QLatin1Char('Z')), qPrintable(text));
        const QDateTime parsed = QDateTime::fromString(text, Qt::ISODateWithMs);
        QVERIFY2(parsed.isValid(), qPrintable(text));
        QCOMPARE(parsed.timeSpec(), Qt::UTC);
        const qint64 deltaMs = parsed.msecsTo(TaskInfo::toDateTime(times[i]));
        QVERIFY2(
            qAbs(deltaMs) <= 1, qPrintable(QStringLiteral("%1: %2 ms").arg(text).arg(deltaMs)));
    }
    // Wait and run time: milliseconds, exact to the nanosecond.
    QCOMPARE(fields.at(8), QStringLiteral("0.001000"));
    QCOMPARE(fields.at(9), QStringLiteral("2.500123"));
    QCOMPARE(fields.at(10), QStringLiteral("disk full"));
    QCOMPARE(fields.at(11), QStringLiteral("images, big"));
    QCOMPARE(fields.at(12), QStringLiteral("Continuation"));
    QCOMPARE(fields.at(13), QStringLiteral("std::runtime_error"));
}

void tst_CsvExport::liveTaskHasEmptyValues()
{
    // A queued task: no worker, no start or end, no wait or run time yet.
    TaskInfo info;
    info.setId(3);
    info.setState(TaskState::Queued);
    info.setQueuedAtNsecs(TaskInfo::monotonicNowNsecs());
    QList<QStringList> records;
    QString error;
    QVERIFY2(pktest::parseCsv(pk::monitor::csvRecord(info), &records, &error), qPrintable(error));
    const QStringList fields = records.value(0);
    QCOMPARE(fields.size(), 14);
    QCOMPARE(fields.at(2), QStringLiteral("Queued"));
    QCOMPARE(fields.at(3), QStringLiteral("0"));
    QVERIFY(!fields.at(5).isEmpty());
    QCOMPARE(fields.at(12), QStringLiteral("Task"));
    for (const int column : { 1, 4, 6, 7, 8, 9, 10, 11, 13 })
        QVERIFY2(fields.at(column).isEmpty(), qPrintable(QString::number(column)));
}

void tst_CsvExport::timesAcrossSeconds()
{
    // The writer formats each second once: every time, across second boundaries and in any
    // order, still reads as QDateTime writes it.
    QList<TaskInfo> tasks;
    const qint64 base = TaskInfo::monotonicNowNsecs();
    quint64 id = 0;
    for (const qint64 offsetMs : { 0, 1, 998, 999, 1000, 1001, 250, 1999, 2000, 61000, 59999, 3 }) {
        TaskInfo info;
        info.setId(++id);
        info.setState(TaskState::Succeeded);
        info.setQueuedAtNsecs(base + offsetMs * 1'000'000);
        info.setStartedAtNsecs(base + offsetMs * 1'000'000 + 999'999);
        info.setFinishedAtNsecs(base + offsetMs * 1'000'000 + 3'600'000'000'000); // an hour on
        tasks << info;
    }
    QBuffer buffer;
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    QVERIFY(pk::monitor::writeCsv(&buffer, tasks));
    QList<QStringList> records;
    QString error;
    QVERIFY2(pktest::parseCsv(buffer.data(), &records, &error), qPrintable(error));
    QCOMPARE(records.size(), tasks.size() + 1);
    for (qsizetype i = 0; i < tasks.size(); ++i) {
        const TaskInfo &info = tasks.at(i);
        const QStringList &fields = records.at(i + 1);
        QCOMPARE(fields.at(5), info.queuedAt().toString(Qt::ISODateWithMs));
        QCOMPARE(fields.at(6), info.startedAt().toString(Qt::ISODateWithMs));
        QCOMPARE(fields.at(7), info.finishedAt().toString(Qt::ISODateWithMs));
    }
}

void tst_CsvExport::manyTasksInChunks()
{
    // More than one chunk of output: every record arrives, in order.
    QList<TaskInfo> tasks;
    for (quint64 id = 1; id <= 20000; ++id)
        tasks << sampleTask(id, QStringLiteral("task, %1\nsecond line").arg(id), QString());
    QBuffer buffer;
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    QVERIFY(pk::monitor::writeCsv(&buffer, tasks));
    QVERIFY(buffer.size() > 1024 * 1024);
    QList<QStringList> records;
    QString error;
    QVERIFY2(pktest::parseCsv(buffer.data(), &records, &error), qPrintable(error));
    QCOMPARE(records.size(), tasks.size() + 1);
    for (qsizetype i = 0; i < tasks.size(); ++i) {
        QCOMPARE(records.at(i + 1).at(0), QString::number(tasks.at(i).id()));
        QCOMPARE(records.at(i + 1).at(1), tasks.at(i).title());
    }
}

void tst_CsvExport::writeErrors()
{
    const QList<TaskInfo> tasks { sampleTask(1, QStringLiteral("t"), {}) };
    QVERIFY(!pk::monitor::writeCsv(nullptr, tasks));
    QBuffer readOnly;
    QVERIFY(readOnly.open(QIODevice::ReadOnly));
    QVERIFY(!pk::monitor::writeCsv(&readOnly, tasks));
    FailingDevice full;
    QVERIFY(full.open(QIODevice::WriteOnly));
    QVERIFY(!pk::monitor::writeCsv(&full, tasks));
}

void tst_CsvExport::saveIsAtomic()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QList<TaskInfo> tasks { sampleTask(1, QStringLiteral("first"), {}) };

    // A file of its own; then replaced whole.
    const QString path = dir.filePath(QStringLiteral("tasks.csv"));
    QString error = QStringLiteral("stale");
    QVERIFY(pk::monitor::saveCsv(path, tasks, &error));
    QVERIFY(error.isEmpty());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), pk::monitor::csvHeader() + pk::monitor::csvRecord(tasks.first()));
    file.close();
    QVERIFY(pk::monitor::saveCsv(path, {}, nullptr));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), pk::monitor::csvHeader());
    file.close();

    // Where nothing can be written: false, a reason naming the file, and no file, nor a
    // temporary one left behind.
    const QString nowhere = dir.filePath(QStringLiteral("missing/tasks.csv"));
    QVERIFY(!pk::monitor::saveCsv(nowhere, tasks, &error));
    QVERIFY2(error.contains(nowhere), qPrintable(error));
    QVERIFY(error.size() > nowhere.size() + 20);
    QVERIFY(!QFile::exists(nowhere));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden),
        QStringList({ QStringLiteral("tasks.csv") }));
    QVERIFY(!pk::monitor::saveCsv(nowhere, tasks)); // without a place for the reason
    QVERIFY(!pk::monitor::saveCsv(QString(), tasks, &error));
    QVERIFY(!error.isEmpty());
}

QTEST_MAIN(tst_CsvExport)
#include "tst_csvexport.moc"
