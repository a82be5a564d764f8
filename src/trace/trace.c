// SPDX-License-Identifier: MIT
/*
 * The trace collector: the filter, the sampler in the driver poll, the
 * record rings and their histograms, sessions, and the capture taps.
 * The model and the thread rules are in trace.h.
 */
#include "trace/trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

_Static_assert(sizeof(struct wp_trace_desc) <=
		       sizeof(((struct wp_skb_stamps *)0)->priv),
	       "the description must fit the stamps' priv area");

_Atomic uint32_t wp__trace_socket_taps;

/* The core whose taps this thread feeds (the socket tap). */
static _Thread_local struct wp_trace_cpu *bound_cpu;

/* Relaxed load + store: counters with one writer, read anywhere. */
static inline void stat_inc(uint64_t *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}

static inline uint64_t stat_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* --- lifetime ------------------------------------------------------------- */

static void latency_init(struct wp_trace_latency *l)
{
	for (int s = 0; s < WP_STAMP__MAX; s++)
		wp_hist_init(&l->stage[s]);
	wp_hist_init(&l->total);
}

static void cpu_free(struct wp_trace_cpu *tc)
{
	if (!tc)
		return;
	wp__mpsc_destroy(&tc->records);
	if (tc->capture_ready)
		wp__mpsc_destroy(&tc->capture);
	pthread_mutex_destroy(&tc->cons_lock);
	free(tc);
}

static struct wp_trace_cpu *cpu_alloc(struct wp_trace *tr, uint32_t id)
{
	struct wp_trace_cpu *tc;

	/* Aligned: the rings' indices sit on their own cache lines. */
	if (posix_memalign((void **)&tc, WP_CACHELINE, sizeof(*tc)))
		return NULL;
	memset(tc, 0, sizeof(*tc));
	tc->tr = tr;
	tc->id = id;
	if (wp__mpsc_init(&tc->records, WP_TRACE_RECORDS,
			  sizeof(struct wp_trace_record))) {
		free(tc);
		return NULL;
	}
	pthread_mutex_init(&tc->cons_lock, NULL);
	latency_init(&tc->lat);
	return tc;
}

struct wp_trace *wp_trace_create(struct wp_clock *clock, uint32_t ncpus)
{
	struct wp_trace *tr;

	if (!clock || ncpus == 0 || ncpus > WP_MAX_CPUS) {
		errno = EINVAL;
		return NULL;
	}
	tr = calloc(1, sizeof(*tr) + ncpus * sizeof(tr->cpu[0]));
	if (!tr) {
		errno = ENOMEM;
		return NULL;
	}
	tr->clock = clock;
	tr->ncpus = ncpus;
	atomic_init(&tr->active, 0);
	atomic_init(&tr->seq, 0);
	atomic_init(&tr->budget, INT64_MAX);
	atomic_init(&tr->next_id, 1);
	atomic_init(&tr->cap_budget, 0);
	pthread_mutex_init(&tr->lock, NULL);
	for (uint32_t i = 0; i < ncpus; i++) {
		tr->cpu[i] = cpu_alloc(tr, i);
		if (!tr->cpu[i]) {
			wp_trace_destroy(tr);
			errno = ENOMEM;
			return NULL;
		}
	}
	return tr;
}

void wp_trace_destroy(struct wp_trace *tr)
{
	if (!tr)
		return;
	wp_trace_capture_stop(tr);
	for (uint32_t i = 0; i < tr->ncpus; i++)
		cpu_free(tr->cpu[i]);
	free(tr->sess);
	pthread_mutex_destroy(&tr->lock);
	free(tr);
}

/* --- the filter ----------------------------------------------------------- */

