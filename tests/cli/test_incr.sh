#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/cli/test_incr.sh - seed 004's counters: incr1 (a global, not shared
# across fork), incr2 (a mapped file and a named semaphore), incr3 (the
# semaphore in the file) and incr_mutex (a robust mutex in the file).
# Checks what each prints, that the counter lives in FILE, the usage
# errors, and that no named semaphore is left in /dev/shm.
# Run from the repository root: B=build bash tests/cli/test_incr.sh
# Exit status: 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.sh"

EX=$B/examples
for x in incr1 incr2 incr3 incr_mutex; do
	if [ ! -x "$EX/$x" ]; then
		fail "$EX/$x is not built"
		finish
	fi
done

# The background process of ours still running (one at a time), killed at
# exit whatever happened; wait_bg forgets it, so no recycled PID is hit.
BG=()
incr_cleanup() {
	local pid
	for pid in "${BG[@]}"; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	lib_cleanup
}
trap incr_cleanup EXIT

# What the examples may leave in /dev/shm: their semaphores are incr*-PID.
shm_incr() {
	local f
	for f in /dev/shm/incr*; do
		[ -e "$f" ] && printf '%s\n' "${f##*/}"
	done | sort
}
SHM_BEFORE=$(shm_incr)
# shm_clean WHAT : nothing appeared in /dev/shm since the test began.
shm_clean() {
	local new
	new=$(comm -13 <(printf '%s\n' "$SHM_BEFORE") <(shm_incr) | tr '\n' ' ')
	if [ -n "${new// /}" ]; then
		fail "$1 left in /dev/shm: $new"
		SHM_BEFORE=$(shm_incr)  # report each leftover once
	fi
}

# values ROLE : the numbers the last run printed as "ROLE: N", in order.
values() {
	sed -n "s/^$1: //p" "$T/out"
}

# check_shared PROG N WHAT : the last run of PROG with N loops was right:
# every line "parent: V" or "child: V", N of each, each role counting up,
# and together 0 .. 2N-1 once each, printed in that order (each line is
# written while the lock is held).
check_shared() {
	local prog=$1 n=$2 what=$3 last=$(($2 * 2 - 1))
	if grep -Evq '^(parent|child): [0-9]+$' "$T/out"; then
		fail "$what: unexpected lines: $(grep -Ev '^(parent|child): [0-9]+$' "$T/out" | head -n 3)"
		return 1
	fi
	[ -z "$ERR" ] || fail "$what: wrote to stderr: $ERR"
	expect_eq "$(values parent | wc -l)" "$n" "$what: parent lines"
	expect_eq "$(values child | wc -l)" "$n" "$what: child lines"
	values parent | sort -n -c 2>/dev/null || fail "$what: the parent's values do not go up"
	values child | sort -n -c 2>/dev/null || fail "$what: the child's values do not go up"
	cmp -s <(sed 's/^[a-z]*: //' "$T/out" | sort -n) <(seq 0 "$last") ||
		fail "$what: the values are not 0..$last once each; first differences (< printed, > expected): $(sed 's/^[a-z]*: //' "$T/out" | sort -n | diff - <(seq 0 "$last") | grep '^[<>]' | head -n 6 | tr '\n' ' ')"
	cmp -s <(sed 's/^[a-z]*: //' "$T/out") <(seq 0 "$last") ||
		fail "$what: the values were not printed in counter order"
}

# wait_bg PID SECONDS : waits for our background PID, up to SECONDS, then
# kills it; sets RC to its exit status (124 when it had to be killed).
wait_bg() {
	local n=$(($2 * 50))
	while kill -0 "$1" 2>/dev/null; do
		if [ "$n" -le 0 ]; then
			kill -9 "$1" 2>/dev/null
			wait "$1" 2>/dev/null
			RC=124
			BG=()
			return 1
		fi
		sleep 0.02
		n=$((n - 1))
	done
	wait "$1"
	RC=$?
	BG=()
	return 0
}

# counter FILE OFFSET : the int at OFFSET of FILE's data, read by the CLI.
counter() {
	"$SHMKIT" read "file:$1" --offset "$2" --length 4 2>/dev/null | od -An -td4 | tr -d ' '
}

# ---- incr1: the global is not shared ----
for n in 10 1; do
	if expect_exit 0 "$EX/incr1" "$n"; then
		[ -z "$ERR" ] || fail "incr1 $n wrote to stderr: $ERR"
		expect_eq "$(wc -l <"$T/out")" $((n * 2)) "incr1 $n: lines"
		expect_eq "$(values parent | tr '\n' ' ')" "$(seq 0 $((n - 1)) | tr '\n' ' ')" "incr1 $n: parent values"
		expect_eq "$(values child | tr '\n' ' ')" "$(seq 0 $((n - 1)) | tr '\n' ' ')" "incr1 $n: child values"
	fi
done
expect_exit 0 "$EX/incr1" 0 && expect_eq "$OUT" "" "incr1 0 output"
shm_clean incr1

