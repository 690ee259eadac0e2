#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Channels from the command line: create --channel, send, recv and the
# channel part of stat.  Round trips of a million lines in either start
# order on every backend, exact bytes (empty lines, a last line without a
# newline, binary bytes, NUL records), --count, --timeout, a line too long,
# a reader or a writer killed, and the usage errors.  Every wait is bounded.
set -u
. tests/cli/lib.sh


seq 1000000 >"$T/seq"

# round_trip NAME ORDER : a million lines through NAME, made by whichever of
# send and recv comes first; ORDER recv-first or send-first.
round_trip() {
	local name=$1 order=$2 spid rpid src rrc
	if [ "$order" = recv-first ]; then
		timeout 20 "$SHMKIT" recv "$name" --create >"$T/rt.out" 2>"$T/rt.rerr" &
		rpid=$!
		wait_chan "$name" 'c["reader_alive"] is True'
		timeout 20 "$SHMKIT" send "$name" --create <"$T/seq" 2>"$T/rt.serr" &
		spid=$!
	else
		timeout 20 "$SHMKIT" send "$name" --create <"$T/seq" 2>"$T/rt.serr" &
		spid=$!
		# the writer is in and blocked on a full ring before the reader comes
		wait_chan "$name" 'c["writer_alive"] is True and c["used"] > c["capacity"] // 2'
		timeout 20 "$SHMKIT" recv "$name" --create >"$T/rt.out" 2>"$T/rt.rerr" &
		rpid=$!
	fi
	wait "$spid"
	src=$?
	wait "$rpid"
	rrc=$?
	expect_eq "$src/$rrc" 0/0 "send/recv exit status, $name $order ($(cat "$T/rt.serr" "$T/rt.rerr"))"
	cmp -s "$T/seq" "$T/rt.out" || fail "$name $order: recv's output differs from send's input"
	expect_eq "$(chan_get "$name" '[c["sent"], c["received"], c["in_flight"], c["used"], c["closed"]]')" \
		"[1000000, 1000000, 0, 0, true]" "$name $order: counters after the stream"
	"$SHMKIT" rm "$name"
}

# --- a million lines, either start order, every backend ------------------------
new_key K
START=$EPOCHREALTIME
round_trip "${P}rt1" recv-first
round_trip "${P}rt2" send-first
round_trip "sysv:$K" recv-first
round_trip "sysv:$K" send-first
round_trip "file:$T/ch1" recv-first
round_trip "file:$T/ch2" send-first
echo "6 round trips of 1000000 lines: $(awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s"

# --- exact bytes ---------------------------------------------------------------
C=${P}c
expect_exit 0 "$SHMKIT" create "$C" --channel spsc --capacity 4K
# empty lines, CRLF, a last line without a newline
printf '\nfirst\n\n\nsecond\r\n \n\nlast' >"$T/lines"
expect_exit 0 "$SHMKIT" send "$C" <"$T/lines"
expect_eq "$(chan_get "$C" '[c["sent"], c["closed"]]')" "[8, true]" "one message per line"
expect_exit 0 "$SHMKIT" recv "$C"
cmp -s "$T/lines" "$T/out" || fail "lines with empty ones and no final newline: $(od -c "$T/out")"
# every byte value, in lines
python3 -c 'import sys
sys.stdout.buffer.write(bytes(range(256)) * 3 + b"\n\x00\n\xff\xfe")' >"$T/bin"
expect_exit 0 "$SHMKIT" send "$C" <"$T/bin"
expect_exit 0 "$SHMKIT" recv "$C"
cmp -s "$T/bin" "$T/out" || fail "binary bytes: $(od -c "$T/out" | head)"
# NUL-terminated records, with newlines inside and an empty record
printf 'a\nb\0\0c d\0last' >"$T/nul"
expect_exit 0 "$SHMKIT" send "$C" --null <"$T/nul"
expect_eq "$(chan_get "$C" 'c["sent"] - c["received"]')" 4 "one message per record"
expect_exit 0 "$SHMKIT" recv "$C" --null
cmp -s "$T/nul" "$T/out" || fail "--null records: $(od -c "$T/out")"
# empty input: an empty stream
expect_exit 0 "$SHMKIT" send "$C" </dev/null
expect_exit 0 "$SHMKIT" recv "$C"
[ -s "$T/out" ] && fail "an empty stream printed: $OUT"
# a message without its terminator is followed by one before the next
# (--count reads on across the two writers' sessions)
printf 'one' | timeout 10 "$SHMKIT" send "$C"
printf 'two\n' | timeout 10 "$SHMKIT" send "$C"
expect_exit 0 "$SHMKIT" recv "$C" --count 2 && expect_eq "$OUT" "one
two" "a newline between messages"
# each writer's session ends where it did, for a reader that reads later
printf 'a\n' | timeout 10 "$SHMKIT" send "$C"
printf 'b\n' | timeout 10 "$SHMKIT" send "$C"
expect_eq "$(chan_get "$C" '[c["in_flight"], c["closed"]]')" "[2, true]" "two sessions waiting"
expect_exit 0 "$SHMKIT" recv "$C" && expect_eq "$OUT" "" "the end of the session of 'two', left by --count"
expect_exit 0 "$SHMKIT" recv "$C" && expect_eq "$OUT" "a" "the first waiting session, to its end"
expect_exit 0 "$SHMKIT" recv "$C" && expect_eq "$OUT" "b" "the second"


