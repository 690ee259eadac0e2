#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# demo.sh - `make demo`: a short guided tour of shmkit for a newcomer.
#
# Every backend the seeds teach (POSIX shm_open, System V shmget, a mapped
# file), written by one process and read by another through the `shmkit`
# CLI, then the examples: hello_writer/hello_reader (seed 002), anon_fork
# (seeds 000/004), msync_demo (seeds 001/003/004), mmap_poll (seed 000),
# fd_pass (memfd over a UNIX socket), writer/reader (seed 000: PIDs swapped
# through a channel, signals) and chan_stream (a channel against a pipe).
# Names are unique to this run, and everything it made is removed when it
# ends, on failure too.
#
# Run:   make demo          (or: B=build examples/demo.sh)
set -eu

B=${B:-build}
SHMKIT=$B/shmkit
EX=$B/examples
for p in "$SHMKIT" "$EX/hello_writer" "$EX/hello_reader" "$EX/anon_fork" \
	"$EX/msync_demo" "$EX/mmap_poll" "$EX/fd_pass" "$EX/writer" "$EX/reader" \
	"$EX/chan_stream"; do
	[ -x "$p" ] || { echo "demo.sh: $p is missing: run make first" >&2; exit 1; }
done

id=$$
PREFIX=shmkit-demo-$id
POSIX=$PREFIX                            # /dev/shm/shmkit-demo-PID
FILE=/tmp/$PREFIX.data                   # file:/tmp/shmkit-demo-PID.data
HELLO_PATH=/tmp/$PREFIX.ftok             # hello's ftok() path
HELLO=sysv:$HELLO_PATH:0x66
POLL=$PREFIX-poll
MSYNC_FILE=/tmp/$PREFIX.msync
SOCK=/tmp/$PREFIX.sock
CHAN=$PREFIX-chan
CHAN_OUT=/tmp/$PREFIX.reader
# a System V key of our own: 0x5d, then the PID; the next one if taken
KEY=
for i in 0 1 2 3 4 5 6 7 8 9; do
	k=$(printf '0x5d%06x' $(( (id + i * 0x10000) & 0xffffff )))
	if ! "$SHMKIT" stat "sysv:$k" >/dev/null 2>&1; then KEY=$k; break; fi
done
[ -n "$KEY" ] || { echo "demo.sh: no free System V key" >&2; exit 1; }
SYSV=sysv:$KEY
bg_pids=

