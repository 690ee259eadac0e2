/* SPDX-License-Identifier: MIT */
/*
 * machine.c - CPU model, CPU count, kernel, clock cost and CPU topology,
 * read from /proc/cpuinfo, /sys and uname.  Whatever cannot be read is
 * reported as unknown: a description never stops a run.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "harness.h"
#include "machine.h"

/* Copies @src into @dst (of @len bytes), without surrounding blanks. */
static void copy_trimmed(char *dst, size_t len, const char *src)
{
	while (isspace((unsigned char)*src))
		src++;
	size_t n = strlen(src);
	while (n > 0 && isspace((unsigned char)src[n - 1]))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The value of the first "KEY : value" line of /proc/cpuinfo, or NULL. */
static char *cpuinfo_value(const char *key, char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	char *found = NULL;

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char name[64];
		copy_trimmed(name, sizeof(name), line);
		if (!strcmp(name, key)) {
			copy_trimmed(buf, len, colon + 1);
			found = buf;
		}
	}
	fclose(f);
	return found;
}

static void describe_cpu(struct bench_machine *mc)
{
	char flags[4096];

	/* x86 names its model; many arm64 kernels only name a "Hardware" */
	if (!cpuinfo_value("model name", mc->cpu_model, sizeof(mc->cpu_model)) &&
	    !cpuinfo_value("Hardware", mc->cpu_model, sizeof(mc->cpu_model)))
		snprintf(mc->cpu_model, sizeof(mc->cpu_model), "unknown");
	mc->virtualized = -1;
	if (cpuinfo_value("flags", flags, sizeof(flags))) {
		/* space-delimited, so " hypervisor " cannot match a longer flag */
		char padded[sizeof(flags) + 2];
		snprintf(padded, sizeof(padded), " %s ", flags);
		mc->virtualized = strstr(padded, " hypervisor ") != NULL;
	}
}

/* An integer read from a /sys file, or -1. */
static long sys_long(const char *fmt, int cpu)
{
	char path[256];
	long v = -1;

	snprintf(path, sizeof(path), fmt, cpu);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* 1 if CPUs @a and @b share a core, 0 if not, -1 if the kernel won't say. */
static int same_core(int a, int b)
{
	static const char core[] = "/sys/devices/system/cpu/cpu%d/topology/core_id";
	static const char pkg[] = "/sys/devices/system/cpu/cpu%d/topology/physical_package_id";

	if (a == b)
		return 1;
	long ca = sys_long(core, a), cb = sys_long(core, b);
	long pa = sys_long(pkg, a), pb = sys_long(pkg, b);
	if (ca < 0 || cb < 0 || pa < 0 || pb < 0)
		return -1;
	return ca == cb && pa == pb;
}

/* Side A on the first allowed CPU; side B on another core if there is one. */
static void pick_cpus(struct bench_machine *mc)
{
	cpu_set_t set;
	int first = -1, other = -1, other_core = -1;

	mc->cpu_a = mc->cpu_b = -1;
	mc->share_core = -1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	mc->cpus_allowed = CPU_COUNT(&set);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (first < 0) {
			first = cpu;
			continue;
		}
		if (other < 0)
			other = cpu;
		if (other_core < 0 && same_core(first, cpu) == 0)
			other_core = cpu;
	}
	mc->cpu_a = first;
	mc->cpu_b = other_core >= 0 ? other_core : other >= 0 ? other : first;
	mc->share_core = same_core(mc->cpu_a, mc->cpu_b);
}

/* The cost of one clock read: the best of several batches (the rest is
 * interrupts and preemption, not the clock). */
static double timer_cost(void)
{
	enum { BATCH = 1000, ROUNDS = 50 };
	double best = 0;

	for (int r = 0; r < ROUNDS; r++) {
		int64_t t0 = bench_now_ns(), t1 = t0;
		for (int i = 0; i < BATCH; i++)
			t1 = bench_now_ns();
		double each = (double)(t1 - t0) / BATCH;
		if (r == 0 || each < best)
			best = each;
	}
	return best;
}

static void describe_clock(struct bench_machine *mc)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
	char line[64];

	mc->clocksource[0] = '\0';
	if (f) {
		if (fgets(line, sizeof(line), f))
			copy_trimmed(mc->clocksource, sizeof(mc->clocksource), line);
		fclose(f);
	}
	mc->timer_ns = timer_cost();
}

void bench_machine_describe(struct bench_machine *mc)
{
	struct utsname u;

	memset(mc, 0, sizeof(*mc));
	describe_cpu(mc);
	mc->cpus_online = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (uname(&u) == 0) {
		copy_trimmed(mc->sysname, sizeof(mc->sysname), u.sysname);
		copy_trimmed(mc->release, sizeof(mc->release), u.release);
		copy_trimmed(mc->arch, sizeof(mc->arch), u.machine);
	}
	pick_cpus(mc);
	describe_clock(mc);
}

int bench_affinity_save(cpu_set_t *set)
{
	return sched_getaffinity(0, sizeof(*set), set) ? -1 : 0;
}

void bench_affinity_restore(const cpu_set_t *set)
{
	sched_setaffinity(0, sizeof(*set), set);
}
