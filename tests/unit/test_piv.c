/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Unit tests for token/piv.c: the parsers (BER-TLV with leftovers
 * refused, SELECT, metadata, certificate objects, GENERAL AUTHENTICATE
 * answers) and the client over a scripted fake card (struct card_ops):
 * GET RESPONSE gathering, command chaining, status words, transactions
 * always ended, the re-verification of a remembered PIN after the
 * card forgot it, and signatures without SELECT while PIV is known
 * selected (checked against the public key).
 */
#include "config.h"

#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/log.h"
#include "token/piv.h"

/* ---- a scripted card --------------------------------------------------- */

#define FAKE_STEPS	32

struct fake_step {
	const char	*want;	/* hex prefix of the command, "" for any */
	const char	*reply;	/* hex response APDU */
};

struct fake_card {
	struct fake_step steps[FAKE_STEPS];
	size_t		 nsteps, next;
	int		 in_tx, begins, ends;
	int		 reset_next;
	int		 fail_begin;
	char		 sent[FAKE_STEPS][600];
};

static size_t
unhex(const char *s, u_char *out, size_t max)
{
	size_t n = 0;
	u_int v;

	while (s[0] != '\0' && s[1] != '\0') {
		assert_true(n < max);
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = v;
		s += 2;
	}
	return n;
}

static int
fake_begin(void *io, int *resetp)
{
	struct fake_card *c = io;

	assert_false(c->in_tx);
	if (c->fail_begin)
		return TOK_ERR_DEVICE_NOT_PRESENT;
	*resetp = c->reset_next;
	c->reset_next = 0;
	c->in_tx = 1;
	c->begins++;
	return 0;
}

static void
fake_end(void *io)
{
	struct fake_card *c = io;

	assert_true(c->in_tx);
	c->in_tx = 0;
	c->ends++;
}

static int
fake_transmit(void *io, const u_char *capdu, size_t clen, u_char *rapdu,
    size_t *rlenp)
{
	struct fake_card *c = io;
	const struct fake_step *s;
	char hex[600];
	size_t i;

	assert_true(c->in_tx);
	assert_true(c->next < c->nsteps);
	assert_true(clen * 2 < sizeof(hex));
	for (i = 0; i < clen; i++)
		snprintf(hex + 2 * i, 3, "%02X", capdu[i]);
	hex[2 * clen] = '\0';
	s = &c->steps[c->next];
	snprintf(c->sent[c->next], sizeof(c->sent[0]), "%s", hex);
	if (strncmp(hex, s->want, strlen(s->want)) != 0)
		fail_msg("step %zu: sent %s, want %s", c->next, hex, s->want);
	c->next++;
	*rlenp = unhex(s->reply, rapdu, *rlenp);
	return 0;
}

static const struct card_ops fake_ops = {
	.begin = fake_begin,
	.end = fake_end,
	.transmit = fake_transmit,
};

#define SELECT_CMD	"00A404000BA000000308000010000100"
#define SELECT_OK	"61114F0600001000010079074F05A0000003089000"

static void
script(struct fake_card *c, ...)
{
	va_list ap;
	const char *w;

	memset(c, 0, sizeof(*c));
	va_start(ap, c);
	while ((w = va_arg(ap, const char *)) != NULL) {
		assert_true(c->nsteps < FAKE_STEPS);
		c->steps[c->nsteps].want = w;
		c->steps[c->nsteps].reply = va_arg(ap, const char *);
		c->nsteps++;
	}
	va_end(ap);
}

static void
done(struct fake_card *c)
{
	assert_int_equal(c->next, c->nsteps);
	assert_false(c->in_tx);
	assert_int_equal(c->begins, c->ends);
}

/* ---- parsers ----------------------------------------------------------- */

static void
test_tlv(void **state)
{
	u_char in[64];
	struct buf *b;
	const u_char *v;
	size_t len, n;
	u_int tag;

	(void)state;
	n = unhex("5FC105820003AABBCC7C00", in, sizeof(in));
	assert_non_null(b = buf_from(in, n));
	assert_int_equal(piv_tlv_get(b, &tag, &v, &len), 0);
	assert_int_equal(tag, 0x5fc105);
	assert_int_equal(len, 3);
	assert_int_equal(v[2], 0xcc);
	assert_int_equal(piv_tlv_get(b, &tag, &v, &len), 0);
	assert_int_equal(tag, 0x7c);
	assert_int_equal(len, 0);
	assert_int_equal(buf_len(b), 0);
	buf_free(b);
	/* Truncated value, indefinite and over-long lengths, long tags. */
	n = unhex("7C0501020304", in, sizeof(in));
	assert_non_null(b = buf_from(in, n));
	assert_int_not_equal(piv_tlv_get(b, &tag, &v, &len), 0);
	assert_int_equal(buf_len(b), n);	/* untouched */
	buf_free(b);
	n = unhex("7C800000", in, sizeof(in));
	assert_non_null(b = buf_from(in, n));
	assert_int_not_equal(piv_tlv_get(b, &tag, &v, &len), 0);
	buf_free(b);
	n = unhex("7C8300000100", in, sizeof(in));
	assert_non_null(b = buf_from(in, n));
	assert_int_not_equal(piv_tlv_get(b, &tag, &v, &len), 0);
	buf_free(b);
	n = unhex("5FFFFF0100", in, sizeof(in));
	assert_non_null(b = buf_from(in, n));
	assert_int_not_equal(piv_tlv_get(b, &tag, &v, &len), 0);
	buf_free(b);
}

