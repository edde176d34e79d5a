#include "monitorstyle_p.h"

#include <pk/monitorfiltermodel.h>
#include <pk/monitormodel.h>

#include <QtCore/QPointer>

namespace pk {

class MonitorFilterModelPrivate
{
public:
    QPointer<MonitorModel> tasks; // the source, when it is a MonitorModel: no QVariant per row
    quint32 hiddenStates = 0; // bit n: TaskState(n) hidden
    QString text;
};

MonitorFilterModel::MonitorFilterModel(QObject *parent)
    : QSortFilterProxyModel(parent)
    , d(std::make_unique<MonitorFilterModelPrivate>())
{
    setSortRole(MonitorModel::SortRole);
    setDynamicSortFilter(true);
}

MonitorFilterModel::~MonitorFilterModel() = default;

void MonitorFilterModel::setSourceModel(QAbstractItemModel *sourceModel)
{
    d->tasks = qobject_cast<MonitorModel *>(sourceModel);
    QSortFilterProxyModel::setSourceModel(sourceModel);
}

bool MonitorFilterModel::isStateVisible(TaskState state) const
{
    return (d->hiddenStates & (1u << unsigned(state))) == 0;
}

void MonitorFilterModel::setStateVisible(TaskState state, bool visible)
{
    if (isStateVisible(state) == visible)
        return;
    d->hiddenStates ^= 1u << unsigned(state);
    invalidateRowsFilter();
    Q_EMIT stateVisibilityChanged(state, visible);
}

QString MonitorFilterModel::textFilter() const
{
    return d->text;
}

void MonitorFilterModel::setTextFilter(const QString &text)
{
    if (d->text == text)
        return;
    d->text = text;
    invalidateRowsFilter();
    Q_EMIT textFilterChanged(text);
}

bool MonitorFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (d->hiddenStates == 0 && d->text.isEmpty())
        return true;
    if (d->tasks) {
        const TaskInfo &info = d->tasks->taskAt(sourceRow);
        if (!isStateVisible(info.state()))
            return false;
        return d->text.isEmpty() || info.title().contains(d->text, Qt::CaseInsensitive)
            || info.errorString().contains(d->text, Qt::CaseInsensitive);
    }
    const QAbstractItemModel *source = sourceModel();
    const QModelIndex first = source->index(sourceRow, 0, sourceParent);
    const QVariant state = first.data(MonitorModel::StateRole);
    if (state.isValid() && !isStateVisible(state.value<TaskState>()))
        return false;
    if (d->text.isEmpty())
        return true;
    for (int column : { int(MonitorModel::TitleColumn), int(MonitorModel::ErrorColumn) }) {
        if (source->index(sourceRow, column, sourceParent)
                .data()
                .toString()
                .contains(d->text, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace pk
