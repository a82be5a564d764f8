// SPDX-License-Identifier: MIT
/*
 * The pair backend: the firmware of two NICs joined by a virtual wire
 * (--backend pair, built by wp_stack_pair_create). What one NIC
 * transmits is copied off its TX descriptor into a wire-owned buffer,
 * given a fate by the link's seeded PRNG (lost, duplicated, held back,
 * corrupted, delayed, serialized at a rate: see include/wirepath/pair.h
 * for the order) and DMA'd into the other NIC at its arrival time.
 *
 * Virtual time only. step(now) on one end delivers every frame due on
 * the link towards it, each at its own arrival time (moderation timers
 * that expired before a frame fire before it, as in sim), ticks the
 * moderation timers, then puts everything its NIC transmitted on the
 * link away from it. The caller steps both ends at each instant until
 * nothing is due (wp_stack_pair_run_until).
 *
 * Each link is a bounded set of frames in flight: `limit` slots of
 * frame_max bytes, allocated at creation, a free-slot stack and a
 * binary min-heap on (arrival, order put on the wire), so frames that
 * arrive at the same instant leave in the order they were sent. Sending
 * and delivering cost O(log in-flight) plus one copy each way.
 */
#include "nic/backend/pair.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nic/backend/backend.h"
#include "nic/nic.h"

struct flight {
	uint64_t t;   /* arrival at the far NIC */
	uint64_t seq; /* order put on the wire: ties leave in this order */
	uint32_t slot;
	uint32_t len;
};

/* One direction. */
struct link {
	struct wp_pair_link cfg;
	/* probabilities as thresholds on a 32-bit draw, 0..2^32 */
	uint64_t loss_thr, dup_thr, reorder_thr, corrupt_thr;
	uint64_t rng[4];     /* xoshiro256** state */
	uint64_t busy_until; /* the transmitter serializes until then */
	uint64_t last_t;     /* latest in-order arrival */
	uint64_t seq;
	uint32_t cap;	     /* slots allocated: the creation limit */
	struct flight *heap; /* n frames in flight */
	uint32_t n;
	uint32_t *free_slots;
	uint32_t nfree;
	uint8_t *bufs; /* cap * frame_max bytes */
	struct wp_pair_stats st;
};

struct end {
	struct wp_pair_wire *wire;
	unsigned int side;     /* 0: A, 1: B */
	struct wp_backend *be; /* attached backend, or NULL */
	uint64_t last_tick;
};

struct wp_pair_wire {
	uint64_t seed;
	uint32_t frame_max;
	struct link link[2]; /* [WP_PAIR_A_TO_B], [WP_PAIR_B_TO_A] */
	struct end end[2];
};

static void set_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* --- the PRNG ------------------------------------------------------------ */

/* splitmix64: expands the seed into the links' states. */
static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna): fast, 2^256 - 1 period, and a
 * state splitmix64 cannot leave all zero. */
