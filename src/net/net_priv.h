/* SPDX-License-Identifier: MIT */
/*
 * The protocol layer's insides, shared by the files of src/net only.
 */
#ifndef WP_NET_NET_PRIV_H
#define WP_NET_NET_PRIV_H

#include <stdatomic.h>

#include "core/compiler.h"
#include "net/net.h"
#include "net/udp.h"
#include "tcp/tcp.h"
#include "wire/arp.h"
#include "nic/nic.h"
#include "skb/pool.h"
#include "wire/eth.h"
#include "wire/ipv4.h"

#define WP_IP_DEFAULT_TTL 64
/* ICMP errors quote at most this much so the error fits 576 bytes
 * (RFC 1812 4.3.2.3; Linux icmp_send). */
#define WP_ICMP_ERR_MAX_LEN 576
/* Headroom kept in front of a reassembled datagram in a big buffer. */
#define WP_IPFRAG_BIG_HEADROOM 64
#define WP_IP_IDENTS 2048 /* hashed IP ID counters (Linux ip_idents) */

/* --- counters ------------------------------------------------------------ */

/*
 * One writer per block (its core): a relaxed load and store, no atomic
 * read-modify-write, and readers on other threads see whole values.
 */
static inline void wp__mib_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

#define WP_MIB_INC(pc, field) wp__mib_add(&(pc)->mib.field, 1)
#define WP_MIB_ADD(pc, field, n) wp__mib_add(&(pc)->mib.field, (n))
/* Application threads count into the shared block. */
#define WP_MIB_SHARED_INC(net, field)                                          \
	__atomic_fetch_add(&(net)->shared_mib.field, 1, __ATOMIC_RELAXED)

/* --- neighbours ------------------------------------------------------------
 */

struct wp_neigh {
	uint32_t ip;
	struct wp_eth_addr lladdr;
	uint8_t state;		       /* WP_NUD_*; NONE: slot free */
	uint8_t probes;		       /* probes sent in this state */
	int32_t hnext;		       /* hash chain (slot index), -1 ends it */
	uint64_t confirmed;	       /* last proof of reachability */
	uint64_t updated;	       /* last state change: eviction age */
	uint64_t used;		       /* last output through it */
	uint64_t timer;		       /* next deadline, WP_TIME_NEVER: none */
	uint64_t reachable_time;       /* this entry's REACHABLE lifetime */
	struct wp_skb_queue arp_queue; /* skbs (at the IP header) waiting */
};

struct wp_neigh_table {
	pthread_mutex_t lock;
	struct wp_neigh *slots;
	uint32_t max;
	uint32_t count;
	uint32_t queued; /* skbs on every entry's arp_queue */
	int32_t *buckets; /* nbuckets heads, -1 empty */
	uint32_t nbuckets;
	uint64_t rng;
	/* Earliest entry deadline; read without the lock by core 0's hook
	 * so an idle table costs one load per loop. */
	_Atomic uint64_t next_timer;
};

/* --- routes ----------------------------------------------------------------
 */

enum { WP_RTPROT_KERNEL, WP_RTPROT_BOOT };

struct wp_route {
	uint32_t dst;
	uint32_t mask;
	uint8_t plen;
	uint8_t proto;
	uint32_t gw;
};

struct wp_route_table {
	pthread_rwlock_t lock;
	struct wp_route r[WP_ROUTE_MAX]; /* longest prefix first */
	uint32_t n;
	/* Bumped on every change: cores copy the table when it moves
	 * (their lookups take no lock). */
	_Atomic uint32_t gen;
};

/* A core's private copy of the routes. */
struct wp_route_snap {
	uint32_t gen;
	uint32_t n;
	struct wp_route r[WP_ROUTE_MAX];
};

/* --- hooks -------------------------------------------------------------- */

struct wp_nf_entry {
	struct wp_nf_rule rule;
	uint32_t src_mask, dst_mask;
	bool used;
	_Atomic uint64_t packets, bytes;
};

struct wp_nf_table {
	pthread_rwlock_t lock;
	struct wp_nf_entry e[WP_NF_RULES_MAX];
	int order[WP_NF_HOOK_MAX][WP_NF_RULES_MAX]; /* handles, in order */
	_Atomic uint32_t n[WP_NF_HOOK_MAX];
};

