// The monitor's socket protocol: serialization, framing, the handshake and what happens to
// connections that send garbage.
#include "localsocket_p.h"
#include "pktest.h"
#include "protocol_p.h"

#include <pk/monitorserver.h>
#include <pk/promisekeeper.h>
#include <pk/remotefeed.h>

#include <QtCore/QBuffer>
#include <QtCore/QDataStream>
#include <QtCore/QRandomGenerator>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtCore/QtEndian>
#include <QtNetwork/QLocalServer>
#include <QtNetwork/QLocalSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <limits>

using pk::TaskCounts;
using pk::TaskInfo;
using pk::TaskState;
using pk::protocol::FrameReader;
using pk::protocol::KeeperState;
using pk::protocol::Message;
using pk::protocol::MessageType;

Q_DECLARE_METATYPE(pk::protocol::Message)

namespace {

// Where a program listening as \a name has its socket (the private directory made): for the
// fake programs, which are plain QLocalServers.
QString socketPathFor(const QString &name)
{
    QString error;
    pk::localsocket::ensureDirectory(&error);
    return pk::localsocket::socketPath(name, &error);
}

QString uniqueName()
{
    static int counter = 0;
    return QStringLiteral("pk-tst-protocol-%1-%2")
        .arg(QCoreApplication::applicationPid())
        .arg(++counter);
}

TaskInfo sampleTask(quint64 id)
{
    TaskInfo info;
    info.setId(id);
    info.setTitle(QStringLiteral("task \"%1\" — ✓").arg(id));
    info.setState(TaskState::Failed);
    info.setPriority(-3);
    info.setQueuedAtNsecs(1000 + qint64(id));
    info.setStartedAtNsecs(2000 + qint64(id));
    info.setFinishedAtNsecs(3000 + qint64(id));
    info.setWorkerIndex(2);
    info.setErrorString(QStringLiteral("boom"));
    info.setErrorType(QStringLiteral("std::runtime_error"));
    info.setKind(pk::TaskKind::Continuation);
    info.setInputIds({ id + 100, id + 200 });
    info.setProgressRange(-5, 1000);
    info.setProgressValue(250);
    info.setProgressText(QStringLiteral("page 250 — ✓"));
    info.setCancellationRequested(true);
    info.setProcessId(4321);
    return info;
}

QByteArray framed(const Message &m)
{
    return pk::protocol::frame(pk::protocol::encode(m));
}

// An Update of one keeper, with \a task as its only change.
Message updateWith(const TaskInfo &task, KeeperState keeper = {})
{
    Message m;
    m.type = MessageType::Update;
    keeper.tasks = { task };
    m.keepers = { keeper };
    return m;
}

/*
    Messages with one value past the bounds of what is read (pk::protocol::kMax*), each with
    what the decoder says of it: they do not decode, and a connection that receives one closes.
    They encode: the encoder writes what it is given, like a broken or hostile program would.
*/
struct BadValue
{
    const char *name;
    Message message;
    QString why;
};

QList<BadValue> badValues()
{
    QList<BadValue> rows;
    const auto task = [](const auto &change) {
        TaskInfo info = sampleTask(1);
        change(info);
        return info;
    };
    const int intMax = std::numeric_limits<int>::max();
    const qint64 int64Max = std::numeric_limits<qint64>::max();
    const qint64 int64Min = std::numeric_limits<qint64>::min();
    rows.append(
        { "worker index 2^31-1", updateWith(task([&](TaskInfo &t) { t.setWorkerIndex(intMax); })),
            QStringLiteral("task 1: worker index 2147483647 out of range (-1 to 4095)") });
    rows.append(
        { "worker index 10^7", updateWith(task([](TaskInfo &t) { t.setWorkerIndex(10000000); })),
            QStringLiteral("worker index 10000000 out of range") });
    rows.append({ "worker index 4096",
        updateWith(task([](TaskInfo &t) { t.setWorkerIndex(pk::protocol::kMaxThreadCount); })),
        QStringLiteral("worker index 4096 out of range") });
    rows.append({ "kind 3", updateWith(task([](TaskInfo &t) { t.setKind(pk::TaskKind(3)); })),
        QStringLiteral("task 1: kind 3 out of range") });
    rows.append({ "1025 input ids", updateWith(task([](TaskInfo &t) {
                     t.setInputIds(QList<quint64>(pk::protocol::kMaxInputIds + 1, 9));
                 })),
        QStringLiteral("task 1: 1025 input ids, more than 1024") });
    rows.append({ "input id 2^53+1", updateWith(task([](TaskInfo &t) {
                     t.setInputIds({ 3, pk::protocol::kMaxId + 1 });
                 })),
        QStringLiteral("task 1: input id 9007199254740993 out of range (1 to 2^53)") });
    rows.append({ "input id 0", updateWith(task([](TaskInfo &t) { t.setInputIds({ 0 }); })),
        QStringLiteral("task 1: input id 0 out of range (1 to 2^53)") });
    rows.append({ "task id 2^64-1", updateWith(sampleTask(std::numeric_limits<quint64>::max())),
        QStringLiteral("task id 18446744073709551615 out of range (up to 2^53)") });
    rows.append({ "worker index -2", updateWith(task([](TaskInfo &t) { t.setWorkerIndex(-2); })),
        QStringLiteral("worker index -2 out of range") });
    rows.append(
        { "negative queued time", updateWith(task([](TaskInfo &t) { t.setQueuedAtNsecs(-1); })),
            QStringLiteral("task 1: queued time -1 ns out of range") });
    rows.append({ "started time -2^63",
        updateWith(task([&](TaskInfo &t) { t.setStartedAtNsecs(int64Min); })),
        QStringLiteral("started time -9223372036854775808 ns out of range") });
    rows.append({ "finished time 2^63-1",
        updateWith(task([&](TaskInfo &t) { t.setFinishedAtNsecs(int64Max); })),
        QStringLiteral("finished time 9223372036854775807 ns out of range") });
    KeeperState threads;
    threads.threadCount = intMax;
    rows.append({ "thread count 2^31-1", updateWith(sampleTask(1), threads),
        QStringLiteral("keeper 0: thread count 2147483647 out of range (0 to 4096)") });
    KeeperState negative;
    negative.counts.queued = -1;
    rows.append({ "negative count", updateWith(sampleTask(1), negative),
        QStringLiteral("queued count -1 out of range") });
    KeeperState huge;
    huge.counts.succeeded = int64Max;
    rows.append({ "count 2^63-1", updateWith(sampleTask(1), huge),
        QStringLiteral("succeeded count 9223372036854775807 out of range") });
    KeeperState keeperIndex;
    keeperIndex.keeper = int(pk::protocol::kMaxKeepers);
    rows.append({ "keeper index past the limit", updateWith(sampleTask(1), keeperIndex),
        QStringLiteral("keeper index 1024 out of range") });
    rows.append({ "negative process id", updateWith(task([](TaskInfo &t) { t.setProcessId(-1); })),
        QStringLiteral("task 1: process id -1 out of range (0 to 2147483647)") });
    rows.append(
        { "process id 2^31", updateWith(task([](TaskInfo &t) { t.setProcessId(qint64(1) << 31); })),
            QStringLiteral("process id 2147483648 out of range") });
    rows.append({ "progress range reversed",
        updateWith(task([](TaskInfo &t) { t.setProgressRange(10, 9); })),
        QStringLiteral("progress range 10 to 9 is reversed") });
    rows.append({ "progress text past the limit", updateWith(task([](TaskInfo &t) {
                     t.setProgressText(QString(pk::protocol::kMaxTextLength + 1, QLatin1Char('p')));
                 })),
        QStringLiteral("progress text of 4097 characters, more than 4096") });
    Message dropped = updateWith(sampleTask(1));
    dropped.droppedDetail = std::numeric_limits<quint64>::max();
    rows.append({ "dropped count 2^64-1", dropped,
        QStringLiteral("dropped count 18446744073709551615 out of range") });
    Message snapshot;
    snapshot.type = MessageType::Snapshot;
    KeeperState finished;
    finished.recentlyFinished = { task([&](TaskInfo &t) { t.setWorkerIndex(intMax); }) };
    snapshot.keepers = { finished };
    rows.append({ "snapshot, worker of a finished task", snapshot,
        QStringLiteral("worker index 2147483647 out of range") });
    Message welcome;
    welcome.type = MessageType::Welcome;
    for (qsizetype i = 0; i <= pk::protocol::kMaxKeepers; ++i)
        welcome.keeperLabels.append(QString());
    rows.append({ "welcome with too many keepers", welcome,
        QStringLiteral("1025 keepers, more than the limit of 1024") });
    Message farPid;
    farPid.type = MessageType::Welcome;
    farPid.pid = pk::protocol::kMaxPid + 1;
    rows.append({ "welcome with a pid past 2^32", farPid,
        QStringLiteral("pid 4294967297 out of range (0 to 4294967296)") });
    Message negativePid = farPid;
    negativePid.pid = -1;
    rows.append({ "welcome with a negative pid", negativePid,
        QStringLiteral("pid -1 out of range (0 to 4294967296)") });
    return rows;
}

// Reads every complete message the socket has; false on a protocol error.
bool readMessages(QLocalSocket *socket, FrameReader *reader, QList<Message> *messages)
{
    reader->append(socket->readAll());
    for (;;) {
        QByteArray payload;
        QString error;
        const auto r = reader->next(&payload, &error);
        if (r == FrameReader::NeedMore)
            return true;
        Message m;
        if (r == FrameReader::Error || !pk::protocol::decode(payload, &m, &error))
            return false;
        messages->append(m);
    }
}

} // namespace

