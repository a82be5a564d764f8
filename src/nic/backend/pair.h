/* SPDX-License-Identifier: MIT */
/*
 * The pair backend's wire, for the stack that builds a pair
 * (src/stack/pair.c) and for tests. The public side is
 * include/wirepath/pair.h.
 *
 * A wire has two ends. End 0 is A's NIC: it transmits on the A->B link
 * and receives from the B->A link; end 1 the other way round. Each NIC's
 * backend is attached to its end by passing wp__pair_wire_end() as
 * wp_backend_config.peer.
 */
#ifndef WP_NIC_BACKEND_PAIR_H
#define WP_NIC_BACKEND_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "wirepath/pair.h"

struct wp_pair_wire;

/* 0 or -EINVAL with the knob at fault named in err. */
int wp__pair_link_check(const struct wp_pair_link *link, char *err,
			size_t errlen);

/*
 * Both links, their PRNG streams (seeded from imp->seed) and their
 * buffers: limit slots of frame_max bytes per direction, all allocated
 * here. NULL with errno (EINVAL: a bad knob, message in err; ENOMEM).
 */
struct wp_pair_wire *wp__pair_wire_create(const struct wp_pair_impairments *imp,
					  uint32_t frame_max, char *err,
					  size_t errlen);
/* Frames in flight are discarded. The ends must be detached (their
 * backends closed) first. NULL: no-op. */
void wp__pair_wire_destroy(struct wp_pair_wire *w);

/* End 0 (A) or 1 (B): wp_backend_config.peer for that side's NIC. */
void *wp__pair_wire_end(struct wp_pair_wire *w, unsigned int side);

/* The earliest arrival on either link (WP_TIME_NEVER: nothing in flight). */
uint64_t wp__pair_wire_next(const struct wp_pair_wire *w);

/* As wp_stack_pair_set_link. */
int wp__pair_wire_set_link(struct wp_pair_wire *w, enum wp_pair_dir dir,
			   const struct wp_pair_link *link, char *err,
			   size_t errlen);
void wp__pair_wire_stats(const struct wp_pair_wire *w, enum wp_pair_dir dir,
			 struct wp_pair_stats *st);
uint64_t wp__pair_wire_seed(const struct wp_pair_wire *w);

#endif
