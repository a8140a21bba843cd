/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The subset of the PKCS#11 v2.40 (Cryptoki) interface that the p11 helper
 * needs, written from the OASIS specification.  Types and struct layouts
 * follow the spec's Unix conventions: CK_ULONG is unsigned long, default
 * packing, function pointers called with the platform's C convention.
 *
 * CK_FUNCTION_LIST lists every entry point in the specification's order, so
 * the table a module hands out lines up with ours; functions the helper
 * never calls are typed as P11_UNUSED_FN (a function pointer has the same
 * size and alignment whatever its prototype).
 */
#ifndef PKCS_PKCS11_H
#define PKCS_PKCS11_H

typedef unsigned char CK_BYTE;
typedef CK_BYTE CK_CHAR;
typedef CK_BYTE CK_UTF8CHAR;
typedef CK_BYTE CK_BBOOL;
typedef unsigned long CK_ULONG;
typedef long CK_LONG;
typedef CK_ULONG CK_FLAGS;
typedef CK_BYTE *CK_BYTE_PTR;
typedef CK_CHAR *CK_CHAR_PTR;
typedef CK_UTF8CHAR *CK_UTF8CHAR_PTR;
typedef CK_ULONG *CK_ULONG_PTR;
typedef void *CK_VOID_PTR;
typedef CK_VOID_PTR *CK_VOID_PTR_PTR;

typedef CK_ULONG CK_RV;
typedef CK_ULONG CK_SLOT_ID;
typedef CK_SLOT_ID *CK_SLOT_ID_PTR;
typedef CK_ULONG CK_SESSION_HANDLE;
typedef CK_SESSION_HANDLE *CK_SESSION_HANDLE_PTR;
typedef CK_ULONG CK_OBJECT_HANDLE;
typedef CK_OBJECT_HANDLE *CK_OBJECT_HANDLE_PTR;
typedef CK_ULONG CK_OBJECT_CLASS;
typedef CK_ULONG CK_KEY_TYPE;
typedef CK_ULONG CK_CERTIFICATE_TYPE;
typedef CK_ULONG CK_ATTRIBUTE_TYPE;
typedef CK_ULONG CK_MECHANISM_TYPE;
typedef CK_MECHANISM_TYPE *CK_MECHANISM_TYPE_PTR;
typedef CK_ULONG CK_USER_TYPE;
typedef CK_ULONG CK_STATE;
typedef CK_ULONG CK_NOTIFICATION;

#define CK_TRUE		1
#define CK_FALSE	0
#define CK_UNAVAILABLE_INFORMATION	(~0UL)
#define CK_EFFECTIVELY_INFINITE		0UL

typedef struct CK_VERSION {
	CK_BYTE major;
	CK_BYTE minor;
} CK_VERSION;

typedef struct CK_INFO {
	CK_VERSION cryptokiVersion;
	CK_UTF8CHAR manufacturerID[32];
	CK_FLAGS flags;
	CK_UTF8CHAR libraryDescription[32];
	CK_VERSION libraryVersion;
} CK_INFO;

typedef struct CK_SLOT_INFO {
	CK_UTF8CHAR slotDescription[64];
	CK_UTF8CHAR manufacturerID[32];
	CK_FLAGS flags;
	CK_VERSION hardwareVersion;
	CK_VERSION firmwareVersion;
} CK_SLOT_INFO;

typedef struct CK_TOKEN_INFO {
	CK_UTF8CHAR label[32];
	CK_UTF8CHAR manufacturerID[32];
	CK_UTF8CHAR model[16];
	CK_CHAR serialNumber[16];
	CK_FLAGS flags;
	CK_ULONG ulMaxSessionCount;
	CK_ULONG ulSessionCount;
	CK_ULONG ulMaxRwSessionCount;
	CK_ULONG ulRwSessionCount;
	CK_ULONG ulMaxPinLen;
	CK_ULONG ulMinPinLen;
	CK_ULONG ulTotalPublicMemory;
	CK_ULONG ulFreePublicMemory;
	CK_ULONG ulTotalPrivateMemory;
	CK_ULONG ulFreePrivateMemory;
	CK_VERSION hardwareVersion;
	CK_VERSION firmwareVersion;
	CK_CHAR utcTime[16];
} CK_TOKEN_INFO;

typedef struct CK_SESSION_INFO {
	CK_SLOT_ID slotID;
	CK_STATE state;
	CK_FLAGS flags;
	CK_ULONG ulDeviceError;
} CK_SESSION_INFO;

typedef struct CK_ATTRIBUTE {
	CK_ATTRIBUTE_TYPE type;
	CK_VOID_PTR pValue;
	CK_ULONG ulValueLen;
} CK_ATTRIBUTE;
typedef CK_ATTRIBUTE *CK_ATTRIBUTE_PTR;

