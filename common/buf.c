/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Bounded byte buffer and SSH wire codec (see buf.h). */
#include "config.h"

#include <sys/types.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"

#define BUF_ALLOC_QUANTUM	256

struct buf {
	u_char *d;		/* storage; NULL for an empty buffer */
	const u_char *cd;	/* read pointer base (== d unless read-only) */
	size_t off;		/* first unread byte */
	size_t size;		/* end of written data */
	size_t alloc;		/* bytes allocated at d */
	size_t max_size;
	int readonly;
};

struct buf *
buf_new(void)
{
	struct buf *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->max_size = BUF_SIZE_MAX;
	return b;
}

struct buf *
buf_from(const void *p, size_t len)
{
	struct buf *b;

	if ((p == NULL && len != 0) || len > BUF_SIZE_MAX)
		return NULL;
	if ((b = buf_new()) == NULL)
		return NULL;
	b->cd = p;
	b->size = b->alloc = b->max_size = len;
	b->readonly = 1;
	return b;
}

struct buf *
buf_fromb(const struct buf *src)
{
	return buf_from(buf_ptr(src), buf_len(src));
}

struct buf *
buf_dup(const struct buf *src)
{
	struct buf *b;

	if ((b = buf_new()) == NULL)
		return NULL;
	if (buf_putb(b, src) != 0) {
		buf_free(b);
		return NULL;
	}
	return b;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (!b->readonly)
		freezero(b->d, b->alloc);
	freezero(b, sizeof(*b));
}

void
buf_reset(struct buf *b)
{
	if (b->readonly) {
		b->off = b->size;
		return;
	}
	if (b->d != NULL)
		explicit_bzero(b->d, b->alloc);
	b->off = b->size = 0;
}

int
buf_set_max_size(struct buf *b, size_t max)
{
	if (b->readonly || max > BUF_SIZE_MAX || max < b->size)
		return TOK_ERR_INVALID_ARGUMENT;
	b->max_size = max;
	return 0;
}

size_t
buf_len(const struct buf *b)
{
	return b->size - b->off;
}

size_t
buf_avail(const struct buf *b)
{
	if (b->readonly)
		return 0;
	return b->max_size - (b->size - b->off);
}

const u_char *
buf_ptr(const struct buf *b)
{
	if (b->readonly)
		return b->cd + b->off;
	return b->d == NULL ? (const u_char *)"" : b->d + b->off;
}

u_char *
buf_mutable_ptr(struct buf *b)
{
	if (b->readonly || b->d == NULL)
		return NULL;
	return b->d + b->off;
}

int
buf_equal(const struct buf *a, const struct buf *b)
{
	return buf_len(a) == buf_len(b) &&
	    memcmp(buf_ptr(a), buf_ptr(b), buf_len(a)) == 0;
}

int
buf_consume(struct buf *b, size_t len)
{
	if (len > buf_len(b))
		return TOK_ERR_MESSAGE_INCOMPLETE;
	/* Consumed bytes may have been secrets: they do not linger. */
	if (!b->readonly && len != 0)
		explicit_bzero(b->d + b->off, len);
	b->off += len;
	if (b->off == b->size && !b->readonly)
		b->off = b->size = 0;
	return 0;
}

int
buf_consume_end(struct buf *b, size_t len)
{
	if (len > buf_len(b))
		return TOK_ERR_MESSAGE_INCOMPLETE;
	b->size -= len;
	return 0;
}

/*
 * Advance past bytes that a caller still points at (direct getters): no
 * zeroing and no offset reset, so the pointer stays valid until the next put.
 */
static int
buf_skip(struct buf *b, size_t len)
{
	if (len > buf_len(b))
		return TOK_ERR_MESSAGE_INCOMPLETE;
	b->off += len;
	return 0;
}

int
buf_expect_empty(const struct buf *b)
{
	return buf_len(b) == 0 ? 0 : TOK_ERR_TRAILING_DATA;
}

