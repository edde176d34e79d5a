// Helpers shared by the tests: a gate that blocking tasks wait at, a thread-safe recorder of the
// order tasks ran in, and a log of the warnings the library printed, with their categories.
#pragma once

#include <pk/taskcontext.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QList>
#include <QtCore/QMutex>
#include <QtCore/QRegularExpression>
#include <QtCore/QScopeGuard>
#include <QtCore/QSemaphore>
#include <QtCore/QString>
#include <QtCore/QThread>

#include <memory>

namespace pktest {

// How long a test waits for something that must happen. Only reached when a test already
// fails; it bounds the run of a broken build instead of letting it hang.
constexpr int kTimeoutMs = 10000;
// How long a task waits at a Gate. Longer than kTimeoutMs, so that a test that waits for a
// blocked task always gives up before the task does.
constexpr int kGateTimeoutMs = 3 * kTimeoutMs;

/*!
    A gate that a task blocks at until the test opens it. Copies share one state, so a task can
    capture one by value and outlive the test's copy safely.

    \code
    pktest::Gate gate;
    pk::PromiseKeeper keeper;
    const auto unblock = gate.openOnExit(); // after the keeper: a failing test does not hang
    auto running = keeper.submit([gate] { return gate.pass(); });
    QVERIFY(gate.waitArrived());
    \endcode
*/
class Gate
{
public:
    //! In a task: tells the test it arrived, then blocks until the gate is opened. Returns
    //! false if it never was (the test has failed already).
    bool pass() const
    {
        m_state->arrived.release();
        return m_state->open.tryAcquire(1, kGateTimeoutMs);
    }
    //! In the test: waits until \a count tasks arrived at the gate.
    [[nodiscard]] bool waitArrived(int count = 1, int timeoutMs = kTimeoutMs) const
    {
        return m_state->arrived.tryAcquire(count, timeoutMs);
    }
    //! Lets \a count tasks through.
    void open(int count = 1) const { m_state->open.release(count); }
    //! Opens the gate for good when the guard is destroyed; declare the guard after the keeper,
    //! so that the keeper's destructor never waits for a task stuck at the gate.
    [[nodiscard]] auto openOnExit() const
    {
        return qScopeGuard([state = m_state] { state->open.release(1 << 20); });
    }

private:
    struct State
    {
        QSemaphore arrived;
        QSemaphore open;
    };
    std::shared_ptr<State> m_state = std::make_shared<State>();
};

//! A list that tasks on any thread append to.
class Recorder
{
public:
    void record(int value)
    {
        QMutexLocker lock(&m_mutex);
        m_values.append(value);
    }
    QList<int> values() const
    {
        QMutexLocker lock(&m_mutex);
        return m_values;
    }

private:
    mutable QMutex m_mutex;
    QList<int> m_values;
};

/*!
    Records every message with its category while it lives, and passes it on to the handler
    installed before (QTest's, so QTest::ignoreMessage() keeps working). Tests use it to check
    that the library's warnings are in the "promisekeeper" category.
*/
class MessageLog
{
public:
    MessageLog()
    {
        s_instance = this;
        m_previous = qInstallMessageHandler(&MessageLog::handle);
    }
    ~MessageLog()
    {
        qInstallMessageHandler(m_previous);
        s_instance = nullptr;
    }
    MessageLog(const MessageLog &) = delete;
    MessageLog &operator=(const MessageLog &) = delete;

    //! The text of every warning, in order.
    QStringList warnings() const
    {
        QMutexLocker lock(&m_mutex);
        QStringList texts;
        for (const Entry &e : m_entries) {
            if (e.type == QtWarningMsg)
                texts.append(e.message);
        }
        return texts;
    }

    //! The categories of the warnings whose text matches \a pattern, in order.
    QStringList warningCategories(const QRegularExpression &pattern) const
    {
        QMutexLocker lock(&m_mutex);
        QStringList categories;
        for (const Entry &e : m_entries) {
            if (e.type == QtWarningMsg && pattern.match(e.message).hasMatch())
                categories.append(e.category);
        }
        return categories;
    }

private:
    struct Entry
    {
        QtMsgType type;
        QString category;
        QString message;
    };

    static void handle(QtMsgType type, const QMessageLogContext &context, const QString &message)
    {
        MessageLog *self = s_instance;
        {
            QMutexLocker lock(&self->m_mutex);
            self->m_entries.append({ type, QString::fromUtf8(context.category), message });
        }
        if (self->m_previous)
            self->m_previous(type, context, message);
    }

    static inline MessageLog *s_instance = nullptr;
    mutable QMutex m_mutex;
    QList<Entry> m_entries;
    QtMessageHandler m_previous = nullptr;
};

//! In a task: waits until cancellation is requested (true) or kTimeoutMs passes (false, the
//! test has failed already).
inline bool awaitCancellationRequest(const pk::TaskContext &ctx)
{
    QDeadlineTimer deadline(kTimeoutMs);
    while (!ctx.isCancellationRequested()) {
        if (deadline.hasExpired())
            return false;
        QThread::yieldCurrentThread();
    }
    return true;
}

} // namespace pktest
