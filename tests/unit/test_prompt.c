/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Snapshot tests of prompt and notice text (agent/prompt.c): the first line
 * asks in at most 60 columns, the details follow, tokens are named by
 * label or product (never a module path), and peer fields are quoted.
 */
#include "config.h"

#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/assuan.h"
#include "agent/conn.h"
#include "agent/idtab.h"
#include "agent/prompt.h"
#include "agent/status.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/sanitize.h"
#include "common/secmem.h"

static struct identity *
make_identity(const char *comment, const char *provider)
{
	struct identity *id = calloc(1, sizeof(*id));
	struct key *k = NULL;

	assert_non_null(id);
	assert_int_equal(key_generate(KEY_ED25519, 0, &k), 0);
	assert_int_equal(key_dup_public(k, &id->key), 0);
	key_free(k);
	assert_non_null(id->blob = buf_new());
	assert_int_equal(key_to_blob(id->key, id->blob), 0);
	assert_int_equal(key_fingerprint(id->key, &id->fingerprint), 0);
	assert_non_null(id->comment = strdup(comment));
	if (provider != NULL)
		assert_non_null(id->provider = strdup(provider));
	id->present = 1;
	return id;
}

/* The first line of s, which must fit, and what follows it. */
static void
check_first(const char *s, const char *want)
{
	const char *nl;
	char *first;

	assert_non_null(s);
	assert_non_null(nl = strchr(s, '\n'));
	assert_non_null(first = strndup(s, (size_t)(nl - s)));
	if (sanitize_width(first) > PROMPT_LINE_MAX)
		fail_msg("first line over %d: %s", PROMPT_LINE_MAX, first);
	if (want != NULL && strcmp(first, want) != 0)
		fail_msg("first line \"%s\", want \"%s\"", first, want);
	free(first);
}

static void
put_str(struct buf *b, const char *s)
{
	assert_int_equal(buf_put_cstring(b, s), 0);
}

static struct buf *
sshsig(const char *ns)
{
	struct buf *b = buf_new();

	assert_non_null(b);
	assert_int_equal(buf_put(b, "SSHSIG", 6), 0);
	put_str(b, ns);
	put_str(b, "");
	put_str(b, "sha512");
	assert_int_equal(buf_put_string(b, "0123", 4), 0);
	return b;
}

static struct buf *
login(const struct identity *id, const char *user)
{
	struct buf *b = buf_new();

	assert_non_null(b);
	assert_int_equal(buf_put_string(b,
	    "0123456789abcdef0123456789abcdef", 32), 0);
	assert_int_equal(buf_put_u8(b, 50), 0);
	put_str(b, user);
	put_str(b, "ssh-connection");
	put_str(b, "publickey");
	assert_int_equal(buf_put_u8(b, 1), 0);
	put_str(b, "ssh-ed25519");
	assert_int_equal(buf_put_stringb(b, id->blob), 0);
	return b;
}

static struct conn *
make_conn(void)
{
	struct conn *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->pid = getpid();
	c->fd = -1;
	return c;
}

