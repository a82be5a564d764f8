// SPDX-License-Identifier: MIT
/*
 * wirepath trace and wirepath capture: the glass box of a running stack,
 * over its control socket (src/ctl/trace.c does the work there).
 *
 *   trace    asks the stack to sample packets that match a filter and
 *            prints each one's journey, stage by stage, once it ended:
 *            the seeds' "Full Packet Stack Trace" for real packets.
 *   capture  a pcap of the frames crossing one point of the path (as
 *            DMA'd / transmitted, as NAPI hands them up, as queued on a
 *            socket), written by the stack's control thread.
 *
 * Both wait for their packets at most --timeout seconds; the client
 * waits that long plus a margin for the answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ctl/ctl.h"

/* What the client adds to --timeout before it gives up on an answer. */
#define ANSWER_MARGIN_MS 5000

static const char trace_usage[] =
	"usage: wirepath trace [--ctl PATH] [--count N]\n"
	"                      [--proto udp|tcp|icmp] [--port P]\n"
	"                      [--addr A.B.C.D] [--every N] [--timeout S]\n"
	"                      [--json]\n"
	"\n"
	"Ask a running stack to sample packets and print each one's journey\n"
	"from the NIC to read(): the DMA and its DD bit, the IRQ top half,\n"
	"the NAPI poll, wp_build_skb, GRO, wp_netif_receive_skb, wp_ip_rcv,\n"
	"the transport's rcv, the socket lookup, sk_receive_queue,\n"
	"sk_data_ready and the wake-up it ran (pollwake or ep_poll_callback),\n"
	"and the recv() copy. Each stage shows its time, the time since the\n"
	"DMA and since the previous stage; stages a packet did not reach say\n"
	"so, and the end says whether it was read, consumed or dropped (and\n"
	"why). A packet is printed when its journey has ended.\n"
	"\n"
	"  --ctl PATH     the stack's control socket (default: the one\n"
	"                 running)\n"
	"  --count N      packets to trace, 1..4096 (default 1)\n"
	"  --proto P      only udp, tcp or icmp packets\n"
	"  --port P       only packets from or to this TCP/UDP port\n"
	"  --addr A       only packets from or to this IPv4 address\n"
	"  --every N      sample 1 in N matching packets per core (default 1)\n"
	"  --timeout S    wait at most S seconds, 1..60 (default 5)\n"
	"  --json         one JSON object per packet per line\n"
	"\n"
	"While it runs, the stack's control socket answers nothing else.\n";

static const char capture_usage[] =
	"usage: wirepath capture [--ctl PATH] --at wire|gro|socket -w FILE\n"
	"                        [--count N] [--timeout S]\n"
	"\n"
	"Write a pcap of the frames crossing one point of a running stack's\n"
	"path, as tcpdump -w does:\n"
	"  wire    as the firmware DMA'd them (and as handed to the TX ring)\n"
	"  gro     as NAPI hands them up to the protocol layer\n"
	"  socket  as queued on a socket's receive queue\n"
	"The stack's control thread writes FILE (so the stack's user must be\n"
	"able to), from bounded per-core rings: frames that find a ring full\n"
	"are dropped and counted, the path never waits.\n"
	"\n"
	"  --ctl PATH        the stack's control socket (default: the one\n"
	"                    running)\n"
	"  --at POINT        wire, gro or socket\n"
	"  -w, --write FILE  the pcap file to write (replaced if it exists)\n"
	"  --count N         stop after N frames (default: at --timeout)\n"
	"  --timeout S       capture at most S seconds, 1..60 (default 5)\n"
	"\n"
	"While it runs, the stack's control socket answers nothing else.\n";

static int trace_main(int argc, char **argv);
static int capture_main(int argc, char **argv);

WP_CMD_REGISTER(wp_cmd_trace, "trace",
		"a sampled packet's journey, stage by stage, from a running "
		"stack",
		trace_usage, trace_main)
WP_CMD_REGISTER(wp_cmd_capture, "capture",
		"pcap of the frames crossing one point of a running stack",
		capture_usage, capture_main)

/*
 * The client side, as wp_ctl_client_run() does it but with the answer
 * timeout the request needs: resolve the path, connect, call.
 */
