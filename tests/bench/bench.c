/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * bench: tokagent against OpenSSH's ssh-agent, same machine, same run.
 *
 * Starts both agents on private sockets (tokagent from the build tree,
 * /usr/bin/ssh-agent), loads keys made with ssh-keygen (and, for the
 * 10,000-key scenario, Ed25519 keys made here with OpenSSL and added with
 * ADD_IDENTITY), speaks the agent protocol directly and prints, per
 * scenario, ops/s, p50 and p99 for each agent and the ratio.
 *
 * Hardware-key scenarios use real stacks with no hardware: a private SoftHSM2
 * token (PKCS#11, added with ssh-add -s to both agents), the virtual FIDO2
 * authenticator tests/vfido/vfido with an ed25519-sk key enrolled through
 * the build tree's sk/.libs/tokagent-sk.so (ssh-agent uses it as its
 * SecurityKeyProvider, through ssh-sk-helper), and destination-constrained
 * keys signing over a connection bound with session-bind@openssh.com to a
 * host key made here.  A scenario whose stack is missing says so in its
 * note instead of failing the bench.
 *
 * Hostile neighbours: list latency while another process floods slow
 * signatures, pipelines lists without reading, or holds 1,000 idle
 * connections; listing with 10,000 and 50,000 keys against 10.
 * ML-DSA hybrid keys (ssh-mldsa44-ed25519@openssh.com) need OpenSSH 10: the
 * sign-mldsa44 scenario runs tokagent against OpenSSH 10.5's own ssh-agent
 * ($OPENSSH10_BIN/ssh-agent, or --ssh-agent-10 PATH), with the key made by
 * its ssh-keygen and added by its ssh-add; its ssh-agent column is that
 * agent's.
 * idle-cpu: with two vfido tokens plugged and a key of each loaded, the CPU
 * time and wakeups of each agent and all its processes while nobody speaks
 * to it for --idle-seconds (default 60; see sc_idle_cpu).
 *
 * usage: bench [--duration SECONDS] [--scenario NAME]
 *	[--agent-only tokagent|ssh-agent] [--tokagent PATH] [--ssh-agent PATH]
 *	[--ssh-agent-10 PATH] [--idle-seconds N] [--list]
 * Every scenario is bounded in time: no read waits more than a few
 * seconds, so an agent that blocks (OpenSSH during a confirm prompt) is
 * reported as blocked instead of hanging the bench.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/buf.h"
#include "common/err.h"
#include "tests/integ/agentio.h"

#define BENCH_NAGENTS		3	/* tokagent, ssh-agent, OpenSSH 10's */
#define BENCH_OSSH10		2	/* index of OpenSSH 10's agent */
#define BENCH_IO_TIMEOUT_MS	3000
#define BENCH_MAX_SAMPLES	(2 * 1024 * 1024)
#define BENCH_MANY_KEYS		10000
#define BENCH_NCONN		1000
#define BENCH_CONFIRM_SLEEP	2	/* seconds the askpass waits */
#define BENCH_ADD_BUDGET_S	10	/* adding the 10,000 keys may take */
#define BENCH_TOUCH_DELAY_MS	2000	/* vfido's touch delay, pending touch */
#define BENCH_P11_PIN		"123456"
#define BENCH_P11_MODULE	"/usr/lib/softhsm/libsofthsm2.so"
#define BENCH_DEST_HOST		"bench-host"
#define BENCH_DEST_USER		"bench"
#define BENCH_HOSTBOUND		"publickey-hostbound-v00@openssh.com"

struct bench_agent {
	const char *name;
	char path[PATH_MAX];
	char sock[PATH_MAX];
	char log[PATH_MAX];
	pid_t pid;
	int up;
};

struct bench_result {
	int ok;			/* 0: scenario could not run */
	double ops;		/* operations per second */
	double p50_ms, p99_ms, max_ms;
	char note[512];
	double idle_cpu_ms;	/* idle-cpu: CPU in the window */
	unsigned long long idle_vcsw;	/* and voluntary switches */
};

struct bench_keys {
	char dir[128];		/* short: socket paths are built from it */
	char ed[10][PATH_MAX];	/* ed25519 private key files */
	char ecdsa[PATH_MAX];
	char rsa[PATH_MAX];
	char confirm[PATH_MAX];
	struct buf *edblob;	/* public blob of ed[0] */
	struct buf *ecdsablob;
	struct buf *rsablob;
	struct buf *confirmblob;

	/* SoftHSM (PKCS#11) */
	int p11_ok;
	char p11_why[96];	/* why not, when !p11_ok */
	char pinpass[PATH_MAX];	/* askpass printing the token PIN */

	/* vfido (FIDO2) */
	int sk_ok;
	char sk_why[96];
	char sk_provider[PATH_MAX];
	char sk_key[PATH_MAX];
	char vfido_ctl[PATH_MAX];
	pid_t vfido_pid;
	struct buf *skblob;
	/* a second vfido and key on it (idle-cpu) */
	int sk2_ok;
	char sk2_key[PATH_MAX];
	char vfido2_ctl[PATH_MAX];
	pid_t vfido2_pid;
	struct buf *sk2blob;
	char sk_devs_one[PATH_MAX + 8];		/* the first token */
	char sk_devs_both[2 * PATH_MAX + 16];	/* both */

	/* destination constraints */
	int dest_ok;
	char dest_why[96];
	char known_hosts[PATH_MAX];
	struct buf *bindmsg;	/* a whole session-bind extension request */
	struct buf *sid;	/* the session id bound */
	struct buf *hostblob;	/* the host key's public blob */
	struct buf *ed1blob;	/* public blob of ed[1], the constrained key */

	/* ML-DSA-44 + Ed25519 (OpenSSH 10 tools) */
	int mldsa_ok;
	char mldsa_why[96];
	char mldsa[PATH_MAX];
	struct buf *mldsablob;
};

static double duration_s = 2.0;
static struct bench_agent agents[BENCH_NAGENTS] = {
	{ .name = "tokagent" },
	{ .name = "ssh-agent" },
	{ .name = "ssh-agent-10" },
};
static char ossh10_bin[PATH_MAX];	/* OpenSSH 10 tools, or empty */
static volatile sig_atomic_t interrupted;
static char builddir[PATH_MAX];		/* the tokagent build tree */
static char allowlist[2 * PATH_MAX];	/* -P for both agents */
static volatile pid_t vfido_pid;	/* for the signal handler */
static volatile pid_t vfido2_pid;
static int idle_seconds = 60;		/* idle-cpu's window */
static const char *agent_dir;		/* for restarting an agent */
static const char *agent_askpass;

/* --- samples ----------------------------------------------------------- */

struct samples {
	uint64_t *ns;
	size_t n, cap;
};

