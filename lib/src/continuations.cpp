// Continuations: then() on a keeper's pool, and handlers run on a context object's thread.
#include "promisekeeper_p.h"
#include "queuedcall_p.h"
#include "taskscheduler_p.h"

#include <pk/detail/continuations.h>
#include <pk/detail/tsan.h>
#include <pk/logging.h>
#include <pk/promisekeeper.h>

#include <QtCore/qmetaobject.h>
#include <QtCore/qobject.h>
#include <QtCore/qscopeguard.h>

#include <memory>
#include <mutex>

namespace pk::detail {

namespace {
// Continuations of a promise that has no keeper (a combinator over no promise, a default
// promise) need somewhere to be accounted and, for then(), to run.
TaskScheduler *runnerFor(TaskCore *input)
{
    if (input && input->keeper())
        return input->keeper();
    return PromiseKeeperPrivate::get(PromiseKeeper::named(QStringLiteral("promisekeeper.default")))
        ->shared;
}

void failDetached(TaskCore *task, const QString &title, const QString &why)
{
    task->initDetached(title, nullptr);
    task->claimSettlement();
    task->publishSettlement(TaskState::Failed, std::make_exception_ptr(InvalidTaskError(why)));
}

// Whether the context still lives, decided under a mutex that its destroyed() handler takes
// too: a post either happens before the context starts dying (Qt then discards the pending
// call with the object) or not at all.
struct ContextGuard
{
    std::mutex mutex;
    bool alive = true;
    QMetaObject::Connection onDestroyed;
};
} // namespace

// The handler's run on the context's thread. Destroyed without having run (the context died
// with the call pending), it cancels the task.
class ContextJob
{
public:
    explicit ContextJob(TaskCore *task)
        : m_task(task)
    {
        task->ref();
    }
    ContextJob(const ContextJob &) = delete;
    ContextJob &operator=(const ContextJob &) = delete;
    ~ContextJob()
    {
        PK_TSAN_ACQUIRE(this); // destroyed unrun where Qt drops the queued call
        if (!m_ran)
            m_task->m_keeper->settleWaiting(m_task, TaskState::Cancelled);
        m_task->deref();
    }
    void exec()
    {
        PK_TSAN_ACQUIRE(this); // queued through Qt's event queue (a QMutex) from run()
        // The last reference may be dropped on another thread, after a hand-off through Qt.
        const auto released = qScopeGuard([this] { PK_TSAN_RELEASE(this); });
        m_ran = true;
        TaskScheduler *keeper = m_task->m_keeper;
        if (!keeper->startOutside(m_task))
            return; // cancelled meanwhile
        m_task->run(); // catches everything: an exception never reaches the event loop
        keeper->finishOutside(m_task);
    }

private:
    TaskCore *m_task;
    bool m_ran = false;
};

class ContextLink final : public Continuation
{
public:
    ContextLink(TaskCore *task, QObject *context, ContextMode mode)
        : m_task(task)
        , m_guard(std::make_shared<ContextGuard>())
        , m_mode(mode)
    {
        task->ref();
        m_context = context;
        m_guard->onDestroyed = QObject::connect(context, &QObject::destroyed, [guard = m_guard] {
            std::lock_guard lock(guard->mutex);
            guard->alive = false;
        });
    }
    ~ContextLink() override
    {
        QObject::disconnect(m_guard->onDestroyed);
        m_task->deref();
    }