static uint64_t rng_next(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* --- configuration ------------------------------------------------------- */

void wp_pair_impairments_default(struct wp_pair_impairments *imp)
{
	memset(imp, 0, sizeof(*imp));
	imp->seed = 1;
	imp->a_to_b.reorder_ns = WP_PAIR_REORDER_DEFAULT_NS;
	imp->a_to_b.limit = WP_PAIR_LIMIT_DEFAULT;
	imp->b_to_a = imp->a_to_b;
}

static int check_pct(const char *name, double v, char *err, size_t errlen)
{
	/* Written so that NaN fails too. */
	if (v >= 0.0 && v <= 100.0)
		return 0;
	set_err(err, errlen, "%s %g: must be 0..100 (percent)", name, v);
	return -EINVAL;
}

static int check_time(const char *name, uint64_t v, char *err, size_t errlen)
{
	if (v <= WP_PAIR_TIME_MAX_NS)
		return 0;
	set_err(err, errlen, "%s %llu ns: at most %llu ns (one hour)", name,
		(unsigned long long)v, (unsigned long long)WP_PAIR_TIME_MAX_NS);
	return -EINVAL;
}

int wp__pair_link_check(const struct wp_pair_link *l, char *err, size_t errlen)
{
	int ret;

	if ((ret = check_pct("loss", l->loss_pct, err, errlen)) ||
	    (ret = check_pct("duplicate", l->duplicate_pct, err, errlen)) ||
	    (ret = check_pct("reorder", l->reorder_pct, err, errlen)) ||
	    (ret = check_pct("corrupt", l->corrupt_pct, err, errlen)) ||
	    (ret = check_time("delay", l->delay_ns, err, errlen)) ||
	    (ret = check_time("jitter", l->jitter_ns, err, errlen)) ||
	    (ret = check_time("reorder hold", l->reorder_ns, err, errlen)))
		return ret;
	if (l->limit < 1 || l->limit > WP_PAIR_LIMIT_MAX) {
		set_err(err, errlen, "limit %u: must be 1..%u frames in flight",
			l->limit, WP_PAIR_LIMIT_MAX);
		return -EINVAL;
	}
	return 0;
}

/* pct of 2^32, so that `draw < thr` happens with that probability:
 * 100 % gives 2^32, above every 32-bit draw. */
static uint64_t threshold(double pct)
{
	return (uint64_t)(pct / 100.0 * 4294967296.0 + 0.5);
}

static void link_apply(struct link *l, const struct wp_pair_link *cfg)
{
	l->cfg = *cfg;
	l->loss_thr = threshold(cfg->loss_pct);
	l->dup_thr = threshold(cfg->duplicate_pct);
	l->reorder_thr = threshold(cfg->reorder_pct);
	l->corrupt_thr = threshold(cfg->corrupt_pct);
}

/* --- a link: slots and the heap of frames in flight ---------------------- */

static uint8_t *slot_data(const struct wp_pair_wire *w, const struct link *l,
			  uint32_t slot)
{
	return l->bufs + (size_t)slot * w->frame_max;
}

static bool flight_before(const struct flight *a, const struct flight *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct link *l, uint64_t t, uint32_t slot, uint32_t len)
{
	struct flight f = { .t = t, .seq = l->seq++, .slot = slot, .len = len };
	uint32_t i = l->n++;

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!flight_before(&f, &l->heap[parent]))
			break;
		l->heap[i] = l->heap[parent];
		i = parent;
	}
	l->heap[i] = f;
}

static struct flight heap_pop(struct link *l)
{
	struct flight top = l->heap[0], last = l->heap[--l->n];
	uint32_t i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= l->n)
			break;
		if (c + 1 < l->n && flight_before(&l->heap[c + 1], &l->heap[c]))
			c++;
		if (!flight_before(&l->heap[c], &last))
			break;
		l->heap[i] = l->heap[c];
		i = c;
	}
	if (l->n)
		l->heap[i] = last;
	return top;
}

static uint64_t link_next(const struct link *l)
{
	return l->n ? l->heap[0].t : WP_TIME_NEVER;
}

/* Room for one more frame: the limit, which never exceeds cap, so a slot
 * is free too. */
static bool link_room(const struct link *l)
{
	return l->n < l->cfg.limit;
}

/* Copy the frame into a free slot, in flight until t; its copy. */
static uint8_t *link_put(struct wp_pair_wire *w, struct link *l, uint64_t t,
			 const uint8_t *frame, uint32_t len)
{
	uint32_t slot = l->free_slots[--l->nfree];
	uint8_t *data = slot_data(w, l, slot);

	memcpy(data, frame, len);
	heap_push(l, t, slot, len);
	return data;
}

