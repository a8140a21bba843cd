/* Prompt and notification text (see prompt.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conn.h"
#include "agent/dest.h"
#include "agent/idtab.h"
#include "agent/procinfo.h"
#include "agent/prompt.h"
#include "agent/userauth.h"
#include "common/buf.h"
#include "common/key.h"

#define SSHSIG_MAGIC	"SSHSIG"

/* The namespace of an SSHSIG signed-data blob, or NULL when data is none. */
static char *
prompt_sshsig_namespace(const u_char *data, size_t len)
{
	struct buf *b;
	char *ns = NULL;

	if (len < 6 || memcmp(data, SSHSIG_MAGIC, 6) != 0 ||
	    (b = buf_from(data + 6, len - 6)) == NULL)
		return NULL;
	if (buf_get_cstring(b, &ns, NULL) != 0)
		ns = NULL;
	buf_free(b);
	return ns;
}

static char *
prompt_action(const struct conn *c, const struct identity *id,
    const u_char *data, size_t len, const struct userauth_request *req)
{
	char *ns, *path = NULL, *s = NULL;
	size_t n;

	if ((ns = prompt_sshsig_namespace(data, len)) != NULL) {
		if (asprintf(&s, "sign data for namespace \"%s\"", ns) < 0)
			s = NULL;
		free(ns);
		return s;
	}
	if (req == NULL)
		return strdup("use");
	n = dest_bindings_count(c->bindings);
	if (n == 0) {
		if (asprintf(&s, "log in as %s to an unknown host (not bound "
		    "to a session)", userauth_user(req)) < 0)
			s = NULL;
	} else if (dest_describe_path(id->dest, c->bindings,
	    userauth_user(req), &path) == 0) {
		if (asprintf(&s, "log in as %s (verified host key)%s", path,
		    n > 1 ? " through agent forwarding" : "") < 0)
			s = NULL;
	}
	free(path);
	return s != NULL ? s : strdup("use");
}

char *
prompt_describe(const struct conn *c, const struct identity *id,
    const u_char *data, size_t len, const struct userauth_request *req)
{
	char *who, *action, *s = NULL;

	who = procinfo_describe(c->pid);
	action = prompt_action(c, id, data, len, req);
	if (who != NULL && action != NULL &&
	    asprintf(&s, "%s to %s with key \"%s\" %s", who, action,
	    id->comment, id->fingerprint) < 0)
		s = NULL;
	free(who);
	free(action);
	return s;
}

char *
prompt_confirm_text(const char *description)
{
	char *s;

	if (asprintf(&s, "Allow %s?", description) < 0)
		return NULL;
	return s;
}