static int filter_check(const struct wp_trace_filter *f)
{
	switch (f->proto) {
	case WP_TRACE_PROTO_ANY:
	case WP_TRACE_PROTO_TCP:
	case WP_TRACE_PROTO_UDP:
		return 0;
	case WP_TRACE_PROTO_ICMP:
		return f->port ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

static void set_active(struct wp_trace *tr, uint32_t bit, bool on)
{
	if (on)
		atomic_fetch_or_explicit(&tr->active, bit,
					 memory_order_relaxed);
	else
		atomic_fetch_and_explicit(&tr->active, ~bit,
					  memory_order_relaxed);
}

/*
 * Writer side of the seqlock (under tr->lock): odd while the fields
 * change. The release fence keeps the odd value ahead of the field
 * stores for a reader that sees any of them; the final release store
 * publishes them with the new even generation.
 */
static uint32_t filter_publish(struct wp_trace *tr,
			       const struct wp_trace_filter *f)
{
	uint32_t s = atomic_load_explicit(&tr->seq, memory_order_relaxed);

	atomic_store_explicit(&tr->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&tr->f_every, f->every, memory_order_relaxed);
	atomic_store_explicit(&tr->f_addr, f->addr, memory_order_relaxed);
	atomic_store_explicit(&tr->f_proto, f->proto, memory_order_relaxed);
	atomic_store_explicit(&tr->f_port, f->port, memory_order_relaxed);
	atomic_store_explicit(&tr->f_limited, f->limit != 0,
			      memory_order_relaxed);
	atomic_store_explicit(
		&tr->budget,
		f->limit
			? (int64_t)(f->limit > INT64_MAX ? INT64_MAX : f->limit)
			: INT64_MAX,
		memory_order_relaxed);
	atomic_store_explicit(&tr->seq, s + 2, memory_order_release);
	tr->filter = *f;
	set_active(tr, WP_TRACE_ON_SAMPLE, f->every != 0);
	return s + 2;
}

int wp_trace_set_filter(struct wp_trace *tr, const struct wp_trace_filter *f)
{
	int ret = filter_check(f);

	if (ret)
		return ret;
	pthread_mutex_lock(&tr->lock);
	if (tr->sess) {
		pthread_mutex_unlock(&tr->lock);
		return -EBUSY;
	}
	filter_publish(tr, f);
	pthread_mutex_unlock(&tr->lock);
	return 0;
}

void wp_trace_get_filter(struct wp_trace *tr, struct wp_trace_filter *f)
{
	pthread_mutex_lock(&tr->lock);
	*f = tr->filter;
	pthread_mutex_unlock(&tr->lock);
}

/* Reader side: copy the filter if its generation moved. Core thread. */
static void filter_refresh(struct wp_trace_cpu *tc)
{
	struct wp_trace *tr = tc->tr;

	for (;;) {
		uint32_t s1 =
			atomic_load_explicit(&tr->seq, memory_order_acquire);
		struct wp_trace_filter f = { 0 };

		if (s1 == tc->seq)
			return;
		if (s1 & 1) {
			wp_cpu_relax();
			continue;
		}
		f.every = atomic_load_explicit(&tr->f_every,
					       memory_order_relaxed);
		f.addr =
			atomic_load_explicit(&tr->f_addr, memory_order_relaxed);
		f.proto = (uint8_t)atomic_load_explicit(&tr->f_proto,
							memory_order_relaxed);
		f.port = (uint16_t)atomic_load_explicit(&tr->f_port,
							memory_order_relaxed);
		f.limit = atomic_load_explicit(&tr->f_limited,
					       memory_order_relaxed);
		/* Acquire fence: the field loads before the re-check. */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&tr->seq, memory_order_relaxed) != s1)
			continue;
		tc->f = f;
		tc->parse = f.proto || f.addr || f.port;
		tc->has_limit = f.limit != 0;
		tc->nth = 0;
		tc->seq = s1;
		return;
	}
}

/* --- parsing a frame ------------------------------------------------------ */

/*
 * Fill what the wire parsers can say about frame[0..len): every length
 * is checked by them; a frame they refuse is described as far as it got.
 * Checksums of the transport payload are not summed (the protocol layer
 * does that); the IPv4 header checksum is, as the parser always does.
 */
