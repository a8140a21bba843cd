/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Bounded byte buffer and SSH wire codec.
 *
 * A struct buf holds bytes between a read offset and a write offset.  Getters
 * consume from the front and never read past the end; putters append and
 * never grow past the buffer's maximum size.  Every getter checks a length
 * against the bytes left (and a hard cap) before allocating or copying, and
 * leaves the buffer untouched on failure.  Chain getters with ||, then call
 * buf_expect_empty() to reject trailing bytes.
 *
 * A buffer made by buf_from() is a read-only view of someone else's bytes:
 * the caller keeps them alive and unchanged for the life of the view.
 * buf_free() zeroes what the buffer owned before releasing it, so a buffer
 * may hold secrets.
 *
 * All functions returning int return 0 or a negative TOK_ERR_* code.
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include "common/err.h"

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#define BUF_SIZE_MAX		(64 * 1024 * 1024)	/* hard cap for any buffer */
#define BUF_STRING_MAX		(16 * 1024 * 1024)	/* hard cap for one string */
#define BUF_BIGNUM_BYTES_MAX	(16384 / 8 + 1)		/* 16384-bit + sign pad */


struct buf;

/* buf_new: an empty, growable buffer, or NULL when out of memory. */
struct buf *buf_new(void);
/* buf_from: a read-only view of len bytes at p (not copied), or NULL. */
struct buf *buf_from(const void *p, size_t len);
/* buf_fromb: a read-only view of the unread bytes of b, which must outlive it. */
struct buf *buf_fromb(const struct buf *b);
/* buf_dup: a new, owned copy of the unread bytes of b, or NULL. */
struct buf *buf_dup(const struct buf *b);
/* buf_free: zero owned bytes and free.  NULL is accepted. */
void buf_free(struct buf *b);
/* buf_reset: discard all contents (zeroed); keeps the allocation. */
void buf_reset(struct buf *b);
/* buf_set_max_size: lower (or raise up to BUF_SIZE_MAX) the size limit. */
int buf_set_max_size(struct buf *b, size_t max) TOK_WUR;

size_t buf_len(const struct buf *b);		/* unread bytes */
size_t buf_avail(const struct buf *b);		/* room left under the max */
const u_char *buf_ptr(const struct buf *b);	/* first unread byte */
/* buf_mutable_ptr: writable pointer to the first unread byte; NULL if read-only. */
u_char *buf_mutable_ptr(struct buf *b);
/* buf_equal: 1 when both hold the same unread bytes (not constant time). */
int buf_equal(const struct buf *a, const struct buf *b);

/* buf_consume: drop len bytes from the front (zeroed when owned). */
int buf_consume(struct buf *b, size_t len) TOK_WUR;
/* buf_consume_end: drop len bytes from the end. */
int buf_consume_end(struct buf *b, size_t len) TOK_WUR;
/* buf_expect_empty: TOK_ERR_TRAILING_DATA unless no bytes are left. */
int buf_expect_empty(const struct buf *b) TOK_WUR;

/* buf_reserve: append len uninitialised bytes; *dpp points at them until the next put. */
int buf_reserve(struct buf *b, size_t len, u_char **dpp) TOK_WUR;
int buf_put(struct buf *b, const void *v, size_t len) TOK_WUR;
int buf_putb(struct buf *b, const struct buf *v) TOK_WUR;
int buf_putf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))) TOK_WUR;
int buf_put_u8(struct buf *b, uint8_t v) TOK_WUR;
int buf_put_u32(struct buf *b, uint32_t v) TOK_WUR;
int buf_put_u64(struct buf *b, uint64_t v) TOK_WUR;
/* SSH string: uint32 length + bytes. */
int buf_put_string(struct buf *b, const void *v, size_t len) TOK_WUR;
int buf_put_cstring(struct buf *b, const char *s) TOK_WUR;
int buf_put_stringb(struct buf *b, const struct buf *v) TOK_WUR;
/* SSH mpint from unsigned big-endian bytes (leading zeros stripped, sign pad added). */
int buf_put_bignum2_bytes(struct buf *b, const void *v, size_t len) TOK_WUR;

int buf_get(struct buf *b, void *v, size_t len) TOK_WUR;
int buf_get_u8(struct buf *b, uint8_t *valp) TOK_WUR;
int buf_get_u32(struct buf *b, uint32_t *valp) TOK_WUR;
int buf_get_u64(struct buf *b, uint64_t *valp) TOK_WUR;
int buf_peek_u32(const struct buf *b, size_t offset, uint32_t *valp) TOK_WUR;
/*
 * buf_get_string: an SSH string, copied to a new allocation with a NUL
 * appended (not counted in *lenp).  valp or lenp may be NULL to skip.
 */
int buf_get_string(struct buf *b, u_char **valp, size_t *lenp) TOK_WUR;
/*
 * buf_get_string_direct: an SSH string, pointing into b; valid until b is
 * modified or freed.  valp or lenp may be NULL to skip the string.
 */
int buf_get_string_direct(struct buf *b, const u_char **valp,
    size_t *lenp) TOK_WUR;
/* buf_get_cstring: like buf_get_string but fails on an embedded NUL. */
int buf_get_cstring(struct buf *b, char **valp, size_t *lenp) TOK_WUR;
/* buf_get_stringb: append the contents of an SSH string to v. */
int buf_get_stringb(struct buf *b, struct buf *v) TOK_WUR;
/* buf_froms: a new read-only view (*bufp) of the next SSH string in b; b must outlive it. */
int buf_froms(struct buf *b, struct buf **bufp) TOK_WUR;
/*
 * buf_get_bignum2_bytes_direct: an SSH mpint as unsigned big-endian bytes
 * pointing into b, leading zero stripped; negative values are rejected.
 */
int buf_get_bignum2_bytes_direct(struct buf *b, const u_char **valp,
    size_t *lenp) TOK_WUR;

/* buf_dtob64: append base64 of the unread bytes of d to b (no newlines). */
int buf_dtob64(const struct buf *d, struct buf *b) TOK_WUR;
/*
 * buf_b64tod: append the bytes of the base64 text s (len bytes: a multiple
 * of 4, the standard alphabet, '=' padding only at the end, nothing else)
 * to d.  TOK_ERR_INVALID_FORMAT leaves d as it was.
 */
int buf_b64tod(const char *s, size_t len, struct buf *d) TOK_WUR;
/* buf_dup_string: the unread bytes as a new NUL-terminated string; NULL on embedded NUL or no memory. */
char *buf_dup_string(const struct buf *b);

#endif /* COMMON_BUF_H */