class tst_Protocol : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void taskInfoRoundTrip_data();
    void taskInfoRoundTrip();
    void taskCountsRoundTrip();
    void messageRoundTrip_data();
    void messageRoundTrip();
    void framesRoundTrip();
    void truncatedFramesAcrossReads();
    void oversizedFrame();
    void malformedPayloads_data();
    void malformedPayloads();
    void valueBounds_data();
    void valueBounds();
    void taskInfoArithmeticSaturates_data();
    void taskInfoArithmeticSaturates();
    void chunking();
    void truncation();

    void serverRejectsOtherVersion();
    void clientRejectsOtherVersion_data();
    void clientRejectsOtherVersion();
    void serverClosesOnGarbage_data();
    void serverClosesOnGarbage();
    void clientClosesOnGarbage_data();
    void clientClosesOnGarbage();

private:
    QTemporaryDir m_runtime;
};

void tst_Protocol::initTestCase()
{
    // The servers register in the runtime directory: use a private one.
    QVERIFY(m_runtime.isValid());
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(m_runtime.path()));
}

void tst_Protocol::taskInfoRoundTrip_data()
{
    QTest::addColumn<TaskInfo>("info");
    QTest::newRow("default") << TaskInfo();
    QTest::newRow("full") << sampleTask(42);
    TaskInfo queued;
    queued.setId(pk::protocol::kMaxId); // the largest id read
    queued.setTitle(QString());
    queued.setState(TaskState::Queued);
    queued.setQueuedAtNsecs(pk::protocol::kMaxTimestampNs); // the latest time read
    queued.setPriority(std::numeric_limits<int>::min());
    QTest::newRow("extremes") << queued;
    TaskInfo unicode = sampleTask(7);
    unicode.setTitle(QStringLiteral("日本語 😀 \"quotes\" \\ \n"));
    unicode.setErrorString(QString(10000, QLatin1Char('x')));
    QTest::newRow("unicode, long error") << unicode;
    for (int k = 0; k <= int(pk::TaskKind::Combinator); ++k) {
        TaskInfo info = sampleTask(quint64(k + 10));
        info.setKind(pk::TaskKind(k));
        QTest::newRow(qPrintable(QStringLiteral("kind %1").arg(k))) << info;
    }
    TaskInfo manyInputs = sampleTask(20);
    QList<quint64> inputs;
    for (qsizetype i = 0; i < pk::protocol::kMaxInputIds; ++i)
        inputs.append(quint64(i + 1) * 7919);
    manyInputs.setInputIds(inputs);
    manyInputs.setErrorType(QStringLiteral("ns::Error<日本>"));
    QTest::newRow("1024 inputs, unicode error type") << manyInputs;
    for (int s = 0; s <= int(TaskState::Cancelled); ++s) {
        TaskInfo info = sampleTask(quint64(s + 1));
        info.setState(TaskState(s));
        QTest::newRow(qPrintable(QStringLiteral("state %1").arg(s))) << info;
    }
}

