// SPDX-License-Identifier: MIT
/*
 * wirepath skb: the sk_buff explorer. It drives the real src/skb code
 * (one pool, one buffer) through reserve/put/push/pull/trim/clone and
 * shows, after each call, the offsets, the rooms and a bar of the buffer.
 *
 * The explorer also keeps its own model of what each call must do (the
 * contract in src/skb/skb.h) and compares: a call that succeeds but moves
 * the offsets differently, or fails and still changes something, is a bug
 * in src/skb and ends the run with exit 1. A call the contract refuses
 * (pull past len, push past headroom) is normal: it is shown as refused
 * with its reason, the run goes on, and the exit status stays 0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "skb/pool.h"
#include "skb/skb.h"

static const char usage[] =
	"usage: wirepath skb [--size BYTES] [--headroom BYTES] [--len BYTES]\n"
	"                    [--width COLS] [--json] [OPS...]\n"
	"\n"
	"The sk_buff explorer: one buffer from a real pool, edited by the\n"
	"real skb calls. After each step: head/data/tail/end offsets, len,\n"
	"headroom, tailroom, whether the call succeeded, and a bar of the\n"
	"buffer.\n"
	"\n"
	"With no OPS: the demonstration. Receive path: a frame (eth + ip +\n"
	"tcp + --len bytes of payload) lands at --headroom; eth, ip and tcp\n"
	"are pulled. Transmit path: an empty skb; --headroom is reserved,\n"
	"--len bytes of payload put, and tcp, ip and eth pushed.\n"
	"\n"
	"With OPS: an skb holding --len bytes at offset --headroom, then\n"
	"OPS in order:\n"
	"  reserve:N    wp_skb_reserve: move data and tail by N (empty skb "
	"only)\n"
	"  put:N        wp_skb_put: extend the data at the tail\n"
	"  push:N       wp_skb_push: prepend N bytes of header into headroom\n"
	"  pull:N       wp_skb_pull: strip N bytes from the front\n"
	"  trim:N       wp_skb_trim: cut the data to N bytes\n"
	"  push:eth|ip|tcp|udp, pull:eth|ip|tcp|udp\n"
	"               the same with N = 14, 20, 20, 8\n"
	"  clone        wp_skb_clone: a second descriptor for the same data\n"
	"N is a byte count 0..4294967295 (K, M, G suffixes: 1024^n).\n"
	"\n"
	"options:\n"
	"  --size BYTES      the buffer's data room: head 0, end BYTES "
	"(192..65472;\n"
	"                    default 256)\n"
	"  --headroom BYTES  where the data starts (default 64)\n"
	"  --len BYTES       initial data, or the demo's payload (default 64)\n"
	"  --width COLS      width of the bar (16..512; default 64)\n"
	"  --json            one JSON object per step\n"
	"  -h, --help        this text\n"
	"\n"
	"Bar: '-' headroom, '.' tailroom, E eth, I ip, T tcp, U udp, h other\n"
	"header, p payload; each region proportional to its bytes (at least "
	"one\ncolumn when it is not empty).\n"
	"\n"
	"A refused call (the contract's answer, e.g. pull past len) is shown "
	"as\n"
	"\"refused\" with its reason, leaves the skb unchanged, and does not "
	"change\nthe exit status. Exit status: 0 the steps ran; 1 the skb "
	"code broke its\ncontract or the pool was not whole at the end (a "
	"bug); 2 bad option or OP.\n";

static int run(int argc, char **argv);

WP_CMD_REGISTER(wp_cmd_skb, "skb",
		"the sk_buff explorer: push/pull/put/trim on a real skb", usage,
		run)

enum { OPT_SIZE, OPT_HEADROOM, OPT_LEN, OPT_WIDTH, OPT_JSON };

static const struct wp_opt opts[] = {
	{ "size", 0, true, OPT_SIZE },
	{ "headroom", 0, true, OPT_HEADROOM },
	{ "len", 0, true, OPT_LEN },
	{ "width", 0, true, OPT_WIDTH },
	{ "json", 0, false, OPT_JSON },
	{ NULL, 0, false, 0 },
};

/* Header layers the shortcuts name, and their bar symbols. */
struct layer {
	const char *name;
	uint32_t len;
	char sym;
};

