/* SPDX-License-Identifier: MIT */
/*
 * args.c - the CLI's argument parser (see args.h): every option, by name,
 * with the commands that take it; "--opt VALUE", "--opt=VALUE", flags and
 * "--" for every command; the rules between options; and the usage
 * errors, written to the caller's FILE.  The values' syntax is values.c's,
 * the commands' names and help help.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "shmkit.h"

/* What parse_args() and the commands' parsers return besides 0 and
 * EXIT_USAGE: --help was given. */
#define PARSE_HELP (-2)

/* Every option of every command, as the command line gave it. */
struct opts {
	struct given size, raw, excl, mode, channel, capacity, policy, wait;
	struct given offset, length;
	struct given create, null, timeout, count, start, prefix, follow;
	struct given json, dry_run;
};

#define AT(opt) offsetof(struct opts, opt)
#define ON(cmd) (1u << CMD_##cmd)
#define CHAN_CMDS (ON(CREATE) | ON(SEND) | ON(RECV))

/* The options: what each is called, whether it takes a value, where the
 * parser puts it, and the commands that take it. */
static const struct option {
	const char *name;
	enum { FLAG, VALUE } takes;
	size_t at;          /* its struct given in struct opts */
	unsigned cmds;      /* ON() each command */
} option_table[] = {
	{ "--size", VALUE, AT(size), ON(CREATE) },
	{ "--raw", FLAG, AT(raw), ON(CREATE) | ON(WRITE) | ON(READ) },
	{ "--excl", FLAG, AT(excl), ON(CREATE) },
	{ "--mode", VALUE, AT(mode), ON(CREATE) },
	{ "--channel", VALUE, AT(channel), CHAN_CMDS },
	{ "--capacity", VALUE, AT(capacity), CHAN_CMDS },
	{ "--policy", VALUE, AT(policy), ON(CREATE) },
	{ "--wait", VALUE, AT(wait), ON(CREATE) },
	{ "--offset", VALUE, AT(offset), ON(WRITE) | ON(READ) },
	{ "--length", VALUE, AT(length), ON(READ) },
	{ "--create", FLAG, AT(create), ON(SEND) | ON(RECV) },
	{ "--null", FLAG, AT(null), ON(SEND) | ON(RECV) },
	{ "--timeout", VALUE, AT(timeout), ON(SEND) | ON(RECV) },
	{ "--count", VALUE, AT(count), ON(RECV) },
	{ "--start", VALUE, AT(start), ON(RECV) },
	{ "--prefix", FLAG, AT(prefix), ON(RECV) },
	{ "--follow", FLAG, AT(follow), ON(RECV) },
	{ "--json", FLAG, AT(json), ON(LS) | ON(STAT) },
	{ "--dry-run", FLAG, AT(dry_run), ON(GC) },
};

