/* SPDX-License-Identifier: MIT */
/*
 * shmkit.h - shared-memory inter-process communication for Linux.
 *
 * Conventions, the same for every call:
 *  - every fallible call returns 0 (or a count >= 0) on success and a
 *    negative errno on failure; shmkit_strerror() explains the code;
 *  - handles are opaque and created through an out-parameter;
 *  - a NULL handle, or NULL for a pointer a call needs, is -EINVAL from
 *    every call; the calls that return a size or a pointer instead
 *    (shmkit_region_base, shmkit_region_size, shmkit_chan_max_msg,
 *    shmkit_chan_region) give 0 or NULL;
 *  - nothing prints and nothing exits;
 *  - a name is "NAME" or "posix:NAME" (POSIX object /NAME), "sysv:KEY" or
 *    "sysv:PATH:PROJ" (System V, key given or from ftok), or "file:PATH"
 *    (a regular file).  Bad names give -EINVAL before any system call.
 *
 * Errnos with a shmkit-specific meaning:
 *   -EPROTO           the object is not a shmkit segment (no shmkit magic)
 *   -EPROTONOSUPPORT  a shmkit segment of a layout version or kind this
 *                     library does not know
 *   -EBADMSG          a shmkit segment whose header is corrupt or truncated
 *   -EIDRM            the region was marked for destruction
 *   -EUSERS           every peer slot of the segment is taken by a live peer
 *   -ELOOP            the last component of a name is a symbolic link, which
 *                     shmkit never follows (nor removes)
 *   -ENODEV           the name is not a regular file (a FIFO, a device ...)
 */
#ifndef SHMKIT_H
#define SHMKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SHMKIT_API __attribute__((visibility("default")))
#else
#define SHMKIT_API
#endif

#define SHMKIT_VERSION_MAJOR 0
#define SHMKIT_VERSION_MINOR 2
#define SHMKIT_VERSION_PATCH 0
#define SHMKIT_VERSION_STRING "0.2.0"

/* Returns the library's version string, e.g. "0.2.0" (it may differ from
 * SHMKIT_VERSION_STRING when the program was built against another).
 * Never fails. */
SHMKIT_API const char *shmkit_version(void);

/* Returns a message for a negative (or positive) errno; never NULL, never
 * fails. */
SHMKIT_API const char *shmkit_strerror(int err);

/* ---------------------------------------------------------------------- */
/* Names                                                                  */

enum shmkit_backend {
	SHMKIT_BACKEND_POSIX = 1, /* shm_open object in /dev/shm */
	SHMKIT_BACKEND_SYSV = 2,  /* shmget segment */
	SHMKIT_BACKEND_FILE = 3,  /* regular file */
	SHMKIT_BACKEND_ANON = 4,  /* MAP_SHARED|MAP_ANONYMOUS or /dev/zero */
	SHMKIT_BACKEND_MEMFD = 5, /* memfd_create */
};

/* Longest accepted "file:" path and POSIX name, in bytes. */
#define SHMKIT_POSIX_NAME_MAX 200
#define SHMKIT_NAME_MAX 4096

/*
 * Checks a segment name without touching the system.  Returns the backend
 * it names (> 0), or -EINVAL for a bad name (NULL, empty, a POSIX name
 * with '/' or outside [A-Za-z0-9._-], "." or "..", a System V key that is 0,
 * negative or out of range, an ftok project id whose low 8 bits are 0),
 * -ENAMETOOLONG for a name over the limits above.
 */
SHMKIT_API int shmkit_name_check(const char *name);

/* ---------------------------------------------------------------------- */
/* Regions                                                                */

typedef struct shmkit_region shmkit_region;

/* Flags for shmkit_region_open() and friends. */
#define SHMKIT_CREATE  0x01u /* create the region when it does not exist */
#define SHMKIT_EXCL    0x02u /* with SHMKIT_CREATE: -EEXIST if it exists */
#define SHMKIT_RDONLY  0x04u /* map the data read-only */
#define SHMKIT_PRIVATE 0x08u /* copy-on-write data mapping (not System V) */
#define SHMKIT_RAW     0x10u /* no shmkit header: data at offset 0 */
#define SHMKIT_DEVZERO 0x20u /* shmkit_region_anon(): map /dev/zero */
#define SHMKIT_FOLLOW  0x40u /* shmkit_chan_open, a reader: each stream's end
			      * once, then the next writer's stream */
#define SHMKIT_OPEN_FLAGS_MASK 0x3fu

/* Default creation mode when mode is 0. */
#define SHMKIT_DEFAULT_MODE 0600u

/*
 * Opens, or creates, the region called @name and maps it.
 *
 * @size is the data size in bytes.  On create it must be 1..limit; when
 * opening an existing region it may be 0 (take what is there) or at most the
 * existing size.  @mode (permission bits only, 0 = 0600) is applied exactly,
 * whatever the umask, as shmget does.  Creation reserves the memory, so a
 * region that does not fit fails here with -ENOSPC, never with SIGBUS later.
 * A managed (non-raw) POSIX or file region is created fully initialised or
 * not at all: no other process can see it half-made.  A System V segment is
 * visible, zero-filled, between shmget and its header: an opener waits for
 * the header (at most about 2 s) while the segment is young and its creator
 * lives.  A read-only System V attach maps everything read-only and is an
 * observer (the kernel still counts it in nattch).
 *
 * The rules of the kernel's shmget, the same on every backend:
 *   -EINVAL   size 0 on create, size above the limit, size larger than the
 *             existing region's, unknown flags or mode bits, a bad name,
 *             a NULL @name or @out
 *   -ENAMETOOLONG  a name over the limits (shmkit_name_check)
 *   -ENOENT   the region does not exist and SHMKIT_CREATE was not given
 *   -EEXIST   SHMKIT_CREATE|SHMKIT_EXCL and the region exists
 *   -EIDRM    the region was marked for destruction while it was opened
 *   -EACCES   its mode forbids the access asked for
 *   -ENOSPC   no room to create it (a full /dev/shm or file system, or the
 *             System V shmall/shmmni limits)
 *   -EPROTO, -EPROTONOSUPPORT, -EBADMSG   a managed open of something that
 *             is not a valid shmkit segment (see the top of this file)
 *   -EOPNOTSUPP  SHMKIT_PRIVATE on System V
 *   -ELOOP, -ENODEV  a symbolic link, or not a regular file (see the top)
 *   -EUSERS   a managed open finds every peer slot held by a live peer
 *   -ENOMEM   no memory for the handle or the mapping
 * and any other negative errno a system call gave.
 *
 * A managed open registers the caller in the segment's peer table; a
 * read-only open that cannot get write access to the object (its mode
 * forbids) maps it as an unregistered observer.
 */
