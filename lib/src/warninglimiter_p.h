// Rate limiting for warnings that can repeat once per task: a flood of rejected submissions
// prints one line, then a line a second at most with the count of those in between.
#pragma once

#include <QtCore/qglobal.h>

namespace pk::detail {

/*!
    Decides which occurrences of one kind of warning are printed. Not thread-safe: the owner
    guards it (the keeper calls it with its mutex held, and prints after unlocking).
*/
class WarningLimiter
{
public:
    static constexpr qint64 kIntervalNs = 1'000'000'000;

    //! An occurrence at \a nowNs: true if it is to be printed, with \a suppressed set to the
    //! number held back since the last printed one; false if it only counts.
    bool admit(qint64 nowNs, qint64 &suppressed) noexcept
    {
        if (m_printedOnce && nowNs - m_lastNs < kIntervalNs) {
            ++m_suppressed;
            return false;
        }
        m_printedOnce = true;
        m_lastNs = nowNs;
        suppressed = m_suppressed;
        m_suppressed = 0;
        return true;
    }
    //! The occurrences held back and not reported yet (reported once, when the owner goes).
    qint64 takeSuppressed() noexcept
    {
        const qint64 n = m_suppressed;
        m_suppressed = 0;
        return n;
    }

private:
    bool m_printedOnce = false;
    qint64 m_lastNs = 0;
    qint64 m_suppressed = 0;
};

} // namespace pk::detail
