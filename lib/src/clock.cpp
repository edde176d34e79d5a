#include "clock_p.h"
#include "timeoutwatcher_p.h"

#include <pk/detail/testhooks.h>

#include <QtCore/qdatetime.h>

#include <atomic>
#include <chrono>

namespace pk::detail {

namespace {
// A test's clock (pk::test::ManualClock), when one is installed: one relaxed load on every
// reading otherwise. Process-wide like the steady clock it stands in for, so that every
// keeper, the time-out watcher and the monitor read the same time.
std::atomic<bool> g_manual { false };
std::atomic<qint64> g_manualNs { 0 };

qint64 steadyNs() noexcept
{
    using namespace std::chrono;
    return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}
} // namespace

qint64 monotonicNs() noexcept
{
    if (Q_UNLIKELY(g_manual.load(std::memory_order_acquire)))
        return g_manualNs.load(std::memory_order_acquire);
    return steadyNs();
}

bool isClockManual() noexcept
{
    return g_manual.load(std::memory_order_acquire);
}

qint64 wallOffsetNs() noexcept
{
    // Taken once, so that converting the same timestamp twice gives the same QDateTime.
    static const qint64 offset = QDateTime::currentMSecsSinceEpoch() * 1000000 - steadyNs();
    return offset;
}

void setManualClock(bool manual, qint64 nsecs)
{
    (void)wallOffsetNs(); // from the steady clock, not from the test's
    g_manualNs.store(manual ? nsecs : 0, std::memory_order_release);
    g_manual.store(manual, std::memory_order_release);
    TimeoutWatcher::instance().clockChanged();
}

void advanceManualClock(qint64 nsecs)
{
    Q_ASSERT(isClockManual());
    Q_ASSERT(nsecs >= 0);
    g_manualNs.fetch_add(nsecs, std::memory_order_acq_rel);
    TimeoutWatcher::instance().clockChanged();
}

} // namespace pk::detail