# --- --count and --timeout -----------------------------------------------------
printf '1\n2\n3\n4\n5\n' | timeout 10 "$SHMKIT" send "$C"
expect_exit 0 "$SHMKIT" recv "$C" --count 2 && expect_eq "$OUT" "1
2" "--count 2"
expect_eq "$(chan_get "$C" 'c["in_flight"]')" 3 "left for the next reader"
expect_exit 0 "$SHMKIT" recv "$C" --count 1 && expect_eq "$OUT" "3" "--count 1"
# --count follows on past the end of a stream, for the next writer's:
# N messages, or --timeout
expect_exit 1 "$SHMKIT" recv "$C" --count 10 --timeout 300 && expect_eq "$OUT" "4
5" "--count beyond the end of the stream"
expect_stderr_contains "no message within 300 ms"
E=${P}empty
expect_exit 0 "$SHMKIT" create "$E" --channel spsc --capacity 64K
S0=$EPOCHREALTIME
expect_exit 1 "$SHMKIT" recv "$E" --timeout 300 &&
	expect_stderr_contains "shmkit: recv $E: no message within 300 ms"
# (not early; how late is the machine's business, not a check's)
awk -v a="$S0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a >= 0.3) }' ||
	fail "recv --timeout 300 took only $(awk -v a="$S0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }') s"
[ -s "$T/out" ] && fail "a timed-out recv printed: $OUT"
expect_exit 1 "$SHMKIT" recv "$E" --timeout 0 && expect_stderr_contains "no message within 0 ms"
# a writer with no reader and a full ring gives up after --timeout
expect_exit 1 "$SHMKIT" send "${P}tiny" --create --capacity 64 --timeout 200 <"$T/seq" &&
	expect_stderr_contains "shmkit: send ${P}tiny: no room for a message within 200 ms"
expect_eq "$(chan_get "${P}tiny" '[c["capacity"], c["max_msg"], c["closed"], c["sent"] > 0]')" \
	"[64, 16, false, true]" "a failed send leaves the stream unended"
# so a reader takes what came, then learns the writer is gone
expect_exit 1 "$SHMKIT" recv "${P}tiny" && expect_stderr_contains "shmkit: recv ${P}tiny: the writer died"
head -n 3 "$T/seq" | cmp -s - <(head -n 3 "$T/out") || fail "what the failed writer sent: $OUT"

# --- a line longer than the largest message ------------------------------------
L=${P}long
expect_exit 0 "$SHMKIT" create "$L" --channel spsc --capacity 64
# 15 bytes and a newline fit in 16; a last line of 16 bytes without one too
printf '%s\n%s' 123456789012345 1234567890123456 >"$T/fit"
expect_exit 0 "$SHMKIT" send "$L" <"$T/fit"
expect_exit 0 "$SHMKIT" recv "$L"
cmp -s "$T/fit" "$T/out" || fail "lines of exactly the largest message: $OUT"
printf 'ok\n%s\nnever\n' 1234567890123456 >"$T/toolong"
expect_exit 1 "$SHMKIT" send "$L" <"$T/toolong" &&
	expect_stderr_contains "shmkit: send $L: line 2 is longer than the largest message (16 bytes)"
