// The monitor's socket protocol: framing, messages and the serialization of TaskInfo and
// TaskCounts. Private to PromiseKeeper::MonitorServer (exported for its tests only).
#pragma once

#include <pk/monitorserver_export.h>
#include <pk/taskcounts.h>
#include <pk/taskinfo.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qstring.h>
#include <QtCore/qstringlist.h>

QT_BEGIN_NAMESPACE
class QDataStream;
QT_END_NAMESPACE

namespace pk {

//! The category of the monitor's socket warnings: "promisekeeper.monitor".
PROMISEKEEPER_MONITORSERVER_EXPORT const QLoggingCategory &lcMonitor();

/*!
    TaskInfo and TaskCounts on a QDataStream: every field, so that a round trip gives an equal
    value. Reading a value out of range (see protocol::checkTaskInfo() and
    protocol::checkCounts()) sets QDataStream::ReadCorruptData and leaves the target as it was.
*/
PROMISEKEEPER_MONITORSERVER_EXPORT QDataStream &operator<<(QDataStream &out, const TaskInfo &info);
PROMISEKEEPER_MONITORSERVER_EXPORT QDataStream &operator>>(QDataStream &in, TaskInfo &info);
PROMISEKEEPER_MONITORSERVER_EXPORT QDataStream &operator<<(
    QDataStream &out, const TaskCounts &counts);
PROMISEKEEPER_MONITORSERVER_EXPORT QDataStream &operator>>(QDataStream &in, TaskCounts &counts);

/*
    The wire format, version 4 (version 1 had no kind, error type or input ids; version 2 no
    progress and no cancellation request; version 3 no process id).

    Frames: a 4-byte big-endian payload length, then the payload: one message, written with
    QDataStream (version Qt_6_0, big-endian), starting with its quint8 MessageType. A frame
    larger than kMaxFrameSize, or a payload that does not decode completely, closes the
    connection (with a warning in lcMonitor()).

    Session:
      client -> Hello (magic "PKMON", version)
      server -> Welcome (version, program, pid, keeper labels)   or Reject (version, message)
                A Reject of another version is a version mismatch, not to be retried; one of
                the client's own version refuses it for the reason in its message (the program
                has all the monitors it takes), and the client may try again later.
      server -> Snapshot chunks (more = true ... false): live and recently finished tasks, per
                keeper, with counts and thread count
      server -> Update* (coalesced changes per keeper, counts, thread count, droppedDetail)
      client -> CancelTask(id) / CancelAll at any time after Welcome
      server -> Goodbye when it closes; a new Snapshot whenever a lagging client caught up

    Values: whatever comes over the socket is checked before it is used (see checkTaskInfo(),
    checkCounts() and the bounds below). A value out of range makes the message corrupt: it does
    not decode, and the connection closes with a warning that says which value was wrong.

    Handshake timeout: each side gives the other kHandshakeTimeoutMs by default (configurable
    on both) from the start of the connection to the end of the handshake. The server closes a
    connection whose Hello has not arrived by then, whatever part of it did; the client closes a
    connection that has not been accepted and answered (Welcome or Reject) by then, and tries
    again later. The deadline is not an idle timeout: once the handshake is done, a quiet peer
    stays connected.

    Framing, Hello, Welcome and Reject must never change, so that any two versions can tell each
    other that they do not match.
*/
namespace protocol {

constexpr quint32 kVersion = 4;
//! The magic that starts a Hello.
inline QByteArray magic()
{
    return QByteArrayLiteral("PKMON");
}
constexpr qint64 kFrameHeaderSize = 4;
//! The largest payload accepted; senders split big messages well below it.
constexpr qint64 kMaxFrameSize = 4 * 1024 * 1024;
//! What senders aim for when they split task lists into several frames.
constexpr qint64 kChunkTargetSize = 512 * 1024;
//! How long, by default, either side waits for the other to complete the handshake. Far more
//! than a local socket needs, even from a busy program, and short enough that a stuck peer
//! is noticed while the user still looks.
constexpr int kHandshakeTimeoutMs = 5000;
//! Titles, error messages and error types are cut to this many characters before they are
//! sent, so that one task always fits in a frame.
constexpr qsizetype kMaxTextLength = 4096;
//! Input ids of one task on the wire: a whenAll() of more promises is sent with its first
//! 1024 (truncated() cuts the list), and a message with more is corrupt. With the text bounds,
//! one task stays below 33 KiB, far below kMaxFrameSize.
constexpr qsizetype kMaxInputIds = 1024;

/*
    The bounds of what is read. Each is far beyond what a real keeper reaches, and small enough
    that what the monitor derives from the values cannot overflow: sums of counts and thread
    counts over every keeper, differences of timestamps, a timestamp plus the wall-clock offset.
*/
//! Thread counts are at most this, worker indexes below it (or -1, no worker).
constexpr int kMaxThreadCount = 4096;
//! Keepers in a Welcome.
constexpr qsizetype kMaxKeepers = 1024;
//! Timestamps are 0 (not reached) up to this: 146 years of uptime.
constexpr qint64 kMaxTimestampNs = qint64(1) << 62;
//! Each count of a TaskCounts, and droppedDetail: 142 years at a million tasks a second.
constexpr qint64 kMaxTaskCount = qint64(1) << 52;
//! Task ids and input ids, at most: traces carry them as JSON numbers, exact as doubles up to
//! 2^53 (a keeper would take 285 years at a million tasks a second to get there).
constexpr quint64 kMaxId = quint64(1) << 53;
//! A program's pid, at most (Linux allows 2^22, other systems less than 2^32); 0 is unknown.
constexpr qint64 kMaxPid = qint64(1) << 32;

//! Why \a info cannot be a keeper's task (a state, kind, worker index or timestamp out of range,
//! more than kMaxInputIds input ids),
//! or an empty string if it can be. What the decoder and TraceReader check what they read with.
PROMISEKEEPER_MONITORSERVER_EXPORT QString checkTaskInfo(const TaskInfo &info);
//! The same for counts: each from 0 to kMaxTaskCount.
PROMISEKEEPER_MONITORSERVER_EXPORT QString checkCounts(const TaskCounts &counts);

enum class MessageType : quint8 {
    Hello = 1,
    Welcome = 2,
    Reject = 3,
    Snapshot = 4,
    Update = 5,
    Goodbye = 6,
    CancelTask = 7,
    CancelAll = 8,
};

//! One keeper's part of a Snapshot or an Update. In an Update, \c tasks are the changes.
struct KeeperState
{
    qint32 keeper = 0; //!< index in Welcome::keepers
    qint32 threadCount = 0;
    TaskCounts counts;
    QList<TaskInfo> tasks; //!< Snapshot: live tasks; Update: changed tasks
    QList<TaskInfo> recentlyFinished; //!< Snapshot only, oldest first
};

//! Any message; which fields matter depends on \c type.
struct PROMISEKEEPER_MONITORSERVER_EXPORT Message
{
    MessageType type = MessageType::Hello;
    QByteArray magic; //!< Hello
    quint32 version = kVersion; //!< Hello, Welcome, Reject
    QString text; //!< Welcome: program name; Reject, Goodbye: the reason
    qint64 pid = 0; //!< Welcome
    QStringList keeperLabels; //!< Welcome
    QList<KeeperState> keepers; //!< Snapshot, Update
    quint64 droppedDetail = 0; //!< Snapshot, Update
    bool more = false; //!< Snapshot: more chunks follow
    quint64 taskId = 0; //!< CancelTask

