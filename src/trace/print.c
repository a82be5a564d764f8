// SPDX-License-Identifier: MIT
/*
 * A record as people read it: the seeds' "Full Packet Stack Trace", one
 * line per stage with the function that runs there.
 */
#include "trace/trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sock/wait.h"

static const char *const stage_names[WP_STAMP__MAX] = {
	[WP_STAMP_DMA] = "DMA",
	[WP_STAMP_IRQ] = "IRQ",
	[WP_STAMP_NAPI_POLL] = "NAPI_POLL",
	[WP_STAMP_SKB_BUILT] = "SKB_BUILT",
	[WP_STAMP_GRO] = "GRO",
	[WP_STAMP_NETIF_RX] = "NETIF_RX",
	[WP_STAMP_IP_RCV] = "IP_RCV",
	[WP_STAMP_L4_RCV] = "L4_RCV",
	[WP_STAMP_SOCK_LOOKUP] = "SOCK_LOOKUP",
	[WP_STAMP_QUEUED] = "QUEUED",
	[WP_STAMP_DATA_READY] = "DATA_READY",
	[WP_STAMP_READ] = "READ",
};

/* The wake functions by enum wp_wake_kind, as Linux names them (the
 * sock layer's own table is not linked into this library). */
static const char *const wake_names[] = {
	[WP_WAKE_DEFAULT] = "default_wake_function",
	[WP_WAKE_POLLWAKE] = "pollwake",
	[WP_WAKE_EP_POLL_CALLBACK] = "ep_poll_callback",
	[WP_WAKE_EP_AUTOREMOVE] = "ep_autoremove_wake_function",
	[WP_WAKE_OTHER] = "other",
};

_Static_assert(WP_ARRAY_SIZE(wake_names) == WP_WAKE__MAX, "wake kinds");

static const char *const tap_names[WP_TAP__MAX] = {
	[WP_TAP_WIRE] = "wire",
	[WP_TAP_GRO] = "gro",
	[WP_TAP_SOCKET] = "socket",
};

const char *wp_trace_stage_name(enum wp_stamp s)
{
	return (unsigned)s < WP_STAMP__MAX ? stage_names[s] : "?";
}

const char *wp_tap_point_name(enum wp_tap_point at)
{
	return (unsigned)at < WP_TAP__MAX ? tap_names[at] : "?";
}

static const char *l4_func(const struct wp_trace_desc *d)
{
	switch (d->proto) {
	case WP_TRACE_PROTO_UDP:
		return "wp_udp_rcv";
	case WP_TRACE_PROTO_TCP:
		return "wp_tcp_v4_rcv";
	case WP_TRACE_PROTO_ICMP:
		return "wp_icmp_rcv";
	default:
		return "L4 handler";
	}
}

static const char *lookup_func(const struct wp_trace_desc *d)
{
	switch (d->proto) {
	case WP_TRACE_PROTO_UDP:
		return "socket lookup (__udp4_lib_lookup)";
	case WP_TRACE_PROTO_TCP:
		return "socket lookup (__inet_lookup_skb)";
	default:
		return "socket lookup";
	}
}

const char *wp_trace_stage_func(const struct wp_trace_record *r,
				enum wp_stamp s, char *buf, size_t len)
{
	size_t n;

	switch (s) {
	case WP_STAMP_DMA:
		snprintf(buf, len, "wp_nic rx DMA (DD set)");
		break;
	case WP_STAMP_IRQ:
		snprintf(buf, len, "IRQ top half (wp0-TxRx-%u)", r->d.queue);
		break;
	case WP_STAMP_NAPI_POLL:
		snprintf(buf, len, "wp_nic_napi_poll");
		break;
	case WP_STAMP_SKB_BUILT:
		snprintf(buf, len, "wp_build_skb");
		break;
	case WP_STAMP_GRO:
		snprintf(buf, len, "GRO (wp_napi_gro_receive)");
		break;
	case WP_STAMP_NETIF_RX:
		snprintf(buf, len, "wp_netif_receive_skb");
		break;
	case WP_STAMP_IP_RCV:
		snprintf(buf, len, "wp_ip_rcv");
		break;
	case WP_STAMP_L4_RCV:
		snprintf(buf, len, "%s", l4_func(&r->d));
		break;
	case WP_STAMP_SOCK_LOOKUP:
		snprintf(buf, len, "%s", lookup_func(&r->d));
		break;
	case WP_STAMP_QUEUED:
		snprintf(buf, len, "sk_receive_queue (skb_queue_tail)");
		break;
	case WP_STAMP_DATA_READY:
		n = (size_t)snprintf(buf, len, "sk_data_ready ->");
		if (!r->wake_kind && n < len) {
			snprintf(buf + n, len - n, " no waiter");
			break;
		}
		for (int k = 0; k < WP_WAKE__MAX && n < len; k++)
			if (r->wake_kind & (1u << k))
				n += (size_t)snprintf(buf + n, len - n, " %s",
						      wake_names[k]);
		break;
	case WP_STAMP_READ:
		snprintf(buf, len, "recv() copy");
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
	return buf;
}

static void ip_str(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff);
}

