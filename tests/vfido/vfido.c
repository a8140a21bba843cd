/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * vfido: a virtual FIDO2 authenticator for tests.
 *
 *   vfido --state FILE --socket PATH [--control PATH]
 *         [--touch approve|deny|delay=MS|manual|never] [--pin PIN]
 *         [--serial S] [--pin-protocols 2,1] [--timeout MS]
 *         [--ctap20] [--touch-to-select] [--token-timeout MS]
 *         [--msg-timeout MS] [-d]
 *
 * It listens on a UNIX stream socket that carries raw 64-byte CTAPHID
 * reports (libfido2 reaches it as device "unix:PATH", see sk/fido_unix.h);
 * every connection is one "open" of the same token.  The token's secrets,
 * PIN, counter and resident credentials live in the state file, so killing
 * vfido and starting it again on the same file is unplug + replug.  The
 * socket appears only once vfido is ready to answer.
 *
 * Like a USB token on hidraw, every connection is one opener of the same
 * device: channels are the device's, a message half-sent by one opener
 * makes the device busy for all, and closing a connection cancels nothing
 * (a pending touch waits for the touch, a CTAPHID_CANCEL on its channel or
 * the timeout).  Power-up is vfido's start or a "replug" on the control
 * socket; authenticatorReset is allowed only within 10 s of it.
 *
 * Touch behaviour is set with --touch and changed live on the control
 * socket (see control.h), which also reports which requests were seen.
 * One poll loop serves everything: while a request waits for a touch, vfido
 * sends KEEPALIVEs, notices CANCEL and serves the control socket.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/log.h"
#include "tests/vfido/control.h"
#include "tests/vfido/ctap2.h"
#include "tests/vfido/ctaphid.h"
#include "tests/vfido/request.h"
#include "tests/vfido/state.h"
#include "tests/vfido/vkey.h"

#define CONNS_MAX		16
#define CTLS_MAX		8
#define KEEPALIVE_MS		100
#define LOG_MAX			8192
#define DEFAULT_TIMEOUT_MS	30000

/* One opener of the device; every opener shares the one struct vfido_hid. */
struct conn {
	int			 fd;
	struct buf		*out;
	u_char			 in[VFIDO_HID_REPORT];
	size_t			 inlen;
};

struct ctl {
	int		 fd;
	char		 in[VFIDO_CTL_LINE_MAX + 1];
	size_t		 inlen;
	struct buf	*out;
};

struct pending {
	int		 active;
	struct conn	*conn;		/* NULL once its opener is gone */
	uint32_t	 cid;
	u_char		*req;
	size_t		 len;
	int64_t		 approve_at;	/* -1: waits for "touch" */
	int64_t		 deadline;	/* user action timeout */
	int64_t		 next_keepalive;
	char		 info[VFIDO_CTAP_INFO_MAX];
};

static struct conn	*conns[CONNS_MAX];
static struct ctl	*ctls[CTLS_MAX];
static struct pending	 pend;
static struct vfido_hid	*hid;
static struct vfido_ctap *ctap;
static struct vfido_ctap_opts ctap_opts;
static struct vfido_state *ctap_st;
static int		 ctap_protos[2] = { 2, 1 };
static size_t		 ctap_nprotos = 2;
static enum vfido_touch_mode touch_mode = VFIDO_TOUCH_APPROVE;
static int		 touch_delay_ms;
static int		 touch_credits;
static int		 timeout_ms = DEFAULT_TIMEOUT_MS;
static int		 msg_timeout_ms = VFIDO_HID_MSG_TIMEOUT_MS;
static char		 reqlog[LOG_MAX];
static volatile sig_atomic_t quit;

