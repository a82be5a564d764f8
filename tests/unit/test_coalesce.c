// SPDX-License-Identifier: MIT
/* Interrupt moderation on virtual time: every trigger, every knob. */
#include "test_core_common.h"

#include <errno.h>
#include <string.h>

#include "irq/coalesce.h"

#define US WP_NSEC_PER_USEC
#define MS WP_NSEC_PER_MSEC
#define T0 (1000 * MS) /* virtual time does not start at 0 */

static struct wp_coalesce make(uint32_t usecs, uint32_t frames, bool adaptive)
{
	struct wp_coalesce_params p = { usecs, frames, adaptive };
	struct wp_coalesce c;

	assert_int_equal(wp_coalesce_validate(&p), 0);
	wp_coalesce_init(&c, &p);
	return c;
}

static void defaults_are_linux_like(void **state)
{
	struct wp_coalesce_params p;
	struct wp_coalesce c;

	memset(&p, 0xff, sizeof(p));
	wp_coalesce_params_default(&p);
	assert_int_equal(p.rx_usecs, 50);
	assert_int_equal(p.rx_frames, 0);
	assert_false(p.adaptive_rx);
	wp_coalesce_init(&c, &p);
	assert_int_equal(c.cur_usecs, 50);
	assert_int_equal(c.frames_pending, 0);
	assert_true(wp_coalesce_deadline(&c) == WP_TIME_NEVER);
	assert_false(wp_coalesce_timer(&c, T0));
}

static void rx_usecs_only(void **state)
{
	struct wp_coalesce c = make(50, 0, false);

	assert_false(wp_coalesce_frame(&c, T0));
	assert_false(wp_coalesce_frame(&c, T0 + 10 * US));
	/* The oldest frame sets the deadline, not the newest. */
	assert_true(wp_coalesce_deadline(&c) == T0 + 50 * US);
	for (int i = 0; i < 1000; i++)
		assert_false(wp_coalesce_frame(&c, T0 + 20 * US));
	assert_false(wp_coalesce_timer(&c, T0 + 50 * US - 1));
	assert_true(wp_coalesce_timer(&c, T0 + 50 * US));
	assert_int_equal(c.fired_timer, 1);
	assert_int_equal(c.fired_frames + c.fired_immediate, 0);
	wp_coalesce_fired(&c, T0 + 50 * US);
	assert_int_equal(c.frames_pending, 0);
	assert_true(wp_coalesce_deadline(&c) == WP_TIME_NEVER);
	assert_false(wp_coalesce_timer(&c, T0 + 500 * US));

	/* The next batch starts its own clock. */
	assert_false(wp_coalesce_frame(&c, T0 + 600 * US));
	assert_true(wp_coalesce_deadline(&c) == T0 + 650 * US);
	/* A frame that comes after a missed deadline fires by the timer. */
	assert_true(wp_coalesce_frame(&c, T0 + 700 * US));
	assert_int_equal(c.fired_timer, 2);
}

static void rx_frames_only(void **state)
{
	/* rx-usecs at its maximum: in practice only the count fires. */
	struct wp_coalesce c = make(WP_COALESCE_USECS_MAX, 4, false);

	for (int batch = 0; batch < 3; batch++) {
		uint64_t t = T0 + (uint64_t)batch * MS;

		assert_false(wp_coalesce_frame(&c, t));
		assert_false(wp_coalesce_frame(&c, t + 1 * US));
		assert_false(wp_coalesce_frame(&c, t + 2 * US));
		assert_true(wp_coalesce_deadline(&c) ==
			    t + WP_COALESCE_USECS_MAX * US);
		assert_true(wp_coalesce_frame(&c, t + 3 * US));
		wp_coalesce_fired(&c, t + 3 * US);
	}
	assert_int_equal(c.fired_frames, 3);
	assert_int_equal(c.fired_timer + c.fired_immediate, 0);
}

static void both_whichever_first(void **state)
{
	struct wp_coalesce c = make(100, 8, false);

	/* 8 frames inside 100 us: the count wins. */
	for (int i = 0; i < 7; i++)
		assert_false(wp_coalesce_frame(&c, T0 + (uint64_t)i * US));
	assert_true(wp_coalesce_frame(&c, T0 + 7 * US));
	wp_coalesce_fired(&c, T0 + 7 * US);
	assert_int_equal(c.fired_frames, 1);

	/* 3 frames, then silence: the timer wins. */
	for (int i = 0; i < 3; i++)
		assert_false(wp_coalesce_frame(&c, T0 + MS + (uint64_t)i * US));
	assert_true(wp_coalesce_deadline(&c) == T0 + MS + 100 * US);
	assert_false(wp_coalesce_timer(&c, T0 + MS + 99 * US));
	assert_true(wp_coalesce_timer(&c, T0 + MS + 100 * US));
	wp_coalesce_fired(&c, T0 + MS + 100 * US);
	assert_int_equal(c.fired_timer, 1);
	assert_int_equal(c.fired_frames, 1);
}

