/* SPDX-License-Identifier: MIT */
/*
 * epoll_mux.c - two channels, a TCP listener and a timer in one epoll loop,
 * the way a server waits: each channel's event-loop fd (shmkit_chan_fd)
 * sits in the epoll set beside the sockets.
 *
 *   epoll_mux CHAN1 CHAN2 [IDLE_SECONDS]
 *
 * Reads both channels (creating them as SPSC channels if need be) and
 * prints each message as "CHAN: message".  Listens on 127.0.0.1, on a port
 * it prints first ("listening on 127.0.0.1:PORT"); a client that connects
 * gets "messages N\n", the count so far.  A timerfd ends the program
 * (exit 1) when nothing happened for IDLE_SECONDS (default 10).  Ends
 * (exit 0) when both streams have ended.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "shmkit.h"

enum { TAG_CHAN0, TAG_CHAN1, TAG_LISTEN, TAG_TIMER };

static int die(const char *what, int err)
{
	fprintf(stderr, "epoll_mux: %s: %s\n", what, strerror(err));
	return 1;
}

static int add(int ep, int fd, int tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
}

/* Re-arms the idle timer: it fires @secs seconds from now. */
static void idle_from_now(int tfd, long secs)
{
	struct itimerspec t = { .it_value = { .tv_sec = secs } };

	timerfd_settime(tfd, 0, &t, NULL);
}

/* Takes every message @c has now (timeout 0 until -EAGAIN, which re-arms
 * its fd); 1 when its stream ended, 0, or a negative errno. */
static int drain(shmkit_chan *c, const char *name, long *count)
{
	char buf[4096];
	long n;

	while ((n = shmkit_chan_recv(c, buf, sizeof(buf), 0)) > 0) {
		printf("%s: %.*s%s", name, (int)n, buf, buf[n - 1] == '\n' ? "" : "\n");
		(*count)++;
	}
	fflush(stdout);
	return n == 0 ? 1 : n == -EAGAIN ? 0 : (int)n;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: epoll_mux CHAN1 CHAN2 [IDLE_SECONDS]\n");
		return 2;
	}
	long idle = argc == 4 ? strtol(argv[3], NULL, 10) : 10;
	shmkit_chan *ch[2];
	bool ended[2] = { false, false };
	long count = 0;
	int ep = epoll_create1(EPOLL_CLOEXEC), err;

	if (ep < 0)
		return die("epoll_create1", errno);
	for (int i = 0; i < 2; i++) {
		err = shmkit_chan_open(argv[1 + i], SHMKIT_CREATE, SHMKIT_CHAN_READER, NULL, &ch[i]);
		if (err)
			return die(argv[1 + i], -err);
		int fd = shmkit_chan_fd(ch[i]);
		if (fd < 0)
			return die("shmkit_chan_fd", -fd);
		if ((err = add(ep, fd, TAG_CHAN0 + i)) != 0)
			return die("epoll_ctl", err);
	}

	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(ls, 16) != 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) != 0)
		return die("listen", errno);
	if ((err = add(ep, ls, TAG_LISTEN)) != 0)
		return die("epoll_ctl", err);
	printf("listening on 127.0.0.1:%u\n", (unsigned)ntohs(sa.sin_port));
	fflush(stdout);

	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (tfd < 0 || (err = add(ep, tfd, TAG_TIMER)) != 0)
		return die("timerfd", tfd < 0 ? errno : err);
	idle_from_now(tfd, idle);

	int status = 0;
	while (!(ended[0] && ended[1])) {
		struct epoll_event ev[8];
		int n = epoll_wait(ep, ev, 8, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return die("epoll_wait", errno);
		for (int k = 0; k < n; k++) {
			int tag = (int)ev[k].data.u32;
			if (tag == TAG_TIMER) {
				printf("idle for %ld s: giving up\n", idle);
				status = 1;
				goto out;
			}
			idle_from_now(tfd, idle);
			if (tag == TAG_LISTEN) {
				int cfd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
				if (cfd >= 0) {
					dprintf(cfd, "messages %ld\n", count);
					close(cfd);
				}
				continue;
			}
			int i = tag - TAG_CHAN0;
			if (ended[i])
				continue;
			int r = drain(ch[i], argv[1 + i], &count);
			if (r < 0) {
				fprintf(stderr, "epoll_mux: %s: %s\n", argv[1 + i], strerror(-r));
				status = 1;
				ended[i] = true;
			} else if (r == 1) {
				printf("%s: the stream ended\n", argv[1 + i]);
				ended[i] = true;
			}
			if (ended[i])
				epoll_ctl(ep, EPOLL_CTL_DEL, shmkit_chan_fd(ch[i]), NULL);
		}
	}
	printf("both streams ended after %ld messages\n", count);
out:
	fflush(stdout);
	shmkit_chan_close(ch[0]);
	shmkit_chan_close(ch[1]);
	close(tfd);
	close(ls);
	close(ep);
	return status;
}
