// SPDX-License-Identifier: MIT
/*
 * ethtool ops on a running NIC: -G (rings), -C/-c (moderation),
 * -L (channels), -X (indirection table), -S (statistics).
 * Control path: one control thread at a time.
 */
#include "nic/nic_priv.h"

#include <errno.h>
#include <inttypes.h>

static bool ring_size_ok(uint32_t n)
{
	return n >= WP_RING_MIN && n <= WP_RING_MAX && wp_is_power_of_2(n);
}

int wp_nic_set_ringparam(struct wp_nic *nic, uint32_t rx, uint32_t tx)
{
	if (!nic || !ring_size_ok(rx) || !ring_size_ok(tx))
		return -EINVAL;
	if (rx == nic->cfg.rx_ring_size && tx == nic->cfg.tx_ring_size)
		return 0;
	return wp__nic_resize(nic, rx, tx);
}

/*
 * Like a write to the ITR registers: no queue stops. Each queue's
 * firmware picks the new values up at its next DMA or timer tick; frames
 * already pending are judged by them from then on.
 */
int wp_nic_set_coalesce(struct wp_nic *nic, const struct wp_coalesce_params *p)
{
	uint64_t req;

	if (!nic || wp_coalesce_validate(p))
		return -EINVAL;
	nic->cfg.coalesce = *p;
	req = wp__coal_pack(p);
	for (uint16_t q = 0; q < nic->cfg.nqueues; q++)
		atomic_store_explicit(&nic->rxq[q].coal_req, req,
				      memory_order_release);
	return 0;
}

void wp_nic_get_coalesce(const struct wp_nic *nic, struct wp_coalesce_params *p)
{
	*p = nic->cfg.coalesce;
}

/*
 * Growing: start the queues first, then steer to them. Shrinking: stop
 * steering first, then stop the queues; a frame that read the old table
 * just before the change finds its queue down and is counted missed.
 */
int wp_nic_set_channels(struct wp_nic *nic, uint16_t n)
{
	uint16_t old;
	uint64_t now;

	if (!nic || n == 0 || n > nic->cfg.nqueues)
		return -EINVAL;
	old = wp__nic_active(nic);
	if (n > old) {
		for (uint16_t q = old; q < n && !nic->down; q++)
			wp__nic_queue_start(nic, q);
		__atomic_store_n(&nic->nqueues, n, __ATOMIC_RELEASE);
		return wp_rss_set_equal(&nic->rss, n);
	}
	wp_rss_set_equal(&nic->rss, n);
	__atomic_store_n(&nic->nqueues, n, __ATOMIC_RELEASE);
	now = wp_clock_now(nic->clock);
	for (uint16_t q = n; q < old && !nic->down; q++) {
		wp__nic_queue_stop(nic, q);
		/* Parked with its buffers: a later -L restarts it as is. */
		wp__nic_rx_reset(&nic->rxq[q], true, now);
		wp__nic_tx_reset(&nic->txq[q]);
	}
	return 0;
}

int wp_nic_set_rxfh_equal(struct wp_nic *nic, uint16_t n)
{
	if (!nic || n == 0 || n > wp__nic_active(nic))
		return -EINVAL;
	return wp_rss_set_equal(&nic->rss, n);
}

void wp_nic_set_gro(struct wp_nic *nic, bool on)
{
	__atomic_store_n(&nic->gro, on, __ATOMIC_RELAXED);
	for (uint16_t q = 0; q < nic->cfg.nqueues; q++)
		wp_napi_set_gro(&nic->rxq[q].napi, on);
}

bool wp_nic_get_gro(const struct wp_nic *nic)
{
	return __atomic_load_n(&nic->gro, __ATOMIC_RELAXED);
}

void wp_nic_get_stats(const struct wp_nic *nic, struct wp_nic_stats *st)
{
	*st = (struct wp_nic_stats){ 0 };
	for (uint16_t q = 0; q < nic->cfg.nqueues; q++) {
		const struct wp_rxq_stats *r = &nic->rxq[q].stats;
		const struct wp_txq_stats *t = &nic->txq[q].stats;
		uint64_t len_err = wp__stat_read(&r->length_errors);
		struct wp_gro_stats g;

		wp_napi_gro_stats(&nic->rxq[q].napi, &g);
		st->rx_gro_skbs += g.skbs;
		st->rx_gro_packets += g.packets;
		st->rx_gro_bytes += g.bytes;

		st->rx_packets += wp__stat_read(&r->packets);
		st->rx_bytes += wp__stat_read(&r->bytes);
		st->rx_missed_errors += wp__stat_read(&r->missed);
		st->rx_length_errors += len_err;
		st->rx_errors += len_err + wp__stat_read(&r->desc_errors);
		st->rx_alloc_failed += wp__stat_read(&r->alloc_failed);
		st->tx_packets += wp__stat_read(&t->packets);
		st->tx_bytes += wp__stat_read(&t->bytes);
		st->tx_busy += wp__stat_read(&t->busy);
		st->tx_dropped += wp__stat_read(&t->dropped);
	}
}

