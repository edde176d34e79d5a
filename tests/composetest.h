// Helpers of the composition tests (chaining, continuations, combinators, asCompleted): gates for
// several tasks at once, input promises whose outcome a test decides, and exception checks.
#pragma once

#include "pktest.h"

#include <pk/promise.h>
#include <pk/promisekeeper.h>

#include <QtCore/QList>
#include <QtCore/QMetaType>

#include <exception>
#include <stdexcept>
#include <typeinfo>

namespace pktest {

//! How an input promise ends.
enum class Outcome { Succeeded, Failed, Cancelled };

//! The value of a PendingInput that succeeds, and the message of one that fails.
constexpr int kInputValue = 7;
inline const char *const kInputError = "input failed";

//! Calls \a f and returns the exception it threw, or null.
template<typename F>
std::exception_ptr thrownBy(F &&f)
{
    try {
        f();
    } catch (...) {
        return std::current_exception();
    }
    return nullptr;
}

//! Whether \a error is exactly of type E (not merely derived from it).
template<typename E>
bool isExactly(const std::exception_ptr &error)
{
    if (!error)
        return false;
    try {
        std::rethrow_exception(error);
    } catch (const E &e) {
        return typeid(e) == typeid(E);
    } catch (...) { }
    return false;
}

//! what() of \a error, empty if it is null or not a std::exception.
inline QString whatOf(const std::exception_ptr &error)
{
    if (!error)
        return {};
    try {
        std::rethrow_exception(error);
    } catch (const std::exception &e) {
        return QString::fromUtf8(e.what());
    } catch (...) { }
    return {};
}

/*!
    \a count gates, one per task, opened for good when this goes out of scope: declare it after
    the keepers, so that their destructors never wait for a task stuck at a gate.
*/
class Gates
{
public:
    explicit Gates(int count)
        : m_gates(count)
    { }
    ~Gates()
    {
        for (const Gate &gate : std::as_const(m_gates))
            gate.open(1 << 20);
    }
    Gates(const Gates &) = delete;
    Gates &operator=(const Gates &) = delete;

    const Gate &operator[](qsizetype index) const { return m_gates[index]; }
    //! Copies that share the gates' state, for a task to capture.
    QList<Gate> all() const { return m_gates; }
    //! Waits until one task arrived at every gate.
    [[nodiscard]] bool waitAllArrived() const
    {
        for (const Gate &gate : m_gates) {
            if (!gate.waitArrived())
                return false;
        }
        return true;
    }

private:
    QList<Gate> m_gates;
};

/*!
    A promise of \a keeper whose outcome the test decides: it stays live until finish(), which
    makes it succeed with kInputValue, fail with std::out_of_range(kInputError), or be cancelled.
    The keeper must have one thread: a cancelled input is a task queued behind a blocked one.
    Declare it after the keeper (its destructor opens the gate).
*/
class PendingInput
{
public:
    PendingInput(pk::PromiseKeeper &keeper, Outcome outcome)
        : m_outcome(outcome)
    {
        m_blocker = keeper.submit([gate = m_gate, outcome]() -> int {
            gate.pass();
            if (outcome == Outcome::Failed)
                throw std::out_of_range(kInputError);
            return kInputValue;
        });
        m_promise
            = outcome == Outcome::Cancelled ? keeper.submit([] { return kInputValue; }) : m_blocker;
    }
    ~PendingInput() { m_gate.open(1 << 20); }
    PendingInput(const PendingInput &) = delete;
    PendingInput &operator=(const PendingInput &) = delete;

    pk::Promise<int> promise() const { return m_promise; }

    //! Lets the input end as asked; false if a cancellation did not take.
    [[nodiscard]] bool finish()
    {
        // Queued behind the blocker on a one-thread keeper: it has not started.
        const bool ok = m_outcome != Outcome::Cancelled || m_promise.cancel();
        m_gate.open();
        return ok;
    }

private:
    Gate m_gate;
    Outcome m_outcome;
    pk::Promise<int> m_blocker;
    pk::Promise<int> m_promise;
};

//! A promise of \a keeper (one thread) that already ended as \a outcome says; invalid if it did
//! not end in time.
inline pk::Promise<int> finishedInput(pk::PromiseKeeper &keeper, Outcome outcome)
{
    PendingInput input(keeper, outcome);
    if (!input.finish() || !input.promise().wait(kTimeoutMs))
        return {};
    return input.promise();
}

} // namespace pktest

Q_DECLARE_METATYPE(pktest::Outcome)
