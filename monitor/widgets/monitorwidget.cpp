#include "csvexport_p.h"
#include "monitorstyle_p.h"
#include "monitorwidget_p.h"
#include "taskitemdelegate_p.h"
#include "throughputchart_p.h"
#include "timelineview_p.h"
#include "traceexport_p.h"

#include <pk/keeperfeed.h>
#include <pk/monitorfeed.h>
#include <pk/monitorfiltermodel.h>
#include <pk/monitormodel.h>
#include <pk/monitorwidget.h>
#include <pk/promisekeeper.h>
#include <pk/tracewriter.h>

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QTime>
#include <QtCore/QUrl>
#include <QtCore/QtNumeric>
#include <QtGui/QAction>
#include <QtGui/QClipboard>
#include <QtGui/QGuiApplication>
#include <QtGui/QKeySequence>
#include <QtGui/QPainter>
#include <QtWidgets/QAbstractItemView>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QFrame>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QMenu>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QScrollBar>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QTableView>
#include <QtWidgets/QTextBrowser>
#include <QtWidgets/QToolButton>
#include <QtWidgets/QToolTip>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>
#include <functional>
#include <limits>

namespace pk {

namespace {
constexpr int kRefreshIntervalMs = 100;
constexpr int kTimelineIntervalMs = 50;
// How long the status line tells what the last export did.
constexpr int kNoticeMs = 10000;
constexpr int kNoticeNameWidth = 320; // pixels
// The timeline's span as it always was: wide enough for the titles of tasks of a second.
constexpr std::chrono::milliseconds kDefaultTimeRange = std::chrono::seconds(10);

// The time ranges the monitor offers, for the timeline and the chart alike.
QList<std::pair<std::chrono::milliseconds, QString>> timeRangeChoices()
{
    return { { std::chrono::seconds(10), MonitorWidget::tr("10 s") },
        { std::chrono::minutes(1), MonitorWidget::tr("1 min") },
        { std::chrono::minutes(5), MonitorWidget::tr("5 min") } };
}

// A dot when on, a ring when off: the chip's state reads without colour too.
QIcon chipIcon(const QColor &color)
{
    QIcon icon;
    for (const bool on : { true, false }) {
        QPixmap pixmap(12, 12);
        pixmap.fill(Qt::transparent);
        QPainter painter(&pixmap);
        painter.setRenderHint(QPainter::Antialiasing);
        if (on) {
            painter.setPen(Qt::NoPen);
            painter.setBrush(color);
        } else {
            painter.setPen(QPen(color, 1.5));
            painter.setBrush(Qt::NoBrush);
        }
        painter.drawEllipse(QRectF(1.5, 1.5, 9, 9));
        painter.end();
        icon.addPixmap(pixmap, QIcon::Normal, on ? QIcon::On : QIcon::Off);
    }
    return icon;
}

QString escaped(const QString &text)
{
    return text.toHtmlEscaped();
}

QString clockText(qint64 ns)
{
    if (ns <= 0)
        return QString();
    return TaskInfo::toDateTime(ns).time().toString(QStringLiteral("HH:mm:ss.zzz"));
}

// Tells whether the pointer is on a widget (or any of its children).
class HoverWatcher : public QObject
{
public:
    HoverWatcher(QObject *parent, std::function<void(bool)> handler)
        : QObject(parent)
        , onHover(std::move(handler))
    { }

    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() == QEvent::Enter)
            onHover(true);
        else if (event->type() == QEvent::Leave)
            onHover(false);
        return QObject::eventFilter(watched, event);
    }

private:
    std::function<void(bool)> onHover;
};

QString keyText(const QAction *action)
{
    return action->shortcut().toString(QKeySequence::NativeText);
}

// "Freeze the table (Space)": a control's tooltip names its key.
void addKeyToToolTip(QWidget *control, const QAction *action)
{
    control->setToolTip(MonitorWidget::tr("%1 (%2)").arg(control->toolTip(), keyText(action)));
}

QString percentileText(const monitor::TaskStats::Percentiles &p)
{
    if (p.median < 0)
        return QStringLiteral("–");
    return QStringLiteral("%1 / %2").arg(
        monitor::formatDuration(p.median), monitor::formatDuration(p.p95));
}
} // namespace

// ---- construction -----------------------------------------------------------------------

QLabel *MonitorWidgetPrivate::addCounter(const QString &name, const QString &objectName,
    const QString &toolTip, const QColor &color, QLabel **note)
{
    auto *tile = new QFrame(q);
    tile->setFrameShape(QFrame::StyledPanel);
    tile->setToolTip(toolTip);
    auto *layout = new QVBoxLayout(tile);
    layout->setContentsMargins(8, 3, 8, 4);
    layout->setSpacing(0);
    auto *caption = new QLabel(tile);
    if (color.isValid()) {
        caption->setText(QStringLiteral("<span style=\"color:%1\">&#9679;</span> %2")
                             .arg(color.name(), escaped(name)));
    } else {
        caption->setText(escaped(name));
    }
    QFont captionFont = caption->font();
    captionFont.setPointSizeF(captionFont.pointSizeF() * 0.85);
    caption->setFont(captionFont);
    // A role, not a colour: it follows a palette changed later (a dark theme).
    caption->setForegroundRole(QPalette::PlaceholderText);
    auto *value = new QLabel(QStringLiteral("0"), tile);
    value->setObjectName(objectName);
    QFont valueFont = value->font();
    valueFont.setPointSizeF(valueFont.pointSizeF() * 1.35);
    valueFont.setBold(true);
    value->setFont(valueFont);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(caption);
    if (note) {
        // A small line beside the value, on its baseline: a part of the count ("2 timed out").
        auto *row = new QHBoxLayout;
        row->setSpacing(6);
        *note = new QLabel(tile);
        (*note)->setObjectName(objectName + QStringLiteral("Note"));
        (*note)->setFont(captionFont);
        (*note)->setForegroundRole(QPalette::PlaceholderText);
        (*note)->hide();
        row->addWidget(value, 0, Qt::AlignBaseline);
        row->addWidget(*note, 1, Qt::AlignBaseline);
        layout->addLayout(row);
    } else {
        layout->addWidget(value);
    }
    counterStrip->addWidget(tile, 1);
    return value;
}

