// Process-isolated tasks (PromiseKeeper::submitToProcess): results and errors across the
// process boundary, crashes, exits, hangs past a time-out, cancellation of a running child,
// children reused and recycled, the child's stderr in the log, and a flood. The test program
// is its own worker: main() hands a process started as a worker to pk::ProcessWorker.
#include "pktest.h"

#include <pk/errors.h>
#include <pk/logging.h>
#include <pk/processtask.h>
#include <pk/promisekeeper.h>
#include <pk/taskcontext.h>
#include <pk/taskfunction.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QRegularExpression>
#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <signal.h>
#include <stdexcept>
#include <sys/types.h>

using namespace std::chrono_literals;
using pk::PromiseKeeper;
using pk::TaskState;

// Thrown in the child; the parent sees its name and message only.
struct ParseError : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

namespace tasks {
int add(int a, int b)
{
    return a + b;
}
qint64 childPid(int)
{
    return QCoreApplication::applicationPid();
}
int segfault(int)
{
    std::raise(SIGSEGV);
    return 0;
}
int exitWith(int code)
{
    std::_Exit(code);
}
int throwParseError(int)
{
    throw ParseError("bad input at line 3");
}
int hang(int)
{
    QThread::sleep(600); // killed long before
    return 0;
}
void printBoth(const QString &text)
{
    std::printf("%s on stdout\n", qPrintable(text));
    std::fprintf(stderr, "%s on stderr\n", qPrintable(text));
}
QByteArray reversed(const QByteArray &data)
{
    QByteArray copy = data;
    std::reverse(copy.begin(), copy.end());
    return copy;
}
int notRegistered(int x)
{
    return x;
}
} // namespace tasks

PK_PROCESS_TASK(tasks::add)
PK_PROCESS_TASK(tasks::childPid)
PK_PROCESS_TASK(tasks::segfault)
PK_PROCESS_TASK(tasks::exitWith)
PK_PROCESS_TASK(tasks::throwParseError)
PK_PROCESS_TASK(tasks::hang)
PK_PROCESS_TASK(tasks::printBoth)
PK_PROCESS_TASK(tasks::reversed)

namespace {
// Whether a process with this id still exists (a killed child is reaped before the task ends).
bool processExists(qint64 pid)
{
    return pid > 0 && ::kill(pid_t(pid), 0) == 0;
}

// Whether the process exited and waits to be reaped by its parent (a child no thread owns
// right now is reaped when a worker takes it again).
bool isZombie(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return false;
    const QByteArray line = stat.readAll();
    const qsizetype end = line.lastIndexOf(')');
    return end > 0 && line.mid(end + 2, 1) == "Z";
}

constexpr int kChildMs = 30'000; // a child's start-up under the sanitizers is slow
} // namespace

class tst_Process : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void runsInAChild();
    void reusesItsChild();
    void recyclesAfterMaxTasks();
    void childEndsWithItsKeeper();
    void idleChildExits();
    void childDies_data();
    void childDies();
    void throwsWithTheChildsType();
    void timeoutKillsTheChild();
    void cancellationKillsTheChild();
    void unregisteredFunctionFails();
    void childThatIsNoWorkerFails();
    void workerThatRunsTheApplicationFails();
    void waitsForPromisedArguments();
    void logsWhatTheChildPrints();
    void carriesLargeValues();
    void signalsCarryTheProcessId();
    void taskFunctionInProcess();
    void floodLosesNothing();
};

void tst_Process::initTestCase()
{
    // A crash must reach the parent as the signal it is, not as a sanitizer's report.
    for (const char *name : { "ASAN_OPTIONS", "TSAN_OPTIONS" }) {
        QByteArray options = qgetenv(name);
        if (!options.isEmpty())
            options += ':';
        qputenv(name, options + "handle_segv=0:handle_abort=0");
    }
}

