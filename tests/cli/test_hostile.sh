#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A hostile peer: while `shmkit send` streams into a live channel and
# `shmkit recv` reads it, another process keeps overwriting random bytes of
# the segment (the file in /dev/shm).  Each side must end by itself with 0
# or 1 (a clear error), never die of a signal and never hang; so must
# `shmkit stat` of the segment while it is being corrupted.  Every input is
# seeded, so a failure names the seed that reproduces it.
set -u
. tests/cli/lib.sh

# 12 rounds each; 4 under VALGRIND=1, where every command runs ~30x slower
ROUNDS=${HOSTILE_ROUNDS:-12}
[ "${SHMKIT_VALGRIND:-0}" = 1 ] && ROUNDS=${HOSTILE_ROUNDS:-4}

# corrupt FILE SEED COUNT: COUNT writes of 1-8 random bytes at random
# offsets (the control block and the ring twice as often as the header).
corrupt() {
	python3 - "$1" "$2" "$3" <<'EOF'
import os, random, sys, time
path, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
try:
    fd = os.open(path, os.O_RDWR)
except OSError:
    sys.exit(0)
size = os.fstat(fd).st_size
hdr = 8192 if size > 8192 else 0
for _ in range(count):
    if rnd.random() < 0.33 or not hdr:
        off = rnd.randrange(size)
    else:
        off = hdr + rnd.randrange(size - hdr)
    os.pwrite(fd, bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8))), off)
    time.sleep(0.0005)
os.close(fd)
EOF
}

# An exit status a hostile segment may cause: 0 or 1, nothing else, and no
# sanitizer report (ASan exits 1 too) in the command's stderr ($T/NAME.err).
check_rc() {
	if grep -qE 'Sanitizer|runtime error:' "$T/$1.err" 2>/dev/null; then
		fail "$1: sanitizer report (seed $3): $(grep -m3 -E 'Sanitizer|runtime error:' "$T/$1.err")"
		return
	fi
	case $2 in
	0|1) ;;
	124) fail "$1 hung (seed $3)" ;;
	*) fail "$1 ended with $2 (seed $3): $(head -c 300 "$T/$1.err")" ;;
	esac
}

for seed in $(seq 1 "$ROUNDS"); do
	name=${P}h$seed
	expect_exit 0 "$SHMKIT" create "$name" --channel spsc --capacity 4096
	seq 1 200000 | timeout 30 "$SHMKIT" send "$name" --timeout 2000 \
		>/dev/null 2>"$T/send.err" &
	spid=$!
	timeout 30 "$SHMKIT" recv "$name" --timeout 2000 >"$T/recv.out" 2>"$T/recv.err" &
	rpid=$!
	corrupt "/dev/shm/$name" "$seed" 400
	for _ in 1 2 3; do
		timeout 10 "$SHMKIT" stat "$name" >/dev/null 2>"$T/stat.err"
		check_rc stat $? "$seed"
		timeout 10 "$SHMKIT" stat "$name" --json >/dev/null 2>"$T/stat.err"
		check_rc stat $? "$seed"
	done
	wait "$spid"
	check_rc send $? "$seed"
	wait "$rpid"
	rc=$?
	check_rc recv $rc "$seed"
	echo "seed $seed: recv $rc, $(wc -l < "$T/recv.out") lines; $(head -c 120 "$T/recv.err")"
	"$SHMKIT" rm "$name" >/dev/null 2>&1
done

# A region's header and peer table under attack while readers look at it.
for seed in $(seq 101 $((100 + ROUNDS))); do
	name=${P}r$seed
	expect_exit 0 "$SHMKIT" create "$name" --size 64K
	corrupt "/dev/shm/$name" "$seed" 300 &
	cpid=$!
	for _ in $(seq 10); do
		timeout 10 "$SHMKIT" read "$name" --length 64 >/dev/null 2>"$T/read.err"
		check_rc read $? "$seed"
		timeout 10 "$SHMKIT" stat "$name" --json >/dev/null 2>"$T/stat.err"
		check_rc stat $? "$seed"
		timeout 10 "$SHMKIT" ls >/dev/null 2>"$T/ls.err"
		check_rc ls $? "$seed"
	done
	wait "$cpid"
	"$SHMKIT" rm "$name" >/dev/null 2>&1
done

finish
