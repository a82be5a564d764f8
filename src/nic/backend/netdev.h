/* SPDX-License-Identifier: MIT */
/*
 * What the live-wire backends (tap, afpacket) share: the Linux interface
 * they sit on (ioctl(SIOC*IF*) on its name), the messages that name a
 * problem and its fix, and the doorbell that wakes a firmware thread.
 *
 * Every function returns 0 or a negative errno and prints nothing: the
 * backend words the message, since only it knows what the user typed.
 */
#ifndef WP_NIC_BACKEND_NETDEV_H
#define WP_NIC_BACKEND_NETDEV_H

#include <net/if.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nic/backend/backend.h"

/* "aa:bb:cc:dd:ee:ff" plus the NUL. */
#define WP_MAC_STR_LEN 18

void wp__mac_fmt(const uint8_t mac[6], char buf[WP_MAC_STR_LEN]);

/* Unicast (I/G bit clear) and not all zeros: usable as a station address. */
bool wp__mac_is_unicast(const uint8_t mac[6]);

/*
 * A name the kernel accepts for a new interface (dev_valid_name): 1..15
 * bytes, not "." or "..", no '/', ':' or white space. False: the backend
 * says why with wp__netdev_name_rule().
 */
bool wp__netdev_name_ok(const char *name);
const char *wp__netdev_name_rule(void);

/* ifindex, or -ENODEV. */
int wp__netdev_index(const char *name);
int wp__netdev_get_flags(const char *name, short *flags);
/* ip link set NAME up: SIOCSIFFLAGS with IFF_UP added. */
int wp__netdev_set_up(const char *name);
int wp__netdev_get_mtu(const char *name, uint32_t *mtu);
int wp__netdev_set_mtu(const char *name, uint32_t mtu);
/* The hardware address; -EPROTOTYPE if the link is not Ethernet. */
int wp__netdev_get_mac(const char *name, uint8_t mac[6]);
/*
 * ethtool -i: the driver's name and bus info (a TAP: "tun" and "tap", a
 * TUN: "tun" and "tun"). Through an ioctl, so it answers for the calling
 * thread's network namespace (sysfs answers for the one it was mounted in).
 */
int wp__netdev_driver(const char *name, char drv[32], char bus[32]);

/*
 * The firmware counters a live backend keeps per queue. One writer (the
 * queue's firmware thread); the control path reads them at any time, so
 * each is a relaxed atomic load and store.
 */
static inline void wp__fw_count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline uint64_t wp__fw_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/*
 * A doorbell for a firmware thread that sleeps in poll(): an eventfd it
 * polls, written only when the flag goes from clear to set, so a burst of
 * doorbells costs one write(2) until the firmware has answered.
 *
 *   driver (any thread):   wp__doorbell_ring()
 *   firmware:              poll() sees fd readable -> wp__doorbell_take()
 *                          -> service the queue
 *
 * No lost wake-up: take() drains the eventfd before it clears the flag,
 * so a ring() that found the flag set is seen by this take(), and one
 * that found it clear writes the eventfd again after it.
 */
struct wp__doorbell {
	int fd;
	_Atomic bool rung;
};

int wp__doorbell_init(struct wp__doorbell *db);
void wp__doorbell_fini(struct wp__doorbell *db);
/* Release: what the caller wrote (TDT) is seen by the firmware's take. */
void wp__doorbell_ring(struct wp__doorbell *db);
/* Firmware, when poll() finds the fd readable: drains it; true if rung
 * since the last take (acquire: pairs with ring). */
bool wp__doorbell_take(struct wp__doorbell *db);

/* A timespec for ppoll() from now to deadline (NULL: no deadline). */
struct timespec;
struct timespec *wp__fw_timeout(struct timespec *ts, uint64_t now,
				uint64_t deadline);

/* The message for EPERM/EACCES: names the capability and the fix. */
void wp__backend_err_priv(const struct wp_backend *be, const char *what,
			  const char *cap);

/* "name: value" report lines, ethtool -i / -S style. */
void wp__report_str(FILE *out, const char *key, const char *val);
void wp__report_u64(FILE *out, const char *key, uint64_t val);

#endif
