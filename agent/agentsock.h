/*
 * The agent's listening socket: taken over from systemd (socket
 * activation), or bound at a path, replacing the socket of an agent that
 * died there but never that of a live one.  Copyright (c) 2026 tokagent
 * authors; see LICENSE.
 */
#ifndef AGENT_AGENTSOCK_H
#define AGENT_AGENTSOCK_H

#include <stddef.h>

/*
 * agentsock_activated: the listening socket passed by the service manager
 * ($LISTEN_PID / $LISTEN_FDS, sd_listen_fds), made close-on-exec and
 * non-blocking, with its path copied to path (pathlen bytes); the LISTEN_*
 * variables are removed from the environment so no child sees them.
 * Returns the descriptor, -1 when the agent was not socket-activated, or
 * exits (logged) when the passed descriptors are not exactly one listening
 * Unix stream socket.
 */
int agentsock_activated(char *path, size_t pathlen);

/* Results of agentsock_bind. */
#define AGENTSOCK_LIVE		-2	/* an agent listens on path: left alone */
#define AGENTSOCK_FAILED	-1	/* logged */

/*
 * agentsock_bind: a new non-blocking, close-on-exec Unix stream socket
 * listening on path with mode 0600.  A socket already at path that nobody
 * listens on (left by a dead agent) and that belongs to this user is
 * replaced; a socket an agent listens on is not (AGENTSOCK_LIVE); a path
 * that is not a socket, or not ours, is never removed (AGENTSOCK_FAILED).
 * Starts racing for the same path are serialised with a lock on its
 * directory.  Returns the descriptor or AGENTSOCK_*.
 */
int agentsock_bind(const char *path);

#endif /* AGENT_AGENTSOCK_H */
