#include "monitorstyle_p.h"
#include "protocol_p.h"
#include "timelineview_p.h"

#include <pk/monitormodel.h>

#include <QtCore/QStringList>
#include <QtGui/QFontMetrics>
#include <QtGui/QHelpEvent>
#include <QtGui/QMouseEvent>
#include <QtGui/QPainter>
#include <QtGui/QPainterPath>
#include <QtGui/QWheelEvent>
#include <QtWidgets/QApplication>
#include <QtWidgets/QToolTip>

#include <algorithm>
#include <cmath>
#include <limits>

namespace pk::monitor {

namespace {
constexpr qint64 kMsNs = 1000 * 1000;
constexpr qint64 kSecNs = 1000 * kMsNs;
constexpr qint64 kMinSpanNs = kMsNs; // 1 ms across the whole width
constexpr qint64 kMaxSpanNs = 3600 * kSecNs;
constexpr int kLabelWidth = 74;
constexpr int kAxisHeight = 18;
// Every worker an attached program may name gets its lane.
static_assert(TimelineView::kMaxLanes >= protocol::kMaxThreadCount);

// A pixel coordinate computed in floating point, for an int: times far outside the view (a
// task of last week, a timestamp from a broken file) would not fit. Anything off the widget
// is as good as one pixel past its edge.
int toPixel(double x, int min, int max)
{
    return int(std::clamp(x, double(min) - 1.0, double(max) + 1.0));
}

constexpr qint64 kOpenEnd = std::numeric_limits<qint64>::max(); // a busy stretch not over yet
constexpr int kMinTitleWidth = 36; // narrower bars get no title: it would be all ellipsis

// A step of the time axis that gives labels at least \a spacingPx apart, or, in a view too
// narrow for that, the longest step that still puts one tick in the span.
qint64 niceStep(qint64 spanNs, int widthPx, int spacingPx)
{
    const double target = double(spanNs) * spacingPx / std::max(widthPx, 1);
    static const qint64 steps[] = { 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000,
        kMsNs, 2 * kMsNs, 5 * kMsNs, 10 * kMsNs, 20 * kMsNs, 50 * kMsNs, 100 * kMsNs, 200 * kMsNs,
        500 * kMsNs, kSecNs, 2 * kSecNs, 5 * kSecNs, 10 * kSecNs, 15 * kSecNs, 30 * kSecNs,
        60 * kSecNs, 120 * kSecNs, 300 * kSecNs, 600 * kSecNs, 1800 * kSecNs };
    qint64 fitting = steps[0];
    for (qint64 s : steps) {
        if (double(s) >= target)
            return s <= spanNs ? s : fitting;
        if (s <= spanNs)
            fitting = s;
    }
    return std::min(3600 * kSecNs, fitting);
}

QString offsetLabel(qint64 ns, qint64 step)
{
    if (ns == 0)
        return QStringLiteral("now");
    const double v = double(ns);
    if (step >= kSecNs)
        return QStringLiteral("%1 s").arg(v / 1e9, 0, 'f', 0);
    if (step >= kMsNs)
        return QStringLiteral("%1 s").arg(v / 1e9, 0, 'f', step >= 100 * kMsNs ? 1 : 3);
    return QStringLiteral("%1 ms").arg(v / 1e6, 0, 'f', 3);
}

// The wall-clock time of \a wallNs (nanoseconds since 1970) for a tick every \a step: seconds,
// milliseconds when the step is below a second, microseconds below a millisecond.
QString clockLabel(qint64 wallNs, qint64 step)
{
    const QString time = QDateTime::fromMSecsSinceEpoch(wallNs / kMsNs)
                             .time()
                             .toString(step >= kSecNs ? QStringLiteral("HH:mm:ss")
                                                      : QStringLiteral("HH:mm:ss.zzz"));
    if (step >= kMsNs)
        return time;
    return time + QStringLiteral("%1").arg((wallNs / 1000) % 1000, 3, 10, QLatin1Char('0'));
}

QFont scaledFont(const QFont &font, double factor)
{
    QFont small = font;
    small.setPointSizeF(small.pointSizeF() * factor);
    return small;
}
} // namespace

TimelineView::TimelineView(QWidget *parent)
    : QWidget(parent)
    , m_spanNs(10 * kSecNs)
{
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMouseTracking(false);
}

QSize TimelineView::sizeHint() const
{
    return { 600, 180 };
}

QSize TimelineView::minimumSizeHint() const
{
    return { 200, 90 };
}

TimelineView::Lane *TimelineView::lane(int worker)
{
    // The lanes are a vector up to the highest worker seen: an index from elsewhere must not
    // size it (2^31 lanes would not fit in memory).
    if (worker < 0 || worker >= kMaxLanes)
        return nullptr;
    if (std::size_t(worker) >= m_lanes.size())
        m_lanes.resize(std::size_t(worker) + 1);
    return &m_lanes[std::size_t(worker)];
}

void TimelineView::insertSorted(std::deque<Bar> &bars, Bar bar)
{
    if (bars.empty() || bars.back().start <= bar.start) {
        bars.push_back(bar);
    } else {
        // Out of order (a snapshot, another keeper's batch): rare, keep the lane sorted.
        const auto at = std::upper_bound(bars.begin(), bars.end(), bar.start,
            [](qint64 s, const Bar &b) { return s < b.start; });
        bars.insert(at, bar);
    }
    if (bars.size() > kMaxBarsPerLane)
        bars.pop_front();
}

void TimelineView::addTasks(const QList<TaskInfo> &tasks)
{
    for (const TaskInfo &info : tasks) {
        if (info.workerIndex() < 0 || info.startedAtNsecs() <= 0)
            continue; // never ran on a worker: nothing to draw in a lane
        const int worker = laneOf(info.keeperName(), info.workerIndex());
        Lane *found = worker >= 0 ? lane(worker) : nullptr;
        if (!found) {
            ++m_undrawn;
            continue;
        }
        Lane &l = *found;
        if (info.state() == TaskState::Running) {
            if (l.runningId != 0 && l.runningId != info.id()) {
                // Started while another runs on its worker: inside it (the other waits).
                l.outerRunning.push_back({ l.runningStart, 0, l.runningId });
                if (l.outerRunning.size() > kMaxNesting)
                    l.outerRunning.erase(l.outerRunning.begin());
            }
            l.runningId = info.id();
            l.runningStart = info.startedAtNsecs();
            rememberTitle(info);
            continue;
        }
        if (!isFinal(info.state()) || info.finishedAtNsecs() <= 0)
            continue;
        const Bar bar { info.startedAtNsecs(), info.finishedAtNsecs(), info.id() };
        const bool failed = info.state() == TaskState::Failed;
        rememberTitle(info);
        bool nested = false;
        if (l.runningId == info.id()) {
            nested = !l.outerRunning.empty();
            l.runningId = nested ? l.outerRunning.back().id : 0;
            l.runningStart = nested ? l.outerRunning.back().start : 0;
            if (nested)
                l.outerRunning.pop_back();
        } else {
            const auto outer = std::find_if(l.outerRunning.begin(), l.outerRunning.end(),
                [&](const Bar &b) { return b.id == info.id(); });
            if (outer != l.outerRunning.end())
                l.outerRunning.erase(outer); // its nested tasks' ends were not received
        }
        addFinishedBar(l, bar, failed, nested);
    }
    update();
}

void TimelineView::addFinishedBar(Lane &l, const Bar &bar, bool failed, bool nested)
{
    // A bar inside another finished one (tasks that arrived after their outer task, as in a
    // snapshot) is nested too; one around finished bars takes them inside. Both only where
    // the bar starts before the last one ended: not in the common case, one task after another.
    if (!nested && !l.bars.empty() && bar.start < l.bars.back().end) {
        const auto after = std::upper_bound(l.bars.begin(), l.bars.end(), bar.start,
            [](qint64 t, const Bar &b) { return t < b.start; });
        if (after != l.bars.begin()) {
            const Bar &before = *(after - 1);
            nested = bar.start < before.end && bar.end <= before.end && before.id != bar.id;
        }
        auto inside = after;
        while (
            !nested && inside != l.bars.end() && inside->start < bar.end && inside->end <= bar.end)
            ++inside;
        for (auto it = after; it != inside; ++it) {
            insertSorted(l.nested, *it);
            const auto f = std::lower_bound(l.failures.begin(), l.failures.end(), it->start,
                [](const Bar &b, qint64 t) { return b.start < t; });
            if (f != l.failures.end() && f->id == it->id) {
                insertSorted(l.nestedFailures, *it);
                l.failures.erase(f);
            }
        }
        l.bars.erase(after, inside);
    }
    if (nested) {
        insertSorted(l.nested, bar);
        if (failed)
            insertSorted(l.nestedFailures, bar);
        return;
    }
    insertSorted(l.bars, bar);
    if (failed)
        insertSorted(l.failures, bar);
}

void TimelineView::addQueueDepth(qint64 timeNs, qint64 depth)
{
    if (!m_queue.empty() && m_queue.back().depth == depth && m_queue.size() > 1
        && m_queue[m_queue.size() - 2].depth == depth) {
        m_queue.back().time = timeNs; // a flat stretch needs two points only
    } else {
        m_queue.push_back({ timeNs, depth });
    }
    if (m_queue.size() > kMaxQueueSamples)
        m_queue.pop_front();
}

void TimelineView::setKeepers(const QList<KeeperStatus> &keepers)
{
    std::vector<KeeperLanes> blocks;
    int next = 0;
    for (const KeeperStatus &k : keepers) {
        // The lane cap bounds the sum: a feed that claims a million threads gets kMaxLanes.
        const int count = std::clamp(k.threadCount, 0, kMaxLanes - next);
        blocks.push_back({ k.name, next, count });
        next += count;
    }
    const auto same = [](const KeeperLanes &a, const KeeperLanes &b) {
        return a.name == b.name && a.first == b.first && a.count == b.count;
    };
    if (std::equal(blocks.begin(), blocks.end(), m_keepers.begin(), m_keepers.end(), same))
        return;
    // The lanes of the old layout belong to other workers now: they start again.
    m_keepers = std::move(blocks);
    m_lanes.clear();
    m_aggregatedNow.clear();
    m_threadCount = next;
    update();
}

void TimelineView::setOccupancy(
    qint64 timeNs, const QList<KeeperStatus> &keepers, quint64 droppedDetail)
{
    if (droppedDetail > 0)
        m_detailIncomplete = true;
    if (!m_detailIncomplete)
        return;
    int busyInAll = 0;
    for (const KeeperStatus &k : keepers) {
        int first = 0;
        int count = m_threadCount;
        if (!m_keepers.empty()) {
            const auto it = std::find_if(m_keepers.begin(), m_keepers.end(),
                [&](const KeeperLanes &l) { return l.name == k.name; });
            if (it == m_keepers.end())
                continue;
            first = it->first;
            count = it->count;
        }
        count = std::clamp(count, 0, kMaxLanes - first);
        int known = 0;
        for (int i = first; i < first + count; ++i)
            known += std::size_t(i) < m_lanes.size() && m_lanes[std::size_t(i)].runningId != 0;
        // The counts come from the source and may be anything: never more lanes than it has.
        qint64 wanted = std::clamp<qint64>(k.counts.running - known, 0, count - known);
        const int busy = int(wanted);
        // The lowest idle lanes take the busy stretches, the same ones batch after batch, so
        // that a flood draws as one band per lane rather than as flicker.
        for (int i = first; i < first + count; ++i) {
            const bool open = std::size_t(i) < m_lanes.size()
                && !m_lanes[std::size_t(i)].aggregated.empty()
                && m_lanes[std::size_t(i)].aggregated.back().end == kOpenEnd;
            const bool idle
                = std::size_t(i) >= m_lanes.size() || m_lanes[std::size_t(i)].runningId == 0;
            if (idle && wanted > 0) {
                --wanted;
                if (!open) {
                    Lane *l = lane(i);
                    l->aggregated.push_back({ timeNs, kOpenEnd, 0 });
                    if (l->aggregated.size() > kMaxBarsPerLane)
                        l->aggregated.pop_front();
                }
            } else if (open) {
                Bar &last = m_lanes[std::size_t(i)].aggregated.back();
                last.end = std::max(timeNs, last.start);
            }
        }
        m_aggregatedNow.insert(k.name, busy);
        busyInAll += busy;
    }
    // Counts and bars agree again: the stretches are closed, and the bars take over.
    if (busyInAll == 0 && droppedDetail == 0)
        m_detailIncomplete = false;
    update();
}

int TimelineView::aggregatedLaneCount(const QString &keeper) const
{
    return m_aggregatedNow.value(keeper, 0);
}

bool TimelineView::isAggregatedAt(int laneIndex, qint64 timeNs) const
{
    if (laneIndex < 0 || std::size_t(laneIndex) >= m_lanes.size())
        return false;
    const std::deque<Bar> &stretches = m_lanes[std::size_t(laneIndex)].aggregated;
    const auto it = std::lower_bound(stretches.begin(), stretches.end(), timeNs,
        [](const Bar &b, qint64 t) { return b.end < t; });
    return it != stretches.end() && it->start <= timeNs
        && (it->end != kOpenEnd || timeNs <= currentTime());
}

int TimelineView::labelWidth() const
{
    // Keeper names make labels longer than "worker 12": room for the longest, within reason.
    int width = kLabelWidth;
    const QFontMetrics metrics(scaledFont(font(), 0.9));
    for (const KeeperLanes &k : m_keepers)
        width = std::max(width, metrics.horizontalAdvance(laneLabel(k.first + k.count - 1)) + 12);
    return std::min(width, 240);
}

int TimelineView::laneOf(const QString &keeper, int worker) const
{
    if (m_keepers.empty())
        return worker; // one unnamed keeper: a lane per worker index, as before
    for (const KeeperLanes &k : m_keepers) {
        if (k.name == keeper)
            return worker < k.count ? k.first + worker : -1;
    }
    return -1;
}

QString TimelineView::laneLabel(int laneIndex) const
{
    for (const KeeperLanes &k : m_keepers) {
        if (laneIndex >= k.first && laneIndex < k.first + k.count)
            return tr("%1 · worker %2").arg(k.name).arg(laneIndex - k.first);
    }
    return tr("worker %1").arg(laneIndex);
}

void TimelineView::setThreadCount(int count)
{
    if (!m_keepers.empty())
        return; // the keepers' thread counts say how many lanes there are
    count = std::clamp(count, 0, kMaxLanes);
    if (count == m_threadCount)
        return;
    m_threadCount = count;
    update();
}

void TimelineView::clear()
{
    m_lanes.clear();
    m_queue.clear();
    m_aggregatedNow.clear();
    m_detailIncomplete = false;
    m_recentTitles.clear();
    m_recentOrder.clear();
    m_undrawn = 0;
    m_sourceGoneAt = 0;
    m_goneNote.clear();
    m_markers.clear();
    update();
}

void TimelineView::setModel(const MonitorModel *model)
{
    m_model = model;
    update();
}

const TaskInfo *TimelineView::taskInfo(quint64 taskId) const
{
    if (!m_model || taskId == 0)
        return nullptr;
    const int row = m_model->rowOf(taskId);
    return row >= 0 ? &m_model->taskAt(row) : nullptr;
}

void TimelineView::rememberTitle(const TaskInfo &info)
{
    if (info.title().isEmpty() || m_recentTitles.contains(info.id()))
        return;
    m_recentTitles.insert(info.id(), info.title());
    m_recentOrder.push_back(info.id());
    if (m_recentOrder.size() > kRecentTitles) {
        m_recentTitles.remove(m_recentOrder.front());
        m_recentOrder.pop_front();
    }
}

QString TimelineView::titleOf(quint64 taskId) const
{
    if (const TaskInfo *info = taskInfo(taskId); info && !info->title().isEmpty())
        return info->title();
    const QString recent = m_recentTitles.value(taskId);
    return recent.isEmpty() ? tr("task %1").arg(taskId) : recent;
}

void TimelineView::setSelectedTask(quint64 taskId)
{
    if (taskId == m_selectedTask)
        return;
    m_selectedTask = taskId;
    update();
}

void TimelineView::setSpan(qint64 nsecs)
{
    m_spanNs = std::clamp(nsecs, kMinSpanNs, kMaxSpanNs);
    update();
}

void TimelineView::setFollowingNow(bool follow)
{
    if (!follow && m_followNow)
        m_fixedEnd = currentTime();
    m_followNow = follow;
    update();
}

qint64 TimelineView::currentTime() const
{
    // A source that is gone has no "now": its running tasks stop where the data stopped.
    return m_sourceGoneAt > 0 ? m_sourceGoneAt : TaskInfo::monotonicNowNsecs();
}

void TimelineView::setSourceGoneAt(qint64 nsecs, const QString &note)
{
    m_sourceGoneAt = std::max<qint64>(nsecs, 0);
    m_goneNote
        = note.isEmpty() ? tr("program gone: running tasks unknown after the last data") : note;
    update();
}

void TimelineView::showRange(qint64 t0, qint64 t1)
{
    // A small margin, so that the first and last bars are not cut by the edges.
    const qint64 span = std::max<qint64>(t1 - t0, 1);
    m_followNow = false;
    m_fixedEnd = t1 + span / 50;
    setSpan(m_fixedEnd - (t0 - span / 50));
}

void TimelineView::addMarker(qint64 nsecs)
{
    m_markers.push_back(nsecs);
    update();
}

std::size_t TimelineView::barCount() const
{
    std::size_t n = 0;
    for (const Lane &l : m_lanes)
        n += l.bars.size() + l.nested.size();
    return n;
}

qint64 TimelineView::endTime() const
{
    return m_followNow ? currentTime() : m_fixedEnd;
}

QString TimelineView::noteText() const
{
    QStringList notes;
    if (m_sourceGoneAt > 0)
        notes << m_goneNote;
    if (m_undrawn > 0)
        notes << tr("%1 tasks of workers past %2 not drawn").arg(m_undrawn).arg(kMaxLanes - 1);
    const qint64 t1 = endTime();
    const qint64 t0 = t1 - m_spanNs;
    const bool aggregatedInView = std::any_of(m_lanes.begin(), m_lanes.end(), [&](const Lane &l) {
        const auto it = std::lower_bound(l.aggregated.begin(), l.aggregated.end(), t0,
            [](const Bar &b, qint64 t) { return b.end < t; });
        return it != l.aggregated.end() && it->start <= t1;
    });
    if (aggregatedInView)
        notes << tr("hatched: busy (aggregated), tasks not received in detail");
    if (!m_followNow)
        notes << tr("paused: double-click to follow");
    return notes.join(QStringLiteral(" · "));
}

QRect TimelineView::plotRect() const
{
    return layout().plot;
}

TimelineView::Layout TimelineView::layout() const
{
    Layout l;
    // The notes get a strip of their own under the lanes: over the lanes they would hide
    // bars, beside the axis they would collide with its labels.
    const QString notes = noteText();
    const QFontMetrics metrics(scaledFont(font(), 0.9));
    const int notesHeight = notes.isEmpty() ? 0 : metrics.height() + 4;
    l.plot = rect().adjusted(labelWidth(), kAxisHeight, -8, -4 - notesHeight);
    if (!notes.isEmpty()) {
        const int notesWidth = std::min(metrics.horizontalAdvance(notes) + 12, width() - 8);
        l.notes
            = QRect(width() - 4 - notesWidth, height() - notesHeight - 2, notesWidth, notesHeight);
    }
    l.t1 = endTime();
    l.t0 = l.t1 - m_spanNs;
    const int workerLanes = std::max({ m_threadCount, int(m_lanes.size()), 1 });
    l.laneCount = workerLanes + 1;
    l.laneHeight = std::clamp(l.plot.height() / l.laneCount, 8, 56);
    return l;
}

QRect TimelineView::laneBarsRect(const Layout &layout, int worker) const
{
    const int top = layout.plot.top() + (worker + 1) * layout.laneHeight;
    return QRect(layout.plot.left(), top, layout.plot.width(), layout.laneHeight)
        .adjusted(0, 3, 0, -3);
}

QRect TimelineView::noteRect() const
{
    return layout().notes;
}

QList<TimelineView::AxisLabel> TimelineView::axisLabels() const
{
    const Layout l = layout();
    QList<AxisLabel> labels;
    if (l.plot.width() <= 0)
        return labels;
    const QFontMetrics metrics(scaledFont(font(), 0.85));
    const qint64 now = currentTime();
    // Following, the ticks are offsets from "now" ("-10 s", "-5 s") that move with it; paused,
    // they are clock times that stay where they are, so that a bar keeps its label.
    const bool clock = !m_followNow;
    // Clock times are wider than offsets, and wider still with milliseconds or microseconds:
    // the step leaves room for the labels it needs.
    qint64 step = niceStep(m_spanNs, l.plot.width(), 90);
    if (clock) {
        for (const char *widest : { "00:00:00", "00:00:00.000", "00:00:00.000000" }) {
            const int spacing = metrics.horizontalAdvance(QLatin1String(widest)) + 20;
            step = niceStep(m_spanNs, l.plot.width(), spacing);
            if (clockLabel(0, step).size() <= qsizetype(qstrlen(widest)))
                break;
        }
    }
    // TaskInfo::toDateTime() gives milliseconds: the wall clock's offset from the monotonic one
    // is known to a millisecond, which is what the table's times show as well.
    const qint64 wallOffset
        = clock ? TaskInfo::toDateTime(now).toMSecsSinceEpoch() * kMsNs - now : 0;
    const qint64 origin = clock ? -wallOffset : now; // where a tick falls on a multiple of step
    const auto floorDiv
        = [](qint64 a, qint64 b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); };
    const qint64 firstTick = origin + (floorDiv(l.t0 - origin, step) + 1) * step;
    QRect previous;
    for (qint64 t = firstTick; t <= l.t1; t += step) {
        const int x = l.plot.left() + int(double(t - l.t0) * l.plot.width() / double(m_spanNs));
        const QString text = clock ? clockLabel(t + wallOffset, step) : offsetLabel(t - now, step);
        const int w = metrics.horizontalAdvance(text) + 6;
        QRect r(x - w / 2, 0, w, kAxisHeight - 2);
        // Labels at the edges slide inwards (the left one may reach over the lane names: the
        // axis row is free there), and one that would touch its neighbour is left out rather
        // than drawn over it.
        if (r.right() > width() - 2)
            r.moveRight(width() - 2);
        if (r.left() < 2)
            r.moveLeft(2);
        if (previous.isValid() && r.left() <= previous.right() + 4)
            continue;
        if (r.intersects(l.notes))
            continue;
        labels.append({ t, text, r });
        previous = r;
    }
    return labels;
}

