/* SPDX-License-Identifier: MIT */
/*
 * bcast.pml - a Promela model of the broadcast channel protocol
 * (src/chan/bcast.c, the writer's half, and src/chan/bcast_sub.c, the
 * subscribers', waiting and waking through src/chan/wait.c;
 * docs/architecture.md "Broadcast channel"), as implemented.
 * models/check.sh runs it with spin.
 *
 * What it proves, under every interleaving of one writer, two subscribers
 * (with ONE_SUB, subscribers one after another) and a killer that may stop
 * any of them forever between any two of its steps (how many, and which,
 * is a configuration's):
 *
 *   no_torn     a subscriber hands out (recv) only a whole message: the
 *               writer published it (tail stored past it), and the header
 *               and every payload word it copied are that message's;
 *   order       the messages it hands out are, in order and each once,
 *               every message from the first at or past where it joined,
 *               but those an -EOVERFLOW told it it missed: under
 *               backpressure that is every message;
 *   missed_ok   an -EOVERFLOW's count (shmkit_chan_missed) is exactly the
 *               number of messages it skipped, from the one it expected to
 *               the one it resumes at, joined a moment ago or not; a lap
 *               that skipped nothing reports nothing;
 *   no_loss     when it gets the end of the stream (0) or -EPIPE, every
 *               message published was handed out or counted missed (but
 *               see "a known limit" below);
 *   clean_close -EPIPE only for a stream its writer did not close;
 *   hdr_valid   no check that gives -EBADMSG fires in an honest run
 *               (rec_check, read_record's positions and seq, resync's and
 *               the writer's walk), and no subscriber is lapped under
 *               backpressure (read_record's -EBADMSG there);
 *   writes_free the writer stores only below head + capacity and, under
 *               backpressure, never over a record a live subscriber that
 *               joined has not released;
 *   ahead_ok    the walk of head ahead of its target (backpressure) passes
 *               no cursor of a taken slot;
 *   no stall:   every run ends (spin: no invalid end state): the writer
 *               after close (or killed), each subscriber at the end of the
 *               stream, at -EPIPE, after it left, or killed.  The real
 *               sleeps also end every poll period (SHMKIT_OWNER_POLL_MS);
 *               the model's end on one only when the next pass would act
 *               on it: a subscriber's when the writer is dead (its next
 *               pass asks), the writer's when a subscriber died since it
 *               loaded wseq (a dead one owes its wake) or a dead one
 *               holds it that it has not asked about.  So a lost wake-up
 *               is a stall here, reported as an invalid end state, and a
 *               dead subscriber that holds the writer for ever is too.
 *
 * Scale.  The ring is CAP words (6); a record is one header word (the
 * real header's stamp, seq and length words as one: skip() is the
 * identity here, as no header is ever cut) and 1 or 2 payload words;
 * message q has 2 if bit q of LONG is set (12: 1, 1, 2, 2, 1 ...), so PAD
 * records of 1 and 2 words and wraps occur, and a head walk may end at
 * tail (the ring empty while the writer writes, as with the real sizes).
 * The writer sends NMSG messages, seq 0 .. NMSG-1, then closes and exits.
 * Positions are absolute word counts (no wrap).  Ring words are small
 * ints: a header HDR(kind, position, seq, length), payload word k of
 * message q PAYLOAD(q, k), 0 never written.  Two slots; subscriber s joins
 * at START0 or START1 (next, newest, oldest); with PREJOIN0, subscriber 0
 * joined at the next message before the first was sent.  A subscriber
 * killed (SKILLS) or that left (LEAVES, after any message) may be followed
 * by a new one in its process (SRESTARTS), with a token of its own.
 *
 * Steps.  Each step is one access to shared memory (the word its comment
 * names, with the function of bcast.c, bcast_sub.c, role.c or wait.c/.h
 * that makes it) with the local work around it, except these, one step each:
 * the writer's loads of a slot's token and cursor; its liveness question
 * and drop CAS (a CAS that fails because a joiner took the slot skips it,
 * as one that succeeds would); its head walk and head store (it walks
 * words it wrote itself); the PAD's and the record's header stores and the
 * payload (memcpy); commit's last and sent.  A joiner's load of a slot's
 * token and its CAS (a CAS that fails sends it to the next slot, as a live
 * token does); its loads of tail and head, and of last and sent; its
 * header load and cursor store.  A subscriber's header load and, under
 * overwrite, BC8 and the head check after it; its payload copy and the
 * same check after it (head only grows, and the writer stores it before
 * any byte over the record: a load that saw a newer byte is followed by a
 * check that sees head past the record, in one step or in two); under
 * backpressure the header and the copy (the writer keeps off them:
 * writes_free checks it at every store); under overwrite the cursor stores
 * (the writer never looks at them); writer_check and, the writer dead, the
 * load of tail after it (a dead writer stores nothing).
 *
 * Waits.  With WAKES=1 the flags and futex words are as written: the
 * subscribers' rwait (bit 0 the flag, the writer's +1 clearing it and
 * moving the word they sleep on) and the writer's wwait and wseq; each
 * futex word is a bit per sleeper, set when the word moves after the
 * sleeper loaded it (the compare only asks whether it moved).  With
 * WAKES=0 a wait ends when what it waits for changed (tail; a cursor, a
 * slot, a death), as in models/mpsc.pml: the other properties at a tenth
 * of the states.  The spin phase and the brief poll before it (wait.c
 * shmkit__wait_poll) are left out (a spinning side only looks again), and
 * so are the fence sets (sfence, wfence), which choose how W1 and W2 are
 * made, not what they order.  Liveness is exact and immediate: a killed
 * process is dead at once.  The writer asks its subscribers' liveness at
 * its first wait and after a poll period (next_ask), a subscriber its
 * writer's on every pass after the first (its poll period: a delay).
 *
 * Memory ordering: Promela is sequentially consistent; each step names the
 * label (BC1-BC11) that gives it the order it has here.  BC5 and BC11 are
 * the sleeper's barrier of the waiter, W1, and BC6 and BC9 the waker's, W2
 * (wait.c shmkit__wait_step and wait.h shmkit__wake).  A killed process's
 * completed stores stay visible.
 *
 * Not modelled: peek and release (recv only), a writer taking over from a
 * dead one (claim_writer, hold at open), statistics, timeouts, -EAGAIN,
 * -EMSGSIZE, SHMKIT_RDONLY, 64 slots (2), corrupt or hostile input (the
 * fuzz targets and the corrupt tests), the bounds on retries (join's 64
 * and 1000 tries but its fallback to sent when the writer died in a
 * commit, resync's 64).
 *
 * A known limit, checked as such: a writer killed after its head walk
 * reached tail (the ring empty) and before it published leaves a lapped
 * subscriber with no record to count its gap from: it gets -EPIPE without
 * the -EOVERFLOW (no_loss allows exactly that case).
 *
 * Bugs this model found, fixed in what is now src/chan/bcast_sub.c and
 * the waiter's SHMKIT_FLAG_BIT (src/chan/wait.c) (each old behaviour is a
 * mutant below):
 *   - a subscriber set rwait for a tail it had already seen, the wake of
 *     that publication cleared it (a plain 0), and the subscriber slept on
 *     tail through the next one: a lost wake-up, a poll period late.  Now
 *     rwait is the futex word, and the writer's +1 moves it;
 *   - join counted a gap before the first read from sent loaded after
 *     tail (a commit in between made it one too many: a lap of one message
 *     unreported) or from 0 at the oldest (the count was the absolute
 *     seq).  Now it takes the seq from the header at its start (or the
 *     newest message's), checked by the re-read of head after BC10;
 *   - join woke no one: a writer that slept on the slot's earlier cursor
 *     (a dropped subscriber's, or a fresh slot's 0) slept a poll period.
 *     Now join() calls wake_writer();
 *   - resync loaded tail, then head, and called a head past that tail
 *     -EBADMSG: the writer had published and moved on between the loads.
 *     Now it loads them again (64 tries), as join does.
 *
 * Mutants (spin -DBUG_...), each must give a counterexample:
 *   BUG_NO_DROP         the writer asks a holder's liveness but keeps a
 *                       dead one
 *   BUG_NO_RESCAN       no scan after the head store (no hold)
 *   BUG_JOIN_NO_RECHECK a joiner trusts its start without BC10's re-read
 *   BUG_WAKE_FIRST      publish looks at wwait before storing the cursor
 *   BUG_TAIL_FIRST      commit stores tail before the payload
 *   BUG_FLAG_CLEARED    the old sleep: rwait cleared with 0, subscribers
 *                       sleep on tail
 *   BUG_JOIN_NO_WAKE    the old join: no wake_writer
 *   BUG_NO_HDR_CHECK    no BC8 and head check after the header (overwrite)
 *   BUG_NO_COPY_CHECK   no BC8 and head check after the copy (overwrite)
 *   BUG_HEAD_LATE       head stored after the writes over what it passed
 *   BUG_AHEAD_BLIND     the walk ahead of the target blind to the cursors
 *   BUG_JOIN_SEQ        the old join seq (sent, sent - 1 or 0)
 *   BUG_RESYNC_CHECK    the old resync: -EBADMSG at once
 *   BUG_EPIPE_POS       -EPIPE re-checks tail's position only, as before
 *                       4840628 (a close and exit in between is a death)
 */

