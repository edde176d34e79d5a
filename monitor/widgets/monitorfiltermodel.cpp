#include "monitorstyle_p.h"

#include <pk/monitorfiltermodel.h>
#include <pk/monitormodel.h>

#include <QtCore/QPointer>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace pk {

namespace {
// Rows leaving the proxy in at most this many runs are removed run by run; past it they are
// first gathered at the end (one layout change) and removed as one block.
constexpr std::size_t kMaxRemovedRuns = 8;

// A row's sort value: numbers as numbers and before any text, text case-insensitively.
struct SortKey
{
    enum Kind : quint8 { Integer, Real, Text };
    Kind kind = Integer;
    qint64 integer = std::numeric_limits<qint64>::min(); // no value sorts first
    double real = 0;
    QString text;
};

SortKey keyOf(const QVariant &value)
{
    SortKey key;
    switch (value.typeId()) {
    case QMetaType::UnknownType:
        break;
    case QMetaType::Bool:
    case QMetaType::Char:
    case QMetaType::SChar:
    case QMetaType::Short:
    case QMetaType::Int:
    case QMetaType::Long:
    case QMetaType::LongLong:
        key.integer = value.toLongLong();
        break;
    case QMetaType::UChar:
    case QMetaType::UShort:
    case QMetaType::UInt:
    case QMetaType::ULong:
    case QMetaType::ULongLong:
        key.integer = qint64(std::min<qulonglong>(
            value.toULongLong(), qulonglong(std::numeric_limits<qint64>::max())));
        break;
    case QMetaType::Float:
    case QMetaType::Double:
        key.kind = SortKey::Real;
        key.real = value.toDouble();
        if (std::isnan(key.real)) // unordered: it would break the sort
            key.real = -std::numeric_limits<double>::infinity();
        break;
    default:
        key.kind = SortKey::Text;
        key.text = value.toString();
        break;
    }
    return key;
}

int compare(const SortKey &a, const SortKey &b)
{
    const bool aText = a.kind == SortKey::Text;
    if (aText != (b.kind == SortKey::Text))
        return aText ? 1 : -1;
    if (aText)
        return a.text.compare(b.text, Qt::CaseInsensitive);
    if (a.kind == SortKey::Integer && b.kind == SortKey::Integer)
        return (a.integer > b.integer) - (a.integer < b.integer);
    const double x = a.kind == SortKey::Real ? a.real : double(a.integer);
    const double y = b.kind == SortKey::Real ? b.real : double(b.integer);
    return (x > y) - (x < y);
}
} // namespace

/*
    The mapping is two vectors: `order` (proxy row -> source row) and `proxyRow` (source row ->
    proxy row, -1 when filtered out), and while sorted `keys` (source row -> sort value), read
    once per row that changed, never during a sort.

    Invariant: the rows of `order` not marked `unsettled` are in sort order among themselves
    (the source's inserts and removals never change the relative order of its other rows, and
    a changed sort value marks its row). settle() puts the unsettled rows in their places with
    one pass: O(rows) copies, O(changed log rows) comparisons and one layout change per batch.
*/
class MonitorFilterModelPrivate
{
public:
    explicit MonitorFilterModelPrivate(MonitorFilterModel *model)
        : q(model)
    { }

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

    const QAbstractItemModel *source() const { return q->sourceModel(); }
    bool accepts(int sourceRow) const { return q->filterAcceptsRow(sourceRow, QModelIndex()); }
    bool less(int a, int b) const
    {
        if (column >= 0) {
            const int c = compare(keys[std::size_t(a)], keys[std::size_t(b)]);
            if (c != 0)
                return sortOrder == Qt::AscendingOrder ? c < 0 : c > 0;
        }
        return a < b; // equal values in the model's order
    }
    SortKey keyFor(int sourceRow) const
    {
        const QModelIndex index = source()->index(sourceRow, column);
        const QVariant value = index.data(MonitorModel::SortRole);
        return keyOf(value.isValid() ? value : index.data(Qt::DisplayRole));
    }
    void markUnsettled(int sourceRow)
    {
        unsettled[std::size_t(sourceRow)] = 1;
        anyUnsettled = true;
    }

