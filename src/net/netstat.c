// SPDX-License-Identifier: MIT
/*
 * `netstat -s` text, as net-tools prints /proc/net/snmp and
 * /proc/net/netstat: section titles, required counters always (with
 * net-tools' wording), optional ones only when non-zero, counters
 * net-tools has no sentence for as "Name: N" when non-zero, and the ICMP
 * histograms. Forwarding is 2 (RFC 4293 notForwarding): we are a host.
 */
#include "net/net_priv.h"

#include <inttypes.h>

enum line_kind {
	REQ, /* always printed */
	OPT, /* printed when non-zero */
	RAW, /* "Name: N" when non-zero */
	ALL, /* "Name: N" always */
	HIN, /* ICMP input histogram line, when non-zero */
	HOUT /* ICMP output histogram line, when non-zero */
};

struct line {
	enum line_kind kind;
	const char *text; /* after the number (REQ, OPT), else before it */
	size_t off;	  /* offsetof(struct wp_net_mib, field) */
};

#define L(kind, text, field)                                                   \
	{                                                                      \
		kind, text, offsetof(struct wp_net_mib, field)                 \
	}

static const struct line ip_lines[] = {
	L(REQ, " total packets received", InReceives),
	L(OPT, " with invalid headers", InHdrErrors),
	L(OPT, " with invalid addresses", InAddrErrors),
	L(REQ, " forwarded", ForwDatagrams),
	L(OPT, " with unknown protocol", InUnknownProtos),
	L(REQ, " incoming packets discarded", InDiscards),
	L(REQ, " incoming packets delivered", InDelivers),
	L(REQ, " requests sent out", OutRequests),
	L(OPT, " outgoing packets dropped", OutDiscards),
	L(OPT, " dropped because of missing route", OutNoRoutes),
	L(OPT, " fragments dropped after timeout", ReasmTimeout),
	L(OPT, " reassemblies required", ReasmReqds),
	L(OPT, " packets reassembled ok", ReasmOKs),
	L(OPT, " packet reassemblies failed", ReasmFails),
	L(OPT, " fragments received ok", FragOKs),
	L(OPT, " fragments failed", FragFails),
	L(OPT, " fragments created", FragCreates),
};

static const struct line icmp_lines[] = {
	L(REQ, " ICMP messages received", IcmpInMsgs),
	L(REQ, " input ICMP message failed", IcmpInErrors),
	L(RAW, "InCsumErrors", IcmpInCsumErrors),
	L(HIN, "destination unreachable", IcmpInDestUnreachs),
	L(HIN, "timeout in transit", IcmpInTimeExcds),
	L(HIN, "echo requests", IcmpInEchos),
	L(HIN, "echo replies", IcmpInEchoReps),
	L(REQ, " ICMP messages sent", IcmpOutMsgs),
	L(REQ, " ICMP messages failed", IcmpOutErrors),
	L(RAW, "OutRateLimitGlobal", IcmpOutRateLimitGlobal),
	L(RAW, "OutRateLimitHost", IcmpOutRateLimitHost),
	L(HOUT, "destination unreachable", IcmpOutDestUnreachs),
	L(HOUT, "time exceeded", IcmpOutTimeExcds),
	L(HOUT, "echo requests", IcmpOutEchos),
	L(HOUT, "echo replies", IcmpOutEchoReps),
};

/* IcmpMsg: per-type counts (InTypeN, OutTypeN), from the named ones. */
static const struct line icmpmsg_lines[] = {
	L(RAW, "InType0", IcmpInEchoReps),
	L(RAW, "InType3", IcmpInDestUnreachs),
	L(RAW, "InType8", IcmpInEchos),
	L(RAW, "InType11", IcmpInTimeExcds),
	L(RAW, "OutType0", IcmpOutEchoReps),
	L(RAW, "OutType3", IcmpOutDestUnreachs),
	L(RAW, "OutType8", IcmpOutEchos),
	L(RAW, "OutType11", IcmpOutTimeExcds),
};

static const struct line udp_lines[] = {
	L(REQ, " packets received", UdpInDatagrams),
	L(REQ, " packets to unknown port received", UdpNoPorts),
	L(REQ, " packet receive errors", UdpInErrors),
	L(REQ, " packets sent", UdpOutDatagrams),
	L(REQ, " receive buffer errors", UdpRcvbufErrors),
	L(REQ, " send buffer errors", UdpSndbufErrors),
	L(RAW, "InCsumErrors", UdpInCsumErrors),
	L(RAW, "IgnoredMulti", UdpIgnoredMulti),
};

