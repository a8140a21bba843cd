/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Helper-protocol messages specific to the PIV helper
 * (token/piv-helper.c), in the 80-99 range common/ipc.h reserves for it.
 * IPC_SIGN, IPC_DROP_ALL and IPC_CANCEL work as for every helper.
 *
 * Cards are named by their reader (the "device") and described for
 * people by a card name ("YubiKey 5 #12345678"); keys are labelled
 * "<card name> PIV <slot>" ("YubiKey 5 #12345678 PIV 9a").
 *
 *   IPC_EVENT (id 0)  <- as common/ipc.h: every key of every PIV card
 *                      present, sent after each change (and once at start).
 *   IPC_SIGN          fails with TOK_ERR_PIN_REQUIRED when the slot needs
 *                      a PIN the helper does not have, TOK_ERR_PIN_INVALID
 *                      when the card refused it, TOK_ERR_PIN_BLOCKED when
 *                      the PIN is blocked; IPC_PIV_PIN_WANTED comes first.
 *                      TOK_ERR_DEVICE_NOT_PRESENT at once for a pulled card.
 *   IPC_PIV_PIN       -> string device, string pin  <- IPC_OK.  The PIN
 *                      for the next operation on that card; for slots
 *                      whose PIN policy is "once" (or unknown) it is then
 *                      kept, in locked memory, until the card is pulled or
 *                      IPC_PIV_FORGET; for "always" it is used once.
 *   IPC_PIV_FORGET    -> (empty)  <- IPC_OK.  Drop every cached PIN and
 *                      make the cards forget that they were verified.
 *   IPC_PIV_TOUCH     <- (id 0) uint32 request id, string device, string
 *                      card name, byte begin: the slot's touch policy
 *                      (always or cached) may make the card wait for a
 *                      touch for that request (1), or it no longer does (0).
 *   IPC_PIV_PIN_WANTED <- (id 0) uint32 request id, string device, string
 *                      card name, uint32 tries left (0xffffffff: unknown).
 *   IPC_PIV_REREAD    -> (empty)  <- IPC_OK.  Read every card again, as
 *                      if pulled and plugged in (after tokagent piv-setup
 *                      changed its slots and PIN); its IPC_EVENT comes
 *                      before the reply.
 *   IPC_PIV_PIN_KEPT  <- (id 0) string device, string card name, byte kept:
 *                      the helper now keeps that card's PIN (1), or no
 *                      longer does (0: pulled, forgotten, refused, reset).
 */
#ifndef TOKEN_PIV_IPC_H
#define TOKEN_PIV_IPC_H

enum piv_ipc_type {
	IPC_PIV_PIN = 80,
	IPC_PIV_FORGET = 81,
	IPC_PIV_TOUCH = 82,
	IPC_PIV_PIN_WANTED = 83,
	IPC_PIV_PIN_KEPT = 84,
	IPC_PIV_REREAD = 85,
};

#define PIV_IPC_RETRIES_UNKNOWN	0xffffffffU

#endif /* TOKEN_PIV_IPC_H */
