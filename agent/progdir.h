/*
 * Where the agent's helper programs are.  Copyright (c) 2026 tokagent
 * authors; see LICENSE.
 *
 * One place only, decided by where the running agent is: an installed
 * agent uses the installed helpers, a build-tree agent the helpers built
 * next to it, never the other.
 */
#ifndef AGENT_PROGDIR_H
#define AGENT_PROGDIR_H

#include <stddef.h>

/* The build-tree folders (relative to the top build directory) holding helpers. */
extern const char *const progdir_build_subdirs[];

/*
 * progdir_resolve: the helper directory of the agent whose canonical path is
 * exe.
 *   - exe is ROOT + bindir + "/tokagent" (ROOT is empty for an installed
 *     agent, the DESTDIR of a staged install otherwise): *dirp is
 *     ROOT + libexecdir and *buildtreep is 0;
 *   - exe is ".../TOP/agent/tokagent" (a build tree): *dirp is TOP and
 *     *buildtreep is 1 (the helpers are in TOP/<progdir_build_subdirs>);
 *   - otherwise TOK_ERR_KEY_NOT_FOUND: the agent is neither installed nor in
 *     a build tree and looks for helpers nowhere.
 * bindir and libexecdir are the configured, absolute directories.  *dirp is
 * a new string the caller frees.  Returns 0 or a TOK_ERR_* code.
 */
int progdir_resolve(const char *exe, const char *bindir,
    const char *libexecdir, char **dirp, int *buildtreep)
    __attribute__((warn_unused_result));

#endif /* AGENT_PROGDIR_H */