static int link_init(struct link *l, const struct wp_pair_link *cfg,
		     uint32_t frame_max, uint64_t *seed)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < 4; i++)
		l->rng[i] = splitmix64(seed);
	link_apply(l, cfg);
	l->cap = cfg->limit;
	l->heap = calloc(l->cap, sizeof(*l->heap));
	l->free_slots = calloc(l->cap, sizeof(*l->free_slots));
	l->bufs = malloc((size_t)l->cap * frame_max);
	if (!l->heap || !l->free_slots || !l->bufs)
		return -ENOMEM;
	/* Lowest slot first: the buffers are used from the front. */
	for (uint32_t i = 0; i < l->cap; i++)
		l->free_slots[i] = l->cap - 1 - i;
	l->nfree = l->cap;
	return 0;
}

static void link_fini(struct link *l)
{
	free(l->heap);
	free(l->free_slots);
	free(l->bufs);
	memset(l, 0, sizeof(*l));
}

/* --- a frame's fate ------------------------------------------------------ */

struct fate {
	bool lost, dup, held, corrupt;
	uint32_t byte;
	uint8_t bit;
	uint64_t jitter;
};

/* Four draws whatever the outcome: frame n's fate depends only on the
 * seed, n and its length. */
static void decide(struct link *l, uint32_t len, struct fate *f)
{
	uint64_t r0 = rng_next(l->rng), r1 = rng_next(l->rng);
	uint64_t r2 = rng_next(l->rng), r3 = rng_next(l->rng);

	f->lost = r0 >> 32 < l->loss_thr;
	f->dup = (r0 & 0xffffffffu) < l->dup_thr;
	f->held = r1 >> 32 < l->reorder_thr;
	f->corrupt = (r1 & 0xffffffffu) < l->corrupt_thr;
	/* Multiply-shift onto 0..len-1: no division, no visible bias. */
	f->byte = (uint32_t)(((r2 >> 32) * len) >> 32);
	f->bit = (uint8_t)(r2 & 7);
	f->jitter = l->cfg.jitter_ns ? r3 % (l->cfg.jitter_ns + 1) : 0;
}

/* The end of the frame's serialization, the transmitter busy until then. */
static uint64_t serialize(struct link *l, uint32_t len, uint64_t now)
{
	uint64_t start, bits, ns;

	if (!l->cfg.rate_bps)
		return now;
	start = l->busy_until > now ? l->busy_until : now;
	if (len < WP_PAIR_FRAME_MIN)
		len = WP_PAIR_FRAME_MIN;
	/* At most (65535 + 24) * 8 * 1e9: no overflow. */
	bits = (uint64_t)(len + WP_PAIR_WIRE_OVERHEAD) * 8;
	ns = (bits * WP_NSEC_PER_SEC + l->cfg.rate_bps - 1) / l->cfg.rate_bps;
	l->busy_until = start + ns;
	return l->busy_until;
}

/* A frame leaves the sender at `now`: decide, then put it on the wire. */
static void link_send(struct wp_pair_wire *w, struct link *l,
		      const uint8_t *frame, uint32_t len, uint64_t now)
{
	struct fate f;
	uint8_t *data;
	uint64_t t;

	decide(l, len, &f);
	l->st.tx_packets++;
	l->st.tx_bytes += len;
	if (len > w->frame_max) {
		l->st.oversize++;
		return;
	}
	if (!link_room(l)) {
		l->st.wire_full++;
		return;
	}
	t = serialize(l, len, now);
	if (f.lost) {
		l->st.lost++;
		return;
	}
	t += l->cfg.delay_ns + f.jitter;
	if (t < l->last_t)
		t = l->last_t;
	if (f.held) {
		l->st.reordered++;
		t += l->cfg.reorder_ns;
	} else {
		l->last_t = t;
	}
	data = link_put(w, l, t, frame, len);
	if (f.corrupt && len) {
		data[f.byte] ^= (uint8_t)(1u << f.bit);
		l->st.corrupted++;
	}
	if (!f.dup)
		return;
	l->st.duplicated++;
	if (!link_room(l)) {
		l->st.wire_full++;
		return;
	}
	link_put(w, l, t, data, len);
}

/* --- the wire ------------------------------------------------------------ */

