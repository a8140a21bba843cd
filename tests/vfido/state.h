/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Persistent state of one virtual authenticator: master secret, AAGUID,
 * serial, signature counter, PIN (hash + retries) and resident
 * credentials.  Kept in one file, rewritten atomically (temporary file +
 * rename) by vfido_state_save(); "unplug" is killing vfido, "replug" is
 * starting it again on the same file.  Signature counter bumps only mark
 * the state dirty: vfido writes them within VFIDO_COUNTER_SAVE_MS (and on
 * exit), so a benchmark measures the agent, not this file; a kill -9 may
 * lose the last few bumps, never a credential or a PIN change.
 *
 * All int functions return 0 or a negative TOK_ERR_* code.
 */
#ifndef VFIDO_STATE_H
#define VFIDO_STATE_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#define VFIDO_PIN_RETRIES_MAX	8
#define VFIDO_COUNTER_SAVE_MS	50	/* counter bumps reach the file */
#define VFIDO_RK_MAX		50	/* resident credential slots */
#define VFIDO_USER_ID_MAX	64
#define VFIDO_NAME_MAX		256	/* rp id, user name, display name */

/* One resident (discoverable) credential. */
struct vfido_rk {
	u_char	*cred_id;		/* wrapped key, see vkey.h */
	size_t	 cred_id_len;
	char	*rp_id;
	char	*rp_name;		/* may be "" */
	u_char	 rp_id_hash[32];
	u_char	 user_id[VFIDO_USER_ID_MAX];
	size_t	 user_id_len;
	char	*user_name;		/* may be "" */
	char	*user_display;		/* may be "" */
	int	 alg;			/* COSE algorithm */
	uint8_t	 cred_protect;		/* 1..3 */
};

struct vfido_state {
	char		*path;
	u_char		 master[32];	/* wraps credential IDs */
	u_char		 aaguid[16];
	char		 serial[64];
	uint32_t	 counter;	/* global signature counter */
	int		 counter_dirty;	/* bumped since the last save */
	int		 pin_set;
	u_char		 pin_hash[16];	/* LEFT(SHA-256(PIN), 16) */
	uint8_t		 pin_retries;
	struct vfido_rk	*rks;
	size_t		 nrks;
};

/*
 * vfido_state_load: read path, or make a fresh token (new master secret,
 * random AAGUID, serial if non-NULL) when it does not exist; a fresh token
 * is saved at once.  A corrupt file is an error, never silently replaced.
 */
int vfido_state_load(const char *path, const char *serial,
    struct vfido_state **statep) __attribute__((warn_unused_result));
/*
 * vfido_state_new: a fresh token in memory only (no path: saving is a
 * no-op), as tests and fuzzers want.
 */
int vfido_state_new(const char *serial, struct vfido_state **statep)
    __attribute__((warn_unused_result));
/* vfido_state_save: write the state atomically to its path. */
int vfido_state_save(const struct vfido_state *s)
    __attribute__((warn_unused_result));
/* vfido_state_parse: decode a state file image (for load and fuzzing). */
int vfido_state_parse(const u_char *data, size_t len,
    struct vfido_state **statep) __attribute__((warn_unused_result));
/* vfido_state_free: zero and free.  NULL is accepted. */
void vfido_state_free(struct vfido_state *s);
/*
 * vfido_state_reset: authenticatorReset: new master secret, no PIN, no
 * resident credentials.  AAGUID, serial and counter are kept.  Not saved.
 */
int vfido_state_reset(struct vfido_state *s)
    __attribute__((warn_unused_result));
/*
 * vfido_state_add_rk: store rk (taken over on success, its strings and
 * buffer owned by the state from then), replacing one with the same RP ID
 * and user ID.  Full: TOK_ERR_NO_BUFFER_SPACE.  Not saved.
 */
int vfido_state_add_rk(struct vfido_state *s, struct vfido_rk *rk)
    __attribute__((warn_unused_result));
/* vfido_state_del_rk: drop resident credential idx.  Not saved. */
void vfido_state_del_rk(struct vfido_state *s, size_t idx);
/* vfido_state_find_rk: index of the credential with this ID, or -1. */
int vfido_state_find_rk(const struct vfido_state *s, const u_char *id,
    size_t idlen);
/* vfido_rk_clear: free what an rk owns and zero it. */
void vfido_rk_clear(struct vfido_rk *rk);

#endif /* VFIDO_STATE_H */
