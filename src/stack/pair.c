// SPDX-License-Identifier: MIT
/*
 * Two stacks on one wire and one time line (include/wirepath/pair.h).
 *
 * The pair owns the clock. Each stack keeps its own struct wp_clock (its
 * NIC, cores and backend hold pointers to it), and the pair sets both to
 * its own time before anything runs at an instant, so all three always
 * read the same value; neither stack can run alone (wp_stack_run_until
 * refuses a paired stack), so they never drift apart.
 */
#include "wirepath/pair.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nic/backend/pair.h"
#include "stack/stack.h"

struct wp_stack_pair {
	struct wp_clock clock;
	struct wp_pair_wire *wire;
	struct wp_stack *s[2]; /* A, B */
};

static void set_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static uint32_t frame_max(const struct wp_stack_config *a,
			  const struct wp_stack_config *b)
{
	uint32_t mtu = a->mtu > b->mtu ? a->mtu : b->mtu;

	/* Out of range: the stack refuses it right after, with its own
	 * message; the wire just must not allocate for it. */
	if (mtu > WP_MTU_MAX)
		mtu = WP_MTU_MAX;
	return mtu + WP_ETH_HLEN + WP_ETH_VLAN_HLEN;
}

struct wp_stack_pair *wp_stack_pair_create(
	const struct wp_stack_config *a, const struct wp_stack_config *b,
	const struct wp_pair_impairments *imp, char *err, size_t errlen)
{
	const struct wp_stack_config *cfgs[2] = { a, b };
	struct wp_pair_impairments def;
	struct wp_stack_pair *p;
	char msg[256];
	int ret;

	set_err(err, errlen, "%s", "");
	if (!a || !b) {
		set_err(err, errlen, "a pair needs two stack configurations");
		errno = EINVAL;
		return NULL;
	}
	if (!imp) {
		wp_pair_impairments_default(&def);
		imp = &def;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		set_err(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	wp_clock_init_virtual(&p->clock, 0);
	p->wire = wp__pair_wire_create(imp, frame_max(a, b), msg, sizeof(msg));
	if (!p->wire) {
		ret = -errno;
		set_err(err, errlen, "pair wire: %s", msg);
		goto out_free;
	}
	for (unsigned int i = 0; i < 2; i++) {
		struct wp_stack_config c = *cfgs[i];

		c.backend = "pair";
		c.virtual_time = true;
		p->s[i] = wp__stack_create(&c, wp__pair_wire_end(p->wire, i),
					   msg, sizeof(msg));
		if (!p->s[i]) {
			ret = -errno;
			set_err(err, errlen, "stack %c: %s", "AB"[i], msg);
			goto out_destroy;
		}
	}
	return p;

out_destroy:
	wp_stack_destroy(p->s[0]);
	wp__pair_wire_destroy(p->wire);
out_free:
	free(p);
	errno = -ret;
	return NULL;
}

void wp_stack_pair_destroy(struct wp_stack_pair *p)
{
	if (!p)
		return;
	/* The stacks detach from the wire as their backends close. */
	wp_stack_destroy(p->s[0]);
	wp_stack_destroy(p->s[1]);
	wp__pair_wire_destroy(p->wire);
	free(p);
}

struct wp_stack *wp_stack_pair_a(const struct wp_stack_pair *p)
{
	return p->s[0];
}

struct wp_stack *wp_stack_pair_b(const struct wp_stack_pair *p)
{
	return p->s[1];
}

uint64_t wp_stack_pair_now(const struct wp_stack_pair *p)
{
	return wp_clock_now(&p->clock);
}

static void set_time(struct wp_stack_pair *p, uint64_t t)
{
	wp_clock_set(&p->clock, t);
	wp_clock_set(&p->s[0]->clock, t);
	wp_clock_set(&p->s[1]->clock, t);
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int wp_stack_pair_run_until(struct wp_stack_pair *p, uint64_t t_ns)
{
	for (;;) {
		uint64_t now = wp_clock_now(&p->clock), next;
		bool wa, wb;

		/*
		 * A's pass puts what A's cores sent on the wire and B's pass
		 * delivers what is due of it; what B sent reaches A on the
		 * next pass. Settled: no core did anything in a whole round
		 * and nothing on the wire is due at this instant.
		 */
		do {
			next = wp__stack_step(p->s[0], now, &wa);
			next = min64(next, wp__stack_step(p->s[1], now, &wb));
		} while (wa || wb || wp__pair_wire_next(p->wire) <= now);
		/* Frames sent after a side's step are not in its answer. */
		next = min64(next, wp__pair_wire_next(p->wire));
		if (now >= t_ns)
			return 0;
		if (next <= now)
			next = now + 1;
		set_time(p, min64(next, t_ns));
	}
}

int wp_stack_pair_set_link(struct wp_stack_pair *p, enum wp_pair_dir dir,
			   const struct wp_pair_link *link, char *err,
			   size_t errlen)
{
	return wp__pair_wire_set_link(p->wire, dir, link, err, errlen);
}

void wp_stack_pair_get_stats(const struct wp_stack_pair *p,
			     enum wp_pair_dir dir, struct wp_pair_stats *st)
{
	wp__pair_wire_stats(p->wire, dir, st);
}

static void print_dir(FILE *out, const char *d, const struct wp_pair_stats *st)
{
	const struct {
		const char *name;
		uint64_t v;
	} c[] = {
		{ "tx_packets", st->tx_packets },
		{ "tx_bytes", st->tx_bytes },
		{ "lost", st->lost },
		{ "duplicated", st->duplicated },
		{ "reordered", st->reordered },
		{ "corrupted", st->corrupted },
		{ "wire_full", st->wire_full },
		{ "oversize", st->oversize },
		{ "delivered", st->delivered },
		{ "rx_refused", st->rx_refused },
		{ "in_flight", st->in_flight },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		fprintf(out, "     %s_%s: %" PRIu64 "\n", d, c[i].name, c[i].v);
}

void wp_stack_pair_print_stats(const struct wp_stack_pair *p, FILE *out)
{
	struct wp_pair_stats st;

	fprintf(out, "pair wire statistics (seed %" PRIu64 "):\n",
		wp__pair_wire_seed(p->wire));
	wp_stack_pair_get_stats(p, WP_PAIR_A_TO_B, &st);
	print_dir(out, "a_to_b", &st);
	wp_stack_pair_get_stats(p, WP_PAIR_B_TO_A, &st);
	print_dir(out, "b_to_a", &st);
}
