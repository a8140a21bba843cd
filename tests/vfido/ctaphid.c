/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* CTAPHID message framing for the virtual authenticator. */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "tests/vfido/ctaphid.h"

#define CHANNELS_MAX	16
#define OUTPUT_MAX	(256 * 1024)
#define CAPS		(0x01 | 0x04 | 0x08)	/* WINK | CBOR | NMSG */

struct vfido_hid {
	uint32_t	 cids[CHANNELS_MAX];	/* allocated here, LRU order */
	size_t		 ncids;
	uint32_t	 next_cid;
	uint32_t	 processing;		/* cid, 0: idle */
	int		 msg_timeout_ms;
	/* message being assembled, from the opener with queue asm_out */
	int		 busy;
	struct buf	*asm_out;
	uint32_t	 asm_cid;
	uint8_t		 asm_cmd;
	size_t		 asm_len, asm_got;
	uint8_t		 asm_seq;
	int64_t		 asm_deadline;
	u_char		 msg[VFIDO_HID_MAX_MSG];
};

static uint32_t
get32(const u_char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(u_char *p, uint32_t v)
{
	p[0] = (u_char)(v >> 24);
	p[1] = (u_char)(v >> 16);
	p[2] = (u_char)(v >> 8);
	p[3] = (u_char)v;
}

int
vfido_hid_new(struct vfido_hid **hp)
{
	struct vfido_hid *h;

	*hp = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return TOK_ERR_ALLOC;
	h->next_cid = 1;
	h->msg_timeout_ms = VFIDO_HID_MSG_TIMEOUT_MS;
	*hp = h;
	return 0;
}

void
vfido_hid_free(struct vfido_hid *h)
{
	if (h == NULL)
		return;
	freezero(h, sizeof(*h));
}

struct buf *
vfido_hid_new_output(void)
{
	struct buf *b;

	if ((b = buf_new()) == NULL)
		return NULL;
	if (buf_set_max_size(b, OUTPUT_MAX) != 0) {
		buf_free(b);
		return NULL;
	}
	return b;
}

void
vfido_hid_set_msg_timeout(struct vfido_hid *h, int ms)
{
	h->msg_timeout_ms = ms;
}

void
vfido_hid_set_processing(struct vfido_hid *h, uint32_t cid)
{
	h->processing = cid;
}

void
vfido_hid_detach(struct vfido_hid *h, struct buf *out)
{
	if (h->asm_out == out)
		h->asm_out = NULL;
}

int64_t
vfido_hid_deadline(const struct vfido_hid *h)
{
	return h->busy ? h->asm_deadline : -1;
}

int
vfido_hid_send(struct buf *out, uint32_t cid, uint8_t cmd,
    const u_char *data, size_t len)
{
	u_char rep[VFIDO_HID_REPORT];
	size_t off = 0, n;
	uint8_t seq = 0;
	int r;

	if (len > VFIDO_HID_MAX_MSG)
		return TOK_ERR_INVALID_ARGUMENT;
	memset(rep, 0, sizeof(rep));
	put32(rep, cid);
	rep[4] = 0x80 | cmd;
	rep[5] = (u_char)(len >> 8);
	rep[6] = (u_char)len;
	n = len < VFIDO_HID_INIT_DATA ? len : VFIDO_HID_INIT_DATA;
	if (n > 0)
		memcpy(rep + 7, data, n);
	off = n;
	if ((r = buf_put(out, rep, sizeof(rep))) != 0)
		return r;
	while (off < len) {
		memset(rep, 0, sizeof(rep));
		put32(rep, cid);
		rep[4] = seq++;
		n = len - off < VFIDO_HID_CONT_DATA ?
		    len - off : VFIDO_HID_CONT_DATA;
		memcpy(rep + 5, data + off, n);
		off += n;
		if ((r = buf_put(out, rep, sizeof(rep))) != 0)
			return r;
	}
	return 0;
}

int
vfido_hid_error(struct buf *out, uint32_t cid, uint8_t code)
{
	debug_f("cid %08x: error 0x%02x", cid, code);
	return vfido_hid_send(out, cid, VFIDO_HID_ERROR, &code, 1);
}

static int
known_cid(const struct vfido_hid *h, uint32_t cid)
{
	size_t i;

	for (i = 0; i < h->ncids; i++)
		if (h->cids[i] == cid)
			return 1;
	return 0;
}

static uint32_t
alloc_cid(struct vfido_hid *h)
{
	uint32_t cid;

	do {
		cid = h->next_cid++;
	} while (cid == 0 || cid == VFIDO_HID_BROADCAST);
	if (h->ncids == CHANNELS_MAX) {
		memmove(h->cids, h->cids + 1,
		    (CHANNELS_MAX - 1) * sizeof(*h->cids));
		h->ncids--;
	}
	h->cids[h->ncids++] = cid;
	return cid;
}

static int
do_init(struct vfido_hid *h, uint32_t cid, const u_char *nonce,
    struct buf *out, struct vfido_hid_event *ev)
{
	u_char reply[17];
	uint32_t newcid;

	if (h->busy && h->asm_cid == cid)
		h->busy = 0;
	newcid = cid == VFIDO_HID_BROADCAST ? alloc_cid(h) : cid;
	memcpy(reply, nonce, 8);
	put32(reply + 8, newcid);
	reply[12] = 2;		/* CTAPHID protocol version */
	reply[13] = 1;		/* device version major.minor.build */
	reply[14] = 0;
	reply[15] = 0;
	reply[16] = CAPS;
	if (cid != VFIDO_HID_BROADCAST) {
		ev->type = VFIDO_HID_EV_RESYNC;
		ev->cid = cid;
	}
	return vfido_hid_send(out, cid, VFIDO_HID_INIT, reply, sizeof(reply));
}

static int
dispatch(struct vfido_hid *h, uint32_t cid, uint8_t cmd, size_t len,
    struct buf *out, struct vfido_hid_event *ev)
{
	switch (cmd) {
	case VFIDO_HID_PING:
		return vfido_hid_send(out, cid, VFIDO_HID_PING, h->msg, len);
	case VFIDO_HID_WINK:
		if (len != 0)
			return vfido_hid_error(out, cid,
			    VFIDO_HID_ERR_INVALID_LEN);
		return vfido_hid_send(out, cid, VFIDO_HID_WINK, NULL, 0);
	case VFIDO_HID_CBOR:
		ev->type = VFIDO_HID_EV_REQUEST;
		ev->cid = cid;
		ev->cmd = cmd;
		ev->data = h->msg;
		ev->len = len;
		return 0;
	default:
		/* includes MSG: no U2F here (CAPS says NMSG) */
		return vfido_hid_error(out, cid, VFIDO_HID_ERR_INVALID_CMD);
	}
}

int
vfido_hid_input(struct vfido_hid *h, const u_char rep[VFIDO_HID_REPORT],
    int64_t now_ms, struct buf *out, struct vfido_hid_event *ev)
{
	uint32_t cid = get32(rep);
	uint8_t cmd;
	size_t len, n;

	memset(ev, 0, sizeof(*ev));
	if ((rep[4] & 0x80) == 0) {
		/* continuation: stray ones are ignored, as the spec says */
		if (!h->busy || cid != h->asm_cid || out != h->asm_out)
			return 0;
		if (rep[4] != h->asm_seq) {
			h->busy = 0;
			return vfido_hid_error(out, cid,
			    VFIDO_HID_ERR_INVALID_SEQ);
		}
		h->asm_seq++;
		n = h->asm_len - h->asm_got;
		if (n > VFIDO_HID_CONT_DATA)
			n = VFIDO_HID_CONT_DATA;
		memcpy(h->msg + h->asm_got, rep + 5, n);
		h->asm_got += n;
		if (h->asm_got < h->asm_len)
			return 0;
		h->busy = 0;
		return dispatch(h, cid, h->asm_cmd, h->asm_len, out, ev);
	}
	cmd = rep[4] & 0x7f;
	len = (size_t)rep[5] << 8 | rep[6];
	if (cid == 0)
		return vfido_hid_error(out, cid,
		    VFIDO_HID_ERR_INVALID_CHANNEL);
	if (cmd == VFIDO_HID_INIT) {
		if (len != 8)
			return vfido_hid_error(out, cid,
			    VFIDO_HID_ERR_INVALID_LEN);
		if (cid != VFIDO_HID_BROADCAST && !known_cid(h, cid))
			return vfido_hid_error(out, cid,
			    VFIDO_HID_ERR_INVALID_CHANNEL);
		return do_init(h, cid, rep + 7, out, ev);
	}
	if (cid == VFIDO_HID_BROADCAST || !known_cid(h, cid))
		return vfido_hid_error(out, cid,
		    VFIDO_HID_ERR_INVALID_CHANNEL);
	if (cmd == VFIDO_HID_CANCEL) {
		if (h->busy && h->asm_cid == cid)
			h->busy = 0;
		ev->type = VFIDO_HID_EV_CANCEL;
		ev->cid = cid;
		return 0;
	}
	if (h->processing != 0)
		return vfido_hid_error(out, cid, VFIDO_HID_ERR_CHANNEL_BUSY);
	if (h->busy) {
		if (h->asm_cid == cid) {
			h->busy = 0;
			return vfido_hid_error(out, cid,
			    VFIDO_HID_ERR_INVALID_SEQ);
		}
		return vfido_hid_error(out, cid, VFIDO_HID_ERR_CHANNEL_BUSY);
	}
	if (len > VFIDO_HID_MAX_MSG)
		return vfido_hid_error(out, cid, VFIDO_HID_ERR_INVALID_LEN);
	n = len < VFIDO_HID_INIT_DATA ? len : VFIDO_HID_INIT_DATA;
	memcpy(h->msg, rep + 7, n);
	if (n == len)
		return dispatch(h, cid, cmd, len, out, ev);
	h->busy = 1;
	h->asm_out = out;
	h->asm_cid = cid;
	h->asm_cmd = cmd;
	h->asm_len = len;
	h->asm_got = n;
	h->asm_seq = 0;
	h->asm_deadline = now_ms + h->msg_timeout_ms;
	return 0;
}

int
vfido_hid_tick(struct vfido_hid *h, int64_t now_ms)
{
	if (!h->busy || now_ms < h->asm_deadline)
		return 0;
	h->busy = 0;
	if (h->asm_out == NULL)
		return 0;	/* its opener is gone */
	return vfido_hid_error(h->asm_out, h->asm_cid,
	    VFIDO_HID_ERR_MSG_TIMEOUT);
}