static int
samples_add(struct samples *s, uint64_t ns)
{
	uint64_t *p;
	size_t ncap;

	if (s->n == s->cap) {
		if (s->cap >= BENCH_MAX_SAMPLES)
			return 0;	/* enough: keep the first ones */
		ncap = s->cap == 0 ? 4096 : s->cap * 2;
		if ((p = realloc(s->ns, ncap * sizeof(*p))) == NULL)
			return TOK_ERR_ALLOC;
		s->ns = p;
		s->cap = ncap;
	}
	s->ns[s->n++] = ns;
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Fill p50/p99 of res from s (sorted in place). */
static void
samples_summarise(struct samples *s, struct bench_result *res)
{
	size_t i50, i99;

	if (s->n == 0)
		return;
	qsort(s->ns, s->n, sizeof(*s->ns), cmp_u64);
	i50 = (s->n - 1) * 50 / 100;
	i99 = (s->n - 1) * 99 / 100;
	res->p50_ms = (double)s->ns[i50] / 1e6;
	res->p99_ms = (double)s->ns[i99] / 1e6;
	res->max_ms = (double)s->ns[s->n - 1] / 1e6;
}

static void
samples_free(struct samples *s)
{
	free(s->ns);
	memset(s, 0, sizeof(*s));
}

/* --- processes --------------------------------------------------------- */

static void
kill_agents(void)
{
	int i;

	for (i = 0; i < BENCH_NAGENTS; i++) {
		if (agents[i].pid > 0) {
			kill(agents[i].pid, SIGTERM);
			waitpid(agents[i].pid, NULL, 0);
			agents[i].pid = 0;
		}
	}
}

static void
on_signal(int sig)
{
	int i;

	(void)sig;
	interrupted = 1;
	for (i = 0; i < BENCH_NAGENTS; i++) {
		if (agents[i].pid > 0)
			kill(agents[i].pid, SIGTERM);
	}
	if (vfido_pid > 0)
		kill(vfido_pid, SIGTERM);
	if (vfido2_pid > 0)
		kill(vfido2_pid, SIGTERM);
	_exit(130);
}

/*
 * Run argv with SSH_AUTH_SOCK=sock (may be NULL) and, when askpass is not
 * NULL, SSH_ASKPASS=askpass forced; stdout/stderr to /dev/null; 0 when it
 * exits 0.
 */
static int
run_askpass(char *const argv[], const char *sock, const char *askpass)
{
	pid_t pid;
	int status, fd;

	if ((pid = fork()) == -1)
		return TOK_ERR_SYSTEM;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (sock != NULL)
			setenv("SSH_AUTH_SOCK", sock, 1);
		if (askpass != NULL) {
			setenv("SSH_ASKPASS", askpass, 1);
			setenv("SSH_ASKPASS_REQUIRE", "force", 1);
			setenv("DISPLAY", ":0", 0);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return TOK_ERR_SYSTEM;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 :
	    TOK_ERR_INTERNAL;
}

static int
run_quiet(char *const argv[], const char *sock)
{
	return run_askpass(argv, sock, NULL);
}

static int
wait_socket(const char *path, pid_t pid, int timeout_ms)
{
	struct stat st;
	int waited = 0, fd;

	while (waited < timeout_ms) {
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    aio_connect(path, &fd) == 0) {
			close(fd);
			return 0;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return TOK_ERR_HELPER_DIED;
		usleep(20000);
		waited += 20;
	}
	return TOK_ERR_TIMEOUT;
}

static int
start_agent(struct bench_agent *a, const char *dir, const char *askpass)
{
	char tag[64];
	pid_t pid;
	int fd;

	snprintf(tag, sizeof(tag), "%s", a->name);
	if (snprintf(a->sock, sizeof(a->sock), "%s/%s.sock", dir,
	    tag) >= (int)sizeof(a->sock) ||
	    snprintf(a->log, sizeof(a->log), "%s/%s.log", dir,
	    tag) >= (int)sizeof(a->log))
		return TOK_ERR_INVALID_ARGUMENT;
	if (access(a->path, X_OK) != 0)
		return TOK_ERR_SYSTEM;
	if ((pid = fork()) == -1)
		return TOK_ERR_SYSTEM;
	if (pid == 0) {
		setpgid(0, 0);
		if ((fd = open(a->log, O_WRONLY | O_CREAT | O_TRUNC,
		    0600)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			dup2(fd, 0);
		setenv("SSH_ASKPASS", askpass, 1);
		setenv("SSH_ASKPASS_REQUIRE", "force", 1);
		setenv("DISPLAY", ":0", 0);
		unsetenv("SSH_AUTH_SOCK");
		execl(a->path, a->path, "-D", "-a", a->sock, "-P", allowlist,
		    (char *)NULL);
		_exit(127);
	}
	a->pid = pid;
	if (wait_socket(a->sock, pid, 5000) != 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		a->pid = 0;
		return TOK_ERR_HELPER_DIED;
	}
	a->up = 1;
	return 0;
}

/* --- protocol helpers -------------------------------------------------- */

/* One request on fd; the reply type must be want. */
static int
simple_request(int fd, const struct buf *msg, uint8_t want, int timeout_ms)
{
	struct buf *reply = NULL;
	uint8_t type;
	int r;

	if ((r = aio_request(fd, msg, timeout_ms, &reply)) != 0)
		goto out;
	if ((r = buf_get_u8(reply, &type)) != 0)
		goto out;
	r = type == want ? 0 : TOK_ERR_PROTOCOL;
 out:
	buf_free(reply);
	return r;
}

static int
remove_all(const char *sock)
{
	struct buf *msg = NULL;
	int fd = -1, r = TOK_ERR_ALLOC;

	if ((msg = buf_new()) == NULL)
		goto out;
	if ((r = buf_put_u8(msg, AIO_REMOVE_ALL)) != 0 ||
	    (r = aio_connect(sock, &fd)) != 0 ||
	    (r = simple_request(fd, msg, AIO_SUCCESS,
	    BENCH_IO_TIMEOUT_MS)) != 0)
		goto out;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	buf_free(msg);
	return r;
}

static struct buf *
make_sign_request(const struct buf *blob, uint32_t flags)
{
	struct buf *msg;
	u_char data[128];

	/* about the size of a userauth request */
	memset(data, 0xa5, sizeof(data));
	if ((msg = buf_new()) == NULL)
		return NULL;
	if (buf_put_u8(msg, AIO_SIGN_REQUEST) != 0 ||
	    buf_put_stringb(msg, blob) != 0 ||
	    buf_put_string(msg, data, sizeof(data)) != 0 ||
	    buf_put_u32(msg, flags) != 0) {
		buf_free(msg);
		return NULL;
	}
	return msg;
}

/* Read the public blob (base64 field 2) of a .pub file. */
static int
load_pub_blob(const char *privpath, struct buf **blobp)
{
	char path[PATH_MAX + 8], line[16384], *sp, *ep;
	struct buf *blob = NULL;
	FILE *f = NULL;
	u_char *dp;
	int n, r = TOK_ERR_INVALID_FORMAT;

	*blobp = NULL;
	snprintf(path, sizeof(path), "%s.pub", privpath);
	if ((f = fopen(path, "r")) == NULL) {
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	if (fgets(line, sizeof(line), f) == NULL ||
	    (sp = strchr(line, ' ')) == NULL)
		goto out;
	sp++;
	if ((ep = strchr(sp, ' ')) == NULL && (ep = strchr(sp, '\n')) == NULL)
		goto out;
	*ep = '\0';
	if ((blob = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_reserve(blob, strlen(sp), &dp)) != 0)
		goto out;
	if ((n = EVP_DecodeBlock(dp, (u_char *)sp, (int)strlen(sp))) < 0) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	/* EVP_DecodeBlock counts '=' padding as zero bytes */
	if ((r = buf_consume_end(blob, strlen(sp) - (size_t)n)) != 0)
		goto out;
	while (ep > sp && ep[-1] == '=') {
		if ((r = buf_consume_end(blob, 1)) != 0)
			goto out;
		ep--;
	}
	*blobp = blob;
	blob = NULL;
	r = 0;
 out:
	if (f != NULL)
		fclose(f);
	buf_free(blob);
	return r;
}

static int
ssh_add(const char *sock, const char *opt, const char *keyfile)
{
	char *argv[4];
	int i = 0;

	argv[i++] = (char *)"ssh-add";
	if (opt != NULL)
		argv[i++] = (char *)opt;
	argv[i++] = (char *)keyfile;
	argv[i] = NULL;
	return run_quiet(argv, sock);
}

static int
keygen(const char *type, const char *bits, const char *path)
{
	char *argv[] = { (char *)"ssh-keygen", (char *)"-q", (char *)"-t",
	    (char *)type, (char *)"-b", (char *)bits, (char *)"-N",
	    (char *)"", (char *)"-C", (char *)path, (char *)"-f",
	    (char *)path, NULL };

	if (bits == NULL) {
		argv[4] = (char *)"-N";
		argv[5] = (char *)"";
		argv[6] = (char *)"-C";
		argv[7] = (char *)path;
		argv[8] = (char *)"-f";
		argv[9] = (char *)path;
		argv[10] = NULL;
	}
	return run_quiet(argv, NULL);
}

static int
make_keys(struct bench_keys *k)
{
	int i, r;

	for (i = 0; i < 10; i++) {
		snprintf(k->ed[i], sizeof(k->ed[i]), "%s/ed%d", k->dir, i);
		if ((r = keygen("ed25519", NULL, k->ed[i])) != 0)
			return r;
	}
	snprintf(k->ecdsa, sizeof(k->ecdsa), "%s/ecdsa", k->dir);
	snprintf(k->rsa, sizeof(k->rsa), "%s/rsa", k->dir);
	snprintf(k->confirm, sizeof(k->confirm), "%s/confirm", k->dir);
	if ((r = keygen("ecdsa", "256", k->ecdsa)) != 0 ||
	    (r = keygen("rsa", "2048", k->rsa)) != 0 ||
	    (r = keygen("ed25519", NULL, k->confirm)) != 0)
		return r;
	if ((r = load_pub_blob(k->ed[0], &k->edblob)) != 0 ||
	    (r = load_pub_blob(k->ecdsa, &k->ecdsablob)) != 0 ||
	    (r = load_pub_blob(k->rsa, &k->rsablob)) != 0 ||
	    (r = load_pub_blob(k->confirm, &k->confirmblob)) != 0)
		return r;
	return 0;
}

static int
load_ten(const char *sock, const struct bench_keys *k)
{
	int i, r;

	for (i = 0; i < 10; i++) {
		if ((r = ssh_add(sock, NULL, k->ed[i])) != 0)
			return r;
	}
	return 0;
}

/* --- the request loop, one or more clients ----------------------------- */

struct loop_arg {
	const char *sock;
	const struct buf *prelude;	/* sent once per connection, or NULL */
	const struct buf *msg;
	uint8_t want;
	uint64_t until;
	struct samples s;
	size_t errors;
	int r;
};

/* Connect to la->sock and send la->prelude (SUCCESS expected) if any. */
static int
loop_connect(const struct loop_arg *la, int *fdp)
{
	int fd = -1, r;

	*fdp = -1;
	if ((r = aio_connect(la->sock, &fd)) != 0)
		return r;
	if (la->prelude != NULL && (r = simple_request(fd, la->prelude,
	    AIO_SUCCESS, BENCH_IO_TIMEOUT_MS)) != 0) {
		close(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}

static void *
loop_thread(void *v)
{
	struct loop_arg *la = v;
	uint64_t t0;
	int fd = -1;

	la->r = 0;
	if ((la->r = loop_connect(la, &fd)) != 0)
		return NULL;
	while (!interrupted && aio_now_ns() < la->until) {
		t0 = aio_now_ns();
		if (simple_request(fd, la->msg, la->want,
		    BENCH_IO_TIMEOUT_MS) != 0) {
			la->errors++;
			/* a broken connection: reconnect once, else stop */
			close(fd);
			if (loop_connect(la, &fd) != 0) {
				fd = -1;
				la->r = TOK_ERR_SYSTEM;
				break;
			}
			if (la->errors > 100)
				break;
			continue;
		}
		if ((la->r = samples_add(&la->s, aio_now_ns() - t0)) != 0)
			break;
	}
	if (fd != -1)
		close(fd);
	return NULL;
}

/*
 * nclients clients send msg as fast as they can for duration_s, each on its
 * own connection, which first gets prelude (if not NULL, SUCCESS expected).
 */
static void
request_loop_pre(const char *sock, const struct buf *prelude,
    const struct buf *msg, uint8_t want, int nclients,
    struct bench_result *res)
{
	struct loop_arg la[8];
	pthread_t th[8];
	struct samples all;
	uint64_t start, elapsed;
	size_t errors = 0;
	int i, j;

	memset(&all, 0, sizeof(all));
	memset(la, 0, sizeof(la));
	start = aio_now_ns();
	for (i = 0; i < nclients; i++) {
		la[i].sock = sock;
		la[i].prelude = prelude;
		la[i].msg = msg;
		la[i].want = want;
		la[i].until = start + (uint64_t)(duration_s * 1e9);
		if (pthread_create(&th[i], NULL, loop_thread, &la[i]) != 0) {
			snprintf(res->note, sizeof(res->note),
			    "pthread_create failed");
			nclients = i;
			break;
		}
	}
	for (i = 0; i < nclients; i++)
		pthread_join(th[i], NULL);
	elapsed = aio_now_ns() - start;
	for (i = 0; i < nclients; i++) {
		errors += la[i].errors;
		for (j = 0; j < (int)la[i].s.n; j++) {
			if (samples_add(&all, la[i].s.ns[j]) != 0)
				break;
		}
		samples_free(&la[i].s);
	}
	if (all.n > 0) {
		res->ok = 1;
		res->ops = (double)all.n / ((double)elapsed / 1e9);
		samples_summarise(&all, res);
	}
	if (errors > 0)
		snprintf(res->note, sizeof(res->note), "%zu errors", errors);
	else if (all.n == 0 && la[0].r != 0)
		snprintf(res->note, sizeof(res->note), "connect: %s",
		    tok_strerror(la[0].r));
	samples_free(&all);
}

static void
request_loop(const char *sock, const struct buf *msg, uint8_t want,
    int nclients, struct bench_result *res)
{
	request_loop_pre(sock, NULL, msg, want, nclients, res);
}

/* --- scenarios --------------------------------------------------------- */

static void
sc_list10(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	struct buf *msg;

	if (remove_all(a->sock) != 0 || load_ten(a->sock, k) != 0) {
		snprintf(res->note, sizeof(res->note), "loading keys failed");
		return;
	}
	if ((msg = buf_new()) == NULL ||
	    buf_put_u8(msg, AIO_REQUEST_IDENTITIES) != 0) {
		buf_free(msg);
		return;
	}
	request_loop(a->sock, msg, AIO_IDENTITIES_ANSWER, 1, res);
	buf_free(msg);
}

static void
sign_common(struct bench_agent *a, const char *keyfile,
    const struct buf *blob, uint32_t flags, int nclients,
    struct bench_result *res)
{
	struct buf *msg;

	if (remove_all(a->sock) != 0 || ssh_add(a->sock, NULL, keyfile) != 0) {
		snprintf(res->note, sizeof(res->note), "loading keys failed");
		return;
	}
	if ((msg = make_sign_request(blob, flags)) == NULL)
		return;
	request_loop(a->sock, msg, AIO_SIGN_RESPONSE, nclients, res);
	buf_free(msg);
}

static void
sc_sign_ed25519(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	sign_common(a, k->ed[0], k->edblob, 0, 1, res);
}

static void
sc_sign_ed25519_c2(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	sign_common(a, k->ed[0], k->edblob, 0, 2, res);
}

static void
sc_sign_ed25519_c4(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	sign_common(a, k->ed[0], k->edblob, 0, 4, res);
}

/*
 * tokagent with a policy file ($XDG_CONFIG_HOME/tokagent/policy, read on
 * SIGHUP) of text for the length of one run; ssh-agent signs as usual.
 */
static void
sign_with_policy(struct bench_agent *a, const struct bench_keys *k,
    const char *text, struct bench_result *res)
{
	char dir[sizeof(k->dir) + 16], path[sizeof(dir) + 16];
	FILE *f;

	if (strcmp(a->name, "tokagent") != 0) {
		sign_common(a, k->ed[0], k->edblob, 0, 1, res);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/tokagent", k->dir);
	snprintf(path, sizeof(path), "%s/policy", dir);
	(void)mkdir(dir, 0700);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0) {
		snprintf(res->note, sizeof(res->note), "cannot write the "
		    "policy file");
		return;
	}
	kill(a->pid, SIGHUP);
	usleep(300 * 1000);	/* the reload is logged; a third of a second is ample */
	sign_common(a, k->ed[0], k->edblob, 0, 1, res);
	unlink(path);
	kill(a->pid, SIGHUP);
	usleep(300 * 1000);
}

/* 1,000 rules, none naming the key but the last: every one is looked at. */
static void
sc_sign_policy1000(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	size_t cap = 1000 * 64, len = 0;
	char *text;
	int i;

	if ((text = malloc(cap)) == NULL)
		return;
	for (i = 0; i < 999; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "key comment=nobody-%d-*\n\tdeny\n", i);
	snprintf(text + len, cap - len, "key all\n\tmax-rate 10000/1s\n");
	sign_with_policy(a, k, text, res);
	free(text);
}

/* The audit trail to a file: one JSON record per signature. */
static void
sc_sign_audit(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	char text[sizeof(k->dir) + 32];

	snprintf(text, sizeof(text), "audit-log %s/audit.json\n", k->dir);
	sign_with_policy(a, k, text, res);
}

static void
sc_sign_ecdsa(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	sign_common(a, k->ecdsa, k->ecdsablob, 0, 1, res);
}

static void
sc_sign_ecdsa_c4(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	sign_common(a, k->ecdsa, k->ecdsablob, 0, 4, res);
}

static void
sc_sign_rsa(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	sign_common(a, k->rsa, k->rsablob, 0x04, 1, res);
}

static void
sc_sign_rsa_c4(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	sign_common(a, k->rsa, k->rsablob, 0x04, 4, res);
}

struct confirm_arg {
	const char *sock;
	const struct buf *msg;
	int r;
	uint64_t done;
};

static void *
confirm_thread(void *v)
{
	struct confirm_arg *ca = v;
	int fd;

	ca->r = aio_connect(ca->sock, &fd);
	if (ca->r == 0) {
		ca->r = simple_request(fd, ca->msg, AIO_SIGN_RESPONSE,
		    (BENCH_CONFIRM_SLEEP + 3) * 1000);
		close(fd);
	}
	ca->done = aio_now_ns();
	return NULL;
}

/*
 * List latency from a second client while a first one waits on a confirm
 * prompt (askpass sleeps BENCH_CONFIRM_SLEEP s, then says yes).
 */
static void list_while_pending(const char *, const struct buf *,
    struct bench_result *);

static void
sc_list_during_confirm(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	struct buf *sign;

	if (remove_all(a->sock) != 0 || load_ten(a->sock, k) != 0 ||
	    ssh_add(a->sock, "-c", k->confirm) != 0) {
		snprintf(res->note, sizeof(res->note), "loading keys failed");
		return;
	}
	if ((sign = make_sign_request(k->confirmblob, 0)) == NULL)
		return;
	list_while_pending(a->sock, sign, res);
	buf_free(sign);
}

/*
 * List latency on one connection while a second one has sign sent, which
 * takes about BENCH_CONFIRM_SLEEP seconds (a confirm prompt or a touch).
 */
static void
list_while_pending(const char *sock, const struct buf *sign,
    struct bench_result *res)
{
	struct confirm_arg ca;
	struct samples s;
	struct buf *list = NULL;
	pthread_t th;
	uint64_t start, t0, until, maxns = 0;
	size_t blocked = 0;
	int fd = -1, r;

	memset(&s, 0, sizeof(s));
	memset(&ca, 0, sizeof(ca));
	if ((list = buf_new()) == NULL ||
	    buf_put_u8(list, AIO_REQUEST_IDENTITIES) != 0)
		goto out;
	if (aio_connect(sock, &fd) != 0)
		goto out;
	ca.sock = sock;
	ca.msg = sign;
	start = aio_now_ns();
	if (pthread_create(&th, NULL, confirm_thread, &ca) != 0)
		goto out;
	usleep(200000);	/* let the prompt start */
	until = start + (uint64_t)(BENCH_CONFIRM_SLEEP * 1e9) - 100000000ULL;
	while (!interrupted && aio_now_ns() < until) {
		t0 = aio_now_ns();
		r = simple_request(fd, list, AIO_IDENTITIES_ANSWER,
		    BENCH_IO_TIMEOUT_MS);
		if (r != 0) {
			blocked++;
			maxns = (uint64_t)BENCH_IO_TIMEOUT_MS * 1000000ULL;
			break;
		}
		t0 = aio_now_ns() - t0;
		if (t0 > maxns)
			maxns = t0;
		if (samples_add(&s, t0) != 0)
			break;
		if (ca.done != 0)
			break;	/* the prompt is over: nothing to measure */
	}
	pthread_join(th, NULL);
	if (s.n > 0 || blocked) {
		res->ok = 1;
		res->ops = (double)s.n / ((double)(aio_now_ns() - start) / 1e9);
		samples_summarise(&s, res);
		if (blocked)
			res->p50_ms = res->p99_ms = (double)maxns / 1e6;
	}
	snprintf(res->note, sizeof(res->note), "%s%zu lists, max %.1f ms%s",
	    maxns > 1000000000ULL ? "BLOCKED " : "", s.n,
	    (double)maxns / 1e6, ca.r == 0 ? "" : ", pending sign failed");
 out:
	if (fd != -1)
		close(fd);
	buf_free(list);
	samples_free(&s);
}

/*
 * ADD_IDENTITY for up to n fresh Ed25519 keys on one connection, for at most
 * BENCH_ADD_BUDGET_S seconds (OpenSSH's agent adds in O(n) each); *addedp
 * gets how many were added.
 */
static int add_many_keys_budget(const char *, int, int, int *);

static int
add_many_keys(const char *sock, int n, int *addedp)
{
	return add_many_keys_budget(sock, n, BENCH_ADD_BUDGET_S, addedp);
}

/* As add_many_keys, within budget_s seconds. */
static int
add_many_keys_budget(const char *sock, int n, int budget_s, int *addedp)
{
	uint64_t deadline = aio_now_ns() + (uint64_t)budget_s * 1000000000ULL;
	struct buf *msg = NULL;
	EVP_PKEY *pkey = NULL;
	u_char pub[32], priv[64];
	char comment[32];
	size_t len;
	int fd = -1, i, r = TOK_ERR_INTERNAL;

	*addedp = 0;
	if ((r = aio_connect(sock, &fd)) != 0)
		goto out;
	if ((msg = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < n && !interrupted && aio_now_ns() < deadline; i++) {
		len = 32;
		if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
		    EVP_PKEY_get_raw_private_key(pkey, priv, &len) != 1 ||
		    EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1) {
			r = TOK_ERR_LIBCRYPTO;
			goto out;
		}
		EVP_PKEY_free(pkey);
		pkey = NULL;
		memcpy(priv + 32, pub, 32);
		snprintf(comment, sizeof(comment), "bench-%d", i);
		buf_reset(msg);
		if ((r = buf_put_u8(msg, AIO_ADD_IDENTITY)) != 0 ||
		    (r = buf_put_cstring(msg, "ssh-ed25519")) != 0 ||
		    (r = buf_put_string(msg, pub, sizeof(pub))) != 0 ||
		    (r = buf_put_string(msg, priv, sizeof(priv))) != 0 ||
		    (r = buf_put_cstring(msg, comment)) != 0 ||
		    (r = simple_request(fd, msg, AIO_SUCCESS,
		    BENCH_IO_TIMEOUT_MS)) != 0)
			goto out;
		(*addedp)++;
	}
	r = 0;
 out:
	explicit_bzero(priv, sizeof(priv));
	EVP_PKEY_free(pkey);
	if (fd != -1)
		close(fd);
	buf_free(msg);
	return r;
}

/* Sign latency with 10,000 keys loaded, compared with 10 keys. */
static void
sc_sign_many_keys(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	struct bench_result few;
	struct buf *msg = NULL;
	uint64_t t0;
	int r, added;

	memset(&few, 0, sizeof(few));
	if ((msg = make_sign_request(k->edblob, 0)) == NULL)
		return;
	/* ed[0] goes in after the 10,000 others: a linear search pays fully */
	if (remove_all(a->sock) != 0 || load_ten(a->sock, k) != 0) {
		snprintf(res->note, sizeof(res->note), "loading keys failed");
		goto out;
	}
	request_loop(a->sock, msg, AIO_SIGN_RESPONSE, 1, &few);
	if (remove_all(a->sock) != 0) {
		snprintf(res->note, sizeof(res->note), "remove all failed");
		goto out;
	}
	t0 = aio_now_ns();
	if ((r = add_many_keys(a->sock, BENCH_MANY_KEYS, &added)) != 0 ||
	    (r = ssh_add(a->sock, NULL, k->ed[0])) != 0) {
		snprintf(res->note, sizeof(res->note),
		    "adding %d keys failed: %s", BENCH_MANY_KEYS,
		    tok_strerror(r));
		goto out;
	}
	t0 = aio_now_ns() - t0;
	request_loop(a->sock, msg, AIO_SIGN_RESPONSE, 1, res);
	if (res->ok && few.ok) {
		snprintf(res->note, sizeof(res->note),
		    "10 keys: p50 %.3f ms; %+.0f%% with %d keys, "
		    "added in %.1f s%s", few.p50_ms,
		    (res->p50_ms / few.p50_ms - 1) * 100, added + 1,
		    (double)t0 / 1e9, added < BENCH_MANY_KEYS ?
		    " (time budget hit)" : "");
	}
	(void)remove_all(a->sock);
 out:
	buf_free(msg);
}

/* 1,000 clients connected at once, one request each. */
static void
sc_many_connections(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	struct pollfd *pfd = NULL;
	struct buf *msg = NULL, *reply = NULL;
	struct samples s;
	uint64_t start, *sent = NULL, deadline;
	int *fds = NULL, i, nconn = 0, nsent = 0, nans = 0, left;
	uint8_t type;

	memset(&s, 0, sizeof(s));
	if (remove_all(a->sock) != 0 || load_ten(a->sock, k) != 0) {
		snprintf(res->note, sizeof(res->note), "loading keys failed");
		return;
	}
	if ((fds = calloc(BENCH_NCONN, sizeof(*fds))) == NULL ||
	    (sent = calloc(BENCH_NCONN, sizeof(*sent))) == NULL ||
	    (pfd = calloc(BENCH_NCONN, sizeof(*pfd))) == NULL ||
	    (msg = buf_new()) == NULL ||
	    buf_put_u8(msg, AIO_REQUEST_IDENTITIES) != 0)
		goto out;
	start = aio_now_ns();
	for (i = 0; i < BENCH_NCONN; i++) {
		if (aio_connect(a->sock, &fds[i]) != 0) {
			fds[i] = -1;
			break;
		}
		nconn++;
	}
	for (i = 0; i < nconn; i++) {
		sent[i] = aio_now_ns();
		if (aio_send_msg(fds[i], msg) == 0)
			nsent++;
	}
	/* read one reply per connection, whatever order they come in */
	deadline = aio_now_ns() + 10000000000ULL;
	left = nsent;
	while (left > 0 && aio_now_ns() < deadline && !interrupted) {
		for (i = 0; i < nconn; i++) {
			pfd[i].fd = sent[i] != 0 ? fds[i] : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)nconn, 1000) <= 0)
			continue;
		for (i = 0; i < nconn; i++) {
			if (pfd[i].revents == 0)
				continue;
			left--;
			if (aio_recv_msg(fds[i], BENCH_IO_TIMEOUT_MS,
			    &reply) == 0 && buf_get_u8(reply, &type) == 0 &&
			    type == AIO_IDENTITIES_ANSWER) {
				nans++;
				(void)samples_add(&s, aio_now_ns() - sent[i]);
			}
			buf_free(reply);
			reply = NULL;
			sent[i] = 0;
		}
	}
	res->ok = 1;
	res->ops = (double)nans / ((double)(aio_now_ns() - start) / 1e9);
	samples_summarise(&s, res);
	snprintf(res->note, sizeof(res->note),
	    "connected %d, answered %d of %d%s", nconn, nans, BENCH_NCONN,
	    nans == BENCH_NCONN ? "" : " -- DROPPED");
 out:
	for (i = 0; fds != NULL && i < nconn; i++)
		close(fds[i]);
	free(fds);
	free(sent);
	free(pfd);
	buf_free(msg);
	samples_free(&s);
}

/* --- hardware-key stacks: SoftHSM, vfido, session binding --------------- */

static int
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;
	int r = 0;

	if ((f = fopen(path, "w")) == NULL)
		return TOK_ERR_SYSTEM;
	if (fputs(text, f) == EOF)
		r = TOK_ERR_SYSTEM;
	if (fclose(f) != 0)
		r = TOK_ERR_SYSTEM;
	if (r == 0 && chmod(path, mode) != 0)
		r = TOK_ERR_SYSTEM;
	return r;
}

/* A private SoftHSM2 token "bench" with a P-256 and an RSA-2048 key. */
static int
setup_p11(struct bench_keys *k)
{
	char conf[PATH_MAX], tokdir[PATH_MAX], text[2 * PATH_MAX];
	char *init[] = { (char *)"softhsm2-util", (char *)"--init-token",
	    (char *)"--free", (char *)"--label", (char *)"bench",
	    (char *)"--pin", (char *)BENCH_P11_PIN, (char *)"--so-pin",
	    (char *)"12345678", NULL };
	char *gen[] = { (char *)"pkcs11-tool", (char *)"--module",
	    (char *)BENCH_P11_MODULE, (char *)"--token-label", (char *)"bench",
	    (char *)"--login", (char *)"--pin", (char *)BENCH_P11_PIN,
	    (char *)"--keypairgen", (char *)"--key-type", NULL, (char *)"--id",
	    NULL, (char *)"--label", NULL, NULL };

	if (access(BENCH_P11_MODULE, R_OK) != 0) {
		snprintf(k->p11_why, sizeof(k->p11_why), "no %s",
		    BENCH_P11_MODULE);
		return TOK_ERR_KEY_NOT_FOUND;
	}
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", k->dir);
	snprintf(tokdir, sizeof(tokdir), "%s/hsm", k->dir);
	snprintf(text, sizeof(text), "directories.tokendir = %s\n"
	    "objectstore.backend = file\nlog.level = ERROR\n"
	    "slots.removable = false\n", tokdir);
	if (mkdir(tokdir, 0700) != 0 || write_file(conf, text, 0600) != 0) {
		snprintf(k->p11_why, sizeof(k->p11_why), "SoftHSM config");
		return TOK_ERR_SYSTEM;
	}
	/* inherited by the agents, their helpers, ssh-add and the tools */
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(k->pinpass, sizeof(k->pinpass), "%s/pinpass", k->dir);
	if (write_file(k->pinpass, "#!/bin/sh\necho " BENCH_P11_PIN "\n",
	    0700) != 0) {
		snprintf(k->p11_why, sizeof(k->p11_why), "PIN askpass");
		return TOK_ERR_SYSTEM;
	}
	if (run_quiet(init, NULL) != 0) {
		snprintf(k->p11_why, sizeof(k->p11_why),
		    "softhsm2-util --init-token failed");
		return TOK_ERR_INTERNAL;
	}
	gen[10] = (char *)"EC:prime256v1";
	gen[12] = (char *)"01";
	gen[14] = (char *)"p256";
	if (run_quiet(gen, NULL) != 0) {
		snprintf(k->p11_why, sizeof(k->p11_why),
		    "pkcs11-tool P-256 keygen failed");
		return TOK_ERR_INTERNAL;
	}
	gen[10] = (char *)"RSA:2048";
	gen[12] = (char *)"02";
	gen[14] = (char *)"rsa2048";
	if (run_quiet(gen, NULL) != 0) {
		snprintf(k->p11_why, sizeof(k->p11_why),
		    "pkcs11-tool RSA keygen failed");
		return TOK_ERR_INTERNAL;
	}
	k->p11_ok = 1;
	return 0;
}

static int
wait_path(const char *path, pid_t pid, int timeout_ms)
{
	struct stat st;
	int waited;

	for (waited = 0; waited < timeout_ms; waited += 20) {
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return TOK_ERR_HELPER_DIED;
		usleep(20000);
	}
	return TOK_ERR_TIMEOUT;
}

/*
 * Start a vfido (touch approved at once) named tag in k->dir: its device
 * socket in sock, its control socket in ctl.
 */
static int
start_vfido(const struct bench_keys *k, const char *vfido, const char *tag,
    char *sock, size_t socklen, char *ctl, size_t ctllen, pid_t *pidp)
{
	char state[PATH_MAX], log[PATH_MAX];
	pid_t pid;
	int fd;

	if (snprintf(state, sizeof(state), "%s/%s.state", k->dir, tag) >=
	    (int)sizeof(state) ||
	    snprintf(log, sizeof(log), "%s/%s.log", k->dir, tag) >=
	    (int)sizeof(log) ||
	    snprintf(sock, socklen, "%s/%s.sock", k->dir, tag) >=
	    (int)socklen ||
	    snprintf(ctl, ctllen, "%s/%s.ctl", k->dir, tag) >= (int)ctllen)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((pid = fork()) == -1)
		return TOK_ERR_SYSTEM;
	if (pid == 0) {
		setpgid(0, 0);
		if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC,
		    0600)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			dup2(fd, 0);
		execl(vfido, vfido, "--state", state, "--socket", sock,
		    "--control", ctl, "--touch", "approve", (char *)NULL);
		_exit(127);
	}
	*pidp = pid;
	if (wait_path(sock, pid, 5000) != 0 || wait_path(ctl, pid, 1000) != 0)
		return TOK_ERR_HELPER_DIED;
	return 0;
}

/*
 * vfido (touch approved at once) on a private socket, an ed25519-sk key
 * enrolled on it with ssh-keygen through tokagent-sk.so.  With two, a
 * second vfido and a second ed25519-sk key enrolled on it (for idle-cpu);
 * the agents still start seeing the first token only, and
 * k->sk_devs_both lists both.
 */
static int
setup_sk(struct bench_keys *k, int two)
{
	char vfido[PATH_MAX], sock[PATH_MAX], sock2[PATH_MAX];
	char devs[PATH_MAX + 8], devs2[PATH_MAX + 8];
	char *gen[] = { (char *)"ssh-keygen", (char *)"-q", (char *)"-t",
	    (char *)"ed25519-sk", (char *)"-w", k->sk_provider, (char *)"-N",
	    (char *)"", (char *)"-C", (char *)"bench-sk", (char *)"-f",
	    k->sk_key, NULL };
	char *gen2[] = { (char *)"ssh-keygen", (char *)"-q", (char *)"-t",
	    (char *)"ed25519-sk", (char *)"-w", k->sk_provider, (char *)"-N",
	    (char *)"", (char *)"-C", (char *)"bench-sk2", (char *)"-f",
	    k->sk2_key, NULL };

	if (snprintf(vfido, sizeof(vfido), "%.4000s/tests/vfido/vfido",
	    builddir) >= (int)sizeof(vfido) ||
	    snprintf(k->sk_provider, sizeof(k->sk_provider),
	    "%.4000s/sk/.libs/tokagent-sk.so", builddir) >=
	    (int)sizeof(k->sk_provider) ||
	    access(vfido, X_OK) != 0 || access(k->sk_provider, R_OK) != 0) {
		snprintf(k->sk_why, sizeof(k->sk_why),
		    "vfido or tokagent-sk.so not built");
		return TOK_ERR_KEY_NOT_FOUND;
	}
	snprintf(k->sk_key, sizeof(k->sk_key), "%s/sk", k->dir);
	snprintf(k->sk2_key, sizeof(k->sk2_key), "%s/sk2", k->dir);
	if (start_vfido(k, vfido, "vfido", sock, sizeof(sock), k->vfido_ctl,
	    sizeof(k->vfido_ctl), &k->vfido_pid) != 0) {
		vfido_pid = k->vfido_pid;
		snprintf(k->sk_why, sizeof(k->sk_why), "vfido did not start");
		return TOK_ERR_HELPER_DIED;
	}
	vfido_pid = k->vfido_pid;
	if (two) {
		if (start_vfido(k, vfido, "vfido2", sock2, sizeof(sock2),
		    k->vfido2_ctl, sizeof(k->vfido2_ctl),
		    &k->vfido2_pid) != 0) {
			vfido2_pid = k->vfido2_pid;
			snprintf(k->sk_why, sizeof(k->sk_why),
			    "second vfido did not start");
			return TOK_ERR_HELPER_DIED;
		}
		vfido2_pid = k->vfido2_pid;
		/* the second key is enrolled on the second token only */
		snprintf(devs2, sizeof(devs2), "unix:%s", sock2);
		setenv("TOKAGENT_FIDO_DEVICES", devs2, 1);
		setenv("TOKAGENT_FIDO_NO_DISCOVERY", "1", 1);
		if (run_quiet(gen2, NULL) != 0 ||
		    load_pub_blob(k->sk2_key, &k->sk2blob) != 0) {
			snprintf(k->sk_why, sizeof(k->sk_why),
			    "ssh-keygen -t ed25519-sk on vfido2 failed");
			return TOK_ERR_INTERNAL;
		}
		snprintf(k->sk_devs_both, sizeof(k->sk_devs_both),
		    "unix:%s,unix:%s", sock, sock2);
	}
	/* inherited by the agents, their helpers, ssh-add and ssh-keygen */
	snprintf(devs, sizeof(devs), "unix:%s", sock);
	snprintf(k->sk_devs_one, sizeof(k->sk_devs_one), "%s", devs);
	setenv("TOKAGENT_FIDO_DEVICES", devs, 1);
	setenv("TOKAGENT_FIDO_NO_DISCOVERY", "1", 1);
	if (run_quiet(gen, NULL) != 0) {
		snprintf(k->sk_why, sizeof(k->sk_why),
		    "ssh-keygen -t ed25519-sk failed");
		return TOK_ERR_INTERNAL;
	}
	if (load_pub_blob(k->sk_key, &k->skblob) != 0) {
		snprintf(k->sk_why, sizeof(k->sk_why), "bad sk key .pub");
		return TOK_ERR_INVALID_FORMAT;
	}
	k->sk_ok = 1;
	k->sk2_ok = two;
	return 0;
}

/* One command line to vfido's control socket; 0 once it replied "ok...". */
static int
vfido_control(const struct bench_keys *k, const char *cmd)
{
	struct pollfd pfd;
	char line[256];
	size_t got = 0;
	ssize_t n;
	int fd, r = TOK_ERR_TIMEOUT;

	if (aio_connect(k->vfido_ctl, &fd) != 0)
		return TOK_ERR_SYSTEM;
	snprintf(line, sizeof(line), "%s\n", cmd);
	if (aio_send_raw(fd, line, strlen(line)) != 0) {
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	while (got < sizeof(line) - 1) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 2000) <= 0)
			goto out;
		if ((n = read(fd, line + got, sizeof(line) - 1 - got)) <= 0) {
			r = TOK_ERR_SYSTEM;
			goto out;
		}
		got += (size_t)n;
		if (memchr(line, '\n', got) != NULL)
			break;
	}
	line[got] = '\0';
	r = strncmp(line, "ok", 2) == 0 ? 0 : TOK_ERR_PROTOCOL;
 out:
	close(fd);
	return r;
}

/* A new buffer holding a copy of len bytes at p (buf_from only views). */
static struct buf *
buf_copy(const void *p, size_t len)
{
	struct buf *b;

	if ((b = buf_new()) == NULL)
		return NULL;
	if (buf_put(b, p, len) != 0) {
		buf_free(b);
		return NULL;
	}
	return b;
}

/* A string "ssh-ed25519" + string raw into a new *blobp. */
static int
ed25519_wrap(const u_char *raw, size_t len, struct buf **blobp)
{
	struct buf *b;

	*blobp = NULL;
	if ((b = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if (buf_put_cstring(b, "ssh-ed25519") != 0 ||
	    buf_put_string(b, raw, len) != 0) {
		buf_free(b);
		return TOK_ERR_ALLOC;
	}
	*blobp = b;
	return 0;
}

/*
 * An Ed25519 host key made here, a known_hosts naming it BENCH_DEST_HOST,
 * a random 32-byte session id and the session-bind@openssh.com request
 * (not forwarding) that binds a connection to both.
 */
static int
setup_dest(struct bench_keys *k)
{
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	struct buf *sigblob = NULL, *line = NULL;
	u_char pub[32], sid[32], sig[64];
	size_t len, siglen = sizeof(sig);
	int r = TOK_ERR_LIBCRYPTO;

	snprintf(k->dest_why, sizeof(k->dest_why), "host key setup failed");
	len = sizeof(pub);
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 ||
	    RAND_bytes(sid, sizeof(sid)) != 1 ||
	    (ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, sid, sizeof(sid)) != 1 ||
	    siglen != sizeof(sig))
		goto out;
	if ((r = ed25519_wrap(pub, sizeof(pub), &k->hostblob)) != 0 ||
	    (r = ed25519_wrap(sig, sizeof(sig), &sigblob)) != 0)
		goto out;
	r = TOK_ERR_ALLOC;
	if ((k->sid = buf_copy(sid, sizeof(sid))) == NULL ||
	    (k->bindmsg = buf_new()) == NULL ||
	    (line = buf_new()) == NULL)
		goto out;
	if ((r = buf_put_u8(k->bindmsg, AIO_EXTENSION)) != 0 ||
	    (r = buf_put_cstring(k->bindmsg,
	    "session-bind@openssh.com")) != 0 ||
	    (r = buf_put_stringb(k->bindmsg, k->hostblob)) != 0 ||
	    (r = buf_put_stringb(k->bindmsg, k->sid)) != 0 ||
	    (r = buf_put_stringb(k->bindmsg, sigblob)) != 0 ||
	    (r = buf_put_u8(k->bindmsg, 0)) != 0)
		goto out;
	if ((r = buf_putf(line, "%s ssh-ed25519 ", BENCH_DEST_HOST)) != 0 ||
	    (r = buf_dtob64(k->hostblob, line)) != 0 ||
	    (r = buf_putf(line, "\n")) != 0 ||
	    (r = buf_put_u8(line, 0)) != 0)
		goto out;
	snprintf(k->known_hosts, sizeof(k->known_hosts), "%s/known_hosts",
	    k->dir);
	if ((r = write_file(k->known_hosts, (const char *)buf_ptr(line),
	    0600)) != 0)
		goto out;
	if ((r = load_pub_blob(k->ed[1], &k->ed1blob)) != 0)
		goto out;
	k->dest_ok = 1;
	k->dest_why[0] = '\0';
	r = 0;
 out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	buf_free(sigblob);
	buf_free(line);
	return r;
}

/*
 * SIGN_REQUEST for keyblob over a publickey-hostbound userauth request for
 * k's session id and host key, as ssh sends on a bound connection.
 */
static struct buf *
make_userauth_sign(const struct bench_keys *k, const struct buf *keyblob)
{
	struct buf *data = NULL, *msg = NULL;

	if ((data = buf_new()) == NULL || (msg = buf_new()) == NULL)
		goto fail;
	if (buf_put_stringb(data, k->sid) != 0 ||
	    buf_put_u8(data, 50) != 0 ||	/* SSH2_MSG_USERAUTH_REQUEST */
	    buf_put_cstring(data, BENCH_DEST_USER) != 0 ||
	    buf_put_cstring(data, "ssh-connection") != 0 ||
	    buf_put_cstring(data, BENCH_HOSTBOUND) != 0 ||
	    buf_put_u8(data, 1) != 0 ||
	    buf_put_cstring(data, "ssh-ed25519") != 0 ||
	    buf_put_stringb(data, keyblob) != 0 ||
	    buf_put_stringb(data, k->hostblob) != 0)
		goto fail;
	if (buf_put_u8(msg, AIO_SIGN_REQUEST) != 0 ||
	    buf_put_stringb(msg, keyblob) != 0 ||
	    buf_put_stringb(msg, data) != 0 ||
	    buf_put_u32(msg, 0) != 0)
		goto fail;
	buf_free(data);
	return msg;
 fail:
	buf_free(data);
	buf_free(msg);
	return NULL;
}

/* The blob of the first key of type keytype the agent lists, in *blobp. */
static int
find_listed(const char *sock, const char *keytype, struct buf **blobp)
{
	struct buf *blobs = NULL, *one = NULL;
	const u_char *p;
	char *type = NULL;
	size_t len;
	uint32_t n, i;
	int fd = -1, r;

	*blobp = NULL;
	if ((r = aio_connect(sock, &fd)) != 0 ||
	    (r = aio_list_keys(fd, BENCH_IO_TIMEOUT_MS, &n, &blobs)) != 0)
		goto out;
	r = TOK_ERR_KEY_NOT_FOUND;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_string_direct(blobs, &p, &len)) != 0 ||
		    (r = buf_get_string_direct(blobs, NULL, NULL)) != 0)
			goto out;
		buf_free(one);
		if ((one = buf_from(p, len)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		free(type);
		type = NULL;
		if (buf_get_cstring(one, &type, NULL) != 0)
			continue;
		if (strcmp(type, keytype) == 0) {
			if ((*blobp = buf_copy(p, len)) == NULL) {
				r = TOK_ERR_ALLOC;
				goto out;
			}
			r = 0;
			goto out;
		}
	}
	r = TOK_ERR_KEY_NOT_FOUND;
 out:
	if (fd != -1)
		close(fd);
	free(type);
	buf_free(one);
	buf_free(blobs);
	return r;
}

/* ssh-add -e / -s the SoftHSM module (the PIN comes from k->pinpass). */
static int
p11_provider(const char *sock, const struct bench_keys *k, int add)
{
	char *argv[] = { (char *)"ssh-add", (char *)(add ? "-s" : "-e"),
	    (char *)BENCH_P11_MODULE, NULL };

	return run_askpass(argv, sock, add ? k->pinpass : NULL);
}

static void
p11_sign(struct bench_agent *a, const struct bench_keys *k,
    const char *keytype, uint32_t flags, int nclients,
    struct bench_result *res)
{
	struct buf *blob = NULL, *msg = NULL;

	if (!k->p11_ok) {
		snprintf(res->note, sizeof(res->note), "skipped: %s",
		    k->p11_why);
		return;
	}
	(void)p11_provider(a->sock, k, 0);	/* a provider left behind */
	if (remove_all(a->sock) != 0 || p11_provider(a->sock, k, 1) != 0) {
		snprintf(res->note, sizeof(res->note),
		    "ssh-add -s %s failed", BENCH_P11_MODULE);
		goto out;
	}
	if (find_listed(a->sock, keytype, &blob) != 0) {
		snprintf(res->note, sizeof(res->note), "no %s key listed",
		    keytype);
		goto out;
	}
	if ((msg = make_sign_request(blob, flags)) == NULL)
		goto out;
	request_loop(a->sock, msg, AIO_SIGN_RESPONSE, nclients, res);
 out:
	(void)p11_provider(a->sock, k, 0);
	buf_free(blob);
	buf_free(msg);
}

static void
sc_p11_ecdsa(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	p11_sign(a, k, "ecdsa-sha2-nistp256", 0, 1, res);
}

static void
sc_p11_ecdsa_c2(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	p11_sign(a, k, "ecdsa-sha2-nistp256", 0, 2, res);
}

static void
sc_p11_ecdsa_c4(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	p11_sign(a, k, "ecdsa-sha2-nistp256", 0, 4, res);
}

static void
sc_p11_rsa(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	p11_sign(a, k, "ssh-rsa", 0x02, 1, res);	/* rsa-sha2-256 */
}

static void
sc_p11_rsa_c2(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	p11_sign(a, k, "ssh-rsa", 0x02, 2, res);
}

static void
sc_p11_rsa_c4(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	p11_sign(a, k, "ssh-rsa", 0x02, 4, res);
}

/*
 * Load the sk key: tokagent takes it as it is (its own FIDO helper);
 * ssh-agent gets tokagent-sk.so as its SecurityKeyProvider.
 */
static int
sk_load(struct bench_agent *a, const struct bench_keys *k)
{
	char *argv[] = { (char *)"ssh-add", (char *)"-S",
	    (char *)k->sk_provider, (char *)k->sk_key, NULL };

	if (strcmp(a->name, "tokagent") == 0)
		return ssh_add(a->sock, NULL, k->sk_key);
	return run_quiet(argv, a->sock);
}

static void
sc_sk_sign(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	struct buf *msg;

	if (!k->sk_ok) {
		snprintf(res->note, sizeof(res->note), "skipped: %s",
		    k->sk_why);
		return;
	}
	if (vfido_control(k, "touch approve") != 0 ||
	    remove_all(a->sock) != 0 || sk_load(a, k) != 0) {
		snprintf(res->note, sizeof(res->note), "loading sk key failed");
		return;
	}
	if ((msg = make_sign_request(k->skblob, 0)) == NULL)
		return;
	request_loop(a->sock, msg, AIO_SIGN_RESPONSE, 1, res);
	buf_free(msg);
}

/* List latency while another client's sk signature waits 2 s for a touch. */
static void
sc_list_during_touch(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	struct buf *msg;
	char cmd[64];

	if (!k->sk_ok) {
		snprintf(res->note, sizeof(res->note), "skipped: %s",
		    k->sk_why);
		return;
	}
	if (remove_all(a->sock) != 0 || load_ten(a->sock, k) != 0 ||
	    sk_load(a, k) != 0) {
		snprintf(res->note, sizeof(res->note), "loading keys failed");
		return;
	}
	if ((msg = make_sign_request(k->skblob, 0)) == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "touch delay=%d", BENCH_TOUCH_DELAY_MS);
	if (vfido_control(k, cmd) != 0)
		snprintf(res->note, sizeof(res->note), "vfido: %s failed",
		    cmd);
	else
		list_while_pending(a->sock, msg, res);
	if (vfido_control(k, "touch approve") != 0)
		fprintf(stderr, "bench: vfido: touch approve failed\n");
	buf_free(msg);
}

/*
 * Sign a hostbound userauth request on a connection bound with
 * session-bind: ed[1] unconstrained, then ed[1] restricted to
 * BENCH_DEST_HOST (ssh-add -h); the row is the constrained key, the note
 * the unconstrained one and the difference.
 */
static void
sc_sign_dest(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	struct bench_result plain;
	struct buf *msg = NULL;
	char errs[48];
	char *argv[] = { (char *)"ssh-add", (char *)"-h",
	    (char *)BENCH_DEST_HOST, (char *)"-H", (char *)k->known_hosts,
	    (char *)k->ed[1], NULL };

	memset(&plain, 0, sizeof(plain));
	if (!k->dest_ok) {
		snprintf(res->note, sizeof(res->note), "skipped: %s",
		    k->dest_why);
		return;
	}
	if ((msg = make_userauth_sign(k, k->ed1blob)) == NULL)
		return;
	if (remove_all(a->sock) != 0 || ssh_add(a->sock, NULL,
	    k->ed[1]) != 0) {
		snprintf(res->note, sizeof(res->note), "loading key failed");
		goto out;
	}
	request_loop_pre(a->sock, k->bindmsg, msg, AIO_SIGN_RESPONSE, 1,
	    &plain);
	if (remove_all(a->sock) != 0 || run_quiet(argv, a->sock) != 0) {
		snprintf(res->note, sizeof(res->note),
		    "ssh-add -h %s failed", BENCH_DEST_HOST);
		goto out;
	}
	request_loop_pre(a->sock, k->bindmsg, msg, AIO_SIGN_RESPONSE, 1, res);
	snprintf(errs, sizeof(errs), "%.40s", res->note);
	if (!plain.ok)
		snprintf(res->note, sizeof(res->note),
		    "unconstrained on a bound connection failed%s%.100s",
		    plain.note[0] != '\0' ? ": " : "", plain.note);
	else if (res->ok)
		snprintf(res->note, sizeof(res->note),
		    "unconstrained: %.0f ops/s, p50 %.3f ms; constrained "
		    "%+.1f%% ops/s, %+.1f%% p50%s%s", plain.ops, plain.p50_ms,
		    (res->ops / plain.ops - 1) * 100,
		    (res->p50_ms / plain.p50_ms - 1) * 100,
		    errs[0] != '\0' ? "; " : "", errs);
	(void)remove_all(a->sock);
 out:
	buf_free(msg);
}

/* --- hostile neighbours and many keys ---------------------------------- */

#define BENCH_SLOW_BITS		"4096"	/* the flood's slow key */
#define BENCH_FLOOD_CONNS	16	/* the sign flood's connections */
#define BENCH_PIPELINED		1000	/* lists sent, never read */
#define BENCH_PIPE_KEYS		200	/* keys loaded while pipelining */
#define BENCH_IDLE_CONNS	1000
#define BENCH_HUGE_ADD_S	90	/* adding 50,000 keys may take */
#define BENCH_BIG_REPLY_MAX	(64 * 1024 * 1024)

static char slow_key[PATH_MAX];
static struct buf *slow_blob;

/* The flood's RSA key, made on first use (ssh-keygen takes a while). */
static int
slow_key_ready(const struct bench_keys *k)
{
	if (slow_blob != NULL)
		return 0;
	snprintf(slow_key, sizeof(slow_key), "%s/slow", k->dir);
	if (keygen("rsa", BENCH_SLOW_BITS, slow_key) != 0 ||
	    load_pub_blob(slow_key, &slow_blob) != 0)
		return TOK_ERR_INTERNAL;
	return 0;
}

/*
 * A flooding client in its own process: nconn connections that each send
 * msg again as soon as the previous reply arrives, for secs seconds.
 */
static pid_t
spawn_flood(const char *sock, const struct buf *msg, int nconn, double secs)
{
	struct pollfd pfd[BENCH_FLOOD_CONNS];
	struct buf *reply;
	uint64_t until;
	pid_t pid;
	int i, n = 0;

	if (nconn > BENCH_FLOOD_CONNS)
		nconn = BENCH_FLOOD_CONNS;
	if ((pid = fork()) != 0)
		return pid;
	/* the bench's handler would stop the agents */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	until = aio_now_ns() + (uint64_t)(secs * 1e9);
	for (i = 0; i < nconn; i++) {
		if (aio_connect(sock, &pfd[n].fd) != 0)
			continue;
		pfd[n].events = POLLIN;
		if (aio_send_msg(pfd[n].fd, msg) == 0)
			n++;
		else
			close(pfd[n].fd);
	}
	while (n > 0 && aio_now_ns() < until) {
		if (poll(pfd, (nfds_t)n, 100) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (aio_recv_msg(pfd[i].fd, BENCH_IO_TIMEOUT_MS,
			    &reply) != 0)
				_exit(1);
			buf_free(reply);
			if (aio_send_msg(pfd[i].fd, msg) != 0)
				_exit(1);
		}
	}
	_exit(0);
}

/* A client in its own process that sends n lists and never reads. */
static pid_t
spawn_unread(const char *sock, int n)
{
	struct buf *all;
	pid_t pid;
	size_t off = 0;
	ssize_t w;
	int fd, i;

	if ((pid = fork()) != 0)
		return pid;
	/* the bench's handler would stop the agents */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (aio_connect(sock, &fd) != 0 || (all = buf_new()) == NULL)
		_exit(1);
	for (i = 0; i < n; i++) {
		if (buf_put_u32(all, 1) != 0 ||
		    buf_put_u8(all, AIO_REQUEST_IDENTITIES) != 0)
			_exit(1);
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		_exit(1);
	while (off < buf_len(all)) {
		w = send(fd, buf_ptr(all) + off, buf_len(all) - off,
		    MSG_NOSIGNAL);
		if (w > 0)
			off += (size_t)w;
		else if (w == -1 && errno == EAGAIN)
			usleep(10000);	/* the agent stopped reading */
		else
			break;
	}
	for (;;)
		pause();
}

static void
stop_child(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* One list on fd; the reply may be of any size (read and dropped). */
static int
list_any_size(int fd, u_char **bufp, size_t *allocp, uint32_t *nkeysp)
{
	static const u_char req[5] = { 0, 0, 0, 1, AIO_REQUEST_IDENTITIES };
	struct pollfd pfd;
	uint64_t deadline = aio_now_ns() + 30 * 1000000000ULL;
	u_char hdr[9], *p;
	size_t want, got = 0, len = 0;
	ssize_t n;
	void *np;

	*nkeysp = 0;
	if (aio_send_raw(fd, req, sizeof(req)) != 0)
		return TOK_ERR_SYSTEM;
	/* header: length, type, key count; then the rest */
	for (want = sizeof(hdr), p = hdr; got < want;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (aio_now_ns() > deadline)
			return TOK_ERR_TIMEOUT;
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if ((n = read(fd, p + got, want - got)) <= 0) {
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			return TOK_ERR_MESSAGE_INCOMPLETE;
		}
		got += (size_t)n;
		if (p == hdr && got == sizeof(hdr)) {
			len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
			    (size_t)hdr[2] << 8 | hdr[3];
			if (len < 5 || len > BENCH_BIG_REPLY_MAX ||
			    hdr[4] != AIO_IDENTITIES_ANSWER)
				return TOK_ERR_PROTOCOL;
			*nkeysp = (uint32_t)hdr[5] << 24 |
			    (uint32_t)hdr[6] << 16 | (uint32_t)hdr[7] << 8 |
			    hdr[8];
			if (len - 5 > *allocp) {
				if ((np = realloc(*bufp, len - 5)) == NULL)
					return TOK_ERR_ALLOC;
				*bufp = np;
				*allocp = len - 5;
			}
			p = *bufp;
			got = 0;
			want = len - 5;
		}
	}
	return 0;
}

/* Lists on one connection for duration_s; replies of any size. */
static void
list_loop_any_size(const char *sock, struct bench_result *res,
    uint32_t *nkeysp)
{
	struct samples s;
	u_char *big = NULL;
	size_t alloc = 0;
	uint64_t start, until, t0;
	int fd = -1, r = 0;

	memset(&s, 0, sizeof(s));
	*nkeysp = 0;
	if (aio_connect(sock, &fd) != 0)
		return;
	start = aio_now_ns();
	until = start + (uint64_t)(duration_s * 1e9);
	/* at least 3 lists, however slow */
	while (!interrupted && (aio_now_ns() < until || s.n < 3)) {
		t0 = aio_now_ns();
		if ((r = list_any_size(fd, &big, &alloc, nkeysp)) != 0 ||
		    samples_add(&s, aio_now_ns() - t0) != 0)
			break;
	}
	if (s.n > 0) {
		res->ok = 1;
		res->ops = (double)s.n / ((double)(aio_now_ns() - start) / 1e9);
		samples_summarise(&s, res);
	}
	if (r != 0)
		snprintf(res->note, sizeof(res->note), "list failed: %s",
		    tok_strerror(r));
	close(fd);
	free(big);
	samples_free(&s);
}

/* List latency while another process floods slow signatures. */
static void
sc_list_during_sign_flood(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	struct buf *sign = NULL, *list = NULL;
	pid_t flood;

	if (slow_key_ready(k) != 0) {
		snprintf(res->note, sizeof(res->note), "ssh-keygen failed");
		return;
	}
	if (remove_all(a->sock) != 0 || load_ten(a->sock, k) != 0 ||
	    ssh_add(a->sock, NULL, slow_key) != 0) {
		snprintf(res->note, sizeof(res->note), "loading keys failed");
		return;
	}
	if ((sign = make_sign_request(slow_blob, 0x04)) == NULL ||
	    (list = buf_new()) == NULL ||
	    buf_put_u8(list, AIO_REQUEST_IDENTITIES) != 0)
		goto out;
	flood = spawn_flood(a->sock, sign, BENCH_FLOOD_CONNS,
	    duration_s + 1.0);
	usleep(300000);
	request_loop(a->sock, list, AIO_IDENTITIES_ANSWER, 1, res);
	stop_child(flood);
	if (!res->ok) {
		/* every list timed out: blocked */
		res->ok = 1;
		res->ops = 0;
		res->p50_ms = res->p99_ms = res->max_ms = BENCH_IO_TIMEOUT_MS;
	}
	if (res->note[0] == '\0')
		snprintf(res->note, sizeof(res->note), "%d connections "
		    "signing with RSA-%s meanwhile; max %.1f ms",
		    BENCH_FLOOD_CONNS, BENCH_SLOW_BITS, res->max_ms);
 out:
	buf_free(sign);
	buf_free(list);
}

/* List latency while another process pipelines lists and never reads. */
static void
sc_list_during_unread(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	struct buf *list = NULL;
	pid_t pipe_pid;
	int added;

	if (remove_all(a->sock) != 0 || load_ten(a->sock, k) != 0 ||
	    add_many_keys(a->sock, BENCH_PIPE_KEYS - 10, &added) != 0) {
		snprintf(res->note, sizeof(res->note), "loading keys failed");
		return;
	}
	if ((list = buf_new()) == NULL ||
	    buf_put_u8(list, AIO_REQUEST_IDENTITIES) != 0)
		goto out;
	pipe_pid = spawn_unread(a->sock, BENCH_PIPELINED);
	usleep(300000);
	request_loop(a->sock, list, AIO_IDENTITIES_ANSWER, 1, res);
	stop_child(pipe_pid);
	if (res->note[0] == '\0')
		snprintf(res->note, sizeof(res->note), "%d keys; %d lists "
		    "pipelined unread by another client; max %.1f ms",
		    BENCH_PIPE_KEYS, BENCH_PIPELINED, res->max_ms);
	else if (!res->ok) {
		/* every list timed out: blocked */
		res->ok = 1;
		res->ops = 0;
		res->p50_ms = res->p99_ms = res->max_ms = BENCH_IO_TIMEOUT_MS;
	}
	(void)remove_all(a->sock);
 out:
	buf_free(list);
}

/* List latency with BENCH_IDLE_CONNS other connections open and idle. */
static void
sc_list_idle_conns(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	struct buf *list = NULL;
	int *fds = NULL, n = 0;

	if (remove_all(a->sock) != 0 || load_ten(a->sock, k) != 0) {
		snprintf(res->note, sizeof(res->note), "loading keys failed");
		return;
	}
	if ((fds = calloc(BENCH_IDLE_CONNS, sizeof(*fds))) == NULL ||
	    (list = buf_new()) == NULL ||
	    buf_put_u8(list, AIO_REQUEST_IDENTITIES) != 0)
		goto out;
	for (n = 0; n < BENCH_IDLE_CONNS; n++) {
		if (aio_connect(a->sock, &fds[n]) != 0)
			break;
	}
	usleep(200000);
	request_loop(a->sock, list, AIO_IDENTITIES_ANSWER, 1, res);
	if (res->note[0] == '\0')
		snprintf(res->note, sizeof(res->note), "%d idle connections; "
		    "max %.1f ms", n, res->max_ms);
 out:
	while (n > 0)
		close(fds[--n]);
	free(fds);
	buf_free(list);
}

/* List cost with nkeys loaded, against 10 keys: linear or not. */
static void
list_many_keys(struct bench_agent *a, const struct bench_keys *k,
    int nkeys, struct bench_result *res)
{
	struct bench_result few;
	uint64_t t0;
	uint32_t listed = 0, listed10 = 0;
	int added = 0, r;
	double per_key10, per_key;

	memset(&few, 0, sizeof(few));
	if (remove_all(a->sock) != 0 || load_ten(a->sock, k) != 0) {
		snprintf(res->note, sizeof(res->note), "loading keys failed");
		return;
	}
	list_loop_any_size(a->sock, &few, &listed10);
	t0 = aio_now_ns();
	if ((r = add_many_keys_budget(a->sock, nkeys - 10, BENCH_HUGE_ADD_S,
	    &added)) != 0) {
		snprintf(res->note, sizeof(res->note), "adding keys failed "
		    "after %d: %s", added, tok_strerror(r));
		(void)remove_all(a->sock);
		return;
	}
	t0 = aio_now_ns() - t0;
	list_loop_any_size(a->sock, res, &listed);
	if (res->ok && few.ok && listed > 0 && listed10 > 0) {
		per_key10 = few.p50_ms / listed10;
		per_key = res->p50_ms / listed;
		snprintf(res->note, sizeof(res->note), "%u keys (added in "
		    "%.1f s%s): %.2f ms/list; 10 keys: %.3f ms/list; per key "
		    "%.2fx the 10-key cost", listed, (double)t0 / 1e9,
		    added < nkeys - 10 ? ", time budget hit" : "", res->p50_ms,
		    few.p50_ms, per_key / per_key10);
	}
	(void)remove_all(a->sock);
}

static void
sc_list_10k_keys(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	list_many_keys(a, k, 10000, res);
}

static void
sc_list_50k_keys(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	list_many_keys(a, k, 50000, res);
}

/*
 * An ML-DSA hybrid key, made and added with OpenSSH 10's ssh-keygen and
 * ssh-add (Debian's 9.2 tools know no such key type).
 */
static int
setup_mldsa(struct bench_keys *k)
{
	char keygen10[PATH_MAX + 16];
	char *argv[] = { keygen10, (char *)"-q", (char *)"-t",
	    (char *)"mldsa44-ed25519", (char *)"-N", (char *)"",
	    (char *)"-f", k->mldsa, NULL };

	if (ossh10_bin[0] == '\0') {
		snprintf(k->mldsa_why, sizeof(k->mldsa_why),
		    "OPENSSH10_BIN not set");
		return -1;
	}
	snprintf(keygen10, sizeof(keygen10), "%s/ssh-keygen", ossh10_bin);
	snprintf(k->mldsa, sizeof(k->mldsa), "%s/mldsa", k->dir);
	if (run_quiet(argv, NULL) != 0 ||
	    load_pub_blob(k->mldsa, &k->mldsablob) != 0) {
		snprintf(k->mldsa_why, sizeof(k->mldsa_why),
		    "OpenSSH 10 ssh-keygen failed");
		return -1;
	}
	k->mldsa_ok = 1;
	return 0;
}

static void
sc_sign_mldsa(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	char add10[PATH_MAX + 16];
	char *argv[] = { add10, (char *)k->mldsa, NULL };
	struct buf *msg;

	if (!k->mldsa_ok) {
		snprintf(res->note, sizeof(res->note), "%s", k->mldsa_why);
		return;
	}
	snprintf(add10, sizeof(add10), "%s/ssh-add", ossh10_bin);
	if (remove_all(a->sock) != 0 || run_quiet(argv, a->sock) != 0) {
		snprintf(res->note, sizeof(res->note), "loading keys failed");
		return;
	}
	if ((msg = make_sign_request(k->mldsablob, 0)) == NULL)
		return;
	request_loop(a->sock, msg, AIO_SIGN_RESPONSE, 1, res);
	buf_free(msg);
}

/* --- idle CPU ------------------------------------------------------------ */

/*
 * idle-cpu: what an agent costs while nothing asks it anything, with two
 * FIDO tokens plugged and a key of each loaded.  The agent is restarted
 * seeing both vfido tokens (the other scenarios see the first only), both
 * keys are added and each signs once; then, for idle_seconds, nobody
 * speaks to it.  Measured over the agent and all its descendants, found by
 * walking /proc at the start and at the end of the window:
 *
 *   CPU: utime+stime+cutime+cstime from /proc/PID/stat, summed, end minus
 *   start; a descendant that exits and is reaped by its parent in the
 *   window is counted through the parent's cutime/cstime.  The resolution
 *   is one clock tick (sysconf(_SC_CLK_TCK), 10 ms at 100 Hz), and the
 *   kernel charges a tick to whoever runs when it fires, so a few short
 *   wakeups may show as 0 ms.
 *
 *   Wakeups: voluntary_ctxt_switches from /proc/PID/task/TID/status,
 *   summed over every thread; each is one time a thread blocked, so this
 *   sees wakeups the tick cannot.  A thread or process that exits in the
 *   window takes its count with it (the number of those is reported).
 */

#define IDLE_MAXPROCS	64	/* agent plus descendants */

struct idle_proc {
	pid_t pid;
	char comm[20];
	unsigned long long ticks;	/* utime+stime+cutime+cstime */
	unsigned long long vcsw, ivcsw;	/* over its threads */
};

struct idle_tree {
	struct idle_proc p[IDLE_MAXPROCS];
	size_t n;
	int truncated;
};

/*
 * Parse /proc/PID/stat: comm, ppid and the four time fields (ticks).
 * The comm is in parentheses and may hold spaces and ')'; the fields
 * follow the last ')'.
 */
static int
idle_read_stat(pid_t pid, char *comm, size_t commlen, pid_t *ppidp,
    unsigned long long *ticksp)
{
	char path[64], line[1024], *lp, *rp, *f;
	unsigned long long v, t = 0;
	FILE *fp;
	size_t len;
	int i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return TOK_ERR_SYSTEM;
	len = fread(line, 1, sizeof(line) - 1, fp);
	fclose(fp);
	line[len] = '\0';
	if ((lp = strchr(line, '(')) == NULL ||
	    (rp = strrchr(line, ')')) == NULL || rp < lp)
		return TOK_ERR_INVALID_FORMAT;
	if (comm != NULL) {
		len = (size_t)(rp - lp - 1);
		if (len >= commlen)
			len = commlen - 1;
		memcpy(comm, lp + 1, len);
		comm[len] = '\0';
	}
	/* field 3 (state) starts after ") " */
	f = rp + 1;
	for (i = 3; i <= 17; i++) {
		while (*f == ' ')
			f++;
		if (*f == '\0')
			return TOK_ERR_INVALID_FORMAT;
		if (i == 4) {
			if (ppidp != NULL)
				*ppidp = (pid_t)strtol(f, NULL, 10);
		} else if (i >= 14) {
			v = strtoull(f, NULL, 10);
			t += v;
		}
		while (*f != ' ' && *f != '\0')
			f++;
	}
	if (ticksp != NULL)
		*ticksp = t;
	return 0;
}

/* Sum the context switches of every thread of pid. */
static void
idle_read_csw(pid_t pid, unsigned long long *vp, unsigned long long *ivp)
{
	char path[96], line[256];
	struct dirent *de;
	FILE *fp;
	DIR *d;

	*vp = *ivp = 0;
	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/status",
		    (long)pid, de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;	/* the thread just ended */
		while (fgets(line, sizeof(line), fp) != NULL) {
			if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0)
				*vp += strtoull(line + 24, NULL, 10);
			else if (strncmp(line, "nonvoluntary_ctxt_switches:",
			    27) == 0)
				*ivp += strtoull(line + 27, NULL, 10);
		}
		fclose(fp);
	}
	closedir(d);
}

/* root and all its descendants, as they are now. */
static int
idle_collect(pid_t root, struct idle_tree *t)
{
	struct { pid_t pid, ppid; } *all = NULL, *np;
	size_t nall = 0, cap = 0, i, j;
	struct dirent *de;
	unsigned long long ticks;
	pid_t pid, ppid;
	char *ep;
	DIR *d;
	int grew;

	memset(t, 0, sizeof(*t));
	if ((d = opendir("/proc")) == NULL)
		return TOK_ERR_SYSTEM;
	while ((de = readdir(d)) != NULL) {
		pid = (pid_t)strtol(de->d_name, &ep, 10);
		if (*ep != '\0' || pid <= 0)
			continue;
		if (idle_read_stat(pid, NULL, 0, &ppid, NULL) != 0)
			continue;
		if (nall == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			if ((np = realloc(all, cap * sizeof(*all))) == NULL) {
				free(all);
				closedir(d);
				return TOK_ERR_ALLOC;
			}
			all = np;
		}
		all[nall].pid = pid;
		all[nall].ppid = ppid;
		nall++;
	}
	closedir(d);
	t->p[t->n++].pid = root;
	/* add children of the tree until nothing new comes */
	do {
		grew = 0;
		for (i = 0; i < nall; i++) {
			for (j = 0; j < t->n; j++) {
				if (t->p[j].pid == all[i].pid)
					break;
			}
			if (j < t->n)
				continue;	/* already in */
			for (j = 0; j < t->n; j++) {
				if (t->p[j].pid == all[i].ppid)
					break;
			}
			if (j == t->n)
				continue;
			if (t->n == IDLE_MAXPROCS) {
				t->truncated = 1;
				break;
			}
			t->p[t->n++].pid = all[i].pid;
			grew = 1;
		}
	} while (grew && !t->truncated);
	free(all);
	for (j = 0; j < t->n; j++) {
		if (idle_read_stat(t->p[j].pid, t->p[j].comm,
		    sizeof(t->p[j].comm), NULL, &ticks) != 0) {
			snprintf(t->p[j].comm, sizeof(t->p[j].comm), "gone");
			ticks = 0;
		}
		t->p[j].ticks = ticks;
		idle_read_csw(t->p[j].pid, &t->p[j].vcsw, &t->p[j].ivcsw);
	}
	return t->p[0].ticks == 0 && strcmp(t->p[0].comm, "gone") == 0 ?
	    TOK_ERR_HELPER_DIED : 0;
}

static const struct idle_proc *
idle_find(const struct idle_tree *t, pid_t pid)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->p[i].pid == pid)
			return &t->p[i];
	}
	return NULL;
}

