#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Broadcast channels from the command line: create --channel broadcast
# --policy, four `shmkit recv` at once on every backend each printing the
# whole stream (backpressure), a slow recv under overwrite told of every
# gap with the count that makes its lines and its misses add up to what
# was sent, never a torn line, --start next/newest/oldest, a stopped
# subscriber killed (dropped: the writer goes on), the writer killed, stat's
# subscriber lines, and the usage errors.  Every wait is bounded.
set -u
. tests/cli/lib.sh

# lines N : "1 <row of (i mod 10)>" .. "N ...": each line tells whether it
# is whole, whatever was written over it.
lines() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) { d = i % 10; r = ""
		for (j = 0; j < 40; j++) r = r d; print i, r } }'
}

# check_whole FILE : every line of FILE is one of lines' and their numbers
# rise; prints how many there are.
check_whole() {
	awk '
		NF != 2 || $1 !~ /^[0-9]+$/ || length($2) != 40 { print "torn line " NR ": " $0; exit 1 }
		{ d = $1 % 10; for (j = 1; j <= 40; j++) if (substr($2, j, 1) != d) { print "torn line " NR ": " $0; exit 1 } }
		$1 <= last { print "line " NR ": " $1 " after " last; exit 1 }
		{ last = $1 }
		END { print NR }
	' "$1"
}

N=30000
lines $N >"$T/in"

# --- four subscribers, every backend: each gets the whole stream --------------------
# stream NAME : the four recvs join first (start next), then one send.
stream() {
	local name=$1 pids=() i rc=0 src
	expect_exit 0 "$SHMKIT" create "$name" --channel broadcast --capacity 16K --excl || return
	for i in 1 2 3 4; do
		timeout 60 "$SHMKIT" recv "$name" >"$T/s$i.out" 2>"$T/s$i.err" &
		pids+=($!)
	done
	wait_chan "$name" 'c["subscribers_live"] == 4'
	timeout 60 "$SHMKIT" send "$name" <"$T/in"
	src=$?
	for i in 0 1 2 3; do
		wait "${pids[$i]}" || rc=$?
	done
	expect_eq "$src/$rc" 0/0 "$name: send/recv exit status ($(cat "$T"/s?.err))"
	for i in 1 2 3 4; do
		cmp -s "$T/in" "$T/s$i.out" || fail "$name: subscriber $i's stream differs: $(cmp "$T/in" "$T/s$i.out" 2>&1)"
		expect_eq "$(cat "$T/s$i.err")" "" "$name: subscriber $i's stderr"
	done
	expect_eq "$(chan_get "$name" '[c["type"], c["policy"], c["sent"], c["closed"], c["subscribers_live"], c["subscribers_dead"], c["lost"], c["dropped"]]')" \
		"[\"broadcast\", \"backpressure\", $N, true, 0, 0, 0, 0]" "$name: stat after the stream"
	"$SHMKIT" rm "$name"
}
new_key K
stream "${P}b1"
stream "sysv:$K"
stream "file:$T/b3"

# --- stat while subscribers wait ------------------------------------------------------
B=${P}st
expect_exit 0 "$SHMKIT" create "$B" --channel broadcast --capacity 4K --wait sleep
mkfifo "$T/sfifo"
timeout 60 "$SHMKIT" send "$B" <"$T/sfifo" 2>"$T/st_s.err" &
SPID=$!
# the recvs start before the FIFO's write end opens, or they would hold it
timeout 60 "$SHMKIT" recv "$B" >"$T/st1.out" 2>&1 &
R1=$!
timeout 60 "$SHMKIT" recv "$B" --count 3 >"$T/st2.out" 2>&1 &
R2=$!
exec 8>"$T/sfifo"
wait_chan "$B" 'c["subscribers_live"] == 2 and c["writer_alive"] is True'
printf 'a\nb\nc\n' >&8
wait "$R2"
expect_eq "$?/$(cat "$T/st2.out" | tr '\n' ' ')" "0/a b c " "recv --count 3 on a broadcast channel"
printf 'd\n' >&8
wait_chan "$B" 'c["subscribers_live"] == 1 and c["sent"] == 4 and c["subscribers"][0]["received"] == 4'
# timeout runs each as its child
SPID=$(pgrep -P "$SPID")
R1P=$(pgrep -P "$R1")
run "$SHMKIT" stat "$B"
printf '%s\n' "$OUT" | grep -Eq '^channel: +broadcast$' || fail "stat: the kind: $OUT"
printf '%s\n' "$OUT" | grep -Eq '^  policy: +backpressure$' || fail "stat: the policy: $OUT"
printf '%s\n' "$OUT" | grep -Eq "^  writer: +pid $SPID \(alive\)$" || fail "stat: the writer: $OUT"
printf '%s\n' "$OUT" | grep -Eq '^  subscribers: +1 live, 0 dead$' || fail "stat: subscribers: $OUT"
printf '%s\n' "$OUT" | grep -Eq "^    slot [0-9]+ +pid $R1P +alive +rdonly +pos @[0-9]+ +lag 0 \(0 msgs\) received 4 lost 0 gaps 0$" ||
	fail "stat: the subscriber's line: $OUT"
