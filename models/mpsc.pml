/* SPDX-License-Identifier: MIT */
/*
 * mpsc.pml - a Promela model of the MPSC channel protocol
 * (src/chan/mpsc.c, docs/architecture.md "MPSC channel"), as implemented.
 * models/check.sh runs it with spin.
 *
 * What it proves, under every interleaving of NWR writers (2; 3 works,
 * but one message each is already 28 million states, too many for
 * check.sh), one reader and a killer that may stop any writer (and, in some
 * configurations, the reader) forever between any two of its steps:
 *
 *   no_torn    the reader delivers only a message whose writer wrote every
 *              payload word and then committed it, with the header its
 *              claim named;
 *   no_dup     no message is delivered twice, except one a killed reader
 *              had peeked and not released (its successor starts at head);
 *   order      each writer's messages come in the order it sent them, none
 *              committed skipped in between;
 *   no_loss    whenever the reader finds the EMPTY mark of its position,
 *              every message committed so far has been delivered (and
 *              every abandoned claim passed): so the end of the stream, or
 *              -EPIPE, comes only after every committed message;
 *   lost_ok    the reader skips (counts lost) only a record whose writer
 *              died between its claim and its commit, and each such
 *              record once (a skip a killed reader had not released is
 *              made again by its successor, and counted then);
 *   hdr_valid  no check that gives -EBADMSG fires in an honest run
 *              (rec_size, load_positions, pass_tail, join_floor, the
 *              claim's "tail still t" and reader_start's);
 *   writes_free a writer stores its payload and commit only into its own
 *              claim within one capacity of head;
 *   no stall:  every run ends (spin: no invalid end state).  A writer
 *              waits only for head to move (or the reader's death); the
 *              reader only for the word at its position, leaves, or a
 *              writer's death.  The real sleeps also end every poll period
 *              (SHMKIT_OWNER_POLL_MS); the model's end on a poll period
 *              only when the next pass of the loop would act differently
 *              (a liveness question it has not asked, space to release, a
 *              claim the judge would now find abandoned: a joiner stores
 *              join after its token CAS), so a wait that nothing ends is a
 *              real stall, reported as an
 *              invalid end state.  Liveness is exact and immediate, as in
 *              models/spsc.pml: a killed process is dead at once.
 *
 * Scale.  Positions are absolute word counts (no wrap of counters, so
 * lap(x) = x / CAP exactly); a ring word is a small int:
 *   EMPTY(lap)          lap (0..7: positions stay below MAXPOS)
 *   header              1000 state + 100 writer entry + 10 length + lap
 *                       (state 1 CLAIMED, 2 COMMITTED, 3 PAD; length in
 *                       words, a PAD's the words it fills after its header)
 *   payload word k of message id   5000 + 10 id + k
 * Payload words never equal a mark or a header here.  That is an
 * assumption, and the documented known limit ("A stale claimer and a
 * payload equal to a mark"): the real claim CAS compares one 64-bit word,
 * which a payload could equal.
 * The ring is CAP words (4 by default); writer 1 sends messages of LEN1
 * words (2: records of 3 words, so padding of 1 and 2 words and wraps
 * occur), the others of LEN0 (1).  Each writer sends NM messages.  (A
 * 4-word ring's max_msg would be 1 word; the protocol only needs a record
 * to fit the ring.)
 *
 * Each step is one access to shared memory (or, for the claim CAS, a help
 * and pass_tail's CAS, the load before it too: a CAS that fails there
 * changes nothing and sends the caller round again; the payload stores
 * and loads, which no one else touches between claim and release; and,
 * without reader kills, a release's marks).  Local work and ghosts ride
 * along.
 *
 * Writers.  Writer p joins (the scan of the entries, the token CAS, the
 * join floor with its helping, join, joins), then per message: reserve
 * (tail, head when short of room, the wait, the word at tail with the
 * claim CAS or the help, the claimer's tail CAS), the payload, commit;
 * then close.  A
 * killer may stop it at any step after its join CAS; a restarted writer
 * (WRESTARTS in all) joins again, taking the first free or dead entry
 * (often its own old one, which is what the join floor is for) and sends
 * the rest of p's messages.  A writer whose reader died gets -EPIPE and
 * closes.
 *
 * Reader.  reader_start (rel, head, tail; finishes a dead predecessor's
 * release), then reader_next as in mpsc.c: leaves, next_record (a ring
 * passed, the header, rec_size, deliver, judge of a CLAIMED record: the
 * entry's token and join, the claimer's liveness, the header re-read;
 * pass_tail), the release of passed space before waiting, writers_state
 * and the second next_record at EMPTY, the wait.  recv releases each
 * message (rel, the marks of the next lap, head); with
 * PEEK=2 it may peek two before it releases (an application that peeks
 * releases before it blocks: it polls with timeout 0 first).  With RKILLS
 * the reader may be killed at any step and a new one takes over.
 *
 * Memory ordering: Promela is sequentially consistent, so each step names
 * the label of the pair it stands for (MP1-MP11, MP16) and the model holds
 * as far as those pairs give what SC gives here.  Abstracted: the wake-up
 * flags and futexes (MP12-MP15: a wait is a block until the watched word
 * changes, so a lost wake-up is not modelled here; those sleeps and wakes
 * are the waiter's, src/chan/wait.c and wait.h, with its W1/W2 barrier
 * pair, whose pattern models/spsc.pml checks with a flag of its own and
 * models/bcast.pml with a flag bit of the futex word), statistics
 * (received, lost, sent, sent_gone), timeouts, -EAGAIN, the brief polls,
 * 64 entries (NWR here), hostile peers.
 *
 * Bug this model found, since fixed in src/chan/mpsc.c: join_floor loaded
 * head (MP6), tail = t (MP3), then the word at t (MP4w), and checked a
 * claim there against the head it loaded: when the reader released space
 * meanwhile and another writer claimed at t a record that fits below the
 * new head + capacity but not the old one, before that writer's tail CAS,
 * rec_size failed, tail was still t, and the join returned -EBADMSG on a
 * healthy channel.  The fix looks again with fresh positions once, as
 * mpsc_reserve's suspect does; BUG_JOIN_FLOOR restores the old check as
 * a mutant.
 *
 * Mutants (spin -DBUG_...), each must give a counterexample:
 *   BUG_FLAT_MARK    one mark for every lap: the claim CAS expects the
 *                    same value (the first design's plain 0) at any lap
 *   BUG_HELPER_MARK  a helper, after moving tail past a claim, clears the
 *                    word past it for the next claimer (the first design's
 *                    helpers zeroing the next word)
 *   BUG_COMMIT_FIRST the COMMITTED header is stored before the payload
 *   BUG_NO_REMARK    the reader's release does not mark the space it
 *                    gives back with the next lap's EMPTY
 *   BUG_NO_LIVENESS  a CLAIMED record is skipped without asking whether
 *                    its claimer lives
 *   BUG_NO_JOIN      the judge ignores the entry's join position (a
 *                    restarted writer in a dead claimer's entry keeps its
 *                    claim alive)
 *   BUG_NO_REL_WAIT  the reader before 7588210: it does not release passed
 *                    padding and abandoned records before it waits
 */

