// Combinators: whenAll, whenAny, whenAllSettled and PromiseKeeper::map().
#include "composetest.h"

#include <pk/combinators.h>
#include <pk/errors.h>
#include <pk/mapoptions.h>
#include <pk/promise.h>
#include <pk/promisekeeper.h>

#include <QtCore/QStringList>
#include <QtTest/QTest>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

using pk::PromiseKeeper;
using pk::TaskState;
using pktest::isExactly;
using pktest::Outcome;
using pktest::thrownBy;

namespace {

enum class Container { QListOfInt, StdVectorOfQString, QStringListOfQString };

void addFinishOrders()
{
    QTest::addColumn<QList<int>>("finishOrder");
    QTest::newRow("input order") << QList<int> { 0, 1, 2 };
    QTest::newRow("reversed") << QList<int> { 2, 1, 0 };
    QTest::newRow("middle first") << QList<int> { 1, 2, 0 };
}

// Three tasks of \a keeper (three threads), each blocked at its gate, returning index * 10.
QList<pk::Promise<int>> gatedTasks(PromiseKeeper &keeper, const pktest::Gates &gates, int count)
{
    QList<pk::Promise<int>> promises;
    for (int i = 0; i < count; ++i)
        promises.append(keeper.submit([gate = gates[i], i] { return gate.pass() ? i * 10 : -1; }));
    return promises;
}

} // namespace

Q_DECLARE_METATYPE(Container)

class tst_Combinators : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // whenAll
    void whenAllValuesInInputOrder_data();
    void whenAllValuesInInputOrder();
    void whenAllOfEmptyList();
    void whenAllOfVoid();
    void whenAllFailsLikeFirstFailure_data();
    void whenAllFailsLikeFirstFailure();
    void whenAllOfDifferentTypes();

    // whenAny
    void whenAnyGivesFirstToFinish_data();
    void whenAnyGivesFirstToFinish();
    void whenAnyOfEmptyList();
    void whenAnyVariadic();

    // whenAllSettled
    void whenAllSettledNeverFails();

    // map
    void mapResultsInInputOrder_data();
    void mapResultsInInputOrder();
    void mapOrderIndependentOfFinishing();
    void mapOfVoid();
    void mapOfEmptyContainer();
    void mapFailsWithEarliestFailureInInputOrder();
    void mapCancelsItemsNotStartedAfterFailure();
    void mapMaxInFlight();
    void mapCancel_data();
    void mapCancel();
};

// ---- whenAll ----------------------------------------------------------------------------------

void tst_Combinators::whenAllValuesInInputOrder_data()
{
    addFinishOrders();
}

void tst_Combinators::whenAllValuesInInputOrder()
{
    QFETCH(QList<int>, finishOrder);
    PromiseKeeper keeper(3);
    pktest::Gates gates(3);
    const QList<pk::Promise<int>> promises = gatedTasks(keeper, gates, 3);
    QVERIFY(gates.waitAllArrived());

    auto all = pk::whenAll(promises);
    static_assert(std::is_same_v<decltype(all), pk::Promise<QList<int>>>);
    for (int index : std::as_const(finishOrder)) {
        QCOMPARE(all.state(), TaskState::Waiting);
        gates[index].open();
        QVERIFY(promises[index].wait(pktest::kTimeoutMs));
    }
    QVERIFY(all.wait(pktest::kTimeoutMs));
    QCOMPARE(all.state(), TaskState::Succeeded);
    QCOMPARE(all.result(), (QList<int> { 0, 10, 20 }));
}

void tst_Combinators::whenAllOfEmptyList()
{
    auto all = pk::whenAll(QList<pk::Promise<int>>());
    QCOMPARE(all.state(), TaskState::Succeeded); // at once
    QVERIFY(all.result().isEmpty());

    auto allVoid = pk::whenAll(QList<pk::Promise<void>>());
    static_assert(std::is_same_v<decltype(allVoid), pk::Promise<void>>);
    QCOMPARE(allVoid.state(), TaskState::Succeeded);
}

