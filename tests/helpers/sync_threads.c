/* SPDX-License-Identifier: MIT */
/*
 * sync_threads - the sync primitives between the threads of one process,
 * guarding plain (non-atomic) data, so that a happens-before edge missing
 * in the library is a data race ThreadSanitizer reports.  Built with
 * SAN=thread it is the TSan check of tests/cli/test_sync_threads.sh.
 *
 *   sync_threads [anon|memfd|NAME]   (default anon; NAME: a region created
 *                                    exclusively and removed at once)
 *   sync_threads --race              the control: threads add to a plain
 *                                    counter without the lock, a data race
 *                                    that TSan must report (exit 66), so a
 *                                    clean run above means something
 *
 * Phases, each with THREADS threads:
 *   mutex   every thread adds to two plain counters under the mutex
 *           (timedlock, and now and then trylock); the totals are exact;
 *   rwlock  two writers rewrite a plain four-field record under the write
 *           lock, two readers check under the read lock that its fields
 *           agree and do not change while they hold it;
 *   queue   a bounded queue of plain items: semaphores count free and full
 *           places, two producers and two consumers, a mutex on each end;
 *           every item arrives once and intact;
 *   event   a turn passed round the threads with event_wait_mutex as a
 *           condition variable; then each thread leaves a plain result and
 *           wakes an event, and the main thread, waiting on the event's
 *           sequence (prepare/wait) alone, reads the results.
 * Every wait has a timeout and alarm() bounds the whole run.  Prints
 * "sync_threads KIND: ok ..." and exits 0; exits 1 with a message on a
 * wrong result, 2 on a usage or setup error.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmkit.h"

#define THREADS 4
#define TIMEOUT_NS (30 * 1000000000LL)
#define ALARM_S 240
#define MUTEX_ITER 50000
#define WRITES 10000             /* per writer */
#define READS 25000              /* per reader */
#define ITEMS 50000              /* per producer */
#define QCAP 8
#define TURNS 1000               /* per thread */

struct item {
	uint64_t producer, seq, check;
};

struct shared {
	shmkit_mutex m;
	shmkit_rwlock rw;
	shmkit_sem spaces, items;
	shmkit_mutex put, get;
	shmkit_mutex cm;
	shmkit_event turn_ev, done_ev;
	/* plain data, each guarded as the phases say */
	uint64_t counter, counter2;
	uint64_t rec[4], writes;
	struct item q[QCAP];
	uint64_t head, tail;
	unsigned turn;
	uint64_t turns;
	uint64_t result[THREADS];
};

static shmkit_region *R;
static struct shared *S;
static const char *kind = "anon";

static __attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "sync_threads %s: FAIL: ", kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void check(int err, const char *what)
{
	if (err)
		fail("%s: %s", what, shmkit_strerror(err));
}

static void run_threads(void *(*fn)(void *))
{
	pthread_t t[THREADS];
	for (intptr_t i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, fn, (void *)i) != 0)
			fail("pthread_create");
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

/* ---- mutex ---- */

static void *mutex_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < MUTEX_ITER; i++) {
		int err = (i % 16 == 0) ? shmkit_mutex_trylock(R, &S->m) : -EBUSY;
		if (err == -EBUSY)
			err = shmkit_mutex_timedlock(R, &S->m, TIMEOUT_NS);
		check(err, "mutex_timedlock");
		S->counter++;
		S->counter2 += 2;
		check(shmkit_mutex_unlock(R, &S->m), "mutex_unlock");
	}
	return NULL;
}

/* ---- the control: no lock at all ---- */

static void *race_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < MUTEX_ITER; i++)
		S->counter++;  /* deliberately unguarded */
	return NULL;
}

/* ---- rwlock: threads 0 and 1 write, 2 and 3 read ---- */

static void *rwlock_thread(void *arg)
{
	intptr_t me = (intptr_t)arg;
	if (me < 2) {
		for (int i = 0; i < WRITES; i++) {
			check(shmkit_rwlock_timedwrlock(R, &S->rw, TIMEOUT_NS), "rwlock_timedwrlock");
			uint64_t v = S->rec[0] + 1;
			for (int f = 0; f < 4; f++)
				S->rec[f] = v;
			S->writes++;
			check(shmkit_rwlock_wrunlock(R, &S->rw), "rwlock_wrunlock");
		}
		return NULL;
	}
	for (int i = 0; i < READS; i++) {
		int err = (i % 8 == 0) ? shmkit_rwlock_tryrdlock(R, &S->rw) : -EBUSY;
		if (err == -EBUSY)
			err = shmkit_rwlock_timedrdlock(R, &S->rw, TIMEOUT_NS);
		check(err, "rwlock_timedrdlock");
		uint64_t a = S->rec[0], b = S->rec[1], c = S->rec[2], d = S->rec[3];
		uint64_t w = S->writes;
		if (a != b || b != c || c != d || a != w)
			fail("reader saw a torn record: %llu %llu %llu %llu, writes %llu",
			     (unsigned long long)a, (unsigned long long)b,
			     (unsigned long long)c, (unsigned long long)d,
			     (unsigned long long)w);
		if (S->rec[3] != d || S->rec[0] != a)
			fail("the record changed under a read lock");
		check(shmkit_rwlock_rdunlock(R, &S->rw), "rwlock_rdunlock");
	}
	return NULL;
}

