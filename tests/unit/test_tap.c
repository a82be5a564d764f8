// SPDX-License-Identifier: MIT
/*
 * The tap backend on real TAP devices, in a network namespace of the
 * test's own: the device is created, brought up at our MTU and removed
 * with the stack; frames the kernel sends out of it are counted at the
 * stack intact; frames the stack transmits reach the kernel intact; with
 * several queues the kernel's TAP queue choice spreads flows and keeps
 * each on one queue; a full ring counts rx_missed_errors and the kernel
 * queue never backs up; moderation timers fire with no frame to carry
 * them; and every refusal names the problem and its fix and leaves no
 * device behind.
 *
 * Skipped (with the reason) when not root or without /dev/net/tun.
 */
#include "test_wire_rig.h"

#include <linux/if_tun.h>

#include "nic/backend/netdev.h"

static const uint8_t kmac_any[6] = { 0x02, 0x4b, 0x45, 0x52, 0x4e, 0x4c };

/* The kernel side's MAC, for frames addressed to it. */
static void kernel_mac(const char *ifname, uint8_t mac[6])
{
	wt_if_mac(ifname, mac);
}

/* A tap fd of the test's own: TUNSETIFF with flags; -errno on failure. */
static int test_tap_open(const char *name, short flags)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), ret;

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = flags;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* A persistent TAP nobody holds (as `ip tuntap add` makes). */
static void persistent_tap(const char *name, short extra)
{
	int fd = test_tap_open(name, IFF_TAP | IFF_NO_PI | extra);

	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, TUNSETPERSIST, 1), 0);
	close(fd);
	assert_true(wt_if_exists(name));
}

static void persistent_tap_remove(const char *name, short extra)
{
	int fd = test_tap_open(name, IFF_TAP | IFF_NO_PI | extra);

	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, TUNSETPERSIST, 0), 0);
	close(fd);
	assert_false(wt_if_exists(name));
}

static bool is_local_unicast(const uint8_t mac[6])
{
	return (mac[0] & 0x02) && !(mac[0] & 0x01);
}

/* --- the device ----------------------------------------------------------- */

static void device_created_up_and_removed(void **state)
{
	struct wp_stack_config c;
	uint8_t mac[6], kmac[6], mac2[6];
	struct wt_rig *r;
	uint32_t mtu;
	short flags;

	WT_REQUIRE();
	assert_false(wt_if_exists("wptap0"));
	wt_config(&c, "tap", "wptap0", 1);
	c.mtu = 1400;
	r = wt_rig_create(&c);
	assert_true(wt_if_exists("wptap0"));
	wt_if_flags("wptap0", &flags);
	assert_true(flags & IFF_UP);
	assert_int_equal(wt_if_mtu("wptap0"), 1400);

	/* The stack's MAC: seeded, locally administered, not the kernel's. */
	wp_stack_get_link(r->s, mac, &mtu);
	assert_int_equal(mtu, 1400);
	kernel_mac("wptap0", kmac);
	assert_true(is_local_unicast(mac));
	assert_memory_not_equal(mac, kmac, 6);
	assert_memory_equal(r->s->nic->cfg.mac, mac, 6);
	assert_true(wt_report_has(r->s, "created by wirepath"));
	assert_int_equal(wt_report_u64(r->s, "mtu"), 1400);
	wt_rig_destroy(r);
	/* Ours, not persistent: gone with its fds. */
	assert_false(wt_if_exists("wptap0"));

	/* Same seed and name: same MAC; another seed or name: another. */
	r = wt_rig_create(&c);
	wp_stack_get_link(r->s, mac2, NULL);
	assert_memory_equal(mac, mac2, 6);
	wt_rig_destroy(r);
	c.seed = 2;
	r = wt_rig_create(&c);
	wp_stack_get_link(r->s, mac2, NULL);
	assert_memory_not_equal(mac, mac2, 6);
	assert_true(is_local_unicast(mac2));
	wt_rig_destroy(r);
	c.seed = 1;
	c.ifname = "wptap1";
	r = wt_rig_create(&c);
	wp_stack_get_link(r->s, mac2, NULL);
	assert_memory_not_equal(mac, mac2, 6);
	wt_rig_destroy(r);

	/* --mac is used as given; a jumbo MTU goes to the device too. */
	c.ifname = "wptap0";
	c.mac_set = true;
	memcpy(c.mac, kmac_any, 6);
	c.mtu = 9000;
	r = wt_rig_create(&c);
	wp_stack_get_link(r->s, mac2, &mtu);
	assert_memory_equal(mac2, kmac_any, 6);
	assert_int_equal(mtu, 9000);
	assert_int_equal(wt_if_mtu("wptap0"), 9000);
	wt_rig_destroy(r);
	assert_false(wt_if_exists("wptap0"));
	assert_false(wt_if_exists("wptap1"));
}

