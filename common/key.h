/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * SSH keys, certificates and signatures, on OpenSSL 3 (EVP only).
 *
 * A struct key holds one public key (an EVP_PKEY), optionally the OpenSSH
 * certificate wrapping it, for security-key (sk) types the application and,
 * when parsed from a private encoding, the flags, key handle and reserved
 * bytes, and for software keys optionally the private key.  Keys are
 * immutable once made: every function taking a const struct key * may be
 * called concurrently on the same key.
 *
 * Wire formats: RFC 4253 6.6 (ssh-rsa), RFC 5656 (ecdsa-sha2-nistp*),
 * RFC 8709 (ssh-ed25519), RFC 8332 (rsa-sha2-256/512), OpenSSH
 * PROTOCOL.certkeys (*-cert-v01@openssh.com), PROTOCOL.u2f (sk-*) and
 * draft-miller-ssh-agent (private key encodings in ADD_IDENTITY) and
 * draft-miller-sshm-mldsa44-ed25519-composite-sigs as OpenSSH 10 implements
 * it (ssh-mldsa44-ed25519@openssh.com: ML-DSA-44 (FIPS 204) combined with
 * Ed25519; the private key is the two 32-byte seeds).
 *
 * Every parser here takes untrusted bytes: it is bounded, rejects trailing
 * data, invalid curve points and RSA moduli outside
 * [KEY_RSA_MIN_BITS, KEY_RSA_MAX_BITS].
 *
 * Functions returning int return 0 on success or a negative TOK_ERR_* code
 * (common/err.h) unless their comment says otherwise.  Outputs are cleared
 * on entry and set only on success.  Functions that append to a struct buf
 * may have appended part of their output when they fail.
 */
#ifndef COMMON_KEY_H
#define COMMON_KEY_H

#include "common/err.h"

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct buf;
struct key;


enum key_type {
	KEY_UNSPEC = 0,
	KEY_RSA,
	KEY_ECDSA,
	KEY_ED25519,
	KEY_ECDSA_SK,
	KEY_ED25519_SK,
	KEY_MLDSA44_ED25519,	/* ssh-mldsa44-ed25519@openssh.com */
};

#define KEY_RSA_MIN_BITS	1024
#define KEY_RSA_MAX_BITS	16384

/* SSH_AGENTC_SIGN_REQUEST flags (draft-miller-ssh-agent). */
#define KEY_AGENT_RSA_SHA2_256	0x02
#define KEY_AGENT_RSA_SHA2_512	0x04

/* Security key flags (PROTOCOL.u2f), in the private part and signatures. */
#define KEY_SK_USER_PRESENCE_REQD	0x01
#define KEY_SK_USER_VERIFICATION_REQD	0x04
#define KEY_SK_FORCE_OPERATION		0x10
#define KEY_SK_RESIDENT_KEY		0x20

/* Certificate types (PROTOCOL.certkeys). */
#define KEY_CERT_TYPE_USER	1
#define KEY_CERT_TYPE_HOST	2

/* Hard caps applied while parsing certificates. */
#define KEY_CERT_MAX_PRINCIPALS	256

/* ---- Public keys and blobs ---------------------------------------- */

/*
 * key_from_blob: parse a public key blob (plain or *-cert-v01) of len bytes.
 * The whole blob must be consumed.  A certificate's CA signature is NOT
 * checked here (see key_cert_verify_signature).  On success *keyp is a new
 * key owned by the caller (key_free).  Errors: TOK_ERR_KEY_TYPE_UNKNOWN,
 * TOK_ERR_INVALID_FORMAT, TOK_ERR_MESSAGE_INCOMPLETE, TOK_ERR_TRAILING_DATA,
 * TOK_ERR_KEY_INVALID (bad point, bad size), TOK_ERR_CERT_INVALID,
 * TOK_ERR_ALLOC, TOK_ERR_LIBCRYPTO.
 */
int key_from_blob(const u_char *blob, size_t len, struct key **keyp) TOK_WUR;
/*
 * key_froms: read one SSH string from b and parse its contents as a key
 * blob with key_from_blob.  b is advanced past the string only on success.
 */
int key_froms(struct buf *b, struct key **keyp) TOK_WUR;
/*
 * key_to_blob: append the exact public blob (the certificate blob for
 * certificates) to out.
 */