int
buf_reserve(struct buf *b, size_t len, u_char **dpp)
{
	size_t need, nalloc;
	u_char *nd;

	*dpp = NULL;
	if (b->readonly)
		return TOK_ERR_INVALID_ARGUMENT;
	if (len > b->max_size - buf_len(b))
		return TOK_ERR_NO_BUFFER_SPACE;
	/* Slide unread data to the front before growing. */
	if (b->off > 0 && b->size + len > b->alloc) {
		memmove(b->d, b->d + b->off, b->size - b->off);
		explicit_bzero(b->d + b->size - b->off, b->off);
		b->size -= b->off;
		b->off = 0;
	}
	need = b->size + len;
	if (need > b->alloc) {
		/*
		 * Grow by half again at least: appending n bytes in small
		 * pieces then costs O(n) copying, not O(n^2).
		 */
		nalloc = b->alloc + b->alloc / 2;
		if (nalloc > b->max_size)
			nalloc = b->max_size;
		if (nalloc < need)
			nalloc = need;
		nalloc += BUF_ALLOC_QUANTUM - 1;
		nalloc -= nalloc % BUF_ALLOC_QUANTUM;
		if (nalloc < need)
			return TOK_ERR_NO_BUFFER_SPACE;
		/* recallocarray zeroes the old allocation it frees. */
		if ((nd = recallocarray(b->d, b->alloc, nalloc, 1)) == NULL)
			return TOK_ERR_ALLOC;
		b->d = nd;
		b->alloc = nalloc;
	}
	*dpp = b->d + b->size;
	b->size += len;
	return 0;
}

int
buf_put(struct buf *b, const void *v, size_t len)
{
	u_char *p;
	int r;

	if (len == 0)
		return 0;
	if ((r = buf_reserve(b, len, &p)) != 0)
		return r;
	memcpy(p, v, len);
	return 0;
}

int
buf_putb(struct buf *b, const struct buf *v)
{
	return buf_put(b, buf_ptr(v), buf_len(v));
}

int
buf_putf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int len, r;

	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len < 0)
		return TOK_ERR_ALLOC;
	r = buf_put(b, s, (size_t)len);
	freezero(s, (size_t)len);
	return r;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	u_char p[4];

	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return buf_put(b, p, sizeof(p));
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	int r;

	if ((r = buf_put_u32(b, (uint32_t)(v >> 32))) != 0)
		return r;
	return buf_put_u32(b, (uint32_t)v);
}

int
buf_put_string(struct buf *b, const void *v, size_t len)
{
	u_char *p;
	int r;

	if (len > BUF_STRING_MAX)
		return TOK_ERR_STRING_TOO_LARGE;
	if ((r = buf_reserve(b, len + 4, &p)) != 0)
		return r;
	p[0] = len >> 24;
	p[1] = len >> 16;
	p[2] = len >> 8;
	p[3] = len;
	if (len != 0)
		memcpy(p + 4, v, len);
	return 0;
}

int
buf_put_cstring(struct buf *b, const char *s)
{
	return buf_put_string(b, s, s == NULL ? 0 : strlen(s));
}

int
buf_put_stringb(struct buf *b, const struct buf *v)
{
	return buf_put_string(b, buf_ptr(v), buf_len(v));
}

int
buf_put_bignum2_bytes(struct buf *b, const void *v, size_t len)
{
	const u_char *s = v;
	u_char *p;
	int pad, r;

	while (len > 0 && *s == 0) {
		s++;
		len--;
	}
	pad = len > 0 && (s[0] & 0x80) != 0;
	if (len + pad > BUF_STRING_MAX)
		return TOK_ERR_STRING_TOO_LARGE;
	if ((r = buf_reserve(b, 4 + pad + len, &p)) != 0)
		return r;
	p[0] = (len + pad) >> 24;
	p[1] = (len + pad) >> 16;
	p[2] = (len + pad) >> 8;
	p[3] = (len + pad);
	if (pad)
		p[4] = 0;
	if (len != 0)
		memcpy(p + 4 + pad, s, len);
	return 0;
}