#ifndef NWR
#define NWR 2           /* writers (2 or 3) */
#endif
#ifndef NM
#define NM 2            /* messages per writer */
#endif
#ifndef CAP
#define CAP 4           /* ring words */
#endif
#ifndef LEN0
#define LEN0 1          /* payload words of writers 0 and 2 */
#endif
#ifndef LEN1
#define LEN1 2          /* payload words of writer 1 */
#endif
#ifndef WKILLS
#define WKILLS 1        /* writer kills */
#endif
#ifndef WRESTARTS
#define WRESTARTS 1     /* writers started again after a kill */
#endif
#ifndef RKILLS
#define RKILLS 0        /* reader kills (a new reader follows each) */
#endif
#ifndef PEEK
#define PEEK 1          /* messages peeked before a release (1: recv) */
#endif

#define NMSGS (NWR * NM)
#define MAXPOS (8 * CAP)        /* (a header's tag holds lap % 10) */
#define MAXTOK (NWR + WRESTARTS + 1)
#define MAXLEN 2

#define LAP(x) ((x) / CAP)
#define OFF(x) ((x) % CAP)
#ifdef BUG_FLAT_MARK
#define MARK(l) 0               /* every lap's free word looks the same */
#else
#define MARK(l) (l)             /* EMPTY(lap) */
#endif
#define CLAIMED 1
#define COMMITTED 2
#define PAD 3
#define HDR(s, w, n, l) (1000 * (s) + 100 * (w) + 10 * (n) + (l))
#define HST(h) (((h) >= 1000 && (h) < 4000) -> ((h) / 1000) : 0)
#define HW(h) (((h) / 100) % 10)
#define HLEN(h) (((h) / 10) % 10)
#define HTAG(h) ((h) % 10)
#define PAYLOAD(id, k) (5000 + 10 * (id) + (k))
#define WLEN(p) ((p) == 1 -> LEN1 : LEN0)

