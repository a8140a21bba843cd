/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Key constraints sent with ADD_ID_CONSTRAINED and
 * ADD_SMARTCARD_KEY_CONSTRAINED: lifetime, confirm, and the extensions
 * sk-provider@openssh.com, restrict-destination-v00@openssh.com and
 * associated-certs-v00@openssh.com.  Unknown or repeated constraints and
 * malformed bodies make the whole add fail.
 */
#ifndef AGENT_CONSTRAINTS_H
#define AGENT_CONSTRAINTS_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

struct buf;
struct key;
struct dest_constraints;

#define CONSTRAINTS_MAX_CERTS	1024

struct constraints {
	int has_lifetime;
	uint32_t lifetime;		/* seconds */
	int confirm;
	struct dest_constraints *dest;	/* owned; NULL when none */
	char *sk_provider;		/* owned; NULL when none */
	int certs_only;			/* associated-certs: hide plain keys */
	/*
	 * Owned; the certificates of associated-certs (plain keys in the
	 * list are skipped, as OpenSSH does).  Non-NULL whenever that
	 * extension was given, even with no certificate in it.
	 */
	struct key **certs;
	size_t ncerts;
};

/*
 * constraints_parse: parse every constraint left in m (all of it) into *c,
 * which is cleared first.  Returns 0 or a TOK_ERR_* code (with a log line
 * saying which constraint was bad); on failure *c holds nothing.
 */
int constraints_parse(struct buf *m, struct constraints *c)
    TOK_WUR;
/* constraints_clear: free what c owns and zero it. */
void constraints_clear(struct constraints *c);

#endif /* AGENT_CONSTRAINTS_H */
