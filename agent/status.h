/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent status: what the agent knows about tokens, keys, pending
 * requests, PIN caches and helpers, through the agent extension
 * STATUS_EXT, and the client command that asks for it and prints it as
 * text or JSON.
 *
 * Request: SSH_AGENTC_EXTENSION, string STATUS_EXT (nothing after it).
 * Reply: SSH_AGENT_EXTENSION_RESPONSE, string STATUS_EXT, uint32 version
 * (STATUS_VERSION), then five sections, each uint32 n and n records:
 *   tokens:   string kind ("fido", "pkcs11"), string name, string where
 *             (device or module path), string serial ("" when unknown),
 *             byte present
 *   keys:     string type, string fingerprint, string comment, string
 *             token, byte present, string constraints
 *   pending:  uint64 client, uint32 pid, string program, string key
 *             fingerprint, string key comment, string state ("confirm",
 *             "pin", "touch", "token", "queued"), string token, uint32
 *             seconds waited, string description
 *   pins:     string token, string device, uint32 seconds left
 *             (STATUS_PIN_KEPT: no expiry, kept until the token is
 *             pulled or the agent locked)
 *   helpers:  string kind, string name, byte running, uint32 pid, uint32
 *             requests in flight, uint32 restarts
 * Strings may hold anything a peer chose (comments, product names): the
 * client sanitises them.  A reply with trailing bytes is malformed.
 */
#ifndef AGENT_STATUS_H
#define AGENT_STATUS_H

#include <stdint.h>

struct buf;
struct conn;

#define STATUS_EXT		"status@tokagent"
#define STATUS_VERSION		1
#define STATUS_MAX_RECORDS	100000	/* per section, for the client */
#define STATUS_PIN_KEPT		0xffffffffU

/* status_request: the STATUS_EXT extension on c (m after its name). */
void status_request(struct conn *c, struct buf *m);
/*
 * status_client: `tokagent status [--json]`: ask the agent at
 * $SSH_AUTH_SOCK and print.  Returns the exit status: 0, 1 when the agent
 * refused or answered badly, 2 when it could not be reached.
 */
int status_client(int json);
/*
 * status_parse: parse a reply (after its type byte and extension name)
 * into text (json 0) or JSON (json 1) appended to out.  Returns 0 or a
 * TOK_ERR_* for a malformed reply.  Exposed for tests and fuzzing.
 */
int status_parse(struct buf *reply, int json, struct buf *out);

#endif /* AGENT_STATUS_H */
