/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Client connections on the agent socket: non-blocking I/O, framing,
 * peer credentials, and the one request a connection may have in flight.
 * A connection's requests are answered in order; while one waits (for a
 * helper, a touch, a prompt) the connection reads nothing more, and every
 * other connection carries on.
 *
 * No client can hold up another: each connection's replies wait in its own
 * output queue, and while more than CONN_OUT_MAX bytes wait there (a client
 * that does not read) its further requests are neither read nor handled.
 * A connection handles at most CONN_BATCH requests in a row before the
 * others get their turn.  A client process (peer pid) may have at most
 * CONN_CLIENT_INFLIGHT requests waiting at once over all its connections;
 * its other connections wait, in order, for one of them to finish, so no
 * client can fill a helper's queue (a list is answered at once, so it is
 * never held back).  When descriptors run out (or the
 * connections reach the limit that keeps some for helpers and prompts),
 * the listening socket is not polled until a connection closes or a short
 * back-off passes.
 */
#ifndef AGENT_CONN_H
#define AGENT_CONN_H

#include <sys/types.h>
#include <stdint.h>

struct buf;
struct dest_binding_set;
struct procinfo_chain;

#define CONN_MSG_MAX	(256 * 1024)	/* larger messages close the connection */
#define CONN_OUT_MAX	(256 * 1024)	/* output that stops a connection's input */
#define CONN_BATCH	16		/* requests handled per connection per turn */
#define CONN_CLIENT_INFLIGHT 8		/* waiting requests per client process */

struct conn_client;

struct conn {
	uint64_t serial;		/* for logs */
	int fd;
	uid_t uid;
	pid_t pid;			/* 0 when unknown */
	struct dest_binding_set *bindings;
	/* private to conn.c */
	struct loop_fd *lf;
	struct buf *in, *out;
	void *op;			/* request in flight */
	void (*op_cancel)(void *op);
	int closing;
	int dispatching;
	int parked;			/* waits for its client's in-flight budget */
	int scheduled;			/* has requests left for its next turn */
	int woken;			/* unparked; counted in client->nwoken */
	struct conn_client *client;
	struct procinfo_chain *procs;	/* see conn_procs */
	char *client_json;		/* its audit "client" object, made once */
	struct conn *next, *prev;
	struct conn *park_next;		/* its client's parked connections */
	struct conn *run_next;		/* connections with a turn to come */
};

/*
 * A request handler: m is one message body (type byte first) from c, valid
 * during the call.  It answers with conn_reply / conn_reply_status, now or
 * later (conn_wait).
 */
typedef void conn_handler(struct conn *c, struct buf *m);

/* conn_set_handler: who handles requests (the agent: dispatch_message). */
void conn_set_handler(conn_handler *handler);
/*
 * conn_listen: accept clients on the listening socket fd.  allow_uid is the
 * uid (besides root) allowed to connect.
 */
void conn_listen(int fd, uid_t allow_uid);
/*
 * conn_reply: queue reply (a message body, type byte first) for the
 * request being handled and end it; the next request is then read.
 */
void conn_reply(struct conn *c, const struct buf *reply);
/* conn_reply_status: reply SSH_AGENT_SUCCESS (ok) or SSH_AGENT_FAILURE. */
void conn_reply_status(struct conn *c, int ok);
/*
 * conn_wait: the current request continues asynchronously as op; cancel(op)
 * is called if the connection closes first (op must then be dropped).
 */
void conn_wait(struct conn *c, void *op, void (*cancel)(void *op));
/*
 * conn_new: a connection on the connected, non-blocking socket fd (owned from
 * now on) for a peer with uid and pid; NULL on no memory (fd is closed).
 */
struct conn *conn_new(int fd, uid_t uid, pid_t pid);
/* conn_free: close c now, cancelling its request in flight. */
void conn_free(struct conn *c);
/*
 * conn_push: queue msg (a message body, type byte first) to c outside any
 * request (events for a subscriber).  Refused with TOK_ERR_NO_BUFFER_SPACE
 * when more than max bytes are already waiting for c to read: a client
 * that stops reading loses messages, never the agent's time.
 */
int conn_push(struct conn *c, const struct buf *msg, size_t max);
/*
 * conn_procs: the requesting process and its ancestors (procinfo.h), read
 * from /proc once per connection (the peer's pid does not change).  NULL
 * on no memory.  Owned by c.
 */
const struct procinfo_chain *conn_procs(struct conn *c);
/* conn_count: open client connections. */
size_t conn_count(void);
/* conn_close_all: close every client connection (at exit). */
void conn_close_all(void);

#endif /* AGENT_CONN_H */