typedef struct CK_MECHANISM {
	CK_MECHANISM_TYPE mechanism;
	CK_VOID_PTR pParameter;
	CK_ULONG ulParameterLen;
} CK_MECHANISM;
typedef CK_MECHANISM *CK_MECHANISM_PTR;

typedef struct CK_MECHANISM_INFO {
	CK_ULONG ulMinKeySize;
	CK_ULONG ulMaxKeySize;
	CK_FLAGS flags;
} CK_MECHANISM_INFO;

typedef CK_RV (*CK_CREATEMUTEX)(CK_VOID_PTR_PTR);
typedef CK_RV (*CK_DESTROYMUTEX)(CK_VOID_PTR);
typedef CK_RV (*CK_LOCKMUTEX)(CK_VOID_PTR);
typedef CK_RV (*CK_UNLOCKMUTEX)(CK_VOID_PTR);

typedef struct CK_C_INITIALIZE_ARGS {
	CK_CREATEMUTEX CreateMutex;
	CK_DESTROYMUTEX DestroyMutex;
	CK_LOCKMUTEX LockMutex;
	CK_UNLOCKMUTEX UnlockMutex;
	CK_FLAGS flags;
	CK_VOID_PTR pReserved;
} CK_C_INITIALIZE_ARGS;

/* Return values. */
#define CKR_OK					0x000UL
#define CKR_CANCEL				0x001UL
#define CKR_HOST_MEMORY				0x002UL
#define CKR_SLOT_ID_INVALID			0x003UL
#define CKR_GENERAL_ERROR			0x005UL
#define CKR_FUNCTION_FAILED			0x006UL
#define CKR_ARGUMENTS_BAD			0x007UL
#define CKR_NO_EVENT				0x008UL
#define CKR_NEED_TO_CREATE_THREADS		0x009UL
#define CKR_CANT_LOCK				0x00AUL
#define CKR_ATTRIBUTE_SENSITIVE			0x011UL
#define CKR_ATTRIBUTE_TYPE_INVALID		0x012UL
#define CKR_ATTRIBUTE_VALUE_INVALID		0x013UL
#define CKR_DATA_INVALID			0x020UL
#define CKR_DATA_LEN_RANGE			0x021UL
#define CKR_DEVICE_ERROR			0x030UL
#define CKR_DEVICE_MEMORY			0x031UL
#define CKR_DEVICE_REMOVED			0x032UL
#define CKR_FUNCTION_CANCELED			0x050UL
#define CKR_FUNCTION_NOT_SUPPORTED		0x054UL
#define CKR_KEY_HANDLE_INVALID			0x060UL
#define CKR_KEY_SIZE_RANGE			0x062UL
#define CKR_KEY_TYPE_INCONSISTENT		0x063UL
#define CKR_KEY_FUNCTION_NOT_PERMITTED		0x068UL
#define CKR_MECHANISM_INVALID			0x070UL
#define CKR_MECHANISM_PARAM_INVALID		0x071UL
#define CKR_OBJECT_HANDLE_INVALID		0x082UL
#define CKR_OPERATION_ACTIVE			0x090UL
#define CKR_OPERATION_NOT_INITIALIZED		0x091UL
#define CKR_PIN_INCORRECT			0x0A0UL
#define CKR_PIN_INVALID				0x0A1UL
#define CKR_PIN_LEN_RANGE			0x0A2UL
#define CKR_PIN_EXPIRED				0x0A3UL
#define CKR_PIN_LOCKED				0x0A4UL
#define CKR_SESSION_CLOSED			0x0B0UL
#define CKR_SESSION_COUNT			0x0B1UL
#define CKR_SESSION_HANDLE_INVALID		0x0B3UL
#define CKR_SESSION_PARALLEL_NOT_SUPPORTED	0x0B4UL
#define CKR_SESSION_READ_ONLY			0x0B5UL
#define CKR_SESSION_EXISTS			0x0B6UL
#define CKR_SIGNATURE_INVALID			0x0C0UL
#define CKR_SIGNATURE_LEN_RANGE			0x0C1UL
#define CKR_TOKEN_NOT_PRESENT			0x0E0UL
#define CKR_TOKEN_NOT_RECOGNIZED		0x0E1UL
#define CKR_USER_ALREADY_LOGGED_IN		0x100UL
#define CKR_USER_NOT_LOGGED_IN			0x101UL
#define CKR_USER_PIN_NOT_INITIALIZED		0x102UL
#define CKR_USER_TYPE_INVALID			0x103UL
#define CKR_USER_ANOTHER_ALREADY_LOGGED_IN	0x104UL
#define CKR_USER_TOO_MANY_TYPES			0x105UL
#define CKR_BUFFER_TOO_SMALL			0x150UL
#define CKR_CRYPTOKI_NOT_INITIALIZED		0x190UL
#define CKR_CRYPTOKI_ALREADY_INITIALIZED	0x191UL
#define CKR_FUNCTION_REJECTED			0x200UL