static int ctl_request(const char *cmd, const char *given, int argc,
		       char **argv, int timeout_ms)
{
	char path[PATH_MAX], err[256], prefix[64];
	int fd, ret;

	if (wp_ctl_client_path(given, path, sizeof(path), err, sizeof(err)))
		return wp_cli_fail(cmd, "%s", err);
	fd = wp_ctl_connect(path);
	if (fd < 0)
		return wp_cli_fail(cmd,
				   "no stack is running at %s (%s): start one "
				   "with wirepath run or wirepath demo, or "
				   "give its --ctl PATH",
				   path, strerror(-fd));
	snprintf(prefix, sizeof(prefix), "wirepath %s: ", cmd);
	fflush(stdout);
	ret = wp_ctl_call(fd, argc, argv, stdout, stderr, prefix, timeout_ms);
	close(fd);
	if (ret == -ETIMEDOUT)
		return wp_cli_fail(cmd,
				   "the stack at %s did not answer in %d s: is "
				   "it stuck? (wirepath stat --ctl %s)",
				   path, timeout_ms / 1000, path);
	if (ret < 0)
		return wp_cli_fail(cmd, "the conversation with %s failed: %s",
				   path, strerror(-ret));
	return ret;
}

/* Request words: the command's name, then option/value pairs. */
struct req {
	char *argv[24];
	int argc;
	char num[8][24];
	int nnum;
};

static void req_add(struct req *r, const char *w)
{
	r->argv[r->argc++] = (char *)w;
}

static void req_num(struct req *r, const char *opt, uint64_t v)
{
	char *buf = r->num[r->nnum++];

	snprintf(buf, sizeof(r->num[0]), "%" PRIu64, v);
	req_add(r, opt);
	req_add(r, buf);
}

static int trace_main(int argc, char **argv)
{
	enum {
		O_CTL,
		O_COUNT,
		O_PROTO,
		O_PORT,
		O_ADDR,
		O_EVERY,
		O_TIMEOUT,
		O_JSON
	};
	static const struct wp_opt opts[] = {
		{ "ctl", 0, true, O_CTL },
		{ "count", 0, true, O_COUNT },
		{ "proto", 0, true, O_PROTO },
		{ "port", 0, true, O_PORT },
		{ "addr", 0, true, O_ADDR },
		{ "every", 0, true, O_EVERY },
		{ "timeout", 0, true, O_TIMEOUT },
		{ "json", 0, false, O_JSON },
		{ NULL, 0, false, 0 },
	};
	static const char *const protos[] = { "udp", "tcp", "icmp", NULL };
	const char *ctl = NULL, *proto = NULL, *addr_s = NULL;
	uint64_t count = 1, timeout = 5, every = 1;
	uint32_t port = 0, addr;
	unsigned pi;
	bool json = false;
	struct wp_args a;
	struct req r = { .argc = 0 };
	int id;

	wp_args_init(&a, &wp_cmd_trace, opts, argc, argv);
	while ((id = wp_args_next(&a)) != WP_ARG_END) {
		switch (id) {
		case WP_ARG_HELP:
			return WP_EXIT_OK;
		case WP_ARG_ERROR:
			return WP_EXIT_USAGE;
		case WP_ARG_POSITIONAL:
			return wp_cli_usage_error(&wp_cmd_trace,
						  "unexpected argument '%s'",
						  a.arg);
		case O_CTL:
			ctl = a.arg;
			break;
		case O_COUNT:
			if (wp_parse_u64("trace", a.opt, a.arg, WP_UNIT_NONE, 1,
					 4096, &count))
				return WP_EXIT_USAGE;
			break;
		case O_PROTO:
			if (wp_parse_choice("trace", a.opt, a.arg, protos, &pi))
				return WP_EXIT_USAGE;
			proto = protos[pi];
			break;
		case O_PORT:
			if (wp_parse_u32("trace", a.opt, a.arg, WP_UNIT_NONE, 1,
					 65535, &port))
				return WP_EXIT_USAGE;
			break;
		case O_ADDR:
			if (wp_parse_ipv4("trace", a.opt, a.arg, &addr))
				return WP_EXIT_USAGE;
			addr_s = a.arg;
			break;
		case O_EVERY:
			if (wp_parse_u64("trace", a.opt, a.arg, WP_UNIT_SI, 1,
					 UINT32_MAX, &every))
				return WP_EXIT_USAGE;
			break;
		case O_TIMEOUT:
			if (wp_parse_u64("trace", a.opt, a.arg, WP_UNIT_NONE, 1,
					 60, &timeout))
				return WP_EXIT_USAGE;
			break;
		case O_JSON:
			json = true;
			break;
		}
	}
	if (port && proto && strcmp(proto, "icmp") == 0)
		return wp_cli_bad_value("trace", "--port",
					"no --port with --proto icmp",
					"ICMP has no ports");

	req_add(&r, "trace");
	req_num(&r, "--count", count);
	req_num(&r, "--every", every);
	req_num(&r, "--timeout", timeout);
	if (proto) {
		req_add(&r, "--proto");
		req_add(&r, proto);
	}
	if (port)
		req_num(&r, "--port", port);
	if (addr_s) {
		req_add(&r, "--addr");
		req_add(&r, addr_s);
	}
	if (json)
		req_add(&r, "--json");
	return ctl_request("trace", ctl, r.argc, r.argv,
			   (int)timeout * 1000 + ANSWER_MARGIN_MS);
}