#ifndef NMSG
#define NMSG 4          /* messages the writer sends */
#endif
#ifndef CAP
#define CAP 6           /* ring words */
#endif
#ifndef OVERWRITE
#define OVERWRITE 0     /* 0: backpressure, 1: overwrite */
#endif
#ifndef START0
#define START0 0        /* where subscriber 0 joins: 0 next, 1 newest, 2 oldest */
#endif
#ifndef START1
#define START1 2        /* and subscriber 1 */
#endif
#ifndef WAKES
#define WAKES 1         /* 1: wake-up flags and futexes as written; 0: a wait
			 * ends when what it waits for changed */
#endif
#ifndef WKILLS
#define WKILLS 0        /* writer kills */
#endif
#ifndef SKILLS
#define SKILLS 0        /* subscriber kills */
#endif
#ifndef SRESTARTS
#define SRESTARTS 0     /* subscribers joining again after a kill or a leave */
#endif
#ifndef LEAVES
#define LEAVES 0        /* subscribers closing after a message */
#endif
#ifndef LONG
#define LONG 12         /* bit q set: message q has 2 payload words, else 1 */
#endif

#define NSUB 2
#define NONE 255        /* SHMKIT_BCAST_NONE */
#define MAXLEN 2        /* max_msg, in words */
#define LEN(q) (((LONG >> (q)) & 1) + 1)
#define OFF(x) ((x) % CAP)
#define S_NEXT 0
#define S_NEWEST 1
#define S_OLDEST 2
#define WTOK 1          /* the writer's owner token; subscribers' are 2 .. 7 */

/* ring words */
#define KDATA 1         /* SHMKIT_BCAST_DATA */
#define KPAD 2          /* SHMKIT_BCAST_PAD */
#define HDR(k, x, q, n) (10000 * (k) + 100 * (x) + 10 * (q) + (n))
#define HK(w) (((w) >= 10000 && (w) < 30000) -> (w) / 10000 : 0)
#define HPOS(w) (((w) / 100) % 100)
#define HSEQ(w) (((w) / 10) % 10)
#define HLEN(w) ((w) % 10)
#define PAYLOAD(q, k) (30000 + 10 * (q) + (k))

