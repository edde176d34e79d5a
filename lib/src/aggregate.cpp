#include "taskscheduler_p.h"

#include <pk/detail/aggregate.h>
#include <pk/detail/mapstate.h>
#include <pk/logging.h>

namespace pk::detail {

void initAggregate(TaskCore *core, const QString &title, TaskCore *const *inputs, std::size_t count)
{
    core->setInputs(TaskKind::Combinator, inputs, count);
    core->initDetached(title, count > 0 && inputs[0] ? inputs[0]->keeper() : nullptr);
}

void settleLike(TaskCore *core, TaskCore *input) noexcept
{
    if (!core->claimSettlement())
        return;
    if (!input) {
        core->publishSettlement(TaskState::Failed,
            std::make_exception_ptr(
                InvalidTaskError(QStringLiteral("an input promise is invalid or missing"))));
    } else if (input->state() == TaskState::Cancelled) {
        core->publishSettlement(TaskState::Cancelled);
    } else {
        core->publishSettlement(TaskState::Failed, input->error());
    }
}

void enqueueOn(TaskScheduler *keeper, TaskCore *task, const TaskOptions &options)
{
    keeper->enqueueContinued(task, options);
}

bool admitMap(TaskScheduler *keeper, TaskCore *result, bool emptyCallable)
{
    return keeper->admitMap(result, emptyCallable);
}

void releaseMapHold(TaskScheduler *keeper) noexcept
{
    keeper->releaseHold();
}

void refKeeper(TaskScheduler *keeper) noexcept
{
    keeper->ref();
}

void derefKeeper(TaskScheduler *keeper) noexcept
{
    keeper->deref();
}

} // namespace pk::detail