/* what happened to a message (ghost) */
#define S_NONE 0
#define S_CLAIMED 1     /* its writer claimed it */
#define S_COMMITTED 2   /* and committed it */
#define S_ABANDONED 3   /* claimed, and its writer died before committing */
#define S_DELIVERED 4   /* the reader delivered it (not yet released) */
#define S_RELEASED 5    /* and released it */
#define S_SKIPPED 6     /* the reader skipped it (not yet released) */
#define S_LOST 7        /* and released it: counted lost */

/* the reader's role word, as liveness sees it */
#define RNONE 0
#define RLIVE 1
#define RDEAD 2

/* ---- shared memory ---- */
short ring[CAP];        /* all EMPTY(0) = 0 at creation */
byte tail, head, rel;
byte joins, leaves;
byte etok[NWR];         /* the writer entries: token (0 free) and join */
byte ejoin[NWR];
byte rtok;

/* ---- the kernel: which attaches live ---- */
bool alive[MAXTOK];
byte ntok;

/* ---- the killer ---- */
bool wkill[NWR], rkill;
byte wkills, wrestarts, rkills;
byte wdeaths, rdeaths;  /* deaths so far: a poll period ends a wait after one */

/* ---- ghosts ---- */
bool wrun[NWR];         /* writer p runs (not finished, not killed for good) */
byte wtok[NWR];         /* its current token (0: not joined) */
byte wmine[NWR];        /* 1 + the message it claimed and has not committed */
byte nsent[NWR];        /* messages writer p claimed so far */
byte mst[NMSGS];        /* S_... of each message */
byte ment[NMSGS];       /* the entry its claim named */
byte gm[MAXPOS];        /* 1 + the message whose record starts at a position */
bit no_torn = 1, no_dup = 1, order = 1, no_loss = 1, lost_ok = 1, hdr_valid = 1, writes_free = 1;

#define CHECK(prop, cond) prop = (cond); assert(prop); prop = 1

/* rec_size(h, x, base): sz = the record's words, 0 for -EBADMSG */
inline rec_size(h, x, base)
{
	sz = 0;
	if
	:: HST(h) != 0 && HTAG(h) == LAP(x) % 10 && x >= base &&
	   OFF(x) + 1 + HLEN(h) <= CAP && x + 1 + HLEN(h) - base <= CAP ->
		if
		:: HST(h) == PAD && OFF(x) + 1 + HLEN(h) == CAP -> sz = 1 + HLEN(h)
		:: HST(h) != PAD && HLEN(h) >= 1 && HLEN(h) <= MAXLEN -> sz = 1 + HLEN(h)
		:: else
		fi
	:: else
	fi
}

/* ================= writer ================= */

#define W_SCAN 0        /* join: load entry i's token (and its liveness) */
#define W_TAKE 1        /* join: token CAS */
#define W_FH 2          /* join_floor: head */
#define W_FT 3          /* join_floor: tail */
#define W_FW 4          /* join_floor: the word at tail */
#define W_FCHK 5        /* join_floor: tail again (corrupt?) */
#define W_JOIN 7        /* join = floor */
#define W_JOINS 8       /* joins++ */
#define W_TAIL 9        /* reserve: tail */
#define W_PH 10         /* load_positions: head */
#define W_PT 11         /* load_positions: tail */
#define W_PEER 12       /* reader_check */
#define W_WAIT 13       /* mpsc_reserve's wait step */
#define W_WORD 14       /* the word at tail */
#define W_SUSP 15       /* tail again: still t means corrupt */
#define W_TCAS 17       /* the claimer's tail CAS */
#define W_HMARK 19      /* (BUG_HELPER_MARK) the word past the record */
#define W_PAY 20        /* a payload word */
#define W_COMMIT 21     /* commit */
#define W_CLOSE 22      /* close: token = 0 */
#define W_LEAVE 23      /* close: leaves++ */

#define NEXT if :: nsent[p] >= NM -> st = W_CLOSE :: else -> st = W_TAIL fi
#define SIZE_AT(x) pad = (OFF(x) + 1 + WLEN(p) > CAP); size = (pad -> CAP - OFF(x) : 1 + WLEN(p))
#define WSTORE(x, v) CHECK(writes_free, (x) >= t && (x) < t + size && (x) >= head && (x) < head + CAP); \
	ring[OFF(x)] = (v)

