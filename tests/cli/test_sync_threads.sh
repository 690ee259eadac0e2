#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The sync primitives between the threads of one process guard plain data
# with no data race: tests/helpers/sync_threads (mutex, rwlock, semaphores
# as a bounded queue, event as a condition variable) on an anonymous, a
# memfd, a POSIX and a System V region, each result checked exactly.
#
# This is the ThreadSanitizer check: Criterion cannot start under TSan, so
# `make test SAN=thread` relies on it.  There the helper is built with
# -fsanitize=thread and any race makes it exit 66 with a report: the test
# fails.  First, a deliberately racy run (sync_threads --race) must be
# reported, so a clean run means TSan looked.  Under ASan/UBSan any report
# fails the test as well.
set -u
. tests/cli/lib.sh

HELPER=$B/tests/helpers/sync_threads
if [ ! -x "$HELPER" ]; then
	fail "missing $HELPER"
	finish
fi

tsan=0
case "${SAN:-}:$B" in
*thread*) tsan=1 ;;
esac

# run_helper ARGS... : as run, with room for a sanitizer's slowness (the
# helper bounds itself with alarm() as well)
run_helper() {
	timeout -k 5 250 "$HELPER" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

if [ $tsan -eq 1 ]; then
	run_helper --race
	if [ "$RC" -ne 66 ]; then
		fail "--race: exit $RC, expected 66 (a TSan report): is TSan live? $ERR"
	else
		expect_stderr_contains "WARNING: ThreadSanitizer: data race"
	fi
fi

new_key K
for kind in anon memfd "${P}threads" "sysv:$K"; do
	run_helper "$kind"
	if [ "$RC" -ne 0 ]; then
		fail "$kind: exit $RC (66: a TSan report); stdout: $OUT"
		printf '%s\n' "$ERR" | head -n 120 >&2
		continue
	fi
	expect_stdout_contains "sync_threads $kind: ok"
	case $ERR in
	*Sanitizer* | *"runtime error"*) fail "$kind: a sanitizer report: $ERR" ;;
	esac
	echo "$OUT"
done
# the helper removed its named regions itself
[ ! -e "/dev/shm/${P}threads" ] || fail "${P}threads left in /dev/shm"
key_exists "$((K))" && fail "sysv:$K left behind"
finish
