# SPDX-License-Identifier: MIT
# shmkit - one GNU Makefile; a C compiler and GNU make are all `make` needs.
#   make                 library, CLI, examples
#   make test            install test deps (as root), build, run every test
#   make ci              what CI runs: test, SAN builds, VALGRIND=1, a bounded torture
#   make demo            the guided tour
#   make bench           build and run `shmkit bench`: table, JSON, chart (BENCH_ARGS=--quick ...)
#   make fuzz            libFuzzer on every tests/fuzz target (FUZZ_SECONDS=60 each)
#   make torture         the kill -9 suites until TORTURE_KILLS kills (default 50000)
#   make model           spin checks the Promela models of the SPSC, MPSC and broadcast channels (models/)
#   make install PREFIX=/usr/local DESTDIR=
#   make SAN=address,undefined | SAN=thread    sanitizer builds (in build-san-<list>/)
#   make test VALGRIND=1 the CLI tests with every command under memcheck
#   BUILD=dir            build into dir/ (default build/) instead
#   V=1                  show the commands

VERSION_MAJOR := 0
VERSION_MINOR := 3
VERSION_PATCH := 0
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
# The ABI number, apart from the version while shmkit is at 0.x: bumped by
# every release that breaks binaries built against the one before (0.2.0:
# struct shmkit_chan_info grew).  CHANGELOG.md says what broke.
ABI := 1

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CC ?= cc
CFLAGS ?= -O2 -g
comma := ,
SAN ?=
VALGRIND ?= 0
BUILD ?= build
ifeq ($(SAN),)
B := $(BUILD)
else
B := $(BUILD)-san-$(subst $(comma),-,$(SAN))
CFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SAN)
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(WARN) \
	-Iinclude -MMD -MP
# the library's own files include each other by layer: "chan/ring.h"
LIB_CFLAGS := $(BASE_CFLAGS) -Isrc -fPIC -fvisibility=hidden

ifeq ($(V),1)
Q :=
vecho = @true
else
Q := @
vecho = @printf '  %-6s %s\n'
endif