/* The option of command @c called @name (@len bytes), or NULL. */
static const struct option *find_option(const struct command *c, const char *name,
					size_t len)
{
	for (size_t k = 0; k < sizeof(option_table) / sizeof(option_table[0]); k++) {
		const struct option *o = &option_table[k];
		if ((o->cmds & (1u << c->id)) && strlen(o->name) == len &&
		    !strncmp(o->name, name, len))
			return o;
	}
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Messages                                                               */

/* A name as it appears in messages: '' for the empty one. */
static const char *shown(const char *name)
{
	return (name && *name) ? name : "''";
}

void args_vmsg(FILE *f, const char *what, const char *name, const char *fmt, va_list ap)
{
	fprintf(f, "shmkit: %s", what);
	if (name)
		fprintf(f, " %s", shown(name));
	fputs(": ", f);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

int __attribute__((format(printf, 4, 5)))
usage_err(FILE *err, const char *what, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	args_vmsg(err, what, name, fmt, ap);
	va_end(ap);
	if (args_find_command(what))
		fprintf(err, "Try 'shmkit %s --help' for more information.\n", what);
	else
		fputs("Try 'shmkit --help' for more information.\n", err);
	return EXIT_USAGE;
}

/* Why shmkit_name_check() refused @name (it returned @err). */
static const char *name_problem(const char *name, int err)
{
	bool sysv = !strncmp(name, "sysv:", 5), file = !strncmp(name, "file:", 5);
	const char *p = strncmp(name, "posix:", 6) ? name : name + 6;

	if (*name == '\0')
		return "empty name";
	if (err == -ENAMETOOLONG)
		return (sysv || file) ? "name too long"
				      : "too long (a POSIX name has at most 200 bytes)";
	if (sysv) {
		if (strchr(name + 5, ':'))
			return "expected sysv:PATH:PROJ, PROJ a number whose low 8 bits are not 0";
		return "expected sysv:KEY, KEY 1..0xffffffff in decimal or 0x hex";
	}
	if (file)
		return "expected file:PATH, the path of a regular file";
	if (*p == '\0')
		return "empty name";
	if (strchr(p, '/'))
		return "'/' is not allowed in a POSIX name (use file:PATH for a file)";
	if (!strcmp(p, ".") || !strcmp(p, ".."))
		return "'.' and '..' are not names";
	return "a POSIX name has only letters, digits, '.', '_' and '-'";
}

/* Checks @name up front; a bad one is a usage error. */
static int check_name(FILE *err, const char *what, const char *name)
{
	int ret = shmkit_name_check(name);

	if (ret > 0)
		return 0;
	return usage_err(err, what, name, "invalid name: %s", name_problem(name, ret));
}

/* ---------------------------------------------------------------------- */
/* Options                                                                */

/*
 * Parses @argv (the command's arguments, after its name) into *o, against
 * the options @c takes: "--opt VALUE", "--opt=VALUE", flags, "--" ends the
 * options.  Positional arguments are moved to the front of @argv; *npos
 * tells how many.  Returns 0, EXIT_USAGE or PARSE_HELP.
 */
static int parse_args(FILE *err, const struct command *c, int argc, char **argv,
		      struct opts *o, int *npos)
{
	bool options = true;
	int n = 0;

	for (int i = 0; i < argc; i++) {
		char *arg = argv[i];
		if (!options || arg[0] != '-' || arg[1] == '\0') {
			argv[n++] = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			options = false;
			continue;
		}
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			return PARSE_HELP;
		const char *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
		const struct option *opt = find_option(c, arg, len);
		if (!opt || arg[1] != '-')
			return usage_err(err, c->name, NULL, "unknown option '%.*s'", (int)len, arg);
		struct given *g = (struct given *)((char *)o + opt->at);
		if (g->seen)
			return usage_err(err, c->name, NULL, "option '%s' given twice", opt->name);
		g->seen = true;
		g->name = opt->name;
		if (opt->takes == FLAG) {
			if (eq)
				return usage_err(err, c->name, NULL, "option '%s' takes no value",
						 opt->name);
			continue;
		}
		if (eq)
			g->value = eq + 1;
		else if (i + 1 < argc)
			g->value = argv[++i];
		else
			return usage_err(err, c->name, NULL, "option '%s' needs a value", opt->name);
	}
	*npos = n;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The commands' arguments                                                */

/* The one NAME of a command, checked. */
static int one_name(FILE *err, const struct command *c, char **argv, int n,
		    struct args *a)
{
	if (n != 1)
		return usage_err(err, c->name, NULL, n ? "too many arguments" : "missing NAME");
	a->name = argv[0];
	return check_name(err, c->name, argv[0]);
}

/* create --channel: @o are create's. */
static int parse_channel(FILE *err, const struct command *c, const struct opts *o,
			 struct args *a)
{
	int ret;

	if (o->size.seen)
		return usage_err(err, c->name, NULL,
				 "--channel and --size do not go together "
				 "(a channel is as large as its --capacity)");
	if (o->raw.seen)
		return usage_err(err, c->name, NULL,
				 "--channel and --raw do not go together "
				 "(a channel lives in a shmkit segment)");
	if ((ret = opt_kind(err, c, &o->channel, &a->co.kind)) != 0)
		return ret;
	if (!o->capacity.seen)
		return usage_err(err, c->name, NULL, "missing --capacity");
	a->channel = true;
	a->co.mode = SHMKIT_DEFAULT_MODE;
	if ((ret = opt_capacity(err, c, &o->capacity, &a->co.capacity)) != 0 ||
	    (ret = opt_mode(err, c, &o->mode, &a->co.mode)) != 0 ||
	    (ret = opt_wait(err, c, &o->wait, &a->co.policy)) != 0 ||
	    (ret = opt_policy(err, c, &o->policy, &o->wait, &a->co)) != 0)
		return ret;
	return 0;
}

static int parse_create(FILE *err, const struct command *c, int argc, char **argv,
			struct args *a)
{
	struct opts o = { 0 };
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, &o, &n)) != 0 ||
	    (ret = one_name(err, c, argv, n, a)) != 0)
		return ret;
	a->flags = SHMKIT_CREATE;
	if (o.excl.seen)
		a->flags |= SHMKIT_EXCL;
	if (o.channel.seen)
		return parse_channel(err, c, &o, a);
	const struct given *chan_only[] = { &o.capacity, &o.policy, &o.wait };
	for (size_t i = 0; i < sizeof(chan_only) / sizeof(chan_only[0]); i++)
		if (chan_only[i]->seen)
			return usage_err(err, c->name, NULL, "%s needs --channel",
					 chan_only[i]->name);
	if (!o.size.seen)
		return usage_err(err, c->name, NULL, "missing --size");
	a->mode = SHMKIT_DEFAULT_MODE;
	if ((ret = opt_bytes(err, c, &o.size, &a->size)) != 0 ||
	    (ret = opt_mode(err, c, &o.mode, &a->mode)) != 0)
		return ret;
	if (a->size == 0)
		return usage_err(err, c->name, NULL,
				 "invalid --size '%s': size must be at least 1 byte", o.size.value);
	if (o.raw.seen)
		a->flags |= SHMKIT_RAW;
	return 0;
}

