// SPDX-License-Identifier: MIT
/*
 * A small netfilter: four IPv4 hooks, each a list of match -> verdict
 * rules (ACCEPT, DROP, or COUNT and go on), with packet and byte
 * counters per rule, WP_NF_RULES_MAX rules in all.
 *
 * Cost: a hook with no rule is one relaxed load. With rules, the hook
 * takes the table's read lock and walks its rules; a matching rule adds
 * to its counters with relaxed atomic adds (rules are shared by cores, so
 * a rule every core matches costs a contended cache line: fine for
 * filters, not for a per-packet fast path).
 */
#include "net/net_priv.h"

#include <errno.h>
#include <string.h>

#include "wire/ipv4.h"

int wp__nf_init(struct wp_net *net)
{
	struct wp_nf_table *t = &net->nf;

	pthread_rwlock_init(&t->lock, NULL);
	for (int h = 0; h < WP_NF_HOOK_MAX; h++)
		atomic_init(&t->n[h], 0);
	for (int i = 0; i < WP_NF_RULES_MAX; i++) {
		atomic_init(&t->e[i].packets, 0);
		atomic_init(&t->e[i].bytes, 0);
	}
	return 0;
}

void wp__nf_destroy(struct wp_net *net)
{
	pthread_rwlock_destroy(&net->nf.lock);
}

static bool port_range_ok(uint16_t lo, uint16_t hi)
{
	return lo <= hi;
}

int wp_nf_rule_add(struct wp_net *net, const struct wp_nf_rule *rule)
{
	struct wp_nf_table *t = &net->nf;
	struct wp_nf_entry *e;
	uint32_t n;
	int handle = -ENOSPC;

	if (!rule || (unsigned)rule->hook >= WP_NF_HOOK_MAX ||
	    (unsigned)rule->verdict > WP_NF_COUNT || rule->src_len > 32 ||
	    rule->dst_len > 32 ||
	    !port_range_ok(rule->sport_lo, rule->sport_hi) ||
	    !port_range_ok(rule->dport_lo, rule->dport_hi))
		return -EINVAL;
	/* Ports exist only in TCP and UDP (iptables: "-p" needed). */
	if ((rule->sport_hi || rule->dport_hi) &&
	    rule->protocol != WP_IPPROTO_TCP &&
	    rule->protocol != WP_IPPROTO_UDP)
		return -EINVAL;
	pthread_rwlock_wrlock(&t->lock);
	for (int i = 0; i < WP_NF_RULES_MAX; i++) {
		if (t->e[i].used)
			continue;
		e = &t->e[i];
		e->rule = *rule;
		e->src_mask = wp__prefix_mask(rule->src_len);
		e->dst_mask = wp__prefix_mask(rule->dst_len);
		e->rule.src &= e->src_mask;
		e->rule.dst &= e->dst_mask;
		atomic_store_explicit(&e->packets, 0, memory_order_relaxed);
		atomic_store_explicit(&e->bytes, 0, memory_order_relaxed);
		e->used = true;
		n = atomic_load_explicit(&t->n[rule->hook],
					 memory_order_relaxed);
		t->order[rule->hook][n] = i;
		atomic_store_explicit(&t->n[rule->hook], n + 1,
				      memory_order_relaxed);
		handle = i;
		break;
	}
	pthread_rwlock_unlock(&t->lock);
	return handle;
}

int wp_nf_rule_del(struct wp_net *net, int handle)
{
	struct wp_nf_table *t = &net->nf;
	int ret = -ENOENT;

	if (handle < 0 || handle >= WP_NF_RULES_MAX)
		return -ENOENT;
	pthread_rwlock_wrlock(&t->lock);
	if (t->e[handle].used) {
		enum wp_nf_hook h = t->e[handle].rule.hook;
		uint32_t n =
			atomic_load_explicit(&t->n[h], memory_order_relaxed);
		uint32_t k = 0;

		for (uint32_t i = 0; i < n; i++)
			if (t->order[h][i] != handle)
				t->order[h][k++] = t->order[h][i];
		atomic_store_explicit(&t->n[h], k, memory_order_relaxed);
		t->e[handle].used = false;
		ret = 0;
	}
	pthread_rwlock_unlock(&t->lock);
	return ret;
}

int wp_nf_rule_counters(const struct wp_net *net, int handle, uint64_t *packets,
			uint64_t *bytes)
{
	struct wp_nf_table *t = (struct wp_nf_table *)&net->nf;
	int ret = -ENOENT;

	if (handle < 0 || handle >= WP_NF_RULES_MAX)
		return -ENOENT;
	pthread_rwlock_rdlock(&t->lock);
	if (t->e[handle].used) {
		if (packets)
			*packets = atomic_load_explicit(&t->e[handle].packets,
							memory_order_relaxed);
		if (bytes)
			*bytes = atomic_load_explicit(&t->e[handle].bytes,
						      memory_order_relaxed);
		ret = 0;
	}
	pthread_rwlock_unlock(&t->lock);
	return ret;
}

static bool in_range(uint16_t v, uint16_t lo, uint16_t hi)
{
	return (lo == 0 && hi == 0) || (v >= lo && v <= hi);
}

