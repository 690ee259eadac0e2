/* SPDX-License-Identifier: MIT */
/*
 * Description: the single-producer single-consumer channel against
 * corruption: positions and records overwritten under live handles, the
 * role words, random garbage, the immutable line before an open, a
 * segment that is no channel: -EBADMSG (or -EPROTONOSUPPORT), never a
 * crash or a hang.
 */
#include "chan_spsc.h"

TestSuite(chan_spsc_corrupt, .init = chan_setup, .fini = kids_teardown, .timeout = 60);

/* ---- corruption ---- */

struct pair {
	const char *name;
	shmkit_region *reg;  /* a mapping of its own: outlives both ends */
	shmkit_chan *w, *r;
	struct shmkit_chan_shm *cb;
	unsigned char *ring;
	size_t cap, max;
};

static struct pair pair_new(size_t cap)
{
	struct pair p;
	p.name = new_chan(SHMKIT_BACKEND_POSIX, cap, 0);
	p.w = xopen(p.name, SHMKIT_CHAN_WRITER);
	p.r = xopen(p.name, SHMKIT_CHAN_READER);
	cr_assert_eq(shmkit_region_open(p.name, 0, 0, 0, &p.reg), 0);
	p.cb = shmkit_region_base(p.reg);
	p.ring = (unsigned char *)p.cb + SHMKIT_CHAN_RING_OFF;
	p.cap = cap;
	p.max = cap / 4;
	return p;
}

static void pair_close(struct pair *p)
{
	shmkit_chan_close(p->w);
	shmkit_chan_close(p->r);
	shmkit_region_close(p->reg);
	cr_assert_eq(shmkit_remove(p->name), 0);
}

static void send_n(struct pair *p, int n, size_t len)
{
	unsigned char b[4096];
	for (int i = 0; i < n; i++) {
		msg_fill(b, len, 0, (uint64_t)i);
		int err = shmkit_chan_send(p->w, b, len, 0);
		cr_assert_eq(err, 0, "send %d of %zu: %s", i, len, shmkit_strerror(err));
	}
}

/* recv and peek both say -EBADMSG, several times over. */
static void expect_badmsg(struct pair *p, const char *what)
{
	unsigned char b[4096];
	const void *q;
	for (int i = 0; i < 3; i++) {
		long n = shmkit_chan_recv(p->r, b, sizeof(b), 0);
		cr_expect_eq(n, -EBADMSG, "%s: recv %ld (%s)", what, n, shmkit_strerror((int)n));
		n = shmkit_chan_peek(p->r, &q, 0);
		cr_expect_eq(n, -EBADMSG, "%s: peek %ld (%s)", what, n, shmkit_strerror((int)n));
		n = shmkit_chan_recv(p->r, b, sizeof(b), SHORT_NS);
		cr_expect_eq(n, -EBADMSG, "%s: recv with a timeout %ld (%s)", what, n,
			     shmkit_strerror((int)n));
	}
}

static void set_rec(struct pair *p, uint64_t off, uint32_t len, uint32_t kind)
{
	struct shmkit_chan_rec rec = { .len = len, .kind = kind };
	memcpy(p->ring + off, &rec, sizeof(rec));
}

/* Closes the writer (which stores tail), so that tail can be damaged. */
static void drop_writer(struct pair *p)
{
	cr_assert_eq(shmkit_chan_close(p->w), 0);
	p->w = NULL;
}

/* A new writer that opens gets -EBADMSG. */
static void expect_writer_badmsg(struct pair *p, const char *what)
{
	shmkit_chan *c = (shmkit_chan *)1;
	if (p->w)
		drop_writer(p);
	int err = shmkit_chan_open(p->name, 0, SHMKIT_CHAN_WRITER, NULL, &c);
	cr_expect_eq(err, -EBADMSG, "%s: a new writer: %s", what, shmkit_strerror(err));
	cr_expect_null(c);
}

