/*
 * vcard: a virtual PIV smartcard for tests.  It connects to the
 * vsmartcard-vpcd reader driver loaded in pcscd (connected = card
 * inserted, disconnected = removed) and answers its frames: a 2-byte
 * big-endian length, then either a 1-byte control code (power off/on,
 * reset, get ATR) or a command APDU, answered with the response APDU.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/log.h"
#include "tests/vcard/piv.h"
#include "tests/vcard/state.h"

#define VPCD_CTRL_OFF		0
#define VPCD_CTRL_ON		1
#define VPCD_CTRL_RESET		2
#define VPCD_CTRL_ATR		4

static void
usage(FILE *f)
{
	fprintf(f,
"usage: vcard --state FILE [--host HOST] [--port PORT] [--wait SECONDS]\n"
"             [--once] [--pin-always-9c yes|no] [-d] [--help]\n"
"\n"
"A virtual PIV smartcard that plugs into pcscd through the vsmartcard-vpcd\n"
"reader driver.  The card is inserted while vcard is connected to vpcd,\n"
"removed when vcard exits.\n"
"\n"
"  --state FILE         card state (keys, certificates, PIN, PUK, retries,\n"
"                       data objects); created as a fresh card when absent:\n"
"                       PIN 123456, PUK 12345678, 3DES management key\n"
"                       010203040506070801020304050607080102030405060708,\n"
"                       ECDSA P-256 key + certificate in 9a, RSA-2048 key +\n"
"                       certificate in 9c.  Saved atomically on every change.\n"
"  --host HOST          where vpcd listens (default 127.0.0.1)\n"
"  --port PORT          vpcd's port for the reader slot (default 35963)\n"
"  --wait SECONDS       how long to keep retrying to connect (default 30)\n"
"  --once               exit when vpcd disconnects instead of reconnecting\n"
"  --pin-always-9c yes|no\n"
"                       require the PIN right before each use of key 9c, as\n"
"                       SP 800-73 says (default yes); no: 9c is like 9a\n"
"  -d, --debug          more logging on stderr (repeat for more)\n"
"  -h, --help           this text\n");
}

/* read/write exactly len bytes; TOK_ERR_DEVICE_NOT_PRESENT on EOF. */
static int
io_full(int fd, void *p, size_t len, int wr)
{
	u_char *c = p;
	ssize_t n;

	while (len > 0) {
		n = wr ? write(fd, c, len) : read(fd, c, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return TOK_ERR_SYSTEM;
		if (n == 0)
			return TOK_ERR_DEVICE_NOT_PRESENT;
		c += n;
		len -= n;
	}
	return 0;
}

static int
vpcd_send(int fd, const u_char *p, size_t len)
{
	u_char hdr[2];
	int r;

	if (len > 0xffff)
		return TOK_ERR_INVALID_ARGUMENT;
	hdr[0] = (len >> 8) & 0xff;
	hdr[1] = len & 0xff;
	if ((r = io_full(fd, hdr, sizeof(hdr), 1)) != 0 ||
	    (r = io_full(fd, (void *)p, len, 1)) != 0)
		return r;
	return 0;
}

static int
vpcd_connect(const char *host, const char *port, int wait_s, int *fdp)
{
	struct addrinfo hints, *ai = NULL, *a;
	struct timespec start, now;
	int fd = -1, r = TOK_ERR_INTERNAL, gai, one = 1, logged = 0;

	*fdp = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(host, port, &hints, &ai)) != 0) {
		error_f("%s port %s: %s", host, port, gai_strerror(gai));
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		for (a = ai; a != NULL; a = a->ai_next) {
			if ((fd = socket(a->ai_family, a->ai_socktype |
			    SOCK_CLOEXEC, a->ai_protocol)) < 0)
				continue;
			if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
				break;
			close(fd);
			fd = -1;
		}
		if (fd >= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= wait_s) {
			error_f("vpcd not listening on %s port %s after %ds",
			    host, port, wait_s);
			r = TOK_ERR_DEVICE_TIMEOUT;
			goto out;
		}
		if (!logged++)
			verbose_f("waiting for vpcd on %s port %s", host, port);
		usleep(100 * 1000);
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	verbose_f("card inserted (vpcd %s port %s)", host, port);
	*fdp = fd;
	r = 0;
 out:
	if (ai != NULL)
		freeaddrinfo(ai);
	return r;
}

