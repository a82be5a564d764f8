/* SPDX-License-Identifier: MIT */
/*
 * The glass box: the journey of sampled packets stage by stage, the
 * latency of each stage, and pcap taps at chosen points of the path.
 *
 * Sampling. The control path sets a filter (wp_trace_set_filter): one
 * packet in `every` of those that match protocol / address / port, on
 * each core, up to `limit` in all. The driver poll (a core thread) shows
 * each frame it picks to the sampler (wp_trace_rx_pick), which parses it
 * with the length-checked wire parsers only when the filter or a sample
 * needs it. A sampled frame gets stamps once its skb is built
 * (wp_trace_rx_sampled): DMA from the descriptor's hardware timestamp,
 * IRQ from the top half that ran for it (none when the packet rode a poll
 * that was already scheduled, or in busy-poll mode), NAPI_POLL when the
 * poll saw its DD bit, SKB_BUILT after wp_build_skb; every stage above
 * stamps with wp_skb_stamp(). The skb's stamps->done files the record
 * when its last reference goes: consumed, dropped (the reason is kept),
 * or read by the application and released.
 *
 * Records. Each core has a bounded record ring (MPSC: the thread that
 * frees a sampled skb may be an application's); a full ring drops the
 * record and counts it, never waits. Records come off the rings into the
 * per-stage latency histograms (the delta from the previous stage the
 * packet reached), and, while a trace session is open, into that
 * session's buffer. Two consumers, one at a time per ring (its consumer
 * lock): the control thread (sessions, wp_trace_latency) and the
 * sampling core itself, which drains a bounded batch with a trylock when
 * it next samples and no session is open, so the histograms keep up
 * with no thread polling them.
 *
 * Capture. wp_trace_capture_start(point, count) turns on one tap: wire
 * (frames as the firmware DMA'd them, seen in the driver poll, and as
 * handed to the TX ring), gro (as NAPI hands them up), socket (as queued
 * on a socket's receive queue). Taps copy the frame into their core's
 * capture ring (bounded, MPSC; full: dropped and counted);
 * the control thread takes frames off with wp_trace_capture_drain() and
 * writes the pcap. The socket tap finds its core through a per-thread
 * binding (wp_trace_bind), which the stack sets around each batch NAPI
 * hands up, so the sock layer needs no pointer to the stack.
 *
 * Cost when off: one relaxed load per NAPI poll (wp_trace_poll_begin),
 * per top half, per transmitted frame and per batch handed up; one
 * relaxed load of a process-wide counter per skb queued on a socket.
 *
 * Threads: control functions (create, set_filter, sessions, capture
 * start/stop/drain, latency, stats) serialise on the collector's lock;
 * the fast-path functions are for the core thread named in their
 * comment.
 */
#ifndef WP_TRACE_TRACE_H
#define WP_TRACE_TRACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/hist.h"
#include "skb/skb.h"
#include "trace/mpsc.h"

#define WP_TRACE_RECORDS 1024	   /* record ring slots per core */
#define WP_TRACE_DRAIN_BATCH 64	   /* records a core drains when it samples */
#define WP_TRACE_CAPTURE_SLOTS 512 /* capture ring slots per core */
#define WP_TRACE_SNAPLEN 2016	   /* frame bytes a capture slot keeps */
#define WP_TRACE_SESSION_MAX 4096  /* records one session collects */

/* IP protocols a filter names (IANA numbers). */
enum {
	WP_TRACE_PROTO_ANY = 0,
	WP_TRACE_PROTO_ICMP = 1,
	WP_TRACE_PROTO_TCP = 6,
	WP_TRACE_PROTO_UDP = 17,
};

struct wp_trace_filter {
	uint32_t every; /* sample 1 in `every` matching packets per core;
			 * 0: sampling off */
	uint8_t proto;	/* IP protocol; 0: any frame, IPv4 or not */
	uint32_t addr;	/* IPv4 source or destination, host order; 0: any */
	uint16_t port;	/* TCP/UDP source or destination port; 0: any */
	uint64_t limit; /* samples in all, then stop; 0: no limit */
};

