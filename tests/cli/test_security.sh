#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Permissions and the namespace (issue #7):
#   1. segments are created 0600, or exactly the --mode asked, on every
#      backend and kind, whatever the umask (000 or 077);
#   2. as root: a root segment of mode 0600 is refused to the user nobody
#      (exit 1, a permission message; the library says -EACCES), and 0644 /
#      0666 give nobody what the mode allows and no more;
#   3. names that could leave /dev/shm are refused by every command and
#      create nothing anywhere;
#   4. a symbolic link as the last component of a name is never followed
#      (create, open, stat, rm), also while a loop swaps it with a real
#      segment; a FIFO in a segment's place is refused without blocking;
#   5. rm and gc remove nothing that is not theirs to remove.
# Needs root for 2 and 5 (it drops to nobody with setpriv); without root the
# rest runs and the test then skips, saying so.
set -u
. tests/cli/lib.sh

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
VICTIM_TEXT='root:x:0:0:victim:/root:/bin/sh'

# A directory everyone may enter but only root may write, holding copies of
# the CLI and the library: the build tree may be out of nobody's reach.
PUB=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-sec.XXXXXX") || exit 1
SWAPPER=
sec_cleanup() {
	if [ -n "$SWAPPER" ]; then
		kill "$SWAPPER" 2>/dev/null
		wait "$SWAPPER" 2>/dev/null
	fi
	rm -rf "$PUB"
	lib_cleanup
}
trap sec_cleanup EXIT
chmod 0755 "$PUB"
if [ "${SHMKIT_VALGRIND:-0}" = 1 ]; then
	# VALGRIND=1: a wrapper of our own, whose logs nobody can write too
	cp "$SHMKIT_UNWRAPPED" "$PUB/shmkit.bin" && chmod 0755 "$PUB/shmkit.bin" || exit 1
	mkdir -m 1777 "$PUB/vg" || exit 1
	printf '#!/bin/sh\nexec %s %s --log-file=%s/vg/%%p.log %s/shmkit.bin "$@"\n' \
		"$(command -v valgrind)" "$SHMKIT_VALGRIND_OPTS" "$PUB" "$PUB" >"$PUB/shmkit"
	chmod 0755 "$PUB/shmkit"
else
	cp "$SHMKIT" "$PUB/shmkit" && chmod 0755 "$PUB/shmkit" || exit 1
fi
# the library's own answers come from tests/helpers/lib_call (a copy
# nobody can run), built like everything else (SAN= and VALGRIND=1 too)
HAVE_LIB=0
if [ -x "$B/tests/helpers/lib_call" ]; then
	cp "$B/tests/helpers/lib_call" "$PUB/lib_call" && chmod 0755 "$PUB/lib_call" && HAVE_LIB=1
fi
S=$PUB/shmkit
RDONLY=4 CREATE=1

# feed TEXT : the next command's stdin (use: feed TEXT; expect_exit ... <"$IN").
IN=$T/in
feed() {
	printf '%s\n' "$1" >"$IN"
}

# umask_run MASK CMD... : run CMD under umask MASK.
umask_run() {
	local old
	old=$(umask)
	umask "$1"
	shift
	run "$@"
	umask "$old"
}

# mode_of NAME : the permission bits the system itself reports for NAME.
mode_of() {
	case $1 in
	sysv:*)
		awk -v k="$((${1#sysv:}))" \
			'NR > 1 && $1 == k { print substr($3, length($3) - 2) }' /proc/sysvipc/shm ;;
	file:*) stat -c %a "${1#file:}" ;;
	posix:*) stat -c %a "/dev/shm/${1#posix:}" ;;
	*) stat -c %a "/dev/shm/$1" ;;
	esac
}

# create_mode UMASK NAME MODE WANT [OPTS...] : create NAME under UMASK with
# --mode MODE ("" for the default) and check the mode is exactly WANT.
create_mode() {
	local um=$1 name=$2 mode=$3 want=$4
	shift 4
	if [ -n "$mode" ]; then
		umask_run "$um" "$S" create "$name" "$@" --mode "$mode"
	else
		umask_run "$um" "$S" create "$name" "$@"
	fi
	track "$name"
	[ "$RC" -eq 0 ] || { fail "umask $um: create $name $* ${mode:+--mode $mode}: $ERR"; return; }
	expect_eq "$(mode_of "$name")" "$want" "umask $um: mode of $name $* ${mode:+--mode $mode}"
	run "$S" stat "$name"
	expect_eq "$(stat_field mode)" "0$want" "umask $um: shmkit stat's mode of $name"
}

