// SPDX-License-Identifier: MIT
/*
 * The glass box over the control socket: `trace` (sample packets that
 * match a filter, print each one's journey once it has ended) and
 * `capture` (a pcap of the frames crossing one point, written here, on
 * the control thread, from the per-core capture rings).
 *
 * Both wait on the control thread for their packets, at most --timeout
 * seconds: the server answers one request at a time, so other requests
 * wait meanwhile, and the client waits that long plus a margin.
 *
 * Requests (the words the client sends; tools/cmd_trace.c and
 * tools/cmd_capture.c check them first, this checks them again):
 *   trace [--count N] [--proto udp|tcp|icmp] [--port P] [--addr A.B.C.D]
 *         [--every N] [--timeout S] [--json]
 *   capture --at wire|gro|socket -w FILE [--count N] [--timeout S]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl_priv.h"
#include "nic/backend/pcapfile.h"
#include "stack/stack.h"
#include "trace/trace.h"

/* Sleep between looks at the rings while a request waits. */
#define POLL_NS (5 * WP_NSEC_PER_MSEC)

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / WP_NSEC_PER_SEC),
			       (long)(ns % WP_NSEC_PER_SEC) };

	nanosleep(&ts, NULL);
}

/* Deadlines are on the host's monotonic clock: the stack's may be
 * virtual, and a request waits in real time. */
static uint64_t real_now(void)
{
	return wp_time_real_ns();
}

/* A decimal in [min, max], nothing else. */
static int word_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int word_ipv4(const char *s, uint32_t *out)
{
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		uint64_t part;
		char buf[4];
		size_t n = strcspn(s, ".");

		if (n == 0 || n > 3 || (i < 3 && s[n] != '.') ||
		    (i == 3 && s[n]) || (n > 1 && s[0] == '0'))
			return -EINVAL;
		memcpy(buf, s, n);
		buf[n] = 0;
		if (word_u64(buf, 0, 255, &part))
			return -EINVAL;
		a = a << 8 | (uint32_t)part;
		s += n + (i < 3);
	}
	*out = a;
	return 0;
}

static int bad(FILE *err, const char *what, const char *val,
	       const char *expected)
{
	fprintf(err, "%s: '%s' is not valid (expected %s)\n", what,
		val ? val : "", expected);
	return 2;
}

/* --- trace ---------------------------------------------------------------- */

struct trace_req {
	struct wp_trace_filter f;
	uint64_t count;
	uint64_t timeout_s;
	bool json;
};

static int trace_parse(int argc, char **argv, struct trace_req *rq, FILE *err)
{
	static const char *const protos[] = { "udp", "tcp", "icmp" };
	static const uint8_t proto_nums[] = { WP_TRACE_PROTO_UDP,
					      WP_TRACE_PROTO_TCP,
					      WP_TRACE_PROTO_ICMP };
	uint64_t v;

	memset(rq, 0, sizeof(*rq));
	rq->f.every = 1;
	rq->count = 1;
	rq->timeout_s = 5;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--json") == 0) {
			rq->json = true;
			continue;
		}
		if (!a)
			return bad(err, o, "", "a value after it");
		i++;
		if (strcmp(o, "--count") == 0) {
			if (word_u64(a, 1, WP_TRACE_SESSION_MAX, &rq->count))
				return bad(err, o, a, "1..4096");
		} else if (strcmp(o, "--every") == 0) {
			if (word_u64(a, 1, UINT32_MAX, &v))
				return bad(err, o, a, "1..4294967295");
			rq->f.every = (uint32_t)v;
		} else if (strcmp(o, "--port") == 0) {
			if (word_u64(a, 1, 65535, &v))
				return bad(err, o, a, "a port 1..65535");
			rq->f.port = (uint16_t)v;
		} else if (strcmp(o, "--addr") == 0) {
			if (word_ipv4(a, &rq->f.addr))
				return bad(err, o, a, "an IPv4 address");
		} else if (strcmp(o, "--timeout") == 0) {
			if (word_u64(a, 1, 60, &rq->timeout_s))
				return bad(err, o, a, "seconds, 1..60");
		} else if (strcmp(o, "--proto") == 0) {
			size_t p = 0;

			while (p < 3 && strcmp(a, protos[p]) != 0)
				p++;
			if (p == 3)
				return bad(err, o, a, "udp, tcp or icmp");
			rq->f.proto = proto_nums[p];
		} else {
			fprintf(err,
				"%s: unknown option (expected --count, "
				"--proto, --port, --addr, --every, --timeout "
				"or --json)\n",
				o);
			return 2;
		}
	}
	if (rq->f.port && rq->f.proto == WP_TRACE_PROTO_ICMP)
		return bad(err, "--port", "", "no --port with --proto icmp");
	return 0;
}

