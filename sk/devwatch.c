/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Watching for tokens without polling (see devwatch.h). */
#include "config.h"

#include <sys/types.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBUDEV
#include <libudev.h>
#endif

#include "common/err.h"
#include "common/log.h"
#include "sk/devwatch.h"
#include "sk/fido_unix.h"
#include "sk/sk.h"

#define DEVWATCH_MAX	SK_DEVICES_MAX

/* One "unix:" token followed. */
struct sk_devwatch_unix {
	char	*sock;		/* socket path */
	char	*base;		/* its name in its directory */
	int	 wd;		/* inotify watch of its directory, -1: none */
	int	 fd;		/* held connection while present, or -1 */
	int	 seen;		/* in the last sk_devwatch_set_unix */
};

struct sk_devwatch {
	int			 ifd;		/* inotify */
	struct sk_devwatch_unix	 units[DEVWATCH_MAX];
	size_t			 nunits;
	int			 want_udev;
	int			 must_poll;	/* something can not be watched */
#ifdef HAVE_LIBUDEV
	struct udev		*udev;
	struct udev_monitor	*mon;
#endif
};

int
sk_devwatch_new(int udev, struct sk_devwatch **wp)
{
	struct sk_devwatch *w;

	*wp = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return TOK_ERR_ALLOC;
	if ((w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		free(w);
		return TOK_ERR_SYSTEM;
	}
	w->want_udev = udev;
#ifdef HAVE_LIBUDEV
	if (udev && ((w->udev = udev_new()) == NULL ||
	    (w->mon = udev_monitor_new_from_netlink(w->udev,
	    "udev")) == NULL ||
	    udev_monitor_filter_add_match_subsystem_devtype(w->mon,
	    "hidraw", NULL) < 0 ||
	    udev_monitor_enable_receiving(w->mon) < 0)) {
		debug_f("no udev monitor: looking for tokens by polling");
		if (w->mon != NULL)
			udev_monitor_unref(w->mon);
		w->mon = NULL;
	}
#endif
	*wp = w;
	return 0;
}

static void
sk_devwatch_unix_clear(struct sk_devwatch_unix *u)
{
	if (u->fd != -1)
		close(u->fd);
	free(u->sock);
	free(u->base);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
	u->wd = -1;
}

void
sk_devwatch_free(struct sk_devwatch *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nunits; i++)
		sk_devwatch_unix_clear(&w->units[i]);
	close(w->ifd);
#ifdef HAVE_LIBUDEV
	if (w->mon != NULL)
		udev_monitor_unref(w->mon);
	if (w->udev != NULL)
		udev_unref(w->udev);
#endif
	free(w);
}

/* A connection to the token's socket, held while it is there. */
static int
sk_devwatch_connect(const char *sock)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sock, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
sk_devwatch_add_unix(struct sk_devwatch *w, const char *sock)
{
	struct sk_devwatch_unix *u;
	char *dir = NULL, *slash;
	int r = TOK_ERR_ALLOC;

	if (w->nunits >= DEVWATCH_MAX)
		return TOK_ERR_NO_BUFFER_SPACE;
	u = &w->units[w->nunits];
	memset(u, 0, sizeof(*u));
	u->fd = -1;
	u->wd = -1;
	if ((u->sock = strdup(sock)) == NULL || (dir = strdup(sock)) == NULL)
		goto fail;
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = strdup(".");
		if ((u->base = strdup(sock)) == NULL || dir == NULL)
			goto fail;
	} else {
		if ((u->base = strdup(slash + 1)) == NULL)
			goto fail;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	/* the same directory gives the same watch descriptor */
	if ((u->wd = inotify_add_watch(w->ifd, dir, IN_CREATE | IN_DELETE |
	    IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF |
	    IN_ONLYDIR)) == -1) {
		debug_f("cannot watch %s: %s; polling for %s", dir,
		    strerror(errno), sock);
		w->must_poll = 1;
	}
	free(dir);
	w->nunits++;
	return 0;
 fail:
	free(dir);
	sk_devwatch_unix_clear(u);
	return r;
}

