// SPDX-License-Identifier: MIT
/*
 * wirepath sim napi|coalesce|ring: the seeds' interactive demos, run over
 * the real NIC model, interrupt moderation and NAPI code on virtual time.
 * Nothing here models behaviour; it sets knobs, drives the clock and
 * reads the counters the stages keep.
 *
 *   napi:     per tick, packets arrive at --rate; one NET_RX softirq runs
 *             with --budget. Less than the budget done: napi_complete_done,
 *             IRQ re-enabled. Budget used up: NAPI stays scheduled, IRQ
 *             stays masked. Three exhausted ticks in a row: starvation.
 *   coalesce: for each rx-usecs, interrupts per second against the latency
 *             moderation adds (descriptor written -> NAPI hands it up).
 *   ring:     microbursts faster than the core can serve: small rings drop
 *             (rx_missed_errors), large rings queue (delay): zero-loss vs
 *             zero-latency.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stack/stack.h"

static const char usage[] =
	"usage: wirepath sim napi [--rate PKTS_PER_MS] [--budget N] [--ticks N]\n"
	"                         [--ring N] [--json]\n"
	"       wirepath sim coalesce [--rate PPS] [--usecs LIST] [--frames N]\n"
	"                         [--seconds S] [--json]\n"
	"       wirepath sim ring [--sizes LIST] [--rate PPS] [--burst ON_US:OFF_US]\n"
	"                         [--service PPS] [--seconds S] [--json]\n"
	"\n"
	"Run the seeds' demos over the real NIC, interrupt and NAPI code, on\n"
	"virtual time (the same arguments give the same output).\n"
	"\n"
	"napi      the NAPI budget simulator: each 1 ms tick, PKTS_PER_MS frames\n"
	"          arrive (default 80) and one NET_RX softirq polls with a budget\n"
	"          of N (default 64; netdev_budget and the NAPI weight). Shows per\n"
	"          tick whether the IRQ was re-enabled or NAPI rescheduled, and\n"
	"          warns of starvation after 3 budget-exhausted ticks in a row.\n"
	"          --ticks (default 20), --ring RX ring size (default 512).\n"
	"coalesce  interrupt coalescing, the 50 us tax: for each rx-usecs in LIST\n"
	"          (default 0,10,20,...,100) at PPS frames/s (default 100000),\n"
	"          interrupts per second and added latency p50/p99.\n"
	"          --frames sets rx-frames (default 0: time only), --seconds of\n"
	"          virtual time per point (default 1).\n"
	"ring      ring size against drops and queueing delay under microbursts:\n"
	"          sizes in LIST (default 64,128,...,4096); bursts at PPS (default\n"
	"          4000000) for ON_US then silence for OFF_US (default 200:800);\n"
	"          the core serves at most --service PPS (default 1500000).\n"
	"\n"
	"--json prints one JSON object per line.\n";

static int sim_main(int argc, char **argv);

WP_CMD_REGISTER(wp_cmd_sim, "sim",
		"run the NAPI, coalescing and ring-size demos over the real code",
		usage, sim_main)

/* --- shared ------------------------------------------------------------ */

static struct wp_stack *sim_stack(struct wp_stack_config *cfg)
{
	char err[256];
	struct wp_stack *s;

	cfg->virtual_time = true;
	s = wp_stack_create(cfg, err, sizeof(err));
	if (!s)
		wp_cli_fail("sim", "%s", err);
	return s;
}

static int set_sysctl_u32(struct wp_stack *s, const char *name, uint32_t v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", v);
	return wp_sysctl_set(&s->sysctl, name, buf);
}

/*
 * One scheduling tick on core 0: firmware delivers everything due by t
 * (moderation may raise the vector), the core takes its interrupts, and
 * one NET_RX softirq runs: exactly one net_rx_action per tick.
 */
static void tick(struct wp_stack *s, uint64_t t)
{
	wp_clock_set(&s->clock, t);
	s->backend.ops->step(&s->backend, t);
	wp_cpu_handle_irqs(&s->cpu[0]);
	wp_net_rx_action(&s->cpu[0]);
}

