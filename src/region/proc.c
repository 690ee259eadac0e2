/* SPDX-License-Identifier: MIT */
/*
 * proc.c - process identity from /proc, for the backends that have no file to
 * lock (System V, anonymous).  A PID alone lies: it is recycled, a zombie
 * still answers kill(pid, 0), and another PID namespace numbers processes
 * differently.  So a peer is (PID, start time, PID namespace): a recycled PID
 * has another start time, a zombie shows state Z, and a foreign namespace is
 * reported as unknown rather than guessed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Reads state and start time (field 22) of /proc/PID/stat. */
static int proc_stat(pid_t pid, char *state, uint64_t *start_time)
{
	char path[64], buf[1024];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return shmkit__err();
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields resume after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EBADMSG;
	p += 2;
	*state = *p;
	unsigned long long st = 0;
	/* state is field 3; start time is field 22: skip 18 fields after state */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EBADMSG;
		p++;
	}
	if (sscanf(p, "%llu", &st) != 1)
		return -EBADMSG;
	*start_time = st;
	return 0;
}

int shmkit__proc_identity(pid_t pid, uint64_t *start_time)
{
	char state;

	return proc_stat(pid, &state, start_time);
}

uint64_t shmkit__self_pidns(void)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) != 0)
		return 0;
	return (uint64_t)st.st_ino;
}

void shmkit__self_comm(char comm[SHMKIT_COMM_MAX])
{
	memset(comm, 0, SHMKIT_COMM_MAX);
	if (prctl(PR_GET_NAME, comm, 0, 0, 0) != 0)
		comm[0] = '\0';
	comm[SHMKIT_COMM_MAX - 1] = '\0';
}

int shmkit__pid_alive(pid_t pid, uint64_t start_time, uint64_t pidns)
{
	uint64_t now_start;
	char state;

	if (pid <= 0)
		return 0;
	if (pidns == 0 || pidns != shmkit__self_pidns())
		return -1;
	int err = proc_stat(pid, &state, &now_start);
	if (err == -ENOENT || err == -ESRCH)
		return 0;
	if (err)
		return -1;
	if (state == 'Z' || state == 'X' || now_start != start_time)
		return 0;
	return 1;
}

int shmkit__pid_gone(pid_t pid)
{
	uint64_t start;
	char state;

	if (pid <= 0)
		return 1;
	int err = proc_stat(pid, &state, &start);
	if (err == -ENOENT || err == -ESRCH)
		return 1;
	return !err && (state == 'Z' || state == 'X');
}

/* The calling thread's id, asked once per thread; the fork() child's
 * handler forgets it (region.c), as the child's main thread has its own. */
static __thread pid_t tid_cache;

pid_t shmkit__tid(void)
{
	if (!tid_cache)
		tid_cache = gettid();
	return tid_cache;
}

void shmkit__tid_forget(void)
{
	tid_cache = 0;
}
