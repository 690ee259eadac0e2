/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the CLI's files share: the commands that run a parsed
 * command line (struct args, from args.c), the messages every error takes
 * the form of, the help, and the output helpers.  The CLI is libc and
 * libshmkit only.
 *
 *   shmkit.c   main: the command table of runners, help and version
 *   help.c     each command's name, synopsis and help, and the usage
 *   args.c     the argument parser (args.h): the options, by name
 *   values.c   the syntax of the options' values
 *   output.c   errors ("shmkit: <what>: <why>"), stdout, JSON strings
 *   region.c   create, write, read, rm
 *   channel.c  create --channel, send, recv
 *   mux.c      recv of several channels at once, through their fds
 *   stop.c     SIGINT and SIGTERM for send and recv: a clean end
 *   stat.c     stat: its table of fields
 *   fields.c   a table of fields written as text and as JSON
 *   ls.c       ls and gc
 */
#ifndef SHMKIT_CLI_H
#define SHMKIT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "args.h"
#include "shmkit.h"

/* The exit status of a runtime error (EXIT_USAGE: args.h). */
enum { EXIT_RUNTIME = 1 };

/* The commands, each run with what args_parse() made of its command line;
 * 0 or EXIT_RUNTIME after reporting. */
int cmd_create(const struct args *a);
int cmd_write(const struct args *a);
int cmd_read(const struct args *a);
int cmd_rm(const struct args *a);
int create_channel(const struct args *a);  /* create --channel */
int cmd_send(const struct args *a);
int cmd_recv(const struct args *a);
int recv_many(const struct args *a);  /* recv of several NAMEs, or --prefix (mux.c) */

/* stop.c: catches SIGINT and SIGTERM (waiting calls return EINTR); the
 * signal caught, 0 none.  A command that stops for it exits 128 + it. */
void stop_catch(void);
int stop_signal(void);
/* The next slice of a wait until @deadline (-1: none) from @now, in ns:
 * at most STOP_SLICE_NS, so that a signal is seen within it. */
#define STOP_SLICE_NS ((int64_t)100 * 1000000)
int64_t stop_slice(int64_t deadline, int64_t now);
/* CLOCK_MONOTONIC, in ns. */
int64_t mono_ns(void);
int cmd_stat(const struct args *a);
int cmd_ls(const struct args *a);
int cmd_gc(const struct args *a);

/* help.c: `shmkit --help`, and one command's help. */
void print_usage(void);
void print_command_help(const struct command *c);

/* Writes "shmkit: WHAT[ NAME]: WHY" to stderr, after what stdout has. */
void __attribute__((format(printf, 3, 4)))
err_msg(const char *what, const char *name, const char *fmt, ...);

/* Reports a library error @err on @name. */
void lib_err(const char *what, const char *name, int err);

/* Writes all of buf to fd; 0 or an errno. */
int write_all(int fd, const void *buf, size_t len);

/* JSON strings on stdout: the @n bytes at @s (invalid UTF-8 becomes
 * U+FFFD), and a C string (NULL: null). */
void json_strn(const char *s, size_t n);
void json_str(const char *s);

/* Names as the commands write them: a backend, a channel kind (and with
 * its article: "an spsc"), a broadcast channel's policy. */
const char *backend_name(int backend);
const char *kind_name(int kind);
const char *kind_a(int kind);
const char *overflow_name(uint32_t overflow);
/* Reports an error of a channel function on @name (@role's, 0 none). */
void chan_err(const char *what, const char *name, int role, int err);
/* Opens @name as its reader for recv: a broadcast subscriber maps the ring
 * read-only where it can.  0 or a negative errno. */
int recv_open(const struct args *a, const char *name, shmkit_chan **ch);
/* Reports recv's error @err on @name, a channel of @kind: a timeout, a
 * dead writer (named), or another error. */
void recv_err(const struct args *a, const char *name, int kind, long err);

/* ---------------------------------------------------------------------- */
/* The parser's own: args.c and values.c                                  */

/* An option as the command line gave it. */
struct given {
	const char *name;   /* "--size", once seen */
	const char *value;  /* NULL: none (a flag, or not seen) */
	bool seen;
};

/* Reports a usage error of @what (a command, or a word of the command
 * line) and the hint to @err; returns EXIT_USAGE. */