# the library by layer: src/region, src/sync, src/chan (docs/architecture.md)
LIB_SRCS := $(wildcard src/*.c src/*/*.c)
LIB_OBJS := $(LIB_SRCS:src/%.c=$(B)/obj/%.o)
SONAME := libshmkit.so.$(ABI)
# examples/uv_chan.c needs libuv (libuv1-dev): built by `make test`, which
# installs it, or `make uv-example`; not by a plain `make`
EXAMPLE_SRCS := $(filter-out examples/uv_chan.c,$(wildcard examples/*.c))
EXAMPLES := $(EXAMPLE_SRCS:examples/%.c=$(B)/examples/%)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPERS := $(HELPER_SRCS:tests/helpers/%.c=$(B)/tests/helpers/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAYS := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=$(B)/tests/fuzz/replay_%)
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_OBJS := $(BENCH_SRCS:bench/%.c=$(B)/bench/%.o)
# the CLI (tools/cli.h names its files); its parser, with the command
# table it parses against, is also tests/fuzz/fuzz_args.c's
CLI_SRCS := $(wildcard tools/*.c)
CLI_OBJS := $(CLI_SRCS:tools/%.c=$(B)/tools/%.o)
PARSER_OBJS := $(B)/tools/args.o $(B)/tools/values.o $(B)/tools/help.o

.PHONY: all lib test tests-build demo bench fuzz install uninstall clean check-deps torture model ci uv-example
all: lib $(B)/shmkit $(EXAMPLES)
lib: $(B)/libshmkit.a $(B)/libshmkit.so

$(B)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(vecho) CC $<
	$(Q)$(CC) $(LIB_CFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libshmkit.a: $(LIB_OBJS)
	$(vecho) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/libshmkit.so: $(LIB_OBJS) src/shmkit.map
	$(vecho) LD $@
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/shmkit.map \
		-Wl,-z,defs $(CFLAGS) $(LDFLAGS) -o $@.$(VERSION) $(LIB_OBJS)
	$(Q)ln -sf libshmkit.so.$(VERSION) $(B)/$(SONAME)
	$(Q)ln -sf libshmkit.so.$(VERSION) $@

# The benchmark (bench/) is part of the CLI: `shmkit bench`.  It sees the
# public header only, like any user of the library.
$(B)/bench/%.o: bench/%.c
	@mkdir -p $(@D)
	$(vecho) CC $<
	$(Q)$(CC) $(BASE_CFLAGS) -pthread $(CFLAGS) -c -o $@ $<

$(B)/tools/%.o: tools/%.c
	@mkdir -p $(@D)
	$(vecho) CC $<
	$(Q)$(CC) $(BASE_CFLAGS) -Ibench $(CFLAGS) -c -o $@ $<

# The CLI and the examples link the static library: they run from the tree.
$(B)/shmkit: $(CLI_OBJS) $(BENCH_OBJS) $(B)/libshmkit.a
	@mkdir -p $(@D)
	$(vecho) LD $@
	$(Q)$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) $(BENCH_OBJS) $(B)/libshmkit.a \
		$(LDFLAGS) -pthread -lm

$(B)/examples/%: examples/%.c $(B)/libshmkit.a
	@mkdir -p $(@D)
	$(vecho) CC $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -MF $@.d -o $@ $< $(B)/libshmkit.a $(LDFLAGS)

$(B)/examples/uv_chan: examples/uv_chan.c $(B)/libshmkit.a
	@mkdir -p $(@D)
	$(vecho) CC $@
	$(Q)$(CC) $(BASE_CFLAGS) $(shell pkg-config --cflags libuv 2>/dev/null) $(CFLAGS) \
		-MF $@.d -o $@ $< $(B)/libshmkit.a $(LDFLAGS) \
		$(or $(shell pkg-config --libs libuv 2>/dev/null),-luv)

uv-example: $(B)/examples/uv_chan

# Tests see the library's internals (src/) as well as its public header.
$(B)/tests/%: tests/unit/%.c $(B)/libshmkit.a
	@mkdir -p $(@D)
	$(vecho) CC $@
	$(Q)$(CC) $(BASE_CFLAGS) -Isrc $(CFLAGS) -MF $@.d -o $@ $< \
		$(B)/libshmkit.a $(LDFLAGS) -lcriterion

$(B)/tests/helpers/%: tests/helpers/%.c $(B)/libshmkit.a
	@mkdir -p $(@D)
	$(vecho) CC $@
	$(Q)$(CC) $(BASE_CFLAGS) -Isrc $(CFLAGS) -MF $@.d -o $@ $< $(B)/libshmkit.a $(LDFLAGS)

# A fuzz target linked with replay.c runs the seed corpus in `make test`;
# `make fuzz` links the same target with libFuzzer (tests/fuzz/run.sh).
# fuzz_args is the CLI's argument parser, so it links that too.
$(B)/tests/fuzz/replay_args: $(PARSER_OBJS)
$(B)/tests/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(B)/libshmkit.a
	@mkdir -p $(@D)
	$(vecho) CC $@
	$(Q)$(CC) $(BASE_CFLAGS) -Itests/fuzz -Itools $(CFLAGS) -MF $@.d -o $@ $< tests/fuzz/replay.c \
		$(filter %.o,$^) $(B)/libshmkit.a $(LDFLAGS)

tests-build: all $(UNIT_TESTS) $(HELPERS) $(FUZZ_REPLAYS) $(B)/examples/uv_chan

# `make test` installs what the tests need (as root, when missing), then
# builds and runs everything; tests/run.sh prints the closing summary.
test:
	$(Q)tests/deps.sh
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)B=$(B) SAN=$(SAN) VALGRIND=$(VALGRIND) tests/run.sh

demo: all
	$(Q)B=$(B) examples/demo.sh

# The full run takes about three minutes and writes $(B)/bench.json and
# $(B)/bench.png beside the table; BENCH_ARGS adds options ("--quick",
# "--methods ..."; not --json or --plot, which this sets).  gnuplot (for
# the chart) is installed first when missing, as root; without it the run
# goes on without the chart.
BENCH_ARGS ?=
bench: $(B)/shmkit
	-$(Q)bench/deps.sh
	$(Q)$(B)/shmkit bench --json $(B)/bench.json \
		$$(command -v gnuplot >/dev/null && echo --plot $(B)/bench.png) $(BENCH_ARGS)

# FUZZ_SECONDS per target (default 60); clang and its libFuzzer runtime are
# installed when missing, as root.  Finds land in build-fuzz/.
FUZZ_SECONDS ?= 60
fuzz:
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

# What CI runs (tests/ci.sh): make test, then SAN=address,undefined,
# SAN=thread and VALGRIND=1, then a torture of CI_TORTURE_KILLS (10000).
ci:
	$(Q)MAKE="$(MAKE)" tests/ci.sh

# The kill -9 suites, round after round with new seeds (tests/torture.sh).
TORTURE_KILLS ?= 50000
torture:
	$(Q)tests/deps.sh
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)B=$(B) TORTURE_KILLS=$(TORTURE_KILLS) tests/torture.sh

# The channel protocols' models (models/spsc.pml, models/mpsc.pml,
# models/bcast.pml) under spin, with their mutants; spin is installed when
# missing, as root.  About two minutes.
model:
	$(Q)models/check.sh

shmkit.pc: shmkit.pc.in Makefile
	$(vecho) GEN $@
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $(B)/$@

install: all shmkit.pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 $(B)/libshmkit.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libshmkit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libshmkit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libshmkit.so
	install -m 644 include/shmkit.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 755 $(B)/shmkit $(DESTDIR)$(BINDIR)/
	install -m 644 man/shmkit.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(B)/shmkit.pc $(DESTDIR)$(PKGCONFIGDIR)/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libshmkit.a $(DESTDIR)$(LIBDIR)/libshmkit.so* \
		$(DESTDIR)$(INCLUDEDIR)/shmkit.h $(DESTDIR)$(BINDIR)/shmkit \
		$(DESTDIR)$(MANDIR)/man1/shmkit.1 $(DESTDIR)$(PKGCONFIGDIR)/shmkit.pc

clean:
	rm -rf build build-san-* build-fuzz

-include $(wildcard $(B)/obj/*.d $(B)/obj/*/*.d $(B)/*.d $(B)/tools/*.d $(B)/bench/*.d $(B)/examples/*.d $(B)/tests/*.d \
	$(B)/tests/helpers/*.d $(B)/tests/fuzz/*.d)