expect_eq "$(chan_get "$B" '[(s["pid"], s["alive"], s["rdonly"], s["lag"], s["lag_msgs"], s["received"], s["lost"]) for s in c["subscribers"]]')" \
	"[[$R1P, true, true, 0, 0, 4, 0]]" "stat --json: the subscriber"
exec 8>&-
wait "$R1"
expect_eq "$?/$(cat "$T/st1.out" | tr '\n' ' ')" "0/a b c d " "the other subscriber ($(cat "$T/st_s.err"))"

# --- overwrite: a slow subscriber is told of every gap -------------------------------
# Its stdout is a pipe read only after a pause, so the writer laps it;
# what it printed plus what it was told it missed is what was sent.
O=${P}ow
expect_exit 0 "$SHMKIT" create "$O" --channel broadcast --capacity 4K --policy overwrite
timeout 60 "$SHMKIT" recv "$O" 2>"$T/ow.err" | { sleep 0.5; cat; } >"$T/ow.out" &
OPID=$!
wait_chan "$O" 'c["subscribers_live"] == 1'
timeout 60 "$SHMKIT" send "$O" <"$T/in"
expect_eq "$?" 0 "send under overwrite never waits for a subscriber"
wait "$OPID"
expect_eq "$?" 0 "a lapped subscriber's recv exit status ($(tail -n 3 "$T/ow.err"))"
got=$(check_whole "$T/ow.out") || fail "overwrite: $got"
missed=$(sed -n 's/^shmkit: recv .*: lapped by the writer: \([0-9]*\) messages\{0,1\} missed$/\1/p' "$T/ow.err" |
	awk '{ s += $1 } END { print s + 0 }')
gaps=$(grep -c 'lapped by the writer' "$T/ow.err")
[ "$gaps" -ge 1 ] || fail "the slow subscriber was never lapped: $(cat "$T/ow.err")"
expect_eq "$((got + missed))" "$N" "lines printed ($got) + missed ($missed)"
if [ "$gaps" -gt 1 ]; then
	grep -q "^shmkit: recv $O: $missed messages missed in all, in $gaps gaps$" "$T/ow.err" ||
		fail "recv's summary of the gaps: $(tail -n 1 "$T/ow.err")"
fi
tail -n 1 "$T/ow.out" | grep -q "^$N " || fail "the last line is the last sent: $(tail -n 1 "$T/ow.out")"
expect_eq "$(chan_get "$O" '[c["policy"], c["sent"], c["dropped"]]')" "[\"overwrite\", $N, 0]" "stat under overwrite"
# largest messages (a quarter of the ring) through the copy
awk 'BEGIN { for (i = 0; i < 50; i++) { r = ""; for (j = 0; j < 1023; j++) r = r (i % 10); print r } }' >"$T/big"
O=${P}owbig
expect_exit 0 "$SHMKIT" create "$O" --channel broadcast --capacity 4K --policy overwrite
timeout 20 "$SHMKIT" recv "$O" >"$T/big.out" 2>"$T/big.err" &
OPID=$!
wait_chan "$O" 'c["subscribers_live"] == 1'
timeout 20 "$SHMKIT" send "$O" <"$T/big" 2>"$T/bigs.err"
expect_eq "$?" 0 "send of the largest messages ($(cat "$T/bigs.err"))"
wait "$OPID"
awk '{ t = $0; gsub(substr($0, 1, 1), "", t) } length($0) != 1023 || t != "" { print "torn " NR }' "$T/big.out" | grep -q . &&
	fail "a torn large message"