const TimelineView::Bar *TimelineView::barAt(
    const Lane &lane, qint64 t, qint64 slackNs, bool *failed, bool nested) const
{
    const auto find = [&](const std::deque<Bar> &bars) -> const Bar * {
        auto it = std::lower_bound(bars.begin(), bars.end(), t - slackNs,
            [](const Bar &b, qint64 time) { return b.end < time; });
        // Of the bars within a pixel, the one that covers t, else the nearest.
        const Bar *best = nullptr;
        qint64 bestDistance = 0;
        for (; it != bars.end() && it->start <= t + slackNs; ++it) {
            const qint64 distance = t < it->start ? it->start - t : t > it->end ? t - it->end : 0;
            if (!best || distance < bestDistance) {
                best = &*it;
                bestDistance = distance;
            }
            if (distance == 0)
                break;
        }
        return best;
    };
    // Failures are painted over the others: they win.
    if (const Bar *bar = find(nested ? lane.nestedFailures : lane.failures)) {
        *failed = true;
        return bar;
    }
    *failed = false;
    return find(nested ? lane.nested : lane.bars);
}

TimelineView::Point TimelineView::pointAt(const QPoint &pos) const
{
    const Layout l = layout();
    Point p;
    if (!l.plot.contains(pos) || l.laneHeight <= 0)
        return p;
    const int worker = (pos.y() - l.plot.top()) / l.laneHeight - 1;
    if (worker < 0 || !laneBarsRect(l, worker).contains(pos))
        return p;
    const double nsPerPx = double(m_spanNs) / l.plot.width();
    p.worker = worker;
    p.time = l.t0 + qint64(double(pos.x() - l.plot.left()) * nsPerPx);
    // A bar shorter than a pixel is painted a pixel wide: it is hit a pixel wide too.
    p.slack = qint64(std::ceil(nsPerPx));
    return p;
}

