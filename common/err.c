/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Text for the one error space. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "common/err.h"

static const char *const err_text[] = {
	"success",
	"unexpected internal error",
	"memory allocation failed",
	"message incomplete",
	"invalid format",
	"trailing data after message",
	"no buffer space",
	"string too large",
	"bignum too large",
	"invalid argument",
	"system error",
	"error in libcrypto",
	"unknown or unsupported key type",
	"key type does not match",
	"invalid key",
	"signature invalid",
	"key not found",
	"agent is locked",
	"confirmation denied",
	"refused by key constraint",
	"feature not supported",
	"token not present",
	"token timed out",
	"touch denied on token",
	"PIN required",
	"incorrect PIN",
	"PIN blocked",
	"helper process died",
	"operation cancelled",
	"timed out",
	"provider refused",
	"token reported an error",
	"software keys are disabled in this agent",
	"certificate does not match key",
	"invalid certificate",
	"protocol error from peer",
};

const char *
tok_strerror(int r)
{
	if (r == TOK_ERR_SYSTEM)
		return strerror(errno);
	if (r > 0 || r < TOK_ERR_LAST)
		return "unknown error code";
	return err_text[-r];
}
