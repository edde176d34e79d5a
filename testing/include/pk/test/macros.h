/*!
    \file pk/test/macros.h
    QTest-style checks of promises: PK_COMPARE_RESULT, PK_VERIFY_FAILED_WITH,
    PK_TRY_COMPARE_STATE. Each reports the failing expression, file and line as QCOMPARE does,
    and returns from the test function on failure.
*/
#pragma once

#include <pk/promise.h>
#include <pk/test/drain.h>

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qmetaobject.h>
#include <QtTest/qtest.h>

namespace pk::test::detail {

// How long the macros without a time-out wait for a promise to become final.
constexpr int kDefaultWaitMs = 5000;

inline QByteArray stateName(TaskState state)
{
    return QMetaEnum::fromType<TaskState>().valueToKey(int(state));
}

// Runs events (and a manual-mode keeper's tasks, through the promise's own helping wait)
// until \a promise is final or \a msecs pass.
inline bool settle(const PromiseBase &promise, int msecs)
{
    return runUntil(
        [&promise] {
            promise.wait(0); // in manual mode on the keeper's thread: runs its pending tasks
            return promise.isReady();
        },
        nullptr, QDeadlineTimer(msecs));
}

inline bool failWith(const QByteArray &message, const char *file, int line)
{
    QTest::qFail(message.constData(), file, line);
    return false;
}

inline QByteArray describe(const PromiseBase &promise, const char *expression)
{
    QByteArray text = QByteArray("'") + expression + "' is " + stateName(promise.state());
    if (promise.state() == TaskState::Failed)
        text += " (" + promise.info().errorType().toUtf8() + ": " + promise.errorString().toUtf8()
            + ")";
    return text;
}

template<typename T, typename U>
bool compareResult(const Promise<T> &promise, const U &expected, const char *actual,
    const char *expectedText, const char *file, int line)
{
    if (!settle(promise, kDefaultWaitMs)) {
        return failWith(describe(promise, actual) + " after " + QByteArray::number(kDefaultWaitMs)
                + " ms, not final",
            file, line);
    }
    if (promise.state() != TaskState::Succeeded)
        return failWith(describe(promise, actual) + ", not Succeeded", file, line);
    const QByteArray resultText = QByteArray(actual) + ".result()";
    return QTest::qCompare(
        T(promise.result()), T(expected), resultText.constData(), expectedText, file, line);
}

template<typename Exception>
bool verifyFailedWith(
    const PromiseBase &promise, const char *actual, const char *type, const char *file, int line)
{
    if (!settle(promise, kDefaultWaitMs)) {
        return failWith(describe(promise, actual) + " after " + QByteArray::number(kDefaultWaitMs)
                + " ms, not final",
            file, line);
    }
    if (promise.state() != TaskState::Failed)
        return failWith(describe(promise, actual) + ", not Failed with " + type, file, line);
    try {
        std::rethrow_exception(promise.exception());
    } catch (const Exception &) {
        return true;
    } catch (...) { }
    return failWith(describe(promise, actual) + ", not with " + type, file, line);
}

inline bool tryCompareState(const PromiseBase &promise, TaskState expected, int msecs,
    const char *actual, const char *expectedText, const char *file, int line)
{
    runUntil(
        [&] {
            if (expected != TaskState::Waiting && expected != TaskState::Queued)
                promise.wait(0); // manual mode: run the pending tasks towards it
            return promise.state() == expected || promise.isReady();
        },
        nullptr, QDeadlineTimer(msecs));
    const QByteArray actualText = QByteArray(actual) + ".state()";
    return QTest::qCompare(
        promise.state(), expected, actualText.constData(), expectedText, file, line);
}

} // namespace pk::test::detail

//! Waits up to 5 s for \a promise to succeed, then compares its result with \a expected as
//! QCOMPARE does; a promise that failed or was cancelled fails the test with its error.
#define PK_COMPARE_RESULT(promise, expected)                                                       \
    do {                                                                                           \
        if (!::pk::test::detail::compareResult(                                                    \
                (promise), (expected), #promise, #expected, __FILE__, __LINE__))                   \
            return;                                                                                \
    } while (false)

//! Waits up to 5 s for \a promise to become final, and checks that it failed with an exception
//! of type \a ExceptionType (or a subclass).
#define PK_VERIFY_FAILED_WITH(promise, ExceptionType)                                              \
    do {                                                                                           \
        if (!::pk::test::detail::verifyFailedWith<ExceptionType>(                                  \
                (promise), #promise, #ExceptionType, __FILE__, __LINE__))                          \
            return;                                                                                \
    } while (false)

//! Like QTRY_COMPARE_WITH_TIMEOUT: waits up to \a msecs for \a promise to be in \a state
//! (running this thread's events meanwhile), then compares. A promise that became final in
//! another state stops the wait at once.
#define PK_TRY_COMPARE_STATE(promise, state, msecs)                                                \
    do {                                                                                           \
        if (!::pk::test::detail::tryCompareState(                                                  \
                (promise), (state), (msecs), #promise, #state, __FILE__, __LINE__))                \
            return;                                                                                \
    } while (false)
