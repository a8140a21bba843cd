/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Following PC/SC readers and cards without polling (see pcsc-watch.h). */
#include "config.h"

#include <sys/inotify.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <winscard.h>

#include "common/log.h"
#include "token/pcsc-watch.h"

#define PCSC_WATCH_MAX_READERS	16
#define PCSC_WATCH_READERS_BUF	4096
#define PCSC_WATCH_RETRY_S	2	/* after pcscd went, before retrying */
#define PCSCD_SOCKET		"/run/pcscd/pcscd.comm"	/* pcsc-lite's */
#define PNP_READER		"\\\\?PnP?\\Notification"

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static SCARDCONTEXT watch_ctx;
static int watch_have_ctx;		/* watch_ctx is established */
static int watch_stop;
static pcsc_watch_cb *watch_cb;
static void *watch_arg;

static int
watch_stopping(void)
{
	int stop;

	pthread_mutex_lock(&watch_lock);
	stop = watch_stop;
	pthread_mutex_unlock(&watch_lock);
	return stop;
}

/* What changed in one reader, if anything worth an event; -1: nothing. */
static int
watch_reader_event(const SCARD_READERSTATE *rs)
{
	DWORD was = rs->dwCurrentState, now = rs->dwEventState;

	if ((now & SCARD_STATE_PRESENT) && !(was & SCARD_STATE_PRESENT))
		return PCSC_WATCH_CARD_IN;
	if (!(now & SCARD_STATE_PRESENT) && (was & SCARD_STATE_PRESENT))
		return PCSC_WATCH_CARD_OUT;
	/* Empty or mute changed, or another card came (the event counter). */
	if (((now ^ was) & (SCARD_STATE_EMPTY | SCARD_STATE_MUTE)) != 0 ||
	    (now >> 16) != (was >> 16))
		return PCSC_WATCH_CARD_OTHER;
	return -1;
}

/* Watch until pcscd goes away (0) or the watch is to end (1). */
static int
watch_session(SCARDCONTEXT ctx)
{
	SCARD_READERSTATE rs[PCSC_WATCH_MAX_READERS + 1];
	char readers[PCSC_WATCH_READERS_BUF], *p;
	DWORD len, n, i;
	LONG rv;
	int ev, first = 1;

	for (;;) {
		/* The reader list, plus the plug-and-play pseudo reader. */
		memset(rs, 0, sizeof(rs));
		n = 0;
		len = sizeof(readers);
		rv = SCardListReaders(ctx, NULL, readers, &len);
		if (rv == SCARD_S_SUCCESS) {
			for (p = readers; *p != '\0' &&
			    n < PCSC_WATCH_MAX_READERS; p += strlen(p) + 1) {
				rs[n].szReader = p;
				rs[n].dwCurrentState = SCARD_STATE_UNAWARE;
				n++;
			}
		} else if (rv != SCARD_E_NO_READERS_AVAILABLE)
			return 0;
		rs[n].szReader = PNP_READER;
		rs[n].dwCurrentState = SCARD_STATE_UNAWARE;
		/* Learn the current state without reporting it as a change. */
		rv = SCardGetStatusChange(ctx, 0, rs, n + 1);
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
			return 0;
		for (i = 0; i <= n; i++)
			rs[i].dwCurrentState = rs[i].dwEventState &
			    ~SCARD_STATE_CHANGED;
		if (watch_stopping() || watch_cb(first ? PCSC_WATCH_STARTED :
		    PCSC_WATCH_READERS, NULL, watch_arg) != 0)
			return 1;
		first = 0;
		for (;;) {
			rv = SCardGetStatusChange(ctx, INFINITE, rs, n + 1);
			if (watch_stopping())
				return 1;
			if (rv == SCARD_E_TIMEOUT)
				continue;
			if (rv != SCARD_S_SUCCESS)
				return 0;
			for (i = 0; i < n; i++) {
				if (!(rs[i].dwEventState & SCARD_STATE_CHANGED))
					continue;
				ev = watch_reader_event(&rs[i]);
				rs[i].dwCurrentState = rs[i].dwEventState &
				    ~SCARD_STATE_CHANGED;
				if (ev != -1 && watch_cb(ev, rs[i].szReader,
				    watch_arg) != 0)
					return 1;
			}
			if (rs[n].dwEventState & SCARD_STATE_CHANGED)
				break;	/* readers came or went: list again */
		}
	}
}

/*
 * No pcscd: wait (inotify) until its socket, or a directory on the way to
 * it, appears; then the caller tries again.
 */
static void
watch_wait_for_pcscd(void)
{
	char dir[PATH_MAX], *p, ev[sizeof(struct inotify_event) + NAME_MAX + 1];
	const char *sock;
	int fd;

	if ((sock = getenv("PCSCLITE_CSOCK_NAME")) == NULL || *sock == '\0')
		sock = PCSCD_SOCKET;
	strlcpy(dir, sock, sizeof(dir));
	if ((fd = inotify_init1(IN_CLOEXEC)) == -1)
		goto fallback;
	while ((p = strrchr(dir, '/')) != NULL && p != dir) {
		*p = '\0';
		if (inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO) != -1)
			break;
		if (errno != ENOENT)
			goto fallback;
	}
	if (p == NULL || p == dir)
		goto fallback;
	/* It may have come between the failed connect and the watch. */
	if (access(sock, F_OK) == 0) {
		close(fd);
		return;
	}
	debug_f("waiting for pcscd (%s)", sock);
	while (read(fd, ev, sizeof(ev)) == -1 && errno == EINTR)
		;
	close(fd);
	return;
 fallback:
	if (fd != -1)
		close(fd);
	sleep(PCSC_WATCH_RETRY_S);
}

static void *
watch_thread(void *arg)
{
	SCARDCONTEXT ctx;
	int done;
	LONG rv;

	(void)arg;
	while (!watch_stopping()) {
		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
		if (rv != SCARD_S_SUCCESS) {
			debug_f("no pcscd: %s", pcsc_stringify_error(rv));
			watch_wait_for_pcscd();
			continue;
		}
		pthread_mutex_lock(&watch_lock);
		watch_ctx = ctx;
		watch_have_ctx = 1;
		done = watch_stop;
		pthread_mutex_unlock(&watch_lock);
		if (!done)
			done = watch_session(ctx);
		pthread_mutex_lock(&watch_lock);
		watch_have_ctx = 0;
		pthread_mutex_unlock(&watch_lock);
		SCardReleaseContext(ctx);
		if (done || watch_stopping() ||
		    watch_cb(PCSC_WATCH_GONE, NULL, watch_arg) != 0)
			break;
		sleep(PCSC_WATCH_RETRY_S);
	}
	return NULL;
}

int
pcsc_watch_start(pcsc_watch_cb *cb, void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	int r;

	watch_cb = cb;
	watch_arg = arg;
	if ((r = pthread_attr_init(&attr)) != 0)
		goto fail;
	if ((r = pthread_attr_setdetachstate(&attr,
	    PTHREAD_CREATE_DETACHED)) == 0)
		r = pthread_create(&t, &attr, watch_thread, NULL);
	pthread_attr_destroy(&attr);
	if (r == 0)
		return 0;
 fail:
	error_f("cannot start the PC/SC watch thread: %s", strerror(r));
	return -1;
}

void
pcsc_watch_stop(void)
{
	pthread_mutex_lock(&watch_lock);
	watch_stop = 1;
	if (watch_have_ctx)
		(void)SCardCancel(watch_ctx);
	pthread_mutex_unlock(&watch_lock);
}
