// pk-monitor's main window: the monitor, its menu bar, and the change of source by hand.
#pragma once

#include <pk/monitorserver.h>

#include <QtCore/QPointer>
#include <QtCore/QTimer>
#include <QtWidgets/QMainWindow>

QT_BEGIN_NAMESPACE
class QFrame;
class QLabel;
QT_END_NAMESPACE

namespace pk {
class MonitorFeed;
class MonitorWidget;
class RemoteFeed;
} // namespace pk

/*!
    A pk::MonitorWidget with a menu bar: File → Open trace… (what --open does), Attach… (a
    pk::AttachDialog), Quit; Help → Keyboard, About.

    The window shows the keepers given to monitor() (the demo), a program attached by name
    (attachTo()) or a trace (openTrace()); attaching or opening replaces what it showed, and the
    feed it made for the old source goes. While a program to attach to does not answer yet, a
    panel above the monitor says "Waiting for NAME…" and lists the programs one could attach to
    instead, read again every second.

    GUI thread only.
*/
class MonitorWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MonitorWindow(QWidget *parent = nullptr);
    ~MonitorWindow() override;

    pk::MonitorWidget *monitor() const;
    //! The feed of the program attached or waited for, nullptr while showing something else.
    pk::RemoteFeed *remoteFeed() const;

    //! Shows the program that publishes \a name, now or as soon as it appears.
    void attachTo(const QString &name);
    //! Shows the trace \a path; on failure returns false, sets \a errorString (if not null)
    //! and leaves the window as it was.
    bool openTrace(const QString &path, QString *errorString = nullptr);

    //! The texts of the waiting panel (objectName "waitPanel"), empty while it is hidden.
    QString waitTitle() const;
    QString waitDetails() const;

    //! The programs listed while waiting, at most this many; the others are counted.
    static constexpr int kMaxListed = 8;

Q_SIGNALS:
    //! The source shown changed: attachTo() or openTrace() replaced it.
    void sourceChanged();
    //! The RemoteFeed's connectionChanged(), for the program attached or waited for.
    void connectionChanged(bool connected, const QString &message);
    /*!
        The program \a name did not answer the first attempt: the window waits for it. Sent
        once per attachTo(), with the programs one could attach to instead (\a available, which
        has no program named \a name unless that one refused the monitor).
    */
    void waiting(const QString &name, const QList<pk::MonitorServerInfo> &available);

private:
    void createMenus();
    void replaceFeed(pk::MonitorFeed *feed);
    void onConnectionChanged(bool connected, const QString &message);
    void updateWaitPanel();
    void chooseTrace();
    void chooseProgram();
    void showKeyboardHelp();
    void showAbout();

    pk::MonitorWidget *m_monitor = nullptr;
    QPointer<pk::MonitorFeed> m_feed; // made by the window for attachTo() or openTrace()
    QFrame *m_waitPanel = nullptr;
    QLabel *m_waitTitle = nullptr;
    QLabel *m_waitDetails = nullptr;
    QTimer m_waitRefresh;
    QString m_lastMessage; // the feed's, while waiting
    bool m_waitAnnounced = false;
    bool m_attached = false; // the feed was attached once: the monitor's banner takes over
};
