/* SPDX-License-Identifier: MIT */
/*
 * goals.h - the performance goals shmkit's design aims at (issue #5),
 * judged on the figures of one run: every goal is a ratio between two
 * figures measured side by side, never an absolute time.  They are
 * verdicts for people, not test assertions.
 */
#ifndef SHMKIT_BENCH_GOALS_H
#define SHMKIT_BENCH_GOALS_H

#include <stddef.h>

#include "report.h"

#define BENCH_GOALS_MAX 24

struct bench_goal {
	const char *goal;      /* what is compared, in words */
	const char *target;    /* e.g. "<= 1.5x floor" */
	const char *unit;      /* what measured counts: "x floor", "% of a CPU" */
	double limit;          /* the target's number */
	bool at_most;          /* met when measured <= limit (else >=) */
	double measured;       /* NAN: a figure it needs did not run */
	int met;               /* 1, 0, -1: not measured */
};

/* The goals, judged on @rep; returns how many (at most BENCH_GOALS_MAX). */
size_t bench_goals(const struct bench_report *rep, struct bench_goal *out);

#endif /* SHMKIT_BENCH_GOALS_H */
