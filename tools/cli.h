/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the CLI's files share: the commands that run a parsed
 * command line (struct args, from args.c), the messages every error takes
 * the form of, the help, and the output helpers.  The CLI is libc and
 * libshmkit only.
 *
 *   shmkit.c   main: the command table of runners, help and version
 *   help.c     each command's name, synopsis and help, and the usage
 *   args.c     the argument parser (args.h)
 *   output.c   errors ("shmkit: <what>: <why>"), stdout, JSON strings
 *   region.c   create, write, read, rm
 *   channel.c  create --channel, send, recv
 *   stat.c     stat: one table of fields, written as text or JSON
 *   ls.c       ls and gc
 */
#ifndef SHMKIT_CLI_H
#define SHMKIT_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "args.h"

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

#endif /* SHMKIT_CLI_H */
