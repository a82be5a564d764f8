// SPDX-License-Identifier: MIT
/*
 * The protocol layer's lifetime, its per-core hook (timers, the submit
 * queue, the gratuitous ARP) and transmit batching.
 */
#include "net/net_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "irq/irq.h"

void wp_net_config_default(struct wp_net_config *cfg)
{
	static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->mac, mac, sizeof(mac));
	cfg->addr = wp_ipv4_addr(10, 0, 0, 2);
	cfg->prefix_len = 24;
	cfg->mtu = WP_MTU_DEFAULT;
	cfg->vlan_accept = true;
	cfg->neigh_max = 1024;
	cfg->neigh_queue = 101;
	cfg->neigh_queue_total = 256;
	cfg->ipfrag_high_thresh = 4 * 1024 * 1024;
	cfg->ipfrag_time_ns = 30 * WP_NSEC_PER_SEC;
	cfg->icmp_ratelimit_ms = 1000;
	cfg->icmp_msgs_per_sec = 1000;
	cfg->base_reachable_time_ns = 30 * WP_NSEC_PER_SEC;
	cfg->retrans_time_ns = WP_NSEC_PER_SEC;
	cfg->delay_first_probe_ns = 5 * WP_NSEC_PER_SEC;
	cfg->gc_stale_time_ns = 60 * WP_NSEC_PER_SEC;
	cfg->mcast_solicit = 3;
	cfg->ucast_solicit = 3;
	cfg->ipfrag_max_frags = 128;
	cfg->ipfrag_max_queues = 1024;
	cfg->ipfrag_big_bufs = 4;
	cfg->icmp_msgs_burst = 50;
	cfg->icmp_echo_ignore_broadcasts = true;
	cfg->port_lo = 32768;
	cfg->port_hi = 60999;
	cfg->submit_max = 1000;
	cfg->seed = 1;
}

static int config_check(const struct wp_net_config *cfg,
			const struct wp_nic *nic, uint32_t ncpus)
{
	struct wp_eth_addr mac;

	memcpy(mac.b, cfg->mac, 6);
	if (!wp_eth_addr_is_valid(&mac))
		return -EINVAL;
	if (cfg->prefix_len < 1 || cfg->prefix_len > 32)
		return -EINVAL;
	/* An address to answer to: not 0.0.0.0, a group or a broadcast.
	 * (0.0.0.0/8 and 127.0.0.0/8 are odd on a wire but Linux lets an
	 * interface have them; tests name stacks 0.0.0.1, 0.0.0.2.) */
	if (!cfg->addr || wp_ipv4_is_multicast(cfg->addr) ||
	    wp_ipv4_is_lbcast(cfg->addr) || wp_ipv4_is_class_e(cfg->addr))
		return -EINVAL;
	if (cfg->mtu < WP_MTU_MIN || cfg->mtu > nic->cfg.mtu)
		return -EINVAL;
	if (ncpus < 1 || ncpus > nic->cfg.nqueues || ncpus > WP_MAX_CPUS)
		return -EINVAL;
	if (!cfg->neigh_max || !cfg->neigh_queue || !cfg->neigh_queue_total ||
	    !cfg->ipfrag_max_frags ||
	    !cfg->ipfrag_max_queues || !cfg->submit_max)
		return -EINVAL;
	if (!cfg->mcast_solicit || !cfg->retrans_time_ns ||
	    !cfg->base_reachable_time_ns || !cfg->ipfrag_time_ns)
		return -EINVAL;
	if (!cfg->port_lo || cfg->port_lo > cfg->port_hi)
		return -EINVAL;
	if (cfg->nstatic_arp > WP_NET_STATIC_ARP_MAX)
		return -EINVAL;
	return 0;
}

