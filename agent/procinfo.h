/*
 * Who is asking: a client process named from SO_PEERCRED's pid and /proc,
 * for prompts and logs.  Best effort: a process may be gone or hidden.
 */
#ifndef AGENT_PROCINFO_H
#define AGENT_PROCINFO_H

#include <sys/types.h>

/*
 * procinfo_describe: text such as
 *	"ssh" (pid 4242, /usr/bin/ssh), started by "git" (pid 4200)
 * naming the process and its first ancestor that is not a shell (shells
 * between them are skipped).  pid 0 gives "an unknown process".
 * Returns a new string (caller frees), or NULL on no memory.
 */
char *procinfo_describe(pid_t pid);
/* procinfo_name: the short command name of pid (new string), or NULL. */
char *procinfo_name(pid_t pid);

#define PROCINFO_CHAIN_MAX	8	/* the requester and 7 ancestors */
#define PROCINFO_CMDLINE_MAX	256 	/* bytes of a command line kept */

/* A requesting process and its ancestors, for policy and audit. */
struct procinfo_chain {
	size_t n;
	struct procinfo_proc {
		pid_t pid;
		char *exe;	/* readlink of /proc/PID/exe, raw; NULL: unknown */
		char *cmdline;	/* arguments joined by spaces; NULL: unknown */
	} p[PROCINFO_CHAIN_MAX];
	const char *exes[PROCINFO_CHAIN_MAX + 1];	/* p[i].exe or "", NULL-terminated */
};

/*
 * procinfo_chain_get: pid and its ancestors up to PROCINFO_CHAIN_MAX
 * processes, stopping before pid 1.  pid <= 0 gives an empty chain.
 * Returns a new chain (procinfo_chain_free) or NULL on no memory.
 */
struct procinfo_chain *procinfo_chain_get(pid_t pid);
/* procinfo_chain_free: release ch (NULL ok). */
void procinfo_chain_free(struct procinfo_chain *ch);

#endif /* AGENT_PROCINFO_H */
