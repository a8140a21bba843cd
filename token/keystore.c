/* Keys by handle (see keystore.h). */
#include "config.h"

#include <stdlib.h>

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
