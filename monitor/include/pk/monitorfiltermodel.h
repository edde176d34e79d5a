// pk::MonitorFilterModel: filters and sorts a MonitorModel by state and text.
#pragma once

#include <pk/enums.h>
#include <pk/monitor_export.h>

#include <QtCore/qsortfilterproxymodel.h>

#include <memory>

namespace pk {

class MonitorFilterModelPrivate;

/*!
    A proxy over a pk::MonitorModel that shows only the tasks in the visible states and whose
    title or error contains the text filter (case-insensitive), and sorts by the model's
    SortRole (numbers as numbers). Rows move in and out as tasks change state.

    With another source model it filters through the StateRole and Qt::DisplayRole data.
*/
class PROMISEKEEPER_MONITOR_EXPORT MonitorFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT
    Q_PROPERTY(QString textFilter READ textFilter WRITE setTextFilter NOTIFY textFilterChanged)

public:
    explicit MonitorFilterModel(QObject *parent = nullptr);
    ~MonitorFilterModel() override;

    void setSourceModel(QAbstractItemModel *sourceModel) override;

    bool isStateVisible(pk::TaskState state) const;
    //! All states are visible by default.
    void setStateVisible(pk::TaskState state, bool visible);

    QString textFilter() const;
    //! Shows only tasks whose title or error message contains \a text; empty shows all.
    void setTextFilter(const QString &text);

Q_SIGNALS:
    void stateVisibilityChanged(pk::TaskState state, bool visible);
    void textFilterChanged(const QString &text);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    std::unique_ptr<MonitorFilterModelPrivate> d;
};

} // namespace pk
