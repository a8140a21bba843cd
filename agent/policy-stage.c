/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The agent's policy and the policy stage of signing (see policy-stage.h). */
#include "config.h"

#include <sys/stat.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/audit.h"
#include "agent/backend.h"
#include "agent/conn.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/loop.h"
#include "agent/policy-stage.h"
#include "agent/procinfo.h"
#include "agent/purpose.h"
#include "common/err.h"
#include "common/json.h"
#include "common/key.h"
#include "common/log.h"


static struct policy *policy_current_pol;
static char *policy_path;		/* the file in force, or NULL */
static int policy_path_given;		/* --policy: it must exist */
static char *policy_audit_opt;		/* --audit-log */
static int policy_background;

/* The first policy file that exists, as a new string, or NULL. */
static char *
policy_default_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	struct passwd *pw;
	char *p = NULL;

	if (xdg != NULL && *xdg == '/') {
		if (asprintf(&p, "%s/%s", xdg, POLICY_FILE_NAME) < 0)
			return NULL;
	} else {
		if ((home == NULL || *home != '/') &&
		    (pw = getpwuid(getuid())) != NULL)
			home = pw->pw_dir;
		if (home != NULL && asprintf(&p, "%s/.config/%s", home,
		    POLICY_FILE_NAME) < 0)
			return NULL;
	}
	if (p != NULL && access(p, F_OK) == 0)
		return p;
	free(p);
	if (asprintf(&p, "%s/%s", SYSCONFDIR, POLICY_FILE_NAME) < 0)
		return NULL;
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return NULL;
}

/* Point the audit trail where the options and pol say. */
static void
policy_apply_audit(const struct policy *pol)
{
	const char *path = policy_audit_opt != NULL ? policy_audit_opt :
	    policy_audit_log(pol);
	int journal;

	journal = policy_background && access(audit_journal_path(), W_OK) == 0;
	(void)audit_configure(path, policy_audit_max_size(pol), journal);
}

static void
policy_audit_reload(const char *result, const char *reason)
{
	struct json *rec;
	char *summary = NULL;

	if ((rec = audit_begin("policy-reload")) == NULL)
		return;
	json_str(rec, "file", policy_path);
	json_int(rec, "rules", (int64_t)policy_rule_count(policy_current_pol));
	json_str(rec, "result", result);
	if (reason != NULL)
		json_str(rec, "reason", reason);
	if (asprintf(&summary, "policy %s %s%s%s", policy_path ? policy_path :
	    "(none)", result, reason ? ": " : "", reason ? reason : "") < 0)
		summary = NULL;
	audit_commit(rec, summary);
	free(summary);
}

int
policy_stage_start(const char *path, const char *audit_log)
{
	struct policy *pol = NULL;
	char *err = NULL;
	int r;

	if (audit_log != NULL && (policy_audit_opt = strdup(audit_log)) == NULL)
		return TOK_ERR_ALLOC;
	if (path != NULL) {
		policy_path_given = 1;
		policy_path = strdup(path);
	} else
		policy_path = policy_default_path();
	if (policy_path != NULL) {
		if ((r = policy_load(policy_path, &pol, &err)) != 0) {
			if (r == TOK_ERR_KEY_NOT_FOUND)
				fprintf(stderr, "tokagent: policy file %s: "
				    "not found\n", policy_path);
			else
				fprintf(stderr, "tokagent: bad policy: %s\n",
				    err != NULL ? err : tok_strerror(r));
			free(err);
			return r;
		}
		verbose("policy %s: %zu rules", policy_path,
		    policy_rule_count(pol));
	}
	policy_current_pol = pol;
	return 0;
}

void
policy_stage_open_audit(int background)
{
	policy_background = background;
	policy_apply_audit(policy_current_pol);
}

void
policy_stage_reload(void)
{
	struct policy *pol = NULL;
	char *err = NULL, *path;
	int r;

	if (!policy_path_given) {
		/* A file may have appeared (or gone) since the start. */
		if ((path = policy_default_path()) != NULL) {
			free(policy_path);
			policy_path = path;
		}
	}
	if (policy_path == NULL) {
		logit("SIGHUP: no policy file; allowing every use");
		return;
	}
	if ((r = policy_load(policy_path, &pol, &err)) != 0) {
		if (r == TOK_ERR_KEY_NOT_FOUND && !policy_path_given) {
			/* The default file was removed: no policy. */
			policy_free(policy_current_pol);
			policy_current_pol = NULL;
			logit("policy %s removed; allowing every use",
			    policy_path);
			free(policy_path);
			policy_path = NULL;
			policy_apply_audit(NULL);
			return;
		}
		error("policy not reloaded, keeping the previous one: %s",
		    err != NULL ? err : tok_strerror(r));
		policy_audit_reload("refused", err != NULL ? err :
		    tok_strerror(r));
		free(err);
		return;
	}
	policy_free(policy_current_pol);
	policy_current_pol = pol;
	logit("policy %s reloaded: %zu rules", policy_path,
	    policy_rule_count(pol));
	policy_apply_audit(pol);
	policy_audit_reload("ok", NULL);
}

void
policy_stage_stop(void)
{
	policy_free(policy_current_pol);
	policy_current_pol = NULL;
	free(policy_path);
	policy_path = NULL;
	free(policy_audit_opt);
	policy_audit_opt = NULL;
}

struct policy *
policy_stage_current(void)
{
	return policy_current_pol;
}

void
policy_stage_query_key(const struct identity *id, struct policy_query *q)
{
	q->fingerprint = id->fingerprint;
	q->comment = id->comment;
	q->key_type = key_type_name(id->key);
	const struct backend *be = helper_backend(id->helper);

	if (id->helper == agent_soft)
		q->token = POLICY_TOKEN_SOFTWARE;
	else if (key_is_sk(id->key))
		q->token = POLICY_TOKEN_FIDO;
	else if (be != NULL && strcmp(be->kind, "piv") == 0)
		q->token = POLICY_TOKEN_PIV;
	else
		q->token = POLICY_TOKEN_PKCS11;
	q->token_serial = id->token_serial;
}

void
policy_stage_decide(struct conn *c, const struct identity *id,
    const struct purpose *p, struct policy_verdict *v)
{
	const struct procinfo_chain *ch;
	struct policy_query q;

	memset(v, 0, sizeof(*v));
	v->allow = 1;
	if (policy_current_pol == NULL)
		return;
	memset(&q, 0, sizeof(q));
	policy_stage_query_key(id, &q);
	q.use = p->use;
	q.sshsig_namespace = p->sshsig_namespace;
	q.bound = p->bound;
	q.forwarded = p->forwarded;
	q.dest_hosts = p->bound ? p->hosts : NULL;
	/* An unknown requester matches no program pattern: refused safely. */
	if ((ch = conn_procs(c)) != NULL)
		q.programs = ch->exes;
	q.now_ms = loop_now_ms();
	policy_decide(policy_current_pol, &q, v);
}
