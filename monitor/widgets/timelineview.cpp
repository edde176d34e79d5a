#include "monitorstyle_p.h"
#include "protocol_p.h"
#include "timelineview_p.h"

#include <QtCore/QStringList>
#include <QtGui/QFontMetrics>
#include <QtGui/QMouseEvent>
#include <QtGui/QPainter>
#include <QtGui/QPainterPath>
#include <QtGui/QWheelEvent>

#include <algorithm>
#include <cmath>

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

// A step of the time axis that gives labels about 90 px apart.
qint64 niceStep(qint64 spanNs, int widthPx)
{
    const double target = double(spanNs) * 90.0 / std::max(widthPx, 1);
    static const qint64 steps[] = { 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000,
        kMsNs, 2 * kMsNs, 5 * kMsNs, 10 * kMsNs, 20 * kMsNs, 50 * kMsNs, 100 * kMsNs, 200 * kMsNs,
        500 * kMsNs, kSecNs, 2 * kSecNs, 5 * kSecNs, 10 * kSecNs, 15 * kSecNs, 30 * kSecNs,
        60 * kSecNs, 120 * kSecNs, 300 * kSecNs, 600 * kSecNs, 1800 * kSecNs };
    for (qint64 s : steps) {
        if (double(s) >= target)
            return s;
    }
    return 3600 * kSecNs;
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
} // namespace

TimelineView::TimelineView(QWidget *parent)
    : QWidget(parent)
    , m_spanNs(10 * kSecNs)
{
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMouseTracking(false);
    setToolTip(tr("Wheel: zoom. Drag: pan. Double click: back to now."));
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
            l.runningId = info.id();
            l.runningStart = info.startedAtNsecs();
            continue;
        }
        if (!isFinal(info.state()) || info.finishedAtNsecs() <= 0)
            continue;
        if (l.runningId == info.id())
            l.runningId = 0;
        const Bar bar { info.startedAtNsecs(), info.finishedAtNsecs() };
        insertSorted(l.bars, bar);
        if (info.state() == TaskState::Failed)
            insertSorted(l.failures, bar);
    }
    update();
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
    m_threadCount = next;
    update();
}

int TimelineView::labelWidth() const
{
    // Keeper names make labels longer than "worker 12": room for the longest, within reason.
    int width = kLabelWidth;
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    const QFontMetrics metrics(small);
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
    m_undrawn = 0;
    m_sourceGoneAt = 0;
    m_goneNote.clear();
    m_markers.clear();
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
        n += l.bars.size();
    return n;
}

qint64 TimelineView::endTime() const
{
    return m_followNow ? currentTime() : m_fixedEnd;
}

QRect TimelineView::plotRect() const
{
    return rect().adjusted(labelWidth(), kAxisHeight, -8, -4);
}

void TimelineView::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    const QPalette pal = palette();
    painter.fillRect(rect(), pal.color(QPalette::Base));
    const QRect plot = plotRect();
    if (plot.width() <= 0 || plot.height() <= 0)
        return;
    const qint64 now = currentTime();
    const qint64 t1 = endTime();
    const qint64 t0 = t1 - m_spanNs;

    const int workerLanes = std::max({ m_threadCount, int(m_lanes.size()), 1 });
    const int laneCount = workerLanes + 1;
    const int laneHeight = std::clamp(plot.height() / laneCount, 8, 56);

    paintAxis(painter, plot, t0, t1);

    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    painter.setFont(small);
    for (int i = 0; i < laneCount; ++i) {
        const QRect laneRect(plot.left(), plot.top() + i * laneHeight, plot.width(), laneHeight);
        if (laneRect.top() >= plot.bottom())
            break;
        if (i % 2 == 1)
            painter.fillRect(laneRect, pal.color(QPalette::AlternateBase));
        painter.setPen(pal.color(QPalette::Text));
        const QRect labelRect(4, laneRect.top(), labelWidth() - 8, laneHeight);
        if (i == 0) {
            painter.drawText(labelRect, Qt::AlignVCenter | Qt::AlignLeft, tr("queue"));
            paintQueue(painter, laneRect.adjusted(0, 2, 0, -2), t0, t1);
        } else {
            const int worker = i - 1;
            painter.setPen(worker < m_threadCount ? pal.color(QPalette::Text)
                                                  : pal.color(QPalette::PlaceholderText));
            painter.drawText(labelRect, Qt::AlignVCenter | Qt::AlignLeft, laneLabel(worker));
            if (std::size_t(worker) < m_lanes.size())
                paintLane(painter, m_lanes[std::size_t(worker)], laneRect.adjusted(0, 3, 0, -3), t0,
                    t1, now);
        }
    }
    // "now", when it is in view.
    if (now >= t0 && now <= t1) {
        const int x = plot.left() + int(double(now - t0) * plot.width() / double(m_spanNs));
        painter.setPen(QPen(pal.color(QPalette::Highlight), 1, Qt::DashLine));
        painter.drawLine(x, plot.top(), x, plot.top() + laneCount * laneHeight);
    }
    // Reconnections: where the data resumed after a gap.
    for (const qint64 marker : m_markers) {
        if (marker < t0 || marker > t1)
            continue;
        const int x = plot.left() + int(double(marker - t0) * plot.width() / double(m_spanNs));
        painter.setPen(QPen(pal.color(QPalette::Link), 2, Qt::SolidLine));
        painter.drawLine(x, plot.top(), x, plot.top() + laneCount * laneHeight);
    }
    QStringList notes;
    if (m_sourceGoneAt > 0)
        notes << m_goneNote;
    if (m_undrawn > 0)
        notes << tr("%1 tasks of workers past %2 not drawn").arg(m_undrawn).arg(kMaxLanes - 1);
    if (!m_followNow)
        notes << tr("paused: double-click to follow");
    if (!notes.isEmpty()) {
        // In a box of its own at the bottom right, clear of the axis' tick labels and readable
        // over the bars.
        const QString text = notes.join(QStringLiteral(" · "));
        const QFontMetrics metrics(painter.font());
        QRect box = metrics.boundingRect(text).adjusted(-6, -2, 6, 2);
        box.moveBottomRight(rect().bottomRight() - QPoint(10, 4));
        QColor background = pal.color(QPalette::Base);
        background.setAlpha(230);
        painter.fillRect(box, background);
        painter.setPen(pal.color(QPalette::PlaceholderText));
        painter.drawText(box, Qt::AlignCenter, text);
    }
}

