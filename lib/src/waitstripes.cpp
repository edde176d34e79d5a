#include "waitstripes_p.h"

#include <cstdint>
#include <functional>

namespace pk::detail {

WaitStripe &waitStripeFor(const void *task) noexcept
{
    static WaitStripe stripes[64];
    const auto h = std::hash<const void *>()(task);
    return stripes[(h >> 4) % 64]; // allocations are 16-byte aligned: skip the constant bits
}

} // namespace pk::detail