SHMKIT_API int shmkit_region_open(const char *name, unsigned flags,
				  size_t size, unsigned mode,
				  shmkit_region **out);

/*
 * Creates an anonymous shared region, inherited by children across fork():
 * MAP_SHARED|MAP_ANONYMOUS, or a MAP_SHARED mapping of /dev/zero with
 * SHMKIT_DEVZERO.  Allowed flags: SHMKIT_RAW, SHMKIT_DEVZERO.  A child of
 * fork() is registered as a peer of the inherited managed region at once.
 * -EINVAL: @out NULL, @size 0 or above the limit, another flag.  -ENOMEM:
 * no memory for the handle or the mapping.  Plus any error of mmap or of
 * opening /dev/zero.
 */
SHMKIT_API int shmkit_region_anon(size_t size, unsigned flags,
				  shmkit_region **out);

/*
 * Creates a region on a memfd (memfd_create, sealed against shrinking) with
 * the debugging label @label (may be NULL).  Its fd, from shmkit_region_fd(),
 * can be passed to an unrelated process with shmkit_fd_send(); the receiver
 * opens it with shmkit_region_open_fd().  Allowed flags: SHMKIT_RAW.
 * -EINVAL: @out NULL, @size 0 or above the limit, another flag, a label
 * over 200 bytes.  -ENOSPC: no room for the memory (it is reserved here).
 * -ENOMEM, -EMFILE, -ENFILE, and any other error of memfd_create, fcntl
 * or mmap.
 */
SHMKIT_API int shmkit_region_memfd(const char *label, size_t size,
				   unsigned flags, shmkit_region **out);

/*
 * Opens the region behind @fd: a memfd, a POSIX object or a file.  The fd is
 * duplicated; the caller keeps its own.  Allowed flags: SHMKIT_RDONLY,
 * SHMKIT_PRIVATE, SHMKIT_RAW.  -EIDRM if the object was removed (its name
 * unlinked) before this call.  -EINVAL: @out NULL, @fd negative, another
 * flag, a raw @fd of size 0.  -EBADF: @fd is not open.  -ENODEV: not a
 * regular file (a FIFO, a socket, a device).  -EACCES: a writable open of
 * an object this process may only read.  -EPROTO, -EPROTONOSUPPORT,
 * -EBADMSG: a managed open of something that is not a valid shmkit
 * segment.  -EUSERS, -ENOMEM as shmkit_region_open.
 */
SHMKIT_API int shmkit_region_open_fd(int fd, unsigned flags,
				     shmkit_region **out);

/*
 * Opens the System V segment @shmid (as handed over by another process, as
 * X11's MIT-SHM does).  -EIDRM if the segment was marked for destruction.
 * Allowed flags: SHMKIT_RDONLY, SHMKIT_RAW.  -EINVAL: @out NULL, @shmid
 * negative, another flag.  -ENOENT: no segment has that id.  -EACCES: its
 * mode forbids the access.  -EPROTO, -EPROTONOSUPPORT, -EBADMSG, -EUSERS,
 * -ENOMEM as shmkit_region_open.
 */
SHMKIT_API int shmkit_region_open_shmid(int shmid, unsigned flags,
					shmkit_region **out);

/* The start of the data and its size in bytes; NULL and 0 for a NULL @r
 * (they cannot fail otherwise). */
SHMKIT_API void *shmkit_region_base(const shmkit_region *r);
SHMKIT_API size_t shmkit_region_size(const shmkit_region *r);

/* The region's file descriptor (posix, file, memfd), still owned by the
 * handle; -EOPNOTSUPP on System V and anonymous regions; -EINVAL for a
 * NULL @r. */
SHMKIT_API int shmkit_region_fd(const shmkit_region *r);

/* How the data reaches its file: flags for shmkit_region_sync(). */
#define SHMKIT_SYNC       0x1u /* msync(MS_SYNC): written when it returns */
#define SHMKIT_ASYNC      0x2u /* msync(MS_ASYNC): scheduled */
#define SHMKIT_INVALIDATE 0x4u /* msync(MS_INVALIDATE), with either above */

/*
 * Syncs data bytes [offset, offset+length) (length 0: to the end) to the
 * backing object.  Exactly one of SHMKIT_SYNC and SHMKIT_ASYNC, optionally
 * with SHMKIT_INVALIDATE.  -EINVAL for a NULL @r, bad flags or a range
 * outside the data.  -EIO: writing back to the file failed.  -EBUSY:
 * SHMKIT_INVALIDATE over memory locked with mlock.  Meaningful for file
 * regions; harmless elsewhere.
 */
SHMKIT_API int shmkit_region_sync(shmkit_region *r, size_t offset,
				  size_t length, unsigned flags);

/* Detaches and frees the handle.  Returns 0, or the first error of shmdt,
 * munmap or close met while releasing (the handle is freed all the same);
 * -EINVAL for a NULL @r. */
SHMKIT_API int shmkit_region_close(shmkit_region *r);

/*
 * Marks the region called @name for destruction: new opens fail at once,
 * processes attached keep working, and the memory goes when the last one
 * detaches (IPC_RMID semantics).  Works on any object, shmkit's or not.
 * -ENOENT if there is none, -ELOOP for a symbolic link (neither it nor its
 * target is removed), -EPERM or -EACCES without the right to remove it,
 * -EINVAL for a bad or NULL name, -ENAMETOOLONG for a name over the limits.
 */
SHMKIT_API int shmkit_remove(const char *name);

/* ---------------------------------------------------------------------- */
/* Statistics and peers: the shmid_ds of every backend                     */

struct shmkit_stat {
	int backend;          /* enum shmkit_backend */
	int managed;          /* 1: carries a shmkit header */
	int removed;          /* 1: marked for destruction */
	uint32_t version;     /* layout version (managed), else 0 */
	uint64_t size;        /* data bytes */
	uint64_t total_size;  /* bytes of the object: header + data */
	uint32_t mode;        /* permission bits */
	uint32_t uid, gid;    /* owner */
	int32_t cpid;         /* creator PID, 0 if unknown */
	int32_t lpid;         /* PID of the last attach or detach, 0 if none */
	int32_t nattch;       /* attached processes alive, -1 if unknown */
	int32_t shmid;        /* System V id, else -1 */
	int64_t atime_ns;     /* last attach, ns since the epoch, 0 if none */
	int64_t dtime_ns;     /* last detach */
	int64_t ctime_ns;     /* creation or last change of mode/owner */
	uint64_t reserved[6];
};

