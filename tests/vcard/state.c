/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* vcard: persistent card state (see state.h). */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "tests/vcard/crypto.h"
#include "tests/vcard/state.h"
#include "tests/vcard/tlv.h"

#define STATE_MAGIC		"tokagent-vcard-v2"
#define STATE_FILE_MAX		(1024 * 1024)
#define STATE_OBJ_MAX		64
#define STATE_OBJ_LEN_MAX	(16 * 1024)
#define STATE_KEY_DER_MAX	8192
#define STATE_PIN_TRIES		3
#define STATE_PUK_TRIES		3
#define STATE_NKEYS		25	/* 9a 9c 9d 9e, 82-95, f9 */

struct state_key {
	EVP_PKEY	*pkey;
	int		 pin_policy;
	int		 touch_policy;
	int		 origin;
};

struct state_obj {
	u_int	 tag;
	u_char	*val;
	size_t	 len;
};

struct vc_state {
	char		*path;
	uint32_t	 serial;
	u_char		 pin[VC_PIN_LEN];
	u_int		 pin_tries, pin_max;
	u_char		 puk[VC_PIN_LEN];
	u_int		 puk_tries, puk_max;
	int		 mgmt_alg;
	u_char		 mgmt_key[32];
	size_t		 mgmt_len;
	int		 mgmt_touch;
	struct state_key keys[STATE_NKEYS];
	struct state_obj objs[STATE_OBJ_MAX];
	size_t		 nobjs;
};

static const u_char state_default_mgmt[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8
};

/* A FASC-N of agency 9999, system 9999, credential 999999 (SP 800-73 test value). */
static const u_char state_fascn[25] = {
	0xd4, 0xe7, 0x39, 0xda, 0x73, 0x9c, 0xed, 0x39, 0xce, 0x73, 0x9d,
	0x83, 0x68, 0x58, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0xc8, 0x42,
	0x10, 0xc3, 0xeb
};

/* Slot index: 0-3 for 9a 9c 9d 9e, 4-23 for 82-95, 24 for f9. */
static int
state_slot(int keyref)
{
	switch (keyref) {
	case 0x9a:
		return 0;
	case 0x9c:
		return 1;
	case 0x9d:
		return 2;
	case 0x9e:
		return 3;
	case VC_REF_ATTEST:
		return 24;
	}
	if (keyref >= 0x82 && keyref <= 0x95)
		return 4 + keyref - 0x82;
	return -1;
}

static int
state_keyref(int slot)
{
	static const int first[4] = { 0x9a, 0x9c, 0x9d, 0x9e };

	if (slot < 4)
		return first[slot];
	if (slot < 24)
		return 0x82 + slot - 4;
	return VC_REF_ATTEST;
}

u_int
vc_state_cert_tag(int keyref)
{
	switch (keyref) {
	case 0x9a:
		return 0x5fc105;
	case 0x9c:
		return 0x5fc10a;
	case 0x9d:
		return 0x5fc10b;
	case 0x9e:
		return 0x5fc101;
	case VC_REF_ATTEST:
		return 0x5fff01;
	}
	if (keyref >= 0x82 && keyref <= 0x95)
		return 0x5fc10d + keyref - 0x82;
	return 0;
}

int
vc_state_keyref_valid(int keyref)
{
	return state_slot(keyref) >= 0;
}

void
vc_state_free(struct vc_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < STATE_NKEYS; i++)
		EVP_PKEY_free(st->keys[i].pkey);
	for (i = 0; i < st->nobjs; i++)
		freezero(st->objs[i].val, st->objs[i].len);
	free(st->path);
	freezero(st, sizeof(*st));
}

static void
state_pad_pin(const char *pin, u_char out[VC_PIN_LEN])
{
	size_t len = strlen(pin);

	memset(out, 0xff, VC_PIN_LEN);
	memcpy(out, pin, len > VC_PIN_LEN ? VC_PIN_LEN : len);
}

int
vc_state_obj_get(const struct vc_state *st, u_int tag, const u_char **valp,
    size_t *lenp)
{
	size_t i;

	*valp = NULL;
	*lenp = 0;
	for (i = 0; i < st->nobjs; i++) {
		if (st->objs[i].tag == tag) {
			*valp = st->objs[i].val;
			*lenp = st->objs[i].len;
			return 0;
		}
	}
	return TOK_ERR_KEY_NOT_FOUND;
}

