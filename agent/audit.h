/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The audit trail: one structured record for every sign, add, remove, lock,
 * unlock, token plug and pull, PIN prompt, policy reload and refusal.
 *
 * A record is a JSON object on one line (common/json.h): "time" (UTC,
 * RFC 3339 with milliseconds), "event", then what the event is about: the
 * key ("key": fingerprint, comment, type, token), the requesting client
 * ("client": uid and the process chain with pid, exe and command line), the
 * destination or SSHSIG namespace, the constraints applied, the "result"
 * and the "reason" and "rule" of a refusal.  Never a secret: no PIN, no
 * passphrase, no data that was signed.
 *
 * Each record goes to
 *  - the audit file, when one is set (--audit-log or the policy file's
 *    audit-log), appended by a writer thread so that the event loop never
 *    waits for the disk, rotated by size (FILE.1 ... FILE.3);
 *  - the system journal with structured TOKAGENT_* fields when the agent
 *    runs in the background under systemd, else one summary line in the log
 *    (syslog in the background, stderr with -d/-D);
 *  - a ring of recent records that `tokagent audit` shows, and the clients
 *    that subscribed to events (events@tokagent).
 */
#ifndef AGENT_AUDIT_H
#define AGENT_AUDIT_H

#include <stdint.h>
#include <sys/types.h>

struct buf;
struct conn;
struct identity;
struct json;
struct procinfo_chain;

#define AUDIT_DEFAULT_MAX_SIZE	(10 * 1024 * 1024)	/* before rotation */
#define AUDIT_ROTATE_KEEP	3			/* FILE.1 .. FILE.3 */
#define AUDIT_QUEUE_MAX		4096	/* records waiting for the writer */
#define AUDIT_RING		1000	/* records `tokagent audit` shows */
#define AUDIT_REPLY_MAX_BYTES	(192 * 1024)	/* of them, in one reply */
#define AUDIT_EXT_NAME		"audit@tokagent"
#define AUDIT_EVENTS_EXT_NAME	"events@tokagent"
#define AUDIT_HOOK_RESTART_MS	(10 * 1000)
#define AUDIT_HOOK_MAX_QUEUED	(1024 * 1024)	/* bytes the hook may lag */
#define AUDIT_JOURNAL_SOCKET	"/run/systemd/journal/socket"

/*
 * audit_configure: write records to the file at path (NULL: no file) of at
 * most max_size bytes (0: AUDIT_DEFAULT_MAX_SIZE) before rotation, and to
 * the journal when use_journal is set.  May be called again (SIGHUP); a
 * file that can not be opened is logged and the previous one kept.
 * Returns 0 or an error.
 */
int audit_configure(const char *path, uint64_t max_size, int use_journal);
/*
 * audit_hook_start: run prog (--event-command) once, with every record
 * written to its standard input as one JSON line.  A hook that does not
 * keep up loses records; one that exits is started again after
 * AUDIT_HOOK_RESTART_MS.  Returns 0 or an error (logged).
 */
int audit_hook_start(const char *prog);
/* audit_journal_path: journald's native socket (see TOKAGENT_JOURNAL_SOCKET). */
const char *audit_journal_path(void);
/* audit_shutdown: write what is queued and stop the writer (at exit). */
void audit_shutdown(void);

/* audit_begin: a new record of event (e.g. "sign"), or NULL on no memory. */
struct json *audit_begin(const char *event);
/* audit_key: the "key" member for id (NULL: nothing). */
void audit_key(struct json *rec, const struct identity *id);
/* audit_client: the "client" member for connection c (NULL: nothing). */
void audit_client(struct json *rec, const struct conn *c);
/*
 * audit_commit: finish rec and send it everywhere (see above); summary is
 * the one-line text for the log (may be NULL: then the event name).
 * rec is consumed.
 */
void audit_commit(struct json *rec, const char *summary);

/*
 * audit_event: a whole record in one call: event, the client c and key id
 * when known (NULL: left out), result ("ok", "refused", "failed", or NULL)
 * and reason (NULL: none).  The summary line is made from them.
 */
void audit_event(const char *event, const struct conn *c,
    const struct identity *id, const char *result, const char *reason);

/*
 * audit_token: a token event (e.g. "token-plug", "token-pull") for the
 * token of kind ("fido", "pkcs11") named name (device: its path, or NULL).
 */
void audit_token(const char *event, const char *kind, const char *name,
    const char *device);

/*
 * audit_ring_reply: the rest of the SSH_AGENT_EXTENSION_RESPONSE for
 * audit@tokagent: uint32 count, then count * (string JSON record, string
 * "TIME SUMMARY" line), oldest first: the newest records, at most max of
 * them and about max_bytes.  Returns 0 or an error.
 */
int audit_ring_reply(struct buf *b, uint32_t max, size_t max_bytes)
    __attribute__((warn_unused_result));

/*
 * audit_subscribe: from now on, connection c receives every record as an
 * SSH_AGENT_EXTENSION_RESPONSE message holding string "events@tokagent"
 * and string record.  A subscriber that stops reading loses records (never
 * the agent's time).  The subscription is c's request in flight until c
 * closes; c reads nothing more.
 */
int audit_subscribe(struct conn *c) __attribute__((warn_unused_result));

/* audit_proc_chain: the "chain" array member for ch (for audit_client). */
void audit_proc_chain(struct json *rec, const struct procinfo_chain *ch);

#endif /* AGENT_AUDIT_H */
