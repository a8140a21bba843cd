/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent-piv-helper: the native PIV driver.  Finds every PIV card in
 * every PC/SC reader, reports the keys in their slots (9a, 9c, 9d, 9e,
 * 82-95) to the agent, signs with them, and follows the cards as they
 * come and go.  Protocol: common/ipc.h and token/piv-ipc.h, on the helper
 * runtime of token/runtime.h.
 *
 * Threads: the runtime's loop (hello, heartbeat), its worker (every
 * request and every rescan, one at a time, so the card state below needs
 * no lock), and the PC/SC watch (token/pcsc-watch.h), which wakes the
 * worker through a pipe when a reader or card changes.
 *
 * The card is never held between operations: each piv_* call is one
 * PC/SC transaction (token/piv.c), ended at once.  PINs are kept per card
 * in secure memory according to the slot's PIN policy (YubiKey GET
 * METADATA; SP 800-73-4 defaults when the card has no metadata): "never"
 * needs none, "once" keeps it until the card is pulled or the agent says
 * to forget (lock, ssh-add -D), "always" uses the one given for the next
 * operation and makes the card forget it after the signature.
 * Usage: tokagent-piv-helper [-dv]
 */
#include "config.h"

#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <winscard.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"
#include "common/secmem.h"
#include "token/pcsc-watch.h"
#include "token/piv-ipc.h"
#include "token/piv-pcsc.h"
#include "token/piv.h"
#include "token/runtime.h"

#define PIVH_MAX_READERS	16
#define PIVH_READERS_BUF	4096
#define PIVH_NAME_MAX		200

static const int pivh_slots[] = {
	0x9a, 0x9c, 0x9d, 0x9e,
	0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
	0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
};
#define PIVH_NSLOTS	(sizeof(pivh_slots) / sizeof(pivh_slots[0]))

struct pivh_key {
	int slot;
	int alg;
	int pin_policy;		/* PIV_PIN_POLICY_* */
	int touch_policy;	/* PIV_TOUCH_POLICY_* */
	struct key *pub;
};

struct pivh_card {
	uint32_t id;			/* handles are id << 8 | slot */
	char reader[PIVH_NAME_MAX];	/* the device, printable */
	char *pcsc_reader;		/* as PC/SC names it */
	char name[PIVH_NAME_MAX];	/* "YubiKey 5 #12345678" */
	struct piv_pcsc *pc;
	struct piv *piv;
	struct pivh_key keys[PIVH_NSLOTS];
	size_t nkeys;
	char *pin;			/* cached (policy once), secure memory */
	char *next_pin;			/* for the next operation only */
	int seen;			/* during a rescan */
	struct pivh_card *next;
};

static struct pivh_card *cards;
static uint32_t next_card_id = 1;
static int wake_fd[2] = { -1, -1 };


static void
pivh_printable(char *dst, size_t len, const char *src)
{
	size_t i;

	strlcpy(dst, src, len);
	for (i = 0; dst[i] != '\0'; i++) {
		if (dst[i] < 0x20 || dst[i] > 0x7e)
			dst[i] = '?';
	}
	if (dst[0] == '\0')
		strlcpy(dst, "?", len);
}

/* Tell the agent whether the PIN of card c is kept (IPC_PIV_PIN_KEPT). */
static void
pivh_pin_kept(const struct pivh_card *c, int kept)
{
	struct buf *m;

	if ((m = buf_new()) == NULL)
		return;
	if (ipc_msg_start(m, 0, IPC_PIV_PIN_KEPT) == 0 &&
	    buf_put_cstring(m, c->reader) == 0 &&
	    buf_put_cstring(m, c->name) == 0 &&
	    buf_put_u8(m, kept != 0) == 0)
		token_send(m);
	buf_free(m);
}

static void
pivh_card_forget_pins(struct pivh_card *c)
{
	if (c->pin != NULL)
		pivh_pin_kept(c, 0);
	secmem_free(c->pin);
	secmem_free(c->next_pin);
	c->pin = c->next_pin = NULL;
}

