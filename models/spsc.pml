/* SPDX-License-Identifier: MIT */
/*
 * spsc.pml - a Promela model of the SPSC channel protocol (src/chan/spsc.c,
 * with the waiter of src/chan/wait.c; docs/architecture.md "Channels").
 * models/check.sh runs it with spin.
 *
 * What it proves, under every interleaving of one writer, one reader and a
 * killer that may stop either of them forever at any step:
 *
 *   no_torn      the reader accepts only a message the writer wrote in
 *                full (every payload word) and committed;
 *   no_dup       it never accepts a message twice, except one a killed
 *                reader had peeked and not released (its successor starts
 *                from head, as the real one does);
 *   no_loss      it never skips a committed message, and whenever it finds
 *                a zero header at its position, every committed message has
 *                been read: a message committed before close, or by a writer
 *                that then died, is delivered;
 *   hdr_valid    every header the reader or a new writer's walk loads passes
 *                the checks of spsc.c rec_check() (the ring's bounds rule,
 *                ring.h shmkit__ring_span()), ring.h shmkit__ring_near() and
 *                load_head(), so an
 *                honest run never gets -EBADMSG;
 *   writes_free  the writer stores only into space the reader released and
 *                never into the word at the reader's unreleased records;
 *   clean_close  the reader says -EPIPE only of a stream that is not
 *                closed: a writer that closed and then detached (or was
 *                killed after its close) ended its stream, even when the
 *                reader saw it alive at SP8 and dead just after;
 *   no lost wake-up: a side that sleeps is woken by its peer's next
 *                publication.  The real sleeps also end every poll period
 *                (SHMKIT_OWNER_POLL_MS); the model's end only when the peer
 *                died after the sleeper loaded its futex word (SP10), since
 *                a dead peer owes a wake it never sends.  So any other lost
 *                wake-up is a deadlock, which spin reports as an invalid
 *                end state, and every run must end: the reader at the end
 *                of the stream or at -EPIPE, the writer after close or at
 *                -EPIPE.
 *
 * Scale: the ring is 8 words (64 bytes, the smallest real capacity), a
 * word is one Promela byte; messages have 1 or 2 payload words (max_msg is
 * capacity / 4 = 16 bytes), so records are 2 or 3 words and padding records
 * of 1 and 2 words occur.  Positions count words modulo 16 (2 x capacity):
 * the real ones are 64-bit byte counts, but every comparison the protocol
 * makes is between positions less than 2 x capacity apart, which the
 * modular differences below decide the same way.  The writer reserves 1 or
 * 2 messages per commit (a batch), the reader peeks 1 or 2 before it
 * releases; the lengths and both choices are free, so all the record
 * layouts of that ring arise (check.sh's longest stream goes round three
 * times).
 *
 * Crashes: the killer may stop the writer or the reader between any two of
 * its steps (each step is one load or store of shared memory, with the
 * local work and ghost updates around it folded in), also while it sleeps
 * and after close began.  A killed writer may be followed by a takeover
 * writer (the role CAS, the walk from tail to the first zero header,
 * closed = 0, tail = frontier), or by none; a killed reader is followed by
 * a new one that starts from head.  Liveness (the OFD lock or PID check
 * behind the role word) is exact and immediate here: a killed side is
 * dead at once.
 *
 * Memory ordering.  Promela is sequentially consistent: every store is
 * visible to every process at once, in program order.  The real code gets
 * that effect only through its labelled pairs (docs/architecture.md,
 * "Memory ordering"), so each step carries the label of the pair it stands
 * for, and the model is only as good as the claim that each pair delivers
 * what SC gives here.  What SC hides:
 *   - payload words, later headers and the I1 zero words are plain stores
 *     (relaxed in C terms); only SP1's release keeps them before the batch's
 *     first header, and only SP2's acquire keeps the reader's payload loads
 *     after its header load.  BUG_COMMIT_FIRST shows what the header
 *     becoming visible early does;
 *   - SP3's release keeps the reader's payload loads before head moves;
 *     BUG_EARLY_RELEASE shows what a head store ahead of them does;
 *   - W1/W2, the waiter's sleep/wake barrier pair (wait.c
 *     shmkit__wait_step() and wait.h shmkit__wake()), is a store-then-load
 *     (Dekker) pair, which even x86-TSO breaks without a full barrier (or
 *     membarrier); BUG_NO_C5 (named for W1's old label) lets the sleeper's
 *     flag store drain only after its futex compare, as a store buffer may;
 *   - SP4's acquire keeps the writer's stores into space the reader
 *     released after the reader's loads there (SP3); BUG_NO_ROOM shows a
 *     store into space not released at all;
 *   - SP7/SP8 make a reader that sees closed see the last header; SP9/SP11
 *     make a new writer see every record before tail, and the walk's
 *     acquires (SP11 with SP1) the records past it; BUG_TAIL_FIRST and
 *     BUG_NO_WALK show why the walk and the SP1-then-SP9 order matter;
 *   - a killed process's completed stores stay visible (they are in shared
 *     memory; its store buffer drains), and the 64-bit header word is stored
 *     and loaded as one unit (it is one aligned atomic).
 * Not modelled: hostile peers (the fuzz targets cover them), statistics
 * counters, timeouts and -EAGAIN, -EMSGSIZE, threads sharing a handle, the
 * membarrier choice of W1/W2 and the fence sets with their W3 (the model
 * assumes the Dekker pair holds, which is the kernel's argument in the
 * docs), the brief polls (wait.c shmkit__wait_poll()) and the spin budget
 * (a spinning side is a side that blocks until a word it polls changes;
 * spinning itself changes nothing).
 *
 * Mutants (spin -DBUG_...): each breaks one rule, and check.sh expects
 * spin to find a counterexample for each:
 *   BUG_COMMIT_FIRST   the batch's first header is stored at reserve,
 *                      before the payload (SP1 not last / not release)
 *   BUG_NO_ZERO        the word past each record is not zeroed (no I1)
 *   BUG_NO_ROOM        reserve does not count the frontier's zero word
 *   BUG_EARLY_RELEASE  the reader stores head before it reads the payload
 *                      (SP3 not after the reads)
 *   BUG_TAIL_FIRST     commit stores tail before the header (SP9 before SP1)
 *   BUG_NO_WALK        a new writer starts at tail, without the walk
 *   BUG_NO_C5          the sleeper's flag becomes visible after its futex
 *                      compare (no W1 barrier)
 *   BUG_EPIPE_CLOSE    -EPIPE on the writer's liveness alone, without the
 *                      second look at closed (SP8 again in reader_next())
 */