static void
test_parse_select(void **state)
{
	u_char in[64];
	size_t n;

	(void)state;
	n = unhex("61114F0600001000010079074F05A000000308", in, sizeof(in));
	assert_int_equal(piv_parse_select(in, n), 0);
	assert_int_equal(piv_parse_select(in, 0), 0);
	/* Leftover after the template. */
	n = unhex("61114F0600001000010079074F05A00000030800", in, sizeof(in));
	assert_int_equal(piv_parse_select(in, n), TOK_ERR_INVALID_FORMAT);
	/* Another application's AID. */
	n = unhex("61084F06D27600012401", in, sizeof(in));
	assert_int_equal(piv_parse_select(in, n), TOK_ERR_KEY_NOT_FOUND);
	/* No AID at all. */
	n = unhex("6103500141", in, sizeof(in));
	assert_int_equal(piv_parse_select(in, n), TOK_ERR_INVALID_FORMAT);
}

/* A P-256 point (the generator). */
#define P256_G "04" \
	"6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296" \
	"4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5"

static void
test_parse_metadata(void **state)
{
	struct piv_metadata md;
	u_char in[256];
	size_t n;

	(void)state;
	memset(&md, 0, sizeof(md));
	n = unhex("0101FF05010106020503", in, sizeof(in));
	assert_int_equal(piv_parse_metadata(in, n, 0x80, &md), 0);
	assert_int_equal(md.alg, 0xff);
	assert_int_equal(md.is_default, 1);
	assert_int_equal(md.tries_total, 5);
	assert_int_equal(md.tries_left, 3);
	assert_null(md.pubkey);
	/* A PIN without retries; more left than total. */
	n = unhex("0101FF050101", in, sizeof(in));
	assert_int_not_equal(piv_parse_metadata(in, n, 0x80, &md), 0);
	n = unhex("0101FF06020305", in, sizeof(in));
	assert_int_not_equal(piv_parse_metadata(in, n, 0x80, &md), 0);

	/* (the 04 length is 0x43: 86 41 and the 65-byte point) */
	n = unhex("01011102020203030101044386" "41" P256_G, in, sizeof(in));
	assert_int_equal(piv_parse_metadata(in, n, 0x9a, &md), 0);
	assert_int_equal(md.alg, PIV_ALG_ECCP256);
	assert_int_equal(md.pin_policy, 2);
	assert_int_equal(md.touch_policy, 3);
	assert_int_equal(md.origin, 1);
	assert_non_null(md.pubkey);
	assert_int_equal(key_bits(md.pubkey), 256);
	piv_metadata_clear(&md);
	assert_null(md.pubkey);
	/* Unknown tags are skipped, known ones twice are not. */
	n = unhex("010111" "0701FF" "02020202", in, sizeof(in));
	assert_int_equal(piv_parse_metadata(in, n, 0x9a, &md), 0);
	n = unhex("010111" "010111", in, sizeof(in));
	assert_int_equal(piv_parse_metadata(in, n, 0x9a, &md),
	    TOK_ERR_INVALID_FORMAT);
	/* A point that is not on the curve; a key of the wrong size. */
	n = unhex("010111044386" "41" "04" "0000000000000000000000000000000000000000000000000000000000000001" "0000000000000000000000000000000000000000000000000000000000000001",
	    in, sizeof(in));
	assert_int_not_equal(piv_parse_metadata(in, n, 0x9a, &md), 0);
	n = unhex("01011404438641" P256_G, in, sizeof(in));
	assert_int_not_equal(piv_parse_metadata(in, n, 0x9a, &md), 0);
	/* Trailing half TLV. */
	n = unhex("01011102", in, sizeof(in));
	assert_int_equal(piv_parse_metadata(in, n, 0x9a, &md),
	    TOK_ERR_INVALID_FORMAT);
	assert_int_equal(md.alg, -1);
}

static void
test_parse_cert_object(void **state)
{
	u_char in[64];
	const u_char *c;
	size_t n, clen;

	(void)state;
	n = unhex("530A7003300100710100FE00", in, sizeof(in));
	assert_int_equal(piv_parse_cert_object(in, n, &c, &clen), 0);
	assert_int_equal(clen, 3);
	assert_int_equal(c[0], 0x30);
	/* Compressed; an unknown tag; two certificates; leftover. */
	n = unhex("530A7003300100710101FE00", in, sizeof(in));
	assert_int_equal(piv_parse_cert_object(in, n, &c, &clen),
	    TOK_ERR_FEATURE_UNSUPPORTED);
	n = unhex("530A7003300100720100FE00", in, sizeof(in));
	assert_int_equal(piv_parse_cert_object(in, n, &c, &clen),
	    TOK_ERR_INVALID_FORMAT);
	n = unhex("530A700330010070033001", in, sizeof(in));
	assert_int_not_equal(piv_parse_cert_object(in, n, &c, &clen), 0);
	n = unhex("530A7003300100710100FE0000", in, sizeof(in));
	assert_int_equal(piv_parse_cert_object(in, n, &c, &clen),
	    TOK_ERR_INVALID_FORMAT);
	assert_null(c);
}