static const struct layer layers[] = {
	{ "eth", 14, 'E' },
	{ "ip", 20, 'I' },
	{ "tcp", 20, 'T' },
	{ "udp", 8, 'U' },
};

static const struct layer layer_header = { "header", 0, 'h' };
static const struct layer layer_payload = { "payload", 0, 'p' };

enum op_kind { OP_RESERVE, OP_PUT, OP_PUSH, OP_PULL, OP_TRIM, OP_CLONE };

static const char *const op_names[] = {
	[OP_RESERVE] = "reserve", [OP_PUT] = "put",   [OP_PUSH] = "push",
	[OP_PULL] = "pull",       [OP_TRIM] = "trim", [OP_CLONE] = "clone",
};

struct op {
	enum op_kind kind;
	uint32_t n;
	const struct layer *layer; /* what a push adds (header if unnamed) */
	const char *text;          /* as typed, for output */
};

/* What occupies [data, tail): header layers and payload, front first. */
struct seg {
	const struct layer *layer;
	uint32_t len;
};

struct geometry {
	uint32_t data; /* offset from head */
	uint32_t tail;
	uint32_t end;
	uint32_t len;
};

struct explorer {
	struct wp_pool *pool;
	struct wp_skb *skb;
	struct wp_skb **clones;
	unsigned nclones;
	struct seg *segs;
	unsigned nsegs;
	unsigned step;
	unsigned width;
	bool json;
	const char *phase;
	char *bar;
	/* render_bar's scratch: one entry per region, segments + 2 rooms. */
	uint32_t *reg_len;
	char *reg_sym;
	unsigned *bound;
};

/* --- parsing -------------------------------------------------------------- */

static const struct layer *find_layer(const char *name)
{
	for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++)
		if (strcmp(layers[i].name, name) == 0)
			return &layers[i];
	return NULL;
}

static int parse_op(const char *s, struct op *op)
{
	const char *colon = strchr(s, ':');
	size_t klen = colon ? (size_t)(colon - s) : strlen(s);
	unsigned k;

	memset(op, 0, sizeof(*op));
	op->text = s;
	for (k = 0; k < sizeof(op_names) / sizeof(op_names[0]); k++)
		if (strlen(op_names[k]) == klen &&
		    strncmp(op_names[k], s, klen) == 0)
			break;
	if (k == sizeof(op_names) / sizeof(op_names[0]))
		return wp_cli_usage_error(&wp_cmd_skb,
			"%s: unknown operation (expected reserve:N, put:N, "
			"push:N|eth|ip|tcp|udp, pull:N|eth|ip|tcp|udp, trim:N "
			"or clone)", s);
	op->kind = (enum op_kind)k;
	if (op->kind == OP_CLONE) {
		if (colon)
			return wp_cli_usage_error(&wp_cmd_skb,
				"%s: clone takes no argument (expected clone)",
				s);
		return 0;
	}
	if (!colon)
		return wp_cli_usage_error(&wp_cmd_skb,
			"%s: needs a byte count (expected %s:N)", s,
			op_names[k]);
	if (op->kind == OP_PUSH || op->kind == OP_PULL) {
		op->layer = find_layer(colon + 1);
		if (op->layer) {
			op->n = op->layer->len;
			return 0;
		}
		op->layer = &layer_header;
	}
	if (wp_parse_u32("skb", s, colon + 1, WP_UNIT_BYTES, 0, UINT32_MAX,
			 &op->n))
		return WP_EXIT_USAGE;
	return 0;
}

/* --- the model of what the data holds ------------------------------------- */

static uint32_t skb_data_off(const struct wp_skb *skb)
{
	return (uint32_t)(skb->data - skb->head);
}

static struct geometry geometry_of(const struct wp_skb *skb)
{
	struct geometry g = {
		.data = skb_data_off(skb),
		.tail = skb->tail,
		.end = skb->end,
		.len = skb->len,
	};
	return g;
}

