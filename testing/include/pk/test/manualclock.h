// pk::test::ManualClock: time that moves only when a test says so.
#pragma once

#include <pk/test/promisekeepertest_export.h>

#include <QtCore/qglobal.h>

#include <chrono>

namespace pk::test {

/*!
    While a ManualClock exists, PromiseKeeper's clock stands still and moves only by advance():
    every task timestamp (TaskInfo's queued, started and finished times, so wait and run
    times), TaskOptions::timeout, TaskInfo::monotonicNowNsecs() and so the monitor's rates and
    "now". A test of a time-out then advances past it instead of sleeping, and run times come
    out exact. It starts at the current time.

    The clock is the process's (one for every keeper, as the real one is): ManualClocks nest,
    and the real clock is back when the last one is destroyed. Create it before the keepers
    whose tasks it times and destroy it after them: timestamps taken by one clock are not
    comparable with the other's. Waits with a time-out (Promise::wait(), drain()) and QTimer
    keep to real time: they are the test's own deadlines.

    Thread safety: advance() and nowNsecs() may be called from any thread; create and destroy
    it on the test's thread.
*/
class PROMISEKEEPERTEST_EXPORT ManualClock
{
public:
    ManualClock();
    ~ManualClock();
    Q_DISABLE_COPY_MOVE(ManualClock)

    //! The clock's time, as TaskInfo::monotonicNowNsecs() gives it.
    qint64 nowNsecs() const;
    //! Moves the clock \a by on (negative: a warning, and it stays); time-outs that are due
    //! then fire, on the keepers' own time-out thread, as they would have in real time.
    void advance(std::chrono::nanoseconds by);
    //! advance() by \a msecs milliseconds.
    void advance(qint64 msecs) { advance(std::chrono::milliseconds(msecs)); }
};

} // namespace pk::test
