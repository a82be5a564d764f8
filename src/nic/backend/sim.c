// SPDX-License-Identifier: MIT
/*
 * The sim backend: a traffic generator playing the wire, so the whole
 * receive path runs with no device and no privileges (--backend sim,
 * the default). Transmitted frames leave into nothing: counted, then
 * completed as a real NIC completes them.
 *
 * The generator (see sim.h) is pure: frames and departure times from the
 * configuration. The firmware around it delivers each frame to the NIC
 * model at its departure time, either on virtual time (step()) or on a
 * thread that paces against the monotonic clock (start()/stop()).
 */
#include "nic/backend/sim.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "core/compiler.h"
#include "nic/backend/pcapfile.h"
#include "nic/nic.h"

const uint8_t wp__sim_src_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

/* --- checksums ----------------------------------------------------------- */

/* One's complement sum of big-endian 16-bit words, unfolded (RFC 1071). */
static uint64_t sum16(const uint8_t *p, size_t len, uint64_t sum)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t wp__csum_replace(uint16_t hc, const uint8_t *old, const uint8_t *new,
			  size_t len)
{
	uint64_t sum = (uint16_t)~hc;

	for (size_t i = 0; i + 1 < len; i += 2) {
		sum += (uint16_t) ~((uint32_t)old[i] << 8 | old[i + 1]);
		sum += (uint32_t) new[i] << 8 | new[i + 1];
	}
	return (uint16_t)~fold(sum);
}

/* --- frame building ------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* splitmix64: the seed's stream (filler, source port offset). */
static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * Flow i's header for sequence 0, time 0. `tail` is the one's complement
 * sum of the payload after the sequence and time (shared by all flows).
 */
static void build_template(uint8_t *h, const struct wp_backend_config *cfg,
			   uint32_t i, uint32_t sport_off, uint16_t ip_len,
			   uint64_t tail)
{
	uint32_t src = WP_SIM_SRC_NET | (1 + i % 254);
	/*
	 * Toeplitz is linear over GF(2): if source address and port both
	 * stepped by one per flow, the low hash bits would barely change and
	 * every flow could land on one queue. Multiplying by an odd prime
	 * coprime to WP_SIM_SPORTS is a bijection (ports stay distinct) that
	 * is not GF(2)-linear, so flows spread as real traffic does.
	 */
	uint16_t sport =
		(uint16_t)(WP_SIM_SPORT_BASE +
			   (sport_off + (uint64_t)i * 7919u) % WP_SIM_SPORTS);
	uint16_t udp_len = (uint16_t)(ip_len - 20);
	uint8_t *ip = h + WP_SIM_OFF_IP, *udp = h + WP_SIM_OFF_UDP;
	uint64_t sum;
	uint16_t csum;

	memset(h, 0, WP_SIM_HDR_LEN);
	memcpy(h, cfg->dst_mac, 6);
	memcpy(h + 6, wp__sim_src_mac, 6);
	put16(h + 12, 0x0800);

	ip[0] = 0x45; /* version 4, IHL 5 */
	put16(ip + 2, ip_len);
	/* DF: RFC 6864 lets atomic datagrams carry any ID (ours: n) */
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, src);
	put32(ip + 16, cfg->dst_ip);
	put16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));

	put16(udp, sport);
	put16(udp + 2, cfg->dst_port);
	put16(udp + 4, udp_len);
	/* RFC 768: pseudo-header, header and data; seq and time are 0 here. */
	sum = sum16(ip + 12, 8, tail);
	sum += 17 + udp_len;
	sum = sum16(udp, 8, sum);
	csum = (uint16_t)~fold(sum);
	put16(udp + 6, csum ? csum : 0xffff);
}

