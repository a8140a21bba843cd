/*
 * tokagent-p11-helper: the agent's helper for one PKCS#11 provider.
 *
 * Usage: tokagent-p11-helper [-v...] PROVIDER
 *
 * Started by the agent, one per provider, with:
 *   fd 3	the IPC socket: a connected SOCK_STREAM socketpair end.  The
 *		helper protocol (common/ipc.h, pkcs/p11-ipc.h) runs over it in
 *		frames (common/frame.h).  EOF on it ends the helper.
 *   fd 2	logs (stderr).  fds 0 and 1 are not used.
 *   PROVIDER	the module path, already resolved and allowed by the agent;
 *		every IPC_ADD_PROVIDER / IPC_REMOVE_PROVIDER must name it.
 *
 * The module is loaded at the first IPC_ADD_PROVIDER, IPC_P11_RESCAN or
 * IPC_P11_LOGIN (so a bad module is an IPC_FAILURE, not a dead helper; a
 * restarted helper is sent a rescan first), only if the file exports
 * C_GetFunctionList.  The PIN lives in secure memory for the length of the
 * login and is then freed: after a replug, signing fails with
 * TOK_ERR_PIN_REQUIRED and the agent sends IPC_P11_LOGIN with a PIN it
 * asked the user for.
 *
 * Requests are served one at a time.  Token insertion and removal seen by
 * C_WaitForSlotEvent (in a thread, when the module supports it) trigger a
 * rescan and, when the keys changed, an unsolicited IPC_EVENT (id 0) with
 * the new key list.  IPC_P11_RESCAN asks for the same on demand.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/harden.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/secmem.h"
#include "pkcs/p11-ipc.h"
#include "pkcs/p11-provider.h"

#define P11_HELPER_FD	3
#define P11_PIN_MAX	256

struct p11_helper {
	const char *provider_path;
	struct p11_provider *p;
	int event_fd;
	struct buf *in;
	struct buf *out;	/* one reply or event */
};

static void
p11_helper_usage(void)
{
	fprintf(stderr, "usage: tokagent-p11-helper [-v] provider\n");
	exit(2);
}

/* p11_helper_send: write out as one frame, blocking until it is all gone. */
static int
p11_helper_send(struct p11_helper *h)
{
	struct buf *frame = NULL;
	const u_char *p;
	size_t left;
	ssize_t n;
	int r = TOK_ERR_INTERNAL;

	if ((frame = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = frame_put(frame, h->out)) != 0)
		goto out;
	p = buf_ptr(frame);
	left = buf_len(frame);
	while (left > 0) {
		n = write(P11_HELPER_FD, p, left);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			r = TOK_ERR_SYSTEM;
			goto out;
		}
		p += n;
		left -= (size_t)n;
	}
	r = 0;
 out:
	buf_free(frame);
	buf_reset(h->out);
	return r;
}

static int
p11_helper_failure(struct p11_helper *h, uint32_t id, int err,
    const char *detail)
{
	int r;

	if ((r = ipc_msg_failure(h->out, id, err,
	    detail != NULL ? detail : tok_strerror(err))) != 0)
		return r;
	return p11_helper_send(h);
}

static int
p11_helper_ok(struct p11_helper *h, uint32_t id)
{
	int r;

	if ((r = ipc_msg_start(h->out, id, IPC_OK)) != 0)
		return r;
	return p11_helper_send(h);
}

static int
p11_helper_keys(struct p11_helper *h, uint32_t id)
{
	int r;

	if ((r = ipc_msg_start(h->out, id, IPC_KEYS)) != 0 ||
	    (r = p11_provider_put_keys(h->p, h->out)) != 0)
		return r;
	return p11_helper_send(h);
}

/*
 * p11_helper_get_pin: the next SSH string in m as a NUL-terminated PIN in
 * secure memory (*pinp, secmem_free).
 */
