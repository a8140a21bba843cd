/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * badframes: send a corpus of malformed agent-protocol frames to the agent
 * at $SSH_AUTH_SOCK (or the socket given), each on a fresh connection, and
 * check that every one gets SSH_AGENT_FAILURE, SSH_AGENT_EXTENSION_FAILURE or
 * a closed connection -- never a hang, never a crash -- and that the agent
 * still lists exactly the keys it held before.  Keys must be loaded first
 * (the SIGN_REQUEST cases use the first listed key).
 *
 * usage: badframes [-l] [-v] [SOCKET]
 *	-l	lenient: cases marked strict (trailing bytes after a complete
 *		message, duplicate constraints OpenSSH does not check) may also
 *		succeed; what they changed is undone; cases that make
 *		OpenSSH 9.2's agent exit (a malformed LOCK/UNLOCK is fatal()
 *		there) are skipped.  For OpenSSH's agent.
 *	-v	print every case
 * Exit 0 when every case passes, 1 otherwise, 2 on usage/setup errors.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "tests/integ/agentio.h"

#define BF_REPLY_TIMEOUT_MS	3000

#define BF_HALFCLOSE	0x01	/* shutdown(SHUT_WR) after sending */
#define BF_STRICT	0x02	/* OpenSSH accepts it; tokagent must not */
#define BF_MUSTCLOSE	0x04	/* only a closed connection is right */
#define BF_KILLS_OPENSSH 0x08	/* OpenSSH 9.2's agent fatal()s: skip if -l */

struct bf_ctx {
	const char *sock;
	struct buf *keyblob;	/* public blob of a key the agent holds */
	u_char edpub[32];	/* an ed25519 key the agent does not hold */
	u_char edpriv[64];	/* seed || public, OpenSSH's layout */
	struct buf *edblob;	/* its public blob */
	int lenient;
	int verbose;
};

struct bf_case {
	const char *name;
	int flags;
	int (*build)(struct bf_ctx *, struct buf *);
	/* undo what a tolerated (lenient) success changed; may be NULL */
	int (*undo)(struct bf_ctx *);
};

/* Append body as one frame to raw. */
static int
put_frame(struct buf *raw, const struct buf *body)
{
	int r;

	if ((r = buf_put_u32(raw, (uint32_t)buf_len(body))) != 0 ||
	    (r = buf_putb(raw, body)) != 0)
		return r;
	return 0;
}

/* Append a frame of one type byte and len bytes of p. */
static int
put_typed(struct buf *raw, uint8_t type, const void *p, size_t len)
{
	int r;

	if ((r = buf_put_u32(raw, (uint32_t)len + 1)) != 0 ||
	    (r = buf_put_u8(raw, type)) != 0 ||
	    (r = buf_put(raw, p, len)) != 0)
		return r;
	return 0;
}

/* The ed25519 test key, OpenSSH private wire form (no comment). */
static int
put_ed25519_private(struct bf_ctx *ctx, struct buf *b)
{
	int r;

	if ((r = buf_put_cstring(b, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(b, ctx->edpub, sizeof(ctx->edpub))) != 0 ||
	    (r = buf_put_string(b, ctx->edpriv, sizeof(ctx->edpriv))) != 0)
		return r;
	return 0;
}

/* ADD_ID_CONSTRAINED with the test key and the given constraint bytes. */
static int
put_add_constrained(struct bf_ctx *ctx, struct buf *raw, const void *cons,
    size_t conslen)
{
	struct buf *b;
	int r = TOK_ERR_ALLOC;

	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_ADD_ID_CONSTRAINED)) != 0 ||
	    (r = put_ed25519_private(ctx, b)) != 0 ||
	    (r = buf_put_cstring(b, "badframes")) != 0 ||
	    (r = buf_put(b, cons, conslen)) != 0 ||
	    (r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

/* SIGN_REQUEST for blob over "data" with flags, plus extra bytes. */
static int
put_sign(struct buf *raw, const struct buf *blob, int with_data,
    int with_flags, const void *extra, size_t extralen)
{
	struct buf *b;
	int r = TOK_ERR_ALLOC;

	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_SIGN_REQUEST)) != 0 ||
	    (r = buf_put_stringb(b, blob)) != 0)
		goto out;
	if (with_data && (r = buf_put_cstring(b, "data to sign")) != 0)
		goto out;
	if (with_flags && (r = buf_put_u32(b, 0)) != 0)
		goto out;
	if ((r = buf_put(b, extra, extralen)) != 0 ||
	    (r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

/* --- framing ---------------------------------------------------------- */

static int
b_trunc_header(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return buf_put(raw, "\0\0", 2);
}

static int
b_trunc_type(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return buf_put_u32(raw, 5);
}

static int
b_trunc_body(struct bf_ctx *ctx, struct buf *raw)
{
	int r;

	(void)ctx;
	if ((r = buf_put_u32(raw, 32)) != 0 ||
	    (r = buf_put(raw, "\x0d\0\0", 3)) != 0)
		return r;
	return 0;
}

static int
b_oversize(struct bf_ctx *ctx, struct buf *raw)
{
	u_char *dp;
	int r;

	(void)ctx;
	if ((r = buf_put_u32(raw, AIO_MSG_MAX + 1)) != 0 ||
	    (r = buf_reserve(raw, 4096, &dp)) != 0)
		return r;
	memset(dp, AIO_REQUEST_IDENTITIES, 4096);
	return 0;
}

static int
b_oversize_max(struct bf_ctx *ctx, struct buf *raw)
{
	int r;

	(void)ctx;
	if ((r = buf_put_u32(raw, UINT32_MAX)) != 0 ||
	    (r = buf_put(raw, "\x0b\x0b\x0b\x0b", 4)) != 0)
		return r;
	return 0;
}

static int
b_zero_len(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return buf_put_u32(raw, 0);
}

static int
b_zero_len_then_valid(struct bf_ctx *ctx, struct buf *raw)
{
	int r;

	(void)ctx;
	if ((r = buf_put_u32(raw, 0)) != 0 ||
	    (r = put_typed(raw, AIO_REQUEST_IDENTITIES, NULL, 0)) != 0)
		return r;
	return 0;
}

/* --- unknown types ---------------------------------------------------- */

#define UNKNOWN_TYPE(t)							\
static int								\
b_type_##t(struct bf_ctx *ctx, struct buf *raw)				\
{									\
	(void)ctx;							\
	return put_typed(raw, t, NULL, 0);				\
}
UNKNOWN_TYPE(0)
UNKNOWN_TYPE(1)
UNKNOWN_TYPE(2)
UNKNOWN_TYPE(3)
UNKNOWN_TYPE(4)
UNKNOWN_TYPE(7)
UNKNOWN_TYPE(10)
UNKNOWN_TYPE(24)
UNKNOWN_TYPE(99)
UNKNOWN_TYPE(128)
UNKNOWN_TYPE(254)
UNKNOWN_TYPE(255)

static int
b_type_99_body(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, 99, "\0\0\0\4junkjunkjunk", 16);
}

/* --- REQUEST_IDENTITIES ----------------------------------------------- */

static int
b_reqid_trailing(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_REQUEST_IDENTITIES, "\0", 1);
}

