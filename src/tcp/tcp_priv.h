/* SPDX-License-Identifier: MIT */
/*
 * TCP's insides, shared by the files of src/tcp only.
 *
 * Sequence numbers compare modulo 2^32 (RFC 9293 3.4): before(a, b) is
 * "a is older than b" as long as they are less than 2^31 apart.
 */
#ifndef WP_TCP_TCP_PRIV_H
#define WP_TCP_TCP_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/compiler.h"
#include "net/net_priv.h"
#include "tcp/tcp.h"
#include "wire/tcp.h"

/* --- constants (Linux include/net/tcp.h) -----------------------------------
 */

#define TCP_MSS_DEFAULT 536U /* RFC 9293 3.7.1: without an MSS option */
#define TCP_MSS_MIN 88U	     /* smallest MSS we use, whatever is offered */
#define TCP_MSS_MAX 65495U
#define TCP_INIT_CWND 10U		       /* IW10 (RFC 6928) */
#define TCP_TIMEOUT_INIT (1 * WP_NSEC_PER_SEC) /* RFC 6298 2.1 */
#define TCP_RTO_MAX (120 * WP_NSEC_PER_SEC)
#define TCP_DELACK_MIN (40 * WP_NSEC_PER_MSEC)
#define TCP_DELACK_MAX (200 * WP_NSEC_PER_MSEC)
#define TCP_ATO_MIN TCP_DELACK_MIN
#define TCP_MAX_QUICKACKS 16U
#define TCP_MAX_WSCALE 14U
#define TCP_OFO_MAX_SEGS 1024U /* out-of-order skbs held per socket */
#define TCP_PAWS_24DAYS (24ULL * 86400 * WP_NSEC_PER_SEC)
#define TCP_RESOURCE_PROBE (500 * WP_NSEC_PER_MSEC)
/* Room left in the TX ring below which output waits (segments). */
#define TCP_TXQ_RESERVE 8U

static inline bool before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool after(uint32_t a, uint32_t b)
{
	return before(b, a);
}

/* a <= b <= c, modulo 2^32 */
static inline bool between(uint32_t b, uint32_t a, uint32_t c)
{
	return c - a >= b - a;
}

static inline uint32_t umin32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static inline uint32_t umax32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* --- congestion control ----------------------------------------------------
 */

enum tcp_ca_state {
	TCP_CA_OPEN = 0,
	TCP_CA_DISORDER = 1,
	TCP_CA_RECOVERY = 3,
	TCP_CA_LOSS = 4,
};

enum tcp_ca_event {
	CA_EVENT_LOSS,	   /* RTO: cwnd collapses */
	CA_EVENT_RECOVERY, /* fast retransmit entered recovery */
	CA_EVENT_IDLE_RESTART,
};

/*
 * A congestion-control algorithm (Linux struct tcp_congestion_ops). All
 * quantities in bytes; the core calls these on the owner thread.
 */
struct tcp_cc_ops {
	const char *name;
	void (*init)(struct wp_tcp_sock *tp);
	/* The ssthresh to use after a loss (RFC 5681 eq. 4, RFC 9438 4.6). */
	uint32_t (*ssthresh)(struct wp_tcp_sock *tp);
	/* New data was cumulatively acked outside recovery. */
	void (*cong_avoid)(struct wp_tcp_sock *tp, uint32_t acked);
	void (*event)(struct wp_tcp_sock *tp, enum tcp_ca_event ev);
};

extern const struct tcp_cc_ops wp__tcp_reno;
extern const struct tcp_cc_ops wp__tcp_cubic;
const struct tcp_cc_ops *wp__tcp_cc_find(const char *name);

/* CUBIC's state (RFC 9438 4). */
struct tcp_cubic {
	uint64_t epoch_start; /* ns; 0: no epoch */
	uint32_t w_max;	      /* bytes, before the last reduction */
	uint32_t w_last_max;  /* fast convergence */
	uint32_t cwnd_origin; /* cwnd at epoch start */
	uint32_t w_est;	      /* Reno-friendly estimate, bytes */
	double k;	      /* seconds */
	uint32_t ack_bytes;   /* bytes acked in this epoch (W_est growth) */
};

