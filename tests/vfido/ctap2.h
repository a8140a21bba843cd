/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The CTAP2 authenticator: executes decoded requests (request.h) against
 * the token state (state.h).
 *
 * Requests that need user presence run in two passes.  The first pass
 * (up_granted 0) checks everything and, if a touch is needed, returns
 * VFIDO_CTAP_NEED_UP without changing any state; the caller waits for the
 * touch and runs the very same request again with up_granted 1.  This keeps
 * the daemon a single-threaded poll loop.
 */
#ifndef VFIDO_CTAP2_H
#define VFIDO_CTAP2_H

#include <sys/types.h>
#include <stddef.h>

#include "tests/vfido/state.h"

struct buf;
struct vfido_ctap;

#define VFIDO_CTAP_NEED_UP	1
#define VFIDO_CTAP_INFO_MAX	128

/* How the authenticator behaves, beyond CTAP 2.1 defaults. */
struct vfido_ctap_opts {
	/*
	 * A CTAP 2.0 key: versions FIDO_2_0 only, no credProtect, no
	 * pinUvAuthToken permissions (clientPIN subcommand 9, cm 0x0a and
	 * selection 0x0b unknown; the legacy token may do everything, with
	 * credentialMgmtPreview 0x41), a PIN set makes every makeCredential
	 * need it.
	 */
	int	ctap20;
	/*
	 * Silent probes (getAssertion up=false) never find a credential:
	 * to choose among several such tokens the platform must ask for a
	 * touch (authenticatorSelection).
	 */
	int	touch_to_select;
	/* an unused pinUvAuthToken expires after this (0: 30 s) */
	int	token_timeout_ms;
};

/*
 * vfido_ctap_new: an authenticator over st (borrowed; outlives it).
 * protos lists the PIN protocols to offer in preference order (1 and/or
 * 2); opts may be NULL (defaults).  A new instance is a power cycle: fresh
 * key agreement key and pinUvAuthToken, per-boot PIN failure count reset,
 * authenticatorReset allowed for the next 10 s.
 */
int vfido_ctap_new(struct vfido_state *st, const int *protos, size_t nprotos,
    const struct vfido_ctap_opts *opts, struct vfido_ctap **ctapp)
    __attribute__((warn_unused_result));
/* vfido_ctap_free: zero secrets and free.  NULL is accepted. */
void vfido_ctap_free(struct vfido_ctap *c);

/*
 * vfido_ctap_handle: run one CTAPHID_CBOR payload.  Returns 0 with the
 * reply (status byte + CBOR) appended to resp, or VFIDO_CTAP_NEED_UP (resp
 * untouched, no state changed), or a negative TOK_ERR_* when the token
 * itself failed (the caller answers CTAP1_ERR_OTHER).  info (may be NULL,
 * VFIDO_CTAP_INFO_MAX bytes) gets a one-line summary for the control log,
 * e.g. "getAssertion up=1 uv=0", or "" for requests not worth logging.
 */
int vfido_ctap_handle(struct vfido_ctap *c, const u_char *msg, size_t len,
    int up_granted, struct buf *resp, char *info)
    __attribute__((warn_unused_result));

#endif /* VFIDO_CTAP2_H */