static void trace_out(const struct trace_req *rq,
		      const struct wp_trace_record *r, bool first, FILE *out)
{
	if (rq->json) {
		wp_trace_record_json(r, out);
		return;
	}
	if (!first)
		fputc('\n', out);
	wp_trace_record_print(r, out);
}

int wp__ctl_trace(struct wp_stack *s, int argc, char **argv, FILE *out,
		  FILE *err)
{
	struct wp_trace_record r[32];
	struct wp_trace_stats st0, st1;
	struct trace_req rq;
	uint64_t deadline, got = 0;
	int ret = trace_parse(argc, argv, &rq, err);

	if (ret)
		return ret;
	wp_trace_get_stats(s->trace, &st0);
	ret = wp_trace_session_begin(s->trace, &rq.f, (uint32_t)rq.count);
	if (ret == -EBUSY) {
		fprintf(err, "another trace is running on this stack: wait for "
			     "it to finish\n");
		return 1;
	}
	if (ret) {
		fprintf(err, "cannot start the trace: %s\n", strerror(-ret));
		return 1;
	}
	deadline = real_now() + rq.timeout_s * WP_NSEC_PER_SEC;
	while (got < rq.count) {
		size_t n = wp_trace_session_take(s->trace, r, WP_ARRAY_SIZE(r));

		for (size_t i = 0; i < n; i++, got++)
			trace_out(&rq, &r[i], got == 0, out);
		if (n) {
			fflush(out);
			continue;
		}
		if (real_now() >= deadline)
			break;
		sleep_ns(POLL_NS);
	}
	wp_trace_session_end(s->trace);
	if (got == rq.count)
		return 0;
	wp_trace_get_stats(s->trace, &st1);
	if (st1.sampled == st0.sampled)
		fprintf(err,
			"no packet matched in %" PRIu64 " s (%" PRIu64
			" seen, %" PRIu64
			" filtered out): is traffic reaching the stack? "
			"Widen the filter or raise --timeout\n",
			rq.timeout_s, st1.seen - st0.seen,
			st1.filtered - st0.filtered);
	else
		fprintf(err,
			"%" PRIu64 " of %" PRIu64 " packets traced in %" PRIu64
			" s (%" PRIu64 " sampled: a packet's record comes when "
			"its journey ends, e.g. when it is read); raise "
			"--timeout\n",
			got, rq.count, rq.timeout_s, st1.sampled - st0.sampled);
	return 1;
}

/* --- capture -------------------------------------------------------------- */

struct capture_ctx {
	struct wp_pcap_writer w;
	uint64_t want;	    /* 0: no limit */
	uint64_t offset_ns; /* stack clock -> wall clock */
};

static int capture_write(void *arg, const struct wp_trace_frame *f)
{
	struct capture_ctx *c = arg;

	if (c->want && c->w.records >= c->want)
		return 1; /* over the count: taps race the limit by one */
	if (wp_pcap_write_part(&c->w, f->ts_ns + c->offset_ns, f->data,
			       f->caplen, f->len))
		return 1;
	return c->want && c->w.records >= c->want;
}

/*
 * pcap wants wall-clock times. The stack's real clock is monotonic, so
 * the offset between the two is read once here (the control thread, not
 * the path); a virtual clock keeps its own times.
 */
