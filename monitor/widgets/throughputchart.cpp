#include "monitorstyle_p.h"
#include "throughputchart_p.h"

#include <QtGui/QPainter>
#include <QtGui/QPainterPath>

#include <algorithm>
#include <cmath>

namespace pk::monitor {

namespace {
// A round upper bound for a scale: 1, 2, 5, 10, 20, 50...
double niceMax(double value)
{
    if (value <= 1)
        return 1;
    const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
    for (double m : { 1.0, 2.0, 5.0, 10.0 }) {
        if (value <= m * magnitude)
            return m * magnitude;
    }
    return 10 * magnitude;
}

QString scaleLabel(double value)
{
    if (value >= 1e6)
        return QStringLiteral("%1M").arg(value / 1e6, 0, 'g', 3);
    if (value >= 1e3)
        return QStringLiteral("%1k").arg(value / 1e3, 0, 'g', 3);
    return QString::number(value, 'g', 3);
}
} // namespace

ThroughputChart::ThroughputChart(QWidget *parent)
    : QWidget(parent)
{
    setAttribute(Qt::WA_OpaquePaintEvent);
}

QSize ThroughputChart::sizeHint() const
{
    return { 420, 180 };
}

QSize ThroughputChart::minimumSizeHint() const
{
    return { 200, 90 };
}

void ThroughputChart::addSample(double completionsPerSecond, qint64 queueDepth)
{
    m_samples.push_back({ completionsPerSecond, queueDepth });
    if (m_samples.size() > kMaxSamples)
        m_samples.pop_front();
    update();
}

void ThroughputChart::setSpan(std::chrono::milliseconds span)
{
    m_span = std::clamp(span, kMinSpan, kMaxSpan);
    update();
}

QList<ThroughputChart::AxisTick> ThroughputChart::axisTicks(
    std::chrono::milliseconds span, int widthPx)
{
    // One unit for the whole axis, so that "-90 s" never sits beside "-1 min"; the step is the
    // smallest round one that leaves labels about 60 px apart.
    const double seconds = double(span.count()) / 1000.0;
    const bool minutes = seconds > 120;
    const double unit = minutes ? 60 : 1;
    static const double steps[] = { 1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600 };
    const double maxTicks = std::max(double(widthPx) / 60.0, 1.0);
    double step = steps[std::size(steps) - 1];
    for (const double s : steps) {
        if ((!minutes || s >= 60) && seconds / s <= maxTicks) {
            step = s;
            break;
        }
    }
    QList<AxisTick> ticks;
    for (double s = 0; s <= seconds + 1e-6; s += step) {
        ticks.append({ s,
            s == 0        ? tr("now")
                : minutes ? tr("-%1 min").arg(s / unit)
                          : tr("-%1 s").arg(s / unit) });
    }
    return ticks;
}

void ThroughputChart::clear()
{
    m_samples.clear();
    update();
}

void ThroughputChart::paintEvent(QPaintEvent *)
{
    // Antialiased only for the two lines: dotted grid lines stroked antialiased cost several
    // milliseconds a paint, which a flood repaints many times a second.
    QPainter painter(this);
    const QPalette pal = palette();
    painter.fillRect(rect(), pal.color(QPalette::Base));
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    painter.setFont(small);
    const QFontMetrics fm(small);
    const int scaleWidth = fm.horizontalAdvance(QStringLiteral("0000k")) + 6;
    const QRect plot = rect().adjusted(scaleWidth, fm.height() + 8, -scaleWidth, -fm.height() - 6);
    if (plot.width() < 20 || plot.height() < 20)
        return;

    const QColor rateColor = stateColor(TaskState::Succeeded);
    const QColor depthColor = stateColor(TaskState::Queued);

    // The samples of the span, newest last.
    const std::size_t spanSamples
        = std::max<std::size_t>(std::size_t(m_span.count() / kSampleIntervalMs), 2);
    const auto first = m_samples.end() - std::ptrdiff_t(std::min(m_samples.size(), spanSamples));
    double maxRate = 0;
    qint64 maxDepth = 0;
    for (auto it = first; it != m_samples.end(); ++it) {
        const Sample &s = *it;
        maxRate = std::max(maxRate, s.rate);
        maxDepth = std::max(maxDepth, s.depth);
    }
    const double rateScale = niceMax(maxRate);
    const double depthScale = niceMax(double(maxDepth));

    // Grid and scales: four divisions, completions on the left, queue depth on the right.
    for (int i = 0; i <= 4; ++i) {
        const int y = plot.bottom() - i * plot.height() / 4;
        painter.setPen(QPen(pal.color(QPalette::Mid), 1, i == 0 ? Qt::SolidLine : Qt::DotLine));
        painter.drawLine(plot.left(), y, plot.right(), y);
        painter.setPen(rateColor.darker(130));
        painter.drawText(QRect(0, y - fm.height() / 2, scaleWidth - 4, fm.height()),
            Qt::AlignRight | Qt::AlignVCenter, scaleLabel(rateScale * i / 4));
        painter.setPen(depthColor.darker(130));
        painter.drawText(QRect(plot.right() + 4, y - fm.height() / 2, scaleWidth - 4, fm.height()),
            Qt::AlignLeft | Qt::AlignVCenter, scaleLabel(depthScale * i / 4));
    }

    // Time: the newest sample at the right edge, the span across the width.
    const double spanSeconds = double(m_span.count()) / 1000.0;
    const double dx = double(plot.width()) * kSampleIntervalMs / double(m_span.count());
    for (const AxisTick &tick : axisTicks(m_span, plot.width())) {
        const double x = plot.right() - tick.secondsAgo / spanSeconds * plot.width();
        painter.setPen(QPen(pal.color(QPalette::Mid), 1, Qt::DotLine));
        const int column = qRound(x);
        painter.drawLine(column, plot.top(), column, plot.bottom());
        painter.setPen(pal.color(QPalette::Text));
        // The leftmost label stays inside the widget.
        const double left = std::max(x - 40, 0.0);
        painter.drawText(
            QRectF(left, plot.bottom() + 3, 80, fm.height()), Qt::AlignCenter, tick.label);
    }

    const auto line = [&](auto value, double scale, const QColor &color) {
        if (m_samples.empty())
            return;
        // At most a point per pixel column, the highest of the samples in it, so that a burst
        // still shows: a stroked polyline costs with its points (five minutes of samples in
        // 300 pixels, stroked 2 px wide and antialiased, took 100 million instructions).
        QPolygonF points;
        const auto count = m_samples.end() - first;
        points.reserve(std::min<qsizetype>(qsizetype(count), plot.width() + 1));
        const double x0 = plot.right() - double(count - 1) * dx;
        for (auto it = first; it != m_samples.end(); ++it) {
            const double v = std::min(value(*it) / scale, 1.0);
            const QPointF point(x0 + double(it - first) * dx, plot.bottom() - v * plot.height());
            if (!points.isEmpty() && qRound(points.last().x()) == qRound(point.x())) {
                if (point.y() < points.last().y())
                    points.last().setY(point.y()); // higher: y grows downwards
                continue;
            }
            points << point;
        }
        // As separate segments: the raster engine strokes a polyline into one polygon, whose
        // fill costs with the edges every scan line crosses (a jagged flood: most of them).
        QList<QLineF> segments;
        segments.reserve(points.size());
        for (qsizetype i = 1; i < points.size(); ++i)
            segments.append(QLineF(points.at(i - 1), points.at(i)));
        QPen pen(color, 1.6);
        pen.setCosmetic(true);
        painter.setPen(pen);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.drawLines(segments);
        painter.setRenderHint(QPainter::Antialiasing, false);
    };
    line([](const Sample &s) { return double(s.depth); }, depthScale, depthColor);
    line([](const Sample &s) { return s.rate; }, rateScale, rateColor);

    // Legend, with the latest values.
    const Sample last = m_samples.empty() ? Sample { 0, 0 } : m_samples.back();
    int x = plot.left();
    const int y = 3;
    const auto legend = [&](const QColor &color, const QString &text) {
        painter.fillRect(QRect(x, y + fm.height() / 2 - 2, 14, 4), color);
        x += 18;
        painter.setPen(pal.color(QPalette::Text));
        painter.drawText(QPoint(x, y + fm.ascent()), text);
        x += fm.horizontalAdvance(text) + 16;
    };
    legend(rateColor, tr("finished / s: %1").arg(formatRate(last.rate)));
    legend(depthColor, tr("queue depth: %1").arg(formatCount(last.depth)));
}

} // namespace pk::monitor
