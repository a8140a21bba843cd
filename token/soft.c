/*
 * The software token (see soft.h).  Keys sit in a slot array indexed by
 * their handle, so signing costs the same with 10 keys or 10,000.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"
#include "token/soft.h"

#define SOFT_MAX_KEYS	(1024 * 1024)

struct soft_token {
	struct key **slots;	/* handle h is slots[h - 1] */
	size_t nslots;
	size_t nused;
	size_t free_hint;	/* lowest slot that may be free */
};

struct soft_token *
soft_token_new(void)
{
	return calloc(1, sizeof(struct soft_token));
}

static void
soft_drop_all(struct soft_token *st)
{
	size_t i;

	for (i = 0; i < st->nslots; i++) {
		key_free(st->slots[i]);
		st->slots[i] = NULL;
	}
	st->nused = 0;
	st->free_hint = 0;
}

void
soft_token_free(struct soft_token *st)
{
	if (st == NULL)
		return;
	soft_drop_all(st);
	free(st->slots);
	free(st);
}

static int
soft_store(struct soft_token *st, struct key *k, uint64_t *handlep)
{
	struct key **tmp;
	size_t i, n;

	*handlep = 0;
	for (i = st->free_hint; i < st->nslots; i++) {
		if (st->slots[i] == NULL)
			goto found;
	}
	if (st->nslots >= SOFT_MAX_KEYS)
		return TOK_ERR_NO_BUFFER_SPACE;
	n = st->nslots == 0 ? 64 : st->nslots * 2;
	if ((tmp = recallocarray(st->slots, st->nslots, n,
	    sizeof(*st->slots))) == NULL)
		return TOK_ERR_ALLOC;
	st->slots = tmp;
	i = st->nslots;
	st->nslots = n;
 found:
	st->slots[i] = k;
	st->nused++;
	st->free_hint = i + 1;
	*handlep = (uint64_t)i + 1;
	return 0;
}

static struct key *
soft_lookup(struct soft_token *st, uint64_t handle)
{
	if (handle == 0 || handle > st->nslots)
		return NULL;
	return st->slots[handle - 1];
}

static int
soft_add(struct soft_token *st, struct buf *req, uint8_t *rtypep,
    struct buf *reply)
{
	struct buf *body = NULL;
	struct key *k = NULL;
	char *comment = NULL;
	uint64_t handle;
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
	if ((r = soft_store(st, k, &handle)) != 0)
		goto out;
	if ((r = buf_put_u64(reply, handle)) != 0 ||
	    (r = key_puts(k, reply)) != 0 ||
	    (r = buf_put_cstring(reply, comment)) != 0 ||
	    (r = buf_put_u32(reply, (uint32_t)(total - buf_len(body)))) != 0) {
		st->slots[handle - 1] = NULL;
		st->nused--;
		goto out;
	}
	k = NULL;
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
	if ((k = soft_lookup(st, handle)) == NULL)
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
soft_drop(struct soft_token *st, struct buf *req, uint8_t *rtypep)
{
	uint64_t handle;
	int r;

	if ((r = buf_get_u64(req, &handle)) != 0 ||
	    (r = buf_expect_empty(req)) != 0)
		return r;
	if (soft_lookup(st, handle) == NULL)
		return TOK_ERR_KEY_NOT_FOUND;
	key_free(st->slots[handle - 1]);
	st->slots[handle - 1] = NULL;
	st->nused--;
	if (handle - 1 < st->free_hint)
		st->free_hint = handle - 1;
	*rtypep = IPC_OK;
	return 0;
}

static int
soft_handle(void *ctx, uint8_t type, struct buf *req, uint8_t *rtypep,
    struct buf *reply, char **detailp)
{
	struct soft_token *st = ctx;
	int r;

	(void)detailp;
	switch (type) {
	case IPC_ADD_KEY:
		return soft_add(st, req, rtypep, reply);
	case IPC_SIGN:
		return soft_sign(st, req, rtypep, reply);
	case IPC_DROP:
		return soft_drop(st, req, rtypep);
	case IPC_DROP_ALL:
		if ((r = buf_expect_empty(req)) != 0)
			return r;
		soft_drop_all(st);
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
