/* SPDX-License-Identifier: MIT */
/*
 * fdw.c - a channel handle's event-loop fd: the epoll instance, its wake
 * socket, the peers' pidfds and the fallback timer (chan/fdw.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "futex.h"
#include "chan/fdw.h"

/* One watched place: the token seen there and how its death is watched. */
struct fdw_peer {
	uint32_t tok;        /* 0: nobody */
	int pidfd;           /* -1: none (dead, or watched by the timer) */
	bool dead;           /* its death was seen */
};

struct shmkit__fdw {
	int ep;              /* what the caller polls */
	int sock;            /* the wake socket */
	int pids;            /* the epoll set of pidfds, inside ep */
	int timer;           /* ticks while a peer needs it */
	bool ticking;
	uint64_t id;
	const struct shmkit__peer_src *src;
	shmkit__fdw_watch_fn watch;
	void *ctx;
	struct fdw_peer peer[SHMKIT_FDW_PEERS];
};

/* The abstract name of wake id @id; its length for bind and sendto. */
static socklen_t wake_addr(uint64_t id, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* sun_path[0] stays 0: the abstract namespace, no file to clean up */
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "shmkit.wake.%016llx",
			 (unsigned long long)id);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static uint64_t random_id(void)
{
	uint64_t id = 0;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id))
		id = (uint64_t)shmkit__mono_ns() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	return id ? id : 1;
}

static int epoll_add(int ep, int fd, uint32_t data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : shmkit__err();
}

/* Binds the wake socket to a fresh random name. */
static int bind_wake(struct shmkit__fdw *f)
{
	for (int tries = 0; tries < 8; tries++) {
		struct sockaddr_un a;
		uint64_t id = random_id();
		if (bind(f->sock, (struct sockaddr *)&a, wake_addr(id, &a)) == 0) {
			f->id = id;
			return 0;
		}
		if (errno != EADDRINUSE)
			return shmkit__err();
	}
	return -EADDRINUSE;
}

int shmkit__fdw_open(struct shmkit__fdw **out, const struct shmkit__peer_src *src,
		     shmkit__fdw_watch_fn watch, void *ctx)
{
	struct shmkit__fdw *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return -ENOMEM;
	f->src = src;
	f->watch = watch;
	f->ctx = ctx;
	f->timer = -1;
	for (unsigned i = 0; i < SHMKIT_FDW_PEERS; i++)
		f->peer[i].pidfd = -1;
	f->ep = epoll_create1(EPOLL_CLOEXEC);
	f->pids = epoll_create1(EPOLL_CLOEXEC);
	f->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	f->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (f->ep < 0 || f->pids < 0 || f->sock < 0 || f->timer < 0) {
		err = shmkit__err();
		goto fail;
	}
	err = bind_wake(f);
	if (!err)
		err = epoll_add(f->ep, f->sock, 0);
	if (!err)
		err = epoll_add(f->ep, f->pids, 1);
	if (!err)
		err = epoll_add(f->ep, f->timer, 2);
	if (err)
		goto fail;
	/* readable at first: the caller's first call looks, and arms */
	int tx = -1;
	shmkit__fdw_send(&tx, f->id);
	if (tx >= 0)
		close(tx);
	*out = f;
	return 0;
fail:
	shmkit__fdw_close(f);
	return err;
}

void shmkit__fdw_close(struct shmkit__fdw *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < SHMKIT_FDW_PEERS; i++)
		if (f->peer[i].pidfd >= 0)
			close(f->peer[i].pidfd);
	int fds[] = { f->timer, f->pids, f->sock, f->ep };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(f);
}

int shmkit__fdw_fd(const struct shmkit__fdw *f)
{
	return f->ep;
}

uint64_t shmkit__fdw_id(const struct shmkit__fdw *f)
{
	return f->id;
}

void shmkit__fdw_send(int *tx, uint64_t id)
{
	struct sockaddr_un a;
	char byte = 1;

	if (*tx < 0)
		*tx = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*tx < 0 || id == 0)
		return;
	(void)sendto(*tx, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&a,
		     wake_addr(id, &a));
}

/* ---- the peers ---- */

static int pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Starts to watch @tok at @p: a pidfd for the process its attach was made
 * by, checked to be that process (start time and PID namespace) after it
 * is opened.  1 if the attach is dead already, 0 watched by a pidfd, -1
 * watched by the timer (no pidfd could be trusted).
 */
