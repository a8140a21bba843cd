/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* CTAP2 request decoding (libcbor), bounded and strict. */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "tests/vfido/request.h"

#define ST_OK		VFIDO_CTAP2_OK

/* Walk a definite map with unsigned integer keys, calling fn per pair. */
typedef int vfido_map_fn(uint64_t key, const cbor_item_t *val, void *arg);

static int
vfido_walk_uint_map(const cbor_item_t *map, vfido_map_fn *fn, void *arg)
{
	struct cbor_pair *pairs;
	uint64_t seen = 0, k;
	size_t i, n;
	int st;

	if (!cbor_isa_map(map) || !cbor_map_is_definite(map))
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	n = cbor_map_size(map);
	pairs = cbor_map_handle(map);
	for (i = 0; i < n; i++) {
		if (!cbor_isa_uint(pairs[i].key))
			return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
		k = cbor_get_int(pairs[i].key);
		if (k < 64) {
			if (seen & ((uint64_t)1 << k))
				return VFIDO_CTAP2_INVALID_CBOR; /* duplicate */
			seen |= (uint64_t)1 << k;
		}
		if ((st = fn(k, pairs[i].value, arg)) != ST_OK)
			return st;
	}
	return ST_OK;
}

static int
vfido_get_bytes(const cbor_item_t *it, u_char *dst, size_t min, size_t max,
    size_t *lenp)
{
	size_t len;

	if (!cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it))
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	len = cbor_bytestring_length(it);
	if (len < min || len > max)
		return VFIDO_CTAP1_INVALID_LENGTH;
	if (len > 0)
		memcpy(dst, cbor_bytestring_handle(it), len);
	if (lenp != NULL)
		*lenp = len;
	return ST_OK;
}

/* A text string into dst (NUL-terminated, at most max bytes of text). */
static int
vfido_get_text(const cbor_item_t *it, char *dst, size_t max)
{
	size_t len;

	if (!cbor_isa_string(it) || !cbor_string_is_definite(it))
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	len = cbor_string_length(it);
	if (len > max)
		return VFIDO_CTAP2_LIMIT_EXCEEDED;
	if (len > 0)
		memcpy(dst, cbor_string_handle(it), len);
	dst[len] = '\0';
	if (strlen(dst) != len)
		return VFIDO_CTAP1_INVALID_PARAMETER;	/* embedded NUL */
	return ST_OK;
}

/* Compare a definite text string with s. */
static int
vfido_text_is(const cbor_item_t *it, const char *s)
{
	size_t len = strlen(s);

	return cbor_isa_string(it) && cbor_string_is_definite(it) &&
	    cbor_string_length(it) == len &&
	    memcmp(cbor_string_handle(it), s, len) == 0;
}

static int
vfido_get_uint(const cbor_item_t *it, uint64_t *vp)
{
	if (!cbor_isa_uint(it))
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	*vp = cbor_get_int(it);
	return ST_OK;
}

static int
vfido_get_int(const cbor_item_t *it, int64_t *vp)
{
	uint64_t v;

	if (cbor_isa_uint(it)) {
		v = cbor_get_int(it);
		if (v > INT64_MAX)
			return VFIDO_CTAP1_INVALID_PARAMETER;
		*vp = (int64_t)v;
	} else if (cbor_isa_negint(it)) {
		v = cbor_get_int(it);
		if (v > INT64_MAX)
			return VFIDO_CTAP1_INVALID_PARAMETER;
		*vp = -1 - (int64_t)v;
	} else
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	return ST_OK;
}

/* Options map {"rk": bool, "up": bool, "uv": bool}; others ignored. */
static int
vfido_get_options(const cbor_item_t *it, int *rkp, int *upp, int *uvp)
{
	struct cbor_pair *pairs;
	size_t i, n;
	int *dst;

	if (!cbor_isa_map(it) || !cbor_map_is_definite(it))
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	n = cbor_map_size(it);
	pairs = cbor_map_handle(it);
	for (i = 0; i < n; i++) {
		if (!cbor_isa_string(pairs[i].key))
			return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
		if (vfido_text_is(pairs[i].key, "rk"))
			dst = rkp;
		else if (vfido_text_is(pairs[i].key, "up"))
			dst = upp;
		else if (vfido_text_is(pairs[i].key, "uv"))
			dst = uvp;
		else
			dst = NULL;
		if (!cbor_is_bool(pairs[i].value))
			return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
		if (dst == NULL)
			continue;
		if (*dst != VFIDO_OPT_ABSENT)
			return VFIDO_CTAP2_INVALID_CBOR;
		*dst = cbor_get_bool(pairs[i].value) ? 1 : 0;
	}
	return ST_OK;
}

