/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * CTAPHID framing (CTAP 2.1 section 11.2) for the virtual authenticator:
 * 64-byte reports in, events and 64-byte reports out.  One struct
 * vfido_hid is the whole device, shared by every opener (connection), as
 * on hidraw: channel ids are the device's, and a message half-sent on any
 * channel makes the device busy for all others (ERR_CHANNEL_BUSY) until it
 * completes or times out.  Each opener has its own output queue; an
 * answer goes to the queue of the opener that sent the request.  INIT,
 * PING, WINK and the framing errors are answered here; CBOR requests and
 * CANCEL are handed up.  CTAPHID_MSG (U2F) is not offered: ERR_INVALID_CMD.
 * Pure and clock-injected, so a fuzzer can drive it.
 *
 * All int functions return 0 or a negative TOK_ERR_* code.
 */
#ifndef VFIDO_CTAPHID_H
#define VFIDO_CTAPHID_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#define VFIDO_HID_REPORT	64
#define VFIDO_HID_INIT_DATA	(VFIDO_HID_REPORT - 7)
#define VFIDO_HID_CONT_DATA	(VFIDO_HID_REPORT - 5)
#define VFIDO_HID_MAX_MSG	(VFIDO_HID_INIT_DATA + 128 * VFIDO_HID_CONT_DATA)
#define VFIDO_HID_BROADCAST	0xffffffffU
#define VFIDO_HID_MSG_TIMEOUT_MS 500

/* commands (without the 0x80 frame-type bit) */
#define VFIDO_HID_PING		0x01
#define VFIDO_HID_MSG		0x03
#define VFIDO_HID_LOCK		0x04
#define VFIDO_HID_INIT		0x06
#define VFIDO_HID_WINK		0x08
#define VFIDO_HID_CBOR		0x10
#define VFIDO_HID_CANCEL	0x11
#define VFIDO_HID_KEEPALIVE	0x3b
#define VFIDO_HID_ERROR		0x3f

/* CTAPHID_ERROR codes */
#define VFIDO_HID_ERR_INVALID_CMD	0x01
#define VFIDO_HID_ERR_INVALID_PAR	0x02
#define VFIDO_HID_ERR_INVALID_LEN	0x03
#define VFIDO_HID_ERR_INVALID_SEQ	0x04
#define VFIDO_HID_ERR_MSG_TIMEOUT	0x05
#define VFIDO_HID_ERR_CHANNEL_BUSY	0x06
#define VFIDO_HID_ERR_INVALID_CHANNEL	0x0b
#define VFIDO_HID_ERR_OTHER		0x7f

/* KEEPALIVE status */
#define VFIDO_HID_STATUS_PROCESSING	1
#define VFIDO_HID_STATUS_UPNEEDED	2

enum vfido_hid_event_type {
	VFIDO_HID_EV_NONE = 0,
	VFIDO_HID_EV_REQUEST,	/* a complete CBOR message */
	VFIDO_HID_EV_CANCEL,	/* CTAPHID_CANCEL on cid */
	VFIDO_HID_EV_RESYNC,	/* INIT on cid: drop what cid had pending */
};

struct vfido_hid_event {
	enum vfido_hid_event_type type;
	uint32_t	 cid;
	uint8_t		 cmd;	/* VFIDO_HID_CBOR */
	const u_char	*data;	/* valid until the next vfido_hid_input() */
	size_t		 len;
};

struct buf;
struct vfido_hid;

/* vfido_hid_new: state for one device. */
int vfido_hid_new(struct vfido_hid **hp) __attribute__((warn_unused_result));
/* vfido_hid_free: NULL is accepted. */
void vfido_hid_free(struct vfido_hid *h);
/*
 * vfido_hid_input: feed one report that an opener sent at now_ms; out is
 * that opener's output queue (answers made here go there; it must stay
 * valid until vfido_hid_detach).  *ev says what, if anything, the layer
 * above must do.  Bad frames are answered with CTAPHID_ERROR, not
 * failures: an error return means out of memory or output overflow (drop
 * the opener).
 */
int vfido_hid_input(struct vfido_hid *h, const u_char report[VFIDO_HID_REPORT],
    int64_t now_ms, struct buf *out, struct vfido_hid_event *ev)
    __attribute__((warn_unused_result));
/*
 * vfido_hid_detach: the opener with queue out went away.  Nothing is
 * cancelled (closing a hidraw fd does not cancel either): a message it
 * half-sent keeps the device busy until it times out.
 */
void vfido_hid_detach(struct vfido_hid *h, struct buf *out);
/* vfido_hid_send: queue a message (split into reports) on cid to out. */
int vfido_hid_send(struct buf *out, uint32_t cid, uint8_t cmd,
    const u_char *data, size_t len) __attribute__((warn_unused_result));
/* vfido_hid_error: queue CTAPHID_ERROR code on cid to out. */
int vfido_hid_error(struct buf *out, uint32_t cid, uint8_t code)
    __attribute__((warn_unused_result));
/*
 * vfido_hid_tick: expire a half-received message (ERR_MSG_TIMEOUT, sent to
 * the opener that began it if it is still there).  vfido_hid_deadline
 * gives when that is due, or -1.
 */
int vfido_hid_tick(struct vfido_hid *h, int64_t now_ms)
    __attribute__((warn_unused_result));
int64_t vfido_hid_deadline(const struct vfido_hid *h);
/*
 * vfido_hid_set_processing: a request on cid is being processed (waits
 * for a touch); 0: none.  Meanwhile any new request is ERR_CHANNEL_BUSY;
 * only INIT and CANCEL get through.
 */
void vfido_hid_set_processing(struct vfido_hid *h, uint32_t cid);
/* vfido_hid_set_msg_timeout: how long a half-sent message may wait (ms). */
void vfido_hid_set_msg_timeout(struct vfido_hid *h, int ms);
/* vfido_hid_new_output: an output queue for an opener (buf_free it). */
struct buf *vfido_hid_new_output(void);

#endif /* VFIDO_CTAPHID_H */
