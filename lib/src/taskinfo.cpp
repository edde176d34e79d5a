#include "clock_p.h"

#include <pk/taskcounts.h>
#include <pk/taskinfo.h>

#include <QtCore/qnumeric.h>

#include <limits>

namespace pk {

namespace {
// Timestamps also come from other processes and from files (the monitor reads them): a
// difference that does not fit saturates instead of overflowing.
qint64 saturatedDifference(qint64 later, qint64 earlier) noexcept
{
    qint64 difference = 0;
    if (qSubOverflow(later, earlier, &difference)) {
        return later > earlier ? std::numeric_limits<qint64>::max()
                               : std::numeric_limits<qint64>::min();
    }
    return difference;
}
} // namespace

QDateTime TaskInfo::queuedAt() const
{
    return toDateTime(m_queuedNs);
}

QDateTime TaskInfo::startedAt() const
{
    return toDateTime(m_startedNs);
}

QDateTime TaskInfo::finishedAt() const
{
    return toDateTime(m_finishedNs);
}

qint64 TaskInfo::waitNsecs() const noexcept
{
    if (m_queuedNs == 0)
        return -1;
    if (m_startedNs != 0)
        return saturatedDifference(m_startedNs, m_queuedNs);
    return m_finishedNs != 0 ? saturatedDifference(m_finishedNs, m_queuedNs) : -1;
}

qint64 TaskInfo::runNsecs() const noexcept
{
    return (m_startedNs != 0 && m_finishedNs != 0) ? saturatedDifference(m_finishedNs, m_startedNs)
                                                   : -1;
}

qint64 TaskInfo::monotonicNowNsecs() noexcept
{
    return detail::monotonicNs();
}

QDateTime TaskInfo::toDateTime(qint64 monotonicNsecs)
{
    if (monotonicNsecs == 0)
        return {};
    // A timestamp read from elsewhere may be anything: one that is not a time of this clock
    // (past the end of qint64 in Unix time) has no wall-clock time.
    qint64 unixNs = 0;
    if (qAddOverflow(monotonicNsecs, detail::wallOffsetNs(), &unixNs))
        return {};
    return QDateTime::fromMSecsSinceEpoch(unixNs / 1000000, Qt::UTC);
}

void TaskCounts::add(const TaskInfo &info)
{
    add(info.state());
    timedOut += info.isTimedOut() ? 1 : 0;
}

bool TaskInfo::isTimedOut() const
{
    return m_state == TaskState::Failed && m_errorType == QLatin1String("pk::TimeoutError");
}

bool operator==(const TaskInfo &a, const TaskInfo &b) noexcept
{
    return a.m_id == b.m_id && a.m_state == b.m_state && a.m_title == b.m_title
        && a.m_priority == b.m_priority && a.m_queuedNs == b.m_queuedNs
        && a.m_startedNs == b.m_startedNs && a.m_finishedNs == b.m_finishedNs
        && a.m_worker == b.m_worker && a.m_error == b.m_error && a.m_kind == b.m_kind
        && a.m_errorType == b.m_errorType && a.m_keeperName == b.m_keeperName
        && a.m_inputIds == b.m_inputIds && a.m_progressMinimum == b.m_progressMinimum
        && a.m_progressMaximum == b.m_progressMaximum && a.m_progressValue == b.m_progressValue
        && a.m_progressText == b.m_progressText
        && a.m_cancellationRequested == b.m_cancellationRequested && a.m_processId == b.m_processId;
}

} // namespace pk
