/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent: an SSH agent for keys kept on hardware tokens, a drop-in
 * replacement for OpenSSH's ssh-agent.
 *
 * This file is the command line and process life: options, the socket,
 * daemonising or running a command, signals, and the event loop.  The
 * protocol lives in dispatch.c and the modules it calls.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/agentsock.h"
#include "agent/child.h"
#include "agent/client.h"
#include "agent/conn.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/loop.h"
#include "agent/notice.h"
#include "agent/audit.h"
#include "agent/dispatch.h"
#include "agent/helper-p11.h"
#include "agent/helper-piv.h"
#include "agent/helper-sk.h"
#include "agent/helper-soft.h"
#include "agent/policy-stage.h"
#include "agent/resident.h"
#include "agent/session.h"
#include "agent/sockdir.h"
#include "agent/status.h"
#include "common/harden.h"
#include "common/log.h"

#define PARENT_CHECK_MS		10000

static char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char socket_dir[PATH_MAX];
/* Set when systemd passed the socket: its path is systemd's, not ours. */
static char activated_path[sizeof(socket_path)];
static pid_t parent_pid;

enum {
	OPT_NO_SOFTWARE_KEYS = 256,
	OPT_NO_PIV,
	OPT_CONFIRM_FORWARDED,
	OPT_ALLOW_REMOTE_PROVIDERS,
	OPT_PIN_CACHE,
	OPT_NOTIFY_COMMAND,
	OPT_PROMPT,
	OPT_NO_DESKTOP_NOTIFY,
	OPT_IMPORT_RESIDENT,
	OPT_IMPORT_RESIDENT_ON_PLUG,
	OPT_POLICY,
	OPT_AUDIT_LOG,
	OPT_NO_SESSION_WATCH,
	OPT_EVENT_COMMAND,
};

static const struct option long_options[] = {
	{ "no-software-keys", no_argument, NULL, OPT_NO_SOFTWARE_KEYS },
	{ "no-piv", no_argument, NULL, OPT_NO_PIV },
	{ "confirm-forwarded", no_argument, NULL, OPT_CONFIRM_FORWARDED },
	{ "allow-remote-providers", no_argument, NULL,
	    OPT_ALLOW_REMOTE_PROVIDERS },
	{ "pin-cache", required_argument, NULL, OPT_PIN_CACHE },
	{ "notify-command", required_argument, NULL, OPT_NOTIFY_COMMAND },
	{ "prompt", required_argument, NULL, OPT_PROMPT },
	{ "no-desktop-notify", no_argument, NULL, OPT_NO_DESKTOP_NOTIFY },
	{ "import-resident", optional_argument, NULL, OPT_IMPORT_RESIDENT },
	{ "import-resident-on-plug", no_argument, NULL,
	    OPT_IMPORT_RESIDENT_ON_PLUG },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "audit-log", required_argument, NULL, OPT_AUDIT_LOG },
	{ "no-session-watch", no_argument, NULL, OPT_NO_SESSION_WATCH },
	{ "event-command", required_argument, NULL, OPT_EVENT_COMMAND },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/*
 * "tokagent piv-setup ...": the set-up program, found where the helpers
 * are, runs with the same arguments; after it changed a card, a running
 * tokagent is asked to read its cards again, so the new key is listed now.
 */
