/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness for the virtual PIV card: the APDU parser, the BER-TLV
 * reader, and the whole card (PIV with the YubiKey extensions and the
 * other applications' SELECT) fed with arbitrary command APDUs, on an
 * in-memory copy of one card made at start (so every input sees the same
 * card, and what one input generates, imports, moves or resets is gone
 * for the next).
 *
 * Input: one flags byte (bit 0: the PIN verified, bit 1: the management
 * key authenticated, both with PIV selected; bit 2: touches refused),
 * then frames, each a 1-byte length and that many bytes (one command
 * APDU; a GENERATE of an RSA key is skipped: slow, and no parsing).
 */
#include "config.h"

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "tests/vcard/piv.h"
#include "tests/vcard/state.h"
#include "tests/vcard/tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct vc_state *fuzz_card;

static void
fuzz_tlv_walk(const u_char *p, size_t len, int depth)
{
	struct buf *b;
	const u_char *v;
	size_t vlen;
	u_int tag;

	if (depth > 4 || (b = buf_from(p, len)) == NULL)
		return;
	while (buf_len(b) > 0) {
		if (vc_tlv_get(b, &tag, &v, &vlen) != 0)
			break;
		/* Constructed tags hold more TLVs. */
		if (((tag >> (tag > 0xffff ? 16 : tag > 0xff ? 8 : 0)) &
		    0x20) != 0)
			fuzz_tlv_walk(v, vlen, depth + 1);
	}
	buf_free(b);
}

/*
 * A GENERATE asking for an RSA key: skipped, as making RSA keys (up to
 * 4096 bits) takes the fuzzer's time and parses nothing.
 */
static int
fuzz_rsa_keygen(const u_char *p, size_t len)
{
	size_t i;

	if (len < 4 || p[1] != 0x47)
		return 0;
	for (i = 4; i + 2 < len; i++)
		if (p[i] == 0x80 && p[i + 1] == 0x01 && (p[i + 2] == 0x05 ||
		    p[i + 2] == 0x06 || p[i + 2] == 0x07 || p[i + 2] == 0x16))
			return 1;
	return 0;
}

static int
fuzz_touch(void *arg, int keyref)
{
	(void)keyref;
	return *(int *)arg ? TOK_ERR_TOUCH_DENIED : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vc_state *st = NULL;
	struct vc_piv *piv = NULL;
	struct buf *rapdu = NULL;
	struct vc_apdu a;
	size_t off = 1, n;
	int deny;

	if (fuzz_card == NULL) {
		log_init("fuzz_vcard", LOG_LEVEL_QUIET, 1);
		if (vc_state_open(NULL, 12345678, &fuzz_card) != 0)
			abort();
	}
	fuzz_tlv_walk(data, size, 0);
	if (vc_apdu_parse(data, size, &a) == 0 && a.lc > 0)
		fuzz_tlv_walk(a.data, a.lc, 0);
	if (size < 1)
		return 0;
	deny = (data[0] & 0x04) != 0;
	if (vc_state_clone(fuzz_card, &st) != 0 ||
	    (piv = vc_piv_new(st, 1)) == NULL ||
	    (rapdu = buf_new()) == NULL)
		goto out;
	vc_piv_set_touch(piv, fuzz_touch, &deny);
	if ((data[0] & 0x03) != 0)
		vc_piv_fuzz_grant(piv, data[0] & 0x01, data[0] & 0x02);
	while (off < size) {
		n = data[off++];
		if (n > size - off)
			n = size - off;
		buf_reset(rapdu);
		if (fuzz_rsa_keygen(data + off, n)) {
			off += n;
			continue;
		}
		if (vc_piv_process(piv, data + off, n, rapdu) == 0 &&
		    buf_len(rapdu) < 2)
			abort();	/* every command gets a status word */
		off += n;
	}
 out:
	buf_free(rapdu);
	vc_piv_free(piv);
	vc_state_free(st);
	return 0;
}
