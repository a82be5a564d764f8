/* SPDX-License-Identifier: MIT */
/*
 * TCP (RFC 9293): connection tables, input, output, timers, congestion
 * control. The socket system calls (wp_socket(SOCK_STREAM), wp_listen,
 * wp_accept, wp_connect, wp_send, wp_recv, ...) live above this and use
 * only what is declared here:
 *
 *   tsk = wp_tcp_sock_alloc(net);         socket(AF_INET, SOCK_STREAM)
 *   wp_tcp_bind(tsk, addr, port)          bind (port 0: ephemeral)
 *   wp_tcp_listen(tsk, backlog)           listen
 *   child = wp_tcp_accept(tsk, &err)      accept (never blocks: -EAGAIN)
 *   wp_tcp_connect(tsk, addr, port)       connect: -EINPROGRESS once the
 *                                         SYN is on its way; wait for
 *                                         EPOLLOUT, then wp_tcp_sock_error
 *   wp_tcp_sendmsg(tsk, buf, len)         send: copies what fits (partial)
 *   wp_tcp_recvmsg(tsk, buf, len, flags)  recv: copies what is there
 *   wp_tcp_shutdown(tsk, how)             shutdown
 *   wp_tcp_close(tsk)                     the last close (FIN, or RST with
 *                                         unread data or SO_LINGER 0)
 * None of these sleeps: blocking calls wait with wp_sock_wait() on the
 * poll mask (EPOLLIN for recv/accept, EPOLLOUT for send/connect).
 *
 * Threads (net.h): every TCP socket is owned by one core, sk_cpu (for an
 * active open the core RSS steers the peer's replies to; for a passive
 * open the core the SYN arrived on). Only that core runs the protocol:
 * input (a segment that arrives on another core is handed over through
 * the owner's TCP queue), output, timers. Application threads touch only
 * what they share with it:
 *   - the receive queue (sk_receive_queue, sk_rmem_alloc: socket lock);
 *   - the send ring: the application copies in past write_seq and
 *     publishes write_seq; the core reads [snd_una, write_seq) and
 *     publishes snd_una as ACKs free it (single producer, single consumer;
 *     concurrent senders are serialised by send_lock);
 *   - requests (connect, send, window update, shutdown, close): bits in
 *     `pending`, and the socket put on the owner's work queue, which the
 *     core drains from its hook;
 *   - the accept queue of a listener (its socket lock).
 * An application thread never builds or transmits a segment.
 *
 * Memory: received data stays in the skbs the NIC filled (zero copy up
 * to recv); they are charged to sk_rmem_alloc, and the window we
 * advertise is the free space of sk_rcvbuf (scaled from truesize to
 * payload): an application that does not read drives it to zero. Sent
 * data is copied into a ring of sk_sndbuf bytes allocated at connect or
 * accept; segments are cut from it just before the TX ring and
 * retransmitted from it, so segmentation and retransmission never hold
 * buffers of the NIC's pools.
 */
#ifndef WP_TCP_TCP_H
#define WP_TCP_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "sock/sock.h"

struct wp_net;
struct wp_net_cpu;
struct wp_skb;
struct wp_icmp_err;
struct wp_tcp_sock;

#define WP_SOCK_STREAM 1
#define WP_IPPROTO_TCP_SK 6

/* recv flags (Linux values). */
#define WP_MSG_PEEK 0x02
#define WP_MSG_DONTWAIT 0x40
#define WP_MSG_WAITALL 0x100

/* shutdown how (Linux SHUT_*). */
#define WP_SHUT_RD 0
#define WP_SHUT_WR 1
#define WP_SHUT_RDWR 2

/* The protocol ops of TCP sockets (poll: tcp_poll). */
extern const struct wp_proto wp_tcp_proto;

/*
 * A new, closed TCP socket with one reference (the caller's); rcvbuf and
 * sndbuf from net.ipv4.tcp_rmem[1] and tcp_wmem[1]. NULL with errno
 * ENOMEM.
 */
struct wp_tcp_sock *wp_tcp_sock_alloc(struct wp_net *net);

static inline struct wp_sock *wp_tcp_to_sk(struct wp_tcp_sock *tsk)
{
	return (struct wp_sock *)(void *)tsk;
}

/*
 * bind: addr 0 or our address; port 0 picks a free ephemeral port.
 *   -EINVAL         already bound, or not in CLOSE
 *   -EADDRNOTAVAIL  not an address of ours
 *   -EADDRINUSE     the port is bound by a socket whose address overlaps
 *                   (unless both set SO_REUSEADDR and neither listens);
 *                   no ephemeral port free
 */
int wp_tcp_bind(struct wp_tcp_sock *tsk, uint32_t addr, uint16_t port);

/*
 * listen: backlog bounds the accept queue and the SYN queue (clamped to
 * net.core.somaxconn; <= 0 means 1... as Linux, 0 allows one). Binds an
 * ephemeral port if unbound. A listening socket may listen again to
 * change its backlog. -EINVAL (not CLOSE or LISTEN), -EADDRINUSE.
 */
