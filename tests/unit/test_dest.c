/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Unit tests for agent/dest.c and agent/userauth.c: destination constraint
 * parsing, session binding rules, permission walks over multi-hop paths
 * (OpenSSH's semantics), sign checks, userauth request parsing and host
 * key naming from known_hosts.  Keys are generated with common/key.h.
 */
#include "config.h"

#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "agent/dest.h"
#include "agent/userauth.h"

#define NHOSTS	5

/* Host keys h0..h4 (named "h0".."h4"), a host CA, a user key. */
static struct key *hosts[NHOSTS];
static struct key *hostca, *otherca, *userkey, *rsakey;
static struct key *hcert;	/* host cert for hosts[4], principal "hc" */

static const char *
hname(int i)
{
	static const char *names[NHOSTS] = { "h0", "h1", "h2", "h3", "h4" };

	return names[i];
}

static int
setup_keys(void **state)
{
	const char *principals[] = { "hc" };
	int i;

	for (i = 0; i < NHOSTS; i++) {
		if (key_generate(KEY_ED25519, 0, &hosts[i]) != 0)
			return -1;
	}
	if (key_generate(KEY_ED25519, 0, &hostca) != 0 ||
	    key_generate(KEY_ECDSA, 256, &otherca) != 0 ||
	    key_generate(KEY_ED25519, 0, &userkey) != 0 ||
	    key_generate(KEY_RSA, 2048, &rsakey) != 0)
		return -1;
	if (key_cert_make(hosts[4], hostca, KEY_CERT_TYPE_HOST, 1, "hc",
	    principals, 1, 0, UINT64_MAX, NULL, 0, NULL, 0, 0, &hcert) != 0)
		return -1;
	return 0;
}

static int
teardown_keys(void **state)
{
	int i;

	for (i = 0; i < NHOSTS; i++)
		key_free(hosts[i]);
	key_free(hostca);
	key_free(otherca);
	key_free(userkey);
	key_free(rsakey);
	key_free(hcert);
	return 0;
}

/* ---- builders ------------------------------------------------------- */

static void
put_str(struct buf *b, const char *s)
{
	assert_int_equal(buf_put_cstring(b, s), 0);
}

static void
put_byte(struct buf *b, uint8_t v)
{
	assert_int_equal(buf_put_u8(b, v), 0);
}

static void
put_key(struct buf *b, const struct key *k)
{
	assert_int_equal(key_puts(k, b), 0);
}

/*
 * A hop: user, host, reserved, keys.  keys is NULL-terminated; is_ca
 * applies to all of them.
 */
static void
put_hop(struct buf *b, const char *user, const char *host,
    const char *reserved, const struct key *const *keys, int is_ca)
{
	struct buf *h;
	size_t i;

	assert_non_null(h = buf_new());
	assert_int_equal(buf_put_cstring(h, user ? user : ""), 0);
	assert_int_equal(buf_put_cstring(h, host ? host : ""), 0);
	assert_int_equal(buf_put_cstring(h, reserved ? reserved : ""), 0);
	for (i = 0; keys != NULL && keys[i] != NULL; i++) {
		put_key(h, keys[i]);
		assert_int_equal(buf_put_u8(h, is_ca), 0);
	}
	assert_int_equal(buf_put_stringb(b, h), 0);
	buf_free(h);
}

/* One constraint from host index fi (-1: origin) to ti, for user. */
static void
put_constraint(struct buf *list, int fi, const char *user, int ti)
{
	struct buf *c;
	const struct key *fk[2] = { NULL, NULL }, *tk[2] = { NULL, NULL };

	assert_non_null(c = buf_new());
	if (fi >= 0)
		fk[0] = hosts[fi];
	tk[0] = hosts[ti];
	put_hop(c, NULL, fi >= 0 ? hname(fi) : NULL, NULL, fk, 0);
	put_hop(c, user, hname(ti), NULL, tk, 0);
	assert_int_equal(buf_put_cstring(c, ""), 0);
	assert_int_equal(buf_put_stringb(list, c), 0);
	buf_free(c);
}

/* Wrap a list of constraints as the extension data and parse it. */
static int
parse_list(struct buf *list, struct dest_constraints **dcp)
{
	struct buf *m;
	int r;

	assert_non_null(m = buf_new());
	assert_int_equal(buf_put_stringb(m, list), 0);
	r = dest_constraints_parse(m, dcp);
	if (r == 0)
		assert_int_equal(buf_len(m), 0);
	buf_free(m);
	return r;
}

/*
 * Constraints from a spec like "-1:1 1:2 2:1" (from:to host indexes, -1 =
 * origin), optionally with user@ on the to side: "-1:bob@1".
 */
static struct dest_constraints *
make_dc(const char *spec)
{
	struct dest_constraints *dc = NULL;
	struct buf *list;
	char *s, *tok, *save = NULL, *colon, *at, *user;
	int fi, ti;

	assert_non_null(list = buf_new());
	assert_non_null(s = strdup(spec));
	for (tok = strtok_r(s, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		assert_non_null(colon = strchr(tok, ':'));
		*colon++ = '\0';
		fi = atoi(tok);
		user = NULL;
		if ((at = strrchr(colon, '@')) != NULL) {
			*at++ = '\0';
			user = colon;
			colon = at;
		}
		ti = atoi(colon);
		put_constraint(list, fi, user, ti);
	}
	free(s);
	assert_int_equal(parse_list(list, &dc), 0);
	buf_free(list);
	return dc;
}

/* A session-bind body for hostkey k (signing with signer) over sid. */
static struct buf *
bind_body(const struct key *k, const struct key *signer, const u_char *sid,
    size_t sidlen, int fwd)
{
	struct buf *b, *sig;

	assert_non_null(b = buf_new());
	assert_non_null(sig = buf_new());
	assert_int_equal(key_sign(signer, sid, sidlen, 0, sig), 0);
	put_key(b, k);
	assert_int_equal(buf_put_string(b, sid, sidlen), 0);
	assert_int_equal(buf_put_stringb(b, sig), 0);
	assert_int_equal(buf_put_u8(b, fwd), 0);
	buf_free(sig);
	return b;
}

static void
sid_for(u_char *sid, size_t len, int n)
{
	memset(sid, 0x40 + n, len);
}

static int
do_bind(struct dest_binding_set *bs, const struct key *k, int n, int fwd)
{
	u_char sid[32];
	struct buf *b;
	int r;

	sid_for(sid, sizeof(sid), n);
	b = bind_body(k, k, sid, sizeof(sid), fwd);
	r = dest_bind(bs, b);
	buf_free(b);
	return r;
}

/*
 * Bindings from a spec "1f 2f 3a": host index + f (forwarding) or a
 * (authentication); "c" as index means the host certificate.  Session id
 * n is the position.
 */
static struct dest_binding_set *
make_bs(const char *spec)
{
	struct dest_binding_set *bs;
	const struct key *k;
	int n = 0;
	const char *p;

	assert_non_null(bs = dest_bindings_new());
	for (p = spec; *p != '\0'; p++) {
		if (*p == ' ')
			continue;
		k = *p == 'c' ? hcert : hosts[*p - '0'];
		p++;
		assert_int_equal(do_bind(bs, k, n++, *p == 'f'), 0);
	}
	return bs;
}

/* Userauth payload. */
static struct buf *
userauth_body(const u_char *sid, size_t sidlen, const char *user,
    const char *method, const char *alg, const struct key *k,
    const struct key *hostkey)
{
	struct buf *b;

	assert_non_null(b = buf_new());
	assert_int_equal(buf_put_string(b, sid, sidlen), 0);
	assert_int_equal(buf_put_u8(b, 50), 0);
	assert_int_equal(buf_put_cstring(b, user), 0);
	assert_int_equal(buf_put_cstring(b, "ssh-connection"), 0);
	assert_int_equal(buf_put_cstring(b, method), 0);
	assert_int_equal(buf_put_u8(b, 1), 0);
	assert_int_equal(buf_put_cstring(b, alg), 0);
	put_key(b, k);
	if (hostkey != NULL)
		put_key(b, hostkey);
	return b;
}

/* ---- constraint parsing --------------------------------------------- */

static void
test_parse_valid(void **state)
{
	struct dest_constraints *dc;
	struct buf *list, *m;
	char *desc;

	dc = make_dc("-1:1 1:bob@2 2:3");
	assert_int_equal(dest_constraints_count(dc), 3);
	assert_int_equal(dest_constraints_describe(dc, &desc), 0);
	assert_string_equal(desc, "h1, h1>bob@h2, h2>h3");
	free(desc);
	dest_constraints_free(dc);

	/* the caller's following bytes are left alone */
	assert_non_null(list = buf_new());
	assert_non_null(m = buf_new());
	put_constraint(list, -1, NULL, 1);
	assert_int_equal(buf_put_stringb(m, list), 0);
	assert_int_equal(buf_put_u8(m, 0x42), 0);
	assert_int_equal(dest_constraints_parse(m, &dc), 0);
	assert_int_equal(buf_len(m), 1);
	dest_constraints_free(dc);
	buf_free(m);

	/* an empty list: no constraints, permits everything */
	buf_reset(list);
	assert_int_equal(parse_list(list, &dc), 0);
	assert_int_equal(dest_constraints_count(dc), 0);
	assert_int_equal(dest_permitted(dc, NULL, "x", NULL), 0);
	dest_constraints_free(dc);
	buf_free(list);
}

/* Parse one raw constraint (a list with just c) and expect failure. */
static void
expect_bad_constraint(struct buf *c, const char *what)
{
	struct dest_constraints *dc = (struct dest_constraints *)&dc;
	struct buf *list, *m;
	size_t before;
	int r;

	assert_non_null(list = buf_new());
	assert_int_equal(buf_put_stringb(list, c), 0);
	assert_non_null(m = buf_new());
	assert_int_equal(buf_put_stringb(m, list), 0);
	before = buf_len(m);
	r = dest_constraints_parse(m, &dc);
	if (r == 0)
		fail_msg("accepted: %s", what);
	assert_null(dc);
	assert_int_equal(buf_len(m), before);	/* not advanced */
	buf_free(m);
	buf_free(list);
}

static void
test_parse_invalid(void **state)
{
	const struct key *k1[] = { NULL, NULL }, *k2[] = { NULL, NULL };
	struct buf *c, *list;
	struct dest_constraints *dc;
	char longname[DEST_MAX_NAME_LEN + 2];
	size_t i;

	k1[0] = hosts[1];
	k2[0] = hosts[2];
	assert_non_null(c = buf_new());

#define BAD(build, what) do {					\
	buf_reset(c);						\
	build;							\
	expect_bad_constraint(c, what);				\
} while (0)
	BAD((put_hop(c, NULL, NULL, "x", NULL, 0),
	    put_hop(c, NULL, "h1", NULL, k1, 0),
	    put_str(c, "")), "reserved in from-hop");
	BAD((put_hop(c, NULL, NULL, NULL, NULL, 0),
	    put_hop(c, NULL, "h1", "x", k1, 0),
	    put_str(c, "")), "reserved in to-hop");
	BAD((put_hop(c, NULL, NULL, NULL, NULL, 0),
	    put_hop(c, NULL, "h1", NULL, k1, 0),
	    put_str(c, "x")), "reserved in constraint");
	BAD((put_hop(c, "bob", "h1", NULL, k1, 0),
	    put_hop(c, NULL, "h2", NULL, k2, 0),
	    put_str(c, "")), "user in from-hop");
	BAD((put_hop(c, NULL, "h1", NULL, NULL, 0),
	    put_hop(c, NULL, "h2", NULL, k2, 0),
	    put_str(c, "")), "from host without keys");
	BAD((put_hop(c, NULL, NULL, NULL, k1, 0),
	    put_hop(c, NULL, "h2", NULL, k2, 0),
	    put_str(c, "")), "from keys without host");
	BAD((put_hop(c, NULL, NULL, NULL, NULL, 0),
	    put_hop(c, NULL, "h2", NULL, NULL, 0),
	    put_str(c, "")), "to host without keys");
	BAD((put_hop(c, NULL, NULL, NULL, NULL, 0),
	    put_hop(c, NULL, NULL, NULL, k2, 0),
	    put_str(c, "")), "to keys without host");
	BAD((put_hop(c, NULL, NULL, NULL, NULL, 0),
	    put_hop(c, NULL, "h2", NULL, k2, 0),
	    put_str(c, ""),
	    put_byte(c, 0)), "trailing data in constraint");
	BAD((put_hop(c, NULL, NULL, NULL, NULL, 0),
	    put_hop(c, NULL, "h2", NULL, k2, 0)), "missing reserved");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	BAD((put_hop(c, NULL, NULL, NULL, NULL, 0),
	    put_hop(c, NULL, longname, NULL, k2, 0),
	    put_str(c, "")), "overlong hostname");
	BAD((put_hop(c, NULL, NULL, NULL, NULL, 0),
	    put_hop(c, longname, "h2", NULL, k2, 0),
	    put_str(c, "")), "overlong user");
	/* embedded NUL in the hostname */
	{
		struct buf *h;

		buf_reset(c);
		put_hop(c, NULL, NULL, NULL, NULL, 0);
		assert_non_null(h = buf_new());
		assert_int_equal(buf_put_u32(h, 3), 0);
		assert_int_equal(buf_put(h, "h\0x", 3), 0);
		assert_int_equal(buf_put_cstring(h, ""), 0);
		assert_int_equal(buf_put_cstring(h, ""), 0);
		put_key(h, hosts[2]);
		assert_int_equal(buf_put_u8(h, 0), 0);
		assert_int_equal(buf_put_stringb(c, h), 0);
		assert_int_equal(buf_put_cstring(c, ""), 0);
		expect_bad_constraint(c, "NUL in hostname");
		/* a key entry without its is_ca flag */
		buf_reset(c);
		buf_reset(h);
		put_hop(c, NULL, NULL, NULL, NULL, 0);
		assert_int_equal(buf_put_cstring(h, ""), 0);
		assert_int_equal(buf_put_cstring(h, "h2"), 0);
		assert_int_equal(buf_put_cstring(h, ""), 0);
		put_key(h, hosts[2]);
		assert_int_equal(buf_put_stringb(c, h), 0);
		assert_int_equal(buf_put_cstring(c, ""), 0);
		expect_bad_constraint(c, "key without is_ca");
		/* a bad key blob */
		buf_reset(c);
		buf_reset(h);
		put_hop(c, NULL, NULL, NULL, NULL, 0);
		assert_int_equal(buf_put_cstring(h, ""), 0);
		assert_int_equal(buf_put_cstring(h, "h2"), 0);
		assert_int_equal(buf_put_cstring(h, ""), 0);
		assert_int_equal(buf_put_cstring(h, "ssh-ed25519"), 0);
		assert_int_equal(buf_put_u8(h, 0), 0);
		assert_int_equal(buf_put_stringb(c, h), 0);
		assert_int_equal(buf_put_cstring(c, ""), 0);
		expect_bad_constraint(c, "bad key blob");
		/* more than DEST_MAX_HOP_KEYS keys in a hop */
		buf_reset(c);
		buf_reset(h);
		put_hop(c, NULL, NULL, NULL, NULL, 0);
		assert_int_equal(buf_put_cstring(h, ""), 0);
		assert_int_equal(buf_put_cstring(h, "h2"), 0);
		assert_int_equal(buf_put_cstring(h, ""), 0);
		for (i = 0; i < DEST_MAX_HOP_KEYS + 1; i++) {
			put_key(h, hosts[i % NHOSTS]);
			assert_int_equal(buf_put_u8(h, 0), 0);
		}
		assert_int_equal(buf_put_stringb(c, h), 0);
		assert_int_equal(buf_put_cstring(c, ""), 0);
		expect_bad_constraint(c, "too many keys");
		buf_free(h);
	}
#undef BAD
	buf_free(c);

	/* DEST_MAX_CONSTRAINTS is fine, one more is not */
	assert_non_null(list = buf_new());
	for (i = 0; i < DEST_MAX_CONSTRAINTS; i++)
		put_constraint(list, -1, NULL, 1);
	assert_int_equal(parse_list(list, &dc), 0);
	assert_int_equal(dest_constraints_count(dc), DEST_MAX_CONSTRAINTS);
	dest_constraints_free(dc);
	put_constraint(list, -1, NULL, 1);
	assert_int_not_equal(parse_list(list, &dc), 0);
	assert_null(dc);
	buf_free(list);
}

static void
test_parse_truncated(void **state)
{
	struct dest_constraints *dc;
	struct buf *list, *m, *v;
	size_t i, len;

	assert_non_null(list = buf_new());
	put_constraint(list, -1, NULL, 1);
	put_constraint(list, 1, "bob", 2);
	assert_non_null(m = buf_new());
	assert_int_equal(buf_put_stringb(m, list), 0);
	len = buf_len(m);
	for (i = 0; i < len; i++) {
		assert_non_null(v = buf_from(buf_ptr(m), i));
		assert_int_not_equal(dest_constraints_parse(v, &dc), 0);
		assert_null(dc);
		buf_free(v);
	}
	/* a list whose outer length covers a partial constraint */
	buf_reset(m);
	assert_int_equal(buf_put_u32(m, buf_len(list) - 1), 0);
	assert_int_equal(buf_put(m, buf_ptr(list), buf_len(list) - 1), 0);
	assert_int_not_equal(dest_constraints_parse(m, &dc), 0);
	buf_free(m);
	buf_free(list);
}

/* ---- binding ---------------------------------------------------------- */

static void
test_bind_rules(void **state)
{
	struct dest_binding_set *bs;
	struct buf *b;
	u_char sid[DEST_MAX_SID_LEN + 1];
	int fwd, i;

	assert_non_null(bs = dest_bindings_new());
	assert_false(dest_bindings_is_remote(bs));
	assert_int_equal(do_bind(bs, hosts[1], 1, 1), 0);
	assert_int_equal(dest_bindings_count(bs), 1);
	assert_true(dest_bindings_is_remote(bs));
	assert_ptr_equal(dest_bindings_hostkey(bs, 0, &fwd) != NULL, 1);
	assert_int_equal(fwd, 1);
	assert_null(dest_bindings_hostkey(bs, 1, NULL));
	/* same session, same key: accepted, nothing recorded */
	assert_int_equal(do_bind(bs, hosts[1], 1, 1), 0);
	assert_int_equal(dest_bindings_count(bs), 1);
	/* same session, another key: refused */
	assert_int_equal(do_bind(bs, hosts[2], 1, 1),
	    TOK_ERR_CONSTRAINT_REFUSED);
	/* same key, new session: another connection, fine */
	assert_int_equal(do_bind(bs, hosts[1], 2, 1), 0);
	assert_int_equal(do_bind(bs, hosts[2], 3, 0), 0);
	assert_int_equal(dest_bindings_count(bs), 3);
	/* nothing after an authentication binding, not even a repeat */
	assert_int_equal(do_bind(bs, hosts[3], 4, 1),
	    TOK_ERR_CONSTRAINT_REFUSED);
	assert_int_equal(do_bind(bs, hosts[2], 3, 0),
	    TOK_ERR_CONSTRAINT_REFUSED);
	assert_int_equal(dest_bindings_count(bs), 3);
	dest_bindings_free(bs);

	/* at most DEST_MAX_BINDINGS */
	assert_non_null(bs = dest_bindings_new());
	for (i = 0; i < DEST_MAX_BINDINGS; i++)
		assert_int_equal(do_bind(bs, hosts[i % NHOSTS], i, 1), 0);
	assert_int_equal(do_bind(bs, hosts[0], 100, 0),
	    TOK_ERR_CONSTRAINT_REFUSED);
	assert_int_equal(dest_bindings_count(bs), DEST_MAX_BINDINGS);
	dest_bindings_free(bs);

	/* session id length: 128 fine, 129 not, 0 not */
	assert_non_null(bs = dest_bindings_new());
	memset(sid, 7, sizeof(sid));
	b = bind_body(hosts[1], hosts[1], sid, DEST_MAX_SID_LEN, 1);
	assert_int_equal(dest_bind(bs, b), 0);
	buf_free(b);
	b = bind_body(hosts[1], hosts[1], sid, DEST_MAX_SID_LEN + 1, 1);
	assert_int_equal(dest_bind(bs, b), TOK_ERR_STRING_TOO_LARGE);
	buf_free(b);
	b = bind_body(hosts[1], hosts[1], sid, 0, 1);
	assert_int_not_equal(dest_bind(bs, b), 0);
	buf_free(b);
	assert_int_equal(dest_bindings_count(bs), 1);
	dest_bindings_free(bs);

	/* a signature by another key; trailing data; truncation */
	assert_non_null(bs = dest_bindings_new());
	b = bind_body(hosts[1], hosts[2], sid, 32, 0);
	assert_int_not_equal(dest_bind(bs, b), 0);
	buf_free(b);
	assert_int_equal(dest_bindings_count(bs), 0);
	assert_true(dest_bindings_is_remote(bs));	/* attempt recorded */
	b = bind_body(hosts[1], hosts[1], sid, 32, 0);
	assert_int_equal(buf_put_u8(b, 0), 0);
	assert_int_equal(dest_bind(bs, b), TOK_ERR_TRAILING_DATA);
	buf_free(b);
	b = bind_body(hosts[1], hosts[1], sid, 32, 0);
	assert_int_equal(buf_consume_end(b, 1), 0);
	assert_int_not_equal(dest_bind(bs, b), 0);
	buf_free(b);
	assert_int_equal(dest_bindings_count(bs), 0);
	/* a failed bind with no binding refuses constrained keys */
	{
		struct dest_constraints *dc = make_dc("-1:1");
		const char *why = NULL;

		assert_int_equal(dest_permitted(dc, bs, NULL, &why),
		    TOK_ERR_CONSTRAINT_REFUSED);
		assert_non_null(why);
		assert_int_equal(dest_permitted(NULL, bs, NULL, NULL), 0);
		dest_constraints_free(dc);
	}
	dest_bindings_free(bs);
}

static void
test_bind_rsa_and_cert(void **state)
{
	struct dest_binding_set *bs;
	struct buf *b, *sig;
	u_char sid[32];

	/* an RSA host key signing with rsa-sha2-512 */
	memset(sid, 9, sizeof(sid));
	assert_non_null(bs = dest_bindings_new());
	assert_non_null(b = buf_new());
	assert_non_null(sig = buf_new());
	assert_int_equal(key_sign(rsakey, sid, sizeof(sid),
	    KEY_AGENT_RSA_SHA2_512, sig), 0);
	put_key(b, rsakey);
	assert_int_equal(buf_put_string(b, sid, sizeof(sid)), 0);
	assert_int_equal(buf_put_stringb(b, sig), 0);
	assert_int_equal(buf_put_u8(b, 1), 0);
	assert_int_equal(dest_bind(bs, b), 0);
	buf_free(b);
	buf_free(sig);
	/* a host certificate, signed by its certified key */
	sid[0] = 1;
	b = bind_body(hcert, hosts[4], sid, sizeof(sid), 0);
	assert_int_equal(dest_bind(bs, b), 0);
	buf_free(b);
	assert_int_equal(dest_bindings_count(bs), 2);
	dest_bindings_free(bs);
}

/* ---- permission walks ------------------------------------------------- */

static int
permitted(const char *dcspec, const char *bsspec, const char *user)
{
	struct dest_constraints *dc = make_dc(dcspec);
	struct dest_binding_set *bs = make_bs(bsspec);
	const char *why = NULL;
	int r;

	r = dest_permitted(dc, bs, user, &why);
	if (r != 0)
		assert_non_null(why);
	else
		assert_null(why);
	dest_constraints_free(dc);
	dest_bindings_free(bs);
	return r == 0;
}

static void
test_permit_direct(void **state)
{
	assert_true(permitted("-1:1", "", "root"));	/* local */
	assert_true(permitted("-1:1", "", NULL));
	assert_true(permitted("-1:1", "1a", "root"));
	assert_true(permitted("-1:1", "1a", NULL));
	assert_false(permitted("-1:1", "2a", "root"));
	assert_false(permitted("-1:1", "2a", NULL));
	assert_true(permitted("-1:2 -1:1", "1a", "root"));
	/* a constraint from a host does not allow a direct connection */
	assert_false(permitted("0:1", "1a", "root"));
}

static void
test_permit_hops(void **state)
{
	/* one hop */
	assert_true(permitted("-1:1 1:2", "1f 2a", "root"));
	assert_false(permitted("-1:1", "1f 2a", "root"));
	assert_false(permitted("1:2", "1f 2a", "root"));
	assert_false(permitted("-1:1 1:2", "1f 3a", "root"));
	assert_false(permitted("-1:1 1:2", "2f 1a", "root"));
	assert_false(permitted("-1:1 3:2", "1f 2a", "root"));
	/* several hops */
	assert_true(permitted("-1:1 1:2 2:3", "1f 2f 3a", "root"));
	assert_true(permitted("2:3 1:2 -1:1", "1f 2f 3a", "root"));
	assert_false(permitted("-1:1 1:2 2:3", "1f 3a", "root"));
	assert_false(permitted("-1:1 1:2 2:3", "1f 2f 3f 4a", "root"));
	assert_false(permitted("-1:1 1:2", "1f 2f 3a", "root"));
	/* cycles */
	assert_true(permitted("-1:1 1:2 2:1", "1f 2f 1a", "root"));
	assert_true(permitted("-1:1 1:2 2:1", "1f 2f 1f 2f 1a", "root"));
	assert_false(permitted("-1:1 1:2 2:1", "1f 2f 1f 3a", "root"));
	/* a sign request may not end on a forwarding */
	assert_false(permitted("-1:1 1:2", "1f", "root"));
	assert_false(permitted("-1:1 1:2", "1f 2f", "root"));
}

static void
test_permit_users(void **state)
{
	assert_true(permitted("-1:bob@1", "1a", "bob"));
	assert_false(permitted("-1:bob@1", "1a", "alice"));
	assert_true(permitted("-1:bob@1", "1a", NULL));	/* listing */
	assert_true(permitted("-1:b*@1", "1a", "bob"));
	assert_true(permitted("-1:b?b@1", "1a", "bob"));
	assert_false(permitted("-1:b?b@1", "1a", "bobby"));
	assert_false(permitted("-1:x*@1", "1a", "bob"));
	assert_true(permitted("-1:*@1", "1a", "anyone"));
	/* another constraint may allow the user */
	assert_true(permitted("-1:alice@1 -1:bob@1", "1a", "bob"));
	/* the user is only checked at the last hop */
	assert_true(permitted("-1:nobody@1 1:2", "1f 2a", "bob"));
	assert_false(permitted("-1:1 1:alice@2", "1f 2a", "bob"));
	assert_true(permitted("-1:1 1:bob@2", "1f 2a", "bob"));
}

static void
test_permit_listing_forwarded(void **state)
{
	/* usable at h1, but not beyond: hidden from a forwarded h1 */
	assert_false(permitted("-1:1", "1f", NULL));
	assert_true(permitted("-1:1 1:2", "1f", NULL));
	assert_true(permitted("-1:1 1:bob@2", "1f", NULL));
	assert_false(permitted("-1:1 1:2", "1f 2f", NULL));
	assert_true(permitted("-1:1 1:2 2:3", "1f 2f", NULL));
	/* listing at the end of an authentication path */
	assert_true(permitted("-1:1 1:2", "1f 2a", NULL));
	/* unconstrained keys are always listed */
	{
		struct dest_binding_set *bs = make_bs("1f 2f");

		assert_int_equal(dest_permitted(NULL, bs, NULL, NULL), 0);
		dest_bindings_free(bs);
	}
}

/* Append the constraint from -> to, each a hop given by its parts. */
static void
put_raw_constraint(struct buf *list, const char *fhost,
    const struct key *fkey, int fca, const char *thost,
    const struct key *tkey, int tca)
{
	struct buf *c;
	const struct key *fk[2] = { NULL, NULL }, *tk[2] = { NULL, NULL };

	fk[0] = fkey;
	tk[0] = tkey;
	assert_non_null(c = buf_new());
	put_hop(c, NULL, fhost, NULL, fk, fca);
	put_hop(c, NULL, thost, NULL, tk, tca);
	assert_int_equal(buf_put_cstring(c, ""), 0);
	assert_int_equal(buf_put_stringb(list, c), 0);
	buf_free(c);
}

/*
 * Constraints naming host by key ca (a CA when is_ca): origin > host, or
 * with hop: origin > h1 > host > h2.
 */
static struct dest_constraints *
make_ca_dc(const struct key *ca, const char *host, int is_ca, int hop)
{
	struct dest_constraints *dc = NULL;
	struct buf *list;

	assert_non_null(list = buf_new());
	if (hop) {
		put_constraint(list, -1, NULL, 1);
		put_raw_constraint(list, "h1", hosts[1], 0, host, ca, is_ca);
		put_raw_constraint(list, host, ca, is_ca, "h2", hosts[2], 0);
	} else
		put_raw_constraint(list, NULL, NULL, 0, host, ca, is_ca);
	assert_int_equal(parse_list(list, &dc), 0);
	buf_free(list);
	return dc;
}

/* Is the path origin > cert (or origin > h1 > cert > h2) permitted? */
static int
cert_permitted(struct dest_constraints *dc, const struct key *cert,
    int hop)
{
	struct dest_binding_set *bs;
	struct buf *b;
	u_char sid[32];
	int r;

	assert_non_null(bs = dest_bindings_new());
	if (hop)
		assert_int_equal(do_bind(bs, hosts[1], 1, 1), 0);
	sid_for(sid, sizeof(sid), 3);
	b = bind_body(cert, hosts[4], sid, sizeof(sid), hop);
	assert_int_equal(dest_bind(bs, b), 0);
	buf_free(b);
	if (hop)
		assert_int_equal(do_bind(bs, hosts[2], 4, 0), 0);
	r = dest_permitted(dc, bs, "root", NULL);
	dest_bindings_free(bs);
	dest_constraints_free(dc);
	return r == 0;
}

static void
test_permit_host_cert(void **state)
{
	struct key *c;
	const char *wild[] = { "*.example.com" };
	const char *p[] = { "hc" };

	assert_true(cert_permitted(make_ca_dc(hostca, "hc", 1, 0), hcert, 0));
	/* wrong host name for the certificate */
	assert_false(cert_permitted(make_ca_dc(hostca, "hx", 1, 0), hcert, 0));
	/* the CA listed as a plain key */
	assert_false(cert_permitted(make_ca_dc(hostca, "hc", 0, 0), hcert, 0));
	/* another CA */
	assert_false(cert_permitted(make_ca_dc(otherca, "hc", 1, 0), hcert,
	    0));
	/* the certified key listed as a plain host key: no */
	assert_false(cert_permitted(make_ca_dc(hosts[4], "hc", 0, 0), hcert,
	    0));
	assert_false(cert_permitted(make_ca_dc(hosts[4], "hc", 1, 0), hcert,
	    0));
	/* wildcard principal */
	assert_int_equal(key_cert_make(hosts[4], hostca, KEY_CERT_TYPE_HOST, 2,
	    "wild", wild, 1, 0, UINT64_MAX, NULL, 0, NULL, 0, 0, &c), 0);
	assert_true(cert_permitted(make_ca_dc(hostca, "a.example.com", 1, 0),
	    c, 0));
	assert_false(cert_permitted(make_ca_dc(hostca, "example.com", 1, 0),
	    c, 0));
	key_free(c);
	/* no principals: any host name */
	assert_int_equal(key_cert_make(hosts[4], hostca, KEY_CERT_TYPE_HOST, 3,
	    "any", NULL, 0, 0, UINT64_MAX, NULL, 0, NULL, 0, 0, &c), 0);
	assert_true(cert_permitted(make_ca_dc(hostca, "whatever", 1, 0), c, 0));
	key_free(c);
	/* a user certificate is no host certificate */
	assert_int_equal(key_cert_make(hosts[4], hostca, KEY_CERT_TYPE_USER, 4,
	    "user", p, 1, 0, UINT64_MAX, NULL, 0, NULL, 0, 0, &c), 0);
	assert_false(cert_permitted(make_ca_dc(hostca, "hc", 1, 0), c, 0));
	key_free(c);
	/* expired */
	assert_int_equal(key_cert_make(hosts[4], hostca, KEY_CERT_TYPE_HOST, 5,
	    "old", p, 1, 0, 1000, NULL, 0, NULL, 0, 0, &c), 0);
	assert_false(cert_permitted(make_ca_dc(hostca, "hc", 1, 0), c, 0));
	key_free(c);
	/* not yet valid */
	assert_int_equal(key_cert_make(hosts[4], hostca, KEY_CERT_TYPE_HOST, 6,
	    "new", p, 1, (uint64_t)time(NULL) + 3600, UINT64_MAX, NULL, 0,
	    NULL, 0, 0, &c), 0);
	assert_false(cert_permitted(make_ca_dc(hostca, "hc", 1, 0), c, 0));
	key_free(c);
	/* a certified host as the source of a hop: h1 > hc > h2 */
	assert_true(cert_permitted(make_ca_dc(hostca, "hc", 1, 1), hcert, 1));
	assert_false(cert_permitted(make_ca_dc(otherca, "hc", 1, 1), hcert,
	    1));
}

/* ---- sign checks ------------------------------------------------------ */

static int
check_sign(struct dest_constraints *dc, struct dest_binding_set *bs,
    const struct key *signkey, struct buf *data, char **userp)
{
	const char *why = NULL;
	int r;

	r = dest_check_sign(dc, bs, signkey, buf_ptr(data), buf_len(data),
	    userp, &why);
	if (r == TOK_ERR_CONSTRAINT_REFUSED)
		assert_non_null(why);
	buf_free(data);
	return r;
}

static void
test_check_sign(void **state)
{
	struct dest_constraints *dc;
	struct dest_binding_set *bs;
	u_char sid0[32], sid1[32], sidx[32];
	const char *alg = "ssh-ed25519";
	char *user = NULL;

	sid_for(sid0, sizeof(sid0), 0);
	sid_for(sid1, sizeof(sid1), 1);
	memset(sidx, 0xee, sizeof(sidx));

	/* direct: origin > h1 */
	dc = make_dc("-1:1");
	bs = make_bs("1a");
	assert_int_equal(check_sign(dc, bs, userkey, userauth_body(sid0,
	    sizeof(sid0), "root", USERAUTH_METHOD_PUBKEY, alg, userkey, NULL),
	    &user), 0);
	assert_string_equal(user, "root");
	free(user);
	assert_int_equal(check_sign(dc, bs, userkey, userauth_body(sid0,
	    sizeof(sid0), "root", USERAUTH_METHOD_HOSTBOUND, alg, userkey,
	    hosts[1]), NULL), 0);
	/* hostbound to another host key */
	assert_int_equal(check_sign(dc, bs, userkey, userauth_body(sid0,
	    sizeof(sid0), "root", USERAUTH_METHOD_HOSTBOUND, alg, userkey,
	    hosts[2]), NULL), TOK_ERR_CONSTRAINT_REFUSED);
	/* wrong session id */
	assert_int_equal(check_sign(dc, bs, userkey, userauth_body(sidx,
	    sizeof(sidx), "root", USERAUTH_METHOD_PUBKEY, alg, userkey, NULL),
	    NULL), TOK_ERR_CONSTRAINT_REFUSED);
	/* the request names another key than the one asked to sign */
	assert_int_equal(check_sign(dc, bs, userkey, userauth_body(sid0,
	    sizeof(sid0), "root", USERAUTH_METHOD_PUBKEY, alg, hosts[3], NULL),
	    NULL), TOK_ERR_CONSTRAINT_REFUSED);
	/* not a userauth request at all */
	{
		struct buf *b;

		assert_non_null(b = buf_new());
		assert_int_equal(buf_put_cstring(b, "random data"), 0);
		assert_int_equal(check_sign(dc, bs, userkey, b, NULL),
		    TOK_ERR_CONSTRAINT_REFUSED);
	}
	dest_bindings_free(bs);
	/* an unbound connection */
	bs = make_bs("");
	assert_int_equal(check_sign(dc, bs, userkey, userauth_body(sid0,
	    sizeof(sid0), "root", USERAUTH_METHOD_PUBKEY, alg, userkey, NULL),
	    NULL), TOK_ERR_CONSTRAINT_REFUSED);
	assert_int_equal(dest_check_sign(dc, NULL, userkey,
	    (const u_char *)"x", 1, NULL, NULL), TOK_ERR_CONSTRAINT_REFUSED);
	dest_bindings_free(bs);
	/* a host not allowed */
	bs = make_bs("2a");
	assert_int_equal(check_sign(dc, bs, userkey, userauth_body(sid0,
	    sizeof(sid0), "root", USERAUTH_METHOD_PUBKEY, alg, userkey, NULL),
	    NULL), TOK_ERR_CONSTRAINT_REFUSED);
	dest_bindings_free(bs);
	/* unconstrained: no questions asked */
	user = (char *)"x";
	assert_int_equal(dest_check_sign(NULL, NULL, userkey,
	    (const u_char *)"x", 1, &user, NULL), 0);
	assert_null(user);
	dest_constraints_free(dc);

	/* forwarded: origin > h1 > h2 needs a hostbound request for h2 */
	dc = make_dc("-1:1 1:bob@2");
	bs = make_bs("1f 2a");
	assert_int_equal(check_sign(dc, bs, userkey, userauth_body(sid1,
	    sizeof(sid1), "bob", USERAUTH_METHOD_PUBKEY, alg, userkey, NULL),
	    NULL), TOK_ERR_CONSTRAINT_REFUSED);
	assert_int_equal(check_sign(dc, bs, userkey, userauth_body(sid1,
	    sizeof(sid1), "bob", USERAUTH_METHOD_HOSTBOUND, alg, userkey,
	    hosts[2]), NULL), 0);
	assert_int_equal(check_sign(dc, bs, userkey, userauth_body(sid1,
	    sizeof(sid1), "alice", USERAUTH_METHOD_HOSTBOUND, alg, userkey,
	    hosts[2]), NULL), TOK_ERR_CONSTRAINT_REFUSED);
	/* the first session is not the most recent one */
	assert_int_equal(check_sign(dc, bs, userkey, userauth_body(sid0,
	    sizeof(sid0), "bob", USERAUTH_METHOD_HOSTBOUND, alg, userkey,
	    hosts[2]), NULL), TOK_ERR_CONSTRAINT_REFUSED);
	dest_bindings_free(bs);
	/* a forwarded connection may not sign */
	bs = make_bs("1f");
	assert_int_equal(check_sign(dc, bs, userkey, userauth_body(sid0,
	    sizeof(sid0), "bob", USERAUTH_METHOD_HOSTBOUND, alg, userkey,
	    hosts[1]), NULL), TOK_ERR_CONSTRAINT_REFUSED);
	dest_bindings_free(bs);
	dest_constraints_free(dc);
}

/* ---- userauth parsing ------------------------------------------------- */

static int
parse_ua(struct buf *b, const struct key *k, struct userauth_request **reqp)
{
	int r;

	r = userauth_parse(buf_ptr(b), buf_len(b), k, reqp);
	buf_free(b);
	return r;
}

static void
test_userauth(void **state)
{
	struct userauth_request *req;
	struct buf *b, *v;
	u_char sid[20];
	const u_char *p;
	size_t len, i;
	struct key *ucert;
	const char *pr[] = { "bob" };

	memset(sid, 3, sizeof(sid));
	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_PUBKEY, "ssh-ed25519", userkey, NULL), userkey,
	    &req), 0);
	assert_string_equal(userauth_user(req), "bob");
	assert_string_equal(userauth_alg(req), "ssh-ed25519");
	p = userauth_session_id(req, &len);
	assert_int_equal(len, sizeof(sid));
	assert_memory_equal(p, sid, len);
	assert_null(userauth_hostkey(req));
	assert_true(key_equal(userauth_key(req), userkey));
	userauth_request_free(req);

	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_HOSTBOUND, "ssh-ed25519", userkey, hosts[0]), NULL,
	    &req), 0);
	assert_true(key_equal(userauth_hostkey(req), hosts[0]));
	userauth_request_free(req);

	/* RSA keys sign as rsa-sha2-256/512 or ssh-rsa */
	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_PUBKEY, "rsa-sha2-512", rsakey, NULL), rsakey,
	    &req), 0);
	userauth_request_free(req);
	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_PUBKEY, "rsa-sha2-256", rsakey, NULL), rsakey,
	    &req), 0);
	userauth_request_free(req);
	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_PUBKEY, "ssh-rsa", rsakey, NULL), rsakey, &req), 0);
	userauth_request_free(req);
	/* certificates: the algorithm must be the certificate's */
	assert_int_equal(key_cert_make(userkey, hostca, KEY_CERT_TYPE_USER, 9,
	    "u", pr, 1, 0, UINT64_MAX, NULL, 0, NULL, 0, 0, &ucert), 0);
	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_PUBKEY, "ssh-ed25519-cert-v01@openssh.com", ucert,
	    NULL), ucert, &req), 0);
	userauth_request_free(req);
	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_PUBKEY, "ssh-ed25519", ucert, NULL), ucert, &req),
	    TOK_ERR_INVALID_FORMAT);
	/* the plain key is not the certificate */
	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_PUBKEY, "ssh-ed25519-cert-v01@openssh.com", ucert,
	    NULL), userkey, &req), TOK_ERR_INVALID_FORMAT);
	key_free(ucert);

	/* wrong algorithm for the key */
	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_PUBKEY, "ssh-rsa", userkey, NULL), userkey, &req),
	    TOK_ERR_INVALID_FORMAT);
	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_PUBKEY, "nonsense", userkey, NULL), NULL, &req),
	    TOK_ERR_INVALID_FORMAT);
	/* wrong key */
	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_PUBKEY, "ssh-ed25519", hosts[0], NULL), userkey,
	    &req), TOK_ERR_INVALID_FORMAT);
	/* wrong method; hostbound without the host key; empty session id */
	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    "password", "ssh-ed25519", userkey, NULL), userkey, &req),
	    TOK_ERR_INVALID_FORMAT);
	assert_int_not_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_HOSTBOUND, "ssh-ed25519", userkey, NULL), userkey,
	    &req), 0);
	assert_int_equal(parse_ua(userauth_body(sid, 0, "bob",
	    USERAUTH_METHOD_PUBKEY, "ssh-ed25519", userkey, NULL), userkey,
	    &req), TOK_ERR_INVALID_FORMAT);
	/* plain publickey with an extra host key is trailing data */
	assert_int_equal(parse_ua(userauth_body(sid, sizeof(sid), "bob",
	    USERAUTH_METHOD_PUBKEY, "ssh-ed25519", userkey, hosts[0]), userkey,
	    &req), TOK_ERR_TRAILING_DATA);
	assert_null(req);

	/* hand-built variants: message type, service, signature flag */
	for (i = 0; i < 3; i++) {
		assert_non_null(b = buf_new());
		assert_int_equal(buf_put_string(b, sid, sizeof(sid)), 0);
		assert_int_equal(buf_put_u8(b, i == 0 ? 51 : 50), 0);
		assert_int_equal(buf_put_cstring(b, "bob"), 0);
		assert_int_equal(buf_put_cstring(b, i == 1 ? "ssh-userauth" :
		    "ssh-connection"), 0);
		assert_int_equal(buf_put_cstring(b, "publickey"), 0);
		assert_int_equal(buf_put_u8(b, i == 2 ? 0 : 1), 0);
		assert_int_equal(buf_put_cstring(b, "ssh-ed25519"), 0);
		put_key(b, userkey);
		assert_int_equal(parse_ua(b, userkey, &req),
		    TOK_ERR_INVALID_FORMAT);
	}

	/* every truncation fails, trailing data fails */
	b = userauth_body(sid, sizeof(sid), "bob", USERAUTH_METHOD_HOSTBOUND,
	    "ssh-ed25519", userkey, hosts[0]);
	for (i = 0; i < buf_len(b); i++) {
		assert_int_not_equal(userauth_parse(buf_ptr(b), i, userkey,
		    &req), 0);
		assert_null(req);
	}
	assert_non_null(v = buf_dup(b));
	assert_int_equal(buf_put_u8(v, 0), 0);
	assert_int_equal(parse_ua(v, userkey, &req), TOK_ERR_TRAILING_DATA);
	buf_free(b);
}

