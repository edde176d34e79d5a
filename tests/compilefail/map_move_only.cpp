// map() whose callable returns a move-only type: the list it gives holds copies.
#include <QtCore/qcoreapplication.h>

#include <PromiseKeeper>
#include <memory>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    pk::PromiseKeeper keeper;
    const QList<int> items { 1, 2, 3 };
#ifdef PK_COMPILE_FAIL
    const auto all = keeper.map([](int n) { return std::make_unique<int>(n); }, items);
#else
    const auto all = keeper.map([](int n) { return std::make_shared<int>(n); }, items);
#endif
    return all.isValid() ? 0 : 1;
}
