/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Parser for the data an SSH client asks an agent to sign during public key
 * user authentication (RFC 4252 section 7, and OpenSSH's
 * publickey-hostbound-v00@openssh.com method):
 *
 *	string	session identifier
 *	byte	SSH2_MSG_USERAUTH_REQUEST (50)
 *	string	user name
 *	string	service name ("ssh-connection")
 *	string	method: "publickey" or
 *		"publickey-hostbound-v00@openssh.com"
 *	bool	TRUE (a signature follows)
 *	string	public key algorithm name
 *	string	public key blob
 *	[string	server host key blob]	(hostbound method only)
 *
 * The agent uses it to decide whether a destination-constrained key may
 * sign (agent/dest.h) and to name the user and host in prompts.  The bytes
 * come from an untrusted client: every field is bounded and trailing data
 * is an error.
 */
#ifndef AGENT_USERAUTH_H
#define AGENT_USERAUTH_H

#include "common/err.h"

#include <sys/types.h>
#include <stddef.h>

struct key;

#define USERAUTH_MSG_REQUEST		50
#define USERAUTH_MAX_SID_LEN		1024	/* >> any real hash */
#define USERAUTH_MAX_USER_LEN		1024
#define USERAUTH_METHOD_PUBKEY		"publickey"
#define USERAUTH_METHOD_HOSTBOUND	"publickey-hostbound-v00@openssh.com"

struct userauth_request;

/*
 * userauth_parse: parse len bytes at data as a complete publickey
 * SSH2_MSG_USERAUTH_REQUEST signing payload, as above.  When key is non-NULL
 * the request's key blob must be the same key (certificate included) and
 * the algorithm name must belong to that key's type (rsa-sha2-256/512 count
 * as ssh-rsa, their -cert-v01 forms as ssh-rsa-cert-v01).
 *
 * On success *reqp is a new request the caller frees with
 * userauth_request_free; it copies what it needs, so data may be released
 * afterwards.  Returns 0, TOK_ERR_INVALID_FORMAT (not a userauth request,
 * wrong service/method/flag, key or algorithm mismatch, empty session id),
 * TOK_ERR_MESSAGE_INCOMPLETE, TOK_ERR_TRAILING_DATA, TOK_ERR_STRING_TOO_LARGE,
 * a key_from_blob error for a malformed key blob, or TOK_ERR_ALLOC.
 */
int userauth_parse(const u_char *data, size_t len, const struct key *key,
    struct userauth_request **reqp) TOK_WUR;

/* userauth_request_free: release req.  NULL is accepted. */
void userauth_request_free(struct userauth_request *req);

/* userauth_user: the user name (no embedded NUL); lives as long as req. */
const char *userauth_user(const struct userauth_request *req);

/*
 * userauth_session_id: the session identifier; *lenp gets its length
 * (never 0).  Lives as long as req.
 */
const u_char *userauth_session_id(const struct userauth_request *req,
    size_t *lenp);

/* userauth_key: the key the request authenticates with; owned by req. */
const struct key *userauth_key(const struct userauth_request *req);

/*
 * userauth_hostkey: the server host key of a hostbound request, or NULL for
 * the plain "publickey" method.  Owned by req.
 */
const struct key *userauth_hostkey(const struct userauth_request *req);

/* userauth_alg: the public key algorithm name; lives as long as req. */
const char *userauth_alg(const struct userauth_request *req);

#endif /* AGENT_USERAUTH_H */
