/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Process hardening every tokagent process applies at start. */
#ifndef COMMON_HARDEN_H
#define COMMON_HARDEN_H

/*
 * harden_process: no core dumps, not dumpable (no ptrace by the same uid),
 * fds 0-2 open (on /dev/null if they were closed).  Fatal on failure.
 */
void harden_process(void);

#endif /* COMMON_HARDEN_H */
