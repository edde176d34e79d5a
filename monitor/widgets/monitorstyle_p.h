// Internal: the names, colours and number formats the monitor's views share.
#pragma once

#include <pk/enums.h>

#include <QtCore/QString>
#include <QtGui/QColor>

namespace pk {
class TaskInfo;
}

namespace pk::monitor {

constexpr int kStateCount = int(TaskState::Cancelled) + 1;

//! "Queued", "Running"...
QString stateName(TaskState state);
//! The colour of a state in every view (dots, bars, chips); readable on light and dark themes.
QColor stateColor(TaskState state);
//! A duration in nanoseconds for people: "850 ns", "12.3 µs", "4.56 ms", "1.20 s", "3 min 05 s".
QString formatDuration(qint64 nsecs);
//! A count with thousands separators: "1 234 567".
QString formatCount(qint64 count);
//! A rate per second: "0", "12.5", "1 234".
QString formatRate(double perSecond);
//! The progress as a fraction of its range (0 to 1), or -1 if the task reported none.
double progressFraction(const TaskInfo &info);
//! "40 %", or the task's progress text with it ("page 4 of 10 · 40 %"); empty without progress.
QString progressLabel(const TaskInfo &info);

} // namespace pk::monitor
