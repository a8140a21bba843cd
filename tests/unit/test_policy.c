/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Unit tests for agent/policy.c (the policy language: parsing with
 * file:line errors, key matching, every rule kind, first match wins, the
 * fingerprint index, rate limits on a fake clock) and common/json.c (valid
 * JSON from hostile strings).
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

#include <cmocka.h>

#include "agent/policy.h"
#include "common/err.h"
#include "common/json.h"

static struct policy *
parse_ok(const char *text)
{
	struct policy *pol = NULL;
	char *err = NULL;
	int r;

	r = policy_parse("pol", text, strlen(text), &pol, &err);
	if (r != 0)
		fprintf(stderr, "unexpected error: %s\n", err ? err : "?");
	assert_int_equal(r, 0);
	assert_null(err);
	assert_non_null(pol);
	return pol;
}

/* The error of a bad text must name line and contain want. */
static void
parse_bad(const char *text, unsigned int line, const char *want)
{
	struct policy *pol = NULL;
	char *err = NULL, where[32];
	int r;

	r = policy_parse("pol", text, strlen(text), &pol, &err);
	assert_int_not_equal(r, 0);
	assert_null(pol);
	assert_non_null(err);
	snprintf(where, sizeof(where), "pol:%u: ", line);
	if (strncmp(err, where, strlen(where)) != 0 ||
	    strstr(err, want) == NULL)
		fail_msg("error \"%s\": want \"%s...%s\"", err, where, want);
	free(err);
}

static const char *const ssh_keygen[] = { "/usr/bin/ssh-keygen",
	"/usr/bin/git", "/usr/bin/bash", NULL };
static const char *const other_prog[] = { "/tmp/x/ssh-keygen",
	"/usr/bin/bash", NULL };
static const char *const h1_names[] = { "h1", "SHA256:hostkey1", NULL };

static void
query(struct policy_query *q, const char *fp, const char *comment)
{
	memset(q, 0, sizeof(*q));
	q->fingerprint = fp;
	q->comment = comment;
	q->key_type = "ssh-ed25519";
	q->token = POLICY_TOKEN_SOFTWARE;
	q->use = POLICY_USE_OTHER;
	q->programs = ssh_keygen;
	q->now_ms = 1000;
}

static int
allowed(struct policy *pol, const struct policy_query *q)
{
	struct policy_verdict v;

	policy_decide(pol, q, &v);
	if (!v.allow)
		assert_non_null(v.reason);
	return v.allow;
}

static void
test_parse_errors(void **state)
{
	(void)state;
	parse_bad("bogus yes\n", 1, "unknown keyword \"bogus\"");
	parse_bad("\n# c\ndefault maybe\n", 3, "default wants");
	parse_bad("key\n", 1, "key wants");
	parse_bad("key comment=a\n\tlogin perhaps\n", 2, "yes or no");
	parse_bad("key all comment=x\n", 1, "\"all\" goes alone");
	parse_bad("key colour=red\n", 1, "unknown key criterion \"colour\"");
	parse_bad("key fingerprint=MD5:aa\n", 1, "SHA256");
	parse_bad("key token=usb\n", 1, "token wants");
	parse_bad("key all\n\tmax-rate 0/1m\n", 2, "max-rate");
	parse_bad("key all\n\tmax-rate 10/soon\n", 2, "bad duration");
	parse_bad("key all\n\tmin-interval -3\n", 2, "bad duration");
	parse_bad("key all\n\tnamespaces git,,file\n", 2, "empty pattern");
	parse_bad("key all\n\tnamespaces git\n\tnamespaces file\n", 3,
	    "given twice");
	parse_bad("key all\n\tconfirm sometimes\n", 2, "confirm wants");
	parse_bad("key all\n\thosts \"a b\n", 2, "unterminated quote");
	parse_bad("audit-log relative/path\n", 1, "absolute");
	parse_bad("audit-log-size 10X\n", 1, "bad size");
	parse_bad("on-screen-lock explode\n", 1, "want forget");
	parse_bad("key all\n\tdeny now\n", 2, "deny takes no value");
}

