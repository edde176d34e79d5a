#include "monitorstyle_p.h"

#include <pk/taskinfo.h>

#include <QtCore/QLocale>
#include <QtCore/QMetaEnum>

#include <algorithm>
#include <cmath>

namespace pk::monitor {

QString stateName(TaskState state)
{
    return QString::fromLatin1(QMetaEnum::fromType<TaskState>().valueToKey(int(state)));
}

QColor stateColor(TaskState state)
{
    switch (state) {
    case TaskState::Waiting:
        return QColor(0x8e, 0x7c, 0xc3); // violet
    case TaskState::Queued:
        return QColor(0xe0, 0x9a, 0x1f); // amber
    case TaskState::Running:
        return QColor(0x2f, 0x7e, 0xd8); // blue
    case TaskState::Succeeded:
        return QColor(0x3a, 0xa5, 0x5d); // green
    case TaskState::Failed:
        return QColor(0xd9, 0x3b, 0x3b); // red
    case TaskState::Cancelled:
        return QColor(0x8a, 0x8f, 0x98); // grey
    }
    return QColor(Qt::gray);
}

QString formatDuration(qint64 nsecs)
{
    if (nsecs < 0)
        return QString();
    const double ns = double(nsecs);
    if (nsecs < 1000)
        return QStringLiteral("%1 ns").arg(nsecs);
    if (nsecs < 1000 * 1000)
        return QStringLiteral("%1 µs").arg(ns / 1e3, 0, 'f', ns < 1e4 ? 2 : ns < 1e5 ? 1 : 0);
    if (nsecs < qint64(1000) * 1000 * 1000)
        return QStringLiteral("%1 ms").arg(ns / 1e6, 0, 'f', ns < 1e7 ? 2 : ns < 1e8 ? 1 : 0);
    if (nsecs < qint64(60) * 1000 * 1000 * 1000)
        return QStringLiteral("%1 s").arg(ns / 1e9, 0, 'f', 2);
    const qint64 secs = nsecs / (qint64(1000) * 1000 * 1000);
    if (secs < 3600)
        return QStringLiteral("%1 min %2 s").arg(secs / 60).arg(secs % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1 h %2 min")
        .arg(secs / 3600)
        .arg((secs / 60) % 60, 2, 10, QLatin1Char('0'));
}

QString formatCount(qint64 count)
{
    // In unsigned arithmetic: -count overflows for the lowest qint64.
    const quint64 magnitude = count < 0 ? 0 - quint64(count) : quint64(count);
    QString digits = QString::number(magnitude);
    for (qsizetype i = digits.size() - 3; i > 0; i -= 3)
        digits.insert(i, QChar(0x202F)); // narrow no-break space
    return count < 0 ? QLatin1Char('-') + digits : digits;
}

QString formatRate(double perSecond)
{
    if (perSecond <= 0 || !std::isfinite(perSecond))
        return QStringLiteral("0");
    if (perSecond < 10)
        return QString::number(perSecond, 'f', 1);
    return formatCount(qint64(std::llround(perSecond)));
}

double progressFraction(const TaskInfo &info)
{
    const qint64 span = info.progressMaximum() - info.progressMinimum();
    if (span <= 0)
        return info.progressText().isEmpty() ? -1.0 : 0.0;
    const double fraction = double(info.progressValue() - info.progressMinimum()) / double(span);
    return std::clamp(fraction, 0.0, 1.0);
}

QString progressLabel(const TaskInfo &info)
{
    const double fraction = progressFraction(info);
    if (fraction < 0)
        return QString();
    const bool ranged = info.progressMaximum() > info.progressMinimum();
    const QString percent
        = ranged ? QStringLiteral("%1 %").arg(int(std::floor(fraction * 100))) : QString();
    if (info.progressText().isEmpty())
        return percent;
    return percent.isEmpty() ? info.progressText()
                             : info.progressText() + QStringLiteral(" · ") + percent;
}

} // namespace pk::monitor