static void parse_frame(const uint8_t *p, uint32_t len, struct wp_trace_desc *d)
{
	struct wp_eth_repr eth;
	struct wp_ipv4_repr ip;
	const uint8_t *l4;
	size_t hl;

	d->len = len;
	d->ethertype = 0;
	d->proto = 0;
	d->flags = 0;
	d->saddr = d->daddr = 0;
	d->sport = d->dport = 0;
	d->icmp_type = d->icmp_code = 0;
	d->tcp_flags = 0;
	if (wp_eth_parse(p, len, &eth, NULL))
		return;
	d->ethertype = eth.ethertype;
	hl = wp_eth_hdr_len(&eth);
	if (eth.ethertype != WP_ETH_P_IP ||
	    wp_ipv4_parse(p + hl, len - hl, &ip, NULL))
		return;
	d->flags |= WP_TRACE_F_IPV4;
	d->saddr = ip.saddr;
	d->daddr = ip.daddr;
	d->proto = ip.protocol;
	if (wp_ipv4_is_fragment(&ip)) {
		d->flags |= WP_TRACE_F_FRAG;
		/* Only the first fragment has the transport header, and
		 * not all of the datagram the parsers want to see. */
		return;
	}
	l4 = p + hl + wp_ipv4_hdr_len(&ip);
	switch (ip.protocol) {
	case WP_TRACE_PROTO_UDP: {
		struct wp_udp_repr u;

		if (wp_udp_parse(l4, ip.payload_len, ip.saddr, ip.daddr,
				 WP_WIRE_CSUM_UNNECESSARY, &u, NULL) == 0) {
			d->sport = u.sport;
			d->dport = u.dport;
			d->flags |= WP_TRACE_F_PORTS;
		}
		break;
	}
	case WP_TRACE_PROTO_TCP: {
		struct wp_tcp_repr t;

		if (wp_tcp_parse(l4, ip.payload_len, ip.saddr, ip.daddr,
				 WP_WIRE_CSUM_UNNECESSARY, &t, NULL) == 0) {
			d->sport = t.sport;
			d->dport = t.dport;
			d->tcp_flags = (uint8_t)t.flags;
			d->flags |= WP_TRACE_F_PORTS;
		}
		break;
	}
	case WP_TRACE_PROTO_ICMP: {
		struct wp_icmp_repr ic;

		if (wp_icmp_parse(l4, ip.payload_len, WP_WIRE_CSUM_UNNECESSARY,
				  &ic, NULL) == 0) {
			d->icmp_type = ic.type;
			d->icmp_code = ic.code;
			d->flags |= WP_TRACE_F_ICMP;
		}
		break;
	}
	default:
		break;
	}
}

static bool filter_match(const struct wp_trace_filter *f,
			 const struct wp_trace_desc *d)
{
	if ((f->proto || f->addr) && !(d->flags & WP_TRACE_F_IPV4))
		return false;
	if (f->proto && d->proto != f->proto)
		return false;
	if (f->addr && d->saddr != f->addr && d->daddr != f->addr)
		return false;
	if (f->port && (!(d->flags & WP_TRACE_F_PORTS) ||
			(d->sport != f->port && d->dport != f->port)))
		return false;
	return true;
}

/* --- records -------------------------------------------------------------- */

/* Add one record to the histograms (consumer lock held). */
static void account(struct wp_trace_latency *l, const struct wp_trace_record *r)
{
	uint64_t first = 0, prev = 0;

	for (int s = 0; s < WP_STAMP__MAX; s++) {
		uint64_t t = r->ns[s];

		if (!t)
			continue;
		if (!first) {
			first = prev = t;
			continue;
		}
		wp_hist_record(&l->stage[s], t >= prev ? t - prev : 0);
		if (t > prev)
			prev = t;
	}
	if (first)
		wp_hist_record(&l->total, prev - first);
}

/*
 * Take up to max records off tc's ring (its consumer lock held) into its
 * histograms and, with `sess` (the control path, tr->lock held), the
 * open session's buffer.
 */
static size_t drain_cpu(struct wp_trace *tr, struct wp_trace_cpu *tc,
			size_t max, bool sess)
{
	const struct wp_trace_record *r;
	size_t n = 0;

	while (n < max && (r = wp__mpsc_peek(&tc->records)) != NULL) {
		account(&tc->lat, r);
		if (sess && tr->sess && r->d.gen == tr->sess_gen &&
		    tr->sess_n < tr->sess_max)
			tr->sess[tr->sess_n++] = *r;
		wp__mpsc_pop(&tc->records);
		n++;
	}
	if (n)
		__atomic_store_n(&tc->drained, tc->drained + n,
				 __ATOMIC_RELAXED);
	return n;
}

/* Control path, tr->lock held. */
static size_t drain_all(struct wp_trace *tr)
{
	size_t n = 0;

	for (uint32_t i = 0; i < tr->ncpus; i++) {
		struct wp_trace_cpu *tc = tr->cpu[i];

		pthread_mutex_lock(&tc->cons_lock);
		n += drain_cpu(tr, tc, SIZE_MAX, true);
		pthread_mutex_unlock(&tc->cons_lock);
	}
	return n;
}

