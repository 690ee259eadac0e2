/* SPDX-License-Identifier: MIT */
/*
 * backend_anon.c - anonymous shared regions, inherited across fork (seeds
 * 000 and 004): MAP_SHARED|MAP_ANONYMOUS, or MAP_SHARED of /dev/zero, the
 * SVR4 way.  No name, no file: peers are judged by PID identity.  The memory
 * is charged when it is mapped (overcommit accounting): -ENOMEM, not SIGBUS.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "atomic.h"
#include "internal.h"

int shmkit__anon_create(size_t size, unsigned flags, struct shmkit_region *r)
{
	size_t header_size = (flags & SHMKIT_RAW) ? 0 : shmkit__header_size();
	size_t total = header_size + size;
	char *base;

	if (flags & SHMKIT_DEVZERO) {
		int fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return shmkit__err();
		base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);  /* the mapping keeps its own reference */
	} else {
		base = mmap(NULL, total, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	}
	if (base == MAP_FAILED)
		return shmkit__err();
	r->backend = SHMKIT_BACKEND_ANON;
	r->map = base;
	r->map_len = total;
	r->data = base + header_size;
	r->size = size;
	if (header_size) {
		r->hdr = (struct shmkit_hdr *)base;
		r->hdr_writable = true;
		shmkit__hdr_init(r->hdr, (uint32_t)header_size, size, SHMKIT_LIVE_PID,
				 SHMKIT_KIND_REGION);
		/* no one else sees it before fork(), itself a full barrier */
		store_relaxed(&r->hdr->magic, SHMKIT_MAGIC);
	}
	return 0;
}