static bool geometry_eq(const struct geometry *a, const struct geometry *b)
{
	return a->data == b->data && a->tail == b->tail && a->end == b->end &&
	       a->len == b->len;
}

static void segs_push_front(struct explorer *e, const struct layer *l,
			    uint32_t len)
{
	if (!len)
		return;
	memmove(e->segs + 1, e->segs, e->nsegs * sizeof(e->segs[0]));
	e->segs[0] = (struct seg){ l, len };
	e->nsegs++;
}

static void segs_put(struct explorer *e, uint32_t len)
{
	if (!len)
		return;
	if (e->nsegs && e->segs[e->nsegs - 1].layer == &layer_payload) {
		e->segs[e->nsegs - 1].len += len;
		return;
	}
	e->segs[e->nsegs++] = (struct seg){ &layer_payload, len };
}

static void segs_pull(struct explorer *e, uint32_t len)
{
	while (len && e->nsegs) {
		if (e->segs[0].len > len) {
			e->segs[0].len -= len;
			return;
		}
		len -= e->segs[0].len;
		e->nsegs--;
		memmove(e->segs, e->segs + 1, e->nsegs * sizeof(e->segs[0]));
	}
}

static void segs_trim(struct explorer *e, uint32_t len)
{
	uint32_t total = 0;
	unsigned i;

	for (i = 0; i < e->nsegs && total + e->segs[i].len <= len; i++)
		total += e->segs[i].len;
	if (i < e->nsegs && total < len) {
		e->segs[i].len = len - total;
		i++;
	}
	e->nsegs = i;
}

/*
 * The bar: region boundaries are the byte offsets scaled to the width,
 * then nudged so that every non-empty region keeps at least one column
 * (a 14-byte header in a 64 KiB buffer would otherwise vanish). When
 * there are more regions than columns, plain scaling is kept.
 */
static void render_bar(struct explorer *e, const struct geometry *g)
{
	unsigned nreg = e->nsegs + 2, w = e->width, nonempty = 0;
	uint32_t *len = e->reg_len;
	char *sym = e->reg_sym;
	unsigned *bound = e->bound;
	uint64_t off = 0;

	len[0] = g->data;
	sym[0] = '-';
	for (unsigned i = 0; i < e->nsegs; i++) {
		len[i + 1] = e->segs[i].len;
		sym[i + 1] = e->segs[i].layer->sym;
	}
	len[nreg - 1] = g->end - g->tail;
	sym[nreg - 1] = '.';

	bound[0] = 0;
	for (unsigned i = 0; i < nreg; i++) {
		off += len[i];
		bound[i + 1] = g->end ?
			(unsigned)((off * w + g->end / 2) / g->end) : w;
		nonempty += len[i] != 0;
	}
	bound[nreg] = w;
	if (nonempty <= w) {
		for (unsigned i = 0; i < nreg; i++)
			if (len[i] && bound[i + 1] <= bound[i])
				bound[i + 1] = bound[i] + 1;
		for (unsigned i = nreg; i-- > 0;) {
			unsigned need = len[i] ? 1 : 0;

			if (bound[i] + need > bound[i + 1])
				bound[i] = bound[i + 1] - need;
		}
	}
	e->bar[0] = '[';
	for (unsigned i = 0; i < nreg; i++)
		for (unsigned c = bound[i]; c < bound[i + 1] && c < w; c++)
			e->bar[1 + c] = sym[i];
	e->bar[w + 1] = ']';
	e->bar[w + 2] = '\0';
}

/* --- output --------------------------------------------------------------- */

static void print_header(const struct explorer *e, const char *title)
{
	if (e->json)
		return;
	printf("\n%s\n", title);
	printf("step op             result   head  data  tail   end   len "
	       "headroom tailroom\n");
}

