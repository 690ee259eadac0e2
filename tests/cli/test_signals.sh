#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Ctrl-C and kill are not crashes: send and recv stopped by SIGINT or
# SIGTERM commit or release what they hold, end the stream cleanly and
# exit 130 or 143, on every kind of channel; what was read is never lost.
set -u
. tests/cli/lib.sh


for kind in spsc mpsc broadcast; do
	N=${P}$kind
	"$SHMKIT" create "$N" --channel "$kind" --capacity 4K || fail "create $N"

	# --- a send stopped by Ctrl-C ends its stream; a partial line goes too ----
	timeout 20 "$SHMKIT" recv "$N" >"$T/out.$kind" 2>"$T/rerr" &
	rpid=$!
	if [ "$kind" = broadcast ]; then
		wait_chan "$N" 'c["subscribers_live"] == 1'
	else
		wait_chan "$N" 'c["reader_alive"] is True'
	fi
	mkfifo "$T/in.$kind"
	"$SHMKIT" send "$N" <"$T/in.$kind" 2>"$T/serr" &
	spid=$!
	exec 3>"$T/in.$kind"
	printf 'one\ntwo\npart' >&3
	wait_chan "$N" 'c["sent"] == 2'
	kill -INT "$spid"
	wait_pid "$spid"
	expect_eq "$?" 130 "$kind: send stopped by SIGINT ($(cat "$T/serr"))"
	exec 3>&-
	wait_pid "$rpid"
	expect_eq "$?" 0 "$kind: recv after a send stopped by SIGINT: the end, not a death ($(cat "$T/rerr"))"
	expect_eq "$(tr '\n' ' ' <"$T/out.$kind")" "one two part" "$kind: every byte read was sent"
	"$SHMKIT" rm "$N"
done

# --- a send stopped by SIGTERM while it waits for room --------------------------
N=${P}full
"$SHMKIT" create "$N" --channel spsc --capacity 4K
seq 100000 | "$SHMKIT" send "$N" 2>"$T/serr" &
spid=$!
wait_chan "$N" 'c["used"] > 3000'
kill -TERM "$spid"
wait_pid "$spid"
expect_eq "$?" 143 "send stopped by SIGTERM on a full ring ($(cat "$T/serr"))"
expect_eq "$(chan_get "$N" 'c["closed"]')" true "its stream ended cleanly"
expect_exit 0 "$SHMKIT" recv "$N"
sent=$(printf '%s\n' "$OUT" | wc -l)
expect_eq "$(printf '%s\n' "$OUT" | head -n 1)" 1 "the first line"
expect_eq "$(printf '%s\n' "$OUT" | tail -n 1)" "$sent" "every line up to the stop, in order"
"$SHMKIT" rm "$N"

# --- a recv stopped by SIGINT: what it wrote is gone, the rest stays ------------
N=${P}rs
"$SHMKIT" create "$N" --channel mpsc --capacity 64K
(seq 10; sleep 30) 2>/dev/null | "$SHMKIT" send "$N" &
spid=$!
wait_chan "$N" 'c["sent"] == 10'
"$SHMKIT" recv "$N" --count 4 >"$T/r1"
expect_eq "$(tr '\n' ' ' <"$T/r1")" "1 2 3 4 " "recv --count 4"
"$SHMKIT" recv "$N" >"$T/r2" 2>"$T/rerr" &
rpid=$!
wait_chan "$N" 'c["received"] == 10'
kill -INT "$rpid"
wait_pid "$rpid"
expect_eq "$?" 130 "recv stopped by SIGINT ($(cat "$T/rerr"))"
expect_eq "$(tr '\n' ' ' <"$T/r2")" "5 6 7 8 9 10 " "what it wrote before the stop"
expect_eq "$(chan_get "$N" 'c["in_flight"]')" 0 "nothing written and kept"
kill -9 "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
"$SHMKIT" rm "$N"

# --- recv NAME... stopped by SIGTERM -------------------------------------------
A=${P}ma B2=${P}mb
"$SHMKIT" create "$A" --channel spsc --capacity 4K
"$SHMKIT" create "$B2" --channel broadcast --capacity 4K
"$SHMKIT" recv "$A" "$B2" >"$T/m" 2>"$T/merr" &
rpid=$!
wait_chan "$A" 'c["reader_alive"] is True'
wait_chan "$B2" 'c["subscribers_live"] == 1'
kill -TERM "$rpid"
wait_pid "$rpid"
expect_eq "$?" 143 "recv of two channels stopped by SIGTERM ($(cat "$T/merr"))"
"$SHMKIT" rm "$A" "$B2"
finish
