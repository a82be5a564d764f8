/* SPDX-License-Identifier: MIT */
/*
 * The NIC model: what a driver sees of a multi-queue Ethernet adapter
 * (Linux igb/ixgbe), with a backend playing the part of its firmware.
 *
 * RX, per queue: a ring of descriptors {addr, len, status, rss_hash} and
 * two registers. The driver gives descriptors to the NIC by filling `addr`
 * with a pool buffer and advancing the tail register (RDT). The firmware
 * writes a frame into the buffer at the next descriptor the NIC owns (the
 * DMA), stores len and hash, then sets DD|EOP in status with release
 * order, advances the head register (RDH) and tells interrupt moderation.
 * No descriptor owned by the NIC: the frame is dropped and counted in
 * rx_missed_errors, and the vector is raised at once (a receiver-overrun
 * interrupt: a driver whose refill found the pool empty learns that the
 * ring ran dry). The wire never waits.
 *
 * The driver's poll (wp_nic_napi_poll, igb_poll) reads status with
 * acquire order; DD set: builds an skb around the buffer (no copy),
 * refills the descriptor with a fresh buffer, hands the skb to NAPI; at
 * the end writes the tail register once for the whole batch.
 *
 * TX, per queue: the driver writes descriptors {addr,len,cmd} pointing at
 * skb data, then rings the doorbell (a TDT write plus the backend's kick,
 * batched with xmit_more). The firmware sends frames from TDH up to TDT,
 * sets DD on each, and raises the queue's vector. Cleaning (igb_clean_tx_irq)
 * happens in the NAPI poll: DD descriptors give their skbs back.
 *
 * RSS: Toeplitz hash of the IPv4 addresses (and TCP/UDP ports) with a
 * 40-byte key, low 7 bits index a 128-entry indirection table that names
 * the queue (src/nic/rss.h).
 *
 * Threads: firmware calls (wp_nic_rx_*, wp_nic_tx_fw_*, wp_nic_coalesce_tick)
 * come from the backend's thread (one RX firmware thread per NIC; TX
 * firmware may run on it or inside tx_kick on the queue's cpu); driver
 * calls from the queue's cpu. Firmware may instead run one thread per
 * queue if each touches only its own queue: wp_nic_rx_slot/commit/abort/
 * missed, wp_nic_coalesce_tick_queue and wp_nic_tx_fw_* on q (never
 * wp_nic_rx_frame, whose RSS picks the queue, nor wp_nic_coalesce_tick). Ring-size and queue-count changes stop the
 * queue (napi_disable, firmware quiesced), rebuild it and restart it;
 * frames arriving meanwhile are dropped and counted (rx_missed_errors),
 * as an ifdown/ifup would. Frames already in the ring when it stops are
 * discarded and counted there too, so every frame offered to the NIC is
 * received, counted missed or counted as a length error.
 *
 * Quiescing uses one handshake everywhere: each side that touches a
 * stopped queue (firmware DMA, firmware TX, xmit) stores its busy flag
 * then loads `up`; the control path stores `up = false` then waits for
 * the busy flags to clear. All four accesses are seq_cst, so either the
 * worker sees the queue down or the control path sees it busy.
 *
 * Each RX queue has its own buffer pool, owned by the queue's core thread
 * (the control thread until one runs; the first poll on a new core
 * thread takes it over). A rebuild touches the pool's free lists only
 * where no core thread runs for the queue; otherwise it just returns the
 * buffers and the queue's first poll after the restart grows the pool if
 * needed and refills the ring (the vector is raised to bring that poll).
 *
 * Registers hold free-running 32-bit descriptor counts (slot = value &
 * mask), so the NIC may own all `size` descriptors: RDT - RDH of them.
 * (Real hardware keeps one descriptor back to tell full from empty;
 * free-running counters do not need to.)
 */
#ifndef WP_NIC_NIC_H
#define WP_NIC_NIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "irq/coalesce.h"
#include "irq/irq.h"
#include "napi/napi.h"
#include "nic/rss.h"
#include "skb/pool.h"
#include "trace/trace.h"