expect_exit 1 "$SHMKIT" recv "$L" && expect_eq "$OUT" ok "what came before the long line"
expect_stderr_contains "the writer died"
printf 'a\0%s' 12345678901234567 | timeout 10 "$SHMKIT" send "$L" --null 2>"$T/err"
expect_eq "$?" 1 "send --null of a record too long"
grep -q "record 2 is longer than the largest message (16 bytes)" "$T/err" || fail "record too long: $(cat "$T/err")"
timeout 10 "$SHMKIT" recv "$L" --count 1 >/dev/null 2>&1
# a long line across many reads of stdin
head -c 3000000 /dev/zero | tr '\0' x | timeout 10 "$SHMKIT" send "${P}big" --create --capacity 8M 2>"$T/err"
expect_eq "$?" 1 "a 3 MB line into a 2 MB largest message"
grep -q "line 1 is longer than the largest message (2097152 bytes)" "$T/err" || fail "big line: $(cat "$T/err")"

# --- the reader killed: the writer waits for the next one, nothing lost ------------
seq 20000 >"$T/seq20k"
# reader_up NAME OUT: a recv of NAME into OUT in the background, as RPID,
# once stat shows it alive
reader_up() {
	(exec "$SHMKIT" recv "$1" >"$2" 2>/dev/null) &
	RPID=$!
	HOLDERS+=("$RPID")
	wait_chan "$1" "c[\"reader_pid\"] == $RPID and c[\"reader_alive\"] is True"
}
# gone_note NAME FILE: waits (20 s at most) for send's note in FILE
gone_note() {
	local want="shmkit: send $1: the reader is gone: waiting for the next one (what was sent waits in the channel)"
	for _ in $(seq 1 400); do grep -qxF "$want" "$2" && return 0; sleep 0.05; done
	return 1
}
R=${P}rk
expect_exit 0 "$SHMKIT" create "$R" --channel spsc --capacity 4K
reader_up "$R" "$T/old.out"
kill -STOP "$RPID"
(exec "$SHMKIT" send "$R" <"$T/seq20k" 2>"$T/send.err") &
SPID=$!
HOLDERS+=("$SPID")
wait_chan "$R" 'c["writer_alive"] is True and c["used"] > 2048'
expect_exit 0 "$SHMKIT" stat "$R"
printf '%s\n' "$OUT" | grep -Eq "^  writer: +pid $SPID \(alive\)$" || fail "stat: live writer: $OUT"
printf '%s\n' "$OUT" | grep -Eq "^  reader: +pid $RPID \(alive\)$" || fail "stat: live reader: $OUT"
{ kill -9 "$RPID" && wait "$RPID"; } 2>/dev/null
gone_note "$R" "$T/send.err" || fail "send's note: $(cat "$T/send.err")"
kill -0 "$SPID" 2>/dev/null || fail "send ended when its reader was killed"
expect_eq "$(chan_get "$R" '[c["reader_pid"], c["reader_alive"], c["in_flight"] > 0]')" \
	"[$RPID, false, true]" "json dead reader, messages waiting"
# the next reader takes the rest: each line once, but for what the killed
# one had taken and not yet handed back (read twice, at the seam)
timeout 60 "$SHMKIT" recv "$R" >"$T/new.out" 2>"$T/new.err"
expect_eq "$?" 0 "the next reader (stderr: $(cat "$T/new.err"))"
wait_pid "$SPID"
expect_eq "$?" 0 "send, once the next reader came (stderr: $(cat "$T/send.err"))"
cat "$T/old.out" "$T/new.out" | sort -n | uniq | cmp -s - "$T/seq20k" ||
	fail "the two readers' lines are not every line sent"
awk -v first="$(head -n 1 "$T/new.out")" 'NR > 1 && $0 != prev + 1 { bad = 1 } { prev = $0 }
	END { exit bad || prev != 20000 || first == "" }' "$T/new.out" ||
	fail "the next reader's lines are not one run to the last: $(head -n 2 "$T/new.out" | tr '\n' ' ')... $(tail -n 1 "$T/new.out")"