    static Message hello();
};

//! The payload of \a message.
PROMISEKEEPER_MONITORSERVER_EXPORT QByteArray encode(const Message &message);
//! Decodes a payload; false (and \a error says why) if it is not exactly one valid message.
PROMISEKEEPER_MONITORSERVER_EXPORT bool decode(
    const QByteArray &payload, Message *message, QString *error);
//! A frame: the length header, then \a payload.
PROMISEKEEPER_MONITORSERVER_EXPORT QByteArray frame(const QByteArray &payload);
//! The bytes a TaskInfo takes on the wire (to split lists into frames without encoding twice).
PROMISEKEEPER_MONITORSERVER_EXPORT qint64 encodedSize(const TaskInfo &info);
//! \a info with its title, error, error type and progress text cut to kMaxTextLength and its input
//! ids to kMaxInputIds.
PROMISEKEEPER_MONITORSERVER_EXPORT TaskInfo truncated(TaskInfo info);

//! Splits \a tasks into runs whose encoded size stays below \a budget (at least one task each).
PROMISEKEEPER_MONITORSERVER_EXPORT QList<QList<TaskInfo>> chunked(
    const QList<TaskInfo> &tasks, qint64 budget);

/*!
    Cuts a byte stream into frames. Feed it what the socket gave, in any pieces; take frames
    with next() until it says NeedMore. After an Error the reader stays in error.
*/
class PROMISEKEEPER_MONITORSERVER_EXPORT FrameReader
{
public:
    enum Result { NeedMore, Frame, Error };

    explicit FrameReader(qint64 maxFrameSize = kMaxFrameSize)
        : m_max(maxFrameSize)
    { }

    void append(const QByteArray &bytes) { m_buffer.append(bytes); }
    //! The next frame's payload into \a payload; on Error, \a error says why.
    Result next(QByteArray *payload, QString *error);
    //! Bytes received but not yet returned as a frame.
    qint64 bufferedBytes() const { return m_buffer.size() - m_pos; }

private:
    QByteArray m_buffer;
    qsizetype m_pos = 0;
    qint64 m_max;
    bool m_failed = false;
    QString m_error;
};

//! Text for a version mismatch, the same on both sides.
PROMISEKEEPER_MONITORSERVER_EXPORT QString versionMismatchMessage(
    quint32 programVersion, quint32 monitorVersion);

} // namespace protocol
} // namespace pk