static void
test_confirm(void **state)
{
	struct identity *id = make_identity("work-yubikey", NULL);
	struct conn *c = make_conn();
	struct prompt_req *pr;
	struct buf *d;
	char *s, *want;

	(void)state;
	d = sshsig("git");
	assert_non_null(pr = prompt_req_new(c, id, buf_ptr(d), buf_len(d)));
	assert_non_null(s = prompt_confirm(pr));
	/* The key name does not fit: the details give it. */
	check_first(s, "Allow \"test_prompt\" to sign for namespace \"git\"?");
	assert_non_null(strstr(s, "\nNamespace: \"git\"\n"));
	assert_int_equal(asprintf(&want, "\nKey: \"work-yubikey\" ssh-ed25519 "
	    "%s\n", id->fingerprint) > 0, 1);
	assert_non_null(strstr(s, want));
	assert_non_null(strstr(s, "\nRequested by: \"test_prompt\" (pid "));
	assert_non_null(strstr(s, "\nCommand: \""));
	assert_non_null(strstr(s, "\n(Quoted text comes from"));
	assert_non_null(strstr(prompt_req_summary(pr),
	    "to sign for namespace \"git\" with key \"work-yubikey\""));
	assert_null(strchr(prompt_req_summary(pr), '\n'));
	free(want);
	free(s);
	prompt_req_free(pr);
	buf_free(d);

	d = login(id, "root");
	assert_non_null(pr = prompt_req_new(c, id, buf_ptr(d), buf_len(d)));
	assert_non_null(s = prompt_confirm(pr));
	check_first(s, "Allow \"test_prompt\" to log in as \"root\" (host "
	    "unknown)?");
	assert_non_null(strstr(s, "\nDestination: unknown (the connection "
	    "is not bound to an SSH session)\n"));
	free(s);
	prompt_req_free(pr);
	buf_free(d);

	d = sshsig("x");
	assert_int_equal(buf_put_u8(d, 0), 0);	/* trailing: no SSHSIG */
	buf_free(d);
	free(c);
	identity_free(id);
}

static void
test_long_fields_fit(void **state)
{
	struct identity *id = make_identity(
	    "a-very-long-key-comment-that-goes-on-and-on-and-on", NULL);
	struct conn *c = make_conn();
	struct prompt_req *pr;
	struct buf *d;
	char *s;

	(void)state;
	d = login(id, "a-user-name-that-is-much-longer-than-any-real-one");
	assert_non_null(pr = prompt_req_new(c, id, buf_ptr(d), buf_len(d)));
	assert_non_null(s = prompt_confirm(pr));
	check_first(s, NULL);
	assert_non_null(strstr(s, "\nKey: \"a-very-long-key-comment-that-goes-"
	    "on-and-on-and-on\" "));
	free(s);
	assert_non_null(s = prompt_touch(pr, "Yubico YubiKey OTP+FIDO+CCID "
	    "with a long product string", "/dev/hidraw12"));
	check_first(s, "Touch your security key");
	assert_non_null(strstr(s, "\nToken: \"Yubico YubiKey OTP+FIDO+CCID "
	    "with a long product string\" at /dev/hidraw12\n"));
	free(s);
	prompt_req_free(pr);
	buf_free(d);
	free(c);
	identity_free(id);
}

static void
test_pin(void **state)
{
	struct identity *id = make_identity("SoftHSM token/p256",
	    "/usr/lib/softhsm/libsofthsm2.so");
	struct identity *sk = make_identity("sk-work", NULL);
	struct prompt_req *pr;
	char *s, *label;

	(void)state;
	/* A PKCS#11 token by its label, never the module path. */
	assert_non_null(label = prompt_token_label(id));
	assert_string_equal(label, "SoftHSM token");
	assert_non_null(pr = prompt_req_for_key(id));
	assert_non_null(s = prompt_pin(pr, NULL, "token", label, NULL, 0,
	    PROMPT_RETRIES_UNKNOWN));
	check_first(s, "Enter PIN for token \"SoftHSM token\"");
	assert_null(strstr(s, "libsofthsm2"));
	assert_null(strstr(s, "/usr/lib"));
	assert_non_null(strstr(s, "\nToken: \"SoftHSM token\"\n"));
	free(s);
	prompt_req_free(pr);
	free(label);

	/* A wrong PIN with tries left, a security key by its product. */
	assert_non_null(pr = prompt_req_for_key(sk));
	assert_non_null(s = prompt_pin(pr, NULL, "security key",
	    "Yubico YubiKey 5", "/dev/hidraw3", 1, 2));
	check_first(s, "Wrong PIN (2 tries left). Enter PIN for your security "
	    "key");
	assert_non_null(strstr(s, "\nToken: \"Yubico YubiKey 5\" at "
	    "/dev/hidraw3\n"));
	free(s);
	/* Few tries left before a first PIN: said. */
	assert_non_null(s = prompt_pin(pr, NULL, "security key",
	    "YubiKey", NULL, 0, 2));
	check_first(s, "Enter PIN for security key \"YubiKey\"");
	assert_non_null(strstr(s, "Few PIN tries left"));
	free(s);
	/* A PIV card's full 3 tries: no warning. */
	assert_non_null(s = prompt_pin(pr, NULL, "security key",
	    "YubiKey", NULL, 0, 3));
	assert_null(strstr(s, "Few PIN tries left"));
	free(s);
	/* A device with no product name: the device path, once. */
	assert_non_null(s = prompt_pin(NULL, "to import its resident SSH keys",
	    "security key", "unix:/tmp/t.sock", "unix:/tmp/t.sock", 0,
	    PROMPT_RETRIES_UNKNOWN));
	assert_string_equal(s, "Enter PIN for your security key\n"
	    "to import its resident SSH keys\nToken: unix:/tmp/t.sock\n");
	free(s);
	prompt_req_free(pr);
	identity_free(id);
	identity_free(sk);
}