proctype Writer(byte p)
{
	byte st, i, tok, me, t, hd, size, sz, k, suspect = 255, seen, sk, id;
	bool pad;
	short w;

	do
	:: {
	   do
	   /* ---- join ---- */
	   :: atomic { st == W_SCAN ->
		/* load-acquire of entry i's token; its liveness */
		tok = etok[i];
		if
		:: tok != 0 && alive[tok] -> i++; assert(i < NWR)
		:: else -> st = W_TAKE
		fi }
	   :: atomic { st == W_TAKE ->
		/* the join CAS of the token, acq_rel (pairs with MP16, MP11) */
		if
		:: etok[i] == tok -> ntok++; etok[i] = ntok; alive[ntok] = 1;
			wtok[p] = ntok; me = i; st = W_FH
		:: else -> i++; assert(i < NWR); st = W_SCAN
		fi;
		tok = 0 }
	   :: atomic { st == W_FH ->
		/* MP6: load-acquire of head (load_positions) */
		hd = head; st = W_FT }
	   :: atomic { st == W_FT ->
		/* MP3: load-acquire of tail */
		t = tail;
		CHECK(hdr_valid, t >= hd);
		if
		:: t - hd > CAP -> st = W_FH
		:: else -> st = W_FW
		fi }
	   :: atomic { st == W_FW ->
		/* MP4w: load-acquire of the word at tail */
		w = ring[OFF(t)];
		if
		:: w == MARK(LAP(t)) || t + 1 - hd > CAP -> st = W_JOIN  /* the floor: t */
		:: else ->
			rec_size(w, t, hd);
			if
			:: sz > 0 ->  /* MP2: help tail past the claim (one step
				       * with the load, as in reserve) */
				if :: tail == t -> tail = t + sz :: else fi;
				sz = 0; st = W_FH
			:: else -> st = W_FCHK
			fi
		fi;
		w = 0 }
	   :: atomic { st == W_FCHK ->
		/* MP3: tail moved on, or corrupt.  As implemented, a claim that
		 * does not fit below the head loaded before it was made is
		 * taken for corruption only after one more look with fresh
		 * positions, as reserve does (its suspect); BUG_JOIN_FLOOR: at
		 * once, as before the fix (see the top) */
		if
		:: tail != t -> st = W_FH
#ifndef BUG_JOIN_FLOOR
		:: tail == t && t != suspect -> suspect = t; st = W_FH
		:: tail == t && t == suspect -> CHECK(hdr_valid, false)
#else
		:: else -> CHECK(hdr_valid, false)
#endif
		fi }
	   :: atomic { st == W_JOIN ->
		/* MP9: store-release of join, the floor, before any claim */
		ejoin[me] = t; hd = 0; t = 0; suspect = 255; st = W_JOINS }
	   :: atomic { st == W_JOINS ->
		/* joins++, acq_rel */
		joins++; NEXT }

	   /* ---- reserve ---- */
	   :: atomic { st == W_TAIL ->
		/* MP3: load-acquire of tail; room from the head last seen? */
		t = tail;
		SIZE_AT(t);
		if
		:: t < hd || t - hd > CAP || t + size - hd > CAP -> st = W_PH
		:: else -> st = W_WORD
		fi }
	   :: atomic { st == W_PH ->
		/* MP6: load-acquire of head; pairs with MP8 */
		hd = head; st = W_PT }
	   :: atomic { st == W_PT ->
		/* MP3: load-acquire of tail */
		t = tail;
		CHECK(hdr_valid, t >= hd);
		if
		:: t - hd > CAP -> st = W_PH
		:: else ->
			SIZE_AT(t);
			if
			:: t + size - hd > CAP -> seen = hd; sk = rdeaths; st = W_PEER
			:: else -> st = W_WORD
			fi
		fi }
	   :: atomic { st == W_PEER ->
		/* reader_check: the reader's token and its liveness; -EPIPE
		 * (then close) if it is dead */
		if
		:: rtok == RDEAD -> st = W_CLOSE
		:: else -> st = W_WAIT
		fi }
	   :: atomic { st == W_WAIT && (head != seen || rtok == RDEAD || rdeaths != sk) ->
		/* mpsc_reserve's wait step (MP14/MP15, the waiter's W1/W2 in
		 * wait.c, abstracted): head moved; or a poll period after the
		 * reader died */
		seen = 0; sk = 0; st = W_TAIL }
	   :: atomic { st == W_WORD ->
		/* MP4w: load-acquire of the word at t; pairs with MP7, MP1 */
		w = ring[OFF(t)];
		if
		:: w == MARK(LAP(t)) ->
			/* MP1: acq_rel CAS of the word at t from EMPTY(lap(t)).
			 * Load and CAS are one step here: a CAS that fails
			 * after the load only sends the writer round again */
			assert(t + size <= MAXPOS);
			if
			:: pad -> ring[OFF(t)] = HDR(PAD, me, size - 1, LAP(t))
			:: else ->
				id = p * NM + nsent[p]; nsent[p]++;
				ring[OFF(t)] = HDR(CLAIMED, me, WLEN(p), LAP(t));
				mst[id] = S_CLAIMED; ment[id] = me; gm[t] = id + 1; wmine[p] = id + 1
			fi;
			st = W_TCAS
		:: else ->
			rec_size(w, t, hd);
			if
			:: sz > 0 ->  /* a claim of t's lap: help.  MP2: help_tail,
				       * CAS of tail from t past it (with the load:
				       * a CAS that fails changes nothing) */
				if :: tail == t -> tail = t + sz :: else fi;
#ifdef BUG_HELPER_MARK
				st = W_HMARK
#else
				sz = 0; st = W_TAIL
#endif
			:: else ->  /* tail moved on, head is old, or corrupt */
				if
				:: t != suspect -> suspect = t; st = W_PH
				:: else -> st = W_SUSP
				fi
			fi
		fi;
		w = 0 }
	   :: atomic { st == W_SUSP ->
		/* MP3: the same twice with fresh positions: -EBADMSG if tail
		 * is still t */
		CHECK(hdr_valid, tail != t); st = W_TAIL }
	   :: atomic { st == W_TCAS ->
		/* MP2: acq_rel CAS of tail from t to t + size (fails if helped) */
		if :: tail == t -> tail = t + size :: else fi;
		if
		:: pad -> st = W_TAIL  /* a PAD is final: claim at the next lap */
		:: else ->
#ifdef BUG_COMMIT_FIRST
			st = W_COMMIT
#else
			st = W_PAY
#endif
		fi }
	   :: atomic { st == W_HMARK ->
		/* the mutant: the word past the record made claimable */
		ring[OFF(t + sz)] = MARK(LAP(t + sz)); sz = 0; st = W_TAIL }
	   :: atomic { st == W_PAY ->
		/* the payload: plain stores, published by MP5.  One step: no one
		 * loads them before the commit (a kill between them is a kill
		 * before or after them) */
		WSTORE(t + 1, PAYLOAD(id, 0));
		if :: WLEN(p) == 2 -> WSTORE(t + 2, PAYLOAD(id, 1)) :: else fi;
#ifdef BUG_COMMIT_FIRST
		wmine[p] = 0; id = 0; NEXT
#else
		st = W_COMMIT
#endif
	      }
	   :: atomic { st == W_COMMIT ->
		/* MP5: store-release of COMMITTED after the payload; pairs
		 * with MP4.  (MP13 and the wake: abstracted) */
		WSTORE(t, HDR(COMMITTED, me, WLEN(p), LAP(t)));
		mst[id] = S_COMMITTED;
#ifdef BUG_COMMIT_FIRST
		st = W_PAY
#else
		wmine[p] = 0; id = 0; NEXT
#endif
	      }

	   /* ---- close ---- */
	   :: atomic { st == W_CLOSE ->
		/* MP16: store-release of token = 0 after the last commit */
		etok[me] = 0; st = W_LEAVE }
	   :: atomic { st == W_LEAVE ->
		/* leaves++, seq_cst (then the wake: abstracted) */
		leaves++; wrun[p] = 0; break }
	   od
	   } unless { wkill[p] };
		if
		:: wkill[p] ->  /* killed: started again (a new attach) or not */
			d_step {
				wkill[p] = 0;
				st = W_SCAN; i = 0; tok = 0; me = 0; t = 0; hd = 0; size = 0; sz = 0;
				k = 0; suspect = 255; seen = 0; sk = 0; id = 0; pad = 0; w = 0
			};
			if
			:: wrestarts < WRESTARTS -> wrestarts++
			:: wrun[p] = 0; break
			fi
		:: else -> break
		fi
	od
}

