#include "monitorstyle_p.h"

#include <pk/monitormodel.h>

#include <QtCore/QHash>
#include <QtCore/QSet>
#include <QtGui/QBrush>
#include <QtGui/QIcon>
#include <QtGui/QPainter>
#include <QtGui/QPixmap>

#include <algorithm>
#include <array>
#include <deque>
#include <vector>

namespace pk {

namespace {
constexpr int kDefaultMaxFinished = 100000;
constexpr int kDefaultMaxFailed = 10000;
// Eviction removes this many ranges of rows one by one at most; past it, the whole span of the
// evicted rows is removed and the kept rows in it are inserted back (two signals, not hundreds).
constexpr std::size_t kMaxRemovedRanges = 8;
// dataChanged ranges per batch, at most about this many (close runs are merged).
constexpr int kMaxChangedRanges = 64;

// The input a continuation continues: its one input.
quint64 continuedId(const TaskInfo &info)
{
    return info.kind() == TaskKind::Continuation && !info.inputIds().isEmpty()
        ? info.inputIds().front()
        : 0;
}

void removeFrom(QHash<quint64, QList<quint64>> &lists, quint64 key, quint64 value)
{
    const auto it = lists.find(key);
    if (it == lists.end())
        return;
    it->removeOne(value);
    if (it->isEmpty())
        lists.erase(it);
}

bool isKeptFinished(TaskState s)
{
    return s == TaskState::Succeeded || s == TaskState::Cancelled;
}

// Where the caps evict down to: 95% of the cap, so that eviction runs once in a while.
qsizetype evictionTarget(int cap)
{
    return qsizetype(cap) - qsizetype(cap) / 20;
}

const QIcon &stateIcon(TaskState state)
{
    static const std::array<QIcon, monitor::kStateCount> icons = [] {
        std::array<QIcon, monitor::kStateCount> made;
        for (int s = 0; s < monitor::kStateCount; ++s) {
            QPixmap pixmap(12, 12);
            pixmap.fill(Qt::transparent);
            QPainter painter(&pixmap);
            painter.setRenderHint(QPainter::Antialiasing);
            painter.setPen(Qt::NoPen);
            painter.setBrush(monitor::stateColor(TaskState(s)));
            painter.drawEllipse(QRectF(1.5, 1.5, 9, 9));
            painter.end();
            made[std::size_t(s)] = QIcon(pixmap);
        }
        return made;
    }();
    return icons[std::size_t(state)];
}
} // namespace

/*
    Rows live in a deque sorted by task id, which is submission order: new tasks nearly always
    have ids above every row (one append per batch), eviction keeps the order, and the row of a
    task is a binary search; no index to maintain per row.
*/
class MonitorModelPrivate
{
public:
    explicit MonitorModelPrivate(MonitorModel *model)
        : q(model)
    { }

    int rowOf(quint64 id) const
    {
        const auto it = std::lower_bound(
            rows.begin(), rows.end(), id, [](const TaskInfo &r, quint64 i) { return r.id() < i; });
        return it != rows.end() && it->id() == id ? int(it - rows.begin()) : -1;
    }
    void count(TaskState state, int delta)
    {
        if (isKeptFinished(state))
            finishedKept += delta;
        else if (state == TaskState::Failed)
            failedKept += delta;
    }
    void resetTo(const QList<TaskInfo> &live, const QList<TaskInfo> &finished);
    void insert(const std::vector<const TaskInfo *> &added);
    void emitChanged(std::vector<int> &changedRows);
    bool evict();
    quint64 trimAdded(std::vector<const TaskInfo *> &added) const;
    void removeRows(const std::vector<int> &evicted);

    // Folding. Every map holds ids of rows only (or, for orphans, ids rows wait for), so that
    // they stay as bounded as the rows.
    quint64 rootOfRow(quint64 id) const { return root.value(id, id); }
    template<typename Has>
    void link(const TaskInfo &info, Has &&has, QList<quint64> &touched);
    void fold(quint64 id, quint64 newRoot, QList<quint64> &touched);
    void unlink(const std::vector<TaskInfo> &evicted, QList<quint64> &touched);
    void linkAll();
    void emitTouched(QList<quint64> &touched);
    void noteKeeper(const QString &name, QStringList &added);