/* --- ICMP rate limits ------------------------------------------------------
 */

#define WP_ICMP_PEERS 256

struct wp_icmp_peer {
	uint32_t addr;
	uint64_t last;	 /* ns */
	uint64_t tokens; /* ns of credit, at most 6 intervals (Linux) */
};

struct wp_icmp_rl {
	pthread_mutex_t lock;
	uint64_t global_last;
	uint64_t global_credit; /* messages, scaled by 1000 */
	struct wp_icmp_peer peers[WP_ICMP_PEERS];
};

/* --- reassembly ----------------------------------------------------------- */

enum { WP_IPQ_FIRST_IN = 1u << 0, WP_IPQ_LAST_IN = 1u << 1 };

struct wp_ipq {
	uint32_t saddr, daddr;
	uint16_t id;
	uint8_t protocol;
	uint8_t flags;
	bool used;
	uint32_t len;  /* payload length: final once LAST_IN */
	uint32_t meat; /* payload bytes held */
	uint32_t nfrags;
	uint32_t mem; /* truesize charged to the memory counters */
	uint64_t expires;
	struct wp_skb_queue frags; /* by offset; data at the payload */
	struct wp_ipq *hnext;
	struct wp_ipq *lru_prev, *lru_next; /* oldest at lru_head */
};

struct wp_ipfrag_table {
	struct wp_ipq *qs;
	uint32_t max;
	uint32_t count;
	struct wp_ipq **buckets;
	uint32_t nbuckets;
	struct wp_ipq *free;
	struct wp_ipq *lru_head, *lru_tail;
	/* RX buffers this core holds in queues, and the bound: fragments
	 * must not starve the rings they came from. */
	uint32_t bufs;
	uint32_t bufs_max;
};

/* --- per core ------------------------------------------------------------- */

struct wp_tcp_table;

/* Sockets one UDP list receive gathers for before it flushes early. */
#define WP_UDP_RCV_SOCKS 8

/*
 * UDP datagrams gathered per socket over one batch (udp.c, list
 * receive), and the flow of the last one, whose next datagram skips the
 * lookup. Each socket is held once, by the batch.
 */
struct wp_udp_rcv_batch {
	uint32_t n;
	uint32_t last; /* entry of the last flow */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	struct {
		struct wp_udp_sock *usk;
		struct wp_skb_queue q;
	} e[WP_UDP_RCV_SOCKS];
};

struct wp_net_cpu {
	struct wp_net *net;
	struct wp_cpu *cpu;
	uint16_t id;   /* also the TX queue */
	bool in_batch; /* xmit with more = true, doorbell at batch end */
	bool tx_dirty;
	bool garp_pending;
	uint64_t now; /* clock, read once per batch */
	struct wp_udp_rcv_batch udp_rx;
	struct wp_net_mib mib;
	struct wp_route_snap routes;
	struct wp_ipfrag_table frags;
	struct wp_pool *big_pool; /* reassembled datagrams past a buffer */
	pthread_t big_owner;
	bool big_owned;
	/* wp_net_submit: MPSC, producers under the lock; the core takes
	 * the whole list at once. */
	_Alignas(WP_CACHELINE) pthread_mutex_t submit_lock;
	struct wp_skb_queue submit_q;
	_Atomic uint32_t submit_len;
} wp_cacheline_aligned;

struct wp_net_proto {
	wp_l4_rcv_t rcv;
	wp_l4_err_t err;
	void *ctx;
};

struct wp_net {
	struct wp_net_config cfg;
	struct wp_clock *clock;
	struct wp_sysctl *sysctl;
	struct wp_nic *nic;
	struct wp_cpu **cpus;
	uint32_t ncpus;
	struct wp_eth_addr mac;
	uint32_t addr, mask, bcast;
	uint32_t mtu;
	bool started;
	struct wp_net_cpu *pcpu;
	struct wp_net_mib shared_mib;
	struct wp_neigh_table neigh;
	struct wp_route_table routes;
	struct wp_nf_table nf;
	struct wp_icmp_rl icmp_rl;
	struct wp_udp_table *udp;
	struct wp_tcp_table *tcp;
	_Atomic uint64_t frag_mem;  /* truesize in every core's queues */
	_Atomic uint32_t ident_seq; /* IDs: salt for new destinations */
	_Atomic uint32_t ip_idents[WP_IP_IDENTS];
	uint32_t ident_key;
	_Atomic uint32_t port_seq; /* ephemeral port search start */
	struct wp_net_proto proto[256];
};

