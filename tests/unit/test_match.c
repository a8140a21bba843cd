/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Unit tests for common/match.c: OpenSSH's pattern and pattern-list rules
 * (the -P allowlist, websafe applications, destination constraints,
 * known_hosts host fields, host certificate principals).
 */
#include "config.h"

#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/match.h"

static void
test_pattern(void **state)
{
	(void)state;
	assert_true(match_pattern("root", "root"));
	assert_false(match_pattern("root", "roo"));
	assert_false(match_pattern("roo", "root"));
	assert_true(match_pattern("root", "r*"));
	assert_true(match_pattern("root", "*"));
	assert_true(match_pattern("", "*"));
	assert_true(match_pattern("", "**"));
	assert_true(match_pattern("", ""));
	assert_false(match_pattern("a", ""));
	assert_false(match_pattern("", "?"));
	assert_false(match_pattern("", "a*"));
	assert_true(match_pattern("root", "?oo?"));
	assert_false(match_pattern("root", "?oo"));
	assert_true(match_pattern("root", "*t"));
	assert_true(match_pattern("a.b.example.com", "*.example.com"));
	assert_false(match_pattern("example.com", "*.example.com"));
	assert_true(match_pattern("abcabd", "*abd"));
	assert_true(match_pattern("abcabd", "a*b*d"));
	assert_false(match_pattern("abcabe", "a*b*d"));
	assert_true(match_pattern("aaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
	    "*a*a*a*a*a*a*a*a*b"));
	assert_false(match_pattern("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "*a*a*a*a*a*a*a*a*b"));
	/* Case-sensitive; no escapes, no classes; '*' crosses '/'. */
	assert_false(match_pattern("Root", "root"));
	assert_false(match_pattern("a", "[a]"));
	assert_true(match_pattern("[a]", "[a]"));
	assert_true(match_pattern("\\", "\\"));
	assert_false(match_pattern("x", "\\x"));
	assert_true(match_pattern("/usr/lib/x86_64-linux-gnu/p.so",
	    "/usr/lib/*"));
	assert_true(match_pattern("/usr/lib/a/b.so", "/usr/lib*/*"));
	assert_false(match_pattern("/usr/local/lib/p.so", "/usr/lib*/*"));
	assert_true(match_pattern("?", "?"));
	assert_true(match_pattern("*", "?"));
}

static void
test_pattern_list(void **state)
{
	char *longp;

	(void)state;
	assert_int_equal(match_pattern_list("h1", "h0,h1", 0), 1);
	assert_int_equal(match_pattern_list("h1", "h1,h0", 0), 1);
	assert_int_equal(match_pattern_list("h2", "h0,h1", 0), 0);
	assert_int_equal(match_pattern_list("h1", "h*,!h1", 0), -1);
	assert_int_equal(match_pattern_list("h1", "!h1,h*", 0), -1);
	assert_int_equal(match_pattern_list("h2", "h*,!h1", 0), 1);
	assert_int_equal(match_pattern_list("x", "h*,!h1", 0), 0);
	/* A negation alone never allows anything. */
	assert_int_equal(match_pattern_list("x", "!h1", 0), 0);
	assert_int_equal(match_pattern_list("x", "", 0), 0);
	/* Empty entries match only the empty string. */
	assert_int_equal(match_pattern_list("", ",", 0), 1);
	assert_int_equal(match_pattern_list("x", ",", 0), 0);
	assert_int_equal(match_pattern_list("", "a,,b", 0), 1);
	assert_int_equal(match_pattern_list("x", "a,,b", 0), 0);
	assert_int_equal(match_pattern_list("b", "a,,b", 0), 1);
	assert_int_equal(match_pattern_list("x", "x,", 0), 1);
	assert_int_equal(match_pattern_list("", "x,!", 0), -1);
	/* dolower lowers the patterns, not the subject. */
	assert_int_equal(match_pattern_list("h1", "H0,H1", 1), 1);
	assert_int_equal(match_pattern_list("H1", "h0,h1", 1), 0);
	assert_int_equal(match_pattern_list("H1", "H1", 0), 1);
	assert_int_equal(match_hostname("H1", "h0,h1"), 1);
	assert_int_equal(match_hostname("Host.Example", "*.EXAMPLE,!bad*"),
	    1);
	assert_int_equal(match_hostname("BAD.example", "*.EXAMPLE,!bad*"),
	    -1);
	/* The allowlist: SoftHSM refused, other libraries allowed. */
	assert_int_equal(match_pattern_list(
	    "/usr/lib/softhsm/libsofthsm2.so",
	    "!/usr/lib/softhsm/libsofthsm2.so,/usr/lib/*", 0), -1);
	assert_int_equal(match_pattern_list(
	    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
	    "!/usr/lib/softhsm/libsofthsm2.so,/usr/lib/*", 0), 1);
	assert_int_equal(match_pattern_list("/usr/local/lib/a.so",
	    "/usr/lib*/*,/usr/local/lib*/*", 0), 1);
	assert_int_equal(match_pattern_list("/opt/a.so",
	    "/usr/lib*/*,/usr/local/lib*/*", 0), 0);

	/* A subpattern too long for OpenSSH fails the whole list. */
	longp = malloc(MATCH_SUBPATTERN_MAX + 8);
	assert_non_null(longp);
	memset(longp, 'a', MATCH_SUBPATTERN_MAX + 7);
	longp[0] = 'x';
	longp[1] = ',';
	longp[MATCH_SUBPATTERN_MAX + 7] = '\0';
	assert_int_equal(match_pattern_list("x", longp, 0), 0);
	/* One byte shorter than the limit still works. */
	longp[MATCH_SUBPATTERN_MAX + 1] = '\0';
	assert_int_equal(match_pattern_list("x", longp, 0), 1);
	longp[MATCH_SUBPATTERN_MAX + 1] = 'a';
	longp[MATCH_SUBPATTERN_MAX + 2] = '\0';
	assert_int_equal(match_pattern_list("x", longp, 0), 0);
	free(longp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_pattern_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