/* CK_C_INITIALIZE_ARGS flags. */
#define CKF_LIBRARY_CANT_CREATE_OS_THREADS	0x00000001UL
#define CKF_OS_LOCKING_OK			0x00000002UL

/* CK_SLOT_INFO flags. */
#define CKF_TOKEN_PRESENT			0x00000001UL
#define CKF_REMOVABLE_DEVICE			0x00000002UL
#define CKF_HW_SLOT				0x00000004UL

/* CK_TOKEN_INFO flags. */
#define CKF_RNG					0x00000001UL
#define CKF_WRITE_PROTECTED			0x00000002UL
#define CKF_LOGIN_REQUIRED			0x00000004UL
#define CKF_USER_PIN_INITIALIZED		0x00000008UL
#define CKF_PROTECTED_AUTHENTICATION_PATH	0x00000100UL
#define CKF_TOKEN_INITIALIZED			0x00000400UL
#define CKF_USER_PIN_COUNT_LOW			0x00010000UL
#define CKF_USER_PIN_FINAL_TRY			0x00020000UL
#define CKF_USER_PIN_LOCKED			0x00040000UL

/* C_OpenSession flags. */
#define CKF_RW_SESSION				0x00000002UL
#define CKF_SERIAL_SESSION			0x00000004UL

/* C_WaitForSlotEvent flags. */
#define CKF_DONT_BLOCK				0x00000001UL

/* Session states. */
#define CKS_RO_PUBLIC_SESSION			0UL
#define CKS_RO_USER_FUNCTIONS			1UL
#define CKS_RW_PUBLIC_SESSION			2UL
#define CKS_RW_USER_FUNCTIONS			3UL
#define CKS_RW_SO_FUNCTIONS			4UL

/* User types. */
#define CKU_SO					0UL
#define CKU_USER				1UL
#define CKU_CONTEXT_SPECIFIC			2UL

/* Object classes. */
#define CKO_DATA				0x000UL
#define CKO_CERTIFICATE				0x001UL
#define CKO_PUBLIC_KEY				0x002UL
#define CKO_PRIVATE_KEY				0x003UL

/* Key types. */
#define CKK_RSA					0x000UL
#define CKK_EC					0x003UL
#define CKK_EC_EDWARDS				0x040UL

/* Certificate types. */
#define CKC_X_509				0x000UL

/* Attributes. */
#define CKA_CLASS				0x000UL
#define CKA_TOKEN				0x001UL
#define CKA_PRIVATE				0x002UL
#define CKA_LABEL				0x003UL
#define CKA_VALUE				0x011UL
#define CKA_CERTIFICATE_TYPE			0x080UL
#define CKA_KEY_TYPE				0x100UL
#define CKA_ID					0x102UL
#define CKA_SIGN				0x108UL
#define CKA_MODULUS				0x120UL
#define CKA_MODULUS_BITS			0x121UL
#define CKA_PUBLIC_EXPONENT			0x122UL
#define CKA_EC_PARAMS				0x180UL
#define CKA_EC_POINT				0x181UL
#define CKA_ALWAYS_AUTHENTICATE			0x202UL

/* Mechanisms. */
#define CKM_RSA_PKCS				0x0001UL
#define CKM_ECDSA				0x1041UL
#define CKM_EDDSA				0x1057UL

typedef void (*P11_UNUSED_FN)(void);
typedef CK_RV (*CK_NOTIFY)(CK_SESSION_HANDLE, CK_NOTIFICATION, CK_VOID_PTR);
struct CK_FUNCTION_LIST;
typedef struct CK_FUNCTION_LIST *CK_FUNCTION_LIST_PTR;
typedef CK_FUNCTION_LIST_PTR *CK_FUNCTION_LIST_PTR_PTR;

