/* SPDX-License-Identifier: MIT */
/*
 * shmkit.c - the shmkit command-line tool: create, inspect, read, write and
 * clean up shared-memory regions.
 *
 *   shmkit create NAME --size BYTES [--raw] [--excl] [--mode MODE]
 *   shmkit write NAME [--offset N] [--raw]
 *   shmkit read NAME [--offset N] [--length N] [--raw]
 *   shmkit ls [--json]
 *   shmkit stat NAME [--json]
 *   shmkit rm NAME...
 *   shmkit gc [--dry-run]
 *   shmkit bench [--quick] [--methods LIST] [--json FILE]   (bench/)
 *   shmkit --help | --version
 *
 * Exit status: 0 success, 1 runtime error, 2 usage error.  Errors go to
 * stderr as "shmkit: <what>: <why>".
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "shmkit.h"

enum {
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
};

/* What parse_args() returns besides 0. */
#define PARSE_USAGE (-1) /* a usage error, already reported */
#define PARSE_HELP (-2)  /* --help was given: print the command's help */

struct command {
	const char *name;
	int (*run)(const struct command *c, int argc, char **argv);
	const char *synopsis;
	const char *help;
};

struct option_spec {
	const char *name;   /* "--size" */
	bool has_value;
	const char *value;  /* out: the value given (NULL if none) */
	bool seen;          /* out */
};

static const struct command *find_command(const char *name);

/* ---------------------------------------------------------------------- */
/* Messages                                                               */

/* A name as it appears in messages: '' for the empty one. */
static const char *shown(const char *name)
{
	return (name && *name) ? name : "''";
}