static void pcpu_destroy(struct wp_net *net)
{
	for (uint32_t i = 0; i < net->ncpus; i++) {
		struct wp_net_cpu *pc = &net->pcpu[i];

		wp_skb_queue_purge(&pc->submit_q, WP_DROP_DEV_DOWN);
		pthread_mutex_destroy(&pc->submit_lock);
		wp__ipfrag_destroy(pc);
	}
	free(net->pcpu);
}

static int pcpu_init(struct wp_net *net)
{
	net->pcpu =
		aligned_alloc(WP_CACHELINE, sizeof(*net->pcpu) * net->ncpus);
	if (!net->pcpu)
		return -ENOMEM;
	memset(net->pcpu, 0, sizeof(*net->pcpu) * net->ncpus);
	for (uint32_t i = 0; i < net->ncpus; i++) {
		struct wp_net_cpu *pc = &net->pcpu[i];
		int ret;

		pc->net = net;
		pc->cpu = net->cpus[i];
		pc->id = (uint16_t)i;
		pc->routes.gen = UINT32_MAX; /* never a table's generation */
		pthread_mutex_init(&pc->submit_lock, NULL);
		wp_skb_queue_init(&pc->submit_q);
		atomic_init(&pc->submit_len, 0);
		ret = wp__ipfrag_init(net, pc);
		if (ret) {
			net->ncpus = i + 1;
			pcpu_destroy(net);
			net->pcpu = NULL;
			return ret;
		}
	}
	return 0;
}

struct wp_net *wp_net_create(const struct wp_net_config *cfg,
			     struct wp_clock *clock, struct wp_sysctl *sysctl,
			     struct wp_nic *nic, struct wp_cpu **cpus,
			     uint32_t ncpus)
{
	struct wp_net *net;
	int ret;

	if (!cfg || !clock || !nic || !cpus) {
		errno = EINVAL;
		return NULL;
	}
	ret = config_check(cfg, nic, ncpus);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	net = calloc(1, sizeof(*net));
	if (!net) {
		errno = ENOMEM;
		return NULL;
	}
	net->cfg = *cfg;
	net->clock = clock;
	net->sysctl = sysctl;
	net->nic = nic;
	net->cpus = cpus;
	net->ncpus = ncpus;
	memcpy(net->mac.b, cfg->mac, 6);
	net->addr = cfg->addr;
	net->mask = wp__prefix_mask(cfg->prefix_len);
	net->bcast = (cfg->addr & net->mask) | ~net->mask;
	net->mtu = cfg->mtu;
	net->ident_key = wp__net_hash32((uint32_t)cfg->seed ^ 0x9e3779b9u);
	atomic_init(&net->frag_mem, 0);
	atomic_init(&net->ident_seq, 0);
	atomic_init(&net->port_seq, wp__net_hash32((uint32_t)(cfg->seed >> 7)));
	for (int i = 0; i < WP_IP_IDENTS; i++)
		atomic_init(&net->ip_idents[i],
			    wp__net_hash32(net->ident_key + (uint32_t)i));

	ret = pcpu_init(net);
	if (ret)
		goto out_free;
	ret = wp__route_init(net);
	if (ret)
		goto out_pcpu;
	ret = wp__neigh_init(net);
	if (ret)
		goto out_route;
	ret = wp__nf_init(net);
	if (ret)
		goto out_neigh;
	ret = wp__icmp_init(net);
	if (ret)
		goto out_nf;
	ret = wp__udp_init(net);
	if (ret)
		goto out_icmp;
	ret = wp__tcp_init(net);
	if (ret)
		goto out_udp;
	for (uint32_t i = 0; i < cfg->nstatic_arp; i++) {
		ret = wp_neigh_add_static(net, cfg->static_arp[i].ip,
					  cfg->static_arp[i].mac);
		if (ret)
			goto out_tcp;
	}
	return net;

out_tcp:
	wp__tcp_destroy(net);
out_udp:
	wp__udp_destroy(net);
out_icmp:
	wp__icmp_destroy(net);
out_nf:
	wp__nf_destroy(net);
out_neigh:
	wp__neigh_destroy(net);
out_route:
	wp__route_destroy(net);
out_pcpu:
	pcpu_destroy(net);
out_free:
	free(net);
	errno = -ret;
	return NULL;
}

