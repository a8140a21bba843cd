/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * PIV card administration for the set-up command (see piv.h): management
 * key authentication, key generation, data objects, PIN and PUK changes.
 */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/log.h"
#include "common/secmem.h"
#include "token/piv-impl.h"
#include "token/piv.h"

int
piv_hold(struct piv *piv)
{
	int r;

	if (piv->held)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((r = piv_begin(piv)) != 0)
		return r;
	piv->held = 1;
	return 0;
}

void
piv_release(struct piv *piv)
{
	if (!piv->held)
		return;
	piv->held = 0;
	piv_end(piv);
}

size_t
piv_mgmt_key_len(int alg)
{
	switch (alg) {
	case PIV_ALG_3DES:
	case PIV_ALG_AES192:
		return 24;
	case PIV_ALG_AES128:
		return 16;
	case PIV_ALG_AES256:
		return 32;
	}
	return 0;
}

int
piv_parse_auth_tag(const u_char *p, size_t len, u_int tag, const u_char **vp,
    size_t *lenp)
{
	const u_char *t;
	size_t tlen;
	int r;

	*vp = NULL;
	*lenp = 0;
	if ((r = piv_tlv_only(p, len, 0x7c, &t, &tlen)) != 0 ||
	    (r = piv_tlv_only(t, tlen, tag, vp, lenp)) != 0)
		return r;
	return 0;
}

/* One block of the management key's cipher, in ECB, no padding. */
static int
piv_mgmt_block(int alg, const u_char *key, size_t keylen, int enc,
    const u_char *in, size_t bs, u_char *out)
{
	const EVP_CIPHER *c;
	EVP_CIPHER_CTX *ctx = NULL;
	int r = TOK_ERR_LIBCRYPTO, n = 0, n2 = 0;

	switch (alg) {
	case PIV_ALG_3DES:
		c = EVP_des_ede3_ecb();
		break;
	case PIV_ALG_AES128:
		c = EVP_aes_128_ecb();
		break;
	case PIV_ALG_AES192:
		c = EVP_aes_192_ecb();
		break;
	case PIV_ALG_AES256:
		c = EVP_aes_256_ecb();
		break;
	default:
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	}
	if (keylen != piv_mgmt_key_len(alg) ||
	    (size_t)EVP_CIPHER_get_block_size(c) != bs)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, c, NULL, key, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, bs) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n, &n2) != 1 ||
	    (size_t)(n + n2) != bs)
		goto out;
	r = 0;
 out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int
