#include "queuedcall_p.h"

#include <pk/detail/aggregate.h>
#include <pk/promisewatcher.h>

#include <QtCore/qmetaobject.h>
#include <QtCore/qpointer.h>

#include <mutex>
#include <vector>

namespace pk {

namespace {
// Where completion links leave finished indices for the watcher's thread. The watcher clears
// \c watcher under the mutex when it dies, so a link never posts to a dead object.
struct Inbox
{
    std::mutex mutex;
    PromiseWatcher *watcher = nullptr;
    std::vector<int> finished;
    bool posted = false;
};
} // namespace

class PromiseWatcherPrivate
{
public:
    std::shared_ptr<Inbox> inbox = std::make_shared<Inbox>();
    QList<PromiseBase> promises;
    int finished = 0;
};

PromiseWatcher::PromiseWatcher(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<PromiseWatcherPrivate>())
{
    d->inbox->watcher = this;
}

PromiseWatcher::~PromiseWatcher()
{
    std::lock_guard lock(d->inbox->mutex);
    d->inbox->watcher = nullptr;
}

int PromiseWatcher::addPromise(const PromiseBase &promise)
{
    const int index = int(d->promises.size());
    d->promises.append(promise);
    Q_EMIT promiseAdded(index);
    // Reports come back to this thread through the event loop, in batches.
    detail::whenFinal(promise.taskCore(), [inbox = d->inbox, index](detail::TaskCore *) {
        std::lock_guard lock(inbox->mutex);
        if (!inbox->watcher)
            return;
        inbox->finished.push_back(index);
        if (inbox->posted)
            return;
        inbox->posted = true;
        PromiseWatcher *watcher = inbox->watcher;
        detail::invokeQueued(watcher, [watcher, inbox] {
            std::vector<int> batch;
            {
                std::lock_guard take(inbox->mutex);
                batch.swap(inbox->finished);
                inbox->posted = false;
            }
            QPointer<PromiseWatcher> alive(watcher);
            for (int i : batch) {
                ++watcher->d->finished;
                Q_EMIT watcher->promiseFinished(i);
                if (!alive)
                    return;
            }
            if (!batch.empty() && watcher->d->finished == watcher->d->promises.size())
                Q_EMIT watcher->allFinished();
        });
    });
    return index;
}

int PromiseWatcher::count() const
{
    return int(d->promises.size());
}

int PromiseWatcher::finishedCount() const
{
    return d->finished;
}

PromiseBase PromiseWatcher::promise(int index) const
{
    return d->promises.value(index);
}

} // namespace pk
