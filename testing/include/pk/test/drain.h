// pk::test::drain(): runs a keeper's work to the end from a test.
#pragma once

#include <pk/test/promisekeepertest_export.h>

#include <QtCore/qdeadlinetimer.h>

#include <functional>

namespace pk {
class PromiseKeeper;
/*!
    \namespace pk::test
    Helpers for QTest-based tests of code that uses PromiseKeeper (`#include
    <PromiseKeeperTest>`, CMake target `PromiseKeeper::Test`); see also pk::PromiseSpy.
*/
namespace test {

/*!
    Runs \a keeper's pending tasks (in manual mode, threadCount() == 0, on the keeper's thread)
    and the calling thread's events until nothing is waiting, queued or running on the keeper,
    no worker is still running a finished task's continuations, and (on the keeper's thread)
    every change has been delivered as signals. Continuations on a context of this thread,
    PromiseWatcher signals and the tasks they submit are all run; the loop keeps going while
    they make more work.

    Returns true when that happened within \a msecs; otherwise false, with a warning in the
    "promisekeeper.test" category that says what was still pending. A null keeper returns false
    with a warning.

    Thread safety: call it on the thread whose events should run, normally the keeper's (the
    test's main thread).
*/
PROMISEKEEPERTEST_EXPORT bool drain(PromiseKeeper *keeper, int msecs = 5000);

/*!
    Runs the calling thread's events, and \a keeper's pending tasks when it is in manual mode on
    this thread (null: no keeper), until \a done returns true or \a deadline passes. Returns
    whether \a done became true. drain(), PromiseSpy::wait() and the PK_ macros wait with it.
*/
PROMISEKEEPERTEST_EXPORT bool runUntil(
    const std::function<bool()> &done, PromiseKeeper *keeper, QDeadlineTimer deadline);

} // namespace test
} // namespace pk
