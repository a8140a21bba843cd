/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The software token (see soft.h): software keys by handle, signing. */
#include "config.h"

#include <stdlib.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"
#include "token/keystore.h"
#include "token/runtime.h"
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

	if ((r = ipc_get_sign(req, &handle, &data, &len, &flags)) != 0)
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
soft_handle(void *ctx, uint32_t id, uint8_t type, struct buf *req,
    uint8_t *rtypep, struct buf *reply, char **detailp)
{
	struct soft_token *st = ctx;
	uint64_t handle;
	int r;

	(void)id;
	(void)detailp;
	switch (type) {
	case IPC_ADD_KEY:
		if ((r = keystore_add_from_agent(st->keys, NULL,
		    KEYSTORE_SOFTWARE, req, reply)) != 0)
			return r;
		*rtypep = IPC_KEY;
		return 0;
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

/*
 * Signing with anything but a large RSA key takes well under a
 * millisecond: the runtime's loop may do it itself.  Adding a key is
 * left to the worker (an RSA key's checks take longer).
 */
static int
soft_quick(void *ctx, uint8_t type, const struct buf *req)
{
	struct soft_token *st = ctx;
	struct key *k;
	uint32_t hi, lo;

	switch (type) {
	case IPC_SIGN:
		if (buf_peek_u32(req, 0, &hi) != 0 ||
		    buf_peek_u32(req, 4, &lo) != 0 ||
		    (k = keystore_get(st->keys,
		    ((uint64_t)hi << 32) | lo)) == NULL)
			return 1;	/* fails at once */
		return key_type(k) != KEY_RSA || key_bits(k) <= 4096;
	case IPC_DROP:
	case IPC_DROP_ALL:
		return 1;
	default:
		return 0;
	}
}

const struct token_ops soft_token_ops = {
	.name = "soft",
	.handle = soft_handle,
	.quick = soft_quick,
};