/* The reader does not read tail: only stat, sleepers and a new writer do. */
Test(chan_spsc_corrupt, corrupt_positions)
{
	alarm(30);
	struct pair p;
	struct shmkit_chan_info ci;
	unsigned char b[256];

	/* tail a little behind head: what a writer killed between a commit's
	 * header and its tail leaves; stat says nothing is used */
	p = pair_new(256);
	send_n(&p, 3, 20);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(shmkit_chan_recv(p.r, b, sizeof(b), 0), 20);
	uint64_t h = atomic_load(&p.cb->head);
	drop_writer(&p);
	atomic_store(&p.cb->tail, h - 8);
	cr_expect_eq(shmkit_chan_recv(p.r, b, sizeof(b), 0), 0, "the reader ignores tail: the end");
	cr_expect_eq(shmkit_chan_stat(p.name, &ci), 0);
	cr_expect_eq(ci.used, 0);
	expect_writer_badmsg(&p, "tail inside the last record");
	pair_close(&p);

	/* tail more than a capacity ahead, or behind */
	p = pair_new(256);
	send_n(&p, 2, 20);
	drop_writer(&p);
	atomic_store(&p.cb->tail, atomic_load(&p.cb->head) + 512 + 8);
	cr_expect_eq(shmkit_chan_recv(p.r, b, sizeof(b), 0), 20, "the reader reads on");
	cr_expect_eq(shmkit_chan_stat(p.name, &ci), -EBADMSG);
	expect_writer_badmsg(&p, "tail - head > capacity");
	pair_close(&p);

	p = pair_new(256);
	drop_writer(&p);
	atomic_store(&p.cb->tail, (uint64_t)1 << 63);
	cr_expect_eq(shmkit_chan_stat(p.name, &ci), -EBADMSG);
	expect_writer_badmsg(&p, "tail = 2^63");
	pair_close(&p);

	/* unaligned tail (bit 0 alone is the end-of-stream mark) */
	p = pair_new(256);
	send_n(&p, 1, 20);
	drop_writer(&p);
	atomic_store(&p.cb->tail, 20);
	cr_expect_eq(shmkit_chan_stat(p.name, &ci), -EBADMSG);
	expect_writer_badmsg(&p, "unaligned tail");
	pair_close(&p);

	/* tail at a good record, its bit 0 set: a closed stream, fine */
	p = pair_new(256);
	send_n(&p, 2, 20);
	drop_writer(&p);  /* its END record at 64 */
	atomic_store(&p.cb->tail, 32 | 1);
	cr_expect_eq(shmkit_chan_stat(p.name, &ci), 0);
	cr_expect_eq(ci.used, 32);
	p.w = xopen(p.name, SHMKIT_CHAN_WRITER);  /* walks from 32 over 64's END to 72 */
	cr_expect_eq(atomic_load(&p.cb->tail), 72);
	send_n(&p, 1, 20);
	for (int i = 0; i < 2; i++)
		cr_expect_eq(shmkit_chan_recv(p.r, b, sizeof(b), 0), 20);
	cr_expect_eq(shmkit_chan_recv(p.r, b, sizeof(b), 0), 0, "the first session's end");
	cr_expect_eq(shmkit_chan_recv(p.r, b, sizeof(b), 0), 20);
	cr_expect_eq(shmkit_chan_recv(p.r, b, sizeof(b), 0), -EAGAIN);
	pair_close(&p);

	/* head beyond what the writer published, as it sees it when it
	 * needs room */
	p = pair_new(256);
	send_n(&p, 3, 64);
	cr_assert_eq(shmkit_chan_send(p.w, b, 64, 0), -EAGAIN);
	uint64_t t = atomic_load(&p.cb->tail);
	atomic_store(&p.cb->head, t + 8);
	cr_expect_eq(shmkit_chan_send(p.w, b, 64, 0), -EBADMSG, "head > tail");
	cr_expect_eq(shmkit_chan_send(p.w, b, 64, SHORT_NS), -EBADMSG, "head > tail");
	atomic_store(&p.cb->head, 4);
	cr_expect_eq(shmkit_chan_send(p.w, b, 64, 0), -EBADMSG, "unaligned head");
	void *rp;
	cr_expect_eq(shmkit_chan_reserve(p.w, 64, &rp, 0), -EBADMSG, "unaligned head");
	cr_expect_eq(shmkit_chan_stat(p.name, &ci), -EBADMSG);
	atomic_store(&p.cb->head, t + 8);
	expect_writer_badmsg(&p, "head past the frontier");
	pair_close(&p);

	/* head more than a capacity behind tail */
	p = pair_new(256);
	for (int i = 0; i < 20; i++) {
		send_n(&p, 2, 64);
		for (int k = 0; k < 2; k++)
			cr_assert_eq(shmkit_chan_recv(p.r, b, sizeof(b), 0), 64);
	}
	send_n(&p, 2, 64);
	atomic_store(&p.cb->head, 0);
	cr_expect_eq(shmkit_chan_send(p.w, b, 64, 0), -EBADMSG, "tail - head > capacity");
	cr_expect_eq(shmkit_chan_stat(p.name, &ci), -EBADMSG);
	shmkit_chan *c;
	cr_expect_eq(shmkit_chan_open(p.name, 0, SHMKIT_CHAN_READER, NULL, &c), -EBUSY,
		     "the live reader holds the role");
	shmkit_chan_close(p.r);
	p.r = NULL;
	cr_expect_eq(shmkit_chan_open(p.name, 0, SHMKIT_CHAN_READER, NULL, &c), -EBADMSG,
		     "a new reader checks the positions");
	pair_close(&p);
	alarm(0);
}

