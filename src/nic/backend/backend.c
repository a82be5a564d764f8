// SPDX-License-Identifier: MIT
/*
 * Backends by name, their defaults, and attaching one to a NIC.
 */
#include "nic/backend/backend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nic/nic.h"

static const struct wp_backend_ops *const backends[] = {
	&wp_backend_sim,
	&wp_backend_pair,
	&wp_backend_pcap,
	&wp_backend_tap,
	&wp_backend_afpacket,
#ifdef WP_HAVE_AFXDP /* needs libxdp and libbpf: see meson.build */
	&wp_backend_afxdp,
#endif
};

void wp_backend_config_default(struct wp_backend_config *cfg)
{
	static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

	memset(cfg, 0, sizeof(*cfg));
	cfg->frame_size = 64;
	cfg->flows = 1;
	cfg->seed = 1;
	memcpy(cfg->dst_mac, mac, sizeof(mac));
	cfg->dst_ip = (10u << 24) | 2; /* 10.0.0.2 */
	cfg->dst_port = 9;	       /* discard */
	cfg->linger_ns = WP_NSEC_PER_SEC;
}

const struct wp_backend_ops *wp_backend_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

int wp_backend_open(struct wp_backend *be, const struct wp_backend_ops *ops,
		    struct wp_nic *nic, struct wp_clock *clock,
		    const struct wp_backend_config *cfg)
{
	int ret;

	if (!be || !ops || !nic || !clock || !cfg)
		return -EINVAL;
	memset(be, 0, sizeof(*be));
	be->ops = ops;
	be->nic = nic;
	be->clock = clock;
	nic->backend = be;
	ret = ops->open(be, cfg);
	if (ret) {
		nic->backend = NULL;
		memset(be, 0, sizeof(*be));
	}
	return ret;
}

void wp_backend_close(struct wp_backend *be)
{
	if (!be || !be->ops)
		return;
	if (be->ops->stop)
		be->ops->stop(be);
	be->ops->close(be);
	if (be->nic && be->nic->backend == be)
		be->nic->backend = NULL;
	memset(be, 0, sizeof(*be));
}

void wp_backend_report(struct wp_backend *be, FILE *out)
{
	if (!be || !be->ops)
		return;
	fprintf(out, "     backend: %s\n", be->ops->name);
	if (be->ops->report) {
		be->ops->report(be, out);
		return;
	}
	fprintf(out, "     frames_in: %llu\n     frames_out: %llu\n",
		(unsigned long long)__atomic_load_n(&be->frames_in,
						    __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&be->frames_out,
						    __ATOMIC_RELAXED));
}

void wp__backend_err(const struct wp_backend *be, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr,
		"wirepath: %s backend: ", be && be->ops ? be->ops->name : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
