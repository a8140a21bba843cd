/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Printable, bounded renderings of peer-controlled text (see sanitize.h). */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sanitize.h"

#define SANITIZE_ELLIPSIS	"..."
#define SANITIZE_ESC_MAX	10	/* "\u{10FFFF}" */

/*
 * sanitize_utf8: decode one well-formed UTF-8 sequence at p (n bytes
 * left).  Returns its length (2..4) and sets *cpp, or 0 when p does not
 * start a well-formed multi-byte sequence.
 */
static size_t
sanitize_utf8(const u_char *p, size_t n, uint32_t *cpp)
{
	uint32_t cp, min;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cpp = cp;
	return len;
}

/* Code points that reorder, hide or break text: shown as \u{...}. */
static int
sanitize_cp_hidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0xa0) ||	/* C1 controls, NBSP */
	    cp == 0xad ||			/* soft hyphen */
	    cp == 0x34f || cp == 0x61c || cp == 0x115f || cp == 0x1160 ||
	    (cp >= 0x17b4 && cp <= 0x17b5) ||
	    (cp >= 0x180b && cp <= 0x180f) ||
	    (cp >= 0x2000 && cp <= 0x200f) ||	/* spaces, ZW*, LRM/RLM */
	    (cp >= 0x2028 && cp <= 0x202f) ||	/* separators, bidi */
	    (cp >= 0x205f && cp <= 0x206f) ||	/* isolates, invisibles */
	    cp == 0x3000 || cp == 0x3164 ||
	    (cp >= 0xfe00 && cp <= 0xfe0f) ||	/* variation selectors */
	    cp == 0xfeff || cp == 0xffa0 ||
	    (cp >= 0xfff0 && cp <= 0xfffb) ||	/* specials, not U+FFFD */
	    (cp >= 0xfdd0 && cp <= 0xfdef) ||
	    (cp & 0xfffe) == 0xfffe ||		/* non-characters */
	    (cp >= 0x1d173 && cp <= 0x1d17a) ||
	    (cp >= 0xe0000 && cp <= 0xe0fff) ||	/* tags, selectors */
	    (cp >= 0xf0000);			/* private use planes */
}

/*
 * sanitize_unit: the rendering of the character at p (n > 0 bytes left)
 * into out (SANITIZE_ESC_MAX + 1 bytes), its width into *colsp; returns
 * how many input bytes it takes.
 */
static size_t
sanitize_unit(const u_char *p, size_t n, int quote, char *out, size_t *colsp)
{
	uint32_t cp;
	size_t len;
	u_char c = p[0];

	if (c >= 0x20 && c < 0x7f) {
		if (c == '\\' || (quote && c == '"')) {
			out[0] = '\\';
			out[1] = (char)c;
			out[2] = '\0';
			*colsp = 2;
		} else {
			out[0] = (char)c;
			out[1] = '\0';
			*colsp = 1;
		}
		return 1;
	}
	if (c < 0x80) {
		switch (c) {
		case '\n':
			strlcpy(out, "\\n", SANITIZE_ESC_MAX + 1);
			break;
		case '\r':
			strlcpy(out, "\\r", SANITIZE_ESC_MAX + 1);
			break;
		case '\t':
			strlcpy(out, "\\t", SANITIZE_ESC_MAX + 1);
			break;
		case 0x1b:
			strlcpy(out, "\\e", SANITIZE_ESC_MAX + 1);
			break;
		default:
			snprintf(out, SANITIZE_ESC_MAX + 1, "\\x%02x", c);
			break;
		}
		*colsp = strlen(out);
		return 1;
	}
	if ((len = sanitize_utf8(p, n, &cp)) == 0) {
		snprintf(out, SANITIZE_ESC_MAX + 1, "\\x%02x", c);
		*colsp = 4;
		return 1;
	}
	if (sanitize_cp_hidden(cp)) {
		snprintf(out, SANITIZE_ESC_MAX + 1, "\\u{%x}", (u_int)cp);
		*colsp = strlen(out);
		return len;
	}
	memcpy(out, p, len);
	out[len] = '\0';
	*colsp = 1;
	return len;
}

char *
sanitize_mem(const void *v, size_t len, size_t max, int flags)
{
	const u_char *p = v;
	char unit[SANITIZE_ESC_MAX + 1], *s, *o;
	size_t i, cols, ucols, take, budget, limit, room;
	int cut, quote = (flags & SANITIZE_QUOTE) != 0;

	if (p == NULL)
		len = 0;
	if (max < SANITIZE_MAX_MIN)
		max = SANITIZE_MAX_MIN;
	/* Each column is at most 4 bytes of output (a kept UTF-8 character). */
	room = max * 4 + 1;
	if ((s = malloc(room)) == NULL)
		return NULL;
	o = s;
	budget = max - (quote ? 2 : 0);
	cols = 0;
	if (quote)
		*o++ = '"';
	/* Does all of it fit?  Otherwise cut so that the ellipsis fits. */
	for (i = 0; i < len && cols <= budget; i += take) {
		take = sanitize_unit(p + i, len - i, quote, unit, &ucols);
		cols += ucols;
	}
	cut = cols > budget;
	limit = cut ? budget - (sizeof(SANITIZE_ELLIPSIS) - 1) : budget;
	cols = 0;
	for (i = 0; i < len; i += take) {
		take = sanitize_unit(p + i, len - i, quote, unit, &ucols);
		if (cols + ucols > limit)
			break;
		memcpy(o, unit, strlen(unit));
		o += strlen(unit);
		cols += ucols;
	}
	if (cut) {
		memcpy(o, SANITIZE_ELLIPSIS, sizeof(SANITIZE_ELLIPSIS) - 1);
		o += sizeof(SANITIZE_ELLIPSIS) - 1;
	}
	if (quote)
		*o++ = '"';
	*o = '\0';
	return s;
}

char *
sanitize_str(const char *s, size_t max)
{
	if (s == NULL)
		s = "?";
	return sanitize_mem(s, strlen(s), max, 0);
}

char *
sanitize_quoted(const char *s, size_t max)
{
	if (s == NULL)
		s = "?";
	return sanitize_mem(s, strlen(s), max, SANITIZE_QUOTE);
}

size_t
sanitize_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((u_char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}