int
vc_state_obj_put(struct vc_state *st, u_int tag, const u_char *val,
    size_t len)
{
	u_char *copy = NULL;
	size_t i;

	if (len > STATE_OBJ_LEN_MAX || tag > VC_TLV_TAG_MAX)
		return TOK_ERR_INVALID_ARGUMENT;
	if (len > 0) {
		if ((copy = malloc(len)) == NULL)
			return TOK_ERR_ALLOC;
		memcpy(copy, val, len);
	}
	for (i = 0; i < st->nobjs; i++) {
		if (st->objs[i].tag != tag)
			continue;
		freezero(st->objs[i].val, st->objs[i].len);
		if (len == 0) {
			st->objs[i] = st->objs[--st->nobjs];
			memset(&st->objs[st->nobjs], 0, sizeof(st->objs[0]));
		} else {
			st->objs[i].val = copy;
			st->objs[i].len = len;
		}
		return 0;
	}
	if (len == 0)
		return 0;
	if (st->nobjs >= STATE_OBJ_MAX) {
		free(copy);
		return TOK_ERR_NO_BUFFER_SPACE;
	}
	st->objs[st->nobjs].tag = tag;
	st->objs[st->nobjs].val = copy;
	st->objs[st->nobjs].len = len;
	st->nobjs++;
	return 0;
}

EVP_PKEY *
vc_state_key(const struct vc_state *st, int keyref)
{
	int i;

	if ((i = state_slot(keyref)) < 0)
		return NULL;
	return st->keys[i].pkey;
}

static int
state_policies_valid(int pin_policy, int touch_policy, int origin)
{
	return pin_policy >= VC_PIN_POLICY_DEFAULT &&
	    pin_policy <= VC_PIN_POLICY_ALWAYS &&
	    touch_policy >= VC_TOUCH_POLICY_DEFAULT &&
	    touch_policy <= VC_TOUCH_POLICY_CACHED &&
	    (origin == VC_ORIGIN_GENERATED || origin == VC_ORIGIN_IMPORTED);
}

int
vc_state_set_key(struct vc_state *st, int keyref, EVP_PKEY *pkey,
    int pin_policy, int touch_policy, int origin)
{
	int i;

	if ((i = state_slot(keyref)) < 0 ||
	    (pkey != NULL &&
	    !state_policies_valid(pin_policy, touch_policy, origin)))
		return TOK_ERR_INVALID_ARGUMENT;
	EVP_PKEY_free(st->keys[i].pkey);
	memset(&st->keys[i], 0, sizeof(st->keys[i]));
	if (pkey == NULL)
		return 0;
	st->keys[i].pkey = pkey;
	st->keys[i].pin_policy = pin_policy;
	st->keys[i].touch_policy = touch_policy;
	st->keys[i].origin = origin;
	return 0;
}

int
vc_state_key_info(const struct vc_state *st, int keyref, int *pinp,
    int *touchp, int *originp)
{
	int i;

	*pinp = *touchp = *originp = 0;
	if ((i = state_slot(keyref)) < 0 || st->keys[i].pkey == NULL)
		return TOK_ERR_KEY_NOT_FOUND;
	*pinp = st->keys[i].pin_policy;
	*touchp = st->keys[i].touch_policy;
	*originp = st->keys[i].origin;
	return 0;
}

int
vc_state_move_key(struct vc_state *st, int from, int to)
{
	int i, j;

	if ((i = state_slot(from)) < 0 || (j = state_slot(to)) < 0)
		return TOK_ERR_INVALID_ARGUMENT;
	if (st->keys[i].pkey == NULL)
		return TOK_ERR_KEY_NOT_FOUND;
	if (i == j)
		return 0;
	EVP_PKEY_free(st->keys[j].pkey);
	st->keys[j] = st->keys[i];
	memset(&st->keys[i], 0, sizeof(st->keys[i]));
	return 0;
}

const u_char *
vc_state_mgmt_key(const struct vc_state *st, int *algp, size_t *lenp)
{
	*algp = st->mgmt_alg;
	*lenp = st->mgmt_len;
	return st->mgmt_key;
}