static void
test_parse_auth_response(void **state)
{
	u_char in[64];
	const u_char *r;
	size_t n, rlen;

	(void)state;
	n = unhex("7C048202AABB", in, sizeof(in));
	assert_int_equal(piv_parse_auth_response(in, n, &r, &rlen), 0);
	assert_int_equal(rlen, 2);
	n = unhex("7C0282007C00", in, sizeof(in));
	assert_int_not_equal(piv_parse_auth_response(in, n, &r, &rlen), 0);
	n = unhex("7C028200", in, sizeof(in));
	assert_int_not_equal(piv_parse_auth_response(in, n, &r, &rlen), 0);
	n = unhex("7C068202AABB8100", in, sizeof(in));
	assert_int_not_equal(piv_parse_auth_response(in, n, &r, &rlen), 0);
}

/* ---- the client over the fake card ------------------------------------ */

static void
test_version_serial(void **state)
{
	struct fake_card c;
	struct piv *piv;
	u_char v[3];
	uint32_t serial;

	(void)state;
	script(&c, SELECT_CMD, SELECT_OK, "00FD000000", "0507019000",
	    SELECT_CMD, SELECT_OK, "00F8000000", "00BC614E9000",
	    SELECT_CMD, SELECT_OK, "00F8000000", "00BC619000",
	    SELECT_CMD, "6A82", NULL);
	assert_int_equal(piv_open(&fake_ops, &c, &piv), 0);
	assert_int_equal(piv_yk_version(piv, v), 0);
	assert_int_equal(v[0], 5);
	assert_int_equal(v[2], 1);
	assert_int_equal(piv_yk_serial(piv, &serial), 0);
	assert_int_equal(serial, 12345678);
	/* A short serial is refused. */
	assert_int_equal(piv_yk_serial(piv, &serial), TOK_ERR_INVALID_FORMAT);
	assert_int_equal(serial, 0);
	/* No PIV application. */
	assert_int_equal(piv_yk_serial(piv, &serial), TOK_ERR_KEY_NOT_FOUND);
	done(&c);
	assert_int_equal(c.begins, 4);
	c.fail_begin = 1;
	assert_int_equal(piv_select(piv), TOK_ERR_DEVICE_NOT_PRESENT);
	piv_free(piv);
}

static void
test_get_response(void **state)
{
	struct fake_card c;
	struct piv *piv;
	struct piv_metadata md;

	(void)state;
	memset(&md, 0, sizeof(md));
	/* The metadata arrives in two parts: 61 05 then GET RESPONSE. */
	script(&c, SELECT_CMD, "61114F0600001000"
	    "610B", "00C000000B", "010079074F05A000000308" "9000",
	    "00F7008000", "0101FF05010106" "6103",
	    "00C0000003", "0203039000",
	    SELECT_CMD, SELECT_OK, "00F7009A00", "6A88",
	    SELECT_CMD, SELECT_OK, "00F7009A00", "6D00", NULL);
	assert_int_equal(piv_open(&fake_ops, &c, &piv), 0);
	assert_int_equal(piv_yk_metadata(piv, 0x80, &md), 0);
	assert_int_equal(md.tries_left, 3);
	assert_int_equal(piv_yk_metadata(piv, 0x9a, &md),
	    TOK_ERR_KEY_NOT_FOUND);
	assert_int_equal(piv_yk_metadata(piv, 0x9a, &md),
	    TOK_ERR_FEATURE_UNSUPPORTED);
	done(&c);
	piv_free(piv);
}

static void
test_verify(void **state)
{
	struct fake_card c;
	struct piv *piv;
	int tries, verified;

	(void)state;
	script(&c,
	    SELECT_CMD, SELECT_OK, "0020008008393939393939FFFF", "63C2",
	    SELECT_CMD, SELECT_OK, "002000800831323334353637", "9000",
	    SELECT_CMD, SELECT_OK, "0020008000", "9000",
	    SELECT_CMD, SELECT_OK, "0020008000", "63C3",
	    SELECT_CMD, SELECT_OK, "0020008008", "6983", NULL);
	assert_int_equal(piv_open(&fake_ops, &c, &piv), 0);
	assert_int_equal(piv_verify_pin(piv, "999999", &tries),
	    TOK_ERR_PIN_INVALID);
	assert_int_equal(tries, 2);
	assert_int_equal(piv_verify_pin(piv, "12345678", &tries), 0);
	assert_int_equal(piv_pin_status(piv, &verified, &tries), 0);
	assert_int_equal(verified, 1);
	assert_int_equal(piv_pin_status(piv, &verified, &tries), 0);
	assert_int_equal(verified, 0);
	assert_int_equal(tries, 3);
	assert_int_equal(piv_verify_pin(piv, "123456", &tries),
	    TOK_ERR_PIN_BLOCKED);
	/* Bad lengths are not sent. */
	assert_int_equal(piv_verify_pin(piv, "12345", &tries),
	    TOK_ERR_INVALID_ARGUMENT);
	assert_int_equal(piv_verify_pin(piv, "123456789", &tries),
	    TOK_ERR_INVALID_ARGUMENT);
	done(&c);
	piv_free(piv);
}

#define GA_HDR		"0087119A267C24820081" "20"
#define DIGEST		"000102030405060708090A0B0C0D0E0F" \
			"101112131415161718191A1B1C1D1E1F"