Test(chan_spsc_corrupt, corrupt_records)
{
	alarm(30);
	struct pair p;

	/* len > max, though within what was published */
	p = pair_new(256);
	send_n(&p, 4, 20);  /* 4 x 32 published */
	set_rec(&p, 0, 65, SHMKIT_REC_DATA);
	expect_badmsg(&p, "len > max");
	pair_close(&p);

	p = pair_new(256);
	send_n(&p, 1, 10);
	set_rec(&p, 0, 0xffffffffu, SHMKIT_REC_DATA);
	expect_badmsg(&p, "len 2^32-1");
	pair_close(&p);

	/* len 0 */
	p = pair_new(256);
	send_n(&p, 1, 10);
	set_rec(&p, 0, 0, SHMKIT_REC_DATA);
	expect_badmsg(&p, "len 0");
	pair_close(&p);

	/* garbage kinds */
	static const uint32_t kinds[] = { 0, 3, 4, 0x80000001u, 0xffffffffu };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		p = pair_new(256);
		send_n(&p, 1, 10);
		set_rec(&p, 0, 10, kinds[i]);
		expect_badmsg(&p, "kind garbage");
		pair_close(&p);
	}

	/* a record that would end past a capacity (less the frontier's zero
	 * word) of what the reader released: three of 72 peeked, unreleased,
	 * then one of 40 at 216 */
	p = pair_new(256);
	{
		const void *q;
		send_n(&p, 3, 64);
		for (int i = 0; i < 3; i++)
			cr_assert_eq(shmkit_chan_peek(p.r, &q, 0), 64);
		set_rec(&p, 216, 32, SHMKIT_REC_DATA);  /* 216..256: in the ring */
		for (int i = 0; i < 3; i++)
			cr_expect_eq(shmkit_chan_peek(p.r, &q, 0), -EBADMSG, "past head + 248");
	}
	pair_close(&p);

	/* a nonzero word at the frontier (where nothing is published) */
	static const uint64_t words[] = { 1, (uint64_t)3 << 32 | 8, ~(uint64_t)0,
					  (uint64_t)SHMKIT_REC_PAD << 32 | 200 };
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		p = pair_new(256);
		unsigned char b[256];
		send_n(&p, 1, 10);  /* 24 bytes; the frontier at 24 */
		memcpy(p.ring + 24, &words[i], 8);
		cr_expect_eq(shmkit_chan_recv(p.r, b, sizeof(b), 0), 10, "the first is good");
		expect_badmsg(&p, "garbage at the frontier");
		/* the closing writer writes its END over it: the garbage goes
		 * to the frontier it leaves, past that END */
		drop_writer(&p);
		memcpy(p.ring + 32, &words[i], 8);
		expect_writer_badmsg(&p, "garbage at the frontier");
		pair_close(&p);
	}

	/* a pad record that does not reach the ring's end, though skipping it
	 * would land on a good record: messages of 8 (16 bytes) then 10; the
	 * first one's header made a padding of 16, or of 8 over a record of 8 */
	p = pair_new(256);
	send_n(&p, 1, 8);
	send_n(&p, 1, 10);
	set_rec(&p, 0, 8, SHMKIT_REC_PAD);
	expect_badmsg(&p, "pad not reaching the end");
	pair_close(&p);

	p = pair_new(256);
	send_n(&p, 1, 8);
	send_n(&p, 1, 10);
	set_rec(&p, 0, 0, SHMKIT_REC_PAD);
	set_rec(&p, 8, 0, SHMKIT_REC_PAD);
	expect_badmsg(&p, "two pads of 8 at offset 0");
	pair_close(&p);

	/* a pad record longer than what is published, or than the ring */
	p = pair_new(256);
	send_n(&p, 1, 10);
	set_rec(&p, 0, 248, SHMKIT_REC_PAD);
	expect_badmsg(&p, "pad of the whole ring");
	pair_close(&p);

	/* the same past a stale tail (a writer killed between a commit's
	 * header and its tail): a new writer walks into it */
	p = pair_new(256);
	send_n(&p, 1, 10);
	drop_writer(&p);
	atomic_store(&p.cb->tail, 0);
	set_rec(&p, 0, 248, SHMKIT_REC_PAD);
	expect_writer_badmsg(&p, "pad of the whole ring past tail");
	set_rec(&p, 0, 40, SHMKIT_REC_DATA);  /* 48: over the zero word at 24 */
	set_rec(&p, 48, 1000, SHMKIT_REC_DATA);
	expect_writer_badmsg(&p, "len > max past tail");
	set_rec(&p, 48, 200, SHMKIT_REC_PAD);
	expect_writer_badmsg(&p, "pad not to the end past tail");
	set_rec(&p, 48, 192, SHMKIT_REC_PAD);  /* to the end, but more than 248 from tail */
	set_rec(&p, 0, 0, SHMKIT_REC_PAD);
	expect_writer_badmsg(&p, "pad at 0 not to the end past tail");
	set_rec(&p, 0, 10, SHMKIT_REC_DATA);  /* repaired: the frontier is 24 again */
	memset(p.ring + 24, 0, 8);  /* (where the first writer's END was) */
	p.w = xopen(p.name, SHMKIT_CHAN_WRITER);
	cr_expect_eq(atomic_load(&p.cb->tail), 24);
	pair_close(&p);

	p = pair_new(256);
	send_n(&p, 1, 10);
	set_rec(&p, 0, 0xfffffff8u, SHMKIT_REC_PAD);
	expect_badmsg(&p, "huge pad");
	pair_close(&p);

	/* a data record that crosses the ring's end */
	p = pair_new(256);
	{
		unsigned char b[256];
		for (int i = 0; i < 30; i++) {
			send_n(&p, 1, 1);
			cr_assert_eq(shmkit_chan_recv(p.r, b, sizeof(b), 0), 1);
		}
		/* 30 records of 16 = 480: offset 224 */
		cr_assert_eq(atomic_load(&p.cb->tail) % 256, 224);
		send_n(&p, 1, 24);  /* 32 bytes: 224..256 */
		send_n(&p, 1, 8);   /* 16 at 0 */
		set_rec(&p, 224, 40, SHMKIT_REC_DATA);  /* 48 bytes from 224 */
		expect_badmsg(&p, "record across the end");
		drop_writer(&p);
		atomic_store(&p.cb->tail, 224);  /* stale: the record is past it */
		expect_writer_badmsg(&p, "record across the end");
	}
	pair_close(&p);

	/* a pad record in the middle of the stream, after good ones */
	p = pair_new(256);
	{
		unsigned char b[256];
		send_n(&p, 3, 10);
		set_rec(&p, 24, 16, SHMKIT_REC_PAD);  /* exactly over the second */
		cr_expect_eq(shmkit_chan_recv(p.r, b, sizeof(b), 0), 10, "the first is good");
		expect_badmsg(&p, "pad in the middle");
	}
	pair_close(&p);
	alarm(0);
}

