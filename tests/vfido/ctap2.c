/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* CTAP2.1 authenticator commands over the virtual token state. */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "tests/vfido/ctap2.h"
#include "tests/vfido/pinproto.h"
#include "tests/vfido/request.h"
#include "tests/vfido/state.h"
#include "tests/vfido/vkey.h"

#define ST_INVALID_SUBCOMMAND	0x3e

#define FLAG_UP		0x01
#define FLAG_UV		0x04
#define FLAG_AT		0x40
#define FLAG_ED		0x80

#define PERM_MC		0x01
#define PERM_GA		0x02
#define PERM_CM		0x04

#define MAX_MSG_SIZE	1200
#define PIN_MIN_LEN	4
#define PIN_FAILS_PER_BOOT 3
#define RESET_WINDOW_MS	10000		/* reset only this soon after power-up */
#define TOKEN_INITIAL_MS 30000		/* unused token expires */
#define TOKEN_MAX_MS	600000		/* used token expires */

struct vfido_ctap {
	struct vfido_state	*st;
	struct vfido_ctap_opts	 opts;
	int64_t			 power_up;	/* ms, monotonic */
	int			 protos[2];
	size_t			 nprotos;
	EVP_PKEY		*ka;		/* key agreement key */
	u_char			 token[32];	/* pinUvAuthToken */
	int			 token_valid;
	int			 token_proto;
	uint64_t		 token_perms;
	char			 token_rp[VFIDO_NAME_MAX + 1];
	int64_t			 token_issued;	/* ms */
	int			 token_used;
	int			 fails;		/* PIN mismatches this boot */
	/* getNextAssertion */
	int			 ga_active;
	size_t			 ga_idx[VFIDO_RK_MAX];
	size_t			 ga_n, ga_next;
	u_char			 ga_cdh[32];
	int			 ga_up, ga_uv;
	/* credential management enumeration */
	size_t			 cm_rp[VFIDO_RK_MAX];
	size_t			 cm_nrp, cm_rp_next;
	size_t			 cm_rk[VFIDO_RK_MAX];
	size_t			 cm_nrk, cm_rk_next;
};

/* One request in flight: what the handlers share. */
struct vfido_call {
	struct vfido_ctap	*c;
	const struct vfido_req	*req;
	int			 up_granted;
	struct buf		*resp;
	int			 up_needed;	/* for the log */
	int			 uv;
	int			 token_used;	/* pinUvAuthToken checked */
	uint8_t			 status;	/* CTAP status when no body */
	cbor_item_t		*body;		/* reply map, or NULL */
};

/* --- CBOR building ---------------------------------------------------- */

static cbor_item_t *
cb_int(int64_t v)
{
	return vfido_cbor_int(v);
}

static cbor_item_t *
cb_text(const char *s)
{
	return cbor_build_stringn(s, strlen(s));
}

/* Add key -> val to map, consuming both references. */
static int
cb_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *val)
{
	struct cbor_pair pair;
	int ok = 0;

	if (map != NULL && key != NULL && val != NULL) {
		pair.key = key;
		pair.value = val;
		ok = cbor_map_add(map, pair);
	}
	if (key != NULL)
		cbor_decref(&key);
	if (val != NULL)
		cbor_decref(&val);
	return ok ? 0 : TOK_ERR_ALLOC;
}

static int
cb_push(cbor_item_t *array, cbor_item_t *val)
{
	int ok = 0;

	if (array != NULL && val != NULL)
		ok = cbor_array_push(array, val);
	if (val != NULL)
		cbor_decref(&val);
	return ok ? 0 : TOK_ERR_ALLOC;
}

static void
cb_free(cbor_item_t **itemp)
{
	if (*itemp != NULL)
		cbor_decref(itemp);
}

static int
cb_serialize(const cbor_item_t *item, struct buf *b)
{
	u_char *enc = NULL;
	size_t len, alloc = 0;
	int r;

	if ((len = cbor_serialize_alloc(item, &enc, &alloc)) == 0)
		return TOK_ERR_ALLOC;
	r = buf_put(b, enc, len);
	free(enc);
	return r;
}

static cbor_item_t *
cb_desc(const u_char *id, size_t len)
{
	cbor_item_t *m;

	if ((m = cbor_new_definite_map(2)) == NULL)
		return NULL;
	if (cb_put(m, cb_text("id"), cbor_build_bytestring(id, len)) != 0 ||
	    cb_put(m, cb_text("type"), cb_text("public-key")) != 0)
		cb_free(&m);
	return m;
}

static cbor_item_t *
cb_user(const struct vfido_rk *rk, int identifying)
{
	cbor_item_t *m;
	int r;

	if ((m = cbor_new_definite_map(3)) == NULL)
		return NULL;
	r = cb_put(m, cb_text("id"),
	    cbor_build_bytestring(rk->user_id, rk->user_id_len));
	if (r == 0 && identifying && *rk->user_name != '\0')
		r = cb_put(m, cb_text("name"), cb_text(rk->user_name));
	if (r == 0 && identifying && *rk->user_display != '\0')
		r = cb_put(m, cb_text("displayName"),
		    cb_text(rk->user_display));
	if (r != 0)
		cb_free(&m);
	return m;
}

/* --- PIN/UV auth ------------------------------------------------------ */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
proto_supported(const struct vfido_ctap *c, int proto)
{
	size_t i;

	for (i = 0; i < c->nprotos; i++)
		if (c->protos[i] == proto)
			return 1;
	return 0;
}

static int
new_token(struct vfido_ctap *c)
{
	if (RAND_bytes(c->token, sizeof(c->token)) != 1)
		return TOK_ERR_LIBCRYPTO;
	c->token_valid = 0;
	c->token_perms = 0;
	c->token_rp[0] = '\0';
	c->token_used = 0;
	return 0;
}

static int
new_ka(struct vfido_ctap *c)
{
	EVP_PKEY_free(c->ka);
	c->ka = NULL;
	return vfido_pin_ecdh_new(&c->ka);
}

/* Has the pinUvAuthToken's usage timer run out?  Then it is gone. */
static int
token_expired(struct vfido_ctap *c)
{
	int64_t age = mono_ms() - c->token_issued;
	int64_t limit = c->opts.token_timeout_ms > 0 ?
	    c->opts.token_timeout_ms : TOKEN_INITIAL_MS;

	if ((!c->token_used && age < limit) ||
	    (c->token_used && age < TOKEN_MAX_MS))
		return 0;
	c->token_valid = 0;
	c->token_perms = 0;
	return 1;
}