const char *wp_trace_flow_str(const struct wp_trace_desc *d, char *buf,
			      size_t len)
{
	char s[16], dst[16];

	if (!(d->flags & WP_TRACE_F_IPV4)) {
		snprintf(buf, len, "ethertype 0x%04x", d->ethertype);
		return buf;
	}
	ip_str(d->saddr, s, sizeof(s));
	ip_str(d->daddr, dst, sizeof(dst));
	switch (d->proto) {
	case WP_TRACE_PROTO_UDP:
	case WP_TRACE_PROTO_TCP:
		if (d->flags & WP_TRACE_F_PORTS) {
			snprintf(buf, len, "%s %s:%u -> %s:%u",
				 d->proto == WP_TRACE_PROTO_UDP ? "udp" : "tcp",
				 s, d->sport, dst, d->dport);
			return buf;
		}
		break;
	case WP_TRACE_PROTO_ICMP:
		if (d->flags & WP_TRACE_F_ICMP) {
			snprintf(buf, len, "icmp %s -> %s type %u code %u", s,
				 dst, d->icmp_type, d->icmp_code);
			return buf;
		}
		break;
	default:
		break;
	}
	snprintf(buf, len, "ip proto %u %s -> %s%s", d->proto, s, dst,
		 d->flags & WP_TRACE_F_FRAG ? " (fragment)" : "");
	return buf;
}

static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

void wp_trace_record_print(const struct wp_trace_record *r, FILE *out)
{
	char flow[96], fn[96];
	uint64_t first = 0, prev = 0;

	fprintf(out, "packet #%" PRIu64 ": %s, %u bytes, queue %u, cpu %u\n",
		r->d.id, wp_trace_flow_str(&r->d, flow, sizeof(flow)), r->d.len,
		r->d.queue, r->d.cpu);
	fprintf(out, "  %-11s %18s %11s %11s  %s\n", "stage", "time (s)",
		"+DMA (us)", "delta (us)", "function");
	for (int s = 0; s < WP_STAMP__MAX; s++) {
		uint64_t t = r->ns[s];

		wp_trace_stage_func(r, (enum wp_stamp)s, fn, sizeof(fn));
		if (!t) {
			fprintf(out, "  %-11s %18s %11s %11s  %s\n",
				stage_names[s], "not reached", "", "", fn);
			continue;
		}
		if (!first)
			first = prev = t;
		fprintf(out,
			"  %-11s %8" PRIu64 ".%09" PRIu64
			" %11.3f %11.3f  %s\n",
			stage_names[s], t / (uint64_t)WP_NSEC_PER_SEC,
			t % (uint64_t)WP_NSEC_PER_SEC, us(t - first),
			us(t >= prev ? t - prev : 0), fn);
		if (t > prev)
			prev = t;
	}
	if (r->d.flags & WP_TRACE_F_DROPPED)
		fprintf(out, "  end: dropped (%s), %.3f us after DMA\n",
			wp_drop_reason_name(
				(enum wp_drop_reason)r->drop_reason),
			us(r->end_ns > first ? r->end_ns - first : 0));
	else if (r->ns[WP_STAMP_READ])
		fprintf(out,
			"  end: read by the application, released %.3f us "
			"after DMA\n",
			us(r->end_ns > first ? r->end_ns - first : 0));
	else
		fprintf(out, "  end: consumed, %.3f us after DMA\n",
			us(r->end_ns > first ? r->end_ns - first : 0));
}

static const char *end_name(const struct wp_trace_record *r)
{
	if (r->d.flags & WP_TRACE_F_DROPPED)
		return "dropped";
	return r->ns[WP_STAMP_READ] ? "read" : "consumed";
}