#define WP_NIC_MAX_QUEUES 16
#define WP_RING_MIN 64
#define WP_RING_MAX 4096
#define WP_RING_DEFAULT 512
#define WP_ETH_HLEN 14
#define WP_ETH_VLAN_HLEN 4
#define WP_MTU_DEFAULT 1500
#define WP_MTU_MIN 68
#define WP_MTU_MAX 9000

/* RX descriptor status bits (igb's E1000_RXD_STAT_* and error bits). */
enum {
	WP_RXD_STAT_DD = 1u << 0,   /* descriptor done: written by the NIC */
	WP_RXD_STAT_EOP = 1u << 1,  /* end of packet */
	WP_RXD_STAT_RSS = 1u << 2,  /* rss_hash valid */
	WP_RXD_STAT_L4 = 1u << 3,   /* hash covers ports */
	WP_RXD_ERR_FRAME = 1u << 8, /* frame error reported by the backend */
};

struct wp_rx_desc {
	uint64_t addr;              /* buffer (virtual address: our "DMA") */
	uint16_t len;               /* bytes written */
	_Atomic uint16_t status;    /* DD last, with release order */
	uint32_t rss_hash;
	uint64_t tstamp;            /* DMA time, ns (hardware RX timestamp) */
};

enum {
	WP_TXD_CMD_EOP = 1u << 0,
	WP_TXD_CMD_RS = 1u << 1,    /* report status: set DD when sent */
	WP_TXD_STAT_DD = 1u << 0,
};

struct wp_tx_desc {
	uint64_t addr;
	uint16_t len;
	uint16_t cmd;
	_Atomic uint16_t status;
	uint16_t rsvd;
};

/* ethtool -S per queue (rx_queue_N_*, tx_queue_N_*). */
struct wp_rxq_stats {
	uint64_t packets, bytes;
	uint64_t missed;            /* no descriptor: rx_missed_errors */
	uint64_t length_errors;     /* runt or over MTU: rx_length_errors */
	uint64_t desc_errors;       /* ERR bit from the firmware */
	uint64_t alloc_failed;      /* refill found the pool empty */
	uint64_t irqs;              /* interrupts raised by this queue */
	uint64_t polls;
};

struct wp_txq_stats {
	uint64_t packets, bytes;
	uint64_t busy;              /* ring full on xmit: tx_busy */
	uint64_t doorbells;         /* tail writes that kicked the firmware */
	uint64_t cleaned;           /* descriptors reclaimed */
	uint64_t dropped;           /* queue down, bad length, or discarded
				     * unsent when the ring was rebuilt */
};

struct wp_nic;

struct wp_rx_queue {
	struct wp_nic *nic;
	uint16_t index;
	/* registers: rdh written by firmware, rdt by driver */
	_Atomic uint32_t rdh wp_cacheline_aligned;
	_Atomic uint32_t rdt wp_cacheline_aligned;
	/* firmware-private */
	struct wp_coalesce coal wp_cacheline_aligned;
	uint64_t coal_deadline;      /* cached wp_coalesce_deadline */
	_Atomic bool fw_busy;        /* firmware inside a DMA (resize handshake) */
	bool fw_slot_open;           /* wp_nic_rx_slot .. commit/abort */
	/* ethtool -C mailbox: packed params, applied by the firmware at its
	 * next DMA or tick (an ITR register write); 0 = nothing new */
	_Atomic uint64_t coal_req;
	/* driver-private */
	struct wp_rx_desc *ring wp_cacheline_aligned;
	void **bufs;                 /* buffer per slot (igb rx_buffer_info) */
	uint32_t size, mask;
	uint32_t next_to_clean;
	uint32_t next_to_use;        /* next slot to refill */
	struct wp_pool *pool;
	struct wp_napi napi;
	struct wp_irq_vector *irq;
	pthread_t pool_owner;        /* thread the pool was last handed to */
	uint32_t grow_pending;       /* buffers the next poll adds to the pool */
	uint64_t irq_ns;             /* last top half, while tracing (src/trace) */
	_Atomic bool up;
	struct wp_rxq_stats stats;   /* firmware fields: missed, length_errors */
};