/*
 * Statistics of the region called @name, read without attaching to it (a
 * raw or foreign object is no error: managed is 0).  -EINVAL: @st NULL, a
 * bad or NULL name.  -ENAMETOOLONG, -ENOENT, -ELOOP, -ENODEV as
 * shmkit_region_open; -EACCES: its mode forbids reading it; -EBADMSG,
 * -EPROTONOSUPPORT: a shmkit header that is corrupt or of an unknown
 * version.
 */
SHMKIT_API int shmkit_stat(const char *name, struct shmkit_stat *st);
/* Statistics of an open region.  -EINVAL: @r or @st NULL.  -EBADMSG: the
 * header no longer checks (a file truncated under the handle).  Plus any
 * error of fstat or IPC_STAT. */
SHMKIT_API int shmkit_region_stat(const shmkit_region *r,
				  struct shmkit_stat *st);

#define SHMKIT_COMM_MAX 16

struct shmkit_peer {
	uint32_t slot;        /* index in the segment's peer table */
	int32_t pid;          /* in the peer's own PID namespace */
	uint32_t uid;
	int alive;            /* 1 alive, 0 dead, -1 cannot tell */
	int other_pidns;      /* 1: pid is from another PID namespace */
	int self;             /* 1: this very handle */
	int64_t attach_ns;    /* when it attached, ns since the epoch */
	char comm[SHMKIT_COMM_MAX]; /* its command name */
};

/*
 * Fills @out with up to @cap peers of a managed segment: live ones, and the
 * dead that did not detach.  Returns how many there are (may exceed @cap),
 * or a negative errno: -EPROTO for a raw or foreign object; -EINVAL for
 * @out NULL with @cap > 0, a NULL @r, or (by name) a bad or NULL name; by
 * name, the errors of shmkit_stat too.
 *
 * Liveness of posix, file and memfd peers comes from a lock the kernel drops
 * the moment the peer dies, so recycled PIDs, zombies and PID namespaces do
 * not fool it.  System V and anonymous peers are judged by PID identity
 * (PID plus start time, zombies count as dead); in another PID namespace
 * that gives -1.
 */
SHMKIT_API int shmkit_peers(const char *name, struct shmkit_peer *out,
			    size_t cap);
SHMKIT_API int shmkit_region_peers(const shmkit_region *r,
				   struct shmkit_peer *out, size_t cap);

/* ---------------------------------------------------------------------- */
/* Synchronization in shared memory: mutex, semaphore, rwlock, event       */
/*
 * The primitives live inside a managed region's data (any backend: posix,
 * sysv, file, anonymous, memfd), anywhere 8-byte aligned; each call names
 * the region and a pointer into its data.  Their layout is shmkit's own,
 * fixed and versioned (docs/architecture.md), not a libc's pthread type.
 * Zero bytes are a valid fresh primitive: unlocked, value 0; the *_init
 * calls reset one and list it in the segment's directory, so that
 * `shmkit stat` shows it (the first use lists a zero-initialised one).
 *
 * Common errors, of every call below: -EINVAL a NULL region or a NULL,
 * misaligned or out-of-region pointer, or a primitive of another type
 * there (the *_init calls take any type over); -EBADMSG garbage in its
 * words (a crashed or hostile peer), never a hang or a crash; -EOPNOTSUPP
 * a raw or private (copy-on-write) region; -EROFS a region opened
 * read-only, or one this handle could not register in.  Each comment
 * below lists what a call adds to them.
 *
 * Timeouts are relative, in nanoseconds: SHMKIT_FOREVER waits without end,
 * 0 only tries.  Waiting means a short spin, then a futex sleep; an
 * operation that need not wait makes no system call.
 *
 * Owners are attaches, not threads: a lock is held by the process (through
 * the region handle it locked with) and the thread that took it; only that
 * thread may unlock it (-EPERM).  Owner death is the death of the process,
 * or its closing of the region while it holds the lock.  It is judged by the
 * owner's peer slot (a kernel-held file lock on posix, file and memfd; PID
 * and start time on sysv and anonymous), so a recycled PID cannot fake a
 * live owner.  A trylock asks at once; a locker that has to wait asks each
 * SHMKIT_OWNER_POLL_MS it sleeps with the same owner, so it notices a death
 * within that period.
 */
#define SHMKIT_FOREVER ((int64_t)-1)
#define SHMKIT_OWNER_POLL_MS 10

typedef struct shmkit_mutex { uint64_t opaque_[4]; } shmkit_mutex;     /* 32 B */
typedef struct shmkit_sem { uint64_t opaque_[2]; } shmkit_sem;         /* 16 B */
typedef struct shmkit_event { uint64_t opaque_[2]; } shmkit_event;     /* 16 B */
typedef struct shmkit_rwlock { uint64_t opaque_[128]; } shmkit_rwlock; /* 1 KiB */

/*
 * Robust mutex.  lock/timedlock return 0, or -EOWNERDEAD: the previous
 * owner died holding it; the caller now holds it and should repair the
 * data, then call shmkit_mutex_consistent().  Unlocking without that makes
 * the mutex -ENOTRECOVERABLE for every later locker (shmkit_mutex_init
 * resets it).  -EDEADLK: the calling thread holds it already.  trylock:
 * -EBUSY (also when the caller holds it).  timedlock: -ETIMEDOUT (with a
 * timeout of 0 it is a trylock that says so).  A signal does not interrupt the wait:
 * the call goes on waiting (for the time left).
 *   init        nothing but the common errors
 *   lock        0, -EOWNERDEAD, -ENOTRECOVERABLE, -EDEADLK
 *   trylock     0, -EOWNERDEAD, -ENOTRECOVERABLE, -EBUSY
 *   timedlock   0, -EOWNERDEAD, -ENOTRECOVERABLE, -EDEADLK, -ETIMEDOUT
 *   unlock      0, -EPERM (the calling thread does not hold it through @r)
 *   consistent  0, -EPERM (as unlock), -EINVAL (no owner died: nothing to
 *               mark consistent)
 */
