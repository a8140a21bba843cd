/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* A PIV card client over a struct card_ops (see piv.h). */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/log.h"
#include "common/secmem.h"
#include "token/piv-impl.h"
#include "token/piv.h"

static const u_char piv_aid[] = {
	0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00
};

int
piv_open(const struct card_ops *ops, void *io, struct piv **pivp)
{
	struct piv *piv;

	*pivp = NULL;
	if (ops == NULL || ops->begin == NULL || ops->end == NULL ||
	    ops->transmit == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((piv = calloc(1, sizeof(*piv))) == NULL)
		return TOK_ERR_ALLOC;
	piv->ops = ops;
	piv->io = io;
	*pivp = piv;
	return 0;
}

void
piv_forget_pin(struct piv *piv)
{
	if (piv->pin != NULL) {
		secmem_free(piv->pin);
		piv->pin = NULL;
	}
}

void
piv_set_lazy_select(struct piv *piv, int on)
{
	piv->lazy = on != 0;
}

void
piv_free(struct piv *piv)
{
	if (piv == NULL)
		return;
	piv_forget_pin(piv);
	free(piv);
}

u_int
piv_cert_tag(int slot)
{
	switch (slot) {
	case PIV_SLOT_AUTH:
		return 0x5fc105;
	case PIV_SLOT_SIGN:
		return 0x5fc10a;
	case PIV_SLOT_KEYMGMT:
		return 0x5fc10b;
	case PIV_SLOT_CARDAUTH:
		return 0x5fc101;
	case PIV_SLOT_ATTEST:
		return 0x5fff01;
	}
	if (slot >= PIV_SLOT_RETIRED1 && slot <= PIV_SLOT_RETIRED20)
		return 0x5fc10d + slot - PIV_SLOT_RETIRED1;
	return 0;
}

/* ---- BER-TLV ------------------------------------------------------- */

int
piv_tlv_get(struct buf *b, u_int *tagp, const u_char **valp, size_t *lenp)
{
	const u_char *p = buf_ptr(b);
	size_t left = buf_len(b), off = 0, len = 0, i, nlen;
	u_int tag;
	int r = TOK_ERR_INVALID_FORMAT;

	*tagp = 0;
	*valp = NULL;
	*lenp = 0;
	if (left < 2)
		return TOK_ERR_MESSAGE_INCOMPLETE;
	tag = p[off++];
	if ((tag & 0x1f) == 0x1f) {
		/* Subsequent tag bytes: bit 8 set on all but the last. */
		for (i = 0;; i++) {
			if (i >= 2 || off >= left)
				goto out;
			tag = (tag << 8) | p[off];
			if ((p[off++] & 0x80) == 0)
				break;
		}
	}
	if (off >= left)
		goto out;
	if (p[off] < 0x80)
		len = p[off++];
	else {
		/* 81 xx or 82 xx xx; no indefinite length, nothing longer. */
		nlen = p[off++] & 0x7f;
		if (nlen == 0 || nlen > 2 || left - off < nlen)
			goto out;
		for (i = 0; i < nlen; i++)
			len = (len << 8) | p[off++];
	}
	if (len > left - off)
		goto out;
	if ((r = buf_consume(b, off + len)) != 0)
		goto out;
	*tagp = tag;
	*valp = p + off;
	*lenp = len;
	r = 0;
 out:
	return r;
}

/* The one TLV that must make up all len bytes at p, with tag want. */
int
piv_tlv_only(const u_char *p, size_t len, u_int want, const u_char **valp,
    size_t *lenp)
{
	struct buf *b;
	u_int tag;
	int r;

	*valp = NULL;
	*lenp = 0;
	if ((b = buf_from(p, len)) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = piv_tlv_get(b, &tag, valp, lenp)) != 0 ||
	    (r = buf_expect_empty(b)) != 0)
		r = TOK_ERR_INVALID_FORMAT;
	else if (tag != want)
		r = TOK_ERR_INVALID_FORMAT;
	buf_free(b);
	if (r != 0) {
		*valp = NULL;
		*lenp = 0;
	}
	return r;
}

