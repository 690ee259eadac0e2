/* SPDX-License-Identifier: MIT */
/*
 * fields.c - the two writers of a table of fields (struct field, cli.h):
 * fields_human() for people, a line per block row or per list item, and
 * fields_json(), one JSON document.  Both walk the same rows in order, so
 * what one shows the other does, unless a row says otherwise.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "shmkit.h"

static const char *const yes_no[] = { "no", "yes" };

/* The field's own bytes in @obj. */
static const void *at(const void *obj, size_t off)
{
	return (const char *)obj + off;
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

const char *alive_word(int alive)
{
	return alive > 0 ? "alive" : alive == 0 ? "dead" : "unknown";
}

static const char *alive_json(int alive)
{
	return alive > 0 ? "true" : alive == 0 ? "false" : "null";
}

static bool applies(const struct table *t, const struct field *f, const void *obj)
{
	return !f->kinds || (t->kind && (f->kinds & t->kind(obj)));
}

static bool quiet(const struct field *f, int err)
{
	for (const int *q = f->quiet; q && *q; q++)
		if (*q == err)
			return true;
	return false;
}

/* A number field's decimal digits, NULL for another type. */
static const char *number(const struct field *f, const void *obj, char *buf, size_t len)
{
	const void *p = at(obj, f->off);

	switch (f->type) {
	case F_U32: snprintf(buf, len, "%" PRIu32, *(const uint32_t *)p); break;
	case F_U64: snprintf(buf, len, "%" PRIu64, *(const uint64_t *)p); break;
	case F_I32: snprintf(buf, len, "%" PRId32, *(const int32_t *)p); break;
	case F_INT: snprintf(buf, len, "%d", *(const int *)p); break;
	case F_TIME: snprintf(buf, len, "%" PRId64, *(const int64_t *)p); break;
	default: return NULL;
	}
	return buf;
}

/* The text of a value field; NULL: no line. */
static const char *human_value(const struct field *f, const void *obj, char *buf, size_t len)
{
	const void *p = at(obj, f->off);

	if (f->has && !f->has(obj))
		return f->none;
	switch (f->type) {
	case F_BOOL:
		return (f->words ? f->words : yes_no)[*(const int *)p != 0];
	case F_ALIVE:
		return alive_word(*(const int *)p);
	case F_TIME:
		return fmt_time(*(const int64_t *)p, f->none, buf, len);
	case F_MODE:
		snprintf(buf, len, "%04" PRIo32, *(const uint32_t *)p);
		return buf;
	case F_COMM: {
		const char *comm = p;
		size_t n = strnlen(comm, SHMKIT_COMM_MAX);
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)comm[i];
			buf[i] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
		}
		buf[n] = '\0';
		return n ? buf : "-";
	}
	case F_TEXT:
		return f->text(obj, buf, len);
	case F_ROLE: {
		int32_t pid = *(const int32_t *)p;
		if (pid <= 0)
			return "none";
		snprintf(buf, len, "pid %" PRId32 " (%s)", pid,
			 alive_word(*(const int *)at(obj, f->off2)));
		return buf;
	}
	case F_COUNTS:
		snprintf(buf, len, "%" PRIu32 " live, %" PRIu32 " dead", *(const uint32_t *)p,
			 *(const uint32_t *)at(obj, f->off2));
		return buf;
	default:
		return number(f, obj, buf, len);
	}
}

static void human_rows(const struct table *t, const void *obj, size_t from);

/* A line of a block: "LABEL VALUE", or the label alone. */
static void block_line(const struct table *t, const char *label, const char *value)
{
	if (value)
		printf("%*s%-*s %s\n", t->indent, "", t->width, label, value);
	else
		printf("%*s%s\n", t->indent, "", label);
}

/* A list: its head (none, n/a or the label alone), then a line per item;
 * a list without a head tells an error on a line of its own. */
static void human_list(const struct table *t, const struct field *f, const void *obj)
{
	const struct list *l = at(obj, f->off);
	const struct table *sub = f->sub;
	char why[128];

	if (l->err) {
		if (quiet(f, l->err))
			return;
		snprintf(why, sizeof(why), "n/a (%s)", shmkit_strerror(l->err));
	}
	if (*f->human)
		block_line(t, f->human, l->err ? why : l->n ? NULL : "none");
	else if (l->err)
		printf("%*s%s\n", sub->indent, "", why);
	for (int i = 0; i < l->n; i++) {
		printf("%*s", sub->indent, "");
		human_rows(sub, (const char *)l->items + (size_t)i * sub->size, 0);
		putchar('\n');
	}
}

