#include "taskstats_p.h"

#include <algorithm>

namespace pk::monitor {

void TaskStats::push(std::vector<qint64> &ring, std::size_t &next, qint64 value)
{
    if (ring.size() < kWindow) {
        ring.push_back(value);
        return;
    }
    ring[next] = value;
    next = (next + 1) % kWindow;
}

void TaskStats::addFinished(const TaskInfo &info)
{
    // The wait for a worker: tasks cancelled in the queue never got one.
    const qint64 wait = info.waitNsecs();
    if (wait >= 0 && info.startedAtNsecs() > 0)
        push(m_waits, m_nextWait, wait);
    const qint64 run = info.runNsecs();
    if (run >= 0)
        push(m_runs, m_nextRun, run);
}

void TaskStats::addCounts(const TaskCounts &counts, qint64 nowMs)
{
    // Throughput is work done: cancelled tasks are counted apart (the Cancelled counter), so
    // that a "Cancel all" of 10 000 queued tasks does not show as a burst of throughput.
    const qint64 finished = completedCount(counts);
    if (!m_samples.empty() && finished < m_samples.back().finished)
        m_samples.clear(); // another source, or a restart: start again
    m_samples.push_back({ nowMs, finished });
    // Keep one sample older than the span, so that the rate covers all of it.
    while (m_samples.size() > 2 && m_samples[1].ms <= nowMs - kThroughputSpanMs)
        m_samples.pop_front();
}

double TaskStats::throughput(qint64 nowMs) const
{
    if (m_samples.empty())
        return 0;
    // The rate between the oldest sample kept and now: when nothing came for a while, the
    // last count stands still and the rate decays to 0.
    const Sample &oldest = m_samples.front();
    const Sample &newest = m_samples.back();
    const qint64 spanMs = std::max(nowMs - oldest.ms, qint64(250));
    if (nowMs - newest.ms > kThroughputSpanMs)
        return 0;
    return double(newest.finished - oldest.finished) * 1000.0 / double(spanMs);
}

TaskStats::Percentiles TaskStats::percentiles(const std::vector<qint64> &values)
{
    Percentiles result;
    if (values.empty())
        return result;
    std::vector<qint64> sorted = values;
    const auto at = [&sorted](double fraction) {
        const auto k = std::size_t(fraction * double(sorted.size() - 1) + 0.5);
        std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(k), sorted.end());
        return sorted[k];
    };
    result.median = at(0.5);
    result.p95 = at(0.95);
    return result;
}

void TaskStats::clear()
{
    m_waits.clear();
    m_runs.clear();
    m_nextWait = m_nextRun = 0;
    m_samples.clear();
}

} // namespace pk::monitor
