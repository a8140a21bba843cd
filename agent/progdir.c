/*
 * Where the agent's helper programs are (see progdir.h).  Copyright (c)
 * 2026 tokagent authors; see LICENSE.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/progdir.h"
#include "common/err.h"

#define PROGDIR_AGENT_NAME	"tokagent"

const char *const progdir_build_subdirs[] = {
	"token", "sk", "pkcs", "agent", NULL
};

/* Length of dir without trailing slashes (but "/" stays "/"). */
static size_t
progdir_trimlen(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return n;
}

int
progdir_resolve(const char *exe, const char *bindir, const char *libexecdir,
    char **dirp, int *buildtreep)
{
	size_t elen, blen, nlen = strlen(PROGDIR_AGENT_NAME), rootlen;
	const char *slash;
	char *dir = NULL;

	if (dirp != NULL)
		*dirp = NULL;
	if (buildtreep != NULL)
		*buildtreep = 0;
	if (exe == NULL || bindir == NULL || libexecdir == NULL ||
	    dirp == NULL || buildtreep == NULL || exe[0] != '/' ||
	    bindir[0] != '/' || libexecdir[0] != '/')
		return TOK_ERR_INVALID_ARGUMENT;
	elen = strlen(exe);
	blen = progdir_trimlen(bindir);
	if (blen == 1)
		blen = 0;	/* bindir "/": the suffix is "/tokagent" */

	/* ROOT + bindir + "/tokagent" */
	if (elen >= blen + 1 + nlen &&
	    strcmp(exe + elen - nlen, PROGDIR_AGENT_NAME) == 0 &&
	    exe[elen - nlen - 1] == '/' &&
	    strncmp(exe + elen - nlen - 1 - blen, bindir, blen) == 0) {
		/* bindir starts with '/': ROOT ends at a name boundary. */
		rootlen = elen - nlen - 1 - blen;
		if (asprintf(&dir, "%.*s%.*s", (int)rootlen, exe,
		    (int)progdir_trimlen(libexecdir), libexecdir) < 0)
			return TOK_ERR_ALLOC;
		*dirp = dir;
		return 0;
	}

	/* TOP/agent/tokagent */
	if (elen > nlen + 1 && exe[elen - nlen - 1] == '/' &&
	    strcmp(exe + elen - nlen, PROGDIR_AGENT_NAME) == 0) {
		elen -= nlen + 1;			/* TOP/agent */
		for (slash = exe + elen; slash > exe && slash[-1] != '/';)
			slash--;
		if (slash > exe && (size_t)(exe + elen - slash) == 5 &&
		    strncmp(slash, "agent", 5) == 0) {
			rootlen = slash - exe - 1;	/* TOP */
			if (rootlen == 0)
				rootlen = 1;		/* "/" */
			if (asprintf(&dir, "%.*s", (int)rootlen, exe) < 0)
				return TOK_ERR_ALLOC;
			*dirp = dir;
			*buildtreep = 1;
			return 0;
		}
	}
	return TOK_ERR_KEY_NOT_FOUND;
}
