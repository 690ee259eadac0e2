/* SPDX-License-Identifier: MIT */
/*
 * values.c - the syntax of the options' values, for the parser (args.c):
 * byte counts, modes, capacities, counts, milliseconds, wait policies,
 * broadcast policies, channel kinds and start points.  Each opt_*() parses
 * an option given (struct given, cli.h) into its value, or reports why not
 * as a usage error; an option not given leaves the value as it was.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "shmkit.h"

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
int opt_bytes(FILE *err, const struct command *c, const struct given *o, uint64_t *out)
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
int opt_mode(FILE *err, const struct command *c, const struct given *o, unsigned *out)
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
int opt_capacity(FILE *err, const struct command *c, const struct given *o, size_t *out)
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
int opt_count(FILE *err, const struct command *c, const struct given *o, uint64_t *out)
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
int opt_ms(FILE *err, const struct command *c, const struct given *o, int64_t *out)
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
int opt_wait(FILE *err, const struct command *c, const struct given *o, unsigned *out)
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
int opt_policy(FILE *err, const struct command *c, const struct given *o,
	       const struct given *wait, struct shmkit_chan_opts *co)
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
static int opt_word(FILE *err, const struct command *c, const struct given *o,
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
int opt_kind(FILE *err, const struct command *c, const struct given *o, uint32_t *out)
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
int opt_start(FILE *err, const struct command *c, const struct given *o, uint32_t *out)
{
	static const char *const starts[] = {
		[SHMKIT_SUB_NEXT] = "next",
		[SHMKIT_SUB_NEWEST] = "newest",
		[SHMKIT_SUB_OLDEST] = "oldest",
	};

	return opt_word(err, c, o, starts, sizeof(starts) / sizeof(starts[0]),
			"next, newest or oldest", out);
}
