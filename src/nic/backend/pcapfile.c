// SPDX-License-Identifier: MIT
/*
 * Classic pcap reader and writer (see pcapfile.h for the format rules).
 *
 * Field access goes through get16()/get32() on byte arrays so that the
 * file's byte order is decided once, by the magic, and no struct is ever
 * overlaid on file bytes.
 */
#include "nic/backend/pcapfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

#define PCAPNG_MAGIC 0x0a0d0d0au

/* The link-type field (draft-ietf-opsawg-pcap section 4), MSB first:
 * FCS len:3 R:1 P:1 reserved:11 link type:16. */
#define LT_TYPE_MASK 0x0000ffffu
#define LT_RSVD_MASK 0x07ff0000u
#define LT_P_BIT 0x08000000u
#define LT_R_BIT 0x10000000u
#define LT_FCS_SHIFT 29

static void set_err(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, WP_PCAP_ERR_LEN, fmt, ap);
	va_end(ap);
}

/* Files are in the writer's byte order; decoding explicitly from bytes
 * makes the result independent of ours. */
static uint32_t get32(const uint8_t *p, bool big_endian)
{
	if (big_endian)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		       (uint32_t)p[2] << 8 | (uint32_t)p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | (uint32_t)p[0];
}

static uint16_t get16(const uint8_t *p, bool big_endian)
{
	return big_endian ? (uint16_t)(p[0] << 8 | p[1])
			  : (uint16_t)(p[1] << 8 | p[0]);
}

