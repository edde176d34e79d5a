// submitToProcess() of a function whose argument has no QDataStream operators: it cannot be
// copied to the child process.
#include <QtCore/qcoreapplication.h>

#include <PromiseKeeper>

struct Settings
{
    int size = 0;
};

#ifdef PK_COMPILE_FAIL
int thumbnailSize(Settings settings)
{
    return settings.size;
}
#else
int thumbnailSize(int size)
{
    return size;
}
#endif

int main(int argc, char **argv)
{
    if (pk::ProcessWorker::isRequested(argc, argv))
        return pk::ProcessWorker::exec(argc, argv);
    QCoreApplication app(argc, argv);
    pk::PromiseKeeper keeper;
#ifdef PK_COMPILE_FAIL
    pk::Promise<int> size = keeper.submitToProcess(&thumbnailSize, Settings { 128 });
#else
    pk::Promise<int> size = keeper.submitToProcess(&thumbnailSize, 128);
#endif
    return size.isValid() ? 0 : 1;
}
