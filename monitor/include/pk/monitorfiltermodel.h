// pk::MonitorFilterModel: filters, folds and sorts a MonitorModel by state, keeper and text.
#pragma once

#include <pk/enums.h>
#include <pk/monitor_export.h>

#include <QtCore/qset.h>
#include <QtCore/qsortfilterproxymodel.h>

#include <memory>

namespace pk {

class MonitorFilterModelPrivate;

/*!
    A proxy over a pk::MonitorModel that shows only the tasks in the visible states, of the
    keeper filter's keeper, and matching the text filter, and sorts by the model's SortRole
    (numbers as numbers). Rows move in and out as tasks change state.

    Continuations folded under a root (MonitorModel::rootOf()) are hidden unless
    continuationsShown() (all of them, flat) or their root is expanded (setExpanded()); a text
    filter looks through folded rows too, so that a search finds every task.

    With another source model it filters through the StateRole, RootIdRole and Qt::DisplayRole
    data.

    GUI thread only, like its source.
*/
class PROMISEKEEPER_MONITOR_EXPORT MonitorFilterModel : public QSortFilterProxyModel
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
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    std::unique_ptr<MonitorFilterModelPrivate> d;
};

} // namespace pk
