/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Length-prefixed frames (see frame.h). */
#include "config.h"

#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"

int
frame_take(struct buf *in, size_t max, struct buf **msgp)
{
	struct buf *m = NULL;
	uint32_t len;
	int r;

	*msgp = NULL;
	if (buf_peek_u32(in, 0, &len) != 0)
		return 0;
	if (len > max)
		return TOK_ERR_STRING_TOO_LARGE;
	if (buf_len(in) - 4 < len)
		return 0;
	if ((m = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_put(m, buf_ptr(in) + 4, len)) != 0 ||
	    (r = buf_consume(in, 4 + (size_t)len)) != 0) {
		buf_free(m);
		return r;
	}
	*msgp = m;
	return 0;
}

int
frame_put(struct buf *out, const struct buf *msg)
{
	return buf_put_stringb(out, msg);
}