/* --- timers ------------------------------------------------------------------
 */

enum tcp_timer {
	TCP_T_RETRANS, /* RTO, SYN/SYN-ACK retries, zero-window probe */
	TCP_T_DELACK,
	TCP_T_KEEPALIVE, /* keepalive; FIN_WAIT2 timeout */
	TCP_T_TIMEWAIT,	 /* TIME_WAIT 2*MSL */
	TCP_T_TXQ,	 /* the TX ring was full: try again */
	TCP_T__MAX,
};

/* What the retransmit timer is doing. */
enum tcp_rtx_kind {
	TCP_RTX_RTO,
	TCP_RTX_PROBE, /* zero-window probe */
};

/* --- the sender's scoreboard (tcp_sack.c) -----------------------------------
 *
 * One entry per segment sent and not yet cumulatively acknowledged, in
 * sequence order: what Linux keeps in the `sacked` bits of the skbs of
 * its retransmit queue. Data lives in the send ring, so an entry is only
 * the segment's edges and state.
 */

enum {
	TCP_SB_SACKED = 1u << 0,  /* covered by a SACK block (RFC 2018) */
	TCP_SB_LOST = 1u << 1,	  /* presumed lost: IsLost (RFC 6675), RTO */
	TCP_SB_RETRANS = 1u << 2, /* a retransmission of it is in flight */
	TCP_SB_EVER_RETRANS = 1u << 3,
	TCP_SB_FIN = 1u << 4, /* carries the FIN (end_seq counts it) */
};

struct tcp_sb_seg {
	uint32_t seq, end_seq;
	uint32_t rtx_nxt; /* snd_nxt when last retransmitted: something
			   * sent later being SACKed means the
			   * retransmission was lost */
	uint8_t flags;	  /* TCP_SB_* */
};

/*
 * Bounded: `cap` entries (a power of two), allocated when the first
 * segment is sent (one per TCP_SB_BYTES of ring, at least TCP_SB_MIN:
 * 1 KiB, which an idle connection does not pay) and grown with the ring
 * (tcp_sndbuf_expand): nothing is allocated per segment or per ACK. A full
 * scoreboard stops new data the way a full congestion window does (Linux gets
 * the same limit from charging each skb's truesize to sndbuf), so a sender of
 * tiny segments has at most `cap` of them in flight. The entries [head, tail)
 * cover [snd_una, snd_nxt) exactly, in order, so a sequence number is found by
 * binary search.
 *
 * The byte counts give RFC 6675's pipe without a walk (Linux
 * tcp_packets_in_flight): pipe = (snd_nxt - snd_una) - sacked - lost +
 * retrans; a lost segment whose retransmission is in flight counts
 * once, a segment retransmitted while not lost (NextSeg rules 3, 4)
 * twice.
 */
#define TCP_SB_BYTES 512U
#define TCP_SB_MIN 64U

struct tcp_scoreboard {
	struct tcp_sb_seg *seg;
	uint32_t cap;	     /* power of two */
	uint32_t head, tail; /* free-running indices */
	uint32_t sacked_bytes, lost_bytes, retrans_bytes;
	uint32_t sacked_segs, lost_segs, retrans_segs;
	uint32_t highest_sack; /* end of the highest SACKed segment */
	uint32_t lost_mark;    /* every segment below it that is not
				* SACKed is marked lost */
	uint32_t lost_high;    /* end of the highest segment marked lost */
	uint32_t rtx_hint;     /* NextSeg rule 1 looks from here */
	uint32_t retrans_low;  /* lowest rtx_nxt of segments RETRANS */
	uint32_t undo_marker;  /* snd_una when the last recovery began */
	uint32_t dsack_dups;   /* segments D-SACKed (RFC 2883) */
	bool undo_valid;
	bool rescue_done; /* RFC 6675 rule 4: once per recovery */
};

/* --- the socket -------------------------------------------------------------
 */

