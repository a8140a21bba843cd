/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libfido2 I/O over a UNIX stream socket: "unix:PATH" devices.  One
 * connection per open; 64-byte CTAPHID reports each way.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fido.h>

#include "common/err.h"
#include "common/log.h"
#include "sk/fido_err.h"
#include "sk/fido_unix.h"

struct fido_unix_handle {
	int	fd;
	size_t	have;				/* bytes of a partial report */
	u_char	pending[FIDO_UNIX_REPORT_LEN];
};

int
fido_unix_is_unix_path(const char *name)
{
	if (name == NULL)
		return 0;
	return strncmp(name, FIDO_UNIX_PREFIX,
	    sizeof(FIDO_UNIX_PREFIX) - 1) == 0;
}

static const char *
fido_unix_strip(const char *name)
{
	if (fido_unix_is_unix_path(name))
		return name + sizeof(FIDO_UNIX_PREFIX) - 1;
	return name;
}

static int
fido_unix_connect(const char *path, int *fdp)
{
	struct sockaddr_un sun;
	int fd = -1, r = TOK_ERR_INTERNAL;

	*fdp = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (*path == '\0' ||
	    strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		r = (errno == ENOENT || errno == ECONNREFUSED) ?
		    TOK_ERR_DEVICE_NOT_PRESENT : TOK_ERR_SYSTEM;
		goto out;
	}
	*fdp = fd;
	fd = -1;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	return r;
}

int
fido_unix_present(const char *name)
{
	int fd = -1;

	if (name == NULL || fido_unix_connect(fido_unix_strip(name), &fd) != 0)
		return 0;
	close(fd);
	return 1;
}

static void *
fido_unix_io_open(const char *name)
{
	struct fido_unix_handle *h = NULL;
	int fd = -1, r;

	if (name == NULL)
		return NULL;
	if ((r = fido_unix_connect(fido_unix_strip(name), &fd)) != 0) {
		debug_fr(r, "connect %s", name);
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		close(fd);
		return NULL;
	}
	h->fd = fd;
	return h;
}

static void
fido_unix_io_close(void *handle)
{
	struct fido_unix_handle *h = handle;

	if (h == NULL)
		return;
	if (h->fd != -1)
		close(h->fd);
	explicit_bzero(h, sizeof(*h));
	free(h);
}

static int64_t
fido_unix_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read one whole report.  A stream socket may deliver it in pieces, so
 * partial bytes are kept in the handle and the timeout covers the whole
 * report; libfido2 calls again after a timeout only to give up.
 */
static int
fido_unix_io_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct fido_unix_handle *h = handle;
	struct pollfd pfd;
	int64_t deadline = 0, left;
	ssize_t n;
	int ret;

	if (h == NULL || buf == NULL || len < FIDO_UNIX_REPORT_LEN)
		return -1;
	if (ms >= 0)
		deadline = fido_unix_now_ms() + ms;
	while (h->have < FIDO_UNIX_REPORT_LEN) {
		left = -1;
		if (ms >= 0) {
			left = deadline - fido_unix_now_ms();
			if (left < 0)
				left = 0;
		}
		pfd.fd = h->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((ret = poll(&pfd, 1, (int)left)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ret == 0)
			return -1;		/* timeout */
		n = recv(h->fd, h->pending + h->have,
		    FIDO_UNIX_REPORT_LEN - h->have, 0);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (n == 0)
			return -1;		/* unplugged */
		h->have += (size_t)n;
	}
	memcpy(buf, h->pending, FIDO_UNIX_REPORT_LEN);
	explicit_bzero(h->pending, sizeof(h->pending));
	h->have = 0;
	return FIDO_UNIX_REPORT_LEN;
}

/*
 * libfido2 hands HID transports a report ID byte (0) followed by the
 * report; the socket carries only the report.  Short writes are padded
 * with zeros, as a HID output report would be.
 */
