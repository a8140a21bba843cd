/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Control socket commands for tests. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "tests/vfido/control.h"

int
vfido_touch_parse(const char *s, enum vfido_touch_mode *modep, int *delayp)
{
	const char *p;
	long v = 0;

	*modep = VFIDO_TOUCH_APPROVE;
	*delayp = 0;
	if (strcmp(s, "approve") == 0)
		return 0;
	if (strcmp(s, "deny") == 0) {
		*modep = VFIDO_TOUCH_DENY;
		return 0;
	}
	if (strcmp(s, "manual") == 0) {
		*modep = VFIDO_TOUCH_MANUAL;
		return 0;
	}
	if (strcmp(s, "never") == 0) {
		*modep = VFIDO_TOUCH_NEVER;
		return 0;
	}
	if (strncmp(s, "delay=", 6) != 0 || s[6] == '\0')
		return TOK_ERR_INVALID_ARGUMENT;
	for (p = s + 6; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return TOK_ERR_INVALID_ARGUMENT;
		v = v * 10 + (*p - '0');
		if (v > VFIDO_DELAY_MAX_MS)
			return TOK_ERR_INVALID_ARGUMENT;
	}
	*modep = VFIDO_TOUCH_DELAY;
	*delayp = (int)v;
	return 0;
}

int
vfido_ctl_parse(const char *line, struct vfido_ctl_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	if (strcmp(line, "touch") == 0) {
		cmd->verb = VFIDO_CTL_TOUCH;
		return 0;
	}
	if (strncmp(line, "touch ", 6) == 0) {
		if (vfido_touch_parse(line + 6, &cmd->mode,
		    &cmd->delay_ms) != 0)
			return TOK_ERR_INVALID_FORMAT;
		cmd->verb = VFIDO_CTL_MODE;
		return 0;
	}
	if (strcmp(line, "log") == 0)
		cmd->verb = VFIDO_CTL_LOG;
	else if (strcmp(line, "pending") == 0)
		cmd->verb = VFIDO_CTL_PENDING;
	else if (strcmp(line, "quit") == 0)
		cmd->verb = VFIDO_CTL_QUIT;
	else if (strcmp(line, "replug") == 0)
		cmd->verb = VFIDO_CTL_REPLUG;
	else
		return TOK_ERR_INVALID_FORMAT;
	return 0;
}
