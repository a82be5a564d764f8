// SPDX-License-Identifier: MIT
/*
 * wirepath demo: the main job. A stack on the simulated NIC (no
 * privileges): two queues, two core threads, several UDP flows arriving
 * in microbursts. Every second it prints what each stage did, read from
 * the stages' own counters; between phases it turns the knobs the seeds
 * talk about, live, as ethtool and sysctl would:
 *
 *   1. defaults: rx-usecs 50 (the 50 us tax), ring 512, NAPI weight 64
 *   2. ethtool -C rx-usecs 0 rx-frames 1: an interrupt per frame
 *   3. ethtool -G rx 64: a small ring meets the bursts -> rx_missed_errors
 *   4. sysctl netdev_budget 16 (below the weight of 64): each softirq run
 *      stops with work left -> time_squeeze, as /proc/net/softnet_stat shows
 *
 * It ends with a summary.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ctl/ctl.h"
#include "demo_host.h"
#include "stack/stack.h"

static const char usage[] =
	"usage: wirepath demo [--seconds N] [--rate PPS] [--ctl PATH] "
	"[--json]\n"
	"\n"
	"Run a stack on the simulated NIC (no privileges, no setup) and show\n"
	"the path live: interrupts per vector, NAPI polls and budget use, "
	"ring\n"
	"occupancy, drops by reason, softnet counters, the latency from\n"
	"descriptor write to NAPI hand-off; and above the device, a second\n"
	"host (wp1) on a crossover cable whose applications talk to wp0's\n"
	"(tcp-echo, http, udp-echo; the generated UDP flows go to udp-sink):\n"
	"flow rates, socket queues and TCP windows, wake-ups by kind. Knobs\n"
	"change between four phases (coalescing, per-frame interrupts, a "
	"small\n"
	"ring, a squeezed NAPI budget). Ends by itself after N seconds\n"
	"(default 8) with a summary and one traced UDP and one TCP packet.\n"
	"While it runs, wirepath stat, ethtool, sysctl and trace reach it\n"
	"through its control socket.\n"
	"\n"
	"  --seconds N   total run time, 4..3600 (default 8)\n"
	"  --rate PPS    frames per second during bursts (default 400k)\n"
	"  --ctl PATH    the control socket (default: wp0.ctl in "
	"/run/wirepath\n"
	"                for root, else $XDG_RUNTIME_DIR/wirepath or\n"
	"                /tmp/wirepath-UID)\n"
	"  --json        one JSON object per line per interval\n";

static int demo_main(int argc, char **argv);

WP_CMD_REGISTER(wp_cmd_demo, "demo",
		"the main job: the path live on the simulated NIC", usage,
		demo_main)

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct snap {
	struct demo_host_snap host;
	uint64_t irq[WP_NIC_MAX_QUEUES];
	struct wp_softnet_stat sn;
	struct wp_nic_stats nic;
	struct wp_drop_stats drops;
	struct wp_hist lat;
	uint64_t rx_packets;
	uint64_t frames_in;
};

static struct demo_host *host;

static void take(struct wp_stack *s, struct snap *sn)
{
	struct wp_stack_rx rx;

	demo_host_snap(host, &sn->host);
	for (uint16_t q = 0; q < s->nic->nqueues; q++) {
		const struct wp_irq_vector *v = s->nic->rxq[q].irq;

		sn->irq[q] = 0;
		for (uint32_t c = 0; c < s->ncpus; c++)
			sn->irq[q] += atomic_load_explicit(
				&v->count[c], memory_order_relaxed);
	}
	wp_stack_softnet(s, &sn->sn);
	wp_nic_get_stats(s->nic, &sn->nic);
	wp_stack_drops(s, &sn->drops);
	wp_stack_rx_totals(s, &rx);
	sn->lat = rx.latency;
	sn->rx_packets = rx.packets;
	sn->frames_in = s->backend.frames_in;
}

static const char *const phase_names[] = {
	"defaults: rx-usecs 50, ring 512, weight 64",
	"ethtool -C rx-usecs 0 rx-frames 1: interrupt per frame",
	"ethtool -G rx 64: small ring under bursts",
	"sysctl net.core.netdev_budget=16: budget below the weight, "
	"time_squeeze",
};

static void enter_phase(struct wp_stack *s, int phase)
{
	struct wp_coalesce_params cp = { .rx_usecs = 0, .rx_frames = 1 };

	/* The control thread may be turning the same knobs. */
	wp_ctl_lock(s);
	switch (phase) {
	case 1:
		wp_nic_set_coalesce(s->nic, &cp);
		break;
	case 2:
		wp_nic_set_ringparam(s->nic, 64, s->nic->txq[0].size);
		break;
	case 3:
		wp_nic_set_ringparam(s->nic, 512, s->nic->txq[0].size);
		cp.rx_usecs = 50;
		cp.rx_frames = 0;
		wp_nic_set_coalesce(s->nic, &cp);
		wp_sysctl_set(&s->sysctl, "net.core.netdev_budget", "16");
		break;
	}
	wp_ctl_unlock(s);
}

