/*
 * What every token helper shares: the IPC server loop on fd 3 and the ops
 * table a backend fills in.  The loop reads framed requests from the agent,
 * hands each to the backend, and writes the reply (or IPC_FAILURE) with
 * the request's id.  It returns when the agent closes the socket.
 */
#ifndef TOKEN_SERVER_H
#define TOKEN_SERVER_H

#include <stdint.h>

struct buf;

#define TOKEN_IPC_FD	3

struct token_ops {
	const char *name;
	/*
	 * handle: serve request type with payload req (positioned after the
	 * header).  On success return 0 after setting *rtypep and appending the
	 * reply payload to reply.  On failure return a TOK_ERR_* code; *detailp
	 * (initially NULL) may be set to a new string for the agent's log.
	 */
	int (*handle)(void *ctx, uint8_t type, struct buf *req,
	    uint8_t *rtypep, struct buf *reply, char **detailp);
};

/*
 * token_server_run: serve requests on fd until the agent goes away.
 * Returns 0 on a clean end of input, else an error (logged).
 */
int token_server_run(int fd, const struct token_ops *ops, void *ctx);

#endif /* TOKEN_SERVER_H */
