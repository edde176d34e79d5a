// pk-tst-impostor PATH [HEX]: a local server that is not a PromiseKeeper program, for the tests
// of tst_monitorserver that run it as another user (runuser -u nobody). It listens on PATH,
// open to everyone, prints "LISTENING" (or "CANNOT-LISTEN <reason>" and exits with 3), then
// writes the bytes given in hexadecimal (a forged Welcome, say) to each connection as soon as it
// is accepted, and prints "CONNECTION" for each. It exits when its standard input closes, so
// that the test ends it without a signal crossing users. Qt Network only: it needs nothing the
// other user might not be able to read.
#include <QtCore/QByteArray>
#include <QtCore/QCoreApplication>
#include <QtCore/QSocketNotifier>
#include <QtCore/QTimer>
#include <QtNetwork/QLocalServer>
#include <QtNetwork/QLocalSocket>

#include <cstdio>
#include <unistd.h>

namespace {
// Bounds its life if the test dies without closing the pipe.
constexpr int kMaxLifeMs = 120000;

void say(const char *line)
{
    std::printf("%s\n", line);
    std::fflush(stdout);
}
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = QCoreApplication::arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: pk-tst-impostor PATH [HEX]\n");
        return 2;
    }
    const QByteArray answer = args.size() > 2 ? QByteArray::fromHex(args.at(2).toLatin1()) : "";

    QLocalServer server;
    server.setSocketOptions(QLocalServer::WorldAccessOption);
    if (!server.listen(args.at(1))) {
        std::printf("CANNOT-LISTEN %s\n", qPrintable(server.errorString()));
        std::fflush(stdout);
        return 3;
    }
    QObject::connect(&server, &QLocalServer::newConnection, &server, [&server, &answer] {
        while (QLocalSocket *peer = server.nextPendingConnection()) {
            say("CONNECTION");
            peer->write(answer);
            QObject::connect(peer, &QLocalSocket::readyRead, peer, [peer] { peer->readAll(); });
            QObject::connect(peer, &QLocalSocket::disconnected, peer, &QObject::deleteLater);
        }
    });
    QSocketNotifier input(STDIN_FILENO, QSocketNotifier::Read);
    QObject::connect(&input, &QSocketNotifier::activated, &app, [&input] {
        char buffer[256];
        if (::read(STDIN_FILENO, buffer, sizeof(buffer)) <= 0) {
            input.setEnabled(false);
            QCoreApplication::quit();
        }
    });
    QTimer::singleShot(kMaxLifeMs, &app, &QCoreApplication::quit);
    say("LISTENING");
    return app.exec();
}