/* tail: position << 1 | the end mark (bit 0) */
#define TPOS(t) ((t) >> 1)
#define TCLOSED(t) ((t) & 1)

/* ---- shared memory ---- */
short ring[CAP];
byte tail, head, last, sent;
byte wtoken;                    /* the writer's role word */
bit rwait, wwait;               /* rwait's flag bit; wwait */
byte stoken[NSUB];              /* slot i: token (0 free), cursor */
byte scursor[NSUB];

/* ---- the kernel ---- */
bool alive[8];                  /* by owner token */
bool rsleep[NSUB], wsleep;      /* queued in FUTEX_WAIT */
/* The futex words rwait (its count) and wseq: a sleeper's compare asks
 * only whether the word moved since it loaded it: a bit per sleeper. */
bool rmoved[NSUB], wmoved;

/* ---- the killer ---- */
bool wkill, skill[NSUB];
byte wkills, skills, srestarts, leaves;
bool wpoll;                     /* a subscriber died since the writer loaded wseq */

/* ---- ghosts ---- */
byte gpos[NMSG];                /* where message q lies (NONE: not yet) */
byte gcommitted;                /* messages published */
bool gclosed;                   /* the writer stored the end mark */
bool gjoined[NSUB];             /* subscriber s joined and has not left */
byte gtok[NSUB], gpub[NSUB];    /* its token and cursor */
byte gen[NSUB];                 /* subscribers that ran in process s before */
bool wasked[8];                 /* the writer found this token dead */
bit no_torn = 1, order = 1, missed_ok = 1, no_loss = 1, clean_close = 1, hdr_valid = 1,
    writes_free = 1, ahead_ok = 1;

#define CHECK(prop, cond) prop = (cond); assert(prop); prop = 1

/* rec_check (bcast.h, with ring.h shmkit__ring_span) against the end e:
 * sz = the record's words, 0 for -EBADMSG */
inline rec_check(w, x, e)
{
	sz = 0;
	if
	:: HK(w) == KPAD && HPOS(w) == (x) && OFF(x) + 1 + HLEN(w) == CAP &&
	   (x) + 1 + HLEN(w) <= (e) -> sz = 1 + HLEN(w)
	:: HK(w) == KDATA && HPOS(w) == (x) && HLEN(w) >= 1 && HLEN(w) <= MAXLEN &&
	   OFF(x) + 1 + HLEN(w) <= CAP && (x) + 1 + HLEN(w) <= (e) -> sz = 1 + HLEN(w)
	:: else
	fi
}

/* ================= writer ================= */

#define W_SLOT 1        /* scan: a slot's token and cursor */
#define W_ASK 2         /* scan: liveness, the drop CAS */
#define W_FVAL 3        /* writer_wait: wseq, wwait = 1 */
#define W_FUT 4         /* writer_wait: FUTEX_WAIT */
#define W_SLEEP 5       /* asleep */
#define W_WAITA 6       /* (WAKES 0) waiting */
#define W_ADV 7         /* advance_head: the walk, head */
#define W_WRITE 8       /* reserve's header stores, send's memcpy */
#define W_PAY 9         /* (BUG_TAIL_FIRST) the memcpy after tail */
#define W_HEADL 10      /* (BUG_HEAD_LATE) head after the writes */
#define W_LAST 11       /* commit: last, sent */
#define W_TAIL 12       /* commit: tail */
#define W_RW 13         /* wake_subs: rwait */
#define W_WAKE 14       /* wake_subs: rwait + 1, FUTEX_WAKE */
#define W_CTAIL 15      /* close: tail | 1 */
#define W_EXIT 16       /* the writer's process exits */

#define K_FIRST 0       /* make_room's first scan */
#define K_ASK 1         /* the scan that asks liveness */
#define K_WAIT 2        /* writer_wait's rescan */
#define K_POST 3        /* the rescan after advance_head */

/* The store of word x: below head + capacity, and (backpressure) over
 * nothing a live subscriber that joined has not released. */
#if OVERWRITE
#define SUBS_FREE(x) true
#else
#define SUB_FREE(s, x) (!gjoined[s] || !alive[gtok[s]] || (x) < gpub[s] + CAP)
#define SUBS_FREE(x) (SUB_FREE(0, x) && SUB_FREE(1, x))
#endif
#define WSTORE(x, v) CHECK(writes_free, (x) < head + CAP && SUBS_FREE(x)); ring[OFF(x)] = (v)
#define WPAYLOAD WSTORE(at + 1, PAYLOAD(q, 0)); \
	if :: LEN(q) == 2 -> WSTORE(at + 2, PAYLOAD(q, 1)) :: else fi

/* Slot i is taken and its cursor lies below x. */
#define TAKEN_BELOW(i, x) (stoken[i] != 0 && scursor[i] != NONE && scursor[i] < (x))

/* A dead subscriber holds the writer, and it has not found it dead. */
#define DEAD_HOLDER(i) (stoken[i] != 0 && !alive[stoken[i]] && !wasked[stoken[i]] && \
			scursor[i] != NONE && scursor[i] < target)
#define POLL_W (wpoll || DEAD_HOLDER(0) || DEAD_HOLDER(1))

#define WRITE_START target = 0; st = W_WRITE

/* bcast.c make_room(), local: after the scans let it move head */
inline past_scans()
{
	if
	:: wh < target -> st = W_ADV
	:: else -> WRITE_START
	fi
}

/* make_room's loop top (local): room enough, or a scan (and under
 * overwrite the head walk at once) */