#ifndef NMSG
#define NMSG 5          /* messages the writers try to send, ids 1..NMSG */
#endif
#ifndef WKILLS
#define WKILLS 1        /* writers the killer may stop */
#endif
#ifndef RKILLS
#define RKILLS 1        /* readers the killer may stop */
#endif

#define CAP 8           /* ring words: 64 bytes */
#define MOD 16          /* positions are counted modulo 2 x CAP */

/* What a ring word holds.  A header names its record's size in words. */
#define HDATA(n) (n)            /* 1, 2: a message of n payload words */
#define HPAD(n) (2 + (n))       /* 3, 4: padding of n words, header included */
#define PAYLOAD(id, k) (8 + 2 * (id) + (k))   /* word k of message id */

/* a role word as liveness sees it: never held, held by a live process,
 * held by a dead one (killed, or detached) */
#define NONE 0
#define LIVE 1
#define DEAD 2

#define DIFF(a, b) (((a) + MOD - (b)) % MOD)  /* a - b, for a at or after b */
#define OFF(p) ((p) % CAP)
#define BIT(id) (1 << (id))
#define ABOVE(n) (255 - (BIT((n) + 1) - 1))  /* the ids greater than n */

/* ---- the channel in shared memory ---- */
byte ring[CAP];
byte tail;              /* (position << 1) | closed bit, modulo 2 x MOD */
byte head;
bool closed;
bool rwait, wwait;      /* a side is about to sleep or sleeps */
byte wtok, rtok;        /* the role words */

