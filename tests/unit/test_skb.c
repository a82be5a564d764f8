// SPDX-License-Identifier: MIT
/*
 * sk_buff operations: geometry, editing and its failure paths, header
 * offsets, descriptor and data reference counts, clones, stamps, queues,
 * and GRO's chains (copy across, trim into, pull through, free).
 * Every test runs on a fresh pool and ends with the pool whole again.
 */
#include "test_core_common.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "skb/pool.h"
#include "skb/skb.h"

#define NBUFS 8

struct fx {
	struct wp_pool *pool;
	struct wp_drop_stats drops;
};

static int setup(void **state)
{
	struct wp_pool_config cfg = { .name = "test", .nbufs = NBUFS };
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->pool = wp_pool_create(&cfg);
	if (!fx->pool) {
		free(fx);
		return -1;
	}
	wp_drop_stats_bind(&fx->drops);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	bool whole = wp_pool_is_whole(fx->pool);

	wp_drop_stats_bind(NULL);
	wp_pool_destroy(fx->pool);
	free(fx);
	assert_true(whole);
	return whole ? 0 : -1;
}

/* An skb with `headroom` bytes before `len` bytes of frame. */
static struct wp_skb *build(struct fx *fx, uint32_t headroom, uint32_t len)
{
	void *buf = wp_pool_get_buf(fx->pool);
	struct wp_skb *skb;

	assert_non_null(buf);
	skb = wp_build_skb(fx->pool, buf, headroom, len);
	assert_non_null(skb);
	return skb;
}

struct geo {
	uint8_t *head, *data;
	uint32_t tail, end, len;
};

static struct geo geo_of(const struct wp_skb *skb)
{
	struct geo g = { skb->head, skb->data, skb->tail, skb->end, skb->len };

	return g;
}

static void assert_geo_unchanged(const struct wp_skb *skb, struct geo g)
{
	assert_ptr_equal(skb->head, g.head);
	assert_ptr_equal(skb->data, g.data);
	assert_int_equal(skb->tail, g.tail);
	assert_int_equal(skb->end, g.end);
	assert_int_equal(skb->len, g.len);
}

/* The invariant every operation keeps. */
static void assert_geo_sane(const struct wp_skb *skb)
{
	assert_true(skb->data >= skb->head);
	assert_true(skb->tail <= skb->end);
	assert_int_equal(wp_skb_headroom(skb) + skb->len, skb->tail);
	assert_int_equal(skb->end, wp_pool_buf_size(skb->pool));
}

static void build_skb_geometry(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb;
	void *buf = wp_pool_get_buf(fx->pool);

	assert_non_null(buf);
	skb = wp_build_skb(fx->pool, buf, 64, 100);
	assert_non_null(skb);
	assert_ptr_equal(skb->head, buf);
	assert_ptr_equal(skb->data, (uint8_t *)buf + 64);
	assert_int_equal(skb->tail, 164);
	assert_int_equal(skb->end, WP_POOL_BUF_SIZE);
	assert_int_equal(skb->len, 100);
	assert_int_equal(wp_skb_headroom(skb), 64);
	assert_int_equal(wp_skb_tailroom(skb), WP_POOL_BUF_SIZE - 164);
	assert_ptr_equal(wp_skb_tail_pointer(skb), (uint8_t *)buf + 164);
	assert_ptr_equal(wp_skb_end_pointer(skb),
			 (uint8_t *)buf + WP_POOL_BUF_SIZE);
	assert_int_equal(skb->mac_header, WP_SKB_OFFSET_UNSET);
	assert_int_equal(skb->network_header, WP_SKB_OFFSET_UNSET);
	assert_int_equal(skb->transport_header, WP_SKB_OFFSET_UNSET);
	assert_int_equal(atomic_load(&skb->users), 1);
	assert_ptr_equal(skb->pool, fx->pool);
	assert_null(skb->next);
	assert_null(skb->prev);
	assert_null(skb->stamps);
	assert_null(skb->sk);
	assert_false(skb->cloned);
	assert_false(wp_skb_cloned(skb));
	assert_geo_sane(skb);
	wp_consume_skb(skb);
}

