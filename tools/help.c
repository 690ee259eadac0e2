/* SPDX-License-Identifier: MIT */
/*
 * help.c - every command's name, synopsis and help, the one text each has:
 * the parser (args.c) finds commands here, `shmkit --help` lists the
 * synopses, `shmkit COMMAND --help` writes the synopsis and the help.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "bench.h"
#include "cli.h"

const struct command args_commands[CMD_COUNT] = {
	[CMD_CREATE] = { "create", CMD_CREATE,
	  "create NAME --size BYTES [--raw] [--excl] [--mode MODE]\n"
	  "create NAME --channel spsc|mpsc|broadcast --capacity BYTES [--excl] [--mode MODE] [--policy backpressure|overwrite] [--wait WAIT]",
	  "Creates a region of BYTES data bytes, or opens an existing one that is\n"
	  "at least that large.  --raw: no shmkit header, foreign programs see the\n"
	  "data at offset 0.  --excl: fail if it exists.  --mode: octal permission\n"
	  "bits, default 0600.\n"
	  "\n"
	  "With --channel, creates a channel (see send and recv) without taking a\n"
	  "role: spsc from one writer to one reader, mpsc from up to 64 writers at\n"
	  "once to one reader, broadcast from one writer to up to 64 subscribers,\n"
	  "each of which gets every message.  Its ring holds --capacity bytes, a\n"
	  "power of two from 64 to 1G; the largest message is a quarter of that.\n"
	  "An existing channel of that kind and capacity is left as it is.\n"
	  "--policy, broadcast only: backpressure (the default: the writer waits\n"
	  "for the slowest live subscriber) or overwrite (it never waits; a\n"
	  "subscriber it laps is told how many messages it missed).  --wait: how\n"
	  "its sides wait by default: spin (lowest latency, a busy CPU),\n"
	  "spin-sleep (spin briefly, then sleep; the default) or sleep (--policy\n"
	  "takes these too, the older spelling).\n" },
	[CMD_WRITE] = { "write", CMD_WRITE,
	  "write NAME [--offset N] [--raw]",
	  "Copies stdin into the region's data at offset N (default 0).  Input that\n"
	  "does not fit is refused as a whole; nothing is written.\n" },
	[CMD_READ] = { "read", CMD_READ,
	  "read NAME [--offset N] [--length N] [--raw]",
	  "Copies the region's data from offset N, N bytes long (default: to the\n"
	  "end), to stdout.\n" },
	[CMD_SEND] = { "send", CMD_SEND,
	  "send NAME [--create [--channel KIND] [--capacity BYTES]] [--null] [--timeout MS]",
	  "Sends stdin to channel NAME as its writer, one message per line; the\n"
	  "end of stdin ends the stream.  Each message is the line with its\n"
	  "newline (a last line without one is sent without one), so recv writes\n"
	  "out exactly what send read, empty lines and binary bytes included.  A\n"
	  "line (with its newline) longer than the largest message, a quarter of\n"
	  "the capacity, is an error: nothing is ever cut.  --null: records end\n"
	  "with NUL instead of newline.  --create: create the channel if it does\n"
	  "not exist, with --capacity BYTES (default 1M), of kind --channel KIND:\n"
	  "spsc (the default), mpsc or broadcast (backpressure; create it first\n"
	  "for overwrite).  Without --create an existing channel of any kind is\n"
	  "opened; several send at once into an mpsc channel each join as a\n"
	  "writer, and each one's end of stdin ends its own part.  A broadcast\n"
	  "writer with no subscriber never waits: start the recvs first.\n"
	  "--timeout: give up when there is no room for a message within MS\n"
	  "milliseconds (default: wait).  A reader that is gone leaves what was\n"
	  "sent for the next one, which send then waits for (--timeout at most);\n"
	  "at the end, with no reader, send says how many messages wait.  Each\n"
	  "send is a session: a later spsc recv stops at the end of each.  On any\n"
	  "error the stream is left unended, so the reader reports that the\n"
	  "writer died.\n"
	  "Ctrl-C (SIGINT) or SIGTERM is not an error: what was read from stdin\n"
	  "goes (a part of a line as a last message), the stream ends cleanly, and\n"
	  "send exits 130 or 143.\n" },
	[CMD_RECV] = { "recv", CMD_RECV,
	  "recv NAME... [--create [--channel KIND] [--capacity BYTES]] [--count N] [--follow] [--timeout MS] [--null] [--prefix] [--start next|newest|oldest]",
	  "Receives the messages of channel NAME as its reader and writes them to\n"
	  "stdout as they are, until the writer ends the stream.  A newline (NUL\n"
	  "with --null) goes between a message that lacks one and the next, so\n"
	  "messages from any writer come out one per line.  --count: stop after N\n"
	  "messages; the rest stay for the next reader.  --timeout: fail when no\n"
	  "message comes within MS milliseconds (exit 1).  --create, --channel and\n"
	  "--capacity as for send.  A message leaves the channel only once stdout\n"
	  "has it.  Fails, after writing every message it sent, when the writer\n"
	  "died.  mpsc: the stream ends when every writer that joined has closed\n"
	  "and all is read (start the senders first); a writer that died fails it\n"
	  "once the others closed (\"the writer died (pid N)\"); records lost to a\n"
	  "writer killed between reserve and commit are counted on stderr at the\n"
	  "end, without failing.\n"
	  "broadcast: each recv is a subscriber of its own and gets the whole\n"
	  "stream from where it joins: --start next (the default: the next message\n"
	  "sent), newest (the newest message held) or oldest (the oldest held).\n"
	  "Its mapping of the ring is read-only.  Under overwrite, each time the\n"
	  "writer laps it a line on stderr says how many messages it missed; it\n"
	  "goes on from the oldest message held, never printing a torn one.\n"
	  "Several NAMEs: reads every channel at once, in one loop over their\n"
	  "event-loop fds, each message whole (with its newline) as it arrives,\n"
	  "each channel's in its order.  It ends when every stream has ended;\n"
	  "--count counts the messages of all, --timeout the wait for any.  A\n"
	  "channel whose writer died is reported and left; the others go on, and\n"
	  "recv then exits 1.  --prefix: each message starts with its channel's\n"
	  "NAME and \": \" (one NAME or several).\n"
	  "--follow: read on across writers, as tail -f: after a stream ends (or\n"
	  "its writer dies, which is told on stderr and fails recv at its end),\n"
	  "wait for the next writer; --count N follows too, until N messages came\n"
	  "from whichever writers.  A log collector: recv logs --follow, then any\n"
	  "number of send logs, one after another or at once.\n"
	  "Ctrl-C (SIGINT) or SIGTERM: recv stops after what it wrote, which leaves\n"
	  "the channel; the rest stays for the next reader; exit 130 or 143.\n" },
	[CMD_LS] = { "ls", CMD_LS,
	  "ls [--json]",
	  "Lists every POSIX object in /dev/shm and every System V segment, with\n"
	  "shmkit's segments marked managed and their live peers counted.\n" },
	[CMD_STAT] = { "stat", CMD_STAT,
	  "stat NAME [--json]",
	  "Shows size, mode, owner, creator and last PIDs, attach count, times and\n"
	  "the peers of a segment, without attaching to it; for a channel its\n"
	  "state, for an mpsc channel the records lost and a line per writer\n"
	  "(PID, liveness, messages sent, position and the reader's lag), and for\n"
	  "a broadcast channel its policy and a line per subscriber (PID,\n"
	  "liveness, position, lag in bytes and messages, messages received and\n"
	  "missed).\n" },
	[CMD_RM] = { "rm", CMD_RM,
	  "rm NAME...",
	  "Removes segments: new opens fail at once, processes attached keep\n"
	  "working until they detach.\n" },
	[CMD_GC] = { "gc", CMD_GC,
	  "gc [--dry-run]",
	  "Removes every shmkit segment with no live peer.  Never touches objects\n"
	  "that are not shmkit's.  --dry-run: only tell what would go.\n" },
	[CMD_BENCH] = { "bench", CMD_BENCH, BENCH_SYNOPSIS, BENCH_HELP_TEXT },
	[CMD_HELP] = { "help", CMD_HELP, "help [COMMAND]", "Shows help on shmkit or one command.\n" },
};

const struct command *args_find_command(const char *name)
{
	for (size_t i = 0; i < CMD_COUNT; i++)
		if (!strcmp(args_commands[i].name, name))
			return &args_commands[i];
	return NULL;
}

/* Prints a synopsis, one line per form: @first before the first, @more
 * before the others. */
static void print_synopsis(const char *syn, const char *first, const char *more)
{
	const char *lead = first;

	for (;;) {
		size_t len = strcspn(syn, "\n");
		printf("%sshmkit %.*s\n", lead, (int)len, syn);
		lead = more;
		if (syn[len] == '\0')
			break;
		syn += len + 1;
	}
}

void print_usage(void)
{
	fputs("Usage:\n", stdout);
	for (size_t i = 0; i < CMD_COUNT; i++)
		if (args_commands[i].id != CMD_HELP)
			print_synopsis(args_commands[i].synopsis, "  ", "  ");
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

void print_command_help(const struct command *c)
{
	print_synopsis(c->synopsis, "Usage: ", "       ");
	printf("\n%s", c->help);
}