static void print_interval(struct wp_stack *s, const struct snap *a,
			   const struct snap *b, double dt, int phase,
			   bool json, unsigned second)
{
	struct wp_hist lat;
	uint64_t polls = b->sn.napi_polls - a->sn.napi_polls;
	uint64_t proc = b->sn.processed - a->sn.processed;
	double per_poll = polls ? (double)proc / (double)polls : 0;

	wp_hist_diff(&lat, &b->lat, &a->lat);
	if (json) {
		struct wp_json j;

		wp_json_begin(&j, stdout);
		wp_json_u64(&j, "second", second);
		wp_json_u64(&j, "phase", (uint64_t)phase + 1);
		wp_json_double(&j, "arrived_pps",
			       (double)(b->frames_in - a->frames_in) / dt);
		wp_json_double(&j, "delivered_pps",
			       (double)(b->rx_packets - a->rx_packets) / dt);
		wp_json_array_begin(&j, "irqs_per_sec");
		for (uint16_t q = 0; q < s->nic->nqueues; q++)
			wp_json_double(&j, NULL,
				       (double)(b->irq[q] - a->irq[q]) / dt);
		wp_json_array_end(&j);
		wp_json_double(&j, "napi_polls_per_sec", (double)polls / dt);
		wp_json_double(&j, "packets_per_poll", per_poll);
		wp_json_u64(&j, "budget_exhausted",
			    b->sn.budget_exhausted - a->sn.budget_exhausted);
		wp_json_u64(&j, "time_squeeze",
			    b->sn.time_squeeze - a->sn.time_squeeze);
		wp_json_u64(&j, "rx_missed_errors",
			    b->nic.rx_missed_errors - a->nic.rx_missed_errors);
		wp_json_double(&j, "latency_p50_us",
			       (double)wp_hist_quantile(&lat, 0.5) / 1e3);
		wp_json_double(&j, "latency_p99_us",
			       (double)wp_hist_quantile(&lat, 0.99) / 1e3);
		wp_json_double(&j, "tcp_echo_bytes_per_sec",
			       (double)(b->host.tcp_bytes - a->host.tcp_bytes) /
				       dt);
		wp_json_double(&j, "http_requests_per_sec",
			       (double)(b->host.http_reqs - a->host.http_reqs) /
				       dt);
		wp_json_double(&j, "udp_echo_per_sec",
			       (double)(b->host.udp_rtts - a->host.udp_rtts) /
				       dt);
		wp_json_u64(&j, "udp_sink_dropped",
			    b->host.sink_drops - a->host.sink_drops);
		wp_json_end(&j);
		return;
	}
	printf("[%2us] wire %7.0f pps -> up %7.0f pps | irq/s", second,
	       (double)(b->frames_in - a->frames_in) / dt,
	       (double)(b->rx_packets - a->rx_packets) / dt);
	for (uint16_t q = 0; q < s->nic->nqueues; q++)
		printf(" q%u %6.0f", q, (double)(b->irq[q] - a->irq[q]) / dt);
	printf(" | NAPI %6.0f polls/s %4.1f pkt/poll, %" PRIu64
	       " at full weight, time_squeeze +%" PRIu64 "\n",
	       (double)polls / dt, per_poll,
	       b->sn.budget_exhausted - a->sn.budget_exhausted,
	       b->sn.time_squeeze - a->sn.time_squeeze);
	printf("      ring");
	for (uint16_t q = 0; q < s->nic->nqueues; q++)
		printf(" q%u %u/%u", q, wp_nic_rx_pending(s->nic, q),
		       s->nic->rxq[q].size);
	printf(" | rx_missed_errors +%" PRIu64
	       " | DMA->NAPI latency p50 %.1f us p99 %.1f us\n",
	       b->nic.rx_missed_errors - a->nic.rx_missed_errors,
	       (double)wp_hist_quantile(&lat, 0.5) / 1e3,
	       (double)wp_hist_quantile(&lat, 0.99) / 1e3);
	demo_host_print_interval(host, &a->host, &b->host, dt, stdout);
	(void)phase;
}

