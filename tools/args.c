/* SPDX-License-Identifier: MIT */
/*
 * args.c - the CLI's argument parser (see args.h): "--opt VALUE",
 * "--opt=VALUE", flags and "--" for every command, the values' syntax
 * (byte counts, modes, capacities, milliseconds, wait policies), the rules
 * between options, and the usage errors, written to the caller's FILE.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "shmkit.h"

/* What parse_args() and the commands' parsers return besides 0 and
 * EXIT_USAGE: --help was given. */
#define PARSE_HELP (-2)

struct option_spec {
	const char *name;   /* "--size" */
	bool has_value;
	const char *value;  /* out: the value given (NULL if none) */
	bool seen;          /* out */
};

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

/* Reports a usage error and the hint to @err; returns EXIT_USAGE. */
static int __attribute__((format(printf, 4, 5)))
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
/* Options and values                                                     */

/*
 * Parses @argv (the command's arguments, after its name) against @opts:
 * "--opt VALUE", "--opt=VALUE", flags, "--" ends the options.  Positional
 * arguments are moved to the front of @argv; *npos tells how many.
 * Returns 0, EXIT_USAGE or PARSE_HELP.
 */
static int parse_args(FILE *err, const struct command *c, int argc, char **argv,
		      struct option_spec *opts, size_t nopts, int *npos)
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
		struct option_spec *o = NULL;
		for (size_t k = 0; k < nopts; k++) {
			if (strlen(opts[k].name) == len && !strncmp(opts[k].name, arg, len)) {
				o = &opts[k];
				break;
			}
		}
		if (!o || arg[1] != '-')
			return usage_err(err, c->name, NULL, "unknown option '%.*s'", (int)len, arg);
		if (o->seen)
			return usage_err(err, c->name, NULL, "option '%s' given twice", o->name);
		o->seen = true;
		if (!o->has_value) {
			if (eq)
				return usage_err(err, c->name, NULL, "option '%s' takes no value",
						 o->name);
			continue;
		}
		if (eq)
			o->value = eq + 1;
		else if (i + 1 < argc)
			o->value = argv[++i];
		else
			return usage_err(err, c->name, NULL, "option '%s' needs a value", o->name);
	}
	*npos = n;
	return 0;
}

const char *args_bytes(const char *s, uint64_t *out)
{
	static const char suffixes[] = "KMGT";
	uint64_t v = 0;
	unsigned shift = 0;
	const char *p = s;

	if (*s == '\0')
		return "empty value";
	if (*s == '-')
		return "must not be negative";
	if (!isdigit((unsigned char)*s))
		return "not a number";
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return "too large";
		v = v * 10 + d;
	}
	if (*p) {
		const char *k = strchr(suffixes, toupper((unsigned char)*p));
		if (!k || *k == '\0')
			return "unknown suffix (use K, M, G or T)";
		shift = 10u * (unsigned)(k - suffixes + 1);
		p++;
		if (p[0] == 'i' && p[1] == 'B')
			p += 2;
		if (*p)
			return "trailing characters after the number";
	}
	if (shift && v > (UINT64_MAX >> shift))
		return "too large";
	v <<= shift;
	if (v > SIZE_MAX)
		return "too large";
	*out = v;
	return NULL;
}

/* Parses the value of byte-count option @o (if given) into *out. */
static int opt_bytes(FILE *err, const struct command *c, const struct option_spec *o,
		     uint64_t *out)
{
	const char *why;

	if (!o->seen)
		return 0;
	why = args_bytes(o->value, out);
	if (why)
		return usage_err(err, c->name, NULL, "invalid %s '%s': %s", o->name, o->value,
				 why);
	return 0;
}

/* Parses an octal permission mode, 1..0777. */
static int opt_mode(FILE *err, const struct command *c, const struct option_spec *o,
		    unsigned *out)
{
	unsigned v = 0;
	const char *p = o->value;

	if (!o->seen)
		return 0;
	if (*p == '\0')
		return usage_err(err, c->name, NULL, "invalid %s '': empty value", o->name);
	for (; *p; p++) {
		if (*p < '0' || *p > '7')
			return usage_err(err, c->name, NULL,
					 "invalid %s '%s': not an octal mode such as 0600",
					 o->name, o->value);
		v = v * 8 + (unsigned)(*p - '0');
		if (v > 0777)
			return usage_err(err, c->name, NULL,
					 "invalid %s '%s': permission bits only, at most 0777",
					 o->name, o->value);
	}
	if (v == 0)
		return usage_err(err, c->name, NULL,
				 "invalid %s '%s': a mode must grant some permission",
				 o->name, o->value);
	*out = v;
	return 0;
}

