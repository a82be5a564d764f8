// SPDX-License-Identifier: MIT
/*
 * UDP (Linux net/ipv4/udp.c): the socket table, input, ICMP errors,
 * output. See udp.h for the contract.
 *
 * The table: WP_UDP_HSLOTS slots by local port, each a mutex and a list
 * (Linux's hslot). Fields a lookup reads (addresses, ports) change only
 * under the socket's slot lock; the socket's own syscalls read them
 * outside it with relaxed atomic loads (a send racing a connect on the
 * same socket sees the old or the new peer, as on Linux).
 */
#include "net/net_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/csum.h"
#include "wire/icmp.h"
#include "wire/udp.h"

#define WP_UDP_HSLOTS 256

struct wp_udp_slot {
	pthread_mutex_t lock;
	struct wp_udp_sock *head;
} wp_cacheline_aligned;

struct wp_udp_table {
	struct wp_udp_slot slot[WP_UDP_HSLOTS];
};

#define UDP_LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define UDP_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Most sockets one broadcast or multicast datagram is cloned to. */
#define UDP_MCAST_MAX 32

static struct wp_udp_slot *udp_slot(const struct wp_net *net, uint16_t port)
{
	return &net->udp->slot[port & (WP_UDP_HSLOTS - 1)];
}

int wp__udp_init(struct wp_net *net)
{
	net->udp = aligned_alloc(WP_CACHELINE, sizeof(*net->udp));
	if (!net->udp)
		return -ENOMEM;
	for (int i = 0; i < WP_UDP_HSLOTS; i++) {
		pthread_mutex_init(&net->udp->slot[i].lock, NULL);
		net->udp->slot[i].head = NULL;
	}
	return 0;
}

void wp__udp_destroy(struct wp_net *net)
{
	if (!net->udp)
		return;
	for (int i = 0; i < WP_UDP_HSLOTS; i++) {
		struct wp_udp_slot *s = &net->udp->slot[i];
		struct wp_udp_sock *u;

		/* The table's references; the owners still hold theirs. */
		while ((u = s->head)) {
			s->head = u->hnext;
			u->hnext = NULL;
			UDP_STORE(u->hashed, false);
			wp_sock_put(&u->sk);
		}
		pthread_mutex_destroy(&s->lock);
	}
	free(net->udp);
	net->udp = NULL;
}

/* --- sockets ------------------------------------------------------------- */

