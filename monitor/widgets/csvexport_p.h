// Internal: tasks as CSV (RFC 4180), for pk::MonitorWidget::exportCsv(). Private to
// PromiseKeeper::Monitor (exported for its tests only).
#pragma once

#include <pk/monitor_export.h>
#include <pk/taskinfo.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

QT_BEGIN_NAMESPACE
class QIODevice;
QT_END_NAMESPACE

namespace pk::monitor {

/*
    The format, one record per task after a header record, lines ended by CRLF, UTF-8 without a
    byte order mark:

      id,title,state,priority,worker,queued_at,started_at,finished_at,wait_ms,run_ms,error

    Values are meant for programs rather than people: the state's enum name ("Succeeded"), the
    worker index (empty if the task never ran on a worker), times in ISO 8601 UTC with
    milliseconds ("2024-05-01T10:20:30.123Z", empty if not reached), wait and run time in
    milliseconds with six decimals (exact to the nanosecond, empty if not known yet), and the
    whole error message.
*/

//! \a text as one CSV field: as it is, or between double quotes (with the quotes inside
//! doubled) when it holds a comma, a double quote, a line break or leading or trailing blanks.
PROMISEKEEPER_MONITOR_EXPORT QString csvField(const QString &text);
//! The header record, with its CRLF.
PROMISEKEEPER_MONITOR_EXPORT QByteArray csvHeader();
//! The record of \a info, with its CRLF.
PROMISEKEEPER_MONITOR_EXPORT QByteArray csvRecord(const TaskInfo &info);

//! Writes the header and a record per task of \a tasks, in order, to \a device (open for
//! writing); false on a write error.
PROMISEKEEPER_MONITOR_EXPORT bool writeCsv(QIODevice *device, const QList<TaskInfo> &tasks);
//! Writes the CSV of \a tasks to the file \a path atomically: on failure an existing file is left
//! as it was, and \a errorString (if not null) says why.
PROMISEKEEPER_MONITOR_EXPORT bool saveCsv(
    const QString &path, const QList<TaskInfo> &tasks, QString *errorString = nullptr);

} // namespace pk::monitor
