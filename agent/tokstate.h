/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * What the agent knows of the tokens its helpers reach by device (FIDO
 * security keys from the sk helper; PINs cached per device by agent/pin.c):
 * name, presence and until when a PIN is cached.  Written by the helpers'
 * agent sides and the PIN code, read by tokagent status.  Bounded: the
 * TOKSTATE_MAX_DEVICES last seen, pulled tokens forgotten first.
 */
#ifndef AGENT_TOKSTATE_H
#define AGENT_TOKSTATE_H

#include <stdint.h>

#define TOKSTATE_MAX_DEVICES	64
#define TOKSTATE_PIN_KEPT	UINT64_MAX	/* until pulled or forgotten */

struct tokstate_device {
	char *device;			/* path or unix: name */
	char *name;			/* product, for people; may be NULL */
	int present;
	uint64_t pin_until_ms;		/* monotonic; 0: no PIN cached;
					 * TOKSTATE_PIN_KEPT: no expiry */
};

/* tokstate_device_event: a helper saw a token plugged (1) or pulled. */
void tokstate_device_event(const char *device, const char *name,
    int present);
/*
 * tokstate_pin_cached: the PIN of the token at device is kept for seconds
 * (0: for the next operation only, not recorded).
 */
void tokstate_pin_cached(const char *device, uint32_t seconds);
/*
 * tokstate_pin_kept: a helper keeps the PIN of the token at device (named
 * name) with no expiry (kept 1), or no longer does (kept 0).
 */
void tokstate_pin_kept(const char *device, const char *name, int kept);
/* tokstate_pin_forget: the PIN of device (NULL: every PIN) is gone. */
void tokstate_pin_forget(const char *device);
/* tokstate_foreach: cb for every token known, present or not. */
void tokstate_foreach(void (*cb)(const struct tokstate_device *d,
    void *arg), void *arg);

#endif /* AGENT_TOKSTATE_H */
