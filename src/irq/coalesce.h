/* SPDX-License-Identifier: MIT */
/*
 * Interrupt moderation, as the NIC does it and `ethtool -C` sets it.
 *
 * rx-usecs: the longest a received frame may wait before its interrupt.
 * rx-frames: fire as soon as this many frames are waiting.
 * Fire when either is reached; 0 disables that trigger; both 0, or
 * rx-usecs 0, means fire on every frame (`rx-usecs 0 rx-frames 1`).
 *
 * adaptive-rx (Linux DIM-like): every sampling interval (1 ms of the
 * injected time) the moderation looks at the frame rate and moves rx-usecs
 * between a low-latency value at low rates and a high-throughput value at
 * high rates (the table is in coalesce.c).
 *
 * Use: on each frame the NIC calls wp_coalesce_frame(); between frames it
 * arms a timer at wp_coalesce_deadline() and calls wp_coalesce_timer()
 * when it expires. Whenever either returns true the NIC raises the vector
 * and calls wp_coalesce_fired(). Each true is counted once, under the
 * trigger that made it.
 *
 * Pure logic on injected time: the NIC model calls it; tests drive it.
 */
#ifndef WP_IRQ_COALESCE_H
#define WP_IRQ_COALESCE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"

#define WP_COALESCE_USECS_MAX 8192
#define WP_COALESCE_FRAMES_MAX 65535

struct wp_coalesce_params {
	uint32_t rx_usecs;    /* default 50: the seed's "50 us tax" */
	uint32_t rx_frames;   /* default 0 (time only) */
	bool adaptive_rx;
};

struct wp_coalesce {
	struct wp_coalesce_params params;
	uint32_t cur_usecs;      /* in force now (differs when adaptive) */
	uint32_t frames_pending; /* frames since the last interrupt */
	uint64_t first_ns;       /* arrival of the oldest pending frame */
	/* adaptive sampling */
	uint64_t sample_start_ns;    /* WP_TIME_NEVER before the first frame */
	uint64_t sample_frames;
	uint64_t rate_fps;           /* frames/s measured by the last sample */
	uint32_t level;              /* adaptive row in force (coalesce.c) */
	/* counters */
	uint64_t fired_frames;   /* interrupts fired by the frame count */
	uint64_t fired_timer;    /* interrupts fired by the timer */
	uint64_t fired_immediate;/* rx-usecs 0: per frame */
};

/* rx-usecs 50, rx-frames 0, adaptive off. */
void wp_coalesce_params_default(struct wp_coalesce_params *p);

/* Refuses out-of-range values with -EINVAL; nothing changes then. */
int wp_coalesce_validate(const struct wp_coalesce_params *p);

/* Values out of range are clamped: validate first to refuse them. */
void wp_coalesce_init(struct wp_coalesce *c, const struct wp_coalesce_params *p);

/*
 * Apply new parameters (ethtool -C): pending frames keep their arrival time
 * and are judged by the new values: frames that now meet a trigger are due
 * at once (wp_coalesce_deadline() returns their arrival, and
 * wp_coalesce_timer() fires them). -EINVAL: nothing changes.
 */
int wp_coalesce_set(struct wp_coalesce *c, const struct wp_coalesce_params *p);

/* A frame was written to the ring at `now`: true if the interrupt must fire now. */
bool wp_coalesce_frame(struct wp_coalesce *c, uint64_t now);

/* Time passed: true if the pending frames are due (their timer expired, or
 * new parameters or an adaptive step made them due). */
bool wp_coalesce_timer(struct wp_coalesce *c, uint64_t now);

/* When the pending timer expires; WP_TIME_NEVER if nothing is pending. */
uint64_t wp_coalesce_deadline(const struct wp_coalesce *c);

/* The interrupt fired: pending frames are handed to the driver. */
void wp_coalesce_fired(struct wp_coalesce *c, uint64_t now);

#endif
