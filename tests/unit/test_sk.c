/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Unit tests of the sk core over a fake struct sk_devops: the FIDO_ERR ->
 * TOK_ERR translation, device selection, building signatures and keys
 * from what a token returns, and the device pool (handles kept open,
 * one operation per device, the first-come queue, cancel, stale handles,
 * presence scans, per-device PINs).
 *
 * Threads appear only where the behaviour is about concurrency; cmocka's
 * assertions run on the main thread only (a worker records, the main
 * thread checks).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/syscall.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <fido.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "common/err.h"
#include "common/secmem.h"
#include "sk/devpool.h"
#include "sk/fido_err.h"
#include "sk/sk.h"

/* ------------------------------------------------------------------ */
/* The fake token(s). */

#define FAKE_NDEVS	3

struct fake_dev {
	int idx;
	unsigned int gen;		/* fake.gen[idx] when opened */
};

/* Guards fake against the worker threads; fake_cond: a get_assert ran. */
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fake_cond = PTHREAD_COND_INITIALIZER;

static struct fake_state {
	const u_char *kh;		/* key handle held by device kh_dev */
	size_t kh_len;
	int kh_dev;
	int has_pin, has_uv;
	u_char *sig;			/* what get_assert returns */
	size_t sig_len;
	uint8_t flags;
	uint32_t counter;
	int probes[FAKE_NDEVS];		/* get_assert with up=0 */
	int touches[FAKE_NDEVS];	/* get_assert with up=1 */
	const char *last_pin;
	int last_uv;
	struct sk_devcred cred;		/* make_cred returns a copy */
	int make_cred_calls;
	int last_cred_prot;
	int asserts[FAKE_NDEVS];	/* every get_assert, stale or not */
	int opens[FAKE_NDEVS];		/* successful opens */
	int open_fails[FAKE_NDEVS];
	int closes[FAKE_NDEVS];
	int stale[FAKE_NDEVS];		/* get_assert on a stale handle */
	unsigned int gen[FAKE_NDEVS];	/* bumped on replug: older handles
					 * fail to write */
	int gone[FAKE_NDEVS];		/* unplugged: open fails */
	int discoverable;		/* discover lists the present ones */
	int uv_required;		/* credProtect 3: hidden without uv */
	int check_pin;			/* device N's PIN is "pin-fake:N" */
	int pins[FAKE_NDEVS];		/* PINs received */
	int foreign_pins;		/* PINs of another device received */
	int touched;			/* 1 + the device the user touches
					 * when asked to choose; 0: none */
	int touched_next;		/* touched after a wrong token said
					 * it has no such credential */
	int selects[FAKE_NDEVS];	/* select_begin */
	int select_cancels[FAKE_NDEVS];
} fake;

/* The index of "fake:N", or -1. */
static int
fake_idx(const char *path)
{
	if (strncmp(path, "fake:", 5) != 0 || path[5] < '0' ||
	    path[5] >= '0' + FAKE_NDEVS || path[6] != '\0')
		return -1;
	return path[5] - '0';
}

static int
fake_discover(char ***pathsp, char ***namesp, size_t *npathsp)
{
	char **paths, **names;
	char buf[32];
	size_t n = 0;
	int i;

	*pathsp = NULL;
	*namesp = NULL;
	*npathsp = 0;
	pthread_mutex_lock(&fake_lock);
	if (!fake.discoverable) {
		pthread_mutex_unlock(&fake_lock);
		return 0;
	}
	if ((paths = calloc(FAKE_NDEVS, sizeof(*paths))) == NULL ||
	    (names = calloc(FAKE_NDEVS, sizeof(*names))) == NULL)
		abort();
	for (i = 0; i < FAKE_NDEVS; i++) {
		if (fake.gone[i])
			continue;
		snprintf(buf, sizeof(buf), "fake:%d", i);
		if ((paths[n] = strdup(buf)) == NULL)
			abort();
		snprintf(buf, sizeof(buf), "Fake Token %d", i);
		if ((names[n] = strdup(buf)) == NULL)
			abort();
		n++;
	}
	pthread_mutex_unlock(&fake_lock);
	*pathsp = paths;
	*namesp = names;
	*npathsp = n;
	return 0;
}

static int
fake_present(const char *path)
{
	int idx = fake_idx(path), r;

	pthread_mutex_lock(&fake_lock);
	r = idx >= 0 && !fake.gone[idx];
	pthread_mutex_unlock(&fake_lock);
	return r;
}

