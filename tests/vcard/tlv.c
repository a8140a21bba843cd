/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* vcard: command APDU parsing and BER-TLV coding (see tlv.h). */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "tests/vcard/tlv.h"

int
vc_apdu_parse(const u_char *p, size_t len, struct vc_apdu *apdu)
{
	struct buf *b = NULL;
	uint8_t hdr[4], b1, b2, b3;
	size_t lc = 0, le = 0;
	int r = TOK_ERR_INTERNAL, extended = 0;

	memset(apdu, 0, sizeof(*apdu));
	if ((b = buf_from(p, len)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get(b, hdr, sizeof(hdr))) != 0)
		goto out;
	r = TOK_ERR_INVALID_FORMAT;
	if (buf_len(b) == 0) {
		/* case 1 */
	} else if (buf_len(b) == 1) {
		/* case 2S */
		if (buf_get_u8(b, &b1) != 0)
			goto out;
		le = b1 == 0 ? 256 : b1;
	} else if (buf_ptr(b)[0] != 0) {
		/* case 3S or 4S */
		if (buf_get_u8(b, &b1) != 0)
			goto out;
		lc = b1;
		if (buf_len(b) < lc)
			goto out;
		apdu->data = buf_ptr(b);
		if (buf_consume(b, lc) != 0)
			goto out;
		if (buf_len(b) == 1) {
			if (buf_get_u8(b, &b1) != 0)
				goto out;
			le = b1 == 0 ? 256 : b1;
		}
	} else {
		/* extended: 00 then two bytes of Lc or Le */
		extended = 1;
		if (buf_len(b) < 3 || buf_get_u8(b, &b1) != 0 ||
		    buf_get_u8(b, &b2) != 0 || buf_get_u8(b, &b3) != 0)
			goto out;
		if (buf_len(b) == 0) {
			/* case 2E */
			le = (b2 << 8) | b3;
			if (le == 0)
				le = 65536;
		} else {
			lc = (b2 << 8) | b3;
			if (lc == 0 || buf_len(b) < lc)
				goto out;
			apdu->data = buf_ptr(b);
			if (buf_consume(b, lc) != 0)
				goto out;
			if (buf_len(b) == 2) {
				if (buf_get_u8(b, &b2) != 0 ||
				    buf_get_u8(b, &b3) != 0)
					goto out;
				le = (b2 << 8) | b3;
				if (le == 0)
					le = 65536;
			}
		}
	}
	if (buf_expect_empty(b) != 0)
		goto out;
	apdu->cla = hdr[0];
	apdu->ins = hdr[1];
	apdu->p1 = hdr[2];
	apdu->p2 = hdr[3];
	apdu->lc = lc;
	apdu->le = le;
	apdu->extended = extended;
	if (lc == 0)
		apdu->data = NULL;
	r = 0;
 out:
	if (r != 0)
		memset(apdu, 0, sizeof(*apdu));
	buf_free(b);
	return r;
}

int
vc_tlv_get(struct buf *b, u_int *tagp, const u_char **valp, size_t *lenp)
{
	const u_char *p = buf_ptr(b);
	size_t left = buf_len(b), off = 0, len = 0, i, nlen;
	u_int tag;
	int r = TOK_ERR_INVALID_FORMAT;

	if (tagp != NULL)
		*tagp = 0;
	if (valp != NULL)
		*valp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if (left < 2) {
		r = TOK_ERR_MESSAGE_INCOMPLETE;
		goto out;
	}
	tag = p[off++];
	if ((tag & 0x1f) == 0x1f) {
		/* Multi-byte tag: continuation bit on all but the last. */
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
		nlen = p[off++] & 0x7f;
		if (nlen == 0 || nlen > 3 || left - off < nlen)
			goto out;
		for (i = 0; i < nlen; i++)
			len = (len << 8) | p[off++];
	}
	if (len > left - off)
		goto out;
	if ((r = buf_consume(b, off + len)) != 0)
		goto out;
	if (tagp != NULL)
		*tagp = tag;
	if (valp != NULL)
		*valp = p + off;
	if (lenp != NULL)
		*lenp = len;
	r = 0;
 out:
	return r;
}

int
vc_tlv_find(const u_char *p, size_t len, u_int tag, const u_char **valp,
    size_t *lenp)
{
	struct buf *b = NULL;
	const u_char *v, *found = NULL;
	size_t vlen, foundlen = 0;
	u_int t;
	int r = TOK_ERR_INTERNAL, have = 0;

	*valp = NULL;
	*lenp = 0;
	if ((b = buf_from(p, len)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	while (buf_len(b) > 0) {
		if ((r = vc_tlv_get(b, &t, &v, &vlen)) != 0) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		if (t == tag && !have) {
			have = 1;
			found = v;
			foundlen = vlen;
		}
	}
	if (!have) {
		r = TOK_ERR_KEY_NOT_FOUND;
		goto out;
	}
	*valp = found;
	*lenp = foundlen;
	r = 0;
 out:
	buf_free(b);
	return r;
}

int
vc_tlv_put_hdr(struct buf *b, u_int tag, size_t len)
{
	u_char h[8];
	size_t n = 0;

	if (tag > VC_TLV_TAG_MAX || len > VC_TLV_LEN_MAX)
		return TOK_ERR_INVALID_ARGUMENT;
	if (tag > 0xffff)
		h[n++] = (tag >> 16) & 0xff;
	if (tag > 0xff)
		h[n++] = (tag >> 8) & 0xff;
	h[n++] = tag & 0xff;
	if (len < 0x80)
		h[n++] = len;
	else if (len <= 0xff) {
		h[n++] = 0x81;
		h[n++] = len;
	} else if (len <= 0xffff) {
		h[n++] = 0x82;
		h[n++] = (len >> 8) & 0xff;
		h[n++] = len & 0xff;
	} else {
		h[n++] = 0x83;
		h[n++] = (len >> 16) & 0xff;
		h[n++] = (len >> 8) & 0xff;
		h[n++] = len & 0xff;
	}
	return buf_put(b, h, n);
}

int
vc_tlv_put(struct buf *b, u_int tag, const void *v, size_t len)
{
	int r;

	if ((r = vc_tlv_put_hdr(b, tag, len)) != 0)
		return r;
	if (len == 0)
		return 0;
	return buf_put(b, v, len);
}

int
vc_tlv_putb(struct buf *b, u_int tag, const struct buf *v)
{
	return vc_tlv_put(b, tag, buf_ptr(v), buf_len(v));
}
