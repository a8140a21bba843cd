/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * piv-probe: token/piv.c over pcsc-lite, driven from shell tests against
 * vcard (or a real card).
 *
 *   piv-probe [-r READER] info
 *	version, serial, PIN tries, then per slot with a key or a
 *	certificate: "slot SS alg AA pin P touch T origin O" and the public
 *	key line(s) "key SS <ssh key>" (metadata) / "cert SS <ssh key>"
 *   piv-probe [-r READER] verify PIN
 *	"ok", "wrong N" (tries left) or "blocked"
 *   piv-probe [-r READER] sign SLOT PIN FILE [CMD]
 *	verify PIN, sign FILE with the slot's key (from its certificate) as
 *	the SSH agent would (RSA: rsa-sha2-256), check the signature with
 *	the public key; then, when CMD is given, run it (another program
 *	using the card) and sign again without giving the PIN.  Prints
 *	"sign ok" per signature, or the error.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/log.h"
#include "token/piv.h"
#include "token/piv-pcsc.h"

#define SSH_AGENT_RSA_SHA2_256	0x02

static void
usage(void)
{
	fprintf(stderr, "usage: piv-probe [-d] [-r READER] info | verify PIN |"
	    " sign SLOT PIN FILE [CMD]\n");
	exit(2);
}

static void
print_key(const char *what, int slot, const struct key *k)
{
	char *line = NULL;

	if (key_to_line(k, NULL, &line) != 0)
		fatal_f("key line");
	printf("%s %02x %s\n", what, slot, line);
	free(line);
}

static int
cmd_info(struct piv *piv)
{
	struct piv_metadata md;
	struct key *k = NULL;
	u_char v[3], *der = NULL;
	size_t len;
	uint32_t serial;
	int r, slot, verified, tries;

	memset(&md, 0, sizeof(md));
	if ((r = piv_select(piv)) != 0)
		return r;
	if ((r = piv_yk_version(piv, v)) != 0 ||
	    (r = piv_yk_serial(piv, &serial)) != 0)
		return r;
	printf("version %u.%u.%u\nserial %u\n", v[0], v[1], v[2], serial);
	if ((r = piv_pin_status(piv, &verified, &tries)) != 0)
		return r;
	printf("pin %s tries %d\n", verified ? "verified" : "unverified",
	    tries);
	if ((r = piv_yk_metadata(piv, 0x80, &md)) != 0)
		return r;
	printf("pin-metadata tries %d/%d default %d\n", md.tries_left,
	    md.tries_total, md.is_default);
	piv_metadata_clear(&md);
	for (slot = 0x80; slot <= 0xff; slot++) {
		if (piv_cert_tag(slot) == 0)
			continue;
		r = piv_yk_metadata(piv, slot, &md);
		if (r == 0) {
			printf("slot %02x alg %02x pin %d touch %d origin %d\n",
			    slot, md.alg, md.pin_policy, md.touch_policy,
			    md.origin);
			if (md.pubkey != NULL)
				print_key("key", slot, md.pubkey);
			piv_metadata_clear(&md);
		} else if (r != TOK_ERR_KEY_NOT_FOUND)
			return r;
		r = piv_read_cert(piv, slot, &der, &len, &k);
		if (r == 0) {
			print_key("cert", slot, k);
			key_free(k);
			k = NULL;
			free(der);
			der = NULL;
		} else if (r != TOK_ERR_KEY_NOT_FOUND)
			return r;
	}
	return 0;
}

static int
cmd_verify(struct piv *piv, const char *pin)
{
	int r, tries;

	r = piv_verify_pin(piv, pin, &tries);
	if (r == 0)
		printf("ok\n");
	else if (r == TOK_ERR_PIN_INVALID)
		printf("wrong %d\n", tries);
	else if (r == TOK_ERR_PIN_BLOCKED)
		printf("blocked\n");
	else
		return r;
	return 0;
}

static int
read_file(const char *path, struct buf *b)
{
	u_char tmp[4096];
	ssize_t n;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY)) < 0)
		return TOK_ERR_SYSTEM;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		if ((r = buf_put(b, tmp, n)) != 0)
			break;
	if (n < 0)
		r = TOK_ERR_SYSTEM;
	close(fd);
	return r;
}

static int
sign_once(struct piv *piv, int slot, const struct key *k, struct buf *data)
{
	struct buf *sig = NULL;
	int r;

	if ((sig = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = piv_sign_ssh(piv, slot, k, SSH_AGENT_RSA_SHA2_256,
	    buf_ptr(data), buf_len(data), sig)) != 0)
		goto out;
	if ((r = key_verify(k, buf_ptr(sig), buf_len(sig), buf_ptr(data),
	    buf_len(data), NULL)) != 0) {
		error_fr(r, "signature does not verify");
		goto out;
	}
	printf("sign ok\n");
	fflush(stdout);
 out:
	buf_free(sig);
	return r;
}

static int
cmd_sign(struct piv *piv, const char *slotarg, const char *pin,
    const char *path, const char *between)
{
	struct buf *data = NULL;
	struct key *k = NULL;
	u_char *der = NULL;
	size_t len;
	char *ep;
	long slot;
	int r, status;

	slot = strtol(slotarg, &ep, 16);
	if (*slotarg == '\0' || *ep != '\0' || slot < 0 || slot > 0xff)
		usage();
	if ((data = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = read_file(path, data)) != 0 ||
	    (r = piv_read_cert(piv, slot, &der, &len, &k)) != 0)
		goto out;
	if (strcmp(pin, "-") != 0 &&
	    (r = piv_verify_pin(piv, pin, NULL)) != 0)
		goto out;
	if ((r = sign_once(piv, slot, k, data)) != 0 || between == NULL)
		goto out;
	status = system(between);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fatal_f("\"%s\" failed", between);
	r = sign_once(piv, slot, k, data);
 out:
	free(der);
	key_free(k);
	buf_free(data);
	return r;
}

int
main(int argc, char **argv)
{
	struct piv_pcsc *pc = NULL;
	struct piv *piv = NULL;
	const char *reader = NULL;
	enum log_level level = LOG_LEVEL_INFO;
	int ch, r;

	log_init("piv-probe", level, 1);
	while ((ch = getopt(argc, argv, "dr:")) != -1) {
		switch (ch) {
		case 'd':
			level = LOG_LEVEL_DEBUG2;
			break;
		case 'r':
			reader = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	log_init("piv-probe", level, 1);
	if ((r = piv_pcsc_open(reader, &pc)) != 0 ||
	    (r = piv_open(&piv_pcsc_ops, pc, &piv)) != 0) {
		printf("error %s\n", tok_strerror(r));
		goto out;
	}
	if (strcmp(argv[0], "info") == 0 && argc == 1)
		r = cmd_info(piv);
	else if (strcmp(argv[0], "verify") == 0 && argc == 2)
		r = cmd_verify(piv, argv[1]);
	else if (strcmp(argv[0], "sign") == 0 && (argc == 4 || argc == 5))
		r = cmd_sign(piv, argv[1], argv[2], argv[3],
		    argc == 5 ? argv[4] : NULL);
	else
		usage();
	if (r != 0)
		printf("error %s\n", tok_strerror(r));
 out:
	piv_free(piv);
	piv_pcsc_close(pc);
	return r == 0 ? 0 : 1;
}
