/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The card under token/piv.c, through pcsc-lite: a struct card_ops whose
 * io is a struct piv_pcsc.  The card is connected shared; transactions
 * are PC/SC transactions, ended leaving the card as it is; a reset by
 * another program is reported to the next begin (and reconnected).
 *
 * All functions returning int return 0 or a negative TOK_ERR_* code;
 * SCARD_* codes are translated here.
 */
#ifndef TOKEN_PIV_PCSC_H
#define TOKEN_PIV_PCSC_H

struct card_ops;
struct piv_pcsc;

/* The operations for piv_open, with a struct piv_pcsc as io. */
extern const struct card_ops piv_pcsc_ops;

/*
 * piv_pcsc_open: connect to the card in reader (NULL: the first reader
 * that holds a card).  TOK_ERR_DEVICE_NOT_PRESENT when there is none.
 * *pcp is the caller's (piv_pcsc_close).
 */
int piv_pcsc_open(const char *reader, struct piv_pcsc **pcp)
    __attribute__((warn_unused_result));
/* piv_pcsc_reader: the reader's name (valid while pc is). */
const char *piv_pcsc_reader(const struct piv_pcsc *pc);
/* piv_pcsc_close: disconnect, leaving the card as it is.  NULL is accepted. */
void piv_pcsc_close(struct piv_pcsc *pc);

#endif /* TOKEN_PIV_PCSC_H */
