/* SPDX-License-Identifier: MIT */
/*
 * args.h - the CLI's argument parser: the command table, every option and
 * value the commands take, and the usage errors.  args_parse() turns a
 * whole `shmkit ...` command line into a struct args and runs nothing: no
 * segment is opened, and a usage error goes to the FILE the caller passes
 * (the CLI's stderr; a memory stream in tests/fuzz/fuzz_args.c).  What a
 * command does with its arguments is the CLI's (tools/cli.h).
 */
#ifndef SHMKIT_ARGS_H
#define SHMKIT_ARGS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "shmkit.h"

/* The exit status of a usage error: what args_parse() returns for one. */
enum { EXIT_USAGE = 2 };

enum cmd_id {
	CMD_CREATE,
	CMD_WRITE,
	CMD_READ,
	CMD_SEND,
	CMD_RECV,
	CMD_LS,
	CMD_STAT,
	CMD_RM,
	CMD_GC,
	CMD_BENCH,
	CMD_HELP,
	CMD_COUNT
};

struct command {
	const char *name;
	enum cmd_id id;
	const char *synopsis;  /* one line per form, without "shmkit " */
	const char *help;
};

/* Every command, in the order `shmkit --help` lists them (by id). */
extern const struct command args_commands[CMD_COUNT];

/* The command called @name, or NULL. */
const struct command *args_find_command(const char *name);

/* What a command line asks for. */
enum args_action {
	ARGS_RUN,      /* run cmd with the values below */
	ARGS_USAGE,    /* print the general usage (--help, help) */
	ARGS_VERSION,  /* print the version (--version) */
	ARGS_HELP,     /* print cmd's help (COMMAND --help, help COMMAND) */
};

/*
 * A parsed command line.  Strings point into the argv given to
 * args_parse(), whose positional arguments it moves to the front.  Only
 * the fields of the command run are set; the rest are 0.
 */
struct args {
	enum args_action action;
	const struct command *cmd;  /* ARGS_RUN and ARGS_HELP */
	char **pos;                 /* positional arguments: rm's and recv's NAMEs, */
	int npos;                   /* bench's arguments (all of them) */
	const char *name;           /* NAME, valid (shmkit_name_check() > 0) */
	unsigned flags;             /* SHMKIT_CREATE, _EXCL, _RAW, _RDONLY */
	/* create */
	bool channel;               /* --channel spsc|mpsc|broadcast: the rest is in co */
	uint64_t size;              /* --size: 1..SIZE_MAX */
	unsigned mode;              /* --mode: 1..0777, SHMKIT_DEFAULT_MODE */
	/* write, read */
	uint64_t offset;            /* --offset: 0..SIZE_MAX */
	uint64_t length;            /* --length: 0..SIZE_MAX, when has_length */
	bool has_length;
	/* create --channel, send, recv: capacity a power of two, 64..1G (0:
	 * not given); mode, policy (--wait) and overflow (--policy) from
	 * create --channel; kind from --channel (create, send/recv --create),
	 * 0 when not given: SPSC on create, any kind on open; start from
	 * recv --start */
	struct shmkit_chan_opts co;
	bool has_start;             /* recv --start was given */
	int64_t timeout_ns;         /* --timeout; -1: wait for ever */
	const char *timeout_ms;     /* as given, for messages */
	char term;                  /* '\n', or '\0' with --null */
	uint64_t count;             /* recv --count: at least 1; 0: no limit */
	bool prefix;                /* recv --prefix: each line starts "NAME: " */
	bool follow;                /* recv --follow, or --count: across streams */
	/* ls, stat, gc */
	bool json;
	bool dry_run;
};

/*
 * Parses the command line @argv (@argc entries, argv[0] the program) into
 * *a.  Returns 0, or EXIT_USAGE after writing the error and a hint to
 * @err: "shmkit: WHAT: WHY\nTry 'shmkit ... --help' for more
 * information.\n".  Reorders the arguments after the command's name.
 */
int args_parse(int argc, char **argv, struct args *a, FILE *err);

/*
 * Parses a byte count: decimal digits and an optional binary suffix K, M,
 * G or T (also KiB, MiB, GiB, TiB), at most SIZE_MAX.  Returns NULL with
 * *out set, or why @s is refused.
 */
const char *args_bytes(const char *s, uint64_t *out);

/* Writes "shmkit: WHAT[ NAME]: WHY\n" to @f ('' for an empty NAME): the
 * form of every error the CLI reports. */
void __attribute__((format(printf, 4, 0), nonnull(1, 2, 4)))
args_vmsg(FILE *f, const char *what, const char *name, const char *fmt, va_list ap);

#endif /* SHMKIT_ARGS_H */
