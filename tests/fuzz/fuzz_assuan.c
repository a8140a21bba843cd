/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness over the Assuan reply reader for pinentry
 * (agent/assuan.c): any bytes, fed in pieces of sizes the input chooses,
 * to a reader whose final reply index the first byte chooses.  The data
 * of a complete reply is bounded and NUL-free when taken.
 */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/assuan.h"
#include "common/secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct assuan *a;
	size_t off, n;
	char *s;
	int r = 0;

	if (len < 2)
		return 0;
	if ((a = assuan_new(data[0] % 8)) == NULL)
		abort();
	n = (size_t)data[1] + 1;
	for (off = 2; off < len && r == 0; off += n)
		r = assuan_feed(a, data + off, len - off < n ? len - off : n);
	if (r == 1) {
		if (assuan_data_len(a) > ASSUAN_DATA_MAX)
			abort();
		if ((s = assuan_take_data(a)) != NULL) {
			if (strlen(s) > ASSUAN_DATA_MAX)
				abort();
			secmem_free(s);
		}
	}
	assuan_free(a);
	return 0;
}