static int
fake_open(const char *path, int timeout_ms, void **devp)
{
	struct fake_dev *d;
	int idx;

	*devp = NULL;
	if ((idx = fake_idx(path)) < 0)
		return TOK_ERR_DEVICE_NOT_PRESENT;
	pthread_mutex_lock(&fake_lock);
	if (fake.gone[idx]) {
		fake.open_fails[idx]++;
		pthread_mutex_unlock(&fake_lock);
		return TOK_ERR_DEVICE_NOT_PRESENT;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		abort();
	d->idx = idx;
	d->gen = fake.gen[idx];
	fake.opens[idx]++;
	pthread_mutex_unlock(&fake_lock);
	*devp = d;
	return 0;
}

static void
fake_close(void *dev)
{
	struct fake_dev *d = dev;

	pthread_mutex_lock(&fake_lock);
	fake.closes[d->idx]++;
	pthread_mutex_unlock(&fake_lock);
	free(d);
}

static int
fake_info(void *dev, struct sk_devinfo *infop)
{
	memset(infop, 0, sizeof(*infop));
	infop->has_pin = fake.has_pin;
	infop->has_uv = fake.has_uv;
	infop->supports_credprot = 1;
	infop->supports_credman = 1;
	return 0;
}

static u_char *
fake_dup(const u_char *p, size_t len)
{
	u_char *q;

	if (p == NULL || len == 0)
		return NULL;
	/* No cmocka assertion: may run on a worker thread. */
	if ((q = malloc(len)) == NULL)
		abort();
	memcpy(q, p, len);
	return q;
}

static int
fake_make_cred(void *dev, const struct sk_devcred_req *req, const char *pin,
    struct sk_devcred *credp)
{
	memset(credp, 0, sizeof(*credp));
	fake.make_cred_calls++;
	fake.last_cred_prot = req->cred_prot;
	fake.last_pin = pin;
	*credp = fake.cred;
	credp->pubkey = fake_dup(fake.cred.pubkey, fake.cred.pubkey_len);
	credp->id = fake_dup(fake.cred.id, fake.cred.id_len);
	credp->sig = fake_dup(fake.cred.sig, fake.cred.sig_len);
	credp->x5c = NULL;
	credp->x5c_len = 0;
	credp->authdata = NULL;
	credp->authdata_len = 0;
	credp->user_id = NULL;
	credp->user_id_len = 0;
	credp->rp_id = NULL;
	return 0;
}

static int
fake_get_assert(void *dev, const struct sk_devassert_req *req,
    const char *pin, struct sk_devassert *ap)
{
	struct fake_dev *d = dev;
	char want[32];
	int r = TOK_ERR_INTERNAL;

	memset(ap, 0, sizeof(*ap));
	pthread_mutex_lock(&fake_lock);
	fake.asserts[d->idx]++;
	if (d->gen != fake.gen[d->idx]) {
		/* Replugged since opened: the write fails. */
		fake.stale[d->idx]++;
		r = sk_fido_err(FIDO_ERR_TX);
		goto out;
	}
	if (!req->up)
		fake.probes[d->idx]++;
	fake.last_pin = pin;
	fake.last_uv = req->uv;
	if (pin != NULL) {
		fake.pins[d->idx]++;
		snprintf(want, sizeof(want), "pin-fake:%d", d->idx);
		if (strcmp(pin, want) != 0) {
			if (strncmp(pin, "pin-fake:", 9) == 0)
				fake.foreign_pins++;
			if (fake.check_pin) {
				r = TOK_ERR_PIN_INVALID;
				goto out;
			}
		}
	}
	if (d->idx != fake.kh_dev || req->key_handle_len != fake.kh_len ||
	    memcmp(req->key_handle, fake.kh, fake.kh_len) != 0 ||
	    (fake.uv_required && pin == NULL && !req->uv)) {
		if (pin != NULL && fake.touched_next != 0)
			fake.touched = fake.touched_next;
		r = sk_fido_err(FIDO_ERR_NO_CREDENTIALS);
		goto out;
	}
	/* a token asks for a touch only for a credential it holds */
	if (req->up)
		fake.touches[d->idx]++;
	ap->flags = req->up ? fake.flags : (fake.flags & ~SK_AUTHDATA_UP);
	ap->counter = fake.counter;
	ap->sig = fake_dup(fake.sig, fake.sig_len);
	ap->sig_len = fake.sig_len;
	r = 0;
 out:
	pthread_cond_broadcast(&fake_cond);
	pthread_mutex_unlock(&fake_lock);
	return r;
}

static int
fake_resident(void *dev, const char *prefix, const char *pin,
    struct sk_devcred **credsp, size_t *ncredsp)
{
	static const char *rps[] = { "ssh:one", "webauthn.example", "ssh:" };
	static const int prots[] = { 3, 2, 2 };
	struct sk_devcred *c;
	size_t i;

	*credsp = NULL;
	*ncredsp = 0;
	fake.last_pin = pin;
	assert_non_null(c = calloc(3, sizeof(*c)));
	for (i = 0; i < 3; i++) {
		c[i].alg = SK_ALG_ED25519;
		assert_non_null(c[i].pubkey = calloc(1, 32));
		c[i].pubkey_len = 32;
		assert_non_null(c[i].id = calloc(1, 8));
		c[i].id_len = 8;
		c[i].id[0] = (u_char)i;
		assert_non_null(c[i].rp_id = strdup(rps[i]));
		c[i].cred_prot = prots[i];
	}
	c[2].pubkey_len = 31;	/* broken: skipped */
	*credsp = c;
	*ncredsp = 3;
	return 0;
}

static int
fake_cancel(void *dev)
{
	return 0;
}

static int
fake_select_begin(void *dev)
{
	struct fake_dev *d = dev;

	pthread_mutex_lock(&fake_lock);
	fake.selects[d->idx]++;
	pthread_mutex_unlock(&fake_lock);
	return 0;
}

static int
fake_select_status(void *dev, int ms, int *touchedp)
{
	struct fake_dev *d = dev;

	(void)ms;
	pthread_mutex_lock(&fake_lock);
	*touchedp = fake.touched == d->idx + 1;
	pthread_mutex_unlock(&fake_lock);
	return 0;
}

static void
fake_select_cancel(void *dev)
{
	struct fake_dev *d = dev;

	pthread_mutex_lock(&fake_lock);
	fake.select_cancels[d->idx]++;
	pthread_mutex_unlock(&fake_lock);
}

static const struct sk_devops fake_ops = {
	.discover = fake_discover,
	.open = fake_open,
	.close = fake_close,
	.info = fake_info,
	.make_cred = fake_make_cred,
	.get_assert = fake_get_assert,
	.resident = fake_resident,
	.cancel = fake_cancel,
	.select_begin = fake_select_begin,
	.select_status = fake_select_status,
	.select_cancel = fake_select_cancel,
	.present = fake_present,
};

static const u_char test_kh[] = { 0x11, 0x22, 0x33, 0x44, 0x55 };

static int
setup(void **state)
{
	pthread_mutex_lock(&fake_lock);
	memset(&fake, 0, sizeof(fake));
	fake.gone[2] = 1;	/* a third token only where a test plugs it */
	pthread_mutex_unlock(&fake_lock);
	fake.kh = test_kh;
	fake.kh_len = sizeof(test_kh);
	fake.flags = SK_AUTHDATA_UP;
	fake.counter = 42;
	return 0;
}

static int
teardown(void **state)
{
	free(fake.sig);
	fake.sig = NULL;
	return 0;
}

/* A DER ECDSA signature with r = rb, s = sb (big-endian, 32 bytes each). */
static void
make_der_sig(const u_char *rb, const u_char *sb, size_t extra)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	u_char *der = NULL;
	int len;

	assert_non_null(es = ECDSA_SIG_new());
	assert_non_null(r = BN_bin2bn(rb, 32, NULL));
	assert_non_null(s = BN_bin2bn(sb, 32, NULL));
	assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
	assert_true((len = i2d_ECDSA_SIG(es, &der)) > 0);
	free(fake.sig);
	assert_non_null(fake.sig = calloc(1, len + extra));
	memcpy(fake.sig, der, len);
	fake.sig_len = len + extra;
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
}

static struct sk_ctx *
new_ctx(const char *devices)
{
	struct sk_ctx *ctx;

	assert_int_equal(sk_ctx_new(&fake_ops, &ctx), 0);
	assert_int_equal(sk_ctx_set_devices(ctx, devices, 1), 0);
	return ctx;
}

static void
sign_req(struct sk_sign_req *req, int alg, uint8_t flags)
{
	static const u_char msg[] = "message";

	memset(req, 0, sizeof(*req));
	req->alg = alg;
	req->data = msg;
	req->data_len = sizeof(msg) - 1;
	req->application = "ssh:";
	req->key_handle = test_kh;
	req->key_handle_len = sizeof(test_kh);
	req->flags = flags;
}

/* ------------------------------------------------------------------ */

static void
test_fido_err(void **state)
{
	assert_int_equal(sk_fido_err(FIDO_OK), 0);
	assert_int_equal(sk_fido_err(FIDO_ERR_PIN_REQUIRED),
	    TOK_ERR_PIN_REQUIRED);
	assert_int_equal(sk_fido_err(FIDO_ERR_PIN_INVALID),
	    TOK_ERR_PIN_INVALID);
	assert_int_equal(sk_fido_err(FIDO_ERR_PIN_AUTH_INVALID),
	    TOK_ERR_PIN_INVALID);
	assert_int_equal(sk_fido_err(FIDO_ERR_PIN_BLOCKED),
	    TOK_ERR_PIN_BLOCKED);
	assert_int_equal(sk_fido_err(FIDO_ERR_PIN_AUTH_BLOCKED),
	    TOK_ERR_PIN_BLOCKED);
	assert_int_equal(sk_fido_err(FIDO_ERR_OPERATION_DENIED),
	    TOK_ERR_TOUCH_DENIED);
	assert_int_equal(sk_fido_err(FIDO_ERR_USER_ACTION_TIMEOUT),
	    TOK_ERR_DEVICE_TIMEOUT);
	assert_int_equal(sk_fido_err(FIDO_ERR_KEEPALIVE_CANCEL),
	    TOK_ERR_CANCELLED);
	assert_int_equal(sk_fido_err(FIDO_ERR_NO_CREDENTIALS),
	    TOK_ERR_KEY_NOT_FOUND);
	assert_int_equal(sk_fido_err(FIDO_ERR_UNSUPPORTED_OPTION),
	    TOK_ERR_FEATURE_UNSUPPORTED);
	assert_int_equal(sk_fido_err(FIDO_ERR_TX), TOK_ERR_DEVICE_NOT_PRESENT);
	assert_int_equal(sk_fido_err(FIDO_ERR_RX), TOK_ERR_DEVICE_NOT_PRESENT);
	assert_int_equal(sk_fido_err(FIDO_ERR_RX_INVALID_CBOR),
	    TOK_ERR_PROTOCOL);
	assert_int_equal(sk_fido_err(FIDO_ERR_INVALID_ARGUMENT),
	    TOK_ERR_INVALID_ARGUMENT);
	assert_int_equal(sk_fido_err(FIDO_ERR_INTERNAL), TOK_ERR_INTERNAL);
	assert_int_equal(sk_fido_err(0x7e), TOK_ERR_DEVICE);
	assert_int_equal(sk_fido_err(-1000), TOK_ERR_DEVICE);
}

