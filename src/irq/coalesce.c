// SPDX-License-Identifier: MIT
/*
 * Interrupt moderation: when the NIC raises the RX interrupt.
 *
 * State is the pending batch (count and arrival of its oldest frame);
 * every decision is a function of that, the parameters in force and the
 * injected time, so a simulation replays exactly.
 */
#include "irq/coalesce.h"

#include <errno.h>

#define SAMPLE_NS WP_NSEC_PER_MSEC

/*
 * adaptive-rx: the frame rate measured over the last sample picks a row.
 * Each row bounds the interrupt rate (1 / usecs) at the cost of latency,
 * and only pays that latency where the rate makes it worth it:
 *
 *   rate (frames/s)   rx-usecs in force      why
 *   < 10k             0 (every frame)        <= 10k irq/s is cheap: no tax
 *   < 100k            min(rx-usecs, 20)      <= 50k irq/s, <= 20 us wait
 *   < 400k            rx-usecs               the configured trade-off
 *   >= 400k           max(rx-usecs, 128)     <= 8k irq/s, ~50+ frames per
 *                                            interrupt (igb bulk_latency)
 *
 * The row is taken directly, not stepped towards as DIM does: the sample
 * already averages 1 ms, and a load change should not wait 4 samples.
 * After an idle gap the rate is zero, so the first frame after it gets an
 * immediate interrupt.
 */
enum { LEVEL_LATENCY, LEVEL_LOW, LEVEL_CONFIGURED, LEVEL_BULK, LEVEL__MAX };

static const uint64_t level_max_fps[LEVEL__MAX] = {
	[LEVEL_LATENCY] = 10000,
	[LEVEL_LOW] = 100000,
	[LEVEL_CONFIGURED] = 400000,
	[LEVEL_BULK] = UINT64_MAX,
};

#define LOW_USECS 20u
#define BULK_USECS 128u

static uint32_t level_usecs(const struct wp_coalesce_params *p, uint32_t lvl)
{
	switch (lvl) {
	case LEVEL_LATENCY:
		return 0;
	case LEVEL_LOW:
		return p->rx_usecs < LOW_USECS ? p->rx_usecs : LOW_USECS;
	case LEVEL_BULK:
		return p->rx_usecs > BULK_USECS ? p->rx_usecs : BULK_USECS;
	default:
		return p->rx_usecs;
	}
}

static void apply_level(struct wp_coalesce *c)
{
	c->cur_usecs = c->params.adaptive_rx ? level_usecs(&c->params, c->level)
					     : c->params.rx_usecs;
}

/* Close the sample if 1 ms has passed since it began. */
static void adapt(struct wp_coalesce *c, uint64_t now)
{
	uint64_t elapsed;
	uint32_t lvl = 0;

	if (!c->params.adaptive_rx)
		return;
	if (c->sample_start_ns == WP_TIME_NEVER) {
		c->sample_start_ns = now;
		c->sample_frames = 0;
		return;
	}
	if (now < c->sample_start_ns + SAMPLE_NS)
		return;
	elapsed = now - c->sample_start_ns;
	/* Every frame closes an expired sample, so the counted ones all
	 * came in its first SAMPLE_NS: past 2 * SAMPLE_NS the last full
	 * interval was silent, and the rate now is zero. */
	if (elapsed >= 2 * SAMPLE_NS)
		c->rate_fps = 0;
	else
		c->rate_fps = c->sample_frames * WP_NSEC_PER_SEC / elapsed;
	while (lvl < LEVEL_BULK && c->rate_fps >= level_max_fps[lvl])
		lvl++;
	c->level = lvl;
	apply_level(c);
	c->sample_start_ns = now;
	c->sample_frames = 0;
}

void wp_coalesce_params_default(struct wp_coalesce_params *p)
{
	p->rx_usecs = 50;
	p->rx_frames = 0;
	p->adaptive_rx = false;
}

int wp_coalesce_validate(const struct wp_coalesce_params *p)
{
	if (!p || p->rx_usecs > WP_COALESCE_USECS_MAX ||
	    p->rx_frames > WP_COALESCE_FRAMES_MAX)
		return -EINVAL;
	return 0;
}

void wp_coalesce_init(struct wp_coalesce *c, const struct wp_coalesce_params *p)
{
	*c = (struct wp_coalesce){ 0 };
	c->params = *p;
	if (c->params.rx_usecs > WP_COALESCE_USECS_MAX)
		c->params.rx_usecs = WP_COALESCE_USECS_MAX;
	if (c->params.rx_frames > WP_COALESCE_FRAMES_MAX)
		c->params.rx_frames = WP_COALESCE_FRAMES_MAX;
	c->sample_start_ns = WP_TIME_NEVER;
	c->level = LEVEL_CONFIGURED;
	apply_level(c);
}

int wp_coalesce_set(struct wp_coalesce *c, const struct wp_coalesce_params *p)
{
	int err = wp_coalesce_validate(p);

	if (err)
		return err;
	if (p->adaptive_rx && !c->params.adaptive_rx) {
		/* Start from the configured value; the first full sample
		 * moves it. */
		c->level = LEVEL_CONFIGURED;
		c->sample_start_ns = WP_TIME_NEVER;
	}
	c->params = *p;
	apply_level(c);
	return 0;
}

enum fire { FIRE_NONE, FIRE_IMMEDIATE, FIRE_FRAMES, FIRE_TIMER };

static enum fire due(const struct wp_coalesce *c, uint64_t now)
{
	if (!c->frames_pending)
		return FIRE_NONE;
	if (c->cur_usecs == 0)
		return FIRE_IMMEDIATE;
	if (c->params.rx_frames && c->frames_pending >= c->params.rx_frames)
		return FIRE_FRAMES;
	if (now >= c->first_ns &&
	    now - c->first_ns >= c->cur_usecs * WP_NSEC_PER_USEC)
		return FIRE_TIMER;
	return FIRE_NONE;
}

static bool count(struct wp_coalesce *c, enum fire f)
{
	switch (f) {
	case FIRE_IMMEDIATE:
		c->fired_immediate++;
		return true;
	case FIRE_FRAMES:
		c->fired_frames++;
		return true;
	case FIRE_TIMER:
		c->fired_timer++;
		return true;
	default:
		return false;
	}
}

bool wp_coalesce_frame(struct wp_coalesce *c, uint64_t now)
{
	adapt(c, now);
	c->sample_frames++;
	if (c->frames_pending == 0)
		c->first_ns = now;
	if (c->frames_pending < UINT32_MAX)
		c->frames_pending++;
	return count(c, due(c, now));
}

bool wp_coalesce_timer(struct wp_coalesce *c, uint64_t now)
{
	adapt(c, now);
	return count(c, due(c, now));
}

uint64_t wp_coalesce_deadline(const struct wp_coalesce *c)
{
	if (!c->frames_pending)
		return WP_TIME_NEVER;
	if (c->cur_usecs == 0 ||
	    (c->params.rx_frames && c->frames_pending >= c->params.rx_frames))
		return c->first_ns;
	return c->first_ns + c->cur_usecs * WP_NSEC_PER_USEC;
}

void wp_coalesce_fired(struct wp_coalesce *c, uint64_t now)
{
	(void)now;
	c->frames_pending = 0;
}
