// whenAll() of promises of a move-only type: the list it gives holds copies.
#include <QtCore/qcoreapplication.h>

#include <PromiseKeeper>
#include <memory>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    pk::PromiseKeeper keeper;
#ifdef PK_COMPILE_FAIL
    const QList<pk::Promise<std::unique_ptr<int>>> parts
        = { keeper.submit([] { return std::make_unique<int>(1); }) };
#else
    const QList<pk::Promise<std::shared_ptr<int>>> parts
        = { keeper.submit([] { return std::make_shared<int>(1); }) };
#endif
    const auto all = pk::whenAll(parts);
    return all.isValid() ? 0 : 1;
}
