/*
 * Signing (SSH_AGENTC_SIGN_REQUEST).  A request passes, in this order:
 * lock -> lifetime -> destination -> policy -> confirm, and only then
 * reaches the helper holding the key.  A refused request never touches a
 * token.  The helper's signature is checked before it is returned.
 */
#ifndef AGENT_SIGN_H
#define AGENT_SIGN_H

struct buf;
struct conn;

/* sign_request: handle a sign request (m after the type byte). */
void sign_request(struct conn *c, struct buf *m);

#endif /* AGENT_SIGN_H */