/* ================= reader ================= */

#define R_CLAIM 0       /* the role CAS */
#define R_SREL 1        /* reader_start: rel */
#define R_SHEAD 2       /* reader_start: head */
#define R_STAIL 3       /* reader_start: tail */
#define R_SMARK 4       /* reader_start: a mark of the unfinished release */
#define R_SDONE 5       /* reader_start: head = rel */
#define R_TOP 6         /* reader_next: leaves */
#define R_LOOK 7        /* next_record: the header */
#define R_PAY 8         /* next_record: a payload word */
#define R_JTOK 9        /* judge: the entry's token */
#define R_JJOIN 10      /* judge: the entry's join */
#define R_JALIVE 11     /* judge: the claimer's liveness */
#define R_JRE 12        /* judge: the header again */
#define R_PT 13         /* pass_tail */
#define R_NONE 15       /* next_record found nothing */
#define R_JOINS 16      /* writers_state: joins */
#define R_SCAN 17       /* writers_state: entry i */
#define R_WAIT 18       /* reader_next's wait step */
#define R_REL 19        /* release: rel */
#define R_MARK 20       /* release: a mark */
#define R_HEAD 21       /* release: head */
#define R_END 22        /* detach */

#ifdef BUG_NO_REL_WAIT
#define REL_WAIT 0
#else
#define REL_WAIT 1
#endif
#ifdef BUG_NO_JOIN
#define JOINED_AFTER(jn, x) false  /* the mutant: join ignored */
#else
#define JOINED_AFTER(jn, x) ((jn) > (x))
#endif
/* the judge would now find the claim h at x abandoned */
#define ABANDONED_NOW(h, x) \
	(HST(h) == CLAIMED && ring[OFF(x)] == (h) && \
	 (etok[HW(h)] == 0 || JOINED_AFTER(ejoin[HW(h)], x) || !alive[etok[HW(h)]]))