static int check_config(const struct wp_backend_config *cfg, uint32_t max_frame,
			char *err, size_t errlen)
{
	uint32_t min = WP_SIM_HDR_LEN + WP_SIM_PAYLOAD_MIN;

	if (cfg->frame_size < min || cfg->frame_size > max_frame) {
		snprintf(err, errlen,
			 "--size %u: must be %u..%u (MTU + 14; under %u the "
			 "frame is padded)",
			 cfg->frame_size, min, max_frame, WP_SIM_FRAME_MIN);
		return -EINVAL;
	}
	if (cfg->flows < 1 || cfg->flows > WP_SIM_FLOWS_MAX) {
		snprintf(err, errlen, "--flows %u: must be 1..%u", cfg->flows,
			 WP_SIM_FLOWS_MAX);
		return -EINVAL;
	}
	if (cfg->rate_pps > WP_SIM_RATE_MAX) {
		snprintf(err, errlen, "--rate %llu: must be 0..%llu pps",
			 (unsigned long long)cfg->rate_pps,
			 (unsigned long long)WP_SIM_RATE_MAX);
		return -EINVAL;
	}
	if (cfg->burst_off_us && !cfg->burst_on_us) {
		snprintf(err, errlen,
			 "--burst 0:%u: the on phase must be at least 1 us",
			 cfg->burst_off_us);
		return -EINVAL;
	}
	return 0;
}

static int build_flows(struct wp_sim_gen *g,
		       const struct wp_backend_config *cfg)
{
	uint32_t ip_len = cfg->frame_size - 14;
	uint32_t frame_len = cfg->frame_size < WP_SIM_FRAME_MIN
				     ? WP_SIM_FRAME_MIN
				     : cfg->frame_size;
	uint64_t s = cfg->seed, tail;
	uint32_t sport_off, fill_len;
	uint8_t *fill;

	g->frame = calloc(1, frame_len);
	g->flows = calloc(cfg->flows, sizeof(*g->flows));
	if (!g->frame || !g->flows)
		return -ENOMEM;
	g->frame_len = frame_len;
	g->nflows = cfg->flows;

	/* Filler after sequence and time, up to the datagram's end; the
	 * Ethernet padding past it stays zero. */
	fill = g->frame + WP_SIM_HDR_LEN + WP_SIM_PAYLOAD_MIN;
	fill_len = ip_len + 14 - WP_SIM_HDR_LEN - WP_SIM_PAYLOAD_MIN;
	for (uint32_t i = 0; i < fill_len; i++)
		fill[i] = (uint8_t)splitmix64(&s);
	tail = sum16(fill, fill_len, 0);
	sport_off = (uint32_t)(splitmix64(&s) % WP_SIM_SPORTS);

	for (uint32_t i = 0; i < g->nflows; i++)
		build_template(g->flows[i].hdr, cfg, i, sport_off,
			       (uint16_t)ip_len, tail);
	return 0;
}

/* Mean gap that closes the loop; a file whose frames share one instant
 * loops every WP_SIM_REPLAY_EMPTY_GAP_NS. */
static void replay_period(struct wp_sim_replay *rp)
{
	uint64_t span = rp->rel_ns[rp->n - 1];

	if (rp->n > 1 && span > 0)
		rp->period_ns = span + span / (rp->n - 1);
	else
		rp->period_ns = span + WP_SIM_REPLAY_EMPTY_GAP_NS;
	if (rp->period_ns <= span)
		rp->period_ns = span + 1;
}

static int replay_grow(struct wp_sim_replay *rp, uint32_t *cap)
{
	uint32_t ncap = *cap ? *cap * 2 : 256;
	uint64_t *rel = realloc(rp->rel_ns, ncap * sizeof(*rel));
	uint32_t *off, *len;

	if (!rel)
		return -ENOMEM;
	rp->rel_ns = rel;
	off = realloc(rp->off, ncap * sizeof(*off));
	if (!off)
		return -ENOMEM;
	rp->off = off;
	len = realloc(rp->len, ncap * sizeof(*len));
	if (!len)
		return -ENOMEM;
	rp->len = len;
	*cap = ncap;
	return 0;
}

