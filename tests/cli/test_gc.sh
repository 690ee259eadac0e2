#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shmkit gc: removes managed segments with no live peer, keeps segments with
# a live peer and everything that is not shmkit's; --dry-run removes nothing.
#
# gc acts on every segment of the machine, so a real gc would also reap the
# segments of other tests running at the same time.  The test therefore runs
# in its own IPC and mount namespaces, with a private tmpfs on /dev/shm,
# where it can expect exact results.  Without namespaces only the harmless
# --dry-run part runs.
set -u

if [ "${1:-}" != --isolated ]; then
	# shellcheck disable=SC2016 # expanded by the inner sh
	inner='mount -t tmpfs -o size=64m,mode=1777 shmkit-test /dev/shm || exit 111
exec bash "$0" --isolated'
	for how in "" "--user --map-root-user"; do
		# shellcheck disable=SC2086
		unshare $how --ipc --mount true 2>/dev/null || continue
		# shellcheck disable=SC2086
		unshare $how --ipc --mount sh -c "$inner" "$0"
		rc=$?
		[ "$rc" -eq 111 ] && continue  # no tmpfs here: try the next way
		exit "$rc"
	done
fi
. tests/cli/lib.sh
ISOLATED=0
[ "${1:-}" = --isolated ] && ISOLATED=1

DEAD=${P}dead          # managed, never had a peer after create
CRASHED=${P}crashed    # managed, its peer was killed
LIVE=${P}live          # managed, a live peer
RAW=${P}raw            # --raw: not shmkit's
FOREIGN=${P}foreign    # made by someone else
CORRUPT=${P}corrupt    # damaged header
new_key KD
new_key KL
new_key KR
SD=$(printf 'sysv:0x%08x' "$KD")
SL=$(printf 'sysv:0x%08x' "$KL")
SR=$(printf 'sysv:0x%08x' "$KR")

expect_exit 0 "$SHMKIT" create "$DEAD" --size 4K
expect_exit 0 "$SHMKIT" create "$CRASHED" --size 4K
expect_exit 0 "$SHMKIT" create "$LIVE" --size 4K
expect_exit 0 "$SHMKIT" create "$RAW" --size 4K --raw
head -c 4096 /dev/zero >"/dev/shm/$FOREIGN"
expect_exit 0 "$SHMKIT" create "$CORRUPT" --size 4K
printf '\377\377' | dd of="/dev/shm/$CORRUPT" bs=1 seek=16 conv=notrunc status=none
expect_exit 0 "$SHMKIT" create "$SD" --size 4K
expect_exit 0 "$SHMKIT" create "$SL" --size 4K
expect_exit 0 "$SHMKIT" create "$SR" --size 4K --raw
expect_exit 0 "$SHMKIT" create "file:$T/file" --size 4K

hold "$CRASHED"
wait_nattch "$CRASHED" 1
kill_holder
hold "$SL"
wait_nattch "$SL" 1
SL_HOLDER=$HOLDER
exec 8>&9    # keep its stdin open while the next holder takes fd 9
hold "$LIVE"
wait_nattch "$LIVE" 1

KEEP=("$LIVE" "$RAW" "$FOREIGN" "$CORRUPT" "$SL" "$SR")
GO=("$CRASHED" "$DEAD" "$SD")

exists() {
	case $1 in
	sysv:*) "$SHMKIT" stat "$1" >/dev/null 2>&1 ;;
	*) [ -f "/dev/shm/$1" ] ;;
	esac
}

# --- dry run ------------------------------------------------------------------------
expect_exit 0 "$SHMKIT" gc --dry-run
for n in "${GO[@]}"; do
	printf '%s\n' "$OUT" | grep -qx "would remove $n" || fail "gc --dry-run does not propose $n: $OUT"
done
for n in "${KEEP[@]}" "file:$T/file"; do
	printf '%s\n' "$OUT" | grep -q "would remove $n\$" && fail "gc --dry-run proposes $n"
done
expect_stdout_lacks "removed $DEAD"
for n in "${GO[@]}" "${KEEP[@]}"; do
	exists "$n" || fail "gc --dry-run removed $n"
done
if [ "$ISOLATED" -eq 1 ]; then
	expect_eq "$(printf '%s\n' "$OUT" | tail -n 1)" "gc: 3 would be removed" "gc --dry-run summary"
else
	printf '%s\n' "$OUT" | tail -n 1 | grep -Eq '^gc: [0-9]+ would be removed$' ||
		fail "gc --dry-run summary: $OUT"
fi

if [ "$ISOLATED" -eq 0 ]; then
	echo "note: $TEST_NAME: no private IPC/mount namespace (unshare); the real gc was not run"
	finish
fi

# --- the real thing ---------------------------------------------------------------
expect_exit 0 "$SHMKIT" gc
for n in "${GO[@]}"; do
	printf '%s\n' "$OUT" | grep -qx "removed $n" || fail "gc did not report removing $n: $OUT"
	exists "$n" && fail "gc left $n"
done
expect_eq "$(printf '%s\n' "$OUT" | tail -n 1)" "gc: 3 removed" "gc summary"
for n in "${KEEP[@]}"; do
	run "$SHMKIT" stat "$n"
	[ "$RC" -eq 0 ] || [ "$n" = "$CORRUPT" ] || fail "gc removed $n"
done
[ -f "/dev/shm/$CORRUPT" ] || fail "gc removed the corrupt $CORRUPT"
[ -f "/dev/shm/$FOREIGN" ] || fail "gc removed the foreign $FOREIGN"
[ -f "$T/file" ] || fail "gc removed a file: region"

# nothing left to do: a second gc removes nothing
expect_exit 0 "$SHMKIT" gc
expect_eq "$OUT" "gc: 0 removed" "second gc"

# once the peers are gone, their segments go too
release              # LIVE's holder ends cleanly
kill -9 "$SL_HOLDER" 2>/dev/null
wait "$SL_HOLDER" 2>/dev/null
exec 8>&-
wait_nattch "$SL" 0
expect_exit 0 "$SHMKIT" gc
expect_eq "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "gc: 2 removed" "removed $LIVE" "removed $SL" | sort | tr '\n' ' ')" \
	"gc after the peers left"
for n in "$RAW" "$FOREIGN" "$SR"; do
	exists "$n" || fail "gc removed $n"
done

finish