static uint64_t wall_offset(const struct wp_stack *s)
{
	struct timespec rt;
	uint64_t mono;

	if (wp_clock_is_virtual(&s->clock))
		return 0;
	mono = wp_time_real_ns();
	clock_gettime(CLOCK_REALTIME, &rt);
	return (uint64_t)rt.tv_sec * WP_NSEC_PER_SEC + (uint64_t)rt.tv_nsec -
	       mono;
}

int wp__ctl_capture(struct wp_stack *s, int argc, char **argv, FILE *out,
		    FILE *err)
{
	static const char *const points[] = { "wire", "gro", "socket" };
	struct capture_ctx c = { 0 };
	struct wp_trace_stats st0, st1;
	const char *file = NULL;
	uint64_t timeout_s = 5, deadline;
	int at = -1, ret;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;

		if (!a)
			return bad(err, o, "", "a value after it");
		i++;
		if (strcmp(o, "--at") == 0) {
			for (at = 0; at < WP_TAP__MAX; at++)
				if (strcmp(a, points[at]) == 0)
					break;
			if (at == WP_TAP__MAX)
				return bad(err, o, a, "wire, gro or socket");
		} else if (strcmp(o, "-w") == 0) {
			if (a[0] != '/')
				return bad(err, o, a, "an absolute path");
			file = a;
		} else if (strcmp(o, "--count") == 0) {
			if (word_u64(a, 1, UINT32_MAX, &c.want))
				return bad(err, o, a, "1..4294967295");
		} else if (strcmp(o, "--timeout") == 0) {
			if (word_u64(a, 1, 60, &timeout_s))
				return bad(err, o, a, "seconds, 1..60");
		} else {
			fprintf(err,
				"%s: unknown option (expected --at, -w, "
				"--count or --timeout)\n",
				o);
			return 2;
		}
	}
	if (at < 0 || !file) {
		fprintf(err,
			"capture needs --at wire|gro|socket and -w FILE\n");
		return 2;
	}
	ret = wp_pcap_writer_open(&c.w, file);
	if (ret) {
		fprintf(err,
			"%s: check the directory exists and the stack's "
			"user may write there\n",
			wp_pcap_writer_error(&c.w));
		return 1;
	}
	c.offset_ns = wall_offset(s);
	wp_trace_get_stats(s->trace, &st0);
	ret = wp_trace_capture_start(s->trace, (enum wp_tap_point)at, c.want);
	if (ret) {
		wp_pcap_writer_close(&c.w);
		remove(file);
		fprintf(err, "%s\n",
			ret == -EBUSY ? "another capture is running on this "
					"stack: wait for it to finish"
				      : strerror(-ret));
		return 1;
	}
	deadline = real_now() + timeout_s * WP_NSEC_PER_SEC;
	for (;;) {
		wp_trace_capture_drain(s->trace, capture_write, &c);
		if (c.w.error || (c.want && c.w.records >= c.want) ||
		    real_now() >= deadline)
			break;
		sleep_ns(POLL_NS);
	}
	wp_trace_capture_stop(s->trace);
	/* Frames tapped before the stop took effect. */
	if (!c.w.error)
		wp_trace_capture_drain(s->trace, capture_write, &c);
	wp_trace_get_stats(s->trace, &st1);
	ret = wp_pcap_writer_close(&c.w);
	if (ret) {
		fprintf(err, "%s\n", wp_pcap_writer_error(&c.w));
		return 1;
	}
	fprintf(out,
		"%" PRIu64 " frames captured at %s into %s (%" PRIu64
		" dropped: capture ring full)\n",
		c.w.records, points[at], file,
		st1.capture_dropped - st0.capture_dropped);
	if (c.want && c.w.records < c.want) {
		fprintf(err,
			"only %" PRIu64 " of %" PRIu64 " frames crossed %s in "
			"%" PRIu64 " s: is traffic flowing? raise --timeout\n",
			c.w.records, c.want, points[at], timeout_s);
		return 1;
	}
	return 0;
}
