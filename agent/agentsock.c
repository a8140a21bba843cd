/*
 * The agent's listening socket (see agentsock.h).  Copyright (c) 2026
 * tokagent authors; see LICENSE.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_SD_LISTEN_FDS
#include <systemd/sd-daemon.h>
#endif

#include "agent/agentsock.h"
#include "common/log.h"

/* How long a start waits for another start on the same directory. */
#define AGENTSOCK_LOCK_TRIES	100
#define AGENTSOCK_LOCK_STEP_MS	20

int
agentsock_activated(char *path, size_t pathlen)
{
#ifdef HAVE_SD_LISTEN_FDS
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	int n, fd = SD_LISTEN_FDS_START, fl;

	if ((n = sd_listen_fds(1)) == 0)
		return -1;
	if (n < 0)
		fatal_f("socket activation: %s", strerror(-n));
	if (n != 1)
		fatal_f("socket activation: %d sockets passed, expected one "
		    "(ListenStream= once in the socket unit)", n);
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0)
		fatal_f("socket activation: descriptor %d is not a listening "
		    "Unix stream socket", fd);
	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1)
		fatal_f("socket activation: getsockname: %s",
		    strerror(errno));
	if (len <= offsetof(struct sockaddr_un, sun_path) ||
	    sun.sun_path[0] == '\0')
		fatal_f("socket activation: the socket has no path "
		    "(abstract sockets are not supported)");
	sun.sun_path[sizeof(sun.sun_path) - 1] = '\0';
	if (strlcpy(path, sun.sun_path, pathlen) >= pathlen)
		fatal_f("socket activation: socket path too long");
	/* Helpers and askpass children must not inherit it. */
	if ((fl = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == -1 ||
	    (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		fatal_f("socket activation: fcntl: %s", strerror(errno));
	return fd;
#else
	(void)path;
	(void)pathlen;
	if (getenv("LISTEN_FDS") != NULL) {
		error("socket activation requested (LISTEN_FDS) but this "
		    "tokagent was built without libsystemd: ignored");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDNAMES");
	}
	return -1;
#endif
}

static void
agentsock_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Lock path's directory against other tokagent starts on it (a lock of the
 * directory itself: no extra file).  Bounded: somebody else holding it
 * forever only costs this start its protection against the race.  Returns
 * the locked descriptor or -1.
 */
static int
agentsock_lock_dir(const char *path)
{
	char dir[PATH_MAX], *slash;
	int fd, i;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	for (i = 0; i < AGENTSOCK_LOCK_TRIES; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		agentsock_sleep_ms(AGENTSOCK_LOCK_STEP_MS);
	}
	debug_f("could not lock %s: going on without", dir);
	close(fd);
	return -1;
}

/*
 * Is someone listening on the socket at path?  1 yes, 0 no (nobody
 * accepts: a dead agent's socket), -1 cannot tell (logged).
 */
static int
agentsock_live(const char *path, const struct sockaddr_un *sun)
{
	int fd, r;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		error("socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
		r = 1;
	else if (errno == EAGAIN || errno == EINPROGRESS)
		r = 1;		/* listening, its backlog full */
	else if (errno == ECONNREFUSED)
		r = 0;
	else {
		error("%s: %s", path, strerror(errno));
		r = -1;
	}
	close(fd);
	return r;
}

int
agentsock_bind(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd = -1, lockfd = -1, r = AGENTSOCK_FAILED, tries, live;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		error("socket path too long: %s", path);
		return AGENTSOCK_FAILED;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		error("socket: %s", strerror(errno));
		return AGENTSOCK_FAILED;
	}
	lockfd = agentsock_lock_dir(path);
	for (tries = 0;; tries++) {
		old = umask(0177);
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			umask(old);
			break;
		}
		umask(old);
		if (errno != EADDRINUSE || tries > 0) {
			error("bind %s: %s", path, strerror(errno));
			goto out;
		}
		/* Taken: by a live agent, a dead one, or not a socket at all. */
		if (lstat(path, &st) == -1) {
			if (errno == ENOENT)
				continue;	/* just went away */
			error("%s: %s", path, strerror(errno));
			goto out;
		}
		if (!S_ISSOCK(st.st_mode)) {
			error("%s exists and is not a socket: not replaced",
			    path);
			goto out;
		}
		if (st.st_uid != geteuid()) {
			error("%s belongs to uid %ld: not replaced", path,
			    (long)st.st_uid);
			goto out;
		}
		if ((live = agentsock_live(path, &sun)) != 0) {
			if (live > 0) {
				error("an agent is already listening on %s; "
				    "not starting another", path);
				r = AGENTSOCK_LIVE;
			}
			goto out;
		}
		logit("replacing the stale socket %s (its agent is gone)",
		    path);
		if (unlink(path) == -1 && errno != ENOENT) {
			error("unlink %s: %s", path, strerror(errno));
			goto out;
		}
	}
	if (listen(fd, SOMAXCONN) == -1) {
		error("listen %s: %s", path, strerror(errno));
		unlink(path);
		goto out;
	}
	r = fd;
	fd = -1;
 out:
	if (lockfd != -1)
		close(lockfd);
	if (fd != -1)
		close(fd);
	return r;
}