void TimelineView::paintAxis(QPainter &painter, const QRect &plot, qint64 t0, qint64 t1)
{
    const QPalette pal = palette();
    const qint64 now = currentTime();
    const qint64 step = niceStep(m_spanNs, plot.width());
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    painter.setFont(small);
    // Ticks at multiples of the step before "now", so that the labels read "-10 s", "-5 s".
    const qint64 firstOffset = -((now - t0) / step) * step;
    for (qint64 offset = firstOffset; now + offset <= t1 + step; offset += step) {
        const qint64 t = now + offset;
        if (t < t0)
            continue;
        if (t > t1)
            break;
        const int x = plot.left() + int(double(t - t0) * plot.width() / double(m_spanNs));
        painter.setPen(QPen(pal.color(QPalette::Mid), 1, Qt::DotLine));
        painter.drawLine(x, plot.top(), x, plot.bottom());
        painter.setPen(pal.color(QPalette::Text));
        const QString label = offsetLabel(offset, step);
        painter.drawText(QRect(x - 50, 0, 100, kAxisHeight - 2), Qt::AlignCenter, label);
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
    const auto paintRuns = [&](const std::deque<Bar> &bars, const QColor &color, int minWidth) {
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
            painter.fillRect(QRect(runX0, rect.top(), std::max(w, minWidth), rect.height()), color);
        };
        while (it != end && it->start <= t1) {
            // Columns [x0, x1): a task that ends where the next one starts does not share a
            // column with it, one shorter than a pixel still gets one.
            const int x0 = std::max(toX(it->start), rect.left());
            const int x1 = std::min(std::max(toX(it->end), x0 + 1), rect.right() + 1);
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
                runX1 = std::max(runX1, std::min(toX(it->end), rect.right() + 1));
            }
            ++it;
        }
        flush();
    };
    paintRuns(lane.bars, stateColor(TaskState::Succeeded), 1);
    paintRuns(lane.failures, stateColor(TaskState::Failed), 2);
    if (lane.runningId != 0 && lane.runningStart <= t1) {
        const int x0 = std::max(toX(lane.runningStart), rect.left());
        const int x1 = std::min(toX(std::min(now, t1)), rect.right());
        painter.fillRect(QRect(x0, rect.top(), std::max(x1 - x0 + 1, 2), rect.height()),
            stateColor(TaskState::Running));
    }
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
}

void TimelineView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return QWidget::mousePressEvent(event);
    m_dragging = true;
    m_dragX = int(event->position().x());
    m_dragEnd = endTime();
    setCursor(Qt::ClosedHandCursor);
}

void TimelineView::mouseMoveEvent(QMouseEvent *event)
{
    if (!m_dragging)
        return QWidget::mouseMoveEvent(event);
    const QRect plot = plotRect();
    const int dx = int(event->position().x()) - m_dragX;
    if (dx == 0 || plot.width() <= 0)
        return;
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
}

void TimelineView::mouseDoubleClickEvent(QMouseEvent *)
{
    m_followNow = true;
    update();
}

} // namespace pk::monitor
