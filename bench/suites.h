/* SPDX-License-Identifier: MIT */
/*
 * suites.h - every module of benchmark entries.  A new module adds its
 * suite here and to the list in cli.c.
 */
#ifndef SHMKIT_BENCH_SUITES_H
#define SHMKIT_BENCH_SUITES_H

#include "harness.h"

extern const struct bench_suite bench_floor_suite;  /* floor.c: hardware */
extern const struct bench_suite bench_ipc_suite;    /* ipc.c: the kernel's IPC */
extern const struct bench_suite bench_sync_suite;   /* sync.c */
extern const struct bench_suite bench_chan_suite;   /* chan.c */
extern const struct bench_suite bench_pairs_suite;  /* pairs.c: two streams at once */

#endif /* SHMKIT_BENCH_SUITES_H */
