// What the fuzz targets that show their input share: a pk::MonitorWidget, shown, and a
// temporary directory for the files they write and read.
#pragma once

#include "harness_p.h"

#include <pk/monitorwidget.h>

#include <QtCore/QTemporaryDir>

namespace pkfuzz {

struct WidgetFixture
{
    WidgetFixture()
    {
        widget.resize(800, 600);
        widget.show();
    }
    QTemporaryDir dir;
    pk::MonitorWidget widget;
};

//! Made on first use, after the application; never destroyed: the run ends with the process.
inline WidgetFixture &widgetFixture()
{
    ensureApplication(); // before the widget
    static WidgetFixture *f = new WidgetFixture;
    return *f;
}

} // namespace pkfuzz