/* "10,20,30" into vals (at most max); 0 or -EINVAL with a message. */
static int parse_list(const char *what, const char *s, uint32_t min,
		      uint32_t max, uint32_t *vals, unsigned maxn, unsigned *n)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf)) {
		fprintf(stderr, "wirepath sim: %s: list too long\n", what);
		return -EINVAL;
	}
	strcpy(buf, s);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n == maxn) {
			fprintf(stderr, "wirepath sim: %s: at most %u values\n",
				what, maxn);
			return -EINVAL;
		}
		if (wp_parse_u32("sim", what, tok, WP_UNIT_NONE, min, max,
				 &vals[*n]))
			return -EINVAL;
		(*n)++;
	}
	if (*n == 0) {
		fprintf(stderr, "wirepath sim: %s: empty list\n", what);
		return -EINVAL;
	}
	return 0;
}

static int parse_ring_size(const char *what, const char *s, uint32_t *out)
{
	if (wp_parse_u32("sim", what, s, WP_UNIT_NONE, WP_RING_MIN,
			 WP_RING_MAX, out))
		return -EINVAL;
	if (*out & (*out - 1)) {
		fprintf(stderr,
			"wirepath sim: %s: %u is not a power of two (expected 64, 128, ... 4096)\n",
			what, *out);
		return -EINVAL;
	}
	return 0;
}

/* --- napi ---------------------------------------------------------------- */

enum { OPT_RATE, OPT_BUDGET, OPT_TICKS, OPT_RING, OPT_JSON, OPT_USECS,
       OPT_FRAMES, OPT_SECONDS, OPT_SIZES, OPT_BURST, OPT_SERVICE };

static void bar(char *out, size_t len, uint64_t v, uint64_t full)
{
	size_t n = full ? (size_t)(v * 30 / full) : 0;

	if (n > 30)
		n = 30;
	if (n >= len)
		n = len - 1;
	memset(out, '#', n);
	out[n] = '\0';
}

