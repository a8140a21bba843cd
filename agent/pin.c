/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* PIN prompts and token logins (see pin.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/askpass.h"
#include "agent/audit.h"
#include "agent/backend.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/pin.h"
#include "agent/prompt.h"
#include "agent/tokstate.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/secmem.h"

struct login_op {
	struct helper *h;
	char *device;			/* the token to log in, or NULL */
	struct askpass *ap;
	uint32_t reqid;
	void (*done)(int r, void *arg);
	void *arg;
};

static void
login_op_free(struct login_op *op)
{
	askpass_cancel(op->ap);
	free(op->device);
	free(op);
}

static void
pin_login_reply(int r, uint8_t type, struct buf *m, const char *detail,
    void *arg)
{
	struct login_op *op = arg;
	void (*done)(int, void *) = op->done;
	void *darg = op->arg;

	(void)m;
	if (r == 0 && type != IPC_OK)
		r = TOK_ERR_PROTOCOL;
	if (r != 0)
		error("token login failed: %s%s%s", tok_strerror(r),
		    detail ? ": " : "", detail ? detail : "");
	else if (helper_backend(op->h)->pin_per_device &&
	    !helper_backend(op->h)->pin_cache_reported && op->device != NULL)
		tokstate_pin_cached(op->device, agent_opts.pin_cache_s);
	login_op_free(op);
	done(r, darg);
}

static void
pin_entered(int r, char *pin, void *arg)
{
	struct login_op *op = arg;
	void (*done)(int, void *) = op->done;
	void *darg = op->arg;

	op->ap = NULL;
	if (r == 0)
		r = helper_backend(op->h)->login(op->h, op->device, pin,
		    pin_login_reply, op, &op->reqid);
	secmem_free(pin);
	if (r != 0) {
		login_op_free(op);
		done(r, darg);
	}
}

void *
pin_login(struct identity *id, const char *device, const char *name,
    uint32_t retries, const struct prompt_req *why, int retry,
    void (*done)(int r, void *arg), void *arg)
{
	const struct backend *be = helper_backend(id->helper);
	struct prompt_req *own = NULL;
	struct login_op *op;
	char *prompt = NULL, *label = NULL;

	if (be == NULL || be->login == NULL ||
	    (be->pin_per_device && device == NULL) ||
	    (op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	op->h = id->helper;
	op->done = done;
	op->arg = arg;
	if (device != NULL && (op->device = strdup(device)) == NULL)
		goto fail;
	if (why == NULL && (why = own = prompt_req_for_key(id)) == NULL)
		goto fail;
	/* A token is named by its label or product, never a module path. */
	if (be->pin_per_device)
		prompt = prompt_pin(why, NULL, be->token_noun, name, device,
		    retry, retries);
	else {
		label = prompt_token_label(id);
		prompt = prompt_pin(why, NULL, be->token_noun, label, NULL,
		    retry, PROMPT_RETRIES_UNKNOWN);
	}
	if (prompt == NULL)
		goto fail;
	if ((op->ap = askpass_start_for(ASKPASS_SECRET, prompt,
	    prompt_req_pid(why), PIN_TIMEOUT_MS, pin_entered, op)) == NULL)
		goto fail;
	audit_event("pin-prompt", NULL, id, NULL, name != NULL ? name :
	    id->provider);
	free(prompt);
	free(label);
	prompt_req_free(own);
	return op;
 fail:
	free(prompt);
	free(label);
	prompt_req_free(own);
	free(op->device);
	free(op);
	return NULL;
}

void
pin_login_cancel(void *login)
{
	struct login_op *op = login;

	if (op == NULL)
		return;
	if (op->ap == NULL)
		helper_cancel(op->h, op->reqid);
	login_op_free(op);
}
