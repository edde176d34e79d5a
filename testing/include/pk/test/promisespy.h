// pk::PromiseSpy: the states a promise, or every task of a keeper, passes through.
#pragma once

#include <pk/enums.h>
#include <pk/test/promisekeepertest_export.h>

#include <QtCore/qlist.h>
#include <QtCore/qobject.h>

#include <memory>

namespace pk {
class PromiseBase;
class PromiseKeeper;
class PromiseSpyPrivate;

/*!
    Like QSignalSpy for promises: records every state change a keeper delivers for one promise
    (or for every task of the keeper), in order, from the keeper's event stream, the one its
    signals come from.

    \code
    pk::PromiseSpy spy(&keeper, promise);
    QVERIFY(spy.wait());
    QCOMPARE(spy.states(), (QList<pk::TaskState> { pk::TaskState::Queued,
        pk::TaskState::Running, pk::TaskState::Succeeded }));
    \endcode

    Recording starts when the spy is made: a task the keeper already knows then starts with the
    state it has at that instant, and every change after it is recorded. Make the spy before the
    code under test submits to see every state. A promise of no keeper (from a combinator, or
    invalid) records only its final state, taken when wait() sees it.

    Thread safety: create, use and destroy it on the keeper's thread (it listens to the keeper's
    event stream, which is delivered there).
*/
class PROMISEKEEPERTEST_EXPORT PromiseSpy : public QObject
{
    Q_OBJECT
public:
    //! Records every task of \a keeper.
    explicit PromiseSpy(PromiseKeeper *keeper, QObject *parent = nullptr);
    //! Records \a promise, a task of \a keeper.
    PromiseSpy(PromiseKeeper *keeper, const PromiseBase &promise, QObject *parent = nullptr);
    ~PromiseSpy() override;

    //! The states recorded: the promise's, or every task's in the order they were delivered.
    QList<TaskState> states() const;
    //! The states recorded for the task \a taskId (PromiseBase::id()).
    QList<TaskState> states(quint64 taskId) const;
    //! The tasks recorded, in the order of their first record.
    QList<quint64> taskIds() const;
    //! For a promise: whether its final state was recorded. For a keeper: whether at least one
    //! task was recorded and every task recorded is final.
    bool isFinal() const;
    /*!
        Runs the events of this thread (and, in manual mode, the keeper's pending tasks) until
        isFinal(), at most \a msecs; returns isFinal().
    */
    bool wait(int msecs = 5000);

Q_SIGNALS:
    //! A state was recorded for the task \a taskId.
    void stateRecorded(quint64 taskId, pk::TaskState state);

private:
    friend class PromiseSpyPrivate;
    std::unique_ptr<PromiseSpyPrivate> d;
};

} // namespace pk