static void
test_general_auth_reverify(void **state)
{
	struct fake_card c;
	struct piv *piv;
	struct buf *out;
	u_char dig[32];

	(void)state;
	unhex(DIGEST, dig, sizeof(dig));
	assert_non_null(out = buf_new());
	script(&c,
	    SELECT_CMD, SELECT_OK, "0020008008313233343536FFFF", "9000",
	    /* The card forgot the PIN (another program selected OpenPGP). */
	    SELECT_CMD, SELECT_OK, GA_HDR DIGEST "00", "6982",
	    "0020008000", "63C3",
	    "0020008008313233343536FFFF", "9000",
	    GA_HDR DIGEST "00", "7C048202AABB9000",
	    /* PIN verified and still refused: the touch. */
	    SELECT_CMD, SELECT_OK, GA_HDR DIGEST "00", "6982",
	    "0020008000", "9000", NULL);
	c.reset_next = 0;
	assert_int_equal(piv_open(&fake_ops, &c, &piv), 0);
	assert_int_equal(piv_verify_pin(piv, "123456", NULL), 0);
	assert_int_equal(piv_general_auth(piv, 0x9a, PIV_ALG_ECCP256, dig,
	    sizeof(dig), out), 0);
	assert_int_equal(buf_len(out), 2);
	assert_int_equal(buf_ptr(out)[0], 0xaa);
	assert_int_equal(piv_general_auth(piv, 0x9a, PIV_ALG_ECCP256, dig,
	    sizeof(dig), out), TOK_ERR_TOUCH_DENIED);
	done(&c);
	/* Without a remembered PIN: PIN required, after one try. */
	piv_forget_pin(piv);
	script(&c, SELECT_CMD, SELECT_OK, GA_HDR DIGEST "00", "6982",
	    "0020008000", "63C3",
	    /* A wrong remembered PIN is forgotten. */
	    SELECT_CMD, SELECT_OK, "0020008008313233343536FFFF", "9000",
	    SELECT_CMD, SELECT_OK, GA_HDR DIGEST "00", "6982",
	    "0020008000", "63C3", "0020008008313233343536FFFF", "63C2",
	    SELECT_CMD, SELECT_OK, GA_HDR DIGEST "00", "6982",
	    "0020008000", "63C2", NULL);
	assert_int_equal(piv_general_auth(piv, 0x9a, PIV_ALG_ECCP256, dig,
	    sizeof(dig), out), TOK_ERR_PIN_REQUIRED);
	assert_int_equal(piv_verify_pin(piv, "123456", NULL), 0);
	assert_int_equal(piv_general_auth(piv, 0x9a, PIV_ALG_ECCP256, dig,
	    sizeof(dig), out), TOK_ERR_PIN_INVALID);
	assert_int_equal(piv_general_auth(piv, 0x9a, PIV_ALG_ECCP256, dig,
	    sizeof(dig), out), TOK_ERR_PIN_REQUIRED);
	done(&c);
	/* A malformed answer, and an empty slot. */
	script(&c, SELECT_CMD, SELECT_OK, GA_HDR DIGEST "00",
	    "7C048202AABB009000",
	    SELECT_CMD, SELECT_OK, GA_HDR DIGEST "00", "6A88", NULL);
	assert_int_equal(piv_general_auth(piv, 0x9a, PIV_ALG_ECCP256, dig,
	    sizeof(dig), out), TOK_ERR_INVALID_FORMAT);
	assert_int_equal(piv_general_auth(piv, 0x9a, PIV_ALG_ECCP256, dig,
	    sizeof(dig), out), TOK_ERR_KEY_NOT_FOUND);
	done(&c);
	buf_free(out);
	piv_free(piv);
}

static void
test_chaining(void **state)
{
	struct fake_card c;
	struct piv *piv;
	struct buf *out;
	u_char block[256];
	char first[700];

	(void)state;
	memset(block, 0x5a, sizeof(block));
	assert_non_null(out = buf_new());
	/*
	 * 7C 82 01 06 { 82 00, 81 82 01 00 <256> }: 266 bytes, sent as
	 * 255 with CLA 10 and then 11.
	 */
	snprintf(first, sizeof(first), "1087079CFF7C820106820081820100");
	script(&c, SELECT_CMD, SELECT_OK, first, "9000",
	    "0087079C0B5A5A", "61FF", "00C00000FF", "9000", NULL);
	assert_int_equal(piv_open(&fake_ops, &c, &piv), 0);
	/* The card's answer is empty: not a 7C template. */
	assert_int_equal(piv_general_auth(piv, 0x9c, PIV_ALG_RSA2048, block,
	    sizeof(block), out), TOK_ERR_INVALID_FORMAT);
	done(&c);
	/* A refused first part stops the chain. */
	script(&c, SELECT_CMD, SELECT_OK, "1087079CFF", "6A80", NULL);
	assert_int_equal(piv_general_auth(piv, 0x9c, PIV_ALG_RSA2048, block,
	    sizeof(block), out), TOK_ERR_DEVICE);
	done(&c);
	buf_free(out);
	piv_free(piv);
}

/* ---- lazy SELECT and checked signatures -------------------------------- */

/* hex of the card's answer to GENERAL AUTHENTICATE: 7C { 82 der } 9000. */
static void
auth_answer(EVP_PKEY *pk, const u_char *dig, size_t diglen, char *hex,
    size_t max)
{
	EVP_PKEY_CTX *ctx;
	u_char der[80], rsp[100];
	size_t derlen = sizeof(der), n = 0, i;

	assert_non_null(ctx = EVP_PKEY_CTX_new(pk, NULL));
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, der, &derlen, dig, diglen), 1);
	EVP_PKEY_CTX_free(ctx);
	rsp[n++] = 0x7c;
	rsp[n++] = derlen + 2;
	rsp[n++] = 0x82;
	rsp[n++] = derlen;
	memcpy(rsp + n, der, derlen);
	n += derlen;
	rsp[n++] = 0x90;
	rsp[n++] = 0x00;
	assert_true(2 * n < max);
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02X", rsp[i]);
}