static void
test_parse_limits(void **state)
{
	struct policy *pol = NULL;
	char *text, *err = NULL;
	size_t len = POLICY_MAX_LINE + 10;

	(void)state;
	/* A line over the bound. */
	assert_non_null(text = malloc(len + 1));
	memset(text, 'a', len);
	text[len] = '\0';
	assert_int_equal(policy_parse("pol", text, len, &pol, &err),
	    TOK_ERR_STRING_TOO_LARGE);
	assert_null(pol);
	assert_non_null(strstr(err, "pol:1:"));
	free(err);
	/* A NUL byte in a line. */
	err = NULL;
	assert_int_not_equal(policy_parse("pol", "default\0 allow\n", 15,
	    &pol, &err), 0);
	assert_non_null(strstr(err, "NUL"));
	free(err);
	free(text);
	/* Empty and comment-only files are valid: no rules. */
	pol = parse_ok("");
	assert_int_equal(policy_rule_count(pol), 0);
	policy_free(pol);
	pol = parse_ok("# nothing\n\n   # still nothing\r\n");
	assert_int_equal(policy_rule_count(pol), 0);
	policy_free(pol);
}

static void
test_default(void **state)
{
	struct policy_query q;
	struct policy_verdict v;
	struct policy *pol;

	(void)state;
	query(&q, "SHA256:aaa", "k");
	assert_true(allowed(NULL, &q));
	pol = parse_ok("default deny\n");
	assert_false(allowed(pol, &q));
	policy_decide(pol, &q, &v);
	assert_string_equal(v.where, "pol (default)");
	policy_free(pol);
	pol = parse_ok("default confirm\nkey comment=quiet\n\tconfirm never\n");
	policy_decide(pol, &q, &v);
	assert_true(v.allow && v.confirm);
	query(&q, "SHA256:aaa", "quiet");
	policy_decide(pol, &q, &v);
	assert_true(v.allow && !v.confirm);
	assert_string_equal(v.where, "pol:2");
	policy_free(pol);
}

static void
test_match_keys(void **state)
{
	struct policy_query q;
	struct policy_verdict v;
	struct policy *pol;

	(void)state;
	pol = parse_ok(
	    "default allow\n"
	    "key fingerprint=SHA256:fp1,SHA256:fp2\n"	/* 2 */
	    "\tdeny\n"
	    "key comment=\"work *\" type=ssh-ed25519\n"	/* 4 */
	    "\tdeny\n"
	    "key token=fido,piv\n"			/* 6 */
	    "\tdeny\n"
	    "key comment=*,!keep-*\n"			/* 8 */
	    "\tnamespaces git\n");
	query(&q, "SHA256:fp2", "anything");
	policy_decide(pol, &q, &v);
	assert_false(v.allow);
	assert_string_equal(v.where, "pol:2");
	query(&q, "SHA256:zz", "work laptop");
	policy_decide(pol, &q, &v);
	assert_string_equal(v.where, "pol:4");
	q.key_type = "ecdsa-sha2-nistp256";
	policy_decide(pol, &q, &v);
	assert_string_equal(v.where, "pol:8");	/* type does not match 4 */
	query(&q, "SHA256:zz", "keep-me");
	q.token = POLICY_TOKEN_FIDO;
	policy_decide(pol, &q, &v);
	assert_string_equal(v.where, "pol:6");
	q.token = POLICY_TOKEN_PKCS11;
	policy_decide(pol, &q, &v);
	assert_true(v.allow);
	assert_string_equal(v.where, "pol (default)");	/* negated */
	policy_free(pol);
}

/* The fingerprint index keeps file order against general rules. */
static void
test_first_match_order(void **state)
{
	struct policy_query q;
	struct policy_verdict v;
	struct policy *pol;

	(void)state;
	pol = parse_ok(
	    "key comment=a*\n"				/* 1 */
	    "\tnamespaces one\n"
	    "key fingerprint=SHA256:x\n"		/* 3 */
	    "\tnamespaces two\n"
	    "key all\n"					/* 5 */
	    "\tnamespaces three\n"
	    "key fingerprint=SHA256:y\n"		/* 7: after "all" */
	    "\tdeny\n");
	query(&q, "SHA256:x", "abc");
	policy_decide(pol, &q, &v);
	assert_string_equal(v.where, "pol:1");
	query(&q, "SHA256:x", "zzz");
	policy_decide(pol, &q, &v);
	assert_string_equal(v.where, "pol:3");
	query(&q, "SHA256:y", "zzz");
	policy_decide(pol, &q, &v);
	assert_string_equal(v.where, "pol:5");	/* rule 7 is never reached */
	assert_true(v.allow);
	policy_free(pol);
}

