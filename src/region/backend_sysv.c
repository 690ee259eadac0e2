/* SPDX-License-Identifier: MIT */
/*
 * backend_sysv.c - System V segments (shmget/shmat/shmdt), seed 002.
 *
 * The kernel applies shmget's rules itself; shmkit adds the managed header.
 * A new segment is visible (zero-filled) from shmget until its creator has
 * attached and written the header, so the creator publishes magic last with
 * a release store, and an opener that finds magic still 0 waits, at most
 * about 2 s, while the segment is that young and its creator lives.  A
 * zero segment that is older, or whose creator is gone, is not shmkit's.  Statistics come from IPC_STAT: the kernel keeps them exactly.
 */
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>

#include "atomic.h"
#include "internal.h"

int shmkit__sysv_find(int32_t key)
{
	int id = shmget((key_t)key, 0, 0);

	return id < 0 ? shmkit__err() : id;
}

int shmkit__sysv_stat(int shmid, struct shmkit_stat *st)
{
	struct shmid_ds ds;

	if (shmctl(shmid, IPC_STAT, &ds) != 0)
		return shmkit__err() == -EINVAL ? -ENOENT : shmkit__err();
	st->backend = SHMKIT_BACKEND_SYSV;
	st->shmid = shmid;
	st->size = st->total_size = ds.shm_segsz;
	st->mode = ds.shm_perm.mode & 0777;
	st->uid = ds.shm_perm.uid;
	st->gid = ds.shm_perm.gid;
	st->cpid = ds.shm_cpid;
	st->lpid = ds.shm_lpid;
	st->nattch = (int32_t)ds.shm_nattch;
	st->atime_ns = (int64_t)ds.shm_atime * 1000000000;
	st->dtime_ns = (int64_t)ds.shm_dtime * 1000000000;
	st->ctime_ns = (int64_t)ds.shm_ctime * 1000000000;
	st->removed = (ds.shm_perm.mode & SHM_DEST) != 0;
	return 0;
}

/* Waits (at most ~2 s) for a live creator to publish a young header. */
static uint64_t wait_magic(struct shmkit_hdr *h, int shmid)
{
	struct timespec ms = { 0, 1000000 };
	/* A5: pairs with the creator's release of magic (R5). */
	uint64_t magic = load_acquire(&h->magic);

	for (int i = 0; magic == 0 && i < 2000; i++) {
		struct shmid_ds ds;
		if (shmctl(shmid, IPC_STAT, &ds) != 0 ||
		    time(NULL) - ds.shm_ctime > 2 || shmkit__pid_gone(ds.shm_cpid))
			break;  /* old, or its creator is gone: no one will write it */
		nanosleep(&ms, NULL);
		magic = load_acquire(&h->magic);  /* A5 again */
	}
	return magic;
}

int shmkit__sysv_attach(int shmid, unsigned flags, size_t size,
			struct shmkit_region *r)
{
	struct shmid_ds ds;
	char *addr;
	int err;

	if (shmctl(shmid, IPC_STAT, &ds) != 0)
		return shmkit__err() == -EINVAL ? -ENOENT : shmkit__err();
	if (ds.shm_perm.mode & SHM_DEST)
		return -EIDRM;
	addr = shmat(shmid, NULL, (flags & SHMKIT_RDONLY) ? SHM_RDONLY : 0);
	if (addr == (void *)-1)
		return shmkit__err();
	r->backend = SHMKIT_BACKEND_SYSV;
	r->shmid = shmid;
	r->map = addr;
	r->map_len = ds.shm_segsz;
	if (flags & SHMKIT_RAW) {
		if (size > ds.shm_segsz) {
			err = -EINVAL;
			goto fail;
		}
		r->data = addr;
		r->size = ds.shm_segsz;
		return 0;
	}
	struct shmkit_hdr *h = (struct shmkit_hdr *)addr, copy;
	if (ds.shm_segsz < sizeof(copy)) {
		err = ds.shm_segsz >= 8 && load_acquire(&h->magic) == SHMKIT_MAGIC
			? -EBADMSG : -EPROTO;
		goto fail;
	}
	wait_magic(h, shmid);
	memcpy((void *)&copy, addr, sizeof(copy));  /* validate a private copy */
	err = shmkit__hdr_check(&copy, ds.shm_segsz);
	if (!err && copy.liveness != SHMKIT_LIVE_PID)
		err = -EBADMSG;
	if (!err && size > copy.data_size)
		err = -EINVAL;
	if (err)
		goto fail;
	r->hdr = h;
	r->hdr_writable = !(flags & SHMKIT_RDONLY);
	r->data = addr + copy.header_size;
	r->size = (size_t)copy.data_size;
	return 0;
fail:
	shmdt(addr);
	r->map = NULL;
	return err;
}

static int sysv_create(int32_t key, unsigned flags, size_t size, unsigned mode,
		       const struct shmkit__image *img)
{
	size_t header_size = (flags & SHMKIT_RAW) ? 0 : shmkit__header_size();
	int id = shmget((key_t)key, header_size + size, IPC_CREAT | IPC_EXCL | (int)mode);
	char *addr;

	if (id < 0)
		return shmkit__err();
	addr = shmat(id, NULL, 0);
	if (addr == (void *)-1) {
		int err = shmkit__err();
		shmctl(id, IPC_RMID, NULL);
		return err;
	}
	if (header_size) {
		struct shmkit_hdr *h = (struct shmkit_hdr *)addr;
		shmkit__hdr_init(h, (uint32_t)header_size, size, SHMKIT_LIVE_PID,
				 img ? img->kind : SHMKIT_KIND_REGION);
		if (img && img->len && img->len <= size)
			memcpy(addr + header_size, img->bytes, img->len);
		shmkit__image_fill((unsigned char *)addr + header_size, size, img);
		/* R5: the header is complete before magic shows; pairs with A5. */
		store_release(&h->magic, SHMKIT_MAGIC);
	}
	shmdt(addr);
	return id;
}

int shmkit__sysv_open(const struct shmkit__name *n, unsigned flags, size_t size,
		      unsigned mode, struct shmkit_region *r)
{
	/* the access asked for, checked by shmget against the segment's mode */
	int access = (flags & SHMKIT_RDONLY) ? 0400 : 0600;
	bool excl = (flags & SHMKIT_CREATE) && (flags & SHMKIT_EXCL);
	int id = -ENOENT;

	for (int round = 0; round < 64; round++) {
		if (!excl) {
			id = shmget((key_t)n->key, 0, access);
			if (id >= 0)
				break;
			id = shmkit__err();
			if (id != -ENOENT || !(flags & SHMKIT_CREATE))
				return id;
		}
		id = sysv_create(n->key, flags, size, mode, r->image);
		if (id >= 0 || id != -EEXIST || excl)
			break;
	}
	if (id < 0)
		return id;
	return shmkit__sysv_attach(id, flags, size, r);
}
