#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# models/check.sh - checks the Promela models of the SPSC channel
# (models/spsc.pml), the MPSC channel (models/mpsc.pml) and the broadcast
# channel (models/bcast.pml) with spin: every configuration must verify
# with no error over the whole state space, and every mutant (a broken
# protocol) must give the counterexample expected of it, or the model
# proves nothing.  Installs spin when missing (as root); needs a C compiler for
# spin's verifier (pan).  Work files go to a temporary directory.
# Prints states and seconds per configuration; exits 1 on any failure.
# `make model` runs it.  CC, and MODEL_KEEP=1 (keep the work directory) are
# honoured.
set -u
cd "$(dirname "$0")/.." || exit 1

tools/need-debs.sh models/check.sh spin || exit 1
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "models/check.sh: no C compiler ($CC)" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-model.XXXXXX") || exit 1
if [ "${MODEL_KEEP:-}" = 1 ]; then
	echo "work directory: $W"
else
	trap 'rm -rf "$W"' EXIT
fi
trap 'exit 1' INT TERM HUP
cp models/spsc.pml models/mpsc.pml models/bcast.pml "$W/" || exit 1

# Exhaustive search (no bitstate, no compression): SAFETY (assertions and
# invalid end states, which is how a lost wake-up shows); MEMLIM caps the
# memory, and a search it stops counts as a failure.  pan is built with
# -O2, but a mutant's with -O0: it stops at its first counterexample, and
# the compile is most of its time.
PAN_CFLAGS="-w -DSAFETY -DMEMLIM=3072"
DEPTH=100000
MODEL=spsc.pml

failures=0
total_start=$EPOCHREALTIME

# run NAME DEFINES... : spin -a, build pan, run it; output in $W/NAME.out
run() {
	local name=$1
	shift
	mkdir -p "$W/$name" || return 1
	(
		cd "$W/$name" &&
			spin "$@" -a "../$MODEL" >spin.out 2>&1 &&
			"$CC" ${PAN_OPT:--O2} $PAN_CFLAGS -o pan pan.c >cc.out 2>&1 &&
			./pan -m$DEPTH >"../$name.out" 2>&1
	)
	local rc=$?
	[ -s "$W/$name.out" ] || cat "$W/$name/spin.out" "$W/$name/cc.out" >"$W/$name.out" 2>/dev/null
	return $rc
}

states() {
	sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$1" | head -n 1
}

# verify NAME DEFINES... : a configuration that must hold
verify() {
	local name=$1 out=$W/$1.out start secs
	shift
	start=$EPOCHREALTIME
	run "$name" "$@"
	secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	if grep -q '^State-vector .* errors: 0$' "$out" &&
		! grep -q 'max search depth too small' "$out" &&
		! grep -q 'reached -DMEMLIM bound' "$out" &&
		! grep -q 'Search not completed' "$out"; then
		printf '  %-18s %-34s %12s states %6ss  verified\n' "$name" "$*" "$(states "$out")" "$secs"
	else
		printf '  %-18s %-34s %12s states %6ss  FAILED\n' "$name" "$*" "$(states "$out")" "$secs"
		sed 's/^/      | /' "$out" | head -n 40
		failures=$((failures + 1))
	fi
}

# mutant NAME EXPECTED DEFINES... : a broken protocol; spin must find the
# counterexample EXPECTED (the property pan names first)
mutant() {
	local name=$1 want=$2 out=$W/$1.out start secs got
	local caught="fails as expected" missed="NOT CAUGHT"
	shift 2
	start=$EPOCHREALTIME
	PAN_OPT=-O0 run "$name" "$@"
	secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	got=$(sed -n 's/^pan:1: \(.*\) (at depth \([0-9]*\))$/\1, depth \2/p' "$out" | head -n 1)
	if grep -q '^State-vector .* errors: [1-9]' "$out" && [ -n "$got" ] &&
		case $got in "$want"*) true ;; *) false ;; esac; then
		printf '  %-18s %-34s %12s states %6ss  %s: %s\n' \
			"$name" "$1" "$(states "$out")" "$secs" "$caught" "$got"
	else
		printf '  %-18s %-34s %12s states %6ss  %s (wanted: %s; got: %s)\n' \
			"$name" "$1" "$(states "$out")" "$secs" "$missed" "$want" "${got:-no error}"
		sed 's/^/      | /' "$out" | head -n 40
		failures=$((failures + 1))
	fi
}

