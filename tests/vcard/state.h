/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * vcard: the card's persistent state — PIN, PUK and their retry counters,
 * the management key, the private keys in slots 9a/9c/9d/9e and the data
 * objects (certificates, CHUID, ...).  Kept in one file, rewritten
 * atomically (temporary file + rename) after every change, so a card
 * killed at any moment comes back as it was.
 *
 * This is a test card: the file holds the PIN and the private keys in the
 * clear (mode 0600).  In memory, secrets are zeroed when freed.
 *
 * All functions returning int return 0 or a negative TOK_ERR_* code.
 */
#ifndef TESTS_VCARD_STATE_H
#define TESTS_VCARD_STATE_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct vc_state;

#define VC_PIN_LEN		8	/* PIV PIN/PUK reference data, 0xff padded */
#define VC_REF_PIN		0x80
#define VC_REF_PUK		0x81
#define VC_REF_MGMT		0x9b
#define VC_REF_ATTEST		0xf9

/* YubiKey PIN and touch policies (0: the slot's default). */
#define VC_PIN_POLICY_DEFAULT	0
#define VC_PIN_POLICY_NEVER	1
#define VC_PIN_POLICY_ONCE	2
#define VC_PIN_POLICY_ALWAYS	3
#define VC_TOUCH_POLICY_DEFAULT	0
#define VC_TOUCH_POLICY_NEVER	1
#define VC_TOUCH_POLICY_ALWAYS	2
#define VC_TOUCH_POLICY_CACHED	3

/* Where a slot's key came from (YubiKey metadata). */
#define VC_ORIGIN_GENERATED	1
#define VC_ORIGIN_IMPORTED	2

/* The retry counters a card can have (SET PIN RETRIES). */
#define VC_TRIES_MAX		255

/*
 * vc_state_open: load the card from path, or when the file does not exist
 * create a fresh card there: PIN 123456, PUK 12345678, the default 3DES
 * management key, ECDSA P-256 key + self-signed certificate in 9a, RSA-2048
 * key + certificate in 9c, a CHUID with a random GUID, an attestation key
 * and certificate in f9, and serial number new_serial (0: a random one).
 * *stp is owned by the caller (vc_state_free).  path may be NULL: an
 * in-memory card that is never saved (for fuzzing).
 */
int vc_state_open(const char *path, uint32_t new_serial,
    struct vc_state **stp) __attribute__((warn_unused_result));
/*
 * vc_state_clone: an in-memory copy of st (never saved), through the
 * state file's encoding.  *copyp is owned by the caller.
 */
int vc_state_clone(const struct vc_state *st, struct vc_state **copyp)
    __attribute__((warn_unused_result));
/* vc_state_free: zero and free.  NULL is accepted. */
void vc_state_free(struct vc_state *st);
/* vc_state_save: write the state to its file atomically (no-op without a path). */
int vc_state_save(struct vc_state *st) __attribute__((warn_unused_result));

/*
 * vc_state_pin_verify: check 8 bytes of padded reference data for ref
 * (VC_REF_PIN or VC_REF_PUK).  0 when right (retries reset);
 * TOK_ERR_PIN_INVALID when wrong (one retry used, saved);
 * TOK_ERR_PIN_BLOCKED when no retries are left (nothing checked).
 */
int vc_state_pin_verify(struct vc_state *st, int ref, const u_char *pin,
    size_t len) __attribute__((warn_unused_result));
/* vc_state_pin_retries: retries left for ref, or -1 for an unknown ref. */
int vc_state_pin_retries(const struct vc_state *st, int ref);
/* vc_state_pin_max: the retry counter's full value for ref, or -1. */
int vc_state_pin_max(const struct vc_state *st, int ref);
/* vc_state_pin_is_default: 1 when ref still has its factory value. */
int vc_state_pin_is_default(const struct vc_state *st, int ref);
/*
 * vc_state_set_retries: YubiKey SET PIN RETRIES: new retry counters (1 to
 * VC_TRIES_MAX) for the PIN and the PUK, both reset to their defaults.
 */
