// pk::asCompleted(): promises in the order they finish.
#pragma once

#include <pk/promise.h>

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qlist.h>

#include <iterator>
#include <memory>
#include <vector>

namespace pk {
namespace detail {

/*!
    The untyped part of AsCompleted: a queue that each input's completion feeds. Inputs are
    deduplicated; an invalid (default) promise counts as finished at once. Thread-safe.
*/
class PROMISEKEEPER_EXPORT CompletionQueue
{
public:
    explicit CompletionQueue(const std::vector<TaskCore *> &inputs);
    ~CompletionQueue();
    CompletionQueue(const CompletionQueue &) = delete;
    CompletionQueue &operator=(const CompletionQueue &) = delete;

    //! Distinct inputs.
    qsizetype size() const noexcept { return m_total; }
    //! Inputs not handed out by next() yet.
    qsizetype remaining() const;
    /*!
        The next input to finish (with a reference for the caller), in finishing order; blocks
        until one finishes or \a deadline passes. \a ok is false at the end or on time-out
        (then the result is null). An invalid input comes back as null with \a ok true. On the
        thread of a manual-mode keeper it runs that keeper's pending tasks instead of blocking.
    */
    TaskCore *next(QDeadlineTimer deadline, bool *ok);

    struct State; // shared with the inputs' completion links

private:
    std::shared_ptr<State> m_state;
    qsizetype m_total = 0;
};

} // namespace detail

/*!
    Yields \a promises as they finish, in finishing order, whatever the outcome (cancelled
    ones included, also when a keeper's shutdown cancelled them); a promise listed twice comes
    once. Range-for blocks until the next one is final:

    \code
    for (const pk::Promise<QImage> &p : pk::asCompleted(thumbnails))
        show(p.result());
    \endcode

    Not copyable; use it from one thread. For GUI code, pk::PromiseWatcher gives the same order
    as signals without blocking.
*/
template<typename T>
class AsCompleted
{
public:
    //! Starts following \a promises (a promise listed twice counts once); pk::asCompleted()
    //! makes one with the type deduced.
    explicit AsCompleted(const QList<Promise<T>> &promises)
        : m_queue(std::make_unique<detail::CompletionQueue>(cores(promises)))
    { }

    //! Distinct promises.
    qsizetype size() const noexcept { return m_queue->size(); }
    //! Whether promises remain to be yielded.
    bool hasNext() const { return m_queue->remaining() > 0; }

    /*!
        The next promise to finish, waiting up to \a deadline; an invalid Promise at the end or
        on time-out (check hasNext() to tell them apart).
    */
    Promise<T> next(QDeadlineTimer deadline = QDeadlineTimer(QDeadlineTimer::Forever))
    {
        bool ok = false;
        detail::TaskCore *core = m_queue->next(deadline, &ok);
        if (!core)
            return {};
        return detail::adoptPromise<T>(static_cast<detail::ValueCore<T> *>(core));
    }

    //! What end() returns: an iterator equals it once every promise has been yielded.
    struct Sentinel
    {
    };
    /*!
        The single-pass iterator of a range-for over an AsCompleted: begin() and each increment
        block until the next promise is final. It takes the promises from its AsCompleted, so
        next() and a second begin() go on from where it stopped. Use it from the thread that
        uses its AsCompleted; it must not outlive it.
    */
    class iterator
    {
    public:
        //! A single-pass input iterator.
        using iterator_category = std::input_iterator_tag;
        //! Each element is a final promise.
        using value_type = Promise<T>;
        //! The standard difference type; the iterator cannot be subtracted.
        using difference_type = std::ptrdiff_t;
        //! What operator->() returns.
        using pointer = const Promise<T> *;
        //! What operator*() returns.
        using reference = const Promise<T> &;

        //! The promise that finished last; it is final, so reading it does not block.
        const Promise<T> &operator*() const { return m_current; }
        //! The promise that finished last, for member access.
        const Promise<T> *operator->() const { return &m_current; }
        //! Moves to the next promise to finish, blocking until it is final, or to the end.
        iterator &operator++()
        {
            advance();
            return *this;
        }
        //! Whether \a it is past the last promise.
        friend bool operator==(const iterator &it, Sentinel) { return it.m_atEnd; }
        //! Whether \a it still refers to a promise.
        friend bool operator!=(const iterator &it, Sentinel) { return !it.m_atEnd; }

    private:
        friend class AsCompleted;
        explicit iterator(AsCompleted *owner)
            : m_owner(owner)
        {
            advance();
        }
        void advance()
        {
            m_atEnd = !m_owner->hasNext();
            if (!m_atEnd)
                m_current = m_owner->next();
        }
        AsCompleted *m_owner;
        Promise<T> m_current;
        bool m_atEnd = false;
    };

    //! Starts the range-for: blocks until the first promise is final (at the end at once if
    //! none remains).
    iterator begin() { return iterator(this); }
    //! The end of the range-for; see Sentinel.
    Sentinel end() const { return {}; }

private:
    static std::vector<detail::TaskCore *> cores(const QList<Promise<T>> &promises)
    {
        std::vector<detail::TaskCore *> list;
        list.reserve(std::size_t(promises.size()));
        for (const Promise<T> &p : promises)
            list.push_back(p.taskCore());
        return list;
    }
    std::unique_ptr<detail::CompletionQueue> m_queue;
};

//! The promises of \a promises in the order they finish; see AsCompleted.
template<typename T>
AsCompleted<T> asCompleted(const QList<Promise<T>> &promises)
{
    return AsCompleted<T>(promises);
}

} // namespace pk