/* A name with %d is numbered by the kernel; the report names the result. */
static void numbered_name(void **state)
{
	struct wp_stack_config c;
	struct wt_rig *r;

	WT_REQUIRE();
	wt_config(&c, "tap", "wpn%d", 1);
	r = wt_rig_create(&c);
	assert_true(wt_if_exists("wpn0"));
	assert_true(wt_report_has(r->s, "interface: wpn0"));
	wt_rig_destroy(r);
	assert_false(wt_if_exists("wpn0"));
}

/* --- frames both ways ----------------------------------------------------- */

static void kernel_frames_reach_the_stack(void **state)
{
	struct wp_stack_config c;
	struct wp_nic_stats st;
	uint8_t f[1514], mac[6], kmac[6];
	const uint32_t n = 400;
	struct wt_rig *r;
	int ks;

	WT_REQUIRE();
	wt_config(&c, "tap", "wptap0", 1);
	r = wt_rig_create(&c);
	wt_rig_start(r);
	wp_stack_get_link(r->s, mac, NULL);
	kernel_mac("wptap0", kmac);
	ks = wt_ksock("wptap0");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = wt_len_of(i, 1514);

		wt_frame(f, len, mac, kmac, i, (uint16_t)(i % 8));
		wt_ksend(ks, f, len);
	}
	assert_true(wt_wait_ge_a(&r->cap->frames, n, 5000));
	assert_int_equal(atomic_load(&r->cap->bad), 0);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(atomic_load(&r->cap->seen[i]), 1);
	wp_nic_get_stats(r->s->nic, &st);
	assert_true(st.rx_packets >= n);
	assert_int_equal(st.rx_missed_errors, 0);
	assert_int_equal(st.rx_length_errors, 0);
	assert_true(__atomic_load_n(&r->s->backend.frames_in,
				    __ATOMIC_RELAXED) >= n);
	assert_int_equal(wt_report_u64(r->s, "fw_rx_missed"), 0);
	assert_true(wt_report_u64(r->s, "fw_rx_frames") >= n);
	wt_kclose(ks);
	wt_rig_destroy(r);
	assert_false(wt_if_exists("wptap0"));
}

/* Collect test frames on the kernel side until `want` distinct arrived. */
static uint32_t kernel_collect(int ks, uint8_t *seen, uint32_t nseen,
			       uint32_t want, uint32_t *bad)
{
	uint8_t buf[9100];
	uint32_t got = 0;

	while (got < want) {
		ssize_t len = wt_krecv(ks, buf, sizeof(buf), 3000);
		uint32_t seq;
		uint16_t flow;
		int p;

		if (len < 0)
			break;
		p = wt_parse(buf, (uint32_t)len, 14, &seq, &flow);
		if (p < 0)
			(*bad)++;
		if (p <= 0 || seq >= nseen)
			continue;
		if (!seen[seq]++)
			got++;
	}
	return got;
}

static void stack_frames_reach_the_kernel(void **state)
{
	static uint8_t seen[1 << 16];
	struct wp_stack_config c;
	struct wp_nic_stats st;
	const uint32_t n = 500;
	uint8_t kmac[6];
	uint32_t bad = 0;
	struct wt_rig *r;
	int ks;

	WT_REQUIRE();
	memset(seen, 0, sizeof(seen));
	wt_config(&c, "tap", "wptap0", 1);
	r = wt_rig_create(&c);
	ks = wt_ksock("wptap0");
	wt_rig_start(r);
	kernel_mac("wptap0", kmac);
	wt_rig_send(r, 0, kmac, n);
	assert_int_equal(kernel_collect(ks, seen, sizeof(seen), n, &bad), n);
	assert_int_equal(bad, 0);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(seen[i], 1); /* each once */
	assert_true(wt_wait_ge(&r->s->backend.frames_out, n, 2000));
	assert_int_equal(atomic_load(&r->tx[0].errors), 0);
	wp_stack_stop(r->s);
	wp_nic_get_stats(r->s->nic, &st);
	assert_int_equal(st.tx_packets, r->s->backend.frames_out);
	assert_int_equal(wt_report_u64(r->s, "fw_tx_frames"),
			 r->s->backend.frames_out);
	/* Beyond ours: what the protocol layer sent (a gratuitous ARP). */
	assert_true(r->s->backend.frames_out - n <= 4);
	assert_int_equal(wt_report_u64(r->s, "fw_tx_errors"), 0);
	wt_kclose(ks);
	wt_rig_destroy(r);
}

