#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Interoperability with code that knows nothing of shmkit: a --raw POSIX
# region and Python's multiprocessing.shared_memory (plain shm_open + mmap),
# both ways; System V segments seen and removed by ipcs/ipcrm, a segment
# made by ipcmk, and raw System V data read by plain shmget/shmat code.
set -u
. tests/cli/lib.sh

command -v python3 >/dev/null || skip "python3 is missing"
python3 -c 'from multiprocessing import shared_memory' 2>/dev/null ||
	skip "python3 has no multiprocessing.shared_memory"

# py_shm NAME MODE FILE : MODE read -> FILE gets the object's bytes;
# MODE write -> the object's first bytes become FILE's; MODE create -> a new
# object of FILE's size holding FILE.  The resource tracker is told to
# forget the object, so Python's exit does not unlink it.
py_shm() {
	python3 - "$@" <<'EOF'
import sys
from multiprocessing import shared_memory, resource_tracker
name, mode, path = sys.argv[1:4]
if mode == "create":
    data = open(path, "rb").read()
    shm = shared_memory.SharedMemory(name=name, create=True, size=len(data))
else:
    shm = shared_memory.SharedMemory(name=name, create=False)
resource_tracker.unregister(shm._name, "shared_memory")
if mode == "read":
    open(path, "wb").write(bytes(shm.buf[:shm.size]))
elif mode in ("write", "create"):
    data = open(path, "rb").read()
    shm.buf[:len(data)] = data
shm.close()
EOF
}

# --- shmkit --raw -> Python ------------------------------------------------------
R=${P}raw
expect_exit 0 "$SHMKIT" create "$R" --size 8K --raw
head -c 8192 /dev/urandom >"$T/a"
expect_exit 0 "$SHMKIT" write "$R" --raw <"$T/a"
py_shm "$R" read "$T/py" || fail "python could not open $R"
cmp -s "$T/py" "$T/a" || fail "python does not see shmkit's raw data at offset 0"

# --- Python -> shmkit ----------------------------------------------------------------
head -c 100 /dev/urandom >"$T/b"
py_shm "$R" write "$T/b" || fail "python could not write $R"
expect_exit 0 "$SHMKIT" read "$R" --raw --length 100
cmp -s "$T/out" "$T/b" || fail "shmkit does not see python's bytes"
expect_exit 0 "$SHMKIT" read "$R" --raw --offset 100
tail -c +101 "$T/a" | cmp -s - "$T/out" || fail "python's write disturbed the rest"

# an object Python created is a foreign object to shmkit: raw works, stat tells
PY=${P}py
head -c 3000 /dev/urandom >"$T/c"
py_shm "$PY" create "$T/c" || fail "python could not create $PY"
[ -f "/dev/shm/$PY" ] || fail "python's object is not /dev/shm/$PY"
expect_exit 0 "$SHMKIT" stat "$PY"
expect_eq "$(stat_field managed)" no "python's object: managed"
SIZE=$(stat_field size)
expect_exit 0 "$SHMKIT" read "$PY" --raw --length 3000
cmp -s "$T/out" "$T/c" || fail "shmkit --raw read of python's object"
expect_exit 1 "$SHMKIT" read "$PY" && expect_stderr_contains "not a shmkit segment"
case $SIZE in
'' | *[!0-9]*) fail "size of python's object: '$SIZE'" ;;
esac
expect_exit 0 "$SHMKIT" rm "$PY"
[ -e "/dev/shm/$PY" ] && fail "rm of python's object"

# --- System V: ipcs sees shmkit's segments, ipcrm removes them -------------------
if ! command -v ipcs >/dev/null || ! command -v ipcrm >/dev/null; then
	skip "ipcs/ipcrm are missing"
fi
new_key K
expect_exit 0 "$SHMKIT" create "sysv:$K" --size 4K
expect_exit 0 "$SHMKIT" stat "sysv:$K"
SHMID=$(stat_field shmid)
ipcs -m | grep -Eq "^$K +$SHMID " || fail "ipcs -m does not list key $K shmid $SHMID: $(ipcs -m)"
ipcrm -M "$K" || fail "ipcrm -M $K"
expect_exit 1 "$SHMKIT" stat "sysv:$K" && expect_stderr_contains "shmkit: stat sysv:$K: no such segment"

# --- a raw segment made by ipcmk -------------------------------------------------
if command -v ipcmk >/dev/null; then
	MK=$(ipcmk -M 4096 -p 0600 2>/dev/null | sed -n 's/^Shared memory id: *//p')
	if [ -n "$MK" ]; then
		MDEC=$(awk -v id="$MK" 'NR > 1 && $2 == id { print $1 }' /proc/sysvipc/shm)
		MKEY=$(printf '0x%08x' $((MDEC & 0xffffffff)))  # /proc shows it signed
		KEYS+=("$MKEY")
		head -c 4096 /dev/urandom >"$T/d"
		expect_exit 0 "$SHMKIT" stat "sysv:$MKEY"
		expect_eq "$(stat_field managed)" no "ipcmk segment: managed"
		expect_eq "$(stat_field shmid)" "$MK" "ipcmk segment: shmid"
		expect_exit 0 "$SHMKIT" write "sysv:$MKEY" --raw <"$T/d"
		expect_exit 0 "$SHMKIT" read "sysv:$MKEY" --raw
		cmp -s "$T/out" "$T/d" || fail "round trip through the ipcmk segment"
		# plain shmget + shmat sees the data at offset 0
		python3 - "$MDEC" "$T/e" <<'EOF' || fail "plain shmat of the ipcmk segment"
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
shmid = libc.shmget(int(sys.argv[1]), 0, 0)
assert shmid >= 0, ctypes.get_errno()
addr = libc.shmat(shmid, None, 0o10000)  # SHM_RDONLY
assert addr not in (None, ctypes.c_void_p(-1).value), ctypes.get_errno()
open(sys.argv[2], "wb").write(ctypes.string_at(addr, 4096))
libc.shmdt(ctypes.c_void_p(addr))
EOF
		cmp -s "$T/e" "$T/d" || fail "plain shmat does not see shmkit's bytes at offset 0"
		ipcrm -m "$MK" || fail "ipcrm -m $MK"
	else
		echo "note: $TEST_NAME: ipcmk -M failed; its part was not run"
	fi
fi

finish
