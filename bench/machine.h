/* SPDX-License-Identifier: MIT */
/*
 * machine.h - the machine a benchmark ran on, and the two CPUs it pins
 * its sides to: numbers mean little without them.
 */
#ifndef SHMKIT_BENCH_MACHINE_H
#define SHMKIT_BENCH_MACHINE_H

#include <sched.h>

struct bench_machine {
	char cpu_model[128];    /* /proc/cpuinfo "model name", or "unknown" */
	int cpus_online;
	int cpus_allowed;       /* in this process's affinity mask */
	char sysname[64], release[128], arch[64];  /* uname */
	int virtualized;        /* 1 the CPU flags say hypervisor, 0 not, -1 cannot tell */
	char clocksource[32];   /* the kernel's current one, "" if unknown */
	double timer_ns;        /* one clock_gettime(CLOCK_MONOTONIC) */
	int cpu_a, cpu_b;       /* where the two sides run; -1: not pinned */
	int share_core;         /* 1 same core (or CPU), 0 not, -1 cannot tell */
};

/*
 * Describes the machine and picks the two CPUs from the affinity mask:
 * the first allowed, and the first allowed one on another core (else any
 * other, else the same).  Reads /proc, /sys and uname; never fails.
 */
void bench_machine_describe(struct bench_machine *mc);

/* The affinity mask the process started with, to give back at the end. */
int bench_affinity_save(cpu_set_t *set);
void bench_affinity_restore(const cpu_set_t *set);

#endif /* SHMKIT_BENCH_MACHINE_H */
