#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shmkit bench: every method runs and shows in the table, --json is one
# well-formed document with the documented fields (throughput entries:
# msgs_per_s, bytes_per_s, cpu_ns_per_msg; channel entries: their policy),
# no channel is left in /dev/shm, usage errors exit 2.
# Tiny iteration counts (--iterations): this checks the harness, never the
# speed; timing values are only required to be positive numbers.
set -u
. tests/cli/lib.sh

METHODS="floor futex event pthread_mutex pthread_robust mutex
	pipe chan_spin chan_spin_sleep chan_sleep pipe_stream chan_stream chan_stream_zc"
THROUGHPUT="pipe_stream chan_stream chan_stream_zc"

# Channels a bench left in /dev/shm: its names are shmkit-bench-PID-N-xx,
# and a run that ended must have removed all of its own (a live PID may be
# another run going on at the same time).
leftover_channels() {
	local f pid
	for f in /dev/shm/shmkit-bench-*; do
		[ -e "$f" ] || continue
		pid=${f#/dev/shm/shmkit-bench-}
		pid=${pid%%-*}
		kill -0 "$pid" 2>/dev/null || printf '%s\n' "$f"
	done
}

# --- a quick run of every method, with JSON -------------------------------
expect_exit 0 "$SHMKIT" bench --quick --iterations 200 --json "$T/bench.json"
expect_stdout_contains "machine:"
expect_stdout_contains "medians of 3 trials"
for m in $METHODS; do
	printf '%s\n' "$OUT" | grep -q "^$m " || fail "table lacks method $m: $OUT"
done
printf '%s\n' "$OUT" | grep -q "^method .* msgs/s .* MB/s " ||
	fail "no throughput table: $OUT"
printf '%s\n' "$OUT" | grep -q "^chan_stream .*x pipe_stream" ||
	fail "chan_stream not quoted against pipe_stream: $OUT"
printf '%s\n' "$OUT" | grep -q "^chan_spin .*x floor, .*x pipe " ||
	fail "chan_spin not quoted against floor and pipe: $OUT"
[ -z "$ERR" ] || fail "a quick run wrote to stderr: $ERR"
left=$(leftover_channels)
[ -z "$left" ] || fail "channels left behind: $left"

python3 - "$T/bench.json" $METHODS <<'EOF' || fail "bench --json: see above"
import json, math, sys

def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

def pos(v):
    return num(v) and v > 0

# what each method is, in the JSON: kind, policy, size
CHAN = {"chan_spin": "spin", "chan_spin_sleep": "spin_sleep", "chan_sleep": "sleep",
        "chan_stream": "spin_sleep", "chan_stream_zc": "spin_sleep"}
THROUGHPUT = ("pipe_stream", "chan_stream", "chan_stream_zc")
MESSAGES = ("pipe",) + tuple(CHAN) + THROUGHPUT

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
got = [r.get("method") for r in res]
if sorted(got) != sorted(want):
    bad.append("methods %r, expected %r" % (got, want))
for r in res:
    name = r.get("method")
    for k in ("method", "policy", "size", "kind", "p50_ns", "p99_ns", "p999_ns",
              "cpu_ns_per_op", "trials", "spread"):
        if k not in r:
            bad.append("%s: no %s" % (name, k))
    if r.get("policy") != CHAN.get(name):
        bad.append("%s: policy %r" % (name, r.get("policy")))
    if r.get("size") != (64 if name in MESSAGES else None):
        bad.append("%s: size %r" % (name, r.get("size")))
    kind = r.get("kind")
    if name in THROUGHPUT:
        if kind != "throughput":
            bad.append("%s: kind %r" % (name, kind))
        for k in ("msgs_per_s", "bytes_per_s", "ns_per_msg"):
            if not pos(r.get(k)):
                bad.append("%s: %s %r" % (name, k, r.get(k)))
        if pos(r.get("msgs_per_s")) and pos(r.get("bytes_per_s")) and \
           abs(r["bytes_per_s"] - 64 * r["msgs_per_s"]) > 1e-3 * r["bytes_per_s"]:
            bad.append("%s: bytes_per_s is not 64 x msgs_per_s" % name)
        # getrusage counts microseconds: a tiny run may round to 0
        if not num(r.get("cpu_ns_per_msg")) or r["cpu_ns_per_msg"] < 0:
            bad.append("%s: cpu_ns_per_msg %r" % (name, r.get("cpu_ns_per_msg")))
        for k in ("p50_ns", "p99_ns", "p999_ns"):
            if r.get(k) is not None:
                bad.append("%s: %s %r, not null" % (name, k, r.get(k)))
        sp = r.get("spread")
        if not isinstance(sp, dict) or sp.get("of") != "msgs_per_s" or \
           not (pos(sp.get("min")) and pos(sp.get("max")) and sp["min"] <= sp["max"]):
            bad.append("%s: spread %r" % (name, sp))
        ra = r.get("ratio")
        if not isinstance(ra, dict) or ra.get("to") != "pipe_stream" or \
           ra.get("of") != "msgs_per_s" or not pos(ra.get("value")):
            bad.append("%s: ratio %r" % (name, ra))
    else:
        if kind not in ("latency", "cost"):
            bad.append("%s: kind %r" % (name, kind))
        if not num(r.get("p50_ns")) or r["p50_ns"] <= 0:
            bad.append("%s: p50_ns %r" % (name, r.get("p50_ns")))
        sp = r.get("spread")
        if not isinstance(sp, dict) or not all(num(sp.get(k)) and sp[k] > 0
                                               for k in ("min_ns", "max_ns")):
            bad.append("%s: spread %r" % (name, sp))
    if name in CHAN and name not in THROUGHPUT:
        vs = r.get("versus")
        if not isinstance(vs, dict) or vs.get("to") != "pipe" or not pos(vs.get("value")):
            bad.append("%s: versus %r" % (name, vs))
    for k in ("p99_ns", "p999_ns"):
        v = r.get(k)
        if kind == "latency" and (not num(v) or v <= 0):
            bad.append("%s: %s %r" % (name, k, v))
        if kind == "cost" and v is not None and not num(v):
            bad.append("%s: %s %r" % (name, k, v))
    # getrusage counts microseconds: a tiny run may round to 0
    if not num(r.get("cpu_ns_per_op")) or r["cpu_ns_per_op"] < 0:
        bad.append("%s: cpu_ns_per_op %r" % (name, r.get("cpu_ns_per_op")))
    if r.get("trials") != d.get("trials") or not isinstance(r.get("trials"), int):
        bad.append("%s: trials %r" % (name, r.get("trials")))
    sides = r.get("sides")
    if not isinstance(sides, list) or len(sides) != (1 if kind == "cost" else 2):
        bad.append("%s: sides %r" % (name, sides))
for b in bad:
    print("bench --json:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# --- --methods picks, in any order, each once ------------------------------
expect_exit 0 "$SHMKIT" bench --quick --iterations 100 --methods mutex,floor,mutex
expect_stdout_contains "mutex "
expect_stdout_contains "floor "
expect_stdout_lacks "futex "
expect_stdout_lacks "pthread_robust "
expect_stdout_lacks "msgs/s"

# --- a channel without its baselines: no ratio, no names left -------------
expect_exit 0 "$SHMKIT" bench --quick --iterations 100 --methods chan_stream_zc,chan_sleep
expect_stdout_contains "chan_stream_zc "
expect_stdout_contains "chan_sleep "
expect_stdout_lacks "pipe_stream"
expect_stdout_lacks "x pipe"
left=$(leftover_channels)
[ -z "$left" ] || fail "channels left behind: $left"

# --- usage errors: exit 2, the CLI's message format ------------------------
expect_exit 2 "$SHMKIT" bench --methods floor,x
expect_stderr_contains "shmkit: bench: unknown method 'x'"
expect_exit 2 "$SHMKIT" bench --methods ''
expect_stderr_contains "shmkit: bench: unknown method ''"
expect_exit 2 "$SHMKIT" bench --bogus
expect_stderr_contains "shmkit: bench: unknown option '--bogus'"
expect_exit 2 "$SHMKIT" bench --iterations 0
expect_stderr_contains "shmkit: bench: invalid --iterations '0'"
expect_exit 2 "$SHMKIT" bench --iterations abc
expect_exit 2 "$SHMKIT" bench --json
expect_stderr_contains "needs a value"
expect_exit 2 "$SHMKIT" bench --quick --quick
expect_exit 2 "$SHMKIT" bench extra

# --- runtime error: a JSON file that cannot be written, before any run -----
expect_exit 1 "$SHMKIT" bench --quick --iterations 100 --json "$T/no/such/dir/x.json"
expect_stderr_contains "shmkit: bench: $T/no/such/dir/x.json: No such file or directory"

# --- help ------------------------------------------------------------------
expect_exit 0 "$SHMKIT" bench --help
expect_stdout_contains "Usage: shmkit bench [--quick] [--methods LIST] [--json FILE]"
expect_stdout_contains "pthread_robust"
expect_stdout_contains "chan_stream_zc"
expect_exit 0 "$SHMKIT" --help
expect_stdout_contains "shmkit bench"

finish
