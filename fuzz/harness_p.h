// What the fuzz targets share: one QApplication for the whole run, on the offscreen platform,
// and quiet logging (a warning per rejected input would cost more than the input itself).
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QtGlobal>
#include <QtWidgets/QApplication>

#include <cstddef>
#include <cstdint>

namespace pkfuzz {

//! Creates the application on first use. QApplication keeps a reference to argc: static.
inline void ensureApplication()
{
    if (QCoreApplication::instance())
        return;
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    // Rejected input is the normal case here; PK_FUZZ_VERBOSE=1 shows the warnings.
    if (qEnvironmentVariableIsEmpty("PK_FUZZ_VERBOSE"))
        qInstallMessageHandler([](QtMsgType, const QMessageLogContext &, const QString &) {});
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
[[noreturn]] inline void fail(const char *what)
{
    qInstallMessageHandler(nullptr);
    qFatal("pk-fuzz: %s", what);
}

} // namespace pkfuzz
