/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent-piv-setup: "tokagent piv-setup", the set-up of a PIV card
 * without other tools and without an agent.  It talks to the card through
 * pcsc-lite and token/piv.c, in one PC/SC transaction (the management
 * key's and the PIN's security status would not survive another), and:
 *
 *   - picks the card: the only one present, or the one --reader or
 *     --serial names;
 *   - finds out what still has its factory value (PIN 123456, PUK
 *     12345678, management key 010203...): from YubiKey GET METADATA; a
 *     card without it is never given a guessed PIN or PUK (each wrong one
 *     costs a try): the user's answer is used instead;
 *   - gathers every answer it needs before changing anything: a default
 *     PIN or PUK is replaced by the user's new one, or kept only with
 *     --keep-defaults (or an empty answer at the terminal); with --batch
 *     nothing is asked and a missing answer is an error;
 *   - authenticates with the management key, generates the key (YubiKey
 *     PIN and touch policies only on a YubiKey), has the card sign a
 *     self-signed certificate for it (OpenSSL builds the TBS and the
 *     encoding) and stores it in the slot's certificate object;
 *   - replaces a default management key with a random one (YubiKey SET
 *     MANAGEMENT KEY) stored on the card in the PIN-protected printed
 *     object, flagged in the admin data, as YubiKey tools do (or printed
 *     once with --print-mgm-key); a later run finds it there;
 *   - prints the authorized_keys line, named as the native PIV helper
 *     names the key ("YubiKey 5 #12345678 PIV 9a").
 *
 * Secrets (PINs, PUK, management keys) live in secure memory and are
 * zeroed; they come from the terminal (echo off), or from files (--pin-file
 * and friends, "-" for standard input) for scripts and tests.
 * Every failure is one line on standard error and exit status 1.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <readpassphrase.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <winscard.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/key.h"
#include "common/log.h"
#include "common/secmem.h"
#include "token/piv.h"
#include "token/piv-pcsc.h"

#define SETUP_NAME_MAX		200	/* as the PIV helper's names */
#define SETUP_READERS_MAX	(64 * 1024)
#define SETUP_CARDS_MAX		32
#define SETUP_SECRET_MAX	128
#define SETUP_RSA_PLAIN		0x02	/* SSH_AGENT_RSA_SHA2_256 */

static const char default_pin[] = "123456";
static const char default_puk[] = "12345678";
static const u_char default_mgmt[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8
};

static int batch;
static int stdin_used;
/* The card in use, let go cleanly on every exit (pcscd resets a card whose client died). */
static struct piv *card_piv;
static struct piv_pcsc *card_pc;

static void
card_close(void)
{
	if (card_piv != NULL) {
		piv_release(card_piv);
		piv_free(card_piv);
		card_piv = NULL;
	}
	piv_pcsc_close(card_pc);
	card_pc = NULL;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tokagent piv-setup: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	card_close();
	exit(1);
}

static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tokagent piv-setup: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: tokagent piv-setup [--reader NAME | --serial N] [--slot SLOT]\n"
"           [--algorithm ECCP256|ECCP384|RSA2048]\n"
"           [--pin-policy never|once|always]\n"
"           [--touch-policy never|always|cached]\n"
"           [--pin-file FILE] [--new-pin-file FILE] [--puk-file FILE]\n"
"           [--new-puk-file FILE] [--mgm-key-file FILE] [--print-mgm-key]\n"
"           [--keep-defaults] [--force] [--batch]\n"
"\n"
"  --reader NAME        the card in this PC/SC reader\n"
"  --serial N           the card with this serial number\n"
"  --slot SLOT          9a (default), 9c, 9d, 9e or 82 to 95\n"
"  --algorithm ALG      ECCP256 (default), ECCP384 or RSA2048\n"
"  --pin-policy P       YubiKey PIN policy of the new key\n"
"  --touch-policy P     YubiKey touch policy of the new key\n"
"  --pin-file FILE      the card's PIN (first line; - for standard input)\n"
"  --new-pin-file FILE  the PIN replacing the default one\n"
"  --puk-file FILE      the card's PUK\n"
"  --new-puk-file FILE  the PUK replacing the default one\n"
"  --mgm-key-file FILE  the card's management key (hexadecimal)\n"
"  --print-mgm-key      print a new management key once instead of storing\n"
"                       it on the card under the PIN\n"
"  --keep-defaults      leave a default PIN, PUK or management key\n"
"  --force              replace a key already in the slot\n"
"  --batch              never ask: a missing answer is an error\n");
	exit(status);
}

/* ---- Secrets -------------------------------------------------------- */