/*
 * Four queues, four cores, four firmware threads: the kernel spreads 64
 * flows over the TAP's queues and keeps each flow on one; then every core
 * transmits at once and the kernel gets every frame.
 */
static void multi_queue_spreads_flows(void **state)
{
	static uint8_t seen[1 << 16];
	const uint32_t flows = 64, per_flow = 16, per_q = 300;
	struct wp_stack_config c;
	uint8_t f[1514], mac[6], kmac[6];
	uint32_t bad = 0, busy_queues = 0, n = 0;
	struct wt_rig *r;
	int ks;

	WT_REQUIRE();
	memset(seen, 0, sizeof(seen));
	wt_config(&c, "tap", "wpmq0", 4);
	r = wt_rig_create(&c);
	assert_true(wt_report_has(r->s, "multi_queue: yes"));
	wt_rig_start(r);
	wp_stack_get_link(r->s, mac, NULL);
	kernel_mac("wpmq0", kmac);
	ks = wt_ksock("wpmq0");
	for (uint32_t k = 0; k < per_flow; k++)
		for (uint32_t fl = 0; fl < flows; fl++, n++) {
			uint32_t len = wt_len_of(n, 1514);

			wt_frame(f, len, mac, kmac, n, (uint16_t)fl);
			wt_ksend(ks, f, len);
		}
	assert_true(wt_wait_ge_a(&r->cap->frames, n, 5000));
	assert_int_equal(atomic_load(&r->cap->bad), 0);
	assert_int_equal(atomic_load(&r->cap->flow_moved), 0);
	for (uint16_t q = 0; q < 4; q++)
		busy_queues += atomic_load(&r->cap->per_queue[q]) > 0;
	/* 64 flows on 4 queues: an empty queue has odds of ~4 * 0.75^64. */
	assert_int_equal(busy_queues, 4);

	for (uint16_t q = 0; q < 4; q++)
		wt_rig_send(r, q, kmac, per_q);
	assert_int_equal(
		kernel_collect(ks, seen, sizeof(seen), 4 * per_q, &bad),
		4 * per_q);
	assert_int_equal(bad, 0);
	for (uint16_t q = 0; q < 4; q++)
		assert_int_equal(atomic_load(&r->tx[q].errors), 0);
	wt_kclose(ks);
	wt_rig_destroy(r);
	assert_false(wt_if_exists("wpmq0"));
}

/*
 * No core polls: the ring (64) fills, every later frame is read into the
 * scratch buffer and counted missed, and the kernel's queue keeps
 * draining (all n frames are accounted for at the firmware).
 */
static void full_ring_counts_missed(void **state)
{
	struct wp_stack_config c;
	struct wp_nic_stats st;
	uint8_t f[1514], mac[6], kmac[6];
	const uint32_t n = 300;
	struct wt_rig *r;
	int ks;

	WT_REQUIRE();
	wt_config(&c, "tap", "wptap0", 1);
	c.rx_ring = 64;
	r = wt_rig_create(&c);
	assert_int_equal(r->s->backend.ops->start(&r->s->backend), 0);
	wp_stack_get_link(r->s, mac, NULL);
	kernel_mac("wptap0", kmac);
	ks = wt_ksock("wptap0");
	for (uint32_t i = 0; i < n; i++) {
		wt_frame(f, 200, mac, kmac, i, 0);
		wt_ksend(ks, f, 200);
	}
	assert_true(wt_wait_ge(&r->s->backend.frames_in, n, 5000));
	r->s->backend.ops->stop(&r->s->backend);
	wp_nic_get_stats(r->s->nic, &st);
	assert_int_equal(wp_nic_rx_pending(r->s->nic, 0), 64);
	assert_int_equal(st.rx_missed_errors, r->s->backend.frames_in - 64);
	assert_int_equal(wt_report_u64(r->s, "fw_rx_missed"),
			 r->s->backend.frames_in - 64);
	wt_kclose(ks);
	wt_rig_destroy(r);
}