# with --timeout, send waits that long for the next reader, then fails
R2=${P}rk2
expect_exit 0 "$SHMKIT" create "$R2" --channel spsc --capacity 4K
reader_up "$R2" /dev/null
# the reader dies while send waits on stdin, before the ring fills: the
# 300 ms are all spent waiting for a next reader, however slow this machine
mkfifo "$T/fifo2"
(exec "$SHMKIT" send "$R2" --timeout 300 <"$T/fifo2" 2>"$T/send2.err") &
SPID=$!
HOLDERS+=("$SPID")
exec 7>"$T/fifo2"
echo first >&7
wait_chan "$R2" 'c["writer_alive"] is True and c["sent"] == 1'
{ kill -9 "$RPID" && wait "$RPID"; } 2>/dev/null
timeout 60 cat "$T/seq20k" >&7 2>/dev/null
exec 7>&-
wait_pid "$SPID"
expect_eq "$?" 1 "send --timeout 300 after its reader was killed"
grep -q "shmkit: send $R2: the reader is gone, and no other came within 300 ms" "$T/send2.err" ||
	fail "send --timeout's error: $(cat "$T/send2.err")"
# a reader dead before send began: send waits the same way
R3=${P}rk3
expect_exit 0 "$SHMKIT" create "$R3" --channel spsc --capacity 4K
reader_up "$R3" /dev/null
{ kill -9 "$RPID" && wait "$RPID"; } 2>/dev/null
(exec "$SHMKIT" send "$R3" <"$T/seq20k" 2>"$T/send3.err") &
SPID=$!
HOLDERS+=("$SPID")
gone_note "$R3" "$T/send3.err" || fail "send's note, reader dead before: $(cat "$T/send3.err")"
timeout 60 "$SHMKIT" recv "$R3" >"$T/new3.out" 2>"$T/new3.err"
expect_eq "$?" 0 "the next reader (stderr: $(cat "$T/new3.err"))"
wait_pid "$SPID"
expect_eq "$?" 0 "send into a channel whose reader died before it began"
cmp -s "$T/new3.out" "$T/seq20k" || fail "the next reader did not get every line sent"

