/* SPDX-License-Identifier: MIT */
/*
 * Inside the control socket: the request handlers (views.c: stat;
 * knobs.c: ethtool, sysctl, and the dispatch) and a small JSON-lines
 * writer they share. The server (ctl.c) and the client (client.c) only
 * see wp_ctl_exec().
 */
#ifndef WP_CTL_CTL_PRIV_H
#define WP_CTL_CTL_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl/ctl.h"

struct wp_stack;

/* `stat [VIEW] [--json]`: argv[0] is "stat". Returns the exit status. */
int wp__ctl_stat(struct wp_stack *s, int argc, char **argv, FILE *out,
		 FILE *err);
/* `ethtool OPTION ...`: argv[0] is "ethtool". */
int wp__ctl_ethtool(struct wp_stack *s, int argc, char **argv, FILE *out,
		    FILE *err);
/* `sysctl [NAME[=VALUE]]...`: argv[0] is "sysctl". */
int wp__ctl_sysctl(struct wp_stack *s, int argc, char **argv, FILE *out,
		   FILE *err);
/* `trace ...` and `capture ...` (trace.c): they wait for packets, up
 * to their --timeout, on the control thread. */
int wp__ctl_trace(struct wp_stack *s, int argc, char **argv, FILE *out,
		  FILE *err);
int wp__ctl_capture(struct wp_stack *s, int argc, char **argv, FILE *out,
		    FILE *err);

/*
 * One JSON object per line. Keys and string values are escaped per
 * RFC 8259 section 7 (quote, backslash, control bytes); the views write
 * ASCII only, so no UTF-8 check is needed.
 */
struct wp__json {
	FILE *f;
	bool first;
};

void wp__json_begin(struct wp__json *j, FILE *f);
void wp__json_end(struct wp__json *j);
void wp__json_str(struct wp__json *j, const char *key, const char *v);
void wp__json_u64(struct wp__json *j, const char *key, uint64_t v);
void wp__json_double(struct wp__json *j, const char *key, double v);
void wp__json_bool(struct wp__json *j, const char *key, bool v);
void wp__json_u64_array(struct wp__json *j, const char *key, const uint64_t *v,
			size_t n);
void wp__json_str_array(struct wp__json *j, const char *key,
			const char *const *v, size_t n);

#endif
