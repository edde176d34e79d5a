// Calls a function on another object's thread, through its event loop.
#pragma once

#include <pk/detail/tsan.h>

#include <QtCore/qmetaobject.h>
#include <QtCore/qobject.h>

#include <utility>

namespace pk::detail {

/*!
    QMetaObject::invokeMethod(receiver, fn, Qt::QueuedConnection), for a call that crosses
    threads. Qt moves \a fn into a call object and hands it over through its event queue, an
    ordering ThreadSanitizer cannot see (Qt is not instrumented): TSan is told to ignore the
    building of that object. What \a fn reaches beyond its captures needs an ordering of its
    own (a mutex, or PK_TSAN_RELEASE/ACQUIRE).
*/
template<typename F>
void invokeQueued(QObject *receiver, F &&fn)
{
    PK_TSAN_IGNORE_BEGIN();
    QMetaObject::invokeMethod(receiver, std::forward<F>(fn), Qt::QueuedConnection);
    PK_TSAN_IGNORE_END();
}

} // namespace pk::detail