/* A recycled descriptor carries nothing of its previous life. */
static void build_skb_resets_recycled_descriptor(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 0, 10), *again;
	static const uint8_t zero[sizeof(skb->cb)];

	memset(skb->cb, 0xa5, sizeof(skb->cb));
	skb->hash = 77;
	skb->protocol = 0x0800;
	skb->csum_valid = 1;
	skb->l4_hash = 1;
	skb->gso_segs = 3;
	skb->tstamp = 99;
	skb->sk = fx;
	wp_skb_reset_mac_header(skb);
	assert_int_equal(wp_skb_stamp_enable(skb), 0);
	wp_consume_skb(skb);

	again = build(fx, 32, 20);
	assert_ptr_equal(again, skb); /* LIFO: the same, cache-hot one */
	assert_memory_equal(again->cb, zero, sizeof(zero));
	assert_int_equal(again->hash, 0);
	assert_int_equal(again->protocol, 0);
	assert_false(again->csum_valid);
	assert_false(again->l4_hash);
	assert_int_equal(again->gso_segs, 0);
	assert_int_equal(again->tstamp, 0);
	assert_null(again->sk);
	assert_null(again->stamps);
	assert_int_equal(again->mac_header, WP_SKB_OFFSET_UNSET);
	wp_consume_skb(again);
}

static void alloc_skb_reserves_headroom(void **state)
{
	struct fx *fx = *state;
	uint32_t max = WP_POOL_BUF_SIZE - WP_SKB_HEADROOM;
	struct wp_skb *skb = wp_alloc_skb(fx->pool, 100);

	assert_non_null(skb);
	assert_int_equal(wp_skb_headroom(skb), WP_SKB_HEADROOM);
	assert_int_equal(skb->len, 0);
	assert_true(wp_skb_tailroom(skb) >= 100);
	assert_geo_sane(skb);
	wp_consume_skb(skb);

	skb = wp_alloc_skb(fx->pool, max);
	assert_non_null(skb);
	assert_int_equal(wp_skb_tailroom(skb), max);
	assert_non_null(wp_skb_put(skb, max));
	wp_consume_skb(skb);

	errno = 0;
	assert_null(wp_alloc_skb(fx->pool, max + 1));
	assert_int_equal(errno, EMSGSIZE);
	errno = 0;
	assert_null(wp_alloc_skb(fx->pool, UINT32_MAX));
	assert_int_equal(errno, EMSGSIZE);
}

static void reserve(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 0, 0);
	struct geo g;

	assert_int_equal(wp_skb_reserve(skb, 0), 0);
	assert_int_equal(wp_skb_reserve(skb, 100), 0);
	assert_int_equal(wp_skb_headroom(skb), 100);
	assert_int_equal(skb->tail, 100);
	assert_int_equal(skb->len, 0);
	assert_geo_sane(skb);

	g = geo_of(skb);
	assert_int_equal(wp_skb_reserve(skb, WP_POOL_BUF_SIZE - 99), -ENOSPC);
	assert_geo_unchanged(skb, g);
	assert_int_equal(wp_skb_reserve(skb, UINT32_MAX), -ENOSPC);
	assert_geo_unchanged(skb, g);

	/* The whole tailroom is reservable: tail may reach end. */
	assert_int_equal(wp_skb_reserve(skb, WP_POOL_BUF_SIZE - 100), 0);
	assert_int_equal(wp_skb_tailroom(skb), 0);
	assert_geo_sane(skb);
	wp_consume_skb(skb);

	skb = build(fx, 0, 1);
	g = geo_of(skb);
	assert_int_equal(wp_skb_reserve(skb, 10), -EINVAL);
	assert_geo_unchanged(skb, g);
	wp_consume_skb(skb);
}

static void put(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 16, 10);
	uint8_t *old_tail = wp_skb_tail_pointer(skb), *p;
	uint32_t room;
	struct geo g;

	p = wp_skb_put(skb, 20);
	assert_ptr_equal(p, old_tail);
	assert_int_equal(skb->len, 30);
	assert_int_equal(skb->tail, 46);
	assert_ptr_equal(skb->data, skb->head + 16);
	memset(p, 0x5a, 20);
	assert_geo_sane(skb);

	/* Zero bytes: the tail, nothing moves. */
	g = geo_of(skb);
	assert_ptr_equal(wp_skb_put(skb, 0), wp_skb_tail_pointer(skb));
	assert_geo_unchanged(skb, g);

	room = wp_skb_tailroom(skb);
	assert_null(wp_skb_put(skb, room + 1));
	assert_geo_unchanged(skb, g);
	assert_null(wp_skb_put(skb, UINT32_MAX));
	assert_geo_unchanged(skb, g);

	p = wp_skb_put(skb, room);
	assert_non_null(p);
	assert_ptr_equal(p + room, wp_skb_end_pointer(skb));
	assert_int_equal(wp_skb_tailroom(skb), 0);
	g = geo_of(skb);
	assert_null(wp_skb_put(skb, 1));
	assert_geo_unchanged(skb, g);
	assert_geo_sane(skb);
	wp_consume_skb(skb);
}

