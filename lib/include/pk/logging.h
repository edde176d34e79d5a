// PromiseKeeper's logging category, "promisekeeper": bad input and dropped detail are reported
// here.
#pragma once

#include <pk/promisekeeper_export.h>

#include <QtCore/qloggingcategory.h>

namespace pk {
//! The category of every warning the library prints. Thread-safe.
PROMISEKEEPER_EXPORT const QLoggingCategory &lcPromiseKeeper();
//! "promisekeeper.process": what the child processes of PromiseKeeper::submitToProcess() print
//! on their stderr (info messages, with the task id and pid), and their failures. Thread-safe.
PROMISEKEEPER_EXPORT const QLoggingCategory &lcProcess();
} // namespace pk
