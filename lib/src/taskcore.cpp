#include "clock_p.h"
#include "demangle_p.h"
#include "taskextras_p.h"
#include "taskscheduler_p.h"
#include "waitstripes_p.h"

#include <pk/detail/taskcore.h>
#include <pk/errors.h>
#include <pk/taskinfo.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <typeinfo>

namespace pk::detail {

// A retained Promise<int> is one heap block of its CallableCore: 8 bytes more here move it to
// the next malloc size class (pk-bench's "heap bytes each" row).
static_assert(sizeof(void *) != 8 || sizeof(TaskCore) <= 136, "TaskCore grew past 136 bytes");

namespace {
// Tasks whose continuations are due on this thread. While one completion is being processed,
// completions it causes (a dependent failing, a combinator settling) are queued here instead
// of recursing: the stack stays flat whatever the length of a chain.
struct CompletionQueue
{
    bool draining = false;
    std::deque<TaskCore *> due; // each holds a reference
};
thread_local CompletionQueue t_completions;

void drainCompletions(TaskCore *first) noexcept
{
    CompletionQueue &q = t_completions;
    q.due.push_back(first);
    if (q.draining)
        return;
    q.draining = true;
    while (!q.due.empty()) {
        TaskCore *task = q.due.front();
        q.due.pop_front();
        task->runContinuationsAndDeref();
    }
    q.draining = false;
}
} // namespace

quint64 nextTaskId() noexcept
{
    static std::atomic<quint64> last { 0 };
    return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

Continuation::~Continuation() = default;

TaskCore::TaskCore() noexcept = default;

TaskCore::~TaskCore()
{
    if (m_manyInputs)
        delete m_inputIds;
    delete m_extras.load(std::memory_order_relaxed);
    if (m_keeper)
        m_keeper->deref();
}

TaskExtras &TaskCore::ensureExtras()
{
    TaskExtras *extras = m_extras.load(std::memory_order_acquire);
    if (extras)
        return *extras;
    // The running task and a thread calling future() may both be first.
    auto *made = new TaskExtras;
    if (m_extras.compare_exchange_strong(
            extras, made, std::memory_order_acq_rel, std::memory_order_acquire))
        return *made;
    delete made;
    return *extras;
}

void TaskCore::setTimeout(qint64 msecs)
{
    if (msecs > 0)
        ensureExtras().timeoutMs = msecs;
}

void TaskCore::noteUpdate() noexcept
{
    // One event until the keeper's thread delivered it: a task that reports 10 000 times a
    // second costs the keeper's thread one event per batch.
    if (!m_updatePending.exchange(true, std::memory_order_acq_rel) && m_keeper)
        m_keeper->recordUpdate(this);
}

void TaskCore::setProcessId(qint64 pid) noexcept
{
    ensureExtras().processId.store(pid, std::memory_order_relaxed);
    noteUpdate();
}

void TaskCore::setProgressRange(qint64 minimum, qint64 maximum) noexcept
{
    TaskExtras &extras = ensureExtras();
    extras.progressMinimum.store(minimum, std::memory_order_relaxed);
    extras.progressMaximum.store(std::max(minimum, maximum), std::memory_order_relaxed);
    progressToFutures();
    noteUpdate();
}

void TaskCore::setProgressValue(qint64 value) noexcept
{
    TaskExtras &extras = ensureExtras();
    if (extras.progressValue.exchange(value, std::memory_order_relaxed) == value)
        return;
    progressToFutures();
    noteUpdate();
}

void TaskCore::setProgressText(const QString &text)
{
    TaskExtras &extras = ensureExtras();
    {
        std::lock_guard lock(waitStripeFor(this).mutex);
        if (extras.progressText == text)
            return;
        extras.progressText = text;
    }
    progressToFutures();
    noteUpdate();
}

namespace {
// QFutureInterface's progress is an int.
int clampedToInt(qint64 value)
{
    return int(std::clamp<qint64>(
        value, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}
} // namespace

void TaskCore::progressToFutures()
{
    if (!(m_cancelFlags.load(std::memory_order_acquire) & FutureLinked))
        return;
    TaskExtras &extras = *this->extras();
    std::lock_guard lock(waitStripeFor(this).mutex);
    for (QFutureInterfaceBase &future : extras.futures) {
        future.setProgressRange(
            clampedToInt(extras.progressMinimum.load(std::memory_order_relaxed)),
            clampedToInt(extras.progressMaximum.load(std::memory_order_relaxed)));
        future.setProgressValueAndText(
            clampedToInt(extras.progressValue.load(std::memory_order_relaxed)),
            extras.progressText);
    }
}

void TaskCore::linkFuture(const QFutureInterfaceBase &future)
{
    TaskExtras &extras = ensureExtras();
    {
        std::lock_guard lock(waitStripeFor(this).mutex);
        extras.futures.append(future);
    }
    m_cancelFlags.fetch_or(FutureLinked, std::memory_order_acq_rel);
    progressToFutures(); // what was reported before
}

bool TaskCore::futureCancelled() const noexcept
{
    const TaskExtras *extras = this->extras();
    if (!extras)
        return false;
    bool cancelled = false;
    {
        std::lock_guard lock(waitStripeFor(this).mutex);
        for (const QFutureInterfaceBase &future : extras->futures)
            cancelled = cancelled || future.isCanceled();
    }
    if (cancelled) // cheap from now on, and shown as "cancelling"
        const_cast<TaskCore *>(this)->m_cancelFlags.fetch_or(
            CancelRequested, std::memory_order_acq_rel);
    return cancelled;
}

void TaskCore::setInputs(TaskKind kind, TaskCore *const *inputs, std::size_t count) noexcept
{
    Q_ASSERT(!m_manyInputs);
    m_kind = kind;
    // An invalid (default-constructed) input has no id; 0 keeps the argument's place.
    const auto idOf = [](const TaskCore *input) { return input ? input->m_id : quint64(0); };
    if (count == 1) {
        m_inputId = idOf(inputs[0]);
    } else if (count > 1) {
        auto *ids = new QList<quint64>;
        ids->reserve(qsizetype(count));
        for (std::size_t i = 0; i < count; ++i)
            ids->append(idOf(inputs[i]));
        m_inputIds = ids;
        m_manyInputs = true;
    }
}

void TaskCore::inheritTitle(const TaskCore *input, TitleVerb verb) noexcept
{
    Q_ASSERT(verb != TitleVerb::None);
    m_titleVerb = verb;
    // A copy of an implicitly shared string: no allocation, whatever the chain's length. A
    // continuation of an untitled continuation names the same task: "then ← decode".
    if (input)
        m_title = input->m_title;
}

const char *titleVerbName(TitleVerb verb) noexcept
{
    static const char *const names[] = { "", "then", "onFailed", "onCancelled", "finally" };
    return names[int(verb)];
}

QString TaskCore::continuationTitle() const
{
    Q_ASSERT(m_titleVerb != TitleVerb::None);
    QString title = QLatin1String(titleVerbName(m_titleVerb));
    if (!m_title.isEmpty())
        title.append(u" \u2190 ").append(m_title);
    else if (!m_manyInputs && m_inputId != 0)
        title.append(u" \u2190 task ").append(QString::number(m_inputId));
    return title;
}

void TaskCore::run() noexcept
{
    try {
        invoke();
    } catch (const CancelledError &) {
        // Ends Cancelled if cancellation was asked for (see TaskScheduler::finish_locked()).
        m_error = std::current_exception();
        m_cancelFlags.fetch_or(ThrewCancelled, std::memory_order_relaxed);
    } catch (...) {
        // Whatever the task threw stays in the promise; nothing escapes a worker thread.
        m_error = std::current_exception();
    }
    dropCallable();
}

void TaskCore::completed() noexcept
{
    // Pairs with the fences in waitUntilFinal() and addContinuation(): either this thread sees
    // their registration, or they see the final state.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // Continuations first: a thread woken from wait() must not get ahead of them (asCompleted()
    // hands promises out in the order their continuations ran).
    if (m_continuations.load(std::memory_order_relaxed) != nullptr) {
        ref();
        drainCompletions(this);
    }
    wakeWaiters();
}

void TaskCore::addContinuation(Continuation *continuation) noexcept
{
    {
        std::lock_guard lock(waitStripeFor(this).mutex);
        continuation->m_next = m_continuations.load(std::memory_order_relaxed);
        m_continuations.store(continuation, std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (isFinal(state())) {
        ref();
        drainCompletions(this);
    }
}

void TaskCore::runContinuationsAndDeref() noexcept
{
    Continuation *list;
    {
        // Whoever takes the list runs it: the finishing thread or a late attacher, never both.
        std::lock_guard lock(waitStripeFor(this).mutex);
        list = m_continuations.exchange(nullptr, std::memory_order_relaxed);
    }
    Continuation *ordered = nullptr; // the list is newest first; run in attachment order
    while (list) {
        Continuation *next = list->m_next;
        list->m_next = ordered;
        ordered = list;
        list = next;
    }
    while (ordered) {
        Continuation *next = ordered->m_next;
        ordered->run(this);
        delete ordered;
        ordered = next;
    }
    deref();
}

void TaskCore::publishSettlement(TaskState state, std::exception_ptr error) noexcept
{
    if (error)
        m_error = std::move(error);
    m_finishedNs = monotonicNs();
    m_state.store(state, std::memory_order_release);
    completed();
}

void TaskCore::initDetached(const QString &title, TaskScheduler *runner) noexcept
{
    m_id = nextTaskId();
    m_title = title;
    m_detached = true;
    m_state.store(TaskState::Waiting, std::memory_order_relaxed);
    m_queuedNs = monotonicNs();
    if (runner) {
        runner->ref();
        m_keeper = runner;
    }
}

void TaskCore::wakeWaiters() noexcept
{
    if (m_waiters.load() == 0)
        return;
    WaitStripe &stripe = waitStripeFor(this);
    // Taking the mutex orders this wake after a waiter's check of the state (see
    // waitUntilFinal()): the waiter is then either asleep or will see the final state.
    {
        std::lock_guard lock(stripe.mutex);
    }
    stripe.finished.notify_all();
}

bool TaskCore::waitUntilFinal(QDeadlineTimer deadline) noexcept
{
    if (isFinal(state()))
        return true;
    // Manual mode on the keeper's thread, or a worker of the task's keeper: the queue may be
    // waiting for this very thread, which runs it (the awaited task first) instead of blocking.
    // Work can still arrive (an input the awaited task waits for), so such a waiter looks
    // again every few milliseconds.
    TaskScheduler *helping = m_keeper && m_keeper->waitsMustHelp() ? m_keeper : nullptr;
    constexpr auto kHelpAgain = std::chrono::milliseconds(2);
    WaitStripe &stripe = waitStripeFor(this);
    const auto finalState = [this] { return isFinal(state()); };
    for (;;) {
        if (helping) {
            while (!isFinal(state()) && helping->runOnePending(this)) { }
        }
        if (isFinal(state()))
            return true;
        m_waiters.fetch_add(1);
        std::atomic_thread_fence(std::memory_order_seq_cst); // pairs with the fence in completed()
        std::unique_lock lock(stripe.mutex);
        bool finished;
        if (deadline.isForever() && !helping) {
            stripe.finished.wait(lock, finalState);
            finished = true;
        } else {
            auto until = deadline.deadline<std::chrono::steady_clock>();
            if (helping)
                until = std::min(until, std::chrono::steady_clock::now() + kHelpAgain);
            finished = stripe.finished.wait_until(lock, until, finalState);
        }
        lock.unlock();
        m_waiters.fetch_sub(1);
        if (finished)
            return true;
        if (deadline.hasExpired())
            return false;
    }
}

void TaskCore::fillInfo(TaskInfo &info, TaskState upTo) const
{
    info.setId(m_id);
    info.setTitle(displayTitle());
    info.setKind(m_kind);
    if (m_manyInputs)
        info.setInputIds(*m_inputIds);
    else if (m_inputId != 0)
        info.setInputIds({ m_inputId });
    info.setPriority(m_priority);
    info.setState(upTo);
    info.setQueuedAtNsecs(m_queuedNs);
    if (upTo >= TaskState::Running) {
        info.setStartedAtNsecs(m_startedNs);
        info.setWorkerIndex(m_worker);
    }
    if (isFinal(upTo))
        info.setFinishedAtNsecs(m_finishedNs);
    if (const TaskExtras *extras = this->extras()) {
        info.setProgressRange(extras->progressMinimum.load(std::memory_order_relaxed),
            extras->progressMaximum.load(std::memory_order_relaxed));
        info.setProgressValue(extras->progressValue.load(std::memory_order_relaxed));
        std::lock_guard lock(waitStripeFor(this).mutex);
        info.setProgressText(extras->progressText);
        info.setProcessId(extras->processId.load(std::memory_order_relaxed));
    }
    info.setCancellationRequested(isCancellationRequested());
    if (upTo == TaskState::Failed) {
        try {
            std::rethrow_exception(m_error);
        } catch (const std::exception &e) {
            info.setErrorString(QString::fromUtf8(e.what()));
            info.setErrorType(demangledTypeName(typeid(e).name()));
        } catch (...) {
            info.setErrorString(QStringLiteral("unknown exception"));
            info.setErrorType(currentExceptionTypeName());
        }
    }
}

} // namespace pk::detail