int key_to_blob(const struct key *k, struct buf *out) TOK_WUR;
/* key_puts: append the public blob (as key_to_blob) as an SSH string. */
int key_puts(const struct key *k, struct buf *out) TOK_WUR;
/*
 * key_to_blob_plain: append the blob of the underlying plain public key
 * (for a certificate, the certified key without the certificate).
 */
int key_to_blob_plain(const struct key *k, struct buf *out) TOK_WUR;
/*
 * key_blob: the key's public blob (as key_to_blob writes it), cached inside
 * the key; *lenp gets its length.  Never NULL for a valid key.  Valid for
 * the life of k.  Cheap: use it for lookups and comparisons.
 */
const u_char *key_blob(const struct key *k, size_t *lenp);

/* key_type: the underlying type, the same for a key and its certificate. */
enum key_type key_type(const struct key *k);
/* key_is_cert: 1 when k carries a certificate, else 0. */
int key_is_cert(const struct key *k);
/* key_is_sk: 1 for sk-ecdsa / sk-ed25519 keys (and their certificates). */
int key_is_sk(const struct key *k);
/* key_has_private: 1 when k holds private key material (software keys). */
int key_has_private(const struct key *k);
/*
 * key_type_name: the SSH name of the key's blob, e.g. "ssh-ed25519",
 * "ecdsa-sha2-nistp256", "sk-ssh-ed25519@openssh.com",
 * "ssh-rsa-cert-v01@openssh.com".  Static string, never NULL.
 */
const char *key_type_name(const struct key *k);
/* key_type_name_plain: as key_type_name, but never the -cert-v01 form. */
const char *key_type_name_plain(const struct key *k);
/*
 * key_type_from_name: the type for an SSH key or certificate name, or
 * KEY_UNSPEC; *is_certp (may be NULL) gets 1 for a certificate name.
 */
enum key_type key_type_from_name(const char *name, int *is_certp);
/*
 * key_ecdsa_curve: "nistp256", "nistp384" or "nistp521" for ECDSA and
 * sk-ECDSA keys, else NULL.  Static string.
 */
const char *key_ecdsa_curve(const struct key *k);
/* key_bits: modulus size (RSA), curve size (ECDSA), 256 (Ed25519). */
int key_bits(const struct key *k);
/*
 * key_equal_public: 1 when a and b have the same underlying public key
 * (and, for sk keys, the same application), ignoring certificates; else 0.
 */
int key_equal_public(const struct key *a, const struct key *b);
/* key_equal: 1 when a and b have identical public blobs (certs included). */
int key_equal(const struct key *a, const struct key *b);
/*
 * key_fingerprint: "SHA256:<unpadded base64>" of the plain public blob, as
 * ssh-keygen -l prints it.  *fpp is a new string the caller frees.
 */
int key_fingerprint(const struct key *k, char **fpp) TOK_WUR;
/*
 * key_dup_public: a new key (*dupp) with k's public key and certificate,
 * without any private material (sk flags and key handle are kept).
 */
int key_dup_public(const struct key *k, struct key **dupp) TOK_WUR;
/*
 * key_dup_plain: a new key (*plainp) holding only the underlying public key
 * of k (certificate and private material dropped).
 */
int key_dup_plain(const struct key *k, struct key **plainp) TOK_WUR;
/*
 * key_evp: the key's OpenSSL key (with the private half when
 * key_has_private), owned by k and valid for its life; sk keys have one
 * too; for ML-DSA hybrids it is the Ed25519 half.  Do not modify or free
 * it (EVP_PKEY_up_ref to keep it longer).
 */
EVP_PKEY *key_evp(const struct key *k);
/* key_free: free k, zeroing private material.  NULL is accepted. */
void key_free(struct key *k);

/* ---- Security keys ------------------------------------------------ */

/* key_sk_application: "ssh:..." (lives as long as k), or NULL unless sk. */
const char *key_sk_application(const struct key *k);
/* key_sk_flags: sk flags from the private part; 0 if unknown or not sk. */
uint8_t key_sk_flags(const struct key *k);
/*
 * key_sk_key_handle: the credential id (key handle) from the private part.
 * *khp points into k (valid for its life), *lenp its length.
 * TOK_ERR_KEY_TYPE_MISMATCH unless sk; TOK_ERR_KEY_NOT_FOUND when k was
 * parsed from a public blob only.
 */
