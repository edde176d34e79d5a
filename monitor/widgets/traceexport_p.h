// Internal: tasks the monitor holds, replayed into a pk::TraceWriter, for
// pk::MonitorWidget::exportTrace(). Private to PromiseKeeper::Monitor (exported for its tests
// only).
#pragma once

#include <pk/monitor_export.h>
#include <pk/monitorfeed.h>
#include <pk/taskinfo.h>

#include <QtCore/qlist.h>

namespace pk {

class TraceWriter;

namespace monitor {

/*!
    Records \a tasks (latest states, any order) into \a writer as if it had listened to them:
    the state changes each task's timestamps tell (queued, started, then its state now), those of
    all tasks in time order. The trace then has its "queued" and "running" counters as they
    were, over these tasks, and its finished tasks in the order they finished; recording only
    the latest states would give neither.

    The trace's process is the watched program: \a programName and \a programPid (a
    MonitorFeed's programName() and programPid()) set the writer's process name and pid when
    given (not empty, not 0). \a keepers (MonitorFeed::keepers()) gives each keeper's thread
    count, so that its idle workers have a track too.
*/
PROMISEKEEPER_MONITOR_EXPORT void recordTasks(TraceWriter &writer, const QList<TaskInfo> &tasks,
    const QString &programName = QString(), qint64 programPid = 0,
    const QList<KeeperStatus> &keepers = QList<KeeperStatus>());

} // namespace monitor
} // namespace pk