static int sim_napi(int argc, char **argv)
{
	static const struct wp_opt opts[] = {
		{ "rate", 0, true, OPT_RATE },   { "budget", 0, true, OPT_BUDGET },
		{ "ticks", 0, true, OPT_TICKS }, { "ring", 0, true, OPT_RING },
		{ "json", 0, false, OPT_JSON },  { NULL, 0, false, 0 },
	};
	uint32_t rate = 80, budget = 64, ticks = 20, ring = 512;
	bool json = false;
	struct wp_args a;
	struct wp_stack_config cfg;
	struct wp_stack *s;
	struct wp_nic_stats st;
	struct wp_softnet_stat sn;
	uint64_t prev_in = 0, prev_rx = 0, prev_missed = 0;
	unsigned exhausted_run = 0, warnings = 0;
	int id;

	wp_args_init(&a, &wp_cmd_sim, opts, argc, argv);
	while ((id = wp_args_next(&a)) != WP_ARG_END) {
		switch (id) {
		case WP_ARG_HELP:
			return WP_EXIT_OK;
		case WP_ARG_ERROR:
			return WP_EXIT_USAGE;
		case WP_ARG_POSITIONAL:
			return wp_cli_usage_error(&wp_cmd_sim,
						  "unexpected argument '%s'", a.arg);
		case OPT_RATE:
			if (wp_parse_u32("sim", a.opt, a.arg, WP_UNIT_NONE, 1,
					 1000000, &rate))
				return WP_EXIT_USAGE;
			break;
		case OPT_BUDGET:
			if (wp_parse_u32("sim", a.opt, a.arg, WP_UNIT_NONE, 1,
					 65536, &budget))
				return WP_EXIT_USAGE;
			break;
		case OPT_TICKS:
			if (wp_parse_u32("sim", a.opt, a.arg, WP_UNIT_NONE, 1,
					 100000, &ticks))
				return WP_EXIT_USAGE;
			break;
		case OPT_RING:
			if (parse_ring_size(a.opt, a.arg, &ring))
				return WP_EXIT_USAGE;
			break;
		case OPT_JSON:
			json = true;
			break;
		}
	}

	wp_stack_config_default(&cfg);
	cfg.rate_pps = (uint64_t)rate * 1000;
	cfg.rx_ring = ring;
	cfg.rx_usecs = 0; /* the NIC interrupts as soon as a frame lands */
	cfg.rx_frames = 1;
	s = sim_stack(&cfg);
	if (!s)
		return WP_EXIT_FAILURE;
	set_sysctl_u32(s, "net.core.netdev_budget", budget);
	set_sysctl_u32(s, "net.core.dev_weight", budget);

	if (!json)
		printf("NAPI budget simulator: %u pkts/ms arriving, budget %u, RX ring %u, 1 ms ticks\n\n"
		       "tick arrived processed  ring dropped  state\n",
		       rate, budget, ring);
	for (uint32_t t = 1; t <= ticks; t++) {
		struct wp_napi *napi = &s->nic->rxq[0].napi;
		uint64_t in, rx, missed, pending;
		bool resched;
		char b[40];

		tick(s, (uint64_t)t * WP_NSEC_PER_MSEC);
		wp_nic_get_stats(s->nic, &st);
		in = s->backend.frames_in - prev_in;
		rx = s->rx[0].packets - prev_rx;
		missed = st.rx_missed_errors - prev_missed;
		prev_in = s->backend.frames_in;
		prev_rx = s->rx[0].packets;
		prev_missed = st.rx_missed_errors;
		pending = wp_nic_rx_pending(s->nic, 0);
		resched = atomic_load(&napi->state) & WP_NAPI_STATE_SCHED;
		exhausted_run = resched ? exhausted_run + 1 : 0;
		if (exhausted_run >= 3)
			warnings++;
		if (json) {
			struct wp_json j;

			wp_json_begin(&j, stdout);
			wp_json_str(&j, "sim", "napi");
			wp_json_u64(&j, "tick", t);
			wp_json_u64(&j, "arrived", in);
			wp_json_u64(&j, "processed", rx);
			wp_json_u64(&j, "ring_pending", pending);
			wp_json_u64(&j, "dropped", missed);
			wp_json_bool(&j, "irq_reenabled", !resched);
			wp_json_bool(&j, "napi_rescheduled", resched);
			wp_json_bool(&j, "starvation_risk", exhausted_run >= 3);
			wp_json_end(&j);
			continue;
		}
		bar(b, sizeof(b), rx, budget);
		printf("%4u %7" PRIu64 " %9" PRIu64 " %5" PRIu64 " %7" PRIu64
		       "  %-46s %s\n",
		       t, in, rx, pending, missed,
		       resched ? "NAPI rescheduled: budget used up, IRQ stays masked"
			       : "IRQ re-enabled: ring drained, napi_complete_done",
		       b);
		if (exhausted_run == 3)
			printf("     ! starvation risk: budget exhausted 3 ticks in a row; "
			       "the softirq keeps the CPU (see time_squeeze)\n");
	}
	wp_nic_get_stats(s->nic, &st);
	wp_stack_softnet(s, &sn);
	if (json) {
		struct wp_json j;

		wp_json_begin(&j, stdout);
		wp_json_str(&j, "sim", "napi-summary");
		wp_json_u64(&j, "interrupts", sn.irqs);
		wp_json_u64(&j, "softnet_processed", sn.processed);
		wp_json_u64(&j, "time_squeeze", sn.time_squeeze);
		wp_json_u64(&j, "rx_missed_errors", st.rx_missed_errors);
		wp_json_u64(&j, "starvation_ticks", warnings);
		wp_json_end(&j);
	} else {
		printf("\ninterrupts taken %" PRIu64 ", softnet processed %" PRIu64
		       ", time_squeeze %" PRIu64 ", rx_missed_errors %" PRIu64
		       ", starvation ticks %u\n",
		       sn.irqs, sn.processed, sn.time_squeeze,
		       st.rx_missed_errors, warnings);
	}
	wp_stack_destroy(s);
	return WP_EXIT_OK;
}

