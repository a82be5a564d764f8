/* SPDX-License-Identifier: MIT */
/*
 * Stack-wide tunables with the Linux sysctl names users already know
 * (net.core.netdev_budget, ...). Values are atomics so that a control
 * thread can change them while core threads read them (`wirepath sysctl`
 * on a running stack); a change takes effect on the next read.
 *
 * The table in sysctl.c is the single source of names, defaults and
 * ranges: set/get/list all go through it.
 */
#ifndef WP_CORE_SYSCTL_H
#define WP_CORE_SYSCTL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct wp_sysctl {
	_Atomic int32_t netdev_budget;        /* net.core.netdev_budget: 300 */
	_Atomic int32_t netdev_budget_usecs;  /* net.core.netdev_budget_usecs: 2000 */
	_Atomic int32_t dev_weight;           /* net.core.dev_weight (NAPI weight): 64 */
	_Atomic int32_t busy_poll;            /* net.core.busy_poll (usecs, 0 = off) */
	_Atomic int32_t busy_read;            /* net.core.busy_read (usecs) */
	_Atomic int32_t tcp_rmem[3];          /* net.ipv4.tcp_rmem: 4096 131072 6291456 */
	_Atomic int32_t tcp_wmem[3];          /* net.ipv4.tcp_wmem: 4096 16384 4194304 */
	_Atomic int32_t tcp_moderate_rcvbuf;  /* 1: receive buffers auto-tune */
	_Atomic int32_t rmem_default;         /* net.core.rmem_default: 212992 */
	_Atomic int32_t wmem_default;         /* net.core.wmem_default: 212992 */
	_Atomic int32_t rmem_max;             /* net.core.rmem_max: 212992 */
	_Atomic int32_t wmem_max;             /* net.core.wmem_max: 212992 */
	_Atomic int32_t somaxconn;            /* net.core.somaxconn: 4096 */
	/* TCP (times in the units of the Linux names; tcp_msl_ms is
	 * wirepath's: Linux fixes TIME_WAIT at 60 s, 2 * MSL) */
	_Atomic int32_t tcp_syn_retries;      /* 6 */
	_Atomic int32_t tcp_synack_retries;   /* 5 */
	_Atomic int32_t tcp_retries2;         /* 15 */
	_Atomic int32_t tcp_fin_timeout;      /* s: FIN_WAIT2 of an orphan, 60 */
	_Atomic int32_t tcp_keepalive_time;   /* s: 7200 */
	_Atomic int32_t tcp_keepalive_intvl;  /* s: 75 */
	_Atomic int32_t tcp_keepalive_probes; /* 9 */
	_Atomic int32_t tcp_max_syn_backlog;  /* 1024 */
	_Atomic int32_t tcp_syncookies;       /* 1: when the SYN queue is full */
	_Atomic int32_t tcp_timestamps;       /* 1 */
	_Atomic int32_t tcp_window_scaling;   /* 1 */
	_Atomic int32_t tcp_sack;             /* 1 */
	_Atomic int32_t tcp_reordering;       /* 3: initial DupThresh */
	_Atomic int32_t tcp_max_reordering;   /* 300 */
	_Atomic int32_t tcp_max_tw_buckets;   /* 65536 */
	_Atomic int32_t tcp_rto_min_us;       /* 200000 */
	_Atomic int32_t tcp_msl_ms;           /* 30000: TIME_WAIT is 2 * MSL */
	_Atomic int32_t tcp_challenge_ack_limit; /* per socket per second: 1000 */
};

void wp_sysctl_init(struct wp_sysctl *s);

static inline int32_t wp_sysctl_read(const _Atomic int32_t *v)
{
	return atomic_load_explicit((_Atomic int32_t *)v, memory_order_relaxed);
}

/*
 * Set "net.core.netdev_budget" to "600" (vectors: "4096 87380 6291456").
 * Returns 0, -ENOENT (no such name) or -EINVAL (does not parse, or out of
 * range: nothing changes).
 */
int wp_sysctl_set(struct wp_sysctl *s, const char *name, const char *value);

/* Formats the value as `sysctl` prints it. -ENOENT if no such name. */
int wp_sysctl_get(const struct wp_sysctl *s, const char *name, char *buf,
		  size_t len);

/* The i-th name, or NULL past the end: for listing every sysctl. */
const char *wp_sysctl_name(size_t i);

#endif
