/* SPDX-License-Identifier: MIT */
/*
 * The protocol layer of one stack (Linux's struct net plus the one
 * net_device it has): interface settings, neighbours, routes, IPv4
 * reassembly, hooks, ICMP, UDP, the MIB counters of `netstat -s`.
 *
 * Receive: NAPI hands batches to wp_netif_receive_skb_list() on a core
 * thread:
 *     netif_receive_skb -> (802.1Q) -> EtherType dispatch
 *       -> wp_arp_rcv
 *       -> ip_rcv -> PREROUTING -> ours? -> (reassembly)
 *            -> INPUT -> ip_local_deliver -> icmp_rcv | udp_rcv | tcp
 * Every input function consumes its skb, on error too; every drop goes
 * through wp_kfree_skb_reason() and a MIB counter.
 *
 * Transmit: protocol code on a core thread calls wp_ip_queue_xmit():
 *     OUTPUT -> route -> POSTROUTING -> fragment above the MTU
 *       -> neighbour resolve (queue while INCOMPLETE, bounded)
 *       -> Ethernet header -> wp_nic_xmit on this core's TX queue
 * (POSTROUTING sees the whole datagram, as in Linux's ip_output.)
 * Frames sent while a core works through a batch (a NAPI list, its
 * timers, its submit queue) go out with xmit_more and one doorbell at
 * the end of the batch.
 * Application threads never touch the NIC: they hand finished skbs to a
 * core with wp_net_submit() (an MPSC queue per core, drained by a core
 * hook), so routes, neighbours and TX rings stay single-threaded per core.
 *
 * Cores: core c transmits on TX queue c (so ncpus <= NIC queues) and
 * allocates from the pool of RX queue c, which it owns. Timers (ARP,
 * reassembly) run from a hook on each core: neighbours on core 0,
 * reassembly queues on the core that holds them.
 *
 * Threads: tables shared by all cores (neighbours, routes, hooks, UDP
 * sockets) take their own locks; counters are per core (struct
 * wp_net_mib per cpu, summed for display) so the hot path never does an
 * atomic add. Counts made on application threads go to one shared block
 * with atomic adds.
 *
 * The IP layer keeps the family apart so IPv6 can be a sibling later.
 */
#ifndef WP_NET_NET_H
#define WP_NET_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/clock.h"
#include "core/cpu.h"
#include "core/sysctl.h"
#include "napi/napi.h"
#include "skb/skb.h"

struct wp_nic;
struct wp_net;

/* skb->pkt_type (Linux PACKET_*), set by netif_receive_skb. */
enum {
	WP_PACKET_HOST = 0,
	WP_PACKET_BROADCAST = 1,
	WP_PACKET_MULTICAST = 2,
	WP_PACKET_OTHERHOST = 3,
};

/* Bounds of the tables (each insert beyond them fails with -ENOSPC). */
#define WP_ROUTE_MAX 64	   /* routes, connected ones included */
#define WP_NF_RULES_MAX 64 /* hook rules, all hooks together */
#define WP_NET_STATIC_ARP_MAX 16
/* Room an output path pushes in front of a transport header: IPv4 with
 * options, an 802.1Q-tagged Ethernet header, rounded up. */
#define WP_NET_TX_HEADROOM 96

struct wp_net_config {
	uint8_t mac[6];
	uint32_t addr;	    /* host order */
	uint8_t prefix_len; /* 1..32 */
	uint32_t gw;	    /* 0: no default route */
	uint32_t mtu;
	bool vlan_accept;   /* strip 802.1Q tags (true) or drop tagged frames */
	uint32_t neigh_max; /* neighbour table entries (gc_thresh3: 1024) */
	uint32_t neigh_queue; /* packets queued per unresolved neighbour
			       * (unres_qlen: 101) */
	uint32_t neigh_queue_total; /* ... and in the whole table (256): the
				     * queued skbs hold RX pool buffers */
	uint32_t ipfrag_high_thresh; /* bytes of pending fragments (4 MiB) */
	uint64_t ipfrag_time_ns;     /* reassembly timeout (30 s) */
	uint32_t icmp_ratelimit_ms;  /* per-destination token interval (1000) */
	uint32_t icmp_msgs_per_sec;  /* global token rate (1000) */