/*
 * A PublicKeyCredentialDescriptor {"type": "public-key", "id": bytes}.
 * *usedp is 0 for other types, which callers skip.
 */
static int
vfido_get_desc(const cbor_item_t *it, struct vfido_cred_desc *d, int *usedp)
{
	struct cbor_pair *pairs;
	size_t i, n;
	int st, have_id = 0, pk = 0;

	*usedp = 0;
	if (!cbor_isa_map(it) || !cbor_map_is_definite(it))
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	n = cbor_map_size(it);
	pairs = cbor_map_handle(it);
	for (i = 0; i < n; i++) {
		if (!cbor_isa_string(pairs[i].key))
			return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
		if (vfido_text_is(pairs[i].key, "id")) {
			if (!cbor_isa_bytestring(pairs[i].value))
				return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
			/* Foreign IDs longer than ours simply won't match. */
			if (cbor_bytestring_is_definite(pairs[i].value) &&
			    cbor_bytestring_length(pairs[i].value) >
			    sizeof(d->id)) {
				d->len = 0;
				have_id = 2;
				continue;
			}
			if ((st = vfido_get_bytes(pairs[i].value, d->id, 0,
			    sizeof(d->id), &d->len)) != ST_OK)
				return st;
			have_id = 1;
		} else if (vfido_text_is(pairs[i].key, "type")) {
			if (!cbor_isa_string(pairs[i].value))
				return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
			pk = vfido_text_is(pairs[i].value, "public-key");
		}
	}
	if (!have_id)
		return VFIDO_CTAP2_MISSING_PARAMETER;
	*usedp = pk && have_id == 1;
	return ST_OK;
}

static int
vfido_get_desc_list(const cbor_item_t *it, struct vfido_cred_desc *list,
    size_t *np)
{
	cbor_item_t **items;
	size_t i, n;
	int st, used;

	*np = 0;
	if (!cbor_isa_array(it) || !cbor_array_is_definite(it))
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	n = cbor_array_size(it);
	items = cbor_array_handle(it);
	for (i = 0; i < n; i++) {
		if (*np >= VFIDO_LIST_MAX)
			return VFIDO_CTAP2_LIMIT_EXCEEDED;
		if ((st = vfido_get_desc(items[i], &list[*np], &used)) != ST_OK)
			return st;
		if (used)
			(*np)++;
	}
	return ST_OK;
}

static int
vfido_get_pin_auth(const cbor_item_t *it, struct vfido_pin_auth *a)
{
	int st;

	if ((st = vfido_get_bytes(it, a->param, 0, sizeof(a->param),
	    &a->len)) != ST_OK)
		return st;
	a->present = 1;
	return ST_OK;
}

static int
vfido_get_pin_proto(const cbor_item_t *it, int *protop)
{
	uint64_t v;
	int st;

	if ((st = vfido_get_uint(it, &v)) != ST_OK)
		return st;
	/* Unsupported protocols are refused later, with the right code. */
	*protop = v > 255 ? 255 : (int)v;
	return ST_OK;
}

static int
vfido_mc_rp(const cbor_item_t *it, struct vfido_mc_req *mc)
{
	struct cbor_pair *pairs;
	size_t i, n;
	int st, have_id = 0;

	if (!cbor_isa_map(it) || !cbor_map_is_definite(it))
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	n = cbor_map_size(it);
	pairs = cbor_map_handle(it);
	for (i = 0; i < n; i++) {
		if (!cbor_isa_string(pairs[i].key))
			return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
		if (vfido_text_is(pairs[i].key, "id")) {
			if ((st = vfido_get_text(pairs[i].value, mc->rp_id,
			    VFIDO_NAME_MAX)) != ST_OK)
				return st;
			have_id = 1;
		} else if (vfido_text_is(pairs[i].key, "name")) {
			if ((st = vfido_get_text(pairs[i].value, mc->rp_name,
			    VFIDO_NAME_MAX)) != ST_OK)
				return st;
		}
	}
	return have_id ? ST_OK : VFIDO_CTAP2_MISSING_PARAMETER;
}

