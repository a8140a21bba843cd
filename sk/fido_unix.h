/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libfido2 transport for authenticators reached over a UNIX stream socket
 * (device names "unix:PATH").  The socket carries raw CTAPHID reports of
 * exactly 64 bytes in both directions, with no report ID and no other
 * framing; libfido2 still does all CTAPHID framing on top, exactly as it
 * does over hidraw.  tests/vfido speaks this; so could a USB/IP bridge.
 *
 * Connecting is "plugging in": every fido_dev_open() makes a new
 * connection, fido_dev_close() drops it.
 *
 * All int-returning functions return 0 or a negative TOK_ERR_* code, except
 * the predicates noted.
 */
#ifndef SK_FIDO_UNIX_H
#define SK_FIDO_UNIX_H

#include "common/err.h"

#include <stddef.h>

#include <fido.h>

#define FIDO_UNIX_PREFIX	"unix:"
#define FIDO_UNIX_REPORT_LEN	64	/* CTAPHID report size on the socket */
#define FIDO_UNIX_LIST_MAX	64	/* most devices fido_unix_parse_list takes */
#define FIDO_UNIX_ENV		"TOKAGENT_FIDO_DEVICES"

/* fido_unix_is_unix_path: 1 when name starts with "unix:", else 0 (NULL: 0). */
int fido_unix_is_unix_path(const char *name);

/*
 * fido_unix_io: the I/O table, for callers that drive libfido2 themselves:
 * fido_dev_set_io_functions(dev, fido_unix_io()) then fido_dev_open(dev,
 * name), where name is "unix:PATH" or a bare PATH.  Static storage.
 * The read function honours libfido2's timeout (ms, -1 = forever) and keeps
 * partial reports across calls; write takes the 65-byte buffer libfido2
 * builds for HID (report ID 0 + 64 bytes) and sends the 64 report bytes.
 */
const fido_dev_io_t *fido_unix_io(void);

/*
 * fido_unix_dev_new: a new fido_dev_t with the unix I/O functions set but
 * not opened (*devp, free with fido_dev_free()).  Lets the caller set a
 * timeout or a log handler before fido_dev_open().
 */
int fido_unix_dev_new(fido_dev_t **devp)
    TOK_WUR;

/*
 * fido_unix_open_dev: allocate a fido_dev_t, set the unix I/O functions and
 * open it (CTAPHID INIT and, for FIDO2 devices, getInfo happen here).
 * name is "unix:PATH" or a bare PATH.  On success *devp is open and owned by
 * the caller (fido_dev_close() + fido_dev_free()); on failure *devp is NULL.
 * Errors: TOK_ERR_INVALID_ARGUMENT (empty or over-long path),
 * TOK_ERR_DEVICE_NOT_PRESENT (nothing listening), TOK_ERR_DEVICE_TIMEOUT,
 * TOK_ERR_DEVICE (the authenticator misbehaved), TOK_ERR_ALLOC.
 */
int fido_unix_open_dev(const char *name, fido_dev_t **devp)
    TOK_WUR;

/*
 * fido_unix_parse_list: split a comma-separated device list (the format of
 * $TOKAGENT_FIDO_DEVICES, e.g. "unix:/run/a.sock,unix:/tmp/b") into
 * *namesp, an array of *nnamesp new strings, each normalised to
 * "unix:PATH" (a bare PATH gets the prefix).  Blank entries and surrounding
 * spaces are skipped, duplicates dropped; an empty list gives *namesp NULL
 * and *nnamesp 0.  Over FIDO_UNIX_LIST_MAX entries or an over-long path:
 * TOK_ERR_INVALID_ARGUMENT.  Free with fido_unix_free_list().
 */
int fido_unix_parse_list(const char *list, char ***namesp, size_t *nnamesp)
    TOK_WUR;

/*
 * fido_unix_present: 1 when something accepts a connection on name's
 * socket ("unix:PATH" or a bare PATH), else 0.  The connection is closed
 * at once: an authenticator sees a plug and an unplug.
 */
int fido_unix_present(const char *name);

/* fido_unix_free_list: free what fido_unix_parse_list made.  NULL is accepted. */
void fido_unix_free_list(char **names, size_t nnames);


#endif /* SK_FIDO_UNIX_H */