static void
test_sign_ecdsa(void **state)
{
	struct sk_ctx *ctx = new_ctx("fake:0");
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;
	u_char rb[32], sb[32];

	memset(rb, 0xa5, sizeof(rb));
	memset(sb, 0x5a, sizeof(sb));
	sb[0] = 0;	/* s is 31 bytes long: must come back unpadded */
	make_der_sig(rb, sb, 0);
	sign_req(&req, SK_ALG_ECDSA, SK_FLAG_UP);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_non_null(sig);
	assert_int_equal(sig->flags, SK_AUTHDATA_UP);
	assert_int_equal(sig->counter, 42);
	assert_int_equal(sig->sig_r_len, 32);
	assert_memory_equal(sig->sig_r, rb, 32);
	assert_int_equal(sig->sig_s_len, 31);
	assert_memory_equal(sig->sig_s, sb + 1, 31);
	assert_string_equal(sig->device, "fake:0");
	/* one device: no silent probe, one touch */
	assert_int_equal(fake.probes[0], 0);
	assert_int_equal(fake.touches[0], 1);
	sk_sig_free(sig);
	sk_ctx_free(ctx);
}

static void
test_sign_ecdsa_trailing(void **state)
{
	struct sk_ctx *ctx = new_ctx("fake:0");
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;
	u_char rb[32], sb[32];

	memset(rb, 0x11, sizeof(rb));
	memset(sb, 0x22, sizeof(sb));
	make_der_sig(rb, sb, 1);
	sign_req(&req, SK_ALG_ECDSA, SK_FLAG_UP);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), TOK_ERR_TRAILING_DATA);
	assert_null(sig);
	/* garbage */
	memset(fake.sig, 0xff, fake.sig_len);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig),
	    TOK_ERR_SIGNATURE_INVALID);
	assert_null(sig);
	sk_ctx_free(ctx);
}

static void
test_sign_ed25519(void **state)
{
	struct sk_ctx *ctx = new_ctx("fake:0");
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;

	assert_non_null(fake.sig = malloc(64));
	memset(fake.sig, 0x77, 64);
	fake.sig_len = 64;
	sign_req(&req, SK_ALG_ED25519, SK_FLAG_UP);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_int_equal(sig->sig_r_len, 64);
	assert_memory_equal(sig->sig_r, fake.sig, 64);
	assert_null(sig->sig_s);
	sk_sig_free(sig);
	sig = NULL;
	fake.sig_len = 63;
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig),
	    TOK_ERR_SIGNATURE_INVALID);
	assert_null(sig);
	sk_ctx_free(ctx);
}

static void
test_sign_selects_device(void **state)
{
	struct sk_ctx *ctx = new_ctx("fake:0,fake:1");
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;

	assert_non_null(fake.sig = malloc(64));
	fake.sig_len = 64;
	fake.kh_dev = 1;
	sign_req(&req, SK_ALG_ED25519, SK_FLAG_UP);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_string_equal(sig->device, "fake:1");
	/* the first token was only probed silently, never touched */
	assert_int_equal(fake.probes[0], 1);
	assert_int_equal(fake.touches[0], 0);
	assert_int_equal(fake.probes[1], 1);
	assert_int_equal(fake.touches[1], 1);
	sk_sig_free(sig);
	sig = NULL;
	/* nobody holds it */
	fake.kh_dev = 5;
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), TOK_ERR_KEY_NOT_FOUND);
	assert_null(sig);
	sk_ctx_free(ctx);
}

static void
test_sign_no_device(void **state)
{
	struct sk_ctx *ctx = new_ctx(NULL);
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;

	sign_req(&req, SK_ALG_ED25519, SK_FLAG_UP);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig),
	    TOK_ERR_DEVICE_NOT_PRESENT);
	sk_ctx_free(ctx);
	ctx = new_ctx("fake:9");
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig),
	    TOK_ERR_DEVICE_NOT_PRESENT);
	assert_null(sig);
	sk_ctx_free(ctx);
}

static void
test_sign_uv(void **state)
{
	struct sk_ctx *ctx = new_ctx("fake:0");
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;

	assert_non_null(fake.sig = malloc(64));
	fake.sig_len = 64;
	fake.has_pin = 1;
	sign_req(&req, SK_ALG_ED25519, SK_FLAG_UP | SK_FLAG_UV);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), TOK_ERR_PIN_REQUIRED);
	assert_int_equal(fake.touches[0], 0);
	req.pin = "1234";
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_string_equal(fake.last_pin, "1234");
	assert_int_equal(fake.last_uv, 0);
	sk_sig_free(sig);
	sig = NULL;
	/* built-in uv: no PIN needed, uv asked for */
	fake.has_uv = 1;
	req.pin = NULL;
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_int_equal(fake.last_uv, 1);
	sk_sig_free(sig);
	sk_ctx_free(ctx);
}

static void
test_sign_no_touch(void **state)
{
	struct sk_ctx *ctx = new_ctx("fake:0");
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;

	assert_non_null(fake.sig = malloc(64));
	fake.sig_len = 64;
	sign_req(&req, SK_ALG_ED25519, 0);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_int_equal(sig->flags & SK_AUTHDATA_UP, 0);
	assert_int_equal(fake.touches[0], 0);
	sk_sig_free(sig);
	sk_ctx_free(ctx);
}

/* A token that claims presence it did not collect is refused. */
static void
test_sign_missing_up(void **state)
{
	struct sk_ctx *ctx = new_ctx("fake:0");
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;

	assert_non_null(fake.sig = malloc(64));
	fake.sig_len = 64;
	fake.flags = 0;
	sign_req(&req, SK_ALG_ED25519, SK_FLAG_UP);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), TOK_ERR_PROTOCOL);
	assert_null(sig);
	sk_ctx_free(ctx);
}

