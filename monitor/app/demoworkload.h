// The demo workload of pk-monitor: a keeper kept busy with every kind of task, in bursts.
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
    monitor has something to show: short tasks in floods, long tasks, failing tasks, tasks
    cancelled while queued, high-priority tasks jumping the queue, and chains (promises passed
    as arguments, then()).

    Tasks sleep to simulate work, in slices, and give up as soon as the workload stops: the
    keeper's destructor never waits long for them.
*/
class DemoWorkload : public QObject
{
    Q_OBJECT
public:
    explicit DemoWorkload(pk::PromiseKeeper *keeper, QObject *parent = nullptr);
    ~DemoWorkload() override;

    void start();
    void stop();

private:
    void tick();
    void shortTasks(int count);
    void longTasks(int count);
    void failingTasks(int count);
    void cancelledTasks(int count);
    void urgentTasks(int count);
    void chainedTasks();

    pk::PromiseKeeper *m_keeper;
    QTimer m_timer;
    int m_tick = 0;
    int m_serial = 0;
    std::shared_ptr<std::atomic<bool>> m_stopped = std::make_shared<std::atomic<bool>>(false);
};