static int
run_piv_setup(char **argv)
{
	char *path;
	pid_t pid;
	int status;

	if ((path = helper_find_program("tokagent-piv-setup")) == NULL) {
		fprintf(stderr, "tokagent: cannot find tokagent-piv-setup\n");
		return 1;
	}
	argv[0] = path;
	if ((pid = fork()) == -1) {
		fprintf(stderr, "tokagent: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execv(path, argv);
		fprintf(stderr, "tokagent: %s: %s\n", path, strerror(errno));
		_exit(1);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	(void)client_piv_reread();
	return 0;
}

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: tokagent [-c | -s] [-DdTU] [-a bind_address] [-E hash] "
	    "[-O option]\n"
	    "                [-P allowed_providers] [-t life] [options]\n"
	    "       tokagent [-TU] [-a bind_address] [-O option] [-P "
	    "allowed_providers]\n"
	    "                [-t life] [options] command [arg ...]\n"
	    "       tokagent [-c | -s] -k\n"
	    "       tokagent -u[u]\n"
	    "       tokagent -V | version\n"
	    "       tokagent --import-resident[=DEVICE]\n"
	    "       tokagent status [--json]\n"
	    "       tokagent audit [--json] [N]\n"
	    "       tokagent events\n"
	    "       tokagent piv-setup [--slot SLOT] [--algorithm ALG] "
	    "[options]\n"
	    "\n"
	    "  -a PATH   bind the agent socket to PATH\n"
	    "  -c / -s   print C-shell / Bourne shell commands\n"
	    "  -D        stay in the foreground\n"
	    "  -d        debug mode (foreground, debug log on stderr)\n"
	    "  -k        kill the agent named by SSH_AGENT_PID\n"
	    "  -T        socket in $TMPDIR/ssh-XXXXXXXXXXXX/agent.<ppid>\n"
	    "  -U        do not clean stale sockets in ~/.ssh/agent/ at "
	    "start\n"
	    "  -u        only clean stale sockets in ~/.ssh/agent/ and exit "
	    "(-uu: those\n"
	    "            of every host name)\n"
	    "  -t LIFE   default lifetime of added keys (e.g. 90, 30m, 1h)\n"
	    "  -P LIST   allowed PKCS#11 / FIDO provider paths (patterns, "
	    "comma separated;\n"
	    "            default %s)\n"
	    "  -O allow-remote-pkcs11   let forwarded connections add "
	    "providers\n"
	    "  -O websafe-allow=LIST    FIDO applications whose keys may sign "
	    "any data, not\n"
	    "                           only SSH logins and SSHSIG (patterns, "
	    "comma separated,\n"
	    "                           !negated; default %s)\n"
	    "  -O no-restrict-websafe   let every FIDO key sign any data\n"
	    "  -E HASH   accepted for compatibility; fingerprints are "
	    "SHA256\n"
	    "  --no-software-keys       hardware-only agent: refuse "
	    "software keys\n"
	    "  --no-piv                 offer no keys of PIV cards "
	    "natively\n"
	    "  --confirm-forwarded      confirm every use that arrives "
	    "through forwarding\n"
	    "  --allow-remote-providers same as -O allow-remote-pkcs11\n"
	    "  --pin-cache=LIFE         keep a security key's PIN for LIFE "
	    "(default: ask each time)\n"
	    "  --notify-command=PROG    run PROG \"TEXT\" while a token "
	    "waits for a touch\n"
	    "                           (default: $SSH_ASKPASS with "
	    "SSH_ASKPASS_PROMPT=none)\n"
	    "  --no-desktop-notify      no desktop (D-Bus) touch "
	    "notifications\n"
	    "  --prompt=MODE            PIN and confirm prompts: auto "
	    "(default: $SSH_ASKPASS\n"
	    "                           with a display, else pinentry on "
	    "the client's terminal),\n"
	    "                           askpass, pinentry or "
	    "pinentry:/PATH/TO/PINENTRY\n"
	    "  --import-resident-on-plug  when a security key is plugged in "
	    "(or present at\n"
	    "                           start), ask its PIN and import its "
	    "resident keys\n"
	    "  --import-resident[=DEVICE] ask the running agent to import the "
	    "resident keys\n"
	    "                           of the security keys plugged in (or "
	    "of DEVICE only,\n"
	    "                           e.g. /dev/hidraw3 or unix:PATH)\n"
	    "  --policy=FILE            per-key policy (default "
	    "~/.config/tokagent/policy,\n"
	    "                           else %s/tokagent/policy; "
	    "see tokagent-policy(5))\n"
	    "  --audit-log=FILE         append an audit record (JSON) per "
	    "event to FILE\n"
	    "  --no-session-watch       do not watch screen lock and suspend "
	    "(logind)\n"
	    "  --event-command=CMD      run CMD (with sh -c) once; every audit "
	    "record goes to\n"
	    "                           its standard input as a JSON line\n"
	    "  -V, --version            print the version and exit\n"
	    "  -h, --help               this text\n", SYSCONFDIR, AGENT_DEFAULT_ALLOWLIST,
	    AGENT_DEFAULT_WEBSAFE);
	exit(status);
}