Test(chan_spsc_corrupt, corrupt_role_words)
{
	alarm(30);
	struct pair p;
	unsigned char b[256];
	shmkit_chan *c;

	/* garbage writer token: the reader waiting for data says -EBADMSG */
	static const uint32_t toks[] = { 0x7fu, 121u, 0x40000001u, 0xffffffffu };
	for (size_t i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
		p = pair_new(256);
		atomic_store(&p.cb->writer, toks[i]);
		long n = shmkit_chan_recv(p.r, b, sizeof(b), SHORT_NS);
		cr_expect_eq(n, -EBADMSG, "writer token %#x: recv %ld (%s)", toks[i], n,
			     shmkit_strerror((int)n));
		int err = shmkit_chan_open(p.name, 0, SHMKIT_CHAN_WRITER, NULL, &c);
		cr_expect_eq(err, -EBADMSG, "writer token %#x: open %s", toks[i],
			     shmkit_strerror(err));
		struct shmkit_chan_info ci;
		cr_expect_eq(shmkit_chan_stat(p.name, &ci), 0, "stat shows what it can");
		cr_expect_eq(ci.writer_pid, 0);
		pair_close(&p);

		/* garbage reader token: the writer waiting for room */
		p = pair_new(256);
		atomic_store(&p.cb->reader, toks[i]);
		while (shmkit_chan_send(p.w, b, 60, 0) == 0)
			;
		err = shmkit_chan_send(p.w, b, 60, SHORT_NS);
		cr_expect_eq(err, -EBADMSG, "reader token %#x: send %s", toks[i],
			     shmkit_strerror(err));
		pair_close(&p);
	}
	alarm(0);
}

