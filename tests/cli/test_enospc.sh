#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A region that does not fit fails at create time with "No space left on
# device" (exit 1) and leaves nothing behind: a small tmpfs on /dev/shm for
# POSIX regions, another for file: regions.  Each mount lives in a private
# mount namespace, so nothing leaks out of the test.  Needs root.
# shellcheck disable=SC2016 # the sh -c scripts expand their own "$1"
set -u
. tests/cli/lib.sh

[ "$(id -u)" -eq 0 ] || skip "needs root to mount a small tmpfs (running as uid $(id -u))"
command -v unshare >/dev/null || skip "unshare is missing"
unshare --mount true 2>/dev/null || skip "unshare --mount does not work here (no CAP_SYS_ADMIN?)"
unshare --mount sh -c 'mount -t tmpfs -o size=1m none "$1"' _ "$T" 2>/dev/null ||
	skip "cannot mount a tmpfs in a mount namespace"

# in_ns SCRIPT ARGS... : runs sh SCRIPT in a new mount namespace; its output
# and exit status as run() gives them.
in_ns() {
	run unshare --mount sh -c "$@"
}

# --- POSIX: a 1 MiB /dev/shm ---------------------------------------------------
in_ns 'mount -t tmpfs -o size=1m,mode=1777 none /dev/shm || exit 99
"$1" create "$2" --size 4M
rc=$?
ls -A /dev/shm >&2
exit $rc' _ "$SHMKIT" "${P}big"
expect_eq "$RC" 1 "create 4M on a 1M /dev/shm: exit status"
expect_stderr_contains "shmkit: create ${P}big: "
expect_stderr_contains "No space left on device"
printf '%s\n' "$ERR" | grep -v '^shmkit: ' | grep -q . &&
	fail "create left something in /dev/shm: $ERR"
[ -e "/dev/shm/${P}big" ] && fail "the test's tmpfs leaked out of its namespace"

# the same, raw and System V-free; and what fits still works there
in_ns 'mount -t tmpfs -o size=1m,mode=1777 none /dev/shm || exit 99
"$1" create "$2" --size 2M --raw && exit 3
"$1" create "$2" --size 512K || exit 4
printf hello | "$1" write "$2" || exit 5
[ "$("$1" read "$2" --length 5)" = hello ] || exit 6
"$1" create "$2" --size 2M 2>&1 | grep -q "^shmkit: create $2: " || exit 7
exit 0' _ "$SHMKIT" "${P}small"
expect_eq "$RC" 0 "a small /dev/shm: raw refused, what fits works (step $RC); stderr: $ERR"

# --- file: a 1 MiB file system ----------------------------------------------------
mkdir "$T/mnt"
in_ns 'mount -t tmpfs -o size=1m none "$2" || exit 99
"$1" create "file:$2/region" --size 4M
rc=$?
ls -A "$2" >&2
exit $rc' _ "$SHMKIT" "$T/mnt"
expect_eq "$RC" 1 "create file: 4M on a 1M file system: exit status"
expect_stderr_contains "shmkit: create file:$T/mnt/region: "
expect_stderr_contains "No space left on device"
printf '%s\n' "$ERR" | grep -v '^shmkit: ' | grep -q . &&
	fail "create left something in the file system: $ERR"
[ -e "$T/mnt/region" ] && fail "the test's tmpfs leaked out of its namespace"

finish
