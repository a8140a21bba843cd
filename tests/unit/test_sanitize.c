/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Unit tests for the sanitiser of peer-controlled text (common/sanitize.c). */
#include "config.h"

#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/sanitize.h"

/*
 * The output contract: well-formed UTF-8, no C0/DEL byte, no code point
 * that hides or moves text, at most max columns, quoted when asked.
 */
static void
check_output(const char *s, size_t max, int quoted)
{
	const u_char *p = (const u_char *)s;
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++) {
		assert_true(p[i] >= 0x20 && p[i] != 0x7f);
		if (p[i] == 0xe2 && i + 2 < n) {
			/* U+2028/2029, U+202A..202E, U+2066..2069 */
			assert_false(p[i + 1] == 0x80 &&
			    p[i + 2] >= 0xa8 && p[i + 2] <= 0xae);
			assert_false(p[i + 1] == 0x81 &&
			    p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9);
		}
	}
	assert_true(sanitize_width(s) <= (max < SANITIZE_MAX_MIN ?
	    SANITIZE_MAX_MIN : max));
	if (quoted) {
		assert_true(n >= 2 && s[0] == '"' && s[n - 1] == '"');
		/* Every inner quote is escaped. */
		for (i = 1; i + 1 < n; i++) {
			if (s[i] == '\\')
				i++;
			else
				assert_true(s[i] != '"');
		}
	}
}

static void
expect(const char *in, size_t len, size_t max, int flags, const char *want)
{
	char *s = sanitize_mem(in, len, max, flags);

	assert_non_null(s);
	check_output(s, max, flags & SANITIZE_QUOTE);
	assert_string_equal(s, want);
	free(s);
}

static void
test_plain(void **state)
{
	(void)state;
	expect("git", 3, 64, 0, "git");
	expect("git", 3, 64, SANITIZE_QUOTE, "\"git\"");
	expect("", 0, 64, SANITIZE_QUOTE, "\"\"");
	expect(NULL, 0, 64, 0, "");
	expect("r\xc3\xa9sum\xc3\xa9", 8, 64, 0, "r\xc3\xa9sum\xc3\xa9");
	/* Exactly max columns: kept whole, no ellipsis. */
	expect("0123456789", 10, 10, 0, "0123456789");
}

static void
test_controls(void **state)
{
	(void)state;
	expect("a\nb", 3, 64, 0, "a\\nb");
	expect("a\r\n\tb", 5, 64, 0, "a\\r\\n\\tb");
	expect("\x1b[2J\x1b]0;x\x07", 10, 64, 0, "\\e[2J\\e]0;x\\x07");
	expect("a\0b", 3, 64, 0, "a\\x00b");
	expect("\x7f", 1, 64, 0, "\\x7f");
	expect("back\\slash", 10, 64, 0, "back\\\\slash");
}

static void
test_quotes(void **state)
{
	(void)state;
	/* A quote can not close the field early, in quoted output. */
	expect("x\" (verified host key) \"y", 25, 64, SANITIZE_QUOTE,
	    "\"x\\\" (verified host key) \\\"y\"");
	expect("it's \"ok\"", 9, 64, 0, "it's \"ok\"");
	/* A trailing backslash can not escape the closing quote. */
	expect("a\\", 2, 64, SANITIZE_QUOTE, "\"a\\\\\"");
}

static void
test_spoof(void **state)
{
	const char *in = "root\n\nRoutine re-authentication by IT: press OK";
	char *s;

	(void)state;
	s = sanitize_quoted(in, SANITIZE_MAX_NAME);
	assert_non_null(s);
	check_output(s, SANITIZE_MAX_NAME, 1);
	assert_null(strchr(s, '\n'));
	assert_string_equal(s,
	    "\"root\\n\\nRoutine re-authentication by IT: press OK\"");
	free(s);
}

