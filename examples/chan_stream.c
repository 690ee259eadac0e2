/* SPDX-License-Identifier: MIT */
/*
 * chan_stream - "shared memory is the fastest IPC", measured: a parent
 * streams messages to a forked child through a shmkit channel, then the
 * same messages through a pipe, and prints the rate of each.
 *
 * The seeds say a pipe copies every message into the kernel and out again,
 * a system call each way, while shared memory needs neither.  Each run
 * here moves N messages of BYTES bytes from the parent (the writer) to the
 * child (the reader): through a channel, shmkit_chan_send/shmkit_chan_recv,
 * each a copy in and a copy out of the ring; through a pipe, one write()
 * and one read() per message.  The clock runs from the first message until
 * the child has read the last one and exited.  The child checks every
 * message's sequence number.  With two CPUs or more the writer and the
 * reader are pinned to two different ones, as a producer and a consumer of
 * a real pipeline would run.
 *
 * The channel has a name unique to the run (chan_stream-PID-N in /dev/shm);
 * it is removed as soon as both processes have it open, so nothing is left
 * behind even if the run is interrupted.
 *
 * Run:   build/examples/chan_stream [--count N] [--size BYTES]
 * N defaults to 1000000, BYTES to 64 (1 .. 1048576).  The last line is
 *   channel: X M msg/s, pipe: Y M msg/s: Rx
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmkit.h"

static const char prog[] = "chan_stream";

#define SIZE_MAX_MSG (1u << 20)
#define RECV_TIMEOUT_NS ((int64_t)10 * 1000000000)  /* a stalled writer */

struct setup {
	unsigned long count;
	size_t size;
	int cpu_writer, cpu_reader;  /* -1: not pinned */
};

static void usage(FILE *to)
{
	fprintf(to, "usage: %s [--count N] [--size BYTES]\n"
		"  streams N messages (default 1000000) of BYTES bytes (default 64,\n"
		"  at most %u) parent -> child through a shmkit channel, then a pipe,\n"
		"  and prints the messages per second of each\n", prog, SIZE_MAX_MSG);
}

static int parse_num(const char *s, unsigned long min, unsigned long max,
		     unsigned long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first two CPUs we may run on, or -1s when there is only one. */
static void pick_cpus(struct setup *s)
{
	cpu_set_t set;
	int found = 0;

	s->cpu_writer = s->cpu_reader = -1;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (found++ == 0)
			s->cpu_writer = cpu;
		else
			s->cpu_reader = cpu;
	}
	if (found < 2)
		s->cpu_writer = s->cpu_reader = -1;
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		fprintf(stderr, "%s: sched_setaffinity(CPU %d): %s (not pinned)\n",
			prog, cpu, strerror(errno));
}

/* The message with sequence number @seq in its first bytes. */
static void stamp(unsigned char *msg, size_t size, uint64_t seq)
{
	memcpy(msg, &seq, size < sizeof(seq) ? size : sizeof(seq));
}

static int stamped(const unsigned char *msg, size_t size, uint64_t seq)
{
	return memcmp(msg, &seq, size < sizeof(seq) ? size : sizeof(seq)) == 0;
}

/* The child's end of the start signal: one byte "ready". */
static int tell_ready(int fd)
{
	char b = 'r';

	return write(fd, &b, 1) == 1 ? 0 : -1;
}

static int await_ready(int fd)
{
	char b;
	ssize_t n;

	do
		n = read(fd, &b, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

/* The child's status: 0 if it read everything right. */
static int reap(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: waitpid: %s\n", prog, strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		fprintf(stderr, "%s: %s reader killed by signal %d\n", prog, what,
			WTERMSIG(status));
	else
		fprintf(stderr, "%s: %s reader failed\n", prog, what);
	return -1;
}

/* ---- the channel ---- */

static int chan_child(const struct setup *s, const char *name, int ready)
{
	shmkit_chan *c;
	unsigned char *buf = malloc(s->size);
	int err;

	pin(s->cpu_reader);
	if (!buf)
		return 1;
	err = shmkit_chan_open(name, 0, SHMKIT_CHAN_READER, NULL, &c);
	if (err) {
		fprintf(stderr, "%s: open %s as reader: %s\n", prog, name,
			shmkit_strerror(err));
		return 1;
	}
	if (tell_ready(ready) != 0)
		return 1;
	for (uint64_t i = 0; i < s->count; i++) {
		long n = shmkit_chan_recv(c, buf, s->size, RECV_TIMEOUT_NS);
		if (n != (long)s->size || !stamped(buf, s->size, i)) {
			fprintf(stderr, "%s: channel message %llu: %s\n", prog,
				(unsigned long long)i,
				n < 0 ? shmkit_strerror((int)n) : "wrong length or content");
			return 1;
		}
	}
	/* the writer closes after its last message: then recv says 0 */
	long end = shmkit_chan_recv(c, buf, s->size, RECV_TIMEOUT_NS);
	if (end != 0) {
		fprintf(stderr, "%s: channel: %s after the last message\n", prog,
			end < 0 ? shmkit_strerror((int)end) : "one message too many");
		return 1;
	}
	shmkit_chan_close(c);
	free(buf);
	return 0;
}

/* Seconds for the whole stream through a channel, or < 0. */
static double run_chan(const struct setup *s, unsigned char *msg)
{
	char name[64];
	struct shmkit_chan_opts opts = { 0 };
	shmkit_chan *c = NULL;
	int fds[2], err;
	double t = -1;

	/* room for 4 messages at least; 1 MiB (the default) for small ones */
	opts.capacity = 1u << 20;
	while (opts.capacity / 4 < s->size)
		opts.capacity *= 2;
	snprintf(name, sizeof(name), "chan_stream-%d-%ld", (int)getpid(),
		 (long)(now_s() * 1e6) % 1000000);
	err = shmkit_chan_create(name, SHMKIT_CREATE | SHMKIT_EXCL, &opts);
	if (err) {
		fprintf(stderr, "%s: create %s: %s\n", prog, name, shmkit_strerror(err));
		return -1;
	}
	if (pipe(fds) != 0) {
		fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
		shmkit_remove(name);
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		shmkit_remove(name);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		_exit(chan_child(s, name, fds[1]));
	}
	close(fds[1]);
	err = shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, NULL, &c);
	int ok = !err && await_ready(fds[0]) == 0;
	close(fds[0]);
	/* both have it open: the name can go (attached processes keep it) */
	shmkit_remove(name);
	if (err)
		fprintf(stderr, "%s: open %s as writer: %s\n", prog, name,
			shmkit_strerror(err));
	if (!ok) {
		shmkit_chan_close(c);
		kill(pid, SIGKILL);  /* it may wait for a writer that never came */
		reap(pid, "channel");
		return -1;
	}
	double t0 = now_s();
	for (uint64_t i = 0; i < s->count; i++) {
		stamp(msg, s->size, i);
		err = shmkit_chan_send(c, msg, s->size, SHMKIT_FOREVER);
		if (err) {
			fprintf(stderr, "%s: channel send %llu: %s\n", prog,
				(unsigned long long)i, shmkit_strerror(err));
			break;
		}
	}
	shmkit_chan_close(c);
	if (reap(pid, "channel") == 0 && !err)
		t = now_s() - t0;
	return t;
}

