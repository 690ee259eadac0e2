/* SPDX-License-Identifier: MIT */
/*
 * report.h - what a run prints: a table for people, a JSON document for
 * programs (its schema is in docs/bench.md), a chart.  All carry the
 * machine and how the figures were taken.
 */
#ifndef SHMKIT_BENCH_REPORT_H
#define SHMKIT_BENCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "harness.h"
#include "machine.h"

/* A cell that did not run because the method cannot carry its size. */
struct bench_skip {
	const struct bench_method *method;
	enum bench_kind kind;
	size_t size;
	char why[96];
};

struct bench_report {
	const struct bench_machine *machine;
	const struct bench_plan *plan;
	bool quick;
	const struct bench_result *results;
	size_t count;
	const struct bench_skip *skipped;
	size_t nskipped;
};

/* The result of @name's cell (@kind, @size), or NULL if it did not run.
 * A sized cost entry (memcpy) is found as BENCH_THROUGHPUT too. */
const struct bench_result *bench_find(const struct bench_report *rep, const char *name,
				      enum bench_kind kind, size_t size);

/* Whether @r is reported as a rate (messages and bytes per second). */
bool bench_is_rate(const struct bench_result *r);

/* The readable tables, with the machine above them, the goals' verdict
 * and a note below. */
void bench_report_table(FILE *f, const struct bench_report *rep);

/* One JSON document: {"tool", "version", "quick", "trials", "machine",
 * "results": [...], "skipped": [...], "goals": [...]}; see docs/bench.md. */
void bench_report_json(FILE *f, const struct bench_report *rep);

#endif /* SHMKIT_BENCH_REPORT_H */
