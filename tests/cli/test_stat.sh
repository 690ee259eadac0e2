#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shmkit stat: the human fields and --json, on managed and raw regions of
# each backend, with no peer, a live peer and a peer that crashed.
set -u
. tests/cli/lib.sh

X=${P}s
expect_exit 0 "$SHMKIT" create "$X" --size 4096 --mode 0640
expect_exit 0 "$SHMKIT" stat "$X"
expect_eq "$(stat_field name)" "$X" "name"
expect_eq "$(stat_field backend)" posix "backend"
expect_eq "$(stat_field managed)" "yes (layout 1)" "managed"
expect_eq "$(stat_field size)" 4096 "size"
expect_eq "$(stat_field mode)" 0640 "mode"
expect_eq "$(stat_field nattch)" 0 "nattch after create"
expect_eq "$(stat_field removed)" no "removed"
expect_eq "$(stat_field peers)" none "peers"
case $(stat_field owner) in
"$(id -u):$(id -g)"*) ;;
*) fail "owner: $(stat_field owner)" ;;
esac
expect_eq "$(stat_field cpid)" "$(stat_field cpid | tr -cd 0-9)" "cpid is a number"
case $(stat_field ctime) in
[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]\ [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]) ;;
*) fail "ctime: '$(stat_field ctime)'" ;;
esac
printf '%s\n' "$OUT" | grep -q '^shmid:' && fail "a POSIX region shows a shmid"
expect_eq "$(stat -c %a "/dev/shm/$X")" 640 "mode of the object"
TOTAL=$(stat_field total)
expect_eq "$(stat -c %s "/dev/shm/$X")" "$TOTAL" "total is the object's size"

# --json
expect_exit 0 "$SHMKIT" stat "$X" --json
json_valid || fail "stat --json is not one JSON document: $OUT"
expect_eq "$(json_get 'd["name"]')" "\"$X\"" "json name"
expect_eq "$(json_get 'd["backend"]')" '"posix"' "json backend"
expect_eq "$(json_get 'd["managed"]')" true "json managed"
expect_eq "$(json_get 'd["version"]')" 1 "json version"
expect_eq "$(json_get 'd["size"]')" 4096 "json size"
expect_eq "$(json_get 'd["total_size"]')" "$TOTAL" "json total_size"
expect_eq "$(json_get 'd["mode"]')" '"0640"' "json mode"
expect_eq "$(json_get 'd["uid"]')" "$(id -u)" "json uid"
expect_eq "$(json_get 'd["gid"]')" "$(id -g)" "json gid"
expect_eq "$(json_get 'd["nattch"]')" 0 "json nattch"
expect_eq "$(json_get 'd["shmid"]')" null "json shmid"
expect_eq "$(json_get 'd["removed"]')" false "json removed"
expect_eq "$(json_get 'd["peers"]')" '[]' "json peers"
expect_eq "$(json_get 'd["ctime_ns"] > 10**18 and d["cpid"] > 0')" true "json ctime_ns, cpid"
expect_eq "$(json_get 'sorted(d)')" \
	'["atime_ns", "backend", "channel", "cpid", "ctime_ns", "dtime_ns", "gid", "lpid", "managed", "mode", "name", "nattch", "peers", "removed", "shmid", "size", "sync", "total_size", "uid", "version"]' \
	"json keys"

# --- a live peer, then the same peer crashed ---------------------------------
COMM=$(basename "$SHMKIT" | cut -c 1-15)  # the holder's command name
[ "${SHMKIT_VALGRIND:-0}" = 1 ] && COMM=memcheck-amd64-  # valgrind's, then
hold "$X"
wait_nattch "$X" 1
expect_exit 0 "$SHMKIT" stat "$X"
expect_eq "$(stat_field nattch)" 1 "nattch with a live peer"
printf '%s\n' "$OUT" | grep -Eq "^  slot [0-9]+ +pid $HOLDER +alive +uid $(id -u) +comm $COMM " ||
	fail "no live peer line for pid $HOLDER: $OUT"
expect_eq "$(stat_field lpid)" "$HOLDER" "lpid is the last attacher"
expect_exit 0 "$SHMKIT" stat "$X" --json
json_valid || fail "stat --json with a peer: $OUT"
expect_eq "$(json_get '[(p["pid"], p["alive"], p["comm"], p["other_pidns"]) for p in d["peers"]]')" \
	"[[$HOLDER, true, \"$COMM\", false]]" "json live peer"
expect_eq "$(json_get 'd["peers"][0]["attach_ns"] >= d["ctime_ns"]')" true "json attach_ns"
kill_holder
expect_exit 0 "$SHMKIT" stat "$X"
expect_eq "$(stat_field nattch)" 0 "nattch after the peer crashed"
printf '%s\n' "$OUT" | grep -Eq "^  slot [0-9]+ +pid $HOLDER +dead " ||
	fail "no dead peer line for pid $HOLDER: $OUT"