    MonitorModel *q;
    std::deque<TaskInfo> rows;
    int maxFinished = kDefaultMaxFinished;
    int maxFailed = kDefaultMaxFailed;
    qsizetype finishedKept = 0;
    qsizetype failedKept = 0;
    quint64 dropped = 0;
    QString liveStateNote; // see MonitorModel::setLiveStateNote()

    QHash<quint64, quint64> root; // folded continuation -> its root (roots are not in it)
    QHash<quint64, QList<quint64>> folded; // root -> the continuations folded under it
    QHash<quint64, QList<quint64>> orphans; // id not in the model -> continuations of it
    QHash<quint64, QList<quint64>> dependents; // id -> the rows whose inputIds() hold it
    QStringList keepers;
    QSet<QString> keeperSet;
};

template<typename Has>
void MonitorModelPrivate::link(const TaskInfo &info, Has &&has, QList<quint64> &touched)
{
    // Called in id order for the rows a batch adds; has(id) says whether id is a row (or a row
    // of this batch). An input has a lower id than what waits for it, so it is linked first.
    const quint64 id = info.id();
    for (quint64 input : info.inputIds())
        dependents[input].append(id);
    if (const quint64 input = continuedId(info)) {
        if (has(input)) {
            const quint64 r = rootOfRow(input);
            root.insert(id, r);
            folded[r].append(id);
            touched.append(r);
        } else {
            orphans[input].append(id); // top level until its input arrives
        }
    }
    // Continuations that arrived before this task (the feed sent it late) fold under it now,
    // with what folded under them.
    const auto waiting = orphans.find(id);
    if (waiting == orphans.end())
        return;
    const QList<quint64> adopted = std::move(*waiting);
    orphans.erase(waiting);
    const quint64 r = rootOfRow(id);
    for (quint64 orphan : adopted)
        fold(orphan, r, touched);
    touched.append(r);
}

void MonitorModelPrivate::fold(quint64 id, quint64 newRoot, QList<quint64> &touched)
{
    // \a id was a root: it and everything under it go under \a newRoot.
    root.insert(id, newRoot);
    QList<quint64> &under = folded[newRoot];
    under.append(id);
    touched.append(id);
    const QList<quint64> moved = folded.take(id);
    for (quint64 c : moved) {
        root.insert(c, newRoot);
        touched.append(c);
    }
    under.append(moved);
}

void MonitorModelPrivate::unlink(const std::vector<TaskInfo> &evicted, QList<quint64> &touched)
{
    // Called after \a evicted (in id order) left the rows.
    for (const TaskInfo &info : evicted) {
        const quint64 id = info.id();
        for (quint64 input : info.inputIds())
            removeFrom(dependents, input, id);
        dependents.remove(id);
        if (const quint64 input = continuedId(info))
            removeFrom(orphans, input, id);
        if (const auto it = root.find(id); it != root.end()) {
            removeFrom(folded, *it, id);
            touched.append(*it);
            root.erase(it);
        }
        const auto under = folded.find(id);
        if (under == folded.end())
            continue;
        // A root goes: its continuations fold again over what is left, in id order so that a
        // continuation's input has its new place first. Those whose input went too are roots.
        QList<quint64> rest = std::move(*under);
        folded.erase(under);
        std::sort(rest.begin(), rest.end());
        for (quint64 c : rest) {
            root.remove(c);
            const int row = rowOf(c);
            if (row < 0)
                continue; // evicted in this pass too
            touched.append(c);
            const quint64 input = continuedId(rows[std::size_t(row)]);
            if (rowOf(input) >= 0) {
                const quint64 r = rootOfRow(input);
                root.insert(c, r);
                folded[r].append(c);
                touched.append(r);
            } else {
                orphans[input].append(c);
            }
        }
    }
}

void MonitorModelPrivate::linkAll()
{
    root.clear();
    folded.clear();
    orphans.clear();
    dependents.clear();
    QList<quint64> touched;
    QStringList added;
    const auto has = [this](quint64 id) { return rowOf(id) >= 0; };
    keepers.clear();
    keeperSet.clear();
    // Within a reset: views read keeperNames() on modelReset, no keeperAdded.
    for (const TaskInfo &info : rows) {
        link(info, has, touched);
        noteKeeper(info.keeperName(), added);
    }
}

void MonitorModelPrivate::emitTouched(QList<quint64> &touched)
{
    if (touched.isEmpty())
        return;
    std::vector<int> changedRows;
    changedRows.reserve(std::size_t(touched.size()));
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (quint64 id : std::as_const(touched)) {
        if (const int row = rowOf(id); row >= 0)
            changedRows.push_back(row);
    }
    touched.clear();
    emitChanged(changedRows);
}

void MonitorModelPrivate::noteKeeper(const QString &name, QStringList &added)
{
    if (name.isEmpty() || keeperSet.contains(name))
        return;
    keeperSet.insert(name);
    keepers.append(name);
    added.append(name);
}

void MonitorModelPrivate::resetTo(const QList<TaskInfo> &live, const QList<TaskInfo> &finished)
{
    rows.clear();
    finishedKept = failedKept = 0;
    std::vector<const TaskInfo *> all;
    all.reserve(std::size_t(live.size() + finished.size()));
    for (const TaskInfo &info : finished)
        all.push_back(&info);
    for (const TaskInfo &info : live)
        all.push_back(&info);
    std::stable_sort(all.begin(), all.end(),
        [](const TaskInfo *a, const TaskInfo *b) { return a->id() < b->id(); });
    for (const TaskInfo *info : all) {
        if (!rows.empty() && rows.back().id() == info->id())
            continue;
        rows.push_back(*info);
        count(info->state(), 1);
    }
    linkAll();
}

void MonitorModelPrivate::insert(const std::vector<const TaskInfo *> &added)
{
    // \a added is sorted by id and holds no id of a row.
    if (rows.empty() || added.front()->id() > rows.back().id()) {
        const int first = int(rows.size());
        q->beginInsertRows(QModelIndex(), first, first + int(added.size()) - 1);
        for (const TaskInfo *info : added) {
            rows.push_back(*info);
            count(info->state(), 1);
        }
        q->endInsertRows();
        return;
    }
    // Some belong between rows (a task first seen late): one insert per place, from the last
    // place to the first, so that the earlier places keep their row numbers.
    auto end = added.end();
    while (end != added.begin()) {
        const quint64 id = (*(end - 1))->id();
        const auto place = std::upper_bound(
            rows.begin(), rows.end(), id, [](quint64 i, const TaskInfo &r) { return i < r.id(); });
        // The added tasks that go to the same place: those above the row before it.
        const quint64 floor = place == rows.begin() ? 0 : (place - 1)->id();
        auto begin = end - 1;
        while (begin != added.begin() && (*(begin - 1))->id() > floor)
            --begin;
        const int row = int(place - rows.begin());
        const int n = int(end - begin);
        q->beginInsertRows(QModelIndex(), row, row + n - 1);
        std::vector<TaskInfo> block;
        block.reserve(std::size_t(n));
        for (auto it = begin; it != end; ++it) {
            block.push_back(**it);
            count((*it)->state(), 1);
        }
        rows.insert(rows.begin() + row, block.begin(), block.end());
        q->endInsertRows();
        end = begin;
    }
}

void MonitorModelPrivate::emitChanged(std::vector<int> &changedRows)
{
    if (changedRows.empty())
        return;
    std::sort(changedRows.begin(), changedRows.end());
    // Runs of changed rows, close ones merged: at most about kMaxChangedRanges signals, each
    // over a few unchanged rows at worst (which views take as a repaint).
    const int span = changedRows.back() - changedRows.front() + 1;
    const int maxGap = std::max(8, span / kMaxChangedRanges);
    const int lastColumn = MonitorModel::ColumnCount - 1;
    int first = changedRows.front();
    int last = first;
    for (int row : changedRows) {
        if (row - last > maxGap) {
            Q_EMIT q->dataChanged(q->index(first, 0), q->index(last, lastColumn));
            first = row;
        }
        last = row;
    }
    Q_EMIT q->dataChanged(q->index(first, 0), q->index(last, lastColumn));
}

quint64 MonitorModelPrivate::trimAdded(std::vector<const TaskInfo *> &added) const
{
    // A batch with more finished tasks than the caps keep (a flood) would insert rows only to
    // evict them at once: the oldest of them are counted as dropped instead.
    qsizetype finished = 0;
    qsizetype failed = 0;
    for (const TaskInfo *info : added) {
        finished += isKeptFinished(info->state());
        failed += info->state() == TaskState::Failed;
    }
    qsizetype skipFinished = std::max<qsizetype>(finished - evictionTarget(maxFinished), 0);
    qsizetype skipFailed = std::max<qsizetype>(failed - evictionTarget(maxFailed), 0);
    if (skipFinished == 0 && skipFailed == 0)
        return 0;
    const quint64 skipped = quint64(skipFinished + skipFailed);
    const auto keep = [&](const TaskInfo *info) {
        if (skipFinished > 0 && isKeptFinished(info->state())) {
            --skipFinished;
            return false;
        }
        if (skipFailed > 0 && info->state() == TaskState::Failed) {
            --skipFailed;
            return false;
        }
        return true;
    };
    added.erase(std::stable_partition(added.begin(), added.end(), keep), added.end());
    return skipped;
}

bool MonitorModelPrivate::evict()
{
    qsizetype excessFinished
        = finishedKept > maxFinished ? finishedKept - evictionTarget(maxFinished) : 0;
    qsizetype excessFailed = failedKept > maxFailed ? failedKept - evictionTarget(maxFailed) : 0;
    if (excessFinished == 0 && excessFailed == 0)
        return false;
    // The oldest first: rows are in the order tasks appeared.
    std::vector<int> evicted;
    evicted.reserve(std::size_t(excessFinished + excessFailed));
    for (std::size_t row = 0; row < rows.size() && (excessFinished > 0 || excessFailed > 0);
         ++row) {
        const TaskState state = rows[row].state();
        if (excessFinished > 0 && isKeptFinished(state)) {
            evicted.push_back(int(row));
            --excessFinished;
        } else if (excessFailed > 0 && state == TaskState::Failed) {
            evicted.push_back(int(row));
            --excessFailed;
        }
    }
    if (evicted.empty())
        return false;
    std::vector<TaskInfo> gone;
    gone.reserve(evicted.size());
    for (int row : evicted)
        gone.push_back(rows[std::size_t(row)]);
    removeRows(evicted);
    QList<quint64> touched;
    unlink(gone, touched);
    emitTouched(touched);
    dropped += evicted.size();
    Q_EMIT q->droppedCountChanged(dropped);
    return true;
}

void MonitorModelPrivate::removeRows(const std::vector<int> &evicted)
{
    for (int row : evicted)
        count(rows[std::size_t(row)].state(), -1);
    // Contiguous ranges of evicted rows, as [first, last].
    std::vector<std::pair<int, int>> ranges;
    for (int row : evicted) {
        if (!ranges.empty() && ranges.back().second + 1 == row)
            ranges.back().second = row;
        else
            ranges.emplace_back(row, row);
    }
    if (ranges.size() <= kMaxRemovedRanges) {
        // Back to front, so that the earlier ranges keep their row numbers.
        for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) {
            q->beginRemoveRows(QModelIndex(), it->first, it->second);
            rows.erase(rows.begin() + it->first, rows.begin() + it->second + 1);
            q->endRemoveRows();
        }
        return;
    }
    // Many ranges (failures or live tasks between the evicted ones): remove the whole span and
    // insert the kept rows back where it began. The kept rows stay in their order, so the rows
    // stay sorted; views lose their selection on them (MonitorWidget selects its task again by
    // id).
    const int first = ranges.front().first;
    const int last = ranges.back().second;
    q->beginRemoveRows(QModelIndex(), first, last);
    std::vector<TaskInfo> kept;
    kept.reserve(std::size_t(last - first + 1) - evicted.size());
    auto next = evicted.begin();
    for (int row = first; row <= last; ++row) {
        if (next != evicted.end() && *next == row)
            ++next;
        else
            kept.push_back(std::move(rows[std::size_t(row)]));
    }
    rows.erase(rows.begin() + first, rows.begin() + last + 1);
    q->endRemoveRows();
    if (kept.empty())
        return;
    q->beginInsertRows(QModelIndex(), first, first + int(kept.size()) - 1);
    rows.insert(rows.begin() + first, std::make_move_iterator(kept.begin()),
        std::make_move_iterator(kept.end()));
    q->endInsertRows();
}