/* The first line of path ("-": standard input), in secure memory. */
static char *
secret_from_file(const char *path, const char *what)
{
	char line[SETUP_SECRET_MAX + 2], *s;
	FILE *f;
	size_t n;

	if (strcmp(path, "-") == 0) {
		if (stdin_used++)
			die("only one of the --*-file options can be -");
		f = stdin;
	} else if ((f = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	if (fgets(line, sizeof(line), f) == NULL) {
		explicit_bzero(line, sizeof(line));
		die("%s: no %s in it", path, what);
	}
	if (f != stdin)
		fclose(f);
	n = strcspn(line, "\r\n");
	if (line[n] == '\0' && n > SETUP_SECRET_MAX) {
		explicit_bzero(line, sizeof(line));
		die("%s: the %s is too long", path, what);
	}
	line[n] = '\0';
	s = secmem_strdup(line);
	explicit_bzero(line, sizeof(line));
	if (s == NULL)
		die("out of memory");
	return s;
}

/* An answer from the terminal, echo off; NULL with --batch or no terminal. */
static char *
secret_ask(const char *prompt)
{
	char line[SETUP_SECRET_MAX + 1], *s;

	if (batch)
		return NULL;
	if (readpassphrase(prompt, line, sizeof(line), RPP_REQUIRE_TTY) ==
	    NULL) {
		explicit_bzero(line, sizeof(line));
		return NULL;
	}
	s = secmem_strdup(line);
	explicit_bzero(line, sizeof(line));
	if (s == NULL)
		die("out of memory");
	return s;
}

static void
check_pin(const char *pin, const char *what)
{
	size_t len = strlen(pin), i;

	if (len < 6 || len > 8)
		die("the %s must have 6 to 8 characters", what);
	for (i = 0; i < len; i++)
		if ((u_char)pin[i] < 0x20 || (u_char)pin[i] > 0x7e)
			die("the %s may hold printable ASCII only", what);
}

/*
 * A new PIN or PUK (what) to replace the default: from file, or asked
 * twice.  NULL when the user keeps the default (an empty answer).
 */
static char *
new_secret(const char *file, const char *what, const char *opt)
{
	char prompt[128], *a, *b;

	if (file != NULL) {
		a = secret_from_file(file, what);
		check_pin(a, what);
		return a;
	}
	snprintf(prompt, sizeof(prompt), "New %s (6 to 8 characters; empty: "
	    "keep the default): ", what);
	for (;;) {
		if ((a = secret_ask(prompt)) == NULL)
			die("the %s is still the default one: give %s (or "
			    "--keep-defaults to keep it)", what, opt);
		if (*a == '\0') {
			secmem_free(a);
			say("warning: the %s stays the default one", what);
			return NULL;
		}
		if (strlen(a) < 6 || strlen(a) > 8) {
			say("the %s must have 6 to 8 characters", what);
			secmem_free(a);
			continue;
		}
		check_pin(a, what);
		snprintf(prompt, sizeof(prompt), "New %s again: ", what);
		if ((b = secret_ask(prompt)) == NULL)
			die("no answer");
		if (strcmp(a, b) == 0) {
			secmem_free(b);
			return a;
		}
		secmem_free(a);
		secmem_free(b);
		say("the two answers differ");
		snprintf(prompt, sizeof(prompt), "New %s (6 to 8 characters; "
		    "empty: keep the default): ", what);
	}
}

/* Hexadecimal management key text into key (secure), its length in *lenp. */
static u_char *
mgmt_from_hex(const char *hex, size_t *lenp)
{
	u_char *key;
	size_t n = 0, i;
	int hi, lo;

	*lenp = 0;
	if ((key = secmem_alloc(32)) == NULL)
		die("out of memory");
	for (i = 0; hex[i] != '\0';) {
		if (hex[i] == ':' || hex[i] == ' ') {
			i++;
			continue;
		}
		if (!isxdigit((u_char)hex[i]) ||
		    !isxdigit((u_char)hex[i + 1]) || n >= 32) {
			secmem_free(key);
			die("the management key must be 16, 24 or 32 bytes "
			    "in hexadecimal");
		}
		hi = isdigit((u_char)hex[i]) ? hex[i] - '0' :
		    tolower((u_char)hex[i]) - 'a' + 10;
		lo = isdigit((u_char)hex[i + 1]) ? hex[i + 1] - '0' :
		    tolower((u_char)hex[i + 1]) - 'a' + 10;
		key[n++] = hi << 4 | lo;
		i += 2;
	}
	if (n != 16 && n != 24 && n != 32) {
		secmem_free(key);
		die("the management key must be 16, 24 or 32 bytes in "
		    "hexadecimal");
	}
	*lenp = n;
	return key;
}

/* ---- Cards ---------------------------------------------------------- */

struct setup_card {
	char		*reader;
	char		 name[SETUP_NAME_MAX];
	uint32_t	 serial;
	int		 have_serial;
	int		 yubikey;
	u_char		 version[3];
};

/* A reader name made printable, as the PIV helper shows it. */
static void
printable(char *dst, size_t dstlen, const char *src)
{
	size_t i;

	strlcpy(dst, src, dstlen);
	for (i = 0; dst[i] != '\0'; i++)
		if ((u_char)dst[i] < 0x20 || (u_char)dst[i] > 0x7e)
			dst[i] = '?';
	if (dst[0] == '\0')
		strlcpy(dst, "?", dstlen);
}

/* Name the card as the PIV helper does: "YubiKey 5 #12345678". */
static void
card_identify(struct piv *piv, struct setup_card *c)
{
	char rd[SETUP_NAME_MAX];

	c->yubikey = piv_yk_version(piv, c->version) == 0;
	c->have_serial = piv_yk_serial(piv, &c->serial) == 0;
	printable(rd, sizeof(rd), c->reader);
	if (c->yubikey && c->have_serial)
		snprintf(c->name, sizeof(c->name), "YubiKey %u #%u",
		    c->version[0], c->serial);
	else if (c->have_serial)
		snprintf(c->name, sizeof(c->name), "PIV card #%u", c->serial);
	else if (snprintf(c->name, sizeof(c->name), "PIV card in %.*s",
	    (int)sizeof(c->name) - 20, rd) < 0)
		strlcpy(c->name, "PIV card", sizeof(c->name));
}

/* Every reader that holds a PIV card, identified; *np of them. */
static void
cards_find(struct setup_card *cards, size_t *np)
{
	SCARDCONTEXT ctx;
	SCARD_READERSTATE rs;
	struct piv_pcsc *pc;
	struct piv *piv;
	char *names, *n, rd[SETUP_NAME_MAX];
	DWORD len = 0;
	LONG rv;
	int r;

	*np = 0;
	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &ctx)) != SCARD_S_SUCCESS)
		die("cannot reach pcscd: %s", pcsc_stringify_error(rv));
	rv = SCardListReaders(ctx, NULL, NULL, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE || (rv == SCARD_S_SUCCESS &&
	    len <= 1))
		die("no smart card reader");
	if (rv != SCARD_S_SUCCESS)
		die("cannot list the readers: %s", pcsc_stringify_error(rv));
	if (len > SETUP_READERS_MAX)
		die("too many readers");
	if ((names = calloc(1, len + 2)) == NULL)
		die("out of memory");
	if ((rv = SCardListReaders(ctx, NULL, names, &len)) !=
	    SCARD_S_SUCCESS)
		die("cannot list the readers: %s", pcsc_stringify_error(rv));
	/* A multi-string: names, each NUL-terminated, then a NUL. */
	for (n = names; *n != '\0' && *np < SETUP_CARDS_MAX;
	    n += strlen(n) + 1) {
		memset(&rs, 0, sizeof(rs));
		rs.szReader = n;
		rs.dwCurrentState = SCARD_STATE_UNAWARE;
		if (SCardGetStatusChange(ctx, 0, &rs, 1) != SCARD_S_SUCCESS ||
		    (rs.dwEventState & SCARD_STATE_PRESENT) == 0)
			continue;
		if ((r = piv_pcsc_open(n, &pc)) != 0) {
			printable(rd, sizeof(rd), n);
			say("reader \"%s\": %s", rd, tok_strerror(r));
			continue;
		}
		if ((r = piv_open(&piv_pcsc_ops, pc, &piv)) != 0)
			die("%s", tok_strerror(r));
		if ((r = piv_select(piv)) != 0) {
			printable(rd, sizeof(rd), n);
			say("reader \"%s\": no PIV application: %s", rd,
			    tok_strerror(r));
		} else {
			memset(&cards[*np], 0, sizeof(cards[*np]));
			if ((cards[*np].reader = strdup(n)) == NULL)
				die("out of memory");
			card_identify(piv, &cards[*np]);
			(*np)++;
		}
		piv_free(piv);
		piv_pcsc_close(pc);
	}
	free(names);
	(void)SCardReleaseContext(ctx);
}

