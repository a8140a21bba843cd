/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * agentcli: talk the agent protocol from shell tests.
 *
 * usage: agentcli [-s SOCKET] [-t TIMEOUT_MS] COMMAND
 *	query		EXTENSION "query"; prints one supported extension name
 *			per line.  Exit 0 on success, 3 when the agent
 *			answers FAILURE / EXTENSION_FAILURE.
 *	count		prints the number of identities listed.
 *	raw HEX		sends one frame whose body (type byte first) is HEX;
 *			prints "TYPE HEXBODY" of the reply, or "closed".
 *	sign-bench SECONDS HEXBLOB
 *			signs 32 random-ish bytes with the key whose public
 *			blob is HEXBLOB, one request after another, for
 *			SECONDS; prints "ops N ops/s X p50_ms Y p99_ms Z".
 *	list-bench MS	lists the identities, one request after another,
 *			for MS milliseconds; prints the same line.
 * The socket defaults to $SSH_AUTH_SOCK.  Exit 1 on errors (no reply,
 * malformed reply), 2 on usage errors.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "tests/integ/agentio.h"

static int timeout_ms = 10000;

static void
usage(void)
{
	fprintf(stderr, "usage: agentcli [-s socket] [-t timeout_ms] "
	    "query | count | raw HEX | sign-bench SECONDS HEXBLOB |\n"
	    "       list-bench MS\n");
	exit(2);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((u_char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
cmd_raw(int fd, const char *hex)
{
	struct buf *msg = NULL, *reply = NULL;
	uint8_t type;
	size_t i, n = strlen(hex);
	int hi, lo, r = TOK_ERR_INTERNAL, ret = 1;

	if (n % 2 != 0 || (msg = buf_new()) == NULL)
		goto out;
	for (i = 0; i < n; i += 2) {
		if ((hi = hexval(hex[i])) < 0 || (lo = hexval(hex[i + 1])) < 0)
			goto out;
		if ((r = buf_put_u8(msg, (uint8_t)(hi << 4 | lo))) != 0)
			goto out;
	}
	r = aio_request(fd, msg, timeout_ms, &reply);
	if (r == TOK_ERR_MESSAGE_INCOMPLETE) {
		printf("closed\n");
		ret = 0;
		goto out;
	}
	if (r != 0 || (r = buf_get_u8(reply, &type)) != 0) {
		fprintf(stderr, "agentcli: %s\n", tok_strerror(r));
		goto out;
	}
	printf("%u ", type);
	for (i = 0; i < buf_len(reply); i++)
		printf("%02x", buf_ptr(reply)[i]);
	printf("\n");
	ret = 0;
 out:
	buf_free(msg);
	buf_free(reply);
	return ret;
}

/*
 * The query reply is SUCCESS or EXTENSION_RESPONSE followed by the names;
 * some agents repeat the extension name "query" first.  Every name must be
 * a printable string; nothing may trail.
 */
static int
cmd_query(int fd)
{
	struct buf *msg = NULL, *reply = NULL;
	char *name = NULL;
	uint8_t type;
	size_t i, len;
	int r = TOK_ERR_INTERNAL, ret = 1;

	if ((msg = buf_new()) == NULL ||
	    (r = buf_put_u8(msg, AIO_EXTENSION)) != 0 ||
	    (r = buf_put_cstring(msg, "query")) != 0 ||
	    (r = aio_request(fd, msg, timeout_ms, &reply)) != 0 ||
	    (r = buf_get_u8(reply, &type)) != 0) {
		fprintf(stderr, "agentcli: query: %s\n", tok_strerror(r));
		goto out;
	}
	if (type == AIO_FAILURE || type == AIO_EXTENSION_FAILURE) {
		printf("refused %u\n", type);
		ret = 3;
		goto out;
	}
	if (type != AIO_SUCCESS && type != AIO_EXTENSION_RESPONSE) {
		fprintf(stderr, "agentcli: query: reply type %u\n", type);
		goto out;
	}
	while (buf_len(reply) > 0) {
		if ((r = buf_get_cstring(reply, &name, &len)) != 0) {
			fprintf(stderr, "agentcli: query reply: %s\n",
			    tok_strerror(r));
			goto out;
		}
		for (i = 0; i < len; i++) {
			if (!isprint((u_char)name[i])) {
				fprintf(stderr, "agentcli: query reply: "
				    "unprintable name\n");
				goto out;
			}
		}
		printf("%s\n", name);
		free(name);
		name = NULL;
	}
	ret = 0;
 out:
	free(name);
	buf_free(msg);
	buf_free(reply);
	return ret;
}

static int
cmd_count(int fd)
{
	uint32_t n;
	int r;

	if ((r = aio_list_keys(fd, timeout_ms, &n, NULL)) != 0) {
		fprintf(stderr, "agentcli: count: %s\n", tok_strerror(r));
		return 1;
	}
	printf("%u\n", n);
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Latencies (ns, n of them, sorted here) as one line. */
static void
print_lat(uint64_t *lat, size_t n, double secs)
{
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("ops %zu ops/s %.1f p50_ms %.2f p99_ms %.2f\n", n,
	    (double)n / secs, lat[n / 2] / 1e6, lat[n * 99 / 100] / 1e6);
}

/* lat_add: append v to the growing array *latp of *np (room for *capp). */
static int
lat_add(uint64_t **latp, size_t *np, size_t *capp, uint64_t v)
{
	uint64_t *tmp;
	size_t cap;

	if (*np == *capp) {
		cap = *capp ? *capp * 2 : 1024;
		if ((tmp = realloc(*latp, cap * sizeof(**latp))) == NULL)
			return -1;
		*latp = tmp;
		*capp = cap;
	}
	(*latp)[(*np)++] = v;
	return 0;
}

static int
cmd_sign_bench(int fd, const char *secs, const char *hex)
{
	struct buf *msg = NULL, *reply = NULL, *blob = NULL;
	uint64_t *lat = NULL, t0, t, end;
	size_t n = 0, cap = 0, i;
	u_char data[32];
	uint8_t type;
	int hi, lo, r, ret = 1;

	if ((blob = buf_new()) == NULL)
		goto out;
	for (i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2) {
		if ((hi = hexval(hex[i])) < 0 || (lo = hexval(hex[i + 1])) < 0 ||
		    buf_put_u8(blob, (uint8_t)(hi << 4 | lo)) != 0)
			goto out;
	}
	end = aio_now_ns() + (uint64_t)atoi(secs) * 1000000000ULL;
	while ((t0 = aio_now_ns()) < end) {
		memset(data, 0, sizeof(data));
		memcpy(data, &t0, sizeof(t0));
		buf_free(msg);
		buf_free(reply);
		reply = NULL;
		if ((msg = buf_new()) == NULL ||
		    buf_put_u8(msg, 13) != 0 ||	/* SSH_AGENTC_SIGN_REQUEST */
		    buf_put_stringb(msg, blob) != 0 ||
		    buf_put_string(msg, data, sizeof(data)) != 0 ||
		    buf_put_u32(msg, 0) != 0)
			goto out;
		if ((r = aio_request(fd, msg, timeout_ms, &reply)) != 0 ||
		    buf_get_u8(reply, &type) != 0 || type != 14) {
			fprintf(stderr, "agentcli: sign failed\n");
			goto out;
		}
		t = aio_now_ns();
		if (lat_add(&lat, &n, &cap, t - t0) != 0)
			goto out;
	}
	if (n == 0)
		goto out;
	print_lat(lat, n, atoi(secs));
	ret = 0;
 out:
	free(lat);
	buf_free(msg);
	buf_free(reply);
	buf_free(blob);
	return ret;
}

static int
cmd_list_bench(int fd, const char *ms)
{
	struct buf *msg = NULL, *reply = NULL;
	uint64_t *lat = NULL, t0, t, end, dur;
	size_t n = 0, cap = 0;
	uint8_t type;
	int r, ret = 1;

	dur = (uint64_t)strtoul(ms, NULL, 10) * 1000000ULL;
	end = aio_now_ns() + dur;
	while ((t0 = aio_now_ns()) < end) {
		buf_free(msg);
		buf_free(reply);
		reply = NULL;
		if ((msg = buf_new()) == NULL ||
		    buf_put_u8(msg, 11) != 0)	/* REQUEST_IDENTITIES */
			goto out;
		if ((r = aio_request(fd, msg, timeout_ms, &reply)) != 0 ||
		    buf_get_u8(reply, &type) != 0 || type != 12) {
			fprintf(stderr, "agentcli: list failed\n");
			goto out;
		}
		t = aio_now_ns();
		if (lat_add(&lat, &n, &cap, t - t0) != 0)
			goto out;
	}
	if (n == 0)
		goto out;
	print_lat(lat, n, dur / 1e9);
	ret = 0;
 out:
	free(lat);
	buf_free(msg);
	buf_free(reply);
	return ret;
}

int main(int, char **);

int
main(int argc, char **argv)
{
	const char *sock = getenv("SSH_AUTH_SOCK");
	int ch, fd = -1, r, ret = 1;

	while ((ch = getopt(argc, argv, "s:t:")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 't':
			timeout_ms = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || sock == NULL)
		usage();
	if ((r = aio_connect(sock, &fd)) != 0) {
		fprintf(stderr, "agentcli: connect %s: %s\n", sock,
		    tok_strerror(r));
		return 1;
	}
	if (strcmp(argv[0], "query") == 0 && argc == 1)
		ret = cmd_query(fd);
	else if (strcmp(argv[0], "count") == 0 && argc == 1)
		ret = cmd_count(fd);
	else if (strcmp(argv[0], "raw") == 0 && argc == 2)
		ret = cmd_raw(fd, argv[1]);
	else if (strcmp(argv[0], "sign-bench") == 0 && argc == 3)
		ret = cmd_sign_bench(fd, argv[1], argv[2]);
	else if (strcmp(argv[0], "list-bench") == 0 && argc == 2)
		ret = cmd_list_bench(fd, argv[1]);
	else
		usage();
	close(fd);
	return ret;
}
