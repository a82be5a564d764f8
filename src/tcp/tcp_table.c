// SPDX-License-Identifier: MIT
/*
 * The connection tables (Linux inet_hashtables.c) and the initial
 * sequence numbers (RFC 6528).
 *
 *   ehash: every socket with a 4-tuple (SYN_SENT .. TIME_WAIT), in
 *          buckets chained through ehnext, one lock per bucket: lookups
 *          on cores, inserts on cores (children) and application threads
 *          (connect). The table holds a reference on each socket.
 *   bhash: every socket bound to a local port (bind, listen, connect), by
 *          port, one lock per slot. Listeners are found here; bind
 *          conflicts are judged here. Children of a listener live only in
 *          ehash: the listener holds their port. The table holds a
 *          reference.
 * Lock order: a bhash slot, then an ehash bucket.
 */
#include "tcp/tcp_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TCP_EHASH_SIZE 4096 /* buckets; a power of two */

#define TLOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define TSTORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* --- SipHash-2-4 (Aumasson, Bernstein): the keyed hash of RFC 6528 ------ */

static inline uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13);
	v[1] ^= v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17);
	v[1] ^= v[2];
	v[2] = rotl64(v[2], 32);
}

/* SipHash-2-4 of two 64-bit words (16 bytes of input). */
uint64_t wp__tcp_siphash(const uint32_t key[4], uint64_t a, uint64_t b)
{
	uint64_t k0 = (uint64_t)key[1] << 32 | key[0];
	uint64_t k1 = (uint64_t)key[3] << 32 | key[2];
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575ULL,
		k1 ^ 0x646f72616e646f6dULL,
		k0 ^ 0x6c7967656e657261ULL,
		k1 ^ 0x7465646279746573ULL,
	};
	uint64_t m[3] = { a, b, (uint64_t)16 << 56 };

	for (int i = 0; i < 3; i++) {
		v[3] ^= m[i];
		sipround(v);
		sipround(v);
		v[0] ^= m[i];
	}
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint32_t wp__tcp_isn(const struct wp_tcp_table *t, uint64_t now_ns,
		     uint32_t saddr, uint16_t sport, uint32_t daddr,
		     uint16_t dport)
{
	uint64_t f = wp__tcp_siphash(t->isn_key, (uint64_t)saddr << 32 | daddr,
				     (uint64_t)sport << 16 | dport);

	/* M: a timer ticking every 4 us (RFC 6528 3; RFC 9293 3.4.1). It
	 * wraps in 4.77 hours, longer than any MSL. */
	return (uint32_t)f + (uint32_t)(now_ns / 4000);
}

uint32_t wp__tcp_ts_off(const struct wp_tcp_table *t, uint32_t saddr,
			uint32_t daddr)
{
	uint32_t key[4] = { t->ts_key, t->isn_key[1] ^ 0x5a5a5a5au,
			    t->isn_key[2], t->isn_key[3] };

	return (uint32_t)wp__tcp_siphash(key, saddr, daddr);
}

uint32_t wp__tcp_hash4(const struct wp_tcp_table *t, uint32_t saddr,
		       uint16_t sport, uint32_t daddr, uint16_t dport)
{
	/* Not for secrecy (the chains are short and bounded by memory);
	 * keyed so that a peer cannot aim every tuple at one bucket
	 * without knowing the seed. */
	return wp__net_hash32(saddr ^ t->isn_key[0]) ^
	       wp__net_hash32(daddr + t->isn_key[1]) ^
	       wp__net_hash32(((uint32_t)sport << 16 | dport) ^ t->isn_key[2]);
}