void tst_Process::runsInAChild()
{
    PromiseKeeper keeper(1);
    pk::Promise<int> sum = keeper.submitToProcess(&tasks::add, 2, 3);
    QCOMPARE(sum.result(kChildMs), 5);
    pk::Promise<qint64> pid = keeper.submitToProcess(&tasks::childPid, 0);
    const qint64 child = pid.result(kChildMs);
    QVERIFY(child > 0);
    QVERIFY(child != QCoreApplication::applicationPid());
    QCOMPARE(pid.info().processId(), child);
    QCOMPARE(sum.info().processId(), child); // the same child ran both
    // A thread task has none.
    auto plain = keeper.submit([] { return 1; });
    QCOMPARE(plain.result(kChildMs), 1);
    QCOMPARE(plain.info().processId(), 0);
}

void tst_Process::reusesItsChild()
{
    PromiseKeeper keeper(1);
    QList<qint64> pids;
    for (int i = 0; i < 5; ++i)
        pids.append(keeper.submitToProcess(&tasks::childPid, i).result(kChildMs));
    for (qint64 pid : pids)
        QCOMPARE(pid, pids.first());
}

void tst_Process::recyclesAfterMaxTasks()
{
    PromiseKeeper keeper(1);
    QCOMPARE(keeper.maxTasksPerProcess(), 0);
    keeper.setMaxTasksPerProcess(2);
    QCOMPARE(keeper.maxTasksPerProcess(), 2);
    QList<qint64> pids;
    for (int i = 0; i < 5; ++i)
        pids.append(keeper.submitToProcess(&tasks::childPid, i).result(kChildMs));
    QCOMPARE(pids[0], pids[1]);
    QVERIFY(pids[2] != pids[1]);
    QCOMPARE(pids[2], pids[3]);
    QVERIFY(pids[4] != pids[3]);
    QTRY_VERIFY(!processExists(pids[0])); // a recycled child ends
}

void tst_Process::childEndsWithItsKeeper()
{
    qint64 pid = 0;
    {
        PromiseKeeper keeper(1);
        pid = keeper.submitToProcess(&tasks::childPid, 0).result(kChildMs);
        QVERIFY(processExists(pid));
    }
    QVERIFY(!processExists(pid)); // the keeper's destructor ended (and reaped) it
}

void tst_Process::idleChildExits()
{
    qputenv("PK_PROCESS_IDLE_MSECS", "100"); // a minute, normally
    PromiseKeeper keeper(1);
    const qint64 first = keeper.submitToProcess(&tasks::childPid, 0).result(kChildMs);
    qunsetenv("PK_PROCESS_IDLE_MSECS");
    // It exits by itself; the next task starts another, unharmed.
    QTRY_VERIFY_WITH_TIMEOUT(!processExists(first) || isZombie(first), kChildMs);
    const qint64 second = keeper.submitToProcess(&tasks::childPid, 0).result(kChildMs);
    QVERIFY(second != first);
    QCOMPARE(keeper.counts().failed, 0);
}

void tst_Process::childDies_data()
{
    QTest::addColumn<int>("how");
    QTest::addColumn<QString>("function");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QProcess::ExitStatus>("exitStatus");
    QTest::addColumn<int>("signal");
    QTest::newRow("segfault") << 0 << "tasks::segfault" << int(SIGSEGV) << QProcess::CrashExit
                              << int(SIGSEGV);
    QTest::newRow("exits mid-task") << 1 << "tasks::exitWith" << 3 << QProcess::NormalExit << 0;
}

