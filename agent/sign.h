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
 * sign_touch_event: the sk helper's token (device, named name for people)
 * for request reqid waits for a touch (begin 1) or no longer (0): show or
 * close the notification.  begin SIGN_TOUCH_SELECT: several tokens wait
 * for a touch so that the user shows which one holds the key (device and
 * name are then "*").
 */
#define SIGN_TOUCH_SELECT	2
void sign_touch_event(uint32_t reqid, const char *device, const char *name,
    int begin);
/*
 * sign_pin_wanted: request reqid at the sk helper is about to fail for
 * want of the PIN of the token at device (name for people; retries: PIN
 * attempts left or SK_IPC_RETRIES_UNKNOWN): the PIN prompt of the retry
 * names that token and gives the PIN to it only.  Returns 1 when reqid is
 * a sign request, else 0.
 */
int sign_pin_wanted(uint32_t reqid, const char *device, const char *name,
    uint32_t retries);

#endif /* AGENT_SIGN_H */
