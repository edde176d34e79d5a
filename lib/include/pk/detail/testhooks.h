// What PromiseKeeperTest (pk::test::drain()) needs to know of a keeper beyond its public API.
// Internal: not for applications.
#pragma once

#include <pk/promisekeeper_export.h>

namespace pk {
class PromiseKeeper;
namespace detail {

//! Whether nothing is waiting, queued or running on \a keeper and no worker is still waking
//! the waiters and running the continuations of a task it finished (PromiseKeeper::counts()
//! shows a task final a moment before that). Thread-safe.
PROMISEKEEPER_EXPORT bool isSettled(const PromiseKeeper *keeper);

} // namespace detail
} // namespace pk
