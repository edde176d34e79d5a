#include <pk/detail/taskcore.h>
#include <pk/eventstream.h>

namespace pk {

quint64 TaskEvent::taskId() const noexcept
{
    return m_core->m_id;
}

QString TaskEvent::title() const
{
    return m_core->displayTitle();
}

int TaskEvent::priority() const noexcept
{
    return m_core->m_priority;
}

TaskInfo TaskEvent::info() const
{
    TaskInfo info;
    m_core->fillInfo(info, m_state);
    info.setWorkerIndex(m_worker);
    return info;
}

EventListener::~EventListener() = default;

void EventListener::snapshot(const QList<TaskInfo> &, const QList<TaskInfo> &) { }

void EventListener::eventsDropped(quint64) { }

} // namespace pk
