// Internal (PromiseKeeper's own code and header templates): happens-before edges that
// ThreadSanitizer cannot see because they go through Qt, which is not
// instrumented (a function handed to QThreadPool, an event posted to another thread). The sender
// releases, the receiver acquires, on the same address. PK_TSAN_IGNORE_BEGIN/END hide the
// accesses in between from TSan: for objects that Qt itself builds and hands over (the call
// object of a queued invokeMethod()). Elsewhere all of them are no-ops.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define PK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PK_TSAN 1
#endif
#endif

#ifdef PK_TSAN
extern "C" {
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
void AnnotateIgnoreWritesBegin(const char *file, int line);
void AnnotateIgnoreWritesEnd(const char *file, int line);
}
#define PK_TSAN_RELEASE(addr) __tsan_release(static_cast<void *>(addr))
#define PK_TSAN_ACQUIRE(addr) __tsan_acquire(static_cast<void *>(addr))
#define PK_TSAN_IGNORE_BEGIN()                                                                     \
    (AnnotateIgnoreReadsBegin(__FILE__, __LINE__), AnnotateIgnoreWritesBegin(__FILE__, __LINE__))
#define PK_TSAN_IGNORE_END()                                                                       \
    (AnnotateIgnoreWritesEnd(__FILE__, __LINE__), AnnotateIgnoreReadsEnd(__FILE__, __LINE__))
#else
#define PK_TSAN_RELEASE(addr) static_cast<void>(addr)
#define PK_TSAN_ACQUIRE(addr) static_cast<void>(addr)
#define PK_TSAN_IGNORE_BEGIN() static_cast<void>(0)
#define PK_TSAN_IGNORE_END() static_cast<void>(0)
#endif