static void usecs0_frames1_every_frame(void **state)
{
	struct wp_coalesce c = make(0, 1, false);

	for (int i = 0; i < 10; i++) {
		assert_true(wp_coalesce_frame(&c, T0 + (uint64_t)i));
		wp_coalesce_fired(&c, T0 + (uint64_t)i);
	}
	assert_int_equal(c.fired_immediate, 10);
	assert_int_equal(c.fired_frames + c.fired_timer, 0);
}

static void both_zero_every_frame(void **state)
{
	struct wp_coalesce c = make(0, 0, false);

	for (int i = 0; i < 5; i++) {
		assert_true(wp_coalesce_frame(&c, T0));
		wp_coalesce_fired(&c, T0);
	}
	assert_int_equal(c.fired_immediate, 5);
	/* rx-usecs 0 with a frame count still fires per frame. */
	c = make(0, 16, false);
	assert_true(wp_coalesce_frame(&c, T0));
	assert_int_equal(c.fired_immediate, 1);
}

static void params_are_validated(void **state)
{
	struct wp_coalesce c = make(50, 0, false);
	struct wp_coalesce before;
	struct wp_coalesce_params bad[] = {
		{ WP_COALESCE_USECS_MAX + 1, 0, false },
		{ 10, WP_COALESCE_FRAMES_MAX + 1, false },
		{ UINT32_MAX, UINT32_MAX, true },
	};
	struct wp_coalesce_params edge = { WP_COALESCE_USECS_MAX,
					   WP_COALESCE_FRAMES_MAX, false };

	assert_int_equal(wp_coalesce_validate(NULL), -EINVAL);
	assert_int_equal(wp_coalesce_validate(&edge), 0);
	assert_false(wp_coalesce_frame(&c, T0));
	before = c;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(wp_coalesce_validate(&bad[i]), -EINVAL);
		assert_int_equal(wp_coalesce_set(&c, &bad[i]), -EINVAL);
		assert_memory_equal(&c, &before, sizeof(c));
	}
	assert_int_equal(wp_coalesce_set(&c, NULL), -EINVAL);
	assert_memory_equal(&c, &before, sizeof(c));
	assert_int_equal(wp_coalesce_set(&c, &edge), 0);
	assert_int_equal(c.cur_usecs, WP_COALESCE_USECS_MAX);

	/* init cannot refuse: it clamps. */
	wp_coalesce_init(&c, &bad[2]);
	assert_int_equal(c.params.rx_usecs, WP_COALESCE_USECS_MAX);
	assert_int_equal(c.params.rx_frames, WP_COALESCE_FRAMES_MAX);
}

static void set_while_frames_pending(void **state)
{
	struct wp_coalesce c = make(100, 0, false);
	struct wp_coalesce_params p = { 20, 0, false };

	/* Shorter rx-usecs: the pending frames keep their arrival time. */
	assert_false(wp_coalesce_frame(&c, T0));
	assert_false(wp_coalesce_frame(&c, T0 + 5 * US));
	assert_false(wp_coalesce_frame(&c, T0 + 10 * US));
	assert_int_equal(wp_coalesce_set(&c, &p), 0);
	assert_int_equal(c.frames_pending, 3);
	assert_true(wp_coalesce_deadline(&c) == T0 + 20 * US);
	assert_false(wp_coalesce_timer(&c, T0 + 19 * US));
	assert_true(wp_coalesce_timer(&c, T0 + 20 * US));
	wp_coalesce_fired(&c, T0 + 20 * US);
	assert_int_equal(c.fired_timer, 1);

	/* A frame count already met: due at once. */
	for (int i = 0; i < 3; i++)
		assert_false(wp_coalesce_frame(&c, T0 + MS + (uint64_t)i));
	p = (struct wp_coalesce_params){ 1000, 2, false };
	assert_int_equal(wp_coalesce_set(&c, &p), 0);
	assert_true(wp_coalesce_deadline(&c) == T0 + MS);
	assert_true(wp_coalesce_timer(&c, T0 + MS + 3));
	wp_coalesce_fired(&c, T0 + MS + 3);
	assert_int_equal(c.fired_frames, 1);

	/* rx-usecs 0 while frames wait: they go now. */
	assert_false(wp_coalesce_frame(&c, T0 + 2 * MS));
	p = (struct wp_coalesce_params){ 0, 0, false };
	assert_int_equal(wp_coalesce_set(&c, &p), 0);
	assert_true(wp_coalesce_deadline(&c) == T0 + 2 * MS);
	assert_true(wp_coalesce_timer(&c, T0 + 2 * MS));
	assert_int_equal(c.fired_immediate, 1);

	/* Longer rx-usecs: the deadline moves out with it. */
	wp_coalesce_fired(&c, T0 + 2 * MS);
	p = (struct wp_coalesce_params){ 10, 0, false };
	assert_int_equal(wp_coalesce_set(&c, &p), 0);
	assert_false(wp_coalesce_frame(&c, T0 + 3 * MS));
	p.rx_usecs = 300;
	assert_int_equal(wp_coalesce_set(&c, &p), 0);
	assert_false(wp_coalesce_timer(&c, T0 + 3 * MS + 10 * US));
	assert_true(wp_coalesce_deadline(&c) == T0 + 3 * MS + 300 * US);
}