	/* net.ipv4.neigh.default.* (Linux defaults) */
	uint64_t base_reachable_time_ns; /* 30 s; REACHABLE lasts 0.5..1.5x */
	uint64_t retrans_time_ns;	 /* 1 s between probes */
	uint64_t delay_first_probe_ns;	 /* 5 s in DELAY before probing */
	uint64_t gc_stale_time_ns;	 /* 60 s: unused STALE/FAILED go */
	uint32_t mcast_solicit;		 /* 3 broadcast probes (INCOMPLETE) */
	uint32_t ucast_solicit;		 /* 3 unicast probes (PROBE) */
	/* reassembly */
	uint32_t ipfrag_max_frags; /* fragments per datagram (128) */
	uint32_t
		ipfrag_max_queues; /* datagrams in reassembly per core (1024) */
	uint32_t ipfrag_big_bufs;  /* 64 KiB buffers per core for datagrams
				    * that outgrow a pool buffer (4) */
	/* icmp */
	uint32_t icmp_msgs_burst;	  /* global bucket depth (50) */
	bool icmp_echo_ignore_broadcasts; /* true, as Linux */
	/* udp: net.ipv4.ip_local_port_range */
	uint16_t port_lo, port_hi; /* 32768 60999 */
	/* wp_net_submit queue per core (netdev_max_backlog: 1000) */
	uint32_t submit_max;
	/* Static neighbours (PERMANENT), installed at creation. */
	uint32_t nstatic_arp;
	struct {
		uint32_t ip;
		uint8_t mac[6];
	} static_arp[WP_NET_STATIC_ARP_MAX];
	uint64_t seed; /* jitter of reachable_time, port choice, IP IDs */
};

void wp_net_config_default(struct wp_net_config *cfg);

/*
 * netstat -s counters (RFC 4293 / Linux SNMP MIB names). Each core
 * writes its own block; wp_net_mib_sum() adds them up.
 */
struct wp_net_mib {
	/* Ip */
	uint64_t InReceives, InHdrErrors, InAddrErrors, ForwDatagrams,
		InUnknownProtos, InDiscards, InDelivers, OutRequests,
		OutDiscards, OutNoRoutes, ReasmTimeout, ReasmReqds, ReasmOKs,
		ReasmFails, FragOKs, FragFails, FragCreates, InTruncatedPkts,
		InCsumErrors, ReasmOverlaps, InBcastPkts, InMcastPkts;
	/* Icmp */
	uint64_t IcmpInMsgs, IcmpInErrors, IcmpInCsumErrors, IcmpInDestUnreachs,
		IcmpInTimeExcds, IcmpInEchos, IcmpInEchoReps, IcmpOutMsgs,
		IcmpOutErrors, IcmpOutRateLimitGlobal, IcmpOutRateLimitHost,
		IcmpOutDestUnreachs, IcmpOutEchoReps, IcmpOutEchos,
		IcmpOutTimeExcds;
	/* Udp */
	uint64_t UdpInDatagrams, UdpNoPorts, UdpInErrors, UdpOutDatagrams,
		UdpRcvbufErrors, UdpSndbufErrors, UdpInCsumErrors,
		UdpIgnoredMulti;
	/* Arp (wirepath; Linux keeps these in /proc/net/stat/arp_cache) */
	uint64_t ArpInRequests, ArpInReplies, ArpOutRequests, ArpOutReplies,
		ArpInBad, ArpUnresolvedDiscards, ArpTableFulls;
	/* Link */
	uint64_t EthInUnknownProto, EthInOtherHost, EthInVlanDropped,
		EthInErrors;
	/* wp_net_submit: full queue (counted on the submitting thread) */
	uint64_t SubmitDrops;
	/* Tcp (RFC 4022). CurrEstab is a gauge: each core adds and
	 * subtracts (modulo 2^64), so only the sum means something. */
	uint64_t TcpActiveOpens, TcpPassiveOpens, TcpAttemptFails,
		TcpEstabResets, TcpCurrEstab, TcpInSegs, TcpOutSegs,
		TcpRetransSegs, TcpInErrs, TcpOutRsts, TcpInCsumErrors;
	/* TcpExt (Linux LINUX_MIB_* names) */
	uint64_t SyncookiesSent, SyncookiesRecv, SyncookiesFailed,
		EmbryonicRsts, ListenOverflows, ListenDrops, TW, PAWSEstab,
		DelayedACKs, TCPHPHits, TCPPureAcks, TCPHPAcks, TCPRenoRecovery,
		TCPSackRecovery, TCPFastRetrans, TCPSlowStartRetrans,
		TCPTimeouts, TCPLossProbes, TCPOFOQueue, TCPOFODrop, OfoPruned,
		TCPOFOMerge, TCPRcvQDrop, TCPChallengeACK, TCPSYNChallenge,
		TCPAbortOnData, TCPAbortOnClose, TCPAbortOnTimeout,
		TCPAbortOnLinger, TCPAbortFailed, TCPSACKReneging,
		TCPSACKDiscard, TCPDSACKRecv, TCPWantZeroWindowAdv,
		TCPToZeroWindowAdv, TCPFromZeroWindowAdv, TCPZeroWindowDrop,
		TCPKeepAlive, TCPWinProbe, TCPBacklogCoalesce, TCPBacklogDrop,
		TCPOrigDataSent, TCPDelivered, TCPSynRetrans, TCPTimeWaitOverflow,
		TCPACKSkippedSeq, TCPRcvCoalesce, OutOfWindowIcmps,
		TCPReqQFullDoCookies, TCPReqQFullDrop;
	/* TcpExt of the SACK sender (src/tcp/tcp_sack.c) */
	uint64_t TCPSACKReorder, TCPLostRetransmit, TCPDSACKOfoRecv,
		TCPDSACKIgnoredOld, TCPDSACKIgnoredNoUndo, TCPDSACKRecvSegs,
		TCPDSACKIgnoredDubious;
};