int
vc_state_mgmt_touch(const struct vc_state *st)
{
	return st->mgmt_touch;
}

int
vc_state_mgmt_is_default(const struct vc_state *st)
{
	return st->mgmt_len == sizeof(state_default_mgmt) &&
	    CRYPTO_memcmp(st->mgmt_key, state_default_mgmt,
	    sizeof(state_default_mgmt)) == 0;
}

int
vc_state_set_mgmt(struct vc_state *st, int alg, const u_char *key,
    size_t len, int touch)
{
	if (vc_crypto_block_size(alg, len) == 0 || len > sizeof(st->mgmt_key))
		return TOK_ERR_INVALID_ARGUMENT;
	explicit_bzero(st->mgmt_key, sizeof(st->mgmt_key));
	memcpy(st->mgmt_key, key, len);
	st->mgmt_len = len;
	st->mgmt_alg = alg;
	st->mgmt_touch = touch != 0;
	return vc_state_save(st);
}

int
vc_state_pin_retries(const struct vc_state *st, int ref)
{
	if (ref == VC_REF_PIN)
		return st->pin_tries;
	if (ref == VC_REF_PUK)
		return st->puk_tries;
	return -1;
}

int
vc_state_pin_max(const struct vc_state *st, int ref)
{
	if (ref == VC_REF_PIN)
		return st->pin_max;
	if (ref == VC_REF_PUK)
		return st->puk_max;
	return -1;
}

int
vc_state_pin_is_default(const struct vc_state *st, int ref)
{
	u_char want[VC_PIN_LEN];
	int r;

	if (ref == VC_REF_PIN) {
		state_pad_pin("123456", want);
		r = CRYPTO_memcmp(want, st->pin, VC_PIN_LEN) == 0;
	} else if (ref == VC_REF_PUK) {
		state_pad_pin("12345678", want);
		r = CRYPTO_memcmp(want, st->puk, VC_PIN_LEN) == 0;
	} else
		r = 0;
	return r;
}

static void
state_factory_secrets(struct vc_state *st, u_int pin_max, u_int puk_max)
{
	state_pad_pin("123456", st->pin);
	state_pad_pin("12345678", st->puk);
	st->pin_tries = st->pin_max = pin_max;
	st->puk_tries = st->puk_max = puk_max;
}

int
vc_state_set_retries(struct vc_state *st, u_int pin_max, u_int puk_max)
{
	if (pin_max < 1 || pin_max > VC_TRIES_MAX ||
	    puk_max < 1 || puk_max > VC_TRIES_MAX)
		return TOK_ERR_INVALID_ARGUMENT;
	state_factory_secrets(st, pin_max, puk_max);
	return vc_state_save(st);
}

int
vc_state_reset(struct vc_state *st)
{
	const u_char *v;
	u_char *att = NULL;
	size_t i, len = 0;
	int r = TOK_ERR_INTERNAL;

	if (vc_state_obj_get(st, vc_state_cert_tag(VC_REF_ATTEST), &v,
	    &len) == 0) {
		if ((att = malloc(len)) == NULL)
			return TOK_ERR_ALLOC;
		memcpy(att, v, len);
	}
	for (i = 0; i < STATE_NKEYS; i++) {
		if (state_keyref(i) == VC_REF_ATTEST)
			continue;
		EVP_PKEY_free(st->keys[i].pkey);
		memset(&st->keys[i], 0, sizeof(st->keys[i]));
	}
	for (i = 0; i < st->nobjs; i++)
		freezero(st->objs[i].val, st->objs[i].len);
	memset(st->objs, 0, sizeof(st->objs));
	st->nobjs = 0;
	state_factory_secrets(st, STATE_PIN_TRIES, STATE_PUK_TRIES);
	explicit_bzero(st->mgmt_key, sizeof(st->mgmt_key));
	st->mgmt_alg = VC_ALG_3DES;
	memcpy(st->mgmt_key, state_default_mgmt, sizeof(state_default_mgmt));
	st->mgmt_len = sizeof(state_default_mgmt);
	st->mgmt_touch = 0;
	if (att != NULL && (r = vc_state_obj_put(st,
	    vc_state_cert_tag(VC_REF_ATTEST), att, len)) != 0)
		goto out;
	r = vc_state_save(st);
 out:
	free(att);
	return r;
}