static void
usage(void)
{
	fprintf(stderr,
"usage: vfido --state FILE --socket PATH [--control PATH]\n"
"             [--touch approve|deny|delay=MS|manual|never] [--pin PIN]\n"
"             [--serial S] [--pin-protocols LIST] [--timeout MS]\n"
"             [--ctap20] [--touch-to-select] [--token-timeout MS]\n"
"             [--msg-timeout MS] [-d]\n"
"\n"
"A virtual FIDO2 (CTAP 2.1) authenticator speaking CTAPHID 64-byte reports\n"
"on a UNIX stream socket; libfido2 reaches it as device \"unix:PATH\".\n"
"\n"
"  --state FILE      token state (secrets, PIN, counter, resident keys);\n"
"                    created if missing, rewritten atomically on change\n"
"  --socket PATH     device socket; appears once vfido is ready\n"
"  --control PATH    control socket, one command per line, one reply each:\n"
"                      touch            approve the pending or next touch\n"
"                      touch MODE       change the touch behaviour\n"
"                      log              requests since the last log, e.g.\n"
"                                       makeCredential up=1 uv=0; cancel\n"
"                      pending          \"yes <request>\" or \"no\"\n"
"                      replug           unplug and plug in again (power-up)\n"
"                      quit             exit\n"
"  --touch MODE      approve (default): touched at once; deny: refused\n"
"                    (OPERATION_DENIED); delay=MS: touched after MS ms;\n"
"                    manual: wait for \"touch\" on the control socket;\n"
"                    never: wait for a cancel or the timeout\n"
"                    (USER_ACTION_TIMEOUT)\n"
"  --timeout MS      how long a touch is awaited (default 30000)\n"
"  --pin PIN         set this PIN on a fresh token\n"
"  --serial S        serial of a fresh token\n"
"  --pin-protocols L PIN/UV protocols offered, in order (default 2,1)\n"
"  --ctap20          a CTAP 2.0 key: no credProtect, no pinUvAuthToken\n"
"                    permissions, credentialMgmtPreview only\n"
"  --touch-to-select silent probes (up=false) find no credential: a platform\n"
"                    must ask for a touch to choose among several tokens\n"
"  --token-timeout MS an unused pinUvAuthToken expires (default 30000)\n"
"  --msg-timeout MS  a half-sent CTAPHID message expires (default 500)\n"
"  -d                debug log on stderr\n");
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
log_request(const char *what)
{
	size_t len = strlen(reqlog);

	if (*what == '\0')
		return;
	if (len + strlen(what) + 3 >= sizeof(reqlog))
		return;		/* full until the next "log" */
	if (len > 0)
		strlcat(reqlog, "; ", sizeof(reqlog));
	strlcat(reqlog, what, sizeof(reqlog));
	debug_f("%s", what);
}

static int
listen_at(const char *path, int *fdp)
{
	struct sockaddr_un sun;
	char tmp[sizeof(sun.sun_path)];
	int fd = -1, r = TOK_ERR_SYSTEM;

	*fdp = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld", path,
	    (long)getpid()) >= sizeof(tmp) ||
	    strlen(path) >= sizeof(sun.sun_path))
		return TOK_ERR_INVALID_ARGUMENT;
	strlcpy(sun.sun_path, tmp, sizeof(sun.sun_path));
	unlink(tmp);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 16) == -1)
		goto out;
	/* appear atomically, ready to accept */
	if (rename(tmp, path) == -1)
		goto out;
	*fdp = fd;
	fd = -1;
	r = 0;
 out:
	if (fd != -1) {
		close(fd);
		unlink(tmp);
	}
	return r;
}

static void
pending_clear(void)
{
	free(pend.req);
	memset(&pend, 0, sizeof(pend));
	if (hid != NULL)
		vfido_hid_set_processing(hid, 0);
}

/*
 * An opener goes away.  As with a hidraw fd, nothing is cancelled: a
 * pending touch keeps waiting (touch, CANCEL on its channel from another
 * opener, or timeout); its answer then has nowhere to go.
 */
static void
conn_close(struct conn *c)
{
	size_t i;

	if (pend.active && pend.conn == c)
		pend.conn = NULL;
	vfido_hid_detach(hid, c->out);
	for (i = 0; i < CONNS_MAX; i++)
		if (conns[i] == c)
			conns[i] = NULL;
	close(c->fd);
	buf_free(c->out);
	free(c);
}

/* Queue a CBOR reply to c; c NULL (its opener left): dropped. */
static int
reply(struct conn *c, uint32_t cid, const u_char *data, size_t len)
{
	if (c == NULL)
		return 0;
	return vfido_hid_send(c->out, cid, VFIDO_HID_CBOR, data, len);
}

/* Reply to a CBOR request with a bare status byte. */
static int
reply_status(struct conn *c, uint32_t cid, uint8_t status)
{
	return reply(c, cid, &status, 1);
}