expect_eq "$(($(wc -l <"$T/big.out") + $(sed -n 's/.*lapped by the writer: \([0-9]*\).*/\1/p' "$T/big.err" | awk '{ s += $1 } END { print s + 0 }')))" \
	50 "large messages printed + missed"

# --- --start: next, newest, oldest --------------------------------------------------
# Five lines into a channel nobody reads: they stay in the ring.
S=${P}start
expect_exit 0 "$SHMKIT" create "$S" --channel broadcast --capacity 4K
printf '1\n2\n3\n4\n5\n' | timeout 10 "$SHMKIT" send "$S"
expect_exit 0 "$SHMKIT" recv "$S" --start oldest && expect_eq "$OUT" "1
2
3
4
5" "--start oldest"
expect_exit 0 "$SHMKIT" recv "$S" --start newest && expect_eq "$OUT" "5" "--start newest"
expect_exit 0 "$SHMKIT" recv "$S" --start next && expect_eq "$OUT" "" "--start next on an ended stream"
expect_exit 0 "$SHMKIT" recv "$S" && expect_eq "$OUT" "" "the default start is next"
# the writer with no subscriber never waits: 30000 lines through 4 KiB
expect_exit 0 timeout 20 "$SHMKIT" send "$S" <"$T/in"
expect_exit 0 "$SHMKIT" recv "$S" --start newest && expect_eq "$OUT" "$(tail -n 1 "$T/in")" "the newest of a lapped ring"
expect_exit 1 "$SHMKIT" recv "${P}st" --create --channel spsc --start oldest
expect_exit 0 "$SHMKIT" create "${P}sp" --channel spsc --capacity 4K
expect_exit 1 "$SHMKIT" recv "${P}sp" --start oldest --timeout 0 &&
	expect_stderr_contains "shmkit: recv ${P}sp: --start is for broadcast channels, and this is an spsc channel"

# --- a stopped subscriber is killed: the writer is not held back -------------------
D=${P}drop
expect_exit 0 "$SHMKIT" create "$D" --channel broadcast --capacity 4K
# no timeout wrapper: the stop and the kill must reach it (lib.sh's
# cleanup kills HOLDERS if the test fails before)
"$SHMKIT" recv "$D" >/dev/null 2>&1 &
VPID=$!
HOLDERS+=("$VPID")
timeout 60 "$SHMKIT" recv "$D" >"$T/d.out" 2>"$T/d.err" &
RPID=$!
wait_chan "$D" 'c["subscribers_live"] == 2'
kill -STOP "$VPID"
timeout 60 "$SHMKIT" send "$D" <"$T/in" 2>"$T/ds.err" &
SPID=$!
# the writer waits for the stopped one, whose lag is the whole ring
wait_chan "$D" 'c["sent"] > 0 and max(s["lag"] for s in c["subscribers"]) >= c["capacity"] - 128'
expect_eq "$(chan_get "$D" 'c["closed"]')" false "the writer waits for a live subscriber"
{ kill -9 "$VPID" && wait "$VPID"; } 2>/dev/null
wait "$SPID"
expect_eq "$?" 0 "send after the stopped subscriber died ($(cat "$T/ds.err"))"
wait "$RPID"
expect_eq "$?" 0 "the live subscriber ($(cat "$T/d.err"))"
cmp -s "$T/in" "$T/d.out" || fail "the live subscriber's stream differs"
expect_eq "$(chan_get "$D" '[c["dropped"], c["subscribers_dead"], c["sent"]]')" "[1, 0, $N]" "the dead subscriber dropped"