void tst_Protocol::taskInfoRoundTrip()
{
    QFETCH(TaskInfo, info);
    QByteArray bytes;
    {
        QDataStream out(&bytes, QIODevice::WriteOnly);
        out << info;
    }
    QCOMPARE(qint64(bytes.size()), pk::protocol::encodedSize(info));
    QDataStream in(bytes);
    TaskInfo back;
    in >> back;
    QCOMPARE(in.status(), QDataStream::Ok);
    QVERIFY(in.atEnd());
    QCOMPARE(back, info);
    QCOMPARE(back.title().isNull(), info.title().isNull());
}

void tst_Protocol::taskCountsRoundTrip()
{
    const TaskCounts counts { 1, 2, 3, pk::protocol::kMaxTaskCount, 5, 6, 4 }; // the largest read
    QByteArray bytes;
    {
        QDataStream out(&bytes, QIODevice::WriteOnly);
        out << counts;
    }
    QCOMPARE(bytes.size(), 7 * 8);
    QDataStream in(bytes);
    TaskCounts back;
    in >> back;
    QCOMPARE(in.status(), QDataStream::Ok);
    QVERIFY(back == counts);

    // A short read leaves the target alone.
    QDataStream shortIn(bytes.left(20));
    TaskCounts untouched { 9, 9, 9, 9, 9, 9, 9 };
    shortIn >> untouched;
    QCOMPARE(shortIn.status(), QDataStream::ReadPastEnd);
    QVERIFY(untouched == (TaskCounts { 9, 9, 9, 9, 9, 9, 9 }));

    // So does a count out of range, or more tasks timed out than failed, and the stream says
    // it is corrupt.
    for (const TaskCounts &bad : { TaskCounts { 1, 2, 3, std::numeric_limits<qint64>::max(), 5, 6 },
             TaskCounts { 1, 2, 3, 4, 5, 6, 6 } }) {
        QByteArray corrupt;
        {
            QDataStream out(&corrupt, QIODevice::WriteOnly);
            out << bad;
        }
        QDataStream corruptIn(corrupt);
        corruptIn >> untouched;
        QCOMPARE(corruptIn.status(), QDataStream::ReadCorruptData);
        QVERIFY(untouched == (TaskCounts { 9, 9, 9, 9, 9, 9, 9 }));
    }
    QVERIFY(pk::protocol::checkCounts(TaskCounts { 0, 0, 0, 0, 5, 0, 6 })
                .contains(QLatin1String("timed-out")));
}

