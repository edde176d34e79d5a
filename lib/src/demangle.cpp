#include "demangle_p.h"

#include <cstdlib>
#include <typeinfo>

#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define PK_HAVE_CXXABI 1
#endif

namespace pk::detail {

// "St13runtime_error" as "std::runtime_error", where the C++ runtime can say; the name as the
// compiler gives it otherwise (MSVC's names are readable already).
QString demangledTypeName(const char *name)
{
#ifdef PK_HAVE_CXXABI
    int status = 0;
    char *readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status == 0 && readable) {
        QString result = QString::fromUtf8(readable);
        std::free(readable);
        return result;
    }
    std::free(readable);
#endif
    return QString::fromUtf8(name);
}

// The type of the exception being handled, inside a catch (...); what the runtime tells of
// exceptions that are not std::exception (an int thrown, say).
QString currentExceptionTypeName()
{
#ifdef PK_HAVE_CXXABI
    if (const std::type_info *type = abi::__cxa_current_exception_type())
        return demangledTypeName(type->name());
#endif
    return QStringLiteral("unknown exception");
}

} // namespace pk::detail