/* --- SIGN_REQUEST ----------------------------------------------------- */

static int
b_sign_garbage_blob(struct bf_ctx *ctx, struct buf *raw)
{
	struct buf *g;
	int r;

	(void)ctx;
	if ((g = buf_from("garbage!", 8)) == NULL)
		return TOK_ERR_ALLOC;
	r = put_sign(raw, g, 1, 1, NULL, 0);
	buf_free(g);
	return r;
}

static int
b_sign_empty_blob(struct bf_ctx *ctx, struct buf *raw)
{
	struct buf *g;
	int r;

	(void)ctx;
	if ((g = buf_from("", 0)) == NULL)
		return TOK_ERR_ALLOC;
	r = put_sign(raw, g, 1, 1, NULL, 0);
	buf_free(g);
	return r;
}

static int
b_sign_trunc_blob_only(struct bf_ctx *ctx, struct buf *raw)
{
	return put_sign(raw, ctx->keyblob, 0, 0, NULL, 0);
}

static int
b_sign_trunc_flags(struct bf_ctx *ctx, struct buf *raw)
{
	return put_sign(raw, ctx->keyblob, 1, 0, "\0\0", 2);
}

static int
b_sign_trailing(struct bf_ctx *ctx, struct buf *raw)
{
	return put_sign(raw, ctx->keyblob, 1, 1, "xx", 2);
}

static int
b_sign_absent_key(struct bf_ctx *ctx, struct buf *raw)
{
	return put_sign(raw, ctx->edblob, 1, 1, NULL, 0);
}

static int
b_sign_blob_truncated_inside(struct bf_ctx *ctx, struct buf *raw)
{
	struct buf *g;
	int r;

	/* A real key blob cut short by 5 bytes. */
	if (buf_len(ctx->keyblob) < 6 ||
	    (g = buf_from(buf_ptr(ctx->keyblob),
	    buf_len(ctx->keyblob) - 5)) == NULL)
		return TOK_ERR_ALLOC;
	r = put_sign(raw, g, 1, 1, NULL, 0);
	buf_free(g);
	return r;
}

static int
b_sign_blob_with_trailing(struct bf_ctx *ctx, struct buf *raw)
{
	struct buf *g;
	int r;

	/* A real key blob with bytes appended inside its string. */
	if ((g = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_putb(g, ctx->keyblob)) == 0 &&
	    (r = buf_put(g, "\0\0\0\0", 4)) == 0)
		r = put_sign(raw, g, 1, 1, NULL, 0);
	buf_free(g);
	return r;
}

static int
b_sign_huge_string(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_SIGN_REQUEST,
	    "\xff\xff\xff\xf0" "abcdefgh", 12);
}

static int
b_sign_len_past_end(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_SIGN_REQUEST,
	    "\0\0\0\x64" "0123456789", 14);
}

