/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Persistent authenticator state: one file, replaced atomically. */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "tests/vfido/state.h"

#define STATE_MAGIC	"vfido-state-v1"
#define STATE_FILE_MAX	(1024 * 1024)

void
vfido_rk_clear(struct vfido_rk *rk)
{
	if (rk == NULL)
		return;
	free(rk->cred_id);
	free(rk->rp_id);
	free(rk->rp_name);
	free(rk->user_name);
	free(rk->user_display);
	explicit_bzero(rk, sizeof(*rk));
}

void
vfido_state_free(struct vfido_state *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nrks; i++)
		vfido_rk_clear(&s->rks[i]);
	free(s->rks);
	free(s->path);
	freezero(s, sizeof(*s));
}

int
vfido_state_new(const char *serial, struct vfido_state **statep)
{
	struct vfido_state *s;

	*statep = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TOK_ERR_ALLOC;
	if (RAND_bytes(s->master, sizeof(s->master)) != 1 ||
	    RAND_bytes(s->aaguid, sizeof(s->aaguid)) != 1) {
		vfido_state_free(s);
		return TOK_ERR_LIBCRYPTO;
	}
	if (serial != NULL)
		strlcpy(s->serial, serial, sizeof(s->serial));
	else
		snprintf(s->serial, sizeof(s->serial), "%02x%02x%02x%02x",
		    s->aaguid[0], s->aaguid[1], s->aaguid[2], s->aaguid[3]);
	s->pin_retries = VFIDO_PIN_RETRIES_MAX;
	*statep = s;
	return 0;
}

int
vfido_state_reset(struct vfido_state *s)
{
	size_t i;

	if (RAND_bytes(s->master, sizeof(s->master)) != 1)
		return TOK_ERR_LIBCRYPTO;
	for (i = 0; i < s->nrks; i++)
		vfido_rk_clear(&s->rks[i]);
	free(s->rks);
	s->rks = NULL;
	s->nrks = 0;
	s->pin_set = 0;
	explicit_bzero(s->pin_hash, sizeof(s->pin_hash));
	s->pin_retries = VFIDO_PIN_RETRIES_MAX;
	return 0;
}

int
vfido_state_find_rk(const struct vfido_state *s, const u_char *id,
    size_t idlen)
{
	size_t i;

	for (i = 0; i < s->nrks; i++)
		if (s->rks[i].cred_id_len == idlen &&
		    memcmp(s->rks[i].cred_id, id, idlen) == 0)
			return (int)i;
	return -1;
}

void
vfido_state_del_rk(struct vfido_state *s, size_t idx)
{
	if (idx >= s->nrks)
		return;
	vfido_rk_clear(&s->rks[idx]);
	memmove(&s->rks[idx], &s->rks[idx + 1],
	    (s->nrks - idx - 1) * sizeof(*s->rks));
	s->nrks--;
	explicit_bzero(&s->rks[s->nrks], sizeof(*s->rks));
}

int
vfido_state_add_rk(struct vfido_state *s, struct vfido_rk *rk)
{
	struct vfido_rk *tmp;
	size_t i;

	for (i = 0; i < s->nrks; i++) {
		if (strcmp(s->rks[i].rp_id, rk->rp_id) == 0 &&
		    s->rks[i].user_id_len == rk->user_id_len &&
		    memcmp(s->rks[i].user_id, rk->user_id,
		    rk->user_id_len) == 0) {
			vfido_rk_clear(&s->rks[i]);
			s->rks[i] = *rk;
			memset(rk, 0, sizeof(*rk));
			return 0;
		}
	}
	if (s->nrks >= VFIDO_RK_MAX)
		return TOK_ERR_NO_BUFFER_SPACE;
	if ((tmp = recallocarray(s->rks, s->nrks, s->nrks + 1,
	    sizeof(*s->rks))) == NULL)
		return TOK_ERR_ALLOC;
	s->rks = tmp;
	s->rks[s->nrks++] = *rk;
	memset(rk, 0, sizeof(*rk));
	return 0;
}