static int
vfido_mc_user(const cbor_item_t *it, struct vfido_mc_req *mc)
{
	struct cbor_pair *pairs;
	size_t i, n;
	int st, have_id = 0;

	if (!cbor_isa_map(it) || !cbor_map_is_definite(it))
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	n = cbor_map_size(it);
	pairs = cbor_map_handle(it);
	for (i = 0; i < n; i++) {
		if (!cbor_isa_string(pairs[i].key))
			return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
		if (vfido_text_is(pairs[i].key, "id")) {
			if ((st = vfido_get_bytes(pairs[i].value, mc->user_id,
			    1, sizeof(mc->user_id), &mc->user_id_len)) != ST_OK)
				return st;
			have_id = 1;
		} else if (vfido_text_is(pairs[i].key, "name")) {
			if ((st = vfido_get_text(pairs[i].value,
			    mc->user_name, VFIDO_NAME_MAX)) != ST_OK)
				return st;
		} else if (vfido_text_is(pairs[i].key, "displayName")) {
			if ((st = vfido_get_text(pairs[i].value,
			    mc->user_display, VFIDO_NAME_MAX)) != ST_OK)
				return st;
		}
	}
	return have_id ? ST_OK : VFIDO_CTAP2_MISSING_PARAMETER;
}

/* pubKeyCredParams: pick the first algorithm we implement. */
static int
vfido_mc_algs(const cbor_item_t *it, struct vfido_mc_req *mc)
{
	cbor_item_t **items;
	struct cbor_pair *pairs;
	size_t i, j, n, m;
	int64_t alg;
	int st, pk, have_alg;

	if (!cbor_isa_array(it) || !cbor_array_is_definite(it))
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	n = cbor_array_size(it);
	items = cbor_array_handle(it);
	for (i = 0; i < n; i++) {
		if (!cbor_isa_map(items[i]) ||
		    !cbor_map_is_definite(items[i]))
			return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
		m = cbor_map_size(items[i]);
		pairs = cbor_map_handle(items[i]);
		pk = have_alg = 0;
		alg = 0;
		for (j = 0; j < m; j++) {
			if (!cbor_isa_string(pairs[j].key))
				return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
			if (vfido_text_is(pairs[j].key, "alg")) {
				if ((st = vfido_get_int(pairs[j].value,
				    &alg)) != ST_OK)
					return st;
				have_alg = 1;
			} else if (vfido_text_is(pairs[j].key, "type")) {
				if (!cbor_isa_string(pairs[j].value))
					return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
				pk = vfido_text_is(pairs[j].value,
				    "public-key");
			}
		}
		if (!have_alg)
			return VFIDO_CTAP2_MISSING_PARAMETER;
		if (pk && mc->alg == 0 && (alg == VFIDO_COSE_ES256 ||
		    alg == VFIDO_COSE_EDDSA))
			mc->alg = (int)alg;
	}
	return ST_OK;
}

static int
vfido_mc_ext(const cbor_item_t *it, struct vfido_mc_req *mc)
{
	struct cbor_pair *pairs;
	uint64_t v;
	size_t i, n;
	int st;

	if (!cbor_isa_map(it) || !cbor_map_is_definite(it))
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	n = cbor_map_size(it);
	pairs = cbor_map_handle(it);
	for (i = 0; i < n; i++) {
		if (!cbor_isa_string(pairs[i].key))
			return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
		if (vfido_text_is(pairs[i].key, "credProtect")) {
			if ((st = vfido_get_uint(pairs[i].value, &v)) != ST_OK)
				return st;
			if (v < 1 || v > 3)
				return VFIDO_CTAP1_INVALID_PARAMETER;
			mc->cred_protect = (int)v;
		} else if (vfido_text_is(pairs[i].key, "hmac-secret")) {
			if (!cbor_is_bool(pairs[i].value))
				return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
			mc->hmac_secret = cbor_get_bool(pairs[i].value);
		}
	}
	return ST_OK;
}

#define HAVE(bit)	(1U << (bit))