/* Parses --capacity: a power of two from 64 bytes to 1 GiB. */
static int opt_capacity(FILE *err, const struct command *c, const struct option_spec *o,
			size_t *out)
{
	uint64_t v = 0;
	int ret = opt_bytes(err, c, o, &v);

	if (ret || !o->seen)
		return ret;
	if (v < 64 || v > ((uint64_t)1 << 30) || (v & (v - 1)))
		return usage_err(err, c->name, NULL,
				 "invalid %s '%s': a channel's capacity is a power of two "
				 "from 64 to 1G", o->name, o->value);
	*out = (size_t)v;
	return 0;
}

/* Parses a count of at least 1 (a byte count's syntax). */
static int opt_count(FILE *err, const struct command *c, const struct option_spec *o,
		     uint64_t *out)
{
	int ret = opt_bytes(err, c, o, out);

	if (ret || !o->seen)
		return ret;
	if (*out == 0)
		return usage_err(err, c->name, NULL, "invalid %s '0': must be at least 1",
				 o->name);
	return 0;
}

/* Parses milliseconds, plain decimal, into nanoseconds (@out stays -1, no
 * limit, when the option is not given). */
static int opt_ms(FILE *err, const struct command *c, const struct option_spec *o,
		  int64_t *out)
{
	int64_t v = 0;
	const char *p = o->value;

	if (!o->seen)
		return 0;
	if (*p == '\0')
		return usage_err(err, c->name, NULL, "invalid %s '': empty value", o->name);
	if (*p == '-')
		return usage_err(err, c->name, NULL, "invalid %s '%s': must not be negative",
				 o->name, o->value);
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return usage_err(err, c->name, NULL,
					 "invalid %s '%s': milliseconds, digits only",
					 o->name, o->value);
		v = v * 10 + (*p - '0');
		if (v > INT64_MAX / 1000000 / 10)
			return usage_err(err, c->name, NULL, "invalid %s '%s': too large",
					 o->name, o->value);
	}
	*out = v * 1000000;
	return 0;
}

static const char *const policy_names[] = {
	[SHMKIT_WAIT_SPIN] = "spin",
	[SHMKIT_WAIT_SPIN_SLEEP] = "spin-sleep",
	[SHMKIT_WAIT_SLEEP] = "sleep",
};

/* Parses a wait policy (--wait, and --policy's older spelling): spin,
 * spin-sleep or sleep.  1 when @v is none of them. */
static int wait_value(const char *v, unsigned *out)
{
	for (unsigned i = SHMKIT_WAIT_SPIN; i <= SHMKIT_WAIT_SLEEP; i++) {
		if (!strcmp(v, policy_names[i])) {
			*out = i;
			return 0;
		}
	}
	return 1;
}

/* Parses --wait: spin, spin-sleep or sleep. */
static int opt_wait(FILE *err, const struct command *c, const struct option_spec *o,
		    unsigned *out)
{
	if (!o->seen || !wait_value(o->value, out))
		return 0;
	return usage_err(err, c->name, NULL,
			 "invalid %s '%s': expected spin, spin-sleep or sleep",
			 o->name, o->value);
}

/*
 * Parses create's --policy @o: a broadcast channel's backpressure or
 * overwrite into co->overflow, or (the spelling --wait replaced) a wait
 * policy into co->policy, unless --wait (@wait) gave one.
 */
static int opt_policy(FILE *err, const struct command *c, const struct option_spec *o,
		      const struct option_spec *wait, struct shmkit_chan_opts *co)
{
	bool bcast = co->kind == SHMKIT_CHAN_BROADCAST;

	if (!o->seen)
		return 0;
	if (!strcmp(o->value, "backpressure") || !strcmp(o->value, "overwrite")) {
		if (!bcast)
			return usage_err(err, c->name, NULL,
					 "%s %s is for broadcast channels (--channel broadcast)",
					 o->name, o->value);
		co->overflow = o->value[0] == 'o' ? SHMKIT_BCAST_OVERWRITE
						  : SHMKIT_BCAST_BACKPRESSURE;
		return 0;
	}
	if (!wait_value(o->value, &co->policy)) {
		if (wait->seen)
			return usage_err(err, c->name, NULL,
					 "%s %s and --wait both say how to wait: give --wait alone",
					 o->name, o->value);
		return 0;
	}
	return usage_err(err, c->name, NULL, "invalid %s '%s': expected %s", o->name,
			 o->value, bcast ? "backpressure or overwrite"
					 : "spin, spin-sleep or sleep (better given as --wait)");
}

/* Parses @o's value as one of @n @words (NULL entries unused) into its
 * index; @expected lists them for the error. */
static int opt_word(FILE *err, const struct command *c, const struct option_spec *o,
		    const char *const *words, uint32_t n, const char *expected, uint32_t *out)
{
	if (!o->seen)
		return 0;
	for (uint32_t k = 0; k < n; k++) {
		if (words[k] && !strcmp(o->value, words[k])) {
			*out = k;
			return 0;
		}
	}
	return usage_err(err, c->name, NULL, "invalid %s '%s': expected %s", o->name, o->value,
			 expected);
}