void tst_Protocol::messageRoundTrip_data()
{
    QTest::addColumn<Message>("message");
    QTest::newRow("hello") << Message::hello();

    Message welcome;
    welcome.type = MessageType::Welcome;
    welcome.version = 1;
    welcome.text = QStringLiteral("myapp ✓");
    welcome.pid = 123456;
    welcome.keeperLabels
        = QStringList { QStringLiteral("images"), QString(), QStringLiteral("io") };
    QTest::newRow("welcome") << welcome;

    Message reject;
    reject.type = MessageType::Reject;
    reject.version = 77;
    reject.text = QStringLiteral("no");
    QTest::newRow("reject") << reject;

    Message snapshot;
    snapshot.type = MessageType::Snapshot;
    snapshot.more = true;
    snapshot.droppedDetail = 99;
    KeeperState k0;
    k0.keeper = 0;
    k0.threadCount = 4;
    k0.counts = TaskCounts { 0, 10, 4, 100, 2, 3 };
    k0.tasks = { sampleTask(1), sampleTask(2) };
    k0.recentlyFinished = { sampleTask(3) };
    KeeperState k1;
    k1.keeper = 1;
    snapshot.keepers = { k0, k1 };
    QTest::newRow("snapshot") << snapshot;

    Message update;
    update.type = MessageType::Update;
    update.droppedDetail = 5;
    update.keepers = { k0 };
    update.keepers[0].recentlyFinished.clear();
    QTest::newRow("update") << update;

    Message bye;
    bye.type = MessageType::Goodbye;
    bye.text = QStringLiteral("bye");
    QTest::newRow("goodbye") << bye;

    Message cancel;
    cancel.type = MessageType::CancelTask;
    cancel.taskId = 0x1234567890ull;
    QTest::newRow("cancelTask") << cancel;

    Message cancelAll;
    cancelAll.type = MessageType::CancelAll;
    QTest::newRow("cancelAll") << cancelAll;
}

void tst_Protocol::messageRoundTrip()
{
    QFETCH(Message, message);
    Message back;
    QString error;
    QVERIFY2(pk::protocol::decode(pk::protocol::encode(message), &back, &error), qPrintable(error));
    QCOMPARE(back.type, message.type);
    switch (message.type) {
    case MessageType::Hello:
        QCOMPARE(back.magic, QByteArrayLiteral("PKMON"));
        QCOMPARE(back.version, pk::protocol::kVersion);
        break;
    case MessageType::Welcome:
        QCOMPARE(back.version, message.version);
        QCOMPARE(back.text, message.text);
        QCOMPARE(back.pid, message.pid);
        QCOMPARE(back.keeperLabels, message.keeperLabels);
        break;
    case MessageType::Reject:
        QCOMPARE(back.version, message.version);
        QCOMPARE(back.text, message.text);
        break;
    case MessageType::Snapshot:
    case MessageType::Update:
        QCOMPARE(back.more, message.more);
        QCOMPARE(back.droppedDetail, message.droppedDetail);
        QCOMPARE(back.keepers.size(), message.keepers.size());
        for (qsizetype i = 0; i < message.keepers.size(); ++i) {
            QCOMPARE(back.keepers[i].keeper, message.keepers[i].keeper);
            QCOMPARE(back.keepers[i].threadCount, message.keepers[i].threadCount);
            QVERIFY(back.keepers[i].counts == message.keepers[i].counts);
            QCOMPARE(back.keepers[i].tasks, message.keepers[i].tasks);
            QCOMPARE(back.keepers[i].recentlyFinished, message.keepers[i].recentlyFinished);
        }
        break;
    case MessageType::Goodbye:
        QCOMPARE(back.text, message.text);
        break;
    case MessageType::CancelTask:
        QCOMPARE(back.taskId, message.taskId);
        break;
    case MessageType::CancelAll:
        break;
    }
}

void tst_Protocol::framesRoundTrip()
{
    const QList<QByteArray> payloads
        = { QByteArray("a"), QByteArray(), QByteArray(100000, 'x'), QByteArray("\0\1\2", 3) };
    QByteArray stream;
    for (const QByteArray &p : payloads)
        stream += pk::protocol::frame(p);
    QCOMPARE(qFromBigEndian<quint32>(stream.constData()), 1u);

    FrameReader reader;
    reader.append(stream); // several frames in one read
    for (const QByteArray &p : payloads) {
        QByteArray payload;
        QString error;
        QCOMPARE(reader.next(&payload, &error), FrameReader::Frame);
        QCOMPARE(payload, p);
    }
    QByteArray none;
    QString error;
    QCOMPARE(reader.next(&none, &error), FrameReader::NeedMore);
    QCOMPARE(reader.bufferedBytes(), 0);
}

void tst_Protocol::truncatedFramesAcrossReads()
{
    QList<QByteArray> payloads;
    QByteArray stream;
    for (int i = 0; i < 50; ++i) {
        Message m;
        m.type = MessageType::Update;
        KeeperState k;
        for (int t = 0; t < i; ++t)
            k.tasks.append(sampleTask(quint64(t + 1)));
        m.keepers = { k };
        payloads.append(pk::protocol::encode(m));
        stream += pk::protocol::frame(payloads.last());
    }

    // Byte by byte, then in random pieces: the same frames come out, in order.
    for (int round = 0; round < 2; ++round) {
        FrameReader reader;
        QList<QByteArray> got;
        qsizetype pos = 0;
        while (pos < stream.size()) {
            const qsizetype piece
                = round == 0 ? 1 : 1 + QRandomGenerator::global()->bounded(qint64(3000));
            reader.append(stream.mid(pos, piece));
            pos += piece;
            for (;;) {
                QByteArray payload;
                QString error;
                const auto r = reader.next(&payload, &error);
                QVERIFY(r != FrameReader::Error);
                if (r == FrameReader::NeedMore)
                    break;
                got.append(payload);
            }
            // Never more than one frame's worth buffered.
            QVERIFY(reader.bufferedBytes() < 4 + 200000);
        }
        QCOMPARE(got, payloads);
        for (const QByteArray &p : std::as_const(got)) {
            Message m;
            QString error;
            QVERIFY2(pk::protocol::decode(p, &m, &error), qPrintable(error));
        }
    }
}