static void
test_sign_lazy(void **state)
{
	static const u_char data[] = "lazy select";
	struct fake_card c;
	struct piv *piv;
	struct buf *out;
	struct key *k;
	EVP_PKEY *pk = NULL, *other = NULL;
	u_char dig[64];
	size_t diglen;
	char good[256], bad[256];

	(void)state;
	assert_non_null(pk = EVP_EC_gen("P-256"));
	assert_non_null(other = EVP_EC_gen("P-256"));
	assert_int_equal(key_from_evp_public(pk, &k), 0);
	assert_int_equal(key_ecdsa_digest(k, data, sizeof(data), dig,
	    &diglen), 0);
	auth_answer(pk, dig, diglen, good, sizeof(good));
	auth_answer(other, dig, diglen, bad, sizeof(bad));
	assert_non_null(out = buf_new());
	assert_int_equal(piv_open(&fake_ops, &c, &piv), 0);

	/* Not lazy: SELECT every time; a wrong signature never goes out. */
	script(&c, SELECT_CMD, SELECT_OK, "0087119A", good,
	    SELECT_CMD, SELECT_OK, "0087119A", bad, NULL);
	assert_int_equal(piv_sign_ssh(piv, 0x9a, k, 0, data, sizeof(data),
	    out), 0);
	assert_int_equal(key_verify(k, buf_ptr(out), buf_len(out), data,
	    sizeof(data), NULL), 0);
	buf_reset(out);
	assert_int_equal(piv_sign_ssh(piv, 0x9a, k, 0, data, sizeof(data),
	    out), TOK_ERR_SIGNATURE_INVALID);
	assert_int_equal(buf_len(out), 0);
	done(&c);

	/*
	 * Lazy: one APDU while PIV is known selected; after a reset, after
	 * another application's refusal and after a signature that does not
	 * verify, PIV is selected and asked again.
	 */
	piv_set_lazy_select(piv, 1);
	script(&c, "0087119A", good,
	    "0087119A", good,
	    /* Another program selected OpenPGP. */
	    "0087119A", "6D00", SELECT_CMD, SELECT_OK, "0087119A", good,
	    /* Another application answered with something that is no
	     * signature of ours. */
	    "0087119A", bad, SELECT_CMD, SELECT_OK, "0087119A", good,
	    /* Reset. */
	    SELECT_CMD, SELECT_OK, "0087119A", good,
	    /* PIV's 6982 with the PIN verified: the touch; not asked twice. */
	    "0087119A", "6982", SELECT_CMD, SELECT_OK, "0020008000", "9000",
	    NULL);
	/* PIV was selected by the last transaction (its answer was bad). */
	assert_int_equal(piv_sign_ssh(piv, 0x9a, k, 0, data, sizeof(data),
	    out), 0);
	assert_int_equal(c.next, 1);
	assert_int_equal(piv_sign_ssh(piv, 0x9a, k, 0, data, sizeof(data),
	    out), 0);
	assert_int_equal(c.next, 2);
	assert_int_equal(c.begins, 2);
	assert_int_equal(piv_sign_ssh(piv, 0x9a, k, 0, data, sizeof(data),
	    out), 0);
	assert_int_equal(c.next, 5);
	assert_int_equal(piv_sign_ssh(piv, 0x9a, k, 0, data, sizeof(data),
	    out), 0);
	assert_int_equal(c.next, 8);
	c.reset_next = 1;
	assert_int_equal(piv_sign_ssh(piv, 0x9a, k, 0, data, sizeof(data),
	    out), 0);
	assert_int_equal(c.next, 10);
	assert_int_equal(piv_sign_ssh(piv, 0x9a, k, 0, data, sizeof(data),
	    out), TOK_ERR_TOUCH_DENIED);
	done(&c);
	/* A PIN is never sent unselected. */
	script(&c, SELECT_CMD, SELECT_OK, "0020008008313233343536FFFF", "9000",
	    NULL);
	assert_int_equal(piv_verify_pin(piv, "123456", NULL), 0);
	done(&c);
	/* A card that went forgets the selection. */
	c.fail_begin = 1;
	assert_int_equal(piv_sign_ssh(piv, 0x9a, k, 0, data, sizeof(data),
	    out), TOK_ERR_DEVICE_NOT_PRESENT);
	script(&c, SELECT_CMD, SELECT_OK, "0087119A", good, NULL);
	assert_int_equal(piv_sign_ssh(piv, 0x9a, k, 0, data, sizeof(data),
	    out), 0);
	done(&c);
	buf_free(out);
	key_free(k);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(other);
	piv_free(piv);
}

/* ---- administration ---------------------------------------------------- */