/* --- lifetime ----------------------------------------------------------------
 */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int wp__tcp_init(struct wp_net *net)
{
	struct wp_tcp_table *t = aligned_alloc(WP_CACHELINE, sizeof(*t));
	uint64_t seed = net->cfg.seed ^ 0x746370u; /* "tcp" */

	if (!t)
		return -ENOMEM;
	memset(t, 0, sizeof(*t));
	t->ehash = calloc(TCP_EHASH_SIZE, sizeof(*t->ehash));
	t->pcpu = aligned_alloc(WP_CACHELINE, sizeof(*t->pcpu) * net->ncpus);
	if (!t->ehash || !t->pcpu) {
		free(t->ehash);
		free(t->pcpu);
		free(t);
		return -ENOMEM;
	}
	memset(t->pcpu, 0, sizeof(*t->pcpu) * net->ncpus);
	t->ehash_mask = TCP_EHASH_SIZE - 1;
	for (uint32_t i = 0; i < TCP_EHASH_SIZE; i++)
		pthread_mutex_init(&t->ehash[i].lock, NULL);
	for (uint32_t i = 0; i < TCP_BHASH_SLOTS; i++)
		pthread_mutex_init(&t->bhash[i].lock, NULL);
	t->ncpus = net->ncpus;
	for (uint32_t i = 0; i < net->ncpus; i++) {
		struct tcp_cpu *tc = &t->pcpu[i];

		tc->pc = &net->pcpu[i];
		pthread_mutex_init(&tc->lock, NULL);
		wp_skb_queue_init(&tc->backlog);
		atomic_init(&tc->nwork, 0);
	}
	for (int i = 0; i < 4; i++)
		t->isn_key[i] = (uint32_t)splitmix64(&seed);
	t->ts_key = (uint32_t)splitmix64(&seed);
	atomic_init(&t->port_seq, (uint32_t)splitmix64(&seed));
	for (int c = 0; c < 2; c++)
		for (int i = 0; i < 4; i++)
			t->cookie_key[c][i] = (uint32_t)splitmix64(&seed);
	atomic_init(&t->tw_count, 0);
	atomic_init(&t->nsocks, 0);
	t->cc_default = &wp__tcp_cubic;
	net->tcp = t;
	return 0;
}

/* Release one table reference of every socket on a chain. */
static void put_chain(struct wp_tcp_sock *head, bool ehash)
{
	while (head) {
		struct wp_tcp_sock *next = ehash ? head->ehnext : head->bnext;

		if (ehash) {
			head->ehnext = NULL;
			head->ehashed = false;
		} else {
			head->bnext = NULL;
			head->bhashed = false;
		}
		wp_sock_put(&head->sk);
		head = next;
	}
}

void wp__tcp_destroy(struct wp_net *net)
{
	struct wp_tcp_table *t = net->tcp;

	if (!t)
		return;
	for (uint32_t i = 0; i < t->ncpus; i++) {
		struct tcp_cpu *tc = &t->pcpu[i];
		struct wp_tcp_sock *tp;

		wp_skb_queue_purge(&tc->backlog, WP_DROP_DEV_DOWN);
		while ((tp = tc->work_head)) {
			tc->work_head = tp->wnext;
			tp->wnext = NULL;
			atomic_store(&tp->work_queued, false);
			wp_sock_put(&tp->sk);
		}
		/* Timer references: the sockets leave the heap. */
		for (uint32_t k = 0; k < tc->heap_len; k++) {
			tp = tc->heap[k];
			tp->heap_idx = -1;
			for (int w = 0; w < TCP_T__MAX; w++)
				tp->timer[w] = WP_TIME_NEVER;
			tp->timer_next = WP_TIME_NEVER;
			wp_sock_put(&tp->sk);
		}
		tc->heap_len = 0;
		free(tc->heap);
		pthread_mutex_destroy(&tc->lock);
	}
	/*
	 * Connections die with the stack: whatever they hold (out-of-order
	 * segments, children on an accept queue, a listener held by an
	 * embryo) goes now, while the pools exist. The owners' references
	 * keep the memory of the sockets they still hold.
	 */
	for (uint32_t i = 0; i <= t->ehash_mask; i++) {
		for (struct wp_tcp_sock *tp = t->ehash[i].head; tp;
		     tp = tp->ehnext) {
			wp__tcp_purge(tp);
			if (tp->parent) {
				wp_sock_put(&tp->parent->sk);
				tp->parent = NULL;
			}
		}
	}
	for (uint32_t i = 0; i < TCP_BHASH_SLOTS; i++) {
		for (struct wp_tcp_sock *tp = t->bhash[i].head; tp;
		     tp = tp->bnext) {
			struct wp_tcp_sock *c;

			while ((c = tp->acc_head)) {
				tp->acc_head = c->anext;
				c->anext = NULL;
				wp__tcp_purge(c);
				wp_sock_put(&c->sk);
			}
			tp->acc_tail = NULL;
			atomic_store(&tp->acc_qlen, 0);
		}
	}
	for (uint32_t i = 0; i <= t->ehash_mask; i++) {
		put_chain(t->ehash[i].head, true);
		t->ehash[i].head = NULL;
		pthread_mutex_destroy(&t->ehash[i].lock);
	}
	for (uint32_t i = 0; i < TCP_BHASH_SLOTS; i++) {
		put_chain(t->bhash[i].head, false);
		t->bhash[i].head = NULL;
		pthread_mutex_destroy(&t->bhash[i].lock);
	}
	free(t->ehash);
	free(t->pcpu);
	free(t);
	net->tcp = NULL;
}

