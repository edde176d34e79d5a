// A Promise<QString> passed where the callable takes an int.
#include <QtCore/qcoreapplication.h>

#include <PromiseKeeper>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    pk::PromiseKeeper keeper;
    const pk::Promise<QString> text = keeper.submit([] { return QStringLiteral("12"); });
#ifdef PK_COMPILE_FAIL
    const auto doubled = keeper.submit([](int n) { return 2 * n; }, text);
#else
    const auto doubled = keeper.submit([](const QString &s) { return 2 * s.toInt(); }, text);
#endif
    return doubled.isValid() ? 0 : 1;
}