/*
 * Restart a with $TOKAGENT_FIDO_DEVICES set to devs (its helpers read it
 * when they start); the bench's own environment is left as it was.
 */
static int
restart_agent(struct bench_agent *a, const char *devs)
{
	char old[2 * PATH_MAX + 16];
	const char *cur;
	int r;

	if ((cur = getenv("TOKAGENT_FIDO_DEVICES")) == NULL)
		cur = "";
	snprintf(old, sizeof(old), "%s", cur);
	if (a->pid > 0) {
		kill(a->pid, SIGTERM);
		waitpid(a->pid, NULL, 0);
	}
	a->pid = 0;
	a->up = 0;
	unlink(a->sock);
	setenv("TOKAGENT_FIDO_DEVICES", devs, 1);
	r = start_agent(a, agent_dir, agent_askpass);
	setenv("TOKAGENT_FIDO_DEVICES", old, 1);
	return r;
}

/* One signature with blob on a fresh connection. */
static int
sign_once(const char *sock, const struct buf *blob)
{
	struct buf *msg;
	int fd, r;

	if ((msg = make_sign_request(blob, 0)) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = aio_connect(sock, &fd)) == 0) {
		r = simple_request(fd, msg, AIO_SIGN_RESPONSE,
		    BENCH_IO_TIMEOUT_MS);
		close(fd);
	}
	buf_free(msg);
	return r;
}