/*
 * The device's MTU raised under us: a frame longer than MTU + 14 but
 * within the buffer, and one longer than the buffer (read on into the
 * scratch), are both rx_length_errors; the frame between them arrives.
 */
static void oversize_frames_are_length_errors(void **state)
{
	struct wp_stack_config c;
	struct wp_nic_stats st;
	uint8_t f[4000], mac[6], kmac[6];
	struct wt_rig *r;
	int ks;

	WT_REQUIRE();
	wt_config(&c, "tap", "wptap0", 1);
	r = wt_rig_create(&c);
	wt_rig_start(r);
	wt_if_set_mtu("wptap0", 3986);
	wp_stack_get_link(r->s, mac, NULL);
	kernel_mac("wptap0", kmac);
	ks = wt_ksock("wptap0");
	wt_frame(f, 1600, mac, kmac, 1, 0);
	wt_ksend(ks, f, 1600);
	wt_frame(f, 500, mac, kmac, 2, 0);
	wt_ksend(ks, f, 500);
	wt_frame(f, 4000, mac, kmac, 3, 0);
	wt_ksend(ks, f, 4000);
	assert_true(wt_wait_ge(&r->s->backend.frames_in, 3, 3000));
	assert_true(wt_wait_ge_a(&r->cap->frames, 1, 3000));
	wp_stack_stop(r->s);
	wp_nic_get_stats(r->s->nic, &st);
	assert_int_equal(st.rx_length_errors, 2);
	assert_int_equal(wt_report_u64(r->s, "fw_rx_oversize"), 1);
	assert_int_equal(atomic_load(&r->cap->seen[2]), 1);
	assert_int_equal(atomic_load(&r->cap->frames), 1);
	wt_kclose(ks);
	wt_rig_destroy(r);
}

/*
 * rx-usecs 3000 with rx-frames high: one frame raises no interrupt of its
 * own; the firmware's ppoll() times out at the moderation deadline and
 * the timer fires it, about 3 ms after the DMA.
 */
static void moderation_timer_fires_without_traffic(void **state)
{
	struct wp_stack_config c;
	uint8_t f[100], mac[6], kmac[6];
	struct wt_rig *r;
	uint64_t lat;
	int ks;

	WT_REQUIRE();
	wt_config(&c, "tap", "wptap0", 1);
	c.rx_usecs = 3000;
	c.rx_frames = 64;
	r = wt_rig_create(&c);
	wt_rig_start(r);
	wp_stack_get_link(r->s, mac, NULL);
	kernel_mac("wptap0", kmac);
	ks = wt_ksock("wptap0");
	/* The protocol layer's gratuitous ARP goes first: its TX completion
	 * raises the shared vector and would carry our frame up early. */
	assert_true(wt_wait_ge(&r->s->backend.frames_out, 1, 2000));
	wt_sleep_us(20000);
	wt_frame(f, 100, mac, kmac, 7, 0);
	wt_ksend(ks, f, 100);
	assert_true(wt_wait_ge_a(&r->cap->frames, 1, 3000));
	lat = atomic_load(&r->cap->last_latency_ns);
	print_message("moderated latency: %.2f ms\n", lat / 1e6);
	/* Held for rx-usecs (the frame count is never reached), and then
	 * delivered by the timer: wt_wait_ge_a saw it arrive. */
	assert_true(lat >= 2900 * WP_NSEC_PER_USEC);
	wt_kclose(ks);
	wt_rig_destroy(r);
}

static bool ring_filled(struct wp_nic *nic, uint16_t q, uint64_t ms)
{
	struct wp_rx_queue *rxq = &nic->rxq[q];
	uint64_t end = wt_now_ms() + ms;

	do {
		uint32_t h = atomic_load(&rxq->rdh), t = atomic_load(&rxq->rdt);

		if (t - h == rxq->size)
			return true;
		wt_sleep_us(1000);
	} while (wt_now_ms() < end);
	return false;
}

/*
 * ip link set down / up on our NIC while frames flow: frames that arrive
 * while it is down are read and counted missed, then traffic resumes.
 */