uint32_t
vc_state_serial(const struct vc_state *st)
{
	return st->serial;
}

int
vc_state_pin_verify(struct vc_state *st, int ref, const u_char *pin,
    size_t len)
{
	u_char *want;
	u_int *tries, max;
	int r = TOK_ERR_INTERNAL, ok;

	if (ref == VC_REF_PIN) {
		want = st->pin;
		tries = &st->pin_tries;
		max = st->pin_max;
	} else if (ref == VC_REF_PUK) {
		want = st->puk;
		tries = &st->puk_tries;
		max = st->puk_max;
	} else
		return TOK_ERR_INVALID_ARGUMENT;
	if (*tries == 0)
		return TOK_ERR_PIN_BLOCKED;
	ok = len == VC_PIN_LEN && CRYPTO_memcmp(want, pin, VC_PIN_LEN) == 0;
	if (ok) {
		if (*tries == max)
			return 0;
		*tries = max;
	} else
		(*tries)--;
	if ((r = vc_state_save(st)) != 0)
		return r;
	return ok ? 0 : TOK_ERR_PIN_INVALID;
}

int
vc_state_pin_set(struct vc_state *st, int ref, const u_char *pin, size_t len)
{
	if (len != VC_PIN_LEN)
		return TOK_ERR_INVALID_ARGUMENT;
	if (ref == VC_REF_PIN) {
		memcpy(st->pin, pin, VC_PIN_LEN);
		st->pin_tries = st->pin_max;
	} else if (ref == VC_REF_PUK) {
		memcpy(st->puk, pin, VC_PIN_LEN);
		st->puk_tries = st->puk_max;
	} else
		return TOK_ERR_INVALID_ARGUMENT;
	return vc_state_save(st);
}

/* The content of the 53 template of a certificate object. */
static int
state_put_cert(struct vc_state *st, u_int tag, EVP_PKEY *pkey, const char *cn,
    int ca)
{
	struct buf *b = NULL;
	u_char *der = NULL;
	size_t len = 0;
	int r = TOK_ERR_INTERNAL;

	if ((b = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = vc_crypto_selfsign(pkey, cn, ca, &der, &len)) != 0 ||
	    (r = vc_tlv_put(b, 0x70, der, len)) != 0 ||
	    (r = vc_tlv_put(b, 0x71, "\0", 1)) != 0 ||
	    (r = vc_tlv_put(b, 0xfe, NULL, 0)) != 0 ||
	    (r = vc_state_obj_put(st, tag, buf_ptr(b), buf_len(b))) != 0)
		goto out;
	r = 0;
 out:
	free(der);
	buf_free(b);
	return r;
}