/*
 * Reset the card, as Yubico's tools do when they are done: the PIN's and
 * the management key's security status go (programs holding the card see
 * the reset at their next transaction).
 */
static void
card_reset(const struct setup_card *c)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto;

	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) !=
	    SCARD_S_SUCCESS)
		return;
	if (SCardConnect(ctx, c->reader, SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &h, &proto) ==
	    SCARD_S_SUCCESS)
		(void)SCardDisconnect(h, SCARD_RESET_CARD);
	(void)SCardReleaseContext(ctx);
}

/* The one card to set up. */
static struct setup_card *
card_choose(struct setup_card *cards, size_t n, const char *reader,
    const char *serial)
{
	struct setup_card *c = NULL;
	char rd[SETUP_NAME_MAX];
	unsigned long long sn = 0;
	char *ep;
	size_t i;

	if (serial != NULL) {
		errno = 0;
		sn = strtoull(serial, &ep, 10);
		if (*serial == '\0' || *ep != '\0' || errno != 0 ||
		    sn > UINT32_MAX)
			die("bad --serial %s", serial);
	}
	for (i = 0; i < n; i++) {
		if (reader != NULL && strcmp(cards[i].reader, reader) != 0)
			continue;
		if (serial != NULL && (!cards[i].have_serial ||
		    cards[i].serial != sn))
			continue;
		if (c != NULL) {
			c = NULL;
			break;
		}
		c = &cards[i];
	}
	if (c != NULL && (n == 1 || reader != NULL || serial != NULL))
		return c;
	if (n == 0)
		die("no PIV card found");
	if (reader != NULL || serial != NULL)
		fprintf(stderr, "tokagent piv-setup: no card matches %s%s\n",
		    reader != NULL ? "--reader " : "--serial ",
		    reader != NULL ? reader : serial);
	else
		fprintf(stderr, "tokagent piv-setup: %zu PIV cards: choose "
		    "one with --reader NAME or --serial N\n", n);
	for (i = 0; i < n; i++) {
		printable(rd, sizeof(rd), cards[i].reader);
		fprintf(stderr, "  %s, reader \"%s\"\n", cards[i].name, rd);
	}
	exit(1);
}

/* ---- Certificate ------------------------------------------------------ */

