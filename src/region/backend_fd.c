/* SPDX-License-Identifier: MIT */
/*
 * backend_fd.c - regions behind a file descriptor: POSIX objects (files in
 * /dev/shm, exactly what shm_open makes), regular files, and memfds.
 *
 * Creation never shows a half-made object: the object is made nameless
 * (O_TMPFILE), sized with posix_fallocate (so a full file system is -ENOSPC
 * now, not SIGBUS later), given its exact mode and header, and only then
 * linked under its name.  linkat() fails with EEXIST if the name exists,
 * which makes SHMKIT_EXCL atomic.  Where O_TMPFILE is missing, a hidden
 * temporary name plays the same part.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "internal.h"

void shmkit__unmap(struct shmkit_region *r)
{
	if (r->map && r->map != MAP_FAILED) {
		if (r->backend == SHMKIT_BACKEND_SYSV)
			shmdt(r->map);
		else
			munmap(r->map, r->map_len);
	}
	r->map = NULL;
}

/* Which backend the object behind fd belongs to, from its /proc link. */
static int backend_of_fd(int fd)
{
	char path[64], target[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return SHMKIT_BACKEND_FILE;
	target[n] = '\0';
	if (!strncmp(target, "/memfd:", 7))
		return SHMKIT_BACKEND_MEMFD;
	if (!strncmp(target, SHMKIT_SHM_DIR "/", sizeof(SHMKIT_SHM_DIR)))
		return SHMKIT_BACKEND_POSIX;
	return SHMKIT_BACKEND_FILE;
}

/* 1 if fd is a memfd (nameless by design: nlink 0 does not mean removed). */
static int fd_is_memfd(int fd)
{
	return backend_of_fd(fd) == SHMKIT_BACKEND_MEMFD;
}

/* Reads and validates the immutable header into *copy. */
static int read_header(int fd, uint64_t object_size, struct shmkit_hdr *copy)
{
	size_t want = sizeof(*copy);
	ssize_t n;

	memset((void *)copy, 0, sizeof(*copy));
	if (object_size < want)
		want = (size_t)object_size;
	n = pread(fd, (void *)copy, want, 0);
	if (n < 0)
		return shmkit__err();
	if ((uint64_t)n < want)
		return -EBADMSG;  /* shrank under us */
	int err = shmkit__hdr_check(copy, object_size);
	if (!err && copy->liveness != SHMKIT_LIVE_OFD)
		err = -EBADMSG;  /* only lock liveness fits an object with a file */
	return err;
}

/* Maps [0, total) as: header shared (writable if the fd allows), data shared
 * or private, read-only or not.  Sizes come from a validated copy. */
static int map_layout(int fd, unsigned flags, size_t header_size, size_t total,
		      bool fd_writable, struct shmkit_region *r)
{
	int data_prot = (flags & SHMKIT_RDONLY) ? PROT_READ : PROT_READ | PROT_WRITE;
	int data_share = (flags & SHMKIT_PRIVATE) ? MAP_PRIVATE : MAP_SHARED;
	char *base;

	base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	if (base == MAP_FAILED)
		return shmkit__err();
	r->map = base;
	r->map_len = total;
	if (header_size) {
		int hprot = fd_writable ? PROT_READ | PROT_WRITE : PROT_READ;
		if (mmap(base, header_size, hprot, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
			goto fail;
		r->hdr = (struct shmkit_hdr *)base;
		r->hdr_writable = fd_writable;
	}
	if (mmap(base + header_size, total - header_size, data_prot,
		 data_share | MAP_FIXED, fd, (off_t)header_size) == MAP_FAILED)
		goto fail;
	r->data = base + header_size;
	r->size = total - header_size;
	return 0;
fail:;
	int err = shmkit__err();
	munmap(base, total);
	r->map = NULL;
	r->hdr = NULL;
	return err;
}

int shmkit__fd_map(int fd, unsigned flags, size_t size, bool fd_writable,
		   struct shmkit_region *r)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return shmkit__err();
	if (!S_ISREG(st.st_mode))
		return -ENODEV;
	if (st.st_nlink == 0 && !fd_is_memfd(fd))
		return -EIDRM;
	if (flags & SHMKIT_RAW) {
		if (st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX ||
		    size > (uint64_t)st.st_size)
			return -EINVAL;
		return map_layout(fd, flags, 0, (size_t)st.st_size, fd_writable, r);
	}
	struct shmkit_hdr copy;
	int err = read_header(fd, (uint64_t)st.st_size, &copy);
	if (err)
		return err;
	if (size > copy.data_size)
		return -EINVAL;
	return map_layout(fd, flags, copy.header_size, (size_t)copy.total_size,
			  fd_writable, r);
}

/* Splits "a/b/c" into dir "a/b" and base "c" ("c" alone: dir "."). */
static int split_path(const char *path, char *dir, size_t dirlen, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		snprintf(dir, dirlen, ".");
		*base = path;
	} else {
		size_t len = (size_t)(slash - path);
		if (len >= dirlen)
			return -ENAMETOOLONG;
		if (len == 0)
			len = 1;  /* "/x": the root */
		memcpy(dir, path, len);
		dir[len] = '\0';
		*base = slash + 1;
	}
	if (**base == '\0' || !strcmp(*base, ".") || !strcmp(*base, ".."))
		return -EINVAL;
	return 0;
}

/* Opens the directory that holds @path's last component (O_PATH), which
 * *base then names: the fd, or a negative errno. */
static int open_parent(const char *path, const char **base)
{
	char dir[SHMKIT_NAME_MAX];
	int err = split_path(path, dir, sizeof(dir), base);

	if (err)
		return err;
	int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return dirfd < 0 ? shmkit__err() : dirfd;
}

/* Sizes and initialises a new, still nameless (or hidden) object. */
static int fill_new(int fd, unsigned flags, size_t size, unsigned mode,
		    const struct shmkit__image *img)
{
	size_t header_size = (flags & SHMKIT_RAW) ? 0 : shmkit__header_size();
	size_t total = header_size + size;
	int err;

	if (fchmod(fd, mode) != 0)
		return shmkit__err();
	err = posix_fallocate(fd, 0, (off_t)total);
	if (err)
		return -err;
	if (header_size) {
		struct shmkit_hdr *h = mmap(NULL, header_size, PROT_READ | PROT_WRITE,
					    MAP_SHARED, fd, 0);
		if (h == MAP_FAILED)
			return shmkit__err();
		shmkit__hdr_init(h, (uint32_t)header_size, size, SHMKIT_LIVE_OFD,
				 img ? img->kind : SHMKIT_KIND_REGION);
		if (img && img->len && img->len <= size &&
		    pwrite(fd, img->bytes, img->len, (off_t)header_size) != (ssize_t)img->len) {
			err = shmkit__err();
			munmap(h, header_size);
			return err;
		}
		if (img && img->fill_from) {
			unsigned char *d = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
						fd, (off_t)header_size);
			if (d == MAP_FAILED) {
				err = shmkit__err();
				munmap(h, header_size);
				return err;
			}
			shmkit__image_fill(d, size, img);
			munmap(d, size);
		}
		/* R4: magic last; no opener can see the object before linkat()
		 * names it, and that system call orders these stores before the
		 * opener's pread()/mmap of the header. */
		store_release(&h->magic, SHMKIT_MAGIC);
		munmap(h, header_size);
	}
	return 0;
}

