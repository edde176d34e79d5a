#include "protocol_p.h"

#include <QtCore/qdatastream.h>
#include <QtCore/qendian.h>
#include <QtCore/qiodevice.h>

namespace pk {

Q_LOGGING_CATEGORY(lcMonitor, "promisekeeper.monitor", QtInfoMsg)

namespace {

constexpr auto kStreamVersion = QDataStream::Qt_6_0;
// A TaskInfo with null title, error, error type and progress text and no input ids (see
// encodedSize()): v1's 49 bytes, then quint8 kind, the error type's length and the input
// count (v2), then three qint64 of progress, the progress text's length and quint8
// cancellation requested (v3), qint64 process id (v4).
constexpr qint64 kMinTaskInfoSize = 49 + 1 + 4 + 4 + 3 * 8 + 4 + 1 + 8;
// Process ids fit in a pid_t (a signed 32-bit int where PromiseKeeper runs).
constexpr qint64 kMaxProcessId = 0x7fffffff;
constexpr qint64 kInputIdSize = 8;
// qint32 keeper, qint32 threads, 7 x qint64 counts (the timed-out count since v3), two empty
// lists.
constexpr qint64 kMinKeeperStateSize = 4 + 4 + 7 * 8 + 4 + 4;
constexpr qint64 kMinStringSize = 4;

/*
    Reads a list count and checks it against what is left in the payload, so that a corrupt
    count cannot make us allocate gigabytes: QDataStream's own container operators reserve
    whatever count they read.
*/
bool readCount(QDataStream &in, qint64 minElementSize, quint32 *count)
{
    in >> *count;
    if (in.status() != QDataStream::Ok)
        return false;
    const qint64 left = in.device()->bytesAvailable();
    if (qint64(*count) * minElementSize > left) {
        in.setStatus(QDataStream::ReadCorruptData);
        return false;
    }
    return true;
}

/*
    One TaskInfo; a value out of range sets ReadCorruptData, with the reason in \a why, and
    leaves \a info alone.
*/
void readTaskInfo(QDataStream &in, TaskInfo *info, QString *why)
{
    quint64 id = 0;
    QString title;
    quint8 state = 0;
    qint32 priority = 0;
    qint64 queued = 0;
    qint64 started = 0;
    qint64 finished = 0;
    qint32 worker = -1;
    QString error;
    quint8 kind = 0;
    QString errorType;
    in >> id >> title >> state >> priority >> queued >> started >> finished >> worker >> error
        >> kind >> errorType;
    if (in.status() != QDataStream::Ok)
        return;
    // The input count is checked against what is left before anything is allocated, and
    // against kMaxInputIds, so that a corrupt count costs nothing.
    quint32 inputCount = 0;
    if (!readCount(in, kInputIdSize, &inputCount))
        return;
    if (inputCount > quint32(protocol::kMaxInputIds)) {
        *why = QStringLiteral("task %1: %2 input ids, more than %3")
                   .arg(id)
                   .arg(inputCount)
                   .arg(protocol::kMaxInputIds);
        in.setStatus(QDataStream::ReadCorruptData);
        return;
    }
    QList<quint64> inputIds(qsizetype(inputCount), 0);
    for (quint64 &input : inputIds)
        in >> input;
    qint64 progressMinimum = 0;
    qint64 progressMaximum = 0;
    qint64 progressValue = 0;
    QString progressText;
    quint8 cancellationRequested = 0;
    qint64 processId = 0;
    in >> progressMinimum >> progressMaximum >> progressValue >> progressText
        >> cancellationRequested >> processId;
    if (in.status() != QDataStream::Ok)
        return;
    if (cancellationRequested > 1) {
        *why = QStringLiteral("task %1: cancellation requested is %2, not 0 or 1")
                   .arg(id)
                   .arg(cancellationRequested);
        in.setStatus(QDataStream::ReadCorruptData);
        return;
    }
    if (kind > quint8(TaskKind::Combinator)) {
        *why = QStringLiteral("task %1: kind %2 out of range").arg(id).arg(kind);
        in.setStatus(QDataStream::ReadCorruptData);
        return;
    }
    if (state > quint8(TaskState::Cancelled)) {
        *why = QStringLiteral("task %1: state %2 out of range").arg(id).arg(state);
        in.setStatus(QDataStream::ReadCorruptData);
        return;
    }
    TaskInfo read;
    read.setId(id);
    read.setTitle(title);
    read.setState(TaskState(state));
    read.setPriority(priority);
    read.setQueuedAtNsecs(queued);
    read.setStartedAtNsecs(started);
    read.setFinishedAtNsecs(finished);
    read.setWorkerIndex(worker);
    read.setErrorString(error);
    read.setKind(TaskKind(kind));
    read.setErrorType(errorType);
    read.setInputIds(inputIds);
    read.setProgressRange(progressMinimum, progressMaximum);
    read.setProgressValue(progressValue);
    read.setProgressText(progressText);
    read.setCancellationRequested(cancellationRequested != 0);
    read.setProcessId(processId);
    *why = protocol::checkTaskInfo(read);
    if (!why->isEmpty()) {
        in.setStatus(QDataStream::ReadCorruptData);
        return;
    }
    *info = std::move(read);
}

void readCounts(QDataStream &in, TaskCounts *counts, QString *why)
{
    TaskCounts c;
    in >> c.waiting >> c.queued >> c.running >> c.succeeded >> c.failed >> c.cancelled
        >> c.timedOut;
    if (in.status() != QDataStream::Ok)
        return;
    *why = protocol::checkCounts(c);
    if (!why->isEmpty()) {
        in.setStatus(QDataStream::ReadCorruptData);
        return;
    }
    *counts = c;
}

bool readTasks(QDataStream &in, QList<TaskInfo> *tasks, QString *why)
{
    quint32 n = 0;
    if (!readCount(in, kMinTaskInfoSize, &n))
        return false;
    tasks->clear();
    tasks->reserve(n);
    for (quint32 i = 0; i < n && in.status() == QDataStream::Ok; ++i) {
        TaskInfo info;
        readTaskInfo(in, &info, why);
        tasks->append(info);
    }
    return in.status() == QDataStream::Ok;
}

void writeTasks(QDataStream &out, const QList<TaskInfo> &tasks)
{
    out << quint32(tasks.size());
    for (const TaskInfo &info : tasks)
        out << info;
}

bool readStrings(QDataStream &in, QStringList *strings)
{
    quint32 n = 0;
    if (!readCount(in, kMinStringSize, &n))
        return false;
    strings->clear();
    for (quint32 i = 0; i < n && in.status() == QDataStream::Ok; ++i) {
        QString s;
        in >> s;
        strings->append(s);
    }
    return in.status() == QDataStream::Ok;
}

void writeKeepers(QDataStream &out, const QList<protocol::KeeperState> &keepers)
{
    out << quint32(keepers.size());
    for (const protocol::KeeperState &k : keepers) {
        out << k.keeper << k.threadCount << k.counts;
        writeTasks(out, k.tasks);
        writeTasks(out, k.recentlyFinished);
    }
}

bool readKeepers(QDataStream &in, QList<protocol::KeeperState> *keepers, QString *why)
{
    quint32 n = 0;
    if (!readCount(in, kMinKeeperStateSize, &n))
        return false;
    keepers->clear();
    for (quint32 i = 0; i < n; ++i) {
        protocol::KeeperState k;
        in >> k.keeper >> k.threadCount;
        if (in.status() != QDataStream::Ok)
            return false;
        if (k.keeper < 0 || k.keeper >= protocol::kMaxKeepers) {
            *why = QStringLiteral("keeper index %1 out of range (0 to %2)")
                       .arg(k.keeper)
                       .arg(protocol::kMaxKeepers - 1);
            in.setStatus(QDataStream::ReadCorruptData);
            return false;
        }
        if (k.threadCount < 0 || k.threadCount > protocol::kMaxThreadCount) {
            *why = QStringLiteral("keeper %1: thread count %2 out of range (0 to %3)")
                       .arg(k.keeper)
                       .arg(k.threadCount)
                       .arg(protocol::kMaxThreadCount);
            in.setStatus(QDataStream::ReadCorruptData);
            return false;
        }
        readCounts(in, &k.counts, why);
        if (in.status() != QDataStream::Ok || !readTasks(in, &k.tasks, why)
            || !readTasks(in, &k.recentlyFinished, why))
            return false;
        keepers->append(std::move(k));
    }
    return true;
}

// droppedDetail: added up by the monitor over a whole session.
void checkDropped(QDataStream &in, quint64 dropped, QString *why)
{
    if (in.status() == QDataStream::Ok && dropped > quint64(protocol::kMaxTaskCount)) {
        *why = QStringLiteral("dropped count %1 out of range (0 to %2)")
                   .arg(dropped)
                   .arg(protocol::kMaxTaskCount);
        in.setStatus(QDataStream::ReadCorruptData);
    }
}

} // namespace

QDataStream &operator<<(QDataStream &out, const TaskInfo &info)
{
    out << info.id() << info.title() << quint8(info.state()) << qint32(info.priority())
        << info.queuedAtNsecs() << info.startedAtNsecs() << info.finishedAtNsecs()
        << qint32(info.workerIndex()) << info.errorString() << quint8(info.kind())
        << info.errorType();
    // keeperName() is not sent: the receiver takes it from the Welcome's labels.
    const QList<quint64> inputIds = info.inputIds();
    out << quint32(inputIds.size());
    for (quint64 input : inputIds)
        out << input;
    out << info.progressMinimum() << info.progressMaximum() << info.progressValue()
        << info.progressText() << quint8(info.isCancellationRequested() ? 1 : 0)
        << info.processId();
    return out;
}

QDataStream &operator>>(QDataStream &in, TaskInfo &info)
{
    QString why;
    readTaskInfo(in, &info, &why);
    return in;
}

QDataStream &operator<<(QDataStream &out, const TaskCounts &counts)
{
    out << counts.waiting << counts.queued << counts.running << counts.succeeded << counts.failed
        << counts.cancelled << counts.timedOut;
    return out;
}

QDataStream &operator>>(QDataStream &in, TaskCounts &counts)
{
    QString why;
    readCounts(in, &counts, &why);
    return in;
}

namespace protocol {

QString checkTaskInfo(const TaskInfo &info)
{
    if (info.state() > TaskState::Cancelled) { // TaskState is unsigned
        return QStringLiteral("task %1: state %2 out of range")
            .arg(info.id())
            .arg(int(info.state()));
    }
    if (info.workerIndex() < -1 || info.workerIndex() >= kMaxThreadCount) {
        return QStringLiteral("task %1: worker index %2 out of range (-1 to %3)")
            .arg(info.id())
            .arg(info.workerIndex())
            .arg(kMaxThreadCount - 1);
    }
    if (info.kind() > TaskKind::Combinator) { // TaskKind is unsigned
        return QStringLiteral("task %1: kind %2 out of range").arg(info.id()).arg(int(info.kind()));
    }
    if (info.inputIds().size() > kMaxInputIds) {
        return QStringLiteral("task %1: %2 input ids, more than %3")
            .arg(info.id())
            .arg(info.inputIds().size())
            .arg(kMaxInputIds);
    }
    if (info.id() > kMaxId)
        return QStringLiteral("task id %1 out of range (up to 2^53)").arg(info.id());
    if (info.progressMinimum() > info.progressMaximum()) {
        return QStringLiteral("task %1: progress range %2 to %3 is reversed")
            .arg(info.id())
            .arg(info.progressMinimum())
            .arg(info.progressMaximum());
    }
    if (info.processId() < 0 || info.processId() > kMaxProcessId) {
        return QStringLiteral("task %1: process id %2 out of range (0 to %3)")
            .arg(info.id())
            .arg(info.processId())
            .arg(kMaxProcessId);
    }
    if (info.progressText().size() > kMaxTextLength) {
        return QStringLiteral("task %1: progress text of %2 characters, more than %3")
            .arg(info.id())
            .arg(info.progressText().size())
            .arg(kMaxTextLength);
    }
    for (const quint64 input : info.inputIds()) {
        if (input == 0 || input > kMaxId) {
            return QStringLiteral("task %1: input id %2 out of range (1 to 2^53)")
                .arg(info.id())
                .arg(input);
        }
    }
    const std::pair<const char *, qint64> times[] = {
        { "queued", info.queuedAtNsecs() },
        { "started", info.startedAtNsecs() },
        { "finished", info.finishedAtNsecs() },
    };
    for (const auto &[name, ns] : times) {
        if (ns < 0 || ns > kMaxTimestampNs) {
            return QStringLiteral("task %1: %2 time %3 ns out of range (0 to %4)")
                .arg(info.id())
                .arg(QLatin1String(name))
                .arg(ns)
                .arg(kMaxTimestampNs);
        }
    }
    return {};
}

QString checkCounts(const TaskCounts &counts)
{
    const std::pair<const char *, qint64> values[] = {
        { "waiting", counts.waiting },
        { "queued", counts.queued },
        { "running", counts.running },
        { "succeeded", counts.succeeded },
        { "failed", counts.failed },
        { "cancelled", counts.cancelled },
        { "timed-out", counts.timedOut },
    };
    for (const auto &[name, n] : values) {
        if (n < 0 || n > kMaxTaskCount) {
            return QStringLiteral("%1 count %2 out of range (0 to %3)")
                .arg(QLatin1String(name))
                .arg(n)
                .arg(kMaxTaskCount);
        }
    }
    if (counts.timedOut > counts.failed) {
        return QStringLiteral("timed-out count %1 above the failed count %2")
            .arg(counts.timedOut)
            .arg(counts.failed);
    }
    return {};
}

Message Message::hello()
{
    Message m;
    m.type = MessageType::Hello;
    m.magic = protocol::magic();
    m.version = kVersion;
    return m;
}

QByteArray encode(const Message &message)
{
    QByteArray payload;
    QDataStream out(&payload, QIODevice::WriteOnly);
    out.setVersion(kStreamVersion);
    out << quint8(message.type);
    switch (message.type) {
    case MessageType::Hello:
        out.writeRawData(message.magic.constData(), int(message.magic.size()));
        out << message.version;
        break;
    case MessageType::Welcome:
        out << message.version << message.text << message.pid
            << quint32(message.keeperLabels.size());
        for (const QString &label : message.keeperLabels)
            out << label;
        break;
    case MessageType::Reject:
        out << message.version << message.text;
        break;
    case MessageType::Snapshot:
        out << quint8(message.more ? 1 : 0) << message.droppedDetail;
        writeKeepers(out, message.keepers);
        break;
    case MessageType::Update:
        out << message.droppedDetail;
        writeKeepers(out, message.keepers);
        break;
    case MessageType::Goodbye:
        out << message.text;
        break;
    case MessageType::CancelTask:
        out << message.taskId;
        break;
    case MessageType::CancelAll:
        break;
    }
    return payload;
}

bool decode(const QByteArray &payload, Message *message, QString *error)
{
    QDataStream in(payload);
    in.setVersion(kStreamVersion);
    quint8 type = 0;
    in >> type;
    if (in.status() != QDataStream::Ok) {
        *error = QStringLiteral("empty message");
        return false;
    }
    Message m;
    m.type = MessageType(type);
    QString why; // what was out of range, when a value was
    switch (m.type) {
    case MessageType::Hello: {
        m.magic.resize(magic().size());
        if (in.readRawData(m.magic.data(), int(m.magic.size())) != m.magic.size())
            in.setStatus(QDataStream::ReadPastEnd);
        in >> m.version;
        break;
    }
    case MessageType::Welcome: {
        in >> m.version >> m.text >> m.pid;
        if (in.status() == QDataStream::Ok && (m.pid < 0 || m.pid > kMaxPid)) {
            why = QStringLiteral("pid %1 out of range (0 to %2)").arg(m.pid).arg(kMaxPid);
            in.setStatus(QDataStream::ReadCorruptData);
        }
        if (in.status() == QDataStream::Ok)
            readStrings(in, &m.keeperLabels);
        if (in.status() == QDataStream::Ok && m.keeperLabels.size() > kMaxKeepers) {
            why = QStringLiteral("%1 keepers, more than the limit of %2")
                      .arg(m.keeperLabels.size())
                      .arg(kMaxKeepers);
            in.setStatus(QDataStream::ReadCorruptData);
        }
        break;
    }
    case MessageType::Reject:
        in >> m.version >> m.text;
        break;
    case MessageType::Snapshot: {
        quint8 more = 0;
        in >> more >> m.droppedDetail;
        m.more = more != 0;
        checkDropped(in, m.droppedDetail, &why);
        if (in.status() == QDataStream::Ok)
            readKeepers(in, &m.keepers, &why);
        break;
    }
    case MessageType::Update:
        in >> m.droppedDetail;
        checkDropped(in, m.droppedDetail, &why);
        if (in.status() == QDataStream::Ok)
            readKeepers(in, &m.keepers, &why);
        break;
    case MessageType::Goodbye:
        in >> m.text;
        break;
    case MessageType::CancelTask:
        in >> m.taskId;
        break;
    case MessageType::CancelAll:
        break;
    default:
        *error = QStringLiteral("unknown message type %1").arg(type);
        return false;
    }
    if (in.status() == QDataStream::ReadCorruptData && !why.isEmpty()) {
        *error = QStringLiteral("corrupt message of type %1: %2").arg(type).arg(why);
        return false;
    }
    if (in.status() != QDataStream::Ok) {
        *error = QStringLiteral("malformed message of type %1 (%2 bytes)")
                     .arg(type)
                     .arg(payload.size());
        return false;
    }
    if (!in.atEnd()) {
        *error = QStringLiteral("message of type %1 has %2 unexpected trailing bytes")
                     .arg(type)
                     .arg(in.device()->bytesAvailable());
        return false;
    }
    *message = std::move(m);
    return true;
}

QByteArray frame(const QByteArray &payload)
{
    QByteArray bytes(kFrameHeaderSize, Qt::Uninitialized);
    qToBigEndian<quint32>(quint32(payload.size()), bytes.data());
    bytes.append(payload);
    return bytes;
}

qint64 encodedSize(const TaskInfo &info)
{
    return kMinTaskInfoSize + 2 * qint64(info.title().size())
        + 2 * qint64(info.errorString().size()) + 2 * qint64(info.errorType().size())
        + 2 * qint64(info.progressText().size()) + kInputIdSize * qint64(info.inputIds().size());
}

TaskInfo truncated(TaskInfo info)
{
    if (info.title().size() > kMaxTextLength)
        info.setTitle(info.title().left(kMaxTextLength));
    if (info.errorString().size() > kMaxTextLength)
        info.setErrorString(info.errorString().left(kMaxTextLength));
    if (info.errorType().size() > kMaxTextLength)
        info.setErrorType(info.errorType().left(kMaxTextLength));
    if (info.progressText().size() > kMaxTextLength)
        info.setProgressText(info.progressText().left(kMaxTextLength));
    if (info.inputIds().size() > kMaxInputIds)
        info.setInputIds(info.inputIds().first(kMaxInputIds));
    return info;
}

QList<QList<TaskInfo>> chunked(const QList<TaskInfo> &tasks, qint64 budget)
{
    QList<QList<TaskInfo>> chunks;
    QList<TaskInfo> current;
    qint64 size = 0;
    for (const TaskInfo &info : tasks) {
        const qint64 s = encodedSize(info);
        if (!current.isEmpty() && size + s > budget) {
            chunks.append(std::move(current));
            current = {};
            size = 0;
        }
        current.append(info);
        size += s;
    }
    if (!current.isEmpty())
        chunks.append(std::move(current));
    return chunks;
}

FrameReader::Result FrameReader::next(QByteArray *payload, QString *error)
{
    if (m_failed) {
        *error = m_error;
        return Error;
    }
    const qint64 available = m_buffer.size() - m_pos;
    if (available >= kFrameHeaderSize) {
        const quint32 length = qFromBigEndian<quint32>(m_buffer.constData() + m_pos);
        if (qint64(length) > m_max) {
            m_failed = true;
            m_error = QStringLiteral("frame of %1 bytes is larger than the limit of %2 bytes")
                          .arg(length)
                          .arg(m_max);
            m_buffer.clear();
            m_pos = 0;
            *error = m_error;
            return Error;
        }
        if (available >= kFrameHeaderSize + qint64(length)) {
            *payload = m_buffer.mid(m_pos + kFrameHeaderSize, length);
            m_pos += kFrameHeaderSize + length;
            if (m_pos == m_buffer.size()) {
                m_buffer.clear();
                m_pos = 0;
            }
            return Frame;
        }
    }
    // Keep only the unread part, so that the buffer never holds more than one frame's worth.
    if (m_pos > 0) {
        m_buffer.remove(0, m_pos);
        m_pos = 0;
    }
    return NeedMore;
}

QString versionMismatchMessage(quint32 programVersion, quint32 monitorVersion)
{
    return QStringLiteral("Protocol version mismatch: the program speaks monitor protocol version "
                          "%1, this monitor speaks version %2. Attach with a pk-monitor built "
                          "from the same PromiseKeeper version as the program.")
        .arg(programVersion)
        .arg(monitorVersion);
}

} // namespace protocol
} // namespace pk
