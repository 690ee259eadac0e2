#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Round trips on every named backend: System V by key (hex and decimal name
# the same segment) and by ftok(PATH, PROJ), file: regions, raw and managed.
set -u
. tests/cli/lib.sh

# roundtrip NAME [--raw] : create 8K, write random bytes, read them back.
roundtrip() {
	local name=$1
	shift
	expect_exit 0 "$SHMKIT" create "$name" --size 8K "$@" || return
	head -c 8192 /dev/urandom >"$T/in"
	expect_exit 0 "$SHMKIT" write "$name" "$@" <"$T/in"
	expect_exit 0 "$SHMKIT" read "$name" "$@"
	cmp -s "$T/out" "$T/in" || fail "$name $*: data did not round trip"
	printf 'x\0y' >"$T/small"
	expect_exit 0 "$SHMKIT" write "$name" --offset 8189 "$@" <"$T/small"
	expect_exit 0 "$SHMKIT" read "$name" --offset 8189 --length 3 "$@"
	cmp -s "$T/out" "$T/small" || fail "$name $*: bytes at the end did not round trip"
	expect_exit 1 "$SHMKIT" write "$name" --offset 8190 "$@" <"$T/small" &&
		expect_stderr_contains "does not fit at offset 8190 of a 8192-byte region"
	expect_exit 0 "$SHMKIT" stat "$name"
	expect_eq "$(stat_field size)" 8192 "$name $*: stat size"
	expect_exit 1 "$SHMKIT" create "$name" --size 8K --excl "$@" &&
		expect_stderr_contains "create $name: File exists"
}

# --- System V by key ------------------------------------------------------------
new_key K
roundtrip "sysv:$K"
expect_exit 0 "$SHMKIT" stat "sysv:$K"
expect_eq "$(stat_field backend)" sysv "sysv backend"
expect_eq "$(stat_field managed)" "yes (layout 1)" "sysv managed"
SHMID=$(stat_field shmid)
case $SHMID in
'' | *[!0-9]*) fail "sysv stat shows no shmid: '$SHMID'" ;;
esac
# the decimal spelling of the key names the same segment
expect_exit 0 "$SHMKIT" read "sysv:$((K))" --offset 8189
cmp -s "$T/out" "$T/small" || fail "sysv:$((K)) is not sysv:$K"
grep -q "^ *$((K)) *$SHMID " /proc/sysvipc/shm || fail "key $K / shmid $SHMID not in /proc/sysvipc/shm"

new_key KR
roundtrip "sysv:$KR" --raw
expect_exit 0 "$SHMKIT" stat "sysv:$KR"
expect_eq "$(stat_field managed)" "no" "raw sysv managed"
expect_eq "$(stat_field total)" 8192 "raw sysv total"
expect_exit 1 "$SHMKIT" read "sysv:$KR" && expect_stderr_contains "not a shmkit segment"

# --- System V by ftok(PATH, PROJ) ---------------------------------------------
touch "$T/keyfile"
F="sysv:$T/keyfile:77"
track "$F"
roundtrip "$F"
FKEY=$(python3 -c 'import os,sys
st = os.stat(sys.argv[1])
print((77 & 0xff) << 24 | (st.st_dev & 0xff) << 16 | (st.st_ino & 0xffff))' "$T/keyfile")
key_exists "$FKEY" || fail "no segment with key ftok($T/keyfile, 77) = $FKEY"
expect_exit 0 "$SHMKIT" read "sysv:$FKEY" --offset 8189
cmp -s "$T/out" "$T/small" || fail "sysv:$FKEY is not $F"
expect_exit 0 "$SHMKIT" rm "$F"
key_exists "$FKEY" && fail "rm $F left the segment"

# --- file: regions --------------------------------------------------------------
roundtrip "file:$T/region"
[ -f "$T/region" ] || fail "file:$T/region made no file"
expect_exit 0 "$SHMKIT" stat "file:$T/region"
expect_eq "$(stat_field backend)" file "file backend"
expect_eq "$(stat_field managed)" "yes (layout 1)" "file managed"
TOTAL=$(stat_field total)
expect_eq "$(stat -c %s "$T/region")" "$TOTAL" "the file's size is the region's total size"
# relative paths work too
(cd "$T" && "$SHMKIT" create file:rel --size 100 && printf hi | "$SHMKIT" write file:rel &&
	[ "$("$SHMKIT" read file:rel --length 2)" = hi ]) || fail "relative file: path"

roundtrip "file:$T/raw" --raw
expect_eq "$(stat -c %s "$T/raw")" 8192 "raw file size"
tail -c 3 "$T/raw" | cmp -s - "$T/small" || fail "a raw file region keeps its data at its offset in the file"
expect_exit 1 "$SHMKIT" create "file:$T/nodir/x" --size 1 && expect_stderr_contains "create file:$T/nodir/x: "

# --- posix: prefix is the same object -------------------------------------------
expect_exit 0 "$SHMKIT" create "posix:${P}p" --size 100
[ -f "/dev/shm/${P}p" ] || fail "posix:${P}p is not /dev/shm/${P}p"
printf abc | "$SHMKIT" write "posix:${P}p" || fail "write posix:"
expect_exit 0 "$SHMKIT" read "${P}p" --length 3
expect_eq "$OUT" abc "posix:NAME and NAME"

finish
