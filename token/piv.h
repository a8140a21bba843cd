/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * A PIV card client (NIST SP 800-73-4, with the YubiKey extensions): the
 * first layer of the native PIV driver.  It talks to one card through a
 * struct card_ops (pcsc-lite in token/piv-pcsc.c, a fake in tests), one
 * transaction per operation, so the card is never held between
 * operations; every operation selects PIV again first (but a signature
 * on a card set lazy: piv_set_lazy_select), and a signature refused for
 * want of the PIN after another program reset the card or selected
 * another application is verified again with the PIN remembered here (in
 * secure memory) and retried once.
 *
 * Every byte from the card is untrusted: BER-TLV is parsed with the
 * bounded buffer API, lengths checked against what is there, and leftover
 * bytes are an error (TOK_ERR_INVALID_FORMAT).
 *
 * All functions returning int return 0 or a negative TOK_ERR_* code.
 */
#ifndef TOKEN_PIV_H
#define TOKEN_PIV_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct key;
struct piv;

/* PIV key references (slots). */
#define PIV_SLOT_AUTH		0x9a
#define PIV_SLOT_SIGN		0x9c
#define PIV_SLOT_KEYMGMT	0x9d
#define PIV_SLOT_CARDAUTH	0x9e
#define PIV_SLOT_RETIRED1	0x82	/* 82 to 95 */
#define PIV_SLOT_RETIRED20	0x95
#define PIV_SLOT_ATTEST		0xf9

/* Algorithm identifiers (SP 800-78-4, YubiKey). */
#define PIV_ALG_RSA1024		0x06
#define PIV_ALG_RSA2048		0x07
#define PIV_ALG_RSA3072		0x05
#define PIV_ALG_RSA4096		0x16
#define PIV_ALG_ECCP256		0x11
#define PIV_ALG_ECCP384		0x14
/* Management key algorithms. */
#define PIV_ALG_3DES		0x03
#define PIV_ALG_AES128		0x08
#define PIV_ALG_AES192		0x0a
#define PIV_ALG_AES256		0x0c

/* PIN, PUK and management key references; data objects. */
#define PIV_REF_PIN		0x80
#define PIV_REF_PUK		0x81
#define PIV_REF_MGMT		0x9b
#define PIV_OBJ_PRINTED		0x5fc109	/* read needs the PIN */
#define PIV_OBJ_YK_ADMIN	0x5fff00	/* YubiKey admin data */
/* Admin data flag: a management key is stored in the printed object. */
#define PIV_ADMIN_MGMT_PROTECTED	0x02

/* YubiKey PIN and touch policies, as GET METADATA reports them. */
#define PIV_PIN_POLICY_NEVER	1
#define PIV_PIN_POLICY_ONCE	2
#define PIV_PIN_POLICY_ALWAYS	3
#define PIV_TOUCH_POLICY_NEVER	1
#define PIV_TOUCH_POLICY_ALWAYS	2
#define PIV_TOUCH_POLICY_CACHED	3

/* The longest response a card may give to one APDU, data and status word. */
#define PIV_RAPDU_MAX		(256 + 2)
/* The longest response we gather through GET RESPONSE. */
#define PIV_RESPONSE_MAX	(16 * 1024)

/*
 * The card as a device: a test or a fuzzer puts a fake in its place.
 *   begin:    start an exclusive transaction; *resetp set to 1 when the
 *             card was reset (or reconnected) since the previous one.
 *   end:      end it, leaving the card as it is.
 *   transmit: one command APDU (clen bytes) out, one response APDU in:
 *             *rlenp is the room at rapdu on entry, the length on return.
 * They return 0 or a TOK_ERR_* code (TOK_ERR_DEVICE_NOT_PRESENT when the
 * card is gone).
 */
struct card_ops {
	int	(*begin)(void *io, int *resetp);
	void	(*end)(void *io);
	int	(*transmit)(void *io, const u_char *capdu, size_t clen,
		    u_char *rapdu, size_t *rlenp);
};

