# SPDX-License-Identifier: MIT
# tests/cli/lib.sh - sourced by every tests/cli/test_*.sh (bash, set -u).
#
# Environment: SHMKIT, the CLI under test (default build/shmkit); B, the
# build directory (default build).  Run from the repository root.
# Exit status of a test: 0 pass, 1 fail, 77 skip.
#
# Every test gets:
#   $P        a name prefix unique to this run: POSIX names are "${P}foo"
#   $T        a private temporary directory (removed at exit)
#   new_key VAR      a free System V key (hex) in VAR, removed at exit
#   track NAME       a segment to remove at exit (sysv:PATH:PROJ names)
#   run CMD...       runs CMD; $RC, stdout in $T/out ($OUT), stderr in $T/err ($ERR)
#   expect_exit CODE CMD...           run, and check the exit status
#   expect_stderr_contains TEXT       about the last run
#   expect_stdout_contains TEXT / expect_stdout_lacks TEXT
#   expect_eq GOT WANT WHAT
#   wait_pid PID     a background child's exit status, killed after 20 s
#   fail MSG, skip REASON, finish
# The EXIT trap removes every segment the test made, whatever happened.

export LC_ALL=C
SHMKIT=${SHMKIT:-build/shmkit}
B=${B:-build}
case $SHMKIT in
/*) ;;
*) SHMKIT=$PWD/$SHMKIT ;;
esac
export SHMKIT B

TEST_NAME=$(basename "$0" .sh)
FAILS=0
RC=0
OUT=
ERR=
P="t$$_${RANDOM}_"
T=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-cli.XXXXXX") || exit 1
KEYS=()
TRACKED=()
HOLDERS=()

# Nothing here may wait on a terminal.
exec </dev/null

lib_cleanup() {
	local pid k n
	for pid in "${HOLDERS[@]}"; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for n in "${TRACKED[@]}"; do
		"$SHMKIT" rm "$n" >/dev/null 2>&1
	done
	for k in "${KEYS[@]}"; do
		ipcrm -M "$k" >/dev/null 2>&1
	done
	rm -f /dev/shm/"$P"* 2>/dev/null
	rm -rf "$T"
}
trap lib_cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	FAILS=$((FAILS + 1))
}

skip() {
	echo "SKIP: $TEST_NAME: $*"
	exit 77
}

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$TEST_NAME: $FAILS check(s) failed"
		exit 1
	fi
	echo "$TEST_NAME: ok"
	exit 0
}

if [ ! -x "$SHMKIT" ]; then
	echo "FAIL: $TEST_NAME: $SHMKIT is not built" >&2
	exit 1
fi

# run CMD... : stdin is the caller's; a hang (20 s, SHMKIT_RUN_TIMEOUT) is exit 124.
run() {
	timeout "${SHMKIT_RUN_TIMEOUT:-20}" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(tr -d '\0' <"$T/out")
	ERR=$(cat "$T/err")
}

wait_pid() {
	local pid=$1
	for _ in $(seq 1 400); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid"
}

expect_exit() {
	local want=$1
	shift
	run "$@"
	if [ "$RC" -ne "$want" ]; then
		fail "'$*' exited $RC, expected $want; stderr: $ERR"
		return 1
	fi
	return 0
}

expect_stderr_contains() {
	case $ERR in
	*"$1"*) return 0 ;;
	esac
	fail "stderr lacks '$1'; stderr: $ERR"
	return 1
}

expect_stdout_contains() {
	case $OUT in
	*"$1"*) return 0 ;;
	esac
	fail "stdout lacks '$1'; stdout: $OUT"
	return 1
}

expect_stdout_lacks() {
	case $OUT in
	*"$1"*)
		fail "stdout has '$1'; stdout: $OUT"
		return 1
		;;
	esac
	return 0
}

expect_eq() {
	if [ "$1" != "$2" ]; then
		fail "$3: got '$1', expected '$2'"
		return 1
	fi
	return 0
}

# A "key: value" line of the last human `shmkit stat` output.
stat_field() {
	printf '%s\n' "$OUT" | sed -n "s/^$1: *//p" | head -n 1
}

