#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Objects that are not shmkit's, and shmkit segments with a damaged header:
# clear errors (exit 1), never a crash, and ls lists them with a note.
set -u
. tests/cli/lib.sh

# overwrite FILE OFFSET BYTES : puts BYTES (printf format) at OFFSET in FILE.
overwrite() {
	# shellcheck disable=SC2059 # $3 is a printf format on purpose
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none ||
		fail "dd into $1"
}

# --- a foreign object ----------------------------------------------------------
F=${P}foreign
head -c 4096 /dev/zero >"/dev/shm/$F"
expect_exit 0 "$SHMKIT" stat "$F"
expect_eq "$(stat_field managed)" no "foreign: managed"
expect_eq "$(stat_field peers)" "n/a (not a shmkit segment)" "foreign: peers"
expect_exit 1 "$SHMKIT" read "$F" && expect_stderr_contains "shmkit: read $F: not a shmkit segment"
expect_exit 1 "$SHMKIT" write "$F" </dev/null && expect_stderr_contains "shmkit: write $F: not a shmkit segment"
expect_exit 1 "$SHMKIT" create "$F" --size 1K && expect_stderr_contains "shmkit: create $F: not a shmkit segment"
cmp -s "/dev/shm/$F" <(head -c 4096 /dev/zero) || fail "the foreign object changed"
# raw opens work on it
printf 'hello' | "$SHMKIT" write "$F" --raw --offset 10 || fail "raw write into a foreign object"
expect_exit 0 "$SHMKIT" read "$F" --raw --offset 10 --length 5
expect_eq "$OUT" hello "raw read of a foreign object"

# tiny objects: empty and shorter than a header
: >"/dev/shm/${P}empty"
printf 'SHMKIT' >"/dev/shm/${P}tiny"
for n in "${P}empty" "${P}tiny"; do
	expect_exit 0 "$SHMKIT" stat "$n"
	expect_eq "$(stat_field managed)" no "$n: managed"
	expect_exit 1 "$SHMKIT" read "$n"
	expect_stderr_contains "shmkit: read $n: "
done

# --- magic overwritten: no longer a shmkit segment ------------------------------
M=${P}magic
expect_exit 0 "$SHMKIT" create "$M" --size 4K
overwrite "/dev/shm/$M" 0 'XXXXXXXX'
expect_exit 1 "$SHMKIT" read "$M" && expect_stderr_contains "shmkit: read $M: not a shmkit segment"
expect_exit 1 "$SHMKIT" write "$M" </dev/null && expect_stderr_contains "not a shmkit segment"
# stat observes any object: it reports one without magic as not shmkit's
expect_exit 0 "$SHMKIT" stat "$M"
expect_eq "$(stat_field managed)" no "magic overwritten: managed"
expect_eq "$(stat_field peers)" "n/a (not a shmkit segment)" "magic overwritten: peers"

# --- data_size (bytes 16..23) overwritten: corrupt ---------------------------
C=${P}corrupt
expect_exit 0 "$SHMKIT" create "$C" --size 4K
overwrite "/dev/shm/$C" 16 '\377\377\377\377\377\377\377\177'
expect_exit 1 "$SHMKIT" stat "$C" && expect_stderr_contains "shmkit: stat $C: corrupt shmkit segment"
expect_exit 1 "$SHMKIT" stat "$C" --json && expect_stderr_contains "corrupt shmkit segment"
[ -s "$T/out" ] && fail "stat --json of a corrupt segment printed: $OUT"
expect_exit 1 "$SHMKIT" read "$C" && expect_stderr_contains "shmkit: read $C: corrupt shmkit segment"
expect_exit 1 "$SHMKIT" write "$C" </dev/null && expect_stderr_contains "corrupt shmkit segment"

# a small, plausible data_size is caught as well (checksum)
C2=${P}corrupt2
expect_exit 0 "$SHMKIT" create "$C2" --size 8K
overwrite "/dev/shm/$C2" 16 '\000\020\000\000\000\000\000\000'
expect_exit 1 "$SHMKIT" read "$C2" && expect_stderr_contains "corrupt shmkit segment"

# a truncated segment
TR=${P}trunc
expect_exit 0 "$SHMKIT" create "$TR" --size 64K
truncate -s 10000 "/dev/shm/$TR"
expect_exit 1 "$SHMKIT" read "$TR" && expect_stderr_contains "corrupt shmkit segment"
expect_exit 1 "$SHMKIT" stat "$TR" && expect_stderr_contains "corrupt shmkit segment"

# an unknown layout version (byte 8)
V=${P}version
expect_exit 0 "$SHMKIT" create "$V" --size 4K
overwrite "/dev/shm/$V" 8 '\143'
expect_exit 1 "$SHMKIT" read "$V" && expect_stderr_contains "shmkit: read $V: "

# random garbage over the whole header never crashes anything
G=${P}garbage
expect_exit 0 "$SHMKIT" create "$G" --size 4K
for _ in 1 2 3 4 5; do
	printf 'SHMKIT\000\032' | dd of="/dev/shm/$G" conv=notrunc status=none
	head -c 600 /dev/urandom | dd of="/dev/shm/$G" bs=1 seek=8 conv=notrunc status=none
	for cmd in stat read; do
		run "$SHMKIT" $cmd "$G"
		[ "$RC" -le 1 ] || fail "$cmd of a garbage header exited $RC: $ERR"
	done
done

# --- ls lists them all, with notes, and goes on ------------------------------
expect_exit 0 "$SHMKIT" ls
for n in "$F" "$M" "$C" "$TR" "${P}empty"; do
	printf '%s\n' "$OUT" | grep -q "^$n " || fail "ls does not list $n"
done
printf '%s\n' "$OUT" | grep -E "^$C " | grep -q corrupt || fail "ls: no 'corrupt' note for $C: $OUT"
printf '%s\n' "$OUT" | grep -E "^$F " | grep -Eq " no +- " || fail "ls: $F not shown unmanaged: $OUT"
expect_exit 0 "$SHMKIT" ls --json
json_valid || fail "ls --json: $OUT"
expect_eq "$(json_get "[(s['managed'], s['error']) for s in d['segments'] if s['name'] == '$C']")" \
	'[[null, "corrupt"]]' "ls --json corrupt entry"
expect_eq "$(json_get "[(s['managed'], s['error']) for s in d['segments'] if s['name'] == '$F']")" \
	'[[false, null]]' "ls --json foreign entry"

# gc --dry-run never proposes any of them
expect_exit 0 "$SHMKIT" gc --dry-run
for n in "$F" "$M" "$C" "$C2" "$TR" "$V" "${P}empty" "${P}tiny"; do
	printf '%s\n' "$OUT" | grep -qx "would remove $n" && fail "gc would remove $n"
done

# rm removes them all the same
expect_exit 0 "$SHMKIT" rm "$F" "$M" "$C" "$C2" "$TR" "$V" "$G" "${P}empty" "${P}tiny"
ls /dev/shm/"$P"* >/dev/null 2>&1 && fail "rm left: $(ls /dev/shm/"$P"*)"

finish
