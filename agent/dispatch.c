/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Agent protocol dispatch (see dispatch.h).  Listing and extensions are
 * answered here; signing, adding and removing keys, smartcards and locking
 * live in their own modules.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/audit.h"
#include "agent/conn.h"
#include "agent/dest.h"
#include "agent/dispatch.h"
#include "agent/helper-p11.h"
#include "agent/helper-piv.h"
#include "agent/helper-sk.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/keys.h"
#include "agent/lock.h"
#include "agent/status.h"
#include "agent/resident.h"
#include "agent/sign.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"

#define EXT_QUERY	"query"

static const char *const dispatch_extensions[] = {
	EXT_QUERY,
	DEST_SESSION_BIND_NAME,
	RESIDENT_EXT,
	STATUS_EXT,
	PIV_REREAD_EXT,
	AUDIT_EXT_NAME,
	AUDIT_EVENTS_EXT_NAME,
	NULL,
};

static void
dispatch_reply_buf(struct conn *c, struct buf *b, int r)
{
	if (r != 0) {
		error_fr(r, "compose reply");
		conn_reply_status(c, 0);
	} else
		conn_reply(c, b);
	buf_free(b);
}

static void
dispatch_list(struct conn *c, struct buf *m)
{
	struct identity *id, *next;
	struct buf *b, *body;
	uint32_t n = 0;
	int r;

	if ((r = buf_expect_empty(m)) != 0) {
		error_fr(r, "request identities");
		conn_reply_status(c, 0);
		return;
	}
	if ((b = buf_new()) == NULL || (body = buf_new()) == NULL)
		fatal_f("out of memory");
	r = 0;
	/* A locked agent lists nothing. */
	for (id = lock_is_locked() ? NULL : idtab_first(agent_idtab);
	    id != NULL && r == 0; id = next) {
		next = idtab_next(id);
		if (keys_expire_if_due(id) || !id->present ||
		    (id->helper != NULL && !helper_running(id->helper)))
			continue;
		if (id->dest != NULL &&
		    dest_permitted(id->dest, c->bindings, NULL, NULL) != 0)
			continue;
		if ((r = buf_put_stringb(body, id->blob)) != 0 ||
		    (r = buf_put_cstring(body, id->comment)) != 0)
			break;
		n++;
	}
	if (r == 0 && (r = buf_put_u8(b, SSH_AGENT_IDENTITIES_ANSWER)) == 0 &&
	    (r = buf_put_u32(b, n)) == 0)
		r = buf_putb(b, body);
	buf_free(body);
	dispatch_reply_buf(c, b, r);
}

static void
dispatch_query(struct conn *c, struct buf *m)
{
	struct buf *b;
	int r, i;

	if ((r = buf_expect_empty(m)) != 0) {
		error_fr(r, "query extension");
		conn_reply_status(c, 0);
		return;
	}
	if ((b = buf_new()) == NULL)
		fatal_f("out of memory");
	if ((r = buf_put_u8(b, SSH_AGENT_EXTENSION_RESPONSE)) != 0 ||
	    (r = buf_put_cstring(b, EXT_QUERY)) != 0)
		goto out;
	for (i = 0; dispatch_extensions[i] != NULL; i++) {
		if ((r = buf_put_cstring(b, dispatch_extensions[i])) != 0)
			goto out;
	}
 out:
	dispatch_reply_buf(c, b, r);
}

static void
dispatch_session_bind(struct conn *c, struct buf *m)
{
	u_char fail = SSH_AGENT_EXTENSION_FAILURE;
	struct buf *b;
	int r;

	if ((r = dest_bind(c->bindings, m)) != 0) {
		error("client %llu (pid %ld): session-bind refused: %s",
		    (unsigned long long)c->serial, (long)c->pid,
		    tok_strerror(r));
		if ((b = buf_from(&fail, 1)) == NULL)
			fatal_f("out of memory");
		conn_reply(c, b);
		buf_free(b);
		return;
	}
	debug_f("client %llu bound (%zu hops)", (unsigned long long)c->serial,
	    dest_bindings_count(c->bindings));
	conn_reply_status(c, 1);
}

/*
 * audit@tokagent [uint32 max]: recent audit records; events@tokagent: the
 * connection receives every record from now on.  Local clients only: the
 * records name local processes and other destinations.
 */
static void
dispatch_audit(struct conn *c, struct buf *m, int subscribe)
{
	struct buf *b = NULL;
	uint32_t max = AUDIT_RING;
	int r;

	if (dest_bindings_is_remote(c->bindings)) {
		error("client %llu (pid %ld): audit records are not given to "
		    "forwarded connections", (unsigned long long)c->serial,
		    (long)c->pid);
		conn_reply_status(c, 0);
		return;
	}
	if (subscribe) {
		if ((r = buf_expect_empty(m)) != 0 ||
		    (r = audit_subscribe(c)) != 0) {
			error_fr(r, "events subscription");
			conn_reply_status(c, 0);
			return;
		}
		/* Queued before the first event; the request stays open. */
		if ((b = buf_new()) == NULL ||
		    buf_put_u8(b, SSH_AGENT_SUCCESS) != 0 ||
		    conn_push(c, b, 0) != 0)
			error_f("could not acknowledge the subscription");
		buf_free(b);
		return;
	}
	if (buf_len(m) != 0 && ((r = buf_get_u32(m, &max)) != 0 ||
	    (r = buf_expect_empty(m)) != 0)) {
		error_fr(r, "audit request");
		conn_reply_status(c, 0);
		return;
	}
	if ((b = buf_new()) == NULL)
		r = TOK_ERR_ALLOC;
	else if ((r = buf_put_u8(b, SSH_AGENT_EXTENSION_RESPONSE)) == 0 &&
	    (r = buf_put_cstring(b, AUDIT_EXT_NAME)) == 0)
		r = audit_ring_reply(b, max, AUDIT_REPLY_MAX_BYTES);
	dispatch_reply_buf(c, b, r);
}

