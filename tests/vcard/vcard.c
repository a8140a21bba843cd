/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * vcard: a virtual PIV smartcard (a YubiKey 5's PIV application) for
 * tests.  It connects to the vsmartcard-vpcd reader driver loaded in
 * pcscd (connected = card inserted, disconnected = removed) and answers
 * its frames: a 2-byte big-endian length, then either a 1-byte control
 * code (power off/on, reset, get ATR) or a command APDU, answered with the
 * response APDU.  A control socket (the line protocol of vfido's, see
 * tests/vfido/control.h) sets how touches are given, live.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
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
#include "tests/vfido/control.h"

#define VPCD_CTRL_OFF		0
#define VPCD_CTRL_ON		1
#define VPCD_CTRL_RESET		2
#define VPCD_CTRL_ATR		4

#define CTL_MAX			8
#define CTL_LOG_MAX		4096

/* One control connection: a line being read. */
struct ctl {
	int	 fd;
	char	 in[VFIDO_CTL_LINE_MAX];
	size_t	 inlen;
};

static struct ctl	 ctls[CTL_MAX];
static int		 ctl_listen = -1;
static enum vfido_touch_mode touch_mode = VFIDO_TOUCH_APPROVE;
static int		 touch_delay_ms;
static int		 touch_timeout_ms = 15000;
static int		 touch_given;	/* "touch" arrived: for this or the next */
static int		 touch_pending = -1;	/* key awaiting a touch */
static char		 ctl_log[CTL_LOG_MAX];
static int		 quit_asked;
static int		 yubikey_atr;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: vcard --state FILE [--host HOST] [--port PORT] [--wait SECONDS]\n"
"             [--once] [--pin-always-9c yes|no] [--serial N]\n"
"             [--firmware X.Y.Z|none] [--control PATH]\n"
"             [--touch approve|deny|delay=MS|manual|never]\n"
"             [--touch-timeout MS] [--atr vcard|yubikey] [-d] [--help]\n"
"       vcard --ctl PATH LINE...\n"
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
"  --serial N           serial number of a fresh card (default random)\n"
"  --firmware X.Y.Z     the YubiKey version GET VERSION reports (5.7.1);\n"
"                       none: a plain PIV card, without YubiKey commands\n"
"  --control PATH       control socket, one command per line, one reply:\n"
"                         touch          approve the pending or next touch\n"
"                         touch MODE     change the touch behaviour\n"
"                         log            touches since the last log\n"
"                                        (\"touch 9a ok\", ... denied/timeout)\n"
"                         pending        \"yes KEYREF\" while a touch waits\n"
"                         quit           exit (the card is removed)\n"
"  --touch MODE         for keys whose touch policy wants one: approve\n"
"                       (default) at once; deny; delay=MS; manual (wait for\n"
"                       \"touch\" on the control socket); never (time out)\n"
"  --touch-timeout MS   how long a touch is awaited (default 15000)\n"
"  --atr vcard|yubikey  answer to reset: vcard's own (default) or a\n"
"                       YubiKey 5's\n"
"  --ctl PATH LINE...   send LINEs to a running vcard's control socket and\n"
"                       print the replies\n"
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

static void
ctl_close(struct ctl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->inlen = 0;
}

static void
ctl_log_add(const char *line)
{
	if (strlen(ctl_log) + strlen(line) + 2 < sizeof(ctl_log)) {
		if (ctl_log[0] != '\0')
			strlcat(ctl_log, "; ", sizeof(ctl_log));
		strlcat(ctl_log, line, sizeof(ctl_log));
	}
}

static void
ctl_reply(struct ctl *c, const char *line)
{
	char out[CTL_LOG_MAX + 2];

	snprintf(out, sizeof(out), "%s\n", line);
	/* Replies are short and the peer waits for them: a blocking write. */
	if (io_full(c->fd, out, strlen(out), 1) != 0)
		ctl_close(c);
}

static void
ctl_command(struct ctl *c, const char *line)
{
	struct vfido_ctl_cmd cmd;
	char out[64];

	if (vfido_ctl_parse(line, &cmd) != 0) {
		ctl_reply(c, "error");
		return;
	}
	switch (cmd.verb) {
	case VFIDO_CTL_TOUCH:
		touch_given = 1;
		ctl_reply(c, "ok");
		break;
	case VFIDO_CTL_MODE:
		touch_mode = cmd.mode;
		touch_delay_ms = cmd.delay_ms;
		touch_given = 0;
		ctl_reply(c, "ok");
		break;
	case VFIDO_CTL_LOG:
		ctl_reply(c, ctl_log[0] != '\0' ? ctl_log : "none");
		ctl_log[0] = '\0';
		break;
	case VFIDO_CTL_PENDING:
		if (touch_pending >= 0)
			snprintf(out, sizeof(out), "yes %02x", touch_pending);
		else
			snprintf(out, sizeof(out), "no");
		ctl_reply(c, out);
		break;
	case VFIDO_CTL_QUIT:
		quit_asked = 1;
		ctl_reply(c, "ok");
		break;
	case VFIDO_CTL_REPLUG:
		/* A card has no power-up window to reset: not offered. */
		ctl_reply(c, "error");
		break;
	}
}

static void
ctl_read(struct ctl *c)
{
	char *nl;
	ssize_t n;
	size_t len;

	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen);
	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		ctl_close(c);
		return;
	}
	c->inlen += n;
	c->in[c->inlen] = '\0';
	while (c->fd >= 0 && (nl = strchr(c->in, '\n')) != NULL) {
		*nl = '\0';
		ctl_command(c, c->in);
		len = strlen(c->in) + 1;
		memmove(c->in, c->in + len, c->inlen - len + 1);
		c->inlen -= len;
	}
	if (c->fd >= 0 && c->inlen >= sizeof(c->in) - 1) {
		error_f("control line too long");
		ctl_close(c);
	}
}