void wp_net_destroy(struct wp_net *net)
{
	if (!net)
		return;
	wp__tcp_destroy(net);
	wp__udp_destroy(net);
	wp__icmp_destroy(net);
	wp__nf_destroy(net);
	wp__neigh_destroy(net);
	wp__route_destroy(net);
	pcpu_destroy(net);
	free(net);
}

int wp_net_add_protocol(struct wp_net *net, uint8_t protocol, wp_l4_rcv_t rcv,
			wp_l4_err_t err, void *ctx)
{
	if (!rcv)
		return -EINVAL;
	if (protocol == WP_IPPROTO_ICMP || protocol == WP_IPPROTO_UDP ||
	    protocol == WP_IPPROTO_TCP || net->proto[protocol].rcv)
		return -EEXIST;
	net->proto[protocol].rcv = rcv;
	net->proto[protocol].err = err;
	net->proto[protocol].ctx = ctx;
	return 0;
}

uint32_t wp_net_addr(const struct wp_net *net)
{
	return net->addr;
}

uint32_t wp_net_mtu(const struct wp_net *net)
{
	return net->mtu;
}

uint32_t wp_net_ncpus(const struct wp_net *net)
{
	return net->ncpus;
}

/* --- batching and transmit -------------------------------------------- */

void wp__net_batch_begin(struct wp_net_cpu *pc)
{
	pc->in_batch = true;
	pc->now = wp_clock_now(pc->net->clock);
}

void wp__net_batch_end(struct wp_net_cpu *pc)
{
	wp__udp_rcv_flush(pc);
	pc->in_batch = false;
	if (pc->tx_dirty) {
		pc->tx_dirty = false;
		wp_nic_tx_doorbell(pc->net->nic, pc->id);
	}
}

int wp__net_xmit(struct wp_net_cpu *pc, struct wp_skb *skb)
{
	int ret = wp_nic_xmit(pc->net->nic, pc->id, skb, pc->in_batch);

	if (pc->in_batch)
		pc->tx_dirty = true;
	return ret;
}

/* --- the core hook ---------------------------------------------------------
 */

static uint64_t hook_deadline(const struct wp_net_cpu *pc)
{
	uint64_t t = pc->frags.lru_head ? pc->frags.lru_head->expires
					: WP_TIME_NEVER;
	uint64_t tcp = wp__tcp_next_timer(pc);

	if (tcp < t)
		t = tcp;

	if (pc->id == 0) {
		uint64_t n = atomic_load_explicit(&pc->net->neigh.next_timer,
						  memory_order_relaxed);

		if (n < t)
			t = n;
	}
	return t;
}

/*
 * Runs on every loop iteration of the core: a few loads when there is
 * nothing to do. The reassembly pool changes hands here so that the
 * thread that runs the core owns it, whichever thread that is (a core
 * thread, or the caller of wp_cpu_run_once on virtual time). The core
 * sleeps no later than the next timer (wp_cpu_arm_timer).
 */