/* Parses a channel kind (--channel): spsc, mpsc or broadcast. */
static int opt_kind(FILE *err, const struct command *c, const struct option_spec *o,
		    uint32_t *out)
{
	static const char *const kinds[] = {
		[SHMKIT_CHAN_SPSC] = "spsc",
		[SHMKIT_CHAN_MPSC] = "mpsc",
		[SHMKIT_CHAN_BROADCAST] = "broadcast",
	};

	return opt_word(err, c, o, kinds, sizeof(kinds) / sizeof(kinds[0]),
			"spsc, mpsc or broadcast", out);
}

/* Parses recv's --start: where a broadcast subscriber joins. */
static int opt_start(FILE *err, const struct command *c, const struct option_spec *o,
		     uint32_t *out)
{
	static const char *const starts[] = {
		[SHMKIT_SUB_NEXT] = "next",
		[SHMKIT_SUB_NEWEST] = "newest",
		[SHMKIT_SUB_OLDEST] = "oldest",
	};

	return opt_word(err, c, o, starts, sizeof(starts) / sizeof(starts[0]),
			"next, newest or oldest", out);
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

/* create --channel: @opts are create's. */
static int parse_channel(FILE *err, const struct command *c, struct option_spec *opts,
			 struct args *a)
{
	int ret;

	if (opts[0].seen)
		return usage_err(err, c->name, NULL,
				 "--channel and --size do not go together "
				 "(a channel is as large as its --capacity)");
	if (opts[1].seen)
		return usage_err(err, c->name, NULL,
				 "--channel and --raw do not go together "
				 "(a channel lives in a shmkit segment)");
	if ((ret = opt_kind(err, c, &opts[4], &a->co.kind)) != 0)
		return ret;
	if (!opts[5].seen)
		return usage_err(err, c->name, NULL, "missing --capacity");
	a->channel = true;
	a->co.mode = SHMKIT_DEFAULT_MODE;
	if ((ret = opt_capacity(err, c, &opts[5], &a->co.capacity)) != 0 ||
	    (ret = opt_mode(err, c, &opts[3], &a->co.mode)) != 0 ||
	    (ret = opt_wait(err, c, &opts[7], &a->co.policy)) != 0 ||
	    (ret = opt_policy(err, c, &opts[6], &opts[7], &a->co)) != 0)
		return ret;
	return 0;
}

static int parse_create(FILE *err, const struct command *c, int argc, char **argv,
			struct args *a)
{
	struct option_spec opts[] = {
		{ .name = "--size", .has_value = true },
		{ .name = "--raw" },
		{ .name = "--excl" },
		{ .name = "--mode", .has_value = true },
		{ .name = "--channel", .has_value = true },
		{ .name = "--capacity", .has_value = true },
		{ .name = "--policy", .has_value = true },
		{ .name = "--wait", .has_value = true },
	};
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, opts, 8, &n)) != 0 ||
	    (ret = one_name(err, c, argv, n, a)) != 0)
		return ret;
	a->flags = SHMKIT_CREATE;
	if (opts[2].seen)
		a->flags |= SHMKIT_EXCL;
	if (opts[4].seen)
		return parse_channel(err, c, opts, a);
	for (int i = 5; i < 8; i++)
		if (opts[i].seen)
			return usage_err(err, c->name, NULL, "%s needs --channel", opts[i].name);
	if (!opts[0].seen)
		return usage_err(err, c->name, NULL, "missing --size");
	a->mode = SHMKIT_DEFAULT_MODE;
	if ((ret = opt_bytes(err, c, &opts[0], &a->size)) != 0 ||
	    (ret = opt_mode(err, c, &opts[3], &a->mode)) != 0)
		return ret;
	if (a->size == 0)
		return usage_err(err, c->name, NULL,
				 "invalid --size '%s': size must be at least 1 byte",
				 opts[0].value);
	if (opts[1].seen)
		a->flags |= SHMKIT_RAW;
	return 0;
}

static int parse_write(FILE *err, const struct command *c, int argc, char **argv,
		       struct args *a)
{
	struct option_spec opts[] = {
		{ .name = "--offset", .has_value = true },
		{ .name = "--raw" },
	};
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, opts, 2, &n)) != 0 ||
	    (ret = one_name(err, c, argv, n, a)) != 0 ||
	    (ret = opt_bytes(err, c, &opts[0], &a->offset)) != 0)
		return ret;
	if (opts[1].seen)
		a->flags = SHMKIT_RAW;
	return 0;
}