static int
p11_helper_get_pin(struct buf *m, char **pinp)
{
	const u_char *v;
	size_t len;
	int r;

	*pinp = NULL;
	if ((r = buf_get_string_direct(m, &v, &len)) != 0)
		return r;
	if (len > P11_PIN_MAX || memchr(v, '\0', len) != NULL)
		return TOK_ERR_INVALID_FORMAT;
	if ((*pinp = secmem_alloc(len + 1)) == NULL)
		return TOK_ERR_ALLOC;
	memcpy(*pinp, v, len);
	(*pinp)[len] = '\0';
	return 0;
}

static int
p11_helper_start_watch(struct p11_helper *h)
{
	int r, fd;

	if (h->event_fd != -1)
		return 0;
	if ((r = p11_provider_watch(h->p, &fd)) != 0) {
		error_fr(r, "slot event thread");
		return 0;	/* rescans on request still work */
	}
	h->event_fd = fd;
	debug_f("slot events: %s", fd == -1 ? "not supported" : "watching");
	return 0;
}

/*
 * p11_helper_load: load the provider the helper was started for, if it is
 * not loaded yet.  A restarted helper gets IPC_P11_RESCAN / IPC_P11_LOGIN
 * before any IPC_ADD_PROVIDER: the path was checked by the agent already.
 */
static int
p11_helper_load(struct p11_helper *h)
{
	int r;

	if (h->p != NULL)
		return 0;
	if ((r = p11_provider_open(h->provider_path, &h->p)) != 0)
		return r;
	return p11_helper_start_watch(h);
}

static int
p11_helper_add_provider(struct p11_helper *h, uint32_t id, struct buf *m)
{
	char *provider = NULL, *pin = NULL, *detail = NULL;
	int r, err;

	if ((r = buf_get_cstring(m, &provider, NULL)) != 0 ||
	    (r = p11_helper_get_pin(m, &pin)) != 0 ||
	    (r = buf_expect_empty(m)) != 0) {
		error_fr(r, "bad IPC_ADD_PROVIDER");
		err = p11_helper_failure(h, id, r, "malformed request");
		goto out;
	}
	if (strcmp(provider, h->provider_path) != 0) {
		error_f("asked for provider \"%s\", started for \"%s\"",
		    provider, h->provider_path);
		err = p11_helper_failure(h, id, TOK_ERR_PROVIDER_REFUSED,
		    "not the provider this helper serves");
		goto out;
	}
	if ((r = p11_helper_load(h)) != 0) {
		err = p11_helper_failure(h, id, r, "cannot load provider");
		goto out;
	}
	if ((r = p11_provider_login(h->p, pin, &detail)) != 0) {
		err = p11_helper_failure(h, id, r, detail);
		goto out;
	}
	secmem_free(pin);
	pin = NULL;
	if ((r = p11_provider_scan(h->p, NULL)) != 0) {
		err = p11_helper_failure(h, id, r, "cannot list keys");
		goto out;
	}
	verbose_f("provider %s: %zu keys", h->provider_path,
	    p11_provider_nkeys(h->p));
	err = p11_helper_keys(h, id);
 out:
	secmem_free(pin);
	free(provider);
	free(detail);
	return err;
}

static int
p11_helper_login(struct p11_helper *h, uint32_t id, struct buf *m)
{
	char *pin = NULL, *detail = NULL;
	int r, err;

	if ((r = p11_helper_get_pin(m, &pin)) != 0 ||
	    (r = buf_expect_empty(m)) != 0) {
		error_fr(r, "bad IPC_P11_LOGIN");
		err = p11_helper_failure(h, id, r, "malformed request");
		goto out;
	}
	if ((r = p11_helper_load(h)) != 0) {
		err = p11_helper_failure(h, id, r, "cannot load provider");
		goto out;
	}
	/* Also good for one signature by a key that asks every time. */
	if ((r = p11_provider_login(h->p, pin, &detail)) == 0)
		r = p11_provider_set_context_pin(h->p, pin);
	secmem_free(pin);
	pin = NULL;
	if (r != 0) {
		err = p11_helper_failure(h, id, r, detail);
		goto out;
	}
	err = p11_helper_ok(h, id);
 out:
	secmem_free(pin);
	free(detail);
	return err;
}

