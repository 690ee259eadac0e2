/* SPDX-License-Identifier: MIT */
/*
 * fuzz_args.c - the CLI's argument parser (tools/args.c) on any command
 * line: the input, split at NUL bytes, is the argv after "shmkit" (at most
 * MAX_ARGS arguments of at most MAX_ARG bytes each).  Every command line
 * must parse, or be refused with a usage error on the error stream; either
 * way nothing runs (the parser makes no system call), and what a success
 * hands the commands must be within what they were promised: a size of 1
 * byte or more, a mode of 1..0777, a channel capacity that is a power of
 * two, a valid NAME where one is required.  args_bytes() is also checked
 * against a plain reference on every argument.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "fuzz.h"
#include "shmkit.h"

#define MAX_ARGS 64
#define MAX_ARG 1024

/* A broken promise: says which, then aborts (a finding for libFuzzer). */
#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "fuzz_args: %s:%d: %s\n", __FILE__,     \
				__LINE__, #cond);                               \
			abort();                                                \
		}                                                               \
	} while (0)

/*
 * args_bytes() by another road: digits, an optional K/M/G/T (any case) with
 * an optional "iB", the value at most SIZE_MAX.  Returns 0 with *out set, or
 * -1 when refused.
 */
static int ref_bytes(const char *s, uint64_t *out)
{
	unsigned __int128 v = 0;
	const unsigned __int128 big = (unsigned __int128)1 << 80;
	const char *p = s;
	int shift = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (unsigned)(*p - '0')) > big)
			v = big;  /* too large anyway: saturate */
	if (*p) {
		const char *k = strchr("KMGT", *p & ~0x20);
		if (!k || !*k)
			return -1;
		shift = 10 * (int)(k - "KMGT" + 1);
		p++;
		if (p[0] == 'i' && p[1] == 'B')
			p += 2;
		if (*p)
			return -1;
	}
	v <<= shift;
	if (v > SIZE_MAX)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int pow2_capacity(size_t c)
{
	return c >= 64 && c <= ((size_t)1 << 30) && !(c & (c - 1));
}

/* @s is one of the arguments after the command's name. */
static int is_arg(char *const *orig, int argc, const char *s)
{
	for (int i = 2; i < argc; i++)
		if (orig[i] == s)
			return 1;
	return 0;
}

static void check_parsed(const struct args *a, char *const *orig, int argc)
{
	const struct command *c = a->cmd;

	CHECK(a->action <= ARGS_HELP);
	if (a->action == ARGS_USAGE || a->action == ARGS_VERSION)
		return;
	CHECK(c && c >= args_commands && c < args_commands + CMD_COUNT);
	CHECK(args_find_command(c->name) == c);
	if (a->action == ARGS_HELP)
		return;
	/* ARGS_RUN: the command named in argv[1], never help itself */
	CHECK(argc >= 2 && c == args_find_command(orig[1]) && c->id != CMD_HELP);
	switch (c->id) {
	case CMD_CREATE:
	case CMD_WRITE:
	case CMD_READ:
	case CMD_SEND:
	case CMD_RECV:
	case CMD_STAT:
		CHECK(a->name && is_arg(orig, argc, a->name));
		CHECK(shmkit_name_check(a->name) > 0);
		break;
	default:
		CHECK(!a->name);
	}
	switch (c->id) {
	case CMD_CREATE:
		CHECK(a->flags & SHMKIT_CREATE);
		CHECK(!(a->flags & ~(unsigned)(SHMKIT_CREATE | SHMKIT_EXCL | SHMKIT_RAW)));
		if (a->channel) {
			CHECK(pow2_capacity(a->co.capacity));
			CHECK(a->co.mode >= 1 && a->co.mode <= 0777);
			CHECK(a->co.policy <= SHMKIT_WAIT_SLEEP);
			CHECK(a->co.kind >= SHMKIT_CHAN_SPSC && a->co.kind <= SHMKIT_CHAN_BROADCAST);
			/* --policy backpressure|overwrite: broadcast only */
			CHECK(a->co.overflow <= SHMKIT_BCAST_OVERWRITE);
			CHECK(a->co.overflow == 0 || a->co.kind == SHMKIT_CHAN_BROADCAST);
			CHECK(a->co.start == 0 && !a->has_start);
			CHECK(!(a->flags & SHMKIT_RAW) && a->size == 0);
		} else {
			CHECK(a->size >= 1 && a->size <= SIZE_MAX);
			CHECK(a->mode >= 1 && a->mode <= 0777);
			CHECK(a->co.capacity == 0 && a->co.kind == 0);
		}
		break;
	case CMD_WRITE:
		CHECK(!(a->flags & ~(unsigned)SHMKIT_RAW));
		CHECK(a->offset <= SIZE_MAX);
		break;
	case CMD_READ:
		CHECK(a->flags & SHMKIT_RDONLY);
		CHECK(!(a->flags & ~(unsigned)(SHMKIT_RDONLY | SHMKIT_RAW)));
		CHECK(a->offset <= SIZE_MAX && a->length <= SIZE_MAX);
		CHECK(a->has_length || a->length == 0);
		break;
	case CMD_SEND:
	case CMD_RECV:
		CHECK(!(a->flags & ~(unsigned)SHMKIT_CREATE));
		CHECK(a->co.capacity == 0 || pow2_capacity(a->co.capacity));
		CHECK(a->co.capacity == 0 || (a->flags & SHMKIT_CREATE));
		/* --channel: a kind to create, given only with --create */
		CHECK(a->co.kind <= SHMKIT_CHAN_BROADCAST);
		CHECK(a->co.kind == 0 || (a->flags & SHMKIT_CREATE));
		CHECK(a->co.overflow == 0 && a->co.policy == 0);
		/* recv --start: next, newest or oldest */
		CHECK(a->co.start <= SHMKIT_SUB_OLDEST);
		CHECK(c->id == CMD_RECV || (a->co.start == 0 && !a->has_start));
		CHECK(a->has_start || a->co.start == 0);
		CHECK(a->term == '\n' || a->term == '\0');
		if (a->timeout_ms) {
			/* plain decimal milliseconds, as nanoseconds */
			char *end;
			unsigned long long ms = strtoull(a->timeout_ms, &end, 10);
			CHECK(*a->timeout_ms >= '0' && *a->timeout_ms <= '9' && !*end);
			CHECK(a->timeout_ns >= 0 && (uint64_t)a->timeout_ns == ms * 1000000);
		} else {
			CHECK(a->timeout_ns == -1);
		}
		if (c->id == CMD_SEND)
			CHECK(a->count == 0);
		break;
	case CMD_RM:
		CHECK(a->npos >= 1 && a->npos <= argc - 2);
		for (int i = 0; i < a->npos; i++) {
			CHECK(is_arg(orig, argc, a->pos[i]));
			CHECK(shmkit_name_check(a->pos[i]) > 0);
		}
		break;
	case CMD_BENCH:
		/* bench/ parses its own: every argument goes there, in order */
		CHECK(a->npos == argc - 2);
		for (int i = 0; i < a->npos; i++)
			CHECK(a->pos[i] == orig[i + 2]);
		break;
	default:
		CHECK(a->npos == 0);
	}
}

