/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The device pool: every FIDO device an sk context may use, kept open
 * between operations, one operation per device at a time.
 *
 * Requests for different devices run at the same time on different
 * threads; a request for a device in use waits in a first-come queue.  A
 * handle idle for a while is closed (sk_devpool_reap), so other programs
 * can have the token between uses.  A cached handle that turns out stale
 * (the token was replugged) is reopened by the caller with
 * sk_devpool_reopen.  sk_devpool_scan follows tokens as they come and go
 * and reports each change once.
 *
 * All int-returning functions return 0 or a negative TOK_ERR_* code.
 * Every function is thread-safe unless noted.
 */
#ifndef SK_DEVPOOL_H
#define SK_DEVPOOL_H

#include <sys/types.h>
#include <stddef.h>

#include "common/err.h"
#include "sk/sk.h"

struct sk_devpool;
/* A device checked out of the pool for one operation. */
struct sk_pooldev;

/*
 * sk_devpool_event_cb: device (its path) with name (product name or path)
 * was plugged in (present 1) or pulled (0).  Called by the thread running
 * sk_devpool_scan, without pool locks held.
 */
typedef void sk_devpool_event_cb(void *arg, const char *device,
    const char *name, int present);

/*
 * sk_devpool_new: an empty pool over ops (not copied: must outlive it).
 * No devices and no discovery until sk_devpool_set_devices.
 */
int sk_devpool_new(const struct sk_devops *ops, struct sk_devpool **poolp)
    TOK_WUR;
/*
 * sk_devpool_free: close every handle and free the pool.  NULL is
 * accepted.  No device may be checked out.
 */
void sk_devpool_free(struct sk_devpool *pool);
/*
 * sk_devpool_set_devices: the configured devices (comma-separated list of
 * paths, NULL or "" for none: always candidates) and whether
 * ops->discover adds more.  Call before the pool is shared.
 */
int sk_devpool_set_devices(struct sk_devpool *pool, const char *list,
    int discover) TOK_WUR;
/* sk_devpool_set_timeout: bound operations on handles opened from now. */
void sk_devpool_set_timeout(struct sk_devpool *pool, int ms);
/* sk_devpool_set_events: who hears of sk_devpool_scan's changes (NULL: none). */
void sk_devpool_set_events(struct sk_devpool *pool, sk_devpool_event_cb *cb,
    void *arg);

/*
 * sk_devpool_candidates: the devices an operation may choose from: the
 * configured ones and the discovered ones last seen present.  With
 * rescan, or when the pool has never discovered, ops->discover runs
 * first (without the presence checks and events of sk_devpool_scan).
 * *pathsp is a new array of *npathsp new strings (sk_devpool_paths_free).
 */
int sk_devpool_candidates(struct sk_devpool *pool, int rescan,
    char ***pathsp, size_t *npathsp) TOK_WUR;
/* sk_devpool_paths_free: free n paths and the array.  NULL is accepted. */
void sk_devpool_paths_free(char **paths, size_t n);

/*
 * sk_devpool_acquire: check path out for one operation, opening it if no
 * handle is cached.  With wait 0, a device in use (or with others queued
 * for it) gives 0 and *pdp NULL.  With wait 1 the caller queues, first
 * come first served, until the device is free or *cancelp (may be NULL;
 * read atomically) becomes non-zero: then TOK_ERR_CANCELLED.  Open errors
 * are returned as is.  On success *pdp must be given back with
 * sk_devpool_release.
 */
int sk_devpool_acquire(struct sk_devpool *pool, const char *path, int wait,
    const int *cancelp, struct sk_pooldev **pdp) TOK_WUR;
/*
 * sk_devpool_release: give pd back.  broken: close its handle (the device
 * misbehaved).  The handle is also closed when the device was pulled.
 */
void sk_devpool_release(struct sk_devpool *pool, struct sk_pooldev *pd,
    int broken);
/*
 * sk_devpool_reopen: close pd's handle and open the device again (the
 * cached handle was stale).  On failure pd has no handle; release it.
 */
int sk_devpool_reopen(struct sk_devpool *pool, struct sk_pooldev *pd) TOK_WUR;
/* sk_pooldev_handle: the open ops handle of a checked-out pd. */
void *sk_pooldev_handle(const struct sk_pooldev *pd);
/* sk_pooldev_path: its path; lives as long as pd is checked out. */
const char *sk_pooldev_path(const struct sk_pooldev *pd);
/* sk_pooldev_fresh: 1 when the handle was opened by this checkout. */
int sk_pooldev_fresh(const struct sk_pooldev *pd);

/*
 * sk_devpool_wake: wake every caller queued in sk_devpool_acquire, so
 * they look at their cancel flag again.
 */
void sk_devpool_wake(struct sk_devpool *pool);
/*
 * sk_devpool_scan: discover, check the configured devices with
 * ops->present, and report every device that appeared or went away to
 * the event callback.  The handle of a pulled device is closed (at once,
 * or when its operation ends).  The first scan reports every device
 * present as plugged in.  Scans are serialised.
 */
int sk_devpool_scan(struct sk_devpool *pool) TOK_WUR;
/* sk_devpool_reap: close the handles idle for idle_ms or more. */
void sk_devpool_reap(struct sk_devpool *pool, int idle_ms);
/*
 * sk_devpool_name: the name of device path for people (product name from
 * discovery, else the path).  *namep is a new string.
 */
int sk_devpool_name(struct sk_devpool *pool, const char *path,
    char **namep) TOK_WUR;
/*
 * Which token holds a key: sk_devpool_remember notes that the key handle
 * kh (len bytes) lives on device path (it signed there, was enrolled or
 * imported from there); sk_devpool_recall gives that path (*pathp a new
 * string, NULL when unknown); sk_devpool_forget drops the note (the token
 * no longer has the key).  A few hundred keys are remembered, least
 * recently noted first out.
 */
void sk_devpool_remember(struct sk_devpool *pool, const u_char *kh,
    size_t len, const char *path);
int sk_devpool_recall(struct sk_devpool *pool, const u_char *kh, size_t len,
    char **pathp) TOK_WUR;
void sk_devpool_forget(struct sk_devpool *pool, const u_char *kh,
    size_t len);
/*
 * sk_devpool_watch: follow tokens as they come and go (sk_devpool_scan,
 * with its events, whenever sk/devwatch.h says something may have
 * changed) and close handles idle for idle_ms (sk_devpool_reap), until
 * wake_fd is readable; poll_ms bounds the sleep only where something can
 * not be watched.  While nothing happens and no handle is open it makes
 * no system call.  Returns 0 when woken, else TOK_ERR_*.
 */
int sk_devpool_watch(struct sk_devpool *pool, int idle_ms, int poll_ms,
    int wake_fd) TOK_WUR;
/* sk_devpool_nopen: how many handles are open (for tests). */
size_t sk_devpool_nopen(struct sk_devpool *pool);

#endif /* SK_DEVPOOL_H */