static void print_step(struct explorer *e, const char *op, const char *call,
		       bool ok, const char *note)
{
	struct geometry g = geometry_of(e->skb);
	struct wp_json j;

	render_bar(e, &g);
	if (e->json) {
		wp_json_begin(&j, stdout);
		wp_json_u64(&j, "step", e->step);
		wp_json_str(&j, "phase", e->phase);
		wp_json_str(&j, "op", op);
		wp_json_str(&j, "call", call);
		wp_json_bool(&j, "ok", ok);
		if (note)
			wp_json_str(&j, ok ? "note" : "error", note);
		wp_json_u64(&j, "head", 0);
		wp_json_u64(&j, "data", g.data);
		wp_json_u64(&j, "tail", g.tail);
		wp_json_u64(&j, "end", g.end);
		wp_json_u64(&j, "len", g.len);
		wp_json_u64(&j, "headroom", wp_skb_headroom(e->skb));
		wp_json_u64(&j, "tailroom", wp_skb_tailroom(e->skb));
		wp_json_bool(&j, "cloned", wp_skb_cloned(e->skb));
		wp_json_array_begin(&j, "layers");
		for (unsigned i = 0; i < e->nsegs; i++) {
			wp_json_object_begin(&j, NULL);
			wp_json_str(&j, "name", e->segs[i].layer->name);
			wp_json_u64(&j, "bytes", e->segs[i].len);
			wp_json_object_end(&j);
		}
		wp_json_array_end(&j);
		wp_json_str(&j, "bar", e->bar);
		wp_json_end(&j);
	} else {
		printf("%4u %-14s %-7s %5u %5u %5u %5u %5u %8u %8u\n", e->step,
		       op, ok ? "ok" : "refused", 0u, g.data, g.tail, g.end,
		       g.len, wp_skb_headroom(e->skb), wp_skb_tailroom(e->skb));
		if (note)
			printf("     %s\n", note);
		printf("     %s\n", e->bar);
	}
	e->step++;
}

/* --- applying an op ------------------------------------------------------- */

/*
 * What the contract in skb.h says the call does to g. Returns 0 when it
 * must succeed, or the negative errno it must refuse with (-ENOBUFS
 * standing for "returns NULL"), and the reason in why.
 */
static int expect(const struct op *op, struct geometry *g, char *why,
		  size_t size, bool *noop)
{
	uint32_t headroom = g->data, tailroom = g->end - g->tail;

	*noop = false;
	switch (op->kind) {
	case OP_RESERVE:
		if (g->len) {
			snprintf(why, size, "len %u, not empty", g->len);
			return -EINVAL;
		}
		if (op->n > tailroom) {
			snprintf(why, size, "%u > tailroom %u", op->n,
				 tailroom);
			return -ENOSPC;
		}
		g->data += op->n;
		g->tail += op->n;
		return 0;
	case OP_PUT:
		if (op->n > tailroom) {
			snprintf(why, size, "%u > tailroom %u", op->n,
				 tailroom);
			return -ENOBUFS;
		}
		g->tail += op->n;
		g->len += op->n;
		return 0;
	case OP_PUSH:
		if (op->n > headroom) {
			snprintf(why, size, "%u > headroom %u", op->n,
				 headroom);
			return -ENOBUFS;
		}
		g->data -= op->n;
		g->len += op->n;
		return 0;
	case OP_PULL:
		if (op->n > g->len) {
			snprintf(why, size, "%u > len %u", op->n, g->len);
			return -ENOBUFS;
		}
		g->data += op->n;
		g->len -= op->n;
		return 0;
	case OP_TRIM:
		if (g->len <= op->n) {
			snprintf(why, size, "len %u <= %u: nothing to cut, "
				 "wp_skb_trim() is a no-op", g->len, op->n);
			*noop = true;
			return 0;
		}
		g->tail -= g->len - op->n;
		g->len = op->n;
		return 0;
	case OP_CLONE:
		return 0;
	}
	return -EINVAL;
}