static int
state_create(struct vc_state *st, uint32_t serial)
{
	struct buf *b = NULL;
	EVP_PKEY *pkey = NULL;
	u_char guid[16];
	int r = TOK_ERR_INTERNAL;

	st->serial = serial;
	while (st->serial == 0) {
		/* Eight decimal digits, as on a YubiKey 5's label. */
		if ((r = vc_crypto_random((u_char *)&st->serial,
		    sizeof(st->serial))) != 0)
			goto out;
		st->serial = 10000000 + st->serial % 90000000;
	}
	state_factory_secrets(st, STATE_PIN_TRIES, STATE_PUK_TRIES);
	st->mgmt_alg = VC_ALG_3DES;
	memcpy(st->mgmt_key, state_default_mgmt, sizeof(state_default_mgmt));
	st->mgmt_len = sizeof(state_default_mgmt);

	/* The attestation key, as a YubiKey leaves the factory with one. */
	if ((r = vc_crypto_keygen(VC_ALG_ECCP256, &pkey)) != 0 ||
	    (r = vc_state_set_key(st, VC_REF_ATTEST, pkey,
	    VC_PIN_POLICY_NEVER, VC_TOUCH_POLICY_NEVER,
	    VC_ORIGIN_GENERATED)) != 0)
		goto out;
	pkey = NULL;
	if ((r = state_put_cert(st, vc_state_cert_tag(VC_REF_ATTEST),
	    vc_state_key(st, VC_REF_ATTEST), "Yubico PIV Attestation", 1)) != 0)
		goto out;
	if ((r = vc_crypto_keygen(VC_ALG_ECCP256, &pkey)) != 0 ||
	    (r = vc_state_set_key(st, 0x9a, pkey, VC_PIN_POLICY_DEFAULT,
	    VC_TOUCH_POLICY_DEFAULT, VC_ORIGIN_GENERATED)) != 0)
		goto out;
	pkey = NULL;
	if ((r = state_put_cert(st, 0x5fc105, vc_state_key(st, 0x9a),
	    "vcard PIV Authentication", 0)) != 0)
		goto out;
	if ((r = vc_crypto_keygen(VC_ALG_RSA2048, &pkey)) != 0 ||
	    (r = vc_state_set_key(st, 0x9c, pkey, VC_PIN_POLICY_DEFAULT,
	    VC_TOUCH_POLICY_DEFAULT, VC_ORIGIN_GENERATED)) != 0)
		goto out;
	pkey = NULL;
	if ((r = state_put_cert(st, 0x5fc10a, vc_state_key(st, 0x9c),
	    "vcard Digital Signature", 0)) != 0)
		goto out;

	/* CHUID: FASC-N, GUID, expiry, an empty issuer signature. */
	if ((b = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = vc_crypto_random(guid, sizeof(guid))) != 0 ||
	    (r = vc_tlv_put(b, 0x30, state_fascn, sizeof(state_fascn))) != 0 ||
	    (r = vc_tlv_put(b, 0x34, guid, sizeof(guid))) != 0 ||
	    (r = vc_tlv_put(b, 0x35, "20401231", 8)) != 0 ||
	    (r = vc_tlv_put(b, 0x3e, NULL, 0)) != 0 ||
	    (r = vc_tlv_put(b, 0xfe, NULL, 0)) != 0 ||
	    (r = vc_state_obj_put(st, 0x5fc102, buf_ptr(b), buf_len(b))) != 0)
		goto out;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	buf_free(b);
	return r;
}

static int
state_encode(const struct vc_state *st, struct buf *b)
{
	u_char *der = NULL;
	size_t i, nkeys = 0;
	int r = TOK_ERR_INTERNAL, len = 0;

	for (i = 0; i < STATE_NKEYS; i++)
		if (st->keys[i].pkey != NULL)
			nkeys++;
	if ((r = buf_put_cstring(b, STATE_MAGIC)) != 0 ||
	    (r = buf_put_u32(b, st->serial)) != 0 ||
	    (r = buf_put_string(b, st->pin, VC_PIN_LEN)) != 0 ||
	    (r = buf_put_u32(b, st->pin_tries)) != 0 ||
	    (r = buf_put_u32(b, st->pin_max)) != 0 ||
	    (r = buf_put_string(b, st->puk, VC_PIN_LEN)) != 0 ||
	    (r = buf_put_u32(b, st->puk_tries)) != 0 ||
	    (r = buf_put_u32(b, st->puk_max)) != 0 ||
	    (r = buf_put_u32(b, st->mgmt_alg)) != 0 ||
	    (r = buf_put_string(b, st->mgmt_key, st->mgmt_len)) != 0 ||
	    (r = buf_put_u32(b, st->mgmt_touch)) != 0 ||
	    (r = buf_put_u32(b, nkeys)) != 0)
		goto out;
	for (i = 0; i < STATE_NKEYS; i++) {
		if (st->keys[i].pkey == NULL)
			continue;
		der = NULL;
		if ((len = i2d_PrivateKey(st->keys[i].pkey, &der)) <= 0) {
			r = TOK_ERR_LIBCRYPTO;
			goto out;
		}
		if ((r = buf_put_u32(b, state_keyref(i))) != 0 ||
		    (r = buf_put_u32(b, st->keys[i].pin_policy)) != 0 ||
		    (r = buf_put_u32(b, st->keys[i].touch_policy)) != 0 ||
		    (r = buf_put_u32(b, st->keys[i].origin)) != 0 ||
		    (r = buf_put_string(b, der, len)) != 0)
			goto out;
		OPENSSL_clear_free(der, len);
		der = NULL;
	}
	if ((r = buf_put_u32(b, st->nobjs)) != 0)
		goto out;
	for (i = 0; i < st->nobjs; i++) {
		if ((r = buf_put_u32(b, st->objs[i].tag)) != 0 ||
		    (r = buf_put_string(b, st->objs[i].val,
		    st->objs[i].len)) != 0)
			goto out;
	}
	r = 0;
 out:
	if (der != NULL)
		OPENSSL_clear_free(der, len);
	return r;
}

