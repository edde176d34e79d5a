// submit(&Worker::run, worker, 3) with a QObject by value: it cannot be copied into the task.
#include <QtCore/qcoreapplication.h>
#include <QtCore/qobject.h>

#include <PromiseKeeper>

class Worker : public QObject
{
public:
    int run(int n) const { return n + 1; }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    pk::PromiseKeeper keeper;
    Worker worker;
#ifdef PK_COMPILE_FAIL
    const pk::Promise<int> p = keeper.submit(&Worker::run, worker, 3);
#else
    const pk::Promise<int> p = keeper.submit(&Worker::run, &worker, 3);
#endif
    return p.isValid() ? 0 : 1;
}
