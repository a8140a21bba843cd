/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Unit tests for the agent's identity table, constraint parsing and
 * protocol dispatch (no helpers: requests that need one fail cleanly).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent.h"
#include "agent/conn.h"
#include "agent/constraints.h"
#include "agent/dispatch.h"
#include "agent/idtab.h"
#include "agent/loop.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/key.h"

static struct identity *
make_identity(void)
{
	struct identity *id = calloc(1, sizeof(*id));
	struct key *k = NULL;

	assert_non_null(id);
	assert_int_equal(key_generate(KEY_ED25519, 0, &k), 0);
	assert_int_equal(key_dup_public(k, &id->key), 0);
	key_free(k);
	id->blob = buf_new();
	assert_int_equal(key_to_blob(id->key, id->blob), 0);
	id->comment = strdup("test");
	id->present = 1;
	return id;
}

static void
test_idtab_many(void **state)
{
	struct idtab *tab = idtab_new();
	struct identity **ids, *id;
	size_t i, n = 10000;

	(void)state;
	assert_non_null(tab);
	ids = calloc(n, sizeof(*ids));
	for (i = 0; i < n; i++) {
		ids[i] = make_identity();
		assert_int_equal(idtab_insert(tab, ids[i]), 0);
	}
	assert_int_equal(idtab_count(tab), n);
	for (i = 0; i < n; i++) {
		id = idtab_lookup(tab, buf_ptr(ids[i]->blob),
		    buf_len(ids[i]->blob));
		assert_ptr_equal(id, ids[i]);
	}
	/* Listing keeps insertion order. */
	for (i = 0, id = idtab_first(tab); id != NULL; id = idtab_next(id), i++)
		assert_ptr_equal(id, ids[i]);
	idtab_unlink(tab, ids[5]);
	assert_null(idtab_lookup(tab, buf_ptr(ids[5]->blob),
	    buf_len(ids[5]->blob)));
	identity_free(ids[5]);
	assert_int_equal(idtab_count(tab), n - 1);
	idtab_free(tab);
	free(ids);
}

static int
parse_constraints(const u_char *p, size_t len, struct constraints *c)
{
	struct buf *b = buf_from(p, len);
	int r;

	r = constraints_parse(b, c);
	buf_free(b);
	return r;
}

static void
test_constraints(void **state)
{
	static const u_char life_confirm[] = { 1, 0, 0, 0, 90, 2 };
	static const u_char dup_life[] = { 1, 0, 0, 0, 1, 1, 0, 0, 0, 2 };
	static const u_char dup_confirm[] = { 2, 2 };
	static const u_char unknown[] = { 3, 0, 0, 0, 1 };
	static const u_char truncated[] = { 1, 0, 0 };
	static const u_char unknown_ext[] = { 255, 0, 0, 0, 3, 'f', 'o', 'o' };
	struct constraints c;

	(void)state;
	assert_int_equal(parse_constraints(life_confirm, sizeof(life_confirm),
	    &c), 0);
	assert_true(c.has_lifetime);
	assert_int_equal(c.lifetime, 90);
	assert_true(c.confirm);
	constraints_clear(&c);
	assert_int_not_equal(parse_constraints(dup_life, sizeof(dup_life),
	    &c), 0);
	assert_int_not_equal(parse_constraints(dup_confirm,
	    sizeof(dup_confirm), &c), 0);
	assert_int_not_equal(parse_constraints(unknown, sizeof(unknown), &c),
	    0);
	assert_int_not_equal(parse_constraints(truncated, sizeof(truncated),
	    &c), 0);
	assert_int_not_equal(parse_constraints(unknown_ext,
	    sizeof(unknown_ext), &c), 0);
	assert_int_equal(parse_constraints(NULL, 0, &c), 0);
	assert_false(c.confirm);
	constraints_clear(&c);
}

/* A key from tests/unit/vectors/NAME.pub. */
static struct key *
vector_key(const char *name)
{
	const char *top = getenv("top_srcdir");
	char *path = NULL, line[8192];
	struct key *k = NULL;
	FILE *f;

	assert_true(asprintf(&path, "%s/tests/unit/vectors/%s.pub",
	    top != NULL ? top : ".", name) > 0);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	free(path);
	line[strcspn(line, "\n")] = '\0';
	assert_int_equal(key_from_authorized_line(line, &k, NULL), 0);
	return k;
}

/* An associated-certs-v00@openssh.com constraint holding keys. */
static struct buf *
certs_constraint(int certs_only, struct key **keys, size_t n)
{
	static const char name[] = "associated-certs-v00@openssh.com";
	struct buf *b = buf_new(), *list = buf_new();
	size_t i;

	assert_non_null(b);
	assert_non_null(list);
	for (i = 0; i < n; i++)
		assert_int_equal(key_puts(keys[i], list), 0);
	assert_int_equal(buf_put_u8(b, 255), 0);
	assert_int_equal(buf_put_cstring(b, name), 0);
	assert_int_equal(buf_put_u8(b, certs_only), 0);
	assert_int_equal(buf_put_stringb(b, list), 0);
	buf_free(list);
	return b;
}

/*
 * Plain keys among associated certificates are skipped, as OpenSSH's
 * agent does (ssh-add -s MODULE ~/.ssh/ *.pub sends them).
 */
