// The state behind PromiseKeeper::map(): items submitted with bounded concurrency, results
// gathered in input order.
#pragma once

#include <pk/detail/aggregate.h>
#include <pk/mapoptions.h>
#include <pk/promise.h>

#include <QtCore/qlist.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace pk::detail {

//! Queues map item \a task on \a keeper: accepted with its map, it follows the shutdown
//! mode (run by Drain, cancelled by CancelPending) rather than failing as a new submission.
PROMISEKEEPER_EXPORT void enqueueOn(
    TaskScheduler *keeper, TaskCore *task, const TaskOptions &options);
PROMISEKEEPER_EXPORT void refKeeper(TaskScheduler *keeper) noexcept;
//! Fails \a result at once, with a warning, if \a keeper is shut down or the callable is
//! empty; otherwise holds the keeper open (waitForAll() and shutdown() wait) until
//! releaseMapHold().
PROMISEKEEPER_EXPORT bool admitMap(TaskScheduler *keeper, TaskCore *result, bool emptyCallable);
PROMISEKEEPER_EXPORT void releaseMapHold(TaskScheduler *keeper) noexcept;
PROMISEKEEPER_EXPORT void derefKeeper(TaskScheduler *keeper) noexcept;

template<typename Fn, typename Item, typename R>
class MapState : public std::enable_shared_from_this<MapState<Fn, Item, R>>
{
public:
    using Result = ListOf<R>;

    MapState(TaskScheduler *keeper, Fn fn, std::vector<Item> items, const MapOptions &options)
        : m_keeper(keeper)
        , m_fn(std::move(fn))
        , m_items(std::move(items))
        , m_options(options)
        , m_results(m_items.size())
        , m_finished(m_items.size(), false)
        , m_enqueued(m_items.size(), false)
    {
        refKeeper(keeper);
        auto *core = new AggregateCore<Result>();
        m_result = adoptPromise<Result>(core);
    }
    ~MapState()
    {
        releaseHold();
        derefKeeper(m_keeper);
    }

    Promise<Result> start()
    {
        m_result.taskCore()->setInputs(TaskKind::Combinator, nullptr, 0);
        m_result.taskCore()->initDetached(m_options.item.title.isEmpty()
                ? QStringLiteral("map")
                : QStringLiteral("map: %1").arg(m_options.item.title),
            m_keeper);
        if (!admitMap(m_keeper, m_result.taskCore(), isEmptyCallable(m_fn)))
            return m_result;
        m_holding = true;
        if (m_items.empty()) {
            settleWith(resultCore(), [] { return collect({}); });
            releaseHold();
            return m_result;
        }
        // Cancelling the map's promise stops it: nothing more is launched and the items not
        // started yet are cancelled. A weak reference, so that the result does not keep the
        // state alive.
        whenFinal(m_result.taskCore(), [weak = this->weak_from_this()](TaskCore *result) {
            auto self = weak.lock();
            if (!self)
                return;
            if (result && result->state() == TaskState::Cancelled)
                self->stop();
            // Settled: it launches nothing more, and a drain that waited sees it final.
            self->releaseHold();
        });
        const std::size_t first = m_options.maxInFlight > 0
            ? std::min(m_items.size(), std::size_t(m_options.maxInFlight))
            : m_items.size();
        m_next = first;
        for (std::size_t i = 0; i < first; ++i)
            launch(i);
        return m_result;
    }

private:
    ValueCore<Result> *resultCore() const
    {
        return static_cast<ValueCore<Result> *>(m_result.taskCore());
    }