static int parse_write(FILE *err, const struct command *c, int argc, char **argv,
		       struct args *a)
{
	struct opts o = { 0 };
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, &o, &n)) != 0 ||
	    (ret = one_name(err, c, argv, n, a)) != 0 ||
	    (ret = opt_bytes(err, c, &o.offset, &a->offset)) != 0)
		return ret;
	if (o.raw.seen)
		a->flags = SHMKIT_RAW;
	return 0;
}

static int parse_read(FILE *err, const struct command *c, int argc, char **argv,
		      struct args *a)
{
	struct opts o = { 0 };
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, &o, &n)) != 0 ||
	    (ret = one_name(err, c, argv, n, a)) != 0 ||
	    (ret = opt_bytes(err, c, &o.offset, &a->offset)) != 0 ||
	    (ret = opt_bytes(err, c, &o.length, &a->length)) != 0)
		return ret;
	a->has_length = o.length.seen;
	a->flags = SHMKIT_RDONLY;
	if (o.raw.seen)
		a->flags |= SHMKIT_RAW;
	return 0;
}

/* What send and recv share: NAME, --create, --capacity, --null, --timeout
 * and --channel. */
static int chan_args(FILE *err, const struct command *c, int argc, char **argv,
		     struct opts *o, struct args *a)
{
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, o, &n)) != 0)
		return ret;
	if (c->id == CMD_RECV && n > 1) {
		/* recv NAME...: every one valid */
		for (int i = 0; i < n; i++)
			if ((ret = check_name(err, c->name, argv[i])) != 0)
				return ret;
		a->name = argv[0];
	} else if ((ret = one_name(err, c, argv, n, a)) != 0) {
		return ret;
	}
	a->pos = argv;
	a->npos = n;
	a->timeout_ns = -1;
	a->timeout_ms = o->timeout.value;
	a->term = o->null.seen ? '\0' : '\n';
	if (o->capacity.seen && !o->create.seen)
		return usage_err(err, c->name, NULL,
				 "--capacity needs --create (an existing channel keeps its own)");
	if (o->channel.seen && !o->create.seen)
		return usage_err(err, c->name, NULL,
				 "--channel needs --create (an existing channel is opened "
				 "whatever its kind)");
	if ((ret = opt_kind(err, c, &o->channel, &a->co.kind)) != 0 ||
	    (ret = opt_capacity(err, c, &o->capacity, &a->co.capacity)) != 0 ||
	    (ret = opt_ms(err, c, &o->timeout, &a->timeout_ns)) != 0)
		return ret;
	if (o->create.seen)
		a->flags = SHMKIT_CREATE;
	return 0;
}

static int parse_send(FILE *err, const struct command *c, int argc, char **argv,
		      struct args *a)
{
	struct opts o = { 0 };

	return chan_args(err, c, argc, argv, &o, a);
}

static int parse_recv(FILE *err, const struct command *c, int argc, char **argv,
		      struct args *a)
{
	struct opts o = { 0 };
	int ret;

