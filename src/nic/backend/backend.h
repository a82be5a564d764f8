/* SPDX-License-Identifier: MIT */
/*
 * Backends: the firmware of each wire. A backend moves frames between the
 * outside (a generator, a pcap file, a TAP device, an AF_PACKET or AF_XDP
 * socket, another stack) and the NIC model's descriptor rings:
 *
 *   receive:  wp_nic_rx_frame() / wp_nic_rx_slot()+wp_nic_rx_commit()
 *   transmit: on tx_kick (the doorbell) or in step(): wp_nic_tx_fw_next(),
 *             send it, wp_nic_tx_fw_done(), then wp_nic_tx_fw_irq()
 *   moderation timers: wp_nic_coalesce_tick(now)
 *
 * Two ways to run:
 *   real time:    start() runs the firmware on its own thread(s) until stop();
 *   virtual time: the stack calls step(now) on its own thread; the backend
 *                 does everything due by `now` and returns when it next has
 *                 something to do (WP_TIME_NEVER: nothing scheduled).
 *
 * Backends are found by name (--backend sim|pair|tap|afpacket|afxdp|pcap).
 */
#ifndef WP_NIC_BACKEND_BACKEND_H
#define WP_NIC_BACKEND_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/clock.h"

struct wp_nic;
struct wp_backend;

/* How an afxdp socket binds to its queue (--copy, --zerocopy). */
enum wp_xdp_bind {
	WP_XDP_BIND_AUTO = 0,   /* zero-copy where the driver has it, else copy */
	WP_XDP_BIND_COPY,       /* the kernel copies into UMEM (any driver) */
	WP_XDP_BIND_ZEROCOPY,   /* the driver DMAs into UMEM, or open fails */
};

/* --backend options. Unused fields are ignored by backends that do not
 * take them. */
struct wp_backend_config {
	/* sim */
	uint64_t rate_pps;        /* --rate: frames per second (0: idle) */
	uint32_t frame_size;      /* --size: bytes on the wire, 58..MTU+14 (default
				   * 64); under 60 the datagram is that short
				   * and the frame is padded to 60 */
	uint32_t flows;           /* --flows: distinct UDP 5-tuples (default 1) */
	uint32_t burst_on_us;     /* --burst ON_US:OFF_US; 0: constant rate */
	uint32_t burst_off_us;
	const char *replay_pcap;  /* sim: frames replayed from a pcap file */
	uint64_t seed;            /* generator seed */
	uint8_t dst_mac[6];       /* the stack's MAC and address: generated */
	uint32_t dst_ip;          /*   frames are addressed to it (host order) */
	bool mac_set;             /* dst_mac came from --mac: tap and afpacket
				   * use it instead of choosing their own */
	uint16_t dst_port;        /* UDP port generated frames go to (default 9) */
	/* pcap */
	const char *pcap_in;
	const char *pcap_out;
	uint64_t linger_ns;       /* time after the last input frame (default 1 s) */
	/* tap | afpacket | afxdp */
	const char *ifname;       /* --if NAME */
	/* afxdp */
	uint32_t xdp_queue;       /* --queue Q: the interface's queue for
				   * NIC queue 0 (queue i takes Q + i) */
	uint8_t xdp_bind;         /* --copy | --zerocopy: enum wp_xdp_bind */
	bool busy_poll;           /* --busy-poll: the sockets busy poll */
	/* pair: the wire end this NIC attaches to. Set only by
	 * wp_stack_pair_create (never from the command line), so a lone
	 * stack with --backend pair is refused at open. */
	void *peer;
};

struct wp_backend_ops {
	const char *name;
	/* Validate cfg and set up; -errno with a message on stderr. */
	int (*open)(struct wp_backend *be, const struct wp_backend_config *cfg);
	void (*close)(struct wp_backend *be);
	int (*start)(struct wp_backend *be);        /* real time */
	void (*stop)(struct wp_backend *be);
	uint64_t (*step)(struct wp_backend *be, uint64_t now); /* virtual time */
	/* The doorbell, from the queue's cpu. Real time: the firmware sends
	 * here or on its own thread (sim: flags the queue; its thread sees
	 * the flag within 100 us). Virtual time: only marks the queue, the
	 * next step() sends: step again after the cores ran. */
	void (*tx_kick)(struct wp_backend *be, uint16_t q);
	bool (*done)(struct wp_backend *be);        /* input exhausted (pcap) */
	/* Optional: what the wire is and its firmware counters, one
	 * "     name: value" line each (ethtool -i and -S style). */
	void (*report)(struct wp_backend *be, FILE *out);
};

struct wp_backend {
	const struct wp_backend_ops *ops;
	struct wp_nic *nic;
	struct wp_clock *clock;
	void *priv;
	/* firmware counters */
	uint64_t frames_in, frames_out;
};

void wp_backend_config_default(struct wp_backend_config *cfg);

/* NULL if no backend has that name (or it was built without its library). */
const struct wp_backend_ops *wp_backend_find(const char *name);

/*
 * Attach a backend to a NIC: nic->backend = be, be->nic = nic; then open.
 * A backend on a real interface may set the NIC's MAC (nic->cfg.mac) at
 * open: the address the stack must use on that wire.
 */
int wp_backend_open(struct wp_backend *be, const struct wp_backend_ops *ops,
		    struct wp_nic *nic, struct wp_clock *clock,
		    const struct wp_backend_config *cfg);
void wp_backend_close(struct wp_backend *be);

/* "     backend: NAME" and the backend's report, or its frame counts. */
void wp_backend_report(struct wp_backend *be, FILE *out);

extern const struct wp_backend_ops wp_backend_sim;
extern const struct wp_backend_ops wp_backend_pcap;
extern const struct wp_backend_ops wp_backend_pair;
extern const struct wp_backend_ops wp_backend_tap;
extern const struct wp_backend_ops wp_backend_afpacket;
/* Built only with libxdp and libbpf (wp_backend_find: NULL otherwise). */
extern const struct wp_backend_ops wp_backend_afxdp;

/* For backends: "wirepath: <name> backend: <message>" on stderr. */
void wp__backend_err(const struct wp_backend *be, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
