// The functions registered with PK_PROCESS_TASK: by name (the child's lookup) and by address
// (submitToProcess()'s).
#include "demangle_p.h"
#include "processregistry_p.h"

#include <pk/logging.h>
#include <pk/processtask.h>

#include <QtCore/qhash.h>

#include <cstring>
#include <mutex>

namespace pk::detail {

namespace {
struct Registry
{
    std::mutex mutex;
    QHash<QByteArray, std::pair<std::uintptr_t, ProcessInvoker>> byName;
    QHash<std::uintptr_t, QByteArray> byKey;
};

// Registrations run during static initialisation, in any order: made on first use.
Registry &registry()
{
    static Registry r;
    return r;
}
} // namespace

bool registerProcessTask(const char *name, std::uintptr_t key, ProcessInvoker invoker)
{
    Registry &r = registry();
    std::lock_guard lock(r.mutex);
    const QByteArray n(name);
    auto it = r.byName.constFind(n);
    if (it != r.byName.cend()) {
        if (it->first == key)
            return true; // the same function, registered from a header in several files
        qCWarning(lcProcess,
            "PK_PROCESS_TASK(%s): another function is registered under that name; this one is "
            "not registered",
            name);
        return false;
    }
    r.byName.insert(n, { key, invoker });
    r.byKey.insert(key, n);
    return true;
}

const char *processTaskName(std::uintptr_t key) noexcept
{
    Registry &r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.byKey.constFind(key);
    // The QByteArray stays in the registry, which never forgets a function.
    return it == r.byKey.cend() ? nullptr : it->constData();
}

QString unregisteredProcessTaskMessage(const char *typeName, std::uintptr_t key)
{
    return QStringLiteral("submitToProcess: the function at 0x%1 (%2) is not registered with "
                          "PK_PROCESS_TASK")
        .arg(quint64(key), 0, 16)
        .arg(demangledTypeName(typeName));
}

ProcessInvoker processInvoker(const QByteArray &name) noexcept
{
    Registry &r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.byName.constFind(name);
    return it == r.byName.cend() ? nullptr : it->second;
}

} // namespace pk::detail