static void
test_uses(void **state)
{
	struct policy_query q;
	struct policy *pol;

	(void)state;
	pol = parse_ok("key all\n\tnamespaces git,file-*\n\tlogin no\n"
	    "\tother-data no\n");
	query(&q, "SHA256:a", "k");
	q.use = POLICY_USE_SSHSIG;
	q.sshsig_namespace = "git";
	assert_true(allowed(pol, &q));
	q.sshsig_namespace = "file-x";
	assert_true(allowed(pol, &q));
	q.sshsig_namespace = "file";
	assert_false(allowed(pol, &q));
	q.use = POLICY_USE_LOGIN;
	assert_false(allowed(pol, &q));
	q.use = POLICY_USE_OTHER;
	assert_false(allowed(pol, &q));
	policy_free(pol);
	pol = parse_ok("key all\n\tnamespaces none\n");
	q.use = POLICY_USE_SSHSIG;
	q.sshsig_namespace = "git";
	assert_false(allowed(pol, &q));
	q.use = POLICY_USE_LOGIN;
	assert_true(allowed(pol, &q));
	policy_free(pol);
}

static void
test_destinations(void **state)
{
	struct policy_query q;
	struct policy *pol;

	(void)state;
	pol = parse_ok("key all\n\thosts h1,*.example.com,!bad.example.com\n"
	    "\tforwarding no\n");
	query(&q, "SHA256:a", "k");
	q.use = POLICY_USE_LOGIN;
	assert_false(allowed(pol, &q));		/* no binding */
	q.bound = 1;
	q.dest_hosts = h1_names;
	assert_true(allowed(pol, &q));
	q.forwarded = 1;
	assert_false(allowed(pol, &q));		/* forwarding no */
	q.forwarded = 0;
	{
		const char *const names[] = { "bad.example.com", NULL };
		const char *const ok[] = { "ok.Example.COM", NULL };

		q.dest_hosts = names;
		assert_false(allowed(pol, &q));	/* negated */
		q.dest_hosts = ok;
		assert_true(allowed(pol, &q));	/* host names ignore case */
	}
	/* Host key fingerprints are names too. */
	policy_free(pol);
	pol = parse_ok("key all\n\thosts SHA256:hostkey1\n");
	q.dest_hosts = h1_names;
	assert_true(allowed(pol, &q));
	/* hosts limits logins only. */
	q.use = POLICY_USE_SSHSIG;
	q.sshsig_namespace = "git";
	q.bound = 0;
	q.dest_hosts = NULL;
	assert_true(allowed(pol, &q));
	policy_free(pol);
}

static void
test_programs(void **state)
{
	struct policy_query q;
	struct policy_verdict v;
	struct policy *pol;

	(void)state;
	pol = parse_ok("key comment=p\n\tprograms /usr/bin/ssh-keygen\n"
	    "key comment=c\n\tcallers /usr/bin/git,!/usr/bin/python3\n"
	    "key comment=u\n\tconfirm unless-program /usr/bin/ssh-*\n"
	    "key comment=f\n\tconfirm forwarded\n");
	query(&q, "SHA256:a", "p");
	assert_true(allowed(pol, &q));
	q.programs = other_prog;
	assert_false(allowed(pol, &q));
	q.programs = NULL;			/* unknown requester */
	assert_false(allowed(pol, &q));
	query(&q, "SHA256:a", "c");
	assert_true(allowed(pol, &q));		/* git is an ancestor */
	q.programs = other_prog;
	assert_false(allowed(pol, &q));
	{
		const char *const py[] = { "/usr/bin/ssh-keygen",
		    "/usr/bin/python3", "/usr/bin/git", NULL };

		q.programs = py;
		assert_false(allowed(pol, &q));	/* a negated caller */
	}
	query(&q, "SHA256:a", "u");
	policy_decide(pol, &q, &v);
	assert_true(v.allow && !v.confirm);
	q.programs = other_prog;
	policy_decide(pol, &q, &v);
	assert_true(v.allow && v.confirm);
	query(&q, "SHA256:a", "f");
	policy_decide(pol, &q, &v);
	assert_true(v.allow && !v.confirm);
	q.forwarded = 1;
	policy_decide(pol, &q, &v);
	assert_true(v.allow && v.confirm);
	policy_free(pol);
}

static void
test_rates(void **state)
{
	struct policy_query q, q2;
	struct policy *pol;

	(void)state;
	pol = parse_ok("key comment=r\n\tmax-rate 3/1m\n"
	    "key comment=i\n\tmin-interval 10s\n");
	query(&q, "SHA256:r", "r");
	q.now_ms = 100000;
	assert_true(allowed(pol, &q));
	assert_true(allowed(pol, &q));
	assert_true(allowed(pol, &q));
	assert_false(allowed(pol, &q));		/* burst of 3 used */
	/* Another key under the same rule has its own bucket. */
	query(&q2, "SHA256:r2", "r");
	q2.now_ms = 100000;
	assert_true(allowed(pol, &q2));
	q.now_ms += 20000;			/* a third of a minute: one */
	assert_true(allowed(pol, &q));
	assert_false(allowed(pol, &q));
	q.now_ms += 60000;			/* full again */
	assert_true(allowed(pol, &q));
	assert_true(allowed(pol, &q));
	assert_true(allowed(pol, &q));
	assert_false(allowed(pol, &q));
	query(&q, "SHA256:i", "i");
	q.now_ms = 5000;
	assert_true(allowed(pol, &q));
	q.now_ms += 9999;
	assert_false(allowed(pol, &q));
	q.now_ms += 1;
	assert_true(allowed(pol, &q));
	/* A refused request does not count as a use. */
	q.now_ms += 5000;
	assert_false(allowed(pol, &q));
	q.now_ms += 5000;
	assert_true(allowed(pol, &q));
	policy_free(pol);
}

