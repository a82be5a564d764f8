// SPDX-License-Identifier: MIT
/*
 * wirepath stat: what a running stack counts, read over its control
 * socket, in the formats of the Linux tools that show the same things
 * (/proc/interrupts, /proc/net/softnet_stat, ethtool -S, netstat -s, ss,
 * ip neigh, ip route). The views are rendered by the stack itself
 * (src/ctl/views.c); this command finds the socket, asks, and prints.
 */
#include <stdio.h>

#include "cli.h"
#include "ctl/ctl.h"

static const char usage[] =
	"usage: wirepath stat [VIEW] [--ctl PATH] [--json]\n"
	"\n"
	"What a running stack (wirepath run, wirepath demo) counts, in the\n"
	"format of the Linux tool that shows it. VIEW is one of:\n"
	"\n"
	"  summary      (default) one screen: queues, rings, coalescing,\n"
	"               packets, interrupts, NAPI, drops, latency\n"
	"  interrupts   /proc/interrupts: interrupts per vector per core\n"
	"  softnet      /proc/net/softnet_stat (hex columns per core, Linux's\n"
	"               order), then a table with wirepath's NAPI counters\n"
	"  ethtool      ethtool -S: NIC-wide and per-queue counters\n"
	"  netstat      netstat -s: Ip, Icmp, Tcp, Udp, ArpExt, LinkExt\n"
	"  drops        every packet let go undelivered, by drop reason\n"
	"  sockets      ss -tuna: the sockets the protocol layer has hashed\n"
	"  arp          ip neigh: the neighbour table\n"
	"  route        ip route: the routing table\n"
	"  latency      p50 / p99 / p99.9 per stage: DMA to NAPI hand-off for\n"
	"               every packet, every stage for sampled packets\n"
	"\n"
	"  --ctl PATH   the stack's control socket (default: wp0.ctl, or the\n"
	"               only stack running, in /run/wirepath for root,\n"
	"               else $XDG_RUNTIME_DIR/wirepath or /tmp/wirepath-UID)\n"
	"  --json       one JSON object per line\n"
	"\n"
	"Exit status 1 when no stack is running at the path, or when the\n"
	"stack cannot show the view.\n";

static int stat_main(int argc, char **argv);

WP_CMD_REGISTER(wp_cmd_stat, "stat",
		"a running stack's counters: interrupts, softnet, ethtool -S, "
		"netstat -s, ...",
		usage, stat_main)

static int stat_main(int argc, char **argv)
{
	enum { OPT_CTL, OPT_JSON };
	static const struct wp_opt opts[] = {
		{ "ctl", 0, true, OPT_CTL },
		{ "json", 0, false, OPT_JSON },
		{ NULL, 0, false, 0 },
	};
	const char *path = NULL, *view = NULL;
	char *req[4];
	int id, n = 0;
	unsigned idx;
	bool json = false;
	struct wp_args a;

	wp_args_init(&a, &wp_cmd_stat, opts, argc, argv);
	while ((id = wp_args_next(&a)) != WP_ARG_END) {
		switch (id) {
		case WP_ARG_HELP:
			return WP_EXIT_OK;
		case WP_ARG_ERROR:
			return WP_EXIT_USAGE;
		case WP_ARG_POSITIONAL:
			if (view)
				return wp_cli_usage_error(
					&wp_cmd_stat,
					"one VIEW at a time ('%s' and '%s' "
					"given)",
					view, a.arg);
			if (wp_parse_choice("stat", "VIEW", a.arg,
					    wp_ctl_stat_views, &idx))
				return WP_EXIT_USAGE;
			view = a.arg;
			break;
		case OPT_CTL:
			path = a.arg;
			break;
		case OPT_JSON:
			json = true;
			break;
		}
	}
	req[n++] = "stat";
	req[n++] = (char *)(view ? view : "summary");
	if (json)
		req[n++] = "--json";
	req[n] = NULL;
	return wp_ctl_client_run("stat", path, n, req);
}
