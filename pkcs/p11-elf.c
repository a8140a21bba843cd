/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Exported-symbol check on an ELF shared object (see p11-elf.h).  The image
 * is untrusted: every offset and size is checked against the image length,
 * overflow-safe, before it is used.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "pkcs/p11-elf.h"

#define P11_ELF_FILE_MAX	((size_t)1024 * 1024 * 1024)

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define P11_ELF_DATA	ELFDATA2LSB
#else
#define P11_ELF_DATA	ELFDATA2MSB
#endif

/* ElfW() from <link.h> picks the native class's types. */
#if __SIZEOF_POINTER__ == 8
#define P11_ELF_CLASS	ELFCLASS64
#else
#define P11_ELF_CLASS	ELFCLASS32
#endif

/* p11_elf_range: 1 when [off, off + n * size) lies within len. */
static int
p11_elf_range(size_t len, uint64_t off, uint64_t n, uint64_t size)
{
	if (size != 0 && n > (uint64_t)SIZE_MAX / size)
		return 0;
	if (off > len || n * size > len - off)
		return 0;
	return 1;
}

int
p11_elf_has_symbol(const u_char *img, size_t len, const char *sym)
{
	ElfW(Ehdr) eh;
	ElfW(Shdr) sh, strsh;
	ElfW(Sym) st;
	size_t i, j, nsyms, symlen = strlen(sym);
	const char *strtab;
	int r = TOK_ERR_INVALID_FORMAT;

	if (len < sizeof(eh))
		goto out;
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != P11_ELF_CLASS ||
	    eh.e_ident[EI_DATA] != P11_ELF_DATA ||
	    eh.e_type != ET_DYN || eh.e_shentsize != sizeof(sh) ||
	    !p11_elf_range(len, eh.e_shoff, eh.e_shnum, sizeof(sh)))
		goto out;
	for (i = 0; i < eh.e_shnum; i++) {
		memcpy(&sh, img + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_DYNSYM)
			continue;
		if (sh.sh_entsize != sizeof(st) ||
		    sh.sh_size % sizeof(st) != 0 ||
		    !p11_elf_range(len, sh.sh_offset, 1, sh.sh_size) ||
		    sh.sh_link >= eh.e_shnum)
			goto out;
		memcpy(&strsh, img + eh.e_shoff + sh.sh_link * sizeof(strsh),
		    sizeof(strsh));
		if (strsh.sh_type != SHT_STRTAB ||
		    !p11_elf_range(len, strsh.sh_offset, 1, strsh.sh_size))
			goto out;
		strtab = (const char *)img + strsh.sh_offset;
		nsyms = sh.sh_size / sizeof(st);
		for (j = 0; j < nsyms; j++) {
			memcpy(&st, img + sh.sh_offset + j * sizeof(st),
			    sizeof(st));
			if (st.st_shndx == SHN_UNDEF || st.st_name == 0 ||
			    st.st_name >= strsh.sh_size ||
			    strsh.sh_size - st.st_name < symlen + 1)
				continue;
			/* The name must end exactly where sym does. */
			if (memcmp(strtab + st.st_name, sym, symlen + 1) == 0 &&
			    ELF64_ST_TYPE(st.st_info) == STT_FUNC) {
				r = 0;
				goto out;
			}
		}
	}
	r = TOK_ERR_PROVIDER_REFUSED;
 out:
	return r;
}

int
p11_elf_fd_has_symbol(int fd, const char *sym)
{
	struct stat sb;
	void *img = MAP_FAILED;
	int r = TOK_ERR_SYSTEM;

	if (fstat(fd, &sb) == -1)
		goto out;
	if (!S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    (uint64_t)sb.st_size > P11_ELF_FILE_MAX) {
		r = TOK_ERR_PROVIDER_REFUSED;
		goto out;
	}
	img = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		goto out;
	r = p11_elf_has_symbol(img, (size_t)sb.st_size, sym);
 out:
	if (img != MAP_FAILED)
		munmap(img, (size_t)sb.st_size);
	return r;
}