static int
sk_load_file(struct bench_agent *a, const struct bench_keys *k,
    const char *keyfile)
{
	char *argv[] = { (char *)"ssh-add", (char *)"-S",
	    (char *)k->sk_provider, (char *)keyfile, NULL };

	if (strcmp(a->name, "tokagent") == 0)
		return ssh_add(a->sock, NULL, keyfile);
	return run_quiet(argv, a->sock);
}

static void
idle_measure(struct bench_agent *a, struct bench_result *res)
{
	struct idle_tree t0, t1;
	const struct idle_proc *p, *q;
	struct timespec ts;
	unsigned long long sum0 = 0, sum1 = 0, v0 = 0, v1 = 0, iv0 = 0,
	    iv1 = 0, dt, dv;
	long hz = sysconf(_SC_CLK_TCK);
	size_t i, off, gone = 0;
	char *note = res->note;

	if (hz <= 0)
		hz = 100;
	if (idle_collect(a->pid, &t0) != 0) {
		snprintf(note, sizeof(res->note), "cannot read /proc");
		return;
	}
	ts.tv_sec = idle_seconds;
	ts.tv_nsec = 0;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	if (idle_collect(a->pid, &t1) != 0) {
		snprintf(note, sizeof(res->note), "agent gone in the window");
		return;
	}
	for (i = 0; i < t0.n; i++) {
		sum0 += t0.p[i].ticks;
		v0 += t0.p[i].vcsw;
		iv0 += t0.p[i].ivcsw;
		/* gone or replaced by another process of that pid */
		if ((q = idle_find(&t1, t0.p[i].pid)) == NULL ||
		    strcmp(q->comm, t0.p[i].comm) != 0)
			gone++;
	}
	for (i = 0; i < t1.n; i++) {
		sum1 += t1.p[i].ticks;
		v1 += t1.p[i].vcsw;
		iv1 += t1.p[i].ivcsw;
	}
	res->ok = 1;
	res->idle_cpu_ms = sum1 >= sum0 ?
	    (double)(sum1 - sum0) * 1000.0 / (double)hz : 0;
	res->idle_vcsw = v1 >= v0 ? v1 - v0 : 0;
	off = (size_t)snprintf(note, sizeof(res->note),
	    "CPU %.0f ms in %d s (agent + %zu helper%s), %llu voluntary + "
	    "%llu involuntary ctx switches; tick %ld ms%s%s:",
	    res->idle_cpu_ms, idle_seconds, t1.n - 1, t1.n == 2 ? "" : "s",
	    res->idle_vcsw, iv1 >= iv0 ? iv1 - iv0 : 0, 1000 / hz,
	    sum1 < sum0 ? "; times went back (a child reaped elsewhere)" : "",
	    t1.truncated ? "; tree truncated" : "");
	for (i = 0; i < t1.n && off < sizeof(res->note); i++) {
		p = &t1.p[i];
		q = idle_find(&t0, p->pid);
		if (q != NULL && strcmp(q->comm, p->comm) != 0)
			q = NULL;
		dt = q == NULL ? p->ticks : p->ticks - q->ticks;
		dv = q == NULL ? p->vcsw : p->vcsw - q->vcsw;
		off += (size_t)snprintf(note + off, sizeof(res->note) - off,
		    " %s[%ld]%s %llu ms/%llu csw", p->comm, (long)p->pid,
		    q == NULL ? " (new)" : "",
		    dt * 1000 / (unsigned long long)hz, dv);
	}
	if (gone > 0 && off < sizeof(res->note))
		snprintf(note + off, sizeof(res->note) - off,
		    "; %zu exited in the window", gone);
}

