/* Preloaded before libfaketime by scripts/pytest-at-utc.sh: sleeps on the monotonic clock go
 * straight to the kernel. libfaketime 0.9.10 (Debian 12) answers EINVAL to every absolute
 * monotonic clock_nanosleep (Python's time.sleep) when FAKETIME_DONT_FAKE_MONOTONIC=1, and
 * faking the monotonic clock instead makes Python's timed lock waits (sem_clockwait, which it
 * does not intercept) wait for the whole offset. Other clocks go on to libfaketime. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef int (*sleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *t, struct timespec *rest) {
    if (clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME) {
        return syscall(SYS_clock_nanosleep, clock, flags, t, rest) == 0 ? 0 : errno;
    }
    static sleep_fn next;
    if (!next) next = (sleep_fn)dlsym(RTLD_NEXT, "clock_nanosleep");
    return next(clock, flags, t, rest);
}