static int replay_add(struct wp_sim_replay *rp,
		      const struct wp_pcap_record *rec, uint64_t rel,
		      uint64_t *used, uint64_t *room)
{
	if (*used + rec->caplen > *room) {
		uint64_t nroom = *room ? *room * 2 : 65536;
		uint8_t *d;

		while (nroom < *used + rec->caplen)
			nroom *= 2;
		if (nroom > WP_SIM_REPLAY_MAX_BYTES)
			nroom = WP_SIM_REPLAY_MAX_BYTES;
		d = realloc(rp->data, nroom);
		if (!d)
			return -ENOMEM;
		rp->data = d;
		*room = nroom;
	}
	memcpy(rp->data + *used, rec->data, rec->caplen);
	rp->off[rp->n] = (uint32_t)*used;
	rp->len[rp->n] = rec->caplen;
	rp->rel_ns[rp->n] = rel;
	rp->n++;
	*used += rec->caplen;
	return 0;
}

/* The whole file in memory: replay never touches the disk while paced. */
static int load_replay(struct wp_sim_gen *g, const char *path, char *err,
		       size_t errlen)
{
	struct wp_sim_replay *rp = &g->replay;
	struct wp_pcap_reader r;
	struct wp_pcap_record rec;
	uint64_t first = 0, prev = 0, used = 0, room = 0;
	uint32_t cap = 0;
	int ret;

	ret = wp_pcap_reader_open(&r, path);
	if (ret) {
		snprintf(err, errlen, "replay %s: %s", path,
			 wp_pcap_reader_error(&r));
		return ret;
	}
	while ((ret = wp_pcap_read(&r, &rec)) == 1) {
		uint64_t rel;

		if (rp->n == WP_SIM_REPLAY_MAX_FRAMES ||
		    used + rec.caplen > WP_SIM_REPLAY_MAX_BYTES) {
			snprintf(err, errlen,
				 "replay %s: more than %u frames or %u MiB: "
				 "cut it with `editcap -c`",
				 path, WP_SIM_REPLAY_MAX_FRAMES,
				 WP_SIM_REPLAY_MAX_BYTES >> 20);
			ret = -EFBIG;
			goto out_close;
		}
		if (rp->n == cap && (ret = replay_grow(rp, &cap)))
			goto out_nomem;
		if (rp->n == 0)
			first = rec.ts_ns;
		/* Time going backwards in the file: send at once, in order. */
		rel = rec.ts_ns > first ? rec.ts_ns - first : 0;
		if (rel < prev)
			rel = prev;
		prev = rel;
		if ((ret = replay_add(rp, &rec, rel, &used, &room)))
			goto out_nomem;
	}
	if (ret < 0) {
		snprintf(err, errlen, "replay %s: %s", path,
			 wp_pcap_reader_error(&r));
		goto out_close;
	}
	if (rp->n == 0) {
		snprintf(err, errlen, "replay %s: the file has no frames",
			 path);
		ret = -EINVAL;
		goto out_close;
	}
	replay_period(rp);
	ret = 0;
	goto out_close;

out_nomem:
	snprintf(err, errlen, "replay %s: out of memory", path);
out_close:
	wp_pcap_reader_close(&r);
	return ret;
}

/* The incremental state for frame n, from the closed form. */
static void sched_seek(struct wp_sim_gen *g, uint64_t n)
{
	uint64_t q, r;

	if (g->replaying) {
		g->k = (uint32_t)(n % g->replay.n);
		g->loop_ns = n / g->replay.n * g->replay.period_ns;
		return;
	}
	g->gap_ns = WP_NSEC_PER_SEC / g->rate_pps;
	g->gap_rem = WP_NSEC_PER_SEC % g->rate_pps;
	q = (n + 1) / g->rate_pps;
	r = (n + 1) % g->rate_pps;
	g->on_clock = q * WP_NSEC_PER_SEC + r * WP_NSEC_PER_SEC / g->rate_pps;
	g->acc = r * WP_NSEC_PER_SEC % g->rate_pps;
	if (g->on_ns) {
		g->phase_base =
			(g->on_clock - 1) / g->on_ns * (g->on_ns + g->off_ns);
		g->phase_pos = (g->on_clock - 1) % g->on_ns;
	}
}