quint64 TimelineView::taskAt(const QPoint &pos) const
{
    const Point p = pointAt(pos);
    if (p.worker < 0 || std::size_t(p.worker) >= m_lanes.size())
        return 0;
    const Lane &lane = m_lanes[std::size_t(p.worker)];
    const auto runningAt
        = [&](qint64 start) { return p.time + p.slack >= start && p.time <= currentTime(); };
    // What is painted over the rest first: a running task inside another, the finished
    // tasks that ran inside others, the running ones.
    const bool runningNested = lane.runningId != 0 && !lane.outerRunning.empty();
    if (runningNested && runningAt(lane.runningStart))
        return lane.runningId;
    bool failed = false;
    if (const Bar *bar = barAt(lane, p.time, p.slack, &failed, true))
        return bar->id;
    if (lane.runningId != 0 && !runningNested && runningAt(lane.runningStart))
        return lane.runningId;
    for (auto it = lane.outerRunning.rbegin(); it != lane.outerRunning.rend(); ++it) {
        if (runningAt(it->start))
            return it->id;
    }
    const Bar *bar = barAt(lane, p.time, p.slack, &failed);
    return bar ? bar->id : 0;
}

QRect TimelineView::barRect(quint64 taskId, const Layout &l) const
{
    const TaskInfo *info = taskInfo(taskId);
    if (!info || info->workerIndex() < 0 || info->startedAtNsecs() <= 0)
        return QRect();
    const int worker = laneOf(info->keeperName(), info->workerIndex());
    if (worker < 0 || std::size_t(worker) >= m_lanes.size())
        return QRect();
    const Lane &lane = m_lanes[std::size_t(worker)];
    qint64 start = 0;
    qint64 end = 0;
    bool nested = !lane.outerRunning.empty() && lane.runningId == taskId;
    const auto outer = std::find_if(lane.outerRunning.begin(), lane.outerRunning.end(),
        [&](const Bar &b) { return b.id == taskId; });
    if (lane.runningId == taskId || outer != lane.outerRunning.end()) {
        start = lane.runningId == taskId ? lane.runningStart : outer->start;
        end = currentTime();
    } else {
        // By its start: a binary search in its lane, not a pass over all the bars.
        const auto find = [&](const std::deque<Bar> &bars) -> const Bar * {
            auto it = std::lower_bound(bars.begin(), bars.end(), info->startedAtNsecs(),
                [](const Bar &b, qint64 t) { return b.start < t; });
            while (it != bars.end() && it->start == info->startedAtNsecs() && it->id != taskId)
                ++it;
            return it != bars.end() && it->id == taskId ? &*it : nullptr;
        };
        const Bar *bar = find(lane.bars);
        if (!bar) {
            bar = find(lane.nested);
            nested = bar != nullptr;
        }
        if (!bar)
            return QRect();
        start = bar->start;
        end = bar->end;
    }
    if (end < l.t0 || start > l.t1)
        return QRect();
    const QRect lanes = laneBarsRect(l, worker);
    const double pxPerNs = double(l.plot.width()) / double(m_spanNs);
    const int x0 = toPixel(
        l.plot.left() + (double(start) - double(l.t0)) * pxPerNs, l.plot.left(), l.plot.right());
    const int x1 = toPixel(
        l.plot.left() + (double(end) - double(l.t0)) * pxPerNs, l.plot.left(), l.plot.right());
    const QRect rect(x0, lanes.top(), std::max(x1 - x0, 1), lanes.height());
    return nested ? nestedRect(rect) : rect;
}