static void
sc_idle_cpu(struct bench_agent *a, const struct bench_keys *k,
    struct bench_result *res)
{
	if (!k->sk_ok || !k->sk2_ok) {
		snprintf(res->note, sizeof(res->note), "skipped: %s",
		    k->sk_why);
		return;
	}
	if (restart_agent(a, k->sk_devs_both) != 0) {
		snprintf(res->note, sizeof(res->note),
		    "restart with two tokens failed");
		return;
	}
	if (vfido_control(k, "touch approve") != 0 ||
	    sk_load_file(a, k, k->sk_key) != 0 ||
	    sk_load_file(a, k, k->sk2_key) != 0) {
		snprintf(res->note, sizeof(res->note),
		    "loading sk keys failed");
		goto out;
	}
	if (sign_once(a->sock, k->skblob) != 0 ||
	    sign_once(a->sock, k->sk2blob) != 0) {
		snprintf(res->note, sizeof(res->note), "warm-up sign failed");
		goto out;
	}
	idle_measure(a, res);
 out:
	/* back to the first token only, as the other scenarios expect */
	if (remove_all(a->sock) != 0 ||
	    restart_agent(a, k->sk_devs_one) != 0)
		fprintf(stderr, "bench: %s: restart after idle-cpu failed\n",
		    a->name);
}

