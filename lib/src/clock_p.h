// The process-wide monotonic clock behind every task timestamp.
#pragma once

#include <QtCore/qglobal.h>

namespace pk::detail {
//! Nanoseconds on the steady clock, or on a test's manual clock while one is installed
//! (setManualClock() in testhooks.h); the same clock for every keeper, so traces line up.
qint64 monotonicNs() noexcept;
//! Whether a test's manual clock stands in for the steady clock.
bool isClockManual() noexcept;
//! Nanoseconds to add to a monotonic timestamp to get nanoseconds since the Unix epoch.
qint64 wallOffsetNs() noexcept;
} // namespace pk::detail