static void
test_fit(void **state)
{
	char *lines[2], *s;

	(void)state;
	lines[0] = "a line that is much too long to be the first line of a "
	    "prompt, surely";
	lines[1] = "short";
	assert_non_null(s = prompt_fit(lines, 2));
	assert_string_equal(s, "short");
	free(s);
	assert_non_null(s = prompt_fit(lines, 1));
	assert_int_equal(sanitize_width(s), PROMPT_LINE_MAX);
	free(s);
}

/* A status reply (after type and name) with hostile strings. */
static struct buf *
status_reply(void)
{
	struct buf *b = buf_new();
	const char *evil = "evil\n\x1b[2Jname\"";

	assert_non_null(b);
	assert_int_equal(buf_put_u32(b, STATUS_VERSION), 0);
	/* tokens */
	assert_int_equal(buf_put_u32(b, 1), 0);
	put_str(b, "fido");
	put_str(b, evil);
	put_str(b, "/dev/hidraw3");
	put_str(b, "");
	assert_int_equal(buf_put_u8(b, 1), 0);
	/* keys */
	assert_int_equal(buf_put_u32(b, 1), 0);
	put_str(b, "ssh-ed25519");
	put_str(b, "SHA256:x");
	put_str(b, evil);
	put_str(b, "software");
	assert_int_equal(buf_put_u8(b, 1), 0);
	put_str(b, "confirm");
	/* pending */
	assert_int_equal(buf_put_u32(b, 1), 0);
	assert_int_equal(buf_put_u64(b, 7), 0);
	assert_int_equal(buf_put_u32(b, 42), 0);
	put_str(b, evil);
	put_str(b, "SHA256:x");
	put_str(b, "c");
	put_str(b, "touch");
	put_str(b, evil);
	assert_int_equal(buf_put_u32(b, 3), 0);
	put_str(b, "what");
	/* pins */
	assert_int_equal(buf_put_u32(b, 1), 0);
	put_str(b, evil);
	put_str(b, "/dev/hidraw3");
	assert_int_equal(buf_put_u32(b, 60), 0);
	/* helpers */
	assert_int_equal(buf_put_u32(b, 1), 0);
	put_str(b, "soft");
	put_str(b, "software keys");
	assert_int_equal(buf_put_u8(b, 1), 0);
	assert_int_equal(buf_put_u32(b, 99), 0);
	assert_int_equal(buf_put_u32(b, 0), 0);
	assert_int_equal(buf_put_u32(b, 2), 0);
	return b;
}