void tst_Combinators::whenAllOfVoid()
{
    std::atomic<int> ran { 0 };
    PromiseKeeper keeper(3);
    pktest::Gates gates(3);
    QList<pk::Promise<void>> promises;
    for (int i = 0; i < 3; ++i) {
        promises.append(keeper.submit([gate = gates[i], &ran] {
            gate.pass();
            ++ran;
        }));
    }
    QVERIFY(gates.waitAllArrived());
    auto all = pk::whenAll(promises);
    static_assert(std::is_same_v<decltype(all), pk::Promise<void>>);
    gates[2].open();
    gates[0].open();
    QVERIFY(promises[0].wait(pktest::kTimeoutMs));
    QVERIFY(promises[2].wait(pktest::kTimeoutMs));
    QCOMPARE(all.state(), TaskState::Waiting);
    gates[1].open();
    QVERIFY(all.wait(pktest::kTimeoutMs));
    QCOMPARE(all.state(), TaskState::Succeeded);
    QCOMPARE(ran.load(), 3);
}

void tst_Combinators::whenAllFailsLikeFirstFailure_data()
{
    QTest::addColumn<Outcome>("outcome");
    QTest::addColumn<bool>("laterFailure");
    QTest::newRow("failure") << Outcome::Failed << false;
    QTest::newRow("failure, then another one") << Outcome::Failed << true;
    QTest::newRow("cancellation") << Outcome::Cancelled << false;
    QTest::newRow("cancellation, then a failure") << Outcome::Cancelled << true;
}

void tst_Combinators::whenAllFailsLikeFirstFailure()
{
    QFETCH(Outcome, outcome);
    QFETCH(bool, laterFailure);
    PromiseKeeper keeper(2);
    PromiseKeeper single(1);
    pktest::Gates gates(2);
    pktest::PendingInput bad(single, outcome);
    auto first = keeper.submit([gate = gates[0]] { return gate.pass() ? 1 : -1; });
    auto last = keeper.submit([gate = gates[1], laterFailure]() -> int {
        gate.pass();
        if (laterFailure)
            throw std::logic_error("later failure");
        return 3;
    });
    QVERIFY(gates.waitAllArrived());
    auto all = pk::whenAll(QList<pk::Promise<int>> { first, bad.promise(), last });

    QVERIFY(bad.finish());
    QVERIFY(all.wait(pktest::kTimeoutMs)); // at the first failure: the others still run
    QCOMPARE(first.state(), TaskState::Running);
    QCOMPARE(last.state(), TaskState::Running);
    const auto check = [&all, outcome] {
        if (outcome == Outcome::Failed) {
            QCOMPARE(all.state(), TaskState::Failed);
            QVERIFY(isExactly<std::out_of_range>(all.exception())); // the same exception type
            QVERIFY(isExactly<std::out_of_range>(thrownBy([&all] { (void)all.result(); })));
        } else {
            QCOMPARE(all.state(), TaskState::Cancelled);
            QVERIFY(isExactly<pk::CancelledError>(thrownBy([&all] { (void)all.result(); })));
        }
    };
    check();
    if (QTest::currentTestFailed())
        return;

    gates[0].open();
    gates[1].open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(last.state(), laterFailure ? TaskState::Failed : TaskState::Succeeded);
    check(); // a later failure changes nothing
}

void tst_Combinators::whenAllOfDifferentTypes()
{
    pktest::Gate gate;
    PromiseKeeper keeper(3);
    const auto unblock = gate.openOnExit();
    auto number = keeper.submit([] { return 1; });
    auto text = keeper.submit([gate] {
        gate.pass();
        return QStringLiteral("two");
    });
    auto nothing = keeper.submit([] {});
    auto all = pk::whenAll(number, text, nothing);
    static_assert(
        std::is_same_v<decltype(all), pk::Promise<std::tuple<int, QString, std::monostate>>>);
    QVERIFY(gate.waitArrived());
    QVERIFY(number.wait(pktest::kTimeoutMs));
    QCOMPARE(all.state(), TaskState::Waiting);
    QCOMPARE(all.info().kind(), pk::TaskKind::Combinator);
    QCOMPARE(all.info().inputIds(), (QList<quint64> { number.id(), text.id(), nothing.id() }));
    gate.open();
    QVERIFY(all.wait(pktest::kTimeoutMs));
    const auto values = all.result();
    QCOMPARE(std::get<0>(values), 1);
    QCOMPARE(std::get<1>(values), QStringLiteral("two"));

    auto failing = keeper.submit([]() -> double { throw std::out_of_range("no double"); });
    auto failed = pk::whenAll(number, failing);
    QVERIFY(failed.wait(pktest::kTimeoutMs));
    QVERIFY(isExactly<std::out_of_range>(failed.exception()));
}

