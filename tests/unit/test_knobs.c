// SPDX-License-Identifier: MIT
/*
 * Every knob of `wirepath ethtool` and `wirepath sysctl`, turned through
 * the control path (wp_ctl_exec: what the control socket's server runs
 * for a request) on a sim stack carrying traffic, and its effect read
 * back from the views users read (`stat --json`, `ethtool -S`, `stat
 * softnet`): not only that the knob reads back, but that the stack then
 * behaves differently. Virtual time, so each window of traffic is the
 * same on any host and the comparisons are of counts, never of speed.
 */
#include "test_core_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/api.h"
#include "ctl/ctl.h"
#include "sock/fd.h"
#include "stack/stack.h"

#define WINDOW_NS (50 * WP_NSEC_PER_MSEC)

struct kfx {
	struct wp_stack *s;
	uint64_t now;
};

static int setup(void **state)
{
	struct kfx *fx = calloc(1, sizeof(*fx));
	struct wp_stack_config cfg;
	char err[256];

	if (!fx)
		return -1;
	wp_stack_config_default(&cfg);
	cfg.queues = 2;
	cfg.cores = 2;
	cfg.flows = 16;
	cfg.rate_pps = 200000;
	cfg.virtual_time = true;
	fx->s = wp_stack_create(&cfg, err, sizeof(err));
	if (!fx->s) {
		fprintf(stderr, "stack: %s\n", err);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct kfx *fx = *state;

	wp_stack_destroy(fx->s);
	free(fx);
	return 0;
}

/* %XX stands for a byte inside a word, as in the control protocol (the
 * server decodes before it runs the request). */
static char *unescape(char *w)
{
	char *o = w;

	for (char *i = w; *i; i++) {
		unsigned b;

		if (i[0] == '%' && sscanf(i + 1, "%2x", &b) == 1) {
			*o++ = (char)b;
			i += 2;
		} else {
			*o++ = *i;
		}
	}
	*o = '\0';
	return w;
}

/* Run a request ("ethtool -C rx-usecs 0"); its output in a new string. */
static char *exec(struct kfx *fx, int want, const char *line)
{
	char buf[256], *argv[16], *out_s = NULL, *err_s = NULL;
	size_t out_len, err_len;
	FILE *out, *err;
	int argc = 0, st;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok(buf, " "); w && argc < 15; w = strtok(NULL, " "))
		argv[argc++] = unescape(w);
	argv[argc] = NULL;
	out = open_memstream(&out_s, &out_len);
	err = open_memstream(&err_s, &err_len);
	assert_non_null(out);
	assert_non_null(err);
	st = wp_ctl_exec(fx->s, argc, argv, out, err);
	fclose(out);
	fclose(err);
	if (st != want)
		fail_msg("'%s': exit %d, want %d: %s", line, st, want, err_s);
	free(err_s);
	return out_s;
}

/* The number after "key": in a view's JSON output s (first occurrence,
 * or the sum of every row's with sum set: softnet has one row per core);
 * 0 if absent and not a must. */
static uint64_t json_value(const char *s, const char *key, bool sum, bool must)
{
	uint64_t v = 0;
	bool found = false;
	char pat[96];

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	for (const char *p = strstr(s, pat); p; p = strstr(p + 1, pat)) {
		v += strtoull(p + strlen(pat), NULL, 10);
		found = true;
		if (!sum)
			break;
	}
	if (!found && must)
		fail_msg("no %s in: %s", key, s);
	return v;
}

/* One value of one view, asked for now. */
static uint64_t value(struct kfx *fx, const char *view, const char *key,
		      bool sum)
{
	char *s = exec(fx, 0, view);
	uint64_t v = json_value(s, key, sum, true);

	free(s);
	return v;
}

static void run(struct kfx *fx, uint64_t ns)
{
	fx->now += ns;
	assert_int_equal(wp_stack_run_until(fx->s, fx->now), 0);
}

struct window {
	uint64_t pkts, irqs, polls, squeeze, missed, q0, q1;
};

/* The counters a window is measured by, each view asked once. */
static struct window counters(struct kfx *fx)
{
	char *sum = exec(fx, 0, "stat --json");
	char *softnet = exec(fx, 0, "stat softnet --json");
	char *eth = exec(fx, 0, "stat ethtool --json");
	struct window w = {
		.pkts = json_value(sum, "rx_packets", false, true),
		.irqs = json_value(sum, "interrupts", false, true),
		.polls = json_value(sum, "napi_polls", false, true),
		.squeeze = json_value(softnet, "time_squeeze", true, true),
		.missed = json_value(eth, "rx_missed_errors", false, true),
		.q0 = json_value(eth, "rx_queue_0_packets", false, true),
		/* (a channel switched off is not listed, as in Linux) */
		.q1 = json_value(eth, "rx_queue_1_packets", false, false),
	};

	free(sum);
	free(softnet);
	free(eth);
	return w;
}

/* What a window of traffic did, from the views. */
static struct window measure(struct kfx *fx)
{
	struct window a, b, d;

	/* What was already in the rings when the knob turned goes first. */
	run(fx, 5 * WP_NSEC_PER_MSEC);
	a = counters(fx);
	run(fx, WINDOW_NS);
	b = counters(fx);
	d.pkts = b.pkts - a.pkts;
	d.irqs = b.irqs - a.irqs;
	d.polls = b.polls - a.polls;
	d.squeeze = b.squeeze - a.squeeze;
	d.missed = b.missed - a.missed;
	d.q0 = b.q0 - a.q0;
	d.q1 = b.q1 - a.q1;
	assert_true(d.pkts > 0);
	return d;
}