static const struct line tcp_lines[] = {
	L(REQ, " active connection openings", TcpActiveOpens),
	L(REQ, " passive connection openings", TcpPassiveOpens),
	L(REQ, " failed connection attempts", TcpAttemptFails),
	L(REQ, " connection resets received", TcpEstabResets),
	L(REQ, " connections established", TcpCurrEstab),
	L(REQ, " segments received", TcpInSegs),
	L(REQ, " segments sent out", TcpOutSegs),
	L(REQ, " segments retransmitted", TcpRetransSegs),
	L(REQ, " bad segments received", TcpInErrs),
	L(REQ, " resets sent", TcpOutRsts),
	L(RAW, "InCsumErrors", TcpInCsumErrors),
};

static const struct line tcpext_lines[] = {
	L(RAW, "SyncookiesSent", SyncookiesSent),
	L(RAW, "SyncookiesRecv", SyncookiesRecv),
	L(RAW, "SyncookiesFailed", SyncookiesFailed),
	L(RAW, "EmbryonicRsts", EmbryonicRsts),
	L(RAW, "TW", TW),
	L(RAW, "PAWSEstab", PAWSEstab),
	L(RAW, "DelayedACKs", DelayedACKs),
	L(RAW, "ListenOverflows", ListenOverflows),
	L(RAW, "ListenDrops", ListenDrops),
	L(RAW, "TCPHPHits", TCPHPHits),
	L(RAW, "TCPPureAcks", TCPPureAcks),
	L(RAW, "TCPHPAcks", TCPHPAcks),
	L(RAW, "TCPRenoRecovery", TCPRenoRecovery),
	L(RAW, "TCPSackRecovery", TCPSackRecovery),
	L(RAW, "TCPSACKReneging", TCPSACKReneging),
	L(RAW, "TCPSACKReorder", TCPSACKReorder),
	L(RAW, "TCPLostRetransmit", TCPLostRetransmit),
	L(RAW, "TCPFastRetrans", TCPFastRetrans),
	L(RAW, "TCPSlowStartRetrans", TCPSlowStartRetrans),
	L(RAW, "TCPTimeouts", TCPTimeouts),
	L(RAW, "TCPLossProbes", TCPLossProbes),
	L(RAW, "TCPDSACKRecv", TCPDSACKRecv),
	L(RAW, "TCPDSACKOfoRecv", TCPDSACKOfoRecv),
	L(RAW, "TCPAbortOnData", TCPAbortOnData),
	L(RAW, "TCPAbortOnClose", TCPAbortOnClose),
	L(RAW, "TCPAbortOnTimeout", TCPAbortOnTimeout),
	L(RAW, "TCPAbortOnLinger", TCPAbortOnLinger),
	L(RAW, "TCPAbortFailed", TCPAbortFailed),
	L(RAW, "TCPSACKDiscard", TCPSACKDiscard),
	L(RAW, "TCPDSACKIgnoredOld", TCPDSACKIgnoredOld),
	L(RAW, "TCPDSACKIgnoredNoUndo", TCPDSACKIgnoredNoUndo),
	L(RAW, "TCPRcvCoalesce", TCPRcvCoalesce),
	L(RAW, "TCPOFOQueue", TCPOFOQueue),
	L(RAW, "TCPOFODrop", TCPOFODrop),
	L(RAW, "OfoPruned", OfoPruned),
	L(RAW, "TCPOFOMerge", TCPOFOMerge),
	L(RAW, "TCPChallengeACK", TCPChallengeACK),
	L(RAW, "TCPSYNChallenge", TCPSYNChallenge),
	L(RAW, "TCPRcvQDrop", TCPRcvQDrop),
	L(RAW, "TCPBacklogCoalesce", TCPBacklogCoalesce),
	L(RAW, "TCPBacklogDrop", TCPBacklogDrop),
	L(RAW, "TCPWantZeroWindowAdv", TCPWantZeroWindowAdv),
	L(RAW, "TCPToZeroWindowAdv", TCPToZeroWindowAdv),
	L(RAW, "TCPFromZeroWindowAdv", TCPFromZeroWindowAdv),
	L(RAW, "TCPZeroWindowDrop", TCPZeroWindowDrop),
	L(RAW, "TCPKeepAlive", TCPKeepAlive),
	L(RAW, "TCPWinProbe", TCPWinProbe),
	L(RAW, "TCPOrigDataSent", TCPOrigDataSent),
	L(RAW, "TCPDelivered", TCPDelivered),
	L(RAW, "TCPSynRetrans", TCPSynRetrans),
	L(RAW, "TCPTimeWaitOverflow", TCPTimeWaitOverflow),
	L(RAW, "TCPACKSkippedSeq", TCPACKSkippedSeq),
	L(RAW, "TCPDSACKRecvSegs", TCPDSACKRecvSegs),
	L(RAW, "TCPDSACKIgnoredDubious", TCPDSACKIgnoredDubious),
	L(RAW, "TCPReqQFullDoCookies", TCPReqQFullDoCookies),
	L(RAW, "TCPReqQFullDrop", TCPReqQFullDrop),
	L(RAW, "OutOfWindowIcmps", OutOfWindowIcmps),
};