/* ---- queue: threads 0 and 1 produce, 2 and 3 consume ---- */

static uint64_t item_check(uint64_t producer, uint64_t seq)
{
	return (producer * 0x9e3779b97f4a7c15ULL) ^ (seq * 0xbf58476d1ce4e5b9ULL) ^ 0x5bd1e995;
}

/* per consumer and producer: handed to the main thread by pthread_join */
static uint64_t consumed_sum[THREADS][2], consumed_count[THREADS][2];

static void *queue_thread(void *arg)
{
	intptr_t me = (intptr_t)arg;
	if (me < 2) {
		for (uint64_t i = 0; i < ITEMS; i++) {
			check(shmkit_sem_timedwait(R, &S->spaces, TIMEOUT_NS), "sem_timedwait spaces");
			check(shmkit_mutex_timedlock(R, &S->put, TIMEOUT_NS), "lock put");
			struct item *it = &S->q[S->head % QCAP];
			it->producer = (uint64_t)me;
			it->seq = i;
			it->check = item_check((uint64_t)me, i);
			S->head++;
			check(shmkit_mutex_unlock(R, &S->put), "unlock put");
			check(shmkit_sem_post(R, &S->items), "sem_post items");
		}
		return NULL;
	}
	/* each consumer takes half of all the items */
	for (int i = 0; i < ITEMS; i++) {
		check(shmkit_sem_timedwait(R, &S->items, TIMEOUT_NS), "sem_timedwait items");
		check(shmkit_mutex_timedlock(R, &S->get, TIMEOUT_NS), "lock get");
		struct item it = S->q[S->tail % QCAP];
		S->tail++;
		check(shmkit_mutex_unlock(R, &S->get), "unlock get");
		check(shmkit_sem_post(R, &S->spaces), "sem_post spaces");
		if (it.producer > 1 || it.seq >= ITEMS ||
		    it.check != item_check(it.producer, it.seq))
			fail("a damaged item: producer %llu seq %llu check %#llx",
			     (unsigned long long)it.producer, (unsigned long long)it.seq,
			     (unsigned long long)it.check);
		consumed_sum[me][it.producer] += it.seq;
		consumed_count[me][it.producer]++;
	}
	return NULL;
}

/* ---- event ---- */

static void *event_thread(void *arg)
{
	unsigned me = (unsigned)(intptr_t)arg;
	for (int i = 0; i < TURNS; i++) {
		check(shmkit_mutex_timedlock(R, &S->cm, TIMEOUT_NS), "lock cm");
		while (S->turn != me) {
			int err = shmkit_event_wait_mutex(R, &S->turn_ev, &S->cm, TIMEOUT_NS);
			if (err == -ETIMEDOUT)
				fail("event_wait_mutex: no turn for 30 s (turn %u, me %u)", S->turn, me);
			check(err, "event_wait_mutex");
		}
		S->turns++;
		S->turn = (me + 1) % THREADS;
		check(shmkit_mutex_unlock(R, &S->cm), "unlock cm");
		check(shmkit_event_wake_all(R, &S->turn_ev), "event_wake_all");
	}
	/* a plain result, published by the wake alone */
	S->result[me] = 1000u + me;
	check(shmkit_event_wake_one(R, &S->done_ev), "event_wake_one");
	return NULL;
}

