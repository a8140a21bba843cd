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

#include <openssl/evp.h>

struct vc_state;

#define VC_PIN_LEN		8	/* PIV PIN/PUK reference data, 0xff padded */
#define VC_REF_PIN		0x80
#define VC_REF_PUK		0x81
#define VC_REF_MGMT		0x9b

/*
 * vc_state_open: load the card from path, or when the file does not exist
 * create a fresh card there: PIN 123456, PUK 12345678, the default 3DES
 * management key, ECDSA P-256 key + self-signed certificate in 9a, RSA-2048
 * key + certificate in 9c, a CHUID with a random GUID.  *stp is owned by
 * the caller (vc_state_free).  path may be NULL: an in-memory card that is
 * never saved (for fuzzing).
 */
int vc_state_open(const char *path, struct vc_state **stp)
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
/* vc_state_pin_set: new reference data (8 bytes) for ref; resets its retries. */
int vc_state_pin_set(struct vc_state *st, int ref, const u_char *pin,
    size_t len) __attribute__((warn_unused_result));

/* vc_state_mgmt_key: the management key (borrowed; valid while st is), its algorithm and length. */
const u_char *vc_state_mgmt_key(const struct vc_state *st, int *algp,
    size_t *lenp);

/* vc_state_key: the private key in slot keyref (borrowed), or NULL. */
EVP_PKEY *vc_state_key(const struct vc_state *st, int keyref);
/*
 * vc_state_set_key: put pkey in slot keyref (9a/9c/9d/9e), taking
 * ownership of pkey on success; the previous key is freed.
 */
int vc_state_set_key(struct vc_state *st, int keyref, EVP_PKEY *pkey)
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

/* vc_state_keyref_valid: 1 for the key slots this card has (9a, 9c, 9d, 9e). */
int vc_state_keyref_valid(int keyref);

#endif /* TESTS_VCARD_STATE_H */
