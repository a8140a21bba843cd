/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness: a sequence of session-bind@openssh.com bodies on one
 * connection (agent/dest.c dest_bind).  Input: repeated (uint16 length,
 * body) records.  A valid host signature is out of the fuzzer's reach, but
 * the parser and every early rejection are exercised.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/log.h"
#include "agent/dest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dest_binding_set *bs;
	struct buf *b;
	char *desc = NULL;
	size_t len;

	log_init("fuzz_dest_bind", LOG_LEVEL_QUIET, 1);
	if ((bs = dest_bindings_new()) == NULL)
		return 0;
	while (size >= 2) {
		len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if ((b = buf_from(data, len)) == NULL)
			break;
		(void)dest_bind(bs, b);
		buf_free(b);
		data += len;
		size -= len;
	}
	(void)dest_bindings_is_remote(bs);
	(void)dest_permitted(NULL, bs, NULL, NULL);
	if (dest_describe_path(NULL, bs, "user", &desc) == 0)
		free(desc);
	dest_bindings_free(bs);
	return 0;
}