/* --- ehash -------------------------------------------------------------------
 */

static struct tcp_ebucket *ebucket(const struct wp_tcp_table *t, uint32_t h)
{
	return &t->ehash[h & t->ehash_mask];
}

static struct wp_tcp_sock *ehash_find(struct tcp_ebucket *b, uint32_t laddr,
				      uint16_t lport, uint32_t raddr,
				      uint16_t rport)
{
	for (struct wp_tcp_sock *tp = b->head; tp; tp = tp->ehnext)
		if (tp->sport == lport && tp->dport == rport &&
		    tp->daddr == raddr && tp->saddr == laddr)
			return tp;
	return NULL;
}

struct wp_tcp_sock *wp__tcp_lookup_established(struct wp_net *net,
					       uint32_t laddr, uint16_t lport,
					       uint32_t raddr, uint16_t rport)
{
	struct wp_tcp_table *t = net->tcp;
	struct tcp_ebucket *b =
		ebucket(t, wp__tcp_hash4(t, laddr, lport, raddr, rport));
	struct wp_tcp_sock *tp;

	pthread_mutex_lock(&b->lock);
	tp = ehash_find(b, laddr, lport, raddr, rport);
	if (tp)
		wp_sock_hold(&tp->sk);
	pthread_mutex_unlock(&b->lock);
	return tp;
}

static int ehash_insert_locked(struct tcp_ebucket *b, struct wp_tcp_sock *tp)
{
	if (ehash_find(b, tp->saddr, tp->sport, tp->daddr, tp->dport))
		return -EADDRINUSE;
	wp_sock_hold(&tp->sk);
	tp->ehnext = b->head;
	b->head = tp;
	tp->ehashed = true;
	return 0;
}

int wp__tcp_ehash_insert(struct wp_net *net, struct wp_tcp_sock *tp)
{
	struct wp_tcp_table *t = net->tcp;
	struct tcp_ebucket *b;
	int ret;

	tp->hash = wp__tcp_hash4(t, tp->saddr, tp->sport, tp->daddr, tp->dport);
	b = ebucket(t, tp->hash);
	pthread_mutex_lock(&b->lock);
	ret = ehash_insert_locked(b, tp);
	pthread_mutex_unlock(&b->lock);
	return ret;
}

void wp__tcp_ehash_remove(struct wp_net *net, struct wp_tcp_sock *tp)
{
	struct tcp_ebucket *b = ebucket(net->tcp, tp->hash);
	bool was = false;

	pthread_mutex_lock(&b->lock);
	for (struct wp_tcp_sock **pp = &b->head; *pp; pp = &(*pp)->ehnext) {
		if (*pp == tp) {
			*pp = tp->ehnext;
			tp->ehnext = NULL;
			tp->ehashed = false;
			was = true;
			break;
		}
	}
	pthread_mutex_unlock(&b->lock);
	if (was)
		wp_sock_put(&tp->sk);
}

/* --- bhash -------------------------------------------------------------------
 */

static struct tcp_bslot *bslot(const struct wp_net *net, uint16_t port)
{
	return &net->tcp->bhash[port & (TCP_BHASH_SLOTS - 1)];
}