/* Where a capture taps the path. */
enum wp_tap_point {
	WP_TAP_WIRE,   /* RX as DMA'd (driver poll), TX as given to the ring */
	WP_TAP_GRO,    /* as NAPI hands them up (after GRO) */
	WP_TAP_SOCKET, /* as queued on a socket's receive queue */
	WP_TAP__MAX
};

/* What the sampler learnt of a frame (desc.flags). */
enum {
	WP_TRACE_F_IPV4 = 1u << 0,    /* saddr, daddr, proto valid */
	WP_TRACE_F_PORTS = 1u << 1,   /* sport, dport valid (TCP, UDP) */
	WP_TRACE_F_FRAG = 1u << 2,    /* an IPv4 fragment */
	WP_TRACE_F_ICMP = 1u << 3,    /* icmp_type, icmp_code valid */
	WP_TRACE_F_DROPPED = 1u << 4, /* record: let go as a drop */
};

/* The description of a sampled frame, kept in its stamps' priv area. */
struct wp_trace_desc {
	uint64_t id;  /* sample number, per collector, from 1 */
	uint32_t gen; /* filter generation it was sampled under */
	uint32_t len; /* frame bytes at the DMA */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint16_t ethertype;
	uint16_t queue; /* RX queue */
	uint16_t cpu;	/* core that polled it */
	uint8_t proto;
	uint8_t flags; /* WP_TRACE_F_* */
	uint8_t icmp_type, icmp_code;
	uint8_t tcp_flags;
};

/* One packet's journey: what a record ring and a session carry. */
struct wp_trace_record {
	struct wp_trace_desc d;
	uint64_t ns[WP_STAMP__MAX]; /* 0: stage not reached */
	uint64_t end_ns;	    /* when its last reference went */
	uint32_t wake_kind;	    /* 1 << enum wp_wake_kind, or-ed */
	uint16_t drop_reason;	    /* with WP_TRACE_F_DROPPED */
};

/* A captured frame (a capture ring slot). */
struct wp_trace_frame {
	uint64_t ts_ns;
	uint32_t len;	 /* bytes the frame had */
	uint32_t caplen; /* bytes kept: min(len, WP_TRACE_SNAPLEN) */
	uint16_t cpu;
	uint8_t point; /* enum wp_tap_point */
	uint8_t tx;    /* wire tap: sent rather than received */
	uint8_t data[WP_TRACE_SNAPLEN];
};

/* Latency per stage: stage[s] holds, for each record that reached stage
 * s, the time since the previous stage it reached (stage[DMA] is empty);
 * total holds first stamp to last. */
struct wp_trace_latency {
	struct wp_hist stage[WP_STAMP__MAX];
	struct wp_hist total;
};

struct wp_trace_stats {
	uint64_t seen;	   /* frames shown to the sampler while it was on */
	uint64_t filtered; /* ... that did not match the filter */
	uint64_t matched;  /* ... that did */
	uint64_t sampled;  /* ... that were sampled */
	uint64_t limited;  /* matched and due, but the limit was reached */
	uint64_t records;  /* records taken off the rings */
	uint64_t records_dropped; /* record ring full */
	uint64_t captured;	  /* frames put on capture rings */
	uint64_t capture_dropped; /* capture ring full */
};

struct wp_trace;

/* Per core. Fields after `tr` and `id` are the collector's. */
struct wp_trace_cpu {
	struct wp_trace *tr;
	uint32_t id;

	/* --- the core thread: sampler state
	 * --------------------------------------- */
	uint32_t seq;		  /* filter generation cached below */
	struct wp_trace_filter f; /* cached filter */
	bool parse;		  /* the filter needs a parse */
	bool has_limit;		  /* the filter has a limit: mind the budget */
	uint32_t nth;		  /* matches since the last sample */
	/* counters: one writer (this core), read by the control path */
	uint64_t seen, filtered, sampled, limited; /* matched: derived */
	uint64_t captured;

