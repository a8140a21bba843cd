/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Watching for tokens without polling.  A process that runs all day must
 * make no system call while nothing happens, yet see a token plugged in or
 * pulled within a second:
 *
 *  - hidraw tokens: a udev monitor on the hidraw subsystem (libudev), when
 *    discovery is on;
 *  - "unix:" tokens: inotify on the directory of each socket (it appears or
 *    goes), and, while a token is there, one idle connection held to it,
 *    which hangs up when the token's process goes, however it dies (as an
 *    open hidraw fd does when the key is pulled).
 *
 * sk_devwatch_wait sleeps in poll(2) on all of that; the caller scans the
 * device pool when it says something changed.
 *
 * All int functions return 0 or a negative TOK_ERR_* code unless noted.
 * Not thread-safe: one thread owns a watch.
 */
#ifndef SK_DEVWATCH_H
#define SK_DEVWATCH_H

#include <stddef.h>

struct sk_devwatch;

/*
 * sk_devwatch_new: a watch; udev 1 also follows hidraw devices (without
 * libudev the caller is told to poll: see sk_devwatch_wait).
 */
int sk_devwatch_new(int udev, struct sk_devwatch **wp)
    __attribute__((warn_unused_result));
/* sk_devwatch_free: close everything.  NULL is accepted. */
void sk_devwatch_free(struct sk_devwatch *w);
/*
 * sk_devwatch_set_unix: the "unix:PATH" devices to follow (other paths are
 * ignored); present[i] says whether paths[i] is there now (a connection to
 * it is then held).  Call after every scan.
 */
int sk_devwatch_set_unix(struct sk_devwatch *w, char **paths,
    const int *present, size_t n) __attribute__((warn_unused_result));
/*
 * sk_devwatch_wait: sleep until a device may have come or gone (returns
 * 1), timeout_ms passed (-1: none; returns 0), or wake_fd (-1: none) is
 * readable (returns 2, nothing read from it).  When hidraw devices should
 * be followed but no udev monitor could be made, the wait is bounded by
 * poll_ms and returns 1 then.  Negative TOK_ERR_* on failure.
 */
int sk_devwatch_wait(struct sk_devwatch *w, int wake_fd, int timeout_ms,
    int poll_ms) __attribute__((warn_unused_result));

#endif /* SK_DEVWATCH_H */
