// Internal: the statistics of the counter strip (throughput, wait and run time percentiles)
// (exported for its tests only).
#pragma once

#include <pk/monitor_export.h>
#include <pk/taskcounts.h>
#include <pk/taskinfo.h>

#include <deque>
#include <vector>

namespace pk::monitor {

/*!
    Throughput from the exact counts, sampled as they arrive, over the last few seconds; wait
    and run time percentiles over a sliding window of the most recently finished tasks.
*/
class PROMISEKEEPER_MONITOR_EXPORT TaskStats
{
public:
    //! How many finished tasks the percentiles are taken over.
    static constexpr std::size_t kWindow = 2000;
    //! The span the throughput is measured over.
    static constexpr qint64 kThroughputSpanMs = 1000;

    struct Percentiles
    {
        qint64 median = -1; //!< nanoseconds; -1 without data
        qint64 p95 = -1;
    };

    //! A task reached a final state.
    void addFinished(const TaskInfo &info);
    //! The counts at \a nowMs (any steady millisecond clock).
    void addCounts(const TaskCounts &counts, qint64 nowMs);

    //! The tasks that completed (succeeded or failed), which throughput counts; cancelled
    //! tasks are not throughput.
    static qint64 completedCount(const TaskCounts &counts) noexcept
    {
        return counts.succeeded + counts.failed;
    }

    //! Tasks completed (succeeded or failed, not cancelled) per second over the last
    //! kThroughputSpanMs, as of \a nowMs.
    double throughput(qint64 nowMs) const;
    Percentiles wait() const { return percentiles(m_waits); }
    Percentiles run() const { return percentiles(m_runs); }

    void clear();

private:
    struct Sample
    {
        qint64 ms;
        qint64 finished;
    };
    static void push(std::vector<qint64> &ring, std::size_t &next, qint64 value);
    static Percentiles percentiles(const std::vector<qint64> &values);

    std::vector<qint64> m_waits;
    std::vector<qint64> m_runs;
    std::size_t m_nextWait = 0;
    std::size_t m_nextRun = 0;
    std::deque<Sample> m_samples;
};

} // namespace pk::monitor
