// SPDX-License-Identifier: MIT
/*
 * Putting the device half together: a clock, the sysctls, the cores and
 * their vectors, the NIC, and the backend that plays its firmware.
 *
 * Order matters at both ends. Start: cores first (so every vector has a
 * thread to take it and every pool an owner), then the firmware. Stop:
 * firmware first (nothing more arrives), then the cores, then the NIC
 * gives every buffer back.
 */
#include "stack/stack.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nic/backend/sim.h"

static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

void wp_stack_config_default(struct wp_stack_config *cfg)
{
	static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = "sim";
	cfg->queues = 1;
	cfg->cores = 1;
	cfg->rx_ring = WP_RING_DEFAULT;
	cfg->tx_ring = WP_RING_DEFAULT;
	cfg->mtu = WP_MTU_DEFAULT;
	memcpy(cfg->mac, mac, sizeof(mac));
	cfg->addr = (10u << 24) | 2; /* 10.0.0.2/24 */
	cfg->prefix_len = 24;
	cfg->rx_usecs = 50;
	cfg->frame_size = 64;
	cfg->flows = 1;
	cfg->seed = 1;
	cfg->linger_ns = WP_NSEC_PER_SEC;
}

/*
 * The top of the device half: every packet NAPI hands up is accounted
 * (count, bytes, DMA-to-handoff latency) on its core, then the batch goes
 * to the protocol layer. The gro capture tap sees the batch here; while
 * a socket capture runs, this thread is bound to its core's trace
 * context for the batch, so the socket tap deep inside finds its ring.
 */
static void stack_rx(void *ctx, struct wp_napi *napi, struct wp_skb_queue *skbs)
{
	struct wp_stack *s = ctx;
	struct wp_stack_rx *rx = &s->rx[napi->cpu->id];
	struct wp_trace_cpu *tc =
		wp_trace_cpu(s->trace, (uint32_t)napi->cpu->id);
	uint64_t now = wp_clock_now(&s->clock);
	bool tap = wp_trace_tap_on(s->trace, WP_TAP_GRO);

	for (struct wp_skb *skb = skbs->head; skb; skb = skb->next) {
		rx->packets++;
		rx->bytes += skb->len;
		wp_hist_record(&rx->latency,
			       now > skb->tstamp ? now - skb->tstamp : 0);
		if (wp_unlikely(tap))
			wp_trace_tap_skb(tc, WP_TAP_GRO, skb, skb->data, now,
					 false);
	}
	if (wp_unlikely(atomic_load_explicit(&wp__trace_socket_taps,
					     memory_order_relaxed))) {
		struct wp_trace_cpu *old = wp_trace_bind(tc);

		s->rx_handler(s->rx_ctx, napi, skbs);
		wp_trace_bind(old);
		return;
	}
	s->rx_handler(s->rx_ctx, napi, skbs);
}

static int check_config(const struct wp_stack_config *cfg, char *err,
			size_t len)
{
	if (cfg->queues < 1 || cfg->queues > WP_NIC_MAX_QUEUES) {
		set_err(err, len, "--queues %u: must be 1..%u", cfg->queues,
			WP_NIC_MAX_QUEUES);
		return -EINVAL;
	}
	if (cfg->cores < 1 || cfg->cores > WP_MAX_CPUS) {
		set_err(err, len, "--cores %u: must be 1..%u", cfg->cores,
			WP_MAX_CPUS);
		return -EINVAL;
	}
	if (cfg->cores > cfg->queues) {
		set_err(err, len,
			"--cores %u is more than --queues %u: each core "
			"transmits on a queue of its own; use --queues %u or "
			"more",
			cfg->cores, cfg->queues, cfg->cores);
		return -EINVAL;
	}
	if (cfg->nstatic_arp > WP_STACK_STATIC_ARP_MAX) {
		set_err(err, len, "at most %u static ARP entries",
			WP_STACK_STATIC_ARP_MAX);
		return -EINVAL;
	}
	if (!wp_backend_find(cfg->backend) && cfg->backend &&
	    strcmp(cfg->backend, "afxdp") == 0) {
		set_err(err, len,
			"backend afxdp: this wirepath was built without libxdp "
			"and libbpf (scripts/deps.sh installs them; then "
			"rebuild), or use --backend afpacket");
		return -EINVAL;
	}
	if (!wp_backend_find(cfg->backend)) {
		set_err(err, len,
			"unknown backend '%s' (available: sim, pair, pcap, "
			"tap, afpacket, afxdp; try --backend sim)",
			cfg->backend ? cfg->backend : "");
		return -EINVAL;
	}
	return 0;
}

