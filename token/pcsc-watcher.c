/*
 * tokagent-pcsc-watcher: watches PC/SC readers and cards (pcsc-lite) and
 * tells the agent, over the IPC socket on fd 3, whenever a card is inserted
 * or removed or a reader comes or goes, so that PKCS#11 keys follow the
 * card at once.  Each change is an unsolicited IPC_EVENT:
 *	string	what ("card inserted in READER", "card removed from READER",
 *		"readers changed", "pcscd restarted")
 *	uint32	0	(no keys: the agent asks each provider to rescan)
 * It waits in SCardGetStatusChange (no busy polling) and survives pcscd
 * restarts.  It exits when the agent closes the socket.
 * Usage: tokagent-pcsc-watcher [-d]
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <winscard.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/harden.h"
#include "common/ipc.h"
#include "common/log.h"
#include "token/server.h"

#define WATCH_MAX_READERS	16
#define WATCH_WAIT_MS		1000	/* how often the agent's socket is checked */
#define WATCH_RETRY_S		2
#define PNP_READER		"\\\\?PnP?\\Notification"

static int
watch_send(const char *what)
{
	struct buf *m, *out;
	ssize_t n;
	int r;

	if ((m = buf_new()) == NULL || (out = buf_new()) == NULL) {
		buf_free(m);
		return TOK_ERR_ALLOC;
	}
	if ((r = ipc_msg_start(m, 0, IPC_EVENT)) != 0 ||
	    (r = buf_put_cstring(m, what)) != 0 ||
	    (r = buf_put_u32(m, 0)) != 0 || (r = frame_put(out, m)) != 0)
		goto out;
	while (buf_len(out) > 0) {
		n = write(TOKEN_IPC_FD, buf_ptr(out), buf_len(out));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = TOK_ERR_SYSTEM;
			goto out;
		}
		if ((r = buf_consume(out, (size_t)n)) != 0)
			goto out;
	}
	debug_f("%s", what);
	r = 0;
 out:
	buf_free(m);
	buf_free(out);
	return r;
}

/* The agent closed the socket (or wrote to it, which it never does). */
static int
watch_agent_gone(void)
{
	struct pollfd pfd = { TOKEN_IPC_FD, POLLIN, 0 };

	return poll(&pfd, 1, 0) > 0;
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
			if (watch_agent_gone())
				return 1;
			rv = SCardGetStatusChange(ctx, WATCH_WAIT_MS, rs,
			    nreaders + 1);
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

int
main(int argc, char **argv)
{
	SCARDCONTEXT ctx;
	int ch, debug = 0, announced = 0;
	LONG rv;

	harden_process();
	while ((ch = getopt(argc, argv, "d")) != -1) {
		switch (ch) {
		case 'd':
			debug++;
			break;
		default:
			fatal_f("usage: tokagent-pcsc-watcher [-d]");
		}
	}
	log_init("tokagent-pcsc-watcher", debug ? LOG_LEVEL_DEBUG2 :
	    LOG_LEVEL_INFO, 1);
	for (;;) {
		if (watch_agent_gone())
			return 0;
		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
		if (rv != SCARD_S_SUCCESS) {
			debug_f("no pcscd: %s", pcsc_stringify_error(rv));
			sleep(WATCH_RETRY_S);
			continue;
		}
		/* A (re)started pcscd may have cards the agent has not seen. */
		if (announced && watch_send("pcscd restarted") != 0)
			return 0;
		announced = 1;
		if (watch_session(ctx)) {
			SCardReleaseContext(ctx);
			return 0;
		}
		SCardReleaseContext(ctx);
		sleep(WATCH_RETRY_S);
	}
}
