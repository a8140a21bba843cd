/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* vcard: the PIV card application (see piv.h). */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "tests/vcard/crypto.h"
#include "tests/vcard/piv.h"
#include "tests/vcard/state.h"
#include "tests/vcard/tlv.h"

/* Status words (ISO 7816-4 / SP 800-73-4). */
#define SW_OK			0x9000
#define SW_MORE(n)		(0x6100 | ((n) >= 256 ? 0 : (n)))
#define SW_WRONG_LENGTH		0x6700
#define SW_CHAIN_UNSUPPORTED	0x6884
#define SW_SECURITY		0x6982
#define SW_BLOCKED		0x6983
#define SW_CONDITIONS		0x6985
#define SW_WRONG_DATA		0x6a80
#define SW_NOT_FOUND		0x6a82
#define SW_NO_SPACE		0x6a84
#define SW_WRONG_P1P2		0x6a86
#define SW_REF_NOT_FOUND	0x6a88
#define SW_INS_UNSUPPORTED	0x6d00
#define SW_CLA_UNSUPPORTED	0x6e00
#define SW_RETRIES(n)		(0x63c0 | ((n) & 0x0f))

#define INS_VERIFY		0x20
#define INS_CHANGE_REF		0x24
#define INS_RESET_RETRY		0x2c
#define INS_GENERATE		0x47
#define INS_GENERAL_AUTH	0x87
#define INS_SELECT		0xa4
#define INS_GET_RESPONSE	0xc0
#define INS_GET_DATA		0xcb
#define INS_PUT_DATA		0xdb
/* YubiKey extensions. */
#define INS_YK_MOVE_KEY		0xf6
#define INS_YK_METADATA		0xf7
#define INS_YK_SERIAL		0xf8
#define INS_YK_ATTEST		0xf9
#define INS_YK_SET_RETRIES	0xfa
#define INS_YK_RESET		0xfb
#define INS_YK_VERSION		0xfd
#define INS_YK_IMPORT		0xfe
#define INS_YK_SET_MGMT		0xff
/* The OTP application's "get serial" (YubiKey NEO/4 way). */
#define INS_OTP_API		0x01
#define OTP_GET_SERIAL		0x10

/* A touch with the "cached" policy lasts this long. */
#define PIV_TOUCH_CACHE_MS	15000

#define PIV_CHAIN_MAX		(16 * 1024)
#define PIV_OBJ_MAX		(12 * 1024)

enum piv_challenge {
	PIV_CHAL_NONE = 0,
	PIV_CHAL_EXTERNAL,	/* we sent a challenge; expect its encryption */
	PIV_CHAL_MUTUAL,	/* we sent an encrypted witness; expect it clear */
};

enum piv_applet {
	APPLET_NONE = 0,
	APPLET_PIV,
	APPLET_OTP,
	APPLET_OATH,
	APPLET_OPENPGP,
	APPLET_MGMT,
};

struct vc_piv {
	struct vc_state		*st;
	enum piv_applet		 applet;
	u_char			 version[3];
	int			 plain;		/* no YubiKey extensions */
	int			 (*touch)(void *, int);
	void			*touch_arg;
	int64_t			 touched_ms[256];	/* per key reference */
	int			 pin_always_9c;
	int			 pin_ok;	/* PIN verified */
	int			 pin_always_ok;	/* PIN verified for one 9c use */
	int			 mgmt_ok;	/* management key authenticated */
	enum piv_challenge	 chal_kind;
	u_char			 chal[16];
	size_t			 chal_len;
	struct buf		*chain;		/* command chaining: data so far */
	int			 chain_active;
	uint8_t			 chain_ins, chain_p1, chain_p2;
	struct buf		*pending;	/* response data for GET RESPONSE */
};

static const u_char piv_atr[] = {
	0x3b, 0x8c, 0x80, 0x01, 0x74, 0x6f, 0x6b, 0x61, 0x67, 0x65, 0x6e,
	0x74, 0x2d, 0x50, 0x49, 0x56, 0x66	/* "tokagent-PIV" */
};

static const u_char piv_aid[] = {
	0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00
};

/* The YubiKey's other applications, answered so that SELECT leaves PIV. */
static const u_char otp_aid[] = { 0xa0, 0x00, 0x00, 0x05, 0x27, 0x20, 0x01 };
static const u_char oath_aid[] = { 0xa0, 0x00, 0x00, 0x05, 0x27, 0x21, 0x01 };
static const u_char openpgp_aid[] = { 0xd2, 0x76, 0x00, 0x01, 0x24, 0x01 };
static const u_char mgmt_aid[] = {
	0xa0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17
};

static int64_t
piv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
vc_piv_set_plain(struct vc_piv *piv)
{
	piv->plain = 1;
}

void
vc_piv_set_version(struct vc_piv *piv, int major, int minor, int patch)
{
	piv->version[0] = major;
	piv->version[1] = minor;
	piv->version[2] = patch;
}

void
vc_piv_fuzz_grant(struct vc_piv *piv, int pin, int mgmt)
{
	piv->applet = APPLET_PIV;
	piv->pin_ok = piv->pin_always_ok = pin != 0;
	piv->mgmt_ok = mgmt != 0;
}

void
vc_piv_set_touch(struct vc_piv *piv, int (*touch)(void *, int), void *arg)
{
	piv->touch = touch;
	piv->touch_arg = arg;
}

/* A YubiKey 5's (its historical bytes end in "YubiKey@"). */
static const u_char yk_atr[] = {
	0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80, 0x73,
	0xc0, 0x21, 0xc0, 0x57, 0x59, 0x75, 0x62, 0x69, 0x4b, 0x65, 0x79,
	0x40
};

const u_char *
vc_piv_atr(int yubikey, size_t *lenp)
{
	if (yubikey) {
		*lenp = sizeof(yk_atr);
		return yk_atr;
	}
	*lenp = sizeof(piv_atr);
	return piv_atr;
}

struct vc_piv *
vc_piv_new(struct vc_state *st, int pin_always_9c)
{
	struct vc_piv *piv;

	if ((piv = calloc(1, sizeof(*piv))) == NULL)
		return NULL;
	if ((piv->chain = buf_new()) == NULL ||
	    (piv->pending = buf_new()) == NULL) {
		vc_piv_free(piv);
		return NULL;
	}
	piv->st = st;
	piv->pin_always_9c = pin_always_9c;
	vc_piv_set_version(piv, 5, 7, 1);
	return piv;
}

void
vc_piv_free(struct vc_piv *piv)
{
	if (piv == NULL)
		return;
	buf_free(piv->chain);
	buf_free(piv->pending);
	freezero(piv, sizeof(*piv));
}

