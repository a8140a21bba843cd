/*
 * Supervision of token helpers from the agent side: spawn, request/reply
 * over the IPC socket (common/ipc.h), time-outs, restart.  Every reply is
 * delivered through a callback from the event loop; nothing here blocks.
 */
#ifndef AGENT_HELPER_H
#define AGENT_HELPER_H

#include <stdint.h>

struct buf;
struct helper;

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

/*
 * helper_spawn: start program prog (found by helper_find_program) with
 * argv (argv[0] included, NULL-terminated), the IPC socket on fd 3.
 * name is for logs.  The helper is restarted when it dies, with back-off.
 * Returns NULL on failure (logged).
 */
struct helper *helper_spawn(const char *name, const char *prog,
    char *const argv[], helper_event_cb *ecb, helper_restart_cb *rcb,
    void *arg);
/*
 * helper_request: send type + payload (may be NULL), calling cb(arg) with
 * the reply; after timeout_ms (0: none) the request fails with
 * TOK_ERR_TIMEOUT and the helper is considered hung and restarted.
 * *idp (may be NULL) gets the id for helper_cancel.  Returns 0, or an error
 * (then cb is never called).
 */
int helper_request(struct helper *h, uint8_t type, const struct buf *payload,
    uint64_t timeout_ms, helper_reply_cb *cb, void *arg, uint32_t *idp)
    __attribute__((warn_unused_result));
/* helper_cancel: forget request id (cb will not be called) and tell the helper. */
void helper_cancel(struct helper *h, uint32_t id);
/*
 * helper_running: 1 while h's process is up; 0 between its death and its
 * restart (its keys are then not offered).
 */
int helper_running(const struct helper *h);
/* helper_name: the name given at spawn. */
const char *helper_name(const struct helper *h);
/* helper_stop: terminate the helper, fail its requests, free it.  NULL ok. */
void helper_stop(struct helper *h);
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
