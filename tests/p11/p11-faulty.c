/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * p11-faulty: a PKCS#11 module for tests that forwards every call to a real
 * module (SoftHSM2) and misbehaves in C_Sign on request, so that a test can
 * crash or slow down the p11 helper that loaded it.
 *
 * Environment (read at each C_Sign, so a test can change it live through
 * the file):
 *   P11_FAULTY_TARGET	the real module (required)
 *   P11_FAULTY_CTL	a file whose first line says what the next C_Sign
 *			does: "abort" -- abort() the process; "sleep N" --
 *			wait N seconds (0-60), then sign; anything else, or
 *			no file -- sign at once.
 *
 * Built only for `make check`; never installed.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkcs/pkcs11.h"

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR);

static CK_FUNCTION_LIST *faulty_real;
static CK_FUNCTION_LIST faulty_list;

/* faulty_sign_action: what the control file asks of this signature. */
static void
faulty_sign_action(void)
{
	const char *path = getenv("P11_FAULTY_CTL");
	char line[64];
	FILE *f;
	long secs;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	if (strncmp(line, "abort", 5) == 0)
		abort();
	if (strncmp(line, "sleep ", 6) == 0) {
		secs = strtol(line + 6, NULL, 10);
		if (secs > 0 && secs <= 60)
			sleep((unsigned int)secs);
	}
}

static CK_RV
faulty_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR sig,
    CK_ULONG_PTR sl)
{
	/* Only a real signature misbehaves, not a length query. */
	if (sig != NULL)
		faulty_sign_action();
	return faulty_real->C_Sign(s, d, dl, sig, sl);
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR flp)
{
	CK_C_GetFunctionList real_getfl;
	const char *target = getenv("P11_FAULTY_TARGET");
	void *dl;
	CK_RV rv;

	if (flp == NULL)
		return CKR_ARGUMENTS_BAD;
	if (faulty_real == NULL) {
		if (target == NULL || (dl = dlopen(target, RTLD_NOW)) == NULL)
			return CKR_GENERAL_ERROR;
		if ((real_getfl = (CK_C_GetFunctionList)dlsym(dl,
		    "C_GetFunctionList")) == NULL)
			return CKR_GENERAL_ERROR;
		if ((rv = real_getfl(&faulty_real)) != CKR_OK)
			return rv;
		faulty_list = *faulty_real;
		faulty_list.C_GetFunctionList = C_GetFunctionList;
		faulty_list.C_Sign = faulty_Sign;
	}
	*flp = &faulty_list;
	return CKR_OK;
}