struct wp_tx_queue {
	struct wp_nic *nic;
	uint16_t index;
	_Atomic uint32_t tdh wp_cacheline_aligned;   /* firmware */
	_Atomic uint32_t tdt wp_cacheline_aligned;   /* driver */
	_Atomic bool fw_busy;        /* firmware between tx_fw_next and done */
	bool fw_open;                /* firmware-private: a descriptor is out */
	_Atomic bool drv_busy;       /* driver inside xmit/doorbell */
	_Atomic bool up;
	struct wp_tx_desc *ring wp_cacheline_aligned;
	struct wp_skb **skbs;        /* skb per slot, freed on clean */
	uint32_t size, mask;
	uint32_t next_to_use;        /* driver: next free slot */
	uint32_t next_to_clean;      /* driver: oldest not reclaimed */
	uint32_t pending_doorbell;   /* descriptors written since last tail write */
	struct wp_txq_stats stats;
};

struct wp_backend;

struct wp_nic_config {
	const char *name;            /* "wp0" */
	uint16_t nqueues;            /* 1..WP_NIC_MAX_QUEUES */
	uint32_t rx_ring_size;       /* power of two in [WP_RING_MIN, WP_RING_MAX] */
	uint32_t tx_ring_size;
	uint32_t mtu;
	uint8_t mac[6];
	struct wp_coalesce_params coalesce;
	uint32_t pool_bufs;          /* per queue; 0: 2 * rx + tx ring sizes */
};

/* NIC-wide statistics, ethtool -S names. */
struct wp_nic_stats {
	uint64_t rx_packets, rx_bytes, rx_missed_errors, rx_length_errors;
	uint64_t rx_errors, rx_alloc_failed;
	uint64_t tx_packets, tx_bytes, tx_busy, tx_dropped;
	/* GRO (mlx5's names): skbs of 2+ segments handed up, their segments
	 * and those segments' bytes. Reset when a queue's rings are rebuilt
	 * (ethtool -G), as igb's ring counters are. */
	uint64_t rx_gro_skbs, rx_gro_packets, rx_gro_bytes;
};

struct wp_nic {
	char name[16];
	struct wp_nic_config cfg;
	struct wp_clock *clock;
	struct wp_irq_table *irqs;
	struct wp_cpu **cpus;
	uint32_t ncpus;
	struct wp_backend *backend;  /* the firmware; NULL in unit tests */
	struct wp_rss rss;
	bool gro;                    /* NETIF_F_GRO (ethtool -K gro) */
	uint16_t nqueues;            /* active (-L); cfg.nqueues: created */
	bool down;                   /* wp_nic_down: control path only */
	struct wp_rx_queue rxq[WP_NIC_MAX_QUEUES];
	struct wp_tx_queue txq[WP_NIC_MAX_QUEUES];
	struct wp_trace *trace;      /* sampling and taps; NULL: none. Set
				      * before the queues run, never after */
	wp_rx_handler_t rx_handler;  /* what NAPI hands packets to */
	void *rx_ctx;
};

/* --- lifetime (control path) ------------------------------------------ */

/* Validates everything first: -EINVAL and nothing allocated on a bad value. */
int wp_nic_config_validate(const struct wp_nic_config *cfg);
void wp_nic_config_default(struct wp_nic_config *cfg);

/*
 * Create the queues, pools, vectors (one per queue pair, bound to
 * cpus[q % ncpus]) and NAPIs; fill every RX descriptor. Packets handed up
 * go to rx_handler(ctx, napi, list). NULL with errno on failure.
 */
struct wp_nic *wp_nic_create(const struct wp_nic_config *cfg,
			     struct wp_clock *clock, struct wp_irq_table *irqs,
			     struct wp_cpu **cpus, uint32_t ncpus,
			     wp_rx_handler_t rx_handler, void *rx_ctx);
/*
 * Frees everything; every pool is whole again afterwards. A pool that is
 * not (an skb from it is still held somewhere) is reported on stderr and
 * left allocated rather than freed under its holder. NULL: no-op.
 */
