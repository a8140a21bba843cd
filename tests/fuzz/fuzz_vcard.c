/*
 * libFuzzer harness for the virtual PIV card: the APDU parser, the BER-TLV
 * reader, and the whole PIV command handler (on an in-memory card that is
 * never saved), fed with arbitrary command APDUs.
 *
 * Input: a sequence of frames, each a 1-byte length and that many bytes
 * (one command APDU); the card's volatile state is fresh for every input.
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

static struct vc_state *fuzz_state;

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vc_piv *piv = NULL;
	struct buf *rapdu = NULL;
	struct vc_apdu a;
	size_t off = 0, n;

	if (fuzz_state == NULL) {
		log_init("fuzz_vcard", LOG_LEVEL_QUIET, 1);
		if (vc_state_open(NULL, &fuzz_state) != 0)
			abort();
	}
	fuzz_tlv_walk(data, size, 0);
	if (vc_apdu_parse(data, size, &a) == 0 && a.lc > 0)
		fuzz_tlv_walk(a.data, a.lc, 0);
	if ((piv = vc_piv_new(fuzz_state, 1)) == NULL ||
	    (rapdu = buf_new()) == NULL)
		goto out;
	while (off < size) {
		n = data[off++];
		if (n > size - off)
			n = size - off;
		buf_reset(rapdu);
		if (vc_piv_process(piv, data + off, n, rapdu) == 0 &&
		    buf_len(rapdu) < 2)
			abort();	/* every command gets a status word */
		off += n;
	}
 out:
	buf_free(rapdu);
	vc_piv_free(piv);
	return 0;
}
