/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Supervision of token helpers from the agent side: spawn, the IPC hello
 * (protocol version), request/reply over the IPC socket (common/ipc.h),
 * liveness, restart.  Every reply is delivered through a callback from the
 * event loop; nothing here blocks.
 *
 * Deadlines: a helper bounds its own device operations.  The agent judges
 * a helper only by its heartbeat: while requests wait, it is sent IPC_PING
 * every few seconds (TOKAGENT_HELPER_PING_MS, default 5000), which the
 * helper runtime's loop answers however busy the helper is; a helper that
 * leaves one unanswered for two whole periods is replaced (SIGTERM, then
 * SIGKILL after a short grace) and restarted.  How long a request waits
 * in a queue is never held against a helper.
 */
#ifndef AGENT_HELPER_H
#define AGENT_HELPER_H

#include <sys/types.h>

#include "common/err.h"

#include <stdint.h>

struct backend;
struct buf;
struct helper;

/*
 * A note from a helper about one of its requests, on the way to its
 * requester: the token waits for a touch (value 1) or no longer (0), or
 * several tokens wait for the touch that shows which one holds the key
 * (value HELPER_TOUCH_SELECT; device and name are then "*"), or
 * the request is about to fail for want of a PIN (value: tries left, or
 * HELPER_RETRIES_UNKNOWN).  device and name (the token for people) live
 * as long as the call.
 */
enum helper_note_type {
	HELPER_NOTE_TOUCH = 1,
	HELPER_NOTE_PIN_WANTED,
};
#define HELPER_RETRIES_UNKNOWN	0xffffffffU
#define HELPER_TOUCH_SELECT	2
#define HELPER_MAX_KEYS		4096	/* keys one helper may report at once */

struct helper_note {
	enum helper_note_type type;
	const char *device;
	const char *name;
	uint32_t value;
};

/*
 * Reply callback.  r is 0 and type/payload are the reply (payload positioned
 * after the header; owned by the caller of the callback, valid only during
 * it) or r is an error (IPC_FAILURE from the helper, TOK_ERR_HELPER_DIED,
 * TOK_ERR_TIMEOUT) with type 0 and payload NULL.  detail is the helper's
 * text for a failure, or NULL.
 */
typedef void helper_reply_cb(int r, uint8_t type, struct buf *payload,
    const char *detail, void *arg);
/* Unsolicited event callback (IPC_EVENT and the like); payload as above. */
typedef void helper_event_cb(struct helper *h, uint8_t type,
    struct buf *payload, void *arg);
/* Called after the helper was restarted (its state is gone). */
typedef void helper_restart_cb(struct helper *h, void *arg);
/* A note about a request, for its requester (see struct helper_note). */
typedef void helper_note_cb(const struct helper_note *note, void *arg);

/*
 * helper_spawn: start program prog (found by helper_find_program) with
 * argv (argv[0] included, NULL-terminated), the IPC socket on fd 3.
 * backend is the ops table of its kind (agent/backend.h; it must outlive
 * the helper), name is for logs.  The helper is restarted when it dies,
 * with back-off.  Returns NULL on failure (logged).
 */
struct helper *helper_spawn(const struct backend *backend, const char *name,
    const char *prog, char *const argv[], helper_event_cb *ecb,
    helper_restart_cb *rcb, void *arg);
/*
 * helper_request: send type + payload (may be NULL), calling cb(arg) (may
 * be NULL) with the reply, which comes however long the helper takes, or
 * TOK_ERR_HELPER_DIED.  *idp (may be NULL) gets the id for helper_cancel.
 * Returns 0, or an error (then cb is never called).
 */
int helper_request(struct helper *h, uint8_t type, const struct buf *payload,
    helper_reply_cb *cb, void *arg, uint32_t *idp)
    TOK_WUR;
/*
 * helper_request_notes: as helper_request; notes about the request
 * (helper_note) reach ncb(note, arg) while it waits.
 */
int helper_request_notes(struct helper *h, uint8_t type,
    const struct buf *payload, helper_reply_cb *cb, helper_note_cb *ncb,
    void *arg, uint32_t *idp) TOK_WUR;
/*
 * helper_get_note: a note event from a helper, m after its type: uint32
 * request id, string device, string name (helper_get_name), then for
 * HELPER_NOTE_TOUCH a byte (at most max_touch), for HELPER_NOTE_PIN_WANTED
 * a uint32 of tries left; nothing after.  Handed to the request's
 * requester (a late note, for a request that no longer waits, is
 * dropped).  Returns 0 or an error for a malformed event.
 */
int helper_get_note(struct helper *h, enum helper_note_type type,
    uint8_t max_touch, struct buf *m);
/* helper_cancel: forget request id (cb will not be called) and tell the helper. */
void helper_cancel(struct helper *h, uint32_t id);
/*
 * helper_running: 1 while h's process is up; 0 between its death and its
 * restart (its keys are then not offered).
 */
int helper_running(const struct helper *h);
/*
 * helper_get_name: a device, card or token name from a helper's message:
 * 1..HELPER_NAME_MAX bytes, no control bytes.  *sp is a new string, or NULL with an
 * error (TOK_ERR_INVALID_FORMAT for a bad name).
 */
#define HELPER_NAME_MAX	256
int helper_get_name(struct buf *m, char **sp);
/*
 * helper_get_device_flag: a helper's "string device, string name, byte
 * 0 or 1" message (a token plugged or pulled, a PIN kept or not), nothing
 * after it.  *devicep and *namep are new strings (also on error: free
 * them).  Returns 0 or an error for a malformed message.
 */
int helper_get_device_flag(struct buf *m, char **devicep, char **namep,
    uint8_t *flagp);
/* helper_name: the name given at spawn. */
const char *helper_name(const struct helper *h);
/* helper_backend: the ops table given at spawn (NULL for h NULL). */
const struct backend *helper_backend(const struct helper *h);
/*
 * helper_health: for tokagent status: the helper's pid (0 when not
 * running), its requests in flight, and how often it died.
 */
void helper_health(const struct helper *h, pid_t *pidp, u_int *inflightp,
    u_int *deathsp);
/* helper_stop: terminate the helper, fail its requests, free it.  NULL ok. */
void helper_stop(struct helper *h);
/*
 * helper_retire: the helper's last request: fail (TOK_ERR_CANCELLED) what
 * it still has, send type + payload, and when it answered (or died) stop
 * and free it as helper_stop; it is not restarted.  Its callbacks are not
 * called any more.  NULL ok.
 */
void helper_retire(struct helper *h, uint8_t type, const struct buf *payload);
/*
 * helper_find_program: the path of helper program name, from one place only:
 * the colon-separated directories of $TOKAGENT_HELPER_PATH when it is set;
 * else, for an agent installed as BINDIR/tokagent, LIBEXECDIR (with the
 * same prefix for a staged DESTDIR install); for an agent in a build tree,
 * that tree's token/, sk/, pkcs/ and agent/ folders (see progdir.h).
 * Returns a new string, or NULL when there is no executable of that name.
 */
char *helper_find_program(const char *name);

#endif /* AGENT_HELPER_H */