static void
pivh_card_free(struct pivh_card *c)
{
	size_t i;

	if (c == NULL)
		return;
	pivh_card_forget_pins(c);
	for (i = 0; i < c->nkeys; i++)
		key_free(c->keys[i].pub);
	piv_free(c->piv);
	piv_pcsc_close(c->pc);
	free(c->pcsc_reader);
	free(c);
}

static void
pivh_wake(void)
{
	char ch = 0;

	if (write(wake_fd[1], &ch, 1) == -1 && errno != EAGAIN)
		debug_f("write: %s", strerror(errno));
}

/* SP 800-73-4 PIN rules, for cards without YubiKey metadata. */
static int
pivh_default_pin_policy(int slot)
{
	if (slot == PIV_SLOT_CARDAUTH)
		return PIV_PIN_POLICY_NEVER;
	if (slot == PIV_SLOT_SIGN)
		return PIV_PIN_POLICY_ALWAYS;
	return PIV_PIN_POLICY_ONCE;
}

/* Read one slot; 0 when it holds a key we can use, else an error. */
static int
pivh_read_slot(struct pivh_card *c, int slot, struct pivh_key *k)
{
	struct piv_metadata md;
	u_char *der = NULL;
	size_t derlen;
	struct key *cert = NULL;
	int r;

	memset(k, 0, sizeof(*k));
	k->slot = slot;
	k->pin_policy = pivh_default_pin_policy(slot);
	k->touch_policy = PIV_TOUCH_POLICY_NEVER;
	k->alg = -1;
	r = piv_yk_metadata(c->piv, slot, &md);
	if (r == 0) {
		k->alg = md.alg;
		if (md.pin_policy >= PIV_PIN_POLICY_NEVER &&
		    md.pin_policy <= PIV_PIN_POLICY_ALWAYS)
			k->pin_policy = md.pin_policy;
		if (md.touch_policy >= PIV_TOUCH_POLICY_NEVER &&
		    md.touch_policy <= PIV_TOUCH_POLICY_CACHED)
			k->touch_policy = md.touch_policy;
		k->pub = md.pubkey;
		md.pubkey = NULL;
		piv_metadata_clear(&md);
	} else if (r != TOK_ERR_FEATURE_UNSUPPORTED)
		return r;	/* an empty slot, or a card that failed */
	/* The certificate names the key on cards without metadata. */
	if (k->pub == NULL) {
		if ((r = piv_read_cert(c->piv, slot, &der, &derlen,
		    &cert)) != 0)
			return r;
		free(der);
		k->pub = cert;
	}
	if (k->pub == NULL)
		return TOK_ERR_KEY_NOT_FOUND;
	return 0;
}

/* Connect to the card in reader and learn its keys. */
static int
pivh_card_open(const char *reader, struct pivh_card **cp)
{
	struct pivh_card *c;
	u_char v[3];
	uint32_t serial;
	int r, have_serial, have_version;
	size_t i;

	*cp = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->pcsc_reader = strdup(reader)) == NULL) {
		free(c);
		return TOK_ERR_ALLOC;
	}
	pivh_printable(c->reader, sizeof(c->reader), reader);
	if ((r = piv_pcsc_open(reader, &c->pc)) != 0 ||
	    (r = piv_open(&piv_pcsc_ops, c->pc, &c->piv)) != 0 ||
	    (r = piv_select(c->piv)) != 0) {
		pivh_card_free(c);
		return r;
	}
	have_version = piv_yk_version(c->piv, v) == 0;
	have_serial = piv_yk_serial(c->piv, &serial) == 0;
	/* A YubiKey's other applications refuse GENERAL AUTHENTICATE. */
	piv_set_lazy_select(c->piv, have_version);
	if (have_version && have_serial)
		snprintf(c->name, sizeof(c->name), "YubiKey %u #%u", v[0],
		    serial);
	else if (have_serial)
		snprintf(c->name, sizeof(c->name), "PIV card #%u", serial);
	else if (snprintf(c->name, sizeof(c->name), "PIV card in %.*s",
	    (int)sizeof(c->name) - 20, c->reader) < 0)
		strlcpy(c->name, "PIV card", sizeof(c->name));
	for (i = 0; i < PIVH_NSLOTS; i++) {
		r = pivh_read_slot(c, pivh_slots[i], &c->keys[c->nkeys]);
		if (r == 0) {
			c->nkeys++;
			continue;
		}
		if (r == TOK_ERR_DEVICE_NOT_PRESENT) {
			pivh_card_free(c);
			return r;
		}
		if (r != TOK_ERR_KEY_NOT_FOUND)
			debug_f("%s slot %02x: %s", c->name, pivh_slots[i],
			    tok_strerror(r));
	}
	c->id = next_card_id++;
	verbose("%s in %s: %zu keys", c->name, c->reader, c->nkeys);
	*cp = c;
	return 0;
}