struct wp_tcp_sock *wp__tcp_lookup_listener(struct wp_net *net, uint32_t laddr,
					    uint16_t lport)
{
	struct tcp_bslot *s = bslot(net, lport);
	struct wp_tcp_sock *best = NULL;

	pthread_mutex_lock(&s->lock);
	for (struct wp_tcp_sock *tp = s->head; tp; tp = tp->bnext) {
		if (tp->sport != lport || wp_sk_state(&tp->sk) != WP_TCP_LISTEN)
			continue;
		if (tp->saddr == laddr) {
			best = tp;
			break;
		}
		if (!tp->saddr && !best)
			best = tp;
	}
	if (best)
		wp_sock_hold(&best->sk);
	pthread_mutex_unlock(&s->lock);
	return best;
}

/*
 * inet_csk_bind_conflict: would tp at addr:port clash with o? Addresses
 * overlap when equal or either is INADDR_ANY. Both setting SO_REUSEADDR
 * may share, unless one listens (Linux: a listener never shares with
 * SO_REUSEADDR alone).
 */
static bool bind_conflict(const struct wp_tcp_sock *tp,
			  const struct wp_tcp_sock *o, uint32_t addr,
			  uint16_t port, bool listen)
{
	if (o == tp || o->sport != port)
		return false;
	if (addr && o->saddr && addr != o->saddr)
		return false;
	if (tp->reuseaddr && o->reuseaddr && !listen &&
	    wp_sk_state(&o->sk) != WP_TCP_LISTEN)
		return false;
	return true;
}

static int bhash_insert_locked(struct tcp_bslot *s, struct wp_tcp_sock *tp,
			       uint32_t addr, uint16_t port, bool listen)
{
	for (struct wp_tcp_sock *o = s->head; o; o = o->bnext)
		if (bind_conflict(tp, o, addr, port, listen))
			return -EADDRINUSE;
	tp->saddr = addr;
	tp->sport = port;
	wp_sock_hold(&tp->sk);
	tp->bnext = s->head;
	s->head = tp;
	tp->bhashed = true;
	return 0;
}