/* Random rings under a fresh reader: each call returns a valid length, or
 * -EBADMSG / -EAGAIN, and a reader never loops or reads outside the ring. */
Test(chan_spsc_corrupt, corrupt_fuzz, .timeout = 120)
{
	alarm(100);
	uint64_t seed = test_seed(0), rng = seed;
	struct pair p = pair_new(256);
	unsigned char b[256];
	unsigned outcomes[4] = { 0 };

	printf("chan corrupt_fuzz: seed %llu\n", (unsigned long long)seed);
	fflush(stdout);
	cr_assert_eq(shmkit_chan_close(p.r), 0);
	p.r = NULL;
	for (int it = 0; it < 4000; it++) {
		uint64_t x = mix64(rng++), head, tail;
		unsigned shape = (unsigned)(x % 8);
		uint32_t lens[64];
		int nlens = 0, whole = 0;
		head = (x >> 8) % 4096 & ~(uint64_t)7;
		if (shape < 4) {
			/* a well-formed ring (records and padding as a writer makes
			 * them, from head on), then one word or field damaged */
			uint64_t pos = head, end = head + mix64(rng++) % 257;
			memset(p.ring, 0xa5, 256);
			for (;;) {
				uint32_t len = 1 + (uint32_t)(mix64(rng++) % 64);
				uint64_t need = rec_size(len), off = pos & 255;
				uint64_t pad = 256 - off < need ? 256 - off : 0;
				if (pos + pad + need > end || pos + pad + need + 8 - head > 256)
					break;
				if (pad) {
					set_rec(&p, off, (uint32_t)pad - 8, SHMKIT_REC_PAD);
					pos += pad;
					off = 0;
				}
				set_rec(&p, off, len, SHMKIT_REC_DATA);
				lens[nlens++] = len;
				pos += need;
			}
			tail = pos;
			memset(p.ring + (pos & 255), 0, 8);  /* the frontier's word (I1) */
			uint64_t y = mix64(rng++), at = (y % 32) * 8;
			switch ((y >> 8) % 6) {
			case 0: whole = 1; break;  /* left whole: all of it must come */
			case 1: memcpy(p.ring + at, &y, 8); break;
			case 2: memcpy(p.ring + at, &y, 4); break;      /* a len */
			case 3: memcpy(p.ring + at + 4, &y, 4); break;  /* a kind */
			case 4: tail += ((y >> 16) % 5) * 8; break;      /* tail past the records */
			default: tail -= tail > head ? 8 : 0; break;     /* tail inside a record */
			}
		} else {
			/* records with random fields, or plain noise */
			bool noise = shape == 7;
			for (uint64_t off = 0; off < 256; off += 8) {
				uint64_t z = mix64(rng++);
				if (!noise) {
					uint32_t kind = (uint32_t)(z % 5), len;
					switch ((z >> 8) % 4) {
					case 0: len = (uint32_t)((z >> 16) % 80); break;
					case 1: len = 256 - 8 - (uint32_t)off; break;
					case 2: len = (uint32_t)(z >> 32); break;
					default: len = (uint32_t)((z >> 16) % 16); break;
					}
					struct shmkit_chan_rec rec = { .len = len, .kind = kind };
					memcpy(&z, &rec, 8);
				}
				memcpy(p.ring + off, &z, 8);
			}
			uint64_t y = mix64(rng++);
			switch ((y >> 16) % 8) {
			case 0: tail = head + ((y >> 24) % 300); break;  /* maybe unaligned or too far */
			case 1: tail = head - ((y >> 24) % 64); break;   /* maybe behind */
			case 2: tail = head + 256; break;
			default: tail = head + (((y >> 24) % 257) & ~(uint64_t)7); break;
			}
			if (y % 16 == 0)
				head |= (y >> 40) & 7;  /* maybe an unaligned head */
		}
		atomic_store(&p.cb->head, head);
		atomic_store(&p.cb->tail, tail);
		/* the last told end a reader starts from: none, garbage, or one
		 * at a record ahead (an END there is then skipped) */
		uint64_t e = mix64(rng++);
		atomic_store(&p.cb->end_told, e % 3 == 0 ? 0 : e % 3 == 1 ? e >> 2
					       : (head + ((e >> 8) % 32) * 8) | 1);
		shmkit_chan *r;
		int err = shmkit_chan_open(p.name, 0, SHMKIT_CHAN_READER, NULL, &r);
		if (err) {
			cr_assert_eq(err, -EBADMSG, "it %d: open %s", it, shmkit_strerror(err));
			outcomes[3]++;
			continue;
		}
		for (int k = 0; k < 64; k++) {
			long n;
			const void *q = NULL;
			if (k & 1)
				n = shmkit_chan_recv(r, b, sizeof(b), 0);
			else
				n = shmkit_chan_peek(r, &q, 0);
			if (whole)
				cr_assert_eq(n, k < nlens ? (long)lens[k] : -EAGAIN,
					     "it %d: a whole ring, message %d: %ld", it, k, n);
			if (n > 0) {
				cr_assert_leq(n, 64, "it %d: length %ld > max", it, n);
				if (q) {
					const unsigned char *u = q, *rr = ring_of(r);
					cr_assert(u >= rr + 8 && u + n <= rr + 256,
						  "it %d: message outside the ring", it);
				}
				outcomes[0]++;
				continue;
			}
			if (n == 0)
				continue;  /* an END record (kind 3, len 0): read on past it */
			cr_assert(n == -EBADMSG || n == -EAGAIN, "it %d: %ld (%s)", it, n,
				  shmkit_strerror((int)n));
			outcomes[n == -EBADMSG ? 1 : 2]++;
			break;
		}
		cr_assert_eq(shmkit_chan_close(r), 0);
	}
	printf("chan corrupt_fuzz: %u messages, %u -EBADMSG, %u -EAGAIN, %u opens refused\n",
	       outcomes[0], outcomes[1], outcomes[2], outcomes[3]);
	cr_expect_gt(outcomes[1], 0);
	cr_expect_gt(outcomes[0], 0);
	atomic_store(&p.cb->head, 0);
	atomic_store(&p.cb->tail, 0);
	atomic_store(&p.cb->end_told, 0);
	pair_close(&p);
	alarm(0);
}

