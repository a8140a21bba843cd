/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Parsing key constraints (see constraints.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/constraints.h"
#include "agent/dest.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/log.h"

#define EXT_SK_PROVIDER		"sk-provider@openssh.com"
#define EXT_ASSOCIATED_CERTS	"associated-certs-v00@openssh.com"

void
constraints_clear(struct constraints *c)
{
	size_t i;

	dest_constraints_free(c->dest);
	free(c->sk_provider);
	for (i = 0; i < c->ncerts; i++)
		key_free(c->certs[i]);
	free(c->certs);
	memset(c, 0, sizeof(*c));
}

static int
constraints_parse_certs(struct buf *m, struct constraints *c)
{
	struct buf *certs = NULL;
	struct key *k = NULL, **tmp;
	uint8_t certs_only;
	size_t nkeys = 0;
	int r;

	if ((r = buf_get_u8(m, &certs_only)) != 0 ||
	    (r = buf_froms(m, &certs)) != 0)
		goto out;
	c->certs_only = certs_only != 0;
	/* Non-NULL from here on: the extension was given, even if empty. */
	if ((c->certs = calloc(1, sizeof(*c->certs))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	while (buf_len(certs) > 0) {
		/* The cap counts every key sent, as OpenSSH's does. */
		if (nkeys++ >= CONSTRAINTS_MAX_CERTS) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		if ((r = key_froms(certs, &k)) != 0)
			goto out;
		/*
		 * ssh-add -s MODULE ~/.ssh/ *.pub sends plain keys too;
		 * OpenSSH's agent passes over them, and so do we.
		 */
		if (!key_is_cert(k)) {
			debug_f("skipping %s: not a certificate",
			    key_type_name(k));
			key_free(k);
			k = NULL;
			continue;
		}
		if ((tmp = reallocarray(c->certs, c->ncerts + 1,
		    sizeof(*c->certs))) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		c->certs = tmp;
		c->certs[c->ncerts++] = k;
		k = NULL;
	}
	r = 0;
 out:
	key_free(k);
	buf_free(certs);
	return r;
}

static int
constraints_parse_extension(struct buf *m, struct constraints *c)
{
	char *name = NULL;
	int r;

	if ((r = buf_get_cstring(m, &name, NULL)) != 0)
		goto out;
	if (strcmp(name, EXT_SK_PROVIDER) == 0) {
		if (c->sk_provider != NULL) {
			r = TOK_ERR_INVALID_FORMAT;
			goto dup;
		}
		r = buf_get_cstring(m, &c->sk_provider, NULL);
	} else if (strcmp(name, DEST_CONSTRAINT_NAME) == 0) {
		if (c->dest != NULL) {
			r = TOK_ERR_INVALID_FORMAT;
			goto dup;
		}
		r = dest_constraints_parse(m, &c->dest);
	} else if (strcmp(name, EXT_ASSOCIATED_CERTS) == 0) {
		if (c->certs != NULL) {
			r = TOK_ERR_INVALID_FORMAT;
			goto dup;
		}
		r = constraints_parse_certs(m, c);
	} else {
		error("unsupported constraint extension \"%s\"", name);
		r = TOK_ERR_FEATURE_UNSUPPORTED;
	}
	if (r != 0)
		error_fr(r, "constraint %s", name);
	goto out;
 dup:
	error("constraint %s given twice", name);
 out:
	free(name);
	return r;
}

int
constraints_parse(struct buf *m, struct constraints *c)
{
	uint8_t ctype;
	int r = TOK_ERR_INTERNAL;

	memset(c, 0, sizeof(*c));
	while (buf_len(m) > 0) {
		if ((r = buf_get_u8(m, &ctype)) != 0)
			goto out;
		switch (ctype) {
		case SSH_AGENT_CONSTRAIN_LIFETIME:
			if (c->has_lifetime) {
				error("lifetime constraint given twice");
				r = TOK_ERR_INVALID_FORMAT;
				goto out;
			}
			if ((r = buf_get_u32(m, &c->lifetime)) != 0)
				goto out;
			c->has_lifetime = 1;
			break;
		case SSH_AGENT_CONSTRAIN_CONFIRM:
			if (c->confirm) {
				error("confirm constraint given twice");
				r = TOK_ERR_INVALID_FORMAT;
				goto out;
			}
			c->confirm = 1;
			break;
		case SSH_AGENT_CONSTRAIN_EXTENSION:
			if ((r = constraints_parse_extension(m, c)) != 0)
				goto out;
			break;
		default:
			error("unknown constraint type %u", ctype);
			r = TOK_ERR_FEATURE_UNSUPPORTED;
			goto out;
		}
	}
	r = 0;
 out:
	if (r != 0)
		constraints_clear(c);
	return r;
}
