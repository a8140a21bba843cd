/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Parser for publickey userauth signing payloads (see userauth.h). */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "agent/userauth.h"

/* Service, method and algorithm names. */
#define USERAUTH_MAX_NAME_LEN	256

struct userauth_request {
	u_char *sid;
	size_t sidlen;
	char *user;
	char *alg;
	struct key *key;
	struct key *hostkey;	/* NULL unless hostbound */
};

void
userauth_request_free(struct userauth_request *req)
{
	if (req == NULL)
		return;
	freezero(req->sid, req->sidlen);
	free(req->user);
	free(req->alg);
	key_free(req->key);
	key_free(req->hostkey);
	free(req);
}

/*
 * The key type and certificate flag an algorithm name stands for.  The RSA
 * SHA-2 signature algorithms name ssh-rsa keys.
 */
static enum key_type
userauth_alg_type(const char *alg, int *is_certp)
{
	static const struct {
		const char *alg;
		const char *keyname;
	} rsa_aliases[] = {
		{ "rsa-sha2-256", "ssh-rsa" },
		{ "rsa-sha2-512", "ssh-rsa" },
		{ "rsa-sha2-256-cert-v01@openssh.com",
		    "ssh-rsa-cert-v01@openssh.com" },
		{ "rsa-sha2-512-cert-v01@openssh.com",
		    "ssh-rsa-cert-v01@openssh.com" },
	};
	size_t i;

	for (i = 0; i < sizeof(rsa_aliases) / sizeof(rsa_aliases[0]); i++) {
		if (strcmp(alg, rsa_aliases[i].alg) == 0)
			return key_type_from_name(rsa_aliases[i].keyname,
			    is_certp);
	}
	return key_type_from_name(alg, is_certp);
}

/* A string of at most max bytes, without NUL, as a new C string. */
static int
userauth_get_name(struct buf *b, size_t max, char **valp)
{
	uint32_t plen;
	int r;

	*valp = NULL;
	if ((r = buf_peek_u32(b, 0, &plen)) != 0)
		return r;
	if (plen > max)
		return TOK_ERR_STRING_TOO_LARGE;
	return buf_get_cstring(b, valp, NULL);
}

int
userauth_parse(const u_char *data, size_t len, const struct key *key,
    struct userauth_request **reqp)
{
	struct userauth_request *req = NULL;
	struct buf *b = NULL;
	const u_char *sid;
	size_t sidlen;
	char *service = NULL, *method = NULL;
	uint8_t type, sig_follows;
	enum key_type alg_type;
	int r = TOK_ERR_INTERNAL, alg_cert;

	if (reqp != NULL)
		*reqp = NULL;
	if (reqp == NULL || (data == NULL && len != 0))
		return TOK_ERR_INVALID_ARGUMENT;
	if ((b = buf_from(data, len)) == NULL ||
	    (req = calloc(1, sizeof(*req))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_string_direct(b, &sid, &sidlen)) != 0)
		goto out;
	if (sidlen == 0) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if (sidlen > USERAUTH_MAX_SID_LEN) {
		r = TOK_ERR_STRING_TOO_LARGE;
		goto out;
	}
	if ((r = buf_get_u8(b, &type)) != 0)
		goto out;
	if (type != USERAUTH_MSG_REQUEST) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((r = userauth_get_name(b, USERAUTH_MAX_USER_LEN,
	    &req->user)) != 0 ||
	    (r = userauth_get_name(b, USERAUTH_MAX_NAME_LEN, &service)) != 0 ||
	    (r = userauth_get_name(b, USERAUTH_MAX_NAME_LEN, &method)) != 0 ||
	    (r = buf_get_u8(b, &sig_follows)) != 0 ||
	    (r = userauth_get_name(b, USERAUTH_MAX_NAME_LEN, &req->alg)) != 0 ||
	    (r = key_froms(b, &req->key)) != 0)
		goto out;
	if (sig_follows != 1 || strcmp(service, "ssh-connection") != 0) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if (strcmp(method, USERAUTH_METHOD_HOSTBOUND) == 0) {
		if ((r = key_froms(b, &req->hostkey)) != 0)
			goto out;
	} else if (strcmp(method, USERAUTH_METHOD_PUBKEY) != 0) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((r = buf_expect_empty(b)) != 0)
		goto out;
	alg_type = userauth_alg_type(req->alg, &alg_cert);
	if (alg_type == KEY_UNSPEC || alg_type != key_type(req->key) ||
	    alg_cert != key_is_cert(req->key)) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if (key != NULL && !key_equal(key, req->key)) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((req->sid = malloc(sidlen)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	memcpy(req->sid, sid, sidlen);
	req->sidlen = sidlen;
	*reqp = req;
	req = NULL;
	r = 0;
 out:
	free(service);
	free(method);
	userauth_request_free(req);
	buf_free(b);
	return r;
}

const char *
userauth_user(const struct userauth_request *req)
{
	return req->user;
}

const u_char *
userauth_session_id(const struct userauth_request *req, size_t *lenp)
{
	*lenp = req->sidlen;
	return req->sid;
}

const struct key *
userauth_key(const struct userauth_request *req)
{
	return req->key;
}

const struct key *
userauth_hostkey(const struct userauth_request *req)
{
	return req->hostkey;
}

const char *
userauth_alg(const struct userauth_request *req)
{
	return req->alg;
}