size_t wp_trace_drain(struct wp_trace *tr)
{
	size_t n;

	pthread_mutex_lock(&tr->lock);
	n = drain_all(tr);
	pthread_mutex_unlock(&tr->lock);
	return n;
}

void wp_trace_latency(struct wp_trace *tr, struct wp_trace_latency *out)
{
	latency_init(out);
	pthread_mutex_lock(&tr->lock);
	drain_all(tr);
	for (uint32_t i = 0; i < tr->ncpus; i++) {
		struct wp_trace_cpu *tc = tr->cpu[i];

		pthread_mutex_lock(&tc->cons_lock);
		for (int s = 0; s < WP_STAMP__MAX; s++)
			wp_hist_merge(&out->stage[s], &tc->lat.stage[s]);
		wp_hist_merge(&out->total, &tc->lat.total);
		pthread_mutex_unlock(&tc->cons_lock);
	}
	pthread_mutex_unlock(&tr->lock);
}

void wp_trace_get_stats(struct wp_trace *tr, struct wp_trace_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (uint32_t i = 0; i < tr->ncpus; i++) {
		struct wp_trace_cpu *tc = tr->cpu[i];

		/* filtered before seen: the core counts a frame seen first,
		 * so matched = seen - filtered never goes below zero. */
		st->filtered += stat_read(&tc->filtered);
		st->seen += stat_read(&tc->seen);
		st->sampled += stat_read(&tc->sampled);
		st->limited += stat_read(&tc->limited);
		st->records += stat_read(&tc->drained);
		st->records_dropped += wp__mpsc_dropped(&tc->records);
		st->captured += stat_read(&tc->captured);
		/* The capture ring exists once capture_ready is set; its
		 * drop counter is zero before (the ring is zeroed). */
		st->capture_dropped += wp__mpsc_dropped(&tc->capture);
	}
	st->matched = st->seen - st->filtered;
}

/* The skb's last reference went: file its record. Any thread. */
static void record_done(struct wp_skb *skb)
{
	struct wp_skb_stamps *st = skb->stamps;
	struct wp_trace_cpu *tc = st->done_ctx;
	struct wp_trace_record *r;
	uint64_t pos;

	r = wp__mpsc_claim(&tc->records, &pos);
	if (!r)
		return; /* full: counted by the ring */
	memcpy(&r->d, st->priv, sizeof(r->d));
	memcpy(r->ns, st->ns, sizeof(r->ns));
	r->end_ns = wp_clock_now(tc->tr->clock);
	r->wake_kind = st->wake_kind;
	r->drop_reason = 0;
	if (st->dropped) {
		r->d.flags |= WP_TRACE_F_DROPPED;
		r->drop_reason = st->drop_reason;
	}
	wp__mpsc_commit(&tc->records, pos);
}

/* --- sessions ------------------------------------------------------------- */

int wp_trace_session_begin(struct wp_trace *tr, const struct wp_trace_filter *f,
			   uint32_t count)
{
	struct wp_trace_filter sf = *f;
	struct wp_trace_record *buf;
	int ret = filter_check(f);

	if (ret)
		return ret;
	if (count == 0 || count > WP_TRACE_SESSION_MAX || f->every == 0)
		return -EINVAL;
	buf = malloc((size_t)count * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	pthread_mutex_lock(&tr->lock);
	if (tr->sess) {
		pthread_mutex_unlock(&tr->lock);
		free(buf);
		return -EBUSY;
	}
	/* Records of the old filter go to the histograms only. */
	drain_all(tr);
	tr->saved = tr->filter;
	tr->sess = buf;
	tr->sess_max = count;
	tr->sess_n = tr->sess_taken = 0;
	/*
	 * Open before the new generation is published: a core that samples
	 * under it has acquired the generation, so it sees the session open
	 * and leaves the draining of its ring to us.
	 */
	atomic_store_explicit(&tr->session_open, true, memory_order_seq_cst);
	sf.limit = count;
	tr->sess_gen = filter_publish(tr, &sf);
	pthread_mutex_unlock(&tr->lock);
	return 0;
}

size_t wp_trace_session_take(struct wp_trace *tr, struct wp_trace_record *out,
			     size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&tr->lock);
	if (tr->sess) {
		drain_all(tr);
		while (n < max && tr->sess_taken < tr->sess_n)
			out[n++] = tr->sess[tr->sess_taken++];
	}
	pthread_mutex_unlock(&tr->lock);
	return n;
}

