/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * agent/sockdir.h: OpenSSH 10's per-user agent socket directory,
 * ~/.ssh/agent/, shared with ssh-agent and sshd's agent forwarding.
 *
 * Sockets there are named s.<host hash>.agent.<10 random characters>, the
 * host hash being the first SOCKDIR_HASHLEN characters of OpenSSH's text
 * form of SHA-512(hostname), so that a home directory shared between
 * machines keeps each machine's sockets apart, and so that OpenSSH's
 * `ssh-agent -u` and tokagent -u treat each other's sockets alike.
 */
#ifndef AGENT_SOCKDIR_H
#define AGENT_SOCKDIR_H

#include <stddef.h>

#define SOCKDIR_SUBDIR		".ssh/agent"
#define SOCKDIR_HASHLEN		10
/* A socket is stale only after an hour without change (as OpenSSH). */
#define SOCKDIR_STALE_AGE_S	(60 * 60)

/*
 * sockdir_home: $HOME if set and not empty, else the password database's
 * home directory; a new string, or NULL when neither is known.
 */
char *sockdir_home(void);

/*
 * sockdir_hostname_hash: the host hash (SOCKDIR_HASHLEN characters and a
 * NUL) into out, which holds at least SOCKDIR_HASHLEN + 1 bytes.
 * 0 on success; TOK_ERR_SYSTEM, TOK_ERR_LIBCRYPTO or
 * TOK_ERR_NO_BUFFER_SPACE (logged) on failure.
 */
int sockdir_hostname_hash(char *out, size_t outlen)
    __attribute__((warn_unused_result));

/*
 * sockdir_listen: create home/.ssh and home/.ssh/agent (0700) if missing,
 * bind and listen on a new home/.ssh/agent/s.<hash>.agent.XXXXXXXXXX
 * socket (mode 0600), retrying another name while one is in use.  On
 * success *fdp is the listening socket (close-on-exec, non-blocking) and
 * path (pathlen bytes) its name; 0.  On failure (logged) a TOK_ERR_*:
 * TOK_ERR_INVALID_ARGUMENT (no home), TOK_ERR_SYSTEM (see the log),
 * TOK_ERR_NO_BUFFER_SPACE (path too long), TOK_ERR_LIBCRYPTO.
 */
int sockdir_listen(const char *home, int *fdp, char *path, size_t pathlen)
    __attribute__((warn_unused_result));

/*
 * sockdir_clean_stale: remove the sockets in home/.ssh/agent that nobody
 * listens on any more and that have not changed for SOCKDIR_STALE_AGE_S,
 * only this host's (by the hash in the name) unless all_hosts.  Anything
 * that is not a socket is left alone.  Never fails: problems are logged.
 */
void sockdir_clean_stale(const char *home, int all_hosts);

#endif /* AGENT_SOCKDIR_H */
