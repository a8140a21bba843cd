/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * libFuzzer harness: a policy file (agent/policy.c policy_parse), then
 * decisions over the parsed policy for a few requests.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/policy.h"
#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const progs[] = { "/usr/bin/ssh", "/usr/bin/git",
	    NULL };
	static const char *const hosts[] = { "h1", "SHA256:abc", NULL };
	struct policy *pol = NULL;
	struct policy_query q;
	struct policy_verdict v;
	char *err = NULL;
	int use;

	log_init("fuzz_policy", LOG_LEVEL_QUIET, 1);
	if (policy_parse("fuzz", (const char *)data, size, &pol, &err) != 0) {
		free(err);
		return 0;
	}
	memset(&q, 0, sizeof(q));
	q.fingerprint = "SHA256:key0001";
	q.comment = "work laptop";
	q.key_type = "ssh-ed25519";
	q.programs = progs;
	q.dest_hosts = hosts;
	q.sshsig_namespace = "git";
	for (use = POLICY_USE_OTHER; use <= POLICY_USE_SSHSIG; use++) {
		q.use = (enum policy_use)use;
		q.bound = use == POLICY_USE_LOGIN;
		q.forwarded = use == POLICY_USE_SSHSIG;
		q.token = (enum policy_token)(use % 4);
		q.now_ms += 1000;
		policy_decide(pol, &q, &v);
		policy_decide(pol, &q, &v);
	}
	(void)policy_remove_on_lock(pol, &q);
	(void)policy_audit_log(pol);
	policy_free(pol);
	return 0;
}