static void push(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 64, 100);
	uint8_t *old = skb->data, *p;
	struct geo g;

	p = wp_skb_push(skb, 14);
	assert_ptr_equal(p, old - 14);
	assert_ptr_equal(skb->data, p);
	assert_int_equal(skb->len, 114);
	assert_int_equal(skb->tail, 164);
	assert_geo_sane(skb);

	g = geo_of(skb);
	assert_ptr_equal(wp_skb_push(skb, 0), skb->data);
	assert_geo_unchanged(skb, g);
	assert_null(wp_skb_push(skb, 51));
	assert_geo_unchanged(skb, g);
	assert_null(wp_skb_push(skb, UINT32_MAX));
	assert_geo_unchanged(skb, g);

	/* All the headroom: data meets head. */
	assert_ptr_equal(wp_skb_push(skb, 50), skb->head);
	assert_int_equal(wp_skb_headroom(skb), 0);
	g = geo_of(skb);
	assert_null(wp_skb_push(skb, 1));
	assert_geo_unchanged(skb, g);
	assert_geo_sane(skb);
	wp_consume_skb(skb);
}

static void pull(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 32, 60);
	uint8_t *old = skb->data;
	struct geo g;

	assert_ptr_equal(wp_skb_pull(skb, 14), old + 14);
	assert_int_equal(skb->len, 46);
	assert_int_equal(skb->tail, 92);
	assert_geo_sane(skb);

	g = geo_of(skb);
	assert_ptr_equal(wp_skb_pull(skb, 0), skb->data);
	assert_geo_unchanged(skb, g);
	assert_null(wp_skb_pull(skb, 47));
	assert_geo_unchanged(skb, g);
	assert_null(wp_skb_pull(skb, UINT32_MAX));
	assert_geo_unchanged(skb, g);

	/* Everything: data meets tail, len 0. */
	assert_ptr_equal(wp_skb_pull(skb, 46), wp_skb_tail_pointer(skb));
	assert_int_equal(skb->len, 0);
	g = geo_of(skb);
	assert_null(wp_skb_pull(skb, 1));
	assert_geo_unchanged(skb, g);
	assert_geo_sane(skb);
	wp_consume_skb(skb);
}

static void trim(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 40, 100);
	struct geo g;

	wp_skb_trim(skb, 60);
	assert_int_equal(skb->len, 60);
	assert_int_equal(skb->tail, 100);
	assert_ptr_equal(skb->data, skb->head + 40);
	assert_geo_sane(skb);

	g = geo_of(skb);
	wp_skb_trim(skb, 60);
	assert_geo_unchanged(skb, g);
	wp_skb_trim(skb, 61);
	assert_geo_unchanged(skb, g);
	wp_skb_trim(skb, UINT32_MAX);
	assert_geo_unchanged(skb, g);

	wp_skb_trim(skb, 0);
	assert_int_equal(skb->len, 0);
	assert_int_equal(skb->tail, 40);
	assert_geo_sane(skb);
	wp_consume_skb(skb);
}

/* The receive path: each layer marks its header and pulls it; transmit
 * pushes them back. Bytes stay where they are: no copy. */
static void header_offsets_follow_the_layers(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 64, 14 + 20 + 8 + 5);
	uint8_t *frame = skb->data;

	memcpy(frame + 42, "hello", 5);
	wp_skb_reset_mac_header(skb);
	assert_int_equal(skb->mac_header, 64);
	assert_ptr_equal(wp_skb_mac_header(skb), frame);
	assert_non_null(wp_skb_pull(skb, 14));
	wp_skb_reset_network_header(skb);
	assert_int_equal(skb->network_header, 78);
	assert_ptr_equal(wp_skb_network_header(skb), frame + 14);
	assert_non_null(wp_skb_pull(skb, 20));
	wp_skb_reset_transport_header(skb);
	assert_int_equal(skb->transport_header, 98);
	assert_ptr_equal(wp_skb_transport_header(skb), frame + 34);
	assert_non_null(wp_skb_pull(skb, 8));
	assert_int_equal(skb->len, 5);
	assert_memory_equal(skb->data, "hello", 5);

	/* Offsets survive further pulls and pushes of data. */
	assert_ptr_equal(wp_skb_push(skb, 42), frame);
	assert_ptr_equal(wp_skb_mac_header(skb), skb->data);
	assert_ptr_equal(wp_skb_network_header(skb), frame + 14);
	assert_geo_sane(skb);
	wp_consume_skb(skb);
}

static void get_takes_a_reference(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 0, 10);
	struct wp_pool_stats st;
	uint32_t heads_free;

	wp_pool_get_stats(fx->pool, &st);
	heads_free = st.heads_free;
	assert_ptr_equal(wp_skb_get(skb), skb);
	assert_ptr_equal(wp_skb_get(skb), skb);
	assert_int_equal(atomic_load(&skb->users), 3);

	wp_consume_skb(skb);
	wp_consume_skb(skb);
	assert_int_equal(atomic_load(&skb->users), 1);
	wp_pool_get_stats(fx->pool, &st);
	assert_int_equal(st.heads_free, heads_free);
	assert_false(wp_pool_is_whole(fx->pool));

	wp_consume_skb(skb);
	wp_pool_get_stats(fx->pool, &st);
	assert_int_equal(st.heads_free, heads_free + 1);
}