static int
state_decode(struct vc_state *st, struct buf *b)
{
	const u_char *pin, *puk, *mk, *der, *val;
	size_t pinlen, puklen, mklen, derlen, vallen;
	char *magic = NULL;
	uint32_t pin_tries, pin_max, puk_tries, puk_max, alg, n, i, ref, tag;
	uint32_t serial, mtouch, pinpol, touchpol, origin;
	EVP_PKEY *pkey = NULL;
	int r = TOK_ERR_INTERNAL;

	if ((r = buf_get_cstring(b, &magic, NULL)) != 0)
		goto out;
	if (strcmp(magic, STATE_MAGIC) != 0) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((r = buf_get_u32(b, &serial)) != 0 ||
	    (r = buf_get_string_direct(b, &pin, &pinlen)) != 0 ||
	    (r = buf_get_u32(b, &pin_tries)) != 0 ||
	    (r = buf_get_u32(b, &pin_max)) != 0 ||
	    (r = buf_get_string_direct(b, &puk, &puklen)) != 0 ||
	    (r = buf_get_u32(b, &puk_tries)) != 0 ||
	    (r = buf_get_u32(b, &puk_max)) != 0 ||
	    (r = buf_get_u32(b, &alg)) != 0 ||
	    (r = buf_get_string_direct(b, &mk, &mklen)) != 0 ||
	    (r = buf_get_u32(b, &mtouch)) != 0 ||
	    (r = buf_get_u32(b, &n)) != 0)
		goto out;
	r = TOK_ERR_INVALID_FORMAT;
	if (pinlen != VC_PIN_LEN || puklen != VC_PIN_LEN ||
	    pin_max == 0 || pin_max > VC_TRIES_MAX || pin_tries > pin_max ||
	    puk_max == 0 || puk_max > VC_TRIES_MAX || puk_tries > puk_max ||
	    vc_crypto_block_size(alg, mklen) == 0 || mtouch > 1 ||
	    mklen > sizeof(st->mgmt_key) || n > STATE_NKEYS)
		goto out;
	st->serial = serial;
	st->mgmt_touch = mtouch;
	memcpy(st->pin, pin, VC_PIN_LEN);
	memcpy(st->puk, puk, VC_PIN_LEN);
	st->pin_tries = pin_tries;
	st->pin_max = pin_max;
	st->puk_tries = puk_tries;
	st->puk_max = puk_max;
	st->mgmt_alg = alg;
	memcpy(st->mgmt_key, mk, mklen);
	st->mgmt_len = mklen;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_u32(b, &ref)) != 0 ||
		    (r = buf_get_u32(b, &pinpol)) != 0 ||
		    (r = buf_get_u32(b, &touchpol)) != 0 ||
		    (r = buf_get_u32(b, &origin)) != 0 ||
		    (r = buf_get_string_direct(b, &der, &derlen)) != 0)
			goto out;
		r = TOK_ERR_INVALID_FORMAT;
		if (!vc_state_keyref_valid(ref) ||
		    vc_state_key(st, ref) != NULL ||
		    derlen > STATE_KEY_DER_MAX || pinpol > 3 ||
		    touchpol > 3 || origin > 2 ||
		    !state_policies_valid(pinpol, touchpol, origin))
			goto out;
		if ((pkey = d2i_AutoPrivateKey(NULL, &der, derlen)) == NULL ||
		    vc_crypto_key_alg(pkey) < 0) {
			r = TOK_ERR_KEY_INVALID;
			goto out;
		}
		if ((r = vc_state_set_key(st, ref, pkey, pinpol, touchpol,
		    origin)) != 0)
			goto out;
		pkey = NULL;
	}
	if ((r = buf_get_u32(b, &n)) != 0)
		goto out;
	if (n > STATE_OBJ_MAX) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = buf_get_u32(b, &tag)) != 0 ||
		    (r = buf_get_string_direct(b, &val, &vallen)) != 0)
			goto out;
		if (vallen == 0 || vc_state_obj_get(st, tag, &der,
		    &derlen) == 0) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		if ((r = vc_state_obj_put(st, tag, val, vallen)) != 0)
			goto out;
	}
	if ((r = buf_expect_empty(b)) != 0)
		goto out;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	free(magic);
	return r;
}