# --- 1. modes, whatever the umask ------------------------------------------------
for um in 000 077; do
	new_key ka
	new_key kb
	new_key kc
	new_key kd
	for name in "${P}m$um" "file:$PUB/m$um"; do
		create_mode "$um" "${name}d" "" 600 --size 4K
		create_mode "$um" "${name}a" 0640 640 --size 4K
		create_mode "$um" "${name}b" 0604 604 --size 4K
		create_mode "$um" "${name}r" "" 600 --size 4K --raw
		create_mode "$um" "${name}s" 0660 660 --size 4K --raw
		create_mode "$um" "${name}c" "" 600 --channel spsc --capacity 4K
		create_mode "$um" "${name}e" 0644 644 --channel spsc --capacity 4K
	done
	create_mode "$um" "sysv:$ka" "" 600 --size 4K
	create_mode "$um" "sysv:$kb" 0640 640 --size 4K --raw
	create_mode "$um" "sysv:$kc" "" 600 --channel spsc --capacity 4K
	# channels made on the fly by send/recv --create, named semaphores
	feed hi
	umask_run "$um" "$S" send "${P}snd$um" --create <"$IN"
	expect_eq "$(mode_of "${P}snd$um")" 600 "umask $um: send --create"
	umask_run "$um" "$S" recv "${P}rcv$um" --create --timeout 1
	expect_eq "$(mode_of "${P}rcv$um")" 600 "umask $um: recv --create"
	if [ "$HAVE_LIB" -eq 1 ]; then
		umask_run "$um" "$PUB/lib_call" sem "${P}sem$um" $CREATE 0
		expect_eq "$OUT" 0 "umask $um: shmkit_sem_open"
		expect_eq "$(mode_of "${P}sem$um")" 600 "umask $um: named semaphore"
		umask_run "$um" "$PUB/lib_call" sem "sysv:$kd" $CREATE 0
		expect_eq "$OUT" 0 "umask $um: shmkit_sem_open on System V"
		expect_eq "$(mode_of "sysv:$kd")" 600 "umask $um: System V named semaphore"
		umask_run "$um" "$PUB/lib_call" sem "${P}sem6$um" $CREATE 0640
		expect_eq "$(mode_of "${P}sem6$um")" 640 "umask $um: named semaphore mode 0640"
		umask_run "$um" "$PUB/lib_call" create "file:$PUB/lib$um" 0
		expect_eq "$(mode_of "file:$PUB/lib$um")" 600 "umask $um: library mode 0 on file:"
		track "file:$PUB/lib$um"
	fi
done

# --- 3. names that could leave /dev/shm --------------------------------------------
# (tests/cli/test_badinput.sh has a/b, ., .., empty, too long, posix:a/b for
# create/stat/read/write/rm; here: the escapes, control characters, and the
# commands that create on the fly)
mkdir "$T/cwd"
LONG=$(printf 'n%.0s' $(seq 1 256))
for name in "../${P}esc" "posix:../${P}esc" "/${P}esc" "posix:/${P}esc" "${P}d/x" "posix:.." \
	"posix:." "./${P}esc" "${P}esc/" "${P}e"$'\n'"sc" "${P}e"$'\t'"sc" "${P}e"$'\001'"sc" \
	"${P}e"$'\177'"sc" "${P}e sc" "posix:$LONG" "$LONG"; do
	for cmd in "create --size 4K" "create --size 4K --raw" "create --channel spsc --capacity 4K" \
		"recv --create --timeout 1" "rm" "stat" "read"; do
		# shellcheck disable=SC2086
		(cd "$T/cwd" && exec timeout "${SHMKIT_RUN_TIMEOUT:-20}" "$S" $cmd "$name") >"$T/out" 2>"$T/err" </dev/null
		RC=$? ERR=$(cat "$T/err")
		[ "$RC" -eq 2 ] || fail "'$cmd' of a bad name ($(printf %q "$name")) exited $RC: $ERR"
		expect_stderr_contains "invalid name"
	done
	(cd "$T/cwd" && echo x | exec timeout "${SHMKIT_RUN_TIMEOUT:-20}" "$S" send --create "$name") >/dev/null 2>"$T/err"
	RC=$?
	[ "$RC" -eq 2 ] || fail "send --create of $(printf %q "$name") exited $RC"
	(cd "$T/cwd" && echo x | exec timeout "${SHMKIT_RUN_TIMEOUT:-20}" "$S" write "$name") >/dev/null 2>"$T/err"
	RC=$?
	[ "$RC" -eq 2 ] || fail "write of $(printf %q "$name") exited $RC"
