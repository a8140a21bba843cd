/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The helper protocol between the agent and its token helpers.
 *
 * Each message is one frame (common/frame.h) whose body starts with
 *	uint32	request id	(0 for unsolicited helper events)
 *	byte	type
 * followed by the type's payload, in SSH wire encoding.  Every request gets
 * exactly one reply carrying its id: the type's reply, or IPC_FAILURE.
 * The agent re-validates every reply: a helper is as untrusted as a client.
 *
 * Each side's first message is IPC_HELLO (id 0) with IPC_VERSION; a side
 * that receives another version, or another first message, stops with an
 * error that names both versions (token/runtime.h, agent/helper.c).
 *
 * Payloads (-> request, <- reply):
 *   IPC_HELLO  <-> uint32 IPC_VERSION, string program name
 *   IPC_PING   -> (empty)   <- IPC_OK: the heartbeat.  Answered by the
 *                 helper's loop at once, however busy its backend is; the
 *                 agent replaces a helper that stops answering it.
 *   IPC_ADD_KEY        -> string add_body (an SSH_AGENTC_ADD_IDENTITY body)
 *                      <- IPC_KEY: uint64 handle, string public key blob,
 *                         string comment, uint32 bytes of add_body consumed
 *                         (constraints, if any, follow them)
 *   IPC_SIGN           -> uint64 handle, string data, uint32 flags
 *                      <- IPC_SIGNATURE: string signature blob
 *   IPC_DROP           -> uint64 handle                 <- IPC_OK
 *   IPC_DROP_ALL       -> (empty)                       <- IPC_OK
 *   IPC_CANCEL         -> uint32 id of the request to cancel (no reply;
 *                         the cancelled request is not answered either)
 *   IPC_ADD_PROVIDER   -> string provider, string pin
 *                      <- IPC_KEYS: uint32 n, n * (uint64 handle,
 *                         string public key blob, string label)
 *   IPC_REMOVE_PROVIDER-> string provider               <- IPC_OK
 *                         (ssh-add -e: the helper closes the module; the
 *                         agent then closes the socket)
 *   IPC_EVENT (id 0)   <- string what, uint32 n, n * (uint64 handle, string
 *                         public key blob, string label): a helper's keys
 *                         changed (token inserted or removed)
 *   IPC_FAILURE        <- uint32 error (the TOK_ERR_* value, negated),
 *                         string detail for the log
 */
#ifndef COMMON_IPC_H
#define COMMON_IPC_H

#include "common/err.h"

#include <sys/types.h>
#include <stdint.h>
#include <stddef.h>

struct buf;

#define IPC_MSG_MAX		(1024 * 1024)
#define IPC_VERSION		2	/* raise on any incompatible change */

enum ipc_type {
	IPC_OK = 1,
	IPC_FAILURE = 2,
	IPC_HELLO = 3,
	IPC_PING = 4,
	IPC_ADD_KEY = 10,
	IPC_KEY = 11,
	IPC_SIGN = 12,
	IPC_SIGNATURE = 13,
	IPC_DROP = 14,
	IPC_DROP_ALL = 15,
	IPC_CANCEL = 16,
	IPC_ADD_PROVIDER = 20,
	IPC_KEYS = 21,
	IPC_REMOVE_PROVIDER = 22,
	IPC_EVENT = 30,
	/* 40-59: sk helper (sk/); 60-79: p11 helper (pkcs/); 80-99: PIV (token/piv-ipc.h) */
};

/* ipc_msg_start: reset msg and write the header. */
int ipc_msg_start(struct buf *msg, uint32_t id, uint8_t type)
    TOK_WUR;
/* ipc_msg_header: consume the header from msg. */
int ipc_msg_header(struct buf *msg, uint32_t *idp, uint8_t *typep)
    TOK_WUR;
/*
 * ipc_get_sign: the IPC_SIGN payload in msg (after the header), for every
 * helper.  *datap points into msg (valid while it is).  Trailing bytes are
 * an error.
 */
int ipc_get_sign(struct buf *msg, uint64_t *handlep, const u_char **datap,
    size_t *lenp, uint32_t *flagsp) TOK_WUR;
/* ipc_msg_failure: reset msg to an IPC_FAILURE reply for id carrying r and detail. */
int ipc_msg_failure(struct buf *msg, uint32_t id, int r, const char *detail)
    TOK_WUR;

#endif /* COMMON_IPC_H */