static void
test_enroll_ecdsa(void **state)
{
	struct sk_ctx *ctx = new_ctx("fake:0");
	struct sk_enroll_req req;
	struct sk_key *key = NULL;
	EVP_PKEY *pk;
	u_char point[65], chal[32], kh[16];
	size_t plen = 0;

	assert_non_null(pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	assert_int_equal(EVP_PKEY_set_utf8_string_param(pk,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed"), 1);
	assert_int_equal(EVP_PKEY_get_octet_string_param(pk,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point),
	    &plen), 1);
	assert_int_equal(plen, 65);
	EVP_PKEY_free(pk);
	memset(kh, 0x42, sizeof(kh));
	memset(chal, 0, sizeof(chal));
	fake.cred.alg = SK_ALG_ECDSA;
	fake.cred.pubkey = point + 1;
	fake.cred.pubkey_len = 64;
	fake.cred.id = kh;
	fake.cred.id_len = sizeof(kh);

	memset(&req, 0, sizeof(req));
	req.alg = SK_ALG_ECDSA;
	req.challenge = chal;
	req.challenge_len = sizeof(chal);
	req.application = "ssh:test";
	req.flags = SK_FLAG_UP | SK_FLAG_RESIDENT;
	assert_int_equal(sk_ctx_enroll(ctx, &req, &key), 0);
	assert_int_equal(key->pubkey_len, 65);
	assert_memory_equal(key->pubkey, point, 65);
	assert_int_equal(key->key_handle_len, sizeof(kh));
	assert_string_equal(key->application, "ssh:test");
	assert_int_equal(key->flags, SK_FLAG_UP | SK_FLAG_RESIDENT);
	assert_int_equal(fake.last_cred_prot, 2);
	sk_key_free(key);
	key = NULL;

	/* verify-required on a token with a PIN: PIN first, credProtect 3 */
	fake.has_pin = 1;
	req.flags = SK_FLAG_UP | SK_FLAG_UV;
	assert_int_equal(sk_ctx_enroll(ctx, &req, &key), TOK_ERR_PIN_REQUIRED);
	req.pin = "1234";
	assert_int_equal(sk_ctx_enroll(ctx, &req, &key), 0);
	assert_int_equal(fake.last_cred_prot, 3);
	sk_key_free(key);
	key = NULL;

	/* not a point on the curve */
	point[40] ^= 1;
	assert_int_equal(sk_ctx_enroll(ctx, &req, &key), TOK_ERR_KEY_INVALID);
	assert_null(key);
	/* wrong type back */
	fake.cred.alg = SK_ALG_ED25519;
	assert_int_equal(sk_ctx_enroll(ctx, &req, &key),
	    TOK_ERR_KEY_TYPE_MISMATCH);
	assert_null(key);
	sk_ctx_free(ctx);
}

static void
test_enroll_ed25519(void **state)
{
	struct sk_ctx *ctx = new_ctx("fake:0");
	struct sk_enroll_req req;
	struct sk_key *key = NULL;
	u_char pub[32], kh[8];

	memset(pub, 0x33, sizeof(pub));
	memset(kh, 0x44, sizeof(kh));
	fake.cred.alg = SK_ALG_ED25519;
	fake.cred.pubkey = pub;
	fake.cred.pubkey_len = sizeof(pub);
	fake.cred.id = kh;
	fake.cred.id_len = sizeof(kh);
	memset(&req, 0, sizeof(req));
	req.alg = SK_ALG_ED25519;
	req.application = "ssh:";
	req.flags = SK_FLAG_UP;
	assert_int_equal(sk_ctx_enroll(ctx, &req, &key), 0);
	assert_int_equal(key->pubkey_len, 32);
	assert_int_equal(fake.last_cred_prot, 0);
	sk_key_free(key);
	key = NULL;
	fake.cred.pubkey_len = 31;
	assert_int_equal(sk_ctx_enroll(ctx, &req, &key), TOK_ERR_KEY_INVALID);
	fake.cred.pubkey_len = 32;
	fake.cred.id_len = 0;
	assert_int_equal(sk_ctx_enroll(ctx, &req, &key), TOK_ERR_PROTOCOL);
	assert_null(key);
	sk_ctx_free(ctx);
}

static void
test_load_resident(void **state)
{
	struct sk_ctx *ctx = new_ctx("fake:0,fake:1");
	struct sk_key **keys = NULL;
	size_t nkeys = 0;

	fake.has_pin = 1;
	assert_int_equal(sk_ctx_load_resident(ctx, NULL, NULL, &keys, &nkeys),
	    TOK_ERR_PIN_REQUIRED);
	assert_null(keys);
	assert_int_equal(sk_ctx_load_resident(ctx, "1234", NULL, &keys,
	    &nkeys), 0);
	assert_string_equal(fake.last_pin, "1234");
	/* one good "ssh:" credential per token; others skipped */
	assert_int_equal(nkeys, 2);
	assert_string_equal(keys[0]->application, "ssh:one");
	assert_int_equal(keys[0]->flags,
	    SK_FLAG_UP | SK_FLAG_RESIDENT | SK_FLAG_UV);
	assert_string_equal(keys[0]->device, "fake:0");
	assert_string_equal(keys[1]->device, "fake:1");
	sk_keys_free(keys, nkeys);
	keys = NULL;
	/* only one device */
	assert_int_equal(sk_ctx_load_resident(ctx, "1234", "fake:1", &keys,
	    &nkeys), 0);
	assert_int_equal(nkeys, 1);
	assert_string_equal(keys[0]->device, "fake:1");
	sk_keys_free(keys, nkeys);
	sk_ctx_free(ctx);
}

static void
test_resident_uv_flag(void **state)
{
	struct sk_devcred c;
	struct sk_key *k = NULL;
	u_char pub[32], id[4];

	memset(&c, 0, sizeof(c));
	memset(pub, 1, sizeof(pub));
	memset(id, 2, sizeof(id));
	c.alg = SK_ALG_ED25519;
	c.pubkey = pub;
	c.pubkey_len = sizeof(pub);
	c.id = id;
	c.id_len = sizeof(id);
	assert_int_equal(sk_key_from_cred(&c, "ssh:x", SK_FLAG_UP | SK_FLAG_UV,
	    &k), 0);
	assert_int_equal(k->flags, SK_FLAG_UP | SK_FLAG_UV);
	sk_key_free(k);
	k = NULL;
	c.alg = 7;
	assert_int_equal(sk_key_from_cred(&c, "ssh:x", 0, &k),
	    TOK_ERR_KEY_TYPE_UNKNOWN);
	assert_null(k);
}

/* ------------------------------------------------------------------ */
/* The device pool. */

static struct sk_devpool *
new_pool(const char *devices, int discover)
{
	struct sk_devpool *pool;

	assert_int_equal(sk_devpool_new(&fake_ops, &pool), 0);
	assert_int_equal(sk_devpool_set_devices(pool, devices, discover), 0);
	return pool;
}

/* A context on a shared pool, signing Ed25519. */
static struct sk_ctx *
pool_ctx(struct sk_devpool *pool)
{
	struct sk_ctx *ctx;

	assert_int_equal(sk_ctx_new(&fake_ops, &ctx), 0);
	sk_ctx_set_pool(ctx, pool);
	if (fake.sig == NULL) {
		assert_non_null(fake.sig = malloc(64));
		memset(fake.sig, 0x77, 64);
		fake.sig_len = 64;
	}
	return ctx;
}

static int
fake_count(const int *counter)
{
	int n;

	pthread_mutex_lock(&fake_lock);
	n = *counter;
	pthread_mutex_unlock(&fake_lock);
	return n;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * A worker thread: checks a device out of the pool (or signs through a
 * context) and records what happened.  Only the main thread asserts.
 */
struct worker {
	pthread_t thread;
	int id;
	pid_t tid;			/* set once running */
	int done;
	int r;
	/* acquire */
	struct sk_devpool *pool;
	const char *path;
	int nowait;			/* acquire with wait 0 */
	int got;			/* had the device */
	int cancel;			/* atomic */
	/* sign */
	struct sk_ctx *ctx;
	struct sk_sign_req req;
	struct sk_sig *sig;
};

static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t worker_cond = PTHREAD_COND_INITIALIZER;
static int worker_order[4];	/* ids, in the order they got the device */
static int worker_norder;

static void
worker_started(struct worker *w)
{
	pthread_mutex_lock(&worker_lock);
	w->tid = (pid_t)syscall(SYS_gettid);
	pthread_cond_broadcast(&worker_cond);
	pthread_mutex_unlock(&worker_lock);
}

static void
worker_finished(struct worker *w, int r)
{
	pthread_mutex_lock(&worker_lock);
	w->r = r;
	w->done = 1;
	pthread_cond_broadcast(&worker_cond);
	pthread_mutex_unlock(&worker_lock);
}

static void *
worker_acquire(void *arg)
{
	struct worker *w = arg;
	struct sk_pooldev *pd = NULL;
	int r;

	worker_started(w);
	r = sk_devpool_acquire(w->pool, w->path, !w->nowait, &w->cancel, &pd);
	if (pd != NULL) {
		pthread_mutex_lock(&worker_lock);
		w->got = 1;
		if (worker_norder < 4)
			worker_order[worker_norder++] = w->id;
		pthread_mutex_unlock(&worker_lock);
		sk_devpool_release(w->pool, pd, 0);
	}
	worker_finished(w, r);
	return NULL;
}

static void *
worker_sign(void *arg)
{
	struct worker *w = arg;

	worker_started(w);
	worker_finished(w, sk_ctx_sign(w->ctx, &w->req, &w->sig));
	return NULL;
}

static void
worker_start(struct worker *w, void *(*fn)(void *))
{
	pthread_mutex_lock(&worker_lock);
	w->tid = 0;
	w->done = 0;
	pthread_mutex_unlock(&worker_lock);
	assert_int_equal(pthread_create(&w->thread, NULL, fn, w), 0);
}

/* Wait up to ms for w to finish; its done flag. */
static int
worker_wait(struct worker *w, int ms)
{
	struct timespec ts;
	int done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&worker_lock);
	while (!w->done &&
	    pthread_cond_timedwait(&worker_cond, &worker_lock, &ts) == 0)
		;
	done = w->done;
	pthread_mutex_unlock(&worker_lock);
	return done;
}

/*
 * Wait until w sleeps in the kernel (Linux: /proc/self/task/TID/stat
 * says S), three looks in a row a millisecond apart.  Nothing else blocks
 * a worker for that long before the pool's queue (no other thread holds
 * the pool or fake lock meanwhile), so a sleeping worker is queued: this
 * orders two waiters without guessing at timing.  Gives 1, or 0 after
 * about a second.
 */
static int
worker_blocked(struct worker *w)
{
	char path[64], buf[512], *p;
	FILE *f;
	pid_t tid;
	size_t n;
	int i, asleep = 0;

	pthread_mutex_lock(&worker_lock);
	while (w->tid == 0)
		pthread_cond_wait(&worker_cond, &worker_lock);
	tid = w->tid;
	pthread_mutex_unlock(&worker_lock);
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	for (i = 0; i < 1000; i++) {
		if ((f = fopen(path, "r")) == NULL)
			return 0;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
		    p[2] == 'S') {
			if (++asleep == 3)
				return 1;
		} else
			asleep = 0;
		sleep_ms(1);
	}
	return 0;
}

static void
test_pool_reuse(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0", 0);
	struct sk_pooldev *pd = NULL;
	struct sk_ctx *ctx;
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;
	void *h;

	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd), 0);
	assert_non_null(pd);
	assert_int_equal(sk_pooldev_fresh(pd), 1);
	assert_string_equal(sk_pooldev_path(pd), "fake:0");
	h = sk_pooldev_handle(pd);
	assert_non_null(h);
	sk_devpool_release(pool, pd, 0);
	/* kept open, and the same handle next time */
	assert_int_equal(sk_devpool_nopen(pool), 1);
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 1, NULL, &pd), 0);
	assert_non_null(pd);
	assert_int_equal(sk_pooldev_fresh(pd), 0);
	assert_ptr_equal(sk_pooldev_handle(pd), h);
	sk_devpool_release(pool, pd, 0);
	assert_int_equal(fake.opens[0], 1);

	/* a burst of signatures through contexts: still one open */
	ctx = pool_ctx(pool);
	sign_req(&req, SK_ALG_ED25519, SK_FLAG_UP);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	sk_sig_free(sig);
	sig = NULL;
	sk_ctx_free(ctx);
	ctx = pool_ctx(pool);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	sk_sig_free(sig);
	sig = NULL;
	sk_ctx_free(ctx);
	assert_int_equal(fake.touches[0], 2);
	assert_int_equal(fake.opens[0], 1);
	assert_int_equal(fake.closes[0], 0);

	/* not idle long enough: kept; idle: closed */
	sk_devpool_reap(pool, 60 * 1000);
	assert_int_equal(sk_devpool_nopen(pool), 1);
	sk_devpool_reap(pool, 0);
	assert_int_equal(sk_devpool_nopen(pool), 0);
	assert_int_equal(fake.closes[0], 1);

	/* reopened on demand; a busy device is never reaped */
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd), 0);
	assert_non_null(pd);
	assert_int_equal(sk_pooldev_fresh(pd), 1);
	assert_int_equal(fake.opens[0], 2);
	sk_devpool_reap(pool, 0);
	assert_int_equal(fake.closes[0], 1);
	/* broken: closed at release */
	sk_devpool_release(pool, pd, 1);
	assert_int_equal(fake.closes[0], 2);
	assert_int_equal(sk_devpool_nopen(pool), 0);

	/* a device that does not open: the error, nothing checked out */
	assert_int_equal(sk_devpool_acquire(pool, "fake:7", 1, NULL, &pd),
	    TOK_ERR_DEVICE_NOT_PRESENT);
	assert_null(pd);
	sk_devpool_free(pool);
	assert_int_equal(fake.opens[0], fake.closes[0]);
}