done
for f in "/dev/${P}esc" "/${P}esc" "$T/${P}esc" "/dev/shm/${P}d"; do
	[ -e "$f" ] && fail "a refused name made $f"
done
[ -z "$(ls -A "$T/cwd")" ] || fail "a refused name made something in the working directory: $(ls -A "$T/cwd")"
compgen -G "/dev/shm/${P}e*" >/dev/null && fail "a refused name made something in /dev/shm"
# a valid name never leaves /dev/shm, whatever the working directory
(cd "$T/cwd" && exec "$S" create "${P}here" --size 4K) >/dev/null 2>&1 || fail "create ${P}here"
[ -f "/dev/shm/${P}here" ] || fail "${P}here is not in /dev/shm"
[ -z "$(ls -A "$T/cwd")" ] || fail "create of a POSIX name wrote in the working directory"

# --- 4. symbolic links and FIFOs at the last component ------------------------------
printf '%s\n' "$VICTIM_TEXT" >"$T/victim"
chmod 0644 "$T/victim"
cp -p "$T/victim" "$T/victim.orig"
ln -s "$T/victim" "$T/link"
ln -s "$T/victim" "/dev/shm/${P}lnk"
victim_intact() {
	cmp -s "$T/victim" "$T/victim.orig" || fail "$1: the symlink's target was modified"
	expect_eq "$(stat -c %a:%s "$T/victim")" "644:$(stat -c %s "$T/victim.orig")" "$1: target mode and size"
}
for name in "file:$T/link" "${P}lnk"; do
	for cmd in "create --size 4K" "create --size 4K --raw" "create --size 4K --excl" \
		"create --channel spsc --capacity 4K" "stat" "read" "read --raw" \
		"recv --create --timeout 1" "rm"; do
		# shellcheck disable=SC2086
		expect_exit 1 "$S" $cmd "$name" || continue
		case $cmd in
		*--excl*) expect_stderr_contains "File exists" ;;
		*) expect_stderr_contains "refusing a symbolic link" ;;
		esac
	done
	for cmd in "write" "write --raw" "send --create"; do
		# shellcheck disable=SC2086
		feed "CLOBBERED"; expect_exit 1 "$S" $cmd "$name" <"$IN" &&
			expect_stderr_contains "refusing a symbolic link"
	done
	victim_intact "$name"
done
[ -L "$T/link" ] || fail "rm removed the symlink file:$T/link"
[ -L "/dev/shm/${P}lnk" ] || fail "rm removed the symlink /dev/shm/${P}lnk"
# the library says -ELOOP
if [ "$HAVE_LIB" -eq 1 ]; then
	run "$PUB/lib_call" open "file:$T/link" $RDONLY
	expect_eq "$OUT" -40 "shmkit_region_open through a final symlink"
fi
# a directory component may be a symlink: it is resolved as the system does
mkdir "$T/realdir"
ln -s "$T/realdir" "$T/dirlink"
expect_exit 0 "$S" create "file:$T/dirlink/seg" --size 4K
[ -f "$T/realdir/seg" ] || fail "file: through a directory symlink did not land in its target"
expect_exit 0 "$S" rm "file:$T/dirlink/seg"

# a FIFO where a segment should be: refused, and nothing blocks on it
mkfifo "$T/fifo" "/dev/shm/${P}fifo"
for name in "file:$T/fifo" "${P}fifo"; do
	for cmd in "stat" "read" "read --raw" "create --size 4K" "create --size 4K --raw"; do
		# shellcheck disable=SC2086
		expect_exit 1 "$S" $cmd "$name" && expect_stderr_contains "not a regular file"
	done
done
expect_exit 0 "$S" ls
expect_stdout_lacks "${P}fifo"
expect_stdout_lacks "${P}lnk"

# the race: a loop swaps seg between a real (raw) segment and a symlink to
# the victim while the CLI opens, writes, creates and removes it
mkdir "$T/race"
expect_exit 0 "$S" create "file:$T/race/real" --size 4K --raw
feed 'SEGMENT'; expect_exit 0 "$S" write --raw "file:$T/race/real" <"$IN"
cat >"$T/swap.py" <<'EOF'
import os, sys
d, target = sys.argv[1], sys.argv[2]
real, seg, tmp = (os.path.join(d, x) for x in ("real", "seg", ".tmp"))
i = 0
while not os.path.exists(os.path.join(d, "stop")):
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    if i % 2:
        os.symlink(target, tmp)
    else:
        os.link(real, tmp)
    os.rename(tmp, seg)  # seg always exists: one or the other
    i += 1