inline room()
{
	if
	:: end - wh <= CAP && !hold -> WRITE_START
	:: else ->
		target = (end > CAP -> end - CAP : 0);
		/* held: no cursor may stay below the head already stored */
		if :: hold && wh > target -> target = wh :: else fi;
#if OVERWRITE
		past_scans()
#else
		kind = K_FIRST; ask = 0; i = 0; floor = NONE; st = W_SLOT;
# if !WAKES
		wmoved = 0  /* what moves from here ends the wait */
# endif
#endif
	fi
}

/* bcast.c bcast_reserve(), local: the sizes, then make_room */
inline next_msg()
{
	if
	:: q == NMSG -> st = W_CTAIL
	:: else ->
		at = wt;
		pad = (CAP - OFF(at) < 1 + LEN(q) -> CAP - OFF(at) : 0);
		end = at + pad + 1 + LEN(q);
		room()
	fi
}

/* the end of a scan: make_room's or writer_wait's choice (local) */
inline scan_done()
{
	x = (floor < target); floor = 0; ask = 0;
	if
	:: kind == K_FIRST && x ->
		if
		:: asknext ->  /* the first wait, or a poll period passed: ask */
			kind = K_ASK; ask = 1; asknext = 0; floor = NONE; st = W_SLOT
		:: else -> st = (WAKES -> W_FVAL : W_WAITA)
		fi
	:: kind == K_ASK && x -> st = (WAKES -> W_FVAL : W_WAITA)
	:: (kind == K_FIRST || kind == K_ASK) && !x -> hold = 0; past_scans()
	:: kind == K_WAIT && x -> st = W_FUT
	:: kind == K_WAIT && !x -> room()
	:: kind == K_POST && x -> hold = 1; room()  /* a joiner below target */
	:: kind == K_POST && !x -> WRITE_START
	fi;
	x = 0;
	if :: st != W_SLOT -> kind = 0 :: else fi
}

#define NEXT_SLOT i++; if :: i == NSUB -> i = 0; tok = 0; cur = 0; scan_done() :: else -> st = W_SLOT fi

