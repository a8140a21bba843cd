/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness over the agent's message decoding and dispatch: the
 * input is a stream of agent-protocol frames from one client connection.
 * No helpers run, so requests that need one fail the way they do when a
 * helper is down; everything else runs the daemon's own code.
 */
#include "config.h"

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/conn.h"
#include "agent/dispatch.h"
#include "agent/idtab.h"
#include "agent/loop.h"
#include "common/buf.h"
#include "common/frame.h"
#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	struct buf *in, *m = NULL;
	struct conn *c;
	u_char drain[4096];
	int sp[2];

	if (!initialised) {
		log_init("fuzz_agent", LOG_LEVEL_QUIET, 1);
		loop_init();
		if ((agent_idtab = idtab_new()) == NULL)
			abort();
		initialised = 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) != 0)
		abort();
	if ((c = conn_new(sp[0], getuid(), getpid())) == NULL ||
	    (in = buf_from(data, size)) == NULL)
		abort();
	while (frame_take(in, CONN_MSG_MAX, &m) == 0 && m != NULL) {
		dispatch_message(c, m);
		buf_free(m);
		m = NULL;
		while (read(sp[1], drain, sizeof(drain)) > 0)
			;
	}
	buf_free(in);
	conn_free(c);
	close(sp[1]);
	return 0;
}
