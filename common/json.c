/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* A small JSON writer (see json.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json.h"

struct json {
	char *p;			/* the text so far, NUL-terminated */
	size_t len, cap;
	int r;
	int depth;			/* open containers, top object = 1 */
	int first[JSON_MAX_DEPTH];	/* nothing written in it yet */
	char kind[JSON_MAX_DEPTH];	/* '{' or '[' */
};

static void
json_put(struct json *j, const void *p, size_t len)
{
	size_t ncap;
	char *np;

	if (j->r != 0)
		return;
	if (len > JSON_MAX_LEN - j->len) {
		j->r = TOK_ERR_NO_BUFFER_SPACE;
		return;
	}
	if (j->len + len + 1 > j->cap) {
		for (ncap = j->cap; ncap < j->len + len + 1; ncap *= 2)
			;
		if ((np = realloc(j->p, ncap)) == NULL) {
			j->r = TOK_ERR_ALLOC;
			return;
		}
		j->p = np;
		j->cap = ncap;
	}
	memcpy(j->p + j->len, p, len);
	j->len += len;
	j->p[j->len] = '\0';
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
json_utf8_len(const u_char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* No overlong forms, surrogates or values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Bytes that stand for themselves in a JSON string. */
static int
json_plain(u_char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static void
json_quote(struct json *j, const char *s, size_t n)
{
	const u_char *p = (const u_char *)s;
	char esc[8];
	size_t i, len, run;

	json_put(j, "\"", 1);
	for (i = 0; i < n; i += len) {
		/* Runs of plain ASCII go in one piece. */
		for (run = 0; i + run < n && json_plain(p[i + run]); run++)
			;
		if (run > 0) {
			json_put(j, p + i, run);
			len = run;
			continue;
		}
		len = 1;
		switch (p[i]) {
		case '"':
			json_put(j, "\\\"", 2);
			continue;
		case '\\':
			json_put(j, "\\\\", 2);
			continue;
		case '\n':
			json_put(j, "\\n", 2);
			continue;
		case '\t':
			json_put(j, "\\t", 2);
			continue;
		case '\r':
			json_put(j, "\\r", 2);
			continue;
		}
		if (p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
			json_put(j, esc, 6);
			continue;
		}
		if ((len = json_utf8_len(p + i, n - i)) == 0) {
			json_put(j, "\\ufffd", 6);
			len = 1;
			continue;
		}
		json_put(j, p + i, len);
	}
	json_put(j, "\"", 1);
}

/* Separator and member name before a value. */
static void
json_member(struct json *j, const char *key)
{
	if (j->r != 0)
		return;
	if (j->depth < 1 || (j->kind[j->depth - 1] == '{') != (key != NULL)) {
		j->r = TOK_ERR_INVALID_ARGUMENT;
		return;
	}
	if (!j->first[j->depth - 1])
		json_put(j, ",", 1);
	j->first[j->depth - 1] = 0;
	if (key != NULL) {
		json_quote(j, key, strlen(key));
		json_put(j, ":", 1);
	}
}

static void
json_open(struct json *j, char kind)
{
	if (j->r != 0)
		return;
	if (j->depth == JSON_MAX_DEPTH) {
		j->r = TOK_ERR_INVALID_ARGUMENT;
		return;
	}
	json_put(j, &kind, 1);
	j->kind[j->depth] = kind;
	j->first[j->depth++] = 1;
}

static void
json_close(struct json *j, char kind)
{
	if (j->r != 0)
		return;
	if (j->depth < 1 || j->kind[j->depth - 1] != kind) {
		j->r = TOK_ERR_INVALID_ARGUMENT;
		return;
	}
	j->depth--;
	json_put(j, kind == '{' ? "}" : "]", 1);
}

struct json *
json_new(void)
{
	struct json *j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->p = malloc(JSON_INITIAL_CAP)) == NULL) {
		free(j);
		return NULL;
	}
	j->cap = JSON_INITIAL_CAP;
	json_open(j, '{');
	return j;
}

void
json_free(struct json *j)
{
	if (j == NULL)
		return;
	free(j->p);
	free(j);
}

void
json_strn(struct json *j, const char *key, const char *s, size_t len)
{
	json_member(j, key);
	if (j->r == 0)
		json_quote(j, s, len);
}

void
json_str(struct json *j, const char *key, const char *s)
{
	if (s == NULL) {
		json_member(j, key);
		json_put(j, "null", 4);
		return;
	}
	json_strn(j, key, s, strlen(s));
}

void
json_int(struct json *j, const char *key, int64_t v)
{
	char num[32];
	int n;

	json_member(j, key);
	n = snprintf(num, sizeof(num), "%lld", (long long)v);
	json_put(j, num, (size_t)n);
}

void
json_bool(struct json *j, const char *key, int v)
{
	json_member(j, key);
	json_put(j, v ? "true" : "false", v ? 4 : 5);
}

void
json_raw(struct json *j, const char *key, const char *json)
{
	json_member(j, key);
	json_put(j, json, strlen(json));
}

void
json_obj_begin(struct json *j, const char *key)
{
	json_member(j, key);
	json_open(j, '{');
}

void
json_obj_end(struct json *j)
{
	json_close(j, '{');
}

void
json_arr_begin(struct json *j, const char *key)
{
	json_member(j, key);
	json_open(j, '[');
}

void
json_arr_end(struct json *j)
{
	json_close(j, '[');
}

int
json_finish(struct json *j, char **sp)
{
	int r;

	*sp = NULL;
	json_close(j, '{');
	if (j->r == 0 && j->depth != 0)
		j->r = TOK_ERR_INVALID_ARGUMENT;
	if ((r = j->r) == 0) {
		*sp = j->p;	/* no NUL inside: every string was escaped */
		j->p = NULL;
	}
	json_free(j);
	return r;
}