int
piv_parse_select(const u_char *p, size_t len)
{
	struct buf *b = NULL;
	const u_char *apt, *v;
	size_t aptlen, vlen;
	u_int tag;
	int r, have_aid = 0;

	/* Some cards answer a bare 9000. */
	if (len == 0)
		return 0;
	if ((r = piv_tlv_only(p, len, 0x61, &apt, &aptlen)) != 0)
		return r;
	if ((b = buf_from(apt, aptlen)) == NULL)
		return TOK_ERR_ALLOC;
	while (buf_len(b) > 0) {
		if ((r = piv_tlv_get(b, &tag, &v, &vlen)) != 0) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		if (tag != 0x4f)
			continue;
		/* The PIX (YubiKey, SP 800-73) or the whole AID. */
		if ((vlen == 6 && memcmp(v, piv_aid + 5, 6) == 0) ||
		    (vlen >= 5 && vlen <= sizeof(piv_aid) &&
		    memcmp(v, piv_aid, vlen) == 0))
			have_aid = 1;
		else {
			r = TOK_ERR_KEY_NOT_FOUND;
			goto out;
		}
	}
	r = have_aid ? 0 : TOK_ERR_INVALID_FORMAT;
 out:
	buf_free(b);
	return r;
}

int
piv_parse_cert_object(const u_char *p, size_t len, const u_char **certp,
    size_t *certlenp)
{
	struct buf *b = NULL;
	const u_char *obj, *v, *cert = NULL;
	size_t objlen, vlen, certlen = 0;
	u_int tag;
	int r, have_info = 0, have_lrc = 0;

	*certp = NULL;
	*certlenp = 0;
	if ((r = piv_tlv_only(p, len, 0x53, &obj, &objlen)) != 0)
		return r;
	if ((b = buf_from(obj, objlen)) == NULL)
		return TOK_ERR_ALLOC;
	r = TOK_ERR_INVALID_FORMAT;
	while (buf_len(b) > 0) {
		if (piv_tlv_get(b, &tag, &v, &vlen) != 0)
			goto out;
		switch (tag) {
		case 0x70:
			if (cert != NULL || vlen == 0)
				goto out;
			cert = v;
			certlen = vlen;
			break;
		case 0x71:
			if (have_info++ || vlen != 1)
				goto out;
			if (v[0] & 0x01) {
				/* gzip-compressed certificates: not taken. */
				r = TOK_ERR_FEATURE_UNSUPPORTED;
				goto out;
			}
			break;
		case 0xfe:
			if (have_lrc++)
				goto out;
			break;
		default:
			goto out;
		}
	}
	if (cert == NULL)
		goto out;
	*certp = cert;
	*certlenp = certlen;
	r = 0;
 out:
	buf_free(b);
	return r;
}

int
piv_parse_auth_response(const u_char *p, size_t len, const u_char **rp,
    size_t *rlenp)
{
	const u_char *t;
	size_t tlen;
	int r;

	*rp = NULL;
	*rlenp = 0;
	if ((r = piv_tlv_only(p, len, 0x7c, &t, &tlen)) != 0 ||
	    (r = piv_tlv_only(t, tlen, 0x82, rp, rlenp)) != 0)
		return r;
	if (*rlenp == 0) {
		*rp = NULL;
		return TOK_ERR_INVALID_FORMAT;
	}
	return 0;
}