MonitorModel::MonitorModel(QObject *parent)
    : QAbstractTableModel(parent)
    , d(std::make_unique<MonitorModelPrivate>(this))
{ }

MonitorModel::~MonitorModel() = default;

int MonitorModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(d->rows.size());
}

int MonitorModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant MonitorModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return QVariant();
    const TaskInfo &info = d->rows[std::size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case IdColumn:
            return info.id();
        case TitleColumn: {
            // Folded continuations are counted on their root; a continuation shown says it is
            // one with an arrow, as a tree view would with indentation.
            const int n = d->folded.value(info.id()).size();
            QString title
                = d->root.contains(info.id()) ? QStringLiteral("↳ ") + info.title() : info.title();
            if (n > 0)
                title += QStringLiteral("  (+%1)").arg(n);
            return title;
        }
        case KeeperColumn:
            return info.keeperName();
        case StateColumn:
            if (!d->liveStateNote.isEmpty() && !isFinal(info.state()))
                return monitor::stateName(info.state()) + QStringLiteral(" — ") + d->liveStateNote;
            if (info.state() == TaskState::Running && info.isCancellationRequested())
                return tr("Running — cancelling…");
            if (info.isTimedOut())
                return tr("Failed — timed out");
            return monitor::stateName(info.state());
        case ProgressColumn:
            return monitor::progressLabel(info);
        case PriorityColumn:
            return info.priority();
        case WorkerColumn:
            return info.workerIndex() >= 0 ? QVariant(info.workerIndex()) : QVariant();
        case QueuedAtColumn:
            return info.queuedAtNsecs() > 0
                ? info.queuedAt().time().toString(QStringLiteral("HH:mm:ss.zzz"))
                : QString();
        case WaitColumn:
            return monitor::formatDuration(info.waitNsecs());
        case RunTimeColumn:
            return monitor::formatDuration(info.runNsecs());
        case ErrorColumn: {
            const QString error = info.errorString();
            const qsizetype newline = error.indexOf(QLatin1Char('\n'));
            return newline < 0 ? error : error.left(newline) + QStringLiteral(" …");
        }
        }
        break;
    case Qt::ToolTipRole:
        if (index.column() == ErrorColumn || index.column() == TitleColumn) {
            const QString text = index.column() == ErrorColumn ? info.errorString() : info.title();
            return text.isEmpty() ? QVariant() : QVariant(text);
        }
        break;
    case Qt::DecorationRole:
        if (index.column() == StateColumn)
            return stateIcon(info.state());
        break;
    case Qt::ForegroundRole:
        if (index.column() == ErrorColumn
            || (index.column() == StateColumn && info.state() == TaskState::Failed))
            return QBrush(monitor::stateColor(TaskState::Failed));
        break;
    case Qt::TextAlignmentRole:
        switch (index.column()) {
        case IdColumn:
        case PriorityColumn:
        case WorkerColumn:
        case WaitColumn:
        case RunTimeColumn:
            return int(Qt::AlignRight | Qt::AlignVCenter);
        default:
            break;
        }
        break;
    case SortRole:
        switch (index.column()) {
        case IdColumn:
            return info.id();
        case TitleColumn:
            return info.title();
        case KeeperColumn:
            return info.keeperName();
        case StateColumn:
            return int(info.state());
        case ProgressColumn:
            return monitor::progressFraction(info);
        case PriorityColumn:
            return info.priority();
        case WorkerColumn:
            return info.workerIndex();
        case QueuedAtColumn:
            return info.queuedAtNsecs();
        case WaitColumn:
            return info.waitNsecs();
        case RunTimeColumn:
            return info.runNsecs();
        case ErrorColumn:
            return info.errorString();
        }
        break;
    case TaskInfoRole:
        return QVariant::fromValue(info);
    case IdRole:
        return info.id();
    case StateRole:
        return QVariant::fromValue(info.state());
    case RootIdRole:
        return d->root.value(info.id(), 0);
    case FoldedCountRole:
        return int(d->folded.value(info.id()).size());
    case ProgressRole:
        return monitor::progressFraction(info);
    default:
        break;
    }
    return QVariant();
}