void MonitorWidgetPrivate::setupUi()
{
    auto *root = new QVBoxLayout(q);
    root->setContentsMargins(6, 6, 6, 6);
    root->setSpacing(6);

    // The banner that says the data is no longer live (the program went away, or came back):
    // a status-bar line is too easy to miss when every number on screen looks current.
    banner = new QFrame(q);
    banner->setObjectName(QStringLiteral("connectionBanner"));
    banner->setFrameShape(QFrame::StyledPanel);
    auto *bannerLayout = new QHBoxLayout(banner);
    bannerLayout->setContentsMargins(8, 4, 8, 4);
    bannerLabel = new QLabel(banner);
    bannerLabel->setObjectName(QStringLiteral("connectionBannerText"));
    bannerLabel->setWordWrap(true);
    bannerLayout->addWidget(bannerLabel);
    banner->hide();
    root->addWidget(banner);
    styleBanner();

    // Counters.
    counterStrip = new QHBoxLayout;
    counterStrip->setSpacing(6);
    root->addLayout(counterStrip);
    using monitor::stateColor;
    queuedValue = addCounter(MonitorWidget::tr("Queued"), QStringLiteral("queuedValue"),
        MonitorWidget::tr("Tasks waiting for a worker (and tasks waiting "
                          "for their inputs)"),
        stateColor(TaskState::Queued));
    runningValue
        = addCounter(MonitorWidget::tr("Running / threads"), QStringLiteral("runningValue"),
            MonitorWidget::tr("Tasks running now, and the keeper's threads"),
            stateColor(TaskState::Running));
    succeededValue = addCounter(MonitorWidget::tr("Succeeded"), QStringLiteral("succeededValue"),
        MonitorWidget::tr("Tasks that succeeded, in all"), stateColor(TaskState::Succeeded));
    failedValue = addCounter(MonitorWidget::tr("Failed"), QStringLiteral("failedValue"),
        MonitorWidget::tr("Tasks that failed, in all, and how many of them ran past "
                          "their time-out"),
        stateColor(TaskState::Failed), &timedOutValue);
    cancelledValue = addCounter(MonitorWidget::tr("Cancelled"), QStringLiteral("cancelledValue"),
        MonitorWidget::tr("Tasks cancelled before they ran, in all"),
        stateColor(TaskState::Cancelled));
    throughputValue
        = addCounter(MonitorWidget::tr("Finished / s"), QStringLiteral("throughputValue"),
            MonitorWidget::tr("Tasks finished per second, over the last "
                              "second"),
            QColor());
    waitValue
        = addCounter(MonitorWidget::tr("Queue wait: median / p95"), QStringLiteral("waitValue"),
            MonitorWidget::tr("Time from queued to started, over the last %1 "
                              "finished tasks")
                .arg(monitor::TaskStats::kWindow),
            QColor());
    runTimeValue
        = addCounter(MonitorWidget::tr("Run time: median / p95"), QStringLiteral("runTimeValue"),
            MonitorWidget::tr("Time from started to finished, over the last "
                              "%1 finished tasks")
                .arg(monitor::TaskStats::kWindow),
            QColor());

    // The table's controls, in two rows the width of the widget (not of the table, which
    // shares it with the details): what is shown, then what to do. One row did not fit at
    // 1024 px and the layout elided the chips and clipped the buttons.
    auto *tablePanel = new QWidget(q);
    auto *tableLayout = new QVBoxLayout(tablePanel);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    tableLayout->setSpacing(4);
    auto *bar = new QHBoxLayout;
    bar->setSpacing(4);
    root->addLayout(bar);
    auto *actionBar = new QHBoxLayout;
    actionBar->setSpacing(4);
    root->addLayout(actionBar);
    for (int s = 0; s < monitor::kStateCount; ++s) {
        const auto state = TaskState(s);
        auto *chip = new QToolButton(q);
        chip->setObjectName(QStringLiteral("stateChip_") + monitor::stateName(state));
        chip->setText(monitor::stateName(state));
        chip->setIcon(chipIcon(stateColor(state)));
        chip->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        chip->setCheckable(true);
        chip->setChecked(true);
        // Never narrower than its text: a chip that reads "W…g" says nothing.
        chip->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
        chip->setToolTip(MonitorWidget::tr("Show %1 tasks").arg(monitor::stateName(state)));
        QObject::connect(chip, &QToolButton::toggled, q, [this, state](bool on) {
            keepingSelection([&] { proxy->setStateVisible(state, on); });
        });
        chips[std::size_t(s)] = chip;
        bar->addWidget(chip);
    }
    bar->addSpacing(8);
    filterEdit = new QLineEdit(q);
    filterEdit->setObjectName(QStringLiteral("filterEdit"));
    filterEdit->setPlaceholderText(MonitorWidget::tr("Filter title, error, #id…"));
    filterEdit->setToolTip(MonitorWidget::tr("Shows the tasks whose title, error message or "
                                             "error type contains the text, or whose id it is "
                                             "(17 or #17); looks through folded continuations "
                                             "too"));
    filterEdit->setClearButtonEnabled(true);
    filterEdit->setMinimumWidth(160);
    QObject::connect(filterEdit, &QLineEdit::textChanged, q,
        [this](const QString &text) { keepingSelection([&] { proxy->setTextFilter(text); }); });
    bar->addWidget(filterEdit, 1);
    keeperCombo = new QComboBox(q);
    keeperCombo->setObjectName(QStringLiteral("keeperFilter"));
    keeperCombo->setToolTip(MonitorWidget::tr("Show the tasks of one keeper"));
    keeperCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    keeperCombo->addItem(MonitorWidget::tr("All keepers"), QString());
    QObject::connect(keeperCombo, &QComboBox::currentIndexChanged, q, [this](int index) {
        const QString name = keeperCombo->itemData(index).toString();
        keepingSelection([&] { proxy->setKeeperFilter(name); });
        // One selection drives the table and the counter strip.
        countersDirty = true;
        refreshCounters();
    });
    bar->addWidget(keeperCombo);
    continuationsButton = new QToolButton(q);
    continuationsButton->setObjectName(QStringLiteral("continuationsButton"));
    continuationsButton->setText(MonitorWidget::tr("Show continuations"));
    continuationsButton->setToolTip(
        MonitorWidget::tr("Show every then(), onFailed() and finally() as a row of its own; "
                          "otherwise they are folded under their task (+N) and a double click "
                          "on the task shows them"));
    continuationsButton->setCheckable(true);
    QObject::connect(continuationsButton, &QToolButton::toggled, q,
        [this](bool on) { keepingSelection([&] { proxy->setContinuationsShown(on); }); });
    actionBar->addWidget(continuationsButton);
    actionBar->addSpacing(8);
    followButton = new QToolButton(q);
    followButton->setObjectName(QStringLiteral("followButton"));
    followButton->setText(MonitorWidget::tr("Follow"));
    followButton->setToolTip(MonitorWidget::tr("Scroll to the newest task as tasks arrive"));
    followButton->setCheckable(true);
    followButton->setChecked(following);
    QObject::connect(followButton, &QToolButton::toggled, q, &MonitorWidget::setFollowing);
    actionBar->addWidget(followButton);
    freezeButton = new QToolButton(q);
    freezeButton->setObjectName(QStringLiteral("freezeButton"));
    freezeButton->setText(MonitorWidget::tr("Freeze"));
    freezeButton->setToolTip(MonitorWidget::tr("Stop updating the table; the updates are kept "
                                               "and applied when you unfreeze"));
    freezeButton->setCheckable(true);
    QObject::connect(freezeButton, &QToolButton::toggled, q, &MonitorWidget::setFrozen);
    actionBar->addWidget(freezeButton);
    actionBar->addStretch(1);
    cancelTaskButton = new QPushButton(MonitorWidget::tr("Cancel task"), q);
    cancelTaskButton->setObjectName(QStringLiteral("cancelTaskButton"));
    cancelTaskButton->setToolTip(MonitorWidget::tr("Cancel the selected task, or ask it to stop "
                                                   "if it is running"));
    QObject::connect(cancelTaskButton, &QPushButton::clicked, q, [this] { cancelSelected(); });
    actionBar->addWidget(cancelTaskButton);
    cancelAllButton = new QPushButton(MonitorWidget::tr("Cancel all"), q);
    cancelAllButton->setObjectName(QStringLiteral("cancelAllButton"));
    cancelAllButton->setToolTip(MonitorWidget::tr("Cancel every task that has not started yet "
                                                  "and ask the running ones to stop"));
    QObject::connect(cancelAllButton, &QPushButton::clicked, q, [this] {
        if (feed)
            feed->cancelAll();
    });
    actionBar->addWidget(cancelAllButton);
    actionBar->addSpacing(8);
    // One button with a menu: the bar is full at the usual window sizes, and the items can say
    // what each export holds.
    exportButton = new QPushButton(MonitorWidget::tr("Export"), q);
    exportButton->setObjectName(QStringLiteral("exportButton"));
    exportButton->setToolTip(MonitorWidget::tr("Save the table as CSV or the tasks as a trace"));
    auto *exportMenu = new QMenu(exportButton);
    exportCsvAction = exportMenu->addAction(MonitorWidget::tr("Shown rows as CSV…"));
    exportCsvAction->setObjectName(QStringLiteral("exportCsvAction"));
    exportCsvAction->setToolTip(MonitorWidget::tr("Save the rows the table shows (after the "
                                                  "filters, in the table's order) as CSV"));
    QObject::connect(
        exportCsvAction, &QAction::triggered, q, [this] { chooseExportFile(ExportFormat::Csv); });
    exportTraceAction = exportMenu->addAction(MonitorWidget::tr("All tasks as a trace…"));
    exportTraceAction->setObjectName(QStringLiteral("exportTraceAction"));
    exportTraceAction->setToolTip(
        MonitorWidget::tr("Save every task the table holds, whatever the filters, as a Chrome "
                          "trace (for Perfetto, chrome://tracing or pk-monitor --open)"));
    QObject::connect(exportTraceAction, &QAction::triggered, q,
        [this] { chooseExportFile(ExportFormat::Trace); });
    exportMenu->setToolTipsVisible(true);
    exportButton->setMenu(exportMenu);
    actionBar->addWidget(exportButton);
    keyboardHelpButton = new QToolButton(q);
    keyboardHelpButton->setObjectName(QStringLiteral("keyboardHelpButton"));
    keyboardHelpButton->setText(QStringLiteral("?"));
    keyboardHelpButton->setAccessibleName(MonitorWidget::tr("Keyboard shortcuts"));
    QObject::connect(keyboardHelpButton, &QToolButton::clicked, q, [this] {
        QToolTip::showText(keyboardHelpButton->mapToGlobal(QPoint(0, keyboardHelpButton->height())),
            keyboardHelp(), keyboardHelpButton);
    });
    actionBar->addWidget(keyboardHelpButton);

    model = new MonitorModel(q);
    proxy = new MonitorFilterModel(q);
    proxy->setSourceModel(model);
    table = new QTableView(tablePanel);
    table->setObjectName(QStringLiteral("taskTable"));
    table->setModel(proxy);
    table->setItemDelegate(new monitor::TaskItemDelegate(table));
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    // Several rows, to copy or cancel them together; the current one is the task shown in
    // the details and on the timeline.
    table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setAlternatingRowColors(true);
    table->setWordWrap(false);
    table->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    table->verticalHeader()->hide();
    // Fixed row heights: the view never measures rows, which matters with a million of them.
    table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 6);
    QHeaderView *header = table->horizontalHeader();
    header->setHighlightSections(false);
    header->setSortIndicatorClearable(true);
    // Unsorted (the order tasks appeared) until the user clicks a column: sorting a flood of
    // rows dynamically costs more than showing them.
    header->setSortIndicator(-1, Qt::AscendingOrder);
    table->setSortingEnabled(true);
    // Title and Error share what the fixed columns leave: at 1024 px every column is on
    // screen, and a wide window gives the room to the text that needs it.
    header->setStretchLastSection(false);
    header->setSectionResizeMode(MonitorModel::TitleColumn, QHeaderView::Stretch);
    header->setSectionResizeMode(MonitorModel::ErrorColumn, QHeaderView::Stretch);
    // After a sort the old scroll offset points at other rows: go where the user looks.
    QObject::connect(header, &QHeaderView::sortIndicatorChanged, q, [this] { scrollAfterSort(); });
    const QFontMetrics fm = table->fontMetrics();
    const auto width = [&fm](const char *sample) {
        return fm.horizontalAdvance(QString::fromUtf8(sample)) + 16;
    };
    table->setColumnWidth(MonitorModel::IdColumn, width("000000"));
    table->setColumnWidth(MonitorModel::KeeperColumn, width("network"));
    table->setColumnWidth(MonitorModel::StateColumn, width("Succeeded") + 16);
    // A bar with its percentage; the text after it shows when the column is widened (at the
    // default 100 px the title was squeezed to its first letter at 1024 px).
    table->setColumnWidth(MonitorModel::ProgressColumn, width("Progress"));
    table->setColumnWidth(MonitorModel::PriorityColumn, width("Priority"));
    table->setColumnWidth(MonitorModel::WorkerColumn, width("Worker"));
    table->setColumnWidth(MonitorModel::QueuedAtColumn, width("00:00:00.000"));
    table->setColumnWidth(MonitorModel::WaitColumn, width("000.0 ms"));
    table->setColumnWidth(MonitorModel::RunTimeColumn, width("000.0 ms"));
    tableLayout->addWidget(table, 1);
    table->installEventFilter(new HoverWatcher(table, [this](bool on) {
        pointerOnTable = on;
        updateFollowPause();
    }));
    // A double click on a task shows (or folds again) its continuations.
    QObject::connect(table, &QAbstractItemView::doubleClicked, q, [this](const QModelIndex &index) {
        const quint64 id = index.data(MonitorModel::IdRole).toULongLong();
        if (model->foldedCount(id) > 0)
            keepingSelection([&] { proxy->setExpanded(id, !proxy->isExpanded(id)); });
    });
    QObject::connect(model, &MonitorModel::keeperAdded, q, [this](const QString &name) {
        if (keeperCombo->findData(name) < 0) // the feed may have named it first
            keeperCombo->addItem(name, name);
    });
    QObject::connect(model, &QAbstractItemModel::modelReset, q, [this] { rebuildKeeperCombo(); });
    QObject::connect(table->selectionModel(), &QItemSelectionModel::currentRowChanged, q,
        [this] { onCurrentChanged(); });
    // Scrolling away from the newest rows by hand stops following them.
    QObject::connect(table->verticalScrollBar(), &QScrollBar::actionTriggered, q, [this](int) {
        QScrollBar *scrollBar = table->verticalScrollBar();
        if (following && scrollBar->sliderPosition() < scrollBar->maximum())
            q->setFollowing(false);
    });

    details = new QTextBrowser(q);
    details->setObjectName(QStringLiteral("details"));
    details->setOpenLinks(false);
    QObject::connect(
        details, &QTextBrowser::anchorClicked, q, [this](const QUrl &url) { onDetailsLink(url); });
    details->setMinimumWidth(220);

    timeline = new monitor::TimelineView(q);
    timeline->setObjectName(QStringLiteral("timeline"));
    timeline->setModel(model);
    // The timeline and the table point at the same task both ways.
    QObject::connect(timeline, &monitor::TimelineView::taskClicked, q,
        [this](quint64 id) { q->selectTask(id); });
    QObject::connect(
        q, &MonitorWidget::selectedTaskChanged, timeline, &monitor::TimelineView::setSelectedTask);
    chart = new monitor::ThroughputChart(q);
    chart->setObjectName(QStringLiteral("chart"));
    timeRangeCombo = new QComboBox(q);
    timeRangeCombo->setObjectName(QStringLiteral("timeRange"));
    timeRangeCombo->setToolTip(MonitorWidget::tr("The time the timeline and the chart show"));
    timeRangeCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents); // "250 ms (zoomed)"
    for (const auto &[range, text] : timeRangeChoices())
        timeRangeCombo->addItem(text, qint64(range.count()));
    QObject::connect(timeRangeCombo, &QComboBox::activated, q, [this](int index) {
        q->setTimeRange(std::chrono::milliseconds(timeRangeCombo->itemData(index).toLongLong()));
    });
    QObject::connect(timeline, &monitor::TimelineView::spanZoomed, q,
        [this](qint64 nsecs) { onTimelineZoomed(nsecs); });
    q->setTimeRange(kDefaultTimeRange);

    topSplitter = new QSplitter(Qt::Horizontal, q);
    topSplitter->addWidget(tablePanel);
    topSplitter->addWidget(details);
    topSplitter->setStretchFactor(0, 1);
    topSplitter->setStretchFactor(1, 0);
    topSplitter->setCollapsible(0, false);
    bottomSplitter = new QSplitter(Qt::Horizontal, q);
    bottomSplitter->addWidget(timeline);
    bottomSplitter->addWidget(chart);
    bottomSplitter->setStretchFactor(0, 3);
    bottomSplitter->setStretchFactor(1, 2);
    auto *bottomPanel = new QWidget(q);
    auto *bottomLayout = new QVBoxLayout(bottomPanel);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    bottomLayout->setSpacing(2);
    auto *rangeRow = new QHBoxLayout;
    auto *rangeLabel = new QLabel(MonitorWidget::tr("&Time range:"), bottomPanel);
    rangeLabel->setBuddy(timeRangeCombo);
    rangeRow->addWidget(rangeLabel);
    rangeRow->addWidget(timeRangeCombo);
    rangeRow->addStretch(1);
    bottomLayout->addLayout(rangeRow);
    bottomLayout->addWidget(bottomSplitter, 1);
    mainSplitter = new QSplitter(Qt::Vertical, q);
    mainSplitter->addWidget(topSplitter);
    mainSplitter->addWidget(bottomPanel);
    mainSplitter->setStretchFactor(0, 3);
    mainSplitter->setStretchFactor(1, 2);
    root->addWidget(mainSplitter, 1);

    statusLabel = new QLabel(q);
    statusLabel->setObjectName(QStringLiteral("statusLabel"));
    root->addWidget(statusLabel);

    refreshTimer.setInterval(kRefreshIntervalMs);
    QObject::connect(&refreshTimer, &QTimer::timeout, q, [this] { refreshCounters(); });
    refreshTimer.start();
    chartTimer.setInterval(monitor::ThroughputChart::kSampleIntervalMs);
    QObject::connect(&chartTimer, &QTimer::timeout, q, [this] { sampleChart(); });
    chartTimer.start();
    timelineTimer.setInterval(kTimelineIntervalMs);
    QObject::connect(&timelineTimer, &QTimer::timeout, q, [this] {
        if (timeline->isVisible() && timeline->isFollowingNow())
            timeline->update();
    });
    timelineTimer.start();
    noticeTimer.setSingleShot(true);
    noticeTimer.setInterval(kNoticeMs);
    QObject::connect(&noticeTimer, &QTimer::timeout, q, [this] {
        notice.clear();
        updateStatus();
    });

    setupShortcuts();
    styleChips();
    updateFollowPause();
    refreshDetails(true);
    updateActions();
    updateStatus();
}

