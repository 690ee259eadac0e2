#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shmkit stat shows the sync primitives a segment holds: held or not, the
# owner's PID and whether it lives, values, on posix and sysv, in the human
# form and in --json; and after the holder is killed, its owner as dead.
set -u
. tests/cli/lib.sh

HELPER=$B/tests/helpers/sync_hold
[ -x "$HELPER" ] || fail "missing $HELPER"

check_backend() {
	local name=$1 fifo="$T/ctl.$RANDOM" pid line
	mkfifo "$fifo"
	"$HELPER" "$name" <"$fifo" >"$T/helper.out" 2>"$T/helper.err" &
	local hpid=$!
	HOLDERS+=("$hpid")
	exec 8>"$fifo"
	for _ in $(seq 1 200); do
		grep -q '^ready' "$T/helper.out" && break
		sleep 0.02
	done
	read -r _ pid <"$T/helper.out" || fail "$name: helper never got ready: $(cat "$T/helper.err")"

	expect_exit 0 "$SHMKIT" stat "$name"
	line=$(printf '%s\n' "$OUT" | grep '^  mutex')
	case $line in
	*"@0 "*"locked by pid $pid (alive), 0 waiting, consistent"*) ;;
	*) fail "$name: mutex line: '$line'" ;;
	esac
	line=$(printf '%s\n' "$OUT" | grep '^  sem')
	case $line in *"@64 "*"value 3, 0 waiting"*) ;; *) fail "$name: sem line: '$line'" ;; esac
	line=$(printf '%s\n' "$OUT" | grep '^  rwlock')
	case $line in *"@128 "*"unlocked, 2 read holds"*) ;; *) fail "$name: rwlock line: '$line'" ;; esac
	line=$(printf '%s\n' "$OUT" | grep '^  event')
	case $line in *"@1152 "*"sequence 2, 0 waiting"*) ;; *) fail "$name: event line: '$line'" ;; esac

	expect_exit 0 "$SHMKIT" stat "$name" --json
	json_valid || fail "$name: stat --json is not JSON: $OUT"
	expect_eq "$(json_get '[p["type"] for p in d["sync"]]')" '["mutex", "sem", "rwlock", "event"]' "$name: json types"
	expect_eq "$(json_get 'd["sync"][0]["owner_pid"]')" "$pid" "$name: json owner pid"
	expect_eq "$(json_get 'd["sync"][0]["owner_alive"]')" true "$name: json owner alive"
	expect_eq "$(json_get 'd["sync"][1]["value"]')" 3 "$name: json sem value"

	kill -9 "$hpid"; wait "$hpid" 2>/dev/null
	exec 8>&-
	expect_exit 0 "$SHMKIT" stat "$name"
	line=$(printf '%s\n' "$OUT" | grep '^  mutex')
	case $line in *"locked by pid $pid (dead)"*) ;; *) fail "$name: mutex after kill: '$line'" ;; esac
	line=$(printf '%s\n' "$OUT" | grep '^  rwlock')
	case $line in *"unlocked, 0 read holds"*) ;; *) fail "$name: dead reader's holds still counted: '$line'" ;; esac
	expect_exit 0 "$SHMKIT" stat "$name" --json
	expect_eq "$(json_get 'd["sync"][0]["owner_alive"]')" false "$name: json owner dead"
	rm -f "$fifo"
}

check_backend "${P}sync"
track "${P}sync"
new_key K
check_backend "sysv:$K"

# a segment without primitives says so; a raw one shows no sync line
expect_exit 0 "$SHMKIT" create "${P}plain" --size 4096
expect_exit 0 "$SHMKIT" stat "${P}plain"
expect_eq "$(stat_field sync)" none "sync of a plain region"
expect_exit 0 "$SHMKIT" create "${P}raw" --size 4096 --raw
expect_exit 0 "$SHMKIT" stat "${P}raw"
expect_stdout_lacks "sync:"
finish