static void nic_down_up_while_running(void **state)
{
	struct wp_stack_config c;
	struct wp_nic_stats st;
	uint8_t f[300], mac[6], kmac[6];
	struct wt_rig *r;
	uint64_t before;
	int ks;

	WT_REQUIRE();
	wt_config(&c, "tap", "wptap0", 2);
	r = wt_rig_create(&c);
	wt_rig_start(r);
	wp_stack_get_link(r->s, mac, NULL);
	kernel_mac("wptap0", kmac);
	ks = wt_ksock("wptap0");
	wp_nic_down(r->s->nic);
	for (uint32_t i = 0; i < 50; i++) {
		wt_frame(f, 300, mac, kmac, i, (uint16_t)i);
		wt_ksend(ks, f, 300);
	}
	assert_true(wt_wait_ge(&r->s->backend.frames_in, 50, 3000));
	wp_nic_get_stats(r->s->nic, &st);
	assert_int_equal(st.rx_missed_errors, 50);
	assert_int_equal(atomic_load(&r->cap->frames), 0);
	assert_int_equal(wp_nic_up(r->s->nic), 0);
	/* Up: each core refills its ring at its first poll; until then a
	 * frame finds no descriptor (missed), as after an ifup. */
	for (uint16_t q = 0; q < 2; q++)
		assert_true(ring_filled(r->s->nic, q, 2000));
	before = atomic_load(&r->cap->frames);
	for (uint32_t i = 100; i < 150; i++) {
		wt_frame(f, 300, mac, kmac, i, (uint16_t)i);
		wt_ksend(ks, f, 300);
	}
	assert_true(wt_wait_ge_a(&r->cap->frames, before + 50, 3000));
	wt_kclose(ks);
	wt_rig_destroy(r);
}

static void start_stop_cycles(void **state)
{
	struct wp_stack_config c;
	uint8_t f[100], mac[6], kmac[6];
	struct wt_rig *r;
	int ks;

	WT_REQUIRE();
	wt_config(&c, "tap", "wptap0", 2);
	r = wt_rig_create(&c);
	wt_rig_start(r);
	assert_int_equal(r->s->backend.ops->start(&r->s->backend), -EBUSY);
	wp_stack_get_link(r->s, mac, NULL);
	kernel_mac("wptap0", kmac);
	ks = wt_ksock("wptap0");
	for (int round = 0; round < 3; round++) {
		wt_frame(f, 100, mac, kmac, (uint32_t)round, (uint16_t)round);
		wt_ksend(ks, f, 100);
		assert_true(wt_wait_ge_a(&r->cap->frames, (uint64_t)round + 1,
					 3000));
		wp_stack_stop(r->s);
		assert_int_equal(wp_stack_start(r->s), 0);
	}
	wt_kclose(ks);
	wt_rig_destroy(r);
}

/*
 * The device deleted under a running stack (ip link del): the firmware
 * says so once, stops polling the dead fd (no busy loop), counts what it
 * can no longer send, and the stack still stops and frees cleanly.
 */
static void device_deleted_while_running(void **state)
{
	struct wp_stack_config c;
	struct wt_errcap cap;
	uint64_t wakeups;
	uint8_t kmac[6];
	struct wt_rig *r;

	WT_REQUIRE();
	if (system("ip -V >/dev/null 2>&1") != 0) {
		print_message("[   SKIP   ] needs iproute2's ip\n");
		skip();
	}
	wt_config(&c, "tap", "wpgone0", 1);
	r = wt_rig_create(&c);
	wt_rig_start(r);
	kernel_mac("wpgone0", kmac);
	assert_true(wt_wait_ge(&r->s->backend.frames_out, 1, 2000));
	wt_errcap_begin(&cap);
	assert_int_equal(system("ip link del wpgone0"), 0);
	wt_sleep_us(50000);
	wakeups = wt_report_u64(r->s, "fw_wakeups");
	wt_sleep_us(100000);
	/* Idle: the dead fd is out of the poll set. */
	assert_true(wt_report_u64(r->s, "fw_wakeups") - wakeups < 10);
	wt_rig_send(r, 0, kmac, 10);
	assert_true(wt_wait_ge(&r->s->backend.frames_out, 11, 2000));
	wp_stack_stop(r->s);
	assert_non_null(strstr(wt_errcap_end(&cap), "the TAP device is gone"));
	assert_int_equal(wt_report_u64(r->s, "fw_tx_errors"), 10);
	assert_true(wt_report_has(r->s, "link: gone"));
	wt_rig_destroy(r);
	assert_false(wt_if_exists("wpgone0"));
}

