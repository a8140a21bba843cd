/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Who is asking: a client process named from SO_PEERCRED's pid and /proc,
 * for prompts and logs.  Best effort: a process may be gone or hidden.
 * Every name here is chosen by the process itself: the raw getters return
 * bytes as the kernel gives them (bounded), for the caller to sanitise;
 * procinfo_describe sanitises.
 */
#ifndef AGENT_PROCINFO_H
#define AGENT_PROCINFO_H

#include <sys/types.h>

#define PROCINFO_CMDLINE_MAX	4096	/* bytes of /proc/PID/cmdline read */

/*
 * procinfo_describe: one sanitised line such as
 *	"ssh" (pid 4242, /usr/bin/ssh), started by "git" (pid 4200)
 * naming the process and its first ancestor that is not a shell (shells
 * between them are skipped).  pid 0 gives "an unknown process".
 * Returns a new string (caller frees), or NULL on no memory.
 */
char *procinfo_describe(pid_t pid);
/*
 * procinfo_name: the program name of pid, raw: the last path component of
 * its argv[0] (full length, unlike the 15-byte comm), else its comm.
 * New string, or NULL when the process is gone.
 */
char *procinfo_name(pid_t pid);
/*
 * procinfo_cmdline: the raw command line of pid, arguments joined by
 * spaces, at most PROCINFO_CMDLINE_MAX bytes.  New string or NULL.
 */
char *procinfo_cmdline(pid_t pid);
/* procinfo_exe: the raw path of pid's executable; new string or NULL. */
char *procinfo_exe(pid_t pid);
/* procinfo_parent: the parent of pid, 0 when unknown. */
pid_t procinfo_parent(pid_t pid);
/* procinfo_is_shell: name (raw) is a shell or a launcher such as env, sudo. */
int procinfo_is_shell(const char *name);
/*
 * procinfo_tty: the controlling terminal of pid or of its nearest
 * ancestor that has one (a path under /dev such as /dev/pts/3), checked
 * to be a character device owned by uid.  New string or NULL.
 */
char *procinfo_tty(pid_t pid, uid_t uid);

#define PROCINFO_CHAIN_MAX	8	/* the requester and 7 ancestors */
#define PROCINFO_CHAIN_CMDLINE_MAX 256	/* bytes of a command line kept */

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
