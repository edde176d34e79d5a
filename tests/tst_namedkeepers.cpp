// PromiseKeeper::named(): one keeper per id, owned by the library, living in the main thread.
#include "pktest.h"

#include <pk/promisekeeper.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QHash>
#include <QtCore/QPointer>
#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using pk::PromiseKeeper;

class tst_NamedKeepers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sameIdSameKeeper();
    void namedKeeperRunsTasks();
    void createdFromStdThreadLivesInMainThread();
    void createdFromQThreadLivesInMainThread();
    void concurrentFirstUseGivesOneKeeper();
    void deletedKeeperIsRecreated();
};

void tst_NamedKeepers::sameIdSameKeeper()
{
    PromiseKeeper *a = PromiseKeeper::named(QStringLiteral("same-a"));
    QVERIFY(a);
    QCOMPARE(PromiseKeeper::named(QStringLiteral("same-a")), a);
    PromiseKeeper *b = PromiseKeeper::named(QStringLiteral("same-b"));
    QVERIFY(b);
    QVERIFY(b != a);
    QCOMPARE(PromiseKeeper::named(QStringLiteral("same-b")), b);
    QCOMPARE(a->objectName(), QStringLiteral("same-a"));
    QCOMPARE(a->threadCount(), 1);
    QCOMPARE(a->thread(), QCoreApplication::instance()->thread());
}

void tst_NamedKeepers::namedKeeperRunsTasks()
{
    PromiseKeeper *keeper = PromiseKeeper::named(QStringLiteral("runs"));
    QSignalSpy finishedSpy(keeper, &PromiseKeeper::taskFinished);
    QVERIFY(finishedSpy.isValid());
    auto p = keeper->submit([](int a, int b) { return a + b; }, 2, 3);
    QCOMPARE(p.result(), 5);
    QVERIFY(p.result(1000) == 5);
    QVERIFY(finishedSpy.wait(pktest::kTimeoutMs));
    QCOMPARE(finishedSpy.at(0).at(0).value<pk::TaskInfo>().id(), p.id());
}

void tst_NamedKeepers::createdFromStdThreadLivesInMainThread()
{
    PromiseKeeper *keeper = nullptr;
    pk::Promise<int> p;
    std::thread creator([&keeper, &p] {
        keeper = PromiseKeeper::named(QStringLiteral("from-std-thread"));
        p = keeper->submit([] { return 6; });
        (void)p.wait();
    });
    creator.join();
    QVERIFY(keeper);
    QCOMPARE(keeper->thread(), QCoreApplication::instance()->thread());
    QCOMPARE(keeper->thread(), QThread::currentThread()); // the test runs in the main thread
    QCOMPARE(p.result(), 6);

    // Its signals come to the main thread, although the creating thread is gone.
    QHash<quint64, QThread *> signalThreads;
    connect(keeper, &PromiseKeeper::taskFinished, this, [&signalThreads](const pk::TaskInfo &info) {
        signalThreads.insert(info.id(), QThread::currentThread());
    });
    auto q = keeper->submit([] { return 7; });
    QCOMPARE(q.result(), 7);
    QTRY_VERIFY_WITH_TIMEOUT(signalThreads.contains(q.id()), pktest::kTimeoutMs);
    QCOMPARE(signalThreads.value(q.id()), QThread::currentThread());
}

void tst_NamedKeepers::createdFromQThreadLivesInMainThread()
{
    // Atomic: QThread::wait() orders through a QMutex, which ThreadSanitizer cannot see.
    std::atomic<PromiseKeeper *> created { nullptr };
    std::unique_ptr<QThread> creator(QThread::create(
        [&created] { created = PromiseKeeper::named(QStringLiteral("from-qthread")); }));
    creator->start();
    QVERIFY(creator->wait(pktest::kTimeoutMs));
    PromiseKeeper *keeper = created.load();
    QVERIFY(keeper);
    QCOMPARE(keeper->thread(), QCoreApplication::instance()->thread());
    QCOMPARE(keeper, PromiseKeeper::named(QStringLiteral("from-qthread")));
    QCOMPARE(keeper->submit([] { return 8; }).result(), 8);
}

void tst_NamedKeepers::concurrentFirstUseGivesOneKeeper()
{
    constexpr int threads = 4;
    std::vector<PromiseKeeper *> seen(threads, nullptr);
    std::vector<std::thread> users;
    QSemaphore go;
    for (int i = 0; i < threads; ++i) {
        users.emplace_back([&seen, &go, i] {
            if (go.tryAcquire(1, pktest::kTimeoutMs))
                seen[std::size_t(i)] = PromiseKeeper::named(QStringLiteral("concurrent"));
        });
    }
    go.release(threads); // all start at once
    for (std::thread &t : users)
        t.join();
    QVERIFY(seen[0]);
    for (PromiseKeeper *k : seen)
        QCOMPARE(k, seen[0]);
    QCOMPARE(seen[0]->thread(), QCoreApplication::instance()->thread());
}

void tst_NamedKeepers::deletedKeeperIsRecreated()
{
    QPointer<PromiseKeeper> first = PromiseKeeper::named(QStringLiteral("deleted"));
    QVERIFY(first);
    QCOMPARE(first->submit([] { return 1; }).result(), 1);
    delete first.data();
    QVERIFY(first.isNull());

    PromiseKeeper *second = PromiseKeeper::named(QStringLiteral("deleted"));
    QVERIFY(second);
    QCOMPARE(second->objectName(), QStringLiteral("deleted"));
    QCOMPARE(second->thread(), QCoreApplication::instance()->thread());
    QSignalSpy finishedSpy(second, &PromiseKeeper::taskFinished);
    QVERIFY(finishedSpy.isValid());
    QCOMPARE(second->submit([] { return 2; }).result(), 2);
    QVERIFY(finishedSpy.wait(pktest::kTimeoutMs));
    QCOMPARE(PromiseKeeper::named(QStringLiteral("deleted")), second);
}

QTEST_GUILESS_MAIN(tst_NamedKeepers)
#include "tst_namedkeepers.moc"
