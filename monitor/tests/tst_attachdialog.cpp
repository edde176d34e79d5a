// pk::AttachDialog on the offscreen platform, over real pk::MonitorServer registrations in a
// runtime directory of the test's own (so that other programs on the machine do not show):
// the list, its refreshes, the choice by button, double-click and Enter, the empty state.
#include "pktest.h"
#include "protocol_p.h"

#include <pk/attachdialog.h>
#include <pk/monitorserver.h>
#include <pk/promisekeeper.h>

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <QtWidgets/QLabel>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QTreeWidget>

#include <memory>

namespace {

enum class Choice { AttachButton, DoubleClick, Enter };

QStringList listedNames(const pk::AttachDialog &dialog)
{
    QStringList names;
    const QTreeWidget *view = dialog.view();
    for (int row = 0; row < view->topLevelItemCount(); ++row)
        names << view->topLevelItem(row)->text(pk::AttachDialog::NameColumn);
    return names;
}

QTreeWidgetItem *itemNamed(const pk::AttachDialog &dialog, const QString &name)
{
    const QTreeWidget *view = dialog.view();
    for (int row = 0; row < view->topLevelItemCount(); ++row) {
        if (view->topLevelItem(row)->text(pk::AttachDialog::NameColumn) == name)
            return view->topLevelItem(row);
    }
    return nullptr;
}

void clickRow(const pk::AttachDialog &dialog, QTreeWidgetItem *item)
{
    QTreeWidget *view = dialog.view();
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->visualItemRect(item).center());
}

template<typename T>
T *child(const pk::AttachDialog &dialog, const char *name)
{
    return dialog.findChild<T *>(QString::fromLatin1(name));
}

} // namespace

Q_DECLARE_METATYPE(Choice)

class tst_AttachDialog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void listsTheServers();
    void refreshKeepsTheSelection_data();
    void refreshKeepsTheSelection();
    void choosesTheSelectedProgram_data();
    void choosesTheSelectedProgram();
    void saysWhenNoProgramRuns();
    void foreignRegistrationsShowAsPlainLines_data();
    void foreignRegistrationsShowAsPlainLines();

private:
    // A MonitorServer listening as \a name, publishing a keeper labelled "images".
    pk::MonitorServer *startServer(const QString &name);
    void writeRegistration(const QString &name, const QJsonObject &fields);

    QTemporaryDir m_runtime;
    pk::PromiseKeeper m_keeper { 1 };
    std::vector<std::unique_ptr<pk::MonitorServer>> m_servers;
};

void tst_AttachDialog::initTestCase()
{
    QVERIFY(m_runtime.isValid());
    // The registry is in the runtime directory: this one holds only the test's servers.
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(m_runtime.path()));
    QVERIFY(pk::MonitorServer::availableServers().isEmpty());
}

void tst_AttachDialog::cleanup()
{
    m_servers.clear();
    const QDir registry(pk::MonitorServer::registryDirectory());
    for (const QString &file : registry.entryList({ QStringLiteral("*.json") }, QDir::Files))
        QFile::remove(registry.filePath(file));
    QVERIFY(pk::MonitorServer::availableServers().isEmpty());
}

pk::MonitorServer *tst_AttachDialog::startServer(const QString &name)
{
    auto server = std::make_unique<pk::MonitorServer>();
    server->addKeeper(&m_keeper, QStringLiteral("images"));
    if (!server->listen(name)) {
        qWarning("cannot listen as %s: %s", qPrintable(name), qPrintable(server->errorString()));
        return nullptr;
    }
    m_servers.push_back(std::move(server));
    return m_servers.back().get();
}