int
buf_get(struct buf *b, void *v, size_t len)
{
	if (len > buf_len(b))
		return TOK_ERR_MESSAGE_INCOMPLETE;
	if (v != NULL && len != 0)
		memcpy(v, buf_ptr(b), len);
	return buf_consume(b, len);
}

int
buf_peek_u32(const struct buf *b, size_t offset, uint32_t *valp)
{
	const u_char *p;

	*valp = 0;
	if (offset > buf_len(b) || buf_len(b) - offset < 4)
		return TOK_ERR_MESSAGE_INCOMPLETE;
	p = buf_ptr(b) + offset;
	*valp = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	return 0;
}

int
buf_get_u8(struct buf *b, uint8_t *valp)
{
	return buf_get(b, valp, 1);
}

int
buf_get_u32(struct buf *b, uint32_t *valp)
{
	uint32_t v;
	int r;

	if (valp != NULL)
		*valp = 0;
	if ((r = buf_peek_u32(b, 0, &v)) != 0 || (r = buf_consume(b, 4)) != 0)
		return r;
	if (valp != NULL)
		*valp = v;
	return 0;
}

int
buf_get_u64(struct buf *b, uint64_t *valp)
{
	uint32_t hi, lo;
	int r;

	if (valp != NULL)
		*valp = 0;
	if (buf_len(b) < 8)
		return TOK_ERR_MESSAGE_INCOMPLETE;
	if ((r = buf_get_u32(b, &hi)) != 0 || (r = buf_get_u32(b, &lo)) != 0)
		return r;
	if (valp != NULL)
		*valp = (uint64_t)hi << 32 | lo;
	return 0;
}

int
buf_get_string_direct(struct buf *b, const u_char **valp, size_t *lenp)
{
	uint32_t len;
	int r;

	if (valp != NULL)
		*valp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_peek_u32(b, 0, &len)) != 0)
		return r;
	if (len > BUF_STRING_MAX)
		return TOK_ERR_STRING_TOO_LARGE;
	if (buf_len(b) - 4 < len)
		return TOK_ERR_MESSAGE_INCOMPLETE;
	if (valp != NULL)
		*valp = buf_ptr(b) + 4;
	if (lenp != NULL)
		*lenp = len;
	return buf_skip(b, 4 + (size_t)len);
}

int
buf_get_string(struct buf *b, u_char **valp, size_t *lenp)
{
	const u_char *p;
	u_char *v = NULL;
	size_t len;
	int r;

	if (valp != NULL)
		*valp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_get_string_direct(b, &p, &len)) != 0)
		return r;
	if (valp != NULL) {
		if ((v = malloc(len + 1)) == NULL)
			return TOK_ERR_ALLOC;
		if (len != 0)
			memcpy(v, p, len);
		v[len] = '\0';
		*valp = v;
	}
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
buf_get_cstring(struct buf *b, char **valp, size_t *lenp)
{
	const u_char *p;
	size_t len;
	uint32_t plen;
	int r;

	if (valp != NULL)
		*valp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	/* Check for embedded NUL before consuming anything. */
	if ((r = buf_peek_u32(b, 0, &plen)) != 0)
		return r;
	if (plen > BUF_STRING_MAX)
		return TOK_ERR_STRING_TOO_LARGE;
	if (buf_len(b) - 4 < plen)
		return TOK_ERR_MESSAGE_INCOMPLETE;
	if (plen != 0 && memchr(buf_ptr(b) + 4, '\0', plen) != NULL)
		return TOK_ERR_INVALID_FORMAT;
	if (valp == NULL)
		return buf_get_string_direct(b, &p, &len);
	return buf_get_string(b, (u_char **)valp, lenp);
}

int
buf_get_stringb(struct buf *b, struct buf *v)
{
	uint32_t len;
	int r;

	if ((r = buf_peek_u32(b, 0, &len)) != 0)
		return r;
	if (len > BUF_STRING_MAX)
		return TOK_ERR_STRING_TOO_LARGE;
	if (buf_len(b) - 4 < len)
		return TOK_ERR_MESSAGE_INCOMPLETE;
	if ((r = buf_put(v, buf_ptr(b) + 4, len)) != 0)
		return r;
	return buf_consume(b, 4 + (size_t)len);
}