/* The next pass of the loop acts on its own (so a poll period ends the
 * wait): a liveness question not asked, space to release, or a claim the
 * judge now finds abandoned (a joiner's join stored after the judge
 * loaded it) */
#define POLL_ACTS (unasked || (REL_WAIT && pending == 0 && pos != pub) || \
		   (pos - pub < CAP && ABANDONED_NOW(seen, pos)))

/* next_record gave nothing: what reader_next does next (local work,
 * folded into the step before) */
inline none()
{
	h = 0; sz = 0; tok = 0;
	if
	:: fin ->  /* the second look, after writers_state */
		if
		:: seen == MARK(LAP(pos)) -> st = R_END  /* 0, or -EPIPE */
		:: else -> st = R_WAIT
		fi
	:: !fin && pending > 0 ->  /* peeked: the application releases
				    * (after a timeout-0 call), then waits */
		ret = R_TOP; st = R_REL
	:: !fin && pending == 0 && pos != pub && REL_WAIT ->
		ret = R_NONE; st = R_REL  /* passed space goes back first */
	:: else ->
		if
		:: seen == MARK(LAP(pos)) -> st = R_JOINS
		:: else -> st = R_WAIT
		fi
	fi
}

proctype Reader()
{
	byte st, pos, pub, pending, sz, k, x, rl, hd, tl, tok, jn, sk, lv, i, dead, ws, id, ret, j;
	bool ask, fin, unasked;
	short h, seen, v0, v1;

	do
	:: {
	   do
	   :: atomic { st == R_CLAIM ->
		/* the role CAS, acq_rel */
		rtok = RLIVE; st = R_SREL }
	   :: atomic { st == R_SREL ->
		/* MP10: load-acquire of rel; pairs with MP7 */
		rl = rel; st = R_SHEAD }
	   :: atomic { st == R_SHEAD ->
		/* MP10: load-acquire of head; pairs with MP8 */
		hd = head; st = R_STAIL }
	   :: atomic { st == R_STAIL ->
		/* MP10: load-acquire of tail */
		tl = tail;
		CHECK(hdr_valid, tl >= hd && tl - hd <= CAP);
		if
		:: rl != hd -> CHECK(hdr_valid, rl > hd && rl <= tl); x = hd; st = R_SMARK
		:: else -> pos = hd; pub = hd; st = R_TOP
		fi;
		tl = 0 }
	   :: atomic { st == R_SMARK ->
		/* a mark of the dead reader's release (relaxed, before MP8) */
		ring[OFF(x)] = MARK(LAP(x) + 1); x++;
		if :: x == rl -> st = R_SDONE :: else fi }
	   :: atomic { st == R_SDONE ->
		/* MP8: store-release of head = rel */
		head = rl; pos = rl; pub = rl; x = 0; st = R_TOP }

	   /* ---- reader_next ---- */
	   :: atomic { st == R_TOP ->
		/* leaves, load-acquire (pairs with close's RMW); the deaths so
		 * far are what the liveness questions below will know */
		lv = leaves; sk = wdeaths; ask = 1; fin = 0; unasked = 0; st = R_LOOK }
	   :: atomic { st == R_LOOK ->
		if
		:: pos - pub >= CAP ->  /* a ring passed, not released: nothing new */
			seen = ring[OFF(pos)]; none()
		:: else ->
			/* MP4: load-acquire of the header at pos; pairs with MP5, MP1 */
			h = ring[OFF(pos)];
			seen = h;
			if
			:: h == MARK(LAP(pos)) ->  /* EMPTY: nothing claimed here or after */
				for (j : 0 .. NMSGS - 1) {
					CHECK(no_loss, mst[j] != S_CLAIMED && mst[j] != S_COMMITTED &&
						       mst[j] != S_ABANDONED)
				};
				j = 0; none()
			:: else ->
				rec_size(h, pos, pub);
				CHECK(hdr_valid, sz > 0);
				if
				:: HST(h) == COMMITTED -> k = 0; st = R_PAY
				:: HST(h) == CLAIMED -> st = R_JTOK
				:: HST(h) == PAD -> h = 0; st = R_PT
				fi
			fi
		fi }
	   :: atomic { st == R_PAY ->
		/* the payload: plain loads, after MP4 (one step: a committed
		 * record's words do not change until it is released) */
		v0 = ring[OFF(pos + 1)];
		if :: HLEN(h) == 2 -> v1 = ring[OFF(pos + 2)] :: else fi;
		if
		:: true ->  /* delivered: check it */
			id = gm[pos] - 1;
			CHECK(no_torn, gm[pos] != 0);
			CHECK(no_dup, mst[id] != S_DELIVERED && mst[id] != S_RELEASED);
			CHECK(no_torn, mst[id] == S_COMMITTED && HW(h) == ment[id] &&
				       HLEN(h) == WLEN(id / NM) && v0 == PAYLOAD(id, 0) &&
				       (HLEN(h) < 2 || v1 == PAYLOAD(id, 1)));
			for (j : 0 .. NM - 1) {
				CHECK(order, j >= id % NM || mst[id - id % NM + j] != S_COMMITTED);
				CHECK(order, j <= id % NM || (mst[id - id % NM + j] != S_DELIVERED &&
							      mst[id - id % NM + j] != S_RELEASED))
			};
			mst[id] = S_DELIVERED;
			pos = pos + sz; pending++;
			j = 0; id = 0; k = 0; h = 0; sz = 0; v0 = 0; v1 = 0;
			if
			:: pending < PEEK -> st = R_TOP  /* peek again */
			:: ret = R_TOP; st = R_REL       /* recv, or release */
			fi
		:: else
		fi }
	   :: atomic { st == R_JTOK ->
		/* MP11: load-acquire of the entry's token */
		tok = etok[HW(h)]; st = R_JJOIN }
	   :: atomic { st == R_JJOIN ->
		/* MP11: load-acquire of the entry's join; pairs with MP9 */
		jn = ejoin[HW(h)];
		if
		:: tok != 0 && !JOINED_AFTER(jn, pos) ->
			/* the entry's occupant may be the claimer */
			if
			:: ask -> st = R_JALIVE
			:: else -> unasked = 1; none()
			fi
		:: else -> st = R_JRE  /* free, or joined after the claim */
		fi;
		jn = 0 }
	   :: atomic { st == R_JALIVE ->
		/* the claimer's liveness (kernel-kept) */
#ifdef BUG_NO_LIVENESS
		st = R_JRE
#else
		if
		:: alive[tok] -> none()  /* live: wait for its commit */
		:: else -> st = R_JRE
		fi
#endif
	      }
	   :: atomic { st == R_JRE ->
		/* MP4: the header again: unchanged, the claim is abandoned */
		tok = 0;
		if
		:: ring[OFF(pos)] == h ->
			id = gm[pos] - 1;
			CHECK(lost_ok, gm[pos] != 0 && mst[id] == S_ABANDONED);
			mst[id] = S_SKIPPED; id = 0; h = 0; st = R_PT
		:: else -> none()  /* committed meanwhile: look again */
		fi }
	   :: atomic { st == R_PT ->
		/* pass_tail.  MP3: load-acquire of tail; MP2: CAS of tail from
		 * pos past the record if it is still there (one step: a CAS
		 * that fails after the load is the load of the new tail) */
		if
		:: tail == pos -> tail = pos + sz
		:: else -> CHECK(hdr_valid, tail >= pos + sz && tail - pub <= CAP)
		fi;
		pos = pos + sz; sz = 0; st = R_LOOK }
	   :: atomic { st == R_NONE -> none() }
	   :: atomic { st == R_JOINS ->
		/* writers_state: joins, load-acquire */
		if
		:: joins == 0 -> st = R_WAIT
		:: else -> i = 0; dead = 0; st = R_SCAN
		fi }
	   :: atomic { st == R_SCAN ->
		/* MP11: entry i's token, and its liveness */
		tok = etok[i];
		if
		:: tok != 0 && alive[tok] -> i = 0; dead = 0; st = R_WAIT  /* one lives */
		:: else ->
			if :: tok != 0 -> dead++ :: else fi;
			i++;
			if
			:: i == NWR ->  /* none lives: what they committed, then the end */
				ws = (dead > 0 -> 2 : 1);
				i = 0; dead = 0; fin = 1; ask = 0; st = R_LOOK
			:: else
			fi
		fi;
		tok = 0 }
	   :: atomic { st == R_WAIT &&
		       (ring[OFF(pos)] != seen || leaves != lv || wdeaths != sk || POLL_ACTS) ->
		/* reader_next's wait step (MP12/MP13, the waiter's W1/W2 in
		 * wait.c, abstracted): the word at pos changed, a writer left
		 * or died, or the next pass acts */
		seen = 0; st = R_TOP }

	   /* ---- release ---- */
	   :: atomic { st == R_REL ->
		if
		:: pos == pub -> st = ret
		:: else ->
			/* rel = pos (relaxed), then MP7, the release fence: from here
			 * a successor finishes this release */
			rel = pos;
			for (j : 0 .. NMSGS - 1) {
				if
				:: mst[j] == S_DELIVERED -> mst[j] = S_RELEASED
				:: mst[j] == S_SKIPPED -> mst[j] = S_LOST  /* counted once */
				:: else
				fi
			};
			j = 0; x = pub;
#ifdef BUG_NO_REMARK
			st = R_HEAD
#else
			st = R_MARK
#endif
		fi }
	   :: atomic { st == R_MARK ->
		/* the marks of the next lap (relaxed, published by MP7/MP8): one
		 * word a step when the reader may be killed while marking,
		 * else all at once (a writer never claims a word the release
		 * is marking: it waits for head) */
#if RKILLS > 0
		ring[OFF(x)] = MARK(LAP(x) + 1); x++;
#else
		do
		:: x < pos -> ring[OFF(x)] = MARK(LAP(x) + 1); x++
		:: else -> break
		od;
#endif
		if :: x == pos -> st = R_HEAD :: else fi }
	   :: atomic { st == R_HEAD ->
		/* MP8: store-release of head after the marks.  (MP15 and the
		 * writers' wake: abstracted) */
		head = pos; pub = pos; pending = 0; x = 0; st = ret; ret = 0 }
	   :: atomic { st == R_END ->
		/* the stream ended (0 or -EPIPE): detach */
		rtok = RDEAD; break }
	   od
	   } unless { rkill };
		if
		:: rkill ->  /* killed: a new reader takes over from head */
			d_step {
				rkill = 0;
				for (j : 0 .. NMSGS - 1) {
					if
					:: mst[j] == S_DELIVERED -> mst[j] = S_COMMITTED
					:: mst[j] == S_SKIPPED -> mst[j] = S_ABANDONED
					:: else
					fi
				};
				st = R_CLAIM; pos = 0; pub = 0; pending = 0; sz = 0; k = 0; x = 0;
				rl = 0; hd = 0; tl = 0; tok = 0; jn = 0; sk = 0; lv = 0; i = 0;
				dead = 0; ws = 0; id = 0; ret = 0; j = 0; ask = 0; fin = 0;
				unasked = 0; h = 0; seen = 0; v0 = 0; v1 = 0
			}
		:: else -> break
		fi
	od
}