QRect TimelineView::laneRect(int laneIndex) const
{
    return laneBarsRect(layout(), laneIndex);
}

QRect TimelineView::taskRect(quint64 taskId) const
{
    return barRect(taskId, layout());
}

bool TimelineView::isSelectionShown() const
{
    return m_selectedTask != 0 && !taskRect(m_selectedTask).isEmpty();
}

QString TimelineView::toolTipAt(const QPoint &pos) const
{
    const Point p = pointAt(pos);
    const quint64 id = taskAt(pos);
    if (id == 0) {
        if (isAggregatedAt(p.worker, p.time))
            return tr("<b>busy (aggregated)</b><br>%1 ran tasks not received in detail: the "
                      "feed sent counts only, during a flood.")
                .arg(laneLabel(p.worker).toHtmlEscaped());
        return tr("Wheel: zoom. Drag: pan. Double click: back to now. Click a bar: select its "
                  "task.");
    }
    QString title;
    QString state;
    QString wait;
    QString run;
    const Lane &lane = m_lanes[std::size_t(p.worker)];
    if (const TaskInfo *info = taskInfo(id)) {
        title = info->title();
        state = stateName(info->state());
        wait = formatDuration(info->waitNsecs());
        run = info->state() == TaskState::Running
            ? tr("%1 so far").arg(formatDuration(currentTime() - info->startedAtNsecs()))
            : formatDuration(info->runNsecs());
    } else if (lane.runningId == id) {
        // Not in the table (evicted, or it arrived while the table was frozen): what the bar
        // itself knows.
        state = tr("%1 (not in the table)").arg(stateName(TaskState::Running));
        run = tr("%1 so far").arg(formatDuration(currentTime() - lane.runningStart));
    } else {
        bool failed = false;
        if (const Bar *bar = barAt(lane, p.time, p.slack, &failed))
            run = formatDuration(bar->end - bar->start);
        state = tr("%1 (not in the table)")
                    .arg(failed ? stateName(TaskState::Failed) : tr("finished"));
    }
    if (title.isEmpty())
        title = titleOf(id);
    const QString unknown = QStringLiteral("–");
    return tr("<b>%1</b><br>%2<br>State: %3<br>Queue wait: %4<br>Run time: %5")
        .arg(title.toHtmlEscaped(), laneLabel(p.worker).toHtmlEscaped(), state,
            wait.isEmpty() ? unknown : wait, run.isEmpty() ? unknown : run);
}

