// Striped mutex/condition pairs on which threads wait for tasks to finish.
#pragma once

#include <condition_variable>
#include <mutex>

namespace pk::detail {

/*!
    A task needs somewhere to block its waiters, but few tasks are ever waited on: a mutex and a
    condition per task would double the size of every finished promise. Waiters share one of a
    fixed set of stripes instead, chosen by the task's address; a finishing task notifies its
    stripe only when it has waiters.
*/
struct WaitStripe
{
    std::mutex mutex;
    std::condition_variable finished;
};

WaitStripe &waitStripeFor(const void *task) noexcept;

} // namespace pk::detail
