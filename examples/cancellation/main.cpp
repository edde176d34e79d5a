// A long task in a small window: its progress in a bar, a Cancel button that asks it to stop,
// and a time-out. Run it and press Start, then Cancel; "Start with a 300 ms time-out" shows
// what a time-out does.
//
// With --fast (how ctest runs it, offscreen) it drives the window itself: starts the task,
// waits for progress, clicks Cancel, then starts one with a time-out, and checks both outcomes.
#include "examplecheck.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtWidgets/QApplication>
#include <QtWidgets/QLabel>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QVBoxLayout>
#include <QtWidgets/QWidget>

#include <PromiseKeeper>
#include <chrono>

using namespace std::chrono_literals;

namespace {

// The long task: 200 steps of work, reporting each, stopping when asked.
int convertPages(pk::TaskContext &ctx, int pages, int msecsPerPage)
{
    ctx.setProgressRange(0, pages);
    for (int page = 1; page <= pages; ++page) {
        ctx.throwIfCancellationRequested(); // ends the task Cancelled (or timed out)
        QThread::msleep(msecsPerPage); // stands for real work on one page
        ctx.setProgressValue(page);
        ctx.setProgressText(QStringLiteral("page %1 of %2").arg(page).arg(pages));
    }
    return pages;
}

class Window : public QWidget
{
public:
    explicit Window(int msecsPerPage)
        : m_msecsPerPage(msecsPerPage)
    {
        setWindowTitle(QStringLiteral("PromiseKeeper: cancellation"));
        auto *layout = new QVBoxLayout(this);
        layout->addWidget(m_status);
        layout->addWidget(m_bar);
        layout->addWidget(m_start);
        layout->addWidget(m_startTimed);
        layout->addWidget(m_cancel);
        m_cancel->setEnabled(false);
        m_bar->setFormat(QStringLiteral("%p %"));
        connect(m_start, &QPushButton::clicked, this, [this] { start(0ms); });
        connect(m_startTimed, &QPushButton::clicked, this, [this] { start(300ms); });
        // Asks the task to stop; it ends when it next looks (at most one page later).
        connect(m_cancel, &QPushButton::clicked, this, [this] {
            m_task.requestCancellation();
            m_status->setText(QStringLiteral("Cancelling…"));
        });
        // Progress comes on this thread, at most once per task per batch.
        connect(&m_keeper, &pk::PromiseKeeper::taskProgress, this, [this](const pk::TaskInfo &t) {
            if (t.id() != m_task.id() || m_task.isReady())
                return; // an update that comes after the end says nothing new
            m_bar->setRange(int(t.progressMinimum()), int(t.progressMaximum()));
            m_bar->setValue(int(t.progressValue()));
            m_status->setText(t.progressText());
        });
    }

    pk::Promise<int> task() const { return m_task; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *startTimedButton() const { return m_startTimed; }
    QPushButton *cancelButton() const { return m_cancel; }
    QProgressBar *bar() const { return m_bar; }
    QLabel *status() const { return m_status; }

private:
    void start(std::chrono::milliseconds timeout)
    {
        pk::TaskOptions options;
        options.title = QStringLiteral("convert");
        options.timeout = timeout;
        m_task = m_keeper.submit(options, &convertPages, 200, m_msecsPerPage);
        m_bar->setValue(0);
        m_cancel->setEnabled(true);
        m_start->setEnabled(false);
        m_startTimed->setEnabled(false);
        m_task.finally(this, [this] { finished(); });
    }
    void finished()
    {
        switch (m_task.state()) {
        case pk::TaskState::Succeeded:
            m_status->setText(QStringLiteral("Done: %1 pages").arg(m_task.result()));
            break;
        case pk::TaskState::Cancelled:
            m_status->setText(QStringLiteral("Cancelled at page %1").arg(m_task.progressValue()));
            break;
        default: // a time-out: pk::TimeoutError
            m_status->setText(QStringLiteral("Failed: %1").arg(m_task.errorString()));
            break;
        }
        m_cancel->setEnabled(false);
        m_start->setEnabled(true);
        m_startTimed->setEnabled(true);
    }

    pk::PromiseKeeper m_keeper { 1 };
    pk::Promise<int> m_task;
    int m_msecsPerPage;
    QLabel *m_status = new QLabel(QStringLiteral("Press Start"), this);
    QProgressBar *m_bar = new QProgressBar(this);
    QPushButton *m_start = new QPushButton(QStringLiteral("Start"), this);
    QPushButton *m_startTimed
        = new QPushButton(QStringLiteral("Start with a 300 ms time-out"), this);
    QPushButton *m_cancel = new QPushButton(QStringLiteral("Cancel"), this);
};

// Runs the event loop until \a done or 10 s passed.
template<typename Done>
bool spinUntil(Done done)
{
    QElapsedTimer timer;
    timer.start();
    while (!done() && timer.elapsed() < 10000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    return done();
}

int drive(Window &window)
{
    using example::show;
    window.startButton()->click();
    show("the bar moves", example::boolText(spinUntil([&] { return window.bar()->value() > 0; })),
        QStringLiteral("true"));
    window.cancelButton()->click();
    spinUntil([&] { return window.startButton()->isEnabled(); });
    show("after Cancel, the task", example::stateText(window.task().state()),
        QStringLiteral("Cancelled"));
    show("status",
        example::boolText(window.status()->text().startsWith(QStringLiteral("Cancelled"))),
        QStringLiteral("true"));

    window.startTimedButton()->click();
    spinUntil([&] { return window.startButton()->isEnabled(); });
    show("with a 300 ms time-out, the task", example::stateText(window.task().state()),
        QStringLiteral("Failed"));
    bool timedOut = false;
    try {
        window.task().result();
    } catch (const pk::TimeoutError &) {
        timedOut = true;
    }
    show("its result() throws pk::TimeoutError", example::boolText(timedOut),
        QStringLiteral("true"));
    return example::finish("cancellation");
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    const bool fast = example::fastMode(app);
    Window window(fast ? 5 : 25);
    window.resize(360, 160);
    window.show();
    if (fast)
        return drive(window);
    return app.exec();
}