/*
 * The stack writes the file, maybe from another working directory: it
 * gets an absolute path, made of the real path of the file's directory
 * (which must exist) and its name.
 */
static int absolute_file(const char *arg, char *out, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(arg, '/');
	const char *base = slash ? slash + 1 : arg;

	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return wp_cli_bad_value("capture", "-w", "a file name",
					"'%s' names a directory", arg);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == arg)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - arg), arg);
	if (!realpath(dir, real))
		return wp_cli_fail("capture", "-w %s: directory %s: %s", arg,
				   dir, strerror(errno));
	if ((size_t)snprintf(out, len, "%s/%s",
			     strcmp(real, "/") == 0 ? "" : real, base) >= len)
		return wp_cli_fail("capture", "-w %s: the path is too long",
				   arg);
	return WP_EXIT_OK;
}

static int capture_main(int argc, char **argv)
{
	enum { O_CTL, O_AT, O_WRITE, O_COUNT, O_TIMEOUT };
	static const struct wp_opt opts[] = {
		{ "ctl", 0, true, O_CTL },
		{ "at", 0, true, O_AT },
		{ "write", 'w', true, O_WRITE },
		{ "count", 0, true, O_COUNT },
		{ "timeout", 0, true, O_TIMEOUT },
		{ NULL, 0, false, 0 },
	};
	static const char *const points[] = { "wire", "gro", "socket", NULL };
	const char *ctl = NULL, *file = NULL;
	char path[PATH_MAX];
	uint64_t count = 0, timeout = 5;
	unsigned at = 3;
	struct wp_args a;
	struct req r = { .argc = 0 };
	int id, ret;

	wp_args_init(&a, &wp_cmd_capture, opts, argc, argv);
	while ((id = wp_args_next(&a)) != WP_ARG_END) {
		switch (id) {
		case WP_ARG_HELP:
			return WP_EXIT_OK;
		case WP_ARG_ERROR:
			return WP_EXIT_USAGE;
		case WP_ARG_POSITIONAL:
			return wp_cli_usage_error(&wp_cmd_capture,
						  "unexpected argument '%s'",
						  a.arg);
		case O_CTL:
			ctl = a.arg;
			break;
		case O_AT:
			if (wp_parse_choice("capture", a.opt, a.arg, points,
					    &at))
				return WP_EXIT_USAGE;
			break;
		case O_WRITE:
			file = a.arg;
			break;
		case O_COUNT:
			if (wp_parse_u64("capture", a.opt, a.arg, WP_UNIT_SI, 1,
					 UINT32_MAX, &count))
				return WP_EXIT_USAGE;
			break;
		case O_TIMEOUT:
			if (wp_parse_u64("capture", a.opt, a.arg, WP_UNIT_NONE,
					 1, 60, &timeout))
				return WP_EXIT_USAGE;
			break;
		}
	}
	if (at == 3)
		return wp_cli_usage_error(&wp_cmd_capture,
					  "--at: missing (expected wire, gro "
					  "or socket)");
	if (!file)
		return wp_cli_usage_error(&wp_cmd_capture,
					  "-w: missing (expected the pcap "
					  "file to write)");
	if (strcmp(file, "-") == 0)
		return wp_cli_bad_value("capture", "-w", "a file",
					"the stack writes the capture, it "
					"cannot reach this terminal");
	ret = absolute_file(file, path, sizeof(path));
	if (ret)
		return ret;

	req_add(&r, "capture");
	req_add(&r, "--at");
	req_add(&r, points[at]);
	req_add(&r, "-w");
	req_add(&r, path);
	if (count)
		req_num(&r, "--count", count);
	req_num(&r, "--timeout", timeout);
	return ctl_request("capture", ctl, r.argc, r.argv,
			   (int)timeout * 1000 + ANSWER_MARGIN_MS);
}