EOF
ln "$T/race/real" "$T/race/seg"
python3 "$T/swap.py" "$T/race" "$T/victim" &
SWAPPER=$!
ok=0 refused=0
ROUNDS=60
[ "${SHMKIT_VALGRIND:-0}" = 1 ] && ROUNDS=5  # each command is slow there
for _ in $(seq 1 "$ROUNDS"); do
	for cmd in "read --raw --length 7" "write --raw" "stat" "create --size 4K --raw" "read" "rm"; do
		# shellcheck disable=SC2086
		echo "CLOBBERED" | timeout "${SHMKIT_RUN_TIMEOUT:-20}" "$S" $cmd "file:$T/race/seg" >"$T/out" 2>"$T/err"
		RC=$? ERR=$(cat "$T/err")
		case $RC:$cmd:$ERR in
		0:read*)
			grep -q victim "$T/out" && fail "race: '$cmd' read the symlink's target"
			ok=$((ok + 1)) ;;
		0:*) ok=$((ok + 1)) ;;
		1:*"refusing a symbolic link"*) refused=$((refused + 1)) ;;
		1:read:*"not a shmkit segment"*) ok=$((ok + 1)) ;;  # the real one is raw
		1:*"no such segment"*) ;;  # just after an rm, before the next swap
		*) fail "race: '$cmd' exited $RC: $ERR" ;;
		esac
	done
done
: >"$T/race/stop"
wait "$SWAPPER"
SWAPPER=
victim_intact "race"
[ "$(head -c 9 "$T/race/real")" = CLOBBERED ] || fail "race: no write reached the real segment"
echo "race: $ok opens of the segment, $refused refusals of the symlink"

# --- 2 and 5. another user ------------------------------------------------------------
if [ "$IS_ROOT" -ne 1 ]; then
	[ "$FAILS" -ne 0 ] && finish
	skip "not root: checked modes, names, symlinks and FIFOs; the checks as another user need root"
fi
command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
NUID=$(id -u nobody 2>/dev/null) || skip "no user nobody"
NGID=$(id -g nobody)
NB=(setpriv --reuid="$NUID" --regid="$NGID" --clear-groups)
"${NB[@]}" "$S" --version >/dev/null 2>&1 || skip "nobody cannot run $S"
# the library as nobody: the same helper
NB_LIB=0
if [ "$HAVE_LIB" -eq 1 ]; then
	"${NB[@]}" "$PUB/lib_call" >/dev/null 2>&1
	[ $? -eq 2 ] && NB_LIB=1  # its usage error: it ran
fi

# nobody_fails WHY CMD... : as nobody, exit 1 with WHY in the message
nobody_fails() {
	local why=$1
	shift
	expect_exit 1 "${NB[@]}" "$@" && expect_stderr_contains "$why"
}
DENIED="Permission denied (the mode does not grant this user that access)"
NOTPERM="Operation not permitted (only its owner or a privileged user may do that)"

new_key KP600
new_key KP644
new_key KP666
new_key KC600
new_key KC666
for mode in 0600 0644 0666; do
	m=${mode#0}
	kv=KP$m
	for name in "${P}p$m" "sysv:${!kv}" "file:$PUB/f$m"; do
		expect_exit 0 "$S" create "$name" --size 4K --mode "$mode"
		track "$name"
		feed 'root data'; expect_exit 0 "$S" write "$name" <"$IN"
		expect_eq "$(mode_of "$name")" "$m" "mode of $name"
		case $mode in
		0600)
			for cmd in "read" "read --raw" "stat" "stat --json" "create --size 4K" \
				"create --channel spsc --capacity 4K" "recv --timeout 1"; do
				# shellcheck disable=SC2086
				nobody_fails "$DENIED" "$S" $cmd "$name"
			done
			feed 'nobody'; nobody_fails "$DENIED" "$S" write "$name" <"$IN"
			feed 'nobody'; nobody_fails "$DENIED" "$S" send "$name" <"$IN"
			;;
		0644)
			expect_exit 0 "${NB[@]}" "$S" read "$name" --length 9 &&
				expect_eq "$OUT" "root data" "nobody reads $name"
			expect_exit 0 "${NB[@]}" "$S" stat "$name"
			feed 'nobody'; nobody_fails "$DENIED" "$S" write "$name" <"$IN"
			feed 'nobody'; nobody_fails "$DENIED" "$S" write --raw "$name" <"$IN"
			;;
		0666)
			feed 'NOBODY'; expect_exit 0 "${NB[@]}" "$S" write "$name" <"$IN"
			expect_exit 0 "$S" read "$name" --length 6 &&
				expect_eq "$OUT" "NOBODY" "root reads what nobody wrote in $name"
			;;
		esac
		# removing is not the mode's to grant: the owner's, or root's
		case $name in
		file:*) nobody_fails "$DENIED" "$S" rm "$name" ;;
		*) nobody_fails "$NOTPERM" "$S" rm "$name" ;;
		esac
		expect_exit 0 "$S" stat "$name" || fail "nobody's rm removed $name"
		expect_exit 0 "$S" read "$name" --length 4
		[ "$mode" = 0666 ] || expect_eq "$OUT" "root" "$name after nobody's attempts"
		# the library's word for it
		if [ "$NB_LIB" -eq 1 ]; then
			run "${NB[@]}" "$PUB/lib_call" open "$name" 0
			expect_eq "$OUT" "$([ $mode = 0666 ] && echo 0 || echo -13)" "library open of $name $mode by nobody"
			run "${NB[@]}" "$PUB/lib_call" open "$name" $RDONLY
			expect_eq "$OUT" "$([ $mode = 0600 ] && echo -13 || echo 0)" "library read-only open of $name $mode by nobody"
		fi
	done