/* `pending`: requests of application threads to the owning core. */
enum {
	TCP_REQ_CONNECT = 1u << 0,   /* send the SYN */
	TCP_REQ_OUTPUT = 1u << 1,    /* new data in the send ring */
	TCP_REQ_RCVSPACE = 1u << 2,  /* data was read: window update? */
	TCP_REQ_SHUT_WR = 1u << 3,   /* queue a FIN after the data */
	TCP_REQ_CLOSE = 1u << 4,     /* last close: orderly */
	TCP_REQ_ABORT = 1u << 5,     /* last close: RST */
	TCP_REQ_KEEPALIVE = 1u << 6, /* keepalive settings changed */
};

struct tcp_rx_opt {
	bool tstamp_ok, sack_ok, wscale_ok;
	uint8_t snd_wscale;	  /* the peer's: applied to windows it sends */
	uint8_t rcv_wscale;	  /* ours: applied to windows we send */
	uint32_t ts_recent;	  /* the peer's TSval to echo (RFC 7323 4.3) */
	uint64_t ts_recent_stamp; /* ns when ts_recent was taken */
	uint16_t mss_clamp;	  /* the peer's MSS option (or 536) */
};

struct wp_tcp_sock {
	struct wp_sock sk; /* first: a wp_sock * of a TCP socket is this */
	struct wp_net *net;

	/* --- identity: set before hashing, constant while hashed -------- */
	uint32_t saddr, daddr; /* host order; saddr 0: INADDR_ANY (bound) */
	uint16_t sport, dport;
	uint32_t hash;		    /* of the 4-tuple: ehash bucket */
	struct wp_tcp_sock *ehnext; /* ehash chain */
	struct wp_tcp_sock *bnext;  /* bind-table chain */
	bool ehashed, bhashed;	    /* under the chains' locks */
	bool port_locked;	    /* bind() chose the port */
	bool reuseaddr;

	/* --- application <-> core ----------------------------------------- */
	_Atomic uint32_t pending;  /* TCP_REQ_* */
	_Atomic bool work_queued;  /* on the owner's work queue */
	struct wp_tcp_sock *wnext; /* work queue link (its lock) */
	pthread_mutex_t send_lock; /* serialises senders (the ring's
				    * producer side) */
	pthread_mutex_t recv_lock; /* serialises readers */
	uint8_t *sndring;	   /* send ring, snd_size bytes */
	uint32_t snd_size;
	uint32_t snd_base;	      /* sequence number of ring offset 0
				       * (iss + 1): offset = seq - snd_base */
	_Atomic uint32_t write_seq;   /* app: end of data in the ring */
	_Atomic uint32_t snd_una_pub; /* core: oldest unacked, published */
	_Atomic bool fin_queued;      /* app: no more data after write_seq */
	/* Reader's partly read skb (still charged to sk_rmem_alloc). */
	struct wp_skb *rd_skb;
	uint32_t rd_off;
	_Atomic uint32_t copied_seq;   /* app: next byte to read */
	_Atomic uint32_t rcv_data_end; /* core: end of in-order data queued
					* (rcv_nxt without the FIN) */
	/* Listener: accept queue (socket lock), SYN queue count. */
	struct wp_tcp_sock *acc_head, *acc_tail;
	struct wp_tcp_sock *anext; /* accept queue link */
	_Atomic uint32_t acc_qlen;
	_Atomic uint32_t syn_qlen;
	_Atomic uint32_t max_backlog;
	/* ns when this listener last sent a SYN cookie (0: never); its
	 * cookies are checked only for TCP_SYNCOOKIE_VALID after
	 * (tcp_synq_overflow). */
	_Atomic uint64_t synq_overflow;
	struct wp_tcp_sock *parent; /* child in SYN_RECV: its listener (held) */
	/* Options, set by the application, read by the core. */
	_Atomic bool nodelay;
	_Atomic bool keepalive;
	_Atomic int keepidle, keepintvl, keepcnt; /* s, s, probes; 0: sysctl */
	_Atomic bool linger;
	_Atomic int linger_secs;
	_Atomic uint16_t user_mss;
	const struct tcp_cc_ops *cc; /* set before connect/listen */
	/* TCP_INFO snapshot (socket lock). */
	struct wp_tcp_info info;