expect_exit 0 "$SHMKIT" stat "$X" --json
expect_eq "$(json_get '[(p["pid"], p["alive"]) for p in d["peers"]]')" "[[$HOLDER, false]]" "json dead peer"
# a clean detach leaves no slot behind
hold "$X"
wait_nattch "$X" 1
release
expect_exit 0 "$SHMKIT" stat "$X" --json
expect_eq "$(json_get '[p["pid"] for p in d["peers"] if p["alive"]]')" '[]' "peers after a clean detach"
expect_eq "$(json_get 'd["nattch"]')" 0 "nattch after a clean detach"

# a command name with quotes, a backslash, a control byte and bad UTF-8 is
# escaped into valid JSON
WEIRD="$T/"$'q"\\\x01\xc3\xa9\xff'
cp "${SHMKIT_UNWRAPPED:-$SHMKIT}" "$WEIRD"  # the binary, not valgrind's wrapper
SAVED=$SHMKIT
SHMKIT=$WEIRD
hold "$X"
SHMKIT=$SAVED
wait_nattch "$X" 1
expect_exit 0 "$SHMKIT" stat "$X" --json
json_valid || fail "stat --json with an odd comm is not JSON: $OUT"
expect_eq "$(json_get '[p["comm"] for p in d["peers"] if p["alive"]]')" '["q\"\\\u0001\u00e9\ufffd"]' "escaped comm"
expect_exit 0 "$SHMKIT" stat "$X"
printf '%s\n' "$OUT" | LC_ALL=C grep -q "$(printf '\001')" && fail "stat printed a control byte"
release

# --- raw and foreign objects ---------------------------------------------------
expect_exit 0 "$SHMKIT" create "${P}raw" --size 5000 --raw
expect_exit 0 "$SHMKIT" stat "${P}raw"
expect_eq "$(stat_field managed)" no "raw managed"
expect_eq "$(stat_field size)" 5000 "raw size"
expect_eq "$(stat_field mode)" 0600 "default mode"
expect_eq "$(stat_field peers)" "n/a (not a shmkit segment)" "raw peers"
expect_exit 0 "$SHMKIT" stat "${P}raw" --json
expect_eq "$(json_get '[d["managed"], d["version"], d["peers"], d["size"]]')" '[false, null, null, 5000]' "raw json"

head -c 3000 /dev/zero >"/dev/shm/${P}foreign"
expect_exit 0 "$SHMKIT" stat "${P}foreign"
expect_eq "$(stat_field managed)" no "foreign managed"
expect_eq "$(stat_field size)" 3000 "foreign size"

# --- System V ------------------------------------------------------------------
new_key K
expect_exit 0 "$SHMKIT" create "sysv:$K" --size 10000 --mode 0604
expect_exit 0 "$SHMKIT" stat "sysv:$K"
expect_eq "$(stat_field backend)" sysv "sysv backend"
expect_eq "$(stat_field size)" 10000 "sysv size"
expect_eq "$(stat_field mode)" 0604 "sysv mode"
expect_eq "$(stat_field nattch)" 0 "sysv nattch"
SHMID=$(stat_field shmid)
expect_exit 0 "$SHMKIT" stat "sysv:$K" --json
json_valid || fail "sysv stat --json: $OUT"
expect_eq "$(json_get '[d["backend"], d["managed"], d["size"], d["mode"], d["shmid"], d["nattch"]]')" \
	"[\"sysv\", true, 10000, \"0604\", $SHMID, 0]" "sysv json"
hold "sysv:$K"
wait_nattch "sysv:$K" 1
expect_exit 0 "$SHMKIT" stat "sysv:$K"
printf '%s\n' "$OUT" | grep -Eq "^  slot [0-9]+ +pid $HOLDER +alive " || fail "sysv live peer: $OUT"
kill_holder
wait_nattch "sysv:$K" 0

# --- file: ----------------------------------------------------------------------
expect_exit 0 "$SHMKIT" create "file:$T/f" --size 1M --mode 0600
expect_exit 0 "$SHMKIT" stat "file:$T/f" --json
expect_eq "$(json_get '[d["name"], d["backend"], d["managed"], d["size"], d["nattch"]]')" \
	"[\"file:$T/f\", \"file\", true, 1048576, 0]" "file json"

# --- missing ------------------------------------------------------------------------
expect_exit 1 "$SHMKIT" stat "${P}missing" && expect_stderr_contains "shmkit: stat ${P}missing: no such segment"
expect_exit 1 "$SHMKIT" stat sysv:0x1234abcd || true
key_exists $((0x1234abcd)) || expect_stderr_contains "shmkit: stat sysv:0x1234abcd: no such segment"
expect_exit 1 "$SHMKIT" stat "file:$T/nothing" && expect_stderr_contains "no such segment"
[ -s "$T/out" ] && fail "a failed stat printed on stdout"

finish