void tst_AttachDialog::writeRegistration(const QString &name, const QJsonObject &fields)
{
    QJsonObject o { { QStringLiteral("name"), name },
        { QStringLiteral("pid"), QCoreApplication::applicationPid() },
        { QStringLiteral("program"), QStringLiteral("impostor") },
        { QStringLiteral("started"), QStringLiteral("2026-12-02T04:00:00.000Z") },
        { QStringLiteral("protocolVersion"), int(pk::protocol::kVersion) },
        { QStringLiteral("keepers"), QJsonArray { QStringLiteral("images") } } };
    for (auto it = fields.begin(); it != fields.end(); ++it)
        o.insert(it.key(), it.value());
    QFile file(
        QDir(pk::MonitorServer::registryDirectory()).filePath(name + QStringLiteral(".json")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QJsonDocument(o).toJson());
}

void tst_AttachDialog::listsTheServers()
{
    QVERIFY(startServer(QStringLiteral("myapp")));
    pk::AttachDialog dialog;
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));

    QTRY_COMPARE(listedNames(dialog), QStringList { QStringLiteral("myapp") });
    const QTreeWidgetItem *item = dialog.view()->topLevelItem(0);
    QCOMPARE(item->text(pk::AttachDialog::ProgramColumn), QCoreApplication::applicationName());
    QCOMPARE(item->text(pk::AttachDialog::PidColumn),
        QString::number(QCoreApplication::applicationPid()));
    QVERIFY(!item->text(pk::AttachDialog::SinceColumn).isEmpty());
    QCOMPARE(item->text(pk::AttachDialog::KeepersColumn), QStringLiteral("images"));
    QCOMPARE(dialog.servers().size(), 1);
    QCOMPARE(pk::AttachDialog::describeServer(dialog.servers().first()),
        QStringLiteral("myapp (%1, pid %2, keepers: images)")
            .arg(QCoreApplication::applicationName())
            .arg(QCoreApplication::applicationPid()));
    QVERIFY(dialog.view()->isVisible());
    QVERIFY(!child<QLabel>(dialog, "emptyLabel")->isVisible());
    // The only program is chosen already: Enter attaches to it.
    QCOMPARE(dialog.serverName(), QStringLiteral("myapp"));
    QVERIFY(child<QPushButton>(dialog, "attachButton")->isEnabled());
}

void tst_AttachDialog::refreshKeepsTheSelection_data()
{
    QTest::addColumn<bool>("periodic");
    QTest::newRow("Refresh button") << false;
    QTest::newRow("while open") << true;
}

void tst_AttachDialog::refreshKeepsTheSelection()
{
    QFETCH(bool, periodic);
    QVERIFY(startServer(QStringLiteral("beta")));
    QVERIFY(startServer(QStringLiteral("delta")));
    pk::AttachDialog dialog;
    // Without the periodic refresh only the button reads the list again.
    dialog.setRefreshInterval(periodic ? 20 : 0);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QTRY_COMPARE(
        listedNames(dialog), (QStringList { QStringLiteral("beta"), QStringLiteral("delta") }));
    clickRow(dialog, itemNamed(dialog, QStringLiteral("delta")));
    QCOMPARE(dialog.serverName(), QStringLiteral("delta"));

    // A program that sorts first moves the selected row down.
    QVERIFY(startServer(QStringLiteral("alpha")));
    const QStringList three
        = { QStringLiteral("alpha"), QStringLiteral("beta"), QStringLiteral("delta") };
    if (!periodic) {
        QCOMPARE(listedNames(dialog).size(), 2);
        QTest::mouseClick(child<QPushButton>(dialog, "refreshButton"), Qt::LeftButton);
        QCOMPARE(listedNames(dialog), three);
    }
    QTRY_COMPARE(listedNames(dialog), three);
    QCOMPARE(dialog.serverName(), QStringLiteral("delta"));

    // Gone, the selection is empty (nothing to attach to), and comes back with the program.
    m_servers.back().reset(); // alpha
    m_servers.at(1).reset(); // delta
    if (!periodic)
        QTest::mouseClick(child<QPushButton>(dialog, "refreshButton"), Qt::LeftButton);
    QTRY_COMPARE(listedNames(dialog), QStringList { QStringLiteral("beta") });
    QCOMPARE(dialog.serverName(), QString());
    QVERIFY(!child<QPushButton>(dialog, "attachButton")->isEnabled());
    QVERIFY(startServer(QStringLiteral("delta")));
    if (!periodic)
        QTest::mouseClick(child<QPushButton>(dialog, "refreshButton"), Qt::LeftButton);
    QTRY_COMPARE(dialog.serverName(), QStringLiteral("delta"));
}

void tst_AttachDialog::choosesTheSelectedProgram_data()
{
    QTest::addColumn<Choice>("choice");
    QTest::newRow("Attach button") << Choice::AttachButton;
    QTest::newRow("double-click") << Choice::DoubleClick;
    QTest::newRow("Enter") << Choice::Enter;
}