static int
p11_helper_sign(struct p11_helper *h, uint32_t id, struct buf *m)
{
	struct buf *sig = NULL;
	const u_char *data, *ctx;
	size_t datalen, ctxlen;
	uint64_t handle;
	uint32_t flags;
	char *detail = NULL;
	int r, err;

	if ((r = buf_get_u64(m, &handle)) != 0 ||
	    (r = buf_get_string_direct(m, &data, &datalen)) != 0 ||
	    (r = buf_get_u32(m, &flags)) != 0 ||
	    (r = buf_get_string_direct(m, &ctx, &ctxlen)) != 0 ||
	    (r = buf_expect_empty(m)) != 0) {
		error_fr(r, "bad IPC_SIGN");
		err = p11_helper_failure(h, id, r, "malformed request");
		goto out;
	}
	if (h->p == NULL) {
		err = p11_helper_failure(h, id, TOK_ERR_KEY_NOT_FOUND,
		    "no provider added");
		goto out;
	}
	if ((sig = buf_new()) == NULL) {
		err = p11_helper_failure(h, id, TOK_ERR_ALLOC, NULL);
		goto out;
	}
	if ((r = p11_provider_sign(h->p, handle, data, datalen, flags, sig,
	    &detail)) != 0) {
		error_fr(r, "sign with key %016llx%s%s",
		    (unsigned long long)handle, detail != NULL ? ": " : "",
		    detail != NULL ? detail : "");
		err = p11_helper_failure(h, id, r, detail);
		goto out;
	}
	if ((err = ipc_msg_start(h->out, id, IPC_SIGNATURE)) != 0 ||
	    (err = buf_put_stringb(h->out, sig)) != 0)
		goto out;
	err = p11_helper_send(h);
 out:
	free(detail);
	buf_free(sig);
	return err;
}

static int
p11_helper_remove_provider(struct p11_helper *h, uint32_t id, struct buf *m,
    int *donep)
{
	char *provider = NULL;
	int r, err;

	*donep = 0;
	if ((r = buf_get_cstring(m, &provider, NULL)) != 0 ||
	    (r = buf_expect_empty(m)) != 0) {
		error_fr(r, "bad IPC_REMOVE_PROVIDER");
		err = p11_helper_failure(h, id, r, "malformed request");
		goto out;
	}
	if (strcmp(provider, h->provider_path) != 0) {
		err = p11_helper_failure(h, id, TOK_ERR_PROVIDER_REFUSED,
		    "not the provider this helper serves");
		goto out;
	}
	p11_provider_close(h->p);
	h->p = NULL;
	*donep = 1;
	err = p11_helper_ok(h, id);
 out:
	free(provider);
	return err;
}

/*
 * p11_helper_dispatch: answer one request.  Returns non-zero when the
 * helper must stop (*donep: cleanly, after IPC_REMOVE_PROVIDER).
 */
static int
p11_helper_dispatch(struct p11_helper *h, struct buf *m, int *donep)
{
	uint64_t handle;
	uint32_t id;
	uint8_t type;
	int r;

	*donep = 0;
	if ((r = ipc_msg_header(m, &id, &type)) != 0) {
		/* Without an id there is nobody to answer. */
		error_fr(r, "short IPC message");
		return TOK_ERR_PROTOCOL;
	}
	debug_f("request %u type %u", id, type);
	switch (type) {
	case IPC_ADD_PROVIDER:
		return p11_helper_add_provider(h, id, m);
	case IPC_REMOVE_PROVIDER:
		return p11_helper_remove_provider(h, id, m, donep);
	case IPC_SIGN:
		return p11_helper_sign(h, id, m);
	case IPC_DROP:
		if ((r = buf_get_u64(m, &handle)) != 0 ||
		    (r = buf_expect_empty(m)) != 0)
			return p11_helper_failure(h, id, r,
			    "malformed request");
		return p11_helper_ok(h, id);
	case IPC_CANCEL:
		/* Requests are served whole; nothing is ever pending. */
		return 0;
	case IPC_P11_LOGIN:
		return p11_helper_login(h, id, m);
	case IPC_P11_RESCAN:
		if ((r = buf_expect_empty(m)) != 0)
			return p11_helper_failure(h, id, r,
			    "malformed request");
		if ((r = p11_helper_load(h)) != 0)
			return p11_helper_failure(h, id, r,
			    "cannot load provider");
		if ((r = p11_provider_scan(h->p, NULL)) != 0)
			return p11_helper_failure(h, id, r, NULL);
		return p11_helper_keys(h, id);
	default:
		error_f("unsupported request type %u", type);
		return p11_helper_failure(h, id, TOK_ERR_FEATURE_UNSUPPORTED,
		    "unsupported request");
	}
}

