/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The audit trail (see audit.h). */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/audit.h"
#include "agent/child.h"
#include "agent/conn.h"
#include "agent/idtab.h"
#include "agent/loop.h"
#include "agent/procinfo.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/key.h"
#include "common/log.h"

#define AUDIT_SUB_MAX_QUEUED	(1024 * 1024)	/* bytes a subscriber may lag */
#define AUDIT_SUB_MAX		64

/* ---- The writer thread ---------------------------------------------------- */

struct audit_line {
	char *text;		/* JSON record */
	char *summary;		/* for the journal's MESSAGE */
	char *event;
	STAILQ_ENTRY(audit_line) entry;
};

static pthread_mutex_t audit_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t audit_cv = PTHREAD_COND_INITIALIZER;
static STAILQ_HEAD(, audit_line) audit_queue =
    STAILQ_HEAD_INITIALIZER(audit_queue);
static size_t audit_queued;
static uint64_t audit_dropped;
static int audit_thread_up;
static int audit_stopping;
static pthread_t audit_thread;
/* Writer settings, under audit_mu. */
static char *audit_path;
static uint64_t audit_max_size = AUDIT_DEFAULT_MAX_SIZE;
static int audit_journal;
static int audit_fd = -1;	/* owned by the writer once it runs */
static int audit_reopen;	/* the path changed: reopen */

static void
audit_line_free(struct audit_line *l)
{
	if (l == NULL)
		return;
	free(l->text);
	free(l->summary);
	free(l->event);
	free(l);
}

/* Rotate FILE -> FILE.1 -> ... -> FILE.AUDIT_ROTATE_KEEP. */
static void
audit_rotate(const char *path)
{
	char from[PATH_MAX], to[PATH_MAX];
	int i;

	for (i = AUDIT_ROTATE_KEEP; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", path, i - 1);
		snprintf(to, sizeof(to), "%s.%d", path, i);
		(void)rename(from, to);
	}
	snprintf(to, sizeof(to), "%s.1", path);
	(void)rename(path, to);
}

static int
audit_open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY | O_NOFOLLOW, 0600);
}

/*
 * Append text and a newline to the audit file (one writev), rotating it
 * first when it would pass max.  The file's size is known from its open
 * on, so a record costs one system call.
 */