static void
test_parse_admin_printed(void **state)
{
	u_char in[128];
	const u_char *k;
	size_t n, klen;
	int flags;

	(void)state;
	n = unhex("8003810102", in, sizeof(in));
	assert_int_equal(piv_parse_admin_data(in, n, &flags), 0);
	assert_int_equal(flags, 2);
	/* Salt and timestamp are skipped; no flags is 0. */
	n = unhex("800F8101038204AABBCCDD830400000001", in, sizeof(in));
	assert_int_equal(piv_parse_admin_data(in, n, &flags), 0);
	assert_int_equal(flags, 3);
	n = unhex("8000", in, sizeof(in));
	assert_int_equal(piv_parse_admin_data(in, n, &flags), 0);
	assert_int_equal(flags, 0);
	/* Duplicate or long flags, leftovers, another tag, a short TLV. */
	n = unhex("8006810102810102", in, sizeof(in));
	assert_int_equal(piv_parse_admin_data(in, n, &flags),
	    TOK_ERR_INVALID_FORMAT);
	n = unhex("800481020202", in, sizeof(in));
	assert_int_not_equal(piv_parse_admin_data(in, n, &flags), 0);
	n = unhex("800381010200", in, sizeof(in));
	assert_int_not_equal(piv_parse_admin_data(in, n, &flags), 0);
	n = unhex("8103810102", in, sizeof(in));
	assert_int_not_equal(piv_parse_admin_data(in, n, &flags), 0);
	n = unhex("800581010", in, sizeof(in));
	assert_int_not_equal(piv_parse_admin_data(in, n, &flags), 0);
	assert_int_equal(flags, 0);

	n = unhex("881A8918" "0102030405060708" "1112131415161718"
	    "2122232425262728", in, sizeof(in));
	assert_int_equal(piv_parse_printed(in, n, &k, &klen), 0);
	assert_int_equal(klen, 24);
	assert_int_equal(k[0], 0x01);
	assert_int_equal(k[23], 0x28);
	/* Other fields skipped; no key; a key of a bad length; two keys. */
	n = unhex("88168A02AAAA8910" "0102030405060708" "1112131415161718",
	    in, sizeof(in));
	assert_int_equal(piv_parse_printed(in, n, &k, &klen), 0);
	assert_int_equal(klen, 16);
	n = unhex("88038A01AA", in, sizeof(in));
	assert_int_equal(piv_parse_printed(in, n, &k, &klen),
	    TOK_ERR_KEY_NOT_FOUND);
	assert_null(k);
	n = unhex("88078905AABBCCDDEE", in, sizeof(in));
	assert_int_equal(piv_parse_printed(in, n, &k, &klen),
	    TOK_ERR_INVALID_FORMAT);
	n = unhex("88248910" "0102030405060708" "1112131415161718"
	    "8910" "0102030405060708" "1112131415161718", in, sizeof(in));
	assert_int_equal(piv_parse_printed(in, n, &k, &klen),
	    TOK_ERR_INVALID_FORMAT);
	assert_null(k);
	assert_int_equal(klen, 0);
	n = unhex("88FF89", in, sizeof(in));
	assert_int_not_equal(piv_parse_printed(in, n, &k, &klen), 0);
}

