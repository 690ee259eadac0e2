#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shmkit ls (table and --json) and shmkit rm.
set -u
. tests/cli/lib.sh

A=${P}a
Z=${P}z
R=${P}raw
new_key K
KNAME=$(printf 'sysv:0x%08x' "$K")
expect_exit 0 "$SHMKIT" create "$Z" --size 3K
expect_exit 0 "$SHMKIT" create "$A" --size 2K
expect_exit 0 "$SHMKIT" create "$R" --size 1000 --raw
expect_exit 0 "$SHMKIT" create "sysv:$K" --size 5000
expect_exit 0 "$SHMKIT" stat "sysv:$K"
SHMID=$(stat_field shmid)
: >"/dev/shm/${P}bad name"    # a name shmkit cannot address: not listed

# --- the table --------------------------------------------------------------------
expect_exit 0 "$SHMKIT" ls
HEAD=$(printf '%s\n' "$OUT" | head -n 1)
for col in NAME BACKEND SIZE MANAGED PEERS SHMID; do
	case $HEAD in
	*"$col"*) ;;
	*) fail "ls header lacks $col: $HEAD" ;;
	esac
done
line() { printf '%s\n' "$OUT" | grep -E "^$1 "; }
line "$A" | grep -Eq "^$A +posix +2048 +yes +0 +- *$" || fail "ls line of $A: $(line "$A")"
line "$Z" | grep -Eq "^$Z +posix +3072 +yes +0 +- *$" || fail "ls line of $Z: $(line "$Z")"
line "$R" | grep -Eq "^$R +posix +1000 +no +- +- *$" || fail "ls line of $R: $(line "$R")"
line "$KNAME" | grep -Eq "^$KNAME +sysv +5000 +yes +0 +$SHMID *$" || fail "ls line of $KNAME: $(line "$KNAME")"
expect_stdout_lacks "${P}bad name"
# sorted: backend, then name
ORDER=$(printf '%s\n' "$OUT" | awk -v p="$P" -v k="$KNAME" 'index($1, p) == 1 || $1 == k { print $1 }' | tr '\n' ' ')
expect_eq "$ORDER" "$A $R $Z $KNAME " "ls order"
printf '%s\n' "$OUT" | awk 'NR > 1 { print $2 }' | uniq | tr '\n' ' ' | grep -Eq '^(posix )?(sysv )?$' ||
	fail "ls is not sorted by backend"

# a live peer is counted
hold "$A"
wait_nattch "$A" 1
expect_exit 0 "$SHMKIT" ls
line "$A" | grep -Eq "^$A +posix +2048 +yes +1 " || fail "ls with a live peer: $(line "$A")"
release

# --- --json --------------------------------------------------------------------
expect_exit 0 "$SHMKIT" ls --json
json_valid || fail "ls --json is not one JSON document: $OUT"
get() { json_get "[[s[k] for k in ('backend', 'size', 'managed', 'nattch', 'shmid', 'error')] for s in d['segments'] if s['name'] == '$1']"; }
expect_eq "$(get "$A")" '[["posix", 2048, true, 0, null, null]]' "ls --json $A"
expect_eq "$(get "$R")" '[["posix", 1000, false, null, null, null]]' "ls --json $R"
expect_eq "$(get "$KNAME")" "[[\"sysv\", 5000, true, 0, $SHMID, null]]" "ls --json $KNAME"
expect_eq "$(json_get "[s['name'] for s in d['segments'] if s['name'] and s['name'].startswith('$P')]")" \
	"[\"$A\", \"$R\", \"$Z\"]" "ls --json order"

# a private System V segment, if python can make one, shows without a name
PRIV=$(python3 -c 'import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print(libc.shmget(0, 4096, 0o600 | 0o1000))' 2>/dev/null)
if [ -n "$PRIV" ] && [ "$PRIV" -ge 0 ] 2>/dev/null; then
	expect_exit 0 "$SHMKIT" ls
	printf '%s\n' "$OUT" | grep -Eq "^\(private\) +sysv +4096 .* $PRIV( |$)" || fail "ls: private segment $PRIV: $OUT"
	expect_exit 0 "$SHMKIT" ls --json
	expect_eq "$(json_get "[s['name'] for s in d['segments'] if s['shmid'] == $PRIV]")" '[null]' "ls --json private"
	ipcrm -m "$PRIV" || fail "ipcrm -m $PRIV"
fi

# --- rm -----------------------------------------------------------------------------
expect_exit 0 "$SHMKIT" rm "$A"
expect_eq "$OUT$ERR" "" "rm prints nothing"
expect_exit 1 "$SHMKIT" stat "$A" && expect_stderr_contains "shmkit: stat $A: no such segment"
expect_exit 1 "$SHMKIT" rm "$A" && expect_stderr_contains "shmkit: rm $A: "
# several at once; a missing one in the middle does not stop the others
expect_exit 1 "$SHMKIT" rm "$Z" "${P}missing" "sysv:$K" "$R"
expect_stderr_contains "shmkit: rm ${P}missing: "
expect_eq "$(printf '%s\n' "$ERR" | grep -c '^shmkit: ')" 1 "rm reports only the missing one"
for n in "$Z" "sysv:$K" "$R"; do
	expect_exit 1 "$SHMKIT" stat "$n" && expect_stderr_contains "no such segment"
done
key_exists "$K" && fail "rm sysv:$K left the segment"
expect_exit 0 "$SHMKIT" ls
expect_stdout_lacks "$Z"
expect_stdout_lacks "$KNAME"

# rm while attached: the holder keeps working, new opens fail
expect_exit 0 "$SHMKIT" create "$A" --size 4K
hold "$A"
wait_nattch "$A" 1
expect_exit 0 "$SHMKIT" rm "$A"
expect_exit 1 "$SHMKIT" read "$A" && expect_stderr_contains "no such segment"
release
expect_eq "$(cat "$T/hold.err")" "" "a holder of a removed region"

new_key K2
expect_exit 0 "$SHMKIT" create "sysv:$K2" --size 4K
hold "sysv:$K2"
wait_nattch "sysv:$K2" 1
expect_exit 0 "$SHMKIT" rm "sysv:$K2"
expect_exit 1 "$SHMKIT" stat "sysv:$K2" && expect_stderr_contains "no such segment"
release

# a file: region is its file
expect_exit 0 "$SHMKIT" create "file:$T/f" --size 1K
expect_exit 0 "$SHMKIT" rm "file:$T/f"
[ -e "$T/f" ] && fail "rm file: left the file"

finish