/*
 * Create the protocol layer on a NIC: the connected route from
 * addr/prefix_len, the default route via gw, the static neighbours.
 * ncpus must not exceed the NIC's queues (core c transmits on queue c).
 * The NIC's rx handler is not touched: the caller points it at
 * wp_netif_receive_skb_list with this net as context. NULL with errno:
 * EINVAL (a bad setting), ENOMEM.
 */
struct wp_net *wp_net_create(const struct wp_net_config *cfg,
			     struct wp_clock *clock, struct wp_sysctl *sysctl,
			     struct wp_nic *nic, struct wp_cpu **cpus,
			     uint32_t ncpus);
/*
 * Drops what the layer still holds (pending ARP, fragments, submit
 * queues) and frees it. Cores must be stopped. Sockets still hashed are
 * unhashed (their table reference is put); their owners close them. NULL:
 * no-op.
 */
void wp_net_destroy(struct wp_net *net);
/*
 * Install the timer hooks on every core (before the core threads start)
 * and queue a gratuitous ARP, which core 0 sends on its first run.
 * Twice: -EALREADY. -ENOSPC if a core has no hook slot left.
 */
int wp_net_start(struct wp_net *net);

/* The NAPI rx handler (wp_rx_handler_t): consumes every skb. */
void wp_netif_receive_skb_list(void *net, struct wp_napi *napi,
			       struct wp_skb_queue *skbs);

/*
 * Application threads: hand a finished IP packet (skb->data at the IP
 * header, WP_NET_TX_HEADROOM in front of it) to core `cpu` (taken modulo
 * the core count) for output. Consumes skb. 0 or -ENOBUFS (the queue
 * holds submit_max packets: dropped and counted in SubmitDrops).
 */
int wp_net_submit(struct wp_net *net, uint32_t cpu, struct wp_skb *skb);

/* Sum of every core's counters and the shared block. */
void wp_net_mib_sum(const struct wp_net *net, struct wp_net_mib *out);

/* `netstat -s`-style text ("Ip:\n    N total packets received\n..."). */
void wp_net_print_netstat(const struct wp_net *net, FILE *out);
/* `ip neigh` and `ip route` text. */
void wp_net_print_neigh(const struct wp_net *net, FILE *out);
void wp_net_print_route(const struct wp_net *net, FILE *out);

uint32_t wp_net_addr(const struct wp_net *net);
uint32_t wp_net_mtu(const struct wp_net *net);
uint32_t wp_net_ncpus(const struct wp_net *net);

/* --- IPv4 output (core threads) ------------------------------------------ */

struct wp_ip_tx {
	uint32_t saddr; /* 0: the interface address */
	uint32_t daddr;
	uint8_t protocol;
	uint8_t tos;
	uint8_t ttl; /* 0: 64 (net.ipv4.ip_default_ttl) */
	bool df;     /* don't fragment: larger than the MTU is -EMSGSIZE */
};

