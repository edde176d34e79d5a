// pk::MonitorFilterModel: filters, folds and sorts a MonitorModel by state, keeper and text.
#pragma once

#include <pk/enums.h>
#include <pk/monitor_export.h>

#include <QtCore/qabstractproxymodel.h>
#include <QtCore/qset.h>

#include <memory>

namespace pk {

class MonitorFilterModelPrivate;

/*!
    A proxy over a pk::MonitorModel (a flat table) that shows only the tasks in the visible
    states, of the keeper filter's keeper, and matching the text filter, and sorts by the
    model's SortRole (numbers as numbers, text case-insensitively; equal values in the model's
    order). Rows move in and out as tasks change state.

    Continuations folded under a root (MonitorModel::rootOf()) are hidden unless
    continuationsShown() (all of them, flat) or their root is expanded (setExpanded()); a text
    filter looks through folded rows too, so that a search finds every task.

    Its cost per batch of the model is bounded whatever the sort and the filters: the rows a
    batch adds go in as one block, and the rows whose sort value changed are put in their
    places with one layout change per batch (MonitorModel::changesApplied()), a merge of the
    sorted rows with the moved ones, never a row signal per task. Rows leaving it in many places
    at once are first moved together (one layout change) and removed as one block. Unsorted,
    it keeps the model's order, which is submission order. (QSortFilterProxyModel, which this
    replaced, emitted a signal per run of rows and a layout change per changed range: seconds
    per batch on a sorted table of 100 000 tasks in a flood.)

    With another source model it filters through the StateRole, RootIdRole and Qt::DisplayRole
    data, and re-sorts after the event loop's turn rather than at a batch's end.

    GUI thread only, like its source.
*/
class PROMISEKEEPER_MONITOR_EXPORT MonitorFilterModel : public QAbstractProxyModel
{
    Q_OBJECT
    //! The text the tasks shown must match; see setTextFilter().
    Q_PROPERTY(QString textFilter READ textFilter WRITE setTextFilter NOTIFY textFilterChanged)
    //! The keeper whose tasks are shown, empty for all; see setKeeperFilter().
    Q_PROPERTY(
        QString keeperFilter READ keeperFilter WRITE setKeeperFilter NOTIFY keeperFilterChanged)
    //! Whether continuations are shown flat rather than folded; see setContinuationsShown().
    Q_PROPERTY(bool continuationsShown READ continuationsShown WRITE setContinuationsShown NOTIFY
            continuationsShownChanged)

public:
    //! Constructs a proxy without a source, showing all states, unsorted, as a child of
    //! \a parent.
    explicit MonitorFilterModel(QObject *parent = nullptr);
    ~MonitorFilterModel() override;

    /*!
        Filters \a sourceModel (a model reset). A pk::MonitorModel is filtered through its
        tasks directly and re-sorted once per batch (MonitorModel::changesApplied()); any other
        flat model through its data. Expanded roots are forgotten.
    */
    void setSourceModel(QAbstractItemModel *sourceModel) override;

    //! The source index of \a proxyIndex, or an invalid index.
    QModelIndex mapToSource(const QModelIndex &proxyIndex) const override;
    //! The proxy index of \a sourceIndex; invalid if its row is filtered out or folded.
    QModelIndex mapFromSource(const QModelIndex &sourceIndex) const override;
    //! The index of \a row and \a column; invalid outside the table or under a valid
    //! \a parent (a flat table).
    QModelIndex index(
        int row, int column, const QModelIndex &parent = QModelIndex()) const override;
    //! An invalid index: the proxy is a flat table, whatever \a child.
    QModelIndex parent(const QModelIndex &child) const override;
    //! The index at \a row and \a column, as index() gives it (\a idx only names the table).
    QModelIndex sibling(int row, int column, const QModelIndex &idx) const override;
    //! The number of rows shown (0 under a valid \a parent).
    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    //! The source's number of columns (0 under a valid \a parent).
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    //! Whether \a parent is the root and the table has rows and columns.
    bool hasChildren(const QModelIndex &parent = QModelIndex()) const override;
    //! The source's header for columns; rows are numbered 1, 2, ... as shown.
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    //! Sorts by \a column (-1: the model's order), as QTableView's sortable header asks.
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;
    //! The column sorted by, -1 for the model's order.
    int sortColumn() const;
    //! The order of sortColumn(), as last given to sort().
    Qt::SortOrder sortOrder() const;

    //! Whether tasks in \a state are shown.
    bool isStateVisible(pk::TaskState state) const;
    //! All states are visible by default.
    void setStateVisible(pk::TaskState state, bool visible);

    //! The text filter, as given to setTextFilter(); empty shows all.
    QString textFilter() const;
    /*!
        Shows only tasks whose title, error message or error type contains \a text
        (case-insensitive), or whose id it is ("17" or "#17"); empty shows all.
    */
    void setTextFilter(const QString &text);

    //! The keeper whose tasks are shown (TaskInfo::keeperName()); empty for every keeper's.
    QString keeperFilter() const;
    //! Shows only the tasks of the keeper named \a keeperName; empty shows every keeper's.
    void setKeeperFilter(const QString &keeperName);

    //! Whether every continuation is shown as a row of its own. \sa setContinuationsShown()
    bool continuationsShown() const;
    //! Shows every continuation as a row of its own (flat); off by default (folded).
    void setContinuationsShown(bool shown);

    //! Whether the continuations folded under \a rootId are shown. \sa setExpanded()
    bool isExpanded(quint64 rootId) const;
    //! Shows (or folds again) the continuations folded under \a rootId.
    void setExpanded(quint64 rootId, bool expanded);

Q_SIGNALS:
    //! Emitted by setStateVisible() when it changes whether \a state is shown, after the
    //! rows moved.
    void stateVisibilityChanged(pk::TaskState state, bool visible);
    //! Emitted by setTextFilter() when the text changes, after the rows moved.
    void textFilterChanged(const QString &text);
    //! Emitted by setKeeperFilter() when the keeper changes, after the rows moved.
    void keeperFilterChanged(const QString &keeperName);
    //! Emitted by setContinuationsShown() when it changes, after the rows moved.
    void continuationsShownChanged(bool shown);
    //! Emitted by setExpanded() when \a rootId is expanded or folded again, after the rows
    //! moved; not when a reset of the source forgets the expanded roots.
    void expandedChanged(quint64 rootId, bool expanded);

protected:
    //! Whether the source row \a sourceRow shows (the filters and the folding).
    virtual bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const;
    //! Applies the filters to every row again (after one of them changed).
    void invalidateFilter();

private:
    friend class MonitorFilterModelPrivate;
    std::unique_ptr<MonitorFilterModelPrivate> d;
};

} // namespace pk
