/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * p11-shim: a PKCS#11 module for tests that forwards to a real module
 * (SoftHSM2) and lets a test pull the token out and plug it back in.
 *
 * Environment:
 *   P11_SHIM_TARGET	the real module (required)
 *   P11_SHIM_STATE	a file holding "absent" while the token is unplugged;
 *			anything else (or no file) means present.  New
 *			contents that still mean present (e.g. "present" ->
 *			"present again") are a quick unplug + replug.
 *   P11_SHIM_NO_EVENTS	when set, C_WaitForSlotEvent is not supported
 *
 * Unplugging hides every slot's token; plugging back in closes all the
 * real module's sessions first, so that old sessions are invalid and the
 * login is gone -- as with a real token.  C_WaitForSlotEvent reports each
 * change (blocking calls poll the state file every 20 ms).
 *
 * Built only for `make check`; never installed.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkcs/pkcs11.h"

static CK_FUNCTION_LIST *shim_real;
static CK_FUNCTION_LIST shim_list;
static pthread_mutex_t shim_lock = PTHREAD_MUTEX_INITIALIZER;
static char shim_last_state[32];
static unsigned long shim_gen, shim_seen_gen;
static volatile int shim_finalized;

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR);

/* shim_read_state: the state file's first line ("" when there is none). */
static void
shim_read_state(char *buf, size_t len)
{
	const char *path = getenv("P11_SHIM_STATE");
	FILE *f;

	buf[0] = '\0';
	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return;
	if (fgets(buf, (int)len, f) == NULL)
		buf[0] = '\0';
	fclose(f);
}

static int
shim_state_present(const char *state)
{
	return strncmp(state, "absent", 6) != 0;
}

static void
shim_close_all(void)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;

	if (shim_real->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return;
	for (i = 0; i < n && i < 64; i++)
		(void)shim_real->C_CloseAllSessions(slots[i]);
}

/* shim_present: the token state now; records (and acts on) transitions. */
static int
shim_present(void)
{
	char state[sizeof(shim_last_state)];
	int present;

	shim_read_state(state, sizeof(state));
	pthread_mutex_lock(&shim_lock);
	/*
	 * An empty file is a writer caught between truncating and writing
	 * (a shell's "echo present >FILE"): no news, not one more replug.
	 */
	if (state[0] == '\0')
		memcpy(state, shim_last_state, sizeof(state));
	present = shim_state_present(state);
	if (strcmp(state, shim_last_state) != 0) {
		if (present)
			shim_close_all();
		memcpy(shim_last_state, state, sizeof(state));
		shim_gen++;
	}
	pthread_mutex_unlock(&shim_lock);
	return present;
}

static CK_RV
shim_Initialize(CK_VOID_PTR args)
{
	shim_finalized = 0;
	shim_read_state(shim_last_state, sizeof(shim_last_state));
	return shim_real->C_Initialize(args);
}

static CK_RV
shim_Finalize(CK_VOID_PTR r)
{
	shim_finalized = 1;
	return shim_real->C_Finalize(r);
}

static CK_RV
shim_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR n)
{
	if (present && !shim_present()) {
		*n = 0;
		return CKR_OK;
	}
	return shim_real->C_GetSlotList(present, list, n);
}

static CK_RV
shim_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO *ti)
{
	if (!shim_present())
		return CKR_TOKEN_NOT_PRESENT;
	return shim_real->C_GetTokenInfo(slot, ti);
}

static CK_RV
shim_OpenSession(CK_SLOT_ID slot, CK_FLAGS fl, CK_VOID_PTR app,
    CK_NOTIFY notify, CK_SESSION_HANDLE_PTR s)
{
	if (!shim_present())
		return CKR_TOKEN_NOT_PRESENT;
	return shim_real->C_OpenSession(slot, fl, app, notify, s);
}

static CK_RV
shim_CloseSession(CK_SESSION_HANDLE s)
{
	if (!shim_present())
		return CKR_OK;
	return shim_real->C_CloseSession(s);
}

