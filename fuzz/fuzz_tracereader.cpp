// A trace file, opened as pk-monitor --open FILE opens it: read by pk::TraceReader through a
// pk::TraceFeed, shown by a pk::MonitorWidget and painted.
//
// Input: the file's bytes.
#include "harness_p.h"
#include "widgetfixture_p.h"

#include <pk/monitormodel.h>
#include <pk/monitorwidget.h>
#include <pk/tracereader.h>

#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtWidgets/QTableView>

#include <memory>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pkfuzz::WidgetFixture &f = pkfuzz::widgetFixture();
    const QString path = f.dir.filePath(QStringLiteral("input.trace.json"));
    {
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)
            || file.write(pkfuzz::bytes(data, size)) != qint64(size))
            pkfuzz::fail("cannot write the input file");
    }
    auto feed = std::make_unique<pk::TraceFeed>();
    f.widget.setFeed(feed.get());
    const bool loaded = feed->open(path);
    if (!loaded && feed->errorString().isEmpty())
        pkfuzz::fail("a trace that does not load, without a reason");
    for (const pk::TaskInfo &info : feed->reader().tasks()) {
        (void)info.waitNsecs();
        (void)info.runNsecs();
        (void)info.queuedAt();
    }
    // The feed emits from the event loop.
    QCoreApplication::processEvents();
    const QAbstractItemModel *model = f.widget.tableView()->model();
    if (model->rowCount() > 0) {
        const QModelIndex last = model->index(model->rowCount() - 1, 0);
        f.widget.selectTask(last.data(pk::MonitorModel::IdRole).toULongLong());
    }
    (void)f.widget.grab();
    f.widget.setFeed(nullptr);
    return 0;
}
