/* SPDX-License-Identifier: MIT */
/*
 * name.c - the one segment-name syntax:
 *   NAME | posix:NAME      /dev/shm/NAME; 1..200 of [A-Za-z0-9._-], not . or ..
 *   sysv:KEY               decimal or 0x hex, 1..0xffffffff
 *   sysv:PATH:PROJ         ftok(PATH, PROJ); PROJ's low 8 bits not 0
 *   file:PATH              a regular file
 * Checked before any system call, except ftok's stat of PATH.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>

#include "internal.h"

static int posix_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0)
		return -EINVAL;
	if (len > SHMKIT_POSIX_NAME_MAX)
		return -ENAMETOOLONG;
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	return 0;
}

/* Parses an unsigned number, decimal or 0x hex, the whole string. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	int base = 10;
	char *end;

	if ((s[0] == '0') && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			return -EINVAL;  /* strtoull would skip a second prefix */
	}
	if (*s == '\0' || !((*s >= '0' && *s <= '9') ||
			    (base == 16 && ((*s >= 'a' && *s <= 'f') ||
					    (*s >= 'A' && *s <= 'F')))))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int sysv_parse(const char *s, struct shmkit__name *out)
{
	const char *colon = strrchr(s, ':');
	uint64_t v;

	if (*s == '\0')
		return -EINVAL;
	if (!colon) {
		if (parse_u64(s, 0xffffffffULL, &v) || v == 0)
			return -EINVAL;  /* 0 is IPC_PRIVATE: it names nothing */
		out->key = (int32_t)(uint32_t)v;
		return 0;
	}
	size_t plen = (size_t)(colon - s);
	if (plen == 0 || plen >= sizeof(out->path))
		return plen ? -ENAMETOOLONG : -EINVAL;
	if (parse_u64(colon + 1, INT32_MAX, &v) || (v & 0xff) == 0)
		return -EINVAL;  /* ftok uses the low 8 bits only */
	memcpy(out->path, s, plen);
	out->path[plen] = '\0';
	errno = 0;
	key_t key = ftok(out->path, (int)v);
	if (key == (key_t)-1)
		return shmkit__err();
	if (key == IPC_PRIVATE)
		return -EINVAL;
	out->key = key;
	return 0;
}

static int name_split(const char *name, struct shmkit__name *out, bool resolve)
{
	if (!name)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (strlen(name) >= SHMKIT_NAME_MAX)
		return -ENAMETOOLONG;
	if (!strncmp(name, "sysv:", 5)) {
		out->backend = SHMKIT_BACKEND_SYSV;
		if (!resolve) {
			/* syntax only: PATH:PROJ or KEY, without ftok's stat */
			const char *s = name + 5, *colon = strrchr(s, ':');
			uint64_t v;
			if (!colon)
				return (parse_u64(s, 0xffffffffULL, &v) || v == 0)
					? -EINVAL : 0;
			if (colon == s || parse_u64(colon + 1, INT32_MAX, &v) ||
			    (v & 0xff) == 0)
				return -EINVAL;
			return 0;
		}
		return sysv_parse(name + 5, out);
	}
	if (!strncmp(name, "file:", 5)) {
		const char *p = name + 5;
		size_t len = strlen(p);
		if (len == 0 || p[len - 1] == '/')
			return -EINVAL;
		out->backend = SHMKIT_BACKEND_FILE;
		memcpy(out->path, p, len + 1);
		return 0;
	}
	if (!strncmp(name, "posix:", 6))
		name += 6;
	int err = posix_name_ok(name);
	if (err)
		return err;
	out->backend = SHMKIT_BACKEND_POSIX;
	snprintf(out->path, sizeof(out->path), SHMKIT_SHM_DIR "/%s", name);
	return 0;
}

int shmkit__name_parse(const char *name, struct shmkit__name *out)
{
	return name_split(name, out, true);
}

int shmkit_name_check(const char *name)
{
	struct shmkit__name n;
	int err = name_split(name, &n, false);

	return err ? err : n.backend;
}
