/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The Assuan reply reader for pinentry conversations (see assuan.h). */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/assuan.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/secmem.h"

struct assuan {
	u_int final;		/* index of the reply that matters */
	u_int replies;		/* replies complete so far */
	u_int lines;
	char line[ASSUAN_LINE_MAX + 1];
	size_t linelen;
	char *data;		/* secure memory, ASSUAN_DATA_MAX + 1 */
	size_t datalen;
	int has_nul;
	int done;
	uint32_t result;
};

struct assuan *
assuan_new(u_int final)
{
	struct assuan *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if ((a->data = secmem_alloc(ASSUAN_DATA_MAX + 1)) == NULL) {
		free(a);
		return NULL;
	}
	a->final = final;
	return a;
}

void
assuan_free(struct assuan *a)
{
	if (a == NULL)
		return;
	secmem_free(a->data);
	explicit_bzero(a->line, sizeof(a->line));
	free(a);
}

static int
assuan_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The data of a "D " line, percent-decoded, onto the final reply's data. */
static int
assuan_data_line(struct assuan *a, const char *s, size_t len)
{
	size_t i;
	int hi, lo;
	u_char c;

	if (a->replies != a->final)
		return TOK_ERR_PROTOCOL;	/* data nobody asked for */
	for (i = 0; i < len; i++) {
		c = (u_char)s[i];
		if (c == '%') {
			if (i + 2 >= len ||
			    (hi = assuan_hex((u_char)s[i + 1])) < 0 ||
			    (lo = assuan_hex((u_char)s[i + 2])) < 0)
				return TOK_ERR_INVALID_FORMAT;
			c = (u_char)(hi << 4 | lo);
			i += 2;
		}
		if (a->datalen >= ASSUAN_DATA_MAX)
			return TOK_ERR_STRING_TOO_LARGE;
		if (c == '\0')
			a->has_nul = 1;
		a->data[a->datalen++] = (char)c;
	}
	return 0;
}

/* An error code: the decimal number after "ERR ". */
static uint32_t
assuan_err_code(const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return UINT32_MAX;
	}
	/* 0 would read as success: an ERR is never that. */
	return i == 0 || v == 0 ? UINT32_MAX : (uint32_t)v;
}

static int
assuan_line(struct assuan *a, const char *s, size_t len)
{
	if (++a->lines > ASSUAN_LINES_MAX)
		return TOK_ERR_PROTOCOL;
	if (len >= 2 && memcmp(s, "OK", 2) == 0 && (len == 2 || s[2] == ' ')) {
		if (a->replies++ == a->final) {
			a->done = 1;
			a->result = 0;
		}
		return 0;
	}
	if (len >= 3 && memcmp(s, "ERR", 3) == 0 &&
	    (len == 3 || s[3] == ' ')) {
		if (a->replies++ == a->final) {
			a->done = 1;
			a->result = len > 4 ? assuan_err_code(s + 4, len - 4) :
			    UINT32_MAX;
		}
		return 0;
	}
	if (len >= 2 && s[0] == 'D' && s[1] == ' ')
		return assuan_data_line(a, s + 2, len - 2);
	if ((len >= 1 && s[0] == '#') ||
	    (len >= 1 && s[0] == 'S' && (len == 1 || s[1] == ' ')))
		return 0;
	return TOK_ERR_PROTOCOL;	/* INQUIRE, END, CAN, garbage */
}

int
assuan_feed(struct assuan *a, const void *v, size_t len)
{
	const u_char *p = v;
	size_t i;
	int r;

	if (a->done)
		return 1;
	for (i = 0; i < len; i++) {
		if (p[i] != '\n') {
			if (a->linelen >= ASSUAN_LINE_MAX)
				return TOK_ERR_STRING_TOO_LARGE;
			a->line[a->linelen++] = (char)p[i];
			continue;
		}
		r = assuan_line(a, a->line, a->linelen);
		explicit_bzero(a->line, a->linelen);
		a->linelen = 0;
		if (r != 0)
			return r;
		if (a->done)
			return 1;
	}
	return 0;
}

uint32_t
assuan_result(const struct assuan *a)
{
	return a->result;
}

size_t
assuan_data_len(const struct assuan *a)
{
	return a->datalen;
}

char *
assuan_take_data(struct assuan *a)
{
	char *s;

	if (!a->done || a->datalen == 0 || a->has_nul)
		return NULL;
	a->data[a->datalen] = '\0';
	s = a->data;
	a->data = NULL;		/* taken: the reader is for freeing only */
	a->datalen = 0;
	return s;
}

int
assuan_put_command(struct buf *b, const char *cmd, const char *arg)
{
	size_t used, i;
	u_char c;
	int r;

	if ((r = buf_putf(b, "%s", cmd)) != 0)
		return r;
	used = strlen(cmd);
	if (arg != NULL) {
		if ((r = buf_put_u8(b, ' ')) != 0)
			return r;
		used++;
		for (i = 0; arg[i] != '\0'; i++) {
			c = (u_char)arg[i];
			/* Keep room for one escape at the end of the line. */
			if (used + 3 > ASSUAN_LINE_MAX)
				break;
			if (c < 0x20 || c == '%' || c == 0x7f) {
				if ((r = buf_putf(b, "%%%02X", c)) != 0)
					return r;
				used += 3;
			} else {
				if ((r = buf_put_u8(b, c)) != 0)
					return r;
				used++;
			}
		}
	}
	return buf_put_u8(b, '\n');
}
