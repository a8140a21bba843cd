/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * hostile: clients that misbehave on purpose, for the hardening tests
 * (tests/integ/core-hostile-*.sh).  Each command floods the agent at
 * $SSH_AUTH_SOCK (or -s SOCKET) in one way and, where it says so, measures
 * from a second, well-behaved client -- a separate process, as another
 * program talking to the agent would be.
 *
 * usage: hostile [-s SOCKET] COMMAND ARGS
 *	add N		add N fresh Ed25519 keys (ADD_IDENTITY, one connection);
 *			prints the number added
 *	unlock-flood N MS
 *			N connections each send one UNLOCK with a wrong
 *			passphrase at once; for MS milliseconds a second
 *			client lists keys every 20 ms.  Prints
 *			"replies=R lists=L max_ms=X p99_ms=Y failed=F": R
 *			unlock answers seen on the flood connections within
 *			MS, L lists answered, their worst and p99 latency,
 *			F lists not answered within 5 s.
 *	pipeline N MS	one connection sends N REQUEST_IDENTITIES and never
 *			reads; for MS milliseconds a second client lists every
 *			20 ms.  Prints "lists=L max_ms=X p99_ms=Y failed=F".
 *	connflood N MS	connects a first client, then opens up to N more
 *			connections (non-blocking connects, as fast as the
 *			agent takes them) and holds them for MS milliseconds;
 *			then the first client lists keys.  Prints
 *			"connected=C observer=ok|failed".
 *	signflood N B64	N connections each send one SIGN_REQUEST for the
 *			key whose public blob is base64 B64; then a second
 *			client signs once with the same key.  Prints
 *			"before=K of=N ok=O": K of the flood's signatures
 *			completed before the second client's, O succeeded.
 * Exit 0 when the command ran (the shell test judges the numbers), 1 on
 * errors, 2 on usage errors.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "tests/integ/agentio.h"

#define H_IO_TIMEOUT_MS		5000
#define H_OBSERVE_EVERY_MS	20
#define H_MAX_SAMPLES		100000

static const char *sock_path;

static void
usage(void)
{
	fprintf(stderr, "usage: hostile [-s socket] add N | unlock-flood N MS |"
	    " pipeline N MS | connflood N MS | signflood N B64\n");
	exit(2);
}