/* An object: its label and title, then its block. */
static void human_object(const struct table *t, const struct field *f, const void *obj)
{
	int err = *(const int *)at(obj, f->off);
	char buf[256];

	if (err && quiet(f, err))
		return;
	if (err) {
		snprintf(buf, sizeof(buf), "n/a (%s)", shmkit_strerror(err));
		block_line(t, f->human, buf);
		return;
	}
	block_line(t, f->human, human_value(&f->sub->rows[0], obj, buf, sizeof(buf)));
	human_rows(f->sub, obj, 1);
}

/* @t's rows from @from: a line each in a block, else pieces of one line
 * (the format is a row's template: the tables' own text, never input). */
static void human_rows(const struct table *t, const void *obj, size_t from)
{
	char buf[256];

	for (size_t i = from; i < t->nrows; i++) {
		const struct field *f = &t->rows[i];
		if (!f->human || !applies(t, f, obj))
			continue;
		if (f->type == F_LIST) {
			human_list(t, f, obj);
			continue;
		}
		if (f->type == F_OBJECT) {
			human_object(t, f, obj);
			continue;
		}
		const char *value = human_value(f, obj, buf, sizeof(buf));
		if (!value)
			continue;
		if (t->width)
			block_line(t, f->human, value);
		else
			printf(f->human, value);
	}
}

static void json_members(const struct table *t, const void *obj, const char *sep);

/* Starts member KEY[SUFFIX]; @sep before every member but an object's first. */
static void member(bool *first, const char *sep, const char *key, const char *suffix)
{
	printf("%s\"%s%s\": ", *first ? "" : sep, key, suffix);
	*first = false;
}

static void json_list(const struct table *sub, const struct list *l)
{
	if (l->err) {
		fputs("null", stdout);
		return;
	}
	putchar('[');
	for (int i = 0; i < l->n; i++) {
		if (sub->json_lines)
			printf("%s\n    {", i ? "," : "");
		else
			printf("%s{", i ? ", " : "");
		json_members(sub, (const char *)l->items + (size_t)i * sub->size, ", ");
		putchar('}');
	}
	fputs(sub->json_lines && l->n ? "\n  ]" : "]", stdout);
}

/* The JSON of a value field. */
static void json_value(const struct field *f, const void *obj)
{
	const void *p = at(obj, f->off);
	char buf[256];

	if (f->has && !f->has(obj)) {
		fputs("null", stdout);
		return;
	}
	switch (f->type) {
	case F_BOOL:
		fputs(*(const int *)p ? "true" : "false", stdout);
		break;
	case F_ALIVE:
		fputs(alive_json(*(const int *)p), stdout);
		break;
	case F_MODE:
		printf("\"%04" PRIo32 "\"", *(const uint32_t *)p);
		break;
	case F_COMM:
		json_strn(p, strnlen(p, SHMKIT_COMM_MAX));
		break;
	case F_TEXT:
		json_str(f->text(obj, buf, sizeof(buf)));
		break;
	default:
		fputs(number(f, obj, buf, sizeof(buf)), stdout);
	}
}

/* @t's members, @sep between them. */
static void json_members(const struct table *t, const void *obj, const char *sep)
{
	bool first = true;

	for (size_t i = 0; i < t->nrows; i++) {
		const struct field *f = &t->rows[i];
		if (!f->key || !applies(t, f, obj))
			continue;
		switch (f->type) {
		case F_ROLE: {
			int32_t pid = *(const int32_t *)at(obj, f->off);
			member(&first, sep, f->key, "_pid");
			if (pid > 0)
				printf("%" PRId32, pid);
			else
				fputs("null", stdout);
			member(&first, sep, f->key, "_alive");
			fputs(pid > 0 ? alive_json(*(const int *)at(obj, f->off2)) : "null", stdout);
			break;
		}
		case F_COUNTS:
			member(&first, sep, f->key, "_live");
			printf("%" PRIu32, *(const uint32_t *)at(obj, f->off));
			member(&first, sep, f->key, "_dead");
			printf("%" PRIu32, *(const uint32_t *)at(obj, f->off2));
			break;
		case F_LIST:
			member(&first, sep, f->key, "");
			json_list(f->sub, at(obj, f->off));
			break;
		case F_OBJECT:
			member(&first, sep, f->key, "");
			if (*(const int *)at(obj, f->off)) {
				fputs("null", stdout);
				break;
			}
			putchar('{');
			json_members(f->sub, obj, ", ");
			putchar('}');
			break;
		default:
			member(&first, sep, f->key, "");
			json_value(f, obj);
		}
	}
}

void fields_human(const struct table *t, const void *obj)
{
	human_rows(t, obj, 0);
}

void fields_json(const struct table *t, const void *obj)
{
	fputs("{\n  ", stdout);
	json_members(t, obj, ",\n  ");
	fputs("\n}\n", stdout);
}
