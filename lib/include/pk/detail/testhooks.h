// What PromiseKeeperTest (pk::test::drain(), pk::test::ManualClock) needs to know of a keeper
// beyond its public API. Internal: not for applications.
#pragma once

#include <pk/promisekeeper_export.h>

#include <QtCore/qglobal.h>

namespace pk {
class PromiseKeeper;
namespace detail {

//! Whether nothing is waiting, queued or running on \a keeper and no worker is still waking
//! the waiters and running the continuations of a task it finished (PromiseKeeper::counts()
//! shows a task final a moment before that). Thread-safe.
PROMISEKEEPER_EXPORT bool isSettled(const PromiseKeeper *keeper);

//! With \a manual, the library's clock (every task timestamp, TaskOptions::timeout,
//! TaskInfo::monotonicNowNsecs()) reads \a nsecs until advanced; without, the steady clock
//! again. Process-wide; thread-safe.
PROMISEKEEPER_EXPORT void setManualClock(bool manual, qint64 nsecs);
//! Moves the manual clock \a nsecs (>= 0) on and lets the time-out watcher see it.
PROMISEKEEPER_EXPORT void advanceManualClock(qint64 nsecs);

} // namespace detail
} // namespace pk
