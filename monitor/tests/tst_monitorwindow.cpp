// pk-monitor's window on the offscreen platform, in a runtime directory of the test's own: the
// menu bar, the "Waiting for NAME…" panel, and the change of source from File → Attach… and
// File → Open trace….
#include "monitorwindow.h"
#include "pktest.h"

#include <pk/attachdialog.h>
#include <pk/monitorserver.h>
#include <pk/monitorwidget.h>
#include <pk/promisekeeper.h>
#include <pk/remotefeed.h>
#include <pk/tracewriter.h>

#include <QtCore/QFile>
#include <QtCore/QPointer>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtGui/QAction>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <QtWidgets/QApplication>
#include <QtWidgets/QMenu>
#include <QtWidgets/QMenuBar>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QTreeWidget>

namespace {

enum class Entry { MenuOverDemo, MenuOverTrace, WaitPanel };

QAction *action(const QMainWindow &window, const char *name)
{
    return window.findChild<QAction *>(QString::fromLatin1(name));
}

// Writes a trace of one task, by the program "recorded" (pid 4242), to \a path.
bool writeTrace(const QString &path)
{
    pk::PromiseKeeper keeper(0);
    pk::TraceWriter writer;
    writer.setProcessName(QStringLiteral("recorded"));
    writer.setProcessId(4242);
    keeper.addEventListener(&writer);
    keeper.submit([] {});
    const bool ran = keeper.processPending() == 1;
    keeper.removeEventListener(&writer);
    return ran && writer.save(path);
}

} // namespace

Q_DECLARE_METATYPE(Entry)

class tst_MonitorWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void menuBar();
    void waitsVisibly_data();
    void waitsVisibly();
    void saysWhyANameCannotWork();
    void attachFromTheDialog_data();
    void attachFromTheDialog();
    void openTraceReplacesTheSource();

private:
    QTemporaryDir m_runtime;
};

void tst_MonitorWindow::initTestCase()
{
    QVERIFY(m_runtime.isValid());
    // The registry is in the runtime directory: this one holds only the test's servers.
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(m_runtime.path()));
    QVERIFY(pk::MonitorServer::availableServers().isEmpty());
}

void tst_MonitorWindow::menuBar()
{
    MonitorWindow window;
    const QList<QAction *> menus = window.menuBar()->actions();
    QCOMPARE(menus.size(), 2);
    QCOMPARE(menus.at(0)->text(), QStringLiteral("&File"));
    QCOMPARE(menus.at(1)->text(), QStringLiteral("&Help"));
    const QMenu *file = menus.at(0)->menu();
    QVERIFY(file->actions().contains(action(window, "openTraceAction")));
    QVERIFY(file->actions().contains(action(window, "attachAction")));
    QVERIFY(file->actions().contains(action(window, "quitAction")));
    QCOMPARE(action(window, "openTraceAction")->shortcut(), QKeySequence(QKeySequence::Open));
    const QList<QKeySequence> quitKeys = QKeySequence::keyBindings(QKeySequence::Quit);
    QCOMPARE(action(window, "quitAction")->shortcut(),
        quitKeys.isEmpty() ? QKeySequence(Qt::CTRL | Qt::Key_Q) : quitKeys.first());
    const QMenu *help = menus.at(1)->menu();
    QVERIFY(help->actions().contains(action(window, "keyboardAction")));
    QVERIFY(help->actions().contains(action(window, "aboutAction")));
    // Help → Keyboard shows the widget's list of shortcuts.
    QString shown;
    QTimer::singleShot(0, &window, [&shown] {
        if (auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget())) {
            shown = box->text();
            box->accept();
        }
    });
    action(window, "keyboardAction")->trigger();
    QCOMPARE(shown, window.monitor()->keyboardHelp());

    // Quit closes the window (and so ends the application).
    window.show();
    window.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QTest::keySequence(&window, action(window, "quitAction")->shortcut());
    QTRY_VERIFY(!window.isVisible());
}

void tst_MonitorWindow::waitsVisibly_data()
{
    QTest::addColumn<bool>("another");
    QTest::newRow("another program runs") << true;
    QTest::newRow("no program runs") << false;
}