/* Run a request with the touch given; send the reply. */
static int
run_request(struct conn *c, uint32_t cid, const u_char *req, size_t len,
    int up, char *info)
{
	struct buf *resp = NULL;
	int r;

	if ((resp = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	r = vfido_ctap_handle(ctap, req, len, up, resp, info);
	if (r < 0) {
		error_fr(r, "request 0x%02x", len > 0 ? req[0] : 0);
		r = reply_status(c, cid, VFIDO_CTAP1_OTHER);
	} else if (r == VFIDO_CTAP_NEED_UP) {
		/* cannot happen with up set; fail safe */
		r = reply_status(c, cid, VFIDO_CTAP1_OTHER);
	} else
		r = reply(c, cid, buf_ptr(resp), buf_len(resp));
	buf_free(resp);
	return r;
}

static int
pending_finish(int how)
{
	struct conn *c = pend.conn;
	char info[VFIDO_CTAP_INFO_MAX];
	int r = 0;

	if (!pend.active)
		return 0;
	switch (how) {
	case 0:		/* touched */
		r = run_request(c, pend.cid, pend.req, pend.len, 1, info);
		log_request(info);
		break;
	case VFIDO_CTAP2_OPERATION_DENIED:
		log_request(pend.info);
		log_request("denied");
		r = reply_status(c, pend.cid, (uint8_t)how);
		break;
	case VFIDO_CTAP2_KEEPALIVE_CANCEL:
		log_request(pend.info);
		log_request("cancel");
		r = reply_status(c, pend.cid, (uint8_t)how);
		break;
	default:
		log_request(pend.info);
		log_request("timeout");
		r = reply_status(c, pend.cid, (uint8_t)how);
		break;
	}
	pending_clear();
	return r;
}

static int
handle_cbor(struct conn *c, uint32_t cid, const u_char *req, size_t len)
{
	struct buf *resp = NULL;
	char info[VFIDO_CTAP_INFO_MAX];
	int64_t now = now_ms();
	int r;

	if ((resp = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	r = vfido_ctap_handle(ctap, req, len, 0, resp, info);
	if (r < 0) {
		error_fr(r, "request 0x%02x", len > 0 ? req[0] : 0);
		r = reply_status(c, cid, VFIDO_CTAP1_OTHER);
		goto out;
	}
	if (r == 0) {
		log_request(info);
		r = reply(c, cid, buf_ptr(resp), buf_len(resp));
		goto out;
	}
	/* a touch is needed */
	if (touch_credits > 0 || touch_mode == VFIDO_TOUCH_APPROVE) {
		if (touch_credits > 0)
			touch_credits--;
		r = run_request(c, cid, req, len, 1, info);
		log_request(info);
		goto out;
	}
	if (touch_mode == VFIDO_TOUCH_DENY) {
		log_request(info);
		log_request("denied");
		r = reply_status(c, cid, VFIDO_CTAP2_OPERATION_DENIED);
		goto out;
	}
	if ((pend.req = malloc(len)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	memcpy(pend.req, req, len);
	pend.len = len;
	pend.active = 1;
	pend.conn = c;
	pend.cid = cid;
	vfido_hid_set_processing(hid, cid);
	strlcpy(pend.info, info, sizeof(pend.info));
	pend.approve_at = touch_mode == VFIDO_TOUCH_DELAY ?
	    now + touch_delay_ms : -1;
	pend.deadline = now + timeout_ms;
	pend.next_keepalive = now;
	r = 0;
 out:
	buf_free(resp);
	return r;
}

/*
 * Channels are the device's, not the opener's: a CANCEL or INIT on the
 * pending request's channel acts whoever sends it.
 */
static int
handle_event(struct conn *c, const struct vfido_hid_event *ev)
{
	switch (ev->type) {
	case VFIDO_HID_EV_NONE:
		return 0;
	case VFIDO_HID_EV_CANCEL:
		if (pend.active && pend.cid == ev->cid) {
			if (pend.conn == NULL)
				pend.conn = c;	/* the answer goes here */
			return pending_finish(VFIDO_CTAP2_KEEPALIVE_CANCEL);
		}
		return 0;
	case VFIDO_HID_EV_RESYNC:
		if (pend.active && pend.cid == ev->cid) {
			log_request(pend.info);
			log_request("cancel");
			pending_clear();
		}
		return 0;
	case VFIDO_HID_EV_REQUEST:
		if (pend.active)
			return vfido_hid_error(c->out, ev->cid,
			    VFIDO_HID_ERR_CHANNEL_BUSY);
		return handle_cbor(c, ev->cid, ev->data, ev->len);
	}
	return 0;
}

/* Read what is there; returns -1 when the connection must go. */
static int
conn_read(struct conn *c)
{
	struct vfido_hid_event ev;
	u_char tmp[VFIDO_HID_REPORT * 8];
	size_t off = 0, n;
	ssize_t got;

	if ((got = read(c->fd, tmp, sizeof(tmp))) == -1)
		return (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	if (got == 0)
		return -1;
	while (off < (size_t)got) {
		n = VFIDO_HID_REPORT - c->inlen;
		if (n > (size_t)got - off)
			n = (size_t)got - off;
		memcpy(c->in + c->inlen, tmp + off, n);
		c->inlen += n;
		off += n;
		if (c->inlen < VFIDO_HID_REPORT)
			break;
		c->inlen = 0;
		if (vfido_hid_input(hid, c->in, now_ms(), c->out, &ev) != 0 ||
		    handle_event(c, &ev) != 0)
			return -1;
	}
	return 0;
}

static int
conn_write(struct conn *c)
{
	struct buf *out = c->out;
	ssize_t n;

	if (buf_len(out) == 0)
		return 0;
	n = send(c->fd, buf_ptr(out), buf_len(out), MSG_NOSIGNAL);
	if (n == -1)
		return (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	return buf_consume(out, (size_t)n) == 0 ? 0 : -1;
}

static void
ctl_close(struct ctl *t)
{
	size_t i;

	for (i = 0; i < CTLS_MAX; i++)
		if (ctls[i] == t)
			ctls[i] = NULL;
	close(t->fd);
	buf_free(t->out);
	free(t);
}

static void conn_close(struct conn *);

/*
 * Unplug and plug in again: every opener loses the device, a pending
 * touch is dropped, and the authenticator powers up afresh (new key
 * agreement key and token, per-boot PIN failures forgotten, reset window
 * open).
 */
static void
replug(void)
{
	struct vfido_ctap *nc = NULL;
	struct vfido_hid *nh = NULL;
	size_t i;
	int r;

	for (i = 0; i < CONNS_MAX; i++)
		if (conns[i] != NULL)
			conn_close(conns[i]);
	if (pend.active) {
		log_request(pend.info);
		log_request("unplugged");
		pending_clear();
	}
	if ((r = vfido_ctap_new(ctap_st, ctap_protos, ctap_nprotos,
	    &ctap_opts, &nc)) != 0 || (r = vfido_hid_new(&nh)) != 0)
		fatal_fr(r, "replug");
	vfido_ctap_free(ctap);
	ctap = nc;
	vfido_hid_free(hid);
	hid = nh;
	vfido_hid_set_msg_timeout(hid, msg_timeout_ms);
	log_request("replug");
}

static int
ctl_command(struct ctl *t, const char *line)
{
	struct vfido_ctl_cmd cmd;
	int r;

	if (vfido_ctl_parse(line, &cmd) != 0)
		return buf_putf(t->out, "error unknown command\n");
	switch (cmd.verb) {
	case VFIDO_CTL_TOUCH:
		if (pend.active) {
			if ((r = pending_finish(0)) != 0)
				error_fr(r, "touch");
		} else
			touch_credits++;
		break;
	case VFIDO_CTL_MODE:
		touch_mode = cmd.mode;
		touch_delay_ms = cmd.delay_ms;
		if (pend.active) {
			if (touch_mode == VFIDO_TOUCH_APPROVE)
				r = pending_finish(0);
			else if (touch_mode == VFIDO_TOUCH_DENY)
				r = pending_finish(
				    VFIDO_CTAP2_OPERATION_DENIED);
			else {
				pend.approve_at = touch_mode ==
				    VFIDO_TOUCH_DELAY ?
				    now_ms() + touch_delay_ms : -1;
				r = 0;
			}
			if (r != 0)
				error_fr(r, "touch mode");
		}
		break;
	case VFIDO_CTL_LOG:
		r = buf_putf(t->out, "%s\n", reqlog);
		reqlog[0] = '\0';
		return r;
	case VFIDO_CTL_PENDING:
		if (pend.active)
			return buf_putf(t->out, "yes %s\n", pend.info);
		return buf_putf(t->out, "no\n");
	case VFIDO_CTL_QUIT:
		quit = 1;
		break;
	case VFIDO_CTL_REPLUG:
		replug();
		break;
	}
	return buf_putf(t->out, "ok\n");
}

static int
ctl_read(struct ctl *t)
{
	char *nl;
	ssize_t n;

	if ((n = read(t->fd, t->in + t->inlen,
	    sizeof(t->in) - 1 - t->inlen)) == -1)
		return (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	if (n == 0)
		return -1;
	t->inlen += (size_t)n;
	t->in[t->inlen] = '\0';
	while ((nl = strchr(t->in, '\n')) != NULL) {
		*nl = '\0';
		if (nl > t->in && nl[-1] == '\r')
			nl[-1] = '\0';
		if (ctl_command(t, t->in) != 0)
			return -1;
		t->inlen -= (size_t)(nl + 1 - t->in);
		memmove(t->in, nl + 1, t->inlen + 1);
	}
	if (t->inlen >= sizeof(t->in) - 1)
		return -1;	/* line too long */
	return 0;
}

static int
ctl_write(struct ctl *t)
{
	ssize_t n;

	if (buf_len(t->out) == 0)
		return 0;
	n = send(t->fd, buf_ptr(t->out), buf_len(t->out), MSG_NOSIGNAL);
	if (n == -1)
		return (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	return buf_consume(t->out, (size_t)n) == 0 ? 0 : -1;
}

static void
accept_conn(int lfd)
{
	struct conn *c;
	size_t i;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) == -1)
		return;
	for (i = 0; i < CONNS_MAX && conns[i] != NULL; i++)
		;
	if (i == CONNS_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	if ((c->out = vfido_hid_new_output()) == NULL) {
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	conns[i] = c;
}

static void
accept_ctl(int lfd)
{
	struct ctl *t;
	size_t i;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) == -1)
		return;
	for (i = 0; i < CTLS_MAX && ctls[i] != NULL; i++)
		;
	if (i == CTLS_MAX || (t = calloc(1, sizeof(*t))) == NULL) {
		close(fd);
		return;
	}
	if ((t->out = buf_new()) == NULL) {
		free(t);
		close(fd);
		return;
	}
	t->fd = fd;
	ctls[i] = t;
}

/* Timers: keepalives, touch delay and timeout, half-sent messages. */
static int
run_timers(int64_t now)
{
	u_char status = VFIDO_HID_STATUS_UPNEEDED;

	if (vfido_hid_tick(hid, now) != 0)
		error_f("message timeout: output overflow");
	if (!pend.active)
		return 0;
	if (pend.approve_at >= 0 && now >= pend.approve_at)
		return pending_finish(0);
	if (now >= pend.deadline)
		return pending_finish(VFIDO_CTAP2_USER_ACTION_TIMEOUT);
	if (now >= pend.next_keepalive) {
		pend.next_keepalive = now + KEEPALIVE_MS;
		if (pend.conn == NULL)
			return 0;
		return vfido_hid_send(pend.conn->out, pend.cid,
		    VFIDO_HID_KEEPALIVE, &status, 1);
	}
	return 0;
}

static int64_t last_save;		/* when counter bumps were last written */

static int
poll_timeout(const struct vfido_state *st, int64_t now)
{
	int64_t next = -1, d;

	if ((d = vfido_hid_deadline(hid)) >= 0)
		next = d;
	if (pend.active) {
		d = pend.next_keepalive;
		if (pend.deadline < d)
			d = pend.deadline;
		if (pend.approve_at >= 0 && pend.approve_at < d)
			d = pend.approve_at;
		if (next < 0 || d < next)
			next = d;
	}
	if (st->counter_dirty) {
		d = last_save + VFIDO_COUNTER_SAVE_MS;
		if (next < 0 || d < next)
			next = d;
	}
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

/* Write counter bumps once they are VFIDO_COUNTER_SAVE_MS old (or now). */
static void
save_counter(struct vfido_state *st, int64_t now, int force)
{
	int r;

	if (!st->counter_dirty ||
	    (!force && now < last_save + VFIDO_COUNTER_SAVE_MS))
		return;
	if ((r = vfido_state_save(st)) != 0)
		error_fr(r, "save state");
	st->counter_dirty = 0;
	last_save = now;
}

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int
parse_protos(const char *s, int *protos, size_t *np)
{
	*np = 0;
	for (; *s != '\0'; s++) {
		if (*s == ',' || *s == ' ')
			continue;
		if ((*s != '1' && *s != '2') || *np >= 2)
			return -1;
		protos[(*np)++] = *s - '0';
	}
	if (*np == 2 && protos[0] == protos[1])
		return -1;
	return *np == 0 ? -1 : 0;
}

static void
set_pin(struct vfido_state *s, const char *pin)
{
	u_char hash[32];

	SHA256((const u_char *)pin, strlen(pin), hash);
	memcpy(s->pin_hash, hash, sizeof(s->pin_hash));
	s->pin_set = 1;
	s->pin_retries = VFIDO_PIN_RETRIES_MAX;
	explicit_bzero(hash, sizeof(hash));
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "control", required_argument, NULL, 'c' },
		{ "touch", required_argument, NULL, 't' },
		{ "pin", required_argument, NULL, 'p' },
		{ "serial", required_argument, NULL, 'n' },
		{ "pin-protocols", required_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "ctap20", no_argument, NULL, '2' },
		{ "touch-to-select", no_argument, NULL, 'U' },
		{ "token-timeout", required_argument, NULL, 'K' },
		{ "msg-timeout", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pollfd pfds[2 + CONNS_MAX + CTLS_MAX];
	struct conn *cmap[CONNS_MAX];
	struct ctl *tmap[CTLS_MAX];
	struct vfido_state *st = NULL;
	struct sigaction sa;
	const char *state_path = NULL, *sock_path = NULL, *ctl_path = NULL;
	const char *pin = NULL, *serial = NULL;
	char *pinbuf = NULL;
	size_t i, np, nc, nt;
	int ch, fresh, lfd = -1, cfd = -1, r, debug = 0;
	long v;
	char *ep;

	while ((ch = getopt_long(argc, argv, "dh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			state_path = optarg;
			break;
		case 'S':
			sock_path = optarg;
			break;
		case 'c':
			ctl_path = optarg;
			break;
		case 't':
			if (vfido_touch_parse(optarg, &touch_mode,
			    &touch_delay_ms) != 0) {
				fprintf(stderr, "vfido: bad --touch %s\n",
				    optarg);
				return 2;
			}
			break;
		case 'p':
			pin = optarg;
			break;
		case 'n':
			serial = optarg;
			break;
		case 'P':
			if (parse_protos(optarg, ctap_protos,
			    &ctap_nprotos) != 0) {
				fprintf(stderr, "vfido: bad --pin-protocols\n");
				return 2;
			}
			break;
		case 'T':
			v = strtol(optarg, &ep, 10);
			if (*optarg == '\0' || *ep != '\0' || v < 1 ||
			    v > 3600000) {
				fprintf(stderr, "vfido: bad --timeout\n");
				return 2;
			}
			timeout_ms = (int)v;
			break;
		case 'K':
			v = strtol(optarg, &ep, 10);
			if (*optarg == '\0' || *ep != '\0' || v < 1 ||
			    v > 3600000) {
				fprintf(stderr, "vfido: bad --token-timeout\n");
				return 2;
			}
			ctap_opts.token_timeout_ms = (int)v;
			break;
		case 'M':
			v = strtol(optarg, &ep, 10);
			if (*optarg == '\0' || *ep != '\0' || v < 1 ||
			    v > 60000) {
				fprintf(stderr, "vfido: bad --msg-timeout\n");
				return 2;
			}
			msg_timeout_ms = (int)v;
			break;
		case '2':
			ctap_opts.ctap20 = 1;
			break;
		case 'U':
			ctap_opts.touch_to_select = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc || state_path == NULL || sock_path == NULL) {
		usage();
		return 2;
	}
	log_init("vfido", debug ? LOG_LEVEL_DEBUG1 : LOG_LEVEL_ERROR, 1);
	harden_process();
	if (pin != NULL) {
		if (strlen(pin) < 4 || strlen(pin) > 63)
			fatal_f("--pin must be 4 to 63 bytes");
		if ((pinbuf = strdup(pin)) == NULL)
			fatal_f("out of memory");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	fresh = access(state_path, F_OK) == -1;
	if ((r = vfido_state_load(state_path, serial, &st)) != 0)
		fatal_fr(r, "state %s", state_path);
	if (fresh && pinbuf != NULL) {
		set_pin(st, pinbuf);
		if ((r = vfido_state_save(st)) != 0)
			fatal_fr(r, "save state");
	}
	if (pinbuf != NULL)
		freezero(pinbuf, strlen(pinbuf));
	ctap_st = st;
	if ((r = vfido_ctap_new(st, ctap_protos, ctap_nprotos, &ctap_opts,
	    &ctap)) != 0 || (r = vfido_hid_new(&hid)) != 0)
		fatal_fr(r, "authenticator");
	vfido_hid_set_msg_timeout(hid, msg_timeout_ms);
	if (ctl_path != NULL && (r = listen_at(ctl_path, &cfd)) != 0)
		fatal_fr(r, "control socket %s", ctl_path);
	if ((r = listen_at(sock_path, &lfd)) != 0)
		fatal_fr(r, "socket %s", sock_path);
	debug_f("ready on %s", sock_path);

	while (!quit) {
		np = 0;
		pfds[np].fd = lfd;
		pfds[np++].events = POLLIN;
		pfds[np].fd = cfd;
		pfds[np++].events = POLLIN;
		for (nc = 0, i = 0; i < CONNS_MAX; i++) {
			if (conns[i] == NULL)
				continue;
			cmap[nc++] = conns[i];
			pfds[np].fd = conns[i]->fd;
			pfds[np].events = POLLIN;
			if (buf_len(conns[i]->out) > 0)
				pfds[np].events |= POLLOUT;
			np++;
		}
		for (nt = 0, i = 0; i < CTLS_MAX; i++) {
			if (ctls[i] == NULL)
				continue;
			tmap[nt++] = ctls[i];
			pfds[np].fd = ctls[i]->fd;
			pfds[np].events = POLLIN;
			if (buf_len(ctls[i]->out) > 0)
				pfds[np].events |= POLLOUT;
			np++;
		}
		for (i = 0; i < np; i++)
			pfds[i].revents = 0;
		if (poll(pfds, np, poll_timeout(st, now_ms())) == -1) {
			if (errno == EINTR)
				continue;
			fatal_f("poll: %s", strerror(errno));
		}
		if (pfds[0].revents & POLLIN)
			accept_conn(lfd);
		if (pfds[1].revents & POLLIN)
			accept_ctl(cfd);
		for (i = 0; i < nc; i++) {
			short re = pfds[2 + i].revents;

			if (re == 0)
				continue;
			if (((re & (POLLIN | POLLHUP | POLLERR)) &&
			    conn_read(cmap[i]) != 0) ||
			    ((re & POLLOUT) && conn_write(cmap[i]) != 0))
				conn_close(cmap[i]);
		}
		for (i = 0; i < nt; i++) {
			short re = pfds[2 + nc + i].revents;

			if (re == 0)
				continue;
			if (((re & (POLLIN | POLLHUP | POLLERR)) &&
			    ctl_read(tmap[i]) != 0) ||
			    ((re & POLLOUT) && ctl_write(tmap[i]) != 0))
				ctl_close(tmap[i]);
		}
		if ((r = run_timers(now_ms())) != 0)
			error_fr(r, "timers");
		save_counter(st, now_ms(), 0);
		/* flush at once what the loop produced, to keep latency low */
		for (i = 0; i < CONNS_MAX; i++)
			if (conns[i] != NULL && conn_write(conns[i]) != 0)
				conn_close(conns[i]);
		for (i = 0; i < CTLS_MAX; i++)
			if (ctls[i] != NULL && ctl_write(ctls[i]) != 0)
				ctl_close(ctls[i]);
	}
	save_counter(st, now_ms(), 1);
	unlink(sock_path);
	if (ctl_path != NULL)
		unlink(ctl_path);
	for (i = 0; i < CONNS_MAX; i++)
		if (conns[i] != NULL)
			conn_close(conns[i]);
	for (i = 0; i < CTLS_MAX; i++)
		if (ctls[i] != NULL)
			ctl_close(ctls[i]);
	vfido_ctap_free(ctap);
	vfido_hid_free(hid);
	vfido_state_free(st);
	vfido_key_forget();
	return 0;
}
