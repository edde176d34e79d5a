#include "protocol_p.h"

#include <pk/attachdialog.h>
#include <pk/monitorserver.h>

#include <QtCore/QLocale>
#include <QtCore/QTimer>
#include <QtWidgets/QDialogButtonBox>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLabel>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QStackedWidget>
#include <QtWidgets/QTreeWidget>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>

namespace pk {

namespace {

constexpr int kDefaultRefreshMs = 1000;
// The registration files are other programs' words: one line each, and not a novel.
constexpr int kMaxShownChars = 200;
constexpr int kMaxShownKeepers = 32;

// One line of printable characters: no newline, no terminal escape, no direction override.
QString shown(const QString &text)
{
    const QString simple = text.simplified();
    const bool cut = simple.size() > kMaxShownChars;
    QString line;
    line.reserve(std::min<qsizetype>(simple.size(), kMaxShownChars) + 1);
    for (const char32_t c : QStringView(simple).left(kMaxShownChars).toUcs4()) {
        if (QChar::isPrint(c))
            line += QStringView(QChar::fromUcs4(c));
        else
            line += QChar(QChar::ReplacementCharacter);
    }
    if (cut)
        line += QChar(0x2026);
    return line;
}

QString shownKeepers(const QStringList &keepers)
{
    QStringList names;
    for (const QString &keeper : keepers.mid(0, kMaxShownKeepers))
        names << shown(keeper);
    if (keepers.size() > kMaxShownKeepers)
        names << AttachDialog::tr("%n more", nullptr, int(keepers.size() - kMaxShownKeepers));
    return names.join(QStringLiteral(", "));
}

// What a row shows: a refresh that reads the same leaves the view (and its scroll) alone.
QStringList rowKey(const MonitorServerInfo &info)
{
    return { info.name, info.program, QString::number(info.pid),
        info.started.toString(Qt::ISODateWithMs), info.keepers.join(QChar(0)),
        QString::number(info.protocolVersion) };
}

} // namespace

class AttachDialogPrivate
{
public:
    explicit AttachDialogPrivate(AttachDialog *dialog)
        : q(dialog)
    { }

    void setupUi();
    void show(const QList<MonitorServerInfo> &list);
    void select(const QString &name);
    void onSelectionChanged();
    void updateAttachButton();

    AttachDialog *q;
    QList<MonitorServerInfo> servers;
    QList<QStringList> shownKeys;
    // The program the selection stays on across refreshes; it may be gone for now.
    QString wanted;
    QString lastName; // what serverNameChanged() last said
    bool rebuilding = false;
    QTimer refreshTimer;
    QStackedWidget *pages = nullptr;
    QTreeWidget *view = nullptr;
    QLabel *emptyLabel = nullptr;
    QPushButton *attachButton = nullptr;
    QPushButton *refreshButton = nullptr;
};

void AttachDialogPrivate::setupUi()
{
    q->setWindowTitle(AttachDialog::tr("Attach to a program"));
    auto *layout = new QVBoxLayout(q);

    auto *intro = new QLabel(
        AttachDialog::tr("Your programs that publish their keepers with a pk::MonitorServer:"), q);
    intro->setObjectName(QStringLiteral("introLabel"));
    intro->setWordWrap(true);
    layout->addWidget(intro);

    pages = new QStackedWidget(q);
    view = new QTreeWidget(pages);
    view->setObjectName(QStringLiteral("serverList"));
    view->setHeaderLabels({ AttachDialog::tr("Name"), AttachDialog::tr("Program"),
        AttachDialog::tr("PID"), AttachDialog::tr("Since"), AttachDialog::tr("Keepers") });
    view->setRootIsDecorated(false);
    view->setUniformRowHeights(true);
    view->setAllColumnsShowFocus(true);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->setSortingEnabled(true);
    view->sortByColumn(AttachDialog::NameColumn, Qt::AscendingOrder);
    view->header()->setStretchLastSection(true);
    pages->addWidget(view);

    // Rich text of our own; nothing from the registration files goes in it.
    // A centred table keeps the code's lines aligned on their left in a centred label.
    const QString code = QStringLiteral(
        "<table align=\"center\"><tr><td><pre align=\"left\">pk::MonitorServer server;\n"
        "server.addKeeper(&amp;keeper);\nserver.listen(\"myapp\");</pre></td></tr></table>");
    emptyLabel
        = new QLabel(AttachDialog::tr("<p><b>No program runs a pk::MonitorServer.</b></p>"
                                      "<p>To watch a program here, publish its keepers in it:</p>%1"
                                      "<p>It shows here as soon as it listens.</p>")
                         .arg(code),
            pages);
    emptyLabel->setObjectName(QStringLiteral("emptyLabel"));
    emptyLabel->setTextFormat(Qt::RichText);
    emptyLabel->setAlignment(Qt::AlignCenter);
    emptyLabel->setWordWrap(true);
    emptyLabel->setAutoFillBackground(true);
    emptyLabel->setBackgroundRole(QPalette::Base);
    pages->addWidget(emptyLabel);
    layout->addWidget(pages, 1);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, q);
    buttons->setObjectName(QStringLiteral("buttons"));
    refreshButton = buttons->addButton(AttachDialog::tr("&Refresh"), QDialogButtonBox::ActionRole);
    refreshButton->setObjectName(QStringLiteral("refreshButton"));
    // Enter attaches, wherever the focus is.
    refreshButton->setAutoDefault(false);
    attachButton = buttons->addButton(AttachDialog::tr("&Attach"), QDialogButtonBox::AcceptRole);
    attachButton->setObjectName(QStringLiteral("attachButton"));
    attachButton->setDefault(true);
    attachButton->setEnabled(false); // until a program is selected
    layout->addWidget(buttons);