// ---- whenAny ----------------------------------------------------------------------------------

void tst_Combinators::whenAnyGivesFirstToFinish_data()
{
    QTest::addColumn<int>("first");
    QTest::addColumn<bool>("firstFails");
    QTest::newRow("0") << 0 << false;
    QTest::newRow("1") << 1 << false;
    QTest::newRow("2") << 2 << false;
    QTest::newRow("1, failing") << 1 << true;
}

void tst_Combinators::whenAnyGivesFirstToFinish()
{
    QFETCH(int, first);
    QFETCH(bool, firstFails);
    PromiseKeeper keeper(3);
    pktest::Gates gates(3);
    QList<pk::Promise<int>> promises;
    for (int i = 0; i < 3; ++i) {
        const bool fails = firstFails && i == first;
        promises.append(keeper.submit([gate = gates[i], i, fails]() -> int {
            gate.pass();
            if (fails)
                throw std::out_of_range("first to finish failed");
            return i * 10;
        }));
    }
    QVERIFY(gates.waitAllArrived());
    auto any = pk::whenAny(promises);
    static_assert(std::is_same_v<decltype(any), pk::Promise<pk::WhenAnyResult<int>>>);
    QCOMPARE(any.state(), TaskState::Waiting);

    gates[first].open();
    QVERIFY(any.wait(pktest::kTimeoutMs));
    QCOMPARE(any.state(), TaskState::Succeeded); // also when that promise failed
    const pk::WhenAnyResult<int> result = any.result();
    QCOMPARE(result.index, qsizetype(first));
    QVERIFY(result.promise == promises[first]);
    if (firstFails) {
        QCOMPARE(result.promise.state(), TaskState::Failed);
        QVERIFY(isExactly<std::out_of_range>(result.promise.exception()));
    } else {
        QCOMPARE(result.promise.state(), TaskState::Succeeded);
        QCOMPARE(result.promise.result(), first * 10);
    }

    for (int i = 0; i < 3; ++i)
        gates[i].open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(any.result().index, qsizetype(first)); // the later ones change nothing
}

void tst_Combinators::whenAnyOfEmptyList()
{
    auto any = pk::whenAny(QList<pk::Promise<int>>());
    QCOMPARE(any.state(), TaskState::Failed); // at once
    QVERIFY(isExactly<pk::InvalidTaskError>(any.exception()));
}

void tst_Combinators::whenAnyVariadic()
{
    pktest::Gate gate;
    PromiseKeeper keeper(2);
    const auto unblock = gate.openOnExit();
    auto blocked = keeper.submit([gate] { return gate.pass() ? 1 : -1; });
    auto quick = keeper.submit([] { return 2; });
    auto any = pk::whenAny(blocked, quick);
    static_assert(std::is_same_v<decltype(any), pk::Promise<pk::WhenAnyResult<int>>>);
    QVERIFY(any.wait(pktest::kTimeoutMs));
    QCOMPARE(any.result().index, qsizetype(1));
    QVERIFY(any.result().promise == quick);
    QCOMPARE(any.result().promise.result(), 2);
}

// ---- whenAllSettled ---------------------------------------------------------------------------