/* The uncompressed point of a new P-256 key, in hex, into hex[131]. */
static EVP_PKEY *
ec_point_hex(char *hex)
{
	EVP_PKEY *pk;
	u_char pt[65];
	size_t len = 0, i;

	assert_non_null(pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	assert_int_equal(EVP_PKEY_get_octet_string_param(pk, "encoded-pub-key",
	    pt, sizeof(pt), &len), 1);
	assert_int_equal(len, 65);
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02X", pt[i]);
	return pk;
}

static void
test_parse_generate_auth_tag(void **state)
{
	u_char in[256];
	char pt[140], buf[400];
	const u_char *v;
	struct key *k = NULL;
	EVP_PKEY *pk;
	size_t n, vlen;

	(void)state;
	pk = ec_point_hex(pt);
	snprintf(buf, sizeof(buf), "7F49438641%s", pt);
	n = unhex(buf, in, sizeof(in));
	assert_int_equal(piv_parse_generate(in, n, PIV_ALG_ECCP256, &k), 0);
	assert_non_null(k);
	assert_int_equal(EVP_PKEY_eq(key_evp(k), pk), 1);
	key_free(k);
	k = NULL;
	/* The wrong algorithm, a leftover, another tag, a short point. */
	assert_int_not_equal(piv_parse_generate(in, n, PIV_ALG_ECCP384, &k),
	    0);
	assert_int_not_equal(piv_parse_generate(in, n, PIV_ALG_RSA2048, &k),
	    0);
	snprintf(buf, sizeof(buf), "7F49438641%s00", pt);
	n = unhex(buf, in, sizeof(in));
	assert_int_not_equal(piv_parse_generate(in, n, PIV_ALG_ECCP256, &k),
	    0);
	snprintf(buf, sizeof(buf), "7F48438641%s", pt);
	n = unhex(buf, in, sizeof(in));
	assert_int_not_equal(piv_parse_generate(in, n, PIV_ALG_ECCP256, &k),
	    0);
	n = unhex("7F490486020411", in, sizeof(in));
	assert_int_not_equal(piv_parse_generate(in, n, PIV_ALG_ECCP256, &k),
	    0);
	snprintf(buf, sizeof(buf), "7F49468641%s8101AA", pt);
	n = unhex(buf, in, sizeof(in));
	assert_int_not_equal(piv_parse_generate(in, n, PIV_ALG_ECCP256, &k),
	    0);
	assert_null(k);
	EVP_PKEY_free(pk);

	n = unhex("7C0A80080102030405060708", in, sizeof(in));
	assert_int_equal(piv_parse_auth_tag(in, n, 0x80, &v, &vlen), 0);
	assert_int_equal(vlen, 8);
	assert_int_not_equal(piv_parse_auth_tag(in, n, 0x82, &v, &vlen), 0);
	n = unhex("7C0A8008010203040506070800", in, sizeof(in));
	assert_int_not_equal(piv_parse_auth_tag(in, n, 0x80, &v, &vlen), 0);
	n = unhex("7C0C800801020304050607088100", in, sizeof(in));
	assert_int_not_equal(piv_parse_auth_tag(in, n, 0x80, &v, &vlen), 0);
	assert_null(v);
}

#define MGMT_DEFAULT	"010203040506070801020304050607080102030405060708"

/* 3DES-ECB of one block with the default management key. */
static void
des_block(int enc, const char *inhex, char *outhex)
{
	EVP_CIPHER_CTX *ctx;
	u_char key[24], in[8], out[16];
	int n = 0, i;

	unhex(MGMT_DEFAULT, key, sizeof(key));
	unhex(inhex, in, sizeof(in));
	assert_non_null(ctx = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_CipherInit_ex(ctx, EVP_des_ede3_ecb(), NULL, key,
	    NULL, enc), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_CipherUpdate(ctx, out, &n, in, 8), 1);
	assert_int_equal(n, 8);
	EVP_CIPHER_CTX_free(ctx);
	for (i = 0; i < 8; i++)
		snprintf(outhex + 2 * i, 3, "%02X", out[i]);
}

static void
test_mgmt_auth(void **state)
{
	struct fake_card c;
	struct piv *piv;
	u_char key[24];
	char wit[17], step1[64], step2[64];

	(void)state;
	unhex(MGMT_DEFAULT, key, sizeof(key));
	/* The card's witness 0011223344556677, encrypted. */
	des_block(1, "0011223344556677", wit);
	snprintf(step1, sizeof(step1), "7C0A8008%s9000", wit);
	/* The host sends it back in clear, with its challenge. */
	snprintf(step2, sizeof(step2), "0087039B167C1480080011223344556677"
	    "8108");
	script(&c, SELECT_CMD, SELECT_OK, "0087039B047C02800000", step1,
	    step2, "7C0A82080000000000000000" "9000",
	    SELECT_CMD, SELECT_OK, "0087039B047C02800000", step1,
	    step2, "6982",
	    SELECT_CMD, SELECT_OK, "0087039B047C02800000", "6A80",
	    SELECT_CMD, SELECT_OK, "0087039B047C02800000", "7C0480020102" "9000",
	    NULL);
	assert_int_equal(piv_open(&fake_ops, &c, &piv), 0);
	/* A card that cannot encrypt our challenge has not proved the key. */
	assert_int_equal(piv_mgmt_auth(piv, PIV_ALG_3DES, key, 24),
	    TOK_ERR_SIGNATURE_INVALID);
	/* A wrong key. */
	assert_int_equal(piv_mgmt_auth(piv, PIV_ALG_3DES, key, 24),
	    TOK_ERR_PIN_INVALID);
	/* The card's key is of another algorithm. */
	assert_int_equal(piv_mgmt_auth(piv, PIV_ALG_3DES, key, 24),
	    TOK_ERR_KEY_TYPE_MISMATCH);
	/* A witness of the wrong size. */
	assert_int_equal(piv_mgmt_auth(piv, PIV_ALG_3DES, key, 24),
	    TOK_ERR_INVALID_FORMAT);
	/* Bad key lengths are not sent. */
	assert_int_equal(piv_mgmt_auth(piv, PIV_ALG_3DES, key, 16),
	    TOK_ERR_INVALID_ARGUMENT);
	assert_int_equal(piv_mgmt_auth(piv, 0x42, key, 24),
	    TOK_ERR_INVALID_ARGUMENT);
	done(&c);
	piv_free(piv);
}

/* AES-192 (a YubiKey 5.7's default): 16-byte blocks, the same key bytes. */
static void
test_mgmt_auth_aes(void **state)
{
	struct fake_card c;
	struct piv *piv;
	EVP_CIPHER_CTX *ctx;
	u_char key[24], w[16], ew[16];
	char step1[80], step2[80];
	int n = 0, i;

	(void)state;
	unhex(MGMT_DEFAULT, key, sizeof(key));
	memset(w, 0x42, sizeof(w));
	assert_non_null(ctx = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_192_ecb(), NULL, key,
	    NULL), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_EncryptUpdate(ctx, ew, &n, w, 16), 1);
	assert_int_equal(n, 16);
	EVP_CIPHER_CTX_free(ctx);
	snprintf(step1, sizeof(step1), "7C128010");
	for (i = 0; i < 16; i++)
		snprintf(step1 + 8 + 2 * i, 3, "%02X", ew[i]);
	strlcat(step1, "9000", sizeof(step1));
	/* Our answer: the witness in clear (42...), a 16-byte challenge. */
	snprintf(step2, sizeof(step2), "00870A9B267C248010"
	    "42424242424242424242424242424242" "8110");
	script(&c, SELECT_CMD, SELECT_OK, "00870A9B047C02800000", step1,
	    step2, "6982", NULL);
	assert_int_equal(piv_open(&fake_ops, &c, &piv), 0);
	assert_int_equal(piv_mgmt_auth(piv, PIV_ALG_AES192, key, 24),
	    TOK_ERR_PIN_INVALID);
	done(&c);
	assert_int_equal(piv_mgmt_key_len(PIV_ALG_AES128), 16);
	assert_int_equal(piv_mgmt_key_len(PIV_ALG_AES256), 32);
	assert_int_equal(piv_mgmt_key_len(0x11), 0);
	piv_free(piv);
}