/* ---- the kernel: the side is queued in FUTEX_WAIT ---- */
bool rsleep, wsleep;

/* ---- the killer ---- */
bool wkill, rkill;
byte wkills, rkills;    /* kills so far */

/* ---- ghosts: what happened, for the assertions ---- */
byte nextid = 1;        /* the id the next reservation gets */
byte mlen[NMSG + 1];    /* payload words of each id */
byte committed;         /* bit id: message id is published (SP1 ran) */
byte closemask;         /* committed, when closed was stored (SP7) */
byte released;          /* the last id the reader released (SP3) */
bit no_torn = 1, no_dup = 1, no_loss = 1, hdr_valid = 1, writes_free = 1, clean_close = 1;

/* Asserts a named property: the name is what spin prints. */
#define CHECK(prop, cond) prop = (cond); assert(prop); prop = 1

/*
 * Each process is a step machine: every option of its loop is one atomic
 * step that makes at most one access to shared memory (the word named in
 * its comment; ghosts and locals ride along), so a kill, and any step of
 * the other side, can fall between any two accesses.  Steps that only
 * touch locals are folded into the access that follows them: a kill there
 * is the same as a kill just before that access.
 */

/* ================= writer ================= */

/* writer steps */
#define W_CLAIM 0       /* open: role CAS */
#define W_TAIL 1        /* open: load tail */
#define W_HEAD0 2       /* open: load head */
#define W_WALK 3        /* open: load the header at p */
#define W_WWAIT0 4      /* open: wwait = 0 */
#define W_OPEN 5        /* open: closed = 0 */
#define W_TAIL0 6       /* open: tail = the frontier */
#define W_NEXT 7        /* reserve: room from the head last seen? */
#define W_HEAD 8        /* reserve: load head */
#define W_PEER 9        /* reserve: the reader's liveness */
#define W_WAIT 10       /* reserve: spin or set wwait */
#define W_RECHECK 11    /* reserve: re-check head, FUTEX_WAIT */
#define W_SLEEP 12      /* reserve: asleep */
#define W_STORE 13      /* reserve and memcpy: the next planned store */
#define W_C1 14         /* commit: the batch's first header (SP1) */
#define W_C9 15         /* commit: tail (SP9) */
#define W_C6 16         /* commit: W2, load rwait, FUTEX_WAKE */
#define W_CLOSE 17      /* close: closed = 1 */
#define W_CTAIL 18      /* close: tail | 1 */
#define W_CWAKE 19      /* close: load rwait, FUTEX_WAKE */
#define W_GONE 20       /* detach: the role's holder is dead from now */

/* The writer's store into the ring at position x: only past what it has
 * published (not into [head, pub), the reader's unreleased records) and
 * within one capacity of head (space the reader released). */
#define WSTORE(x, v) \
	CHECK(writes_free, DIFF(x, head) >= DIFF(pub, head) && DIFF(x, head) <= CAP - 1); \
	ring[OFF(x)] = v

/* Plans the stores of reserve and memcpy for a message of nw words: the
 * padding's header and the message's (both kept in the handle when they lie
 * at pub: put_hdr), the zero word past the record (I1), the payload. */
#define PLAN_ADD(x, v) sx[ns] = (x); sv[ns] = (v); ns++
inline plan()
{
	at = pos;
	if
	:: pad > 0 ->
		if
		:: at == pub -> first = HPAD(pad);
#ifdef BUG_COMMIT_FIRST
			PLAN_ADD(at, HPAD(pad))  /* the header now: the mutant */
#else
			skip
#endif
		:: else -> PLAN_ADD(at, HPAD(pad))
		fi;
		at = (at + pad) % MOD
	:: else
	fi;
	if
	:: at == pub -> first = HDATA(nw);
#ifdef BUG_COMMIT_FIRST
		PLAN_ADD(at, HDATA(nw))  /* the header now: the mutant */
#else
		skip
#endif
	:: else -> PLAN_ADD(at, HDATA(nw))
	fi;
#ifndef BUG_NO_ZERO
	PLAN_ADD((at + need) % MOD, 0);  /* I1 */
#endif
	PLAN_ADD((at + 1) % MOD, PAYLOAD(id, 0));
	if
	:: nw == 2 -> PLAN_ADD((at + 2) % MOD, PAYLOAD(id, 1))
	:: else
	fi;
	pos = (at + need) % MOD;
	k = 0;
	st = W_STORE
}

