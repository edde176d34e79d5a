#include "clock_p.h"

#include <QtCore/qdatetime.h>

#include <chrono>

namespace pk::detail {

qint64 monotonicNs() noexcept
{
    using namespace std::chrono;
    return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}

qint64 wallOffsetNs() noexcept
{
    // Taken once, so that converting the same timestamp twice gives the same QDateTime.
    static const qint64 offset = QDateTime::currentMSecsSinceEpoch() * 1000000 - monotonicNs();
    return offset;
}

} // namespace pk::detail
