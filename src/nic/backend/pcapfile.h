/* SPDX-License-Identifier: MIT */
/*
 * Classic pcap files (libpcap's savefile format, pcap-savefile(5) and
 * draft-ietf-opsawg-pcap): a 24-byte file header, then records of a
 * 16-byte header and caplen captured bytes.
 *
 * The reader takes both timestamp resolutions (magic a1b2c3d4: seconds +
 * microseconds; a1b23c4d: seconds + nanoseconds) in either byte order,
 * version 2.4, link type 1 (Ethernet) only. A capture file is hostile
 * input: every field is checked before it is used, a record is read into
 * a buffer sized from the checked snaplen, and anything malformed stops
 * the reader with -EINVAL (or -EIO when the operating system failed the
 * read) and a message naming the record and the field.
 *
 * The writer always writes nanosecond resolution, little-endian, version
 * 2.4, link type 1, snaplen 65535: what `tcpdump -r` and Wireshark read.
 *
 * Both are used by the pcap backend (frames in from a file, frames out to
 * a file), by the sim backend's replay mode and by `wirepath capture`.
 * Neither is thread-safe: one owner per reader or writer.
 */
#ifndef WP_NIC_BACKEND_PCAPFILE_H
#define WP_NIC_BACKEND_PCAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define WP_PCAP_MAGIC_USEC 0xa1b2c3d4u
#define WP_PCAP_MAGIC_NSEC 0xa1b23c4du
#define WP_PCAP_VERSION_MAJOR 2
#define WP_PCAP_VERSION_MINOR 4
#define WP_PCAP_LINKTYPE_ETHERNET 1
#define WP_PCAP_FILE_HDR_LEN 24
#define WP_PCAP_REC_HDR_LEN 16
/* The largest record we accept (libpcap's MAXIMUM_SNAPLEN). */
#define WP_PCAP_MAX_CAPLEN (256u * 1024)
/* What the writer declares and truncates to. */
#define WP_PCAP_WRITE_SNAPLEN 65535u

#define WP_PCAP_ERR_LEN 160

/* One record. data is the reader's buffer: valid until the next read. */
struct wp_pcap_record {
	uint64_t ts_ns;	 /* capture time, ns since the epoch */
	uint32_t caplen; /* bytes in data */
	uint32_t len;	 /* bytes the frame had on the wire */
	const uint8_t *data;
};

struct wp_pcap_reader {
	FILE *f;
	bool big_endian;    /* the writer's byte order */
	bool nsec;	    /* nanosecond timestamps */
	uint32_t snaplen;   /* effective: 0 or over the maximum -> maximum */
	uint32_t fcs_bytes; /* FCS at the end of each frame (stripped) */
	uint8_t *buf;	    /* snaplen bytes */
	uint64_t records;   /* records read so far */
	uint64_t offset;    /* file offset of the next record */
	int error;	    /* sticky: the first error, 0 if none */
	char err[WP_PCAP_ERR_LEN];
};

/*
 * Open a file and check its header. 0, or -errno with a message in
 * r->err (-ENOENT/-EACCES/... from the system, -EINVAL for a file that is
 * not an Ethernet pcap); on error nothing stays open, and
 * wp_pcap_reader_close() is still safe.
 */
int wp_pcap_reader_open(struct wp_pcap_reader *r, const char *path);

/* Same, over len bytes in memory (borrowed until close): fuzzing, tests. */
int wp_pcap_reader_open_mem(struct wp_pcap_reader *r, const void *data,
			    size_t len);

/*
 * Read the next record: 1 and *rec filled, 0 at a clean end of file (no
 * partial record), or -EINVAL/-EIO with the message in r->err. Errors are
 * sticky: every later read returns the same error.
 */
int wp_pcap_read(struct wp_pcap_reader *r, struct wp_pcap_record *rec);

/* Back to the first record (replay loops). 0 or -EIO. */
int wp_pcap_rewind(struct wp_pcap_reader *r);

/* The message of the last error ("" if none). */
static inline const char *wp_pcap_reader_error(const struct wp_pcap_reader *r)
{
	return r->err;
}

/* NULL-safe; safe after a failed open and twice. */
void wp_pcap_reader_close(struct wp_pcap_reader *r);

struct wp_pcap_writer {
	FILE *f;
	bool own; /* fclose on close (not for a borrowed FILE) */
	uint64_t records;
	uint64_t bytes; /* file size so far */
	int error;	/* sticky: the first write error */
	char err[WP_PCAP_ERR_LEN];
};

/*
 * Create (truncate) path and write the file header. 0 or -errno with the
 * message in w->err; on error nothing stays open.
 */
int wp_pcap_writer_open(struct wp_pcap_writer *w, const char *path);

/* Write to an open stream (stdout for `-w -`); the caller keeps it. */
int wp_pcap_writer_fdopen(struct wp_pcap_writer *w, FILE *f);

/*
 * Append one frame of len bytes captured at ts_ns. Frames longer than the
 * snaplen are truncated to it and keep their original length. 0, or the
 * sticky -errno of the first failed write (disk full: -ENOSPC).
 */
int wp_pcap_write(struct wp_pcap_writer *w, uint64_t ts_ns, const void *frame,
		  uint32_t len);

/*
 * The same for a frame of which only caplen of its len bytes were kept
 * (a capture with a smaller snaplen): the record says both. caplen > len
 * is -EINVAL (nothing written, not sticky).
 */
int wp_pcap_write_part(struct wp_pcap_writer *w, uint64_t ts_ns,
		       const void *frame, uint32_t caplen, uint32_t len);

/* Push buffered records to the file. 0 or the sticky -errno. */
int wp_pcap_writer_flush(struct wp_pcap_writer *w);

/* Flush and close; returns the first error seen over the writer's life.
 * NULL-safe; safe after a failed open and twice. */
int wp_pcap_writer_close(struct wp_pcap_writer *w);

static inline const char *wp_pcap_writer_error(const struct wp_pcap_writer *w)
{
	return w->err;
}

#endif