    void remap();
    void rebuild();
    //! Reads every row's sort value (none while unsorted); proxyRow is sized to the source.
    void readKeys();
    void relayout(std::vector<int> &&newOrder);
    void removeProxyRows(std::vector<int> &&rows);
    void appendRows(const std::vector<int> &sourceRows);
    void settle();
    void scheduleSettle();
    //! Filters \a sourceRows (ascending) again.
    void refilter(const std::vector<int> &sourceRows);
    void refilterAll();

    void sourceRowsInserted(int first, int last);
    void sourceRowsAboutToBeRemoved(int first, int last);
    void sourceRowsRemoved(int first, int last);
    void sourceDataChanged(
        const QModelIndex &topLeft, const QModelIndex &bottomRight, const QList<int> &roles);
    void sourceLayoutAboutToBeChanged();
    void sourceLayoutChanged();

    MonitorFilterModel *q;
    QPointer<MonitorModel> tasks; // the source, when it is a MonitorModel: no QVariant per row
    QList<QMetaObject::Connection> connections;

    // The filters.
    quint32 hiddenStates = 0; // bit n: TaskState(n) hidden
    QString text;
    quint64 textId = 0; // the id the text names ("17", "#17"), 0 if none
    QString keeper;
    bool continuationsShown = false;
    QSet<quint64> expanded; // roots whose continuations show; pruned when the model resets

    // The mapping.
    std::vector<int> order;
    std::vector<int> proxyRow;
    std::vector<SortKey> keys; // empty while unsorted
    std::vector<char> unsettled;
    // settle()'s buffers, kept from batch to batch: a fresh one of every row would be
    // mapped and faulted in anew each time.
    std::vector<int> settleRest;
    std::vector<int> settleMerged;
    bool anyUnsettled = false;
    bool settleQueued = false;
    int columns = 0; // the source's column count, as of the last rebuild
    int column = -1;
    Qt::SortOrder sortOrder = Qt::AscendingOrder;
    // Across a layout change of the source: the persistent indexes, as source indexes.
    QModelIndexList layoutProxy;
    QList<QPersistentModelIndex> layoutSource;
};

void MonitorFilterModelPrivate::remap()
{
    std::fill(proxyRow.begin(), proxyRow.end(), -1);
    for (std::size_t p = 0; p < order.size(); ++p)
        proxyRow[std::size_t(order[p])] = int(p);
}

void MonitorFilterModelPrivate::rebuild()
{
    const int rows = source() ? source()->rowCount() : 0;
    columns = source() ? source()->columnCount() : 0;
    proxyRow.assign(std::size_t(rows), -1);
    unsettled.assign(std::size_t(rows), 0);
    anyUnsettled = false;
    if (column >= columns)
        column = -1;
    readKeys();
    order.clear();
    for (int row = 0; row < rows; ++row) {
        if (accepts(row))
            order.push_back(row);
    }
    if (column >= 0)
        std::sort(order.begin(), order.end(), [this](int a, int b) { return less(a, b); });
    remap();
}

void MonitorFilterModelPrivate::readKeys()
{
    keys.clear();
    if (column < 0)
        return;
    keys.reserve(proxyRow.size());
    for (std::size_t row = 0; row < proxyRow.size(); ++row)
        keys.push_back(keyFor(int(row)));
}