/* "90", "30m", "1h30m", "2d": seconds, or -1.  As sshd_config time formats. */
static long
parse_lifetime(const char *s)
{
	long total = 0, n, mult;
	char *end;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (!isdigit((u_char)*s))
			return -1;
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno != 0 || n < 0)
			return -1;
		switch (*end) {
		case '\0':
		case 's': case 'S':
			mult = 1;
			break;
		case 'm': case 'M':
			mult = 60;
			break;
		case 'h': case 'H':
			mult = 3600;
			break;
		case 'd': case 'D':
			mult = 86400;
			break;
		case 'w': case 'W':
			mult = 604800;
			break;
		default:
			return -1;
		}
		if (n > (UINT32_MAX - total) / mult)
			return -1;
		total += n * mult;
		s = *end == '\0' ? end : end + 1;
	}
	return total;
}

static int
shell_is_csh(void)
{
	const char *sh = getenv("SHELL");
	size_t len;

	if (sh == NULL || (len = strlen(sh)) < 3)
		return 0;
	return strcmp(sh + len - 3, "csh") == 0;
}

static void
cleanup_socket(void)
{
	if (socket_path[0] != '\0')
		unlink(socket_path);
	if (socket_dir[0] != '\0')
		rmdir(socket_dir);
}

static void
kill_agent(int csh)
{
	const char *pidstr = getenv("SSH_AGENT_PID");
	long pid;
	char *end;

	if (pidstr == NULL) {
		fprintf(stderr, "SSH_AGENT_PID not set, cannot kill agent\n");
		exit(1);
	}
	errno = 0;
	pid = strtol(pidstr, &end, 10);
	if (errno != 0 || *end != '\0' || pid < 2) {
		fprintf(stderr, "SSH_AGENT_PID=%s, which is not a good PID\n",
		    pidstr);
		exit(1);
	}
	if (kill((pid_t)pid, SIGTERM) == -1) {
		perror("kill");
		exit(1);
	}
	printf(csh ? "unsetenv SSH_AUTH_SOCK;\n" : "unset SSH_AUTH_SOCK;\n");
	printf(csh ? "unsetenv SSH_AGENT_PID;\n" : "unset SSH_AGENT_PID;\n");
	printf("echo Agent pid %ld killed;\n", pid);
	exit(0);
}

/*
 * make_socket: bind the listening socket.  requested: -a PATH.  Without
 * it: with -T (tmp_form) $TMPDIR/ssh-XXXXXXXXXXXX/agent.<ppid> as
 * OpenSSH's -T; else $XDG_RUNTIME_DIR/tokagent.XXXXXX/agent.<ppid>
 * when that directory is usable, else OpenSSH 10's default
 * ~/.ssh/agent/s.<host hash>.agent.XXXXXXXXXX.  In both default cases,
 * stale sockets in ~/.ssh/agent/ are cleaned first unless -U (no_clean).
 */
static int
make_socket(const char *requested, int tmp_form, int no_clean)
{
	const char *base, *xdg = getenv("XDG_RUNTIME_DIR");
	char *home = NULL;
	int fd, xdg_ok;

	xdg_ok = xdg != NULL && *xdg != '\0' && access(xdg, W_OK) == 0;
	if (requested == NULL && !tmp_form) {
		home = sockdir_home();
		if (!no_clean)
			sockdir_clean_stale(home, 0);
		if (!xdg_ok && home != NULL) {
			if (sockdir_listen(home, &fd, socket_path,
			    sizeof(socket_path)) != 0)
				fatal_f("could not make a socket in ~/%s",
				    SOCKDIR_SUBDIR);
			free(home);
			return fd;
		}
		free(home);
		/* Neither XDG_RUNTIME_DIR nor a home: the -T form. */
		tmp_form = !xdg_ok;
	}
	if (requested != NULL) {
		if (strlcpy(socket_path, requested, sizeof(socket_path)) >=
		    sizeof(socket_path))
			fatal_f("socket path too long: %s", requested);
	} else {
		if (tmp_form) {
			/* As OpenSSH's mktemp_proto. */
			if ((base = getenv("TMPDIR")) == NULL ||
			    (size_t)snprintf(socket_dir, sizeof(socket_dir),
			    "%s/ssh-XXXXXXXXXXXX", base) >= sizeof(socket_dir))
				(void)snprintf(socket_dir, sizeof(socket_dir),
				    "/tmp/ssh-XXXXXXXXXXXX");
		} else if ((size_t)snprintf(socket_dir, sizeof(socket_dir),
		    "%s/tokagent.XXXXXX", xdg) >= sizeof(socket_dir))
			fatal_f("XDG_RUNTIME_DIR too long");
		/* mkdtemp makes the directory 0700. */
		if (mkdtemp(socket_dir) == NULL)
			fatal_f("could not make the socket directory %s: %s",
			    socket_dir, strerror(errno));
		if ((size_t)snprintf(socket_path, sizeof(socket_path),
		    "%s/agent.%ld", socket_dir, (long)parent_pid) >=
		    sizeof(socket_path))
			fatal_f("socket path too long");
	}
	/* A dead agent's socket is replaced, a live agent's is not. */
	if ((fd = agentsock_bind(socket_path)) < 0) {
		socket_path[0] = '\0';	/* not ours: never unlinked */
		cleanup_socket();
		exit(1);
	}
	return fd;
}

