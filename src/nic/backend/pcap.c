// SPDX-License-Identifier: MIT
/*
 * The pcap backend: a recorded wire. Frames come in from --pcap-in at
 * their recorded times and everything the stack transmits goes to
 * --pcap-out, stamped with the virtual time it left. Runs on virtual
 * time only, so a capture replays the same way every time, at any speed
 * the machine manages.
 *
 * Time: the first input frame arrives at the virtual time the backend
 * was opened at; frame k at that plus (ts_k - ts_0). A frame recorded
 * earlier than the one before it arrives right after it (files merged
 * from several interfaces are not always sorted).
 *
 * The input is read once at open to validate every record, so a corrupt
 * file is refused before anything runs; the run itself reads one record
 * ahead.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nic/backend/backend.h"
#include "nic/backend/pcapfile.h"
#include "nic/nic.h"

struct pcap_be {
	struct wp_pcap_reader in;
	struct wp_pcap_writer out;
	bool has_out;
	const char *in_path, *out_path;
	uint64_t linger_ns;

	struct wp_pcap_record rec; /* the next input frame, if have_rec */
	bool have_rec;
	uint64_t first_ts;   /* capture time of the first frame */
	uint64_t start_ns;   /* its virtual arrival time */
	uint64_t next_ns;    /* rec's virtual arrival time */
	uint64_t last_in_ns; /* the last delivered frame's time */
	uint64_t last_tick;

	/* counters */
	uint64_t rx_refused; /* the NIC dropped it (full, down, size) */
	uint64_t rx_snapped; /* captured shorter than on the wire */
	uint64_t tx_bytes;
	uint64_t tx_write_errors; /* frames lost to a failed write */
};

/* ethtool -L may change it on the control thread. */
static uint16_t active_queues(const struct wp_nic *nic)
{
	return __atomic_load_n(&nic->nqueues, __ATOMIC_ACQUIRE);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Read the next input frame and place it on the virtual time line. */
static void pcap_advance(struct wp_backend *be, struct pcap_be *p)
{
	int ret = wp_pcap_read(&p->in, &p->rec);
	uint64_t t;

	p->have_rec = ret == 1;
	if (ret < 0)
		/* Validated at open: the file changed under us. */
		wp__backend_err(be, "--pcap-in %s: %s; input stops here",
				p->in_path, wp_pcap_reader_error(&p->in));
	if (ret != 1)
		return;
	t = p->start_ns +
	    (p->rec.ts_ns > p->first_ts ? p->rec.ts_ns - p->first_ts : 0);
	p->next_ns = t < p->last_in_ns ? p->last_in_ns : t;
}

static int validate_input(struct wp_backend *be, struct pcap_be *p,
			  const char *path)
{
	struct wp_pcap_record rec;
	int ret;

	ret = wp_pcap_reader_open(&p->in, path);
	if (ret == -EINVAL) {
		wp__backend_err(be, "--pcap-in %s: %s", path,
				wp_pcap_reader_error(&p->in));
		return ret;
	}
	if (ret) { /* the message names the path and the system's reason */
		wp__backend_err(be, "--pcap-in: %s",
				wp_pcap_reader_error(&p->in));
		return ret;
	}
	while ((ret = wp_pcap_read(&p->in, &rec)) == 1)
		;
	if (!ret)
		ret = wp_pcap_rewind(&p->in);
	if (ret) {
		wp__backend_err(be, "--pcap-in %s: %s", path,
				wp_pcap_reader_error(&p->in));
		wp_pcap_reader_close(&p->in);
	}
	return ret;
}

/* Opening the output truncates it: never when it is the input. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int pcap_open(struct wp_backend *be, const struct wp_backend_config *cfg)
{
	struct pcap_be *p;
	int ret;

	if (!cfg->pcap_in) {
		wp__backend_err(be, "needs --pcap-in FILE (and --pcap-out FILE "
				    "to keep what the stack sends)");
		return -EINVAL;
	}
	if (cfg->pcap_out && same_file(cfg->pcap_in, cfg->pcap_out)) {
		wp__backend_err(be,
				"--pcap-out %s is the input file: it would be "
				"overwritten",
				cfg->pcap_out);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		wp__backend_err(be, "out of memory");
		return -ENOMEM;
	}
	p->in_path = cfg->pcap_in;
	p->out_path = cfg->pcap_out;
	p->linger_ns = cfg->linger_ns;

	ret = validate_input(be, p, cfg->pcap_in);
	if (ret)
		goto out_free;
	if (cfg->pcap_out) {
		ret = wp_pcap_writer_open(&p->out, cfg->pcap_out);
		if (ret) {
			wp__backend_err(be, "--pcap-out: %s",
					wp_pcap_writer_error(&p->out));
			goto out_close_in;
		}
		p->has_out = true;
	}

	p->start_ns = p->last_in_ns = wp_clock_now(be->clock);
	p->last_tick = WP_TIME_NEVER;
	be->priv = p;
	pcap_advance(be, p);
	if (p->have_rec) {
		p->first_ts = p->rec.ts_ns;
		p->next_ns = p->start_ns;
	}
	return 0;

out_close_in:
	wp_pcap_reader_close(&p->in);
out_free:
	free(p);
	return ret;
}

static void pcap_close(struct wp_backend *be)
{
	struct pcap_be *p = be->priv;

	if (!p)
		return;
	if (p->has_out && wp_pcap_writer_close(&p->out) && !p->tx_write_errors)
		wp__backend_err(be, "--pcap-out: %s",
				wp_pcap_writer_error(&p->out));
	wp_pcap_reader_close(&p->in);
	free(p);
	be->priv = NULL;
}

static void pcap_tx_queue(struct wp_backend *be, struct pcap_be *p, uint16_t q,
			  uint64_t now)
{
	const struct wp_tx_desc *d;
	uint32_t n = 0;

	while ((d = wp_nic_tx_fw_next(be->nic, q))) {
		if (p->has_out &&
		    wp_pcap_write(&p->out, now,
				  (const void *)(uintptr_t)d->addr, d->len)) {
			/* Say it once; the frame still leaves the ring. */
			if (!p->tx_write_errors++)
				wp__backend_err(be, "--pcap-out: %s",
						wp_pcap_writer_error(&p->out));
		}
		p->tx_bytes += d->len;
		wp_nic_tx_fw_done(be->nic, q);
		n++;
	}
	if (n) {
		be->frames_out += n;
		wp_nic_tx_fw_irq(be->nic, q);
	}
}