void tst_Process::childDies()
{
    QFETCH(int, how);
    QFETCH(QString, function);
    QFETCH(int, exitCode);
    QFETCH(QProcess::ExitStatus, exitStatus);
    QFETCH(int, signal);

    PromiseKeeper keeper(1);
    const qint64 before = keeper.submitToProcess(&tasks::childPid, 0).result(kChildMs);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("before it answered")));
    pk::Promise<int> dying = how == 0 ? keeper.submitToProcess(&tasks::segfault, 0)
                                      : keeper.submitToProcess(&tasks::exitWith, 3);
    QVERIFY(dying.wait(kChildMs));
    QCOMPARE(dying.state(), TaskState::Failed);
    try {
        dying.result();
        QFAIL("no exception");
    } catch (const pk::ProcessCrashedError &e) {
        QCOMPARE(e.functionName(), function);
        QCOMPARE(e.exitCode(), exitCode);
        QCOMPARE(e.exitStatus(), exitStatus);
        QCOMPARE(e.signal(), signal);
        QVERIFY2(e.message().contains(QString::number(before)), qPrintable(e.message()));
    }
    QCOMPARE(dying.info().processId(), before);
    QCOMPARE(dying.info().errorType(), QStringLiteral("pk::ProcessCrashedError"));
    // The application goes on, and the next task gets a new child.
    const qint64 after = keeper.submitToProcess(&tasks::childPid, 0).result(kChildMs);
    QVERIFY(after != before);
    QVERIFY(!processExists(before));
}

void tst_Process::throwsWithTheChildsType()
{
    PromiseKeeper keeper(1);
    pk::Promise<int> p = keeper.submitToProcess(&tasks::throwParseError, 0);
    QVERIFY(p.wait(kChildMs));
    try {
        p.result();
        QFAIL("no exception");
    } catch (const pk::ProcessTaskError &e) {
        QCOMPARE(e.typeName(), QStringLiteral("ParseError"));
        QCOMPARE(e.message(), QStringLiteral("bad input at line 3"));
        QCOMPARE(e.functionName(), QStringLiteral("tasks::throwParseError"));
    }
    QCOMPARE(p.errorString(), QStringLiteral("bad input at line 3"));
    // An exception is the function's failure, not the child's: the child stays.
    const qint64 pid = p.info().processId();
    QCOMPARE(keeper.submitToProcess(&tasks::childPid, 0).result(kChildMs), pid);
}