/* Writes "shmkit: WHAT[ NAME]: WHY" to stderr. */
static void verr_msg(const char *what, const char *name, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "shmkit: %s", what);
	if (name)
		fprintf(stderr, " %s", shown(name));
	fputs(": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void __attribute__((format(printf, 3, 4)))
err_msg(const char *what, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_msg(what, name, fmt, ap);
	va_end(ap);
}

/* Reports a usage error and the hint; returns EXIT_USAGE. */
static int __attribute__((format(printf, 3, 4)))
usage_err(const char *what, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_msg(what, name, fmt, ap);
	va_end(ap);
	if (find_command(what))
		fprintf(stderr, "Try 'shmkit %s --help' for more information.\n", what);
	else
		fputs("Try 'shmkit --help' for more information.\n", stderr);
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
static int check_name(const char *what, const char *name)
{
	int ret = shmkit_name_check(name);

	if (ret > 0)
		return 0;
	return usage_err(what, name, "invalid name: %s", name_problem(name, ret));
}

/*
 * Reports a library error on @name.  -ENOENT is "no such segment", except
 * when the name's ftok PATH is what is missing.
 */
static void lib_err(const char *what, const char *name, int err)
{
	if (err == -ENOENT && !strncmp(name, "sysv:", 5)) {
		const char *colon = strrchr(name + 5, ':');
		if (colon) {
			size_t len = (size_t)(colon - (name + 5));
			char *path = strndup(name + 5, len);
			struct stat sb;
			if (path && stat(path, &sb) != 0) {
				int e = errno;
				err_msg(what, name, "ftok %s: %s", path, strerror(e));
				free(path);
				return;
			}
			free(path);
		}
	}
	if (err == -ENOENT)
		err_msg(what, name, "no such segment");
	else if (err == -EPROTO)
		err_msg(what, name, "%s (use --raw for a raw or foreign object)",
			shmkit_strerror(err));
	else
		err_msg(what, name, "%s", shmkit_strerror(err));
}

/* ---------------------------------------------------------------------- */
/* Arguments                                                              */

/*
 * Parses @argv (the command's arguments, after its name) against @opts:
 * "--opt VALUE", "--opt=VALUE", flags, "--" ends the options.  Positional
 * arguments are moved to the front of @argv; *npos tells how many.
 */
static int parse_args(const struct command *c, int argc, char **argv,
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
		if (!o || arg[1] != '-') {
			usage_err(c->name, NULL, "unknown option '%.*s'", (int)len, arg);
			return PARSE_USAGE;
		}
		if (o->seen) {
			usage_err(c->name, NULL, "option '%s' given twice", o->name);
			return PARSE_USAGE;
		}
		o->seen = true;
		if (!o->has_value) {
			if (eq) {
				usage_err(c->name, NULL, "option '%s' takes no value", o->name);
				return PARSE_USAGE;
			}
			continue;
		}
		if (eq) {
			o->value = eq + 1;
		} else if (i + 1 < argc) {
			o->value = argv[++i];
		} else {
			usage_err(c->name, NULL, "option '%s' needs a value", o->name);
			return PARSE_USAGE;
		}
	}
	*npos = n;
	return 0;
}

/*
 * Parses a byte count: decimal digits and an optional binary suffix K, M,
 * G or T (also KiB, MiB, GiB, TiB).  Returns NULL, or why it is refused.
 */
static const char *parse_bytes(const char *s, uint64_t *out)
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
static int opt_bytes(const struct command *c, const struct option_spec *o,
		     uint64_t *out)
{
	const char *why;

	if (!o->seen)
		return 0;
	why = parse_bytes(o->value, out);
	if (why)
		return usage_err(c->name, NULL, "invalid %s '%s': %s", o->name, o->value, why);
	return 0;
}

/* Parses an octal permission mode, 1..0777. */
static int opt_mode(const struct command *c, const struct option_spec *o,
		    unsigned *out)
{
	unsigned v = 0;
	const char *p = o->value;

	if (!o->seen)
		return 0;
	if (*p == '\0')
		return usage_err(c->name, NULL, "invalid %s '': empty value", o->name);
	for (; *p; p++) {
		if (*p < '0' || *p > '7')
			return usage_err(c->name, NULL,
					 "invalid %s '%s': not an octal mode such as 0600",
					 o->name, o->value);
		v = v * 8 + (unsigned)(*p - '0');
		if (v > 0777)
			return usage_err(c->name, NULL,
					 "invalid %s '%s': permission bits only, at most 0777",
					 o->name, o->value);
	}
	if (v == 0)
		return usage_err(c->name, NULL,
				 "invalid %s '%s': a mode must grant some permission",
				 o->name, o->value);
	*out = v;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Output                                                                 */

/* Writes all of buf to fd; 0 or an errno. */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		size_t chunk = len > ((size_t)1 << 30) ? (size_t)1 << 30 : len;
		ssize_t n = write(fd, p, chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* A JSON string of the n bytes at s; invalid UTF-8 becomes U+FFFD. */
static void json_strn(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			printf("\\%c", c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			printf("\\u%04x", c);
			i++;
		} else {
			size_t len = utf8_seq(p + i, n - i);
			if (len == 0) {
				fputs("\\ufffd", stdout);
				i++;
			} else {
				fwrite(p + i, 1, len, stdout);
				i += len;
			}
		}
	}
	putchar('"');
}

static void json_str(const char *s)
{
	if (s)
		json_strn(s, strlen(s));
	else
		fputs("null", stdout);
}

static const char *backend_name(int backend)
{
	switch (backend) {
	case SHMKIT_BACKEND_POSIX:
		return "posix";
	case SHMKIT_BACKEND_SYSV:
		return "sysv";
	case SHMKIT_BACKEND_FILE:
		return "file";
	case SHMKIT_BACKEND_ANON:
		return "anon";
	case SHMKIT_BACKEND_MEMFD:
		return "memfd";
	default:
		return "unknown";
	}
}

/* Local time with milliseconds, or @none for 0. */
static const char *fmt_time(int64_t ns, const char *none, char *buf, size_t len)
{
	time_t t;
	struct tm tm;
	size_t n;

	if (ns <= 0)
		return none;
	t = (time_t)(ns / 1000000000);
	if (!localtime_r(&t, &tm))
		return none;
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	if (n == 0)
		return none;
	snprintf(buf + n, len - n, ".%03d", (int)((ns / 1000000) % 1000));
	return buf;
}

/* ---------------------------------------------------------------------- */
/* create                                                                 */

static int cmd_create(const struct command *c, int argc, char **argv)
{
	struct option_spec opts[] = {
		{ .name = "--size", .has_value = true },
		{ .name = "--raw" },
		{ .name = "--excl" },
		{ .name = "--mode", .has_value = true },
	};
	uint64_t size = 0;
	unsigned mode = SHMKIT_DEFAULT_MODE, flags = SHMKIT_CREATE;
	shmkit_region *r;
	int n, ret;

	ret = parse_args(c, argc, argv, opts, 4, &n);
	if (ret)
		return ret;
	if (n != 1)
		return usage_err(c->name, NULL, n ? "too many arguments" : "missing NAME");
	if ((ret = check_name(c->name, argv[0])) != 0)
		return ret;
	if (!opts[0].seen)
		return usage_err(c->name, NULL, "missing --size");
	if ((ret = opt_bytes(c, &opts[0], &size)) != 0 ||
	    (ret = opt_mode(c, &opts[3], &mode)) != 0)
		return ret;
	if (size == 0)
		return usage_err(c->name, NULL, "invalid --size '%s': size must be at least 1 byte",
				 opts[0].value);
	if (opts[1].seen)
		flags |= SHMKIT_RAW;
	if (opts[2].seen)
		flags |= SHMKIT_EXCL;

	ret = shmkit_region_open(argv[0], flags, (size_t)size, mode, &r);
	if (ret == -EINVAL && !(flags & SHMKIT_EXCL)) {
		struct shmkit_stat st;
		if (shmkit_stat(argv[0], &st) == 0 && st.size < size) {
			err_msg(c->name, argv[0], "exists with %" PRIu64
				" bytes, less than the %" PRIu64 " asked for",
				st.size, size);
			return EXIT_RUNTIME;
		}
	}
	if (ret) {
		lib_err(c->name, argv[0], ret);
		return EXIT_RUNTIME;
	}
	ret = shmkit_region_close(r);
	if (ret) {
		lib_err(c->name, argv[0], ret);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* write                                                                  */

/*
 * Reads all of stdin.  Keeps at most @cap bytes in *buf; *total counts
 * everything read.  0 or an errno.
 */
static int slurp_stdin(uint64_t cap, char **buf, uint64_t *total)
{
	size_t have = 0, alloc = 0;
	char *b = NULL, scratch[65536];

	*total = 0;
	for (;;) {
		char *dst = scratch;
		size_t want = sizeof(scratch);
		if (have < cap) {
			if (have == alloc) {
				size_t grow = alloc ? alloc * 2 : 65536;
				if (grow > cap)
					grow = (size_t)cap;
				char *nb = realloc(b, grow);
				if (!nb) {
					free(b);
					return ENOMEM;
				}
				b = nb;
				alloc = grow;
			}
			dst = b + have;
			want = alloc - have;
		}
		ssize_t got = read(STDIN_FILENO, dst, want);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(b);
			return e;
		}
		if (got == 0)
			break;
		if (dst != scratch)
			have += (size_t)got;
		*total += (uint64_t)got;
	}
	*buf = b;
	return 0;
}

/* Opens @name for write or read and checks @offset against its size;
 * returns 0 with *r open, or EXIT_RUNTIME after reporting. */
static int open_at(const struct command *c, const char *name, unsigned flags,
		   uint64_t offset, shmkit_region **r)
{
	int ret = shmkit_region_open(name, flags, 0, 0, r);

	if (ret) {
		lib_err(c->name, name, ret);
		return EXIT_RUNTIME;
	}
	uint64_t size = shmkit_region_size(*r);
	if (offset > size) {
		err_msg(c->name, name, "offset %" PRIu64 " is beyond the end of a %"
			PRIu64 "-byte region", offset, size);
		shmkit_region_close(*r);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* Closes @r; a close error counts only when nothing failed before. */
static int close_with(const struct command *c, const char *name, shmkit_region *r,
		      int status)
{
	int ret = shmkit_region_close(r);

	if (ret && !status) {
		lib_err(c->name, name, ret);
		status = EXIT_RUNTIME;
	}
	return status;
}

static int cmd_write(const struct command *c, int argc, char **argv)
{
	struct option_spec opts[] = {
		{ .name = "--offset", .has_value = true },
		{ .name = "--raw" },
	};
	uint64_t offset = 0, total, size;
	char *buf = NULL;
	shmkit_region *r;
	int n, ret, status = 0;

	ret = parse_args(c, argc, argv, opts, 2, &n);
	if (ret)
		return ret;
	if (n != 1)
		return usage_err(c->name, NULL, n ? "too many arguments" : "missing NAME");
	if ((ret = check_name(c->name, argv[0])) != 0 ||
	    (ret = opt_bytes(c, &opts[0], &offset)) != 0)
		return ret;

	ret = open_at(c, argv[0], opts[1].seen ? SHMKIT_RAW : 0, offset, &r);
	if (ret)
		return ret;
	size = shmkit_region_size(r);
	ret = slurp_stdin(size - offset, &buf, &total);
	if (ret) {
		err_msg(c->name, argv[0], "reading stdin: %s", strerror(ret));
		status = EXIT_RUNTIME;
		goto out;
	}
	if (total > size - offset) {
		err_msg(c->name, argv[0], "input (%" PRIu64 " bytes) does not fit at offset %"
			PRIu64 " of a %" PRIu64 "-byte region", total, offset, size);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (total) {
		memcpy((char *)shmkit_region_base(r) + offset, buf, (size_t)total);
		if (shmkit_name_check(argv[0]) == SHMKIT_BACKEND_FILE) {
			ret = shmkit_region_sync(r, (size_t)offset, (size_t)total, SHMKIT_SYNC);
			if (ret) {
				lib_err(c->name, argv[0], ret);
				status = EXIT_RUNTIME;
			}
		}
	}
out:
	free(buf);
	return close_with(c, argv[0], r, status);
}

/* ---------------------------------------------------------------------- */
/* read                                                                   */

static int cmd_read(const struct command *c, int argc, char **argv)
{
	struct option_spec opts[] = {
		{ .name = "--offset", .has_value = true },
		{ .name = "--length", .has_value = true },
		{ .name = "--raw" },
	};
	uint64_t offset = 0, length = 0, size;
	unsigned flags = SHMKIT_RDONLY;
	shmkit_region *r;
	int n, ret, status = 0;

	ret = parse_args(c, argc, argv, opts, 3, &n);
	if (ret)
		return ret;
	if (n != 1)
		return usage_err(c->name, NULL, n ? "too many arguments" : "missing NAME");
	if ((ret = check_name(c->name, argv[0])) != 0 ||
	    (ret = opt_bytes(c, &opts[0], &offset)) != 0 ||
	    (ret = opt_bytes(c, &opts[1], &length)) != 0)
		return ret;
	if (opts[2].seen)
		flags |= SHMKIT_RAW;

	ret = open_at(c, argv[0], flags, offset, &r);
	if (ret)
		return ret;
	size = shmkit_region_size(r);
	if (opts[1].seen && length > size - offset) {
		err_msg(c->name, argv[0], "%" PRIu64 " bytes at offset %" PRIu64
			" go beyond the end of a %" PRIu64 "-byte region",
			length, offset, size);
		status = EXIT_RUNTIME;
	} else {
		if (!opts[1].seen)
			length = size - offset;
		ret = write_all(STDOUT_FILENO, (const char *)shmkit_region_base(r) + offset,
				(size_t)length);
		if (ret) {
			if (ret != EPIPE)
				err_msg(c->name, argv[0], "writing stdout: %s", strerror(ret));
			status = EXIT_RUNTIME;
		}
	}
	return close_with(c, argv[0], r, status);
}

/* ---------------------------------------------------------------------- */
/* stat                                                                   */

/* The peers of @name in a malloc'd array; *count how many, or an error. */
static int get_peers(const char *name, struct shmkit_peer **out, int *count)
{
	size_t cap = 128;

	*out = NULL;
	for (int tries = 0; tries < 8; tries++) {
		struct shmkit_peer *p = calloc(cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		int n = shmkit_peers(name, p, cap);
		if (n < 0) {
			free(p);
			return n;
		}
		if ((size_t)n <= cap) {
			*out = p;
			*count = n;
			return 0;
		}
		free(p);
		cap = (size_t)n + 16;
	}
	return -EAGAIN;
}

static const char *alive_word(int alive)
{
	return alive > 0 ? "alive" : alive == 0 ? "dead" : "unknown";
}

/* comm made printable for a terminal. */
static void printable_comm(const struct shmkit_peer *p, char out[SHMKIT_COMM_MAX + 1])
{
	size_t len = strnlen(p->comm, SHMKIT_COMM_MAX);

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p->comm[i];
		out[i] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	out[len] = '\0';
	if (len == 0)
		strcpy(out, "-");
}

static void owner_names(uint32_t uid, uint32_t gid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid((uid_t)uid);
	struct group *gr = getgrgid((gid_t)gid);
	char u[32], g[32];

	snprintf(u, sizeof(u), "%" PRIu32, uid);
	snprintf(g, sizeof(g), "%" PRIu32, gid);
	snprintf(buf, len, "%" PRIu32 ":%" PRIu32 " (%s:%s)", uid, gid,
		 pw ? pw->pw_name : u, gr ? gr->gr_name : g);
}

/* What stat gathered about one segment. */
struct stat_view {
	struct shmkit_stat st;
	struct shmkit_peer *peers;
	int npeers, perr;                 /* perr: shmkit_peers()'s error */
	struct shmkit_prim_info prims[64];
	int nprims, prerr;                /* prerr: shmkit_prims()'s error */
};

static const char *prim_name(int type)
{
	switch (type) {
	case SHMKIT_PRIM_MUTEX: return "mutex";
	case SHMKIT_PRIM_SEM: return "sem";
	case SHMKIT_PRIM_RWLOCK: return "rwlock";
	case SHMKIT_PRIM_EVENT: return "event";
	default: return "unknown";
	}
}

static const char *prim_state(int state)
{
	return state == 0 ? "consistent" : state == 1 ? "owner died, repair pending"
						       : "not recoverable";
}

static void prims_print_human(const struct stat_view *v)
{
	if (v->prerr) {
		if (v->prerr != -EPROTO)
			printf("%-10s n/a (%s)\n", "sync:", shmkit_strerror(v->prerr));
		return;
	}
	if (v->nprims == 0) {
		printf("%-10s none\n", "sync:");
		return;
	}
	printf("sync:\n");
	int shown = v->nprims < 64 ? v->nprims : 64;
	for (int i = 0; i < shown; i++) {
		const struct shmkit_prim_info *p = &v->prims[i];
		printf("  %-6s @%-8" PRIu64 " ", prim_name(p->type), p->offset);
		if (p->corrupt) {
			printf("corrupt\n");
			continue;
		}
		switch (p->type) {
		case SHMKIT_PRIM_MUTEX:
		case SHMKIT_PRIM_RWLOCK:
			if (p->locked)
				printf("%s by pid %" PRId32 " (%s)",
				       p->type == SHMKIT_PRIM_MUTEX ? "locked" : "write-locked",
				       p->owner_pid, alive_word(p->owner_alive));
			else
				printf("unlocked");
			if (p->type == SHMKIT_PRIM_RWLOCK)
				printf(", %" PRIu32 " read holds", p->value);
			printf(", %" PRIu32 " waiting, %s, %" PRIu64 " recovered\n",
			       p->waiters, prim_state(p->state), p->recoveries);
			break;
		case SHMKIT_PRIM_SEM:
			printf("value %" PRIu32 ", %" PRIu32 " waiting\n", p->value, p->waiters);
			break;
		default:
			printf("sequence %" PRIu32 ", %" PRIu32 " waiting\n", p->value, p->waiters);
			break;
		}
	}
}

static void prims_print_json(const struct stat_view *v)
{
	if (v->prerr) {
		printf("  \"sync\": null\n");
		return;
	}
	printf("  \"sync\": [");
	int shown = v->nprims < 64 ? v->nprims : 64;
	for (int i = 0; i < shown; i++) {
		const struct shmkit_prim_info *p = &v->prims[i];
		printf("%s\n    {\"type\": \"%s\", \"offset\": %" PRIu64 ", \"corrupt\": %s",
		       i ? "," : "", prim_name(p->type), p->offset,
		       p->corrupt ? "true" : "false");
		if (!p->corrupt) {
			printf(", \"locked\": %s, \"owner_pid\": %" PRId32
			       ", \"owner_alive\": %s, \"state\": %d, \"waiters\": %" PRIu32
			       ", \"value\": %" PRIu32 ", \"recoveries\": %" PRIu64,
			       p->locked ? "true" : "false", p->owner_pid,
			       !p->locked ? "null" : p->owner_alive > 0 ? "true"
			       : p->owner_alive == 0 ? "false" : "null",
			       p->state, p->waiters, p->value, p->recoveries);
		}
		printf("}");
	}
	printf("%s]\n", shown ? "\n  " : "");
}

static void stat_print_human(const char *name, const struct stat_view *v)
{
	const struct shmkit_stat *st = &v->st;
	const struct shmkit_peer *peers = v->peers;
	int npeers = v->npeers, perr = v->perr;
	char tbuf[64], owner[160];

	printf("%-10s %s\n", "name:", name);
	printf("%-10s %s\n", "backend:", backend_name(st->backend));
	if (st->managed)
		printf("%-10s yes (layout %" PRIu32 ")\n", "managed:", st->version);
	else
		printf("%-10s no\n", "managed:");
	printf("%-10s %" PRIu64 "\n", "size:", st->size);
	printf("%-10s %" PRIu64 "\n", "total:", st->total_size);
	printf("%-10s %04" PRIo32 "\n", "mode:", st->mode);
	owner_names(st->uid, st->gid, owner, sizeof(owner));
	printf("%-10s %s\n", "owner:", owner);
	printf("%-10s %" PRId32 "\n", "cpid:", st->cpid);
	printf("%-10s %" PRId32 "\n", "lpid:", st->lpid);
	if (st->nattch < 0)
		printf("%-10s unknown\n", "nattch:");
	else
		printf("%-10s %" PRId32 "\n", "nattch:", st->nattch);
	if (st->backend == SHMKIT_BACKEND_SYSV)
		printf("%-10s %" PRId32 "\n", "shmid:", st->shmid);
	printf("%-10s %s\n", "removed:", st->removed ? "yes" : "no");
	printf("%-10s %s\n", "atime:", fmt_time(st->atime_ns, "never", tbuf, sizeof(tbuf)));
	printf("%-10s %s\n", "dtime:", fmt_time(st->dtime_ns, "never", tbuf, sizeof(tbuf)));
	printf("%-10s %s\n", "ctime:", fmt_time(st->ctime_ns, "unknown", tbuf, sizeof(tbuf)));
	if (perr == -EPROTO) {
		printf("%-10s n/a (not a shmkit segment)\n", "peers:");
		return;
	}
	if (perr)
		printf("%-10s n/a (%s)\n", "peers:", shmkit_strerror(perr));
	else if (npeers == 0)
		printf("%-10s none\n", "peers:");
	else
		printf("peers:\n");
	for (int i = 0; i < npeers; i++) {
		const struct shmkit_peer *p = &peers[i];
		char comm[SHMKIT_COMM_MAX + 1];
		printable_comm(p, comm);
		printf("  slot %-3" PRIu32 " pid %-7" PRId32 " %-7s uid %-5" PRIu32
		       " comm %-15s attached %s%s\n",
		       p->slot, p->pid, alive_word(p->alive), p->uid, comm,
		       fmt_time(p->attach_ns, "unknown", tbuf, sizeof(tbuf)),
		       p->other_pidns ? " (other pid ns)" : "");
	}
	prims_print_human(v);
}

static void stat_print_json(const char *name, const struct stat_view *v)
{
	const struct shmkit_stat *st = &v->st;
	const struct shmkit_peer *peers = v->peers;
	int npeers = v->npeers, perr = v->perr;

	fputs("{\n  \"name\": ", stdout);
	json_str(name);
	printf(",\n  \"backend\": \"%s\",\n", backend_name(st->backend));
	printf("  \"managed\": %s,\n", st->managed ? "true" : "false");
	if (st->managed)
		printf("  \"version\": %" PRIu32 ",\n", st->version);
	else
		printf("  \"version\": null,\n");
	printf("  \"size\": %" PRIu64 ",\n", st->size);
	printf("  \"total_size\": %" PRIu64 ",\n", st->total_size);
	printf("  \"mode\": \"%04" PRIo32 "\",\n", st->mode);
	printf("  \"uid\": %" PRIu32 ",\n  \"gid\": %" PRIu32 ",\n", st->uid, st->gid);
	printf("  \"cpid\": %" PRId32 ",\n  \"lpid\": %" PRId32 ",\n", st->cpid, st->lpid);
	if (st->nattch < 0)
		printf("  \"nattch\": null,\n");
	else
		printf("  \"nattch\": %" PRId32 ",\n", st->nattch);
	if (st->backend == SHMKIT_BACKEND_SYSV)
		printf("  \"shmid\": %" PRId32 ",\n", st->shmid);
	else
		printf("  \"shmid\": null,\n");
	printf("  \"removed\": %s,\n", st->removed ? "true" : "false");
	printf("  \"atime_ns\": %" PRId64 ",\n  \"dtime_ns\": %" PRId64
	       ",\n  \"ctime_ns\": %" PRId64 ",\n",
	       st->atime_ns, st->dtime_ns, st->ctime_ns);
	if (perr) {
		printf("  \"peers\": null,\n");
		prims_print_json(v);
		printf("}\n");
		return;
	}
	printf("  \"peers\": [");
	for (int i = 0; i < npeers; i++) {
		const struct shmkit_peer *p = &peers[i];
		printf("%s\n    {\"slot\": %" PRIu32 ", \"pid\": %" PRId32 ", \"uid\": %" PRIu32
		       ", \"alive\": %s, \"other_pidns\": %s, \"comm\": ",
		       i ? "," : "", p->slot, p->pid, p->uid,
		       p->alive > 0 ? "true" : p->alive == 0 ? "false" : "null",
		       p->other_pidns ? "true" : "false");
		json_strn(p->comm, strnlen(p->comm, SHMKIT_COMM_MAX));
		printf(", \"attach_ns\": %" PRId64 "}", p->attach_ns);
	}
	printf("%s],\n", npeers ? "\n  " : "");
	prims_print_json(v);
	printf("}\n");
}

static int cmd_stat(const struct command *c, int argc, char **argv)
{
	struct option_spec opts[] = {
		{ .name = "--json" },
	};
	struct stat_view *v;
	int n, ret;

	ret = parse_args(c, argc, argv, opts, 1, &n);
	if (ret)
		return ret;
	if (n != 1)
		return usage_err(c->name, NULL, n ? "too many arguments" : "missing NAME");
	if ((ret = check_name(c->name, argv[0])) != 0)
		return ret;

	v = calloc(1, sizeof(*v));
	if (!v) {
		lib_err(c->name, argv[0], -ENOMEM);
		return EXIT_RUNTIME;
	}
	ret = shmkit_stat(argv[0], &v->st);
	if (ret) {
		lib_err(c->name, argv[0], ret);
		free(v);
		return EXIT_RUNTIME;
	}
	v->perr = v->st.managed ? get_peers(argv[0], &v->peers, &v->npeers) : -EPROTO;
	v->nprims = v->st.managed ? shmkit_prims(argv[0], v->prims, 64) : -EPROTO;
	v->prerr = v->nprims < 0 ? v->nprims : 0;
	if (opts[0].seen)
		stat_print_json(argv[0], v);
	else
		stat_print_human(argv[0], v);
	free(v->peers);
	free(v);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* ls and gc: the listing                                                 */

struct item {
	struct shmkit_entry e;
	struct shmkit_stat st;
	int err;         /* shmkit_stat()'s error; 0 ok */
	bool statted;    /* false: a private System V segment (no name) */
};

struct listing {
	struct item *v;
	size_t n, cap;
};

static int listing_add(const struct shmkit_entry *e, void *arg)
{
	struct listing *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct item *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n++].e = *e;
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int d;

	if (x->e.backend != y->e.backend)
		return x->e.backend < y->e.backend ? -1 : 1;
	d = strcmp(x->e.name, y->e.name);
	if (d)
		return d;
	return (x->e.shmid > y->e.shmid) - (x->e.shmid < y->e.shmid);
}

/* Lists, sorts and stats every segment; those gone meanwhile are dropped. */
static int listing_collect(struct listing *l)
{
	size_t keep = 0;
	int ret;

	memset(l, 0, sizeof(*l));
	ret = shmkit_list(listing_add, l);
	if (ret < 0)
		return ret;
	qsort(l->v, l->n, sizeof(*l->v), item_cmp);
	for (size_t i = 0; i < l->n; i++) {
		struct item *it = &l->v[i];
		if (it->e.name[0] != '\0') {
			it->statted = true;
			it->err = shmkit_stat(it->e.name, &it->st);
			if (it->err == -ENOENT || it->err == -EIDRM)
				continue;  /* removed since it was listed */
		}
		l->v[keep++] = *it;
	}
	l->n = keep;
	return 0;
}

/* A short note on why an entry could not be examined. */
static const char *item_note(const struct item *it)
{
	if (!it->statted)
		return "private";
	switch (-it->err) {
	case 0:
		return it->st.removed ? "removed" : "";
	case EACCES:
	case EPERM:
		return "no access";
	case EBADMSG:
		return "corrupt";
	case EPROTONOSUPPORT:
		return "unsupported layout";
	default:
		return shmkit_strerror(it->err);
	}
}

static void ls_print_table(const struct listing *l)
{
	int w = 4;

	for (size_t i = 0; i < l->n; i++) {
		int len = l->v[i].e.name[0] ? (int)strlen(l->v[i].e.name) : 9;
		if (len > w)
			w = len;
	}
	printf("%-*s  %-7s  %12s  %-7s  %5s  %6s  %s\n", w, "NAME", "BACKEND", "SIZE",
	       "MANAGED", "PEERS", "SHMID", "NOTE");
	for (size_t i = 0; i < l->n; i++) {
		const struct item *it = &l->v[i];
		bool ok = it->statted && it->err == 0;
		char peers[16] = "-", shmid[16] = "-";
		const char *note = item_note(it);
		if (ok && it->st.managed && it->st.nattch >= 0)
			snprintf(peers, sizeof(peers), "%" PRId32, it->st.nattch);
		if (it->e.backend == SHMKIT_BACKEND_SYSV)
			snprintf(shmid, sizeof(shmid), "%" PRId32, it->e.shmid);
		printf("%-*s  %-7s  %12" PRIu64 "  %-7s  %5s  %6s", w,
		       it->e.name[0] ? it->e.name : "(private)", backend_name(it->e.backend),
		       ok ? it->st.size : it->e.size,
		       ok ? (it->st.managed ? "yes" : "no") : "?", peers, shmid);
		if (*note)
			printf("  %s", note);
		putchar('\n');
	}
}

static void ls_print_json(const struct listing *l)
{
	printf("{\"segments\": [");
	for (size_t i = 0; i < l->n; i++) {
		const struct item *it = &l->v[i];
		bool ok = it->statted && it->err == 0;
		printf("%s\n  {\"name\": ", i ? "," : "");
		json_str(it->e.name[0] ? it->e.name : NULL);
		printf(", \"backend\": \"%s\", \"size\": %" PRIu64,
		       backend_name(it->e.backend), ok ? it->st.size : it->e.size);
		if (ok)
			printf(", \"total_size\": %" PRIu64 ", \"managed\": %s",
			       it->st.total_size, it->st.managed ? "true" : "false");
		else
			printf(", \"total_size\": %" PRIu64 ", \"managed\": null", it->e.size);
		if (ok && it->st.nattch >= 0)
			printf(", \"nattch\": %" PRId32, it->st.nattch);
		else
			printf(", \"nattch\": null");
		if (it->e.backend == SHMKIT_BACKEND_SYSV)
			printf(", \"shmid\": %" PRId32, it->e.shmid);
		else
			printf(", \"shmid\": null");
		printf(", \"error\": ");
		json_str(it->statted && it->err ? item_note(it) : NULL);
		putchar('}');
	}
	printf("%s]}\n", l->n ? "\n" : "");
}

static int cmd_ls(const struct command *c, int argc, char **argv)
{
	struct option_spec opts[] = {
		{ .name = "--json" },
	};
	struct listing l;
	int n, ret;

	ret = parse_args(c, argc, argv, opts, 1, &n);
	if (ret)
		return ret;
	if (n != 0)
		return usage_err(c->name, NULL, "too many arguments");
	ret = listing_collect(&l);
	if (ret) {
		free(l.v);
		err_msg(c->name, NULL, "%s", shmkit_strerror(ret));
		return EXIT_RUNTIME;
	}
	if (opts[0].seen)
		ls_print_json(&l);
	else
		ls_print_table(&l);
	free(l.v);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* rm                                                                     */

static int cmd_rm(const struct command *c, int argc, char **argv)
{
	int n, ret, status = 0;

	ret = parse_args(c, argc, argv, NULL, 0, &n);
	if (ret)
		return ret;
	if (n == 0)
		return usage_err(c->name, NULL, "missing NAME");
	for (int i = 0; i < n; i++)
		if ((ret = check_name(c->name, argv[i])) != 0)
			return ret;
	for (int i = 0; i < n; i++) {
		ret = shmkit_remove(argv[i]);
		if (ret) {
			lib_err(c->name, argv[i], ret);
			status = EXIT_RUNTIME;
		}
	}
	return status;
}

/* ---------------------------------------------------------------------- */
/* gc                                                                     */

/* A managed segment, not yet removed, that no live peer holds. */
static bool reapable(const struct item *it)
{
	return it->statted && it->err == 0 && it->st.managed &&
	       !it->st.removed && it->st.nattch == 0;
}

static int cmd_gc(const struct command *c, int argc, char **argv)
{
	struct option_spec opts[] = {
		{ .name = "--dry-run" },
	};
	struct listing l;
	unsigned count = 0;
	int n, ret, status = 0;
	bool dry;

	ret = parse_args(c, argc, argv, opts, 1, &n);
	if (ret)
		return ret;
	if (n != 0)
		return usage_err(c->name, NULL, "too many arguments");
	dry = opts[0].seen;
	ret = listing_collect(&l);
	if (ret) {
		free(l.v);
		err_msg(c->name, NULL, "%s", shmkit_strerror(ret));
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct item *it = &l.v[i];
		if (!reapable(it))
			continue;
		if (dry) {
			printf("would remove %s\n", it->e.name);
			count++;
			continue;
		}
		/* look again right before: a peer may have come meanwhile */
		it->err = shmkit_stat(it->e.name, &it->st);
		if (!reapable(it))
			continue;
		ret = shmkit_remove(it->e.name);
		if (ret == -ENOENT)
			continue;
		if (ret) {
			lib_err(c->name, it->e.name, ret);
			status = EXIT_RUNTIME;
			continue;
		}
		printf("removed %s\n", it->e.name);
		count++;
	}
	printf("gc: %u %s\n", count, dry ? "would be removed" : "removed");
	free(l.v);
	return status;
}

/* ---------------------------------------------------------------------- */
/* bench: lives in bench/                                                 */

static int cmd_bench(const struct command *c, int argc, char **argv)
{
	(void)c;
	int ret = bench_command(argc, argv);

	return ret == BENCH_EXIT_HELP ? PARSE_HELP : ret;
}

/* ---------------------------------------------------------------------- */
/* help, version, and the table of commands                               */

static int cmd_help(const struct command *c, int argc, char **argv);

static const struct command commands[] = {
	{ "create", cmd_create,
	  "create NAME --size BYTES [--raw] [--excl] [--mode MODE]",
	  "Creates a region of BYTES data bytes, or opens an existing one that is\n"
	  "at least that large.  --raw: no shmkit header, foreign programs see the\n"
	  "data at offset 0.  --excl: fail if it exists.  --mode: octal permission\n"
	  "bits, default 0600.\n" },
	{ "write", cmd_write,
	  "write NAME [--offset N] [--raw]",
	  "Copies stdin into the region's data at offset N (default 0).  Input that\n"
	  "does not fit is refused as a whole; nothing is written.\n" },
	{ "read", cmd_read,
	  "read NAME [--offset N] [--length N] [--raw]",
	  "Copies the region's data from offset N, N bytes long (default: to the\n"
	  "end), to stdout.\n" },
	{ "ls", cmd_ls,
	  "ls [--json]",
	  "Lists every POSIX object in /dev/shm and every System V segment, with\n"
	  "shmkit's segments marked managed and their live peers counted.\n" },
	{ "stat", cmd_stat,
	  "stat NAME [--json]",
	  "Shows size, mode, owner, creator and last PIDs, attach count, times and\n"
	  "the peers of a segment, without attaching to it.\n" },
	{ "rm", cmd_rm,
	  "rm NAME...",
	  "Removes segments: new opens fail at once, processes attached keep\n"
	  "working until they detach.\n" },
	{ "gc", cmd_gc,
	  "gc [--dry-run]",
	  "Removes every shmkit segment with no live peer.  Never touches objects\n"
	  "that are not shmkit's.  --dry-run: only tell what would go.\n" },
	{ "bench", cmd_bench, BENCH_SYNOPSIS, BENCH_HELP_TEXT },
	{ "help", cmd_help, "help [COMMAND]", "Shows help on shmkit or one command.\n" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_usage(void)
{
	fputs("Usage:\n", stdout);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].run != cmd_help)
			printf("  shmkit %s\n", commands[i].synopsis);
	fputs("  shmkit --help | --version\n"
	      "  shmkit COMMAND --help\n"
	      "\n"
	      "Segment names:\n"
	      "  NAME, posix:NAME  POSIX object /dev/shm/NAME; 1-200 of A-Z a-z 0-9 . _ -, not . or ..\n"
	      "  sysv:KEY          System V segment; KEY 1..0xffffffff, decimal or 0x hex\n"
	      "  sysv:PATH:PROJ    System V segment with the key ftok(PATH, PROJ)\n"
	      "  file:PATH         a regular file\n"
	      "\n"
	      "BYTES and N take a binary suffix K, M, G or T (also KiB, MiB, GiB, TiB).\n"
	      "Exit status: 0 success, 1 runtime error, 2 usage error.\n", stdout);
}

static void print_command_help(const struct command *c)
{
	printf("Usage: shmkit %s\n\n%s", c->synopsis, c->help);
}

static int cmd_help(const struct command *c, int argc, char **argv)
{
	int n, ret = parse_args(c, argc, argv, NULL, 0, &n);

	if (ret == PARSE_HELP) {
		print_usage();
		return 0;
	}
	if (ret)
		return ret;
	if (n > 1)
		return usage_err(c->name, NULL, "too many arguments");
	if (n == 1) {
		const struct command *which = find_command(argv[0]);
		if (!which)
			return usage_err(c->name, NULL, "unknown command '%s'", argv[0]);
		print_command_help(which);
		return 0;
	}
	print_usage();
	return 0;
}

static int run(int argc, char **argv)
{
	const struct command *c;
	int ret;

	if (argc < 2)
		return usage_err("usage", NULL, "missing command");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		if (argc > 2)
			return usage_err(argv[1], NULL, "takes no arguments");
		print_usage();
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		if (argc > 2)
			return usage_err(argv[1], NULL, "takes no arguments");
		printf("shmkit %s\n", shmkit_version());
		return 0;
	}
	if (argv[1][0] == '-')
		return usage_err(argv[1], NULL, "unknown option");
	c = find_command(argv[1]);
	if (!c)
		return usage_err(argv[1], NULL, "unknown command");
	ret = c->run(c, argc - 2, argv + 2);
	if (ret == PARSE_HELP) {
		print_command_help(c);
		return 0;
	}
	return ret == PARSE_USAGE ? EXIT_USAGE : ret;
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
