#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad input is a usage error (exit 2) with a clear message and a hint, and
# creates nothing: names, sizes, offsets, modes, arguments, commands, options.
set -u
. tests/cli/lib.sh

# --- names ----------------------------------------------------------------------
LONG=$(printf 'n%.0s' $(seq 1 201))
OK200=${P}$(printf 'n%.0s' $(seq 1 $((200 - ${#P}))))
for name in "a/b" ".." "." "" "$LONG" "posix:" "posix:a/b" "sp ace" "st*r" "é" \
	"sysv:" "sysv:0" "sysv:-5" "sysv:0x1ffffffff" "sysv:4294967296" "sysv:zz" \
	"sysv:0x" "sysv:/tmp:0" "sysv:/tmp:256" "sysv:/tmp:x" "sysv::1" "file:" "file:$T/dir/"; do
	for cmd in "create --size 4K" "stat" "read" "rm"; do
		# shellcheck disable=SC2086
		expect_usage "$SHMKIT" $cmd "$name" && expect_stderr_contains "invalid name"
	done
	expect_stderr_contains "shmkit: rm ${name:-''}: invalid name: "
	expect_usage "$SHMKIT" write "$name" </dev/null
done
expect_exit 2 "$SHMKIT" create a/b --size 1 &&
	expect_stderr_contains "shmkit: create a/b: invalid name: "
expect_exit 2 "$SHMKIT" stat "$LONG" && expect_stderr_contains "too long"
expect_exit 2 "$SHMKIT" stat "" && expect_stderr_contains "empty name"
# 200 characters is still a name
expect_exit 0 "$SHMKIT" create "$OK200" --size 1
expect_exit 0 "$SHMKIT" stat "$OK200"
# an ftok PATH that does not exist is a runtime error naming it
expect_exit 1 "$SHMKIT" create sysv:/nonexistent/shmkit:1 --size 4K &&
	expect_stderr_contains "shmkit: create sysv:/nonexistent/shmkit:1: "
expect_stderr_contains "No such file or directory"
expect_exit 1 "$SHMKIT" stat sysv:/nonexistent/shmkit:1 && expect_stderr_contains "/nonexistent/shmkit"
# a name beginning with '-' goes after "--"
expect_exit 0 "$SHMKIT" create --size 10 -- "-${P}dash"
[ -f "/dev/shm/-${P}dash" ] || fail "create -- -NAME"
expect_exit 0 "$SHMKIT" rm -- "-${P}dash"

# --- sizes, offsets, lengths -------------------------------------------------
X=${P}x
for size in 0 -1 abc 12x 99999999999999999999 16E "" " 1" "1 " +1 1.5 0x10 1KB 1Ki 17179869184T; do
	expect_usage "$SHMKIT" create "$X" --size "$size" && expect_stderr_contains "--size"
done
expect_exit 2 "$SHMKIT" create "$X" --size 0 && expect_stderr_contains "at least 1 byte"
expect_exit 2 "$SHMKIT" create "$X" --size -1 && expect_stderr_contains "negative"
expect_exit 2 "$SHMKIT" create "$X" --size abc && expect_stderr_contains "shmkit: create: invalid --size 'abc'"
[ -e "/dev/shm/$X" ] && fail "a refused create made $X"
expect_exit 0 "$SHMKIT" create "$X" --size 1K
for n in -1 abc 12x 99999999999999999999 16E ""; do
	expect_usage "$SHMKIT" read "$X" --offset "$n" && expect_stderr_contains "--offset"
	expect_usage "$SHMKIT" read "$X" --length "$n" && expect_stderr_contains "--length"
	expect_usage "$SHMKIT" write "$X" --offset "$n" </dev/null && expect_stderr_contains "--offset"
done
# the suffixes that are accepted
for size in 1 1k 1K 2M 1G 1KiB 3MiB 1GiB; do
	run "$SHMKIT" read "$X" --offset "$size" --length 0
	[ "$RC" -eq 2 ] && fail "--offset $size refused as a usage error: $ERR"
done

# --- modes ------------------------------------------------------------------------
for mode in 0800 abc -1 "" 1000 07777 0x600 6OO 0; do
	expect_usage "$SHMKIT" create "${P}m" --size 1K --mode "$mode" && expect_stderr_contains "--mode"
done
[ -e "/dev/shm/${P}m" ] && fail "a refused create made ${P}m"
for mode in 600 0600 00600 0644 0400 0777; do
	expect_exit 0 "$SHMKIT" create "${P}m$mode" --size 1K --mode "$mode"
	expect_eq "$(stat -c %a "/dev/shm/${P}m$mode")" "$(printf %o $((8#$mode)))" "mode $mode"
done
expect_eq "$(stat -c %a "/dev/shm/${P}m0644")" 644 "--mode 0644 whatever the umask"

# --- arguments ------------------------------------------------------------------------
expect_usage "$SHMKIT"
expect_usage "$SHMKIT" create
expect_usage "$SHMKIT" create "$X"
expect_stderr_contains "--size"
expect_usage "$SHMKIT" create "$X" --size
expect_usage "$SHMKIT" create "$X" y --size 1
expect_usage "$SHMKIT" create "$X" --size 1 --size 2
expect_usage "$SHMKIT" create "$X" --size 1 --raw=yes
expect_usage "$SHMKIT" stat
expect_usage "$SHMKIT" stat "$X" extra
expect_usage "$SHMKIT" read
expect_usage "$SHMKIT" read "$X" --length
expect_usage "$SHMKIT" write </dev/null
expect_usage "$SHMKIT" rm
expect_usage "$SHMKIT" ls extra
expect_usage "$SHMKIT" gc extra
expect_usage "$SHMKIT" --version extra
expect_usage "$SHMKIT" help nosuchcommand

# --- unknown commands and options ------------------------------------------------------
expect_usage "$SHMKIT" frobnicate && expect_stderr_contains "shmkit: frobnicate: unknown command"
expect_usage "$SHMKIT" send "$X" --frob && expect_stderr_contains "shmkit: send: unknown option '--frob'"
expect_usage "$SHMKIT" recv "$X" --count 0
expect_usage "$SHMKIT" bench extra && expect_stderr_contains "shmkit: bench: unexpected argument 'extra'"
expect_usage "$SHMKIT" --frob && expect_stderr_contains "unknown option"
expect_usage "$SHMKIT" -x
expect_usage "$SHMKIT" ls --frob && expect_stderr_contains "shmkit: ls: unknown option '--frob'"
expect_usage "$SHMKIT" ls -l
expect_usage "$SHMKIT" create "$X" --size 1 --channel spsc
expect_usage "$SHMKIT" stat "$X" --jsn
expect_usage "$SHMKIT" gc --dry
expect_usage "$SHMKIT" read "$X" --json

finish