void tst_Protocol::oversizedFrame()
{
    FrameReader reader;
    QByteArray header(4, Qt::Uninitialized);
    qToBigEndian<quint32>(quint32(pk::protocol::kMaxFrameSize + 1), header.data());
    reader.append(header);
    QByteArray payload;
    QString error;
    QCOMPARE(reader.next(&payload, &error), FrameReader::Error);
    QVERIFY2(error.contains(QLatin1String("larger than the limit")), qPrintable(error));
    // It stays failed, whatever comes next.
    reader.append(pk::protocol::frame("ok"));
    QCOMPARE(reader.next(&payload, &error), FrameReader::Error);

    // Exactly the limit is fine (it waits for the rest).
    FrameReader atLimit;
    qToBigEndian<quint32>(quint32(pk::protocol::kMaxFrameSize), header.data());
    atLimit.append(header);
    QCOMPARE(atLimit.next(&payload, &error), FrameReader::NeedMore);
}

void tst_Protocol::malformedPayloads_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("unknown type") << QByteArray("\x63", 1);
    QTest::newRow("type zero") << QByteArray("\x00", 1);
    const QByteArray hello = pk::protocol::encode(Message::hello());
    QTest::newRow("hello cut") << hello.left(hello.size() - 1);
    QTest::newRow("hello with trailing bytes") << hello + QByteArray("zz");

    Message update;
    update.type = MessageType::Update;
    KeeperState k;
    k.tasks = { sampleTask(1), sampleTask(2) };
    update.keepers = { k };
    const QByteArray good = pk::protocol::encode(update);
    QTest::newRow("update cut") << good.left(good.size() - 3);

    // A list count of four billion in a tiny payload: refused without allocating.
    QByteArray hugeCount;
    {
        QDataStream out(&hugeCount, QIODevice::WriteOnly);
        out << quint8(MessageType::Update) << quint64(0) << quint32(0xffffffffu);
    }
    QTest::newRow("huge keeper count") << hugeCount;
    QByteArray hugeTasks;
    {
        QDataStream out(&hugeTasks, QIODevice::WriteOnly);
        out << quint8(MessageType::Update) << quint64(0) << quint32(1) << qint32(0) << qint32(1)
            << TaskCounts() << quint32(0x7fffffffu);
    }
    QTest::newRow("huge task count") << hugeTasks;

    // A task state out of range.
    QByteArray badState;
    {
        QDataStream out(&badState, QIODevice::WriteOnly);
        out << quint8(MessageType::Update) << quint64(0) << quint32(1) << qint32(0) << qint32(1)
            << TaskCounts() << quint32(1) << quint64(1) << QString() << quint8(200) << qint32(0)
            << qint64(0) << qint64(0) << qint64(0) << qint32(-1) << QString() << quint8(0)
            << QString() << quint32(0) << quint32(0);
    }
    QTest::newRow("bad state") << badState;

    // A kind out of range, an input count past what the payload holds, a flag not 0 or 1.
    const auto taskPayload = [](quint8 kind, quint32 inputCount, quint8 cancellation) {
        QByteArray bytes;
        QDataStream out(&bytes, QIODevice::WriteOnly);
        out << quint8(MessageType::Update) << quint64(0) << quint32(1) << qint32(0) << qint32(1)
            << TaskCounts() << quint32(1) << quint64(1) << QString() << quint8(0) << qint32(0)
            << qint64(0) << qint64(0) << qint64(0) << qint32(-1) << QString() << kind << QString()
            << inputCount << qint64(0) << qint64(0) << qint64(0) << QString() << cancellation
            << quint32(0);
        return bytes;
    };
    QTest::newRow("bad kind") << taskPayload(3, 0, 0);
    QTest::newRow("huge input count") << taskPayload(0, 0xffffffffu, 0);
    QTest::newRow("cancellation requested 2") << taskPayload(0, 0, 2);

    QByteArray negativeKeeper;
    {
        QDataStream out(&negativeKeeper, QIODevice::WriteOnly);
        out << quint8(MessageType::Update) << quint64(0) << quint32(1) << qint32(-5) << qint32(1)
            << TaskCounts() << quint32(0) << quint32(0);
    }
    QTest::newRow("negative keeper index") << negativeKeeper;
}

void tst_Protocol::malformedPayloads()
{
    QFETCH(QByteArray, payload);
    Message m;
    QString error;
    QVERIFY(!pk::protocol::decode(payload, &m, &error));
    QVERIFY(!error.isEmpty());
}

