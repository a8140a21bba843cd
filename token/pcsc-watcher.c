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
 * A thread waits in SCardGetStatusChange without a time-out (no polling)
 * and survives pcscd restarts; the main thread runs the IPC loop.  It exits
 * when the agent closes the socket.
 * Usage: tokagent-pcsc-watcher [-dv]
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <winscard.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "token/runtime.h"

#define WATCH_MAX_READERS	16
#define WATCH_RETRY_S		2
#define PNP_READER		"\\\\?PnP?\\Notification"

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static SCARDCONTEXT watch_ctx;
static int watch_have_ctx;		/* watch_ctx is established */
static int watch_stop;			/* the agent is gone */

static int
watch_stopping(void)
{
	int stop;

	pthread_mutex_lock(&watch_lock);
	stop = watch_stop;
	pthread_mutex_unlock(&watch_lock);
	return stop;
}

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

/* Watch until pcscd goes away or the agent does; returns 1 when the agent did. */
static int
watch_session(SCARDCONTEXT ctx)
{
	SCARD_READERSTATE rs[WATCH_MAX_READERS + 1];
	char readers[4096], *p, what[512], name[256];
	DWORD len, nreaders, i;
	LONG rv;
	int first = 1;

	for (;;) {
		/* The reader list, plus the plug-and-play pseudo reader. */
		memset(rs, 0, sizeof(rs));
		nreaders = 0;
		len = sizeof(readers);
		rv = SCardListReaders(ctx, NULL, readers, &len);
		if (rv == SCARD_S_SUCCESS) {
			for (p = readers; *p != '\0' && nreaders <
			    WATCH_MAX_READERS; p += strlen(p) + 1) {
				rs[nreaders].szReader = p;
				rs[nreaders].dwCurrentState = SCARD_STATE_UNAWARE;
				nreaders++;
			}
		} else if (rv != SCARD_E_NO_READERS_AVAILABLE)
			return 0;
		rs[nreaders].szReader = PNP_READER;
		rs[nreaders].dwCurrentState = SCARD_STATE_UNAWARE;
		/* Learn the current state without reporting it as a change. */
		rv = SCardGetStatusChange(ctx, 0, rs, nreaders + 1);
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
			return 0;
		for (i = 0; i <= nreaders; i++)
			rs[i].dwCurrentState = rs[i].dwEventState &
			    ~SCARD_STATE_CHANGED;
		if (!first && watch_send("readers changed") != 0)
			return 1;
		first = 0;
		for (;;) {
			rv = SCardGetStatusChange(ctx, INFINITE, rs,
			    nreaders + 1);
			if (watch_stopping())
				return 1;
			if (rv == SCARD_E_TIMEOUT)
				continue;
			if (rv != SCARD_S_SUCCESS)
				return 0;
			for (i = 0; i < nreaders; i++) {
				if (!(rs[i].dwEventState & SCARD_STATE_CHANGED))
					continue;
				watch_name(name, sizeof(name), rs[i].szReader);
				if ((rs[i].dwEventState & SCARD_STATE_PRESENT) &&
				    !(rs[i].dwCurrentState & SCARD_STATE_PRESENT))
					snprintf(what, sizeof(what),
					    "card inserted in %s", name);
				else if (!(rs[i].dwEventState &
				    SCARD_STATE_PRESENT) &&
				    (rs[i].dwCurrentState & SCARD_STATE_PRESENT))
					snprintf(what, sizeof(what),
					    "card removed from %s", name);
				else
					what[0] = '\0';
				rs[i].dwCurrentState = rs[i].dwEventState &
				    ~SCARD_STATE_CHANGED;
				if (what[0] != '\0' && watch_send(what) != 0)
					return 1;
			}
			if (rs[nreaders].dwEventState & SCARD_STATE_CHANGED)
				break;	/* readers came or went: list again */
		}
	}
}

static void *
watch_thread(void *arg)
{
	SCARDCONTEXT ctx;
	int announced = 0, done;
	LONG rv;

	(void)arg;
	while (!watch_stopping()) {
		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
		if (rv != SCARD_S_SUCCESS) {
			debug_f("no pcscd: %s", pcsc_stringify_error(rv));
			sleep(WATCH_RETRY_S);
			continue;
		}
		pthread_mutex_lock(&watch_lock);
		watch_ctx = ctx;
		watch_have_ctx = 1;
		done = watch_stop;
		pthread_mutex_unlock(&watch_lock);
		/* A (re)started pcscd may have cards the agent has not seen. */
		if (!done && announced && watch_send("pcscd restarted") != 0)
			done = 1;
		announced = 1;
		if (!done)
			done = watch_session(ctx);
		pthread_mutex_lock(&watch_lock);
		watch_have_ctx = 0;
		pthread_mutex_unlock(&watch_lock);
		SCardReleaseContext(ctx);
		if (done)
			break;
		sleep(WATCH_RETRY_S);
	}
	return NULL;
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
	pthread_attr_t attr;
	pthread_t t;
	char **args;
	int r;

	token_helper_init(argc, argv, "tokagent-pcsc-watcher", "", 0, &args);
	if (pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0 ||
	    pthread_create(&t, &attr, watch_thread, NULL) != 0)
		fatal_f("cannot start the watcher thread");
	pthread_attr_destroy(&attr);
	r = token_helper_run(&watch_ops, NULL);
	/* The agent is gone: wake the watcher from its wait, then leave. */
	pthread_mutex_lock(&watch_lock);
	watch_stop = 1;
	if (watch_have_ctx)
		(void)SCardCancel(watch_ctx);
	pthread_mutex_unlock(&watch_lock);
	return r == 0 ? 0 : 1;
}
