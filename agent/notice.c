/* Touch notices (see notice.h). */
#include "config.h"

#include <stdlib.h>

#include "agent/askpass.h"
#include "agent/notice.h"
#include "common/secmem.h"

struct notice {
	struct askpass *askpass;	/* SSH_ASKPASS or --notify-command */
};

/* A notifier that exits by itself is freed by askpass: forget it. */
static void
notice_askpass_done(int r, char *secret, void *arg)
{
	struct notice *n = arg;

	(void)r;
	n->askpass = NULL;
	secmem_free(secret);
}

struct notice *
notice_start(const char *summary, const char *text)
{
	struct notice *n;

	(void)summary;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->askpass = askpass_start(ASKPASS_NOTIFY, text, 0,
	    notice_askpass_done, n);
	if (n->askpass == NULL) {
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
	free(n);
}