static int
b_sign_huge_data(struct bf_ctx *ctx, struct buf *raw)
{
	struct buf *b;
	int r = TOK_ERR_ALLOC;

	/* data string claims 0x7fffffff bytes, 8 present */
	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_SIGN_REQUEST)) != 0 ||
	    (r = buf_put_stringb(b, ctx->keyblob)) != 0 ||
	    (r = buf_put_u32(b, 0x7fffffff)) != 0 ||
	    (r = buf_put(b, "datadata", 8)) != 0 ||
	    (r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

/* --- ADD_IDENTITY ----------------------------------------------------- */

static int
b_add_garbage(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_ADD_IDENTITY, "garbage", 7);
}

static int
b_add_empty(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_ADD_IDENTITY, NULL, 0);
}

static int
b_add_unknown_type(struct bf_ctx *ctx, struct buf *raw)
{
	struct buf *b;
	int r = TOK_ERR_ALLOC;

	(void)ctx;
	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_ADD_IDENTITY)) != 0 ||
	    (r = buf_put_cstring(b, "ssh-unknown@example.com")) != 0 ||
	    (r = buf_put_cstring(b, "some key material")) != 0 ||
	    (r = buf_put_cstring(b, "comment")) != 0 ||
	    (r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

/* ed25519 with pub/priv lengths off by some bytes. */
static int
put_add_ed25519_lens(struct bf_ctx *ctx, struct buf *raw, size_t publen,
    size_t privlen, int comment)
{
	struct buf *b;
	u_char junk[80];
	int r = TOK_ERR_ALLOC;

	memset(junk, 0x5a, sizeof(junk));
	memcpy(junk, ctx->edpriv, sizeof(ctx->edpriv));
	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_ADD_IDENTITY)) != 0 ||
	    (r = buf_put_cstring(b, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(b, junk + 32, publen)) != 0 ||
	    (r = buf_put_string(b, junk, privlen)) != 0)
		goto out;
	if (comment && (r = buf_put_cstring(b, "badframes")) != 0)
		goto out;
	if ((r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

static int
b_add_ed25519_short_priv(struct bf_ctx *ctx, struct buf *raw)
{
	return put_add_ed25519_lens(ctx, raw, 32, 10, 1);
}

static int
b_add_ed25519_long_pub(struct bf_ctx *ctx, struct buf *raw)
{
	return put_add_ed25519_lens(ctx, raw, 33, 64, 1);
}

static int
b_add_ed25519_long_priv(struct bf_ctx *ctx, struct buf *raw)
{
	return put_add_ed25519_lens(ctx, raw, 32, 72, 1);
}

static int
b_add_ed25519_no_comment(struct bf_ctx *ctx, struct buf *raw)
{
	return put_add_ed25519_lens(ctx, raw, 32, 64, 0);
}

static int
b_add_trailing_after_comment(struct bf_ctx *ctx, struct buf *raw)
{
	struct buf *b;
	int r = TOK_ERR_ALLOC;

	/* ADD_IDENTITY (no constraints allowed) + comment + junk */
	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_ADD_IDENTITY)) != 0 ||
	    (r = put_ed25519_private(ctx, b)) != 0 ||
	    (r = buf_put_cstring(b, "badframes")) != 0 ||
	    (r = buf_put(b, "xx", 2)) != 0 ||
	    (r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

static int
b_add_rsa_garbage(struct bf_ctx *ctx, struct buf *raw)
{
	static const u_char small[] = { 0x00, 0xc5, 0x11, 0x42, 0x77 };
	struct buf *b;
	int r = TOK_ERR_ALLOC, i;

	(void)ctx;
	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_ADD_IDENTITY)) != 0 ||
	    (r = buf_put_cstring(b, "ssh-rsa")) != 0)
		goto out;
	for (i = 0; i < 6; i++) {	/* n e d iqmp p q */
		if ((r = buf_put_string(b, small, sizeof(small))) != 0)
			goto out;
	}
	if ((r = buf_put_cstring(b, "badframes")) != 0 ||
	    (r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

static int
put_add_ecdsa(struct buf *raw, const char *type, const char *curve,
    size_t pointlen)
{
	u_char point[133], scalar[32];
	struct buf *b;
	int r = TOK_ERR_ALLOC;

	memset(point, 0x33, sizeof(point));
	point[0] = 0x04;
	memset(scalar, 0x11, sizeof(scalar));
	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_ADD_IDENTITY)) != 0 ||
	    (r = buf_put_cstring(b, type)) != 0 ||
	    (r = buf_put_cstring(b, curve)) != 0 ||
	    (r = buf_put_string(b, point, pointlen)) != 0 ||
	    (r = buf_put_bignum2_bytes(b, scalar, sizeof(scalar))) != 0 ||
	    (r = buf_put_cstring(b, "badframes")) != 0 ||
	    (r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

static int
b_add_ecdsa_bad_point(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_add_ecdsa(raw, "ecdsa-sha2-nistp256", "nistp256", 65);
}

static int
b_add_ecdsa_curve_mismatch(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_add_ecdsa(raw, "ecdsa-sha2-nistp256", "nistp384", 97);
}

static int
b_add_ecdsa_short_point(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_add_ecdsa(raw, "ecdsa-sha2-nistp256", "nistp256", 7);
}

static int
b_add_cert_garbage(struct bf_ctx *ctx, struct buf *raw)
{
	struct buf *b;
	int r = TOK_ERR_ALLOC;

	(void)ctx;
	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_ADD_IDENTITY)) != 0 ||
	    (r = buf_put_cstring(b, "ssh-ed25519-cert-v01@openssh.com")) != 0 ||
	    (r = buf_put_cstring(b, "not a certificate")) != 0 ||
	    (r = buf_put_string(b, ctx->edpub, sizeof(ctx->edpub))) != 0 ||
	    (r = buf_put_string(b, ctx->edpriv, sizeof(ctx->edpriv))) != 0 ||
	    (r = buf_put_cstring(b, "badframes")) != 0 ||
	    (r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

static int
b_add_sk_garbage(struct bf_ctx *ctx, struct buf *raw)
{
	struct buf *b;
	int r = TOK_ERR_ALLOC;

	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_ADD_IDENTITY)) != 0 ||
	    (r = buf_put_cstring(b, "sk-ssh-ed25519@openssh.com")) != 0 ||
	    (r = buf_put_string(b, ctx->edpub, sizeof(ctx->edpub))) != 0 ||
	    (r = buf_put_u32(b, 0xffffff00)) != 0 ||
	    (r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

/* --- ADD_ID_CONSTRAINED ----------------------------------------------- */

static int
b_addc_unknown_constraint(struct bf_ctx *ctx, struct buf *raw)
{
	return put_add_constrained(ctx, raw, "\x4d", 1);
}

static int
b_addc_maxsign(struct bf_ctx *ctx, struct buf *raw)
{
	/* MAXSIGN (3) no longer exists */
	return put_add_constrained(ctx, raw, "\x03\0\0\0\x05", 5);
}

static int
b_addc_dup_lifetime(struct bf_ctx *ctx, struct buf *raw)
{
	return put_add_constrained(ctx, raw,
	    "\x01\0\0\0\x0a\x01\0\0\0\x14", 10);
}

static int
b_addc_lifetime_trunc(struct bf_ctx *ctx, struct buf *raw)
{
	return put_add_constrained(ctx, raw, "\x01\0\0", 3);
}

static int
b_addc_confirm_trailing(struct bf_ctx *ctx, struct buf *raw)
{
	return put_add_constrained(ctx, raw, "\x02\0", 2);
}

static int
b_addc_confirm_junk(struct bf_ctx *ctx, struct buf *raw)
{
	return put_add_constrained(ctx, raw, "\x02\x01\x02\x03", 4);
}

static int
b_addc_dup_confirm(struct bf_ctx *ctx, struct buf *raw)
{
	return put_add_constrained(ctx, raw, "\x02\x02", 2);
}

static int
put_addc_ext(struct bf_ctx *ctx, struct buf *raw, const char *name,
    const void *body, size_t bodylen)
{
	struct buf *c;
	int r = TOK_ERR_ALLOC;

	if ((c = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(c, 255)) != 0 ||
	    (name != NULL && (r = buf_put_cstring(c, name)) != 0) ||
	    (r = buf_put(c, body, bodylen)) != 0 ||
	    (r = put_add_constrained(ctx, raw, buf_ptr(c), buf_len(c))) != 0)
		goto out;
	r = 0;
 out:
	buf_free(c);
	return r;
}

static int
b_addc_ext_unknown(struct bf_ctx *ctx, struct buf *raw)
{
	return put_addc_ext(ctx, raw, "unknown@example.com", "\0\0\0\0", 4);
}

static int
b_addc_ext_no_name(struct bf_ctx *ctx, struct buf *raw)
{
	return put_addc_ext(ctx, raw, NULL, NULL, 0);
}

static int
b_addc_ext_dest_garbage(struct bf_ctx *ctx, struct buf *raw)
{
	return put_addc_ext(ctx, raw, "restrict-destination-v00@openssh.com",
	    "\0\0\0\x08garbage!", 12);
}

static int
b_addc_ext_dest_huge(struct bf_ctx *ctx, struct buf *raw)
{
	return put_addc_ext(ctx, raw, "restrict-destination-v00@openssh.com",
	    "\x7f\xff\xff\xff", 4);
}

static int
b_addc_ext_certs_garbage(struct bf_ctx *ctx, struct buf *raw)
{
	return put_addc_ext(ctx, raw, "associated-certs-v00@openssh.com",
	    "\x01\0\0\0\x03" "abc", 8);
}

static int
b_addc_ext_sk_provider_junk(struct bf_ctx *ctx, struct buf *raw)
{
	return put_addc_ext(ctx, raw, "sk-provider@openssh.com",
	    "\0\0\0\x02", 4);
}

/* Tolerated additions of the test key are undone by removing it. */
static int
undo_remove_testkey(struct bf_ctx *ctx)
{
	struct buf *msg = NULL, *reply = NULL;
	int fd = -1, r = TOK_ERR_ALLOC;

	if ((msg = buf_new()) == NULL)
		goto out;
	if ((r = buf_put_u8(msg, AIO_REMOVE_IDENTITY)) != 0 ||
	    (r = buf_put_stringb(msg, ctx->edblob)) != 0 ||
	    (r = aio_connect(ctx->sock, &fd)) != 0 ||
	    (r = aio_request(fd, msg, BF_REPLY_TIMEOUT_MS, &reply)) != 0)
		goto out;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	buf_free(msg);
	buf_free(reply);
	return r;
}

/* --- LOCK / UNLOCK ---------------------------------------------------- */

static int
b_lock_no_pass(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_LOCK, NULL, 0);
}

static int
b_lock_trunc_pass(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_LOCK, "\0\0\0\x10pw", 6);
}