/*
 * Check a pinUvAuthParam over msg against the current token, its
 * permission perm and rp (NULL: none).  Returns a CTAP status: whatever
 * is wrong with the token (expired, wrong MAC, missing permission, other
 * RP) is PIN_AUTH_INVALID, as CTAP 2.1 says.
 */
static int
check_token(struct vfido_ctap *c, const struct vfido_pin_auth *a,
    const u_char *msg, size_t len, uint64_t perm, const char *rp)
{
	if (a->proto == 0)
		return VFIDO_CTAP2_MISSING_PARAMETER;
	if (!proto_supported(c, a->proto))
		return VFIDO_CTAP1_INVALID_PARAMETER;
	if (!c->token_valid || token_expired(c) ||
	    c->token_proto != a->proto ||
	    vfido_pin_verify(a->proto, c->token, sizeof(c->token), msg, len,
	    a->param, a->len) != 0)
		return VFIDO_CTAP2_PIN_AUTH_INVALID;
	if ((c->token_perms & perm) != perm)
		return VFIDO_CTAP2_PIN_AUTH_INVALID;
	if (rp != NULL && c->token_rp[0] != '\0' &&
	    strcmp(c->token_rp, rp) != 0)
		return VFIDO_CTAP2_PIN_AUTH_INVALID;
	if (rp != NULL && c->token_rp[0] == '\0')
		strlcpy(c->token_rp, rp, sizeof(c->token_rp));
	c->token_used = 1;
	return VFIDO_CTAP2_OK;
}

/*
 * After a makeCredential or getAssertion that used the token with user
 * presence, the token keeps no mc/ga permission (CTAP 2.1:
 * clearPinUvAuthTokenPermissionsExceptLbw).  A CTAP 2.0 token has no
 * permissions to lose.
 */
static void
token_consume_up(struct vfido_call *call)
{
	if (call->token_used && call->up_needed && !call->c->opts.ctap20)
		call->c->token_perms = 0;
}

/*
 * The common head of makeCredential and getAssertion: a zero-length
 * pinUvAuthParam asks for a touch and then says whether a PIN is set;
 * otherwise verify it.  *donep says a final status is in call->status.
 */
static int
uv_head(struct vfido_call *call, const struct vfido_pin_auth *a,
    const u_char cdh[32], uint64_t perm, const char *rp, int *donep)
{
	struct vfido_ctap *c = call->c;
	int st;

	*donep = 0;
	if (!a->present)
		return VFIDO_CTAP2_OK;
	if (a->len == 0) {
		/* "touch to select" probe */
		if (!call->up_granted) {
			call->up_needed = 1;
			return VFIDO_CTAP_NEED_UP;
		}
		*donep = 1;
		call->status = c->st->pin_set ? VFIDO_CTAP2_PIN_INVALID :
		    VFIDO_CTAP2_PIN_NOT_SET;
		return VFIDO_CTAP2_OK;
	}
	if (!c->st->pin_set)
		return VFIDO_CTAP2_PIN_NOT_SET;
	if ((st = check_token(c, a, cdh, 32, perm, rp)) != VFIDO_CTAP2_OK)
		return st;
	call->uv = 1;
	call->token_used = 1;
	return VFIDO_CTAP2_OK;
}

/* --- authenticator data ----------------------------------------------- */

static int
put_authdata_head(struct buf *b, const u_char rpid_hash[32], uint8_t flags,
    uint32_t counter)
{
	int r;

	if ((r = buf_put(b, rpid_hash, 32)) != 0 ||
	    (r = buf_put_u8(b, flags)) != 0 ||
	    (r = buf_put_u32(b, counter)) != 0)
		return r;
	return 0;
}

static void
rp_hash(const char *rp_id, u_char out[32])
{
	SHA256((const u_char *)rp_id, strlen(rp_id), out);
}

/* --- getInfo ---------------------------------------------------------- */

static int
do_get_info(struct vfido_call *call)
{
	struct vfido_ctap *c = call->c;
	int c20 = c->opts.ctap20;
	cbor_item_t *m = NULL, *a = NULL, *o = NULL, *alg = NULL;
	size_t i;
	int r = TOK_ERR_ALLOC;

	if ((m = cbor_new_definite_map(10)) == NULL ||
	    (a = cbor_new_definite_array(c20 ? 1 : 2)) == NULL ||
	    cb_push(a, cb_text("FIDO_2_0")) != 0 ||
	    (!c20 && cb_push(a, cb_text("FIDO_2_1")) != 0) ||
	    cb_put(m, cb_int(1), a) != 0)
		goto out;
	a = NULL;
	if (!c20 && ((a = cbor_new_definite_array(1)) == NULL ||
	    cb_push(a, cb_text("credProtect")) != 0 ||
	    cb_put(m, cb_int(2), a) != 0))
		goto out;
	a = NULL;
	if (cb_put(m, cb_int(3), cbor_build_bytestring(c->st->aaguid,
	    sizeof(c->st->aaguid))) != 0)
		goto out;
	if ((o = cbor_new_definite_map(7)) == NULL ||
	    cb_put(o, cb_text("rk"), cbor_build_bool(true)) != 0 ||
	    cb_put(o, cb_text("up"), cbor_build_bool(true)) != 0 ||
	    cb_put(o, cb_text("plat"), cbor_build_bool(false)) != 0 ||
	    /* canonical CBOR: shorter keys first */
	    (!c20 && cb_put(o, cb_text("credMgmt"),
	    cbor_build_bool(true)) != 0) ||
	    cb_put(o, cb_text("clientPin"),
	    cbor_build_bool(c->st->pin_set != 0)) != 0 ||
	    (!c20 && cb_put(o, cb_text("pinUvAuthToken"),
	    cbor_build_bool(true)) != 0) ||
	    (!c20 && cb_put(o, cb_text("makeCredUvNotRqd"),
	    cbor_build_bool(true)) != 0) ||
	    (c20 && cb_put(o, cb_text("credentialMgmtPreview"),
	    cbor_build_bool(true)) != 0) ||
	    cb_put(m, cb_int(4), o) != 0)
		goto out;
	o = NULL;
	if (cb_put(m, cb_int(5), cb_int(MAX_MSG_SIZE)) != 0)
		goto out;
	if ((a = cbor_new_definite_array(c->nprotos)) == NULL)
		goto out;
	for (i = 0; i < c->nprotos; i++)
		if (cb_push(a, cb_int(c->protos[i])) != 0)
			goto out;
	if (cb_put(m, cb_int(6), a) != 0)
		goto out;
	a = NULL;
	if (cb_put(m, cb_int(7), cb_int(VFIDO_LIST_MAX)) != 0 ||
	    cb_put(m, cb_int(8), cb_int(VFIDO_CREDID_MAX)) != 0)
		goto out;
	if (c20) {
		/* CTAP 2.0 ends here */
		call->body = m;
		m = NULL;
		r = 0;
		goto out;
	}
	if ((a = cbor_new_definite_array(1)) == NULL ||
	    cb_push(a, cb_text("usb")) != 0 ||
	    cb_put(m, cb_int(9), a) != 0)
		goto out;
	a = NULL;
	if ((a = cbor_new_definite_array(2)) == NULL)
		goto out;
	for (i = 0; i < 2; i++) {
		if ((alg = cbor_new_definite_map(2)) == NULL ||
		    cb_put(alg, cb_text("alg"), cb_int(i == 0 ?
		    VFIDO_COSE_ES256 : VFIDO_COSE_EDDSA)) != 0 ||
		    cb_put(alg, cb_text("type"), cb_text("public-key")) != 0)
			goto out;
		if (cb_push(a, alg) != 0) {
			alg = NULL;
			goto out;
		}
		alg = NULL;
	}
	if (cb_put(m, cb_int(10), a) != 0)
		goto out;
	a = NULL;
	call->body = m;
	m = NULL;
	r = 0;
 out:
	cb_free(&m);
	cb_free(&a);
	cb_free(&o);
	cb_free(&alg);
	return r;
}

