#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A log collector from the command line: recv --follow (and --count)
# reads on across writers that come and go.  On posix, sysv and file
# names: 4 concurrent senders into recv --count, 50 sequential short-lived
# senders into recv --follow (5,000 lines each and 10 senders under
# memcheck); every line delivered once and each writer's
# in its order.  Also: without --follow the end ends recv as before; a
# dead writer is told and followed past (exit 1 at the end).
set -u
. tests/cli/lib.sh

# under memcheck every command is slow: fewer lines and senders there
LINES=50000 SEQ=50
[ "${SHMKIT_VALGRIND:-0}" = 1 ] && LINES=5000 SEQ=10
TOTAL=$((4 * LINES))

new_key K
names=("${P}logs" "sysv:$K" "file:$T/logs")

for n in "${names[@]}"; do
	"$SHMKIT" create "$n" --channel mpsc --capacity 64K || fail "create $n"

	# --- 4 senders started together into recv --count (4 x LINES) -----------
	timeout 120 "$SHMKIT" recv "$n" --count "$TOTAL" >"$T/c4" 2>"$T/rerr" &
	rpid=$!
	wait_chan "$n" 'c["reader_alive"] is True'
	pids=()
	for w in 1 2 3 4; do
		seq 1 "$LINES" | sed "s/^/w$w /" | "$SHMKIT" send "$n" 2>>"$T/serr" &
		pids+=($!)
	done
	src=0
	for p in "${pids[@]}"; do wait "$p" || src=1; done
	expect_eq "$src" 0 "$n: 4 senders ($(cat "$T/serr" 2>/dev/null))"
	wait_pid "$rpid"
	expect_eq "$?" 0 "$n: recv --count $TOTAL across 4 writers ($(cat "$T/rerr"))"
	expect_eq "$(wc -l <"$T/c4")" "$TOTAL" "$n: every line"
	for w in 1 2 3 4; do
		grep "^w$w " "$T/c4" | cut -d' ' -f2 >"$T/got"
		seq 1 "$LINES" | cmp -s - "$T/got" || fail "$n: writer $w's lines once each, in order"
	done

	# --- SEQ short-lived senders, one after another, into recv --follow -----
	timeout 120 "$SHMKIT" recv "$n" --follow >"$T/f50" 2>"$T/rerr" &
	rpid=$!
	wait_chan "$n" 'c["reader_alive"] is True'
	for j in $(seq 1 "$SEQ"); do
		printf 'job %d a\njob %d b\n' "$j" "$j" | "$SHMKIT" send "$n" || fail "$n: send $j"
	done
	wait_chan "$n" "c[\"received\"] >= $((TOTAL + 2 * SEQ))"
	kill -INT "$rpid"
	wait_pid "$rpid"
	expect_eq "$?" 130 "$n: recv --follow ends with Ctrl-C ($(cat "$T/rerr"))"
	for j in $(seq 1 "$SEQ"); do printf 'job %d a\njob %d b\n' "$j" "$j"; done >"$T/want"
	cmp -s "$T/want" "$T/f50" || fail "$n: the $SEQ writers' lines, once each, in order"

	# --- without --follow, the end ends recv as before -----------------------
	printf 'last\n' | "$SHMKIT" send "$n"
	expect_exit 0 "$SHMKIT" recv "$n"
	expect_eq "$OUT" "last" "$n: recv without --follow"

	# --- a writer killed: told, and followed past -----------------------------
	timeout 30 "$SHMKIT" recv "$n" --follow --count 2 >"$T/d" 2>"$T/derr" &
	rpid=$!
	wait_chan "$n" 'c["reader_alive"] is True'
	(echo before; sleep 30) 2>/dev/null | "$SHMKIT" send "$n" &
	spid=$!
	wait_chan "$n" "c[\"received\"] >= $((TOTAL + 2 * SEQ + 2))"
	kill -9 "$spid"
	# told before the next writer comes (its line would end --count first)
	for _ in $(seq 1 400); do
		grep -q "the writer died" "$T/derr" && break
		sleep 0.05
	done
	printf 'after\n' | "$SHMKIT" send "$n"
	wait_pid "$rpid"
	expect_eq "$?" 1 "$n: recv --follow past a dead writer"
	expect_eq "$(tr '\n' ' ' <"$T/d")" "before after " "$n: both lines"
	grep -q "the writer died" "$T/derr" || fail "$n: the death told: $(cat "$T/derr")"
	"$SHMKIT" rm "$n"
done

# --- every kind follows ----------------------------------------------------------
for kind in spsc broadcast; do
	N=${P}f$kind
	"$SHMKIT" create "$N" --channel "$kind" --capacity 4K
	timeout 30 "$SHMKIT" recv "$N" --count 6 >"$T/k" 2>"$T/kerr" &
	rpid=$!
	if [ "$kind" = broadcast ]; then
		wait_chan "$N" 'c["subscribers_live"] == 1'
	else
		wait_chan "$N" 'c["reader_alive"] is True'
	fi
	for j in 1 2 3; do printf '%d a\n%d b\n' "$j" "$j" | "$SHMKIT" send "$N"; done
	wait_pid "$rpid"
	expect_eq "$?" 0 "$kind: recv --count 6 across 3 writers ($(cat "$T/kerr"))"
	expect_eq "$(tr '\n' ' ' <"$T/k")" "1 a 1 b 2 a 2 b 3 a 3 b " "$kind: each writer's lines"
	"$SHMKIT" rm "$N"
done

expect_exit 0 "$SHMKIT" recv --help && expect_stdout_contains "--follow"
finish
