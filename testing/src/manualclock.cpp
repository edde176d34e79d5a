#include <pk/detail/testhooks.h>
#include <pk/taskinfo.h>
#include <pk/test/manualclock.h>

#include <QtCore/qloggingcategory.h>

namespace pk::test {

Q_DECLARE_LOGGING_CATEGORY(lcTest) // drain.cpp's

namespace {
// ManualClocks alive: the first sets the library's clock to manual, the last sets it back.
// Created and destroyed on the test's thread (see the class's documentation).
int g_clocks = 0;
} // namespace

ManualClock::ManualClock()
{
    if (g_clocks++ == 0)
        detail::setManualClock(true, TaskInfo::monotonicNowNsecs());
}

ManualClock::~ManualClock()
{
    Q_ASSERT(g_clocks > 0);
    if (--g_clocks == 0)
        detail::setManualClock(false, 0);
}

qint64 ManualClock::nowNsecs() const
{
    return TaskInfo::monotonicNowNsecs();
}

void ManualClock::advance(std::chrono::nanoseconds by)
{
    if (by.count() < 0) {
        qCWarning(lcTest,
            "pk::test::ManualClock::advance(): %lld ns is negative; the clock "
            "only moves on",
            static_cast<long long>(by.count()));
        return;
    }
    detail::advanceManualClock(by.count());
}

} // namespace pk::test