/* commit, then step ret (commit returns at once when nothing is pending) */
#ifdef BUG_TAIL_FIRST
#define COMMIT(r) ret = (r); if :: pos != pub -> st = W_C9 :: else -> st = ret fi
#else
#define COMMIT(r) ret = (r); if :: pos != pub -> st = W_C1 :: else -> st = ret fi
#endif

#define FITS (DIFF(pos + room, other) <= CAP)

proctype Writer()
{
	byte st, ret;
	byte pos, pub, other, first, batch, nb;   /* the handle */
	byte t, hd, p, size, h;                    /* open */
	byte id, nw, need, pad, room, at, sk;      /* reserve */
	byte sx[5], sv[5], ns, k;                  /* the planned stores */

	do
	:: {
	   do
	   :: d_step { st == W_CLAIM ->
		/* role CAS, acq_rel: from nobody or a dead holder */
		wtok = LIVE; st = W_TAIL }
	   :: d_step { st == W_TAIL ->
		/* SP11: load-acquire of tail; pairs with SP9 */
		t = tail >> 1; st = W_HEAD0 }
	   :: d_step { st == W_HEAD0 ->
		/* SP11: load-acquire of head; pairs with SP3 */
		hd = head;
		CHECK(hdr_valid, DIFF(t, hd) <= CAP || DIFF(hd, t) <= CAP);  /* shmkit__ring_near */
		p = t; st = W_WALK }
	   :: d_step { st == W_WALK ->
		/* writer_frontier: from tail over the committed records */
#ifndef BUG_NO_WALK
		/* SP11: load-acquire of the header at p; pairs with SP1 */
		h = ring[OFF(p)];
#else
		h = 0;  /* the frontier is tail, unchecked: the mutant */
#endif
		if
		:: h != 0 ->  /* rec_check with tail as the base; head not inside */
			if
			:: h == HDATA(1) || h == HDATA(2) -> size = h + 1
			:: h == HPAD(1) || h == HPAD(2) -> size = h - 2;
				CHECK(hdr_valid, OFF(p) + size == CAP)
			:: else -> CHECK(hdr_valid, false)
			fi;
			CHECK(hdr_valid, OFF(p) + size <= CAP && DIFF(p + size, t) <= CAP - 1);
			CHECK(hdr_valid, !(DIFF(hd, p) > 0 && DIFF(hd, p) < size));
			p = (p + size) % MOD;
			size = 0
		:: else ->  /* the first zero header: the frontier, head at or before it */
#ifndef BUG_NO_WALK
			CHECK(hdr_valid, DIFF(p, hd) <= CAP - 1);
#endif
			pos = p; pub = p; other = hd; batch = 0; nb = 0;
			t = 0; hd = 0; p = 0;
			st = W_WWAIT0
		fi;
		h = 0 }
	   :: d_step { st == W_WWAIT0 ->
		/* relaxed: a dead writer's flag, which nothing orders */
		wwait = 0; st = W_OPEN }
	   :: d_step { st == W_OPEN ->
		/* store-release of closed = 0: a new stream (SP7's twin) */
		closed = 0; st = W_TAIL0 }
	   :: d_step { st == W_TAIL0 ->
		/* SP9: store-release of tail, the frontier found */
		tail = pos << 1; st = W_NEXT }

	   /* ---- send: reserve, memcpy, commit (in batches of 1 or 2) ---- */
	   :: atomic { st == W_NEXT && nextid > NMSG -> COMMIT(W_CLOSE) }
	   :: atomic { st == W_NEXT && nextid <= NMSG ->
		if
		:: nw = 1
		:: nw = 2
		fi;
		id = nextid; nextid++; mlen[id] = nw;
		need = 1 + nw;
		if
		:: CAP - OFF(pos) < need -> pad = CAP - OFF(pos)
		:: else -> pad = 0
		fi;
#ifdef BUG_NO_ROOM
		room = pad + need;  /* the frontier's zero word left out: the mutant */
#else
		room = pad + need + 1;  /* padding, record, zero word (I1) */
#endif
		if
		:: FITS -> plan()
		:: else -> st = W_HEAD
		fi }
	   :: atomic { st == W_HEAD ->
		/* SP4: load-acquire of head; pairs with SP3.  It is also the value
		 * a sleep compares (SP10); sk notes the reader kills so far */
		other = head; sk = rkills;
		CHECK(hdr_valid, DIFF(pub, other) <= CAP - 1);  /* load_head */
		if
		:: FITS -> plan()
		:: else -> COMMIT(W_PEER)  /* the reader may wait for these */
		fi }
	   :: atomic { st == W_PEER ->
		/* peer_check: -EPIPE when the reader is dead (the writer gives up) */
		if
		:: rtok == DEAD -> st = W_GONE
		:: else -> st = W_WAIT
		fi }
	   :: atomic { st == W_WAIT && (head != other || rtok == DEAD) ->
		/* spinning: a relaxed poll of head saw it move (or the reader
		 * die); the loop looks again with SP4 */
		st = W_HEAD }
	   :: atomic { st == W_WAIT ->
		/* sleeping: the flag, relaxed; W1 orders it before the re-check */
		wwait = 1; st = W_RECHECK }
	   :: atomic { st == W_RECHECK ->
		/* W1, the waiter's sleep barrier (wait.c shmkit__wait_step);
		 * pairs with W2.  Then the re-check of head and FUTEX_WAIT,
		 * which sleeps while head still holds the value SP4 loaded
		 * (one step: a store between the two makes either of them see
		 * it) */
		if
		:: head == other -> wsleep = 1; st = W_SLEEP
		:: else -> wwait = 0; st = W_HEAD
		fi }
	   :: atomic { st == W_SLEEP && (!wsleep || rtok == DEAD || rkills != sk) ->
		/* woken; or the poll period ends the sleep because the reader
		 * died since SP4 (a dead reader's owed wake is lost: the real
		 * poll period ends every sleep, so a lost wake-up costs latency
		 * there, but the model reports any other as a deadlock) */
		wsleep = 0; wwait = 0; sk = 0; st = W_HEAD }
	   :: atomic { st == W_STORE ->
		/* one planned store: plain, published by SP1 */
		WSTORE(sx[k], sv[k]);
		sx[k] = 0; sv[k] = 0; k++;
		if
		:: k == ns ->  /* the message is reserved and written */
			batch = batch | BIT(id); nb++;
			k = 0; ns = 0; id = 0; nw = 0; need = 0; pad = 0; room = 0; at = 0;
			if
			:: nb < 2 && nextid <= NMSG -> st = W_NEXT  /* one more in this batch */
			:: COMMIT(W_NEXT)
			fi
		:: else
		fi }
	   :: atomic { st == W_C1 ->
		/* SP1: store-release of the batch's first header, after every
		 * other word of the batch; pairs with SP2 and SP11 */
		CHECK(writes_free, DIFF(pub, head) <= CAP - 1);
		ring[OFF(pub)] = first;
		committed = committed | batch;
		batch = 0; nb = 0; first = 0;
		pub = pos;
#ifdef BUG_TAIL_FIRST
		st = W_C6
#else
		st = W_C9
#endif
	      }
	   :: atomic { st == W_C9 ->
		/* SP9: store-release of tail after that header; pairs with SP10
		 * and a new writer's SP11 */
		tail = pos << 1;
#ifdef BUG_TAIL_FIRST
		st = W_C1  /* tail before the header: the mutant */
#else
		st = W_C6
#endif
	      }
	   :: atomic { st == W_C6 ->
		/* W2, the waker's barrier (wait.h shmkit__wake), then the load
		 * of rwait; pairs with W1.  FUTEX_WAKE if it is set */
		if :: rwait -> rsleep = 0 :: else fi;
		st = ret; ret = 0 }

	   /* ---- close ---- */
	   :: atomic { st == W_CLOSE ->
		/* SP7: store-release of closed after the last commit; pairs with SP8 */
		closed = 1; closemask = committed; st = W_CTAIL }
	   :: atomic { st == W_CTAIL ->
		/* SP9: store-release of tail with bit 0, the end-of-stream mark */
		tail = (pub << 1) | 1; st = W_CWAKE }
	   :: atomic { st == W_CWAKE ->
		/* W2, as after a commit */
		if :: rwait -> rsleep = 0 :: else fi;
		st = W_GONE }
	   :: atomic { st == W_GONE ->
		/* detached (after close, or on -EPIPE): liveness says dead */
		wtok = DEAD; break }
	   od
	   } unless { wkill };
		if
		:: wkill ->  /* killed: a new writer takes over, or none does */
			d_step {
				wkill = 0; wsleep = 0;
				st = W_CLAIM; ret = 0;
				pos = 0; pub = 0; other = 0; first = 0; batch = 0; nb = 0;
				t = 0; hd = 0; p = 0; size = 0; h = 0;
				id = 0; nw = 0; need = 0; pad = 0; room = 0; at = 0; sk = 0;
				sx[0] = 0; sx[1] = 0; sx[2] = 0; sx[3] = 0; sx[4] = 0;
				sv[0] = 0; sv[1] = 0; sv[2] = 0; sv[3] = 0; sv[4] = 0;
				ns = 0; k = 0
			};
			if
			:: true
			:: break
			fi
		:: else -> break
		fi
	od
}

