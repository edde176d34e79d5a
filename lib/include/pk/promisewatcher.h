// pk::PromiseWatcher: signals as promises finish, for GUI code that must not block.
#pragma once

#include <pk/promise.h>
#include <pk/promisekeeper_export.h>

#include <QtCore/qlist.h>
#include <QtCore/qobject.h>

#include <memory>

namespace pk {

class PromiseWatcherPrivate;

/*!
    Watches promises and emits promiseFinished(index) for each, in the order they finish (the
    non-blocking form of pk::asCompleted()), then allFinished(). Works with promises of any
    keeper and type, and with promises that are final already (their signal still comes
    through the event loop, never inside addPromise()).

    Finished promises are reported in batches: one queued call per batch, not per promise.
    Lives in one thread: create, use and destroy it there; the signals are emitted there.

    \code
    auto *watcher = new pk::PromiseWatcher(this);
    watcher->addPromises(thumbnails);
    connect(watcher, &pk::PromiseWatcher::promiseFinished, this,
            [this](int i) { showThumbnail(i, thumbnails[i].result()); });
    \endcode
*/
class PROMISEKEEPER_EXPORT PromiseWatcher : public QObject
{
    Q_OBJECT
    //! The number of promises added; see count().
    Q_PROPERTY(int count READ count NOTIFY promiseAdded)
    //! The number of promises reported finished; see finishedCount().
    Q_PROPERTY(int finishedCount READ finishedCount NOTIFY promiseFinished)

public:
    //! Makes a watcher with no promises, a child of \a parent, living in the current thread.
    explicit PromiseWatcher(QObject *parent = nullptr);
    ~PromiseWatcher() override;

    //! Watches \a promise; returns its index (the order of the calls).
    int addPromise(const PromiseBase &promise);
    //! Watches each of \a promises with addPromise(), in list order, so their indices follow
    //! on from count().
    template<typename T>
    void addPromises(const QList<Promise<T>> &promises)
    {
        for (const Promise<T> &p : promises)
            addPromise(p);
    }

    //! How many promises were added; the next addPromise() gets this index.
    int count() const;
    //! How many promises promiseFinished() has reported so far.
    int finishedCount() const;
    //! The promise at \a index, untyped (state, errors, info); keep your typed list for values.
    PromiseBase promise(int index) const;

Q_SIGNALS:
    //! Emitted by addPromise(), before it returns, for the promise now at \a index.
    void promiseAdded(int index);
    //! The promise at \a index is final. In finishing order, from the event loop of the
    //! watcher's thread, never inside addPromise().
    void promiseFinished(int index);
    //! Every promise added so far is final: emitted after the promiseFinished() of the batch
    //! that completed the count, on the watcher's thread.
    void allFinished();

private:
    std::unique_ptr<PromiseWatcherPrivate> d;
};

} // namespace pk
