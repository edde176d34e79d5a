#include "keepershared_p.h"

#include <pk/detail/aggregate.h>
#include <pk/detail/mapstate.h>
#include <pk/logging.h>

namespace pk::detail {

void initAggregate(TaskCore *core, const QString &title, TaskCore *firstInput)
{
    core->initDetached(title, firstInput ? firstInput->keeper() : nullptr);
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

void enqueueOn(KeeperShared *keeper, TaskCore *task, const TaskOptions &options)
{
    keeper->enqueue(task, options, false, "map()");
}

bool rejectMapAfterShutdown(KeeperShared *keeper, TaskCore *result)
{
    if (!keeper->isShutdown())
        return false;
    qCWarning(lcPromiseKeeper, "map() after shutdown(): \"%s\" failed with pk::ShutdownError",
        qUtf8Printable(result->title()));
    result->claimSettlement();
    result->publishSettlement(TaskState::Failed, std::make_exception_ptr(ShutdownError()));
    return true;
}

void refKeeper(KeeperShared *keeper) noexcept
{
    keeper->ref();
}

void derefKeeper(KeeperShared *keeper) noexcept
{
    keeper->deref();
}

} // namespace pk::detail