static void
test_admin_commands(void **state)
{
	struct fake_card c;
	struct piv *piv;
	struct key *k = NULL;
	struct buf *b;
	EVP_PKEY *pk;
	u_char key[24], der[3] = { 0x30, 0x01, 0x00 };
	char pt[140], gen[400];
	int tries;

	(void)state;
	unhex(MGMT_DEFAULT, key, sizeof(key));
	assert_non_null(b = buf_new());
	pk = ec_point_hex(pt);
	snprintf(gen, sizeof(gen), "7F49438641%s9000", pt);
	/* Held: one transaction, one SELECT for everything. */
	script(&c, SELECT_CMD, SELECT_OK,
	    "0047009A05AC0380011100", gen,
	    "0047008205AC0380011400", "6A80",
	    "0047009A0BAC09800111AA0102AB010300", "6982",
	    "00DB3FFF115C035FC105530A7003300100710100" "FE0000", "9000",
	    "00CB3FFF055C035FFF0000", "53058003810102" "9000",
	    "00CB3FFF055C035FC10900", "6A82",
	    "0024008010313233343536FFFF383736353433323100", "63C1",
	    "00240081103132333435363738383736353433323100", "9000",
	    "00FFFFFE1B039B18" MGMT_DEFAULT "00", "9000",
	    NULL);
	assert_int_equal(piv_open(&fake_ops, &c, &piv), 0);
	assert_int_equal(piv_hold(piv), 0);
	assert_int_equal(piv_hold(piv), TOK_ERR_INVALID_ARGUMENT);
	assert_int_equal(piv_generate(piv, 0x9a, PIV_ALG_ECCP256, 0, 0, &k), 0);
	assert_int_equal(EVP_PKEY_eq(key_evp(k), pk), 1);
	key_free(k);
	/* The card refuses the algorithm. */
	assert_int_equal(piv_generate(piv, 0x82, PIV_ALG_ECCP384, 0, 0, &k),
	    TOK_ERR_FEATURE_UNSUPPORTED);
	assert_int_equal(piv_generate(piv, 0x9a, PIV_ALG_ECCP256,
	    PIV_PIN_POLICY_ONCE, PIV_TOUCH_POLICY_CACHED, &k),
	    TOK_ERR_PIN_REQUIRED);
	assert_null(k);
	/* Refused before sending: the attestation slot, slot 9b, policies. */
	assert_int_equal(piv_generate(piv, 0xf9, PIV_ALG_ECCP256, 0, 0, &k),
	    TOK_ERR_INVALID_ARGUMENT);
	assert_int_equal(piv_generate(piv, 0x9b, PIV_ALG_ECCP256, 0, 0, &k),
	    TOK_ERR_INVALID_ARGUMENT);
	assert_int_equal(piv_generate(piv, 0x9a, PIV_ALG_ECCP256, 4, 0, &k),
	    TOK_ERR_INVALID_ARGUMENT);
	assert_int_equal(piv_write_cert(piv, 0x9a, der, sizeof(der)), 0);
	assert_int_equal(piv_get_object(piv, PIV_OBJ_YK_ADMIN, b), 0);
	assert_int_equal(buf_len(b), 5);
	assert_int_equal(piv_get_object(piv, PIV_OBJ_PRINTED, b),
	    TOK_ERR_KEY_NOT_FOUND);
	assert_int_equal(piv_change_ref(piv, PIV_REF_PIN, "123456", "87654321",
	    &tries), TOK_ERR_PIN_INVALID);
	assert_int_equal(tries, 1);
	assert_int_equal(piv_change_ref(piv, PIV_REF_PUK, "12345678",
	    "87654321", &tries), 0);
	assert_int_equal(piv_change_ref(piv, PIV_REF_PIN, "12345", "87654321",
	    &tries), TOK_ERR_INVALID_ARGUMENT);
	assert_int_equal(piv_change_ref(piv, 0x9b, "123456", "87654321",
	    &tries), TOK_ERR_INVALID_ARGUMENT);
	assert_int_equal(piv_yk_set_mgmt(piv, PIV_ALG_3DES, key, 24, 1), 0);
	assert_int_equal(piv_yk_set_mgmt(piv, PIV_ALG_AES128, key, 24, 0),
	    TOK_ERR_INVALID_ARGUMENT);
	assert_true(c.in_tx);
	piv_release(piv);
	done(&c);
	assert_int_equal(c.begins, 1);
	piv_release(piv);
	EVP_PKEY_free(pk);
	buf_free(b);
	piv_free(piv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlv),
		cmocka_unit_test(test_parse_select),
		cmocka_unit_test(test_parse_metadata),
		cmocka_unit_test(test_parse_cert_object),
		cmocka_unit_test(test_parse_auth_response),
		cmocka_unit_test(test_version_serial),
		cmocka_unit_test(test_get_response),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_general_auth_reverify),
		cmocka_unit_test(test_chaining),
		cmocka_unit_test(test_sign_lazy),
		cmocka_unit_test(test_parse_admin_printed),
		cmocka_unit_test(test_parse_generate_auth_tag),
		cmocka_unit_test(test_mgmt_auth),
		cmocka_unit_test(test_mgmt_auth_aes),
		cmocka_unit_test(test_admin_commands),
	};

	log_init("test_piv", LOG_LEVEL_QUIET, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