static void
on_signal(int sig)
{
	(void)sig;
	loop_stop();
}

/* SIGUSR1: delete every key, as OpenSSH 10's ssh-agent; keep running. */
static void
on_keydrop(int sig)
{
	logit("signal %d received; removing all keys", sig);
	dispatch_remove_all("SIGUSR1");
}

static void
on_sighup(int sig)
{
	(void)sig;
	policy_stage_reload();
}

static void
check_parent(void *arg)
{
	(void)arg;
	if (parent_pid > 1 && kill(parent_pid, 0) == -1 && errno == ESRCH) {
		verbose("parent %ld has exited", (long)parent_pid);
		loop_stop();
		return;
	}
	(void)loop_add_timer(PARENT_CHECK_MS, check_parent, NULL);
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	/* Thousands of clients at once each need a descriptor. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	int ch, csh = -1, Dflag = 0, dflag = 0, kflag = 0, fd, devnull;
	int websafe_set = 0, Tflag = 0, Uflag = 0, uflag = 0;
	char *home;
	const char *bind_path = NULL, *policy_file = NULL, *audit_log = NULL;
	int session_watch = 1;
	const char *event_command = NULL;
	char pidbuf[32];
	struct sigaction sa;
	long life;
	pid_t pid;

	/* The agent's own keys-in-memory guarantee starts before anything else. */
	harden_process();
	while ((ch = getopt_long(argc, argv, "+a:cDdE:hkO:P:sTt:UuV", long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			bind_path = optarg;
			break;
		case 'c':
			if (csh == 0)
				usage(1);
			csh = 1;
			break;
		case 's':
			if (csh == 1)
				usage(1);
			csh = 0;
			break;
		case 'D':
			Dflag = 1;
			break;
		case 'd':
			dflag++;
			break;
		case 'E':
			if (strcasecmp(optarg, "sha256") != 0 &&
			    strcasecmp(optarg, "md5") != 0) {
				fprintf(stderr, "Invalid hash algorithm "
				    "\"%s\"\n", optarg);
				exit(1);
			}
			break;
		case 'k':
			kflag = 1;
			break;
		case 'O':
			if (strcmp(optarg, "allow-remote-pkcs11") == 0)
				agent_opts.allow_remote_providers = 1;
			else if (strcmp(optarg, "no-restrict-websafe") == 0)
				agent_opts.restrict_websafe = 0;
			else if (strncmp(optarg, "websafe-allow=", 14) == 0) {
				/* As ssh-agent: one list, not several. */
				if (websafe_set++) {
					fprintf(stderr, "websafe-allow already "
					    "set\n");
					exit(1);
				}
				agent_opts.websafe_allow = optarg + 14;
			} else {
				fprintf(stderr, "Unknown -O option \"%s\"\n",
				    optarg);
				exit(1);
			}
			break;
		case 'P':
			agent_opts.provider_allowlist = optarg;
			break;
		case 'T':
			Tflag = 1;
			break;
		case 'U':
			Uflag = 1;
			break;
		case 'u':
			uflag++;
			break;
		case 't':
			if ((life = parse_lifetime(optarg)) < 0) {
				fprintf(stderr, "Invalid lifetime\n");
				usage(1);
			}
			agent_opts.default_lifetime = (uint32_t)life;
			break;
		case OPT_NO_SOFTWARE_KEYS:
			agent_opts.software_keys = 0;
			break;
		case OPT_NO_PIV:
			agent_opts.piv = 0;
			break;
		case OPT_CONFIRM_FORWARDED:
			agent_opts.confirm_forwarded = 1;
			break;
		case OPT_ALLOW_REMOTE_PROVIDERS:
			agent_opts.allow_remote_providers = 1;
			break;
		case OPT_PIN_CACHE:
			if ((life = parse_lifetime(optarg)) < 0) {
				fprintf(stderr, "Invalid PIN cache time\n");
				usage(1);
			}
			agent_opts.pin_cache_s = (uint32_t)life;
			break;
		case OPT_NOTIFY_COMMAND:
			agent_opts.notify_command = optarg;
			break;
		case OPT_PROMPT:
			if (strcmp(optarg, "auto") == 0)
				agent_opts.prompt_mode = AGENT_PROMPT_AUTO;
			else if (strcmp(optarg, "askpass") == 0)
				agent_opts.prompt_mode = AGENT_PROMPT_ASKPASS;
			else if (strcmp(optarg, "pinentry") == 0)
				agent_opts.prompt_mode = AGENT_PROMPT_PINENTRY;
			else if (strncmp(optarg, "pinentry:", 9) == 0 &&
			    optarg[9] == '/') {
				agent_opts.prompt_mode = AGENT_PROMPT_PINENTRY;
				agent_opts.pinentry_program = optarg + 9;
			} else {
				fprintf(stderr, "--prompt: auto, askpass, "
				    "pinentry or pinentry:/PATH\n");
				exit(1);
			}
			break;
		case OPT_NO_DESKTOP_NOTIFY:
			notice_set_desktop(0);
			break;
		case OPT_IMPORT_RESIDENT:
			return client_import_resident(optarg);
		case OPT_IMPORT_RESIDENT_ON_PLUG:
			agent_opts.import_resident_on_plug = 1;
			break;
		case OPT_POLICY:
			policy_file = optarg;
			break;
		case OPT_AUDIT_LOG:
			audit_log = optarg;
			break;
		case OPT_NO_SESSION_WATCH:
			session_watch = 0;
			break;
		case OPT_EVENT_COMMAND:
			event_command = optarg;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			exit(0);
		default:
			usage(1);
		}
	}
	argc -= optind;
	argv += optind;
	/* "tokagent version", as -V: no agent needed. */
	if (argc == 1 && strcmp(argv[0], "version") == 0) {
		printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return 0;
	}
	/* A client command, not a program to run under the agent. */
	if (argc >= 1 && strcmp(argv[0], "status") == 0) {
		if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") != 0))
			usage(1);
		return status_client(argc == 2);
	}
	/* Client commands for a running agent, not a command to run. */
	if (argc > 0 && strcmp(argv[0], "audit") == 0)
		return client_audit(argc, argv);
	if (argc > 0 && strcmp(argv[0], "events") == 0)
		return client_events(argc, argv);
	/* PIV card set-up: a program of its own (pcsc-lite), no agent needed. */
	if (argc > 0 && strcmp(argv[0], "piv-setup") == 0)
		return run_piv_setup(argv);
	if (argc > 0 && (csh != -1 || Dflag || dflag || kflag || uflag))
		usage(1);
	if (Dflag && dflag)
		usage(1);
	if (csh == -1)
		csh = shell_is_csh();
	if (kflag)
		kill_agent(csh);
	if (uflag) {
		/* As OpenSSH 10's ssh-agent -u: clean, say so, exit. */
		log_init("tokagent", dflag > 1 ? LOG_LEVEL_DEBUG3 :
		    (dflag ? LOG_LEVEL_DEBUG2 : LOG_LEVEL_INFO), 1);
		if ((home = sockdir_home()) == NULL) {
			fprintf(stderr, "Couldn't determine home directory\n");
			exit(1);
		}
		sockdir_clean_stale(home, uflag > 1);
		free(home);
		printf("Deleted stale agent sockets in ~/%s\n", SOCKDIR_SUBDIR);
		exit(0);
	}

	log_init("tokagent", dflag > 1 ? LOG_LEVEL_DEBUG3 :
	    (dflag ? LOG_LEVEL_DEBUG2 : LOG_LEVEL_INFO), 1);
	raise_fd_limit();
	/* A bad policy stops the start, before the socket exists. */
	if (policy_stage_start(policy_file, audit_log) != 0)
		exit(1);
	parent_pid = getpid();
	fd = argc > 0 ? -1 :
	    agentsock_activated(activated_path, sizeof(activated_path));
	if (fd != -1) {
		/* Run by the service manager: foreground, log to stderr. */
		if (!dflag)
			Dflag = 1;
		logit("socket-activated on %s", activated_path);
	} else {
		/* As OpenSSH's ssh-agent: -T wins over -a. */
		fd = make_socket(Tflag ? NULL : bind_path, Tflag, Uflag);
	}

	if (activated_path[0] != '\0')
		;	/* nobody to print the variables for */
	else if (Dflag || dflag) {
		printf(csh ? "setenv SSH_AUTH_SOCK %s;\n" :
		    "SSH_AUTH_SOCK=%s; export SSH_AUTH_SOCK;\n", socket_path);
		printf("echo Agent pid %ld;\n", (long)parent_pid);
		fflush(stdout);
	} else {
		if ((pid = fork()) == -1)
			fatal_f("fork: %s", strerror(errno));
		if (pid != 0) {
			/* Parent: print the variables or run the command. */
			close(fd);
			if (argc == 0) {
				printf(csh ? "setenv SSH_AUTH_SOCK %s;\n" :
				    "SSH_AUTH_SOCK=%s; export SSH_AUTH_SOCK;\n",
				    socket_path);
				printf(csh ? "setenv SSH_AGENT_PID %ld;\n" :
				    "SSH_AGENT_PID=%ld; export "
				    "SSH_AGENT_PID;\n", (long)pid);
				printf("echo Agent pid %ld;\n", (long)pid);
				exit(0);
			}
			snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)pid);
			if (setenv("SSH_AUTH_SOCK", socket_path, 1) == -1 ||
			    setenv("SSH_AGENT_PID", pidbuf, 1) == -1)
				fatal_f("setenv");
			execvp(argv[0], argv);
			perror(argv[0]);
			exit(1);
		}
		/* Child: the agent. */
		if (argc > 0) {
			/* Leave with the command that owns us. */
			(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		} else {
			if (setsid() == -1)
				fatal_f("setsid: %s", strerror(errno));
		}
		if (chdir("/") == -1)
			fatal_f("chdir: %s", strerror(errno));
		if ((devnull = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(devnull, STDIN_FILENO);
			(void)dup2(devnull, STDOUT_FILENO);
			(void)dup2(devnull, STDERR_FILENO);
			if (devnull > 2)
				close(devnull);
		}
		log_init("tokagent", LOG_LEVEL_INFO, 0);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	loop_init();
	child_init();
	/* SIGHUP reads the policy file again (ssh-agent would exit). */
	loop_on_signal(SIGHUP, on_sighup);
	policy_stage_open_audit(!(Dflag || dflag));
	if (event_command != NULL && audit_hook_start(event_command) != 0)
		fatal_f("could not start the event command");
	if (session_watch)
		session_watch_start();
	if ((agent_idtab = idtab_new()) == NULL)
		fatal_f("out of memory");
	helper_sk_set_device_handler(resident_device_event);
	loop_on_signal(SIGUSR1, on_keydrop);
	helper_soft_start();
	if (agent_opts.piv)
		helper_piv_start();
	/* Its device events announce the tokens present now, too. */
	if (agent_opts.import_resident_on_plug && helper_sk_get() == NULL)
		fatal_f("--import-resident-on-plug needs the FIDO helper");
	conn_set_handler(dispatch_message);
	conn_listen(fd, geteuid());
	if (argc > 0)
		(void)loop_add_timer(PARENT_CHECK_MS, check_parent, NULL);
	verbose("listening on %s", activated_path[0] != '\0' ?
	    activated_path : socket_path);

	while (loop_running())
		loop_run_once();

	verbose("exiting");
	conn_close_all();
	session_watch_stop();
	helper_p11_shutdown();
	helper_piv_shutdown();
	helper_sk_shutdown();
	helper_stop(agent_soft);
	idtab_free(agent_idtab);
	audit_shutdown();
	policy_stage_stop();
	close(fd);
	cleanup_socket();
	return 0;
}
