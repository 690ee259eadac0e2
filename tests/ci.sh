#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make ci`: what CI runs, stage after stage, each in its own build
# directory; a stage that fails does not stop the ones after it.
#
#   test       make test: every suite, the fuzz corpus replay, the model check
#   asan       make test SAN=address,undefined
#   tsan       make test SAN=thread (the CLI tests and the threaded check)
#   valgrind   make test VALGRIND=1 (every CLI command under memcheck)
#   torture    make torture TORTURE_KILLS=$CI_TORTURE_KILLS (default 10000)
#
# CI_STAGES="test asan" runs a subset.  The last line sums the stages up.
set -u
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
STAGES=${CI_STAGES:-test asan tsan valgrind torture}
KILLS=${CI_TORTURE_KILLS:-10000}

declare -A cmd=(
	[test]="test"
	[asan]="test SAN=address,undefined"
	[tsan]="test SAN=thread"
	[valgrind]="test VALGRIND=1"
	[torture]="torture TORTURE_KILLS=$KILLS"
)
passed=() failed=() summary=()
for st in $STAGES; do
	[ -n "${cmd[$st]:-}" ] || { echo "ci: unknown stage '$st'" >&2; exit 2; }
	echo "=== ci: $st: $MAKE ${cmd[$st]}"
	start=$EPOCHSECONDS
	log=$(mktemp)
	# shellcheck disable=SC2086
	$MAKE --no-print-directory ${cmd[$st]} 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# each stage's own closing line
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed|^torture: ' "$log" | tail -n 1)
	rm -f "$log"
	secs=$((EPOCHSECONDS - start))
	if [ "$rc" -eq 0 ]; then
		passed+=("$st")
	else
		failed+=("$st")
	fi
	summary+=("$(printf '%-9s %-4s %4ss  %s' "$st" "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)" "$secs" "${last:-no summary line}")")
done
echo
echo "=== ci: summary"
printf '  %s\n' "${summary[@]}"
[ ${#failed[@]} -eq 0 ] || echo "ci: failed stages: ${failed[*]}"
echo "ci: ${#passed[@]} stages passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
