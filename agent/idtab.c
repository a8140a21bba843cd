/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The identity table (see idtab.h): a chained hash plus an ordered list. */
#include "config.h"

#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>

#include "agent/dest.h"
#include "agent/idtab.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"

struct idtab {
	struct identity **buckets;
	size_t nbuckets;		/* a power of two */
	size_t count;
	TAILQ_HEAD(, identity) list;
};

/* FNV-1a over the blob's tail: key material differs there, not in the type prefix. */
static uint32_t
idtab_hash(const u_char *p, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i, start = len > 64 ? len - 64 : 0;

	for (i = start; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h ^ (uint32_t)len;
}

struct idtab *
idtab_new(void)
{
	struct idtab *tab;

	if ((tab = calloc(1, sizeof(*tab))) == NULL)
		return NULL;
	tab->nbuckets = 64;
	if ((tab->buckets = calloc(tab->nbuckets,
	    sizeof(*tab->buckets))) == NULL) {
		free(tab);
		return NULL;
	}
	TAILQ_INIT(&tab->list);
	return tab;
}

void
identity_free(struct identity *id)
{
	if (id == NULL)
		return;
	key_free(id->key);
	buf_free(id->blob);
	free(id->comment);
	free(id->fingerprint);
	free(id->provider);
	free(id->sk_provider);
	free(id->token_serial);
	buf_free(id->readd);
	dest_constraints_free(id->dest);
	freezero(id, sizeof(*id));
}

void
idtab_free(struct idtab *tab)
{
	struct identity *id;

	if (tab == NULL)
		return;
	while ((id = TAILQ_FIRST(&tab->list)) != NULL) {
		idtab_unlink(tab, id);
		identity_free(id);
	}
	free(tab->buckets);
	free(tab);
}

size_t
idtab_count(const struct idtab *tab)
{
	return tab->count;
}

struct identity *
idtab_first(struct idtab *tab)
{
	return TAILQ_FIRST(&tab->list);
}

struct identity *
idtab_next(struct identity *id)
{
	return TAILQ_NEXT(id, entry);
}

struct identity *
idtab_lookup(struct idtab *tab, const u_char *blob, size_t len)
{
	uint32_t h = idtab_hash(blob, len);
	struct identity *id;

	for (id = tab->buckets[h & (tab->nbuckets - 1)]; id != NULL;
	    id = id->hnext) {
		if (id->hash == h && buf_len(id->blob) == len &&
		    memcmp(buf_ptr(id->blob), blob, len) == 0)
			return id;
	}
	return NULL;
}

static int
idtab_grow(struct idtab *tab)
{
	struct identity **nb, *id;
	size_t n = tab->nbuckets * 2, i;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return TOK_ERR_ALLOC;
	TAILQ_FOREACH(id, &tab->list, entry) {
		i = id->hash & (n - 1);
		id->hnext = nb[i];
		nb[i] = id;
	}
	free(tab->buckets);
	tab->buckets = nb;
	tab->nbuckets = n;
	return 0;
}

int
idtab_insert(struct idtab *tab, struct identity *id)
{
	size_t i;
	int r;

	if (tab->count >= tab->nbuckets && (r = idtab_grow(tab)) != 0)
		return r;
	id->hash = idtab_hash(buf_ptr(id->blob), buf_len(id->blob));
	i = id->hash & (tab->nbuckets - 1);
	id->hnext = tab->buckets[i];
	tab->buckets[i] = id;
	TAILQ_INSERT_TAIL(&tab->list, id, entry);
	tab->count++;
	return 0;
}

void
idtab_unlink(struct idtab *tab, struct identity *id)
{
	struct identity **pp;

	for (pp = &tab->buckets[id->hash & (tab->nbuckets - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == id) {
			*pp = id->hnext;
			break;
		}
	}
	id->hnext = NULL;
	TAILQ_REMOVE(&tab->list, id, entry);
	tab->count--;
}