static void
test_pool_busy_nowait(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0,fake:1", 0);
	struct sk_pooldev *pd0 = NULL, *pd = NULL;
	struct worker w;
	int done;

	memset(&w, 0, sizeof(w));
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd0), 0);
	assert_non_null(pd0);
	/* on a thread, so that a wrongly blocking acquire fails, not hangs */
	w.pool = pool;
	w.path = "fake:0";
	w.nowait = 1;
	worker_start(&w, worker_acquire);
	done = worker_wait(&w, 1000);
	if (!done)
		sk_devpool_release(pool, pd0, 0);
	pthread_join(w.thread, NULL);
	assert_true(done);
	assert_int_equal(w.r, 0);
	assert_false(w.got);
	/* another device is independent */
	assert_int_equal(sk_devpool_acquire(pool, "fake:1", 0, NULL, &pd), 0);
	assert_non_null(pd);
	sk_devpool_release(pool, pd, 0);
	sk_devpool_release(pool, pd0, 0);
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd), 0);
	assert_non_null(pd);
	sk_devpool_release(pool, pd, 0);
	sk_devpool_free(pool);
}

/* Two callers queued for a busy device get it in the order they came. */
static void
test_pool_fifo(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0", 0);
	struct sk_pooldev *pd = NULL;
	struct worker a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	worker_norder = 0;
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd), 0);
	assert_non_null(pd);
	a.id = 1;
	a.pool = pool;
	a.path = "fake:0";
	b = a;
	b.id = 2;
	worker_start(&a, worker_acquire);
	assert_true(worker_blocked(&a));
	worker_start(&b, worker_acquire);
	assert_true(worker_blocked(&b));
	/* queued: a non-waiting caller does not jump the queue */
	assert_false(worker_wait(&a, 0));
	sk_devpool_release(pool, pd, 0);
	pd = NULL;
	assert_true(worker_wait(&a, 1000));
	assert_true(worker_wait(&b, 1000));
	pthread_join(a.thread, NULL);
	pthread_join(b.thread, NULL);
	assert_int_equal(a.r, 0);
	assert_int_equal(b.r, 0);
	assert_int_equal(worker_norder, 2);
	assert_int_equal(worker_order[0], 1);
	assert_int_equal(worker_order[1], 2);
	assert_int_equal(fake.opens[0], 1);
	sk_devpool_free(pool);
}

/* A queued caller whose cancel flag is set leaves the queue when woken. */
static void
test_pool_cancel(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0", 0);
	struct sk_pooldev *pd = NULL, *pd2 = NULL;
	struct worker a;
	long long start;

	memset(&a, 0, sizeof(a));
	worker_norder = 0;
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd), 0);
	assert_non_null(pd);
	a.id = 1;
	a.pool = pool;
	a.path = "fake:0";
	worker_start(&a, worker_acquire);
	assert_true(worker_blocked(&a));
	start = now_ms();
	__atomic_store_n(&a.cancel, 1, __ATOMIC_SEQ_CST);
	sk_devpool_wake(pool);
	/* woken, not left to the one-second safety net */
	assert_true(worker_wait(&a, 1000));
	assert_true(now_ms() - start < 500);
	pthread_join(a.thread, NULL);
	assert_int_equal(a.r, TOK_ERR_CANCELLED);
	assert_int_equal(worker_norder, 0);
	/* the queue is empty again */
	sk_devpool_release(pool, pd, 0);
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd2), 0);
	assert_non_null(pd2);
	sk_devpool_release(pool, pd2, 0);
	/* already cancelled: no wait at all */
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd), 0);
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 1, &a.cancel,
	    &pd2), TOK_ERR_CANCELLED);
	assert_null(pd2);
	sk_devpool_release(pool, pd, 0);
	sk_devpool_free(pool);
}

/* sk_ctx_cancel stops a sign queued for a busy device. */
static void
test_sign_cancel_queued(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0", 0);
	struct sk_pooldev *pd = NULL;
	struct worker w;
	long long start;

	memset(&w, 0, sizeof(w));
	w.ctx = pool_ctx(pool);
	sign_req(&w.req, SK_ALG_ED25519, SK_FLAG_UP);
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd), 0);
	assert_non_null(pd);
	worker_start(&w, worker_sign);
	assert_true(worker_blocked(&w));
	start = now_ms();
	sk_ctx_cancel(w.ctx);
	assert_true(worker_wait(&w, 1000));
	assert_true(now_ms() - start < 500);
	pthread_join(w.thread, NULL);
	assert_int_equal(w.r, TOK_ERR_CANCELLED);
	assert_null(w.sig);
	assert_int_equal(fake.asserts[0], 0);
	sk_devpool_release(pool, pd, 0);
	sk_ctx_free(w.ctx);
	sk_devpool_free(pool);
}

