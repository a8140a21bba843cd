/*
 * tokagent-soft-helper: the process that holds software private keys for
 * the agent.  Started by tokagent with the IPC socket on fd 3; exits when
 * the agent closes it.  Usage: tokagent-soft-helper [-d]
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/harden.h"
#include "common/log.h"
#include "token/server.h"
#include "token/soft.h"

#define SOFT_SECURE_HEAP	(2 * 1024 * 1024)

int
main(int argc, char **argv)
{
	struct soft_token *st;
	int ch, debug = 0, r;

	harden_process();
	while ((ch = getopt(argc, argv, "d")) != -1) {
		switch (ch) {
		case 'd':
			debug++;
			break;
		default:
			fatal_f("usage: tokagent-soft-helper [-d]");
		}
	}
	log_init("tokagent-soft-helper", debug ? LOG_LEVEL_DEBUG2 :
	    LOG_LEVEL_INFO, 1);
	/* Private key numbers go to OpenSSL's locked heap when it allows. */
	if (CRYPTO_secure_malloc_init(SOFT_SECURE_HEAP, 32) == 0)
		debug_f("no secure heap; private keys in ordinary memory");
	if ((st = soft_token_new()) == NULL)
		fatal_f("out of memory");
	r = token_server_run(TOKEN_IPC_FD, &soft_token_ops, st);
	soft_token_free(st);
	return r == 0 ? 0 : 1;
}
