// SPDX-License-Identifier: MIT
/*
 * wirepath ethtool: the NIC's knobs on a running stack, live, as ethtool
 * sets them on a real NIC's driver: -c/-C interrupt coalescing, -g/-G
 * ring sizes, -l/-L channels, -x/-X the RSS indirection table, -k/-K
 * offload features (GRO), -S statistics. The syntax is checked here (a typo
 * needs no stack); the ranges, which depend on the NIC, by the stack
 * (src/ctl/knobs.c).
 */
#include <string.h>

#include "cli.h"
#include "ctl/ctl.h"

static const char usage[] =
	"usage: wirepath ethtool [--ctl PATH] OPTION [ARGS]\n"
	"\n"
	"Show or change a running stack's NIC (wp0), live; the output is\n"
	"real ethtool's. One OPTION:\n"
	"\n"
	"  -c                      coalescing parameters\n"
	"  -C [rx-usecs N] [rx-frames N] [adaptive-rx on|off]\n"
	"                          set them: rx-usecs 0..8192 (the longest a\n"
	"                          frame waits for its interrupt), rx-frames\n"
	"                          0..65535 (interrupt once this many wait)\n"
	"  -g                      ring sizes\n"
	"  -G [rx N] [tx N]        set them: powers of two in 64..4096 (the\n"
	"                          queues stop and restart, as ifdown/ifup)\n"
	"  -l                      channels (RX/TX queue pairs)\n"
	"  -L combined N           use N of them: 1..the queues created\n"
	"  -x                      RSS indirection table and hash key\n"
	"  -X equal N | default    spread the table over N active rings\n"
	"  -k                      offload features\n"
	"  -K gro on|off           generic-receive-offload: merge TCP\n"
	"                          segments in the NAPI poll (on by default)\n"
	"  -S                      NIC and per-queue statistics\n"
	"\n"
	"  --ctl PATH              the stack's control socket (see wirepath\n"
	"                          stat --help)\n"
	"\n"
	"A value out of range is refused (exit 1) and nothing changes; a\n"
	"request that does not parse exits 2.\n";

static int ethtool_main(int argc, char **argv);

WP_CMD_REGISTER(wp_cmd_ethtool, "ethtool",
		"a running stack's NIC knobs, live: -c/-C, -g/-G, -l/-L, "
		"-x/-X, -k/-K, -S",
		usage, ethtool_main)

/*
 * ethtool's words are not options in the framework's sense (-C takes a
 * list of NAME VALUE pairs), so only --ctl and --help are taken here and
 * the rest goes to wp_ctl_ethtool_parse, the parser the stack runs.
 */
static int ethtool_main(int argc, char **argv)
{
	struct wp_ctl_ethtool_req r;
	char *req[WP_CTL_MAX_ARGS + 1];
	const char *path = NULL;
	char msg[256];
	int n = 0;

	req[n++] = "ethtool";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return wp_cli_help(&wp_cmd_ethtool);
		if (strcmp(a, "--ctl") == 0) {
			if (i + 1 >= argc)
				return wp_cli_usage_error(
					&wp_cmd_ethtool, "--ctl: needs a PATH");
			path = argv[++i];
			continue;
		}
		if (strncmp(a, "--ctl=", 6) == 0) {
			path = a + 6;
			continue;
		}
		if (n == WP_CTL_MAX_ARGS)
			return wp_cli_usage_error(&wp_cmd_ethtool,
						  "too many arguments");
		req[n++] = argv[i];
	}
	req[n] = NULL;
	if (path && !path[0])
		return wp_cli_bad_value("ethtool", "--ctl", "a path",
					"empty value");
	if (wp_ctl_ethtool_parse(n - 1, req + 1, &r, msg, sizeof(msg)))
		return wp_cli_usage_error(&wp_cmd_ethtool, "%s", msg);
	return wp_ctl_client_run("ethtool", path, n, req);
}