static int watch_peer(struct shmkit__fdw *f, unsigned i, uint32_t tok)
{
	struct fdw_peer *p = &f->peer[i];
	int32_t pid;
	uint64_t start, pidns;

	p->tok = tok;
	p->dead = false;
	if (shmkit__token_state(f->src, tok) == SHMKIT_TOKEN_DEAD) {
		p->dead = true;
		return 1;
	}
	if (shmkit__token_proc(f->src->hdr, tok, &pid, &start, &pidns) != 0)
		return -1;
	int fd = pidfd_open(pid);
	if (fd < 0)
		return -1;
	/* the PID may have been another process's by the time it opened */
	if (shmkit__pid_alive(pid, start, pidns) != 1 || epoll_add(f->pids, fd, i) != 0) {
		close(fd);
		return -1;
	}
	p->pidfd = fd;
	/* a death between the token's check and the pidfd's opening */
	if (shmkit__token_state(f->src, tok) == SHMKIT_TOKEN_DEAD)
		return 1;
	return 0;
}

static void unwatch(struct fdw_peer *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);  /* leaves the epoll set with its last fd */
	p->pidfd = -1;
}

/* The timer runs while a watched peer has no pidfd and is not known dead. */
static void tick(struct shmkit__fdw *f, bool on)
{
	if (on == f->ticking)
		return;
	struct itimerspec t = { 0 };
	if (on) {
		t.it_interval.tv_nsec = SHMKIT_POLL_NS;
		t.it_value.tv_nsec = SHMKIT_POLL_NS;
	}
	if (timerfd_settime(f->timer, 0, &t, NULL) == 0)
		f->ticking = on;
}

int shmkit__fdw_prepare(struct shmkit__fdw *f)
{
	struct epoll_event ev[SHMKIT_FDW_PEERS];
	uint32_t toks[SHMKIT_FDW_PEERS] = { 0 };
	bool fired[SHMKIT_FDW_PEERS] = { false };
	bool timer = false;
	int look_again = 0;

	/* the wakes so far, 16 datagrams per call (one call in the common
	 * case): each wake after this is one we will see */
	char bytes[16];
	struct iovec iov[16];
	struct mmsghdr mm[16];
	for (int j = 0; j < 16; j++) {
		iov[j] = (struct iovec){ .iov_base = &bytes[j], .iov_len = 1 };
		mm[j] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[j], .msg_iovlen = 1 } };
	}
	while (recvmmsg(f->sock, mm, 16, MSG_DONTWAIT, NULL) == 16)
		;
	if (f->ticking) {
		uint64_t n;
		(void)!read(f->timer, &n, sizeof(n));
	}
	int k = epoll_wait(f->pids, ev, SHMKIT_FDW_PEERS, 0);
	for (int j = 0; j < k; j++)
		if (ev[j].data.u32 < SHMKIT_FDW_PEERS)
			fired[ev[j].data.u32] = true;

	unsigned n = f->watch(f->ctx, toks);
	if (n > SHMKIT_FDW_PEERS)
		n = SHMKIT_FDW_PEERS;
	for (unsigned i = 0; i < SHMKIT_FDW_PEERS; i++) {
		struct fdw_peer *p = &f->peer[i];
		uint32_t tok = i < n ? toks[i] : 0;
		if (tok != p->tok) {
			unwatch(p);
			p->tok = 0;
			if (tok) {
				int w = watch_peer(f, i, tok);
				look_again |= w == 1;
				timer |= w < 0;
			}
			continue;
		}
		if (!tok || p->dead)
			continue;
		if (fired[i]) {
			/* its process exited: the handle's next look sees the
			 * death; an attach that outlives it (a child that
			 * inherited its lock) is watched by the timer */
			unwatch(p);
			p->dead = shmkit__token_state(f->src, tok) == SHMKIT_TOKEN_DEAD;
			timer |= !p->dead;
			look_again = 1;
		} else if (p->pidfd < 0) {
			if (shmkit__token_state(f->src, tok) == SHMKIT_TOKEN_DEAD) {
				p->dead = true;
				look_again = 1;
			} else {
				timer = true;
			}
		}
	}
	tick(f, timer);
	return look_again;
}
