// A strict RFC 4180 reader for the tests of the monitor's CSV export: written apart from the
// writer, so that a round trip through both checks the quoting instead of mirroring it.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>

namespace pktest {

/*!
    The records of \a csv (UTF-8, records ended by CRLF, the last one too). Returns false, with
    \a error set, on anything RFC 4180 does not allow: a bare CR or LF outside quotes, a quote
    inside an unquoted field, text after a closing quote, an unterminated quoted field, a
    missing final CRLF.
*/
inline bool parseCsv(const QByteArray &csv, QList<QStringList> *records, QString *error)
{
    const QString text = QString::fromUtf8(csv);
    records->clear();
    QStringList record;
    QString field;
    bool quoted = false; // inside a quoted field
    bool wasQuoted = false; // the current field was quoted and is closed
    const auto fail = [error](const QString &why, qsizetype at) {
        *error = QStringLiteral("%1 at offset %2").arg(why).arg(at);
        return false;
    };
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (quoted) {
            if (c != QLatin1Char('"')) {
                field += c;
            } else if (i + 1 < text.size() && text.at(i + 1) == QLatin1Char('"')) {
                field += c;
                ++i;
            } else {
                quoted = false;
                wasQuoted = true;
            }
            continue;
        }
        if (c == QLatin1Char(',')) {
            record << field;
            field.clear();
            wasQuoted = false;
        } else if (c == QLatin1Char('\r')) {
            if (i + 1 >= text.size() || text.at(i + 1) != QLatin1Char('\n'))
                return fail(QStringLiteral("bare CR"), i);
            ++i;
            record << field;
            *records << record;
            record.clear();
            field.clear();
            wasQuoted = false;
        } else if (c == QLatin1Char('\n')) {
            return fail(QStringLiteral("bare LF"), i);
        } else if (wasQuoted) {
            return fail(QStringLiteral("text after a closing quote"), i);
        } else if (c == QLatin1Char('"')) {
            if (!field.isEmpty())
                return fail(QStringLiteral("quote inside an unquoted field"), i);
            quoted = true;
        } else {
            field += c;
        }
    }
    if (quoted)
        return fail(QStringLiteral("unterminated quoted field"), text.size());
    if (!record.isEmpty() || !field.isEmpty() || wasQuoted)
        return fail(QStringLiteral("no CRLF after the last record"), text.size());
    return true;
}

} // namespace pktest