/* --- an existing device --------------------------------------------------- */

static void existing_tap_is_attached_and_left(void **state)
{
	struct wp_stack_config c;
	uint8_t f[100], mac[6], kmac[6];
	struct wt_rig *r;
	int ks;

	WT_REQUIRE();
	persistent_tap("wpkeep0", 0);
	wt_config(&c, "tap", "wpkeep0", 1);
	r = wt_rig_create(&c);
	assert_true(wt_report_has(r->s, "an existing TAP"));
	wt_rig_start(r);
	wp_stack_get_link(r->s, mac, NULL);
	kernel_mac("wpkeep0", kmac);
	ks = wt_ksock("wpkeep0");
	wt_frame(f, 100, mac, kmac, 1, 0);
	wt_ksend(ks, f, 100);
	assert_true(wt_wait_ge_a(&r->cap->frames, 1, 3000));
	wt_kclose(ks);
	wt_rig_destroy(r);
	assert_true(wt_if_exists("wpkeep0"));
	persistent_tap_remove("wpkeep0", 0);

	/* One queue on a multi-queue TAP: one of its queues. */
	persistent_tap("wpkeep1", IFF_MULTI_QUEUE);
	wt_config(&c, "tap", "wpkeep1", 1);
	r = wt_rig_create(&c);
	assert_true(wt_report_has(r->s, "multi_queue: yes"));
	wt_rig_destroy(r);
	assert_true(wt_if_exists("wpkeep1"));
	persistent_tap_remove("wpkeep1", IFF_MULTI_QUEUE);
}

/* --- refusals ------------------------------------------------------------- */

/* wp_stack_create must fail with err and say `want`; stderr too. */
static void refused(const struct wp_stack_config *c, int err, const char *want)
{
	struct wt_errcap cap;
	char msg[256];
	struct wp_stack *s;
	const char *said;

	wt_errcap_begin(&cap);
	s = wp_stack_create(c, msg, sizeof(msg));
	said = wt_errcap_end(&cap);
	assert_null(s);
	assert_int_equal(errno, err);
	if (!strstr(said, want))
		fail_msg("expected \"%s\" in: %s", want, said);
	assert_non_null(strstr(said, "wirepath: tap backend: "));
}

static void refusals_name_the_fix(void **state)
{
	struct wp_stack_config c;
	uint8_t kmac[6];
	int fd;

	WT_REQUIRE();
	wt_config(&c, "tap", NULL, 1);
	refused(&c, EINVAL, "needs --if NAME");
	c.ifname = "a/b";
	refused(&c, EINVAL, "1..15 characters");
	c.ifname = "wpaveryveryverylongname";
	refused(&c, EINVAL, "1..15 characters");
	c.ifname = "lo";
	refused(&c, EINVAL,
		"is not a TAP device: drive it with --backend "
		"afpacket");
	c.ifname = "wptap0";
	c.virtual_time = true;
	refused(&c, ENOTSUP, "real time only");
	assert_false(wt_if_exists("wptap0"));
	c.virtual_time = false;
	c.mac_set = true;
	memcpy(c.mac, (uint8_t[]){ 0x01, 0, 0x5e, 0, 0, 1 }, 6);
	refused(&c, EINVAL, "must be unicast");
	memset(c.mac, 0, 6);
	refused(&c, EINVAL, "must be unicast");
	assert_false(wt_if_exists("wptap0"));

	/* The queue is taken: another program holds the single-queue TAP. */
	fd = test_tap_open("wpbusy0", IFF_TAP | IFF_NO_PI);
	assert_true(fd >= 0);
	wt_config(&c, "tap", "wpbusy0", 1);
	refused(&c, EBUSY, "is in use");
	/* And it is a single-queue TAP: two queues cannot attach. */
	wt_config(&c, "tap", "wpbusy0", 2);
	refused(&c, EINVAL, "multi_queue");
	/* --mac equal to the kernel side's own address. */
	close(fd);
	assert_false(wt_if_exists("wpbusy0"));

	persistent_tap("wpkeep2", 0);
	kernel_mac("wpkeep2", kmac);
	wt_config(&c, "tap", "wpkeep2", 1);
	c.mac_set = true;
	memcpy(c.mac, kmac, 6);
	refused(&c, EINVAL, "own address (the kernel side)");
	assert_true(wt_if_exists("wpkeep2")); /* not ours: left alone */
	persistent_tap_remove("wpkeep2", 0);

	/* A TUN device of that name. */
	fd = test_tap_open("wptun0", IFF_TUN | IFF_NO_PI);
	assert_true(fd >= 0);
	wt_config(&c, "tap", "wptun0", 1);
	refused(&c, EINVAL, "is a TUN device");
	close(fd);
}

