/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness for common/match.c.  Input: subject, NUL byte, pattern
 * list.  match_pattern is checked against a dynamic-programming reference
 * for every entry of the list, and match_pattern_list against the list
 * rule computed from those answers; any disagreement aborts.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX	512

/* Reference: row[j] = pattern[0..j) matches s[0..i). */
static int
ref_match(const char *s, const char *p)
{
	size_t n = strlen(s), m = strlen(p), i, j;
	unsigned char prev[FUZZ_MAX + 1], cur[FUZZ_MAX + 1];

	if (m > FUZZ_MAX)
		abort();
	memset(prev, 0, sizeof(prev));
	prev[0] = 1;
	for (j = 1; j <= m; j++)
		prev[j] = prev[j - 1] && p[j - 1] == '*';
	for (i = 1; i <= n; i++) {
		cur[0] = 0;
		for (j = 1; j <= m; j++) {
			if (p[j - 1] == '*')
				cur[j] = cur[j - 1] || prev[j];
			else
				cur[j] = prev[j - 1] &&
				    (p[j - 1] == '?' || p[j - 1] == s[i - 1]);
		}
		memcpy(prev, cur, m + 1);
	}
	return prev[m];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *s, *list, *copy, *cp, *ent;
	const uint8_t *nul;
	int expect = 0, neg, r;

	if (size > 2 * FUZZ_MAX)
		return 0;
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if ((nul = memchr(data, '\0', size)) == NULL) {
		free(buf);
		return 0;
	}
	s = buf;
	list = buf + (nul - data) + 1;
	if (strlen(list) > FUZZ_MAX || (copy = strdup(list)) == NULL) {
		free(buf);
		return 0;
	}
	/* strsep over "" yields one empty entry; the real list has none. */
	for (cp = copy; *list != '\0' && (ent = strsep(&cp, ",")) != NULL;) {
		neg = *ent == '!';
		r = ref_match(s, ent + neg);
		if (match_pattern(s, ent + neg) != r)
			abort();
		if (r && neg) {
			expect = -1;
			break;
		}
		if (r)
			expect = 1;
		/* "a," ends the list: no empty entry after a last comma. */
		if (cp != NULL && *cp == '\0')
			break;
	}
	if (match_pattern_list(s, list, 0) != expect)
		abort();
	(void)match_hostname(s, list);
	free(copy);
	free(buf);
	return 0;
}