	if ((ret = chan_args(err, c, argc, argv, &o, a)) != 0 ||
	    (ret = opt_count(err, c, &o.count, &a->count)) != 0 ||
	    (ret = opt_start(err, c, &o.start, &a->co.start)) != 0)
		return ret;
	a->has_start = o.start.seen;
	a->prefix = o.prefix.seen;
	/* --count follows too: N messages, whichever writers send them */
	a->follow = o.follow.seen || o.count.seen;
	return 0;
}

/* ls and gc: no NAME, and a flag each (--json, --dry-run). */
static int parse_listing(FILE *err, const struct command *c, int argc, char **argv,
			 struct args *a)
{
	struct opts o = { 0 };
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, &o, &n)) != 0)
		return ret;
	if (n != 0)
		return usage_err(err, c->name, NULL, "too many arguments");
	a->json = o.json.seen;
	a->dry_run = o.dry_run.seen;
	return 0;
}

static int parse_stat(FILE *err, const struct command *c, int argc, char **argv,
		      struct args *a)
{
	struct opts o = { 0 };
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, &o, &n)) != 0 ||
	    (ret = one_name(err, c, argv, n, a)) != 0)
		return ret;
	a->json = o.json.seen;
	return 0;
}

static int parse_rm(FILE *err, const struct command *c, int argc, char **argv,
		    struct args *a)
{
	struct opts o = { 0 };
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, &o, &n)) != 0)
		return ret;
	if (n == 0)
		return usage_err(err, c->name, NULL, "missing NAME");
	for (int i = 0; i < n; i++)
		if ((ret = check_name(err, c->name, argv[i])) != 0)
			return ret;
	a->pos = argv;
	a->npos = n;
	return 0;
}

/* bench parses its own arguments (bench/cli.c): all of them go there. */
static int parse_bench(FILE *err, const struct command *c, int argc, char **argv,
		       struct args *a)
{
	(void)err;
	(void)c;
	a->pos = argv;
	a->npos = argc;
	return 0;
}

static int parse_help(FILE *err, const struct command *c, int argc, char **argv,
		      struct args *a)
{
	struct opts o = { 0 };
	int n, ret = parse_args(err, c, argc, argv, &o, &n);

	a->action = ARGS_USAGE;
	if (ret == PARSE_HELP)
		return 0;
	if (ret)
		return ret;
	if (n > 1)
		return usage_err(err, c->name, NULL, "too many arguments");
	if (n == 1) {
		const struct command *which = args_find_command(argv[0]);
		if (!which)
			return usage_err(err, c->name, NULL, "unknown command '%s'", argv[0]);
		a->action = ARGS_HELP;
		a->cmd = which;
	}
	return 0;
}

static int (*const parsers[CMD_COUNT])(FILE *err, const struct command *c, int argc,
					 char **argv, struct args *a) = {
	[CMD_CREATE] = parse_create,
	[CMD_WRITE] = parse_write,
	[CMD_READ] = parse_read,
	[CMD_SEND] = parse_send,
	[CMD_RECV] = parse_recv,
	[CMD_LS] = parse_listing,
	[CMD_STAT] = parse_stat,
	[CMD_RM] = parse_rm,
	[CMD_GC] = parse_listing,
	[CMD_BENCH] = parse_bench,
	[CMD_HELP] = parse_help,
};

int args_parse(int argc, char **argv, struct args *a, FILE *err)
{
	const struct command *c;
	int ret;

	memset(a, 0, sizeof(*a));
	if (argc < 2)
		return usage_err(err, "usage", NULL, "missing command");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		if (argc > 2)
			return usage_err(err, argv[1], NULL, "takes no arguments");
		a->action = ARGS_USAGE;
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		if (argc > 2)
			return usage_err(err, argv[1], NULL, "takes no arguments");
		a->action = ARGS_VERSION;
		return 0;
	}
	if (argv[1][0] == '-')
		return usage_err(err, argv[1], NULL, "unknown option");
	c = args_find_command(argv[1]);
	if (!c)
		return usage_err(err, argv[1], NULL, "unknown command");
	a->action = ARGS_RUN;
	a->cmd = c;
	ret = parsers[c->id](err, c, argc - 2, argv + 2, a);
	if (ret == PARSE_HELP) {
		memset(a, 0, sizeof(*a));
		a->action = ARGS_HELP;
		a->cmd = c;
		return 0;
	}
	return ret;
}
