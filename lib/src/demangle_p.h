// Readable C++ type names, for TaskInfo::errorType() and the errors of process tasks.
#pragma once

#include <QtCore/qstring.h>

namespace pk::detail {

//! "St13runtime_error" as "std::runtime_error", where the C++ runtime can say.
QString demangledTypeName(const char *name);
//! Inside a catch block: the type of the exception being handled, demangled; "unknown
//! exception" where the runtime cannot tell.
QString currentExceptionTypeName();

} // namespace pk::detail
