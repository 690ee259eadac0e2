/* SPDX-License-Identifier: MIT */
/*
 * fuzz_segment.c - a segment whose every byte comes from the fuzzer, read
 * by everything that reads segments: stat, peers, the primitives'
 * directory, a channel's stat, and a channel's reader (peek, release,
 * recv) and writer (takeover, reserve, commit).  The input is written to a
 * file: region, so the header, the peer table, the control block and the
 * ring are all the fuzzer's.  Every call must return 0 or a negative
 * errno: a crash, a hang or an out-of-bounds access is a finding.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "shmkit.h"

#define MAX_INPUT (1u << 20)
#define READS 64

static char path[64], name[80];

static void remove_file(void)
{
	unlink(path);
}

/* The input as the whole content of this process's file. */
static int put_file(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		const char *dir = getenv("TMPDIR");
		snprintf(path, sizeof(path), "%s/shmkit-fuzz-%ld.seg",
			 dir && *dir && strlen(dir) < 24 ? dir : "/tmp", (long)getpid());
		snprintf(name, sizeof(name), "file:%s", path);
		atexit(remove_file);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	size_t done = 0;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	return done == size ? 0 : -1;
}

/* Every call gives 0 (or a count) or a negative errno. */
static void expect_rc(long rc)
{
	if (rc < -4095)
		abort();
}

static void read_channel(void)
{
	shmkit_chan *c;
	unsigned char buf[256];
	const void *p;

	if (shmkit_chan_open(name, 0, SHMKIT_CHAN_READER, NULL, &c) != 0)
		return;
	for (int i = 0; i < READS; i++) {
		long n = shmkit_chan_peek(c, &p, 0);
		expect_rc(n);
		if (n <= 0)
			break;
		/* touch the message's first and last bytes where it lies */
		volatile unsigned char first = ((const unsigned char *)p)[0];
		volatile unsigned char last = ((const unsigned char *)p)[n - 1];
		(void)first;
		(void)last;
	}
	expect_rc(shmkit_chan_release(c));
	for (int i = 0; i < READS; i++) {
		long n = shmkit_chan_recv(c, buf, sizeof(buf), 0);
		expect_rc(n);
		if (n <= 0 && n != -EMSGSIZE)
			break;
		if (n == -EMSGSIZE)
			break;  /* it stays: another recv would see it again */
	}
	expect_rc(shmkit_chan_close(c));
}

static void write_channel(void)
{
	shmkit_chan *c;
	void *p;

	if (shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, NULL, &c) != 0)
		return;
	for (int i = 0; i < 4; i++) {
		int err = shmkit_chan_reserve(c, 8 + (size_t)i * 24, &p, 0);
		expect_rc(err);
		if (err)
			break;
		memset(p, 0xa5, 8 + (size_t)i * 24);
	}
	expect_rc(shmkit_chan_commit(c));
	expect_rc(shmkit_chan_close(c));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shmkit_stat st;
	struct shmkit_peer peers[8];
	struct shmkit_prim_info prims[8];
	struct shmkit_chan_info ci;

	if (size > MAX_INPUT || put_file(data, size))
		return 0;
	expect_rc(shmkit_stat(name, &st));
	expect_rc(shmkit_peers(name, peers, 8));
	expect_rc(shmkit_prims(name, prims, 8));
	expect_rc(shmkit_chan_stat(name, &ci));
	read_channel();
	/* the reader may have left the file as a new writer finds it */
	write_channel();
	expect_rc(shmkit_chan_stat(name, &ci));
	return 0;
}
