/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The software token helper from the agent side (token/soft-helper.c
 * holds the private keys): its kind's ops table and its start.  Keys it
 * held are lost when it dies: the agent never holds private keys.
 */
#ifndef AGENT_HELPER_SOFT_H
#define AGENT_HELPER_SOFT_H

/*
 * helper_soft_start: start it into agent_soft (agent/agent.h), unless
 * software keys are off; fatal if it cannot run.
 */
void helper_soft_start(void);

#endif /* AGENT_HELPER_SOFT_H */