/* wp__pair_link_check, the message saying which way the bad knob points. */
static int check_dir(const char *name, const struct wp_pair_link *l, char *err,
		     size_t errlen)
{
	char msg[160];
	int ret = wp__pair_link_check(l, msg, sizeof(msg));

	if (ret)
		set_err(err, errlen, "%s: %s", name, msg);
	return ret;
}

struct wp_pair_wire *wp__pair_wire_create(const struct wp_pair_impairments *imp,
					  uint32_t frame_max, char *err,
					  size_t errlen)
{
	struct wp_pair_wire *w;
	uint64_t s;
	int ret;

	if (!imp || frame_max < WP_ETH_HLEN || frame_max > UINT16_MAX) {
		set_err(err, errlen, "no impairments, or a frame size of %u",
			frame_max);
		errno = EINVAL;
		return NULL;
	}
	if ((ret = check_dir("A->B", &imp->a_to_b, err, errlen)) ||
	    (ret = check_dir("B->A", &imp->b_to_a, err, errlen))) {
		errno = -ret;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		goto out_nomem;
	w->seed = imp->seed;
	w->frame_max = frame_max;
	/* One splitmix64 sequence: A->B takes its first four words, B->A the
	 * next four, so the two streams never overlap. */
	s = imp->seed;
	if (link_init(&w->link[WP_PAIR_A_TO_B], &imp->a_to_b, frame_max, &s) ||
	    link_init(&w->link[WP_PAIR_B_TO_A], &imp->b_to_a, frame_max, &s))
		goto out_free;
	for (unsigned int i = 0; i < 2; i++) {
		w->end[i].wire = w;
		w->end[i].side = i;
		w->end[i].last_tick = WP_TIME_NEVER;
	}
	return w;

out_free:
	link_fini(&w->link[0]);
	link_fini(&w->link[1]);
	free(w);
out_nomem:
	set_err(err, errlen, "out of memory for %u + %u frames of %u bytes",
		imp->a_to_b.limit, imp->b_to_a.limit, frame_max);
	errno = ENOMEM;
	return NULL;
}

void wp__pair_wire_destroy(struct wp_pair_wire *w)
{
	if (!w)
		return;
	link_fini(&w->link[0]);
	link_fini(&w->link[1]);
	free(w);
}

void *wp__pair_wire_end(struct wp_pair_wire *w, unsigned int side)
{
	return w && side < 2 ? &w->end[side] : NULL;
}

uint64_t wp__pair_wire_next(const struct wp_pair_wire *w)
{
	uint64_t a = link_next(&w->link[0]), b = link_next(&w->link[1]);

	return a < b ? a : b;
}

int wp__pair_wire_set_link(struct wp_pair_wire *w, enum wp_pair_dir dir,
			   const struct wp_pair_link *cfg, char *err,
			   size_t errlen)
{
	struct link *l;
	int ret;

	if (!w || !cfg || (dir != WP_PAIR_A_TO_B && dir != WP_PAIR_B_TO_A)) {
		set_err(err, errlen, "no such link");
		return -EINVAL;
	}
	l = &w->link[dir];
	ret = wp__pair_link_check(cfg, err, errlen);
	if (ret)
		return ret;
	if (cfg->limit > l->cap) {
		set_err(err, errlen,
			"limit %u: the wire was built for %u frames in flight",
			cfg->limit, l->cap);
		return -EINVAL;
	}
	link_apply(l, cfg);
	return 0;
}

void wp__pair_wire_stats(const struct wp_pair_wire *w, enum wp_pair_dir dir,
			 struct wp_pair_stats *st)
{
	const struct link *l = &w->link[dir == WP_PAIR_B_TO_A];

	*st = l->st;
	st->in_flight = l->n;
}

uint64_t wp__pair_wire_seed(const struct wp_pair_wire *w)
{
	return w->seed;
}

/* --- the firmware -------------------------------------------------------- */

/* ethtool -L may change it on the control thread. */
static uint16_t active_queues(const struct wp_nic *nic)
{
	return __atomic_load_n(&nic->nqueues, __ATOMIC_ACQUIRE);
}

static int pair_open(struct wp_backend *be, const struct wp_backend_config *cfg)
{
	struct end *e = cfg->peer;

	if (!e) {
		wp__backend_err(be,
				"needs two stacks: use wp_stack_pair_create "
				"(tests) or wirepath bench");
		return -EINVAL;
	}
	if (!wp_clock_is_virtual(be->clock)) {
		wp__backend_err(be, "runs on virtual time only: create the "
				    "stacks with wp_stack_pair_create");
		return -EINVAL;
	}
	if (e->be) {
		wp__backend_err(be, "this end of the wire already has a NIC");
		return -EBUSY;
	}
	e->be = be;
	e->last_tick = WP_TIME_NEVER;
	be->priv = e;
	return 0;
}

static void pair_close(struct wp_backend *be)
{
	struct end *e = be->priv;

	if (!e)
		return;
	e->be = NULL;
	be->priv = NULL;
}

static void pair_tx_queue(struct wp_backend *be, struct end *e, uint16_t q,
			  uint64_t now)
{
	struct wp_pair_wire *w = e->wire;
	struct link *out = &w->link[e->side];
	const struct wp_tx_desc *d;
	uint32_t n = 0;

	while ((d = wp_nic_tx_fw_next(be->nic, q))) {
		link_send(w, out, (const uint8_t *)(uintptr_t)d->addr, d->len,
			  now);
		wp_nic_tx_fw_done(be->nic, q);
		n++;
	}
	if (n) {
		be->frames_out += n;
		wp_nic_tx_fw_irq(be->nic, q);
	}
}

static uint64_t pair_step(struct wp_backend *be, uint64_t now)
{
	struct end *e = be->priv;
	struct wp_pair_wire *w = e->wire;
	struct link *in = &w->link[!e->side];
	uint64_t coal, next;

	while (in->n && in->heap[0].t <= now) {
		struct flight f = heap_pop(in);

		/* Timers that expired before this frame fire before it. */
		if (f.t != e->last_tick) {
			wp_nic_coalesce_tick(be->nic, f.t);
			e->last_tick = f.t;
		}
		be->frames_in++;
		in->st.delivered++;
		if (wp_nic_rx_frame(be->nic, slot_data(w, in, f.slot), f.len,
				    f.t) < 0)
			in->st.rx_refused++;
		in->free_slots[in->nfree++] = f.slot;
	}
	coal = wp_nic_coalesce_tick(be->nic, now);
	e->last_tick = now;
	for (uint16_t q = 0; q < active_queues(be->nic); q++)
		pair_tx_queue(be, e, q, now);
	next = link_next(in);
	return next < coal ? next : coal;
}

static int pair_start(struct wp_backend *be)
{
	wp__backend_err(be, "the pair backend runs on virtual time; use it "
			    "from tests or wirepath bench");
	return -ENOTSUP;
}

static void pair_stop(struct wp_backend *be)
{
}

/* Frames go on the wire in step(), at the virtual time it runs. */
static void pair_tx_kick(struct wp_backend *be, uint16_t q)
{
}

/* Quiet: nothing in flight towards this NIC and nothing it was asked to
 * send still in its TX rings. */
static bool pair_done(struct wp_backend *be)
{
	struct end *e = be->priv;

	if (!e)
		return true;
	if (e->wire->link[!e->side].n)
		return false;
	for (uint16_t q = 0; q < active_queues(be->nic); q++) {
		struct wp_tx_queue *txq = &be->nic->txq[q];

		if (atomic_load_explicit(&txq->tdt, memory_order_acquire) !=
		    atomic_load_explicit(&txq->tdh, memory_order_acquire))
			return false;
	}
	return true;
}

const struct wp_backend_ops wp_backend_pair = {
	.name = "pair",
	.open = pair_open,
	.close = pair_close,
	.start = pair_start,
	.stop = pair_stop,
	.step = pair_step,
	.tx_kick = pair_tx_kick,
	.done = pair_done,
};
