/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * One error space for all of tokagent.  0 is success; every failure is a
 * negative TOK_ERR_* value.  Foreign codes (FIDO_ERR_*, CKR_*, SCARD_*,
 * OpenSSL) are translated into these once, by the module that calls the
 * foreign library.  The values travel between processes over IPC, so they
 * never change meaning; add new ones at the end.
 */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

#define TOK_ERR_SUCCESS			0
#define TOK_ERR_INTERNAL		-1
#define TOK_ERR_ALLOC			-2
#define TOK_ERR_MESSAGE_INCOMPLETE	-3
#define TOK_ERR_INVALID_FORMAT		-4
#define TOK_ERR_TRAILING_DATA		-5
#define TOK_ERR_NO_BUFFER_SPACE		-6
#define TOK_ERR_STRING_TOO_LARGE	-7
#define TOK_ERR_BIGNUM_TOO_LARGE	-8
#define TOK_ERR_INVALID_ARGUMENT	-9
#define TOK_ERR_SYSTEM			-10	/* see errno */
#define TOK_ERR_LIBCRYPTO		-11
#define TOK_ERR_KEY_TYPE_UNKNOWN	-12
#define TOK_ERR_KEY_TYPE_MISMATCH	-13
#define TOK_ERR_KEY_INVALID		-14
#define TOK_ERR_SIGNATURE_INVALID	-15
#define TOK_ERR_KEY_NOT_FOUND		-16
#define TOK_ERR_AGENT_LOCKED		-17
#define TOK_ERR_CONFIRM_DENIED		-18
#define TOK_ERR_CONSTRAINT_REFUSED	-19
#define TOK_ERR_FEATURE_UNSUPPORTED	-20
#define TOK_ERR_DEVICE_NOT_PRESENT	-21
#define TOK_ERR_DEVICE_TIMEOUT		-22
#define TOK_ERR_TOUCH_DENIED		-23
#define TOK_ERR_PIN_REQUIRED		-24
#define TOK_ERR_PIN_INVALID		-25
#define TOK_ERR_PIN_BLOCKED		-26
#define TOK_ERR_HELPER_DIED		-27
#define TOK_ERR_CANCELLED		-28
#define TOK_ERR_TIMEOUT			-29
#define TOK_ERR_PROVIDER_REFUSED	-30
#define TOK_ERR_DEVICE			-31	/* the token said no */
#define TOK_ERR_SOFTWARE_KEYS_OFF	-32
#define TOK_ERR_KEY_CERT_MISMATCH	-33
#define TOK_ERR_CERT_INVALID		-34
#define TOK_ERR_PROTOCOL		-35	/* peer broke the protocol */
#define TOK_ERR_LAST			-35

/* On every fallible call that returns one of these codes. */
#define TOK_WUR	__attribute__((warn_unused_result))

/*
 * tok_strerror: text for an error code.  Never returns NULL; the string is
 * static.  TOK_ERR_SYSTEM includes strerror(errno) as of the call.
 */
const char *tok_strerror(int r);

#endif /* COMMON_ERR_H */
