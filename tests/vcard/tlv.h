/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * vcard: ISO 7816-4 command APDU parsing and BER-TLV encoding/decoding as
 * PIV (NIST SP 800-73-4) uses them.  Everything here reads untrusted bytes
 * from the card reader: lengths are checked against the bytes present, and
 * callers reject leftovers with buf_expect_empty().
 *
 * All functions returning int return 0 or a negative TOK_ERR_* code.
 */
#ifndef TESTS_VCARD_TLV_H
#define TESTS_VCARD_TLV_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

#define VC_TLV_TAG_MAX		0xffffffU	/* tags of 1 to 3 bytes */
#define VC_TLV_LEN_MAX		0xffffffU	/* lengths up to 83 xx xx xx */

/*
 * A parsed command APDU.  A plain record rather than an opaque struct: it
 * is a view of the caller's bytes (data points into them and lives as long
 * as they do), filled by vc_apdu_parse().
 */
struct vc_apdu {
	uint8_t		 cla;
	uint8_t		 ins;
	uint8_t		 p1;
	uint8_t		 p2;
	const u_char	*data;		/* Lc bytes; NULL when lc == 0 */
	size_t		 lc;
	size_t		 le;		/* 0 when absent; 256/65536 for "all" */
	int		 extended;	/* 1 for extended length encoding */
};

/*
 * vc_apdu_parse: decode a command APDU (cases 1, 2, 3 and 4, short and
 * extended) from len bytes at p into *apdu (cleared first).  apdu->data
 * points into p.  TOK_ERR_INVALID_FORMAT when the lengths disagree with
 * the size (ISO: wrong length), TOK_ERR_MESSAGE_INCOMPLETE when shorter
 * than a header.
 */
int vc_apdu_parse(const u_char *p, size_t len, struct vc_apdu *apdu)
    __attribute__((warn_unused_result));

/*
 * vc_tlv_get: consume one BER-TLV from b.  The tag (1 to 3 bytes, as a
 * big-endian number: 0x5fc105) goes to *tagp, the value is returned as
 * a pointer into b (*valp, valid while b is) and its length (*lenp).
 * Indefinite and over-long (> 3 length bytes) lengths are rejected.
 * b is unchanged on failure.  Any output pointer may be NULL.
 */
int vc_tlv_get(struct buf *b, u_int *tagp, const u_char **valp,
    size_t *lenp) __attribute__((warn_unused_result));

/*
 * vc_tlv_find: within the len bytes at p, which must be a sequence of
 * well-formed TLVs with nothing left over, find the first with tag; its
 * value in *valp and *lenp (pointing into p).  TOK_ERR_KEY_NOT_FOUND when
 * absent, TOK_ERR_INVALID_FORMAT when the sequence is malformed.
 */
int vc_tlv_find(const u_char *p, size_t len, u_int tag, const u_char **valp,
    size_t *lenp) __attribute__((warn_unused_result));

/* vc_tlv_put_hdr: append the tag and length header for a value of len bytes. */
int vc_tlv_put_hdr(struct buf *b, u_int tag, size_t len)
    __attribute__((warn_unused_result));
/* vc_tlv_put: append a complete TLV; v may be NULL when len is 0. */
int vc_tlv_put(struct buf *b, u_int tag, const void *v, size_t len)
    __attribute__((warn_unused_result));
/* vc_tlv_putb: append a TLV whose value is the unread bytes of v. */
int vc_tlv_putb(struct buf *b, u_int tag, const struct buf *v)
    __attribute__((warn_unused_result));

#endif /* TESTS_VCARD_TLV_H */