static void net_cpu_hook(struct wp_cpu *cpu, void *arg)
{
	struct wp_net_cpu *pc = arg;
	struct wp_rx_queue *rxq = &pc->net->nic->rxq[pc->id];
	uint64_t deadline = hook_deadline(pc);
	bool submit;

	/* This core allocates from its queue's pool. A core thread that
	 * runs its hook before the queue's first poll claims the pool as
	 * that poll would (nic.c, pool ownership): nothing from it was
	 * handed up yet. */
	if (!pthread_equal(rxq->pool_owner, pthread_self())) {
		wp_pool_set_owner(rxq->pool);
		rxq->pool_owner = pthread_self();
	}
	if (!pc->big_owned || !pthread_equal(pc->big_owner, pthread_self())) {
		wp_pool_set_owner(pc->big_pool);
		pc->big_owner = pthread_self();
		pc->big_owned = true;
	}
	submit = atomic_load_explicit(&pc->submit_len, memory_order_relaxed) ||
		 wp__tcp_has_work(pc);
	if (!pc->garp_pending && !submit && deadline == WP_TIME_NEVER)
		return;
	if (pc->garp_pending || submit ||
	    deadline <= wp_clock_now(pc->net->clock)) {
		wp__net_batch_begin(pc);
		if (pc->garp_pending) {
			/* RFC 5227 3: announce the address we took: a
			 * request whose sender and target are both ours. */
			pc->garp_pending = false;
			wp__arp_send(pc, WP_ARPOP_REQUEST, pc->net->addr, NULL,
				     NULL);
		}
		wp__ip_submit_drain(pc);
		wp__tcp_cpu_run(pc);
		if (pc->id == 0)
			wp__neigh_timer(pc);
		wp__ipfrag_timer(pc);
		wp__net_batch_end(pc);
		deadline = hook_deadline(pc);
	}
	wp_cpu_arm_timer(cpu, deadline);
}

int wp_net_start(struct wp_net *net)
{
	if (net->started)
		return -EALREADY;
	for (uint32_t i = 0; i < net->ncpus; i++) {
		if (net->cpus[i]->nhooks == WP_CPU_MAX_HOOKS)
			return -ENOSPC;
	}
	for (uint32_t i = 0; i < net->ncpus; i++)
		wp_cpu_add_hook(net->cpus[i], net_cpu_hook, &net->pcpu[i]);
	net->pcpu[0].garp_pending = true;
	net->started = true;
	wp_cpu_kick(net->cpus[0]);
	return 0;
}

/* --- submit queue -----------------------------------------------------------
 */

int wp_net_submit(struct wp_net *net, uint32_t cpu, struct wp_skb *skb)
{
	struct wp_net_cpu *pc;
	bool full;

	if (!skb)
		return -EINVAL;
	pc = &net->pcpu[cpu % net->ncpus];
	pthread_mutex_lock(&pc->submit_lock);
	full = pc->submit_q.qlen >= net->cfg.submit_max;
	if (!full) {
		wp_skb_queue_tail(&pc->submit_q, skb);
		atomic_store_explicit(&pc->submit_len, pc->submit_q.qlen,
				      memory_order_relaxed);
	}
	pthread_mutex_unlock(&pc->submit_lock);
	if (full) {
		WP_MIB_SHARED_INC(net, SubmitDrops);
		WP_MIB_SHARED_INC(net, OutDiscards);
		wp_kfree_skb_reason(skb, WP_DROP_SUBMIT_QUEUE_FULL);
		return -ENOBUFS;
	}
	/* The kick orders the queued skb before the core's next look at
	 * submit_len (wp_cpu_kick's seq_cst bump, then the core's read of
	 * wake_seq before it looks for work). */
	wp_cpu_kick(pc->cpu);
	return 0;
}

/* --- counters --------------------------------------------------------------
 */

void wp_net_mib_sum(const struct wp_net *net, struct wp_net_mib *out)
{
	const size_t n = sizeof(*out) / sizeof(uint64_t);
	uint64_t *o = (uint64_t *)(void *)out;

	_Static_assert(sizeof(struct wp_net_mib) % sizeof(uint64_t) == 0,
		       "the MIB is an array of counters");
	for (size_t k = 0; k < n; k++)
		o[k] = __atomic_load_n(
			(const uint64_t *)(const void *)&net->shared_mib + k,
			__ATOMIC_RELAXED);
	for (uint32_t i = 0; i < net->ncpus; i++) {
		const uint64_t *c =
			(const uint64_t *)(const void *)&net->pcpu[i].mib;

		for (size_t k = 0; k < n; k++)
			o[k] += __atomic_load_n(c + k, __ATOMIC_RELAXED);
	}
}
