/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness over the key parsers: public blobs (plain and
 * certificates), ADD_IDENTITY private encodings, signature verification and
 * public key lines, and raw ML-DSA-44 (verification, expanded private keys,
 * key generation from a seed).  The first input byte picks the parser.
 */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/mldsa44.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static void
fuzz_blob(const uint8_t *d, size_t len)
{
	struct key *k = NULL, *k2 = NULL;
	struct buf *b;
	char *fp = NULL, *line = NULL;
	const char *reason;

	if (key_from_blob(d, len, &k) != 0)
		return;
	/* A parsed blob re-encodes to itself. */
	if ((b = buf_new()) == NULL)
		abort();
	if (key_to_blob(k, b) != 0 || buf_len(b) != len ||
	    memcmp(buf_ptr(b), d, len) != 0)
		abort();
	if (key_fingerprint(k, &fp) != 0)
		abort();
	if (key_to_line(k, "c", &line) != 0 ||
	    key_from_authorized_line(line, &k2, NULL) != 0 ||
	    !key_equal(k, k2))
		abort();
	if (key_is_cert(k))
		(void)key_cert_check_authority(k, key_cert_type(k) ==
		    KEY_CERT_TYPE_HOST, "alice", 1700000000, &reason);
	free(fp);
	free(line);
	buf_free(b);
	key_free(k);
	key_free(k2);
}

static void
fuzz_private(const uint8_t *d, size_t len)
{
	struct key *k = NULL;
	struct buf *m, *out;
	char *comment = NULL;

	if ((m = buf_from(d, len)) == NULL)
		return;
	if (key_private_from_agent(m, &k, &comment) == 0) {
		if ((out = buf_new()) == NULL)
			abort();
		if (key_private_to_agent(k, comment, out) != 0)
			abort();
		buf_reset(out);
		if (!key_is_sk(k) && (key_sign(k, d, len > 64 ? 64 : len,
		    KEY_AGENT_RSA_SHA2_256, out) != 0 ||
		    key_verify(k, buf_ptr(out), buf_len(out), d,
		    len > 64 ? 64 : len, NULL) != 0))
			abort();
		buf_free(out);
		key_free(k);
		free(comment);
	} else if (buf_len(m) != len)
		abort();	/* failure must not consume */
	buf_free(m);
}

static void
fuzz_verify(const uint8_t *d, size_t len)
{
	struct buf *b;
	struct key *k = NULL;
	const u_char *blob, *sig;
	size_t bloblen, siglen;
	uint8_t fl;
	uint32_t ctr;

	if ((b = buf_from(d, len)) == NULL)
		return;
	if (buf_get_string_direct(b, &blob, &bloblen) != 0 ||
	    buf_get_string_direct(b, &sig, &siglen) != 0 ||
	    key_from_blob(blob, bloblen, &k) != 0)
		goto out;
	(void)key_verify(k, sig, siglen, buf_ptr(b), buf_len(b), NULL);
	(void)key_sig_check_format(k, sig, siglen, 0);
	(void)key_sig_check_format(k, sig, siglen, KEY_AGENT_RSA_SHA2_512);
	(void)key_sk_sig_parse(k, sig, siglen, &fl, &ctr);
	if (key_is_cert(k))
		(void)key_cert_verify_signature(k);
 out:
	key_free(k);
	buf_free(b);
}

static void
fuzz_line(const uint8_t *d, size_t len)
{
	struct key *k = NULL;
	char *s, *comment = NULL;

	if ((s = malloc(len + 1)) == NULL)
		return;
	memcpy(s, d, len);
	s[len] = '\0';
	if (key_from_authorized_line(s, &k, &comment) == 0) {
		key_free(k);
		free(comment);
	}
	free(s);
}

/*
 * Raw ML-DSA-44: pk || signature || message with OpenSSH's composite label
 * as context; the first 2560 bytes as an encoded private key; the first 32
 * as a seed.  Keys that parse must sign, and their signatures verify.
 */
static void
fuzz_mldsa(const uint8_t *d, size_t len)
{
	static const char label[] = "COMPSIG-MLDSA44-Ed25519-SHA512";
	const size_t pksig = MLDSA44_PK_LEN + MLDSA44_SIG_LEN;
	struct mldsa44_key *k = NULL;
	u_char sig[MLDSA44_SIG_LEN];

	if (len >= pksig)
		(void)mldsa44_verify(d, MLDSA44_PK_LEN, d + pksig, len - pksig,
		    (const u_char *)label, sizeof(label) - 1,
		    d + MLDSA44_PK_LEN, MLDSA44_SIG_LEN);
	if (len >= MLDSA44_SK_LEN)
		(void)mldsa44_key_from_sk(d, MLDSA44_SK_LEN, &k);
	if (k == NULL && len >= MLDSA44_SEED_LEN &&
	    mldsa44_key_from_seed(d, &k) != 0)
		abort();
	if (k == NULL)
		return;
	if (mldsa44_sign(k, d, len, NULL, 0, sig) != 0 ||
	    mldsa44_verify(mldsa44_key_public(k), MLDSA44_PK_LEN, d, len,
	    NULL, 0, sig, sizeof(sig)) != 0)
		abort();
	mldsa44_key_free(k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_blob(data + 1, len - 1);
		break;
	case 1:
		fuzz_private(data + 1, len - 1);
		break;
	case 2:
		fuzz_verify(data + 1, len - 1);
		break;
	case 3:
		fuzz_line(data + 1, len - 1);
		break;
	default:
		fuzz_mldsa(data + 1, len - 1);
		break;
	}
	return 0;
}
