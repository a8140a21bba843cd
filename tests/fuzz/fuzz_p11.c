/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness over the p11 helper's parsers of module output: public
 * keys from CKA_EC_PARAMS/CKA_EC_POINT, CKA_MODULUS/CKA_PUBLIC_EXPONENT and
 * X.509 certificates (pkcs/p11-pubkey.c), and the ELF export check run on
 * provider files (pkcs/p11-elf.c).  Built by tests/fuzz/p11.mk; seeds in
 * tests/fuzz/seeds/fuzz_p11 (made by tests/fuzz/seeds/mkseeds-p11.sh).
 *
 * Input: byte 0 picks the parser (mod 4):
 *	0  byte 1 = length L of CKA_EC_PARAMS, then L bytes of it, the rest
 *	   is CKA_EC_POINT
 *	1  byte 1 = length L of CKA_PUBLIC_EXPONENT, then L bytes of it, the
 *	   rest is CKA_MODULUS (so moduli of any size fit)
 *	2  the rest is a DER certificate (CKA_VALUE)
 *	3  the rest is an ELF image checked for C_GetFunctionList
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/key.h"
#include "pkcs/p11-elf.h"
#include "pkcs/p11-pubkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct key *k = NULL;
	const uint8_t *a, *b;
	size_t alen, blen;
	int r;

	if (len < 2)
		return 0;
	alen = data[1];
	if (alen > len - 2)
		alen = len - 2;
	a = data + 2;
	b = a + alen;
	blen = len - 2 - alen;
	switch (data[0] % 4) {
	case 0:
		r = p11_pubkey_ec(a, alen, b, blen, &k);
		break;
	case 1:
		r = p11_pubkey_rsa(b, blen, a, alen, &k);
		break;
	case 2:
		r = p11_pubkey_x509(data + 1, len - 1, &k);
		break;
	default:
		r = p11_elf_has_symbol(data + 1, len - 1, "C_GetFunctionList");
		if (r != 0 && r != TOK_ERR_INVALID_FORMAT &&
		    r != TOK_ERR_PROVIDER_REFUSED)
			__builtin_trap();	/* only these two failures */
		return 0;
	}
	/* The key is set on success, and only then. */
	if ((r != 0) != (k == NULL))
		__builtin_trap();
	key_free(k);
	return 0;
}
