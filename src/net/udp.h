/* SPDX-License-Identifier: MIT */
/*
 * UDP (RFC 768): the socket table, input, output. The socket system
 * calls (wp_socket, wp_bind, wp_connect, wp_sendto, wp_recvfrom, ...)
 * live above this and use only what is declared here:
 *
 *   usk = wp_udp_sock_alloc(net);           socket(AF_INET, SOCK_DGRAM)
 *   wp_udp_set_reuseaddr / reuseport        setsockopt, before bind
 *   wp_udp_bind(usk, addr, port)            bind (port 0: ephemeral)
 *   wp_udp_connect(usk, addr, port)         connect (autobinds)
 *   wp_udp_disconnect(usk)                  connect(AF_UNSPEC)
 *   wp_udp_sendto(usk, skb, addr, port, f)  sendto / send
 *   skb = wp_sock_dequeue_rcv_skb(&usk->sk) recvfrom: skb->data/len is the
 *   cb = wp_udp_skb_cb(skb)                 payload, cb the sender
 *   wp_udp_close(usk)                       the last close: unhash, put
 *
 * Receive path (a core thread): checksum (a zero checksum means none,
 * RFC 768), then the socket lookup, then sk_receive_queue bounded by
 * sk_rcvbuf, then sk_data_ready:
 *   - lookup: the socket with the best match on the local port: bound
 *     address equal to the destination (+), connected peer equal to the
 *     source address and port (+); a wrong bound address or peer never
 *     matches. So a connected 4-tuple beats a bound address, which beats
 *     INADDR_ANY (Linux compute_score). Among equal SO_REUSEPORT
 *     sockets, the flow hash picks one.
 *   - broadcast and multicast go to every matching socket (clones).
 *     There is no group membership (IGMP) yet: a socket bound to
 *     INADDR_ANY hears every group on its port.
 *   - no socket: ICMP port unreachable (unicast only), UdpNoPorts.
 *   - full receive queue: dropped, UdpRcvbufErrors and UdpInErrors,
 *     WP_DROP_SOCKET_RCVBUFF.
 * UdpInDatagrams counts datagrams queued on a socket (Linux counts them
 * when read; here the read side belongs to the socket layer).
 *
 * Locking: the table has one lock per hash slot (by local port). Bind,
 * connect and close take it on application threads; lookups take it on
 * cores, hold the socket and release the slot before queueing. The table
 * holds one reference on each hashed socket.
 */
#ifndef WP_NET_UDP_H
#define WP_NET_UDP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sock/sock.h"

struct wp_net;
struct wp_skb;
struct wp_udp_table;

/* Linux values, for the socket layer's sockaddr handling. */
#define WP_AF_INET 2
#define WP_SOCK_DGRAM 2
#define WP_IPPROTO_UDP_SK 17
#define WP_UDP_MAX_PAYLOAD (65535 - 20 - 8)

struct wp_udp_sock {
	struct wp_sock sk; /* first: a wp_sock * of a UDP socket is this */
	struct wp_net *net;
	/* Written under the table slot's lock (bind, connect, close), read
	 * by lookups under it and by the owner's syscalls. */
	uint32_t rcv_saddr; /* bound address (inet_rcv_saddr), 0: any */
	uint32_t saddr;	    /* source of what it sends (inet_saddr) */
	uint16_t lport;	    /* 0: not bound */
	uint32_t daddr;	    /* connected peer, 0: none */
	uint16_t dport;
	bool reuseaddr; /* SO_REUSEADDR */
	bool reuseport; /* SO_REUSEPORT */
	bool hashed;
	bool addr_locked; /* bind() chose the address (SOCK_BINDADDR_LOCK) */
	bool port_locked; /* bind() chose the port (SOCK_BINDPORT_LOCK) */
	/* Sending options (setsockopt IP_TTL, IP_TOS, IP_MTU_DISCOVER). */
	uint8_t ttl; /* 0: 64 */
	uint8_t tos;
	bool pmtudisc_do; /* IP_PMTUDISC_DO: DF, EMSGSIZE above the MTU */
	struct wp_udp_sock *hnext;
};

static inline struct wp_udp_sock *wp_udp_sk(struct wp_sock *sk)
{
	return (struct wp_udp_sock *)(void *)sk;
}

/*
 * skb->cb of a datagram on a UDP receive queue: where it came from (for
 * recvfrom's address) and where it was sent. Host byte order.
 */
struct wp_udp_skb_cb {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint8_t ttl, tos;
};