struct vfido_walk {
	struct vfido_req	*req;
	unsigned int		 have;
};

static int
vfido_mc_member(uint64_t key, const cbor_item_t *val, void *arg)
{
	struct vfido_walk *w = arg;
	struct vfido_mc_req *mc = &w->req->u.mc;
	int st = ST_OK;

	switch (key) {
	case 1:
		st = vfido_get_bytes(val, mc->cdh, 32, 32, NULL);
		break;
	case 2:
		st = vfido_mc_rp(val, mc);
		break;
	case 3:
		st = vfido_mc_user(val, mc);
		break;
	case 4:
		st = vfido_mc_algs(val, mc);
		break;
	case 5:
		st = vfido_get_desc_list(val, mc->excl, &mc->nexcl);
		break;
	case 6:
		st = vfido_mc_ext(val, mc);
		break;
	case 7:
		st = vfido_get_options(val, &mc->rk, &mc->up, &mc->uv);
		break;
	case 8:
		st = vfido_get_pin_auth(val, &mc->auth);
		break;
	case 9:
		st = vfido_get_pin_proto(val, &mc->auth.proto);
		break;
	default:
		return ST_OK;
	}
	if (st == ST_OK)
		w->have |= HAVE(key);
	return st;
}

static int
vfido_ga_member(uint64_t key, const cbor_item_t *val, void *arg)
{
	struct vfido_walk *w = arg;
	struct vfido_ga_req *ga = &w->req->u.ga;
	int st = ST_OK, dummy = VFIDO_OPT_ABSENT;

	switch (key) {
	case 1:
		st = vfido_get_text(val, ga->rp_id, VFIDO_NAME_MAX);
		break;
	case 2:
		st = vfido_get_bytes(val, ga->cdh, 32, 32, NULL);
		break;
	case 3:
		st = vfido_get_desc_list(val, ga->allow, &ga->nallow);
		break;
	case 4:
		if (!cbor_isa_map(val))
			st = VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
		break;
	case 5:
		st = vfido_get_options(val, &dummy, &ga->up, &ga->uv);
		if (st == ST_OK && dummy != VFIDO_OPT_ABSENT)
			st = VFIDO_CTAP2_UNSUPPORTED_OPTION;
		break;
	case 6:
		st = vfido_get_pin_auth(val, &ga->auth);
		break;
	case 7:
		st = vfido_get_pin_proto(val, &ga->auth.proto);
		break;
	default:
		return ST_OK;
	}
	if (st == ST_OK)
		w->have |= HAVE(key);
	return st;
}

/* A COSE_Key for ECDH: {1: 2, 3: alg, -1: 1, -2: x, -3: y}. */
static int
vfido_cp_ka(const cbor_item_t *it, struct vfido_cp_req *cp)
{
	struct cbor_pair *pairs;
	size_t i, n;
	int64_t k, v;
	int st, have = 0;

	if (!cbor_isa_map(it) || !cbor_map_is_definite(it))
		return VFIDO_CTAP2_CBOR_UNEXPECTED_TYPE;
	n = cbor_map_size(it);
	pairs = cbor_map_handle(it);
	for (i = 0; i < n; i++) {
		if ((st = vfido_get_int(pairs[i].key, &k)) != ST_OK)
			return st;
		switch (k) {
		case 1:
		case -1:
			if ((st = vfido_get_int(pairs[i].value, &v)) != ST_OK)
				return st;
			if ((k == 1 && v != 2) || (k == -1 && v != 1))
				return VFIDO_CTAP1_INVALID_PARAMETER;
			have |= k == 1 ? 1 : 2;
			break;
		case -2:
			if ((st = vfido_get_bytes(pairs[i].value, cp->ka_x,
			    32, 32, NULL)) != ST_OK)
				return st;
			have |= 4;
			break;
		case -3:
			if ((st = vfido_get_bytes(pairs[i].value, cp->ka_y,
			    32, 32, NULL)) != ST_OK)
				return st;
			have |= 8;
			break;
		default:
			break;
		}
	}
	if ((have & 0x0c) != 0x0c)
		return VFIDO_CTAP2_MISSING_PARAMETER;
	cp->has_ka = 1;
	return ST_OK;
}

