#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test: the Criterion suites in $B/tests/test_* and the shell
# tests in tests/cli/test_*.sh, each under a timeout.  A shell test exits 0
# (pass), 77 (skip, with its reason on stdout) or anything else (fail).
# Ends with one summary line: "N passed, N failed, N skipped".
# TEST_FILTER (a glob such as 'cli/test_st*') picks tests by name.
set -u
B=${B:-build}
export B SHMKIT=${SHMKIT:-$B/shmkit}
# per test: 300 s, or 1200 s under VALGRIND=1 (test_security takes ~210 s there)
TIMEOUT=${TEST_TIMEOUT:-300}
[ "${VALGRIND:-0}" = 1 ] && TIMEOUT=${TEST_TIMEOUT:-1200}
pass=0 fail=0 skip=0
failed=()
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-tests.XXXXXX")
trap 'rm -rf "$log_dir"' EXIT

# VALGRIND=1: the CLI tests run every shmkit command under memcheck (through
# a wrapper that takes the place of $SHMKIT); a command with an error or a
# definite leak fails its test, whatever the test itself saw.  The Criterion
# suites are left to the plain run.
vg_dir=
if [ "${VALGRIND:-0}" = 1 ]; then
	command -v valgrind >/dev/null || { echo "VALGRIND=1: valgrind is not installed" >&2; exit 1; }
	vg_dir=$log_dir/valgrind
	mkdir -p "$vg_dir/logs"
	real=$(realpath "$SHMKIT")
	vg_opts="-q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite"
	cat >"$vg_dir/shmkit" <<-EOF
	#!/bin/sh
	exec $(command -v valgrind) $vg_opts --log-file="$vg_dir/logs/%p.log" "$real" "\$@"
	EOF
	chmod +x "$vg_dir/shmkit"
	SHMKIT=$vg_dir/shmkit
	# commands run tens of times slower: lib.sh's run waits longer
	# for a test that must build a wrapper of its own (test_security)
	export SHMKIT SHMKIT_RUN_TIMEOUT=${SHMKIT_RUN_TIMEOUT:-300} SHMKIT_VALGRIND=1 \
		SHMKIT_UNWRAPPED=$real SHMKIT_VALGRIND_OPTS="$vg_opts"
fi

# Under VALGRIND=1, a test whose commands memcheck found fault with fails.
# Valgrind 3.19 (Debian 12) does not know pidfd_open (syscall 434): it
# answers ENOSYS, which the library's timer fallback handles, and says so
# in a five-line warning that is valgrind's limit, not a fault of ours.
valgrind_verdict() {
	local name=$1 f bad=0
	for f in "$vg_dir"/logs/*.log; do
		sed -i -e '/WARNING: unhandled amd64-linux syscall: 434$/,+4d' "$f"
		[ -s "$f" ] || continue
		bad=1
		sed 's/^/      | /' "$f" | head -n 40
	done
	rm -f "$vg_dir"/logs/*.log
	return $bad
}

run_one() {
	local name=$1; shift
	# TEST_FILTER='cli/test_stat*' runs only the tests whose names match
	# shellcheck disable=SC2053
	[[ -z ${TEST_FILTER:-} || $name == $TEST_FILTER ]] || return 0
	local log="$log_dir/$(basename "$name").log" start end rc
	start=$EPOCHREALTIME
	timeout -k 10 "$TIMEOUT" "$@" >"$log" 2>&1
	rc=$?
	end=$EPOCHREALTIME
	local secs
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	case $rc in
	0)  pass=$((pass + 1)); printf 'PASS  %-40s %6ss\n' "$name" "$secs"
	    # a Criterion suite may skip single tests: show them and why
	    grep -h '^\[SKIP\]' "$log" | sed 's/^/      /' ;;
	77) skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" "$(tail -n 1 "$log")" ;;
	124|137) fail=$((fail + 1)); failed+=("$name"); printf 'FAIL  %-40s timed out after %ss\n' "$name" "$TIMEOUT"; sed 's/^/      | /' "$log" | tail -n 40 ;;
	*)  fail=$((fail + 1)); failed+=("$name"); printf 'FAIL  %-40s exit %d\n' "$name" "$rc"; sed 's/^/      | /' "$log" | tail -n 60 ;;
	esac
	if [ -n "$vg_dir" ] && ! valgrind_verdict "$name"; then
		case $rc in
		0) pass=$((pass - 1)) ;;
		77) skip=$((skip - 1)) ;;
		*) return ;;  # counted as failed already
		esac
		fail=$((fail + 1)); failed+=("$name")
		printf 'FAIL  %-40s memcheck found errors (above)\n' "$name"
	fi
}

for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	case $t in *.d) continue ;; esac
	if [ -n "$vg_dir" ]; then
		skip=$((skip + 1))
		printf 'SKIP  %-40s %s\n' "unit/$(basename "$t")" "VALGRIND=1 runs the CLI tests only"
		continue
	fi
	case ${SAN:-} in
	*thread*)
		# Criterion's process arena cannot be set up under TSan
		# (upstream Criterion issue 274): the CLI tests carry TSan here.
		skip=$((skip + 1))
		printf 'SKIP  %-40s %s\n' "unit/$(basename "$t")" \
			"Criterion cannot start under -fsanitize=thread"
		continue ;;
	esac
	run_one "unit/$(basename "$t")" "$t" --jobs=1 --short-filename --verbose
done
for t in tests/cli/test_*.sh; do
	[ -f "$t" ] || continue
	run_one "cli/$(basename "$t" .sh)" bash "$t"
done

echo
[ $fail -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
