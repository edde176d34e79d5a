#include "taskscheduler_p.h"

#include <pk/ascompleted.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_set>

namespace pk::detail {

struct CompletionQueue::State
{
    std::mutex mutex;
    std::condition_variable finished;
    std::deque<TaskCore *> done; // references held; null for an invalid input
    std::vector<TaskCore *> inputs; // references held, to help manual-mode keepers
    qsizetype handedOut = 0;
};

namespace {
class CompletionLink final : public Continuation
{
public:
    explicit CompletionLink(std::shared_ptr<CompletionQueue::State> state)
        : m_state(std::move(state))
    { }
    void run(TaskCore *task) noexcept override
    {
        task->ref();
        {
            std::lock_guard lock(m_state->mutex);
            m_state->done.push_back(task);
        }
        m_state->finished.notify_all();
    }

private:
    std::shared_ptr<CompletionQueue::State> m_state;
};
} // namespace

CompletionQueue::CompletionQueue(const std::vector<TaskCore *> &inputs)
    : m_state(std::make_shared<State>())
{
    std::unordered_set<TaskCore *> seen;
    for (TaskCore *input : inputs) {
        if (!seen.insert(input).second)
            continue;
        ++m_total;
        if (!input) {
            std::lock_guard lock(m_state->mutex);
            m_state->done.push_back(nullptr);
            continue;
        }
        input->ref();
        m_state->inputs.push_back(input);
        input->addContinuation(new CompletionLink(m_state));
    }
}

CompletionQueue::~CompletionQueue()
{
    std::lock_guard lock(m_state->mutex);
    for (TaskCore *task : m_state->done) {
        if (task)
            task->deref();
    }
    m_state->done.clear();
    for (TaskCore *task : m_state->inputs)
        task->deref();
    m_state->inputs.clear();
}

qsizetype CompletionQueue::remaining() const
{
    std::lock_guard lock(m_state->mutex);
    return m_total - m_state->handedOut;
}

TaskCore *CompletionQueue::next(QDeadlineTimer deadline, bool *ok)
{
    std::unique_lock lock(m_state->mutex);
    for (;;) {
        if (m_state->handedOut == m_total) {
            *ok = false;
            return nullptr;
        }
        if (!m_state->done.empty()) {
            TaskCore *task = m_state->done.front();
            m_state->done.pop_front();
            ++m_state->handedOut;
            *ok = true;
            return task;
        }
        // On a manual-mode keeper's thread nothing else would run the inputs: run one.
        bool helped = false;
        for (TaskCore *input : m_state->inputs) {
            TaskScheduler *keeper = input->keeper();
            if (!isFinal(input->state()) && keeper && keeper->waitsMustHelp()) {
                lock.unlock();
                helped = keeper->runOnePending();
                lock.lock();
                break;
            }
        }
        if (helped)
            continue;
        const auto ready = [this] { return !m_state->done.empty(); };
        if (deadline.isForever()) {
            m_state->finished.wait(lock, ready);
        } else if (!m_state->finished.wait_until(
                       lock, deadline.deadline<std::chrono::steady_clock>(), ready)) {
            *ok = false;
            return nullptr;
        }
    }
}

} // namespace pk::detail
