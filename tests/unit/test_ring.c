// SPDX-License-Identifier: MIT
#include "test_core_common.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring/ring.h"

/*
 * The out-of-memory test makes allocation fail on purpose; under a
 * sanitizer that must return NULL, not abort the process.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static void *obj(uintptr_t v)
{
	return (void *)v;
}

static uintptr_t val(void *p)
{
	return (uintptr_t)p;
}

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static void create_rejects_invalid_sizes(void **state)
{
	static const uint32_t bad[] = { 0, 1, 3, 6, 7, 100, 1000,
					(1u << 30) + 1, 1u << 31,
					(1u << 31) + (1u << 30), UINT32_MAX };

	for (size_t i = 0; i < WP_ARRAY_SIZE(bad); i++) {
		errno = 0;
		assert_null(wp_ring_create(bad[i]));
		assert_int_equal(errno, EINVAL);
	}
}

static void create_aligned_and_empty(void **state)
{
	static const uint32_t good[] = { 2, 4, 8, 64, 1024, 65536 };

	for (size_t i = 0; i < WP_ARRAY_SIZE(good); i++) {
		struct wp_ring *r = wp_ring_create(good[i]);
		void *out[4] = { obj(7), obj(7), obj(7), obj(7) };

		assert_non_null(r);
		assert_int_equal((uintptr_t)r % WP_CACHELINE, 0);
		assert_int_equal((uintptr_t)r->slots % WP_CACHELINE, 0);
		assert_int_equal(r->size, good[i]);
		assert_int_equal(r->mask, good[i] - 1);
		assert_int_equal(wp_ring_count(r), 0);
		assert_int_equal(wp_ring_free_count(r), good[i]);
		assert_true(wp_ring_empty(r));
		assert_false(wp_ring_full(r));
		assert_null(wp_ring_dequeue(r));
		assert_int_equal(wp_ring_dequeue_bulk(r, out, 1), 0);
		assert_int_equal(wp_ring_dequeue_burst(r, out, 4), 0);
		/* Nothing was written to the caller's array. */
		for (int j = 0; j < 4; j++)
			assert_ptr_equal(out[j], obj(7));
		wp_ring_free(r);
	}
	wp_ring_free(NULL);
}

static void layout_separates_the_sides(void **state)
{
	size_t prod = offsetof(struct wp_ring, prod);
	size_t cons = offsetof(struct wp_ring, cons);
	size_t ro = offsetof(struct wp_ring, size);
	size_t slots = offsetof(struct wp_ring, slots);

	assert_true(cons - prod >= WP_CACHELINE);
	assert_true(ro - cons >= WP_CACHELINE);
	assert_true(slots - ro >= WP_CACHELINE);
	assert_int_equal(slots % WP_CACHELINE, 0);
}

/* Capacity is exactly size: no slot is kept empty to tell full from empty. */
static void capacity_is_size(void **state)
{
	static const uint32_t sizes[] = { 2, 8, 1024 };

	for (size_t i = 0; i < WP_ARRAY_SIZE(sizes); i++) {
		uint32_t size = sizes[i];
		struct wp_ring *r = wp_ring_create(size);
		void *one = obj(1);

		assert_non_null(r);
		for (uint32_t j = 0; j < size; j++) {
			assert_false(wp_ring_full(r));
			assert_int_equal(wp_ring_enqueue(r, obj(j + 1)), 0);
			assert_int_equal(wp_ring_count(r), j + 1);
			assert_int_equal(wp_ring_free_count(r), size - j - 1);
		}
		assert_true(wp_ring_full(r));
		assert_false(wp_ring_empty(r));
		assert_int_equal(wp_ring_enqueue(r, obj(999)), -1);
		assert_int_equal(wp_ring_enqueue_bulk(r, &one, 1), 0);
		assert_int_equal(wp_ring_enqueue_burst(r, &one, 1), 0);
		assert_int_equal(wp_ring_count(r), size);
		for (uint32_t j = 0; j < size; j++)
			assert_ptr_equal(wp_ring_dequeue(r), obj(j + 1));
		assert_true(wp_ring_empty(r));
		assert_null(wp_ring_dequeue(r));
		wp_ring_free(r);
	}
}