/* d(seq) -> d(seq + 1): additions, and a division only when a burst
 * phase is crossed. */
static uint64_t sched_advance(struct wp_sim_gen *g)
{
	uint64_t delta;

	if (g->replaying) {
		if (++g->k == g->replay.n) {
			g->k = 0;
			g->loop_ns += g->replay.period_ns;
		}
		return g->loop_ns + g->replay.rel_ns[g->k];
	}
	delta = g->gap_ns;
	g->acc += g->gap_rem;
	if (g->acc >= g->rate_pps) {
		g->acc -= g->rate_pps;
		delta++;
	}
	g->on_clock += delta;
	if (!g->on_ns)
		return g->on_clock;
	g->phase_pos += delta;
	if (g->phase_pos >= g->on_ns) {
		uint64_t c = g->phase_pos / g->on_ns;

		g->phase_pos -= c * g->on_ns;
		g->phase_base += c * (g->on_ns + g->off_ns);
	}
	return g->phase_base + g->phase_pos + 1;
}

int wp__sim_gen_init(struct wp_sim_gen *g, const struct wp_backend_config *cfg,
		     uint32_t max_frame, uint64_t start_ns, char *err,
		     size_t errlen)
{
	int ret;

	memset(g, 0, sizeof(*g));
	if (cfg->replay_pcap) {
		ret = load_replay(g, cfg->replay_pcap, err, errlen);
		if (ret)
			goto out_fini;
		g->replaying = true;
	} else {
		ret = check_config(cfg, max_frame, err, errlen);
		if (ret)
			return ret;
		ret = build_flows(g, cfg);
		if (ret) {
			snprintf(err, errlen, "out of memory for %u flows",
				 cfg->flows);
			goto out_fini;
		}
		g->rate_pps = cfg->rate_pps;
		if (cfg->burst_on_us && cfg->burst_off_us) {
			g->on_ns = cfg->burst_on_us * WP_NSEC_PER_USEC;
			g->off_ns = cfg->burst_off_us * WP_NSEC_PER_USEC;
		}
	}
	g->base_ns = start_ns;
	g->next_ns = WP_TIME_NEVER;
	if (g->replaying || g->rate_pps) {
		sched_seek(g, 0);
		g->next_ns = start_ns + wp__sim_gen_offset(g, 0);
	}
	return 0;

out_fini:
	wp__sim_gen_fini(g);
	return ret;
}

void wp__sim_gen_fini(struct wp_sim_gen *g)
{
	free(g->frame);
	free(g->flows);
	free(g->replay.data);
	free(g->replay.rel_ns);
	free(g->replay.off);
	free(g->replay.len);
	memset(g, 0, sizeof(*g));
	g->next_ns = WP_TIME_NEVER;
}

uint64_t wp__sim_gen_offset(const struct wp_sim_gen *g, uint64_t n)
{
	uint64_t t;

	if (g->replaying) {
		const struct wp_sim_replay *rp = &g->replay;

		return (n / rp->n) * rp->period_ns + rp->rel_ns[n % rp->n];
	}
	/* (n + 1) / rate seconds without (n + 1) * 1e9 overflowing:
	 * rem < rate <= 1e9. t >= 1 since rate <= 1e9. */
	n++;
	t = n / g->rate_pps * WP_NSEC_PER_SEC +
	    n % g->rate_pps * WP_NSEC_PER_SEC / g->rate_pps;
	if (!g->on_ns)
		return t;
	return (t - 1) / g->on_ns * (g->on_ns + g->off_ns) +
	       (t - 1) % g->on_ns + 1;
}

