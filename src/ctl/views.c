// SPDX-License-Identifier: MIT
/*
 * `stat` views of a running stack, each in the format of the Linux tool
 * its users already read: /proc/interrupts, /proc/net/softnet_stat,
 * ethtool -S, netstat -s, ss, ip neigh, ip route; plus drops by reason,
 * per-stage latency and a one-screen summary.
 *
 * Where a stage already prints its own table (wp_irq_print,
 * wp_nic_print_stats, wp_net_print_*), the text view is that table and
 * the JSON view is parsed back from it, so the two can never name or
 * count differently. Counters are read while the core threads run: each
 * is one aligned 64-bit word, so a value may be a moment old but is
 * never torn; sums over cores are not one instant.
 */
#include "ctl/ctl_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "net/udp.h"
#include "stack/stack.h"
#include "tcp/tcp.h"

/* --- JSON lines ------------------------------------------------------------
 */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_key(struct wp__json *j, const char *key)
{
	if (!j->first)
		fputc(',', j->f);
	j->first = false;
	json_string(j->f, key);
	fputc(':', j->f);
}

void wp__json_begin(struct wp__json *j, FILE *f)
{
	j->f = f;
	j->first = true;
	fputc('{', f);
}

void wp__json_end(struct wp__json *j)
{
	fputs("}\n", j->f);
}

void wp__json_str(struct wp__json *j, const char *key, const char *v)
{
	json_key(j, key);
	json_string(j->f, v);
}