/*
 * A cached handle whose token was replugged fails to write: the sign is
 * sent again on a reopened handle, once.
 */
static void
test_stale_reopen(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0,fake:1", 0);
	struct sk_ctx *ctx = pool_ctx(pool);
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;

	/* one device, named in the request */
	sign_req(&req, SK_ALG_ED25519, SK_FLAG_UP);
	req.device = "fake:0";
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	sk_sig_free(sig);
	sig = NULL;
	assert_int_equal(fake.opens[0], 1);
	fake.gen[0]++;
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_string_equal(sig->device, "fake:0");
	sk_sig_free(sig);
	sig = NULL;
	assert_int_equal(fake.stale[0], 1);
	assert_int_equal(fake.opens[0], 2);
	assert_int_equal(fake.closes[0], 1);
	assert_int_equal(fake.touches[0], 2);
	assert_int_equal(sk_devpool_nopen(pool), 1);

	/* choosing among two, both replugged: the probes reopen */
	req.device = NULL;
	fake.kh_dev = 1;
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_string_equal(sig->device, "fake:1");
	sk_sig_free(sig);
	sig = NULL;
	fake.gen[0]++;
	fake.gen[1]++;
	/* the token it signed on is remembered: forget, so both are probed */
	sk_devpool_forget(pool, req.key_handle, req.key_handle_len);
	memset(fake.stale, 0, sizeof(fake.stale));
	memset(fake.opens, 0, sizeof(fake.opens));
	memset(fake.touches, 0, sizeof(fake.touches));
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_string_equal(sig->device, "fake:1");
	sk_sig_free(sig);
	assert_int_equal(fake.stale[0], 1);
	assert_int_equal(fake.stale[1], 1);
	assert_int_equal(fake.opens[0], 1);
	assert_int_equal(fake.opens[1], 1);
	assert_int_equal(fake.touches[0], 0);
	assert_int_equal(fake.touches[1], 1);
	sk_ctx_free(ctx);
	sk_devpool_free(pool);
}

/* A token that is really gone fails at once, with its handle closed. */
static void
test_stale_gone(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0", 0);
	struct sk_ctx *ctx = pool_ctx(pool);
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;
	long long start;

	sign_req(&req, SK_ALG_ED25519, SK_FLAG_UP);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	sk_sig_free(sig);
	sig = NULL;
	fake.gen[0]++;
	fake.gone[0] = 1;
	start = now_ms();
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig),
	    TOK_ERR_DEVICE_NOT_PRESENT);
	assert_true(now_ms() - start < 500);
	assert_null(sig);
	/* one failed write, one failed reopen, no more */
	assert_int_equal(fake.asserts[0], 2);
	assert_int_equal(fake.stale[0], 1);
	assert_int_equal(fake.open_fails[0], 1);
	assert_int_equal(fake.closes[0], 1);
	assert_int_equal(sk_devpool_nopen(pool), 0);
	/* and the next operation fails on open, not touching the token */
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig),
	    TOK_ERR_DEVICE_NOT_PRESENT);
	assert_int_equal(fake.asserts[0], 2);
	assert_int_equal(fake.open_fails[0], 2);
	sk_ctx_free(ctx);
	sk_devpool_free(pool);
}

/* With two devices the key is looked for silently, then signed once. */
static void
test_select_silent(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0,fake:1", 0);
	struct sk_ctx *ctx = pool_ctx(pool);
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;

	fake.kh_dev = 1;
	sign_req(&req, SK_ALG_ED25519, SK_FLAG_UP);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_string_equal(sig->device, "fake:1");
	sk_sig_free(sig);
	sig = NULL;
	assert_int_equal(fake.probes[0], 1);
	assert_int_equal(fake.touches[0], 0);
	assert_int_equal(fake.probes[1], 1);
	assert_int_equal(fake.touches[1], 1);
	assert_int_equal(fake.pins[0] + fake.pins[1], 0);
	/* on neither: not found, and nobody was asked for a touch */
	fake.kh_dev = 5;
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), TOK_ERR_KEY_NOT_FOUND);
	assert_null(sig);
	assert_int_equal(fake.probes[0], 2);
	assert_int_equal(fake.probes[1], 2);
	assert_int_equal(fake.touches[0] + fake.touches[1], 1);
	sk_ctx_free(ctx);
	sk_devpool_free(pool);
}

/*
 * While another request has the first device, a sign for a key on the
 * second one completes without waiting for the first.
 */
static void
test_select_skips_busy(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0,fake:1", 0);
	struct sk_pooldev *pd = NULL;
	struct worker w;
	int done;

	memset(&w, 0, sizeof(w));
	fake.kh_dev = 1;
	w.ctx = pool_ctx(pool);
	sign_req(&w.req, SK_ALG_ED25519, SK_FLAG_UP);
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd), 0);
	assert_non_null(pd);
	worker_start(&w, worker_sign);
	done = worker_wait(&w, 1000);
	/* release before asserting, so a failure does not hang the worker */
	sk_devpool_release(pool, pd, 0);
	pthread_join(w.thread, NULL);
	assert_true(done);
	assert_int_equal(w.r, 0);
	assert_non_null(w.sig);
	assert_string_equal(w.sig->device, "fake:1");
	assert_int_equal(fake.asserts[0], 0);
	assert_int_equal(fake.touches[1], 1);
	sk_sig_free(w.sig);
	sk_ctx_free(w.ctx);
	sk_devpool_free(pool);
}

/* A key on the busy device: the sign waits its turn, then signs there. */
static void
test_select_waits_busy(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0,fake:1", 0);
	struct sk_pooldev *pd = NULL;
	struct worker w;
	struct timespec ts;

	memset(&w, 0, sizeof(w));
	fake.kh_dev = 0;
	w.ctx = pool_ctx(pool);
	sign_req(&w.req, SK_ALG_ED25519, SK_FLAG_UP);
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd), 0);
	assert_non_null(pd);
	worker_start(&w, worker_sign);
	/* the idle device is probed first, then the worker queues */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	pthread_mutex_lock(&fake_lock);
	while (fake.probes[1] == 0 &&
	    pthread_cond_timedwait(&fake_cond, &fake_lock, &ts) == 0)
		;
	pthread_mutex_unlock(&fake_lock);
	assert_true(worker_blocked(&w));
	assert_int_equal(fake_count(&fake.probes[1]), 1);
	assert_int_equal(fake_count(&fake.asserts[0]), 0);
	assert_false(worker_wait(&w, 0));
	sk_devpool_release(pool, pd, 0);
	assert_true(worker_wait(&w, 1000));
	pthread_join(w.thread, NULL);
	assert_int_equal(w.r, 0);
	assert_string_equal(w.sig->device, "fake:0");
	assert_int_equal(fake.probes[0], 1);
	assert_int_equal(fake.touches[0], 1);
	assert_int_equal(fake.touches[1], 0);
	sk_sig_free(w.sig);
	sk_ctx_free(w.ctx);
	sk_devpool_free(pool);
}

/* What sk_devpool_scan reported. */
static struct {
	int n;
	char device[8][16];
	char name[8][32];
	int present[8];
} evlog;

static void
evlog_cb(void *arg, const char *device, const char *name, int present)
{
	if (evlog.n >= 8)
		return;
	snprintf(evlog.device[evlog.n], sizeof(evlog.device[0]), "%s",
	    device);
	snprintf(evlog.name[evlog.n], sizeof(evlog.name[0]), "%s", name);
	evlog.present[evlog.n] = present;
	evlog.n++;
}

