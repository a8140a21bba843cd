/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness: publickey userauth signing payloads
 * (agent/userauth.c userauth_parse), with and without an expected key.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/key.h"
#include "common/log.h"
#include "agent/userauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct userauth_request *req = NULL, *req2 = NULL;
	const u_char *sid;
	size_t sidlen;

	log_init("fuzz_dest_userauth", LOG_LEVEL_QUIET, 1);
	if (userauth_parse(data, size, NULL, &req) != 0)
		return 0;
	(void)userauth_user(req);
	(void)userauth_alg(req);
	sid = userauth_session_id(req, &sidlen);
	(void)sid;
	(void)userauth_hostkey(req);
	/* the same payload must match its own key */
	if (userauth_parse(data, size, userauth_key(req), &req2) != 0)
		abort();
	userauth_request_free(req2);
	userauth_request_free(req);
	return 0;
}
