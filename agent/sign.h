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

/*
 * sign_request: handle a sign request (m after the type byte).  The lock
 * was checked by the caller; touch and PIN notes of the key's helper come
 * back to this request through helper_request_notes (agent/helper.h).
 */
void sign_request(struct conn *c, struct buf *m);

#endif /* AGENT_SIGN_H */