/* --- makeCredential --------------------------------------------------- */

/* Is any exclude-list entry one of ours for this RP? */
static int
excluded(struct vfido_ctap *c, const struct vfido_mc_req *mc,
    const u_char rpid_hash[32])
{
	EVP_PKEY *pk = NULL;
	uint8_t flags;
	size_t i;
	int alg;

	for (i = 0; i < mc->nexcl; i++) {
		if (vfido_key_unwrap(c->st->master, rpid_hash, mc->excl[i].id,
		    mc->excl[i].len, &alg, &flags, &pk) != 0)
			continue;
		EVP_PKEY_free(pk);
		pk = NULL;
		if ((flags & VFIDO_KEY_RK) &&
		    vfido_state_find_rk(c->st, mc->excl[i].id,
		    mc->excl[i].len) < 0)
			continue;
		return 1;
	}
	return 0;
}

static int
do_make_cred(struct vfido_call *call)
{
	struct vfido_ctap *c = call->c;
	const struct vfido_mc_req *mc = &call->req->u.mc;
	struct vfido_state *s = c->st;
	struct vfido_rk rk;
	struct buf *ad = NULL;
	EVP_PKEY *pk = NULL;
	cbor_item_t *cose = NULL, *ext = NULL, *att = NULL, *m = NULL;
	u_char hash[32], *id = NULL, *sig = NULL;
	size_t idlen = 0, siglen = 0;
	uint8_t flags, keyflags;
	int prot, done, st, r = TOK_ERR_INTERNAL;

	memset(&rk, 0, sizeof(rk));
	rp_hash(mc->rp_id, hash);
	if ((st = uv_head(call, &mc->auth, mc->cdh, PERM_MC, mc->rp_id,
	    &done)) != VFIDO_CTAP2_OK || done) {
		if (st == VFIDO_CTAP_NEED_UP)
			return VFIDO_CTAP_NEED_UP;
		if (!done)
			call->status = (uint8_t)st;
		return 0;
	}
	if (mc->alg == 0) {
		call->status = VFIDO_CTAP2_UNSUPPORTED_ALGORITHM;
		return 0;
	}
	if (mc->up == 0 || (mc->uv == 1 && !call->uv)) {
		call->status = VFIDO_CTAP2_INVALID_OPTION;
		return 0;
	}
	/*
	 * makeCredUvNotRqd: only discoverable credentials need the PIN; a
	 * CTAP 2.0 key wants it for every credential once one is set
	 */
	if (s->pin_set && !call->uv && (mc->rk == 1 || c->opts.ctap20)) {
		call->status = VFIDO_CTAP2_PUAT_REQUIRED;
		return 0;
	}
	if (mc->rk == 1 && s->nrks >= VFIDO_RK_MAX) {
		call->status = VFIDO_CTAP2_KEY_STORE_FULL;
		return 0;
	}
	if (!call->up_granted) {
		call->up_needed = 1;
		return VFIDO_CTAP_NEED_UP;
	}
	call->up_needed = 1;
	if (excluded(c, mc, hash)) {
		call->status = VFIDO_CTAP2_CREDENTIAL_EXCLUDED;
		return 0;
	}
	prot = mc->cred_protect != 0 && !c->opts.ctap20 ? mc->cred_protect : 1;
	keyflags = (mc->rk == 1 ? VFIDO_KEY_RK : 0) | (uint8_t)(prot << 1);
	if ((r = vfido_key_generate(mc->alg, &pk)) != 0 ||
	    (r = vfido_key_wrap(s->master, hash, mc->alg, keyflags, pk,
	    &id, &idlen)) != 0 ||
	    (r = vfido_key_cose(pk, mc->alg, &cose)) != 0)
		goto out;
	s->counter++;
	flags = FLAG_UP | FLAG_AT | (call->uv ? FLAG_UV : 0);
	if (mc->cred_protect != 0 && !c->opts.ctap20) {
		flags |= FLAG_ED;
		if ((ext = cbor_new_definite_map(1)) == NULL ||
		    (r = cb_put(ext, cb_text("credProtect"),
		    cb_int(mc->cred_protect))) != 0) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
	}
	if ((ad = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = put_authdata_head(ad, hash, flags, s->counter)) != 0 ||
	    (r = buf_put(ad, s->aaguid, sizeof(s->aaguid))) != 0 ||
	    (r = buf_put_u8(ad, (uint8_t)(idlen >> 8))) != 0 ||
	    (r = buf_put_u8(ad, (uint8_t)idlen)) != 0 ||
	    (r = buf_put(ad, id, idlen)) != 0 ||
	    (r = cb_serialize(cose, ad)) != 0 ||
	    (ext != NULL && (r = cb_serialize(ext, ad)) != 0))
		goto out;
	/* packed self attestation: signed by the credential key itself */
	if ((r = buf_put(ad, mc->cdh, 32)) != 0 ||
	    (r = vfido_key_sign(pk, mc->alg, buf_ptr(ad), buf_len(ad),
	    &sig, &siglen)) != 0 ||
	    (r = buf_consume_end(ad, 32)) != 0)
		goto out;
	if (mc->rk == 1) {
		if ((rk.cred_id = malloc(idlen)) == NULL ||
		    (rk.rp_id = strdup(mc->rp_id)) == NULL ||
		    (rk.rp_name = strdup(mc->rp_name)) == NULL ||
		    (rk.user_name = strdup(mc->user_name)) == NULL ||
		    (rk.user_display = strdup(mc->user_display)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		memcpy(rk.cred_id, id, idlen);
		rk.cred_id_len = idlen;
		memcpy(rk.rp_id_hash, hash, 32);
		memcpy(rk.user_id, mc->user_id, mc->user_id_len);
		rk.user_id_len = mc->user_id_len;
		rk.alg = mc->alg;
		rk.cred_protect = (uint8_t)prot;
		if ((r = vfido_state_add_rk(s, &rk)) != 0)
			goto out;
		c->ga_active = 0;
	}
	if ((r = vfido_state_save(s)) != 0)
		goto out;
	r = TOK_ERR_ALLOC;
	if ((att = cbor_new_definite_map(2)) == NULL ||
	    cb_put(att, cb_text("alg"), cb_int(mc->alg)) != 0 ||
	    cb_put(att, cb_text("sig"), cbor_build_bytestring(sig,
	    siglen)) != 0)
		goto out;
	if ((m = cbor_new_definite_map(3)) == NULL ||
	    cb_put(m, cb_int(1), cb_text("packed")) != 0 ||
	    cb_put(m, cb_int(2), cbor_build_bytestring(buf_ptr(ad),
	    buf_len(ad))) != 0 ||
	    cb_put(m, cb_int(3), att) != 0) {
		att = NULL;
		goto out;
	}
	att = NULL;
	call->body = m;
	m = NULL;
	token_consume_up(call);
	r = 0;
 out:
	vfido_rk_clear(&rk);
	EVP_PKEY_free(pk);
	free(id);
	free(sig);
	buf_free(ad);
	cb_free(&cose);
	cb_free(&ext);
	cb_free(&att);
	cb_free(&m);
	return r;
}

/* --- getAssertion ----------------------------------------------------- */

/* Sign for resident credential index ri, or for a given key (ri < 0). */
static int
assertion_reply(struct vfido_call *call, const u_char rpid_hash[32],
    const u_char *cdh, const u_char *id, size_t idlen, EVP_PKEY *pk,
    int alg, const struct vfido_rk *rk, int up, int uv, size_t total)
{
	struct vfido_state *s = call->c->st;
	struct buf *ad = NULL;
	cbor_item_t *m = NULL;
	u_char *sig = NULL;
	size_t siglen = 0;
	int r;

	s->counter++;
	if ((ad = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = put_authdata_head(ad, rpid_hash,
	    (up ? FLAG_UP : 0) | (uv ? FLAG_UV : 0), s->counter)) != 0 ||
	    (r = buf_put(ad, cdh, 32)) != 0 ||
	    (r = vfido_key_sign(pk, alg, buf_ptr(ad), buf_len(ad), &sig,
	    &siglen)) != 0 ||
	    (r = buf_consume_end(ad, 32)) != 0)
		goto out;
	s->counter_dirty = 1;
	r = TOK_ERR_ALLOC;
	if ((m = cbor_new_definite_map(5)) == NULL ||
	    cb_put(m, cb_int(1), cb_desc(id, idlen)) != 0 ||
	    cb_put(m, cb_int(2), cbor_build_bytestring(buf_ptr(ad),
	    buf_len(ad))) != 0 ||
	    cb_put(m, cb_int(3), cbor_build_bytestring(sig, siglen)) != 0)
		goto out;
	if (rk != NULL && cb_put(m, cb_int(4), cb_user(rk, uv)) != 0)
		goto out;
	if (total > 1 && cb_put(m, cb_int(5), cb_int((int64_t)total)) != 0)
		goto out;
	call->body = m;
	m = NULL;
	r = 0;
 out:
	cb_free(&m);
	free(sig);
	buf_free(ad);
	return r;
}

static int
do_get_assert(struct vfido_call *call)
{
	struct vfido_ctap *c = call->c;
	const struct vfido_ga_req *ga = &call->req->u.ga;
	struct vfido_state *s = c->st;
	const struct vfido_rk *rk = NULL;
	EVP_PKEY *pk = NULL;
	const u_char *id = NULL;
	u_char hash[32];
	size_t i, n = 0, idlen = 0;
	uint8_t flags = 0;
	int alg = 0, up, done, st, ri, r = TOK_ERR_INTERNAL;

	rp_hash(ga->rp_id, hash);
	if ((st = uv_head(call, &ga->auth, ga->cdh, PERM_GA, ga->rp_id,
	    &done)) != VFIDO_CTAP2_OK || done) {
		if (st == VFIDO_CTAP_NEED_UP)
			return VFIDO_CTAP_NEED_UP;
		if (!done)
			call->status = (uint8_t)st;
		return 0;
	}
	if (ga->uv == 1 && !call->uv) {
		call->status = VFIDO_CTAP2_INVALID_OPTION;
		return 0;
	}
	up = ga->up != 0;
	c->ga_active = 0;
	if (!up && c->opts.touch_to_select) {
		/* nothing is found without a touch */
		call->status = VFIDO_CTAP2_NO_CREDENTIALS;
		r = 0;
		goto out;
	}
	if (ga->nallow > 0) {
		for (i = 0; i < ga->nallow && pk == NULL; i++) {
			if (vfido_key_unwrap(s->master, hash, ga->allow[i].id,
			    ga->allow[i].len, &alg, &flags, &pk) != 0)
				continue;
			ri = vfido_state_find_rk(s, ga->allow[i].id,
			    ga->allow[i].len);
			if (((flags & VFIDO_KEY_RK) && ri < 0) ||
			    (((flags & VFIDO_KEY_PROT_MASK) >> 1) == 3 &&
			    !call->uv)) {
				EVP_PKEY_free(pk);
				pk = NULL;
				continue;
			}
			id = ga->allow[i].id;
			idlen = ga->allow[i].len;
			rk = ri >= 0 ? &s->rks[ri] : NULL;
		}
		if (pk == NULL) {
			call->status = VFIDO_CTAP2_NO_CREDENTIALS;
			r = 0;
			goto out;
		}
		n = 1;
	} else {
		/* discoverable credentials, newest first */
		for (i = s->nrks; i-- > 0; ) {
			if (strcmp(s->rks[i].rp_id, ga->rp_id) != 0)
				continue;
			if (s->rks[i].cred_protect >= 2 && !call->uv)
				continue;
			c->ga_idx[n++] = i;
		}
		if (n == 0) {
			call->status = VFIDO_CTAP2_NO_CREDENTIALS;
			r = 0;
			goto out;
		}
		rk = &s->rks[c->ga_idx[0]];
		id = rk->cred_id;
		idlen = rk->cred_id_len;
	}
	if (up && !call->up_granted) {
		call->up_needed = 1;
		r = VFIDO_CTAP_NEED_UP;
		goto out;
	}
	call->up_needed = up;
	if (pk == NULL && vfido_key_unwrap(s->master, hash, id, idlen, &alg,
	    &flags, &pk) != 0) {
		call->status = VFIDO_CTAP2_NO_CREDENTIALS;
		r = 0;
		goto out;
	}
	if ((r = assertion_reply(call, hash, ga->cdh, id, idlen, pk, alg, rk,
	    up, call->uv, ga->nallow > 0 ? 1 : n)) != 0)
		goto out;
	if (ga->nallow == 0 && n > 1) {
		c->ga_active = 1;
		c->ga_n = n;
		c->ga_next = 1;
		memcpy(c->ga_cdh, ga->cdh, 32);
		c->ga_up = up;
		c->ga_uv = call->uv;
	}
	token_consume_up(call);
	r = 0;
 out:
	EVP_PKEY_free(pk);
	return r;
}

static int
do_get_next(struct vfido_call *call)
{
	struct vfido_ctap *c = call->c;
	struct vfido_state *s = c->st;
	const struct vfido_rk *rk;
	EVP_PKEY *pk = NULL;
	uint8_t flags;
	int alg, r;

	if (!c->ga_active || c->ga_next >= c->ga_n ||
	    c->ga_idx[c->ga_next] >= s->nrks) {
		c->ga_active = 0;
		call->status = VFIDO_CTAP2_NOT_ALLOWED;
		return 0;
	}
	rk = &s->rks[c->ga_idx[c->ga_next++]];
	if (vfido_key_unwrap(s->master, rk->rp_id_hash, rk->cred_id,
	    rk->cred_id_len, &alg, &flags, &pk) != 0) {
		call->status = VFIDO_CTAP2_NO_CREDENTIALS;
		return 0;
	}
	call->uv = c->ga_uv;
	r = assertion_reply(call, rk->rp_id_hash, c->ga_cdh, rk->cred_id,
	    rk->cred_id_len, pk, alg, rk, c->ga_up, c->ga_uv, 0);
	EVP_PKEY_free(pk);
	return r;
}

/* --- clientPIN -------------------------------------------------------- */

static int
cp_shared(struct vfido_ctap *c, const struct vfido_cp_req *cp,
    u_char shared[VFIDO_PIN_SHARED_MAX], size_t *lenp)
{
	u_char z[32];
	int r;

	*lenp = 0;
	if (vfido_pin_ecdh(c->ka, cp->ka_x, cp->ka_y, z) != 0)
		return VFIDO_CTAP1_INVALID_PARAMETER;
	r = vfido_pin_kdf(cp->proto, z, shared, lenp);
	explicit_bzero(z, sizeof(z));
	return r == 0 ? VFIDO_CTAP2_OK : VFIDO_CTAP1_OTHER;
}

/* Decrypt and check a new PIN; store its hash. */
static int
cp_store_pin(struct vfido_ctap *c, const struct vfido_cp_req *cp,
    const u_char *shared, size_t sharedlen)
{
	u_char *pin = NULL, hash[32];
	size_t len = 0, pinlen;
	int st = VFIDO_CTAP2_PIN_POLICY_VIOLATION;

	if (vfido_pin_decrypt(cp->proto, shared, sharedlen, cp->new_pin_enc,
	    cp->new_pin_enc_len, &pin, &len) != 0 || len != 64) {
		st = VFIDO_CTAP1_INVALID_PARAMETER;
		goto out;
	}
	pinlen = strnlen((char *)pin, len);
	if (pinlen < PIN_MIN_LEN || pinlen > 63)
		goto out;
	SHA256(pin, pinlen, hash);
	memcpy(c->st->pin_hash, hash, 16);
	c->st->pin_set = 1;
	c->st->pin_retries = VFIDO_PIN_RETRIES_MAX;
	c->fails = 0;
	st = VFIDO_CTAP2_OK;
 out:
	explicit_bzero(hash, sizeof(hash));
	if (pin != NULL)
		freezero(pin, len);
	return st;
}

/*
 * Check the encrypted PIN hash, counting retries as CTAP2.1 says: the
 * counter drops before the comparison and is restored on a match.
 */
static int
cp_check_pin(struct vfido_ctap *c, const struct vfido_cp_req *cp,
    const u_char *shared, size_t sharedlen, int *savep)
{
	struct vfido_state *s = c->st;
	u_char *ph = NULL;
	size_t len = 0;
	int st;

	*savep = 0;
	if (s->pin_retries == 0)
		return VFIDO_CTAP2_PIN_BLOCKED;
	if (c->fails >= PIN_FAILS_PER_BOOT)
		return VFIDO_CTAP2_PIN_AUTH_BLOCKED;
	s->pin_retries--;
	*savep = 1;
	if (vfido_pin_decrypt(cp->proto, shared, sharedlen, cp->pin_hash_enc,
	    cp->pin_hash_enc_len, &ph, &len) != 0 || len != 16 ||
	    CRYPTO_memcmp(ph, s->pin_hash, 16) != 0) {
		if (new_ka(c) != 0)
			st = VFIDO_CTAP1_OTHER;
		else if (s->pin_retries == 0)
			st = VFIDO_CTAP2_PIN_BLOCKED;
		else if (++c->fails >= PIN_FAILS_PER_BOOT)
			st = VFIDO_CTAP2_PIN_AUTH_BLOCKED;
		else
			st = VFIDO_CTAP2_PIN_INVALID;
		goto out;
	}
	s->pin_retries = VFIDO_PIN_RETRIES_MAX;
	c->fails = 0;
	st = VFIDO_CTAP2_OK;
 out:
	if (ph != NULL)
		freezero(ph, len);
	return st;
}

static int
do_client_pin(struct vfido_call *call)
{
	struct vfido_ctap *c = call->c;
	const struct vfido_cp_req *cp = &call->req->u.cp;
	struct vfido_state *s = c->st;
	cbor_item_t *m = NULL, *cose = NULL;
	u_char shared[VFIDO_PIN_SHARED_MAX], *msg = NULL, *enc = NULL;
	u_char x[32], y[32];
	size_t sharedlen = 0, enclen = 0;
	int st = VFIDO_CTAP2_OK, save = 0, r = TOK_ERR_INTERNAL;

	if (cp->subcmd != 1 && cp->proto == 0) {
		st = VFIDO_CTAP2_MISSING_PARAMETER;
		goto done;
	}
	/* libfido2 asks for retries under protocol 1 whatever we offer */
	if (cp->subcmd != 1 && cp->proto != 0 &&
	    !proto_supported(c, cp->proto)) {
		st = VFIDO_CTAP1_INVALID_PARAMETER;
		goto done;
	}
	switch (cp->subcmd) {
	case 1:		/* getPINRetries */
		/* powerCycleState: only a power cycle allows more tries */
		if ((m = cbor_new_definite_map(2)) == NULL ||
		    cb_put(m, cb_int(3), cb_int(s->pin_retries)) != 0 ||
		    (!c->opts.ctap20 && cb_put(m, cb_int(4), cbor_build_bool(
		    c->fails >= PIN_FAILS_PER_BOOT)) != 0)) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		break;
	case 2:		/* getKeyAgreement */
		if ((r = vfido_pin_ecdh_pub(c->ka, x, y)) != 0)
			goto out;
		r = TOK_ERR_ALLOC;
		if ((cose = cbor_new_definite_map(5)) == NULL ||
		    cb_put(cose, cb_int(1), cb_int(2)) != 0 ||
		    cb_put(cose, cb_int(3),
		    cb_int(VFIDO_COSE_ECDH_ES_HKDF)) != 0 ||
		    cb_put(cose, cb_int(-1), cb_int(1)) != 0 ||
		    cb_put(cose, cb_int(-2), cbor_build_bytestring(x,
		    32)) != 0 ||
		    cb_put(cose, cb_int(-3), cbor_build_bytestring(y,
		    32)) != 0)
			goto out;
		if ((m = cbor_new_definite_map(1)) == NULL ||
		    cb_put(m, cb_int(1), cose) != 0) {
			cose = NULL;
			goto out;
		}
		cose = NULL;
		break;
	case 3:		/* setPIN */
		if (!cp->has_ka || !cp->auth.present ||
		    cp->new_pin_enc_len == 0) {
			st = VFIDO_CTAP2_MISSING_PARAMETER;
			goto done;
		}
		if (s->pin_set) {
			st = VFIDO_CTAP2_PIN_AUTH_INVALID;
			goto done;
		}
		if ((st = cp_shared(c, cp, shared, &sharedlen)) != 0)
			goto done;
		if (vfido_pin_verify(cp->proto, shared, sharedlen,
		    cp->new_pin_enc, cp->new_pin_enc_len, cp->auth.param,
		    cp->auth.len) != 0) {
			st = VFIDO_CTAP2_PIN_AUTH_INVALID;
			goto done;
		}
		if ((st = cp_store_pin(c, cp, shared, sharedlen)) != 0)
			goto done;
		save = 1;
		break;
	case 4:		/* changePIN */
		if (!cp->has_ka || !cp->auth.present ||
		    cp->new_pin_enc_len == 0 || cp->pin_hash_enc_len == 0) {
			st = VFIDO_CTAP2_MISSING_PARAMETER;
			goto done;
		}
		if (!s->pin_set) {
			st = VFIDO_CTAP2_PIN_NOT_SET;
			goto done;
		}
		if (s->pin_retries == 0) {
			st = VFIDO_CTAP2_PIN_BLOCKED;
			goto done;
		}
		if ((st = cp_shared(c, cp, shared, &sharedlen)) != 0)
			goto done;
		if ((msg = malloc(cp->new_pin_enc_len +
		    cp->pin_hash_enc_len)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		memcpy(msg, cp->new_pin_enc, cp->new_pin_enc_len);
		memcpy(msg + cp->new_pin_enc_len, cp->pin_hash_enc,
		    cp->pin_hash_enc_len);
		if (vfido_pin_verify(cp->proto, shared, sharedlen, msg,
		    cp->new_pin_enc_len + cp->pin_hash_enc_len,
		    cp->auth.param, cp->auth.len) != 0) {
			st = VFIDO_CTAP2_PIN_AUTH_INVALID;
			goto done;
		}
		if ((st = cp_check_pin(c, cp, shared, sharedlen,
		    &save)) != 0)
			goto done;
		if ((st = cp_store_pin(c, cp, shared, sharedlen)) != 0)
			goto done;
		if ((r = new_token(c)) != 0)
			goto out;
		break;
	case 5:		/* getPinToken */
	case 9:		/* getPinUvAuthTokenUsingPinWithPermissions */
		if (cp->subcmd == 9 && c->opts.ctap20) {
			st = VFIDO_CTAP1_INVALID_PARAMETER;
			goto done;
		}
		if (!cp->has_ka || cp->pin_hash_enc_len == 0 ||
		    (cp->subcmd == 9 && !cp->has_permissions)) {
			st = VFIDO_CTAP2_MISSING_PARAMETER;
			goto done;
		}
		if (cp->subcmd == 9 && cp->permissions == 0) {
			st = VFIDO_CTAP1_INVALID_PARAMETER;
			goto done;
		}
		if (cp->subcmd == 9 &&
		    (cp->permissions & (PERM_MC | PERM_GA)) && !cp->has_rp_id) {
			st = VFIDO_CTAP2_MISSING_PARAMETER;
			goto done;
		}
		if (!s->pin_set) {
			st = VFIDO_CTAP2_PIN_NOT_SET;
			goto done;
		}
		if ((st = cp_shared(c, cp, shared, &sharedlen)) != 0)
			goto done;
		if ((st = cp_check_pin(c, cp, shared, sharedlen,
		    &save)) != 0)
			goto done;
		if ((r = new_token(c)) != 0)
			goto out;
		c->token_valid = 1;
		c->token_proto = cp->proto;
		c->token_issued = mono_ms();
		/* the legacy token: mc and ga only (CTAP 2.0: anything) */
		if (cp->subcmd == 9)
			c->token_perms = cp->permissions;
		else if (c->opts.ctap20)
			c->token_perms = PERM_MC | PERM_GA | PERM_CM;
		else
			c->token_perms = PERM_MC | PERM_GA;
		if (cp->subcmd == 9 && cp->has_rp_id)
			strlcpy(c->token_rp, cp->rp_id, sizeof(c->token_rp));
		if ((r = vfido_pin_encrypt(cp->proto, shared, sharedlen,
		    c->token, sizeof(c->token), &enc, &enclen)) != 0)
			goto out;
		if ((m = cbor_new_definite_map(1)) == NULL ||
		    cb_put(m, cb_int(2), cbor_build_bytestring(enc,
		    enclen)) != 0) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		break;
	default:
		st = ST_INVALID_SUBCOMMAND;
		goto done;
	}
 done:
	if (save && (r = vfido_state_save(s)) != 0)
		goto out;
	if (st != VFIDO_CTAP2_OK)
		call->status = (uint8_t)st;
	else {
		call->body = m;
		m = NULL;
	}
	r = 0;
 out:
	explicit_bzero(shared, sizeof(shared));
	free(msg);
	if (enc != NULL)
		freezero(enc, enclen);
	cb_free(&m);
	cb_free(&cose);
	return r;
}

/* --- credentialManagement --------------------------------------------- */

static int
cm_rk_reply(struct vfido_call *call, const struct vfido_rk *rk, int first,
    size_t total)
{
	struct vfido_state *s = call->c->st;
	EVP_PKEY *pk = NULL;
	cbor_item_t *m = NULL, *cose = NULL;
	uint8_t flags;
	int alg, r;

	if ((r = vfido_key_unwrap(s->master, rk->rp_id_hash, rk->cred_id,
	    rk->cred_id_len, &alg, &flags, &pk)) != 0 ||
	    (r = vfido_key_cose(pk, alg, &cose)) != 0)
		goto out;
	r = TOK_ERR_ALLOC;
	if ((m = cbor_new_definite_map(5)) == NULL ||
	    cb_put(m, cb_int(6), cb_user(rk, 1)) != 0 ||
	    cb_put(m, cb_int(7), cb_desc(rk->cred_id, rk->cred_id_len)) != 0)
		goto out;
	if (cb_put(m, cb_int(8), cose) != 0) {
		cose = NULL;
		goto out;
	}
	cose = NULL;
	if (first && cb_put(m, cb_int(9), cb_int((int64_t)total)) != 0)
		goto out;
	if (cb_put(m, cb_int(10), cb_int(rk->cred_protect)) != 0)
		goto out;
	call->body = m;
	m = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pk);
	cb_free(&m);
	cb_free(&cose);
	return r;
}

static int
cm_rp_reply(struct vfido_call *call, const struct vfido_rk *rk, int first,
    size_t total)
{
	cbor_item_t *m = NULL, *rp = NULL;
	int r = TOK_ERR_ALLOC;

	if ((rp = cbor_new_definite_map(2)) == NULL ||
	    cb_put(rp, cb_text("id"), cb_text(rk->rp_id)) != 0 ||
	    (*rk->rp_name != '\0' &&
	    cb_put(rp, cb_text("name"), cb_text(rk->rp_name)) != 0))
		goto out;
	if ((m = cbor_new_definite_map(3)) == NULL)
		goto out;
	if (cb_put(m, cb_int(3), rp) != 0) {
		rp = NULL;
		goto out;
	}
	rp = NULL;
	if (cb_put(m, cb_int(4), cbor_build_bytestring(rk->rp_id_hash,
	    32)) != 0 ||
	    (first && cb_put(m, cb_int(5), cb_int((int64_t)total)) != 0))
		goto out;
	call->body = m;
	m = NULL;
	r = 0;
 out:
	cb_free(&m);
	cb_free(&rp);
	return r;
}

static int
do_cred_mgmt(struct vfido_call *call)
{
	struct vfido_ctap *c = call->c;
	const struct vfido_cm_req *cm = &call->req->u.cm;
	struct vfido_state *s = c->st;
	u_char msg[1 + VFIDO_CM_PARAMS_MAX];
	size_t i, j;
	int st, ri, dup;

	switch (cm->subcmd) {
	case 1: case 2: case 4: case 6:
		if (!cm->auth.present) {
			call->status = VFIDO_CTAP2_PUAT_REQUIRED;
			return 0;
		}
		if (!s->pin_set) {
			call->status = VFIDO_CTAP2_PIN_NOT_SET;
			return 0;
		}
		msg[0] = (u_char)cm->subcmd;
		memcpy(msg + 1, cm->params, cm->params_len);
		if ((st = check_token(c, &cm->auth, msg, 1 + cm->params_len,
		    PERM_CM, NULL)) != VFIDO_CTAP2_OK) {
			call->status = (uint8_t)st;
			return 0;
		}
		call->uv = 1;
		break;
	default:
		break;
	}
	switch (cm->subcmd) {
	case 1:
		if ((call->body = cbor_new_definite_map(2)) == NULL ||
		    cb_put(call->body, cb_int(1), cb_int((int64_t)s->nrks)) ||
		    cb_put(call->body, cb_int(2),
		    cb_int((int64_t)(VFIDO_RK_MAX - s->nrks))))
			return TOK_ERR_ALLOC;
		return 0;
	case 2:
		c->cm_nrp = c->cm_rp_next = 0;
		for (i = 0; i < s->nrks; i++) {
			for (dup = 0, j = 0; j < c->cm_nrp; j++)
				if (strcmp(s->rks[c->cm_rp[j]].rp_id,
				    s->rks[i].rp_id) == 0)
					dup = 1;
			if (!dup)
				c->cm_rp[c->cm_nrp++] = i;
		}
		if (c->cm_nrp == 0) {
			call->status = VFIDO_CTAP2_NO_CREDENTIALS;
			return 0;
		}
		c->cm_rp_next = 1;
		return cm_rp_reply(call, &s->rks[c->cm_rp[0]], 1, c->cm_nrp);
	case 3:
		if (c->cm_rp_next >= c->cm_nrp ||
		    c->cm_rp[c->cm_rp_next] >= s->nrks) {
			call->status = VFIDO_CTAP2_NOT_ALLOWED;
			return 0;
		}
		i = c->cm_rp[c->cm_rp_next++];
		return cm_rp_reply(call, &s->rks[i], 0, c->cm_nrp);
	case 4:
		if (!cm->has_rp_id_hash) {
			call->status = VFIDO_CTAP2_MISSING_PARAMETER;
			return 0;
		}
		c->cm_nrk = c->cm_rk_next = 0;
		for (i = 0; i < s->nrks; i++)
			if (memcmp(s->rks[i].rp_id_hash, cm->rp_id_hash,
			    32) == 0)
				c->cm_rk[c->cm_nrk++] = i;
		if (c->cm_nrk == 0) {
			call->status = VFIDO_CTAP2_NO_CREDENTIALS;
			return 0;
		}
		c->cm_rk_next = 1;
		return cm_rk_reply(call, &s->rks[c->cm_rk[0]], 1, c->cm_nrk);
	case 5:
		if (c->cm_rk_next >= c->cm_nrk ||
		    c->cm_rk[c->cm_rk_next] >= s->nrks) {
			call->status = VFIDO_CTAP2_NOT_ALLOWED;
			return 0;
		}
		i = c->cm_rk[c->cm_rk_next++];
		return cm_rk_reply(call, &s->rks[i], 0, c->cm_nrk);
	case 6:
		if (!cm->has_cred) {
			call->status = VFIDO_CTAP2_MISSING_PARAMETER;
			return 0;
		}
		if ((ri = vfido_state_find_rk(s, cm->cred.id,
		    cm->cred.len)) < 0) {
			call->status = VFIDO_CTAP2_NO_CREDENTIALS;
			return 0;
		}
		vfido_state_del_rk(s, (size_t)ri);
		c->ga_active = 0;
		c->cm_nrp = c->cm_rp_next = c->cm_nrk = c->cm_rk_next = 0;
		return vfido_state_save(s);
	default:
		call->status = ST_INVALID_SUBCOMMAND;
		return 0;
	}
}

/* --- reset, selection ------------------------------------------------- */

static int
do_reset(struct vfido_call *call)
{
	struct vfido_ctap *c = call->c;
	int r;

	if (mono_ms() - c->power_up > RESET_WINDOW_MS) {
		call->status = VFIDO_CTAP2_NOT_ALLOWED;
		return 0;
	}
	call->up_needed = 1;
	if (!call->up_granted)
		return VFIDO_CTAP_NEED_UP;
	if ((r = vfido_state_reset(c->st)) != 0 ||
	    (r = new_token(c)) != 0 ||
	    (r = new_ka(c)) != 0 ||
	    (r = vfido_state_save(c->st)) != 0)
		return r;
	c->fails = 0;
	c->ga_active = 0;
	c->cm_nrp = c->cm_rp_next = c->cm_nrk = c->cm_rk_next = 0;
	return 0;
}

static int
do_selection(struct vfido_call *call)
{
	call->up_needed = 1;
	return call->up_granted ? 0 : VFIDO_CTAP_NEED_UP;
}

/* --- entry points ----------------------------------------------------- */

int
vfido_ctap_new(struct vfido_state *st, const int *protos, size_t nprotos,
    const struct vfido_ctap_opts *opts, struct vfido_ctap **ctapp)
{
	struct vfido_ctap *c;
	size_t i;
	int r;

	*ctapp = NULL;
	if (nprotos == 0 || nprotos > 2)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return TOK_ERR_ALLOC;
	c->st = st;
	if (opts != NULL)
		c->opts = *opts;
	c->power_up = mono_ms();
	for (i = 0; i < nprotos; i++) {
		if (protos[i] != 1 && protos[i] != 2) {
			vfido_ctap_free(c);
			return TOK_ERR_INVALID_ARGUMENT;
		}
		c->protos[i] = protos[i];
	}
	c->nprotos = nprotos;
	if ((r = new_token(c)) != 0 || (r = new_ka(c)) != 0) {
		vfido_ctap_free(c);
		return r;
	}
	*ctapp = c;
	return 0;
}

void
vfido_ctap_free(struct vfido_ctap *c)
{
	if (c == NULL)
		return;
	EVP_PKEY_free(c->ka);
	freezero(c, sizeof(*c));
}

int
vfido_ctap_handle(struct vfido_ctap *c, const u_char *msg, size_t len,
    int up_granted, struct buf *resp, char *info)
{
	struct vfido_req *req = NULL;
	struct vfido_call call;
	int st, r = TOK_ERR_INTERNAL;

	if (info != NULL)
		*info = '\0';
	memset(&call, 0, sizeof(call));
	if ((req = calloc(1, sizeof(*req))) == NULL)
		return TOK_ERR_ALLOC;
	call.c = c;
	call.req = req;
	call.up_granted = up_granted;
	call.resp = resp;
	if (len > MAX_MSG_SIZE)
		st = VFIDO_CTAP2_REQUEST_TOO_LARGE;
	else if (c->opts.ctap20 && len > 0 && (msg[0] == VFIDO_CMD_CRED_MGMT ||
	    msg[0] == VFIDO_CMD_SELECTION))
		st = VFIDO_CTAP1_INVALID_COMMAND;	/* CTAP 2.1 only */
	else
		st = vfido_req_parse(msg, len, req);
	if (st != VFIDO_CTAP2_OK) {
		debug_f("request 0x%02x: status 0x%02x",
		    len > 0 ? msg[0] : 0, st);
		call.status = (uint8_t)st;
		r = 0;
	} else {
		switch (req->cmd) {
		case VFIDO_CMD_GET_INFO:
			r = do_get_info(&call);
			break;
		case VFIDO_CMD_MAKE_CRED:
			r = do_make_cred(&call);
			break;
		case VFIDO_CMD_GET_ASSERT:
			r = do_get_assert(&call);
			break;
		case VFIDO_CMD_GET_NEXT:
			r = do_get_next(&call);
			break;
		case VFIDO_CMD_CLIENT_PIN:
			r = do_client_pin(&call);
			break;
		case VFIDO_CMD_CRED_MGMT:
		case VFIDO_CMD_CRED_MGMT_PRE:
			r = do_cred_mgmt(&call);
			break;
		case VFIDO_CMD_RESET:
			r = do_reset(&call);
			break;
		case VFIDO_CMD_SELECTION:
			r = do_selection(&call);
			break;
		default:
			call.status = VFIDO_CTAP1_INVALID_COMMAND;
			r = 0;
			break;
		}
	}
	if (info != NULL && len > 0 && msg[0] != VFIDO_CMD_GET_INFO) {
		if (msg[0] == VFIDO_CMD_CLIENT_PIN && st == VFIDO_CTAP2_OK)
			snprintf(info, VFIDO_CTAP_INFO_MAX, "clientPIN sub=%d",
			    req->u.cp.subcmd);
		else if (msg[0] == VFIDO_CMD_CRED_MGMT ||
		    msg[0] == VFIDO_CMD_CRED_MGMT_PRE)
			snprintf(info, VFIDO_CTAP_INFO_MAX,
			    "credentialManagement sub=%d",
			    st == VFIDO_CTAP2_OK ? req->u.cm.subcmd : 0);
		else
			snprintf(info, VFIDO_CTAP_INFO_MAX, "%s up=%d uv=%d",
			    vfido_req_cmd_name(msg[0]), call.up_needed,
			    call.uv);
	}
	if (r != 0)
		goto out;	/* NEED_UP or failure: resp untouched */
	if ((r = buf_put_u8(resp, call.body != NULL ?
	    VFIDO_CTAP2_OK : call.status)) != 0 ||
	    (call.body != NULL && (r = cb_serialize(call.body, resp)) != 0))
		goto out;
	r = 0;
 out:
	cb_free(&call.body);
	explicit_bzero(req, sizeof(*req));
	free(req);
	return r;
}
