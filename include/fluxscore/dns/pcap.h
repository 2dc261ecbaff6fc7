// Reads DNS responses from a pcap or pcapng capture (plain or gzip-compressed, file or stdin)
// into canonical DnsRecords.
//
// Link types: Ethernet (802.1Q / 802.1ad tags, stacked), Linux cooked v1/v2, raw IP (DLT_RAW,
// LINKTYPE_IPV4/IPV6), BSD loopback (DLT_NULL, DLT_LOOP). IPv4 and IPv6 (extension headers
// walked); IP fragments are not reassembled. UDP: DNS when a port is 53, 5353 or 5355, or when
// the payload parses as a complete DNS message. TCP: 2-byte length-prefixed messages reassembled
// in order per flow and direction; a flow is DNS when a port is 53 or its first message parses.
//
// Each DNS response (QR=1, opcode QUERY) counts in stats.read and is either handed to the sink
// (stats.used) or rejected with a reason; every other packet is counted in stats.skipped by kind.
// Record: ts = capture time, resolver = source address, client = destination address.
#pragma once

#include "fluxscore/dns/record.h"
#include "fluxscore/status.h"

namespace fluxscore::dns {

class ByteStream;

// Errors (DataError): not a capture libpcap can read, an unsupported link type, a capture that
// is corrupt or truncated (after the packets before the damage were delivered; the message names
// the packet number), a read error of the stream, or the first rejection in strict mode.
Status ReadPcap(ByteStream& in, RecordSink& sink, IngestStats& stats);

}  // namespace fluxscore::dns