struct scenario {
	const char *name;
	const char *what;
	void (*run)(struct bench_agent *, const struct bench_keys *,
	    struct bench_result *);
	int latency;	/* ratio on p99 (lower is better), not ops/s */
};

static const struct scenario scenarios[] = {
	{ "list10", "list identities, 10 keys", sc_list10, 0 },
	{ "sign-ed25519", "sign, Ed25519", sc_sign_ed25519, 0 },
	{ "sign-ed25519-c2", "sign, Ed25519, 2 clients", sc_sign_ed25519_c2,
	    0 },
	{ "sign-ed25519-c4", "sign, Ed25519, 4 clients", sc_sign_ed25519_c4,
	    0 },
	{ "sign-ed25519-policy", "sign, Ed25519, 1,000 policy rules",
	    sc_sign_policy1000, 0 },
	{ "sign-ed25519-audit", "sign, Ed25519, audit log to a file",
	    sc_sign_audit, 0 },
	{ "sign-ecdsa256", "sign, ECDSA P-256", sc_sign_ecdsa, 0 },
	{ "sign-ecdsa256-c4", "sign, ECDSA P-256, 4 clients",
	    sc_sign_ecdsa_c4, 0 },
	{ "sign-rsa2048", "sign, RSA-2048 (sha512)", sc_sign_rsa, 0 },
	{ "sign-rsa2048-c4", "sign, RSA-2048, 4 clients", sc_sign_rsa_c4, 0 },
	{ "list-during-confirm", "list while a confirm waits 2 s",
	    sc_list_during_confirm, 1 },
	{ "sign-10k-keys", "sign, Ed25519, 10,000 keys loaded",
	    sc_sign_many_keys, 1 },
	{ "conn1000", "1,000 concurrent connections", sc_many_connections,
	    0 },
	{ "p11-ecdsa256", "sign, SoftHSM ECDSA P-256", sc_p11_ecdsa, 0 },
	{ "p11-ecdsa256-c2", "sign, SoftHSM P-256, 2 clients",
	    sc_p11_ecdsa_c2, 0 },
	{ "p11-ecdsa256-c4", "sign, SoftHSM P-256, 4 clients",
	    sc_p11_ecdsa_c4, 0 },
	{ "p11-rsa2048", "sign, SoftHSM RSA-2048 (sha256)", sc_p11_rsa, 0 },
	{ "p11-rsa2048-c2", "sign, SoftHSM RSA-2048, 2 clients",
	    sc_p11_rsa_c2, 0 },
	{ "p11-rsa2048-c4", "sign, SoftHSM RSA-2048, 4 clients",
	    sc_p11_rsa_c4, 0 },
	{ "sk-ed25519", "sign, ed25519-sk, vfido instant", sc_sk_sign, 0 },
	{ "list-during-touch", "list while a touch waits 2 s",
	    sc_list_during_touch, 1 },
	{ "sign-dest-bound", "sign, dest-constrained, bound conn",
	    sc_sign_dest, 0 },
	{ "list-during-sign-flood", "list while a client floods signs",
	    sc_list_during_sign_flood, 1 },
	{ "list-during-unread", "list while a client never reads",
	    sc_list_during_unread, 1 },
	{ "list-idle1000", "list, 1,000 idle connections open",
	    sc_list_idle_conns, 1 },
	{ "list-10k-keys", "list identities, 10,000 keys",
	    sc_list_10k_keys, 0 },
	{ "list-50k-keys", "list identities, 50,000 keys",
	    sc_list_50k_keys, 0 },
	{ "sign-mldsa44", "sign, ML-DSA-44+Ed25519 (vs 10.5)",
	    sc_sign_mldsa, 0 },
	{ "idle-cpu", "idle CPU, two FIDO tokens plugged", sc_idle_cpu, 0 },
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* The idle scenario: CPU and wakeups instead of ops/s and latencies. */
static int
scenario_idle(const struct scenario *sc)
{
	return sc->run == sc_idle_cpu;
}

/* Scenarios measured against OpenSSH 10's agent instead of ssh-agent. */
static int
scenario_vs_ossh10(const struct scenario *sc)
{
	return sc->run == sc_sign_mldsa;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < BENCH_NCONN + 200) {
		rl.rlim_cur = rl.rlim_max < BENCH_NCONN * 2 + 200 ?
		    rl.rlim_max : BENCH_NCONN * 2 + 200;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			fprintf(stderr, "bench: cannot raise RLIMIT_NOFILE\n");
	}
}

