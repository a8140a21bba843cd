/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * fidotool: drives a FIDO2 authenticator through libfido2 (so tests go
 * through libfido2's own code), reaching "unix:PATH" devices with
 * sk/fido_unix.c.  Also talks to vfido's control socket and checks raw
 * CTAPHID framing.
 *
 *   fidotool info DEV
 *   fidotool make DEV alg=es256|eddsa out=FILE [rk=1] [uv=1] [pin=PIN]
 *            [rp=ID] [user=NAME] [prot=1|2|3]
 *   fidotool assert DEV cred=FILE [rp=ID] [pin=PIN] [up=0] [uv=1]
 *            [cancel_after=MS]
 *   fidotool assert-rk DEV [rp=ID] [pin=PIN] [up=0]
 *   fidotool list DEV pin=PIN
 *   fidotool delete DEV pin=PIN cred=FILE
 *   fidotool setpin DEV pin=PIN | changepin DEV pin=OLD new=NEW
 *   fidotool retries DEV | reset DEV
 *   fidotool ctl SOCKET LINE...      one reply line printed per LINE
 *   fidotool frames SOCKET           raw CTAPHID conformance checks
 *
 * Prints "ok ..." and exits 0 on success; prints the libfido2 error name
 * and exits 1 on failure; 2 on usage errors.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fido.h>
#include <fido/credman.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <openssl/rand.h>

#include "common/err.h"
#include "sk/fido_unix.h"

static int	 nargs;
static char	**args;

static const char *
arg(const char *key, const char *def)
{
	size_t len = strlen(key);
	int i;

	for (i = 0; i < nargs; i++)
		if (strncmp(args[i], key, len) == 0 && args[i][len] == '=')
			return args[i] + len + 1;
	return def;
}

static int
fail(const char *what, int r)
{
	printf("error: %s: %s (%d)\n", what, fido_strerr(r), r);
	return 1;
}

static void
hex(FILE *f, const u_char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		fprintf(f, "%02x", p[i]);
}

static int
unhex(const char *s, u_char *out, size_t max, size_t *lenp)
{
	size_t i, n = strlen(s);
	unsigned int v;

	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (u_char)v;
	}
	*lenp = n / 2;
	return 0;
}

static int
open_dev(const char *name, fido_dev_t **devp)
{
	int r;

	if ((r = fido_unix_open_dev(name, devp)) != 0) {
		printf("error: open %s: %s\n", name, tok_strerror(r));
		return -1;
	}
	return 0;
}

static void
close_dev(fido_dev_t **devp)
{
	if (*devp != NULL)
		fido_dev_close(*devp);
	fido_dev_free(devp);
}

/* credential file: hex id, alg, hex public key, one per line */
struct credfile {
	u_char	id[1024];
	size_t	idlen;
	int	alg;
	u_char	pk[128];
	size_t	pklen;
};

static int
read_cred(const char *path, struct credfile *cf)
{
	char l1[4096], l2[64], l3[512];
	FILE *f;
	int ok;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	ok = fscanf(f, "%4095s %63s %511s", l1, l2, l3) == 3;
	fclose(f);
	if (!ok || unhex(l1, cf->id, sizeof(cf->id), &cf->idlen) != 0 ||
	    unhex(l3, cf->pk, sizeof(cf->pk), &cf->pklen) != 0)
		return -1;
	cf->alg = atoi(l2);
	return 0;
}

