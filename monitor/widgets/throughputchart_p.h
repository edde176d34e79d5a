// Internal: the chart of completions per second and queue depth over the last minutes.
#pragma once

#include <QtWidgets/QWidget>

#include <deque>

namespace pk::monitor {

/*!
    Two polylines over time, painted with QPainter: tasks finished per second (left scale) and
    the queue depth, waiting + queued (right scale). The owner adds a sample at a fixed
    interval; the chart keeps kMaxSamples of them (five minutes at four samples a second) and
    shows them all, or at least kMinSpanSamples worth of time.
*/
class ThroughputChart : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kSampleIntervalMs = 250;
    static constexpr std::size_t kMaxSamples = 5 * 60 * 1000 / kSampleIntervalMs;
    static constexpr std::size_t kMinSpanSamples = 10 * 1000 / kSampleIntervalMs;

    explicit ThroughputChart(QWidget *parent = nullptr);

    void addSample(double completionsPerSecond, qint64 queueDepth);
    void clear();
    std::size_t sampleCount() const { return m_samples.size(); }

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
};

} // namespace pk::monitor