piv_mgmt_auth(struct piv *piv, int alg, const u_char *key, size_t keylen)
{
	struct buf *req = NULL, *t = NULL, *resp = NULL;
	const u_char *v;
	u_char wit[16], chal[16], want[16];
	size_t vlen, bs;
	int r = TOK_ERR_INTERNAL, sw;

	bs = alg == PIV_ALG_3DES ? 8 : 16;
	if (piv_mgmt_key_len(alg) == 0 || keylen != piv_mgmt_key_len(alg))
		return TOK_ERR_INVALID_ARGUMENT;
	if ((req = buf_new()) == NULL || (t = buf_new()) == NULL ||
	    (resp = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = piv_begin(piv)) != 0)
		goto out;
	/* Mutual authentication: the card's witness, encrypted... */
	if ((r = piv_put_tlv(t, 0x80, NULL, 0)) != 0 ||
	    (r = piv_put_tlv(req, 0x7c, buf_ptr(t), buf_len(t))) != 0 ||
	    (r = piv_transceive(piv, INS_GENERAL_AUTH, alg, PIV_REF_MGMT,
	    buf_ptr(req), buf_len(req), resp, &sw)) != 0)
		goto end;
	if (sw != SW_OK) {
		r = sw == 0x6a80 || sw == 0x6a86 ? TOK_ERR_KEY_TYPE_MISMATCH :
		    piv_sw_err(sw);
		goto end;
	}
	if ((r = piv_parse_auth_tag(buf_ptr(resp), buf_len(resp), 0x80, &v,
	    &vlen)) != 0)
		goto end;
	if (vlen != bs) {
		r = TOK_ERR_INVALID_FORMAT;
		goto end;
	}
	/* ...sent back in clear with our challenge, which it encrypts. */
	if ((r = piv_mgmt_block(alg, key, keylen, 0, v, bs, wit)) != 0 ||
	    RAND_bytes(chal, bs) != 1) {
		r = r != 0 ? r : TOK_ERR_LIBCRYPTO;
		goto end;
	}
	buf_reset(t);
	buf_reset(req);
	buf_reset(resp);
	if ((r = piv_put_tlv(t, 0x80, wit, bs)) != 0 ||
	    (r = piv_put_tlv(t, 0x81, chal, bs)) != 0 ||
	    (r = piv_put_tlv(req, 0x7c, buf_ptr(t), buf_len(t))) != 0 ||
	    (r = piv_transceive(piv, INS_GENERAL_AUTH, alg, PIV_REF_MGMT,
	    buf_ptr(req), buf_len(req), resp, &sw)) != 0)
		goto end;
	if (sw != SW_OK) {
		r = sw == SW_SECURITY ? TOK_ERR_PIN_INVALID : piv_sw_err(sw);
		goto end;
	}
	if ((r = piv_parse_auth_tag(buf_ptr(resp), buf_len(resp), 0x82, &v,
	    &vlen)) != 0)
		goto end;
	if ((r = piv_mgmt_block(alg, key, keylen, 1, chal, bs, want)) != 0)
		goto end;
	/* A card that does not know the key cannot prove it. */
	r = vlen == bs && CRYPTO_memcmp(v, want, bs) == 0 ? 0 :
	    TOK_ERR_SIGNATURE_INVALID;
 end:
	piv_end(piv);
 out:
	explicit_bzero(wit, sizeof(wit));
	explicit_bzero(chal, sizeof(chal));
	explicit_bzero(want, sizeof(want));
	buf_free(req);
	buf_free(t);
	buf_free(resp);
	return r;
}

int
piv_parse_generate(const u_char *p, size_t len, int alg, struct key **keyp)
{
	const u_char *v;
	size_t vlen;
	int r;

	*keyp = NULL;
	if ((r = piv_tlv_only(p, len, 0x7f49, &v, &vlen)) != 0)
		return r;
	return piv_parse_pubkey(alg, v, vlen, keyp);
}

