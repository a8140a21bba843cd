/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Destination constraints and session binding (see dest.h). */
#include "config.h"

#include <sys/types.h>
#include <ctype.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/sanitize.h"
#include "common/log.h"
#include "common/match.h"
#include "agent/dest.h"
#include "agent/userauth.h"

/* Longer known_hosts lines are skipped. */
#define DEST_KH_LINE_MAX	(64 * 1024)
#define DEST_KH_HASH_MAGIC	"|1|"
#define DEST_KH_SHA1_LEN	20

struct dest_hop {
	char *user;		/* NULL: any user */
	char *hostname;		/* NULL: the origin (from-hop only) */
	size_t nkeys;
	struct key **keys;
	int *key_is_ca;
};

struct dest_constraint {
	struct dest_hop from;
	struct dest_hop to;
};

struct dest_constraints {
	size_t n;
	struct dest_constraint *c;
};

struct dest_binding {
	struct key *key;
	u_char sid[DEST_MAX_SID_LEN];
	size_t sidlen;
	int forwarded;
};

struct dest_binding_set {
	size_t n;
	int bind_attempted;
	struct dest_binding b[DEST_MAX_BINDINGS];
};

/* ---- Constraint parsing ----------------------------------------------- */

static void
dest_hop_clear(struct dest_hop *hop)
{
	size_t i;

	free(hop->user);
	free(hop->hostname);
	for (i = 0; i < hop->nkeys; i++)
		key_free(hop->keys[i]);
	free(hop->keys);
	free(hop->key_is_ca);
	memset(hop, 0, sizeof(*hop));
}

void
dest_constraints_free(struct dest_constraints *dc)
{
	size_t i;

	if (dc == NULL)
		return;
	for (i = 0; i < dc->n; i++) {
		dest_hop_clear(&dc->c[i].from);
		dest_hop_clear(&dc->c[i].to);
	}
	free(dc->c);
	free(dc);
}

size_t
dest_constraints_count(const struct dest_constraints *dc)
{
	return dc == NULL ? 0 : dc->n;
}

/* A name of at most DEST_MAX_NAME_LEN bytes, no NUL; empty becomes NULL. */
static int
dest_get_name(struct buf *b, char **namep)
{
	uint32_t len;
	char *s = NULL;
	int r;

	*namep = NULL;
	if ((r = buf_peek_u32(b, 0, &len)) != 0)
		return r;
	if (len > DEST_MAX_NAME_LEN)
		return TOK_ERR_STRING_TOO_LARGE;
	if ((r = buf_get_cstring(b, &s, NULL)) != 0)
		return r;
	if (*s == '\0') {
		free(s);
		s = NULL;
	}
	*namep = s;
	return 0;
}

static int
dest_expect_empty_string(struct buf *b)
{
	size_t len;
	int r;

	if ((r = buf_get_string_direct(b, NULL, &len)) != 0)
		return r;
	return len == 0 ? 0 : TOK_ERR_FEATURE_UNSUPPORTED;
}

/* One hop; consumes all of b. */
static int
dest_parse_hop(struct buf *b, struct dest_hop *hop)
{
	struct key *k = NULL;
	struct key **keys;
	int *is_ca;
	size_t nalloc = 0, newalloc;
	uint8_t ca;
	int r = TOK_ERR_INTERNAL;

	memset(hop, 0, sizeof(*hop));
	if ((r = dest_get_name(b, &hop->user)) != 0 ||
	    (r = dest_get_name(b, &hop->hostname)) != 0 ||
	    (r = dest_expect_empty_string(b)) != 0)
		goto out;
	while (buf_len(b) != 0) {
		if (hop->nkeys >= DEST_MAX_HOP_KEYS) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		if ((r = key_froms(b, &k)) != 0 ||
		    (r = buf_get_u8(b, &ca)) != 0)
			goto out;
		if (hop->nkeys == nalloc) {
			newalloc = nalloc == 0 ? 4 : nalloc * 2;
			if (newalloc > DEST_MAX_HOP_KEYS)
				newalloc = DEST_MAX_HOP_KEYS;
			if ((keys = recallocarray(hop->keys, nalloc, newalloc,
			    sizeof(*keys))) == NULL) {
				r = TOK_ERR_ALLOC;
				goto out;
			}
			hop->keys = keys;
			if ((is_ca = recallocarray(hop->key_is_ca, nalloc,
			    newalloc, sizeof(*is_ca))) == NULL) {
				r = TOK_ERR_ALLOC;
				goto out;
			}
			hop->key_is_ca = is_ca;
			nalloc = newalloc;
		}
		hop->keys[hop->nkeys] = k;
		hop->key_is_ca[hop->nkeys] = ca != 0;
		hop->nkeys++;
		k = NULL;
	}
	r = 0;
 out:
	key_free(k);
	return r;
}