void MonitorFilterModelPrivate::relayout(std::vector<int> &&newOrder)
{
    Q_ASSERT(newOrder.size() == order.size());
    Q_EMIT q->layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const QModelIndexList before = q->persistentIndexList();
    std::vector<int> sources;
    sources.reserve(std::size_t(before.size()));
    for (const QModelIndex &index : before)
        sources.push_back(order[std::size_t(index.row())]);
    order.swap(newOrder); // the caller may reuse the old order's buffer
    remap();
    QModelIndexList after;
    after.reserve(before.size());
    for (qsizetype i = 0; i < before.size(); ++i) {
        const int row = proxyRow[std::size_t(sources[std::size_t(i)])];
        after.append(row < 0 ? QModelIndex() : q->createIndex(row, before.at(i).column()));
    }
    q->changePersistentIndexList(before, after);
    Q_EMIT q->layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

void MonitorFilterModelPrivate::removeProxyRows(std::vector<int> &&rows)
{
    // \a rows: proxy rows, ascending.
    if (rows.empty())
        return;
    std::vector<std::pair<int, int>> runs; // [first, last]
    for (int row : rows) {
        if (!runs.empty() && runs.back().second + 1 == row)
            runs.back().second = row;
        else
            runs.emplace_back(row, row);
    }
    if (runs.size() > kMaxRemovedRuns) {
        // Gathered at the end first, in their order, so that one signal removes them.
        std::vector<int> gathered;
        gathered.reserve(order.size());
        std::vector<int> leaving;
        leaving.reserve(rows.size());
        auto next = rows.begin();
        for (std::size_t p = 0; p < order.size(); ++p) {
            if (next != rows.end() && *next == int(p)) {
                leaving.push_back(order[p]);
                ++next;
            } else {
                gathered.push_back(order[p]);
            }
        }
        const int first = int(gathered.size());
        gathered.insert(gathered.end(), leaving.begin(), leaving.end());
        relayout(std::move(gathered));
        runs.assign(1, { first, int(order.size()) - 1 });
    }
    // Back to front, so that the earlier runs keep their rows.
    for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
        q->beginRemoveRows(QModelIndex(), run->first, run->second);
        order.erase(order.begin() + run->first, order.begin() + run->second + 1);
        remap();
        q->endRemoveRows();
    }
}

void MonitorFilterModelPrivate::appendRows(const std::vector<int> &sourceRows)
{
    // \a sourceRows: ascending, none shown yet. At the end, as one block; settle() moves them
    // where the sort puts them.
    if (sourceRows.empty())
        return;
    const int first = int(order.size());
    // Unsorted, rows added after the last one shown are in their place already.
    const bool inPlace = column < 0 && (order.empty() || order.back() < sourceRows.front());
    q->beginInsertRows(QModelIndex(), first, first + int(sourceRows.size()) - 1);
    for (int row : sourceRows) {
        proxyRow[std::size_t(row)] = int(order.size());
        order.push_back(row);
        if (!inPlace)
            markUnsettled(row);
    }
    q->endInsertRows();
}

void MonitorFilterModelPrivate::settle()
{
    settleQueued = false;
    if (!anyUnsettled)
        return;
    anyUnsettled = false;
    std::vector<int> moved;
    std::vector<int> &rest = settleRest;
    rest.clear();
    rest.reserve(order.size());
    for (int row : order)
        (unsettled[std::size_t(row)] ? moved : rest).push_back(row);
    std::fill(unsettled.begin(), unsettled.end(), 0);
    if (moved.empty())
        return;
    const auto byValue = [this](int a, int b) { return less(a, b); };
    std::sort(moved.begin(), moved.end(), byValue);
    // Each moved row goes in by a binary search among the others, which are copied over in
    // blocks: O(changed log rows) comparisons. A comparison reads the sort keys of two rows
    // far apart in memory; comparing every row, as a merge does, cost most of a batch.
    // (less() never finds two rows equal, so the place of each is unique.)
    std::vector<int> &merged = settleMerged;
    merged.clear();
    merged.reserve(order.size());
    auto from = rest.cbegin();
    for (int row : moved) {
        const auto at = std::upper_bound(from, rest.cend(), row, byValue);
        merged.insert(merged.end(), from, at);
        merged.push_back(row);
        from = at;
    }
    merged.insert(merged.end(), from, rest.cend());
    Q_ASSERT(merged.size() == order.size());
    if (merged != order)
        relayout(std::move(merged)); // which leaves the old order in settleMerged, for reuse
}

void MonitorFilterModelPrivate::scheduleSettle()
{
    // A MonitorModel says when its batch ends (changesApplied()); this also covers its other
    // changes, and other models.
    if (!anyUnsettled || settleQueued)
        return;
    settleQueued = true;
    QMetaObject::invokeMethod(
        q, [this] { settle(); }, Qt::QueuedConnection);
}

