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
    quint64 textId = 0; // the id the text names ("17", "#17"), 0 if none
    QString keeper;
    bool continuationsShown = false;
    QSet<quint64> expanded; // roots whose continuations show; pruned when the model resets
    QMetaObject::Connection resetConnection;

    bool matchesText(const TaskInfo &info) const
    {
        return (textId != 0 && info.id() == textId)
            || info.title().contains(text, Qt::CaseInsensitive)
            || info.errorString().contains(text, Qt::CaseInsensitive)
            || info.errorType().contains(text, Qt::CaseInsensitive);
    }
    bool isFoldedAway(quint64 rootId) const
    {
        // A search looks through the folds: what it finds shows.
        return rootId != 0 && !continuationsShown && text.isEmpty() && !expanded.contains(rootId);
    }
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
    d->expanded.clear();
    QSortFilterProxyModel::setSourceModel(sourceModel);
    // A reset drops every root; ids are not reused, but the set must not grow forever. Before
    // the reset, so that the proxy filters the new rows without the old roots.
    disconnect(d->resetConnection);
    if (sourceModel)
        d->resetConnection = connect(sourceModel, &QAbstractItemModel::modelAboutToBeReset, this,
            [this] { d->expanded.clear(); });
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
    QStringView digits = QStringView(text).trimmed();
    if (digits.startsWith(QLatin1Char('#')))
        digits = digits.mid(1);
    bool ok = false;
    d->textId = digits.toULongLong(&ok);
    if (!ok)
        d->textId = 0;
    invalidateRowsFilter();
    Q_EMIT textFilterChanged(text);
}

QString MonitorFilterModel::keeperFilter() const
{
    return d->keeper;
}

void MonitorFilterModel::setKeeperFilter(const QString &keeperName)
{
    if (d->keeper == keeperName)
        return;
    d->keeper = keeperName;
    invalidateRowsFilter();
    Q_EMIT keeperFilterChanged(keeperName);
}

bool MonitorFilterModel::continuationsShown() const
{
    return d->continuationsShown;
}

void MonitorFilterModel::setContinuationsShown(bool shown)
{
    if (d->continuationsShown == shown)
        return;
    d->continuationsShown = shown;
    invalidateRowsFilter();
    Q_EMIT continuationsShownChanged(shown);
}

bool MonitorFilterModel::isExpanded(quint64 rootId) const
{
    return d->expanded.contains(rootId);
}

void MonitorFilterModel::setExpanded(quint64 rootId, bool expanded)
{
    if (rootId == 0 || isExpanded(rootId) == expanded)
        return;
    if (expanded)
        d->expanded.insert(rootId);
    else
        d->expanded.remove(rootId);
    // Only the rows folded under the root change; with a MonitorModel, tell the proxy about
    // those alone (dataChanged makes it filter them again), not every row.
    if (d->tasks) {
        for (quint64 id : d->tasks->foldedUnder(rootId)) {
            const QModelIndex index = d->tasks->indexOf(id);
            if (index.isValid())
                Q_EMIT d->tasks->dataChanged(index, index.siblingAtColumn(0));
        }
    } else {
        invalidateRowsFilter();
    }
    Q_EMIT expandedChanged(rootId, expanded);
}

bool MonitorFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (d->tasks) {
        const TaskInfo &info = d->tasks->taskAt(sourceRow);
        if (d->isFoldedAway(d->tasks->rootOf(info.id())))
            return false;
        if (d->hiddenStates == 0 && d->text.isEmpty() && d->keeper.isEmpty())
            return true;
        if (!isStateVisible(info.state()))
            return false;
        if (!d->keeper.isEmpty() && info.keeperName() != d->keeper)
            return false;
        return d->text.isEmpty() || d->matchesText(info);
    }
    const QAbstractItemModel *source = sourceModel();
    const QModelIndex first = source->index(sourceRow, 0, sourceParent);
    if (d->isFoldedAway(first.data(MonitorModel::RootIdRole).toULongLong()))
        return false;
    const QVariant state = first.data(MonitorModel::StateRole);
    if (state.isValid() && !isStateVisible(state.value<TaskState>()))
        return false;
    if (!d->keeper.isEmpty()
        && source->index(sourceRow, MonitorModel::KeeperColumn, sourceParent).data().toString()
            != d->keeper)
        return false;
    if (d->text.isEmpty())
        return true;
    if (d->textId != 0 && first.data(MonitorModel::IdRole).toULongLong() == d->textId)
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
