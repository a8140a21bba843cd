/*
 * tokagent's client commands: small requests to a running agent (the one
 * in $SSH_AUTH_SOCK), for what ssh-add can not ask.
 */
#ifndef AGENT_CLIENT_H
#define AGENT_CLIENT_H

/*
 * client_import_resident: ask the agent to import the resident keys of the
 * security keys plugged in (it asks for the PIN itself).  Prints the
 * outcome; returns the process exit status.
 */
int client_import_resident(void);

#endif /* AGENT_CLIENT_H */