int
piv_generate(struct piv *piv, int slot, int alg, int pin_policy,
    int touch_policy, struct key **keyp)
{
	struct buf *req = NULL, *t = NULL, *resp = NULL;
	u_char b;
	int r = TOK_ERR_INTERNAL, sw;

	*keyp = NULL;
	if (piv_cert_tag(slot) == 0 || slot == PIV_SLOT_ATTEST ||
	    alg < 0 || alg > 0xff || pin_policy > PIV_PIN_POLICY_ALWAYS ||
	    touch_policy > PIV_TOUCH_POLICY_CACHED)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((req = buf_new()) == NULL || (t = buf_new()) == NULL ||
	    (resp = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	/* AC { 80 alg [, AA PIN policy] [, AB touch policy] } */
	b = alg;
	if ((r = piv_put_tlv(t, 0x80, &b, 1)) != 0)
		goto out;
	if (pin_policy > 0) {
		b = pin_policy;
		if ((r = piv_put_tlv(t, 0xaa, &b, 1)) != 0)
			goto out;
	}
	if (touch_policy > 0) {
		b = touch_policy;
		if ((r = piv_put_tlv(t, 0xab, &b, 1)) != 0)
			goto out;
	}
	if ((r = piv_put_tlv(req, 0xac, buf_ptr(t), buf_len(t))) != 0 ||
	    (r = piv_command(piv, INS_GENERATE, 0x00, slot, buf_ptr(req),
	    buf_len(req), resp, &sw)) != 0)
		goto out;
	if (sw == 0x6a80 || sw == 0x6a86) {
		/* Wrong data (algorithm, policy) or reference. */
		r = TOK_ERR_FEATURE_UNSUPPORTED;
		goto out;
	}
	if ((r = piv_sw_err(sw)) != 0 ||
	    (r = piv_parse_generate(buf_ptr(resp), buf_len(resp), alg,
	    keyp)) != 0)
		goto out;
 out:
	buf_free(req);
	buf_free(t);
	buf_free(resp);
	return r;
}

/* 5C with the 1 to 3 bytes of tag. */
static int
piv_put_tag_list(struct buf *b, u_int tag)
{
	u_char t[3];
	size_t n = 0;

	if (tag > 0xffffff || tag == 0)
		return TOK_ERR_INVALID_ARGUMENT;
	if (tag > 0xffff)
		t[n++] = (tag >> 16) & 0xff;
	if (tag > 0xff)
		t[n++] = (tag >> 8) & 0xff;
	t[n++] = tag & 0xff;
	return piv_put_tlv(b, 0x5c, t, n);
}

int
piv_get_object(struct piv *piv, u_int tag, struct buf *out)
{
	struct buf *req = NULL, *resp = NULL;
	const u_char *v;
	size_t vlen;
	int r = TOK_ERR_INTERNAL, sw;

	if ((req = buf_new()) == NULL || (resp = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = piv_put_tag_list(req, tag)) != 0 ||
	    (r = piv_command(piv, INS_GET_DATA, 0x3f, 0xff, buf_ptr(req),
	    buf_len(req), resp, &sw)) != 0 || (r = piv_sw_err(sw)) != 0 ||
	    (r = piv_tlv_only(buf_ptr(resp), buf_len(resp), 0x53, &v,
	    &vlen)) != 0 || (r = buf_put(out, v, vlen)) != 0)
		goto out;
 out:
	buf_free(req);	/* buf_free zeroes what it held */
	buf_free(resp);
	return r;
}

int
piv_put_object(struct piv *piv, u_int tag, const u_char *data, size_t len)
{
	struct buf *req = NULL, *resp = NULL;
	int r = TOK_ERR_INTERNAL, sw;

	if ((req = buf_new()) == NULL || (resp = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = piv_put_tag_list(req, tag)) != 0 ||
	    (r = piv_put_tlv(req, 0x53, data, len)) != 0 ||
	    (r = piv_command(piv, INS_PUT_DATA, 0x3f, 0xff, buf_ptr(req),
	    buf_len(req), resp, &sw)) != 0)
		goto out;
	if ((r = piv_sw_err(sw)) != 0)
		goto out;
	r = buf_len(resp) == 0 ? 0 : TOK_ERR_INVALID_FORMAT;
 out:
	buf_free(req);	/* buf_free zeroes what it held */
	buf_free(resp);
	return r;
}

int
piv_write_cert(struct piv *piv, int slot, const u_char *der, size_t len)
{
	struct buf *obj = NULL;
	u_int tag;
	int r;

	if ((tag = piv_cert_tag(slot)) == 0 || len == 0)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((obj = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	/* 70 certificate, 71 info (not compressed), FE error detection. */
	if ((r = piv_put_tlv(obj, 0x70, der, len)) == 0 &&
	    (r = piv_put_tlv(obj, 0x71, (const u_char *)"\0", 1)) == 0 &&
	    (r = piv_put_tlv(obj, 0xfe, NULL, 0)) == 0)
		r = piv_put_object(piv, tag, buf_ptr(obj), buf_len(obj));
	buf_free(obj);
	return r;
}

int
piv_change_ref(struct piv *piv, int ref, const char *old, const char *new,
    int *triesp)
{
	struct buf *resp = NULL;
	u_char data[2 * PIV_PIN_MAX];
	size_t olen = strlen(old), nlen = strlen(new);
	int r = TOK_ERR_INTERNAL, sw;

	if (triesp != NULL)
		*triesp = -1;
	if ((ref != PIV_REF_PIN && ref != PIV_REF_PUK) ||
	    olen < PIV_PIN_MIN || olen > PIV_PIN_MAX ||
	    nlen < PIV_PIN_MIN || nlen > PIV_PIN_MAX)
		return TOK_ERR_INVALID_ARGUMENT;
	memset(data, 0xff, sizeof(data));
	memcpy(data, old, olen);
	memcpy(data + PIV_PIN_MAX, new, nlen);
	if ((resp = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = piv_command(piv, INS_CHANGE_REF, 0x00, ref, data,
	    sizeof(data), resp, &sw)) != 0)
		goto out;
	if ((sw & 0xfff0) == 0x63c0) {
		if (triesp != NULL)
			*triesp = sw & 0x0f;
		r = (sw & 0x0f) == 0 ? TOK_ERR_PIN_BLOCKED :
		    TOK_ERR_PIN_INVALID;
		goto out;
	}
	if ((r = piv_sw_err(sw)) != 0)
		goto out;
	if (ref == PIV_REF_PIN && piv->pin != NULL) {
		/* Re-verification from now on uses the new PIN. */
		piv_forget_pin(piv);
		if ((piv->pin = secmem_strdup(new)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
	}
	r = 0;
 out:
	explicit_bzero(data, sizeof(data));
	buf_free(resp);
	return r;
}

int
piv_yk_set_mgmt(struct piv *piv, int alg, const u_char *key, size_t keylen,
    int touch)
{
	struct buf *resp = NULL;
	u_char data[3 + 32];
	int r = TOK_ERR_INTERNAL, sw;

	if (piv_mgmt_key_len(alg) == 0 || keylen != piv_mgmt_key_len(alg))
		return TOK_ERR_INVALID_ARGUMENT;
	data[0] = alg;
	data[1] = PIV_REF_MGMT;
	data[2] = keylen;
	memcpy(data + 3, key, keylen);
	if ((resp = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = piv_command(piv, INS_YK_SET_MGMT, 0xff, touch ? 0xfe : 0xff,
	    data, 3 + keylen, resp, &sw)) != 0)
		goto out;
	r = piv_sw_err(sw);
 out:
	explicit_bzero(data, sizeof(data));
	buf_free(resp);
	return r;
}

int
piv_parse_admin_data(const u_char *p, size_t len, int *flagsp)
{
	struct buf *b = NULL;
	const u_char *v, *t;
	size_t vlen, tlen;
	u_int tag;
	int r, flags = -1;

	*flagsp = 0;
	if ((r = piv_tlv_only(p, len, 0x80, &t, &tlen)) != 0)
		return r;
	if ((b = buf_from(t, tlen)) == NULL)
		return TOK_ERR_ALLOC;
	r = TOK_ERR_INVALID_FORMAT;
	while (buf_len(b) > 0) {
		if (piv_tlv_get(b, &tag, &v, &vlen) != 0)
			goto out;
		if (tag != 0x81)
			continue;	/* salt (82), PIN timestamp (83) */
		if (flags != -1 || vlen != 1)
			goto out;
		flags = v[0];
	}
	*flagsp = flags == -1 ? 0 : flags;
	r = 0;
 out:
	buf_free(b);
	return r;
}

int
piv_parse_printed(const u_char *p, size_t len, const u_char **keyp,
    size_t *keylenp)
{
	struct buf *b = NULL;
	const u_char *v, *t;
	size_t vlen, tlen;
	u_int tag;
	int r;

	*keyp = NULL;
	*keylenp = 0;
	if ((r = piv_tlv_only(p, len, 0x88, &t, &tlen)) != 0)
		return r;
	if ((b = buf_from(t, tlen)) == NULL)
		return TOK_ERR_ALLOC;
	r = TOK_ERR_KEY_NOT_FOUND;
	while (buf_len(b) > 0) {
		if (piv_tlv_get(b, &tag, &v, &vlen) != 0) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		if (tag != 0x89)
			continue;
		if (*keyp != NULL || (vlen != 16 && vlen != 24 &&
		    vlen != 32)) {
			*keyp = NULL;
			*keylenp = 0;
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		*keyp = v;
		*keylenp = vlen;
		r = 0;
	}
 out:
	buf_free(b);
	return r;
}
