/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness for vfido's parsers: the first byte picks the target.
 *   0: CTAPHID reports (64 bytes each) through the framing layer, with
 *      complete CBOR requests run by the authenticator on an in-memory
 *      token, touches granted
 *   1: one CTAP2 request straight into the authenticator
 *   2: a state file image
 */
#include "config.h"

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "tests/vfido/ctap2.h"
#include "tests/vfido/ctaphid.h"
#include "tests/vfido/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
run_request(struct vfido_ctap *c, const u_char *msg, size_t len)
{
	struct buf *resp;

	if ((resp = buf_new()) == NULL)
		return;
	if (vfido_ctap_handle(c, msg, len, 0, resp, NULL) ==
	    VFIDO_CTAP_NEED_UP)
		(void)vfido_ctap_handle(c, msg, len, 1, resp, NULL);
	buf_free(resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int protos[2] = { 2, 1 };
	struct vfido_state *st = NULL;
	struct vfido_ctap *c = NULL;
	struct vfido_hid *h = NULL;
	struct vfido_hid_event ev;
	struct buf *out = NULL;
	size_t off;
	int64_t now = 0;

	log_init("fuzz_vfido", LOG_LEVEL_QUIET, 1);
	if (size < 1)
		return 0;
	if (data[0] == 2) {
		if (vfido_state_parse(data + 1, size - 1, &st) == 0)
			vfido_state_free(st);
		return 0;
	}
	if (vfido_state_new("fuzz", &st) != 0 ||
	    vfido_ctap_new(st, protos, 2, NULL, &c) != 0)
		goto out;
	if (data[0] == 1) {
		run_request(c, data + 1, size - 1);
		goto out;
	}
	if (vfido_hid_new(&h) != 0 || (out = vfido_hid_new_output()) == NULL)
		goto out;
	for (off = 1; off + VFIDO_HID_REPORT <= size;
	    off += VFIDO_HID_REPORT) {
		now += 100;
		if (vfido_hid_input(h, data + off, now, out, &ev) != 0 ||
		    vfido_hid_tick(h, now) != 0)
			break;
		if (ev.type == VFIDO_HID_EV_REQUEST &&
		    ev.cmd == VFIDO_HID_CBOR)
			run_request(c, ev.data, ev.len);
		/* like the daemon: written out, so the queue stays bounded */
		if (buf_consume(out, buf_len(out)) != 0)
			break;
	}
 out:
	buf_free(out);
	vfido_hid_free(h);
	vfido_ctap_free(c);
	vfido_state_free(st);
	return 0;
}
