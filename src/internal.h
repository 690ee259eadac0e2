/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what the library's modules share: the region handle, parsed
 * names and the shmkit__ functions each module exports to the others.
 */
#ifndef SHMKIT_INTERNAL_H
#define SHMKIT_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmkit.h"
#include "region/layout.h"

/* The one place a libc failure becomes -errno (never 0). */
static inline int shmkit__err(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* Largest data size any backend accepts; above it: -EINVAL. */
#define SHMKIT_SIZE_LIMIT ((uint64_t)1 << 46)

/* ---- name.c ---- */
struct shmkit__name {
	int backend;                  /* enum shmkit_backend */
	char path[SHMKIT_NAME_MAX];   /* posix: "/dev/shm/NAME"; file: PATH */
	int32_t key;                  /* sysv */
};
int shmkit__name_parse(const char *name, struct shmkit__name *out);
#define SHMKIT_SHM_DIR "/dev/shm"

/* What a create writes before the segment is published: its kind and the
 * first bytes of its data (a named semaphore's initial value, say). */
struct shmkit__image {
	uint32_t kind;                /* SHMKIT_KIND_* */
	const void *bytes;
	size_t len;
	/* then every 8-byte word of the data from fill_from (8-aligned, > 0)
	 * to its end holds fill_word; 0: no fill (an MPSC ring's EMPTY marks) */
	uint64_t fill_from;
	uint64_t fill_word;
};

/* Fills [data + from, data + size) with @word, 8 bytes at a time. */
static inline void shmkit__image_fill(unsigned char *data, size_t size,
				      const struct shmkit__image *img)
{
	if (!img || !img->fill_from || img->fill_from >= size)
		return;
	uint64_t *w = (uint64_t *)(void *)(data + img->fill_from);
	for (size_t i = 0, n = (size - img->fill_from) / 8; i < n; i++)
		w[i] = img->fill_word;
}

/* ---- region handle (region.c owns it) ---- */
struct shmkit_region {
	int backend;
	unsigned flags;
	int fd;                   /* posix, file, memfd; else -1; mapped */
	int lock_fd;              /* own description for the slot lock, never
				   * mapped: see region.c on fork */
	int shmid;                /* sysv; else -1 */
	void *map;                /* whole mapping */
	size_t map_len;
	struct shmkit_hdr *hdr;   /* managed; NULL when raw */
	void *data;
	size_t size;
	int slot;                 /* peer slot held, -1 none */
	bool hdr_writable;        /* may update statistics and slots */
	pid_t owner;              /* process that holds @slot */
	uint32_t token;           /* sync owner token of @slot, 0 none */
	int sync_err;             /* why sync primitives cannot be used, or 0 */
	const struct shmkit__image *image;  /* for a create; NULL: plain */
	struct shmkit_region *next, *prev; /* registry, for fork */
};

/* ---- header.c ---- */
uint32_t shmkit__hdr_checksum(const struct shmkit_hdr *h);
void shmkit__hdr_init(struct shmkit_hdr *h, uint32_t header_size,
		      uint64_t data_size, uint32_t liveness, uint32_t kind);
/* Validates the immutable part against the object's size in bytes. */
int shmkit__hdr_check(const struct shmkit_hdr *h, uint64_t object_size);
uint32_t shmkit__header_size(void);
int64_t shmkit__now_ns(void);
void shmkit__stat_from_hdr(const struct shmkit_hdr *h, struct shmkit_stat *st);

/* ---- peer.c ---- */
/* How a backend's peers are judged: never read from shared memory, where a
 * hostile peer could change it after validation. */
static inline unsigned shmkit__liveness(int backend)
{
	return (backend == SHMKIT_BACKEND_SYSV || backend == SHMKIT_BACKEND_ANON)
		? SHMKIT_LIVE_PID : SHMKIT_LIVE_OFD;
}

struct shmkit__peer_src {             /* where to look for liveness */
	const struct shmkit_hdr *hdr;     /* mapped header, or a copy */
	unsigned liveness;                /* shmkit__liveness(backend) */
	int fd;                           /* for SHMKIT_LIVE_OFD; -1 none */
	int self_slot;                    /* the caller's own slot, -1 none */
};
int shmkit__slot_claim(struct shmkit_hdr *h, unsigned liveness, int fd,
		       unsigned slot_flags);
void shmkit__slot_release(struct shmkit_hdr *h, unsigned liveness, int fd, int slot);
int shmkit__peers_read(const struct shmkit__peer_src *src,
		       struct shmkit_peer *out, size_t cap, int32_t *alive);
void shmkit__stats_touch(struct shmkit_hdr *h, bool attach);
/* Whether @v is a well-formed token (bits 30-31 aside, which a lock word
 * uses for itself: the reserved bit must be 0). */
int shmkit__token_valid(uint32_t v);
/* What a token word read from shared memory names. */
enum shmkit__token_state {
	SHMKIT_TOKEN_NONE = 0,     /* 0: nobody */
	SHMKIT_TOKEN_INVALID,      /* not a token: garbage in the word */
	SHMKIT_TOKEN_DEAD,         /* an attach that is gone */
	SHMKIT_TOKEN_ALIVE,
	SHMKIT_TOKEN_UNKNOWN,      /* its liveness cannot be told */
};
int shmkit__token_state(const struct shmkit__peer_src *src, uint32_t tok);
/* Liveness of the attach a sync owner token names: 1 alive, 0 dead (its
 * slot is free, claimed anew, or its owner gone), -1 cannot tell. */
int shmkit__token_alive(const struct shmkit__peer_src *src, uint32_t token);
/*
 * A channel side's check of its peer's role word, holding @tok: 0 (alive,
 * never held, or not asked: at most once per poll period unless @force),
 * -EPIPE (the token's attach died: *dead keeps it, so it stays seen until
 * another token holds the role), or -EBADMSG (a malformed token).
 * *next_check is when to ask again.
 */
int shmkit__peer_gone(const struct shmkit__peer_src *src, uint32_t tok, bool force,
		      uint32_t *dead, int64_t *next_check);
/* The token of the attach holding @slot, from its claim word. */
uint32_t shmkit__slot_token(const struct shmkit_hdr *h, int slot);
/* PID recorded in the slot a token names (0 if none). */
int32_t shmkit__token_pid(const struct shmkit_hdr *h, uint32_t token);
/* The PID, start time and PID namespace recorded for a token's attach: 0, or -ESRCH (its
 * slot is free, another attach's, or being rewritten). */
int shmkit__token_proc(const struct shmkit_hdr *h, uint32_t token, int32_t *pid,
		       uint64_t *start_time, uint64_t *pidns);

/* Where the peers of an open region are judged: its mapped header, and its
 * fd and own slot (for the locks' owners, the channels' roles, stat). */
static inline void shmkit__region_peer_src(const struct shmkit_region *r,
					   struct shmkit__peer_src *src)
{
	src->hdr = r->hdr;
	src->liveness = shmkit__liveness(r->backend);
	src->fd = r->fd;
	src->self_slot = r->slot;
}

/* ---- proc.c ---- */
int shmkit__proc_identity(pid_t pid, uint64_t *start_time);
uint64_t shmkit__self_pidns(void);
void shmkit__self_comm(char comm[SHMKIT_COMM_MAX]);
/* 1 alive, 0 dead (gone, zombie, or a different process now), -1 unknown */
int shmkit__pid_alive(pid_t pid, uint64_t start_time, uint64_t pidns);
/* 1 if no process @pid exists in our namespace, or it is a zombie */
int shmkit__pid_gone(pid_t pid);
/* The calling thread's id (cached), and the fork() child's forgetting it. */
pid_t shmkit__tid(void);
void shmkit__tid_forget(void);

/* ---- backends: open or create, map, validate; no registration ---- */
int shmkit__fd_open(const struct shmkit__name *n, unsigned flags, size_t size,
		    unsigned mode, struct shmkit_region *r);
int shmkit__fd_map(int fd, unsigned flags, size_t size, bool fd_writable,
		   struct shmkit_region *r);
int shmkit__fd_create_memfd(const char *label, size_t size, unsigned flags,
			    struct shmkit_region *r);
/* A new open file description of fd's object (no /proc: a shared one). */
int shmkit__fd_description(int fd, int oflags);
int shmkit__fd_reopen(int fd, unsigned flags, bool *writable, int *backend);
int shmkit__fd_stat(int fd, struct shmkit_stat *st, struct shmkit_hdr *hdr_out);
/* Opens a path's last component: never a symlink (-ELOOP), never blocking. */
int shmkit__open_last(int dirfd, const char *base, int oflags);
/* Unlinks a POSIX object's or file's name; a symlink there is -ELOOP. */
int shmkit__fd_remove(const struct shmkit__name *n);
int shmkit__sysv_open(const struct shmkit__name *n, unsigned flags, size_t size,
		      unsigned mode, struct shmkit_region *r);
int shmkit__sysv_attach(int shmid, unsigned flags, size_t size,
			struct shmkit_region *r);
int shmkit__sysv_stat(int shmid, struct shmkit_stat *st);
int shmkit__sysv_find(int32_t key);
int shmkit__anon_create(size_t size, unsigned flags, struct shmkit_region *r);
void shmkit__unmap(struct shmkit_region *r);

/* ---- region.c ---- */
int shmkit__registry_add(struct shmkit_region *r);
/* shmkit_region_open() whose create writes @image before publishing. */
int shmkit__region_open_image(const char *name, unsigned flags, size_t size,
			      unsigned mode, const struct shmkit__image *image,
			      shmkit_region **out);
/* Opens @name whatever its size, or creates it (SHMKIT_CREATE) with @image
 * at @size; a lost create race opens the winner's.  For segments of a kind
 * (named semaphores, channels) that callers then check. */
int shmkit__open_or_create(const char *name, unsigned flags, size_t size,
			   unsigned mode, const struct shmkit__image *image,
			   shmkit_region **out);

/* ---- observe.c: reading a segment without attaching ---- */
/* Copies @len bytes at data offset @off; 0 or a negative errno. */
typedef int (*shmkit__read_fn)(void *ctx, uint64_t off, void *buf, size_t len);
/* What an observer gets: where to judge liveness, the data size, a reader
 * of data bytes, and the segment's kind (SHMKIT_KIND_*). */
typedef int (*shmkit__observe_fn)(const struct shmkit__peer_src *src, uint64_t data_size,
				  shmkit__read_fn rd, void *ctx, uint32_t kind, void *arg);
/* Calls @fn on the segment @name, read without registering: a pread per
 * read on posix and file, a brief read-only attach on System V. */
int shmkit__observe(const char *name, shmkit__observe_fn fn, void *arg);
/* The reader of a mapping's bytes (@ctx: the data's start). */
int shmkit__read_mapped(void *ctx, uint64_t off, void *buf, size_t len);

/* ---- owner polling, shared by the locks and the channel ----
 * A waiter asks whether the owner (or peer) lives once per poll period,
 * counted from its first sleep, however its sleeps end: a signal cuts each
 * one short, and must not put the check off for ever. */
#define SHMKIT_POLL_NS ((int64_t)SHMKIT_OWNER_POLL_MS * 1000000)
/* When the sleep starting at @now must end for the next check. */
static inline int64_t shmkit__poll_until(int64_t *due, int64_t now)
{
	if (*due == 0)
		*due = now + SHMKIT_POLL_NS;
	return *due;
}
/* Whether the check is due at @now (and if so, the next one is set). */
static inline bool shmkit__poll_due(int64_t *due, int64_t now)
{
	if (*due == 0 || now < *due)
		return false;
	*due = now + SHMKIT_POLL_NS;
	return true;
}

/* ---- sync.c: what the primitives share ---- */
/* Checks that [p, p+size) lies in r's usable data, 8-byte aligned. */
int shmkit__prim_check(const shmkit_region *r, const void *p, size_t size);
/* Checks a primitive's tag; stamps (and lists) a fresh zero one. */
int shmkit__prim_tag(shmkit_region *r, _Atomic uint32_t *tag, unsigned type,
		     const void *p);
/* Lists the primitive at data offset @off in the segment's directory. */
void shmkit__syncdir_add(struct shmkit_hdr *h, uint64_t off, unsigned type);
int shmkit__mutex_timed(shmkit_region *r, shmkit_mutex *m, int64_t deadline,
			bool try_only);

/* ---- mutex.c: the owned lock word, shared by the mutex and the rwlock's
 * writers; struct shmkit_mutex_shm is in layout_sync.h ---- */
struct shmkit_mutex_shm;
int shmkit__lockword_acquire(shmkit_region *r, struct shmkit_mutex_shm *s,
			     int64_t deadline, bool try_only);
int shmkit__lockword_held(shmkit_region *r, struct shmkit_mutex_shm *s);
void shmkit__lockword_release(struct shmkit_mutex_shm *s, bool all);
void shmkit__lockword_unlock(struct shmkit_mutex_shm *s);
int shmkit__lockword_consistent(struct shmkit_mutex_shm *s);
/* Resets a lock word and its fields, then publishes @type's tag. */
void shmkit__lockword_reset(struct shmkit_mutex_shm *s, unsigned type);

#endif /* SHMKIT_INTERNAL_H */
