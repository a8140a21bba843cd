/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Length-prefixed frames: uint32 length + body.  Used for the agent
 * protocol on client sockets and for IPC between the agent and its helpers.
 */
#ifndef COMMON_FRAME_H
#define COMMON_FRAME_H

#include "common/err.h"

#include <stddef.h>

struct buf;

/*
 * frame_take: if in starts with a complete frame whose body is at most max
 * bytes, consume it and return its body as a new buffer in *msgp (caller
 * frees).  Returns 0 with *msgp == NULL when the frame is not complete yet,
 * TOK_ERR_STRING_TOO_LARGE when the announced length exceeds max (the
 * stream can not be resynchronised: close it).
 */
int frame_take(struct buf *in, size_t max, struct buf **msgp)
    TOK_WUR;
/* frame_put: append msg's unread bytes to out as one frame. */
int frame_put(struct buf *out, const struct buf *msg)
    TOK_WUR;

#endif /* COMMON_FRAME_H */