SHMKIT_API int shmkit_mutex_init(shmkit_region *r, shmkit_mutex *m);
SHMKIT_API int shmkit_mutex_lock(shmkit_region *r, shmkit_mutex *m);
SHMKIT_API int shmkit_mutex_trylock(shmkit_region *r, shmkit_mutex *m);
SHMKIT_API int shmkit_mutex_timedlock(shmkit_region *r, shmkit_mutex *m,
				      int64_t timeout_ns);
SHMKIT_API int shmkit_mutex_unlock(shmkit_region *r, shmkit_mutex *m);
SHMKIT_API int shmkit_mutex_consistent(shmkit_region *r, shmkit_mutex *m);

/*
 * Counting semaphore, as sem_init(s, 1, value).  wait: 0, -ETIMEDOUT
 * (timedwait), -EAGAIN (trywait, value 0), -EINTR (a signal handler ran
 * while it slept, as sem_wait does).  post: -EOVERFLOW above
 * SHMKIT_SEM_VALUE_MAX.  value: the count (>= 0) or an error.  A holder that
 * dies does not give its unit back: a semaphore has no owner.  A unit whose
 * poster (or whose woken waiter) died before a sleeper was told of it
 * reaches a sleeper within SHMKIT_OWNER_POLL_MS.
 *   init       0, -EINVAL (@value above SHMKIT_SEM_VALUE_MAX)
 *   wait       0, -EINTR
 *   trywait    0, -EAGAIN
 *   timedwait  0, -ETIMEDOUT, -EINTR
 *   post       0, -EOVERFLOW
 *   value      the count (>= 0)
 * and the common errors; -EBADMSG also for a value word above the maximum.
 */
#define SHMKIT_SEM_VALUE_MAX 0x7fffffff
SHMKIT_API int shmkit_sem_init(shmkit_region *r, shmkit_sem *s, unsigned value);
SHMKIT_API int shmkit_sem_wait(shmkit_region *r, shmkit_sem *s);
SHMKIT_API int shmkit_sem_trywait(shmkit_region *r, shmkit_sem *s);
SHMKIT_API int shmkit_sem_timedwait(shmkit_region *r, shmkit_sem *s,
				    int64_t timeout_ns);
SHMKIT_API int shmkit_sem_post(shmkit_region *r, shmkit_sem *s);
SHMKIT_API int shmkit_sem_value(shmkit_region *r, shmkit_sem *s);

/*
 * Named semaphore, as sem_open(): a small segment called @name (any name
 * shmkit_region_open takes) holding one semaphore.  With SHMKIT_CREATE it is
 * created, with initial @value, if missing (SHMKIT_EXCL: -EEXIST if not);
 * the value is in place before any other process can open it.  *r is the
 * segment (close it with shmkit_region_close, remove it with
 * shmkit_remove); *s the semaphore in it.  -EPROTONOSUPPORT if @name holds
 * a segment that is not a named semaphore.  -EINVAL: @r or @s NULL (nothing
 * is created), a bad or NULL name, @value above SHMKIT_SEM_VALUE_MAX, a flag
 * other than SHMKIT_CREATE and SHMKIT_EXCL (SHMKIT_EXCL alone), mode bits
 * outside 0777.  -EEXIST, -ENOENT and every other error of
 * shmkit_region_open.
 */
SHMKIT_API int shmkit_sem_open(const char *name, unsigned flags, unsigned mode,
			       unsigned value, shmkit_region **r, shmkit_sem **s);

/*
 * Reader-writer lock that prefers writers: once a writer waits, new readers
 * wait behind it, so readers cannot starve writers.  Robust both ways: a
 * dead reader's holds are dropped; a dead writer makes the next locker
 * (reader or writer) get -EOWNERDEAD with the lock held.  The lock stays
 * inconsistent, and readers keep getting -EOWNERDEAD, until a writer calls
 * shmkit_rwlock_consistent(); a writer that unlocks without doing so makes
 * it -ENOTRECOVERABLE.  Other returns as for the mutex (-EBUSY, -ETIMEDOUT,
 * -EDEADLK: the caller's thread holds the write lock; -EPERM: unlocking a
 * lock not held).  Signals do not interrupt the wait.  Read locks do not
 * nest across a waiting writer: a thread that holds a read lock and asks
 * for another while a writer waits waits behind that writer, for ever.
 *   init                 nothing but the common errors
 *   rdlock               0, -EOWNERDEAD, -ENOTRECOVERABLE, -EDEADLK,
 *                        -EAGAIN (this handle holds 2^32 - 1 read locks)
 *   tryrdlock            as rdlock, and -EBUSY
 *   timedrdlock          as rdlock, and -ETIMEDOUT
 *   rdunlock             0, -EPERM (this handle holds no read lock)
 *   wrlock               0, -EOWNERDEAD, -ENOTRECOVERABLE, -EDEADLK
 *   trywrlock            as wrlock, and -EBUSY (a writer or a reader holds it)
 *   timedwrlock          as wrlock, and -ETIMEDOUT
 *   wrunlock             0, -EPERM (the calling thread does not hold the
 *                        write lock through @r)
 *   consistent           0, -EPERM (as wrunlock), -EINVAL (no writer died)
 * and the common errors.
 */
SHMKIT_API int shmkit_rwlock_init(shmkit_region *r, shmkit_rwlock *l);
SHMKIT_API int shmkit_rwlock_rdlock(shmkit_region *r, shmkit_rwlock *l);
SHMKIT_API int shmkit_rwlock_tryrdlock(shmkit_region *r, shmkit_rwlock *l);
SHMKIT_API int shmkit_rwlock_timedrdlock(shmkit_region *r, shmkit_rwlock *l,
					 int64_t timeout_ns);
SHMKIT_API int shmkit_rwlock_rdunlock(shmkit_region *r, shmkit_rwlock *l);
SHMKIT_API int shmkit_rwlock_wrlock(shmkit_region *r, shmkit_rwlock *l);
SHMKIT_API int shmkit_rwlock_trywrlock(shmkit_region *r, shmkit_rwlock *l);
SHMKIT_API int shmkit_rwlock_timedwrlock(shmkit_region *r, shmkit_rwlock *l,
					 int64_t timeout_ns);
SHMKIT_API int shmkit_rwlock_wrunlock(shmkit_region *r, shmkit_rwlock *l);
SHMKIT_API int shmkit_rwlock_consistent(shmkit_region *r, shmkit_rwlock *l);

