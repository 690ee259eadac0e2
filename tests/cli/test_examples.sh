#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/cli/test_examples.sh - runs every program in examples/ with names
# unique to this run and checks what it prints, exactly, and what it leaves
# behind; then runs examples/demo.sh (what `make demo` does).
# Run from the repository root: B=build bash tests/cli/test_examples.sh
# Exit status: 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.sh"

EX=$B/examples
for x in hello_writer hello_reader mmap_poll anon_fork msync_demo fd_pass \
	writer reader chan_stream epoll_mux uv_chan; do
	if [ ! -x "$EX/$x" ]; then
		fail "$EX/$x is not built"
		finish
	fi
done

# Background processes of ours, killed at exit whatever happened.
BG=()
examples_cleanup() {
	local pid
	for pid in "${BG[@]}"; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	lib_cleanup
}
trap examples_cleanup EXIT

# wait_until SECONDS CMD... : polls CMD every 50 ms; false on timeout.
wait_until() {
	local n=$(($1 * 20))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# wait_exit PID : waits (up to 5 s) for PID to end; sets WRC to its status.
wait_exit() {
	if ! wait_until 5 eval '! kill -0 '"$1"' 2>/dev/null'; then
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		WRC=124
		return 1
	fi
	wait "$1"
	WRC=$?
	return 0
}

# expect_out_file FILE WHAT : the last run's stdout, byte for byte, is FILE.
expect_out_is() {
	if ! cmp -s "$T/out" "$1"; then
		fail "$2: stdout differs from what was expected:
$(diff "$1" "$T/out" | head -n 20)"
		return 1
	fi
	return 0
}

# leftovers PREFIX : the files whose path starts with PREFIX, by name.
leftovers() {
	local f out=
	for f in "$1"*; do
		[ -e "$f" ] && out="$out ${f##*/}"
	done
	printf '%s' "$out"
}

sysv_gone() {  # KEY (hex): no System V segment has it
	! key_exists "$(($1))" &&
		! { command -v ipcs >/dev/null && ipcs -m | awk -v k="$1" 'tolower($1) == tolower(k) { f = 1 } END { exit !f }'; }
}

# ---- hello_writer / hello_reader (seed 002) ----
new_key KEY
H=sysv:$KEY
if expect_exit 0 "$EX/hello_writer" "$H"; then
	expect_eq "$OUT" "wrote \"Hello World\" to $H" "hello_writer output"
fi
expect_exit 1 "$EX/hello_writer" "$H" && {
	expect_stderr_contains "hello_writer: create $H: File exists"
	[ -z "$OUT" ] || fail "second hello_writer printed to stdout: $OUT"
}
# what the writer left is a raw 128-byte segment, mode 0666, as in the seed
if expect_exit 0 "$SHMKIT" stat "$H"; then
	expect_eq "$(stat_field size)" 128 "hello segment size"
	expect_eq "$(stat_field mode)" 0666 "hello segment mode"
	expect_eq "$(stat_field managed)" no "hello segment managed"
fi
expect_exit 0 "$SHMKIT" read "$H" --raw --length 12 && {
	printf 'Hello World\n' >"$T/want"
	expect_out_is "$T/want" "shmkit read of the hello segment"
}
expect_exit 0 "$EX/hello_reader" "$H" && {
	printf 'Hello World\n' >"$T/want"
	expect_out_is "$T/want" "hello_reader"
}
key_exists "$((KEY))" || fail "hello_reader without --remove removed $H"
expect_exit 0 "$EX/hello_reader" --remove "$H" && {
	printf 'Hello World\n' >"$T/want"
	expect_out_is "$T/want" "hello_reader --remove"
}
sysv_gone "$KEY" || fail "hello_reader --remove left $H behind"
expect_exit 1 "$EX/hello_reader" "$H" && \
	expect_stderr_contains "hello_reader: open $H: No such file or directory"

# a POSIX name works too
HP=${P}hello
expect_exit 0 "$EX/hello_writer" "$HP"
expect_exit 1 "$EX/hello_writer" "$HP" && expect_stderr_contains "File exists"
expect_exit 0 "$EX/hello_reader" --remove "$HP" && expect_eq "$OUT" "Hello World" "hello_reader $HP"
[ ! -e "/dev/shm/$HP" ] || fail "hello_reader --remove left /dev/shm/$HP"

# the seed's ftok flavour: the writer creates the missing ftok path
HF=sysv:$T/ftok-path:0x66
track "$HF"
expect_exit 0 "$EX/hello_writer" "$HF"
[ -f "$T/ftok-path" ] || fail "hello_writer did not create the ftok path $T/ftok-path"
expect_exit 0 "$EX/hello_reader" --remove "$HF" && expect_eq "$OUT" "Hello World" "hello_reader $HF"
expect_exit 1 "$EX/hello_reader" "$HF"

expect_exit 2 "$EX/hello_writer" a b
expect_exit 2 "$EX/hello_reader" --bogus
expect_exit 0 "$EX/hello_reader" --help

# ---- mmap_poll (seed 000) ----
M=${P}poll
TEXT="changed by the writer $$"
"$EX/mmap_poll" reader "$M" --interval 50 --count 100000 --remove \
	>"$T/poll.out" 2>"$T/poll.err" &
rpid=$!
BG+=("$rpid")
# the reader made the region and printed it empty before the writer runs
wait_until 5 grep -q '^\[1\] $' "$T/poll.out" ||
	fail "mmap_poll reader printed no '[1] ' line; stderr: $(cat "$T/poll.err")"
[ -e "/dev/shm/$M" ] || fail "mmap_poll reader did not create /dev/shm/$M"
expect_exit 0 "$EX/mmap_poll" writer "$M" "$TEXT"
wait_until 5 grep -qx "\[[0-9]*\] $TEXT" "$T/poll.out" ||
	fail "mmap_poll reader never printed the writer's text; output: $(tail -n 3 "$T/poll.out")"
kill -TERM "$rpid" 2>/dev/null
wait_exit "$rpid"
expect_eq "$WRC" 0 "mmap_poll reader exit status after SIGTERM"
[ -s "$T/poll.err" ] && fail "mmap_poll reader wrote to stderr: $(cat "$T/poll.err")"
# lines are "[1]", "[2]", ... in order, each a prefix of the text (the region
# starts zeroed; no lock, so a line may catch the write half-done)
awk -v t="$TEXT" '
	{ n++; want = "[" n "] "
	  if (substr($0, 1, length(want)) != want) { print "line " n ": " $0; bad = 1; exit }
	  s = substr($0, length(want) + 1)
	  if (substr(t, 1, length(s)) != s) { print "line " n ": " $0; bad = 1; exit } }
	END { exit bad }' "$T/poll.out" >"$T/poll.bad" ||
	fail "mmap_poll reader output is wrong: $(cat "$T/poll.bad")"
[ ! -e "/dev/shm/$M" ] || fail "mmap_poll reader --remove left /dev/shm/$M"

# the writer first: it creates the region, a reader started later sees it
M2=${P}poll2
expect_exit 0 "$EX/mmap_poll" writer "$M2" "hello mmap"
[ -e "/dev/shm/$M2" ] || fail "mmap_poll writer did not create /dev/shm/$M2"
expect_exit 0 "$EX/mmap_poll" reader "$M2" --interval 10 --count 3 --remove && {
	printf '[1] hello mmap\n[2] hello mmap\n[3] hello mmap\n' >"$T/want"
	expect_out_is "$T/want" "mmap_poll reader --count 3"
}
[ ! -e "/dev/shm/$M2" ] || fail "mmap_poll reader --remove left /dev/shm/$M2"
# a text that does not fit the region
M3=${P}poll3
expect_exit 0 "$SHMKIT" create "$M3" --size 8 --raw
expect_exit 1 "$EX/mmap_poll" writer "$M3" "123456789" && expect_stderr_contains "mmap_poll: write $M3:"
expect_exit 2 "$EX/mmap_poll" bogus "$M3"
expect_exit 2 "$EX/mmap_poll" reader "$M3" --interval 0
expect_exit 2 "$EX/mmap_poll" writer "$M3"
expect_exit 0 "$SHMKIT" rm "$M3"

# ---- anon_fork (seeds 000, 004) ----
cat >"$T/want" <<'END'
before fork: global 0, anonymous 0, /dev/zero 0
child: set the global, the anonymous and the /dev/zero counters to 42
global after child: 0
anonymous after child: 42
/dev/zero after child: 42
anonymous message: written by the child
/dev/zero message: written by the child
END
expect_exit 0 "$EX/anon_fork" && expect_out_is "$T/want" "anon_fork"
expect_exit 2 "$EX/anon_fork" extra

# ---- msync_demo (seeds 001, 003, 004) ----
F=$T/msync.dat
cat >"$T/want" <<END
mapped file:$F MAP_SHARED (4096 bytes) and wrote: hello from msync_demo
msync(MS_SYNC) done
file contains: hello from msync_demo
private copy sees: Hello from msync_demo
private write not in file: yes
private write not in shared mapping: yes
END
for round in created reopened; do
	expect_exit 0 "$EX/msync_demo" "$F" && expect_out_is "$T/want" "msync_demo ($round)"
	expect_eq "$(stat -c %s "$F" 2>&1)" 4096 "size of the msync_demo file ($round)"
	printf 'hello from msync_demo\0' >"$T/want.bytes"
	cmp -s <(head -c 22 "$F") "$T/want.bytes" ||
		fail "msync_demo file ($round) starts with $(head -c 22 "$F" | od -An -c | head -n 2)"
done
head -c 10 /dev/zero >"$T/small.dat"
expect_exit 1 "$EX/msync_demo" "$T/small.dat" && expect_stderr_contains "msync_demo:"
expect_exit 2 "$EX/msync_demo"

# ---- fd_pass (memfd + SCM_RIGHTS) ----
cat >"$T/want" <<'END'
parent: wrote "hello through a memfd" into a memfd region, sending its fd
child: received a region of 4096 bytes: hello through a memfd
parent: the child replied in the region: got it, thanks
END
expect_exit 0 "$EX/fd_pass" && expect_out_is "$T/want" "fd_pass (socketpair)"

# two unrelated processes over a named socket; fetch waits for serve
SOCK=$T/fd_pass.sock
"$EX/fd_pass" serve "$SOCK" >"$T/serve.out" 2>"$T/serve.err" &
spid=$!
BG+=("$spid")
expect_exit 0 "$EX/fd_pass" fetch "$SOCK" &&
	expect_eq "$OUT" "fetch: received a region of 4096 bytes: hello through a memfd" "fd_pass fetch"
wait_exit "$spid"
expect_eq "$WRC" 0 "fd_pass serve exit status (stderr: $(cat "$T/serve.err"))"
cat >"$T/want" <<END
serve: listening on $SOCK
serve: sent the fd of a memfd region holding "hello through a memfd"
serve: the client replied in the region: got it, thanks
END
cmp -s "$T/serve.out" "$T/want" ||
	fail "fd_pass serve output differs: $(diff "$T/want" "$T/serve.out")"
[ ! -e "$SOCK" ] || fail "fd_pass serve left its socket $SOCK"
expect_exit 2 "$EX/fd_pass" serve
expect_exit 2 "$EX/fd_pass" bogus "$SOCK"

# ---- epoll_mux: two channels, a TCP listener and a timer in one epoll loop ----
MA=${P}mux_a MB=${P}mux_b
"$EX/epoll_mux" "$MA" "$MB" 10 >"$T/mux.out" 2>"$T/mux.err" &
mpid=$!
BG+=("$mpid")
wait_until 10 grep -q '^listening on 127.0.0.1:' "$T/mux.out" || fail "epoll_mux never listened"
port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$T/mux.out")
printf 'one\ntwo\n' | "$SHMKIT" send "$MA" || fail "send $MA"
(printf 'three\n'; sleep 30) 2>/dev/null | "$SHMKIT" send "$MB" &
mbs=$!
BG+=("$mbs")
# (grep reads the file afresh at each poll: a <(...) would be read once)
wait_until 10 grep -qx "$MB: three" "$T/mux.out" ||
	fail "epoll_mux never printed the message of $MB"
# the TCP side of the same loop answers while a stream is still open
got=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && cat <&3" 2>&1)
expect_eq "$got" "messages 3" "epoll_mux's answer on TCP"
kill -9 "$mbs"
wait_exit "$mpid"
expect_eq "$WRC" 1 "epoll_mux exit status after a writer was killed (stderr: $(cat "$T/mux.err"))"
grep -q "epoll_mux: $MB: " "$T/mux.err" || fail "epoll_mux did not report $MB's writer: $(cat "$T/mux.err")"
cat >"$T/want" <<END
listening on 127.0.0.1:$port
$MA: one
$MA: two
$MA: the stream ended
$MB: three
both streams ended after 3 messages
END
cmp -s "$T/mux.out" "$T/want" || fail "epoll_mux output differs: $(diff "$T/want" "$T/mux.out")"
"$SHMKIT" rm "$MA" "$MB"
expect_exit 2 "$EX/epoll_mux" "$MA"

# ---- uv_chan: a channel read from a libuv loop ----
UC=${P}uv
"$EX/uv_chan" "$UC" 10 >"$T/uv.out" 2>"$T/uv.err" &
upid=$!
BG+=("$upid")
wait_until 10 grep -q '^reading ' "$T/uv.out" || fail "uv_chan never started"
printf 'x\ny\n' | "$SHMKIT" send "$UC" || fail "send $UC"
wait_exit "$upid"
expect_eq "$WRC" 0 "uv_chan exit status (stderr: $(cat "$T/uv.err"))"
printf 'reading %s\nx\ny\n%s: the stream ended after 2 messages\n' "$UC" "$UC" >"$T/want"
cmp -s "$T/uv.out" "$T/want" || fail "uv_chan output differs: $(diff "$T/want" "$T/uv.out")"
"$SHMKIT" rm "$UC"

# ---- examples/demo.sh (make demo) ----
B="$B" timeout 30 bash examples/demo.sh >"$T/demo.out" 2>"$T/demo.err" </dev/null &
dpid=$!
BG+=("$dpid")
wait "$dpid"
drc=$?
# the demo's names carry its PID: shmkit-demo-PID
demo=$(grep -o 'shmkit-demo-[0-9]*' "$T/demo.out" | head -n 1)
[ -n "$demo" ] || { fail "demo output names no shmkit-demo-PID object"; demo=shmkit-demo-; }
if [ "$drc" -ne 0 ]; then
	fail "examples/demo.sh exited $drc; last lines:
$(tail -n 15 "$T/demo.out")
$(cat "$T/demo.err")"
fi
for want in "== POSIX shared memory: shm_open + ftruncate + mmap ==" \
	"hello from a POSIX object" "hello from a System V segment" \
	"hello from a mapped file" "Hello World" "anonymous after child: 42" \
	"file contains: hello from msync_demo" \
	"fetch: received a region of 4096 bytes: hello through a memfd" \
	"read from shm : hello" "read from shm : shared memory" \
	"left in /dev/shm by this demo: 0"; do
	grep -qxF -e "$want" "$T/demo.out" || fail "demo output lacks the line '$want'"
done
# chan_stream's verdict, and the demo's narration of it
grep -Eq '^channel: [0-9.]+ M msg/s, pipe: [0-9.]+ M msg/s: [0-9.]+x$' "$T/demo.out" ||
	fail "demo output lacks chan_stream's ratio line"
grep -Eq '^The channel carried [0-9.]+x the messages per second of the pipe' "$T/demo.out" ||
	fail "demo output lacks the narration of chan_stream's ratio"
grep -q '^NAME ' "$T/demo.out" || fail "demo output lacks the header line of shmkit ls"
left=$(leftovers "/dev/shm/$demo")
[ -z "$left" ] || fail "demo left in /dev/shm: $left"
left=$(leftovers "/tmp/$demo")
[ -z "$left" ] || fail "demo left in /tmp: $left"
grep -o 'sysv:0x[0-9a-f]*' "$T/demo.out" | sort -u >"$T/demo.keys"
while read -r k; do
	sysv_gone "${k#sysv:}" || fail "demo left the System V segment $k"
done <"$T/demo.keys"

# ---- nothing of ours left ----
left=$(leftovers "/dev/shm/$P")
[ -z "$left" ] || fail "left in /dev/shm: $left"

finish
