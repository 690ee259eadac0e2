#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CLI basics on POSIX regions: help, version, create/write/read round trips
# (managed and raw, binary data), offsets and lengths, refusals that leave
# the region unchanged, --excl, and errors writing stdout.
set -u
. tests/cli/lib.sh

# --- help and version -------------------------------------------------------
expect_exit 0 "$SHMKIT" --version && expect_stdout_contains "shmkit "
VERSION=$(printf '%s' "$OUT" | sed -n 's/^shmkit //p')
case $VERSION in
[0-9]*.[0-9]*.[0-9]*) ;;
*) fail "--version printed '$OUT'" ;;
esac
for args in "--help" "-h" "help"; do
	# shellcheck disable=SC2086
	expect_exit 0 "$SHMKIT" $args
	for word in create write read send recv ls stat rm gc bench sysv:KEY file:PATH; do
		expect_stdout_contains "$word"
	done
done
for cmd in create write read send recv ls stat rm gc; do
	expect_exit 0 "$SHMKIT" "$cmd" --help && expect_stdout_contains "shmkit $cmd"
	expect_exit 0 "$SHMKIT" help "$cmd" && expect_stdout_contains "shmkit $cmd"
done

# --- managed round trip with binary data ------------------------------------
X=${P}x
expect_exit 0 "$SHMKIT" create "$X" --size 64K
expect_eq "$OUT$ERR" "" "create prints nothing"
[ -f "/dev/shm/$X" ] || fail "create made no /dev/shm/$X"
head -c 65536 /dev/urandom >"$T/data"
printf 'a\0b\0\0c' >"$T/data.nul"
head -c 1000 /dev/zero >>"$T/data.nul"
expect_exit 0 "$SHMKIT" write "$X" <"$T/data"
expect_eq "$OUT$ERR" "" "write prints nothing"
expect_exit 0 "$SHMKIT" read "$X"
cmp -s "$T/out" "$T/data" || fail "read did not give back the 64 KiB written"

# NULs at an offset, then a window around them
expect_exit 0 "$SHMKIT" write "$X" --offset 100 <"$T/data.nul"
expect_exit 0 "$SHMKIT" read "$X" --offset 100 --length 1006
cmp -s "$T/out" "$T/data.nul" || fail "NUL bytes did not round trip at offset 100"
expect_exit 0 "$SHMKIT" read "$X" --length 100
head -c 100 "$T/data" >"$T/want"
cmp -s "$T/out" "$T/want" || fail "bytes before the offset changed"
expect_exit 0 "$SHMKIT" read "$X" --offset 1106
tail -c +1107 "$T/data" >"$T/want"
cmp -s "$T/out" "$T/want" || fail "bytes after the written window changed"
# --opt=value works like --opt value; suffixes
expect_exit 0 "$SHMKIT" read "$X" --offset=2K --length=1KiB
tail -c +2049 "$T/data" | head -c 1024 >"$T/want"
cmp -s "$T/out" "$T/want" || fail "--offset=2K --length=1KiB read the wrong bytes"
expect_exit 0 "$SHMKIT" read "$X" --offset 64K
expect_eq "$(wc -c <"$T/out")" 0 "read at offset == size"
expect_exit 0 "$SHMKIT" read "$X" --length 0
expect_eq "$(wc -c <"$T/out")" 0 "read --length 0"

# --- refusals leave the region unchanged ------------------------------------
expect_exit 0 "$SHMKIT" read "$X"
cp "$T/out" "$T/before"
head -c 65537 /dev/urandom >"$T/big"
expect_exit 1 "$SHMKIT" write "$X" <"$T/big" &&
	expect_stderr_contains "shmkit: write $X: input (65537 bytes) does not fit at offset 0 of a 65536-byte region"
head -c 10 /dev/urandom >"$T/ten"
expect_exit 1 "$SHMKIT" write "$X" --offset 65530 <"$T/ten" &&
	expect_stderr_contains "input (10 bytes) does not fit at offset 65530 of a 65536-byte region"
expect_exit 1 "$SHMKIT" write "$X" --offset 70000 <"$T/ten" &&
	expect_stderr_contains "offset 70000"