done
# nobody cannot create in a directory it may not write, and does not follow
# root's symlink in /dev/shm either
nobody_fails "$DENIED" "$S" create "file:$PUB/nobody" --size 4K
[ -e "$PUB/nobody" ] && fail "nobody created in a directory it may not write"

# channels: 0600 is root's alone; 0666 carries nobody's messages
for name in "${P}ch600" "sysv:$KC600"; do
	expect_exit 0 "$S" create "$name" --channel spsc --capacity 4K
	feed "secret"; expect_exit 0 "$S" send "$name" <"$IN"
	nobody_fails "$DENIED" "$S" recv "$name" --timeout 1
	feed "forged"; nobody_fails "$DENIED" "$S" send "$name" <"$IN"
	nobody_fails "$DENIED" "$S" stat "$name"
	expect_exit 0 "$S" recv "$name" --count 1 --timeout 5000 && expect_eq "$OUT" "secret" "$name: root's message"
	track "$name"
done
for name in "${P}ch666" "sysv:$KC666"; do
	expect_exit 0 "$S" create "$name" --channel spsc --capacity 4K --mode 0666
	feed "from nobody"; expect_exit 0 "${NB[@]}" "$S" send "$name" <"$IN"
	expect_exit 0 "$S" recv "$name" --count 1 --timeout 5000 &&
		expect_eq "$OUT" "from nobody" "$name: nobody's message"
	track "$name"
done

# named semaphores: the library refuses nobody root's 0600 one
if [ "$NB_LIB" -eq 1 ]; then
	run "${NB[@]}" "$PUB/lib_call" sem "${P}sem000" 0 0
	expect_eq "$OUT" -13 "nobody opens root's 0600 semaphore"
	run "${NB[@]}" "$PUB/lib_call" sem "${P}sem6000" 0 0
	expect_eq "$OUT" -13 "nobody opens root's 0640 semaphore"
fi

# a symlink nobody plants in /dev/shm aims root's write at a root file
"${NB[@]}" ln -s "$T/victim" "/dev/shm/${P}plant" 2>/dev/null ||
	"${NB[@]}" ln -s /nonexistent-target "/dev/shm/${P}plant"
for cmd in "write --raw" "write" "send --create"; do
	# shellcheck disable=SC2086
	feed "CLOBBERED"; expect_exit 1 "$S" $cmd "${P}plant" <"$IN" &&
		expect_stderr_contains "refusing a symbolic link"
done
expect_exit 1 "$S" create "${P}plant" --size 4K --raw
victim_intact "symlink planted by nobody"

# gc as nobody: root's idle segments stay, whether nobody may read them or not
expect_exit 0 "$S" create "${P}gc600" --size 4K
expect_exit 0 "$S" create "${P}gc644" --size 4K --mode 0644
run "${NB[@]}" "$S" gc
[ "$RC" -eq 1 ] || fail "nobody's gc exited $RC, expected 1: $ERR"
expect_stderr_contains "gc ${P}gc644: Operation not permitted"
expect_stdout_lacks "removed ${P}gc"
[ -f "/dev/shm/${P}gc600" ] || fail "nobody's gc removed ${P}gc600"
[ -f "/dev/shm/${P}gc644" ] || fail "nobody's gc removed ${P}gc644"
expect_exit 0 "${NB[@]}" "$S" gc --dry-run
expect_stdout_lacks "${P}gc600"

if [ -d "$PUB/vg" ]; then
	for f in "$PUB"/vg/*.log; do
		[ -s "$f" ] || continue
		fail "memcheck: $(head -c 2000 "$f")"
	done
fi
finish