    QObject::connect(buttons, &QDialogButtonBox::accepted, q, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, q, &QDialog::reject);
    QObject::connect(refreshButton, &QPushButton::clicked, q, &AttachDialog::refresh);
    QObject::connect(view, &QTreeWidget::itemSelectionChanged, q, [this] { onSelectionChanged(); });
    QObject::connect(view, &QTreeWidget::itemDoubleClicked, q, [this](QTreeWidgetItem *item) {
        if (item && !q->serverName().isEmpty())
            q->accept();
    });

    refreshTimer.setInterval(kDefaultRefreshMs);
    QObject::connect(&refreshTimer, &QTimer::timeout, q, &AttachDialog::refresh);
    q->resize(720, 360);
}

void AttachDialogPrivate::show(const QList<MonitorServerInfo> &list)
{
    servers = list;
    pages->setCurrentWidget(list.isEmpty() ? static_cast<QWidget *>(emptyLabel) : view);
    QList<QStringList> keys;
    keys.reserve(list.size());
    for (const MonitorServerInfo &info : list)
        keys << rowKey(info);
    if (keys == shownKeys)
        return;
    shownKeys = keys;

    rebuilding = true;
    view->clear();
    const QLocale locale;
    for (const MonitorServerInfo &info : list) {
        auto *item = new QTreeWidgetItem;
        item->setText(AttachDialog::NameColumn, shown(info.name));
        item->setData(AttachDialog::NameColumn, Qt::UserRole, info.name);
        item->setText(AttachDialog::ProgramColumn, shown(info.program));
        // A number, so that the column sorts as numbers do.
        item->setData(AttachDialog::PidColumn, Qt::DisplayRole, info.pid);
        if (info.started.isValid()) {
            item->setText(AttachDialog::SinceColumn,
                locale.toString(info.started.toLocalTime(), QLocale::ShortFormat));
            item->setToolTip(AttachDialog::SinceColumn, info.started.toString(Qt::ISODate));
        } else {
            item->setText(AttachDialog::SinceColumn, QStringLiteral("—"));
        }
        item->setText(AttachDialog::KeepersColumn, shownKeepers(info.keepers));
        if (info.protocolVersion != protocol::kVersion) {
            // It would refuse the monitor: listed, so that the user sees why it cannot be
            // chosen, but not selectable.
            item->setFlags(Qt::NoItemFlags);
            const QString why = AttachDialog::tr("Speaks protocol version %1; this monitor "
                                                 "speaks version %2.")
                                    .arg(info.protocolVersion)
                                    .arg(protocol::kVersion);
            for (int column = 0; column <= AttachDialog::KeepersColumn; ++column)
                item->setToolTip(column, why);
        }
        view->addTopLevelItem(item);
    }
    // Room between the columns: fitted to the contents alone, they touch.
    for (int column = 0; column < AttachDialog::KeepersColumn; ++column) {
        view->resizeColumnToContents(column);
        view->setColumnWidth(column, view->columnWidth(column) + view->fontMetrics().height());
    }
    rebuilding = false;

    // The selection stays where it was, or starts on the first program.
    if (wanted.isEmpty() && view->topLevelItemCount() > 0) {
        for (int row = 0; row < view->topLevelItemCount(); ++row) {
            QTreeWidgetItem *item = view->topLevelItem(row);
            if (item->flags() & Qt::ItemIsSelectable) {
                select(item->data(AttachDialog::NameColumn, Qt::UserRole).toString());
                break;
            }
        }
    } else {
        select(wanted);
    }
    onSelectionChanged();
}