static int
cmd_info(fido_dev_t *dev)
{
	fido_cbor_info_t *ci;
	char **names;
	const bool *vals;
	const uint8_t *protos;
	size_t i, n;
	int r;

	if ((ci = fido_cbor_info_new()) == NULL)
		return 1;
	if ((r = fido_dev_get_cbor_info(dev, ci)) != FIDO_OK) {
		fido_cbor_info_free(&ci);
		return fail("getInfo", r);
	}
	printf("fido2: %s\n", fido_dev_is_fido2(dev) ? "yes" : "no");
	printf("versions:");
	names = fido_cbor_info_versions_ptr(ci);
	for (i = 0; i < fido_cbor_info_versions_len(ci); i++)
		printf(" %s", names[i]);
	printf("\nextensions:");
	names = fido_cbor_info_extensions_ptr(ci);
	for (i = 0; i < fido_cbor_info_extensions_len(ci); i++)
		printf(" %s", names[i]);
	printf("\naaguid: ");
	hex(stdout, fido_cbor_info_aaguid_ptr(ci),
	    fido_cbor_info_aaguid_len(ci));
	printf("\noptions:");
	names = fido_cbor_info_options_name_ptr(ci);
	vals = fido_cbor_info_options_value_ptr(ci);
	for (i = 0; i < fido_cbor_info_options_len(ci); i++)
		printf(" %s=%s", names[i], vals[i] ? "true" : "false");
	printf("\npin_protocols:");
	protos = fido_cbor_info_protocols_ptr(ci);
	for (i = 0; i < fido_cbor_info_protocols_len(ci); i++)
		printf(" %u", protos[i]);
	printf("\nalgorithms:");
	n = fido_cbor_info_algorithm_count(ci);
	for (i = 0; i < n; i++)
		printf(" %d", fido_cbor_info_algorithm_cose(ci, i));
	printf("\nmaxmsgsiz: %llu\n",
	    (unsigned long long)fido_cbor_info_maxmsgsiz(ci));
	printf("credman: %s\n", fido_dev_supports_credman(dev) ? "yes" : "no");
	printf("ok\n");
	fido_cbor_info_free(&ci);
	return 0;
}

