/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* token/piv.c's card over pcsc-lite (see piv-pcsc.h). */
#include "config.h"

#include <sys/types.h>
#include <stdlib.h>
#include <string.h>

#include <winscard.h>

#include "common/err.h"
#include "common/log.h"
#include "token/piv.h"
#include "token/piv-pcsc.h"

#define PCSC_READERS_MAX	(64 * 1024)

struct piv_pcsc {
	SCARDCONTEXT	 ctx;
	SCARDHANDLE	 card;
	DWORD		 proto;
	char		*reader;
	int		 have_ctx, have_card;
};

/* SCARD_* as TOK_ERR_*. */
static int
pcsc_err(LONG rv)
{
	switch (rv) {
	case SCARD_S_SUCCESS:
		return 0;
	case SCARD_E_NO_SMARTCARD:
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_READER_UNAVAILABLE:
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_NO_READERS_AVAILABLE:
		return TOK_ERR_DEVICE_NOT_PRESENT;
	case SCARD_E_NO_MEMORY:
		return TOK_ERR_ALLOC;
	case SCARD_E_TIMEOUT:
		return TOK_ERR_DEVICE_TIMEOUT;
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
		return TOK_ERR_DEVICE_NOT_PRESENT;
	}
	return TOK_ERR_DEVICE;
}

static int
pcsc_begin(void *io, int *resetp)
{
	struct piv_pcsc *pc = io;
	LONG rv;
	int tries;

	*resetp = 0;
	for (tries = 0; tries < 3; tries++) {
		rv = SCardBeginTransaction(pc->card);
		if (rv == SCARD_S_SUCCESS)
			return 0;
		if (rv != SCARD_W_RESET_CARD)
			break;
		/* Another program reset the card: its state is gone. */
		*resetp = 1;
		rv = SCardReconnect(pc->card, SCARD_SHARE_SHARED,
		    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, SCARD_LEAVE_CARD,
		    &pc->proto);
		if (rv != SCARD_S_SUCCESS)
			break;
	}
	debug_f("%s: %s", pc->reader, pcsc_stringify_error(rv));
	return pcsc_err(rv);
}

static void
pcsc_end(void *io)
{
	struct piv_pcsc *pc = io;
	LONG rv;

	if ((rv = SCardEndTransaction(pc->card, SCARD_LEAVE_CARD)) !=
	    SCARD_S_SUCCESS)
		debug_f("%s: %s", pc->reader, pcsc_stringify_error(rv));
}

static int
pcsc_transmit(void *io, const u_char *capdu, size_t clen, u_char *rapdu,
    size_t *rlenp)
{
	struct piv_pcsc *pc = io;
	const SCARD_IO_REQUEST *pci;
	DWORD rlen = *rlenp;
	LONG rv;

	pci = pc->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	rv = SCardTransmit(pc->card, pci, capdu, clen, NULL, rapdu, &rlen);
	if (rv != SCARD_S_SUCCESS) {
		*rlenp = 0;
		debug_f("%s: %s", pc->reader, pcsc_stringify_error(rv));
		return pcsc_err(rv);
	}
	if (rlen > *rlenp)
		return TOK_ERR_PROTOCOL;
	*rlenp = rlen;
	return 0;
}

const struct card_ops piv_pcsc_ops = {
	.begin = pcsc_begin,
	.end = pcsc_end,
	.transmit = pcsc_transmit,
};

void
piv_pcsc_close(struct piv_pcsc *pc)
{
	if (pc == NULL)
		return;
	if (pc->have_card)
		(void)SCardDisconnect(pc->card, SCARD_LEAVE_CARD);
	if (pc->have_ctx)
		(void)SCardReleaseContext(pc->ctx);
	free(pc->reader);
	free(pc);
}

const char *
piv_pcsc_reader(const struct piv_pcsc *pc)
{
	return pc->reader;
}

/* Connect to reader; TOK_ERR_DEVICE_NOT_PRESENT when it has no card. */
static int
pcsc_connect(struct piv_pcsc *pc, const char *reader)
{
	LONG rv;

	rv = SCardConnect(pc->ctx, reader, SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &pc->card, &pc->proto);
	if (rv != SCARD_S_SUCCESS)
		return pcsc_err(rv);
	pc->have_card = 1;
	if ((pc->reader = strdup(reader)) == NULL)
		return TOK_ERR_ALLOC;
	return 0;
}

int
piv_pcsc_open(const char *reader, struct piv_pcsc **pcp)
{
	struct piv_pcsc *pc = NULL;
	char *names = NULL, *n;
	DWORD len = 0;
	LONG rv;
	int r = TOK_ERR_INTERNAL;

	*pcp = NULL;
	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return TOK_ERR_ALLOC;
	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &pc->ctx)) != SCARD_S_SUCCESS) {
		r = pcsc_err(rv);
		goto out;
	}
	pc->have_ctx = 1;
	if (reader != NULL) {
		if ((r = pcsc_connect(pc, reader)) != 0)
			goto out;
	} else {
		if ((rv = SCardListReaders(pc->ctx, NULL, NULL, &len)) !=
		    SCARD_S_SUCCESS) {
			r = pcsc_err(rv);
			goto out;
		}
		if (len == 0 || len > PCSC_READERS_MAX) {
			r = TOK_ERR_DEVICE_NOT_PRESENT;
			goto out;
		}
		if ((names = calloc(1, len + 1)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		if ((rv = SCardListReaders(pc->ctx, NULL, names, &len)) !=
		    SCARD_S_SUCCESS) {
			r = pcsc_err(rv);
			goto out;
		}
		/* A multi-string: names, each NUL-terminated, then a NUL. */
		r = TOK_ERR_DEVICE_NOT_PRESENT;
		for (n = names; *n != '\0'; n += strlen(n) + 1) {
			if ((r = pcsc_connect(pc, n)) == 0 ||
			    r != TOK_ERR_DEVICE_NOT_PRESENT)
				break;
		}
		if (r != 0)
			goto out;
	}
	*pcp = pc;
	pc = NULL;
	r = 0;
 out:
	free(names);
	piv_pcsc_close(pc);
	return r;
}