static void consume_and_kfree_accept_null(void **state)
{
	struct fx *fx = *state;
	static const struct wp_drop_stats none;

	wp_consume_skb(NULL);
	wp_kfree_skb_reason(NULL, WP_DROP_IP_CSUM);
	wp_kfree_skb_reason(NULL, WP_DROP_NOT_SPECIFIED);
	assert_memory_equal(&fx->drops, &none, sizeof(none));
}

/* A drop counts its reason once per call, on any reference; a consume
 * counts nothing. */
static void kfree_counts_reason_once_per_call(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 0, 10);

	wp_skb_get(skb);
	wp_kfree_skb_reason(skb, WP_DROP_UDP_CSUM);
	assert_int_equal(fx->drops.count[WP_DROP_UDP_CSUM], 1);
	assert_int_equal(atomic_load(&skb->users), 1);
	wp_kfree_skb_reason(skb, WP_DROP_UDP_CSUM);
	assert_int_equal(fx->drops.count[WP_DROP_UDP_CSUM], 2);

	skb = build(fx, 0, 10);
	wp_kfree_skb_reason(skb, WP_DROP_NOT_SPECIFIED);
	assert_int_equal(fx->drops.count[WP_DROP_NOT_SPECIFIED], 1);
	for (int r = 0; r < WP_DROP__MAX; r++)
		if (r != WP_DROP_UDP_CSUM && r != WP_DROP_NOT_SPECIFIED)
			assert_int_equal(fx->drops.count[r], 0);
}

static void clone_shares_data(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 64, 100), *c;
	struct wp_pool_stats before, after;

	memcpy(skb->data, "payload", 7);
	memset(skb->cb, 0x11, sizeof(skb->cb));
	skb->sk = fx;
	skb->hash = 1234;
	wp_skb_reset_mac_header(skb);
	wp_skb_get(skb); /* users are per descriptor: not copied */

	wp_pool_get_stats(fx->pool, &before);
	c = wp_skb_clone(skb);
	assert_non_null(c);
	wp_pool_get_stats(fx->pool, &after);
	assert_int_equal(after.heads_free, before.heads_free - 1);
	assert_int_equal(after.bufs_free, before.bufs_free);

	assert_ptr_not_equal(c, skb);
	assert_ptr_equal(c->head, skb->head);
	assert_ptr_equal(c->data, skb->data);
	assert_int_equal(c->tail, skb->tail);
	assert_int_equal(c->end, skb->end);
	assert_int_equal(c->len, skb->len);
	assert_int_equal(c->mac_header, skb->mac_header);
	assert_int_equal(c->hash, 1234);
	assert_memory_equal(c->cb, skb->cb, sizeof(c->cb));
	assert_int_equal(atomic_load(&c->users), 1);
	assert_null(c->sk);
	assert_ptr_equal(skb->sk, fx);
	assert_null(c->next);
	assert_true(c->cloned && skb->cloned);
	assert_true(wp_skb_cloned(c));
	assert_true(wp_skb_cloned(skb));

	/* Geometry is per descriptor. */
	assert_non_null(wp_skb_pull(c, 3));
	assert_int_equal(skb->len, 100);
	assert_memory_equal(skb->data, "payload", 7);
	assert_memory_equal(c->data, "load", 4);

	wp_consume_skb(skb); /* drops the extra user only */
	assert_true(wp_skb_cloned(skb));
	wp_consume_skb(skb);
	wp_consume_skb(c);
}

static void clone_freed_first_keeps_buffer(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 0, 64), *c;
	struct wp_pool_stats st0, st;

	memset(skb->data, 0x42, 64);
	wp_pool_get_stats(fx->pool, &st0);
	c = wp_skb_clone(skb);
	assert_non_null(c);
	wp_consume_skb(c);
	wp_pool_get_stats(fx->pool, &st);
	assert_int_equal(st.bufs_free, st0.bufs_free);
	assert_int_equal(st.heads_free, st0.heads_free);
	assert_int_equal(st.recycle, st0.recycle);

	/* The original is alone again: writable, bit still set (Linux). */
	assert_true(skb->cloned);
	assert_false(wp_skb_cloned(skb));
	for (int i = 0; i < 64; i++)
		assert_int_equal(skb->data[i], 0x42);

	/* The buffer is not handed out while skb holds it. */
	for (int i = 0; i < NBUFS - 1; i++) {
		void *b = wp_pool_get_buf(fx->pool);

		assert_non_null(b);
		assert_ptr_not_equal(b, skb->head);
		wp_pool_put_buf(fx->pool, b);
	}
	wp_consume_skb(skb);
	wp_pool_get_stats(fx->pool, &st);
	assert_int_equal(st.bufs_free, st0.bufs_free + 1);
}