static void print_summary(struct wp_stack *s, const struct snap *z,
			  const struct snap *e, double secs)
{
	printf("\nSummary after %.1f s\n", secs);
	printf("  frames offered by the wire:   %" PRIu64 "\n",
	       e->frames_in - z->frames_in);
	printf("  delivered up the stack:       %" PRIu64 "\n",
	       e->rx_packets - z->rx_packets);
	printf("  softnet: processed %" PRIu64 ", time_squeeze %" PRIu64
	       ", NAPI polls %" PRIu64 " (%" PRIu64 " used the whole budget)\n",
	       e->sn.processed, e->sn.time_squeeze, e->sn.napi_polls,
	       e->sn.budget_exhausted);
	printf("  drops by reason:\n");
	for (int r = 0; r < WP_DROP__MAX; r++)
		if (e->drops.count[r] - z->drops.count[r])
			printf("    %-20s %" PRIu64 "\n",
			       wp_drop_reason_name(r),
			       e->drops.count[r] - z->drops.count[r]);
	printf("  NIC: rx_missed_errors %" PRIu64 ", rx_length_errors %" PRIu64
	       "\n\n/proc/interrupts:\n",
	       e->nic.rx_missed_errors, e->nic.rx_length_errors);
	wp_irq_print(&s->irqs, stdout);
	printf("\n");
	demo_host_print_summary(host, &z->host, &e->host, stdout);
	printf("\n");
	wp_nic_print_stats(s->nic, stdout);
}

#define TRACE_TRIES 16

/*
 * What `wirepath trace --count N --proto P [--port Q]` shows: up to N
 * packets sampled now, each record taken once its journey ended (read,
 * consumed or dropped); the first that went all the way to read() is
 * kept, else the last. (A TCP flow's packets are mostly pure ACKs, which
 * TCP consumes: the journey worth showing is a segment with data.) False
 * if none completed within three seconds (a sanitized build on a loaded
 * host is slow).
 */
static bool trace_one(struct wp_stack *s, struct wp_trace_record *rec,
		      uint8_t proto, uint16_t port, unsigned count)
{
	const struct wp_trace_filter f = { .every = 1,
					   .proto = proto,
					   .port = port };
	size_t got = 0;

	if (wp_trace_session_begin(s->trace, &f, count))
		return false;
	for (int i = 0; i < 3000 && got < count; i++) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
		if (wp_trace_session_take(s->trace, rec, 1) != 1)
			continue;
		got++;
		if (rec->ns[WP_STAMP_READ])
			break;
	}
	wp_trace_session_end(s->trace);
	return got > 0;
}