/*
 * Feed `n` frames, one every `period` ns from `*t`, as a NIC would: fire
 * the timer at its deadline when one passes between frames, and hand
 * every interrupt to the driver. Returns interrupts fired.
 */
static uint64_t feed(struct wp_coalesce *c, uint64_t *t, uint64_t period,
		     uint64_t n)
{
	uint64_t irqs = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t d = wp_coalesce_deadline(c);

		if (d <= *t && wp_coalesce_timer(c, d)) {
			wp_coalesce_fired(c, d);
			irqs++;
		}
		if (wp_coalesce_frame(c, *t)) {
			wp_coalesce_fired(c, *t);
			irqs++;
		}
		*t += period;
	}
	return irqs;
}

static void adaptive_follows_the_rate(void **state)
{
	struct wp_coalesce c = make(50, 0, true);
	uint64_t t = T0;
	uint64_t irqs;

	/* Until a sample completes, the configured value is in force. */
	assert_int_equal(c.cur_usecs, 50);
	feed(&c, &t, 500 * US, 4); /* 2 kpps */
	assert_int_equal(c.cur_usecs, 0);
	assert_true(c.rate_fps < 10000);
	irqs = c.fired_immediate;
	feed(&c, &t, 500 * US, 10);
	assert_int_equal(c.fired_immediate - irqs, 10);

	feed(&c, &t, 20 * US, 200); /* 50 kpps */
	assert_int_equal(c.cur_usecs, 20);

	feed(&c, &t, 5 * US, 1000); /* 200 kpps */
	assert_int_equal(c.cur_usecs, 50);

	feed(&c, &t, 1 * US, 3000); /* 1 Mpps */
	assert_int_equal(c.cur_usecs, 128);
	assert_true(c.rate_fps >= 400000);
	/* At 1 Mpps and 128 us, interrupts carry ~128 frames each. */
	irqs = c.fired_timer;
	feed(&c, &t, 1 * US, 12800);
	assert_in_range(c.fired_timer - irqs, 95, 105);

	/* Idle: the first frame after a gap is not taxed. */
	t += 50 * MS;
	assert_true(wp_coalesce_frame(&c, t));
	assert_int_equal(c.cur_usecs, 0);
	wp_coalesce_fired(&c, t);

	/* A high configured value is kept for bulk, and capped for low. */
	c = make(200, 0, true);
	t = T0;
	feed(&c, &t, 1 * US, 3000);
	assert_int_equal(c.cur_usecs, 200);
	feed(&c, &t, 20 * US, 200);
	assert_int_equal(c.cur_usecs, 20);
}

static void adaptive_toggle_and_frames(void **state)
{
	struct wp_coalesce c = make(50, 0, false);
	struct wp_coalesce_params p = { 50, 0, true };
	uint64_t t = T0;

	/* Not adaptive: the rate changes nothing. */
	feed(&c, &t, 500 * US, 10);
	assert_int_equal(c.cur_usecs, 50);

	assert_int_equal(wp_coalesce_set(&c, &p), 0);
	assert_int_equal(c.cur_usecs, 50);
	feed(&c, &t, 500 * US, 5);
	assert_int_equal(c.cur_usecs, 0);

	/* Off again: back to the configured value at once. */
	p.adaptive_rx = false;
	p.rx_usecs = 30;
	assert_int_equal(wp_coalesce_set(&c, &p), 0);
	assert_int_equal(c.cur_usecs, 30);

	/* rx-frames still fires early under adaptive bulk. */
	p = (struct wp_coalesce_params){ 50, 32, true };
	assert_int_equal(wp_coalesce_set(&c, &p), 0);
	feed(&c, &t, 1 * US, 3000);
	assert_int_equal(c.cur_usecs, 128);
	assert_true(c.fired_frames > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_are_linux_like),
		cmocka_unit_test(rx_usecs_only),
		cmocka_unit_test(rx_frames_only),
		cmocka_unit_test(both_whichever_first),
		cmocka_unit_test(usecs0_frames1_every_frame),
		cmocka_unit_test(both_zero_every_frame),
		cmocka_unit_test(params_are_validated),
		cmocka_unit_test(set_while_frames_pending),
		cmocka_unit_test(adaptive_follows_the_rate),
		cmocka_unit_test(adaptive_toggle_and_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