static void
audit_write_file(const char *path, uint64_t max, const char *text)
{
	static uint64_t size;	/* of audit_fd; the writer's alone */
	struct iovec iov[2];
	struct stat st;
	size_t len = strlen(text), off = 0;
	ssize_t n;

	if (audit_fd == -1) {
		if ((audit_fd = audit_open_file(path)) == -1)
			return;
		size = fstat(audit_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	}
	if (size + len + 1 > max && size > 0) {
		close(audit_fd);
		audit_rotate(path);
		size = 0;
		if ((audit_fd = audit_open_file(path)) == -1)
			return;
	}
	while (off < len + 1) {
		iov[0].iov_base = (char *)text + (off < len ? off : len);
		iov[0].iov_len = off < len ? len - off : 0;
		iov[1].iov_base = (char *)"\n";
		iov[1].iov_len = 1;
		if ((n = writev(audit_fd, iov, 2)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
		size += (uint64_t)n;
	}
}

/*
 * journald's socket; TOKAGENT_JOURNAL_SOCKET replaces it (tests listen on
 * a socket of their own to check the fields).
 */
const char *
audit_journal_path(void)
{
	const char *p = getenv("TOKAGENT_JOURNAL_SOCKET");

	return p != NULL && *p == '/' ? p : AUDIT_JOURNAL_SOCKET;
}

/* One journal field, in the native protocol's binary-safe form. */
static int
audit_journal_field(struct buf *b, const char *name, const char *value)
{
	uint64_t len = strlen(value);
	u_char le[8];
	int i;

	for (i = 0; i < 8; i++)
		le[i] = (u_char)(len >> (8 * i));
	return buf_putf(b, "%s\n", name) != 0 || buf_put(b, le, 8) != 0 ||
	    buf_put(b, value, (size_t)len) != 0 || buf_put(b, "\n", 1) != 0 ?
	    -1 : 0;
}

/* Send a record to journald (native protocol, one datagram; best effort). */
static void
audit_write_journal(const struct audit_line *l)
{
	static int fd = -1;
	struct sockaddr_un sun;
	struct buf *b;

	if (fd == -1 && (fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return;
	if ((b = buf_new()) == NULL)
		return;
	if (audit_journal_field(b, "MESSAGE", l->summary) == 0 &&
	    audit_journal_field(b, "PRIORITY", "6") == 0 &&
	    audit_journal_field(b, "SYSLOG_IDENTIFIER", "tokagent") == 0 &&
	    audit_journal_field(b, "TOKAGENT_EVENT", l->event) == 0 &&
	    audit_journal_field(b, "TOKAGENT_RECORD", l->text) == 0) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strlcpy(sun.sun_path, audit_journal_path(),
		    sizeof(sun.sun_path));
		(void)sendto(fd, buf_ptr(b), buf_len(b), MSG_NOSIGNAL,
		    (struct sockaddr *)&sun, sizeof(sun));
	}
	buf_free(b);
}

static void *
audit_writer(void *arg)
{
	struct audit_line *l;
	char *path = NULL;
	uint64_t max;
	int journal;

	(void)arg;
	pthread_mutex_lock(&audit_mu);
	for (;;) {
		while (STAILQ_EMPTY(&audit_queue) && !audit_stopping)
			pthread_cond_wait(&audit_cv, &audit_mu);
		if ((l = STAILQ_FIRST(&audit_queue)) == NULL)
			break;	/* stopping, and everything is written */
		STAILQ_REMOVE_HEAD(&audit_queue, entry);
		audit_queued--;
		if (audit_reopen) {
			if (audit_fd != -1)
				close(audit_fd);
			audit_fd = -1;
			free(path);
			path = audit_path != NULL ? strdup(audit_path) : NULL;
			audit_reopen = 0;
		}
		max = audit_max_size;
		journal = audit_journal;
		pthread_mutex_unlock(&audit_mu);
		/* The disk and the journal are waited for here, not in the loop. */
		if (path != NULL)
			audit_write_file(path, max, l->text);
		if (journal)
			audit_write_journal(l);
		audit_line_free(l);
		pthread_mutex_lock(&audit_mu);
	}
	pthread_mutex_unlock(&audit_mu);
	if (audit_fd != -1)
		close(audit_fd);
	audit_fd = -1;
	free(path);
	return NULL;
}

int
audit_configure(const char *path, uint64_t max_size, int use_journal)
{
	char *p = NULL;
	int fd, r;

	if (path != NULL) {
		/* Open it once here, so that a bad path is reported now. */
		if ((fd = audit_open_file(path)) == -1) {
			error("audit log %s: %s (keeping the previous one)",
			    path, strerror(errno));
			return TOK_ERR_SYSTEM;
		}
		close(fd);
		if ((p = strdup(path)) == NULL)
			return TOK_ERR_ALLOC;
	}
	pthread_mutex_lock(&audit_mu);
	free(audit_path);
	audit_path = p;
	audit_reopen = 1;
	audit_max_size = max_size != 0 ? max_size : AUDIT_DEFAULT_MAX_SIZE;
	audit_journal = use_journal;
	pthread_mutex_unlock(&audit_mu);
	if ((path != NULL || use_journal) && !audit_thread_up) {
		if ((r = pthread_create(&audit_thread, NULL, audit_writer,
		    NULL)) != 0) {
			error_f("pthread_create: %s", strerror(r));
			return TOK_ERR_SYSTEM;
		}
		audit_thread_up = 1;
	}
	return 0;
}

void
audit_shutdown(void)
{
	if (!audit_thread_up)
		return;
	pthread_mutex_lock(&audit_mu);
	audit_stopping = 1;
	pthread_cond_signal(&audit_cv);
	pthread_mutex_unlock(&audit_mu);
	pthread_join(audit_thread, NULL);
	audit_thread_up = 0;
	audit_stopping = 0;
}

/* ---- Recent records and subscribers -------------------------------------- */

/* Recent records and their summary lines ("TIME SUMMARY"). */
static char *audit_ring[AUDIT_RING], *audit_ring_text[AUDIT_RING];
static size_t audit_ring_next, audit_ring_count;

struct audit_sub {
	struct conn *c;
	LIST_ENTRY(audit_sub) entry;
};
static LIST_HEAD(, audit_sub) audit_subs = LIST_HEAD_INITIALIZER(audit_subs);
static size_t audit_nsubs;

/* Keep text (taken) and its summary line in the ring. */
static void
audit_ring_add(char *text, const char *summary)
{
	char *line;
	const char *t;
	size_t tlen;

	/* The record's time leads the line: "time":"...". */
	t = strstr(text, "\"time\":\"");
	tlen = t != NULL ? strcspn(t + 8, "\"") : 0;
	if (asprintf(&line, "%.*s %s", (int)tlen, t != NULL ? t + 8 : "",
	    summary) < 0) {
		free(text);
		return;
	}
	free(audit_ring[audit_ring_next]);
	free(audit_ring_text[audit_ring_next]);
	audit_ring[audit_ring_next] = text;
	audit_ring_text[audit_ring_next] = line;
	audit_ring_next = (audit_ring_next + 1) % AUDIT_RING;
	if (audit_ring_count < AUDIT_RING)
		audit_ring_count++;
}

int
audit_ring_reply(struct buf *b, uint32_t max, size_t max_bytes)
{
	size_t n, i, k, start, bytes = 0;
	int r;

	/* The newest records that fit in max_bytes, oldest first. */
	for (n = 0; n < audit_ring_count && n < max; n++) {
		k = (audit_ring_next + AUDIT_RING - n - 1) % AUDIT_RING;
		bytes += strlen(audit_ring[k]) + strlen(audit_ring_text[k]) + 8;
		if (bytes > max_bytes)
			break;
	}
	start = (audit_ring_next + AUDIT_RING - n) % AUDIT_RING;
	if ((r = buf_put_u32(b, (uint32_t)n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		k = (start + i) % AUDIT_RING;
		if ((r = buf_put_cstring(b, audit_ring[k])) != 0 ||
		    (r = buf_put_cstring(b, audit_ring_text[k])) != 0)
			return r;
	}
	return 0;
}

static void
audit_sub_cancel(void *arg)
{
	struct audit_sub *s = arg;

	LIST_REMOVE(s, entry);
	audit_nsubs--;
	free(s);
}

int
audit_subscribe(struct conn *c)
{
	struct audit_sub *s;

	if (audit_nsubs >= AUDIT_SUB_MAX)
		return TOK_ERR_NO_BUFFER_SPACE;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TOK_ERR_ALLOC;
	s->c = c;
	LIST_INSERT_HEAD(&audit_subs, s, entry);
	audit_nsubs++;
	/* The subscription is the connection's request, for its whole life. */
	conn_wait(c, s, audit_sub_cancel);
	return 0;
}

static void
audit_publish(const char *text)
{
	struct audit_sub *s;
	struct buf *m;

	if (LIST_EMPTY(&audit_subs))
		return;
	if ((m = buf_new()) == NULL ||
	    buf_put_u8(m, SSH_AGENT_EXTENSION_RESPONSE) != 0 ||
	    buf_put_cstring(m, AUDIT_EVENTS_EXT_NAME) != 0 ||
	    buf_put_cstring(m, text) != 0) {
		buf_free(m);
		return;
	}
	LIST_FOREACH(s, &audit_subs, entry)
		(void)conn_push(s->c, m, AUDIT_SUB_MAX_QUEUED);
	buf_free(m);
}

/* ---- The event hook (--event-command) ------------------------------------ */

static char *audit_hook_prog;
static pid_t audit_hook_pid = -1;
static int audit_hook_fd = -1;
static struct loop_timer *audit_hook_timer;
static struct loop_fd *audit_hook_lf;
static struct buf *audit_hook_out;
static uint64_t audit_hook_lost;

static void audit_hook_spawn(void *arg);
static void audit_hook_io(int fd, int events, void *arg);

static void
audit_hook_exited(pid_t pid, int status, void *arg)
{
	(void)pid;
	(void)arg;
	audit_hook_pid = -1;
	loop_remove_fd(audit_hook_lf);
	audit_hook_lf = NULL;
	if (audit_hook_fd != -1)
		close(audit_hook_fd);
	audit_hook_fd = -1;
	buf_reset(audit_hook_out);
	if (audit_hook_prog == NULL || !loop_running())
		return;
	error("event command %s exited (status %d); starting it again in "
	    "%d s", audit_hook_prog, status, AUDIT_HOOK_RESTART_MS / 1000);
	audit_hook_timer = loop_add_timer(AUDIT_HOOK_RESTART_MS,
	    audit_hook_spawn, NULL);
}

static void
audit_hook_spawn(void *arg)
{
	int p[2], devnull;
	pid_t pid;

	(void)arg;
	audit_hook_timer = NULL;
	if (pipe2(p, O_CLOEXEC) != 0) {
		error_f("pipe2: %s", strerror(errno));
		return;
	}
	if ((pid = fork()) == -1) {
		error_f("fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		if (dup2(p[0], 0) == -1 ||
		    (devnull = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(devnull, 1) == -1)
			_exit(127);
		closefrom(3);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", audit_hook_prog, (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	audit_hook_pid = pid;
	audit_hook_fd = p[1];
	if (fcntl(audit_hook_fd, F_SETFL, O_NONBLOCK) == -1 ||
	    child_watch(pid, audit_hook_exited, NULL) != 0 ||
	    (audit_hook_lf = loop_add_fd(audit_hook_fd, 0, audit_hook_io,
	    NULL)) == NULL)
		error_f("cannot watch the event command");
}

int
audit_hook_start(const char *prog)
{
	if ((audit_hook_prog = strdup(prog)) == NULL ||
	    (audit_hook_out = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	audit_hook_spawn(NULL);
	return 0;
}

static void
audit_hook_io(int fd, int events, void *arg)
{
	ssize_t n;

	(void)arg;
	if (events & LOOP_WRITE) {
		n = write(fd, buf_ptr(audit_hook_out), buf_len(audit_hook_out));
		if (n > 0 && buf_consume(audit_hook_out, (size_t)n) != 0)
			fatal_f("buffer accounting");
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			buf_reset(audit_hook_out);	/* the hook went away */
	}
	loop_set_events(audit_hook_lf, buf_len(audit_hook_out) > 0 ?
	    LOOP_WRITE : 0);
}

/*
 * One record to the hook, through a bounded buffer written when the pipe
 * is writable: a hook that does not keep up loses records (counted, logged
 * once), never the agent's time.
 */
static void
audit_hook_send(const char *text)
{
	if (audit_hook_fd == -1 || audit_hook_out == NULL)
		return;
	if (buf_len(audit_hook_out) > AUDIT_HOOK_MAX_QUEUED ||
	    buf_put(audit_hook_out, text, strlen(text)) != 0 ||
	    buf_put(audit_hook_out, "\n", 1) != 0) {
		if (audit_hook_lost++ == 0)
			error("event command %s is not keeping up: records "
			    "are lost", audit_hook_prog);
		return;
	}
	loop_set_events(audit_hook_lf, LOOP_WRITE);
}

/* ---- Records -------------------------------------------------------------- */

struct json *
audit_begin(const char *event)
{
	static time_t last_sec = -1;
	static char when[64];	/* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
	struct json *rec;
	struct timespec ts;
	struct tm tm;
	long ms;

	if ((rec = json_new()) == NULL)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* Records come in bursts: the date is formatted once a second. */
	if (ts.tv_sec != last_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d."
		    "000Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		    tm.tm_hour, tm.tm_min, tm.tm_sec);
		last_sec = ts.tv_sec;
	}
	ms = ts.tv_nsec / 1000000;
	when[20] = (char)('0' + ms / 100);
	when[21] = (char)('0' + ms / 10 % 10);
	when[22] = (char)('0' + ms % 10);
	json_str(rec, "time", when);
	json_str(rec, "event", event);
	return rec;
}

void
audit_key(struct json *rec, const struct identity *id)
{
	if (rec == NULL || id == NULL)
		return;
	json_obj_begin(rec, "key");
	json_str(rec, "fingerprint", id->fingerprint);
	json_str(rec, "comment", id->comment);
	json_str(rec, "type", key_type_name(id->key));
	json_str(rec, "token", id->helper == agent_soft ? "software" :
	    key_is_sk(id->key) ? "fido" : "pkcs11");
	if (id->provider != NULL)
		json_str(rec, "provider", id->provider);
	json_obj_end(rec);
}

void
audit_proc_chain(struct json *rec, const struct procinfo_chain *ch)
{
	size_t i;

	json_arr_begin(rec, "chain");
	for (i = 0; ch != NULL && i < ch->n; i++) {
		json_obj_begin(rec, NULL);
		json_int(rec, "pid", ch->p[i].pid);
		json_str(rec, "exe", ch->p[i].exe);
		json_str(rec, "cmdline", ch->p[i].cmdline);
		json_obj_end(rec);
	}
	json_arr_end(rec);
}

void
audit_client(struct json *rec, const struct conn *cc)
{
	struct conn *c = (struct conn *)cc;
	struct json *j;

	if (rec == NULL || c == NULL)
		return;
	/* The peer does not change: its record part is made once. */
	if (c->client_json == NULL && (j = json_new()) != NULL) {
		json_int(j, "uid", (int64_t)c->uid);
		json_int(j, "pid", (int64_t)c->pid);
		audit_proc_chain(j, conn_procs(c));
		if (json_finish(j, &c->client_json) != 0)
			c->client_json = NULL;
	}
	if (c->client_json != NULL)
		json_raw(rec, "client", c->client_json);
}

void
audit_commit(struct json *rec, const char *summary)
{
	struct audit_line *l = NULL;
	char *text = NULL;
	const char *event;
	int r, journal, file;

	if (rec == NULL)
		return;
	if ((r = json_finish(rec, &text)) != 0) {
		error_fr(r, "audit record");
		return;
	}
	audit_publish(text);
	audit_hook_send(text);
	pthread_mutex_lock(&audit_mu);
	journal = audit_journal;
	file = audit_path != NULL;
	pthread_mutex_unlock(&audit_mu);
	/* The event name is the second member: "event":"NAME". */
	event = strstr(text, "\"event\":\"");
	if (!journal)
		logit("audit: %s", summary != NULL ? summary : text);
	if (!file && !journal)
		goto out;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->text = strdup(text)) == NULL ||
	    (l->summary = strdup(summary != NULL ? summary : "")) == NULL ||
	    (l->event = strndup(event != NULL ? event + 9 : "?",
	    event != NULL ? strcspn(event + 9, "\"") : 1)) == NULL) {
		audit_line_free(l);
		goto out;
	}
	pthread_mutex_lock(&audit_mu);
	if (audit_queued >= AUDIT_QUEUE_MAX) {
		/* The disk is stuck: drop, count, and never wait for it. */
		if (audit_dropped++ == 0)
			error("audit log writer is behind: dropping records");
		audit_line_free(l);
	} else {
		/* The writer waits only on an empty queue. */
		if (STAILQ_EMPTY(&audit_queue))
			pthread_cond_signal(&audit_cv);
		STAILQ_INSERT_TAIL(&audit_queue, l, entry);
		audit_queued++;
	}
	pthread_mutex_unlock(&audit_mu);
 out:
	/* The ring keeps the record. */
	audit_ring_add(text, summary != NULL ? summary : "");
}

void
audit_event(const char *event, const struct conn *c,
    const struct identity *id, const char *result, const char *reason)
{
	struct json *rec;
	char *summary = NULL;

	if ((rec = audit_begin(event)) == NULL)
		return;
	audit_key(rec, id);
	audit_client(rec, c);
	if (result != NULL)
		json_str(rec, "result", result);
	if (reason != NULL)
		json_str(rec, "reason", reason);
	if (asprintf(&summary, "%s%s%s%s%s%s%s%s%s%s", event,
	    result ? " " : "", result ? result : "",
	    id ? ": key \"" : "", id ? id->comment : "", id ? "\" " : "",
	    id ? id->fingerprint : "", reason ? " (" : "", reason ? reason : "",
	    reason ? ")" : "") < 0)
		summary = NULL;
	if (summary != NULL && c != NULL) {
		char *s2;

		if (asprintf(&s2, "%s, client pid %ld", summary,
		    (long)c->pid) >= 0) {
			free(summary);
			summary = s2;
		}
	}
	audit_commit(rec, summary);
	free(summary);
}

void
audit_token(const char *event, const char *kind, const char *name,
    const char *device)
{
	struct json *rec;
	char *summary = NULL;

	if ((rec = audit_begin(event)) == NULL)
		return;
	json_obj_begin(rec, "token");
	json_str(rec, "kind", kind);
	json_str(rec, "name", name);
	if (device != NULL)
		json_str(rec, "device", device);
	json_obj_end(rec);
	if (asprintf(&summary, "%s: %s token %s%s%s%s", event, kind,
	    name != NULL ? name : "?", device ? " (" : "", device ? device : "",
	    device ? ")" : "") < 0)
		summary = NULL;
	audit_commit(rec, summary);
	free(summary);
}