/* ---- names ------------------------------------------------------------ */

static char *
write_file(const char *content)
{
	char *path;
	FILE *f;
	int fd;

	assert_non_null(path = strdup("/tmp/test_dest.XXXXXX"));
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	assert_true(fputs(content, f) >= 0);
	fclose(f);
	return path;
}

static char *
key_line(const struct key *k)
{
	char *line;

	assert_int_equal(key_to_line(k, NULL, &line), 0);
	return line;
}

/* "|1|salt|hash" for name, with a fixed salt. */
static char *
hashed_name(const char *name)
{
	u_char salt[20], mac[EVP_MAX_MD_SIZE];
	char bsalt[64], bmac[64], *s;
	size_t maclen;

	memset(salt, 0x5a, sizeof(salt));
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, salt,
	    sizeof(salt), (const u_char *)name, strlen(name), mac, sizeof(mac),
	    &maclen));
	EVP_EncodeBlock((u_char *)bsalt, salt, sizeof(salt));
	EVP_EncodeBlock((u_char *)bmac, mac, maclen);
	assert_true(asprintf(&s, "|1|%s|%s", bsalt, bmac) > 0);
	return s;
}

static void
test_hostkey_name(void **state)
{
	char *l0, *l1, *l2, *l3, *lca, *h2name, *content, *path, *name;
	const char *files[2] = { NULL, NULL };

	l0 = key_line(hosts[0]);
	l1 = key_line(hosts[1]);
	l2 = key_line(hosts[2]);
	l3 = key_line(hosts[3]);
	lca = key_line(hostca);
	h2name = hashed_name("h2");
	assert_true(asprintf(&content,
	    "# comment\n"
	    "\n"
	    "*.wild,!bad,h0,[h0]:2222 %s\n"
	    "  h1 %s comment here\n"
	    "%s %s\n"
	    "@cert-authority hc,*.example.com %s\n"
	    "@revoked * %s\n"
	    "h3 %s\n"
	    "@unknown-marker h4 %s\n"
	    "garbage line\n",
	    l0, l1, h2name, l2, lca, l3, l3, l1) > 0);
	path = write_file(content);
	files[0] = path;

	assert_int_equal(dest_hostkey_name(hosts[0], files, NULL, &name), 0);
	assert_string_equal(name, "h0");
	free(name);
	assert_int_equal(dest_hostkey_name(hosts[0], files, "[h0]:2222",
	    &name), 0);
	assert_string_equal(name, "[h0]:2222");
	free(name);
	assert_int_equal(dest_hostkey_name(hosts[1], files, NULL, &name), 0);
	assert_string_equal(name, "h1");
	free(name);
	/* hashed: only with the right hint */
	assert_int_equal(dest_hostkey_name(hosts[2], files, NULL, &name),
	    TOK_ERR_KEY_NOT_FOUND);
	assert_null(name);
	assert_int_equal(dest_hostkey_name(hosts[2], files, "h9", &name),
	    TOK_ERR_KEY_NOT_FOUND);
	assert_int_equal(dest_hostkey_name(hosts[2], files, "h2", &name), 0);
	assert_string_equal(name, "h2");
	free(name);
	/* revoked */
	assert_int_equal(dest_hostkey_name(hosts[3], files, NULL, &name),
	    TOK_ERR_KEY_NOT_FOUND);
	/* unknown */
	assert_int_equal(dest_hostkey_name(hosts[4], files, NULL, &name),
	    TOK_ERR_KEY_NOT_FOUND);
	/* a host certificate through its CA */
	assert_int_equal(dest_hostkey_name(hcert, files, NULL, &name), 0);
	assert_string_equal(name, "hc");
	free(name);
	assert_int_equal(dest_hostkey_name(hcert, files, "hc", &name), 0);
	assert_string_equal(name, "hc");
	free(name);
	/* a missing file is skipped */
	files[0] = "/nonexistent/known_hosts";
	assert_int_equal(dest_hostkey_name(hosts[0], files, NULL, &name),
	    TOK_ERR_KEY_NOT_FOUND);

	unlink(path);
	free(path);
	free(content);
	free(h2name);
	free(l0);
	free(l1);
	free(l2);
	free(l3);
	free(lca);
}