/* What YubiKey GET METADATA says about a key slot, the PIN or the PUK. */
struct piv_metadata {
	int	 alg;		/* PIV_ALG_*, 0xff for PIN/PUK, -1 absent */
	int	 pin_policy;	/* PIV_PIN_POLICY_*, -1 absent */
	int	 touch_policy;	/* PIV_TOUCH_POLICY_*, -1 absent */
	int	 origin;	/* 1 generated, 2 imported, -1 absent */
	int	 is_default;	/* 1, 0, -1 absent */
	int	 tries_total;	/* -1 absent */
	int	 tries_left;	/* -1 absent */
	struct key *pubkey;	/* owned; NULL when absent */
};

/*
 * piv_open: a client for the card behind ops/io (both borrowed: they must
 * outlive it).  Nothing is sent yet.  *pivp is the caller's (piv_free).
 */
int piv_open(const struct card_ops *ops, void *io, struct piv **pivp)
    __attribute__((warn_unused_result));
/*
 * piv_set_lazy_select: with on, piv_sign_ssh leaves out the SELECT when
 * the card was not reset since our last transaction, which ended with PIV
 * selected (a YubiKey sign then costs one APDU, not two).  Any answer but
 * success selects PIV and asks again; only a public digest or padded
 * block ever goes out unselected, never a PIN.  For cards whose other
 * applications are known to refuse GENERAL AUTHENTICATE (a YubiKey's
 * answer 6D00); the signature is checked against the public key anyway.
 */
void piv_set_lazy_select(struct piv *piv, int on);
/* piv_free: free, the remembered PIN zeroed.  NULL is accepted. */
void piv_free(struct piv *piv);

/*
 * piv_select: SELECT the PIV application (one transaction) and check its
 * answer (application property template).  TOK_ERR_KEY_NOT_FOUND when the
 * card has no PIV application.
 */
int piv_select(struct piv *piv) __attribute__((warn_unused_result));

/* piv_yk_version: YubiKey GET VERSION: major, minor, patch in v. */
int piv_yk_version(struct piv *piv, u_char v[3])
    __attribute__((warn_unused_result));
/* piv_yk_serial: YubiKey GET SERIAL. */
int piv_yk_serial(struct piv *piv, uint32_t *serialp)
    __attribute__((warn_unused_result));
/*
 * piv_yk_metadata: YubiKey GET METADATA for ref (a slot, 0x80 PIN, 0x81
 * PUK, 0x9b management key).  TOK_ERR_KEY_NOT_FOUND for an empty slot,
 * TOK_ERR_FEATURE_UNSUPPORTED when the card has no such command.  *md is
 * cleared first; free md->pubkey with piv_metadata_clear.
 */
int piv_yk_metadata(struct piv *piv, int ref, struct piv_metadata *md)
    __attribute__((warn_unused_result));
/* piv_metadata_clear: free what md holds and mark every field absent. */
void piv_metadata_clear(struct piv_metadata *md);

/*
 * piv_read_cert: GET DATA of slot's certificate object: the DER
 * certificate (*derp allocated, caller frees) and its public key
 * (*keyp, caller frees with key_free; keyp may be NULL).
 * TOK_ERR_KEY_NOT_FOUND when the slot has no certificate,
 * TOK_ERR_FEATURE_UNSUPPORTED for a compressed one.
 */
int piv_read_cert(struct piv *piv, int slot, u_char **derp, size_t *lenp,
    struct key **keyp) __attribute__((warn_unused_result));

/*
 * piv_pin_status: VERIFY without data: *verifiedp 1 when the PIN is
 * verified, else 0 and *triesp the tries left (-1 when the card did not
 * say).  TOK_ERR_PIN_BLOCKED when blocked.
 */
int piv_pin_status(struct piv *piv, int *verifiedp, int *triesp)
    __attribute__((warn_unused_result));
/*
 * piv_verify_pin: VERIFY pin (6 to 8 characters).  0 when right (the PIN
 * is then remembered for re-verification, in secure memory, until
 * piv_forget_pin or piv_free); TOK_ERR_PIN_INVALID with *triesp the tries
 * left; TOK_ERR_PIN_BLOCKED; TOK_ERR_INVALID_ARGUMENT for a PIN of a bad
 * length (nothing sent).  triesp may be NULL.
 */
int piv_verify_pin(struct piv *piv, const char *pin, int *triesp)
    __attribute__((warn_unused_result));
