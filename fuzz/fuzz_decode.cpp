// One message payload, decoded as both sides decode what they read. What decodes must encode
// and decode again to the same thing, and every value derived from its tasks (waits, run
// times, wall-clock times) must be computable.
#include "harness_p.h"
#include "protocol_p.h"

using pk::TaskInfo;
using pk::protocol::Message;

namespace {

void useTasks(const QList<TaskInfo> &tasks)
{
    for (const TaskInfo &info : tasks) {
        // What decodes is in range: the monitor relies on it.
        if (!pk::protocol::checkTaskInfo(info).isEmpty())
            pkfuzz::fail("a task out of range decoded");
        (void)info.waitNsecs();
        (void)info.runNsecs();
        (void)info.queuedAt();
        (void)info.startedAt();
        (void)info.finishedAt();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Message message;
    QString error;
    if (!pk::protocol::decode(pkfuzz::bytes(data, size), &message, &error)) {
        if (error.isEmpty())
            pkfuzz::fail("a decode error without a reason");
        return 0;
    }
    for (const pk::protocol::KeeperState &k : std::as_const(message.keepers)) {
        if (!pk::protocol::checkCounts(k.counts).isEmpty())
            pkfuzz::fail("counts out of range decoded");
        useTasks(k.tasks);
        useTasks(k.recentlyFinished);
    }
    // Not byte for byte (a flag byte of 2 reads as true, written as 1), but stable from the
    // first re-encoding on.
    const QByteArray once = pk::protocol::encode(message);
    Message again;
    if (!pk::protocol::decode(once, &again, &error))
        pkfuzz::fail("a decoded message does not decode once encoded again");
    if (pk::protocol::encode(again) != once)
        pkfuzz::fail("encoding a decoded message is not stable");
    return 0;
}