int
sk_devwatch_set_unix(struct sk_devwatch *w, char **paths, const int *present,
    size_t n)
{
	struct sk_devwatch_unix *u;
	const char *sock;
	size_t i, j;
	int r;

	for (j = 0; j < w->nunits; j++)
		w->units[j].seen = 0;
	for (i = 0; i < n; i++) {
		if (!fido_unix_is_unix_path(paths[i]))
			continue;
		sock = paths[i] + strlen(FIDO_UNIX_PREFIX);
		for (j = 0; j < w->nunits; j++)
			if (strcmp(w->units[j].sock, sock) == 0)
				break;
		if (j == w->nunits &&
		    (r = sk_devwatch_add_unix(w, sock)) != 0)
			return r;
		u = &w->units[j];
		u->seen = 1;
		if (present[i] && u->fd == -1)
			u->fd = sk_devwatch_connect(u->sock);
		else if (!present[i] && u->fd != -1) {
			close(u->fd);
			u->fd = -1;
		}
	}
	for (j = 0; j < w->nunits; j++) {
		u = &w->units[j];
		if (!u->seen && u->fd != -1) {
			close(u->fd);
			u->fd = -1;
		}
	}
	return 0;
}

/* Read the inotify events; 1 when one is about a token's socket. */
static int
sk_devwatch_inotify(struct sk_devwatch *w)
{
	union {
		struct inotify_event ev;
		char buf[4096];
	} u;
	const struct inotify_event *ev;
	ssize_t n, off;
	size_t j;
	int hit = 0;

	for (;;) {
		if ((n = read(w->ifd, u.buf, sizeof(u.buf))) <= 0)
			break;
		for (off = 0; off + (ssize_t)sizeof(*ev) <= n;
		    off += (ssize_t)sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(u.buf + off);
			if (off + (ssize_t)sizeof(*ev) + (ssize_t)ev->len > n)
				break;
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF |
			    IN_IGNORED | IN_Q_OVERFLOW)) {
				hit = 1;
				continue;
			}
			if (ev->len == 0)
				continue;
			for (j = 0; j < w->nunits; j++) {
				if (w->units[j].wd == ev->wd &&
				    strcmp(w->units[j].base, ev->name) == 0)
					hit = 1;
			}
		}
	}
	return hit;
}

int
sk_devwatch_wait(struct sk_devwatch *w, int wake_fd, int timeout_ms,
    int poll_ms)
{
	struct pollfd pfds[3 + DEVWATCH_MAX];
	size_t map[DEVWATCH_MAX];
	size_t i, np = 0, nu = 0, base;
	ssize_t n;
	char c;
	int ms = timeout_ms, polling = w->must_poll, r;

#ifdef HAVE_LIBUDEV
	if (w->want_udev && w->mon == NULL)
		polling = 1;
#else
	if (w->want_udev)
		polling = 1;
#endif
	if (polling && (ms < 0 || poll_ms < ms))
		ms = poll_ms;
	pfds[np].fd = w->ifd;
	pfds[np++].events = POLLIN;
	pfds[np].fd = wake_fd;
	pfds[np++].events = POLLIN;
#ifdef HAVE_LIBUDEV
	pfds[np].fd = w->mon != NULL ? udev_monitor_get_fd(w->mon) : -1;
#else
	pfds[np].fd = -1;
#endif
	pfds[np++].events = POLLIN;
	base = np;
	for (i = 0; i < w->nunits; i++) {
		if (w->units[i].fd == -1)
			continue;
		map[nu++] = i;
		pfds[np].fd = w->units[i].fd;
		pfds[np++].events = POLLIN;
	}
	if ((r = poll(pfds, np, ms)) == -1)
		return errno == EINTR ? 0 : TOK_ERR_SYSTEM;
	if (r == 0)
		return polling && ms == poll_ms ? 1 : 0;
	if (pfds[1].revents != 0)
		return 2;
	r = 0;
	if (pfds[0].revents != 0 && sk_devwatch_inotify(w))
		r = 1;
#ifdef HAVE_LIBUDEV
	if (pfds[2].revents != 0 && w->mon != NULL) {
		struct udev_device *dev;

		while ((dev = udev_monitor_receive_device(w->mon)) != NULL) {
			udev_device_unref(dev);
			r = 1;
		}
	}
#endif
	for (i = 0; i < nu; i++) {
		if (pfds[base + i].revents == 0)
			continue;
		/* a token says nothing unasked: this is its end */
		if ((n = read(w->units[map[i]].fd, &c, 1)) == 1 ||
		    (n == -1 && (errno == EAGAIN || errno == EINTR)))
			continue;
		close(w->units[map[i]].fd);
		w->units[map[i]].fd = -1;
		r = 1;
	}
	return r;
}
