// The process-wide monotonic clock behind every task timestamp.
#pragma once

#include <QtCore/qglobal.h>

namespace pk::detail {
//! Nanoseconds on the steady clock; the same clock for every keeper, so traces line up.
qint64 monotonicNs() noexcept;
//! Nanoseconds to add to a monotonic timestamp to get nanoseconds since the Unix epoch.
qint64 wallOffsetNs() noexcept;
} // namespace pk::detail
