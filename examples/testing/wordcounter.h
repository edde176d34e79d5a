// The code under test: a small part of an application that counts words on a keeper's workers
// and reports on its own thread.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QStringList>

#include <PromiseKeeper>
#include <stdexcept>

struct EmptyTextError : std::runtime_error
{
    EmptyTextError()
        : std::runtime_error("the text is empty")
    { }
};

class WordCounter : public QObject
{
    Q_OBJECT
public:
    explicit WordCounter(pk::PromiseKeeper *keeper, QObject *parent = nullptr)
        : QObject(parent)
        , m_keeper(keeper)
    { }

    // Counts on a worker; the total is updated, and counted() emitted, on this object's thread.
    pk::Promise<int> count(const QString &text)
    {
        pk::Promise<int> words = m_keeper->submit([text] {
            if (text.trimmed().isEmpty())
                throw EmptyTextError();
            return int(text.split(QLatin1Char(' '), Qt::SkipEmptyParts).size());
        });
        words.then(this, [this](int n) {
            m_total += n;
            Q_EMIT counted(n);
        });
        return words;
    }

    int total() const { return m_total; }

Q_SIGNALS:
    void counted(int words);

private:
    pk::PromiseKeeper *m_keeper;
    int m_total = 0;
};
