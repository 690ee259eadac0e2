#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The fuzz targets (tests/fuzz/fuzz_*.c) over their seed corpus and every
# input a fuzzer once crashed on (tests/fuzz/corpus/TARGET): each input
# must run to its end.  Under SAN= builds this is the sanitizers' replay.
# `make fuzz` is the fuzzing itself.
set -u
. tests/cli/lib.sh

for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	t=${t#fuzz_}
	bin=$B/tests/fuzz/replay_$t
	[ -x "$bin" ] || { fail "$bin is not built"; continue; }
	n=$(ls tests/fuzz/corpus/"$t" | wc -l)
	[ "$n" -ge 5 ] || fail "corpus of $t has only $n inputs"
	TMPDIR=$T timeout 120 "$bin" tests/fuzz/corpus/"$t" >"$T/$t.out" 2>&1 ||
		fail "replay of $t failed: $(tail -n 20 "$T/$t.out")"
	grep -q "^replay: $n inputs$" "$T/$t.out" ||
		fail "replay of $t ran $(cat "$T/$t.out"), not $n inputs"
done
# nothing left behind by the segment target
[ -z "$(ls "$T"/shmkit-fuzz-* 2>/dev/null)" ] || fail "fuzz_segment left its file"

finish
