#include "csvexport_p.h"
#include "monitorstyle_p.h"

#include <QtCore/QIODevice>
#include <QtCore/QSaveFile>

#include <cstdio>

namespace pk::monitor {

namespace {

// writeCsv() hands the device chunks of about this size: a table of a hundred thousand rows
// never sits in memory twice.
constexpr qsizetype kChunkBytes = 256 * 1024;

// Formats the times of records in ISO 8601 UTC with milliseconds. Formatting a QDateTime is most
// of the cost of a record; tasks finish close together, so the date and time to the second are
// formatted once per second seen and the milliseconds appended.
class TimeFormatter
{
public:
    QString format(qint64 monotonicNs)
    {
        if (monotonicNs <= 0)
            return QString();
        const qint64 ms = TaskInfo::toDateTime(monotonicNs).toMSecsSinceEpoch();
        const qint64 second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
        if (m_prefix.isEmpty() || second != m_second) {
            m_second = second;
            // UTC: Qt 6.4 writes local times in ISO 8601 without their offset, ambiguously.
            m_prefix = QDateTime::fromSecsSinceEpoch(second, Qt::UTC).toString(Qt::ISODate);
            m_prefix.chop(1); // its 'Z'
        }
        char fraction[16];
        std::snprintf(fraction, sizeof fraction, ".%03dZ", int(ms - second * 1000));
        return m_prefix + QLatin1String(fraction);
    }

private:
    qint64 m_second = 0;
    QString m_prefix;
};

// Nanoseconds as milliseconds with six decimals, exactly (no floating point on the way).
QString millisecondsField(qint64 ns)
{
    if (ns < 0)
        return QString();
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%lld.%06lld", static_cast<long long>(ns / 1000000),
        static_cast<long long>(ns % 1000000));
    return QString::fromLatin1(buffer);
}

QString kindName(TaskKind kind)
{
    switch (kind) {
    case TaskKind::Task:
        break;
    case TaskKind::Continuation:
        return QStringLiteral("Continuation");
    case TaskKind::Combinator:
        return QStringLiteral("Combinator");
    }
    return QStringLiteral("Task");
}

QByteArray record(const TaskInfo &info, TimeFormatter &times)
{
    const QStringList fields {
        QString::number(info.id()),
        csvField(info.title()),
        stateName(info.state()),
        QString::number(info.priority()),
        info.workerIndex() >= 0 ? QString::number(info.workerIndex()) : QString(),
        times.format(info.queuedAtNsecs()),
        times.format(info.startedAtNsecs()),
        times.format(info.finishedAtNsecs()),
        millisecondsField(info.waitNsecs()),
        millisecondsField(info.runNsecs()),
        csvField(info.errorString()),
        csvField(info.keeperName()),
        kindName(info.kind()),
        csvField(info.errorType()),
    };
    return fields.join(QLatin1Char(',')).toUtf8() + QByteArrayLiteral("\r\n");
}

} // namespace

QString csvField(const QString &text)
{
    const bool needsQuotes = text.contains(QLatin1Char(',')) || text.contains(QLatin1Char('"'))
        || text.contains(QLatin1Char('\n')) || text.contains(QLatin1Char('\r'))
        || (!text.isEmpty() && (text.front().isSpace() || text.back().isSpace()));
    if (!needsQuotes)
        return text;
    QString quoted = text;
    quoted.replace(QLatin1Char('"'), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QByteArray csvRecord(const TaskInfo &info)
{
    TimeFormatter times;
    return record(info, times);
}

QByteArray csvHeader()
{
    return QByteArrayLiteral("id,title,state,priority,worker,queued_at,started_at,finished_at,"
                             "wait_ms,run_ms,error,keeper,kind,error_type\r\n");
}

bool writeCsv(QIODevice *device, const QList<TaskInfo> &tasks)
{
    if (!device || !device->isWritable())
        return false;
    TimeFormatter times;
    QByteArray out = csvHeader();
    out.reserve(kChunkBytes + 4096);
    for (const TaskInfo &info : tasks) {
        out += record(info, times);
        if (out.size() >= kChunkBytes) {
            if (device->write(out) != out.size())
                return false;
            out.clear();
        }
    }
    return device->write(out) == out.size();
}

bool saveCsv(const QString &path, const QList<TaskInfo> &tasks, QString *errorString)
{
    QSaveFile file(path);
    const bool ok = file.open(QIODevice::WriteOnly) && writeCsv(&file, tasks) && file.commit();
    if (errorString) {
        *errorString
            = ok ? QString() : QStringLiteral("Cannot write %1: %2").arg(path, file.errorString());
    }
    return ok;
}

} // namespace pk::monitor
