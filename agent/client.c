/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* tokagent's client commands (see client.h). */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/audit.h"
#include "agent/client.h"
#include "agent/helper-piv.h"
#include "agent/resident.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"

#define CLIENT_REPLY_MAX	(256 * 1024)

int
client_connect(void)
{
	struct sockaddr_un sun;
	const char *path = getenv("SSH_AUTH_SOCK");
	int fd;

	if (path == NULL || *path == '\0') {
		fprintf(stderr, "SSH_AUTH_SOCK is not set\n");
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "connect %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
client_request(int fd, const struct buf *req, size_t max,
    struct buf **replyp)
{
	struct buf *out = NULL, *in = NULL;
	u_char tmp[4096];
	ssize_t n;
	int r;

	*replyp = NULL;
	if ((out = buf_new()) == NULL || (in = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = frame_put(out, req)) != 0)
		goto out;
	if (write(fd, buf_ptr(out), buf_len(out)) != (ssize_t)buf_len(out)) {
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	for (;;) {
		if ((r = frame_take(in, max, replyp)) != 0 ||
		    *replyp != NULL)
			goto out;
		if ((n = read(fd, tmp, sizeof(tmp))) <= 0) {
			r = TOK_ERR_PROTOCOL;
			goto out;
		}
		if ((r = buf_put(in, tmp, (size_t)n)) != 0)
			goto out;
	}
 out:
	buf_free(out);
	buf_free(in);
	return r;
}

int
client_import_resident(const char *device)
{
	struct buf *req = NULL, *reply = NULL;
	uint8_t type;
	uint32_t n, dup = 0;
	int fd, r, status = 1;

	if (device != NULL && *device == '\0') {
		fprintf(stderr, "--import-resident: empty device name\n");
		return 1;
	}
	if ((fd = client_connect()) == -1)
		return 2;
	/* Without a device the request is what older agents understand. */
	if ((req = buf_new()) == NULL ||
	    buf_put_u8(req, SSH_AGENTC_EXTENSION) != 0 ||
	    buf_put_cstring(req, RESIDENT_EXT) != 0 ||
	    (device != NULL && buf_put_cstring(req, device) != 0)) {
		fprintf(stderr, "out of memory\n");
		goto out;
	}
	if ((r = client_request(fd, req, CLIENT_REPLY_MAX, &reply)) != 0) {
		fprintf(stderr, "agent: %s\n", tok_strerror(r));
		goto out;
	}
	if (buf_get_u8(reply, &type) != 0 ||
	    type != SSH_AGENT_EXTENSION_RESPONSE ||
	    buf_get_cstring(reply, NULL, NULL) != 0 ||
	    buf_get_u32(reply, &n) != 0) {
		fprintf(stderr, "The agent could not import resident keys "
		    "(see its log).\n");
		goto out;
	}
	/* Older agents do not count the keys they already had. */
	if (buf_len(reply) != 0 && (buf_get_u32(reply, &dup) != 0 ||
	    buf_expect_empty(reply) != 0)) {
		fprintf(stderr, "The agent's reply is malformed.\n");
		goto out;
	}
	if (dup != 0)
		printf("Imported %u resident key%s (%u already loaded).\n", n,
		    n == 1 ? "" : "s", dup);
	else
		printf("Imported %u resident key%s.\n", n, n == 1 ? "" : "s");
	status = 0;
 out:
	buf_free(req);
	buf_free(reply);
	close(fd);
	return status;
}

int
client_audit(int argc, char **argv)
{
	struct buf *req = NULL, *reply = NULL;
	char *json = NULL, *line = NULL;
	unsigned long want = 50;
	uint32_t n, i;
	uint8_t type;
	char *end;
	int fd = -1, r, json_out = 0, status = 1, a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--json") == 0)
			json_out = 1;
		else {
			want = strtoul(argv[a], &end, 10);
			if (*argv[a] == '\0' || *end != '\0' || want == 0 ||
			    want > AUDIT_RING) {
				fprintf(stderr, "usage: tokagent audit [--json]"
				    " [N]  (N from 1 to %d)\n", AUDIT_RING);
				return 2;
			}
		}
	}
	if ((fd = client_connect()) == -1)
		return 2;
	if ((req = buf_new()) == NULL ||
	    buf_put_u8(req, SSH_AGENTC_EXTENSION) != 0 ||
	    buf_put_cstring(req, AUDIT_EXT_NAME) != 0 ||
	    buf_put_u32(req, (uint32_t)want) != 0) {
		fprintf(stderr, "out of memory\n");
		goto out;
	}
	if ((r = client_request(fd, req, CLIENT_REPLY_MAX, &reply)) != 0) {
		fprintf(stderr, "agent: %s\n", tok_strerror(r));
		goto out;
	}
	if (buf_get_u8(reply, &type) != 0 ||
	    type != SSH_AGENT_EXTENSION_RESPONSE ||
	    buf_get_cstring(reply, NULL, NULL) != 0 ||
	    buf_get_u32(reply, &n) != 0 || n > AUDIT_RING) {
		fprintf(stderr, "The agent gave no audit records (is it "
		    "tokagent, and local?).\n");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (buf_get_cstring(reply, &json, NULL) != 0 ||
		    buf_get_cstring(reply, &line, NULL) != 0) {
			fprintf(stderr, "The agent's reply is malformed.\n");
			goto out;
		}
		printf("%s\n", json_out ? json : line);
		free(json);
		free(line);
		json = line = NULL;
	}
	if (buf_expect_empty(reply) != 0) {
		fprintf(stderr, "The agent's reply is malformed.\n");
		goto out;
	}
	status = 0;
 out:
	free(json);
	free(line);
	buf_free(req);
	buf_free(reply);
	if (fd != -1)
		close(fd);
	return status;
}

int
client_events(int argc, char **argv)
{
	struct buf *req = NULL, *in = NULL, *m = NULL, *out = NULL;
	char *name = NULL, *json = NULL;
	u_char tmp[4096];
	uint8_t type;
	ssize_t n;
	int fd = -1, status = 1, acked = 0;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: tokagent events\n");
		return 2;
	}
	if ((fd = client_connect()) == -1)
		return 2;
	if ((req = buf_new()) == NULL || (in = buf_new()) == NULL ||
	    (out = buf_new()) == NULL ||
	    buf_put_u8(req, SSH_AGENTC_EXTENSION) != 0 ||
	    buf_put_cstring(req, AUDIT_EVENTS_EXT_NAME) != 0 ||
	    frame_put(out, req) != 0) {
		fprintf(stderr, "out of memory\n");
		goto out;
	}
	if (write(fd, buf_ptr(out), buf_len(out)) != (ssize_t)buf_len(out)) {
		fprintf(stderr, "write to agent: %s\n", strerror(errno));
		goto out;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		if (frame_take(in, CLIENT_REPLY_MAX, &m) != 0) {
			fprintf(stderr, "The agent's message is too long.\n");
			goto out;
		}
		if (m == NULL) {
			if ((n = read(fd, tmp, sizeof(tmp))) <= 0) {
				/* The agent went away: that ends the stream. */
				status = acked ? 0 : 1;
				if (!acked)
					fprintf(stderr, "The agent refused to "
					    "send events.\n");
				goto out;
			}
			if (buf_put(in, tmp, (size_t)n) != 0)
				goto out;
			continue;
		}
		if (buf_get_u8(m, &type) != 0)
			goto bad;
		if (!acked) {
			if (type != SSH_AGENT_SUCCESS) {
				fprintf(stderr, "The agent refused to send "
				    "events.\n");
				goto out;
			}
			acked = 1;
		} else {
			if (type != SSH_AGENT_EXTENSION_RESPONSE ||
			    buf_get_cstring(m, &name, NULL) != 0 ||
			    strcmp(name, AUDIT_EVENTS_EXT_NAME) != 0 ||
			    buf_get_cstring(m, &json, NULL) != 0 ||
			    buf_expect_empty(m) != 0)
				goto bad;
			if (printf("%s\n", json) < 0) {
				status = 0;	/* the reader went away */
				goto out;
			}
			free(name);
			free(json);
			name = json = NULL;
		}
		buf_free(m);
		m = NULL;
	}
 bad:
	fprintf(stderr, "The agent's message is malformed.\n");
 out:
	free(name);
	free(json);
	buf_free(m);
	buf_free(req);
	buf_free(in);
	buf_free(out);
	if (fd != -1)
		close(fd);
	return status;
}

int
client_piv_reread(void)
{
	struct buf *req = NULL, *reply = NULL;
	const char *sock = getenv("SSH_AUTH_SOCK");
	uint8_t type;
	int fd, ok = 0;

	if (sock == NULL || *sock == '\0' || (fd = client_connect()) == -1)
		return -1;
	if ((req = buf_new()) != NULL &&
	    buf_put_u8(req, SSH_AGENTC_EXTENSION) == 0 &&
	    buf_put_cstring(req, PIV_REREAD_EXT) == 0 &&
	    client_request(fd, req, CLIENT_REPLY_MAX, &reply) == 0 &&
	    buf_get_u8(reply, &type) == 0 && type == SSH_AGENT_SUCCESS)
		ok = 1;
	if (!ok)
		fprintf(stderr, "The agent at %s did not read the card again "
		    "(not tokagent?): a tokagent lists the new key once the "
		    "card is plugged in again.\n", sock);
	buf_free(req);
	buf_free(reply);
	close(fd);
	return ok ? 0 : -1;
}
