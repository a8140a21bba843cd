/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Naming client processes from /proc (see procinfo.h). */
#include "config.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/procinfo.h"
#include "common/sanitize.h"

#define PROCINFO_MAX_DEPTH	16

static const char *const procinfo_shells[] = {
	"sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "tcsh", "csh",
	"busybox", "env", "sudo", "su", "timeout", "xargs", "nohup", NULL,
};

/* procinfo_read: up to max bytes of /proc/PID/what; *lenp its length. */
static char *
procinfo_read(pid_t pid, const char *what, size_t max, size_t *lenp)
{
	char path[64], *buf;
	ssize_t n;
	size_t len = 0;
	int fd;

	*lenp = 0;
	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, what);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (len < max && (n = read(fd, buf + len, max - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

static char *
procinfo_comm(pid_t pid)
{
	char *s;
	size_t len;

	if ((s = procinfo_read(pid, "comm", 64, &len)) == NULL)
		return NULL;
	if (len > 0 && s[len - 1] == '\n')
		s[len - 1] = '\0';
	return s;
}

char *
procinfo_name(pid_t pid)
{
	char *s, *base;
	size_t len;

	/* argv[0] is the first NUL-terminated string of cmdline. */
	if ((s = procinfo_read(pid, "cmdline", 1024, &len)) != NULL &&
	    len > 0 && *s != '\0') {
		base = strrchr(s, '/');
		base = strdup(base != NULL && base[1] != '\0' ? base + 1 : s);
		free(s);
		return base;
	}
	free(s);
	return procinfo_comm(pid);
}

char *
procinfo_cmdline(pid_t pid)
{
	char *s;
	size_t len, i;

	if ((s = procinfo_read(pid, "cmdline", PROCINFO_CMDLINE_MAX,
	    &len)) == NULL)
		return NULL;
	while (len > 0 && s[len - 1] == '\0')
		len--;
	for (i = 0; i < len; i++) {
		if (s[i] == '\0')
			s[i] = ' ';
	}
	s[len] = '\0';
	if (len == 0) {
		/* Kernel threads and zombies: their comm. */
		free(s);
		return procinfo_comm(pid);
	}
	return s;
}

char *
procinfo_exe(pid_t pid)
{
	char path[64], exe[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
		return NULL;
	exe[n] = '\0';
	return strdup(exe);
}

/* Fields of /proc/PID/stat after the name: *ppidp and *ttyp (tty_nr). */
static int
procinfo_stat(pid_t pid, long *ppidp, int *ttyp)
{
	char *buf, *p;
	size_t len;
	long ppid;
	int tty, ok;

	if ((buf = procinfo_read(pid, "stat", 1024, &len)) == NULL)
		return -1;
	/* The name may hold spaces and parentheses: parse after the last ) */
	ok = (p = strrchr(buf, ')')) != NULL &&
	    sscanf(p + 1, " %*c %ld %*d %*d %d", &ppid, &tty) == 2 &&
	    ppid >= 0;
	free(buf);
	if (!ok)
		return -1;
	*ppidp = ppid;
	*ttyp = tty;
	return 0;
}

pid_t
procinfo_parent(pid_t pid)
{
	long ppid;
	int tty;

	if (procinfo_stat(pid, &ppid, &tty) != 0)
		return 0;
	return (pid_t)ppid;
}

int
procinfo_is_shell(const char *name)
{
	int i;

	for (i = 0; procinfo_shells[i] != NULL; i++) {
		if (strcmp(name, procinfo_shells[i]) == 0)
			return 1;
	}
	return 0;
}

/* The /dev path of the terminal with device number dev, owned by uid. */
static char *
procinfo_tty_path(dev_t dev, uid_t uid)
{
	char path[64];
	struct stat st;

	/* Pseudo-terminals (major 136..143) are /dev/pts/N. */
	if (major(dev) >= 136 && major(dev) <= 143) {
		snprintf(path, sizeof(path), "/dev/pts/%u",
		    (major(dev) - 136) * 256 + minor(dev));
	} else if (major(dev) == 4 && minor(dev) < 64)
		snprintf(path, sizeof(path), "/dev/tty%u", minor(dev));
	else
		return NULL;
	if (stat(path, &st) != 0 || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != dev || st.st_uid != uid)
		return NULL;
	return strdup(path);
}

char *
procinfo_tty(pid_t pid, uid_t uid)
{
	long ppid;
	int depth, tty;

	for (depth = 0; pid > 1 && depth < PROCINFO_MAX_DEPTH; depth++) {
		if (procinfo_stat(pid, &ppid, &tty) != 0)
			return NULL;
		if (tty != 0)
			return procinfo_tty_path((dev_t)tty, uid);
		pid = (pid_t)ppid;
	}
	return NULL;
}

char *
procinfo_describe(pid_t pid)
{
	char *name = NULL, *pname = NULL, *exe = NULL, *s = NULL;
	char *qname = NULL, *qpname = NULL, *sexe = NULL;
	pid_t p;
	int depth, ok;

	if (pid <= 0)
		return strdup("an unknown process");
	name = procinfo_name(pid);
	exe = procinfo_exe(pid);
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
	if ((qname = sanitize_quoted(name, SANITIZE_MAX_NAME)) == NULL ||
	    (sexe = sanitize_str(exe, SANITIZE_MAX_LINE)) == NULL)
		goto out;
	if (pname != NULL && p > 1 && !procinfo_is_shell(pname)) {
		if ((qpname = sanitize_quoted(pname,
		    SANITIZE_MAX_NAME)) == NULL)
			goto out;
		ok = asprintf(&s, "%s (pid %ld, %s), started by %s (pid %ld)",
		    qname, (long)pid, sexe, qpname, (long)p);
	} else
		ok = asprintf(&s, "%s (pid %ld, %s)", qname, (long)pid, sexe);
	if (ok < 0)
		s = NULL;
 out:
	free(name);
	free(pname);
	free(exe);
	free(qname);
	free(qpname);
	free(sexe);
	return s;
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
		/* Audit records keep a bounded command line. */
		if ((ch->p[ch->n].cmdline = procinfo_cmdline(pid)) != NULL &&
		    strlen(ch->p[ch->n].cmdline) > PROCINFO_CHAIN_CMDLINE_MAX)
			ch->p[ch->n].cmdline[PROCINFO_CHAIN_CMDLINE_MAX] = '\0';
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
