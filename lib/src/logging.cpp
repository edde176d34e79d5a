#include <pk/logging.h>

namespace pk {
Q_LOGGING_CATEGORY(lcPromiseKeeper, "promisekeeper", QtWarningMsg)
// A child's stderr is what its author would have seen on the console: shown by default.
Q_LOGGING_CATEGORY(lcProcess, "promisekeeper.process", QtInfoMsg)
} // namespace pk
