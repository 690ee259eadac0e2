/* SPDX-License-Identifier: MIT */
/*
 * output.c - how the CLI reports: errors as "shmkit: <what>: <why>" (a
 * library error with the reason spelled out), all of a buffer to a file
 * descriptor, JSON strings, a backend's name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "shmkit.h"

void __attribute__((format(printf, 3, 4)))
err_msg(const char *what, const char *name, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	args_vmsg(stderr, what, name, fmt, ap);
	va_end(ap);
}

/*
 * Reports a library error on @name.  -ENOENT is "no such segment", except
 * when the name's ftok PATH is what is missing.
 */
void lib_err(const char *what, const char *name, int err)
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
	else if (err == -ELOOP)
		err_msg(what, name, "refusing a symbolic link: shmkit never follows "
			"one as the last component of a name");
	else if (err == -ENODEV)
		err_msg(what, name, "not a regular file, so not a segment");
	else if (err == -EACCES)
		err_msg(what, name, "%s (the mode does not grant this user that access)",
			shmkit_strerror(err));
	else if (err == -EPERM)
		err_msg(what, name, "%s (only its owner or a privileged user may do that)",
			shmkit_strerror(err));
	else if (err == -EPROTO)
		err_msg(what, name, "%s (use --raw for a raw or foreign object)",
			shmkit_strerror(err));
	else
		err_msg(what, name, "%s", shmkit_strerror(err));
}

int write_all(int fd, const void *buf, size_t len)
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

void json_strn(const char *s, size_t n)
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

void json_str(const char *s)
{
	if (s)
		json_strn(s, strlen(s));
	else
		fputs("null", stdout);
}

const char *backend_name(int backend)
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