static int demo_main(int argc, char **argv)
{
	enum { OPT_SECONDS, OPT_RATE, OPT_CTL, OPT_JSON };
	static const struct wp_opt opts[] = {
		{ "seconds", 0, true, OPT_SECONDS },
		{ "rate", 0, true, OPT_RATE },
		{ "ctl", 0, true, OPT_CTL },
		{ "json", 0, false, OPT_JSON },
		{ NULL, 0, false, 0 },
	};
	uint32_t seconds = 8;
	uint64_t rate = 400000;
	bool json = false;
	const char *ctl_path = NULL;
	struct wp_stack_config cfg;
	struct wp_stack *s;
	struct wp_args a;
	struct snap zero, prev, cur;
	struct wp_trace_record rec, rec_tcp;
	bool traced, traced_tcp;
	char err[256];
	int id, phase = 0;
	uint64_t t0;

	wp_args_init(&a, &wp_cmd_demo, opts, argc, argv);
	while ((id = wp_args_next(&a)) != WP_ARG_END) {
		switch (id) {
		case WP_ARG_HELP:
			return WP_EXIT_OK;
		case WP_ARG_ERROR:
			return WP_EXIT_USAGE;
		case WP_ARG_POSITIONAL:
			return wp_cli_usage_error(&wp_cmd_demo,
						  "unexpected argument '%s'",
						  a.arg);
		case OPT_SECONDS:
			if (wp_parse_u32("demo", a.opt, a.arg, WP_UNIT_NONE, 4,
					 3600, &seconds))
				return WP_EXIT_USAGE;
			break;
		case OPT_RATE:
			if (wp_parse_u64("demo", a.opt, a.arg, WP_UNIT_SI, 1000,
					 5000000, &rate))
				return WP_EXIT_USAGE;
			break;
		case OPT_CTL:
			ctl_path = a.arg;
			break;
		case OPT_JSON:
			json = true;
			break;
		}
	}

	wp_stack_config_default(&cfg);
	cfg.queues = 2;
	cfg.cores = 2;
	cfg.flows = 8;
	cfg.rate_pps = rate;
	cfg.burst_on_us = 500; /* microbursts: 500 us on, 500 us off */
	cfg.burst_off_us = 500;
	s = wp_stack_create(&cfg, err, sizeof(err));
	if (!s)
		return wp_cli_fail("demo", "%s", err);
	host = demo_host_create(s, err, sizeof(err));
	if (!host) {
		wp_stack_destroy(s);
		return wp_cli_fail("demo", "the second host: %s", err);
	}
	/* Asked for by name: it must work. By default: nice to have (another
	 * demo may hold the default path). */
	if (wp_ctl_start(s, ctl_path, err, sizeof(err))) {
		if (ctl_path) {
			demo_host_destroy(host);
			wp_stack_destroy(s);
			return wp_cli_fail("demo", "%s", err);
		}
		fprintf(stderr, "wirepath demo: no control socket: %s\n", err);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (wp_stack_start(s) || demo_host_start(host, err, sizeof(err))) {
		demo_host_stop(host);
		wp_ctl_stop(s);
		wp_stack_stop(s);
		demo_host_destroy(host);
		wp_stack_destroy(s);
		return wp_cli_fail("demo", "cannot start the core threads");
	}
	if (!json) {
		printf("wirepath demo: sim NIC wp0 (10.0.0.2), 2 queues on 2 "
		       "cores, 8 UDP flows in 500 us bursts at %" PRIu64
		       " pps to udp-sink:9;\n"
		       "a second host wp1 (10.0.0.3) on a crossover cable: "
		       "tcp-echo:7, http:80 and udp-echo:7 clients\n",
		       rate);
		if (wp_ctl_path(s))
			printf("control socket: %s (wirepath stat, ethtool, "
			       "sysctl)\n",
			       wp_ctl_path(s));
		printf("\nphase 1: %s\n", phase_names[0]);
	}
	take(s, &zero);
	prev = zero;
	t0 = wp_time_real_ns();
	for (unsigned sec = 1; sec <= seconds && !interrupted; sec++) {
		struct timespec ts = { 1, 0 };
		int want = (int)((sec - 1) * 4 / seconds);

		if (want != phase) {
			phase = want;
			enter_phase(s, phase);
			take(s, &prev);
			if (!json)
				printf("phase %d: %s\n", phase + 1,
				       phase_names[phase]);
		}
		nanosleep(&ts, NULL);
		take(s, &cur);
		print_interval(s, &prev, &cur, 1.0, phase, json, sec);
		prev = cur;
	}
	traced = !json && trace_one(s, &rec, WP_TRACE_PROTO_UDP, 0, 1);
	traced_tcp =
		!json &&
		(trace_one(s, &rec_tcp, WP_TRACE_PROTO_TCP, 7, TRACE_TRIES) ||
		 trace_one(s, &rec_tcp, WP_TRACE_PROTO_TCP, 0, 1));
	wp_ctl_stop(s);
	demo_host_stop(host);
	wp_stack_stop(s);
	take(s, &cur);
	if (!json)
		print_summary(s, &zero, &cur,
			      (double)(wp_time_real_ns() - t0) / 1e9);
	if (traced) {
		printf("\nOne packet's journey (wirepath trace --count 1 "
		       "--proto udp):\n");
		wp_trace_record_print(&rec, stdout);
	}
	if (traced_tcp) {
		printf("\nOne TCP segment's journey (wirepath trace --proto "
		       "tcp;"
		       " of up to %d to the echo server, the first to reach "
		       "read()):\n",
		       TRACE_TRIES);
		wp_trace_record_print(&rec_tcp, stdout);
	}
	demo_host_destroy(host);
	host = NULL;
	wp_stack_destroy(s);
	return WP_EXIT_OK;
}
