/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Minimal agent-protocol client for the tests (see agentio.h). */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "tests/integ/agentio.h"

uint64_t
aio_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int
aio_connect(const char *path, int *fdp)
{
	static int sigpipe_ignored;
	struct sockaddr_un sun;
	int fd = -1, r = TOK_ERR_INTERNAL;

	*fdp = -1;
	if (!sigpipe_ignored) {
		signal(SIGPIPE, SIG_IGN);
		sigpipe_ignored = 1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	*fdp = fd;
	fd = -1;
	r = 0;
 out:
	if (fd != -1) {
		int oerrno = errno;

		close(fd);
		errno = oerrno;
	}
	return r;
}

int
aio_send_raw(int fd, const void *p, size_t len)
{
	const u_char *cp = p;
	ssize_t n;

	while (len > 0) {
		n = send(fd, cp, len, MSG_NOSIGNAL);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return TOK_ERR_SYSTEM;
		cp += n;
		len -= (size_t)n;
	}
	return 0;
}

int
aio_send_msg(int fd, const struct buf *msg)
{
	u_char hdr[4];
	size_t len = buf_len(msg);
	int r;

	if (len > UINT32_MAX)
		return TOK_ERR_INVALID_ARGUMENT;
	hdr[0] = (u_char)(len >> 24);
	hdr[1] = (u_char)(len >> 16);
	hdr[2] = (u_char)(len >> 8);
	hdr[3] = (u_char)len;
	if ((r = aio_send_raw(fd, hdr, sizeof(hdr))) != 0)
		return r;
	return aio_send_raw(fd, buf_ptr(msg), len);
}

/* Read exactly len bytes before the deadline (0: none). */
static int
read_full(int fd, u_char *p, size_t len, uint64_t deadline)
{
	struct pollfd pfd;
	uint64_t now;
	int tmo;
	ssize_t n;

	while (len > 0) {
		tmo = -1;
		if (deadline != 0) {
			if ((now = aio_now_ns()) >= deadline)
				return TOK_ERR_TIMEOUT;
			tmo = (int)((deadline - now) / 1000000) + 1;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, tmo) == -1) {
			if (errno == EINTR)
				continue;
			return TOK_ERR_SYSTEM;
		}
		if (pfd.revents == 0)
			continue;
		n = read(fd, p, len);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == 0 || (n == -1 && (errno == ECONNRESET ||
		    errno == EPIPE)))
			return TOK_ERR_MESSAGE_INCOMPLETE;
		if (n == -1)
			return TOK_ERR_SYSTEM;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
aio_recv_msg(int fd, int timeout_ms, struct buf **msgp)
{
	struct buf *msg = NULL;
	u_char hdr[4], *dp;
	uint64_t deadline = 0;
	uint32_t len;
	int r = TOK_ERR_INTERNAL;

	*msgp = NULL;
	if (timeout_ms >= 0)
		deadline = aio_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	if ((r = read_full(fd, hdr, sizeof(hdr), deadline)) != 0)
		goto out;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3];
	if (len > AIO_MSG_MAX) {
		r = TOK_ERR_STRING_TOO_LARGE;
		goto out;
	}
	if ((msg = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_reserve(msg, len, &dp)) != 0 ||
	    (r = read_full(fd, dp, len, deadline)) != 0)
		goto out;
	*msgp = msg;
	msg = NULL;
	r = 0;
 out:
	buf_free(msg);
	return r;
}

int
aio_request(int fd, const struct buf *msg, int timeout_ms,
    struct buf **replyp)
{
	int r;

	*replyp = NULL;
	if ((r = aio_send_msg(fd, msg)) != 0)
		return r;
	return aio_recv_msg(fd, timeout_ms, replyp);
}

int
aio_list_keys(int fd, int timeout_ms, uint32_t *nkeysp, struct buf **blobsp)
{
	struct buf *req = NULL, *reply = NULL, *blobs = NULL;
	uint32_t n, i;
	uint8_t type;
	const u_char *p;
	size_t len;
	int r = TOK_ERR_INTERNAL;

	*nkeysp = 0;
	if (blobsp != NULL)
		*blobsp = NULL;
	if ((req = buf_new()) == NULL || (blobs = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_u8(req, AIO_REQUEST_IDENTITIES)) != 0 ||
	    (r = aio_request(fd, req, timeout_ms, &reply)) != 0)
		goto out;
	if ((r = buf_get_u8(reply, &type)) != 0)
		goto out;
	if (type != AIO_IDENTITIES_ANSWER) {
		r = TOK_ERR_PROTOCOL;
		goto out;
	}
	if ((r = buf_get_u32(reply, &n)) != 0)
		goto out;
	if (n > buf_len(reply) / 8) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = buf_get_string_direct(reply, &p, &len)) != 0 ||
		    (r = buf_put_string(blobs, p, len)) != 0 ||
		    (r = buf_get_string_direct(reply, &p, &len)) != 0 ||
		    (r = buf_put_string(blobs, p, len)) != 0)
			goto out;
	}
	if ((r = buf_expect_empty(reply)) != 0)
		goto out;
	*nkeysp = n;
	if (blobsp != NULL) {
		*blobsp = blobs;
		blobs = NULL;
	}
	r = 0;
 out:
	buf_free(req);
	buf_free(reply);
	buf_free(blobs);
	return r;
}