static void stat_line(FILE *out, const char *name, uint64_t v)
{
	fprintf(out, "     %s: %" PRIu64 "\n", name, v);
}

static void queue_line(FILE *out, const char *dir, uint16_t q, const char *name,
		       const uint64_t *v)
{
	fprintf(out, "     %s_queue_%u_%s: %" PRIu64 "\n", dir, q, name,
		wp__stat_read(v));
}

/* mlx5's per-ring GRO counters, in igb's per-queue naming. */
static void gro_lines(FILE *out, uint16_t q, const struct wp_napi *napi)
{
	struct wp_gro_stats g;

	wp_napi_gro_stats(napi, &g);
	fprintf(out, "     rx_queue_%u_gro_packets: %" PRIu64 "\n", q,
		g.packets);
	fprintf(out, "     rx_queue_%u_gro_bytes: %" PRIu64 "\n", q, g.bytes);
	fprintf(out, "     rx_queue_%u_gro_skbs: %" PRIu64 "\n", q, g.skbs);
}

/*
 * `ethtool -S` as igb prints it: device counters, then tx_queue_N_* and
 * rx_queue_N_* for the active queues. Names igb lacks come from ixgbe
 * (tx_busy, alloc_rx_buff_failed) or are wirepath's own (irqs, polls,
 * doorbells), appended after igb's per-queue ones.
 */
void wp_nic_print_stats(const struct wp_nic *nic, FILE *out)
{
	uint16_t active = wp__nic_active(nic);
	struct wp_nic_stats st;

	wp_nic_get_stats(nic, &st);
	fprintf(out, "NIC statistics:\n");
	stat_line(out, "rx_packets", st.rx_packets);
	stat_line(out, "tx_packets", st.tx_packets);
	stat_line(out, "rx_bytes", st.rx_bytes);
	stat_line(out, "tx_bytes", st.tx_bytes);
	stat_line(out, "rx_errors", st.rx_errors);
	stat_line(out, "tx_dropped", st.tx_dropped);
	stat_line(out, "rx_length_errors", st.rx_length_errors);
	stat_line(out, "rx_missed_errors", st.rx_missed_errors);
	stat_line(out, "tx_busy", st.tx_busy);
	stat_line(out, "alloc_rx_buff_failed", st.rx_alloc_failed);
	stat_line(out, "rx_gro_packets", st.rx_gro_packets);
	stat_line(out, "rx_gro_bytes", st.rx_gro_bytes);
	stat_line(out, "rx_gro_skbs", st.rx_gro_skbs);
	for (uint16_t q = 0; q < active; q++) {
		const struct wp_txq_stats *t = &nic->txq[q].stats;

		queue_line(out, "tx", q, "packets", &t->packets);
		queue_line(out, "tx", q, "bytes", &t->bytes);
		queue_line(out, "tx", q, "busy", &t->busy);
		queue_line(out, "tx", q, "dropped", &t->dropped);
		queue_line(out, "tx", q, "doorbells", &t->doorbells);
	}
	for (uint16_t q = 0; q < active; q++) {
		const struct wp_rxq_stats *r = &nic->rxq[q].stats;

		queue_line(out, "rx", q, "packets", &r->packets);
		queue_line(out, "rx", q, "bytes", &r->bytes);
		queue_line(out, "rx", q, "drops", &r->missed);
		queue_line(out, "rx", q, "alloc_failed", &r->alloc_failed);
		queue_line(out, "rx", q, "length_errors", &r->length_errors);
		queue_line(out, "rx", q, "desc_errors", &r->desc_errors);
		queue_line(out, "rx", q, "irqs", &r->irqs);
		queue_line(out, "rx", q, "polls", &r->polls);
		gro_lines(out, q, &nic->rxq[q].napi);
	}
}
