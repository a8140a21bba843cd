/* The software token (see soft.h): software keys by handle, signing. */
#include "config.h"

#include <stdlib.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"
#include "token/keystore.h"
#include "token/soft.h"

struct soft_token {
	struct keystore *keys;
};

struct soft_token *
soft_token_new(void)
{
	struct soft_token *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if ((st->keys = keystore_new()) == NULL) {
		free(st);
		return NULL;
	}
	return st;
}

void
soft_token_free(struct soft_token *st)
{
	if (st == NULL)
		return;
	keystore_free(st->keys);
	free(st);
}

static int
soft_add(struct soft_token *st, struct buf *req, uint8_t *rtypep,
    struct buf *reply)
{
	struct buf *body = NULL;
	struct key *k = NULL, *stored;
	char *comment = NULL;
	uint64_t handle = 0;
	size_t total;
	int r;

	if ((r = buf_froms(req, &body)) != 0 ||
	    (r = buf_expect_empty(req)) != 0)
		goto out;
	total = buf_len(body);
	if ((r = key_private_from_agent(body, &k, &comment)) != 0)
		goto out;
	if (key_is_sk(k) || !key_has_private(k)) {
		r = TOK_ERR_KEY_TYPE_MISMATCH;
		goto out;
	}
	if ((r = keystore_add(st->keys, k, &handle)) != 0)
		goto out;
	stored = k;
	k = NULL;
	if ((r = buf_put_u64(reply, handle)) != 0 ||
	    (r = key_puts(stored, reply)) != 0 ||
	    (r = buf_put_cstring(reply, comment)) != 0 ||
	    (r = buf_put_u32(reply, (uint32_t)(total - buf_len(body)))) != 0) {
		(void)keystore_drop(st->keys, handle);
		goto out;
	}
	*rtypep = IPC_KEY;
	r = 0;
 out:
	key_free(k);
	free(comment);
	buf_free(body);
	return r;
}

static int
soft_sign(struct soft_token *st, struct buf *req, uint8_t *rtypep,
    struct buf *reply)
{
	const u_char *data;
	size_t len;
	uint64_t handle;
	uint32_t flags;
	struct key *k;
	struct buf *sig = NULL;
	int r;

	if ((r = buf_get_u64(req, &handle)) != 0 ||
	    (r = buf_get_string_direct(req, &data, &len)) != 0 ||
	    (r = buf_get_u32(req, &flags)) != 0 ||
	    (r = buf_get_string_direct(req, NULL, NULL)) != 0 ||
	    (r = buf_expect_empty(req)) != 0)
		return r;
	if ((k = keystore_get(st->keys, handle)) == NULL)
		return TOK_ERR_KEY_NOT_FOUND;
	if ((sig = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = key_sign(k, data, len, flags, sig)) == 0 &&
	    (r = buf_put_stringb(reply, sig)) == 0)
		*rtypep = IPC_SIGNATURE;
	buf_free(sig);
	return r;
}

static int
soft_handle(void *ctx, uint8_t type, struct buf *req, uint8_t *rtypep,
    struct buf *reply, char **detailp)
{
	struct soft_token *st = ctx;
	uint64_t handle;
	int r;

	(void)detailp;
	switch (type) {
	case IPC_ADD_KEY:
		return soft_add(st, req, rtypep, reply);
	case IPC_SIGN:
		return soft_sign(st, req, rtypep, reply);
	case IPC_DROP:
		if ((r = buf_get_u64(req, &handle)) != 0 ||
		    (r = buf_expect_empty(req)) != 0 ||
		    (r = keystore_drop(st->keys, handle)) != 0)
			return r;
		*rtypep = IPC_OK;
		return 0;
	case IPC_DROP_ALL:
		if ((r = buf_expect_empty(req)) != 0)
			return r;
		keystore_drop_all(st->keys);
		*rtypep = IPC_OK;
		return 0;
	default:
		return TOK_ERR_FEATURE_UNSUPPORTED;
	}
}

const struct token_ops soft_token_ops = {
	.name = "soft",
	.handle = soft_handle,
};
