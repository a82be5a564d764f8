// SPDX-License-Identifier: MIT
/*
 * The routing table: a bounded array of prefixes, longest first, so the
 * first match is the longest-prefix match. Tens of routes at most: a
 * linear scan of a few cache lines beats a trie at this size.
 *
 * Writers (the control path) take the write lock and bump a generation;
 * each core keeps a private copy of the table and refreshes it when the
 * generation moves, so output lookups on cores take no lock and share no
 * written cache line.
 */
#include "net/net_priv.h"

#include <errno.h>
#include <string.h>

static int route_insert(struct wp_net *net, uint32_t dst, uint8_t plen,
			uint32_t gw, uint8_t proto)
{
	struct wp_route_table *t = &net->routes;
	struct wp_route nr = {
		.dst = dst,
		.mask = wp__prefix_mask(plen),
		.plen = plen,
		.proto = proto,
		.gw = gw,
	};
	uint32_t pos;
	int ret = 0;

	pthread_rwlock_wrlock(&t->lock);
	for (uint32_t i = 0; i < t->n; i++) {
		if (t->r[i].dst == dst && t->r[i].plen == plen) {
			ret = -EEXIST;
			goto out_unlock;
		}
	}
	if (gw) {
		/* The gateway must be on a link we have (no recursion). */
		bool onlink = false;

		for (uint32_t i = 0; i < t->n; i++)
			if (!t->r[i].gw && (gw & t->r[i].mask) == t->r[i].dst)
				onlink = true;
		if (!onlink || gw == net->addr) {
			ret = -ENETUNREACH;
			goto out_unlock;
		}
	}
	if (t->n == WP_ROUTE_MAX) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	for (pos = 0; pos < t->n && t->r[pos].plen >= plen; pos++)
		;
	memmove(&t->r[pos + 1], &t->r[pos], (t->n - pos) * sizeof(t->r[0]));
	t->r[pos] = nr;
	t->n++;
	atomic_fetch_add_explicit(&t->gen, 1, memory_order_release);
out_unlock:
	pthread_rwlock_unlock(&t->lock);
	return ret;
}

int wp__route_init(struct wp_net *net)
{
	struct wp_route_table *t = &net->routes;
	int ret;

	pthread_rwlock_init(&t->lock, NULL);
	t->n = 0;
	atomic_init(&t->gen, 0);
	ret = route_insert(net, net->addr & net->mask, net->cfg.prefix_len, 0,
			   WP_RTPROT_KERNEL);
	if (!ret && net->cfg.gw)
		ret = route_insert(net, 0, 0, net->cfg.gw, WP_RTPROT_BOOT);
	if (ret) {
		pthread_rwlock_destroy(&t->lock);
		return -EINVAL;
	}
	return 0;
}

void wp__route_destroy(struct wp_net *net)
{
	pthread_rwlock_destroy(&net->routes.lock);
}

int wp_route_add(struct wp_net *net, uint32_t dst, uint8_t plen, uint32_t gw)
{
	if (plen > 32 || (dst & ~wp__prefix_mask(plen)))
		return -EINVAL;
	if (gw && (wp_ipv4_is_martian_src(gw) || wp__net_is_bcast(net, gw)))
		return -EINVAL;
	return route_insert(net, dst, plen, gw, WP_RTPROT_BOOT);
}

int wp_route_del(struct wp_net *net, uint32_t dst, uint8_t plen)
{
	struct wp_route_table *t = &net->routes;
	int ret = -ESRCH;

	pthread_rwlock_wrlock(&t->lock);
	for (uint32_t i = 0; i < t->n; i++) {
		if (t->r[i].dst != dst || t->r[i].plen != plen)
			continue;
		if (t->r[i].proto == WP_RTPROT_KERNEL) {
			ret = -EPERM;
			break;
		}
		memmove(&t->r[i], &t->r[i + 1],
			(t->n - i - 1) * sizeof(t->r[0]));
		t->n--;
		atomic_fetch_add_explicit(&t->gen, 1, memory_order_release);
		ret = 0;
		break;
	}
	pthread_rwlock_unlock(&t->lock);
	return ret;
}

static int route_match(const struct wp_net *net, const struct wp_route *r,
		       uint32_t n, uint32_t daddr, struct wp_rt_result *res)
{
	res->saddr = net->addr;
	res->nexthop = daddr;
	if (daddr == net->addr) {
		res->type = WP_RTN_LOCAL;
		return 0;
	}
	if (wp__net_is_bcast(net, daddr)) {
		res->type = WP_RTN_BROADCAST;
		return 0;
	}
	if (wp_ipv4_is_multicast(daddr)) {
		res->type = WP_RTN_MULTICAST;
		return 0;
	}
	if (wp_ipv4_is_martian_dst(daddr))
		return -ENETUNREACH;
	for (uint32_t i = 0; i < n; i++) {
		if ((daddr & r[i].mask) != r[i].dst)
			continue;
		res->type = WP_RTN_UNICAST;
		if (r[i].gw)
			res->nexthop = r[i].gw;
		return 0;
	}
	return -ENETUNREACH;
}

int wp_route_lookup(const struct wp_net *net, uint32_t daddr,
		    struct wp_rt_result *res)
{
	struct wp_route_table *t = (struct wp_route_table *)&net->routes;
	int ret;

	pthread_rwlock_rdlock(&t->lock);
	ret = route_match(net, t->r, t->n, daddr, res);
	pthread_rwlock_unlock(&t->lock);
	return ret;
}

int wp__route_output(struct wp_net_cpu *pc, uint32_t daddr,
		     struct wp_rt_result *res)
{
	struct wp_route_table *t = &pc->net->routes;
	struct wp_route_snap *s = &pc->routes;

	/* Acquire: pairs with the writer's release; a stale copy is
	 * refreshed under the read lock, which orders the entries. */
	if (atomic_load_explicit(&t->gen, memory_order_acquire) != s->gen) {
		pthread_rwlock_rdlock(&t->lock);
		s->n = t->n;
		memcpy(s->r, t->r, t->n * sizeof(t->r[0]));
		s->gen = atomic_load_explicit(&t->gen, memory_order_relaxed);
		pthread_rwlock_unlock(&t->lock);
	}
	return route_match(pc->net, s->r, s->n, daddr, res);
}

static void print_ip(FILE *out, uint32_t a)
{
	fprintf(out, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
		a & 0xff);
}

void wp_net_print_route(const struct wp_net *net, FILE *out)
{
	struct wp_route_table *t = (struct wp_route_table *)&net->routes;

	pthread_rwlock_rdlock(&t->lock);
	/* The default route first, as ip route lists it; then longest
	 * prefix first. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < t->n; i++) {
			const struct wp_route *r = &t->r[i];

			if ((r->plen == 0) != (pass == 0))
				continue;
			if (r->plen == 0) {
				fputs("default", out);
			} else {
				print_ip(out, r->dst);
				if (r->plen != 32)
					fprintf(out, "/%u", r->plen);
			}
			if (r->gw) {
				fputs(" via ", out);
				print_ip(out, r->gw);
			}
			fprintf(out, " dev %s", net->nic->name);
			if (r->proto == WP_RTPROT_KERNEL) {
				fputs(" proto kernel scope link src ", out);
				print_ip(out, net->addr);
			} else if (!r->gw) {
				fputs(" scope link", out);
			}
			fputc('\n', out);
		}
	}
	pthread_rwlock_unlock(&t->lock);
}
