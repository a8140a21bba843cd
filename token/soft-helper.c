/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent-soft-helper: the process that holds software private keys for
 * the agent.  Started by tokagent with the IPC socket on fd 3; exits when
 * the agent closes it.  Usage: tokagent-soft-helper [-dv]
 */
#include "config.h"

#include <stdlib.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "token/runtime.h"
#include "token/soft.h"

#define SOFT_SECURE_HEAP	(2 * 1024 * 1024)

int
main(int argc, char **argv)
{
	struct soft_token *st;
	char **args;
	int r;

	token_helper_init(argc, argv, "tokagent-soft-helper", "", 0, &args);
	/* Private key numbers go to OpenSSL's locked heap when it allows. */
	if (CRYPTO_secure_malloc_init(SOFT_SECURE_HEAP, 32) == 0)
		debug_f("no secure heap; private keys in ordinary memory");
	if ((st = soft_token_new()) == NULL)
		fatal_f("out of memory");
	r = token_helper_run(&soft_token_ops, st);
	soft_token_free(st);
	return r == 0 ? 0 : 1;
}