static void
dispatch_extension(struct conn *c, struct buf *m)
{
	char *name = NULL;
	int r;

	if ((r = buf_get_cstring(m, &name, NULL)) != 0) {
		error_fr(r, "extension name");
		conn_reply_status(c, 0);
		return;
	}
	/*
	 * As OpenSSH 10's agent: a locked agent still records session
	 * bindings (ssh binds each new channel), and refuses the rest.
	 */
	if (strcmp(name, DEST_SESSION_BIND_NAME) == 0)
		dispatch_session_bind(c, m);
	else if (lock_is_locked()) {
		debug_f("extension \"%s\" refused while locked", name);
		conn_reply_status(c, 0);
	} else if (strcmp(name, EXT_QUERY) == 0)
		dispatch_query(c, m);
	else if (strcmp(name, RESIDENT_EXT) == 0)
		resident_import(c, m);
	else if (strcmp(name, STATUS_EXT) == 0)
		status_request(c, m);
	else if (strcmp(name, PIV_REREAD_EXT) == 0)
		helper_piv_reread(c, m);
	else if (strcmp(name, AUDIT_EXT_NAME) == 0)
		dispatch_audit(c, m, 0);
	else if (strcmp(name, AUDIT_EVENTS_EXT_NAME) == 0)
		dispatch_audit(c, m, 1);
	else {
		debug_f("unsupported extension \"%s\"", name);
		conn_reply_status(c, 0);
	}
	free(name);
}

/*
 * Where a new key goes: FIDO key handles to the sk helper, the rest to
 * the software token.
 */
static struct helper *
dispatch_helper_for(int is_sk)
{
	return is_sk ? helper_sk_get() : agent_soft;
}

/* After every key is gone: token keys stay away, PINs are wiped. */
static void
dispatch_forget_tokens(void)
{
	helper_p11_keys_removed_all();
	helper_piv_keys_removed_all();
	helper_sk_forget_pins();
}

void
dispatch_remove_all(const char *why)
{
	keys_drop_all(NULL, why);
	dispatch_forget_tokens();
}

void
dispatch_message(struct conn *c, struct buf *m)
{
	uint8_t type;

	if (buf_get_u8(m, &type) != 0) {
		error("client %llu: empty message", (unsigned long long)c->serial);
		conn_reply_status(c, 0);
		return;
	}
	debug2_f("client %llu: message %u", (unsigned long long)c->serial,
	    type);
	if (lock_is_locked() && type != SSH_AGENTC_UNLOCK &&
	    type != SSH_AGENTC_REQUEST_IDENTITIES &&
	    type != SSH_AGENTC_EXTENSION) {
		/*
		 * Locked: only listing (empty), unlock and session-bind
		 * (in dispatch_extension) are answered.
		 */
		conn_reply_status(c, 0);
		return;
	}
	switch (type) {
	case SSH_AGENTC_REQUEST_IDENTITIES:
		dispatch_list(c, m);
		break;
	case SSH_AGENTC_SIGN_REQUEST:
		sign_request(c, m);
		break;
	case SSH_AGENTC_ADD_IDENTITY:
	case SSH_AGENTC_ADD_ID_CONSTRAINED:
		keys_add(c, m, type == SSH_AGENTC_ADD_ID_CONSTRAINED,
		    dispatch_helper_for);
		break;
	case SSH_AGENTC_REMOVE_IDENTITY:
		keys_remove(c, m);
		break;
	case SSH_AGENTC_REMOVE_ALL_IDENTITIES:
	case SSH_AGENTC_REMOVE_ALL_RSA_IDENTITIES:
		if (keys_remove_all(c, m))
			dispatch_forget_tokens();
		break;
	case SSH_AGENTC_ADD_SMARTCARD_KEY:
	case SSH_AGENTC_ADD_SMARTCARD_KEY_CONSTRAINED:
		helper_p11_add_provider(c, m,
		    type == SSH_AGENTC_ADD_SMARTCARD_KEY_CONSTRAINED);
		break;
	case SSH_AGENTC_REMOVE_SMARTCARD_KEY:
		helper_p11_remove_provider(c, m);
		helper_piv_resync();
		break;
	case SSH_AGENTC_LOCK:
		lock_lock(c, m);
		break;
	case SSH_AGENTC_UNLOCK:
		lock_unlock(c, m);
		break;
	case SSH_AGENTC_EXTENSION:
		dispatch_extension(c, m);
		break;
	default:
		error("client %llu (pid %ld): unknown message type %u",
		    (unsigned long long)c->serial, (long)c->pid, type);
		conn_reply_status(c, 0);
		break;
	}
}