/* ================= the killer ================= */

/* Stops writer q (joined, running) forever; its claim, if any, is
 * abandoned. */
#define KILLW(q) \
	atomic { wkills < WKILLS && wrun[q] && wtok[q] != 0 && alive[wtok[q]] && !wkill[q] -> \
		wkill[q] = 1; alive[wtok[q]] = 0; wtok[q] = 0; wkills++; wdeaths++; \
		if \
		:: wmine[q] != 0 && mst[wmine[q] - 1] == S_CLAIMED -> mst[wmine[q] - 1] = S_ABANDONED \
		:: else \
		fi; \
		wmine[q] = 0 }

active proctype Killer()
{
end:
	do
	:: KILLW(0)
	:: KILLW(1)
#if NWR > 2
	:: KILLW(2)
#endif
	:: atomic { rkills < RKILLS && rtok == RLIVE && !rkill ->
		rkill = 1; rtok = RDEAD; rkills++; rdeaths++ }
	od
}

init
{
	assert(NWR >= 2 && NWR <= 3 && NM <= 3);
	atomic {
		wrun[0] = 1; wrun[1] = 1;
#if NWR > 2
		wrun[2] = 1;
#endif
		run Writer(0);
		run Writer(1);
#if NWR > 2
		run Writer(2);
#endif
		run Reader()
	}
}
