// PromiseKeeper::named(): keepers registered by id, owned by the library.
#include <pk/promisekeeper.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qhash.h>
#include <QtCore/qmutex.h>
#include <QtCore/qpointer.h>
#include <QtCore/qthread.h>

namespace pk {

namespace {
struct Registry
{
    QMutex mutex;
    QHash<QString, QPointer<PromiseKeeper>> keepers;
    bool cleanupRegistered = false;

    // Deletes every named keeper: queued tasks are cancelled, running ones waited for.
    void clear()
    {
        QHash<QString, QPointer<PromiseKeeper>> doomed;
        {
            QMutexLocker lock(&mutex);
            doomed.swap(keepers);
            cleanupRegistered = false;
        }
        for (const QPointer<PromiseKeeper> &keeper : std::as_const(doomed))
            delete keeper.data();
    }
    ~Registry() { clear(); }
};

// Q_GLOBAL_STATIC(Registry, registry) with no constructor arguments trips clang's -Wpedantic
// (Qt 6.4's macro passes an empty __VA_ARGS__); this is what it expands to.
Q_GLOBAL_STATIC_WITH_ARGS(Registry, registry, ())

void clearRegistry()
{
    if (Registry *r = registry())
        r->clear();
}
} // namespace

PromiseKeeper *PromiseKeeper::named(const QString &id)
{
    Registry *r = registry();
    QMutexLocker lock(&r->mutex);
    QPointer<PromiseKeeper> &slot = r->keepers[id];
    if (!slot) {
        auto *keeper = new PromiseKeeper(1);
        keeper->setObjectName(id);
        // Signals must reach a thread that lives as long as the keeper: the main thread.
        if (QCoreApplication *app = QCoreApplication::instance()) {
            keeper->moveToThread(app->thread());
            if (!r->cleanupRegistered) {
                r->cleanupRegistered = true;
                qAddPostRoutine(clearRegistry);
            }
        }
        slot = keeper;
    }
    return slot.data();
}

} // namespace pk