static void bulk_is_all_or_nothing(void **state)
{
	struct wp_ring *r = wp_ring_create(8);
	void *in[16], *out[16];

	assert_non_null(r);
	for (int i = 0; i < 16; i++) {
		in[i] = obj(100 + i);
		out[i] = obj(7);
	}
	assert_int_equal(wp_ring_enqueue_bulk(r, in, 5), 5);
	/* 3 free: 4 does not fit, so nothing moves. */
	assert_int_equal(wp_ring_enqueue_bulk(r, in + 5, 4), 0);
	assert_int_equal(wp_ring_count(r), 5);
	/* More than the whole ring never fits. */
	assert_int_equal(wp_ring_enqueue_bulk(r, in + 5, 9), 0);
	assert_int_equal(wp_ring_enqueue_bulk(r, in + 5, 0), 0);
	assert_int_equal(wp_ring_count(r), 5);
	assert_int_equal(wp_ring_enqueue_bulk(r, in + 5, 3), 3);
	assert_true(wp_ring_full(r));

	/* Only 8 held: asking for 9 takes nothing and writes nothing. */
	assert_int_equal(wp_ring_dequeue_bulk(r, out, 9), 0);
	assert_int_equal(wp_ring_dequeue_bulk(r, out, 0), 0);
	for (int i = 0; i < 16; i++)
		assert_ptr_equal(out[i], obj(7));
	assert_int_equal(wp_ring_count(r), 8);
	assert_int_equal(wp_ring_dequeue_bulk(r, out, 6), 6);
	assert_int_equal(wp_ring_dequeue_bulk(r, out + 6, 3), 0);
	assert_int_equal(wp_ring_dequeue_bulk(r, out + 6, 2), 2);
	for (int i = 0; i < 8; i++)
		assert_ptr_equal(out[i], obj(100 + i));
	assert_ptr_equal(out[8], obj(7));
	assert_true(wp_ring_empty(r));

	/* Slot array wraps inside one bulk (indices 6..13 over 8 slots). */
	assert_int_equal(wp_ring_enqueue_bulk(r, in, 8), 8);
	assert_int_equal(wp_ring_dequeue_bulk(r, out, 8), 8);
	for (int i = 0; i < 8; i++)
		assert_ptr_equal(out[i], in[i]);
	wp_ring_free(r);
}

static void burst_moves_what_fits(void **state)
{
	struct wp_ring *r = wp_ring_create(8);
	void *in[16], *out[16];

	assert_non_null(r);
	for (int i = 0; i < 16; i++) {
		in[i] = obj(200 + i);
		out[i] = obj(7);
	}
	assert_int_equal(wp_ring_enqueue_burst(r, in, 6), 6);
	assert_int_equal(wp_ring_enqueue_burst(r, in + 6, 5), 2);
	assert_true(wp_ring_full(r));
	assert_int_equal(wp_ring_enqueue_burst(r, in + 8, 5), 0);
	assert_int_equal(wp_ring_enqueue_burst(r, in + 8, 0), 0);

	assert_int_equal(wp_ring_dequeue_burst(r, out, 3), 3);
	assert_int_equal(wp_ring_count(r), 5);
	/* Room for 3 again, after the wrap of the slot array. */
	assert_int_equal(wp_ring_enqueue_burst(r, in + 8, 16 - 8), 3);
	assert_int_equal(wp_ring_dequeue_burst(r, out + 3, 16 - 3), 8);
	for (int i = 0; i < 11; i++)
		assert_ptr_equal(out[i], obj(200 + i));
	/* Slots past the count are not written. */
	for (int i = 11; i < 16; i++)
		assert_ptr_equal(out[i], obj(7));
	assert_int_equal(wp_ring_dequeue_burst(r, out, 16), 0);
	assert_int_equal(wp_ring_dequeue_burst(r, out, 0), 0);
	assert_true(wp_ring_empty(r));
	wp_ring_free(r);
}

