/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The agent-wide state declared in agent.h. */
#include "config.h"

#include <stddef.h>

#include "agent/agent.h"

struct agent_options agent_opts = {
	.software_keys = 1,
	.piv = 1,
	.provider_allowlist = AGENT_DEFAULT_ALLOWLIST,
	.confirm_timeout_ms = AGENT_CONFIRM_TIMEOUT_MS,
	.restrict_websafe = 1,
	.websafe_allow = AGENT_DEFAULT_WEBSAFE,
};
struct idtab *agent_idtab;
struct helper *agent_soft;
