/* Resident FIDO keys imported by the agent (see resident.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/askpass.h"
#include "agent/conn.h"
#include "agent/constraints.h"
#include "agent/dest.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/keys.h"
#include "agent/resident.h"
#include "agent/tokens.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"
#include "common/secmem.h"
#include "sk/sk-ipc.h"

#define RESIDENT_TIMEOUT_MS	(120 * 1000)

struct resident_op {
	struct conn *c;
	struct helper *h;
	struct askpass *ap;
	uint32_t reqid;
};

static void
resident_op_cancel(void *arg)
{
	struct resident_op *op = arg;

	if (op->ap != NULL)
		askpass_cancel(op->ap);
	else
		helper_cancel(op->h, op->reqid);
	free(op);
}

/* IPC_KEYS from the sk helper: the resident keys it now holds. */
static int
resident_keys(struct helper *h, struct buf *m, uint32_t *np)
{
	struct identity *id = NULL;
	struct key *k = NULL;
	uint64_t handle;
	uint32_t n, i;
	char *label = NULL;
	int r;

	*np = 0;
	if ((r = buf_get_u32(m, &n)) != 0)
		return r;
	if (n > TOKENS_MAX_KEYS)
		return TOK_ERR_PROTOCOL;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_u64(m, &handle)) != 0 ||
		    (r = key_froms(m, &k)) != 0 ||
		    (r = buf_get_cstring(m, &label, NULL)) != 0)
			goto out;
		if (!key_is_sk(k)) {
			r = TOK_ERR_PROTOCOL;
			goto out;
		}
		if ((id = calloc(1, sizeof(*id))) == NULL ||
		    (id->blob = buf_new()) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		if ((r = key_to_blob(k, id->blob)) != 0 ||
		    (r = key_fingerprint(k, &id->fingerprint)) != 0)
			goto out;
		id->key = k;
		k = NULL;
		id->comment = label;
		label = NULL;
		id->helper = h;
		id->handle = handle;
		id->present = 1;
		if (agent_opts.default_lifetime != 0) {
			struct constraints none;

			memset(&none, 0, sizeof(none));
			keys_apply_constraints(id, &none);
		}
		r = keys_insert(id);
		id = NULL;
		if (r != 0)
			goto out;
		(*np)++;
	}
	r = buf_expect_empty(m);
 out:
	identity_free(id);
	key_free(k);
	free(label);
	return r;
}

static void
resident_reply(int r, uint8_t type, struct buf *m, const char *detail,
    void *arg)
{
	struct resident_op *op = arg;
	struct conn *c = op->c;
	struct buf *b;
	uint32_t n = 0;

	if (r == 0 && type != IPC_KEYS)
		r = TOK_ERR_PROTOCOL;
	if (r == 0)
		r = resident_keys(op->h, m, &n);
	free(op);
	if (r != 0) {
		error("importing resident keys failed: %s%s%s",
		    tok_strerror(r), detail ? ": " : "", detail ? detail : "");
		conn_reply_status(c, 0);
		return;
	}
	logit("imported %u resident key%s for pid %ld", n, n == 1 ? "" : "s",
	    (long)c->pid);
	if ((b = buf_new()) == NULL ||
	    buf_put_u8(b, SSH_AGENT_EXTENSION_RESPONSE) != 0 ||
	    buf_put_cstring(b, RESIDENT_EXT) != 0 ||
	    buf_put_u32(b, n) != 0) {
		buf_free(b);
		conn_reply_status(c, 0);
		return;
	}
	conn_reply(c, b);
	buf_free(b);
}

static void
resident_pin(int r, char *pin, void *arg)
{
	struct resident_op *op = arg;
	struct buf *p = NULL;

	op->ap = NULL;
	if (r == 0 && (p = buf_new()) == NULL)
		r = TOK_ERR_ALLOC;
	if (r == 0 && (r = buf_put_cstring(p, pin)) == 0)
		r = helper_request(op->h, IPC_SK_LOAD_RESIDENT, p,
		    RESIDENT_TIMEOUT_MS, resident_reply, op, &op->reqid);
	buf_free(p);
	secmem_free(pin);
	if (r != 0) {
		struct conn *c = op->c;

		free(op);
		error("importing resident keys: %s", tok_strerror(r));
		conn_reply_status(c, 0);
	}
}

void
resident_import(struct conn *c, struct buf *m)
{
	struct resident_op *op = NULL;
	struct helper *h;

	if (buf_expect_empty(m) != 0 || (h = tokens_sk_helper()) == NULL ||
	    (op = calloc(1, sizeof(*op))) == NULL) {
		conn_reply_status(c, 0);
		return;
	}
	if (dest_bindings_is_remote(c->bindings)) {
		error("refusing resident key import from a forwarded "
		    "connection");
		free(op);
		conn_reply_status(c, 0);
		return;
	}
	op->c = c;
	op->h = h;
	/* Listing credentials needs the PIN: asked once, for all tokens. */
	if ((op->ap = askpass_start(ASKPASS_SECRET, "Enter the PIN of your "
	    "security key to import its resident SSH keys",
	    TOKENS_PIN_TIMEOUT_MS, resident_pin, op)) == NULL) {
		free(op);
		conn_reply_status(c, 0);
		return;
	}
	conn_wait(c, op, resident_op_cancel);
}

void
resident_device_event(const char *device, const char *name, int present)
{
	verbose("security key %s (%s) %s", name, device,
	    present ? "plugged in" : "removed");
}
