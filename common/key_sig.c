/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* SSH signatures: sign, verify, format checks, certificates (see key.h). */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/key_impl.h"
#include "common/match.h"

#define KEY_SIG_ALG_MAX		128
#define KEY_CERT_NONCE_LEN	32

/* A signature blob taken apart; pointers refer into the caller's blob. */
struct key_sigparts {
	char alg[KEY_SIG_ALG_MAX];
	const EVP_MD *md;	/* NULL for Ed25519 */
	const u_char *sig;	/* Ed25519 / RSA signature bytes */
	size_t siglen;
	const u_char *r, *s;	/* ECDSA, leading zeros stripped */
	size_t rlen, slen;
	uint8_t sk_flags;
	uint32_t sk_counter;
};

const EVP_MD *
key_rsa_md(uint32_t agent_flags, const char **algp)
{
	if ((agent_flags & KEY_AGENT_RSA_SHA2_512) != 0) {
		*algp = "rsa-sha2-512";
		return EVP_sha512();
	}
	if ((agent_flags & KEY_AGENT_RSA_SHA2_256) != 0) {
		*algp = "rsa-sha2-256";
		return EVP_sha256();
	}
	*algp = "ssh-rsa";
	return EVP_sha1();
}

static const EVP_MD *
key_ec_md(const struct key_kt *kt)
{
	switch (kt->bits) {
	case 256:
		return EVP_sha256();
	case 384:
		return EVP_sha384();
	case 521:
		return EVP_sha512();
	}
	return NULL;
}

const char *
key_sig_alg(const struct key *k, uint32_t agent_flags)
{
	const char *alg = NULL;

	if (k == NULL)
		return NULL;
	if (k->kt->type == KEY_RSA) {
		(void)key_rsa_md(agent_flags, &alg);
		return alg;
	}
	return k->kt->name;
}

/* Append string(mpint r || mpint s) for ECDSA. */
static int
key_put_ecdsa_rs(const u_char *r, size_t rlen, const u_char *s, size_t slen,
    struct buf *out)
{
	struct buf *inner;
	int ret;

	if ((inner = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((ret = buf_put_bignum2_bytes(inner, r, rlen)) == 0 &&
	    (ret = buf_put_bignum2_bytes(inner, s, slen)) == 0)
		ret = buf_put_stringb(out, inner);
	buf_free(inner);
	return ret;
}

/* Append string(mpint r || mpint s) from a DER ECDSA-Sig-Value. */
static int
key_put_ecdsa_der(const struct key_kt *kt, const u_char *der, size_t derlen,
    struct buf *out)
{
	ECDSA_SIG *esig = NULL;
	const BIGNUM *br, *bs;
	const u_char *p = der;
	u_char r[66], s[66];
	int rlen, slen, ret = TOK_ERR_SIGNATURE_INVALID;

	if (derlen > 256 || (esig = d2i_ECDSA_SIG(NULL, &p,
	    (long)derlen)) == NULL || p != der + derlen)
		goto out;
	ECDSA_SIG_get0(esig, &br, &bs);
	if (BN_is_zero(br) || BN_is_zero(bs) ||
	    (size_t)BN_num_bytes(br) > kt->fieldlen ||
	    (size_t)BN_num_bytes(bs) > kt->fieldlen)
		goto out;
	rlen = BN_bn2bin(br, r);
	slen = BN_bn2bin(bs, s);
	if (rlen <= 0 || slen <= 0) {
		ret = TOK_ERR_LIBCRYPTO;
		goto out;
	}
	ret = key_put_ecdsa_rs(r, (size_t)rlen, s, (size_t)slen, out);
 out:
	ECDSA_SIG_free(esig);
	return ret;
}

int
key_sign(const struct key *k, const u_char *data, size_t datalen,
    uint32_t agent_flags, struct buf *sigout)
{
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md = NULL;
	const char *alg;
	u_char *sig = NULL;
	size_t slen = 0, alloclen = 0;
	int r = TOK_ERR_INTERNAL;

	if (k == NULL || sigout == NULL || (data == NULL && datalen != 0))
		return TOK_ERR_INVALID_ARGUMENT;
	if (key_is_sk(k))
		return TOK_ERR_KEY_TYPE_MISMATCH;
	if (!k->has_private)
		return TOK_ERR_KEY_NOT_FOUND;
	if (k->kt->type == KEY_MLDSA44_ED25519)
		return key_mldsa_sign(k, data, datalen, sigout);
	alg = k->kt->name;
	switch (k->kt->type) {
	case KEY_ED25519:
		break;
	case KEY_ECDSA:
		md = key_ec_md(k->kt);
		break;
	case KEY_RSA:
		md = key_rsa_md(agent_flags, &alg);
		break;
	default:
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	}
	alloclen = (size_t)EVP_PKEY_get_size(k->pkey);
	if (alloclen == 0 || alloclen > 4096)
		return TOK_ERR_LIBCRYPTO;
	if ((sig = malloc(alloclen)) == NULL)
		return TOK_ERR_ALLOC;
	slen = alloclen;
	r = TOK_ERR_LIBCRYPTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, md, NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &slen, data, datalen) != 1)
		goto out;
	if ((r = buf_put_cstring(sigout, alg)) != 0)
		goto out;
	switch (k->kt->type) {
	case KEY_ED25519:
		if (slen != KEY_ED25519_SIG_LEN) {
			r = TOK_ERR_LIBCRYPTO;
			goto out;
		}
		r = buf_put_string(sigout, sig, slen);
		break;
	case KEY_ECDSA:
		r = key_put_ecdsa_der(k->kt, sig, slen, sigout);
		break;
	default:
		if (slen != alloclen) {
			r = TOK_ERR_LIBCRYPTO;
			goto out;
		}
		r = buf_put_string(sigout, sig, slen);
		break;
	}
 out:
	EVP_MD_CTX_free(ctx);
	freezero(sig, alloclen);
	return r;
}