void MonitorWidgetPrivate::styleChips()
{
    // Style sheets, as the style draws a checked tool button sunken: "on" then looked pressed
    // and "off" raised, which reads backwards. On: filled with the state's colour; off: flat,
    // the text dim.
    const QPalette palette = q->palette();
    const QColor base = palette.color(QPalette::Window);
    const auto mixed = [&base](const QColor &c, double amount) {
        return QColor::fromRgbF(float(base.redF() + (c.redF() - base.redF()) * amount),
            float(base.greenF() + (c.greenF() - base.greenF()) * amount),
            float(base.blueF() + (c.blueF() - base.blueF()) * amount));
    };
    for (int s = 0; s < monitor::kStateCount; ++s) {
        const QColor color = monitor::stateColor(TaskState(s));
        chips[std::size_t(s)]->setStyleSheet(
            QStringLiteral("QToolButton { border: 1px solid transparent; border-radius: 4px; "
                           "padding: 2px 6px; background: transparent; color: %1; } "
                           "QToolButton:hover { border-color: %2; } "
                           "QToolButton:checked { background: %3; border-color: %4; "
                           "color: %5; }")
                .arg(palette.color(QPalette::PlaceholderText).name(),
                    palette.color(QPalette::Mid).name(), mixed(color, 0.28).name(), color.name(),
                    palette.color(QPalette::WindowText).name()));
    }
}

void MonitorWidgetPrivate::styleBanner()
{
    // Amber on either palette: pale with dark text on a light one, deep with light text on a
    // dark one (a pale box on a dark window glares, and its text would follow the palette).
    const bool dark = q->palette().color(QPalette::Window).lightness() < 128;
    banner->setStyleSheet(QStringLiteral("#connectionBanner { background: %1; "
                                         "border: 1px solid #d4a72c; border-radius: 3px; } "
                                         "#connectionBanner QLabel { color: %2; }")
                              .arg(dark ? QStringLiteral("#4a3a0c") : QStringLiteral("#fff3cd"),
                                  dark ? QStringLiteral("#ffe8a3") : QStringLiteral("#3d2e00")));
}

// ---- keyboard ----------------------------------------------------------------------------

