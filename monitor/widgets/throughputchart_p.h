// Internal: the chart of completions per second and queue depth over the last minutes
// (exported for its tests only).
#pragma once

#include <pk/monitor_export.h>

#include <QtCore/QList>
#include <QtCore/QString>
#include <QtWidgets/QWidget>

#include <chrono>
#include <deque>

namespace pk::monitor {

/*!
    Two polylines over time, painted with QPainter: tasks finished per second (left scale) and
    the queue depth, waiting + queued (right scale). The owner adds a sample at a fixed
    interval; the chart keeps kMaxSamples of them (five minutes at four samples a second) and
    shows those of the last span() (the monitor's time range).

    The time axis reads in one unit, seconds up to two minutes and minutes past that, at round
    steps: "-60 s, -50 s ... now" or "-5 min, -4 min ... now".

    GUI thread only.
*/
class PROMISEKEEPER_MONITOR_EXPORT ThroughputChart : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kSampleIntervalMs = 250;
    static constexpr std::size_t kMaxSamples = 5 * 60 * 1000 / kSampleIntervalMs;
    static constexpr std::chrono::milliseconds kMaxSpan { kMaxSamples * kSampleIntervalMs };
    static constexpr std::chrono::milliseconds kMinSpan { 10 * kSampleIntervalMs };

    explicit ThroughputChart(QWidget *parent = nullptr);

    void addSample(double completionsPerSecond, qint64 queueDepth);
    void clear();
    std::size_t sampleCount() const { return m_samples.size(); }

    //! The time shown, newest sample at the right edge (default one minute), within
    //! [kMinSpan, kMaxSpan].
    std::chrono::milliseconds span() const { return m_span; }
    void setSpan(std::chrono::milliseconds span);

    //! A tick of the time axis: seconds before the newest sample, and its label.
    struct AxisTick
    {
        double secondsAgo;
        QString label;
    };
    //! The time axis' ticks for \a span over \a widthPx pixels, "now" first.
    static QList<AxisTick> axisTicks(std::chrono::milliseconds span, int widthPx);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    struct Sample
    {
        double rate;
        qint64 depth;
    };
    std::deque<Sample> m_samples;
    std::chrono::milliseconds m_span { std::chrono::minutes(1) };
};

} // namespace pk::monitor