static void nic_config_from(const struct wp_stack_config *cfg,
			    struct wp_nic_config *nc)
{
	wp_nic_config_default(nc);
	nc->name = "wp0";
	nc->nqueues = cfg->queues;
	nc->rx_ring_size = cfg->rx_ring;
	nc->tx_ring_size = cfg->tx_ring;
	nc->mtu = cfg->mtu;
	memcpy(nc->mac, cfg->mac, 6);
	nc->coalesce.rx_usecs = cfg->rx_usecs;
	nc->coalesce.rx_frames = cfg->rx_frames;
	nc->coalesce.adaptive_rx = cfg->adaptive_rx;
}

static void net_config_from(const struct wp_stack_config *cfg,
			    struct wp_net_config *nc)
{
	wp_net_config_default(nc);
	memcpy(nc->mac, cfg->mac, 6);
	nc->addr = cfg->addr;
	nc->prefix_len = cfg->prefix_len;
	nc->gw = cfg->gw;
	nc->mtu = cfg->mtu;
	nc->vlan_accept = !cfg->vlan_drop;
	nc->seed = cfg->seed;
	nc->nstatic_arp = cfg->nstatic_arp;
	for (uint32_t i = 0; i < cfg->nstatic_arp; i++) {
		nc->static_arp[i].ip = cfg->static_arp[i].ip;
		memcpy(nc->static_arp[i].mac, cfg->static_arp[i].mac, 6);
	}
}

static void backend_config_from(const struct wp_stack_config *cfg,
				struct wp_backend_config *bc)
{
	wp_backend_config_default(bc);
	bc->rate_pps = cfg->rate_pps;
	bc->frame_size = cfg->frame_size;
	bc->flows = cfg->flows;
	bc->burst_on_us = cfg->burst_on_us;
	bc->burst_off_us = cfg->burst_off_us;
	bc->replay_pcap = cfg->replay_pcap;
	bc->seed = cfg->seed;
	memcpy(bc->dst_mac, cfg->mac, 6);
	bc->mac_set = cfg->mac_set;
	bc->dst_ip = cfg->addr;
	bc->pcap_in = cfg->pcap_in;
	bc->pcap_out = cfg->pcap_out;
	bc->linger_ns = cfg->linger_ns;
	bc->ifname = cfg->ifname;
	bc->xdp_queue = cfg->xdp_queue;
	bc->xdp_bind = cfg->xdp_bind;
	bc->busy_poll = cfg->busy_poll;
}

struct wp_stack *wp_stack_create(const struct wp_stack_config *cfg, char *err,
				 size_t errlen)
{
	return wp__stack_create(cfg, NULL, err, errlen);
}