static int parse_read(FILE *err, const struct command *c, int argc, char **argv,
		      struct args *a)
{
	struct option_spec opts[] = {
		{ .name = "--offset", .has_value = true },
		{ .name = "--length", .has_value = true },
		{ .name = "--raw" },
	};
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, opts, 3, &n)) != 0 ||
	    (ret = one_name(err, c, argv, n, a)) != 0 ||
	    (ret = opt_bytes(err, c, &opts[0], &a->offset)) != 0 ||
	    (ret = opt_bytes(err, c, &opts[1], &a->length)) != 0)
		return ret;
	a->has_length = opts[1].seen;
	a->flags = SHMKIT_RDONLY;
	if (opts[2].seen)
		a->flags |= SHMKIT_RAW;
	return 0;
}

/* The arguments send and recv share: NAME, --create [0], --capacity [1],
 * --null [2], --timeout [3], --channel [4]. */
static int chan_args(FILE *err, const struct command *c, char **argv, int n,
		     const struct option_spec *opts, struct args *a)
{
	int ret;

	if ((ret = one_name(err, c, argv, n, a)) != 0)
		return ret;
	a->timeout_ns = -1;
	a->timeout_ms = opts[3].value;
	a->term = opts[2].seen ? '\0' : '\n';
	if (opts[1].seen && !opts[0].seen)
		return usage_err(err, c->name, NULL,
				 "--capacity needs --create (an existing channel keeps its own)");
	if (opts[4].seen && !opts[0].seen)
		return usage_err(err, c->name, NULL,
				 "--channel needs --create (an existing channel is opened "
				 "whatever its kind)");
	if ((ret = opt_kind(err, c, &opts[4], &a->co.kind)) != 0 ||
	    (ret = opt_capacity(err, c, &opts[1], &a->co.capacity)) != 0 ||
	    (ret = opt_ms(err, c, &opts[3], &a->timeout_ns)) != 0)
		return ret;
	if (opts[0].seen)
		a->flags = SHMKIT_CREATE;
	return 0;
}

static int parse_send(FILE *err, const struct command *c, int argc, char **argv,
		      struct args *a)
{
	struct option_spec opts[] = {
		{ .name = "--create" },
		{ .name = "--capacity", .has_value = true },
		{ .name = "--null" },
		{ .name = "--timeout", .has_value = true },
		{ .name = "--channel", .has_value = true },
	};
	int n, ret = parse_args(err, c, argc, argv, opts, 5, &n);

	return ret ? ret : chan_args(err, c, argv, n, opts, a);
}

static int parse_recv(FILE *err, const struct command *c, int argc, char **argv,
		      struct args *a)
{
	struct option_spec opts[] = {
		{ .name = "--create" },
		{ .name = "--capacity", .has_value = true },
		{ .name = "--null" },
		{ .name = "--timeout", .has_value = true },
		{ .name = "--channel", .has_value = true },
		{ .name = "--count", .has_value = true },
		{ .name = "--start", .has_value = true },
	};
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, opts, 7, &n)) != 0 ||
	    (ret = chan_args(err, c, argv, n, opts, a)) != 0 ||
	    (ret = opt_count(err, c, &opts[5], &a->count)) != 0 ||
	    (ret = opt_start(err, c, &opts[6], &a->co.start)) != 0)
		return ret;
	a->has_start = opts[6].seen;
	return 0;
}

static int parse_ls(FILE *err, const struct command *c, int argc, char **argv,
		    struct args *a)
{
	struct option_spec opts[] = {
		{ .name = "--json" },
	};
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, opts, 1, &n)) != 0)
		return ret;
	if (n != 0)
		return usage_err(err, c->name, NULL, "too many arguments");
	a->json = opts[0].seen;
	return 0;
}

static int parse_stat(FILE *err, const struct command *c, int argc, char **argv,
		      struct args *a)
{
	struct option_spec opts[] = {
		{ .name = "--json" },
	};
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, opts, 1, &n)) != 0 ||
	    (ret = one_name(err, c, argv, n, a)) != 0)
		return ret;
	a->json = opts[0].seen;
	return 0;
}

static int parse_rm(FILE *err, const struct command *c, int argc, char **argv,
		    struct args *a)
{
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, NULL, 0, &n)) != 0)
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

static int parse_gc(FILE *err, const struct command *c, int argc, char **argv,
		    struct args *a)
{
	struct option_spec opts[] = {
		{ .name = "--dry-run" },
	};
	int n, ret;

	if ((ret = parse_args(err, c, argc, argv, opts, 1, &n)) != 0)
		return ret;
	if (n != 0)
		return usage_err(err, c->name, NULL, "too many arguments");
	a->dry_run = opts[0].seen;
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
	int n, ret = parse_args(err, c, argc, argv, NULL, 0, &n);

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
	[CMD_LS] = parse_ls,
	[CMD_STAT] = parse_stat,
	[CMD_RM] = parse_rm,
	[CMD_GC] = parse_gc,
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
