// pk::AttachDialog: lets the user pick a program to attach to (File → Attach… in pk-monitor).
#pragma once

#include <pk/monitor_export.h>

#include <QtWidgets/qdialog.h>

#include <memory>

QT_BEGIN_NAMESPACE
class QTreeWidget;
QT_END_NAMESPACE

namespace pk {

struct MonitorServerInfo;
class AttachDialogPrivate;

/*!
    Lists the programs of this user that publish their keepers with pk::MonitorServer (from
    MonitorServer::availableServers(): name, program, pid, since when, keepers) and lets the
    user choose one. Attach, a double-click on a row or Enter accepts the dialog; serverName()
    is then the name to give pk::RemoteFeed::connectToServer().

    \code
    pk::AttachDialog dialog(this);
    if (dialog.exec() == QDialog::Accepted)
        feed->connectToServer(dialog.serverName());
    \endcode

    The list is read again when Refresh is pressed and every refreshInterval() while the dialog
    is shown; the selection stays on the same program as long as it is listed. With no program
    listed the dialog says so, with a hint how to add a server to a program.

    What the registration files say (names, program names, keeper labels) comes from other
    programs: it is shown as plain text, cut to a bounded length.

    GUI thread only.
*/
class PROMISEKEEPER_MONITOR_EXPORT AttachDialog : public QDialog
{
    Q_OBJECT
    //! The name of the selected program; see serverName().
    Q_PROPERTY(QString serverName READ serverName WRITE setServerName NOTIFY serverNameChanged)
    //! Milliseconds between two refreshes while shown; see refreshInterval().
    Q_PROPERTY(int refreshInterval READ refreshInterval WRITE setRefreshInterval)

public:
    //! The columns of the list.
    enum Column { NameColumn, ProgramColumn, PidColumn, SinceColumn, KeepersColumn };
    Q_ENUM(Column)

    //! Constructs the dialog as a child of \a parent and reads the list of programs once.
    explicit AttachDialog(QWidget *parent = nullptr);
    ~AttachDialog() override;

    /*!
        The name of the selected program (MonitorServerInfo::name), empty if none is selected.
        setServerName() selects the program of that name, now if it is listed, else as soon as
        a refresh lists it (unless the user selects another first).
    */
    QString serverName() const;
    //! Selects the program named \a name, now or once a refresh lists it; see serverName().
    void setServerName(const QString &name);

    //! The programs listed, as read by the last refresh.
    QList<MonitorServerInfo> servers() const;

    //! Milliseconds between two refreshes while the dialog is shown (default 1000); 0 for
    //! none but the Refresh button's.
    int refreshInterval() const;
    //! Sets refreshInterval() to \a msecs milliseconds (a negative value counts as 0).
    void setRefreshInterval(int msecs);

    //! The view of the programs, one row each (its columns are Column).
    QTreeWidget *view() const;

    /*!
        One line for \a info as the dialog shows it, "myapp (myprogram, pid 1234, keepers:
        images, network)": plain text, its parts cut to a bounded length, control characters
        replaced, for a terminal or a label. Thread-safe.
    */
    static QString describeServer(const MonitorServerInfo &info);

public Q_SLOTS:
    //! Reads MonitorServer::availableServers() again and shows what changed.
    void refresh();

Q_SIGNALS:
    //! Emitted in the GUI thread when the selection moves to another program or to none
    //! (the user, setServerName(), a refresh that no longer lists it); \a name is serverName().
    void serverNameChanged(const QString &name);

protected:
    //! Refreshes the list, starts the refresh timer and gives the list the focus.
    void showEvent(QShowEvent *event) override;
    //! Stops the refresh timer: a hidden dialog reads nothing.
    void hideEvent(QHideEvent *event) override;

private:
    friend class AttachDialogPrivate;
    std::unique_ptr<AttachDialogPrivate> d;
};

/*! \var pk::AttachDialog::Column pk::AttachDialog::NameColumn
    The name to attach to (MonitorServerInfo::name); the list is sorted by it at first.
*/
/*! \var pk::AttachDialog::Column pk::AttachDialog::ProgramColumn
    The program's name (MonitorServerInfo::program).
*/
/*! \var pk::AttachDialog::Column pk::AttachDialog::PidColumn
    The program's process id, sorted as a number.
*/
/*! \var pk::AttachDialog::Column pk::AttachDialog::SinceColumn
    When the program started listening, in local time ("—" if unknown).
*/
/*! \var pk::AttachDialog::Column pk::AttachDialog::KeepersColumn
    The labels of the program's keepers (the first 32, then how many more).
*/

} // namespace pk
