/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent's client commands: small requests to a running agent (the one
 * in $SSH_AUTH_SOCK), for what ssh-add can not ask.
 */
#ifndef AGENT_CLIENT_H
#define AGENT_CLIENT_H

#include <stddef.h>

struct buf;

/*
 * client_connect: a connection to the agent at $SSH_AUTH_SOCK, or -1 (the
 * reason printed on stderr).
 */
int client_connect(void);
/*
 * client_request: send req (one message, unframed) on fd and read one
 * reply of at most max bytes into *replyp (caller frees).  Returns 0 or
 * an error (TOK_ERR_PROTOCOL when the agent closed the connection).
 */
int client_request(int fd, const struct buf *req, size_t max,
    struct buf **replyp);

/*
 * client_import_resident: ask the agent to import the resident keys of the
 * security keys plugged in, or of the one at device when not NULL (it asks
 * for the PIN itself).  Prints the outcome; returns the process exit
 * status (0 imported or already loaded, 1 failed, 2 no agent).
 */
int client_import_resident(const char *device);

/*
 * client_audit: `tokagent audit [--json] [N]`: print the agent's last N
 * (default 50) audit records, as "TIME SUMMARY" lines or as JSON lines.
 * Returns the exit status (0, 1 failed, 2 no agent or usage).
 */
int client_audit(int argc, char **argv);
/*
 * client_events: `tokagent events`: print every audit record (one JSON
 * line each) as it happens, until the agent goes away or the output
 * closes.  Returns the exit status.
 */
int client_events(int argc, char **argv);

/*
 * client_piv_reread: ask the agent at $SSH_AUTH_SOCK, if it is tokagent,
 * to read its PIV cards again (after tokagent piv-setup changed one), so
 * the new key is listed now.  Says on stderr when it could not.  Returns
 * 0 when the agent did it.
 */
int client_piv_reread(void);

#endif /* AGENT_CLIENT_H */