/*
 * The datagram's ports, when it carries them: TCP and UDP put source
 * and destination ports in their first 4 bytes (RFC 9293 3.1, RFC 768),
 * which only the first fragment has. Length-checked against what the
 * skb holds after the IP header.
 */
static bool l4_ports(const struct wp_skb *skb, const struct wp_ipv4_repr *r,
		     uint16_t *sport, uint16_t *dport)
{
	size_t hl = wp_ipv4_hdr_len(r);
	const uint8_t *l4 = skb->data + hl;

	if (r->frag_offset ||
	    (r->protocol != WP_IPPROTO_TCP && r->protocol != WP_IPPROTO_UDP))
		return false;
	if (skb->len < hl + 4 || r->payload_len < 4)
		return false;
	*sport = wp_get_be16(l4);
	*dport = wp_get_be16(l4 + 2);
	return true;
}

static bool rule_match(const struct wp_nf_entry *e, const struct wp_skb *skb,
		       const struct wp_ipv4_repr *r)
{
	const struct wp_nf_rule *ru = &e->rule;
	uint16_t sport, dport;

	if (ru->protocol && ru->protocol != r->protocol)
		return false;
	if ((r->saddr & e->src_mask) != ru->src ||
	    (r->daddr & e->dst_mask) != ru->dst)
		return false;
	if (!ru->sport_hi && !ru->dport_hi)
		return true;
	if (!l4_ports(skb, r, &sport, &dport))
		return false;
	return in_range(sport, ru->sport_lo, ru->sport_hi) &&
	       in_range(dport, ru->dport_lo, ru->dport_hi);
}

enum wp_nf_verdict wp__nf_hook(struct wp_net *net, enum wp_nf_hook hook,
			       const struct wp_skb *skb,
			       const struct wp_ipv4_repr *repr)
{
	struct wp_nf_table *t = &net->nf;
	enum wp_nf_verdict v = WP_NF_ACCEPT;
	uint32_t n;

	if (!atomic_load_explicit(&t->n[hook], memory_order_relaxed))
		return WP_NF_ACCEPT;
	pthread_rwlock_rdlock(&t->lock);
	n = atomic_load_explicit(&t->n[hook], memory_order_relaxed);
	for (uint32_t i = 0; i < n; i++) {
		struct wp_nf_entry *e = &t->e[t->order[hook][i]];

		if (!rule_match(e, skb, repr))
			continue;
		atomic_fetch_add_explicit(&e->packets, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&e->bytes, wp_ipv4_total_len(repr),
					  memory_order_relaxed);
		if (e->rule.verdict != WP_NF_COUNT) {
			v = e->rule.verdict;
			break;
		}
	}
	pthread_rwlock_unlock(&t->lock);
	return v;
}

static const char *const hook_names[WP_NF_HOOK_MAX] = { "PREROUTING", "INPUT",
							"OUTPUT",
							"POSTROUTING" };

static void print_prefix(FILE *out, uint32_t a, uint8_t len)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff, len);
	fprintf(out, " %-18s", buf);
}

static void print_ports(FILE *out, const char *what, uint16_t lo, uint16_t hi)
{
	if (!lo && !hi)
		return;
	if (lo == hi)
		fprintf(out, " %s:%u", what, lo);
	else
		fprintf(out, " %s:%u:%u", what, lo, hi);
}

void wp_net_print_rules(const struct wp_net *net, FILE *out)
{
	struct wp_nf_table *t = (struct wp_nf_table *)&net->nf;
	static const char *const verdicts[] = { "ACCEPT", "DROP", "" };

	pthread_rwlock_rdlock(&t->lock);
	for (int h = 0; h < WP_NF_HOOK_MAX; h++) {
		uint32_t n =
			atomic_load_explicit(&t->n[h], memory_order_relaxed);

		fprintf(out, "Chain %s (policy ACCEPT)\n", hook_names[h]);
		fprintf(out, " pkts bytes target     prot source             "
			     "destination\n");
		for (uint32_t i = 0; i < n; i++) {
			int handle = t->order[h][i];
			const struct wp_nf_entry *e = &t->e[handle];
			const struct wp_nf_rule *r = &e->rule;
			char prot[8];

			if (r->protocol == WP_IPPROTO_TCP)
				snprintf(prot, sizeof(prot), "tcp");
			else if (r->protocol == WP_IPPROTO_UDP)
				snprintf(prot, sizeof(prot), "udp");
			else if (r->protocol == WP_IPPROTO_ICMP)
				snprintf(prot, sizeof(prot), "icmp");
			else if (r->protocol)
				snprintf(prot, sizeof(prot), "%u", r->protocol);
			else
				snprintf(prot, sizeof(prot), "all");
			fprintf(out, "%5llu %5llu %-10s %-4s",
				(unsigned long long)atomic_load(&e->packets),
				(unsigned long long)atomic_load(&e->bytes),
				verdicts[r->verdict], prot);
			print_prefix(out, r->src, r->src_len);
			print_prefix(out, r->dst, r->dst_len);
			print_ports(out, "spts", r->sport_lo, r->sport_hi);
			print_ports(out, "dpts", r->dport_lo, r->dport_hi);
			fprintf(out, " /* handle %d */\n", handle);
		}
	}
	pthread_rwlock_unlock(&t->lock);
}
