/*
 * libFuzzer harness over the p11 helper's parsers of module output: public
 * keys from CKA_EC_PARAMS/CKA_EC_POINT, CKA_MODULUS/CKA_PUBLIC_EXPONENT and
 * X.509 certificates (pkcs/p11-pubkey.c), and the ELF export check run on
 * provider files (pkcs/p11-elf.c).
 *
 * Input: byte 0 picks the parser; for the two-attribute parsers byte 1 is
 * the length of the first attribute, the rest the second.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "common/key.h"
#include "pkcs/p11-elf.h"
#include "pkcs/p11-pubkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct key *k = NULL;
	size_t alen;
	int r;

	if (len < 2)
		return 0;
	alen = data[1];
	switch (data[0] % 4) {
	case 0:
		if (alen > len - 2)
			return 0;
		r = p11_pubkey_ec(data + 2, alen, data + 2 + alen,
		    len - 2 - alen, &k);
		break;
	case 1:
		if (alen > len - 2)
			return 0;
		r = p11_pubkey_rsa(data + 2, alen, data + 2 + alen,
		    len - 2 - alen, &k);
		break;
	case 2:
		r = p11_pubkey_x509(data + 1, len - 1, &k);
		break;
	default:
		r = p11_elf_has_symbol(data + 1, len - 1, "C_GetFunctionList");
		break;
	}
	if (r != 0 && k != NULL)
		__builtin_trap();	/* outputs are set only on success */
	key_free(k);
	return 0;
}
