// pk::MonitorModel: the tasks of a MonitorFeed as a table, one row per task.
#pragma once

#include <pk/monitor_export.h>
#include <pk/taskcounts.h>
#include <pk/taskinfo.h>

#include <QtCore/qabstractitemmodel.h>
#include <QtCore/qlist.h>
#include <QtCore/qstringlist.h>

#include <memory>

namespace pk {

class MonitorModelPrivate;

/*!
    A table of tasks fed in batches: the live tasks and the most recently finished ones, in the
    order they first appeared (which is submission order, nearly).

    applySnapshot() resets the model; applyChanges() appends the tasks it has not seen with one
    rowsInserted per batch and reports the changed ones with dataChanged over ranges of rows.

    Memory is bounded: at most maxFinished() finished tasks that did not fail are kept, and at
    most maxFailed() failed ones, so that a flood of successes never pushes the failures out.
    Past a cap the oldest are evicted in one go (down to 95% of the cap, so that eviction does
    not run on every batch), with as few rowsRemoved as possible. Live tasks are never evicted.
    droppedCount() says how many tasks were evicted in all.

    Continuations are folded under the task they continue: a continuation's root is the task
    its inputIds() chain leads back to through continuations (a continuation of a continuation
    folds under the same task). rootOf() says where each row folds, foldedCount() how many
    continuations fold under a root (the title column shows it, "decode img-020  (+3)"), and
    pk::MonitorFilterModel hides the folded rows. A continuation whose input is not in the model
    (evicted, or not seen yet) is a root itself, shown at the top level; when its input arrives
    later it folds under that input's root. Evicting a root folds its continuations again over
    what is left. All of it costs a few hash look-ups per task and batch, never a pass over the
    rows.

    dependentsOf() lists the tasks whose inputIds() contain a task; keeperNames() the keepers
    seen, in the order they first appeared.

    Lives in the GUI thread, like any model.
*/
class PROMISEKEEPER_MONITOR_EXPORT MonitorModel : public QAbstractTableModel
{
    Q_OBJECT
    //! The cap on finished tasks that did not fail; see maxFinished().
    Q_PROPERTY(int maxFinished READ maxFinished WRITE setMaxFinished)
    //! The cap on failed tasks; see maxFailed().
    Q_PROPERTY(int maxFailed READ maxFailed WRITE setMaxFailed)
    //! How many finished tasks the caps dropped; see droppedCount().
    Q_PROPERTY(quint64 droppedCount READ droppedCount NOTIFY droppedCountChanged)

public:
    //! The columns of the table, in their order; Qt::DisplayRole gives the text shown.
    enum Columns {
        IdColumn, //!< TaskInfo::id()
        //! TaskInfo::title(); "↳ " before a continuation, "  (+N)" after a task with N folded
        TitleColumn,
        KeeperColumn, //!< TaskInfo::keeperName()
        //! the state's name and icon, with "cancelling…", "timed out" or liveStateNote() added
        StateColumn,
        ProgressColumn, //!< the progress the task reported through its pk::TaskContext
        PriorityColumn, //!< TaskInfo::priority()
        WorkerColumn, //!< the keeper's worker that ran it (TaskInfo::workerIndex()), or empty
        QueuedAtColumn, //!< when it was queued, local time of day to the millisecond
        WaitColumn, //!< time queued until a worker started it (or it was cancelled)
        RunTimeColumn, //!< time it ran, from start to end
        ErrorColumn, //!< the first line of TaskInfo::errorString() (the whole in the tooltip)
        ColumnCount //!< the number of columns, not a column
    };
    Q_ENUM(Columns)

    //! The model's own item data roles, beside Qt's; all but SortRole are the row's, any column.
    enum Roles {
        TaskInfoRole = Qt::UserRole + 1, //!< QVariant::fromValue(pk::TaskInfo)
        IdRole, //!< quint64
        StateRole, //!< pk::TaskState
        SortRole, //!< a number (or string) that sorts the column naturally
        RootIdRole, //!< quint64: the task this row folds under, 0 for a top-level row
        FoldedCountRole, //!< int: how many continuations fold under this row
        ProgressRole, //!< double: the progress as a fraction of its range, -1 if it has none
    };
    Q_ENUM(Roles)

    //! Constructs an empty model as a child of \a parent.
    explicit MonitorModel(QObject *parent = nullptr);
    ~MonitorModel() override;