int __attribute__((format(printf, 4, 5)))
usage_err(FILE *err, const char *what, const char *name, const char *fmt, ...);

/* The values of command @c's options (values.c): each parses @o, when it
 * was given, into *out; 0, or EXIT_USAGE after reporting. */
int opt_bytes(FILE *err, const struct command *c, const struct given *o, uint64_t *out);
int opt_mode(FILE *err, const struct command *c, const struct given *o, unsigned *out);
int opt_capacity(FILE *err, const struct command *c, const struct given *o, size_t *out);
int opt_count(FILE *err, const struct command *c, const struct given *o, uint64_t *out);
int opt_ms(FILE *err, const struct command *c, const struct given *o, int64_t *out);
int opt_wait(FILE *err, const struct command *c, const struct given *o, unsigned *out);
int opt_kind(FILE *err, const struct command *c, const struct given *o, uint32_t *out);
int opt_start(FILE *err, const struct command *c, const struct given *o, uint32_t *out);
/* create's --policy @o, which --wait (@wait) may have made redundant */
int opt_policy(FILE *err, const struct command *c, const struct given *o,
	       const struct given *wait, struct shmkit_chan_opts *co);

/* ---------------------------------------------------------------------- */
/* Tables of fields (fields.c): what stat writes, as text and as JSON     */

/* A list of items: those shown, or why there are none. */
struct list {
	const void *items;
	int n;
	int err;
};

enum ftype {
	F_U32, F_U64, F_I32, F_INT,
	F_BOOL,    /* int: no/yes (or .words), false/true */
	F_ALIVE,   /* int 1, 0, -1: alive/dead/unknown, true/false/null */
	F_TIME,    /* int64 ns since the epoch: local time (.none for 0), the ns */
	F_MODE,    /* uint32: 0600, "0600" */
	F_COMM,    /* char[SHMKIT_COMM_MAX]: made printable, a JSON string */
	F_TEXT,    /* .text(): as it is, a JSON string */
	F_ROLE,    /* pid (int32 at off), alive (int at off2): "pid N (alive)"
		    * or none; KEY_pid and KEY_alive, null for none */
	F_COUNTS,  /* live, dead (uint32 at off, off2): "N live, M dead";
		    * KEY_live and KEY_dead */
	F_LIST,    /* struct list at off, of .sub's items */
	F_OBJECT,  /* .sub's rows on the same object, its error (int) at off;
		    * the text writes its first row after its label */
};

struct table;

/*
 * One field.  In the text, a block's row is a line "LABEL VALUE" and a
 * line table's row a piece of its item's line; in the JSON, a member.  A
 * row the two forms place or show differently is two rows, one with no
 * human, one with no key.
 */
struct field {
	const char *human;  /* a block's label, or a line's template with one %s;
			     * NULL: not in the text; "": a list without a head */
	const char *key;    /* NULL: not in the JSON */
	enum ftype type;
	size_t off, off2;   /* in the object */
	unsigned kinds;     /* the kinds of object it is for (table.kind); 0: all */
	bool (*has)(const void *obj);  /* false: no value (JSON null) */
	const char *none;   /* the text for no value; NULL: no line */
	const char *const *words;      /* F_BOOL: for false, for true */
	const char *(*text)(const void *obj, char *buf, size_t len);  /* F_TEXT */
	const struct table *sub;       /* F_LIST, F_OBJECT */
	const int *quiet;   /* F_LIST, F_OBJECT: errors the text says nothing
			     * of (0 ends) */
};

struct table {
	const struct field *rows;
	size_t nrows;
	size_t size;        /* an item's, for a list */
	unsigned (*kind)(const void *obj);  /* which .kinds the object is */
	int indent;         /* where its lines start */
	int width;          /* a block's label width; 0: a line per item */
	bool json_lines;    /* a list: a JSON item per line */
};

#define TABLE(r) .rows = (r), .nrows = sizeof(r) / sizeof((r)[0])

/* Writes the fields of @t on @obj: as text, a line each (or a line per
 * item); as one JSON document. */
void fields_human(const struct table *t, const void *obj);
void fields_json(const struct table *t, const void *obj);

/* A liveness (1, 0, -1) as the text says it: alive, dead, unknown. */
const char *alive_word(int alive);

#endif /* SHMKIT_CLI_H */