static void
print_cell(const struct bench_result *r, const struct bench_agent *a,
    int idle)
{
	char cell[64];

	if (idle && r->ok) {
		snprintf(cell, sizeof(cell), "CPU %.0f ms, %llu wakeups",
		    r->idle_cpu_ms, r->idle_vcsw);
		printf(" %30s |", cell);
		return;
	}
	if (!a->up) {
		printf(" %-30s |", "not run");
		return;
	}
	if (!r->ok) {
		printf(" %-30s |", "failed");
		return;
	}
	printf(" %10.0f %9.3f %9.3f |", r->ops, r->p50_ms, r->p99_ms);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench [--duration SECONDS] [--scenario NAME]\n"
	    "\t[--agent-only tokagent|ssh-agent] [--tokagent PATH]\n"
	    "\t[--ssh-agent PATH] [--ssh-agent-10 PATH] [--idle-seconds N]\n"
	    "\t[--list]\n");
	exit(2);
}

/*
 * The build tree (for vfido and tokagent-sk.so): $top_builddir, else two
 * levels above the tokagent binary; resolved, as ssh-agent matches -P
 * against resolved provider paths.
 */
static void
find_builddir(void)
{
	const char *top = getenv("top_builddir");
	char tmp[PATH_MAX], *slash;
	int i;

	if (top != NULL && realpath(top, builddir) != NULL)
		return;
	if (realpath(agents[0].path, tmp) == NULL) {
		snprintf(builddir, sizeof(builddir), ".");
		return;
	}
	for (i = 0; i < 2; i++) {
		if ((slash = strrchr(tmp, '/')) != NULL && slash != tmp)
			*slash = '\0';
	}
	snprintf(builddir, sizeof(builddir), "%s", tmp);
}

