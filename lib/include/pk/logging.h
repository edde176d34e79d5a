// PromiseKeeper's logging category, "promisekeeper": bad input and dropped detail are reported
// here.
#pragma once

#include <pk/promisekeeper_export.h>

#include <QtCore/qloggingcategory.h>

namespace pk {
//! The category of every warning the library prints. Thread-safe.
PROMISEKEEPER_EXPORT const QLoggingCategory &lcPromiseKeeper();
} // namespace pk