static void
piv_clear_challenge(struct vc_piv *piv)
{
	piv->chal_kind = PIV_CHAL_NONE;
	explicit_bzero(piv->chal, sizeof(piv->chal));
	piv->chal_len = 0;
}

static void
piv_clear_security(struct vc_piv *piv)
{
	piv->pin_ok = piv->pin_always_ok = piv->mgmt_ok = 0;
	piv_clear_challenge(piv);
}

void
vc_piv_reset(struct vc_piv *piv)
{
	size_t i;

	piv_clear_security(piv);
	piv->applet = APPLET_NONE;
	for (i = 0; i < sizeof(piv->touched_ms) / sizeof(piv->touched_ms[0]);
	    i++)
		piv->touched_ms[i] = 0;
	buf_reset(piv->chain);
	piv->chain_active = 0;
	buf_reset(piv->pending);
}

/* An AID that starts with prefix (at least its first 5 bytes). */
static int
piv_aid_match(const u_char *d, size_t dlen, const u_char *aid, size_t len)
{
	return dlen >= len && dlen <= 16 && memcmp(d, aid, len) == 0;
}

/*
 * SELECT of another YubiKey application: it answers as the YubiKey does
 * (roughly: version and status), and PIV is no longer selected: its
 * security status is gone.  An unknown AID leaves the selection alone.
 */
static int
piv_select_other(struct vc_piv *piv, const u_char *d, size_t dlen,
    struct buf *resp, int *swp)
{
	struct buf *t = NULL;
	u_char name[8];
	char text[64];
	enum piv_applet applet;
	int r = TOK_ERR_INTERNAL;

