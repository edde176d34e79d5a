#include "monitorwindow.h"

#include <pk/attachdialog.h>
#include <pk/monitorwidget.h>
#include <pk/remotefeed.h>
#include <pk/tracereader.h>

#include <QtCore/QFileInfo>
#include <QtGui/QAction>
#include <QtGui/QKeySequence>
#include <QtWidgets/QApplication>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QFrame>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMenu>
#include <QtWidgets/QMenuBar>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QVBoxLayout>

namespace {

// The list is cheap to read (a few small files), and a program started meanwhile should show
// about when the feed's next attempt would find it.
constexpr int kWaitRefreshMs = 1000;

QString quoted(const QString &name)
{
    return MonitorWindow::tr("“%1”").arg(name);
}

} // namespace

MonitorWindow::MonitorWindow(QWidget *parent)
    : QMainWindow(parent)
{
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);

    // Above the monitor, not in its status line: an empty monitor that says nothing looks
    // like a program with no tasks.
    m_waitPanel = new QFrame(central);
    m_waitPanel->setObjectName(QStringLiteral("waitPanel"));
    m_waitPanel->setFrameShape(QFrame::StyledPanel);
    m_waitPanel->setAutoFillBackground(true);
    // The tooltip colours read as a note in light and dark palettes alike.
    m_waitPanel->setBackgroundRole(QPalette::ToolTipBase);
    m_waitPanel->setForegroundRole(QPalette::ToolTipText);
    auto *panelLayout = new QHBoxLayout(m_waitPanel);
    panelLayout->setContentsMargins(10, 6, 10, 6);
    auto *texts = new QVBoxLayout;
    m_waitTitle = new QLabel(m_waitPanel);
    m_waitTitle->setObjectName(QStringLiteral("waitTitle"));
    m_waitTitle->setTextFormat(Qt::PlainText);
    QFont bold = m_waitTitle->font();
    bold.setBold(true);
    m_waitTitle->setFont(bold);
    m_waitDetails = new QLabel(m_waitPanel);
    m_waitDetails->setObjectName(QStringLiteral("waitDetails"));
    m_waitDetails->setTextFormat(Qt::RichText); // built from escaped parts only
    m_waitDetails->setWordWrap(true);
    m_waitDetails->setTextInteractionFlags(Qt::TextSelectableByMouse);
    for (QLabel *label : { m_waitTitle, m_waitDetails })
        label->setForegroundRole(QPalette::ToolTipText);
    texts->addWidget(m_waitTitle);
    texts->addWidget(m_waitDetails);
    panelLayout->addLayout(texts, 1);
    auto *choose = new QPushButton(tr("Attach to another…"), m_waitPanel);
    choose->setObjectName(QStringLiteral("chooseProgramButton"));
    connect(choose, &QPushButton::clicked, this, &MonitorWindow::chooseProgram);
    panelLayout->addWidget(choose, 0, Qt::AlignTop);
    m_waitPanel->hide();
    layout->addWidget(m_waitPanel);

    m_monitor = new pk::MonitorWidget(central);
    layout->addWidget(m_monitor, 1);
    setCentralWidget(central);

    m_waitRefresh.setInterval(kWaitRefreshMs);
    connect(&m_waitRefresh, &QTimer::timeout, this, &MonitorWindow::updateWaitPanel);
    createMenus();
}

MonitorWindow::~MonitorWindow()
{
    // The monitor lets go of the feed before it goes: no signal reaches a half-destroyed window.
    m_monitor->setFeed(nullptr);
    delete m_feed;
}

void MonitorWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->setObjectName(QStringLiteral("fileMenu"));
    QAction *open = file->addAction(tr("&Open trace…"), this, &MonitorWindow::chooseTrace);
    open->setObjectName(QStringLiteral("openTraceAction"));
    open->setShortcut(QKeySequence::Open);
    QAction *attach = file->addAction(tr("&Attach…"), this, &MonitorWindow::chooseProgram);
    attach->setObjectName(QStringLiteral("attachAction"));
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setObjectName(QStringLiteral("quitAction"));
    // Ctrl+Q where the platform has no binding of its own (Windows, the offscreen platform).
    const QList<QKeySequence> quitKeys = QKeySequence::keyBindings(QKeySequence::Quit);
    quit->setShortcuts(
        quitKeys.isEmpty() ? QList<QKeySequence> { QKeySequence(Qt::CTRL | Qt::Key_Q) } : quitKeys);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->setObjectName(QStringLiteral("helpMenu"));
    QAction *keyboard = help->addAction(tr("&Keyboard"));
    keyboard->setObjectName(QStringLiteral("keyboardAction"));
    connect(keyboard, &QAction::triggered, this, &MonitorWindow::showKeyboardHelp);
    QAction *about = help->addAction(tr("&About pk-monitor"), this, &MonitorWindow::showAbout);
    about->setObjectName(QStringLiteral("aboutAction"));
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

pk::MonitorWidget *MonitorWindow::monitor() const
{
    return m_monitor;
}

pk::RemoteFeed *MonitorWindow::remoteFeed() const
{
    return qobject_cast<pk::RemoteFeed *>(m_feed.data());
}

void MonitorWindow::attachTo(const QString &name)
{
    auto *feed = new pk::RemoteFeed(this);
    connect(feed, &pk::RemoteFeed::connectionChanged, this, &MonitorWindow::onConnectionChanged);
    m_waitAnnounced = false;
    m_attached = false;
    m_lastMessage.clear();
    replaceFeed(feed);
    setWindowTitle(tr("PromiseKeeper monitor — %1").arg(name));
    feed->connectToServer(name);
    // At once, not after the first attempt: the list of programs is known now.
    updateWaitPanel();
}

bool MonitorWindow::openTrace(const QString &path, QString *errorString)
{
    auto *feed = new pk::TraceFeed(this);
    if (!feed->open(path)) {
        if (errorString)
            *errorString = feed->errorString();
        delete feed;
        return false;
    }
    replaceFeed(feed);
    // A recording, not a live program: the title says whose and which.
    const QString program = feed->programName().isEmpty() ? tr("a program")
        : feed->programPid() > 0
        ? tr("%1 (pid %2)").arg(feed->programName()).arg(feed->programPid())
        : feed->programName();
    setWindowTitle(
        tr("PromiseKeeper monitor — recording of %1: %2").arg(program, QFileInfo(path).fileName()));
    updateWaitPanel();
    return true;
}

// The monitor shows \a feed; the one the window made before (if any) goes, after the monitor
// let go of it. Deleted at once, so that it stops retrying: never called from one of the old
// feed's signals (the menu and the dialog call it).
void MonitorWindow::replaceFeed(pk::MonitorFeed *feed)
{
    const QPointer<pk::MonitorFeed> old = m_feed;
    m_feed = feed;
    m_monitor->setFeed(feed);
    delete old;
    Q_EMIT sourceChanged();
}

void MonitorWindow::onConnectionChanged(bool connected, const QString &message)
{
    auto *feed = qobject_cast<pk::RemoteFeed *>(sender());
    if (!feed || feed != m_feed)
        return;
    m_lastMessage = connected ? QString() : message;
    m_attached = m_attached || connected;
    updateWaitPanel();
    const bool announce = !connected && feed->isWaiting() && !m_attached && !m_waitAnnounced;
    m_waitAnnounced = m_waitAnnounced || announce;
    const QPointer<pk::RemoteFeed> alive(feed);
    Q_EMIT connectionChanged(connected, message);
    // After the feed's own message, which says what failed; a slot may have replaced the feed.
    if (announce && alive && alive == m_feed)
        Q_EMIT waiting(feed->serverName(), pk::MonitorServer::availableServers());
}

QString MonitorWindow::waitTitle() const
{
    return m_waitPanel->isVisible() ? m_waitTitle->text() : QString();
}

QString MonitorWindow::waitDetails() const
{
    return m_waitPanel->isVisible() ? m_waitDetails->text() : QString();
}

