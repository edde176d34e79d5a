// Internal: what one update of the monitor's feeds carries at most. pk::KeeperFeed (in-process)
// and pk::MonitorServer (attached) bound their updates alike, so that a view's work per update
// is the same small amount either way.
#pragma once

#include <pk/enums.h>

namespace pk::monitor {

// How often a feed sends a batch while something changes: about 30 a second, as fast as a
// view repaints usefully, whether the keeper is in this process or attached.
constexpr int kDefaultUpdateIntervalMs = 33;

// Tasks that appeared and finished unseen within one update, kept in detail (60000 a second
// at 30 updates a second: more than a table can show).
constexpr int kDefaultMaxFinishedPerUpdate = 2000;
// New tasks still waiting or queued, sent per update; the others wait for later updates.
constexpr int kDefaultMaxNewQueuedPerUpdate = 1000;

// A task no view has seen that came and went: in a flood the oldest are only counted, and
// nothing goes stale, since no table has them.
inline bool isDroppableDetail(bool unseen, TaskState state)
{
    return unseen && (state == TaskState::Succeeded || state == TaskState::Cancelled);
}

// A task no view has seen that still waits or is queued: sent, it would cost the views a row
// now and an update for every later change; held back, many finish unseen and only count.
inline bool isDeferrable(bool unseen, TaskState state)
{
    return unseen && (state == TaskState::Queued || state == TaskState::Waiting);
}

} // namespace pk::monitor
