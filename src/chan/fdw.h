/* SPDX-License-Identifier: MIT */
/*
 * fdw.h - a channel handle's event-loop fd (shmkit_chan_fd).
 *
 * The fd is an epoll instance of the handle's own, readable while one of
 * what it holds is:
 *
 *   the wake socket   an AF_UNIX datagram socket bound to the abstract
 *                     name "shmkit.wake.<id>", <id> 16 hex digits of a
 *                     random 64-bit wake id.  The handle publishes the id
 *                     in its role's or slot's wake word; a waker that
 *                     finds the handle armed (chan/wait.h) sends it one
 *                     byte.  The handle drains it before each arm.
 *   the peers' pidfds an epoll set of pidfd_open() fds, one per process
 *                     whose death changes what the handle's next call
 *                     returns (the kind's watch list: the other side, or
 *                     every occupant of the other side's table).  A pidfd
 *                     turns readable when its process exits; the handle
 *                     closes it once it has seen that death.
 *   a timer           a timerfd ticking every SHMKIT_OWNER_POLL_MS while a
 *                     watched peer has no pidfd (a kernel without
 *                     pidfd_open, a peer in another PID namespace): the
 *                     liveness polling a sleep does, for those peers only.
 *
 * Why this mechanism: docs/architecture.md, "Waiting in an event loop".
 */
#ifndef SHMKIT_CHAN_FDW_H
#define SHMKIT_CHAN_FDW_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "shmkit.h"

/* The most peers one handle watches: a table's slots. */
#define SHMKIT_FDW_PEERS 64

/* Fills @toks with the owner tokens of the peers whose death matters to
 * the handle @ctx (0: an empty place); returns how many places. */
typedef unsigned (*shmkit__fdw_watch_fn)(void *ctx, uint32_t *toks);

struct shmkit__fdw;

/* Makes the fd of a handle whose peers @watch lists, readable at first
 * (so that the first call arms it).  0 or -errno. */
int shmkit__fdw_open(struct shmkit__fdw **out, const struct shmkit__peer_src *src,
		     shmkit__fdw_watch_fn watch, void *ctx);
void shmkit__fdw_close(struct shmkit__fdw *f);
int shmkit__fdw_fd(const struct shmkit__fdw *f);
uint64_t shmkit__fdw_id(const struct shmkit__fdw *f);

/*
 * Before an arm: drains the wake socket and the timer and brings the
 * pidfds up to the watch list.  Returns 1 if it saw a peer's death the
 * handle's last look may have missed (look again before arming), else 0.
 */
int shmkit__fdw_prepare(struct shmkit__fdw *f);

/* Sends one wake to the wake id @id from the socket *tx (made at the
 * first use); errors are dropped: a full queue is already readable, a
 * closed or unknown name has nobody to wake. */
void shmkit__fdw_send(int *tx, uint64_t id);

#endif /* SHMKIT_CHAN_FDW_H */
