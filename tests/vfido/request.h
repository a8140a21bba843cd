/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * CTAP2 command requests: CBOR decoding into plain structures, with every
 * length and type checked, trailing bytes refused and unknown map keys
 * ignored (as CTAP2 requires).  No authenticator state is touched, so a
 * fuzzer can call vfido_req_parse() on anything.
 *
 * Unlike the rest of tokagent these functions return a CTAP2 status byte
 * (VFIDO_CTAP2_*, 0 = OK): the value goes onto the wire as is.
 */
#ifndef VFIDO_REQUEST_H
#define VFIDO_REQUEST_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/vfido/state.h"
#include "tests/vfido/vkey.h"

/* authenticator commands */
#define VFIDO_CMD_MAKE_CRED	0x01
#define VFIDO_CMD_GET_ASSERT	0x02
#define VFIDO_CMD_GET_INFO	0x04
#define VFIDO_CMD_CLIENT_PIN	0x06
#define VFIDO_CMD_RESET		0x07
#define VFIDO_CMD_GET_NEXT	0x08
#define VFIDO_CMD_CRED_MGMT	0x0a
#define VFIDO_CMD_SELECTION	0x0b
#define VFIDO_CMD_CRED_MGMT_PRE	0x41

/* status codes */
#define VFIDO_CTAP2_OK			0x00
#define VFIDO_CTAP1_INVALID_COMMAND	0x01
#define VFIDO_CTAP1_INVALID_PARAMETER	0x02
#define VFIDO_CTAP1_INVALID_LENGTH	0x03
#define VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE 0x11
#define VFIDO_CTAP2_INVALID_CBOR	0x12
#define VFIDO_CTAP2_MISSING_PARAMETER	0x14
#define VFIDO_CTAP2_LIMIT_EXCEEDED	0x15
#define VFIDO_CTAP2_CREDENTIAL_EXCLUDED	0x19
#define VFIDO_CTAP2_UNSUPPORTED_ALGORITHM 0x26
#define VFIDO_CTAP2_OPERATION_DENIED	0x27
#define VFIDO_CTAP2_KEY_STORE_FULL	0x28
#define VFIDO_CTAP2_UNSUPPORTED_OPTION	0x2b
#define VFIDO_CTAP2_INVALID_OPTION	0x2c
#define VFIDO_CTAP2_KEEPALIVE_CANCEL	0x2d
#define VFIDO_CTAP2_NO_CREDENTIALS	0x2e
#define VFIDO_CTAP2_USER_ACTION_TIMEOUT	0x2f
#define VFIDO_CTAP2_NOT_ALLOWED		0x30
#define VFIDO_CTAP2_PIN_INVALID		0x31
#define VFIDO_CTAP2_PIN_BLOCKED		0x32
#define VFIDO_CTAP2_PIN_AUTH_INVALID	0x33
#define VFIDO_CTAP2_PIN_AUTH_BLOCKED	0x34
#define VFIDO_CTAP2_PIN_NOT_SET		0x35
#define VFIDO_CTAP2_PUAT_REQUIRED	0x36
#define VFIDO_CTAP2_PIN_POLICY_VIOLATION 0x37
#define VFIDO_CTAP2_REQUEST_TOO_LARGE	0x39
#define VFIDO_CTAP2_UNAUTHORIZED_PERM	0x40
#define VFIDO_CTAP1_OTHER		0x7f

#define VFIDO_LIST_MAX		16	/* allow/exclude list entries */
#define VFIDO_PIN_ENC_MAX	(16 + 64)	/* IV + padded PIN */
#define VFIDO_CM_PARAMS_MAX	512

/* option values */
#define VFIDO_OPT_ABSENT	(-1)

struct vfido_cred_desc {
	u_char	id[VFIDO_CREDID_MAX];
	size_t	len;
};

struct vfido_pin_auth {
	int	present;
	u_char	param[32];
	size_t	len;		/* 0 with present: "touch to select" probe */
	int	proto;		/* 0 when absent */
};

struct vfido_mc_req {
	u_char			cdh[32];
	char			rp_id[VFIDO_NAME_MAX + 1];
	char			rp_name[VFIDO_NAME_MAX + 1];
	u_char			user_id[VFIDO_USER_ID_MAX];
	size_t			user_id_len;
	char			user_name[VFIDO_NAME_MAX + 1];
	char			user_display[VFIDO_NAME_MAX + 1];
	int			alg;	/* first one we support, 0: none */
	struct vfido_cred_desc	excl[VFIDO_LIST_MAX];
	size_t			nexcl;
	int			rk, up, uv;	/* 0, 1 or VFIDO_OPT_ABSENT */
	int			cred_protect;	/* 0: not asked */
	int			hmac_secret;
	struct vfido_pin_auth	auth;
};

struct vfido_ga_req {
	char			rp_id[VFIDO_NAME_MAX + 1];
	u_char			cdh[32];
	struct vfido_cred_desc	allow[VFIDO_LIST_MAX];
	size_t			nallow;
	int			up, uv;		/* 0, 1 or VFIDO_OPT_ABSENT */
	struct vfido_pin_auth	auth;
};

struct vfido_cp_req {
	int	proto;
	int	subcmd;
	int	has_ka;
	u_char	ka_x[32], ka_y[32];
	struct vfido_pin_auth auth;
	u_char	new_pin_enc[VFIDO_PIN_ENC_MAX];
	size_t	new_pin_enc_len;
	u_char	pin_hash_enc[16 + 16];
	size_t	pin_hash_enc_len;
	uint64_t permissions;
	int	has_permissions;
	char	rp_id[VFIDO_NAME_MAX + 1];
	int	has_rp_id;
};

struct vfido_cm_req {
	int			subcmd;
	u_char			params[VFIDO_CM_PARAMS_MAX]; /* as encoded */
	size_t			params_len;
	int			has_params;
	u_char			rp_id_hash[32];
	int			has_rp_id_hash;
	struct vfido_cred_desc	cred;
	int			has_cred;
	struct vfido_pin_auth	auth;
};

/* One decoded request; cmd says which member is valid. */
struct vfido_req {
	uint8_t	cmd;
	union {
		struct vfido_mc_req mc;
		struct vfido_ga_req ga;
		struct vfido_cp_req cp;
		struct vfido_cm_req cm;
	} u;
};

/*
 * vfido_req_parse: decode a CTAPHID_CBOR payload (command byte + CBOR
 * parameters) into *req (caller's storage, overwritten).  Returns a CTAP2
 * status: unknown command INVALID_COMMAND, bad CBOR INVALID_CBOR, wrong
 * types CBOR_UNEXPECTED_TYPE, missing members MISSING_PARAMETER, etc.
 */
int vfido_req_parse(const u_char *msg, size_t len, struct vfido_req *req);

/* vfido_req_cmd_name: "makeCredential" etc., for the control log. */
const char *vfido_req_cmd_name(uint8_t cmd);

#endif /* VFIDO_REQUEST_H */