/*
 * The card's signature over data with the slot's key k as X.509 wants
 * it: ECDSA-Sig-Value DER, or the raw RSA PKCS#1 v1.5 (SHA-256) block.
 */
static int
card_sign_x509(struct piv *piv, int slot, const struct key *k,
    const u_char *data, size_t len, u_char **sigp, size_t *siglenp)
{
	struct buf *sig = NULL, *b = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	const u_char *body, *rv, *sv;
	u_char *out = NULL, *p;
	size_t bodylen, rlen, slen;
	char *alg = NULL;
	int r = TOK_ERR_INTERNAL, n;

	*sigp = NULL;
	*siglenp = 0;
	if ((sig = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = piv_sign_ssh(piv, slot, k, SETUP_RSA_PLAIN, data, len,
	    sig)) != 0)
		goto out;
	if ((r = buf_get_cstring(sig, &alg, NULL)) != 0 ||
	    (r = buf_get_string_direct(sig, &body, &bodylen)) != 0 ||
	    (r = buf_expect_empty(sig)) != 0)
		goto out;
	if (key_type(k) == KEY_RSA) {
		if ((out = malloc(bodylen)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		memcpy(out, body, bodylen);
		*sigp = out;
		*siglenp = bodylen;
		out = NULL;
		r = 0;
		goto out;
	}
	/* ECDSA: mpint r, mpint s, back into DER. */
	if ((b = buf_from(body, bodylen)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_bignum2_bytes_direct(b, &rv, &rlen)) != 0 ||
	    (r = buf_get_bignum2_bytes_direct(b, &sv, &slen)) != 0 ||
	    (r = buf_expect_empty(b)) != 0)
		goto out;
	r = TOK_ERR_LIBCRYPTO;
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(rv, rlen, NULL)) == NULL ||
	    (bs = BN_bin2bn(sv, slen, NULL)) == NULL ||
	    !ECDSA_SIG_set0(es, br, bs))
		goto out;
	br = bs = NULL;
	if ((n = i2d_ECDSA_SIG(es, NULL)) <= 0 ||
	    (out = malloc(n)) == NULL)
		goto out;
	p = out;
	if (i2d_ECDSA_SIG(es, &p) != n)
		goto out;
	*sigp = out;
	*siglenp = n;
	out = NULL;
	r = 0;
 out:
	free(out);
	free(alg);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(es);
	buf_free(b);
	buf_free(sig);
	return r;
}

/*
 * A self-signed certificate for the slot's new key k, signed by the card:
 * OpenSSL makes the TBS (its signature algorithm set by signing once with
 * a throw-away key of the same kind), the card signs it, and the DER is
 * put together and checked against k.
 */
static int
make_cert(struct piv *piv, int slot, const struct key *k, const char *cn,
    u_char **derp, size_t *lenp)
{
	EVP_PKEY *pk = key_evp(k), *tmp = NULL;
	EVP_PKEY_CTX *kctx = NULL;
	X509 *x = NULL, *check = NULL;
	X509_NAME *name = NULL;
	BIGNUM *sn = NULL;
	ASN1_INTEGER *asn = NULL;
	const X509_ALGOR *alg;
	const EVP_MD *md;
	u_char *tbs = NULL, *algder = NULL, *bitsder = NULL, *sig = NULL;
	u_char *der = NULL, *p;
	const u_char *cp;
	size_t siglen;
	int r = TOK_ERR_LIBCRYPTO, tbslen, alglen, bitslen, inner, total;

	*derp = NULL;
	*lenp = 0;
	if (pk == NULL)
		return TOK_ERR_KEY_INVALID;
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
		md = EVP_PKEY_get_bits(pk) > 256 ? EVP_sha384() : EVP_sha256();
		if ((kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC",
		    NULL)) == NULL || EVP_PKEY_keygen_init(kctx) <= 0 ||
		    EVP_PKEY_CTX_set_group_name(kctx,
		    EVP_PKEY_get_bits(pk) > 256 ? "P-384" : "P-256") <= 0 ||
		    EVP_PKEY_keygen(kctx, &tmp) <= 0)
			goto out;
	} else {
		md = EVP_sha256();
		if ((kctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA",
		    NULL)) == NULL || EVP_PKEY_keygen_init(kctx) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_keygen_bits(kctx, 2048) <= 0 ||
		    EVP_PKEY_keygen(kctx, &tmp) <= 0)
			goto out;
	}
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    (sn = BN_new()) == NULL || !BN_rand(sn, 64, BN_RAND_TOP_ONE,
	    BN_RAND_BOTTOM_ANY) || (asn = BN_to_ASN1_INTEGER(sn,
	    NULL)) == NULL || !X509_set_serialNumber(x, asn) ||
	    (name = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const u_char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    !ASN1_TIME_set_string(X509_getm_notAfter(x), "99991231235959Z") ||
	    !X509_set_pubkey(x, pk) || X509_sign(x, tmp, md) <= 0)
		goto out;
	alg = X509_get0_tbs_sigalg(x);
	if ((tbslen = i2d_re_X509_tbs(x, &tbs)) <= 0 ||
	    (alglen = i2d_X509_ALGOR(alg, &algder)) <= 0)
		goto out;
	if ((r = card_sign_x509(piv, slot, k, tbs, tbslen, &sig,
	    &siglen)) != 0)
		goto out;
	/* BIT STRING { 0 unused bits, signature } */
	r = TOK_ERR_LIBCRYPTO;
	if (siglen > INT_MAX / 2 ||
	    (bitslen = ASN1_object_size(0, siglen + 1,
	    V_ASN1_BIT_STRING)) <= 0 || (bitsder = malloc(bitslen)) == NULL)
		goto out;
	p = bitsder;
	ASN1_put_object(&p, 0, siglen + 1, V_ASN1_BIT_STRING,
	    V_ASN1_UNIVERSAL);
	*p++ = 0x00;
	memcpy(p, sig, siglen);
	inner = tbslen + alglen + bitslen;
	if ((total = ASN1_object_size(1, inner, V_ASN1_SEQUENCE)) <= 0 ||
	    (der = malloc(total)) == NULL)
		goto out;
	p = der;
	ASN1_put_object(&p, 1, inner, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(p, tbs, tbslen);
	p += tbslen;
	memcpy(p, algder, alglen);
	p += alglen;
	memcpy(p, bitsder, bitslen);
	p += bitslen;
	if (p != der + total)
		goto out;
	/* What the card signed must verify with the key it gave. */
	cp = der;
	if ((check = d2i_X509(NULL, &cp, total)) == NULL ||
	    cp != der + total) {
		r = TOK_ERR_CERT_INVALID;
		goto out;
	}
	if (X509_verify(check, pk) != 1) {
		r = TOK_ERR_SIGNATURE_INVALID;
		goto out;
	}
	*derp = der;
	*lenp = total;
	der = NULL;
	r = 0;
 out:
	free(der);
	free(sig);
	OPENSSL_free(tbs);
	OPENSSL_free(algder);
	free(bitsder);
	ASN1_INTEGER_free(asn);
	BN_free(sn);
	X509_NAME_free(name);
	X509_free(x);
	X509_free(check);
	EVP_PKEY_free(tmp);
	EVP_PKEY_CTX_free(kctx);
	return r;
}

