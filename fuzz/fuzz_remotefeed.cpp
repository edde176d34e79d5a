// The attached monitor: bytes from a program, read by pk::RemoteFeed (frames, decoding, the
// handshake, snapshots and updates) and shown by a pk::MonitorWidget, as pk-monitor --attach
// does, then painted, exported and read back.
//
// Input: the byte stream the program sends, from its Welcome on.
#include "harness_p.h"
#include "remotefeed_p.h"
#include "widgetfixture_p.h"

#include <pk/monitormodel.h>
#include <pk/monitorwidget.h>
#include <pk/remotefeed.h>
#include <pk/tracereader.h>

#include <QtCore/QTemporaryDir>
#include <QtWidgets/QTableView>

#include <memory>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pkfuzz::WidgetFixture &f = pkfuzz::widgetFixture();
    // A feed of its own per input, so that no input depends on the ones before it.
    auto feed = std::make_unique<pk::RemoteFeed>();
    f.widget.setFeed(feed.get());
    pk::RemoteFeedPrivate *d = pk::RemoteFeedPrivate::get(feed.get());
    // Where the socket's connected() leaves it: the Hello is sent, the Welcome is due.
    d->name = QStringLiteral("pk-fuzz");
    d->state = pk::RemoteFeedPrivate::State::Handshaking;
    const quint64 warningsBefore = pkfuzz::warnings();
    d->receive(pkfuzz::bytes(data, size));
    // Bad input closes the connection (the feed waits to retry, or gives up on another
    // version), and always with a warning.
    using State = pk::RemoteFeedPrivate::State;
    if (d->state != State::Handshaking && d->state != State::Attached
        && pkfuzz::warnings() == warningsBefore)
        pkfuzz::fail("the connection closed without a warning");

    // What the user sees: the table, the details of a task, the timeline, the chart.
    const QAbstractItemModel *model = f.widget.tableView()->model();
    if (model->rowCount() > 0) {
        const QModelIndex last = model->index(model->rowCount() - 1, 0);
        f.widget.selectTask(last.data(pk::MonitorModel::IdRole).toULongLong());
    }
    (void)f.widget.grab();
    // What it writes, and reads back.
    const QString trace = f.dir.filePath(QStringLiteral("tasks.trace.json"));
    if (f.widget.exportTrace(trace)) {
        pk::TraceReader reader;
        if (!reader.load(trace))
            pkfuzz::fail("an exported trace does not load", reader.errorString());
    }
    (void)f.widget.exportCsv(f.dir.filePath(QStringLiteral("tasks.csv")));
    f.widget.setFeed(nullptr);
    return 0;
}
