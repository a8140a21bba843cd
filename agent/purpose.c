/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* What a sign request is for (see purpose.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/conn.h"
#include "agent/dest.h"
#include "agent/idtab.h"
#include "agent/purpose.h"
#include "agent/userauth.h"
#include "common/buf.h"
#include "common/key.h"

#define SSHSIG_MAGIC		"SSHSIG"
#define SSHSIG_MAX_NAMESPACE	1024

char *
purpose_sshsig_namespace(const u_char *data, size_t len)
{
	struct buf *b;
	char *ns = NULL;
	const u_char *v;
	size_t vlen, nslen;

	if (len < 6 || memcmp(data, SSHSIG_MAGIC, 6) != 0 ||
	    (b = buf_from(data + 6, len - 6)) == NULL)
		return NULL;
	/* The whole blob must be well formed, not just its start. */
	if (buf_get_cstring(b, &ns, &nslen) != 0 ||
	    nslen > SSHSIG_MAX_NAMESPACE ||
	    buf_get_string_direct(b, &v, &vlen) != 0 ||	/* reserved */
	    buf_get_string_direct(b, &v, &vlen) != 0 ||	/* hash algorithm */
	    buf_get_string_direct(b, &v, &vlen) != 0 ||	/* hash */
	    buf_expect_empty(b) != 0) {
		free(ns);
		ns = NULL;
	}
	buf_free(b);
	return ns;
}

struct purpose *
purpose_read(const struct conn *c, const u_char *data, size_t len,
    const struct userauth_request *req)
{
	const struct key *hk = NULL;
	struct purpose *p;
	size_t i, n;
	int fwd;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	n = dest_bindings_count(c->bindings);
	p->hops = n;
	p->bound = n > 0;
	for (i = 0; i < n; i++) {
		hk = dest_bindings_hostkey(c->bindings, i, &fwd);
		if (fwd || i > 0)
			p->forwarded = 1;
	}
	if ((p->sshsig_namespace = purpose_sshsig_namespace(data,
	    len)) != NULL)
		p->use = POLICY_USE_SSHSIG;
	else if (req != NULL) {
		p->use = POLICY_USE_LOGIN;
		if ((p->user = strdup(userauth_user(req))) == NULL)
			goto fail;
	}
	if (hk != NULL) {
		if (key_fingerprint(hk, &p->hostkey_fp) != 0)
			p->hostkey_fp = NULL;
		if (dest_hostkey_name(hk, NULL, NULL, &p->host) != 0)
			p->host = NULL;
	}
	n = 0;
	if (p->host != NULL)
		p->hosts[n++] = p->host;
	if (p->hostkey_fp != NULL)
		p->hosts[n++] = p->hostkey_fp;
	p->hosts[n] = NULL;
	return p;
 fail:
	purpose_free(p);
	return NULL;
}

void
purpose_free(struct purpose *p)
{
	if (p == NULL)
		return;
	free(p->sshsig_namespace);
	free(p->user);
	free(p->host);
	free(p->hostkey_fp);
	free(p);
}