QAction *MonitorWidgetPrivate::addShortcut(const QString &objectName, const QString &text,
    const QKeySequence &key, void (MonitorWidgetPrivate::*slot)())
{
    auto *action = new QAction(text, q);
    action->setObjectName(objectName);
    action->setShortcut(key);
    // The widget may be one of many in a window: its keys act only while the focus is in it.
    action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    QObject::connect(action, &QAction::triggered, q, [this, slot] { (this->*slot)(); });
    q->addAction(action);
    shortcutActions << action;
    return action;
}

void MonitorWidgetPrivate::setupShortcuts()
{
    // Space, F and Del are printable or editing keys: QLineEdit takes them first (it accepts
    // their ShortcutOverride), so they type into the filter instead of acting.
    addKeyToToolTip(filterEdit,
        addShortcut(QStringLiteral("focusFilterAction"), MonitorWidget::tr("Go to the text filter"),
            QKeySequence::Find, &MonitorWidgetPrivate::focusFilter));
    addShortcut(QStringLiteral("clearAction"),
        MonitorWidget::tr("Clear the text filter, or else the selection"),
        QKeySequence(Qt::Key_Escape), &MonitorWidgetPrivate::clearFilterOrSelection);
    addKeyToToolTip(freezeButton,
        addShortcut(QStringLiteral("freezeAction"),
            MonitorWidget::tr("Freeze or unfreeze the table"), QKeySequence(Qt::Key_Space),
            &MonitorWidgetPrivate::toggleFrozen));
    followAction = addShortcut(QStringLiteral("followAction"),
        MonitorWidget::tr("Follow the newest task, or stop"), QKeySequence(Qt::Key_F),
        &MonitorWidgetPrivate::toggleFollowing);
    cancelTaskAction = addShortcut(QStringLiteral("cancelTaskAction"),
        MonitorWidget::tr("Cancel the selected task"), QKeySequence::Delete,
        &MonitorWidgetPrivate::cancelSelected);
    addShortcut(QStringLiteral("copyRowsAction"),
        MonitorWidget::tr("Copy the selected rows (tab-separated, with a header)"),
        QKeySequence::Copy, &MonitorWidgetPrivate::copySelectedRows);
    addShortcut(QStringLiteral("copyDetailsAction"),
        MonitorWidget::tr("Copy the selected task's details"),
        QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C), &MonitorWidgetPrivate::copyDetails);
    addKeyToToolTip(cancelTaskButton, cancelTaskAction);
    keyboardHelpButton->setToolTip(keyboardHelp());
}

void MonitorWidgetPrivate::focusFilter()
{
    filterEdit->setFocus(Qt::ShortcutFocusReason);
    filterEdit->selectAll();
}

void MonitorWidgetPrivate::clearFilterOrSelection()
{
    if (!filterEdit->text().isEmpty())
        filterEdit->clear();
    else
        q->selectTask(0);
}

void MonitorWidgetPrivate::toggleFrozen()
{
    q->setFrozen(!frozen);
}

void MonitorWidgetPrivate::toggleFollowing()
{
    if (followButton->isEnabled())
        q->setFollowing(!following);
}

void MonitorWidgetPrivate::cancelSelected()
{
    if (!feed || !cancelTaskButton->isEnabled())
        return;
    const QModelIndexList rows = table->selectionModel()->selectedRows();
    if (rows.isEmpty() && selectedId != 0) {
        feed->cancelTask(selectedId); // selected, but filtered out of the table
        return;
    }
    for (const QModelIndex &index : rows) {
        const auto state = index.data(MonitorModel::StateRole).value<TaskState>();
        if (!isFinal(state))
            feed->cancelTask(index.data(MonitorModel::IdRole).toULongLong());
    }
}

void MonitorWidgetPrivate::copySelectedRows()
{
    QModelIndexList rows = table->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return;
    std::sort(rows.begin(), rows.end(),
        [](const QModelIndex &a, const QModelIndex &b) { return a.row() < b.row(); });
    // The columns as shown: in the header's order, hidden ones left out.
    const QHeaderView *header = table->horizontalHeader();
    QList<int> columns;
    for (int visual = 0; visual < header->count(); ++visual) {
        const int logical = header->logicalIndex(visual);
        if (!header->isSectionHidden(logical))
            columns << logical;
    }
    // Tabs and line breaks inside a cell (titles, error messages) would split it.
    const auto cell = [](QString text) {
        for (QChar &c : text) {
            if (c == QLatin1Char('\t') || c == QLatin1Char('\n') || c == QLatin1Char('\r'))
                c = QLatin1Char(' ');
        }
        return text;
    };
    QStringList lines;
    QStringList fields;
    for (const int column : std::as_const(columns))
        fields << cell(proxy->headerData(column, Qt::Horizontal).toString());
    lines << fields.join(QLatin1Char('\t'));
    for (const QModelIndex &row : std::as_const(rows)) {
        fields.clear();
        for (const int column : std::as_const(columns))
            fields << cell(row.siblingAtColumn(column).data().toString());
        lines << fields.join(QLatin1Char('\t'));
    }
    QGuiApplication::clipboard()->setText(lines.join(QLatin1Char('\n')) + QLatin1Char('\n'));
}

void MonitorWidgetPrivate::copyDetails()
{
    if (selectedInfo().isValid())
        QGuiApplication::clipboard()->setText(details->toPlainText());
}

QString MonitorWidgetPrivate::keyboardHelp() const
{
    QString html = MonitorWidget::tr("<b>Keyboard</b>") + QStringLiteral("<table>");
    for (const QAction *action : shortcutActions) {
        html += QStringLiteral("<tr><td style=\"padding-right:12px\"><b>%1</b></td>"
                               "<td>%2</td></tr>")
                    .arg(keyText(action).toHtmlEscaped(), action->text().toHtmlEscaped());
    }
    return html + QStringLiteral("</table>");
}

// ---- the source ------------------------------------------------------------------------

void MonitorWidgetPrivate::setFeed(MonitorFeed *newFeed, KeeperFeed *owned)
{
    for (const QMetaObject::Connection &c : std::as_const(feedConnections))
        QObject::disconnect(c);
    feedConnections.clear();
    if (ownedFeed && ownedFeed != owned)
        delete ownedFeed;
    ownedFeed = owned;
    feed = newFeed;

    // Start again from nothing; the feed's next snapshot (or its updates) fill the views.
    frozenSnapshot = false;
    frozenChanges.clear();
    frozenIndex.clear();
    keepingSelection([this] { model->clear(); });
    timeline->clear();
    chart->clear();
    stats.clear();
    chartHistory.clear();
    queuePeak = 0;
    counts = TaskCounts();
    threadCount = 0;
    droppedDetail = 0;
    connected = feed && feed->isConnected();
    wasConnected = connected;
    sourceGone = false;
    bannerLines.clear();
    recording = feed && !feed->isLive();
    recordingStart = recordingEnd = 0;
    if (recording) {
        const QString program = feed->programName().isEmpty() ? feed->sourceName()
            : feed->programPid() > 0
            ? MonitorWidget::tr("%1 (pid %2)").arg(feed->programName()).arg(feed->programPid())
            : feed->programName();
        bannerLines << MonitorWidget::tr("Recording of %1 — not live: the timeline shows the "
                                         "recording's own span.")
                           .arg(program);
        bannerLabel->setText(bannerLines.join(QLatin1Char('\n')));
    }
    banner->setVisible(recording);
    setCountersLive(true);
    if (!chartTimer.isActive())
        chartTimer.start();
    connectionMessage.clear();
    countersDirty = true;

    if (feed) {
        feedConnections << QObject::connect(feed, &MonitorFeed::snapshot, q,
            [this](const QList<TaskInfo> &live, const QList<TaskInfo> &finished, int threads) {
                onSnapshot(live, finished, threads);
            });
        feedConnections << QObject::connect(feed, &MonitorFeed::updated, q,
            [this](const QList<TaskInfo> &changes, const TaskCounts &c, int threads,
                quint64 dropped) { onUpdated(changes, c, threads, dropped); });
        feedConnections << QObject::connect(feed, &MonitorFeed::connectionChanged, q,
            [this](bool on, const QString &message) { onConnectionChanged(on, message); });
        // A keeper feed made earlier has sent its snapshot already: ask for another one.
        if (auto *keeperFeed = qobject_cast<KeeperFeed *>(feed.data()); keeperFeed && !owned)
            keeperFeed->requestSnapshot();
    }
    refreshCounters();
    refreshDetails(true);
    updateActions();
}

void MonitorWidgetPrivate::onSnapshot(
    const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished, int threads)
{
    threadCount = threads;
    timeline->clear();
    timeline->setThreadCount(threads);
    timeline->setKeepers(feed ? feed->keepers() : QList<KeeperStatus>());
    timeline->addTasks(recentlyFinished);
    timeline->addTasks(live);
    recordingStart = recordingEnd = 0;
    noteRecordingSpan(recentlyFinished);
    noteRecordingSpan(live);
    stats.clear();
    for (const TaskInfo &info : recentlyFinished)
        stats.addFinished(info);
    // Counts until the first update brings the exact ones.
    TaskCounts c;
    for (const TaskInfo &info : live)
        c.add(info);
    for (const TaskInfo &info : recentlyFinished)
        c.add(info);
    counts = c;
    countersDirty = true;
    if (frozen) {
        frozenSnapshot = true;
        frozenLive = live;
        frozenFinished = recentlyFinished;
        frozenChanges.clear();
        frozenIndex.clear();
    } else {
        applySnapshot(live, recentlyFinished);
    }
    updateStatus();
}