int
buf_froms(struct buf *b, struct buf **bufp)
{
	struct buf *v;
	uint32_t plen;
	int r;

	*bufp = NULL;
	if ((r = buf_peek_u32(b, 0, &plen)) != 0)
		return r;
	if (plen > BUF_STRING_MAX)
		return TOK_ERR_STRING_TOO_LARGE;
	if (buf_len(b) - 4 < plen)
		return TOK_ERR_MESSAGE_INCOMPLETE;
	if ((v = buf_from(buf_ptr(b) + 4, plen)) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_skip(b, 4 + (size_t)plen)) != 0) {
		buf_free(v);
		return r;
	}
	*bufp = v;
	return 0;
}

int
buf_get_bignum2_bytes_direct(struct buf *b, const u_char **valp,
    size_t *lenp)
{
	const u_char *d;
	size_t len;
	uint32_t plen;
	int r;

	if (valp != NULL)
		*valp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_peek_u32(b, 0, &plen)) != 0)
		return r;
	if (buf_len(b) - 4 < plen)
		return TOK_ERR_MESSAGE_INCOMPLETE;
	d = buf_ptr(b) + 4;
	len = plen;
	if (len > BUF_BIGNUM_BYTES_MAX)
		return TOK_ERR_BIGNUM_TOO_LARGE;
	if (len != 0 && (*d & 0x80) != 0)
		return TOK_ERR_INVALID_FORMAT;	/* negative */
	while (len > 0 && *d == 0) {
		d++;
		len--;
	}
	if ((r = buf_skip(b, 4 + (size_t)plen)) != 0)
		return r;
	if (valp != NULL)
		*valp = d;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
buf_dtob64(const struct buf *d, struct buf *b)
{
	size_t len = buf_len(d), olen;
	u_char *p;
	int r;

	if (len == 0)
		return 0;
	if (len > BUF_SIZE_MAX / 2)
		return TOK_ERR_NO_BUFFER_SPACE;
	olen = ((len + 2) / 3) * 4;
	if ((r = buf_reserve(b, olen + 1, &p)) != 0)
		return r;
	if (EVP_EncodeBlock(p, buf_ptr(d), (int)len) != (int)olen)
		return TOK_ERR_LIBCRYPTO;
	return buf_consume_end(b, 1);	/* the NUL EVP_EncodeBlock wrote */
}

int
buf_b64tod(const char *s, size_t len, struct buf *d)
{
	size_t i, pad = 0;
	u_char *p;
	int n, r;

	if (len == 0 || len % 4 != 0 || len > BUF_SIZE_MAX / 2)
		return TOK_ERR_INVALID_FORMAT;
	for (i = 0; i < len; i++) {
		if (s[i] == '=') {
			/* Padding only at the very end. */
			if (i < len - 2)
				return TOK_ERR_INVALID_FORMAT;
			pad++;
		} else if (pad != 0 || (!isalnum((u_char)s[i]) &&
		    s[i] != '+' && s[i] != '/'))
			return TOK_ERR_INVALID_FORMAT;
	}
	if ((r = buf_reserve(d, len / 4 * 3, &p)) != 0)
		return r;
	if ((n = EVP_DecodeBlock(p, (const u_char *)s, (int)len)) < 0 ||
	    (size_t)n != len / 4 * 3 || (size_t)n < pad) {
		if (buf_consume_end(d, len / 4 * 3) != 0)
			return TOK_ERR_INTERNAL;
		return TOK_ERR_INVALID_FORMAT;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	return buf_consume_end(d, pad);
}

char *
buf_dup_string(const struct buf *b)
{
	size_t len = buf_len(b);
	char *s;

	if (len != 0 && memchr(buf_ptr(b), '\0', len) != NULL)
		return NULL;
	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	if (len != 0)
		memcpy(s, buf_ptr(b), len);
	s[len] = '\0';
	return s;
}
