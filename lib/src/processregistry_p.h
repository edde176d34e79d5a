// The child's side of the registry of PK_PROCESS_TASK functions.
#pragma once

#include <pk/processtask.h>

namespace pk::detail {

//! The invoker registered under \a name, or null. Thread-safe.
ProcessInvoker processInvoker(const QByteArray &name) noexcept;

} // namespace pk::detail