static void put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put16le(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void reader_reset(struct wp_pcap_reader *r)
{
	memset(r, 0, sizeof(*r));
}

/* Read exactly n bytes; returns how many were read, errno kept on error. */
static size_t read_full(struct wp_pcap_reader *r, void *p, size_t n)
{
	return fread(p, 1, n, r->f);
}

static int fail(struct wp_pcap_reader *r, int error)
{
	r->error = error;
	return error;
}

static int io_fail(struct wp_pcap_reader *r, const char *what)
{
	int e = errno ? errno : EIO;

	set_err(r->err, "read error in %s at offset %llu: %s", what,
		(unsigned long long)r->offset, strerror(e));
	return fail(r, -EIO);
}

static int parse_header(struct wp_pcap_reader *r)
{
	uint8_t h[WP_PCAP_FILE_HDR_LEN];
	uint32_t magic, snaplen, lt, type;
	uint16_t major, minor;
	size_t got;

	errno = 0;
	got = read_full(r, h, sizeof(h));
	if (got < sizeof(h)) {
		if (ferror(r->f))
			return io_fail(r, "the file header");
		if (got == 0)
			set_err(r->err, "empty file: not a pcap file");
		else
			set_err(r->err,
				"truncated file header (%zu of %d bytes): not "
				"a pcap file",
				got, WP_PCAP_FILE_HDR_LEN);
		return fail(r, -EINVAL);
	}

	magic = get32(h, false);
	switch (magic) {
	case WP_PCAP_MAGIC_USEC:
		break;
	case WP_PCAP_MAGIC_NSEC:
		r->nsec = true;
		break;
	case __builtin_bswap32(WP_PCAP_MAGIC_USEC):
		r->big_endian = true;
		break;
	case __builtin_bswap32(WP_PCAP_MAGIC_NSEC):
		r->big_endian = r->nsec = true;
		break;
	case PCAPNG_MAGIC:
		set_err(r->err, "pcapng is not supported: convert it with "
				"`editcap -F pcap IN OUT`");
		return fail(r, -EINVAL);
	default:
		set_err(r->err, "bad magic 0x%08x: not a pcap file", magic);
		return fail(r, -EINVAL);
	}

	major = get16(h + 4, r->big_endian);
	minor = get16(h + 6, r->big_endian);
	if (major != WP_PCAP_VERSION_MAJOR || minor != WP_PCAP_VERSION_MINOR) {
		set_err(r->err, "unsupported pcap version %u.%u (only %d.%d)",
			major, minor, WP_PCAP_VERSION_MAJOR,
			WP_PCAP_VERSION_MINOR);
		return fail(r, -EINVAL);
	}
	/* h + 8, h + 12: thiszone and sigfigs, which readers must ignore. */

	/* libpcap: a snaplen of 0 or above the maximum means the maximum. */
	snaplen = get32(h + 16, r->big_endian);
	if (snaplen == 0 || snaplen > WP_PCAP_MAX_CAPLEN)
		snaplen = WP_PCAP_MAX_CAPLEN;
	r->snaplen = snaplen;

	lt = get32(h + 20, r->big_endian);
	type = lt & LT_TYPE_MASK;
	if (type != WP_PCAP_LINKTYPE_ETHERNET) {
		set_err(r->err, "link type %u is not Ethernet (%d)", type,
			WP_PCAP_LINKTYPE_ETHERNET);
		return fail(r, -EINVAL);
	}
	if (lt & (LT_RSVD_MASK | LT_R_BIT)) {
		set_err(r->err,
			"reserved bits set in the link-type field 0x%08x", lt);
		return fail(r, -EINVAL);
	}
	if (lt & LT_P_BIT)
		r->fcs_bytes = 2 * (lt >> LT_FCS_SHIFT);

	r->buf = malloc(r->snaplen);
	if (!r->buf) {
		set_err(r->err, "out of memory for a %u-byte record buffer",
			r->snaplen);
		return fail(r, -ENOMEM);
	}
	r->offset = WP_PCAP_FILE_HDR_LEN;
	return 0;
}

static int open_common(struct wp_pcap_reader *r)
{
	int ret = parse_header(r);

	if (ret) {
		char msg[WP_PCAP_ERR_LEN];

		memcpy(msg, r->err, sizeof(msg));
		wp_pcap_reader_close(r);
		memcpy(r->err, msg, sizeof(msg));
		r->error = ret;
	}
	return ret;
}

int wp_pcap_reader_open(struct wp_pcap_reader *r, const char *path)
{
	reader_reset(r);
	r->f = fopen(path, "rb");
	if (!r->f) {
		int e = errno;

		set_err(r->err, "cannot open %s: %s", path, strerror(e));
		r->error = -e;
		return -e;
	}
	return open_common(r);
}

int wp_pcap_reader_open_mem(struct wp_pcap_reader *r, const void *data,
			    size_t len)
{
	reader_reset(r);
	if (len == 0) {
		/* fmemopen refuses an empty buffer on some libcs. */
		set_err(r->err, "empty file: not a pcap file");
		r->error = -EINVAL;
		return -EINVAL;
	}
	r->f = fmemopen((void *)data, len, "rb");
	if (!r->f) {
		int e = errno;

		set_err(r->err, "cannot open a memory stream: %s", strerror(e));
		r->error = -e;
		return -e;
	}
	return open_common(r);
}

/* Checks on one record header; fills rec except data. */
static int check_record(struct wp_pcap_reader *r, const uint8_t *h,
			struct wp_pcap_record *rec)
{
	uint32_t sec = get32(h, r->big_endian);
	uint32_t frac = get32(h + 4, r->big_endian);
	uint32_t caplen = get32(h + 8, r->big_endian);
	uint32_t len = get32(h + 12, r->big_endian);
	uint32_t frac_max = r->nsec ? 1000000000u : 1000000u;
	unsigned long long n = (unsigned long long)r->records + 1;
	unsigned long long off = (unsigned long long)r->offset;

	if (frac >= frac_max) {
		set_err(r->err,
			"record %llu at offset %llu: timestamp fraction %u out "
			"of range (< %u)",
			n, off, frac, frac_max);
		return -EINVAL;
	}
	if (caplen > r->snaplen) {
		set_err(r->err,
			"record %llu at offset %llu: caplen %u above the "
			"snaplen %u",
			n, off, caplen, r->snaplen);
		return -EINVAL;
	}
	if (caplen > len) {
		set_err(r->err,
			"record %llu at offset %llu: caplen %u above the frame "
			"length %u",
			n, off, caplen, len);
		return -EINVAL;
	}
	if (len < r->fcs_bytes) {
		set_err(r->err,
			"record %llu at offset %llu: frame length %u shorter "
			"than its %u-byte FCS",
			n, off, len, r->fcs_bytes);
		return -EINVAL;
	}
	rec->ts_ns = (uint64_t)sec * WP_NSEC_PER_SEC +
		     (r->nsec ? frac : (uint64_t)frac * WP_NSEC_PER_USEC);
	rec->caplen = caplen;
	rec->len = len;
	return 0;
}

int wp_pcap_read(struct wp_pcap_reader *r, struct wp_pcap_record *rec)
{
	uint8_t h[WP_PCAP_REC_HDR_LEN];
	size_t got;
	int ret;

	if (r->error)
		return r->error;
	if (!r->f) {
		set_err(r->err, "reader is not open");
		return fail(r, -EINVAL);
	}

	errno = 0;
	got = read_full(r, h, sizeof(h));
	if (got == 0 && !ferror(r->f))
		return 0;
	if (got < sizeof(h)) {
		if (ferror(r->f))
			return io_fail(r, "a record header");
		set_err(r->err,
			"record %llu at offset %llu: truncated record header "
			"(%zu of %d bytes)",
			(unsigned long long)r->records + 1,
			(unsigned long long)r->offset, got,
			WP_PCAP_REC_HDR_LEN);
		return fail(r, -EINVAL);
	}
	ret = check_record(r, h, rec);
	if (ret)
		return fail(r, ret);

	got = read_full(r, r->buf, rec->caplen);
	if (got < rec->caplen) {
		if (ferror(r->f))
			return io_fail(r, "record data");
		set_err(r->err,
			"record %llu at offset %llu: truncated record data "
			"(%zu of %u bytes)",
			(unsigned long long)r->records + 1,
			(unsigned long long)r->offset, got, rec->caplen);
		return fail(r, -EINVAL);
	}
	r->records++;
	r->offset += WP_PCAP_REC_HDR_LEN + rec->caplen;

	/* The FCS is the last fcs_bytes of the frame: gone from len, and
	 * from the captured bytes as far as they reach into it. */
	if (r->fcs_bytes) {
		rec->len -= r->fcs_bytes;
		if (rec->caplen > rec->len)
			rec->caplen = rec->len;
	}
	rec->data = r->buf;
	return 1;
}

int wp_pcap_rewind(struct wp_pcap_reader *r)
{
	if (r->error)
		return r->error;
	if (!r->f) {
		set_err(r->err, "reader is not open");
		return fail(r, -EINVAL);
	}
	if (fseek(r->f, WP_PCAP_FILE_HDR_LEN, SEEK_SET) != 0) {
		int e = errno;

		set_err(r->err, "cannot rewind: %s", strerror(e));
		return fail(r, -EIO);
	}
	r->records = 0;
	r->offset = WP_PCAP_FILE_HDR_LEN;
	return 0;
}

void wp_pcap_reader_close(struct wp_pcap_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r->buf);
	reader_reset(r);
}

