#include <pk/monitorfeed.h>

namespace pk {

MonitorFeed::MonitorFeed(QObject *parent)
    : QObject(parent)
{ }
MonitorFeed::~MonitorFeed() = default;

} // namespace pk
