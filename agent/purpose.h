/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * What a sign request is for, read once from the data to sign and the
 * connection's session bindings, for policy, prompts and the audit trail:
 * an SSH login (user, destination host, hops, forwarding) or an SSHSIG
 * signature (namespace), or other data.
 */
#ifndef AGENT_PURPOSE_H
#define AGENT_PURPOSE_H

#include <sys/types.h>
#include <stddef.h>

#include "agent/policy.h"

struct conn;
struct userauth_request;

struct purpose {
	enum policy_use use;
	char *sshsig_namespace;	/* SSHSIG: its namespace */
	char *user;		/* login: the target user */
	size_t hops;		/* session bindings of the connection */
	int bound;		/* at least one verified binding */
	int forwarded;		/* the agent was forwarded to get here */
	char *host;		/* last bound host, named (known_hosts), or NULL */
	char *hostkey_fp;	/* its host key's fingerprint, or NULL */
	const char *hosts[3];	/* host, hostkey_fp: names for policy */
};

/*
 * purpose_read: what the len bytes at data, to be signed on connection c,
 * are for; req is data parsed as a userauth request for the signing key
 * (the caller parses once), or NULL when it is not one.  Returns a new
 * purpose (purpose_free), or NULL on no memory.  Never fails on bad data:
 * what is not a login or SSHSIG blob is "other".
 */
struct purpose *purpose_read(const struct conn *c, const u_char *data,
    size_t len, const struct userauth_request *req);
/* purpose_free: release p (NULL ok). */
void purpose_free(struct purpose *p);

/*
 * purpose_sshsig_namespace: the namespace of an SSHSIG signed-data blob
 * ("SSHSIG", string namespace, string reserved, string hash algorithm,
 * string hash), as a new string, or NULL when data is not one.
 */
char *purpose_sshsig_namespace(const u_char *data, size_t len);

#endif /* AGENT_PURPOSE_H */