# json_get EXPR : evaluates the Python expression EXPR on the JSON document
# in $T/out (bound to d); prints the result as JSON.
json_get() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(json.dumps(eval(sys.argv[2])))' "$T/out" "$1"
}

# Whether $T/out holds exactly one JSON document.
json_valid() {
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/out" 2>/dev/null
}

# chan_get NAME EXPR : EXPR on the "channel" object of `stat NAME --json`
# (bound to c), printed as JSON; empty when stat fails.
chan_get() {
	timeout 10 "$SHMKIT" stat "$1" --json 2>/dev/null |
		python3 -c 'import json, sys
c = json.load(sys.stdin)["channel"]
print(json.dumps(eval(sys.argv[1])))' "$2" 2>/dev/null
}

# wait_chan NAME EXPR : waits (up to 20 s) until EXPR is true of NAME's channel.
wait_chan() {
	for _ in $(seq 1 400); do
		[ "$(chan_get "$1" "$2")" = true ] && return 0
		sleep 0.05
	done
	fail "the channel $1 never came to $2: $(chan_get "$1" c)"
	return 1
}

# expect_usage CMD... : CMD is refused as a usage error (exit 2, the
# error and the --help hint on stderr, nothing on stdout).
expect_usage() {
	expect_exit 2 "$@" || return 1
	expect_stderr_contains "shmkit: "
	expect_stderr_contains "Try 'shmkit "
	[ -s "$T/out" ] && fail "'$*' printed on stdout: $OUT"
	return 0
}

key_exists() {
	awk -v k="$1" 'NR > 1 && $1 == k { f = 1 } END { exit !f }' /proc/sysvipc/shm 2>/dev/null
}

# new_key VAR : a System V key no segment uses, in 0x5A000000..0x5AFFFFFF.
new_key() {
	local dec
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		dec=$((0x5A000000 + (($$ * 7919 + RANDOM * 32768 + RANDOM) % 0xFFFFFF)))
		key_exists "$dec" && continue
		KEYS+=("$dec")
		printf -v "$1" '0x%08x' "$dec"
		return 0
	done
	echo "FAIL: $TEST_NAME: no free System V key found" >&2
	exit 1
}

# track NAME : remove NAME at exit.
track() {
	TRACKED+=("$1")
}

# hold NAME [--raw] : starts a process attached to NAME until release/kill.
# Sets HOLDER (its pid).  It is `shmkit write NAME` blocked on a FIFO.
hold() {
	local fifo="$T/hold.$RANDOM$RANDOM"
	mkfifo "$fifo" || return 1
	"$SHMKIT" write "$@" <"$fifo" >/dev/null 2>"$T/hold.err" &
	HOLDER=$!
	HOLDERS+=("$HOLDER")
	exec 9>"$fifo"
	rm -f "$fifo"
}

# release : lets the last holder finish normally (EOF on its stdin).
release() {
	exec 9>&-
	wait "$HOLDER" 2>/dev/null
}

# wait_nattch NAME N : waits (up to 5 s) until stat NAME shows nattch N.
wait_nattch() {
	local n
	for _ in $(seq 1 100); do
		n=$("$SHMKIT" stat "$1" --json 2>/dev/null |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["nattch"])' 2>/dev/null)
		[ "$n" = "$2" ] && return 0
		sleep 0.05
	done
	fail "nattch of $1 never became $2 (last: ${n:-?})"
	return 1
}

# kill_holder : kills the last holder as a crash would (SIGKILL).
kill_holder() {
	kill -9 "$HOLDER" 2>/dev/null
	wait "$HOLDER" 2>/dev/null
	exec 9>&-
}
