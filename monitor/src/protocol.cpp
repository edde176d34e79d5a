#include "protocol_p.h"

#include <QtCore/qdatastream.h>
#include <QtCore/qendian.h>
#include <QtCore/qiodevice.h>

namespace pk {

Q_LOGGING_CATEGORY(lcMonitor, "promisekeeper.monitor", QtInfoMsg)

namespace {

constexpr auto kStreamVersion = QDataStream::Qt_6_0;
// A TaskInfo with null title and error (see encodedSize()).
constexpr qint64 kMinTaskInfoSize = 49;
// qint32 keeper, qint32 threads, 6 x qint64 counts, two empty lists.
constexpr qint64 kMinKeeperStateSize = 4 + 4 + 6 * 8 + 4 + 4;
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

bool readTasks(QDataStream &in, QList<TaskInfo> *tasks)
{
    quint32 n = 0;
    if (!readCount(in, kMinTaskInfoSize, &n))
        return false;
    tasks->clear();
    tasks->reserve(n);
    for (quint32 i = 0; i < n && in.status() == QDataStream::Ok; ++i) {
        TaskInfo info;
        in >> info;
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

bool readKeepers(QDataStream &in, QList<protocol::KeeperState> *keepers)
{
    quint32 n = 0;
    if (!readCount(in, kMinKeeperStateSize, &n))
        return false;
    keepers->clear();
    for (quint32 i = 0; i < n; ++i) {
        protocol::KeeperState k;
        in >> k.keeper >> k.threadCount >> k.counts;
        if (in.status() != QDataStream::Ok || !readTasks(in, &k.tasks)
            || !readTasks(in, &k.recentlyFinished))
            return false;
        if (k.keeper < 0 || k.threadCount < 0) {
            in.setStatus(QDataStream::ReadCorruptData);
            return false;
        }
        keepers->append(std::move(k));
    }
    return true;
}

} // namespace

QDataStream &operator<<(QDataStream &out, const TaskInfo &info)
{
    out << info.id() << info.title() << quint8(info.state()) << qint32(info.priority())
        << info.queuedAtNsecs() << info.startedAtNsecs() << info.finishedAtNsecs()
        << qint32(info.workerIndex()) << info.errorString();
    return out;
}

QDataStream &operator>>(QDataStream &in, TaskInfo &info)
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
    in >> id >> title >> state >> priority >> queued >> started >> finished >> worker >> error;
    if (in.status() != QDataStream::Ok)
        return in;
    if (state > quint8(TaskState::Cancelled)) {
        in.setStatus(QDataStream::ReadCorruptData);
        return in;
    }
    info = TaskInfo();
    info.setId(id);
    info.setTitle(title);
    info.setState(TaskState(state));
    info.setPriority(priority);
    info.setQueuedAtNsecs(queued);
    info.setStartedAtNsecs(started);
    info.setFinishedAtNsecs(finished);
    info.setWorkerIndex(worker);
    info.setErrorString(error);
    return in;
}

QDataStream &operator<<(QDataStream &out, const TaskCounts &counts)
{
    out << counts.waiting << counts.queued << counts.running << counts.succeeded << counts.failed
        << counts.cancelled;
    return out;
}

QDataStream &operator>>(QDataStream &in, TaskCounts &counts)
{
    TaskCounts c;
    in >> c.waiting >> c.queued >> c.running >> c.succeeded >> c.failed >> c.cancelled;
    if (in.status() == QDataStream::Ok)
        counts = c;
    return in;
}

namespace protocol {

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
        if (in.status() == QDataStream::Ok)
            readStrings(in, &m.keeperLabels);
        break;
    }
    case MessageType::Reject:
        in >> m.version >> m.text;
        break;
    case MessageType::Snapshot: {
        quint8 more = 0;
        in >> more >> m.droppedDetail;
        m.more = more != 0;
        if (in.status() == QDataStream::Ok)
            readKeepers(in, &m.keepers);
        break;
    }
    case MessageType::Update:
        in >> m.droppedDetail;
        if (in.status() == QDataStream::Ok)
            readKeepers(in, &m.keepers);
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
        + 2 * qint64(info.errorString().size());
}

TaskInfo truncated(TaskInfo info)
{
    if (info.title().size() > kMaxTextLength)
        info.setTitle(info.title().left(kMaxTextLength));
    if (info.errorString().size() > kMaxTextLength)
        info.setErrorString(info.errorString().left(kMaxTextLength));
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
