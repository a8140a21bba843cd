/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The words of prompts and notifications: who asks (process), what for
 * (log in as user@host through which hops, or an SSHSIG namespace), with
 * which key (comment and fingerprint) and on which token.
 *
 * Every prompt has a short first line (at most PROMPT_LINE_MAX columns) that
 * asks or tells what to do, and details on the following lines.  Every
 * field a peer controls goes through common/sanitize: quoted when the
 * requesting program or the remote host chose it, and a last line says so.
 */
#ifndef AGENT_PROMPT_H
#define AGENT_PROMPT_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#define PROMPT_LINE_MAX		60	/* columns of a first line */
#define PROMPT_RETRIES_UNKNOWN	UINT32_MAX
/*
 * Fewer tries left than this before a first PIN: warned of.  Not 3: a
 * PIV card (a YubiKey) starts with 3, and a warning on every first
 * prompt would teach users to ignore it.
 */
#define PROMPT_FEW_RETRIES	3

struct conn;
struct identity;
struct prompt_req;

/*
 * prompt_req_new: the words for the sign request of data (len bytes) with
 * id on connection c.  NULL on no memory.
 */
struct prompt_req *prompt_req_new(const struct conn *c,
    const struct identity *id, const u_char *data, size_t len);
/*
 * prompt_req_for_key: the words for a request with no data to parse (a
 * PIN a token wants for id outside a signature).  NULL on no memory.
 */
struct prompt_req *prompt_req_for_key(const struct identity *id);
/* prompt_req_free: NULL ok. */
void prompt_req_free(struct prompt_req *pr);
/* prompt_req_pid: the requesting process, 0 when unknown. */
pid_t prompt_req_pid(const struct prompt_req *pr);
/*
 * prompt_req_summary: one sanitised line for logs and helpers:
 * "ssh" (pid 42, /usr/bin/ssh) to log in as "git"@github with key "work"
 * SHA256:....  Lives as long as pr.
 */
const char *prompt_req_summary(const struct prompt_req *pr);
/*
 * prompt_confirm: "Allow "ssh" to log in as "root"@host with key "k"?"
 * then the details.  New string or NULL.
 */
char *prompt_confirm(const struct prompt_req *pr);
/*
 * prompt_pin: a PIN prompt for the token named token (raw; NULL: by kind)
 * at device (raw, may be NULL), kind "security key" or "token": first line
 * "Enter PIN for KIND "TOKEN"", after "Wrong PIN (N tries left). " when
 * wrong; retries (PROMPT_RETRIES_UNKNOWN: unknown) adds a warning when
 * fewer than PROMPT_FEW_RETRIES are left.  The second line says what for: the request pr, or when
 * pr is NULL purpose (the agent's own words, at most PROMPT_LINE_MAX
 * columns; may be NULL); the token (unless device is NULL and pr is
 * given: then pr's details name it) and the details of pr follow.  New
 * string or NULL.
 */
char *prompt_pin(const struct prompt_req *pr, const char *purpose,
    const char *kind, const char *token, const char *device, int wrong,
    uint32_t retries);
/*
 * prompt_touch: the touch notice: "Touch your security key", then "to allow
 * "ssh" to ..." (when pr is given), the token (raw name and device) and
 * the details of pr.  New string or NULL.
 */
char *prompt_touch(const struct prompt_req *pr, const char *token,
    const char *device);
/*
 * prompt_token_label: the name of the PKCS#11 token holding id, for
 * prompts: the token label part of the key's label ("token/key"), never a
 * module path.  New string (raw) or NULL when unknown.
 */
char *prompt_token_label(const struct identity *id);
/*
 * prompt_fit: the first of the n candidate lines (already sanitised)
 * that fits in PROMPT_LINE_MAX columns, else the last one cut to fit.
 * New string or NULL.
 */
char *prompt_fit(char *const lines[], size_t n);

#endif /* AGENT_PROMPT_H */
