// SPDX-License-Identifier: MIT
/*
 * Linux interface helpers for the live-wire backends (tap, afpacket).
 */
#include "nic/backend/netdev.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

void wp__mac_fmt(const uint8_t mac[6], char buf[WP_MAC_STR_LEN])
{
	snprintf(buf, WP_MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5]);
}

bool wp__mac_is_unicast(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

bool wp__netdev_name_ok(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len >= IFNAMSIZ)
		return false;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || *p == ' ' || *p == '\t' ||
		    *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')
			return false;
	return true;
}

const char *wp__netdev_name_rule(void)
{
	return "an interface name is 1..15 characters, not . or .., without "
	       "'/', ':' or spaces";
}

int wp__netdev_index(const char *name)
{
	unsigned int idx;

	if (!wp__netdev_name_ok(name))
		return -ENODEV;
	idx = if_nametoindex(name);
	return idx ? (int)idx : -ENODEV;
}

/* One ioctl on a throwaway socket: the interface calls are rare (open,
 * report), so no socket is kept around. */
static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int fd, ret = 0;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, req, ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int ifreq_for(struct ifreq *ifr, const char *name)
{
	if (!wp__netdev_name_ok(name))
		return -EINVAL;
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, name, strlen(name) + 1);
	return 0;
}

int wp__netdev_get_flags(const char *name, short *flags)
{
	struct ifreq ifr;
	int ret = ifreq_for(&ifr, name);

	if (!ret)
		ret = if_ioctl(SIOCGIFFLAGS, &ifr);
	if (!ret)
		*flags = ifr.ifr_flags;
	return ret;
}

int wp__netdev_set_up(const char *name)
{
	struct ifreq ifr;
	int ret = ifreq_for(&ifr, name);

	if (!ret)
		ret = if_ioctl(SIOCGIFFLAGS, &ifr);
	if (ret || (ifr.ifr_flags & IFF_UP))
		return ret;
	ifr.ifr_flags |= IFF_UP;
	return if_ioctl(SIOCSIFFLAGS, &ifr);
}

int wp__netdev_get_mtu(const char *name, uint32_t *mtu)
{
	struct ifreq ifr;
	int ret = ifreq_for(&ifr, name);

	if (!ret)
		ret = if_ioctl(SIOCGIFMTU, &ifr);
	if (!ret)
		*mtu = (uint32_t)ifr.ifr_mtu;
	return ret;
}

int wp__netdev_set_mtu(const char *name, uint32_t mtu)
{
	struct ifreq ifr;
	int ret = ifreq_for(&ifr, name);

	if (ret)
		return ret;
	ifr.ifr_mtu = (int)mtu;
	return if_ioctl(SIOCSIFMTU, &ifr);
}

int wp__netdev_get_mac(const char *name, uint8_t mac[6])
{
	struct ifreq ifr;
	int ret = ifreq_for(&ifr, name);

	if (!ret)
		ret = if_ioctl(SIOCGIFHWADDR, &ifr);
	if (ret)
		return ret;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EPROTOTYPE;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

int wp__netdev_driver(const char *name, char drv[32], char bus[32])
{
	struct ethtool_drvinfo info;
	struct ifreq ifr;
	int ret = ifreq_for(&ifr, name);

	if (ret)
		return ret;
	memset(&info, 0, sizeof(info));
	info.cmd = ETHTOOL_GDRVINFO;
	ifr.ifr_data = (void *)&info;
	ret = if_ioctl(SIOCETHTOOL, &ifr);
	if (ret)
		return ret;
	snprintf(drv, 32, "%s", info.driver);
	snprintf(bus, 32, "%s", info.bus_info);
	return 0;
}

int wp__doorbell_init(struct wp__doorbell *db)
{
	db->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (db->fd < 0)
		return -errno;
	atomic_init(&db->rung, false);
	return 0;
}

void wp__doorbell_fini(struct wp__doorbell *db)
{
	if (db->fd >= 0)
		close(db->fd);
	db->fd = -1;
}

void wp__doorbell_ring(struct wp__doorbell *db)
{
	static const uint64_t one = 1;

	if (atomic_exchange_explicit(&db->rung, true, memory_order_acq_rel))
		return; /* the firmware has not taken the last one yet */
	/* Cannot fail short of a counter at 2^64 - 1: never drained is a
	 * firmware that stopped, and then nobody listens anyway. */
	if (write(db->fd, &one, sizeof(one)) < 0)
		return;
}

bool wp__doorbell_take(struct wp__doorbell *db)
{
	uint64_t v;

	/* Drain first, then clear: see the header. The read always happens,
	 * so a write that lands after a ring() was already taken cannot
	 * leave the fd readable forever. EAGAIN: nothing to drain. */
	if (read(db->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return true;
	return atomic_exchange_explicit(&db->rung, false, memory_order_acquire);
}

struct timespec *wp__fw_timeout(struct timespec *ts, uint64_t now,
				uint64_t deadline)
{
	uint64_t d;

	if (deadline == WP_TIME_NEVER)
		return NULL;
	d = deadline > now ? deadline - now : 0;
	ts->tv_sec = (time_t)(d / WP_NSEC_PER_SEC);
	ts->tv_nsec = (long)(d % WP_NSEC_PER_SEC);
	return ts;
}

void wp__backend_err_priv(const struct wp_backend *be, const char *what,
			  const char *cap)
{
	wp__backend_err(be,
			"%s: permission denied: needs %s: run as root "
			"(or give wirepath the capability: setcap "
			"cap_net_admin,cap_net_raw+ep wirepath)",
			what, cap);
}

void wp__report_str(FILE *out, const char *key, const char *val)
{
	fprintf(out, "     %s: %s\n", key, val);
}

void wp__report_u64(FILE *out, const char *key, uint64_t val)
{
	fprintf(out, "     %s: %" PRIu64 "\n", key, val);
}
