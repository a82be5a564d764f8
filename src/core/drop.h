/* SPDX-License-Identifier: MIT */
/*
 * Drop reasons: every packet the stack lets go of without delivering it is
 * counted under one of these (Linux's enum skb_drop_reason). The list is
 * one table so the enum and its printable names can never disagree.
 *
 * Counting: each thread that runs stack code may bind a per-thread
 * counter block (a core thread binds its cpu's block: this_cpu_inc in
 * Linux); threads that did not bind one count into a shared atomic
 * block. wp_drop_stats_sum() adds them for display.
 */
#ifndef WP_CORE_DROP_H
#define WP_CORE_DROP_H

#include <stdint.h>

#define WP_DROP_REASONS(X)                                                   \
	X(NOT_SPECIFIED, "not_specified")                                    \
	/* NIC and driver */                                                 \
	X(RING_FULL, "ring_full")                 /* rx_missed_errors */     \
	X(RX_LENGTH, "rx_length")                 /* rx_length_errors */     \
	X(RX_DESC_ERROR, "rx_desc_error")                                    \
	X(NOMEM, "nomem")                                                    \
	X(TX_RING_FULL, "tx_ring_full")                                      \
	X(DEV_DOWN, "dev_down")                                              \
	X(NO_HANDLER, "no_handler")                                          \
	X(TX_LENGTH, "tx_length")                 /* runt or over MTU */     \
	/* L2 */                                                             \
	X(ETH_RUNT, "eth_runt")                                              \
	X(ETH_OTHERHOST, "eth_otherhost")                                    \
	X(UNHANDLED_PROTO, "unhandled_proto")                                \
	X(VLAN, "vlan")                                                      \
	X(ARP_BAD, "arp_bad")                                                \
	X(ARP_QUEUE_FULL, "arp_queue_full")                                  \
	X(ARP_FAILED, "arp_failed")                                          \
	X(NEIGH_CREATEFAIL, "neigh_createfail")   /* table full */          \
	/* IPv4 */                                                           \
	X(IP_HDR, "ip_hdr")                                                  \
	X(IP_CSUM, "ip_csum")                                                \
	X(IP_LEN, "ip_len")                                                  \
	X(IP_TTL, "ip_ttl")                                                  \
	X(IP_MARTIAN, "ip_martian")                                          \
	X(IP_NOT_OURS, "ip_not_ours")                                        \
	X(IP_NOPROTO, "ip_noproto")                                          \
	X(IP_FRAG, "ip_frag")                                                \
	X(IP_REASM_TIMEOUT, "ip_reasm_timeout")                              \
	X(IP_REASM_MEM, "ip_reasm_mem")                                      \
	X(IP_FRAG_OVERLAP, "ip_frag_overlap")                                \
	X(NETFILTER, "netfilter")                                            \
	X(NO_ROUTE, "no_route")                                              \
	X(FRAG_NEEDED, "frag_needed")                                        \
	X(IP_FRAG_DUP, "ip_frag_dup")             /* exact duplicate */     \
	X(SUBMIT_QUEUE_FULL, "submit_queue_full") /* wp_net_submit */       \
	/* ICMP */                                                           \
	X(ICMP_BAD, "icmp_bad")                                              \
	X(ICMP_CSUM, "icmp_csum")                                            \
	X(ICMP_RATELIMIT, "icmp_ratelimit")                                  \
	/* UDP */                                                            \
	X(UDP_LEN, "udp_len")                                                \
	X(UDP_CSUM, "udp_csum")                                              \
	X(NO_SOCKET, "no_socket")                                            \
	X(SOCKET_RCVBUFF, "socket_rcvbuff")                                  \
	X(SOCKET_CLOSED, "socket_closed")                                    \
	/* TCP */                                                            \
	X(TCP_HDR, "tcp_hdr")                                                \
	X(TCP_CSUM, "tcp_csum")                                              \
	X(TCP_OPTION, "tcp_option")                                          \
	X(TCP_SEQUENCE, "tcp_sequence")                                      \
	X(TCP_ACK, "tcp_ack")                                                \
	X(TCP_RST, "tcp_rst")                                                \
	X(TCP_FLAGS, "tcp_flags")                                            \
	X(TCP_OFO_DROP, "tcp_ofo_drop")                                      \
	X(TCP_LISTEN_OVERFLOW, "tcp_listen_overflow")                        \
	X(TCP_OLD_DATA, "tcp_old_data")                                      \
	X(TCP_ZEROWINDOW, "tcp_zerowindow")                                  \
	X(TCP_BCAST, "tcp_bcast")                 /* not unicast to us */   \
	X(TCP_LAND, "tcp_land")                   /* from us to us */       \
	X(TCP_BACKLOG, "tcp_backlog")             /* owner core's queue */  \
	X(TCP_REQQFULLDROP, "tcp_reqqfulldrop")   /* SYN queue, no cookies */

enum wp_drop_reason {
#define WP__DROP_ENUM(name, str) WP_DROP_##name,
	WP_DROP_REASONS(WP__DROP_ENUM)
#undef WP__DROP_ENUM
	WP_DROP__MAX
};

struct wp_drop_stats {
	uint64_t count[WP_DROP__MAX];
};

/* "ip_csum" for WP_DROP_IP_CSUM; "?" for values out of range. */
const char *wp_drop_reason_name(enum wp_drop_reason r);

/* Count one drop on this thread's block (or the shared one). */
void wp_drop_count(enum wp_drop_reason r);

/*
 * Bind the calling thread's counter block (NULL unbinds). The block must
 * outlive the binding; only the bound thread writes it.
 */
void wp_drop_stats_bind(struct wp_drop_stats *s);

/* Shared block: drops counted by threads with no block of their own. */
void wp_drop_stats_shared(struct wp_drop_stats *out);

#endif
