#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# MPSC channels from the command line: create --channel mpsc, four `shmkit
# send` at once into one `shmkit recv` on every backend (every line exactly
# once, each writer's lines in its order), writers killed mid-stream (one
# blocked on its input, one holding a reservation it never commits: recv
# skips that record, counts it lost, names the dead writers and ends once
# the others closed), stat's writers and lost count, send/recv --create
# --channel, and the usage errors.  Every wait is bounded.
set -u
. tests/cli/lib.sh

LIB_CALL=$B/tests/helpers/lib_call
[ -x "$LIB_CALL" ] || { fail "$LIB_CALL is not built"; finish; }

# check_lines FILE N W... : FILE holds, for each writer prefix W, the lines
# "W 1" .. "W N" in that order, and nothing else.
check_lines() {
	local file=$1 n=$2 bad
	shift 2
	bad=$(awk -v n="$n" -v ws="$*" '
		BEGIN { k = split(ws, w, " "); for (i = 1; i <= k; i++) want[w[i]] = 1 }
		!($1 in want) || NF != 2 { print "stray line " NR ": " $0; exit }
		$2 != last[$1] + 1 { print "writer " $1 ": " $2 " after " last[$1] + 0; exit }
		{ last[$1] = $2 }
		END { for (x in want) if (last[x] != n) print "writer " x ": " last[x] + 0 " lines, not " n }
	' "$file")
	[ -z "$bad" ] || fail "$file: $bad"
	expect_eq "$(sort "$file" | uniq -d | head -n 3)" "" "$file: lines twice"
}

for w in 1 2 3 4; do
	seq 1 50000 | sed "s/^/w$w /" >"$T/in$w"
done

# --- four senders, one reader, every backend ------------------------------------
# stream NAME : the four senders start first (their 800 KB each fill the
# 64 KiB ring, so they are all in before any can finish), then recv.
stream() {
	local name=$1 pids=() w rc=0 rrc
	expect_exit 0 "$SHMKIT" create "$name" --channel mpsc --capacity 64K --excl || return
	for w in 1 2 3 4; do
		timeout 60 "$SHMKIT" send "$name" <"$T/in$w" 2>"$T/s$w.err" &
		pids+=($!)
	done
	wait_chan "$name" 'c["writers_live"] == 4'
	timeout 60 "$SHMKIT" recv "$name" >"$T/st.out" 2>"$T/st.err"
	rrc=$?
	for w in 0 1 2 3; do
		wait "${pids[$w]}" || rc=$?
	done
	expect_eq "$rc/$rrc" 0/0 "$name: send/recv exit status ($(cat "$T"/s?.err "$T/st.err"))"
	expect_eq "$(cat "$T/st.err")" "" "$name: recv's stderr"
	expect_eq "$(wc -l <"$T/st.out")" 200000 "$name: lines received"
	check_lines "$T/st.out" 50000 w1 w2 w3 w4
	expect_eq "$(chan_get "$name" '[c["type"], c["sent"], c["received"], c["lost"], c["used"], c["closed"], c["writers_live"], c["writers_dead"], c["writers"]]')" \
		'["mpsc", 200000, 200000, 0, 0, true, 0, 0, []]' "$name: stat after the stream"
	"$SHMKIT" rm "$name"
}
new_key K
stream "${P}m1"
stream "sysv:$K"
stream "file:$T/m3"

# --- writers killed mid-stream ---------------------------------------------------
# The victim sent 1000 lines and waits on its input; the holder reserved a
# record and waits before its commit.  Three senders then stream behind
# the holder's claim, which holds them back until the holder is killed.
M=${P}kill
expect_exit 0 "$SHMKIT" create "$M" --channel mpsc --capacity 64K
mkfifo "$T/vfifo"
# no timeout wrapper for these two: the kills must reach them (lib.sh's
# cleanup kills HOLDERS if the test fails before)
"$SHMKIT" send "$M" <"$T/vfifo" 2>"$T/v.err" &
VPID=$!
HOLDERS+=("$VPID")
exec 8>"$T/vfifo"
seq 1 1000 | sed 's/^/v /' >&8
wait_chan "$M" 'len(c["writers"]) == 1 and c["writers"][0]["sent"] == 1000'
"$LIB_CALL" reserve "$M" >"$T/h.out" 2>&1 &
HPID=$!
HOLDERS+=("$HPID")
for _ in $(seq 1 200); do
	[ -s "$T/h.out" ] && break
	sleep 0.05
done
expect_eq "$(cat "$T/h.out")" 0 "lib_call reserve"
timeout 60 "$SHMKIT" recv "$M" >"$T/k.out" 2>"$T/k.err" &
RPID=$!
SPIDS=()
for w in 1 2 3; do
	timeout 60 "$SHMKIT" send "$M" <"$T/in$w" 2>"$T/ks$w.err" &
	SPIDS+=($!)
done
wait_chan "$M" 'c["writers_live"] == 5 and c["received"] == 1000 and c["used"] > 32768'
# the reader has the victim's lines and waits at the live holder's claim
run "$SHMKIT" stat "$M"
printf '%s\n' "$OUT" | grep -Eq "^  writers: +5 live, 0 dead$" || fail "stat: writers: $OUT"
[ "$(printf '%s\n' "$OUT" | grep -Ec '^    entry [0-9]+ +pid [0-9]+ +alive +sent [0-9]+ +joined @[0-9]+ +pos @[0-9]+ +lag [0-9]+$')" = 5 ] ||
	fail "stat: five writer lines: $OUT"
printf '%s\n' "$OUT" | grep -Eq "^    entry 0 +pid $VPID +alive +sent 1000 " || fail "stat: the victim's line: $OUT"
expect_eq "$(chan_get "$M" '[w["lag"] > 0 for w in c["writers"]]')" \
	"[false, true, true, true, true]" "lag: the reader passed the victim's claims only"
{ kill -9 "$HPID" "$VPID" && wait "$HPID" "$VPID"; } 2>/dev/null
exec 8>&-
RC=0
for w in 0 1 2; do
	wait "${SPIDS[$w]}" || RC=$?
done
expect_eq "$RC" 0 "the three senders after the kills ($(cat "$T"/ks?.err))"
wait "$RPID"
expect_eq "$?" 1 "recv when writers died"
grep -q "^shmkit: recv $M: the writer died (pids $VPID, $HPID)$" "$T/k.err" ||
	fail "recv names the dead writers: $(cat "$T/k.err")"
grep -q "^shmkit: recv $M: 1 message lost: its writer was killed between reserve and commit$" "$T/k.err" ||
	fail "recv reports the lost record: $(cat "$T/k.err")"
expect_eq "$(wc -l <"$T/k.out")" 151000 "lines received around the kills"
grep -v '^v ' "$T/k.out" >"$T/k.w"
check_lines "$T/k.w" 50000 w1 w2 w3
grep '^v ' "$T/k.out" >"$T/k.v"
check_lines "$T/k.v" 1000 v
grep -q partial "$T/k.out" && fail "the uncommitted record came out"
run "$SHMKIT" stat "$M"
printf '%s\n' "$OUT" | grep -Eq "^  lost: +1$" || fail "stat: lost: $OUT"
printf '%s\n' "$OUT" | grep -Eq "^  writers: +0 live, 2 dead$" || fail "stat: dead writers: $OUT"
printf '%s\n' "$OUT" | grep -Eq "^    entry [0-9]+ +pid $HPID +dead " || fail "stat: the holder: $OUT"
expect_eq "$(chan_get "$M" '[c["sent"], c["received"], c["lost"], c["closed"], c["writers_dead"]]')" \
	"[151000, 151000, 1, false, 2]" "stat --json after the kills"

# --- a lost record alone is no failure ------------------------------------------------
# The holder's entry is taken over by a writer that closes: every writer
# left closed, so recv ends with 0 and only reports the lost record.
M=${P}lost
expect_exit 0 "$SHMKIT" create "$M" --channel mpsc --capacity 4K
"$LIB_CALL" reserve "$M" >"$T/h2.out" 2>&1 &
HPID=$!
HOLDERS+=("$HPID")
for _ in $(seq 1 200); do
	[ -s "$T/h2.out" ] && break
	sleep 0.05
done
expect_eq "$(cat "$T/h2.out")" 0 "lib_call reserve"
{ kill -9 "$HPID" && wait "$HPID"; } 2>/dev/null
expect_exit 0 "$SHMKIT" send "$M" <<<"after"
expect_exit 0 "$SHMKIT" recv "$M"
expect_eq "$OUT" "after" "recv's output past a lost record"
expect_eq "$ERR" "shmkit: recv $M: 1 message lost: its writer was killed between reserve and commit" \
	"recv's report of the lost record"

# --- send/recv --create --channel ------------------------------------------------------
M=${P}cr
timeout 20 "$SHMKIT" recv "$M" --create --channel mpsc --capacity 4K >"$T/cr.out" 2>"$T/cr.err" &
RPID=$!
wait_chan "$M" 'c["type"] == "mpsc" and c["reader_alive"] is True'
mkfifo "$T/cfifo"
timeout 20 "$SHMKIT" send "$M" <"$T/cfifo" 2>"$T/c1.err" &
C1=$!
exec 8>"$T/cfifo"
wait_chan "$M" 'c["writers_live"] == 1'
echo two | timeout 20 "$SHMKIT" send "$M" --create --channel mpsc --capacity 4K
expect_eq "$?" 0 "send --create --channel mpsc into an existing mpsc channel"
echo one >&8
exec 8>&-
wait "$C1"
expect_eq "$?" 0 "the first sender"
wait "$RPID"
expect_eq "$?" 0 "recv --create --channel mpsc ($(cat "$T/cr.err"))"
expect_eq "$(sort "$T/cr.out" | tr '\n' ' ')" "one two " "recv --create --channel mpsc's output"
expect_exit 1 "$SHMKIT" send "$M" --create --channel spsc <<<"x" &&
	expect_stderr_contains "shmkit: send $M: is an mpsc channel, not the kind --channel asks for"
expect_exit 1 "$SHMKIT" create "$M" --channel spsc --capacity 4K &&
	expect_stderr_contains "shmkit: create $M: is an mpsc channel, not the kind --channel asks for"
expect_exit 0 "$SHMKIT" create "$M" --channel mpsc --capacity 4K
expect_exit 1 "$SHMKIT" create "$M" --channel mpsc --capacity 8K &&
	expect_stderr_contains "exists with a capacity of 4096 bytes, not the 8192 asked for"
# without --channel, send --create still makes an spsc channel
S=${P}sp
expect_exit 0 "$SHMKIT" send "$S" --create --capacity 4K <<<"x"
expect_eq "$(chan_get "$S" 'c["type"]')" '"spsc"' "send --create's default kind"
# a second reader is refused, as on spsc
M=${P}two
expect_exit 0 "$SHMKIT" create "$M" --channel mpsc --capacity 4K
timeout 20 "$SHMKIT" recv "$M" >/dev/null 2>&1 &
RPID=$!
wait_chan "$M" 'c["reader_alive"] is True'
expect_exit 1 "$SHMKIT" recv "$M" && expect_stderr_contains "the channel has a reader already (pid "
{ kill "$RPID" && wait "$RPID"; } 2>/dev/null

# --- usage errors: exit 2, nothing made ----------------------------------------------
U=${P}u
expect_usage "$SHMKIT" create "$U" --channel bogus --capacity 4K &&
	expect_stderr_contains "shmkit: create: invalid --channel 'bogus': expected spsc, mpsc or broadcast"
expect_usage "$SHMKIT" create "$U" --channel MPSC --capacity 4K &&
	expect_stderr_contains "invalid --channel 'MPSC'"
expect_usage "$SHMKIT" create "$U" --channel mpsc && expect_stderr_contains "missing --capacity"
expect_usage "$SHMKIT" create "$U" --channel mpsc --capacity 100 &&
	expect_stderr_contains "a power of two from 64 to 1G"
expect_usage "$SHMKIT" create "$U" --channel mpsc --capacity 4K --size 4K &&
	expect_stderr_contains "--channel and --size do not go together"
expect_usage "$SHMKIT" create "$U" --channel mpsc --capacity 4K --raw &&
	expect_stderr_contains "--channel and --raw do not go together"
expect_usage "$SHMKIT" create "$U" --channel= --capacity 4K && expect_stderr_contains "invalid --channel ''"
expect_usage "$SHMKIT" send "$U" --channel mpsc &&
	expect_stderr_contains "shmkit: send: --channel needs --create"
expect_usage "$SHMKIT" recv "$U" --channel mpsc --count 1 &&
	expect_stderr_contains "shmkit: recv: --channel needs --create"
expect_usage "$SHMKIT" send "$U" --create --channel bogus &&
	expect_stderr_contains "shmkit: send: invalid --channel 'bogus': expected spsc, mpsc or broadcast"
expect_usage "$SHMKIT" create "$U" --channel mpsc --capacity 4K --policy backpressure &&
	expect_stderr_contains "--policy backpressure is for broadcast channels"
[ -e "/dev/shm/$U" ] && fail "a usage error made $U"

# --- help ------------------------------------------------------------------------------
expect_exit 0 "$SHMKIT" --help && expect_stdout_contains "--channel spsc|mpsc"
for syn in "send NAME" "recv NAME..."; do
	expect_exit 0 "$SHMKIT" "${syn%% *}" --help &&
		expect_stdout_contains "Usage: shmkit $syn [--create [--channel KIND] [--capacity BYTES]]"
done
expect_exit 0 "$SHMKIT" recv --help && expect_stdout_contains "lost"

finish
