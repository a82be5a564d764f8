/* SPDX-License-Identifier: MIT */
/*
 * A wirepath stack: one NIC with its queues and interrupt vectors, the
 * cores that run their NAPI polls, and the backend that is its wire.
 *
 *   wp_stack_config_default(&cfg); ...set fields...;
 *   s = wp_stack_create(&cfg, err, sizeof(err));
 *   real time:    wp_stack_start(s); ... wp_stack_stop(s);
 *   virtual time: wp_stack_run_until(s, t_ns) as often as needed
 *   wp_stack_destroy(s);
 */
#ifndef WIREPATH_STACK_H
#define WIREPATH_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct wp_stack;

#define WP_STACK_STATIC_ARP_MAX 16

struct wp_stack_config {
	const char *backend;        /* sim (default) | pcap | tap | afpacket
				     * | afxdp | pair (only through
				     * wp_stack_pair_create) */
	uint16_t queues;            /* RX/TX queue pairs, each with a vector */
	uint16_t cores;             /* core threads; vector q -> core q % cores */
	uint32_t rx_ring, tx_ring;  /* descriptors per ring (ethtool -G) */
	uint32_t mtu;
	uint8_t mac[6];
	bool mac_set;               /* mac given (--mac). If not, tap and
				     * afpacket choose: the interface's own
				     * (afpacket), a seeded locally
				     * administered one (tap). After create,
				     * the stack's MAC and MTU are the ones
				     * in use (wp_stack_get_link) */
	uint32_t addr;              /* IPv4, host order */
	uint8_t prefix_len;
	uint32_t gw;                /* 0: none */
	bool vlan_drop;             /* drop 802.1Q-tagged frames (default:
				     * strip the tag) */
	uint32_t nstatic_arp;       /* static neighbours (ip neigh ...
				     * nud permanent) */
	struct {
		uint32_t ip;
		uint8_t mac[6];
	} static_arp[WP_STACK_STATIC_ARP_MAX];
	uint32_t rx_usecs;          /* ethtool -C */
	uint32_t rx_frames;
	bool adaptive_rx;
	bool busy_poll;             /* polling-driven cores, no interrupts */
	bool virtual_time;          /* time moves only in wp_stack_run_until */
	/* sim backend */
	uint64_t rate_pps;
	uint32_t frame_size;
	uint32_t flows;
	uint32_t burst_on_us, burst_off_us;
	const char *replay_pcap;
	uint64_t seed;
	/* pcap backend */
	const char *pcap_in;
	const char *pcap_out;
	uint64_t linger_ns;
	/* tap | afpacket | afxdp */
	const char *ifname;
	/* afxdp: --queue Q (NIC queue i is the interface's Q + i) and
	 * --copy / --zerocopy (WP_XDP_BIND_*: 0 auto, 1 copy, 2 zerocopy).
	 * busy_poll also makes its sockets busy poll. */
	uint32_t xdp_queue;
	uint8_t xdp_bind;
};

void wp_stack_config_default(struct wp_stack_config *cfg);

/*
 * Validate and build. On failure returns NULL with errno set and a
 * message naming the problem (and its fix, where there is one) in err.
 */
struct wp_stack *wp_stack_create(const struct wp_stack_config *cfg,
				 char *err, size_t errlen);
void wp_stack_destroy(struct wp_stack *s);

/*
 * The MAC and MTU the stack uses on its wire: the configuration's, unless
 * the backend chose (tap, afpacket: see mac_set) or lowered the MTU to
 * the interface's (afpacket). The protocol layer takes them from here.
 */
void wp_stack_get_link(const struct wp_stack *s, uint8_t mac[6],
		       uint32_t *mtu);

/* Real time: start core threads, then the backend's firmware. */
/*
 * Join two stacks on the sim backend with a crossover cable: each one's
 * transmitted frames arrive at the other's NIC (besides the frames its
 * own generator makes), in real time or virtual. Before either starts;
 * stop both before destroying either. The way to give a simulated host
 * a peer that answers: TCP handshakes, echoes, ARP. 0, or -errno with a
 * message in err (not sim, started, already linked, no memory).
 */
int wp_stack_link_sim(struct wp_stack *a, struct wp_stack *b, char *err,
		      size_t errlen);

int wp_stack_start(struct wp_stack *s);
void wp_stack_stop(struct wp_stack *s);

/* Virtual time: run firmware and cores until the clock reaches t_ns. */
int wp_stack_run_until(struct wp_stack *s, uint64_t t_ns);
uint64_t wp_stack_now(const struct wp_stack *s);

/* The backend has no more input (pcap: file done and linger passed). */
bool wp_stack_done(const struct wp_stack *s);

#ifdef __cplusplus
}
#endif

#endif
