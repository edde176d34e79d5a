// StallMeter: how long an event loop froze. pk-monitor --report-stalls and pk-bench's monitor
// rows measure the GUI thread with it, so that their figures mean the same thing.
#pragma once

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QTimer>

#include <algorithm>

/*!
    The longest time the event loop of the meter's thread did not run a 10 ms timer, from
    construction on. A precise timer, because a coarse one may fire up to 5% late by design,
    which is noise here. The gap between two timeouts is at least the interval, so an event
    loop that never blocks reads about 10 ms, not 0.
*/
class StallMeter : public QObject
{
public:
    static constexpr int kIntervalMs = 10;

    explicit StallMeter(QObject *parent = nullptr)
        : QObject(parent)
    {
        m_timer.setInterval(kIntervalMs);
        m_timer.setTimerType(Qt::PreciseTimer);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            const qint64 gap = m_clock.restart();
            if (gap > m_max) {
                m_max = gap;
                m_maxAt = m_total.elapsed();
            }
        });
        m_clock.start();
        m_total.start();
        m_timer.start();
    }

    //! The longest gap so far in milliseconds, the one still open included (called from the
    //! event loop, that one is short; called after a stall, it is the stall).
    qint64 maxStallMs() const { return std::max(m_max, m_clock.elapsed()); }

    QString report() const
    {
        const qint64 open = m_clock.elapsed();
        const qint64 total = m_total.elapsed();
        // When the open gap is the longest, it ends now.
        return QStringLiteral("pk-monitor: max GUI stall %1 ms (at %2 ms of %3 ms; timer "
                              "interval %4 ms)")
            .arg(maxStallMs())
            .arg(open > m_max ? total : m_maxAt)
            .arg(total)
            .arg(kIntervalMs);
    }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    QElapsedTimer m_total;
    qint64 m_max = 0;
    qint64 m_maxAt = 0;
};