/* --- coalesce ------------------------------------------------------------ */

static int sim_coalesce(int argc, char **argv)
{
	static const struct wp_opt opts[] = {
		{ "rate", 0, true, OPT_RATE },   { "usecs", 0, true, OPT_USECS },
		{ "frames", 0, true, OPT_FRAMES },
		{ "seconds", 0, true, OPT_SECONDS },
		{ "json", 0, false, OPT_JSON },  { NULL, 0, false, 0 },
	};
	uint32_t usecs[32] = { 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 };
	unsigned nusecs = 11;
	uint64_t rate = 100000;
	uint32_t frames = 0;
	double seconds = 1.0;
	bool json = false;
	struct wp_args a;
	int id;

	wp_args_init(&a, &wp_cmd_sim, opts, argc, argv);
	while ((id = wp_args_next(&a)) != WP_ARG_END) {
		switch (id) {
		case WP_ARG_HELP:
			return WP_EXIT_OK;
		case WP_ARG_ERROR:
			return WP_EXIT_USAGE;
		case WP_ARG_POSITIONAL:
			return wp_cli_usage_error(&wp_cmd_sim,
						  "unexpected argument '%s'", a.arg);
		case OPT_RATE:
			if (wp_parse_u64("sim", a.opt, a.arg, WP_UNIT_SI, 1,
					 100000000, &rate))
				return WP_EXIT_USAGE;
			break;
		case OPT_USECS:
			if (parse_list(a.opt, a.arg, 0, WP_COALESCE_USECS_MAX,
				       usecs, 32, &nusecs))
				return WP_EXIT_USAGE;
			break;
		case OPT_FRAMES:
			if (wp_parse_u32("sim", a.opt, a.arg, WP_UNIT_NONE, 0,
					 WP_COALESCE_FRAMES_MAX, &frames))
				return WP_EXIT_USAGE;
			break;
		case OPT_SECONDS:
			if (wp_parse_double("sim", a.opt, a.arg, 0.001, 60,
					    &seconds))
				return WP_EXIT_USAGE;
			break;
		case OPT_JSON:
			json = true;
			break;
		}
	}

	if (!json)
		printf("Interrupt coalescing at %" PRIu64 " frames/s, rx-frames %u, %.3g s per point\n\n"
		       "rx-usecs   irqs/s  frames/irq   p50 latency   p99 latency\n",
		       rate, frames, seconds);
	for (unsigned i = 0; i < nusecs; i++) {
		struct wp_stack_config cfg;
		struct wp_softnet_stat sn;
		struct wp_stack_rx rx;
		struct wp_stack *s;
		double irqs_s, per_irq, p50, p99;

		wp_stack_config_default(&cfg);
		cfg.rate_pps = rate;
		cfg.rx_usecs = usecs[i];
		cfg.rx_frames = frames;
		cfg.rx_ring = WP_RING_MAX;
		s = sim_stack(&cfg);
		if (!s)
			return WP_EXIT_FAILURE;
		wp_stack_run_until(s, (uint64_t)(seconds * 1e9));
		wp_stack_softnet(s, &sn);
		wp_stack_rx_totals(s, &rx);
		irqs_s = (double)sn.irqs / seconds;
		per_irq = sn.irqs ? (double)rx.packets / (double)sn.irqs : 0;
		p50 = (double)wp_hist_quantile(&rx.latency, 0.50) / 1e3;
		p99 = (double)wp_hist_quantile(&rx.latency, 0.99) / 1e3;
		if (json) {
			struct wp_json j;

			wp_json_begin(&j, stdout);
			wp_json_str(&j, "sim", "coalesce");
			wp_json_u64(&j, "rx_usecs", usecs[i]);
			wp_json_u64(&j, "rx_frames", frames);
			wp_json_u64(&j, "rate_pps", rate);
			wp_json_double(&j, "irqs_per_sec", irqs_s);
			wp_json_double(&j, "frames_per_irq", per_irq);
			wp_json_double(&j, "latency_p50_us", p50);
			wp_json_double(&j, "latency_p99_us", p99);
			wp_json_u64(&j, "packets", rx.packets);
			wp_json_end(&j);
		} else {
			printf("%8u %8.0f %11.1f %10.1f us %10.1f us\n", usecs[i],
			       irqs_s, per_irq, p50, p99);
		}
		wp_stack_destroy(s);
	}
	return WP_EXIT_OK;
}