typedef struct CK_FUNCTION_LIST {
	CK_VERSION version;
	CK_RV (*C_Initialize)(CK_VOID_PTR);
	CK_RV (*C_Finalize)(CK_VOID_PTR);
	CK_RV (*C_GetInfo)(CK_INFO *);
	CK_RV (*C_GetFunctionList)(CK_FUNCTION_LIST_PTR_PTR);
	CK_RV (*C_GetSlotList)(CK_BBOOL, CK_SLOT_ID_PTR, CK_ULONG_PTR);
	CK_RV (*C_GetSlotInfo)(CK_SLOT_ID, CK_SLOT_INFO *);
	CK_RV (*C_GetTokenInfo)(CK_SLOT_ID, CK_TOKEN_INFO *);
	CK_RV (*C_GetMechanismList)(CK_SLOT_ID, CK_MECHANISM_TYPE_PTR,
	    CK_ULONG_PTR);
	CK_RV (*C_GetMechanismInfo)(CK_SLOT_ID, CK_MECHANISM_TYPE,
	    CK_MECHANISM_INFO *);
	P11_UNUSED_FN C_InitToken;
	P11_UNUSED_FN C_InitPIN;
	P11_UNUSED_FN C_SetPIN;
	CK_RV (*C_OpenSession)(CK_SLOT_ID, CK_FLAGS, CK_VOID_PTR,
	    CK_NOTIFY, CK_SESSION_HANDLE_PTR);
	CK_RV (*C_CloseSession)(CK_SESSION_HANDLE);
	CK_RV (*C_CloseAllSessions)(CK_SLOT_ID);
	CK_RV (*C_GetSessionInfo)(CK_SESSION_HANDLE, CK_SESSION_INFO *);
	P11_UNUSED_FN C_GetOperationState;
	P11_UNUSED_FN C_SetOperationState;
	CK_RV (*C_Login)(CK_SESSION_HANDLE, CK_USER_TYPE, CK_UTF8CHAR_PTR,
	    CK_ULONG);
	CK_RV (*C_Logout)(CK_SESSION_HANDLE);
	P11_UNUSED_FN C_CreateObject;
	P11_UNUSED_FN C_CopyObject;
	P11_UNUSED_FN C_DestroyObject;
	P11_UNUSED_FN C_GetObjectSize;
	CK_RV (*C_GetAttributeValue)(CK_SESSION_HANDLE, CK_OBJECT_HANDLE,
	    CK_ATTRIBUTE_PTR, CK_ULONG);
	P11_UNUSED_FN C_SetAttributeValue;
	CK_RV (*C_FindObjectsInit)(CK_SESSION_HANDLE, CK_ATTRIBUTE_PTR,
	    CK_ULONG);
	CK_RV (*C_FindObjects)(CK_SESSION_HANDLE, CK_OBJECT_HANDLE_PTR,
	    CK_ULONG, CK_ULONG_PTR);
	CK_RV (*C_FindObjectsFinal)(CK_SESSION_HANDLE);
	P11_UNUSED_FN C_EncryptInit;
	P11_UNUSED_FN C_Encrypt;
	P11_UNUSED_FN C_EncryptUpdate;
	P11_UNUSED_FN C_EncryptFinal;
	P11_UNUSED_FN C_DecryptInit;
	P11_UNUSED_FN C_Decrypt;
	P11_UNUSED_FN C_DecryptUpdate;
	P11_UNUSED_FN C_DecryptFinal;
	P11_UNUSED_FN C_DigestInit;
	P11_UNUSED_FN C_Digest;
	P11_UNUSED_FN C_DigestUpdate;
	P11_UNUSED_FN C_DigestKey;
	P11_UNUSED_FN C_DigestFinal;
	CK_RV (*C_SignInit)(CK_SESSION_HANDLE, CK_MECHANISM_PTR,
	    CK_OBJECT_HANDLE);
	CK_RV (*C_Sign)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR,
	    CK_ULONG_PTR);
	P11_UNUSED_FN C_SignUpdate;
	P11_UNUSED_FN C_SignFinal;
	P11_UNUSED_FN C_SignRecoverInit;
	P11_UNUSED_FN C_SignRecover;
	P11_UNUSED_FN C_VerifyInit;
	P11_UNUSED_FN C_Verify;
	P11_UNUSED_FN C_VerifyUpdate;
	P11_UNUSED_FN C_VerifyFinal;
	P11_UNUSED_FN C_VerifyRecoverInit;
	P11_UNUSED_FN C_VerifyRecover;
	P11_UNUSED_FN C_DigestEncryptUpdate;
	P11_UNUSED_FN C_DecryptDigestUpdate;
	P11_UNUSED_FN C_SignEncryptUpdate;
	P11_UNUSED_FN C_DecryptVerifyUpdate;
	P11_UNUSED_FN C_GenerateKey;
	P11_UNUSED_FN C_GenerateKeyPair;
	P11_UNUSED_FN C_WrapKey;
	P11_UNUSED_FN C_UnwrapKey;
	P11_UNUSED_FN C_DeriveKey;
	P11_UNUSED_FN C_SeedRandom;
	P11_UNUSED_FN C_GenerateRandom;
	P11_UNUSED_FN C_GetFunctionStatus;
	P11_UNUSED_FN C_CancelFunction;
	CK_RV (*C_WaitForSlotEvent)(CK_FLAGS, CK_SLOT_ID_PTR, CK_VOID_PTR);
} CK_FUNCTION_LIST;

typedef CK_RV (*CK_C_GetFunctionList)(CK_FUNCTION_LIST_PTR_PTR);

#endif /* PKCS_PKCS11_H */