static long
num_arg(const char *s, long min, long max)
{
	char *ep;
	long v;

	errno = 0;
	v = strtol(s, &ep, 10);
	if (*s == '\0' || *ep != '\0' || errno != 0 || v < min || v > max)
		usage();
	return v;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * A well-behaved client in its own process: lists keys every
 * H_OBSERVE_EVERY_MS for ms milliseconds and writes "lists=... " to out.
 * Returns the child's pid; the caller waits for it.
 */
static pid_t
observer_start(int ms, FILE *out)
{
	uint64_t *lat = NULL, until, t0, worst = 0;
	size_t n = 0, failed = 0;
	uint32_t nkeys;
	pid_t pid;
	int fd = -1, r;

	fflush(out);
	if ((pid = fork()) != 0)
		return pid;
	if ((lat = calloc(H_MAX_SAMPLES, sizeof(*lat))) == NULL ||
	    aio_connect(sock_path, &fd) != 0)
		_exit(1);
	until = aio_now_ns() + (uint64_t)ms * 1000000ULL;
	while (aio_now_ns() < until && n < H_MAX_SAMPLES) {
		t0 = aio_now_ns();
		r = aio_list_keys(fd, H_IO_TIMEOUT_MS, &nkeys, NULL);
		t0 = aio_now_ns() - t0;
		if (r != 0) {
			failed++;
			/* a stalled agent: do not pile up more requests */
			close(fd);
			if (aio_connect(sock_path, &fd) != 0)
				break;
			continue;
		}
		if (t0 > worst)
			worst = t0;
		lat[n++] = t0;
		usleep(H_OBSERVE_EVERY_MS * 1000);
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	fprintf(out, "lists=%zu max_ms=%.3f p99_ms=%.3f failed=%zu\n", n,
	    (double)worst / 1e6,
	    n == 0 ? 0.0 : (double)lat[n - 1 - (n - 1) / 100] / 1e6, failed);
	fflush(out);
	_exit(0);
}

static int
observer_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
cmd_add(int n)
{
	struct buf *msg = NULL, *reply = NULL;
	EVP_PKEY *pkey = NULL;
	u_char pub[32], priv[64];
	char comment[48];
	size_t len;
	uint8_t type;
	int fd = -1, i, added = 0, ret = 1;

	if (aio_connect(sock_path, &fd) != 0 || (msg = buf_new()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		len = 32;
		if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
		    EVP_PKEY_get_raw_private_key(pkey, priv, &len) != 1 ||
		    EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1)
			goto out;
		EVP_PKEY_free(pkey);
		pkey = NULL;
		memcpy(priv + 32, pub, 32);
		snprintf(comment, sizeof(comment), "hostile-%d", i);
		buf_reset(msg);
		if (buf_put_u8(msg, AIO_ADD_IDENTITY) != 0 ||
		    buf_put_cstring(msg, "ssh-ed25519") != 0 ||
		    buf_put_string(msg, pub, sizeof(pub)) != 0 ||
		    buf_put_string(msg, priv, sizeof(priv)) != 0 ||
		    buf_put_cstring(msg, comment) != 0 ||
		    aio_request(fd, msg, H_IO_TIMEOUT_MS, &reply) != 0 ||
		    buf_get_u8(reply, &type) != 0 || type != AIO_SUCCESS)
			goto out;
		buf_free(reply);
		reply = NULL;
		added++;
	}
	ret = 0;
 out:
	printf("%d\n", added);
	explicit_bzero(priv, sizeof(priv));
	EVP_PKEY_free(pkey);
	buf_free(msg);
	buf_free(reply);
	if (fd != -1)
		close(fd);
	return ret;
}

/* Open n connections; *fdsp gets them.  Returns how many opened. */
static int
open_many(int n, int **fdsp)
{
	int *fds, i;

	if ((fds = calloc((size_t)n, sizeof(*fds))) == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		if (aio_connect(sock_path, &fds[i]) != 0)
			break;
	}
	*fdsp = fds;
	return i;
}

static void
close_many(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

/* Count replies arriving on fds until deadline (ns); each fd answers once. */
static int
count_replies(int *fds, int n, uint64_t deadline, uint64_t *whenp)
{
	struct pollfd *pfd;
	struct buf *reply;
	uint64_t now;
	int i, got = 0, left = n;

	if ((pfd = calloc((size_t)n, sizeof(*pfd))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	while (left > 0 && (now = aio_now_ns()) < deadline) {
		if (poll(pfd, (nfds_t)n, (int)((deadline - now) / 1000000) +
		    1) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0 || pfd[i].fd == -1)
				continue;
			pfd[i].fd = -1;
			left--;
			if (aio_recv_msg(fds[i], H_IO_TIMEOUT_MS, &reply) == 0)
				got++;
			buf_free(reply);
			if (whenp != NULL)
				whenp[i] = aio_now_ns();
		}
	}
	free(pfd);
	return got;
}

static int
cmd_unlock_flood(int n, int ms)
{
	struct buf *msg = NULL;
	char pass[32];
	uint64_t deadline;
	pid_t obs;
	int *fds = NULL, nfd, i, got, ret = 1;

	if ((nfd = open_many(n, &fds)) < n) {
		fprintf(stderr, "hostile: connected %d of %d\n", nfd, n);
		goto out;
	}
	if ((msg = buf_new()) == NULL)
		goto out;
	deadline = aio_now_ns() + (uint64_t)ms * 1000000ULL;
	for (i = 0; i < n; i++) {
		snprintf(pass, sizeof(pass), "guess-%d", i);
		buf_reset(msg);
		if (buf_put_u8(msg, AIO_UNLOCK) != 0 ||
		    buf_put_cstring(msg, pass) != 0 ||
		    aio_send_msg(fds[i], msg) != 0)
			goto out;
	}
	obs = observer_start(ms, stdout);
	got = count_replies(fds, n, deadline, NULL);
	if (observer_wait(obs) != 0) {
		fprintf(stderr, "hostile: observer failed\n");
		goto out;
	}
	printf("replies=%d\n", got);
	ret = 0;
 out:
	buf_free(msg);
	if (fds != NULL)
		close_many(fds, nfd);
	return ret;
}

static int
cmd_pipeline(int n, int ms)
{
	struct buf *all = NULL;
	pid_t obs;
	int fd = -1, i, fl, ret = 1;
	size_t off;
	ssize_t w;

	if (aio_connect(sock_path, &fd) != 0 || (all = buf_new()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (buf_put_u32(all, 1) != 0 ||
		    buf_put_u8(all, AIO_REQUEST_IDENTITIES) != 0)
			goto out;
	}
	/* Send what the agent takes; never read a reply. */
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		goto out;
	for (off = 0; off < buf_len(all);) {
		w = send(fd, buf_ptr(all) + off, buf_len(all) - off,
		    MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	fprintf(stderr, "hostile: pipelined %zu of %zu bytes\n", off,
	    buf_len(all));
	obs = observer_start(ms, stdout);
	if (observer_wait(obs) != 0) {
		fprintf(stderr, "hostile: observer failed\n");
		goto out;
	}
	ret = 0;
 out:
	buf_free(all);
	if (fd != -1)
		close(fd);
	return ret;
}

static int
cmd_connflood(int n, int ms)
{
	struct sockaddr_un sun;
	uint64_t until;
	uint32_t nkeys;
	int *fds, nfd = 0, fd, first = -1, ret = 1, observed = 0;

	if ((fds = calloc((size_t)n, sizeof(*fds))) == NULL ||
	    aio_connect(sock_path, &first) != 0) {
		free(fds);
		return 1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock_path) >= sizeof(sun.sun_path))
		goto out;
	memcpy(sun.sun_path, sock_path, strlen(sock_path));
	until = aio_now_ns() + (uint64_t)ms * 1000000ULL;
	while (aio_now_ns() < until) {
		if (nfd < n) {
			if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK,
			    0)) == -1) {
				perror("hostile: socket");
				goto out;
			}
			if (connect(fd, (struct sockaddr *)&sun,
			    sizeof(sun)) == 0) {
				fds[nfd++] = fd;
				continue;
			}
			close(fd);
			if (errno != EAGAIN) {
				perror("hostile: connect");
				goto out;
			}
		}
		/* backlog full: the agent is not accepting; try later */
		usleep(10000);
	}
	observed = aio_list_keys(first, H_IO_TIMEOUT_MS, &nkeys, NULL) == 0;
	ret = 0;
 out:
	printf("connected=%d observer=%s\n", nfd, observed ? "ok" : "failed");
	close_many(fds, nfd);
	close(first);
	return ret;
}

static struct buf *
b64_blob(const char *b64)
{
	struct buf *blob;
	size_t len = strlen(b64);
	u_char *dp;
	int n;

	if ((blob = buf_new()) == NULL || buf_reserve(blob, len, &dp) != 0 ||
	    (n = EVP_DecodeBlock(dp, (const u_char *)b64, (int)len)) < 0 ||
	    buf_consume_end(blob, len - (size_t)n) != 0) {
		buf_free(blob);
		return NULL;
	}
	/* EVP_DecodeBlock counts '=' padding as zero bytes */
	while (len > 0 && b64[len - 1] == '=') {
		if (buf_consume_end(blob, 1) != 0) {
			buf_free(blob);
			return NULL;
		}
		len--;
	}
	return blob;
}

static int
cmd_signflood(int n, const char *b64)
{
	struct buf *blob = NULL, *msg = NULL, *reply = NULL;
	u_char data[64];
	uint64_t *when = NULL, theirs = 0;
	pid_t pid;
	int *fds = NULL, nfd = 0, i, p[2] = { -1, -1 }, before = 0, ok;
	int ret = 1;
	uint8_t type;

	memset(data, 0x5a, sizeof(data));
	if ((blob = b64_blob(b64)) == NULL || (msg = buf_new()) == NULL ||
	    buf_put_u8(msg, AIO_SIGN_REQUEST) != 0 ||
	    buf_put_stringb(msg, blob) != 0 ||
	    buf_put_string(msg, data, sizeof(data)) != 0 ||
	    buf_put_u32(msg, 0x04) != 0)	/* rsa-sha2-512 */
		goto out;
	if ((nfd = open_many(n, &fds)) < n) {
		fprintf(stderr, "hostile: connected %d of %d\n", nfd, n);
		goto out;
	}
	if ((when = calloc((size_t)n, sizeof(*when))) == NULL ||
	    pipe(p) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (aio_send_msg(fds[i], msg) != 0)
			goto out;
	}
	/* The second client: another process, one signature. */
	if ((pid = fork()) == -1)
		goto out;
	if (pid == 0) {
		int fd;

		close(p[0]);
		if (aio_connect(sock_path, &fd) != 0 ||
		    aio_request(fd, msg, 120000, &reply) != 0 ||
		    buf_get_u8(reply, &type) != 0 || type != AIO_SIGN_RESPONSE)
			_exit(1);
		theirs = aio_now_ns();
		if (write(p[1], &theirs, sizeof(theirs)) !=
		    (ssize_t)sizeof(theirs))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	p[1] = -1;
	ok = count_replies(fds, n, aio_now_ns() + 120000000000ULL, when);
	if (read(p[0], &theirs, sizeof(theirs)) != (ssize_t)sizeof(theirs) ||
	    observer_wait(pid) != 0) {
		fprintf(stderr, "hostile: the second client's sign failed\n");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (when[i] != 0 && when[i] < theirs)
			before++;
	}
	printf("before=%d of=%d ok=%d\n", before, n, ok);
	ret = 0;
 out:
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	free(when);
	buf_free(blob);
	buf_free(msg);
	buf_free(reply);
	if (fds != NULL)
		close_many(fds, nfd);
	return ret;
}

int main(int, char **);

int
main(int argc, char **argv)
{
	int ch;

	sock_path = getenv("SSH_AUTH_SOCK");
	while ((ch = getopt(argc, argv, "s:")) != -1) {
		switch (ch) {
		case 's':
			sock_path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || sock_path == NULL)
		usage();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[0], "add") == 0 && argc == 2)
		return cmd_add((int)num_arg(argv[1], 1, 1000000));
	if (strcmp(argv[0], "unlock-flood") == 0 && argc == 3)
		return cmd_unlock_flood((int)num_arg(argv[1], 1, 100000),
		    (int)num_arg(argv[2], 1, 600000));
	if (strcmp(argv[0], "pipeline") == 0 && argc == 3)
		return cmd_pipeline((int)num_arg(argv[1], 1, 1000000),
		    (int)num_arg(argv[2], 1, 600000));
	if (strcmp(argv[0], "connflood") == 0 && argc == 3)
		return cmd_connflood((int)num_arg(argv[1], 1, 1000000),
		    (int)num_arg(argv[2], 1, 600000));
	if (strcmp(argv[0], "signflood") == 0 && argc == 3)
		return cmd_signflood((int)num_arg(argv[1], 1, 100000), argv[2]);
	usage();
	return 2;
}