struct wp_stack *wp__stack_create(const struct wp_stack_config *cfg, void *peer,
				  char *err, size_t errlen)
{
	struct wp_nic_config nc;
	struct wp_net_config netc;
	struct wp_backend_config bc;
	struct wp_stack *s;
	int ret;

	set_err(err, errlen, "%s", "");
	ret = check_config(cfg, err, errlen);
	if (ret)
		goto out_errno;
	if (!peer && strcmp(cfg->backend, "pair") == 0) {
		set_err(err, errlen,
			"pair needs two stacks: use wp_stack_pair_create (or "
			"wirepath bench)");
		ret = -EINVAL;
		goto out_errno;
	}
	nic_config_from(cfg, &nc);
	ret = wp_nic_config_validate(&nc);
	if (ret) {
		set_err(err, errlen,
			"bad NIC settings: rings must be powers of two in "
			"%u..%u, MTU %u..%u, coalescing rx-usecs <= %u",
			WP_RING_MIN, WP_RING_MAX, WP_MTU_MIN, WP_MTU_MAX,
			WP_COALESCE_USECS_MAX);
		goto out_errno;
	}

	s = calloc(1, sizeof(*s));
	if (!s) {
		ret = -ENOMEM;
		set_err(err, errlen, "out of memory");
		goto out_errno;
	}
	s->cfg = *cfg;
	if (cfg->virtual_time)
		wp_clock_init_virtual(&s->clock, 0);
	else
		wp_clock_init_real(&s->clock);
	wp_sysctl_init(&s->sysctl);
	s->ncpus = cfg->cores;
	for (uint32_t i = 0; i < s->ncpus; i++) {
		s->cpus[i] = &s->cpu[i];
		wp_cpu_init(&s->cpu[i], (int)i, &s->clock, &s->sysctl,
			    &s->irqs);
		wp_cpu_set_busy_poll(&s->cpu[i], cfg->busy_poll);
		wp_hist_init(&s->rx[i].latency);
	}
	wp_irq_table_init(&s->irqs, s->cpus, s->ncpus);
	s->trace = wp_trace_create(&s->clock, s->ncpus);
	if (!s->trace) {
		ret = -errno;
		set_err(err, errlen, "cannot create the trace collector: %s",
			strerror(errno));
		goto out_free_cpus;
	}
	/* Background sampling feeds `wirepath stat latency`. */
	wp_trace_set_filter(s->trace, &(struct wp_trace_filter){
					      .every = WP_STACK_TRACE_EVERY });

	s->nic = wp_nic_create(&nc, &s->clock, &s->irqs, s->cpus, s->ncpus,
			       stack_rx, s);
	if (!s->nic) {
		ret = -errno;
		set_err(err, errlen, "cannot create the NIC: %s",
			strerror(errno));
		goto out_destroy_trace;
	}
	s->nic->trace = s->trace;

	backend_config_from(cfg, &bc);
	bc.peer = peer;
	s->paired = peer != NULL;
	ret = wp_backend_open(&s->backend, wp_backend_find(cfg->backend),
			      s->nic, &s->clock, &bc);
	if (ret) {
		set_err(err, errlen, "backend %s: %s (see the message above)",
			cfg->backend, strerror(-ret));
		goto out_destroy_nic;
	}
	s->backend_open = true;
	/* A backend on a real interface may have chosen the MAC (tap,
	 * afpacket) or lowered the MTU (afpacket): the protocol layer
	 * uses what the wire does. */
	memcpy(s->cfg.mac, s->nic->cfg.mac, 6);
	s->cfg.mtu = s->nic->cfg.mtu;

	net_config_from(&s->cfg, &netc);
	s->net = wp_net_create(&netc, &s->clock, &s->sysctl, s->nic, s->cpus,
			       s->ncpus);
	if (!s->net) {
		ret = -errno;
		if (errno == EINVAL)
			set_err(err, errlen,
				"bad address settings: --addr needs a unicast "
				"address and a prefix length 1..32, --gw an "
				"address on that subnet, --static-arp unicast "
				"addresses and MACs");
		else
			set_err(err, errlen,
				"cannot create the protocol layer: %s",
				strerror(errno));
		goto out_close_backend;
	}
	s->rx_handler = wp_netif_receive_skb_list;
	s->rx_ctx = s->net;
	return s;

out_close_backend:
	wp_backend_close(&s->backend);
out_destroy_nic:
	wp_nic_destroy(s->nic);
out_destroy_trace:
	wp_trace_destroy(s->trace);
out_free_cpus:
	for (uint32_t i = 0; i < s->ncpus; i++)
		wp_cpu_destroy(&s->cpu[i]);
	free(s);
out_errno:
	errno = -ret;
	return NULL;
}

static int stack_net_start(struct wp_stack *s)
{
	int ret;

	if (s->net_started)
		return 0;
	ret = wp_net_start(s->net);
	if (ret)
		return ret;
	s->net_started = true;
	return 0;
}

int wp_stack_link_sim(struct wp_stack *a, struct wp_stack *b, char *err,
		      size_t errlen)
{
	return wp__sim_link(&a->backend, &b->backend, err, errlen);
}

int wp_stack_start(struct wp_stack *s)
{
	uint32_t i;
	int ret;

	if (s->started || s->cfg.virtual_time)
		return -EINVAL;
	/* The protocol layer's hooks go in before the threads start. */
	ret = stack_net_start(s);
	if (ret)
		return ret;
	for (i = 0; i < s->ncpus; i++) {
		ret = wp_cpu_start(&s->cpu[i]);
		if (ret)
			goto out_stop_cpus;
	}
	/* Each queue's buffers are allocated by the core that polls it. */
	for (uint16_t q = 0; q < s->nic->nqueues; q++)
		wp_pool_set_owner_thread(s->nic->rxq[q].pool,
					 s->nic->rxq[q].napi.cpu->thread);
	ret = s->backend.ops->start ? s->backend.ops->start(&s->backend)
				    : -ENOTSUP;
	if (ret)
		goto out_stop_cpus;
	s->started = true;
	return 0;

out_stop_cpus:
	while (i-- > 0)
		wp_cpu_stop(&s->cpu[i]);
	return ret;
}

void wp_stack_stop(struct wp_stack *s)
{
	if (!s->started)
		return;
	if (s->backend.ops->stop)
		s->backend.ops->stop(&s->backend);
	for (uint32_t i = 0; i < s->ncpus; i++)
		wp_cpu_stop(&s->cpu[i]);
	/* Control thread owns the pools again for teardown. */
	for (uint16_t q = 0; q < s->nic->nqueues; q++)
		wp_pool_set_owner(s->nic->rxq[q].pool);
	s->started = false;
}