static void
test_describe_path(void **state)
{
	struct dest_constraints *dc;
	struct dest_binding_set *bs;
	char *desc, *fp;

	dc = make_dc("-1:1 1:2");
	bs = make_bs("1f 2a");
	assert_int_equal(dest_describe_path(dc, bs, "bob", &desc), 0);
	assert_string_equal(desc, "h1 > \"bob\"@h2");
	free(desc);
	dest_bindings_free(bs);
	bs = make_bs("1f");
	assert_int_equal(dest_describe_path(dc, bs, NULL, &desc), 0);
	assert_string_equal(desc, "h1 (forwarded)");
	free(desc);
	dest_bindings_free(bs);
	bs = make_bs("");
	assert_int_equal(dest_describe_path(dc, bs, "bob", &desc), 0);
	assert_string_equal(desc, "this host");
	free(desc);
	dest_bindings_free(bs);
	/* off the constraints: a host key nobody named is a fingerprint */
	setenv("HOME", "/nonexistent", 1);
	bs = make_bs("3a");
	assert_int_equal(dest_describe_path(dc, bs, NULL, &desc), 0);
	assert_int_equal(key_fingerprint(hosts[3], &fp), 0);
	if (strcmp(desc, fp) != 0)
		fail_msg("got \"%s\", want \"%s\"", desc, fp);
	free(fp);
	free(desc);
	dest_bindings_free(bs);
	dest_constraints_free(dc);
}