static int
p11_helper_slot_event(struct p11_helper *h)
{
	int r, changed = 0;

	p11_provider_watch_drain(h->p);
	if ((r = p11_provider_scan(h->p, &changed)) != 0) {
		error_fr(r, "rescan after slot event");
		return 0;
	}
	if (!changed)
		return 0;
	verbose_f("keys changed: %zu now", p11_provider_nkeys(h->p));
	if ((r = ipc_msg_start(h->out, 0, IPC_EVENT)) != 0 ||
	    (r = buf_put_cstring(h->out, "slot event")) != 0 ||
	    (r = p11_provider_put_keys(h->p, h->out)) != 0)
		return r;
	return p11_helper_send(h);
}

static int
p11_helper_loop(struct p11_helper *h)
{
	struct pollfd pfd[2];
	struct buf *m = NULL;
	u_char rbuf[16384];
	ssize_t n;
	nfds_t nfds;
	int r, done = 0;

	for (;;) {
		/* Serve every complete frame already read. */
		for (;;) {
			if ((r = frame_take(h->in, IPC_MSG_MAX, &m)) != 0) {
				error_fr(r, "IPC frame");
				return r;
			}
			if (m == NULL)
				break;
			r = p11_helper_dispatch(h, m, &done);
			buf_free(m);
			m = NULL;
			/* Zero what was read (it may have held a PIN). */
			if (buf_len(h->in) == 0)
				buf_reset(h->in);
			if (r != 0 || done)
				return r;
		}
		pfd[0].fd = P11_HELPER_FD;
		pfd[0].events = POLLIN;
		pfd[1].fd = h->event_fd;
		pfd[1].events = POLLIN;
		nfds = h->event_fd == -1 ? 1 : 2;
		if (poll(pfd, nfds, -1) == -1) {
			if (errno == EINTR)
				continue;
			return TOK_ERR_SYSTEM;
		}
		if (nfds == 2 && (pfd[1].revents & POLLIN) != 0 &&
		    h->p != NULL && (r = p11_helper_slot_event(h)) != 0)
			return r;
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		n = read(P11_HELPER_FD, rbuf, sizeof(rbuf));
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			debug_f("agent closed the connection");
			return 0;
		}
		r = buf_put(h->in, rbuf, (size_t)n);
		explicit_bzero(rbuf, (size_t)n);	/* may hold a PIN */
		if (r != 0)
			return r;
	}
}

int
main(int argc, char **argv)
{
	struct p11_helper h;
	struct stat sb;
	enum log_level level = LOG_LEVEL_INFO;
	int ch, r;

	harden_process();
	log_init("tokagent-p11-helper", level, 1);
	while ((ch = getopt(argc, argv, "v")) != -1) {
		switch (ch) {
		case 'v':
			if (level < LOG_LEVEL_DEBUG3)
				level++;
			break;
		default:
			p11_helper_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		p11_helper_usage();
	log_init("tokagent-p11-helper", level, 1);
	if (fstat(P11_HELPER_FD, &sb) == -1 || !S_ISSOCK(sb.st_mode))
		fatal_f("fd %d is not the agent's socket", P11_HELPER_FD);
	signal(SIGPIPE, SIG_IGN);

	memset(&h, 0, sizeof(h));
	h.provider_path = argv[0];
	h.event_fd = -1;
	if ((h.in = buf_new()) == NULL || (h.out = buf_new()) == NULL)
		fatal_f("out of memory");
	r = p11_helper_loop(&h);
	p11_provider_close(h.p);
	buf_free(h.in);
	buf_free(h.out);
	return r == 0 ? 0 : 1;
}