void wp_trace_session_end(struct wp_trace *tr)
{
	pthread_mutex_lock(&tr->lock);
	if (tr->sess) {
		filter_publish(tr, &tr->saved);
		free(tr->sess);
		tr->sess = NULL;
		tr->sess_n = tr->sess_taken = tr->sess_max = 0;
		atomic_store_explicit(&tr->session_open, false,
				      memory_order_release);
	}
	pthread_mutex_unlock(&tr->lock);
}

/* --- the sampler in the driver poll --------------------------------------- */

void wp__trace_poll_begin(struct wp_trace_poll *tp, struct wp_trace *tr,
			  uint32_t cpu, uint16_t queue, uint64_t irq_ns)
{
	struct wp_trace_cpu *tc = wp_trace_cpu(tr, cpu);

	tp->active = atomic_load_explicit(&tr->active, memory_order_relaxed);
	if (!(tp->active &
	      (WP_TRACE_ON_SAMPLE | WP_TRACE_ON_TAP << WP_TAP_WIRE)))
		return;
	if (tp->active & WP_TRACE_ON_SAMPLE)
		filter_refresh(tc);
	tp->tc = tc;
	tp->queue = queue;
	tp->irq_ns = irq_ns;
	tp->fast = tp->active == WP_TRACE_ON_SAMPLE && !tc->parse;
}

/*
 * Before sampling, the sampling core takes a bounded batch of records
 * off its own ring into its histograms, unless a session does the
 * draining or the control path holds the ring right now.
 */
static void drain_opportunistic(struct wp_trace_cpu *tc)
{
	struct wp_trace *tr = tc->tr;

	if (atomic_load_explicit(&tr->session_open, memory_order_relaxed) ||
	    !wp__mpsc_peek(&tc->records))
		return;
	if (pthread_mutex_trylock(&tc->cons_lock))
		return;
	drain_cpu(tr, tc, WP_TRACE_DRAIN_BATCH, false);
	pthread_mutex_unlock(&tc->cons_lock);
}

bool wp__trace_rx_pick(struct wp_trace_poll *tp, const uint8_t *frame,
		       uint32_t len, uint64_t dma_ns)
{
	struct wp_trace_cpu *tc = tp->tc;
	struct wp_trace *tr = tc->tr;
	bool parsed = false;

	if (tp->active & WP_TRACE_ON_TAP << WP_TAP_WIRE)
		wp_trace_tap(tc, WP_TAP_WIRE, frame, len, dma_ns, false);
	if (!(tp->active & WP_TRACE_ON_SAMPLE) || !tc->f.every)
		return false;

	stat_inc(&tc->seen);
	if (tc->parse) {
		parse_frame(frame, len, &tp->desc);
		parsed = true;
		if (!filter_match(&tc->f, &tp->desc)) {
			stat_inc(&tc->filtered);
			return false;
		}
	}
	if (++tc->nth < tc->f.every)
		return false;
	tc->nth = 0;
	/* The limit, if any: a load first, so a spent budget costs no RMW. */
	if (tc->has_limit &&
	    (atomic_load_explicit(&tr->budget, memory_order_relaxed) <= 0 ||
	     atomic_fetch_sub_explicit(&tr->budget, 1, memory_order_relaxed) <=
		     0)) {
		stat_inc(&tc->limited);
		return false;
	}
	drain_opportunistic(tc);
	if (!parsed)
		parse_frame(frame, len, &tp->desc);
	tp->desc.id = atomic_fetch_add_explicit(&tr->next_id, 1,
						memory_order_relaxed);
	tp->desc.gen = tc->seq;
	tp->desc.queue = tp->queue;
	tp->desc.cpu = (uint16_t)tc->id;
	tp->dma_ns = dma_ns;
	tp->pick_ns = wp_clock_now(tr->clock);
	return true;
}