static const struct line ipext_lines[] = {
	L(RAW, "InBcastPkts", InBcastPkts),
	L(RAW, "InMcastPkts", InMcastPkts),
	L(RAW, "InTruncatedPkts", InTruncatedPkts),
	L(RAW, "InCsumErrors", InCsumErrors),
	L(RAW, "ReasmOverlaps", ReasmOverlaps),
};

/* wirepath's own sections, every counter printed. */
static const struct line arp_lines[] = {
	L(ALL, "InRequests", ArpInRequests),
	L(ALL, "InReplies", ArpInReplies),
	L(ALL, "OutRequests", ArpOutRequests),
	L(ALL, "OutReplies", ArpOutReplies),
	L(ALL, "InBad", ArpInBad),
	L(ALL, "UnresolvedDiscards", ArpUnresolvedDiscards),
	L(ALL, "TableFulls", ArpTableFulls),
};

static const struct line link_lines[] = {
	L(ALL, "InUnknownProto", EthInUnknownProto),
	L(ALL, "InOtherHost", EthInOtherHost),
	L(ALL, "InVlanDropped", EthInVlanDropped),
	L(ALL, "InErrors", EthInErrors),
	L(ALL, "SubmitDrops", SubmitDrops),
};

#undef L

static uint64_t get(const struct wp_net_mib *m, size_t off)
{
	return *(const uint64_t *)(const void *)((const char *)m + off);
}

static void section(FILE *out, const char *title, const struct line *lines,
		    size_t n, const struct wp_net_mib *m, int raw_indent)
{
	bool in_title = false, out_title = false;

	if (title)
		fprintf(out, "%s:\n", title);
	for (size_t i = 0; i < n; i++) {
		const struct line *l = &lines[i];
		uint64_t v = get(m, l->off);

		switch (l->kind) {
		case OPT:
			if (!v)
				break;
			/* fall through */
		case REQ:
			fprintf(out, "    %" PRIu64 "%s\n", v, l->text);
			break;
		case RAW:
			if (!v)
				break;
			/* fall through */
		case ALL:
			fprintf(out, "%*s%s: %" PRIu64 "\n", raw_indent, "",
				l->text, v);
			break;
		case HIN:
		case HOUT:
			if (!v)
				break;
			if (l->kind == HIN && !in_title) {
				fprintf(out, "    ICMP input histogram:\n");
				in_title = true;
			}
			if (l->kind == HOUT && !out_title) {
				fprintf(out, "    ICMP output histogram:\n");
				out_title = true;
			}
			fprintf(out, "        %s: %" PRIu64 "\n", l->text, v);
			break;
		}
	}
}

#define SECTION(out, title, lines, m, indent)                                  \
	section(out, title, lines, WP_ARRAY_SIZE(lines), m, indent)

void wp_net_print_netstat(const struct wp_net *net, FILE *out)
{
	struct wp_net_mib m;

	wp_net_mib_sum(net, &m);
	fprintf(out, "Ip:\n    Forwarding: 2\n");
	/* Forwarding is no counter: printed here, before the rest. */
	section(out, NULL, ip_lines, WP_ARRAY_SIZE(ip_lines), &m, 4);
	SECTION(out, "Icmp", icmp_lines, &m, 4);
	SECTION(out, "IcmpMsg", icmpmsg_lines, &m, 8);
	SECTION(out, "Tcp", tcp_lines, &m, 4);
	SECTION(out, "Udp", udp_lines, &m, 4);
	SECTION(out, "TcpExt", tcpext_lines, &m, 4);
	SECTION(out, "IpExt", ipext_lines, &m, 4);
	SECTION(out, "ArpExt", arp_lines, &m, 4);
	SECTION(out, "LinkExt", link_lines, &m, 4);
}