proctype Writer()
{
	byte st, q, wt, wh, at, end, pad, target, floor, i, tok, cur, kind, x, sz;
	bool hold, asknext = 1, ask;

	d_step { next_msg() };
	{
	do
	/* ---- bcast.c scan() ---- */
	:: atomic { st == W_SLOT ->
		/* scan(): load-acquire of the slot's token; BC4, load-acquire
		 * of its cursor (pairs with BC7 and the joiner's store before
		 * BC10) */
		tok = stoken[i]; cur = scursor[i];
		if
		:: tok == 0 || cur == NONE || cur >= target || cur > wt || wt - cur > CAP -> NEXT_SLOT
		:: else ->
			if
			:: ask -> st = W_ASK
			:: else -> floor = (cur < floor -> cur : floor); NEXT_SLOT
			fi
		fi }
	:: atomic { st == W_ASK ->
		/* scan(): its kernel-kept liveness (shmkit__token_alive);
		 * dead: the acq_rel CAS of the token to 0 */
		if
		:: !alive[tok] ->
			wasked[tok] = 1;
#ifndef BUG_NO_DROP
			if :: stoken[i] == tok -> stoken[i] = 0 :: else fi
#else
			floor = (cur < floor -> cur : floor)  /* the mutant: kept */
#endif
		:: else -> floor = (cur < floor -> cur : floor)
		fi;
		NEXT_SLOT }

	/* ---- bcast.c writer_wait(), via wait.c shmkit__wait_step() ---- */
	:: atomic { st == W_FVAL ->
		/* shmkit__wait_step(): the futex value, wseq
		 * (SHMKIT_FVAL_FUTEX); wwait = 1, the flag; BC11, the
		 * waiter's W1 (pairs with BC9); then the rescan (still_held;
		 * the look at the lowest cursor just before it is left out:
		 * it only ends a wait sooner) */
		wmoved = 0; wpoll = 0; wwait = 1;
		kind = K_WAIT; i = 0; floor = NONE; st = W_SLOT }
	:: atomic { st == W_FUT ->
		/* shmkit__wait_step(): FUTEX_WAIT, sleeps while wseq holds
		 * fval */
		if
		:: wmoved -> room()
		:: else -> wsleep = 1; st = W_SLEEP
		fi }
	:: atomic { st == W_SLEEP && (!wsleep || POLL_W) ->
		/* woken, or a poll period (the next pass asks) */
		if :: wsleep -> asknext = 1 :: else fi;
		wsleep = 0; room() }
	:: atomic { st == W_WAITA && (wmoved || POLL_W) ->
		/* (WAKES 0) a cursor, a slot or a liveness moved since the
		 * scan began, or a poll period */
		if :: !wmoved -> asknext = 1 :: else fi;
		room() }

	/* ---- bcast.c advance_head() ---- */
	:: atomic { st == W_ADV ->
		/* advance_head(): the walk over whole records to target or
		 * past it (relaxed loads of its own words); the store of
		 * head; BC3, a full fence (pairs with BC8 and BC10) */
		x = wh;
		do
		:: x < target ->
			CHECK(hdr_valid, x < wt);
			rec_check(ring[OFF(x)], x, wt);
			CHECK(hdr_valid, sz > 0);
			x = x + sz
		:: else -> break
		od;
#if !OVERWRITE && !defined(BUG_AHEAD_BLIND)
		/* ahead(): further, whole records, as far as no cursor of a
		 * taken slot is below (its scan, taken here in one step: the
		 * highest floor a scan can see) and never past tail; any
		 * number of records, as an eighth of the ring allows */
		floor = wt;
		for (i : 0 .. NSUB - 1) {
			if
			:: stoken[i] != 0 && scursor[i] != NONE && scursor[i] < floor ->
				floor = scursor[i]
			:: else
			fi
		}
		i = 0;
#elif !OVERWRITE
		floor = wt;  /* the mutant: blind to the cursors */
#endif
#if !OVERWRITE
		do
		:: x < floor ->
			rec_check(ring[OFF(x)], x, wt);
			CHECK(hdr_valid, sz > 0);
			if
			:: x + sz <= floor ->
				CHECK(ahead_ok, !TAKEN_BELOW(0, x + sz) && !TAKEN_BELOW(1, x + sz));
				x = x + sz
			:: else -> break
			fi
		:: true -> break
		od;
		floor = 0;
#endif
		wh = x; x = 0; sz = 0;
#ifndef BUG_HEAD_LATE
		head = wh;
#endif
#if OVERWRITE || defined(BUG_NO_RESCAN)
		WRITE_START
#else
		/* make_room: the rescan; a joiner below the new head holds it */
		target = wh;
		kind = K_POST; i = 0; floor = NONE; st = W_SLOT
#endif
	      }

	/* ---- reserve, send's memcpy, commit ---- */
	:: atomic { st == W_WRITE ->
		/* bcast_reserve(): the PAD's header words, if any, then the
		 * record's (relaxed, published by BC1); shmkit_chan_send()'s
		 * memcpy (chan.c) */
		if
		:: pad -> WSTORE(at, HDR(KPAD, at, q, pad - 1)); at = at + pad; pad = 0
		:: else
		fi;
		WSTORE(at, HDR(KDATA, at, q, LEN(q)));
		gpos[q] = at;
#ifdef BUG_TAIL_FIRST
		st = W_LAST  /* the mutant: the payload after tail */
#else
		WPAYLOAD;
# ifdef BUG_HEAD_LATE
		st = W_HEADL
# else
		st = W_LAST
# endif
#endif
	      }
	:: atomic { st == W_HEADL ->
		/* (BUG_HEAD_LATE) head, after the writes over what it passed */
		head = wh; st = W_LAST }
	:: atomic { st == W_LAST ->
		/* bcast_commit(): last, sent (relaxed, published by BC1) */
		last = at; sent = q + 1; st = W_TAIL }
	:: atomic { st == W_TAIL ->
		/* bcast_commit(): BC1, store-release of tail; pairs with BC2 */
		tail = end << 1; wt = end; gcommitted = q + 1;
#ifdef BUG_TAIL_FIRST
		st = W_PAY
#elif WAKES
		q++; st = W_RW
#else
		q++; next_msg()
#endif
	      }
	:: atomic { st == W_PAY ->
		/* (BUG_TAIL_FIRST) the memcpy, after tail */
		WPAYLOAD; q++; next_msg() }
	:: atomic { st == W_RW ->
		/* wake_subs() (bcast.c), through wait.h shmkit__wake(): BC6,
		 * the waiter's W2 (pairs with BC5); the load of rwait's flag */
		if
		:: rwait -> st = W_WAKE
		:: else ->
			if
			:: gclosed -> st = W_EXIT
			:: else -> next_msg()
			fi
		fi }
	:: atomic { st == W_WAKE ->
		/* shmkit__wake() (SHMKIT_FLAG_BIT): rwait + 1, the flag
		 * cleared and the word moved; FUTEX_WAKE of every sleeper (one
		 * step: a subscriber that sets the flag between them saw the
		 * tail stored before) */
		rwait = 0;
#ifndef BUG_FLAG_CLEARED
		rmoved[0] = 1; rmoved[1] = 1;
#endif
		rsleep[0] = 0; rsleep[1] = 0;
		if
		:: gclosed -> st = W_EXIT
		:: else -> next_msg()
		fi }

	/* ---- bcast.c bcast_close() ---- */
	:: atomic { st == W_CTAIL ->
		/* bcast_close(): BC1, tail | 1 after the last commit (closed,
		 * stored before it: statistics) */
		tail = (wt << 1) | 1; gclosed = 1;
		st = (WAKES -> W_RW : W_EXIT) }
	:: atomic { st == W_EXIT ->
		/* the process exits: its attach is dead from now */
		alive[WTOK] = 0; break }
	od
	} unless { wkill }
}

/* ================= subscriber ================= */

#define S_SCAN 1        /* join: a slot's token, its liveness, the CAS */
#define S_NONE 2        /* join: cursor = NONE */
#define S_JT 3          /* join: tail, head */
#define S_JL 4          /* join: last, sent */
#define S_JW 5          /* join: the header words at v, cursor = c */
#define S_JC 6          /* join: cursor = c (no header to read) */
#define S_JR 7          /* join: BC10, head again */
#define S_TAIL 8        /* sub_next: tail */
#define S_HDR 9         /* read_record: the header words (and head) */
#define S_COPY 10       /* recv: memcpy, BC8, head */
#define S_PUB 11        /* publish: cursor */
#define S_PUB2 12       /* (BUG_WAKE_FIRST) the cursor after the look */
#define S_WW 13         /* wake_writer: wwait */
#define S_WW2 14        /* wake_writer: wwait = 0, wseq++, FUTEX_WAKE */
#define S_RS1 15        /* resync: tail */
#define S_RS2 16        /* resync: head */
#define S_WCHK 17       /* writer_check (and tail again) */
#define S_RWAIT 18      /* sub_wait: rwait's flag */
#define S_FUT 19        /* sub_wait: tail again, FUTEX_WAIT */
#define S_SLEEP 20      /* asleep */
#define S_WAITA 21      /* (WAKES 0) waiting */
#define S_CL1 22        /* close: cursor = NONE */
#define S_CL2 23        /* close: token = 0 */
#define S_DONE 24

/* After a recv or a join (local): the next call, or a leave */
#define NEXT_CALL looked = 0; st = S_TAIL; \
	if :: leaves < LEAVES -> leaves++; st = S_CL1 :: true fi