/*
 * ip_queue_xmit: on core `cpu`'s thread, push an IPv4 header in front of
 * skb->data (the transport header) and send it down the output path.
 * Consumes skb. Returns 0 (sent, or queued for ARP), or:
 *   -ENETUNREACH  no route (OutNoRoutes)
 *   -EMSGSIZE     df and longer than the MTU (FragFails, FRAG_NEEDED),
 *                 or longer than 65535
 *   -EPERM        a hook rule dropped it
 *   -ENOBUFS      no buffer for a fragment, TX ring full
 *   -EINVAL       a bad header request (no room in front, cpu out of range)
 */
int wp_ip_queue_xmit(struct wp_net *net, uint32_t cpu, struct wp_skb *skb,
		     const struct wp_ip_tx *tx);

/*
 * Any thread: push the IPv4 header for tx in front of skb->data (ID from
 * the hashed counters, checksum), without sending. Borrows skb; on
 * error it is untouched: -ENOSPC (no headroom), -EMSGSIZE (over 65535).
 */
int wp_ip_build_header(struct wp_net *net, struct wp_skb *skb,
		       const struct wp_ip_tx *tx);

/* --- what the IP layer tells transport protocols ------------------------ */

/*
 * skb->cb while an skb is inside IPv4 and when it reaches a transport
 * handler (Linux inet_skb_parm). Transport protocols may extend it (the
 * UDP cb starts with it).
 */
struct wp_ip_cb {
	uint32_t saddr, daddr; /* host order */
	uint16_t hdr_len;      /* IHL * 4 */
	uint16_t frag_off;     /* reassembly: payload bytes [off, end) */
	uint16_t frag_end;
	uint16_t id;
	uint8_t protocol;
	uint8_t ttl;
	uint8_t tos;
	uint8_t flags; /* WP_IPCB_* */
};

enum {
	WP_IPCB_FRAG_LAST = 1u << 0,  /* reassembly: MF clear */
	WP_IPCB_REASSEMBLED = 1u << 1 /* built from fragments */
};

static inline struct wp_ip_cb *wp_ip_cb(struct wp_skb *skb)
{
	_Static_assert(sizeof(struct wp_ip_cb) <= sizeof(skb->cb), "cb");
	return (struct wp_ip_cb *)(void *)skb->cb;
}

/* An ICMP error about a datagram we sent, for the transport protocol. */
struct wp_icmp_err {
	uint8_t type, code;
	uint16_t mtu;	       /* frag needed: next-hop MTU, or 0 */
	uint32_t saddr, daddr; /* of the quoted datagram (saddr: ours) */
	uint8_t protocol;
	const uint8_t *l4; /* its transport header: at least 8 bytes */
	size_t l4_len;
};

/*
 * A transport protocol (inet_add_protocol). rcv runs on a core thread
 * with skb->data at the transport header, skb->len its length (padding
 * trimmed), network_header set and wp_ip_cb filled; it consumes skb.
 * err (optional) learns of ICMP errors about datagrams of that
 * protocol. Without a handler a datagram gets ICMP protocol unreachable.
 */
typedef void (*wp_l4_rcv_t)(void *ctx, struct wp_net *net, uint32_t cpu,
			    struct wp_skb *skb);
typedef void (*wp_l4_err_t)(void *ctx, struct wp_net *net, uint32_t cpu,
			    const struct wp_icmp_err *err);

/* Before wp_net_start. -EEXIST if the protocol has a handler (ICMP and
 * UDP are built in), -EINVAL without rcv. */
int wp_net_add_protocol(struct wp_net *net, uint8_t protocol, wp_l4_rcv_t rcv,
			wp_l4_err_t err, void *ctx);

/* --- neighbours (ip neigh) ---------------------------------------------- */

/* Linux NUD_* values. */
enum wp_nud_state {
	WP_NUD_NONE = 0x00,
	WP_NUD_INCOMPLETE = 0x01,
	WP_NUD_REACHABLE = 0x02,
	WP_NUD_STALE = 0x04,
	WP_NUD_DELAY = 0x08,
	WP_NUD_PROBE = 0x10,
	WP_NUD_FAILED = 0x20,
	WP_NUD_PERMANENT = 0x80,
};