static int
state_read_file(const char *path, struct buf *b)
{
	u_char tmp[4096];
	ssize_t n;
	int fd = -1, r = TOK_ERR_INTERNAL;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = errno == ENOENT ? TOK_ERR_KEY_NOT_FOUND : TOK_ERR_SYSTEM;
		goto out;
	}
	for (;;) {
		if ((n = read(fd, tmp, sizeof(tmp))) < 0) {
			if (errno == EINTR)
				continue;
			r = TOK_ERR_SYSTEM;
			goto out;
		}
		if (n == 0)
			break;
		if (buf_len(b) + n > STATE_FILE_MAX) {
			r = TOK_ERR_STRING_TOO_LARGE;
			goto out;
		}
		if ((r = buf_put(b, tmp, n)) != 0)
			goto out;
	}
	r = 0;
 out:
	explicit_bzero(tmp, sizeof(tmp));
	if (fd >= 0)
		close(fd);
	return r;
}

int
vc_state_save(struct vc_state *st)
{
	struct buf *b = NULL;
	char *tmp = NULL;
	const u_char *p;
	size_t left;
	ssize_t n;
	int fd = -1, r = TOK_ERR_INTERNAL;

	if (st->path == NULL)
		return 0;
	if ((b = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = state_encode(st, b)) != 0)
		goto out;
	if (asprintf(&tmp, "%s.XXXXXX", st->path) < 0) {
		tmp = NULL;
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		r = TOK_ERR_SYSTEM;
		free(tmp);
		tmp = NULL;
		goto out;
	}
	for (p = buf_ptr(b), left = buf_len(b); left > 0;) {
		if ((n = write(fd, p, left)) < 0) {
			if (errno == EINTR)
				continue;
			r = TOK_ERR_SYSTEM;
			goto out;
		}
		p += n;
		left -= n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	fd = -1;
	if (rename(tmp, st->path) != 0) {
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	free(tmp);
	tmp = NULL;
	r = 0;
 out:
	if (r != 0)
		error_fr(r, "save %s", st->path);
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		(void)unlink(tmp);
		free(tmp);
	}
	buf_free(b);
	return r;
}

int
vc_state_open(const char *path, uint32_t new_serial, struct vc_state **stp)
{
	struct vc_state *st = NULL;
	struct buf *b = NULL;
	int r = TOK_ERR_INTERNAL;

	*stp = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (b = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (path != NULL && (st->path = strdup(path)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (path != NULL && (r = state_read_file(path, b)) == 0) {
		if ((r = state_decode(st, b)) != 0) {
			error_fr(r, "%s: bad state file", path);
			goto out;
		}
		debug_f("loaded %s", path);
	} else if (path == NULL || r == TOK_ERR_KEY_NOT_FOUND) {
		if ((r = state_create(st, new_serial)) != 0 ||
		    (r = vc_state_save(st)) != 0)
			goto out;
		debug_f("new card in %s", path ? path : "memory");
	} else {
		error_fr(r, "read %s", path);
		goto out;
	}
	*stp = st;
	st = NULL;
	r = 0;
 out:
	buf_free(b);
	vc_state_free(st);
	return r;
}

int
vc_state_clone(const struct vc_state *st, struct vc_state **copyp)
{
	struct vc_state *copy = NULL;
	struct buf *b = NULL;
	int r = TOK_ERR_INTERNAL;

	*copyp = NULL;
	if ((copy = calloc(1, sizeof(*copy))) == NULL ||
	    (b = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = state_encode(st, b)) != 0 ||
	    (r = state_decode(copy, b)) != 0)
		goto out;
	*copyp = copy;
	copy = NULL;
	r = 0;
 out:
	buf_free(b);
	vc_state_free(copy);
	return r;
}
