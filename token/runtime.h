/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The runtime every helper shares (soft, sk, p11, the PC/SC watcher): the
 * main skeleton and the IPC loop on fd 3.
 *
 * Start-up (token_helper_init): hardening, the flags every helper takes
 * (-d or -v, each once more verbose; logs go to stderr, which the agent
 * keeps), fd 3 checked to be the agent's socket, SIGPIPE ignored, and the
 * helper's IPC_HELLO sent (before any event a backend thread may send).
 *
 * The loop (token_helper_run) runs on the main thread and never does slow
 * work, so it can always answer:
 *   - it requires the agent's IPC_HELLO as the first message, carrying
 *     IPC_VERSION like the helper's; a mismatch is fatal with a message
 *     that says which versions met;
 *   - IPC_PING (the agent's heartbeat) is answered IPC_OK at once, however
 *     busy the backend is;
 *   - IPC_CANCEL removes the request from the queue if it has not started
 *     (it is then never answered: the agent forgot it), else it is passed
 *     to ops->cancel;
 *   - every other request is queued for the worker thread, which calls
 *     ops->handle for one request at a time, in order, and writes the
 *     reply.  A backend with threads of its own (the sk helper) has its
 *     handle called on the loop itself (handle_on_loop), queues the work
 *     there, returns TOKEN_REPLY_LATER and answers with token_send.
 * Device deadlines belong to the backend: the agent judges a helper by its
 * heartbeat only.
 */
#ifndef TOKEN_RUNTIME_H
#define TOKEN_RUNTIME_H

#include <stdint.h>

struct buf;

#define TOKEN_IPC_FD		3
#define TOKEN_REPLY_LATER	1	/* handle: the backend answers itself */

struct token_ops {
	const char *name;
	/*
	 * handle: serve request id of type with payload req (positioned after
	 * the header), on the worker thread.  Return 0 after setting *rtypep
	 * and appending the reply payload to reply; TOKEN_REPLY_LATER when
	 * the backend will send the reply for id itself (token_send); or a
	 * TOK_ERR_* code, answered IPC_FAILURE with *detailp (initially NULL;
	 * may be set to a new string for the agent's log).
	 */
	int (*handle)(void *ctx, uint32_t id, uint8_t type, struct buf *req,
	    uint8_t *rtypep, struct buf *reply, char **detailp);
	/*
	 * handle_on_loop: handle never blocks (it only queues work for
	 * threads of the backend's own, like the sk helper's token
	 * workers): the loop calls it itself, sparing a thread hand-off.
	 */
	int handle_on_loop;
	/*
	 * quick: optional, loop thread: 1 when serving this request takes
	 * no more than a few milliseconds.  The loop then serves it itself
	 * when nothing else waits (no queued or running request, no more
	 * input), sparing the hand-off; else it goes to the worker as usual.
	 */
	int (*quick)(void *ctx, uint8_t type, const struct buf *req);
	/* cancel: optional, loop thread: stop request id if it runs. */
	void (*cancel)(void *ctx, uint32_t id);
	/* event: optional, worker thread: the event fd became readable. */
	void (*event)(void *ctx);
};

/*
 * token_helper_init: the common start of every helper's main().  name is
 * the program name for logs, usage the text after the flags ("" when the
 * helper takes no argument) and nargs how many arguments it takes.  On
 * return *argvp points at them.  Exits with a usage line on bad flags.
 */
void token_helper_init(int argc, char **argv, const char *name,
    const char *usage, int nargs, char ***argvp);
/*
 * token_helper_run: exchange hellos with the agent, then serve requests
 * until the agent closes the socket.  Returns 0 on a clean end of input,
 * else an error (logged).  Queued requests are dropped and the running one
 * is waited for before it returns.
 */
int token_helper_run(const struct token_ops *ops, void *ctx);
/*
 * token_set_event_fd: poll fd (-1: none) from now on and call ops->event
 * on the worker thread when it is readable.  Any thread.
 */
void token_set_event_fd(int fd);
/* token_send: write m (one IPC message, unframed) to the agent; any thread. */
void token_send(struct buf *m);
/*
 * token_send_failure: answer request id with IPC_FAILURE r and detail
 * (NULL: none; the agent then names the request itself); any thread.
 */
void token_send_failure(uint32_t id, int r, const char *detail);

#endif /* TOKEN_RUNTIME_H */
