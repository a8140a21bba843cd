/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * vcard: the PIV application (NIST SP 800-73-4) of the virtual card, with
 * the YubiKey 5 extensions (version, serial, metadata, attestation, key
 * import, management key, retries, reset, move/delete, PIN and touch
 * policies), and the SELECT answers of a YubiKey's other applications
 * (OTP, OATH, OpenPGP, management), which deselect PIV.
 * Takes command APDUs, answers response APDUs; holds the volatile state
 * (security status, pending challenges, command and response chaining) and
 * changes the persistent state (struct vc_state) it was given.
 *
 * All functions returning int return 0 or a negative TOK_ERR_* code.
 */
#ifndef TESTS_VCARD_PIV_H
#define TESTS_VCARD_PIV_H

#include <sys/types.h>
#include <stddef.h>

struct buf;
struct vc_state;
struct vc_piv;

/* The card's answer to reset (also returned by vc_piv_atr). */
#define VC_PIV_ATR_MAX	33

/*
 * vc_piv_new: a PIV application over st (borrowed: st must outlive it).
 * pin_always_9c: 1 to require the PIN right before every use of the 9c key
 * (SP 800-73 "PIN always"), 0 to treat 9c like 9a.  NULL when out of memory.
 */
struct vc_piv *vc_piv_new(struct vc_state *st, int pin_always_9c);
/* vc_piv_set_version: the firmware version GET VERSION reports (default 5.7.1). */
void vc_piv_set_version(struct vc_piv *piv, int major, int minor, int patch);
/* vc_piv_set_plain: a plain PIV card: no YubiKey instruction is known. */
void vc_piv_set_plain(struct vc_piv *piv);
/*
 * vc_piv_set_touch: the function that waits for the user's touch when a
 * key's touch policy (or the management key) wants one: it gets arg and
 * the key reference, returns 0 when touched, a TOK_ERR_* code when not
 * (refused, timed out).  Without one, every touch is given at once.
 */
void vc_piv_set_touch(struct vc_piv *piv, int (*touch)(void *, int),
    void *arg);
/*
 * vc_piv_fuzz_grant: for fuzzing only: select PIV and mark the PIN
 * (pin != 0) and the management key (mgmt != 0) as verified, so that a
 * fuzzer reaches the commands they guard.
 */
void vc_piv_fuzz_grant(struct vc_piv *piv, int pin, int mgmt);
/* vc_piv_free: free (volatile state zeroed).  NULL is accepted. */
void vc_piv_free(struct vc_piv *piv);
/*
 * vc_piv_reset: power cycle/reset: security status and chaining cleared,
 * no application selected (the host must SELECT PIV again).
 */
void vc_piv_reset(struct vc_piv *piv);
/*
 * vc_piv_atr: the ATR bytes (static storage) and their count in *lenp:
 * a YubiKey 5's when yubikey is 1, else vcard's own.
 */
const u_char *vc_piv_atr(int yubikey, size_t *lenp);
/*
 * vc_piv_process: handle one command APDU (len bytes at capdu, untrusted)
 * and append the response APDU (data + SW1 SW2) to rapdu.  Malformed
 * commands get an error status word, not an error return; a non-zero
 * return means an internal failure (out of memory) and nothing useful
 * was appended.
 */
int vc_piv_process(struct vc_piv *piv, const u_char *capdu, size_t len,
    struct buf *rapdu) __attribute__((warn_unused_result));

#endif /* TESTS_VCARD_PIV_H */
