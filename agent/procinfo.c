/* Naming client processes from /proc (see procinfo.h). */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/procinfo.h"

#define PROCINFO_MAX_DEPTH	16

static const char *const procinfo_shells[] = {
	"sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "tcsh", "csh",
	"busybox", "env", "sudo", "su", "timeout", "xargs", "nohup", NULL,
};

/* Make names printable: a process chooses its own name. */
static void
procinfo_sanitise(char *s)
{
	for (; *s != '\0'; s++) {
		if (!isprint((u_char)*s) || *s == '"')
			*s = '?';
	}
}

char *
procinfo_name(pid_t pid)
{
	char path[64], buf[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	procinfo_sanitise(buf);
	return strdup(buf);
}

static pid_t
procinfo_parent(pid_t pid)
{
	char path[64], buf[512], *p;
	long ppid;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name may hold spaces and parentheses: parse after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid < 0)
		return 0;
	return (pid_t)ppid;
}

static int
procinfo_is_shell(const char *name)
{
	int i;

	for (i = 0; procinfo_shells[i] != NULL; i++) {
		if (strcmp(name, procinfo_shells[i]) == 0)
			return 1;
	}
	return 0;
}

char *
procinfo_describe(pid_t pid)
{
	char path[64], exe[PATH_MAX], *name = NULL, *pname = NULL, *s = NULL;
	pid_t p;
	ssize_t n;
	int depth, ok;

	if (pid <= 0)
		return strdup("an unknown process");
	name = procinfo_name(pid);
	snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		procinfo_sanitise(exe);
	} else
		strlcpy(exe, "?", sizeof(exe));
	/* The first ancestor that is not a shell says what the user ran. */
	p = pid;
	for (depth = 0; depth < PROCINFO_MAX_DEPTH; depth++) {
		if ((p = procinfo_parent(p)) <= 1)
			break;
		free(pname);
		if ((pname = procinfo_name(p)) == NULL)
			break;
		if (!procinfo_is_shell(pname))
			break;
	}
	if (pname != NULL && p > 1 && !procinfo_is_shell(pname))
		ok = asprintf(&s, "\"%s\" (pid %ld, %s), started by \"%s\" (pid %ld)",
		    name ? name : "?", (long)pid, exe, pname, (long)p);
	else
		ok = asprintf(&s, "\"%s\" (pid %ld, %s)", name ? name : "?",
		    (long)pid, exe);
	if (ok < 0)
		s = NULL;
	free(name);
	free(pname);
	return s;
}

/* The command line of pid, arguments joined by spaces, bounded. */
static char *
procinfo_cmdline(pid_t pid)
{
	char path[64], buf[PROCINFO_CMDLINE_MAX + 1];
	FILE *f;
	size_t n, i;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (i = 0; i < n; i++) {
		if (buf[i] == '\0')
			buf[i] = ' ';
	}
	buf[n] = '\0';
	return strdup(buf);
}

struct procinfo_chain *
procinfo_chain_get(pid_t pid)
{
	struct procinfo_chain *ch;
	char path[64], exe[PATH_MAX];
	ssize_t n;
	size_t i;

	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return NULL;
	for (; pid > 1 && ch->n < PROCINFO_CHAIN_MAX; pid = procinfo_parent(pid)) {
		ch->p[ch->n].pid = pid;
		snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
		if ((n = readlink(path, exe, sizeof(exe) - 1)) > 0) {
			exe[n] = '\0';
			ch->p[ch->n].exe = strdup(exe);
		}
		ch->p[ch->n].cmdline = procinfo_cmdline(pid);
		ch->n++;
	}
	for (i = 0; i < ch->n; i++)
		ch->exes[i] = ch->p[i].exe != NULL ? ch->p[i].exe : "";
	ch->exes[ch->n] = NULL;
	return ch;
}

void
procinfo_chain_free(struct procinfo_chain *ch)
{
	size_t i;

	if (ch == NULL)
		return;
	for (i = 0; i < ch->n; i++) {
		free(ch->p[i].exe);
		free(ch->p[i].cmdline);
	}
	free(ch);
}