static void original_freed_first_keeps_buffer(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 0, 64), *c;
	struct wp_pool_stats st0, st;
	void *head = skb->head;

	wp_pool_get_stats(fx->pool, &st0);
	c = wp_skb_clone(skb);
	assert_non_null(c);
	wp_kfree_skb_reason(skb, WP_DROP_IP_CSUM);
	wp_pool_get_stats(fx->pool, &st);
	assert_int_equal(st.bufs_free, st0.bufs_free);
	assert_ptr_equal(c->head, head);
	assert_false(wp_skb_cloned(c));

	/* A fresh skb must not land on the clone's buffer. */
	skb = wp_alloc_skb(fx->pool, 10);
	assert_non_null(skb);
	assert_ptr_not_equal(skb->head, head);
	wp_consume_skb(skb);

	wp_consume_skb(c);
	wp_pool_get_stats(fx->pool, &st);
	assert_int_equal(st.bufs_free, st0.bufs_free + 1);
	assert_int_equal(fx->drops.count[WP_DROP_IP_CSUM], 1);

	/* The buffer's count is back to one: a rebuild is not cloned, and
	 * a second round of cloning counts from one again. */
	skb = build(fx, 0, 10);
	assert_ptr_equal(skb->head, head);
	assert_false(wp_skb_cloned(skb));
	c = wp_skb_clone(skb);
	assert_non_null(c);
	wp_pool_get_stats(fx->pool, &st0);
	wp_consume_skb(c);
	wp_pool_get_stats(fx->pool, &st);
	assert_int_equal(st.bufs_free, st0.bufs_free);
	wp_consume_skb(skb);
}

static void clone_of_clone(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *a = build(fx, 0, 64), *b, *c;

	b = wp_skb_clone(a);
	assert_non_null(b);
	c = wp_skb_clone(b);
	assert_non_null(c);
	assert_ptr_equal(c->head, a->head);

	wp_consume_skb(b);
	assert_true(wp_skb_cloned(a));
	assert_true(wp_skb_cloned(c));
	wp_consume_skb(a);
	assert_false(wp_skb_cloned(c));
	assert_false(wp_pool_is_whole(fx->pool));
	wp_consume_skb(c);
}

static void clone_without_descriptor_fails_untouched(void **state)
{
	struct fx *fx = *state;
	struct wp_pool_stats st0, st;
	struct wp_skb *skbs[NBUFS], *c[3], *skb;
	uint32_t n = 0;
	struct geo g;

	/* NBUFS + NBUFS/4 = 10 descriptors: 8 skbs and 2 clones. */
	for (n = 0; n < NBUFS; n++)
		skbs[n] = build(fx, 0, 10);
	skb = skbs[0];
	c[0] = wp_skb_clone(skb);
	c[1] = wp_skb_clone(skbs[1]);
	assert_non_null(c[0]);
	assert_non_null(c[1]);

	wp_pool_get_stats(fx->pool, &st0);
	assert_int_equal(st0.heads_free, 0);
	g = geo_of(skbs[2]);
	errno = 0;
	c[2] = wp_skb_clone(skbs[2]);
	assert_null(c[2]);
	assert_int_equal(errno, ENOMEM);
	assert_geo_unchanged(skbs[2], g);
	assert_false(skbs[2]->cloned);
	assert_false(wp_skb_cloned(skbs[2]));
	wp_pool_get_stats(fx->pool, &st);
	assert_int_equal(st.alloc_fail, st0.alloc_fail + 1);

	wp_consume_skb(c[0]);
	wp_consume_skb(c[1]);
	for (n = 0; n < NBUFS; n++)
		wp_consume_skb(skbs[n]);
}