int wp_tcp_listen(struct wp_tcp_sock *tsk, int backlog);

/*
 * accept: the oldest established child, with one reference for the
 * caller (who maps it to a descriptor), or NULL with *err:
 *   -EAGAIN  nothing to accept yet (wait for EPOLLIN)
 *   -EINVAL  not listening
 */
struct wp_tcp_sock *wp_tcp_accept(struct wp_tcp_sock *tsk, int *err);

/*
 * connect: start an active open to addr:port (autobinds, chooses the
 * source address from the route and the owning core from RSS). Returns
 * -EINPROGRESS once the SYN is queued to the core (the handshake
 * completes there: EPOLLOUT then, or an error in wp_tcp_sock_error), or:
 *   -EISCONN      already connected
 *   -EALREADY     a connect is in progress
 *   -EINVAL       addr or port 0, a listening socket
 *   -ENETUNREACH  no route
 *   -EADDRNOTAVAIL no free 4-tuple (ephemeral ports exhausted)
 *   -ENOMEM       no memory for the send ring
 */
int wp_tcp_connect(struct wp_tcp_sock *tsk, uint32_t addr, uint16_t port);

/*
 * send: copy up to len bytes into the send ring and ask the core to send.
 * Returns the bytes taken (> 0, maybe fewer than len), or:
 *   -EAGAIN   the ring is full (wait for EPOLLOUT)
 *   -EPIPE    the sending side is shut down or the connection closed
 *   -ENOTCONN not connected (nor connecting)
 *   -<err>    a pending error (ECONNRESET, ETIMEDOUT, ...), taken
 * Data written while SYN_SENT waits in the ring for the handshake.
 */
ssize_t wp_tcp_sendmsg(struct wp_tcp_sock *tsk, const void *buf, size_t len);

/*
 * recv: copy up to len bytes of in-order data (WP_MSG_PEEK: leave them).
 * Returns the bytes copied (> 0), 0 at end of stream (the peer's FIN, or
 * SHUT_RD), or -EAGAIN (nothing yet), -ENOTCONN, or a pending error. A
 * read that frees receive space asks the core for a window update.
 */
ssize_t wp_tcp_recvmsg(struct wp_tcp_sock *tsk, void *buf, size_t len,
		       int flags);

/* shutdown: SHUT_WR queues a FIN after the data; SHUT_RD stops reading.
 * -EINVAL (bad how), -ENOTCONN (not connected). */
int wp_tcp_shutdown(struct wp_tcp_sock *tsk, int how);

/*
 * The last descriptor is gone: a listener drops its queues (children are
 * reset); a connection sends its FIN after the data (orderly release,
 * the core finishes it and frees it after TIME_WAIT or LAST_ACK), or a
 * RST when unread data remains or SO_LINGER is on with 0 (abortive).
 * Marks the socket dead; the caller then drops its reference. Also the
 * wp_proto close op.
 */
void wp_tcp_close(struct wp_tcp_sock *tsk);

/* SO_ERROR: take the pending error (0 or negative errno). */
int wp_tcp_sock_error(struct wp_tcp_sock *tsk);

/* --- socket options ------------------------------------------------------
 * Each returns 0 or -EINVAL (a value out of range). */
int wp_tcp_set_nodelay(struct wp_tcp_sock *tsk, bool on);    /* TCP_NODELAY */
int wp_tcp_set_reuseaddr(struct wp_tcp_sock *tsk, bool on);  /* SO_REUSEADDR */
int wp_tcp_set_keepalive(struct wp_tcp_sock *tsk, bool on);  /* SO_KEEPALIVE */
int wp_tcp_set_keepidle(struct wp_tcp_sock *tsk, int secs);  /* 1..32767 */
int wp_tcp_set_keepintvl(struct wp_tcp_sock *tsk, int secs); /* 1..32767 */
int wp_tcp_set_keepcnt(struct wp_tcp_sock *tsk, int cnt);    /* 1..127 */
int wp_tcp_set_linger(struct wp_tcp_sock *tsk, bool on,
		      int secs); /* SO_LINGER */
/* SO_SNDBUF / SO_RCVBUF (the value is doubled, as Linux does, and
 * clamped to wmem_max / rmem_max); the send ring takes its size at
 * connect or accept. */
int wp_tcp_set_sndbuf(struct wp_tcp_sock *tsk, int bytes);
int wp_tcp_set_rcvbuf(struct wp_tcp_sock *tsk, int bytes);
/* TCP_MAXSEG: clamp of the MSS we announce and use (88..65495); 0 off. */
int wp_tcp_set_maxseg(struct wp_tcp_sock *tsk, int mss);
/* TCP_CONGESTION: "reno" (NewReno) or "cubic"; -ENOENT otherwise. Before
 * connect or listen. */
int wp_tcp_set_congestion(struct wp_tcp_sock *tsk, const char *name);

/* The options as getsockopt reports them (defaults resolved from the
 * sysctls, as Linux does). */