# ---- incr2, incr3, incr_mutex: the counter in FILE ----
# the counter's offset in FILE's data: after the semaphore or the mutex
declare -A OFF=([incr2]=0 [incr3]=16 [incr_mutex]=32)
for prog in incr2 incr3 incr_mutex; do
	F=$T/$prog.count
	for n in 1000 1 20000; do
		# started without timeout(1), so that $! is its PID, which
		# names its semaphore
		"$EX/$prog" "$F" "$n" >"$T/out" 2>"$T/err" &
		pid=$!
		BG+=("$pid")
		wait_bg "$pid" 20
		ERR=$(cat "$T/err")
		if [ "$RC" -ne 0 ]; then
			fail "$prog $n exited $RC; stderr: $ERR"
			continue
		fi
		check_shared "$prog" "$n" "$prog FILE $n"
		[ -f "$F" ] || fail "$prog $n did not leave FILE $F"
		expect_eq "$(counter "$F" "${OFF[$prog]}")" $((n * 2)) "$prog $n: the counter in FILE"
		[ ! -e "/dev/shm/$prog-$pid" ] || fail "$prog left /dev/shm/$prog-$pid"
		shm_clean "$prog $n"
	done
	# FILE again: the counter starts at 0 once more, as the seed writes 0
	expect_exit 0 "$EX/$prog" "$F" 3 && check_shared "$prog" 3 "$prog FILE 3, FILE reused"
	expect_exit 0 "$EX/$prog" "$F" 0 && expect_eq "$OUT" "" "$prog FILE 0 output"

	# usage errors: exit 2, the usage on stderr, nothing made
	N=$T/new
	for args in "" "$N" "$N 10 extra" "$N x" "$N -1" "$N +1" "$N 10x" "$N 1e3" "$N 99999999999"; do
		# shellcheck disable=SC2086  # split on purpose
		expect_exit 2 "$EX/$prog" $args && expect_stderr_contains "usage: $prog <pathname> <#loops>"
	done
	expect_exit 2 "$EX/$prog" "" 10 && expect_stderr_contains "usage: $prog"
	[ ! -e "$N" ] || fail "$prog made FILE on a usage error"
	expect_exit 0 "$EX/$prog" --help && expect_stdout_contains "usage: $prog"
	# a FILE that is not a shmkit region, or that cannot be made
	printf '\0\0\0\0' >"$T/plain"
	expect_exit 1 "$EX/$prog" "$T/plain" 5 && expect_stderr_contains "$prog: open file:$T/plain:"
	expect_exit 1 "$EX/$prog" "$T/no/such/dir" 5 && expect_stderr_contains "No such file or directory"
	shm_clean "$prog (errors)"
done

# incr2's FILE holds an int only: too small for incr3 and incr_mutex
for prog in incr3 incr_mutex; do
	expect_exit 1 "$EX/$prog" "$T/incr2.count" 5 &&
		expect_stderr_contains "$T/incr2.count holds 4 data bytes, fewer than the"
done

expect_exit 2 "$EX/incr1" && expect_stderr_contains "usage: incr1 <#loops>"
expect_exit 2 "$EX/incr1" x && expect_stderr_contains "usage: incr1 <#loops>"
expect_exit 2 "$EX/incr1" 1 2 && expect_stderr_contains "usage: incr1 <#loops>"
expect_exit 0 "$EX/incr1" --help && expect_stdout_contains "usage: incr1"

# ---- incr_mutex: the child killed, the parent carries on ----
# The parent gets the mutex whether or not the child died holding it (then
# with -EOWNERDEAD, and a note on stderr), prints all its lines and
# reports the child's death.  No value is printed twice: the child's count++
# comes before its printf.
if command -v pgrep >/dev/null; then
	F=$T/killed.count
	"$EX/incr_mutex" "$F" 1000000 >"$T/kill.out" 2>"$T/kill.err" &
	pid=$!
	BG+=("$pid")
	child=
	for _ in $(seq 1 100); do
		child=$(pgrep -P "$pid" -x incr_mutex)
		[ -n "$child" ] && grep -q '^child: ' "$T/kill.out" && break
		sleep 0.02
	done
	if [ -n "$child" ]; then
		kill -9 "$child"
		wait_bg "$pid" 20
		rc=$RC
		if grep -q 'killed by signal 9' "$T/kill.err"; then
			expect_eq "$rc" 1 "incr_mutex exit status after its child was killed"
			# a child killed inside a write that spans two pages leaves
			# half a line, which the next parent line then follows
			expect_eq "$(grep -o 'parent: [0-9]*' "$T/kill.out" | wc -l)" 1000000 "incr_mutex parent lines after the kill"
			dups=$(sed 's/^[a-z]*: //' "$T/kill.out" | sort -n | uniq -d | head -n 3)
			[ -z "$dups" ] || fail "incr_mutex printed values twice after the kill: $dups"
			grep -v -e 'killed by signal 9' -e 'the previous holder of the mutex died' "$T/kill.err" >"$T/kill.other"
			[ ! -s "$T/kill.other" ] || fail "incr_mutex after the kill: stderr: $(cat "$T/kill.other")"
		else
			# the child was done before the kill came
			expect_eq "$rc" 0 "incr_mutex exit status (the child ended before the kill)"
		fi
	else
		fail "incr_mutex 1000000: no child seen printing within 2 s"
		wait_bg "$pid" 20
	fi
fi

shm_clean "this test"
finish
