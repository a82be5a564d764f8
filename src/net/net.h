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
 *       -> wp_ip_rcv -> PREROUTING -> route: ours? -> (reassembly)
 *            -> INPUT -> wp_ip_local_deliver -> wp_icmp_rcv | wp_udp_rcv | tcp
 * Every input function consumes its skb, on error too; every drop goes
 * through wp_kfree_skb_reason() and a MIB counter.
 *
 * Transmit: protocol code on a core thread calls wp_ip_queue_xmit():
 *     OUTPUT -> route -> fragment above the MTU -> POSTROUTING
 *       -> neighbour resolve (queue while INCOMPLETE, bounded)
 *       -> Ethernet header -> wp_nic_xmit on this core's TX queue
 * Application threads never touch the NIC: they hand finished skbs to the
 * core that owns the socket with wp_net_submit() (an MPSC queue per core,
 * drained by a core hook), so routes, neighbours and TX rings stay
 * single-threaded per core.
 *
 * Threads: tables shared by all cores (neighbours, routes, sockets) take
 * their own locks; counters are per core (struct wp_net_mib per cpu,
 * summed for display) so the hot path never does an atomic add.
 *
 * The IP layer keeps the family apart (struct wp_net_ipv4) so IPv6 can be
 * a sibling later.
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

struct wp_net_config {
	uint8_t mac[6];
	uint32_t addr;          /* host order */
	uint8_t prefix_len;
	uint32_t gw;            /* 0: no default route */
	uint32_t mtu;
	bool vlan_accept;       /* strip 802.1Q tags (true) or drop tagged frames */
	uint32_t neigh_max;     /* neighbour table entries (gc_thresh3: 1024) */
	uint32_t neigh_queue;   /* packets queued per unresolved neighbour (3) */
	uint32_t ipfrag_high_thresh; /* bytes of pending fragments (4 MiB) */
	uint64_t ipfrag_time_ns;     /* reassembly timeout (30 s) */
	uint32_t icmp_ratelimit_ms;  /* per-destination token interval (1000) */
	uint32_t icmp_msgs_per_sec;  /* global burst limit (1000) */
};

void wp_net_config_default(struct wp_net_config *cfg);

/* netstat -s counters (RFC 4293 / Linux SNMP MIB names). */
struct wp_net_mib {
	/* Ip */
	uint64_t InReceives, InHdrErrors, InAddrErrors, InUnknownProtos,
		InDiscards, InDelivers, OutRequests, OutDiscards, OutNoRoutes,
		ReasmTimeout, ReasmReqds, ReasmOKs, ReasmFails, FragOKs,
		FragFails, FragCreates, InTruncatedPkts, InCsumErrors;
	/* Icmp */
	uint64_t IcmpInMsgs, IcmpInErrors, IcmpInCsumErrors, IcmpInDestUnreachs,
		IcmpInTimeExcds, IcmpInEchos, IcmpInEchoReps, IcmpOutMsgs,
		IcmpOutErrors, IcmpOutRateLimitGlobal, IcmpOutRateLimitHost,
		IcmpOutDestUnreachs, IcmpOutEchoReps, IcmpOutEchos,
		IcmpOutTimeExcds;
	/* Udp */
	uint64_t UdpInDatagrams, UdpNoPorts, UdpInErrors, UdpOutDatagrams,
		UdpRcvbufErrors, UdpSndbufErrors, UdpInCsumErrors;
	/* Arp (wirepath; Linux keeps these in /proc/net/stat/arp_cache) */
	uint64_t ArpInRequests, ArpInReplies, ArpOutRequests, ArpOutReplies,
		ArpInBad, ArpUnresolvedDiscards;
	/* Link */
	uint64_t EthInUnknownProto, EthInOtherHost, EthInVlanDropped;
};

/*
 * Create the protocol layer on a NIC. Sends a gratuitous ARP at start
 * (wp_net_start). NULL with errno on failure.
 */
struct wp_net *wp_net_create(const struct wp_net_config *cfg,
			     struct wp_clock *clock, struct wp_sysctl *sysctl,
			     struct wp_nic *nic, struct wp_cpu **cpus,
			     uint32_t ncpus);
void wp_net_destroy(struct wp_net *net);
int wp_net_start(struct wp_net *net);

/* The NAPI rx handler (wp_rx_handler_t): consumes every skb. */
void wp_netif_receive_skb_list(void *net, struct wp_napi *napi,
			       struct wp_skb_queue *skbs);

/* Application threads: hand a finished IP packet (skb->data at the IP
 * header) to core `cpu` for output. Consumes skb. 0 or -ENOBUFS. */
int wp_net_submit(struct wp_net *net, uint32_t cpu, struct wp_skb *skb);

/* Sum of every core's counters. */
void wp_net_mib_sum(const struct wp_net *net, struct wp_net_mib *out);

/* `netstat -s`-style text ("Ip:\n    N total packets received\n..."). */
void wp_net_print_netstat(const struct wp_net *net, FILE *out);
/* `ip neigh` and `ip route` text. */
void wp_net_print_neigh(const struct wp_net *net, FILE *out);
void wp_net_print_route(const struct wp_net *net, FILE *out);

#endif