int vc_state_set_retries(struct vc_state *st, u_int pin_max, u_int puk_max)
    __attribute__((warn_unused_result));
/*
 * vc_state_reset: YubiKey RESET: PIN, PUK, retries and management key back
 * to the factory values; every key and data object goes except the
 * attestation key and certificate; the serial stays.
 */
int vc_state_reset(struct vc_state *st) __attribute__((warn_unused_result));
/* vc_state_serial: the card's serial number. */
uint32_t vc_state_serial(const struct vc_state *st);
/* vc_state_pin_set: new reference data (8 bytes) for ref; resets its retries. */
int vc_state_pin_set(struct vc_state *st, int ref, const u_char *pin,
    size_t len) __attribute__((warn_unused_result));

/* vc_state_mgmt_key: the management key (borrowed; valid while st is), its algorithm and length. */
const u_char *vc_state_mgmt_key(const struct vc_state *st, int *algp,
    size_t *lenp);
/* vc_state_mgmt_touch: 1 when the management key needs a touch. */
int vc_state_mgmt_touch(const struct vc_state *st);
/* vc_state_mgmt_is_default: 1 for the factory management key. */
int vc_state_mgmt_is_default(const struct vc_state *st);
/*
 * vc_state_set_mgmt: a new management key (alg VC_ALG_3DES or AES; len
 * must match it), touch 1 to require a touch when it is used.
 */
int vc_state_set_mgmt(struct vc_state *st, int alg, const u_char *key,
    size_t len, int touch) __attribute__((warn_unused_result));

/* vc_state_key: the private key in slot keyref (borrowed), or NULL. */
EVP_PKEY *vc_state_key(const struct vc_state *st, int keyref);
/*
 * vc_state_set_key: put pkey in slot keyref, taking ownership of pkey on
 * success; the previous key is freed.  pkey NULL empties the slot.
 * pin_policy and touch_policy are VC_*_POLICY_*, origin VC_ORIGIN_*.
 * Not saved: call vc_state_save.
 */
int vc_state_set_key(struct vc_state *st, int keyref, EVP_PKEY *pkey,
    int pin_policy, int touch_policy, int origin)
    __attribute__((warn_unused_result));
/*
 * vc_state_key_info: the policies (as stored: may be *_DEFAULT) and origin
 * of the key in keyref.  TOK_ERR_KEY_NOT_FOUND when the slot is empty.
 */
int vc_state_key_info(const struct vc_state *st, int keyref, int *pinp,
    int *touchp, int *originp) __attribute__((warn_unused_result));
/*
 * vc_state_move_key: move the key (and its policies) from slot from to
 * slot to, replacing what was there.  TOK_ERR_KEY_NOT_FOUND when from is
 * empty.  Not saved.
 */
int vc_state_move_key(struct vc_state *st, int from, int to)
    __attribute__((warn_unused_result));

/*
 * vc_state_obj_get: the data object with tag (e.g. 0x5fc105): the content
 * of its 53 template, borrowed (valid until the object changes).
 * TOK_ERR_KEY_NOT_FOUND when absent.
 */
int vc_state_obj_get(const struct vc_state *st, u_int tag,
    const u_char **valp, size_t *lenp) __attribute__((warn_unused_result));
/* vc_state_obj_put: replace the object with tag (copied); len 0 deletes it. */
int vc_state_obj_put(struct vc_state *st, u_int tag, const u_char *val,
    size_t len) __attribute__((warn_unused_result));

/*
 * vc_state_keyref_valid: 1 for the key slots this card has: 9a, 9c, 9d,
 * 9e, the retired slots 82 to 95 and the attestation slot f9.
 */
int vc_state_keyref_valid(int keyref);
/* vc_state_cert_tag: the data object holding keyref's certificate, or 0. */
u_int vc_state_cert_tag(int keyref);

#endif /* TESTS_VCARD_STATE_H */