bool TimelineView::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        const auto *help = static_cast<QHelpEvent *>(event);
        QToolTip::showText(help->globalPos(), toolTipAt(help->pos()), this);
        return true;
    }
    return QWidget::event(event);
}

void TimelineView::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    const QPalette pal = palette();
    painter.fillRect(rect(), pal.color(QPalette::Base));
    const Layout l = layout();
    const QRect &plot = l.plot;
    if (plot.width() <= 0 || plot.height() <= 0)
        return;
    const qint64 now = currentTime();
    const qint64 t0 = l.t0;
    const qint64 t1 = l.t1;

    paintAxis(painter, l, axisLabels());

    painter.setFont(scaledFont(font(), 0.9));
    for (int i = 0; i < l.laneCount; ++i) {
        const QRect laneRect(
            plot.left(), plot.top() + i * l.laneHeight, plot.width(), l.laneHeight);
        if (laneRect.top() >= plot.bottom())
            break;
        if (i % 2 == 1)
            painter.fillRect(laneRect, pal.color(QPalette::AlternateBase));
        painter.setPen(pal.color(QPalette::Text));
        const QRect labelRect(4, laneRect.top(), labelWidth() - 8, l.laneHeight);
        if (i == 0) {
            painter.drawText(labelRect, Qt::AlignVCenter | Qt::AlignLeft, tr("queue"));
            paintQueue(painter, laneRect.adjusted(0, 2, 0, -2), t0, t1);
        } else {
            const int worker = i - 1;
            painter.setPen(worker < m_threadCount ? pal.color(QPalette::Text)
                                                  : pal.color(QPalette::PlaceholderText));
            painter.drawText(labelRect, Qt::AlignVCenter | Qt::AlignLeft, laneLabel(worker));
            if (std::size_t(worker) < m_lanes.size())
                paintLane(
                    painter, m_lanes[std::size_t(worker)], laneBarsRect(l, worker), t0, t1, now);
        }
    }
    // The selected task: an outline in the palette's highlight, with a ring of the base colour
    // inside so that it reads on any bar colour, light palette or dark.
    if (const QRect selected = barRect(m_selectedTask, l); !selected.isEmpty()) {
        painter.setBrush(Qt::NoBrush);
        painter.setPen(QPen(pal.color(QPalette::Base), 1));
        painter.drawRect(selected.adjusted(0, 0, -1, -1));
        painter.setPen(QPen(pal.color(QPalette::Highlight), 2));
        painter.drawRect(selected.adjusted(-2, -2, 1, 1));
    }
    // "now", when it is in view.
    const int lanesBottom = plot.top() + l.laneCount * l.laneHeight;
    if (now >= t0 && now <= t1) {
        const int x = plot.left() + int(double(now - t0) * plot.width() / double(m_spanNs));
        painter.setPen(QPen(pal.color(QPalette::Highlight), 1, Qt::DashLine));
        painter.drawLine(x, plot.top(), x, std::min(lanesBottom, plot.bottom()));
    }
    // Reconnections: where the data resumed after a gap.
    for (const qint64 marker : m_markers) {
        if (marker < t0 || marker > t1)
            continue;
        const int x = plot.left() + int(double(marker - t0) * plot.width() / double(m_spanNs));
        painter.setPen(QPen(pal.color(QPalette::Link), 2, Qt::SolidLine));
        painter.drawLine(x, plot.top(), x, std::min(lanesBottom, plot.bottom()));
    }
    if (!l.notes.isEmpty()) {
        painter.setPen(pal.color(QPalette::PlaceholderText));
        const QString text
            = painter.fontMetrics().elidedText(noteText(), Qt::ElideMiddle, l.notes.width() - 4);
        painter.drawText(l.notes, Qt::AlignCenter, text);
    }
}

