/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Keys by handle (see keystore.h). */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "token/keystore.h"

#define KEYSTORE_MAX	(1024 * 1024)

struct keystore {
	struct key **slots;	/* handle h is slots[h - 1] */
	size_t nslots;
	size_t free_hint;	/* no free slot below this one */
};

struct keystore *
keystore_new(void)
{
	return calloc(1, sizeof(struct keystore));
}

void
keystore_drop_all(struct keystore *ks)
{
	size_t i;

	for (i = 0; i < ks->nslots; i++) {
		key_free(ks->slots[i]);
		ks->slots[i] = NULL;
	}
	ks->free_hint = 0;
}

void
keystore_free(struct keystore *ks)
{
	if (ks == NULL)
		return;
	keystore_drop_all(ks);
	free(ks->slots);
	free(ks);
}

int
keystore_add(struct keystore *ks, struct key *k, uint64_t *handlep)
{
	struct key **tmp;
	size_t i, n;

	*handlep = 0;
	for (i = ks->free_hint; i < ks->nslots; i++) {
		if (ks->slots[i] == NULL)
			goto found;
	}
	if (ks->nslots >= KEYSTORE_MAX)
		return TOK_ERR_NO_BUFFER_SPACE;
	n = ks->nslots == 0 ? 64 : ks->nslots * 2;
	if ((tmp = recallocarray(ks->slots, ks->nslots, n,
	    sizeof(*ks->slots))) == NULL)
		return TOK_ERR_ALLOC;
	ks->slots = tmp;
	i = ks->nslots;
	ks->nslots = n;
 found:
	ks->slots[i] = k;
	ks->free_hint = i + 1;
	*handlep = (uint64_t)i + 1;
	return 0;
}

struct key *
keystore_get(struct keystore *ks, uint64_t handle)
{
	if (handle == 0 || handle > ks->nslots)
		return NULL;
	return ks->slots[handle - 1];
}

int
keystore_drop(struct keystore *ks, uint64_t handle)
{
	if (keystore_get(ks, handle) == NULL)
		return TOK_ERR_KEY_NOT_FOUND;
	key_free(ks->slots[handle - 1]);
	ks->slots[handle - 1] = NULL;
	if (handle - 1 < ks->free_hint)
		ks->free_hint = handle - 1;
	return 0;
}

int
keystore_add_from_agent(struct keystore *ks, pthread_mutex_t *lock,
    enum keystore_kind kind, struct buf *req, struct buf *reply)
{
	struct buf *body = NULL;
	struct key *k = NULL, *stored;
	const u_char *kh;
	char *comment = NULL;
	uint64_t handle = 0;
	size_t total, khlen;
	int r;

	if ((r = buf_froms(req, &body)) != 0 ||
	    (r = buf_expect_empty(req)) != 0)
		goto out;
	total = buf_len(body);
	if ((r = key_private_from_agent(body, &k, &comment)) != 0)
		goto out;
	if (kind == KEYSTORE_SK ? (!key_is_sk(k) ||
	    key_sk_key_handle(k, &kh, &khlen) != 0) :
	    (key_is_sk(k) || !key_has_private(k))) {
		r = TOK_ERR_KEY_TYPE_MISMATCH;
		goto out;
	}
	if (lock != NULL)
		pthread_mutex_lock(lock);
	r = keystore_add(ks, k, &handle);
	if (lock != NULL)
		pthread_mutex_unlock(lock);
	if (r != 0)
		goto out;
	stored = k;
	k = NULL;
	if ((r = buf_put_u64(reply, handle)) != 0 ||
	    (r = key_puts(stored, reply)) != 0 ||
	    (r = buf_put_cstring(reply, comment)) != 0 ||
	    (r = buf_put_u32(reply, (uint32_t)(total - buf_len(body)))) != 0) {
		if (lock != NULL)
			pthread_mutex_lock(lock);
		(void)keystore_drop(ks, handle);
		if (lock != NULL)
			pthread_mutex_unlock(lock);
	}
 out:
	key_free(k);
	free(comment);
	buf_free(body);
	return r;
}