	/* --- core-owned: the transmission control block ------------------ */
	uint8_t state_core; /* mirror of sk_state, the core's view */
	bool dead;	    /* orphaned: the application closed it */
	bool fin_sent;
	bool fin_rcvd;
	uint32_t iss, irs;
	uint32_t snd_una, snd_nxt, snd_max; /* snd_max: highest ever sent */
	uint32_t snd_wnd;		    /* scaled */
	uint32_t max_window;
	uint32_t snd_wl1, snd_wl2;
	uint32_t snd_up;
	uint32_t rcv_nxt;
	uint32_t rcv_wup; /* rcv_nxt when the window was last sent */
	uint32_t rcv_wnd; /* window last sent (bytes, unscaled) */
	uint32_t rcv_ssthresh_unused;
	uint32_t mss_cache;	/* effective send MSS (no options) */
	uint32_t advmss;	/* the MSS we announce */
	uint32_t rcv_mss;	/* estimate of the peer's segment size */
	uint32_t scaling_ratio; /* payload per truesize, x/256 */
	/* Receive-buffer auto-tuning: what the application read in the
	 * last round trip (Linux rcvq_space). */
	struct {
		uint64_t time; /* 0: not measuring yet */
		uint32_t seq;  /* copied_seq then */
		uint32_t space;
	} rcvq_space;
	struct tcp_rx_opt rx_opt;
	uint32_t ts_off; /* our TSval offset (RFC 7323 7.1) */
	/* RTT (RFC 6298), ns */
	uint64_t srtt, rttvar, rto;
	uint32_t rtt_seq;  /* segment timed without timestamps */
	uint64_t rtt_time; /* 0: none timed */
	uint8_t backoff;
	uint8_t retransmits;
	uint8_t probes_out;
	uint8_t syn_retries;
	enum tcp_rtx_kind rtx_kind;
	uint64_t retrans_stamp; /* first retransmission of the head */
	uint64_t lsndtime;	/* last data sent */
	uint64_t lrcvtime;	/* last segment received */
	/* Delayed ACK */
	uint32_t quickack; /* segments still acked at once */
	uint32_t ack_pending_segs;
	bool ack_pending;
	uint64_t ato;
	/* Congestion control (bytes) */
	uint32_t cwnd, ssthresh;
	uint32_t bytes_acked_ca; /* Reno: acked bytes toward +1 MSS */
	uint8_t ca_state;
	uint32_t dupacks;
	uint32_t reordering; /* DupThresh, segments (net.ipv4.tcp_reordering,
			      * raised by reordering SACK reveals) */
	uint32_t recover;    /* NewReno: snd_max at loss (RFC 6582) */
	uint32_t high_seq;
	uint32_t prior_cwnd;
	struct tcp_cubic cubic;
	struct tcp_scoreboard sb; /* segments in flight (tcp_sack.c) */
	/* Out-of-order queue: skbs sorted by seq, data at the payload, cb
	 * holds [seq, end_seq). Bounded by TCP_OFO_MAX_SEGS and rcvbuf. */
	struct wp_skb_queue ofo;
	/* SACK we send (RFC 2018 4): the most recent block first. */
	struct wp_tcp_sack_block sacks[WP_TCP_SACK_MAX];
	uint8_t nr_sacks;
	/* Challenge ACKs (RFC 5961 7): this second's count. */
	uint64_t chal_window;
	uint32_t chal_count;
	/* Timers: deadlines (WP_TIME_NEVER: off), heap position. */
	uint64_t timer[TCP_T__MAX];
	uint64_t timer_next;
	int32_t heap_idx; /* -1: not in the heap */
	bool fin_pending; /* close/shutdown in SYN_RECV: FIN once
			   * established */
	/* Statistics */
	uint64_t bytes_acked, bytes_received;
	uint32_t segs_in, segs_out, total_retrans;
};

