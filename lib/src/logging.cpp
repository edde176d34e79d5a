#include <pk/logging.h>

namespace pk {
Q_LOGGING_CATEGORY(lcPromiseKeeper, "promisekeeper", QtWarningMsg)
} // namespace pk