void tst_Protocol::valueBounds_data()
{
    QTest::addColumn<Message>("message");
    QTest::addColumn<QString>("why"); // empty: it decodes

    for (const BadValue &row : badValues())
        QTest::newRow(row.name) << row.message << row.why;

    // The bounds themselves are in range.
    TaskInfo edge = sampleTask(1);
    edge.setWorkerIndex(pk::protocol::kMaxThreadCount - 1);
    edge.setQueuedAtNsecs(0);
    edge.setStartedAtNsecs(1);
    edge.setFinishedAtNsecs(pk::protocol::kMaxTimestampNs);
    KeeperState k;
    k.keeper = int(pk::protocol::kMaxKeepers) - 1;
    k.threadCount = pk::protocol::kMaxThreadCount;
    k.counts = TaskCounts { 0, 1, 2, pk::protocol::kMaxTaskCount, 4, 5 };
    Message update = updateWith(edge, k);
    update.droppedDetail = quint64(pk::protocol::kMaxTaskCount);
    QTest::newRow("at the bounds") << update << QString();
    TaskInfo never = sampleTask(2);
    never.setWorkerIndex(-1);
    QTest::newRow("no worker") << updateWith(never) << QString();
    Message welcome;
    welcome.type = MessageType::Welcome;
    for (qsizetype i = 0; i < pk::protocol::kMaxKeepers; ++i)
        welcome.keeperLabels.append(QString());
    QTest::newRow("welcome with 1024 keepers") << welcome << QString();
    Message highPid;
    highPid.type = MessageType::Welcome;
    highPid.pid = pk::protocol::kMaxPid;
    QTest::newRow("welcome with pid 2^32") << highPid << QString();
    TaskInfo combinator = sampleTask(3);
    combinator.setKind(pk::TaskKind::Combinator);
    combinator.setInputIds(QList<quint64>(pk::protocol::kMaxInputIds, 5));
    QTest::newRow("1024 input ids") << updateWith(combinator) << QString();
    TaskInfo farIds = sampleTask(pk::protocol::kMaxId);
    farIds.setInputIds({ 1, pk::protocol::kMaxId });
    QTest::newRow("ids 2^53") << updateWith(farIds) << QString();
}

void tst_Protocol::valueBounds()
{
    QFETCH(Message, message);
    QFETCH(QString, why);
    Message back;
    QString error;
    const bool decoded = pk::protocol::decode(pk::protocol::encode(message), &back, &error);
    if (why.isEmpty()) {
        QVERIFY2(decoded, qPrintable(error));
        QCOMPARE(back.keepers.size(), message.keepers.size());
        return;
    }
    QVERIFY(!decoded);
    QVERIFY2(
        error.startsWith(QStringLiteral("corrupt message of type %1: ").arg(int(message.type))),
        qPrintable(error));
    QVERIFY2(error.contains(why), qPrintable(error));
}

void tst_Protocol::taskInfoArithmeticSaturates_data()
{
    // Timestamps set by hand (or read unchecked): differences that do not fit saturate.
    QTest::addColumn<qint64>("queued");
    QTest::addColumn<qint64>("started");
    QTest::addColumn<qint64>("finished");
    QTest::addColumn<qint64>("wait");
    QTest::addColumn<qint64>("run");
    const qint64 max = std::numeric_limits<qint64>::max();
    const qint64 min = std::numeric_limits<qint64>::min();
    QTest::newRow("ordinary") << qint64(10) << qint64(15) << qint64(35) << qint64(5) << qint64(20);
    QTest::newRow("wait past the maximum") << min << max << max << max << qint64(0);
    QTest::newRow("wait past the minimum") << max << min << qint64(1) << min << max;
    QTest::newRow("run past the maximum") << qint64(1) << qint64(-5) << max << qint64(-6) << max;
    QTest::newRow("cancelled, wait past the minimum")
        << max << qint64(0) << qint64(-2) << min << qint64(-1);
}

void tst_Protocol::taskInfoArithmeticSaturates()
{
    QFETCH(qint64, queued);
    QFETCH(qint64, started);
    QFETCH(qint64, finished);
    QFETCH(qint64, wait);
    QFETCH(qint64, run);
    TaskInfo info;
    info.setQueuedAtNsecs(queued);
    info.setStartedAtNsecs(started);
    info.setFinishedAtNsecs(finished);
    QCOMPARE(info.waitNsecs(), wait);
    QCOMPARE(info.runNsecs(), run);
    // A timestamp past the end of Unix time in qint64 nanoseconds has no wall-clock time.
    QVERIFY(TaskInfo::toDateTime(std::numeric_limits<qint64>::max()).isNull());
    QVERIFY(TaskInfo::toDateTime(pk::protocol::kMaxTimestampNs).isValid());
}

void tst_Protocol::chunking()
{
    QList<TaskInfo> tasks;
    for (int i = 0; i < 1000; ++i)
        tasks.append(sampleTask(quint64(i + 1)));
    const qint64 budget = 10000;
    const QList<QList<TaskInfo>> chunks = pk::protocol::chunked(tasks, budget);
    QVERIFY(chunks.size() > 1);
    QList<TaskInfo> joined;
    for (const QList<TaskInfo> &c : chunks) {
        QVERIFY(!c.isEmpty());
        qint64 size = 0;
        for (const TaskInfo &t : c)
            size += pk::protocol::encodedSize(t);
        QVERIFY(size <= budget);
        joined += c;
    }
    QCOMPARE(joined, tasks);
    QVERIFY(pk::protocol::chunked({}, budget).isEmpty());
    // One task bigger than the budget still goes, alone.
    TaskInfo big = sampleTask(1);
    big.setTitle(QString(20000, QLatin1Char('t')));
    QCOMPARE(pk::protocol::chunked({ big, sampleTask(2) }, budget).size(), 2);
}