/* Parse an ECDSA string(mpint r, mpint s) whose contents are p/len. */
static int
key_parse_ecdsa_rs(const struct key_kt *kt, const u_char *p, size_t len,
    struct key_sigparts *sp)
{
	struct buf *b;
	int r = TOK_ERR_INVALID_FORMAT;

	if ((b = buf_from(p, len)) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_get_bignum2_bytes_direct(b, &sp->r, &sp->rlen)) != 0 ||
	    (r = buf_get_bignum2_bytes_direct(b, &sp->s, &sp->slen)) != 0 ||
	    (r = buf_expect_empty(b)) != 0)
		goto out;
	if (sp->rlen == 0 || sp->slen == 0 || sp->rlen > kt->fieldlen ||
	    sp->slen > kt->fieldlen) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	r = 0;
 out:
	buf_free(b);
	return r;
}

/* Take apart a signature blob made by key k; no crypto. */
static int
key_sig_parse(const struct key *k, const u_char *sig, size_t siglen,
    struct key_sigparts *sp)
{
	struct buf *b = NULL;
	const u_char *alg, *p;
	size_t alglen, len;
	const char *ralg;
	int r = TOK_ERR_INVALID_FORMAT;

	memset(sp, 0, sizeof(*sp));
	if (k == NULL || (sig == NULL && siglen != 0))
		return TOK_ERR_INVALID_ARGUMENT;
	if ((b = buf_from(sig, siglen)) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_get_string_direct(b, &alg, &alglen)) != 0)
		goto out;
	if (alglen == 0 || alglen >= sizeof(sp->alg) ||
	    memchr(alg, '\0', alglen) != NULL) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	memcpy(sp->alg, alg, alglen);
	sp->alg[alglen] = '\0';
	if (k->kt->type == KEY_RSA) {
		if (strcmp(sp->alg, "rsa-sha2-512") == 0)
			sp->md = key_rsa_md(KEY_AGENT_RSA_SHA2_512, &ralg);
		else if (strcmp(sp->alg, "rsa-sha2-256") == 0)
			sp->md = key_rsa_md(KEY_AGENT_RSA_SHA2_256, &ralg);
		else if (strcmp(sp->alg, "ssh-rsa") == 0)
			sp->md = key_rsa_md(0, &ralg);
		else {
			r = TOK_ERR_KEY_TYPE_MISMATCH;
			goto out;
		}
	} else if (strcmp(sp->alg, k->kt->name) != 0) {
		r = TOK_ERR_KEY_TYPE_MISMATCH;
		goto out;
	}
	if ((r = buf_get_string_direct(b, &p, &len)) != 0)
		goto out;
	switch (k->kt->type) {
	case KEY_ED25519:
	case KEY_ED25519_SK:
		if (len != KEY_ED25519_SIG_LEN) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		sp->sig = p;
		sp->siglen = len;
		break;
	case KEY_ECDSA:
	case KEY_ECDSA_SK:
		sp->md = key_ec_md(k->kt);
		if ((r = key_parse_ecdsa_rs(k->kt, p, len, sp)) != 0)
			goto out;
		break;
	case KEY_RSA:
		if (len == 0 || len > (size_t)EVP_PKEY_get_size(k->pkey)) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		sp->sig = p;
		sp->siglen = len;
		break;
	case KEY_MLDSA44_ED25519:
		if (len != KEY_MLDSA_SIG_LEN) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		sp->sig = p;
		sp->siglen = len;
		break;
	default:
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if (key_is_sk(k) && ((r = buf_get_u8(b, &sp->sk_flags)) != 0 ||
	    (r = buf_get_u32(b, &sp->sk_counter)) != 0))
		goto out;
	if ((r = buf_expect_empty(b)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(b);
	return r;
}

/* Signature algorithm name for a (possibly certificate) algorithm name. */
static int
key_alg_plain(const char *alg, char *out, size_t outlen)
{
	static const char suffix[] = "-cert-v01@openssh.com";
	size_t len = strlen(alg), slen = sizeof(suffix) - 1;

	if (len > slen && strcmp(alg + len - slen, suffix) == 0) {
		if (strncmp(alg, "sk-", 3) == 0) {
			if (snprintf(out, outlen, "%.*s@openssh.com",
			    (int)(len - slen), alg) >= (int)outlen)
				return TOK_ERR_INVALID_ARGUMENT;
		} else if (snprintf(out, outlen, "%.*s", (int)(len - slen),
		    alg) >= (int)outlen)
			return TOK_ERR_INVALID_ARGUMENT;
		return 0;
	}
	if (strlcpy(out, alg, outlen) >= outlen)
		return TOK_ERR_INVALID_ARGUMENT;
	return 0;
}

static int
key_verify_evp(EVP_PKEY *pk, const EVP_MD *md, const u_char *sig,
    size_t siglen, const u_char *data, size_t datalen)
{
	EVP_MD_CTX *ctx;
	int r = TOK_ERR_SIGNATURE_INVALID;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return TOK_ERR_ALLOC;
	if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) != 1) {
		r = TOK_ERR_LIBCRYPTO;
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, siglen, data, datalen) == 1)
		r = 0;
 out:
	EVP_MD_CTX_free(ctx);
	return r;
}