/* Serve one connection until vpcd closes it. */
static int
vpcd_serve(int fd, struct vc_piv *piv)
{
	struct buf *rapdu = NULL;
	u_char hdr[2], *msg = NULL;
	const u_char *atr;
	size_t len, atrlen;
	int r = TOK_ERR_INTERNAL;

	if ((rapdu = buf_new()) == NULL ||
	    (msg = malloc(0xffff)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	vc_piv_reset(piv);
	for (;;) {
		if ((r = io_full(fd, hdr, sizeof(hdr), 0)) != 0)
			goto out;
		len = (hdr[0] << 8) | hdr[1];
		if ((r = io_full(fd, msg, len, 0)) != 0)
			goto out;
		if (len == 0) {
			debug_f("empty frame ignored");
			continue;
		}
		if (len == 1) {
			switch (msg[0]) {
			case VPCD_CTRL_OFF:
			case VPCD_CTRL_ON:
			case VPCD_CTRL_RESET:
				debug2_f("control %u", msg[0]);
				vc_piv_reset(piv);
				break;
			case VPCD_CTRL_ATR:
				atr = vc_piv_atr(&atrlen);
				if ((r = vpcd_send(fd, atr, atrlen)) != 0)
					goto out;
				break;
			default:
				error_f("unknown vpcd control code %u", msg[0]);
				break;
			}
			continue;
		}
		buf_reset(rapdu);
		if ((r = vc_piv_process(piv, msg, len, rapdu)) != 0)
			goto out;
		if ((r = vpcd_send(fd, buf_ptr(rapdu), buf_len(rapdu))) != 0)
			goto out;
	}
 out:
	free(msg);
	buf_free(rapdu);
	return r;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "wait", required_argument, NULL, 'w' },
		{ "once", no_argument, NULL, '1' },
		{ "pin-always-9c", required_argument, NULL, 'A' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct vc_state *st = NULL;
	struct vc_piv *piv = NULL;
	const char *state_path = NULL, *host = "127.0.0.1", *port = "35963";
	const char *errstr;
	enum log_level level = LOG_LEVEL_INFO;
	int ch, r, fd, wait_s = 30, once = 0, pin_always = 1;

	log_init("vcard", level, 1);
	while ((ch = getopt_long(argc, argv, "dh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			state_path = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'p':
			(void)strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				fatal_f("port %s is %s", optarg, errstr);
			port = optarg;
			break;
		case 'w':
			wait_s = strtonum(optarg, 0, 3600, &errstr);
			if (errstr != NULL)
				fatal_f("wait %s is %s", optarg, errstr);
			break;
		case '1':
			once = 1;
			break;
		case 'A':
			if (strcmp(optarg, "yes") == 0)
				pin_always = 1;
			else if (strcmp(optarg, "no") == 0)
				pin_always = 0;
			else
				fatal_f("--pin-always-9c takes yes or no");
			break;
		case 'd':
			if (level < LOG_LEVEL_DEBUG3)
				level++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc || state_path == NULL) {
		usage(stderr);
		exit(2);
	}
	log_init("vcard", level, 1);
	harden_process();
	signal(SIGPIPE, SIG_IGN);

	if ((r = vc_state_open(state_path, &st)) != 0)
		fatal_fr(r, "card state %s", state_path);
	if ((piv = vc_piv_new(st, pin_always)) == NULL)
		fatal_f("out of memory");
	for (;;) {
		if ((r = vpcd_connect(host, port, wait_s, &fd)) != 0)
			break;
		r = vpcd_serve(fd, piv);
		close(fd);
		if (r != TOK_ERR_DEVICE_NOT_PRESENT && r != TOK_ERR_SYSTEM)
			break;
		verbose_f("vpcd disconnected");
		r = 0;
		if (once)
			break;
	}
	vc_piv_free(piv);
	vc_state_free(st);
	if (r != 0)
		error_fr(r, "exiting");
	return r == 0 ? 0 : 1;
}