static inline struct wp_tcp_sock *tcp_sk(struct wp_sock *sk)
{
	return (struct wp_tcp_sock *)(void *)sk;
}

/* skb->cb of a received segment inside TCP (it starts with the IP cb,
 * which the handover to another core keeps). */
struct tcp_skb_cb {
	struct wp_ip_cb ip;
	uint32_t seq, end_seq; /* end_seq counts SYN and FIN */
	uint32_t ack_seq;
	uint16_t flags;
	uint16_t doff; /* header bytes, as sent */
};

static inline struct tcp_skb_cb *tcp_cb(struct wp_skb *skb)
{
	_Static_assert(sizeof(struct tcp_skb_cb) <= sizeof(skb->cb), "cb");
	return (struct tcp_skb_cb *)(void *)skb->cb;
}

/* --- per core and per stack --------------------------------------------------
 */

struct tcp_cpu {
	struct wp_net_cpu *pc;
	/* Work from other threads: sockets with requests, segments for
	 * sockets this core owns. One lock, taken once per drain. */
	pthread_mutex_t lock;
	struct wp_tcp_sock *work_head, *work_tail;
	struct wp_skb_queue backlog; /* handed-over segments */
	_Atomic uint32_t nwork;
	/* Timers: a binary min-heap of sockets by timer_next. */
	struct wp_tcp_sock **heap;
	uint32_t heap_len, heap_cap;
	uint32_t nblocked; /* sockets waiting for TX ring room */
} wp_cacheline_aligned;

#define TCP_BACKLOG_MAX 1000 /* handed-over segments per core */

struct tcp_ebucket {
	pthread_mutex_t lock;
	struct wp_tcp_sock *head;
};

struct tcp_bslot {
	pthread_mutex_t lock;
	struct wp_tcp_sock *head;
} wp_cacheline_aligned;

#define TCP_BHASH_SLOTS 256

struct wp_tcp_table {
	struct tcp_ebucket *ehash;
	uint32_t ehash_mask;
	struct tcp_bslot bhash[TCP_BHASH_SLOTS];
	struct tcp_cpu *pcpu;
	uint32_t ncpus;
	uint32_t isn_key[4]; /* RFC 6528: the secret, from the seed */
	uint32_t ts_key;
	uint32_t cookie_key[2][4]; /* SYN cookies' two hashes */
	_Atomic uint32_t port_seq;
	_Atomic uint32_t tw_count;
	_Atomic uint32_t nsocks; /* sockets alive (leak checks) */
	const struct tcp_cc_ops *cc_default;
};

/* --- tables (tcp_table.c)
 * ----------------------------------------------------- */

uint32_t wp__tcp_hash4(const struct wp_tcp_table *t, uint32_t saddr,
		       uint16_t sport, uint32_t daddr, uint16_t dport);
/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, key),
 * M a 4 us timer from the injected clock. */
uint32_t wp__tcp_isn(const struct wp_tcp_table *t, uint64_t now_ns,
		     uint32_t saddr, uint16_t sport, uint32_t daddr,
		     uint16_t dport);
/* A per-connection TSval offset (RFC 7323 7.1). */
uint32_t wp__tcp_ts_off(const struct wp_tcp_table *t, uint32_t saddr,
			uint32_t daddr);
/* SipHash-2-4 of two 64-bit words under a 128-bit key. */
uint64_t wp__tcp_siphash(const uint32_t key[4], uint64_t a, uint64_t b);
/* __inet_lookup_established: the socket of the 4-tuple (any state but
 * LISTEN), held; NULL. Addresses as seen from us: local/remote. */
struct wp_tcp_sock *wp__tcp_lookup_established(struct wp_net *net,
					       uint32_t laddr, uint16_t lport,
					       uint32_t raddr, uint16_t rport);
/* The listener for laddr:lport (an exact address beats INADDR_ANY), held. */
struct wp_tcp_sock *wp__tcp_lookup_listener(struct wp_net *net, uint32_t laddr,
					    uint16_t lport);
/* Hash into ehash (a new child, a connect). -EADDRINUSE if the 4-tuple is
 * taken. The table holds a reference. */