    // Submits item \a i; called without m_mutex held, since a task that fails at once
    // (shutdown) reports back on this thread.
    void launch(std::size_t i)
    {
        auto self = this->shared_from_this();
        // m_fn is called from several workers at once, as const; with the item's TaskContext
        // first if it takes one.
        auto call = [self, i](auto &...context) -> R {
            return std::invoke(std::as_const(self->m_fn), context..., self->m_items[i]);
        };
        constexpr bool withContext = !std::is_invocable_v<const Fn &, const Item &>;
        auto *core = new CallableCore<R, false, withContext, decltype(call)>(std::move(call));
        Promise<R> promise = adoptPromise<R>(core);
        {
            std::lock_guard lock(m_mutex);
            m_results[i] = promise;
        }
        whenFinal(core, [self, i](TaskCore *task) { self->finished(i, task); });
        TaskOptions options = m_options.item;
        options.title = QStringLiteral("%1 [%2]")
                            .arg(options.title.isEmpty() ? QStringLiteral("map") : options.title)
                            .arg(i);
        enqueueOn(m_keeper, core, options);
        bool stopped;
        {
            std::lock_guard lock(m_mutex);
            m_enqueued[i] = true;
            stopped = m_stopped;
        }
        if (stopped) // the map stopped while this item was being queued
            promise.cancel();
    }

    // Launches nothing more; \a toCancel gets the items queued and not final. An item still
    // being queued is left to launch(), which cancels it once the keeper has it: a cancel
    // before that would reach a task the keeper does not account for yet.
    void stop_locked(std::vector<Promise<R>> &toCancel)
    {
        m_next = m_items.size();
        m_stopped = true;
        for (std::size_t j = 0; j < m_results.size(); ++j) {
            if (m_enqueued[j] && !m_results[j].isReady())
                toCancel.push_back(m_results[j]);
        }
    }

    void releaseHold() noexcept
    {
        if (m_holding.exchange(false))
            releaseMapHold(m_keeper);
    }

    void stop()
    {
        std::vector<Promise<R>> toCancel;
        {
            std::lock_guard lock(m_mutex);
            stop_locked(toCancel);
        }
        for (Promise<R> &p : toCancel)
            p.cancel();
    }

    void finished(std::size_t i, TaskCore *task)
    {
        std::vector<std::size_t> toLaunch;
        std::vector<Promise<R>> toCancel;
        TaskCore *failedItem = nullptr;
        bool allSucceeded = false;
        {
            std::lock_guard lock(m_mutex);
            m_finished[i] = true;
            ++m_done;
            if (task->state() != TaskState::Succeeded)
                m_firstBad = std::min(m_firstBad, i);
            while (m_prefixDone < m_items.size() && m_finished[m_prefixDone])
                ++m_prefixDone;
            const bool over = isFinal(m_result.state());
            if (m_firstBad < m_items.size() && m_prefixDone >= m_firstBad) {
                // Everything before the earliest failure is done: that failure is the answer.
                failedItem = m_results[m_firstBad].taskCore();
            } else if (m_done == m_items.size()) {
                allSucceeded = true;
            } else if (!over && m_firstBad >= m_items.size() && m_next < m_items.size()) {
                toLaunch.push_back(m_next++);
            }
            if (failedItem || over)
                stop_locked(toCancel);
        }
        if (failedItem)
            settleLike(resultCore(), failedItem);
        else if (allSucceeded)
            settleWith(resultCore(), [this] { return collect(m_results); });
        for (Promise<R> &p : toCancel)
            p.cancel();
        for (std::size_t next : toLaunch)
            launch(next);
    }

    static Result collect(std::vector<Promise<R>> results)
    {
        if constexpr (!std::is_void_v<R>) {
            Result values;
            values.reserve(qsizetype(results.size()));
            // Nobody else holds the items' promises: their values can be moved out.
            for (Promise<R> &p : results)
                values.append(std::move(*static_cast<ValueCore<R> *>(p.taskCore())->value));
            return values;
        }
    }

    TaskScheduler *m_keeper;
    Fn m_fn;
    std::vector<Item> m_items;
    MapOptions m_options;
    Promise<Result> m_result;
    std::mutex m_mutex;
    std::vector<Promise<R>> m_results;
    std::vector<bool> m_finished;
    std::vector<bool> m_enqueued; // the keeper has the item: it may be cancelled
    bool m_stopped = false;
    std::size_t m_next = 0;
    std::size_t m_done = 0;
    std::size_t m_prefixDone = 0;
    std::size_t m_firstBad = std::size_t(-1); // the earliest item that did not succeed
    std::atomic<bool> m_holding { false }; // holds the keeper open while it may launch items
};

} // namespace pk::detail