void wp__json_u64(struct wp__json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void wp__json_double(struct wp__json *j, const char *key, double v)
{
	json_key(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.3f", v);
	else
		fputs("null", j->f);
}

void wp__json_bool(struct wp__json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void wp__json_u64_array(struct wp__json *j, const char *key, const uint64_t *v,
			size_t n)
{
	json_key(j, key);
	fputc('[', j->f);
	for (size_t i = 0; i < n; i++)
		fprintf(j->f, "%s%" PRIu64, i ? "," : "", v[i]);
	fputc(']', j->f);
}

void wp__json_str_array(struct wp__json *j, const char *key,
			const char *const *v, size_t n)
{
	json_key(j, key);
	fputc('[', j->f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', j->f);
		json_string(j->f, v[i]);
	}
	fputc(']', j->f);
}

/* --- helpers ---------------------------------------------------------------
 */

/*
 * What a printer wrote, as one NUL-terminated buffer (the caller frees
 * it), or NULL with errno. open_memstream allocates: the control path,
 * never a core thread.
 */
struct capture {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *capture_begin(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	return c->f;
}

static char *capture_end(struct capture *c)
{
	if (fclose(c->f) != 0) {
		free(c->buf);
		return NULL;
	}
	return c->buf;
}

static int no_memory(FILE *err)
{
	fprintf(err, "out of memory in the control thread: try again\n");
	return 1;
}

static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

static uint64_t vector_total(const struct wp_stack *s,
			     const struct wp_irq_vector *v)
{
	uint64_t sum = 0;

	for (uint32_t c = 0; c < s->ncpus; c++)
		sum += atomic_load_explicit(&v->count[s->cpus[c]->id],
					    memory_order_relaxed);
	return sum;
}

static uint64_t irq_total(const struct wp_stack *s)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < WP_MAX_VECTORS; i++)
		if (s->irqs.vec[i].in_use)
			sum += vector_total(s, &s->irqs.vec[i]);
	return sum;
}

/* --- summary ---------------------------------------------------------------
 */

static int view_summary(struct wp_stack *s, bool json, FILE *out, FILE *err)
{
	struct wp_coalesce_params cp;
	struct wp_softnet_stat sn;
	struct wp_drop_stats *d = malloc(sizeof(*d));
	struct wp_stack_rx *rx = malloc(sizeof(*rx));
	struct wp_ctl_stats cs;
	const struct wp_nic *nic = s->nic;
	uint64_t drops = 0;

	if (!d || !rx) {
		free(d);
		free(rx);
		return no_memory(err);
	}
	wp_nic_get_coalesce(nic, &cp);
	wp_stack_softnet(s, &sn);
	wp_stack_drops(s, d);
	wp_stack_rx_totals(s, rx);
	wp_ctl_get_stats(s, &cs);
	for (int r = 0; r < WP_DROP__MAX; r++)
		drops += d->count[r];

	if (json) {
		struct wp__json j;

		wp__json_begin(&j, out);
		wp__json_str(&j, "dev", nic->name);
		wp__json_str(&j, "backend", s->cfg.backend);
		wp__json_u64(&j, "queues", nic->cfg.nqueues);
		wp__json_u64(&j, "queues_active",
			     __atomic_load_n(&nic->nqueues, __ATOMIC_RELAXED));
		wp__json_u64(&j, "cores", s->ncpus);
		wp__json_u64(&j, "rx_ring", nic->cfg.rx_ring_size);
		wp__json_u64(&j, "tx_ring", nic->cfg.tx_ring_size);
		wp__json_u64(&j, "rx_usecs", cp.rx_usecs);
		wp__json_u64(&j, "rx_frames", cp.rx_frames);
		wp__json_bool(&j, "adaptive_rx", cp.adaptive_rx);
		wp__json_u64(&j, "frames_in", s->backend.frames_in);
		wp__json_u64(&j, "frames_out", s->backend.frames_out);
		wp__json_u64(&j, "rx_packets", rx->packets);
		wp__json_u64(&j, "rx_bytes", rx->bytes);
		wp__json_u64(&j, "interrupts", irq_total(s));
		wp__json_u64(&j, "processed", sn.processed);
		wp__json_u64(&j, "napi_polls", sn.napi_polls);
		wp__json_u64(&j, "budget_exhausted", sn.budget_exhausted);
		wp__json_u64(&j, "time_squeeze", sn.time_squeeze);
		wp__json_bool(&j, "gro", wp_nic_get_gro(nic));
		wp__json_u64(&j, "gro_merged", sn.gro_merged);
		wp__json_u64(&j, "gro_flush", sn.gro_flush);
		wp__json_u64(&j, "drops", drops);
		wp__json_u64(&j, "latency_p50_ns",
			     wp_hist_quantile(&rx->latency, 0.5));
		wp__json_u64(&j, "latency_p99_ns",
			     wp_hist_quantile(&rx->latency, 0.99));
		wp__json_u64(&j, "latency_p999_ns",
			     wp_hist_quantile(&rx->latency, 0.999));
		wp__json_u64(&j, "ctl_requests", cs.requests);
		wp__json_end(&j);
		goto out;
	}
	fprintf(out,
		"%s: backend %s, %u of %u queues active on %u cores, rings rx "
		"%u tx %u\n",
		nic->name, s->cfg.backend,
		__atomic_load_n(&nic->nqueues, __ATOMIC_RELAXED),
		nic->cfg.nqueues, s->ncpus, nic->cfg.rx_ring_size,
		nic->cfg.tx_ring_size);
	fprintf(out,
		"coalescing: rx-usecs %u rx-frames %u adaptive-rx %s; "
		"netdev_budget %d, dev_weight %d\n",
		cp.rx_usecs, cp.rx_frames, cp.adaptive_rx ? "on" : "off",
		wp_sysctl_read(&s->sysctl.netdev_budget),
		wp_sysctl_read(&s->sysctl.dev_weight));
	fprintf(out, "wire:       %" PRIu64 " frames in, %" PRIu64 " out\n",
		s->backend.frames_in, s->backend.frames_out);
	fprintf(out, "handed up:  %" PRIu64 " packets, %" PRIu64 " bytes\n",
		rx->packets, rx->bytes);
	fprintf(out, "interrupts: %" PRIu64 "\n", irq_total(s));
	fprintf(out,
		"softnet:    processed %" PRIu64 ", NAPI polls %" PRIu64
		" (%" PRIu64 " used the whole weight), time_squeeze %" PRIu64
		"\n",
		sn.processed, sn.napi_polls, sn.budget_exhausted,
		sn.time_squeeze);
	fprintf(out,
		"GRO:        %s, %" PRIu64 " segments merged into %" PRIu64
		" held skbs handed up\n",
		wp_nic_get_gro(nic) ? "on" : "off", sn.gro_merged,
		sn.gro_flush);
	fprintf(out, "drops:      %" PRIu64, drops);
	for (int r = 0, n = 0; r < WP_DROP__MAX; r++)
		if (d->count[r])
			fprintf(out, "%s%s %" PRIu64, n++ ? ", " : " (",
				wp_drop_reason_name((enum wp_drop_reason)r),
				d->count[r]);
	fputs(drops ? ")\n" : "\n", out);
	if (rx->latency.count)
		fprintf(out,
			"latency:    DMA -> NAPI hand-off p50 %.3f us, p99 "
			"%.3f us, p99.9 %.3f us\n",
			us(wp_hist_quantile(&rx->latency, 0.5)),
			us(wp_hist_quantile(&rx->latency, 0.99)),
			us(wp_hist_quantile(&rx->latency, 0.999)));
	else
		fprintf(out, "latency:    no packet handed up yet\n");
out:
	free(d);
	free(rx);
	return 0;
}

/* --- interrupts: /proc/interrupts ------------------------------------------
 */

static int view_interrupts(struct wp_stack *s, bool json, FILE *out, FILE *err)
{
	if (!json) {
		wp_irq_print(&s->irqs, out);
		return 0;
	}
	for (uint32_t i = 0; i < WP_MAX_VECTORS; i++) {
		const struct wp_irq_vector *v = &s->irqs.vec[i];
		uint64_t cells[WP_MAX_CPUS];
		struct wp__json j;

		if (!v->in_use)
			continue;
		for (uint32_t c = 0; c < s->ncpus; c++)
			cells[c] =
				atomic_load_explicit(&v->count[s->cpus[c]->id],
						     memory_order_relaxed);
		wp__json_begin(&j, out);
		wp__json_u64(&j, "irq", v->id);
		wp__json_u64_array(&j, "cpus", cells, s->ncpus);
		wp__json_u64(&j, "total", vector_total(s, v));
		wp__json_u64(
			&j, "raised",
			atomic_load_explicit(&v->raised, memory_order_relaxed));
		wp__json_str(&j, "chip", "wirepath-msi");
		wp__json_str(&j, "name", v->name);
		wp__json_end(&j);
	}
	(void)err;
	return 0;
}

/* --- softnet: /proc/net/softnet_stat ---------------------------------------
 */

/*
 * Linux's columns (net/core/net-procfs.c, before the two queue lengths
 * 6.x appended): processed, dropped, time_squeeze, five zeros (once
 * fastroute), cpu_collision (always 0 now), received_rps,
 * flow_limit_count, backlog length, cpu index; each %08x of a 32-bit
 * counter. wirepath has no RPS backlog: its length is 0.
 */
static void softnet_hex(FILE *out, const struct wp_softnet_stat *st, int cpu)
{
	fprintf(out,
		"%08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x "
		"%08x\n",
		(uint32_t)st->processed, (uint32_t)st->dropped,
		(uint32_t)st->time_squeeze, 0u, 0u, 0u, 0u, 0u, 0u,
		(uint32_t)st->received_rps, (uint32_t)st->flow_limit_count, 0u,
		(uint32_t)cpu);
}

static void softnet_row(FILE *out, const char *cpu,
			const struct wp_softnet_stat *st)
{
	fprintf(out,
		"%-5s %12" PRIu64 " %8" PRIu64 " %12" PRIu64 " %12" PRIu64
		" %12" PRIu64 " %16" PRIu64 " %14" PRIu64 " %9" PRIu64
		" %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
		" %10" PRIu64 "\n",
		cpu, st->processed, st->dropped, st->time_squeeze,
		st->softirq_runs, st->napi_polls, st->budget_exhausted,
		st->napi_completes, st->ksoftirqd_wakeups, st->busy_polls,
		st->irqs, st->gro_held, st->gro_merged, st->gro_flush);
}

static void softnet_json(FILE *out, int cpu, const struct wp_softnet_stat *st)
{
	struct wp__json j;

	wp__json_begin(&j, out);
	wp__json_u64(&j, "cpu", (uint64_t)cpu);
	wp__json_u64(&j, "processed", st->processed);
	wp__json_u64(&j, "dropped", st->dropped);
	wp__json_u64(&j, "time_squeeze", st->time_squeeze);
	wp__json_u64(&j, "cpu_collision", 0);
	wp__json_u64(&j, "received_rps", st->received_rps);
	wp__json_u64(&j, "flow_limit_count", st->flow_limit_count);
	wp__json_u64(&j, "backlog_len", 0);
	wp__json_u64(&j, "softirq_runs", st->softirq_runs);
	wp__json_u64(&j, "napi_polls", st->napi_polls);
	wp__json_u64(&j, "budget_exhausted", st->budget_exhausted);
	wp__json_u64(&j, "napi_completes", st->napi_completes);
	wp__json_u64(&j, "ksoftirqd_wakeups", st->ksoftirqd_wakeups);
	wp__json_u64(&j, "busy_polls", st->busy_polls);
	wp__json_u64(&j, "irqs", st->irqs);
	wp__json_u64(&j, "gro_held", st->gro_held);
	wp__json_u64(&j, "gro_merged", st->gro_merged);
	wp__json_u64(&j, "gro_flush", st->gro_flush);
	wp__json_end(&j);
}

static int view_softnet(struct wp_stack *s, bool json, FILE *out, FILE *err)
{
	struct wp_softnet_stat total;

	(void)err;
	if (json) {
		for (uint32_t c = 0; c < s->ncpus; c++)
			softnet_json(out, s->cpu[c].id, &s->cpu[c].softnet);
		return 0;
	}
	for (uint32_t c = 0; c < s->ncpus; c++)
		softnet_hex(out, &s->cpu[c].softnet, s->cpu[c].id);
	fprintf(out,
		"\n%-5s %12s %8s %12s %12s %12s %16s %14s %9s %10s %10s %10s "
		"%10s %10s\n",
		"cpu", "processed", "dropped", "time_squeeze", "softirq_runs",
		"napi_polls", "budget_exhausted", "napi_completes", "ksoftirqd",
		"busy_polls", "irqs", "gro_held", "gro_merged", "gro_flush");
	for (uint32_t c = 0; c < s->ncpus; c++) {
		char name[16];

		snprintf(name, sizeof(name), "%d", s->cpu[c].id);
		softnet_row(out, name, &s->cpu[c].softnet);
	}
	wp_stack_softnet(s, &total);
	softnet_row(out, "total", &total);
	return 0;
}

/* --- ethtool -S --------------------------------------------------------------
 */

static int view_ethtool(struct wp_stack *s, bool json, FILE *out, FILE *err)
{
	struct capture c;
	struct wp__json j;
	char *text, *line, *save;

	if (!json) {
		wp_nic_print_stats(s->nic, out);
		return 0;
	}
	if (!capture_begin(&c))
		return no_memory(err);
	wp_nic_print_stats(s->nic, c.f);
	text = capture_end(&c);
	if (!text)
		return no_memory(err);
	/* "     name: value" lines under "NIC statistics:". */
	wp__json_begin(&j, out);
	wp__json_str(&j, "dev", s->nic->name);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[96];
		uint64_t v;

		if (sscanf(line, " %95[a-z0-9_]: %" SCNu64, name, &v) == 2)
			wp__json_u64(&j, name, v);
	}
	wp__json_end(&j);
	free(text);
	return 0;
}

/* --- netstat -s
 * ----------------------------------------------------------------
 */

static char *skip_blanks(char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

/*
 * netstat -s text back to one object per section: "    N text" gives
 * "text": N, "    Name: N" gives "Name": N, and a line under a
 * sub-title ("ICMP input histogram:") is keyed "title: text".
 */
static void netstat_json(char *text, FILE *out)
{
	struct wp__json j;
	bool open = false;
	char sub[64] = "";
	char *line, *save;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = skip_blanks(line), *colon, *end;
		size_t n = strlen(line);
		char key[160];
		uint64_t v;

		if (p == line && n && line[n - 1] == ':') {
			if (open)
				wp__json_end(&j);
			line[n - 1] = '\0';
			wp__json_begin(&j, out);
			wp__json_str(&j, "section", line);
			open = true;
			sub[0] = '\0';
			continue;
		}
		if (!open)
			continue;
		if (*p >= '0' && *p <= '9') {
			v = strtoull(p, &end, 10);
			wp__json_u64(&j, skip_blanks(end), v);
			continue;
		}
		colon = strrchr(p, ':');
		if (colon && colon[1] == '\0') {
			*colon = '\0';
			snprintf(sub, sizeof(sub), "%s", p);
			continue;
		}
		if (colon && colon[1] == ' ') {
			/* deeper than the section's lines: under sub */
			bool under = sub[0] && p - line > 4;

			*colon = '\0';
			v = strtoull(colon + 2, NULL, 10);
			snprintf(key, sizeof(key), "%s%s%s", under ? sub : "",
				 under ? ": " : "", p);
			wp__json_u64(&j, key, v);
		}
	}
	if (open)
		wp__json_end(&j);
}

static int need_net(struct wp_stack *s, FILE *err)
{
	if (s->net)
		return 0;
	fprintf(err, "protocol layer not available in this stack\n");
	return 1;
}

static int view_netstat(struct wp_stack *s, bool json, FILE *out, FILE *err)
{
	struct capture c;
	char *text;

	if (need_net(s, err))
		return 1;
	if (!json) {
		wp_net_print_netstat(s->net, out);
		return 0;
	}
	if (!capture_begin(&c))
		return no_memory(err);
	wp_net_print_netstat(s->net, c.f);
	text = capture_end(&c);
	if (!text)
		return no_memory(err);
	netstat_json(text, out);
	free(text);
	return 0;
}

/* --- drops by reason ---------------------------------------------------------
 */

static int view_drops(struct wp_stack *s, bool json, FILE *out, FILE *err)
{
	struct wp_drop_stats d;
	bool any = false;

	(void)err;
	wp_stack_drops(s, &d);
	if (json) {
		struct wp__json j;

		wp__json_begin(&j, out);
		for (int r = 0; r < WP_DROP__MAX; r++)
			wp__json_u64(
				&j, wp_drop_reason_name((enum wp_drop_reason)r),
				d.count[r]);
		wp__json_end(&j);
		return 0;
	}
	fprintf(out, "Drops by reason:\n");
	for (int r = 0; r < WP_DROP__MAX; r++) {
		if (!d.count[r])
			continue;
		fprintf(out, "    %s: %" PRIu64 "\n",
			wp_drop_reason_name((enum wp_drop_reason)r),
			d.count[r]);
		any = true;
	}
	if (!any)
		fprintf(out, "    none\n");
	return 0;
}

/* --- ss, ip neigh, ip route
 * ---------------------------------------------------
 */

/* Words of a line, at most max; returns how many. Edits the line. */
static size_t split_words(char *line, char **w, size_t max)
{
	size_t n = 0;
	char *save, *t;

	for (t = strtok_r(line, " ", &save); t && n < max;
	     t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	return n;
}

/*
 * `ip -j neigh` / `ip -j route` objects from the text lines: the first
 * word is "dst", then "KEY VALUE" pairs (via becomes "gateway", proto
 * "protocol", src "prefsrc", as ip names them), and what is left over
 * goes in the list `rest` ("state" or "flags").
 */
static void ip_json(char *text, const char *rest, FILE *out)
{
	static const char *const keys[][2] = {
		{ "dev", "dev" },     { "lladdr", "lladdr" },
		{ "via", "gateway" }, { "proto", "protocol" },
		{ "scope", "scope" }, { "src", "prefsrc" },
	};
	char *line, *save;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *w[32];
		const char *left[32];
		size_t n = split_words(line, w, 32), nleft = 0;
		struct wp__json j;

		if (!n)
			continue;
		wp__json_begin(&j, out);
		wp__json_str(&j, "dst", w[0]);
		for (size_t i = 1; i < n; i++) {
			size_t k;

			for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
				if (strcmp(w[i], keys[k][0]) == 0)
					break;
			if (k < sizeof(keys) / sizeof(keys[0]) && i + 1 < n) {
				wp__json_str(&j, keys[k][1], w[i + 1]);
				i++;
			} else {
				left[nleft++] = w[i];
			}
		}
		wp__json_str_array(&j, rest, left, nleft);
		wp__json_end(&j);
	}
}

typedef void (*net_printer)(const struct wp_net *net, FILE *out);

static int view_ip(struct wp_stack *s, bool json, FILE *out, FILE *err,
		   net_printer print, const char *rest)
{
	struct capture c;
	char *text;

	if (need_net(s, err))
		return 1;
	if (!json) {
		print(s->net, out);
		return 0;
	}
	if (!capture_begin(&c))
		return no_memory(err);
	print(s->net, c.f);
	text = capture_end(&c);
	if (!text)
		return no_memory(err);
	ip_json(text, rest, out);
	free(text);
	return 0;
}

static int view_arp(struct wp_stack *s, bool json, FILE *out, FILE *err)
{
	return view_ip(s, json, out, err, wp_net_print_neigh, "state");
}

static int view_route(struct wp_stack *s, bool json, FILE *out, FILE *err)
{
	return view_ip(s, json, out, err, wp_net_print_route, "flags");
}

/*
 * `ss -tuna -i`: every socket the protocol layer has hashed. Each
 * protocol prints its own table ("State Recv-Q Send-Q Local Peer", a
 * connection's details on an indented line after it); its rows are read
 * back and printed under one header with a Netid column, so the
 * protocols line up whatever widths they chose.
 */
static void socket_row(char **w, const char *info, const char *netid, bool json,
		       FILE *out)
{
	struct wp__json j;

	if (!json) {
		fprintf(out, "%-5s %-10s %6s %6s %-21s %s\n", netid, w[0], w[1],
			w[2], w[3], w[4]);
		if (info)
			fprintf(out, "\t%s\n", info);
		return;
	}
	wp__json_begin(&j, out);
	wp__json_str(&j, "netid", netid);
	wp__json_str(&j, "state", w[0]);
	wp__json_u64(&j, "recv_q", strtoull(w[1], NULL, 10));
	wp__json_u64(&j, "send_q", strtoull(w[2], NULL, 10));
	wp__json_str(&j, "local", w[3]);
	wp__json_str(&j, "peer", w[4]);
	if (info)
		wp__json_str(&j, "info", info);
	wp__json_end(&j);
}

static int sockets_of(const struct wp_net *net, net_printer print,
		      const char *netid, bool json, FILE *out, FILE *err)
{
	struct capture c;
	char *text, *line, *save, *w[8];
	bool header = true, pending = false;

	if (!capture_begin(&c))
		return no_memory(err);
	print(net, c.f);
	text = capture_end(&c);
	if (!text)
		return no_memory(err);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), header = false) {
		if (line[0] == '\t') { /* the details of the row before */
			if (pending)
				socket_row(w, line + strspn(line, "\t "), netid,
					   json, out);
			pending = false;
			continue;
		}
		if (pending)
			socket_row(w, NULL, netid, json, out);
		pending = !header && split_words(line, w, 8) == 5;
	}
	if (pending)
		socket_row(w, NULL, netid, json, out);
	free(text);
	return 0;
}