QVariant MonitorModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (section) {
        case IdColumn:
            return tr("Id");
        case TitleColumn:
            return tr("Title");
        case KeeperColumn:
            return tr("Keeper");
        case StateColumn:
            return tr("State");
        case ProgressColumn:
            return tr("Progress");
        case PriorityColumn:
            return tr("Priority");
        case WorkerColumn:
            return tr("Worker");
        case QueuedAtColumn:
            return tr("Queued at");
        case WaitColumn:
            return tr("Wait");
        case RunTimeColumn:
            return tr("Run time");
        case ErrorColumn:
            return tr("Error");
        }
    } else if (role == Qt::ToolTipRole) {
        switch (section) {
        case WaitColumn:
            return tr("Time spent queued, until a worker started the task (or it was cancelled)");
        case RunTimeColumn:
            return tr("Time the task ran, from start to end");
        case WorkerColumn:
            return tr("The keeper's worker thread that ran the task");
        case TitleColumn:
            return tr("(+N): continuations folded under the task; ↳: a continuation");
        case ProgressColumn:
            return tr("What the task reported through its pk::TaskContext");
        default:
            break;
        }
    }
    return QVariant();
}

QHash<int, QByteArray> MonitorModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractTableModel::roleNames();
    names.insert(TaskInfoRole, "taskInfo");
    names.insert(IdRole, "taskId");
    names.insert(StateRole, "state");
    names.insert(SortRole, "sortValue");
    names.insert(RootIdRole, "rootId");
    names.insert(FoldedCountRole, "foldedCount");
    return names;
}