static void
test_status_parse(void **state)
{
	struct buf *b, *in, *out;
	size_t i, n;
	int json;

	(void)state;
	b = status_reply();
	for (json = 0; json < 2; json++) {
		assert_non_null(in = buf_from(buf_ptr(b), buf_len(b)));
		assert_non_null(out = buf_new());
		assert_int_equal(status_parse(in, json, out), 0);
		assert_int_equal(buf_put_u8(out, 0), 0);
		for (i = 0; i + 1 < buf_len(out); i++)
			assert_true(buf_ptr(out)[i] >= 0x20 ||
			    buf_ptr(out)[i] == '\n');
		if (json) {
			assert_non_null(strstr((const char *)buf_ptr(out),
			    "\"name\": \"evil\\\\n\\\\e[2Jname\\\"\""));
			assert_non_null(strstr((const char *)buf_ptr(out),
			    "\"restarts\": 2}]}\n"));
		} else {
			assert_non_null(strstr((const char *)buf_ptr(out),
			    "  fido \"evil\\n\\e[2Jname\\\"\" at /dev/hidraw3, "
			    "present\n"));
			assert_non_null(strstr((const char *)buf_ptr(out),
			    "waiting for touch on token \"evil"));
		}
		buf_free(in);
		buf_free(out);
	}
	/* Every truncation fails, and so does a trailing byte. */
	n = buf_len(b);
	for (i = 0; i < n; i++) {
		assert_non_null(in = buf_from(buf_ptr(b), i));
		assert_non_null(out = buf_new());
		assert_int_not_equal(status_parse(in, 0, out), 0);
		buf_free(in);
		buf_free(out);
	}
	assert_int_equal(buf_put_u8(b, 0), 0);
	assert_non_null(in = buf_from(buf_ptr(b), buf_len(b)));
	assert_non_null(out = buf_new());
	assert_int_not_equal(status_parse(in, 1, out), 0);
	buf_free(in);
	buf_free(out);
	buf_free(b);
	/* A count larger than the bytes that follow fails at once. */
	assert_non_null(b = buf_new());
	assert_int_equal(buf_put_u32(b, STATUS_VERSION), 0);
	assert_int_equal(buf_put_u32(b, 0xffffffff), 0);
	assert_non_null(out = buf_new());
	assert_int_not_equal(status_parse(b, 0, out), 0);
	buf_free(out);
	buf_free(b);
}

/* Feed s to a reader whose final reply is final; returns assuan_feed's. */
static int
feed(struct assuan *a, const char *s)
{
	return assuan_feed(a, s, strlen(s));
}

