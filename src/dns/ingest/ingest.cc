#include <fmt/format.h>

#include <cstring>

#include "dns/ingest/readers.h"
#include "fluxscore/dns/pcap.h"

namespace fluxscore::dns {

Result<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "auto") return LogFormat::kAuto;
  if (name == "zeek" || name == "zeek-tsv") return LogFormat::kZeekTsv;
  if (name == "zeek-json" || name == "json") return LogFormat::kZeekJson;
  if (name == "passivedns") return LogFormat::kPassiveDns;
  if (name == "pcap" || name == "pcapng") return LogFormat::kPcap;
  return Status::InvalidArgument(fmt::format(
      "unknown log format '{}' (expected auto, zeek, zeek-json, passivedns or pcap)", name));
}

std::string_view LogFormatName(LogFormat f) {
  switch (f) {
    case LogFormat::kAuto: return "auto";
    case LogFormat::kZeekTsv: return "zeek";
    case LogFormat::kZeekJson: return "zeek-json";
    case LogFormat::kPassiveDns: return "passivedns";
    case LogFormat::kPcap: return "pcap";
  }
  return "?";
}

Result<LineReader::Got> NextLogLine(LineReader& lines, ByteStream& in, IngestStats& stats,
                                    const ProgressFn& progress, std::string_view* line) {
  FLUXSCORE_ASSIGN_OR_RETURN(LineReader::Got got, lines.Next(line));
  if (progress && (got == LineReader::Got::kEnd || (lines.line_no() & 0xFFFF) == 0))
    progress(in.raw_offset(), in.raw_size());
  if (got == LineReader::Got::kTooLong) {
    ++stats.read;
    FLUXSCORE_RETURN_IF_ERROR(stats.Reject({in.name(), lines.line_no()}, "line too long"));
  } else if (got == LineReader::Got::kLine && !line->empty() && line->back() == '\r') {
    line->remove_suffix(1);
  }
  return got;
}

namespace {

Result<LogFormat> Detect(ByteStream& in) {
  FLUXSCORE_ASSIGN_OR_RETURN(std::string_view head, in.Peek(4096));
  if (head.empty()) return LogFormat::kZeekTsv;  // empty input: nothing to read either way
  if (head.size() >= 4) {
    static constexpr uint32_t kMagics[] = {0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1,
                                           0x0a0d0d0a};
    uint32_t m;
    std::memcpy(&m, head.data(), 4);
    for (uint32_t k : kMagics)
      if (m == k) return LogFormat::kPcap;
  }
  size_t i = head.find_first_not_of(" \t\r\n");
  if (i != std::string_view::npos && head[i] == '{') return LogFormat::kZeekJson;
  if (head.substr(0, 11) == "#separator " || head.substr(0, 8) == "#fields\t") return LogFormat::kZeekTsv;
  const size_t nl = head.find('\n');
  const std::string_view first = head.substr(0, nl);
  // Zeek's writer with the filter option tsv=T: one line of field names, no # lines.
  if (first.substr(0, 3) == "ts\t" && first.find("\tquery") != std::string_view::npos) return LogFormat::kZeekTsv;
  if (first.find("||") != std::string_view::npos) return LogFormat::kPassiveDns;
  return Status::DataError(fmt::format(
      "{}: cannot tell the log format from its first bytes (not pcap/pcapng, not a Zeek dns.log "
      "with a #separator header or a line of field names, not JSON lines, not passivedns '||' lines); "
      "use --format",
      in.name()));
}

}  // namespace

Status ReadLog(const std::string& path, LogFormat format, RecordSink& sink, IngestStats& stats,
               const ProgressFn& progress, LogFormat* detected) {
  ByteStream in;
  FLUXSCORE_RETURN_IF_ERROR(in.Open(path));
  if (format == LogFormat::kAuto) {
    FLUXSCORE_ASSIGN_OR_RETURN(format, Detect(in));
  }
  if (detected != nullptr) *detected = format;
  switch (format) {
    case LogFormat::kZeekTsv: return ReadZeekTsv(in, sink, stats, progress);
    case LogFormat::kZeekJson: return ReadZeekJson(in, sink, stats, progress);
    case LogFormat::kPassiveDns: return ReadPassiveDns(in, sink, stats, progress);
    case LogFormat::kPcap: return ReadPcap(in, sink, stats);
    case LogFormat::kAuto: break;
  }
  return Status::InvalidArgument("no format");
}

}  // namespace fluxscore::dns