int wp__tcp_ehash_insert(struct wp_net *net, struct wp_tcp_sock *tp);
void wp__tcp_ehash_remove(struct wp_net *net, struct wp_tcp_sock *tp);
void wp__tcp_bhash_remove(struct wp_net *net, struct wp_tcp_sock *tp);
int wp__tcp_bind_port(struct wp_tcp_sock *tp, uint32_t addr, uint16_t port,
		      bool listen);
/* Choose a source port for saddr -> daddr:dport and hash the socket in
 * both tables. -EADDRNOTAVAIL if none is free. */
int wp__tcp_connect_hash(struct wp_tcp_sock *tp);

/* --- per-core queues and timers (tcp_timer.c) -------------------------------
 */

/* Put tp on its owner's work queue (any thread). */
void wp__tcp_request(struct wp_tcp_sock *tp, uint32_t req);
void wp__tcp_timer_set(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
		       enum tcp_timer which, uint64_t when);
void wp__tcp_timer_clear(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			 enum tcp_timer which);
void wp__tcp_timers_clear_all(struct tcp_cpu *tc, struct wp_tcp_sock *tp);
static inline struct tcp_cpu *tcp_cpu_of(struct wp_tcp_sock *tp)
{
	return &tp->net->tcp->pcpu[tp->sk.sk_cpu];
}
/* (Re)arm the retransmit timer for the current RTO (with backoff). */
void wp__tcp_arm_rto(struct tcp_cpu *tc, struct wp_tcp_sock *tp);
void wp__tcp_arm_keepalive(struct tcp_cpu *tc, struct wp_tcp_sock *tp);

/* --- input (tcp_input.c)
 * ------------------------------------------------------ */

/* Set sk_state, keep CurrEstab, wake waiters. */
void wp__tcp_set_state(struct tcp_cpu *tc, struct wp_tcp_sock *tp, int st);
/* tcp_done: to CLOSE, unhash, clear timers; the table's reference goes. */
void wp__tcp_done(struct tcp_cpu *tc, struct wp_tcp_sock *tp);
/* Abort with err (ECONNRESET, ETIMEDOUT, ...): report and tcp_done. */
void wp__tcp_abort(struct tcp_cpu *tc, struct wp_tcp_sock *tp, int err);
void wp__tcp_update_info(struct wp_tcp_sock *tp);
/* RFC 6298 2.2/2.3: take an RTT sample (ns). */
void wp__tcp_rtt_sample(struct wp_tcp_sock *tp, uint64_t rtt);
/* Our window scale for a passive open (tcp_select_initial_window). */
uint8_t wp__tcp_select_rcv_wscale(const struct wp_tcp_sock *tp);
/* Receive space in payload bytes (the window before rounding). */
uint32_t wp__tcp_space(const struct wp_tcp_sock *tp);
/* Free the skbs tp holds (OFO, the reader's partial skb). */
void wp__tcp_purge(struct wp_tcp_sock *tp);

/* --- SYN cookies (tcp_syncookies.c)
 * ------------------------------------------------------ */

/* A listener's cookies are good for two periods of the counter (Linux
 * MAX_SYNCOOKIE_AGE minutes) after the last one it sent. */
#define TCP_SYNCOOKIE_PERIOD (60 * WP_NSEC_PER_SEC)
#define TCP_SYNCOOKIE_VALID (2 * TCP_SYNCOOKIE_PERIOD)

/* A SYN for lsk (laddr: ours, raddr: theirs) that gets a cookie: send
 * the SYN-ACK that carries the connection in its ISN (and TSval), keep
 * nothing. Counts SyncookiesSent. */
void wp__tcp_syncookie_send(struct wp_net_cpu *pc, struct wp_tcp_sock *lsk,
			    uint32_t laddr, uint32_t raddr,
			    const struct wp_tcp_repr *th);
/*
 * cookie_v4_check: is this ACK (neither SYN nor RST) the third of a
 * handshake answered with a cookie? 0 and, in *o, the options of the
 * SYN as the cookie kept them (MSS from msstab; with timestamps, the
 * window scale and SACK; tsval the ACK's), for syn_options(); -1 if it
 * is no cookie of ours or one too old, or one whose options the
 * sysctls no longer allow.
 */