void MonitorWidgetPrivate::onUpdated(
    const QList<TaskInfo> &changes, const TaskCounts &c, int threads, quint64 dropped)
{
    counts = c;
    queuePeak = std::max(queuePeak, c.queued + c.waiting);
    threadCount = threads;
    // A feed's counts may come from another process: the total saturates, and stays a qint64
    // for formatCount().
    if (qAddOverflow(droppedDetail, dropped, &droppedDetail)
        || droppedDetail > quint64(std::numeric_limits<qint64>::max()))
        droppedDetail = quint64(std::numeric_limits<qint64>::max());
    countersDirty = true;
    for (const TaskInfo &info : changes) {
        if (isFinal(info.state()))
            stats.addFinished(info);
    }
    timeline->setThreadCount(threads);
    const QList<KeeperStatus> keepers = feed ? feed->keepers() : QList<KeeperStatus>();
    timeline->setKeepers(keepers);
    timeline->addTasks(changes);
    noteRecordingSpan(changes);
    // The counts are exact where detail was dropped: the workers they say are busy are drawn
    // so, aggregated, until the detail is whole again.
    const qint64 now = TaskInfo::monotonicNowNsecs();
    timeline->setOccupancy(now,
        keepers.isEmpty() ? QList<KeeperStatus> { { QString(), threads, c } } : keepers, dropped);
    timeline->addQueueDepth(now, c.queued + c.waiting);
    if (frozen)
        bufferChanges(changes);
    else
        applyChanges(changes);
    // With the rows they were taken with (the feed's counts are as of its batch's last
    // change), not up to a refresh later: the tiles never contradict the table. The rates and
    // percentiles keep their own pace.
    if (!sourceGone)
        showCounts();
    if (dropped > 0)
        updateStatus();
}

void MonitorWidgetPrivate::onConnectionChanged(bool on, const QString &message)
{
    connected = on;
    connectionMessage = message;
    const QString at = QTime::currentTime().toString(QStringLiteral("HH:mm:ss"));
    if (!on && wasConnected && !sourceGone) {
        // What is on screen is what was last received: say so, and stop everything that would
        // go on computing from a dead source (rates, growing bars).
        sourceGone = true;
        bannerLines << MonitorWidget::tr("Program gone at %1 — showing what was last received; "
                                         "running and queued tasks are unknown after that.")
                           .arg(at);
        timeline->setSourceGoneAt(TaskInfo::monotonicNowNsecs());
        model->setLiveStateNote(MonitorWidget::tr("unknown (program gone)"));
        chartTimer.stop();
        throughputValue->setText(QStringLiteral("—"));
        shownThroughput = 0;
    } else if (on && sourceGone) {
        // Not a silent wipe: the gap stays visible, with a marker where the data resumed.
        sourceGone = false;
        bannerLines << MonitorWidget::tr("Reconnected at %1.").arg(at);
        timeline->setSourceGoneAt(0);
        model->setLiveStateNote(QString());
        timeline->addMarker(TaskInfo::monotonicNowNsecs());
        chartHistory.clear();
        chartTimer.start();
        countersDirty = true;
    }
    if (on)
        wasConnected = true;
    bannerLabel->setText(bannerLines.join(QLatin1Char('\n')));
    banner->setVisible(!bannerLines.isEmpty());
    setCountersLive(!sourceGone);
    updateActions();
    updateStatus();
}

void MonitorWidgetPrivate::noteRecordingSpan(const QList<TaskInfo> &tasks)
{
    if (!recording)
        return;
    // A recording has no "now": its span runs from the earliest to the latest time in it, and
    // the tasks unfinished at its end end there.
    for (const TaskInfo &info : tasks) {
        for (const qint64 t :
            { info.queuedAtNsecs(), info.startedAtNsecs(), info.finishedAtNsecs() }) {
            if (t <= 0)
                continue;
            recordingStart = recordingStart == 0 ? t : std::min(recordingStart, t);
            recordingEnd = std::max(recordingEnd, t);
        }
    }
    if (recordingEnd <= 0)
        return;
    timeline->showRange(recordingStart, recordingEnd);
    timeline->setSourceGoneAt(recordingEnd,
        MonitorWidget::tr("tasks running at the end: unfinished at end of recording"));
    model->setLiveStateNote(MonitorWidget::tr("unfinished at end of recording"));
}

void MonitorWidgetPrivate::setCountersLive(bool live)
{
    // Disabled tiles draw greyed: the numbers stay readable but no longer look current.
    for (int i = 0; i < counterStrip->count(); ++i) {
        if (QWidget *tile = counterStrip->itemAt(i)->widget())
            tile->setEnabled(live);
    }
    chart->setEnabled(live);
}

// ---- the table ---------------------------------------------------------------------------

template<typename F>
void MonitorWidgetPrivate::keepingSelection(F &&change)
{
    // Rows of the proxy come and go (filters, eviction): the view moves its current index to
    // a neighbour then, which must not change the task the user selected.
    const bool wasRestoring = std::exchange(restoring, true);
    change();
    restoring = wasRestoring;
    if (!restoring)
        restoreSelection();
}