void tst_AttachDialog::choosesTheSelectedProgram()
{
    QFETCH(Choice, choice);
    QVERIFY(startServer(QStringLiteral("first")));
    QVERIFY(startServer(QStringLiteral("second")));
    pk::AttachDialog dialog;
    QSignalSpy accepted(&dialog, &QDialog::accepted);
    QVERIFY(accepted.isValid());
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QTRY_VERIFY(itemNamed(dialog, QStringLiteral("second")));
    QTreeWidgetItem *second = itemNamed(dialog, QStringLiteral("second"));
    clickRow(dialog, second);
    QCOMPARE(dialog.serverName(), QStringLiteral("second"));

    switch (choice) {
    case Choice::AttachButton:
        QTest::mouseClick(child<QPushButton>(dialog, "attachButton"), Qt::LeftButton);
        break;
    case Choice::DoubleClick:
        QTest::mouseDClick(dialog.view()->viewport(), Qt::LeftButton, {},
            dialog.view()->visualItemRect(second).center());
        break;
    case Choice::Enter:
        QTest::keyClick(dialog.view(), Qt::Key_Return);
        break;
    }
    QTRY_COMPARE(accepted.count(), 1);
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QVERIFY(!dialog.isVisible());
    QCOMPARE(dialog.serverName(), QStringLiteral("second"));
}

void tst_AttachDialog::saysWhenNoProgramRuns()
{
    pk::AttachDialog dialog;
    QSignalSpy accepted(&dialog, &QDialog::accepted);
    QVERIFY(accepted.isValid());
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    const auto *empty = child<QLabel>(dialog, "emptyLabel");
    QVERIFY(empty->isVisible());
    QVERIFY(!dialog.view()->isVisible());
    QVERIFY2(empty->text().contains(QStringLiteral("No program runs a pk::MonitorServer")),
        qPrintable(empty->text()));
    QVERIFY2(empty->text().contains(QStringLiteral("server.listen(")), qPrintable(empty->text()));
    QVERIFY(!child<QPushButton>(dialog, "attachButton")->isEnabled());
    // Enter has nothing to attach to: the dialog stays.
    QTest::keyClick(&dialog, Qt::Key_Return);
    QVERIFY(dialog.isVisible());
    QCOMPARE(accepted.count(), 0);

    // A program that starts listening replaces the hint.
    QVERIFY(startServer(QStringLiteral("late")));
    QTest::mouseClick(child<QPushButton>(dialog, "refreshButton"), Qt::LeftButton);
    QVERIFY(dialog.view()->isVisible());
    QVERIFY(!empty->isVisible());
    QCOMPARE(dialog.serverName(), QStringLiteral("late"));
}

void tst_AttachDialog::foreignRegistrationsShowAsPlainLines_data()
{
    QTest::addColumn<QJsonObject>("fields");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("shown");
    QTest::addColumn<bool>("selectable");

    const QString longName = QString(500, QLatin1Char('x'));
    QTest::newRow("long program name") << QJsonObject { { QStringLiteral("program"), longName } }
                                       << int(pk::AttachDialog::ProgramColumn)
                                       << QString(200, QLatin1Char('x')) + QChar(0x2026) << true;
    QTest::newRow("lines in a keeper label")
        << QJsonObject { { QStringLiteral("keepers"),
               QJsonArray { QStringLiteral("one\ntwo"), QStringLiteral("<b>three</b>") } } }
        << int(pk::AttachDialog::KeepersColumn) << QStringLiteral("one two, <b>three</b>") << true;
    QTest::newRow("terminal escape in the program")
        << QJsonObject { { QStringLiteral("program"), QStringLiteral("\x1b[31mred\u202e") } }
        << int(pk::AttachDialog::ProgramColumn) << QStringLiteral("\ufffd[31mred\ufffd") << true;
    QTest::newRow("no start time")
        << QJsonObject { { QStringLiteral("started"), QStringLiteral("yesterday") } }
        << int(pk::AttachDialog::SinceColumn) << QStringLiteral("—") << true;
    QTest::newRow("other protocol version")
        << QJsonObject { { QStringLiteral("protocolVersion"), 99 } }
        << int(pk::AttachDialog::NameColumn) << QStringLiteral("foreign") << false;
}

void tst_AttachDialog::foreignRegistrationsShowAsPlainLines()
{
    QFETCH(QJsonObject, fields);
    QFETCH(int, column);
    QFETCH(QString, shown);
    QFETCH(bool, selectable);
    writeRegistration(QStringLiteral("foreign"), fields);
    pk::AttachDialog dialog;
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QTRY_COMPARE(listedNames(dialog), QStringList { QStringLiteral("foreign") });
    QTreeWidgetItem *item = dialog.view()->topLevelItem(0);
    QCOMPARE(item->text(column), shown);
    clickRow(dialog, item);
    QCOMPARE(dialog.serverName(), selectable ? QStringLiteral("foreign") : QString());
    QCOMPARE(child<QPushButton>(dialog, "attachButton")->isEnabled(), selectable);
    if (!selectable)
        QVERIFY(item->toolTip(pk::AttachDialog::NameColumn).contains(QStringLiteral("99")));
}

QTEST_MAIN(tst_AttachDialog)
#include "tst_attachdialog.moc"