/*
 * Wait up to timeout_ms (-1: for ever) for the control socket or for
 * extra_fd (-1: none) to be readable, serving control commands; 1 when
 * extra_fd is readable, 0 otherwise.
 */
static int
ctl_poll(int extra_fd, int timeout_ms)
{
	struct pollfd pfd[CTL_MAX + 2];
	int map[CTL_MAX + 2], n = 0, i, fd;

	if (extra_fd >= 0) {
		pfd[n].fd = extra_fd;
		pfd[n].events = POLLIN;
		map[n++] = -2;
	}
	if (ctl_listen >= 0) {
		pfd[n].fd = ctl_listen;
		pfd[n].events = POLLIN;
		map[n++] = -1;
	}
	for (i = 0; i < CTL_MAX; i++) {
		if (ctls[i].fd < 0)
			continue;
		pfd[n].fd = ctls[i].fd;
		pfd[n].events = POLLIN;
		map[n++] = i;
	}
	if (poll(pfd, n, timeout_ms) <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		if (map[i] == -2)
			return 1;
		if (map[i] == -1) {
			if ((fd = accept4(ctl_listen, NULL, NULL,
			    SOCK_CLOEXEC)) < 0)
				continue;
			for (n = 0; n < CTL_MAX && ctls[n].fd >= 0; n++)
				;
			if (n == CTL_MAX) {
				close(fd);
				continue;
			}
			ctls[n].fd = fd;
			ctls[n].inlen = 0;
			/* n is no longer the pollfd count: stop here. */
			return 0;
		}
		ctl_read(&ctls[map[i]]);
	}
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The card's touch sensor, as the control socket and --touch set it. */
static int
card_touch(void *arg, int keyref)
{
	int64_t start = now_ms(), deadline, left;
	char line[64];
	int r = TOK_ERR_INTERNAL;
	const char *how;

	(void)arg;
	touch_pending = keyref;
	switch (touch_mode) {
	case VFIDO_TOUCH_APPROVE:
		r = 0;
		goto out;
	case VFIDO_TOUCH_DENY:
		r = TOK_ERR_TOUCH_DENIED;
		goto out;
	case VFIDO_TOUCH_DELAY:
		deadline = start + touch_delay_ms;
		break;
	default:
		deadline = start + touch_timeout_ms;
		break;
	}
	for (;;) {
		if (touch_given) {
			r = 0;
			goto out;
		}
		if (quit_asked) {
			r = TOK_ERR_DEVICE_NOT_PRESENT;
			goto out;
		}
		if ((left = deadline - now_ms()) <= 0)
			break;
		(void)ctl_poll(-1, (int)left);
	}
	r = touch_mode == VFIDO_TOUCH_DELAY ? 0 : TOK_ERR_DEVICE_TIMEOUT;
 out:
	touch_given = 0;
	touch_pending = -1;
	how = r == 0 ? "ok" : r == TOK_ERR_TOUCH_DENIED ? "denied" :
	    "timeout";
	snprintf(line, sizeof(line), "touch %02x %s", keyref, how);
	ctl_log_add(line);
	verbose_f("%s after %lld ms", line, (long long)(now_ms() - start));
	return r;
}

static int
ctl_listen_at(const char *path)
{
	struct sockaddr_un sun;
	int fd, i;

	for (i = 0; i < CTL_MAX; i++)
		ctls[i].fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return TOK_ERR_INVALID_ARGUMENT;
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return TOK_ERR_SYSTEM;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, 8) != 0) {
		close(fd);
		return TOK_ERR_SYSTEM;
	}
	ctl_listen = fd;
	return 0;
}