void wp_nic_destroy(struct wp_nic *nic);

/*
 * ip link set down / up (igb_close / igb_open): stop every active queue,
 * discard what is in the rings (counted as missed or tx_dropped) and give
 * every RX buffer back to its pool; up refills the rings and restarts the
 * active queues. After down, wp_pool_is_whole() holds for every queue's
 * pool once the upper layers let go of their skbs. Control path.
 * down twice or up twice: no-op.
 */
void wp_nic_down(struct wp_nic *nic);
int wp_nic_up(struct wp_nic *nic);

/* --- ethtool ops (control path; the queue is stopped and restarted) ---- */

int wp_nic_set_ringparam(struct wp_nic *nic, uint32_t rx, uint32_t tx); /* -G */
int wp_nic_set_coalesce(struct wp_nic *nic, const struct wp_coalesce_params *p); /* -C */
void wp_nic_get_coalesce(const struct wp_nic *nic, struct wp_coalesce_params *p); /* -c */
/* -L combined N: 1..created queues. RSS becomes `equal n`; queues from n
 * up stop (NAPI disabled, vector masked, rings emptied) and no frame is
 * steered to them. */
int wp_nic_set_channels(struct wp_nic *nic, uint16_t n);
/* -X equal N: 1..active queues. */
int wp_nic_set_rxfh_equal(struct wp_nic *nic, uint16_t n);
/*
 * ethtool -K gro on|off (generic-receive-offload, NETIF_F_GRO): whether
 * each queue's NAPI merges TCP segments (napi/gro.h). Live, as on Linux:
 * a poll running meanwhile sees it at its next packet, and nothing stays
 * held past that poll. On at creation. Control path.
 */
void wp_nic_set_gro(struct wp_nic *nic, bool on);
bool wp_nic_get_gro(const struct wp_nic *nic); /* -k */
/*
 * Give RX queue q another buffer pool: a backend whose wire owns the
 * memory (AF_XDP: a pool over its UMEM, wp_pool_create_ext). The queue
 * pair is stopped; what the rings hold is discarded as an ifdown would
 * (counted), the RX buffers go back to the pool they came from, the ring
 * is refilled from `pool`, and the queue restarts. The old pool is
 * returned in *old, untouched otherwise: the caller puts it back the same
 * way before destroying `pool`. The TX path allocates from the same pool
 * (the queue's core thread does). Control path, with no core thread
 * running for q (the pool changes owner): -EBUSY otherwise; -EINVAL for
 * no such queue, a NULL pool or buffers too small for the MTU.
 */
int wp_nic_set_rx_pool(struct wp_nic *nic, uint16_t q, struct wp_pool *pool,
		       struct wp_pool **old);
void wp_nic_get_stats(const struct wp_nic *nic, struct wp_nic_stats *st);
/* ethtool -S: "     rx_packets: 123" lines, NIC-wide then per queue. */
void wp_nic_print_stats(const struct wp_nic *nic, FILE *out);

/* --- firmware side (backend thread) ------------------------------------ */

/*
 * DMA one frame: RSS picks the queue, the frame is copied into the next
 * NIC-owned buffer, DD set, moderation consulted (may raise the IRQ).
 * Returns the queue used, or a negative errno: -ENOBUFS (ring full,
 * rx_missed_errors), -EMSGSIZE (runt or over MTU, rx_length_errors),
 * -ENETDOWN (queue stopped, counted as missed).
 */
int wp_nic_rx_frame(struct wp_nic *nic, const void *frame, uint32_t len,
		    uint64_t now);

/*
 * Two-phase DMA for firmware that writes in place (TAP read()s straight
 * into the buffer): the buffer of queue q's next NIC-owned descriptor and
 * its room, or NULL (missed is counted only by wp_nic_rx_missed()).
 * A slot holds the queue busy (a resize waits for it): every non-NULL
 * slot is followed by wp_nic_rx_commit() or wp_nic_rx_abort().
 */
