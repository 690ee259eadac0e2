/* SPDX-License-Identifier: MIT */
/*
 * region.c - the region API: argument rules, dispatch to the backends,
 * registration in the peer table, and what fork() does to a handle.
 *
 * fork: a child inherits every mapping and fd.  An OFD lock lives as long
 * as its open file description, and a mapping holds its description too, so
 * the slot lock is never taken on the mapped description: each handle opens
 * a second one (lock_fd) that only fds refer to.  An atfork child handler
 * drops the child's reference to it and registers the child under a slot of
 * its own; a parent that dies then leaves a dead slot, whatever its children
 * do, and each child is a peer in its own right.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include "atomic.h"
#include "internal.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shmkit_region *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Whether sync primitives can work in r's data, and as whom. */
static void region_sync_ready(struct shmkit_region *r)
{
	r->token = r->slot >= 0 ? shmkit__slot_token(r->hdr, r->slot) : 0;
	if (!r->hdr || (r->flags & SHMKIT_PRIVATE))
		r->sync_err = -EOPNOTSUPP;  /* no owner identity, or not shared */
	else if ((r->flags & SHMKIT_RDONLY) || r->slot < 0)
		r->sync_err = -EROFS;
	else
		r->sync_err = 0;
}

static int region_register(struct shmkit_region *r)
{
	r->owner = getpid();
	r->slot = -1;
	r->token = 0;
	if (!r->hdr || !r->hdr_writable) {
		region_sync_ready(r);
		return 0;  /* raw, or an observer without write access */
	}
	unsigned liveness = shmkit__liveness(r->backend);

	if (liveness == SHMKIT_LIVE_OFD) {
		r->lock_fd = shmkit__fd_description(r->fd, O_RDWR);
		if (r->lock_fd < 0)
			return r->lock_fd;
	}
	int slot = shmkit__slot_claim(r->hdr, liveness, r->lock_fd,
				      (r->flags & SHMKIT_RDONLY) ? SHMKIT_SLOT_RDONLY : 0);
	if (slot < 0) {
		if (r->lock_fd >= 0)
			close(r->lock_fd);
		r->lock_fd = -1;
		region_sync_ready(r);
		return slot;
	}
	r->slot = slot;
	region_sync_ready(r);
	shmkit__stats_touch(r->hdr, true);
	return 0;
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&registry_lock);
}

static void atfork_child(void)
{
	shmkit__tid_forget();
	for (struct shmkit_region *r = registry; r; r = r->next) {
		if (r->slot < 0)
			continue;  /* nothing of the parent's to give back */
		r->slot = -1;
		if (r->lock_fd >= 0) {
			/* the parent's lock now rests on the parent's fd alone */
			close(r->lock_fd);
			r->lock_fd = -1;
		}
		region_register(r);  /* failure leaves an unregistered copy */
	}
	pthread_mutex_unlock(&registry_lock);
}

