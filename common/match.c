/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * common/match.c: OpenSSH's pattern-list rules ("*", "?", "!" negation,
 * comma lists), written once for every caller.
 */
#include "config.h"

#include <sys/types.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/match.h"

int
match_pattern(const char *s, const char *pattern)
{
	const char *star = NULL, *retry = NULL;

	/*
	 * Iterative glob: after a mismatch, the most recent '*' swallows one
	 * more byte and matching resumes just after it.  Only the last star
	 * needs to be retried: what an earlier star matched can always be
	 * shifted into the later one.
	 */
	for (;;) {
		if (*pattern == '*') {
			while (*pattern == '*')
				pattern++;
			if (*pattern == '\0')
				return 1;
			star = pattern;
			retry = s;
			continue;
		}
		if (*s == '\0') {
			if (*pattern == '\0')
				return 1;
		} else if (*pattern != '\0' &&
		    (*pattern == '?' || *pattern == *s)) {
			pattern++;
			s++;
			continue;
		}
		if (star == NULL || *retry == '\0')
			return 0;
		pattern = star;
		s = ++retry;
	}
}

int
match_pattern_list(const char *s, const char *list, int dolower)
{
	char sub[MATCH_SUBPATTERN_MAX + 1];
	size_t i = 0, len = strlen(list), n;
	int negated, got_positive = 0;

	while (i < len) {
		negated = list[i] == '!';
		if (negated)
			i++;
		for (n = 0; i < len && n < MATCH_SUBPATTERN_MAX &&
		    list[i] != ','; n++, i++) {
			sub[n] = dolower ? tolower((u_char)list[i]) : list[i];
		}
		if (n >= MATCH_SUBPATTERN_MAX)
			return 0;
		if (i < len && list[i] == ',')
			i++;
		sub[n] = '\0';
		if (match_pattern(s, sub)) {
			if (negated)
				return -1;
			got_positive = 1;
		}
	}
	return got_positive;
}

int
match_hostname(const char *host, const char *list)
{
	char *lower;
	size_t i;
	int r;

	if ((lower = strdup(host)) == NULL)
		return 0;
	for (i = 0; lower[i] != '\0'; i++)
		lower[i] = tolower((u_char)lower[i]);
	r = match_pattern_list(lower, list, 1);
	free(lower);
	return r;
}