/* ---- Options ---------------------------------------------------------- */

static int
parse_slot(const char *s)
{
	char *ep;
	long v;

	errno = 0;
	v = strtol(s, &ep, 16);
	if (*s == '\0' || *ep != '\0' || errno != 0 || v < 0 || v > 0xff ||
	    strlen(s) != 2 || piv_cert_tag(v) == 0 || v == PIV_SLOT_ATTEST)
		die("bad --slot %s: 9a, 9c, 9d, 9e or 82 to 95", s);
	return v;
}

static int
parse_alg(const char *s)
{
	if (strcasecmp(s, "ECCP256") == 0)
		return PIV_ALG_ECCP256;
	if (strcasecmp(s, "ECCP384") == 0)
		return PIV_ALG_ECCP384;
	if (strcasecmp(s, "RSA2048") == 0)
		return PIV_ALG_RSA2048;
	die("bad --algorithm %s: ECCP256, ECCP384 or RSA2048", s);
}

static int
parse_pin_policy(const char *s)
{
	if (strcmp(s, "never") == 0)
		return PIV_PIN_POLICY_NEVER;
	if (strcmp(s, "once") == 0)
		return PIV_PIN_POLICY_ONCE;
	if (strcmp(s, "always") == 0)
		return PIV_PIN_POLICY_ALWAYS;
	die("bad --pin-policy %s: never, once or always", s);
}

static int
parse_touch_policy(const char *s)
{
	if (strcmp(s, "never") == 0)
		return PIV_TOUCH_POLICY_NEVER;
	if (strcmp(s, "always") == 0)
		return PIV_TOUCH_POLICY_ALWAYS;
	if (strcmp(s, "cached") == 0)
		return PIV_TOUCH_POLICY_CACHED;
	die("bad --touch-policy %s: never, always or cached", s);
}

/* The YubiKey default-value flag of ref: 1, 0, or -1 (unknown). */
static int
yk_is_default(struct piv *piv, const struct setup_card *c, int ref,
    int *algp)
{
	struct piv_metadata md;
	int r, d = -1;

	if (!c->yubikey)
		return -1;
	md.pubkey = NULL;
	if ((r = piv_yk_metadata(piv, ref, &md)) == 0) {
		d = md.is_default;
		if (algp != NULL && md.alg >= 0)
			*algp = md.alg;
	} else if (r != TOK_ERR_FEATURE_UNSUPPORTED)
		die("%s: metadata of %02x: %s", c->name, ref, tok_strerror(r));
	piv_metadata_clear(&md);
	return d;
}