/*
 * Event: a sequence number that every wake bumps, with waiting on it.
 *   prepare  reads the sequence into *ticket;
 *   wait     sleeps until the sequence differs from @ticket (a wake since
 *            prepare): 0, -ETIMEDOUT, -EINTR (a signal handler ran);
 *   wake_one / wake_all bump the sequence and wake one / every sleeper.
 * The pattern that loses no wake-up: prepare, test your condition, wait.
 * wait_mutex is a condition variable: it unlocks @m (which the caller must
 * hold, else -EPERM), waits, and relocks @m before it returns: 0 (also
 * after a signal: a spurious wake-up), -ETIMEDOUT, or the relock's error
 * (-EOWNERDEAD ...).
 *   init, wake_one, wake_all   nothing but the common errors
 *   prepare      0, -EINVAL (@ticket NULL)
 *   wait         0, -ETIMEDOUT, -EINTR
 *   wait_mutex   0, -ETIMEDOUT, -EPERM, -EINVAL (@m NULL, or the common
 *                errors of @m), -EOWNERDEAD, -ENOTRECOVERABLE
 * and the common errors.
 */
SHMKIT_API int shmkit_event_init(shmkit_region *r, shmkit_event *e);
SHMKIT_API int shmkit_event_prepare(shmkit_region *r, shmkit_event *e,
				    uint32_t *ticket);
SHMKIT_API int shmkit_event_wait(shmkit_region *r, shmkit_event *e,
				 uint32_t ticket, int64_t timeout_ns);
SHMKIT_API int shmkit_event_wait_mutex(shmkit_region *r, shmkit_event *e,
				       shmkit_mutex *m, int64_t timeout_ns);
SHMKIT_API int shmkit_event_wake_one(shmkit_region *r, shmkit_event *e);
SHMKIT_API int shmkit_event_wake_all(shmkit_region *r, shmkit_event *e);

/* What `shmkit stat` shows of each listed primitive. */
enum shmkit_prim_type {
	SHMKIT_PRIM_MUTEX = 1,
	SHMKIT_PRIM_SEM = 2,
	SHMKIT_PRIM_RWLOCK = 3,
	SHMKIT_PRIM_EVENT = 4,
};

struct shmkit_prim_info {
	int type;             /* enum shmkit_prim_type */
	uint64_t offset;      /* in the data */
	int corrupt;          /* 1: its words fail validation; nothing below */
	int locked;           /* mutex, rwlock: a writer holds it */
	int32_t owner_pid;    /* of the holder, 0 if none */
	int owner_alive;      /* 1 alive, 0 dead, -1 cannot tell */
	int state;            /* 0 consistent, 1 owner died, 2 not recoverable */
	uint32_t waiters;     /* asleep in the kernel (a waiter killed asleep
			       * stays counted) */
	uint32_t value;       /* sem: value; rwlock: read holds; event: sequence */
	uint64_t recoveries;  /* mutex: owner deaths recovered */
	uint64_t reserved[4];
};

/*
 * Fills @out with up to @cap of the primitives listed in the segment's
 * directory (the first 40 initialised or used); returns how many are
 * listed, or a negative errno: -EPROTO for a raw or foreign object;
 * -EINVAL for @out NULL with @cap > 0, a NULL @r, or (by name) a bad or
 * NULL name; by name, the errors of shmkit_stat too.  Entries whose bytes
 * are not a valid primitive come back corrupt (not an error).
 */
SHMKIT_API int shmkit_prims(const char *name, struct shmkit_prim_info *out,
			    size_t cap);
SHMKIT_API int shmkit_region_prims(shmkit_region *r,
				   struct shmkit_prim_info *out, size_t cap);

/* ---------------------------------------------------------------------- */
/* Channels: messages from one writer (or many) to one reader, in a ring   */
/*
 * A channel is a segment (any name shmkit_region_open takes) whose data is
 * a ring of variable-length messages, 1 byte up to capacity / 4, with the
 * writer's and the reader's positions on separate cache lines and no lock.
 * Either side may start first.  A message counts as sent when it is
 * committed (send returns), and as delivered when it is released (recv
 * returns it): a writer killed anywhere before that exposes nothing, a
 * reader killed before that leaves the message for the next reader.
 *
 * The writer and the reader each register in the segment's peer table; the
 * role words name their attaches, so the other side's death is seen by the
 * kernel-kept liveness of that slot (within SHMKIT_OWNER_POLL_MS when it
 * waits), never by PID alone.  A new process may take over the role of a
 * dead writer or reader and carry on from the published positions.
 *
 * Kinds, chosen at creation (struct shmkit_chan_opts.kind):
 *  - SHMKIT_CHAN_SPSC (the default): one writer, one reader, as above.
 *  - SHMKIT_CHAN_MPSC: up to SHMKIT_CHAN_MPSC_WRITERS (64) writers at once
 *    and one reader.  Every opener as SHMKIT_CHAN_WRITER joins (-EUSERS
 *    when 64 live writers hold the table).  The reader gets one total
 *    order, each writer's messages in that writer's order.  A writer
 *    claims its record with one atomic operation and no lock, then writes
 *    and commits it in place; the calls are the same.  Differences:
 *    - a writer holds one reservation at a time: reserve first commits the
 *      writer's previous reservation, which must be fully written by then;
 *      a reservation holds back every later message of every writer until
 *      it is committed, so commit soon;
 *    - a writer killed between reserve and commit: the reader finds the
 *      record's writer dead by its kernel-kept liveness (no timeout; within
 *      SHMKIT_OWNER_POLL_MS when it waits there), skips the record and
 *      counts it lost (shmkit_chan_info.lost); committed messages are
 *      never lost;
 *    - the stream ends (recv returns 0) when writers have joined, all of
 *      them have closed, and everything is read; -EPIPE instead when none
 *      is left but one at least died without closing.  A writer joining
 *      later opens the stream again;
 *    - the reader marks every byte it releases as free space for the next
 *      round of the ring (an 8-byte store per 8 bytes of records).
 *
 *  - SHMKIT_CHAN_BROADCAST: one writer and up to SHMKIT_CHAN_SUBSCRIBERS
 *    (64) subscribers (openers as SHMKIT_CHAN_READER), each reading every
 *    message at its own pace from a cursor in a slot of its own; -EUSERS
 *    when 64 live subscribers hold the table.  A subscriber joins at the
 *    next message, the newest one held or the oldest one held
 *    (opts->start), and may leave (close) at any time.  The policy, chosen
 *    at creation (opts->overflow):
 *    - SHMKIT_BCAST_BACKPRESSURE: the writer waits for the slowest live
 *      subscriber; one found dead by its kernel-kept liveness (at the
 *      writer's first wait, then each SHMKIT_OWNER_POLL_MS) is dropped, so
 *      it never holds the writer back.  With no subscriber the writer never
 *      waits: the oldest messages go;
 *    - SHMKIT_BCAST_OVERWRITE: the writer never waits.  A subscriber that
 *      was lapped gets -EOVERFLOW once from recv or peek (or from release:
 *      what it peeked since its last release was written over while held,
 *      so may be torn: discard it), with the number of messages it missed
 *      in shmkit_chan_missed(); its next call gives the oldest message
 *      still held.  It never gets a torn message: each copy is checked
 *      against the writer's head after it is made (a seqlock).
 *    A subscriber that opens with SHMKIT_RDONLY maps the control block and
 *    the ring read-only (mprotect); only the pages of the subscriber table
 *    stay writable.  A writer holds one reservation at a time (reserve
 *    commits the previous one); closing ends the stream for every
 *    subscriber (recv 0 once read); -EPIPE once a dead writer's messages
 *    are read.
 */