# --- the writer killed: the reader drains, then fails -----------------------------
W=${P}wk
mkfifo "$T/fifo"
(exec "$SHMKIT" send "$W" --create <"$T/fifo" 2>/dev/null) &
SPID=$!
HOLDERS+=("$SPID")
exec 8>"$T/fifo"
(exec "$SHMKIT" recv "$W" --create >"$T/wk.out" 2>"$T/wk.err") &
RPID=$!
HOLDERS+=("$RPID")
printf 'one\ntwo\n' >&8
# recv writes what came before it waits, while the writer still lives
for _ in $(seq 1 200); do
	[ "$(cat "$T/wk.out")" = "one
two" ] && break
	sleep 0.05
done
expect_eq "$(cat "$T/wk.out")" "one
two" "recv's output while the stream is open"
printf 'three\n' >&8
wait_chan "$W" 'c["received"] == 3'
{ kill -9 "$SPID" && wait "$SPID"; } 2>/dev/null
exec 8>&-
wait_pid "$RPID"
expect_eq "$?" 1 "recv after its writer was killed"
expect_eq "$(cat "$T/wk.out")" "one
two
three" "recv's output from a killed writer"
grep -q "shmkit: recv $W: the writer died" "$T/wk.err" || fail "recv's error: $(cat "$T/wk.err")"
expect_exit 0 "$SHMKIT" stat "$W"
printf '%s\n' "$OUT" | grep -Eq "^  writer: +pid $SPID \(dead\)$" || fail "stat: dead writer: $OUT"
printf '%s\n' "$OUT" | grep -Eq "^  closed: +no$" || fail "stat: a killed writer closed: $OUT"

# --- stat of a channel --------------------------------------------------------------
S=${P}st
expect_exit 0 "$SHMKIT" create "$S" --channel spsc --capacity 64K --mode 0640
expect_exit 0 "$SHMKIT" stat "$S"
for f in "closed no" "writer none" "reader none" "sent 0"; do
	printf '%s\n' "$OUT" | grep -Eq "^  ${f% *}: +${f##* }$" || fail "stat: no '$f' line: $OUT"
done
expect_exit 0 "$SHMKIT" stat "$S" --json
expect_eq "$(json_get '[d["channel"][k] for k in ("writer_pid", "writer_alive", "reader_pid", "reader_alive")]')" \
	'[null, null, null, null]' "json: no writer, no reader yet"
printf 'hello\n\n' | timeout 10 "$SHMKIT" send "$S"
expect_exit 0 "$SHMKIT" stat "$S"
expect_eq "$(stat_field mode)" 0640 "channel mode"
expect_eq "$(stat_field channel)" spsc "channel type"
for f in "capacity 65536" "max msg 16384" "used 32" "in flight 2" "sent 2" "received 0" \
	"closed yes"; do
	printf '%s\n' "$OUT" | grep -Eq "^  ${f% *}: +${f##* }$" || fail "stat: no '$f' line: $OUT"
done
expect_exit 0 "$SHMKIT" stat "$S" --json
json_valid || fail "stat --json of a channel: $OUT"
expect_eq "$(json_get 'sorted(d["channel"])')" \
	'["capacity", "closed", "in_flight", "max_msg", "reader_alive", "reader_pid", "received", "sent", "sessions", "type", "used", "writer_alive", "writer_pid"]' \
	"json channel keys"
expect_eq "$(json_get '[d["channel"][k] for k in ("type", "capacity", "max_msg", "used", "in_flight", "sent", "received", "closed")]')" \
	'["spsc", 65536, 16384, 32, 2, 2, 0, true]' "json channel"
expect_exit 0 "$SHMKIT" create "${P}region" --size 4K
expect_exit 0 "$SHMKIT" stat "${P}region" --json && expect_eq "$(json_get 'd["channel"]')" null "json channel of a region"
expect_exit 0 "$SHMKIT" stat "${P}region"
expect_stdout_lacks "channel:"

# --- create --channel -----------------------------------------------------------------
expect_exit 0 "$SHMKIT" create "$S" --channel spsc --capacity 64K
expect_exit 1 "$SHMKIT" create "$S" --channel spsc --capacity 64K --excl &&
	expect_stderr_contains "shmkit: create $S: File exists"
expect_exit 1 "$SHMKIT" create "$S" --channel spsc --capacity 1M &&
	expect_stderr_contains "exists with a capacity of 65536 bytes, not the 1048576 asked for"
expect_exit 1 "$SHMKIT" create "${P}region" --channel spsc --capacity 4K && expect_stderr_contains "not a channel"
expect_exit 1 "$SHMKIT" send "${P}region" </dev/null && expect_stderr_contains "shmkit: send ${P}region: not a channel"
expect_exit 1 "$SHMKIT" recv "${P}region" && expect_stderr_contains "shmkit: recv ${P}region: not a channel"
expect_exit 1 "$SHMKIT" recv "${P}none" && expect_stderr_contains "shmkit: recv ${P}none: no such segment"
expect_exit 1 "$SHMKIT" send "${P}none" </dev/null && expect_stderr_contains "shmkit: send ${P}none: no such segment"
expect_exit 0 "$SHMKIT" create "${P}pol" --channel spsc --capacity 64 --wait sleep
# --policy takes a wait policy too, the spelling --wait replaced
expect_exit 0 "$SHMKIT" create "${P}pol2" --channel spsc --capacity 64 --policy spin
expect_eq "$(chan_get "${P}pol" 'c["max_msg"]')" 16 "the smallest channel"
printf 'x\ny\n' | timeout 10 "$SHMKIT" send "${P}pol"
expect_exit 0 "$SHMKIT" recv "${P}pol" && expect_eq "$OUT" "x
y" "a channel that sleeps"
expect_exit 1 "$SHMKIT" recv "${P}made" --create --capacity 128K --timeout 0 &&
	expect_stderr_contains "no message within 0 ms"
expect_eq "$(chan_get "${P}made" 'c["capacity"]')" 131072 "recv --create --capacity"
# a second writer or reader is refused while the first lives
(exec "$SHMKIT" recv "${P}made" >/dev/null 2>&1) &
RPID=$!
HOLDERS+=("$RPID")
wait_chan "${P}made" "c[\"reader_pid\"] == $RPID"
expect_exit 1 "$SHMKIT" recv "${P}made" && expect_stderr_contains "the channel has a reader already (pid $RPID)"
{ kill "$RPID" && wait "$RPID"; } 2>/dev/null

# --- usage errors: exit 2, nothing made --------------------------------------------------
U=${P}u
expect_usage "$SHMKIT" create "$U" --channel spsc --capacity 4K --policy overwrite &&
	expect_stderr_contains "--policy overwrite is for broadcast channels (--channel broadcast)"
expect_usage "$SHMKIT" create "$U" --channel spsc --capacity 4K --policy sleep --wait spin &&
	expect_stderr_contains "--policy sleep and --wait both say how to wait: give --wait alone"
expect_usage "$SHMKIT" create "$U" --channel spsc --capacity 4K --wait fast &&
	expect_stderr_contains "invalid --wait 'fast': expected spin, spin-sleep or sleep"
expect_usage "$SHMKIT" create "$U" --size 4K --wait spin && expect_stderr_contains "--wait needs --channel"
expect_usage "$SHMKIT" create "$U" --channel fifo --capacity 4K &&
	expect_stderr_contains "invalid --channel 'fifo': expected spsc, mpsc or broadcast"
expect_usage "$SHMKIT" create "$U" --channel spsc && expect_stderr_contains "missing --capacity"
for cap in 100 32 2G 0 -64 4X ""; do
	expect_usage "$SHMKIT" create "$U" --channel spsc --capacity "$cap" && expect_stderr_contains "--capacity"
done
expect_usage "$SHMKIT" create "$U" --channel spsc --capacity 100 &&
	expect_stderr_contains "a power of two from 64 to 1G"
expect_usage "$SHMKIT" create "$U" --channel spsc --capacity 4K --size 4K &&
	expect_stderr_contains "--channel and --size do not go together"
expect_usage "$SHMKIT" create "$U" --channel spsc --capacity 4K --raw &&
	expect_stderr_contains "--channel and --raw do not go together"
expect_usage "$SHMKIT" create "$U" --size 4K --capacity 4K && expect_stderr_contains "--capacity needs --channel"
expect_usage "$SHMKIT" create "$U" --size 4K --policy spin && expect_stderr_contains "--policy needs --channel"
expect_usage "$SHMKIT" create "$U" --channel spsc --capacity 4K --policy fast &&
	expect_stderr_contains "expected spin, spin-sleep or sleep"
expect_usage "$SHMKIT" create "$U" --channel spsc --capacity 4K --mode 0
expect_usage "$SHMKIT" create "$U" --channel
expect_usage "$SHMKIT" send "$U" --capacity 4K && expect_stderr_contains "--capacity needs --create"
expect_usage "$SHMKIT" send "$U" --create --capacity 1000
expect_usage "$SHMKIT" send "$U" --timeout -1 && expect_stderr_contains "must not be negative"
expect_usage "$SHMKIT" send "$U" --timeout 1s
expect_usage "$SHMKIT" send "$U" --count 1 && expect_stderr_contains "unknown option '--count'"
expect_usage "$SHMKIT" send && expect_stderr_contains "missing NAME"
expect_usage "$SHMKIT" send "$U" extra && expect_stderr_contains "too many arguments"
expect_usage "$SHMKIT" send "a/b" && expect_stderr_contains "invalid name"
expect_usage "$SHMKIT" recv "$U" --count 0 && expect_stderr_contains "invalid --count '0'"
expect_usage "$SHMKIT" recv "$U" --count x
expect_usage "$SHMKIT" recv "$U" --timeout ""
expect_usage "$SHMKIT" recv "$U" --capacity 4K
expect_usage "$SHMKIT" recv && expect_stderr_contains "missing NAME"
[ -e "/dev/shm/$U" ] && fail "a refused command made $U"

# --- help ----------------------------------------------------------------------------
expect_exit 0 "$SHMKIT" --help
expect_stdout_contains "shmkit send NAME"
expect_stdout_contains "shmkit recv NAME"
expect_stdout_contains "shmkit create NAME --channel spsc|mpsc|broadcast --capacity BYTES"
for cmd in send recv; do
	expect_exit 0 "$SHMKIT" "$cmd" --help && expect_stdout_contains "Usage: shmkit $cmd NAME"
	expect_exit 0 "$SHMKIT" help "$cmd" && expect_stdout_contains "Usage: shmkit $cmd NAME"
done

finish