static void
test_assuan(void **state)
{
	struct assuan *a;
	struct buf *b;
	char *pin, *big;
	size_t i;

	(void)state;
	/* greeting, OPTION (refused: fine), SETDESC, GETPIN */
	assert_non_null(a = assuan_new(3));
	assert_int_equal(feed(a, "OK Pleased to meet you\n# comment\n"), 0);
	assert_int_equal(feed(a, "ERR 536871187 Unknown option\nOK\nS X\n"),
	    0);
	assert_int_equal(feed(a, "D 12%2534%0a"), 0);	/* split line */
	assert_int_equal(feed(a, "x\nD y\nOK\nrest is not read\n"), 1);
	assert_int_equal(assuan_result(a), 0);
	assert_int_equal(assuan_data_len(a), 8);
	assert_non_null(pin = assuan_take_data(a));
	assert_string_equal(pin, "12%34\nxy");
	secmem_free(pin);
	assuan_free(a);

	/* cancelled: the ERR code */
	assert_non_null(a = assuan_new(1));
	assert_int_equal(feed(a, "OK\nERR 83886179 Operation cancelled\n"), 1);
	assert_int_equal(assuan_result(a) & 0xffff, ASSUAN_GPG_ERR_CANCELED);
	assert_null(assuan_take_data(a));
	assuan_free(a);
	/* an ERR without a code is still an error */
	assert_non_null(a = assuan_new(0));
	assert_int_equal(feed(a, "ERR\n"), 1);
	assert_int_not_equal(assuan_result(a), 0);
	assuan_free(a);
	assert_non_null(a = assuan_new(0));
	assert_int_equal(feed(a, "ERR 0\n"), 1);
	assert_int_not_equal(assuan_result(a), 0);
	assuan_free(a);

	/* hostile replies */
	assert_non_null(a = assuan_new(2));
	assert_int_equal(feed(a, "D early\n"), TOK_ERR_PROTOCOL);
	assuan_free(a);
	assert_non_null(a = assuan_new(1));
	assert_int_equal(feed(a, "OK\nINQUIRE QUALITY x\n"), TOK_ERR_PROTOCOL);
	assuan_free(a);
	assert_non_null(a = assuan_new(1));
	assert_int_equal(feed(a, "OK\nD 1%4\n"), TOK_ERR_INVALID_FORMAT);
	assuan_free(a);
	assert_non_null(a = assuan_new(1));
	assert_int_equal(feed(a, "OK\nD 1%zz\n"), TOK_ERR_INVALID_FORMAT);
	assuan_free(a);
	assert_non_null(a = assuan_new(1));
	assert_int_equal(feed(a, "OKAY\n"), TOK_ERR_PROTOCOL);
	assuan_free(a);
	/* a NUL in the PIN: no PIN */
	assert_non_null(a = assuan_new(1));
	assert_int_equal(feed(a, "OK\nD 1%002\nOK\n"), 1);
	assert_null(assuan_take_data(a));
	assuan_free(a);
	/* a line over the limit */
	assert_non_null(big = malloc(ASSUAN_LINE_MAX + 2));
	memset(big, 'A', ASSUAN_LINE_MAX + 1);
	big[ASSUAN_LINE_MAX + 1] = '\0';
	assert_non_null(a = assuan_new(1));
	assert_int_equal(feed(a, big), TOK_ERR_STRING_TOO_LARGE);
	assuan_free(a);
	/* data over the limit, in lines within it */
	assert_non_null(a = assuan_new(1));
	assert_int_equal(feed(a, "OK\n"), 0);
	big[0] = 'D';
	big[1] = ' ';
	big[500] = '\n';
	big[501] = '\0';
	assert_int_equal(feed(a, big), 0);
	assert_int_equal(feed(a, big), 0);
	assert_int_equal(feed(a, big), TOK_ERR_STRING_TOO_LARGE);
	assuan_free(a);
	free(big);
	/* a flood of status lines */
	assert_non_null(a = assuan_new(1));
	for (i = 0; i < ASSUAN_LINES_MAX - 1; i++)
		assert_int_equal(feed(a, "S X\n"), 0);
	assert_int_equal(feed(a, "S X\nS X\n"), TOK_ERR_PROTOCOL);
	assuan_free(a);

	/* commands: a hostile argument can not start a command */
	assert_non_null(b = buf_new());
	assert_int_equal(assuan_put_command(b, "SETDESC",
	    "a\nBYE\r100%\x1b"), 0);
	assert_int_equal(assuan_put_command(b, "GETPIN", NULL), 0);
	assert_int_equal(buf_put_u8(b, 0), 0);
	assert_string_equal((const char *)buf_ptr(b),
	    "SETDESC a%0ABYE%0D100%25%1B\nGETPIN\n");
	buf_free(b);
	assert_non_null(big = malloc(5000));
	memset(big, '\n', 4999);
	big[4999] = '\0';
	assert_non_null(b = buf_new());
	assert_int_equal(assuan_put_command(b, "SETDESC", big), 0);
	assert_true(buf_len(b) <= ASSUAN_LINE_MAX + 1);
	assert_int_equal(buf_ptr(b)[buf_len(b) - 1], '\n');
	assert_null(memchr(buf_ptr(b), '\n', buf_len(b) - 1));
	buf_free(b);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confirm),
		cmocka_unit_test(test_long_fields_fit),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_status_parse),
		cmocka_unit_test(test_assuan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