static CK_RV
shim_GetSessionInfo(CK_SESSION_HANDLE s, CK_SESSION_INFO *si)
{
	if (!shim_present())
		return CKR_DEVICE_REMOVED;
	return shim_real->C_GetSessionInfo(s, si);
}

static CK_RV
shim_Login(CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR_PTR pin,
    CK_ULONG len)
{
	if (!shim_present())
		return CKR_DEVICE_REMOVED;
	return shim_real->C_Login(s, u, pin, len);
}

static CK_RV
shim_Logout(CK_SESSION_HANDLE s)
{
	if (!shim_present())
		return CKR_DEVICE_REMOVED;
	return shim_real->C_Logout(s);
}

static CK_RV
shim_GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	if (!shim_present())
		return CKR_DEVICE_REMOVED;
	return shim_real->C_GetAttributeValue(s, o, t, n);
}

static CK_RV
shim_FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	if (!shim_present())
		return CKR_DEVICE_REMOVED;
	return shim_real->C_FindObjectsInit(s, t, n);
}

static CK_RV
shim_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	if (!shim_present())
		return CKR_DEVICE_REMOVED;
	return shim_real->C_SignInit(s, m, k);
}

static CK_RV
shim_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR sig,
    CK_ULONG_PTR sl)
{
	if (!shim_present())
		return CKR_DEVICE_REMOVED;
	return shim_real->C_Sign(s, d, dl, sig, sl);
}

static CK_RV
shim_WaitForSlotEvent(CK_FLAGS fl, CK_SLOT_ID_PTR slot, CK_VOID_PTR r)
{
	if (getenv("P11_SHIM_NO_EVENTS") != NULL)
		return CKR_FUNCTION_NOT_SUPPORTED;
	for (;;) {
		if (shim_finalized)
			return CKR_CRYPTOKI_NOT_INITIALIZED;
		(void)shim_present();
		pthread_mutex_lock(&shim_lock);
		if (shim_gen != shim_seen_gen) {
			shim_seen_gen = shim_gen;
			pthread_mutex_unlock(&shim_lock);
			*slot = 0;
			return CKR_OK;
		}
		pthread_mutex_unlock(&shim_lock);
		if ((fl & CKF_DONT_BLOCK) != 0)
			return CKR_NO_EVENT;
		usleep(20000);
	}
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR fl)
{
	CK_C_GetFunctionList getfl;
	const char *target = getenv("P11_SHIM_TARGET");
	void *dl;
	CK_RV rv;

	if (shim_real == NULL) {
		if (target == NULL || (dl = dlopen(target, RTLD_NOW)) == NULL)
			return CKR_GENERAL_ERROR;
		if ((getfl = (CK_C_GetFunctionList)dlsym(dl,
		    "C_GetFunctionList")) == NULL)
			return CKR_GENERAL_ERROR;
		if ((rv = getfl(&shim_real)) != CKR_OK)
			return rv;
		shim_list = *shim_real;
		shim_list.C_Initialize = shim_Initialize;
		shim_list.C_Finalize = shim_Finalize;
		shim_list.C_GetFunctionList = C_GetFunctionList;
		shim_list.C_GetSlotList = shim_GetSlotList;
		shim_list.C_GetTokenInfo = shim_GetTokenInfo;
		shim_list.C_OpenSession = shim_OpenSession;
		shim_list.C_CloseSession = shim_CloseSession;
		shim_list.C_GetSessionInfo = shim_GetSessionInfo;
		shim_list.C_Login = shim_Login;
		shim_list.C_Logout = shim_Logout;
		shim_list.C_GetAttributeValue = shim_GetAttributeValue;
		shim_list.C_FindObjectsInit = shim_FindObjectsInit;
		shim_list.C_SignInit = shim_SignInit;
		shim_list.C_Sign = shim_Sign;
		shim_list.C_WaitForSlotEvent = shim_WaitForSlotEvent;
	}
	*fl = &shim_list;
	return CKR_OK;
}