static int
key_verify_ecdsa(EVP_PKEY *pk, const struct key_sigparts *sp,
    const u_char *data, size_t datalen)
{
	ECDSA_SIG *esig = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	u_char *der = NULL;
	int derlen, r = TOK_ERR_LIBCRYPTO;

	if ((esig = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(sp->r, (int)sp->rlen, NULL)) == NULL ||
	    (bs = BN_bin2bn(sp->s, (int)sp->slen, NULL)) == NULL)
		goto out;
	if (ECDSA_SIG_set0(esig, br, bs) != 1)
		goto out;
	br = bs = NULL;
	if ((derlen = i2d_ECDSA_SIG(esig, &der)) <= 0)
		goto out;
	r = key_verify_evp(pk, sp->md, der, (size_t)derlen, data, datalen);
 out:
	OPENSSL_free(der);
	ECDSA_SIG_free(esig);
	BN_free(br);
	BN_free(bs);
	return r;
}

int
key_verify(const struct key *k, const u_char *sig, size_t siglen,
    const u_char *data, size_t datalen, const char *alg)
{
	struct key_sigparts sp;
	char want[KEY_SIG_ALG_MAX];
	u_char signedbuf[32 + 1 + 4 + 32], *pad = NULL;
	unsigned int mdlen;
	size_t modlen = 0;
	int r = TOK_ERR_INTERNAL;

	if (k == NULL || (sig == NULL && siglen != 0) ||
	    (data == NULL && datalen != 0))
		return TOK_ERR_INVALID_ARGUMENT;
	if ((r = key_sig_parse(k, sig, siglen, &sp)) != 0)
		return r;
	if (alg != NULL) {
		if ((r = key_alg_plain(alg, want, sizeof(want))) != 0)
			return TOK_ERR_KEY_TYPE_MISMATCH;
		if (strcmp(want, sp.alg) != 0)
			return TOK_ERR_KEY_TYPE_MISMATCH;
	}
	switch (k->kt->type) {
	case KEY_ED25519:
		return key_verify_evp(k->pkey, NULL, sp.sig, sp.siglen,
		    data, datalen);
	case KEY_ECDSA:
		return key_verify_ecdsa(k->pkey, &sp, data, datalen);
	case KEY_MLDSA44_ED25519:
		return key_mldsa_verify(k, sp.sig, sp.siglen, data, datalen);
	case KEY_RSA:
		modlen = (size_t)EVP_PKEY_get_size(k->pkey);
		if (sp.siglen == modlen)
			return key_verify_evp(k->pkey, sp.md, sp.sig,
			    sp.siglen, data, datalen);
		/* Shorter signatures are left-padded, as OpenSSH does. */
		if ((pad = calloc(1, modlen)) == NULL)
			return TOK_ERR_ALLOC;
		memcpy(pad + modlen - sp.siglen, sp.sig, sp.siglen);
		r = key_verify_evp(k->pkey, sp.md, pad, modlen, data, datalen);
		free(pad);
		return r;
	case KEY_ED25519_SK:
	case KEY_ECDSA_SK:
		/* PROTOCOL.u2f: what the authenticator actually signed. */
		mdlen = 32;
		if (EVP_Digest(k->sk_application,
		    strlen(k->sk_application), signedbuf, &mdlen,
		    EVP_sha256(), NULL) != 1)
			return TOK_ERR_LIBCRYPTO;
		signedbuf[32] = sp.sk_flags;
		signedbuf[33] = sp.sk_counter >> 24;
		signedbuf[34] = sp.sk_counter >> 16;
		signedbuf[35] = sp.sk_counter >> 8;
		signedbuf[36] = sp.sk_counter;
		mdlen = 32;
		if (EVP_Digest(data, datalen, signedbuf + 37, &mdlen,
		    EVP_sha256(), NULL) != 1)
			return TOK_ERR_LIBCRYPTO;
		if (k->kt->type == KEY_ED25519_SK)
			return key_verify_evp(k->pkey, NULL, sp.sig,
			    sp.siglen, signedbuf, sizeof(signedbuf));
		return key_verify_ecdsa(k->pkey, &sp, signedbuf,
		    sizeof(signedbuf));
	default:
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	}
}