static inline struct wp_pool *wp__net_pool(struct wp_net_cpu *pc)
{
	return pc->net->nic->rxq[pc->id].pool;
}

/* A 32-bit mix (lowbias32): hashes of addresses and ports. */
static inline uint32_t wp__net_hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static inline uint32_t wp__prefix_mask(uint8_t plen)
{
	return plen ? 0xffffffffu << (32 - plen) : 0;
}

/* Our address, a broadcast we answer to, or a multicast group. */
static inline bool wp__net_is_local(const struct wp_net *net, uint32_t a)
{
	return a == net->addr;
}

static inline bool wp__net_is_bcast(const struct wp_net *net, uint32_t a)
{
	return wp_ipv4_is_lbcast(a) ||
	       (net->mask != 0xffffffffu && a == net->bcast);
}

/*
 * Stamp a sampled skb (tracing) with the time now: a fresh clock read,
 * paid only by the sampled few, so each stage shows its own time rather
 * than the batch's.
 */
static inline void wp__net_stamp(const struct wp_net_cpu *pc,
				 struct wp_skb *skb, enum wp_stamp stage)
{
	if (skb->stamps)
		wp_skb_stamp(skb, stage, wp_clock_now(pc->net->clock));
}

/* --- batching ----------------------------------------------------------------
 */

void wp__net_batch_begin(struct wp_net_cpu *pc);
void wp__net_batch_end(struct wp_net_cpu *pc);

/* Put a finished frame (data at the Ethernet header) on this core's TX
 * queue. Consumes skb. 0 or the wp_nic_xmit error. */
int wp__net_xmit(struct wp_net_cpu *pc, struct wp_skb *skb);

/* --- eth / arp / neighbours -------------------------------------------- */

/* Push an Ethernet header (our MAC to dst, type) and transmit; pads to
 * 60 bytes. Consumes skb. */
int wp__eth_xmit(struct wp_net_cpu *pc, struct wp_skb *skb,
		 const struct wp_eth_addr *dst, uint16_t ethertype);

void wp__arp_rcv(struct wp_net_cpu *pc, struct wp_skb *skb);
/* Send an ARP packet: dst NULL broadcasts; tha NULL is all zero. */
int wp__arp_send(struct wp_net_cpu *pc, uint16_t op, uint32_t tip,
		 const struct wp_eth_addr *dst, const struct wp_eth_addr *tha);

int wp__neigh_init(struct wp_net *net);
void wp__neigh_destroy(struct wp_net *net);
/*
 * neigh_output: send skb (data at the IP header) to nexthop, resolving
 * it first if needed (the skb then waits on the entry's queue). Consumes
 * skb. 0 (sent or queued) or a negative errno (dropped).
 */
int wp__neigh_output(struct wp_net_cpu *pc, struct wp_skb *skb,
		     uint32_t nexthop);
/*
 * What ARP learnt: ip is at mac. solicited: a reply to us (REACHABLE);
 * otherwise STALE. create: make an entry if there is none (a request
 * for our address). Sends what waited on the entry.
 */
void wp__neigh_update(struct wp_net_cpu *pc, uint32_t ip,
		      const struct wp_eth_addr *mac, bool solicited,
		      bool create);
/* Core 0's hook: timers of every entry. */
void wp__neigh_timer(struct wp_net_cpu *pc);

/* --- routes ------------------------------------------------------------------
 */

int wp__route_init(struct wp_net *net);
void wp__route_destroy(struct wp_net *net);
/* Core-thread lookup on the core's copy: no lock. */
int wp__route_output(struct wp_net_cpu *pc, uint32_t daddr,
		     struct wp_rt_result *res);