void wp__tcp_bhash_remove(struct wp_net *net, struct wp_tcp_sock *tp)
{
	struct tcp_bslot *s = bslot(net, tp->sport);
	bool was = false;

	pthread_mutex_lock(&s->lock);
	for (struct wp_tcp_sock **pp = &s->head; *pp; pp = &(*pp)->bnext) {
		if (*pp == tp) {
			*pp = tp->bnext;
			tp->bnext = NULL;
			tp->bhashed = false;
			was = true;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (was)
		wp_sock_put(&tp->sk);
}

static uint32_t port_range(const struct wp_net *net, uint32_t *lo)
{
	*lo = net->cfg.port_lo;
	return net->cfg.port_hi - net->cfg.port_lo + 1;
}

int wp__tcp_bind_port(struct wp_tcp_sock *tp, uint32_t addr, uint16_t port,
		      bool listen)
{
	struct wp_net *net = tp->net;
	uint32_t lo, range, off;
	int ret;

	if (port) {
		struct tcp_bslot *s = bslot(net, port);

		pthread_mutex_lock(&s->lock);
		ret = bhash_insert_locked(s, tp, addr, port, listen);
		pthread_mutex_unlock(&s->lock);
		return ret;
	}
	/* inet_csk_get_port for port 0: from a moving hashed start, the
	 * first port nothing overlaps. O(range) when nearly full. */
	range = port_range(net, &lo);
	off = wp__net_hash32(atomic_fetch_add_explicit(&net->tcp->port_seq, 1,
						       memory_order_relaxed)) %
	      range;
	for (uint32_t i = 0; i < range; i++) {
		uint16_t p = (uint16_t)(lo + (off + i) % range);
		struct tcp_bslot *s = bslot(net, p);

		pthread_mutex_lock(&s->lock);
		ret = bhash_insert_locked(s, tp, addr, p, listen);
		pthread_mutex_unlock(&s->lock);
		if (!ret)
			return 0;
	}
	return -EADDRINUSE;
}

/*
 * May an active open use lport? Not if a socket bound it explicitly or
 * listens on it (its address overlapping ours).
 */
static bool port_usable(struct tcp_bslot *s, const struct wp_tcp_sock *tp,
			uint16_t port)
{
	for (struct wp_tcp_sock *o = s->head; o; o = o->bnext) {
		if (o->sport != port)
			continue;
		if (o->saddr && o->saddr != tp->saddr)
			continue;
		if (o->port_locked || wp_sk_state(&o->sk) == WP_TCP_LISTEN)
			return false;
	}
	return true;
}

int wp__tcp_connect_hash(struct wp_tcp_sock *tp)
{
	struct wp_net *net = tp->net;
	struct wp_tcp_table *t = net->tcp;
	uint32_t lo, range, off;

	if (tp->bhashed) {
		/* Bound: the port is ours, only the 4-tuple must be free. */
		int ret = wp__tcp_ehash_insert(net, tp);

		return ret ? -EADDRNOTAVAIL : 0;
	}
	/*
	 * __inet_hash_connect: an ephemeral port may be shared by
	 * connections to different peers; the 4-tuple must be unique (a
	 * TIME_WAIT holder of it counts).
	 */
	range = port_range(net, &lo);
	off = wp__net_hash32(tp->daddr ^
			     wp__net_hash32(tp->dport ^
					    atomic_fetch_add_explicit(
						    &t->port_seq, 1,
						    memory_order_relaxed))) %
	      range;
	for (uint32_t i = 0; i < range; i++) {
		uint16_t p = (uint16_t)(lo + (off + i) % range);
		struct tcp_bslot *s = bslot(net, p);
		struct tcp_ebucket *b;
		int ret = -EADDRINUSE;

		pthread_mutex_lock(&s->lock);
		if (port_usable(s, tp, p)) {
			tp->sport = p;
			tp->hash = wp__tcp_hash4(t, tp->saddr, p, tp->daddr,
						 tp->dport);
			b = ebucket(t, tp->hash);
			pthread_mutex_lock(&b->lock);
			ret = ehash_insert_locked(b, tp);
			pthread_mutex_unlock(&b->lock);
			if (!ret) {
				wp_sock_hold(&tp->sk);
				tp->bnext = s->head;
				s->head = tp;
				tp->bhashed = true;
			}
		}
		pthread_mutex_unlock(&s->lock);
		if (!ret)
			return 0;
	}
	tp->sport = 0;
	return -EADDRNOTAVAIL;
}

/* --- ss ----------------------------------------------------------------------
 */

const char *wp_tcp_state_name(int st)
{
	static const char *const names[] = {
		[WP_TCP_ESTABLISHED] = "ESTAB",
		[WP_TCP_SYN_SENT] = "SYN-SENT",
		[WP_TCP_SYN_RECV] = "SYN-RECV",
		[WP_TCP_FIN_WAIT1] = "FIN-WAIT-1",
		[WP_TCP_FIN_WAIT2] = "FIN-WAIT-2",
		[WP_TCP_TIME_WAIT] = "TIME-WAIT",
		[WP_TCP_CLOSE] = "UNCONN",
		[WP_TCP_CLOSE_WAIT] = "CLOSE-WAIT",
		[WP_TCP_LAST_ACK] = "LAST-ACK",
		[WP_TCP_LISTEN] = "LISTEN",
		[WP_TCP_CLOSING] = "CLOSING",
	};

	return st > 0 && st < (int)WP_ARRAY_SIZE(names) && names[st] ? names[st]
								     : "?";
}

static void print_ep(FILE *out, uint32_t a, uint16_t port, bool star)
{
	char buf[32];

	if (star)
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u:*", a >> 24,
			 (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	else
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u:%u", a >> 24,
			 (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff, port);
	fprintf(out, " %-21s", buf);
}

static void print_one(FILE *out, struct wp_tcp_sock *tp, bool details)
{
	int st = wp_sk_state(&tp->sk);
	uint32_t sendq =
		atomic_load(&tp->write_seq) - atomic_load(&tp->snd_una_pub);
	struct wp_tcp_info i;

	if (st == WP_TCP_LISTEN)
		fprintf(out, "%-10s %6u %6u", wp_tcp_state_name(st),
			atomic_load(&tp->acc_qlen),
			atomic_load(&tp->max_backlog));
	else
		fprintf(out, "%-10s %6u %6u", wp_tcp_state_name(st),
			wp_tcp_inq(tp), tp->sndring ? sendq : 0);
	print_ep(out, tp->saddr, tp->sport, false);
	print_ep(out, tp->daddr, tp->dport, st == WP_TCP_LISTEN);
	fputc('\n', out);
	if (!details || st == WP_TCP_LISTEN)
		return;
	/* ss -i: the connection's insides, on an indented line. */
	wp_tcp_get_info(tp, &i);
	fprintf(out,
		"\t %s%s%s wscale:%u,%u rto:%.0f rtt:%.3f/%.3f mss:%u "
		"cwnd:%u ssthresh:%u bytes_acked:%llu bytes_received:%llu "
		"segs_out:%u segs_in:%u snd_wnd:%u rcv_wnd:%u unacked:%u "
		"retrans:%u/%u lost:%u sacked:%u reordering:%u notsent:%u\n",
		i.ca_name[0] ? i.ca_name : tp->cc->name,
		(i.options & WP_TCPI_OPT_SACK) ? " sack" : "",
		(i.options & WP_TCPI_OPT_TIMESTAMPS) ? " ts" : "", i.snd_wscale,
		i.rcv_wscale, (double)i.rto / 1e3, (double)i.rtt / 1e3,
		(double)i.rttvar / 1e3, i.snd_mss, i.snd_cwnd, i.snd_ssthresh,
		(unsigned long long)i.bytes_acked,
		(unsigned long long)i.bytes_received, i.segs_out, i.segs_in,
		i.snd_wnd, i.rcv_wnd, i.unacked, i.retrans, i.total_retrans,
		i.lost, i.sacked, i.reordering, i.notsent_bytes);
}

uint32_t wp_tcp_count_states(const struct wp_net *net, uint32_t mask)
{
	struct wp_tcp_table *t = net->tcp;
	uint32_t n = 0;

	for (uint32_t i = 0; i <= t->ehash_mask; i++) {
		pthread_mutex_lock(&t->ehash[i].lock);
		for (struct wp_tcp_sock *tp = t->ehash[i].head; tp;
		     tp = tp->ehnext)
			if (mask & (1u << wp_sk_state(&tp->sk)))
				n++;
		pthread_mutex_unlock(&t->ehash[i].lock);
	}
	return n;
}

void wp_tcp_print_sockets_ex(const struct wp_net *net, bool details, FILE *out)
{
	struct wp_tcp_table *t = net->tcp;
	struct wp_tcp_sock **v = NULL, **nv;
	size_t n, cap = 0;

	fprintf(out, "State      Recv-Q Send-Q Local Address:Port     "
		     "Peer Address:Port\n");
	for (uint32_t i = 0; i < TCP_BHASH_SLOTS; i++) {
		pthread_mutex_lock(&t->bhash[i].lock);
		for (struct wp_tcp_sock *tp = t->bhash[i].head; tp;
		     tp = tp->bnext)
			if (wp_sk_state(&tp->sk) == WP_TCP_LISTEN)
				print_one(out, tp, false);
		pthread_mutex_unlock(&t->bhash[i].lock);
	}
	/*
	 * Under a bucket lock only references are taken; the rows are
	 * printed after it (a row's details take the socket lock, which a
	 * core holds while it may want a bucket).
	 */
	for (uint32_t i = 0; i <= t->ehash_mask; i++) {
		pthread_mutex_lock(&t->ehash[i].lock);
		n = 0;
		for (struct wp_tcp_sock *tp = t->ehash[i].head; tp;
		     tp = tp->ehnext) {
			if (n == cap) {
				nv = realloc(v,
					     (cap ? cap * 2 : 16) * sizeof(*v));
				if (!nv)
					break; /* the rest of this bucket */
				v = nv;
				cap = cap ? cap * 2 : 16;
			}
			wp_sock_hold(&tp->sk);
			v[n++] = tp;
		}
		pthread_mutex_unlock(&t->ehash[i].lock);
		for (size_t k = 0; k < n; k++) {
			print_one(out, v[k], details);
			wp_sock_put(&v[k]->sk);
		}
	}
	free(v);
}

void wp_tcp_print_sockets(const struct wp_net *net, FILE *out)
{
	wp_tcp_print_sockets_ex(net, false, out);
}