/* vcard --ctl PATH LINE...: the client side, for shell tests. */
static int
ctl_client(const char *path, char **lines, int n)
{
	struct sockaddr_un sun;
	char reply[CTL_LOG_MAX + 2];
	size_t len;
	ssize_t got;
	int fd, i, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return 2;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "vcard: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		if ((r = io_full(fd, lines[i], strlen(lines[i]), 1)) != 0 ||
		    (r = io_full(fd, "\n", 1, 1)) != 0)
			return 1;
		for (len = 0; len < sizeof(reply) - 1;) {
			if ((got = read(fd, reply + len, 1)) < 0 &&
			    errno == EINTR)
				continue;
			if (got <= 0)
				return 1;
			if (reply[len++] == '\n')
				break;
		}
		reply[len] = '\0';
		fputs(reply, stdout);
	}
	close(fd);
	return 0;
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
		if (quit_asked) {
			r = 0;
			goto out;
		}
		if (!ctl_poll(fd, -1))
			continue;
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
				atr = vc_piv_atr(yubikey_atr, &atrlen);
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
		{ "serial", required_argument, NULL, 'S' },
		{ "firmware", required_argument, NULL, 'F' },
		{ "control", required_argument, NULL, 'c' },
		{ "touch", required_argument, NULL, 't' },
		{ "touch-timeout", required_argument, NULL, 'T' },
		{ "ctl", required_argument, NULL, 'C' },
		{ "atr", required_argument, NULL, 'a' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct vc_state *st = NULL;
	struct vc_piv *piv = NULL;
	const char *state_path = NULL, *host = "127.0.0.1", *port = "35963";
	const char *errstr, *ctl_path = NULL, *client_path = NULL;
	enum log_level level = LOG_LEVEL_INFO;
	int ch, r, fd, wait_s = 30, once = 0, pin_always = 1;
	u_int fw[3] = { 5, 7, 1 };
	int plain = 0;
	uint32_t serial = 0;

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
		case 'S':
			serial = strtonum(optarg, 1, 0xffffffffLL, &errstr);
			if (errstr != NULL)
				fatal_f("serial %s is %s", optarg, errstr);
			break;
		case 'F':
			if (strcmp(optarg, "none") == 0) {
				plain = 1;
				break;
			}
			if (sscanf(optarg, "%u.%u.%u", &fw[0], &fw[1],
			    &fw[2]) != 3 || fw[0] > 255 || fw[1] > 255 ||
			    fw[2] > 255)
				fatal_f("--firmware takes X.Y.Z");
			break;
		case 'c':
			ctl_path = optarg;
			break;
		case 't':
			if (vfido_touch_parse(optarg, &touch_mode,
			    &touch_delay_ms) != 0)
				fatal_f("bad --touch %s", optarg);
			break;
		case 'T':
			touch_timeout_ms = strtonum(optarg, 1, 600000, &errstr);
			if (errstr != NULL)
				fatal_f("touch timeout %s is %s", optarg,
				    errstr);
			break;
		case 'C':
			client_path = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "yubikey") == 0)
				yubikey_atr = 1;
			else if (strcmp(optarg, "vcard") == 0)
				yubikey_atr = 0;
			else
				fatal_f("--atr takes vcard or yubikey");
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
	if (client_path != NULL)
		return ctl_client(client_path, argv + optind, argc - optind);
	if (optind != argc || state_path == NULL) {
		usage(stderr);
		exit(2);
	}
	log_init("vcard", level, 1);
	harden_process();
	signal(SIGPIPE, SIG_IGN);

	if ((r = vc_state_open(state_path, serial, &st)) != 0)
		fatal_fr(r, "card state %s", state_path);
	if ((piv = vc_piv_new(st, pin_always)) == NULL)
		fatal_f("out of memory");
	vc_piv_set_version(piv, fw[0], fw[1], fw[2]);
	if (plain)
		vc_piv_set_plain(piv);
	vc_piv_set_touch(piv, card_touch, NULL);
	if (ctl_path != NULL && (r = ctl_listen_at(ctl_path)) != 0)
		fatal_fr(r, "control socket %s", ctl_path);
	for (;;) {
		if ((r = vpcd_connect(host, port, wait_s, &fd)) != 0)
			break;
		r = vpcd_serve(fd, piv);
		close(fd);
		if (r != TOK_ERR_DEVICE_NOT_PRESENT && r != TOK_ERR_SYSTEM)
			break;
		verbose_f("vpcd disconnected");
		r = 0;
		if (once || quit_asked)
			break;
	}
	if (ctl_path != NULL)
		(void)unlink(ctl_path);
	vc_piv_free(piv);
	vc_state_free(st);
	if (r != 0)
		error_fr(r, "exiting");
	return r == 0 ? 0 : 1;
}
