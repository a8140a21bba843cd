/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent-pcsc-watcher: watches PC/SC readers and cards (pcsc-lite) and
 * tells the agent whenever a card is inserted or removed or a reader comes
 * or goes, so that PKCS#11 keys follow the card at once.
 *
 * Protocol (common/ipc.h, over fd 3, on the helper runtime of
 * token/runtime.h: hello, heartbeat): the watcher takes no requests (each
 * is answered IPC_FAILURE TOK_ERR_FEATURE_UNSUPPORTED); it sends, unsolicited
 * (id 0), one IPC_EVENT per change:
 *	string	what ("card inserted in READER", "card removed from READER",
 *		"readers changed", "pcscd restarted")
 *	uint32	0	(no keys: the agent asks each provider to rescan)
 * READER is the reader name with bytes outside printable ASCII as '?'.
 * The watch (token/pcsc-watch.h) waits without polling and survives pcscd
 * restarts; the main thread runs the IPC loop.  It exits when the agent
 * closes the socket.
 * Usage: tokagent-pcsc-watcher [-dv]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "token/pcsc-watch.h"
#include "token/runtime.h"

static int
watch_send(const char *what)
{
	struct buf *m;
	int r;

	if ((m = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = ipc_msg_start(m, 0, IPC_EVENT)) == 0 &&
	    (r = buf_put_cstring(m, what)) == 0 &&
	    (r = buf_put_u32(m, 0)) == 0) {
		token_send(m);
		debug_f("%s", what);
	}
	buf_free(m);
	return r;
}

static void
watch_name(char *dst, size_t len, const char *reader)
{
	size_t i;

	strlcpy(dst, reader, len);
	for (i = 0; dst[i] != '\0'; i++) {
		if (dst[i] < 0x20 || dst[i] > 0x7e)
			dst[i] = '?';
	}
}

/* A change, as the agent hears it.  Nonzero: the agent is gone. */
static int
watch_event(enum pcsc_watch_event ev, const char *reader, void *arg)
{
	static int started;
	char what[512], name[256];

	(void)arg;
	what[0] = '\0';
	if (reader != NULL)
		watch_name(name, sizeof(name), reader);
	switch (ev) {
	case PCSC_WATCH_STARTED:
		/* A restarted pcscd may have cards the agent has not seen. */
		if (started++ > 0)
			strlcpy(what, "pcscd restarted", sizeof(what));
		break;
	case PCSC_WATCH_READERS:
		strlcpy(what, "readers changed", sizeof(what));
		break;
	case PCSC_WATCH_CARD_IN:
		snprintf(what, sizeof(what), "card inserted in %s", name);
		break;
	case PCSC_WATCH_CARD_OUT:
		snprintf(what, sizeof(what), "card removed from %s", name);
		break;
	case PCSC_WATCH_CARD_OTHER:
	case PCSC_WATCH_GONE:
		break;
	}
	return what[0] != '\0' && watch_send(what) != 0;
}

static int
watch_handle(void *ctx, uint32_t id, uint8_t type, struct buf *req,
    uint8_t *rtypep, struct buf *reply, char **detailp)
{
	(void)ctx;
	(void)id;
	(void)type;
	(void)req;
	(void)rtypep;
	(void)reply;
	(void)detailp;
	return TOK_ERR_FEATURE_UNSUPPORTED;
}

static const struct token_ops watch_ops = {
	.name = "pcsc",
	.handle = watch_handle,
};

int
main(int argc, char **argv)
{
	char **args;
	int r;

	token_helper_init(argc, argv, "tokagent-pcsc-watcher", "", 0, &args);
	if (pcsc_watch_start(watch_event, NULL) != 0)
		fatal_f("cannot watch PC/SC");
	r = token_helper_run(&watch_ops, NULL);
	/* The agent is gone: wake the watch from its wait, then leave. */
	pcsc_watch_stop();
	return r == 0 ? 0 : 1;
}