static void udp_close_op(struct wp_sock *sk)
{
	struct wp_udp_sock *usk = wp_udp_sk(sk);
	struct wp_udp_slot *s;
	struct wp_udp_sock **pp;
	bool was = false;

	if (!UDP_LOAD(usk->hashed))
		return;
	s = udp_slot(usk->net, usk->lport);
	pthread_mutex_lock(&s->lock);
	for (pp = &s->head; *pp; pp = &(*pp)->hnext) {
		if (*pp == usk) {
			*pp = usk->hnext;
			usk->hnext = NULL;
			UDP_STORE(usk->hashed, false);
			was = true;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (was)
		wp_sock_put(sk);
}

static void udp_free(struct wp_sock *sk)
{
	free(wp_udp_sk(sk));
}

const struct wp_proto wp_udp_proto = {
	.name = "UDP",
	.poll = wp_datagram_poll,
	.close = udp_close_op,
	.free = udp_free,
};

struct wp_udp_sock *wp_udp_sock_alloc(struct wp_net *net)
{
	struct wp_udp_sock *usk = calloc(1, sizeof(*usk));

	if (!usk) {
		errno = ENOMEM;
		return NULL;
	}
	wp_sock_init(&usk->sk, &wp_udp_proto, WP_AF_INET, WP_SOCK_DGRAM,
		     WP_IPPROTO_UDP_SK, net->sysctl);
	usk->sk.sk_clock = net->clock;
	usk->net = net;
	return usk;
}

void wp_udp_set_reuseaddr(struct wp_udp_sock *usk, bool on)
{
	UDP_STORE(usk->reuseaddr, on);
}

void wp_udp_set_reuseport(struct wp_udp_sock *usk, bool on)
{
	UDP_STORE(usk->reuseport, on);
}

void wp_udp_close(struct wp_udp_sock *usk)
{
	udp_close_op(&usk->sk);
	wp_lock_sock(&usk->sk);
	wp_sock_set_flag(&usk->sk, WP_SOCK_DEAD);
	wp_release_sock(&usk->sk);
}

/*
 * udp_lib_lport_inuse: would `usk` bound to addr:port clash with `o`?
 * Addresses overlap when equal or either is INADDR_ANY; both sockets
 * setting SO_REUSEADDR, or both SO_REUSEPORT, may share.
 */
static bool bind_conflict(const struct wp_udp_sock *usk,
			  const struct wp_udp_sock *o, uint32_t addr,
			  uint16_t port)
{
	if (o == usk || o->lport != port)
		return false;
	if (addr && o->rcv_saddr && addr != o->rcv_saddr)
		return false;
	if (usk->reuseaddr && o->reuseaddr)
		return false;
	if (usk->reuseport && o->reuseport)
		return false;
	return true;
}

/* Under the slot's lock: hash usk at addr:port if nothing clashes. */
static int udp_hash_locked(struct wp_udp_slot *s, struct wp_udp_sock *usk,
			   uint32_t addr, uint16_t port)
{
	for (struct wp_udp_sock *o = s->head; o; o = o->hnext)
		if (bind_conflict(usk, o, addr, port))
			return -EADDRINUSE;
	UDP_STORE(usk->rcv_saddr, addr);
	UDP_STORE(usk->lport, port);
	wp_sock_hold(&usk->sk); /* the table's reference */
	usk->hnext = s->head;
	s->head = usk;
	UDP_STORE(usk->hashed, true);
	return 0;
}

static int udp_hash(struct wp_udp_sock *usk, uint32_t addr, uint16_t port)
{
	struct wp_udp_slot *s = udp_slot(usk->net, port);
	int ret;

	pthread_mutex_lock(&s->lock);
	ret = udp_hash_locked(s, usk, addr, port);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/*
 * inet_csk_get_port for port 0: the range from a start that moves by a
 * hashed step each call (Linux starts at a random offset), first free
 * port wins. O(range) slot visits when the range is nearly full.
 */
static int udp_get_port(struct wp_udp_sock *usk, uint32_t addr)
{
	struct wp_net *net = usk->net;
	uint32_t lo = net->cfg.port_lo, range = net->cfg.port_hi - lo + 1;
	uint32_t off = wp__net_hash32(atomic_fetch_add_explicit(
			       &net->port_seq, 1, memory_order_relaxed)) %
		       range;

	for (uint32_t i = 0; i < range; i++) {
		uint16_t port = (uint16_t)(lo + (off + i) % range);

		if (!udp_hash(usk, addr, port))
			return 0;
	}
	return -EADDRINUSE;
}

static bool udp_addr_ours(const struct wp_net *net, uint32_t addr)
{
	return addr == 0 || addr == net->addr || wp__net_is_bcast(net, addr) ||
	       wp_ipv4_is_multicast(addr);
}

int wp_udp_bind(struct wp_udp_sock *usk, uint32_t addr, uint16_t port)
{
	struct wp_net *net = usk->net;
	int ret;

	if (UDP_LOAD(usk->hashed) || UDP_LOAD(usk->lport))
		return -EINVAL;
	if (!udp_addr_ours(net, addr))
		return -EADDRNOTAVAIL;
	ret = port ? udp_hash(usk, addr, port) : udp_get_port(usk, addr);
	if (ret)
		return ret;
	/* A group or broadcast address receives; it is no source. */
	UDP_STORE(usk->saddr,
		  (wp_ipv4_is_multicast(addr) || wp__net_is_bcast(net, addr))
			  ? 0
			  : addr);
	UDP_STORE(usk->addr_locked, addr != 0);
	UDP_STORE(usk->port_locked, port != 0);
	return 0;
}

int wp_udp_connect(struct wp_udp_sock *usk, uint32_t addr, uint16_t port)
{
	struct wp_net *net = usk->net;
	struct wp_rt_result rt;
	struct wp_udp_slot *s;
	int ret;

	if (!addr || !port)
		return -EINVAL;
	if (wp_route_lookup(net, addr, &rt))
		return -ENETUNREACH;
	if (!UDP_LOAD(usk->hashed)) {
		ret = udp_get_port(usk, 0);
		if (ret)
			return ret;
	}
	s = udp_slot(net, usk->lport);
	pthread_mutex_lock(&s->lock);
	if (!usk->addr_locked) {
		UDP_STORE(usk->rcv_saddr, rt.saddr);
		UDP_STORE(usk->saddr, rt.saddr);
	}
	UDP_STORE(usk->daddr, addr);
	UDP_STORE(usk->dport, port);
	pthread_mutex_unlock(&s->lock);
	wp_sk_set_state(&usk->sk, WP_TCP_ESTABLISHED);
	return 0;
}

int wp_udp_disconnect(struct wp_udp_sock *usk)
{
	struct wp_udp_slot *s;

	if (UDP_LOAD(usk->hashed)) {
		s = udp_slot(usk->net, usk->lport);
		pthread_mutex_lock(&s->lock);
		UDP_STORE(usk->daddr, 0);
		UDP_STORE(usk->dport, 0);
		if (!usk->addr_locked) {
			UDP_STORE(usk->rcv_saddr, 0);
			UDP_STORE(usk->saddr, 0);
		}
		pthread_mutex_unlock(&s->lock);
		/* Linux __udp_disconnect: a port the user did not choose
		 * goes back to the pool. */
		if (!UDP_LOAD(usk->port_locked)) {
			udp_close_op(&usk->sk);
			UDP_STORE(usk->lport, 0);
		}
	}
	wp_sk_set_state(&usk->sk, WP_TCP_CLOSE);
	return 0;
}

/* --- lookup -----------------------------------------------------------------
 */

/* compute_score: -1 no match; more bound fields matching, higher. */
static int udp_score(const struct wp_udp_sock *u, uint32_t saddr,
		     uint16_t sport, uint32_t daddr, uint16_t dport)
{
	int score = 0;

	if (u->lport != dport)
		return -1;
	if (u->rcv_saddr) {
		if (u->rcv_saddr != daddr)
			return -1;
		score += 4;
	}
	if (u->daddr) {
		if (u->daddr != saddr)
			return -1;
		score += 4;
	}
	if (u->dport) {
		if (u->dport != sport)
			return -1;
		score += 4;
	}
	return score;
}

/*
 * Under the slot lock: the best socket, not held (the table's reference
 * keeps it while the lock is held); NULL if none.
 */
static struct wp_udp_sock *udp_lookup_locked(struct wp_udp_slot *s,
					     uint32_t saddr, uint16_t sport,
					     uint32_t daddr, uint16_t dport)
{
	struct wp_udp_sock *best = NULL;
	int best_score = -1;
	uint32_t nreuse = 0;

	for (struct wp_udp_sock *u = s->head; u; u = u->hnext) {
		int sc = udp_score(u, saddr, sport, daddr, dport);

		if (sc > best_score) {
			best = u;
			best_score = sc;
			nreuse = u->reuseport;
		} else if (sc == best_score && sc >= 0 && u->reuseport &&
			   best->reuseport) {
			nreuse++;
		}
	}
	if (best && nreuse > 1) {
		/* SO_REUSEPORT group: the flow hash picks one member, the
		 * same one for every datagram of the flow. */
		uint32_t k =
			wp__net_hash32(
				wp__net_hash32(saddr ^ wp__net_hash32(daddr)) ^
				((uint32_t)sport << 16 | dport)) %
			nreuse;

		for (struct wp_udp_sock *u = s->head; u; u = u->hnext) {
			if (!u->reuseport || udp_score(u, saddr, sport, daddr,
						       dport) != best_score)
				continue;
			if (k-- == 0) {
				best = u;
				break;
			}
		}
	}
	return best;
}

struct wp_udp_sock *wp_udp_lookup(struct wp_net *net, uint32_t saddr,
				  uint16_t sport, uint32_t daddr,
				  uint16_t dport)
{
	struct wp_udp_slot *s = udp_slot(net, dport);
	struct wp_udp_sock *u;

	pthread_mutex_lock(&s->lock);
	u = udp_lookup_locked(s, saddr, sport, daddr, dport);
	if (u)
		wp_sock_hold(&u->sk);
	pthread_mutex_unlock(&s->lock);
	return u;
}

/* --- input ---------------------------------------------------------------- */

/* Count what the socket layer did with datagrams for one socket. */
static void udp_count_rcv(struct wp_net_cpu *pc,
			  const struct wp_sock_rcv_result *res)
{
	WP_MIB_ADD(pc, UdpInDatagrams, res->queued);
	WP_MIB_ADD(pc, UdpRcvbufErrors, res->rcvbuf);
	/* A full socket, or one closed between lookup and queueing. */
	WP_MIB_ADD(pc, UdpInErrors, res->rcvbuf + res->closed);
}

/* __udp_queue_rcv_skb: onto the socket's queue. Consumes skb. */
static void udp_queue_rcv(struct wp_net_cpu *pc, struct wp_udp_sock *usk,
			  struct wp_skb *skb)
{
	struct wp_sock_rcv_result res;
	struct wp_skb_queue q;

	wp__net_stamp(pc, skb, WP_STAMP_SOCK_LOOKUP);
	wp_skb_queue_init(&q);
	wp_skb_queue_tail(&q, skb);
	wp_sock_queue_rcv_skb_list(&usk->sk, &q, &res);
	udp_count_rcv(pc, &res);
}

/*
 * List receive (Linux's netif_receive_skb_list carries a batch as far as
 * ip_list_rcv; here it goes on to the socket): within one NAPI poll a
 * core gathers each socket's datagrams, and wp__udp_rcv_flush queues each
 * socket's list under one lock with one wake-up, holding the socket once
 * for the batch instead of once per datagram. A datagram of the same
 * flow as the one before skips the lookup: its answer could differ only
 * through a bind or connect racing the batch, where either answer is
 * right, as on Linux. False if no socket matches (skb untouched).
 */
static bool udp_rcv_batch(struct wp_net_cpu *pc, struct wp_skb *skb,
			  const struct wp_udp_skb_cb *ucb)
{
	struct wp_udp_rcv_batch *b = &pc->udp_rx;
	struct wp_udp_slot *s;
	struct wp_udp_sock *usk;
	uint32_t i;

	if (b->n && b->saddr == ucb->saddr && b->sport == ucb->sport &&
	    b->daddr == ucb->daddr && b->dport == ucb->dport) {
		i = b->last;
		goto queue;
	}
	s = udp_slot(pc->net, ucb->dport);
	pthread_mutex_lock(&s->lock);
	usk = udp_lookup_locked(s, ucb->saddr, ucb->sport, ucb->daddr,
				ucb->dport);
	if (!usk) {
		pthread_mutex_unlock(&s->lock);
		return false;
	}
	for (i = 0; i < b->n; i++)
		if (b->e[i].usk == usk)
			break;
	if (i == b->n)
		wp_sock_hold(&usk->sk); /* the batch's reference */
	pthread_mutex_unlock(&s->lock);
	if (i == b->n) {
		if (b->n == WP_UDP_RCV_SOCKS)
			wp__udp_rcv_flush(pc);
		i = b->n++;
		b->e[i].usk = usk;
		wp_skb_queue_init(&b->e[i].q);
	}
	b->last = i;
	b->saddr = ucb->saddr;
	b->daddr = ucb->daddr;
	b->sport = ucb->sport;
	b->dport = ucb->dport;
queue:
	wp__net_stamp(pc, skb, WP_STAMP_SOCK_LOOKUP);
	wp_skb_queue_tail(&b->e[i].q, skb);
	return true;
}

void wp__udp_rcv_flush(struct wp_net_cpu *pc)
{
	struct wp_udp_rcv_batch *b = &pc->udp_rx;

	for (uint32_t i = 0; i < b->n; i++) {
		struct wp_sock_rcv_result res;

		wp_sock_queue_rcv_skb_list(&b->e[i].usk->sk, &b->e[i].q, &res);
		udp_count_rcv(pc, &res);
		wp_sock_put(&b->e[i].usk->sk);
		b->e[i].usk = NULL;
	}
	b->n = 0;
}

/*
 * __udp4_lib_mcast_deliver: every socket that matches gets the datagram
 * (clones share the data; the last socket takes the original).
 */
static void udp_mcast_deliver(struct wp_net_cpu *pc, struct wp_skb *skb)
{
	struct wp_udp_skb_cb *ucb = wp_udp_skb_cb(skb);
	struct wp_udp_slot *s = udp_slot(pc->net, ucb->dport);
	struct wp_udp_sock *found[UDP_MCAST_MAX];
	uint32_t n = 0;

	pthread_mutex_lock(&s->lock);
	for (struct wp_udp_sock *u = s->head; u && n < UDP_MCAST_MAX;
	     u = u->hnext) {
		if (udp_score(u, ucb->saddr, ucb->sport, ucb->daddr,
			      ucb->dport) < 0)
			continue;
		wp_sock_hold(&u->sk);
		found[n++] = u;
	}
	pthread_mutex_unlock(&s->lock);
	if (!n) {
		WP_MIB_INC(pc, UdpIgnoredMulti);
		wp_kfree_skb_reason(skb, WP_DROP_NO_SOCKET);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct wp_skb *c = i + 1 < n ? wp_skb_clone(skb) : skb;

		if (!c) {
			WP_MIB_INC(pc, UdpInErrors);
			wp_drop_count(WP_DROP_NOMEM);
		} else {
			udp_queue_rcv(pc, found[i], c);
		}
		wp_sock_put(&found[i]->sk);
	}
}

void wp__udp_rcv(struct wp_net_cpu *pc, struct wp_skb *skb)
{
	struct wp_net *net = pc->net;
	struct wp_ip_cb ip = *wp_ip_cb(skb);
	enum wp_drop_reason why = WP_DROP_UDP_LEN;
	struct wp_udp_skb_cb *ucb;
	struct wp_udp_sock *usk;
	struct wp_udp_repr u;

	wp__net_stamp(pc, skb, WP_STAMP_L4_RCV);
	if (wp_udp_parse(skb->data, skb->len, ip.saddr, ip.daddr,
			 skb->csum_valid ? WP_WIRE_CSUM_UNNECESSARY : 0, &u,
			 &why)) {
		if (why == WP_DROP_UDP_CSUM)
			WP_MIB_INC(pc, UdpInCsumErrors);
		WP_MIB_INC(pc, UdpInErrors);
		wp_kfree_skb_reason(skb, why);
		return;
	}
	/* The payload, trimmed to the UDP length; the cb now says where
	 * it came from for recvfrom. */
	wp_skb_pull(skb, WP_UDP_HLEN);
	wp_skb_trim(skb, (uint32_t)u.payload_len);
	ucb = wp_udp_skb_cb(skb);
	ucb->saddr = ip.saddr;
	ucb->daddr = ip.daddr;
	ucb->sport = u.sport;
	ucb->dport = u.dport;
	ucb->ttl = ip.ttl;
	ucb->tos = ip.tos;

	if (ip.daddr != net->addr) {
		/* After the unicast datagrams before it, as they came. */
		wp__udp_rcv_flush(pc);
		udp_mcast_deliver(pc, skb);
		return;
	}
	if (pc->in_batch && udp_rcv_batch(pc, skb, ucb))
		return;
	usk = pc->in_batch ? NULL
			   : wp_udp_lookup(net, ip.saddr, u.sport, ip.daddr,
					   u.dport);
	if (!usk) {
		/* RFC 1122 4.1.3.1: port unreachable. The network header
		 * and the UDP header in front of data are intact. */
		WP_MIB_INC(pc, UdpNoPorts);
		wp__icmp_send(pc, skb, WP_ICMP_DEST_UNREACH,
			      WP_ICMP_PORT_UNREACH, 0);
		wp_kfree_skb_reason(skb, WP_DROP_NO_SOCKET);
		return;
	}
	udp_queue_rcv(pc, usk, skb);
	wp_sock_put(&usk->sk);
}

/* Linux icmp_err_convert: the errno, and whether it is hard (fatal). */
static int icmp_errno(uint8_t type, uint8_t code, bool *hard)
{
	static const struct {
		int err;
		bool fatal;
	} unreach[] = {
		[WP_ICMP_NET_UNREACH] = { ENETUNREACH, false },
		[WP_ICMP_HOST_UNREACH] = { EHOSTUNREACH, false },
		[WP_ICMP_PROT_UNREACH] = { ENOPROTOOPT, true },
		[WP_ICMP_PORT_UNREACH] = { ECONNREFUSED, true },
		[WP_ICMP_FRAG_NEEDED] = { EMSGSIZE, true },
		[WP_ICMP_SR_FAILED] = { EOPNOTSUPP, false },
		[WP_ICMP_NET_UNKNOWN] = { ENETUNREACH, true },
		[WP_ICMP_HOST_UNKNOWN] = { EHOSTDOWN, true },
		[WP_ICMP_HOST_ISOLATED] = { ENONET, true },
		[WP_ICMP_NET_ANO] = { ENETUNREACH, true },
		[WP_ICMP_HOST_ANO] = { EHOSTUNREACH, true },
		[WP_ICMP_NET_UNR_TOS] = { ENETUNREACH, false },
		[WP_ICMP_HOST_UNR_TOS] = { EHOSTUNREACH, false },
		[WP_ICMP_PKT_FILTERED] = { EHOSTUNREACH, true },
		[WP_ICMP_PREC_VIOLATION] = { EHOSTUNREACH, true },
		[WP_ICMP_PREC_CUTOFF] = { EHOSTUNREACH, true },
	};

	if (type == WP_ICMP_DEST_UNREACH && code < WP_ARRAY_SIZE(unreach)) {
		*hard = unreach[code].fatal;
		return unreach[code].err;
	}
	*hard = false;
	return EHOSTUNREACH;
}

/*
 * __udp4_lib_err: an ICMP error about a datagram a socket sent. Without
 * IP_RECVERR (which we lack) Linux reports only hard errors, and only to
 * connected sockets: an unconnected socket cannot tell which of its
 * sends failed.
 */
void wp__udp_err(struct wp_net_cpu *pc, const struct wp_icmp_err *err)
{
	struct wp_udp_sock *usk;
	uint16_t sport, dport;
	bool hard;
	int e;

	if (err->l4_len < WP_UDP_HLEN)
		return;
	/* Datagrams that came before the error are queued before it. */
	wp__udp_rcv_flush(pc);
	sport = wp_get_be16(err->l4);
	dport = wp_get_be16(err->l4 + 2);
	usk = wp_udp_lookup(pc->net, err->daddr, dport, err->saddr, sport);
	if (!usk)
		return;
	e = icmp_errno(err->type, err->code, &hard);
	if (hard && UDP_LOAD(usk->daddr))
		wp_sock_set_err(&usk->sk, e);
	wp_sock_put(&usk->sk);
}

/* --- output ----------------------------------------------------------------
 */

static int udp_push_header(struct wp_skb *skb, uint32_t saddr, uint16_t sport,
			   uint32_t daddr, uint16_t dport)
{
	struct wp_udp_repr u = {
		.sport = sport,
		.dport = dport,
		.payload = NULL, /* already after the header */
		.payload_len = skb->len,
	};
	uint8_t *p;

	if (skb->len > WP_UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	p = wp_skb_push(skb, WP_UDP_HLEN);
	if (!p)
		return -ENOSPC;
	wp_udp_emit(&u, saddr, daddr, p, skb->len);
	wp_skb_reset_transport_header(skb);
	return 0;
}

int wp_udp_output(struct wp_net *net, uint32_t cpu, struct wp_skb *skb,
		  uint32_t saddr, uint16_t sport, uint32_t daddr,
		  uint16_t dport)
{
	struct wp_ip_tx tx = {
		.saddr = saddr ? saddr : net->addr,
		.daddr = daddr,
		.protocol = WP_IPPROTO_UDP,
	};
	int ret;

	if (!skb)
		return -EINVAL;
	if (cpu >= net->ncpus) {
		wp_kfree_skb_reason(skb, WP_DROP_NOT_SPECIFIED);
		return -EINVAL;
	}
	/* IP_PMTUDISC_WANT: DF when it fits, fragments when not. */
	tx.df = skb->len + WP_UDP_HLEN + WP_IPV4_HLEN <= net->mtu;
	ret = udp_push_header(skb, tx.saddr, sport, daddr, dport);
	if (ret) {
		wp_kfree_skb_reason(skb, WP_DROP_NOT_SPECIFIED);
		return ret == -ENOSPC ? -EINVAL : ret;
	}
	WP_MIB_INC(&net->pcpu[cpu], UdpOutDatagrams);
	return wp_ip_queue_xmit(net, cpu, skb, &tx);
}

int wp_udp_sendto(struct wp_udp_sock *usk, struct wp_skb *skb, uint32_t addr,
		  uint16_t port)
{
	struct wp_net *net = usk->net;
	struct wp_ip_tx tx = { .protocol = WP_IPPROTO_UDP };
	struct wp_rt_result rt;
	uint32_t cpu, total;
	uint16_t sport;
	int ret;

	if (!skb)
		return -EINVAL;
	if (!addr) {
		addr = UDP_LOAD(usk->daddr);
		port = UDP_LOAD(usk->dport);
		if (!addr) {
			ret = -EDESTADDRREQ;
			goto out_drop;
		}
	}
	if (!port) {
		ret = -EINVAL;
		goto out_drop;
	}
	if (skb->len > WP_UDP_MAX_PAYLOAD) {
		ret = -EMSGSIZE;
		goto out_drop;
	}
	total = skb->len + WP_UDP_HLEN + WP_IPV4_HLEN;
	if (UDP_LOAD(usk->pmtudisc_do) && total > net->mtu) {
		ret = -EMSGSIZE;
		goto out_drop;
	}
	if (wp_route_lookup(net, addr, &rt)) {
		WP_MIB_SHARED_INC(net, OutNoRoutes);
		ret = -ENETUNREACH;
		goto out_drop;
	}
	if (!UDP_LOAD(usk->hashed)) {
		ret = udp_get_port(usk, 0);
		if (ret)
			goto out_drop;
	}
	sport = UDP_LOAD(usk->lport);
	tx.saddr = UDP_LOAD(usk->saddr);
	if (!tx.saddr)
		tx.saddr = rt.saddr;
	tx.daddr = addr;
	tx.ttl = UDP_LOAD(usk->ttl);
	tx.tos = UDP_LOAD(usk->tos);
	tx.df = total <= net->mtu;
	if (udp_push_header(skb, tx.saddr, sport, addr, port) ||
	    wp_ip_build_header(net, skb, &tx)) {
		/* The caller left no headroom (WP_NET_TX_HEADROOM). */
		ret = -EINVAL;
		goto out_drop;
	}
	cpu = usk->sk.sk_cpu >= 0
		      ? (uint32_t)usk->sk.sk_cpu
		      : wp__net_hash32(tx.saddr ^ wp__net_hash32(addr) ^
				       ((uint32_t)sport << 16 | port));
	ret = wp_net_submit(net, cpu % net->ncpus, skb);
	if (ret) {
		WP_MIB_SHARED_INC(net, UdpSndbufErrors);
		return ret;
	}
	WP_MIB_SHARED_INC(net, UdpOutDatagrams);
	return 0;

out_drop:
	wp_kfree_skb_reason(skb, WP_DROP_NOT_SPECIFIED);
	return ret;
}

/* --- display ------------------------------------------------------------ */

static void print_addr_port(FILE *out, uint32_t a, uint16_t port, bool any)
{
	char buf[32];

	if (any)
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u:*", a >> 24,
			 (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	else
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u:%u", a >> 24,
			 (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff, port);
	fprintf(out, " %-21s", buf);
}

void wp_udp_print_sockets(const struct wp_net *net, FILE *out)
{
	fprintf(out, "State  Recv-Q Send-Q Local Address:Port     "
		     "Peer Address:Port\n");
	for (int i = 0; i < WP_UDP_HSLOTS; i++) {
		struct wp_udp_slot *s = &net->udp->slot[i];

		pthread_mutex_lock(&s->lock);
		for (struct wp_udp_sock *u = s->head; u; u = u->hnext) {
			fprintf(out, "%-6s %6u %6u",
				u->daddr ? "ESTAB" : "UNCONN",
				atomic_load(&u->sk.sk_rmem_alloc),
				atomic_load(&u->sk.sk_wmem_alloc));
			print_addr_port(out, u->rcv_saddr, u->lport, false);
			print_addr_port(out, u->daddr, u->dport, !u->daddr);
			fputc('\n', out);
		}
		pthread_mutex_unlock(&s->lock);
	}
}