void tst_Protocol::truncation()
{
    TaskInfo info = sampleTask(1);
    info.setTitle(QString(100000, QLatin1Char('t')));
    info.setErrorString(QString(100000, QLatin1Char('e')));
    info.setErrorType(QString(100000, QLatin1Char('y')));
    QList<quint64> inputs;
    for (quint64 i = 0; i < 5000; ++i)
        inputs.append(i);
    info.setInputIds(inputs);
    const TaskInfo cut = pk::protocol::truncated(info);
    QCOMPARE(cut.title().size(), pk::protocol::kMaxTextLength);
    QCOMPARE(cut.errorString().size(), pk::protocol::kMaxTextLength);
    QCOMPARE(cut.errorType().size(), pk::protocol::kMaxTextLength);
    QCOMPARE(cut.inputIds().size(), pk::protocol::kMaxInputIds);
    QCOMPARE(cut.inputIds().first(), quint64(0));
    QCOMPARE(cut.inputIds().last(), quint64(pk::protocol::kMaxInputIds - 1));
    QVERIFY(pk::protocol::encodedSize(cut) < pk::protocol::kChunkTargetSize);
    QCOMPARE(pk::protocol::truncated(sampleTask(2)), sampleTask(2));
}

void tst_Protocol::serverRejectsOtherVersion()
{
    pk::PromiseKeeper keeper(0);
    pk::MonitorServer server;
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY2(server.listen(name), qPrintable(server.errorString()));

    QLocalSocket client;
    client.connectToServer(server.fullServerName());
    QVERIFY(client.waitForConnected(pktest::kTimeoutMs));
    Message hello = Message::hello();
    hello.version = 999;
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(QStringLiteral("refused a monitor speaking protocol "
                                          "version 999; this program speaks version %1")
                               .arg(pk::protocol::kVersion)));
    client.write(framed(hello));

    FrameReader reader;
    QList<Message> messages;
    QTRY_VERIFY(readMessages(&client, &reader, &messages) && !messages.isEmpty());
    QCOMPARE(messages.first().type, MessageType::Reject);
    QCOMPARE(messages.first().version, pk::protocol::kVersion);
    QVERIFY2(
        messages.first().text.contains(QStringLiteral("program speaks monitor protocol version %1")
                                           .arg(pk::protocol::kVersion)),
        qPrintable(messages.first().text));
    QVERIFY(messages.first().text.contains(QLatin1String("this monitor speaks version 999")));
    QTRY_COMPARE(client.state(), QLocalSocket::UnconnectedState);
    QCOMPARE(server.clientCount(), 0);
}

void tst_Protocol::clientRejectsOtherVersion_data()
{
    QTest::addColumn<bool>("reject"); // the program sends Reject (else a Welcome of its version)
    QTest::newRow("reject") << true;
    QTest::newRow("welcome of another version") << false;
}

void tst_Protocol::clientRejectsOtherVersion()
{
    QFETCH(bool, reject);
    // A fake program that speaks the next version.
    const quint32 other = pk::protocol::kVersion + 1;
    QLocalServer fake;
    const QString name = uniqueName();
    QVERIFY(fake.listen(socketPathFor(name)));
    QLocalSocket *peer = nullptr;
    connect(&fake, &QLocalServer::newConnection, this, [&] {
        peer = fake.nextPendingConnection();
        connect(peer, &QLocalSocket::readyRead, peer, [&, peer] {
            peer->readAll();
            Message m;
            m.type = reject ? MessageType::Reject : MessageType::Welcome;
            m.version = other;
            m.text = QStringLiteral("whatever");
            peer->write(framed(m));
        });
    });

    pk::RemoteFeed feed;
    feed.setRetryInterval(100);
    QSignalSpy changed(&feed, &pk::MonitorFeed::connectionChanged);
    QVERIFY(changed.isValid());
    QTest::ignoreMessage(
        QtWarningMsg, QRegularExpression(QStringLiteral("Protocol version mismatch")));
    feed.connectToServer(name);
    QTRY_VERIFY(!changed.isEmpty());
    QCOMPARE(changed.last().at(0).toBool(), false);
    const QString message = changed.last().at(1).toString();
    QVERIFY2(message.contains(QStringLiteral("the program speaks monitor protocol version %1, this "
                                             "monitor speaks version %2")
                                  .arg(other)
                                  .arg(pk::protocol::kVersion)),
        qPrintable(message));
    QCOMPARE(feed.errorString(), message);
    QVERIFY(!feed.isConnected());
    // Not retried: a program of another version will not change its mind. (This waits for
    // something not to happen: five retry intervals.)
    QTest::qWait(5 * feed.retryInterval());
    QCOMPARE(changed.size(), 1);
    QVERIFY(peer != nullptr);
}