static int
b_lock_trailing(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_LOCK, "\0\0\0\x02pwX", 7);
}

static int
undo_unlock_pw(struct bf_ctx *ctx)
{
	struct buf *msg = NULL, *reply = NULL;
	int fd = -1, r = TOK_ERR_ALLOC;

	if ((msg = buf_new()) == NULL)
		goto out;
	if ((r = buf_put_u8(msg, AIO_UNLOCK)) != 0 ||
	    (r = buf_put_cstring(msg, "pw")) != 0 ||
	    (r = aio_connect(ctx->sock, &fd)) != 0 ||
	    (r = aio_request(fd, msg, BF_REPLY_TIMEOUT_MS, &reply)) != 0)
		goto out;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	buf_free(msg);
	buf_free(reply);
	return r;
}

static int
b_unlock_not_locked(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_UNLOCK, "\0\0\0\x02pw", 6);
}

static int
b_unlock_no_pass(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_UNLOCK, NULL, 0);
}

/* --- EXTENSION -------------------------------------------------------- */

static int
put_ext(struct buf *raw, const char *name, const void *body, size_t bodylen)
{
	struct buf *b;
	int r = TOK_ERR_ALLOC;

	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_EXTENSION)) != 0 ||
	    (r = buf_put_cstring(b, name)) != 0 ||
	    (r = buf_put(b, body, bodylen)) != 0 ||
	    (r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

static int
b_ext_unknown(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_ext(raw, "nonexistent@example.com", "\0\0\0\0", 4);
}

static int
b_ext_no_name(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_EXTENSION, NULL, 0);
}