echo "models/spsc.pml with $(spin -V 2>&1 | head -n 1)"
echo "the protocol (each must verify: no error in the whole state space):"
# a stream of 7 messages (3 laps of the ring), nobody killed
verify stream -DNMSG=7 -DWKILLS=0 -DRKILLS=0
# two writers killed at any step, each followed by a takeover (or not)
verify writer-kills -DNMSG=4 -DWKILLS=2 -DRKILLS=0
# three readers killed at any step, each followed by a new reader
verify reader-kills -DNMSG=5 -DWKILLS=0 -DRKILLS=3
# a writer and a reader killed
verify both-kills -DNMSG=5 -DWKILLS=1 -DRKILLS=1

echo "mutants (each must give its counterexample):"
M="-DNMSG=5 -DWKILLS=1 -DRKILLS=1"
mutant commit-first "assertion violated no_torn" -DBUG_COMMIT_FIRST $M
mutant no-zero "assertion violated no_dup" -DBUG_NO_ZERO $M
mutant no-room "assertion violated writes_free" -DBUG_NO_ROOM $M
mutant early-release "assertion violated no_loss" -DBUG_EARLY_RELEASE $M
mutant tail-first "assertion violated no_loss" -DBUG_TAIL_FIRST $M
mutant no-walk "assertion violated hdr_valid" -DBUG_NO_WALK $M
# no-c5: no sleeper's barrier, now the waiter's W1 (src/chan/wait.c); the
# name is the label it had before (C5)
mutant no-c5 "invalid end state" -DBUG_NO_C5 $M
# -EPIPE decided on the liveness alone, as before the broadcast CLI test
# found it: a writer that closed and exited after SP8 (spsc.c
# reader_next) taken for dead
mutant epipe-close "assertion violated clean_close" -DBUG_EPIPE_CLOSE $M

# The MPSC model: bigger states, so compressed (-DCOLLAPSE, still the whole
# state space) and capped lower.
MODEL=mpsc.pml
PAN_CFLAGS="-w -DSAFETY -DCOLLAPSE -DMEMLIM=1024"
echo "models/mpsc.pml:"
echo "the protocol (each must verify):"
F=
# two writers (messages of 1 and 2 words on a 4-word ring), 2 messages each
verify m-stream $F -DNM=2 -DWKILLS=0 -DWRESTARTS=0
# a writer killed at any step, then started again (in the first free or
# dead entry) or not
verify m-kill-restart $F -DNM=1 -DWKILLS=1 -DWRESTARTS=1
# the reader killed at any step (marking a release too), peeking 2
verify m-reader-kill $F -DNM=1 -DWKILLS=0 -DRKILLS=1 -DPEEK=2

echo "mutants (each must give its counterexample):"
# mpsc.c join_floor as it was before the model found it: a claim that does not
# fit below the joiner's stale head taken for corruption (-EBADMSG)
mutant m-join-race "assertion violated hdr_valid" -DBUG_JOIN_FLOOR -DNM=1 -DWKILLS=1 -DWRESTARTS=1
M="$F -DNM=1 -DWKILLS=1 -DWRESTARTS=1"
M2="$F -DNM=2 -DWKILLS=0 -DWRESTARTS=0"
mutant m-flat-mark "assertion violated writes_free" -DBUG_FLAT_MARK $M2
mutant m-helper-mark "assertion violated hdr_valid" -DBUG_HELPER_MARK $M2
mutant m-commit-first "assertion violated no_torn" -DBUG_COMMIT_FIRST $M
mutant m-no-remark "assertion violated hdr_valid" -DBUG_NO_REMARK $M
mutant m-no-liveness "assertion violated lost_ok" -DBUG_NO_LIVENESS $M
mutant m-no-join "invalid end state" -DBUG_NO_JOIN $M
mutant m-no-rel-wait "invalid end state" -DBUG_NO_REL_WAIT $M