static int contract_broken(const char *call, const char *what,
			   const struct geometry *got,
			   const struct geometry *want)
{
	return wp_cli_fail("skb",
		"BUG: %s %s: data %u tail %u end %u len %u, the contract in "
		"src/skb/skb.h says data %u tail %u end %u len %u; fix "
		"src/skb/skb.c", call, what, got->data, got->tail, got->end,
		got->len, want->data, want->tail, want->end, want->len);
}

static const char *errno_name(int err)
{
	switch (err) {
	case -EINVAL:
		return "-EINVAL";
	case -ENOSPC:
		return "-ENOSPC";
	default:
		return "an unexpected error";
	}
}

/* Call the real function; ok says whether it did the edit. */
static int call_real(struct explorer *e, const struct op *op, bool *ok,
		     uint8_t **ret, uint8_t **want_ret)
{
	struct wp_skb *skb = e->skb, *clone;
	int err = 0;

	*ret = NULL;
	*want_ret = NULL;
	switch (op->kind) {
	case OP_RESERVE:
		err = wp_skb_reserve(skb, op->n);
		*ok = err == 0;
		break;
	case OP_PUT:
		*want_ret = skb->head + skb->tail;
		*ret = wp_skb_put(skb, op->n);
		*ok = *ret != NULL;
		break;
	case OP_PUSH:
		*want_ret = skb->data - (op->n <= wp_skb_headroom(skb) ?
					 op->n : 0);
		*ret = wp_skb_push(skb, op->n);
		*ok = *ret != NULL;
		break;
	case OP_PULL:
		*want_ret = skb->data + (op->n <= skb->len ? op->n : 0);
		*ret = wp_skb_pull(skb, op->n);
		*ok = *ret != NULL;
		break;
	case OP_TRIM:
		wp_skb_trim(skb, op->n);
		*ok = true;
		break;
	case OP_CLONE:
		clone = wp_skb_clone(skb);
		*ok = clone != NULL;
		if (clone)
			e->clones[e->nclones++] = clone;
		else
			err = -errno;
		break;
	}
	return err;
}

/* Keep the picture of the data in step with a successful edit. */
static void update_segs(struct explorer *e, const struct op *op, bool noop)
{
	switch (op->kind) {
	case OP_PUSH:
		segs_push_front(e, op->layer, op->n);
		break;
	case OP_PULL:
		segs_pull(e, op->n);
		break;
	case OP_PUT:
		segs_put(e, op->n);
		break;
	case OP_TRIM:
		if (!noop)
			segs_trim(e, op->n);
		break;
	case OP_RESERVE:
	case OP_CLONE:
		break;
	}
}

/*
 * Run one op on the real skb, check it against the contract, print the
 * step. Returns WP_EXIT_OK, or WP_EXIT_FAILURE if the real code broke its
 * contract (message printed).
 */