/* IPC_EVENT: every key of every card. */
static void
pivh_send_keys(const char *what)
{
	struct pivh_card *c;
	struct buf *m;
	char label[PIVH_NAME_MAX + 16];
	uint32_t n = 0;
	size_t i;
	int r;

	for (c = cards; c != NULL; c = c->next)
		n += c->nkeys;
	if ((m = buf_new()) == NULL)
		fatal_f("out of memory");
	if ((r = ipc_msg_start(m, 0, IPC_EVENT)) != 0 ||
	    (r = buf_put_cstring(m, what)) != 0 ||
	    (r = buf_put_u32(m, n)) != 0)
		fatal_fr(r, "event");
	for (c = cards; c != NULL; c = c->next) {
		for (i = 0; i < c->nkeys; i++) {
			snprintf(label, sizeof(label), "%s PIV %02x", c->name,
			    c->keys[i].slot);
			if ((r = buf_put_u64(m, (uint64_t)c->id << 8 |
			    (uint64_t)c->keys[i].slot)) != 0 ||
			    (r = key_puts(c->keys[i].pub, m)) != 0 ||
			    (r = buf_put_cstring(m, label)) != 0)
				fatal_fr(r, "event");
		}
	}
	token_send(m);
	buf_free(m);
	debug_f("%s: %u keys", what, n);
}

/*
 * Look at every reader: cards that went are forgotten (with their PINs),
 * cards that came are read.  Keys are re-reported when anything changed.
 * reread: every card is read again, as if pulled and plugged in.
 */