# The broadcast model: compressed and capped as the MPSC one, and its pan
# built with -O0 too: its configurations are sized to run in seconds,
# less than -O2's compile would take.  WAKES=0 (a wait ends when what it
# waits for moved) where the wake-up words are not the question.
MODEL=bcast.pml
PAN_OPT=-O0
echo "models/bcast.pml:"
echo "the protocol (each must verify):"
# backpressure, the wake-up words as written: subscriber 0 reads from the
# first message while subscriber 1 joins at the oldest one held (then at
# the next, into a fresh slot); 4 messages (3) on a 6-word ring
verify bc-bp-join -DNMSG=4 -DPREJOIN0 -DSTART1=2
verify bc-bp-next -DNMSG=3 -DPREJOIN0 -DSTART1=0
# both join while the writer sends (the next and the newest message)
verify bc-bp-joins -DNMSG=3 -DSTART0=0 -DSTART1=1 -DWAKES=0
# a subscriber killed at any step (held by it, the writer drops it), and a
# new one joins in its place
verify bc-bp-kills -DNMSG=3 -DPREJOIN0 -DSTART1=2 -DWAKES=0 -DSKILLS=1 -DSRESTARTS=1
# the writer killed at any step (-EPIPE after what it published), a
# subscriber leaving after any message
verify bc-bp-wkill -DNMSG=3 -DPREJOIN0 -DSTART1=1 -DWAKES=0 -DWKILLS=1 -DLEAVES=1
# one subscriber process, the wake-up words as written: it is killed at
# any step (the writer, asleep on it, wakes at a poll period and drops
# it) and a new one joins in the dead slot or the free one; or the writer
# is killed (a subscriber asleep wakes at a poll period)
verify bc-bp-one -DONE_SUB -DNMSG=4 -DPREJOIN0 -DSKILLS=1 -DSRESTARTS=1 -DWKILLS=1
# overwrite: laps, joins at the oldest and the newest while the writer
# laps them, the writer killed at any step
verify bc-ow-laps -DOVERWRITE=1 -DNMSG=3 -DPREJOIN0 -DSTART1=2
verify bc-ow-joins -DOVERWRITE=1 -DNMSG=4 -DSTART0=1 -DSTART1=2 -DWAKES=0
verify bc-ow-wkill -DOVERWRITE=1 -DNMSG=4 -DPREJOIN0 -DSTART1=2 -DWAKES=0 -DWKILLS=1

echo "mutants (each must give its counterexample):"
B="-DNMSG=3 -DPREJOIN0"
O="-DOVERWRITE=1 -DNMSG=4 -DPREJOIN0 -DWAKES=0"
mutant bc-no-drop "invalid end state" -DBUG_NO_DROP $B -DWAKES=0 -DSKILLS=1
mutant bc-no-rescan "assertion violated writes_free" -DBUG_NO_RESCAN $B -DWAKES=0
mutant bc-join-recheck "assertion violated writes_free" -DBUG_JOIN_NO_RECHECK $B -DWAKES=0
mutant bc-wake-first "invalid end state" -DBUG_WAKE_FIRST $B
mutant bc-tail-first "assertion violated no_torn" -DBUG_TAIL_FIRST $B -DWAKES=0
mutant bc-epipe-close "assertion violated clean_close" -DBUG_EPIPE_POS $B
mutant bc-hdr-check "assertion violated hdr_valid" -DBUG_NO_HDR_CHECK $O
mutant bc-copy-check "assertion violated no_torn" -DBUG_NO_COPY_CHECK $O
mutant bc-head-late "assertion violated writes_free" -DBUG_HEAD_LATE $O
mutant bc-ahead-blind "assertion violated ahead_ok" -DBUG_AHEAD_BLIND -DNMSG=5 -DPREJOIN0 -DWAKES=0
# the broadcast channel as it was before the model found its bugs (now
# bcast_sub.c join() and resync(), and wait.c's SHMKIT_FLAG_BIT sleep)
mutant bc-flag-cleared "invalid end state" -DBUG_FLAG_CLEARED $B
mutant bc-join-wake "invalid end state" -DBUG_JOIN_NO_WAKE -DONE_SUB -DNMSG=4 -DPREJOIN0 -DSKILLS=1 -DSRESTARTS=1
mutant bc-join-seq "assertion violated missed_ok" -DBUG_JOIN_SEQ $O -DSTART1=0
mutant bc-resync "assertion violated hdr_valid" -DBUG_RESYNC_CHECK $O

secs=$(awk -v a="$total_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
if [ $failures -ne 0 ]; then
	echo "model check: $failures failure(s) (${secs}s)"
	exit 1
fi
echo "model check: ok (${secs}s)"
