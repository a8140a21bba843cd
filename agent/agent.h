/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * State shared by the agent's modules: options from the command line, the
 * identity table, and the message numbers of the agent protocol
 * (draft-miller-ssh-agent / RFC 9987, OpenSSH PROTOCOL.agent).
 */
#ifndef AGENT_AGENT_H
#define AGENT_AGENT_H

#include <stdint.h>

struct idtab;
struct helper;

#define SSH_AGENTC_REMOVE_ALL_RSA_IDENTITIES	9
#define SSH_AGENTC_REQUEST_IDENTITIES		11
#define SSH_AGENT_IDENTITIES_ANSWER		12
#define SSH_AGENTC_SIGN_REQUEST			13
#define SSH_AGENT_SIGN_RESPONSE			14
#define SSH_AGENT_FAILURE			5
#define SSH_AGENT_SUCCESS			6
#define SSH_AGENTC_ADD_IDENTITY			17
#define SSH_AGENTC_REMOVE_IDENTITY		18
#define SSH_AGENTC_REMOVE_ALL_IDENTITIES	19
#define SSH_AGENTC_ADD_SMARTCARD_KEY		20
#define SSH_AGENTC_REMOVE_SMARTCARD_KEY		21
#define SSH_AGENTC_LOCK				22
#define SSH_AGENTC_UNLOCK			23
#define SSH_AGENTC_ADD_ID_CONSTRAINED		25
#define SSH_AGENTC_ADD_SMARTCARD_KEY_CONSTRAINED 26
#define SSH_AGENTC_EXTENSION			27
#define SSH_AGENT_EXTENSION_FAILURE		28
#define SSH_AGENT_EXTENSION_RESPONSE		29

#define SSH_AGENT_CONSTRAIN_LIFETIME		1
#define SSH_AGENT_CONSTRAIN_CONFIRM		2
#define SSH_AGENT_CONSTRAIN_EXTENSION		255

#define AGENT_DEFAULT_ALLOWLIST	"/usr/lib*/*,/usr/local/lib*/*"
#define AGENT_CONFIRM_TIMEOUT_MS	(120 * 1000)
#define AGENT_DEFAULT_WEBSAFE	"ssh:*"

struct agent_options {
	int software_keys;		/* accept software keys (default on) */
	int piv;			/* native PIV cards (default on; --no-piv) */
	uint32_t default_lifetime;	/* seconds, 0 = forever (-t) */
	const char *provider_allowlist;	/* -P */
	int allow_remote_providers;	/* providers from forwarded connections */
	int confirm_forwarded;		/* confirm every use through forwarding */
	uint64_t confirm_timeout_ms;	/* how long a prompt waits for the user */
	uint32_t pin_cache_s;		/* keep a FIDO PIN this long (0: no) */
	const char *notify_command;	/* touch notices (else SSH_ASKPASS) */
	int restrict_websafe;		/* the websafe rule (-O no-restrict-websafe) */
	const char *websafe_allow;	/* FIDO applications exempt from it */
	int import_resident_on_plug;	/* import a plugged token's resident keys */
	int prompt_mode;		/* AGENT_PROMPT_* (--prompt) */
	const char *pinentry_program;	/* --prompt=pinentry:PROGRAM, or NULL */
};

/* How PIN and confirm prompts are put up (--prompt). */
#define AGENT_PROMPT_AUTO	0	/* askpass with a display, else pinentry on the client's terminal */
#define AGENT_PROMPT_ASKPASS	1	/* SSH_ASKPASS only */
#define AGENT_PROMPT_PINENTRY	2	/* a pinentry program only */

extern struct agent_options agent_opts;
/* Every identity the agent offers. */
extern struct idtab *agent_idtab;
/* The software token helper, or NULL when software keys are off. */
extern struct helper *agent_soft;

#endif /* AGENT_AGENT_H */
