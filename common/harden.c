/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Process hardening (see harden.h). */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/harden.h"
#include "common/log.h"

void
harden_process(void)
{
	struct rlimit rl = { 0, 0 };
	int fd;

	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		fatal_f("setrlimit(RLIMIT_CORE)");
	/* Sanitizer builds need to stay dumpable to report; nothing else does. */
#ifndef TOKAGENT_SANITIZE
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		fatal_f("prctl(PR_SET_DUMPABLE)");
#endif
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}
