/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness: restrict-destination-v00@openssh.com constraint data
 * (agent/dest.c dest_constraints_parse), then the decisions over the
 * parsed result on an unbound and a failed-bind connection.
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
	struct dest_constraints *dc = NULL;
	struct dest_binding_set *bs = NULL;
	struct buf *b, *junk;
	char *desc = NULL;

	log_init("fuzz_dest_constraints", LOG_LEVEL_QUIET, 1);
	if ((b = buf_from(data, size)) == NULL)
		return 0;
	if (dest_constraints_parse(b, &dc) == 0) {
		if (dest_constraints_describe(dc, &desc) == 0)
			free(desc);
		if ((bs = dest_bindings_new()) != NULL) {
			(void)dest_permitted(dc, bs, NULL, NULL);
			(void)dest_permitted(dc, bs, "user", NULL);
			/* a failed bind makes the set "attempted" */
			if ((junk = buf_from("", 0)) != NULL) {
				(void)dest_bind(bs, junk);
				buf_free(junk);
			}
			(void)dest_permitted(dc, bs, NULL, NULL);
			dest_bindings_free(bs);
		}
		dest_constraints_free(dc);
	}
	buf_free(b);
	return 0;
}