void MonitorFilterModelPrivate::refilter(const std::vector<int> &sourceRows)
{
    std::vector<int> leaving;
    std::vector<int> joining;
    for (int row : sourceRows) {
        const int shown = proxyRow[std::size_t(row)];
        const bool accepted = accepts(row);
        if (shown >= 0 && !accepted)
            leaving.push_back(shown);
        else if (shown < 0 && accepted)
            joining.push_back(row);
    }
    std::sort(leaving.begin(), leaving.end());
    removeProxyRows(std::move(leaving));
    appendRows(joining);
    settle(); // a user's action: in place at once
}

void MonitorFilterModelPrivate::refilterAll()
{
    std::vector<int> all(proxyRow.size());
    for (std::size_t row = 0; row < all.size(); ++row)
        all[row] = int(row);
    refilter(all);
}

void MonitorFilterModelPrivate::sourceRowsInserted(int first, int last)
{
    const int n = last - first + 1;
    for (int &row : order) {
        if (row >= first)
            row += n;
    }
    proxyRow.insert(proxyRow.begin() + first, std::size_t(n), -1);
    unsettled.insert(unsettled.begin() + first, std::size_t(n), 0);
    if (column >= 0) {
        keys.insert(keys.begin() + first, std::size_t(n), SortKey());
        for (int row = first; row <= last; ++row)
            keys[std::size_t(row)] = keyFor(row);
    }
    std::vector<int> accepted;
    for (int row = first; row <= last; ++row) {
        if (accepts(row))
            accepted.push_back(row);
    }
    appendRows(accepted);
    scheduleSettle();
}

void MonitorFilterModelPrivate::sourceRowsAboutToBeRemoved(int first, int last)
{
    // The proxy's rows go now, while the source still has them for the views to read.
    std::vector<int> rows;
    for (int row = first; row <= last; ++row) {
        if (const int shown = proxyRow[std::size_t(row)]; shown >= 0)
            rows.push_back(shown);
    }
    std::sort(rows.begin(), rows.end());
    removeProxyRows(std::move(rows));
}

void MonitorFilterModelPrivate::sourceRowsRemoved(int first, int last)
{
    const int n = last - first + 1;
    proxyRow.erase(proxyRow.begin() + first, proxyRow.begin() + last + 1);
    unsettled.erase(unsettled.begin() + first, unsettled.begin() + last + 1);
    if (column >= 0)
        keys.erase(keys.begin() + first, keys.begin() + last + 1);
    for (int &row : order) {
        Q_ASSERT(row < first || row > last);
        if (row > last)
            row -= n;
    }
}

void MonitorFilterModelPrivate::sourceDataChanged(
    const QModelIndex &topLeft, const QModelIndex &bottomRight, const QList<int> &roles)
{
    if (!topLeft.isValid() || !bottomRight.isValid() || topLeft.parent().isValid())
        return;
    const bool valuesChange = column >= 0 && column >= topLeft.column()
        && column <= bottomRight.column()
        && (roles.isEmpty() || roles.contains(MonitorModel::SortRole)
            || roles.contains(Qt::DisplayRole));
    std::vector<int> leaving;
    std::vector<int> joining;
    int firstShown = std::numeric_limits<int>::max();
    int lastShown = -1;
    for (int row = topLeft.row(); row <= bottomRight.row(); ++row) {
        const int shown = proxyRow[std::size_t(row)];
        const bool accepted = accepts(row);
        if (valuesChange) {
            SortKey key = keyFor(row);
            if (shown >= 0 && accepted && compare(key, keys[std::size_t(row)]) != 0)
                markUnsettled(row);
            keys[std::size_t(row)] = std::move(key);
        }
        if (shown >= 0 && !accepted) {
            leaving.push_back(shown);
        } else if (shown < 0 && accepted) {
            joining.push_back(row);
        } else if (shown >= 0) {
            firstShown = std::min(firstShown, shown);
            lastShown = std::max(lastShown, shown);
        }
    }
    // One signal over the rows shown (sorted, they are anywhere: views take it as a repaint).
    if (lastShown >= 0) {
        Q_EMIT q->dataChanged(q->index(firstShown, topLeft.column()),
            q->index(lastShown, bottomRight.column()), roles);
    }
    std::sort(leaving.begin(), leaving.end());
    removeProxyRows(std::move(leaving));
    appendRows(joining);
    scheduleSettle();
}

