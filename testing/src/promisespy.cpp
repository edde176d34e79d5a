#include <pk/eventstream.h>
#include <pk/promise.h>
#include <pk/promisekeeper.h>
#include <pk/test/drain.h>
#include <pk/test/promisespy.h>

#include <QtCore/qhash.h>
#include <QtCore/qpointer.h>

namespace pk {

class PromiseSpyPrivate final : public EventListener
{
public:
    PromiseSpyPrivate(PromiseSpy *spy, PromiseKeeper *watched, const PromiseBase *one)
        : q(spy)
        , keeper(watched)
        , promise(one ? *one : PromiseBase())
        , watchedId(one ? one->id() : 0)
        , watchAll(!one)
    { }

    bool wanted(quint64 id) const { return watchAll || id == watchedId; }

    void record(quint64 id, TaskState state)
    {
        if (!wanted(id))
            return;
        auto it = byTask.find(id);
        if (it == byTask.end()) {
            order.append(id);
            it = byTask.insert(id, {});
        }
        // A snapshot and the first event after it may both carry the state the task is in.
        if (!it->isEmpty() && it->last() == state && !isFinal(state))
            return;
        it->append(state);
        all.append(state);
        Q_EMIT q->stateRecorded(id, state);
    }

    void snapshot(const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished) override
    {
        for (const TaskInfo &info : recentlyFinished)
            record(info.id(), info.state());
        for (const TaskInfo &info : live)
            record(info.id(), info.state());
    }

    void taskEvents(const TaskEvent *events, qsizetype count) override
    {
        for (const TaskEvent *e = events, *end = events + count; e != end; ++e) {
            if (e->isStateChange())
                record(e->taskId(), e->state());
        }
    }

    bool finalRecorded() const
    {
        if (!watchAll) {
            const auto it = byTask.constFind(watchedId);
            return it != byTask.cend() && !it->isEmpty() && pk::isFinal(it->last());
        }
        if (order.isEmpty())
            return false;
        for (const QList<TaskState> &states : byTask) {
            if (!pk::isFinal(states.last()))
                return false;
        }
        return true;
    }

    PromiseSpy *q;
    QPointer<PromiseKeeper> keeper;
    PromiseBase promise;
    quint64 watchedId;
    bool watchAll;
    QList<quint64> order;
    QHash<quint64, QList<TaskState>> byTask;
    QList<TaskState> all;
};

PromiseSpy::PromiseSpy(PromiseKeeper *keeper, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<PromiseSpyPrivate>(this, keeper, nullptr))
{
    if (keeper)
        keeper->addEventListener(d.get());
}

PromiseSpy::PromiseSpy(PromiseKeeper *keeper, const PromiseBase &promise, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<PromiseSpyPrivate>(this, keeper, &promise))
{
    if (keeper)
        keeper->addEventListener(d.get());
}

PromiseSpy::~PromiseSpy()
{
    if (d->keeper)
        d->keeper->removeEventListener(d.get());
}

QList<TaskState> PromiseSpy::states() const
{
    return d->watchAll ? d->all : d->byTask.value(d->watchedId);
}

QList<TaskState> PromiseSpy::states(quint64 taskId) const
{
    return d->byTask.value(taskId);
}

QList<quint64> PromiseSpy::taskIds() const
{
    return d->order;
}

bool PromiseSpy::isFinal() const
{
    return d->finalRecorded();
}

bool PromiseSpy::wait(int msecs)
{
    const bool noKeeperTask = !d->watchAll && d->keeper.isNull();
    const bool done = test::runUntil(
        [this, noKeeperTask] {
            if (noKeeperTask && d->promise.isReady() && !d->finalRecorded())
                d->record(d->watchedId, d->promise.state());
            return d->finalRecorded();
        },
        d->keeper, QDeadlineTimer(msecs));
    return done;
}

} // namespace pk