/* piv_forget_pin: drop the remembered PIN (zeroed). */
void piv_forget_pin(struct piv *piv);

/*
 * piv_unverify: forget the remembered PIN and make the card forget that
 * it was verified (VERIFY with P1 FF, SP 800-73-4 3.2.1).
 */
int piv_unverify(struct piv *piv) __attribute__((warn_unused_result));
/*
 * piv_general_auth: GENERAL AUTHENTICATE with the key in slot (algorithm
 * alg) over in: for ECDSA a digest, for RSA a block of the modulus size
 * already padded.  The card's answer (ECDSA: DER signature; RSA: the raw
 * result) is appended to out.  A 6982 (PIN needed) with a remembered PIN
 * verifies it and tries once more: also for a key whose PIN policy is
 * "always", so a caller that wants the user asked for each use of such a
 * key calls piv_forget_pin first and piv_verify_pin with the answer.  TOK_ERR_PIN_REQUIRED when the card
 * still wants the PIN, TOK_ERR_TOUCH_DENIED when it wanted a touch that
 * did not come (6982 with the PIN verified), TOK_ERR_KEY_NOT_FOUND for an
 * empty slot.
 */
int piv_general_auth(struct piv *piv, int slot, int alg, const u_char *in,
    size_t inlen, struct buf *out) __attribute__((warn_unused_result));
/*
 * piv_sign_ssh: sign data as the SSH agent protocol wants it with the
 * slot's key k (its public key, from the certificate or the metadata):
 * ECDSA over the curve's hash, RSA PKCS#1 v1.5 over SHA-256/512 (or SHA-1)
 * as agent_flags say.  The signature is checked with k before it is
 * appended to sigout (TOK_ERR_SIGNATURE_INVALID when it does not verify).
 */
int piv_sign_ssh(struct piv *piv, int slot, const struct key *k,
    uint32_t agent_flags, const u_char *data, size_t len,
    struct buf *sigout) __attribute__((warn_unused_result));

/*
 * Administration, for the set-up command.  The management key's and the
 * PIN's security status last until the card is reset or another
 * application is selected, and every operation above starts a transaction
 * that selects PIV again (which a YubiKey takes as a reason to forget
 * them): hold the card with piv_hold for a sequence that needs them.
 */
/*
 * piv_hold: start one transaction (PIV selected) that every following
 * operation joins until piv_release.  Other programs wait meanwhile.
 */
int piv_hold(struct piv *piv) __attribute__((warn_unused_result));
/* piv_release: end piv_hold's transaction.  Without one: nothing. */
void piv_release(struct piv *piv);
/* piv_mgmt_key_len: the key length of management key algorithm alg, or 0. */
size_t piv_mgmt_key_len(int alg);
/*
 * piv_mgmt_auth: mutual authentication with the management key (alg one
 * of PIV_ALG_3DES, _AES128, _AES192, _AES256; keylen as it wants).
 * TOK_ERR_PIN_INVALID for a wrong key, TOK_ERR_KEY_TYPE_MISMATCH when
 * the card's key is of another algorithm, TOK_ERR_SIGNATURE_INVALID when
 * the card failed to prove that it holds the key.
 */
int piv_mgmt_auth(struct piv *piv, int alg, const u_char *key, size_t keylen)
    __attribute__((warn_unused_result));
/*
 * piv_generate: GENERATE ASYMMETRIC KEY PAIR in slot (9a, 9c, 9d, 9e,
 * 82 to 95) with algorithm alg (PIV_ALG_*), YubiKey PIN and touch
 * policies (0: the card's default; only YubiKeys take others).  Needs the
 * management key.  *keyp is the new public key (caller frees).
 * TOK_ERR_FEATURE_UNSUPPORTED when the card refuses the algorithm or a
 * policy; TOK_ERR_PIN_REQUIRED without the management key.
 */
int piv_generate(struct piv *piv, int slot, int alg, int pin_policy,
    int touch_policy, struct key **keyp) __attribute__((warn_unused_result));
/*
 * piv_get_object: GET DATA of object tag: the content of its 53 template
 * appended to out.  TOK_ERR_KEY_NOT_FOUND when the card has none,
 * TOK_ERR_PIN_REQUIRED when reading it needs the PIN.
 */