static uint64_t pcap_step(struct wp_backend *be, uint64_t now)
{
	struct pcap_be *p = be->priv;
	uint64_t coal, next;

	while (p->have_rec && p->next_ns <= now) {
		uint64_t t = p->next_ns;

		/* Timers that expired before this frame fire before it. */
		if (t != p->last_tick) {
			wp_nic_coalesce_tick(be->nic, t);
			p->last_tick = t;
		}
		be->frames_in++;
		if (p->rec.caplen < p->rec.len)
			p->rx_snapped++;
		if (wp_nic_rx_frame(be->nic, p->rec.data, p->rec.caplen, t) < 0)
			p->rx_refused++;
		p->last_in_ns = t;
		pcap_advance(be, p);
	}
	coal = wp_nic_coalesce_tick(be->nic, now);
	p->last_tick = now;
	for (uint16_t q = 0; q < active_queues(be->nic); q++)
		pcap_tx_queue(be, p, q, now);

	if (p->have_rec)
		next = p->next_ns;
	else
		/* Wake once more when the linger ends, so done() can turn. */
		next = sat_add(p->last_in_ns, p->linger_ns);
	if (next <= now)
		next = WP_TIME_NEVER;
	return next < coal ? next : coal;
}

static bool pcap_done(struct wp_backend *be)
{
	struct pcap_be *p = be->priv;

	if (!p)
		return true;
	if (p->have_rec)
		return false;
	if (wp_clock_now(be->clock) < sat_add(p->last_in_ns, p->linger_ns))
		return false;
	/* TDT past TDH: the driver rang for frames not sent yet. (Asking
	 * wp_nic_tx_fw_next would take a descriptor out.) */
	for (uint16_t q = 0; q < active_queues(be->nic); q++) {
		struct wp_tx_queue *txq = &be->nic->txq[q];

		if (atomic_load_explicit(&txq->tdt, memory_order_acquire) !=
		    atomic_load_explicit(&txq->tdh, memory_order_acquire))
			return false;
	}
	return true;
}

static int pcap_start(struct wp_backend *be)
{
	wp__backend_err(be, "runs on virtual time only (step()); for a live "
			    "wire use --backend tap or afpacket");
	return -ENOTSUP;
}

static void pcap_stop(struct wp_backend *be)
{
}

/* TX is written out in step(), at the virtual time it runs. */
static void pcap_tx_kick(struct wp_backend *be, uint16_t q)
{
}

const struct wp_backend_ops wp_backend_pcap = {
	.name = "pcap",
	.open = pcap_open,
	.close = pcap_close,
	.start = pcap_start,
	.stop = pcap_stop,
	.step = pcap_step,
	.tx_kick = pcap_tx_kick,
	.done = pcap_done,
};