/* --- hooks
 * ------------------------------------------------------------------------ */

int wp__nf_init(struct wp_net *net);
void wp__nf_destroy(struct wp_net *net);
/*
 * Run hook's rules over a datagram (data at the IP header, repr its
 * parsed header). ACCEPT or DROP (the caller drops). Lock-free when the
 * hook has no rule.
 */
enum wp_nf_verdict wp__nf_hook(struct wp_net *net, enum wp_nf_hook hook,
			       const struct wp_skb *skb,
			       const struct wp_ipv4_repr *repr);

/*
 * True if hook has rules (Linux nf_hook's static key): the hot path
 * calls wp__nf_hook, and prepares what it needs, only then.
 */
static inline bool wp__nf_hook_active(struct wp_net *net, enum wp_nf_hook hook)
{
	return atomic_load_explicit(&net->nf.n[hook], memory_order_relaxed);
}

/* --- IPv4
 * ------------------------------------------------------------------------- */

void wp__ip_rcv(struct wp_net_cpu *pc, struct wp_skb *skb);
/* After reassembly (or for a whole datagram): INPUT hook, protocols. */
void wp__ip_local_deliver(struct wp_net_cpu *pc, struct wp_skb *skb);
/*
 * ip_local_out: a finished datagram (data at the IP header, repr its
 * header) through OUTPUT, routing, POSTROUTING, fragmentation and the
 * neighbour. Consumes skb. Returns as wp_ip_queue_xmit.
 */
int wp__ip_local_out(struct wp_net_cpu *pc, struct wp_skb *skb,
		     const struct wp_ipv4_repr *repr);
/* An IP ID for a datagram from saddr to daddr (any thread). */
uint16_t wp__ip_select_ident(struct wp_net *net, uint32_t saddr, uint32_t daddr,
			     uint8_t protocol);
/* Drain the submit queue (the core's hook). */
void wp__ip_submit_drain(struct wp_net_cpu *pc);

int wp__ipfrag_init(struct wp_net *net, struct wp_net_cpu *pc);
void wp__ipfrag_destroy(struct wp_net_cpu *pc);
/*
 * ip_defrag: queue a fragment (data at the IP payload, cb filled).
 * Consumes skb; returns the reassembled datagram (data at its IP
 * header) when this fragment completed it, else NULL.
 */
struct wp_skb *wp__ip_defrag(struct wp_net_cpu *pc, struct wp_skb *skb);
/* The core's hook: expire queues. */
void wp__ipfrag_timer(struct wp_net_cpu *pc);
/*
 * ip_fragment: send skb (a datagram longer than mtu, data at the IP
 * header, repr its header) as fragments to nexthop. Consumes skb.
 */
int wp__ip_fragment(struct wp_net_cpu *pc, struct wp_skb *skb,
		    const struct wp_ipv4_repr *repr, uint32_t nexthop);

/* --- ICMP
 * ------------------------------------------------------------------------- */

int wp__icmp_init(struct wp_net *net);
void wp__icmp_destroy(struct wp_net *net);
void wp__icmp_rcv(struct wp_net_cpu *pc, struct wp_skb *skb);
/*
 * icmp_send: an error of type/code about skb_in (borrowed; its
 * network_header marks the offending datagram, which must still be
 * intact). Applies RFC 1122 3.2.2 (never about an ICMP error, a
 * broadcast or multicast, a non-first fragment, a martian source) and
 * the rate limits.
 */
void wp__icmp_send(struct wp_net_cpu *pc, const struct wp_skb *skb_in,
		   uint8_t type, uint8_t code, uint16_t mtu);

/* --- UDP
 * ------------------------------------------------------------------------- */

int wp__udp_init(struct wp_net *net);
void wp__udp_destroy(struct wp_net *net);
void wp__udp_rcv(struct wp_net_cpu *pc, struct wp_skb *skb);
/* Queue what wp__udp_rcv gathered in this batch on its sockets. */
void wp__udp_rcv_flush(struct wp_net_cpu *pc);
void wp__udp_err(struct wp_net_cpu *pc, const struct wp_icmp_err *err);

#endif