const uint8_t *wp__sim_gen_emit(struct wp_sim_gen *g, uint32_t *len,
				uint64_t *t)
{
	static const uint8_t zero[WP_SIM_PAYLOAD_MIN];
	uint64_t n = g->seq;
	uint8_t *f = g->frame;
	uint8_t id[2];
	uint16_t csum;

	*t = g->next_ns;
	if (g->replaying) {
		uint32_t k = g->k;

		g->seq++;
		g->next_ns = g->base_ns + sched_advance(g);
		*len = g->replay.len[k];
		return g->replay.data + g->replay.off[k];
	}
	g->seq++;
	g->next_ns = g->base_ns + sched_advance(g);

	memcpy(f, g->flows[n % g->nflows].hdr, WP_SIM_HDR_LEN);
	put16(id, (uint16_t)n);
	memcpy(f + WP_SIM_OFF_IP_ID, id, 2);
	put16(f + WP_SIM_OFF_IP_CSUM,
	      wp__csum_replace(get16(f + WP_SIM_OFF_IP_CSUM), zero, id, 2));

	put64(f + WP_SIM_OFF_SEQ, n);
	put64(f + WP_SIM_OFF_TSTAMP, *t);
	csum = wp__csum_replace(get16(f + WP_SIM_OFF_UDP_CSUM), zero,
				f + WP_SIM_OFF_SEQ, WP_SIM_PAYLOAD_MIN);
	/* RFC 768: a computed 0 is sent as all ones. */
	put16(f + WP_SIM_OFF_UDP_CSUM, csum ? csum : 0xffff);
	*len = g->frame_len;
	return f;
}

void wp__sim_gen_rebase(struct wp_sim_gen *g, uint64_t t)
{
	if (g->next_ns == WP_TIME_NEVER)
		return;
	g->base_ns = t - (g->next_ns - g->base_ns);
	g->next_ns = t;
}

/* --- the firmware -------------------------------------------------------- */

/* Real-time pacing: more frames per loop than this and the loop goes round
 * again first (moderation timers, TX, stop). */
#define SIM_BATCH 64
/* Further behind than this, the schedule slips instead of bursting to
 * catch up (counted in rebases/rebased_ns). */
#define SIM_MAX_LAG_NS (10 * WP_NSEC_PER_MSEC)
/* Spin, not sleep, for the last stretch before a departure: a timed sleep
 * overshoots by tens of us even with the timer slack at 1 ns. */
#define SIM_SPIN_NS (20 * WP_NSEC_PER_USEC)
/* Longest sleep: how late a doorbell or stop() may be noticed when idle. */
#define SIM_MAX_SLEEP_NS (100 * WP_NSEC_PER_USEC)

/*
 * The receiving end of a crossover cable (wp__sim_link): frames the
 * peer's NIC transmitted, waiting for this NIC's firmware to DMA-write
 * them into its RX ring. A bounded ring of fixed slots under a lock
 * (two threads only: the peer's firmware puts, ours takes); full: the
 * frame is dropped and counted, as a switch port's buffer would.
 */
#define SIM_CABLE_SLOTS 2048u

struct sim_cable {
	pthread_mutex_t lock;
	uint32_t head, tail; /* free-running; tail - head queued */
	uint32_t slot_bytes;
	uint16_t *len;
	uint8_t *buf;
	_Atomic uint32_t queued; /* a lock-free look for the idle loop */
};

struct sim {
	struct wp_sim_gen gen;
	struct sim *peer;    /* the other end of the cable, or NULL */
	struct sim_cable in; /* frames from the peer (peer != NULL) */
	uint64_t cable_in;   /* frames taken off the cable */
	uint64_t cable_full; /* frames we sent into a full cable */
	pthread_t thread;
	bool running;
	_Atomic bool stop;
	_Atomic uint32_t tx_kicked; /* bit q: queue q rang its doorbell */
	uint64_t last_tick;	    /* step(): moderation last ticked at */
	uint64_t rx_refused;	    /* the NIC dropped it (full, down, size) */
	uint64_t tx_bytes;
};