void tst_Combinators::whenAllSettledNeverFails()
{
    pktest::Gate gate;
    PromiseKeeper keeper(2);
    PromiseKeeper single(1);
    const auto unblock = gate.openOnExit();
    auto ok = keeper.submit([] { return 1; });
    auto failed = keeper.submit([]() -> int { throw std::out_of_range("settled failure"); });
    const pk::Promise<int> cancelled = pktest::finishedInput(single, Outcome::Cancelled);
    auto running = keeper.submit([gate] { return gate.pass() ? 4 : -1; });
    QVERIFY(gate.waitArrived());
    QVERIFY(failed.wait(pktest::kTimeoutMs));
    QCOMPARE(cancelled.state(), TaskState::Cancelled);

    const QList<pk::Promise<int>> inputs { ok, failed, cancelled, running };
    auto settled = pk::whenAllSettled(inputs);
    static_assert(std::is_same_v<decltype(settled), pk::Promise<QList<pk::Promise<int>>>>);
    QCOMPARE(settled.state(), TaskState::Waiting); // `running` is not final

    gate.open();
    QVERIFY(settled.wait(pktest::kTimeoutMs));
    QCOMPARE(settled.state(), TaskState::Succeeded);
    const QList<pk::Promise<int>> result = settled.result();
    QCOMPARE(result.size(), 4);
    QList<TaskState> states;
    for (int i = 0; i < 4; ++i) {
        QVERIFY(result[i] == inputs[i]);
        states.append(result[i].state());
    }
    QCOMPARE(states,
        (QList<TaskState> {
            TaskState::Succeeded, TaskState::Failed, TaskState::Cancelled, TaskState::Succeeded }));
    QVERIFY(isExactly<std::out_of_range>(result[1].exception()));
    QCOMPARE(result[3].result(), 4);

    auto none = pk::whenAllSettled(QList<pk::Promise<int>>());
    QCOMPARE(none.state(), TaskState::Succeeded);
    QVERIFY(none.result().isEmpty());
}

// ---- map --------------------------------------------------------------------------------------

void tst_Combinators::mapResultsInInputOrder_data()
{
    QTest::addColumn<Container>("container");
    QTest::newRow("QList<int>") << Container::QListOfInt;
    QTest::newRow("std::vector<QString>") << Container::StdVectorOfQString;
    QTest::newRow("QStringList") << Container::QStringListOfQString;
}

void tst_Combinators::mapResultsInInputOrder()
{
    QFETCH(Container, container);
    PromiseKeeper keeper(3);
    switch (container) {
    case Container::QListOfInt: {
        QList<int> items;
        QList<int> expected;
        for (int i = 0; i < 50; ++i) {
            items.append(i);
            expected.append(i * i);
        }
        auto squares = keeper.map([](int v) { return v * v; }, items);
        static_assert(std::is_same_v<decltype(squares), pk::Promise<QList<int>>>);
        QVERIFY(squares.wait(pktest::kTimeoutMs));
        QCOMPARE(squares.result(), expected);
        break;
    }
    case Container::StdVectorOfQString: {
        const std::vector<QString> items { QStringLiteral("a"), QStringLiteral("bb"),
            QStringLiteral("ccc") };
        auto sizes = keeper.map([](const QString &s) { return int(s.size()); }, items);
        static_assert(std::is_same_v<decltype(sizes), pk::Promise<QList<int>>>);
        QVERIFY(sizes.wait(pktest::kTimeoutMs));
        QCOMPARE(sizes.result(), (QList<int> { 1, 2, 3 }));
        break;
    }
    case Container::QStringListOfQString: {
        const QStringList items { QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("z") };
        auto upper = keeper.map([](const QString &s) { return s.toUpper(); }, items);
        static_assert(std::is_same_v<decltype(upper), pk::Promise<QList<QString>>>);
        QVERIFY(upper.wait(pktest::kTimeoutMs));
        QCOMPARE(upper.result(),
            (QStringList { QStringLiteral("X"), QStringLiteral("Y"), QStringLiteral("Z") }));
        break;
    }
    }
}