# --- the writer killed ------------------------------------------------------------------
W=${P}wk
expect_exit 0 "$SHMKIT" create "$W" --channel broadcast --capacity 4K
mkfifo "$T/wfifo"
"$SHMKIT" send "$W" <"$T/wfifo" 2>/dev/null &
WPID=$!
HOLDERS+=("$WPID")
exec 8>"$T/wfifo"
timeout 60 "$SHMKIT" recv "$W" >"$T/w1.out" 2>"$T/w1.err" 8>&- &
R1=$!
timeout 60 "$SHMKIT" recv "$W" >"$T/w2.out" 2>"$T/w2.err" 8>&- &
R2=$!
wait_chan "$W" 'c["subscribers_live"] == 2 and c["writer_alive"] is True'
printf 'one\ntwo\n' >&8
wait_chan "$W" 'c["sent"] == 2'
# a second writer is refused while the first lives
expect_exit 1 "$SHMKIT" send "$W" <<<"x" && expect_stderr_contains "the channel has a writer already (pid $WPID)"
{ kill -9 "$WPID" && wait "$WPID"; } 2>/dev/null
exec 8>&-
for r in 1 2; do
	wait "$([ $r = 1 ] && echo "$R1" || echo "$R2")"
	expect_eq "$?" 1 "subscriber $r when the writer died"
	expect_eq "$(cat "$T/w$r.out" | tr '\n' ' ')" "one two " "subscriber $r has what was sent first"
	grep -q "^shmkit: recv $W: the writer died (pid $WPID)$" "$T/w$r.err" ||
		fail "subscriber $r names the dead writer: $(cat "$T/w$r.err")"
done
# a subscriber that joins now is told at once; a new writer takes over
expect_exit 1 "$SHMKIT" recv "$W" && expect_stderr_contains "the writer died (pid $WPID)"
expect_exit 0 timeout 20 "$SHMKIT" send "$W" <<<"three"
expect_exit 0 "$SHMKIT" recv "$W" --start oldest && expect_eq "$OUT" "one
two
three" "the stream, with a takeover"

# --- send/recv --create --channel broadcast, create's checks ---------------------------
C=${P}cr
timeout 20 "$SHMKIT" recv "$C" --create --channel broadcast --capacity 4K >"$T/cr.out" 2>&1 &
R1=$!
wait_chan "$C" 'c["type"] == "broadcast" and c["subscribers_live"] == 1'
expect_eq "$(chan_get "$C" '[c["policy"], c["capacity"], c["subscribers"][0]["rdonly"]]')" \
	'["backpressure", 4096, true]' "recv --create --channel broadcast"
expect_exit 0 timeout 20 "$SHMKIT" send "$C" --create --channel broadcast --capacity 4K <<<"hello"
wait "$R1"
expect_eq "$?/$(cat "$T/cr.out")" "0/hello" "the subscriber of recv --create"
expect_exit 1 "$SHMKIT" create "$C" --channel broadcast --capacity 4K --policy overwrite &&
	expect_stderr_contains "shmkit: create $C: exists with the backpressure policy, not overwrite"
expect_exit 0 "$SHMKIT" create "$C" --channel broadcast --capacity 4K --policy backpressure
expect_exit 1 "$SHMKIT" create "$C" --channel mpsc --capacity 4K &&
	expect_stderr_contains "is a broadcast channel, not the kind --channel asks for"
expect_exit 1 "$SHMKIT" send "$C" --create --channel spsc <<<"x" &&
	expect_stderr_contains "shmkit: send $C: is a broadcast channel, not the kind --channel asks for"

# --- usage errors: exit 2, nothing made ----------------------------------------------
U=${P}u
expect_usage "$SHMKIT" create "$U" --channel broadcast --capacity 4K --policy drop &&
	expect_stderr_contains "invalid --policy 'drop': expected backpressure or overwrite"
expect_usage "$SHMKIT" create "$U" --channel broadcast --capacity 4K --policy spin --wait sleep &&
	expect_stderr_contains "give --wait alone"
expect_usage "$SHMKIT" create "$U" --channel mpsc --capacity 4K --policy overwrite &&
	expect_stderr_contains "--policy overwrite is for broadcast channels"
expect_usage "$SHMKIT" recv "$U" --start middle &&
	expect_stderr_contains "invalid --start 'middle': expected next, newest or oldest"
expect_usage "$SHMKIT" recv "$U" --start && expect_stderr_contains "--start"
expect_usage "$SHMKIT" send "$U" --start oldest && expect_stderr_contains "unknown option '--start'"
[ -e "/dev/shm/$U" ] && fail "a usage error made $U"

# --- help ------------------------------------------------------------------------------
expect_exit 0 "$SHMKIT" create --help &&
	expect_stdout_contains "--channel spsc|mpsc|broadcast" &&
	expect_stdout_contains "--policy backpressure|overwrite"
expect_exit 0 "$SHMKIT" recv --help && expect_stdout_contains "--start next|newest|oldest"
finish
