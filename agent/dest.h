/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Destination constraints and session binding, with OpenSSH's semantics
 * (ssh-agent.c, PROTOCOL.agent, ssh-add -h / -H).
 *
 * ssh binds each agent connection it uses to the SSH session it serves with
 * the session-bind@openssh.com extension: the server's host key, the session
 * identifier, the server's signature over it, and whether the connection is
 * a forwarding (the agent was forwarded to that host) or an authentication
 * (ssh is about to sign a userauth request for that host).  A connection
 * that crosses several hops collects one binding per hop, origin first.
 *
 * A key added with the restrict-destination-v00@openssh.com constraint
 * carries a list of hops "from host A to [user@]host B", each host named by
 * its host keys or by a CA for host certificates.  The key may be seen and
 * used only when every hop of the connection's path is allowed by one of
 * its constraints, and signs only complete userauth requests for the most
 * recently bound session, with the user matching at the last hop.
 *
 * Everything here is pure logic: no I/O except dest_hostkey_name, which
 * reads known_hosts files.  Functions returning int return 0 or a negative
 * TOK_ERR_* code (common/err.h); outputs are cleared on entry and set only
 * on success.
 */
#ifndef AGENT_DEST_H
#define AGENT_DEST_H

#include "common/err.h"

#include <sys/types.h>
#include <stddef.h>

struct buf;
struct key;
struct userauth_request;


#define DEST_MAX_BINDINGS	16	/* per connection, as OpenSSH */
#define DEST_MAX_SID_LEN	128	/* session identifier bytes */
#define DEST_MAX_CONSTRAINTS	1024	/* per key */
#define DEST_MAX_HOP_KEYS	1024	/* host keys per hop */
#define DEST_MAX_NAME_LEN	1024	/* user or host name bytes */

#define DEST_CONSTRAINT_NAME	"restrict-destination-v00@openssh.com"
#define DEST_SESSION_BIND_NAME	"session-bind@openssh.com"

/* A key's destination constraints: immutable once parsed. */
struct dest_constraints;
/* The session bindings of one client connection. */
struct dest_binding_set;

/* ---- Constraints ----------------------------------------------------- */

/*
 * dest_constraints_parse: read the data of a restrict-destination-v00
 * constraint extension from m, positioned just after the extension name:
 *
 *	string	constraints: n * string constraint, each
 *		string	from-hop
 *		string	to-hop
 *		string	reserved (must be empty)
 *	hop:	string	user (must be empty in a from-hop)
 *		string	hostname (empty in a from-hop: the origin)
 *		string	reserved (must be empty)
 *		n * (string host key blob, bool is_ca)
 *
 * Exactly that string is consumed from m (m is not advanced on failure);
 * what follows it (further constraints) is left to the caller.  A from-hop
 * has a hostname iff it has keys; a to-hop must have both.  At most
 * DEST_MAX_CONSTRAINTS constraints and DEST_MAX_HOP_KEYS keys per hop; names
 * at most DEST_MAX_NAME_LEN bytes without NUL.  An empty list parses to a
 * set with no constraints, which permits everything (as in OpenSSH).
 * On success *dcp is owned by the caller (dest_constraints_free).
 * Errors: TOK_ERR_INVALID_FORMAT, TOK_ERR_MESSAGE_INCOMPLETE,
 * TOK_ERR_TRAILING_DATA, TOK_ERR_STRING_TOO_LARGE, TOK_ERR_FEATURE_UNSUPPORTED
 * (non-empty reserved field), key_from_blob errors, TOK_ERR_ALLOC.
 */
int dest_constraints_parse(struct buf *m, struct dest_constraints **dcp)
    TOK_WUR;

/* dest_constraints_free: release dc.  NULL is accepted. */
void dest_constraints_free(struct dest_constraints *dc);

/* dest_constraints_count: the number of constraints (0 for NULL). */
size_t dest_constraints_count(const struct dest_constraints *dc);

/*
 * dest_constraints_describe: a one-line summary for logs and prompts, e.g.
 * "h1, h1>user@h2" (from>to, "from" omitted for the origin), as a new
 * string the caller frees.
 */
int dest_constraints_describe(const struct dest_constraints *dc,
    char **descp) TOK_WUR;

/* ---- Session bindings -------------------------------------------------- */

/* dest_bindings_new: an empty binding set for a new connection, or NULL. */
struct dest_binding_set *dest_bindings_new(void);

/* dest_bindings_free: release bs and its host keys.  NULL is accepted. */
void dest_bindings_free(struct dest_binding_set *bs);

/*
 * dest_bind: handle a session-bind@openssh.com extension whose data (after
 * the extension name) is in body:
 *
 *	string	host key blob
 *	string	session identifier (at most DEST_MAX_SID_LEN bytes)
 *	string	signature by the host key over the session identifier
 *	bool	is_forwarding
 *
 * The whole body is consumed; trailing data is an error.  The attempt is
 * recorded even when it fails (see dest_permitted).  The signature is
 * verified.  A new session id is appended (origin first); the same session
 * id with the same key again is accepted and changes nothing.  Refused with
 * TOK_ERR_CONSTRAINT_REFUSED: binding after an authentication (non-
 * forwarding) binding, the same session id with a different host key, more
 * than DEST_MAX_BINDINGS.  Other errors: parse errors,
 * TOK_ERR_STRING_TOO_LARGE (session id), TOK_ERR_SIGNATURE_INVALID or other
 * key_verify errors, TOK_ERR_ALLOC.  bs is unchanged (except for the
 * attempt flag) on failure.
 */
int dest_bind(struct dest_binding_set *bs, struct buf *body) TOK_WUR;