	/* --- records: producers any thread, consumer under cons_lock
	 * -------------- */
	struct wp__mpsc records;
	pthread_mutex_t cons_lock;
	uint64_t drained;
	struct wp_trace_latency lat;

	/* --- capture: producers this core (and tests), consumer control
	 * ----------- */
	struct wp__mpsc capture; /* allocated at the first capture */
	bool capture_ready;	 /* control only */
};

/* tr->active bits. */
enum {
	WP_TRACE_ON_SAMPLE = 1u << 0,
	WP_TRACE_ON_TAP = 1u << 1, /* shifted by enum wp_tap_point */
};

struct wp_trace {
	struct wp_clock *clock;
	uint32_t ncpus;
	/* WP_TRACE_ON_* bits: the one word the fast paths load. */
	_Atomic uint32_t active;

	/* The filter, as a seqlock (odd while written; the value is the
	 * generation records carry): cores copy it when it moves. */
	_Atomic uint32_t seq;
	_Atomic uint32_t f_every, f_addr, f_proto, f_port, f_limited;
	_Atomic int64_t budget; /* samples left under the limit */
	_Atomic uint64_t next_id;
	_Atomic bool session_open; /* cores leave the draining to it */

	/* capture */
	_Atomic int64_t cap_budget; /* frames left to capture */
	_Atomic bool cap_limited;   /* a count was given: mind the budget */
	_Atomic uint32_t cap_point;

	/* --- control path, under lock
	 * --------------------------------------------- */
	pthread_mutex_t lock;
	struct wp_trace_filter filter;
	struct wp_trace_filter saved; /* restored when a session ends */
	struct wp_trace_record *sess; /* the open session's buffer */
	uint32_t sess_n, sess_taken, sess_max;
	uint32_t sess_gen;
	bool capturing;

	struct wp_trace_cpu *cpu[]; /* ncpus of them */
};

/* --- lifetime (control path) ---------------------------------------------- */

/*
 * A collector for ncpus cores (1..WP_MAX_CPUS) reading `clock`. Sampling
 * and taps start off. NULL with errno EINVAL or ENOMEM.
 */
struct wp_trace *wp_trace_create(struct wp_clock *clock, uint32_t ncpus);
/*
 * Free it. Every sampled skb must be gone (their stamps point here): the
 * stack destroys its collector after its NIC and protocol layer.
 * NULL: no-op.
 */
void wp_trace_destroy(struct wp_trace *tr);

static inline struct wp_trace_cpu *wp_trace_cpu(struct wp_trace *tr,
						uint32_t cpu)
{
	return tr->cpu[cpu % tr->ncpus];
}

/* --- sampling (control path) ---------------------------------------------- */

/*
 * Install a filter (every == 0 turns sampling off). The limit counts
 * from now. -EINVAL for a protocol other than 0, 1, 6, 17, or a port
 * with a protocol that has none (ICMP). -EBUSY while a session is open.
 */
int wp_trace_set_filter(struct wp_trace *tr, const struct wp_trace_filter *f);
void wp_trace_get_filter(struct wp_trace *tr, struct wp_trace_filter *f);

/*
 * A trace session (`wirepath trace`): installs f with limit `count`
 * (1..WP_TRACE_SESSION_MAX) and collects the records sampled under it.
 * -EBUSY if a session is open, -EINVAL (bad filter or count), -ENOMEM.
 */
int wp_trace_session_begin(struct wp_trace *tr, const struct wp_trace_filter *f,
			   uint32_t count);
/*
 * Records of the session completed since the last call (draining the
 * rings first), at most max, into out. Returns how many; 0 with no
 * session open.
 */
size_t wp_trace_session_take(struct wp_trace *tr, struct wp_trace_record *out,
			     size_t max);
/* Close the session and put back the filter it replaced. No session:
 * no-op. */
void wp_trace_session_end(struct wp_trace *tr);

/* --- records and latency (control path) ----------------------------------- */

/* Take every record off the rings into the histograms. Returns how many. */
size_t wp_trace_drain(struct wp_trace *tr);
/* Drain, then the histograms of every core merged into out. */
void wp_trace_latency(struct wp_trace *tr, struct wp_trace_latency *out);
/* Counters of every core summed. Any thread. */
void wp_trace_get_stats(struct wp_trace *tr, struct wp_trace_stats *st);