void MonitorFilterModelPrivate::sourceLayoutAboutToBeChanged()
{
    Q_EMIT q->layoutAboutToBeChanged();
    layoutProxy = q->persistentIndexList();
    layoutSource.clear();
    for (const QModelIndex &index : std::as_const(layoutProxy))
        layoutSource.append(q->mapToSource(index));
}

void MonitorFilterModelPrivate::sourceLayoutChanged()
{
    rebuild();
    QModelIndexList after;
    for (const QPersistentModelIndex &index : std::as_const(layoutSource))
        after.append(q->mapFromSource(index));
    q->changePersistentIndexList(layoutProxy, after);
    layoutProxy.clear();
    layoutSource.clear();
    Q_EMIT q->layoutChanged();
}

MonitorFilterModel::MonitorFilterModel(QObject *parent)
    : QAbstractProxyModel(parent)
    , d(std::make_unique<MonitorFilterModelPrivate>(this))
{ }

MonitorFilterModel::~MonitorFilterModel() = default;

void MonitorFilterModel::setSourceModel(QAbstractItemModel *sourceModel)
{
    beginResetModel();
    for (const QMetaObject::Connection &c : std::as_const(d->connections))
        disconnect(c);
    d->connections.clear();
    d->tasks = qobject_cast<MonitorModel *>(sourceModel);
    d->expanded.clear();
    QAbstractProxyModel::setSourceModel(sourceModel);
    if (sourceModel) {
        using M = QAbstractItemModel;
        auto &c = d->connections;
        c << connect(sourceModel, &M::rowsInserted, this,
            [this](const QModelIndex &parent, int first, int last) {
                if (!parent.isValid())
                    d->sourceRowsInserted(first, last);
            });
        c << connect(sourceModel, &M::rowsAboutToBeRemoved, this,
            [this](const QModelIndex &parent, int first, int last) {
                if (!parent.isValid())
                    d->sourceRowsAboutToBeRemoved(first, last);
            });
        c << connect(sourceModel, &M::rowsRemoved, this,
            [this](const QModelIndex &parent, int first, int last) {
                if (!parent.isValid())
                    d->sourceRowsRemoved(first, last);
            });
        c << connect(sourceModel, &M::dataChanged, this,
            [this](const QModelIndex &topLeft, const QModelIndex &bottomRight,
                const QList<int> &roles) { d->sourceDataChanged(topLeft, bottomRight, roles); });
        c << connect(sourceModel, &M::layoutAboutToBeChanged, this,
            [this] { d->sourceLayoutAboutToBeChanged(); });
        c << connect(sourceModel, &M::layoutChanged, this, [this] { d->sourceLayoutChanged(); });
        // A reset drops every root; ids are not reused, but the set must not grow forever.
        // Before the reset, so that the proxy filters the new rows without the old roots.
        const auto aboutToReset = [this] {
            d->expanded.clear();
            beginResetModel();
        };
        const auto reset = [this] {
            d->rebuild();
            endResetModel();
        };
        c << connect(sourceModel, &M::modelAboutToBeReset, this, aboutToReset);
        c << connect(sourceModel, &M::modelReset, this, reset);
        // Rare, and not what a MonitorModel does: taken as resets.
        c << connect(sourceModel, &M::rowsAboutToBeMoved, this, aboutToReset);
        c << connect(sourceModel, &M::rowsMoved, this, reset);
        c << connect(sourceModel, &M::columnsAboutToBeInserted, this, aboutToReset);
        c << connect(sourceModel, &M::columnsInserted, this, reset);
        c << connect(sourceModel, &M::columnsAboutToBeRemoved, this, aboutToReset);
        c << connect(sourceModel, &M::columnsRemoved, this, reset);
        c << connect(sourceModel, &M::columnsAboutToBeMoved, this, aboutToReset);
        c << connect(sourceModel, &M::columnsMoved, this, reset);
        c << connect(sourceModel, &M::headerDataChanged, this, &M::headerDataChanged);
        c << connect(sourceModel, &QObject::destroyed, this, [this] {
            beginResetModel();
            d->order.clear();
            d->proxyRow.clear();
            d->keys.clear();
            d->unsettled.clear();
            d->columns = 0;
            endResetModel();
        });
        if (d->tasks) {
            c << connect(d->tasks, &MonitorModel::changesApplied, this, [this] { d->settle(); });
        }
    }
    d->rebuild();
    endResetModel();
}

