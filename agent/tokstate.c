/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The tokens the helpers told the agent about (see tokstate.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/loop.h"
#include "agent/tokstate.h"

static struct tokstate_device tokstate_devices[TOKSTATE_MAX_DEVICES];

static struct tokstate_device *
tokstate_find(const char *device, int create)
{
	size_t i, free_slot = TOKSTATE_MAX_DEVICES;

	for (i = 0; i < TOKSTATE_MAX_DEVICES; i++) {
		if (tokstate_devices[i].device == NULL) {
			if (free_slot == TOKSTATE_MAX_DEVICES)
				free_slot = i;
			continue;
		}
		if (strcmp(tokstate_devices[i].device, device) == 0)
			return &tokstate_devices[i];
	}
	if (!create)
		return NULL;
	/* Full: forget a pulled token first. */
	for (i = 0; free_slot == TOKSTATE_MAX_DEVICES &&
	    i < TOKSTATE_MAX_DEVICES; i++) {
		if (!tokstate_devices[i].present) {
			free(tokstate_devices[i].device);
			free(tokstate_devices[i].name);
			memset(&tokstate_devices[i], 0,
			    sizeof(tokstate_devices[i]));
			free_slot = i;
		}
	}
	if (free_slot == TOKSTATE_MAX_DEVICES ||
	    (tokstate_devices[free_slot].device = strdup(device)) == NULL)
		return NULL;
	return &tokstate_devices[free_slot];
}

void
tokstate_device_event(const char *device, const char *name, int present)
{
	struct tokstate_device *d;
	char *n;

	if ((d = tokstate_find(device, 1)) == NULL)
		return;
	if ((n = strdup(name)) != NULL) {
		free(d->name);
		d->name = n;
	}
	d->present = present;
	if (!present)
		d->pin_until_ms = 0;	/* the helper forgets it too */
}

void
tokstate_pin_cached(const char *device, uint32_t seconds)
{
	struct tokstate_device *d;

	if (seconds == 0 || (d = tokstate_find(device, 1)) == NULL)
		return;
	d->pin_until_ms = loop_now_ms() + (uint64_t)seconds * 1000;
}

void
tokstate_pin_kept(const char *device, const char *name, int kept)
{
	struct tokstate_device *d;
	char *n;

	if ((d = tokstate_find(device, kept)) == NULL)
		return;
	if (kept && (n = strdup(name)) != NULL) {
		free(d->name);
		d->name = n;
	}
	d->pin_until_ms = kept ? TOKSTATE_PIN_KEPT : 0;
}

void
tokstate_pin_forget(const char *device)
{
	struct tokstate_device *d;
	size_t i;

	if (device != NULL) {
		if ((d = tokstate_find(device, 0)) != NULL)
			d->pin_until_ms = 0;
		return;
	}
	for (i = 0; i < TOKSTATE_MAX_DEVICES; i++)
		tokstate_devices[i].pin_until_ms = 0;
}

void
tokstate_foreach(void (*cb)(const struct tokstate_device *d, void *arg),
    void *arg)
{
	size_t i;

	for (i = 0; i < TOKSTATE_MAX_DEVICES; i++)
		if (tokstate_devices[i].device != NULL)
			cb(&tokstate_devices[i], arg);
}