void tst_MonitorWindow::waitsVisibly()
{
    QFETCH(bool, another);
    pk::PromiseKeeper keeper(1);
    pk::MonitorServer other;
    other.addKeeper(&keeper, QStringLiteral("images"));
    if (another)
        QVERIFY2(other.listen(QStringLiteral("other")), qPrintable(other.errorString()));

    MonitorWindow window;
    QSignalSpy waiting(&window, &MonitorWindow::waiting);
    QVERIFY(waiting.isValid());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.attachTo(QStringLiteral("wanted"));
    QCOMPARE(window.windowTitle(), QStringLiteral("PromiseKeeper monitor — wanted"));
    // At once, before the first attempt failed.
    QCOMPARE(window.waitTitle(), QStringLiteral("Waiting for “wanted”…"));
    const QString details = window.waitDetails();
    if (another) {
        QVERIFY2(details.contains(QStringLiteral("No program publishes “wanted” yet")),
            qPrintable(details));
        const QString listed
            = pk::AttachDialog::describeServer(pk::MonitorServer::availableServers().first());
        QVERIFY2(details.contains(listed.toHtmlEscaped()), qPrintable(details));
    } else {
        QVERIFY2(details.contains(QStringLiteral("No program runs a pk::MonitorServer now")),
            qPrintable(details));
    }
    // Told once, with what runs instead.
    QTRY_COMPARE(waiting.count(), 1);
    QCOMPARE(waiting.at(0).at(0).toString(), QStringLiteral("wanted"));
    QCOMPARE(waiting.at(0).at(1).value<QList<pk::MonitorServerInfo>>().size(), another ? 1 : 0);
    QVERIFY(window.remoteFeed()->isWaiting());

    // A program that starts meanwhile shows in the list, while the window still waits.
    pk::MonitorServer late;
    late.addKeeper(&keeper, QStringLiteral("late keeper"));
    QVERIFY(late.listen(QStringLiteral("late")));
    QTRY_VERIFY2(window.waitDetails().contains(QStringLiteral("late keeper")),
        qPrintable(window.waitDetails()));

    // The program appears: attached, the panel goes.
    pk::MonitorServer wanted;
    wanted.addKeeper(&keeper, QStringLiteral("workload"));
    QVERIFY(wanted.listen(QStringLiteral("wanted")));
    QTRY_VERIFY(window.remoteFeed()->isConnected());
    QCOMPARE(window.waitTitle(), QString());
    QVERIFY(!window.findChild<QWidget *>(QStringLiteral("waitPanel"))->isVisible());
    // Gone again, the monitor's own banner says so: the panel does not come back.
    wanted.close();
    QTRY_VERIFY(!window.remoteFeed()->isConnected());
    QCOMPARE(window.waitTitle(), QString());
    QCOMPARE(waiting.count(), 1);
}

void tst_MonitorWindow::saysWhyANameCannotWork()
{
    MonitorWindow window;
    QSignalSpy waiting(&window, &MonitorWindow::waiting);
    QVERIFY(waiting.isValid());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("is not a server name")));
    window.attachTo(QStringLiteral("relative/name"));
    QCOMPARE(window.waitTitle(), QStringLiteral("Cannot attach to “relative/name”"));
    QVERIFY(!window.waitDetails().isEmpty());
    QCOMPARE(window.waitDetails(), window.remoteFeed()->errorString().toHtmlEscaped());
    QVERIFY(!window.remoteFeed()->isWaiting());
    QCOMPARE(waiting.count(), 0);
}

void tst_MonitorWindow::attachFromTheDialog_data()
{
    QTest::addColumn<Entry>("entry");
    QTest::newRow("File → Attach… over the demo") << Entry::MenuOverDemo;
    QTest::newRow("File → Attach… over a trace") << Entry::MenuOverTrace;
    QTest::newRow("the waiting panel's button") << Entry::WaitPanel;
}

