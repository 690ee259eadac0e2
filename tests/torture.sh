#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make torture`: the kill -9 suites, round after round, each round with
# seeds of its own, until TORTURE_KILLS kills are made (default 50000).
#
#   unit/test_region_create_crash  creators of posix, file and sysv regions
#   unit/test_peers                processes attaching and detaching (kill_*)
#   unit/test_lock_crash           holders and waiters of the mutex and the rwlock
#   unit/test_chan_spsc_crash      SPSC channel writers, readers and both
#   unit/test_sem_event_crash      semaphore waiters and posters, event waiters
#                                  (plain and under a mutex) and wakers
#   unit/test_chan_mpsc_crash      MPSC writers, several at once, some holding a claim
#   unit/test_chan_bcast_crash     broadcast subscribers and the writer, backpressure
#                                  and overwrite
#
# Every suite checks its own invariants after each kill and at the end
# (nothing committed lost or duplicated, order kept, every wait bounded,
# locks recovered, counts explained); this script adds that no segment is
# left behind in /dev/shm or System V.  A failure stops the run and prints
# the round's seed: TORTURE_SEED=<seed> TORTURE_KILLS=1 repeats the round.
# The last line sums it up: "torture: N kills in R rounds, M failed".
set -u
B=${B:-build}
KILLS=${TORTURE_KILLS:-50000}
SEED=${TORTURE_SEED:-$(( $(date +%s) * 1000 % 1000000007 ))}
SUITE_TIMEOUT=${TORTURE_SUITE_TIMEOUT:-900}
export B

suites=(test_region_create_crash test_peers test_lock_crash test_chan_spsc_crash
	test_sem_event_crash test_chan_mpsc_crash test_chan_bcast_crash)
for s in "${suites[@]}"; do
	[ -x "$B/tests/$s" ] || { echo "torture: $B/tests/$s is not built (make tests-build)" >&2; exit 2; }
done
case $KILLS in ''|*[!0-9]*) echo "torture: TORTURE_KILLS must be a number" >&2; exit 2 ;; esac

log_dir=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-torture.XXXXXX")
trap 'rm -rf "$log_dir"' EXIT

# Segments of the suites: posix names ut-*, hidden temporaries, System V
# keys 0x5b...... (tests/unit/util.h).
leftovers() {
	local posix sysv
	posix=$(ls -a /dev/shm 2>/dev/null | grep -c '^ut-\|^\.shmkit-tmp')
	sysv=$(ipcs -m 2>/dev/null | grep -c '^0x5b')
	echo $((posix + sysv))
}
declare -A per_suite
total=0 rounds=0 failed=0
shm_before=$(leftovers)
start=$EPOCHSECONDS
echo "torture: $KILLS kills or more, first seed $SEED ($B)"
while [ "$total" -lt "$KILLS" ] && [ $failed -eq 0 ]; do
	seed=$((SEED + rounds))
	rounds=$((rounds + 1))
	round_kills=0
	for s in "${suites[@]}"; do
		args=(--jobs=1 --short-filename --verbose)
		[ "$s" = test_peers ] && args+=(--filter 'peers/kill*')
		log="$log_dir/$s.log"
		SHMKIT_TEST_SEED=$seed timeout -k 10 "$SUITE_TIMEOUT" "$B/tests/$s" "${args[@]}" \
			>"$log" 2>&1
		rc=$?
		k=$(grep -oE ': [0-9]+ kills' "$log" | awk '{ s += $2 } END { print s + 0 }')
		per_suite[$s]=$(( ${per_suite[$s]:-0} + k ))
		round_kills=$((round_kills + k))
		if [ $rc -ne 0 ] || [ "$k" -eq 0 ]; then
			failed=$((failed + 1))
			keep="$B/torture-$s-$seed.log"
			cp "$log" "$keep"
			echo "torture: FAIL $s, round $rounds, seed $seed (exit $rc, log in $keep)"
			grep -v '^\[RUN \]\|^\[PASS\]' "$log" | tail -n 40 | sed 's/^/      | /'
			echo "      repeat: SHMKIT_TEST_SEED=$seed $B/tests/$s ${args[*]}"
			break
		fi
	done
	total=$((total + round_kills))
	printf 'round %3d  seed %-12s %6d kills  (%d so far, %d s)\n' \
		"$rounds" "$seed" "$round_kills" "$total" $((EPOCHSECONDS - start))
done

shm_after=$(leftovers)
if [ $failed -eq 0 ] && [ "$shm_after" -gt "$shm_before" ]; then
	echo "torture: FAIL $((shm_after - shm_before)) segments left behind:"
	ls -a /dev/shm | grep '^ut-\|^\.shmkit-tmp' | head
	ipcs -m | grep '^0x5b' | head
	failed=$((failed + 1))
fi
echo
for s in "${suites[@]}"; do
	printf '  %-26s %8d kills\n' "$s" "${per_suite[$s]:-0}"
done
echo "torture: $total kills in $rounds rounds, $failed failed"
[ $failed -eq 0 ]