void tst_Combinators::mapOrderIndependentOfFinishing()
{
    PromiseKeeper keeper(3);
    pktest::Gates gates(3);
    auto mapped = keeper.map([gates = gates.all()](int i) { return gates[i].pass() ? i * 10 : -1; },
        QList<int> { 0, 1, 2 });
    QVERIFY(gates.waitAllArrived());
    // The last item finishes first, the first one last.
    for (int k = 0; k < 3; ++k) {
        QCOMPARE(mapped.state(), TaskState::Waiting);
        gates[2 - k].open();
        QTRY_COMPARE(keeper.counts().succeeded, k + 1);
    }
    QVERIFY(mapped.wait(pktest::kTimeoutMs));
    QCOMPARE(mapped.result(), (QList<int> { 0, 10, 20 }));
}

void tst_Combinators::mapOfVoid()
{
    pktest::Recorder seen;
    PromiseKeeper keeper(2);
    auto done = keeper.map([&seen](int v) { seen.record(v); }, QList<int> { 3, 1, 2 });
    static_assert(std::is_same_v<decltype(done), pk::Promise<void>>);
    QVERIFY(done.wait(pktest::kTimeoutMs));
    QCOMPARE(done.state(), TaskState::Succeeded);
    QList<int> values = seen.values();
    std::sort(values.begin(), values.end());
    QCOMPARE(values, (QList<int> { 1, 2, 3 }));
}

void tst_Combinators::mapOfEmptyContainer()
{
    std::atomic<int> calls { 0 };
    PromiseKeeper keeper(1);
    auto values = keeper.map(
        [&calls](int v) {
            ++calls;
            return v;
        },
        QList<int>());
    QCOMPARE(values.state(), TaskState::Succeeded); // at once
    QVERIFY(values.result().isEmpty());
    auto nothing = keeper.map([&calls](const QString &) { ++calls; }, std::vector<QString>());
    QCOMPARE(nothing.state(), TaskState::Succeeded);
    QCOMPARE(calls.load(), 0);
    QCOMPARE(keeper.counts().finished(), 0); // no task at all
}

void tst_Combinators::mapFailsWithEarliestFailureInInputOrder()
{
    // Items [ok, ok, fail(A), ok, fail(B)]: B fails first, yet the map fails with A.
    PromiseKeeper keeper(5);
    pktest::Gates gates(5);
    auto mapped = keeper.map(
        [gates = gates.all()](int i) -> int {
            gates[i].pass();
            if (i == 2)
                throw std::out_of_range("item 2 (A)");
            if (i == 4)
                throw std::logic_error("item 4 (B)");
            return i;
        },
        QList<int> { 0, 1, 2, 3, 4 });
    QVERIFY(gates.waitAllArrived());

    gates[4].open();
    // The only worker not blocked at a gate is the one that ran item 4: this probe runs there
    // after the map has seen item 4 fail.
    QVERIFY(keeper.submit([] {}).wait(pktest::kTimeoutMs));
    QCOMPARE(keeper.counts().failed, 1);
    QCOMPARE(mapped.state(), TaskState::Waiting); // items before it are still running

    gates[0].open();
    gates[1].open();
    gates[3].open();
    QTRY_COMPARE(keeper.counts().succeeded, 4); // three items and the probe
    QCOMPARE(mapped.state(), TaskState::Waiting); // item 2 may still fail

    gates[2].open();
    QVERIFY(mapped.wait(pktest::kTimeoutMs));
    QCOMPARE(mapped.state(), TaskState::Failed);
    QVERIFY(isExactly<std::out_of_range>(mapped.exception()));
    QCOMPARE(mapped.errorString(), QStringLiteral("item 2 (A)"));
}

void tst_Combinators::mapCancelsItemsNotStartedAfterFailure()
{
    pktest::Recorder ran;
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    QList<int> items;
    for (int i = 0; i < 10; ++i)
        items.append(i);
    auto mapped = keeper.map(
        [&ran, gate](int i) -> int {
            if (i == 0) {
                gate.pass();
                throw std::out_of_range("item 0");
            }
            ran.record(i);
            return i;
        },
        items);
    QVERIFY(gate.waitArrived());
    QCOMPARE(keeper.counts().queued, 9);

    gate.open();
    QVERIFY(mapped.wait(pktest::kTimeoutMs));
    QCOMPARE(mapped.state(), TaskState::Failed);
    QVERIFY(isExactly<std::out_of_range>(mapped.exception()));
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));

    // The worker takes item 1 in the same step as it finishes item 0, before the map learns of
    // the failure; every later item is cancelled without running.
    const QList<int> values = ran.values();
    QVERIFY2(values.size() <= 1, qPrintable(QString::number(values.size())));
    QVERIFY(!values.contains(9));
    const pk::TaskCounts counts = keeper.counts();
    QCOMPARE(counts.cancelled, 9 - values.size());
    QCOMPARE(counts.succeeded, values.size());
    QCOMPARE(counts.failed, 1);
}