/* An EVP public key from PIV public key fields (81/82 RSA, 86 EC). */
static int
piv_pubkey_from_fields(int alg, const u_char *n, size_t nlen,
    const u_char *e, size_t elen, const u_char *pt, size_t ptlen,
    struct key **keyp)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	const char *type, *curve = NULL;
	size_t want = 0;
	int r = TOK_ERR_LIBCRYPTO;

	*keyp = NULL;
	switch (alg) {
	case PIV_ALG_ECCP256:
		curve = "P-256";
		want = 65;
		break;
	case PIV_ALG_ECCP384:
		curve = "P-384";
		want = 97;
		break;
	case PIV_ALG_RSA1024:
	case PIV_ALG_RSA2048:
	case PIV_ALG_RSA3072:
	case PIV_ALG_RSA4096:
		break;
	default:
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	if (curve != NULL) {
		type = "EC";
		if (pt == NULL || ptlen != want || n != NULL || e != NULL) {
			r = TOK_ERR_KEY_INVALID;
			goto out;
		}
		if (!OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, curve, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, ptlen))
			goto out;
	} else {
		type = "RSA";
		if (n == NULL || e == NULL || pt != NULL || nlen == 0 ||
		    nlen > 512 || elen == 0 || elen > 8) {
			r = TOK_ERR_KEY_INVALID;
			goto out;
		}
		if ((bn = BN_bin2bn(n, nlen, NULL)) == NULL ||
		    (be = BN_bin2bn(e, elen, NULL)) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
			goto out;
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	r = key_from_evp_public(pkey, keyp);
 out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return r;
}

/* The public key fields of a metadata 04 or a 7F49 template. */
int
piv_parse_pubkey(int alg, const u_char *p, size_t len, struct key **keyp)
{
	struct buf *b = NULL;
	const u_char *v, *n = NULL, *e = NULL, *pt = NULL;
	size_t vlen, nlen = 0, elen = 0, ptlen = 0;
	u_int tag;
	int r = TOK_ERR_INVALID_FORMAT;

	*keyp = NULL;
	if ((b = buf_from(p, len)) == NULL)
		return TOK_ERR_ALLOC;
	while (buf_len(b) > 0) {
		if (piv_tlv_get(b, &tag, &v, &vlen) != 0)
			goto out;
		if (tag == 0x81 && n == NULL) {
			n = v;
			nlen = vlen;
		} else if (tag == 0x82 && e == NULL) {
			e = v;
			elen = vlen;
		} else if (tag == 0x86 && pt == NULL) {
			pt = v;
			ptlen = vlen;
		} else
			goto out;
	}
	r = piv_pubkey_from_fields(alg, n, nlen, e, elen, pt, ptlen, keyp);
 out:
	buf_free(b);
	return r;
}

void
piv_metadata_clear(struct piv_metadata *md)
{
	key_free(md->pubkey);
	md->pubkey = NULL;
	md->alg = md->pin_policy = md->touch_policy = md->origin = -1;
	md->is_default = md->tries_total = md->tries_left = -1;
}

int
piv_parse_metadata(const u_char *p, size_t len, int ref,
    struct piv_metadata *md)
{
	struct buf *b = NULL;
	const u_char *v, *pk = NULL;
	size_t vlen, pklen = 0;
	u_int tag, seen = 0;
	int r = TOK_ERR_INVALID_FORMAT;

	md->pubkey = NULL;
	piv_metadata_clear(md);
	if ((b = buf_from(p, len)) == NULL)
		return TOK_ERR_ALLOC;
	while (buf_len(b) > 0) {
		if (piv_tlv_get(b, &tag, &v, &vlen) != 0)
			goto out;
		/* Each known tag at most once; later firmware may add more. */
		if (tag >= 0x01 && tag <= 0x06) {
			if (seen & (1U << tag))
				goto out;
			seen |= 1U << tag;
		}
		switch (tag) {
		case 0x01:
			if (vlen != 1)
				goto out;
			md->alg = v[0];
			break;
		case 0x02:
			if (vlen != 2 || v[0] > 5 || v[1] > 5)
				goto out;
			md->pin_policy = v[0];
			md->touch_policy = v[1];
			break;
		case 0x03:
			if (vlen != 1 || (v[0] != 1 && v[0] != 2))
				goto out;
			md->origin = v[0];
			break;
		case 0x04:
			pk = v;
			pklen = vlen;
			break;
		case 0x05:
			if (vlen != 1 || v[0] > 1)
				goto out;
			md->is_default = v[0];
			break;
		case 0x06:
			if (vlen != 2 || v[1] > v[0])
				goto out;
			md->tries_total = v[0];
			md->tries_left = v[1];
			break;
		default:
			break;
		}
	}
	if ((ref == PIV_REF_PIN || ref == PIV_REF_PUK) &&
	    (md->tries_left < 0 || pk != NULL))
		goto out;
	if (pk != NULL) {
		if (md->alg < 0)
			goto out;
		if ((r = piv_parse_pubkey(md->alg, pk, pklen,
		    &md->pubkey)) != 0)
			goto out;
	}
	r = 0;
 out:
	if (r != 0)
		piv_metadata_clear(md);
	buf_free(b);
	return r;
}

/* Append a TLV with a one-byte tag (lengths up to 82 xx xx). */
int
piv_put_tlv(struct buf *b, u_int tag, const u_char *v, size_t len)
{
	int r;

	if (tag > 0xff || len > 0xffff)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((r = buf_put_u8(b, tag)) != 0)
		return r;
	if (len > 0xff) {
		if ((r = buf_put_u8(b, 0x82)) != 0 ||
		    (r = buf_put_u8(b, len >> 8)) != 0)
			return r;
	} else if (len > 0x7f) {
		if ((r = buf_put_u8(b, 0x81)) != 0)
			return r;
	}
	if ((r = buf_put_u8(b, len & 0xff)) != 0)
		return r;
	return len == 0 ? 0 : buf_put(b, v, len);
}

/* ---- APDUs --------------------------------------------------------- */

/*
 * One command (chained when data is over 255 bytes), its whole response
 * (GET RESPONSE while the card says 61xx) appended to resp, the final
 * status word in *swp.  Inside a transaction.
 */
int
piv_transceive(struct piv *piv, u_int ins, u_int p1, u_int p2,
    const u_char *data, size_t dlen, struct buf *resp, int *swp)
{
	u_char capdu[5 + 255 + 1], rapdu[PIV_RAPDU_MAX];
	size_t off = 0, n, clen, rlen, total = 0;
	int r, sw, last, cla;

	*swp = 0;
	for (;;) {
		n = dlen - off > 255 ? 255 : dlen - off;
		last = off + n == dlen;
		cla = last ? 0x00 : 0x10;
		clen = 0;
		capdu[clen++] = cla;
		capdu[clen++] = ins;
		capdu[clen++] = p1;
		capdu[clen++] = p2;
		if (n > 0) {
			capdu[clen++] = n;
			memcpy(capdu + clen, data + off, n);
			clen += n;
		}
		if (last)
			capdu[clen++] = 0x00;	/* Le: all */
		rlen = sizeof(rapdu);
		r = piv->ops->transmit(piv->io, capdu, clen, rapdu, &rlen);
		explicit_bzero(capdu, sizeof(capdu));
		if (r != 0) {
			piv->selected = 0;
			return r;
		}
		if (rlen < 2 || rlen > sizeof(rapdu))
			return TOK_ERR_PROTOCOL;
		sw = (rapdu[rlen - 2] << 8) | rapdu[rlen - 1];
		off += n;
		if (last)
			break;
		if (sw != SW_OK || rlen != 2) {
			*swp = sw;
			return 0;
		}
	}
	for (;;) {
		total += rlen - 2;
		if (total > PIV_RESPONSE_MAX)
			return TOK_ERR_STRING_TOO_LARGE;
		if ((r = buf_put(resp, rapdu, rlen - 2)) != 0)
			return r;
		if ((sw & 0xff00) != 0x6100)
			break;
		capdu[0] = 0x00;
		capdu[1] = INS_GET_RESPONSE;
		capdu[2] = capdu[3] = 0x00;
		capdu[4] = sw & 0xff;
		rlen = sizeof(rapdu);
		if ((r = piv->ops->transmit(piv->io, capdu, 5, rapdu,
		    &rlen)) != 0) {
			piv->selected = 0;
			return r;
		}
		if (rlen < 2 || rlen > sizeof(rapdu))
			return TOK_ERR_PROTOCOL;
		sw = (rapdu[rlen - 2] << 8) | rapdu[rlen - 1];
	}
	explicit_bzero(rapdu, sizeof(rapdu));
	*swp = sw;
	return 0;
}

/* A status word other than 9000 as an error. */
int
piv_sw_err(int sw)
{
	switch (sw) {
	case SW_OK:
		return 0;
	case SW_NOT_FOUND:
	case SW_REF_NOT_FOUND:
		return TOK_ERR_KEY_NOT_FOUND;
	case SW_SECURITY:
		return TOK_ERR_PIN_REQUIRED;
	case SW_BLOCKED:
		return TOK_ERR_PIN_BLOCKED;
	case SW_INS_UNSUPPORTED:
	case SW_CLA_UNSUPPORTED:
		return TOK_ERR_FEATURE_UNSUPPORTED;
	}
	if ((sw & 0xfff0) == 0x63c0)
		return TOK_ERR_PIN_INVALID;
	return TOK_ERR_DEVICE;
}

/* SELECT PIV, inside a transaction. */
static int
piv_select_in_tx(struct piv *piv)
{
	struct buf *resp = NULL;
	int r, sw;

	piv->selected = 0;
	if ((resp = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = piv_transceive(piv, INS_SELECT, 0x04, 0x00, piv_aid,
	    sizeof(piv_aid), resp, &sw)) != 0)
		goto out;
	if (sw != SW_OK) {
		r = sw == SW_NOT_FOUND ? TOK_ERR_KEY_NOT_FOUND :
		    piv_sw_err(sw);
		goto out;
	}
	if ((r = piv_parse_select(buf_ptr(resp), buf_len(resp))) != 0)
		goto out;
	piv->selected = 1;
	r = 0;
 out:
	buf_free(resp);
	return r;
}

/*
 * Start a transaction and select PIV in it: another program may have
 * reset the card or selected another application since our last one.
 * With skipp non-NULL (a signature, on a card set lazy), the SELECT is
 * left out when the card was not reset since our last transaction, which
 * left PIV selected: *skipp then says so, and the caller selects PIV and
 * sends its command again when the card does not answer it with success.
 */
static int
piv_begin_opt(struct piv *piv, int *skipp)
{
	int r, reset = 0;

	if (skipp != NULL)
		*skipp = 0;
	/* Inside piv_hold's transaction, PIV selected at its start. */
	if (piv->held)
		return 0;
	if ((r = piv->ops->begin(piv->io, &reset)) != 0) {
		piv->selected = 0;
		return r;
	}
	if (reset) {
		debug_f("card was reset since the last transaction");
		piv->selected = 0;
	}
	if (skipp != NULL && piv->lazy && piv->selected) {
		*skipp = 1;
		return 0;
	}
	if ((r = piv_select_in_tx(piv)) != 0)
		piv->ops->end(piv->io);
	return r;
}

int
piv_begin(struct piv *piv)
{
	return piv_begin_opt(piv, NULL);
}

void
piv_end(struct piv *piv)
{
	if (piv->held)
		return;
	piv->ops->end(piv->io);
}

/* One command in its own transaction; its response data on resp. */
int
piv_command(struct piv *piv, u_int ins, u_int p1, u_int p2,
    const u_char *data, size_t dlen, struct buf *resp, int *swp)
{
	int r;

	*swp = 0;
	if ((r = piv_begin(piv)) != 0)
		return r;
	r = piv_transceive(piv, ins, p1, p2, data, dlen, resp, swp);
	piv_end(piv);
	return r;
}

int
piv_select(struct piv *piv)
{
	int r;

	if ((r = piv_begin(piv)) != 0)
		return r;
	piv_end(piv);
	return 0;
}

int
piv_yk_version(struct piv *piv, u_char v[3])
{
	struct buf *resp;
	int r, sw;

	memset(v, 0, 3);
	if ((resp = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = piv_command(piv, INS_YK_VERSION, 0, 0, NULL, 0, resp,
	    &sw)) != 0 || (r = piv_sw_err(sw)) != 0)
		goto out;
	if (buf_len(resp) != 3) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	memcpy(v, buf_ptr(resp), 3);
 out:
	buf_free(resp);
	return r;
}

int
piv_yk_serial(struct piv *piv, uint32_t *serialp)
{
	struct buf *resp;
	int r, sw;

	*serialp = 0;
	if ((resp = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = piv_command(piv, INS_YK_SERIAL, 0, 0, NULL, 0, resp,
	    &sw)) != 0 || (r = piv_sw_err(sw)) != 0)
		goto out;
	if (buf_len(resp) != 4) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	r = buf_get_u32(resp, serialp);
 out:
	buf_free(resp);
	return r;
}

int
piv_yk_metadata(struct piv *piv, int ref, struct piv_metadata *md)
{
	struct buf *resp;
	int r, sw;

	md->pubkey = NULL;
	piv_metadata_clear(md);
	if (ref < 0 || ref > 0xff)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((resp = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = piv_command(piv, INS_YK_METADATA, 0, ref, NULL, 0, resp,
	    &sw)) != 0)
		goto out;
	/* Cards before YubiKey 5.3 know no metadata. */
	if (sw == 0x6a86 || sw == SW_INS_UNSUPPORTED) {
		r = TOK_ERR_FEATURE_UNSUPPORTED;
		goto out;
	}
	if ((r = piv_sw_err(sw)) != 0 ||
	    (r = piv_parse_metadata(buf_ptr(resp), buf_len(resp), ref,
	    md)) != 0)
		goto out;
 out:
	buf_free(resp);
	return r;
}

int
piv_read_cert(struct piv *piv, int slot, u_char **derp, size_t *lenp,
    struct key **keyp)
{
	struct buf *resp = NULL;
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;
	const u_char *cert, *cp;
	u_char req[5], *der = NULL;
	size_t certlen;
	u_int tag;
	int r = TOK_ERR_INTERNAL, sw;

	*derp = NULL;
	*lenp = 0;
	if (keyp != NULL)
		*keyp = NULL;
	if ((tag = piv_cert_tag(slot)) == 0)
		return TOK_ERR_INVALID_ARGUMENT;
	req[0] = 0x5c;
	req[1] = 3;
	req[2] = (tag >> 16) & 0xff;
	req[3] = (tag >> 8) & 0xff;
	req[4] = tag & 0xff;
	if ((resp = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = piv_command(piv, INS_GET_DATA, 0x3f, 0xff, req, sizeof(req),
	    resp, &sw)) != 0 || (r = piv_sw_err(sw)) != 0)
		goto out;
	if ((r = piv_parse_cert_object(buf_ptr(resp), buf_len(resp), &cert,
	    &certlen)) != 0)
		goto out;
	cp = cert;
	if ((x = d2i_X509(NULL, &cp, certlen)) == NULL ||
	    cp != cert + certlen) {
		r = TOK_ERR_CERT_INVALID;
		goto out;
	}
	if (keyp != NULL) {
		if ((pk = X509_get_pubkey(x)) == NULL) {
			r = TOK_ERR_CERT_INVALID;
			goto out;
		}
		if ((r = key_from_evp_public(pk, keyp)) != 0)
			goto out;
	}
	if ((der = malloc(certlen)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	memcpy(der, cert, certlen);
	*derp = der;
	*lenp = certlen;
	der = NULL;
	r = 0;
 out:
	if (r != 0 && keyp != NULL) {
		key_free(*keyp);
		*keyp = NULL;
	}
	free(der);
	EVP_PKEY_free(pk);
	X509_free(x);
	buf_free(resp);
	return r;
}

/* VERIFY with len bytes of PIN (0: status), inside a transaction. */
static int
piv_verify_in_tx(struct piv *piv, const char *pin, int *triesp)
{
	struct buf *resp = NULL;
	u_char pad[PIV_PIN_MAX];
	size_t len = pin == NULL ? 0 : strlen(pin);
	int r, sw;

	if (triesp != NULL)
		*triesp = -1;
	memset(pad, 0xff, sizeof(pad));
	if (pin != NULL)
		memcpy(pad, pin, len);
	if ((resp = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = piv_transceive(piv, INS_VERIFY, 0x00, PIV_REF_PIN,
	    pin == NULL ? NULL : pad, pin == NULL ? 0 : sizeof(pad), resp,
	    &sw)) != 0)
		goto out;
	if (buf_len(resp) != 0) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((sw & 0xfff0) == 0x63c0) {
		if (triesp != NULL)
			*triesp = sw & 0x0f;
		r = (sw & 0x0f) == 0 ? TOK_ERR_PIN_BLOCKED :
		    TOK_ERR_PIN_INVALID;
		goto out;
	}
	r = piv_sw_err(sw);
	if (r == TOK_ERR_PIN_REQUIRED)
		r = TOK_ERR_PIN_INVALID;
 out:
	explicit_bzero(pad, sizeof(pad));
	buf_free(resp);
	return r;
}

int
piv_pin_status(struct piv *piv, int *verifiedp, int *triesp)
{
	int r;

	*verifiedp = 0;
	*triesp = -1;
	if ((r = piv_begin(piv)) != 0)
		return r;
	r = piv_verify_in_tx(piv, NULL, triesp);
	piv_end(piv);
	if (r == 0)
		*verifiedp = 1;
	else if (r == TOK_ERR_PIN_INVALID)
		r = 0;		/* not verified: tries in *triesp */
	return r;
}

int
piv_verify_pin(struct piv *piv, const char *pin, int *triesp)
{
	size_t len;
	char *copy = NULL;
	int r;

	if (triesp != NULL)
		*triesp = -1;
	len = strlen(pin);
	if (len < PIV_PIN_MIN || len > PIV_PIN_MAX)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((copy = secmem_strdup(pin)) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = piv_begin(piv)) != 0) {
		secmem_free(copy);
		return r;
	}
	r = piv_verify_in_tx(piv, pin, triesp);
	piv_end(piv);
	if (r != 0) {
		secmem_free(copy);
		if (r == TOK_ERR_PIN_INVALID || r == TOK_ERR_PIN_BLOCKED)
			piv_forget_pin(piv);
		return r;
	}
	piv_forget_pin(piv);
	piv->pin = copy;
	return 0;
}

int
piv_unverify(struct piv *piv)
{
	struct buf *resp;
	int r, sw;

	piv_forget_pin(piv);
	if ((resp = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = piv_begin(piv)) != 0) {
		buf_free(resp);
		return r;
	}
	/* VERIFY with P1 FF: the card drops the PIN's security status. */
	if ((r = piv_transceive(piv, INS_VERIFY, 0xff, PIV_REF_PIN, NULL, 0,
	    resp, &sw)) == 0)
		r = piv_sw_err(sw);
	piv_end(piv);
	buf_free(resp);
	return r;
}

/*
 * piv_general_auth, lazily (piv_begin_opt) when lazy: *skippedp says
 * whether the command was sent without selecting PIV in the transaction
 * that got the answer.
 */
static int
piv_general_auth_opt(struct piv *piv, int slot, int alg, const u_char *in,
    size_t inlen, struct buf *out, int lazy, int *skippedp)
{
	struct buf *req = NULL, *t = NULL, *resp = NULL;
	const u_char *sig;
	size_t siglen;
	int r = TOK_ERR_INTERNAL, sw, verified, tries, again, skipped = 0;

	if (inlen == 0 || inlen > 512 || slot < 0 || slot > 0xff)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((req = buf_new()) == NULL || (t = buf_new()) == NULL ||
	    (resp = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	/* 7C { 82 (empty: the response wanted), 81 challenge } */
	if ((r = piv_put_tlv(t, 0x82, NULL, 0)) != 0 ||
	    (r = piv_put_tlv(t, 0x81, in, inlen)) != 0 ||
	    (r = piv_put_tlv(req, 0x7c, buf_ptr(t), buf_len(t))) != 0)
		goto out;
	if ((r = piv_begin_opt(piv, lazy ? &skipped : NULL)) != 0)
		goto out;
	for (again = 1;; again = 0) {
		buf_reset(resp);
		if ((r = piv_transceive(piv, INS_GENERAL_AUTH, alg, slot,
		    buf_ptr(req), buf_len(req), resp, &sw)) != 0)
			break;
		if (skipped && sw != SW_OK) {
			/*
			 * Maybe another program selected another application:
			 * select PIV.  A refusal is asked again; PIV's 6982
			 * (PIN or touch) is looked into below, so that a touch
			 * that did not come is not waited for twice.
			 */
			debug_f("slot %02x: %04x without SELECT: selecting PIV",
			    slot, sw);
			skipped = 0;
			if ((r = piv_select_in_tx(piv)) != 0)
				break;
			if (sw != SW_SECURITY) {
				buf_reset(resp);
				if ((r = piv_transceive(piv, INS_GENERAL_AUTH,
				    alg, slot, buf_ptr(req), buf_len(req), resp,
				    &sw)) != 0)
					break;
			}
		}
		if (sw != SW_SECURITY) {
			r = piv_sw_err(sw);
			break;
		}
		/* The PIN (forgotten by a reset or a deselect), or a touch. */
		if ((r = piv_verify_in_tx(piv, NULL, &tries)) == 0)
			verified = 1;
		else if (r == TOK_ERR_PIN_INVALID)
			verified = 0;
		else
			break;
		if (verified || piv->pin == NULL || !again) {
			r = verified ? TOK_ERR_TOUCH_DENIED :
			    TOK_ERR_PIN_REQUIRED;
			break;
		}
		debug_f("slot %02x: verifying the PIN again", slot);
		if ((r = piv_verify_in_tx(piv, piv->pin, &tries)) != 0) {
			piv_forget_pin(piv);
			break;
		}
	}
	piv_end(piv);
	if (skippedp != NULL)
		*skippedp = skipped;
	if (r != 0)
		goto out;
	if ((r = piv_parse_auth_response(buf_ptr(resp), buf_len(resp), &sig,
	    &siglen)) != 0 || (r = buf_put(out, sig, siglen)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(req);
	buf_free(t);
	buf_free(resp);
	return r;
}

int
piv_general_auth(struct piv *piv, int slot, int alg, const u_char *in,
    size_t inlen, struct buf *out)
{
	return piv_general_auth_opt(piv, slot, alg, in, inlen, out, 0, NULL);
}

/* The PIV algorithm of a public key, or -1. */
static int
piv_key_alg(EVP_PKEY *pk)
{
	int bits = EVP_PKEY_get_bits(pk);

	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_EC:
		return bits == 256 ? PIV_ALG_ECCP256 :
		    bits == 384 ? PIV_ALG_ECCP384 : -1;
	case EVP_PKEY_RSA:
		switch (bits) {
		case 1024:
			return PIV_ALG_RSA1024;
		case 2048:
			return PIV_ALG_RSA2048;
		case 3072:
			return PIV_ALG_RSA3072;
		case 4096:
			return PIV_ALG_RSA4096;
		}
		break;
	}
	return -1;
}

/* piv_sign_ssh's signature, lazily when lazy (see piv_general_auth_opt). */
static int
piv_sign_ssh_opt(struct piv *piv, int slot, const struct key *k,
    uint32_t agent_flags, const u_char *data, size_t len,
    struct buf *sigout, int lazy, int *skippedp)
{
	struct buf *in = NULL, *raw = NULL;
	EVP_PKEY *pk = key_evp(k);
	ECDSA_SIG *esig = NULL;
	const BIGNUM *er, *es;
	const u_char *p;
	u_char md[EVP_MAX_MD_SIZE], rs[2 * 66];
	size_t mdlen = 0, mod, flen;
	int r = TOK_ERR_INTERNAL, alg;

	if (pk == NULL || (alg = piv_key_alg(pk)) < 0)
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	if ((in = buf_new()) == NULL || (raw = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
		flen = (EVP_PKEY_get_bits(pk) + 7) / 8;
		if ((r = key_ecdsa_digest(k, data, len, md, &mdlen)) != 0 ||
		    (r = piv_general_auth_opt(piv, slot, alg, md, mdlen,
		    raw, lazy, skippedp)) != 0)
			goto out;
		p = buf_ptr(raw);
		if ((esig = d2i_ECDSA_SIG(NULL, &p, buf_len(raw))) == NULL ||
		    p != buf_ptr(raw) + buf_len(raw)) {
			r = TOK_ERR_SIGNATURE_INVALID;
			goto out;
		}
		ECDSA_SIG_get0(esig, &er, &es);
		if (BN_bn2binpad(er, rs, flen) < 0 ||
		    BN_bn2binpad(es, rs + flen, flen) < 0) {
			r = TOK_ERR_SIGNATURE_INVALID;
			goto out;
		}
		r = key_ecdsa_sig_from_raw(k, rs, 2 * flen, sigout);
		goto out;
	}
	/* RSA: EMSA-PKCS1-v1_5 padding here, the raw operation on the card. */
	mod = EVP_PKEY_get_size(pk);
	if ((r = key_rsa_digestinfo(agent_flags, data, len, raw)) != 0)
		goto out;
	if (buf_len(raw) + 11 > mod) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	if ((r = buf_put_u8(in, 0x00)) != 0 || (r = buf_put_u8(in, 0x01)) != 0)
		goto out;
	while (buf_len(in) < mod - buf_len(raw) - 1)
		if ((r = buf_put_u8(in, 0xff)) != 0)
			goto out;
	if ((r = buf_put_u8(in, 0x00)) != 0 || (r = buf_putb(in, raw)) != 0)
		goto out;
	buf_reset(raw);
	if ((r = piv_general_auth_opt(piv, slot, alg, buf_ptr(in),
	    buf_len(in), raw, lazy, skippedp)) != 0)
		goto out;
	r = key_rsa_sig_wrap(k, agent_flags, buf_ptr(raw), buf_len(raw),
	    sigout);
 out:
	explicit_bzero(md, sizeof(md));
	ECDSA_SIG_free(esig);
	buf_free(in);
	buf_free(raw);
	return r;
}

/*
 * Sign (lazily, when the card is set so), and check the signature with
 * the public key before it goes out: a card that computed it wrong, or
 * another application that answered a command sent without SELECT, gives
 * no signature; the latter is asked again after selecting PIV.
 */
int
piv_sign_ssh(struct piv *piv, int slot, const struct key *k,
    uint32_t agent_flags, const u_char *data, size_t len,
    struct buf *sigout)
{
	struct buf *sig;
	int r, skipped = 0;

	if ((sig = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = piv_sign_ssh_opt(piv, slot, k, agent_flags, data, len, sig,
	    1, &skipped)) != 0)
		goto out;
	if (key_verify(k, buf_ptr(sig), buf_len(sig), data, len, NULL) == 0)
		goto done;
	if (!skipped) {
		r = TOK_ERR_SIGNATURE_INVALID;
		goto out;
	}
	debug_f("slot %02x: no valid signature without SELECT: selecting PIV",
	    slot);
	piv->selected = 0;
	buf_reset(sig);
	if ((r = piv_sign_ssh_opt(piv, slot, k, agent_flags, data, len, sig,
	    0, NULL)) != 0)
		goto out;
	if (key_verify(k, buf_ptr(sig), buf_len(sig), data, len, NULL) != 0) {
		r = TOK_ERR_SIGNATURE_INVALID;
		goto out;
	}
 done:
	r = buf_putb(sigout, sig);
 out:
	buf_free(sig);
	return r;
}
