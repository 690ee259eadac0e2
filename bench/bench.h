/* SPDX-License-Identifier: MIT */
/*
 * bench.h - `shmkit bench`, as the CLI (tools/shmkit.c) calls it: its
 * synopsis and help for the command table, and the command itself.
 */
#ifndef SHMKIT_BENCH_H
#define SHMKIT_BENCH_H

#define BENCH_SYNOPSIS "bench [--quick] [--methods LIST] [--json FILE]"

#define BENCH_HELP_TEXT \
	"Measures, on this machine, what shmkit's synchronization costs next to\n" \
	"the hardware's floor and to libc, and prints a table: for each method\n" \
	"its p50/p99/p99.9 (round trips) or cost per operation, the spread over\n" \
	"trials, the ratio to its baseline, and CPU time per operation.\n" \
	"  --quick         small iteration counts: a few seconds in all\n" \
	"  --methods LIST  comma-separated methods to run (default: all)\n" \
	"  --json FILE     also write one JSON document to FILE: a \"machine\"\n" \
	"                  object and a \"results\" array\n" \
	"  --iterations N  for tests: N round trips or operations per trial\n" \
	"Methods:\n" \
	"  floor           two processes spinning on atomics: a cache line's\n" \
	"                  round trip between two CPUs, below which no IPC goes\n" \
	"  futex           round trip through raw FUTEX_WAIT/FUTEX_WAKE\n" \
	"  event           round trip through two shmkit events\n" \
	"  pthread_mutex   uncontended lock+unlock of a private pthread mutex\n" \
	"  pthread_robust  the same, process-shared and robust, in shared memory\n" \
	"  mutex           uncontended lock+unlock of a shmkit mutex\n" \
	"Figures are medians of trials (7; 3 with --quick).  The two sides of a\n" \
	"round trip run pinned to two CPUs, on different cores when the kernel\n" \
	"says so; the header tells which.\n"

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