int wp__tcp_syncookie_check(const struct wp_net *net, uint64_t now,
			    uint32_t laddr, uint32_t raddr,
			    const struct wp_tcp_repr *th,
			    struct wp_tcp_opts *o);

/* --- sockets (tcp.c)
 * ------------------------------------------------------------ */

/* A child of a listener (SYN received): its settings, one reference. */
struct wp_tcp_sock *wp__tcp_sock_child(struct wp_tcp_sock *listener);
/* The send ring, sized from sk_sndbuf (rounded down to a power of two,
 * so that seq - snd_base maps to the same offset across the 2^32 wrap of
 * sequence numbers). 0 or -ENOMEM. */
int wp__tcp_alloc_ring(struct wp_tcp_sock *tp);
/* tcp_sndbuf_expand, on the owning core after an ACK: a ring smaller
 * than two congestion windows grows (doubling, up to tcp_wmem[2]) unless
 * SO_SNDBUF fixed it. */
void wp__tcp_sndbuf_expand(struct wp_tcp_sock *tp);

/* --- output (tcp_output.c)
 * ---------------------------------------------------- */

/* tcp_select_window: the window field to send, updating rcv_wnd/rcv_wup. */
uint16_t wp__tcp_select_window(struct wp_tcp_sock *tp);
/* Our TSval now. */
uint32_t wp__tcp_tsval(const struct wp_tcp_sock *tp, uint64_t now);
void wp__tcp_send_ack(struct tcp_cpu *tc, struct wp_tcp_sock *tp);
/* A segment from snd_una-1 with no data: keepalive, window probe. */
void wp__tcp_send_probe0(struct tcp_cpu *tc, struct wp_tcp_sock *tp);
void wp__tcp_send_syn(struct tcp_cpu *tc, struct wp_tcp_sock *tp);
void wp__tcp_send_synack(struct tcp_cpu *tc, struct wp_tcp_sock *tp);
/* A SYN-ACK with no socket behind it (a SYN cookie's): r says it all,
 * saddr ours, daddr theirs. */
void wp__tcp_send_synack_stateless(struct wp_net_cpu *pc, uint32_t saddr,
				   uint32_t daddr, const struct wp_tcp_repr *r);
/* RST|ACK from a socket (abort). */
void wp__tcp_send_active_reset(struct tcp_cpu *tc, struct wp_tcp_sock *tp);
/* RFC 9293 3.10.7.1: the RST answering a segment (no socket, or one that
 * must be refused). th: the segment's parsed header. */
void wp__tcp_v4_send_reset(struct wp_net_cpu *pc, uint32_t saddr,
			   uint32_t daddr, const struct wp_tcp_repr *th,
			   uint32_t seg_len);
/* Send what the windows allow (data, then the FIN). */
void wp__tcp_write_xmit(struct tcp_cpu *tc, struct wp_tcp_sock *tp);
/* Retransmit the scoreboard segment holding seq, without touching its
 * marks (NewReno, a smaller path MTU). */
int wp__tcp_retransmit_at(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			  uint32_t seq);
/* Free descriptors on the core's TX queue (reclaims when low). */
uint32_t wp__tcp_tx_room(struct wp_net_cpu *pc);
/* The MSS for output given the path MTU and the peer's clamp. */
void wp__tcp_sync_mss(struct wp_tcp_sock *tp);
/* Bytes of option space a data segment carries. */
uint32_t wp__tcp_opt_len(const struct wp_tcp_sock *tp);
/* Bytes in the ring not yet acknowledged, and not yet sent. */
static inline uint32_t tcp_write_seq(const struct wp_tcp_sock *tp)
{
	return atomic_load_explicit(&((struct wp_tcp_sock *)tp)->write_seq,
				    memory_order_acquire);
}

/* --- SACK and loss recovery (tcp_sack.c)
 * ------------------------------------------------- */