static int create_hidden(int dirfd, const char *base, unsigned flags,
			 size_t size, unsigned mode, const struct shmkit__image *img)
{
	char tmp[64];
	int fd = -1, err = -EEXIST;

	for (int i = 0; i < 16 && fd < 0; i++) {
		snprintf(tmp, sizeof(tmp), ".shmkit-tmp.%d.%x", (int)getpid(),
			 (unsigned)random());
		fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    mode);
		if (fd < 0 && errno != EEXIST)
			return shmkit__err();
	}
	if (fd < 0)
		return err;
	err = fill_new(fd, flags, size, mode, img);
	if (!err && linkat(dirfd, tmp, dirfd, base, 0) != 0)
		err = shmkit__err();
	unlinkat(dirfd, tmp, 0);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* Returns the new object's fd, or -EEXIST when the name is taken. */
static int create_object(int dirfd, const char *base, unsigned flags,
			 size_t size, unsigned mode, const struct shmkit__image *img)
{
	char proc[64];
	int fd, err;

	fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
	if (fd < 0) {
		if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
			return create_hidden(dirfd, base, flags, size, mode, img);
		return shmkit__err();
	}
	err = fill_new(fd, flags, size, mode, img);
	if (err)
		goto fail;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, dirfd, base, AT_SYMLINK_FOLLOW) != 0) {
		err = shmkit__err();
		if (err == -ENOENT &&  /* no /proc: try the privileged way */
		    linkat(fd, "", dirfd, base, AT_EMPTY_PATH) == 0)
			return fd;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

/*
 * Opens the last component of a path, never through a symbolic link there
 * (-ELOOP), and without blocking: a FIFO put in a segment's place would
 * stall a read-only open until a writer came.  O_NONBLOCK is cleared once
 * open; shmkit__fd_map() then refuses whatever is not a regular file.
 */
int shmkit__open_last(int dirfd, const char *base, int oflags)
{
	int fd = openat(dirfd, base, oflags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return shmkit__err();
	if (fcntl(fd, F_SETFL, 0) != 0) {
		int err = shmkit__err();
		close(fd);
		return err;
	}
	return fd;
}

/* Opens an existing object; *writable tells whether the fd may write. */
static int open_object(int dirfd, const char *base, unsigned flags, bool *writable)
{
	bool read_enough = (flags & (SHMKIT_RDONLY | SHMKIT_PRIVATE)) != 0;
	int fd;

	if ((flags & SHMKIT_RAW) && read_enough) {
		*writable = false;
		return shmkit__open_last(dirfd, base, O_RDONLY);
	}
	*writable = true;
	fd = shmkit__open_last(dirfd, base, O_RDWR);
	if (fd == -EACCES && read_enough) {
		/* no write access: a managed read-only open becomes an observer */
		*writable = false;
		fd = shmkit__open_last(dirfd, base, O_RDONLY);
	}
	return fd;
}

int shmkit__fd_open(const struct shmkit__name *n, unsigned flags, size_t size,
		    unsigned mode, struct shmkit_region *r)
{
	const char *base;
	int dirfd, fd = -1, err;
	bool writable = false;

	dirfd = open_parent(n->path, &base);
	if (dirfd < 0)
		return dirfd;
	/* Bounded: each round either opens, creates, or loses a create race to
	 * an object that a remover may take away again before we open it. */
	for (int round = 0; round < 64; round++) {
		bool excl = (flags & SHMKIT_CREATE) && (flags & SHMKIT_EXCL);
		if (!excl) {
			fd = open_object(dirfd, base, flags, &writable);
			if (fd >= 0 || fd != -ENOENT || !(flags & SHMKIT_CREATE))
				break;
		}
		fd = create_object(dirfd, base, flags, size, mode, r->image);
		if (fd >= 0) {
			writable = true;
			break;
		}
		if (fd != -EEXIST || excl)
			break;
	}
	close(dirfd);
	if (fd < 0)
		return fd;
	err = shmkit__fd_map(fd, flags, size, writable, r);
	if (err) {
		close(fd);
		return err;
	}
	r->fd = fd;
	return 0;
}

int shmkit__fd_create_memfd(const char *label, size_t size, unsigned flags,
			    struct shmkit_region *r)
{
	int fd, err;

	fd = memfd_create(label ? label : "shmkit", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return shmkit__err();
	err = fill_new(fd, flags, size, 0600, NULL);
	/* no one may shrink it under a peer's mapping: that would be SIGBUS */
	if (!err && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0)
		err = shmkit__err();
	if (!err)
		err = shmkit__fd_map(fd, flags, 0, true, r);
	if (err) {
		close(fd);
		return err;
	}
	r->fd = fd;
	return 0;
}

/* A new open file description of the object behind fd, so this handle's
 * slot lock is its own and not the caller's. */
int shmkit__fd_description(int fd, int oflags)
{
	char proc[64];
	int nfd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	nfd = open(proc, oflags | O_CLOEXEC);
	if (nfd < 0 && errno == ENOENT)
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);  /* no /proc: share it */
	return nfd < 0 ? shmkit__err() : nfd;
}

int shmkit__fd_reopen(int fd, unsigned flags, bool *writable, int *backend)
{
	bool want_write = !(flags & SHMKIT_RAW) || !(flags & (SHMKIT_RDONLY | SHMKIT_PRIVATE));
	struct stat sb;
	int nfd, fl;

	/* before the reopen: reopening a FIFO a peer passed would block */
	if (fstat(fd, &sb) != 0)
		return shmkit__err();
	if (!S_ISREG(sb.st_mode))
		return -ENODEV;
	*backend = backend_of_fd(fd);
	nfd = shmkit__fd_description(fd, want_write ? O_RDWR : O_RDONLY);
	if (nfd == -EACCES && want_write && (flags & (SHMKIT_RDONLY | SHMKIT_PRIVATE)))
		nfd = shmkit__fd_description(fd, O_RDONLY);  /* an observer, then */
	if (nfd < 0)
		return nfd;
	/* what we got, whether reopened or (without /proc) shared */
	fl = fcntl(nfd, F_GETFL);
	if (fl < 0) {
		int err = shmkit__err();
		close(nfd);
		return err;
	}
	*writable = (fl & O_ACCMODE) == O_RDWR;
	return nfd;
}

/*
 * Removes the name of a POSIX object or file.  A symbolic link as the last
 * component is refused (-ELOOP), as every open refuses it.  Should one be
 * swapped in between the look and the unlink, unlinkat() removes the link
 * itself: it never reaches what the link points at.
 */
int shmkit__fd_remove(const struct shmkit__name *n)
{
	const char *base;
	struct stat sb;
	int dirfd, err = 0;

	dirfd = open_parent(n->path, &base);
	if (dirfd < 0)
		return dirfd;
	if (fstatat(dirfd, base, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		err = shmkit__err();
	else if (S_ISLNK(sb.st_mode))
		err = -ELOOP;
	else if (unlinkat(dirfd, base, 0) != 0)
		err = shmkit__err();
	close(dirfd);
	return err;
}

int shmkit__fd_stat(int fd, struct shmkit_stat *st, struct shmkit_hdr *hdr_out)
{
	struct stat sb;
	int err;

	if (fstat(fd, &sb) != 0)
		return shmkit__err();
	if (!S_ISREG(sb.st_mode))
		return -ENODEV;
	st->mode = sb.st_mode & 07777;
	st->uid = sb.st_uid;
	st->gid = sb.st_gid;
	st->removed = sb.st_nlink == 0 && !fd_is_memfd(fd);
	st->shmid = -1;
	st->size = st->total_size = (uint64_t)sb.st_size;
	st->ctime_ns = (int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec;
	st->nattch = -1;
	err = read_header(fd, (uint64_t)sb.st_size, hdr_out);
	if (err == -EPROTO)
		return 0;  /* raw, or not shmkit's: what the kernel knows is all */
	if (err)
		return err;
	shmkit__stat_from_hdr(hdr_out, st);
	return 0;
}