const TaskInfo &MonitorModel::taskAt(int row) const
{
    Q_ASSERT(row >= 0 && std::size_t(row) < d->rows.size());
    return d->rows[std::size_t(row)];
}

int MonitorModel::rowOf(quint64 taskId) const
{
    return d->rowOf(taskId);
}

QModelIndex MonitorModel::indexOf(quint64 taskId, int column) const
{
    const int row = rowOf(taskId);
    return row < 0 ? QModelIndex() : index(row, column);
}

quint64 MonitorModel::rootOf(quint64 taskId) const
{
    return d->root.value(taskId, 0);
}

int MonitorModel::foldedCount(quint64 taskId) const
{
    return int(d->folded.value(taskId).size());
}

QList<quint64> MonitorModel::foldedUnder(quint64 taskId) const
{
    QList<quint64> ids = d->folded.value(taskId);
    std::sort(ids.begin(), ids.end()); // a late root adopts continuations out of order
    return ids;
}

QList<quint64> MonitorModel::dependentsOf(quint64 taskId) const
{
    QList<quint64> ids = d->dependents.value(taskId);
    std::sort(ids.begin(), ids.end());
    return ids;
}

QStringList MonitorModel::keeperNames() const
{
    return d->keepers;
}

int MonitorModel::maxFinished() const
{
    return d->maxFinished;
}

