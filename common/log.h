/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Logging.  Lines say where (function) and why (the error text).  Messages
 * go to stderr when the process runs in the foreground or debug mode, else
 * to syslog.  Secrets are never logged, not even at debug level.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_QUIET = 0,
	LOG_LEVEL_FATAL,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_INFO,
	LOG_LEVEL_VERBOSE,
	LOG_LEVEL_DEBUG1,
	LOG_LEVEL_DEBUG2,
	LOG_LEVEL_DEBUG3,
};

/*
 * log_init: set the program name (copied), the most verbose level printed
 * and whether lines go to stderr (else syslog).  May be called again.
 */
void log_init(const char *progname, enum log_level level, int to_stderr);
/* log_level_get: the current level, for callers that skip costly work. */
enum log_level log_level_get(void);
/*
 * log_emit: one line at level; func names the caller (NULL: none), r an
 * error code whose text is appended when non-zero.  Used via the macros.
 */
void log_emit(enum log_level level, const char *func, int r,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* log_die: log at FATAL and exit(1) (never returns). */
void log_die(const char *func, int r, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define logit(...)	log_emit(LOG_LEVEL_INFO, NULL, 0, __VA_ARGS__)
#define verbose(...)	log_emit(LOG_LEVEL_VERBOSE, NULL, 0, __VA_ARGS__)
#define error(...)	log_emit(LOG_LEVEL_ERROR, NULL, 0, __VA_ARGS__)
#define logit_f(...)	log_emit(LOG_LEVEL_INFO, __func__, 0, __VA_ARGS__)
#define verbose_f(...)	log_emit(LOG_LEVEL_VERBOSE, __func__, 0, __VA_ARGS__)
#define error_f(...)	log_emit(LOG_LEVEL_ERROR, __func__, 0, __VA_ARGS__)
#define error_fr(r, ...) log_emit(LOG_LEVEL_ERROR, __func__, r, __VA_ARGS__)
#define debug_f(...)	log_emit(LOG_LEVEL_DEBUG1, __func__, 0, __VA_ARGS__)
#define debug_fr(r, ...) log_emit(LOG_LEVEL_DEBUG1, __func__, r, __VA_ARGS__)
#define debug2_f(...)	log_emit(LOG_LEVEL_DEBUG2, __func__, 0, __VA_ARGS__)
#define debug3_f(...)	log_emit(LOG_LEVEL_DEBUG3, __func__, 0, __VA_ARGS__)
#define fatal_f(...)	log_die(__func__, 0, __VA_ARGS__)
#define fatal_fr(r, ...) log_die(__func__, r, __VA_ARGS__)

#endif /* COMMON_LOG_H */