int main(int argc, char **argv)
{
	int err;
	char created[256] = "";

	if (argc > 2) {
		fprintf(stderr, "usage: sync_threads [anon|memfd|NAME|--race]\n");
		return 2;
	}
	if (argc == 2)
		kind = argv[1];
	alarm(ALARM_S);
	if (!strcmp(kind, "anon") || !strcmp(kind, "--race")) {
		err = shmkit_region_anon(sizeof(struct shared), 0, &R);
	} else if (!strcmp(kind, "memfd")) {
		err = shmkit_region_memfd("sync_threads", sizeof(struct shared), 0, &R);
	} else {
		err = shmkit_region_open(kind, SHMKIT_CREATE | SHMKIT_EXCL, sizeof(struct shared),
					 0600, &R);
		if (!err) {
			/* gone from the system at once; the mapping lives on */
			snprintf(created, sizeof(created), "%s", kind);
			err = shmkit_remove(created);
		}
	}
	if (err) {
		fprintf(stderr, "sync_threads %s: region: %s\n", kind, shmkit_strerror(err));
		return 2;
	}
	S = shmkit_region_base(R);
	if (!strcmp(kind, "--race")) {
		run_threads(race_thread);
		printf("sync_threads --race: counter %llu of %d, unguarded\n",
		       (unsigned long long)S->counter, THREADS * MUTEX_ITER);
		return 0;
	}
	check(shmkit_mutex_init(R, &S->m), "mutex_init");
	check(shmkit_rwlock_init(R, &S->rw), "rwlock_init");
	check(shmkit_sem_init(R, &S->spaces, QCAP), "sem_init");
	check(shmkit_sem_init(R, &S->items, 0), "sem_init");
	check(shmkit_mutex_init(R, &S->put), "mutex_init");
	check(shmkit_mutex_init(R, &S->get), "mutex_init");
	check(shmkit_mutex_init(R, &S->cm), "mutex_init");
	check(shmkit_event_init(R, &S->turn_ev), "event_init");
	check(shmkit_event_init(R, &S->done_ev), "event_init");

	run_threads(mutex_thread);
	if (S->counter != (uint64_t)THREADS * MUTEX_ITER || S->counter2 != 2 * S->counter)
		fail("mutex: counter %llu, counter2 %llu, expected %llu",
		     (unsigned long long)S->counter, (unsigned long long)S->counter2,
		     (unsigned long long)THREADS * MUTEX_ITER);

	run_threads(rwlock_thread);
	if (S->writes != 2 * WRITES || S->rec[0] != S->writes || S->rec[3] != S->writes)
		fail("rwlock: writes %llu, record %llu", (unsigned long long)S->writes,
		     (unsigned long long)S->rec[0]);

	run_threads(queue_thread);
	uint64_t want_sum = (uint64_t)ITEMS * (ITEMS - 1) / 2;
	for (int p = 0; p < 2; p++) {
		uint64_t count = consumed_count[2][p] + consumed_count[3][p];
		uint64_t sum = consumed_sum[2][p] + consumed_sum[3][p];
		if (count != ITEMS || sum != want_sum)
			fail("queue: producer %d: %llu items (sum %llu), expected %d (sum %llu)", p,
			     (unsigned long long)count, (unsigned long long)sum, ITEMS,
			     (unsigned long long)want_sum);
	}
	if (shmkit_sem_value(R, &S->spaces) != QCAP || shmkit_sem_value(R, &S->items) != 0)
		fail("queue: semaphores end at %d free, %d full", shmkit_sem_value(R, &S->spaces),
		     shmkit_sem_value(R, &S->items));

	/* the main thread waits for every result through done_ev alone */
	uint32_t t0, t;
	check(shmkit_event_prepare(R, &S->done_ev, &t0), "event_prepare");
	pthread_t th[THREADS];
	for (intptr_t i = 0; i < THREADS; i++)
		if (pthread_create(&th[i], NULL, event_thread, (void *)i) != 0)
			fail("pthread_create");
	for (;;) {
		check(shmkit_event_prepare(R, &S->done_ev, &t), "event_prepare");
		if (t - t0 == THREADS)
			break;  /* every thread woke it: every result is there */
		err = shmkit_event_wait(R, &S->done_ev, t, TIMEOUT_NS);
		if (err == -ETIMEDOUT)
			fail("event_wait: only %u of %d threads done after 30 s", t - t0, THREADS);
		if (err != -EINTR)
			check(err, "event_wait");
	}
	for (int i = 0; i < THREADS; i++)
		if (S->result[i] != 1000u + (unsigned)i)
			fail("event: result %d is %llu", i, (unsigned long long)S->result[i]);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	check(shmkit_mutex_timedlock(R, &S->cm, TIMEOUT_NS), "lock cm");
	if (S->turns != (uint64_t)THREADS * TURNS)
		fail("event: %llu turns, expected %d", (unsigned long long)S->turns,
		     THREADS * TURNS);
	check(shmkit_mutex_unlock(R, &S->cm), "unlock cm");

	/* nothing is left held */
	struct shmkit_prim_info pi[16];
	int n = shmkit_region_prims(R, pi, 16);
	if (n != 9)
		fail("%d primitives listed, expected 9", n);
	for (int i = 0; i < n; i++)
		if (pi[i].corrupt || pi[i].locked || pi[i].state != 0 ||
		    (pi[i].type == SHMKIT_PRIM_RWLOCK && pi[i].value != 0))
			fail("primitive at %llu: corrupt %d locked %d state %d value %u",
			     (unsigned long long)pi[i].offset, pi[i].corrupt, pi[i].locked,
			     pi[i].state, pi[i].value);
	check(shmkit_region_close(R), "region_close");
	printf("sync_threads %s: ok: mutex %d increments, rwlock %d writes and %d reads, "
	       "queue %d items, event %d turns, %d threads\n", kind, THREADS * MUTEX_ITER,
	       2 * WRITES, 2 * READS, 2 * ITEMS, THREADS * TURNS, THREADS);
	return 0;
}