void MonitorModel::setMaxFinished(int count)
{
    d->maxFinished = std::max(1, count);
    d->evict();
    Q_EMIT changesApplied();
}

int MonitorModel::maxFailed() const
{
    return d->maxFailed;
}

void MonitorModel::setMaxFailed(int count)
{
    d->maxFailed = std::max(1, count);
    d->evict();
    Q_EMIT changesApplied();
}

quint64 MonitorModel::droppedCount() const
{
    return d->dropped;
}

QString MonitorModel::liveStateNote() const
{
    return d->liveStateNote;
}

void MonitorModel::setLiveStateNote(const QString &note)
{
    if (note == d->liveStateNote)
        return;
    d->liveStateNote = note;
    // Once per disconnect or recording, not per batch: one change over the column.
    if (!d->rows.empty())
        Q_EMIT dataChanged(index(0, StateColumn), index(rowCount() - 1, StateColumn));
}

int MonitorModel::finishedKept() const
{
    return int(d->finishedKept);
}

int MonitorModel::failedKept() const
{
    return int(d->failedKept);
}

void MonitorModel::applySnapshot(
    const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished)
{
    beginResetModel();
    d->resetTo(live, recentlyFinished);
    endResetModel();
    d->evict();
    Q_EMIT changesApplied();
}