void AttachDialogPrivate::select(const QString &name)
{
    for (int row = 0; row < view->topLevelItemCount(); ++row) {
        QTreeWidgetItem *item = view->topLevelItem(row);
        if (item->data(AttachDialog::NameColumn, Qt::UserRole).toString() == name
            && (item->flags() & Qt::ItemIsSelectable)) {
            view->setCurrentItem(item);
            view->scrollToItem(item);
            return;
        }
    }
}

void AttachDialogPrivate::onSelectionChanged()
{
    if (rebuilding)
        return;
    const QString name = q->serverName();
    // An empty selection during a rebuild is not the user's choice: keep the wish.
    if (!name.isEmpty())
        wanted = name;
    updateAttachButton();
    if (name != lastName) {
        lastName = name;
        Q_EMIT q->serverNameChanged(name);
    }
}

void AttachDialogPrivate::updateAttachButton()
{
    attachButton->setEnabled(!q->serverName().isEmpty());
}

AttachDialog::AttachDialog(QWidget *parent)
    : QDialog(parent)
    , d(std::make_unique<AttachDialogPrivate>(this))
{
    d->setupUi();
    refresh();
}

AttachDialog::~AttachDialog() = default;

QString AttachDialog::describeServer(const MonitorServerInfo &info)
{
    QString text = tr("%1 (%2, pid %3").arg(shown(info.name), shown(info.program)).arg(info.pid);
    if (!info.keepers.isEmpty())
        text += tr(", keepers: %1").arg(shownKeepers(info.keepers));
    return text + QLatin1Char(')');
}

QString AttachDialog::serverName() const
{
    const QList<QTreeWidgetItem *> selected = d->view->selectedItems();
    if (selected.isEmpty())
        return QString();
    return selected.first()->data(NameColumn, Qt::UserRole).toString();
}

void AttachDialog::setServerName(const QString &name)
{
    d->wanted = name;
    d->view->clearSelection();
    d->select(name);
    d->onSelectionChanged();
}

QList<MonitorServerInfo> AttachDialog::servers() const
{
    return d->servers;
}

int AttachDialog::refreshInterval() const
{
    return d->refreshTimer.interval();
}

void AttachDialog::setRefreshInterval(int msecs)
{
    msecs = std::max(msecs, 0);
    d->refreshTimer.setInterval(msecs);
    if (msecs == 0)
        d->refreshTimer.stop();
    else if (isVisible())
        d->refreshTimer.start();
}

QTreeWidget *AttachDialog::view() const
{
    return d->view;
}

void AttachDialog::refresh()
{
    d->show(MonitorServer::availableServers());
}

void AttachDialog::showEvent(QShowEvent *event)
{
    QDialog::showEvent(event);
    refresh();
    if (d->refreshTimer.interval() > 0)
        d->refreshTimer.start();
    d->view->setFocus();
}

void AttachDialog::hideEvent(QHideEvent *event)
{
    d->refreshTimer.stop();
    QDialog::hideEvent(event);
}

} // namespace pk
