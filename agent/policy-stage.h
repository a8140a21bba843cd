/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The agent's policy (agent/policy.h is the language): which file, loaded
 * at start and again on SIGHUP (a bad file never half-applies: the old
 * policy stays and the error is logged with file:line), and the policy
 * stage of the signing pipeline, which turns a request into the facts a
 * policy looks at.
 */
#ifndef AGENT_POLICY_STAGE_H
#define AGENT_POLICY_STAGE_H

#include "agent/policy.h"

struct conn;
struct identity;
struct purpose;

#define POLICY_FILE_NAME	"tokagent/policy"	/* under config dirs */

/*
 * policy_stage_start: load the policy from path (--policy; must exist), or
 * when path is NULL from $XDG_CONFIG_HOME/tokagent/policy (default
 * ~/.config/tokagent/policy), else SYSCONFDIR/tokagent/policy, else none
 * (allow everything).  audit_log is --audit-log (NULL: the policy's
 * audit-log).  Returns 0, or an error after printing why (with file:line)
 * on stderr: the agent does not start on a bad policy.
 */
int policy_stage_start(const char *path, const char *audit_log);
/*
 * policy_stage_open_audit: start the audit trail (agent/audit.h) where the
 * options and the policy say; to the journal when background is set and
 * journald runs.  Call it in the process that will run the loop (it starts
 * a thread: not before a fork).
 */
void policy_stage_open_audit(int background);
/* policy_stage_reload: read the file again (SIGHUP); errors are logged. */
void policy_stage_reload(void);
/* policy_stage_stop: free the policy (at exit). */
void policy_stage_stop(void);

/*
 * policy_stage_decide: the verdict of the current policy for signing with
 * id for the purpose p on connection c.
 */
void policy_stage_decide(struct conn *c, const struct identity *id,
    const struct purpose *p, struct policy_verdict *v);

/* policy_stage_current: the policy in force (NULL: none). */
struct policy *policy_stage_current(void);

/* policy_stage_query_key: fill the key part of a query for id. */
void policy_stage_query_key(const struct identity *id, struct policy_query *q);

#endif /* AGENT_POLICY_STAGE_H */