void tst_Protocol::serverClosesOnGarbage_data()
{
    QTest::addColumn<bool>("handshakeFirst");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("warning");

    QByteArray oversized(4, Qt::Uninitialized);
    qToBigEndian<quint32>(quint32(0x7fffffff), oversized.data());
    QTest::newRow("oversized frame")
        << true << oversized << QStringLiteral("larger than the limit");
    QTest::newRow("oversized before handshake")
        << false << oversized << QStringLiteral("larger than the limit");
    QTest::newRow("malformed frame") << true << pk::protocol::frame(QByteArray("\x07\x01", 2))
                                     << QStringLiteral("malformed message");
    QTest::newRow("unknown type") << true << pk::protocol::frame(QByteArray("\x55", 1))
                                  << QStringLiteral("unknown message type");
    Message bogusHello = Message::hello();
    bogusHello.magic = QByteArrayLiteral("NOPE!");
    QTest::newRow("bad magic") << false << framed(bogusHello)
                               << QStringLiteral("not a PromiseKeeper monitor");
    Message snapshot;
    snapshot.type = MessageType::Snapshot;
    QTest::newRow("server message from a client")
        << true << framed(snapshot) << QStringLiteral("unexpected message type");
    const BadValue bad = badValues().first();
    QTest::newRow("value out of range") << true << framed(bad.message) << bad.why;
}

void tst_Protocol::serverClosesOnGarbage()
{
    QFETCH(bool, handshakeFirst);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, warning);

    pk::PromiseKeeper keeper(0);
    pk::MonitorServer server;
    server.addKeeper(&keeper);
    const QString name = uniqueName();
    QVERIFY2(server.listen(name), qPrintable(server.errorString()));

    QLocalSocket client;
    client.connectToServer(server.fullServerName());
    QVERIFY(client.waitForConnected(pktest::kTimeoutMs));
    if (handshakeFirst) {
        client.write(framed(Message::hello()));
        QTRY_COMPARE(server.clientCount(), 1);
    }
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(QStringLiteral("closing monitor connection \\d+.*: .*")
            + QRegularExpression::escape(warning)));
    client.write(bytes);
    QTRY_COMPARE(client.state(), QLocalSocket::UnconnectedState);
    QTRY_COMPARE(server.clientCount(), 0);

    // The server goes on: a proper monitor still attaches.
    pk::RemoteFeed feed;
    QSignalSpy snapshots(&feed, &pk::MonitorFeed::snapshot);
    feed.connectToServer(name);
    QVERIFY(snapshots.wait(pktest::kTimeoutMs));
    QCOMPARE(server.clientCount(), 1);
}

void tst_Protocol::clientClosesOnGarbage_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("warning");
    QByteArray oversized(4, Qt::Uninitialized);
    qToBigEndian<quint32>(quint32(pk::protocol::kMaxFrameSize + 1), oversized.data());
    QTest::newRow("oversized frame") << oversized << QStringLiteral("larger than the limit");
    QTest::newRow("malformed frame") << pk::protocol::frame(QByteArray("\x05\x00\x01", 3))
                                     << QStringLiteral("malformed message");
    QTest::newRow("client message from the program")
        << framed(Message::hello()) << QStringLiteral("unexpected message type");
    // Values out of range: the monitor closes the connection, whatever the view would have
    // done with them (a lane per worker index, sums of times and counts).
    for (const BadValue &row : badValues()) {
        if (row.message.type != MessageType::Welcome) // the fake program sends its own
            QTest::newRow(row.name) << framed(row.message) << row.why;
    }
}

void tst_Protocol::clientClosesOnGarbage()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, warning);

    // A fake program: welcomes the monitor, then sends garbage.
    QLocalServer fake;
    const QString name = uniqueName();
    QVERIFY(fake.listen(socketPathFor(name)));
    int connections = 0;
    connect(&fake, &QLocalServer::newConnection, this, [&] {
        QLocalSocket *peer = fake.nextPendingConnection();
        ++connections;
        connect(peer, &QLocalSocket::readyRead, peer, [&, peer] {
            peer->readAll();
            Message welcome;
            welcome.type = MessageType::Welcome;
            welcome.text = QStringLiteral("fake");
            welcome.pid = 1;
            welcome.keeperLabels = { QStringLiteral("k") };
            peer->write(framed(welcome));
            peer->write(bytes);
        });
    });

    pk::RemoteFeed feed;
    feed.setRetryInterval(500);
    QSignalSpy changed(&feed, &pk::MonitorFeed::connectionChanged);
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(
            QStringLiteral("closing the connection to .*") + QRegularExpression::escape(warning)));
    feed.connectToServer(name);
    QTRY_COMPARE(changed.size(), 2);
    QCOMPARE(changed.at(0).at(0).toBool(), true);
    QCOMPARE(changed.at(1).at(0).toBool(), false);
    QCOMPARE(changed.at(1).at(1).toString(),
        QStringLiteral("program went away — waiting for it to come back"));
    // And it tries again (and gets garbage again: one more warning is fine).
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(
            QStringLiteral("closing the connection to .*") + QRegularExpression::escape(warning)));
    QTRY_VERIFY(changed.size() >= 4);
    QVERIFY(connections >= 2);
    feed.disconnectFromServer();
}

QTEST_MAIN(tst_Protocol)
#include "tst_protocol.moc"
