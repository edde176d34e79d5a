// onCancelled() on a Promise<int> whose handler returns a QString.
#include <QtCore/qcoreapplication.h>

#include <PromiseKeeper>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    pk::PromiseKeeper keeper;
    const pk::Promise<int> p = keeper.submit([] { return 1; });
#ifdef PK_COMPILE_FAIL
    const pk::Promise<int> handled = p.onCancelled(&app, [] { return QStringLiteral("none"); });
#else
    const pk::Promise<int> handled = p.onCancelled(&app, [] { return 0; });
#endif
    return handled.isValid() ? 0 : 1;
}
