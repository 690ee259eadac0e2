#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# recv NAME...: several channels of every kind read at once through their
# event-loop fds: each message whole, in each channel's order, with
# --prefix the channel's name first; the end only when every stream ended;
# --count over all; --timeout; a dead writer among live ones; usage errors.
set -u
. tests/cli/lib.sh


# fresh A (spsc), B2 (mpsc) and C (broadcast) for each part: a stream
# that ended stays ended for the next reader
serial=0
fresh() {
	serial=$((serial + 1))
	A=${P}a$serial B2=${P}b$serial C=${P}c$serial
	"$SHMKIT" create "$A" --channel spsc --capacity 4K || fail "create $A"
	"$SHMKIT" create "$B2" --channel mpsc --capacity 4K || fail "create $B2"
	"$SHMKIT" create "$C" --channel broadcast --capacity 4K || fail "create $C"
}

# --- three kinds, 20000 lines each, interleaved; --prefix ---------------------
fresh
timeout 30 "$SHMKIT" recv "$A" "$B2" "$C" --prefix >"$T/all" 2>"$T/rerr" &
rpid=$!
wait_chan "$A" 'c["reader_alive"] is True'
wait_chan "$B2" 'c["reader_alive"] is True'
wait_chan "$C" 'c["subscribers_live"] == 1'
seq 1 20000 | sed 's/^/a/' | "$SHMKIT" send "$A" &
p1=$!
seq 1 20000 | sed 's/^/b/' | "$SHMKIT" send "$B2" &
p2=$!
seq 1 20000 | sed 's/^/c/' | "$SHMKIT" send "$C" &
p3=$!
wait "$p1" "$p2" "$p3"
wait_pid "$rpid"
expect_eq "$?" 0 "recv of three channels ($(cat "$T/rerr"))"
for n in "$A:a" "$B2:b" "$C:c"; do
	name=${n%:*} tag=${n#*:}
	grep "^$name: " "$T/all" | sed "s/^$name: //" >"$T/got"
	seq 1 20000 | sed "s/^/$tag/" >"$T/want"
	cmp -s "$T/got" "$T/want" || fail "$name: its lines, in order, with its prefix"
done
expect_eq "$(wc -l <"$T/all")" 60000 "every line once"

# --- the end waits for every stream; a message without a newline ends whole --
fresh
timeout 20 "$SHMKIT" recv "$A" "$B2" >"$T/two" 2>"$T/rerr" &
rpid=$!
wait_chan "$A" 'c["reader_alive"] is True'
wait_chan "$B2" 'c["reader_alive"] is True'
printf 'x1' | "$SHMKIT" send "$A"
sleep 0.3
kill -0 "$rpid" 2>/dev/null || fail "recv ended with one stream still open"
printf 'y1\n' | "$SHMKIT" send "$B2"
wait_pid "$rpid"
expect_eq "$?" 0 "recv of two channels, both ended"
expect_eq "$(sort "$T/two" | tr '\n' ' ')" "x1 y1 " "both messages, each a line"

# --- --count over all channels; --timeout -------------------------------------
fresh
printf 'p\nq\n' | "$SHMKIT" send "$A" &
printf 'r\n' | "$SHMKIT" send "$B2" &
wait
expect_exit 0 "$SHMKIT" recv "$A" "$B2" --count 3
expect_eq "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')" "p q r " "--count 3 over two channels"
# their writers closed: the streams ended for the next recv, which ends
expect_exit 0 "$SHMKIT" recv "$A" "$B2"
expect_eq "$OUT" "" "nothing after --count 3"
fresh
expect_exit 1 "$SHMKIT" recv "$A" "$B2" "$C" --timeout 200
expect_stderr_contains "no message within 200 ms"

# --- a writer killed: the others go on, recv says which died, exit 1 ----------
fresh
timeout 20 "$SHMKIT" recv "$A" "$B2" >"$T/dead" 2>"$T/derr" &
rpid=$!
wait_chan "$A" 'c["reader_alive"] is True'
wait_chan "$B2" 'c["reader_alive"] is True'
(echo first; sleep 30) 2>/dev/null | "$SHMKIT" send "$A" &
spid=$!
wait_chan "$A" 'c["received"] >= 1'
kill -9 "$spid"
printf 'still\n' | "$SHMKIT" send "$B2"
wait_pid "$rpid"
expect_eq "$?" 1 "recv with a dead writer"
grep -q "recv $A: the writer died" "$T/derr" || fail "the death named: $(cat "$T/derr")"
expect_eq "$(sort "$T/dead" | tr '\n' ' ')" "first still " "the messages of both"

# --- usage ---------------------------------------------------------------------
expect_exit 1 "$SHMKIT" recv "$A" "$A"
expect_stderr_contains "named twice"
expect_usage "$SHMKIT" recv "$A" "bad/name"
expect_exit 1 "$SHMKIT" recv "$A" "${P}none"
expect_stderr_contains "${P}none"
expect_exit 0 "$SHMKIT" recv --help && expect_stdout_contains "--prefix"

finish