static int
b_ext_huge_name(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_EXTENSION, "\x7f\xff\xff\xff" "query", 9);
}

static int
b_ext_session_bind_garbage(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_ext(raw, "session-bind@openssh.com",
	    "\0\0\0\x07garbage\0\0\0\x01x", 16);
}

static int
b_ext_session_bind_empty(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_ext(raw, "session-bind@openssh.com", NULL, 0);
}

static int
b_ext_session_bind_bad_sig(struct bf_ctx *ctx, struct buf *raw)
{
	struct buf *body;
	u_char sid[32];
	int r = TOK_ERR_ALLOC;

	/* well-formed, but the signature does not verify */
	memset(sid, 0x42, sizeof(sid));
	if ((body = buf_new()) == NULL)
		return r;
	if ((r = buf_put_stringb(body, ctx->edblob)) != 0 ||
	    (r = buf_put_string(body, sid, sizeof(sid))) != 0 ||
	    (r = buf_put_cstring(body, "not a signature")) != 0 ||
	    (r = buf_put_u8(body, 0)) != 0 ||
	    (r = put_ext(raw, "session-bind@openssh.com", buf_ptr(body),
	    buf_len(body))) != 0)
		goto out;
	r = 0;
 out:
	buf_free(body);
	return r;
}

static int
b_ext_query_trailing(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_ext(raw, "query", "xx", 2);
}

/* --- REMOVE / smartcard ----------------------------------------------- */

static int
b_remove_garbage(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_REMOVE_IDENTITY, "\0\0\0\x07garbage", 11);
}

static int
b_remove_absent(struct bf_ctx *ctx, struct buf *raw)
{
	struct buf *b;
	int r = TOK_ERR_ALLOC;

	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_REMOVE_IDENTITY)) != 0 ||
	    (r = buf_put_stringb(b, ctx->edblob)) != 0 ||
	    (r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

static int
b_remove_trunc(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_REMOVE_IDENTITY, "\0\0\0\x32" "abc", 7);
}

static int
b_remove_empty(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_REMOVE_IDENTITY, NULL, 0);
}

