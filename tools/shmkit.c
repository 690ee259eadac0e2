/* SPDX-License-Identifier: MIT */
/*
 * shmkit.c - the shmkit command-line tool: parses the command line
 * (args.c), then runs the command (cli.h names the file of each).  Exit
 * status: 0 success, 1 runtime error, 2 usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "bench.h"
#include "cli.h"
#include "shmkit.h"

/* bench lives in bench/ */
static int cmd_bench(const struct args *a)
{
	return bench_command(a->npos, a->pos);
}

/* What runs each command; help is never run (args_parse() makes it
 * ARGS_USAGE or ARGS_HELP). */
static int (*const runners[CMD_COUNT])(const struct args *a) = {
	[CMD_CREATE] = cmd_create,
	[CMD_WRITE] = cmd_write,
	[CMD_READ] = cmd_read,
	[CMD_SEND] = cmd_send,
	[CMD_RECV] = cmd_recv,
	[CMD_LS] = cmd_ls,
	[CMD_STAT] = cmd_stat,
	[CMD_RM] = cmd_rm,
	[CMD_GC] = cmd_gc,
	[CMD_BENCH] = cmd_bench,
};

static int run(int argc, char **argv)
{
	struct args a;
	int ret = args_parse(argc, argv, &a, stderr);

	if (ret)
		return ret;
	switch (a.action) {
	case ARGS_USAGE:
		print_usage();
		return 0;
	case ARGS_VERSION:
		printf("shmkit %s\n", shmkit_version());
		return 0;
	case ARGS_HELP:
		print_command_help(a.cmd);
		return 0;
	case ARGS_RUN:
		break;
	}
	ret = runners[a.cmd->id](&a);
	if (ret == BENCH_EXIT_HELP) {
		print_command_help(a.cmd);
		return 0;
	}
	return ret;
}

int main(int argc, char **argv)
{
	int status;

	/* a closed pipe is EPIPE from write(), handled where it happens */
	signal(SIGPIPE, SIG_IGN);
	status = run(argc, argv);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int e = errno;
		if (e != EPIPE)
			fprintf(stderr, "shmkit: stdout: %s\n", e ? strerror(e) : "write error");
		return EXIT_RUNTIME;
	}
	return status;
}