/* Firmware counters: one writer (this thread), read by the control path
 * (stats) at any time, so each is a relaxed atomic load and store. */
static void count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static void sim_rx(struct wp_backend *be, struct sim *s, const uint8_t *f,
		   uint32_t len, uint64_t t)
{
	count(&be->frames_in, 1);
	if (wp_nic_rx_frame(be->nic, f, len, t) < 0)
		s->rx_refused++;
}

/* Put one frame on the cable into peer; false if the cable is full. */
static bool cable_put(struct sim *peer, const uint8_t *f, uint32_t len)
{
	struct sim_cable *c = &peer->in;
	bool ok = false;

	if (len > c->slot_bytes)
		len = c->slot_bytes; /* cannot happen: both MTUs checked */
	pthread_mutex_lock(&c->lock);
	if (c->tail - c->head < SIM_CABLE_SLOTS) {
		uint32_t i = c->tail % SIM_CABLE_SLOTS;

		memcpy(c->buf + (size_t)i * c->slot_bytes, f, len);
		c->len[i] = (uint16_t)len;
		c->tail++;
		atomic_store_explicit(&c->queued, c->tail - c->head,
				      memory_order_release);
		ok = true;
	}
	pthread_mutex_unlock(&c->lock);
	return ok;
}

/* DMA-write what the peer sent into our RX ring, arriving at `now`. */
static void cable_drain(struct wp_backend *be, struct sim *s, uint64_t now)
{
	struct sim_cable *c = &s->in;

	if (!s->peer || !atomic_load_explicit(&c->queued, memory_order_acquire))
		return;
	pthread_mutex_lock(&c->lock);
	while (c->head != c->tail) {
		uint32_t i = c->head % SIM_CABLE_SLOTS;

		sim_rx(be, s, c->buf + (size_t)i * c->slot_bytes, c->len[i],
		       now);
		c->head++;
		count(&s->cable_in, 1);
	}
	atomic_store_explicit(&c->queued, 0, memory_order_relaxed);
	pthread_mutex_unlock(&c->lock);
}

/* Send everything between TDH and TDT onto the cable (or into nothing);
 * one IRQ per batch. */
static void sim_tx_queue(struct wp_backend *be, struct sim *s, uint16_t q)
{
	const struct wp_tx_desc *d;
	uint32_t n = 0;

	while ((d = wp_nic_tx_fw_next(be->nic, q))) {
		if (s->peer &&
		    !cable_put(s->peer, (const uint8_t *)(uintptr_t)d->addr,
			       d->len))
			count(&s->cable_full, 1);
		s->tx_bytes += d->len;
		wp_nic_tx_fw_done(be->nic, q);
		n++;
	}
	if (n) {
		count(&be->frames_out, n);
		wp_nic_tx_fw_irq(be->nic, q);
	}
}

static void sim_tx_kicked(struct wp_backend *be, struct sim *s, bool all)
{
	/* Acquire: pairs with tx_kick's release, so TDT is seen. Cleared
	 * before servicing: a kick that lands meanwhile stays for next time. */
	uint32_t kicked = atomic_exchange_explicit(&s->tx_kicked, 0,
						   memory_order_acquire);

	uint16_t nq = __atomic_load_n(&be->nic->nqueues, __ATOMIC_ACQUIRE);

	for (uint16_t q = 0; q < nq; q++)
		if (all || (kicked & (1u << q)))
			sim_tx_queue(be, s, q);
}

static int sim_open(struct wp_backend *be, const struct wp_backend_config *cfg)
{
	char err[256];
	struct sim *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s) {
		wp__backend_err(be, "out of memory");
		return -ENOMEM;
	}
	ret = wp__sim_gen_init(&s->gen, cfg, be->nic->cfg.mtu + WP_ETH_HLEN,
			       wp_clock_now(be->clock), err, sizeof(err));
	if (ret) {
		wp__backend_err(be, "%s", err);
		free(s);
		return ret;
	}
	atomic_init(&s->stop, false);
	atomic_init(&s->tx_kicked, 0);
	s->last_tick = WP_TIME_NEVER;
	be->priv = s;
	return 0;
}

