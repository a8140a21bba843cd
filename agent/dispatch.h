/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Agent protocol dispatch: one client message in, one reply out (maybe later). */
#ifndef AGENT_DISPATCH_H
#define AGENT_DISPATCH_H

struct buf;
struct conn;

/*
 * dispatch_message: handle the message body m (type byte first) from c.
 * The reply is sent now with conn_reply*, or later after conn_wait.
 * m is only valid during the call.
 */
void dispatch_message(struct conn *c, struct buf *m);

/*
 * dispatch_remove_all: what SSH_AGENTC_REMOVE_ALL_IDENTITIES does, without
 * a client (SIGUSR1, as OpenSSH 10's agent): every key dropped (why goes to
 * the log), token keys kept away until added again, cached PINs wiped.
 */
void dispatch_remove_all(const char *why);

#endif /* AGENT_DISPATCH_H */