int key_sk_key_handle(const struct key *k, const u_char **khp, size_t *lenp)
    TOK_WUR;
/*
 * key_sk_from_parts: build a public sk key.  type is KEY_ECDSA_SK (pub is the
 * uncompressed P-256 point, 65 bytes) or KEY_ED25519_SK (pub is 32 bytes).
 * key_handle may be NULL (len 0) for a public-only key.  Used by the sk
 * helper after enrollment / resident key import.
 */
int key_sk_from_parts(enum key_type type, const u_char *pub, size_t publen,
    const char *application, uint8_t flags, const u_char *key_handle,
    size_t khlen, struct key **keyp) TOK_WUR;
/*
 * key_sk_sig_wrap: build an SSH sk signature blob from what the
 * authenticator returned: sig is the raw 64-byte signature (Ed25519) or an
 * ASN.1 DER ECDSA-Sig-Value (ECDSA), sk_flags and counter are the
 * authenticator data flags and signature counter.  Appends to sigout.
 */
int key_sk_sig_wrap(const struct key *k, const u_char *sig, size_t siglen,
    uint8_t sk_flags, uint32_t counter, struct buf *sigout) TOK_WUR;
/*
 * key_sk_sig_from_parts: as key_sk_sig_wrap, from the signature as the sk
 * core returns it: the raw signature in r (Ed25519; s unused), or the
 * big-endian ECDSA r and s (leading zeros allowed).
 */
int key_sk_sig_from_parts(const struct key *k, const u_char *r, size_t rlen,
    const u_char *s, size_t slen, uint8_t sk_flags, uint32_t counter,
    struct buf *sigout) TOK_WUR;
/*
 * key_sk_sig_parse: for an sk signature blob made for k, extract the
 * authenticator flags and counter (no crypto, structure checked as in
 * key_sig_check_format).  Either output may be NULL.
 */
int key_sk_sig_parse(const struct key *k, const u_char *sig, size_t siglen,
    uint8_t *sk_flagsp, uint32_t *counterp) TOK_WUR;

/* ---- Certificates --------------------------------------------------- */

/*
 * Accessors for a certificate's fields.  On a key without a certificate they
 * return 0 / NULL.  Returned pointers are owned by k and live as long as it.
 */
uint64_t key_cert_serial(const struct key *k);
/* KEY_CERT_TYPE_USER or KEY_CERT_TYPE_HOST. */
uint32_t key_cert_type(const struct key *k);
const char *key_cert_key_id(const struct key *k);
size_t key_cert_nprincipals(const struct key *k);
/* key_cert_principal: principal i (< key_cert_nprincipals), else NULL. */
const char *key_cert_principal(const struct key *k, size_t i);
uint64_t key_cert_valid_after(const struct key *k);
uint64_t key_cert_valid_before(const struct key *k);
/* Raw contents of the critical options / extensions strings; *lenp = length. */
const u_char *key_cert_critical_options(const struct key *k, size_t *lenp);
const u_char *key_cert_extensions(const struct key *k, size_t *lenp);
/*
 * key_cert_has_extension / key_cert_critical_option: 1 when the named
 * entry is present, 0 when not; *datap and *lenp (may be NULL) get its data.
 */
int key_cert_has_extension(const struct key *k, const char *name);
int key_cert_critical_option(const struct key *k, const char *name,
    const u_char **datap, size_t *lenp);
/* key_cert_signature_key: the CA key, owned by the certificate. */
const struct key *key_cert_signature_key(const struct key *k);
/*
 * key_cert_verify_signature: 0 when the CA signature over the certificate
 * is valid, TOK_ERR_SIGNATURE_INVALID when not, TOK_ERR_CERT_INVALID when
 * the CA key is itself a certificate or the signature algorithm is not
 * allowed, TOK_ERR_INVALID_ARGUMENT when k is no certificate.
 */
