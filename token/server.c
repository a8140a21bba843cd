/* The token helper IPC server loop (see server.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/ipc.h"
#include "common/log.h"
#include "token/server.h"

#define SERVER_READ_CHUNK	65536

static int
server_write_all(int fd, struct buf *out)
{
	ssize_t n;

	while (buf_len(out) > 0) {
		n = write(fd, buf_ptr(out), buf_len(out));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return TOK_ERR_SYSTEM;
		if (buf_consume(out, (size_t)n) != 0)
			return TOK_ERR_INTERNAL;
	}
	return 0;
}

static int
server_handle(const struct token_ops *ops, void *ctx, struct buf *m,
    struct buf *reply, struct buf *payload)
{
	uint32_t id;
	uint8_t type, rtype = 0;
	char *detail = NULL;
	int r;

	if ((r = ipc_msg_header(m, &id, &type)) != 0)
		return r;
	if (type == IPC_CANCEL)
		return 0;	/* nothing here waits long enough to cancel */
	buf_reset(payload);
	r = ops->handle(ctx, type, m, &rtype, payload, &detail);
	if (r == 0) {
		if ((r = ipc_msg_start(reply, id, rtype)) != 0 ||
		    (r = buf_putb(reply, payload)) != 0)
			return r;
	} else {
		debug_f("%s: request %u type %u: %s%s%s", ops->name, id, type,
		    tok_strerror(r), detail ? ": " : "", detail ? detail : "");
		if ((r = ipc_msg_failure(reply, id, r, detail)) != 0) {
			free(detail);
			return r;
		}
	}
	free(detail);
	return 0;
}

int
token_server_run(int fd, const struct token_ops *ops, void *ctx)
{
	struct buf *in = NULL, *out = NULL, *reply = NULL, *payload = NULL;
	struct buf *m = NULL;
	u_char *p;
	ssize_t n;
	int r = TOK_ERR_INTERNAL;

	if ((in = buf_new()) == NULL || (out = buf_new()) == NULL ||
	    (reply = buf_new()) == NULL || (payload = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	for (;;) {
		if ((r = buf_reserve(in, SERVER_READ_CHUNK, &p)) != 0)
			goto out;
		n = read(fd, p, SERVER_READ_CHUNK);
		if (buf_consume_end(in, SERVER_READ_CHUNK -
		    (n > 0 ? (size_t)n : 0)) != 0)
			fatal_f("buffer accounting");
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 ? 0 : TOK_ERR_SYSTEM;
			goto out;
		}
		/* Answer every complete request, then write the batch at once. */
		for (;;) {
			if ((r = frame_take(in, IPC_MSG_MAX, &m)) != 0) {
				error_fr(r, "%s: bad frame from agent",
				    ops->name);
				goto out;
			}
			if (m == NULL)
				break;
			r = server_handle(ops, ctx, m, reply, payload);
			buf_free(m);
			m = NULL;
			if (r != 0) {
				error_fr(r, "%s: bad request from agent",
				    ops->name);
				goto out;
			}
			if (buf_len(reply) > 0 &&
			    (r = frame_put(out, reply)) != 0)
				goto out;
			buf_reset(reply);
		}
		if ((r = server_write_all(fd, out)) != 0)
			goto out;
	}
 out:
	buf_free(m);
	buf_free(in);
	buf_free(out);
	buf_free(reply);
	buf_free(payload);
	return r;
}
