/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The client half of the Assuan protocol as pinentry programs speak it,
 * for one pipelined conversation: the agent writes all its commands at
 * once (OPTION..., SETDESC..., GETPIN or CONFIRM, BYE) and this reader
 * matches the replies to them in order.  Every byte from the pinentry is
 * hostile: lines are bounded (ASSUAN_LINE_MAX), data lines are
 * percent-decoded into bounded secure memory, anything unexpected fails.
 *
 * Replies: "OK [text]" or "ERR code [text]" end the reply to one command
 * (the first one answers the connection itself); "D data" lines carry the
 * data of the reply in progress; "S ...", "#..." are status and comments
 * (ignored); anything else, including INQUIRE, is an error.
 */
#ifndef AGENT_ASSUAN_H
#define AGENT_ASSUAN_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#define ASSUAN_LINE_MAX		1000	/* bytes of a line, without LF */
#define ASSUAN_DATA_MAX		1024	/* decoded bytes of the final reply */
#define ASSUAN_LINES_MAX	256	/* lines of one conversation */

/* Assuan/gpg error codes pinentry uses (low 16 bits of its ERR code). */
#define ASSUAN_GPG_ERR_CANCELED		99
#define ASSUAN_GPG_ERR_NOT_CONFIRMED	114

struct assuan;
struct buf;

/*
 * assuan_new: a reader for a conversation whose nth reply (counting the
 * greeting as reply 0) is the one that matters: its OK or ERR ends the
 * conversation.  Returns NULL on no memory.
 */
struct assuan *assuan_new(u_int final);
/* assuan_free: NULL ok; the data is zeroed. */
void assuan_free(struct assuan *a);
/*
 * assuan_feed: the next len bytes from the pinentry.  Returns 0 when more
 * is needed, 1 when the final reply is complete (later bytes are not
 * read), or a negative TOK_ERR_* when the input is malformed (a line too
 * long, a bad escape, a D line outside the final reply, too much data,
 * an unknown line).
 */
int assuan_feed(struct assuan *a, const void *p, size_t len);
/*
 * assuan_result: after assuan_feed returned 1: 0 when the final reply was
 * OK, else the (positive) error code of its ERR line.
 */
uint32_t assuan_result(const struct assuan *a);
/* assuan_data_len: bytes of data the final reply carried so far. */
size_t assuan_data_len(const struct assuan *a);
/*
 * assuan_take_data: after assuan_feed returned 1: the decoded data of the
 * final reply as a NUL-terminated string in secure memory (secmem_free),
 * or NULL when it had none or it holds a NUL byte.  The reader keeps none.
 */
char *assuan_take_data(struct assuan *a);
/*
 * assuan_put_command: append "CMD[ ARG]\n" to b with arg percent-escaped
 * (%, CR, LF and every other control byte as %XX), so a hostile argument
 * can not start a command of its own.  Returns 0 or TOK_ERR_* (also when
 * the line would exceed ASSUAN_LINE_MAX: arg is then cut to fit).
 */
int assuan_put_command(struct buf *b, const char *cmd, const char *arg);

#endif /* AGENT_ASSUAN_H */
