// SPDX-License-Identifier: MIT
/*
 * wirepath sysctl: a running stack's tunables by their Linux names
 * (net.core.netdev_budget, ...), read and set live over its control
 * socket, as sysctl(8) does through /proc/sys.
 */
#include <string.h>

#include "cli.h"
#include "ctl/ctl.h"

static const char usage[] =
	"usage: wirepath sysctl [--ctl PATH] [-a] [NAME[=VALUE]]...\n"
	"\n"
	"Show or set a running stack's tunables, live. With no NAME (or -a),\n"
	"every one as \"name = value\", as sysctl -a prints them. NAME prints\n"
	"one; NAME=VALUE sets it and prints it (vectors: NAME=\"A B C\").\n"
	"Names use dots or slashes: net.core.netdev_budget,\n"
	"net/core/netdev_budget.\n"
	"\n"
	"  -a, --all     every tunable (the same as no NAME)\n"
	"  --ctl PATH    the stack's control socket (see wirepath stat "
	"--help)\n"
	"\n"
	"An unknown NAME or a value the tunable does not take is refused\n"
	"(exit 1), and then nothing is set: a request with several settings\n"
	"checks them all first.\n";

static int sysctl_main(int argc, char **argv);

WP_CMD_REGISTER(wp_cmd_sysctl, "sysctl",
		"a running stack's tunables by their Linux names, live", usage,
		sysctl_main)

static int sysctl_main(int argc, char **argv)
{
	enum { OPT_CTL, OPT_ALL };
	static const struct wp_opt opts[] = {
		{ "ctl", 0, true, OPT_CTL },
		{ "all", 'a', false, OPT_ALL },
		{ NULL, 0, false, 0 },
	};
	char *req[WP_CTL_MAX_ARGS + 1];
	const char *path = NULL;
	bool all = false;
	struct wp_args a;
	int id, n = 0;

	req[n++] = "sysctl";
	wp_args_init(&a, &wp_cmd_sysctl, opts, argc, argv);
	while ((id = wp_args_next(&a)) != WP_ARG_END) {
		switch (id) {
		case WP_ARG_HELP:
			return WP_EXIT_OK;
		case WP_ARG_ERROR:
			return WP_EXIT_USAGE;
		case WP_ARG_POSITIONAL:
			if (a.arg[0] == '\0' || a.arg[0] == '=')
				return wp_cli_bad_value(
					"sysctl", "NAME", "NAME or NAME=VALUE",
					"'%s' has no name", a.arg);
			if (n == WP_CTL_MAX_ARGS)
				return wp_cli_usage_error(&wp_cmd_sysctl,
							  "too many names");
			req[n++] = (char *)a.arg;
			break;
		case OPT_CTL:
			path = a.arg;
			break;
		case OPT_ALL:
			all = true;
			break;
		}
	}
	req[n] = NULL;
	if (all && n > 1)
		return wp_cli_usage_error(
			&wp_cmd_sysctl,
			"-a lists every tunable: give it no NAME");
	return wp_ctl_client_run("sysctl", path, n, req);
}