int
key_sig_check_format(const struct key *k, const u_char *sig, size_t siglen,
    uint32_t agent_flags)
{
	struct key_sigparts sp;
	int r;

	if ((r = key_sig_parse(k, sig, siglen, &sp)) != 0)
		return r;
	if (k->kt->type == KEY_RSA) {
		if (strcmp(sp.alg, key_sig_alg(k, agent_flags)) != 0)
			return TOK_ERR_KEY_TYPE_MISMATCH;
		if (sp.siglen != (size_t)EVP_PKEY_get_size(k->pkey))
			return TOK_ERR_INVALID_FORMAT;
	}
	return 0;
}

int
key_sig_get_alg(const u_char *sig, size_t siglen, char **algp)
{
	struct buf *b;
	int r;

	*algp = NULL;
	if (sig == NULL || siglen == 0)
		return TOK_ERR_INVALID_FORMAT;
	if ((b = buf_from(sig, siglen)) == NULL)
		return TOK_ERR_ALLOC;
	r = buf_get_cstring(b, algp, NULL);
	buf_free(b);
	return r;
}

/* ---- Security keys -------------------------------------------------- */

int
key_sk_sig_wrap(const struct key *k, const u_char *sig, size_t siglen,
    uint8_t sk_flags, uint32_t counter, struct buf *sigout)
{
	int r;

	if (!key_is_sk(k) || sig == NULL || sigout == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((r = buf_put_cstring(sigout, k->kt->name)) != 0)
		return r;
	if (k->kt->type == KEY_ED25519_SK) {
		if (siglen != KEY_ED25519_SIG_LEN)
			return TOK_ERR_SIGNATURE_INVALID;
		r = buf_put_string(sigout, sig, siglen);
	} else
		r = key_put_ecdsa_der(k->kt, sig, siglen, sigout);
	if (r != 0 || (r = buf_put_u8(sigout, sk_flags)) != 0 ||
	    (r = buf_put_u32(sigout, counter)) != 0)
		return r;
	return 0;
}

int
key_sk_sig_from_parts(const struct key *k, const u_char *r, size_t rlen,
    const u_char *s, size_t slen, uint8_t sk_flags, uint32_t counter,
    struct buf *sigout)
{
	int ret;

	if (!key_is_sk(k) || r == NULL || sigout == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if (k->kt->type == KEY_ED25519_SK)
		return key_sk_sig_wrap(k, r, rlen, sk_flags, counter, sigout);
	/* The same checks as for a DER signature: no zero, none too long. */
	while (rlen > 0 && *r == 0) {
		r++;
		rlen--;
	}
	while (s != NULL && slen > 0 && *s == 0) {
		s++;
		slen--;
	}
	if (s == NULL || rlen == 0 || slen == 0 || rlen > k->kt->fieldlen ||
	    slen > k->kt->fieldlen)
		return TOK_ERR_SIGNATURE_INVALID;
	if ((ret = buf_put_cstring(sigout, k->kt->name)) != 0 ||
	    (ret = key_put_ecdsa_rs(r, rlen, s, slen, sigout)) != 0 ||
	    (ret = buf_put_u8(sigout, sk_flags)) != 0 ||
	    (ret = buf_put_u32(sigout, counter)) != 0)
		return ret;
	return 0;
}

int
key_sk_sig_parse(const struct key *k, const u_char *sig, size_t siglen,
    uint8_t *sk_flagsp, uint32_t *counterp)
{
	struct key_sigparts sp;
	int r;

	if (sk_flagsp != NULL)
		*sk_flagsp = 0;
	if (counterp != NULL)
		*counterp = 0;
	if (!key_is_sk(k))
		return TOK_ERR_KEY_TYPE_MISMATCH;
	if ((r = key_sig_parse(k, sig, siglen, &sp)) != 0)
		return r;
	if (sk_flagsp != NULL)
		*sk_flagsp = sp.sk_flags;
	if (counterp != NULL)
		*counterp = sp.sk_counter;
	return 0;
}

/* ---- Certificates ---------------------------------------------------- */

int
key_cert_verify_signature(const struct key *k)
{
	const struct key *ca;
	const u_char *sig;
	char *alg = NULL;
	int r = TOK_ERR_INTERNAL;

	if (!key_is_cert(k))
		return TOK_ERR_INVALID_ARGUMENT;
	ca = k->cert->signature_key;
	if (ca == NULL || key_is_cert(ca))
		return TOK_ERR_CERT_INVALID;
	sig = k->blob + k->cert->sig_off;
	if ((r = key_sig_get_alg(sig, k->cert->sig_len, &alg)) != 0)
		return TOK_ERR_CERT_INVALID;
	/* Like OpenSSH's default CASignatureAlgorithms: no SHA-1. */
	if (strcmp(alg, "ssh-rsa") == 0) {
		r = TOK_ERR_CERT_INVALID;
		goto out;
	}
	r = key_verify(ca, sig, k->cert->sig_len, k->blob,
	    k->cert->signed_len, NULL);
	if (r != 0 && r != TOK_ERR_SIGNATURE_INVALID)
		r = TOK_ERR_CERT_INVALID;
 out:
	free(alg);
	return r;
}

int
key_cert_check_authority(const struct key *k, int want_host,
    const char *principal, uint64_t now, const char **reasonp)
{
	const char *reason = NULL;
	size_t i;
	int found, r = TOK_ERR_CERT_INVALID;

	if (reasonp != NULL)
		*reasonp = NULL;
	if (!key_is_cert(k)) {
		reason = "Key is not a certificate";
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (want_host && k->cert->type != KEY_CERT_TYPE_HOST) {
		reason = "Certificate invalid: not a host certificate";
		goto out;
	}
	if (!want_host && k->cert->type != KEY_CERT_TYPE_USER) {
		reason = "Certificate invalid: not a user certificate";
		goto out;
	}
	if ((r = key_cert_verify_signature(k)) != 0) {
		reason = "Certificate signature invalid";
		goto out;
	}
	r = TOK_ERR_CERT_INVALID;
	if (now < k->cert->valid_after) {
		reason = "Certificate invalid: not yet valid";
		goto out;
	}
	if (now >= k->cert->valid_before) {
		reason = "Certificate invalid: expired";
		goto out;
	}
	if (principal != NULL) {
		if (k->cert->nprincipals == 0) {
			reason = "Certificate lacks principal list";
			goto out;
		}
		for (found = 0, i = 0; !found && i < k->cert->nprincipals;
		    i++) {
			if (want_host)
				found = match_pattern(principal,
				    k->cert->principals[i]);
			else
				found = strcmp(principal,
				    k->cert->principals[i]) == 0;
		}
		if (!found) {
			reason = "Certificate invalid: name is not a listed "
			    "principal";
			goto out;
		}
	}
	if (want_host && k->cert->critlen != 0) {
		reason = "Certificate contains unsupported critical options";
		goto out;
	}
	r = 0;
 out:
	if (reasonp != NULL)
		*reasonp = reason;
	return r;
}

int
key_cert_make(const struct key *k, const struct key *ca, uint32_t type,
    uint64_t serial, const char *key_id, const char *const *principals,
    size_t nprincipals, uint64_t valid_after, uint64_t valid_before,
    const u_char *critical, size_t critlen, const u_char *extensions,
    size_t extlen, uint32_t sig_flags, struct key **certp)
{
	struct buf *b = NULL, *pb = NULL, *sig = NULL, *plain = NULL;
	struct key *c = NULL;
	u_char nonce[KEY_CERT_NONCE_LEN];
	size_t i;
	int r = TOK_ERR_INTERNAL;

	*certp = NULL;
	if (k == NULL || ca == NULL || key_is_cert(k) || key_is_cert(ca) ||
	    !ca->has_private || key_id == NULL ||
	    (principals == NULL && nprincipals != 0))
		return TOK_ERR_INVALID_ARGUMENT;
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return TOK_ERR_LIBCRYPTO;
	if ((b = buf_new()) == NULL || (pb = buf_new()) == NULL ||
	    (sig = buf_new()) == NULL ||
	    (plain = buf_from(k->plain, k->plainlen)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < nprincipals; i++)
		if ((r = buf_put_cstring(pb, principals[i])) != 0)
			goto out;
	if ((r = buf_get_string_direct(plain, NULL, NULL)) != 0 ||
	    (r = buf_put_cstring(b, k->kt->certname)) != 0 ||
	    (r = buf_put_string(b, nonce, sizeof(nonce))) != 0 ||
	    (r = buf_putb(b, plain)) != 0 ||
	    (r = buf_put_u64(b, serial)) != 0 ||
	    (r = buf_put_u32(b, type)) != 0 ||
	    (r = buf_put_cstring(b, key_id)) != 0 ||
	    (r = buf_put_stringb(b, pb)) != 0 ||
	    (r = buf_put_u64(b, valid_after)) != 0 ||
	    (r = buf_put_u64(b, valid_before)) != 0 ||
	    (r = buf_put_string(b, critical, critlen)) != 0 ||
	    (r = buf_put_string(b, extensions, extlen)) != 0 ||
	    (r = buf_put_string(b, NULL, 0)) != 0 ||
	    (r = buf_put_string(b, ca->plain, ca->plainlen)) != 0 ||
	    (r = key_sign(ca, buf_ptr(b), buf_len(b), sig_flags, sig)) != 0 ||
	    (r = buf_put_stringb(b, sig)) != 0 ||
	    (r = key_from_blob(buf_ptr(b), buf_len(b), &c)) != 0)
		goto out;
	if (k->has_private && k->kt->type == KEY_MLDSA44_ED25519) {
		if ((r = key_mldsa_copy_private(k, c)) != 0)
			goto out;
	} else if (k->has_private) {
		if (EVP_PKEY_up_ref(k->pkey) != 1) {
			r = TOK_ERR_LIBCRYPTO;
			goto out;
		}
		EVP_PKEY_free(c->pkey);
		c->pkey = k->pkey;
		c->has_private = 1;
	}
	if (k->sk_has_handle) {
		if ((c->sk_key_handle = malloc(k->sk_khlen + 1)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		memcpy(c->sk_key_handle, k->sk_key_handle, k->sk_khlen);
		c->sk_khlen = k->sk_khlen;
		c->sk_has_handle = 1;
		c->sk_flags = k->sk_flags;
	}
	*certp = c;
	c = NULL;
	r = 0;
 out:
	key_free(c);
	buf_free(b);
	buf_free(pb);
	buf_free(sig);
	buf_free(plain);
	return r;
}

/* ---- PKCS#11 glue ----------------------------------------------------- */

int
key_ecdsa_sig_from_raw(const struct key *k, const u_char *rs, size_t rslen,
    struct buf *sigout)
{
	size_t f, i;
	int r;

	if (k == NULL || rs == NULL || sigout == NULL ||
	    k->kt->type != KEY_ECDSA)
		return TOK_ERR_INVALID_ARGUMENT;
	f = k->kt->fieldlen;
	if (rslen != 2 * f)
		return TOK_ERR_INVALID_FORMAT;
	for (i = 0; i < f && rs[i] == 0; i++)
		;
	if (i == f)
		return TOK_ERR_INVALID_FORMAT;
	for (i = 0; i < f && rs[f + i] == 0; i++)
		;
	if (i == f)
		return TOK_ERR_INVALID_FORMAT;
	if ((r = buf_put_cstring(sigout, k->kt->name)) != 0)
		return r;
	return key_put_ecdsa_rs(rs, f, rs + f, f, sigout);
}

int
key_ecdsa_digest(const struct key *k, const u_char *data, size_t datalen,
    u_char *md, size_t *mdlenp)
{
	unsigned int len = EVP_MAX_MD_SIZE;

	*mdlenp = 0;
	if (k == NULL || (k->kt->type != KEY_ECDSA &&
	    k->kt->type != KEY_ECDSA_SK) || (data == NULL && datalen != 0))
		return TOK_ERR_INVALID_ARGUMENT;
	if (EVP_Digest(data, datalen, md, &len, key_ec_md(k->kt), NULL) != 1)
		return TOK_ERR_LIBCRYPTO;
	*mdlenp = len;
	return 0;
}

int
key_rsa_sig_wrap(const struct key *k, uint32_t agent_flags, const u_char *raw,
    size_t rawlen, struct buf *sigout)
{
	const char *alg;
	u_char *p;
	size_t modlen;
	int r;

	if (k == NULL || raw == NULL || sigout == NULL ||
	    k->kt->type != KEY_RSA)
		return TOK_ERR_INVALID_ARGUMENT;
	modlen = (size_t)EVP_PKEY_get_size(k->pkey);
	if (rawlen == 0 || rawlen > modlen)
		return TOK_ERR_INVALID_FORMAT;
	(void)key_rsa_md(agent_flags, &alg);
	if ((r = buf_put_cstring(sigout, alg)) != 0 ||
	    (r = buf_put_u32(sigout, (uint32_t)modlen)) != 0 ||
	    (r = buf_reserve(sigout, modlen, &p)) != 0)
		return r;
	memset(p, 0, modlen - rawlen);
	memcpy(p + modlen - rawlen, raw, rawlen);
	return 0;
}

int
key_rsa_digestinfo(uint32_t agent_flags, const u_char *data, size_t len,
    struct buf *out)
{
	/* DER prefixes of DigestInfo (RFC 8017 9.2, note 1). */
	static const u_char sha1_prefix[] = {
		0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02,
		0x1a, 0x05, 0x00, 0x04, 0x14,
	};
	static const u_char sha256_prefix[] = {
		0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
	};
	static const u_char sha512_prefix[] = {
		0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40,
	};
	const u_char *prefix;
	const EVP_MD *md;
	const char *alg;
	u_char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = sizeof(digest);
	size_t plen;
	int r;

	if (out == NULL || (data == NULL && len != 0))
		return TOK_ERR_INVALID_ARGUMENT;
	md = key_rsa_md(agent_flags, &alg);
	if ((agent_flags & KEY_AGENT_RSA_SHA2_512) != 0) {
		prefix = sha512_prefix;
		plen = sizeof(sha512_prefix);
	} else if ((agent_flags & KEY_AGENT_RSA_SHA2_256) != 0) {
		prefix = sha256_prefix;
		plen = sizeof(sha256_prefix);
	} else {
		prefix = sha1_prefix;
		plen = sizeof(sha1_prefix);
	}
	if (EVP_Digest(data, len, digest, &dlen, md, NULL) != 1 ||
	    dlen != prefix[plen - 1])
		return TOK_ERR_LIBCRYPTO;
	if ((r = buf_put(out, prefix, plen)) != 0 ||
	    (r = buf_put(out, digest, dlen)) != 0)
		return r;
	return 0;
}