cleanup() {
	for p in $bg_pids; do kill "$p" 2>/dev/null || true; done
	for n in "$POSIX" "$POLL" "$CHAN" "$SYSV" "file:$FILE"; do
		"$SHMKIT" rm "$n" >/dev/null 2>&1 || true
	done
	[ -e "$HELLO_PATH" ] && { "$SHMKIT" rm "$HELLO" >/dev/null 2>&1 || true; }
	rm -f "/dev/shm/$POSIX" "/dev/shm/$POLL" "/dev/shm/$CHAN" "$FILE" \
		"$HELLO_PATH" "$MSYNC_FILE" "$SOCK" "$CHAN_OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s ==\n' "$*"; }
note() { printf '%s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
# shmkit ls, only the header line and this run's names
ls_ours() {
	printf '$ %s ls   (only the header and this demo'"'"'s names)\n' "$SHMKIT"
	"$SHMKIT" ls | awk -v p="$PREFIX" -v s="$SYSV" \
		'NR == 1 || index($1, p) == 1 || $1 == s'
}

printf 'shmkit %s: shared-memory IPC for Linux, a guided tour\n' \
	"$("$SHMKIT" --version 2>/dev/null | awk '{ print $NF }')"

say "POSIX shared memory: shm_open + ftruncate + mmap"
note "A name without a prefix is a POSIX object: the file /dev/shm/$POSIX."
run "$SHMKIT" create "$POSIX" --size 4096
msg="hello from a POSIX object"
printf '$ echo "%s" | %s write %s\n' "$msg" "$SHMKIT" "$POSIX"
echo "$msg" | "$SHMKIT" write "$POSIX"
note "Another process reads it back; nothing was copied through a pipe:"
run "$SHMKIT" read "$POSIX" --length $(( ${#msg} + 1 ))
run "$SHMKIT" stat "$POSIX"

say "System V shared memory: ftok + shmget + shmat"
note "sysv:KEY names a System V segment.  --raw leaves out shmkit's header, so"
note "a plain shmget/shmat program sees the data at offset 0."
run "$SHMKIT" create "$SYSV" --size 4096 --raw --mode 0600
msg="hello from a System V segment"
printf '$ echo "%s" | %s write %s --raw\n' "$msg" "$SHMKIT" "$SYSV"
echo "$msg" | "$SHMKIT" write "$SYSV" --raw
run "$SHMKIT" read "$SYSV" --raw --length $(( ${#msg} + 1 ))
run "$SHMKIT" stat "$SYSV"

say "A regular file mapped with mmap(MAP_SHARED)"
note "file:PATH is a regular file: it survives a reboot, and is synced on request."
run "$SHMKIT" create "file:$FILE" --size 4096
msg="hello from a mapped file"
printf '$ echo "%s" | %s write file:%s\n' "$msg" "$SHMKIT" "$FILE"
echo "$msg" | "$SHMKIT" write "file:$FILE"
run "$SHMKIT" read "file:$FILE" --length $(( ${#msg} + 1 ))
run "$SHMKIT" stat "file:$FILE"

say "shmkit ls: every POSIX object and System V segment on the machine"
note "(files are not listed: they live wherever you put them)"
ls_ours

say "hello_writer creates a segment, hello_reader reads it (shmget IPC_CREAT|IPC_EXCL)"
run "$EX/hello_writer" "$HELLO"
note "Again: IPC_EXCL (SHMKIT_EXCL) refuses a segment that already exists:"
printf '$ %s %s\n' "$EX/hello_writer" "$HELLO"
if "$EX/hello_writer" "$HELLO"; then
	echo "demo.sh: the second hello_writer should have failed" >&2
	exit 1
fi
run "$EX/hello_reader" --remove "$HELLO"

say "Anonymous and /dev/zero mappings, shared by parent and child across fork()"
note "A global variable is copied by fork(); a shared mapping is not:"
run "$EX/anon_fork"

say "msync(MS_SYNC) pushes a mapping to its file; MAP_PRIVATE never does"
run "$EX/msync_demo" "$MSYNC_FILE"

say "mmap_poll: a reader prints a mapping every interval, a writer changes it"
printf '$ %s reader %s --interval 300 --count 4 --remove &\n' "$EX/mmap_poll" "$POLL"
"$EX/mmap_poll" reader "$POLL" --interval 300 --count 4 --remove &
reader=$!
bg_pids="$bg_pids $reader"
sleep 0.45
printf '$ %s writer %s "changed by the writer"\n' "$EX/mmap_poll" "$POLL"
"$EX/mmap_poll" writer "$POLL" "changed by the writer"
wait "$reader"

say "memfd: anonymous memory handed to an unrelated process (SCM_RIGHTS)"
printf '$ %s serve %s &\n' "$EX/fd_pass" "$SOCK"
"$EX/fd_pass" serve "$SOCK" &
server=$!
bg_pids="$bg_pids $server"
run "$EX/fd_pass" fetch "$SOCK"
wait "$server"

say "writer and reader swap PIDs through a channel and signal each other (seed 000)"
note "Either may start first: each finds the other's PID in the channel's peer table,"
note "which the kernel keeps alive-or-dead, so no dead or recycled PID is ever signalled."
note "The writer sends a line and SIGUSR1; the reader prints it and signals back; quit ends both."
printf '$ %s %s &\n' "$EX/reader" "$CHAN"
"$EX/reader" "$CHAN" >"$CHAN_OUT" &
reader=$!
bg_pids="$bg_pids $reader"
printf '$ printf '"'"'hello\\nshared memory\\nquit\\n'"'"' | %s %s\n' "$EX/writer" "$CHAN"
printf 'hello\nshared memory\nquit\n' | "$EX/writer" "$CHAN"
printf '\n'
wait "$reader"
note "What the reader printed:"
cat "$CHAN_OUT"
rm -f "$CHAN_OUT"

say "Shared memory is the fastest IPC: a channel against a pipe"
note "chan_stream sends 200000 messages of 64 bytes from a parent to its child, through"
note "a shmkit channel, then through a pipe (a write() and a read() per message):"
printf '$ %s --count 200000\n' "$EX/chan_stream"
stream=$("$EX/chan_stream" --count 200000)
printf '%s\n' "$stream"
ratio=$(printf '%s\n' "$stream" | sed -n 's/^channel: .*: \([0-9.]*\)x$/\1/p')
note "The channel carried ${ratio}x the messages per second of the pipe here: a pipe"
note "makes two system calls and two kernel copies per message, the channel none while"
note "both sides are busy.  \`$SHMKIT bench\` measures more: latency, sizes, the hardware floor."

say "Cleaning up: shmkit rm"
run "$SHMKIT" rm "$POSIX" "$SYSV" "file:$FILE"
rm -f "$MSYNC_FILE" "$HELLO_PATH"
ls_ours
left=0
for f in /dev/shm/"$PREFIX"*; do [ -e "$f" ] && left=$((left + 1)); done
note "left in /dev/shm by this demo: $left"
[ "$left" -eq 0 ]
printf '\nDone.  Next: %s --help, include/shmkit.h and the sources in examples/.\n' "$SHMKIT"