static int apply(struct explorer *e, const struct op *op)
{
	struct geometry before = geometry_of(e->skb), want = before, got;
	char call[64], why[128] = "", note[192];
	const char *fn = op_names[op->kind];
	uint8_t *ret, *want_ret;
	bool noop, ok = false, shared = wp_skb_cloned(e->skb);
	int must, err;

	if (op->kind == OP_CLONE)
		snprintf(call, sizeof(call), "wp_skb_clone(skb)");
	else
		snprintf(call, sizeof(call), "wp_skb_%s(skb, %u)", fn, op->n);
	must = expect(op, &want, why, sizeof(why), &noop);
	err = call_real(e, op, &ok, &ret, &want_ret);
	got = geometry_of(e->skb);

	if (ok && must)
		return contract_broken(call, "succeeded where it must refuse",
				       &got, &before);
	if (!ok && !must && op->kind != OP_CLONE)
		return contract_broken(call, "refused a legal call", &got,
				       &want);
	if (!geometry_eq(&got, ok ? &want : &before))
		return contract_broken(call, ok ? "moved the offsets wrongly" :
				       "refused but changed the skb", &got,
				       ok ? &want : &before);
	if (ok && want_ret && ret != want_ret)
		return wp_cli_fail("skb", "BUG: %s returned data%+td, the "
				   "contract says data%+td; fix src/skb/skb.c",
				   call, ret - e->skb->data,
				   want_ret - e->skb->data);
	if (!ok && op->kind == OP_RESERVE && err != must)
		return wp_cli_fail("skb", "BUG: %s returned %s (%d), the "
				   "contract says %s; fix src/skb/skb.c", call,
				   errno_name(err), err, errno_name(must));

	note[0] = '\0';
	if (ok) {
		update_segs(e, op, noop);
		if (noop)
			snprintf(note, sizeof(note), "%s", why);
		else if (op->kind == OP_CLONE)
			snprintf(note, sizeof(note), "a second descriptor on "
				 "the same buffer: data now read-only");
		else if (op->kind == OP_PUSH && shared)
			snprintf(note, sizeof(note),
				 "shared with a clone: writing the header "
				 "needs skb_cow_head() first");
	} else if (op->kind == OP_RESERVE) {
		snprintf(note, sizeof(note), "%s: wp_skb_reserve() returned "
			 "%s; skb unchanged", why, errno_name(err));
	} else if (op->kind == OP_CLONE) {
		snprintf(note, sizeof(note), "no free descriptor in the pool: "
			 "wp_skb_clone() returned NULL, %s",
			 err == -ENOMEM ? "ENOMEM" : strerror(-err));
	} else {
		snprintf(note, sizeof(note), "%s: wp_skb_%s() returned NULL; "
			 "skb unchanged", why, fn);
	}
	print_step(e, op->text, call, ok, note[0] ? note : NULL);
	return WP_EXIT_OK;
}

/* --- setup and teardown --------------------------------------------------- */

/*
 * A new skb on the pool's only buffer holding [headroom, headroom + len):
 * a received frame (eth, ip, tcp headers, then payload) or payload only.
 */
static int new_skb(struct explorer *e, uint32_t headroom, uint32_t len,
		   bool frame)
{
	char call[64];
	void *buf = wp_pool_get_buf(e->pool);

	if (!buf)
		return wp_cli_fail("skb", "BUG: the pool's only buffer is not "
				   "free: an skb was not recycled; fix "
				   "src/skb/pool.c");
	e->skb = wp_build_skb(e->pool, buf, headroom, len);
	if (!e->skb) {
		wp_pool_put_buf(e->pool, buf);
		return wp_cli_fail("skb", "wp_build_skb(pool, buf, %u, %u) "
				   "failed: %s; check --headroom and --len "
				   "against --size", headroom, len,
				   strerror(errno));
	}
	e->nsegs = 0;
	snprintf(call, sizeof(call), "wp_build_skb(pool, buf, %u, %u)",
		 headroom, len);
	if (frame) {
		/* The NIC's DMA wrote a whole frame: eth, ip, tcp, payload. */
		for (unsigned i = 0; i < 3; i++)
			e->segs[e->nsegs++] = (struct seg){ &layers[i],
							    layers[i].len };
		segs_put(e, len - 54);
	} else {
		segs_put(e, len);
	}
	print_step(e, "build_skb", call, true, NULL);
	return WP_EXIT_OK;
}

static void release_all(struct explorer *e)
{
	wp_consume_skb(e->skb);
	e->skb = NULL;
	for (unsigned i = 0; i < e->nclones; i++)
		wp_consume_skb(e->clones[i]);
	e->nclones = 0;
}

static int check_whole(struct explorer *e)
{
	struct wp_pool_stats st;

	wp_pool_get_stats(e->pool, &st);
	if (!wp_pool_is_whole(e->pool))
		return wp_cli_fail("skb", "BUG: the pool is not whole after "
				   "every skb was freed (buffers %u/%u free, "
				   "descriptors %u/%u free): a leak in "
				   "src/skb/pool.c", st.bufs_free,
				   st.bufs_total, st.heads_free,
				   st.heads_total);
	if (!e->json)
		printf("\npool: whole again (%u/%u buffers, %u/%u descriptors "
		       "free; %llu allocs, %llu recycled)\n",
		       st.bufs_free, st.bufs_total, st.heads_free,
		       st.heads_total, (unsigned long long)st.alloc,
		       (unsigned long long)st.recycle);
	return WP_EXIT_OK;
}

