// SPDX-License-Identifier: MIT
/*
 * wirepath: one command, many sub-commands (git, ip, ethtool style).
 *
 * main() knows no command by name: each tools/cmd_<name>.c registers
 * itself (WP_CMD_REGISTER in cli.h) before main() runs, and this file
 * dispatches through the table. The conventions (exit codes, --help,
 * --json) are in cli.h and docs/cli.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef WP_VERSION
#define WP_VERSION "unknown"
#endif

static void print_usage(FILE *f)
{
	const struct wp_cmd *c;

	fputs("usage: wirepath COMMAND [OPTIONS] [ARGS]\n"
	      "       wirepath help COMMAND | wirepath COMMAND --help\n"
	      "       wirepath --help | --version\n"
	      "\n"
	      "A user-space network stack that shows the path a packet takes\n"
	      "from the NIC to read(): rings, interrupts, NAPI, sk_buff, "
	      "protocols,\nsockets and wake-ups.\n"
	      "\n"
	      "commands:\n",
	      f);
	for (unsigned i = 0; (c = wp_cmd_at(i)) != NULL; i++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	if (!wp_cmd_at(0))
		fputs("  (none built)\n", f);
	fputs("\n"
	      "options:\n"
	      "  -h, --help     this text (on stdout); after a command, that "
	      "command's usage\n"
	      "  -V, --version  the version\n"
	      "\n"
	      "Exit status: 0 success; 1 runtime failure (the message names "
	      "the fix);\n"
	      "2 unknown command or option (usage on stderr) or a bad value "
	      "(one line\nsaying what is expected).\n"
	      "--json, where a command has it, prints one JSON object per "
	      "line.\n",
	      f);
}

static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("wirepath: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_usage(stderr);
	return WP_EXIT_USAGE;
}

/* `wirepath help [COMMAND]`: git's spelling of COMMAND --help. */
static int help(int argc, char **argv)
{
	const struct wp_cmd *c;

	if (argc == 1) {
		print_usage(stdout);
		return WP_EXIT_OK;
	}
	if (argc > 2)
		return usage_error("help: takes one COMMAND (got '%s' too)",
				   argv[2]);
	c = wp_cmd_find(argv[1]);
	if (!c)
		return usage_error("help: '%s' is not a wirepath command",
				   argv[1]);
	return wp_cli_help(c);
}

/*
 * Output goes to pipes and files: a write error (EPIPE aside, which kills
 * us first; ENOSPC; /dev/full) must not exit 0 after losing output.
 */
static int close_stdout(int status)
{
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "wirepath: writing the output failed: %s\n",
			errno ? strerror(errno) : "I/O error");
		return WP_EXIT_FAILURE;
	}
	return status;
}

static int dispatch(int argc, char **argv)
{
	const struct wp_cmd *c;
	const char *a;

	if (argc < 2)
		return usage_error("%s", "no command given");
	a = argv[1];
	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
		print_usage(stdout);
		return WP_EXIT_OK;
	}
	if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
		printf("wirepath %s\n", WP_VERSION);
		return WP_EXIT_OK;
	}
	if (a[0] == '-')
		return usage_error("%s: unknown option (expected a COMMAND, "
				   "--help or --version)", a);
	if (strcmp(a, "help") == 0)
		return help(argc - 1, argv + 1);
	c = wp_cmd_find(a);
	if (!c)
		return usage_error("'%s' is not a wirepath command", a);
	return c->run(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	return close_stdout(dispatch(argc, argv));
}