static int
vfido_state_encode(const struct vfido_state *s, struct buf *b)
{
	const struct vfido_rk *rk;
	size_t i;
	int r;

	if ((r = buf_put_cstring(b, STATE_MAGIC)) != 0 ||
	    (r = buf_put_string(b, s->master, sizeof(s->master))) != 0 ||
	    (r = buf_put_string(b, s->aaguid, sizeof(s->aaguid))) != 0 ||
	    (r = buf_put_cstring(b, s->serial)) != 0 ||
	    (r = buf_put_u32(b, s->counter)) != 0 ||
	    (r = buf_put_u8(b, s->pin_set ? 1 : 0)) != 0 ||
	    (r = buf_put_string(b, s->pin_hash, sizeof(s->pin_hash))) != 0 ||
	    (r = buf_put_u8(b, s->pin_retries)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)s->nrks)) != 0)
		return r;
	for (i = 0; i < s->nrks; i++) {
		rk = &s->rks[i];
		if ((r = buf_put_string(b, rk->cred_id,
		    rk->cred_id_len)) != 0 ||
		    (r = buf_put_cstring(b, rk->rp_id)) != 0 ||
		    (r = buf_put_cstring(b, rk->rp_name)) != 0 ||
		    (r = buf_put_string(b, rk->rp_id_hash, 32)) != 0 ||
		    (r = buf_put_string(b, rk->user_id,
		    rk->user_id_len)) != 0 ||
		    (r = buf_put_cstring(b, rk->user_name)) != 0 ||
		    (r = buf_put_cstring(b, rk->user_display)) != 0 ||
		    (r = buf_put_u32(b, (uint32_t)rk->alg)) != 0 ||
		    (r = buf_put_u8(b, rk->cred_protect)) != 0)
			return r;
	}
	return 0;
}

/* An SSH string of exactly len bytes into dst. */
static int
vfido_get_fixed(struct buf *b, u_char *dst, size_t len)
{
	const u_char *p;
	size_t n;
	int r;

	if ((r = buf_get_string_direct(b, &p, &n)) != 0)
		return r;
	if (n != len)
		return TOK_ERR_INVALID_FORMAT;
	memcpy(dst, p, len);
	return 0;
}

/* A string no longer than max, as a new C string. */
static int
vfido_get_name(struct buf *b, size_t max, char **sp)
{
	size_t len;
	int r;

	*sp = NULL;
	if ((r = buf_get_cstring(b, sp, &len)) != 0)
		return r;
	if (len > max) {
		free(*sp);
		*sp = NULL;
		return TOK_ERR_STRING_TOO_LARGE;
	}
	return 0;
}

int
vfido_state_parse(const u_char *data, size_t len,
    struct vfido_state **statep)
{
	struct vfido_state *s = NULL;
	struct vfido_rk rk;
	struct buf *b = NULL;
	char *magic = NULL, *serial = NULL;
	const u_char *p;
	size_t n;
	uint32_t nrks, i, alg;
	uint8_t pin_set;
	int r = TOK_ERR_INTERNAL;

