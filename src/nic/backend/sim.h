/* SPDX-License-Identifier: MIT */
/*
 * The sim backend's traffic generator (private to the backend and its
 * tests).
 *
 * Frames: Ethernet II / IPv4 (DF, TTL 64) / UDP from WP_SIM_SRC_MAC and
 * 10.0.1.h:sport to the stack's dst_mac, dst_ip:dst_port. Flow i (of
 * `flows`) has host h = 1 + i % 254 and sport = 1024 + (off + 7919 i) %
 * 64512, off drawn from the seed: i -> 7919 i is a bijection mod 64512
 * (7919 is a prime that does not divide it), so two flows with one sport
 * are 64512 apart, and 64512 % 254 != 0: distinct 5-tuples for every
 * i < 65536. The multiplier also breaks Toeplitz's GF(2) linearity, so
 * RSS spreads the flows over the queues. Frame n belongs to flow n % flows.
 *
 * Payload: the sequence number n and the departure time in ns (both
 * 64-bit, network order), then filler drawn from the seed. The IPv4 ID is
 * n's low 16 bits. Each flow keeps a header template whose checksums are
 * those of a frame with n = 0 and time 0; a frame is the template plus
 * 18 changed bytes, and both checksums are patched for them (RFC 1624
 * eqn. 3) instead of being summed again over the frame.
 *
 * Pacing: frame n leaves at base + d(n). Constant rate: d(n) = (n + 1) /
 * rate, exact in integers, so the frames due by base + N / rate s are
 * exactly N (a generator started at base has sent nothing yet at base).
 * Microbursts (burst_on_us:burst_off_us): the same schedule runs on an
 * "on" clock that stops during off phases; on phase c is the interval
 * (c * (on + off), c * (on + off) + on], so with t = (n + 1) / rate,
 * d(n) = c * (on + off) + r + 1 where c, r = divmod(t - 1, on).
 * Replay: the file's frames at their recorded offsets from its first
 * frame (which leaves at base), looping with a period of the file's span
 * plus one mean frame gap (1 ms if the span is 0).
 */
#ifndef WP_NIC_BACKEND_SIM_H
#define WP_NIC_BACKEND_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nic/backend/backend.h"

#define WP_SIM_HDR_LEN 42     /* Ethernet + IPv4 + UDP */
#define WP_SIM_PAYLOAD_MIN 16 /* sequence + timestamp */
#define WP_SIM_FRAME_MIN 60   /* Ethernet minimum without FCS */
#define WP_SIM_FLOWS_MAX 65536u
#define WP_SIM_RATE_MAX 1000000000ull
#define WP_SIM_SPORT_BASE 1024
#define WP_SIM_SPORTS 64512
#define WP_SIM_SRC_NET 0x0a000100u /* 10.0.1.0/24 */
#define WP_SIM_REPLAY_MAX_FRAMES (1u << 20)
#define WP_SIM_REPLAY_MAX_BYTES (256u << 20)
#define WP_SIM_REPLAY_EMPTY_GAP_NS WP_NSEC_PER_MSEC

/* Byte offsets in a generated frame. */
enum {
	WP_SIM_OFF_IP = 14,
	WP_SIM_OFF_IP_ID = 18,
	WP_SIM_OFF_IP_CSUM = 24,
	WP_SIM_OFF_UDP = 34,
	WP_SIM_OFF_UDP_CSUM = 40,
	WP_SIM_OFF_SEQ = 42,
	WP_SIM_OFF_TSTAMP = 50,
};

extern const uint8_t wp__sim_src_mac[6];

struct wp_sim_flow {
	uint8_t hdr[WP_SIM_HDR_LEN];
};

struct wp_sim_replay {
	uint8_t *data;	  /* every frame, back to back */
	uint64_t *rel_ns; /* departure offset in the loop */
	uint32_t *off, *len;
	uint32_t n;
	uint64_t period_ns;
};

struct wp_sim_gen {
	/* traffic */
	uint32_t frame_len; /* on the wire, without FCS */
	uint32_t nflows;
	struct wp_sim_flow *flows;
	uint8_t *frame; /* the frame being built; filler stays */
	struct wp_sim_replay replay;
	bool replaying;
	/* schedule */
	uint64_t rate_pps;
	uint64_t on_ns, off_ns; /* on_ns 0: constant rate */
	uint64_t base_ns;	/* the schedule's origin */
	uint64_t seq;		/* the next frame's number */
	uint64_t next_ns;	/* its departure; WP_TIME_NEVER: idle */
	/*
	 * d(seq), kept incrementally so a frame costs no division:
	 * on_clock = floor((seq + 1) * 1e9 / rate), acc the remainder;
	 * phase_base + phase_pos + 1 = d(seq) in burst mode;
	 * loop_ns + rel_ns[k] = d(seq) in replay.
	 */
	uint64_t on_clock, acc;
	uint64_t gap_ns, gap_rem; /* 1e9 / rate, 1e9 % rate */
	uint64_t phase_base, phase_pos;
	uint64_t loop_ns;
	uint32_t k;
	/* real time only: schedule shifted because we fell behind */
	uint64_t rebases;
	uint64_t rebased_ns;
};

/*
 * Validate cfg and build the flow templates (or load the replay file).
 * max_frame: the largest frame the NIC takes (MTU + 14). The schedule
 * starts at start_ns. 0 or -errno with a message in err.
 */
int wp__sim_gen_init(struct wp_sim_gen *g, const struct wp_backend_config *cfg,
		     uint32_t max_frame, uint64_t start_ns, char *err,
		     size_t errlen);
void wp__sim_gen_fini(struct wp_sim_gen *g);

/* d(n): frame n's departure relative to the schedule's base (the closed
 * form; emit keeps the same value incrementally). */
uint64_t wp__sim_gen_offset(const struct wp_sim_gen *g, uint64_t n);

/*
 * The next frame (number g->seq, due at *t = g->next_ns), and advance.
 * The frame is borrowed: valid until the next emit. Only when
 * g->next_ns != WP_TIME_NEVER.
 */
const uint8_t *wp__sim_gen_emit(struct wp_sim_gen *g, uint32_t *len,
				uint64_t *t);

/* Move the schedule so that the next frame departs at t (start(), or a
 * real-time generator too far behind to catch up). */
void wp__sim_gen_rebase(struct wp_sim_gen *g, uint64_t t);

/*
 * A crossover cable between two sim NICs (real time or virtual): what
 * one transmits, the other's firmware DMA-writes into its RX ring, as
 * it does generated frames (a bounded queue per direction; a frame that
 * finds it full is dropped and counted as cable_tx_full). Both before
 * start(); stop both before closing either. 0, or -EINVAL (not two sim
 * NICs), -EBUSY (started, or already linked), -ENOMEM, with a message.
 */
struct wp_backend;
int wp__sim_link(struct wp_backend *a, struct wp_backend *b, char *err,
		 size_t errlen);

/* RFC 1624 eqn. 3: checksum hc after the 16-bit-aligned bytes old[0..len)
 * became new[0..len) (len even). */
uint16_t wp__csum_replace(uint16_t hc, const uint8_t *old, const uint8_t *new,
			  size_t len);

#endif