/* ---- the pipe ---- */

static int full_write(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 1 with a whole message, 0 at EOF, -1 on error. */
static int full_read(int fd, unsigned char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)r;
	}
	return 1;
}

static int pipe_child(const struct setup *s, int data, int ready)
{
	unsigned char *buf = malloc(s->size);

	pin(s->cpu_reader);
	if (!buf || tell_ready(ready) != 0)
		return 1;
	for (uint64_t i = 0; i < s->count; i++) {
		if (full_read(data, buf, s->size) != 1 || !stamped(buf, s->size, i)) {
			fprintf(stderr, "%s: pipe message %llu: short read or wrong "
				"content\n", prog, (unsigned long long)i);
			return 1;
		}
	}
	if (full_read(data, buf, s->size) != 0) {
		fprintf(stderr, "%s: pipe: more after the last message\n", prog);
		return 1;
	}
	free(buf);
	return 0;
}

static double run_pipe(const struct setup *s, unsigned char *msg)
{
	int data[2], ready[2];
	double t = -1;

	if (pipe(data) != 0 || pipe(ready) != 0) {
		fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(data[1]);
		close(ready[0]);
		_exit(pipe_child(s, data[0], ready[1]));
	}
	close(data[0]);
	close(ready[1]);
	int ok = await_ready(ready[0]) == 0;
	close(ready[0]);
	double t0 = now_s();
	for (uint64_t i = 0; ok && i < s->count; i++) {
		stamp(msg, s->size, i);
		if (full_write(data[1], msg, s->size) != 0) {
			fprintf(stderr, "%s: pipe write %llu: %s\n", prog,
				(unsigned long long)i, strerror(errno));
			ok = 0;
		}
	}
	close(data[1]);
	if (reap(pid, "pipe") == 0 && ok)
		t = now_s() - t0;
	return t;
}

static void report(const char *what, const struct setup *s, double secs)
{
	double rate = (double)s->count / secs;

	printf("%-8s %lu messages in %.3f s: %.2f M msg/s, %.0f MB/s\n", what,
	       s->count, secs, rate / 1e6, rate * (double)s->size / 1e6);
}

int main(int argc, char **argv)
{
	struct setup s = { .count = 1000000, .size = 64 };
	unsigned long v;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			if (parse_num(argv[++i], 1, 1000000000ul, &v)) {
				fprintf(stderr, "%s: --count wants a number >= 1\n", prog);
				return 2;
			}
			s.count = v;
		} else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			if (parse_num(argv[++i], 1, SIZE_MAX_MSG, &v)) {
				fprintf(stderr, "%s: --size wants bytes, 1 .. %u\n", prog,
					SIZE_MAX_MSG);
				return 2;
			}
			s.size = v;
		} else {
			usage(stderr);
			return 2;
		}
	}
	unsigned char *msg = malloc(s.size);
	if (!msg) {
		fprintf(stderr, "%s: %s\n", prog, strerror(ENOMEM));
		return 1;
	}
	for (size_t i = 0; i < s.size; i++)
		msg[i] = (unsigned char)('a' + i % 26);

	pick_cpus(&s);
	if (s.cpu_writer >= 0)
		printf("%s: %lu messages of %zu bytes, parent -> child; writer pinned "
		       "to CPU %d, reader to CPU %d\n", prog, s.count, s.size,
		       s.cpu_writer, s.cpu_reader);
	else
		printf("%s: %lu messages of %zu bytes, parent -> child; one CPU: "
		       "writer and reader share it (not pinned)\n", prog, s.count, s.size);
	pin(s.cpu_writer);

	double chan = run_chan(&s, msg);
	if (chan <= 0) {
		free(msg);
		return 1;
	}
	report("channel:", &s, chan);
	double pipe_s = run_pipe(&s, msg);
	free(msg);
	if (pipe_s <= 0)
		return 1;
	report("pipe:", &s, pipe_s);
	double cr = (double)s.count / chan / 1e6, pr = (double)s.count / pipe_s / 1e6;
	printf("channel: %.2f M msg/s, pipe: %.2f M msg/s: %.1fx\n", cr, pr, pipe_s / chan);
	return fflush(stdout) == 0 ? 0 : 1;
}