expect_exit 0 "$SHMKIT" read "$X"
cmp -s "$T/out" "$T/before" || fail "a refused write changed the region"
# exactly fitting at the end is fine
expect_exit 0 "$SHMKIT" write "$X" --offset 65526 <"$T/ten"
expect_exit 0 "$SHMKIT" read "$X" --offset 65526
cmp -s "$T/out" "$T/ten" || fail "write ending exactly at the end"
# empty input writes nothing and succeeds
expect_exit 0 "$SHMKIT" write "$X" --offset 64K </dev/null

expect_exit 1 "$SHMKIT" read "$X" --offset 65537 && expect_stderr_contains "read $X: offset 65537"
expect_exit 1 "$SHMKIT" read "$X" --offset 65000 --length 537 &&
	expect_stderr_contains "shmkit: read $X: "
expect_exit 1 "$SHMKIT" read "$X" --length 65537 && expect_stderr_contains "65536-byte region"

# --- create again: --excl, compatible sizes ----------------------------------
expect_exit 1 "$SHMKIT" create "$X" --size 64K --excl &&
	expect_stderr_contains "shmkit: create $X: File exists"
expect_exit 0 "$SHMKIT" create "$X" --size 64K
expect_exit 0 "$SHMKIT" create "$X" --size 1
expect_exit 1 "$SHMKIT" create "$X" --size 65537 && expect_stderr_contains "shmkit: create $X: "
expect_exit 0 "$SHMKIT" read "$X" --offset 65526
cmp -s "$T/out" "$T/ten" || fail "create of an existing region changed its data"

# --- raw round trip ------------------------------------------------------------
R=${P}raw
expect_exit 0 "$SHMKIT" create "$R" --size 4096 --raw
expect_eq "$(stat -c %s "/dev/shm/$R")" 4096 "a raw region's object is exactly its size"
head -c 4096 /dev/urandom >"$T/r"
expect_exit 0 "$SHMKIT" write "$R" --raw <"$T/r"
cmp -s "/dev/shm/$R" "$T/r" || fail "raw data is not at offset 0 of the object"
expect_exit 0 "$SHMKIT" read "$R" --raw
cmp -s "$T/out" "$T/r" || fail "raw read"
# a raw region is not a shmkit segment for a managed open
expect_exit 1 "$SHMKIT" read "$R" && expect_stderr_contains "shmkit: read $R: not a shmkit segment"
expect_exit 1 "$SHMKIT" write "$R" <"$T/ten" && expect_stderr_contains "not a shmkit segment"
cmp -s "/dev/shm/$R" "$T/r" || fail "a refused managed write changed a raw region"

# --- missing regions ---------------------------------------------------------
expect_exit 1 "$SHMKIT" read "${P}nope" && expect_stderr_contains "shmkit: read ${P}nope: no such segment"
expect_exit 1 "$SHMKIT" write "${P}nope" <"$T/ten" && expect_stderr_contains "no such segment"
[ -e "/dev/shm/${P}nope" ] && fail "write created a region"

# --- stdout errors -----------------------------------------------------------
if [ -w /dev/full ]; then
	timeout 20 "$SHMKIT" read "$X" >/dev/full 2>"$T/err"
	RC=$?
	ERR=$(cat "$T/err")
	expect_eq "$RC" 1 "read > /dev/full exit status"
	expect_stderr_contains "shmkit: read $X: "
	timeout 20 "$SHMKIT" stat "$X" >/dev/full 2>"$T/err"
	expect_eq "$?" 1 "stat > /dev/full exit status"
	timeout 20 "$SHMKIT" --help >/dev/full 2>/dev/null
	expect_eq "$?" 1 "--help > /dev/full exit status"
fi
# a reader that goes away: exit 1 without noise, never killed by SIGPIPE
expect_exit 0 "$SHMKIT" create "${P}big" --size 4M
# shellcheck disable=SC2016 # expanded by the inner bash
timeout 20 bash -c '"$1" read "$2" 2>"$3"; echo $? >"$4"' _ "$SHMKIT" "${P}big" "$T/err" "$T/rc" |
	head -c 1 >/dev/null
expect_eq "$(cat "$T/rc")" 1 "read into a closed pipe exit status"
expect_eq "$(cat "$T/err")" "" "read into a closed pipe stderr"

finish