void wp_stack_destroy(struct wp_stack *s)
{
	if (!s)
		return;
	wp_stack_stop(s);
	/* What the protocol layer holds goes back to the NIC's pools
	 * before the NIC checks they are whole. */
	wp_net_destroy(s->net);
	if (s->backend_open)
		wp_backend_close(&s->backend);
	wp_nic_destroy(s->nic);
	/* Last: a sampled skb files its record here when it goes. */
	wp_trace_destroy(s->trace);
	for (uint32_t i = 0; i < s->ncpus; i++)
		wp_cpu_destroy(&s->cpu[i]);
	free(s);
}

/* Run every core until none has work left at this instant. */
static bool run_cores(struct wp_stack *s)
{
	bool any = false, work;

	do {
		work = false;
		for (uint32_t i = 0; i < s->ncpus; i++)
			work |= wp_cpu_run_once(&s->cpu[i]);
		any |= work;
	} while (work);
	return any;
}

/* TX tail registers, summed: they move when a core rings a doorbell. */
static uint64_t tx_tails(const struct wp_stack *s)
{
	uint64_t sum = 0;

	for (uint16_t q = 0; q < s->nic->cfg.nqueues; q++)
		sum += atomic_load_explicit(&s->nic->txq[q].tdt,
					    memory_order_acquire);
	return sum;
}

uint64_t wp__stack_step(struct wp_stack *s, uint64_t now, bool *worked)
{
	uint64_t next, tails;

	stack_net_start(s);
	next = s->backend.ops->step(&s->backend, now);
	tails = tx_tails(s);
	/* Work done in core hooks (timers, the submit queue) is not
	 * softirq work, but what it transmitted must leave at this
	 * instant too: a moved TX tail counts as work. */
	*worked = run_cores(s);
	*worked |= tx_tails(s) != tails;
	for (uint32_t i = 0; i < s->ncpus; i++)
		if (s->cpu[i].next_timer_ns < next)
			next = s->cpu[i].next_timer_ns;
	return next;
}

int wp_stack_run_until(struct wp_stack *s, uint64_t t_ns)
{
	/* A paired stack's clock is the pair's: wp_stack_pair_run_until. */
	if (!s->cfg.virtual_time || s->paired)
		return -EINVAL;
	for (;;) {
		uint64_t now = wp_clock_now(&s->clock);
		uint64_t next;
		bool worked;

		/*
		 * Firmware first (frames due by now, timers, TX), then the
		 * cores; cores may have transmitted, so the firmware runs
		 * again at the same instant until everything settles.
		 */
		do {
			next = wp__stack_step(s, now, &worked);
		} while (worked);
		if (now >= t_ns)
			return 0;
		if (next <= now)
			next = now + 1;
		wp_clock_set(&s->clock, next < t_ns ? next : t_ns);
	}
}

void wp_stack_get_link(const struct wp_stack *s, uint8_t mac[6], uint32_t *mtu)
{
	if (mac)
		memcpy(mac, s->cfg.mac, 6);
	if (mtu)
		*mtu = s->cfg.mtu;
}

uint64_t wp_stack_now(const struct wp_stack *s)
{
	return wp_clock_now(&s->clock);
}

bool wp_stack_done(const struct wp_stack *s)
{
	return s->backend.ops->done &&
	       s->backend.ops->done((struct wp_backend *)&s->backend);
}

void wp_stack_rx_totals(const struct wp_stack *s, struct wp_stack_rx *out)
{
	memset(out, 0, sizeof(*out));
	wp_hist_init(&out->latency);
	for (uint32_t i = 0; i < s->ncpus; i++) {
		out->packets += s->rx[i].packets;
		out->bytes += s->rx[i].bytes;
		wp_hist_merge(&out->latency, &s->rx[i].latency);
	}
}

void wp_stack_drops(const struct wp_stack *s, struct wp_drop_stats *out)
{
	wp_drop_stats_shared(out);
	for (uint32_t i = 0; i < s->ncpus; i++)
		for (int r = 0; r < WP_DROP__MAX; r++)
			out->count[r] += s->cpu[i].drops.count[r];
}

void wp_stack_softnet(const struct wp_stack *s, struct wp_softnet_stat *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < s->ncpus; i++) {
		const struct wp_softnet_stat *c = &s->cpu[i].softnet;

		out->processed += c->processed;
		out->dropped += c->dropped;
		out->time_squeeze += c->time_squeeze;
		out->received_rps += c->received_rps;
		out->flow_limit_count += c->flow_limit_count;
		out->softirq_runs += c->softirq_runs;
		out->napi_polls += c->napi_polls;
		out->budget_exhausted += c->budget_exhausted;
		out->napi_completes += c->napi_completes;
		out->ksoftirqd_wakeups += c->ksoftirqd_wakeups;
		out->busy_polls += c->busy_polls;
		out->irqs += c->irqs;
		out->gro_held += c->gro_held;
		out->gro_merged += c->gro_merged;
		out->gro_flush += c->gro_flush;
	}
}