/* Plug and pull of discovered devices. */
static void
test_scan_discovered(void **state)
{
	struct sk_devpool *pool = new_pool(NULL, 1);
	struct sk_pooldev *pd = NULL;
	char **paths = NULL, *name = NULL;
	size_t npaths = 0;

	memset(&evlog, 0, sizeof(evlog));
	sk_devpool_set_events(pool, evlog_cb, NULL);
	fake.discoverable = 1;
	fake.gone[1] = 1;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 1);
	assert_string_equal(evlog.device[0], "fake:0");
	assert_string_equal(evlog.name[0], "Fake Token 0");
	assert_int_equal(evlog.present[0], 1);
	assert_int_equal(sk_devpool_name(pool, "fake:0", &name), 0);
	assert_string_equal(name, "Fake Token 0");
	free(name);
	/* nothing changed: nothing reported */
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 1);

	/* the second one comes */
	fake.gone[1] = 0;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 2);
	assert_string_equal(evlog.device[1], "fake:1");
	assert_int_equal(evlog.present[1], 1);
	assert_int_equal(sk_devpool_candidates(pool, 0, &paths, &npaths), 0);
	assert_int_equal(npaths, 2);
	sk_devpool_paths_free(paths, npaths);

	/* the first one goes, with its open handle: reported once, closed */
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd), 0);
	assert_non_null(pd);
	sk_devpool_release(pool, pd, 0);
	assert_int_equal(sk_devpool_nopen(pool), 1);
	fake.gone[0] = 1;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 3);
	assert_string_equal(evlog.device[2], "fake:0");
	assert_string_equal(evlog.name[2], "Fake Token 0");
	assert_int_equal(evlog.present[2], 0);
	assert_int_equal(fake.closes[0], 1);
	assert_int_equal(sk_devpool_nopen(pool), 0);
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 3);
	assert_int_equal(sk_devpool_candidates(pool, 0, &paths, &npaths), 0);
	assert_int_equal(npaths, 1);
	assert_string_equal(paths[0], "fake:1");
	sk_devpool_paths_free(paths, npaths);

	/* back again */
	fake.gone[0] = 0;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 4);
	assert_string_equal(evlog.device[3], "fake:0");
	assert_int_equal(evlog.present[3], 1);

	/* pulled while in use: closed when the operation ends */
	assert_int_equal(sk_devpool_acquire(pool, "fake:1", 0, NULL, &pd), 0);
	assert_non_null(pd);
	fake.gone[1] = 1;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 5);
	assert_string_equal(evlog.device[4], "fake:1");
	assert_int_equal(evlog.present[4], 0);
	assert_int_equal(fake.closes[1], 0);
	sk_devpool_release(pool, pd, 0);
	assert_int_equal(fake.closes[1], 1);
	assert_int_equal(sk_devpool_nopen(pool), 0);
	sk_devpool_free(pool);
	assert_int_equal(fake.opens[0], fake.closes[0]);
	assert_int_equal(fake.opens[1], fake.closes[1]);
}

/* Configured devices are checked with ops->present. */
static void
test_scan_configured(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0", 0);
	struct sk_pooldev *pd = NULL;

	memset(&evlog, 0, sizeof(evlog));
	sk_devpool_set_events(pool, evlog_cb, NULL);
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 1);
	assert_string_equal(evlog.device[0], "fake:0");
	assert_string_equal(evlog.name[0], "fake:0");
	assert_int_equal(evlog.present[0], 1);

	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd), 0);
	sk_devpool_release(pool, pd, 0);
	fake.gone[0] = 1;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 2);
	assert_int_equal(evlog.present[1], 0);
	assert_int_equal(fake.closes[0], 1);
	assert_int_equal(sk_devpool_nopen(pool), 0);
	fake.gone[0] = 0;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 3);
	assert_int_equal(evlog.present[2], 1);

	/* pulled while in use: closed when the operation ends */
	assert_int_equal(sk_devpool_acquire(pool, "fake:0", 0, NULL, &pd), 0);
	assert_non_null(pd);
	fake.gone[0] = 1;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 4);
	assert_int_equal(evlog.present[3], 0);
	sk_devpool_release(pool, pd, 0);
	assert_int_equal(fake.closes[0], 2);
	assert_int_equal(sk_devpool_nopen(pool), 0);
	sk_devpool_free(pool);
}

/*
 * A discovered device pulled while one caller has it and another waits
 * for it: the handle goes when the first is done, the second is told the
 * device is gone, and the entry is freed by whoever leaves last.
 */
static void
test_scan_pulled_queued(void **state)
{
	struct sk_devpool *pool = new_pool(NULL, 1);
	struct sk_pooldev *pd = NULL;
	struct worker w;

	memset(&w, 0, sizeof(w));
	memset(&evlog, 0, sizeof(evlog));
	worker_norder = 0;
	sk_devpool_set_events(pool, evlog_cb, NULL);
	fake.discoverable = 1;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 2);
	assert_int_equal(sk_devpool_acquire(pool, "fake:1", 0, NULL, &pd), 0);
	assert_non_null(pd);
	w.pool = pool;
	w.path = "fake:1";
	worker_start(&w, worker_acquire);
	assert_true(worker_blocked(&w));
	fake.gone[1] = 1;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 3);
	assert_string_equal(evlog.device[2], "fake:1");
	assert_int_equal(evlog.present[2], 0);
	assert_int_equal(fake_count(&fake.closes[1]), 0);
	sk_devpool_release(pool, pd, 0);
	assert_true(worker_wait(&w, 1000));
	pthread_join(w.thread, NULL);
	assert_int_equal(w.r, TOK_ERR_DEVICE_NOT_PRESENT);
	assert_false(w.got);
	assert_int_equal(fake.closes[1], 1);
	assert_int_equal(sk_devpool_nopen(pool), 0);
	/* back: a new entry, opened afresh */
	fake.gone[1] = 0;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(evlog.n, 4);
	assert_int_equal(evlog.present[3], 1);
	assert_int_equal(sk_devpool_acquire(pool, "fake:1", 0, NULL, &pd), 0);
	assert_non_null(pd);
	assert_int_equal(sk_pooldev_fresh(pd), 1);
	sk_devpool_release(pool, pd, 0);
	sk_devpool_free(pool);
	assert_int_equal(fake.opens[1], fake.closes[1]);
}

/* What the PIN hook was asked. */
static struct {
	int n;
	char device[4][16];
	int failed;
	char failed_device[16];
	int failed_r;
	int give_none;
} pinlog;

static int
pinlog_pin(void *arg, const char *device, char **pinp)
{
	char pin[32];

	*pinp = NULL;
	if (pinlog.n < 4)
		snprintf(pinlog.device[pinlog.n], sizeof(pinlog.device[0]),
		    "%s", device);
	pinlog.n++;
	if (pinlog.give_none)
		return 0;
	snprintf(pin, sizeof(pin), "pin-%s", device);
	if ((*pinp = secmem_strdup(pin)) == NULL)
		return TOK_ERR_ALLOC;
	return 0;
}

static void
pinlog_failed(void *arg, const char *device, int r, int retries)
{
	pinlog.failed++;
	snprintf(pinlog.failed_device, sizeof(pinlog.failed_device), "%s",
	    device);
	pinlog.failed_r = r;
}