static void stamps(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = build(fx, 0, 10), *c;
	static const struct wp_skb_stamps zero;

	/* Not sampled: stamping is a no-op. */
	wp_skb_stamp(skb, WP_STAMP_IP_RCV, 5);
	assert_null(skb->stamps);

	assert_int_equal(wp_skb_stamp_enable(skb), 0);
	assert_non_null(skb->stamps);
	assert_memory_equal(skb->stamps, &zero, sizeof(zero));
	wp_skb_stamp(skb, WP_STAMP_DMA, 100);
	wp_skb_stamp(skb, WP_STAMP_SKB_BUILT, 200);
	skb->stamps->wake_kind = 3;

	/* Enabling again keeps what was stamped. */
	assert_int_equal(wp_skb_stamp_enable(skb), 0);
	assert_int_equal(skb->stamps->ns[WP_STAMP_DMA], 100);

	c = wp_skb_clone(skb);
	assert_non_null(c);
	assert_non_null(c->stamps);
	assert_ptr_not_equal(c->stamps, skb->stamps);
	assert_memory_equal(c->stamps, skb->stamps, sizeof(zero));
	wp_skb_stamp(c, WP_STAMP_QUEUED, 300);
	assert_int_equal(skb->stamps->ns[WP_STAMP_QUEUED], 0);
	wp_consume_skb(c);
	assert_int_equal(skb->stamps->ns[WP_STAMP_SKB_BUILT], 200);
	wp_consume_skb(skb);

	/* A record reused by a later skb starts zeroed. */
	skb = build(fx, 0, 10);
	assert_null(skb->stamps);
	assert_int_equal(wp_skb_stamp_enable(skb), 0);
	assert_memory_equal(skb->stamps, &zero, sizeof(zero));

	wp_consume_skb(skb);

	/* A clone of an unsampled skb is unsampled. */
	skb = build(fx, 0, 1);
	c = wp_skb_clone(skb);
	assert_non_null(c);
	assert_null(c->stamps);
	wp_consume_skb(c);
	wp_consume_skb(skb);
}

static void queue_order_and_accounting(void **state)
{
	struct fx *fx = *state;
	struct wp_skb_queue q;
	struct wp_skb *a = build(fx, 0, 10), *b = build(fx, 0, 20),
		      *c = build(fx, 0, 30);

	wp_skb_queue_init(&q);
	assert_true(wp_skb_queue_empty(&q));
	assert_null(wp_skb_dequeue(&q));

	wp_skb_queue_tail(&q, b);
	wp_skb_queue_tail(&q, c);
	wp_skb_queue_head(&q, a);
	assert_int_equal(q.qlen, 3);
	assert_int_equal(q.bytes, 60);
	assert_false(wp_skb_queue_empty(&q));
	assert_ptr_equal(q.head, a);
	assert_ptr_equal(q.tail, c);
	assert_null(a->prev);
	assert_ptr_equal(a->next, b);
	assert_ptr_equal(b->prev, a);
	assert_ptr_equal(b->next, c);
	assert_ptr_equal(c->prev, b);
	assert_null(c->next);

	assert_ptr_equal(wp_skb_dequeue(&q), a);
	assert_null(a->next);
	assert_null(a->prev);
	assert_int_equal(q.qlen, 2);
	assert_int_equal(q.bytes, 50);
	assert_ptr_equal(wp_skb_dequeue(&q), b);
	assert_ptr_equal(wp_skb_dequeue(&q), c);
	assert_null(wp_skb_dequeue(&q));
	assert_true(wp_skb_queue_empty(&q));
	assert_int_equal(q.bytes, 0);
	assert_null(q.head);
	assert_null(q.tail);

	/* queue_head onto an empty queue sets both ends. */
	wp_skb_queue_head(&q, b);
	assert_ptr_equal(q.head, b);
	assert_ptr_equal(q.tail, b);
	assert_ptr_equal(wp_skb_dequeue(&q), b);

	wp_consume_skb(a);
	wp_consume_skb(b);
	wp_consume_skb(c);
}

static void queue_unlink_anywhere(void **state)
{
	struct fx *fx = *state;
	struct wp_skb_queue q;
	struct wp_skb *s[4];

	wp_skb_queue_init(&q);
	for (int i = 0; i < 4; i++) {
		s[i] = build(fx, 0, (uint32_t)(i + 1));
		wp_skb_queue_tail(&q, s[i]);
	}
	wp_skb_unlink(&q, s[1]); /* middle */
	assert_ptr_equal(s[0]->next, s[2]);
	assert_ptr_equal(s[2]->prev, s[0]);
	assert_null(s[1]->next);
	assert_null(s[1]->prev);
	assert_int_equal(q.qlen, 3);
	assert_int_equal(q.bytes, 1 + 3 + 4);

	wp_skb_unlink(&q, s[0]); /* head */
	assert_ptr_equal(q.head, s[2]);
	assert_null(s[2]->prev);
	wp_skb_unlink(&q, s[3]); /* tail */
	assert_ptr_equal(q.tail, s[2]);
	assert_null(s[2]->next);
	wp_skb_unlink(&q, s[2]); /* the only one */
	assert_null(q.head);
	assert_null(q.tail);
	assert_int_equal(q.qlen, 0);
	assert_int_equal(q.bytes, 0);

	for (int i = 0; i < 4; i++)
		wp_consume_skb(s[i]);
}

