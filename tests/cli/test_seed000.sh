#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/cli/test_seed000.sh - seed 000's reader/writer pair (examples/writer,
# examples/reader) and chan_stream.
#
# Both start orders: each side finds the other's PID through the channel,
# the reader prints every line the writer read, in order, in the seed's
# format, "quit" (or EOF) ends both with status 0 and the segment is gone.
# Then crashes: the writer killed while the reader waits, the reader killed
# while the writer waits for input or for the reader's signal; the survivor
# says so, exits 1 within a bounded time and removes the segment.  Last,
# chan_stream prints its rates and leaves nothing behind.
# Run from the repository root: B=build bash tests/cli/test_seed000.sh
# Exit status: 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.sh"

EX=$B/examples
for x in writer reader chan_stream; do
	if [ ! -x "$EX/$x" ]; then
		fail "$EX/$x is not built"
		finish
	fi
done

# Background processes of ours, killed at exit whatever happened.
BG=()
seed_cleanup() {
	local pid
	for pid in "${BG[@]}"; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	exec 8>&- 2>/dev/null
	lib_cleanup
}
trap seed_cleanup EXIT

# wait_bg PID SECONDS : waits for our background PID, up to SECONDS, then
# kills it; sets WRC to its exit status (124 when it had to be killed).
wait_bg() {
	local n=$(($2 * 50))
	while kill -0 "$1" 2>/dev/null; do
		if [ "$n" -le 0 ]; then
			kill -9 "$1" 2>/dev/null
			wait "$1" 2>/dev/null
			WRC=124
			return 1
		fi
		sleep 0.02
		n=$((n - 1))
	done
	wait "$1"
	WRC=$?
	return 0
}

# wait_for FILE LINE SECONDS : polls until FILE has the line LINE.
wait_for() {
	local n=$(($3 * 50))
	while [ "$n" -gt 0 ]; do
		grep -qxF -e "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
		n=$((n - 1))
	done
	return 1
}

