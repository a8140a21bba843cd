/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Inside the PIV layer: what token/piv.c (reading and signing) and
 * token/piv-admin.c (the set-up command's administration) share.  Not for
 * other files: they use token/piv.h.
 */
#ifndef TOKEN_PIV_IMPL_H
#define TOKEN_PIV_IMPL_H

#include <sys/types.h>
#include <stddef.h>

struct buf;
struct card_ops;
struct key;

#define INS_VERIFY		0x20
#define INS_GENERAL_AUTH	0x87
#define INS_SELECT		0xa4
#define INS_GET_RESPONSE	0xc0
#define INS_GET_DATA		0xcb
#define INS_YK_METADATA		0xf7
#define INS_YK_SERIAL		0xf8
#define INS_YK_VERSION		0xfd

#define SW_OK			0x9000
#define SW_SECURITY		0x6982
#define SW_BLOCKED		0x6983
#define SW_NOT_FOUND		0x6a82
#define SW_REF_NOT_FOUND	0x6a88
#define SW_INS_UNSUPPORTED	0x6d00
#define SW_CLA_UNSUPPORTED	0x6e00

#define PIV_PIN_MIN		6
#define PIV_PIN_MAX		8

struct piv {
	const struct card_ops	*ops;
	void			*io;
	char			*pin;		/* secure memory; NULL: none */
	int			 lazy;		/* piv_set_lazy_select */
	int			 selected;	/* PIV selected by our last one */
	int			 held;		/* in a piv_hold transaction */
};

/* Administration (token/piv-admin.c). */
#define INS_CHANGE_REF		0x24
#define INS_GENERATE		0x47
#define INS_PUT_DATA		0xdb
#define INS_YK_SET_MGMT		0xff

/* piv_transceive: one command (chained, GET RESPONSE followed); *swp. */
int piv_transceive(struct piv *piv, u_int ins, u_int p1, u_int p2,
    const u_char *data, size_t dlen, struct buf *resp, int *swp);
/* piv_command: piv_transceive in a transaction with PIV selected. */
int piv_command(struct piv *piv, u_int ins, u_int p1, u_int p2,
    const u_char *data, size_t dlen, struct buf *resp, int *swp);
/* piv_sw_err: a status word as TOK_ERR_*. */
int piv_sw_err(int sw);
/* piv_begin / piv_end: a transaction with PIV selected, and its end. */
int piv_begin(struct piv *piv);
void piv_end(struct piv *piv);
/* piv_tlv_only: the value of the one TLV of tag want that p holds. */
int piv_tlv_only(const u_char *p, size_t len, u_int want, const u_char **valp,
    size_t *lenp);
/* piv_put_tlv: append tag, BER length and value to b. */
int piv_put_tlv(struct buf *b, u_int tag, const u_char *v, size_t len);
/* piv_parse_pubkey: a public key object (7F49) of algorithm alg. */
int piv_parse_pubkey(int alg, const u_char *p, size_t len, struct key **keyp);

#endif /* TOKEN_PIV_IMPL_H */
