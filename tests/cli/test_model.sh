#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Promela models of the SPSC, MPSC and broadcast channels
# (models/spsc.pml, models/mpsc.pml, models/bcast.pml) under spin, as
# `make model` runs them: every configuration verifies over its whole
# state space, and every mutant (a deliberately broken protocol) gives the
# counterexample expected of it.  No skip: CI must run the model, so a
# missing spin (not root, no apt) or C compiler is a failure.
set -u
. tests/cli/lib.sh

TMPDIR=$T timeout 280 models/check.sh >"$T/model.out" 2>&1
rc=$?
cat "$T/model.out"
if [ $rc -ne 0 ]; then
	fail "models/check.sh exited $rc"
else
	grep -q '^model check: ok' "$T/model.out" || fail "models/check.sh did not say ok"
	n=$(grep -c ' verified$' "$T/model.out")
	[ "$n" -ge 16 ] || fail "only $n configurations verified"
	n=$(grep -c ' fails as expected: ' "$T/model.out")
	[ "$n" -ge 29 ] || fail "only $n mutants caught"
fi
finish
