/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness over the client's parser of the agent's status reply
 * (agent/status.c, status_parse): text and JSON rendering of any bytes an
 * agent (or something posing as one) sends.  The JSON must stay free of
 * control bytes whatever the input.  The first input byte picks the form.
 */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/status.h"
#include "common/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct buf *in, *out;
	size_t i;
	int json;

	if (len < 1)
		return 0;
	json = data[0] & 1;
	if ((in = buf_from(data + 1, len - 1)) == NULL ||
	    (out = buf_new()) == NULL)
		abort();
	if (status_parse(in, json, out) == 0) {
		for (i = 0; i < buf_len(out); i++) {
			if (buf_ptr(out)[i] < 0x20 && buf_ptr(out)[i] != '\n')
				abort();
			if (json && buf_ptr(out)[i] == '\n' &&
			    i + 1 != buf_len(out))
				abort();
		}
	}
	buf_free(in);
	buf_free(out);
	return 0;
}