/* --- ring ------------------------------------------------------------------- */

static int parse_burst(const char *what, const char *s, uint32_t *on,
		       uint32_t *off)
{
	const char *colon = strchr(s, ':');
	char buf[32];

	if (!colon || (size_t)(colon - s) >= sizeof(buf)) {
		fprintf(stderr, "wirepath sim: %s: '%s' (expected ON_US:OFF_US, e.g. 200:800)\n",
			what, s);
		return -EINVAL;
	}
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	if (wp_parse_u32("sim", what, buf, WP_UNIT_NONE, 1, 10000000, on) ||
	    wp_parse_u32("sim", what, colon + 1, WP_UNIT_NONE, 0, 10000000, off))
		return -EINVAL;
	return 0;
}

#define RING_TICK_NS (10 * WP_NSEC_PER_USEC)

static int sim_ring(int argc, char **argv)
{
	static const struct wp_opt opts[] = {
		{ "sizes", 0, true, OPT_SIZES },   { "rate", 0, true, OPT_RATE },
		{ "burst", 0, true, OPT_BURST },   { "service", 0, true, OPT_SERVICE },
		{ "seconds", 0, true, OPT_SECONDS }, { "json", 0, false, OPT_JSON },
		{ NULL, 0, false, 0 },
	};
	uint32_t sizes[16] = { 64, 128, 256, 512, 1024, 2048, 4096 };
	unsigned nsizes = 7;
	uint64_t rate = 4000000, service = 1500000;
	uint32_t on = 200, off = 800, budget;
	double seconds = 1.0;
	bool json = false;
	struct wp_args a;
	int id;

	wp_args_init(&a, &wp_cmd_sim, opts, argc, argv);
	while ((id = wp_args_next(&a)) != WP_ARG_END) {
		switch (id) {
		case WP_ARG_HELP:
			return WP_EXIT_OK;
		case WP_ARG_ERROR:
			return WP_EXIT_USAGE;
		case WP_ARG_POSITIONAL:
			return wp_cli_usage_error(&wp_cmd_sim,
						  "unexpected argument '%s'", a.arg);
		case OPT_SIZES:
			if (parse_list(a.opt, a.arg, WP_RING_MIN, WP_RING_MAX,
				       sizes, 16, &nsizes))
				return WP_EXIT_USAGE;
			for (unsigned i = 0; i < nsizes; i++)
				if (sizes[i] & (sizes[i] - 1)) {
					fprintf(stderr,
						"wirepath sim: %s: %u is not a power of two (expected 64, 128, ... 4096)\n",
						a.opt, sizes[i]);
					return WP_EXIT_USAGE;
				}
			break;
		case OPT_RATE:
			if (wp_parse_u64("sim", a.opt, a.arg, WP_UNIT_SI, 1,
					 100000000, &rate))
				return WP_EXIT_USAGE;
			break;
		case OPT_BURST:
			if (parse_burst(a.opt, a.arg, &on, &off))
				return WP_EXIT_USAGE;
			break;
		case OPT_SERVICE:
			if (wp_parse_u64("sim", a.opt, a.arg, WP_UNIT_SI, 100000,
					 100000000, &service))
				return WP_EXIT_USAGE;
			break;
		case OPT_SECONDS:
			if (wp_parse_double("sim", a.opt, a.arg, 0.001, 60,
					    &seconds))
				return WP_EXIT_USAGE;
			break;
		case OPT_JSON:
			json = true;
			break;
		}
	}
	/* The core's capacity as a NAPI budget per 10 us softirq round. */
	budget = (uint32_t)(service * RING_TICK_NS / WP_NSEC_PER_SEC);
	if (budget < 1)
		budget = 1;

	if (!json)
		printf("Ring size under microbursts: %" PRIu64 " frames/s for %u us, silent %u us;\n"
		       "the core serves %" PRIu64 " frames/s (budget %u per 10 us round)\n\n"
		       " ring   arrived   dropped   drop%%   p50 delay   p99 delay   max delay\n",
		       rate, on, off, service, budget);
	for (unsigned i = 0; i < nsizes; i++) {
		struct wp_stack_config cfg;
		struct wp_nic_stats st;
		struct wp_stack_rx rx;
		struct wp_stack *s;
		uint64_t t, end = (uint64_t)(seconds * 1e9);
		double drop_pct, p50, p99, max;

		wp_stack_config_default(&cfg);
		cfg.rate_pps = rate;
		cfg.burst_on_us = on;
		cfg.burst_off_us = off;
		cfg.rx_ring = sizes[i];
		cfg.rx_usecs = 0;
		cfg.rx_frames = 1;
		s = sim_stack(&cfg);
		if (!s)
			return WP_EXIT_FAILURE;
		set_sysctl_u32(s, "net.core.netdev_budget", budget);
		set_sysctl_u32(s, "net.core.dev_weight", budget);
		for (t = RING_TICK_NS; t <= end; t += RING_TICK_NS)
			tick(s, t);
		wp_nic_get_stats(s->nic, &st);
		wp_stack_rx_totals(s, &rx);
		drop_pct = s->backend.frames_in
				   ? 100.0 * (double)st.rx_missed_errors /
					     (double)s->backend.frames_in
				   : 0;
		p50 = (double)wp_hist_quantile(&rx.latency, 0.50) / 1e3;
		p99 = (double)wp_hist_quantile(&rx.latency, 0.99) / 1e3;
		max = (double)rx.latency.max / 1e3;
		if (json) {
			struct wp_json j;

			wp_json_begin(&j, stdout);
			wp_json_str(&j, "sim", "ring");
			wp_json_u64(&j, "ring", sizes[i]);
			wp_json_u64(&j, "arrived", s->backend.frames_in);
			wp_json_u64(&j, "rx_missed_errors", st.rx_missed_errors);
			wp_json_double(&j, "drop_pct", drop_pct);
			wp_json_double(&j, "delay_p50_us", p50);
			wp_json_double(&j, "delay_p99_us", p99);
			wp_json_double(&j, "delay_max_us", max);
			wp_json_end(&j);
		} else {
			printf("%5u %9" PRIu64 " %9" PRIu64 " %6.2f%% %8.1f us %8.1f us %8.1f us\n",
			       sizes[i], s->backend.frames_in,
			       st.rx_missed_errors, drop_pct, p50, p99, max);
		}
		wp_stack_destroy(s);
	}
	return WP_EXIT_OK;
}

static int sim_main(int argc, char **argv)
{
	if (argc < 2)
		return wp_cli_usage_error(&wp_cmd_sim,
					  "which simulation? (napi, coalesce or ring)");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return wp_cli_help(&wp_cmd_sim);
	if (strcmp(argv[1], "napi") == 0)
		return sim_napi(argc - 1, argv + 1);
	if (strcmp(argv[1], "coalesce") == 0)
		return sim_coalesce(argc - 1, argv + 1);
	if (strcmp(argv[1], "ring") == 0)
		return sim_ring(argc - 1, argv + 1);
	return wp_cli_usage_error(&wp_cmd_sim,
				  "unknown simulation '%s' (expected napi, coalesce or ring)",
				  argv[1]);
}