void MonitorModel::applyChanges(const QList<TaskInfo> &changes)
{
    if (changes.isEmpty())
        return;
    std::vector<int> changedRows;
    std::vector<const TaskInfo *> added;
    const quint64 lastId = d->rows.empty() ? 0 : d->rows.back().id();
    for (const TaskInfo &info : changes) {
        // Above the last row: new, no search (the common case in a flood).
        const int row = info.id() > lastId ? -1 : rowOf(info.id());
        if (row < 0) {
            added.push_back(&info);
            continue;
        }
        TaskInfo &current = d->rows[std::size_t(row)];
        // A state never goes back: a change older than what the model shows is stale.
        if (info.state() < current.state())
            continue;
        d->count(current.state(), -1);
        d->count(info.state(), 1);
        current = info;
        changedRows.push_back(row);
    }
    d->emitChanged(changedRows);

    quint64 skipped = 0;
    if (!added.empty()) {
        // In id order (submission order), whatever order their last changes came in.
        const auto byId = [](const TaskInfo *a, const TaskInfo *b) { return a->id() < b->id(); };
        if (!std::is_sorted(added.begin(), added.end(), byId))
            std::stable_sort(added.begin(), added.end(), byId);
        // A task new to the model twice in one batch: its latest state, once.
        const auto last = std::unique(
            added.begin(), added.end(), [](const TaskInfo *&kept, const TaskInfo *next) {
                if (kept->id() != next->id())
                    return false;
                if (next->state() >= kept->state())
                    kept = next;
                return true;
            });
        added.erase(last, added.end());
        skipped = d->trimAdded(added);
    }
    QStringList newKeepers;
    QList<quint64> touched;
    if (!added.empty()) {
        // Linked before the rows go in, so that a filter sees where each new row folds.
        QSet<quint64> batch;
        batch.reserve(qsizetype(added.size()));
        for (const TaskInfo *info : added)
            batch.insert(info->id());
        const auto has
            = [this, &batch](quint64 id) { return batch.contains(id) || rowOf(id) >= 0; };
        for (const TaskInfo *info : added) {
            d->link(*info, has, touched);
            d->noteKeeper(info->keeperName(), newKeepers);
        }
        d->insert(added);
    }
    d->emitTouched(touched);
    for (const QString &name : std::as_const(newKeepers))
        Q_EMIT keeperAdded(name);
    if (skipped > 0) {
        d->dropped += skipped;
        if (!d->evict()) // which signals the new count too
            Q_EMIT droppedCountChanged(d->dropped);
    } else {
        d->evict();
    }
    Q_EMIT changesApplied();
}

void MonitorModel::clear()
{
    beginResetModel();
    d->resetTo({}, {});
    endResetModel();
    Q_EMIT changesApplied();
}

} // namespace pk
