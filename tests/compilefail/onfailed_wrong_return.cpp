// onFailed() on a Promise<int> whose handler returns nothing: the handler's value replaces the
// failure, so it must return an int.
#include <QtCore/qcoreapplication.h>

#include <PromiseKeeper>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    pk::PromiseKeeper keeper;
    const pk::Promise<int> p = keeper.submit([] { return 1; });
#ifdef PK_COMPILE_FAIL
    const pk::Promise<int> handled = p.onFailed(&app, [](std::exception_ptr) {});
#else
    const pk::Promise<int> handled = p.onFailed(&app, [](std::exception_ptr) { return -1; });
#endif
    return handled.isValid() ? 0 : 1;
}