static int
fido_unix_io_write(void *handle, const unsigned char *buf, size_t len)
{
	struct fido_unix_handle *h = handle;
	u_char report[FIDO_UNIX_REPORT_LEN];
	size_t off = 0;
	ssize_t n;

	if (h == NULL || buf == NULL || len < 1 ||
	    len - 1 > FIDO_UNIX_REPORT_LEN || len > INT32_MAX)
		return -1;
	memset(report, 0, sizeof(report));
	memcpy(report, buf + 1, len - 1);
	while (off < sizeof(report)) {
		n = send(h->fd, report + off, sizeof(report) - off,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		off += (size_t)n;
	}
	return (int)len;
}

static const fido_dev_io_t fido_unix_io_table = {
	fido_unix_io_open,
	fido_unix_io_close,
	fido_unix_io_read,
	fido_unix_io_write,
};

const fido_dev_io_t *
fido_unix_io(void)
{
	return &fido_unix_io_table;
}

int
fido_unix_dev_new(fido_dev_t **devp)
{
	fido_dev_t *dev = NULL;
	int r = TOK_ERR_INTERNAL;

	if (devp == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	*devp = NULL;
	if ((dev = fido_dev_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (fido_dev_set_io_functions(dev, &fido_unix_io_table) != FIDO_OK)
		goto out;
	*devp = dev;
	dev = NULL;
	r = 0;
 out:
	fido_dev_free(&dev);
	return r;
}

int
fido_unix_open_dev(const char *name, fido_dev_t **devp)
{
	fido_dev_t *dev = NULL;
	const char *path;
	int fd = -1, fr, r = TOK_ERR_INTERNAL;

	if (devp == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	*devp = NULL;
	if (name == NULL) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	path = fido_unix_strip(name);
	/* Probe first: libfido2 reports every open failure alike. */
	if ((r = fido_unix_connect(path, &fd)) != 0)
		goto out;
	close(fd);
	fd = -1;
	if ((r = fido_unix_dev_new(&dev)) != 0)
		goto out;
	if ((fr = fido_dev_open(dev, path)) != FIDO_OK) {
		debug_f("fido_dev_open %s: %s", name, fido_strerr(fr));
		r = fr == FIDO_ERR_RX ? TOK_ERR_DEVICE_TIMEOUT :
		    sk_fido_err(fr);
		goto out;
	}
	*devp = dev;
	dev = NULL;
	r = 0;
 out:
	fido_dev_free(&dev);
	return r;
}

void
fido_unix_free_list(char **names, size_t nnames)
{
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
}

int
fido_unix_parse_list(const char *list, char ***namesp, size_t *nnamesp)
{
	char **names = NULL, **tmp, *name = NULL;
	const char *p, *end, *q;
	size_t i, n = 0, len, plen = sizeof(FIDO_UNIX_PREFIX) - 1;
	int dup, r = TOK_ERR_INTERNAL;

	if (namesp == NULL || nnamesp == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	*namesp = NULL;
	*nnamesp = 0;
	if (list == NULL)
		return 0;
	for (p = list; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		/* trim */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		q = end;
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		len = (size_t)(q - p);
		if (len >= plen && strncmp(p, FIDO_UNIX_PREFIX, plen) == 0) {
			p += plen;
			len -= plen;
		}
		if (len == 0)
			continue;
		if (len >= sizeof(((struct sockaddr_un *)NULL)->sun_path) ||
		    n >= FIDO_UNIX_LIST_MAX) {
			r = TOK_ERR_INVALID_ARGUMENT;
			goto out;
		}
		if ((name = malloc(plen + len + 1)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		memcpy(name, FIDO_UNIX_PREFIX, plen);
		memcpy(name + plen, p, len);
		name[plen + len] = '\0';
		for (dup = 0, i = 0; i < n; i++)
			if (strcmp(names[i], name) == 0)
				dup = 1;
		if (dup) {
			free(name);
			name = NULL;
			continue;
		}
		if ((tmp = recallocarray(names, n, n + 1,
		    sizeof(*names))) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		names = tmp;
		names[n++] = name;
		name = NULL;
	}
	*namesp = names;
	*nnamesp = n;
	names = NULL;
	n = 0;
	r = 0;
 out:
	fido_unix_free_list(names, n);
	free(name);
	return r;
}
