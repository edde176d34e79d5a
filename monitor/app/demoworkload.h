// The demo workload of pk-monitor: two keepers kept busy with every kind of task, in bursts.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <atomic>
#include <memory>

namespace pk {
class PromiseKeeper;
}

/*!
    Submits tasks to a keeper in bursts, forever (until stop() or destruction), so that the
    monitor has something to show: short tasks in floods, long tasks that report progress,
    tasks with a time-out that some run past, failing tasks, tasks cancelled while queued,
    high-priority tasks jumping the queue, a task that waits for a part it submitted (run inside
    it by its worker), and chains (promises passed as arguments, then(), onFailed() and
    finally() on this object's thread). With a second
    keeper (\a network), the downloads and fetches run there, as a program with an image keeper
    and a network keeper would.

    Tasks sleep to simulate work, in slices, and give up as soon as the workload stops: the
    keeper's destructor never waits long for them.
*/
class DemoWorkload : public QObject
{
    Q_OBJECT
public:
    explicit DemoWorkload(
        pk::PromiseKeeper *keeper, pk::PromiseKeeper *network = nullptr, QObject *parent = nullptr);
    ~DemoWorkload() override;

    void start();
    void stop();

private:
    void tick();
    void shortTasks(int count);
    void longTasks(int count);
    void timedTasks(int count);
    void nestedTasks();
    void failingTasks(int count);
    void cancelledTasks(int count);
    void urgentTasks(int count);
    void chainedTasks();
    void processTasks(int count);

    pk::PromiseKeeper *m_keeper;
    pk::PromiseKeeper *m_network; // m_keeper if there is no second keeper
    QTimer m_timer;
    int m_tick = 0;
    int m_serial = 0;
    std::shared_ptr<std::atomic<bool>> m_stopped = std::make_shared<std::atomic<bool>>(false);
};
