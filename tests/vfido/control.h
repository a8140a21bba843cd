/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The control socket's line protocol: one command per line, one reply
 * line each.
 *   touch                       approve the pending (or next) touch
 *   touch approve|deny|delay=MS|manual|never
 *                               change the touch behaviour
 *   log                         requests seen since the last "log"
 *   pending                     "yes <request>" while a touch is awaited, else "no"
 *   replug                      unplug and plug in again: every opener
 *                               is cut off, a pending touch dropped, and
 *                               the token powers up afresh
 *   quit                        exit
 */
#ifndef VFIDO_CONTROL_H
#define VFIDO_CONTROL_H

#define VFIDO_CTL_LINE_MAX	256
#define VFIDO_DELAY_MAX_MS	600000

enum vfido_touch_mode {
	VFIDO_TOUCH_APPROVE = 0,
	VFIDO_TOUCH_DENY,
	VFIDO_TOUCH_DELAY,
	VFIDO_TOUCH_MANUAL,
	VFIDO_TOUCH_NEVER,
};

enum vfido_ctl_verb {
	VFIDO_CTL_TOUCH = 1,	/* one touch */
	VFIDO_CTL_MODE,		/* new touch mode */
	VFIDO_CTL_LOG,
	VFIDO_CTL_PENDING,
	VFIDO_CTL_QUIT,
	VFIDO_CTL_REPLUG,
};

struct vfido_ctl_cmd {
	enum vfido_ctl_verb	verb;
	enum vfido_touch_mode	mode;
	int			delay_ms;
};

/*
 * vfido_touch_parse: "approve", "deny", "delay=MS", "manual" or "never".
 * Returns 0 or TOK_ERR_INVALID_ARGUMENT.
 */
int vfido_touch_parse(const char *s, enum vfido_touch_mode *modep,
    int *delayp) __attribute__((warn_unused_result));
/* vfido_ctl_parse: one command line (no newline).  0 or TOK_ERR_INVALID_FORMAT. */
int vfido_ctl_parse(const char *line, struct vfido_ctl_cmd *cmd)
    __attribute__((warn_unused_result));

#endif /* VFIDO_CONTROL_H */
