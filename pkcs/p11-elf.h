/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Check a shared object for an exported symbol without loading it: a
 * PKCS#11 provider is dlopen()ed (running its constructors) only when its
 * file exports C_GetFunctionList.
 */
#ifndef PKCS_P11_ELF_H
#define PKCS_P11_ELF_H

#include "common/err.h"

#include <sys/types.h>
#include <stddef.h>

/*
 * p11_elf_has_symbol: 0 when the ELF image (len bytes at img, untrusted)
 * is a shared object of this machine's class and byte order whose dynamic
 * symbol table defines sym; TOK_ERR_PROVIDER_REFUSED when it does not,
 * TOK_ERR_INVALID_FORMAT when the image is malformed.
 */
int p11_elf_has_symbol(const u_char *img, size_t len, const char *sym)
    TOK_WUR;
/*
 * p11_elf_fd_has_symbol: as p11_elf_has_symbol for the regular file open on
 * fd (mapped read-only, at most 1 GiB; fd stays open).  TOK_ERR_SYSTEM when
 * it can not be mapped, TOK_ERR_PROVIDER_REFUSED when it is no regular file.
 * Load the file through the same fd (/proc/self/fd/N) so that the file
 * checked is the file loaded.
 */
int p11_elf_fd_has_symbol(int fd, const char *sym)
    TOK_WUR;

#endif /* PKCS_P11_ELF_H */