void TimelineView::paintAxis(
    QPainter &painter, const Layout &layout, const QList<AxisLabel> &labels)
{
    const QPalette pal = palette();
    painter.setFont(scaledFont(font(), 0.85));
    for (const AxisLabel &label : labels) {
        const int x = layout.plot.left()
            + int(double(label.time - layout.t0) * layout.plot.width() / double(m_spanNs));
        painter.setPen(QPen(pal.color(QPalette::Mid), 1, Qt::DotLine));
        painter.drawLine(x, layout.plot.top(), x, layout.plot.bottom());
        painter.setPen(pal.color(QPalette::Text));
        painter.drawText(label.rect, Qt::AlignCenter, label.text);
    }
}

void TimelineView::paintLane(
    QPainter &painter, const Lane &lane, const QRect &rect, qint64 t0, qint64 t1, qint64 now)
{
    const double pxPerNs = double(rect.width()) / double(t1 - t0);
    const auto toX = [&](qint64 t) {
        return toPixel(double(rect.left()) + std::floor((double(t) - double(t0)) * pxPerNs),
            rect.left(), rect.right());
    };
    const auto paintRuns = [&](const std::deque<Bar> &bars, const QBrush &brush, int minWidth,
                               const QRect &area) {
        // The first bar that ends in view; bars are sorted by start, and by end too since a
        // worker runs one task at a time.
        auto it = std::lower_bound(
            bars.begin(), bars.end(), t0, [](const Bar &b, qint64 t) { return b.end < t; });
        const auto end = bars.end();
        // A run: bars merged because they share pixel columns, painted as one rectangle over
        // the columns [runX0, runX1).
        int runX0 = 0;
        int runX1 = 0;
        bool inRun = false;
        const auto flush = [&] {
            if (!inRun)
                return;
            int w = runX1 - runX0;
            // Back-to-back tasks wide enough to tell apart keep a pixel between them.
            if (w >= 5)
                --w;
            painter.fillRect(QRect(runX0, area.top(), std::max(w, minWidth), area.height()), brush);
        };
        // Busy stretches still open end at "now".
        const auto endX
            = [&](const Bar &b) { return toX(std::min(b.end, std::max(now, b.start))); };
        while (it != end && it->start <= t1) {
            // Columns [x0, x1): a task that ends where the next one starts does not share a
            // column with it, one shorter than a pixel still gets one.
            const int x0 = std::max(toX(it->start), rect.left());
            const int x1 = std::min(std::max(endX(*it), x0 + 1), rect.right() + 1);
            if (inRun && x0 < runX1) {
                runX1 = std::max(runX1, x1);
            } else {
                flush();
                inRun = true;
                runX0 = x0;
                runX1 = x1;
            }
            // Every bar that starts before the run's last column ends merges into it: skip
            // them with a binary search instead of one by one. The last of them has the latest
            // end, which is all the run needs.
            const qint64 columnEnd = t0 + qint64(std::ceil(double(runX1 - rect.left()) / pxPerNs));
            auto next = std::lower_bound(
                it + 1, end, columnEnd, [](const Bar &b, qint64 t) { return b.start < t; });
            if (next - it > 1) {
                it = next - 1;
                runX1 = std::max(runX1, std::min(endX(*it), rect.right() + 1));
            }
            ++it;
        }
        flush();
    };
    if (!lane.aggregated.empty()) {
        // Busy without detail: the running colour, faint, under a hatch, so that it reads as
        // "busy" without passing for tasks that are known.
        const QColor running = stateColor(TaskState::Running);
        QColor faint = running;
        faint.setAlpha(70);
        paintRuns(lane.aggregated, faint, 1, rect);
        paintRuns(lane.aggregated, QBrush(running, Qt::BDiagPattern), 1, rect);
    }
    paintRuns(lane.bars, stateColor(TaskState::Succeeded), 1, rect);
    paintRuns(lane.failures, stateColor(TaskState::Failed), 2, rect);
    const auto paintRunning = [&](qint64 start, const QRect &area, const QColor &color) {
        if (start > t1)
            return;
        const int x0 = std::max(toX(start), rect.left());
        const int x1 = std::min(toX(std::min(now, t1)), rect.right());
        painter.fillRect(QRect(x0, area.top(), std::max(x1 - x0 + 1, 2), area.height()), color);
    };
    // The running task is painted over the finished ones, and tasks run inside another's run
    // over that: a darker band in the lower part of their outer bar, so that both show.
    const bool runningNested = lane.runningId != 0 && !lane.outerRunning.empty();
    for (const Bar &outer : lane.outerRunning)
        paintRunning(outer.start, rect, stateColor(TaskState::Running));
    if (lane.runningId != 0 && !runningNested)
        paintRunning(lane.runningStart, rect, stateColor(TaskState::Running));
    constexpr int kNestedDarker = 140;
    const QRect inner = nestedRect(rect);
    paintRuns(lane.nested, stateColor(TaskState::Succeeded).darker(kNestedDarker), 1, inner);
    paintRuns(lane.nestedFailures, stateColor(TaskState::Failed).darker(kNestedDarker), 2, inner);
    if (runningNested)
        paintRunning(
            lane.runningStart, inner, stateColor(TaskState::Running).darker(kNestedDarker));
    paintTitles(painter, lane, rect, t0, t1, now);
}