static void tcp_sockets(const struct wp_net *net, FILE *out)
{
	wp_tcp_print_sockets_ex(net, true, out);
}

/*
 * The system-call boundary's counters (src/api): what crossing it cost,
 * calls and copies, for the whole process and per descriptor.
 */
static void boundary_of(bool json, FILE *out)
{
	struct wp_socket_stats st;
	const uint64_t *v = (const uint64_t *)(const void *)&st;
	struct wp__json j;

	if (!json) {
		fprintf(out, "\n");
		wp_socket_print_all(out);
		wp_socket_print_stats(out);
		return;
	}
	wp_socket_get_global_stats(&st);
	wp__json_begin(&j, out);
	wp__json_str(&j, "netid", "boundary");
	for (int i = 0; i < WP_SOCKET_STAT__MAX; i++)
		wp__json_u64(&j, wp_socket_stat_name((enum wp_socket_stat)i),
			     v[i]);
	wp__json_end(&j);
}

static int view_sockets(struct wp_stack *s, bool json, FILE *out, FILE *err)
{
	int ret;

	if (need_net(s, err))
		return 1;
	if (!json)
		fprintf(out, "%-5s %-10s %6s %6s %-21s %s\n", "Netid", "State",
			"Recv-Q", "Send-Q", "Local Address:Port",
			"Peer Address:Port");
	ret = sockets_of(s->net, tcp_sockets, "tcp", json, out, err);
	if (!ret)
		ret = sockets_of(s->net, wp_udp_print_sockets, "udp", json, out,
				 err);
	if (!ret)
		boundary_of(json, out);
	return ret;
}

