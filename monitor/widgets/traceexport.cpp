#include "traceexport_p.h"

#include <pk/tracewriter.h>

#include <algorithm>
#include <vector>

namespace pk::monitor {

namespace {

// One state change to record: task tasks[index] reached stage at ns.
struct Step
{
    enum Stage : quint8 { Queued, Running, Latest };

    qint64 ns = 0;
    qsizetype index = 0;
    Stage stage = Latest;
};

} // namespace

void recordTasks(TraceWriter &writer, const QList<TaskInfo> &tasks, const QString &programName,
    qint64 programPid, const QList<KeeperStatus> &keepers)
{
    if (!programName.isEmpty())
        writer.setProcessName(programName);
    if (programPid != 0)
        writer.setProcessId(programPid);
    for (const KeeperStatus &keeper : keepers)
        writer.setKeeperThreadCount(keeper.name, keeper.threadCount);

    std::vector<Step> steps;
    steps.reserve(std::size_t(tasks.size()) * 2);
    for (qsizetype i = 0; i < tasks.size(); ++i) {
        const TaskInfo &info = tasks.at(i);
        if (!info.isValid())
            continue;
        const TaskState state = info.state();
        // The times a step sorts by never go back within a task, so that its steps are recorded
        // in state order (TraceWriter::record() requires it) even if its timestamps disagree.
        qint64 ns = info.queuedAtNsecs();
        // A waiting task was never queued; the others were, or were at least submitted.
        if (state != TaskState::Waiting && state != TaskState::Queued && ns != 0)
            steps.push_back({ ns, i, Step::Queued });
        if (state != TaskState::Running && info.startedAtNsecs() != 0) {
            ns = std::max(ns, info.startedAtNsecs());
            steps.push_back({ ns, i, Step::Running });
        }
        if (isFinal(state))
            ns = std::max(ns, info.finishedAtNsecs());
        else if (state == TaskState::Running)
            ns = std::max(ns, info.startedAtNsecs());
        steps.push_back({ ns, i, Step::Latest });
    }
    std::stable_sort(steps.begin(), steps.end(), [](const Step &a, const Step &b) {
        return a.ns < b.ns || (a.ns == b.ns && a.stage < b.stage);
    });

    for (const Step &step : steps) {
        const TaskInfo &info = tasks.at(step.index);
        if (step.stage == Step::Latest) {
            writer.record(info);
            continue;
        }
        // The task as it was then: what later changes set is not known yet.
        TaskInfo then = info;
        then.setFinishedAtNsecs(0);
        then.setErrorString(QString());
        then.setErrorType(QString());
        if (step.stage == Step::Queued) {
            then.setState(TaskState::Queued);
            then.setStartedAtNsecs(0);
            then.setWorkerIndex(-1);
        } else {
            then.setState(TaskState::Running);
        }
        writer.record(then);
    }
}

} // namespace pk::monitor