/* --- writer ------------------------------------------------------------ */

static int wfail(struct wp_pcap_writer *w, const char *what)
{
	int e = errno ? errno : EIO;

	if (!w->error) {
		w->error = -e;
		set_err(w->err, "write error in %s at offset %llu: %s", what,
			(unsigned long long)w->bytes, strerror(e));
	}
	return w->error;
}

static int write_header(struct wp_pcap_writer *w)
{
	uint8_t h[WP_PCAP_FILE_HDR_LEN] = { 0 };

	put32le(h, WP_PCAP_MAGIC_NSEC);
	put16le(h + 4, WP_PCAP_VERSION_MAJOR);
	put16le(h + 6, WP_PCAP_VERSION_MINOR);
	put32le(h + 16, WP_PCAP_WRITE_SNAPLEN);
	put32le(h + 20, WP_PCAP_LINKTYPE_ETHERNET);
	errno = 0;
	if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h))
		return wfail(w, "the file header");
	w->bytes = sizeof(h);
	return 0;
}

int wp_pcap_writer_open(struct wp_pcap_writer *w, const char *path)
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->f = fopen(path, "wb");
	if (!w->f) {
		int e = errno;

		set_err(w->err, "cannot create %s: %s", path, strerror(e));
		w->error = -e;
		return -e;
	}
	w->own = true;
	ret = write_header(w);
	if (ret) {
		char msg[WP_PCAP_ERR_LEN];

		memcpy(msg, w->err, sizeof(msg));
		fclose(w->f);
		w->f = NULL;
		memcpy(w->err, msg, sizeof(msg));
	}
	return ret;
}

int wp_pcap_writer_fdopen(struct wp_pcap_writer *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	return write_header(w);
}

int wp_pcap_write(struct wp_pcap_writer *w, uint64_t ts_ns, const void *frame,
		  uint32_t len)
{
	return wp_pcap_write_part(w, ts_ns, frame, len, len);
}

int wp_pcap_write_part(struct wp_pcap_writer *w, uint64_t ts_ns,
		       const void *frame, uint32_t caplen, uint32_t len)
{
	uint8_t h[WP_PCAP_REC_HDR_LEN];
	uint64_t sec = ts_ns / WP_NSEC_PER_SEC;

	if (caplen > len)
		return -EINVAL;
	if (caplen > WP_PCAP_WRITE_SNAPLEN)
		caplen = WP_PCAP_WRITE_SNAPLEN;
	if (w->error)
		return w->error;
	if (!w->f) {
		set_err(w->err, "writer is not open");
		w->error = -EINVAL;
		return w->error;
	}
	/* The format has 32 bits of seconds: good until 2106. */
	put32le(h, (uint32_t)sec);
	put32le(h + 4, (uint32_t)(ts_ns % WP_NSEC_PER_SEC));
	put32le(h + 8, caplen);
	put32le(h + 12, len);
	errno = 0;
	if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h) ||
	    fwrite(frame, 1, caplen, w->f) != caplen)
		return wfail(w, "a record");
	w->records++;
	w->bytes += sizeof(h) + caplen;
	return 0;
}

int wp_pcap_writer_flush(struct wp_pcap_writer *w)
{
	if (w->error)
		return w->error;
	if (!w->f)
		return 0;
	errno = 0;
	if (fflush(w->f) != 0)
		return wfail(w, "a flush");
	return 0;
}

int wp_pcap_writer_close(struct wp_pcap_writer *w)
{
	int ret;

	if (!w || !w->f)
		return w ? w->error : 0;
	ret = wp_pcap_writer_flush(w);
	if (w->own) {
		errno = 0;
		if (fclose(w->f) != 0 && !ret)
			ret = wfail(w, "close");
	}
	w->f = NULL;
	return ret;
}