/* --- latency
 * -------------------------------------------------------------------
 */

/*
 * Two sources. Every packet handed up is timed from its descriptor's DMA
 * stamp to the NAPI hand-off (struct wp_stack_rx); sampled packets (1 in
 * WP_STACK_TRACE_EVERY per core) carry stamps through every stage they
 * reach (src/trace), summed per stage.
 */
static int view_latency(struct wp_stack *s, bool json, FILE *out, FILE *err)
{
	struct wp_stack_rx *rx = malloc(sizeof(*rx));
	struct wp_trace_latency *l = malloc(sizeof(*l));
	struct wp_trace_filter f;
	struct wp_trace_stats st;
	const struct wp_hist *h;

	if (!rx || !l) {
		free(rx);
		free(l);
		return no_memory(err);
	}
	wp_stack_rx_totals(s, rx);
	wp_trace_latency(s->trace, l);
	wp_trace_get_stats(s->trace, &st);
	wp_trace_get_filter(s->trace, &f);
	h = &rx->latency;
	if (json) {
		struct wp__json j;

		wp__json_begin(&j, out);
		wp__json_str(&j, "stage", "HANDOFF");
		wp__json_str(&j, "function",
			     "every packet: DMA to NAPI hand-off");
		wp__json_u64(&j, "samples", h->count);
		wp__json_u64(&j, "p50_ns", wp_hist_quantile(h, 0.5));
		wp__json_u64(&j, "p99_ns", wp_hist_quantile(h, 0.99));
		wp__json_u64(&j, "p999_ns", wp_hist_quantile(h, 0.999));
		wp__json_u64(&j, "max_ns", h->count ? h->max : 0);
		wp__json_double(&j, "mean_ns", wp_hist_mean(h));
		wp__json_end(&j);
	} else {
		fprintf(out, "Every packet handed up: descriptor write (DMA) "
			     "to NAPI hand-off, in us.\n");
		fprintf(out, "  %-11s %9s %10s %10s %10s %10s\n", "stage",
			"packets", "p50", "p99", "p99.9", "max");
		if (h->count)
			fprintf(out,
				"  %-11s %9" PRIu64
				" %10.3f %10.3f %10.3f %10.3f\n",
				"HANDOFF", h->count,
				us(wp_hist_quantile(h, 0.5)),
				us(wp_hist_quantile(h, 0.99)),
				us(wp_hist_quantile(h, 0.999)), us(h->max));
		else
			fprintf(out, "  %-11s %9s %10s %10s %10s %10s\n",
				"HANDOFF", "0", "-", "-", "-", "-");
		fputc('\n', out);
	}
	wp_trace_latency_print(l, &st, &f, json, out);
	free(rx);
	free(l);
	return 0;
}

