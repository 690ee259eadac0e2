#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shmkit bench: every method runs at the sizes asked and shows in the
# tables; --json is one well-formed document with the schema of
# docs/bench.md (machine, results, skipped, goals); a size a mechanism
# cannot carry is listed as not applicable, not failed; --plot draws a
# PNG or an SVG with gnuplot and says so clearly without it; nothing is
# left in /dev/shm, /dev/mqueue or /tmp; usage errors exit 2.
# Tiny iteration counts (--iterations): this checks the harness, never the
# speed; timing values are only required to be positive numbers.
set -u
. tests/cli/lib.sh

METHODS="floor memcpy pipe fifo unix_stream unix_dgram tcp sysv_mq posix_mq eventfd
	shm_sem futex event pthread_mutex pthread_robust mutex
	chan_spin chan_spin_sleep chan_sleep chan_zc chan_epoll chan_idle mpsc_1w mpsc_2w mpsc_4w
	bcast_1s bcast_2s bcast_4s bcast_8s pipe_2p spsc_2p"

# What a bench left behind: channels and POSIX queues are named
# shmkit-bench-PID-..., FIFOs shmkit-bench-PID-N.fifo; a run that ended
# must have removed all of its own (a live PID may be another run).
leftovers() {
	local f pid
	for f in /dev/shm/shmkit-bench-* /dev/mqueue/shmkit-bench-* \
		"${TMPDIR:-/tmp}"/shmkit-bench-*.fifo; do
		[ -e "$f" ] || continue
		pid=${f##*/shmkit-bench-}
		pid=${pid%%-*}
		kill -0 "$pid" 2>/dev/null || printf '%s\n' "$f"
	done
}

# --- every method at two sizes, with JSON -----------------------------------
expect_exit 0 "$SHMKIT" bench --quick --iterations 60 --sizes 64,64K --json "$T/bench.json"
expect_stdout_contains "machine:"
expect_stdout_contains "medians of 3 trials"
expect_stdout_contains "Round trips: two processes"
expect_stdout_contains "Streams: messages one way"
expect_stdout_contains "Goals (ratios of this run's figures)"
for m in $METHODS; do
	printf '%s\n' "$OUT" | grep -q "^$m " || fail "table lacks method $m: $OUT"
done
# the sizes of the rows: one 64 B and one 64 KiB row per sized method and kind
n64=$(printf '%s\n' "$OUT" | grep -c ' 64 B ')
n64k=$(printf '%s\n' "$OUT" | grep -c ' 64 KiB ')
[ "$n64" -ge 20 ] || fail "only $n64 rows of 64 B"
[ "$n64k" -ge 14 ] || fail "only $n64k rows of 64 KiB"
# a System V message above msgmax is not applicable, and says why
printf '%s\n' "$OUT" | grep -q "sysv_mq round trip, 64 KiB: .*kernel.msgmax" ||
	fail "sysv_mq 64 KiB not listed as not applicable: $OUT"
[ -z "$ERR" ] || fail "a quick run wrote to stderr: $ERR"
left=$(leftovers)
[ -z "$left" ] || fail "left behind: $left"

python3 - "$T/bench.json" $METHODS <<'EOF' || fail "bench --json: see above"
import json, math, sys

def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

def pos(v):
    return num(v) and v > 0

CHAN = {"chan_spin": "spin", "chan_spin_sleep": "spin_sleep", "chan_sleep": "sleep",
        "chan_zc": "spin_sleep", "chan_epoll": "fd", "chan_idle": "spin_sleep",
        "mpsc_1w": "spin_sleep",
        "mpsc_2w": "spin_sleep", "mpsc_4w": "spin_sleep", "bcast_1s": "spin_sleep",
        "bcast_2s": "spin_sleep", "bcast_4s": "spin_sleep", "bcast_8s": "spin_sleep",
        "spsc_2p": "spin_sleep"}
UNSIZED = ("floor", "eventfd", "futex", "event", "pthread_mutex", "pthread_robust",
           "mutex", "chan_idle")
COPIES = {"memcpy": 1, "chan_zc": 0, "chan_spin": 2, "chan_epoll": 2, "pipe": 2, "tcp": 2,
          "shm_sem": 2,
          "mpsc_1w": 2, "mpsc_2w": 2, "mpsc_4w": 2, "bcast_1s": 2, "bcast_8s": 2,
          "pipe_2p": 2, "spsc_2p": 2}

path, want = sys.argv[1], sys.argv[2:]
with open(path) as f:
    d = json.load(f)
bad = []
m = d.get("machine")
if not isinstance(m, dict):
    bad.append("no machine object")
else:
    for k in ("cpu_model", "kernel", "arch"):
        if not isinstance(m.get(k), str) or not m[k]:
            bad.append("machine.%s: %r" % (k, m.get(k)))
    for k in ("cpus_online", "cpus_allowed"):
        if not isinstance(m.get(k), int) or m[k] < 1:
            bad.append("machine.%s: %r" % (k, m.get(k)))
    for k in ("cpu_a", "cpu_b", "share_core", "virtualized", "timer_ns"):
        if k not in m:
            bad.append("machine.%s missing" % k)
res = d.get("results")
if not isinstance(res, list):
    bad.append("no results array")
    res = []
got = set(r.get("method") for r in res)
if got != set(want):
    bad.append("methods %r, expected %r" % (sorted(got), sorted(want)))
cells = set()
for r in res:
    name, kind, size = r.get("method"), r.get("kind"), r.get("size")
    where = "%s/%s/%s" % (name, kind, size)
    if (name, kind, size) in cells:
        bad.append("%s: twice" % where)
    cells.add((name, kind, size))
    for k in ("method", "policy", "size", "kind", "copies", "p50_ns", "p99_ns",
              "p999_ns", "msgs_per_s", "bytes_per_s", "cpu_ns_per_msg",
              "cpu_ns_per_op", "trials", "spread", "ratio", "versus", "sides"):
        if k not in r:
            bad.append("%s: no %s" % (where, k))
    if r.get("policy") != CHAN.get(name):
        bad.append("%s: policy %r" % (where, r.get("policy")))
    if name in UNSIZED:
        if size is not None:
            bad.append("%s: size %r, not null" % (where, size))
    elif size not in (64, 65536):
        bad.append("%s: size %r" % (where, size))
    if name in COPIES and r.get("copies") != COPIES[name]:
        bad.append("%s: copies %r" % (where, r.get("copies")))
    if kind == "throughput":
        for k in ("msgs_per_s", "bytes_per_s"):
            if not pos(r.get(k)):
                bad.append("%s: %s %r" % (where, k, r.get(k)))
        if pos(r.get("msgs_per_s")) and pos(r.get("bytes_per_s")) and \
           abs(r["bytes_per_s"] - size * r["msgs_per_s"]) > 1e-3 * r["bytes_per_s"]:
            bad.append("%s: bytes_per_s is not size x msgs_per_s" % where)
        # getrusage counts microseconds: a tiny run may round to 0
        if not num(r.get("cpu_ns_per_msg")) or r["cpu_ns_per_msg"] < 0:
            bad.append("%s: cpu_ns_per_msg %r" % (where, r.get("cpu_ns_per_msg")))
        for k in ("p50_ns", "p99_ns", "p999_ns"):
            if r.get(k) is not None:
                bad.append("%s: %s %r, not null" % (where, k, r.get(k)))
        sp = r.get("spread")
        if not isinstance(sp, dict) or sp.get("of") != "msgs_per_s" or \
           not (pos(sp.get("min")) and pos(sp.get("max")) and sp["min"] <= sp["max"]):
            bad.append("%s: spread %r" % (where, sp))
        ra = r.get("ratio")
        if not isinstance(ra, dict) or ra.get("to") != "memcpy" or \
           ra.get("of") != "bytes_per_s" or not pos(ra.get("value")):
            bad.append("%s: ratio %r" % (where, ra))
        vs = r.get("versus")
        if not isinstance(vs, dict) or vs.get("to") != "pipe" or not pos(vs.get("value")):
            bad.append("%s: versus %r" % (where, vs))
    elif kind == "latency":
        for k in ("p50_ns", "p99_ns", "p999_ns"):
            if not pos(r.get(k)):
                bad.append("%s: %s %r" % (where, k, r.get(k)))
        if pos(r.get("p50_ns")) and pos(r.get("p999_ns")) and r["p50_ns"] > r["p999_ns"]:
            bad.append("%s: p50 above p99.9" % where)
        for k in ("msgs_per_s", "bytes_per_s"):
            if r.get(k) is not None:
                bad.append("%s: %s %r, not null" % (where, k, r.get(k)))
        ra = r.get("ratio")
        if not isinstance(ra, dict) or ra.get("to") != "floor" or not pos(ra.get("value")):
            bad.append("%s: ratio %r" % (where, ra))
        vs = r.get("versus")
        if size is not None and (not isinstance(vs, dict) or vs.get("to") != "pipe"
                                 or not pos(vs.get("value"))):
            bad.append("%s: versus %r" % (where, vs))
        sides = r.get("sides")
        if not isinstance(sides, list) or len(sides) != 2:
            bad.append("%s: sides %r" % (where, sides))
    elif kind == "cost":
        if not pos(r.get("p50_ns")):
            bad.append("%s: p50_ns %r" % (where, r.get("p50_ns")))
        sides = r.get("sides")
        if not isinstance(sides, list) or len(sides) != 1:
            bad.append("%s: sides %r" % (where, sides))
    else:
        bad.append("%s: kind %r" % (where, kind))
    if not num(r.get("cpu_ns_per_op")) or r["cpu_ns_per_op"] < 0:
        bad.append("%s: cpu_ns_per_op %r" % (where, r.get("cpu_ns_per_op")))
    if r.get("trials") != d.get("trials") or not isinstance(r.get("trials"), int):
        bad.append("%s: trials %r" % (where, r.get("trials")))
# each sized two-process method has both kinds at both sizes, unless skipped
skipped = d.get("skipped")
if not isinstance(skipped, list):
    bad.append("no skipped array")
    skipped = []
skip = set()
for k in skipped:
    if not isinstance(k.get("why"), str) or not k["why"]:
        bad.append("skipped %r: no why" % k)
    skip.add((k.get("method"), k.get("kind"), k.get("size")))
if ("sysv_mq", "latency", 65536) not in skip:
    bad.append("sysv_mq 64 KiB round trip not skipped: %r" % skipped)
for name in ("pipe", "fifo", "unix_stream", "tcp", "shm_sem", "chan_spin",
             "chan_spin_sleep", "chan_sleep", "chan_zc", "chan_epoll"):
    for kind in ("latency", "throughput"):
        for size in (64, 65536):
            if (name, kind, size) not in cells and (name, kind, size) not in skip:
                bad.append("%s/%s/%s: missing" % (name, kind, size))
# the MPSC and broadcast entries stream at every size; round trips with
# one writer or one subscriber only
for name in ("mpsc_1w", "mpsc_2w", "mpsc_4w", "bcast_1s", "bcast_2s", "bcast_4s", "bcast_8s"):
    one = name in ("mpsc_1w", "bcast_1s")
    for size in (64, 65536):
        if (name, "throughput", size) not in cells:
            bad.append("%s/throughput/%s: missing" % (name, size))
        if ((name, "latency", size) in cells) != one:
            bad.append("%s/latency/%s: %s" % (name, size, "missing" if one
                                               else "a round trip with several peers"))
# two pairs at once: streams only, at every size
for name in ("pipe_2p", "spsc_2p"):
    for size in (64, 65536):
        if (name, "throughput", size) not in cells:
            bad.append("%s/throughput/%s: missing" % (name, size))
        if (name, "latency", size) in cells:
            bad.append("%s/latency/%s: a round trip of two pairs" % (name, size))
goals = d.get("goals")
if not isinstance(goals, list) or len(goals) < 8:
    bad.append("goals %r" % goals)
else:
    for g in goals:
        for k in ("goal", "target", "measured", "met"):
            if k not in g:
                bad.append("goal %r: no %s" % (g, k))
        # the 1 MiB goal needs 1 MiB cells, which this run has not
        if g.get("measured") is None:
            if g.get("met") is not None:
                bad.append("goal %r: met without a measurement" % g)
        elif not pos(g["measured"]) or not isinstance(g.get("met"), bool):
            bad.append("goal %r" % g)
        if isinstance(g.get("met"), bool) and pos(g.get("measured")):
            lim = g.get("limit")
            want_met = g["measured"] <= lim if g.get("at_most") else g["measured"] >= lim
            if want_met != g["met"]:
                bad.append("goal %r: verdict does not follow from measured" % g)
    # the goals of more processes than CPUs, judged on this run's 64 B cells
    for want in ("MPSC, 2 writers, 64 B", "MPSC, 4 writers, 64 B",
                 "broadcast, 4 subscribers, 64 B", "broadcast, 8 subscribers, 64 B",
                 "two SPSC pairs at once, 64 B"):
        g = [g for g in goals if g.get("goal") == want]
        if len(g) != 1 or not pos(g[0].get("measured")):
            bad.append("goal %r: %r" % (want, g))
    if not any(g.get("measured") is None for g in goals):
        bad.append("a goal on 1 MiB streams was judged without 1 MiB cells")
for b in bad:
    print("bench --json:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# --- --methods and --sizes pick, each once ----------------------------------
expect_exit 0 "$SHMKIT" bench --quick --iterations 50 --methods mutex,floor,mutex
expect_stdout_contains "mutex "
expect_stdout_contains "floor "
expect_stdout_lacks "futex "
expect_stdout_lacks "pthread_robust "
expect_stdout_lacks "Streams:"
expect_exit 0 "$SHMKIT" bench --quick --iterations 50 --methods pipe --sizes 8,1K,8
rows=$(printf '%s\n' "$OUT" | grep -cE '^(pipe)? +[0-9]+ (B|KiB) ')
expect_eq "$rows" 4 "pipe rows (2 sizes x 2 kinds)"
expect_stdout_lacks "x floor       -"

# --- a channel without its baselines: no ratio, nothing left ----------------
expect_exit 0 "$SHMKIT" bench --quick --iterations 50 --methods chan_zc,chan_sleep --sizes 64
expect_stdout_contains "chan_zc "
expect_stdout_contains "chan_sleep "
printf "%s\n" "$OUT" | grep -q "^memcpy " && fail "memcpy ran unasked"
left=$(leftovers)
[ -z "$left" ] || fail "left behind: $left"

# --- the chart ----------------------------------------------------------------
if command -v gnuplot >/dev/null; then
	expect_exit 0 "$SHMKIT" bench --quick --iterations 40 --methods floor,pipe,chan_zc \
		--sizes 64,4K --plot "$T/b.png"
	[ "$(head -c 4 "$T/b.png" | od -An -c | tr -d ' ')" = '211PNG' ] ||
		fail "--plot did not write a PNG"
	expect_exit 0 "$SHMKIT" bench --quick --iterations 40 --methods pipe --sizes 64 \
		--plot "$T/b.svg"
	grep -q '<svg' "$T/b.svg" || fail "--plot did not write an SVG"
	expect_exit 1 "$SHMKIT" bench --quick --iterations 40 --methods floor --sizes 64 \
		--plot "$T/no/such/dir/b.png"
	expect_stderr_contains "shmkit: bench: $T/no/such/dir/b.png: No such file or directory"
	expect_stdout_lacks "Goals"
else
	echo "gnuplot missing: the chart is not checked (tests/deps.sh installs gnuplot-nox as root)"
fi
# without gnuplot: a clear message before any run
run env PATH=/nonexistent "$SHMKIT" bench --quick --methods floor --plot "$T/c.png"
expect_eq "$RC" 1 "exit status of --plot without gnuplot"
expect_stderr_contains "shmkit: bench: --plot: gnuplot is not installed (Debian package gnuplot-nox"
[ ! -e "$T/c.png" ] || fail "--plot without gnuplot wrote a file"

# --- side B killed: exit 1 with a message, its System V queue removed --------
queues() { ipcs -q 2>/dev/null | grep -c '^0x00000000'; }
before=$(queues)
"$SHMKIT" bench --methods sysv_mq --sizes 64 >/dev/null 2>"$T/kill.err" &
bpid=$!
killed=0
for _ in $(seq 400); do
	kill -0 "$bpid" 2>/dev/null || break
	for kid in $(pgrep -P "$bpid"); do
		kill -9 "$kid" 2>/dev/null && killed=1
	done
	[ "$killed" = 1 ] && break
	sleep 0.02
done
wait "$bpid"
rc=$?
[ "$killed" = 1 ] || fail "found no side B to kill"
expect_eq "$rc" 1 "exit status with side B killed"
grep -q "shmkit: bench: sysv_mq: side B ended before its last round" "$T/kill.err" ||
	fail "no message for a killed side B: $(cat "$T/kill.err")"
expect_eq "$(queues)" "$before" "System V queues after a run that died"

# --- usage errors: exit 2, the CLI's message format ---------------------------
expect_exit 2 "$SHMKIT" bench --methods floor,x
expect_stderr_contains "shmkit: bench: unknown method 'x'"
expect_exit 2 "$SHMKIT" bench --methods ''
expect_stderr_contains "shmkit: bench: unknown method ''"
expect_exit 2 "$SHMKIT" bench --bogus
expect_stderr_contains "shmkit: bench: unknown option '--bogus'"
expect_exit 2 "$SHMKIT" bench --iterations 0
expect_stderr_contains "shmkit: bench: invalid --iterations '0'"
expect_exit 2 "$SHMKIT" bench --iterations abc
for bad in 4 0 abc 1X 17M 64,,8 '' 3K5; do
	expect_exit 2 "$SHMKIT" bench --sizes "$bad"
	expect_stderr_contains "shmkit: bench: invalid size"
done
expect_exit 2 "$SHMKIT" bench --json
expect_stderr_contains "needs a value"
expect_exit 2 "$SHMKIT" bench --plot ''
expect_stderr_contains "invalid --plot ''"
expect_exit 2 "$SHMKIT" bench --quick --quick
expect_exit 2 "$SHMKIT" bench extra

# --- runtime error: a JSON file that cannot be written, before any run -------
expect_exit 1 "$SHMKIT" bench --quick --iterations 100 --json "$T/no/such/dir/x.json"
expect_stderr_contains "shmkit: bench: $T/no/such/dir/x.json: No such file or directory"
expect_stdout_lacks "Goals"

# --- help ---------------------------------------------------------------------
expect_exit 0 "$SHMKIT" bench --help
expect_stdout_contains "Usage: shmkit bench [--quick] [--methods LIST] [--sizes LIST]"
expect_stdout_contains "pthread_robust"
expect_stdout_contains "posix_mq"
expect_exit 0 "$SHMKIT" --help
expect_stdout_contains "shmkit bench"

finish