static void purge_counts_each_drop(void **state)
{
	struct fx *fx = *state;
	struct wp_skb_queue q;
	struct wp_skb *held;

	wp_skb_queue_init(&q);
	wp_skb_queue_purge(&q, WP_DROP_SOCKET_CLOSED); /* empty: nothing */
	assert_int_equal(fx->drops.count[WP_DROP_SOCKET_CLOSED], 0);

	for (int i = 0; i < 5; i++)
		wp_skb_queue_tail(&q, build(fx, 0, 100));
	/* One skb has a second holder: counted, but not freed. */
	held = wp_skb_get(q.tail);
	wp_skb_queue_purge(&q, WP_DROP_SOCKET_CLOSED);
	assert_int_equal(fx->drops.count[WP_DROP_SOCKET_CLOSED], 5);
	assert_true(wp_skb_queue_empty(&q));
	assert_int_equal(q.bytes, 0);
	assert_null(q.head);
	assert_int_equal(atomic_load(&held->users), 1);
	assert_int_equal(held->len, 100);
	wp_consume_skb(held);

	/* NOT_SPECIFIED means a normal end of life: no drop counted. */
	for (int i = 0; i < 3; i++)
		wp_skb_queue_tail(&q, build(fx, 0, 1));
	wp_skb_queue_purge(&q, WP_DROP_NOT_SPECIFIED);
	assert_true(wp_skb_queue_empty(&q));
	assert_int_equal(fx->drops.count[WP_DROP_NOT_SPECIFIED], 0);
}

/* --- chains (GRO's frag_list) ------------------------------------------ */

/*
 * A head with `hlen` linear bytes and n chain skbs of `flen` bytes each;
 * byte i of the whole is (uint8_t)(i * 7 + 3).
 */
static struct wp_skb *chain(struct fx *fx, uint32_t hlen, int n, uint32_t flen)
{
	struct wp_skb *head = build(fx, 64, hlen), *last = head;
	uint32_t at = 0;

	for (uint32_t i = 0; i < hlen; i++)
		head->data[i] = (uint8_t)(at++ * 7 + 3);
	for (int k = 0; k < n; k++) {
		/* The frame's headers sit before the payload, as GRO leaves
		 * a segment: pulled, not moved. */
		struct wp_skb *f = build(fx, 64, 54 + flen);

		assert_non_null(wp_skb_pull(f, 54));
		for (uint32_t i = 0; i < flen; i++)
			f->data[i] = (uint8_t)(at++ * 7 + 3);
		wp_skb_chain_append(head, last, f);
		last = f;
	}
	return head;
}

static void assert_bytes(const struct wp_skb *skb, uint32_t first)
{
	uint8_t buf[4096];

	assert_true(skb->len <= sizeof(buf));
	assert_int_equal(wp_skb_copy_bits(skb, 0, buf, skb->len), 0);
	for (uint32_t i = 0; i < skb->len; i++)
		assert_int_equal(buf[i], (uint8_t)((first + i) * 7 + 3));
}

static void chain_geometry_and_truesize(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = chain(fx, 100, 3, 200);
	uint32_t one = skb->end + (uint32_t)sizeof(struct wp_skb);

	assert_int_equal(skb->len, 700);
	assert_int_equal(skb->data_len, 600);
	assert_int_equal(wp_skb_headlen(skb), 100);
	assert_true(wp_skb_is_nonlinear(skb));
	assert_int_equal(wp_skb_truesize(skb), 4 * one);
	assert_bytes(skb, 0);
	/* A header pull stops at the linear part. */
	assert_null(wp_skb_pull(skb, 101));
	assert_non_null(wp_skb_pull(skb, 100));
	assert_int_equal(wp_skb_headlen(skb), 0);
	assert_bytes(skb, 100);
	/* Nobody clones a chain. */
	errno = 0;
	assert_null(wp_skb_clone(skb));
	assert_int_equal(errno, EINVAL);
	/* Freeing the head frees the chain: teardown finds the pool whole. */
	wp_consume_skb(skb);
}

static void chain_copy_bits_ranges(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = chain(fx, 10, 4, 7);
	uint8_t buf[64];

	/* Every start and every length, across every boundary. */
	for (uint32_t off = 0; off <= skb->len; off++) {
		for (uint32_t n = 0; off + n <= skb->len; n++) {
			memset(buf, 0xee, sizeof(buf));
			assert_int_equal(wp_skb_copy_bits(skb, off, buf, n), 0);
			for (uint32_t i = 0; i < n; i++)
				assert_int_equal(buf[i],
						 (uint8_t)((off + i) * 7 + 3));
			assert_int_equal(buf[n], 0xee);
		}
	}
	assert_int_equal(wp_skb_copy_bits(skb, 0, buf, skb->len + 1), -EINVAL);
	assert_int_equal(wp_skb_copy_bits(skb, skb->len + 1, buf, 0), -EINVAL);
	assert_int_equal(wp_skb_copy_bits(skb, UINT32_MAX, buf, 2), -EINVAL);
	wp_consume_skb(skb);
}