int key_cert_verify_signature(const struct key *cert) TOK_WUR;
/*
 * key_cert_check_authority: the complete check sshd/ssh apply: the CA
 * signature is valid, the type is host (want_host) or user, now (seconds
 * since the epoch) lies within [valid_after, valid_before), principal (if
 * non-NULL) is listed (an empty list matches any principal only when
 * principal is NULL), and for host certs no critical options are present.
 * It does NOT check whether the CA is trusted: compare
 * key_cert_signature_key() with your trusted CA keys.  On failure *reasonp
 * (may be NULL) gets a static text saying why.  Returns 0 or
 * TOK_ERR_CERT_INVALID / TOK_ERR_SIGNATURE_INVALID.
 */
int key_cert_check_authority(const struct key *cert, int want_host,
    const char *principal, uint64_t now, const char **reasonp) TOK_WUR;

/* ---- Signatures ------------------------------------------------------ */

/*
 * key_verify: verify the SSH signature blob sig over data with k (for a
 * certificate: its certified key).  alg, when non-NULL, is the signature
 * algorithm the caller requires (e.g. "rsa-sha2-512"); NULL allows every
 * algorithm valid for the key (for RSA: rsa-sha2-256, rsa-sha2-512 and
 * ssh-rsa).  sk signatures are checked per PROTOCOL.u2f: the signed data
 * is SHA256(application) || flags || counter || SHA256(data); user presence
 * is not required here (use key_sk_sig_parse for policy).  Returns 0 when
 * valid, TOK_ERR_SIGNATURE_INVALID when the crypto fails, other codes for
 * malformed blobs or a wrong algorithm (TOK_ERR_KEY_TYPE_MISMATCH).
 */
int key_verify(const struct key *k, const u_char *sig, size_t siglen,
    const u_char *data, size_t datalen, const char *alg) TOK_WUR;
/*
 * key_sig_check_format: structural check of a signature blob produced for
 * k with agent_flags: right algorithm name (for RSA the one the flags ask
 * for), right lengths (Ed25519 64 bytes; ECDSA r and s mpints within the
 * curve order size; RSA the modulus size), no trailing data.  No crypto.
 */
int key_sig_check_format(const struct key *k, const u_char *sig,
    size_t siglen, uint32_t agent_flags) TOK_WUR;
/*
 * key_sig_get_alg: the algorithm name at the start of a signature blob,
 * as a new string (*algp) the caller frees.
 */
int key_sig_get_alg(const u_char *sig, size_t siglen, char **algp) TOK_WUR;
/*
 * key_sig_alg: the signature algorithm name key_sign would use for k and
 * agent_flags ("rsa-sha2-512", "ssh-ed25519", ...).  Static, never NULL
 * for a valid key.
 */
const char *key_sig_alg(const struct key *k, uint32_t agent_flags);

/* ---- Public key lines ("type base64 [comment]") ---------------------- */

/*
 * key_from_authorized_line: parse a line "type base64 [comment]" as in
 * .pub files, authorized_keys (without options) and known_hosts (after the
 * host pattern).  Leading whitespace is skipped; the type must match the
 * blob.  *commentp (may be NULL) gets a new string (possibly empty).
 */
int key_from_authorized_line(const char *line, struct key **keyp,
    char **commentp) TOK_WUR;
/*
 * key_to_line: "type base64[ comment]" without a newline, as a new string
 * (*linep) the caller frees.  comment may be NULL.
 */
int key_to_line(const struct key *k, const char *comment, char **linep)
    TOK_WUR;

/* ---- Private side: token helpers only, never in the agent ------------ */

/*
 * key_private_from_agent: parse the key part of an SSH2_AGENTC_ADD_IDENTITY
 * / ADD_ID_CONSTRAINED body from msg: type name, public and private fields
 * (for certificates the certificate blob and the private fields of the
 * underlying type; for sk keys the public fields, application, flags, key
 * handle and reserved), then the comment.  Consumes exactly that and
 * leaves any constraints in msg.  The private key must match the public
 * key (and the certificate's key).  sk keys yield a key with no private
 * material (key_has_private 0) but with flags and key handle.  *keyp is
 * owned by the caller; *commentp (may be NULL) is a new string.
 * msg is not advanced on failure.  Temporaries are zeroed.
 */
int key_private_from_agent(struct buf *msg, struct key **keyp,
    char **commentp) TOK_WUR;
