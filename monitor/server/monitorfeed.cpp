#include <pk/monitorfeed.h>

#include <QtCore/qcoreapplication.h>

namespace pk {

MonitorFeed::MonitorFeed(QObject *parent)
    : QObject(parent)
{ }
MonitorFeed::~MonitorFeed() = default;

QList<KeeperStatus> MonitorFeed::keepers() const
{
    return {};
}

QString MonitorFeed::programName() const
{
    return QCoreApplication::applicationName();
}

qint64 MonitorFeed::programPid() const
{
    return QCoreApplication::applicationPid();
}

} // namespace pk