static int open_unprivileged(void *arg)
{
	struct wp_stack_config c;
	struct wt_errcap cap;
	char msg[256];
	struct wp_stack *s;
	const char *said;

	wt_config(&c, "tap", "wpnopriv0", 1);
	wt_errcap_begin(&cap);
	s = wp_stack_create(&c, msg, sizeof(msg));
	said = wt_errcap_end(&cap);
	if (s)
		return 1;
	if (errno != EACCES && errno != EPERM)
		return 2;
	if (!strstr(said, "needs CAP_NET_ADMIN: run as root"))
		return 3;
	return 0;
}

/* A TAP prepared for the user (owner nobody, up, MTU 1500): no
 * privilege is needed to drive it. 77: /dev/net/tun is root's only. */
static int attach_unprivileged(void *arg)
{
	struct wp_stack_config c;
	char msg[256];
	struct wp_stack *s;

	if (access("/dev/net/tun", R_OK | W_OK) != 0)
		return 77;
	wt_config(&c, "tap", "wpuser0", 1);
	s = wp_stack_create(&c, msg, sizeof(msg));
	if (!s)
		return 1;
	if (wp_stack_start(s))
		return 2;
	wp_stack_stop(s);
	wp_stack_destroy(s);
	return 0;
}

static void prepared_tap_needs_no_privilege(void **state)
{
	int fd, ret;

	WT_REQUIRE();
	fd = test_tap_open("wpuser0", IFF_TAP | IFF_NO_PI);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, TUNSETOWNER, 65534), 0);
	assert_int_equal(ioctl(fd, TUNSETPERSIST, 1), 0);
	close(fd);
	wt_if_set_up("wpuser0", true);
	ret = wt_run_unprivileged(attach_unprivileged, NULL);
	assert_true(wt_if_exists("wpuser0"));
	persistent_tap_remove("wpuser0", 0);
	if (ret == 77) {
		print_message("[   SKIP   ] /dev/net/tun is not open to "
			      "users here\n");
		skip();
	}
	assert_int_equal(ret, 0);
}

static void no_privileges_is_refused(void **state)
{
	WT_REQUIRE();
	assert_int_equal(wt_run_unprivileged(open_unprivileged, NULL), 0);
	assert_false(wt_if_exists("wpnopriv0"));
}

static int group_setup(void **state)
{
	wt_env_init(true);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(device_created_up_and_removed,
					  wt_teardown),
		cmocka_unit_test_teardown(numbered_name, wt_teardown),
		cmocka_unit_test_teardown(kernel_frames_reach_the_stack,
					  wt_teardown),
		cmocka_unit_test_teardown(stack_frames_reach_the_kernel,
					  wt_teardown),
		cmocka_unit_test_teardown(multi_queue_spreads_flows,
					  wt_teardown),
		cmocka_unit_test_teardown(full_ring_counts_missed, wt_teardown),
		cmocka_unit_test_teardown(oversize_frames_are_length_errors,
					  wt_teardown),
		cmocka_unit_test_teardown(
			moderation_timer_fires_without_traffic, wt_teardown),
		cmocka_unit_test_teardown(nic_down_up_while_running,
					  wt_teardown),
		cmocka_unit_test_teardown(start_stop_cycles, wt_teardown),
		cmocka_unit_test_teardown(device_deleted_while_running,
					  wt_teardown),
		cmocka_unit_test_teardown(existing_tap_is_attached_and_left,
					  wt_teardown),
		cmocka_unit_test_teardown(refusals_name_the_fix, wt_teardown),
		cmocka_unit_test_teardown(prepared_tap_needs_no_privilege,
					  wt_teardown),
		cmocka_unit_test_teardown(no_privileges_is_refused,
					  wt_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