/* ================= reader ================= */

#define R_CLAIM 0       /* open: role CAS */
#define R_RWAIT0 1      /* open: rwait = 0 */
#define R_OPEN 2        /* open: load head */
#define R_LOOK 3        /* next_record: load the header at pos */
#define R_EARLY 4       /* (BUG_EARLY_RELEASE) head before the payload */
#define R_P0 5          /* the payload's first word */
#define R_P1 6          /* its second */
#define R_REL 7         /* release: head */
#define R_WAKE 8        /* release: load wwait, FUTEX_WAKE */
#define R_CLOSED 9      /* reader_next: load closed */
#define R_PEER 10       /* reader_next: the writer's liveness */
#define R_WAIT 11       /* shmkit__wait_step: spin, or load tail */
#define R_FLAG 12       /* shmkit__wait_step: rwait = 1 */
#define R_RECHECK 13    /* shmkit__wait_step: re-check, FUTEX_WAIT */
#define R_SLEEP 14      /* shmkit__wait_step: asleep */
#define R_GONE 15       /* detach */
#define R_RECLOSED 16   /* reader_next: load closed again after a death */

/* Accepts the message whose words the reader loaded: the one the writer
 * wrote in full and committed, the one after the last read, and no
 * committed one skipped. */
inline take()
{
	id = (v0 - 8) / 2;
	CHECK(no_torn, v0 >= PAYLOAD(1, 0) && v0 <= PAYLOAD(NMSG, 0) &&
		       v0 == PAYLOAD(id, 0) && mlen[id] == h &&
		       (h == HDATA(1) || v1 == PAYLOAD(id, 1)) &&
		       (committed & BIT(id)) != 0);
	CHECK(no_dup, id > last);
	CHECK(no_loss, (committed & ABOVE(last) & (BIT(id) - 1)) == 0);
	last = id;
	pos = (pos + size) % MOD;
	pending++; eos = 0; epipe = 0;
	h = 0; size = 0; v0 = 0; v1 = 0; id = 0;
	/* recv releases it now; a peek may take one more first */
	if
	:: pending < 2 -> st = R_LOOK
	:: st = R_REL
	fi
}

