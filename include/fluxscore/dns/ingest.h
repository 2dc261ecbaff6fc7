// Reading DNS logs: Zeek dns.log (TSV and JSON lines), gamelinux passivedns `||` lines and
// pcap/pcapng captures, plain or gzip-compressed, from files or stdin ("-"), into DnsRecords.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "fluxscore/dns/record.h"
#include "fluxscore/status.h"

namespace fluxscore::dns {

enum class LogFormat { kAuto, kZeekTsv, kZeekJson, kPassiveDns, kPcap };

// "auto", "zeek", "zeek-json", "passivedns", "pcap".
Result<LogFormat> ParseLogFormat(std::string_view name);
std::string_view LogFormatName(LogFormat f);

// Called now and then while reading (bytes of the file consumed so far, its size or 0).
using ProgressFn = std::function<void(uint64_t raw_offset, uint64_t raw_size)>;

// Reads one input. kAuto detects the format from the first bytes: pcap/pcapng magic numbers,
// a Zeek `#separator` header, a JSON object, or `||`-separated fields. Errors that stop the
// whole input (unreadable file, unknown format, corrupt capture or gzip data, a rejection under
// --strict) are returned; bad records are counted in `stats` and reading goes on.
// `detected` (optional) receives the format used.
Status ReadLog(const std::string& path, LogFormat format, RecordSink& sink, IngestStats& stats,
               const ProgressFn& progress = nullptr, LogFormat* detected = nullptr);

}  // namespace fluxscore::dns