void *wp_nic_rx_slot(struct wp_nic *nic, uint16_t q, uint32_t *room);
/*
 * Complete the slot: len bytes written; hash 0 = compute it here.
 * err_bits (WP_RXD_ERR_*) go into the status, and the driver drops the
 * frame. Returns q, -EMSGSIZE (runt or over MTU: rx_length_errors, the
 * descriptor stays with the NIC) or -EINVAL (no slot open on q).
 */
int wp_nic_rx_commit(struct wp_nic *nic, uint16_t q, uint32_t len,
		     uint32_t hash, uint16_t err_bits, uint64_t now);
/* Give the slot back unused (nothing was read); nothing is counted. */
void wp_nic_rx_abort(struct wp_nic *nic, uint16_t q);
/*
 * Zero-copy DMA for firmware whose wire wrote the frame into a buffer of
 * its own (AF_XDP: a UMEM frame of the queue's pool): with a slot open,
 * the descriptor takes `buf` instead of the buffer it held, which is
 * returned (the firmware's now; an AF_XDP firmware gives it to the kernel
 * through the fill ring). buf must be a buffer of queue q's pool with the
 * frame at WP_SKB_HEADROOM; then wp_nic_rx_commit() as usual, which keeps
 * buf in the descriptor whatever it answers. NULL (nothing changes): no
 * slot open on q, or buf NULL.
 */
void *wp_nic_rx_swap(struct wp_nic *nic, uint16_t q, void *buf);
void wp_nic_rx_missed(struct wp_nic *nic, uint16_t q);

/* Fire expired moderation timers; returns the next deadline (or NEVER). */
uint64_t wp_nic_coalesce_tick(struct wp_nic *nic, uint64_t now);
/* The same for queue q alone: for firmware with one thread per queue. */
uint64_t wp_nic_coalesce_tick_queue(struct wp_nic *nic, uint16_t q,
				    uint64_t now);

/*
 * Firmware TX: the next frame to send on queue q (between TDH and TDT), or
 * NULL; then wp_nic_tx_fw_done() sets its DD and advances TDH, and
 * wp_nic_tx_fw_irq() raises the vector once per batch. A descriptor that
 * fw_next returned holds the queue busy until fw_done (calling fw_next
 * again meanwhile returns the same one).
 */
const struct wp_tx_desc *wp_nic_tx_fw_next(struct wp_nic *nic, uint16_t q);
void wp_nic_tx_fw_done(struct wp_nic *nic, uint16_t q);
void wp_nic_tx_fw_irq(struct wp_nic *nic, uint16_t q);

/* --- driver side (the queue's cpu) -------------------------------------- */

/* igb_poll: clean TX, then receive up to budget frames. The NAPI poll fn. */
int wp_nic_napi_poll(struct wp_napi *napi, int budget);

/*
 * ndo_start_xmit: put skb on TX queue q (consumed, on error too: dropped
 * and counted). more = true defers the doorbell (xmit_more; at most 32
 * descriptors wait). Returns 0, -ENOBUFS (ring full: tx_busy,
 * WP_DROP_TX_RING_FULL), -ENETDOWN (queue stopped: tx_dropped,
 * WP_DROP_DEV_DOWN), -EMSGSIZE (shorter than an Ethernet header or over
 * MTU: tx_dropped, WP_DROP_TX_LENGTH) or -EINVAL (no such queue, NULL skb).
 * One thread per TX queue: the queue's cpu.
 */
int wp_nic_xmit(struct wp_nic *nic, uint16_t q, struct wp_skb *skb, bool more);
/* Write TDT and kick the firmware if descriptors are pending. */
void wp_nic_tx_doorbell(struct wp_nic *nic, uint16_t q);
/* Reclaim sent descriptors; returns how many. */
uint32_t wp_nic_clean_tx(struct wp_nic *nic, uint16_t q);

/* Frames waiting in RX queue q (DD set, not yet polled): ring occupancy.
 * Exact on the queue's cpu; a snapshot from any other thread. */
uint32_t wp_nic_rx_pending(const struct wp_nic *nic, uint16_t q);

#endif
