/* SPDX-License-Identifier: MIT */
/*
 * stop.c - Ctrl-C and kill for send and recv: SIGINT and SIGTERM set a
 * flag and interrupt the call that waits (no SA_RESTART), so the command
 * commits or releases what it holds, ends its stream cleanly and exits
 * 128 + the signal's number, as a shell reports a process the signal
 * killed.  SIGPIPE is ignored for the whole CLI (shmkit.c): a closed
 * stdout is EPIPE from write, which recv handles.
 *
 * A signal that lands just before a call starts to wait does not
 * interrupt it, so the commands wait in slices of STOP_SLICE_NS and look
 * at the flag between them.
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

void stop_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;  /* no SA_RESTART: a waiting read or futex returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int stop_signal(void)
{
	return stop_sig;
}

int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t stop_slice(int64_t deadline, int64_t now)
{
	int64_t left = deadline < 0 ? STOP_SLICE_NS : deadline - now;

	return left < 0 ? 0 : left < STOP_SLICE_NS ? left : STOP_SLICE_NS;
}
