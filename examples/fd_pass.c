/* SPDX-License-Identifier: MIT */
/*
 * fd_pass - a memfd region handed to another process over a UNIX socket.
 *
 * Seeds 000 and 004 share anonymous memory between a parent and the child
 * it forks; an unrelated process cannot inherit it.  A memfd is anonymous
 * memory with a file descriptor, and a descriptor can travel to any process
 * over a UNIX socket (SCM_RIGHTS): the receiver maps the same memory.  No
 * name in /dev/shm, nothing to clean up: it is gone when the last process
 * closes it.
 *
 * Run:   build/examples/fd_pass
 *          parent and child over a socketpair; the region is made after
 *          fork(), so the child gets it only through the socket
 *        build/examples/fd_pass serve SOCKPATH   (in one terminal)
 *        build/examples/fd_pass fetch SOCKPATH   (in another)
 *          two unrelated processes over a named socket; serve hands the fd
 *          to one client, then prints the reply the client wrote into the
 *          region; fetch waits up to 5 s for serve to be listening
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmkit.h"

#define REGION_SIZE 4096
#define REPLY_OFFSET 1024  /* the receiver's answer goes here */
#define TEXT_MAX 256
static const char prog[] = "fd_pass";
static const char message[] = "hello through a memfd";
static const char reply[] = "got it, thanks";

static void usage(FILE *to)
{
	fprintf(to, "usage: %s                 (parent and child)\n"
		"       %s serve SOCKPATH   (hand a region to one client)\n"
		"       %s fetch SOCKPATH   (get it from serve)\n", prog, prog, prog);
}

static int fail(const char *who, const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s: %s\n", prog, who, what, shmkit_strerror(err));
	return 1;
}

/* The region's text at @off, as a bounded string. */
static const char *text_at(shmkit_region *r, size_t off, char *buf)
{
	memcpy(buf, (const char *)shmkit_region_base(r) + off, TEXT_MAX - 1);
	buf[TEXT_MAX - 1] = '\0';
	return buf;
}

/* Makes the region and writes the message into it. */
static int make_region(const char *who, shmkit_region **r)
{
	int err = shmkit_region_memfd("fd_pass", REGION_SIZE, 0, r);
	if (err)
		return fail(who, "memfd region", err);
	memcpy(shmkit_region_base(*r), message, sizeof(message));
	return 0;
}

/* Receives the fd on @sock, maps it, prints the message, writes the reply. */
static int receive(const char *who, int sock)
{
	shmkit_region *r;
	char buf[TEXT_MAX];
	int fd, err;

	err = shmkit_fd_recv(sock, &fd);
	if (err)
		return fail(who, "receive fd", err);
	err = shmkit_region_open_fd(fd, 0, &r);
	close(fd);  /* the handle holds its own duplicate */
	if (err)
		return fail(who, "open fd", err);
	if (shmkit_region_size(r) < REGION_SIZE) {
		shmkit_region_close(r);
		return fail(who, "open fd", -EMSGSIZE);
	}
	printf("%s: received a region of %zu bytes: %s\n", who,
	       shmkit_region_size(r), text_at(r, 0, buf));
	fflush(stdout);
	memcpy((char *)shmkit_region_base(r) + REPLY_OFFSET, reply, sizeof(reply));
	err = shmkit_region_close(r);
	if (err)
		return fail(who, "close", err);
	return 0;
}

static int pair_mode(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return fail("parent", "socketpair", -errno);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return fail("parent", "fork", -errno);
	if (pid == 0) {
		close(sv[0]);
		int rc = receive("child", sv[1]);
		close(sv[1]);
		_exit(rc);
	}
	close(sv[1]);

	/* made after fork(): the child can get it only through the socket */
	shmkit_region *r = NULL;
	char buf[TEXT_MAX];
	int rc = make_region("parent", &r);
	if (rc == 0) {
		printf("parent: wrote \"%s\" into a memfd region, sending its fd\n",
		       message);
		fflush(stdout);
		int err = shmkit_fd_send(sv[0], shmkit_region_fd(r));
		if (err)
			rc = fail("parent", "send fd", err);
	}
	close(sv[0]);  /* without an fd the child gets -ECONNRESET, not a hang */
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		if (rc == 0)
			fprintf(stderr, "%s: parent: the child failed\n", prog);
		rc = 1;
	}
	if (r && rc == 0)
		printf("parent: the child replied in the region: %s\n",
		       text_at(r, REPLY_OFFSET, buf));
	if (r) {
		int err = shmkit_region_close(r);
		if (err && rc == 0)
			rc = fail("parent", "close", err);
	}
	return rc;
}

static int sock_addr(const char *path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path)) {
		fprintf(stderr, "%s: %s: socket path too long\n", prog, path);
		return -1;
	}
	strcpy(a->sun_path, path);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
}

static int serve(const char *path)
{
	struct sockaddr_un a;
	struct sigaction sa;
	shmkit_region *r;
	char buf[TEXT_MAX];
	int rc = 1;

	if (sock_addr(path, &a))
		return 1;
	/* SIGINT/SIGTERM interrupt accept()/read() so the socket gets unlinked */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (make_region("serve", &r))
		return 1;
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0) {
		fail("serve", "socket", -errno);
		goto out_region;
	}
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fail("serve", path, -errno);
		goto out_sock;
	}
	if (listen(ls, 1) != 0) {
		fail("serve", "listen", -errno);
		goto out_unlink;
	}
	printf("serve: listening on %s\n", path);
	fflush(stdout);
	int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0) {
		fail("serve", "accept", -errno);
		goto out_unlink;
	}
	int err = shmkit_fd_send(c, shmkit_region_fd(r));
	if (err) {
		fail("serve", "send fd", err);
		close(c);
		goto out_unlink;
	}
	printf("serve: sent the fd of a memfd region holding \"%s\"\n", message);
	fflush(stdout);
	/* the client closes the connection once it has written its reply */
	ssize_t n;
	do
		n = read(c, buf, sizeof(buf));
	while (n > 0);
	close(c);
	if (n < 0) {
		fail("serve", "wait for the client", -errno);
		goto out_unlink;
	}
	printf("serve: the client replied in the region: %s\n",
	       text_at(r, REPLY_OFFSET, buf));
	rc = 0;
out_unlink:
	unlink(path);
out_sock:
	close(ls);
out_region:
	err = shmkit_region_close(r);
	if (err && rc == 0)
		rc = fail("serve", "close", err);
	return rc;
}

static int fetch(const char *path)
{
	struct sockaddr_un a;

	if (sock_addr(path, &a))
		return 1;
	/* serve may not be listening yet: retry for up to 5 seconds */
	int s;
	for (int tries = 0;; tries++) {
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return fail("fetch", "socket", -errno);
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		int e = errno;
		close(s);
		if ((e != ENOENT && e != ECONNREFUSED) || tries >= 100)
			return fail("fetch", path, -e);
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	int rc = receive("fetch", s);
	close(s);  /* tells serve the reply is there */
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 1)
		return pair_mode();
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "fetch"))
		return fetch(argv[2]);
	usage(stderr);
	return 2;
}
