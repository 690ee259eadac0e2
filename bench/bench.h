/* SPDX-License-Identifier: MIT */
/*
 * bench.h - `shmkit bench`, as the CLI (tools/shmkit.c) calls it: its
 * synopsis and help for the command table, and the command itself.
 */
#ifndef SHMKIT_BENCH_H
#define SHMKIT_BENCH_H

#define BENCH_SYNOPSIS \
	"bench [--quick] [--methods LIST] [--sizes LIST] [--json FILE] [--plot FILE]"

#define BENCH_HELP_TEXT \
	"Measures, on this machine and in one run, shared memory against every\n" \
	"kernel IPC and against the hardware's floor: round trips (p50, p99,\n" \
	"p99.9) and one-way streams (messages and bytes per second) at each\n" \
	"message size, CPU time per message on each side, data copies per\n" \
	"message, every figure also as a ratio to a baseline of the same run\n" \
	"(the cache-line floor, one core's memcpy, a pipe); then the verdict on\n" \
	"shmkit's performance goals.  The schema of --json is in docs/bench.md.\n" \
	"  --quick         short trials: well under 30 seconds in all\n" \
	"  --methods LIST  comma-separated methods to run (default: all)\n" \
	"  --sizes LIST    comma-separated message sizes, 8 B to 16 MiB, suffixes\n" \
	"                  K and M (default: 8,64,1K,4K,64K for round trips and\n" \
	"                  8,64,4K,64K,1M for streams)\n" \
	"  --json FILE     also write every figure to FILE: \"machine\",\n" \
	"                  \"results\", \"skipped\" and \"goals\"\n" \
	"  --plot FILE     also draw latency and throughput by size and method\n" \
	"                  (log scales) into FILE: SVG if it ends in .svg, else\n" \
	"                  PNG; needs gnuplot (Debian package gnuplot-nox)\n" \
	"  --iterations N  for tests: N round trips, operations or messages per\n" \
	"                  trial\n" \
	"Methods (round trip and stream unless said):\n" \
	"  floor           a cache line bounced between two CPUs (round trip)\n" \
	"  memcpy          one core's memcpy (stream: the bandwidth baseline)\n" \
	"  pipe, fifo      two pipes / two named pipes, write and read\n" \
	"  unix_stream     a UNIX stream socket pair\n" \
	"  unix_dgram      a UNIX datagram socket pair\n" \
	"  tcp             TCP over loopback, TCP_NODELAY\n" \
	"  sysv_mq         a System V message queue (up to kernel.msgmax)\n" \
	"  posix_mq        POSIX message queues (up to fs.mqueue limits)\n" \
	"  eventfd         two eventfds, a notification without data (round trip)\n" \
	"  shm_sem         shared memory with process-shared semaphores, as the\n" \
	"                  seeds do it: copy in, post, wait, copy out\n" \
	"  futex, event    raw FUTEX_WAIT/WAKE; two shmkit events (round trip)\n" \
	"  pthread_mutex   uncontended lock+unlock of a private pthread mutex\n" \
	"  pthread_robust  the same, process-shared and robust, in shared memory\n" \
	"  mutex           uncontended lock+unlock of a shmkit mutex\n" \
	"  chan_spin       a shmkit channel (two for round trips), send and recv,\n" \
	"  chan_spin_sleep with each wait policy: spin, spin then sleep (the\n" \
	"  chan_sleep      default), sleep at once\n" \
	"  chan_zc         a shmkit channel in place (zero copy): reserve/commit,\n" \
	"                  peek/release, streams in batches of up to 64\n" \
	"  chan_epoll      a shmkit channel with timeout-0 calls, each side\n" \
	"                  waiting in epoll_wait on its end's shmkit_chan_fd\n" \
	"  chan_idle       a receiver waiting on an empty channel for 100 ms: its\n" \
	"                  CPU time over its wall time\n" \
	"  mpsc_1w         streams through a shmkit MPSC channel from 1, 2 or 4\n" \
	"  mpsc_2w         writer processes, pinned in turn to the two CPUs (with\n" \
	"  mpsc_4w         the reader's: 2 and 4 writers share them), send and recv;\n" \
	"                  round trips with one writer (mpsc_1w) only\n" \
	"  bcast_1s        streams through a shmkit broadcast channel (backpressure)\n" \
	"  bcast_2s        to 1, 2, 4 or 8 subscriber processes, pinned in turn to\n" \
	"  bcast_4s        the two CPUs (with the writer's: more than one shares\n" \
	"  bcast_8s        them), each checking every message; round trips with one\n" \
	"                  subscriber (bcast_1s) only\n" \
	"  pipe_2p         streams only: two pairs at once (four processes, a\n" \
	"  spsc_2p         writer and a reader on each CPU), of pipes or of SPSC\n" \
	"                  channels (the default policy); the rate of both\n" \
	"Figures are medians of trials (5; 3 with --quick), with the fastest and\n" \
	"slowest trial's.  The two sides run in two processes pinned to two CPUs,\n" \
	"on different cores when the kernel says so; the header tells which.\n" \
	"A size a mechanism cannot carry is listed as not applicable, with why.\n"

/* What bench_command() returns when --help was asked: the caller prints
 * the help (BENCH_HELP_TEXT) the way it prints every command's. */
#define BENCH_EXIT_HELP (-2)

/*
 * Runs `shmkit bench` with the arguments after "bench".  Returns the exit
 * status: 0 success, 1 runtime error, 2 usage error (messages already on
 * stderr as "shmkit: bench: ..."), or BENCH_EXIT_HELP.
 */
int bench_command(int argc, char **argv);

#endif /* SHMKIT_BENCH_H */
