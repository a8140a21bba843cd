/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * agentio: a minimal agent-protocol client for the test programs
 * (badframes, agentcli) and the benchmark.  Blocking sockets, every read
 * bounded by a timeout.  Replies are parsed with the buffer API.
 *
 * All functions returning int return 0 or a negative TOK_ERR_* code.
 */
#ifndef TESTS_INTEG_AGENTIO_H
#define TESTS_INTEG_AGENTIO_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define AIO_MSG_MAX		(256 * 1024)	/* the agent's frame limit */

/* Agent protocol message numbers used by the tests. */
#define AIO_FAILURE		5
#define AIO_SUCCESS		6
#define AIO_REQUEST_IDENTITIES	11
#define AIO_IDENTITIES_ANSWER	12
#define AIO_SIGN_REQUEST	13
#define AIO_SIGN_RESPONSE	14
#define AIO_ADD_IDENTITY	17
#define AIO_REMOVE_IDENTITY	18
#define AIO_REMOVE_ALL		19
#define AIO_ADD_SMARTCARD_KEY	20
#define AIO_LOCK		22
#define AIO_UNLOCK		23
#define AIO_ADD_ID_CONSTRAINED	25
#define AIO_EXTENSION		27
#define AIO_EXTENSION_FAILURE	28
#define AIO_EXTENSION_RESPONSE	29

/*
 * aio_connect: connect a stream socket to the agent at path into *fdp.
 * Also sets SIGPIPE to be ignored (once) so a closed peer is an error code.
 */
int aio_connect(const char *path, int *fdp)
    __attribute__((warn_unused_result));
/* aio_send_raw: write all len bytes; TOK_ERR_SYSTEM on error (EPIPE...). */
int aio_send_raw(int fd, const void *p, size_t len)
    __attribute__((warn_unused_result));
/* aio_send_msg: write msg's unread bytes as one frame (length prefixed). */
int aio_send_msg(int fd, const struct buf *msg)
    __attribute__((warn_unused_result));
/*
 * aio_recv_msg: read one frame (at most AIO_MSG_MAX bytes) within
 * timeout_ms (-1: no limit) into a new buffer *msgp (caller frees).
 * TOK_ERR_MESSAGE_INCOMPLETE: the peer closed (EOF or reset) before a whole
 * frame arrived; TOK_ERR_TIMEOUT: nothing complete in time;
 * TOK_ERR_STRING_TOO_LARGE: oversized frame; TOK_ERR_SYSTEM: other errors.
 */
int aio_recv_msg(int fd, int timeout_ms, struct buf **msgp)
    __attribute__((warn_unused_result));
/*
 * aio_request: send msg and read the reply into *replyp (caller frees).
 * Error codes as aio_send_msg/aio_recv_msg.
 */
int aio_request(int fd, const struct buf *msg, int timeout_ms,
    struct buf **replyp) __attribute__((warn_unused_result));
/*
 * aio_list_keys: REQUEST_IDENTITIES on fd; *nkeysp gets the key count and,
 * when blobsp is not NULL, *blobsp a new buffer holding the answer's
 * (string blob, string comment) pairs, trailing data rejected (caller
 * frees).  TOK_ERR_PROTOCOL if the reply is not IDENTITIES_ANSWER.
 */
int aio_list_keys(int fd, int timeout_ms, uint32_t *nkeysp,
    struct buf **blobsp) __attribute__((warn_unused_result));
/* aio_now_ns: CLOCK_MONOTONIC in nanoseconds. */
uint64_t aio_now_ns(void);

#endif /* TESTS_INTEG_AGENTIO_H */