	if (piv_aid_match(d, dlen, otp_aid, sizeof(otp_aid)))
		applet = APPLET_OTP;
	else if (piv_aid_match(d, dlen, oath_aid, sizeof(oath_aid)))
		applet = APPLET_OATH;
	else if (piv_aid_match(d, dlen, openpgp_aid, sizeof(openpgp_aid)))
		applet = APPLET_OPENPGP;
	else if (piv_aid_match(d, dlen, mgmt_aid, sizeof(mgmt_aid)))
		applet = APPLET_MGMT;
	else {
		*swp = SW_NOT_FOUND;
		r = 0;
		goto out;
	}
	if ((t = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	switch (applet) {
	case APPLET_OTP:
		/* Version, programming sequence, touch level. */
		if ((r = buf_put(resp, piv->version, 3)) != 0 ||
		    (r = buf_put(resp, "\x00\x00\x00", 3)) != 0)
			goto out;
		break;
	case APPLET_OATH:
		/* Version and the device's name (salt). */
		name[0] = (vc_state_serial(piv->st) >> 24) & 0xff;
		name[1] = (vc_state_serial(piv->st) >> 16) & 0xff;
		name[2] = (vc_state_serial(piv->st) >> 8) & 0xff;
		name[3] = vc_state_serial(piv->st) & 0xff;
		memcpy(name + 4, "vcrd", 4);
		if ((r = vc_tlv_put(resp, 0x79, piv->version, 3)) != 0 ||
		    (r = vc_tlv_put(resp, 0x71, name, sizeof(name))) != 0)
			goto out;
		break;
	case APPLET_MGMT:
		snprintf(text, sizeof(text), "Virtual mgr - FW version %u.%u.%u",
		    piv->version[0], piv->version[1], piv->version[2]);
		if ((r = buf_put(resp, text, strlen(text))) != 0)
			goto out;
		break;
	default:
		/* OpenPGP answers a plain 9000. */
		break;
	}
	debug_f("application %d selected, PIV deselected", applet);
	piv_clear_security(piv);
	piv->applet = applet;
	*swp = SW_OK;
	r = 0;
 out:
	buf_free(t);
	return r;
}

/* SELECT: the PIV AID, possibly right-truncated, answers the property template. */
static int
piv_select(struct vc_piv *piv, const struct vc_apdu *a, const u_char *d,
    size_t dlen, struct buf *resp, int *swp)
{
	struct buf *apt = NULL, *t = NULL;
	int r = TOK_ERR_INTERNAL;

	if (a->p1 != 0x04) {
		*swp = SW_NOT_FOUND;
		r = 0;
		goto out;
	}
	if (a->p2 != 0x00 && a->p2 != 0x0c) {
		*swp = SW_WRONG_P1P2;
		r = 0;
		goto out;
	}
	if (dlen < 5 || dlen > sizeof(piv_aid) ||
	    memcmp(d, piv_aid, dlen) != 0) {
		r = piv_select_other(piv, d, dlen, resp, swp);
		goto out;
	}
	piv->applet = APPLET_PIV;
	if (a->p2 == 0x0c) {
		*swp = SW_OK;
		r = 0;
		goto out;
	}
	if ((apt = buf_new()) == NULL || (t = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	/* Application property template: PIX, authority, label, algorithms. */
	if ((r = vc_tlv_put(apt, 0x4f, piv_aid + 5, 6)) != 0 ||
	    (r = vc_tlv_put(t, 0x4f, piv_aid, 5)) != 0 ||
	    (r = vc_tlv_putb(apt, 0x79, t)) != 0 ||
	    (r = vc_tlv_put(apt, 0x50, "tokagent vcard", 14)) != 0)
		goto out;
	buf_reset(t);
	if ((r = vc_tlv_put(t, 0x80, "\x03", 1)) != 0 ||
	    (r = vc_tlv_put(t, 0x80, "\x0a", 1)) != 0 ||
	    (r = vc_tlv_put(t, 0x80, "\x07", 1)) != 0 ||
	    (r = vc_tlv_put(t, 0x80, "\x11", 1)) != 0 ||
	    (r = vc_tlv_put(t, 0x80, "\x14", 1)) != 0 ||
	    (r = vc_tlv_put(t, 0x06, "\x00", 1)) != 0 ||
	    (r = vc_tlv_putb(apt, 0xac, t)) != 0 ||
	    (r = vc_tlv_putb(resp, 0x61, apt)) != 0)
		goto out;
	*swp = SW_OK;
	r = 0;
 out:
	buf_free(apt);
	buf_free(t);
	return r;
}

/* The one 5C tag list entry of a GET/PUT DATA command, consumed from b. */
static int
piv_get_tag(struct buf *b, u_int *tagp)
{
	const u_char *v;
	size_t vlen, i;
	u_int t, tag = 0;
	int r;

	*tagp = 0;
	if ((r = vc_tlv_get(b, &t, &v, &vlen)) != 0)
		return r;
	if (t != 0x5c || vlen < 1 || vlen > 3)
		return TOK_ERR_INVALID_FORMAT;
	for (i = 0; i < vlen; i++)
		tag = (tag << 8) | v[i];
	*tagp = tag;
	return 0;
}

static int
piv_get_data(struct vc_piv *piv, const struct vc_apdu *a, const u_char *d,
    size_t dlen, struct buf *resp, int *swp)
{
	struct buf *b = NULL, *t = NULL;
	const u_char *v;
	size_t vlen;
	u_int tag;
	int r = TOK_ERR_INTERNAL;

	if (a->p1 != 0x3f || a->p2 != 0xff) {
		*swp = SW_WRONG_P1P2;
		r = 0;
		goto out;
	}
	if ((b = buf_from(d, dlen)) == NULL || (t = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (piv_get_tag(b, &tag) != 0 || buf_expect_empty(b) != 0) {
		*swp = SW_WRONG_DATA;
		r = 0;
		goto out;
	}
	if (tag == 0x7e) {
		/* Discovery: the AID and PIN usage policy (PIV PIN only). */
		if ((r = vc_tlv_put(t, 0x4f, piv_aid, sizeof(piv_aid))) != 0 ||
		    (r = vc_tlv_put(t, 0x5f2f, "\x40\x00", 2)) != 0 ||
		    (r = vc_tlv_putb(resp, 0x7e, t)) != 0)
			goto out;
		*swp = SW_OK;
		r = 0;
		goto out;
	}
	if (vc_state_obj_get(piv->st, tag, &v, &vlen) != 0) {
		debug_f("object %06x absent", tag);
		*swp = SW_NOT_FOUND;
		r = 0;
		goto out;
	}
	if ((r = vc_tlv_put(resp, 0x53, v, vlen)) != 0)
		goto out;
	*swp = SW_OK;
	r = 0;
 out:
	buf_free(b);
	buf_free(t);
	return r;
}

static int
piv_put_data(struct vc_piv *piv, const struct vc_apdu *a, const u_char *d,
    size_t dlen, struct buf *resp, int *swp)
{
	struct buf *b = NULL;
	const u_char *v;
	size_t vlen;
	u_int tag, t;
	int r = TOK_ERR_INTERNAL;

	if (a->p1 != 0x3f || a->p2 != 0xff) {
		*swp = SW_WRONG_P1P2;
		r = 0;
		goto out;
	}
	if (!piv->mgmt_ok) {
		*swp = SW_SECURITY;
		r = 0;
		goto out;
	}
	if ((b = buf_from(d, dlen)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (piv_get_tag(b, &tag) != 0 || vc_tlv_get(b, &t, &v, &vlen) != 0 ||
	    buf_expect_empty(b) != 0 || t != 0x53 ||
	    ((tag & 0xffff00) != 0x5fc100 && (tag & 0xffff00) != 0x5fff00)) {
		*swp = SW_WRONG_DATA;
		r = 0;
		goto out;
	}
	if (vlen > PIV_OBJ_MAX) {
		*swp = SW_NO_SPACE;
		r = 0;
		goto out;
	}
	if ((r = vc_state_obj_put(piv->st, tag, v, vlen)) != 0) {
		if (r == TOK_ERR_NO_BUFFER_SPACE) {
			*swp = SW_NO_SPACE;
			r = 0;
		}
		goto out;
	}
	if ((r = vc_state_save(piv->st)) != 0)
		goto out;
	debug_f("object %06x: %zu bytes", tag, vlen);
	*swp = SW_OK;
	r = 0;
 out:
	buf_free(b);
	return r;
}

/* The status word for a PIN check that failed with r. */
static int
piv_pin_sw(struct vc_piv *piv, int ref, int r)
{
	int left = vc_state_pin_retries(piv->st, ref);

	if (r == TOK_ERR_PIN_BLOCKED || left == 0)
		return SW_BLOCKED;
	return SW_RETRIES(left);
}

static int
piv_verify(struct vc_piv *piv, const struct vc_apdu *a, const u_char *d,
    size_t dlen, struct buf *resp, int *swp)
{
	int r;

	if ((a->p1 != 0x00 && a->p1 != 0xff) || a->p2 != VC_REF_PIN) {
		*swp = a->p2 == VC_REF_PIN ? SW_WRONG_P1P2 : SW_REF_NOT_FOUND;
		return 0;
	}
	if (a->p1 == 0xff) {
		/* Reset the PIN's security status. */
		if (dlen != 0) {
			*swp = SW_WRONG_LENGTH;
			return 0;
		}
		piv->pin_ok = piv->pin_always_ok = 0;
		*swp = SW_OK;
		return 0;
	}
	if (dlen == 0) {
		/* Status only. */
		if (vc_state_pin_retries(piv->st, VC_REF_PIN) == 0)
			*swp = SW_BLOCKED;
		else if (piv->pin_ok)
			*swp = SW_OK;
		else
			*swp = piv_pin_sw(piv, VC_REF_PIN, 0);
		return 0;
	}
	if (dlen != VC_PIN_LEN) {
		*swp = SW_WRONG_LENGTH;
		return 0;
	}
	r = vc_state_pin_verify(piv->st, VC_REF_PIN, d, dlen);
	if (r == 0) {
		piv->pin_ok = piv->pin_always_ok = 1;
		*swp = SW_OK;
		return 0;
	}
	piv->pin_ok = piv->pin_always_ok = 0;
	if (r != TOK_ERR_PIN_INVALID && r != TOK_ERR_PIN_BLOCKED)
		return r;
	verbose_f("wrong PIN, %d retries left",
	    vc_state_pin_retries(piv->st, VC_REF_PIN));
	*swp = piv_pin_sw(piv, VC_REF_PIN, r);
	return 0;
}

/* CHANGE REFERENCE DATA (old || new) and RESET RETRY COUNTER (PUK || new PIN). */
static int
piv_change_pin(struct vc_piv *piv, const struct vc_apdu *a, const u_char *d,
    size_t dlen, struct buf *resp, int *swp)
{
	int r, ref, target;

	if (a->ins == INS_RESET_RETRY) {
		ref = VC_REF_PUK;
		target = VC_REF_PIN;
		if (a->p1 != 0x00 || a->p2 != VC_REF_PIN) {
			*swp = SW_WRONG_P1P2;
			return 0;
		}
	} else {
		ref = target = a->p2;
		if (a->p1 != 0x00 ||
		    (a->p2 != VC_REF_PIN && a->p2 != VC_REF_PUK)) {
			*swp = SW_WRONG_P1P2;
			return 0;
		}
	}
	if (dlen != 2 * VC_PIN_LEN) {
		*swp = SW_WRONG_LENGTH;
		return 0;
	}
	r = vc_state_pin_verify(piv->st, ref, d, VC_PIN_LEN);
	if (r == TOK_ERR_PIN_INVALID || r == TOK_ERR_PIN_BLOCKED) {
		if (ref == VC_REF_PIN)
			piv->pin_ok = piv->pin_always_ok = 0;
		*swp = piv_pin_sw(piv, ref, r);
		return 0;
	}
	if (r != 0)
		return r;
	if ((r = vc_state_pin_set(piv->st, target, d + VC_PIN_LEN,
	    VC_PIN_LEN)) != 0)
		return r;
	/* Changing the PIN proved it; unblocking with the PUK did not. */
	if (ref == VC_REF_PIN)
		piv->pin_ok = piv->pin_always_ok = 1;
	*swp = SW_OK;
	return 0;
}

/* The policies in force for keyref whose stored policies are pin, touch. */
static int
piv_pin_policy(struct vc_piv *piv, int keyref, int pin)
{
	if (pin != VC_PIN_POLICY_DEFAULT)
		return pin;
	if (keyref == 0x9c)
		return piv->pin_always_9c ? VC_PIN_POLICY_ALWAYS :
		    VC_PIN_POLICY_ONCE;
	if (keyref == 0x9e || keyref == VC_REF_ATTEST)
		return VC_PIN_POLICY_NEVER;
	return VC_PIN_POLICY_ONCE;
}

static int
piv_touch_policy(int touch)
{
	return touch == VC_TOUCH_POLICY_DEFAULT ? VC_TOUCH_POLICY_NEVER :
	    touch;
}

/* Wait for a touch for keyref: 0 when touched, else a TOK_ERR_* code. */
static int
piv_wait_touch(struct vc_piv *piv, int keyref)
{
	int r;

	if (piv->touch == NULL)
		r = 0;
	else
		r = piv->touch(piv->touch_arg, keyref);
	if (r == 0)
		piv->touched_ms[keyref & 0xff] = piv_now_ms();
	return r;
}

/* Management key authentication: external (81/82) or mutual (80/81). */
static int
piv_auth_mgmt(struct vc_piv *piv, const struct vc_apdu *a,
    const u_char *w, size_t wlen, int have_w, const u_char *c, size_t clen,
    int have_c, const u_char *rsp, size_t rsplen, int have_r,
    struct buf *resp, int *swp)
{
	struct buf *t = NULL;
	const u_char *key;
	u_char blk[16];
	size_t keylen, bs;
	int r = TOK_ERR_INTERNAL, alg;

	key = vc_state_mgmt_key(piv->st, &alg, &keylen);
	if (a->p1 != alg || (bs = vc_crypto_block_size(alg, keylen)) == 0) {
		*swp = SW_WRONG_P1P2;
		r = 0;
		goto out;
	}
	if ((t = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (have_c && clen == 0 && !have_w && !have_r) {
		/* External, step 1: a challenge for the host to encrypt. */
		piv_clear_challenge(piv);
		piv->mgmt_ok = 0;
		if ((r = vc_crypto_random(piv->chal, bs)) != 0)
			goto out;
		piv->chal_len = bs;
		piv->chal_kind = PIV_CHAL_EXTERNAL;
		if ((r = vc_tlv_put(t, 0x81, piv->chal, bs)) != 0 ||
		    (r = vc_tlv_putb(resp, 0x7c, t)) != 0)
			goto out;
		*swp = SW_OK;
	} else if (have_r && !have_w && !have_c) {
		/* External, step 2: the challenge encrypted with the key. */
		*swp = SW_SECURITY;
		if (piv->chal_kind == PIV_CHAL_EXTERNAL && rsplen == bs) {
			if ((r = vc_crypto_encrypt_block(alg, key, keylen,
			    piv->chal, blk)) != 0)
				goto out;
			if (CRYPTO_memcmp(blk, rsp, bs) == 0 &&
			    (!vc_state_mgmt_touch(piv->st) ||
			    piv_wait_touch(piv, VC_REF_MGMT) == 0)) {
				piv->mgmt_ok = 1;
				*swp = SW_OK;
			}
		}
		piv_clear_challenge(piv);
	} else if (have_w && wlen == 0 && !have_c && !have_r) {
		/* Mutual, step 1: an encrypted witness for the host to decrypt. */
		piv_clear_challenge(piv);
		piv->mgmt_ok = 0;
		if ((r = vc_crypto_random(piv->chal, bs)) != 0 ||
		    (r = vc_crypto_encrypt_block(alg, key, keylen, piv->chal,
		    blk)) != 0)
			goto out;
		piv->chal_len = bs;
		piv->chal_kind = PIV_CHAL_MUTUAL;
		if ((r = vc_tlv_put(t, 0x80, blk, bs)) != 0 ||
		    (r = vc_tlv_putb(resp, 0x7c, t)) != 0)
			goto out;
		*swp = SW_OK;
	} else if (have_w && have_c && !have_r) {
		/* Mutual, step 2: the witness in clear, and the host's challenge. */
		*swp = SW_SECURITY;
		if (piv->chal_kind == PIV_CHAL_MUTUAL && wlen == bs &&
		    clen == bs && CRYPTO_memcmp(w, piv->chal, bs) == 0 &&
		    (!vc_state_mgmt_touch(piv->st) ||
		    piv_wait_touch(piv, VC_REF_MGMT) == 0)) {
			if ((r = vc_crypto_encrypt_block(alg, key, keylen, c,
			    blk)) != 0 ||
			    (r = vc_tlv_put(t, 0x82, blk, bs)) != 0 ||
			    (r = vc_tlv_putb(resp, 0x7c, t)) != 0)
				goto out;
			piv->mgmt_ok = 1;
			*swp = SW_OK;
		}
		piv_clear_challenge(piv);
	} else {
		*swp = SW_WRONG_DATA;
		piv_clear_challenge(piv);
	}
	r = 0;
 out:
	explicit_bzero(blk, sizeof(blk));
	buf_free(t);
	return r;
}

static int
piv_general_auth(struct vc_piv *piv, const struct vc_apdu *a,
    const u_char *d, size_t dlen, struct buf *resp, int *swp)
{
	struct buf *b = NULL, *in = NULL, *sig = NULL, *t = NULL;
	const u_char *v, *w = NULL, *c = NULL, *rsp = NULL;
	size_t vlen, wlen = 0, clen = 0, rsplen = 0;
	EVP_PKEY *pkey;
	u_int tag;
	int r = TOK_ERR_INTERNAL, have_w = 0, have_c = 0, have_r = 0;
	int pinpol, touchpol, origin;
	int64_t now;

	*swp = SW_WRONG_DATA;
	if ((b = buf_from(d, dlen)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (vc_tlv_get(b, &tag, &v, &vlen) != 0 || tag != 0x7c ||
	    buf_expect_empty(b) != 0) {
		r = 0;
		goto out;
	}
	if ((in = buf_from(v, vlen)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	while (buf_len(in) > 0) {
		if (vc_tlv_get(in, &tag, &v, &vlen) != 0) {
			r = 0;
			goto out;
		}
		if (tag == 0x80 && !have_w) {
			w = v;
			wlen = vlen;
			have_w = 1;
		} else if (tag == 0x81 && !have_c) {
			c = v;
			clen = vlen;
			have_c = 1;
		} else if (tag == 0x82 && !have_r) {
			rsp = v;
			rsplen = vlen;
			have_r = 1;
		} else {
			/* 85 (key agreement) and duplicates are not supported. */
			r = 0;
			goto out;
		}
	}
	if (a->p2 == VC_REF_MGMT) {
		r = piv_auth_mgmt(piv, a, w, wlen, have_w, c, clen, have_c,
		    rsp, rsplen, have_r, resp, swp);
		goto out;
	}
	if (!vc_state_keyref_valid(a->p2) || a->p2 == VC_REF_ATTEST) {
		*swp = SW_WRONG_P1P2;
		r = 0;
		goto out;
	}
	if ((pkey = vc_state_key(piv->st, a->p2)) == NULL ||
	    vc_state_key_info(piv->st, a->p2, &pinpol, &touchpol,
	    &origin) != 0) {
		*swp = SW_REF_NOT_FOUND;
		r = 0;
		goto out;
	}
	pinpol = piv_pin_policy(piv, a->p2, pinpol);
	touchpol = piv_touch_policy(touchpol);
	if (vc_crypto_key_alg(pkey) != a->p1) {
		*swp = SW_WRONG_P1P2;
		r = 0;
		goto out;
	}
	/* Signature: an empty response (82) and the data to sign (81). */
	if (!have_r || rsplen != 0 || !have_c || have_w) {
		r = 0;
		goto out;
	}
	if ((pinpol == VC_PIN_POLICY_ALWAYS && !piv->pin_always_ok) ||
	    (pinpol != VC_PIN_POLICY_NEVER && !piv->pin_ok)) {
		*swp = SW_SECURITY;
		r = 0;
		goto out;
	}
	if (pinpol == VC_PIN_POLICY_ALWAYS)
		piv->pin_always_ok = 0;
	now = piv_now_ms();
	if (touchpol == VC_TOUCH_POLICY_ALWAYS ||
	    (touchpol == VC_TOUCH_POLICY_CACHED &&
	    (piv->touched_ms[a->p2] == 0 ||
	    now - piv->touched_ms[a->p2] > PIV_TOUCH_CACHE_MS))) {
		if ((r = piv_wait_touch(piv, a->p2)) != 0) {
			verbose_f("key %02x: no touch: %s", a->p2, tok_strerror(r));
			*swp = SW_SECURITY;
			r = 0;
			goto out;
		}
	}
	if ((sig = buf_new()) == NULL || (t = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = vc_crypto_sign(pkey, c, clen, sig)) != 0) {
		debug_fr(r, "key %02x: %zu bytes not signed", a->p2, clen);
		if (r == TOK_ERR_INVALID_ARGUMENT) {
			*swp = SW_WRONG_DATA;
			r = 0;
		}
		goto out;
	}
	if ((r = vc_tlv_putb(t, 0x82, sig)) != 0 ||
	    (r = vc_tlv_putb(resp, 0x7c, t)) != 0)
		goto out;
	debug_f("key %02x signed %zu bytes", a->p2, clen);
	*swp = SW_OK;
	r = 0;
 out:
	buf_free(b);
	buf_free(in);
	buf_free(sig);
	buf_free(t);
	return r;
}

/*
 * The optional AA (PIN policy) and AB (touch policy) of a GENERATE or
 * IMPORT template of len bytes at p; 0 (default) when absent.
 */
static int
piv_get_policies(const u_char *p, size_t len, int *pinp, int *touchp)
{
	const u_char *v;
	size_t vlen;
	int r;

	*pinp = *touchp = 0;
	if ((r = vc_tlv_find(p, len, 0xaa, &v, &vlen)) == 0) {
		if (vlen != 1 || v[0] > VC_PIN_POLICY_ALWAYS)
			return TOK_ERR_INVALID_FORMAT;
		*pinp = v[0];
	} else if (r != TOK_ERR_KEY_NOT_FOUND)
		return r;
	if ((r = vc_tlv_find(p, len, 0xab, &v, &vlen)) == 0) {
		if (vlen != 1 || v[0] > VC_TOUCH_POLICY_CACHED)
			return TOK_ERR_INVALID_FORMAT;
		*touchp = v[0];
	} else if (r != TOK_ERR_KEY_NOT_FOUND)
		return r;
	return 0;
}

static int
piv_generate(struct vc_piv *piv, const struct vc_apdu *a, const u_char *d,
    size_t dlen, struct buf *resp, int *swp)
{
	EVP_PKEY *pkey = NULL;
	const u_char *v, *alg;
	size_t vlen, alglen;
	u_int tag;
	struct buf *b = NULL;
	int r = TOK_ERR_INTERNAL, pinpol, touchpol;

	if (a->p1 != 0x00 || !vc_state_keyref_valid(a->p2) ||
	    a->p2 == VC_REF_ATTEST) {
		*swp = SW_WRONG_P1P2;
		r = 0;
		goto out;
	}
	if (!piv->mgmt_ok) {
		*swp = SW_SECURITY;
		r = 0;
		goto out;
	}
	if ((b = buf_from(d, dlen)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	/* AC { 80 alg [, aa pin policy, ab touch policy] } */
	if (vc_tlv_get(b, &tag, &v, &vlen) != 0 || tag != 0xac ||
	    buf_expect_empty(b) != 0 ||
	    vc_tlv_find(v, vlen, 0x80, &alg, &alglen) != 0 || alglen != 1 ||
	    piv_get_policies(v, vlen, &pinpol, &touchpol) != 0) {
		*swp = SW_WRONG_DATA;
		r = 0;
		goto out;
	}
	if ((r = vc_crypto_keygen(alg[0], &pkey)) != 0) {
		if (r == TOK_ERR_KEY_TYPE_UNKNOWN) {
			*swp = SW_WRONG_DATA;
			r = 0;
		}
		goto out;
	}
	if ((r = vc_crypto_pubkey_template(pkey, resp)) != 0 ||
	    (r = vc_state_set_key(piv->st, a->p2, pkey, pinpol, touchpol,
	    VC_ORIGIN_GENERATED)) != 0)
		goto out;
	pkey = NULL;
	if ((r = vc_state_save(piv->st)) != 0)
		goto out;
	verbose_f("new key (alg %02x) in %02x", alg[0], a->p2);
	*swp = SW_OK;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	buf_free(b);
	return r;
}

/* YubiKey GET VERSION and GET SERIAL. */
static int
piv_yk_info(struct vc_piv *piv, const struct vc_apdu *a, struct buf *resp,
    int *swp)
{
	uint32_t serial = vc_state_serial(piv->st);
	int r;

	if (a->ins == INS_YK_VERSION)
		r = buf_put(resp, piv->version, 3);
	else
		r = buf_put_u32(resp, serial);
	if (r != 0)
		return r;
	*swp = SW_OK;
	return 0;
}

/*
 * YubiKey GET METADATA (P2: the reference): 01 algorithm, 02 PIN and
 * touch policy, 03 origin, 04 public key, 05 default value, 06 retries.
 */
static int
piv_yk_metadata(struct vc_piv *piv, const struct vc_apdu *a,
    struct buf *resp, int *swp)
{
	struct buf *t = NULL;
	EVP_PKEY *pkey;
	u_char v[2];
	size_t keylen;
	int r = TOK_ERR_INTERNAL, alg, pinpol, touchpol, origin;

	if (a->p1 != 0x00) {
		*swp = SW_WRONG_P1P2;
		r = 0;
		goto out;
	}
	if ((t = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	*swp = SW_OK;
	switch (a->p2) {
	case VC_REF_PIN:
	case VC_REF_PUK:
		v[0] = vc_state_pin_max(piv->st, a->p2);
		v[1] = vc_state_pin_retries(piv->st, a->p2);
		if ((r = vc_tlv_put(resp, 0x01, "\xff", 1)) != 0 ||
		    (r = vc_tlv_put(resp, 0x05,
		    vc_state_pin_is_default(piv->st, a->p2) ? "\x01" : "\x00",
		    1)) != 0 ||
		    (r = vc_tlv_put(resp, 0x06, v, 2)) != 0)
			goto out;
		break;
	case VC_REF_MGMT:
		(void)vc_state_mgmt_key(piv->st, &alg, &keylen);
		v[0] = alg;
		if ((r = vc_tlv_put(resp, 0x01, v, 1)) != 0)
			goto out;
		v[0] = 0;
		v[1] = vc_state_mgmt_touch(piv->st) ? VC_TOUCH_POLICY_ALWAYS :
		    VC_TOUCH_POLICY_NEVER;
		if ((r = vc_tlv_put(resp, 0x02, v, 2)) != 0 ||
		    (r = vc_tlv_put(resp, 0x05,
		    vc_state_mgmt_is_default(piv->st) ? "\x01" : "\x00",
		    1)) != 0)
			goto out;
		break;
	default:
		if (!vc_state_keyref_valid(a->p2)) {
			*swp = SW_WRONG_P1P2;
			break;
		}
		if ((pkey = vc_state_key(piv->st, a->p2)) == NULL ||
		    vc_state_key_info(piv->st, a->p2, &pinpol, &touchpol,
		    &origin) != 0) {
			*swp = SW_REF_NOT_FOUND;
			break;
		}
		v[0] = vc_crypto_key_alg(pkey);
		if ((r = vc_tlv_put(resp, 0x01, v, 1)) != 0)
			goto out;
		v[0] = piv_pin_policy(piv, a->p2, pinpol);
		v[1] = piv_touch_policy(touchpol);
		if ((r = vc_tlv_put(resp, 0x02, v, 2)) != 0)
			goto out;
		v[0] = origin;
		if ((r = vc_tlv_put(resp, 0x03, v, 1)) != 0 ||
		    (r = vc_crypto_pubkey_fields(pkey, t)) != 0 ||
		    (r = vc_tlv_putb(resp, 0x04, t)) != 0)
			goto out;
		break;
	}
	r = 0;
 out:
	buf_free(t);
	return r;
}

/*
 * YubiKey ATTEST (P1: the slot): a certificate for a key generated on
 * the card, signed by the attestation key in f9 and issued by the name
 * in f9's certificate.
 */
static int
piv_yk_attest(struct vc_piv *piv, const struct vc_apdu *a, struct buf *resp,
    int *swp)
{
	EVP_PKEY *pkey, *signer;
	const u_char *obj, *cert;
	u_char *der = NULL;
	size_t objlen, certlen, len = 0;
	int r = TOK_ERR_INTERNAL, pinpol, touchpol, origin;

	if (a->p2 != 0x00 || !vc_state_keyref_valid(a->p1) ||
	    a->p1 == VC_REF_ATTEST) {
		*swp = SW_WRONG_P1P2;
		r = 0;
		goto out;
	}
	if ((pkey = vc_state_key(piv->st, a->p1)) == NULL ||
	    vc_state_key_info(piv->st, a->p1, &pinpol, &touchpol,
	    &origin) != 0) {
		*swp = SW_REF_NOT_FOUND;
		r = 0;
		goto out;
	}
	if (origin != VC_ORIGIN_GENERATED) {
		/* Only keys made on the card can be vouched for. */
		*swp = SW_WRONG_DATA;
		r = 0;
		goto out;
	}
	if ((signer = vc_state_key(piv->st, VC_REF_ATTEST)) == NULL ||
	    vc_state_obj_get(piv->st, vc_state_cert_tag(VC_REF_ATTEST), &obj,
	    &objlen) != 0 ||
	    vc_tlv_find(obj, objlen, 0x70, &cert, &certlen) != 0) {
		*swp = SW_REF_NOT_FOUND;
		r = 0;
		goto out;
	}
	if ((r = vc_crypto_attest(pkey, a->p1, signer, cert, certlen,
	    piv->version, vc_state_serial(piv->st),
	    piv_pin_policy(piv, a->p1, pinpol), piv_touch_policy(touchpol),
	    &der, &len)) != 0) {
		if (r == TOK_ERR_CERT_INVALID) {
			*swp = SW_REF_NOT_FOUND;
			r = 0;
		}
		goto out;
	}
	if ((r = buf_put(resp, der, len)) != 0)
		goto out;
	*swp = SW_OK;
	r = 0;
 out:
	free(der);
	return r;
}

/* YubiKey SET MANAGEMENT KEY: P2 FF (no touch) or FE (touch); alg 9B len key. */
static int
piv_yk_set_mgmt(struct vc_piv *piv, const struct vc_apdu *a,
    const u_char *d, size_t dlen, int *swp)
{
	int r;

	if (a->p1 != 0xff || (a->p2 != 0xff && a->p2 != 0xfe)) {
		*swp = SW_WRONG_P1P2;
		return 0;
	}
	if (!piv->mgmt_ok) {
		*swp = SW_SECURITY;
		return 0;
	}
	if (dlen < 3 || d[1] != VC_REF_MGMT || d[2] != dlen - 3 ||
	    vc_crypto_block_size(d[0], dlen - 3) == 0) {
		*swp = SW_WRONG_DATA;
		return 0;
	}
	if ((r = vc_state_set_mgmt(piv->st, d[0], d + 3, dlen - 3,
	    a->p2 == 0xfe)) != 0)
		return r;
	verbose_f("new management key (alg %02x%s)", d[0],
	    a->p2 == 0xfe ? ", touch" : "");
	*swp = SW_OK;
	return 0;
}

/*
 * YubiKey IMPORT KEY (P1 algorithm, P2 slot): RSA 01 p, 02 q, 03 dp,
 * 04 dq, 05 qinv; EC 06 private scalar; AA PIN and AB touch policy.
 */
static int
piv_yk_import(struct vc_piv *piv, const struct vc_apdu *a, const u_char *d,
    size_t dlen, int *swp)
{
	struct vc_crypto_field f[VC_IMPORT_FIELDS];
	struct buf *b = NULL;
	EVP_PKEY *pkey = NULL;
	const u_char *v;
	size_t vlen;
	u_int tag;
	int r = TOK_ERR_INTERNAL, pinpol, touchpol;

	memset(f, 0, sizeof(f));
	if (!vc_state_keyref_valid(a->p2)) {
		*swp = SW_WRONG_P1P2;
		r = 0;
		goto out;
	}
	if (!piv->mgmt_ok) {
		*swp = SW_SECURITY;
		r = 0;
		goto out;
	}
	if ((b = buf_from(d, dlen)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	*swp = SW_WRONG_DATA;
	while (buf_len(b) > 0) {
		if (vc_tlv_get(b, &tag, &v, &vlen) != 0) {
			r = 0;
			goto out;
		}
		if (tag >= 0x01 && tag <= VC_IMPORT_FIELDS) {
			if (f[tag - 1].p != NULL) {
				r = 0;
				goto out;
			}
			f[tag - 1].p = v;
			f[tag - 1].len = vlen;
		} else if (tag != 0xaa && tag != 0xab) {
			r = 0;
			goto out;
		}
	}
	if (piv_get_policies(d, dlen, &pinpol, &touchpol) != 0) {
		r = 0;
		goto out;
	}
	if ((r = vc_crypto_import(a->p1, f, &pkey)) != 0) {
		if (r == TOK_ERR_KEY_TYPE_UNKNOWN) {
			*swp = SW_WRONG_P1P2;
			r = 0;
		} else if (r == TOK_ERR_KEY_INVALID) {
			r = 0;
		}
		goto out;
	}
	if ((r = vc_state_set_key(piv->st, a->p2, pkey, pinpol, touchpol,
	    VC_ORIGIN_IMPORTED)) != 0)
		goto out;
	pkey = NULL;
	if ((r = vc_state_save(piv->st)) != 0)
		goto out;
	verbose_f("key imported (alg %02x) in %02x", a->p1, a->p2);
	*swp = SW_OK;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	buf_free(b);
	return r;
}

/* YubiKey SET PIN RETRIES (P1 PIN, P2 PUK): needs the management key and the PIN. */
static int
piv_yk_set_retries(struct vc_piv *piv, const struct vc_apdu *a, size_t dlen,
    int *swp)
{
	int r;

	if (dlen != 0) {
		*swp = SW_WRONG_LENGTH;
		return 0;
	}
	if (!piv->mgmt_ok || !piv->pin_ok) {
		*swp = SW_SECURITY;
		return 0;
	}
	if (a->p1 == 0 || a->p2 == 0) {
		*swp = SW_WRONG_P1P2;
		return 0;
	}
	if ((r = vc_state_set_retries(piv->st, a->p1, a->p2)) != 0)
		return r;
	piv->pin_ok = piv->pin_always_ok = 0;
	verbose_f("retries: PIN %u, PUK %u (both back to their defaults)",
	    a->p1, a->p2);
	*swp = SW_OK;
	return 0;
}

/* YubiKey RESET: only once both the PIN and the PUK are blocked. */
static int
piv_yk_reset(struct vc_piv *piv, const struct vc_apdu *a, size_t dlen,
    int *swp)
{
	int r;

	if (a->p1 != 0x00 || a->p2 != 0x00) {
		*swp = SW_WRONG_P1P2;
		return 0;
	}
	if (dlen != 0) {
		*swp = SW_WRONG_LENGTH;
		return 0;
	}
	if (vc_state_pin_retries(piv->st, VC_REF_PIN) != 0 ||
	    vc_state_pin_retries(piv->st, VC_REF_PUK) != 0) {
		*swp = SW_CONDITIONS;
		return 0;
	}
	if ((r = vc_state_reset(piv->st)) != 0)
		return r;
	piv_clear_security(piv);
	verbose_f("PIV application reset");
	*swp = SW_OK;
	return 0;
}

/* YubiKey MOVE KEY (P1 to, P2 from) or DELETE KEY (P1 FF, P2 slot). */
static int
piv_yk_move(struct vc_piv *piv, const struct vc_apdu *a, size_t dlen,
    int *swp)
{
	int r;

	if (dlen != 0) {
		*swp = SW_WRONG_LENGTH;
		return 0;
	}
	if (!vc_state_keyref_valid(a->p2) || a->p2 == VC_REF_ATTEST ||
	    (a->p1 != 0xff && (!vc_state_keyref_valid(a->p1) ||
	    a->p1 == VC_REF_ATTEST))) {
		*swp = SW_WRONG_P1P2;
		return 0;
	}
	if (!piv->mgmt_ok) {
		*swp = SW_SECURITY;
		return 0;
	}
	if (vc_state_key(piv->st, a->p2) == NULL) {
		*swp = SW_REF_NOT_FOUND;
		return 0;
	}
	if (a->p1 == 0xff)
		r = vc_state_set_key(piv->st, a->p2, NULL, 0, 0, 0);
	else
		r = vc_state_move_key(piv->st, a->p2, a->p1);
	if (r != 0 || (r = vc_state_save(piv->st)) != 0)
		return r;
	piv->touched_ms[a->p2] = 0;
	*swp = SW_OK;
	return 0;
}

/* Append the status word. */
static int
piv_put_sw(struct buf *rapdu, int sw)
{
	if (buf_put_u8(rapdu, (sw >> 8) & 0xff) != 0 ||
	    buf_put_u8(rapdu, sw & 0xff) != 0)
		return TOK_ERR_ALLOC;
	return 0;
}

/*
 * Append up to max bytes of the pending response data and the status word:
 * 9000 when it was all sent, 61xx with what is left otherwise.
 */
static int
piv_send_pending(struct vc_piv *piv, size_t max, struct buf *rapdu)
{
	size_t n = buf_len(piv->pending), left;
	int r;

	if (n > max)
		n = max;
	if ((r = buf_put(rapdu, buf_ptr(piv->pending), n)) != 0 ||
	    (r = buf_consume(piv->pending, n)) != 0)
		return r;
	left = buf_len(piv->pending);
	return piv_put_sw(rapdu, left ? SW_MORE(left) : SW_OK);
}

int
vc_piv_process(struct vc_piv *piv, const u_char *capdu, size_t len,
    struct buf *rapdu)
{
	struct vc_apdu a;
	const u_char *d;
	size_t dlen, max;
	int r = TOK_ERR_INTERNAL, sw = SW_INS_UNSUPPORTED;

	if (vc_apdu_parse(capdu, len, &a) != 0) {
		debug_f("malformed APDU (%zu bytes)", len);
		buf_reset(piv->pending);
		r = piv_put_sw(rapdu, SW_WRONG_LENGTH);
		goto out;
	}
	debug2_f("CLA %02x INS %02x P1 %02x P2 %02x Lc %zu Le %zu",
	    a.cla, a.ins, a.p1, a.p2, a.lc, a.le);
	max = a.le == 0 ? 256 : a.le;
	if (a.ins == INS_GET_RESPONSE) {
		if ((a.cla & ~0x10) != 0 || buf_len(piv->pending) == 0) {
			r = piv_put_sw(rapdu, SW_CONDITIONS);
			goto out;
		}
		r = piv_send_pending(piv, max, rapdu);
		goto out;
	}
	buf_reset(piv->pending);
	if (a.cla != 0x00 && a.cla != 0x10) {
		r = piv_put_sw(rapdu, SW_CLA_UNSUPPORTED);
		goto out;
	}
	/* Command chaining: gather the data, run the command on the last part. */
	if (piv->chain_active && (a.ins != piv->chain_ins ||
	    a.p1 != piv->chain_p1 || a.p2 != piv->chain_p2)) {
		buf_reset(piv->chain);
		piv->chain_active = 0;
	}
	if (a.cla & 0x10 || piv->chain_active) {
		if (buf_len(piv->chain) + a.lc > PIV_CHAIN_MAX) {
			buf_reset(piv->chain);
			piv->chain_active = 0;
			r = piv_put_sw(rapdu, SW_WRONG_LENGTH);
			goto out;
		}
		if (a.lc > 0 && (r = buf_put(piv->chain, a.data, a.lc)) != 0)
			goto out;
		if (a.cla & 0x10) {
			piv->chain_active = 1;
			piv->chain_ins = a.ins;
			piv->chain_p1 = a.p1;
			piv->chain_p2 = a.p2;
			r = piv_put_sw(rapdu, SW_OK);
			goto out;
		}
		piv->chain_active = 0;
		d = buf_ptr(piv->chain);
		dlen = buf_len(piv->chain);
	} else {
		d = a.data;
		dlen = a.lc;
	}

	if (a.ins == INS_SELECT) {
		r = piv_select(piv, &a, d, dlen, piv->pending, &sw);
		goto done;
	}
	if (piv->applet == APPLET_OTP && a.ins == INS_OTP_API &&
	    a.p1 == OTP_GET_SERIAL) {
		r = buf_put_u32(piv->pending, vc_state_serial(piv->st));
		sw = SW_OK;
		goto done;
	}
	if (piv->applet != APPLET_PIV) {
		/* Nothing selected (after power-up) or another application. */
		debug_f("INS %02x with PIV not selected", a.ins);
		sw = SW_INS_UNSUPPORTED;
		r = 0;
		goto done;
	}
	if (piv->plain && a.ins >= INS_YK_MOVE_KEY) {
		/* A plain PIV card: the YubiKey instructions (F6-FF) are unknown. */
		sw = SW_INS_UNSUPPORTED;
		r = 0;
		goto done;
	}
	switch (a.ins) {
	case INS_GET_DATA:
		r = piv_get_data(piv, &a, d, dlen, piv->pending, &sw);
		break;
	case INS_PUT_DATA:
		r = piv_put_data(piv, &a, d, dlen, piv->pending, &sw);
		break;
	case INS_VERIFY:
		r = piv_verify(piv, &a, d, dlen, piv->pending, &sw);
		break;
	case INS_CHANGE_REF:
	case INS_RESET_RETRY:
		r = piv_change_pin(piv, &a, d, dlen, piv->pending, &sw);
		break;
	case INS_GENERAL_AUTH:
		r = piv_general_auth(piv, &a, d, dlen, piv->pending, &sw);
		break;
	case INS_GENERATE:
		r = piv_generate(piv, &a, d, dlen, piv->pending, &sw);
		break;
	case INS_YK_VERSION:
	case INS_YK_SERIAL:
		r = piv_yk_info(piv, &a, piv->pending, &sw);
		break;
	case INS_YK_METADATA:
		r = piv_yk_metadata(piv, &a, piv->pending, &sw);
		break;
	case INS_YK_ATTEST:
		r = piv_yk_attest(piv, &a, piv->pending, &sw);
		break;
	case INS_YK_SET_MGMT:
		r = piv_yk_set_mgmt(piv, &a, d, dlen, &sw);
		break;
	case INS_YK_IMPORT:
		r = piv_yk_import(piv, &a, d, dlen, &sw);
		break;
	case INS_YK_SET_RETRIES:
		r = piv_yk_set_retries(piv, &a, dlen, &sw);
		break;
	case INS_YK_RESET:
		r = piv_yk_reset(piv, &a, dlen, &sw);
		break;
	case INS_YK_MOVE_KEY:
		r = piv_yk_move(piv, &a, dlen, &sw);
		break;
	default:
		sw = SW_INS_UNSUPPORTED;
		r = 0;
		break;
	}
 done:
	buf_reset(piv->chain);
	if (r != 0) {
		error_fr(r, "INS %02x", a.ins);
		buf_reset(piv->pending);
		/* The card answers even when it fails inside. */
		r = piv_put_sw(rapdu, 0x6f00);
		goto out;
	}
	if (sw != SW_OK) {
		buf_reset(piv->pending);
		r = piv_put_sw(rapdu, sw);
		goto out;
	}
	/* Extended Le takes everything; short responses chain by 61xx. */
	r = piv_send_pending(piv, max, rapdu);
 out:
	return r;
}