static int run_ops(struct explorer *e, const struct op *ops, unsigned nops,
		   uint32_t headroom, uint32_t len)
{
	char title[160];
	int ret;

	e->phase = "ops";
	snprintf(title, sizeof(title), "an skb with %u bytes at offset %u of "
		 "a %u-byte buffer", len, headroom,
		 wp_pool_buf_size(e->pool));
	print_header(e, title);
	ret = new_skb(e, headroom, len, false);
	for (unsigned i = 0; ret == WP_EXIT_OK && i < nops; i++)
		ret = apply(e, &ops[i]);
	release_all(e);
	return ret;
}

static int run_demo(struct explorer *e, uint32_t headroom, uint32_t payload)
{
	static const struct op rx[] = {
		{ OP_PULL, 14, &layers[0], "pull:eth" },
		{ OP_PULL, 20, &layers[1], "pull:ip" },
		{ OP_PULL, 20, &layers[2], "pull:tcp" },
	};
	static const struct op tx_push[] = {
		{ OP_PUSH, 20, &layers[2], "push:tcp" },
		{ OP_PUSH, 20, &layers[1], "push:ip" },
		{ OP_PUSH, 14, &layers[0], "push:eth" },
	};
	char title[200], reserve_text[32], put_text[32];
	struct op tx_setup[2] = {
		{ OP_RESERVE, headroom, NULL, reserve_text },
		{ OP_PUT, payload, NULL, put_text },
	};
	int ret;

	e->phase = "rx";
	snprintf(title, sizeof(title), "receive path: a %u-byte frame (eth 14 "
		 "+ ip 20 + tcp 20 + payload %u) arrives\n"
		 "at offset %u (the NIC's DMA); each layer pulls its header",
		 54 + payload, payload, headroom);
	print_header(e, title);
	ret = new_skb(e, headroom, 54 + payload, true);
	for (unsigned i = 0; ret == WP_EXIT_OK && i < 3; i++)
		ret = apply(e, &rx[i]);
	/* Delivered: the buffer goes back to the pool for the next skb. */
	release_all(e);
	if (ret != WP_EXIT_OK)
		return ret;

	e->phase = "tx";
	snprintf(reserve_text, sizeof(reserve_text), "reserve:%u", headroom);
	snprintf(put_text, sizeof(put_text), "put:%u", payload);
	print_header(e, "transmit path: an empty skb reserves headroom, takes "
		     "the payload,\nand each layer pushes its header");
	ret = new_skb(e, 0, 0, false);
	for (unsigned i = 0; ret == WP_EXIT_OK && i < 2; i++)
		ret = apply(e, &tx_setup[i]);
	for (unsigned i = 0; ret == WP_EXIT_OK && i < 3; i++)
		ret = apply(e, &tx_push[i]);
	release_all(e);
	return ret;
}

/* --- the command ---------------------------------------------------------- */

struct skb_args {
	uint32_t size, headroom, len, width;
	bool json;
	struct op *ops;
	unsigned nops;
};

