/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Locked, non-dumpable, zeroed-on-free memory for secrets. */
#include "config.h"

#include <sys/mman.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/secmem.h"

/* Each allocation is its own mapping; a header before the payload records its size. */
struct secmem_hdr {
	size_t maplen;
	size_t pad;
};

void *
secmem_alloc(size_t len)
{
	static int warned;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), maplen;
	struct secmem_hdr *h;

	if (len > SIZE_MAX - sizeof(*h) - page)
		return NULL;
	maplen = (len + sizeof(*h) + page - 1) / page * page;
	h = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return NULL;
	(void)madvise(h, maplen, MADV_DONTDUMP);
	if (mlock(h, maplen) != 0 && !warned) {
		warned = 1;
		debug_f("mlock failed; secrets may be swapped");
	}
	h->maplen = maplen;
	return h + 1;
}

char *
secmem_strdup(const char *s)
{
	size_t len = strlen(s);
	char *p;

	if ((p = secmem_alloc(len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len + 1);
	return p;
}

void
secmem_free(void *p)
{
	struct secmem_hdr *h;
	size_t maplen;

	if (p == NULL)
		return;
	h = (struct secmem_hdr *)p - 1;
	maplen = h->maplen;
	explicit_bzero(h, maplen);
	(void)munlock(h, maplen);
	(void)munmap(h, maplen);
}
