/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Touch notices (see notice.h). */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/askpass.h"
#include "agent/helper.h"
#include "agent/loop.h"
#include "agent/notice.h"
#include "common/err.h"
#include "common/log.h"
#include "common/secmem.h"

#define NOTICE_DESKTOP_PROGRAM	"tokagent-notify-desktop"
/*
 * After the desktop notifier failed (a session bus with no notification
 * server, as on a headless box with a user bus), rest that long before
 * the next try instead of failing at every touch.
 */
#define NOTICE_DESKTOP_BACKOFF_S	60
#define NOTICE_FLASH_MS		10000	/* notice_flash: shown this long */

struct notice {
	struct askpass *askpass;	/* SSH_ASKPASS or --notify-command */
	struct askpass *desktop;	/* NOTICE_DESKTOP_PROGRAM */
	notice_cancel_cb *cancel;	/* the user chose Cancel; may be NULL */
	void *arg;
};

static int notice_desktop_on = 1;
static int notice_desktop_looked;
static char *notice_desktop_path;	/* found once, kept for the process */
static int64_t notice_desktop_resume;	/* monotonic s; 0: no back-off */

static int64_t
notice_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec;
}

void
notice_set_desktop(int on)
{
	notice_desktop_on = on;
}

/*
 * The user chose Cancel on a channel: tell the owner, who closes the
 * notice (and so n is not touched after).
 */
static void
notice_cancelled(struct notice *n)
{
	notice_cancel_cb *cancel = n->cancel;

	n->cancel = NULL;
	if (cancel != NULL)
		cancel(n->arg);
}

/* A notifier that exits by itself is freed by askpass: forget it. */
static void
notice_askpass_done(int r, char *secret, void *arg)
{
	struct notice *n = arg;

	n->askpass = NULL;
	secmem_free(secret);
	if (r == TOK_ERR_CANCELLED)
		notice_cancelled(n);
}

static void
notice_desktop_done(int r, char *secret, void *arg)
{
	struct notice *n = arg;

	n->desktop = NULL;
	secmem_free(secret);
	/* 0: taken down by the user.  Else no bus or server; it said why. */
	if (r == TOK_ERR_CANCELLED)
		notice_cancelled(n);
	else if (r != 0) {
		verbose_f("desktop notifier failed; none for %d s",
		    NOTICE_DESKTOP_BACKOFF_S);
		notice_desktop_resume = notice_now() + NOTICE_DESKTOP_BACKOFF_S;
	}
}

/*
 * notice_desktop_program: the desktop notifier when a session bus is named
 * in the environment and the program is installed, else NULL.
 */
static const char *
notice_desktop_program(void)
{
	const char *bus = getenv("DBUS_SESSION_BUS_ADDRESS");

	if (!notice_desktop_on || bus == NULL || *bus == '\0' ||
	    (notice_desktop_resume != 0 && notice_now() < notice_desktop_resume))
		return NULL;
	if (!notice_desktop_looked) {
		notice_desktop_looked = 1;
		notice_desktop_path = helper_find_program(
		    NOTICE_DESKTOP_PROGRAM);
		if (notice_desktop_path == NULL)
			verbose_f("%s not found: no desktop notices",
			    NOTICE_DESKTOP_PROGRAM);
	}
	return notice_desktop_path;
}

/*
 * notice_askpass_ok: the askpass program can show a notice.  X11's
 * ssh-askpass (Debian's ssh-askpass package, reached through the
 * /usr/bin/ssh-askpass alternative) knows no SSH_ASKPASS_PROMPT: it would
 * show a passphrase field under "touch your key", inviting the PIN.  Such
 * a program gets confirmations and PIN prompts, never notices.
 */
static int
notice_askpass_ok(void)
{
	static const char *const no_notice[] = { "x11-ssh-askpass", NULL };
	static int logged;
	char path[PATH_MAX], link[PATH_MAX], *slash;
	const char *base;
	ssize_t n;
	int i, hops;

	if (agent_opts.notify_command != NULL)
		return 1;
	if (strlcpy(path, askpass_program(), sizeof(path)) >= sizeof(path))
		return 1;
	/* Every name on the way counts (Debian: ssh-askpass -> alternatives). */
	for (hops = 0; hops < 16; hops++) {
		base = (slash = strrchr(path, '/')) != NULL ? slash + 1 : path;
		for (i = 0; no_notice[i] != NULL; i++) {
			if (strcmp(base, no_notice[i]) != 0)
				continue;
			if (!logged++)
				logit("%s can not show a notice without a "
				    "passphrase field: touch notices go to "
				    "the desktop and the log only",
				    askpass_program());
			return 0;
		}
		if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
			break;
		link[n] = '\0';
		if (link[0] == '/' || slash == NULL)
			strlcpy(path, link, sizeof(path));
		else {
			slash[1] = '\0';
			if (strlcat(path, link, sizeof(path)) >= sizeof(path))
				break;
		}
	}
	return 1;
}

struct notice *
notice_start(const char *summary, const char *text, notice_cancel_cb *cancel,
    void *arg)
{
	struct notice *n;
	const char *prog, *body = text;
	char *argv[4];
	size_t len;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->cancel = cancel;
	n->arg = arg;
	if (notice_askpass_ok())
		n->askpass = askpass_start(ASKPASS_NOTIFY, text, 0,
		    notice_askpass_done, n);
	if ((prog = notice_desktop_program()) != NULL) {
		/* The summary is the title: not again as the body's first line */
		len = summary != NULL ? strlen(summary) : 0;
		if (len > 0 && strncmp(text, summary, len) == 0 &&
		    text[len] == '\n')
			body = text + len + 1;
		argv[0] = (char *)prog;
		argv[1] = (char *)(summary != NULL ? summary : "tokagent");
		argv[2] = (char *)body;
		argv[3] = NULL;
		n->desktop = askpass_start_notifier(prog, argv,
		    notice_desktop_done, n);
	}
	if (n->askpass == NULL && n->desktop == NULL) {
		free(n);
		return NULL;
	}
	return n;
}

void
notice_close(struct notice *n)
{
	if (n == NULL)
		return;
	askpass_cancel(n->askpass);
	askpass_cancel(n->desktop);
	free(n);
}

/* The one notice_flash shown now, and its timer. */
static struct notice *notice_flashed;
static struct loop_timer *notice_flash_timer;

static void
notice_flash_over(void *arg)
{
	(void)arg;
	loop_cancel_timer(notice_flash_timer);
	notice_flash_timer = NULL;
	notice_close(notice_flashed);
	notice_flashed = NULL;
}

void
notice_flash(const char *summary, const char *text)
{
	notice_flash_over(NULL);
	if ((notice_flashed = notice_start(summary, text, NULL,
	    NULL)) != NULL && (notice_flash_timer =
	    loop_add_timer(NOTICE_FLASH_MS, notice_flash_over, NULL)) == NULL)
		notice_flash_over(NULL);
}