static inline struct wp_udp_skb_cb *wp_udp_skb_cb(struct wp_skb *skb)
{
	return (struct wp_udp_skb_cb *)(void *)skb->cb;
}

/* The sock layer's protocol ops of UDP sockets (poll: datagram_poll). */
extern const struct wp_proto wp_udp_proto;

/*
 * A new, unbound UDP socket of net with one reference (the caller's),
 * rcvbuf/sndbuf from net's sysctls. NULL with errno ENOMEM. Its memory
 * is freed when the last reference goes (wp_sock_put).
 */
struct wp_udp_sock *wp_udp_sock_alloc(struct wp_net *net);

/* SO_REUSEADDR / SO_REUSEPORT: take effect at the next bind. */
void wp_udp_set_reuseaddr(struct wp_udp_sock *usk, bool on);
void wp_udp_set_reuseport(struct wp_udp_sock *usk, bool on);

/*
 * bind: addr 0 (INADDR_ANY), our address, a broadcast or a multicast
 * group; port 0 picks a free ephemeral port (ip_local_port_range, from a
 * seeded start). Returns 0 or:
 *   -EINVAL         already bound
 *   -EADDRNOTAVAIL  not an address of ours
 *   -EADDRINUSE     the port is taken by a socket whose address overlaps
 *                   (equal, or either is INADDR_ANY), unless both set
 *                   SO_REUSEADDR or both set SO_REUSEPORT; or no
 *                   ephemeral port is free
 */
int wp_udp_bind(struct wp_udp_sock *usk, uint32_t addr, uint16_t port);

/*
 * connect: datagrams go to addr:port by default and only datagrams from
 * there are received. Binds an ephemeral port first if unbound, and sets
 * the source address from the route unless bind chose one. Returns 0,
 * -EINVAL (addr or port 0), -ENETUNREACH (no route), -EADDRINUSE
 * (autobind found no port).
 */
int wp_udp_connect(struct wp_udp_sock *usk, uint32_t addr, uint16_t port);

/* connect(AF_UNSPEC): forget the peer; an address connect() chose is
 * forgotten too, and a port nobody bound explicitly goes back (Linux
 * __udp_disconnect). 0. */
int wp_udp_disconnect(struct wp_udp_sock *usk);

/*
 * sendto: send skb (data = the payload, at least WP_NET_TX_HEADROOM of
 * headroom, an skb this thread may hand over: it is freed on a core) to
 * addr:port, or to the connected peer when addr is 0. Autobinds. Builds
 * UDP (checksum over the pseudo-header) and IPv4 headers here and hands
 * the datagram to a core with wp_net_submit (the socket's sk_cpu, or a
 * hash of the flow). Any thread. Consumes skb, always. Returns 0 or:
 *   -EDESTADDRREQ  no address and not connected
 *   -EINVAL        port 0
 *   -EMSGSIZE      payload over 65507, or over the MTU with pmtudisc_do
 *   -ENETUNREACH   no route
 *   -EADDRINUSE    autobind found no port
 *   -ENOBUFS       the core's submit queue is full (UdpSndbufErrors)
 * UdpOutDatagrams counts datagrams handed to a core.
 */
int wp_udp_sendto(struct wp_udp_sock *usk, struct wp_skb *skb, uint32_t addr,
		  uint16_t port);

/*
 * For code running on core `cpu` (apps inside the stack, tests): send
 * skb (data = payload) from saddr:sport to daddr:dport through
 * wp_ip_queue_xmit. saddr 0: the interface address. Consumes skb.
 * Returns as wp_ip_queue_xmit, or -EMSGSIZE over 65507.
 */
int wp_udp_output(struct wp_net *net, uint32_t cpu, struct wp_skb *skb,
		  uint32_t saddr, uint16_t sport, uint32_t daddr,
		  uint16_t dport);

/*
 * The socket's last descriptor is gone: unhash it (its table reference
 * is put) and mark it dead; the caller then drops its own reference.
 * Also the wp_proto close op.
 */
void wp_udp_close(struct wp_udp_sock *usk);

/*
 * The socket that would receive a datagram saddr:sport -> daddr:dport,
 * held (release with wp_sock_put), or NULL. Any thread.
 */
struct wp_udp_sock *wp_udp_lookup(struct wp_net *net, uint32_t saddr,
				  uint16_t sport, uint32_t daddr,
				  uint16_t dport);

/* Hashed sockets, `ss -u -a -n` style. */
void wp_udp_print_sockets(const struct wp_net *net, FILE *out);

#endif
