/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Which provider modules may be loaded (see provider.h). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/conn.h"
#include "agent/dest.h"
#include "agent/provider.h"
#include "common/err.h"
#include "common/log.h"
#include "common/match.h"

int
provider_allowed(const char *path, char **realp)
{
	char resolved[PATH_MAX];

	*realp = NULL;
	if (realpath(path, resolved) == NULL) {
		error("provider %s: %s", path, strerror(errno));
		return TOK_ERR_PROVIDER_REFUSED;
	}
	/* OpenSSH's rule: a negated entry that matches refuses. */
	if (match_pattern_list(resolved, agent_opts.provider_allowlist,
	    0) != 1) {
		error("provider %s (%s) is not in the allowlist \"%s\"", path,
		    resolved, agent_opts.provider_allowlist);
		return TOK_ERR_PROVIDER_REFUSED;
	}
	if ((*realp = strdup(resolved)) == NULL)
		return TOK_ERR_ALLOC;
	return 0;
}

int
provider_check(const struct conn *c, const char *path, const char *what,
    char **realp)
{
	*realp = NULL;
	if (dest_bindings_is_remote(c->bindings) &&
	    !agent_opts.allow_remote_providers) {
		error("refusing %s %s from a forwarded connection", what,
		    path);
		return TOK_ERR_PROVIDER_REFUSED;
	}
	return provider_allowed(path, realp);
}