/* "REACHABLE" etc., as ip neigh prints them. */
const char *wp_nud_state_name(int state);

/*
 * ip neigh replace IP lladdr MAC nud permanent: a static entry that ARP
 * never changes. Packets waiting for IP go out at core 0's next run.
 * -EINVAL (a multicast/zero MAC, or a martian IP), -ENOSPC (the table
 * is full of permanent entries).
 */
int wp_neigh_add_static(struct wp_net *net, uint32_t ip, const uint8_t mac[6]);
/* ip neigh del: any state; waiting packets are dropped (ARP_FAILED).
 * -ENOENT if there is no entry. */
int wp_neigh_del(struct wp_net *net, uint32_t ip);
/* The entry's state (WP_NUD_*) and, when it has one, its MAC; -ENOENT. */
int wp_neigh_lookup(const struct wp_net *net, uint32_t ip, int *state,
		    uint8_t mac[6]);

/* --- routes (ip route) ---------------------------------------------------- */

enum wp_rtn_type {
	WP_RTN_UNICAST,	  /* via nexthop (the gateway, or the address) */
	WP_RTN_LOCAL,	  /* our address */
	WP_RTN_BROADCAST, /* limited or subnet-directed broadcast */
	WP_RTN_MULTICAST,
};

struct wp_rt_result {
	enum wp_rtn_type type;
	uint32_t nexthop; /* the neighbour to resolve */
	uint32_t saddr;	  /* the source to use */
};

/*
 * ip route add DST/PLEN [via GW]: gw 0 means on-link. -EINVAL (bad
 * prefix length, or host bits set in dst), -EEXIST, -ENOSPC, and
 * -ENETUNREACH for a gateway no on-link route reaches ("Nexthop has
 * invalid gateway").
 */
int wp_route_add(struct wp_net *net, uint32_t dst, uint8_t plen, uint32_t gw);
/* ip route del DST/PLEN: -ESRCH if absent, -EPERM for the connected
 * route of the interface address. */
int wp_route_del(struct wp_net *net, uint32_t dst, uint8_t plen);
/* Longest-prefix match, any thread. 0 or -ENETUNREACH. */
int wp_route_lookup(const struct wp_net *net, uint32_t daddr,
		    struct wp_rt_result *res);

/* --- hooks (a small netfilter) ---------------------------------------------
 */

enum wp_nf_hook {
	WP_NF_PRE_ROUTING,  /* every valid IPv4 datagram, fragments included */
	WP_NF_LOCAL_IN,	    /* datagrams for us, after reassembly */
	WP_NF_LOCAL_OUT,    /* datagrams we send, before routing */
	WP_NF_POST_ROUTING, /* datagrams we send, before fragmentation */
	WP_NF_HOOK_MAX,
};

enum wp_nf_verdict {
	WP_NF_ACCEPT, /* stop looking, let it through */
	WP_NF_DROP,   /* stop looking, drop it (WP_DROP_NETFILTER) */
	WP_NF_COUNT,  /* count it, look at the next rule */
};

/*
 * A rule matches when every field that is set matches: protocol (0:
 * any), src/dst prefixes (length 0: any), port ranges (0..0: any; a rule
 * with ports matches only TCP and UDP datagrams that carry them, so never
 * a non-first fragment). Rules of a hook are tried in the order they
 * were added; no rule matching means ACCEPT.
 */
struct wp_nf_rule {
	enum wp_nf_hook hook;
	uint8_t protocol;
	uint32_t src, dst;
	uint8_t src_len, dst_len;
	uint16_t sport_lo, sport_hi;
	uint16_t dport_lo, dport_hi;
	enum wp_nf_verdict verdict;
};

/* Returns the rule's handle (>= 0), -EINVAL or -ENOSPC. Any thread. */
int wp_nf_rule_add(struct wp_net *net, const struct wp_nf_rule *rule);
/* -ENOENT if no such handle. */
int wp_nf_rule_del(struct wp_net *net, int handle);
/* Packets and bytes the rule matched. -ENOENT if no such handle. */
int wp_nf_rule_counters(const struct wp_net *net, int handle, uint64_t *packets,
			uint64_t *bytes);
/* iptables -L -v -n style listing. */
void wp_net_print_rules(const struct wp_net *net, FILE *out);

#endif