QModelIndex MonitorFilterModel::mapToSource(const QModelIndex &proxyIndex) const
{
    if (!proxyIndex.isValid() || proxyIndex.model() != this || !sourceModel()
        || std::size_t(proxyIndex.row()) >= d->order.size())
        return QModelIndex();
    return sourceModel()->index(d->order[std::size_t(proxyIndex.row())], proxyIndex.column());
}

QModelIndex MonitorFilterModel::mapFromSource(const QModelIndex &sourceIndex) const
{
    if (!sourceIndex.isValid() || sourceIndex.model() != sourceModel()
        || sourceIndex.parent().isValid() || std::size_t(sourceIndex.row()) >= d->proxyRow.size())
        return QModelIndex();
    const int row = d->proxyRow[std::size_t(sourceIndex.row())];
    return row < 0 ? QModelIndex() : createIndex(row, sourceIndex.column());
}

QModelIndex MonitorFilterModel::index(int row, int column, const QModelIndex &parent) const
{
    if (parent.isValid() || row < 0 || std::size_t(row) >= d->order.size() || column < 0
        || column >= d->columns)
        return QModelIndex();
    return createIndex(row, column);
}

QModelIndex MonitorFilterModel::parent(const QModelIndex &) const
{
    return QModelIndex(); // a table
}

QModelIndex MonitorFilterModel::sibling(int row, int column, const QModelIndex &) const
{
    return index(row, column);
}

int MonitorFilterModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(d->order.size());
}

int MonitorFilterModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : d->columns;
}

bool MonitorFilterModel::hasChildren(const QModelIndex &parent) const
{
    return !parent.isValid() && rowCount() > 0 && columnCount() > 0;
}

QVariant MonitorFilterModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal)
        return sourceModel() ? sourceModel()->headerData(section, orientation, role) : QVariant();
    if (role == Qt::DisplayRole && section >= 0 && section < rowCount())
        return section + 1;
    return QVariant();
}

void MonitorFilterModel::sort(int column, Qt::SortOrder order)
{
    if (column >= columnCount())
        column = -1;
    if (column == d->column && (column < 0 || order == d->sortOrder))
        return;
    d->column = column;
    d->sortOrder = order;
    d->readKeys();
    std::fill(d->unsettled.begin(), d->unsettled.end(), 0);
    d->anyUnsettled = false;
    std::vector<int> sorted = d->order;
    std::sort(sorted.begin(), sorted.end(), [this](int a, int b) { return d->less(a, b); });
    if (sorted != d->order)
        d->relayout(std::move(sorted));
}

int MonitorFilterModel::sortColumn() const
{
    return d->column;
}

Qt::SortOrder MonitorFilterModel::sortOrder() const
{
    return d->sortOrder;
}

void MonitorFilterModel::invalidateFilter()
{
    d->refilterAll();
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
    invalidateFilter();
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
    invalidateFilter();
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
    invalidateFilter();
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
    invalidateFilter();
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
        std::vector<int> rows;
        for (quint64 id : d->tasks->foldedUnder(rootId)) {
            if (const int row = d->tasks->rowOf(id); row >= 0)
                rows.push_back(row);
        }
        std::sort(rows.begin(), rows.end());
        d->refilter(rows);
    } else {
        invalidateFilter();
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
