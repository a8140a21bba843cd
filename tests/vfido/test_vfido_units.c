/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Unit tests of vfido's building blocks: PIN/UV auth protocols 1 and 2
 * (KDF, encrypt/decrypt, authenticate/verify, both sides), credential ID
 * wrapping, state file parsing, request parsing and CTAPHID framing.
 */
#include "config.h"

#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "common/buf.h"
#include "common/err.h"
#include "tests/vfido/ctaphid.h"
#include "tests/vfido/pinproto.h"
#include "tests/vfido/request.h"
#include "tests/vfido/state.h"
#include "tests/vfido/vkey.h"

static void
pin_roundtrip(int proto)
{
	EVP_PKEY *a = NULL, *b = NULL;
	u_char ax[32], ay[32], bx[32], by[32], za[32], zb[32];
	u_char sa[VFIDO_PIN_SHARED_MAX], sb[VFIDO_PIN_SHARED_MAX];
	u_char pin[64], *enc = NULL, *dec = NULL, mac[VFIDO_PIN_AUTH_MAX];
	u_char z1[32];
	size_t lena, lenb, enclen, declen, maclen;

	assert_int_equal(vfido_pin_ecdh_new(&a), 0);
	assert_int_equal(vfido_pin_ecdh_new(&b), 0);
	assert_int_equal(vfido_pin_ecdh_pub(a, ax, ay), 0);
	assert_int_equal(vfido_pin_ecdh_pub(b, bx, by), 0);
	assert_int_equal(vfido_pin_ecdh(a, bx, by, za), 0);
	assert_int_equal(vfido_pin_ecdh(b, ax, ay, zb), 0);
	assert_memory_equal(za, zb, 32);
	assert_int_equal(vfido_pin_kdf(proto, za, sa, &lena), 0);
	assert_int_equal(vfido_pin_kdf(proto, zb, sb, &lenb), 0);
	assert_int_equal(lena, proto == 1 ? 32 : 64);
	assert_memory_equal(sa, sb, lena);
	if (proto == 1) {
		SHA256(za, 32, z1);
		assert_memory_equal(sa, z1, 32);
	}
	memset(pin, 0, sizeof(pin));
	memcpy(pin, "123456", 6);
	assert_int_equal(vfido_pin_encrypt(proto, sa, lena, pin, sizeof(pin),
	    &enc, &enclen), 0);
	assert_int_equal(enclen, proto == 1 ? 64 : 80);
	assert_int_equal(vfido_pin_decrypt(proto, sb, lenb, enc, enclen,
	    &dec, &declen), 0);
	assert_int_equal(declen, 64);
	assert_memory_equal(dec, pin, 64);
	assert_int_equal(vfido_pin_authenticate(proto, sa, lena, enc, enclen,
	    mac, &maclen), 0);
	assert_int_equal(maclen, proto == 1 ? 16 : 32);
	assert_int_equal(vfido_pin_verify(proto, sb, lenb, enc, enclen, mac,
	    maclen), 0);
	mac[0] ^= 1;
	assert_int_equal(vfido_pin_verify(proto, sb, lenb, enc, enclen, mac,
	    maclen), TOK_ERR_SIGNATURE_INVALID);
	assert_int_equal(vfido_pin_verify(proto, sb, lenb, enc, enclen, mac,
	    maclen - 1), TOK_ERR_SIGNATURE_INVALID);
	free(enc);
	free(dec);
	enc = dec = NULL;
	/* bad lengths */
	assert_int_not_equal(vfido_pin_encrypt(proto, sa, lena, pin, 15,
	    &enc, &enclen), 0);
	assert_int_not_equal(vfido_pin_decrypt(proto, sa, lena, pin, 8,
	    &dec, &declen), 0);
	free(enc);
	free(dec);
	/* a point off the curve */
	memset(bx, 0x11, 32);
	assert_int_equal(vfido_pin_ecdh(a, bx, by, za), TOK_ERR_KEY_INVALID);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

static void
test_pin_proto1(void **state)
{
	(void)state;
	pin_roundtrip(1);
}

static void
test_pin_proto2(void **state)
{
	(void)state;
	pin_roundtrip(2);
}

static void
test_key_wrap(void **state)
{
	u_char master[32], h1[32], h2[32], *id = NULL, *sig = NULL;
	EVP_PKEY *pk = NULL, *back = NULL;
	size_t idlen, siglen;
	uint8_t flags;
	int alg, algs[2] = { VFIDO_COSE_ES256, VFIDO_COSE_EDDSA }, i;

	(void)state;
	memset(master, 7, sizeof(master));
	memset(h1, 1, sizeof(h1));
	memset(h2, 2, sizeof(h2));
	for (i = 0; i < 2; i++) {
		assert_int_equal(vfido_key_generate(algs[i], &pk), 0);
		assert_int_equal(vfido_key_wrap(master, h1, algs[i], 0x05, pk,
		    &id, &idlen), 0);
		assert_true(idlen <= VFIDO_CREDID_MAX);
		assert_int_equal(vfido_key_unwrap(master, h1, id, idlen, &alg,
		    &flags, &back), 0);
		assert_int_equal(alg, algs[i]);
		assert_int_equal(flags, 0x05);
		assert_int_equal(EVP_PKEY_eq(pk, back), 1);
		assert_int_equal(vfido_key_sign(back, alg, h1, 32, &sig,
		    &siglen), 0);
		EVP_PKEY_free(back);
		back = NULL;
		/* other RP, truncated, flipped */
		assert_int_equal(vfido_key_unwrap(master, h2, id, idlen, &alg,
		    &flags, &back), TOK_ERR_KEY_NOT_FOUND);
		assert_int_equal(vfido_key_unwrap(master, h1, id, idlen - 1,
		    &alg, &flags, &back), TOK_ERR_KEY_NOT_FOUND);
		id[idlen / 2] ^= 0x40;
		assert_int_equal(vfido_key_unwrap(master, h1, id, idlen, &alg,
		    &flags, &back), TOK_ERR_KEY_NOT_FOUND);
		assert_null(back);
		free(id);
		free(sig);
		EVP_PKEY_free(pk);
		id = sig = NULL;
		pk = NULL;
	}
}

static void
test_state_parse(void **state)
{
	struct vfido_state *s = NULL;
	static const u_char junk[] = "\0\0\0\x0evfido-state-v1\0\0\0\x20";

	(void)state;
	assert_int_not_equal(vfido_state_parse(junk, sizeof(junk) - 1, &s), 0);
	assert_null(s);
	assert_int_not_equal(vfido_state_parse((const u_char *)"", 0, &s), 0);
}

static void
test_request_parse(void **state)
{
	struct vfido_req *req;
	static const u_char info_trailing[] = { 0x04, 0x00 };
	static const u_char mc_missing[] = { 0x01, 0xa0 };
	static const u_char mc_badkey[] = { 0x01, 0xa1, 0x61, 0x61, 0x01 };
	static const u_char mc_trailing[] = { 0x01, 0xa0, 0x00 };
	static const u_char cp_retries[] = { 0x06, 0xa2, 0x01, 0x01, 0x02,
	    0x01 };
	static const u_char cp_dup[] = { 0x06, 0xa2, 0x02, 0x01, 0x02, 0x01 };

	(void)state;
	assert_non_null(req = calloc(1, sizeof(*req)));
	assert_int_equal(vfido_req_parse(info_trailing, 2, req),
	    VFIDO_CTAP1_INVALID_LENGTH);
	assert_int_equal(vfido_req_parse(mc_missing, 2, req),
	    VFIDO_CTAP2_MISSING_PARAMETER);
	assert_int_equal(vfido_req_parse(mc_badkey, sizeof(mc_badkey), req),
	    VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE);
	assert_int_equal(vfido_req_parse(mc_trailing, sizeof(mc_trailing),
	    req), VFIDO_CTAP1_INVALID_LENGTH);
	assert_int_equal(vfido_req_parse(cp_retries, sizeof(cp_retries), req),
	    VFIDO_CTAP2_OK);
	assert_int_equal(req->u.cp.subcmd, 1);
	assert_int_equal(vfido_req_parse(cp_dup, sizeof(cp_dup), req),
	    VFIDO_CTAP2_INVALID_CBOR);
	free(req);
}

static void
test_ctaphid(void **state)
{
	struct vfido_hid *h = NULL;
	struct vfido_hid_event ev;
	struct buf *o1, *o2;
	u_char rep[64], cont[64];
	const u_char *out;

	(void)state;
	assert_int_equal(vfido_hid_new(&h), 0);
	assert_non_null(o1 = vfido_hid_new_output());
	assert_non_null(o2 = vfido_hid_new_output());
	memset(rep, 0, sizeof(rep));
	memset(rep, 0xff, 4);
	rep[4] = 0x86;
	rep[6] = 8;
	memcpy(rep + 7, "abcdefgh", 8);
	assert_int_equal(vfido_hid_input(h, rep, 0, o1, &ev), 0);
	assert_int_equal(ev.type, VFIDO_HID_EV_NONE);
	assert_int_equal(buf_len(o1), 64);
	assert_int_equal(buf_len(o2), 0);
	out = buf_ptr(o1);
	assert_int_equal(out[4], 0x86);
	assert_memory_equal(out + 7, "abcdefgh", 8);
	memcpy(rep, out + 15, 4);	/* the new channel */
	assert_int_equal(buf_consume(o1, 64), 0);
	rep[4] = 0x90;
	rep[5] = 0;
	rep[6] = 1;
	rep[7] = 0x04;
	/* the channel is the device's: another opener may use it */
	assert_int_equal(vfido_hid_input(h, rep, 0, o2, &ev), 0);
	assert_int_equal(ev.type, VFIDO_HID_EV_REQUEST);
	assert_int_equal(ev.len, 1);
	assert_int_equal(ev.data[0], 0x04);
	/* U2F is not offered */
	rep[4] = 0x83;
	assert_int_equal(vfido_hid_input(h, rep, 0, o2, &ev), 0);
	assert_int_equal(ev.type, VFIDO_HID_EV_NONE);
	out = buf_ptr(o2);
	assert_int_equal(out[4], 0xbf);
	assert_int_equal(out[7], VFIDO_HID_ERR_INVALID_CMD);
	assert_int_equal(buf_consume(o2, 64), 0);
	/* half a message from one opener makes the device busy for all */
	rep[4] = 0x90;
	rep[6] = 100;
	assert_int_equal(vfido_hid_input(h, rep, 0, o1, &ev), 0);
	assert_int_equal(vfido_hid_deadline(h), VFIDO_HID_MSG_TIMEOUT_MS);
	memset(cont, 0, sizeof(cont));
	memset(cont, 0xff, 4);
	cont[4] = 0x86;
	cont[6] = 8;
	assert_int_equal(vfido_hid_input(h, cont, 0, o2, &ev), 0);
	memcpy(cont, buf_ptr(o2) + 15, 4);	/* o2's own channel */
	assert_int_equal(buf_consume(o2, 64), 0);
	cont[4] = 0x81;
	cont[6] = 0;
	assert_int_equal(vfido_hid_input(h, cont, 0, o2, &ev), 0);
	out = buf_ptr(o2);
	assert_int_equal(out[4], 0xbf);
	assert_int_equal(out[7], VFIDO_HID_ERR_CHANNEL_BUSY);
	assert_int_equal(buf_consume(o2, 64), 0);
	/* ... and times out to the opener that began it */
	assert_int_equal(vfido_hid_tick(h, VFIDO_HID_MSG_TIMEOUT_MS), 0);
	assert_int_equal(buf_len(o2), 0);
	out = buf_ptr(o1);
	assert_int_equal(out[4], 0xbf);
	assert_int_equal(out[7], VFIDO_HID_ERR_MSG_TIMEOUT);
	/* an opener that left gets nothing, and nothing breaks */
	assert_int_equal(vfido_hid_input(h, rep, 1000, o2, &ev), 0);
	vfido_hid_detach(h, o2);
	assert_int_equal(vfido_hid_tick(h, 1000 + VFIDO_HID_MSG_TIMEOUT_MS), 0);
	assert_int_equal(vfido_hid_deadline(h), -1);
	buf_free(o1);
	buf_free(o2);
	vfido_hid_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_proto1),
		cmocka_unit_test(test_pin_proto2),
		cmocka_unit_test(test_key_wrap),
		cmocka_unit_test(test_state_parse),
		cmocka_unit_test(test_request_parse),
		cmocka_unit_test(test_ctaphid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