struct wp_tcp_sockopts {
	bool nodelay, keepalive, linger;
	int linger_secs;
	int keepidle, keepintvl, keepcnt; /* s, s, probes */
	int maxseg; /* TCP_MAXSEG: the MSS in use once connected, else the
		     * clamp set, else 536 */
	char congestion[16];
};

void wp_tcp_get_opts(struct wp_tcp_sock *tsk, struct wp_tcp_sockopts *o);

/*
 * TCP_INFO: a snapshot (Linux struct tcp_info names and units: times in
 * microseconds, windows in bytes unless noted). Published by the owning
 * core at every state change and ACK; read here under the socket lock.
 */
struct wp_tcp_info {
	uint8_t state;	     /* enum wp_sk_state */
	uint8_t ca_state;    /* 0 open, 1 disorder, 3 recovery, 4 loss */
	uint8_t retransmits; /* consecutive timeouts of the current segment */
	uint8_t probes;	     /* unanswered zero-window or keepalive probes */
	uint8_t backoff;
	uint8_t options; /* WP_TCPI_OPT_* */
	uint8_t snd_wscale, rcv_wscale;
	uint32_t rto, ato; /* us */
	uint32_t snd_mss, rcv_mss;
	uint32_t unacked; /* segments in flight */
	uint32_t sacked;  /* of those, SACKed */
	uint32_t lost;	  /* of those, presumed lost */
	uint32_t retrans; /* retransmissions in flight */
	uint32_t total_retrans;
	uint32_t rtt, rttvar;		 /* us */
	uint32_t snd_ssthresh, snd_cwnd; /* segments */
	uint32_t snd_wnd, rcv_wnd;	 /* bytes, as last sent / received */
	uint32_t reordering;
	uint64_t bytes_acked, bytes_received;
	uint32_t segs_out, segs_in;
	uint32_t notsent_bytes;
	char ca_name[8];
};

enum {
	WP_TCPI_OPT_TIMESTAMPS = 1,
	WP_TCPI_OPT_SACK = 2,
	WP_TCPI_OPT_WSCALE = 4,
};

void wp_tcp_get_info(struct wp_tcp_sock *tsk, struct wp_tcp_info *info);

/* The socket's addresses (host order), for getsockname/getpeername. */
void wp_tcp_get_addrs(const struct wp_tcp_sock *tsk, uint32_t *saddr,
		      uint16_t *sport, uint32_t *daddr, uint16_t *dport);

/* SIOCINQ: in-order bytes not yet read. SIOCOUTQ: bytes in the send
 * buffer not yet acknowledged (sent or not). Lock-free. */
uint32_t wp_tcp_inq(const struct wp_tcp_sock *tsk);
uint32_t wp_tcp_outq(const struct wp_tcp_sock *tsk);

/* tcp_poll: the readiness mask, lock-free. */
uint32_t wp_tcp_poll(struct wp_sock *sk);

/* ss's name of a state ("ESTAB", "SYN-SENT", ...; "UNCONN" for CLOSE). */
const char *wp_tcp_state_name(int st);

/* TCP sockets alive on net (any state, TIME_WAIT and orphans too). */
uint32_t wp_tcp_nsocks(const struct wp_net *net);

/*
 * Connections in the tables whose state is in mask (bit 1 << state,
 * enum wp_sk_state), orphans included: e.g. how many still wait for an
 * ACK of their FIN. Takes the bucket locks one at a time.
 */
uint32_t wp_tcp_count_states(const struct wp_net *net, uint32_t mask);

/* Sockets in the tables, `ss -t -a -n` style; _ex with details: each
 * connection followed by an indented `ss -i` line (congestion control,
 * rto, rtt/rttvar in ms, mss, cwnd, windows, bytes, retransmissions). */
void wp_tcp_print_sockets(const struct wp_net *net, FILE *out);
void wp_tcp_print_sockets_ex(const struct wp_net *net, bool details, FILE *out);

/* --- the protocol layer's side (src/net) ---------------------------------- */

int wp__tcp_init(struct wp_net *net);
/* Cores stopped: every table, queue and timer lets go of its sockets
 * (connections still open are dropped without a segment). */
void wp__tcp_destroy(struct wp_net *net);
/* tcp_v4_rcv: a core thread, skb->data at the TCP header. Consumes. */
void wp__tcp_v4_rcv(struct wp_net_cpu *pc, struct wp_skb *skb);
/* tcp_v4_err: an ICMP error about a segment we sent. */
void wp__tcp_err(struct wp_net_cpu *pc, const struct wp_icmp_err *err);
/* The core's hook, inside its batch: handed-over segments, requests of
 * application threads, expired timers. */
void wp__tcp_cpu_run(struct wp_net_cpu *pc);
/* The core's next TCP deadline (WP_TIME_NEVER: none), and whether it has
 * queued work now. */
uint64_t wp__tcp_next_timer(const struct wp_net_cpu *pc);
bool wp__tcp_has_work(const struct wp_net_cpu *pc);

#endif