/* --- capture (control path) ----------------------------------------------- */

/*
 * Turn on the tap at `at` for `count` frames (0: until stopped). Frames
 * left on the rings by an earlier capture are discarded. -EBUSY if a
 * capture runs, -EINVAL, -ENOMEM (the rings are allocated at the first
 * capture and kept).
 */
int wp_trace_capture_start(struct wp_trace *tr, enum wp_tap_point at,
			   uint64_t count);
/* True once `count` frames were put on the rings (never with count 0). */
bool wp_trace_capture_full(struct wp_trace *tr);
/* Turn the tap off; frames already on the rings can still be drained. */
void wp_trace_capture_stop(struct wp_trace *tr);

/* Called for each frame drained; frame is valid during the call. */
typedef int (*wp_trace_frame_fn)(void *ctx, const struct wp_trace_frame *f);
/*
 * Take frames off every core's ring, merged in time order, and pass them
 * to fn. Stops early when fn returns nonzero (that frame is consumed).
 * Returns how many frames were passed.
 */
size_t wp_trace_capture_drain(struct wp_trace *tr, wp_trace_frame_fn fn,
			      void *ctx);

/* --- fast path: the driver poll (the queue's core thread) ----------------- */

static inline bool wp_trace_active(const struct wp_trace *tr)
{
	return tr && atomic_load_explicit(&((struct wp_trace *)tr)->active,
					  memory_order_relaxed);
}

static inline bool wp_trace_tap_on(const struct wp_trace *tr,
				   enum wp_tap_point at)
{
	return tr && (atomic_load_explicit(&((struct wp_trace *)tr)->active,
					   memory_order_relaxed) &
		      (WP_TRACE_ON_TAP << at));
}

/* One poll's view of the collector (on the poll's stack). */
struct wp_trace_poll {
	struct wp_trace_cpu *tc; /* NULL: nothing to do this poll */
	uint32_t active;	 /* tr->active when the poll began */
	bool fast;		 /* 1 in N of all frames, no tap: inline */
	uint16_t queue;
	uint64_t irq_ns; /* the queue's last top half */
	/* the frame picked last, when sampled */
	uint64_t dma_ns, pick_ns;
	struct wp_trace_desc desc;
};

void wp__trace_poll_begin(struct wp_trace_poll *tp, struct wp_trace *tr,
			  uint32_t cpu, uint16_t queue, uint64_t irq_ns);

/* Start of a poll: one load when tracing is off. */
static inline void wp_trace_poll_begin(struct wp_trace_poll *tp,
				       struct wp_trace *tr, uint32_t cpu,
				       uint16_t queue, uint64_t irq_ns)
{
	tp->tc = NULL;
	if (wp_unlikely(wp_trace_active(tr)))
		wp__trace_poll_begin(tp, tr, cpu, queue, irq_ns);
}

/*
 * The poll saw DD on a descriptor whose buffer holds frame[0..len),
 * written at dma_ns: tap it (wire), and decide whether to sample it.
 * True: call wp_trace_rx_sampled() once its skb is built. Only when
 * tp->tc is set.
 */
bool wp__trace_rx_pick(struct wp_trace_poll *tp, const uint8_t *frame,
		       uint32_t len, uint64_t dma_ns);

static inline bool wp_trace_rx_pick(struct wp_trace_poll *tp,
				    const uint8_t *frame, uint32_t len,
				    uint64_t dma_ns)
{
	struct wp_trace_cpu *tc = tp->tc;

	/* Background sampling, all but the Nth frame: count it, done. */
	if (tp->fast && tc->nth + 1 < tc->f.every) {
		tc->nth++;
		__atomic_store_n(&tc->seen,
				 __atomic_load_n(&tc->seen, __ATOMIC_RELAXED) +
					 1,
				 __ATOMIC_RELAXED);
		return false;
	}
	return wp__trace_rx_pick(tp, frame, len, dma_ns);
}
/* The picked frame's skb: attach stamps and the description. Borrows. */
void wp_trace_rx_sampled(struct wp_trace_poll *tp, struct wp_skb *skb);

