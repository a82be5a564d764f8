// SPDX-License-Identifier: MIT
#include "core/sysctl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one table of names, defaults and ranges. */
struct sysctl_def {
	const char *name;
	size_t offset;   /* of the first element in struct wp_sysctl */
	int nvals;       /* 1, or 3 for the tcp_rmem-style vectors */
	int32_t def[3];
	int32_t min, max;
};

#define F(field) offsetof(struct wp_sysctl, field)

static const struct sysctl_def defs[] = {
	{ "net.core.netdev_budget", F(netdev_budget), 1, { 300 }, 1, 1 << 20 },
	{ "net.core.netdev_budget_usecs", F(netdev_budget_usecs), 1, { 2000 },
	  1, 1000000 },
	{ "net.core.dev_weight", F(dev_weight), 1, { 64 }, 1, 1 << 16 },
	{ "net.core.busy_poll", F(busy_poll), 1, { 0 }, 0, 1000000 },
	{ "net.core.busy_read", F(busy_read), 1, { 0 }, 0, 1000000 },
	{ "net.core.rmem_default", F(rmem_default), 1, { 212992 }, 256,
	  INT32_MAX },
	{ "net.core.wmem_default", F(wmem_default), 1, { 212992 }, 256,
	  INT32_MAX },
	{ "net.core.rmem_max", F(rmem_max), 1, { 212992 }, 256, INT32_MAX },
	{ "net.core.wmem_max", F(wmem_max), 1, { 212992 }, 256, INT32_MAX },
	{ "net.ipv4.tcp_rmem", F(tcp_rmem), 3, { 4096, 131072, 6291456 }, 1,
	  INT32_MAX },
	{ "net.ipv4.tcp_wmem", F(tcp_wmem), 3, { 4096, 16384, 4194304 }, 1,
	  INT32_MAX },
	{ "net.ipv4.tcp_moderate_rcvbuf", F(tcp_moderate_rcvbuf), 1, { 1 }, 0,
	  1 },
	{ "net.core.somaxconn", F(somaxconn), 1, { 4096 }, 0, 65535 },
	{ "net.ipv4.tcp_syn_retries", F(tcp_syn_retries), 1, { 6 }, 1, 127 },
	{ "net.ipv4.tcp_synack_retries", F(tcp_synack_retries), 1, { 5 }, 0,
	  255 },
	{ "net.ipv4.tcp_retries2", F(tcp_retries2), 1, { 15 }, 1, 255 },
	{ "net.ipv4.tcp_fin_timeout", F(tcp_fin_timeout), 1, { 60 }, 1,
	  86400 },
	{ "net.ipv4.tcp_keepalive_time", F(tcp_keepalive_time), 1, { 7200 },
	  1, 32767 },
	{ "net.ipv4.tcp_keepalive_intvl", F(tcp_keepalive_intvl), 1, { 75 },
	  1, 32767 },
	{ "net.ipv4.tcp_keepalive_probes", F(tcp_keepalive_probes), 1, { 9 },
	  1, 127 },
	{ "net.ipv4.tcp_max_syn_backlog", F(tcp_max_syn_backlog), 1, { 1024 },
	  1, 1 << 20 },
	{ "net.ipv4.tcp_syncookies", F(tcp_syncookies), 1, { 1 }, 0, 2 },
	{ "net.ipv4.tcp_timestamps", F(tcp_timestamps), 1, { 1 }, 0, 1 },
	{ "net.ipv4.tcp_window_scaling", F(tcp_window_scaling), 1, { 1 }, 0,
	  1 },
	{ "net.ipv4.tcp_sack", F(tcp_sack), 1, { 1 }, 0, 1 },
	{ "net.ipv4.tcp_reordering", F(tcp_reordering), 1, { 3 }, 1, 1024 },
	{ "net.ipv4.tcp_max_reordering", F(tcp_max_reordering), 1, { 300 },
	  1, 65535 },
	{ "net.ipv4.tcp_max_tw_buckets", F(tcp_max_tw_buckets), 1, { 65536 },
	  0, 1 << 24 },
	{ "net.ipv4.tcp_rto_min_us", F(tcp_rto_min_us), 1, { 200000 }, 1000,
	  120000000 },
	{ "net.ipv4.tcp_msl_ms", F(tcp_msl_ms), 1, { 30000 }, 1, 3600000 },
	{ "net.ipv4.tcp_challenge_ack_limit", F(tcp_challenge_ack_limit), 1,
	  { 1000 }, 1, INT32_MAX },
};

#undef F

static _Atomic int32_t *field(const struct wp_sysctl *s,
			      const struct sysctl_def *d)
{
	return (_Atomic int32_t *)((char *)s + d->offset);
}

static const struct sysctl_def *find(const char *name)
{
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (strcmp(defs[i].name, name) == 0)
			return &defs[i];
	return NULL;
}

void wp_sysctl_init(struct wp_sysctl *s)
{
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		for (int j = 0; j < defs[i].nvals; j++)
			atomic_init(field(s, &defs[i]) + j, defs[i].def[j]);
}

static int parse_int32(const char **p, int32_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(*p, &end, 10);
	if (end == *p || errno || v < INT32_MIN || v > INT32_MAX)
		return -EINVAL;
	*out = (int32_t)v;
	*p = end;
	return 0;
}

int wp_sysctl_set(struct wp_sysctl *s, const char *name, const char *value)
{
	const struct sysctl_def *d = find(name);
	int32_t v[3];
	const char *p = value;

	if (!d)
		return -ENOENT;
	for (int j = 0; j < d->nvals; j++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (parse_int32(&p, &v[j]) || v[j] < d->min || v[j] > d->max)
			return -EINVAL;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p)
		return -EINVAL;
	/* tcp_rmem/tcp_wmem: min <= default <= max, as the kernel requires. */
	if (d->nvals == 3 && (v[0] > v[1] || v[1] > v[2]))
		return -EINVAL;
	for (int j = 0; j < d->nvals; j++)
		atomic_store_explicit(field(s, d) + j, v[j],
				      memory_order_relaxed);
	return 0;
}

int wp_sysctl_get(const struct wp_sysctl *s, const char *name, char *buf,
		  size_t len)
{
	const struct sysctl_def *d = find(name);
	size_t off = 0;

	if (!d)
		return -ENOENT;
	if (len)
		buf[0] = '\0';
	for (int j = 0; j < d->nvals && off < len; j++) {
		int n = snprintf(buf + off, len - off, j ? "\t%d" : "%d",
				 (int)wp_sysctl_read(field(s, d) + j));
		if (n < 0)
			return -EINVAL;
		off += (size_t)n;
	}
	return 0;
}

const char *wp_sysctl_name(size_t i)
{
	return i < sizeof(defs) / sizeof(defs[0]) ? defs[i].name : NULL;
}