QRect TimelineView::nestedRect(const QRect &lane)
{
    const int top = lane.top() + lane.height() * 2 / 5;
    return QRect(lane.left(), top, lane.width(), std::max(lane.bottom() + 1 - top, 1));
}

void TimelineView::paintTitles(
    QPainter &painter, const Lane &lane, const QRect &rect, qint64 t0, qint64 t1, qint64 now)
{
    const QFontMetrics metrics(painter.font());
    if (rect.height() < metrics.height() - 4)
        return;
    const double pxPerNs = double(rect.width()) / double(t1 - t0);
    const auto toX = [&](qint64 t) {
        return toPixel(double(rect.left()) + (double(t) - double(t0)) * pxPerNs, rect.left(),
            rect.right() + 1);
    };
    // The bars' colours are all mid-dark: white reads on each, in light and dark palettes.
    painter.setPen(Qt::white);
    const auto title = [&](quint64 id, int x0, int x1) {
        if (x1 - x0 < kMinTitleWidth)
            return;
        const QString text = titleOf(id);
        const QRect box(x0 + 3, rect.top(), x1 - x0 - 6, rect.height());
        painter.drawText(box, Qt::AlignVCenter | Qt::AlignLeft,
            metrics.elidedText(text, Qt::ElideRight, box.width()));
    };
    // Only bars at least kMinTitleWidth wide get a title: at most a few per lane. The walk
    // skips the bars of a pixel column with a binary search, as painting does, so that a
    // million narrow bars in view cost one step per column, not one per bar.
    const std::deque<Bar> &bars = lane.bars;
    auto it = std::lower_bound(
        bars.begin(), bars.end(), t0, [](const Bar &b, qint64 t) { return b.end < t; });
    while (it != bars.end() && it->start <= t1) {
        const int x0 = toX(it->start);
        const qint64 columnEnd = t0 + qint64(std::ceil(double(x0 + 1 - rect.left()) / pxPerNs));
        auto next = std::lower_bound(
            it + 1, bars.end(), columnEnd, [](const Bar &b, qint64 t) { return b.start < t; });
        // The last bar starting in this column ends last: the only one that may be wide.
        const Bar &widest = *(next - 1);
        // The running bar is painted over the others: a finished one that reaches under it (a
        // feed's clocks a little apart) gets its title only where it shows.
        const int end = lane.runningId != 0 && widest.start < lane.runningStart
            ? std::min(toX(widest.end), toX(lane.runningStart))
            : toX(widest.end);
        title(widest.id, std::max(toX(widest.start), rect.left()), end);
        it = next;
    }
    if (lane.runningId != 0 && lane.runningStart <= t1)
        title(
            lane.runningId, std::max(toX(lane.runningStart), rect.left()), toX(std::min(now, t1)));
}