/* dest_bindings_count: the number of recorded bindings (0 for NULL). */
size_t dest_bindings_count(const struct dest_binding_set *bs);

/*
 * dest_bindings_is_remote: 1 when the connection comes through ssh (it has
 * a binding, or a bind was attempted and failed), else 0.  The agent
 * refuses to load providers for such connections.
 */
int dest_bindings_is_remote(const struct dest_binding_set *bs);

/*
 * dest_bindings_hostkey: the host key of binding i (< count), owned by bs,
 * or NULL.  *forwardedp (may be NULL) gets 1 for a forwarding binding.
 */
const struct key *dest_bindings_hostkey(const struct dest_binding_set *bs,
    size_t i, int *forwardedp);

/* ---- Decisions --------------------------------------------------------- */

/*
 * dest_permitted: may a key with constraints dc be used on a connection
 * with bindings bs?  OpenSSH's identity_permitted.  user is the target user
 * of a sign request (from its userauth request), or NULL when listing keys.
 *  - no constraints (dc NULL or empty): permitted;
 *  - a failed bind and no binding: refused;
 *  - no binding (a local client): permitted;
 *  - else each hop i (from bindings[i-1]'s key, or the origin, to
 *    bindings[i]'s key) needs a matching constraint; every hop but the
 *    last must be a forwarding; user is matched (wildcards * and ?) at the
 *    last hop; a sign request (user != NULL) may not end on a forwarding;
 *  - when listing (user NULL) through a last hop that is a forwarding, some
 *    constraint must also lead on from that host: keys usable at a host but
 *    not beyond it are hidden there.
 * Returns 0 or TOK_ERR_CONSTRAINT_REFUSED.  On refusal *reasonp (may be
 * NULL) gets a static text saying why.
 */
int dest_permitted(const struct dest_constraints *dc,
    const struct dest_binding_set *bs, const char *user,
    const char **reasonp);

/*
 * dest_check_sign: the whole destination check for a sign request of the
 * data at data (len bytes) with key, constrained by dc, on a connection with
 * bindings bs.  Without constraints it returns 0 at once.  Otherwise the
 * connection must be bound, data must be a userauth request (userauth.h)
 * for key whose session id is the most recently bound one, for a forwarded
 * path (more than one binding) it must be hostbound, and a hostbound
 * request's host key must be the last bound host key; then dest_permitted
 * with the request's user decides.
 * Returns 0, TOK_ERR_CONSTRAINT_REFUSED (*reasonp, may be NULL, gets a
 * static text) or TOK_ERR_ALLOC.  On success *userp (may be NULL) gets the
 * target user as a new string the caller frees (NULL when unconstrained).
 */
int dest_check_sign(const struct dest_constraints *dc,
    const struct dest_binding_set *bs, const struct key *key,
    const u_char *data, size_t len, char **userp, const char **reasonp)
    TOK_WUR;
/*
 * dest_check_userauth: dest_check_sign for data already parsed: req is the
 * userauth request for the key (userauth_parse with it), or NULL when the
 * data is not one.
 */
int dest_check_userauth(const struct dest_constraints *dc,
    const struct dest_binding_set *bs, const struct userauth_request *req,
    char **userp, const char **reasonp) TOK_WUR;

/* ---- Names for prompts ------------------------------------------------- */

/*
 * dest_describe_path: the connection's path for a prompt, e.g.
 * "h1 > root@h2" or "this host" when unbound.  Each hop is named by the
 * hostname of the constraint of dc that allows it (when dc is given and
 * permits the path), else by dest_hostkey_name with the default files,
 * else by the host key's fingerprint.  user (may be NULL) is prefixed to
 * the last hop (quoted: "root"@h2) when that hop is an authentication; a
 * path ending in a forwarding gets " (forwarded)" appended.  Names and user
 * are sanitised (common/sanitize.h).  *descp is a new string the caller
 * frees.
 */
int dest_describe_path(const struct dest_constraints *dc,
    const struct dest_binding_set *bs, const char *user, char **descp)
    TOK_WUR;
/*
 * dest_describe_host: the sanitised name of the last hop of bs, as
 * dest_describe_path names it (dc and user as there), in *namep, a new
 * string.  Returns 0, TOK_ERR_INVALID_ARGUMENT when bs has no hop, or
 * TOK_ERR_ALLOC.
 */
int dest_describe_host(const struct dest_constraints *dc,
    const struct dest_binding_set *bs, const char *user, char **namep)
    TOK_WUR;

/*
 * dest_hostkey_name: find the host name for hostkey in known_hosts files:
 * files is a NULL-terminated list of paths, or NULL for the defaults
 * (~/.ssh/known_hosts, ~/.ssh/known_hosts2, /etc/ssh/ssh_known_hosts,
 * /etc/ssh/ssh_known_hosts2).  A plain line whose key equals hostkey
 * yields its first literal (non-negated, wildcard-free) host pattern; a
 * hashed line (|1|salt|hash) only yields hint, when hint hashes to it; an
 * @cert-authority line whose CA signed the host certificate hostkey yields
 * hint when hint matches the line's patterns and the certificate is valid
 * for it, else the first principal of the certificate the patterns match.
 * A key listed in a @revoked line is never named.  Unreadable files are
 * skipped.  *namep is a new string the caller frees.
 * Returns 0, TOK_ERR_KEY_NOT_FOUND or TOK_ERR_ALLOC.
 */
int dest_hostkey_name(const struct key *hostkey, const char *const *files,
    const char *hint, char **namep) TOK_WUR;

#endif /* AGENT_DEST_H */