# count_shm PREFIX : how many objects in /dev/shm have a name starting so.
count_shm() {
	local f n=0
	for f in /dev/shm/"$1"*; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

# gone NAME WHAT : nothing is left in /dev/shm for NAME.
gone() {
	[ ! -e "/dev/shm/$1" ] || fail "$2: /dev/shm/$1 is left behind"
}

# The lines typed at the writer: "quit" ends it; what follows is not sent.
# shellcheck disable=SC2016  # $HOME and \n are meant literally
printf '%s\n' "hello" "" "  two  spaces  " "tab	here" "ünïcödé" \
	'a * and $HOME and \n' "quit" "not sent: after quit" >"$T/input"
READ_LINES=7  # including "quit"
# shellcheck disable=SC2016
{
	printf 'read from shm : %s\n' "hello" "" "  two  spaces  " "tab	here" \
		"ünïcödé" 'a * and $HOME and \n'
} >"$T/want.read"

# pair ORDER NAME INPUT : runs the pair, the first of ORDER first (it waits
# for the other); sets WPID, RPID, WRC_W, WRC_R; outputs in $T/{w,r}.{out,err}.
pair() {
	local order=$1 name=$2 input=$3
	if [ "$order" = writer ]; then
		"$EX/writer" "$name" <"$input" >"$T/w.out" 2>"$T/w.err" &
		WPID=$!
		BG+=("$WPID")
		wait_for "$T/w.out" "waiting for the reader..." 5 ||
			fail "writer first ($name): no 'waiting for the reader...'; stderr: $(cat "$T/w.err")"
		"$EX/reader" "$name" >"$T/r.out" 2>"$T/r.err" &
		RPID=$!
		BG+=("$RPID")
	else
		"$EX/reader" "$name" >"$T/r.out" 2>"$T/r.err" &
		RPID=$!
		BG+=("$RPID")
		wait_for "$T/r.out" "waiting for the writer..." 5 ||
			fail "reader first ($name): no 'waiting for the writer...'; stderr: $(cat "$T/r.err")"
		"$EX/writer" "$name" <"$input" >"$T/w.out" 2>"$T/w.err" &
		WPID=$!
		BG+=("$WPID")
	fi
	wait_bg "$WPID" 20
	WRC_W=$WRC
	wait_bg "$RPID" 20
	WRC_R=$WRC
	BG=()
}

# ---- both start orders, "quit" ends both ----
for order in writer reader; do
	N=${P}pair_$order
	what="$order first"
	pair "$order" "$N" "$T/input"
	expect_eq "$WRC_W" 0 "$what: writer exit status (stderr: $(cat "$T/w.err"))"
	expect_eq "$WRC_R" 0 "$what: reader exit status (stderr: $(cat "$T/r.err"))"
	[ -s "$T/w.err" ] && fail "$what: writer stderr: $(cat "$T/w.err")"
	[ -s "$T/r.err" ] && fail "$what: reader stderr: $(cat "$T/r.err")"
	# the reader: who it found (the writer's real PID), then every line
	{
		[ "$order" = reader ] && echo "waiting for the writer..."
		echo "found the writer: PID $WPID"
		cat "$T/want.read"
	} >"$T/want"
	cmp -s "$T/r.out" "$T/want" ||
		fail "$what: reader output differs:
$(diff "$T/want" "$T/r.out" | head -n 20)"
	# the writer: who it found, then the seed's prompt before each line
	{
		[ "$order" = writer ] && echo "waiting for the reader..."
		echo "found the reader: PID $RPID"
		for _ in $(seq 1 "$READ_LINES"); do printf 'write to shm : '; done
	} >"$T/want"
	cmp -s "$T/w.out" "$T/want" ||
		fail "$what: writer output differs:
$(diff "$T/want" "$T/w.out" | head -n 20)"
	gone "$N" "$what"
done

# ---- EOF ends it as "quit" does; a last line without '\n' is sent ----
N=${P}eof
printf 'first\nlast without newline' >"$T/input.eof"
pair reader "$N" "$T/input.eof"
expect_eq "$WRC_W" 0 "EOF: writer exit status (stderr: $(cat "$T/w.err"))"
expect_eq "$WRC_R" 0 "EOF: reader exit status (stderr: $(cat "$T/r.err"))"
printf 'read from shm : first\nread from shm : last without newline\n' >"$T/want"
grep '^read from shm : ' "$T/r.out" | cmp -s - "$T/want" ||
	fail "EOF: reader lines differ: $(grep '^read from shm' "$T/r.out" | head -n 5)"
gone "$N" "EOF"

# ---- a line longer than the largest message goes in pieces ----
N=${P}long
{ head -c 300000 /dev/zero | tr '\0' x; printf '\nshort\nquit\n'; } >"$T/input.long"
pair writer "$N" "$T/input.long"
expect_eq "$WRC_W" 0 "long line: writer exit status (stderr: $(cat "$T/w.err"))"
expect_eq "$WRC_R" 0 "long line: reader exit status (stderr: $(cat "$T/r.err"))"
got=$(sed -n 's/^read from shm : //p' "$T/r.out" | awk '{ printf "%d ", length($0) }')
expect_eq "$got" "262144 37856 5 " "long line: lengths of the printed pieces"
[ "$(sed -n 's/^read from shm : //p' "$T/r.out" | head -n 2 | tr -d '\nx')" = "" ] ||
	fail "long line: the pieces are not all x"
gone "$N" "long line"

# ---- crashes: each side is watched by the other through its peer slot ----
# start_live NAME : reader first, then the writer reading the FIFO on fd 8;
# "hello" goes through.  Sets WPID, RPID.
start_live() {
	local name=$1
	rm -f "$T/fifo"
	mkfifo "$T/fifo" || return 1
	"$EX/reader" "$name" >"$T/r.out" 2>"$T/r.err" &
	RPID=$!
	BG+=("$RPID")
	wait_for "$T/r.out" "waiting for the writer..." 5
	"$EX/writer" "$name" <"$T/fifo" >"$T/w.out" 2>"$T/w.err" &
	WPID=$!
	BG+=("$WPID")
	exec 8>"$T/fifo"
	printf 'hello\n' >&8
	wait_for "$T/r.out" "read from shm : hello" 5 || {
		fail "$name: the reader never printed hello; stderr: $(cat "$T/r.err" "$T/w.err")"
		return 1
	}
}

# the writer killed while the reader waits for its signal
N=${P}kill_writer
if start_live "$N"; then
	# a second reader is refused while this one lives
	expect_exit 1 "$EX/reader" "$N" && expect_stderr_contains "reader: open $N: it has a live reader already"
	expect_exit 1 "$EX/writer" "$N" && expect_stderr_contains "writer: open $N: it has a live writer already"
	kill -9 "$WPID"
	wait "$WPID" 2>/dev/null
	start=$EPOCHREALTIME
	wait_bg "$RPID" 5
	took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	expect_eq "$WRC" 1 "writer killed: reader exit status (after ${took}s)"
	grep -qF "reader: the writer (PID $WPID) died; removing $N" "$T/r.err" ||
		fail "writer killed: reader stderr: $(cat "$T/r.err")"
	gone "$N" "writer killed"
fi
exec 8>&-
BG=()

# the reader killed while the writer waits for the next line
N=${P}kill_reader
if start_live "$N"; then
	kill -9 "$RPID"
	wait "$RPID" 2>/dev/null
	wait_bg "$WPID" 5
	expect_eq "$WRC" 1 "reader killed (writer at its prompt): writer exit status"
	grep -qF "writer: the reader (PID $RPID) died; removing $N" "$T/w.err" ||
		fail "reader killed (writer at its prompt): writer stderr: $(cat "$T/w.err")"
	gone "$N" "reader killed (writer at its prompt)"
fi
exec 8>&-
BG=()

# the reader stopped, so the writer waits for its SIGUSR1; then killed
N=${P}kill_stopped
if start_live "$N"; then
	kill -STOP "$RPID"
	printf 'never printed\n' >&8
	# the writer reads it, sends it, signals the stopped reader and waits
	# for its SIGUSR1 (nothing shows that from outside: give it time)
	sleep 0.3
	kill -0 "$WPID" 2>/dev/null || fail "reader stopped: the writer did not wait for it"
	kill -9 "$RPID"
	wait "$RPID" 2>/dev/null
	wait_bg "$WPID" 5
	expect_eq "$WRC" 1 "reader killed (writer waiting for SIGUSR1): writer exit status"
	grep -qF "writer: the reader (PID $RPID) died; removing $N" "$T/w.err" ||
		fail "reader killed (writer waiting for SIGUSR1): writer stderr: $(cat "$T/w.err")"
	grep -q 'never printed' "$T/r.out" && fail "reader stopped: it printed a line anyway"
	gone "$N" "reader killed (writer waiting for SIGUSR1)"
fi
exec 8>&-
BG=()

# ---- usage ----
for x in writer reader; do
	expect_exit 2 "$EX/$x" && expect_stderr_contains "usage: $x NAME"
	expect_exit 2 "$EX/$x" a b
	expect_exit 2 "$EX/$x" --bogus
	expect_exit 0 "$EX/$x" --help && expect_stdout_contains "usage: $x NAME"
	expect_exit 1 "$EX/$x" "bad/name" && expect_stderr_contains "$x: open bad/name:"
done

# ---- chan_stream: rates of a channel and a pipe ----
before=$(count_shm chan_stream-)
if expect_exit 0 "$EX/chan_stream" --count 20000; then
	[ -z "$ERR" ] || fail "chan_stream wrote to stderr: $ERR"
	expect_stdout_contains "chan_stream: 20000 messages of 64 bytes"
	grep -Eq '^channel: +20000 messages in [0-9.]+ s: [0-9.]+ M msg/s' "$T/out" ||
		fail "chan_stream: no channel line: $OUT"
	grep -Eq '^pipe: +20000 messages in [0-9.]+ s: [0-9.]+ M msg/s' "$T/out" ||
		fail "chan_stream: no pipe line: $OUT"
	tail -n 1 "$T/out" | grep -Eq '^channel: [0-9.]+ M msg/s, pipe: [0-9.]+ M msg/s: [0-9.]+x$' ||
		fail "chan_stream: the last line is not the ratio: $(tail -n 1 "$T/out")"
fi
expect_exit 0 "$EX/chan_stream" --count 300 --size 100000 &&
	expect_stdout_contains "300 messages of 100000 bytes"
expect_exit 0 "$EX/chan_stream" --count 1 --size 1
after=$(count_shm chan_stream-)
expect_eq "$after" "$before" "chan_stream segments in /dev/shm"
for args in "--count 0" "--count x" "--size 0" "--size 1048577" "--count" "bogus"; do
	# shellcheck disable=SC2086  # split on purpose
	expect_exit 2 "$EX/chan_stream" $args
done
expect_exit 0 "$EX/chan_stream" --help && expect_stdout_contains "usage: chan_stream"

left=$(count_shm "$P")
expect_eq "$left" 0 "segments of this test left in /dev/shm"
finish
