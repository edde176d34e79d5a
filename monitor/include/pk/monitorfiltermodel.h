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
    Q_PROPERTY(QString textFilter READ textFilter WRITE setTextFilter NOTIFY textFilterChanged)
    Q_PROPERTY(
        QString keeperFilter READ keeperFilter WRITE setKeeperFilter NOTIFY keeperFilterChanged)
    Q_PROPERTY(bool continuationsShown READ continuationsShown WRITE setContinuationsShown NOTIFY
            continuationsShownChanged)

public:
    explicit MonitorFilterModel(QObject *parent = nullptr);
    ~MonitorFilterModel() override;

    void setSourceModel(QAbstractItemModel *sourceModel) override;

    QModelIndex mapToSource(const QModelIndex &proxyIndex) const override;
    QModelIndex mapFromSource(const QModelIndex &sourceIndex) const override;
    QModelIndex index(
        int row, int column, const QModelIndex &parent = QModelIndex()) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    QModelIndex sibling(int row, int column, const QModelIndex &idx) const override;
    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    bool hasChildren(const QModelIndex &parent = QModelIndex()) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    //! Sorts by \a column (-1: the model's order), as QTableView's sortable header asks.
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;
    //! The column sorted by, -1 for the model's order.
    int sortColumn() const;
    Qt::SortOrder sortOrder() const;

    bool isStateVisible(pk::TaskState state) const;
    //! All states are visible by default.
    void setStateVisible(pk::TaskState state, bool visible);

    QString textFilter() const;
    /*!
        Shows only tasks whose title, error message or error type contains \a text
        (case-insensitive), or whose id it is ("17" or "#17"); empty shows all.
    */
    void setTextFilter(const QString &text);

    QString keeperFilter() const;
    //! Shows only the tasks of the keeper named \a keeperName; empty shows every keeper's.
    void setKeeperFilter(const QString &keeperName);

    bool continuationsShown() const;
    //! Shows every continuation as a row of its own (flat); off by default (folded).
    void setContinuationsShown(bool shown);

    bool isExpanded(quint64 rootId) const;
    //! Shows (or folds again) the continuations folded under \a rootId.
    void setExpanded(quint64 rootId, bool expanded);

Q_SIGNALS:
    void stateVisibilityChanged(pk::TaskState state, bool visible);
    void textFilterChanged(const QString &text);
    void keeperFilterChanged(const QString &keeperName);
    void continuationsShownChanged(bool shown);
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
