// What the fuzz targets share: one QApplication for the whole run, on the offscreen platform,
// and quiet, counted logging (printing a warning per rejected input would cost more than the
// input itself).
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QtGlobal>
#include <QtWidgets/QApplication>

#include <cstddef>
#include <cstdint>

namespace pkfuzz {

//! The warnings logged so far (after ensureApplication()): a harness checks that an input
//! is never rejected silently.
inline quint64 &warnings()
{
    static quint64 count = 0;
    return count;
}

//! Creates the application on first use. QApplication keeps a reference to argc: static.
inline void ensureApplication()
{
    if (QCoreApplication::instance())
        return;
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    // Rejected input is the normal case here: the warnings are counted, and shown only with
    // PK_FUZZ_VERBOSE=1.
    static const QtMessageHandler shown = qInstallMessageHandler(nullptr);
    static const bool verbose = !qEnvironmentVariableIsEmpty("PK_FUZZ_VERBOSE");
    qInstallMessageHandler(
        [](QtMsgType type, const QMessageLogContext &context, const QString &text) {
            if (type != QtDebugMsg && type != QtInfoMsg)
                ++warnings();
            if (verbose)
                shown(type, context, text);
        });
    static int argc = 1;
    static char name[] = "pk-fuzz";
    static char *argv[] = { name, nullptr };
    new QApplication(argc, argv); // lives until the process ends, like libFuzzer's loop
}

inline QByteArray bytes(const uint8_t *data, size_t size)
{
    return QByteArray(reinterpret_cast<const char *>(data), qsizetype(size));
}

//! Stops the run with \a what when a harness's invariant does not hold: libFuzzer reports it.
[[noreturn]] inline void fail(const char *what, const QString &detail = {})
{
    qInstallMessageHandler(nullptr);
    qFatal("pk-fuzz: %s%s%s", what, detail.isEmpty() ? "" : ": ", qPrintable(detail));
}

} // namespace pkfuzz