/* --- fast path: taps ------------------------------------------------------ */

/* Copy a frame into tc's capture ring if the tap at `at` is on. */
void wp_trace_tap(struct wp_trace_cpu *tc, enum wp_tap_point at,
		  const uint8_t *frame, uint32_t len, uint64_t ts_ns, bool tx);

/*
 * The same for an skb, from `from` (a pointer into its linear part: the
 * MAC header, or data) to its end, across a GRO chain: a merged skb is
 * captured as the one large frame it has become. Borrows skb.
 */
void wp_trace_tap_skb(struct wp_trace_cpu *tc, enum wp_tap_point at,
		      const struct wp_skb *skb, const uint8_t *from,
		      uint64_t ts_ns, bool tx);

/*
 * The calling thread's core for taps that have no other way to find it
 * (the socket tap). Returns the previous binding, to restore. NULL
 * unbinds.
 */
struct wp_trace_cpu *wp_trace_bind(struct wp_trace_cpu *tc);

/* Captures at the socket point running in this process. */
extern _Atomic uint32_t wp__trace_socket_taps;

void wp__trace_tap_socket(const struct wp_skb *skb);

/*
 * An skb queued on a socket (caller holds the socket lock, so it cannot
 * be read and freed meanwhile). Borrows skb. Taps the bytes from its MAC
 * header (or data) to its tail, on the bound core.
 */
static inline void wp_trace_tap_socket(const struct wp_skb *skb)
{
	if (wp_unlikely(atomic_load_explicit(&wp__trace_socket_taps,
					     memory_order_relaxed)))
		wp__trace_tap_socket(skb);
}

/* --- printing ------------------------------------------------------------- */

/* "DMA", "IRQ", ... "READ"; "?" out of range. */
const char *wp_trace_stage_name(enum wp_stamp s);
/*
 * The code that runs at stage s for this record, as the seeds name it:
 * "wp_nic rx DMA (DD set)", "wp_udp_rcv", "sk_data_ready -> pollwake",
 * ... Into buf (size len); returns buf.
 */
const char *wp_trace_stage_func(const struct wp_trace_record *r,
				enum wp_stamp s, char *buf, size_t len);
/* "udp 10.0.1.1:1024 -> 10.0.0.2:9" etc. into buf; returns buf. */
const char *wp_trace_flow_str(const struct wp_trace_desc *d, char *buf,
			      size_t len);
/* "wire", "gro", "socket"; "?" out of range. */
const char *wp_tap_point_name(enum wp_tap_point at);

/*
 * The journey as text: a header line (id, flow, length, queue, cpu), one
 * line per stage with its absolute time (since DMA), the delta from the
 * previous stage reached and the function; stages not reached say so;
 * then how it ended (read, consumed, dropped: reason).
 */
void wp_trace_record_print(const struct wp_trace_record *r, FILE *out);

/*
 * The same as one JSON object on one line: id, flow fields, then
 * "stages": [{"stage", "function", "reached", "ns", "since_dma_ns",
 * "delta_ns"}...] in path order, "wake": [kinds], "end" ("read",
 * "consumed", "dropped"), "drop_reason" (or null), "end_ns".
 */
void wp_trace_record_json(const struct wp_trace_record *r, FILE *out);

/*
 * `wirepath stat latency`: per stage, the samples and p50 / p99 / p99.9 /
 * max of the time since the previous stage reached, then the total.
 * Text: a table with a header naming the sampling; json: one object per
 * stage per line ({"stage", "function", "samples", "p50_ns", "p99_ns",
 * "p999_ns", "max_ns", "mean_ns"}), the total as stage "TOTAL".
 */
void wp_trace_latency_print(const struct wp_trace_latency *l,
			    const struct wp_trace_stats *st,
			    const struct wp_trace_filter *f, bool json,
			    FILE *out);

#endif