void TimelineView::paintQueue(QPainter &painter, const QRect &rect, qint64 t0, qint64 t1)
{
    if (m_queue.empty() || rect.width() <= 0)
        return;
    auto first = std::lower_bound(m_queue.begin(), m_queue.end(), t0,
        [](const QueueSample &s, qint64 t) { return s.time < t; });
    if (first != m_queue.begin())
        --first; // the sample in force at t0
    // The deepest queue of each pixel column; -1 where nothing is known (before the first
    // sample, after "now"). Each sample holds until the next one: O(samples + columns).
    const int width = rect.width();
    std::vector<qint64> columns(std::size_t(width), -1);
    const double pxPerNs = double(width) / double(t1 - t0);
    const qint64 last = std::min(t1, m_followNow ? currentTime() : t1);
    const auto columnOf = [&](qint64 t) {
        return std::clamp(toPixel((double(t) - double(t0)) * pxPerNs, 0, width - 1), 0, width - 1);
    };
    for (auto it = first; it != m_queue.end() && it->time <= t1; ++it) {
        const auto next = it + 1;
        const qint64 from = std::max(it->time, t0);
        const qint64 to = next != m_queue.end() ? std::min(next->time, t1) : last;
        if (to < from)
            continue;
        for (int x = columnOf(from), xEnd = columnOf(to); x <= xEnd; ++x)
            columns[std::size_t(x)] = std::max(columns[std::size_t(x)], it->depth);
    }
    const qint64 maxDepth = *std::max_element(columns.begin(), columns.end());
    if (maxDepth > 0) {
        const auto yOf = [&](qint64 depth) {
            return rect.bottom() + 1 - double(depth) * rect.height() / double(maxDepth);
        };
        QPainterPath path;
        for (int x = 0; x < width;) {
            if (columns[std::size_t(x)] < 0) {
                ++x;
                continue;
            }
            path.moveTo(rect.left() + x, rect.bottom() + 1);
            for (; x < width && columns[std::size_t(x)] >= 0; ++x) {
                const double y = yOf(columns[std::size_t(x)]);
                path.lineTo(rect.left() + x, y);
                path.lineTo(rect.left() + x + 1, y);
            }
            path.lineTo(rect.left() + x, rect.bottom() + 1);
            path.closeSubpath();
        }
        const QColor color = stateColor(TaskState::Queued);
        QColor fill = color;
        fill.setAlpha(120);
        painter.setPen(Qt::NoPen);
        painter.setBrush(fill);
        painter.drawPath(path);
        painter.setBrush(Qt::NoBrush);
    }
    // The scale: the deepest queue in view.
    const QString text = tr("max %1").arg(formatCount(std::max<qint64>(maxDepth, 0)));
    const QFontMetrics fm(painter.font());
    QRect box = fm.boundingRect(text).adjusted(-3, 0, 3, 0);
    box.moveTopRight(QPoint(rect.right() - 2, rect.top()));
    QColor background = palette().color(QPalette::Base);
    background.setAlpha(200);
    painter.fillRect(box, background);
    painter.setPen(palette().color(QPalette::PlaceholderText));
    painter.drawText(box, Qt::AlignCenter, text);
}

void TimelineView::wheelEvent(QWheelEvent *event)
{
    const QRect plot = plotRect();
    const double steps = event->angleDelta().y() / 120.0;
    if (steps == 0 || plot.width() <= 0)
        return;
    const qint64 t1 = endTime();
    const qint64 t0 = t1 - m_spanNs;
    const double fraction
        = std::clamp((event->position().x() - plot.left()) / plot.width(), 0.0, 1.0);
    const qint64 anchor = t0 + qint64(fraction * double(m_spanNs));
    // Clamped as a double: a fast wheel (a large angleDelta) gives a factor far out of range.
    const qint64 span = qint64(std::clamp(
        double(m_spanNs) * std::pow(0.8, steps), double(kMinSpanNs), double(kMaxSpanNs)));
    const qint64 newEnd = anchor + qint64((1.0 - fraction) * double(span));
    m_spanNs = span;
    // Zooming around a point in the past pins the view; zooming at the right edge keeps
    // following.
    if (m_followNow && fraction < 0.98) {
        m_followNow = false;
        m_fixedEnd = newEnd;
    } else if (!m_followNow) {
        m_fixedEnd = newEnd;
    }
    event->accept();
    update();
    Q_EMIT spanZoomed(m_spanNs);
}

void TimelineView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return QWidget::mousePressEvent(event);
    m_dragging = true;
    m_dragged = false;
    m_dragX = int(event->position().x());
    m_dragEnd = endTime();
}

void TimelineView::mouseMoveEvent(QMouseEvent *event)
{
    if (!m_dragging)
        return QWidget::mouseMoveEvent(event);
    const QRect plot = plotRect();
    const int dx = int(event->position().x()) - m_dragX;
    // A hand that shakes while clicking does not pan.
    if (!m_dragged && std::abs(dx) < QApplication::startDragDistance())
        return;
    if (dx == 0 || plot.width() <= 0)
        return;
    if (!m_dragged)
        setCursor(Qt::ClosedHandCursor);
    m_dragged = true;
    m_followNow = false;
    m_fixedEnd = m_dragEnd - qint64(double(dx) * double(m_spanNs) / plot.width());
    update();
}

void TimelineView::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return QWidget::mouseReleaseEvent(event);
    m_dragging = false;
    unsetCursor();
    if (!m_dragged) {
        if (const quint64 id = taskAt(event->position().toPoint()))
            Q_EMIT taskClicked(id);
    }
}

void TimelineView::mouseDoubleClickEvent(QMouseEvent *)
{
    m_followNow = true;
    update();
}

} // namespace pk::monitor