void tst_Combinators::mapMaxInFlight()
{
    constexpr int itemCount = 20;
    constexpr int bound = 2;
    std::atomic<int> running { 0 };
    std::atomic<int> maxRunning { 0 };
    pktest::Gate gate;
    PromiseKeeper keeper(4); // more threads than the bound
    const auto unblock = gate.openOnExit();
    QList<int> items;
    for (int i = 0; i < itemCount; ++i)
        items.append(i);
    pk::MapOptions options;
    options.maxInFlight = bound;

    auto mapped = keeper.map(
        [gate, &running, &maxRunning](int i) {
            const int now = ++running;
            int seen = maxRunning.load();
            while (now > seen && !maxRunning.compare_exchange_weak(seen, now)) { }
            gate.pass();
            --running;
            return i * 2;
        },
        items, options);

    const auto inFlight = [&keeper] {
        const pk::TaskCounts counts = keeper.counts();
        return counts.queued + counts.running;
    };
    QVERIFY(gate.waitArrived(bound));
    QCOMPARE(inFlight(), bound); // not all the items at once
    for (int arrived = bound; arrived < itemCount; ++arrived) {
        gate.open();
        QVERIFY(gate.waitArrived()); // the next item starts once one finished
        QVERIFY2(inFlight() <= bound, qPrintable(QString::number(inFlight())));
        QVERIFY(running.load() <= bound);
    }
    gate.open(bound);
    QVERIFY(mapped.wait(pktest::kTimeoutMs));
    QList<int> expected;
    for (int i = 0; i < itemCount; ++i)
        expected.append(i * 2);
    QCOMPARE(mapped.result(), expected);
    QCOMPARE(maxRunning.load(), bound);
    QCOMPARE(keeper.counts().succeeded, itemCount);
}

void tst_Combinators::mapCancel_data()
{
    QTest::addColumn<int>("maxInFlight");
    QTest::newRow("unbounded") << 0;
    QTest::newRow("maxInFlight 1") << 1;
}

void tst_Combinators::mapCancel()
{
    QFETCH(int, maxInFlight);
    pktest::Recorder ran;
    pktest::Gate gate;
    PromiseKeeper keeper(1);
    const auto unblock = gate.openOnExit();
    QList<int> items;
    for (int i = 0; i < 10; ++i)
        items.append(i);
    pk::MapOptions options;
    options.maxInFlight = maxInFlight;
    auto mapped = keeper.map(
        [&ran, gate](int i) {
            if (i == 0)
                gate.pass();
            ran.record(i);
            return i;
        },
        items, options);
    QVERIFY(gate.waitArrived());

    QVERIFY(mapped.cancel());
    QCOMPARE(mapped.state(), TaskState::Cancelled);
    QVERIFY(isExactly<pk::CancelledError>(thrownBy([&mapped] { (void)mapped.result(); })));
    QVERIFY(!mapped.cancel());
    // Items not started yet do not stay queued for nothing.
    QCOMPARE(keeper.counts().queued, 0);

    gate.open();
    QVERIFY(keeper.waitForAll(pktest::kTimeoutMs));
    QCOMPARE(mapped.state(), TaskState::Cancelled);
    // The running item finishes; no later item starts.
    QCOMPARE(ran.values(), QList<int> { 0 });
    QVERIFY(ran.values().size() <= 2);
    QVERIFY(!ran.values().contains(9));
}

QTEST_MAIN(tst_Combinators)
#include "tst_combinators.moc"