    //! The number of tasks held: live ones and the finished ones kept (0 under a valid
    //! \a parent: a flat table).
    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    //! Always ColumnCount (0 under a valid \a parent: a flat table).
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    /*!
        The data of \a index for \a role: the Columns' text (Qt::DisplayRole), the full title
        or error as Qt::ToolTipRole, the state's icon and colour, right alignment of numbers,
        and the Roles; SortRole orders numbers as numbers.
    */
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    //! The columns' names (Qt::DisplayRole) and, for some, what they mean (Qt::ToolTipRole).
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    //! Qt's role names plus "taskInfo", "taskId", "state", "sortValue", "rootId" and
    //! "foldedCount" (ProgressRole has no name).
    QHash<int, QByteArray> roleNames() const override;

    //! The task in \a row (0 <= row < rowCount()); cheaper than data(TaskInfoRole).
    const TaskInfo &taskAt(int row) const;
    //! The row of task \a taskId, or -1 if it is not in the model.
    int rowOf(quint64 taskId) const;
    //! The index of task \a taskId in \a column, or an invalid index if it is not in the
    //! model.
    QModelIndex indexOf(quint64 taskId, int column = 0) const;

    //! The id of the task \a taskId folds under (a continuation's root), or 0 if it is a
    //! top-level row or not in the model.
    quint64 rootOf(quint64 taskId) const;
    //! How many continuations in the model fold under \a taskId.
    int foldedCount(quint64 taskId) const;
    //! The continuations that fold under \a taskId, in id order.
    QList<quint64> foldedUnder(quint64 taskId) const;
    //! The tasks in the model whose inputIds() contain \a taskId, in id order.
    QList<quint64> dependentsOf(quint64 taskId) const;
    //! The keeper names of the tasks seen (TaskInfo::keeperName()), in the order they first
    //! appeared since the last reset; unnamed keepers are not listed. Kept after their tasks
    //! are evicted.
    QStringList keeperNames() const;

    //! How many finished tasks that did not fail the model keeps at most.
    int maxFinished() const;
    //! Sets maxFinished() to \a count (default 100000; at least 1), evicting at once.
    void setMaxFinished(int count);
    //! How many failed tasks the model keeps at most.
    int maxFailed() const;
    //! Sets maxFailed() to \a count (default 10000; at least 1), evicting at once.
    void setMaxFailed(int count);
    //! How many finished tasks were evicted because of the caps, since construction.
    quint64 droppedCount() const;

    /*!
        A note shown after the state of every task that is not final ("Running — unknown
        (program gone)"), for when what the model shows of them can no longer be true: the
        source went away, or the recording ended with them live. Empty (the default) shows the
        states as they are. It stays until it is set again, across snapshots.
    */
    QString liveStateNote() const;
    //! Sets liveStateNote() to \a note; the State column of every row changes with it.
    void setLiveStateNote(const QString &note);

    //! How many finished tasks the model holds now: not failed, and failed.
    int finishedKept() const;
    //! How many failed tasks the model holds now. \sa finishedKept()
    int failedKept() const;

    //! Replaces everything (a model reset) with \a live and \a recentlyFinished, in id order.
    void applySnapshot(
        const QList<pk::TaskInfo> &live, const QList<pk::TaskInfo> &recentlyFinished);
    //! Applies one batch of changes (the latest TaskInfo of each task that changed).
    void applyChanges(const QList<pk::TaskInfo> &changes);
    //! Removes everything (a model reset).
    void clear();

Q_SIGNALS:
    //! Emitted (in the model's thread) when droppedCount() grows: evictions by applyChanges(),
    //! applySnapshot(), setMaxFinished() or setMaxFailed(), or finished tasks of a batch past
    //! the caps that applyChanges() does not insert at all.
    void droppedCountChanged(quint64 droppedCount);
    //! A task of a keeper not seen before arrived (emitted after its rows are inserted). Not
    //! emitted for a reset (applySnapshot(), clear()): read keeperNames() on modelReset.
    void keeperAdded(const QString &keeperName);
    /*!
        The end of a change of the rows: of applyChanges(), applySnapshot(), clear() and the
        evictions that setMaxFinished() and setMaxFailed() make, after all of its row signals.
        pk::MonitorFilterModel sorts there, once per batch.
    */
    void changesApplied();

private:
    friend class MonitorModelPrivate;
    std::unique_ptr<MonitorModelPrivate> d;
};

} // namespace pk