typedef struct shmkit_chan shmkit_chan;

enum shmkit_chan_role { SHMKIT_CHAN_WRITER = 1, SHMKIT_CHAN_READER = 2 };

/* How a side waits for room or for a message. */
enum shmkit_wait {
	SHMKIT_WAIT_DEFAULT = 0,    /* the channel's, chosen at creation */
	SHMKIT_WAIT_SPIN = 1,       /* spin only: lowest latency, a busy CPU */
	SHMKIT_WAIT_SPIN_SLEEP = 2, /* spin for spin_ns, then sleep (default) */
	SHMKIT_WAIT_SLEEP = 3,      /* sleep at once */
};
#define SHMKIT_SPIN_NS_DEFAULT 50000u

/* What a channel is, chosen at its creation. */
enum shmkit_chan_kind {
	SHMKIT_CHAN_SPSC = 1,       /* one writer, one reader (the default) */
	SHMKIT_CHAN_MPSC = 2,       /* up to 64 writers, one reader */
	SHMKIT_CHAN_BROADCAST = 3,  /* one writer, up to 64 subscribers */
};
#define SHMKIT_CHAN_MPSC_WRITERS 64
#define SHMKIT_CHAN_SUBSCRIBERS 64

/* A broadcast channel's policy when a subscriber lags a ring behind. */
enum shmkit_bcast_overflow {
	SHMKIT_BCAST_BACKPRESSURE = 0,  /* the writer waits (the default) */
	SHMKIT_BCAST_OVERWRITE = 1,     /* the writer never waits */
};
/* Where a new broadcast subscriber starts. */
enum shmkit_sub_start {
	SHMKIT_SUB_NEXT = 0,      /* the next message sent (the default) */
	SHMKIT_SUB_NEWEST = 1,    /* the newest message held, then on */
	SHMKIT_SUB_OLDEST = 2,    /* the oldest message held, then on (under
				   * backpressure the writer frees up to an
				   * eighth of the ring ahead of need) */
};

struct shmkit_chan_opts {
	size_t capacity;      /* ring bytes on create: a power of two, 64 B..1 GiB
			       * (0: 1 MiB); ignored on open */
	unsigned mode;        /* on create, 0: 0600 */
	unsigned policy;      /* enum shmkit_wait: on create, the channel's (0:
			       * spin then sleep); on open, this handle's (0:
			       * the channel's) */
	uint32_t spin_ns;     /* spin budget, the same way (0 on create:
			       * SHMKIT_SPIN_NS_DEFAULT) */
	uint32_t kind;        /* enum shmkit_chan_kind: on create, what to make
			       * (0: SPSC); on open, 0 takes any kind, another
			       * value must match the channel's (-EPROTOTYPE) */
	uint32_t overflow;    /* broadcast, on create: enum shmkit_bcast_overflow */
	uint32_t start;       /* broadcast subscriber, on open: enum shmkit_sub_start */
	uint64_t reserved[3];
};

/*
 * Opens the channel @name as its writer or its reader (@role), creating it
 * with SHMKIT_CREATE (SHMKIT_EXCL: -EEXIST if it exists).  @opts may be
 * NULL.  -EBUSY: the role is held by a live process (the reader's; an
 * SPSC writer's; a broadcast writer's).  -EUSERS: an MPSC channel's 64
 * writer entries, or a broadcast channel's 64 subscriber slots, are all
 * held by live processes.  Flags: SHMKIT_CREATE, SHMKIT_EXCL, and
 * SHMKIT_RDONLY for a broadcast subscriber (-EINVAL for a writer,
 * -EOPNOTSUPP on another kind of channel), and SHMKIT_FOLLOW for a reader:
 * the end of a stream (0) and a dead writer's -EPIPE are returned once
 * each, after which the reader waits for the next writer's stream, as a
 * log collector does (-EINVAL for a writer).  -EPROTONOSUPPORT: @name is a segment but not a
 * channel, or a channel of a layout version this library does not know
 * (one made by shmkit 0.1 or 0.2).  -EPROTOTYPE: opts->kind is not the channel's
 * kind.  -EBADMSG: its control block is corrupt.  -EINVAL: @out NULL, a
 * bad capacity, kind, policy, overflow, start, mode, role or flag.
 * -ENOMEM.  Plus every error of shmkit_region_open.
 */
SHMKIT_API int shmkit_chan_open(const char *name, unsigned flags, int role,
				const struct shmkit_chan_opts *opts,
				shmkit_chan **out);
/* Creates the channel @name without taking a role (SHMKIT_EXCL: -EEXIST if
 * it exists; an existing channel is left as it is).  -EPROTONOSUPPORT if
 * @name exists and is not a channel (or one of an unknown layout version);
 * -EPROTOTYPE if opts->kind is not the existing channel's; -EBADMSG for
 * a corrupt one; -EINVAL as shmkit_chan_open, and for SHMKIT_RDONLY.
 * Plus every error of shmkit_region_open. */
SHMKIT_API int shmkit_chan_create(const char *name, unsigned flags,
				  const struct shmkit_chan_opts *opts);
/* Closes the handle.  A writer first commits what it reserved and ends the
 * stream: the reader drains it, then recv returns 0 (MPSC: once every
 * writer has closed).  0, or the error of shmkit_region_close (the handle
 * is freed all the same); -EINVAL for a NULL @c. */
SHMKIT_API int shmkit_chan_close(shmkit_chan *c);

