/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The OpenSSH SecurityKeyProvider middleware ABI, version 0x000a0000
 * (OpenSSH 8.9 .. 9.x), written from the published interface.  ssh,
 * ssh-keygen, ssh-add and ssh-sk-helper dlopen() a module exporting these
 * four functions.  Every structure returned to the caller is allocated
 * with malloc(3) family functions; the caller releases it with free(3).
 */
#ifndef SK_SK_API_H
#define SK_SK_API_H

#include <stddef.h>
#include <stdint.h>

/* Flags */
#define SSH_SK_USER_PRESENCE_REQD	0x01
#define SSH_SK_USER_VERIFICATION_REQD	0x04
#define SSH_SK_FORCE_OPERATION		0x10
#define SSH_SK_RESIDENT_KEY		0x20

/* Algorithms */
#define SSH_SK_ECDSA			0x00
#define SSH_SK_ED25519			0x01

/* Error codes */
#define SSH_SK_ERR_GENERAL		-1
#define SSH_SK_ERR_UNSUPPORTED		-2
#define SSH_SK_ERR_PIN_REQUIRED		-3
#define SSH_SK_ERR_DEVICE_NOT_FOUND	-4
#define SSH_SK_ERR_CREDENTIAL_EXISTS	-5

struct sk_enroll_response {
	uint8_t flags;
	uint8_t *public_key;
	size_t public_key_len;
	uint8_t *key_handle;
	size_t key_handle_len;
	uint8_t *signature;
	size_t signature_len;
	uint8_t *attestation_cert;
	size_t attestation_cert_len;
	uint8_t *authdata;
	size_t authdata_len;
};

struct sk_sign_response {
	uint8_t flags;
	uint32_t counter;
	uint8_t *sig_r;
	size_t sig_r_len;
	uint8_t *sig_s;
	size_t sig_s_len;
};

struct sk_resident_key {
	uint32_t alg;
	size_t slot;
	char *application;
	struct sk_enroll_response key;
	uint8_t flags;
	uint8_t *user_id;
	size_t user_id_len;
};

struct sk_option {
	char *name;
	char *value;
	uint8_t required;
};

#define SSH_SK_VERSION_MAJOR		0x000a0000 /* current API version */
#define SSH_SK_VERSION_MAJOR_MASK	0xffff0000

/* sk_api_version: the ABI version implemented (SSH_SK_VERSION_MAJOR). */
uint32_t sk_api_version(void);

/*
 * sk_enroll: create a credential for application on a token.  challenge
 * is the client data (hashed by the middleware).  options is a
 * NULL-terminated array ("device", "user") and may be NULL.  On success
 * returns 0 and a new response in *enroll_response (caller frees every
 * member and the struct); otherwise an SSH_SK_ERR_* code.
 */
int sk_enroll(uint32_t alg, const uint8_t *challenge, size_t challenge_len,
    const char *application, uint8_t flags, const char *pin,
    struct sk_option **options, struct sk_enroll_response **enroll_response);

/*
 * sk_sign: sign data (the raw message; its SHA-256 is the client data
 * hash) with the credential key_handle of application.  On success returns
 * 0 and a new response in *sign_response (caller frees); otherwise an
 * SSH_SK_ERR_* code.
 */
int sk_sign(uint32_t alg, const uint8_t *data, size_t data_len,
    const char *application, const uint8_t *key_handle, size_t key_handle_len,
    uint8_t flags, const char *pin, struct sk_option **options,
    struct sk_sign_response **sign_response);

/*
 * sk_load_resident_keys: every resident credential whose application
 * starts with "ssh:".  On success returns 0, a new array of *nrks new keys
 * in *rks (caller frees each key's members, each key and the array).
 */
int sk_load_resident_keys(const char *pin, struct sk_option **options,
    struct sk_resident_key ***rks, size_t *nrks);

#endif /* SK_SK_API_H */