static int parse_args(int argc, char **argv, struct skb_args *s)
{
	struct wp_args a;
	int id;

	wp_args_init(&a, &wp_cmd_skb, opts, argc, argv);
	while ((id = wp_args_next(&a)) != WP_ARG_END) {
		switch (id) {
		case WP_ARG_HELP:
			return WP_ARG_HELP;
		case WP_ARG_ERROR:
			return WP_EXIT_USAGE;
		case WP_ARG_POSITIONAL:
			if (parse_op(a.arg, &s->ops[s->nops]))
				return WP_EXIT_USAGE;
			s->nops++;
			break;
		case OPT_SIZE:
			if (wp_parse_u32("skb", a.opt, a.arg, WP_UNIT_BYTES,
					 WP_POOL_BUF_SIZE_MIN,
					 WP_POOL_BUF_SIZE_MAX, &s->size))
				return WP_EXIT_USAGE;
			break;
		case OPT_HEADROOM:
			if (wp_parse_u32("skb", a.opt, a.arg, WP_UNIT_BYTES, 0,
					 WP_POOL_BUF_SIZE_MAX, &s->headroom))
				return WP_EXIT_USAGE;
			break;
		case OPT_LEN:
			if (wp_parse_u32("skb", a.opt, a.arg, WP_UNIT_BYTES, 0,
					 WP_POOL_BUF_SIZE_MAX, &s->len))
				return WP_EXIT_USAGE;
			break;
		case OPT_WIDTH:
			if (wp_parse_u32("skb", a.opt, a.arg, WP_UNIT_NONE, 16,
					 512, &s->width))
				return WP_EXIT_USAGE;
			break;
		case OPT_JSON:
			s->json = true;
			break;
		}
	}
	/* The demo's frame carries 54 bytes of headers before the payload. */
	if (s->headroom + (s->nops ? 0 : 54) + s->len > s->size) {
		char what[40], expected[64];

		snprintf(what, sizeof(what), "--len %u", s->len);
		snprintf(expected, sizeof(expected),
			 "--headroom + %s--len <= --size",
			 s->nops ? "" : "54 + ");
		return wp_cli_bad_value("skb", what, expected,
			"headroom %u + %slen %u does not fit in size %u",
			s->headroom, s->nops ? "" : "headers 54 + ", s->len,
			s->size);
	}
	return WP_EXIT_OK;
}

static int run(int argc, char **argv)
{
	struct skb_args s = {
		.size = 256, .headroom = 64, .len = 64, .width = 64,
	};
	struct wp_pool_config cfg = { .name = "skb", .nbufs = 1 };
	struct explorer e = { 0 };
	int ret;

	/* At most argc ops; each adds at most one segment to a frame's 4. */
	s.ops = calloc((size_t)argc, sizeof(*s.ops));
	e.segs = calloc((size_t)argc + 4, sizeof(*e.segs));
	e.clones = calloc((size_t)argc, sizeof(*e.clones));
	e.bar = malloc(512 + 3);
	e.reg_len = calloc((size_t)argc + 6, sizeof(*e.reg_len));
	e.reg_sym = calloc((size_t)argc + 6, sizeof(*e.reg_sym));
	e.bound = calloc((size_t)argc + 7, sizeof(*e.bound));
	if (!s.ops || !e.segs || !e.clones || !e.bar || !e.reg_len ||
	    !e.reg_sym || !e.bound) {
		ret = wp_cli_fail("skb", "out of memory");
		goto out_free;
	}
	ret = parse_args(argc, argv, &s);
	if (ret == WP_ARG_HELP) {
		ret = WP_EXIT_OK;
		goto out_free;
	}
	if (ret != WP_EXIT_OK)
		goto out_free;

	cfg.buf_size = s.size;
	/* The skb and one clone: a second clone shows a bounded pool
	 * refusing rather than growing. */
	cfg.nheads = 2;
	e.pool = wp_pool_create(&cfg);
	if (!e.pool) {
		ret = wp_cli_fail("skb", "cannot create a pool of one %u-byte "
				  "buffer: %s", s.size, strerror(errno));
		goto out_free;
	}
	e.width = s.width;
	e.json = s.json;
	if (!e.json)
		printf("sk_buff explorer: one %u-byte buffer from a pool "
		       "(head 0, end %u)\n"
		       "bar: '-' headroom, '.' tailroom, E eth, I ip, T tcp, "
		       "U udp, h header, p payload\n", s.size, s.size);
	if (s.nops)
		ret = run_ops(&e, s.ops, s.nops, s.headroom, s.len);
	else
		ret = run_demo(&e, s.headroom, s.len);
	if (ret == WP_EXIT_OK)
		ret = check_whole(&e);
	wp_pool_destroy(e.pool);
out_free:
	free(e.bound);
	free(e.reg_sym);
	free(e.reg_len);
	free(e.bar);
	free(e.clones);
	free(e.segs);
	free(s.ops);
	return ret;
}