	*statep = NULL;
	memset(&rk, 0, sizeof(rk));
	if ((b = buf_from(data, len)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = vfido_get_name(b, 64, &magic)) != 0)
		goto out;
	if (strcmp(magic, STATE_MAGIC) != 0) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((r = vfido_get_fixed(b, s->master, sizeof(s->master))) != 0 ||
	    (r = vfido_get_fixed(b, s->aaguid, sizeof(s->aaguid))) != 0 ||
	    (r = vfido_get_name(b, sizeof(s->serial) - 1, &serial)) != 0 ||
	    (r = buf_get_u32(b, &s->counter)) != 0 ||
	    (r = buf_get_u8(b, &pin_set)) != 0 ||
	    (r = vfido_get_fixed(b, s->pin_hash, sizeof(s->pin_hash))) != 0 ||
	    (r = buf_get_u8(b, &s->pin_retries)) != 0 ||
	    (r = buf_get_u32(b, &nrks)) != 0)
		goto out;
	strlcpy(s->serial, serial, sizeof(s->serial));
	if (pin_set > 1 || s->pin_retries > VFIDO_PIN_RETRIES_MAX ||
	    nrks > VFIDO_RK_MAX) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	s->pin_set = pin_set;
	for (i = 0; i < nrks; i++) {
		if ((r = buf_get_string_direct(b, &p, &n)) != 0)
			goto out;
		if (n == 0 || n > 1024) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		if ((rk.cred_id = malloc(n)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		memcpy(rk.cred_id, p, n);
		rk.cred_id_len = n;
		if ((r = vfido_get_name(b, VFIDO_NAME_MAX, &rk.rp_id)) != 0 ||
		    (r = vfido_get_name(b, VFIDO_NAME_MAX,
		    &rk.rp_name)) != 0 ||
		    (r = vfido_get_fixed(b, rk.rp_id_hash, 32)) != 0 ||
		    (r = buf_get_string_direct(b, &p, &n)) != 0)
			goto out;
		if (n == 0 || n > VFIDO_USER_ID_MAX) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		memcpy(rk.user_id, p, n);
		rk.user_id_len = n;
		if ((r = vfido_get_name(b, VFIDO_NAME_MAX,
		    &rk.user_name)) != 0 ||
		    (r = vfido_get_name(b, VFIDO_NAME_MAX,
		    &rk.user_display)) != 0 ||
		    (r = buf_get_u32(b, &alg)) != 0 ||
		    (r = buf_get_u8(b, &rk.cred_protect)) != 0)
			goto out;
		rk.alg = (int)alg;
		if (rk.cred_protect < 1 || rk.cred_protect > 3) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		if ((r = vfido_state_add_rk(s, &rk)) != 0)
			goto out;
	}
	if ((r = buf_expect_empty(b)) != 0)
		goto out;
	*statep = s;
	s = NULL;
	r = 0;
 out:
	vfido_rk_clear(&rk);
	vfido_state_free(s);
	buf_free(b);
	free(magic);
	free(serial);
	return r;
}

int
vfido_state_save(const struct vfido_state *s)
{
	struct buf *b = NULL;
	char *tmp = NULL;
	const u_char *p;
	size_t left;
	ssize_t n;
	int fd = -1, r = TOK_ERR_INTERNAL;

	if (s->path == NULL)
		return 0;		/* in-memory token (fuzzing) */
	if ((b = buf_new()) == NULL ||
	    asprintf(&tmp, "%s.tmp", s->path) == -1) {
		tmp = NULL;
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = vfido_state_encode(s, b)) != 0)
		goto out;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		r = TOK_ERR_SYSTEM;
		error_fr(r, "open %s", tmp);
		goto out;
	}
	for (p = buf_ptr(b), left = buf_len(b); left > 0; ) {
		if ((n = write(fd, p, left)) == -1) {
			if (errno == EINTR)
				continue;
			r = TOK_ERR_SYSTEM;
			error_fr(r, "write %s", tmp);
			goto out;
		}
		p += n;
		left -= (size_t)n;
	}
	/*
	 * No fsync: "unplug" is killing the process, which the page cache
	 * survives, and signing must stay fast.
	 */
	if (close(fd) == -1) {
		fd = -1;
		r = TOK_ERR_SYSTEM;
		error_fr(r, "sync %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, s->path) == -1) {
		r = TOK_ERR_SYSTEM;
		error_fr(r, "rename %s", s->path);
		goto out;
	}
	r = 0;
 out:
	if (fd != -1) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	buf_free(b);
	return r;
}

int
vfido_state_load(const char *path, const char *serial,
    struct vfido_state **statep)
{
	struct vfido_state *s = NULL;
	struct stat st;
	u_char *data = NULL;
	size_t off = 0;
	ssize_t n;
	int fd = -1, r = TOK_ERR_INTERNAL;

	*statep = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT) {
			r = TOK_ERR_SYSTEM;
			error_fr(r, "open %s", path);
			goto out;
		}
		if ((r = vfido_state_new(serial, &s)) != 0)
			goto out;
		if ((s->path = strdup(path)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		if ((r = vfido_state_save(s)) != 0)
			goto out;
	} else {
		if (fstat(fd, &st) == -1) {
			r = TOK_ERR_SYSTEM;
			goto out;
		}
		if (st.st_size <= 0 || st.st_size > STATE_FILE_MAX) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		if ((data = malloc((size_t)st.st_size)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		while (off < (size_t)st.st_size) {
			n = read(fd, data + off, (size_t)st.st_size - off);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = n == 0 ? TOK_ERR_MESSAGE_INCOMPLETE :
				    TOK_ERR_SYSTEM;
				goto out;
			}
			off += (size_t)n;
		}
		if ((r = vfido_state_parse(data, off, &s)) != 0) {
			error_fr(r, "%s", path);
			goto out;
		}
		if ((s->path = strdup(path)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
	}
	*statep = s;
	s = NULL;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	if (data != NULL)
		freezero(data, off);
	vfido_state_free(s);
	return r;
}