// The panel shows while the window's feed waits for a program it was never attached to (once
// attached, the monitor's own banner tells when the program goes and comes back).
void MonitorWindow::updateWaitPanel()
{
    pk::RemoteFeed *feed = remoteFeed();
    if (!feed || feed->isConnected() || m_attached) {
        m_waitRefresh.stop();
        m_waitPanel->hide();
        return;
    }
    const QString name = feed->serverName();
    if (!feed->isWaiting()) {
        // Refused for good: nothing to wait for.
        m_waitTitle->setText(tr("Cannot attach to %1").arg(quoted(name)));
        m_waitDetails->setText(m_lastMessage.toHtmlEscaped());
        m_waitRefresh.stop();
        m_waitPanel->show();
        return;
    }

    m_waitTitle->setText(tr("Waiting for %1…").arg(quoted(name)));
    const QList<pk::MonitorServerInfo> servers = pk::MonitorServer::availableServers();
    QStringList others;
    const pk::MonitorServerInfo *same = nullptr;
    for (const pk::MonitorServerInfo &info : servers) {
        if (info.name == name)
            same = &info;
        else
            others << pk::AttachDialog::describeServer(info).toHtmlEscaped();
    }
    QString details;
    if (same) {
        // It runs, but did not take the monitor (all its places taken, another user's...).
        details = tr("%1 runs, but the monitor is not attached yet: %2")
                      .arg(pk::AttachDialog::describeServer(*same), m_lastMessage)
                      .toHtmlEscaped();
    } else if (servers.isEmpty()) {
        details = tr("No program runs a pk::MonitorServer now. The monitor attaches as soon as a "
                     "program listens as %1.")
                      .arg(quoted(name))
                      .toHtmlEscaped();
    } else {
        const qsizetype more = others.size() - kMaxListed;
        if (more > 0) {
            others = others.mid(0, kMaxListed);
            others << tr("and %n more (File → Attach… lists them all)", nullptr, int(more))
                          .toHtmlEscaped();
        }
        details = tr("No program publishes %1 yet; the monitor attaches as soon as one does. "
                     "Programs to "
                     "attach to now:")
                      .arg(quoted(name))
                      .toHtmlEscaped()
            + QStringLiteral("<ul style=\"margin-top: 2px; margin-bottom: 0px;\"><li>")
            + others.join(QStringLiteral("</li><li>")) + QStringLiteral("</li></ul>");
    }
    m_waitDetails->setText(details);
    m_waitPanel->show();
    if (!m_waitRefresh.isActive())
        m_waitRefresh.start();
}

void MonitorWindow::chooseTrace()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open a trace"), QString(), tr("Chrome traces (*.json);;All files (*)"));
    if (path.isEmpty())
        return;
    QString why;
    if (!openTrace(path, &why))
        QMessageBox::warning(this, tr("Open trace"), tr("Cannot open %1: %2").arg(path, why));
}

void MonitorWindow::chooseProgram()
{
    auto *dialog = new pk::AttachDialog(this);
    dialog->setObjectName(QStringLiteral("attachDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    // On the program shown; a name waited for in vain would leave the others unselected.
    if (pk::RemoteFeed *feed = remoteFeed(); feed && feed->isConnected())
        dialog->setServerName(feed->serverName());
    connect(dialog, &QDialog::accepted, this, [this, dialog] { attachTo(dialog->serverName()); });
    dialog->open();
}

void MonitorWindow::showKeyboardHelp()
{
    QMessageBox::information(this, tr("Keyboard"), m_monitor->keyboardHelp());
}

void MonitorWindow::showAbout()
{
    QMessageBox::about(this, tr("About pk-monitor"),
        tr("<p><b>pk-monitor %1</b></p>"
           "<p>The PromiseKeeper monitor: the tasks of PromiseKeeper keepers, live — of its "
           "own demo, of a program that publishes them with pk::MonitorServer (File → "
           "Attach…), or from a recorded trace (File → Open trace…).</p>"
           "<p>Built with Qt %2, running on Qt %3.</p>")
            .arg(QCoreApplication::applicationVersion().toHtmlEscaped(),
                QStringLiteral(QT_VERSION_STR), QString::fromLatin1(qVersion())));
}
