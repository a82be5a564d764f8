// SPDX-License-Identifier: MIT
/*
 * The applications of `wirepath run --app`: udp-echo and udp-sink on
 * stack B, each on its own thread, driven by datagrams a test socket on
 * A sends over the pair; the main thread runs the machine and waits for
 * the applications to be idle between steps (wp_app_idle), as the
 * virtual-time runner does. Specs parse or are refused with a message;
 * a port in use is refused; stop wakes a sleeping application.
 */
#include "test_udp_common.h"

#include <time.h>

#include "../../apps/app.h"

#define REAL_LIMIT_NS (60 * WP_NSEC_PER_SEC)

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* One step of the machine, then wait until the applications caught up. */
static void step(struct ufx *fx, struct wp_app **apps, int n)
{
	uint64_t limit = real_ns() + REAL_LIMIT_NS;
	struct timespec ts = { 0, 50000 };

	ufx_run(fx, 100 * WP_NSEC_PER_USEC);
	for (int i = 0; i < n; i++) {
		while (!wp_app_idle(apps[i])) {
			assert_true(real_ns() < limit);
			nanosleep(&ts, NULL);
		}
	}
}

static void test_parse(void **state)
{
	const struct wp_app_type *t;
	uint16_t port;
	char err[160];

	(void)state;
	assert_int_equal(
		wp_app_parse("udp-echo:7", &t, &port, NULL, err, sizeof(err)),
		0);
	assert_string_equal(t->name, "udp-echo");
	assert_int_equal(port, 7);
	assert_int_equal(wp_app_parse("udp-sink:65535", &t, &port, NULL, err,
				      sizeof(err)),
			 0);
	assert_ptr_equal(t, wp_app_find("udp-sink"));
	assert_int_equal(port, 65535);
	static const char *const bad[] = {
		"udp-echo",
		"udp-echo:",
		"udp-echo:0",
		"udp-echo:65536",
		"udp-echo:7x",
		"nope:7",
		":7",
		"udp-echo:-1",
		"a-name-much-too-long-to-be-any-app:7",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(
			wp_app_parse(bad[i], &t, &port, NULL, err, sizeof(err)),
			-EINVAL);
		assert_non_null(strstr(err, "--app"));
	}
	assert_null(wp_app_find("nope"));
	assert_non_null(wp_app_at(0));
	assert_non_null(wp_app_find("iperf3"));
	assert_non_null(wp_app_find("tcp-echo"));
	assert_null(wp_app_at(8));
}

static void test_echo_and_sink(void **state)
{
	struct ufx *fx = *state;
	struct wp_app *apps[2];
	char err[160], buf[2000];
	int fa = ufx_udp(fx->a, INADDR_ANY, 5000);
	uint32_t echoed = 0;
	struct sockaddr_in from;
	socklen_t len;
	ssize_t n;

	apps[0] = wp_app_start(wp_app_find("udp-echo"), fx->b, 7, err,
			       sizeof(err));
	assert_non_null(apps[0]);
	apps[1] = wp_app_start(wp_app_find("udp-sink"), fx->b, 9, err,
			       sizeof(err));
	assert_non_null(apps[1]);
	for (uint32_t i = 0; i < 200; i++) {
		uint32_t sz = 1 + (i * 53) % 1472;

		memset(buf, (int)i, sz);
		ufx_sendto(fa, buf, sz, UFX_IP_B, i % 2 ? 9 : 7);
		if (i % 10 == 9)
			step(fx, apps, 2);
		/* Echoes come back to A's socket, in order, intact. */
		for (;;) {
			len = sizeof(from);
			n = wp_recvfrom(fa, buf, sizeof(buf), MSG_DONTWAIT,
					UFX_SA(from), &len);
			if (n < 0)
				break;
			assert_int_equal(ntohs(from.sin_port), 7);
			assert_int_equal(ntohl(from.sin_addr.s_addr), UFX_IP_B);
			assert_int_equal(n, 1 + (echoed * 2 * 53) % 1472);
			assert_true(buf[0] == (char)(echoed * 2) &&
				    buf[n - 1] == (char)(echoed * 2));
			echoed++;
		}
	}
	step(fx, apps, 2);
	step(fx, apps, 2);
	while (wp_recv(fa, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		echoed++;
	assert_int_equal(echoed, 100);
	assert_int_equal(atomic_load(&apps[0]->handled), 100);
	assert_int_equal(atomic_load(&apps[0]->replies), 100);
	assert_int_equal(atomic_load(&apps[1]->handled), 100);
	assert_int_equal(atomic_load(&apps[0]->errors), 0);
	assert_int_equal(atomic_load(&apps[1]->errors), 0);
	{
		uint64_t bytes = 0;

		for (uint32_t i = 1; i < 200; i += 2)
			bytes += 1 + (i * 53) % 1472;
		assert_int_equal(atomic_load(&apps[1]->rx_bytes), bytes);
	}
	{
		char *text = NULL;
		size_t sz = 0;
		FILE *f = open_memstream(&text, &sz);

		wp_app_print(apps[0], f);
		fclose(f);
		assert_non_null(strstr(text, "udp-echo:7 handled 100"));
		free(text);
	}
	/* Stop wakes the sleeping threads. */
	wp_app_stop(apps[0]);
	wp_app_stop(apps[1]);
	wp_app_stop(NULL);
	assert_int_equal(wp_close(fa), 0);
}

/* Datagrams larger than a standard buffer, echoed whole. */
static void test_echo_large(void **state)
{
	struct ufx *fx = *state;
	static uint8_t out[20000], in[20001];
	char err[160];
	struct wp_app *app = wp_app_start(wp_app_find("udp-echo"), fx->b, 7,
					  err, sizeof(err));
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);

	assert_non_null(app);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 13);
	ufx_sendto(fa, out, sizeof(out), UFX_IP_B, 7);
	for (int i = 0; i < 5; i++)
		step(fx, &app, 1);
	assert_int_equal(wp_recv(fa, in, sizeof(in), MSG_DONTWAIT),
			 (ssize_t)sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	wp_app_stop(app);
	assert_int_equal(wp_close(fa), 0);
}

static void test_port_in_use(void **state)
{
	struct ufx *fx = *state;
	char err[200];
	struct wp_app *a = wp_app_start(wp_app_find("udp-sink"), fx->b, 9, err,
					sizeof(err));

	assert_non_null(a);
	err[0] = 0;
	assert_null(wp_app_start(wp_app_find("udp-echo"), fx->b, 9, err,
				 sizeof(err)));
	assert_int_equal(errno, EADDRINUSE);
	assert_non_null(strstr(err, "udp-echo:9: bind"));
	wp_app_stop(a);
	/* Free again once stopped. */
	a = wp_app_start(wp_app_find("udp-echo"), fx->b, 9, err, sizeof(err));
	assert_non_null(a);
	wp_app_stop(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_echo_and_sink, ufx_setup,
						ufx_teardown),
		cmocka_unit_test_setup_teardown(test_echo_large, ufx_setup,
						ufx_teardown),
		cmocka_unit_test_setup_teardown(test_port_in_use, ufx_setup,
						ufx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
