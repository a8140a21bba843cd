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
	    "query | count | raw HEX\n");
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
	else
		usage();
	close(fd);
	return ret;
}