void tst_MonitorWindow::attachFromTheDialog()
{
    QFETCH(Entry, entry);
    pk::PromiseKeeper demo(1);
    pk::PromiseKeeper keeper(1);
    pk::MonitorServer target;
    target.addKeeper(&keeper, QStringLiteral("workload"));
    QVERIFY(target.listen(QStringLiteral("target")));

    MonitorWindow window;
    QSignalSpy changed(&window, &MonitorWindow::sourceChanged);
    QVERIFY(changed.isValid());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QPointer<pk::MonitorFeed> before;
    QTemporaryDir dir;
    if (entry == Entry::MenuOverDemo) {
        window.monitor()->setKeeper(&demo);
        before = window.monitor()->feed();
        action(window, "attachAction")->trigger();
    } else if (entry == Entry::MenuOverTrace) {
        const QString path = dir.filePath(QStringLiteral("trace.json"));
        QVERIFY(writeTrace(path));
        QString why;
        QVERIFY2(window.openTrace(path, &why), qPrintable(why));
        before = window.monitor()->feed();
        action(window, "attachAction")->trigger();
    } else {
        window.attachTo(QStringLiteral("missing"));
        before = window.remoteFeed();
        auto *button = window.findChild<QPushButton *>(QStringLiteral("chooseProgramButton"));
        QVERIFY(button->isVisible());
        QTest::mouseClick(button, Qt::LeftButton);
    }
    QVERIFY(before);
    const int changesBefore = changed.count();

    QPointer<pk::AttachDialog> dialog;
    QTRY_VERIFY((dialog = window.findChild<pk::AttachDialog *>(QStringLiteral("attachDialog"))));
    QTRY_VERIFY(dialog->isVisible());
    QTRY_COMPARE(dialog->view()->topLevelItemCount(), 1);
    // The only program is chosen already, whether the window showed the demo or waited.
    QCOMPARE(dialog->serverName(), QStringLiteral("target"));
    QTreeWidgetItem *item = dialog->view()->topLevelItem(0);
    QTest::mouseClick(dialog->view()->viewport(), Qt::LeftButton, {},
        dialog->view()->visualItemRect(item).center());
    QCOMPARE(dialog->serverName(), QStringLiteral("target"));
    QTest::mouseClick(
        dialog->findChild<QPushButton *>(QStringLiteral("attachButton")), Qt::LeftButton);

    // The window shows the program now; the feed it showed before is gone.
    QVERIFY(window.remoteFeed());
    QCOMPARE(window.remoteFeed()->serverName(), QStringLiteral("target"));
    QCOMPARE(window.monitor()->feed(), window.remoteFeed());
    QCOMPARE(window.monitor()->keeper(), nullptr);
    QCOMPARE(window.windowTitle(), QStringLiteral("PromiseKeeper monitor — target"));
    QCOMPARE(changed.count(), changesBefore + 1);
    QTRY_VERIFY(!before);
    QTRY_COMPARE(target.clientCount(), 1);
    QTRY_VERIFY(!dialog); // closed and deleted
    // The waiting panel goes once the program's first message arrives, after it accepted us.
    QTRY_COMPARE(window.waitTitle(), QString());
}

void tst_MonitorWindow::openTraceReplacesTheSource()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("trace.json"));
    QVERIFY(writeTrace(path));
    pk::PromiseKeeper keeper(1);
    pk::MonitorServer target;
    target.addKeeper(&keeper);
    QVERIFY(target.listen(QStringLiteral("target")));

    MonitorWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.attachTo(QStringLiteral("target"));
    QTRY_COMPARE(target.clientCount(), 1);
    const QPointer<pk::RemoteFeed> attached = window.remoteFeed();

    // A file that does not load leaves the window as it was.
    QString why;
    QVERIFY(!window.openTrace(dir.filePath(QStringLiteral("missing.json")), &why));
    QVERIFY(!why.isEmpty());
    QCOMPARE(window.remoteFeed(), attached.data());
    QCOMPARE(window.windowTitle(), QStringLiteral("PromiseKeeper monitor — target"));

    QVERIFY2(window.openTrace(path, &why), qPrintable(why));
    QCOMPARE(window.remoteFeed(), nullptr);
    QVERIFY(!attached); // detached: the program sees the monitor go
    QTRY_COMPARE(target.clientCount(), 0);
    QVERIFY(window.monitor()->feed());
    QVERIFY(!window.monitor()->feed()->isLive());
    QCOMPARE(window.windowTitle(),
        QStringLiteral("PromiseKeeper monitor — recording of recorded (pid 4242): trace.json"));
}

QTEST_MAIN(tst_MonitorWindow)
#include "tst_monitorwindow.moc"