static void
test_pin_hook(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0,fake:1", 0);
	struct sk_ctx *ctx = pool_ctx(pool);
	struct sk_hooks hooks;
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;

	memset(&pinlog, 0, sizeof(pinlog));
	memset(&hooks, 0, sizeof(hooks));
	hooks.pin = pinlog_pin;
	hooks.pin_failed = pinlog_failed;
	sk_ctx_set_hooks(ctx, &hooks);
	fake.has_pin = 1;
	fake.check_pin = 1;
	fake.kh_dev = 1;
	sign_req(&req, SK_ALG_ED25519, SK_FLAG_UP | SK_FLAG_UV);

	/* found silently on the second: only its PIN is asked for */
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_string_equal(sig->device, "fake:1");
	sk_sig_free(sig);
	sig = NULL;
	assert_int_equal(pinlog.n, 1);
	assert_string_equal(pinlog.device[0], "fake:1");
	assert_int_equal(fake.pins[0], 0);
	assert_int_equal(fake.pins[1], 1);

	/*
	 * credProtect 3: no silent probe would find it, but the token it
	 * signed on is remembered: straight there, its PIN only.
	 */
	fake.uv_required = 1;
	pinlog.n = 0;
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_string_equal(sig->device, "fake:1");
	sk_sig_free(sig);
	sig = NULL;
	assert_int_equal(pinlog.n, 1);
	assert_string_equal(pinlog.device[0], "fake:1");
	assert_int_equal(fake.pins[0], 0);
	assert_int_equal(fake.pins[1], 2);
	assert_int_equal(fake.foreign_pins, 0);
	assert_int_equal(fake.selects[0] + fake.selects[1], 0);

	/* the hook has none: PIN required, reported for the holder's path */
	fake.uv_required = 0;
	pinlog.n = 0;
	pinlog.give_none = 1;
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), TOK_ERR_PIN_REQUIRED);
	assert_null(sig);
	assert_int_equal(pinlog.n, 1);
	assert_string_equal(pinlog.device[0], "fake:1");
	assert_int_equal(pinlog.failed, 1);
	assert_string_equal(pinlog.failed_device, "fake:1");
	assert_int_equal(pinlog.failed_r, TOK_ERR_PIN_REQUIRED);
	assert_int_equal(fake.foreign_pins, 0);
	sk_ctx_free(ctx);
	sk_devpool_free(pool);
}

/*
 * A credProtect 3 key on the third of three tokens, its token unknown: no
 * silent probe finds it, so the user touches the token that holds it; only
 * that one gets a PIN (issue: a PIN for one token sent to another burns its
 * retries).  Nobody touching: a time-out, no PIN anywhere.
 */
static void
test_select_by_touch(void **state)
{
	struct sk_devpool *pool = new_pool("fake:0,fake:1,fake:2", 0);
	struct sk_ctx *ctx = pool_ctx(pool);
	struct sk_hooks hooks;
	struct sk_sign_req req;
	struct sk_sig *sig = NULL;

	memset(&pinlog, 0, sizeof(pinlog));
	memset(&hooks, 0, sizeof(hooks));
	hooks.pin = pinlog_pin;
	hooks.pin_failed = pinlog_failed;
	sk_ctx_set_hooks(ctx, &hooks);
	fake.has_pin = 1;
	fake.check_pin = 1;
	fake.kh_dev = 2;
	fake.uv_required = 1;
	fake.touched = 3;
	fake.gone[2] = 0;
	sign_req(&req, SK_ALG_ED25519, SK_FLAG_UP | SK_FLAG_UV);
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_string_equal(sig->device, "fake:2");
	sk_sig_free(sig);
	sig = NULL;
	assert_int_equal(pinlog.n, 1);
	assert_string_equal(pinlog.device[0], "fake:2");
	assert_int_equal(fake.pins[0], 0);
	assert_int_equal(fake.pins[1], 0);
	assert_int_equal(fake.pins[2], 1);
	assert_int_equal(fake.selects[0], 1);
	assert_int_equal(fake.selects[1], 1);
	assert_int_equal(fake.selects[2], 1);
	/* the untouched ones are told to stop */
	assert_int_equal(fake.select_cancels[0], 1);
	assert_int_equal(fake.select_cancels[1], 1);
	assert_int_equal(fake.select_cancels[2], 0);
	/* the next signature goes straight to it: no probe, no touch asked */
	fake.probes[0] = fake.probes[1] = 0;
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_string_equal(sig->device, "fake:2");
	sk_sig_free(sig);
	sig = NULL;
	assert_int_equal(fake.probes[0] + fake.probes[1], 0);
	assert_int_equal(fake.selects[2], 1);
	assert_int_equal(fake.pins[0] + fake.pins[1], 0);
	sk_ctx_free(ctx);
	sk_devpool_free(pool);

	/*
	 * The user touches the wrong token first: it gets its own PIN (never
	 * another's), says it has no such key, and the choice is asked again
	 * among the others.
	 */
	pool = new_pool("fake:0,fake:1,fake:2", 0);
	ctx = pool_ctx(pool);
	sk_ctx_set_hooks(ctx, &hooks);
	memset(&pinlog, 0, sizeof(pinlog));
	memset(fake.pins, 0, sizeof(fake.pins));
	memset(fake.selects, 0, sizeof(fake.selects));
	fake.touched = 1;
	fake.touched_next = 3;
	assert_int_equal(sk_ctx_sign(ctx, &req, &sig), 0);
	assert_string_equal(sig->device, "fake:2");
	sk_sig_free(sig);
	sig = NULL;
	assert_int_equal(fake.pins[0], 1);
	assert_int_equal(fake.pins[1], 0);
	assert_int_equal(fake.pins[2], 1);
	assert_int_equal(fake.foreign_pins, 0);
	assert_int_equal(fake.selects[0], 1);
	assert_int_equal(fake.selects[1], 2);
	assert_int_equal(fake.selects[2], 2);
	sk_ctx_free(ctx);
	sk_devpool_free(pool);
}

/*
 * Which token a key lives on: remembered, recalled, forgotten when a
 * discovered (hidraw) token is pulled, since its path may name another
 * token next time; kept for a configured path; least recently noted first
 * out when full.
 */
static void
test_key_homes(void **state)
{
	struct sk_devpool *pool = new_pool("fake:2", 1);
	static const u_char kh2[] = { 9, 9 };
	u_char kh[4];
	char *home = NULL;
	int i;

	fake.discoverable = 1;
	fake.gone[2] = 0;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(sk_devpool_recall(pool, test_kh, sizeof(test_kh),
	    &home), 0);
	assert_null(home);
	sk_devpool_remember(pool, test_kh, sizeof(test_kh), "fake:1");
	sk_devpool_remember(pool, kh2, sizeof(kh2), "fake:2");
	assert_int_equal(sk_devpool_recall(pool, test_kh, sizeof(test_kh),
	    &home), 0);
	assert_string_equal(home, "fake:1");
	free(home);
	/* pulled: forgotten for the discovered path, kept for the other */
	fake.gone[1] = 1;
	fake.gone[2] = 1;
	assert_int_equal(sk_devpool_scan(pool), 0);
	assert_int_equal(sk_devpool_recall(pool, test_kh, sizeof(test_kh),
	    &home), 0);
	assert_null(home);
	assert_int_equal(sk_devpool_recall(pool, kh2, sizeof(kh2), &home), 0);
	assert_string_equal(home, "fake:2");
	free(home);
	/* full: the oldest note goes first */
	for (i = 0; i < 300; i++) {
		memcpy(kh, &i, sizeof(kh));
		sk_devpool_remember(pool, kh, sizeof(kh), "fake:0");
	}
	assert_int_equal(sk_devpool_recall(pool, kh2, sizeof(kh2), &home), 0);
	assert_null(home);
	i = 299;
	memcpy(kh, &i, sizeof(kh));
	assert_int_equal(sk_devpool_recall(pool, kh, sizeof(kh), &home), 0);
	assert_string_equal(home, "fake:0");
	free(home);
	sk_devpool_forget(pool, kh, sizeof(kh));
	assert_int_equal(sk_devpool_recall(pool, kh, sizeof(kh), &home), 0);
	assert_null(home);
	sk_devpool_free(pool);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fido_err),
		cmocka_unit_test_setup_teardown(test_select_by_touch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_key_homes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_ecdsa, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_ecdsa_trailing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_ed25519, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_selects_device,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_no_device, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_uv, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_no_touch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_missing_up, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enroll_ecdsa, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enroll_ed25519, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_resident, setup,
		    teardown),
		cmocka_unit_test(test_resident_uv_flag),
		cmocka_unit_test_setup_teardown(test_pool_reuse, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pool_busy_nowait, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pool_fifo, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pool_cancel, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_cancel_queued, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stale_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stale_gone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_select_silent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_select_skips_busy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_select_waits_busy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scan_discovered, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scan_configured, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scan_pulled_queued,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_hook, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