/*
 * Copies @len bytes (1 .. max message) in as one message and commits it.
 * 0; -EMSGSIZE (len 0 or above the maximum); -EAGAIN (timeout 0, no room);
 * -ETIMEDOUT; -EPIPE (the reader died: nobody will make room; a waiting
 * call asks every SHMKIT_OWNER_POLL_MS, a call with timeout 0 at once);
 * -EINTR (a signal handler ran while it slept); -EBADMSG (the channel is
 * corrupt); -EPERM (@c is a reader); -EINVAL (@c NULL, or @buf NULL with
 * @len > 0).
 */
SHMKIT_API int shmkit_chan_send(shmkit_chan *c, const void *buf, size_t len,
				int64_t timeout_ns);
/*
 * Copies the next message out.  Returns its length; 0 at the end of the
 * stream (the writer closed and everything was read); -EMSGSIZE if @cap is
 * too small (the message stays; shmkit_chan_max_msg tells the bound);
 * -EAGAIN, -ETIMEDOUT, -EINTR as send; -EPIPE once a dead writer's messages
 * are all read (MPSC: when no writer is left and one died); -EBADMSG for a
 * corrupt channel; -EOVERFLOW: a broadcast subscriber was lapped
 * (overwrite policy; shmkit_chan_missed tells how many messages it
 * missed, and the next call gives the oldest message held); -EPERM: @c
 * is a writer; -EINVAL: @c NULL, or @buf NULL with @cap > 0.
 */
SHMKIT_API long shmkit_chan_recv(shmkit_chan *c, void *buf, size_t cap,
				 int64_t timeout_ns);

/*
 * Zero copy.  reserve gives @len bytes in the ring at *p to write in place;
 * commit publishes every reservation made since the last commit, at once.
 * A reservation must be fully written before the next reserve, which
 * publishes the earlier ones itself if it has to wait for room.
 * peek gives the next message in place (*p, returns its length, or 0 / an
 * error as recv); successive peeks give successive messages; release hands
 * every peeked message back to the writer at once.  Release before a peek
 * that may wait: the room a writer waits for may be what you hold.
 * MPSC: a writer holds one reservation at a time (reserve commits the
 * previous one, which must be fully written); commit publishes it.
 *   reserve  0; -EINVAL (@c or @p NULL); -EPERM (@c is a reader);
 *            -EMSGSIZE, -EAGAIN, -ETIMEDOUT, -EPIPE, -EINTR, -EBADMSG as
 *            send
 *   commit   0; -EINVAL (@c NULL); -EPERM (@c is a reader)
 *   peek     the length; 0 at the end; -EINVAL (@c or @p NULL); -EPERM
 *            (@c is a writer); -EAGAIN, -ETIMEDOUT, -EINTR, -EPIPE,
 *            -EBADMSG, -EOVERFLOW as recv
 *   release  0; -EINVAL (@c NULL); -EPERM (@c is a writer); -EOVERFLOW (a
 *            broadcast subscriber whose peeked messages were written over)
 */
SHMKIT_API int shmkit_chan_reserve(shmkit_chan *c, size_t len, void **p,
				   int64_t timeout_ns);
SHMKIT_API int shmkit_chan_commit(shmkit_chan *c);
SHMKIT_API long shmkit_chan_peek(shmkit_chan *c, const void **p,
				 int64_t timeout_ns);
SHMKIT_API int shmkit_chan_release(shmkit_chan *c);

/*
 * A broadcast subscriber's gaps (overwrite policy): *last gets the number
 * of messages skipped by the latest -EOVERFLOW (0 if none yet), *total the
 * number missed since it joined; either may be NULL.  0; -EPERM if @c
 * is not a broadcast subscriber; -EINVAL for a NULL @c.
 */
SHMKIT_API int shmkit_chan_missed(const shmkit_chan *c, uint64_t *last, uint64_t *total);

/* Sets this handle's wait policy and spin budget; 0 for either: the
 * channel's, chosen at its creation.  -EINVAL: @c NULL, or @policy not an
 * enum shmkit_wait. */
SHMKIT_API int shmkit_chan_set_wait(shmkit_chan *c, unsigned policy,
				    uint32_t spin_ns);
/*
 * The handle's event-loop fd, for epoll, poll, select, libuv, libevent:
 * made at the first call, owned by the handle (close-on-exec; closed by
 * shmkit_chan_close, never by the caller), the same fd at every call.
 * It is level-triggered: it polls readable (POLLIN, EPOLLIN) whenever the
 * handle's next call with timeout 0 would not return -EAGAIN:
 *   a reader or subscriber: a message, the end of the stream (0), a dead
 *     writer (-EPIPE), a lapped subscriber (-EOVERFLOW);
 *   a writer: room after a full ring, a dead reader (-EPIPE).
 * Drain it with calls of timeout 0 (send, reserve, recv, peek) until one
 * returns -EAGAIN: that call arms the fd, and it stays quiet until there
 * is progress again.  It may poll readable with nothing to do (right
 * after it is made, or after a peer came or left): the next call then
 * returns -EAGAIN and re-arms.  A writer's commit makes a system call
 * only when its reader is armed or asleep, once per arming.  A peer's
 * death makes it readable through the peer's pidfd (Linux 5.3 and on;
 * without one, by a timer of SHMKIT_OWNER_POLL_MS while that peer lives).
 * Calls that wait (timeout > 0) still work on the handle; one that times
 * out or is interrupted leaves the fd armed, one that returns a message
 * leaves it to the drain.  With SHMKIT_FOLLOW, a reader told the end of a
 * stream stays quiet until the next writer comes.  One thread uses a
 * handle at a time, as every call of a channel.
 * Returns the fd, or -EINVAL (@c NULL), -EMFILE, -ENFILE, -ENOMEM.
 */
SHMKIT_API int shmkit_chan_fd(shmkit_chan *c);
/* The largest message, in bytes; 0 for a NULL @c. */
SHMKIT_API size_t shmkit_chan_max_msg(const shmkit_chan *c);
/* The other side's PID (0: none yet) and, in *alive (may be NULL),
 * 1/0/-1.  An MPSC reader gets the writer of the lowest held writer entry.
 * -EINVAL for a NULL @c. */
SHMKIT_API int32_t shmkit_chan_peer_pid(shmkit_chan *c, int *alive);
/* The region the channel lives in (still owned by the handle); NULL for a
 * NULL @c. */
SHMKIT_API shmkit_region *shmkit_chan_region(shmkit_chan *c);