void wp_trace_rx_sampled(struct wp_trace_poll *tp, struct wp_skb *skb)
{
	struct wp_trace_cpu *tc = tp->tc;
	struct wp_skb_stamps *st;

	if (wp_skb_stamp_enable(skb))
		return;
	st = skb->stamps;
	st->ns[WP_STAMP_DMA] = tp->dma_ns;
	/* The top half that led to this poll ran after the frame landed;
	 * an older one was for frames before it: this one rode a poll
	 * that was already scheduled (or busy polling) and had none. */
	if (tp->irq_ns && tp->irq_ns >= tp->dma_ns && tp->irq_ns <= tp->pick_ns)
		st->ns[WP_STAMP_IRQ] = tp->irq_ns;
	st->ns[WP_STAMP_NAPI_POLL] = tp->pick_ns;
	st->ns[WP_STAMP_SKB_BUILT] = wp_clock_now(tc->tr->clock);
	memcpy(st->priv, &tp->desc, sizeof(tp->desc));
	st->done_ctx = tc;
	st->done = record_done;
	stat_inc(&tc->sampled);
}

/* --- capture -------------------------------------------------------------- */

int wp_trace_capture_start(struct wp_trace *tr, enum wp_tap_point at,
			   uint64_t count)
{
	int ret = 0;

	if ((unsigned)at >= WP_TAP__MAX)
		return -EINVAL;
	pthread_mutex_lock(&tr->lock);
	if (tr->capturing) {
		ret = -EBUSY;
		goto out_unlock;
	}
	for (uint32_t i = 0; i < tr->ncpus; i++) {
		struct wp_trace_cpu *tc = tr->cpu[i];

		if (tc->capture_ready) {
			/* Leftovers of an earlier capture: not ours. */
			while (wp__mpsc_peek(&tc->capture))
				wp__mpsc_pop(&tc->capture);
			continue;
		}
		ret = wp__mpsc_init(&tc->capture, WP_TRACE_CAPTURE_SLOTS,
				    sizeof(struct wp_trace_frame));
		if (ret)
			goto out_unlock;
		tc->capture_ready = true;
	}
	atomic_store_explicit(
		&tr->cap_budget,
		count ? (int64_t)(count > INT64_MAX ? INT64_MAX : count)
		      : INT64_MAX,
		memory_order_relaxed);
	atomic_store_explicit(&tr->cap_limited, count != 0,
			      memory_order_relaxed);
	atomic_store_explicit(&tr->cap_point, at, memory_order_relaxed);
	tr->capturing = true;
	if (at == WP_TAP_SOCKET)
		atomic_fetch_add_explicit(&wp__trace_socket_taps, 1,
					  memory_order_relaxed);
	/* Release: the rings and the budget before any tap that sees the
	 * bit (wp_trace_tap loads it with acquire) writes into them. */
	atomic_fetch_or_explicit(&tr->active, WP_TRACE_ON_TAP << at,
				 memory_order_release);
out_unlock:
	pthread_mutex_unlock(&tr->lock);
	return ret;
}

bool wp_trace_capture_full(struct wp_trace *tr)
{
	return atomic_load_explicit(&tr->cap_budget, memory_order_relaxed) <= 0;
}

void wp_trace_capture_stop(struct wp_trace *tr)
{
	uint32_t at;

	pthread_mutex_lock(&tr->lock);
	if (tr->capturing) {
		at = atomic_load_explicit(&tr->cap_point, memory_order_relaxed);
		atomic_fetch_and_explicit(&tr->active,
					  ~(uint32_t)(WP_TRACE_ON_TAP << at),
					  memory_order_relaxed);
		if (at == WP_TAP_SOCKET)
			atomic_fetch_sub_explicit(&wp__trace_socket_taps, 1,
						  memory_order_relaxed);
		tr->capturing = false;
	}
	pthread_mutex_unlock(&tr->lock);
}

/*
 * The copy into a capture slot: `lin` bytes at frame, then, for a GRO
 * skb, its chain (skb: the head, whose frag_list follows; NULL: flat).
 */
static void tap_copy(uint8_t *to, uint32_t caplen, const uint8_t *frame,
		     uint32_t lin, const struct wp_skb *skb)
{
	uint32_t n = lin < caplen ? lin : caplen;

	memcpy(to, frame, n);
	for (const struct wp_skb *f = skb ? skb->frag_list : NULL;
	     f && n < caplen; f = f->next) {
		uint32_t k = f->len < caplen - n ? f->len : caplen - n;

		memcpy(to + n, f->data, k);
		n += k;
	}
}

