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

QString timeField(qint64 monotonicNs)
{
    if (monotonicNs <= 0)
        return QString();
    // UTC: Qt 6.4 writes local times in ISO 8601 without their offset, which would be ambiguous.
    return TaskInfo::toDateTime(monotonicNs).toUTC().toString(Qt::ISODateWithMs);
}

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

QByteArray csvHeader()
{
    return QByteArrayLiteral("id,title,state,priority,worker,queued_at,started_at,finished_at,"
                             "wait_ms,run_ms,error\r\n");
}

QByteArray csvRecord(const TaskInfo &info)
{
    const QStringList fields {
        QString::number(info.id()),
        csvField(info.title()),
        stateName(info.state()),
        QString::number(info.priority()),
        info.workerIndex() >= 0 ? QString::number(info.workerIndex()) : QString(),
        timeField(info.queuedAtNsecs()),
        timeField(info.startedAtNsecs()),
        timeField(info.finishedAtNsecs()),
        millisecondsField(info.waitNsecs()),
        millisecondsField(info.runNsecs()),
        csvField(info.errorString()),
    };
    return fields.join(QLatin1Char(',')).toUtf8() + QByteArrayLiteral("\r\n");
}

bool writeCsv(QIODevice *device, const QList<TaskInfo> &tasks)
{
    if (!device || !device->isWritable())
        return false;
    QByteArray out = csvHeader();
    out.reserve(kChunkBytes + 4096);
    for (const TaskInfo &info : tasks) {
        out += csvRecord(info);
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