static int
vfido_cp_member(uint64_t key, const cbor_item_t *val, void *arg)
{
	struct vfido_walk *w = arg;
	struct vfido_cp_req *cp = &w->req->u.cp;
	uint64_t v;
	int st = ST_OK;

	switch (key) {
	case 1:
		st = vfido_get_pin_proto(val, &cp->proto);
		break;
	case 2:
		if ((st = vfido_get_uint(val, &v)) == ST_OK)
			cp->subcmd = v > 255 ? 255 : (int)v;
		break;
	case 3:
		st = vfido_cp_ka(val, cp);
		break;
	case 4:
		st = vfido_get_pin_auth(val, &cp->auth);
		break;
	case 5:
		st = vfido_get_bytes(val, cp->new_pin_enc, 1,
		    sizeof(cp->new_pin_enc), &cp->new_pin_enc_len);
		break;
	case 6:
		st = vfido_get_bytes(val, cp->pin_hash_enc, 1,
		    sizeof(cp->pin_hash_enc), &cp->pin_hash_enc_len);
		break;
	case 9:
		if ((st = vfido_get_uint(val, &cp->permissions)) == ST_OK)
			cp->has_permissions = 1;
		break;
	case 10:
		if ((st = vfido_get_text(val, cp->rp_id,
		    VFIDO_NAME_MAX)) == ST_OK)
			cp->has_rp_id = 1;
		break;
	default:
		return ST_OK;
	}
	if (st == ST_OK)
		w->have |= HAVE(key);
	return st;
}

static int
vfido_cm_param(uint64_t key, const cbor_item_t *val, void *arg)
{
	struct vfido_cm_req *cm = arg;
	int st, used;

	switch (key) {
	case 1:
		if ((st = vfido_get_bytes(val, cm->rp_id_hash, 32, 32,
		    NULL)) != ST_OK)
			return st;
		cm->has_rp_id_hash = 1;
		return ST_OK;
	case 2:
		if ((st = vfido_get_desc(val, &cm->cred, &used)) != ST_OK)
			return st;
		cm->has_cred = used;
		return ST_OK;
	default:
		return ST_OK;
	}
}

static int
vfido_cm_member(uint64_t key, const cbor_item_t *val, void *arg)
{
	struct vfido_walk *w = arg;
	struct vfido_cm_req *cm = &w->req->u.cm;
	u_char *enc = NULL;
	size_t len, alloc = 0;
	uint64_t v;
	int st = ST_OK;

	switch (key) {
	case 1:
		if ((st = vfido_get_uint(val, &v)) == ST_OK)
			cm->subcmd = v > 255 ? 255 : (int)v;
		break;
	case 2:
		/* Kept as encoded: pinUvAuthParam covers these bytes. */
		if ((st = vfido_walk_uint_map(val, vfido_cm_param, cm)) !=
		    ST_OK)
			break;
		len = cbor_serialize_alloc(val, &enc, &alloc);
		if (len == 0 || len > sizeof(cm->params))
			st = VFIDO_CTAP2_LIMIT_EXCEEDED;
		else {
			memcpy(cm->params, enc, len);
			cm->params_len = len;
			cm->has_params = 1;
		}
		free(enc);
		break;
	case 3:
		st = vfido_get_pin_proto(val, &cm->auth.proto);
		break;
	case 4:
		st = vfido_get_pin_auth(val, &cm->auth);
		break;
	default:
		return ST_OK;
	}
	if (st == ST_OK)
		w->have |= HAVE(key);
	return st;
}

/*
 * Walk the CBOR heads before libcbor sees them: libcbor allocates what a
 * head declares, so an array "of 2^32 items" in ten bytes would exhaust
 * memory.  Every declared length must fit in the bytes left; indefinite
 * lengths (not canonical CTAP2 CBOR) are refused.
 */