static void
test_settings(void **state)
{
	struct policy_query q;
	struct policy *pol;

	(void)state;
	pol = parse_ok("audit-log /var/log/x.json\naudit-log-size 512K\n"
	    "on-screen-lock lock\non-suspend remove\n"
	    "key comment=gone\n\tremove-on-lock yes\n");
	assert_string_equal(policy_audit_log(pol), "/var/log/x.json");
	assert_int_equal(policy_audit_max_size(pol), 512 * 1024);
	assert_int_equal(policy_on_lock(pol), POLICY_ON_LOCK_LOCK);
	assert_int_equal(policy_on_suspend(pol), POLICY_ON_LOCK_REMOVE);
	query(&q, "SHA256:g", "gone");
	assert_true(policy_remove_on_lock(pol, &q));
	query(&q, "SHA256:g", "stay");
	assert_false(policy_remove_on_lock(pol, &q));
	policy_free(pol);
	assert_int_equal(policy_on_lock(NULL), POLICY_ON_LOCK_FORGET);
}

/* A thousand fingerprint rules: each key finds its own. */
static void
test_many_rules(void **state)
{
	struct policy_query q;
	struct policy_verdict v;
	struct policy *pol;
	char *text, fp[64], want[32];
	size_t len = 0, cap = 1000 * 80;
	int i;

	(void)state;
	assert_non_null(text = malloc(cap));
	for (i = 0; i < 1000; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "key fingerprint=SHA256:key%04d\n\tnamespaces ns%d\n",
		    i, i);
	pol = parse_ok(text);
	assert_int_equal(policy_rule_count(pol), 1000);
	for (i = 0; i < 1000; i += 37) {
		snprintf(fp, sizeof(fp), "SHA256:key%04d", i);
		query(&q, fp, "k");
		q.use = POLICY_USE_SSHSIG;
		q.sshsig_namespace = "ns0";
		policy_decide(pol, &q, &v);
		snprintf(want, sizeof(want), "pol:%d", 2 * i + 1);
		assert_string_equal(v.where, want);
		assert_int_equal(v.allow, i == 0);
	}
	policy_free(pol);
	free(text);
}

static void
test_json(void **state)
{
	struct json *j;
	char *s;

	(void)state;
	assert_non_null(j = json_new());
	json_str(j, "a", "q\"b\\s\n\x1b[31m\x7f");
	json_strn(j, "bad", "\xff\xc3(ok\xe2\x82\xac", 8);
	json_str(j, "null", NULL);
	json_int(j, "n", -42);
	json_bool(j, "t", 1);
	json_arr_begin(j, "arr");
	json_str(j, NULL, "x");
	json_obj_begin(j, NULL);
	json_int(j, "y", 1);
	json_obj_end(j);
	json_arr_end(j);
	assert_int_equal(json_finish(j, &s), 0);
	assert_string_equal(s, "{\"a\":\"q\\\"b\\\\s\\n\\u001b[31m\\u007f\","
	    "\"bad\":\"\\ufffd\\ufffd(ok\xe2\x82\xac\",\"null\":null,"
	    "\"n\":-42,\"t\":true,\"arr\":[\"x\",{\"y\":1}]}");
	free(s);
	/* Misuse is an error, not broken JSON. */
	assert_non_null(j = json_new());
	json_str(j, NULL, "no key in an object");
	assert_int_equal(json_finish(j, &s), TOK_ERR_INVALID_ARGUMENT);
	assert_null(s);
	assert_non_null(j = json_new());
	json_arr_begin(j, "open");
	assert_int_equal(json_finish(j, &s), TOK_ERR_INVALID_ARGUMENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_match_keys),
		cmocka_unit_test(test_first_match_order),
		cmocka_unit_test(test_uses),
		cmocka_unit_test(test_destinations),
		cmocka_unit_test(test_programs),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_many_rules),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