/* recv hands the message out (local, ghosts): whole, published, the next
 * one due; then shmkit__bcast_recv()'s pos, seq and publish() */
inline deliver()
{
	CHECK(no_torn, HK(w) == KDATA && HSEQ(w) < gcommitted && gpos[HSEQ(w)] == pos &&
		       HLEN(w) == LEN(HSEQ(w)) && v0 == PAYLOAD(HSEQ(w), 0) &&
		       (HLEN(w) == 1 || v1 == PAYLOAD(HSEQ(w), 1)));
	CHECK(order, HSEQ(w) == gexp);
	gexp++;
	pos = pos + sz; seq = HSEQ(w) + 1;
	w = 0; v0 = 0; v1 = 0; sz = 0; t = 0; end = 0;
#if OVERWRITE
	/* publish() (bcast_sub.c): BC7, the cursor (no one looks at it
	 * under overwrite); wake_writer() returns at once */
	scursor[me] = pos; pub = pos; pub_seq = seq; gpub[s] = pos;
	NEXT_CALL
#else
	st = S_PUB
#endif
}

/* shmkit__bcast_recv()'s memcpy (bcast_sub.c) */
#define COPY v0 = ring[OFF(pos + 1)]; v1 = (HLEN(w) == 2 -> ring[OFF(pos + 2)] : 0)

/* bcast_sub.c read_record() after the header words (local): checks,
 * the gap, the seq; a PAD passed, or the message */
inline got_header()
{
	rec_check(w, pos, end);
	CHECK(hdr_valid, sz > 0);
	ovf = 0;
	if
	:: gap ->
		from = (have_seq -> gap_from : seq);
		gap = 0; gap_from = 0; have_seq = 1; seq = HSEQ(w); pub_seq = seq;
		if
		:: HSEQ(w) > from ->
			/* -EOVERFLOW, HSEQ(w) - from missed: exactly those from
			 * the one it expected; the record stays */
			CHECK(missed_ok, from == gexp);
			gexp = HSEQ(w); ovf = 1;
			w = 0; sz = 0; t = 0; end = 0;
			looked = 0; st = S_TAIL  /* the next call */
		:: else ->  /* only padding written over: nothing missed */
			CHECK(missed_ok, HSEQ(w) == gexp)
		fi;
		from = 0
	:: else
	fi;
	if
	:: ovf -> ovf = 0
	:: else ->
		if
		:: !have_seq -> have_seq = 1; seq = HSEQ(w); pub_seq = seq
		:: else -> CHECK(hdr_valid, HSEQ(w) == seq)
		fi;
		if
		:: HK(w) == KPAD -> pos = pos + sz; w = 0; sz = 0; next_record()
		:: else ->
#if OVERWRITE
			st = S_COPY
#else
			/* the copy, in the same step (see the top) */
			COPY; deliver()
#endif
		fi
	fi
}

/* bcast_sub.c sub_next()'s loop, local: the next record, or nothing new */
inline next_record()
{
	if
	:: pos != end ->
		CHECK(hdr_valid, pos < end);
		if
		:: end - pos > CAP ->  /* read_record() */
			CHECK(hdr_valid, OVERWRITE);
			looked = 1; st = S_RS1  /* LAPPED (sub_next: looked is true after) */
		:: else -> st = S_HDR
		fi
	:: else ->
		if
		:: TCLOSED(t) ->  /* sub_next(): the end of the stream: 0 */
			CHECK(no_loss, gexp == gcommitted);
			st = S_DONE
		:: !TCLOSED(t) && looked -> st = S_WCHK
		:: !TCLOSED(t) && !looked -> st = (WAKES -> S_RWAIT : S_WAITA)
		fi
	fi
}