/* The usage error of a refused command line: "shmkit: WHAT...: WHY\n" and
 * the hint, naming the command when argv[1] is one. */
static void check_refused(const char *msg, size_t len, char *const *orig, int argc)
{
	static const char tail[] = " for more information.\n";
	const struct command *c = argc >= 2 ? args_find_command(orig[1]) : NULL;

	CHECK(len > strlen("shmkit: ") + strlen(tail) && strlen(msg) == len);
	CHECK(!strncmp(msg, "shmkit: ", 8));
	CHECK(!strcmp(msg + len - strlen(tail), tail));
	if (c) {
		size_t n = strlen(c->name);
		CHECK(!strncmp(msg + 8, c->name, n) && (msg[8 + n] == ':' || msg[8 + n] == ' '));
		char hint[64];
		snprintf(hint, sizeof(hint), "\nTry 'shmkit %s --help'", c->name);
		CHECK(strstr(msg, hint));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char prog[] = "shmkit";
	char *argv[MAX_ARGS + 2], *orig[MAX_ARGS + 2];
	char *copy = malloc(size + 1), *msg = NULL;
	size_t msglen = 0;
	int argc = 1;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = prog;
	/* each argument ends at a NUL or at the end of the input */
	for (size_t i = 0; i < size && argc < MAX_ARGS + 1; argc++) {
		char *arg = copy + i;
		size_t len = strlen(arg);
		if (len > MAX_ARG)
			arg[MAX_ARG] = '\0';
		argv[argc] = arg;
		i += len + 1;
	}
	argv[argc] = NULL;
	memcpy(orig, argv, sizeof(argv));

	for (int i = 1; i < argc; i++) {
		uint64_t v = 0, ref = 0;
		const char *why = args_bytes(argv[i], &v);
		int rc = ref_bytes(argv[i], &ref);
		CHECK(why ? rc < 0 && *why : rc == 0 && v == ref);
	}

	struct args a;
	FILE *err = open_memstream(&msg, &msglen);
	if (!err) {
		free(copy);
		return 0;
	}
	int ret = args_parse(argc, argv, &a, err);
	CHECK(fclose(err) == 0);
	CHECK(ret == 0 || ret == EXIT_USAGE);
	/* the parser moves arguments about, but writes none of its own */
	for (int i = 0; i < 2 && i < argc; i++)
		CHECK(argv[i] == orig[i]);
	for (int i = 2; i < argc; i++)
		CHECK(is_arg(orig, argc, argv[i]));
	if (ret == 0) {
		CHECK(msglen == 0);
		check_parsed(&a, orig, argc);
	} else {
		check_refused(msg, msglen, orig, argc);
	}
	free(msg);
	free(copy);
	return 0;
}
