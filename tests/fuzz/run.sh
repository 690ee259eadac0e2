#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make fuzz`: builds every tests/fuzz/fuzz_*.c target with clang's
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer (the library
# compiled the same way), and runs each for FUZZ_SECONDS (default 60),
# starting from its seed corpus in tests/fuzz/corpus/TARGET.  New inputs go
# to build-fuzz/corpus/TARGET, crashes to build-fuzz/crash-TARGET-*.
# Installs clang and its runtime when missing, as root.  Exit 1 if a target
# crashed; a crash input belongs in the seed corpus once fixed, where
# `make test` replays it.
set -u
cd "$(dirname "$0")/../.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
OUT=build-fuzz
CC_FUZZ=${CC_FUZZ:-clang}

have_fuzzer() {
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
		>"$OUT/probe.c" &&
		"$CC_FUZZ" -fsanitize=fuzzer "$OUT/probe.c" -o "$OUT/probe" 2>/dev/null
}

mkdir -p "$OUT"
if ! have_fuzzer; then
	tools/need-debs.sh tests/fuzz/run.sh clang libclang-rt-14-dev || exit 1
	have_fuzzer || { echo "tests/fuzz/run.sh: clang -fsanitize=fuzzer fails" >&2; exit 1; }
fi

FLAGS="-std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -g -O1 -Iinclude -Isrc -Itests/fuzz
	-fsanitize=address,undefined -fno-sanitize-recover=undefined"
# the library, instrumented for coverage but without libFuzzer's main;
# the CLI's argument parser likewise, for fuzz_args
mkdir -p "$OUT/obj" "$OUT/cli"
for src in src/*.c src/*/*.c; do
	obj=$OUT/obj/$(basename "$(dirname "$src")")_$(basename "$src" .c).o
	$CC_FUZZ $FLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || exit 1
done
# (tools/args.c, values.c and help.c's command table: the Makefile's PARSER_OBJS)
parser=
for f in args values help; do
	$CC_FUZZ $FLAGS -Itools -Ibench -fsanitize=fuzzer-no-link -c "tools/$f.c" \
		-o "$OUT/cli/$f.o" || exit 1
	parser="$parser $OUT/cli/$f.o"
done

status=0
for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	t=${t#fuzz_}
	cli=
	[ "$t" = args ] && cli=$parser
	$CC_FUZZ $FLAGS -Itools -fsanitize=fuzzer "$src" $cli "$OUT"/obj/*.o -o "$OUT/fuzz_$t" || exit 1
	mkdir -p "$OUT/corpus/$t"
	echo "== fuzz_$t: ${SECONDS_EACH}s"
	"$OUT/fuzz_$t" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
		-artifact_prefix="$OUT/crash-$t-" -max_len=65536 -timeout=10 \
		"$OUT/corpus/$t" "tests/fuzz/corpus/$t" 2>"$OUT/fuzz_$t.log"
	rc=$?
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
		"$OUT/fuzz_$t.log"
	if [ $rc -ne 0 ]; then
		status=1
		echo "fuzz_$t: FOUND A CRASH (exit $rc): see $OUT/fuzz_$t.log and $OUT/crash-$t-*"
		grep -E 'ERROR|SUMMARY' "$OUT/fuzz_$t.log" | head -5
	fi
done
exit $status
