// Happens-before edges that ThreadSanitizer cannot see because they go through Qt, which is not
// instrumented (a function handed to QThreadPool, a call queued to another thread's event loop).
// The sender releases, the receiver acquires, on the same address; elsewhere both are no-ops.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define PK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PK_TSAN 1
#endif
#endif

#ifdef PK_TSAN
extern "C" void __tsan_acquire(void *addr);
extern "C" void __tsan_release(void *addr);
#define PK_TSAN_RELEASE(addr) __tsan_release(static_cast<void *>(addr))
#define PK_TSAN_ACQUIRE(addr) __tsan_acquire(static_cast<void *>(addr))
#else
#define PK_TSAN_RELEASE(addr) static_cast<void>(addr)
#define PK_TSAN_ACQUIRE(addr) static_cast<void>(addr)
#endif