static void
test_invalid_utf8(void **state)
{
	(void)state;
	expect("\xff\xfe", 2, 64, 0, "\\xff\\xfe");
	expect("\xc0\xaf", 2, 64, 0, "\\xc0\\xaf");		/* overlong '/' */
	expect("\xe0\x80\xaf", 3, 64, 0, "\\xe0\\x80\\xaf");	/* overlong */
	expect("\xed\xa0\x80", 3, 64, 0, "\\xed\\xa0\\x80");	/* surrogate */
	expect("\xf4\x90\x80\x80", 4, 64, 0,
	    "\\xf4\\x90\\x80\\x80");				/* > 10FFFF */
	expect("a\xc3", 2, 64, 0, "a\\xc3");			/* truncated */
	expect("\xc3(", 2, 64, 0, "\\xc3(");
}

static void
test_hidden_unicode(void **state)
{
	(void)state;
	/* RIGHT-TO-LEFT OVERRIDE, LINE SEPARATOR, ZERO WIDTH SPACE, BOM. */
	expect("a\xe2\x80\xae" "b", 5, 64, 0, "a\\u{202e}b");
	expect("\xe2\x80\xa8", 3, 64, 0, "\\u{2028}");
	expect("\xe2\x80\x8b", 3, 64, 0, "\\u{200b}");
	expect("\xef\xbb\xbf", 3, 64, 0, "\\u{feff}");
	expect("\xc2\x9b" "31m", 5, 64, 0, "\\u{9b}31m");	/* C1 CSI */
	expect("\xe2\x81\xa6", 3, 64, 0, "\\u{2066}");
}

static void
test_bounds(void **state)
{
	char *big, *s;
	size_t i;

	(void)state;
	expect("0123456789abc", 13, 10, 0, "0123456...");
	expect("0123456789abc", 13, 10, SANITIZE_QUOTE, "\"01234...\"");
	/* An escape is never cut in the middle. */
	expect("0123\n56789", 10, 8, 0, "0123...");
	/* Multi-byte characters count one column each. */
	expect("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9", 18, 8, 0,
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...");
	/* Below the minimum counts as the minimum. */
	expect("0123456789", 10, 1, 0, "01234...");

	/* 10 KiB of hostile bytes: bounded, printable. */
	assert_non_null(big = malloc(10240));
	for (i = 0; i < 10240; i++)
		big[i] = "a\n\x1b\"\xff\xe2"[i % 6];
	s = sanitize_mem(big, 10240, SANITIZE_MAX_NAME, SANITIZE_QUOTE);
	assert_non_null(s);
	check_output(s, SANITIZE_MAX_NAME, 1);
	assert_true(sanitize_width(s) <= SANITIZE_MAX_NAME);
	assert_true(strlen(s) <= SANITIZE_MAX_NAME * 4);
	assert_non_null(strstr(s, "...\""));
	free(s);
	free(big);
}

/* Every byte value, alone and in every pair, gives printable output. */
static void
test_all_bytes(void **state)
{
	u_char in[3];
	char *s;
	u_int a, b;

	(void)state;
	for (a = 0; a < 256; a++) {
		for (b = 0; b < 256; b++) {
			in[0] = (u_char)a;
			in[1] = (u_char)b;
			in[2] = 0x80;
			s = sanitize_mem(in, 3, 12, (a ^ b) & 1);
			assert_non_null(s);
			check_output(s, 12, (a ^ b) & 1);
			free(s);
		}
	}
}

/* Log lines are one line each, whatever the message holds. */
static void
test_log_line(void **state)
{
	char path[] = "/tmp/test_sanitize.XXXXXX", buf[512];
	FILE *f;
	size_t n;
	int fd, saved;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	saved = dup(2);
	assert_true(dup2(fd, 2) == 2);
	log_init("t", LOG_LEVEL_INFO, 1);
	logit("user %s refused", "root\nRoutine re-authentication\x1b[2J");
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	assert_non_null(f = fdopen(fd, "r"));
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	assert_non_null(strstr(buf,
	    "]: user root\\nRoutine re-authentication\\e[2J refused\n"));
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_spoof),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_hidden_unicode),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_all_bytes),
		cmocka_unit_test(test_log_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