    void run(TaskCore *input) noexcept override
    {
        TaskScheduler *keeper = m_task->m_keeper;
        const TaskState state = input->state();
        const bool runs = m_mode == ContextMode::Finally
            || (m_mode == ContextMode::Then && state == TaskState::Succeeded)
            || (m_mode == ContextMode::OnFailed && state == TaskState::Failed)
            || (m_mode == ContextMode::OnCancelled && state == TaskState::Cancelled);
        if (!runs) {
            // The outcome passes on unchanged.
            if (state == TaskState::Succeeded) {
                try {
                    m_task->passThrough(input);
                    keeper->settleWaiting(m_task, TaskState::Succeeded);
                } catch (...) {
                    keeper->settleWaiting(m_task, TaskState::Failed, std::current_exception());
                }
            } else {
                keeper->settleWaiting(m_task, state, input->error());
            }
            return;
        }
        if (m_mode == ContextMode::Finally && state == TaskState::Cancelled)
            m_task->m_cancelAfterRun = true;
        auto job = std::make_shared<ContextJob>(m_task);
        PK_TSAN_RELEASE(job.get());
        std::lock_guard lock(m_guard->mutex);
        if (m_guard->alive)
            invokeQueued(m_context, [job] { job->exec(); });
        // Otherwise the job dies here, unrun: the task ends Cancelled.
    }

private:
    TaskCore *m_task;
    QObject *m_context = nullptr; // only dereferenced by Qt while m_guard says it is alive
    std::shared_ptr<ContextGuard> m_guard;
    ContextMode m_mode;
};

namespace {
TitleVerb verbOf(ContextMode mode)
{
    switch (mode) {
    case ContextMode::Then:
        return TitleVerb::Then;
    case ContextMode::OnFailed:
        return TitleVerb::OnFailed;
    case ContextMode::OnCancelled:
        return TitleVerb::OnCancelled;
    case ContextMode::Finally:
        return TitleVerb::Finally;
    }
    Q_UNREACHABLE();
    return TitleVerb::None;
}

// What a continuation continues, and its title if \a options gives none; before the keeper
// publishes the task.
TaskOptions describeContinuation(
    TaskCore *input, TaskCore *task, ContextMode mode, const TaskOptions *options)
{
    task->setInputs(TaskKind::Continuation, &input, 1);
    TaskOptions effective = options ? *options : TaskOptions();
    if (effective.title.isEmpty())
        task->inheritTitle(input, verbOf(mode));
    return effective;
}
} // namespace

void submitThen(TaskCore *input, TaskCore *task, const TaskOptions *options, bool emptyCallable)
{
    if (!input) {
        failDetached(task,
            options && !options->title.isEmpty() ? options->title : QStringLiteral("then"),
            QStringLiteral("then() on an invalid (default-constructed) promise"));
        return;
    }
    TaskOptions effective = describeContinuation(input, task, ContextMode::Then, options);
    if (!options)
        effective.priority = input->priority();
    runnerFor(input)->submitDependent(
        task, effective, { input }, InputFailure::Propagate, emptyCallable, false, "then()");
}

void attachOnContext(TaskCore *input, TaskCore *task, QObject *context, ContextMode mode,
    const TaskOptions *options, bool emptyCallable)
{
    const char *name = titleVerbName(verbOf(mode));
    if (!input || !context) {
        failDetached(task,
            options && !options->title.isEmpty() ? options->title : QString::fromLatin1(name),
            input ? QStringLiteral("%1() with a null context object").arg(QLatin1String(name))
                  : QStringLiteral("%1() on an invalid (default-constructed) promise")
                        .arg(QLatin1String(name)));
        qCWarning(lcPromiseKeeper, "Promise::%s(): %s", name,
            input ? "the context object is null" : "the promise is invalid");
        return;
    }
    const TaskOptions effective = describeContinuation(input, task, mode, options);
    // Registered as a waiting task of the input's keeper (it counts and shows it), but run by
    // the link below on the context's thread, never queued. Refused (shut down, empty
    // callable), it is final already and needs no link.
    const QByteArray caller = QByteArray("Promise::") + name + "()";
    if (runnerFor(input)->submitDependent(
            task, effective, {}, InputFailure::Propagate, emptyCallable, true, caller.constData()))
        input->addContinuation(new ContextLink(task, context, mode));
}

} // namespace pk::detail
