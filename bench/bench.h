/* SPDX-License-Identifier: MIT */
/*
 * bench.h - `shmkit bench`, as the CLI (tools/shmkit.c) calls it: its
 * synopsis and help for the command table, and the command itself.
 */
#ifndef SHMKIT_BENCH_H
#define SHMKIT_BENCH_H

#define BENCH_SYNOPSIS "bench [--quick] [--methods LIST] [--json FILE]"

#define BENCH_HELP_TEXT \
	"Measures, on this machine, what shmkit's synchronization and channels\n" \
	"cost next to the hardware's floor, to libc and to a pipe, and prints a\n" \
	"table: for each method its p50/p99/p99.9 (round trips) or cost per\n" \
	"operation, the spread over trials, the ratio to its baseline, and CPU\n" \
	"time per operation; then one for throughput: messages and megabytes\n" \
	"(10^6 B) per second, the ratio to a pipe's, CPU time per message.\n" \
	"  --quick         small iteration counts: a few seconds in all\n" \
	"  --methods LIST  comma-separated methods to run (default: all)\n" \
	"  --json FILE     also write one JSON document to FILE: a \"machine\"\n" \
	"                  object and a \"results\" array; throughput results\n" \
	"                  have kind \"throughput\", msgs_per_s, bytes_per_s and\n" \
	"                  cpu_ns_per_msg, channel results their \"policy\"\n" \
	"  --iterations N  for tests: N round trips, operations or messages per\n" \
	"                  trial\n" \
	"Methods:\n" \
	"  floor           two processes spinning on atomics: a cache line's\n" \
	"                  round trip between two CPUs, below which no IPC goes\n" \
	"  futex           round trip through raw FUTEX_WAIT/FUTEX_WAKE\n" \
	"  event           round trip through two shmkit events\n" \
	"  pthread_mutex   uncontended lock+unlock of a private pthread mutex\n" \
	"  pthread_robust  the same, process-shared and robust, in shared memory\n" \
	"  mutex           uncontended lock+unlock of a shmkit mutex\n" \
	"  pipe            round trip of a 64-byte message through two pipes\n" \
	"  chan_spin       the same through two shmkit channels (1 MiB each),\n" \
	"  chan_spin_sleep send and recv, with each wait policy: spin, spin\n" \
	"  chan_sleep      then sleep, sleep at once; also quoted against pipe\n" \
	"  pipe_stream     64-byte messages one way through a pipe, a write and\n" \
	"                  a read of 64 bytes each\n" \
	"  chan_stream     the same through a channel, send and recv, the\n" \
	"                  default policy (spin then sleep)\n" \
	"  chan_stream_zc  the same written and read in place: reserve/commit\n" \
	"                  and peek/release, up to 64 messages at once\n" \
	"Figures are medians of trials (7; 3 with --quick).  The two sides of a\n" \
	"round trip or a stream run pinned to two CPUs, on different cores when\n" \
	"the kernel says so; the header tells which.\n"

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
