/* SPDX-License-Identifier: MIT */
/*
 * The afxdp backend's internals that tests look at: how the UMEM is cut
 * up for a NIC, and the mode a backend obtained. Not part of the backend
 * contract (backend.h).
 */
#ifndef WP_NIC_BACKEND_AFXDP_H
#define WP_NIC_BACKEND_AFXDP_H

#include <stdint.h>

#include "nic/backend/backend.h"

/* The largest MTU a 4 KiB frame carries: frame - XDP headroom - one
 * 802.1Q-tagged Ethernet header. AF_XDP frames are at most a page. */
#define WP_AFXDP_MTU_MAX (4096 - 256 - 18)

/*
 * One queue's UMEM, in frames of frame_size bytes:
 *
 *   [0, pool_frames)                 RX frames: the NIC queue's buffer pool
 *                                    (wp_pool_create_ext); fill_frames of
 *                                    them are the firmware's at any time
 *                                    (given to the kernel via the fill ring)
 *   [pool_frames, umem_frames)       TX frames: the firmware copies each
 *                                    frame to send into one of these
 *
 * Ring sizes are powers of two: fill = rx = fill_frames, tx = completion
 * = tx_frames, so a ring can always take every frame that may be on it.
 */
struct wp__afxdp_geom {
	uint32_t frame_size;  /* 2048, or 4096 for an MTU over 1774 */
	uint32_t mtu;	      /* what the NIC may use (<= the one asked) */
	uint32_t fill_frames; /* fill and RX ring size */
	uint32_t tx_frames;   /* TX and completion ring size */
	uint32_t pool_frames; /* the NIC's pool plus fill_frames */
	uint32_t umem_frames; /* pool_frames + tx_frames */
};

/*
 * The geometry for a NIC with this MTU, ring sizes and pool (its buffer
 * count). An MTU above WP_AFXDP_MTU_MAX is lowered to it. 0, or -EINVAL
 * for rings of 0 or a UMEM over 4 GiB.
 */
int wp__afxdp_geometry(uint32_t mtu, uint32_t rx_ring, uint32_t tx_ring,
		       uint32_t pool_bufs, struct wp__afxdp_geom *g);

/* "xdp-native zerocopy", "xdp-native copy" or "xdp-generic copy" once
 * open; NULL for a backend that is not an open afxdp one. */
const char *wp__afxdp_mode(const struct wp_backend *be);

#endif