static void
pivh_rescan(int reread)
{
	static SCARDCONTEXT ctx;
	static int have_ctx;
	SCARD_READERSTATE rs[PIVH_MAX_READERS];
	char readers[PIVH_READERS_BUF], *p;
	struct pivh_card *c, **cpp, *nc;
	DWORD len, n = 0, i;
	LONG rv;
	int changed = 0, r;

	if (!have_ctx) {
		if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
		    &ctx)) != SCARD_S_SUCCESS) {
			debug_f("no pcscd: %s", pcsc_stringify_error(rv));
			goto sweep;
		}
		have_ctx = 1;
	}
	len = sizeof(readers);
	rv = SCardListReaders(ctx, NULL, readers, &len);
	if (rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED ||
	    rv == SCARD_E_INVALID_HANDLE) {
		SCardReleaseContext(ctx);
		have_ctx = 0;
		goto sweep;
	}
	memset(rs, 0, sizeof(rs));
	if (rv == SCARD_S_SUCCESS) {
		for (p = readers; *p != '\0' && n < PIVH_MAX_READERS;
		    p += strlen(p) + 1) {
			rs[n].szReader = p;
			rs[n].dwCurrentState = SCARD_STATE_UNAWARE;
			n++;
		}
	}
	if (n > 0 && (rv = SCardGetStatusChange(ctx, 0, rs, n)) !=
	    SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
		n = 0;
 sweep:
	for (c = cards; c != NULL; c = c->next)
		c->seen = 0;
	for (i = 0; i < n; i++) {
		if (!(rs[i].dwEventState & SCARD_STATE_PRESENT) ||
		    (rs[i].dwEventState & SCARD_STATE_MUTE))
			continue;
		for (c = cards; c != NULL; c = c->next) {
			if (strcmp(c->pcsc_reader, rs[i].szReader) == 0)
				break;
		}
		/* A card we know: still the same one if PIV still answers. */
		if (c != NULL) {
			if (!reread && piv_select(c->piv) == 0) {
				c->seen = 1;
				continue;
			}
			c->seen = 0;	/* swept below, then read again */
			continue;
		}
	}
	for (cpp = &cards; (c = *cpp) != NULL;) {
		if (c->seen) {
			cpp = &c->next;
			continue;
		}
		verbose("%s %s %s", c->name, reread ? "read again in" :
		    "gone from", c->reader);
		*cpp = c->next;
		pivh_card_free(c);
		changed = 1;
	}
	for (i = 0; i < n; i++) {
		if (!(rs[i].dwEventState & SCARD_STATE_PRESENT) ||
		    (rs[i].dwEventState & SCARD_STATE_MUTE))
			continue;
		for (c = cards; c != NULL; c = c->next) {
			if (strcmp(c->pcsc_reader, rs[i].szReader) == 0)
				break;
		}
		if (c != NULL)
			continue;
		if ((r = pivh_card_open(rs[i].szReader, &nc)) != 0) {
			debug_f("%s: no PIV card: %s", rs[i].szReader,
			    tok_strerror(r));
			continue;
		}
		nc->next = cards;
		cards = nc;
		changed = 1;
	}
	if (changed)
		pivh_send_keys("PIV cards changed");
}

static void
pivh_event(void *ctx)
{
	char drain[64];
	static int first = 1;

	(void)ctx;
	while (read(wake_fd[0], drain, sizeof(drain)) > 0)
		;
	pivh_rescan(0);
	/* The agent learns at start that there is nothing, too. */
	if (first) {
		first = 0;
		if (cards == NULL)
			pivh_send_keys("no PIV card");
	}
}

static struct pivh_card *
pivh_card_by_id(uint32_t id)
{
	struct pivh_card *c;

	for (c = cards; c != NULL; c = c->next) {
		if (c->id == id)
			return c;
	}
	return NULL;
}

static void
pivh_note(uint8_t type, uint32_t reqid, const struct pivh_card *c,
    uint32_t value)
{
	struct buf *m;
	int r;

	if ((m = buf_new()) == NULL)
		return;
	if ((r = ipc_msg_start(m, 0, type)) == 0 &&
	    (r = buf_put_u32(m, reqid)) == 0 &&
	    (r = buf_put_cstring(m, c->reader)) == 0 &&
	    (r = buf_put_cstring(m, c->name)) == 0) {
		if (type == IPC_PIV_TOUCH)
			r = buf_put_u8(m, value != 0);
		else
			r = buf_put_u32(m, value);
	}
	if (r == 0)
		token_send(m);
	buf_free(m);
}

/* The PIN is wanted for request reqid: say so, with the tries left. */
static int
pivh_pin_wanted(uint32_t reqid, struct pivh_card *c, int r, int tries,
    char **detailp)
{
	int verified;

	if (tries < 0 && r != TOK_ERR_PIN_BLOCKED &&
	    piv_pin_status(c->piv, &verified, &tries) == TOK_ERR_PIN_BLOCKED)
		r = TOK_ERR_PIN_BLOCKED;
	if (r == TOK_ERR_PIN_BLOCKED) {
		tries = 0;
		if (asprintf(detailp, "%s: PIN blocked \xe2\x80\x94 use the "
		    "PUK", c->name) < 0)
			*detailp = NULL;
	} else if (r == TOK_ERR_PIN_INVALID && tries >= 0) {
		if (asprintf(detailp, "%s: wrong PIN, %d tries left", c->name,
		    tries) < 0)
			*detailp = NULL;
	}
	pivh_note(IPC_PIV_PIN_WANTED, reqid, c, tries < 0 ?
	    PIV_IPC_RETRIES_UNKNOWN : (uint32_t)tries);
	return r;
}

