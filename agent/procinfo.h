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

#endif /* AGENT_PROCINFO_H */
