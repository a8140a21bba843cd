/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness over the sanitiser of peer-controlled text
 * (common/sanitize.c): whatever the bytes and the bound, the output is
 * well-formed, printable, one line, within the bound, and quoted output
 * has no unescaped quote.  The first input byte picks the bound and the
 * flags.
 */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	size_t max, i, n;
	int quote;
	char *s;

	if (len < 1)
		return 0;
	max = data[0] >> 1;
	quote = data[0] & 1;
	s = sanitize_mem(data + 1, len - 1, max, quote ? SANITIZE_QUOTE : 0);
	if (s == NULL)
		abort();
	n = strlen(s);
	if (max < SANITIZE_MAX_MIN)
		max = SANITIZE_MAX_MIN;
	if (sanitize_width(s) > max || n > max * 4)
		abort();
	for (i = 0; i < n; i++) {
		if ((u_char)s[i] < 0x20 || (u_char)s[i] == 0x7f)
			abort();
	}
	if (quote) {
		if (n < 2 || s[0] != '"' || s[n - 1] != '"')
			abort();
		for (i = 1; i + 1 < n; i++) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				abort();
		}
		if (i != n - 1)
			abort();	/* the closing quote was escaped */
	}
	free(s);
	return 0;
}
