// A QTest of WordCounter with PromiseKeeperTest, as docs/testing.md describes it.
#include "wordcounter.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <PromiseKeeperTest>

class tst_WordCounter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void countsOnAWorker();
    void totalsInManualMode();
    void emptyTextFails();
};

// [result]
void tst_WordCounter::countsOnAWorker()
{
    pk::PromiseKeeper keeper(2);
    WordCounter counter(&keeper);
    QSignalSpy counted(&counter, &WordCounter::counted);

    pk::Promise<int> words = counter.count(QStringLiteral("the quick brown fox"));

    PK_COMPARE_RESULT(words, 4);
    QVERIFY(pk::test::drain(&keeper)); // the continuation on `counter` ran too
    QCOMPARE(counted.count(), 1);
    QCOMPARE(counter.total(), 4);
}
// [result]

// Manual mode: nothing runs until the test says so, and drain() runs the tasks, the
// continuations on this thread and the signals, in order.
void tst_WordCounter::totalsInManualMode()
{
    pk::PromiseKeeper keeper(0);
    WordCounter counter(&keeper);
    pk::Promise<int> first = counter.count(QStringLiteral("one two"));
    pk::PromiseSpy spy(&keeper, first);
    counter.count(QStringLiteral("three"));
    QCOMPARE(first.state(), pk::TaskState::Queued);
    QCOMPARE(counter.total(), 0);

    QVERIFY(pk::test::drain(&keeper));
    QCOMPARE(counter.total(), 3);
    QCOMPARE(spy.states(),
        (QList<pk::TaskState> {
            pk::TaskState::Queued, pk::TaskState::Running, pk::TaskState::Succeeded }));
}

void tst_WordCounter::emptyTextFails()
{
    pk::PromiseKeeper keeper(1);
    WordCounter counter(&keeper);
    pk::Promise<int> words = counter.count(QStringLiteral("   "));
    PK_VERIFY_FAILED_WITH(words, EmptyTextError);
    PK_TRY_COMPARE_STATE(words, pk::TaskState::Failed, 1000);
    QVERIFY(pk::test::drain(&keeper));
    QCOMPARE(counter.total(), 0);
}

QTEST_GUILESS_MAIN(tst_WordCounter)
#include "tst_wordcounter.moc"