static void null_objects_travel(void **state)
{
	struct wp_ring *r = wp_ring_create(2);
	void *in[2] = { NULL, obj(5) }, *out[2] = { obj(7), obj(7) };

	assert_non_null(r);
	assert_int_equal(wp_ring_enqueue_bulk(r, in, 2), 2);
	assert_int_equal(wp_ring_dequeue_bulk(r, out, 2), 2);
	assert_null(out[0]);
	assert_ptr_equal(out[1], obj(5));
	wp_ring_free(r);
}

static void set_index_needs_empty_ring(void **state)
{
	struct wp_ring *r = wp_ring_create(4);

	assert_non_null(r);
	assert_int_equal(wp_ring_enqueue(r, obj(1)), 0);
	assert_int_equal(wp__ring_set_index(r, 12345), -EBUSY);
	assert_int_equal(atomic_load(&r->prod.head), 1);
	assert_int_equal(atomic_load(&r->cons.tail), 0);
	assert_ptr_equal(wp_ring_dequeue(r), obj(1));
	assert_int_equal(wp__ring_set_index(r, 12345), 0);
	assert_int_equal(atomic_load(&r->prod.head), 12345);
	assert_int_equal(atomic_load(&r->cons.tail), 12345);
	assert_true(wp_ring_empty(r));
	assert_int_equal(wp_ring_free_count(r), 4);
	wp_ring_free(r);
}

/*
 * A third thread can pair a stale tail with a newer head, a gap wider than
 * the ring; no real state has it, so write the pair directly.
 */
static void counts_clamp_a_torn_view(void **state)
{
	struct wp_ring *r = wp_ring_create(8);

	assert_non_null(r);
	assert_int_equal(wp__ring_set_index(r, UINT32_MAX - 2), 0);
	atomic_store(&r->prod.head, (uint32_t)(UINT32_MAX - 2 + 8 + 5));
	assert_int_equal(wp_ring_count(r), 8);
	assert_int_equal(wp_ring_free_count(r), 0);
	assert_true(wp_ring_full(r));
	wp_ring_free(r);
}

/* Fill to full and drain three times from index start. */
static void fill_and_drain_from(uint32_t size, uint32_t start)
{
	struct wp_ring *r = wp_ring_create(size);
	void *in[64], *out[64];

	assert_non_null(r);
	assert_true(size <= 64);
	assert_int_equal(wp__ring_set_index(r, start), 0);
	for (uint32_t j = 0; j < size; j++)
		in[j] = obj(start + j);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(wp_ring_enqueue_bulk(r, in, size), size);
		assert_true(wp_ring_full(r));
		assert_int_equal(wp_ring_count(r), size);
		assert_int_equal(wp_ring_enqueue_burst(r, in, 1), 0);
		assert_int_equal(wp_ring_dequeue_bulk(r, out, size), size);
		for (uint32_t j = 0; j < size; j++)
			assert_ptr_equal(out[j], in[j]);
		assert_true(wp_ring_empty(r));
		assert_int_equal(wp_ring_free_count(r), size);
	}
	assert_int_equal(atomic_load(&r->prod.head),
			 (uint32_t)(start + 3 * size));
	wp_ring_free(r);
}

/*
 * The free-running indices cross 2^32: every start from 2 * size below the
 * wrap to the wrap itself, so the wrap falls at every point of a fill.
 */
static void wraps_across_index_overflow(void **state)
{
	static const uint32_t sizes[] = { 2, 8, 64 };

	for (size_t i = 0; i < WP_ARRAY_SIZE(sizes); i++)
		for (uint32_t back = 0; back <= 2 * sizes[i]; back++)
			fill_and_drain_from(sizes[i],
					    (uint32_t)(UINT32_MAX - back + 1));
}