/* ethtool -C: an interrupt per frame takes more interrupts per packet
 * than a 200 us timer; adaptive-rx moves the timer itself. */
static void coalescing(void **state)
{
	struct kfx *fx = *state;
	struct window slow, fast;

	run(fx, WINDOW_NS);
	free(exec(fx, 0, "ethtool -C rx-usecs 200 rx-frames 0"));
	slow = measure(fx);
	free(exec(fx, 0, "ethtool -C rx-usecs 0 rx-frames 1"));
	fast = measure(fx);
	/* irqs/pkts, compared without division */
	assert_true(fast.irqs * slow.pkts > 2 * slow.irqs * fast.pkts);
	/* Out of range: refused, nothing changed. */
	free(exec(fx, 1, "ethtool -C rx-usecs 9000"));
	assert_int_equal(value(fx, "stat --json", "rx_usecs", false), 0);
}

/* ethtool -G: with interrupts held back 1 ms, about 100 frames wait in
 * each queue's ring: a 64-entry ring overflows where 4096 does not. */
static void ring_size(void **state)
{
	struct kfx *fx = *state;
	struct window big, small;

	run(fx, WINDOW_NS);
	free(exec(fx, 0, "ethtool -C rx-usecs 1000 rx-frames 0"));
	free(exec(fx, 0, "ethtool -G rx 4096"));
	big = measure(fx);
	free(exec(fx, 0, "ethtool -G rx 64"));
	small = measure(fx);
	assert_int_equal(big.missed, 0);
	assert_true(small.missed > 0);
	assert_int_equal(value(fx, "stat --json", "rx_ring", false), 64);
}

/* ethtool -L and -X: one channel, or a table that names only queue 0,
 * and queue 1 receives nothing more. */
static void channels_and_rss(void **state)
{
	struct kfx *fx = *state;
	struct window w;

	run(fx, WINDOW_NS);
	w = measure(fx);
	assert_true(w.q0 > 0 && w.q1 > 0); /* 16 flows spread over both */
	free(exec(fx, 0, "ethtool -X equal 1"));
	w = measure(fx);
	assert_true(w.q0 > 0);
	assert_int_equal(w.q1, 0);
	free(exec(fx, 0, "ethtool -X equal 2"));
	w = measure(fx);
	assert_true(w.q1 > 0);
	free(exec(fx, 0, "ethtool -L combined 1"));
	w = measure(fx);
	assert_int_equal(w.q1, 0);
	assert_int_equal(w.q0, w.pkts);
	assert_int_equal(value(fx, "stat --json", "queues_active", false), 1);
}

/* sysctl net.core.dev_weight and netdev_budget: a smaller weight means
 * fewer packets per poll; a budget below the weight squeezes. */
static void budget_and_weight(void **state)
{
	struct kfx *fx = *state;
	struct window w64, w8, b16;

	run(fx, WINDOW_NS);
	/* Let the polls fill: interrupts only every 1 ms, about 100 frames
	 * per queue each, more than a weight of 64 takes in one poll. */
	free(exec(fx, 0, "ethtool -C rx-usecs 1000 rx-frames 0"));
	w64 = measure(fx);
	assert_int_equal(w64.squeeze, 0);
	free(exec(fx, 0, "sysctl net.core.dev_weight=8"));
	w8 = measure(fx);
	/* at most 8 packets per poll now, more than 8 before */
	assert_true(w8.pkts <= 8 * w8.polls);
	assert_true(w64.pkts > 8 * w64.polls);
	free(exec(fx, 0, "sysctl net.core.dev_weight=64"));
	free(exec(fx, 0, "sysctl net.core.netdev_budget=16"));
	b16 = measure(fx);
	assert_true(b16.squeeze > 0);
	free(exec(fx, 1, "sysctl net.core.netdev_budget=lots"));
	assert_int_equal(value(fx, "stat --json", "time_squeeze", false) > 0,
			 1);
}

/* sysctl net.ipv4.tcp_rmem / tcp_wmem: a new TCP socket's buffers;
 * net.core.rmem_default: a new UDP socket's. */
static void socket_buffers(void **state)
{
	struct kfx *fx = *state;
	struct wp_fdtable *fdt = wp_fdtable_create(16, &fx->s->clock), *old;
	int fd, v;
	socklen_t len = sizeof(v);

	assert_non_null(fdt);
	old = wp_fdtable_set_current(fdt);
	free(exec(fx, 0, "sysctl net.ipv4.tcp_rmem=4096%20200000%206291456"));
	free(exec(fx, 0, "sysctl net.ipv4.tcp_wmem=4096%2032768%204194304"));
	free(exec(fx, 0, "sysctl net.core.rmem_default=100000"));
	fd = wp_socket_net(fx->s, AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(wp_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
	assert_int_equal(v, 200000);
	assert_int_equal(wp_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	assert_int_equal(v, 32768);
	assert_int_equal(wp_close(fd), 0);
	fd = wp_socket_net(fx->s, AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(wp_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
	assert_int_equal(v, 100000);
	assert_int_equal(wp_close(fd), 0);
	wp_fdtable_set_current(old);
	wp_fdtable_destroy(fdt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(coalescing, setup, teardown),
		cmocka_unit_test_setup_teardown(ring_size, setup, teardown),
		cmocka_unit_test_setup_teardown(channels_and_rss, setup,
						teardown),
		cmocka_unit_test_setup_teardown(budget_and_weight, setup,
						teardown),
		cmocka_unit_test_setup_teardown(socket_buffers, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
