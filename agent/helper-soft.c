/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The software token helper from the agent side (see helper-soft.h). */
#include "config.h"

#include <stdlib.h>

#include "agent/agent.h"
#include "agent/backend.h"
#include "agent/helper-soft.h"
#include "agent/helper.h"
#include "agent/keys.h"
#include "common/log.h"

#define SOFT_HELPER		"tokagent-soft-helper"

/* Software keys need nothing of the core but signing: no PIN, no touch. */
static const struct backend helper_soft_backend = {
	.kind = "soft",
};

void
helper_soft_start(void)
{
	char *prog, *argv[2];

	if (!agent_opts.software_keys)
		return;
	if ((prog = helper_find_program(SOFT_HELPER)) == NULL)
		fatal_f("%s not found (set TOKAGENT_HELPER_PATH?)",
		    SOFT_HELPER);
	argv[0] = prog;
	argv[1] = NULL;
	if ((agent_soft = helper_spawn(&helper_soft_backend, "soft", prog,
	    argv, NULL, keys_helper_lost, NULL)) == NULL)
		fatal_f("could not start %s", prog);
	free(prog);
}