/* ---- fuzz seeds --------------------------------------------------- */

static void
write_seed(const char *dir, const char *sub, const char *name,
    const struct buf *b)
{
	char *path;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s/%s", dir, sub, name) > 0);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(buf_ptr(b), 1, buf_len(b), f), buf_len(b));
	fclose(f);
	free(path);
}

/*
 * With DEST_FUZZ_SEEDS=DIR, write seed inputs for the fuzz harnesses into
 * DIR/constraints, DIR/bind and DIR/userauth (which must exist).
 */
static void
test_write_seeds(void **state)
{
	const char *dir = getenv("DEST_FUZZ_SEEDS");
	struct buf *list, *m, *b, *seq;
	u_char sid[32];

	if (dir == NULL)
		skip();
	assert_non_null(list = buf_new());
	assert_non_null(m = buf_new());
	put_constraint(list, -1, NULL, 1);
	put_constraint(list, 1, "b*", 2);
	put_raw_constraint(list, "h1", hosts[1], 0, "hc", hostca, 1);
	assert_int_equal(buf_put_stringb(m, list), 0);
	write_seed(dir, "constraints", "three", m);
	buf_free(list);
	buf_free(m);

	sid_for(sid, sizeof(sid), 1);
	assert_non_null(seq = buf_new());
	b = bind_body(hosts[1], hosts[1], sid, sizeof(sid), 1);
	write_seed(dir, "bind", "one", b);
	assert_int_equal(buf_put_u8(seq, buf_len(b) >> 8), 0);
	assert_int_equal(buf_put_u8(seq, buf_len(b) & 0xff), 0);
	assert_int_equal(buf_putb(seq, b), 0);
	buf_free(b);
	b = bind_body(hcert, hosts[4], sid, sizeof(sid), 0);
	assert_int_equal(buf_put_u8(seq, buf_len(b) >> 8), 0);
	assert_int_equal(buf_put_u8(seq, buf_len(b) & 0xff), 0);
	assert_int_equal(buf_putb(seq, b), 0);
	buf_free(b);
	write_seed(dir, "bind", "two", seq);
	buf_free(seq);

	b = userauth_body(sid, sizeof(sid), "bob", USERAUTH_METHOD_HOSTBOUND,
	    "ssh-ed25519", userkey, hosts[1]);
	write_seed(dir, "userauth", "hostbound", b);
	buf_free(b);
	b = userauth_body(sid, sizeof(sid), "bob", USERAUTH_METHOD_PUBKEY,
	    "rsa-sha2-512", rsakey, NULL);
	write_seed(dir, "userauth", "rsa", b);
	buf_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_bind_rules),
		cmocka_unit_test(test_bind_rsa_and_cert),
		cmocka_unit_test(test_permit_direct),
		cmocka_unit_test(test_permit_hops),
		cmocka_unit_test(test_permit_users),
		cmocka_unit_test(test_permit_listing_forwarded),
		cmocka_unit_test(test_permit_host_cert),
		cmocka_unit_test(test_check_sign),
		cmocka_unit_test(test_userauth),
		cmocka_unit_test(test_hostkey_name),
		cmocka_unit_test(test_describe_path),
		cmocka_unit_test(test_write_seeds),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