proctype Reader()
{
	byte st;
	byte pos, pub, last, pending;   /* the handle; last: the last id read */
	byte h, size, v0, v1, id, fval, sk;
	bool eos;                       /* closed seen or writer dead: 0 ends */
	bool epipe;                     /* the writer found dead: -EPIPE ends */

	do
	:: {
	   do
	   :: d_step { st == R_CLAIM ->
		/* role CAS, acq_rel */
		rtok = LIVE; st = R_RWAIT0 }
	   :: d_step { st == R_RWAIT0 ->
		/* relaxed: a dead reader's flag, which nothing orders */
		rwait = 0; st = R_OPEN }
	   :: d_step { st == R_OPEN ->
		/* SP11: load-acquire of head (and tail, for shmkit__ring_near);
		 * pairs with SP3, SP9.  A new reader carries on from head */
		CHECK(hdr_valid, DIFF(tail >> 1, head) <= CAP || DIFF(head, tail >> 1) <= CAP);
		pos = head; pub = head; last = released; pending = 0; eos = 0; epipe = 0;
		st = R_LOOK }
	   :: atomic { st == R_LOOK ->
		/* next_record.  SP2: load-acquire of the header at pos; pairs
		 * with SP1 */
		h = ring[OFF(pos)];
		if
		:: h == 0 ->
			/* nothing published here: so every committed message has
			 * been read (this is where a lost one would show) */
			CHECK(no_loss, (committed & ABOVE(last)) == 0);
			CHECK(no_loss, (closemask & ABOVE(last)) == 0);
			if
			:: eos && !epipe -> st = R_GONE  /* the end of the stream */
			:: eos && epipe ->
#ifdef BUG_EPIPE_CLOSE
				/* -EPIPE at once: the mutant (a writer that closed
				 * and exited after R_CLOSED is taken for dead) */
				CHECK(clean_close, !closed); st = R_GONE
#else
				st = R_RECLOSED
#endif
			:: !eos && pending > 0 -> st = R_REL  /* released before waiting */
			:: !eos && pending == 0 -> st = R_CLOSED
			fi
		:: else ->
			/* rec_check: kind, length, within the ring and within
			 * capacity - 8 of the released head (pub) */
			if
			:: h == HDATA(1) || h == HDATA(2) -> size = h + 1;
#ifdef BUG_EARLY_RELEASE
				st = R_EARLY
#else
				st = R_P0
#endif
			:: h == HPAD(1) || h == HPAD(2) -> size = h - 2;
				CHECK(hdr_valid, OFF(pos) + size == CAP)
			:: else -> CHECK(hdr_valid, false)
			fi;
			CHECK(hdr_valid, OFF(pos) + size <= CAP && DIFF(pos + size, pub) <= CAP - 1);
			if
			:: h >= HPAD(1) -> pos = (pos + size) % MOD; size = 0; h = 0  /* skipped */
			:: else
			fi
		fi }
	   :: atomic { st == R_EARLY ->
		head = (pos + size) % MOD;  /* SP3 before the payload loads: the mutant */
		st = R_P0 }
	   :: atomic { st == R_P0 ->
		/* the payload: plain loads, after SP2 */
		v0 = ring[(OFF(pos) + 1) % CAP];
		if
		:: h == HDATA(2) -> st = R_P1
		:: else -> take()
		fi }
	   :: atomic { st == R_P1 ->
		v1 = ring[(OFF(pos) + 2) % CAP];
		take() }
	   :: atomic { st == R_REL ->
		/* SP3: store-release of head after the reads; pairs with SP4, SP10 */
		head = pos; released = last;
		pub = pos; pending = 0;
		st = R_WAKE }
	   :: atomic { st == R_WAKE ->
		/* W2, the waker's barrier (wait.h shmkit__wake), then the load
		 * of wwait; pairs with W1.  FUTEX_WAKE if it is set */
		if :: wwait -> wsleep = 0 :: else fi;
		st = R_LOOK }
	   :: atomic { st == R_CLOSED ->
		/* SP8: load-acquire of closed; pairs with SP7.  Then the header
		 * is loaded again: 0 there is the end */
		if
		:: closed -> eos = 1; st = R_LOOK
		:: else -> st = R_PEER
		fi }
	   :: atomic { st == R_PEER ->
		/* peer_check: a dead writer's records are read first, then -EPIPE */
		if
		:: wtok == DEAD -> eos = 1; epipe = 1; st = R_LOOK
		:: else -> st = R_WAIT
		fi }
	   :: atomic { st == R_WAIT && (ring[OFF(pos)] != 0 || closed || wtok == DEAD) ->
		/* spinning: a relaxed poll saw the header (or closed, or the
		 * writer's death); the loop looks again with SP2 */
		st = R_LOOK }
	   :: atomic { st == R_WAIT ->
		/* sleeping.  SP10: load-acquire of tail, the futex word, before
		 * the flag; pairs with SP9.  sk notes the writer kills so far */
		fval = tail; sk = wkills;
#ifdef BUG_NO_C5
		st = R_RECHECK  /* the flag comes after the futex compare */
#else
		st = R_FLAG
#endif
	      }
	   :: atomic { st == R_FLAG ->
		/* the flag, relaxed; W1 orders it before the re-check */
		rwait = 1;
#ifdef BUG_NO_C5
		st = R_SLEEP  /* drained from the store buffer only now: the mutant */
#else
		st = R_RECHECK
#endif
	      }
	   :: atomic { st == R_RECHECK ->
		/* W1, the waiter's sleep barrier (wait.c shmkit__wait_step);
		 * pairs with W2.  Then the re-check (the header, closed) and
		 * FUTEX_WAIT, which sleeps while tail still holds fval (one
		 * step: a store between them makes either see it) */
		if
		:: ring[OFF(pos)] == 0 && !closed && tail == fval -> rsleep = 1;
#ifdef BUG_NO_C5
			st = R_FLAG
#else
			st = R_SLEEP
#endif
		:: else -> rwait = 0; fval = 0; sk = 0; st = R_LOOK
		fi }
	   :: atomic { st == R_SLEEP && (!rsleep || wtok == DEAD || wkills != sk) ->
		/* woken; or the poll period ends the sleep because the writer
		 * died since SP10 (see the writer's W_SLEEP) */
		rsleep = 0; rwait = 0; fval = 0; sk = 0; st = R_LOOK }
	   :: atomic { st == R_RECLOSED ->
		/* SP8 again: load-acquire of closed after the dead writer's
		 * records.  Closed: it ended its stream before it went, and
		 * records it committed before SP7 are read first; else -EPIPE,
		 * which must never be said of a closed stream */
		if
		:: closed -> epipe = 0; st = R_LOOK
		:: else -> CHECK(clean_close, !closed); st = R_GONE
		fi }
	   :: atomic { st == R_GONE ->
		/* detached */
		rtok = DEAD; break }
	   od
	   } unless { rkill };
		if
		:: rkill ->  /* killed: a new reader carries on from head */
			d_step {
				rkill = 0; rsleep = 0;
				st = R_CLAIM; pos = 0; pub = 0; last = 0; pending = 0;
				h = 0; size = 0; v0 = 0; v1 = 0; id = 0; fval = 0; sk = 0; eos = 0;
				epipe = 0
			}
		:: else -> break
		fi
	od
}

/* Stops the writer or the reader forever, between any two of its steps. */
active proctype Killer()
{
end:
	do
	:: d_step { wkills < WKILLS && wtok == LIVE && !wkill -> wkill = 1; wtok = DEAD; wkills++ }
	:: d_step { rkills < RKILLS && rtok == LIVE && !rkill -> rkill = 1; rtok = DEAD; rkills++ }
	od
}

init
{
	assert(NMSG >= 1 && NMSG <= 7);  /* ids are bits of a byte */
	atomic {
		run Writer();
		run Reader()
	}
}