void tst_Process::timeoutKillsTheChild()
{
    PromiseKeeper keeper(1);
    pk::TaskOptions options;
    options.title = QStringLiteral("hangs");
    options.timeout = 300ms;
    pk::Promise<int> p = keeper.submitToProcess(options, &tasks::hang, 0);
    QVERIFY(p.wait(kChildMs + 10'000)); // the child sleeps 600 s: only the kill ends it
    QCOMPARE(p.state(), TaskState::Failed);
    QVERIFY_THROWS_EXCEPTION(pk::TimeoutError, p.result());
    QVERIFY(p.info().isTimedOut());
    const qint64 pid = p.info().processId();
    QVERIFY(pid > 0);
    QVERIFY(!processExists(pid));
    QCOMPARE(keeper.counts().timedOut, 1);
    QCOMPARE(keeper.submitToProcess(&tasks::add, 1, 1).result(kChildMs), 2);
}

void tst_Process::cancellationKillsTheChild()
{
    PromiseKeeper keeper(1);
    pk::Promise<int> p = keeper.submitToProcess(&tasks::hang, 0);
    QTRY_VERIFY_WITH_TIMEOUT(p.info().processId() != 0, kChildMs);
    QCOMPARE(p.state(), TaskState::Running);
    const qint64 pid = p.info().processId();
    QVERIFY(processExists(pid));
    QVERIFY(p.requestCancellation());
    QVERIFY(p.wait(kChildMs));
    QCOMPARE(p.state(), TaskState::Cancelled);
    QVERIFY(!processExists(pid));
    QCOMPARE(keeper.submitToProcess(&tasks::add, 2, 2).result(kChildMs), 4);
}

void tst_Process::unregisteredFunctionFails()
{
    PromiseKeeper keeper(1);
    pk::Promise<int> p = keeper.submitToProcess(&tasks::notRegistered, 1);
    QVERIFY(p.wait(kChildMs));
    QCOMPARE(p.state(), TaskState::Failed);
    QVERIFY_THROWS_EXCEPTION(pk::InvalidTaskError, p.result());
    QVERIFY2(p.errorString().contains(QStringLiteral("not registered with PK_PROCESS_TASK")),
        qPrintable(p.errorString()));
    QVERIFY2(p.errorString().contains(QStringLiteral("int (*)(int)")), qPrintable(p.errorString()));
    QCOMPARE(p.info().processId(), 0); // no child was started for it
}

void tst_Process::childThatIsNoWorkerFails()
{
    // As an application whose main() forgot pk::ProcessWorker: the child prints and exits.
    qputenv("PK_TEST_NOT_A_WORKER", "1");
    PromiseKeeper keeper(1);
    pk::Promise<int> p = keeper.submitToProcess(&tasks::add, 1, 2);
    QVERIFY(p.wait(kChildMs));
    qunsetenv("PK_TEST_NOT_A_WORKER");
    QCOMPARE(p.state(), TaskState::Failed);
    QVERIFY_THROWS_EXCEPTION(pk::ProcessCrashedError, p.result());
    QVERIFY2(p.errorString().contains(QStringLiteral("did not answer as a worker")),
        qPrintable(p.errorString()));
    QVERIFY2(p.errorString().contains(QStringLiteral("pk::ProcessWorker::exec")),
        qPrintable(p.errorString()));
    QCOMPARE(keeper.submitToProcess(&tasks::add, 1, 2).result(kChildMs), 3);
}

void tst_Process::workerThatRunsTheApplicationFails()
{
    // What a child whose main() did not hand it to ProcessWorker sees: its own process tasks
    // fail at once instead of starting children of their own.
    qputenv("PK_PROCESS_WORKER", "1");
    PromiseKeeper keeper(1);
    pk::Promise<int> p = keeper.submitToProcess(&tasks::add, 1, 2);
    QVERIFY(p.wait(kChildMs));
    qunsetenv("PK_PROCESS_WORKER");
    QVERIFY_THROWS_EXCEPTION(pk::InvalidTaskError, p.result());
    QVERIFY2(p.errorString().contains(QStringLiteral("did not hand it to pk::ProcessWorker")),
        qPrintable(p.errorString()));
    QCOMPARE(p.info().processId(), 0);
}

void tst_Process::waitsForPromisedArguments()
{
    PromiseKeeper keeper(2);
    std::promise<void> gate;
    std::shared_future<void> opened = gate.get_future().share();
    pk::Promise<int> input = keeper.submit([opened] {
        opened.wait();
        return 40;
    });
    pk::Promise<int> sum = keeper.submitToProcess(&tasks::add, input, 2);
    QCOMPARE(sum.state(), TaskState::Waiting);
    gate.set_value();
    QCOMPARE(sum.result(kChildMs), 42);
    // A failed input fails it without starting anything.
    pk::Promise<int> failed = keeper.submit([]() -> int { throw std::runtime_error("no input"); });
    pk::Promise<int> never = keeper.submitToProcess(&tasks::add, failed, 2);
    QVERIFY_THROWS_EXCEPTION(pk::DependencyError, never.result(kChildMs));
    QCOMPARE(never.info().processId(), 0);
}

void tst_Process::logsWhatTheChildPrints()
{
    PromiseKeeper keeper(1);
    pk::Promise<void> p = keeper.submitToProcess(&tasks::printBoth, QStringLiteral("hello"));
    const QString id = QString::number(p.id());
    QTest::ignoreMessage(QtInfoMsg,
        QRegularExpression(QStringLiteral("^task %1 \\(pid \\d+\\): hello on stdout$").arg(id)));
    QTest::ignoreMessage(QtInfoMsg,
        QRegularExpression(QStringLiteral("^task %1 \\(pid \\d+\\): hello on stderr$").arg(id)));
    p.result(kChildMs);
    QCOMPARE(p.state(), TaskState::Succeeded);
}

void tst_Process::carriesLargeValues()
{
    PromiseKeeper keeper(1);
    QByteArray data(4 * 1024 * 1024, Qt::Uninitialized);
    for (qsizetype i = 0; i < data.size(); ++i)
        data[i] = char(i * 7 + i / 4096);
    QByteArray expected = data;
    std::reverse(expected.begin(), expected.end());
    QCOMPARE(keeper.submitToProcess(&tasks::reversed, data).result(kChildMs), expected);
}

void tst_Process::signalsCarryTheProcessId()
{
    PromiseKeeper keeper(1);
    QSignalSpy finished(&keeper, &PromiseKeeper::taskFinished);
    pk::Promise<int> p = keeper.submitToProcess(&tasks::add, 1, 2);
    QCOMPARE(p.result(kChildMs), 3);
    QTRY_COMPARE(finished.count(), 1);
    const auto info = finished.first().first().value<pk::TaskInfo>();
    QCOMPARE(info.id(), p.id());
    QVERIFY(info.processId() > 0);
    QCOMPARE(info.processId(), p.info().processId());
}

void tst_Process::taskFunctionInProcess()
{
    PromiseKeeper keeper(2);
    auto add = pk::TaskFunction<int(int, int)>::inProcess(&keeper, &tasks::add);
    QList<std::pair<quint64, int>> results;
    QList<quint64> failures;
    add.setCallback(this, [&results](quint64 id, int sum) { results.append({ id, sum }); });
    pk::Promise<int> p = add(20, 22);
    QCOMPARE(p.result(kChildMs), 42);
    QVERIFY(p.info().processId() > 0);
    QTRY_COMPARE(results.size(), 1);
    QCOMPARE(results.first(), std::make_pair(p.id(), 42));

    auto failing = pk::TaskFunction<int(int)>::inProcess(&keeper, &tasks::throwParseError);
    failing.setErrorCallback(this, [&failures](quint64 id, const std::exception_ptr &error) {
        try {
            std::rethrow_exception(error);
        } catch (const pk::ProcessTaskError &e) {
            if (e.typeName() == QLatin1String("ParseError"))
                failures.append(id);
        } catch (...) { }
    });
    pk::Promise<int> f = failing(1);
    QVERIFY(f.wait(kChildMs));
    QTRY_COMPARE(failures, QList<quint64> { f.id() });

    // Memoised: an equal call starts no task, let alone a process.
    add.setCacheSize(4);
    pk::Promise<int> first = add(1, 1);
    QCOMPARE(first.result(kChildMs), 2);
    QCOMPARE(add(1, 1).id(), first.id());
    QCOMPARE(add.cacheHits(), 1);
    QCOMPARE(add.cacheMisses(), 1);
}

void tst_Process::floodLosesNothing()
{
    PromiseKeeper keeper(2);
    constexpr int kTasks = 10'000;
    QList<pk::Promise<int>> promises;
    promises.reserve(kTasks);
    for (int i = 0; i < kTasks; ++i)
        promises.append(keeper.submitToProcess(&tasks::add, i, i));
    QVERIFY(keeper.waitForAll(120'000));
    QSet<qint64> pids;
    for (int i = 0; i < kTasks; ++i) {
        QCOMPARE(promises[i].state(), TaskState::Succeeded);
        QCOMPARE(promises[i].result(), 2 * i);
        pids.insert(promises[i].info().processId());
    }
    QCOMPARE(keeper.counts().succeeded, kTasks);
    QVERIFY(pids.size() <= 2); // at most one child per worker thread
}

int main(int argc, char *argv[])
{
    if (pk::ProcessWorker::isRequested(argc, argv)) {
        if (qEnvironmentVariableIsSet("PK_TEST_NOT_A_WORKER")) {
            std::puts("an application, not a worker"); // childThatIsNoWorkerFails()
            return 0;
        }
        return pk::ProcessWorker::exec(argc, argv);
    }
    QCoreApplication app(argc, argv);
    tst_Process test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_process.moc"