static int
dest_parse_constraint(struct buf *b, struct dest_constraint *c)
{
	struct buf *frombuf = NULL, *tobuf = NULL;
	int r = TOK_ERR_INTERNAL;

	memset(c, 0, sizeof(*c));
	if ((r = buf_froms(b, &frombuf)) != 0 ||
	    (r = buf_froms(b, &tobuf)) != 0 ||
	    (r = dest_expect_empty_string(b)) != 0 ||
	    (r = buf_expect_empty(b)) != 0)
		goto out;
	if ((r = dest_parse_hop(frombuf, &c->from)) != 0 ||
	    (r = dest_parse_hop(tobuf, &c->to)) != 0)
		goto out;
	if ((c->from.hostname == NULL) != (c->from.nkeys == 0) ||
	    c->from.user != NULL) {
		debug_f("inconsistent \"from\" hop");
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if (c->to.hostname == NULL || c->to.nkeys == 0) {
		debug_f("incomplete \"to\" hop");
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	r = 0;
 out:
	buf_free(frombuf);
	buf_free(tobuf);
	return r;
}

int
dest_constraints_parse(struct buf *m, struct dest_constraints **dcp)
{
	struct dest_constraints *dc = NULL;
	struct dest_constraint *nc;
	struct buf *outer = NULL, *one = NULL;
	size_t nalloc = 0, newalloc;
	uint32_t len;
	int r = TOK_ERR_INTERNAL;

	if (dcp != NULL)
		*dcp = NULL;
	if (m == NULL || dcp == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((r = buf_peek_u32(m, 0, &len)) != 0)
		goto out;
	if (len > buf_len(m) - 4) {
		r = TOK_ERR_MESSAGE_INCOMPLETE;
		goto out;
	}
	if ((outer = buf_from(buf_ptr(m) + 4, len)) == NULL ||
	    (dc = calloc(1, sizeof(*dc))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	while (buf_len(outer) != 0) {
		if (dc->n >= DEST_MAX_CONSTRAINTS) {
			debug_f("too many constraints");
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		if (dc->n == nalloc) {
			newalloc = nalloc == 0 ? 4 : nalloc * 2;
			if (newalloc > DEST_MAX_CONSTRAINTS)
				newalloc = DEST_MAX_CONSTRAINTS;
			if ((nc = recallocarray(dc->c, nalloc, newalloc,
			    sizeof(*nc))) == NULL) {
				r = TOK_ERR_ALLOC;
				goto out;
			}
			dc->c = nc;
			nalloc = newalloc;
		}
		if ((r = buf_froms(outer, &one)) != 0)
			goto out;
		/* Counted before parsing so a half-parsed entry is freed. */
		dc->n++;
		if ((r = dest_parse_constraint(one, &dc->c[dc->n - 1])) != 0)
			goto out;
		buf_free(one);
		one = NULL;
	}
	if ((r = buf_consume(m, 4 + (size_t)len)) != 0)
		goto out;
	*dcp = dc;
	dc = NULL;
	r = 0;
 out:
	buf_free(one);
	buf_free(outer);
	dest_constraints_free(dc);
	return r;
}

int
dest_constraints_describe(const struct dest_constraints *dc, char **descp)
{
	const struct dest_constraint *c;
	struct buf *b = NULL;
	size_t i;
	int r = TOK_ERR_INTERNAL;

	if (descp != NULL)
		*descp = NULL;
	if (descp == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((b = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < dest_constraints_count(dc); i++) {
		c = &dc->c[i];
		if ((r = buf_putf(b, "%s%s%s%s%s%s", i == 0 ? "" : ", ",
		    c->from.hostname ? c->from.hostname : "",
		    c->from.hostname ? ">" : "",
		    c->to.user ? c->to.user : "", c->to.user ? "@" : "",
		    c->to.hostname)) != 0)
			goto out;
	}
	if ((*descp = buf_dup_string(b)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	r = 0;
 out:
	buf_free(b);
	return r;
}

/* ---- Session bindings ------------------------------------------------- */

struct dest_binding_set *
dest_bindings_new(void)
{
	return calloc(1, sizeof(struct dest_binding_set));
}

void
dest_bindings_free(struct dest_binding_set *bs)
{
	size_t i;

	if (bs == NULL)
		return;
	for (i = 0; i < bs->n; i++)
		key_free(bs->b[i].key);
	freezero(bs, sizeof(*bs));
}

size_t
dest_bindings_count(const struct dest_binding_set *bs)
{
	return bs == NULL ? 0 : bs->n;
}

int
dest_bindings_is_remote(const struct dest_binding_set *bs)
{
	return bs != NULL && (bs->n != 0 || bs->bind_attempted);
}

const struct key *
dest_bindings_hostkey(const struct dest_binding_set *bs, size_t i,
    int *forwardedp)
{
	if (forwardedp != NULL)
		*forwardedp = 0;
	if (bs == NULL || i >= bs->n)
		return NULL;
	if (forwardedp != NULL)
		*forwardedp = bs->b[i].forwarded;
	return bs->b[i].key;
}

int
dest_bind(struct dest_binding_set *bs, struct buf *body)
{
	struct key *key = NULL;
	const u_char *sid, *sig;
	size_t sidlen, siglen, i;
	uint8_t fwd;
	char *fp = NULL;
	int r = TOK_ERR_INTERNAL, sid_match;

	if (bs == NULL || body == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	bs->bind_attempted = 1;
	if ((r = key_froms(body, &key)) != 0 ||
	    (r = buf_get_string_direct(body, &sid, &sidlen)) != 0 ||
	    (r = buf_get_string_direct(body, &sig, &siglen)) != 0 ||
	    (r = buf_get_u8(body, &fwd)) != 0 ||
	    (r = buf_expect_empty(body)) != 0) {
		error_fr(r, "parse");
		goto out;
	}
	if (sidlen > DEST_MAX_SID_LEN) {
		error_f("session id too long (%zu bytes)", sidlen);
		r = TOK_ERR_STRING_TOO_LARGE;
		goto out;
	}
	if (sidlen == 0) {
		error_f("empty session id");
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((r = key_fingerprint(key, &fp)) != 0)
		goto out;
	if ((r = key_verify(key, sig, siglen, sid, sidlen, NULL)) != 0) {
		error_fr(r, "signature by %s %s", key_type_name(key), fp);
		goto out;
	}
	for (i = 0; i < bs->n; i++) {
		if (!bs->b[i].forwarded) {
			error_f("connection already bound for authentication");
			r = TOK_ERR_CONSTRAINT_REFUSED;
			goto out;
		}
		sid_match = bs->b[i].sidlen == sidlen &&
		    memcmp(bs->b[i].sid, sid, sidlen) == 0;
		if (sid_match && key_equal(key, bs->b[i].key)) {
			debug_f("session id already bound to %s %s",
			    key_type_name(key), fp);
			r = 0;
			goto out;
		}
		if (sid_match) {
			error_f("session id bound to a different host key "
			    "than %s %s", key_type_name(key), fp);
			r = TOK_ERR_CONSTRAINT_REFUSED;
			goto out;
		}
		/* A new session with a known key: another connection. */
	}
	if (bs->n >= DEST_MAX_BINDINGS) {
		error_f("too many session bindings");
		r = TOK_ERR_CONSTRAINT_REFUSED;
		goto out;
	}
	i = bs->n++;
	bs->b[i].key = key;
	key = NULL;
	memcpy(bs->b[i].sid, sid, sidlen);
	bs->b[i].sidlen = sidlen;
	bs->b[i].forwarded = fwd != 0;
	debug_f("bound %s %s (%s, %zu of %d)", key_type_name(bs->b[i].key), fp,
	    bs->b[i].forwarded ? "forwarding" : "authentication", i + 1,
	    DEST_MAX_BINDINGS);
	r = 0;
 out:
	free(fp);
	key_free(key);
	return r;
}

/* ---- Decisions -------------------------------------------------------- */

/* Is a host certificate valid for hostname, with wildcard principals? */
static int
dest_cert_valid_for(const struct key *cert, const char *hostname)
{
	const char *reason = NULL, *p;
	size_t i, n;
	int r;

	if ((r = key_cert_check_authority(cert, 1, NULL,
	    (uint64_t)time(NULL), &reason)) != 0) {
		debug_f("host certificate \"%s\" for %s rejected: %s",
		    key_cert_key_id(cert), hostname,
		    reason ? reason : tok_strerror(r));
		return 0;
	}
	if ((n = key_cert_nprincipals(cert)) == 0)
		return 1;
	for (i = 0; i < n; i++) {
		if ((p = key_cert_principal(cert, i)) != NULL &&
		    match_pattern(hostname, p))
			return 1;
	}
	debug_f("host certificate \"%s\" not valid for %s",
	    key_cert_key_id(cert), hostname);
	return 0;
}

/* OpenSSH's match_key_hop: does key belong to hop? */
static int
dest_match_hop(const struct key *key, const struct dest_hop *hop)
{
	const struct key *ca;
	size_t i;

	if (key == NULL)
		return 0;
	for (i = 0; i < hop->nkeys; i++) {
		if (!key_is_cert(key)) {
			if (!hop->key_is_ca[i] && key_equal(key, hop->keys[i]))
				return 1;
			continue;
		}
		if (!hop->key_is_ca[i] || hop->hostname == NULL)
			continue;
		if ((ca = key_cert_signature_key(key)) == NULL)
			return 0;
		if (!key_equal(ca, hop->keys[i]))
			continue;
		if (dest_cert_valid_for(key, hop->hostname))
			return 1;
	}
	return 0;
}

/*
 * OpenSSH's permitted_by_dest_constraints: is there a constraint from
 * fromkey (NULL: the origin) to tokey (NULL: anywhere) for user (NULL: any)?
 */
static int
dest_match_constraints(const struct dest_constraints *dc,
    const struct key *fromkey, const struct key *tokey, const char *user,
    const char **hostnamep)
{
	const struct dest_constraint *c;
	size_t i;

	if (hostnamep != NULL)
		*hostnamep = NULL;
	for (i = 0; i < dc->n; i++) {
		c = &dc->c[i];
		if (fromkey == NULL) {
			if (c->from.hostname != NULL || c->from.nkeys != 0)
				continue;
		} else if (!dest_match_hop(fromkey, &c->from))
			continue;
		if (tokey != NULL && !dest_match_hop(tokey, &c->to))
			continue;
		if (c->to.user != NULL && user != NULL &&
		    !match_pattern(user, c->to.user))
			continue;
		if (hostnamep != NULL)
			*hostnamep = c->to.hostname;
		return 1;
	}
	return 0;
}

int
dest_permitted(const struct dest_constraints *dc,
    const struct dest_binding_set *bs, const char *user,
    const char **reasonp)
{
	const struct dest_binding *hop, *last;
	const struct key *fromkey = NULL;
	const char *test_user;
	size_t i;

	if (reasonp != NULL)
		*reasonp = NULL;
	if (dc == NULL || dc->n == 0)
		return 0;
	if (bs != NULL && bs->bind_attempted && bs->n == 0) {
		if (reasonp != NULL)
			*reasonp = "a session bind failed on this connection";
		return TOK_ERR_CONSTRAINT_REFUSED;
	}
	if (bs == NULL || bs->n == 0)
		return 0;
	for (i = 0; i < bs->n; i++) {
		hop = &bs->b[i];
		test_user = NULL;
		if (i == bs->n - 1) {
			test_user = user;
			if (hop->forwarded && user != NULL) {
				if (reasonp != NULL)
					*reasonp = "sign request on a "
					    "forwarding hop";
				return TOK_ERR_CONSTRAINT_REFUSED;
			}
		} else if (!hop->forwarded) {
			if (reasonp != NULL)
				*reasonp = "forwarding through an "
				    "authentication hop";
			return TOK_ERR_CONSTRAINT_REFUSED;
		}
		if (!dest_match_constraints(dc, fromkey, hop->key, test_user,
		    NULL)) {
			if (reasonp != NULL)
				*reasonp = "path not permitted by the key's "
				    "destination constraints";
			return TOK_ERR_CONSTRAINT_REFUSED;
		}
		fromkey = hop->key;
	}
	last = &bs->b[bs->n - 1];
	if (last->forwarded && user == NULL &&
	    !dest_match_constraints(dc, last->key, NULL, NULL, NULL)) {
		if (reasonp != NULL)
			*reasonp = "key permitted at this host but not beyond";
		return TOK_ERR_CONSTRAINT_REFUSED;
	}
	return 0;
}

int
dest_check_sign(const struct dest_constraints *dc,
    const struct dest_binding_set *bs, const struct key *key,
    const u_char *data, size_t len, char **userp, const char **reasonp)
{
	struct userauth_request *req = NULL;
	int r;

	if (dc == NULL || dc->n == 0) {
		if (userp != NULL)
			*userp = NULL;
		if (reasonp != NULL)
			*reasonp = NULL;
		return 0;
	}
	if (key == NULL || userauth_parse(data, len, key, &req) != 0)
		req = NULL;
	r = dest_check_userauth(dc, bs, req, userp, reasonp);
	userauth_request_free(req);
	return r;
}

int
dest_check_userauth(const struct dest_constraints *dc,
    const struct dest_binding_set *bs, const struct userauth_request *req,
    char **userp, const char **reasonp)
{
	const struct dest_binding *last;
	const struct key *hostkey;
	const u_char *sid;
	size_t sidlen;
	const char *why = NULL;
	int r = TOK_ERR_INTERNAL;

	if (userp != NULL)
		*userp = NULL;
	if (reasonp != NULL)
		*reasonp = NULL;
	if (dc == NULL || dc->n == 0)
		return 0;
	r = TOK_ERR_CONSTRAINT_REFUSED;
	if (bs == NULL || bs->n == 0) {
		why = "destination-constrained key used on an unbound "
		    "connection";
		goto out;
	}
	if (req == NULL) {
		why = "destination-constrained key asked to sign something "
		    "other than a user authentication request";
		goto out;
	}
	if (dest_permitted(dc, bs, userauth_user(req), &why) != 0)
		goto out;
	last = &bs->b[bs->n - 1];
	sid = userauth_session_id(req, &sidlen);
	if (sidlen != last->sidlen || memcmp(sid, last->sid, sidlen) != 0) {
		why = "session id is not the most recently bound one";
		goto out;
	}
	hostkey = userauth_hostkey(req);
	if (bs->n > 1 && hostkey == NULL) {
		why = "no host key in the request on a forwarded connection";
		goto out;
	}
	if (hostkey != NULL && !key_equal(hostkey, last->key)) {
		why = "host key in the request is not the most recently "
		    "bound one";
		goto out;
	}
	if (userp != NULL && (*userp = strdup(userauth_user(req))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	r = 0;
 out:
	if (r == TOK_ERR_CONSTRAINT_REFUSED) {
		if (reasonp != NULL)
			*reasonp = why;
		debug_f("refused: %s", why ? why : "?");
	}
	return r;
}

/* ---- Names ------------------------------------------------------------ */

static int
dest_b64_decode(const char *s, size_t slen, u_char *out, size_t outmax,
    size_t *outlenp)
{
	struct buf *b;
	int r;

	*outlenp = 0;
	if (slen > 4 * ((outmax + 2) / 3))
		return TOK_ERR_INVALID_FORMAT;
	if ((b = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_b64tod(s, slen, b)) == 0 && buf_len(b) > outmax)
		r = TOK_ERR_INVALID_FORMAT;
	if (r == 0) {
		memcpy(out, buf_ptr(b), buf_len(b));
		*outlenp = buf_len(b);
	}
	buf_free(b);
	return r;
}

/* Does the hashed host entry "|1|salt|hash" (len bytes) match name? */
static int
dest_kh_hashed_match(const char *entry, size_t len, const char *name)
{
	u_char salt[64], hash[64], mac[EVP_MAX_MD_SIZE];
	const char *sep, *end = entry + len;
	size_t saltlen, hashlen, maclen = 0;

	if (len < sizeof(DEST_KH_HASH_MAGIC) - 1 ||
	    strncmp(entry, DEST_KH_HASH_MAGIC,
	    sizeof(DEST_KH_HASH_MAGIC) - 1) != 0)
		return 0;
	entry += sizeof(DEST_KH_HASH_MAGIC) - 1;
	if ((sep = memchr(entry, '|', end - entry)) == NULL)
		return 0;
	if (dest_b64_decode(entry, sep - entry, salt, sizeof(salt),
	    &saltlen) != 0 || saltlen != DEST_KH_SHA1_LEN ||
	    dest_b64_decode(sep + 1, end - sep - 1, hash, sizeof(hash),
	    &hashlen) != 0 || hashlen != DEST_KH_SHA1_LEN)
		return 0;
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, salt, saltlen,
	    (const u_char *)name, strlen(name), mac, sizeof(mac),
	    &maclen) == NULL || maclen != DEST_KH_SHA1_LEN)
		return 0;
	return memcmp(mac, hash, DEST_KH_SHA1_LEN) == 0;
}

/* Does name match the host field of a known_hosts line? */
static int
dest_kh_hosts_match(const char *hosts, const char *name)
{
	if (strncmp(hosts, DEST_KH_HASH_MAGIC,
	    sizeof(DEST_KH_HASH_MAGIC) - 1) == 0)
		return dest_kh_hashed_match(hosts, strlen(hosts), name);
	return match_hostname(name, hosts) == 1;
}

/*
 * The first literal host of a plain host field: *startp and *lenp point
 * into hosts.  Returns 1 when there is one, else 0.
 */
static int
dest_kh_first_literal(const char *hosts, const char **startp, size_t *lenp)
{
	const char *cp, *end;

	if (strncmp(hosts, DEST_KH_HASH_MAGIC,
	    sizeof(DEST_KH_HASH_MAGIC) - 1) == 0)
		return 0;
	for (cp = hosts; *cp != '\0'; cp = *end == ',' ? end + 1 : end) {
		if ((end = strchr(cp, ',')) == NULL)
			end = cp + strlen(cp);
		if (end == cp || *cp == '!' ||
		    memchr(cp, '*', end - cp) != NULL ||
		    memchr(cp, '?', end - cp) != NULL)
			continue;
		*startp = cp;
		*lenp = end - cp;
		return 1;
	}
	return 0;
}

enum dest_kh_marker { DEST_KH_PLAIN, DEST_KH_CA, DEST_KH_REVOKED };

/*
 * Look at one known_hosts line; may set *namep (when still NULL) and
 * *revokedp.  Returns TOK_ERR_ALLOC or 0.
 */
static int
dest_kh_line(char *line, const struct key *hostkey, const char *hint,
    char **namep, int *revokedp)
{
	enum dest_kh_marker marker = DEST_KH_PLAIN;
	struct key *k = NULL;
	const struct key *ca;
	const char *pick = NULL, *p;
	char *cp = line, *hosts;
	size_t i, n, picklen = 0;
	int r = 0;

	cp += strspn(cp, " \t");
	if (*cp == '\0' || *cp == '#' || *cp == '\n')
		goto out;
	if (*cp == '@') {
		if (strncmp(cp, "@cert-authority", 15) == 0 &&
		    (cp[15] == ' ' || cp[15] == '\t'))
			marker = DEST_KH_CA;
		else if (strncmp(cp, "@revoked", 8) == 0 &&
		    (cp[8] == ' ' || cp[8] == '\t'))
			marker = DEST_KH_REVOKED;
		else
			goto out;
		cp += strcspn(cp, " \t");
		cp += strspn(cp, " \t");
	}
	hosts = cp;
	cp += strcspn(cp, " \t");
	if (*cp == '\0')
		goto out;
	*cp++ = '\0';
	cp[strcspn(cp, "\r\n")] = '\0';
	if (key_from_authorized_line(cp, &k, NULL) != 0)
		goto out;	/* not a key we understand */
	ca = key_is_cert(hostkey) ? key_cert_signature_key(hostkey) : NULL;
	switch (marker) {
	case DEST_KH_REVOKED:
		if (key_equal_public(k, hostkey) ||
		    (ca != NULL && key_equal_public(k, ca)))
			*revokedp = 1;
		goto out;
	case DEST_KH_CA:
		if (*namep != NULL || ca == NULL || key_is_cert(k) ||
		    !key_equal(k, ca))
			goto out;
		if (hint != NULL && dest_kh_hosts_match(hosts, hint) &&
		    dest_cert_valid_for(hostkey, hint))
			pick = hint;
		n = key_cert_nprincipals(hostkey);
		for (i = 0; i < n && pick == NULL; i++) {
			if ((p = key_cert_principal(hostkey, i)) != NULL &&
			    dest_kh_hosts_match(hosts, p))
				pick = p;
		}
		if (pick != NULL)
			picklen = strlen(pick);
		break;
	case DEST_KH_PLAIN:
		if (*namep != NULL || key_is_cert(k) ||
		    !key_equal_public(k, hostkey))
			goto out;
		if (hint != NULL && dest_kh_hosts_match(hosts, hint)) {
			pick = hint;
			picklen = strlen(hint);
		} else if (!dest_kh_first_literal(hosts, &pick, &picklen))
			pick = NULL;
		break;
	}
	if (pick == NULL)
		goto out;
	if ((*namep = strndup(pick, picklen)) == NULL)
		r = TOK_ERR_ALLOC;
 out:
	key_free(k);
	return r;
}

static int
dest_kh_file(const char *path, const struct key *hostkey, const char *hint,
    char **namep, int *revokedp)
{
	FILE *f;
	char *line = NULL;
	size_t linesize = 0;
	ssize_t n;
	int r = 0;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while ((n = getline(&line, &linesize, f)) != -1) {
		if (n > DEST_KH_LINE_MAX || memchr(line, '\0', n) != NULL)
			continue;
		if ((r = dest_kh_line(line, hostkey, hint, namep,
		    revokedp)) != 0)
			break;
	}
	free(line);
	fclose(f);
	return r;
}

int
dest_hostkey_name(const struct key *hostkey, const char *const *files,
    const char *hint, char **namep)
{
	static const char *const user_files[] = {
		".ssh/known_hosts", ".ssh/known_hosts2", NULL
	};
	static const char *const system_files[] = {
		"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2", NULL
	};
	struct passwd *pw;
	const char *home;
	char *name = NULL, *path = NULL;
	size_t i;
	int r = TOK_ERR_INTERNAL, revoked = 0;

	if (namep != NULL)
		*namep = NULL;
	if (hostkey == NULL || namep == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if (files != NULL) {
		for (i = 0; files[i] != NULL; i++) {
			if ((r = dest_kh_file(files[i], hostkey, hint, &name,
			    &revoked)) != 0)
				goto out;
		}
	} else {
		if ((home = getenv("HOME")) == NULL || *home == '\0') {
			pw = getpwuid(getuid());
			home = pw != NULL ? pw->pw_dir : NULL;
		}
		for (i = 0; home != NULL && user_files[i] != NULL; i++) {
			if (asprintf(&path, "%s/%s", home, user_files[i]) < 0) {
				path = NULL;
				r = TOK_ERR_ALLOC;
				goto out;
			}
			r = dest_kh_file(path, hostkey, hint, &name, &revoked);
			free(path);
			path = NULL;
			if (r != 0)
				goto out;
		}
		for (i = 0; system_files[i] != NULL; i++) {
			if ((r = dest_kh_file(system_files[i], hostkey, hint,
			    &name, &revoked)) != 0)
				goto out;
		}
	}
	if (name == NULL || revoked) {
		r = TOK_ERR_KEY_NOT_FOUND;
		goto out;
	}
	*namep = name;
	name = NULL;
	r = 0;
 out:
	free(name);
	return r;
}

/* A name for a hop's host: constraint hostname, known_hosts, fingerprint. */
static int
dest_hop_name(const struct dest_binding *hop, const char *cname, char **namep)
{
	char *fp = NULL;
	int r;

	*namep = NULL;
	/* Names come from known_hosts and constraints: shown, never obeyed. */
	if (cname != NULL)
		return (*namep = sanitize_str(cname, SANITIZE_MAX_NAME)) ==
		    NULL ? TOK_ERR_ALLOC : 0;
	if ((r = dest_hostkey_name(hop->key, NULL, NULL, &fp)) == 0) {
		*namep = sanitize_str(fp, SANITIZE_MAX_NAME);
		free(fp);
		return *namep == NULL ? TOK_ERR_ALLOC : 0;
	}
	if (r == TOK_ERR_ALLOC)
		return r;
	if ((r = key_fingerprint(hop->key, &fp)) != 0)
		return r;
	*namep = fp;
	return 0;
}

int
dest_describe_host(const struct dest_constraints *dc,
    const struct dest_binding_set *bs, const char *user, char **namep)
{
	const struct key *fromkey = NULL;
	const char *cname = NULL;
	size_t i;
	int walking;

	if (namep != NULL)
		*namep = NULL;
	if (namep == NULL || dest_bindings_count(bs) == 0)
		return TOK_ERR_INVALID_ARGUMENT;
	/* The same walk as dest_describe_path: the same name for the hop. */
	walking = dc != NULL && dc->n != 0;
	for (i = 0; i < bs->n; i++) {
		cname = NULL;
		if (walking && !dest_match_constraints(dc, fromkey,
		    bs->b[i].key, i == bs->n - 1 ? user : NULL, &cname))
			walking = 0;
		fromkey = bs->b[i].key;
	}
	return dest_hop_name(&bs->b[bs->n - 1], cname, namep);
}

int
dest_describe_path(const struct dest_constraints *dc,
    const struct dest_binding_set *bs, const char *user, char **descp)
{
	const struct dest_binding *hop;
	const struct key *fromkey = NULL;
	const char *cname;
	struct buf *b = NULL;
	char *name = NULL, *quser = NULL;
	size_t i;
	int r = TOK_ERR_INTERNAL, walking;

	if (descp != NULL)
		*descp = NULL;
	if (descp == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	/* The user name is the requester's: quoted, so it can not pose as a host. */
	if (user != NULL && (quser = sanitize_quoted(user,
	    SANITIZE_MAX_NAME)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((b = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (dest_bindings_count(bs) == 0) {
		if ((r = buf_putf(b, "this host")) != 0)
			goto out;
	}
	walking = dc != NULL && dc->n != 0;
	for (i = 0; i < dest_bindings_count(bs); i++) {
		hop = &bs->b[i];
		cname = NULL;
		if (walking && !dest_match_constraints(dc, fromkey, hop->key,
		    i == bs->n - 1 ? user : NULL, &cname))
			walking = 0;
		fromkey = hop->key;
		if ((r = dest_hop_name(hop, cname, &name)) != 0)
			goto out;
		if ((r = buf_putf(b, "%s%s%s%s%s", i == 0 ? "" : " > ",
		    i == bs->n - 1 && !hop->forwarded && user ? quser : "",
		    i == bs->n - 1 && !hop->forwarded && user ? "@" : "",
		    name, i == bs->n - 1 && hop->forwarded ?
		    " (forwarded)" : "")) != 0)
			goto out;
		free(name);
		name = NULL;
	}
	if ((*descp = buf_dup_string(b)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	r = 0;
 out:
	free(name);
	free(quser);
	buf_free(b);
	return r;
}