/*
 * Random single-thread mix of every operation against a plain array model,
 * from indices just below 2^32, so each operation meets the wrap with the
 * cached views on either side of it.
 */
static void random_ops_match_model(void **state)
{
	enum { SIZE = 16, MAXN = 2 * SIZE + 3, OPS = 200000 };
	struct wp_ring *r = wp_ring_create(SIZE);
	uint32_t seed = 0x9e3779b9;
	uint64_t next_in = 1, next_out = 1;
	void *buf[MAXN];

	assert_non_null(r);
	assert_int_equal(wp__ring_set_index(r, UINT32_MAX - 1000), 0);
	for (int op = 0; op < OPS; op++) {
		uint32_t rnd = xorshift32(&seed);
		uint32_t n = rnd % MAXN;
		uint32_t held = (uint32_t)(next_in - next_out);
		uint32_t want, got;

		switch ((rnd >> 8) % 4) {
		case 0:
			for (uint32_t j = 0; j < n; j++)
				buf[j] = obj(next_in + j);
			want = n <= SIZE - held ? n : 0;
			got = wp_ring_enqueue_bulk(r, buf, n);
			next_in += got;
			break;
		case 1:
			for (uint32_t j = 0; j < n; j++)
				buf[j] = obj(next_in + j);
			want = n <= SIZE - held ? n : SIZE - held;
			got = wp_ring_enqueue_burst(r, buf, n);
			next_in += got;
			break;
		case 2:
			want = n <= held ? n : 0;
			got = wp_ring_dequeue_bulk(r, buf, n);
			for (uint32_t j = 0; j < got; j++)
				assert_int_equal(val(buf[j]), next_out + j);
			next_out += got;
			break;
		default:
			want = n <= held ? n : held;
			got = wp_ring_dequeue_burst(r, buf, n);
			for (uint32_t j = 0; j < got; j++)
				assert_int_equal(val(buf[j]), next_out + j);
			next_out += got;
			break;
		}
		assert_int_equal(got, want);
		assert_int_equal(wp_ring_count(r), next_in - next_out);
		assert_int_equal(wp_ring_free_count(r),
				 SIZE - (next_in - next_out));
	}
	/* The run really crossed the wrap. */
	assert_true(next_out > 1001 + SIZE);
	assert_int_equal(atomic_load(&r->cons.tail),
			 (uint32_t)(UINT32_MAX - 1000 + next_out - 1));
	wp_ring_free(r);
}