proctype Sub(byte s; byte start; bool pre)
{
	byte st = S_SCAN, i, tok, me, t, end, h, l, sn, c, v, sz, pos, pub, seq, pub_seq;
	byte gap_from, from, gexp, ret;
	bool have_seq, gap, looked, ww, ovf, stamped;
	short w, v0, v1;

	if
	:: pre ->  /* joined at the next message before the first was sent */
		d_step { me = s; st = S_TAIL }
	:: else
	fi;
	do
	:: {
	   do
	   /* ---- bcast_sub.c join(), with role.c shmkit__slot_join() ---- */
	   :: atomic { st == S_SCAN ->
		/* shmkit__slot_join(): load-acquire of slot i's token; its
		 * liveness (shmkit__token_state); the acq_rel CAS that takes
		 * it */
		tok = stoken[i];
		if
		:: tok != 0 && alive[tok] -> i++; assert(i < NSUB)  /* -EUSERS: cannot be */
		:: else ->
			tok = 2 + s + 2 * gen[s]; assert(tok < 8);
			stoken[i] = tok; alive[tok] = 1;
			gtok[s] = tok; me = i; i = 0; st = S_NONE
		fi;
		tok = 0 }
	   :: atomic { st == S_NONE ->
		/* join(): cursor = NONE (relaxed): the writer ignores the
		 * slot */
		scursor[me] = NONE; wmoved = !WAKES || wmoved; st = S_JT }
	   :: atomic { st == S_JT ->
		/* join(): BC2, load-acquire of tail; load-acquire of head
		 * (one step: see the top) */
		t = TPOS(tail); h = head; st = S_JL }
	   :: atomic { st == S_JL ->
		/* join(): last, sent (relaxed); the positions (the writer
		 * moved between the loads: again); the start c; v, the record
		 * whose header tells the seq at c: c, or last when c is tail */
		l = last; sn = sent;
		if
		:: h > t || t - h > CAP -> st = S_JT
		:: else ->
			c = t;
			if
			:: start == S_OLDEST -> c = h
			:: start == S_NEWEST && l >= h && l < t -> c = l
			:: else
			fi;
			stamped = 1;
#ifdef BUG_JOIN_SEQ
			seq = (c == t -> sn : (c == l && sn != 0 -> sn - 1 : 0));
			v = NONE; st = S_JC
#else
			if
			:: c < t -> v = c; st = S_JW
			:: c == t && sn == 0 -> seq = 0; v = NONE; st = S_JC
			:: c == t && sn != 0 && l >= h && l < t -> v = l; st = S_JW
			:: else ->  /* a commit in flight: again, or after 64 tries
				     * (a writer dead there), sent */
				if
				:: st = S_JT
				:: !alive[WTOK] -> seq = sn; v = NONE; st = S_JC
				fi
			fi
#endif
		fi;
		l = 0; sn = 0 }
	   :: atomic { st == S_JW ->
		/* join(): the header words at v (relaxed; checked by the
		 * re-read of head after BC10); cursor = c (relaxed; one step:
		 * see the top) */
		w = ring[OFF(v)];
		seq = HSEQ(w) + (v != c);
		stamped = HPOS(w) == v && (HK(w) == KDATA || (HK(w) == KPAD && v == c));
		w = 0; scursor[me] = c; wmoved = !WAKES || wmoved; st = S_JR }
	   :: atomic { st == S_JC ->
		/* join(): cursor = c (relaxed) */
		scursor[me] = c; wmoved = !WAKES || wmoved; st = S_JR }
	   :: atomic { st == S_JR ->
		/* join(): BC10, a full fence (pairs with BC3); head again: at
		 * or below c and v, the start and the header held */
		if
#ifdef BUG_JOIN_NO_RECHECK
		:: true ->
#else
		:: head <= c && (v == NONE || (head <= v && stamped)) ->
#endif
			pos = c; pub = c; have_seq = 0; pub_seq = seq;
			/* ghost: it is due every message from the first at or
			 * past c */
			gexp = 0;
			for (i : 0 .. NMSG - 1) {
				if :: gpos[i] < c -> gexp = i + 1 :: else fi
			};
			i = 0; h = 0; c = 0; v = 0; t = 0; stamped = 0;
			gpub[s] = pos; gjoined[s] = 1;
#if OVERWRITE || defined(BUG_JOIN_NO_WAKE)
			NEXT_CALL
#elif WAKES
			ret = S_TAIL; st = S_WW  /* join(): wake_writer() */
#else
			wmoved = 1; NEXT_CALL
#endif
		:: else -> st = S_JT
		fi }

	   /* ---- bcast_sub.c sub_next(), read_record(), recv ---- */
	   :: atomic { st == S_TAIL ->
		/* sub_next(): BC2, load-acquire of tail; pairs with BC1 */
		t = tail; end = TPOS(t);
		next_record() }
	   :: atomic { st == S_HDR ->
		/* read_record(): the header words (relaxed, after BC2); under
		 * overwrite BC8, an acquire fence (pairs with BC3), and head:
		 * lapped? */
		w = ring[OFF(pos)];
#if OVERWRITE && !defined(BUG_NO_HDR_CHECK)
		if
		:: head > pos -> w = 0; looked = 1; st = S_RS1  /* LAPPED */
		:: else -> got_header()
		fi
#else
		got_header()
#endif
	      }
	   :: atomic { st == S_COPY ->
		/* shmkit__bcast_recv(): memcpy of the payload; BC8, an
		 * acquire fence (pairs with BC3), and head: torn?  Then
		 * resync() and a new sub_next().  (One step: see the top) */
		COPY;
#if defined(BUG_NO_COPY_CHECK)
		deliver()
#else
		if
		:: head > pos -> w = 0; v0 = 0; v1 = 0; sz = 0; looked = 0; st = S_RS1
		:: else -> deliver()
		fi
#endif
	      }
	   :: atomic { st == S_PUB ->
#ifdef BUG_WAKE_FIRST
		/* the mutant: wake_writer's look at wwait first */
		ww = wwait; st = S_PUB2 }
	   :: atomic { st == S_PUB2 ->
		scursor[me] = pos; pub = pos; pub_seq = seq; gpub[s] = pos;
		ret = S_TAIL; st = S_WW2;
		if :: !ww -> NEXT_CALL :: else fi;
		ww = 0 }
#else
		/* publish() (bcast_sub.c): BC7, store-release of the cursor
		 * after the reads (pairs with BC4), then wake_writer() */
		scursor[me] = pos; pub = pos; pub_seq = seq; gpub[s] = pos;
# if WAKES
		ret = S_TAIL; st = S_WW }
# else
		wmoved = 1; NEXT_CALL }
