/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness for token/piv.c: its parsers (BER-TLV, SELECT,
 * metadata, certificate objects, GENERAL AUTHENTICATE answers) and the
 * whole client over a fake card (struct card_ops) that answers every
 * command with the next response taken from the input.
 *
 * Input: one byte choosing the target (0-3: a parser over the rest, the
 * next byte being the metadata reference and generate algorithm for 1;
 * 4 and up: the client, the set-up command's sequence included),
 * then, for the client, frames of a 1-byte length and that many bytes,
 * each one response APDU (data and status word); when they run out the
 * card is gone.
 */
#include "config.h"

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/log.h"
#include "token/piv.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz_card {
	const u_char	*p;
	size_t		 left;
	int		 in_tx;
};

static struct key *fuzz_ec, *fuzz_rsa;

static int
fuzz_begin(void *io, int *resetp)
{
	struct fuzz_card *c = io;

	if (c->in_tx)
		abort();	/* transactions never nest */
	*resetp = c->left & 1;
	if (c->left == 0)
		return TOK_ERR_DEVICE_NOT_PRESENT;
	c->in_tx = 1;
	return 0;
}

static void
fuzz_end(void *io)
{
	struct fuzz_card *c = io;

	if (!c->in_tx)
		abort();
	c->in_tx = 0;
}

static int
fuzz_transmit(void *io, const u_char *capdu, size_t clen, u_char *rapdu,
    size_t *rlenp)
{
	struct fuzz_card *c = io;
	size_t n;

	(void)capdu;
	if (!c->in_tx || clen < 4)
		abort();
	if (c->left == 0)
		return TOK_ERR_DEVICE_NOT_PRESENT;
	n = *c->p++;
	c->left--;
	if (n > c->left)
		n = c->left;
	if (n > *rlenp)
		n = *rlenp;
	memcpy(rapdu, c->p, n);
	c->p += n;
	c->left -= n;
	*rlenp = n;
	return 0;
}

static const struct card_ops fuzz_ops = {
	.begin = fuzz_begin,
	.end = fuzz_end,
	.transmit = fuzz_transmit,
};

static void
fuzz_init(void)
{
	EVP_PKEY *pk;

	log_init("fuzz_piv", LOG_LEVEL_QUIET, 1);
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    key_from_evp_public(pk, &fuzz_ec) != 0)
		abort();
	EVP_PKEY_free(pk);
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024)) == NULL ||
	    key_from_evp_public(pk, &fuzz_rsa) != 0)
		abort();
	EVP_PKEY_free(pk);
}

static void
fuzz_client(const u_char *p, size_t len)
{
	struct fuzz_card c;
	struct piv *piv = NULL;
	struct piv_metadata md;
	struct buf *out = NULL;
	struct key *k = NULL;
	u_char v[3], *der = NULL, dig[32], mgm[24];
	size_t dlen;
	uint32_t serial;
	int verified, tries;

	memset(&c, 0, sizeof(c));
	memset(&md, 0, sizeof(md));
	memset(dig, 0x11, sizeof(dig));
	memset(mgm, 0x22, sizeof(mgm));
	c.p = p;
	c.left = len;
	if (piv_open(&fuzz_ops, &c, &piv) != 0 || (out = buf_new()) == NULL)
		goto out;
	(void)piv_select(piv);
	(void)piv_yk_version(piv, v);
	(void)piv_yk_serial(piv, &serial);
	if (piv_yk_metadata(piv, 0x9a, &md) == 0)
		piv_metadata_clear(&md);
	if (piv_yk_metadata(piv, 0x80, &md) == 0)
		piv_metadata_clear(&md);
	if (piv_read_cert(piv, 0x9a, &der, &dlen, &k) == 0) {
		free(der);
		key_free(k);
	}
	(void)piv_pin_status(piv, &verified, &tries);
	(void)piv_verify_pin(piv, "123456", &tries);
	(void)piv_general_auth(piv, 0x9a, PIV_ALG_ECCP256, dig, sizeof(dig),
	    out);
	buf_reset(out);
	(void)piv_sign_ssh(piv, 0x9a, fuzz_ec, 0, dig, sizeof(dig), out);
	buf_reset(out);
	(void)piv_sign_ssh(piv, 0x9c, fuzz_rsa, 0x04, dig, sizeof(dig), out);
	/* Signatures without SELECT, and the fallbacks when they fail. */
	piv_set_lazy_select(piv, 1);
	buf_reset(out);
	(void)piv_sign_ssh(piv, 0x9a, fuzz_ec, 0, dig, sizeof(dig), out);
	buf_reset(out);
	(void)piv_sign_ssh(piv, 0x9a, fuzz_ec, 0, dig, sizeof(dig), out);
	/* The set-up command's sequence, in one transaction. */
	if (piv_hold(piv) == 0) {
		(void)piv_mgmt_auth(piv, PIV_ALG_3DES, mgm, sizeof(mgm));
		(void)piv_mgmt_auth(piv, PIV_ALG_AES128, mgm, 16);
		if (piv_generate(piv, 0x9a, PIV_ALG_ECCP256, 0, 0, &k) == 0)
			key_free(k);
		if (piv_generate(piv, 0x9c, PIV_ALG_RSA2048, 1, 2, &k) == 0)
			key_free(k);
		buf_reset(out);
		(void)piv_get_object(piv, PIV_OBJ_YK_ADMIN, out);
		(void)piv_put_object(piv, PIV_OBJ_PRINTED, dig, sizeof(dig));
		(void)piv_write_cert(piv, 0x82, dig, sizeof(dig));
		(void)piv_change_ref(piv, PIV_REF_PIN, "123456", "654321",
		    &tries);
		(void)piv_yk_set_mgmt(piv, PIV_ALG_3DES, mgm, sizeof(mgm), 0);
		piv_release(piv);
	}
	if (c.in_tx)
		abort();	/* every transaction ended */
 out:
	buf_free(out);
	piv_free(piv);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct piv_metadata md;
	struct buf *b;
	struct key *k = NULL;
	const u_char *v;
	size_t vlen;
	u_int tag;
	int flags;

	if (fuzz_ec == NULL)
		fuzz_init();
	if (size < 1)
		return 0;
	memset(&md, 0, sizeof(md));
	switch (data[0]) {
	case 0:
		(void)piv_parse_select(data + 1, size - 1);
		(void)piv_parse_auth_response(data + 1, size - 1, &v, &vlen);
		(void)piv_parse_auth_tag(data + 1, size - 1, 0x80, &v, &vlen);
		break;
	case 1:
		if (size >= 2 && piv_parse_metadata(data + 2, size - 2,
		    data[1], &md) == 0)
			piv_metadata_clear(&md);
		if (size >= 2 && piv_parse_generate(data + 2, size - 2,
		    data[1], &k) == 0)
			key_free(k);
		break;
	case 2:
		(void)piv_parse_cert_object(data + 1, size - 1, &v, &vlen);
		(void)piv_parse_admin_data(data + 1, size - 1, &flags);
		(void)piv_parse_printed(data + 1, size - 1, &v, &vlen);
		break;
	case 3:
		if ((b = buf_from(data + 1, size - 1)) == NULL)
			break;
		while (buf_len(b) > 0 &&
		    piv_tlv_get(b, &tag, &v, &vlen) == 0)
			;
		buf_free(b);
		break;
	default:
		fuzz_client(data + 1, size - 1);
		break;
	}
	return 0;
}