static void atfork_install(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int shmkit__registry_add(struct shmkit_region *r)
{
	pthread_once(&atfork_once, atfork_install);
	pthread_mutex_lock(&registry_lock);
	int err = region_register(r);
	if (err) {
		pthread_mutex_unlock(&registry_lock);
		return err;
	}
	r->prev = NULL;
	r->next = registry;
	if (registry)
		registry->prev = r;
	registry = r;
	pthread_mutex_unlock(&registry_lock);
	return 0;
}

static void registry_remove(struct shmkit_region *r)
{
	pthread_mutex_lock(&registry_lock);
	if (r->prev)
		r->prev->next = r->next;
	else if (registry == r)
		registry = r->next;
	if (r->next)
		r->next->prev = r->prev;
	pthread_mutex_unlock(&registry_lock);
}

static struct shmkit_region *region_alloc(unsigned flags)
{
	struct shmkit_region *r = calloc(1, sizeof(*r));

	if (r) {
		r->flags = flags;
		r->fd = -1;
		r->lock_fd = -1;
		r->shmid = -1;
		r->slot = -1;
	}
	return r;
}

/* Frees a handle that never reached the registry. */
static void region_discard(struct shmkit_region *r)
{
	shmkit__unmap(r);
	if (r->fd >= 0)
		close(r->fd);
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	free(r);
}

/* The common end of every constructor: register and hand out, or discard. */
static int region_finish(struct shmkit_region *r, int err, shmkit_region **out)
{
	if (!err)
		err = shmkit__registry_add(r);
	if (err) {
		region_discard(r);
		return err;
	}
	*out = r;
	return 0;
}

static int size_ok(size_t size, bool creating)
{
	if ((uint64_t)size > SHMKIT_SIZE_LIMIT)
		return -EINVAL;
	return (creating && size == 0) ? -EINVAL : 0;
}

int shmkit_region_open(const char *name, unsigned flags, size_t size,
		       unsigned mode, shmkit_region **out)
{
	return shmkit__region_open_image(name, flags, size, mode, NULL, out);
}

int shmkit__region_open_image(const char *name, unsigned flags, size_t size,
			      unsigned mode, const struct shmkit__image *image,
			      shmkit_region **out)
{
	struct shmkit__name n;
	struct shmkit_region *r;
	int err;

	if (!out || (flags & ~SHMKIT_OPEN_FLAGS_MASK) || (flags & SHMKIT_DEVZERO) ||
	    (mode & ~0777u))
		return -EINVAL;
	*out = NULL;
	if (mode == 0)
		mode = SHMKIT_DEFAULT_MODE;
	err = size_ok(size, flags & SHMKIT_CREATE);
	if (err)
		return err;
	err = shmkit__name_parse(name, &n);
	if (err)
		return err;
	if (n.backend == SHMKIT_BACKEND_SYSV && (flags & SHMKIT_PRIVATE))
		return -EOPNOTSUPP;
	r = region_alloc(flags);
	if (!r)
		return -ENOMEM;
	r->backend = n.backend;
	r->image = (flags & SHMKIT_RAW) ? NULL : image;
	if (n.backend == SHMKIT_BACKEND_SYSV)
		err = shmkit__sysv_open(&n, flags, size, mode, r);
	else
		err = shmkit__fd_open(&n, flags, size, mode, r);
	r->image = NULL;
	return region_finish(r, err, out);
}

int shmkit__open_or_create(const char *name, unsigned flags, size_t size,
			   unsigned mode, const struct shmkit__image *image,
			   shmkit_region **out)
{
	int err = -ENOENT;

	if ((flags & SHMKIT_EXCL) && !(flags & SHMKIT_CREATE))
		return -EINVAL;
	/* bounded: each round opens, creates, or loses a create race to an
	 * object a remover may take away again before we open it */
	for (int round = 0; round < 8 && err == -ENOENT; round++) {
		if (!(flags & SHMKIT_EXCL))
			err = shmkit_region_open(name, 0, 0, 0, out);
		if (err != -ENOENT || !(flags & SHMKIT_CREATE))
			break;
		err = shmkit__region_open_image(name, flags | SHMKIT_EXCL, size, mode,
						image, out);
		if (err == -EEXIST && !(flags & SHMKIT_EXCL))
			err = -ENOENT;  /* another creator won: open theirs */
	}
	return err;
}

/* The handle of an unnamed region about to be created at @size: NULL, with
 * the error in *err, for a bad size or no memory. */
static struct shmkit_region *unnamed_alloc(size_t size, unsigned flags, int *err)
{
	*err = size_ok(size, true);
	if (*err)
		return NULL;
	struct shmkit_region *r = region_alloc(flags);
	if (!r)
		*err = -ENOMEM;
	return r;
}

int shmkit_region_anon(size_t size, unsigned flags, shmkit_region **out)
{
	struct shmkit_region *r;
	int err;

	if (!out || (flags & ~(SHMKIT_RAW | SHMKIT_DEVZERO)))
		return -EINVAL;
	*out = NULL;
	r = unnamed_alloc(size, flags, &err);
	if (!r)
		return err;
	err = shmkit__anon_create(size, flags, r);
	return region_finish(r, err, out);
}

int shmkit_region_memfd(const char *label, size_t size, unsigned flags,
			shmkit_region **out)
{
	struct shmkit_region *r;
	int err;

	if (!out || (flags & ~SHMKIT_RAW) || (label && strlen(label) > 200))
		return -EINVAL;
	*out = NULL;
	r = unnamed_alloc(size, flags, &err);
	if (!r)
		return err;
	r->backend = SHMKIT_BACKEND_MEMFD;
	err = shmkit__fd_create_memfd(label, size, flags, r);
	return region_finish(r, err, out);
}

int shmkit_region_open_fd(int fd, unsigned flags, shmkit_region **out)
{
	struct shmkit_region *r;
	bool writable;
	int err, nfd, backend;

	if (!out || fd < 0 || (flags & ~(SHMKIT_RDONLY | SHMKIT_PRIVATE | SHMKIT_RAW)))
		return -EINVAL;
	*out = NULL;
	nfd = shmkit__fd_reopen(fd, flags, &writable, &backend);
	if (nfd < 0)
		return nfd;
	r = region_alloc(flags);
	if (!r) {
		close(nfd);
		return -ENOMEM;
	}
	r->backend = backend;
	r->fd = nfd;
	err = shmkit__fd_map(nfd, flags, 0, writable, r);
	return region_finish(r, err, out);
}

int shmkit_region_open_shmid(int shmid, unsigned flags, shmkit_region **out)
{
	struct shmkit_region *r;
	int err;

	if (!out || shmid < 0 || (flags & ~(SHMKIT_RDONLY | SHMKIT_RAW)))
		return -EINVAL;
	*out = NULL;
	r = region_alloc(flags);
	if (!r)
		return -ENOMEM;
	err = shmkit__sysv_attach(shmid, flags, 0, r);
	return region_finish(r, err, out);
}

void *shmkit_region_base(const shmkit_region *r)
{
	return r ? r->data : NULL;
}

size_t shmkit_region_size(const shmkit_region *r)
{
	return r ? r->size : 0;
}

int shmkit_region_fd(const shmkit_region *r)
{
	if (!r)
		return -EINVAL;
	return r->fd >= 0 ? r->fd : -EOPNOTSUPP;
}

int shmkit_region_sync(shmkit_region *r, size_t offset, size_t length,
		       unsigned flags)
{
	unsigned how = flags & (SHMKIT_SYNC | SHMKIT_ASYNC);
	int ms;

	if (!r || (flags & ~(SHMKIT_SYNC | SHMKIT_ASYNC | SHMKIT_INVALIDATE)) ||
	    (how != SHMKIT_SYNC && how != SHMKIT_ASYNC) || offset > r->size)
		return -EINVAL;
	if (length == 0)
		length = r->size - offset;
	if (length > r->size - offset)
		return -EINVAL;
	if (length == 0)
		return 0;
	ms = how == SHMKIT_SYNC ? MS_SYNC : MS_ASYNC;
	if (flags & SHMKIT_INVALIDATE)
		ms |= MS_INVALIDATE;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)r->data + offset;
	uintptr_t aligned = start & ~(page - 1);
	if (msync((void *)aligned, length + (start - aligned), ms) != 0)
		return shmkit__err();
	return 0;
}

int shmkit_region_close(shmkit_region *r)
{
	if (!r)
		return -EINVAL;
	registry_remove(r);
	if (r->hdr && r->hdr_writable && r->owner == getpid() && r->slot >= 0) {
		shmkit__slot_release(r->hdr, shmkit__liveness(r->backend), r->lock_fd,
				     r->slot);
		shmkit__stats_touch(r->hdr, false);
	}
	int err = 0;
	if (r->map) {
		if (r->backend == SHMKIT_BACKEND_SYSV ? shmdt(r->map) != 0
		    : munmap(r->map, r->map_len) != 0)
			err = shmkit__err();
		r->map = NULL;
	}
	if (r->fd >= 0 && close(r->fd) != 0 && !err)
		err = shmkit__err();
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	free(r);
	return err;
}

int shmkit_remove(const char *name)
{
	struct shmkit__name n;
	int err = shmkit__name_parse(name, &n);

	if (err)
		return err;
	if (n.backend == SHMKIT_BACKEND_SYSV) {
		int id = shmkit__sysv_find(n.key);
		if (id < 0)
			return id;
		return shmctl(id, IPC_RMID, NULL) != 0 ? shmkit__err() : 0;
	}
	return shmkit__fd_remove(&n);
}