# endif
#endif

	   /* ---- bcast_sub.c wake_writer(), through wait.h shmkit__wake()
	    * (backpressure only) ---- */
	   :: atomic { st == S_WW ->
		/* shmkit__wake(): BC9, the waiter's W2 (pairs with BC11); the
		 * load of wwait */
		if
		:: wwait -> st = S_WW2
		:: else ->
			st = ret; ret = 0;
			if :: st == S_TAIL -> NEXT_CALL :: else fi
		fi }
	   :: atomic { st == S_WW2 ->
		/* shmkit__wake() (SHMKIT_FLAG_TAKEN, bump): wwait = 0, wseq++,
		 * FUTEX_WAKE (one step: after wseq++ the writer's compare
		 * fails, woken or not) */
		wwait = 0; wmoved = 1; wsleep = 0;
		st = ret; ret = 0;
		if :: st == S_TAIL -> NEXT_CALL :: else fi }

	   /* ---- bcast_sub.c resync() (overwrite) ---- */
	   :: atomic { st == S_RS1 ->
		/* resync(): BC2, load-acquire of tail */
		t = TPOS(tail); st = S_RS2 }
	   :: atomic { st == S_RS2 ->
		/* resync(): load-acquire of head; the positions */
		h = head;
		if
		:: h > t || t - h > CAP ->
#ifdef BUG_RESYNC_CHECK
			CHECK(hdr_valid, false)  /* the mutant: -EBADMSG */
#else
			st = S_RS1  /* the writer moved between the loads: again */
#endif
		:: else ->
			if
			:: !gap -> gap = 1; gap_from = pub_seq
			:: else
			fi;
			/* resync(): BC7, the cursor (unread under overwrite) */
			pos = h; pub = h; scursor[me] = h; gpub[s] = h; st = S_TAIL
		fi;
		h = 0; t = 0 }

	   /* ---- nothing new: writer_check, sub_wait ---- */
	   :: atomic { st == S_WCHK ->
		/* sub_next(): writer_check() (role.c shmkit__peer_check):
		 * the role word (relaxed) and its liveness; dead: BC2, tail
		 * again: what it published, or its close, first (one step: a
		 * dead writer stores nothing) */
		if
		:: wtoken != 0 && !alive[wtoken] ->
			if
#ifdef BUG_EPIPE_POS
			:: TPOS(tail) != end -> st = S_TAIL
#else
			:: tail != t -> st = S_TAIL
#endif
			:: else ->  /* -EPIPE */
				CHECK(clean_close, !gclosed);
				CHECK(no_loss, gexp == gcommitted || (gap && head == TPOS(tail)));
				st = S_DONE
			fi
		:: else -> st = (WAKES -> S_RWAIT : S_WAITA)
		fi }
	   :: atomic { st == S_RWAIT ->
		/* sub_wait(), through wait.c shmkit__wait_step()
		 * (SHMKIT_FLAG_BIT): fetch_or of rwait's flag, the value it
		 * sleeps on; BC5, the waiter's W1 (pairs with BC6) */
		rmoved[s] = 0; rwait = 1; st = S_FUT }
	   :: atomic { st == S_FUT ->
		/* shmkit__wait_step(): tail again (the watched word);
		 * FUTEX_WAIT on rwait (one step: a wake between them moves
		 * rwait) */
		if
#ifdef BUG_FLAG_CLEARED
		:: tail == t ->  /* the old sleep: on tail */
#else
		:: tail == t && !rmoved[s] ->
#endif
			rsleep[s] = 1; st = S_SLEEP
		:: else -> looked = 1; st = S_TAIL
		fi }
	   :: atomic { st == S_SLEEP && (!rsleep[s] || !alive[WTOK]) ->
		/* woken, or the poll period after the writer died (or exited) */
		rsleep[s] = 0; looked = 1; st = S_TAIL }
	   :: atomic { st == S_WAITA && (tail != t || !alive[WTOK]) ->
		/* (WAKES 0) tail moved, or the poll period after the writer
		 * died */
		looked = 1; st = S_TAIL }

	   /* ---- close: bcast_sub.c shmkit__bcast_leave() ---- */
	   :: atomic { st == S_CL1 ->
		/* shmkit__bcast_leave(): cursor = NONE (relaxed; the slot's
		 * fence-set bit, cleared before it, is left out) */
		scursor[me] = NONE; gjoined[s] = 0; st = S_CL2 }
	   :: atomic { st == S_CL2 ->
		/* shmkit__bcast_leave(): store-release of token = 0 (then
		 * leaves: statistics), then wake_writer() */
		stoken[me] = 0; alive[gtok[s]] = 0; gtok[s] = 0;
#if OVERWRITE
		st = S_DONE
#elif WAKES
		ret = S_DONE; st = S_WW
#else
		wmoved = 1; st = S_DONE
#endif
	      }
	   :: atomic { st == S_DONE -> break }
	   od
	   } unless { skill[s] };
		if
		:: skill[s] || (st == S_DONE && gtok[s] == 0) ->
			/* killed, or left: a new subscriber in this process, or none */
			d_step {
				skill[s] = 0; gjoined[s] = 0; rsleep[s] = 0;
				st = S_SCAN; i = 0; tok = 0; me = 0; t = 0; end = 0; h = 0; l = 0;
				sn = 0; c = 0; v = 0; sz = 0; pos = 0; pub = 0; seq = 0; pub_seq = 0;
				gap_from = 0; from = 0; gexp = 0; ret = 0;
				have_seq = 0; gap = 0; looked = 0; ww = 0; ovf = 0; stamped = 0;
				w = 0; v0 = 0; v1 = 0
			};
			if
			:: srestarts < SRESTARTS -> srestarts++; gen[s]++
			:: break
			fi
		:: else -> break
		fi
	od
}

/* ================= the killer ================= */

#define KILLS(s) \
	atomic { skills < SKILLS && gtok[s] != 0 && alive[gtok[s]] && !skill[s] -> \
		skill[s] = 1; alive[gtok[s]] = 0; skills++; wpoll = WAKES; \
		wmoved = !WAKES || wmoved }

active proctype Killer()
{
end:
	do
	:: atomic { wkills < WKILLS && alive[WTOK] ->
		wkill = 1; alive[WTOK] = 0; wkills++ }
	:: KILLS(0)
	:: KILLS(1)
	od
}

init
{
	atomic {
		byte q;
		for (q : 0 .. NMSG - 1) { gpos[q] = NONE };
		alive[WTOK] = 1; wtoken = WTOK;  /* the writer opened the channel */
#ifdef PREJOIN0
		alive[2] = 1; stoken[0] = 2; scursor[0] = 0;
		gjoined[0] = 1; gtok[0] = 2; gpub[0] = 0;
		run Sub(0, START0, 1);
#else
		run Sub(0, START0, 0);
#endif
		run Writer();
#ifndef ONE_SUB
		run Sub(1, START1, 0)
#endif
	}
}