/* A management key kept PIN-protected on the card, or NULL. */
static u_char *
protected_mgmt(struct piv *piv, const struct setup_card *c, size_t *lenp)
{
	struct buf *b;
	const u_char *k;
	u_char *key = NULL;
	size_t klen;
	int r, flags = 0;

	*lenp = 0;
	if ((b = buf_new()) == NULL)
		die("out of memory");
	if ((r = piv_get_object(piv, PIV_OBJ_YK_ADMIN, b)) != 0) {
		if (r != TOK_ERR_KEY_NOT_FOUND)
			die("%s: admin data: %s", c->name, tok_strerror(r));
		goto out;
	}
	if ((r = piv_parse_admin_data(buf_ptr(b), buf_len(b), &flags)) != 0)
		die("%s: bad admin data object: %s", c->name, tok_strerror(r));
	if ((flags & PIV_ADMIN_MGMT_PROTECTED) == 0)
		goto out;
	buf_reset(b);
	if ((r = piv_get_object(piv, PIV_OBJ_PRINTED, b)) != 0)
		die("%s: the PIN-protected management key: %s", c->name,
		    tok_strerror(r));
	if ((r = piv_parse_printed(buf_ptr(b), buf_len(b), &k, &klen)) != 0)
		die("%s: the PIN-protected management key: %s", c->name,
		    tok_strerror(r));
	if ((key = secmem_alloc(32)) == NULL)
		die("out of memory");
	memcpy(key, k, klen);
	*lenp = klen;
 out:
	buf_free(b);	/* zeroes what it held */
	return key;
}

/* Store key (algorithm alg) as YubiKey tools keep a PIN-protected one. */
static void
store_protected_mgmt(struct piv *piv, const struct setup_card *c,
    const u_char *key, size_t len)
{
	struct buf *in = NULL, *obj = NULL;
	u_char flags = PIV_ADMIN_MGMT_PROTECTED;
	int r;

	if ((in = buf_new()) == NULL || (obj = buf_new()) == NULL)
		die("out of memory");
	/* Printed information: 88 { 89 key } */
	if ((r = buf_put_u8(in, 0x89)) != 0 ||
	    (r = buf_put_u8(in, len)) != 0 ||
	    (r = buf_put(in, key, len)) != 0 ||
	    (r = buf_put_u8(obj, 0x88)) != 0 ||
	    (r = buf_put_u8(obj, buf_len(in))) != 0 ||
	    (r = buf_putb(obj, in)) != 0)
		die("%s", tok_strerror(r));
	if ((r = piv_put_object(piv, PIV_OBJ_PRINTED, buf_ptr(obj),
	    buf_len(obj))) != 0)
		die("%s: storing the management key: %s", c->name,
		    tok_strerror(r));
	buf_reset(in);		/* zeroed */
	buf_reset(obj);
	/* Admin data: 80 { 81 flags } */
	if ((r = buf_put_u8(in, 0x81)) != 0 || (r = buf_put_u8(in, 1)) != 0 ||
	    (r = buf_put_u8(in, flags)) != 0 ||
	    (r = buf_put_u8(obj, 0x80)) != 0 ||
	    (r = buf_put_u8(obj, buf_len(in))) != 0 ||
	    (r = buf_putb(obj, in)) != 0)
		die("%s", tok_strerror(r));
	if ((r = piv_put_object(piv, PIV_OBJ_YK_ADMIN, buf_ptr(obj),
	    buf_len(obj))) != 0)
		die("%s: admin data: %s", c->name, tok_strerror(r));
	buf_free(in);
	buf_free(obj);
}

