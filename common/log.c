/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Logging to stderr or syslog, with the caller's name and error text. */
#include "config.h"

#include <sys/types.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/sanitize.h"

static char log_progname[64] = "tokagent";
static enum log_level log_level = LOG_LEVEL_INFO;
static int log_stderr = 1;

void
log_init(const char *progname, enum log_level level, int to_stderr)
{
	if (progname != NULL)
		strlcpy(log_progname, progname, sizeof(log_progname));
	log_level = level;
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog(log_progname, LOG_PID, LOG_AUTH);
}

enum log_level
log_level_get(void)
{
	return log_level;
}

static void
log_vemit(enum log_level level, const char *func, int r, const char *fmt,
    va_list ap)
{
	char msg[1024], line[1200], *clean;
	const char *out;
	size_t i;
	int saved_errno = errno, prio;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	errno = saved_errno;
	snprintf(line, sizeof(line), "%s%s%s%s%s", func ? func : "",
	    func ? ": " : "", msg, r ? ": " : "", r ? tok_strerror(r) : "");
	/*
	 * Log lines carry peer text (names, comments, helper details): one
	 * line each, control bytes escaped, so none can forge another.
	 * Without memory for that, the control bytes alone are replaced.
	 */
	if ((clean = sanitize_mem(line, strlen(line), sizeof(line), 0)) !=
	    NULL)
		out = clean;
	else {
		for (i = 0; line[i] != '\0'; i++) {
			if ((u_char)line[i] < 0x20 || line[i] == 0x7f)
				line[i] = '?';
		}
		out = line;
	}
	if (log_stderr) {
		fprintf(stderr, "%s[%ld]: %s\n", log_progname, (long)getpid(),
		    out);
	} else {
		switch (level) {
		case LOG_LEVEL_FATAL:
			prio = LOG_CRIT;
			break;
		case LOG_LEVEL_ERROR:
			prio = LOG_ERR;
			break;
		case LOG_LEVEL_INFO:
			prio = LOG_INFO;
			break;
		default:
			prio = LOG_DEBUG;
			break;
		}
		syslog(prio, "%s", out);
	}
	free(clean);
	errno = saved_errno;
}

void
log_emit(enum log_level level, const char *func, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, func, r, fmt, ap);
	va_end(ap);
}

void
log_die(const char *func, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_FATAL, func, r, fmt, ap);
	va_end(ap);
	_exit(1);
}