/* The scoreboard for a send ring of snd_size bytes. 0 or -ENOMEM. */
int wp__tcp_sb_alloc(struct wp_tcp_sock *tp);
/* The send ring grew: the scoreboard follows (owning core, on the rare
 * doubling of the ring; the entries are copied). 0 or -ENOMEM, the old
 * one kept. */
int wp__tcp_sb_grow(struct wp_tcp_sock *tp);
void wp__tcp_sb_free(struct wp_tcp_sock *tp);
/* Empty, its marks at snd_una: the connection is established. */
void wp__tcp_sb_reset(struct wp_tcp_sock *tp);
static inline uint32_t tcp_sb_len(const struct tcp_scoreboard *sb)
{
	return sb->tail - sb->head;
}
static inline struct tcp_sb_seg *tcp_sb_at(const struct tcp_scoreboard *sb,
					   uint32_t i)
{
	return &sb->seg[i & (sb->cap - 1)];
}
/* RFC 6675 pipe, bytes: the sender's estimate of what is in the network. */
static inline uint32_t tcp_pipe(const struct wp_tcp_sock *tp)
{
	const struct tcp_scoreboard *sb = &tp->sb;

	return tp->snd_nxt - tp->snd_una - sb->sacked_bytes - sb->lost_bytes +
	       sb->retrans_bytes;
}
/* A segment [seq, end_seq) was sent for the first time. The caller checked
 * there is room (tcp_sb_len < cap). */
void wp__tcp_sb_push(struct wp_tcp_sock *tp, uint32_t seq, uint32_t end_seq,
		     bool fin);
/* The cumulative ACK moved to ack: forget what it covers. */
void wp__tcp_sb_clean(struct wp_tcp_sock *tp, uint32_t ack);
/* Flags of wp__tcp_sacktag's result. */
enum {
	TCP_SACK_NEW = 1u << 0,	  /* octets SACKed for the first time */
	TCP_SACK_DSACK = 1u << 1, /* a D-SACK block (RFC 2883) came */
};
/* Take the SACK blocks of an ACK (RFC 2018, RFC 2883): validate them,
 * count what is discarded, mark what they newly cover. TCP_SACK_*. */
uint32_t wp__tcp_sacktag(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			 const struct wp_tcp_repr *th);
/* After an ACK of a SACK connection: loss marking (IsLost), lost
 * retransmissions, entering RFC 6675 recovery. */
void wp__tcp_sack_recovery(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			   uint32_t flag);
/* RTO: every segment not SACKed is lost (Linux tcp_enter_loss), and the
 * oldest goes again now. */
void wp__tcp_sb_enter_loss(struct tcp_cpu *tc, struct wp_tcp_sock *tp);
/* NextSeg rule 1 (and the retransmissions of CA_LOSS): the lost segments
 * the window has room for. Returns -ENOBUFS when the TX ring is full. */
int wp__tcp_xmit_lost(struct tcp_cpu *tc, struct wp_tcp_sock *tp);
/* NextSeg rules 3 and 4, after new data (rule 2) was sent. */
void wp__tcp_xmit_recovery_tail(struct tcp_cpu *tc, struct wp_tcp_sock *tp);
/* Retransmit one scoreboard segment from its first unacknowledged byte,
 * in pieces of the current MSS. 0, -ENOBUFS. */
int wp__tcp_retransmit_seg(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			   struct tcp_sb_seg *e);
/* The dupack threshold now (RFC 6675 DupThresh, RFC 5827 early
 * retransmit for a small flight). */
uint32_t wp__tcp_dupthresh(const struct wp_tcp_sock *tp);

/* --- the stack's sysctls, read at use ----------------------------------------
 */

static inline int32_t tcp_sysctl(const struct wp_net *net,
				 const _Atomic int32_t *v, int32_t dflt)
{
	return net->sysctl ? wp_sysctl_read(v) : dflt;
}

#define TCP_SYSCTL(net, field, dflt)                                           \
	tcp_sysctl((net), (net)->sysctl ? &(net)->sysctl->field : NULL, (dflt))

#endif