static int
cmd_make(fido_dev_t *dev)
{
	fido_cred_t *cred = NULL;
	const char *alg = arg("alg", "es256"), *out = arg("out", NULL);
	const char *user = arg("user", "alice"), *prot = arg("prot", NULL);
	u_char cdh[32], uid[32];
	FILE *f;
	int type, r, ret = 1;

	if (out == NULL)
		return 2;
	if (strcmp(alg, "es256") == 0)
		type = COSE_ES256;
	else if (strcmp(alg, "eddsa") == 0)
		type = COSE_EDDSA;
	else
		return 2;
	RAND_bytes(cdh, sizeof(cdh));
	memset(uid, 0, sizeof(uid));
	memcpy(uid, user, strlen(user) < sizeof(uid) ? strlen(user) : sizeof(uid));
	if ((cred = fido_cred_new()) == NULL ||
	    fido_cred_set_type(cred, type) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(cred, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_cred_set_rp(cred, arg("rp", "ssh:"), NULL) != FIDO_OK ||
	    fido_cred_set_user(cred, uid, sizeof(uid), user, user,
	    NULL) != FIDO_OK)
		goto out;
	if (strcmp(arg("rk", "0"), "1") == 0 &&
	    fido_cred_set_rk(cred, FIDO_OPT_TRUE) != FIDO_OK)
		goto out;
	if (strcmp(arg("uv", "0"), "1") == 0 &&
	    fido_cred_set_uv(cred, FIDO_OPT_TRUE) != FIDO_OK)
		goto out;
	if (prot != NULL && fido_cred_set_prot(cred, atoi(prot)) != FIDO_OK)
		goto out;
	if ((r = fido_dev_make_cred(dev, cred, arg("pin", NULL))) != FIDO_OK) {
		ret = fail("makeCredential", r);
		goto out;
	}
	if ((r = fido_cred_verify_self(cred)) != FIDO_OK) {
		ret = fail("verify attestation", r);
		goto out;
	}
	if ((f = fopen(out, "w")) == NULL)
		goto out;
	hex(f, fido_cred_id_ptr(cred), fido_cred_id_len(cred));
	fprintf(f, "\n%d\n", type);
	hex(f, fido_cred_pubkey_ptr(cred), fido_cred_pubkey_len(cred));
	fprintf(f, "\n");
	fclose(f);
	printf("ok flags=0x%02x sigcount=%u prot=%d fmt=%s\n",
	    fido_cred_flags(cred), fido_cred_sigcount(cred),
	    fido_cred_prot(cred), fido_cred_fmt(cred));
	ret = 0;
 out:
	fido_cred_free(&cred);
	return ret;
}

struct canceller {
	fido_dev_t	*dev;
	int		 ms;
};

static void *
cancel_thread(void *p)
{
	struct canceller *c = p;

	usleep((useconds_t)c->ms * 1000);
	fido_dev_cancel(c->dev);
	return NULL;
}

static int
verify(const fido_assert_t *as, size_t idx, const struct credfile *cf)
{
	es256_pk_t *es = NULL;
	eddsa_pk_t *ed = NULL;
	int r = FIDO_ERR_INTERNAL;

	if (cf->alg == COSE_ES256) {
		if ((es = es256_pk_new()) == NULL ||
		    es256_pk_from_ptr(es, cf->pk, cf->pklen) != FIDO_OK)
			goto out;
		r = fido_assert_verify(as, idx, COSE_ES256, es);
	} else {
		if ((ed = eddsa_pk_new()) == NULL ||
		    eddsa_pk_from_ptr(ed, cf->pk, cf->pklen) != FIDO_OK)
			goto out;
		r = fido_assert_verify(as, idx, COSE_EDDSA, ed);
	}
 out:
	es256_pk_free(&es);
	eddsa_pk_free(&ed);
	return r;
}

static int
cmd_assert(fido_dev_t *dev, int rk)
{
	fido_assert_t *as = NULL;
	struct credfile cf;
	struct canceller canc;
	pthread_t th;
	const char *credpath = arg("cred", NULL);
	const char *cancel = arg("cancel_after", NULL);
	u_char cdh[32];
	size_t i;
	int r, ret = 1, threaded = 0;

	if (!rk && (credpath == NULL || read_cred(credpath, &cf) != 0))
		return 2;
	RAND_bytes(cdh, sizeof(cdh));
	if ((as = fido_assert_new()) == NULL ||
	    fido_assert_set_clientdata_hash(as, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_assert_set_rp(as, arg("rp", "ssh:")) != FIDO_OK)
		goto out;
	if (!rk && fido_assert_allow_cred(as, cf.id, cf.idlen) != FIDO_OK)
		goto out;
	if (strcmp(arg("up", "1"), "0") == 0 &&
	    fido_assert_set_up(as, FIDO_OPT_FALSE) != FIDO_OK)
		goto out;
	if (strcmp(arg("uv", "0"), "1") == 0 &&
	    fido_assert_set_uv(as, FIDO_OPT_TRUE) != FIDO_OK)
		goto out;
	if (cancel != NULL) {
		canc.dev = dev;
		canc.ms = atoi(cancel);
		if (pthread_create(&th, NULL, cancel_thread, &canc) != 0)
			goto out;
		threaded = 1;
	}
	r = fido_dev_get_assert(dev, as, arg("pin", NULL));
	if (threaded)
		pthread_join(th, NULL);
	if (r != FIDO_OK) {
		ret = fail("getAssertion", r);
		goto out;
	}
	for (i = 0; i < fido_assert_count(as); i++) {
		if (!rk && (r = verify(as, i, &cf)) != FIDO_OK) {
			ret = fail("verify", r);
			goto out;
		}
		printf("assertion %zu: flags=0x%02x sigcount=%u user=%s\n", i,
		    fido_assert_flags(as, i), fido_assert_sigcount(as, i),
		    fido_assert_user_name(as, i) != NULL ?
		    fido_assert_user_name(as, i) : "-");
	}
	printf("ok count=%zu flags=0x%02x sigcount=%u\n", fido_assert_count(as),
	    fido_assert_flags(as, 0), fido_assert_sigcount(as, 0));
	ret = 0;
 out:
	fido_assert_free(&as);
	return ret;
}

static int
cmd_list(fido_dev_t *dev)
{
	fido_credman_metadata_t *md = NULL;
	fido_credman_rp_t *rp = NULL;
	fido_credman_rk_t *rk = NULL;
	const fido_cred_t *c;
	const char *pin = arg("pin", NULL);
	size_t i, j;
	int r, ret = 1;

	if ((md = fido_credman_metadata_new()) == NULL ||
	    (rp = fido_credman_rp_new()) == NULL)
		goto out;
	if ((r = fido_credman_get_dev_metadata(dev, md, pin)) != FIDO_OK) {
		ret = fail("metadata", r);
		goto out;
	}
	printf("existing=%llu remaining=%llu\n",
	    (unsigned long long)fido_credman_rk_existing(md),
	    (unsigned long long)fido_credman_rk_remaining(md));
	if (fido_credman_rk_existing(md) == 0) {
		printf("ok rps=0\n");
		ret = 0;
		goto out;
	}
	if ((r = fido_credman_get_dev_rp(dev, rp, pin)) != FIDO_OK) {
		ret = fail("rps", r);
		goto out;
	}
	for (i = 0; i < fido_credman_rp_count(rp); i++) {
		printf("rp %s\n", fido_credman_rp_id(rp, i));
		fido_credman_rk_free(&rk);
		if ((rk = fido_credman_rk_new()) == NULL)
			goto out;
		if ((r = fido_credman_get_dev_rk(dev,
		    fido_credman_rp_id(rp, i), rk, pin)) != FIDO_OK) {
			ret = fail("rks", r);
			goto out;
		}
		for (j = 0; j < fido_credman_rk_count(rk); j++) {
			c = fido_credman_rk(rk, j);
			printf("cred rp=%s user=%s type=%d prot=%d id=",
			    fido_credman_rp_id(rp, i),
			    fido_cred_user_name(c) ? fido_cred_user_name(c) :
			    "-", fido_cred_type(c), fido_cred_prot(c));
			hex(stdout, fido_cred_id_ptr(c),
			    fido_cred_id_len(c) > 8 ? 8 : fido_cred_id_len(c));
			printf("\n");
		}
	}
	printf("ok rps=%zu\n", fido_credman_rp_count(rp));
	ret = 0;
 out:
	fido_credman_metadata_free(&md);
	fido_credman_rp_free(&rp);
	fido_credman_rk_free(&rk);
	return ret;
}

static int
cmd_delete(fido_dev_t *dev)
{
	struct credfile cf;
	const char *credpath = arg("cred", NULL);
	int r;

	if (credpath == NULL || read_cred(credpath, &cf) != 0)
		return 2;
	if ((r = fido_credman_del_dev_rk(dev, cf.id, cf.idlen,
	    arg("pin", NULL))) != FIDO_OK)
		return fail("delete", r);
	printf("ok\n");
	return 0;
}

static int
cmd_pin(fido_dev_t *dev, int change)
{
	const char *pin = arg("pin", NULL), *newpin = arg("new", NULL);
	int r;

	if (pin == NULL || (change && newpin == NULL))
		return 2;
	if (change)
		r = fido_dev_set_pin(dev, newpin, pin);
	else
		r = fido_dev_set_pin(dev, pin, NULL);
	if (r != FIDO_OK)
		return fail(change ? "changePIN" : "setPIN", r);
	printf("ok\n");
	return 0;
}

static int
cmd_retries(fido_dev_t *dev)
{
	int n = -1, r;

	if ((r = fido_dev_get_retry_count(dev, &n)) != FIDO_OK)
		return fail("retries", r);
	printf("ok retries=%d\n", n);
	return 0;
}

static int
cmd_reset(fido_dev_t *dev)
{
	int r;

	if ((r = fido_dev_reset(dev)) != FIDO_OK)
		return fail("reset", r);
	printf("ok\n");
	return 0;
}

static int
connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
cmd_ctl(const char *path, int argc, char **argv)
{
	char line[8192];
	size_t off;
	ssize_t n;
	int i, fd;

	if ((fd = connect_unix(path)) == -1) {
		printf("error: connect %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (i = 0; i < argc; i++) {
		if (dprintf(fd, "%s\n", argv[i]) < 0)
			return 1;
		for (off = 0; off < sizeof(line) - 1; off++) {
			if ((n = read(fd, line + off, 1)) != 1)
				return 1;
			if (line[off] == '\n')
				break;
		}
		line[off] = '\0';
		printf("%s\n", line);
	}
	close(fd);
	return 0;
}

/* --- raw CTAPHID checks ------------------------------------------------ */

static int frames_failed;

static void
check(int ok, const char *what)
{
	printf("%s %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		frames_failed = 1;
}

static int
raw_send(int fd, const u_char rep[64])
{
	return write(fd, rep, 64) == 64 ? 0 : -1;
}

/* Next report that is not a KEEPALIVE; -1 on timeout. */
static int
raw_recv(int fd, u_char rep[64], int ms)
{
	struct pollfd pfd;
	size_t off = 0;
	ssize_t n;

	for (;;) {
		while (off < 64) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, ms) != 1)
				return -1;
			if ((n = read(fd, rep + off, 64 - off)) <= 0)
				return -1;
			off += (size_t)n;
		}
		if (rep[4] != (0x80 | 0x3b))
			return 0;
		off = 0;
	}
}

static void
mkinit(u_char rep[64], uint32_t cid, uint8_t cmd, size_t len)
{
	memset(rep, 0, 64);
	rep[0] = (u_char)(cid >> 24);
	rep[1] = (u_char)(cid >> 16);
	rep[2] = (u_char)(cid >> 8);
	rep[3] = (u_char)cid;
	rep[4] = 0x80 | cmd;
	rep[5] = (u_char)(len >> 8);
	rep[6] = (u_char)len;
}

static uint32_t
rcid(const u_char *rep)
{
	return (uint32_t)rep[0] << 24 | (uint32_t)rep[1] << 16 |
	    (uint32_t)rep[2] << 8 | rep[3];
}

static int
is_error(const u_char rep[64], uint32_t cid, uint8_t code)
{
	return rcid(rep) == cid && rep[4] == (0x80 | 0x3f) && rep[5] == 0 &&
	    rep[6] == 1 && rep[7] == code;
}

static int
cmd_frames(const char *path)
{
	u_char rep[64], nonce[8], big[200];
	uint32_t cid, cid2;
	size_t i, got;
	int fd, ok;

	if ((fd = connect_unix(path)) == -1) {
		printf("error: connect %s\n", path);
		return 1;
	}
	/* INIT on broadcast */
	memcpy(nonce, "nonce123", 8);
	mkinit(rep, 0xffffffff, 0x06, 8);
	memcpy(rep + 7, nonce, 8);
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    rcid(rep) == 0xffffffff && rep[4] == 0x86 && rep[6] == 17 &&
	    memcmp(rep + 7, nonce, 8) == 0 && (rep[7 + 16] & 0x04);
	check(ok, "init allocates a channel, echoes the nonce, caps CBOR");
	cid = rcid(rep + 15);
	check(cid != 0 && cid != 0xffffffff, "channel id is usable");
	/* second channel */
	mkinit(rep, 0xffffffff, 0x06, 8);
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0;
	cid2 = rcid(rep + 15);
	check(ok && cid2 != cid, "a second channel differs");
	/* multi-packet PING echo */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (u_char)i;
	mkinit(rep, cid, 0x01, sizeof(big));
	memcpy(rep + 7, big, 57);
	ok = raw_send(fd, rep) == 0;
	for (got = 57, i = 0; got < sizeof(big); i++) {
		memset(rep, 0, 64);
		rep[0] = (u_char)(cid >> 24);
		rep[1] = (u_char)(cid >> 16);
		rep[2] = (u_char)(cid >> 8);
		rep[3] = (u_char)cid;
		rep[4] = (u_char)i;
		memcpy(rep + 5, big + got, sizeof(big) - got > 59 ? 59 :
		    sizeof(big) - got);
		got += 59;
		ok = ok && raw_send(fd, rep) == 0;
	}
	ok = ok && raw_recv(fd, rep, 2000) == 0 && rep[4] == 0x81 &&
	    rep[5] == 0 && rep[6] == sizeof(big) &&
	    memcmp(rep + 7, big, 57) == 0;
	for (got = 57, i = 0; ok && got < sizeof(big); i++) {
		ok = raw_recv(fd, rep, 2000) == 0 && rep[4] == i &&
		    memcmp(rep + 5, big + got, sizeof(big) - got > 59 ? 59 :
		    sizeof(big) - got) == 0;
		got += 59;
	}
	check(ok, "multi-packet ping echoes");
	/* bad sequence */
	mkinit(rep, cid, 0x01, 100);
	ok = raw_send(fd, rep) == 0;
	memset(rep, 0, 64);
	rep[0] = (u_char)(cid >> 24);
	rep[1] = (u_char)(cid >> 16);
	rep[2] = (u_char)(cid >> 8);
	rep[3] = (u_char)cid;
	rep[4] = 5;
	ok = ok && raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    is_error(rep, cid, 0x04);
	check(ok, "wrong sequence number: ERR_INVALID_SEQ");
	/* unknown channel */
	mkinit(rep, 0x12345678, 0x01, 0);
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    is_error(rep, 0x12345678, 0x0b);
	check(ok, "unallocated channel: ERR_INVALID_CHANNEL");
	/* channel 0 */
	mkinit(rep, 0, 0x01, 0);
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    is_error(rep, 0, 0x0b);
	check(ok, "channel 0: ERR_INVALID_CHANNEL");
	/* oversize */
	mkinit(rep, cid, 0x10, 7610);
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    is_error(rep, cid, 0x03);
	check(ok, "oversize message: ERR_INVALID_LEN");
	/* bad INIT length */
	mkinit(rep, 0xffffffff, 0x06, 7);
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    is_error(rep, 0xffffffff, 0x03);
	check(ok, "init of 7 bytes: ERR_INVALID_LEN");
	/* unknown command */
	mkinit(rep, cid, 0x22, 0);
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    is_error(rep, cid, 0x01);
	check(ok, "unknown command: ERR_INVALID_CMD");
	/* busy: another channel starts while one assembles */
	mkinit(rep, cid, 0x01, 100);
	ok = raw_send(fd, rep) == 0;
	mkinit(rep, cid2, 0x01, 1);
	ok = ok && raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    is_error(rep, cid2, 0x06);
	check(ok, "second channel while assembling: ERR_CHANNEL_BUSY");
	/* half-sent message times out */
	ok = raw_recv(fd, rep, 2000) == 0 && is_error(rep, cid, 0x05);
	check(ok, "half-sent message: ERR_MSG_TIMEOUT");
	/* WINK */
	mkinit(rep, cid, 0x08, 0);
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    rep[4] == 0x88 && rep[6] == 0;
	check(ok, "wink answered");
	/* U2F MSG: not offered (CAPS has NMSG) */
	mkinit(rep, cid, 0x03, 7);
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    is_error(rep, cid, 0x01);
	check(ok, "U2F message: ERR_INVALID_CMD");
	/* bad CBOR */
	mkinit(rep, cid, 0x10, 3);
	rep[7] = 0x01;
	rep[8] = 0xa1;	/* map of 1, truncated */
	rep[9] = 0x01;
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    rep[4] == 0x90 && rep[6] == 1 && rep[7] == 0x12;
	check(ok, "truncated CBOR: CTAP2_ERR_INVALID_CBOR");
	/* unknown CTAP2 command */
	mkinit(rep, cid, 0x10, 1);
	rep[7] = 0x55;
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    rep[4] == 0x90 && rep[6] == 1 && rep[7] == 0x01;
	check(ok, "unknown CTAP2 command: CTAP1_ERR_INVALID_COMMAND");
	/* empty CBOR message */
	mkinit(rep, cid, 0x10, 0);
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    rep[4] == 0x90 && rep[6] == 1 && rep[7] == 0x03;
	check(ok, "empty CBOR message: CTAP1_ERR_INVALID_LENGTH");
	/* getInfo with trailing bytes */
	mkinit(rep, cid, 0x10, 2);
	rep[7] = 0x04;
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    rep[4] == 0x90 && rep[7] != 0;
	check(ok, "getInfo with parameters refused");
	/* makeCredential with wrong types */
	mkinit(rep, cid, 0x10, 4);
	rep[7] = 0x01;
	rep[8] = 0xa1;
	rep[9] = 0x01;
	rep[10] = 0x05;		/* clientDataHash: 5, not bytes */
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    rep[4] == 0x90 && rep[7] == 0x11;
	check(ok, "wrong CBOR type: CTAP2_ERR_CBOR_UNEXPECTED_TYPE");
	/* still alive: getInfo */
	mkinit(rep, cid, 0x10, 1);
	rep[7] = 0x04;
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    rep[4] == 0x90 && rep[7] == 0x00;
	check(ok, "getInfo still answered");
	close(fd);
	/* random garbage, then a connection cut mid-report */
	if ((fd = connect_unix(path)) != -1) {
		for (i = 0; i < 64; i++) {
			RAND_bytes(rep, sizeof(rep));
			if (write(fd, rep, sizeof(rep)) != sizeof(rep))
				break;
		}
		close(fd);
	}
	if ((fd = connect_unix(path)) != -1) {
		mkinit(rep, 0xffffffff, 0x06, 8);
		ok = write(fd, rep, 30) == 30;
		close(fd);
	}
	if ((fd = connect_unix(path)) == -1)
		return 1;
	mkinit(rep, 0xffffffff, 0x06, 8);
	ok = raw_send(fd, rep) == 0 && raw_recv(fd, rep, 2000) == 0 &&
	    rep[4] == 0x86;
	check(ok, "survives garbage and cut connections");
	close(fd);
	return frames_failed;
}

int
main(int argc, char **argv)
{
	fido_dev_t *dev = NULL;
	const char *cmd;
	int ret = 2;

	if (argc < 3) {
		fprintf(stderr, "usage: fidotool CMD DEV [key=value...]\n");
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "ctl") == 0)
		return cmd_ctl(argv[2], argc - 3, argv + 3);
	if (strcmp(cmd, "frames") == 0)
		return cmd_frames(argv[2]);
	nargs = argc - 3;
	args = argv + 3;
	fido_init(getenv("FIDO_DEBUG") != NULL ? FIDO_DEBUG : 0);
	if (open_dev(argv[2], &dev) != 0)
		return 1;
	if (strcmp(cmd, "info") == 0)
		ret = cmd_info(dev);
	else if (strcmp(cmd, "make") == 0)
		ret = cmd_make(dev);
	else if (strcmp(cmd, "assert") == 0)
		ret = cmd_assert(dev, 0);
	else if (strcmp(cmd, "assert-rk") == 0)
		ret = cmd_assert(dev, 1);
	else if (strcmp(cmd, "list") == 0)
		ret = cmd_list(dev);
	else if (strcmp(cmd, "delete") == 0)
		ret = cmd_delete(dev);
	else if (strcmp(cmd, "setpin") == 0)
		ret = cmd_pin(dev, 0);
	else if (strcmp(cmd, "changepin") == 0)
		ret = cmd_pin(dev, 1);
	else if (strcmp(cmd, "retries") == 0)
		ret = cmd_retries(dev);
	else if (strcmp(cmd, "reset") == 0)
		ret = cmd_reset(dev);
	if (ret == 2)
		fprintf(stderr, "fidotool: bad command or arguments\n");
	close_dev(&dev);
	return ret;
}