/* Does the selected scenario (NULL: all) start with prefix or equal it? */
static int
wanted(const char *only, const char *prefix)
{
	return only == NULL || strncmp(only, prefix, strlen(prefix)) == 0;
}

static void
default_tokagent_path(const char *argv0, char *path, size_t len)
{
	const char *top = getenv("top_builddir");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (top != NULL &&
	    snprintf(path, len, "%s/agent/tokagent", top) < (int)len)
		return;
	/* the bench lives in BUILD/tests/bench/ */
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if (snprintf(path, len, "%s/../../agent/tokagent",
			    self) < (int)len)
				return;
		}
	}
	snprintf(path, len, "%s", argv0);
}

int main(int, char **);

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "scenario", required_argument, NULL, 's' },
		{ "agent-only", required_argument, NULL, 'o' },
		{ "tokagent", required_argument, NULL, 't' },
		{ "ssh-agent", required_argument, NULL, 'O' },
		{ "ssh-agent-10", required_argument, NULL, 'T' },
		{ "idle-seconds", required_argument, NULL, 'i' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench_result res[BENCH_NAGENTS];
	struct bench_keys keys;
	const char *only_scenario = NULL, *only_agent = NULL;
	char askpass[PATH_MAX + 16], tmpl[] = "/tmp/tbench.XXXXXX";
	char *rmargv[] = { (char *)"rm", (char *)"-rf", tmpl, NULL };
	FILE *f;
	size_t i;
	double ratio;
	struct bench_agent *a;
	int ch, j, nup = 0, found = 0, slot[2] = { 0, 1 };

	memset(&keys, 0, sizeof(keys));
	default_tokagent_path(argv[0], agents[0].path, sizeof(agents[0].path));
	snprintf(agents[1].path, sizeof(agents[1].path), "%s",
	    getenv("SSH_AGENT_BIN") != NULL ? getenv("SSH_AGENT_BIN") :
	    "/usr/bin/ssh-agent");
	if (getenv("OPENSSH10_BIN") != NULL) {
		snprintf(ossh10_bin, sizeof(ossh10_bin), "%s",
		    getenv("OPENSSH10_BIN"));
		if (snprintf(agents[BENCH_OSSH10].path,
		    sizeof(agents[BENCH_OSSH10].path), "%s/ssh-agent",
		    ossh10_bin) >= (int)sizeof(agents[BENCH_OSSH10].path))
			agents[BENCH_OSSH10].path[0] = '\0';
	}
	while ((ch = getopt_long(argc, argv, "d:s:o:t:O:T:i:lh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			duration_s = atof(optarg);
			if (duration_s <= 0 || duration_s > 60)
				usage();
			break;
		case 'i':
			idle_seconds = atoi(optarg);
			if (idle_seconds <= 0 || idle_seconds > 3600)
				usage();
			break;
		case 's':
			only_scenario = optarg;
			break;
		case 'o':
			only_agent = optarg;
			if (strcmp(optarg, "tokagent") != 0 &&
			    strcmp(optarg, "ssh-agent") != 0)
				usage();
			break;
		case 't':
			snprintf(agents[0].path, sizeof(agents[0].path), "%s",
			    optarg);
			break;
		case 'O':
			snprintf(agents[1].path, sizeof(agents[1].path), "%s",
			    optarg);
			break;
		case 'T':
			snprintf(agents[BENCH_OSSH10].path,
			    sizeof(agents[BENCH_OSSH10].path), "%s", optarg);
			/* its ssh-keygen and ssh-add sit beside it */
			snprintf(ossh10_bin, sizeof(ossh10_bin), "%s", optarg);
			if (strrchr(ossh10_bin, '/') != NULL)
				*strrchr(ossh10_bin, '/') = '\0';
			else
				snprintf(ossh10_bin, sizeof(ossh10_bin), ".");
			break;
		case 'l':
			for (i = 0; i < NSCENARIOS; i++)
				printf("%-22s %s\n", scenarios[i].name,
				    scenarios[i].what);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (only_scenario != NULL) {
		for (i = 0; i < NSCENARIOS; i++)
			found |= strcmp(scenarios[i].name, only_scenario) == 0;
		if (!found) {
			fprintf(stderr, "bench: unknown scenario %s (--list)\n",
			    only_scenario);
			return 2;
		}
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (mkdtemp(tmpl) == NULL) {
		perror("bench: mkdtemp");
		return 1;
	}
	snprintf(keys.dir, sizeof(keys.dir), "%s", tmpl);
	snprintf(askpass, sizeof(askpass), "%s/askpass", tmpl);
	/* tokagent's policy file, when a scenario writes one. */
	setenv("XDG_CONFIG_HOME", tmpl, 1);
	agent_dir = tmpl;
	agent_askpass = askpass;
	if ((f = fopen(askpass, "w")) == NULL) {
		perror("bench: askpass");
		goto out;
	}
	fprintf(f, "#!/bin/sh\nsleep %d\nexit 0\n", BENCH_CONFIRM_SLEEP);
	fclose(f);
	chmod(askpass, 0700);
	fprintf(stderr, "bench: generating keys in %s\n", tmpl);
	if (make_keys(&keys) != 0) {
		fprintf(stderr, "bench: ssh-keygen failed\n");
		goto out;
	}
	find_builddir();
	snprintf(allowlist, sizeof(allowlist),
	    "/usr/lib*/*,/usr/local/lib*/*,%s/sk/.libs/*", builddir);
	snprintf(keys.p11_why, sizeof(keys.p11_why), "not selected");
	snprintf(keys.sk_why, sizeof(keys.sk_why), "not selected");
	snprintf(keys.dest_why, sizeof(keys.dest_why), "not selected");
	/* before the agents start: they inherit the environment set here */
	if (wanted(only_scenario, "p11-") && setup_p11(&keys) != 0)
		fprintf(stderr, "bench: SoftHSM: %s\n", keys.p11_why);
	if ((wanted(only_scenario, "sk-") ||
	    wanted(only_scenario, "list-during-touch") ||
	    wanted(only_scenario, "idle-cpu")) &&
	    setup_sk(&keys, wanted(only_scenario, "idle-cpu")) != 0)
		fprintf(stderr, "bench: vfido: %s\n", keys.sk_why);
	if (wanted(only_scenario, "sign-dest") && setup_dest(&keys) != 0)
		fprintf(stderr, "bench: session binding: %s\n",
		    keys.dest_why);
	snprintf(keys.mldsa_why, sizeof(keys.mldsa_why), "not selected");
	if (wanted(only_scenario, "sign-mldsa") && setup_mldsa(&keys) != 0)
		fprintf(stderr, "bench: ML-DSA: %s\n", keys.mldsa_why);
	for (j = 0; j < BENCH_NAGENTS; j++) {
		/* --agent-only ssh-agent covers OpenSSH 10's agent too */
		if (only_agent != NULL && strncmp(only_agent,
		    agents[j].name, strlen(only_agent)) != 0)
			continue;
		if (j == BENCH_OSSH10 && (!keys.mldsa_ok ||
		    agents[j].path[0] == '\0'))
			continue;
		if (start_agent(&agents[j], tmpl, askpass) != 0)
			printf("%s: failed to start (%s)\n", agents[j].name,
			    agents[j].path);
		else
			nup++;
	}
	if (nup == 0) {
		fprintf(stderr, "bench: no agent to measure\n");
		goto out;
	}

	printf("\nduration %.1f s per scenario and agent; latencies in ms\n\n",
	    duration_s);
	printf("%-34s | %-30s | %-30s | %s\n", "", "tokagent", "ssh-agent",
	    "ratio");
	printf("%-34s | %10s %9s %9s | %10s %9s %9s | %s\n", "scenario",
	    "ops/s", "p50", "p99", "ops/s", "p50", "p99", "tok/ssh");
	for (i = 0; i < NSCENARIOS; i++) {
		if (only_scenario != NULL &&
		    strcmp(scenarios[i].name, only_scenario) != 0)
			continue;
		memset(res, 0, sizeof(res));
		/* column 2: ssh-agent, or OpenSSH 10's for its scenarios */
		slot[1] = scenario_vs_ossh10(&scenarios[i]) ? BENCH_OSSH10 : 1;
		for (j = 0; j < 2; j++) {
			a = &agents[slot[j]];
			if (!a->up)
				continue;
			scenarios[i].run(a, &keys, &res[j]);
			if (waitpid(a->pid, NULL, WNOHANG) == a->pid) {
				a->pid = 0;
				a->up = 0;
				snprintf(res[j].note, sizeof(res[j].note),
				    "agent died (see %s)", a->log);
				res[j].ok = 0;
			}
		}
		printf("%-34s |", scenarios[i].what);
		for (j = 0; j < 2; j++)
			print_cell(&res[j], &agents[slot[j]],
			    scenario_idle(&scenarios[i]));
		if (res[0].ok && res[1].ok && scenario_idle(&scenarios[i]))
			printf(" %+.0f ms (tok-ssh)\n",
			    res[0].idle_cpu_ms - res[1].idle_cpu_ms);
		else if (res[0].ok && res[1].ok) {
			if (scenarios[i].latency && res[0].p99_ms > 0)
				ratio = res[1].p99_ms / res[0].p99_ms;
			else if (!scenarios[i].latency && res[1].ops > 0)
				ratio = res[0].ops / res[1].ops;
			else
				ratio = 0;
			printf(" %6.2fx%s\n", ratio,
			    scenarios[i].latency ? " (p99)" : "");
		} else
			printf(" -\n");
		for (j = 0; j < 2; j++) {
			if (res[j].note[0] != '\0')
				printf("%34s   %s: %s\n", "",
				    agents[slot[j]].name, res[j].note);
		}
		fflush(stdout);
	}
	printf("\nratio: tokagent ops/s over ssh-agent's; for latency "
	    "scenarios ssh-agent p99 over tokagent's (higher is better);\n"
	    "\"(vs 10.5)\": the ssh-agent column is OpenSSH 10.5's agent "
	    "(%s);\nidle CPU: ms of CPU used by the agent and all its "
	    "processes in the idle window, and their\nvoluntary context "
	    "switches (wakeups); the last column is the difference\n",
	    agents[BENCH_OSSH10].path[0] != '\0' ?
	    agents[BENCH_OSSH10].path : "OPENSSH10_BIN not set");
 out:
	kill_agents();
	if (keys.vfido_pid > 0) {
		kill(keys.vfido_pid, SIGTERM);
		waitpid(keys.vfido_pid, NULL, 0);
		vfido_pid = 0;
	}
	if (keys.vfido2_pid > 0) {
		kill(keys.vfido2_pid, SIGTERM);
		waitpid(keys.vfido2_pid, NULL, 0);
		vfido2_pid = 0;
	}
	buf_free(keys.skblob);
	buf_free(keys.sk2blob);
	buf_free(keys.bindmsg);
	buf_free(keys.sid);
	buf_free(keys.hostblob);
	buf_free(keys.ed1blob);
	buf_free(keys.edblob);
	buf_free(keys.ecdsablob);
	buf_free(keys.rsablob);
	buf_free(keys.confirmblob);
	buf_free(keys.mldsablob);
	(void)run_quiet(rmargv, NULL);
	return 0;
}
