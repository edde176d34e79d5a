// Tasks that wait for others (chaining by argument, continuations): released when every
// input succeeded, settled by the first input that failed or was cancelled, with the
// DependencyError that names it.

#include "clock_p.h"
#include "taskscheduler_p.h"

#include <pk/detail/taskcore.h>
#include <pk/errors.h>

#include <QtCore/qscopeguard.h>

namespace pk::detail {

namespace {
// Attached to each input of a waiting task: counts successes, fails the task on the first
// failure or cancellation.
class DependencyLink final : public Continuation
{
public:
    DependencyLink(TaskCore *task, InputFailure mode)
        : m_task(task)
        , m_mode(mode)
    {
        task->ref();
    }
    ~DependencyLink() override { m_task->deref(); }
    void run(TaskCore *input) noexcept override
    {
        if (input->state() == TaskState::Succeeded)
            TaskScheduler::inputSucceeded(m_task);
        else
            TaskScheduler::inputFailed(m_task, input, m_mode);
    }

private:
    TaskCore *m_task;
    InputFailure m_mode;
};
} // namespace

bool TaskScheduler::submitDependent(TaskCore *task, const TaskOptions &options,
    const std::vector<TaskCore *> &inputs, InputFailure mode, bool emptyCallable, bool onContext,
    const char *caller)
{
    adopt(task, options, TaskState::Waiting);
    task->m_onContext = onContext;
    // Chaining by argument; a continuation's caller said what it continues.
    if (mode == InputFailure::Wrap)
        task->setInputs(TaskKind::Task, inputs.data(), inputs.size());
    // One extra count until every link is attached, so that inputs finishing meanwhile cannot
    // release the task early.
    task->m_pendingInputs.store(int(inputs.size()) + 1, std::memory_order_relaxed);
    // Once the task is registered below, a concurrent cancel may drop its arguments, and with
    // them the only references to its inputs: these keep the inputs until their links are on.
    for (TaskCore *input : inputs) {
        if (input)
            input->ref();
    }
    const auto releaseInputs = qScopeGuard([&inputs] {
        for (TaskCore *input : inputs) {
            if (input)
                input->deref();
        }
    });
    {
        std::unique_lock lock(m_mutex);
        task->m_queuedNs = monotonicNs();
        ++m_counts.waiting;
        if (onContext)
            ++m_contextLive;
        m_waiting.insert(task);
        record_locked(task, TaskState::Waiting, task->m_queuedNs, -1);
        if (rejectAtSubmission_locked(lock, task, emptyCallable, caller))
            return false;
    }
    for (TaskCore *input : inputs) {
        if (input)
            input->addContinuation(new DependencyLink(task, mode));
        else
            inputFailed(task, nullptr, mode);
    }
    inputSucceeded(task);
    return true;
}

void TaskScheduler::inputSucceeded(TaskCore *task)
{
    if (task->m_pendingInputs.fetch_sub(1, std::memory_order_acq_rel) != 1)
        return;
    if (task->m_onContext)
        return; // a context continuation is posted by its own link, not queued
    TaskScheduler *self = task->m_keeper;
    std::unique_lock lock(self->m_mutex);
    if (task->state() != TaskState::Waiting)
        return; // cancelled or failed meanwhile
    // Accepted before any shutdown (nothing is after one). Drain runs it; CancelPending
    // cancels what would start later (a continuation released by an input that was running).
    if (self->m_shutdown && self->m_shutdownMode == ShutdownMode::CancelPending) {
        self->cancel_locked(task, monotonicNs());
        lock.unlock();
        settled(task);
        return;
    }
    self->leaveWaiting_locked(task);
    self->queue_locked(lock, task, monotonicNs());
}

std::exception_ptr TaskScheduler::dependencyError(const TaskCore *input)
{
    const QString name = input
        ? QStringLiteral("input task %1%2")
              .arg(input->m_id)
              .arg(input->m_title.isEmpty() ? QString()
                                            : QStringLiteral(" (\"%1\")").arg(input->m_title))
        : QStringLiteral("an invalid (default-constructed) input promise");
    // Made inside a handler of the input's own failure, so that std::nested_exception
    // captures it: rethrow_nested() and cause() give the original exception back. The message
    // carries the root reason only, so that it does not grow along a chain.
    try {
        if (!input)
            throw InvalidTaskError(QStringLiteral("invalid promise"));
        if (input->state() == TaskState::Failed)
            std::rethrow_exception(input->m_error);
        throw CancelledError();
    } catch (const DependencyError &e) {
        // Nest the root cause, not the input's DependencyError: a chain of nested exceptions
        // as long as the chain of tasks would be destroyed recursively.
        const QString message = QStringLiteral("%1 failed: %2").arg(name, e.reason());
        if (!e.cause())
            return std::make_exception_ptr(DependencyError(message, input->m_id, e.reason()));
        try {
            std::rethrow_exception(e.cause());
        } catch (...) {
            return std::make_exception_ptr(DependencyError(message, input->m_id, e.reason()));
        }
    } catch (const CancelledError &e) {
        const bool cancelled = input && input->state() == TaskState::Cancelled;
        const QString reason = cancelled ? QStringLiteral("cancelled") : e.message();
        return std::make_exception_ptr(
            DependencyError(cancelled ? QStringLiteral("%1 was cancelled").arg(name)
                                      : QStringLiteral("%1 failed: %2").arg(name, reason),
                input ? input->m_id : 0, reason));
    } catch (const std::exception &e) {
        const QString reason = QString::fromUtf8(e.what());
        return std::make_exception_ptr(DependencyError(
            QStringLiteral("%1 failed: %2").arg(name, reason), input ? input->m_id : 0, reason));
    } catch (...) {
        const QString reason = QStringLiteral("unknown exception");
        return std::make_exception_ptr(DependencyError(
            QStringLiteral("%1 failed: %2").arg(name, reason), input ? input->m_id : 0, reason));
    }
}

void TaskScheduler::inputFailed(TaskCore *task, TaskCore *input, InputFailure mode)
{
    std::exception_ptr error;
    TaskState state = TaskState::Failed;
    if (mode == InputFailure::Wrap || !input) {
        error = dependencyError(input);
    } else if (input->state() == TaskState::Cancelled) {
        state = TaskState::Cancelled;
    } else {
        error = input->m_error; // then(): the original exception, unchanged
    }
    task->m_keeper->settleWaiting(task, state, std::move(error));
}

bool TaskScheduler::settleWaiting(TaskCore *task, TaskState state, std::exception_ptr error)
{
    {
        std::lock_guard lock(m_mutex);
        if (task->state() != TaskState::Waiting)
            return false; // the first failure wins; a cancel may have come first
        if (state == TaskState::Cancelled) {
            cancel_locked(task, monotonicNs());
        } else if (state == TaskState::Failed) {
            fail_locked(task, std::move(error), TaskState::Waiting);
        } else {
            const qint64 now = monotonicNs();
            task->m_finishedNs = now;
            leaveWaiting_locked(task);
            ++m_counts.succeeded;
            record_locked(task, TaskState::Succeeded, now, -1);
        }
    }
    settled(task);
    return true;
}

} // namespace pk::detail