static void
test_associated_certs(void **state)
{
	struct key *keys[3];
	struct constraints c;
	struct buf *b, *twice, *list;

	(void)state;
	keys[0] = vector_key("ed25519");
	keys[1] = vector_key("ecdsa256-cert");
	keys[2] = vector_key("ecdsa256");
	b = certs_constraint(0, keys, 3);
	assert_int_equal(parse_constraints(buf_ptr(b), buf_len(b), &c), 0);
	assert_int_equal(c.ncerts, 1);
	assert_true(key_is_cert(c.certs[0]));
	assert_true(key_equal_public(c.certs[0], keys[2]));
	assert_false(c.certs_only);
	constraints_clear(&c);
	buf_free(b);

	/* Only plain keys: given, but nothing to attach. */
	b = certs_constraint(1, keys, 1);
	assert_int_equal(parse_constraints(buf_ptr(b), buf_len(b), &c), 0);
	assert_non_null(c.certs);
	assert_int_equal(c.ncerts, 0);
	assert_true(c.certs_only);
	constraints_clear(&c);
	/* Twice: refused, even when the first held no certificate. */
	twice = certs_constraint(1, keys, 1);
	assert_int_equal(buf_put(twice, buf_ptr(b), buf_len(b)), 0);
	assert_int_not_equal(parse_constraints(buf_ptr(twice),
	    buf_len(twice), &c), 0);
	buf_free(twice);
	buf_free(b);

	/* A key that does not parse still fails the whole constraint. */
	assert_non_null(list = buf_new());
	assert_int_equal(key_puts(keys[1], list), 0);
	assert_int_equal(buf_put_cstring(list, "not a key blob"), 0);
	assert_non_null(b = buf_new());
	assert_int_equal(buf_put_u8(b, 255), 0);
	assert_int_equal(buf_put_cstring(b,
	    "associated-certs-v00@openssh.com"), 0);
	assert_int_equal(buf_put_u8(b, 0), 0);
	assert_int_equal(buf_put_stringb(b, list), 0);
	assert_int_not_equal(parse_constraints(buf_ptr(b), buf_len(b), &c),
	    0);
	buf_free(list);
	buf_free(b);
	key_free(keys[0]);
	key_free(keys[1]);
	key_free(keys[2]);
}

/* Send one request through dispatch; return the first reply byte. */
static int
roundtrip(struct conn *c, int peer, const u_char *msg, size_t len)
{
	struct buf *m = buf_from(msg, len), *in = buf_new(), *reply = NULL;
	u_char tmp[65536];
	ssize_t n;
	int type = -1;

	dispatch_message(c, m);
	buf_free(m);
	/* The reply may be sent at once, or after rounds of the loop. */
	for (;;) {
		n = recv(peer, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n > 0) {
			assert_int_equal(buf_put(in, tmp, (size_t)n), 0);
			assert_int_equal(frame_take(in, 1 << 20, &reply), 0);
			if (reply != NULL)
				break;
			continue;
		}
		if (conn_count() == 0 || !loop_running())
			break;
		loop_run_once();
	}
	if (reply != NULL && buf_len(reply) > 0)
		type = buf_ptr(reply)[0];
	buf_free(reply);
	buf_free(in);
	return type;
}

static void
test_dispatch(void **state)
{
	static const u_char list[] = { SSH_AGENTC_REQUEST_IDENTITIES };
	static const u_char list_trailing[] = { SSH_AGENTC_REQUEST_IDENTITIES, 0 };
	static const u_char unknown[] = { 99 };
	static const u_char lock[] = { SSH_AGENTC_LOCK, 0, 0, 0, 1, 'p' };
	static const u_char unlock[] = { SSH_AGENTC_UNLOCK, 0, 0, 0, 1, 'p' };
	static const u_char sign_garbage[] = { SSH_AGENTC_SIGN_REQUEST, 0, 0,
	    0, 1, 'x', 0, 0, 0, 0, 0, 0, 0, 0 };
	static const u_char query[] = { SSH_AGENTC_EXTENSION, 0, 0, 0, 5,
	    'q', 'u', 'e', 'r', 'y' };
	static const u_char add_no_helper[] = { SSH_AGENTC_ADD_IDENTITY, 0, 0,
	    0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9' };
	struct conn *c;
	int sp[2];

	(void)state;
	loop_init();
	agent_idtab = idtab_new();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sp), 0);
	assert_non_null(c = conn_new(sp[0], getuid(), getpid()));
	assert_int_equal(roundtrip(c, sp[1], list, sizeof(list)),
	    SSH_AGENT_IDENTITIES_ANSWER);
	assert_int_equal(roundtrip(c, sp[1], list_trailing,
	    sizeof(list_trailing)), SSH_AGENT_FAILURE);
	assert_int_equal(roundtrip(c, sp[1], unknown, sizeof(unknown)),
	    SSH_AGENT_FAILURE);
	assert_int_equal(roundtrip(c, sp[1], sign_garbage,
	    sizeof(sign_garbage)), SSH_AGENT_FAILURE);
	assert_int_equal(roundtrip(c, sp[1], query, sizeof(query)),
	    SSH_AGENT_EXTENSION_RESPONSE);
	assert_int_equal(roundtrip(c, sp[1], add_no_helper,
	    sizeof(add_no_helper)), SSH_AGENT_FAILURE);
	assert_int_equal(roundtrip(c, sp[1], lock, sizeof(lock)),
	    SSH_AGENT_SUCCESS);
	/* Locked: everything but listing and unlock fails. */
	assert_int_equal(roundtrip(c, sp[1], query, sizeof(query)),
	    SSH_AGENT_FAILURE);
	assert_int_equal(roundtrip(c, sp[1], list, sizeof(list)),
	    SSH_AGENT_IDENTITIES_ANSWER);
	assert_int_equal(roundtrip(c, sp[1], unlock, sizeof(unlock)),
	    SSH_AGENT_SUCCESS);
	conn_free(c);
	close(sp[1]);
	idtab_free(agent_idtab);
	agent_idtab = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idtab_many),
		cmocka_unit_test(test_constraints),
		cmocka_unit_test(test_associated_certs),
		cmocka_unit_test(test_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
