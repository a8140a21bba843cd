/*
 * Unit tests of the sk core over a fake struct sk_devops: the FIDO_ERR ->
 * TOK_ERR translation, device selection, and building signatures and keys
 * from what a token returns.
 */
#include "config.h"

#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fido.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "common/err.h"
#include "sk/sk.h"

/* ------------------------------------------------------------------ */
/* The fake token(s). */

#define FAKE_NDEVS	2

struct fake_dev {
	int idx;
};

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
} fake;

static int
fake_discover(char ***pathsp, size_t *npathsp)
{
	*pathsp = NULL;
	*npathsp = 0;
	return 0;
}

static int
fake_open(const char *path, int timeout_ms, void **devp)
{
	struct fake_dev *d;

	*devp = NULL;
	if (strncmp(path, "fake:", 5) != 0)
		return TOK_ERR_DEVICE_NOT_PRESENT;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return TOK_ERR_ALLOC;
	d->idx = atoi(path + 5);
	if (d->idx < 0 || d->idx >= FAKE_NDEVS) {
		free(d);
		return TOK_ERR_DEVICE_NOT_PRESENT;
	}
	*devp = d;
	return 0;
}

static void
fake_close(void *dev)
{
	free(dev);
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
	q = malloc(len);
	assert_non_null(q);
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

	memset(ap, 0, sizeof(*ap));
	if (req->up)
		fake.touches[d->idx]++;
	else
		fake.probes[d->idx]++;
	fake.last_pin = pin;
	fake.last_uv = req->uv;
	if (d->idx != fake.kh_dev || req->key_handle_len != fake.kh_len ||
	    memcmp(req->key_handle, fake.kh, fake.kh_len) != 0)
		return sk_fido_err(FIDO_ERR_NO_CREDENTIALS);
	ap->flags = req->up ? fake.flags : (fake.flags & ~SK_AUTHDATA_UP);
	ap->counter = fake.counter;
	ap->sig = fake_dup(fake.sig, fake.sig_len);
	ap->sig_len = fake.sig_len;
	return 0;
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

static const struct sk_devops fake_ops = {
	.discover = fake_discover,
	.open = fake_open,
	.close = fake_close,
	.info = fake_info,
	.make_cred = fake_make_cred,
	.get_assert = fake_get_assert,
	.resident = fake_resident,
	.cancel = fake_cancel,
};

static const u_char test_kh[] = { 0x11, 0x22, 0x33, 0x44, 0x55 };

static int
setup(void **state)
{
	memset(&fake, 0, sizeof(fake));
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fido_err),
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