static void
pin_error(const struct setup_card *c, const char *what, int r, int tries)
{
	if (r == TOK_ERR_PIN_BLOCKED)
		die("%s: the %s is blocked%s", c->name, what,
		    strcmp(what, "PIN") == 0 ? " — use the PUK" : "");
	if (r == TOK_ERR_PIN_INVALID && tries >= 0)
		die("%s: wrong %s, %d tries left", c->name, what, tries);
	if (r == TOK_ERR_PIN_INVALID)
		die("%s: wrong %s", c->name, what);
	die("%s: %s: %s", c->name, what, tok_strerror(r));
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "serial", required_argument, NULL, 'S' },
		{ "slot", required_argument, NULL, 's' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "pin-policy", required_argument, NULL, 'P' },
		{ "touch-policy", required_argument, NULL, 'T' },
		{ "pin-file", required_argument, NULL, 'p' },
		{ "new-pin-file", required_argument, NULL, 'n' },
		{ "puk-file", required_argument, NULL, 'u' },
		{ "new-puk-file", required_argument, NULL, 'U' },
		{ "mgm-key-file", required_argument, NULL, 'm' },
		{ "print-mgm-key", no_argument, NULL, 'M' },
		{ "keep-defaults", no_argument, NULL, 'k' },
		{ "force", no_argument, NULL, 'f' },
		{ "batch", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct setup_card cards[SETUP_CARDS_MAX], *c;
	struct piv_metadata md;
	struct piv *piv;
	struct key *k = NULL;
	const char *reader = NULL, *serial = NULL, *pin_file = NULL;
	const char *new_pin_file = NULL, *puk_file = NULL;
	const char *new_puk_file = NULL, *mgm_file = NULL;
	char *pin = NULL, *new_pin = NULL, *puk = NULL, *new_puk = NULL;
	char *hex, *line = NULL, cn[SETUP_NAME_MAX + 64];
	char label[SETUP_NAME_MAX + 16];
	u_char *mgm = NULL, *new_mgm = NULL, *der = NULL;
	size_t ncards, i, mgmlen = 0, derlen;
	int ch, r, tries, slot = PIV_SLOT_AUTH, alg = PIV_ALG_ECCP256;
	int pin_policy = 0, touch_policy = 0, print_mgm = 0, keep = 0;
	int force = 0, pin_def, puk_def, mgm_def, mgm_alg = PIV_ALG_3DES;
	int occupied;

	harden_process();
	log_init("tokagent piv-setup", LOG_LEVEL_ERROR, 1);
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			reader = optarg;
			break;
		case 'S':
			serial = optarg;
			break;
		case 's':
			slot = parse_slot(optarg);
			break;
		case 'a':
			alg = parse_alg(optarg);
			break;
		case 'P':
			pin_policy = parse_pin_policy(optarg);
			break;
		case 'T':
			touch_policy = parse_touch_policy(optarg);
			break;
		case 'p':
			pin_file = optarg;
			break;
		case 'n':
			new_pin_file = optarg;
			break;
		case 'u':
			puk_file = optarg;
			break;
		case 'U':
			new_puk_file = optarg;
			break;
		case 'm':
			mgm_file = optarg;
			break;
		case 'M':
			print_mgm = 1;
			break;
		case 'k':
			keep = 1;
			break;
		case 'f':
			force = 1;
			break;
		case 'b':
			batch = 1;
			break;
		case 'h':
			usage(0);
		default:
			usage(1);
		}
	}
	if (optind != argc)
		usage(1);

	cards_find(cards, &ncards);
	c = card_choose(cards, ncards, reader, serial);
	if ((pin_policy != 0 || touch_policy != 0) && !c->yubikey)
		die("%s is not a YubiKey: --pin-policy and --touch-policy "
		    "are YubiKey extensions", c->name);
	if ((r = piv_pcsc_open(c->reader, &card_pc)) != 0 ||
	    (r = piv_open(&piv_pcsc_ops, card_pc, &card_piv)) != 0)
		die("%s: %s", c->name, tok_strerror(r));
	piv = card_piv;
	/* One transaction from here on: the card's security status lasts. */
	if ((r = piv_hold(piv)) != 0)
		die("%s: %s", c->name, tok_strerror(r));

	/* What the slot holds; what still has its factory value. */
	md.pubkey = NULL;
	occupied = 0;
	if (c->yubikey && (r = piv_yk_metadata(piv, slot, &md)) == 0)
		occupied = 1;
	piv_metadata_clear(&md);
	if (!occupied && (r = piv_read_cert(piv, slot, &der, &derlen,
	    NULL)) == 0)
		occupied = 1;
	free(der);
	der = NULL;
	if (occupied && !force)
		die("%s: slot %02x already holds a key: --force replaces it",
		    c->name, slot);
	pin_def = yk_is_default(piv, c, PIV_REF_PIN, NULL);
	puk_def = yk_is_default(piv, c, PIV_REF_PUK, NULL);
	mgm_def = yk_is_default(piv, c, PIV_REF_MGMT, &mgm_alg);
	if (piv_mgmt_key_len(mgm_alg) == 0)
		die("%s: unknown management key algorithm %02x", c->name,
		    mgm_alg);

	/* The PIN: the default one, the user's, never a guess. */
	if (pin_file != NULL)
		pin = secret_from_file(pin_file, "PIN");
	else if (pin_def == 1) {
		if ((pin = secmem_strdup(default_pin)) == NULL)
			die("out of memory");
	} else {
		snprintf(cn, sizeof(cn), "PIN of %s: ", c->name);
		if ((pin = secret_ask(cn)) == NULL)
			die("%s: the PIN is needed: give --pin-file", c->name);
	}
	check_pin(pin, "PIN");
	if ((r = piv_verify_pin(piv, pin, &tries)) != 0)
		pin_error(c, "PIN", r, tries);
	if (pin_def == -1)
		pin_def = strcmp(pin, default_pin) == 0;
	if (puk_file != NULL) {
		puk = secret_from_file(puk_file, "PUK");
		check_pin(puk, "PUK");
		if (puk_def == -1)
			puk_def = strcmp(puk, default_puk) == 0;
	} else if (puk_def == 1) {
		if ((puk = secmem_strdup(default_puk)) == NULL)
			die("out of memory");
	}

	/* The management key: given, kept under the PIN, or the default. */
	if (mgm_file != NULL) {
		hex = secret_from_file(mgm_file, "management key");
		mgm = mgmt_from_hex(hex, &mgmlen);
		secmem_free(hex);
	} else if (mgm_def != 1 &&
	    (mgm = protected_mgmt(piv, c, &mgmlen)) != NULL)
		;
	else if (mgm_def != 0) {
		if ((mgm = secmem_alloc(sizeof(default_mgmt))) == NULL)
			die("out of memory");
		memcpy(mgm, default_mgmt, sizeof(default_mgmt));
		mgmlen = sizeof(default_mgmt);
	} else {
		snprintf(cn, sizeof(cn), "Management key of %s (hex): ",
		    c->name);
		if ((hex = secret_ask(cn)) == NULL)
			die("%s: the management key is not the default one: "
			    "give --mgm-key-file", c->name);
		mgm = mgmt_from_hex(hex, &mgmlen);
		secmem_free(hex);
	}
	if (mgmlen != piv_mgmt_key_len(mgm_alg)) {
		/* Without metadata: the length says which algorithm. */
		if (mgm_def == -1 && mgmlen == 16)
			mgm_alg = PIV_ALG_AES128;
		else if (mgm_def == -1 && mgmlen == 32)
			mgm_alg = PIV_ALG_AES256;
		else
			die("%s: the management key must be %zu bytes", c->name,
			    piv_mgmt_key_len(mgm_alg));
	}

	/* Every answer before the first change. */
	if (!keep && pin_def == 1)
		new_pin = new_secret(new_pin_file, "PIN", "--new-pin-file");
	else if (new_pin_file != NULL)
		new_pin = new_secret(new_pin_file, "PIN", "--new-pin-file");
	if (!keep && puk_def == 1)
		new_puk = new_secret(new_puk_file, "PUK", "--new-puk-file");
	else if (new_puk_file != NULL) {
		if (puk == NULL)
			die("%s: --new-puk-file needs --puk-file", c->name);
		new_puk = new_secret(new_puk_file, "PUK", "--new-puk-file");
	}
	if (!keep && puk_def == -1)
		say("warning: cannot tell whether the PUK is the default one "
		    "without spending a try: give --puk-file and "
		    "--new-puk-file to change it");

	if ((r = piv_mgmt_auth(piv, mgm_alg, mgm, mgmlen)) != 0) {
		if (r == TOK_ERR_PIN_INVALID && mgm_file == NULL &&
		    mgm_def == -1)
			die("%s: the management key is not the default one: "
			    "give --mgm-key-file", c->name);
		if (r == TOK_ERR_PIN_INVALID)
			die("%s: wrong management key", c->name);
		die("%s: management key: %s", c->name, tok_strerror(r));
	}
	say("%s: generating a key in slot %02x", c->name, slot);
	if ((r = piv_generate(piv, slot, alg, pin_policy, touch_policy,
	    &k)) != 0) {
		if (r == TOK_ERR_FEATURE_UNSUPPORTED)
			die("%s: the card refused this algorithm or policy "
			    "for slot %02x", c->name, slot);
		die("%s: generate: %s", c->name, tok_strerror(r));
	}
	snprintf(label, sizeof(label), "%s PIV %02x", c->name, slot);
	if (touch_policy == PIV_TOUCH_POLICY_ALWAYS ||
	    touch_policy == PIV_TOUCH_POLICY_CACHED)
		say("%s: touch it to sign the key's certificate", c->name);
	if ((r = make_cert(piv, slot, k, label, &der, &derlen)) != 0) {
		if (r == TOK_ERR_TOUCH_DENIED)
			die("%s: no touch: the certificate was not signed",
			    c->name);
		die("%s: self-signed certificate: %s", c->name,
		    tok_strerror(r));
	}
	if ((r = piv_write_cert(piv, slot, der, derlen)) != 0)
		die("%s: storing the certificate: %s", c->name,
		    tok_strerror(r));

	/* A default management key: a random one, under the PIN or printed. */
	if (!keep && mgmlen == sizeof(default_mgmt) &&
	    CRYPTO_memcmp(mgm, default_mgmt, mgmlen) == 0) {
		if (!c->yubikey)
			say("warning: %s keeps the default management key: "
			    "the card has no command to change it", c->name);
		else {
			if ((new_mgm = secmem_alloc(mgmlen)) == NULL)
				die("out of memory");
			if (RAND_bytes(new_mgm, mgmlen) != 1)
				die("no random bytes");
			if ((r = piv_yk_set_mgmt(piv, mgm_alg, new_mgm, mgmlen,
			    0)) != 0)
				die("%s: new management key: %s", c->name,
				    tok_strerror(r));
			if ((r = piv_mgmt_auth(piv, mgm_alg, new_mgm,
			    mgmlen)) != 0)
				die("%s: the new management key does not "
				    "work: %s", c->name, tok_strerror(r));
			if (print_mgm) {
				fprintf(stderr, "New management key (not "
				    "stored; keep it): ");
				for (i = 0; i < mgmlen; i++)
					fprintf(stderr, "%02x", new_mgm[i]);
				fputc('\n', stderr);
			} else {
				store_protected_mgmt(piv, c, new_mgm, mgmlen);
				say("%s: new random management key, stored on "
				    "the card under the PIN", c->name);
			}
		}
	}
	if (new_puk != NULL) {
		if ((r = piv_change_ref(piv, PIV_REF_PUK, puk, new_puk,
		    &tries)) != 0)
			pin_error(c, "PUK", r, tries);
		say("%s: PUK changed", c->name);
	}
	if (new_pin != NULL) {
		if ((r = piv_change_ref(piv, PIV_REF_PIN, pin, new_pin,
		    &tries)) != 0)
			pin_error(c, "PIN", r, tries);
		say("%s: PIN changed", c->name);
	}
	piv_release(piv);
	card_close();
	card_reset(c);

	if ((r = key_to_line(k, label, &line)) != 0)
		die("%s", tok_strerror(r));
	printf("%s\n", line);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("standard output: %s", strerror(errno));
	/* tokagent piv-setup then asks a running agent to read it again. */

	free(line);
	free(der);
	key_free(k);
	secmem_free(pin);
	secmem_free(new_pin);
	secmem_free(puk);
	secmem_free(new_puk);
	secmem_free(mgm);
	secmem_free(new_mgm);
	card_close();
	for (i = 0; i < ncards; i++)
		free(cards[i].reader);
	return 0;
}