void MonitorWidgetPrivate::restoreSelection()
{
    QItemSelectionModel *selection = table->selectionModel();
    const QModelIndex current = selection->currentIndex();
    if (selectedId == 0) {
        if (current.isValid() || selection->hasSelection()) {
            restoring = true;
            selection->clear();
            restoring = false;
        }
        return;
    }
    // Still there, with the rows selected beside it (which the selection model keeps).
    if (current.isValid() && current.data(MonitorModel::IdRole).toULongLong() == selectedId
        && selection->hasSelection())
        return;
    const QModelIndex source = model->indexOf(selectedId);
    const QModelIndex index = source.isValid() ? proxy->mapFromSource(source) : QModelIndex();
    restoring = true;
    if (index.isValid()) {
        selection->setCurrentIndex(
            index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    } else {
        // Filtered out or evicted: nothing is selected in the table, the details keep the task.
        selection->clear();
    }
    restoring = false;
}

MonitorWidgetPrivate::FollowPause MonitorWidgetPrivate::followPause() const
{
    // The selection first: it lasts longer than the pointer's visit, and Esc ends it.
    if (selectedId != 0)
        return FollowPause::Selection;
    return pointerOnTable ? FollowPause::Pointer : FollowPause::None;
}

void MonitorWidgetPrivate::updateFollowPause()
{
    showFollowPause();
    followNewest();
}

void MonitorWidgetPrivate::showFollowPause()
{
    Q_ASSERT(followAction); // setupShortcuts() made it
    // Nothing to pause when not following, or when there is nothing to follow (Follow is off).
    const FollowPause pause
        = following && followButton->isEnabled() ? followPause() : FollowPause::None;
    switch (pause) {
    case FollowPause::None:
        followButton->setText(MonitorWidget::tr("Follow"));
        followButton->setToolTip(MonitorWidget::tr("Scroll to the newest task as tasks arrive; "
                                                   "paused while the pointer is on the table "
                                                   "or a row is selected (%1)")
                                     .arg(keyText(followAction)));
        break;
    case FollowPause::Pointer:
        followButton->setText(MonitorWidget::tr("Follow (paused)"));
        followButton->setToolTip(MonitorWidget::tr("Follow paused: pointer on the table"));
        break;
    case FollowPause::Selection:
        followButton->setText(MonitorWidget::tr("Follow (paused)"));
        followButton->setToolTip(MonitorWidget::tr("Follow paused: a row is selected (Esc "
                                                   "clears the selection)"));
        break;
    }
    // As wide as its widest text: the bar must not move each time the pointer enters.
    followButton->setMinimumWidth(
        std::max(followButton->minimumWidth(), followButton->sizeHint().width()));
}

template<typename F>
void MonitorWidgetPrivate::keepingViewport(F &&change)
{
    if (following && followPause() == FollowPause::None) {
        change(); // followNewest() moves the view anyway
        return;
    }
    const QModelIndex top = table->indexAt(QPoint(0, 0));
    const quint64 anchor = top.isValid() ? top.data(MonitorModel::IdRole).toULongLong() : 0;
    const int before = top.isValid() ? table->visualRect(top).top() : 0;
    change();
    if (anchor == 0)
        return;
    const QModelIndex source = model->indexOf(anchor);
    const QModelIndex now = source.isValid() ? proxy->mapFromSource(source) : QModelIndex();
    if (!now.isValid())
        return; // evicted or filtered out: nothing to hold on to
    const int moved = table->visualRect(now).top() - before;
    if (moved != 0) {
        QScrollBar *scrollBar = table->verticalScrollBar();
        // The range follows the new rows only at the next layout: bring it up to date first.
        table->doItemsLayout();
        scrollBar->setValue(scrollBar->value() + moved);
    }
}

void MonitorWidgetPrivate::scrollAfterSort()
{
    if (selectedId != 0 && table->currentIndex().isValid())
        table->scrollTo(table->currentIndex(), QAbstractItemView::PositionAtCenter);
    else
        table->scrollToTop();
}

void MonitorWidgetPrivate::showDetailsPane(bool shown)
{
    if (details->isVisibleTo(q) == shown)
        return;
    if (!shown) {
        // Only a width the user saw (and perhaps dragged) is worth giving back.
        if (q->isVisible())
            detailsWidth = details->width();
        details->hide();
        return;
    }
    details->show();
    const int total = topSplitter->width();
    const int width = detailsWidth > 0 ? detailsWidth : std::clamp(total / 4, 260, 420);
    topSplitter->setSizes({ std::max(total - width, 0), width });
}

void MonitorWidgetPrivate::followNewest()
{
    if (!following || followPause() != FollowPause::None || model->rowCount() == 0)
        return;
    const int sortColumn = proxy->sortColumn();
    if (sortColumn < 0 || sortColumn == MonitorModel::IdColumn
        || sortColumn == MonitorModel::QueuedAtColumn) {
        if (sortColumn >= 0 && proxy->sortOrder() == Qt::DescendingOrder)
            table->scrollToTop();
        else
            table->scrollToBottom();
        return;
    }
    const QModelIndex newest = proxy->mapFromSource(model->index(model->rowCount() - 1, 0));
    if (newest.isValid())
        table->scrollTo(newest);
}

void MonitorWidgetPrivate::rebuildKeeperCombo()
{
    // Keeps the keeper chosen if the new tasks have it; otherwise back to all keepers.
    const QString chosen = proxy->keeperFilter();
    const QSignalBlocker blocker(keeperCombo);
    while (keeperCombo->count() > 1)
        keeperCombo->removeItem(1);
    for (const QString &name : model->keeperNames())
        keeperCombo->addItem(name, name);
    addFeedKeepers();
    const int index = chosen.isEmpty() ? 0 : keeperCombo->findData(chosen);
    keeperCombo->setCurrentIndex(std::max(index, 0));
    if (index < 0)
        keepingSelection([&] { proxy->setKeeperFilter(QString()); });
}

void MonitorWidgetPrivate::addFeedKeepers()
{
    // The feed may name keepers that have no task in the table yet (or whose tasks were
    // evicted): they are choices too. A few keepers: a look-up each is cheap.
    if (!feed)
        return;
    for (const KeeperStatus &status : feed->keepers()) {
        if (!status.name.isEmpty() && keeperCombo->findData(status.name) < 0)
            keeperCombo->addItem(status.name, status.name);
    }
}

void MonitorWidgetPrivate::revealTask(quint64 taskId)
{
    if (const quint64 root = model->rootOf(taskId))
        keepingSelection([&] { proxy->setExpanded(root, true); });
}

void MonitorWidgetPrivate::onDetailsLink(const QUrl &url)
{
    if (url.scheme() != QLatin1String("task"))
        return;
    bool ok = false;
    const quint64 id = url.path().toULongLong(&ok);
    if (ok && id != 0)
        q->selectTask(id);
}

void MonitorWidgetPrivate::applySnapshot(
    const QList<TaskInfo> &live, const QList<TaskInfo> &recentlyFinished)
{
    keepingViewport(
        [&] { keepingSelection([&] { model->applySnapshot(live, recentlyFinished); }); });
    followNewest();
    refreshDetails();
    updateActions();
}

void MonitorWidgetPrivate::applyChanges(const QList<TaskInfo> &changes)
{
    if (changes.isEmpty())
        return;
    const int rowsBefore = model->rowCount();
    keepingViewport([&] { keepingSelection([&] { model->applyChanges(changes); }); });
    addFeedKeepers();
    if (model->rowCount() != rowsBefore || model->droppedCount() > 0)
        followNewest();
    if (selectedId != 0) {
        refreshDetails();
        updateActions();
    }
}

void MonitorWidgetPrivate::bufferChanges(const QList<TaskInfo> &changes)
{
    // Coalesced by task, like the feed does: a long freeze costs one entry per task.
    for (const TaskInfo &info : changes) {
        const auto it = frozenIndex.constFind(info.id());
        if (it == frozenIndex.cend()) {
            frozenIndex.insert(info.id(), frozenChanges.size());
            frozenChanges.append(info);
        } else if (info.state() >= frozenChanges.at(*it).state()) {
            frozenChanges[*it] = info;
        }
    }
}

void MonitorWidgetPrivate::unfreeze()
{
    if (frozenSnapshot) {
        frozenSnapshot = false;
        applySnapshot(std::exchange(frozenLive, {}), std::exchange(frozenFinished, {}));
    }
    const QList<TaskInfo> changes = std::exchange(frozenChanges, {});
    frozenIndex.clear();
    applyChanges(changes);
    refreshDetails(true);
}

// ---- selection, details, actions -----------------------------------------------------------

void MonitorWidgetPrivate::onCurrentChanged()
{
    if (restoring)
        return;
    const QModelIndex current = table->selectionModel()->currentIndex();
    const quint64 id = current.isValid() ? current.data(MonitorModel::IdRole).toULongLong() : 0;
    if (id == selectedId)
        return;
    selectedId = id;
    refreshDetails(true);
    updateActions();
    updateFollowPause();
    Q_EMIT q->selectedTaskChanged(id);
}

TaskInfo MonitorWidgetPrivate::selectedInfo() const
{
    if (selectedId == 0)
        return TaskInfo();
    const int row = model->rowOf(selectedId);
    return row >= 0 ? model->taskAt(row) : shownInfo;
}

void MonitorWidgetPrivate::refreshDetails(bool force)
{
    const TaskInfo info = selectedInfo();
    QList<quint64> dependents = info.isValid() ? model->dependentsOf(info.id()) : QList<quint64>();
    if (!force && info == shownInfo && dependents == shownDependents)
        return;
    shownInfo = info;
    shownDependents = dependents;
    showDetailsPane(info.isValid());
    if (!info.isValid()) {
        details->setHtml(MonitorWidget::tr("<p style=\"color:gray\">Select a task to see its "
                                           "details.</p>"));
        return;
    }
    QString html;
    const QString stateName = monitor::stateName(info.state());
    html += QStringLiteral("<h3 style=\"margin-bottom:2px\">%1</h3>")
                .arg(info.title().isEmpty() ? MonitorWidget::tr("Task %1").arg(info.id())
                                            : escaped(info.title()));
    const auto row = [&html](const QString &name, const QString &value) {
        html += QStringLiteral("<tr><td style=\"color:gray; padding-right:10px\">%1</td>"
                               "<td>%2</td></tr>")
                    .arg(name, value);
    };
    html += QStringLiteral("<table cellspacing=\"0\" cellpadding=\"1\">");
    row(MonitorWidget::tr("Id"), QString::number(info.id()));
    row(MonitorWidget::tr("Title"), escaped(info.title()));
    row(MonitorWidget::tr("Keeper"),
        info.keeperName().isEmpty() ? QStringLiteral("–") : escaped(info.keeperName()));
    row(MonitorWidget::tr("Kind"),
        info.kind() == TaskKind::Continuation     ? MonitorWidget::tr("Continuation")
            : info.kind() == TaskKind::Combinator ? MonitorWidget::tr("Combinator")
                                                  : MonitorWidget::tr("Task"));
    row(MonitorWidget::tr("State"),
        QStringLiteral("<b style=\"color:%1\">%2</b>")
            .arg(monitor::stateColor(info.state()).name(), stateName));
    if (info.state() == TaskState::Running && info.isCancellationRequested())
        row(MonitorWidget::tr("Cancellation"), MonitorWidget::tr("requested; cancelling…"));
    else if (info.isTimedOut())
        row(MonitorWidget::tr("Cancellation"), MonitorWidget::tr("timed out"));
    const QString progress = monitor::progressLabel(info);
    if (!progress.isEmpty()) {
        const QString range = info.progressMaximum() > info.progressMinimum()
            ? MonitorWidget::tr(" (%1 of %2 to %3)")
                  .arg(info.progressValue())
                  .arg(info.progressMinimum())
                  .arg(info.progressMaximum())
            : QString();
        row(MonitorWidget::tr("Progress"), escaped(progress) + range);
    }
    row(MonitorWidget::tr("Priority"), QString::number(info.priority()));
    row(MonitorWidget::tr("Worker"),
        info.workerIndex() >= 0 ? QString::number(info.workerIndex()) : QStringLiteral("–"));
    if (info.processId() != 0) // a submitToProcess() task: the child that ran it
        row(MonitorWidget::tr("Process"), MonitorWidget::tr("pid %1").arg(info.processId()));
    row(MonitorWidget::tr("Queue wait"),
        info.waitNsecs() >= 0 ? monitor::formatDuration(info.waitNsecs())
                              : MonitorWidget::tr("still waiting"));
    row(MonitorWidget::tr("Run time"),
        info.runNsecs() >= 0                     ? monitor::formatDuration(info.runNsecs())
            : info.state() == TaskState::Running ? MonitorWidget::tr("still running")
                                                 : QStringLiteral("–"));
    // Inputs and dependents as links that select them; a task no longer (or not yet) in the
    // table is named by its id alone, as there is nothing to select.
    const auto links = [this](const QList<quint64> &ids) {
        constexpr qsizetype kMaxLinks = 20; // a whenAll() of thousands stays readable
        QStringList parts;
        for (qsizetype i = 0; i < std::min(ids.size(), kMaxLinks); ++i) {
            const quint64 id = ids.at(i);
            const int r = model->rowOf(id);
            if (r < 0) {
                parts << QStringLiteral("#%1").arg(id);
                continue;
            }
            const QString title = model->taskAt(r).title();
            parts << QStringLiteral("<a href=\"task:%1\">#%1</a> %2")
                         .arg(QString::number(id), escaped(title));
        }
        if (ids.size() > kMaxLinks)
            parts << MonitorWidget::tr("and %1 more").arg(ids.size() - kMaxLinks);
        return parts.isEmpty() ? QStringLiteral("–") : parts.join(QStringLiteral("<br>"));
    };
    row(MonitorWidget::tr("Inputs"), links(info.inputIds()));
    row(MonitorWidget::tr("Dependents"), links(dependents));
    html += QStringLiteral("</table>");

    // The state changes, as far as the timestamps tell, each with the time since the previous.
    html += MonitorWidget::tr("<h4 style=\"margin-bottom:2px\">State changes</h4>");
    html += QStringLiteral("<table cellspacing=\"0\" cellpadding=\"1\">");
    qint64 previous = 0;
    const auto change = [&](TaskState state, qint64 ns, const QString &label) {
        const QString delta = previous > 0
            ? QStringLiteral(" <span style=\"color:gray\">+%1</span>")
                  .arg(monitor::formatDuration(ns - previous))
            : QString();
        html += QStringLiteral("<tr><td><span style=\"color:%1\">&#9679;</span> %2</td>"
                               "<td style=\"padding-left:10px\">%3%4</td></tr>")
                    .arg(monitor::stateColor(state).name(), label, clockText(ns), delta);
        previous = ns;
    };
    change(info.state() == TaskState::Waiting ? TaskState::Waiting : TaskState::Queued,
        info.queuedAtNsecs(),
        info.state() == TaskState::Waiting ? MonitorWidget::tr("Submitted")
                                           : MonitorWidget::tr("Queued"));
    if (info.startedAtNsecs() > 0)
        change(TaskState::Running, info.startedAtNsecs(), MonitorWidget::tr("Started"));
    if (isFinal(info.state()))
        change(info.state(), info.finishedAtNsecs(), stateName);
    html += QStringLiteral("</table>");
    const QDateTime queuedAt = info.queuedAt();
    if (queuedAt.isValid() && queuedAt.date() != QDate::currentDate())
        html += QStringLiteral("<p style=\"color:gray\">%1</p>")
                    .arg(queuedAt.date().toString(Qt::ISODate));

    if (!info.errorString().isEmpty()) {
        html += info.errorType().isEmpty()
            ? MonitorWidget::tr("<h4 style=\"margin-bottom:2px\">Error</h4>")
            : MonitorWidget::tr("<h4 style=\"margin-bottom:2px\">Error: <code>%1</code></h4>")
                  .arg(escaped(info.errorType()));
        html
            += QStringLiteral("<pre style=\"color:%1; white-space:pre-wrap\">%2</pre>")
                   .arg(monitor::stateColor(TaskState::Failed).name(), escaped(info.errorString()));
    }
    if (model->rowOf(info.id()) < 0)
        html += MonitorWidget::tr("<p style=\"color:gray\">No longer in the table (evicted); "
                                  "shown as last seen.</p>");
    details->setHtml(html);
}

void MonitorWidgetPrivate::updateActions()
{
    const TaskInfo info = selectedInfo();
    // A running task is asked to stop (it may or may not look); once asked, it is
    // "cancelling" until it ends.
    const bool cancellable = info.isValid() && !isFinal(info.state())
        && !(info.state() == TaskState::Running && info.isCancellationRequested());
    // A recording cannot be cancelled or followed: nothing in it is running any more.
    cancelTaskButton->setEnabled(feed && connected && !recording && cancellable);
    cancelAllButton->setEnabled(feed && connected && !recording);
    // Following a source that sends nothing more would only scroll to the same row.
    followButton->setEnabled(!sourceGone && !recording);
    cancelTaskAction->setEnabled(cancelTaskButton->isEnabled());
    followAction->setEnabled(followButton->isEnabled());
    showFollowPause();
}

void MonitorWidgetPrivate::updateStatus()
{
    QStringList parts;
    if (!feed) {
        parts << MonitorWidget::tr("No source");
    } else {
        parts << (connected ? MonitorWidget::tr("Showing %1").arg(feed->sourceName())
                            : MonitorWidget::tr("Disconnected from %1").arg(feed->sourceName()));
        if (!connectionMessage.isEmpty())
            parts << connectionMessage;
    }
    parts << MonitorWidget::tr("%1 tasks listed").arg(monitor::formatCount(model->rowCount()));
    if (model->droppedCount() > 0)
        parts << MonitorWidget::tr("%1 older finished tasks no longer listed (keeping %2 "
                                   "finished, %3 failed)")
                     .arg(monitor::formatCount(qint64(model->droppedCount())),
                         monitor::formatCount(model->maxFinished()),
                         monitor::formatCount(model->maxFailed()));
    if (droppedDetail > 0)
        parts << MonitorWidget::tr("%1 task changes not received in detail (counts are exact)")
                     .arg(monitor::formatCount(qint64(droppedDetail)));
    if (frozen)
        parts << MonitorWidget::tr("Frozen: %1 updated tasks waiting")
                     .arg(monitor::formatCount(frozenChanges.size()));
    if (!notice.isEmpty())
        parts << notice;
    statusLabel->setText(parts.join(QStringLiteral("  ·  ")));
}

// ---- export --------------------------------------------------------------------------------

QList<TaskInfo> MonitorWidgetPrivate::shownTasks() const
{
    QList<TaskInfo> tasks;
    const int rows = proxy->rowCount();
    tasks.reserve(rows);
    for (int row = 0; row < rows; ++row)
        tasks.append(model->taskAt(proxy->mapToSource(proxy->index(row, 0)).row()));
    return tasks;
}

QList<TaskInfo> MonitorWidgetPrivate::heldTasks() const
{
    QList<TaskInfo> tasks;
    const int rows = model->rowCount();
    tasks.reserve(rows);
    for (int row = 0; row < rows; ++row)
        tasks.append(model->taskAt(row));
    return tasks;
}

void MonitorWidgetPrivate::chooseExportFile(ExportFormat format)
{
    const bool csv = format == ExportFormat::Csv;
    // open(), not exec() or the static getters: the monitor keeps updating behind the dialog.
    auto *dialog = new QFileDialog(q,
        csv ? MonitorWidget::tr("Export the table's rows as CSV")
            : MonitorWidget::tr("Export the tasks as a Chrome trace"));
    dialog->setObjectName(
        csv ? QStringLiteral("exportCsvDialog") : QStringLiteral("exportTraceDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setAcceptMode(QFileDialog::AcceptSave);
    dialog->setFileMode(QFileDialog::AnyFile);
    dialog->setNameFilters(csv ? QStringList { MonitorWidget::tr("CSV files (*.csv)"),
                               MonitorWidget::tr("All files (*)") }
                               : QStringList { MonitorWidget::tr("Chrome traces (*.json)"),
                                   MonitorWidget::tr("All files (*)") });
    dialog->setDefaultSuffix(csv ? QStringLiteral("csv") : QStringLiteral("json"));
    dialog->setDirectory(exportDirectory.isEmpty() ? QDir::currentPath() : exportDirectory);
    dialog->selectFile(csv ? QStringLiteral("tasks.csv") : QStringLiteral("tasks.trace.json"));
    // Queued: the dialog is gone before a failure's message box comes up.
    QObject::connect(
        dialog, &QFileDialog::fileSelected, q,
        [this, format](const QString &fileName) { exportTo(format, fileName); },
        Qt::QueuedConnection);
    dialog->open();
}

void MonitorWidgetPrivate::exportTo(ExportFormat format, const QString &fileName)
{
    const bool csv = format == ExportFormat::Csv;
    const int count = csv ? proxy->rowCount() : model->rowCount();
    QString error;
    const bool ok = csv ? q->exportCsv(fileName, &error) : q->exportTrace(fileName, &error);
    // The name alone, and not too long: the status line must not widen the window.
    const QString shortName = statusLabel->fontMetrics().elidedText(
        QFileInfo(fileName).fileName(), Qt::ElideMiddle, kNoticeNameWidth);
    if (ok) {
        exportDirectory = QFileInfo(fileName).absolutePath();
        showNotice(csv ? MonitorWidget::tr("Exported %1 rows to %2")
                             .arg(monitor::formatCount(count), shortName)
                       : MonitorWidget::tr("Exported %1 tasks to %2")
                             .arg(monitor::formatCount(count), shortName));
        return;
    }
    showNotice(MonitorWidget::tr("Could not export to %1").arg(shortName));
    auto *box = new QMessageBox(QMessageBox::Warning, MonitorWidget::tr("Export failed"),
        csv ? MonitorWidget::tr("The table's rows could not be exported.")
            : MonitorWidget::tr("The trace could not be exported."),
        QMessageBox::Ok, q);
    box->setObjectName(QStringLiteral("exportErrorBox"));
    box->setInformativeText(MonitorWidget::tr("%1\n\nNothing was written: a file of that name, "
                                              "if there was one, is as it was.")
                                .arg(error));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MonitorWidgetPrivate::showNotice(const QString &text)
{
    notice = text;
    noticeTimer.start();
    updateStatus();
}

// ---- counters and chart ----------------------------------------------------------------------

qint64 MonitorWidgetPrivate::nowMs() const
{
    // The rates are taken on the clock the tasks' timestamps come from, so that a test with a
    // manual clock sees them follow it.
    return TaskInfo::monotonicNowNsecs() / 1'000'000;
}

void MonitorWidgetPrivate::refreshCounters()
{
    if (sourceGone)
        return; // no rates from a dead source: the tiles keep the last values, greyed
    const qint64 now = nowMs();
    stats.addCounts(counts, now);
    const double throughput = stats.throughput(now);
    // Skip the relabelling only when nothing can have changed, and only once the rate shown is
    // 0 itself: returning while the label still said "12 / s" froze it at its last value for
    // as long as nothing finished.
    if (!countersDirty && counts.live() == 0 && throughput == 0 && shownThroughput == 0)
        return;
    countersDirty = false;
    shownThroughput = throughput;
    showCounts();
    throughputValue->setText(monitor::formatRate(throughput));
    waitValue->setText(percentileText(stats.wait()));
    runTimeValue->setText(percentileText(stats.run()));
    updateStatus();
}

void MonitorWidgetPrivate::showCounts()
{
    // The keeper chosen in the keeper filter: its own counts and threads ("Running 2 / 3" for
    // images), not the sum over keepers. The rate and percentiles stay those of all keepers.
    TaskCounts shown = counts;
    int shownThreads = threadCount;
    const QString keeperName = keeperCombo->currentData().toString();
    if (feed && !keeperName.isEmpty()) {
        const QList<KeeperStatus> keepers = feed->keepers();
        for (const KeeperStatus &k : keepers) {
            if (k.name == keeperName) {
                shown = k.counts;
                shownThreads = k.threadCount;
            }
        }
    }
    queuedValue->setText(monitor::formatCount(shown.queued + shown.waiting));
    runningValue->setText(QStringLiteral("%1 / %2").arg(
        monitor::formatCount(shown.running), QString::number(shownThreads)));
    succeededValue->setText(monitor::formatCount(shown.succeeded));
    failedValue->setText(monitor::formatCount(shown.failed));
    timedOutValue->setText(
        MonitorWidget::tr("%1 timed out").arg(monitor::formatCount(shown.timedOut)));
    timedOutValue->setVisible(shown.timedOut > 0);
    cancelledValue->setText(monitor::formatCount(shown.cancelled));
}

void MonitorWidgetPrivate::sampleChart()
{
    // Completions per second over the last second, one sample per interval.
    const qint64 now = nowMs();
    // Cancellations are not throughput: the same count as the counter strip's Finished / s.
    const qint64 finished = monitor::TaskStats::completedCount(counts);
    if (!chartHistory.empty() && finished < chartHistory.back().second)
        chartHistory.clear();
    chartHistory.emplace_back(now, finished);
    while (chartHistory.size() > 2 && chartHistory[1].first <= now - 1000)
        chartHistory.pop_front();
    const auto &oldest = chartHistory.front();
    const double rate = now > oldest.first
        ? double(finished - oldest.second) * 1000.0 / double(now - oldest.first)
        : 0.0;
    // The deepest queue since the last sample: a burst between two samples still shows.
    const qint64 depth = std::max(queuePeak, counts.queued + counts.waiting);
    queuePeak = 0;
    chart->addSample(rate, depth);
}

// ---- MonitorWidget -----------------------------------------------------------------------------

MonitorWidget::MonitorWidget(QWidget *parent)
    : QWidget(parent)
    , d(std::make_unique<MonitorWidgetPrivate>(this))
{
    d->setupUi();
}

MonitorWidget::MonitorWidget(PromiseKeeper *keeper, QWidget *parent)
    : MonitorWidget(parent)
{
    setKeeper(keeper);
}

MonitorWidget::~MonitorWidget()
{
    // The owned feed unregisters from the keeper now, while the keeper is still there.
    for (const QMetaObject::Connection &c : std::as_const(d->feedConnections))
        QObject::disconnect(c);
    delete d->ownedFeed;
}

void MonitorWidget::setKeeper(PromiseKeeper *keeper)
{
    d->keeper = keeper;
    if (!keeper) {
        d->setFeed(nullptr, nullptr);
        return;
    }
    auto *feed = new KeeperFeed(keeper, this);
    d->setFeed(feed, feed);
}

void MonitorWidget::addKeeper(PromiseKeeper *keeper, const QString &label)
{
    if (!keeper)
        return;
    if (!d->ownedFeed || !d->keeper) {
        d->keeper = keeper;
        auto *feed = new KeeperFeed(keeper, label, this);
        d->setFeed(feed, feed);
        return;
    }
    d->ownedFeed->addKeeper(keeper, label);
}

PromiseKeeper *MonitorWidget::keeper() const
{
    return d->keeper;
}

void MonitorWidget::setFeed(MonitorFeed *feed)
{
    d->keeper = nullptr;
    d->setFeed(feed, nullptr);
}

MonitorFeed *MonitorWidget::feed() const
{
    return d->feed;
}

MonitorModel *MonitorWidget::model() const
{
    return d->model;
}

MonitorFilterModel *MonitorWidget::filterModel() const
{
    return d->proxy;
}

QTableView *MonitorWidget::tableView() const
{
    return d->table;
}

quint64 MonitorWidget::selectedTaskId() const
{
    return d->selectedId;
}

void MonitorWidget::selectTask(quint64 taskId)
{
    if (d->selectedId == taskId)
        return;
    d->selectedId = taskId;
    d->revealTask(taskId);
    d->restoreSelection();
    d->refreshDetails(true);
    d->updateActions();
    d->updateFollowPause();
    Q_EMIT selectedTaskChanged(taskId);
}

bool MonitorWidget::isFrozen() const
{
    return d->frozen;
}

void MonitorWidget::setFrozen(bool frozen)
{
    if (d->frozen == frozen)
        return;
    d->frozen = frozen;
    d->freezeButton->setChecked(frozen);
    if (!frozen)
        d->unfreeze();
    d->updateStatus();
    Q_EMIT frozenChanged(frozen);
}

bool MonitorWidget::isFollowing() const
{
    return d->following;
}

void MonitorWidget::setFollowing(bool following)
{
    if (d->following == following)
        return;
    d->following = following;
    d->followButton->setChecked(following);
    d->updateFollowPause();
    Q_EMIT followingChanged(following);
}

QString MonitorWidget::keyboardHelp() const
{
    return d->keyboardHelp();
}

void MonitorWidget::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange) {
        // Style sheets hold colours, not roles: made again from the new palette.
        d->styleChips();
        d->styleBanner();
    }
    QWidget::changeEvent(event);
}

bool MonitorWidget::exportCsv(const QString &fileName, QString *errorString) const
{
    return monitor::saveCsv(fileName, d->shownTasks(), errorString);
}

bool MonitorWidget::exportTrace(const QString &fileName, QString *errorString) const
{
    const QList<TaskInfo> tasks = d->heldTasks();
    // Everything the table holds goes in: the writer's cap must not drop any of it.
    TraceWriter writer(std::max<qsizetype>(TraceWriter::DefaultMaxTasks, tasks.size()));
    writer.setThreadCount(d->feed ? d->threadCount : -1);
    if (d->feed) {
        monitor::recordTasks(
            writer, tasks, d->feed->programName(), d->feed->programPid(), d->feed->keepers());
    } else {
        monitor::recordTasks(writer, tasks);
    }
    const bool ok = writer.save(fileName);
    if (errorString)
        *errorString = ok ? QString() : writer.errorString();
    return ok;
}

void MonitorWidgetPrivate::showTimeRange(std::chrono::milliseconds range)
{
    const int choices = int(timeRangeChoices().size());
    int index = timeRangeCombo->findData(qint64(range.count()));
    if (index < 0 || index >= choices) {
        // One item past the choices stands for the zoomed span, however often it changes.
        const QString text
            = MonitorWidget::tr("%1 (zoomed)")
                  .arg(monitor::formatDuration(std::chrono::nanoseconds(range).count()));
        if (timeRangeCombo->count() == choices)
            timeRangeCombo->addItem(text, qint64(range.count()));
        timeRangeCombo->setItemText(choices, text);
        timeRangeCombo->setItemData(choices, qint64(range.count()));
        index = choices;
    }
    timeRangeCombo->setCurrentIndex(index);
}

void MonitorWidgetPrivate::onTimelineZoomed(qint64 nsecs)
{
    // The timeline zooms further than the chart keeps samples for: the chart shows what it
    // can of the same range, the range is the timeline's.
    const auto range = std::max(std::chrono::milliseconds(1),
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(nsecs)));
    chart->setSpan(range);
    showTimeRange(range);
    if (range == timeRange)
        return;
    timeRange = range;
    Q_EMIT q->timeRangeChanged(range);
}

std::chrono::milliseconds MonitorWidget::timeRange() const
{
    return d->timeRange;
}

void MonitorWidget::setTimeRange(std::chrono::milliseconds range)
{
    range
        = std::clamp(range, monitor::ThroughputChart::kMinSpan, monitor::ThroughputChart::kMaxSpan);
    d->timeline->setSpan(std::chrono::nanoseconds(range).count());
    d->chart->setSpan(range);
    d->showTimeRange(range);
    if (range == d->timeRange)
        return;
    d->timeRange = range;
    Q_EMIT timeRangeChanged(range);
}

} // namespace pk