/* The allocation failing is reported as ENOMEM and nothing leaks. */
static void create_reports_enomem(void **state)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		/*
		 * Child: cap the address space a little above what is mapped
		 * now (sanitizer shadow included), so that a 2^30-slot ring
		 * (8 GiB of slots) cannot be mapped but a small one can.
		 */
		unsigned long pages = 0;
		FILE *f = fopen("/proc/self/statm", "r");
		struct rlimit rl;
		struct wp_ring *r;

		if (!f || fscanf(f, "%lu", &pages) != 1)
			_exit(10);
		fclose(f);
		rl.rlim_cur = pages * (rlim_t)sysconf(_SC_PAGESIZE) +
			      ((rlim_t)256 << 20);
		rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(11);
		errno = 0;
		r = wp_ring_create(1u << 30);
		if (r || errno != ENOMEM)
			_exit(12);
		r = wp_ring_create(1024);
		if (!r)
			_exit(13);
		wp_ring_free(r);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * Two threads, one producer and one consumer, move a sequence of numbers
 * through the ring in random batch sizes and modes; the consumer checks
 * that every number arrives once and in order. Threads record the first
 * failure instead of asserting (cmocka's failure path is not thread-safe).
 */
struct spsc_run {
	struct wp_ring *r;
	uint64_t total;
	uint32_t max_batch;
	uint32_t seed;
	_Atomic bool done; /* consumer finished */
	_Atomic bool stop; /* a side failed: the other gives up too */
	/* each written by one thread only; read after join */
	const char *prod_err, *cons_err;
	uint64_t full_polls;  /* producer */
	uint64_t empty_polls; /* consumer */
	uint64_t received;    /* consumer */
	uint64_t bad_at;      /* consumer: first wrong number, 0 if none */
	uint64_t bad_value;
};

/* Back off while the other side cannot move: spin briefly, then yield so
 * two threads on a loaded two-core machine still make progress. */
static void spsc_wait(uint32_t *spins)
{
	if (++*spins < 64) {
		wp_cpu_relax();
		return;
	}
	*spins = 0;
	sched_yield();
}

/* Batch sizes mixing singles, small and large batches, and more than the
 * ring holds (bulk never succeeds; burst takes part of it). */
static uint32_t spsc_batch(uint32_t *seed, uint32_t max_batch)
{
	uint32_t rnd = xorshift32(seed);

	switch (rnd & 3) {
	case 0:
		return 1;
	case 1:
		return 1 + (rnd >> 8) % 8;
	default:
		return 1 + (rnd >> 8) % max_batch;
	}
}

static void *spsc_producer(void *arg)
{
	struct spsc_run *run = arg;
	struct wp_ring *r = run->r;
	uint32_t seed = run->seed, spins = 0;
	uint64_t next = 1, end = run->total + 1;
	void *buf[256];

	while (next < end && !atomic_load(&run->stop)) {
		uint32_t n = spsc_batch(&seed, run->max_batch);
		uint32_t mode = xorshift32(&seed) % 3, got, f;

		if (n > end - next)
			n = (uint32_t)(end - next);
		for (uint32_t j = 0; j < n; j++)
			buf[j] = obj(next + j);
		switch (mode) {
		case 0:
			got = wp_ring_enqueue_bulk(r, buf, n);
			if (got != 0 && got != n)
				run->prod_err = "enqueue_bulk moved part";
			break;
		case 1:
			got = wp_ring_enqueue_burst(r, buf, n);
			if (got > n)
				run->prod_err = "enqueue_burst moved too many";
			break;
		default:
			/* The producer's free count is a promise it can keep.
			 */
			f = wp_ring_free_count(r);
			if (f > r->size)
				run->prod_err = "free_count above size";
			if (n > f)
				n = f;
			got = wp_ring_enqueue_bulk(r, buf, n);
			if (got != n)
				run->prod_err = "free_count overstated space";
			break;
		}
		if (run->prod_err) {
			atomic_store(&run->stop, true);
			break;
		}
		next += got;
		if (got == 0) {
			run->full_polls++;
			spsc_wait(&spins);
		}
	}
	return NULL;
}

static void *spsc_consumer(void *arg)
{
	struct spsc_run *run = arg;
	struct wp_ring *r = run->r;
	uint32_t seed = run->seed * 2654435761u + 1, spins = 0;
	uint64_t next = 1, end = run->total + 1;
	void *buf[256];

	while (next < end && !atomic_load(&run->stop)) {
		uint32_t n = spsc_batch(&seed, run->max_batch);
		uint32_t mode = xorshift32(&seed) % 3, got, c;

		switch (mode) {
		case 0:
			got = wp_ring_dequeue_bulk(r, buf, n);
			if (got != 0 && got != n)
				run->cons_err = "dequeue_bulk moved part";
			break;
		case 1:
			got = wp_ring_dequeue_burst(r, buf, n);
			if (got > n)
				run->cons_err = "dequeue_burst moved too many";
			break;
		default:
			/* The consumer's count is a promise it can keep. */
			c = wp_ring_count(r);
			if (c > r->size)
				run->cons_err = "count above size";
			if (n > c)
				n = c;
			got = wp_ring_dequeue_bulk(r, buf, n);
			if (got != n)
				run->cons_err = "count overstated objects";
			break;
		}
		for (uint32_t j = 0; j < got; j++) {
			if (val(buf[j]) != next + j && !run->bad_at) {
				run->bad_at = next + j;
				run->bad_value = val(buf[j]);
			}
		}
		if (run->bad_at || run->cons_err) {
			atomic_store(&run->stop, true);
			break;
		}
		next += got;
		if (got == 0) {
			run->empty_polls++;
			spsc_wait(&spins);
		}
	}
	run->received = next - 1;
	atomic_store_explicit(&run->done, true, memory_order_release);
	return NULL;
}

static void spsc_threads(uint32_t size, uint32_t start, uint64_t total,
			 uint32_t max_batch, uint32_t seed)
{
	struct spsc_run run = {
		.r = wp_ring_create(size),
		.total = total,
		.max_batch = max_batch,
		.seed = seed,
	};
	pthread_t prod, cons;
	uint64_t observed = 0;

	assert_non_null(run.r);
	assert_true(max_batch <= 256);
	assert_int_equal(wp__ring_set_index(run.r, start), 0);
	assert_int_equal(pthread_create(&cons, NULL, spsc_consumer, &run), 0);
	assert_int_equal(pthread_create(&prod, NULL, spsc_producer, &run), 0);
	/* A third thread may read the counts at any time; they stay in range.
	 */
	while (!atomic_load_explicit(&run.done, memory_order_acquire)) {
		uint32_t c = wp_ring_count(run.r);
		uint32_t f = wp_ring_free_count(run.r);

		assert_true(c <= size);
		assert_true(f <= size);
		observed++;
		usleep(1000);
	}
	assert_int_equal(pthread_join(prod, NULL), 0);
	assert_int_equal(pthread_join(cons, NULL), 0);
	if (run.prod_err)
		fail_msg("producer: %s", run.prod_err);
	if (run.cons_err)
		fail_msg("consumer: %s", run.cons_err);
	if (run.bad_at)
		fail_msg("expected %llu, got %llu",
			 (unsigned long long)run.bad_at,
			 (unsigned long long)run.bad_value);
	assert_int_equal(run.received, total);
	assert_true(wp_ring_empty(run.r));
	assert_int_equal(atomic_load(&run.r->prod.head),
			 (uint32_t)(start + total));
	print_message("size %u: %llu objects, %llu full and %llu empty polls, "
		      "%llu observations\n",
		      size, (unsigned long long)total,
		      (unsigned long long)run.full_polls,
		      (unsigned long long)run.empty_polls,
		      (unsigned long long)observed);
	wp_ring_free(run.r);
}

/*
 * A tiny ring: the sides meet full and empty every few objects, so each
 * object costs a cache-line round trip between the cores: fewer objects.
 */
static void threads_small_ring(void **state)
{
	spsc_threads(4, UINT32_MAX - 100, 2 * 1000 * 1000, 6, 1);
}

/* A large ring with large batches, crossing the index wrap. */
static void threads_large_ring(void **state)
{
	spsc_threads(1024, UINT32_MAX - 5000, 30 * 1000 * 1000, 256, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_rejects_invalid_sizes),
		cmocka_unit_test(create_aligned_and_empty),
		cmocka_unit_test(layout_separates_the_sides),
		cmocka_unit_test(capacity_is_size),
		cmocka_unit_test(bulk_is_all_or_nothing),
		cmocka_unit_test(burst_moves_what_fits),
		cmocka_unit_test(null_objects_travel),
		cmocka_unit_test(set_index_needs_empty_ring),
		cmocka_unit_test(counts_clamp_a_torn_view),
		cmocka_unit_test(wraps_across_index_overflow),
		cmocka_unit_test(random_ops_match_model),
		cmocka_unit_test(create_reports_enomem),
		cmocka_unit_test(threads_small_ring),
		cmocka_unit_test(threads_large_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
