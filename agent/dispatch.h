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

#endif /* AGENT_DISPATCH_H */
