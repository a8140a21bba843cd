/*
 * The words of prompts and notifications: who asks (process), what for
 * (log in as user@host through which hops, or an SSHSIG namespace), and
 * with which key (comment and fingerprint).
 */
#ifndef AGENT_PROMPT_H
#define AGENT_PROMPT_H

#include <sys/types.h>
#include <stddef.h>

struct conn;
struct identity;
struct userauth_request;

/*
 * prompt_describe: "WHO to ACTION with key "COMMENT" FP", for the sign
 * request of data (len bytes) with id on connection c (req: data parsed as
 * a userauth request for any key, or NULL when it is not one), e.g.
 *	"ssh" (pid 42, /usr/bin/ssh) to log in as git@github (verified host
 *	key) with key "work" SHA256:...
 * Returns a new string (caller frees) or NULL on no memory.
 */
char *prompt_describe(const struct conn *c, const struct identity *id,
    const u_char *data, size_t len, const struct userauth_request *req);
/* prompt_confirm_text: "Allow DESCRIPTION?" (new string or NULL). */
char *prompt_confirm_text(const char *description);

#endif /* AGENT_PROMPT_H */