void wp_trace_record_json(const struct wp_trace_record *r, FILE *out)
{
	char flow[96], fn[96], s[16], d[16];
	uint64_t first = 0, prev = 0;
	bool comma = false;

	ip_str(r->d.saddr, s, sizeof(s));
	ip_str(r->d.daddr, d, sizeof(d));
	/* Every string below is ours and plain ASCII: nothing to escape. */
	fprintf(out,
		"{\"id\":%" PRIu64 ",\"flow\":\"%s\",\"len\":%u,"
		"\"queue\":%u,\"cpu\":%u,\"ethertype\":%u",
		r->d.id, wp_trace_flow_str(&r->d, flow, sizeof(flow)), r->d.len,
		r->d.queue, r->d.cpu, r->d.ethertype);
	if (r->d.flags & WP_TRACE_F_IPV4)
		fprintf(out, ",\"proto\":%u,\"saddr\":\"%s\",\"daddr\":\"%s\"",
			r->d.proto, s, d);
	if (r->d.flags & WP_TRACE_F_PORTS)
		fprintf(out, ",\"sport\":%u,\"dport\":%u", r->d.sport,
			r->d.dport);
	fputs(",\"stages\":[", out);
	for (int i = 0; i < WP_STAMP__MAX; i++) {
		uint64_t t = r->ns[i];

		wp_trace_stage_func(r, (enum wp_stamp)i, fn, sizeof(fn));
		fprintf(out, "%s{\"stage\":\"%s\",\"function\":\"%s\"",
			i ? "," : "", stage_names[i], fn);
		if (!t) {
			fputs(",\"reached\":false}", out);
			continue;
		}
		if (!first)
			first = prev = t;
		fprintf(out,
			",\"reached\":true,\"ns\":%" PRIu64
			",\"since_dma_ns\":%" PRIu64 ",\"delta_ns\":%" PRIu64
			"}",
			t, t - first, t >= prev ? t - prev : 0);
		if (t > prev)
			prev = t;
	}
	fputs("],\"wake\":[", out);
	for (int k = 0; k < WP_WAKE__MAX; k++)
		if (r->wake_kind & (1u << k)) {
			fprintf(out, "%s\"%s\"", comma ? "," : "",
				wake_names[k]);
			comma = true;
		}
	fprintf(out, "],\"end\":\"%s\"", end_name(r));
	if (r->d.flags & WP_TRACE_F_DROPPED)
		fprintf(out, ",\"drop_reason\":\"%s\"",
			wp_drop_reason_name(
				(enum wp_drop_reason)r->drop_reason));
	else
		fputs(",\"drop_reason\":null", out);
	fprintf(out, ",\"end_ns\":%" PRIu64 "}\n", r->end_ns);
}

/* The functions of each stage for every protocol at once (a table row
 * covers many packets). */
static const char *table_func(enum wp_stamp s, char *buf, size_t len)
{
	struct wp_trace_record r = { 0 };

	switch (s) {
	case WP_STAMP_IRQ:
		return "IRQ top half";
	case WP_STAMP_L4_RCV:
		return "wp_udp_rcv | wp_tcp_v4_rcv | wp_icmp_rcv";
	case WP_STAMP_DATA_READY:
		return "sk_data_ready -> pollwake | ep_poll_callback";
	default:
		r.d.proto = WP_TRACE_PROTO_UDP;
		return wp_trace_stage_func(&r, s, buf, len);
	}
}

static void latency_row(const char *name, const char *fn,
			const struct wp_hist *h, bool json, FILE *out)
{
	if (json) {
		fprintf(out,
			"{\"stage\":\"%s\",\"function\":\"%s\","
			"\"samples\":%" PRIu64 ",\"p50_ns\":%" PRIu64
			",\"p99_ns\":%" PRIu64 ",\"p999_ns\":%" PRIu64
			",\"max_ns\":%" PRIu64 ",\"mean_ns\":%.1f}\n",
			name, fn, h->count, wp_hist_quantile(h, 0.5),
			wp_hist_quantile(h, 0.99), wp_hist_quantile(h, 0.999),
			h->count ? h->max : 0, wp_hist_mean(h));
		return;
	}
	if (!h->count) {
		fprintf(out, "  %-11s %9s %10s %10s %10s %10s  %s\n", name, "0",
			"-", "-", "-", "-", fn);
		return;
	}
	fprintf(out, "  %-11s %9" PRIu64 " %10.3f %10.3f %10.3f %10.3f  %s\n",
		name, h->count, us(wp_hist_quantile(h, 0.5)),
		us(wp_hist_quantile(h, 0.99)), us(wp_hist_quantile(h, 0.999)),
		us(h->max), fn);
}

void wp_trace_latency_print(const struct wp_trace_latency *l,
			    const struct wp_trace_stats *st,
			    const struct wp_trace_filter *f, bool json,
			    FILE *out)
{
	char fn[96];

	if (!json) {
		if (f->every)
			fprintf(out,
				"Per-stage latency of sampled packets (1 in "
				"%u received per core): %" PRIu64
				" records, %" PRIu64 " lost to full rings\n",
				f->every, st->records, st->records_dropped);
		else
			fprintf(out,
				"Per-stage latency of sampled packets "
				"(sampling is off): %" PRIu64 " records\n",
				st->records);
		fprintf(out,
			"Sampler: %" PRIu64 " frames seen, %" PRIu64
			" filtered out, %" PRIu64 " sampled, %" PRIu64
			" over a limit.\n",
			st->seen, st->filtered, st->sampled, st->limited);
		fprintf(out,
			"Each stage: time since the previous stage the packet "
			"reached, in us.\n");
		fprintf(out, "  %-11s %9s %10s %10s %10s %10s  %s\n", "stage",
			"samples", "p50", "p99", "p99.9", "max", "function");
	}
	for (int s = WP_STAMP_IRQ; s < WP_STAMP__MAX; s++)
		latency_row(stage_names[s],
			    table_func((enum wp_stamp)s, fn, sizeof(fn)),
			    &l->stage[s], json, out);
	latency_row("TOTAL", "first stage to last", &l->total, json, out);
}
