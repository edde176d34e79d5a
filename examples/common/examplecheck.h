// What the checking examples share: printing from any thread, and checks that print a FAIL
// line (which ctest looks for) when a value is not the one the library promises.
#pragma once

#include <QtCore/QCoreApplication>
#include <QtCore/QMetaEnum>
#include <QtCore/QString>

#include <PromiseKeeper>
#include <iostream>
#include <mutex>

namespace example {

inline int failures = 0;

//! One line at a time, from any thread.
inline void print(const QString &line)
{
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::cout << qPrintable(line) << '\n' << std::flush;
}

//! Prints "expression -> value" (only the value when \a expression is null, because it was
//! printed before it was evaluated), and a FAIL line when the value is not \a expected.
inline void show(const char *expression, const QString &value, const QString &expected)
{
    if (expression)
        print(QString::fromUtf8(expression));
    print(QStringLiteral("    -> %1").arg(value));
    if (value != expected) {
        print(QStringLiteral("FAIL: expected %1").arg(expected));
        ++failures;
    }
}

inline QString boolText(bool b)
{
    return b ? QStringLiteral("true") : QStringLiteral("false");
}

inline QString stateText(pk::TaskState state)
{
    return QString::fromLatin1(QMetaEnum::fromType<pk::TaskState>().valueToKey(int(state)));
}

//! --fast on the command line, or PK_EXAMPLE_FAST=1: the examples sleep less (for CI).
inline bool fastMode(const QCoreApplication &app)
{
    return app.arguments().contains(QStringLiteral("--fast"))
        || qEnvironmentVariableIntValue("PK_EXAMPLE_FAST") == 1;
}

//! The exit code, after the closing line ctest looks for.
inline int finish(const char *name)
{
    if (failures > 0) {
        print(QStringLiteral("%1: %2 check(s) FAILED").arg(QString::fromUtf8(name)).arg(failures));
        return 1;
    }
    print(QStringLiteral("%1: all checks passed").arg(QString::fromUtf8(name)));
    return 0;
}

} // namespace example