/*
 * key_private_to_agent: append the ADD_IDENTITY key encoding of k (which
 * must hold a private key, or be an sk key with a key handle) and comment
 * (NULL = empty) to out -- the inverse of key_private_from_agent.
 */
int key_private_to_agent(const struct key *k, const char *comment,
    struct buf *out) TOK_WUR;
/*
 * key_generate: a new private software key.  type KEY_ED25519 or
 * KEY_MLDSA44_ED25519 (bits ignored), KEY_ECDSA (bits 256/384/521), KEY_RSA
 * (bits in the allowed range).
 */
int key_generate(enum key_type type, u_int bits, struct key **keyp) TOK_WUR;
/*
 * key_sign: sign data with k's private key and append the SSH signature blob
 * to sigout.  Ed25519; ECDSA with SHA-256/384/512 by curve; RSA with
 * rsa-sha2-256 (agent_flags & 0x02), rsa-sha2-512 (0x04, preferred when
 * both are set), else ssh-rsa (SHA-1).  For certificates the certified key
 * signs (the signature is the same as for the plain key).  ML-DSA hybrid
 * signatures are randomized (hedged).
 * TOK_ERR_KEY_TYPE_MISMATCH for sk keys (they sign in sk/),
 * TOK_ERR_KEY_NOT_FOUND when k has no private key.
 */
int key_sign(const struct key *k, const u_char *data, size_t datalen,
    uint32_t agent_flags, struct buf *sigout) TOK_WUR;
/*
 * key_cert_make: for tests and tools: a certificate for the plain key k,
 * signed by the software CA key ca (holding a private key, not a cert),
 * with the given fields (principals: nprincipals strings; critical and
 * extensions: the raw encoded contents, may be NULL/0).  *certp is a new
 * key that also holds k's private key when k has one.  sig_flags picks the
 * algorithm of an RSA CA as in key_sign.  Random nonce.
 */
int key_cert_make(const struct key *k, const struct key *ca, uint32_t type,
    uint64_t serial, const char *key_id, const char *const *principals,
    size_t nprincipals, uint64_t valid_after, uint64_t valid_before,
    const u_char *critical, size_t critlen, const u_char *extensions,
    size_t extlen, uint32_t sig_flags, struct key **certp) TOK_WUR;

/* ---- PKCS#11 glue ---------------------------------------------------- */

/*
 * key_from_evp_public: a new public key from an OpenSSL RSA, EC (P-256/384/
 * 521) or Ed25519 key.  Only pk's public half is used and copied: the
 * caller keeps (and frees) pk.
 */
int key_from_evp_public(EVP_PKEY *pk, struct key **keyp) TOK_WUR;
/*
 * key_ecdsa_sig_from_raw: turn a PKCS#11 ECDSA signature (r || s, each the
 * curve's field size) made with k into an SSH signature blob on sigout.
 */
int key_ecdsa_sig_from_raw(const struct key *k, const u_char *rs,
    size_t rslen, struct buf *sigout) TOK_WUR;
/*
 * key_ecdsa_digest: the digest an ECDSA key k signs for data (SHA-256/384/
 * 512 by curve) written to md (at least EVP_MAX_MD_SIZE bytes); *mdlenp
 * gets its length.  For CKM_ECDSA (raw) signing.
 */
int key_ecdsa_digest(const struct key *k, const u_char *data, size_t datalen,
    u_char *md, size_t *mdlenp) TOK_WUR;
/*
 * key_rsa_sig_wrap: turn a raw RSA PKCS#1 v1.5 signature made with k (for
 * the hash agent_flags selects) into an SSH signature blob on sigout.  raw
 * may be shorter than the modulus (it is left-padded with zeros).
 */
int key_rsa_sig_wrap(const struct key *k, uint32_t agent_flags,
    const u_char *raw, size_t rawlen, struct buf *sigout) TOK_WUR;
/*
 * key_rsa_digestinfo: append to out the DER DigestInfo (hash OID + digest
 * of data) that a CKM_RSA_PKCS sign must sign for agent_flags (SHA-512,
 * SHA-256 or SHA-1, as key_sign picks).
 */
int key_rsa_digestinfo(uint32_t agent_flags, const u_char *data, size_t len,
    struct buf *out) TOK_WUR;

#endif /* COMMON_KEY_H */