static int
b_smartcard_bad_provider(struct bf_ctx *ctx, struct buf *raw)
{
	struct buf *b;
	int r = TOK_ERR_ALLOC;

	(void)ctx;
	if ((b = buf_new()) == NULL)
		return r;
	if ((r = buf_put_u8(b, AIO_ADD_SMARTCARD_KEY)) != 0 ||
	    (r = buf_put_cstring(b, "/nonexistent/libbadframes.so")) != 0 ||
	    (r = buf_put_cstring(b, "123456")) != 0 ||
	    (r = put_frame(raw, b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

static int
b_smartcard_trunc(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, AIO_ADD_SMARTCARD_KEY, "\0\0\x03\xe8/usr", 8);
}

static int
b_remove_smartcard_absent(struct bf_ctx *ctx, struct buf *raw)
{
	(void)ctx;
	return put_typed(raw, 21,
	    "\0\0\0\x0c/nonexistent\0\0\0\0", 20);
}

static const struct bf_case cases[] = {
	{ "truncated header, EOF", BF_HALFCLOSE, b_trunc_header, NULL },
	{ "header only, EOF", BF_HALFCLOSE, b_trunc_type, NULL },
	{ "truncated body, EOF", BF_HALFCLOSE, b_trunc_body, NULL },
	{ "length 256 KiB + 1", BF_MUSTCLOSE, b_oversize, NULL },
	{ "length 0xffffffff", BF_MUSTCLOSE, b_oversize_max, NULL },
	{ "zero length, EOF", BF_HALFCLOSE, b_zero_len, NULL },
	{ "zero length, then a valid frame", 0, b_zero_len_then_valid, NULL },
	{ "unknown type 0", 0, b_type_0, NULL },
	{ "unknown type 1", 0, b_type_1, NULL },
	{ "unknown type 2", 0, b_type_2, NULL },
	{ "unknown type 3", 0, b_type_3, NULL },
	{ "unknown type 4", 0, b_type_4, NULL },
	{ "unknown type 7", 0, b_type_7, NULL },
	{ "unknown type 10", 0, b_type_10, NULL },
	{ "unknown type 24", 0, b_type_24, NULL },
	{ "unknown type 99", 0, b_type_99, NULL },
	{ "unknown type 99 with body", 0, b_type_99_body, NULL },
	{ "unknown type 128", 0, b_type_128, NULL },
	{ "unknown type 254", 0, b_type_254, NULL },
	{ "unknown type 255", 0, b_type_255, NULL },
	{ "REQUEST_IDENTITIES + trailing byte", BF_STRICT, b_reqid_trailing,
	    NULL },
	{ "SIGN garbage key blob", 0, b_sign_garbage_blob, NULL },
	{ "SIGN empty key blob", 0, b_sign_empty_blob, NULL },
	{ "SIGN key blob only", 0, b_sign_trunc_blob_only, NULL },
	{ "SIGN truncated flags", 0, b_sign_trunc_flags, NULL },
	{ "SIGN + trailing bytes", BF_STRICT, b_sign_trailing, NULL },
	{ "SIGN key not held", 0, b_sign_absent_key, NULL },
	{ "SIGN key blob cut short", 0, b_sign_blob_truncated_inside, NULL },
	{ "SIGN key blob + trailing bytes", 0, b_sign_blob_with_trailing,
	    NULL },
	{ "SIGN key blob length 0xfffffff0", 0, b_sign_huge_string, NULL },
	{ "SIGN key blob length past end", 0, b_sign_len_past_end, NULL },
	{ "SIGN data length 0x7fffffff", 0, b_sign_huge_data, NULL },
	{ "ADD garbage", 0, b_add_garbage, NULL },
	{ "ADD empty", 0, b_add_empty, NULL },
	{ "ADD unknown key type", 0, b_add_unknown_type, NULL },
	{ "ADD ed25519 short private", 0, b_add_ed25519_short_priv, NULL },
	{ "ADD ed25519 long public", 0, b_add_ed25519_long_pub, NULL },
	{ "ADD ed25519 long private", 0, b_add_ed25519_long_priv, NULL },
	{ "ADD ed25519 without comment", 0, b_add_ed25519_no_comment, NULL },
	{ "ADD + junk after comment", 0, b_add_trailing_after_comment,
	    undo_remove_testkey },
	{ "ADD rsa with garbage numbers", 0, b_add_rsa_garbage, NULL },
	{ "ADD ecdsa point off the curve", 0, b_add_ecdsa_bad_point, NULL },
	{ "ADD ecdsa curve mismatch", 0, b_add_ecdsa_curve_mismatch, NULL },
	{ "ADD ecdsa short point", 0, b_add_ecdsa_short_point, NULL },
	{ "ADD certificate garbage", 0, b_add_cert_garbage, NULL },
	{ "ADD sk key truncated", 0, b_add_sk_garbage, NULL },
	{ "ADD_CONSTRAINED unknown constraint", 0, b_addc_unknown_constraint,
	    undo_remove_testkey },
	{ "ADD_CONSTRAINED maxsign (3)", 0, b_addc_maxsign,
	    undo_remove_testkey },
	{ "ADD_CONSTRAINED duplicate lifetime", 0, b_addc_dup_lifetime,
	    undo_remove_testkey },
	{ "ADD_CONSTRAINED truncated lifetime", 0, b_addc_lifetime_trunc,
	    undo_remove_testkey },
	{ "ADD_CONSTRAINED confirm + trailing byte", 0,
	    b_addc_confirm_trailing, undo_remove_testkey },
	{ "ADD_CONSTRAINED confirm + junk", 0, b_addc_confirm_junk,
	    undo_remove_testkey },
	{ "ADD_CONSTRAINED duplicate confirm", 0, b_addc_dup_confirm,
	    undo_remove_testkey },
	{ "ADD_CONSTRAINED unknown extension", 0, b_addc_ext_unknown,
	    undo_remove_testkey },
	{ "ADD_CONSTRAINED extension without name", 0, b_addc_ext_no_name,
	    undo_remove_testkey },
	{ "ADD_CONSTRAINED destination garbage", 0, b_addc_ext_dest_garbage,
	    undo_remove_testkey },
	{ "ADD_CONSTRAINED destination huge length", 0,
	    b_addc_ext_dest_huge, undo_remove_testkey },
	{ "ADD_CONSTRAINED associated certs garbage", 0,
	    b_addc_ext_certs_garbage, undo_remove_testkey },
	{ "ADD_CONSTRAINED sk-provider truncated", 0,
	    b_addc_ext_sk_provider_junk, undo_remove_testkey },
	{ "LOCK without passphrase", BF_KILLS_OPENSSH, b_lock_no_pass, NULL },
	{ "LOCK truncated passphrase", BF_KILLS_OPENSSH, b_lock_trunc_pass,
	    NULL },
	{ "LOCK + trailing byte", BF_STRICT, b_lock_trailing,
	    undo_unlock_pw },
	{ "UNLOCK when not locked", 0, b_unlock_not_locked, NULL },
	{ "UNLOCK without passphrase", BF_KILLS_OPENSSH, b_unlock_no_pass,
	    NULL },
	{ "EXTENSION unknown name", 0, b_ext_unknown, NULL },
	{ "EXTENSION without name", 0, b_ext_no_name, NULL },
	{ "EXTENSION name length 0x7fffffff", 0, b_ext_huge_name, NULL },
	{ "EXTENSION session-bind garbage", 0, b_ext_session_bind_garbage,
	    NULL },
	{ "EXTENSION session-bind empty", 0, b_ext_session_bind_empty, NULL },
	{ "EXTENSION session-bind bad signature", 0,
	    b_ext_session_bind_bad_sig, NULL },
	{ "EXTENSION query + trailing bytes", 0, b_ext_query_trailing, NULL },
	{ "REMOVE garbage blob", 0, b_remove_garbage, NULL },
	{ "REMOVE key not held", 0, b_remove_absent, NULL },
	{ "REMOVE truncated blob", 0, b_remove_trunc, NULL },
	{ "REMOVE empty", 0, b_remove_empty, NULL },
	{ "ADD_SMARTCARD_KEY missing provider", 0, b_smartcard_bad_provider,
	    NULL },
	{ "ADD_SMARTCARD_KEY truncated", 0, b_smartcard_trunc, NULL },
	{ "REMOVE_SMARTCARD_KEY not added", 0, b_remove_smartcard_absent,
	    NULL },
};

/* The agent lists exactly the keys in want (blob/comment pairs). */
static int
check_keys(struct bf_ctx *ctx, const struct buf *want, uint32_t nwant,
    const char **whyp)
{
	struct buf *have = NULL;
	uint32_t nhave;
	int fd = -1, r = TOK_ERR_INTERNAL;

	*whyp = NULL;
	if ((r = aio_connect(ctx->sock, &fd)) != 0) {
		*whyp = "agent does not accept connections";
		goto out;
	}
	if ((r = aio_list_keys(fd, 5000, &nhave, &have)) != 0) {
		*whyp = "agent does not answer REQUEST_IDENTITIES";
		goto out;
	}
	if (nhave != nwant || !buf_equal(have, want)) {
		*whyp = "agent lists other keys than before";
		r = TOK_ERR_KEY_NOT_FOUND;
		goto out;
	}
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	buf_free(have);
	return r;
}

/*
 * Run one case; 0 when it passed.  *outcomep describes what happened.
 */
static int
run_case(struct bf_ctx *ctx, const struct bf_case *c, char *outcome,
    size_t outcomelen)
{
	struct buf *raw = NULL, *reply = NULL;
	uint8_t type = 0;
	int fd = -1, r = TOK_ERR_INTERNAL, rr, passed = 0;

	outcome[0] = '\0';
	if ((raw = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = c->build(ctx, raw)) != 0) {
		snprintf(outcome, outcomelen, "building the case: %s",
		    tok_strerror(r));
		goto out;
	}
	if ((r = aio_connect(ctx->sock, &fd)) != 0) {
		snprintf(outcome, outcomelen, "connect: %s", tok_strerror(r));
		goto out;
	}
	/* A peer that closes early may make the send fail: that is fine. */
	if (aio_send_raw(fd, buf_ptr(raw), buf_len(raw)) != 0 &&
	    ctx->verbose)
		printf("     (%s: send cut short)\n", c->name);
	if ((c->flags & BF_HALFCLOSE) != 0)
		shutdown(fd, SHUT_WR);
	rr = aio_recv_msg(fd, BF_REPLY_TIMEOUT_MS, &reply);
	if (rr == TOK_ERR_MESSAGE_INCOMPLETE) {
		snprintf(outcome, outcomelen, "connection closed");
		passed = 1;
	} else if (rr == TOK_ERR_TIMEOUT) {
		snprintf(outcome, outcomelen, "no reply and no close in %d ms",
		    BF_REPLY_TIMEOUT_MS);
	} else if (rr != 0) {
		snprintf(outcome, outcomelen, "reading the reply: %s",
		    tok_strerror(rr));
	} else if (buf_get_u8(reply, &type) != 0) {
		snprintf(outcome, outcomelen, "empty reply");
	} else if ((c->flags & BF_MUSTCLOSE) != 0) {
		snprintf(outcome, outcomelen, "reply type %u, expected a close",
		    type);
	} else if (type == AIO_FAILURE || type == AIO_EXTENSION_FAILURE) {
		snprintf(outcome, outcomelen, "%s",
		    type == AIO_FAILURE ? "FAILURE" : "EXTENSION_FAILURE");
		passed = 1;
	} else if ((c->flags & BF_STRICT) != 0 && ctx->lenient) {
		snprintf(outcome, outcomelen, "reply type %u (tolerated)",
		    type);
		passed = 1;
		if (c->undo != NULL && (rr = c->undo(ctx)) != 0) {
			snprintf(outcome, outcomelen,
			    "reply type %u, undo failed: %s", type,
			    tok_strerror(rr));
			passed = 0;
		}
	} else {
		snprintf(outcome, outcomelen, "reply type %u", type);
		if (c->undo != NULL)
			(void)c->undo(ctx);
	}
	r = passed ? 0 : TOK_ERR_PROTOCOL;
 out:
	if (fd != -1)
		close(fd);
	buf_free(raw);
	buf_free(reply);
	return r;
}

static int
setup(struct bf_ctx *ctx, struct buf **keysp, uint32_t *nkeysp)
{
	struct buf *keys = NULL, *view = NULL;
	EVP_PKEY *pkey = NULL;
	const u_char *p;
	size_t len;
	int fd = -1, r = TOK_ERR_INTERNAL;

	*keysp = NULL;
	*nkeysp = 0;
	if ((r = aio_connect(ctx->sock, &fd)) != 0) {
		fprintf(stderr, "badframes: connect %s: %s\n", ctx->sock,
		    tok_strerror(r));
		goto out;
	}
	if ((r = aio_list_keys(fd, 5000, nkeysp, &keys)) != 0) {
		fprintf(stderr, "badframes: listing keys: %s\n",
		    tok_strerror(r));
		goto out;
	}
	if (*nkeysp == 0) {
		fprintf(stderr, "badframes: load some keys first\n");
		r = TOK_ERR_KEY_NOT_FOUND;
		goto out;
	}
	if ((view = buf_fromb(keys)) == NULL ||
	    (ctx->keyblob = buf_new()) == NULL ||
	    (ctx->edblob = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_string_direct(view, &p, &len)) != 0 ||
	    (r = buf_put(ctx->keyblob, p, len)) != 0)
		goto out;

	/* An ed25519 key of our own, never held by the agent. */
	len = 32;
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    EVP_PKEY_get_raw_private_key(pkey, ctx->edpriv, &len) != 1 ||
	    len != 32 ||
	    EVP_PKEY_get_raw_public_key(pkey, ctx->edpub, &len) != 1 ||
	    len != 32) {
		r = TOK_ERR_LIBCRYPTO;
		goto out;
	}
	memcpy(ctx->edpriv + 32, ctx->edpub, 32);
	if ((r = buf_put_cstring(ctx->edblob, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(ctx->edblob, ctx->edpub, 32)) != 0)
		goto out;
	*keysp = keys;
	keys = NULL;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	EVP_PKEY_free(pkey);
	buf_free(view);
	buf_free(keys);
	return r;
}

static void
usage(void)
{
	fprintf(stderr, "usage: badframes [-l] [-v] [socket]\n");
	exit(2);
}

int main(int, char **);

int
main(int argc, char **argv)
{
	struct bf_ctx ctx;
	struct buf *keys = NULL;
	uint32_t nkeys;
	char outcome[256];
	const char *why;
	size_t i;
	int ch, nfail = 0, nskip = 0, r;

	memset(&ctx, 0, sizeof(ctx));
	while ((ch = getopt(argc, argv, "lv")) != -1) {
		switch (ch) {
		case 'l':
			ctx.lenient = 1;
			break;
		case 'v':
			ctx.verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage();
	ctx.sock = argc == 1 ? argv[0] : getenv("SSH_AUTH_SOCK");
	if (ctx.sock == NULL || *ctx.sock == '\0') {
		fprintf(stderr, "badframes: no socket (SSH_AUTH_SOCK)\n");
		return 2;
	}
	if (setup(&ctx, &keys, &nkeys) != 0)
		return 2;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if ((cases[i].flags & BF_KILLS_OPENSSH) != 0 && ctx.lenient) {
			nskip++;
			if (ctx.verbose)
				printf("skip %-44s (fatal in OpenSSH 9.2)\n",
				    cases[i].name);
			continue;
		}
		r = run_case(&ctx, &cases[i], outcome, sizeof(outcome));
		if (r != 0) {
			nfail++;
			printf("FAIL %-44s %s\n", cases[i].name, outcome);
		} else if (ctx.verbose) {
			printf("ok   %-44s %s\n", cases[i].name, outcome);
		}
		if (check_keys(&ctx, keys, nkeys, &why) != 0) {
			printf("FAIL after \"%s\": %s\n", cases[i].name, why);
			nfail++;
			break;
		}
	}
	printf("badframes: %zu cases, %d failed, %d skipped%s\n", i, nfail,
	    nskip, ctx.lenient ? " (lenient)" : "");
	buf_free(keys);
	buf_free(ctx.keyblob);
	buf_free(ctx.edblob);
	explicit_bzero(ctx.edpriv, sizeof(ctx.edpriv));
	return nfail == 0 ? 0 : 1;
}