/*
 * Virtual time: every frame due by now, each at its own departure time.
 * Moderation timers that expired before a frame fire before it, so
 * interrupts are the same whatever steps the caller takes.
 */
static uint64_t sim_step(struct wp_backend *be, uint64_t now)
{
	struct sim *s = be->priv;
	struct wp_sim_gen *g = &s->gen;
	uint64_t coal;

	while (g->next_ns <= now) {
		const uint8_t *f;
		uint32_t len;
		uint64_t t;

		f = wp__sim_gen_emit(g, &len, &t);
		if (t != s->last_tick) {
			wp_nic_coalesce_tick(be->nic, t);
			s->last_tick = t;
		}
		sim_rx(be, s, f, len, t);
	}
	cable_drain(be, s, now);
	coal = wp_nic_coalesce_tick(be->nic, now);
	s->last_tick = now;
	sim_tx_kicked(be, s, true);
	return g->next_ns < coal ? g->next_ns : coal;
}

static void sim_wait(struct sim *s, uint64_t wake)
{
	uint64_t now = wp_time_real_ns();

	if (wake > now + SIM_SPIN_NS) {
		uint64_t until = wake - SIM_SPIN_NS;
		struct timespec ts;

		if (until > now + SIM_MAX_SLEEP_NS)
			until = now + SIM_MAX_SLEEP_NS;
		ts.tv_sec = (time_t)(until / WP_NSEC_PER_SEC);
		ts.tv_nsec = (long)(until % WP_NSEC_PER_SEC);
		/* EINTR: the loop re-evaluates anyway. */
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		return;
	}
	while (wp_time_real_ns() < wake &&
	       !atomic_load_explicit(&s->stop, memory_order_relaxed) &&
	       !atomic_load_explicit(&s->tx_kicked, memory_order_relaxed) &&
	       !atomic_load_explicit(&s->in.queued, memory_order_relaxed))
		wp_cpu_relax();
}

static void *sim_thread(void *arg)
{
	struct wp_backend *be = arg;
	struct sim *s = be->priv;
	struct wp_sim_gen *g = &s->gen;

	/* Sleeps end when asked, not up to 50 us later. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
		uint64_t now = wp_time_real_ns(), coal, wake;
		uint32_t n = 0;

		if (g->next_ns < now && now - g->next_ns > SIM_MAX_LAG_NS) {
			s->gen.rebases++;
			s->gen.rebased_ns += now - g->next_ns;
			wp__sim_gen_rebase(g, now);
		}
		while (g->next_ns <= now && n < SIM_BATCH) {
			const uint8_t *f;
			uint32_t len;
			uint64_t t;

			/* The payload says when it was due; the descriptor
			 * says when the DMA happened. */
			f = wp__sim_gen_emit(g, &len, &t);
			sim_rx(be, s, f, len, now);
			n++;
		}
		cable_drain(be, s, now);
		coal = wp_nic_coalesce_tick(be->nic, now);
		sim_tx_kicked(be, s, false);
		if (n == SIM_BATCH)
			continue;
		wake = g->next_ns < coal ? g->next_ns : coal;
		sim_wait(s, wake);
	}
	/* Doorbells rung before stop() are honoured. */
	sim_tx_kicked(be, s, false);
	return NULL;
}

static int sim_start(struct wp_backend *be)
{
	struct sim *s = be->priv;
	int ret;

	if (wp_clock_is_virtual(be->clock)) {
		wp__backend_err(
			be, "start() paces against the real clock, but this "
			    "NIC runs on virtual time: call step() instead");
		return -EINVAL;
	}
	if (s->running)
		return -EBUSY;
	atomic_store_explicit(&s->stop, false, memory_order_relaxed);
	wp__sim_gen_rebase(&s->gen, wp_time_real_ns());
	ret = pthread_create(&s->thread, NULL, sim_thread, be);
	if (ret) {
		wp__backend_err(be, "cannot start the firmware thread: %s",
				strerror(ret));
		return -ret;
	}
	pthread_setname_np(s->thread, "wp-fw-sim");
	s->running = true;
	return 0;
}

