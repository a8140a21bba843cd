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

#include <stdint.h>

/* sign_request: handle a sign request (m after the type byte). */
void sign_request(struct conn *c, struct buf *m);
/*
 * sign_touch_event: the sk helper's token for request reqid waits for a
 * touch (begin) or no longer: show or close the notification.
 */
void sign_touch_event(uint32_t reqid, const char *device, int begin);

#endif /* AGENT_SIGN_H */