static void chain_trim(void **state)
{
	struct fx *fx = *state;
	uint32_t one;
	struct wp_skb *skb = chain(fx, 100, 3, 200);

	one = skb->end + (uint32_t)sizeof(struct wp_skb);
	/* Inside the second chain skb: the third goes. */
	wp_skb_trim(skb, 450);
	assert_int_equal(skb->len, 450);
	assert_int_equal(skb->data_len, 350);
	assert_int_equal(wp_skb_truesize(skb), 3 * one);
	assert_bytes(skb, 0);
	/* Exactly at a boundary: nothing empty stays linked. */
	wp_skb_trim(skb, 300);
	assert_int_equal(skb->data_len, 200);
	assert_int_equal(wp_skb_truesize(skb), 2 * one);
	assert_null(skb->frag_list->next);
	/* Into the linear part: the chain goes whole. */
	wp_skb_trim(skb, 40);
	assert_int_equal(skb->len, 40);
	assert_int_equal(skb->data_len, 0);
	assert_null(skb->frag_list);
	assert_false(wp_skb_is_nonlinear(skb));
	assert_int_equal(wp_skb_truesize(skb), one);
	assert_bytes(skb, 0);
	/* Longer than it is: nothing. */
	wp_skb_trim(skb, 1000);
	assert_int_equal(skb->len, 40);
	wp_consume_skb(skb);
}

static void chain_pskb_pull(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = chain(fx, 100, 3, 200);
	uint32_t one = skb->end + (uint32_t)sizeof(struct wp_skb);

	assert_int_equal(wp_pskb_pull(skb, 701), -EINVAL);
	assert_int_equal(skb->len, 700);
	/* Past the linear part, into the first chain skb. */
	assert_int_equal(wp_pskb_pull(skb, 150), 0);
	assert_int_equal(skb->len, 550);
	assert_int_equal(wp_skb_headlen(skb), 0);
	assert_int_equal(wp_skb_truesize(skb), 4 * one);
	assert_bytes(skb, 150);
	/* The rest of it and part of the next: the emptied one is freed. */
	assert_int_equal(wp_pskb_pull(skb, 160), 0);
	assert_int_equal(skb->len, 390);
	assert_int_equal(skb->data_len, 390);
	assert_int_equal(wp_skb_truesize(skb), 3 * one);
	assert_bytes(skb, 310);
	/* Everything. */
	assert_int_equal(wp_pskb_pull(skb, 390), 0);
	assert_int_equal(skb->len, 0);
	assert_null(skb->frag_list);
	assert_int_equal(wp_skb_truesize(skb), one);
	wp_consume_skb(skb);
}

/* A chained skb dropped or freed from another thread returns it all. */
static void *free_elsewhere(void *arg)
{
	wp_kfree_skb_reason(arg, WP_DROP_SOCKET_CLOSED);
	return NULL;
}

static void chain_freed_away_from_owner(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skb = chain(fx, 100, 3, 200);
	struct wp_drop_stats before, after;
	pthread_t t;

	/* A thread with no block of its own counts in the shared one. */
	wp_drop_stats_shared(&before);
	assert_int_equal(pthread_create(&t, NULL, free_elsewhere, skb), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	wp_drop_stats_shared(&after);
	/* One drop for the packet, not one per chain skb. */
	assert_int_equal(after.count[WP_DROP_SOCKET_CLOSED] -
				 before.count[WP_DROP_SOCKET_CLOSED],
			 1);
	assert_true(wp_pool_is_whole(fx->pool));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(build_skb_geometry),
		T(build_skb_resets_recycled_descriptor),
		T(alloc_skb_reserves_headroom),
		T(reserve),
		T(put),
		T(push),
		T(pull),
		T(trim),
		T(header_offsets_follow_the_layers),
		T(get_takes_a_reference),
		T(consume_and_kfree_accept_null),
		T(kfree_counts_reason_once_per_call),
		T(clone_shares_data),
		T(clone_freed_first_keeps_buffer),
		T(original_freed_first_keeps_buffer),
		T(clone_of_clone),
		T(clone_without_descriptor_fails_untouched),
		T(stamps),
		T(queue_order_and_accounting),
		T(queue_unlink_anywhere),
		T(purge_counts_each_drop),
		T(chain_geometry_and_truesize),
		T(chain_copy_bits_ranges),
		T(chain_trim),
		T(chain_pskb_pull),
		T(chain_freed_away_from_owner),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