static int
pivh_sign_once(struct pivh_card *c, struct pivh_key *k, uint32_t reqid,
    uint32_t flags, const u_char *data, size_t len, struct buf *sig)
{
	int r, touch = k->touch_policy == PIV_TOUCH_POLICY_ALWAYS ||
	    k->touch_policy == PIV_TOUCH_POLICY_CACHED;

	if (touch)
		pivh_note(IPC_PIV_TOUCH, reqid, c, 1);
	r = piv_sign_ssh(c->piv, k->slot, k->pub, flags, data, len, sig);
	if (touch)
		pivh_note(IPC_PIV_TOUCH, reqid, c, 0);
	return r;
}

static int
pivh_sign(uint32_t reqid, struct buf *req, struct buf *reply, char **detailp)
{
	struct pivh_card *c;
	struct pivh_key *k = NULL;
	struct buf *sig = NULL;
	const u_char *data;
	uint64_t handle;
	uint32_t flags;
	size_t len, i;
	int r, tries = -1, verified_now = 0;
	char *pin;

	if ((r = ipc_get_sign(req, &handle, &data, &len, &flags)) != 0)
		return r;
	if ((c = pivh_card_by_id((uint32_t)(handle >> 8))) == NULL)
		return TOK_ERR_DEVICE_NOT_PRESENT;
	for (i = 0; i < c->nkeys; i++) {
		if ((uint64_t)c->keys[i].slot == (handle & 0xff))
			k = &c->keys[i];
	}
	if (k == NULL)
		return TOK_ERR_KEY_NOT_FOUND;
	if ((sig = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if (k->pin_policy == PIV_PIN_POLICY_ALWAYS) {
		/* A PIN given for this operation, used once. */
		if ((pin = c->next_pin) == NULL) {
			r = pivh_pin_wanted(reqid, c, TOK_ERR_PIN_REQUIRED,
			    -1, detailp);
			goto out;
		}
		c->next_pin = NULL;
		r = piv_verify_pin(c->piv, pin, &tries);
		secmem_free(pin);
		if (r == 0)
			r = pivh_sign_once(c, k, reqid, flags, data, len, sig);
		/* The card used the verification; forget ours too. */
		if (c->pin == NULL)
			piv_forget_pin(c->piv);
		else if (piv_verify_pin(c->piv, c->pin, NULL) != 0)
			pivh_card_forget_pins(c);
	} else {
		if ((pin = c->next_pin) != NULL) {
			c->next_pin = NULL;
			if ((r = piv_verify_pin(c->piv, pin, &tries)) == 0) {
				if (c->pin == NULL)
					pivh_pin_kept(c, 1);
				secmem_free(c->pin);
				c->pin = pin;	/* policy once: kept */
				verified_now = 1;
			} else
				secmem_free(pin);
			if (r != 0)
				goto pin_error;
		}
		r = pivh_sign_once(c, k, reqid, flags, data, len, sig);
		/* Not verified (another program reset the card): verify. */
		if (r == TOK_ERR_PIN_REQUIRED && c->pin != NULL &&
		    !verified_now) {
			if ((r = piv_verify_pin(c->piv, c->pin, &tries)) == 0)
				r = pivh_sign_once(c, k, reqid, flags, data,
				    len, sig);
		}
	}
 pin_error:
	if (r == TOK_ERR_PIN_INVALID || r == TOK_ERR_PIN_BLOCKED)
		pivh_card_forget_pins(c);
	if (r == TOK_ERR_PIN_REQUIRED || r == TOK_ERR_PIN_INVALID ||
	    r == TOK_ERR_PIN_BLOCKED)
		r = pivh_pin_wanted(reqid, c, r, tries, detailp);
	if (r == TOK_ERR_DEVICE_NOT_PRESENT)
		pivh_wake();	/* the card went: the rescan drops it */
	if (r == 0)
		r = buf_put_stringb(reply, sig);
 out:
	buf_free(sig);
	return r;
}

static int
pivh_pin(struct buf *req)
{
	struct pivh_card *c;
	char *device = NULL, *pin = NULL;
	size_t len;
	int r;

	if ((r = buf_get_cstring(req, &device, NULL)) != 0)
		return r;
	if ((r = buf_get_cstring(req, &pin, &len)) != 0 ||
	    (r = buf_expect_empty(req)) != 0)
		goto out;
	for (c = cards; c != NULL; c = c->next) {
		if (strcmp(c->reader, device) == 0)
			break;
	}
	if (c == NULL) {
		r = TOK_ERR_DEVICE_NOT_PRESENT;
		goto out;
	}
	secmem_free(c->next_pin);
	if ((c->next_pin = secmem_strdup(pin)) == NULL)
		r = TOK_ERR_ALLOC;
 out:
	free(device);
	if (pin != NULL)
		freezero(pin, strlen(pin));
	return r;
}

static void
pivh_forget_all(void)
{
	struct pivh_card *c;

	for (c = cards; c != NULL; c = c->next) {
		pivh_card_forget_pins(c);
		if (piv_unverify(c->piv) != 0)
			debug_f("%s: could not reset the PIN state", c->name);
	}
}

static int
pivh_handle(void *ctx, uint32_t id, uint8_t type, struct buf *req,
    uint8_t *rtypep, struct buf *reply, char **detailp)
{
	int r;

	(void)ctx;
	switch (type) {
	case IPC_SIGN:
		if ((r = pivh_sign(id, req, reply, detailp)) == 0)
			*rtypep = IPC_SIGNATURE;
		return r;
	case IPC_PIV_PIN:
		if ((r = pivh_pin(req)) == 0)
			*rtypep = IPC_OK;
		return r;
	case IPC_PIV_REREAD:
		pivh_rescan(1);
		*rtypep = IPC_OK;
		return 0;
	case IPC_PIV_FORGET:
	case IPC_DROP_ALL:
		pivh_forget_all();
		*rtypep = IPC_OK;
		return 0;
	case IPC_DROP:
		*rtypep = IPC_OK;
		return 0;
	}
	return TOK_ERR_FEATURE_UNSUPPORTED;
}

/* The watch saw a change: the worker rescans (pcscd gone: its cards too). */
static int
pivh_watch_event(enum pcsc_watch_event ev, const char *reader, void *arg)
{
	(void)ev;
	(void)reader;
	(void)arg;
	pivh_wake();
	return 0;
}

static const struct token_ops pivh_ops = {
	.name = "piv",
	.handle = pivh_handle,
	.event = pivh_event,
};

int
main(int argc, char **argv)
{
	struct pivh_card *c;
	char **args;
	int r;

	token_helper_init(argc, argv, "tokagent-piv-helper", "", 0, &args);
	if (pipe(wake_fd) == -1 ||
	    fcntl(wake_fd[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(wake_fd[1], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(wake_fd[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(wake_fd[1], F_SETFD, FD_CLOEXEC) == -1)
		fatal_f("pipe: %s", strerror(errno));
	token_set_event_fd(wake_fd[0]);
	pivh_wake();	/* the first scan */
	if (pcsc_watch_start(pivh_watch_event, NULL) != 0)
		fatal_f("cannot watch PC/SC");
	r = token_helper_run(&pivh_ops, NULL);
	pcsc_watch_stop();
	while ((c = cards) != NULL) {
		cards = c->next;
		pivh_card_free(c);
	}
	return r == 0 ? 0 : 1;
}
