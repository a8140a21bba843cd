/*
 * tokagent's client commands: small requests to a running agent (the one
 * in $SSH_AUTH_SOCK), for what ssh-add can not ask.
 */
#ifndef AGENT_CLIENT_H
#define AGENT_CLIENT_H

/*
 * client_import_resident: ask the agent to import the resident keys of the
 * security keys plugged in, or of the one at device when not NULL (it asks
 * for the PIN itself).  Prints the outcome; returns the process exit
 * status (0 imported or already loaded, 1 failed, 2 no agent).
 */
int client_import_resident(const char *device);

#endif /* AGENT_CLIENT_H */