static int
vfido_cbor_sane(const u_char *p, size_t len)
{
	size_t pos = 0, pending = 1, left, n, i;
	uint64_t val;
	u_char major, ai;

	while (pending > 0) {
		if (pos >= len)
			return 0;
		major = p[pos] >> 5;
		ai = p[pos++] & 0x1f;
		pending--;
		if (ai < 24)
			val = ai;
		else if (ai <= 27) {
			n = (size_t)1 << (ai - 24);
			if (n > len - pos)
				return 0;
			for (val = 0, i = 0; i < n; i++)
				val = val << 8 | p[pos++];
		} else
			return 0;	/* reserved or indefinite */
		left = len - pos;
		switch (major) {
		case 2:		/* byte string */
		case 3:		/* text string */
			if (val > left)
				return 0;
			pos += (size_t)val;
			break;
		case 4:		/* array: each item at least a byte */
			if (val > left)
				return 0;
			pending += (size_t)val;
			break;
		case 5:		/* map */
			if (val > left / 2)
				return 0;
			pending += 2 * (size_t)val;
			break;
		case 6:		/* tag */
			pending++;
			break;
		default:
			break;
		}
		if (pending > len - pos)
			return 0;
	}
	return 1;
}

int
vfido_req_parse(const u_char *msg, size_t len, struct vfido_req *req)
{
	struct cbor_load_result res;
	struct vfido_walk w;
	cbor_item_t *item = NULL;
	vfido_map_fn *fn = NULL;
	unsigned int need = 0;
	int st = VFIDO_CTAP1_OTHER;

	memset(req, 0, sizeof(*req));
	memset(&w, 0, sizeof(w));
	w.req = req;
	if (len < 1)
		return VFIDO_CTAP1_INVALID_LENGTH;
	req->cmd = msg[0];
	switch (req->cmd) {
	case VFIDO_CMD_MAKE_CRED:
		req->u.mc.rk = req->u.mc.up = req->u.mc.uv = VFIDO_OPT_ABSENT;
		fn = vfido_mc_member;
		need = HAVE(1) | HAVE(2) | HAVE(3) | HAVE(4);
		break;
	case VFIDO_CMD_GET_ASSERT:
		req->u.ga.up = req->u.ga.uv = VFIDO_OPT_ABSENT;
		fn = vfido_ga_member;
		need = HAVE(1) | HAVE(2);
		break;
	case VFIDO_CMD_CLIENT_PIN:
		fn = vfido_cp_member;
		need = HAVE(2);
		break;
	case VFIDO_CMD_CRED_MGMT:
	case VFIDO_CMD_CRED_MGMT_PRE:
		fn = vfido_cm_member;
		need = HAVE(1);
		break;
	case VFIDO_CMD_GET_INFO:
	case VFIDO_CMD_RESET:
	case VFIDO_CMD_GET_NEXT:
	case VFIDO_CMD_SELECTION:
		/* no parameters */
		return len == 1 ? ST_OK : VFIDO_CTAP1_INVALID_LENGTH;
	default:
		return VFIDO_CTAP1_INVALID_COMMAND;
	}
	if (len == 1) {
		st = need ? VFIDO_CTAP2_MISSING_PARAMETER : ST_OK;
		goto out;
	}
	if (!vfido_cbor_sane(msg + 1, len - 1)) {
		st = VFIDO_CTAP2_INVALID_CBOR;
		goto out;
	}
	item = cbor_load(msg + 1, len - 1, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE) {
		st = VFIDO_CTAP2_INVALID_CBOR;
		goto out;
	}
	if (res.read != len - 1) {
		st = VFIDO_CTAP1_INVALID_LENGTH;	/* trailing bytes */
		goto out;
	}
	if ((st = vfido_walk_uint_map(item, fn, &w)) != ST_OK)
		goto out;
	if ((w.have & need) != need) {
		st = VFIDO_CTAP2_MISSING_PARAMETER;
		goto out;
	}
	st = ST_OK;
 out:
	if (item != NULL)
		cbor_decref(&item);
	return st;
}

const char *
vfido_req_cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case VFIDO_CMD_MAKE_CRED:
		return "makeCredential";
	case VFIDO_CMD_GET_ASSERT:
		return "getAssertion";
	case VFIDO_CMD_GET_INFO:
		return "getInfo";
	case VFIDO_CMD_CLIENT_PIN:
		return "clientPIN";
	case VFIDO_CMD_RESET:
		return "reset";
	case VFIDO_CMD_GET_NEXT:
		return "getNextAssertion";
	case VFIDO_CMD_CRED_MGMT:
	case VFIDO_CMD_CRED_MGMT_PRE:
		return "credentialManagement";
	case VFIDO_CMD_SELECTION:
		return "selection";
	default:
		return "unknown";
	}
}