struct shmkit_chan_info {
	int kind;             /* enum shmkit_chan_kind */
	uint64_t capacity;    /* ring bytes */
	uint64_t max_msg;
	uint64_t used;        /* bytes published and not yet released */
	uint64_t in_flight;   /* messages sent and not yet received */
	uint64_t sent, received;    /* counted after publication: a side killed
				     * in between leaves them short by a batch */
	int closed;           /* the writer ended the stream (MPSC: writers
			       * joined, and every one closed) */
	int32_t writer_pid, reader_pid;   /* 0: never had one (MPSC: the
					   * writer of the lowest held entry) */
	int writer_alive, reader_alive;   /* 1, 0, -1 cannot tell */
	uint64_t lost;        /* MPSC: records of dead writers skipped */
	uint32_t writers;     /* MPSC: writer entries held by live writers
			       * (or ones whose liveness cannot be told) */
	uint32_t writers_dead;  /* MPSC: entries still naming a dead writer */
	uint32_t subscribers;   /* broadcast: slots held by live subscribers
				 * (or ones whose liveness cannot be told) */
	uint32_t subscribers_dead;  /* broadcast: slots naming a dead one */
	uint32_t overflow;      /* broadcast: enum shmkit_bcast_overflow */
	uint32_t dropped;       /* broadcast: dead subscribers the writer
				 * dropped (backpressure) */
	uint64_t sessions;      /* writer sessions so far: opens of the writer
				 * role (MPSC: writers that joined) */
	uint64_t reserved[5];   /* zero; room for later members */
};
/* The state of channel @name, read without attaching.  -EPROTONOSUPPORT:
 * a segment that is not a channel (or one of an unknown layout version);
 * -EBADMSG: its control block is corrupt; -EPROTO: a raw or foreign
 * object; -EINVAL: @out NULL, a bad or NULL name; -ENAMETOOLONG, -ENOENT,
 * -ELOOP, -ENODEV, -EACCES as shmkit_stat. */
SHMKIT_API int shmkit_chan_stat(const char *name, struct shmkit_chan_info *out);

/* One writer entry of an MPSC channel, as shmkit_chan_writers() sees it.
 * Positions are byte positions of the ring, counted since the channel was
 * made; they come from a racy copy and are informational. */
struct shmkit_chan_writer {
	uint32_t entry;       /* index in the writer table, 0..63 */
	int32_t pid;          /* the occupant's PID */
	int alive;            /* 1, 0 (dead: it never closed), -1 cannot tell */
	uint64_t sent;        /* messages it committed */
	uint64_t join;        /* the claim position when it joined */
	uint64_t pos;         /* its last claim (join before any) */
	uint64_t lag;         /* bytes the reader has yet to release before
			       * it is past pos's record (that record
			       * included); 0 when it is past, or no claim
			       * stands at pos */
	uint64_t reserved[2];
};
/*
 * Lists the writer entries of MPSC channel @name that are held (by a live
 * writer, or one that died without closing), read without attaching, in
 * table order.  Fills at most @cap entries of @out and returns how many
 * are held (more than @cap: call again with room for all; at most
 * SHMKIT_CHAN_MPSC_WRITERS).  -EPROTOTYPE: an SPSC channel (its one writer
 * is in shmkit_chan_info); -EPROTONOSUPPORT: not a channel; -EBADMSG: a
 * corrupt control block or writer entry; -EINVAL: @out NULL with @cap > 0,
 * a bad or NULL name; the other errors of shmkit_chan_stat.
 */
SHMKIT_API int shmkit_chan_writers(const char *name, struct shmkit_chan_writer *out,
				   size_t cap);

/* One subscriber of a broadcast channel, as stat shows it. */
struct shmkit_sub_info {
	uint32_t slot;        /* index in the subscriber table */
	int32_t pid;
	int alive;            /* 1, 0 dead (not yet dropped), -1 cannot tell */
	int rdonly;           /* 1: it maps the ring read-only */
	uint64_t pos;         /* the end of what it released (a position) */
	uint64_t lag;         /* bytes published past pos */
	uint64_t lag_msgs;    /* messages published it has not released */
	uint64_t received;    /* messages it released */
	uint64_t lost;        /* messages it missed, lapped (overwrite) */
	uint64_t gaps;        /* times it was lapped */
	uint64_t reserved[4];
};
/*
 * Fills @out with up to @cap of the subscribers of broadcast channel @name
 * (slots held, live or dead), read without attaching; returns how many
 * there are (may exceed @cap), -EPROTOTYPE if it is another kind of
 * channel, -EINVAL for @out NULL with @cap > 0, or an error as
 * shmkit_chan_stat.
 */
SHMKIT_API int shmkit_chan_subs(const char *name, struct shmkit_sub_info *out, size_t cap);

/* ---------------------------------------------------------------------- */
/* Listing                                                                */

struct shmkit_entry {
	char name[SHMKIT_POSIX_NAME_MAX + 16]; /* "NAME" or "sysv:0x...";
						* "" for a private segment */
	int backend;          /* SHMKIT_BACKEND_POSIX or _SYSV */
	int32_t shmid;        /* System V id, else -1 */
	uint64_t size;        /* bytes of the object */
};

/*
 * Calls @fn for every POSIX object in /dev/shm and every System V segment
 * (/proc/sysvipc/shm).  Stops when @fn returns non-zero and returns that
 * value; returns 0 when all were listed (a missing /dev/shm or /proc file
 * lists nothing), -EINVAL for a NULL @fn, or the error of opening /dev/shm
 * or /proc/sysvipc/shm (-EACCES ...).
 */
SHMKIT_API int shmkit_list(int (*fn)(const struct shmkit_entry *e, void *arg),
			   void *arg);

/* ---------------------------------------------------------------------- */
/* Passing a region's fd to an unrelated process (SCM_RIGHTS)              */

/* Sends @fd over the connected UNIX socket @sock.  -EINVAL: @sock or @fd
 * negative; -EPIPE: the peer closed; -EBADF, -ENOTSOCK, and any other
 * error of sendmsg. */
SHMKIT_API int shmkit_fd_send(int sock, int fd);
/* Receives an fd from @sock into *fd (close-on-exec).  -ENOMSG if a message
 * arrived without one, -EMSGSIZE if its fds did not fit (the kernel drops
 * them), -ECONNRESET if the peer closed the socket, -EINVAL for @fd
 * NULL or @sock negative; any other error of recvmsg. */
SHMKIT_API int shmkit_fd_recv(int sock, int *fd);

#ifdef __cplusplus
}
#endif

#endif /* SHMKIT_H */