/* --- dispatch
 * ------------------------------------------------------------------
 */

typedef int (*view_fn)(struct wp_stack *s, bool json, FILE *out, FILE *err);

/* In the order of wp_ctl_stat_views. */
static const view_fn views[] = {
	view_summary, view_interrupts, view_softnet, view_ethtool, view_netstat,
	view_drops,   view_sockets,    view_arp,     view_route,   view_latency,
};

#define NVIEWS (sizeof(views) / sizeof(views[0]))

const char *const wp_ctl_stat_views[] = {
	"summary", "interrupts", "softnet", "ethtool", "netstat", "drops",
	"sockets", "arp",	 "route",   "latency", NULL,
};

_Static_assert(sizeof(wp_ctl_stat_views) / sizeof(wp_ctl_stat_views[0]) ==
		       NVIEWS + 1,
	       "one name per view");

int wp__ctl_stat(struct wp_stack *s, int argc, char **argv, FILE *out,
		 FILE *err)
{
	const char *view = NULL;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
			continue;
		}
		if (view) {
			fprintf(err,
				"stat takes one view ('%s' and '%s' given)\n",
				view, argv[i]);
			return 2;
		}
		view = argv[i];
	}
	if (!view)
		view = "summary";
	for (size_t v = 0; v < NVIEWS; v++)
		if (strcmp(view, wp_ctl_stat_views[v]) == 0)
			return views[v](s, json, out, err);
	fprintf(err,
		"'%s' is not a view (expected summary, interrupts, softnet, "
		"ethtool, netstat, drops, sockets, arp, route or latency)\n",
		view);
	return 2;
}