/* The immutable line corrupted before an open: the open (and stat) fail. */
Test(chan_spsc_corrupt, corrupt_immutable_line)
{
	struct { size_t off; uint64_t val; int size; int err; const char *what; } cases[] = {
		{ 0, 0x48434b54u, 4, -EBADMSG, "magic" },
		{ 0, 0, 4, -EBADMSG, "magic 0" },
		{ 4, 1, 4, -EPROTONOSUPPORT, "version 1 (the tail-published layout)" },
		{ 4, 2, 4, -EPROTONOSUPPORT, "version 2 (shmkit 0.1's layout)" },
		{ 4, 3, 4, -EPROTONOSUPPORT, "version 3 (shmkit 0.2's layout)" },
		{ 4, 5, 4, -EPROTONOSUPPORT, "version 5" },
		{ 4, 0, 4, -EPROTONOSUPPORT, "version 0" },
		{ 8, 4, 4, -EPROTONOSUPPORT, "type 4" },  /* 3: broadcast */
		{ 8, 2, 4, -EBADMSG, "type 2 (mpsc) with an spsc ring offset" },
		{ 12, 32, 4, -EBADMSG, "max_msg" },
		{ 12, 65, 4, -EBADMSG, "max_msg" },
		{ 16, 100, 8, -EBADMSG, "capacity 100" },
		{ 16, 0, 8, -EBADMSG, "capacity 0" },
		{ 16, 32, 8, -EBADMSG, "capacity 32" },
		{ 16, 512, 8, -EBADMSG, "capacity beyond the data" },
		{ 16, (uint64_t)1 << 40, 8, -EBADMSG, "capacity 2^40" },
		{ 24, 512, 8, -EBADMSG, "ring offset" },
		{ 24, 0, 8, -EBADMSG, "ring offset 0" },
		{ 32, 4, 4, -EBADMSG, "policy 4" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = new_chan(SHMKIT_BACKEND_POSIX, 256, 0);
		shmkit_region *reg;
		cr_assert_eq(shmkit_region_open(name, 0, 0, 0, &reg), 0);
		unsigned char *base = shmkit_region_base(reg), saved[8];
		memcpy(saved, base + cases[i].off, 8);
		memcpy(base + cases[i].off, &cases[i].val, (size_t)cases[i].size);
		shmkit_chan *c = (shmkit_chan *)1;
		struct shmkit_chan_info ci;
		for (int role = SHMKIT_CHAN_WRITER; role <= SHMKIT_CHAN_READER; role++) {
			int err = shmkit_chan_open(name, 0, role, NULL, &c);
			cr_expect_eq(err, cases[i].err, "%s: open as %d: %s", cases[i].what, role,
				     shmkit_strerror(err));
			cr_expect_null(c);
			err = shmkit_chan_open(name, SHMKIT_CREATE, role, NULL, &c);
			cr_expect_eq(err, cases[i].err, "%s: open(CREATE): %s", cases[i].what,
				     shmkit_strerror(err));
		}
		int err = shmkit_chan_stat(name, &ci);
		cr_expect_eq(err, cases[i].err, "%s: stat: %s", cases[i].what, shmkit_strerror(err));
		err = shmkit_chan_create(name, 0, NULL);
		cr_expect_eq(err, cases[i].err, "%s: create: %s", cases[i].what,
			     shmkit_strerror(err));
		/* put back, and it opens */
		memcpy(base + cases[i].off, saved, 8);
		cr_assert_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, NULL, &c), 0,
			     "%s restored", cases[i].what);
		cr_expect_eq(shmkit_chan_close(c), 0);
		cr_expect_eq(shmkit_region_close(reg), 0);
	}
}