int piv_get_object(struct piv *piv, u_int tag, struct buf *out)
    __attribute__((warn_unused_result));
/* piv_put_object: PUT DATA of object tag with content data (needs the management key). */
int piv_put_object(struct piv *piv, u_int tag, const u_char *data,
    size_t len) __attribute__((warn_unused_result));
/* piv_write_cert: store DER certificate der in slot's certificate object. */
int piv_write_cert(struct piv *piv, int slot, const u_char *der, size_t len)
    __attribute__((warn_unused_result));
/*
 * piv_change_ref: CHANGE REFERENCE DATA of ref (PIV_REF_PIN or _PUK)
 * from old to new (6 to 8 characters each; else TOK_ERR_INVALID_ARGUMENT,
 * nothing sent).  TOK_ERR_PIN_INVALID with *triesp the tries left when
 * old is wrong, TOK_ERR_PIN_BLOCKED.  triesp may be NULL.  A remembered
 * PIN becomes the new one.
 */
int piv_change_ref(struct piv *piv, int ref, const char *old,
    const char *new, int *triesp) __attribute__((warn_unused_result));
/*
 * piv_yk_set_mgmt: YubiKey SET MANAGEMENT KEY to key (algorithm alg),
 * touch 1 to require a touch for its use.  Needs the management key.
 */
int piv_yk_set_mgmt(struct piv *piv, int alg, const u_char *key,
    size_t keylen, int touch) __attribute__((warn_unused_result));

/*
 * Parsers, exported for the unit tests and the fuzzer.  Each takes the
 * response data of one command and rejects leftovers.
 */
/* piv_tlv_get: one BER-TLV from b (tag of 1 to 3 bytes, length up to 82 xx xx). */
int piv_tlv_get(struct buf *b, u_int *tagp, const u_char **valp,
    size_t *lenp) __attribute__((warn_unused_result));
/* piv_parse_select: the SELECT answer (61 template with the PIV PIX). */
int piv_parse_select(const u_char *p, size_t len)
    __attribute__((warn_unused_result));
/* piv_parse_metadata: a GET METADATA answer into *md (cleared first). */
int piv_parse_metadata(const u_char *p, size_t len, int ref,
    struct piv_metadata *md) __attribute__((warn_unused_result));
/* piv_parse_cert_object: a certificate object (53 { 70 cert, 71 info, FE }): the certificate, borrowed. */
int piv_parse_cert_object(const u_char *p, size_t len, const u_char **certp,
    size_t *certlenp) __attribute__((warn_unused_result));
/* piv_parse_auth_response: 7C { 82 response }: the response, borrowed. */
int piv_parse_auth_response(const u_char *p, size_t len, const u_char **rp,
    size_t *rlenp) __attribute__((warn_unused_result));
/* piv_parse_auth_tag: 7C { tag value }: the value, borrowed. */
int piv_parse_auth_tag(const u_char *p, size_t len, u_int tag,
    const u_char **vp, size_t *lenp) __attribute__((warn_unused_result));
/* piv_parse_generate: 7F49 { public key fields } of alg: *keyp (caller frees). */
int piv_parse_generate(const u_char *p, size_t len, int alg,
    struct key **keyp) __attribute__((warn_unused_result));
/*
 * piv_parse_admin_data: the YubiKey admin data object's content
 * (80 { 81 flags, ... }): *flagsp (0 when absent).
 */
int piv_parse_admin_data(const u_char *p, size_t len, int *flagsp)
    __attribute__((warn_unused_result));
/*
 * piv_parse_printed: the printed information object's content as YubiKey
 * tools use it (88 { 89 management key, ... }): the key (16, 24 or 32
 * bytes), borrowed.  TOK_ERR_KEY_NOT_FOUND when it holds none.
 */
int piv_parse_printed(const u_char *p, size_t len, const u_char **keyp,
    size_t *keylenp) __attribute__((warn_unused_result));
/* piv_cert_tag: the data object tag of slot's certificate, or 0. */
u_int piv_cert_tag(int slot);

#endif /* TOKEN_PIV_H */