static void tap(struct wp_trace_cpu *tc, enum wp_tap_point at,
		const uint8_t *frame, uint32_t lin, const struct wp_skb *skb,
		uint32_t len, uint64_t ts_ns, bool tx)
{
	struct wp_trace *tr = tc->tr;
	struct wp_trace_frame *f;
	uint64_t pos;
	bool limited;

	/* Acquire: pairs with capture_start's release of the bit. */
	if (!(atomic_load_explicit(&tr->active, memory_order_acquire) &
	      (WP_TRACE_ON_TAP << at)))
		return;
	limited = atomic_load_explicit(&tr->cap_limited, memory_order_relaxed);
	if (limited &&
	    (atomic_load_explicit(&tr->cap_budget, memory_order_relaxed) <= 0 ||
	     atomic_fetch_sub_explicit(&tr->cap_budget, 1,
				       memory_order_relaxed) <= 0))
		return;
	f = wp__mpsc_claim(&tc->capture, &pos);
	if (!f) {
		/* Full: dropped (the ring counts it); the frame does not
		 * count against the capture's --count. */
		if (limited)
			atomic_fetch_add_explicit(&tr->cap_budget, 1,
						  memory_order_relaxed);
		return;
	}
	f->ts_ns = ts_ns;
	f->len = len;
	f->caplen = len < WP_TRACE_SNAPLEN ? len : WP_TRACE_SNAPLEN;
	f->cpu = (uint16_t)tc->id;
	f->point = (uint8_t)at;
	f->tx = tx;
	tap_copy(f->data, f->caplen, frame, lin, skb);
	wp__mpsc_commit(&tc->capture, pos);
	stat_inc(&tc->captured);
}

void wp_trace_tap(struct wp_trace_cpu *tc, enum wp_tap_point at,
		  const uint8_t *frame, uint32_t len, uint64_t ts_ns, bool tx)
{
	tap(tc, at, frame, len, NULL, len, ts_ns, tx);
}

void wp_trace_tap_skb(struct wp_trace_cpu *tc, enum wp_tap_point at,
		      const struct wp_skb *skb, const uint8_t *from,
		      uint64_t ts_ns, bool tx)
{
	/* The linear part ends at the tail pointer (data + headlen). */
	uint32_t lin = (uint32_t)(wp_skb_tail_pointer(skb) - from);

	tap(tc, at, from, lin, skb, lin + skb->data_len, ts_ns, tx);
}

struct wp_trace_cpu *wp_trace_bind(struct wp_trace_cpu *tc)
{
	struct wp_trace_cpu *old = bound_cpu;

	bound_cpu = tc;
	return old;
}

void wp__trace_tap_socket(const struct wp_skb *skb)
{
	struct wp_trace_cpu *tc = bound_cpu;
	const uint8_t *start = skb->data;

	if (!tc || !wp_trace_tap_on(tc->tr, WP_TAP_SOCKET))
		return;
	if (skb->mac_header != WP_SKB_OFFSET_UNSET &&
	    skb->head + skb->mac_header <= skb->data)
		start = skb->head + skb->mac_header;
	wp_trace_tap_skb(tc, WP_TAP_SOCKET, skb, start,
			 wp_clock_now(tc->tr->clock), false);
}

size_t wp_trace_capture_drain(struct wp_trace *tr, wp_trace_frame_fn fn,
			      void *ctx)
{
	size_t n = 0;

	pthread_mutex_lock(&tr->lock);
	for (;;) {
		const struct wp_trace_frame *best = NULL, *f;
		struct wp_trace_cpu *from = NULL;
		int stop;

		/* The oldest head of the per-core rings: time order. */
		for (uint32_t i = 0; i < tr->ncpus; i++) {
			struct wp_trace_cpu *tc = tr->cpu[i];

			if (!tc->capture_ready)
				continue;
			f = wp__mpsc_peek(&tc->capture);
			if (f && (!best || f->ts_ns < best->ts_ns)) {
				best = f;
				from = tc;
			}
		}
		if (!best)
			break;
		stop = fn(ctx, best);
		wp__mpsc_pop(&from->capture);
		n++;
		if (stop)
			break;
	}
	pthread_mutex_unlock(&tr->lock);
	return n;
}