/* Segments that are not channels. */
Test(chan_spsc_corrupt, not_a_channel)
{
	static const int backends[] = { SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV,
					SHMKIT_BACKEND_FILE };
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		const char *name = ut_name(backends[i]);
		const char *bn = ut_backend_names[backends[i]];
		shmkit_region *reg;
		shmkit_chan *c = (shmkit_chan *)1;
		struct shmkit_chan_info ci;
		cr_assert_eq(shmkit_region_open(name, SHMKIT_CREATE | SHMKIT_EXCL, 1u << 16, 0, &reg),
			     0);
		for (int role = SHMKIT_CHAN_WRITER; role <= SHMKIT_CHAN_READER; role++) {
			cr_expect_eq(shmkit_chan_open(name, 0, role, NULL, &c), -EPROTONOSUPPORT,
				     "%s plain region", bn);
			cr_expect_null(c);
			cr_expect_eq(shmkit_chan_open(name, SHMKIT_CREATE, role, NULL, &c),
				     -EPROTONOSUPPORT, "%s plain region, CREATE", bn);
		}
		cr_expect_eq(shmkit_chan_create(name, 0, NULL), -EPROTONOSUPPORT, "%s", bn);
		cr_expect_eq(shmkit_chan_stat(name, &ci), -EPROTONOSUPPORT, "%s", bn);
		cr_expect_eq(shmkit_region_close(reg), 0);
		/* a named semaphore is a segment, not a channel */
		const char *sname = ut_name(backends[i]);
		shmkit_sem *s;
		cr_assert_eq(shmkit_sem_open(sname, SHMKIT_CREATE, 0, 1, &reg, &s), 0);
		cr_expect_eq(shmkit_chan_open(sname, 0, SHMKIT_CHAN_READER, NULL, &c),
			     -EPROTONOSUPPORT, "%s named semaphore", bn);
		cr_expect_eq(shmkit_chan_stat(sname, &ci), -EPROTONOSUPPORT, "%s", bn);
		cr_expect_eq(shmkit_region_close(reg), 0);
	}
	/* a raw object: not a shmkit segment at all */
	const char *name = ut_name(SHMKIT_BACKEND_POSIX);
	shmkit_region *reg;
	shmkit_chan *c;
	cr_assert_eq(shmkit_region_open(name, SHMKIT_CREATE | SHMKIT_RAW, 4096, 0, &reg), 0);
	cr_expect_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, NULL, &c), -EPROTO);
	cr_expect_eq(shmkit_chan_open(name, SHMKIT_CREATE, SHMKIT_CHAN_WRITER, NULL, &c), -EPROTO);
	cr_expect_eq(shmkit_region_close(reg), 0);
	/* and nothing at all */
	struct shmkit_chan_info ci;
	name = ut_name(SHMKIT_BACKEND_POSIX);
	cr_expect_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, NULL, &c), -ENOENT);
	cr_expect_eq(shmkit_chan_stat(name, &ci), -ENOENT);
}