static void sim_stop(struct wp_backend *be)
{
	struct sim *s = be->priv;

	if (!s || !s->running)
		return;
	/* Release: the thread's last look at the rings follows our writes. */
	atomic_store_explicit(&s->stop, true, memory_order_release);
	pthread_join(s->thread, NULL);
	s->running = false;
}

static void sim_close(struct wp_backend *be)
{
	struct sim *s = be->priv;

	if (!s)
		return;
	sim_stop(be);
	if (s->peer) {
		/* Cut the cable at both ends (both firmwares are stopped:
		 * wp__sim_link's contract). */
		s->peer->peer = NULL;
		s->peer = NULL;
	}
	if (s->in.buf) {
		pthread_mutex_destroy(&s->in.lock);
		free(s->in.buf);
		free(s->in.len);
	}
	wp__sim_gen_fini(&s->gen);
	free(s);
	be->priv = NULL;
}

static void sim_tx_kick(struct wp_backend *be, uint16_t q)
{
	struct sim *s = be->priv;

	/* Release: the TDT write before the doorbell is visible to the
	 * firmware once it sees the bit. */
	if (s && q < 32)
		atomic_fetch_or_explicit(&s->tx_kicked, 1u << q,
					 memory_order_release);
}

static bool sim_done(struct wp_backend *be)
{
	/* A generator (and a replay, which loops) never runs dry. */
	return false;
}

static int cable_init(struct sim_cable *c, uint32_t slot_bytes)
{
	c->slot_bytes = slot_bytes;
	c->buf = malloc((size_t)SIM_CABLE_SLOTS * slot_bytes);
	c->len = calloc(SIM_CABLE_SLOTS, sizeof(*c->len));
	if (!c->buf || !c->len) {
		free(c->buf);
		free(c->len);
		c->buf = NULL;
		c->len = NULL;
		return -ENOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	atomic_init(&c->queued, 0);
	return 0;
}

int wp__sim_link(struct wp_backend *a, struct wp_backend *b, char *err,
		 size_t errlen)
{
	struct sim *sa = a->priv, *sb = b->priv;
	uint32_t fa = a->nic->cfg.mtu + WP_ETH_HLEN;
	uint32_t fb = b->nic->cfg.mtu + WP_ETH_HLEN;

	if (a->ops != &wp_backend_sim || b->ops != &wp_backend_sim || a == b) {
		snprintf(err, errlen, "a cable joins two sim NICs");
		return -EINVAL;
	}
	if (sa->peer || sb->peer || sa->running || sb->running) {
		snprintf(err, errlen,
			 "link before start, and each NIC to one peer");
		return -EBUSY;
	}
	if (cable_init(&sa->in, fb > fa ? fb : fa) ||
	    cable_init(&sb->in, fb > fa ? fb : fa)) {
		snprintf(err, errlen, "out of memory for the cable");
		return -ENOMEM;
	}
	sa->peer = sb;
	sb->peer = sa;
	return 0;
}

static void sim_report(struct wp_backend *be, FILE *out)
{
	struct sim *s = be->priv;

	if (!s || !s->in.buf)
		return;
	fprintf(out, "     cable_rx_frames: %llu\n",
		(unsigned long long)__atomic_load_n(&s->cable_in,
						    __ATOMIC_RELAXED));
	fprintf(out, "     cable_tx_full: %llu\n",
		(unsigned long long)__atomic_load_n(&s->cable_full,
						    __ATOMIC_RELAXED));
}

const struct wp_backend_ops wp_backend_sim = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.start = sim_start,
	.stop = sim_stop,
	.step = sim_step,
	.tx_kick = sim_tx_kick,
	.done = sim_done,
	.report = sim_report,
};
